/*
 * oj_json.c - a canonical payment batch (formats/canon.h) as the bank's
 * JSON payment requests, one per transaction.
 *
 * The bank compares the raw bytes of a request under an Idempotency-Key
 * (SHA-256, no JSON canonicalisation), so the same message must give the
 * same bytes on every attempt, in every run and after every restart:
 * jansson in compact form with members added in one fixed order, values
 * taken only from the immutable canonical payload, nothing from the clock
 * or the environment.  (Changing this file's output changes the bytes: a
 * message created by an older build and resent by a newer one would meet
 * 422 idempotency_key_reused, which fails it for a person instead of
 * paying twice.)
 *
 * What the bank would refuse (400) is refused here first, before anything
 * is sent, with the transaction and field named: lengths, characters,
 * IBAN / BIC shape, currency digits, execution date.  What the bank's
 * request cannot carry (ultimate parties, purpose, charge bearer,
 * structured remittance besides a creditor reference, regulatory
 * reporting, instructions for the debtor agent, UETR) is not sent.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "canon.h"
#include "ident.h"

/* Code points of valid UTF-8 s; -1 when s holds a control character the
 * bank refuses (U+0000-U+001F, U+007F-U+009F) or is not UTF-8. */
static long text_chars(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    if (!fmt_utf8_valid(s, strlen(s)))
        return -1;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f)
            return -1;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return -1;
        if ((*p & 0xc0) != 0x80)
            n++;
        p++;
    }
    return n;
}

/* Only white space (Unicode's, as the bank strips it): blank.  s is valid
 * UTF-8 without controls (text_chars checked that first). */
static int blank(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned long cp;
        int n;
        if (p[0] < 0x80)
            cp = p[0], n = 1;
        else if ((p[0] & 0xe0) == 0xc0)
            cp = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu), n = 2;
        else if ((p[0] & 0xf0) == 0xe0)
            cp =
                ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu),
            n = 3;
        else
            return 0; /* four-byte sequences are never white space */
        if (!(cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
              (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
              cp == 0x202f || cp == 0x205f || cp == 0x3000))
            return 0;
        p += n;
    }
    return 1;
}

/* A text member: 1..max code points, not blank, no control character. */
static int check_text(const char *field, const char *v, long max,
                      struct h2h_err *err)
{
    long n = text_chars(v);
    if (n < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "%s holds a control character or invalid UTF-8",
                           field);
    if (n == 0 || blank(v))
        return h2h_err_set(err, H2H_EINVALID, "%s is empty", field);
    if (n > max)
        return h2h_err_set(err, H2H_EINVALID,
                           "%s has %ld characters, the bank takes at most %ld",
                           field, n, max);
    return 0;
}

/* [A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}: the shape the bank checks for a
 * creditor IBAN (its check digits are the bank's business: AC01). */
static int iban_shape(const char *s)
{
    size_t n = strlen(s);
    if (n < 5 || n > 34)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int up = c >= 'A' && c <= 'Z', dig = c >= '0' && c <= '9';
        if ((i < 2 && !up) || (i >= 2 && i < 4 && !dig) || !(up || dig))
            return 0;
    }
    return 1;
}

static int ccy_shape(const char *c)
{
    return strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' &&
           c[1] <= 'Z' && c[2] >= 'A' && c[2] <= 'Z';
}

static int set_str(json_t *o, const char *k, const char *v)
{
    json_t *s = json_string(v);
    return s ? json_object_set_new(o, k, s) : -1;
}

/* {"k": v} under name in o. */
static int set_one(json_t *o, const char *name, const char *k, const char *v)
{
    json_t *g = json_object();
    if (!g || set_str(g, k, v) != 0) {
        json_decref(g);
        return -1;
    }
    return json_object_set_new(o, name, g);
}

int oj_body_build(const struct fmt_pay_group *g, const struct fmt_pay_tx *t,
                  const char *today, char **body, size_t *len,
                  struct h2h_err *err)
{
    char dbtr[48], cdtr[48], amt[40];
    char *rmt = NULL;
    json_t *o = NULL;
    int rc = 0;
    *body = NULL;
    *len = 0;

