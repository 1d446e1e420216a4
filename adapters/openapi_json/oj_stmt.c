/*
 * oj_stmt.c - an account's statement for from..to: the bank's balances
 * (GET /v1/accounts/{iban}/balances) and booked entries (GET .../
 * transactions?from=&to=, every page by cursor) as one canonical
 * Statements document (formats/canon.h), which the daemon converts into
 * each channel's output format.
 *
 * One statement per currency of the account.  Balances: the bank gives
 * closingBooked (end of its previous day) and interimAvailable (its day so
 * far).  The opening balance of the range (OPBD, dated from) and its
 * closing balance (CLBD, dated to) are derived from closingBooked and the
 * entries booked between its date and the range's ends, so that they are
 * the bank's figures moved along the bank's own entries and add up by
 * construction; interimAvailable is kept as ITAV.  When closingBooked's
 * date is outside the range (another time zone, a bank date far off) and
 * interimAvailable does not close the range either, the statement carries
 * no OPBD/CLBD rather than invented ones.
 *
 * The document depends on the bank's data only (no clock): polled again
 * with nothing new it is the same bytes, which the daemon's download
 * registry recognises; with new entries it is a new version under the
 * same remote name (stmt_<account tag>_<from>_<to>.xml), delivered again.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon.h"
#include "fsutil.h"
#include "ident.h"

/* ---- names ------------------------------------------------------------ */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* "DE-3000-1a2b3c4d": country, last 4 characters, a hash of the whole
 * IBAN.  Remote names reach log lines: never the full account number. */
static void acct_tag(const char *iban, char *buf, size_t n)
{
    size_t l = strlen(iban);
    snprintf(buf, n, "%.2s-%s-%08x", iban, iban + (l > 4 ? l - 4 : 0),
             (unsigned)fnv1a(iban));
}

void oj_stmt_name(const char *iban, const char *from, const char *to, char *buf,
                  size_t n)
{
    char tag[40];
    acct_tag(iban, tag, sizeof(tag));
    snprintf(buf, n, "stmt_%s_%s_%s.xml", tag, from, to);
}

/* ---- building (thread pool) ------------------------------------------------
 */

struct ent {
    const json_t *j;
    int64_t signed_minor;
};

struct ccy_stmt {
    char ccy[4];
    int has_cb, has_ia;
    int64_t cb, ia;
    const char *cb_date, *ia_date;
    struct ent *ents;
    size_t n, cap;
};

struct bld {
    struct ccy_stmt *v;
    size_t n, cap;
};

static struct ccy_stmt *ccy_get(struct bld *b, const char *ccy)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i].ccy, ccy) == 0)
            return &b->v[i];
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        struct ccy_stmt *v = realloc(b->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        b->v = v;
        b->cap = cap;
    }
    struct ccy_stmt *c = &b->v[b->n++];
    memset(c, 0, sizeof(*c));
    snprintf(c->ccy, sizeof(c->ccy), "%s", ccy);
    return c;
}

