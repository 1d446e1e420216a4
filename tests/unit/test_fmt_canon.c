/*
 * test_fmt_canon.c - canonical XML writer and readers.
 *
 * Round trips: a model with every field set (each to a different value,
 * some with characters XML must escape) is written through the sinks, the
 * output is validated against formats/schemas/canonical.xsd with xmllint,
 * read back, and every struct the reader hands over is compared field by
 * field with the one the writer was given (cmp_* below list every field of
 * model.h).  The comparison itself is checked to fail on a changed field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "testutil.h"

/* ---- generic comparison ------------------------------------------------- */

static int mismatches;

static void cmp_s(const char *path, const char *f, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b))) {
        fprintf(stderr, "  mismatch %s.%s: \"%s\" != \"%s\"\n", path, f,
                a ? a : "(null)", b ? b : "(null)");
        mismatches++;
    }
}

static void cmp_i(const char *path, const char *f, long long a, long long b)
{
    if (a != b) {
        fprintf(stderr, "  mismatch %s.%s: %lld != %lld\n", path, f, a, b);
        mismatches++;
    }
}

#define CS(fld) cmp_s(path, #fld, a->fld, b->fld)
#define CI(fld) cmp_i(path, #fld, (long long)(a->fld), (long long)(b->fld))
#define SUBPATH(buf, name) snprintf(buf, sizeof(buf), "%s.%s", path, name)

static void cmp_amount(const char *path, const char *f,
                       const struct fmt_amount *a, const struct fmt_amount *b)
{
    char p[256];
    snprintf(p, sizeof(p), "%s.%s", path, f);
    cmp_i(p, "minor", a->minor, b->minor);
    cmp_s(p, "ccy", a->ccy, b->ccy);
}
#define CA(fld) cmp_amount(path, #fld, &a->fld, &b->fld)

