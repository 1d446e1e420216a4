/*
 * cx_stmt.c - account statements and electronic receipts (电子回单).
 *
 * Statement of one account for from..to (the bank's dates): `balance`,
 * every page of `transactions`, then `balance` again, turned into the
 * adapters' neutral JSON (stmtbuild.h) and built as one canonical
 * Statements document on the thread pool.  The balance is asked twice
 * because the bank books while we read: an entry booked between the
 * balance and the last page would make the opening balance derived from
 * them wrong.  When the two differ, the account is read again (at most
 * MAX_ATTEMPTS times); a bank that keeps booking gets no statement this
 * round rather than a wrong one.  The booked balance the bank gives now is the
 * closing balance of its today (closingBooked dated today), the available one
 * is kept as ITAV; the opening balance follows from the entries.  The document
 * depends on the bank's data only, so polling again with nothing new gives the
 * same bytes (the daemon's registry recognises them).  Our own payments carry
 * their customer serial as InstrId, for reconciliation.
 *
 * Receipts: every page of `receipts` for the same days; a receipt whose
 * id has a marker in state_dir/receipts/ was taken by the daemon before
 * and is skipped; the others are fetched one at a time
 * (`receipt_download`), checked to be a PDF, and named
 *     receipt_<booking date>_<serial or entry id>_<receipt id>.pdf
 * so that each names the payment (our serial) or entry it proves.
 */
#include "cx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amount.h"
#include "fsutil.h"
#include "stmtbuild.h"

#define MAX_PAGES 10000
#define MAX_ENTRIES 200000
#define MAX_RECEIPT_BYTES (20u << 20)
#define MAX_ATTEMPTS 3

/* ---- paging (both lists)
 * ----------------------------------------------------- */

struct pager {
    long page; /* page style: the number asked for */
    char token[80];
    unsigned pages;
};

static void pager_start(const struct cx_profile *p, struct pager *g)
{
    memset(g, 0, sizeof(*g));
    g->page = p->page_first;
}

/* After an ok answer: 1 and the next {page} set when there is more, 0 at
 * the end, or an error. */
