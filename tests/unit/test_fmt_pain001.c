/*
 * test_fmt_pain001.c - pain.001 reader and writer.
 *
 * Every event of a read is dumped as "key=value" lines so that two reads
 * can be compared field by field (round trips) and single fields asserted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "pain001.h"
#include "testutil.h"

/* ---- dump collector ------------------------------------------------------ */

struct dump {
    FILE *f;
    char *buf;
    size_t len;
    int ngrp, ntx;
    int64_t sum_minor; /* over all txs, mixed currencies not expected */
    char ccy[4];
    int calls_begin, calls_end;
};

static void kv(FILE *f, const char *pfx, const char *k, const char *v)
{
    if (v)
        fprintf(f, "%s.%s=%s\n", pfx, k, v);
}

static void d_postal(FILE *f, const char *pfx, const struct fmt_postal *p)
{
    char b[128];
    snprintf(b, sizeof(b), "%s.addr", pfx);
    kv(f, b, "dept", p->dept);
    kv(f, b, "street", p->street);
    kv(f, b, "building", p->building);
    kv(f, b, "postcode", p->postcode);
    kv(f, b, "town", p->town);
    kv(f, b, "subdivision", p->subdivision);
    kv(f, b, "country", p->country);
    for (int i = 0; i < 7 && p->lines[i]; i++) {
        char k[16];
        snprintf(k, sizeof(k), "line%d", i);
        kv(f, b, k, p->lines[i]);
    }
}

static void d_party(FILE *f, const char *pfx, const struct fmt_party *p)
{
    kv(f, pfx, "name", p->name);
    d_postal(f, pfx, &p->addr);
    kv(f, pfx, "org_bic", p->org_bic);
    kv(f, pfx, "org_id", p->org_id);
    kv(f, pfx, "org_id_scheme", p->org_id_scheme);
    kv(f, pfx, "prvt_id", p->prvt_id);
    kv(f, pfx, "ctry_of_res", p->ctry_of_res);
}

static void d_account(FILE *f, const char *pfx, const struct fmt_account *a)
{
    kv(f, pfx, "iban", a->iban);
    kv(f, pfx, "other_id", a->other_id);
    kv(f, pfx, "other_scheme", a->other_scheme);
    kv(f, pfx, "ccy", a->ccy);
    kv(f, pfx, "name", a->name);
    kv(f, pfx, "type", a->type);
}

static void d_agent(FILE *f, const char *pfx, const struct fmt_agent *a)
{
    kv(f, pfx, "bic", a->bic);
    kv(f, pfx, "clr_sys", a->clr_sys);
    kv(f, pfx, "clr_mmb_id", a->clr_mmb_id);
    kv(f, pfx, "name", a->name);
    d_postal(f, pfx, &a->addr);
    kv(f, pfx, "other_id", a->other_id);
}

static void d_hdr(FILE *f, const char *pfx, const struct fmt_pay_header *h)
{
    kv(f, pfx, "msg_id", h->msg_id);
    kv(f, pfx, "cre_dt_tm", h->cre_dt_tm);
    fprintf(f, "%s.nb_of_txs=%lld\n", pfx, (long long)h->nb_of_txs);
    if (h->has_ctrl_sum)
        fprintf(f, "%s.ctrl_sum=%lld\n", pfx, (long long)h->ctrl_sum_milli);
    char b[64];
    snprintf(b, sizeof(b), "%s.initg_pty", pfx);
    d_party(f, b, &h->initg_pty);
}

static int c_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct dump *d = ctx;
    d->calls_begin++;
    d_hdr(d->f, "hdr", h);
    return 0;
}

static int c_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct dump *d = ctx;
    FILE *f = d->f;
    char p[64], b[96];
    d->ngrp++;
    snprintf(p, sizeof(p), "grp[%d]", d->ngrp);
    kv(f, p, "pmt_inf_id", g->pmt_inf_id);
    kv(f, p, "pmt_mtd", g->pmt_mtd);
    fprintf(f, "%s.batch_booking=%d\n", p, g->batch_booking);
    fprintf(f, "%s.nb_of_txs=%lld\n", p, (long long)g->nb_of_txs);
    if (g->has_ctrl_sum)
        fprintf(f, "%s.ctrl_sum=%lld\n", p, (long long)g->ctrl_sum_milli);
    kv(f, p, "instr_prty", g->instr_prty);
    kv(f, p, "svc_lvl", g->svc_lvl);
    kv(f, p, "lcl_instrm", g->lcl_instrm);
    kv(f, p, "ctgy_purp", g->ctgy_purp);
    kv(f, p, "reqd_exctn_dt", g->reqd_exctn_dt);
    snprintf(b, sizeof(b), "%s.dbtr", p);
    d_party(f, b, &g->dbtr);
    snprintf(b, sizeof(b), "%s.dbtr_acct", p);
    d_account(f, b, &g->dbtr_acct);
    snprintf(b, sizeof(b), "%s.dbtr_agt", p);
    d_agent(f, b, &g->dbtr_agt);
    snprintf(b, sizeof(b), "%s.ult_dbtr", p);
    d_party(f, b, &g->ult_dbtr);
    kv(f, p, "chrg_br", g->chrg_br);
    return 0;
}