static void cmp_postal(const char *path, const struct fmt_postal *a,
                       const struct fmt_postal *b)
{
    CS(dept);
    CS(street);
    CS(building);
    CS(postcode);
    CS(town);
    CS(subdivision);
    CS(country);
    for (int i = 0; i < 7; i++) {
        char f[16];
        snprintf(f, sizeof(f), "lines[%d]", i);
        cmp_s(path, f, a->lines[i], b->lines[i]);
    }
}
#define CSUB(fn, fld)                                                          \
    do {                                                                       \
        char p_[256];                                                          \
        SUBPATH(p_, #fld);                                                     \
        fn(p_, &a->fld, &b->fld);                                              \
    } while (0)

static void cmp_party(const char *path, const struct fmt_party *a,
                      const struct fmt_party *b)
{
    CS(name);
    CSUB(cmp_postal, addr);
    CS(org_bic);
    CS(org_id);
    CS(org_id_scheme);
    CS(prvt_id);
    CS(ctry_of_res);
}

static void cmp_account(const char *path, const struct fmt_account *a,
                        const struct fmt_account *b)
{
    CS(iban);
    CS(other_id);
    CS(other_scheme);
    CS(ccy);
    CS(name);
    CS(type);
}

static void cmp_agent(const char *path, const struct fmt_agent *a,
                      const struct fmt_agent *b)
{
    CS(bic);
    CS(clr_sys);
    CS(clr_mmb_id);
    CS(name);
    CSUB(cmp_postal, addr);
    CS(other_id);
}

static void cmp_strd(const char *path, const struct fmt_strd_rmt *a,
                     const struct fmt_strd_rmt *b)
{
    CS(cdtr_ref);
    CS(cdtr_ref_type);
    CS(cdtr_ref_issuer);
    CS(doc_nb);
    CS(doc_type);
    CS(doc_date);
    CS(addtl_info);
}

static void cmp_rgltry(const char *path, const struct fmt_rgltry *a,
                       const struct fmt_rgltry *b)
{
    CS(code);
    CS(info);
    CS(authority_ctry);
}

static void cmp_pay_header(const char *path, const struct fmt_pay_header *a,
                           const struct fmt_pay_header *b)
{
    CS(msg_id);
    CS(cre_dt_tm);
    CI(nb_of_txs);
    CI(has_ctrl_sum);
    if (a->has_ctrl_sum)
        CI(ctrl_sum_milli);
    CSUB(cmp_party, initg_pty);
    CS(source_format);
}

static void cmp_pay_group(const char *path, const struct fmt_pay_group *a,
                          const struct fmt_pay_group *b)
{
    CS(pmt_inf_id);
    CS(pmt_mtd);
    CI(batch_booking);
    CI(nb_of_txs);
    CI(has_ctrl_sum);
    if (a->has_ctrl_sum)
        CI(ctrl_sum_milli);
    CS(instr_prty);
    CS(svc_lvl);
    CS(lcl_instrm);
    CS(ctgy_purp);
    CS(reqd_exctn_dt);
    CSUB(cmp_party, dbtr);
    CSUB(cmp_account, dbtr_acct);
    CSUB(cmp_agent, dbtr_agt);
    CSUB(cmp_party, ult_dbtr);
    CS(chrg_br);
    CI(line);
}

static void cmp_pay_tx(const char *path, const struct fmt_pay_tx *a,
                       const struct fmt_pay_tx *b)
{
    CS(instr_id);
    CS(end_to_end_id);
    CS(uetr);
    CA(amt);
    CS(chrg_br);
    CSUB(cmp_agent, cdtr_agt);
    CSUB(cmp_party, cdtr);
    CSUB(cmp_account, cdtr_acct);
    CSUB(cmp_party, ult_cdtr);
    CS(purp);
    CS(rmt_ustrd);
    CSUB(cmp_strd, rmt_strd);
    CSUB(cmp_rgltry, rgltry);
    CS(instr_for_dbtr_agt);
    CI(line);
}

static void cmp_reasons(const char *path, const struct fmt_reason *a, size_t na,
                        const struct fmt_reason *b, size_t nb)
{
    cmp_i(path, "n_reasons", (long long)na, (long long)nb);
    for (size_t i = 0; i < na && i < nb; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s.reasons[%zu]", path, i);
        cmp_s(p, "code", a[i].code, b[i].code);
        cmp_s(p, "prtry", a[i].prtry, b[i].prtry);
        cmp_s(p, "addtl_info", a[i].addtl_info, b[i].addtl_info);
    }
}

static void cmp_tx_status(const char *path, const struct fmt_tx_status *a,
                          const struct fmt_tx_status *b)
{
    CS(sts_id);
    CS(orgnl_instr_id);
    CS(orgnl_end_to_end_id);
    CS(orgnl_uetr);
    CS(sts);
    cmp_reasons(path, a->reasons, a->n_reasons, b->reasons, b->n_reasons);
    CA(amt);
}

static void cmp_pmt_status(const char *path, const struct fmt_pmt_status *a,
                           const struct fmt_pmt_status *b)
{
    CS(orgnl_pmt_inf_id);
    CS(sts);
    cmp_reasons(path, a->reasons, a->n_reasons, b->reasons, b->n_reasons);
    CI(n_txs);
    for (size_t i = 0; i < a->n_txs && i < b->n_txs; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s.txs[%zu]", path, i);
        cmp_tx_status(p, &a->txs[i], &b->txs[i]);
    }
}

static void cmp_status(const char *path, const struct fmt_status_report *a,
                       const struct fmt_status_report *b)
{
    CS(msg_id);
    CS(cre_dt_tm);
    CSUB(cmp_party, initg_pty);
    CS(orgnl_msg_id);
    CS(orgnl_msg_nm_id);
    CI(orgnl_nb_of_txs);
    CS(grp_sts);
    cmp_reasons(path, a->reasons, a->n_reasons, b->reasons, b->n_reasons);
    CI(n_pmts);
    for (size_t i = 0; i < a->n_pmts && i < b->n_pmts; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s.pmts[%zu]", path, i);
        cmp_pmt_status(p, &a->pmts[i], &b->pmts[i]);
    }
    CS(source_format);
}

static void cmp_stmt_doc(const char *path, const struct fmt_stmt_doc *a,
                         const struct fmt_stmt_doc *b)
{
    CI(kind);
    CS(msg_id);
    CS(cre_dt_tm);
    CS(msg_rcpt);
    CS(source_format);
}

static void cmp_balance(const char *path, const struct fmt_balance *a,
                        const struct fmt_balance *b)
{
    CS(type);
    CS(sub_type);
    CA(amt);
    CS(date);
}

static void cmp_stmt(const char *path, const struct fmt_stmt *a,
                     const struct fmt_stmt *b)
{
    CS(id);
    CS(elctrnc_seq_nb);
    CS(lgl_seq_nb);
    CS(page_nb);
    CS(cre_dt_tm);
    CS(fr_dt_tm);
    CS(to_dt_tm);
    CS(related_ref);
    CSUB(cmp_account, acct);
    CSUB(cmp_agent, svcr);
    CSUB(cmp_party, owner);
    CI(n_bals);
    for (size_t i = 0; i < a->n_bals && i < b->n_bals; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s.bals[%zu]", path, i);
        cmp_balance(p, &a->bals[i], &b->bals[i]);
    }
    CI(has_summary);
    if (a->has_summary) {
        CI(n_credits);
        CI(n_debits);
        CA(sum_credits);
        CA(sum_debits);
    }
    CS(addtl_stmt_inf);
    CI(line);
}

static void cmp_dtl(const char *path, const struct fmt_entry_dtl *a,
                    const struct fmt_entry_dtl *b)
{
    CS(msg_id);
    CS(acct_svcr_ref);
    CS(pmt_inf_id);
    CS(instr_id);
    CS(end_to_end_id);
    CS(uetr);
    CS(tx_id);
    CS(mndt_id);
    CS(chq_nb);
    CS(clr_sys_ref);
    CA(amt);
    CSUB(cmp_party, cpty);
    CSUB(cmp_account, cpty_acct);
    CSUB(cmp_agent, cpty_agt);
    CSUB(cmp_party, ult_cpty);
    CS(purp);
    CS(rmt_ustrd);
    CSUB(cmp_strd, rmt_strd);
    CS(rtr_rsn);
    CS(addtl_tx_inf);
    CS(bk_tx_cd_prtry);
}

static void cmp_entry(const char *path, const struct fmt_entry *a,
                      const struct fmt_entry *b)
{
    CS(ntry_ref);
    CA(amt);
    CI(credit);
    CI(reversal);
    CS(sts);
    CS(book_dt);
    CS(val_dt);
    CS(acct_svcr_ref);
    CS(bk_tx_domain);
    CS(bk_tx_family);
    CS(bk_tx_subfamily);
    CS(bk_tx_prtry);
    CS(bk_tx_prtry_issuer);
    CS(cust_ref);
    CS(addtl_ntry_inf);
    CI(n_dtls);
    for (size_t i = 0; i < a->n_dtls && i < b->n_dtls; i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s.dtls[%zu]", path, i);
        cmp_dtl(p, &a->dtls[i], &b->dtls[i]);
    }
    CI(line);
}

/* ---- filling every field ------------------------------------------------ */

static int seq;

/* A distinct value per field; every 5th one carries text XML must escape
 * or that tends to get lost (CR, leading/trailing blanks, CJK). */
static char *val(const char *tag)
{
    static const char *const spice[] = {"a&b<c>\"d'", " blank ",
                                        "line1\nline2\r\nline3",
                                        "\xe4\xb8\xad\xe6"
                                        "\x96\x87 \xc3\xa4\xc3\x9f",
                                        "tab\there"};
    char buf[160];
    int n = seq++;
    if (n % 5 == 4)
        snprintf(buf, sizeof(buf), "%s-%d %s", tag, n, spice[(n / 5) % 5]);
    else
        snprintf(buf, sizeof(buf), "%s-%d", tag, n);
    return strdup(buf);
}

static void fill_postal(struct fmt_postal *p, int nlines)
{
    p->dept = val("dept");
    p->street = val("street");
    p->building = val("bldg");
    p->postcode = val("pc");
    p->town = val("town");
    p->subdivision = val("sub");
    p->country = val("ctry");
    for (int i = 0; i < nlines; i++)
        p->lines[i] = val("adrline");
}

static void fill_party(struct fmt_party *p)
{
    p->name = val("name");
    fill_postal(&p->addr, 7);
    p->org_bic = val("orgbic");
    p->org_id = val("orgid");
    p->org_id_scheme = val("orgschme");
    p->prvt_id = val("prvtid");
    p->ctry_of_res = val("ctryres");
}

static void fill_account(struct fmt_account *a)
{
    a->iban = val("iban");
    a->other_id = val("othrid");
    a->other_scheme = val("othrschme");
    a->ccy = val("ccy");
    a->name = val("acctnm");
    a->type = val("tp");
}

static void fill_agent(struct fmt_agent *a)
{
    a->bic = val("bic");
    a->clr_sys = val("clrsys");
    a->clr_mmb_id = val("mmbid");
    a->name = val("agtnm");
    fill_postal(&a->addr, 2);
    a->other_id = val("agtothr");
}

static void fill_strd(struct fmt_strd_rmt *r)
{
    r->cdtr_ref = val("cdtrref");
    r->cdtr_ref_type = val("reftp");
    r->cdtr_ref_issuer = val("refissr");
    r->doc_nb = val("docnb");
    r->doc_type = val("doctp");
    r->doc_date = val("docdt");
    r->addtl_info = val("addtlrmt");
}

static void fill_pay_header(struct fmt_pay_header *h)
{
    fmt_pay_header_init(h);
    h->msg_id = val("msgid");
    h->cre_dt_tm = val("credttm");
    fill_party(&h->initg_pty);
    h->source_format = "pain.001.001.03";
}

static void fill_pay_group(struct fmt_pay_group *g, int n)
{
    fmt_pay_group_init(g);
    g->pmt_inf_id = val("pmtinf");
    g->pmt_mtd = val("mtd");
    g->batch_booking = n % 2;
    g->nb_of_txs = 3;
    g->has_ctrl_sum = 1;
    g->ctrl_sum_milli = 123456789;
    g->instr_prty = val("prty");
    g->svc_lvl = val("svclvl");
    g->lcl_instrm = val("lcl");
    g->ctgy_purp = val("ctgy");
    g->reqd_exctn_dt = val("dt");
    fill_party(&g->dbtr);
    fill_account(&g->dbtr_acct);
    fill_agent(&g->dbtr_agt);
    fill_party(&g->ult_dbtr);
    g->chrg_br = val("chrgbr");
    g->line = 100 + n;
}

static void fill_pay_tx(struct fmt_pay_tx *t, int n)
{
    static const char *const ccys[] = {"EUR", "JPY", "BHD", "CNY"};
    memset(t, 0, sizeof(*t));
    t->instr_id = val("instr");
    t->end_to_end_id = val("e2e");
    t->uetr = val("uetr");
    t->amt.minor = 1000001 + n;
    strcpy(t->amt.ccy, ccys[n % 4]);
    t->chrg_br = val("txchrg");
    fill_agent(&t->cdtr_agt);
    fill_party(&t->cdtr);
    fill_account(&t->cdtr_acct);
    fill_party(&t->ult_cdtr);
    t->purp = val("purp");
    t->rmt_ustrd = val("ustrd");
    fill_strd(&t->rmt_strd);
    t->rgltry.code = val("rgcd");
    t->rgltry.info = val("rginf");
    t->rgltry.authority_ctry = val("rgctry");
    t->instr_for_dbtr_agt = val("instrdbtr");
    t->line = 200 + n;
}

static void fill_reasons(struct fmt_reason **v, size_t *n, size_t count)
{
    *v = calloc(count, sizeof(**v));
    *n = count;
    for (size_t i = 0; i < count; i++) {
        (*v)[i].code = val("rsncd");
        (*v)[i].prtry = val("rsnprtry");
        (*v)[i].addtl_info = val("rsninf");
    }
}

static void fill_status(struct fmt_status_report *r)
{
    fmt_status_report_init(r);
    r->msg_id = val("stsmsg");
    r->cre_dt_tm = val("stsdttm");
    fill_party(&r->initg_pty);
    r->orgnl_msg_id = val("orgnlmsg");
    r->orgnl_msg_nm_id = val("orgnlnm");
    r->orgnl_nb_of_txs = 42;
    r->grp_sts = val("grpsts");
    fill_reasons(&r->reasons, &r->n_reasons, 2);
    r->n_pmts = 2;
    r->pmts = calloc(2, sizeof(*r->pmts));
    for (size_t i = 0; i < 2; i++) {
        struct fmt_pmt_status *p = &r->pmts[i];
        p->orgnl_pmt_inf_id = val("orgnlpmt");
        p->sts = val("pmtsts");
        fill_reasons(&p->reasons, &p->n_reasons, i + 1);
        p->n_txs = 3;
        p->txs = calloc(3, sizeof(*p->txs));
        for (size_t k = 0; k < 3; k++) {
            struct fmt_tx_status *t = &p->txs[k];
            t->sts_id = val("stsid");
            t->orgnl_instr_id = val("oinstr");
            t->orgnl_end_to_end_id = val("oe2e");
            t->orgnl_uetr = val("ouetr");
            t->sts = val("txsts");
            fill_reasons(&t->reasons, &t->n_reasons, k);
            t->amt.minor = 777 + (int64_t)k;
            strcpy(t->amt.ccy, "USD");
        }
    }
    r->source_format = "pain.002.001.03";
}

static void fill_stmt_doc(struct fmt_stmt_doc *d)
{
    memset(d, 0, sizeof(*d));
    d->kind = FMT_STMT_NOTIFICATION;
    d->msg_id = val("docmsg");
    d->cre_dt_tm = val("docdttm");
    d->msg_rcpt = val("rcpt");
    d->source_format = "camt.054.001.08";
}

static void add_balance(struct fmt_stmt *s, const char *type, int64_t minor,
                        const char *ccy)
{
    s->bals = realloc(s->bals, (s->n_bals + 1) * sizeof(*s->bals));
    struct fmt_balance *b = &s->bals[s->n_bals++];
    memset(b, 0, sizeof(*b));
    snprintf(b->type, sizeof(b->type), "%s", type);
    b->sub_type = val("subtp");
    b->amt.minor = minor;
    strcpy(b->amt.ccy, ccy);
    b->date = val("baldt");
}

static void fill_stmt(struct fmt_stmt *s, int n)
{
    memset(s, 0, sizeof(*s));
    s->id = val("stmtid");
    s->elctrnc_seq_nb = val("elseq");
    s->lgl_seq_nb = val("lglseq");
    s->page_nb = val("pg");
    s->cre_dt_tm = val("stdttm");
    s->fr_dt_tm = val("fr");
    s->to_dt_tm = val("to");
    s->related_ref = val("rltd");
    fill_account(&s->acct);
    fill_agent(&s->svcr);
    fill_party(&s->owner);
    add_balance(s, "OPBD", -123456, "EUR");
    /* an unknown currency code must survive too */
    add_balance(s, "PRCD", 55, "ZZZ");
    s->has_summary = 1;
    s->n_credits = 3 + n;
    s->n_debits = 4;
    s->sum_credits.minor = 900;
    strcpy(s->sum_credits.ccy, "EUR");
    s->sum_debits.minor = 800;
    strcpy(s->sum_debits.ccy, "EUR");
    s->addtl_stmt_inf = val("addtlstmt");
    s->line = 300 + n;
}

static void fill_dtl(struct fmt_entry_dtl *d)
{
    d->msg_id = val("dmsg");
    d->acct_svcr_ref = val("dsvcr");
    d->pmt_inf_id = val("dpmt");
    d->instr_id = val("dinstr");
    d->end_to_end_id = val("de2e");
    d->uetr = val("duetr");
    d->tx_id = val("dtxid");
    d->mndt_id = val("dmndt");
    d->chq_nb = val("dchq");
    d->clr_sys_ref = val("dclr");
    d->amt.minor = 4242;
    strcpy(d->amt.ccy, "GBP");
    fill_party(&d->cpty);
    fill_account(&d->cpty_acct);
    fill_agent(&d->cpty_agt);
    fill_party(&d->ult_cpty);
    d->purp = val("dpurp");
    d->rmt_ustrd = val("dustrd");
    fill_strd(&d->rmt_strd);
    d->rtr_rsn = val("drtr");
    d->addtl_tx_inf = val("daddtl");
    d->bk_tx_cd_prtry = val("dbktx");
}

static void fill_entry(struct fmt_entry *e, int n)
{
    memset(e, 0, sizeof(*e));
    e->ntry_ref = val("ntryref");
    e->amt.minor = 5000 + n;
    strcpy(e->amt.ccy, "EUR");
    e->credit = n % 2;
    e->reversal = n == 1;
    e->sts = val("sts");
    e->book_dt = val("bookdt");
    e->val_dt = val("valdt");
    e->acct_svcr_ref = val("svcrref");
    e->bk_tx_domain = val("domn");
    e->bk_tx_family = val("fmly");
    e->bk_tx_subfamily = val("subfmly");
    e->bk_tx_prtry = val("prtry");
    e->bk_tx_prtry_issuer = val("issr");
    e->cust_ref = val("custref");
    e->addtl_ntry_inf = val("addtlntry");
    e->n_dtls = (size_t)(n % 3);
    e->dtls = e->n_dtls ? calloc(e->n_dtls, sizeof(*e->dtls)) : NULL;
    for (size_t i = 0; i < e->n_dtls; i++)
        fill_dtl(&e->dtls[i]);
    e->line = 400 + n;
}

/* ---- fixtures: a payment batch and statements driven through sinks ------ */

#define NGRP 2
#define NTX 3

struct pay_model {
    struct fmt_pay_header hdr, hdr_end;
    struct fmt_pay_group grp[NGRP], grp_end[NGRP];
    struct fmt_pay_tx tx[NGRP][NTX];
};

static void pay_model_fill(struct pay_model *m)
{
    fill_pay_header(&m->hdr);
    fill_pay_header(&m->hdr_end);
    /* totals only known at the end: the end header differs */
    m->hdr_end.nb_of_txs = NGRP * NTX;
    m->hdr_end.has_ctrl_sum = 1;
    m->hdr_end.ctrl_sum_milli = 6006;
    for (int g = 0; g < NGRP; g++) {
        fill_pay_group(&m->grp[g], g);
        fill_pay_group(&m->grp_end[g], g);
        for (int t = 0; t < NTX; t++)
            fill_pay_tx(&m->tx[g][t], g * NTX + t);
    }
    /* group 0 ends as it started (no GroupEnd), group 1 changes */
    fmt_pay_group_release(&m->grp_end[0]);
    m->grp[1].nb_of_txs = -1;
    m->grp[1].has_ctrl_sum = 0;
    m->grp[1].batch_booking = -1;
}

/* What group_end() receives: group 0 ends as it began. */
static const struct fmt_pay_group *grp_end(const struct pay_model *m, int g)
{
    return g == 0 ? &m->grp[0] : &m->grp_end[g];
}

static void pay_model_release(struct pay_model *m)
{
    fmt_pay_header_release(&m->hdr);
    fmt_pay_header_release(&m->hdr_end);
    for (int g = 0; g < NGRP; g++) {
        fmt_pay_group_release(&m->grp[g]);
        fmt_pay_group_release(&m->grp_end[g]);
        for (int t = 0; t < NTX; t++)
            fmt_pay_tx_release(&m->tx[g][t]);
    }
}

static int pay_model_emit(const struct pay_model *m,
                          const struct fmt_pay_sink *s)
{
    int rc;
    if ((rc = s->begin(s->ctx, &m->hdr)) < 0)
        return rc;
    for (int g = 0; g < NGRP; g++) {
        if ((rc = s->group_begin(s->ctx, &m->grp[g])) < 0)
            return rc;
        for (int t = 0; t < NTX; t++)
            if ((rc = s->tx(s->ctx, &m->grp[g], &m->tx[g][t])) < 0)
                return rc;
        if ((rc = s->group_end(s->ctx, grp_end(m, g))) < 0)
            return rc;
    }
    return s->end(s->ctx, &m->hdr_end);
}

/* A sink comparing what the reader hands over with the model. */
struct pay_cmp {
    const struct pay_model *m;
    int g, t, begins, ends, groups, group_ends, txs;
};

static int pc_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct pay_cmp *c = ctx;
    c->begins++;
    cmp_pay_header("begin", &c->m->hdr, h);
    return 0;
}