static int pager_next(const struct cx_profile *p, struct pager *g,
                      const struct cx_answer *a, struct h2h_err *err)
{
    if (++g->pages > MAX_PAGES)
        return h2h_err_set(err, H2H_ETOOBIG, "more than %d pages", MAX_PAGES);
    if (p->paging == CX_PAGING_TOKEN) {
        const char *n = a->top[CX_K_NEXT];
        if (!n || !*n)
            return 0;
        size_t l = strlen(n);
        if (l >= sizeof(g->token) ||
            strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789") != l)
            return h2h_err_set(err, H2H_EPROTO,
                               "the bank's continuation token is not 1..64 "
                               "letters and digits");
        snprintf(g->token, sizeof(g->token), "%s", n);
        return 1;
    }
    const char *m = a->top[CX_K_MORE];
    if (m && strcmp(m, p->more_value) == 0) {
        g->page++;
        return 1;
    }
    if (m && strcmp(m, p->last_value) == 0)
        return 0;
    return h2h_err_set(err, H2H_EPROTO,
                       "the bank's more-pages flag \"%.10s\" is neither "
                       "\"%s\" nor \"%s\"",
                       m ? m : "", p->more_value, p->last_value);
}

static void pager_vals(const struct cx_profile *p, const struct pager *g,
                       char *buf, size_t n, struct cx_vals *v)
{
    if (p->paging == CX_PAGING_TOKEN)
        snprintf(buf, n, "%s", g->token);
    else
        snprintf(buf, n, "%ld", g->page);
    v->v[CX_T_PAGE] = buf;
}

/* ---- statements -------------------------------------------------------------
 */

struct stmt_job {
    struct cx *c;
    size_t acct;
    char from[11], to[11];   /* ISO: the statement's days */
    char upto[11];           /* ISO: details asked through this day */
    char bfrom[32], bto[32]; /* the bank's format: from .. upto */
    char tmp_dir[CX_PATH_MAX];
    cx_file_done_fn done;
    void *data;
    char ccy[4];
    json_t *balances, *entries;
    char booked[48]; /* the first balance answer's booked balance */
    int attempts;
    struct pager pg;
    char page_buf[96];
    uv_work_t work;
    int rc;
    struct h2h_err err;
    char name[256], local[CX_PATH_MAX], sha256[65];
    uint64_t size;
};

static void stmt_end(struct stmt_job *j, const struct h2h_err *e, int bank_down)
{
    struct cx *c = j->c;
    cx_file_done_fn done = j->done;
    void *data = j->data;
    json_decref(j->balances);
    json_decref(j->entries);
    if (e) {
        free(j);
        done(c, data, NULL, NULL, NULL, 0, e, bank_down);
        return;
    }
    char local[CX_PATH_MAX], name[256], sha[65];
    uint64_t size = j->size;
    snprintf(local, sizeof(local), "%s", j->local);
    snprintf(name, sizeof(name), "%s", j->name);
    snprintf(sha, sizeof(sha), "%s", j->sha256);
    free(j);
    done(c, data, local, name, sha, size, NULL, 0);
}

static const char *acct_tag(struct stmt_job *j, char *buf, size_t n)
{
    astmt_acct_tag(j->c->s.accounts[j->acct], buf, n);
    return buf;
}

/* A failed exchange or a refusal; the account is named by its tag only. */
static void stmt_failed(struct stmt_job *j, const struct cx_reply *r,
                        const char *what)
{
    struct h2h_err e;
    char tag[40];
    acct_tag(j, tag, sizeof(tag));
    if (r->out != H2H_OUT_OK) {
        e = r->err;
        h2h_err_prefix(&e, "%s of account %s", what, tag);
        stmt_end(j, &e, !r->bad_answer);
        return;
    }
    h2h_err_set(&e, H2H_EPROTO, "%s of account %s: bank code %.20s%s%.200s",
                what, tag, r->ans->code, r->ans->message ? ": " : "",
                r->ans->message ? r->ans->message : "");
    stmt_end(j, &e, r->ans->cls == CX_CODE_BUSY);
}

static void build_work(uv_work_t *w)
{
    struct stmt_job *j = w->data;
    char *buf = NULL;
    size_t len = 0;
    const char *slash = strrchr(j->local, '/');
    j->rc =
        astmt_build("CX", j->c->s.accounts[j->acct], j->balances, j->entries,
                    j->from, j->to, j->upto, &buf, &len, &j->err);
    if (j->rc == 0)
        j->rc = fsu_write_file(j->tmp_dir, slash + 1, buf, len, 0, &j->err);
    free(buf);
    if (j->rc == 0)
        j->rc = fsu_sha256_file(j->local, j->sha256, &j->size, &j->err);
}

static void build_after(uv_work_t *w, int status)
{
    struct stmt_job *j = w->data;
    cx_work_done(j->c);
    if (status != 0 || j->rc < 0) {
        struct h2h_err e = j->err;
        char tag[40];
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        h2h_err_prefix(&e, "statement of account %s",
                       acct_tag(j, tag, sizeof(tag)));
        stmt_end(j, &e, 0);
        return;
    }
    stmt_end(j, NULL, 0);
}

/* "1234.50" in the profile's unit, credit or debit -> a signed decimal. */
static int signed_amount(const struct cx_profile *p, const char *s,
                         const char *ccy, int debit, char *out, size_t n,
                         struct h2h_err *err)
{
    int64_t minor;
    int neg = s && s[0] == '-';
    if (!s || cx_amount_to_minor(p, s + neg, &minor, err) != 0)
        return h2h_err_set(err, H2H_EPROTO, "amount \"%.30s\" is not one",
                           s ? s : "");
    if (neg)
        minor = -minor;
    if (debit)
        minor = -minor;
    fmt_amount_format(minor, ccy, '.', out, n);
    return 0;
}

static int set_opt(json_t *o, const char *k, const char *v)
{
    return v && *v ? json_object_set_new(o, k, json_string(v)) : 0;
}

/* One transactions row -> a neutral entry. */
static int take_entry(struct stmt_job *j, char *const *row, struct h2h_err *err)
{
    const struct cx_profile *p = j->c->p;
    const struct cx_function *f = &p->fn[CX_FN_TRANSACTIONS];
    const char *cd = row[CX_K_CREDIT_DEBIT];
    const char *cv = f->item_result[CX_K_CREDIT_VALUE];
    const char *dv = f->item_result[CX_K_DEBIT_VALUE];
    int credit = cd && cv && strcmp(cd, cv) == 0;
    int debit = cd && dv && strcmp(cd, dv) == 0;
    char bd[11], vd[11], amt[48], ccy[4];
    const char *iso =
        row[CX_K_CURRENCY] ? cx_ccy_iso(p, row[CX_K_CURRENCY]) : j->ccy;
    if (!row[CX_K_ENTRY_ID] || !*row[CX_K_ENTRY_ID])
        return h2h_err_set(err, H2H_EPROTO, "an entry has no id");
    if (!credit && !debit)
        return h2h_err_set(err, H2H_EPROTO,
                           "entry %.40s: credit/debit \"%.10s\" is neither "
                           "\"%s\" nor \"%s\"",
                           row[CX_K_ENTRY_ID], cd ? cd : "", cv ? cv : "",
                           dv ? dv : "");
    if (!iso)
        return h2h_err_set(err, H2H_EPROTO,
                           "entry %.40s: currency \"%.10s\" is not in the "
                           "profile",
                           row[CX_K_ENTRY_ID], row[CX_K_CURRENCY]);
    snprintf(ccy, sizeof(ccy), "%s", iso);
    if (cx_date_to_iso(p, row[CX_K_BOOKING_DATE], bd, err) != 0 ||
        (row[CX_K_VALUE_DATE] && *row[CX_K_VALUE_DATE] &&
         cx_date_to_iso(p, row[CX_K_VALUE_DATE], vd, err) != 0))
        return h2h_err_prefix(err, "entry %.40s", row[CX_K_ENTRY_ID]);
    if (signed_amount(p, row[CX_K_AMOUNT], ccy, debit, amt, sizeof(amt), err))
        return h2h_err_prefix(err, "entry %.40s", row[CX_K_ENTRY_ID]);
    json_t *e = json_object(), *a = json_object();
    if (!e || !a || json_object_set_new(a, "amount", json_string(amt)) ||
        json_object_set_new(a, "currency", json_string(ccy)) ||
        json_object_set(e, "amount", a) ||
        set_opt(e, "entry_id", row[CX_K_ENTRY_ID]) ||
        set_opt(e, "booking_date", bd) ||
        (row[CX_K_VALUE_DATE] && *row[CX_K_VALUE_DATE] &&
         set_opt(e, "value_date", vd)) ||
        set_opt(e, "credit_debit", credit ? "CRDT" : "DBIT") ||
        set_opt(e, "bank_reference", row[CX_K_BANK_REF]) ||
        set_opt(e, "instr_id", row[CX_K_SERIAL]) ||
        set_opt(e, "counterparty_name", row[CX_K_COUNTERPARTY_NAME]) ||
        set_opt(e, "counterparty_account", row[CX_K_COUNTERPARTY_ACCOUNT]) ||
        set_opt(e, "remittance_information", row[CX_K_REMITTANCE]) ||
        json_array_append(j->entries, e)) {
        json_decref(a);
        json_decref(e);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    json_decref(a);
    json_decref(e);
    return 0;
}

static int ask_page(struct stmt_job *j, struct h2h_err *err);
static void bal_cb(struct cx *c, const struct cx_reply *r, void *data);

static void tx_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct stmt_job *j = data;
    struct h2h_err e = {0};
    if (r->out != H2H_OUT_OK || r->ans->cls != CX_CODE_OK) {
        stmt_failed(j, r, "transactions");
        return;
    }
    const struct cx_answer *a = r->ans;
    for (size_t i = 0; i < a->n_items; i++)
        if (take_entry(j, &a->items[i * CX_K_N], &e) != 0) {
            char tag[40];
            h2h_err_prefix(&e, "transactions of account %s",
                           acct_tag(j, tag, sizeof(tag)));
            stmt_end(j, &e, 0);
            return;
        }
    if (json_array_size(j->entries) > MAX_ENTRIES) {
        h2h_err_set(&e, H2H_ETOOBIG,
                    "statement of more than %d entries not fetched",
                    MAX_ENTRIES);
        stmt_end(j, &e, 0);
        return;
    }
    int more = pager_next(c->p, &j->pg, a, &e);
    if (more < 0) {
        stmt_end(j, &e, 0);
        return;
    }
    if (more) {
        if (ask_page(j, &e) != 0)
            stmt_end(j, &e, 0);
        return;
    }
    /* every page is here: the balance again, to see nothing moved */
    struct cx_vals v;
    memset(&v, 0, sizeof(v));
    v.v[CX_T_ACCOUNT] = c->s.accounts[j->acct];
    if (cx_call(c, CX_FN_BALANCE, &v, bal_cb, j, &e) != 0)
        stmt_end(j, &e, 0);
}

static void build(struct stmt_job *j)
{
    struct cx *c = j->c;
    struct h2h_err e = {0};
    char lname[200];
    cx_local_name(c, lname, sizeof(lname));
    if (fsu_join(j->local, sizeof(j->local), j->tmp_dir, lname) != 0) {
        h2h_err_set(&e, H2H_ETOOBIG, "tmp_dir path too long");
        stmt_end(j, &e, 0);
        return;
    }
    astmt_name(c->s.accounts[j->acct], j->from, j->to, j->name,
               sizeof(j->name));
    j->work.data = j;
    if (cx_queue_work(c, &j->work, build_work, build_after, &e) != 0)
        stmt_end(j, &e, 0);
}

static int ask_page(struct stmt_job *j, struct h2h_err *err)
{
    struct cx_vals v;
    memset(&v, 0, sizeof(v));
    v.v[CX_T_ACCOUNT] = j->c->s.accounts[j->acct];
    v.v[CX_T_FROM] = j->bfrom;
    v.v[CX_T_TO] = j->bto;
    pager_vals(j->c->p, &j->pg, j->page_buf, sizeof(j->page_buf), &v);
    return cx_call(j->c, CX_FN_TRANSACTIONS, &v, tx_cb, j, err);
}

static int add_balance(json_t *list, const char *type, const char *date,
                       const char *amt, const char *ccy)
{
    json_t *b = json_object(), *a = json_object();
    int bad = !b || !a || json_object_set_new(b, "type", json_string(type)) ||
              json_object_set_new(b, "date", json_string(date)) ||
              json_object_set_new(a, "amount", json_string(amt)) ||
              json_object_set_new(a, "currency", json_string(ccy)) ||
              json_object_set(b, "amount", a) || json_array_append(list, b);
    json_decref(a);
    json_decref(b);
    return bad ? -1 : 0;
}

static void bal_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct stmt_job *j = data;
    struct h2h_err e = {0};
    if (r->out != H2H_OUT_OK || r->ans->cls != CX_CODE_OK) {
        stmt_failed(j, r, "balance");
        return;
    }
    const struct cx_answer *a = r->ans;
    const char *acc = a->top[CX_K_ACCOUNT];
    const char *bc = a->top[CX_K_CURRENCY];
    const char *iso = bc ? cx_ccy_iso(c->p, bc) : "CNY";
    char today[11], amt[48];
    char tag[40];
    if (!acc || strcmp(acc, c->s.accounts[j->acct]) != 0 || !iso) {
        h2h_err_set(&e, H2H_EPROTO,
                    "balance of account %s: the answer is for another "
                    "account or in a currency the profile does not list",
                    acct_tag(j, tag, sizeof(tag)));
        stmt_end(j, &e, 0);
        return;
    }
    snprintf(j->ccy, sizeof(j->ccy), "%s", iso);
    cx_bank_today(c->p, 0, today);
    if (j->balances) {
        /* the second answer, after the last page */
        if (signed_amount(c->p, a->top[CX_K_BALANCE], iso, 0, amt, sizeof(amt),
                          &e) == 0 &&
            strcmp(amt, j->booked) == 0) {
            build(j);
            return;
        }
        json_decref(j->balances);
        json_decref(j->entries);
        j->balances = j->entries = NULL;
        if (++j->attempts >= MAX_ATTEMPTS) {
            h2h_err_set(&e, H2H_ESTATE,
                        "balance of account %s changed while its details "
                        "were read, %d times; no statement this round",
                        acct_tag(j, tag, sizeof(tag)), MAX_ATTEMPTS);
            stmt_end(j, &e, 0);
            return;
        }
        struct cx_vals v;
        memset(&v, 0, sizeof(v));
        v.v[CX_T_ACCOUNT] = c->s.accounts[j->acct];
        if (cx_call(c, CX_FN_BALANCE, &v, bal_cb, j, &e) != 0)
            stmt_end(j, &e, 0);
        return;
    }
    if (!(j->balances = json_array()) || !(j->entries = json_array())) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        stmt_end(j, &e, 0);
        return;
    }
    if (signed_amount(c->p, a->top[CX_K_BALANCE], iso, 0, amt, sizeof(amt),
                      &e) == 0)
        snprintf(j->booked, sizeof(j->booked), "%s", amt);
    if (e.code != 0 ||
        add_balance(j->balances, "closingBooked", today, amt, iso) != 0) {
        h2h_err_prefix(&e, "balance of account %s",
                       acct_tag(j, tag, sizeof(tag)));
        stmt_end(j, &e, 0);
        return;
    }
    if (a->top[CX_K_AVAILABLE] && *a->top[CX_K_AVAILABLE] &&
        signed_amount(c->p, a->top[CX_K_AVAILABLE], iso, 0, amt, sizeof(amt),
                      &e) == 0)
        add_balance(j->balances, "interimAvailable", today, amt, iso);
    pager_start(c->p, &j->pg);
    if (ask_page(j, &e) != 0)
        stmt_end(j, &e, 0);
}

