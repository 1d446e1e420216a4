/* fuzz_touch.c - see fuzz_touch.h. */
#include "fuzz_touch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats_init.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    formats_init();
    return 0;
}

/* Keeps the compiler from dropping reads whose result nobody uses. */
static volatile size_t fuzz_sink_bytes;

void fuzz_fail(const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n*** contract broken by %s: ", what ? what : "?");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    abort();
}

/* Offset of the first byte that is not part of valid UTF-8 (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or -1 when s is valid. */
static long utf8_bad(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return (long)i;
        }
        if (n - i - 1 < k) /* truncated sequence */
            return (long)i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return (long)i;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF)
                return (long)i;
        i += k + 1;
    }
    return -1;
}

static void str(const char *what, const char *field, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s); /* the read ASan watches */
    fuzz_sink_bytes += n;
    long bad = utf8_bad((const unsigned char *)s, n);
    if (bad >= 0)
        fuzz_fail(what, "%s is not UTF-8 at byte %ld", field, bad);
}

/* A fixed char array must hold its terminator. */
static void chars(const char *what, const char *field, const char *a,
                  size_t size)
{
    if (memchr(a, '\0', size) == NULL)
        fuzz_fail(what, "%s is not NUL-terminated within %zu bytes", field,
                  size);
    str(what, field, a);
}

#define S(p, f) str(what, #f, (p)->f)

static void amount(const char *what, const struct fmt_amount *a)
{
    fuzz_sink_bytes += (size_t)a->minor;
    chars(what, "amount.ccy", a->ccy, sizeof(a->ccy));
}

static void postal(const char *what, const struct fmt_postal *p)
{
    S(p, dept);
    S(p, street);
    S(p, building);
    S(p, postcode);
    S(p, town);
    S(p, subdivision);
    S(p, country);
    for (size_t i = 0; i < sizeof(p->lines) / sizeof(p->lines[0]); i++)
        S(p, lines[i]);
}

static void party(const char *what, const struct fmt_party *p)
{
    S(p, name);
    postal(what, &p->addr);
    S(p, org_bic);
    S(p, org_id);
    S(p, org_id_scheme);
    S(p, prvt_id);
    S(p, ctry_of_res);
}

static void account(const char *what, const struct fmt_account *a)
{
    S(a, iban);
    S(a, other_id);
    S(a, other_scheme);
    S(a, ccy);
    S(a, name);
    S(a, type);
}

static void agent(const char *what, const struct fmt_agent *a)
{
    S(a, bic);
    S(a, clr_sys);
    S(a, clr_mmb_id);
    S(a, name);
    postal(what, &a->addr);
    S(a, other_id);
}

static void strd_rmt(const char *what, const struct fmt_strd_rmt *r)
{
    S(r, cdtr_ref);
    S(r, cdtr_ref_type);
    S(r, cdtr_ref_issuer);
    S(r, doc_nb);
    S(r, doc_type);
    S(r, doc_date);
    S(r, addtl_info);
}

static void pay_header(const char *what, const struct fmt_pay_header *h)
{
    S(h, msg_id);
    S(h, cre_dt_tm);
    fuzz_sink_bytes += (size_t)h->nb_of_txs + (size_t)h->ctrl_sum_milli;
    party(what, &h->initg_pty);
    S(h, source_format);
}

static void pay_group(const char *what, const struct fmt_pay_group *g)
{
    S(g, pmt_inf_id);
    S(g, pmt_mtd);
    fuzz_sink_bytes += (size_t)g->nb_of_txs + (size_t)g->ctrl_sum_milli +
                       (size_t)g->batch_booking + (size_t)g->line;
    S(g, instr_prty);
    S(g, svc_lvl);
    S(g, lcl_instrm);
    S(g, ctgy_purp);
    S(g, reqd_exctn_dt);
    party(what, &g->dbtr);
    account(what, &g->dbtr_acct);
    agent(what, &g->dbtr_agt);
    party(what, &g->ult_dbtr);
    S(g, chrg_br);
}