static int pc_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct pay_cmp *c = ctx;
    c->groups++;
    c->t = 0;
    if (c->g < NGRP)
        cmp_pay_group("group_begin", &c->m->grp[c->g], g);
    return 0;
}

static int pc_tx(void *ctx, const struct fmt_pay_group *g,
                 const struct fmt_pay_tx *t)
{
    struct pay_cmp *c = ctx;
    c->txs++;
    if (c->g < NGRP && c->t < NTX) {
        char p[64];
        snprintf(p, sizeof(p), "tx[%d][%d]", c->g, c->t);
        cmp_pay_tx(p, &c->m->tx[c->g][c->t], t);
        cmp_s(p, "grp.pmt_inf_id", c->m->grp[c->g].pmt_inf_id, g->pmt_inf_id);
    }
    c->t++;
    return 0;
}

static int pc_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct pay_cmp *c = ctx;
    c->group_ends++;
    if (c->g < NGRP)
        cmp_pay_group("group_end", grp_end(c->m, c->g), g);
    c->g++;
    return 0;
}

static int pc_end(void *ctx, const struct fmt_pay_header *h)
{
    struct pay_cmp *c = ctx;
    c->ends++;
    cmp_pay_header("end", &c->m->hdr_end, h);
    return 0;
}

static const char *schema(void)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf), "%s", tu_src("formats/schemas/canonical.xsd"));
    return buf;
}

