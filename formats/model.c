/*
 * model.c - lifecycle helpers of the canonical model and the diagnostics
 * collector; see model.h.
 *
 * Release functions free what the struct owns and leave a zeroed struct
 * behind (with the "absent" markers of _init where a struct has them), so
 * a struct can be released twice or reused for the next record.
 */
#include "model.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FREE_NULL(p)                                                           \
    do {                                                                       \
        free(p);                                                               \
        (p) = NULL;                                                            \
    } while (0)

int fmt_strset(char **dst, const char *src)
{
    char *c = NULL;
    if (src) {
        c = strdup(src);
        if (!c)
            return H2H_ENOMEM;
    }
    free(*dst);
    *dst = c;
    return 0;
}

int fmt_strnset(char **dst, const char *src, size_t len)
{
    char *c = NULL;
    if (src) {
        c = malloc(len + 1);
        if (!c)
            return H2H_ENOMEM;
        memcpy(c, src, len);
        c[len] = '\0';
    }
    free(*dst);
    *dst = c;
    return 0;
}

/* ---- release ----------------------------------------------------------- */

void fmt_postal_release(struct fmt_postal *p)
{
    if (!p)
        return;
    free(p->dept);
    free(p->street);
    free(p->building);
    free(p->postcode);
    free(p->town);
    free(p->subdivision);
    free(p->country);
    for (size_t i = 0; i < sizeof(p->lines) / sizeof(p->lines[0]); i++)
        free(p->lines[i]);
    memset(p, 0, sizeof(*p));
}

void fmt_party_release(struct fmt_party *p)
{
    if (!p)
        return;
    free(p->name);
    fmt_postal_release(&p->addr);
    free(p->org_bic);
    free(p->org_id);
    free(p->org_id_scheme);
    free(p->prvt_id);
    free(p->ctry_of_res);
    memset(p, 0, sizeof(*p));
}

void fmt_account_release(struct fmt_account *a)
{
    if (!a)
        return;
    free(a->iban);
    free(a->other_id);
    free(a->other_scheme);
    free(a->ccy);
    free(a->name);
    free(a->type);
    memset(a, 0, sizeof(*a));
}

void fmt_agent_release(struct fmt_agent *a)
{
    if (!a)
        return;
    free(a->bic);
    free(a->clr_sys);
    free(a->clr_mmb_id);
    free(a->name);
    fmt_postal_release(&a->addr);
    free(a->other_id);
    memset(a, 0, sizeof(*a));
}

void fmt_strd_rmt_release(struct fmt_strd_rmt *r)
{
    if (!r)
        return;
    free(r->cdtr_ref);
    free(r->cdtr_ref_type);
    free(r->cdtr_ref_issuer);
    free(r->doc_nb);
    free(r->doc_type);
    free(r->doc_date);
    free(r->addtl_info);
    memset(r, 0, sizeof(*r));
}

void fmt_rgltry_release(struct fmt_rgltry *r)
{
    if (!r)
        return;
    free(r->code);
    free(r->info);
    free(r->authority_ctry);
    memset(r, 0, sizeof(*r));
}

void fmt_pay_header_init(struct fmt_pay_header *h)
{
    if (!h)
        return;
    memset(h, 0, sizeof(*h));
    h->nb_of_txs = -1;
}

void fmt_pay_header_release(struct fmt_pay_header *h)
{
    if (!h)
        return;
    free(h->msg_id);
    free(h->cre_dt_tm);
    fmt_party_release(&h->initg_pty);
    /* source_format is a static string: kept, as the reader set it. */
    const char *sf = h->source_format;
    fmt_pay_header_init(h);
    h->source_format = sf;
}

void fmt_pay_group_init(struct fmt_pay_group *g)
{
    if (!g)
        return;
    memset(g, 0, sizeof(*g));
    g->batch_booking = -1;
    g->nb_of_txs = -1;
}

void fmt_pay_group_release(struct fmt_pay_group *g)
{
    if (!g)
        return;
    free(g->pmt_inf_id);
    free(g->pmt_mtd);
    free(g->instr_prty);
    free(g->svc_lvl);
    free(g->lcl_instrm);
    free(g->ctgy_purp);
    free(g->reqd_exctn_dt);
    fmt_party_release(&g->dbtr);
    fmt_account_release(&g->dbtr_acct);
    fmt_agent_release(&g->dbtr_agt);
    fmt_party_release(&g->ult_dbtr);
    free(g->chrg_br);
    fmt_pay_group_init(g);
}