    const char *e2e = t->end_to_end_id;
    if (!e2e)
        return h2h_err_set(err, H2H_EINVALID, "EndToEndId is missing");
    if ((rc = check_text("EndToEndId (end_to_end_id)", e2e, 35, err)) < 0)
        return rc;
    if (!t->amt.ccy[0] || !ccy_shape(t->amt.ccy))
        return h2h_err_set(err, H2H_EINVALID,
                           "currency \"%.8s\" is not three capital letters",
                           t->amt.ccy);
    if (t->amt.minor <= 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "amount must be greater than zero");
    int al = fmt_amount_format(t->amt.minor, t->amt.ccy, '.', amt, sizeof(amt));
    if (al < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "currency %s is not an ISO 4217 code we know the "
                           "decimals of",
                           t->amt.ccy);
    if (strcspn(amt, ".") > 15)
        return h2h_err_set(err, H2H_EINVALID,
                           "amount has more than 15 integer digits");
    if (!g->dbtr_acct.iban)
        return h2h_err_set(err, H2H_EINVALID,
                           "debtor account has no IBAN: this bank takes "
                           "IBANs only");
    /* The messages name the field, never the account number: they reach
     * the log. */
    if (fmt_iban_normalize(g->dbtr_acct.iban, dbtr, sizeof(dbtr)) < 0 ||
        fmt_iban_check(dbtr, NULL) != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "debtor IBAN (debtor_account.iban) fails its "
                           "length or check digits");
    if (!t->cdtr_acct.iban)
        return h2h_err_set(err, H2H_EINVALID,
                           "creditor account has no IBAN: this bank takes "
                           "IBANs only");
    if (fmt_iban_normalize(t->cdtr_acct.iban, cdtr, sizeof(cdtr)) < 0 ||
        !iban_shape(cdtr))
        return h2h_err_set(err, H2H_EINVALID,
                           "creditor IBAN (creditor_account.iban) is not "
                           "shaped like an IBAN");
    if (!t->cdtr.name)
        return h2h_err_set(err, H2H_EINVALID, "creditor name is missing");
    if ((rc = check_text("creditor name", t->cdtr.name, 70, err)) < 0)
        return rc;
    if (t->cdtr_agt.bic && fmt_bic_check(t->cdtr_agt.bic, NULL) != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "creditor agent BIC \"%.11s\" (creditor_agent.bic) "
                           "is not a BIC",
                           t->cdtr_agt.bic);
    /* Unstructured lines are joined with a space (the model joins them
     * with line feeds, which the bank refuses); without them, a creditor
     * reference (e.g. RF18...) is the remittance information. */
    const char *r = t->rmt_ustrd ? t->rmt_ustrd : t->rmt_strd.cdtr_ref;
    if (r) {
        if (!(rmt = strdup(r)))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        for (char *p = rmt; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        if ((rc = check_text("remittance information", rmt, 140, err)) < 0)
            goto out;
    }
    const char *xd = g->reqd_exctn_dt;
    if (xd) {
        if (fmt_date_check(xd, NULL) != 0) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "requested execution date \"%.12s\" is not a "
                             "date",
                             xd);
            goto out;
        }
        long d = fmt_date_days(xd), now = today ? fmt_date_days(today) : d;
        if (d > now + 365) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "requested execution date %s is more than 365 "
                             "days ahead",
                             xd);
            goto out;
        }
    }

    /* The member order below is the byte order the bank hashes: fixed. */
    o = json_object();
    json_t *ia = json_object();
    if (!o || !ia || set_str(o, "end_to_end_id", e2e) != 0 ||
        set_str(ia, "amount", amt) != 0 ||
        set_str(ia, "currency", t->amt.ccy) ||
        json_object_set(o, "instructed_amount", ia) != 0 ||
        set_one(o, "debtor_account", "iban", dbtr) != 0 ||
        set_one(o, "creditor_account", "iban", cdtr) != 0 ||
        set_str(o, "creditor_name", t->cdtr.name) != 0 ||
        (t->cdtr_agt.bic &&
         set_one(o, "creditor_agent", "bic", t->cdtr_agt.bic) != 0) ||
        (rmt && set_str(o, "remittance_information", rmt) != 0) ||
        (xd && set_str(o, "requested_execution_date", xd) != 0)) {
        json_decref(ia);
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    json_decref(ia);
    *body = json_dumps(o, JSON_COMPACT);
    if (!*body) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    *len = strlen(*body);
out:
    json_decref(o);
    free(rmt);
    return rc;
}

/* ---- the batch ------------------------------------------------------------
 */

struct reader {
    struct oj_batch *b;
    const char *msg_id;
    const char *today;
    size_t cap;
    int problems;
    struct h2h_err first;
    int fatal;
};

static int rd_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct reader *r = ctx;
    if (!r->b->orgnl_msg_id && h->msg_id &&
        !(r->b->orgnl_msg_id = strdup(h->msg_id)))
        return r->fatal = H2H_ENOMEM;
    if (!r->b->orgnl_nm_id &&
        !(r->b->orgnl_nm_id = strdup(
              h->source_format && strncmp(h->source_format, "pain.001", 8) == 0
                  ? h->source_format
                  : "pain.001")))
        return r->fatal = H2H_ENOMEM;
    return 0;
}