static void pay_tx(const char *what, const struct fmt_pay_tx *t)
{
    S(t, instr_id);
    S(t, end_to_end_id);
    S(t, uetr);
    amount(what, &t->amt);
    S(t, chrg_br);
    agent(what, &t->cdtr_agt);
    party(what, &t->cdtr);
    account(what, &t->cdtr_acct);
    party(what, &t->ult_cdtr);
    S(t, purp);
    S(t, rmt_ustrd);
    strd_rmt(what, &t->rmt_strd);
    S(&t->rgltry, code);
    S(&t->rgltry, info);
    S(&t->rgltry, authority_ctry);
    S(t, instr_for_dbtr_agt);
    fuzz_sink_bytes += (size_t)t->line;
}

static void reasons(const char *what, const struct fmt_reason *v, size_t n)
{
    if (n && !v)
        fuzz_fail(what, "%zu reasons but no array", n);
    for (size_t i = 0; i < n; i++) {
        S(&v[i], code);
        S(&v[i], prtry);
        S(&v[i], addtl_info);
    }
}

static void stmt_doc(const char *what, const struct fmt_stmt_doc *d)
{
    fuzz_sink_bytes += (size_t)d->kind;
    S(d, msg_id);
    S(d, cre_dt_tm);
    S(d, msg_rcpt);
    S(d, source_format);
}

static void stmt(const char *what, const struct fmt_stmt *s)
{
    S(s, id);
    S(s, elctrnc_seq_nb);
    S(s, lgl_seq_nb);
    S(s, page_nb);
    S(s, cre_dt_tm);
    S(s, fr_dt_tm);
    S(s, to_dt_tm);
    S(s, related_ref);
    account(what, &s->acct);
    agent(what, &s->svcr);
    party(what, &s->owner);
    if (s->n_bals && !s->bals)
        fuzz_fail(what, "%zu balances but no array", s->n_bals);
    for (size_t i = 0; i < s->n_bals; i++) {
        const struct fmt_balance *b = &s->bals[i];
        chars(what, "balance.type", b->type, sizeof(b->type));
        S(b, sub_type);
        amount(what, &b->amt);
        S(b, date);
    }
    fuzz_sink_bytes += (size_t)s->has_summary + (size_t)s->n_credits +
                       (size_t)s->n_debits + (size_t)s->line;
    amount(what, &s->sum_credits);
    amount(what, &s->sum_debits);
    S(s, addtl_stmt_inf);
}

static void entry_dtl(const char *what, const struct fmt_entry_dtl *d)
{
    S(d, msg_id);
    S(d, acct_svcr_ref);
    S(d, pmt_inf_id);
    S(d, instr_id);
    S(d, end_to_end_id);
    S(d, uetr);
    S(d, tx_id);
    S(d, mndt_id);
    S(d, chq_nb);
    S(d, clr_sys_ref);
    amount(what, &d->amt);
    party(what, &d->cpty);
    account(what, &d->cpty_acct);
    agent(what, &d->cpty_agt);
    party(what, &d->ult_cpty);
    S(d, purp);
    S(d, rmt_ustrd);
    strd_rmt(what, &d->rmt_strd);
    S(d, rtr_rsn);
    S(d, addtl_tx_inf);
    S(d, bk_tx_cd_prtry);
}

static void entry(const char *what, const struct fmt_entry *e)
{
    S(e, ntry_ref);
    amount(what, &e->amt);
    fuzz_sink_bytes +=
        (size_t)e->credit + (size_t)e->reversal + (size_t)e->line;
    S(e, sts);
    S(e, book_dt);
    S(e, val_dt);
    S(e, acct_svcr_ref);
    S(e, bk_tx_domain);
    S(e, bk_tx_family);
    S(e, bk_tx_subfamily);
    S(e, bk_tx_prtry);
    S(e, bk_tx_prtry_issuer);
    S(e, cust_ref);
    S(e, addtl_ntry_inf);
    if (e->n_dtls && !e->dtls)
        fuzz_fail(what, "%zu details but no array", e->n_dtls);
    for (size_t i = 0; i < e->n_dtls; i++)
        entry_dtl(what, &e->dtls[i]);
}