static int c_tx(void *ctx, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    struct dump *d = ctx;
    FILE *f = d->f;
    char p[64], b[96];
    (void)g;
    d->ntx++;
    d->sum_minor += t->amt.minor;
    memcpy(d->ccy, t->amt.ccy, 4);
    snprintf(p, sizeof(p), "tx[%d]", d->ntx);
    kv(f, p, "instr_id", t->instr_id);
    kv(f, p, "end_to_end_id", t->end_to_end_id);
    kv(f, p, "uetr", t->uetr);
    fprintf(f, "%s.amt=%lld %s\n", p, (long long)t->amt.minor, t->amt.ccy);
    kv(f, p, "chrg_br", t->chrg_br);
    snprintf(b, sizeof(b), "%s.cdtr_agt", p);
    d_agent(f, b, &t->cdtr_agt);
    snprintf(b, sizeof(b), "%s.cdtr", p);
    d_party(f, b, &t->cdtr);
    snprintf(b, sizeof(b), "%s.cdtr_acct", p);
    d_account(f, b, &t->cdtr_acct);
    snprintf(b, sizeof(b), "%s.ult_cdtr", p);
    d_party(f, b, &t->ult_cdtr);
    kv(f, p, "purp", t->purp);
    kv(f, p, "rmt_ustrd", t->rmt_ustrd);
    const struct fmt_strd_rmt *s = &t->rmt_strd;
    kv(f, p, "cdtr_ref", s->cdtr_ref);
    kv(f, p, "cdtr_ref_type", s->cdtr_ref_type);
    kv(f, p, "cdtr_ref_issuer", s->cdtr_ref_issuer);
    kv(f, p, "doc_nb", s->doc_nb);
    kv(f, p, "doc_type", s->doc_type);
    kv(f, p, "doc_date", s->doc_date);
    kv(f, p, "addtl_info", s->addtl_info);
    kv(f, p, "rgltry.code", t->rgltry.code);
    kv(f, p, "rgltry.info", t->rgltry.info);
    kv(f, p, "rgltry.authority_ctry", t->rgltry.authority_ctry);
    kv(f, p, "instr_for_dbtr_agt", t->instr_for_dbtr_agt);
    return 0;
}

static int c_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct dump *d = ctx;
    fprintf(d->f, "grp_end=%s\n", g->pmt_inf_id ? g->pmt_inf_id : "");
    return 0;
}

static int c_end(void *ctx, const struct fmt_pay_header *h)
{
    struct dump *d = ctx;
    d->calls_end++;
    d_hdr(d->f, "end", h);
    return 0;
}

static void dump_init(struct dump *d)
{
    memset(d, 0, sizeof(*d));
    d->f = open_memstream(&d->buf, &d->len);
}

static void dump_release(struct dump *d)
{
    if (d->f)
        fclose(d->f);
    free(d->buf);
    memset(d, 0, sizeof(*d));
}

static struct fmt_pay_sink dump_sink(struct dump *d)
{
    struct fmt_pay_sink s = {c_begin,     c_group_begin, c_tx,
                             c_group_end, c_end,         d};
    return s;
}

/* Read path into d; returns the reader's code, diag filled. */
static int read_dump(const char *path, struct dump *d, struct fmt_diag *diag,
                     struct h2h_err *err)
{
    struct fmt_src src = {.path = path};
    struct fmt_pay_sink s = dump_sink(d);
    int rc = fmt_pain001_read(&src, &s, diag, err);
    fflush(d->f);
    return rc;
}

static int has_line(const struct dump *d, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "%s\n", line);
    if (!d->buf)
        return 0;
    if (!strncmp(d->buf, want, strlen(want)))
        return 1;
    char nl[520];
    snprintf(nl, sizeof(nl), "\n%s", want);
    return strstr(d->buf, nl) != NULL;
}

static int diag_has_rule(const struct fmt_diag *dg, const char *rule)
{
    for (size_t i = 0; i < dg->n; i++)
        if (dg->v[i].rule && !strcmp(dg->v[i].rule, rule))
            return 1;
    return 0;
}

/* ---- corpus: every valid file parses with its counts -------------------- */

struct corpus_case {
    const char *file;
    const char *format;
    const char *msg_id;
    int ngrp, ntx;
    int64_t sum_minor;
    const char *ccy;
    int want_problems; /* stubs without GrpHdr report that */
};

static const struct corpus_case corpus_cases[] = {
    {"dvbern__pain001TestReference_v00109ch03.xml", "pain.001.001.09",
     "Test-ID", 1, 4, 401000, "CHF", 0},
    {"dvbern__v00103ch02_pain001ExampleOutput.xml", "pain.001.001.03.ch.02",
     "Test-ID", 1, 4, 401000, "CHF", 0},
    {"dvbern__v00103ch02_pain001TestReference.xml", "pain.001.001.03.ch.02",
     "Test-ID", 1, 2, 101000, "CHF", 0},
    {"nlsepa__abn_pain.001.001.03_voorbeeldbestand.xml", "pain.001.001.03",
     "000001", 1, 1, 38600, "EUR", 0},
    {"nlsepa__ing_pain.001.001.03_voorbeeldbestand.xml", "pain.001.001.03",
     "MSGID005", 1, 1, 101, "EUR", 0},
    {"nlsepa__main_example.xml", "pain.001.001.03", "message-id-001", 1, 1,
     1010, "EUR", 0},
    {"hbci4j__test-pain-parse-00100102.xml", "pain.001.001.02", NULL, 0, 0, 0,
     "", 1},
    {"hbci4j__test-pain-parse-00100103.xml", "pain.001.001.03", NULL, 0, 0, 0,
     "", 1},
    {"hbci4j__test-pain-parse-00100109.xml", "pain.001.001.09", NULL, 0, 0, 0,
     "", 1},
    {"hbci4j__test-pain-parse-00100202.xml", "pain.001.002.02", NULL, 0, 0, 0,
     "", 1},
    {"hbci4j__test-pain-parse-00100203.xml", "pain.001.002.03", NULL, 0, 0, 0,
     "", 1},
    {"hbci4j__test-pain-parse-00100303.xml", "pain.001.003.03", NULL, 0, 0, 0,
     "", 1},
};