static int cmp_ccy(const void *a, const void *b)
{
    return strcmp(((const struct ccy_stmt *)a)->ccy,
                  ((const struct ccy_stmt *)b)->ccy);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* {"amount": "-1.00", "currency": "EUR"} -> signed minor units. */
static int money(const json_t *a, const char **ccy, int64_t *minor,
                 struct h2h_err *err)
{
    const char *s = jstr(a, "amount");
    *ccy = jstr(a, "currency");
    if (!s || !*ccy || strlen(*ccy) != 3)
        return h2h_err_set(err, H2H_EPROTO,
                           "amount without value or "
                           "currency");
    if (fmt_amount_parse(s, strlen(s), *ccy, 1, minor, err) != 0)
        return h2h_err_prefix(err, "amount \"%.30s\"", s);
    return 0;
}

static int date_ok(const char *d)
{
    return d && fmt_date_check(d, NULL) == 0;
}

static int take_balances(struct bld *b, const json_t *bals, struct h2h_err *err)
{
    size_t i;
    json_t *x;
    if (!json_is_array(bals))
        return h2h_err_set(err, H2H_EPROTO, "balances is not a list");
    json_array_foreach(bals, i, x)
    {
        const char *type = jstr(x, "type"), *date = jstr(x, "date"), *ccy;
        int64_t minor;
        int cb = type && strcmp(type, "closingBooked") == 0;
        int ia = type && strcmp(type, "interimAvailable") == 0;
        if (!cb && !ia)
            continue; /* other kinds are not ours to interpret */
        if (!date_ok(date) ||
            money(json_object_get(x, "amount"), &ccy, &minor, err) != 0)
            return h2h_err_prefix(err, "balance %zu", i + 1);
        struct ccy_stmt *c = ccy_get(b, ccy);
        if (!c)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        if (cb) {
            c->has_cb = 1;
            c->cb = minor;
            c->cb_date = date;
        } else {
            c->has_ia = 1;
            c->ia = minor;
            c->ia_date = date;
        }
    }
    return 0;
}

static int take_entries(struct bld *b, const json_t *ents, struct h2h_err *err)
{
    size_t i;
    json_t *x;
    json_array_foreach(ents, i, x)
    {
        const char *id = jstr(x, "entry_id"), *bd = jstr(x, "booking_date");
        const char *vd = jstr(x, "value_date"), *cd = jstr(x, "credit_debit");
        const char *ccy;
        int64_t minor;
        if (!id || !*id || !date_ok(bd) || (vd && !date_ok(vd)) || !cd ||
            (strcmp(cd, "CRDT") != 0 && strcmp(cd, "DBIT") != 0))
            return h2h_err_set(err, H2H_EPROTO,
                               "entry %zu lacks entry_id, booking_date or "
                               "credit_debit",
                               i + 1);
        if (money(json_object_get(x, "amount"), &ccy, &minor, err) != 0)
            return h2h_err_prefix(err, "entry %s", id);
        if ((minor < 0) != (strcmp(cd, "DBIT") == 0) || minor == 0)
            return h2h_err_set(err, H2H_EPROTO,
                               "entry %s: the amount's sign contradicts %s", id,
                               cd);
        struct ccy_stmt *c = ccy_get(b, ccy);
        if (!c)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 64;
            struct ent *v = realloc(c->ents, cap * sizeof(*v));
            if (!v)
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            c->ents = v;
            c->cap = cap;
        }
        c->ents[c->n].j = x;
        c->ents[c->n].signed_minor = minor;
        c->n++;
    }
    return 0;
}

/* Sum of the entries booked in (after, upto] (dates as days). */
static int64_t sum_between(const struct ccy_stmt *c, long after, long upto)
{
    int64_t s = 0;
    for (size_t i = 0; i < c->n; i++) {
        long d = fmt_date_days(jstr(c->ents[i].j, "booking_date"));
        if (d > after && d <= upto)
            s += c->ents[i].signed_minor;
    }
    return s;
}