static int xsd_valid(const char *path)
{
    return tu_system("xmllint --noout --nonet --schema '%s' '%s' "
                     ">/dev/null 2>&1",
                     schema(), path);
}

static char *write_pay(const struct pay_model *m, const char *path)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct fmt_canon_writer *w = fmt_canon_writer_new(f);
    struct fmt_pay_sink s = fmt_canon_pay_sink(w);
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(pay_model_emit(m, &s), 0);
    int rc = fmt_canon_writer_finish(w, &err);
    if (rc)
        fprintf(stderr, "finish: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    fmt_canon_writer_free(w);
    fclose(f);
    return tu_read_file(path, NULL);
}

static int read_pay_cmp(const struct pay_model *m, const char *path,
                        struct pay_cmp *c, struct fmt_diag *d)
{
    struct fmt_pay_sink s = {pc_begin,     pc_group_begin, pc_tx,
                             pc_group_end, pc_end,         c};
    struct fmt_src src = {.path = path};
    struct h2h_err err = {0};
    memset(c, 0, sizeof(*c));
    c->m = m;
    mismatches = 0;
    int rc = fmt_canon_read_pay(&src, &s, d, &err);
    if (rc)
        fprintf(stderr, "read: %s\n", err.msg);
    return rc;
}

static void test_pay_round_trip(void)
{
    struct pay_model m;
    memset(&m, 0, sizeof(m));
    pay_model_fill(&m);
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/pay.xml", dir);
    char *xml = write_pay(&m, path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    CU_ASSERT_EQUAL(xsd_valid(path), 0);
    CU_ASSERT_EQUAL(fmt_canon_detect(xml, strlen(xml)), FMT_CANON_PAYMENTS);
    /* the end header differs, group 0 does not, group 1 does */
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<HeaderEnd>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<GroupEnd>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "&amp;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "&#13;"));

    struct pay_cmp c;
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(read_pay_cmp(&m, path, &c, &d), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(c.begins, 1);
    CU_ASSERT_EQUAL(c.ends, 1);
    CU_ASSERT_EQUAL(c.groups, NGRP);
    CU_ASSERT_EQUAL(c.group_ends, NGRP);
    CU_ASSERT_EQUAL(c.txs, NGRP * NTX);
    fmt_diag_release(&d);

    /* the comparison can fail: change one deep field of the model */
    free(m.tx[1][2].cdtr.addr.lines[6]);
    m.tx[1][2].cdtr.addr.lines[6] = strdup("changed");
    fmt_diag_init(&d, path);
    read_pay_cmp(&m, path, &c, &d);
    CU_ASSERT_EQUAL(mismatches, 1);
    fmt_diag_release(&d);

    free(xml);
    pay_model_release(&m);
    tu_rmtree(dir);
}

/* Minimal model: absent values stay absent (NULL, -1, "") both ways. */
static void test_pay_minimal(void)
{
    struct pay_model m;
    memset(&m, 0, sizeof(m));
    fmt_pay_header_init(&m.hdr);
    fmt_pay_header_init(&m.hdr_end);
    for (int g = 0; g < NGRP; g++) {
        fmt_pay_group_init(&m.grp[g]);
        fmt_pay_group_init(&m.grp_end[g]);
        m.grp[g].line = m.grp_end[g].line = 7 + g;
        for (int t = 0; t < NTX; t++)
            m.tx[g][t].line = 9 + t;
    }
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/min.xml", dir);
    char *xml = write_pay(&m, path);
    CU_ASSERT_EQUAL(xsd_valid(path), 0);
    CU_ASSERT_PTR_NULL(strstr(xml, "GroupEnd"));
    CU_ASSERT_PTR_NULL(strstr(xml, "HeaderEnd"));
    struct pay_cmp c;
    CU_ASSERT_EQUAL(read_pay_cmp(&m, path, &c, NULL), 0);
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(c.txs, NGRP * NTX);
    free(xml);
    pay_model_release(&m);
    tu_rmtree(dir);
}

/* ---- status ------------------------------------------------------------- */

static void test_status_round_trip(void)
{
    struct fmt_status_report r, back;
    fill_status(&r);
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/sts.xml", dir);
    FILE *f = fopen(path, "w");
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(fmt_canon_write_status(f, &r, &err), 0);
    fclose(f);
    CU_ASSERT_EQUAL(xsd_valid(path), 0);
    size_t len;
    char *xml = tu_read_file(path, &len);
    CU_ASSERT_EQUAL(fmt_canon_detect(xml, len), FMT_CANON_STATUS);

    struct fmt_src src = {.path = path};
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_canon_read_status(&src, &back, &d, &err), 0);
    CU_ASSERT_EQUAL(d.n, 0);
    mismatches = 0;
    cmp_status("status", &r, &back);
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(back.n_pmts, 2);

    /* absent values */
    struct fmt_status_report e, e2;
    fmt_status_report_init(&e);
    f = fopen(path, "w");
    CU_ASSERT_EQUAL(fmt_canon_write_status(f, &e, &err), 0);
    fclose(f);
    CU_ASSERT_EQUAL(xsd_valid(path), 0);
    CU_ASSERT_EQUAL(fmt_canon_read_status(&src, &e2, NULL, &err), 0);
    mismatches = 0;
    cmp_status("empty", &e, &e2);
    CU_ASSERT_EQUAL(mismatches, 0);
    fmt_status_report_release(&e2);

    free(xml);
    fmt_diag_release(&d);
    fmt_status_report_release(&r);
    fmt_status_report_release(&back);
    tu_rmtree(dir);
}

/* ---- statements --------------------------------------------------------- */

#define NST 2
#define NNTRY 4

struct stmt_model {
    struct fmt_stmt_doc doc;
    struct fmt_stmt st[NST], st_end[NST];
    struct fmt_entry e[NST][NNTRY];
};

static void stmt_model_fill(struct stmt_model *m)
{
    fill_stmt_doc(&m->doc);
    for (int s = 0; s < NST; s++) {
        fill_stmt(&m->st[s], s);
        if (s == 0)
            fill_stmt(&m->st_end[s], s);
        for (int k = 0; k < NNTRY; k++)
            fill_entry(&m->e[s][k], s * NNTRY + k);
    }
    /* statement 0: closing balance known only at stmt_end */
    add_balance(&m->st_end[0], "CLBD", 99, "EUR");
}

/* What stmt_end() receives: statement 1 ends as it began. */
static const struct fmt_stmt *st_end(const struct stmt_model *m, int s)
{
    return s == 0 ? &m->st_end[0] : &m->st[s];
}

static void stmt_model_release(struct stmt_model *m)
{
    fmt_stmt_doc_release(&m->doc);
    for (int s = 0; s < NST; s++) {
        fmt_stmt_release(&m->st[s]);
        fmt_stmt_release(&m->st_end[s]);
        for (int k = 0; k < NNTRY; k++)
            fmt_entry_release(&m->e[s][k]);
    }
}

struct stmt_cmp {
    const struct stmt_model *m;
    int s, k, begins, ends, stmts, stmt_ends, entries;
};

static int sc_begin(void *ctx, const struct fmt_stmt_doc *d)
{
    struct stmt_cmp *c = ctx;
    c->begins++;
    cmp_stmt_doc("doc", &c->m->doc, d);
    return 0;
}

static int sc_stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct stmt_cmp *c = ctx;
    c->stmts++;
    c->k = 0;
    if (c->s < NST)
        cmp_stmt("stmt_begin", &c->m->st[c->s], st);
    return 0;
}