void fmt_pay_tx_release(struct fmt_pay_tx *t)
{
    if (!t)
        return;
    free(t->instr_id);
    free(t->end_to_end_id);
    free(t->uetr);
    free(t->chrg_br);
    fmt_agent_release(&t->cdtr_agt);
    fmt_party_release(&t->cdtr);
    fmt_account_release(&t->cdtr_acct);
    fmt_party_release(&t->ult_cdtr);
    free(t->purp);
    free(t->rmt_ustrd);
    fmt_strd_rmt_release(&t->rmt_strd);
    fmt_rgltry_release(&t->rgltry);
    free(t->instr_for_dbtr_agt);
    memset(t, 0, sizeof(*t));
}

void fmt_reason_release(struct fmt_reason *r)
{
    if (!r)
        return;
    free(r->code);
    free(r->prtry);
    free(r->addtl_info);
    memset(r, 0, sizeof(*r));
}

static void reasons_free(struct fmt_reason *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        fmt_reason_release(&v[i]);
    free(v);
}

static void tx_status_release(struct fmt_tx_status *t)
{
    free(t->sts_id);
    free(t->orgnl_instr_id);
    free(t->orgnl_end_to_end_id);
    free(t->orgnl_uetr);
    free(t->sts);
    reasons_free(t->reasons, t->n_reasons);
    memset(t, 0, sizeof(*t));
}

static void pmt_status_release(struct fmt_pmt_status *p)
{
    free(p->orgnl_pmt_inf_id);
    free(p->sts);
    reasons_free(p->reasons, p->n_reasons);
    if (p->txs) {
        for (size_t i = 0; i < p->n_txs; i++)
            tx_status_release(&p->txs[i]);
        free(p->txs);
    }
    memset(p, 0, sizeof(*p));
}

void fmt_status_report_init(struct fmt_status_report *r)
{
    if (!r)
        return;
    memset(r, 0, sizeof(*r));
    r->orgnl_nb_of_txs = -1;
}

void fmt_status_report_release(struct fmt_status_report *r)
{
    if (!r)
        return;
    free(r->msg_id);
    free(r->cre_dt_tm);
    fmt_party_release(&r->initg_pty);
    free(r->orgnl_msg_id);
    free(r->orgnl_msg_nm_id);
    free(r->grp_sts);
    reasons_free(r->reasons, r->n_reasons);
    if (r->pmts) {
        for (size_t i = 0; i < r->n_pmts; i++)
            pmt_status_release(&r->pmts[i]);
        free(r->pmts);
    }
    const char *sf = r->source_format;
    fmt_status_report_init(r);
    r->source_format = sf;
}

void fmt_entry_dtl_release(struct fmt_entry_dtl *d)
{
    if (!d)
        return;
    free(d->msg_id);
    free(d->acct_svcr_ref);
    free(d->pmt_inf_id);
    free(d->instr_id);
    free(d->end_to_end_id);
    free(d->uetr);
    free(d->tx_id);
    free(d->mndt_id);
    free(d->chq_nb);
    free(d->clr_sys_ref);
    fmt_party_release(&d->cpty);
    fmt_account_release(&d->cpty_acct);
    fmt_agent_release(&d->cpty_agt);
    fmt_party_release(&d->ult_cpty);
    free(d->purp);
    free(d->rmt_ustrd);
    fmt_strd_rmt_release(&d->rmt_strd);
    free(d->rtr_rsn);
    free(d->addtl_tx_inf);
    free(d->bk_tx_cd_prtry);
    memset(d, 0, sizeof(*d));
}

void fmt_entry_release(struct fmt_entry *e)
{
    if (!e)
        return;
    free(e->ntry_ref);
    free(e->sts);
    free(e->book_dt);
    free(e->val_dt);
    free(e->acct_svcr_ref);
    free(e->bk_tx_domain);
    free(e->bk_tx_family);
    free(e->bk_tx_subfamily);
    free(e->bk_tx_prtry);
    free(e->bk_tx_prtry_issuer);
    free(e->cust_ref);
    free(e->addtl_ntry_inf);
    if (e->dtls) {
        for (size_t i = 0; i < e->n_dtls; i++)
            fmt_entry_dtl_release(&e->dtls[i]);
        free(e->dtls);
    }
    memset(e, 0, sizeof(*e));
}

void fmt_stmt_release(struct fmt_stmt *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->elctrnc_seq_nb);
    free(s->lgl_seq_nb);
    free(s->page_nb);
    free(s->cre_dt_tm);
    free(s->fr_dt_tm);
    free(s->to_dt_tm);
    free(s->related_ref);
    fmt_account_release(&s->acct);
    fmt_agent_release(&s->svcr);
    fmt_party_release(&s->owner);
    if (s->bals) {
        for (size_t i = 0; i < s->n_bals; i++) {
            free(s->bals[i].sub_type);
            free(s->bals[i].date);
        }
        free(s->bals);
    }
    free(s->addtl_stmt_inf);
    memset(s, 0, sizeof(*s));
}