static void test_corpus_valid(void)
{
    if (!tu_corpus_present()) {
        printf("corpus absent: skipped ");
        return;
    }
    for (size_t i = 0; i < sizeof(corpus_cases) / sizeof(corpus_cases[0]);
         i++) {
        const struct corpus_case *c = &corpus_cases[i];
        char rel[256], fmtline[128];
        snprintf(rel, sizeof(rel), "pain001/%s", c->file);
        struct dump d;
        struct fmt_diag dg;
        struct h2h_err e = {0};
        dump_init(&d);
        fmt_diag_init(&dg, c->file);
        int rc = read_dump(tu_corpus(rel), &d, &dg, &e);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", c->file, e.msg);
        CU_ASSERT_EQUAL(rc, 0);
        if (!c->want_problems && dg.n)
            fmt_diag_print(&dg, stderr);
        CU_ASSERT_EQUAL(dg.n > 0, c->want_problems);
        if (c->want_problems)
            CU_ASSERT(diag_has_rule(&dg, "pain001.grphdr.missing"));
        CU_ASSERT_EQUAL(d.calls_begin, 1);
        CU_ASSERT_EQUAL(d.calls_end, 1);
        CU_ASSERT_EQUAL(d.ngrp, c->ngrp);
        CU_ASSERT_EQUAL(d.ntx, c->ntx);
        CU_ASSERT_EQUAL(d.sum_minor, c->sum_minor);
        if (c->ntx)
            CU_ASSERT_STRING_EQUAL(d.ccy, c->ccy);
        if (c->msg_id) {
            snprintf(fmtline, sizeof(fmtline), "hdr.msg_id=%s", c->msg_id);
            CU_ASSERT(has_line(&d, fmtline));
        }
        (void)fmtline;
        dump_release(&d);
        fmt_diag_release(&dg);
    }
}

/* The source format reaches the sink. */
static const char *g_format;
static int fmt_begin(void *ctx, const struct fmt_pay_header *h)
{
    (void)ctx;
    g_format = h->source_format;
    return 0;
}

static void test_corpus_formats(void)
{
    if (!tu_corpus_present())
        return;
    for (size_t i = 0; i < sizeof(corpus_cases) / sizeof(corpus_cases[0]);
         i++) {
        char rel[256];
        snprintf(rel, sizeof(rel), "pain001/%s", corpus_cases[i].file);
        struct fmt_src src = {.path = tu_corpus(rel)};
        struct fmt_pay_sink s = {.begin = fmt_begin};
        g_format = NULL;
        CU_ASSERT_EQUAL(fmt_pain001_read(&src, &s, NULL, NULL), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g_format);
        CU_ASSERT_STRING_EQUAL(g_format, corpus_cases[i].format);
    }
}

static void test_corpus_negative(void)
{
    if (!tu_corpus_present())
        return;
    static const char *fatal[] = {"hbci4j__test-pain-parse-invalid.xml",
                                  "hbci4j__test-pain-parse-none.xml"};
    for (size_t i = 0; i < 2; i++) {
        char rel[256];
        snprintf(rel, sizeof(rel), "pain001/%s", fatal[i]);
        struct dump d;
        struct fmt_diag dg;
        struct h2h_err e = {0};
        dump_init(&d);
        fmt_diag_init(&dg, fatal[i]);
        int rc = read_dump(tu_corpus(rel), &d, &dg, &e);
        CU_ASSERT_EQUAL(rc, H2H_EUNSUPPORTED);
        CU_ASSERT(strstr(e.msg, "namespace") != NULL);
        CU_ASSERT_EQUAL(d.calls_begin, 0);
        dump_release(&d);
        fmt_diag_release(&dg);
    }
    /* an old generator's output: read, but with problems a user can act on */
    struct dump d;
    struct fmt_diag dg;
    struct h2h_err e = {0};
    dump_init(&d);
    fmt_diag_init(&dg, "libeufin");
    int rc = read_dump(tu_corpus("pain001/libeufin__pain001.xml"), &d, &dg, &e);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(dg.n >= 3);
    CU_ASSERT(diag_has_rule(&dg, "pain001.ctrlsum.syntax"));
    CU_ASSERT(diag_has_rule(&dg, "pain001.reqdexctndt.missing"));
    CU_ASSERT_EQUAL(d.ntx, 1);
    for (size_t i = 0; i < dg.n; i++)
        CU_ASSERT(dg.v[i].line > 0 || !strcmp(dg.v[i].rule, "x"));
    dump_release(&d);
    fmt_diag_release(&dg);
}