static int sc_entry(void *ctx, const struct fmt_stmt *st,
                    const struct fmt_entry *e)
{
    struct stmt_cmp *c = ctx;
    c->entries++;
    if (c->s < NST && c->k < NNTRY) {
        char p[64];
        snprintf(p, sizeof(p), "entry[%d][%d]", c->s, c->k);
        cmp_entry(p, &c->m->e[c->s][c->k], e);
        cmp_s(p, "st.id", c->m->st[c->s].id, st->id);
    }
    c->k++;
    return 0;
}

static int sc_stmt_end(void *ctx, const struct fmt_stmt *st)
{
    struct stmt_cmp *c = ctx;
    c->stmt_ends++;
    if (c->s < NST)
        cmp_stmt("stmt_end", st_end(c->m, c->s), st);
    c->s++;
    return 0;
}

static int sc_end(void *ctx, const struct fmt_stmt_doc *d)
{
    struct stmt_cmp *c = ctx;
    c->ends++;
    cmp_stmt_doc("doc_end", &c->m->doc, d);
    return 0;
}

static void test_stmt_round_trip(void)
{
    struct stmt_model m;
    memset(&m, 0, sizeof(m));
    stmt_model_fill(&m);
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/stmt.xml", dir);
    FILE *f = fopen(path, "w");
    struct fmt_canon_writer *w = fmt_canon_writer_new(f);
    struct fmt_stmt_sink s = fmt_canon_stmt_sink(w);
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(s.begin(s.ctx, &m.doc), 0);
    for (int i = 0; i < NST; i++) {
        CU_ASSERT_EQUAL(s.stmt_begin(s.ctx, &m.st[i]), 0);
        for (int k = 0; k < NNTRY; k++)
            CU_ASSERT_EQUAL(s.entry(s.ctx, &m.st[i], &m.e[i][k]), 0);
        CU_ASSERT_EQUAL(s.stmt_end(s.ctx, st_end(&m, i)), 0);
    }
    CU_ASSERT_EQUAL(s.end(s.ctx, &m.doc), 0);
    CU_ASSERT_EQUAL(fmt_canon_writer_finish(w, &err), 0);
    fmt_canon_writer_free(w);
    fclose(f);
    CU_ASSERT_EQUAL(xsd_valid(path), 0);
    size_t len;
    char *xml = tu_read_file(path, &len);
    CU_ASSERT_EQUAL(fmt_canon_detect(xml, len), FMT_CANON_STATEMENTS);
    /* only statement 0 changed between begin and end */
    char *se = strstr(xml, "<StmtEnd>");
    CU_ASSERT_PTR_NOT_NULL(se);
    CU_ASSERT_PTR_NULL(se ? strstr(se + 1, "<StmtEnd>") : NULL);
    CU_ASSERT_PTR_NULL(strstr(xml, "<DocEnd>"));

    struct stmt_cmp c;
    memset(&c, 0, sizeof(c));
    c.m = &m;
    struct fmt_stmt_sink cs = {sc_begin,    sc_stmt_begin, sc_entry,
                               sc_stmt_end, sc_end,        &c};
    struct fmt_src src = {.path = path};
    struct fmt_diag d;
    fmt_diag_init(&d, path);
    mismatches = 0;
    CU_ASSERT_EQUAL(fmt_canon_read_stmt(&src, &cs, &d, &err), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT_EQUAL(c.begins, 1);
    CU_ASSERT_EQUAL(c.ends, 1);
    CU_ASSERT_EQUAL(c.stmts, NST);
    CU_ASSERT_EQUAL(c.stmt_ends, NST);
    CU_ASSERT_EQUAL(c.entries, NST * NNTRY);
    fmt_diag_release(&d);
    free(xml);
    stmt_model_release(&m);
    tu_rmtree(dir);
}

/* ---- writer refusals ---------------------------------------------------- */

static void test_writer_refuses(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct h2h_err err = {0};

    /* a control character XML 1.0 cannot carry */
    struct fmt_canon_writer *w = fmt_canon_writer_new(f);
    struct fmt_pay_sink s = fmt_canon_pay_sink(w);
    struct fmt_pay_header h;
    fmt_pay_header_init(&h);
    h.msg_id = strdup("bad\x01id");
    CU_ASSERT_EQUAL(s.begin(s.ctx, &h), H2H_ECHARSET);
    CU_ASSERT_EQUAL(fmt_canon_writer_finish(w, &err), H2H_ECHARSET);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "MsgId"));
    fmt_canon_writer_free(w);
    free(h.msg_id);

    /* invalid UTF-8 */
    w = fmt_canon_writer_new(f);
    s = fmt_canon_pay_sink(w);
    h.msg_id = strdup("bad\xc3(");
    CU_ASSERT_EQUAL(s.begin(s.ctx, &h), H2H_ECHARSET);
    fmt_canon_writer_free(w);
    free(h.msg_id);
    h.msg_id = NULL;

    /* events out of order */
    w = fmt_canon_writer_new(f);
    s = fmt_canon_pay_sink(w);
    struct fmt_pay_tx t;
    struct fmt_pay_group g;
    memset(&t, 0, sizeof(t));
    fmt_pay_group_init(&g);
    CU_ASSERT_EQUAL(s.tx(s.ctx, &g, &t), H2H_ESTATE);
    fmt_canon_writer_free(w);

    /* an amount without currency */
    w = fmt_canon_writer_new(f);
    s = fmt_canon_pay_sink(w);
    t.amt.minor = 5;
    CU_ASSERT_EQUAL(s.begin(s.ctx, &h), 0);
    CU_ASSERT_EQUAL(s.group_begin(s.ctx, &g), 0);
    CU_ASSERT_EQUAL(s.tx(s.ctx, &g, &t), H2H_EINVALID);
    /* and an unfinished document is not complete */
    CU_ASSERT_EQUAL(fmt_canon_writer_finish(w, &err), H2H_EINVALID);
    fmt_canon_writer_free(w);
    w = fmt_canon_writer_new(f);
    s = fmt_canon_pay_sink(w);
    CU_ASSERT_EQUAL(s.begin(s.ctx, &h), 0);
    CU_ASSERT_EQUAL(fmt_canon_writer_finish(w, &err), H2H_ESTATE);
    fmt_canon_writer_free(w);
    fclose(f);
    free(buf);
}