int cx_stmt_fetch(struct cx *c, size_t i, const char *from, const char *to,
                  const char *tmp_dir, cx_file_done_fn done, void *data,
                  struct h2h_err *err)
{
    if (i >= c->s.n_accounts)
        return h2h_err_set(err, H2H_EINVALID, "no account %zu", i);
    struct stmt_job *j = calloc(1, sizeof(*j));
    if (!j)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    j->c = c;
    j->acct = i;
    j->done = done;
    j->data = data;
    snprintf(j->from, sizeof(j->from), "%s", from);
    snprintf(j->to, sizeof(j->to), "%s", to);
    /* the balance the bank gives is today's: for days in the past, the
     * details up to today carry it back (stmtbuild.h, covered_to) */
    cx_bank_today(c->p, 0, j->upto);
    if (strcmp(j->upto, to) < 0)
        snprintf(j->upto, sizeof(j->upto), "%s", to);
    cx_date_format(c->p, from, j->bfrom, sizeof(j->bfrom));
    cx_date_format(c->p, j->upto, j->bto, sizeof(j->bto));
    snprintf(j->tmp_dir, sizeof(j->tmp_dir), "%s", tmp_dir);
    struct cx_vals v;
    memset(&v, 0, sizeof(v));
    v.v[CX_T_ACCOUNT] = c->s.accounts[i];
    int rc = cx_call(c, CX_FN_BALANCE, &v, bal_cb, j, err);
    if (rc < 0)
        free(j);
    return rc;
}