static void test_corpus_fields(void)
{
    if (!tu_corpus_present())
        return;
    struct dump d;
    struct fmt_diag dg;
    struct h2h_err e = {0};

    dump_init(&d);
    fmt_diag_init(&dg, NULL);
    CU_ASSERT_EQUAL(
        read_dump(tu_corpus("pain001/"
                            "dvbern__pain001TestReference_v00109ch03.xml"),
                  &d, &dg, &e),
        0);
    CU_ASSERT(has_line(&d, "hdr.nb_of_txs=4"));
    CU_ASSERT(has_line(&d, "hdr.ctrl_sum=4010000"));
    CU_ASSERT(has_line(&d, "hdr.cre_dt_tm=2026-07-23T10:15:00.000+02:00"));
    CU_ASSERT(has_line(&d, "hdr.initg_pty.name=Pestalozzi GMBH"));
    CU_ASSERT(has_line(&d, "grp[1].batch_booking=1"));
    CU_ASSERT(has_line(&d, "grp[1].reqd_exctn_dt=2026-08-28"));
    CU_ASSERT(has_line(&d, "grp[1].dbtr_acct.iban=CH9300762011623852957"));
    CU_ASSERT(has_line(&d, "grp[1].dbtr_agt.bic=ZKBKCHZZ80A"));
    CU_ASSERT(has_line(&d, "tx[3].amt=100000 CHF"));
    CU_ASSERT(has_line(&d, "tx[3].cdtr_agt.bic=POFICHBEXXX"));
    CU_ASSERT(has_line(&d, "tx[3].cdtr_acct.iban=CH7280005000088877766"));
    CU_ASSERT(has_line(&d, "tx[2].cdtr.addr.building=2"));
    CU_ASSERT(has_line(&d, "tx[2].cdtr.addr.town=Zurich"));
    CU_ASSERT(
        has_line(&d, "tx[4].end_to_end_id=4/8/Auszahlung Without address"));
    dump_release(&d);

    dump_init(&d);
    CU_ASSERT_EQUAL(
        read_dump(tu_corpus("pain001/"
                            "dvbern__v00103ch02_pain001TestReference.xml"),
                  &d, &dg, &e),
        0);
    CU_ASSERT(has_line(&d, "grp[1].pmt_mtd=TRA"));
    /* xs:date with a zone: the civil date is kept */
    CU_ASSERT(has_line(&d, "grp[1].reqd_exctn_dt=2017-06-30"));
    CU_ASSERT(has_line(&d, "grp[1].dbtr_agt.bic=POFICHBEXXX"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr_agt.clr_sys=CHBCC"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr_agt.clr_mmb_id=POFICHBEXXX"));
    CU_ASSERT(has_line(&d, "tx[2].rmt_ustrd=Auszahlung 2"));
    dump_release(&d);

    dump_init(&d);
    CU_ASSERT_EQUAL(
        read_dump(tu_corpus("pain001/nlsepa__main_example.xml"), &d, &dg, &e),
        0);
    CU_ASSERT(has_line(&d, "tx[1].chrg_br=SLEV"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr_acct.iban=NL90ABNA0111111111"));
    CU_ASSERT(has_line(&d, "tx[1].rmt_ustrd=vrije tekst"));
    CU_ASSERT(has_line(&d, "grp[1].ctrl_sum=10100"));
    CU_ASSERT_EQUAL(d.ntx, 1); /* the commented-out PmtInf is not read */
    dump_release(&d);
    CU_ASSERT_EQUAL(dg.n, 0);
    fmt_diag_release(&dg);
}

/* ---- own fixtures ---------------------------------------------------------
 */

static void test_fixture_fields(void)
{
    struct dump d;
    struct fmt_diag dg;
    struct h2h_err e = {0};
    dump_init(&d);
    fmt_diag_init(&dg, NULL);
    CU_ASSERT_EQUAL(read_dump(tu_src("tests/fixtures/pain/pain001_full_03.xml"),
                              &d, &dg, &e),
                    0);
    if (dg.n)
        fmt_diag_print(&dg, stderr);
    CU_ASSERT_EQUAL(dg.n, 0);
    CU_ASSERT_EQUAL(d.ngrp, 2);
    CU_ASSERT_EQUAL(d.ntx, 3);
    CU_ASSERT(has_line(&d, "hdr.initg_pty.org_id=DE98ZZZ09999999999"));
    CU_ASSERT(has_line(&d, "hdr.initg_pty.org_id_scheme=CUST"));
    CU_ASSERT(has_line(&d, "grp[1].batch_booking=0"));
    CU_ASSERT(has_line(&d, "grp[1].instr_prty=NORM"));
    CU_ASSERT(has_line(&d, "grp[1].ctgy_purp=SUPP"));
    CU_ASSERT(has_line(&d, "grp[1].dbtr.ctry_of_res=DE"));
    CU_ASSERT(has_line(&d, "grp[1].ult_dbtr.name=Acme Holding AG"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr.name=Supplier & Sons B.V."));
    CU_ASSERT(has_line(&d, "tx[1].cdtr.addr.line1=1012 AB Amsterdam"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr.org_bic=INGBNL2A"));
    CU_ASSERT(has_line(&d, "tx[1].ult_cdtr.prvt_id=P-778"));
    CU_ASSERT(has_line(&d, "tx[1].doc_type=CINV"));
    CU_ASSERT(has_line(&d, "tx[1].doc_date=2024-02-15"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr_ref=RF18539007547034"));
    CU_ASSERT(has_line(&d, "tx[1].cdtr_ref_issuer=ISO"));
    CU_ASSERT(has_line(&d, "tx[2].rmt_ustrd=invoice 4711\nsecond line"));
    CU_ASSERT(has_line(&d, "tx[2].instr_for_dbtr_agt=call before booking"));
    CU_ASSERT(has_line(&d, "grp[2].lcl_instrm=CN-HVPS"));
    CU_ASSERT(has_line(&d, "grp[2].dbtr_acct.other_scheme=CNACCOUNT"));
    CU_ASSERT(has_line(&d, "grp[2].dbtr_acct.type=CACC"));
    CU_ASSERT(has_line(&d, "tx[3].amt=12335 CNY"));
    CU_ASSERT(has_line(&d, "tx[3].cdtr_agt.clr_sys=CNAPS"));
    CU_ASSERT(has_line(&d, "tx[3].cdtr_agt.clr_mmb_id=102100099996"));
    CU_ASSERT(has_line(&d, "tx[3].rgltry.code=121010"));
    CU_ASSERT(has_line(&d, "tx[3].rgltry.authority_ctry=CN"));
    dump_release(&d);

    dump_init(&d);
    CU_ASSERT_EQUAL(read_dump(tu_src("tests/fixtures/pain/pain001_full_09.xml"),
                              &d, &dg, &e),
                    0);
    CU_ASSERT_EQUAL(dg.n, 0);
    CU_ASSERT(has_line(&d, "hdr.initg_pty.org_bic=ACMEDEFFXXX"));
    CU_ASSERT(has_line(&d, "grp[1].reqd_exctn_dt=2024-03-06"));
    CU_ASSERT(has_line(&d, "grp[1].dbtr_agt.clr_sys=USABA"));
    CU_ASSERT(has_line(&d, "tx[1].uetr=8a562c67-ca16-48ba-b074-65581be6f011"));
    CU_ASSERT(has_line(&d, "tx[1].amt=400050 USD"));
    CU_ASSERT(has_line(&d, "tx[2].amt=1000 JPY"));
    dump_release(&d);
    fmt_diag_release(&dg);
}

/* .10 and .11 share the .09 structure for every field the model has. */
static void test_versions_10_11(void)
{
    size_t len = 0;
    char *doc =
        tu_read_file(tu_src("tests/fixtures/pain/pain001_full_09.xml"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct dump ref;
    struct h2h_err e = {0};
    dump_init(&ref);
    struct fmt_src src = {.buf = doc, .len = len};
    struct fmt_pay_sink s = dump_sink(&ref);
    CU_ASSERT_EQUAL(fmt_pain001_read(&src, &s, NULL, &e), 0);
    fflush(ref.f);
    static const char *vers[] = {"10", "11"};
    for (int i = 0; i < 2; i++) {
        char *p = strstr(doc, "pain.001.001.");
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        memcpy(p + 13, vers[i], 2);
        struct dump d;
        struct fmt_diag dg;
        dump_init(&d);
        fmt_diag_init(&dg, "mem");
        s = dump_sink(&d);
        g_format = NULL;
        CU_ASSERT_EQUAL(fmt_pain001_read(&src, &s, &dg, &e), 0);
        fflush(d.f);
        CU_ASSERT_EQUAL(dg.n, 0);
        CU_ASSERT_STRING_EQUAL(d.buf, ref.buf);
        struct fmt_pay_sink fs = {.begin = fmt_begin};
        CU_ASSERT_EQUAL(fmt_pain001_read(&src, &fs, NULL, &e), 0);
        CU_ASSERT_PTR_NOT_NULL(g_format);
        if (g_format)
            CU_ASSERT_PTR_NOT_NULL(strstr(g_format, vers[i]));
        dump_release(&d);
        fmt_diag_release(&dg);
    }
    dump_release(&ref);
    free(doc);
}

static void test_three_decimals(void)
{
    struct dump d;
    struct fmt_diag dg;
    struct h2h_err e = {0};
    dump_init(&d);
    fmt_diag_init(&dg, "pain001_3dec.xml");
    int rc =
        read_dump(tu_src("tests/fixtures/pain/pain001_3dec.xml"), &d, &dg, &e);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(d.ntx, 1); /* the reader continues */
    CU_ASSERT_EQUAL_FATAL(dg.n, 1);
    CU_ASSERT_EQUAL(dg.v[0].line, 34);
    CU_ASSERT_STRING_EQUAL(dg.v[0].rule, "pain001.amount.invalid");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(dg.v[0].where, "CdtTrfTxInf[1]/Amt/InstdAmt"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dg.v[0].msg, "10.123"));
    dump_release(&d);
    fmt_diag_release(&dg);
}

static void test_not_wellformed(void)
{
    static const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">\n"
        "<CstmrCdtTrfInitn><GrpHdr><MsgId>x</MsgId></GrpHdr>\n"
        "<PmtInf><PmtInfId>a</PmtInfId></Wrong>\n";
    struct fmt_src src = {.buf = doc, .len = sizeof(doc) - 1, .name = "mem"};
    struct h2h_err e = {0};
    struct fmt_diag dg;
    fmt_diag_init(&dg, "mem");
    int rc = fmt_pain001_read(&src, NULL, &dg, &e);
    CU_ASSERT(rc < 0);
    CU_ASSERT(e.msg[0] != '\0');
    fmt_diag_release(&dg);

    static const char dtd[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Document [<!ENTITY x \"y\">]>\n"
        "<Document "
        "xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"/>\n";
    struct fmt_src s2 = {.buf = dtd, .len = sizeof(dtd) - 1};
    h2h_err_clear(&e);
    CU_ASSERT(fmt_pain001_read(&s2, NULL, NULL, &e) < 0);
}

/* A sink that aborts: the reader stops and returns the sink's code. */
static int n_abort;
static int abort_tx(void *ctx, const struct fmt_pay_group *g,
                    const struct fmt_pay_tx *t)
{
    (void)ctx, (void)g, (void)t;
    return ++n_abort == 2 ? H2H_ECANCELED : 0;
}

static void test_sink_abort(void)
{
    struct fmt_src src = {
        .path = tu_src("tests/fixtures/pain/pain001_full_03.xml")};
    struct fmt_pay_sink s = {.tx = abort_tx};
    struct h2h_err e = {0};
    n_abort = 0;
    CU_ASSERT_EQUAL(fmt_pain001_read(&src, &s, NULL, &e), H2H_ECANCELED);
    CU_ASSERT_EQUAL(n_abort, 2);
}

/* Declared totals that do not add up are reported. */
static void test_totals_mismatch(void)
{
    static const char doc[] =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">"
        "<CstmrCdtTrfInitn><GrpHdr><MsgId>M</MsgId>"
        "<CreDtTm>2024-01-01T00:00:00</CreDtTm><NbOfTxs>2</NbOfTxs>"
        "<CtrlSum>5.00</CtrlSum><InitgPty/></GrpHdr>"
        "<PmtInf><PmtInfId>P</PmtInfId><PmtMtd>TRF</PmtMtd>"
        "<ReqdExctnDt>2024-01-02</ReqdExctnDt><Dbtr/>"
        "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>"
        "<DbtrAgt><FinInstnId/></DbtrAgt>"
        "<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId>"
        "<Amt><InstdAmt Ccy=\"EUR\">4.00</InstdAmt></Amt></CdtTrfTxInf>"
        "</PmtInf></CstmrCdtTrfInitn></Document>";
    struct fmt_src src = {.buf = doc, .len = sizeof(doc) - 1};
    struct fmt_diag dg;
    fmt_diag_init(&dg, "mem");
    CU_ASSERT_EQUAL(fmt_pain001_read(&src, NULL, &dg, NULL), 0);
    CU_ASSERT(diag_has_rule(&dg, "pain001.grphdr.nboftxs"));
    CU_ASSERT(diag_has_rule(&dg, "pain001.grphdr.ctrlsum"));
    fmt_diag_release(&dg);
}

/* ---- writer -------------------------------------------------------------- */

static const char *xsd_for(int version)
{
    return tu_corpus(version == 3 ? "xsd/nlsepa__pain.001.001.03.xsd"
                                  : "xsd/sepaxml__pain.001.001.09.xsd");
}

/* Convert in -> out with opts; 0 or the error (message in e). */
static int convert(const char *in, const char *out,
                   const struct fmt_pain001_opts *o, struct h2h_err *e)
{
    FILE *f = fopen(out, "w");
    if (!f)
        return -1;
    struct fmt_pain001_writer *w = fmt_pain001_writer_new(f, o);
    if (!w) {
        fclose(f);
        return -1;
    }
    struct fmt_pay_sink s = fmt_pain001_writer_sink(w);
    struct fmt_src src = {.path = in};
    struct fmt_diag dg;
    fmt_diag_init(&dg, in);
    int rc = fmt_pain001_read(&src, &s, &dg, e);
    int rc2 = fmt_pain001_writer_finish(w, e);
    fmt_pain001_writer_free(w);
    fclose(f);
    fmt_diag_release(&dg);
    return rc2 < 0 ? rc2 : rc;
}

/* Remove every line containing pat from buf, in place. */
static void drop_lines(char *buf, const char *pat)
{
    char *w = buf, *r = buf;
    while (*r) {
        char *e = strchr(r, '\n');
        size_t n = e ? (size_t)(e - r + 1) : strlen(r);
        char *line = strndup(r, n);
        if (!strstr(line, pat)) {
            memmove(w, r, n);
            w += n;
        }
        free(line);
        r += n;
    }
    *w = '\0';
}

/* in -> writer vN -> reader must give back every model field (the dump
 * leaves out only line numbers and the source format). */
static void roundtrip_one(const char *in, int version, int validate)
{
    const char *dir = tu_mkdtemp();
    char out[512];
    snprintf(out, sizeof(out), "%s/out.xml", dir);
    struct fmt_pain001_opts o = {.version = version};
    struct h2h_err e = {0};
    int rc = convert(in, out, &o, &e);
    if (rc)
        fprintf(stderr, "%s -> v%d: %s\n", in, version, e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    struct dump a, b;
    struct fmt_diag dga, dgb;
    dump_init(&a);
    dump_init(&b);
    fmt_diag_init(&dga, in);
    fmt_diag_init(&dgb, out);
    CU_ASSERT_EQUAL(read_dump(in, &a, &dga, &e), 0);
    CU_ASSERT_EQUAL(read_dump(out, &b, &dgb, &e), 0);
    CU_ASSERT_EQUAL(dgb.n, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a.buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.buf);
    if (version == 3)
        drop_lines(a.buf, ".uetr="); /* pain.001.001.03 has no UETR */
    if (strcmp(a.buf, b.buf)) {
        fprintf(stderr,
                "round trip of %s via v%d differs:\n--- in\n%s--- out\n%s", in,
                version, a.buf, b.buf);
    }
    CU_ASSERT_STRING_EQUAL(a.buf, b.buf);
    CU_ASSERT(a.ntx > 0);
    if (validate && tu_corpus_present()) {
        int x = tu_system("xmllint --noout --nonet --schema '%s' '%s' "
                          ">/dev/null 2>&1",
                          xsd_for(version), out);
        if (x)
            tu_system("xmllint --noout --nonet --schema '%s' '%s'",
                      xsd_for(version), out);
        CU_ASSERT_EQUAL(x, 0);
    }
    dump_release(&a);
    dump_release(&b);
    fmt_diag_release(&dga);
    fmt_diag_release(&dgb);
    tu_rmtree(dir);
}

static void test_roundtrip_fixtures(void)
{
    for (int v = 3; v <= 9; v += 6) {
        roundtrip_one(tu_src("tests/fixtures/pain/pain001_full_03.xml"), v, 1);
        roundtrip_one(tu_src("tests/fixtures/pain/pain001_full_09.xml"), v, 1);
    }
}

static void test_roundtrip_corpus(void)
{
    if (!tu_corpus_present())
        return;
    for (size_t i = 0; i < sizeof(corpus_cases) / sizeof(corpus_cases[0]);
         i++) {
        if (!corpus_cases[i].ntx)
            continue;
        char rel[256];
        snprintf(rel, sizeof(rel), "pain001/%s", corpus_cases[i].file);
        roundtrip_one(tu_corpus(rel), 3, 1);
        roundtrip_one(tu_corpus(rel), 9, 1);
    }
}

/* Minimal in-memory batch fed straight into a writer. */
struct batch {
    struct fmt_pay_header h;
    struct fmt_pay_group g;
    struct fmt_pay_tx t;
};

static void batch_init(struct batch *b, const char *cdtr_name, const char *ccy)
{
    memset(b, 0, sizeof(*b));
    fmt_pay_header_init(&b->h);
    fmt_pay_group_init(&b->g);
    fmt_strset(&b->h.msg_id, "MSG-1");
    fmt_strset(&b->h.cre_dt_tm, "2024-03-01T10:00:00");
    b->h.nb_of_txs = 1;
    fmt_strset(&b->h.initg_pty.name, "Acme");
    fmt_strset(&b->g.pmt_inf_id, "PMT-1");
    fmt_strset(&b->g.reqd_exctn_dt, "2024-03-04");
    fmt_strset(&b->g.dbtr.name, "Acme");
    fmt_strset(&b->g.dbtr_acct.iban, "DE89370400440532013000");
    fmt_strset(&b->g.dbtr_agt.bic, "COBADEFFXXX");
    fmt_strset(&b->t.end_to_end_id, "E2E-1");
    b->t.amt.minor = 12345;
    snprintf(b->t.amt.ccy, sizeof(b->t.amt.ccy), "%s", ccy);
    fmt_strset(&b->t.cdtr.name, cdtr_name);
    fmt_strset(&b->t.cdtr_acct.iban, "NL91ABNA0417164300");
    fmt_strset(&b->t.cdtr_agt.bic, "ABNANL2A");
}

static void batch_release(struct batch *b)
{
    fmt_pay_header_release(&b->h);
    fmt_pay_group_release(&b->g);
    fmt_pay_tx_release(&b->t);
}

/* Feed b to a writer with o; returns the first error; output in *out. */
static int write_batch(const struct batch *b, const struct fmt_pain001_opts *o,
                       char **out, struct h2h_err *e)
{
    size_t len;
    FILE *f = open_memstream(out, &len);
    struct fmt_pain001_writer *w = fmt_pain001_writer_new(f, o);
    struct fmt_pay_sink s = fmt_pain001_writer_sink(w);
    int rc = s.begin(s.ctx, &b->h);
    if (rc == 0)
        rc = s.group_begin(s.ctx, &b->g);
    if (rc == 0)
        rc = s.tx(s.ctx, &b->g, &b->t);
    if (rc == 0)
        rc = s.group_end(s.ctx, &b->g);
    if (rc == 0)
        rc = s.end(s.ctx, &b->h);
    int rc2 = fmt_pain001_writer_finish(w, e);
    if (rc == 0)
        rc = rc2;
    else
        CU_ASSERT_EQUAL(rc2, rc); /* finish reports the callback's error */
    fmt_pain001_writer_free(w);
    fclose(f);
    return rc;
}

static int validate_buf(const char *xml, int version)
{
    if (!tu_corpus_present())
        return 0;
    const char *dir = tu_mkdtemp();
    char p[512];
    snprintf(p, sizeof(p), "%s/w.xml", dir);
    tu_write_file(p, xml, strlen(xml));
    int x = tu_system("xmllint --noout --nonet --schema '%s' '%s' >/dev/null "
                      "2>&1",
                      xsd_for(version), p);
    if (x)
        tu_system("xmllint --noout --nonet --schema '%s' '%s'",
                  xsd_for(version), p);
    tu_rmtree(dir);
    return x;
}

static void test_writer_needs_totals(void)
{
    struct batch b;
    batch_init(&b, "Someone", "EUR");
    b.h.nb_of_txs = -1;
    struct fmt_pain001_opts o = {.version = 3};
    char *out = NULL;
    struct h2h_err e = {0};
    int rc = write_batch(&b, &o, &out, &e);
    CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "pre-pass"));
    free(out);
    batch_release(&b);
}

static void test_writer_escape(void)
{
    struct batch b;
    batch_init(&b, "A & B <C> \"D\"", "EUR");
    for (int v = 3; v <= 9; v += 6) {
        struct fmt_pain001_opts o = {.version = v};
        char *out = NULL;
        struct h2h_err e = {0};
        CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "A &amp; B &lt;C&gt;"));
        CU_ASSERT_EQUAL(validate_buf(out, v), 0);
        /* and it reads back to the same name */
        struct dump d;
        dump_init(&d);
        struct fmt_src src = {.buf = out, .len = strlen(out)};
        struct fmt_pay_sink s = dump_sink(&d);
        CU_ASSERT_EQUAL(fmt_pain001_read(&src, &s, NULL, &e), 0);
        fflush(d.f);
        CU_ASSERT(has_line(&d, "tx[1].cdtr.name=A & B <C> \"D\""));
        dump_release(&d);
        free(out);
    }
    batch_release(&b);
}

static void test_writer_sepa(void)
{
    struct batch b;
    batch_init(&b,
               "M\xc3\xbcller Stra\xc3\x9f"
               "e",
               "EUR");
    struct fmt_pain001_opts o = {.version = 9,
                                 .market_practice = FMT_PAIN001_MP_SEPA};
    char *out = NULL;
    struct h2h_err e = {0};
    int rc = write_batch(&b, &o, &out, &e);
    CU_ASSERT_EQUAL(rc, H2H_ECHARSET);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "Cdtr/Nm"));
    free(out);

    o.transliterate = 1;
    out = NULL;
    rc = write_batch(&b, &o, &out, &e);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "<Nm>Muller Strasse</Nm>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "<Cd>SEPA</Cd>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "<ChrgBr>SLEV</ChrgBr>"));
    CU_ASSERT_EQUAL(validate_buf(out, 9), 0);
    free(out);
    batch_release(&b);

    batch_init(&b, "Someone", "CHF");
    out = NULL;
    rc = write_batch(&b, &o, &out, &e);
    CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "EUR only"));
    free(out);
    batch_release(&b);

    batch_init(&b, "Someone", "EUR");
    fmt_strset(&b.g.svc_lvl, "URGP");
    out = NULL;
    CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), H2H_EINVALID);
    free(out);
    batch_release(&b);
}