/* ---- reader on hand-written fixtures ------------------------------------ */

struct count_sink {
    int txs, groups;
    int64_t sum;
    char first_name[64];
    int first_line;
};

static int cnt_tx(void *ctx, const struct fmt_pay_group *g,
                  const struct fmt_pay_tx *t)
{
    struct count_sink *c = ctx;
    (void)g;
    if (c->txs++ == 0) {
        snprintf(c->first_name, sizeof(c->first_name), "%s",
                 t->cdtr.name ? t->cdtr.name : "");
        c->first_line = t->line;
    }
    c->sum += t->amt.minor;
    return 0;
}

static int cnt_group(void *ctx, const struct fmt_pay_group *g)
{
    struct count_sink *c = ctx;
    (void)g;
    c->groups++;
    return 0;
}

static int has_problem(const struct fmt_diag *d, const char *rule, int line)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].rule, rule) && (line == 0 || d->v[i].line == line))
            return 1;
    return 0;
}

static void test_fixture_good(void)
{
    const char *p = tu_src("tests/fixtures/canon/pay_small.xml");
    char path[1024];
    snprintf(path, sizeof(path), "%s", p);
    CU_ASSERT_EQUAL(xsd_valid(path), 0);
    struct count_sink c;
    memset(&c, 0, sizeof(c));
    struct fmt_pay_sink s = {NULL, cnt_group, cnt_tx, NULL, NULL, &c};
    struct fmt_src src = {.path = path};
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, &d, &err), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_EQUAL(c.groups, 1);
    CU_ASSERT_EQUAL(c.txs, 2);
    CU_ASSERT_EQUAL(c.sum, 125050 + 99);
    CU_ASSERT_STRING_EQUAL(c.first_name, "M\xc3\xbcller & S\xc3\xb6hne");
    /* no SrcLine: the line in the canonical file itself */
    CU_ASSERT_EQUAL(c.first_line, 20);
    fmt_diag_release(&d);
}