void fuzz_touch_status(const struct fmt_status_report *r)
{
    const char *what = "status report";
    S(r, msg_id);
    S(r, cre_dt_tm);
    party(what, &r->initg_pty);
    S(r, orgnl_msg_id);
    S(r, orgnl_msg_nm_id);
    S(r, grp_sts);
    S(r, source_format);
    fuzz_sink_bytes += (size_t)r->orgnl_nb_of_txs;
    reasons(what, r->reasons, r->n_reasons);
    if (r->n_pmts && !r->pmts)
        fuzz_fail(what, "%zu payments but no array", r->n_pmts);
    for (size_t i = 0; i < r->n_pmts; i++) {
        const struct fmt_pmt_status *p = &r->pmts[i];
        S(p, orgnl_pmt_inf_id);
        S(p, sts);
        reasons(what, p->reasons, p->n_reasons);
        if (p->n_txs && !p->txs)
            fuzz_fail(what, "%zu transactions but no array", p->n_txs);
        for (size_t j = 0; j < p->n_txs; j++) {
            const struct fmt_tx_status *t = &p->txs[j];
            S(t, sts_id);
            S(t, orgnl_instr_id);
            S(t, orgnl_end_to_end_id);
            S(t, orgnl_uetr);
            S(t, sts);
            reasons(what, t->reasons, t->n_reasons);
            amount(what, &t->amt);
        }
    }
}

void fuzz_touch_diag(const struct fmt_diag *d)
{
    if (!d)
        return;
    if (d->n > d->cap || (d->n && !d->v))
        fuzz_fail("diag", "n %zu cap %zu", d->n, d->cap);
    for (size_t i = 0; i < d->n; i++) {
        const struct fmt_problem *p = &d->v[i];
        /* Messages may quote input, which need not be UTF-8: only read. */
        fuzz_sink_bytes += (size_t)p->line;
        if (p->where)
            fuzz_sink_bytes += strlen(p->where);
        if (p->rule)
            fuzz_sink_bytes += strlen(p->rule);
        if (p->msg)
            fuzz_sink_bytes += strlen(p->msg);
    }
    char *all = fmt_diag_join(d);
    if (all)
        fuzz_sink_bytes += strlen(all);
    free(all);
}

void fuzz_touch_err(int rc, const struct h2h_err *err)
{
    if (memchr(err->msg, '\0', sizeof(err->msg)) == NULL)
        fuzz_fail("h2h_err", "message not NUL-terminated");
    fuzz_sink_bytes += strlen(err->msg);
    if (rc < 0 && (err->code == 0 || err->msg[0] == '\0'))
        fuzz_fail("h2h_err", "reader returned %d without filling err", rc);
}

/* ---- sinks ------------------------------------------------------------- */

enum { ST_INIT, ST_OPEN, ST_INNER, ST_END };

static int event(struct fuzz_run *r, const char *name, int from, int to)
{
    if (r->aborted)
        fuzz_fail(r->what, "%s() after the sink aborted the read", name);
    if (r->state != from)
        fuzz_fail(r->what, "%s() out of order (state %d, event %lu)", name,
                  r->state, r->events + 1);
    r->state = to;
    r->events++;
    if (r->abort_at && r->events == r->abort_at) {
        r->aborted = 1;
        return FUZZ_ABORT_CODE;
    }
    return 0;
}