static void test_writer_cgi(void)
{
    struct batch b;
    batch_init(&b, "Shanghai Parts", "CNY");
    fmt_strset(&b.t.cdtr_agt.bic, NULL);
    fmt_strset(&b.t.cdtr_acct.iban, NULL);
    fmt_strset(&b.t.cdtr_acct.other_id, "6222020200001234567");
    struct fmt_pain001_opts o = {.version = 9,
                                 .market_practice = FMT_PAIN001_MP_CGI};
    char *out = NULL;
    struct h2h_err e = {0};
    CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "CdtrAgt"));
    free(out);

    fmt_strset(&b.t.cdtr_agt.clr_sys, "CNAPS");
    fmt_strset(&b.t.cdtr_agt.clr_mmb_id, "102100099996");
    fmt_strset(&b.t.cdtr.addr.lines[0], "Nanjing Road 100, Shanghai");
    out = NULL;
    CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "structured postal address"));
    free(out);

    fmt_strset(&b.t.cdtr.addr.lines[0], NULL);
    fmt_strset(&b.t.cdtr.addr.town, "Shanghai");
    fmt_strset(&b.t.cdtr.addr.country, "CN");
    for (int v = 3; v <= 9; v += 6) {
        o.version = v;
        out = NULL;
        CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "<Cd>CNAPS</Cd>"));
        CU_ASSERT_EQUAL(validate_buf(out, v), 0);
        free(out);
    }
    batch_release(&b);
}

