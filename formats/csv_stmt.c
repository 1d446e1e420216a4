/*
 * csv_stmt.c - statement -> CSV writer sink; see csv_stmt.h and CSV.md.
 *
 * Rows are written as entries arrive, so memory does not grow with the
 * statement.  Cells made of several details are built in one scratch
 * buffer reused for every cell.
 */
#include "csv_stmt.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"

static const char *const columns[] = {
    "account",
    "account_currency",
    "statement_id",
    "booking_date",
    "value_date",
    "credit_debit",
    "reversal",
    "amount",
    "currency",
    "status",
    "bank_reference",
    "customer_reference",
    "bank_transaction_code",
    "end_to_end_id",
    "counterparty_name",
    "counterparty_account",
    "counterparty_agent",
    "remittance",
    "additional_info",
};

enum wstate { W_INIT, W_DOC, W_STMT, W_DONE };

struct fmt_csv_stmt_writer {
    FILE *f;
    struct fmt_csv_stmt_opts o;
    enum wstate st;
    struct h2h_err err;
    char *buf; /* scratch for joined cells */
    size_t len, cap;
};

struct fmt_csv_stmt_writer *
fmt_csv_stmt_writer_new(FILE *out, const struct fmt_csv_stmt_opts *opts)
{
    if (!out)
        return NULL;
    struct fmt_csv_stmt_opts o = {',', 0, 0};
    if (opts) {
        o = *opts;
        if (!o.sep)
            o.sep = ',';
    }
    if (o.sep != ',' && o.sep != ';')
        return NULL;
    struct fmt_csv_stmt_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->f = out;
    w->o = o;
    return w;
}

void fmt_csv_stmt_writer_free(struct fmt_csv_stmt_writer *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}

static int fail(struct fmt_csv_stmt_writer *w, int code, const char *msg)
{
    if (w->err.code == 0)
        h2h_err_set(&w->err, code, "%s", msg);
    return w->err.code;
}

static int state(struct fmt_csv_stmt_writer *w, enum wstate want,
                 const char *event)
{
    if (w->err.code)
        return w->err.code;
    if (w->st != want) {
        char m[96];
        snprintf(m, sizeof(m), "csv statement writer: %s out of order", event);
        return fail(w, H2H_ESTATE, m);
    }
    return 0;
}

/* ---- cells -------------------------------------------------------------- */

static void cell(struct fmt_csv_stmt_writer *w, int first, const char *s)
{
    FILE *f = w->f;
    if (!first)
        putc(w->o.sep, f);
    if (!s || !*s)
        return;
    size_t n = strlen(s);
    int quote = s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
                s[n - 1] == '\t' || strpbrk(s, "\"\r\n") || strchr(s, w->o.sep);
    int guard = w->o.excel_safe &&
                (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
    if (guard)
        quote = 1;
    if (!quote) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    if (guard)
        putc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}

static int sb_add(struct fmt_csv_stmt_writer *w, const char *s)
{
    size_t n = strlen(s);
    if (w->len + n + 1 > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        while (nc < w->len + n + 1)
            nc *= 2;
        char *nb = realloc(w->buf, nc);
        if (!nb)
            return fail(w, H2H_ENOMEM, "out of memory");
        w->buf = nb;
        w->cap = nc;
    }
    memcpy(w->buf + w->len, s, n + 1);
    w->len += n;
    return 0;
}

typedef const char *(*dtl_fn)(const struct fmt_entry_dtl *d, char *tmp,
                              size_t sz);

/* A detail column: the values of all details joined with " | ", or "" if
 * none has one. */
static int dtl_cell(struct fmt_csv_stmt_writer *w, const struct fmt_entry *e,
                    dtl_fn fn)
{
    char tmp[160];
    int any = 0, rc;
    w->len = 0;
    if ((rc = sb_add(w, "")) < 0)
        return rc;
    for (size_t i = 0; i < e->n_dtls; i++) {
        const char *v = fn(&e->dtls[i], tmp, sizeof(tmp));
        if (v && *v)
            any = 1;
        if (i > 0 && (rc = sb_add(w, " | ")) < 0)
            return rc;
        if ((rc = sb_add(w, v ? v : "")) < 0)
            return rc;
    }
    cell(w, 0, any ? w->buf : NULL);
    return 0;
}

static const char *d_e2e(const struct fmt_entry_dtl *d, char *t, size_t n)
{
    (void)t;
    (void)n;
    return d->end_to_end_id;
}

static const char *d_name(const struct fmt_entry_dtl *d, char *t, size_t n)
{
    (void)t;
    (void)n;
    return d->cpty.name;
}

static const char *d_acct(const struct fmt_entry_dtl *d, char *t, size_t n)
{
    (void)t;
    (void)n;
    return d->cpty_acct.iban ? d->cpty_acct.iban : d->cpty_acct.other_id;
}

static const char *agent(const struct fmt_agent *a, char *t, size_t n)
{
    if (a->bic)
        return a->bic;
    if (a->clr_mmb_id) {
        snprintf(t, n, "%s/%s", a->clr_sys ? a->clr_sys : "", a->clr_mmb_id);
        return t;
    }
    return a->name;
}

static const char *d_agent(const struct fmt_entry_dtl *d, char *t, size_t n)
{
    return agent(&d->cpty_agt, t, n);
}

static const char *d_rmt(const struct fmt_entry_dtl *d, char *t, size_t n)
{
    (void)t;
    (void)n;
    if (d->rmt_ustrd)
        return d->rmt_ustrd;
    if (d->rmt_strd.cdtr_ref)
        return d->rmt_strd.cdtr_ref;
    return d->rmt_strd.doc_nb;
}

/* ---- sink --------------------------------------------------------------- */

static int s_begin(void *ctx, const struct fmt_stmt_doc *d)
{
    struct fmt_csv_stmt_writer *w = ctx;
    (void)d;
    int rc = state(w, W_INIT, "begin");
    if (rc < 0)
        return rc;
    if (w->o.bom)
        fputs("\xEF\xBB\xBF", w->f);
    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
        cell(w, i == 0, columns[i]);
    fputs("\r\n", w->f);
    w->st = W_DOC;
    return 0;
}

static int s_stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_csv_stmt_writer *w = ctx;
    (void)st;
    int rc = state(w, W_DOC, "stmt_begin");
    if (rc < 0)
        return rc;
    w->st = W_STMT;
    return 0;
}