static int emit(const struct fmt_stmt_sink *sink, const char *iban,
                const struct ccy_stmt *c, const char *from, const char *to,
                struct h2h_err *err)
{
    struct fmt_stmt st;
    struct fmt_balance bals[3];
    char id[24], fr[32], tt[32];
    long f = fmt_date_days(from), t = fmt_date_days(to);
    int rc;
    memset(&st, 0, sizeof(st));
    memset(bals, 0, sizeof(bals));
    snprintf(id, sizeof(id), "OJ%.2s%.2s%.2s%s", to + 2, to + 5, to + 8,
             c->ccy);
    snprintf(fr, sizeof(fr), "%sT00:00:00", from);
    snprintf(tt, sizeof(tt), "%sT23:59:59", to);
    st.id = id;
    st.fr_dt_tm = fr;
    st.to_dt_tm = tt;
    st.acct.iban = (char *)iban;
    st.acct.ccy = (char *)c->ccy;
    st.bals = bals;
    int have = 0;
    int64_t open = 0, close = 0;
    long cbd = c->has_cb ? fmt_date_days(c->cb_date) : 0;
    if (c->has_cb && cbd >= f - 1 && cbd <= t) {
        open = c->cb - sum_between(c, f - 1, cbd);
        close = c->cb + sum_between(c, cbd, t);
        have = 1;
    } else if (c->has_ia && fmt_date_days(c->ia_date) == t) {
        close = c->ia;
        open = close - sum_between(c, f - 1, t);
        have = 1;
    }
    if (have) {
        snprintf(bals[0].type, sizeof(bals[0].type), "OPBD");
        bals[0].amt.minor = open;
        bals[0].date = (char *)from;
        snprintf(bals[1].type, sizeof(bals[1].type), "CLBD");
        bals[1].amt.minor = close;
        bals[1].date = (char *)to;
        st.n_bals = 2;
    }
    if (c->has_ia && fmt_date_days(c->ia_date) >= f &&
        fmt_date_days(c->ia_date) <= t) {
        struct fmt_balance *b = &bals[st.n_bals++];
        snprintf(b->type, sizeof(b->type), "ITAV");
        b->amt.minor = c->ia;
        b->date = (char *)c->ia_date;
    }
    for (size_t i = 0; i < st.n_bals; i++)
        snprintf(bals[i].amt.ccy, sizeof(bals[i].amt.ccy), "%s", c->ccy);
    st.has_summary = 1;
    snprintf(st.sum_credits.ccy, 4, "%s", c->ccy);
    snprintf(st.sum_debits.ccy, 4, "%s", c->ccy);
    for (size_t i = 0; i < c->n; i++) {
        int64_t m = c->ents[i].signed_minor;
        if (m > 0) {
            st.n_credits++;
            st.sum_credits.minor += m;
        } else {
            st.n_debits++;
            st.sum_debits.minor -= m;
        }
    }
    if ((rc = sink->stmt_begin(sink->ctx, &st)) < 0)
        return rc;
    for (size_t i = 0; i < c->n; i++) {
        const json_t *x = c->ents[i].j;
        struct fmt_entry e;
        struct fmt_entry_dtl d;
        memset(&e, 0, sizeof(e));
        memset(&d, 0, sizeof(d));
        int64_t m = c->ents[i].signed_minor;
        e.ntry_ref = (char *)jstr(x, "entry_id");
        e.amt.minor = m < 0 ? -m : m;
        snprintf(e.amt.ccy, sizeof(e.amt.ccy), "%s", c->ccy);
        e.credit = m > 0;
        e.sts = "BOOK";
        e.book_dt = (char *)jstr(x, "booking_date");
        e.val_dt =
            (char *)(jstr(x, "value_date") ? jstr(x, "value_date") : e.book_dt);
        e.acct_svcr_ref = (char *)jstr(x, "bank_reference");
        d.end_to_end_id = (char *)jstr(x, "end_to_end_id");
        /* MT940's :61: customer reference: the EndToEndId */
        e.cust_ref = d.end_to_end_id;
        d.cpty.name = (char *)jstr(x, "counterparty_name");
        const char *ca = jstr(x, "counterparty_account");
        char norm[48];
        if (ca && fmt_iban_normalize(ca, norm, sizeof(norm)) > 0 &&
            fmt_iban_check(norm, NULL) == 0)
            d.cpty_acct.iban = (char *)ca;
        else
            d.cpty_acct.other_id = (char *)ca;
        d.rmt_ustrd = (char *)jstr(x, "remittance_information");
        if (d.end_to_end_id || d.cpty.name || ca || d.rmt_ustrd) {
            e.dtls = &d;
            e.n_dtls = 1;
        }
        if ((rc = sink->entry(sink->ctx, &st, &e)) < 0)
            return rc;
    }
    (void)err;
    return sink->stmt_end(sink->ctx, &st);
}