static void test_fixture_problems(void)
{
    const char *p = tu_src("tests/fixtures/canon/pay_problems.xml");
    char path[1024];
    snprintf(path, sizeof(path), "%s", p);
    /* it is invalid against the schema as well */
    CU_ASSERT_NOT_EQUAL(xsd_valid(path), 0);
    struct count_sink c;
    memset(&c, 0, sizeof(c));
    struct fmt_pay_sink s = {NULL, cnt_group, cnt_tx, NULL, NULL, &c};
    struct fmt_src src = {.path = path};
    struct fmt_diag d;
    struct h2h_err err = {0};
    fmt_diag_init(&d, path);
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, &d, &err), 0);
    fmt_diag_print(&d, stderr);
    CU_ASSERT_EQUAL(c.txs, 3);
    CU_ASSERT(has_problem(&d, "canon.amount", 9));   /* 1.234 EUR */
    CU_ASSERT(has_problem(&d, "canon.unknown", 11)); /* <Colour> */
    CU_ASSERT(has_problem(&d, "canon.count", 4));    /* NbOfTxs x */
    CU_ASSERT(has_problem(&d, "canon.boolean", 6));
    CU_ASSERT(has_problem(&d, "canon.amount.ccy", 14));
    CU_ASSERT(has_problem(&d, "canon.order", 16));
    CU_ASSERT_EQUAL(d.n, 6);
    fmt_diag_release(&d);
}