static int s_entry(void *ctx, const struct fmt_stmt *st,
                   const struct fmt_entry *e)
{
    struct fmt_csv_stmt_writer *w = ctx;
    int rc = state(w, W_STMT, "entry");
    char amt[48] = "", btc[200] = "";
    if (rc < 0)
        return rc;
    if (e->amt.ccy[0]) {
        /* an unknown code keeps 2 decimals, as everywhere in h2hd */
        if (fmt_amount_format(e->amt.minor, e->amt.ccy, '.', amt, sizeof(amt)) <
            0)
            fmt_milli_format(e->amt.minor * 10, amt, sizeof(amt));
    }
    if (e->bk_tx_domain || e->bk_tx_family || e->bk_tx_subfamily)
        snprintf(btc, sizeof(btc), "%s/%s/%s",
                 e->bk_tx_domain ? e->bk_tx_domain : "",
                 e->bk_tx_family ? e->bk_tx_family : "",
                 e->bk_tx_subfamily ? e->bk_tx_subfamily : "");
    else if (e->bk_tx_prtry)
        snprintf(btc, sizeof(btc), "%s", e->bk_tx_prtry);
    cell(w, 1, st->acct.iban ? st->acct.iban : st->acct.other_id);
    cell(w, 0, st->acct.ccy);
    cell(w, 0, st->id);
    cell(w, 0, e->book_dt);
    cell(w, 0, e->val_dt);
    cell(w, 0, e->credit ? "CRDT" : "DBIT");
    cell(w, 0, e->reversal ? "Y" : NULL);
    cell(w, 0, amt);
    cell(w, 0, e->amt.ccy);
    cell(w, 0, e->sts);
    cell(w, 0, e->acct_svcr_ref);
    cell(w, 0, e->cust_ref);
    cell(w, 0, btc);
    if ((rc = dtl_cell(w, e, d_e2e)) < 0 || (rc = dtl_cell(w, e, d_name)) < 0 ||
        (rc = dtl_cell(w, e, d_acct)) < 0 ||
        (rc = dtl_cell(w, e, d_agent)) < 0 || (rc = dtl_cell(w, e, d_rmt)) < 0)
        return rc;
    cell(w, 0, e->addtl_ntry_inf);
    fputs("\r\n", w->f);
    return 0;
}

static int s_stmt_end(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_csv_stmt_writer *w = ctx;
    (void)st;
    int rc = state(w, W_STMT, "stmt_end");
    if (rc < 0)
        return rc;
    w->st = W_DOC;
    return 0;
}

static int s_end(void *ctx, const struct fmt_stmt_doc *d)
{
    struct fmt_csv_stmt_writer *w = ctx;
    (void)d;
    int rc = state(w, W_DOC, "end");
    if (rc < 0)
        return rc;
    w->st = W_DONE;
    return 0;
}

struct fmt_stmt_sink fmt_csv_stmt_sink(struct fmt_csv_stmt_writer *w)
{
    struct fmt_stmt_sink s = {s_begin,    s_stmt_begin, s_entry,
                              s_stmt_end, s_end,        w};
    return s;
}

int fmt_csv_stmt_writer_finish(struct fmt_csv_stmt_writer *w,
                               struct h2h_err *err)
{
    if (!w)
        return h2h_err_set(err, H2H_EINVALID, "no writer");
    if (w->err.code) {
        if (err)
            *err = w->err;
        return w->err.code;
    }
    if (w->st != W_DONE)
        return h2h_err_set(err, H2H_ESTATE,
                           "csv statement document not complete (end() not "
                           "called)");
    if (fflush(w->f) != 0 || ferror(w->f))
        return h2h_err_set(err, H2H_EIO, "writing the csv statement failed");
    return 0;
}