int oj_stmt_build(const char *iban, const json_t *balances,
                  const json_t *entries, const char *from, const char *to,
                  char **buf, size_t *len, struct h2h_err *err)
{
    struct bld b = {0};
    struct fmt_canon_writer *w = NULL;
    FILE *f = NULL;
    int rc;
    *buf = NULL;
    *len = 0;
    if ((rc = take_balances(&b, balances, err)) < 0 ||
        (rc = take_entries(&b, entries, err)) < 0)
        goto out;
    if (b.n > 1)
        qsort(b.v, b.n, sizeof(*b.v), cmp_ccy);
    if (!(f = open_memstream(buf, len)) || !(w = fmt_canon_writer_new(f))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    char mid[80], tag[40];
    acct_tag(iban, tag, sizeof(tag));
    snprintf(mid, sizeof(mid), "OJ%.4s%.2s%.2s-%s", to, to + 5, to + 8,
             tag + 3);
    struct fmt_stmt_doc doc = {.kind = FMT_STMT_STATEMENT, .msg_id = mid};
    struct fmt_stmt_sink sink = fmt_canon_stmt_sink(w);
    if ((rc = sink.begin(sink.ctx, &doc)) < 0)
        goto write_err;
    for (size_t i = 0; i < b.n; i++)
        if ((rc = emit(&sink, iban, &b.v[i], from, to, err)) < 0)
            goto write_err;
    if ((rc = sink.end(sink.ctx, &doc)) < 0)
        goto write_err;
    if (fflush(f) != 0) {
        rc = h2h_err_set(err, H2H_EIO, "out of memory");
        goto out;
    }
write_err : {
    struct h2h_err we = {0};
    int frc = fmt_canon_writer_finish(w, &we);
    if (rc == 0 && frc < 0)
        rc = frc;
    if (rc < 0)
        h2h_err_set(err, rc, "canonical statement: %s",
                    we.msg[0] ? we.msg : h2h_strerror(rc));
}
out:
    fmt_canon_writer_free(w);
    if (f && fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_EIO, "out of memory");
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    for (size_t i = 0; i < b.n; i++)
        free(b.v[i].ents);
    free(b.v);
    return rc;
}

/* ---- fetching (loop) -------------------------------------------------------
 */

struct oj_stmt_job {
    struct oj *o;
    char iban[40];
    char from[11], to[11];
    char tmp_dir[OJ_PATH_MAX];
    oj_stmt_done_fn done;
    void *data;
    json_t *balances;
    json_t *entries;
    unsigned pages;
    uv_work_t work;
    int rc;
    struct h2h_err err;
    char name[256], local[OJ_PATH_MAX], sha256[65];
    uint64_t size;
};

static void job_end(struct oj_stmt_job *j, const struct h2h_err *e,
                    int bank_down)
{
    struct oj *o = j->o;
    oj_stmt_done_fn done = j->done;
    void *data = j->data;
    json_decref(j->balances);
    json_decref(j->entries);
    if (e) {
        free(j);
        done(o, data, NULL, NULL, NULL, 0, e, bank_down);
        return;
    }
    char local[OJ_PATH_MAX], name[256], sha[65];
    uint64_t size = j->size;
    snprintf(local, sizeof(local), "%s", j->local);
    snprintf(name, sizeof(name), "%s", j->name);
    snprintf(sha, sizeof(sha), "%s", j->sha256);
    free(j);
    done(o, data, local, name, sha, size, NULL, 0);
}

static void build_work(uv_work_t *w)
{
    struct oj_stmt_job *j = w->data;
    char *buf = NULL;
    size_t len = 0;
    const char *slash = strrchr(j->local, '/');
    j->rc = oj_stmt_build(j->iban, j->balances, j->entries, j->from, j->to,
                          &buf, &len, &j->err);
    if (j->rc == 0)
        j->rc = fsu_write_file(j->tmp_dir, slash + 1, buf, len, 0, &j->err);
    free(buf);
    if (j->rc == 0)
        j->rc = fsu_sha256_file(j->local, j->sha256, &j->size, &j->err);
}

static void build_after(uv_work_t *w, int status)
{
    struct oj_stmt_job *j = w->data;
    struct oj *o = j->o;
    oj_work_done(o);
    if (status != 0 || j->rc < 0) {
        struct h2h_err e = j->err;
        char tag[40];
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        acct_tag(j->iban, tag, sizeof(tag));
        h2h_err_prefix(&e, "statement of account %s", tag);
        job_end(j, &e, 0);
        return;
    }
    job_end(j, NULL, 0);
}

static int get_transactions(struct oj_stmt_job *j, const char *cursor,
                            struct h2h_err *err);

/* A failed call: the account is named by its tag only. */
static void call_failed(struct oj_stmt_job *j, const struct oj_reply *r,
                        const char *what)
{
    struct h2h_err e;
    char tag[40];
    acct_tag(j->iban, tag, sizeof(tag));
    if (r->outcome != H2H_OUT_OK) {
        e = r->err;
        h2h_err_prefix(&e, "%s of account %s", what, tag);
        job_end(j, &e, !r->bad_answer);
        return;
    }
    char prob[300];
    oj_reply_problem(r, prob, sizeof(prob));
    h2h_err_set(&e, r->status == 404 ? H2H_ENOTFOUND : H2H_EPROTO,
                "%s of account %s: HTTP %ld %s", what, tag, r->status, prob);
    job_end(j, &e, r->status >= 500);
}

static void tx_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct oj_stmt_job *j = data;
    struct h2h_err e = {0};
    json_t *list = json_object_get(r->json, "transactions");
    json_t *next = json_object_get(r->json, "next_cursor");
    if (r->outcome != H2H_OUT_OK || r->status != 200 || !json_is_array(list) ||
        (next && !json_is_null(next) && !json_is_string(next))) {
        call_failed(j, r, "transactions");
        return;
    }
    if (json_array_extend(j->entries, list) != 0 ||
        json_array_size(j->entries) > OJ_STMT_MAX_ENTRIES) {
        h2h_err_set(&e, H2H_ETOOBIG,
                    "statement of more than %d entries not fetched",
                    OJ_STMT_MAX_ENTRIES);
        job_end(j, &e, 0);
        return;
    }
    if (json_is_string(next) && *json_string_value(next)) {
        if (++j->pages > OJ_STMT_MAX_PAGES) {
            h2h_err_set(&e, H2H_ETOOBIG, "more than %d pages of entries",
                        OJ_STMT_MAX_PAGES);
            job_end(j, &e, 0);
            return;
        }
        if (get_transactions(j, json_string_value(next), &e) != 0)
            job_end(j, &e, 0);
        return;
    }
    /* every page is here: build and write on the thread pool */
    char lname[200];
    snprintf(lname, sizeof(lname), FSU_TMP_PREFIX "%.64s.oj.%s.%lu",
             o->base.bank, o->tag, ++o->seq);
    if (fsu_join(j->local, sizeof(j->local), j->tmp_dir, lname) != 0) {
        h2h_err_set(&e, H2H_ETOOBIG, "tmp_dir path too long");
        job_end(j, &e, 0);
        return;
    }
    oj_stmt_name(j->iban, j->from, j->to, j->name, sizeof(j->name));
    j->work.data = j;
    if (oj_queue_work(o, &j->work, build_work, build_after, &e) != 0)
        job_end(j, &e, 0);
}