static void test_read_fatal(void)
{
    struct h2h_err err = {0};
    struct fmt_pay_sink s = {0};
    static const char wrong_ns[] =
        "<PaymentBatch xmlns=\"urn:other\"><Header/></PaymentBatch>";
    struct fmt_src src = {.buf = wrong_ns, .len = sizeof(wrong_ns) - 1};
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, NULL, &err), H2H_EUNSUPPORTED);
    static const char wrong_root[] =
        "<Statements xmlns=\"urn:h2hd:canonical:1\"/>";
    src.buf = wrong_root;
    src.len = sizeof(wrong_root) - 1;
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, NULL, &err), H2H_EUNSUPPORTED);
    static const char broken[] =
        "<PaymentBatch xmlns=\"urn:h2hd:canonical:1\"><Header>"
        "</PaymentBatch>";
    src.buf = broken;
    src.len = sizeof(broken) - 1;
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, NULL, &err), H2H_EPARSE);
    static const char doctype[] =
        "<!DOCTYPE x [<!ENTITY a \"b\">]>"
        "<PaymentBatch xmlns=\"urn:h2hd:canonical:1\"/>";
    src.buf = doctype;
    src.len = sizeof(doctype) - 1;
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, NULL, &err), H2H_ESECURITY);
}

/* A sink that aborts: its code comes back from the reader. */
static int abort_tx(void *ctx, const struct fmt_pay_group *g,
                    const struct fmt_pay_tx *t)
{
    (void)ctx;
    (void)g;
    (void)t;
    return H2H_ECANCELED;
}

static void test_sink_abort(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s",
             tu_src("tests/fixtures/canon/pay_small.xml"));
    struct fmt_pay_sink s = {NULL, NULL, abort_tx, NULL, NULL, NULL};
    struct fmt_src src = {.path = path};
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(fmt_canon_read_pay(&src, &s, NULL, &err), H2H_ECANCELED);
}

static void test_detect(void)
{
    static const struct {
        const char *label, *doc;
        int want;
    } cases[] = {
        {"payments", "<PaymentBatch xmlns=\"urn:h2hd:canonical:1\">",
         FMT_CANON_PAYMENTS},
        {"status with decl and comment",
         "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- x -->\n"
         "<StatusReport xmlns='urn:h2hd:canonical:1'>",
         FMT_CANON_STATUS},
        {"prefixed statements",
         "<c:Statements xmlns:c=\"urn:h2hd:canonical:1\">",
         FMT_CANON_STATEMENTS},
        {"prefix bound elsewhere",
         "<c:Statements xmlns:c=\"urn:x\" xmlns=\"urn:h2hd:canonical:1\">", -1},
        {"other namespace", "<PaymentBatch xmlns=\"urn:h2hd:canonical:2\">",
         -1},
        {"pain.001",
         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">",
         -1},
        {"truncated", "<PaymentBatch xmlns=\"urn:h2hd:can", -1},
        {"empty", "", -1},
        {NULL, NULL, 0},
    };
    for (int i = 0; cases[i].label; i++) {
        int got = fmt_canon_detect(cases[i].doc, strlen(cases[i].doc));
        if (got != cases[i].want)
            fprintf(stderr, "detect %s: %d\n", cases[i].label, got);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
}

static const struct tu_case cases[] = {
    {"payment round trip, every field", test_pay_round_trip},
    {"payment round trip, absent fields", test_pay_minimal},
    {"status round trip", test_status_round_trip},
    {"statement round trip", test_stmt_round_trip},
    {"writer refusals", test_writer_refuses},
    {"fixture read", test_fixture_good},
    {"fixture problems all reported", test_fixture_problems},
    {"fatal read errors", test_read_fatal},
    {"sink abort", test_sink_abort},
    {"detect", test_detect},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_canon", cases);
}