/* ---- receipts
 * ----------------------------------------------------------------- */

struct rcpt {
    char *id, *entry, *serial;
    char date[11];
};

struct cx_receipts {
    struct cx *c;
    size_t acct;
    char bfrom[32], bto[32];
    cx_list_done_fn done;
    void *data;
    struct pager pg;
    char page_buf[96];
    struct rcpt *v;
    size_t n, cap, next;
    /* the download in progress */
    size_t cur;
    cx_file_done_fn fdone;
    void *fdata;
    char tmp_dir[CX_PATH_MAX];
    unsigned char *pdf;
    size_t pdf_len;
    uv_work_t work;
    int rc;
    struct h2h_err err;
    char name[256], local[CX_PATH_MAX], sha256[65];
    uint64_t size;
};

void cx_receipts_free(struct cx_receipts *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].id);
        free(l->v[i].entry);
        free(l->v[i].serial);
    }
    free(l->v);
    free(l->pdf);
    free(l);
}

/* Receipt ids become file names (markers, downloads): only plain ones. */
static int id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= 64 && s[0] != '.' &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-") == n;
}

static int taken_before(struct cx *c, const char *id)
{
    char path[CX_PATH_MAX];
    struct stat st;
    return fsu_join(path, sizeof(path), c->receipts_dir, id) == 0 &&
           lstat(path, &st) == 0;
}