static void problem(struct reader *r, size_t i, const struct fmt_pay_tx *t,
                    const struct h2h_err *e)
{
    if (r->problems++ == 0)
        h2h_err_set(&r->first, H2H_EINVALID,
                    "transaction %zu (EndToEndId %.35s): %s", i + 1,
                    t->end_to_end_id ? t->end_to_end_id : "-", e->msg);
}

static int rd_tx(void *ctx, const struct fmt_pay_group *g,
                 const struct fmt_pay_tx *t)
{
    struct reader *r = ctx;
    struct oj_batch *b = r->b;
    if (b->n_txs >= OJ_TX_MAX)
        return r->fatal = H2H_ETOOBIG;
    if (b->n_txs == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct oj_tx *v = realloc(b->txs, cap * sizeof(*v));
        if (!v)
            return r->fatal = H2H_ENOMEM;
        b->txs = v;
        r->cap = cap;
    }
    size_t i = b->n_txs;
    struct oj_tx *x = &b->txs[i];
    memset(x, 0, sizeof(*x));
    b->n_txs++;
    struct h2h_err e = {0};
    int n = snprintf(x->key, sizeof(x->key), "%s-%04zu", r->msg_id, i + 1);
    if (n < 0 || (size_t)n >= sizeof(x->key)) {
        h2h_err_set(&e, H2H_EINVALID, "idempotency key longer than %d",
                    OJ_KEY_MAX);
        problem(r, i, t, &e);
        return 0;
    }
    int rc = oj_body_build(g, t, r->today, &x->body, &x->body_len, &e);
    if (rc == H2H_ENOMEM)
        return r->fatal = rc;
    if (rc < 0) {
        problem(r, i, t, &e);
        return 0;
    }
    if ((t->end_to_end_id && !(x->e2e = strdup(t->end_to_end_id))) ||
        (t->instr_id && !(x->instr_id = strdup(t->instr_id))) ||
        (g->pmt_inf_id && !(x->pmt_inf_id = strdup(g->pmt_inf_id))))
        return r->fatal = H2H_ENOMEM;
    fmt_amount_format(t->amt.minor, t->amt.ccy, '.', x->amount,
                      sizeof(x->amount));
    snprintf(x->ccy, sizeof(x->ccy), "%s", t->amt.ccy);
    return 0;
}

static int key_chars_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || strchr("._:-", *s)))
            return 0;
    return 1;
}

int oj_batch_read(const char *path, const char *msg_id, const char *today,
                  struct oj_batch *b, struct h2h_err *err)
{
    struct reader r = {.b = b, .msg_id = msg_id, .today = today};
    struct fmt_diag diag;
    memset(b, 0, sizeof(*b));
    if (!msg_id || !*msg_id || !key_chars_ok(msg_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "message id \"%.40s\" cannot be part of an "
                           "Idempotency-Key ([A-Za-z0-9._:-])",
                           msg_id ? msg_id : "");
    fmt_diag_init(&diag, path);
    diag.max = 5;
    struct fmt_src src = {.path = path};
    struct fmt_pay_sink sink = {.begin = rd_begin, .tx = rd_tx, .ctx = &r};
    int rc = fmt_canon_read_pay(&src, &sink, &diag, err);
    if (rc < 0) {
        if (r.fatal == H2H_ENOMEM)
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        else if (r.fatal == H2H_ETOOBIG)
            rc = h2h_err_set(err, H2H_ETOOBIG,
                             "more than %d transactions in one message",
                             OJ_TX_MAX);
        else
            h2h_err_prefix(err, "canonical payment");
        goto out;
    }
    if (diag.n) {
        char *all = fmt_diag_join(&diag);
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the canonical payment has %zu problem(s): %.600s",
                         diag.n + diag.dropped, all ? all : "");
        free(all);
        goto out;
    }
    if (r.problems) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "%d transaction(s) the bank would refuse, nothing "
                         "sent; first: %s",
                         r.problems, r.first.msg);
        goto out;
    }
    if (b->n_txs == 0) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the canonical payment has no transactions");
        goto out;
    }
    if (!b->orgnl_msg_id) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "the canonical payment has no MsgId");
        goto out;
    }
out:
    fmt_diag_release(&diag);
    return rc;
}

void oj_batch_release(struct oj_batch *b)
{
    for (size_t i = 0; i < b->n_txs; i++) {
        struct oj_tx *x = &b->txs[i];
        free(x->body);
        free(x->e2e);
        free(x->instr_id);
        free(x->pmt_inf_id);
        free(x->error);
    }
    free(b->txs);
    free(b->orgnl_msg_id);
    free(b->orgnl_nm_id);
    memset(b, 0, sizeof(*b));
}