void fmt_stmt_doc_release(struct fmt_stmt_doc *d)
{
    if (!d)
        return;
    free(d->msg_id);
    free(d->cre_dt_tm);
    free(d->msg_rcpt);
    enum fmt_stmt_kind k = d->kind;
    const char *sf = d->source_format;
    memset(d, 0, sizeof(*d));
    d->kind = k;
    d->source_format = sf;
}

/* ---- diagnostics ------------------------------------------------------- */

#define DIAG_DEFAULT_MAX 1000

void fmt_diag_init(struct fmt_diag *d, const char *file)
{
    if (!d)
        return;
    memset(d, 0, sizeof(*d));
    d->file = file;
}

void fmt_diag_release(struct fmt_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].where);
        free(d->v[i].rule);
        free(d->v[i].msg);
    }
    free(d->v);
    const char *file = d->file;
    size_t max = d->max;
    memset(d, 0, sizeof(*d));
    d->file = file;
    d->max = max;
}

static char *xstrdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void fmt_diag_add(struct fmt_diag *d, int line, const char *where,
                  const char *rule, const char *fmt, ...)
{
    if (!d)
        return;
    size_t max = d->max ? d->max : DIAG_DEFAULT_MAX;
    if (d->n >= max) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 16;
        if (nc > max)
            nc = max;
        struct fmt_problem *nv = realloc(d->v, nc * sizeof(*nv));
        if (!nv) {
            /* Out of memory: count the problem so that the file is still
             * rejected (callers look at n + dropped), just without words. */
            d->dropped++;
            return;
        }
        d->v = nv;
        d->cap = nc;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    struct fmt_problem *p = &d->v[d->n];
    p->line = line;
    p->where = xstrdup_or_null(where);
    p->rule = xstrdup_or_null(rule);
    p->msg = strdup(buf);
    if ((where && !p->where) || (rule && !p->rule) || !p->msg) {
        free(p->where);
        free(p->rule);
        free(p->msg);
        d->dropped++;
        return;
    }
    d->n++;
}

/* One problem as "file:line: where: msg [rule]"; parts that are absent
 * are left out rather than printed as "(null)". */
static int problem_fmt(const struct fmt_diag *d, const struct fmt_problem *p,
                       char *buf, size_t sz)
{
    const char *file = d->file ? d->file : "<input>";
    char lbuf[24] = "";
    if (p->line > 0)
        snprintf(lbuf, sizeof(lbuf), ":%d", p->line);
    return snprintf(buf, sz, "%s%s: %s%s%s%s%s%s", file, lbuf,
                    p->where ? p->where : "", p->where ? ": " : "",
                    p->msg ? p->msg : "", p->rule ? " [" : "",
                    p->rule ? p->rule : "", p->rule ? "]" : "");
}

static int dropped_fmt(const struct fmt_diag *d, char *buf, size_t sz)
{
    return snprintf(buf, sz, "%s: %zu more problems not shown [diag.max]",
                    d->file ? d->file : "<input>", d->dropped);
}

void fmt_diag_print(const struct fmt_diag *d, FILE *f)
{
    if (!d || !f)
        return;
    char buf[4096];
    for (size_t i = 0; i < d->n; i++) {
        problem_fmt(d, &d->v[i], buf, sizeof(buf));
        fprintf(f, "%s\n", buf);
    }
    if (d->dropped) {
        dropped_fmt(d, buf, sizeof(buf));
        fprintf(f, "%s\n", buf);
    }
}

char *fmt_diag_join(const struct fmt_diag *d)
{
    if (!d)
        return strdup("");
    size_t total = 1;
    for (size_t i = 0; i < d->n; i++) {
        int k = problem_fmt(d, &d->v[i], NULL, 0);
        total += (size_t)(k > 0 ? k : 0) + 1;
    }
    if (d->dropped) {
        int k = dropped_fmt(d, NULL, 0);
        total += (size_t)(k > 0 ? k : 0) + 1;
    }
    char *out = malloc(total);
    if (!out)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < d->n; i++) {
        int k = problem_fmt(d, &d->v[i], out + off, total - off);
        if (k < 0)
            continue;
        off += (size_t)k;
        out[off++] = '\n';
    }
    if (d->dropped) {
        int k = dropped_fmt(d, out + off, total - off);
        if (k > 0)
            off += (size_t)k;
        out[off++] = '\n';
    }
    out[off] = '\0';
    return out;
}