static int ask_rpage(struct cx_receipts *l, struct h2h_err *err);

static void list_end(struct cx_receipts *l, const struct h2h_err *e,
                     int bank_down)
{
    cx_list_done_fn done = l->done;
    void *data = l->data;
    struct cx *c = l->c;
    if (e) {
        cx_receipts_free(l);
        done(c, data, NULL, e, bank_down);
        return;
    }
    done(c, data, l, NULL, 0);
}

static void rlist_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct cx_receipts *l = data;
    struct h2h_err e = {0};
    char tag[40];
    astmt_acct_tag(c->s.accounts[l->acct], tag, sizeof(tag));
    if (r->out != H2H_OUT_OK || r->ans->cls != CX_CODE_OK) {
        if (r->out != H2H_OUT_OK) {
            e = r->err;
            h2h_err_prefix(&e, "receipts of account %s", tag);
        } else {
            h2h_err_set(&e, H2H_EPROTO,
                        "receipts of account %s: bank code %.20s%s%.200s", tag,
                        r->ans->code, r->ans->message ? ": " : "",
                        r->ans->message ? r->ans->message : "");
        }
        list_end(l, &e,
                 r->out != H2H_OUT_OK ? !r->bad_answer
                                      : r->ans->cls == CX_CODE_BUSY);
        return;
    }
    const struct cx_answer *a = r->ans;
    for (size_t i = 0; i < a->n_items; i++) {
        char *const *row = &a->items[i * CX_K_N];
        const char *id = row[CX_K_RECEIPT_ID];
        char d[11];
        struct h2h_err de = {0};
        if (!id_ok(id) ||
            cx_date_to_iso(c->p, row[CX_K_BOOKING_DATE], d, &de) != 0) {
            h2h_err_set(&e, H2H_EPROTO,
                        "receipts of account %s: a receipt with an unusable "
                        "id or booking date",
                        tag);
            list_end(l, &e, 0);
            return;
        }
        if (taken_before(c, id))
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            struct rcpt *v = realloc(l->v, cap * sizeof(*v));
            if (!v) {
                h2h_err_set(&e, H2H_ENOMEM, "out of memory");
                list_end(l, &e, 0);
                return;
            }
            l->v = v;
            l->cap = cap;
        }
        struct rcpt *x = &l->v[l->n++];
        memset(x, 0, sizeof(*x));
        snprintf(x->date, sizeof(x->date), "%s", d);
        x->id = strdup(id);
        x->entry = row[CX_K_ENTRY_ID] ? strdup(row[CX_K_ENTRY_ID]) : NULL;
        x->serial = row[CX_K_SERIAL] && *row[CX_K_SERIAL]
                        ? strdup(row[CX_K_SERIAL])
                        : NULL;
        if (!x->id) {
            h2h_err_set(&e, H2H_ENOMEM, "out of memory");
            list_end(l, &e, 0);
            return;
        }
    }
    int more = pager_next(c->p, &l->pg, a, &e);
    if (more < 0 || (more && ask_rpage(l, &e) != 0)) {
        h2h_err_prefix(&e, "receipts of account %s", tag);
        list_end(l, &e, 0);
        return;
    }
    if (!more)
        list_end(l, NULL, 0);
}