static int get_transactions(struct oj_stmt_job *j, const char *cursor,
                            struct h2h_err *err)
{
    char path[2048], enc[1024];
    int n = snprintf(path, sizeof(path),
                     "/v1/accounts/%s/transactions?from=%s&to=%s", j->iban,
                     j->from, j->to);
    if (cursor) {
        if (oj_urlenc(cursor, enc, sizeof(enc)) != 0)
            return h2h_err_set(err, H2H_ETOOBIG, "paging cursor too long");
        n = snprintf(path + n, sizeof(path) - (size_t)n, "&cursor=%s", enc);
    }
    struct oj_call_spec sp = {
        .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
    return oj_call(j->o, &sp, tx_cb, j, err);
}

static void bal_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct oj_stmt_job *j = data;
    struct h2h_err e = {0};
    json_t *bals = json_object_get(r->json, "balances");
    (void)o;
    if (r->outcome != H2H_OUT_OK || r->status != 200 || !json_is_array(bals)) {
        call_failed(j, r, "balances");
        return;
    }
    j->balances = json_incref(bals);
    if (!(j->entries = json_array())) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        job_end(j, &e, 0);
        return;
    }
    if (get_transactions(j, NULL, &e) != 0)
        job_end(j, &e, 0);
}

int oj_stmt_fetch(struct oj *o, size_t i, const char *from, const char *to,
                  const char *tmp_dir, oj_stmt_done_fn done, void *data,
                  struct h2h_err *err)
{
    if (i >= o->s.n_accounts)
        return h2h_err_set(err, H2H_EINVALID, "no account %zu", i);
    struct oj_stmt_job *j = calloc(1, sizeof(*j));
    if (!j)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    j->o = o;
    j->done = done;
    j->data = data;
    snprintf(j->iban, sizeof(j->iban), "%s", o->s.accounts[i]);
    snprintf(j->from, sizeof(j->from), "%s", from);
    snprintf(j->to, sizeof(j->to), "%s", to);
    snprintf(j->tmp_dir, sizeof(j->tmp_dir), "%s", tmp_dir);
    char path[200];
    snprintf(path, sizeof(path), "/v1/accounts/%s/balances", j->iban);
    struct oj_call_spec sp = {
        .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
    int rc = oj_call(o, &sp, bal_cb, j, err);
    if (rc < 0)
        free(j);
    return rc;
}