static void test_writer_rejects_bad_values(void)
{
    struct batch b;
    batch_init(&b, "Someone", "EUR");
    fmt_strset(&b.t.cdtr_agt.bic, "BIC");
    struct fmt_pain001_opts o = {.version = 3};
    char *out = NULL;
    struct h2h_err e = {0};
    CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "CdtrAgt/FinInstnId/BIC"));
    free(out);
    batch_release(&b);

    batch_init(&b, "Someone", "EUR");
    fmt_strset(&b.t.end_to_end_id, "0123456789012345678901234567890123456");
    out = NULL;
    CU_ASSERT_EQUAL(write_batch(&b, &o, &out, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "EndToEndId"));
    free(out);
    batch_release(&b);

    CU_ASSERT_PTR_NULL(fmt_pain001_writer_new(
        stdout, &(struct fmt_pain001_opts){.version = 5}));
    fmt_pain001_writer_free(NULL);
}

/* Memory stays flat: a 50,000-transaction file (about 16 MB) must not grow
 * the peak resident size by more than a few MB (a DOM would need >100 MB). */
static void sample_heap(void);
static int64_t n_flat;
static int flat_tx(void *ctx, const struct fmt_pay_group *g,
                   const struct fmt_pay_tx *t)
{
    (void)ctx, (void)g;
    n_flat++;
    if (n_flat % 1000 == 0)
        sample_heap();
    return t->amt.ccy[0] ? 0 : -1;
}