static int ask_rpage(struct cx_receipts *l, struct h2h_err *err)
{
    struct cx_vals v;
    memset(&v, 0, sizeof(v));
    v.v[CX_T_ACCOUNT] = l->c->s.accounts[l->acct];
    v.v[CX_T_FROM] = l->bfrom;
    v.v[CX_T_TO] = l->bto;
    pager_vals(l->c->p, &l->pg, l->page_buf, sizeof(l->page_buf), &v);
    return cx_call(l->c, CX_FN_RECEIPTS, &v, rlist_cb, l, err);
}

int cx_receipts_list(struct cx *c, size_t i, const char *from, const char *to,
                     cx_list_done_fn done, void *data, struct h2h_err *err)
{
    if (i >= c->s.n_accounts)
        return h2h_err_set(err, H2H_EINVALID, "no account %zu", i);
    struct cx_receipts *l = calloc(1, sizeof(*l));
    if (!l)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    l->c = c;
    l->acct = i;
    l->done = done;
    l->data = data;
    cx_date_format(c->p, from, l->bfrom, sizeof(l->bfrom));
    cx_date_format(c->p, to, l->bto, sizeof(l->bto));
    pager_start(c->p, &l->pg);
    int rc = ask_rpage(l, err);
    if (rc < 0)
        free(l);
    return rc;
}

static void name_part(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++)
        out[k++] = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789-",
                          *s)
                       ? *s
                       : '_';
    out[k] = '\0';
}

static void rfile_end(struct cx_receipts *l, const struct h2h_err *e,
                      int bank_down)
{
    free(l->pdf);
    l->pdf = NULL;
    if (e) {
        l->fdone(l->c, l->fdata, NULL, NULL, NULL, 0, e, bank_down);
        return;
    }
    l->fdone(l->c, l->fdata, l->local, l->name, l->sha256, l->size, NULL, 0);
}