void fuzz_run_init(struct fuzz_run *run, const char *what, const uint8_t *data,
                   size_t size)
{
    memset(run, 0, sizeof(*run));
    run->what = what;
    /* FNV-1a over the input: one input in four aborts, at event 1..8. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    h ^= size;
    if ((h & 3) == 0)
        run->abort_at = 1 + (unsigned long)((h >> 2) % 8);
}

static int p_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct fuzz_run *r = ctx;
    pay_header(r->what, h);
    return event(r, "begin", ST_INIT, ST_OPEN);
}

static int p_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct fuzz_run *r = ctx;
    pay_group(r->what, g);
    return event(r, "group_begin", ST_OPEN, ST_INNER);
}

static int p_tx(void *ctx, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    struct fuzz_run *r = ctx;
    pay_group(r->what, g);
    pay_tx(r->what, t);
    return event(r, "tx", ST_INNER, ST_INNER);
}

static int p_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct fuzz_run *r = ctx;
    pay_group(r->what, g);
    return event(r, "group_end", ST_INNER, ST_OPEN);
}

static int p_end(void *ctx, const struct fmt_pay_header *h)
{
    struct fuzz_run *r = ctx;
    pay_header(r->what, h);
    return event(r, "end", ST_OPEN, ST_END);
}

struct fmt_pay_sink fuzz_pay_sink(struct fuzz_run *run)
{
    struct fmt_pay_sink s = {p_begin,     p_group_begin, p_tx,
                             p_group_end, p_end,         run};
    return s;
}

static int s_begin(void *ctx, const struct fmt_stmt_doc *d)
{
    struct fuzz_run *r = ctx;
    stmt_doc(r->what, d);
    return event(r, "begin", ST_INIT, ST_OPEN);
}

static int s_stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct fuzz_run *r = ctx;
    stmt(r->what, st);
    return event(r, "stmt_begin", ST_OPEN, ST_INNER);
}

static int s_entry(void *ctx, const struct fmt_stmt *st,
                   const struct fmt_entry *e)
{
    struct fuzz_run *r = ctx;
    stmt(r->what, st);
    entry(r->what, e);
    return event(r, "entry", ST_INNER, ST_INNER);
}

static int s_stmt_end(void *ctx, const struct fmt_stmt *st)
{
    struct fuzz_run *r = ctx;
    stmt(r->what, st);
    return event(r, "stmt_end", ST_INNER, ST_OPEN);
}

static int s_end(void *ctx, const struct fmt_stmt_doc *d)
{
    struct fuzz_run *r = ctx;
    stmt_doc(r->what, d);
    return event(r, "end", ST_OPEN, ST_END);
}

struct fmt_stmt_sink fuzz_stmt_sink(struct fuzz_run *run)
{
    struct fmt_stmt_sink s = {s_begin,    s_stmt_begin, s_entry,
                              s_stmt_end, s_end,        run};
    return s;
}

void fuzz_run_done(struct fuzz_run *run, int rc, const struct h2h_err *err,
                   const struct fmt_diag *diag)
{
    fuzz_touch_diag(diag);
    if (run->aborted) {
        if (rc != FUZZ_ABORT_CODE)
            fuzz_fail(run->what,
                      "sink aborted with %d at event %lu, reader returned %d",
                      FUZZ_ABORT_CODE, run->events, rc);
        fuzz_touch_err(0, err);
        return;
    }
    fuzz_touch_err(rc, err);
    if (rc == 0 && run->state != ST_INIT && run->state != ST_END)
        fuzz_fail(run->what, "returned 0 after %lu events without end()",
                  run->events);
    if (rc > 0)
        fuzz_fail(run->what, "returned %d, not 0 or negative", rc);
}

struct fmt_src fuzz_src(const uint8_t *data, size_t size, const char *charset)
{
    struct fmt_src src;
    memset(&src, 0, sizeof(src));
    /* libFuzzer hands a non-NULL pointer even for an empty input. */
    src.buf = (const char *)data;
    src.len = size;
    src.name = "fuzz-input";
    src.charset = charset;
    return src;
}