/* Under ASan, RSS says little (freed blocks sit in a quarantine, shadow
 * memory grows with every page touched): measure the live heap instead,
 * which is what "flat" means, through the sanitizer's allocator. */
#if defined(__SANITIZE_ADDRESS__)
/* from <sanitizer/allocator_interface.h>, which gcc does not install */
size_t __sanitizer_get_current_allocated_bytes(void);
static long live_peak_kb;
static void sample_heap(void)
{
    long kb = (long)(__sanitizer_get_current_allocated_bytes() / 1024);
    if (kb > live_peak_kb)
        live_peak_kb = kb;
}
static long maxrss_kb(void)
{
    sample_heap();
    return live_peak_kb;
}
#else
static void sample_heap(void) {}
static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}
#endif

static void test_memory_flat(void)
{
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof(path), "%s/big.xml", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    const int n = 50000;
    fprintf(
        f,
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\">"
        "<CstmrCdtTrfInitn><GrpHdr><MsgId>B</MsgId>"
        "<CreDtTm>2024-01-01T00:00:00</CreDtTm><NbOfTxs>%d</NbOfTxs>"
        "<InitgPty/></GrpHdr><PmtInf><PmtInfId>P</PmtInfId>"
        "<PmtMtd>TRF</PmtMtd><ReqdExctnDt>2024-01-02</ReqdExctnDt>"
        "<Dbtr/><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
        "</DbtrAcct><DbtrAgt><FinInstnId/></DbtrAgt>\n",
        n);
    for (int i = 0; i < n; i++)
        fprintf(f,
                "<CdtTrfTxInf><PmtId><EndToEndId>E%d</EndToEndId></PmtId>"
                "<Amt><InstdAmt Ccy=\"EUR\">%d.%02d</InstdAmt></Amt>"
                "<Cdtr><Nm>Creditor number %d</Nm></Cdtr><CdtrAcct><Id>"
                "<IBAN>NL91ABNA0417164300</IBAN></Id></CdtrAcct><RmtInf>"
                "<Ustrd>invoice %d of a long series</Ustrd></RmtInf>"
                "</CdtTrfTxInf>\n",
                i, i % 1000, i % 100, i, i);
    fputs("</PmtInf></CstmrCdtTrfInitn></Document>\n", f);
    fclose(f);
    long before = maxrss_kb();
    struct fmt_src src = {.path = path};
    struct fmt_pay_sink s = {.tx = flat_tx};
    struct fmt_diag dg;
    fmt_diag_init(&dg, path);
    n_flat = 0;
    CU_ASSERT_EQUAL(fmt_pain001_read(&src, &s, &dg, NULL), 0);
    CU_ASSERT_EQUAL(n_flat, n);
    CU_ASSERT_EQUAL(dg.n, 0);
    long grown = maxrss_kb() - before;
    if (grown > 8192)
        fprintf(stderr, "peak memory grew by %ld kB\n", grown);
    CU_ASSERT(grown < 8192);
    fmt_diag_release(&dg);
    tu_rmtree(dir);
}

static const struct tu_case cases[] = {
    {"memory stays flat", test_memory_flat},
    {"corpus valid files parse with counts", test_corpus_valid},
    {"corpus version detection", test_corpus_formats},
    {"corpus negative files rejected", test_corpus_negative},
    {"corpus field values", test_corpus_fields},
    {"fixture field values", test_fixture_fields},
    {"versions .10 and .11", test_versions_10_11},
    {"three decimals in EUR", test_three_decimals},
    {"not well-formed and DTD", test_not_wellformed},
    {"sink abort", test_sink_abort},
    {"declared totals mismatch", test_totals_mismatch},
    {"round trip fixtures .03/.09", test_roundtrip_fixtures},
    {"round trip corpus .03/.09", test_roundtrip_corpus},
    {"writer needs totals", test_writer_needs_totals},
    {"writer escapes xml", test_writer_escape},
    {"writer sepa rules", test_writer_sepa},
    {"writer cgi rules", test_writer_cgi},
    {"writer rejects bad values", test_writer_rejects_bad_values},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_pain001", cases);
}