static void rwrite_work(uv_work_t *w)
{
    struct cx_receipts *l = w->data;
    const char *slash = strrchr(l->local, '/');
    l->rc =
        fsu_write_file(l->tmp_dir, slash + 1, l->pdf, l->pdf_len, 0, &l->err);
    if (l->rc == 0)
        l->rc = fsu_sha256_file(l->local, l->sha256, &l->size, &l->err);
}

static void rwrite_after(uv_work_t *w, int status)
{
    struct cx_receipts *l = w->data;
    cx_work_done(l->c);
    if (status != 0 || l->rc < 0) {
        struct h2h_err e = l->err;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        h2h_err_prefix(&e, "receipt %s", l->v[l->cur].id);
        rfile_end(l, &e, 0);
        return;
    }
    rfile_end(l, NULL, 0);
}

static void rfile_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct cx_receipts *l = data;
    struct rcpt *x = &l->v[l->cur];
    struct h2h_err e = {0};
    if (r->out != H2H_OUT_OK) {
        e = r->err;
        h2h_err_prefix(&e, "receipt %s", x->id);
        rfile_end(l, &e, !r->bad_answer);
        return;
    }
    const struct cx_answer *a = r->ans;
    const char *b64 = a->top[CX_K_CONTENT];
    if (a->cls != CX_CODE_OK || !b64) {
        h2h_err_set(&e, H2H_EPROTO, "receipt %s: bank code %.20s%s%.200s",
                    x->id, a->code, a->message ? ": " : "",
                    a->message ? a->message : "");
        rfile_end(l, &e, a->cls == CX_CODE_BUSY);
        return;
    }
    if (a->top[CX_K_RECEIPT_ID] && strcmp(a->top[CX_K_RECEIPT_ID], x->id)) {
        h2h_err_set(&e, H2H_EPROTO,
                    "receipt %s: the bank sent receipt %.64s instead", x->id,
                    a->top[CX_K_RECEIPT_ID]);
        rfile_end(l, &e, 0);
        return;
    }
    if (strlen(b64) > MAX_RECEIPT_BYTES / 3 * 4 + 4 ||
        cert_b64_decode(b64, strlen(b64), &l->pdf, &l->pdf_len, &e) != 0 ||
        l->pdf_len < 5 || memcmp(l->pdf, "%PDF-", 5) != 0) {
        if (!e.msg[0])
            h2h_err_set(&e, H2H_EPROTO, "not a PDF file");
        h2h_err_prefix(&e, "receipt %s", x->id);
        rfile_end(l, &e, 0);
        return;
    }
    char lname[200], ref[72], id[72];
    cx_local_name(c, lname, sizeof(lname));
    if (fsu_join(l->local, sizeof(l->local), l->tmp_dir, lname) != 0) {
        h2h_err_set(&e, H2H_ETOOBIG, "tmp_dir path too long");
        rfile_end(l, &e, 0);
        return;
    }
    name_part(x->serial  ? x->serial
              : x->entry ? x->entry
                         : "",
              ref, sizeof(ref));
    name_part(x->id, id, sizeof(id));
    snprintf(l->name, sizeof(l->name), "receipt_%s_%s_%s.pdf", x->date,
             ref[0] ? ref : "none", id);
    l->work.data = l;
    if (cx_queue_work(c, &l->work, rwrite_work, rwrite_after, &e) != 0)
        rfile_end(l, &e, 0);
}

int cx_receipts_next(struct cx *c, struct cx_receipts *l, const char *tmp_dir,
                     cx_file_done_fn done, void *data, struct h2h_err *err)
{
    if (l->next >= l->n)
        return 1;
    l->cur = l->next++;
    l->fdone = done;
    l->fdata = data;
    snprintf(l->tmp_dir, sizeof(l->tmp_dir), "%s", tmp_dir);
    struct cx_vals v;
    memset(&v, 0, sizeof(v));
    v.v[CX_T_RECEIPT_ID] = l->v[l->cur].id;
    return cx_call(c, CX_FN_RECEIPT_DOWNLOAD, &v, rfile_cb, l, err);
}

void cx_receipts_taken(struct cx *c, struct cx_receipts *l)
{
    char path[CX_PATH_MAX];
    if (!l || l->cur >= l->n ||
        fsu_join(path, sizeof(path), c->receipts_dir, l->v[l->cur].id) != 0)
        return;
    /* a lost marker only fetches the receipt again; the daemon's registry
     * then answers H2H_EDUP */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
}
