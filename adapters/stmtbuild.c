/*
 * stmtbuild.c - an account's statement as one canonical Statements
 * document (formats/canon.h) from a bank's balances and booked entries in
 * a neutral JSON form; see stmtbuild.h.
 *
 * Balances: closingBooked (end of the bank's previous day) and
 * interimAvailable (its day so far).  The opening balance of the range
 * (OPBD, dated from) and its closing balance (CLBD, dated to) are derived
 * from closingBooked and the entries booked between its date and the
 * range's ends, so that they are the bank's figures moved along the
 * bank's own entries and add up by construction; interimAvailable is kept
 * as ITAV.  When closingBooked's date is outside the range and
 * interimAvailable does not close the range either, the statement carries
 * no OPBD/CLBD rather than invented ones.
 *
 * The document depends on the bank's data only (no clock): polled again
 * with nothing new it is the same bytes, which the daemon's download
 * registry recognises; with new entries it is a new version under the
 * same remote name, delivered again.
 */
#include "stmtbuild.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon.h"
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
void astmt_acct_tag(const char *iban, char *buf, size_t n)
{
    size_t l = strlen(iban);
    snprintf(buf, n, "%.2s-%s-%08x", iban, iban + (l > 4 ? l - 4 : 0),
             (unsigned)fnv1a(iban));
}

void astmt_name(const char *iban, const char *from, const char *to, char *buf,
                size_t n)
{
    char tag[40];
    astmt_acct_tag(iban, tag, sizeof(tag));
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

/* Booked within [f, t] (days): the entries this statement lists. */
static int in_range(const struct ccy_stmt *c, size_t i, long f, long t)
{
    long d = fmt_date_days(jstr(c->ents[i].j, "booking_date"));
    return d >= f && d <= t;
}

static int emit(const struct fmt_stmt_sink *sink, const char *prefix,
                const char *iban, const struct ccy_stmt *c, const char *from,
                const char *to, long covered, struct h2h_err *err)
{
    struct fmt_stmt st;
    struct fmt_balance bals[3];
    char id[24], fr[32], tt[32];
    long f = fmt_date_days(from), t = fmt_date_days(to);
    int rc;
    memset(&st, 0, sizeof(st));
    memset(bals, 0, sizeof(bals));
    snprintf(id, sizeof(id), "%.4s%.2s%.2s%.2s%s", prefix, to + 2, to + 5,
             to + 8, c->ccy);
    snprintf(fr, sizeof(fr), "%sT00:00:00", from);
    snprintf(tt, sizeof(tt), "%sT23:59:59", to);
    st.id = id;
    st.fr_dt_tm = fr;
    st.to_dt_tm = tt;
    char norm0[48];
    if (fmt_iban_normalize(iban, norm0, sizeof(norm0)) > 0 &&
        fmt_iban_check(norm0, NULL) == 0)
        st.acct.iban = (char *)iban;
    else
        st.acct.other_id = (char *)iban; /* a domestic account number */
    st.acct.ccy = (char *)c->ccy;
    st.bals = bals;
    int have = 0;
    int64_t open = 0, close = 0;
    long cbd = c->has_cb ? fmt_date_days(c->cb_date) : 0;
    if (c->has_cb && cbd >= f - 1 && cbd <= t) {
        open = c->cb - sum_between(c, f - 1, cbd);
        close = c->cb + sum_between(c, cbd, t);
        have = 1;
    } else if (c->has_cb && cbd > t && cbd <= covered) {
        /* a day in the past: the entries after it are there too, so the
         * bank's later balance is carried back to it */
        close = c->cb - sum_between(c, t, cbd);
        open = close - sum_between(c, f - 1, t);
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
        if (!in_range(c, i, f, t))
            continue;
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
        if (!in_range(c, i, f, t))
            continue;
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
        d.instr_id = (char *)jstr(x, "instr_id");
        /* MT940's :61: customer reference: the EndToEndId, else our
         * instruction's id (a direct-connect bank's customer serial) */
        e.cust_ref = d.end_to_end_id ? d.end_to_end_id : d.instr_id;
        d.cpty.name = (char *)jstr(x, "counterparty_name");
        const char *ca = jstr(x, "counterparty_account");
        char norm[48];
        if (ca && fmt_iban_normalize(ca, norm, sizeof(norm)) > 0 &&
            fmt_iban_check(norm, NULL) == 0)
            d.cpty_acct.iban = (char *)ca;
        else
            d.cpty_acct.other_id = (char *)ca;
        d.rmt_ustrd = (char *)jstr(x, "remittance_information");
        if (d.end_to_end_id || d.instr_id || d.cpty.name || ca || d.rmt_ustrd) {
            e.dtls = &d;
            e.n_dtls = 1;
        }
        if ((rc = sink->entry(sink->ctx, &st, &e)) < 0)
            return rc;
    }
    (void)err;
    return sink->stmt_end(sink->ctx, &st);
}

int astmt_build(const char *prefix, const char *iban, const json_t *balances,
                const json_t *entries, const char *from, const char *to,
                const char *covered_to, char **buf, size_t *len,
                struct h2h_err *err)
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
    astmt_acct_tag(iban, tag, sizeof(tag));
    snprintf(mid, sizeof(mid), "%.4s%.4s%.2s%.2s-%s", prefix, to, to + 5,
             to + 8, tag + 3);
    struct fmt_stmt_doc doc = {.kind = FMT_STMT_STATEMENT, .msg_id = mid};
    struct fmt_stmt_sink sink = fmt_canon_stmt_sink(w);
    if ((rc = sink.begin(sink.ctx, &doc)) < 0)
        goto write_err;
    for (size_t i = 0; i < b.n; i++)
        if ((rc = emit(&sink, prefix, iban, &b.v[i], from, to,
                       fmt_date_days(covered_to ? covered_to : to), err)) < 0)
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
