/*
 * scf.c - supply-chain finance model: financing requests and their status,
 * credit vouchers and their state machine; see scf.h for the rules.
 *
 * Every function that can fail checks everything first and allocates what
 * it will keep before it changes anything, so a refusal or an ENOMEM
 * leaves the caller's structs exactly as they were.
 */
#include "scf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ISO Max35Text for ids and invoice numbers, Max105Text for CxlRsn. */
#define SCF_ID_MAX 35
#define SCF_CXL_REASON_MAX 105

static int empty(const char *s)
{
    return !s || !*s;
}

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Characters, not bytes: ISO lengths count characters. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* "1234.56 CNY" for messages; the raw minor units when ccy is unknown. */
static const char *money(char *buf, size_t bufsz, int64_t minor,
                         const char *ccy)
{
    char num[40];
    if (fmt_amount_format(minor, ccy, '.', num, sizeof(num)) < 0) {
        snprintf(buf, bufsz, "%lld (minor units, %s)", (long long)minor,
                 ccy && *ccy ? ccy : "no currency");
        return buf;
    }
    snprintf(buf, bufsz, "%s %s", num, ccy);
    return buf;
}

static int has_amount(const struct fmt_amount *a)
{
    return a->ccy[0] != '\0';
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : H2H_ENOMEM;
}

/* ---- names --------------------------------------------------------------- */

static const char *const kind_names[] = {"receivable", "reverse_factoring"};
static const char *const status_names[FMT_SCF_STATUS__COUNT] = {
    "submitted", "under_review", "approved",  "rejected",
    "financed",  "repaid",       "cancelled",
};
static const char *const item_names[FMT_SCF_ITEM__COUNT] = {
    "accepted", "pending", "rejected"};
static const char *const item_iso[FMT_SCF_ITEM__COUNT] = {"FNCD", "PDNG",
                                                          "NTFD"};
static const char *const cxl_names[] = {"none", "accepted", "refused"};
static const char *const repay_names[] = {"due", "paid"};
static const char *const vstatus_names[FMT_VOUCHER_STATUS__COUNT] = {
    "pending", "held", "financed", "settled", "refused", "withdrawn",
};
static const char *const vop_names[FMT_VOUCHER_OP__COUNT] = {
    "issue", "sign", "refuse", "withdraw", "transfer", "finance", "settle",
};

static const char *name_of(const char *const *t, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? t[v] : "?";
}

static int parse_of(const char *const *t, size_t n, const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i], s) == 0)
            return (int)i;
    return -1;
}

const char *fmt_scf_kind_name(enum fmt_scf_kind k)
{
    return name_of(kind_names, ARRAY_LEN(kind_names), (int)k);
}
const char *fmt_scf_status_name(enum fmt_scf_status s)
{
    return name_of(status_names, ARRAY_LEN(status_names), (int)s);
}
const char *fmt_scf_item_name(enum fmt_scf_item i)
{
    return name_of(item_names, ARRAY_LEN(item_names), (int)i);
}
const char *fmt_scf_item_iso(enum fmt_scf_item i)
{
    return name_of(item_iso, ARRAY_LEN(item_iso), (int)i);
}
const char *fmt_scf_cancel_answer_name(enum fmt_scf_cancel_answer a)
{
    return name_of(cxl_names, ARRAY_LEN(cxl_names), (int)a);
}
const char *fmt_scf_repay_kind_name(enum fmt_scf_repay_kind k)
{
    return name_of(repay_names, ARRAY_LEN(repay_names), (int)k);
}
const char *fmt_voucher_status_name(enum fmt_voucher_status s)
{
    return name_of(vstatus_names, ARRAY_LEN(vstatus_names), (int)s);
}
const char *fmt_voucher_op_name(enum fmt_voucher_op_kind k)
{
    return name_of(vop_names, ARRAY_LEN(vop_names), (int)k);
}

int fmt_scf_kind_parse(const char *s)
{
    return parse_of(kind_names, ARRAY_LEN(kind_names), s);
}
int fmt_scf_status_parse(const char *s)
{
    return parse_of(status_names, ARRAY_LEN(status_names), s);
}
int fmt_scf_item_parse(const char *s)
{
    return parse_of(item_names, ARRAY_LEN(item_names), s);
}
int fmt_scf_item_from_iso(const char *s)
{
    return parse_of(item_iso, ARRAY_LEN(item_iso), s);
}
int fmt_scf_cancel_answer_parse(const char *s)
{
    return parse_of(cxl_names, ARRAY_LEN(cxl_names), s);
}
int fmt_scf_repay_kind_parse(const char *s)
{
    return parse_of(repay_names, ARRAY_LEN(repay_names), s);
}
int fmt_voucher_status_parse(const char *s)
{
    return parse_of(vstatus_names, ARRAY_LEN(vstatus_names), s);
}
int fmt_voucher_op_parse(const char *s)
{
    return parse_of(vop_names, ARRAY_LEN(vop_names), s);
}

/* ---- rates --------------------------------------------------------------- */

#define RATE_DECIMALS 10

int fmt_scf_rate_parse(const char *s, size_t len, int64_t *rate,
                       struct h2h_err *err)
{
    size_t i = 0, int_digits = 0, frac_digits = 0, sig = 0;
    int64_t v = 0;
    if (!s || len == 0)
        return h2h_err_set(err, H2H_EINVALID, "empty rate");
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (v || s[i] != '0')
            sig++;
        v = v * 10 + (s[i] - '0');
        if (sig > 18)
            goto toobig;
    }
    if (int_digits == 0)
        goto bad;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            /* Trailing zeros past the 10th decimal carry no value and are
             * accepted, as amount.c does for currencies; anything else
             * there would have to be rounded, which we never do. */
            if (i - start >= RATE_DECIMALS) {
                if (s[i] != '0')
                    return h2h_err_set(err, H2H_EINVALID,
                                       "rate %.*s has more than %d decimals",
                                       (int)len, s, RATE_DECIMALS);
                continue;
            }
            frac = frac * 10 + (s[i] - '0');
            frac_digits++;
        }
        if (i == start)
            goto bad;
    }
    if (i != len)
        goto bad;
    for (size_t k = frac_digits; k < RATE_DECIMALS; k++)
        frac *= 10;
    int64_t out;
    if (__builtin_mul_overflow(v, FMT_SCF_RATE_ONE, &out) ||
        __builtin_add_overflow(out, frac, &out))
        goto toobig;
    *rate = out;
    return 0;
toobig:
    return h2h_err_set(err, H2H_EINVALID, "rate %.*s is too large", (int)len,
                       s);
bad:
    return h2h_err_set(err, H2H_EINVALID,
                       "rate %.*s is not a plain decimal such as 3.45",
                       (int)len, s);
}

int fmt_scf_rate_format(int64_t rate, char *buf, size_t bufsz)
{
    if (rate < 0)
        return H2H_EINVALID;
    char tmp[48];
    int64_t ip = rate / FMT_SCF_RATE_ONE, fp = rate % FMT_SCF_RATE_ONE;
    int n;
    if (fp == 0) {
        n = snprintf(tmp, sizeof(tmp), "%lld", (long long)ip);
    } else {
        n = snprintf(tmp, sizeof(tmp), "%lld.%010lld", (long long)ip,
                     (long long)fp);
        while (tmp[n - 1] == '0')
            tmp[--n] = '\0';
    }
    if ((size_t)n >= bufsz)
        return H2H_ETOOBIG;
    memcpy(buf, tmp, (size_t)n + 1);
    return n;
}

/* ---- init / release ---------------------------------------------------- */

void fmt_scf_invoice_init(struct fmt_scf_invoice *i)
{
    if (!i)
        return;
    memset(i, 0, sizeof(*i));
    i->requested_rate = -1;
}

void fmt_scf_invoice_result_init(struct fmt_scf_invoice_result *r)
{
    if (!r)
        return;
    memset(r, 0, sizeof(*r));
    r->financed_rate = -1;
}

void fmt_scf_status_report_init(struct fmt_scf_status_report *r)
{
    if (!r)
        return;
    memset(r, 0, sizeof(*r));
    r->n_financed_items = -1;
    r->applied_pctg = -1;
    r->interest_rate = -1;
}

void fmt_scf_cancel_init(struct fmt_scf_cancel *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof(*c));
    c->nb_of_invoices = -1;
}

void fmt_voucher_inquiry_init(struct fmt_voucher_inquiry *q)
{
    if (!q)
        return;
    memset(q, 0, sizeof(*q));
    q->status = -1;
}

void fmt_scf_invoice_release(struct fmt_scf_invoice *i)
{
    if (!i)
        return;
    free(i->number);
    free(i->issue_date);
    free(i->due_date);
    fmt_party_release(&i->buyer);
    fmt_party_release(&i->seller);
    fmt_account_release(&i->seller_acct);
    free(i->pmt_method);
    free(i->contract_ref);
    free(i->tax_invoice_code);
    fmt_scf_invoice_init(i);
}

void fmt_scf_request_release(struct fmt_scf_request *r)
{
    if (!r)
        return;
    free(r->request_id);
    free(r->cre_dt_tm);
    fmt_party_release(&r->requestor);
    fmt_account_release(&r->credit_acct);
    fmt_account_release(&r->financing_acct);
    fmt_agent_release(&r->bank);
    fmt_agent_release(&r->intermediary);
    free(r->product);
    free(r->agreement_ref);
    free(r->contract_ref);
    free(r->value_date);
    for (size_t i = 0; r->invoices && i < r->n_invoices; i++)
        fmt_scf_invoice_release(&r->invoices[i]);
    free(r->invoices);
    free(r->addtl_info);
    memset(r, 0, sizeof(*r));
}

void fmt_scf_invoice_result_release(struct fmt_scf_invoice_result *r)
{
    if (!r)
        return;
    free(r->number);
    free(r->issue_date);
    free(r->due_date);
    fmt_party_release(&r->seller);
    fmt_reason_release(&r->reason);
    fmt_scf_invoice_result_init(r);
}

void fmt_scf_status_report_release(struct fmt_scf_status_report *r)
{
    if (!r)
        return;
    free(r->status_id);
    free(r->cre_dt_tm);
    free(r->orgnl_request_id);
    free(r->orgnl_cre_dt_tm);
    fmt_reason_release(&r->reason);
    fmt_reason_release(&r->cancel_reason);
    free(r->value_date);
    free(r->maturity_date);
    free(r->book_date);
    free(r->loan_ref);
    fmt_account_release(&r->credit_acct);
    fmt_account_release(&r->financing_acct);
    for (size_t i = 0; r->invoices && i < r->n_invoices; i++)
        fmt_scf_invoice_result_release(&r->invoices[i]);
    free(r->invoices);
    fmt_scf_status_report_init(r);
}

void fmt_scf_repayment_release(struct fmt_scf_repayment *r)
{
    if (!r)
        return;
    free(r->notice_id);
    free(r->request_id);
    free(r->loan_ref);
    free(r->due_date);
    fmt_account_release(&r->debit_acct);
    memset(r, 0, sizeof(*r));
}

void fmt_scf_inquiry_release(struct fmt_scf_inquiry *q)
{
    if (!q)
        return;
    free(q->inquiry_id);
    free(q->cre_dt_tm);
    free(q->request_id);
    memset(q, 0, sizeof(*q));
}

void fmt_scf_cancel_release(struct fmt_scf_cancel *c)
{
    if (!c)
        return;
    free(c->cancel_id);
    free(c->cre_dt_tm);
    free(c->orgnl_request_id);
    free(c->orgnl_cre_dt_tm);
    free(c->reason_code);
    free(c->reason);
    fmt_party_release(&c->requestor);
    fmt_agent_release(&c->bank);
    fmt_scf_cancel_init(c);
}

void fmt_scf_track_release(struct fmt_scf_track *t)
{
    if (!t)
        return;
    free(t->request_id);
    free(t->loan_ref);
    free(t->value_date);
    free(t->maturity_date);
    fmt_reason_release(&t->reason);
    memset(t, 0, sizeof(*t));
    t->interest_rate = -1;
}

void fmt_voucher_release(struct fmt_voucher *v)
{
    if (!v)
        return;
    free(v->id);
    free(v->parent_id);
    free(v->root_id);
    free(v->issuer);
    free(v->original_holder);
    free(v->transferor);
    free(v->holder);
    free(v->issue_date);
    free(v->maturity_date);
    free(v->status_date);
    free(v->fin_bank);
    free(v->fin_ref);
    free(v->fin_date);
    memset(v, 0, sizeof(*v));
}

void fmt_voucher_inquiry_release(struct fmt_voucher_inquiry *q)
{
    if (!q)
        return;
    free(q->inquiry_id);
    free(q->party);
    free(q->voucher_id);
    free(q->maturity_from);
    free(q->maturity_to);
    fmt_voucher_inquiry_init(q);
}

int fmt_voucher_copy(struct fmt_voucher *dst, const struct fmt_voucher *src)
{
    memset(dst, 0, sizeof(*dst));
    if (dup_opt(&dst->id, src->id) < 0 ||
        dup_opt(&dst->parent_id, src->parent_id) < 0 ||
        dup_opt(&dst->root_id, src->root_id) < 0 ||
        dup_opt(&dst->issuer, src->issuer) < 0 ||
        dup_opt(&dst->original_holder, src->original_holder) < 0 ||
        dup_opt(&dst->transferor, src->transferor) < 0 ||
        dup_opt(&dst->holder, src->holder) < 0 ||
        dup_opt(&dst->issue_date, src->issue_date) < 0 ||
        dup_opt(&dst->maturity_date, src->maturity_date) < 0 ||
        dup_opt(&dst->status_date, src->status_date) < 0 ||
        dup_opt(&dst->fin_bank, src->fin_bank) < 0 ||
        dup_opt(&dst->fin_ref, src->fin_ref) < 0 ||
        dup_opt(&dst->fin_date, src->fin_date) < 0) {
        fmt_voucher_release(dst);
        return H2H_ENOMEM;
    }
    dst->level = src->level;
    dst->amount = src->amount;
    dst->remaining = src->remaining;
    dst->status = src->status;
    dst->fin_amount = src->fin_amount;
    return 0;
}

/* ---- request status ---------------------------------------------------- */

/* The edges of the status table in scf.h; a row per "from". */
static const unsigned status_edges[FMT_SCF_STATUS__COUNT] = {
#define B(s) (1u << (s))
    [FMT_SCF_SUBMITTED] = B(FMT_SCF_UNDER_REVIEW) | B(FMT_SCF_APPROVED) |
                          B(FMT_SCF_REJECTED) | B(FMT_SCF_FINANCED) |
                          B(FMT_SCF_CANCELLED),
    [FMT_SCF_UNDER_REVIEW] = B(FMT_SCF_APPROVED) | B(FMT_SCF_REJECTED) |
                             B(FMT_SCF_FINANCED) | B(FMT_SCF_CANCELLED),
    /* No approved -> rejected: once the bank has committed to terms a
     * withdrawal of the offer comes as a cancellation on its side. */
    [FMT_SCF_APPROVED] = B(FMT_SCF_FINANCED) | B(FMT_SCF_CANCELLED),
    [FMT_SCF_FINANCED] = B(FMT_SCF_REPAID),
#undef B
};

int fmt_scf_status_can_move(enum fmt_scf_status from, enum fmt_scf_status to)
{
    if ((unsigned)from >= FMT_SCF_STATUS__COUNT ||
        (unsigned)to >= FMT_SCF_STATUS__COUNT)
        return 0;
    return (status_edges[from] >> to) & 1u;
}

int fmt_scf_status_is_final(enum fmt_scf_status s)
{
    return s == FMT_SCF_REJECTED || s == FMT_SCF_REPAID ||
           s == FMT_SCF_CANCELLED;
}

int fmt_scf_track_init(struct fmt_scf_track *t,
                       const struct fmt_scf_request *req, struct h2h_err *err)
{
    memset(t, 0, sizeof(*t));
    t->interest_rate = -1;
    if (!req || empty(req->request_id))
        return h2h_err_set(err, H2H_EINVALID, "the request has no id");
    if (dup_opt(&t->request_id, req->request_id) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    t->status = FMT_SCF_SUBMITTED;
    t->requested = req->requested;
    return 0;
}

/* A term of a repeated status must agree with the one already known. */
static int same_or_unknown(const char *known, const char *given)
{
    return !known || !given || strcmp(known, given) == 0;
}

int fmt_scf_track_status(struct fmt_scf_track *t,
                         const struct fmt_scf_status_report *rep,
                         struct h2h_err *err)
{
    char a1[64], a2[64];
    if (!rep || !t)
        return h2h_err_set(err, H2H_EINVALID, "no report");
    const char *id = t->request_id;
    if (!streq(rep->orgnl_request_id, id))
        return h2h_err_set(
            err, H2H_EINVALID, "status report %s is about request %s, not %s",
            rep->status_id ? rep->status_id : "(no id)",
            rep->orgnl_request_id ? rep->orgnl_request_id : "(none)",
            id ? id : "(none)");
    enum fmt_scf_status to = rep->status, from = t->status;
    if ((unsigned)to >= FMT_SCF_STATUS__COUNT)
        return h2h_err_set(err, H2H_EINVALID, "request %s: unknown status %d",
                           id, (int)to);
    int repeat = to == from;
    if (!repeat && !fmt_scf_status_can_move(from, to)) {
        if (to == FMT_SCF_CANCELLED &&
            (from == FMT_SCF_FINANCED || from == FMT_SCF_REPAID))
            return h2h_err_set(err, H2H_ESTATE,
                               "request %s was already disbursed; it can no "
                               "longer be cancelled",
                               id);
        if (fmt_scf_status_is_final(from))
            return h2h_err_set(err, H2H_ESTATE,
                               "request %s is %s, which is final; a report of "
                               "%s cannot follow",
                               id, fmt_scf_status_name(from),
                               fmt_scf_status_name(to));
        return h2h_err_set(err, H2H_ESTATE,
                           "request %s is %s; it cannot become %s", id,
                           fmt_scf_status_name(from), fmt_scf_status_name(to));
    }
    if (rep->cancel_answer == FMT_SCF_CXL_ACCEPTED && to != FMT_SCF_CANCELLED)
        return h2h_err_set(err, H2H_EINVALID,
                           "request %s: the cancellation was accepted but the "
                           "status is %s",
                           id, fmt_scf_status_name(to));
    if (rep->cancel_answer == FMT_SCF_CXL_REFUSED && to == FMT_SCF_CANCELLED)
        return h2h_err_set(err, H2H_EINVALID,
                           "request %s: the cancellation was refused but the "
                           "status is cancelled",
                           id);

    /* The amount this report sets, if any, and what it must respect. */
    struct fmt_amount approved = t->approved, financed = t->financed;
    const struct fmt_amount *f = &rep->financed;
    const char *ccy = t->requested.ccy;
    if (has_amount(f)) {
        if (strcmp(f->ccy, ccy) != 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "request %s: financed amount in %s, request in "
                               "%s",
                               id, f->ccy, ccy);
        if (f->minor <= 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "request %s: financed amount %s is not "
                               "positive",
                               id, money(a1, sizeof(a1), f->minor, f->ccy));
        if (f->minor > t->requested.minor)
            return h2h_err_set(
                err, H2H_EINVALID,
                "request %s: financed amount %s is more than the %s requested",
                id, money(a1, sizeof(a1), f->minor, ccy),
                money(a2, sizeof(a2), t->requested.minor, ccy));
    }
    if (to == FMT_SCF_APPROVED) {
        if (!has_amount(f))
            return h2h_err_set(err, H2H_EINVALID,
                               "request %s: an approval must name the "
                               "financed amount",
                               id);
        if (repeat && has_amount(&t->approved) && t->approved.minor != f->minor)
            return h2h_err_set(
                err, H2H_EINVALID,
                "request %s: approved again for %s, but %s was approved", id,
                money(a1, sizeof(a1), f->minor, ccy),
                money(a2, sizeof(a2), t->approved.minor, ccy));
        approved = *f;
    } else if (to == FMT_SCF_FINANCED) {
        if (!has_amount(f) && !has_amount(&t->approved) &&
            !has_amount(&t->financed))
            return h2h_err_set(err, H2H_EINVALID,
                               "request %s: a disbursement must name the "
                               "amount",
                               id);
        struct fmt_amount amt =
            has_amount(f)
                ? *f
                : (has_amount(&t->financed) ? t->financed : t->approved);
        if (has_amount(&t->approved) && amt.minor > t->approved.minor)
            return h2h_err_set(
                err, H2H_EINVALID,
                "request %s: disbursed %s is more than the %s approved", id,
                money(a1, sizeof(a1), amt.minor, ccy),
                money(a2, sizeof(a2), t->approved.minor, ccy));
        if (repeat && has_amount(&t->financed) &&
            t->financed.minor != amt.minor)
            return h2h_err_set(
                err, H2H_EINVALID,
                "request %s: reported disbursed for %s, but %s was disbursed",
                id, money(a1, sizeof(a1), amt.minor, ccy),
                money(a2, sizeof(a2), t->financed.minor, ccy));
        financed = amt;
    }
    if (repeat && (!same_or_unknown(t->value_date, rep->value_date) ||
                   !same_or_unknown(t->maturity_date, rep->maturity_date) ||
                   !same_or_unknown(t->loan_ref, rep->loan_ref) ||
                   (t->interest_rate >= 0 && rep->interest_rate >= 0 &&
                    t->interest_rate != rep->interest_rate)))
        return h2h_err_set(err, H2H_EINVALID,
                           "request %s: a repeated %s report contradicts the "
                           "terms already known",
                           id, fmt_scf_status_name(to));

    /* Dates: the latest word of the bank wins on a move. */
    const char *vd = rep->value_date ? rep->value_date : t->value_date;
    const char *md = rep->maturity_date ? rep->maturity_date : t->maturity_date;
    if (vd && fmt_date_check(vd, NULL) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "request %s: value date %s is not a date", id, vd);
    if (md && fmt_date_check(md, NULL) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "request %s: maturity %s is not a date", id, md);
    if (vd && md && fmt_date_days(md) < fmt_date_days(vd))
        return h2h_err_set(err, H2H_EINVALID,
                           "request %s: maturity %s is before the value date "
                           "%s",
                           id, md, vd);

    /* Everything checked: allocate what we keep, then commit. */
    char *n_vd = NULL, *n_md = NULL, *n_loan = NULL;
    struct fmt_reason n_rsn = {0};
    const struct fmt_reason *src_rsn =
        to == FMT_SCF_REJECTED                      ? &rep->reason
        : rep->cancel_answer == FMT_SCF_CXL_REFUSED ? &rep->cancel_reason
                                                    : NULL;
    if (dup_opt(&n_vd, vd) < 0 || dup_opt(&n_md, md) < 0 ||
        dup_opt(&n_loan, rep->loan_ref ? rep->loan_ref : t->loan_ref) < 0 ||
        (src_rsn && (dup_opt(&n_rsn.code, src_rsn->code) < 0 ||
                     dup_opt(&n_rsn.prtry, src_rsn->prtry) < 0 ||
                     dup_opt(&n_rsn.addtl_info, src_rsn->addtl_info) < 0))) {
        free(n_vd);
        free(n_md);
        free(n_loan);
        fmt_reason_release(&n_rsn);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    free(t->value_date);
    t->value_date = n_vd;
    free(t->maturity_date);
    t->maturity_date = n_md;
    free(t->loan_ref);
    t->loan_ref = n_loan;
    if (src_rsn) {
        fmt_reason_release(&t->reason);
        t->reason = n_rsn;
    }
    if (rep->interest_rate >= 0)
        t->interest_rate = rep->interest_rate;
    t->approved = approved;
    t->financed = financed;
    if (to == FMT_SCF_REPAID && !repeat)
        t->repaid = t->financed;
    t->status = to;
    return 0;
}

int fmt_scf_track_repayment(struct fmt_scf_track *t,
                            const struct fmt_scf_repayment *rp,
                            struct h2h_err *err)
{
    char a1[64], a2[64];
    if (!t || !rp)
        return h2h_err_set(err, H2H_EINVALID, "no repayment notice");
    const char *id = t->request_id;
    const char *nid = rp->notice_id ? rp->notice_id : "(no id)";
    int ours = rp->request_id ? streq(rp->request_id, id)
                              : streq(rp->loan_ref, t->loan_ref);
    if (!ours)
        return h2h_err_set(err, H2H_EINVALID,
                           "repayment notice %s is about %s, not request %s",
                           nid,
                           rp->request_id ? rp->request_id
                           : rp->loan_ref ? rp->loan_ref
                                          : "(nothing named)",
                           id);
    if (t->status != FMT_SCF_FINANCED)
        return h2h_err_set(err, H2H_ESTATE,
                           "repayment notice %s: request %s is %s, not "
                           "financed; there is nothing to repay",
                           nid, id, fmt_scf_status_name(t->status));
    const char *ccy = t->financed.ccy;
    if (strcmp(rp->amount.ccy, ccy) != 0 || rp->amount.minor <= 0)
        return h2h_err_set(
            err, H2H_EINVALID,
            "repayment notice %s: amount %s must be positive "
            "and in %s",
            nid, money(a1, sizeof(a1), rp->amount.minor, rp->amount.ccy), ccy);
    if (rp->due_date && fmt_date_check(rp->due_date, NULL) < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "repayment notice %s: %s is not a date", nid,
                           rp->due_date);
    int64_t principal = rp->amount.minor;
    if (has_amount(&rp->principal)) {
        if (strcmp(rp->principal.ccy, ccy) != 0 || rp->principal.minor < 0 ||
            rp->principal.minor > rp->amount.minor)
            return h2h_err_set(
                err, H2H_EINVALID,
                "repayment notice %s: principal %s must be in %s and at "
                "most the total %s",
                nid,
                money(a1, sizeof(a1), rp->principal.minor, rp->principal.ccy),
                ccy, money(a2, sizeof(a2), rp->amount.minor, ccy));
        principal = rp->principal.minor;
        if (has_amount(&rp->interest) &&
            (strcmp(rp->interest.ccy, ccy) != 0 ||
             rp->interest.minor + principal != rp->amount.minor))
            return h2h_err_set(err, H2H_EINVALID,
                               "repayment notice %s: principal and interest "
                               "do not add up to the total %s",
                               nid,
                               money(a1, sizeof(a1), rp->amount.minor, ccy));
    }
    if (rp->kind == FMT_SCF_REPAY_DUE)
        return 0; /* an announcement changes nothing we track */
    if (rp->kind != FMT_SCF_REPAY_PAID)
        return h2h_err_set(err, H2H_EINVALID,
                           "repayment notice %s: unknown kind %d", nid,
                           (int)rp->kind);
    int64_t repaid = has_amount(&t->repaid) ? t->repaid.minor : 0;
    if (principal > t->financed.minor - repaid)
        return h2h_err_set(
            err, H2H_EINVALID,
            "repayment notice %s: %s repaid would exceed the %s still "
            "outstanding on request %s",
            nid, money(a1, sizeof(a1), principal, ccy),
            money(a2, sizeof(a2), t->financed.minor - repaid, ccy), id);
    t->repaid.minor = repaid + principal;
    memcpy(t->repaid.ccy, ccy, sizeof(t->repaid.ccy));
    if (t->repaid.minor == t->financed.minor)
        t->status = FMT_SCF_REPAID;
    return 0;
}

int fmt_scf_cancel_check(const struct fmt_scf_track *t,
                         const struct fmt_scf_cancel *c, struct h2h_err *err)
{
    if (!t || !c)
        return h2h_err_set(err, H2H_EINVALID, "no cancellation");
    if (!streq(c->orgnl_request_id, t->request_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "the cancellation names request %s, not %s",
                           c->orgnl_request_id ? c->orgnl_request_id : "(none)",
                           t->request_id);
    switch (t->status) {
    case FMT_SCF_SUBMITTED:
    case FMT_SCF_UNDER_REVIEW:
    case FMT_SCF_APPROVED: break;
    case FMT_SCF_FINANCED:
    case FMT_SCF_REPAID:
        return h2h_err_set(err, H2H_ESTATE,
                           "request %s was already disbursed; it can no "
                           "longer be cancelled",
                           t->request_id);
    default:
        return h2h_err_set(err, H2H_ESTATE,
                           "request %s is %s, which is final; there is "
                           "nothing to cancel",
                           t->request_id, fmt_scf_status_name(t->status));
    }
    size_t n = utf8_chars(c->reason);
    if (n == 0 || n > SCF_CXL_REASON_MAX)
        return h2h_err_set(err, H2H_EINVALID,
                           "a cancellation needs a reason of 1 to %d "
                           "characters (has %zu)",
                           SCF_CXL_REASON_MAX, n);
    return 0;
}

/* ---- request rules ----------------------------------------------------- */

struct rq_ctx {
    struct fmt_diag *d;
    int n;
};

static void problem(struct rq_ctx *c, int line, const char *where,
                    const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void problem(struct rq_ctx *c, int line, const char *where,
                    const char *rule, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->n++;
    fmt_diag_add(c->d, line, where, rule, "%s", msg);
}

static int acct_present(const struct fmt_account *a)
{
    return !empty(a->iban) || !empty(a->other_id);
}

static int party_present(const struct fmt_party *p)
{
    return !empty(p->name) || !empty(p->org_id);
}

/* Key under which a seller's invoice numbers must be unique. */
static const char *seller_key(const struct fmt_scf_invoice *iv)
{
    if (!empty(iv->seller.org_id))
        return iv->seller.org_id;
    if (!empty(iv->seller.name))
        return iv->seller.name;
    return "";
}

static int tax_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n != 10 && n != 12)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void check_invoice(struct rq_ctx *c, const struct fmt_scf_request *r,
                          size_t k, const char *today, long vd_days)
{
    const struct fmt_scf_invoice *iv = &r->invoices[k];
    char w[64], a1[64], a2[64], a3[64];
    int line = iv->line;
    const char *num = iv->number ? iv->number : "(no number)";
    snprintf(w, sizeof(w), "invoice[%zu]", k + 1);

    if (empty(iv->number) || utf8_chars(iv->number) > SCF_ID_MAX)
        problem(c, line, w, "scf.invoice.number",
                "invoice number must have 1 to %d characters", SCF_ID_MAX);
    for (size_t j = 0; j < k && !empty(iv->number); j++) {
        const struct fmt_scf_invoice *o = &r->invoices[j];
        if (streq(o->number, iv->number) &&
            strcmp(seller_key(o), seller_key(iv)) == 0) {
            problem(c, line, w, "scf.invoice.dup",
                    "invoice %s is listed twice (also invoice[%zu])", num,
                    j + 1);
            break;
        }
    }
    long isd = fmt_date_days(iv->issue_date), due = fmt_date_days(iv->due_date);
    if (isd == INT32_MIN || due == INT32_MIN)
        problem(c, line, w, "scf.invoice.dates",
                "invoice %s needs a valid issue date and due date", num);
    else if (due < isd)
        problem(c, line, w, "scf.invoice.dates",
                "invoice %s is due on %s, before it was issued on %s", num,
                iv->due_date, iv->issue_date);
    if (due != INT32_MIN) {
        /* A receivable already due is no longer financed but collected. */
        if (vd_days != INT32_MIN && due <= vd_days)
            problem(c, line, w, "scf.invoice.due",
                    "invoice %s is due on %s, not after the value date %s", num,
                    iv->due_date, r->value_date);
        else if (today && fmt_date_days(today) != INT32_MIN &&
                 due <= fmt_date_days(today))
            problem(c, line, w, "scf.invoice.due",
                    "invoice %s was due on %s; only invoices not yet due can "
                    "be financed",
                    num, iv->due_date);
    }
    if (strcmp(iv->amount.ccy, r->ccy) != 0 || iv->amount.minor <= 0)
        problem(c, line, w, "scf.invoice.amount",
                "invoice %s amount %s must be positive and in %s", num,
                money(a1, sizeof(a1), iv->amount.minor, iv->amount.ccy),
                r->ccy);
    else if (has_amount(&iv->taxable) && has_amount(&iv->tax) &&
             (strcmp(iv->taxable.ccy, r->ccy) != 0 ||
              strcmp(iv->tax.ccy, r->ccy) != 0 ||
              iv->taxable.minor + iv->tax.minor != iv->amount.minor))
        problem(c, line, w, "scf.invoice.amount",
                "invoice %s: taxable %s plus tax %s is not the total %s", num,
                money(a1, sizeof(a1), iv->taxable.minor, iv->taxable.ccy),
                money(a2, sizeof(a2), iv->tax.minor, iv->tax.ccy),
                money(a3, sizeof(a3), iv->amount.minor, iv->amount.ccy));
    if (has_amount(&iv->requested)) {
        if (iv->requested_rate >= 0)
            problem(c, line, w, "scf.invoice.requested",
                    "invoice %s asks for an amount and a rate; give one", num);
        else if (strcmp(iv->requested.ccy, r->ccy) != 0 ||
                 iv->requested.minor <= 0 ||
                 iv->requested.minor > iv->amount.minor)
            problem(
                c, line, w, "scf.invoice.requested",
                "invoice %s: financing asked %s must be positive, in %s "
                "and at most the invoice amount %s",
                num,
                money(a1, sizeof(a1), iv->requested.minor, iv->requested.ccy),
                r->ccy,
                money(a2, sizeof(a2), iv->amount.minor, iv->amount.ccy));
    } else if (iv->requested_rate == 0 || iv->requested_rate < -1 ||
               iv->requested_rate > 100 * FMT_SCF_RATE_ONE) {
        problem(c, line, w, "scf.invoice.requested",
                "invoice %s: the share asked must be above 0 and at most "
                "100 percent",
                num);
    }
    if (r->kind == FMT_SCF_REVERSE_FACTORING) {
        /* The buyer is us; left out it means the requestor. */
        if (!empty(iv->buyer.org_id) && !empty(r->requestor.org_id) &&
            strcmp(iv->buyer.org_id, r->requestor.org_id) != 0)
            problem(c, line, w, "scf.invoice.buyer",
                    "invoice %s: in reverse factoring the buyer is the "
                    "requestor %s, not %s",
                    num, r->requestor.org_id, iv->buyer.org_id);
        if (!party_present(&iv->seller) || !acct_present(&iv->seller_acct))
            problem(c, line, w, "scf.supplier",
                    "invoice %s: reverse factoring needs the supplier and the "
                    "supplier's account to credit",
                    num);
        else if (!empty(iv->seller.org_id) && !empty(r->requestor.org_id) &&
                 strcmp(iv->seller.org_id, r->requestor.org_id) == 0)
            problem(c, line, w, "scf.supplier",
                    "invoice %s: the supplier cannot be the requestor itself",
                    num);
    } else if (!party_present(&iv->buyer)) {
        problem(c, line, w, "scf.invoice.buyer",
                "invoice %s names no buyer (the debtor of the receivable)",
                num);
    }
    if (iv->tax_invoice_code && !tax_code_ok(iv->tax_invoice_code))
        problem(c, line, w, "scf.invoice.tax_code",
                "invoice %s: tax invoice code %s must be 10 or 12 digits", num,
                iv->tax_invoice_code);
}

int fmt_scf_request_check(const struct fmt_scf_request *r, const char *today,
                          struct fmt_diag *d)
{
    struct rq_ctx c = {d, 0};
    char a1[64], a2[64];
    if (!r) {
        problem(&c, 0, NULL, "scf.id", "no request");
        return c.n;
    }
    if (empty(r->request_id) || utf8_chars(r->request_id) > SCF_ID_MAX)
        problem(&c, 0, "request_id", "scf.id",
                "the request id must have 1 to %d characters", SCF_ID_MAX);
    if ((unsigned)r->kind > FMT_SCF_REVERSE_FACTORING)
        problem(&c, 0, "kind", "scf.id", "unknown request kind %d",
                (int)r->kind);
    int ccy_ok = fmt_ccy_valid(r->ccy);
    if (!ccy_ok)
        problem(&c, 0, "ccy", "scf.ccy", "currency '%s' is not ISO 4217",
                r->ccy);
    if (strcmp(r->requested.ccy, r->ccy) != 0 || r->requested.minor <= 0)
        problem(&c, 0, "requested", "scf.amount",
                "the financing requested %s must be positive and in %s",
                money(a1, sizeof(a1), r->requested.minor, r->requested.ccy),
                r->ccy);
    if (!party_present(&r->requestor))
        problem(&c, 0, "requestor", "scf.requestor",
                "the request names no requestor");
    if (r->kind == FMT_SCF_RECEIVABLE && !acct_present(&r->credit_acct))
        problem(&c, 0, "credit_acct", "scf.account",
                "the request names no account to credit");
    const struct fmt_agent *b = &r->bank;
    if (empty(b->bic) && empty(b->other_id) && empty(b->clr_mmb_id) &&
        empty(b->name))
        problem(&c, 0, "bank", "scf.bank", "the request names no bank");
    else if (!empty(b->bic) && fmt_bic_check(b->bic, NULL) < 0)
        problem(&c, 0, "bank", "scf.bank", "bank BIC %s is not valid", b->bic);
    long vd = INT32_MIN;
    if (r->value_date) {
        vd = fmt_date_days(r->value_date);
        if (vd == INT32_MIN)
            problem(&c, 0, "value_date", "scf.value_date",
                    "value date %s is not a date", r->value_date);
        else if (today && fmt_date_days(today) != INT32_MIN &&
                 vd < fmt_date_days(today))
            problem(&c, 0, "value_date", "scf.value_date",
                    "value date %s is in the past (today is %s)", r->value_date,
                    today);
    }
    if (r->n_invoices == 0 || !r->invoices) {
        problem(&c, 0, "invoices", "scf.invoices",
                "the request lists no invoice");
        return c.n;
    }
    int64_t total = 0, asked = 0;
    size_t n_asked = 0;
    int overflow = 0;
    for (size_t k = 0; k < r->n_invoices; k++) {
        const struct fmt_scf_invoice *iv = &r->invoices[k];
        check_invoice(&c, r, k, today, vd);
        if (strcmp(iv->amount.ccy, r->ccy) == 0 && iv->amount.minor > 0)
            overflow |= __builtin_add_overflow(total, iv->amount.minor, &total);
        if (has_amount(&iv->requested) &&
            strcmp(iv->requested.ccy, r->ccy) == 0 && iv->requested.minor > 0) {
            overflow |=
                __builtin_add_overflow(asked, iv->requested.minor, &asked);
            n_asked++;
        }
    }
    if (!ccy_ok)
        return c.n;
    if (overflow) {
        problem(&c, 0, "invoices", "scf.sum", "the invoice amounts overflow");
        return c.n;
    }
    /* Financing is asked against the invoices: never more than they are
     * worth, and when every invoice says how much, the parts make the
     * whole (invoices asked by rate are not summed: that would round). */
    int64_t req = r->requested.minor;
    if (req > total)
        problem(&c, 0, "requested", "scf.sum",
                "the financing requested %s exceeds the invoices' total %s",
                money(a1, sizeof(a1), req, r->ccy),
                money(a2, sizeof(a2), total, r->ccy));
    if (n_asked == r->n_invoices && asked != req)
        problem(&c, 0, "requested", "scf.sum",
                "the amounts asked per invoice add up to %s, not to the %s "
                "requested",
                money(a1, sizeof(a1), asked, r->ccy),
                money(a2, sizeof(a2), req, r->ccy));
    else if (n_asked < r->n_invoices && asked > req)
        problem(&c, 0, "requested", "scf.sum",
                "the amounts asked per invoice (%s) exceed the %s requested",
                money(a1, sizeof(a1), asked, r->ccy),
                money(a2, sizeof(a2), req, r->ccy));
    return c.n;
}

static int seller_matches(const struct fmt_party *a, const struct fmt_party *b)
{
    if (!empty(a->org_id) && !empty(b->org_id))
        return strcmp(a->org_id, b->org_id) == 0;
    if (!empty(a->name) && !empty(b->name))
        return strcmp(a->name, b->name) == 0;
    return 1; /* one of them does not say: no contradiction */
}

int fmt_scf_status_report_check(const struct fmt_scf_status_report *rep,
                                const struct fmt_scf_request *req,
                                struct h2h_err *err)
{
    char a1[64], a2[64];
    if (!rep || !req)
        return h2h_err_set(err, H2H_EINVALID, "no report or request");
    if (!streq(rep->orgnl_request_id, req->request_id))
        return h2h_err_set(
            err, H2H_EINVALID, "the report is about request %s, not %s",
            rep->orgnl_request_id ? rep->orgnl_request_id : "(none)",
            req->request_id ? req->request_id : "(none)");
    int64_t sum = 0;
    size_t n_unsummed = 0; /* accepted invoices without a financed amount */
    size_t n_fin = 0;
    for (size_t k = 0; k < rep->n_invoices; k++) {
        const struct fmt_scf_invoice_result *ir = &rep->invoices[k];
        const struct fmt_scf_invoice *iv = NULL;
        for (size_t j = 0; j < req->n_invoices && !iv; j++)
            if (streq(req->invoices[j].number, ir->number) &&
                seller_matches(&req->invoices[j].seller, &ir->seller))
                iv = &req->invoices[j];
        const char *num = ir->number ? ir->number : "(no number)";
        if (!iv)
            return h2h_err_set(err, H2H_ENOTFOUND,
                               "the report has a result for invoice %s, which "
                               "request %s does not list",
                               num, req->request_id);
        if (!has_amount(&ir->financed)) {
            /* financed by rate: its amount is in the total only */
            if (ir->result == FMT_SCF_ITEM_ACCEPTED)
                n_unsummed++;
            continue;
        }
        if (strcmp(ir->financed.ccy, req->ccy) != 0 || ir->financed.minor < 0)
            return h2h_err_set(
                err, H2H_EINVALID, "invoice %s: financed %s is not a %s amount",
                num,
                money(a1, sizeof(a1), ir->financed.minor, ir->financed.ccy),
                req->ccy);
        if (ir->result == FMT_SCF_ITEM_REJECTED && ir->financed.minor != 0)
            return h2h_err_set(
                err, H2H_EINVALID,
                "invoice %s was rejected yet %s is reported "
                "financed on it",
                num, money(a1, sizeof(a1), ir->financed.minor, req->ccy));
        int64_t cap =
            has_amount(&iv->requested) ? iv->requested.minor : iv->amount.minor;
        if (ir->financed.minor > cap)
            return h2h_err_set(
                err, H2H_EINVALID,
                "invoice %s: financed %s is more than the %s it could carry",
                num, money(a1, sizeof(a1), ir->financed.minor, req->ccy),
                money(a2, sizeof(a2), cap, req->ccy));
        if (ir->result == FMT_SCF_ITEM_ACCEPTED) {
            if (__builtin_add_overflow(sum, ir->financed.minor, &sum))
                return h2h_err_set(err, H2H_EINVALID,
                                   "financed amounts overflow");
            n_fin++;
        }
    }
    if (n_fin > 0 && has_amount(&rep->financed) &&
        (n_unsummed ? rep->financed.minor < sum : rep->financed.minor != sum))
        return h2h_err_set(
            err, H2H_EINVALID,
            "the invoices' financed amounts add up to %s, the report's total "
            "is %s",
            money(a1, sizeof(a1), sum, req->ccy),
            money(a2, sizeof(a2), rep->financed.minor, rep->financed.ccy));
    return 0;
}

/* ---- vouchers ---------------------------------------------------------- */

void fmt_voucher_set_init(struct fmt_voucher_set *s)
{
    if (s)
        memset(s, 0, sizeof(*s));
}

void fmt_voucher_set_release(struct fmt_voucher_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->v && i < s->n; i++)
        fmt_voucher_release(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

const struct fmt_voucher *fmt_voucher_find(const struct fmt_voucher *v,
                                           size_t n, const char *id)
{
    if (!v || !id)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (streq(v[i].id, id))
            return &v[i];
    return NULL;
}

/* Room for one more; 0 or H2H_ENOMEM. */
static int set_reserve(struct fmt_voucher_set *s)
{
    if (s->n < s->cap)
        return 0;
    size_t nc = s->cap ? s->cap * 2 : 16;
    struct fmt_voucher *nv = realloc(s->v, nc * sizeof(*nv));
    if (!nv)
        return H2H_ENOMEM;
    s->v = nv;
    s->cap = nc;
    return 0;
}

int fmt_voucher_set_add(struct fmt_voucher_set *s,
                        const struct fmt_voucher *src, struct h2h_err *err)
{
    if (!src || empty(src->id))
        return h2h_err_set(err, H2H_EINVALID, "a voucher without id");
    if (fmt_voucher_find(s->v, s->n, src->id))
        return h2h_err_set(err, H2H_EDUP, "voucher %s is already in the set",
                           src->id);
    if (set_reserve(s) < 0 || fmt_voucher_copy(&s->v[s->n], src) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    s->n++;
    return 0;
}

static int is_live(enum fmt_voucher_status s)
{
    return s == FMT_VOUCHER_PENDING || s == FMT_VOUCHER_HELD ||
           s == FMT_VOUCHER_FINANCED;
}

static int is_dead(enum fmt_voucher_status s)
{
    return s == FMT_VOUCHER_REFUSED || s == FMT_VOUCHER_WITHDRAWN;
}

static const char *nz(const char *s)
{
    return s ? s : "?";
}

/* Where a voucher stands, in words, for refusals ("is financed at ..."). */
static const char *describe(const struct fmt_voucher *x, char *buf, size_t sz)
{
    switch (x->status) {
    case FMT_VOUCHER_PENDING:
        snprintf(buf, sz, "is still awaiting signature by %s", nz(x->holder));
        break;
    case FMT_VOUCHER_HELD:
        snprintf(buf, sz, "is held by %s", nz(x->holder));
        break;
    case FMT_VOUCHER_FINANCED:
        snprintf(buf, sz, "is financed at %s since %s", nz(x->fin_bank),
                 nz(x->fin_date));
        break;
    case FMT_VOUCHER_SETTLED:
        snprintf(buf, sz, "was settled on %s", nz(x->status_date));
        break;
    case FMT_VOUCHER_REFUSED:
        snprintf(buf, sz, "was refused by %s on %s and no longer exists",
                 nz(x->holder), nz(x->status_date));
        break;
    case FMT_VOUCHER_WITHDRAWN:
        snprintf(buf, sz, "was withdrawn by %s on %s and no longer exists",
                 nz(x->transferor), nz(x->status_date));
        break;
    default: snprintf(buf, sz, "is in an unknown state"); break;
    }
    return buf;
}

/* A pending child of x in v, or NULL. */
static const struct fmt_voucher *pending_child(const struct fmt_voucher *v,
                                               size_t n,
                                               const struct fmt_voucher *x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].status == FMT_VOUCHER_PENDING && streq(v[i].parent_id, x->id))
            return &v[i];
    return NULL;
}

/* The currency of an op's amount: its own, or the voucher's when empty. */
static int op_ccy_ok(const struct fmt_voucher_op *op,
                     const struct fmt_voucher *x, struct h2h_err *err)
{
    if (op->amount.ccy[0] && strcmp(op->amount.ccy, x->amount.ccy) != 0)
        return h2h_err_set(
            err, H2H_EINVALID, "voucher %s is in %s; the %s names %s", x->id,
            x->amount.ccy, fmt_voucher_op_name(op->kind), op->amount.ccy);
    return 0;
}

static int check_issue(const struct fmt_voucher *v, size_t n,
                       const struct fmt_voucher_op *op, long day,
                       struct h2h_err *err)
{
    char a1[64];
    if (empty(op->voucher_id))
        return h2h_err_set(err, H2H_EINVALID, "the issue names no voucher id");
    if (fmt_voucher_find(v, n, op->voucher_id))
        return h2h_err_set(err, H2H_EDUP, "voucher %s already exists",
                           op->voucher_id);
    if (empty(op->counterparty))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: the issue names no supplier",
                           op->voucher_id);
    if (strcmp(op->counterparty, op->actor) == 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: %s cannot issue a voucher to itself",
                           op->voucher_id, op->actor);
    if (!fmt_ccy_valid(op->amount.ccy))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: currency '%s' is not ISO 4217",
                           op->voucher_id, op->amount.ccy);
    if (op->amount.minor <= 0)
        return h2h_err_set(
            err, H2H_EINVALID, "voucher %s: the amount %s must be positive",
            op->voucher_id,
            money(a1, sizeof(a1), op->amount.minor, op->amount.ccy));
    long mat = fmt_date_days(op->maturity_date);
    if (mat == INT32_MIN)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: maturity %s is not a date",
                           op->voucher_id, nz(op->maturity_date));
    if (mat <= day)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: maturity %s must be after the issue "
                           "date %s",
                           op->voucher_id, op->maturity_date, op->date);
    return 0;
}

static int check_settle(const struct fmt_voucher *v, size_t n,
                        const struct fmt_voucher_op *op,
                        const struct fmt_voucher *x, long day,
                        struct h2h_err *err)
{
    char d1[160];
    const char *root = x->root_id ? x->root_id : x->id;
    if (!streq(op->actor, x->issuer))
        return h2h_err_set(err, H2H_EINVALID,
                           "only the issuer %s settles voucher %s; %s cannot",
                           nz(x->issuer), x->id, op->actor);
    if (day < fmt_date_days(x->maturity_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s matures on %s; it cannot be settled "
                           "before (%s)",
                           x->id, nz(x->maturity_date), op->date);
    /* The root may be outside a partial view: group by root_id. */
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fmt_voucher *y = &v[i];
        if (!streq(y->root_id ? y->root_id : y->id, root))
            continue;
        if (y->status == FMT_VOUCHER_SETTLED)
            return h2h_err_set(err, H2H_ESTATE,
                               "the vouchers of %s were already settled on %s",
                               root, nz(y->status_date));
        if (y->status == FMT_VOUCHER_PENDING)
            return h2h_err_set(err, H2H_ESTATE,
                               "voucher %s %s; it must be signed, refused or "
                               "withdrawn before settlement",
                               y->id, describe(y, d1, sizeof(d1)));
        if (is_live(y->status))
            live++;
    }
    if (live == 0)
        return h2h_err_set(err, H2H_ESTATE, "nothing to settle: voucher %s %s",
                           x->id, describe(x, d1, sizeof(d1)));
    return 0;
}

int fmt_voucher_check(const struct fmt_voucher *v, size_t n,
                      const struct fmt_voucher_op *op, struct h2h_err *err)
{
    char d1[160], a1[64], a2[64];
    if (!op)
        return h2h_err_set(err, H2H_EINVALID, "no operation");
    if ((unsigned)op->kind >= FMT_VOUCHER_OP__COUNT)
        return h2h_err_set(err, H2H_EINVALID, "unknown voucher operation %d",
                           (int)op->kind);
    const char *opn = fmt_voucher_op_name(op->kind);
    long day = fmt_date_days(op->date);
    if (day == INT32_MIN)
        return h2h_err_set(err, H2H_EINVALID, "%s: date %s is not a date", opn,
                           nz(op->date));
    if (empty(op->actor))
        return h2h_err_set(err, H2H_EINVALID, "%s: no party named as actor",
                           opn);
    if (op->kind == FMT_VOUCHER_ISSUE)
        return check_issue(v, n, op, day, err);

    const struct fmt_voucher *x = fmt_voucher_find(v, n, op->voucher_id);
    if (!x)
        return h2h_err_set(err, H2H_ENOTFOUND, "%s: no voucher %s", opn,
                           nz(op->voucher_id));
    if (day < fmt_date_days(x->issue_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "%s of voucher %s dated %s, before it was issued "
                           "on %s",
                           opn, x->id, op->date, nz(x->issue_date));
    if (op->kind == FMT_VOUCHER_SETTLE)
        return check_settle(v, n, op, x, day, err);

    switch (op->kind) {
    case FMT_VOUCHER_SIGN:
    case FMT_VOUCHER_REFUSE:
    case FMT_VOUCHER_WITHDRAW: {
        if (x->status != FMT_VOUCHER_PENDING)
            return h2h_err_set(err, H2H_ESTATE,
                               "voucher %s %s; only a pending voucher can be "
                               "%s",
                               x->id, describe(x, d1, sizeof(d1)),
                               op->kind == FMT_VOUCHER_SIGN     ? "signed"
                               : op->kind == FMT_VOUCHER_REFUSE ? "refused"
                                                                : "withdrawn");
        if (op->kind == FMT_VOUCHER_WITHDRAW) {
            if (!streq(op->actor, x->transferor))
                return h2h_err_set(err, H2H_EINVALID,
                                   "voucher %s was sent by %s; only the "
                                   "sender can withdraw it, not %s",
                                   x->id, nz(x->transferor), op->actor);
        } else if (!streq(op->actor, x->holder)) {
            return h2h_err_set(err, H2H_EINVALID,
                               "voucher %s was sent to %s; %s cannot %s it",
                               x->id, nz(x->holder), op->actor, opn);
        }
        if (op->kind != FMT_VOUCHER_SIGN && x->parent_id) {
            /* The amount goes back to the parent, which must be able to
             * take it; a parent outside the set is someone else's. */
            const struct fmt_voucher *p = fmt_voucher_find(v, n, x->parent_id);
            if (p && p->status != FMT_VOUCHER_HELD)
                return h2h_err_set(err, H2H_ESTATE,
                                   "voucher %s cannot go back to %s, which "
                                   "%s",
                                   x->id, p->id, describe(p, d1, sizeof(d1)));
        }
        return 0;
    }
    case FMT_VOUCHER_TRANSFER:
    case FMT_VOUCHER_FINANCE: {
        if (x->status != FMT_VOUCHER_HELD)
            return h2h_err_set(err, H2H_ESTATE,
                               "voucher %s %s; only a signed voucher that is "
                               "held free can be %s",
                               x->id, describe(x, d1, sizeof(d1)),
                               op->kind == FMT_VOUCHER_TRANSFER ? "transferred"
                                                                : "financed");
        if (!streq(op->actor, x->holder))
            return h2h_err_set(err, H2H_EINVALID,
                               "voucher %s is held by %s; %s cannot %s it",
                               x->id, nz(x->holder), op->actor, opn);
        if (day >= fmt_date_days(x->maturity_date))
            return h2h_err_set(err, H2H_EINVALID,
                               "voucher %s matures on %s; it cannot be %s on "
                               "or after that day (%s)",
                               x->id, nz(x->maturity_date),
                               op->kind == FMT_VOUCHER_TRANSFER ? "transferred"
                                                                : "financed",
                               op->date);
        int rc = op_ccy_ok(op, x, err);
        if (rc < 0)
            return rc;
        const char *ccy = x->amount.ccy;
        if (op->kind == FMT_VOUCHER_TRANSFER) {
            if (empty(op->counterparty))
                return h2h_err_set(err, H2H_EINVALID,
                                   "transfer of voucher %s names no receiver",
                                   x->id);
            if (strcmp(op->counterparty, x->holder) == 0)
                return h2h_err_set(err, H2H_EINVALID,
                                   "%s cannot transfer voucher %s to itself",
                                   op->actor, x->id);
            if (op->amount.minor <= 0)
                return h2h_err_set(err, H2H_EINVALID,
                                   "transfer of %s from voucher %s: a part "
                                   "must be a positive amount",
                                   money(a1, sizeof(a1), op->amount.minor, ccy),
                                   x->id);
            if (op->amount.minor > x->remaining)
                return h2h_err_set(
                    err, H2H_EINVALID,
                    "transfer of %s exceeds the %s voucher %s still holds",
                    money(a1, sizeof(a1), op->amount.minor, ccy),
                    money(a2, sizeof(a2), x->remaining, ccy), x->id);
            /* most platforms number the new voucher themselves: a
             * request may leave new_id to them */
            if (!empty(op->new_id) && fmt_voucher_find(v, n, op->new_id))
                return h2h_err_set(err, H2H_EDUP, "voucher %s already exists",
                                   op->new_id);
            return 0;
        }
        if (empty(op->counterparty))
            return h2h_err_set(err, H2H_EINVALID,
                               "financing of voucher %s names no bank", x->id);
        if (x->remaining <= 0)
            return h2h_err_set(err, H2H_ESTATE,
                               "voucher %s has nothing left to finance: all of "
                               "its %s was transferred",
                               x->id,
                               money(a1, sizeof(a1), x->amount.minor, ccy));
        const struct fmt_voucher *pc = pending_child(v, n, x);
        if (pc)
            return h2h_err_set(err, H2H_ESTATE,
                               "the transfer of %s from voucher %s to %s is "
                               "still pending; financing waits until it is "
                               "signed, refused or withdrawn",
                               money(a1, sizeof(a1), pc->amount.minor, ccy),
                               x->id, nz(pc->holder));
        if (op->amount.minor < 0 ||
            (op->amount.minor != 0 && op->amount.minor != x->remaining))
            return h2h_err_set(
                err, H2H_EINVALID,
                "financing takes the whole %s voucher %s holds, not %s",
                money(a1, sizeof(a1), x->remaining, ccy), x->id,
                money(a2, sizeof(a2), op->amount.minor, ccy));
        return 0;
    }
    default: break;
    }
    return h2h_err_set(err, H2H_EINVALID, "unknown voucher operation %d",
                       (int)op->kind);
}

/* Replace *dst by a string allocated before anything changed. */
static void take(char **dst, char **fresh)
{
    free(*dst);
    *dst = *fresh;
    *fresh = NULL;
}

static int apply_new(struct fmt_voucher_set *s, const struct fmt_voucher_op *op,
                     size_t parent)
{
    struct fmt_voucher nv = {0};
    const struct fmt_voucher *p =
        op->kind == FMT_VOUCHER_TRANSFER ? &s->v[parent] : NULL;
    const char *id = p ? op->new_id : op->voucher_id;
    if (set_reserve(s) < 0)
        return H2H_ENOMEM;
    if (p) /* s->v may have moved */
        p = &s->v[parent];
    if (dup_opt(&nv.id, id) < 0 ||
        dup_opt(&nv.parent_id, p ? p->id : NULL) < 0 ||
        dup_opt(&nv.root_id, p ? (p->root_id ? p->root_id : p->id) : id) < 0 ||
        dup_opt(&nv.issuer, p ? p->issuer : op->actor) < 0 ||
        dup_opt(&nv.original_holder,
                p ? p->original_holder : op->counterparty) < 0 ||
        dup_opt(&nv.transferor, op->actor) < 0 ||
        dup_opt(&nv.holder, op->counterparty) < 0 ||
        dup_opt(&nv.issue_date, op->date) < 0 ||
        dup_opt(&nv.maturity_date, p ? p->maturity_date : op->maturity_date) <
            0 ||
        dup_opt(&nv.status_date, op->date) < 0) {
        fmt_voucher_release(&nv);
        return H2H_ENOMEM;
    }
    nv.level = p ? p->level + 1 : 1;
    nv.amount.minor = op->amount.minor;
    memcpy(nv.amount.ccy, p ? p->amount.ccy : op->amount.ccy,
           sizeof(nv.amount.ccy));
    nv.remaining = nv.amount.minor;
    nv.status = FMT_VOUCHER_PENDING;
    if (p)
        s->v[parent].remaining -= nv.amount.minor;
    s->v[s->n++] = nv;
    return 0;
}

int fmt_voucher_apply(struct fmt_voucher_set *s,
                      const struct fmt_voucher_op *op, struct h2h_err *err)
{
    if (op->kind == FMT_VOUCHER_TRANSFER && empty(op->new_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "transfer of voucher %s: the new voucher's id is "
                           "needed to record it",
                           nz(op->voucher_id));
    int rc = fmt_voucher_check(s->v, s->n, op, err);
    if (rc < 0)
        return rc;
    if (op->kind == FMT_VOUCHER_ISSUE || op->kind == FMT_VOUCHER_TRANSFER) {
        size_t parent = 0;
        if (op->kind == FMT_VOUCHER_TRANSFER)
            parent =
                (size_t)(fmt_voucher_find(s->v, s->n, op->voucher_id) - s->v);
        if (apply_new(s, op, parent) < 0)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return 0;
    }
    struct fmt_voucher *x =
        (struct fmt_voucher *)fmt_voucher_find(s->v, s->n, op->voucher_id);
    if (op->kind == FMT_VOUCHER_SETTLE) {
        const char *root = x->root_id ? x->root_id : x->id;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++)
            if (streq(s->v[i].root_id ? s->v[i].root_id : s->v[i].id, root) &&
                is_live(s->v[i].status))
                k++;
        char **dates = calloc(k, sizeof(*dates));
        size_t j = 0;
        for (; dates && j < k; j++)
            if (!(dates[j] = strdup(op->date)))
                break;
        if (!dates || j < k) {
            for (size_t i = 0; dates && i < j; i++)
                free(dates[i]);
            free(dates);
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
        /* root points into x's root_id, which this loop never frees. */
        j = 0;
        for (size_t i = 0; i < s->n; i++) {
            struct fmt_voucher *y = &s->v[i];
            if (streq(y->root_id ? y->root_id : y->id, root) &&
                is_live(y->status)) {
                y->status = FMT_VOUCHER_SETTLED;
                take(&y->status_date, &dates[j++]);
            }
        }
        free(dates);
        return 0;
    }
    char *date = strdup(op->date);
    if (!date)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    switch (op->kind) {
    case FMT_VOUCHER_SIGN:
        x->status = FMT_VOUCHER_HELD;
        take(&x->status_date, &date);
        break;
    case FMT_VOUCHER_REFUSE:
    case FMT_VOUCHER_WITHDRAW: {
        struct fmt_voucher *p =
            x->parent_id ? (struct fmt_voucher *)fmt_voucher_find(s->v, s->n,
                                                                  x->parent_id)
                         : NULL;
        if (p)
            p->remaining += x->remaining;
        x->remaining = 0;
        x->status = op->kind == FMT_VOUCHER_REFUSE ? FMT_VOUCHER_REFUSED
                                                   : FMT_VOUCHER_WITHDRAWN;
        take(&x->status_date, &date);
        break;
    }
    case FMT_VOUCHER_FINANCE: {
        char *bank = strdup(op->counterparty), *ref = NULL, *fd = NULL;
        if (!bank || dup_opt(&ref, op->ref) < 0 || dup_opt(&fd, op->date) < 0) {
            free(bank);
            free(ref);
            free(fd);
            free(date);
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
        take(&x->fin_bank, &bank);
        take(&x->fin_ref, &ref);
        take(&x->fin_date, &fd);
        x->fin_amount = x->remaining;
        x->status = FMT_VOUCHER_FINANCED;
        take(&x->status_date, &date);
        break;
    }
    default: break;
    }
    free(date);
    return 0;
}

/* ---- tree invariants --------------------------------------------------- */

static int by_id(const void *a, const void *b)
{
    const struct fmt_voucher *x = *(const struct fmt_voucher *const *)a;
    const struct fmt_voucher *y = *(const struct fmt_voucher *const *)b;
    return strcmp(x->id, y->id);
}

static const struct fmt_voucher *lookup(const struct fmt_voucher **sorted,
                                        size_t n, const char *id)
{
    if (!id)
        return NULL;
    struct fmt_voucher key = {.id = (char *)id};
    const struct fmt_voucher *kp = &key;
    const struct fmt_voucher **hit =
        bsearch(&kp, sorted, n, sizeof(*sorted), by_id);
    return hit ? *hit : NULL;
}

/* The rules one voucher must keep on its own and towards its parent. */
static int check_one(const struct fmt_voucher *x, const struct fmt_voucher *p,
                     struct h2h_err *err)
{
    char a1[64], a2[64];
    const char *id = x->id;
    if (empty(x->issuer) || empty(x->holder) || empty(x->transferor) ||
        empty(x->original_holder) || empty(x->root_id))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s lacks a party or its root id", id);
    if ((unsigned)x->status >= FMT_VOUCHER_STATUS__COUNT)
        return h2h_err_set(err, H2H_EINVALID, "voucher %s: unknown status %d",
                           id, (int)x->status);
    if (!fmt_ccy_valid(x->amount.ccy) || x->amount.minor <= 0)
        return h2h_err_set(
            err, H2H_EINVALID,
            "voucher %s: amount %s must be positive in an ISO "
            "4217 currency",
            id, money(a1, sizeof(a1), x->amount.minor, x->amount.ccy));
    if (x->remaining < 0 || x->remaining > x->amount.minor)
        return h2h_err_set(
            err, H2H_EINVALID, "voucher %s: remaining %s is outside 0..%s", id,
            money(a1, sizeof(a1), x->remaining, x->amount.ccy),
            money(a2, sizeof(a2), x->amount.minor, x->amount.ccy));
    long isd = fmt_date_days(x->issue_date);
    long mat = fmt_date_days(x->maturity_date);
    if (isd == INT32_MIN || mat == INT32_MIN || isd >= mat)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: issued %s must be a date before its "
                           "maturity %s",
                           id, nz(x->issue_date), nz(x->maturity_date));
    if (is_dead(x->status) && x->remaining != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s is %s yet still holds %s", id,
                           fmt_voucher_status_name(x->status),
                           money(a1, sizeof(a1), x->remaining, x->amount.ccy));
    if (x->status == FMT_VOUCHER_FINANCED &&
        (empty(x->fin_bank) || x->fin_amount != x->remaining))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s is financed but names no bank or a "
                           "pledged amount other than its remaining %s",
                           id,
                           money(a1, sizeof(a1), x->remaining, x->amount.ccy));
    if (!x->parent_id) {
        if (x->level != 1 || strcmp(x->root_id, id) != 0 ||
            strcmp(x->transferor, x->issuer) != 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "voucher %s has no parent, so it must be a "
                               "root: level 1, its own root, sent by its "
                               "issuer",
                               id);
        return 0;
    }
    if (!p)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s: its parent %s is not in the set", id,
                           x->parent_id);
    if (x->level != p->level + 1)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s is at level %d under %s at level %d", id,
                           x->level, p->id, p->level);
    if (!streq(x->root_id, p->root_id) || !streq(x->issuer, p->issuer) ||
        !streq(x->original_holder, p->original_holder) ||
        !streq(x->maturity_date, p->maturity_date) ||
        strcmp(x->amount.ccy, p->amount.ccy) != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s differs from its parent %s in root, "
                           "issuer, original holder, maturity or currency",
                           id, p->id);
    if (!streq(x->transferor, p->holder))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s was sent by %s, but its parent %s is "
                           "held by %s",
                           id, x->transferor, p->id, nz(p->holder));
    if (isd < fmt_date_days(p->issue_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "voucher %s is dated %s, before its parent %s (%s)",
                           id, x->issue_date, p->id, nz(p->issue_date));
    return 0;
}

int fmt_voucher_tree_check(const struct fmt_voucher *v, size_t n,
                           struct h2h_err *err)
{
    int rc = 0;
    const struct fmt_voucher **sorted = NULL;
    int64_t *taken = NULL;    /* per voucher: amounts of its children */
    unsigned char *fl = NULL; /* per voucher: flags below */
    enum { F_PENDING_CHILD = 1, F_TREE_SETTLED = 2, F_TREE_LIVE = 4 };
    char a1[64], a2[64], a3[64];

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (empty(v[i].id))
            return h2h_err_set(err, H2H_EINVALID, "voucher #%zu has no id",
                               i + 1);
    sorted = malloc(n * sizeof(*sorted));
    taken = calloc(n, sizeof(*taken));
    fl = calloc(n, 1);
    if (!sorted || !taken || !fl) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &v[i];
    qsort(sorted, n, sizeof(*sorted), by_id);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0) {
            rc = h2h_err_set(err, H2H_EINVALID, "voucher %s appears twice",
                             sorted[i]->id);
            goto out;
        }
    for (size_t i = 0; i < n; i++) {
        const struct fmt_voucher *x = &v[i];
        const struct fmt_voucher *p = lookup(sorted, n, x->parent_id);
        if ((rc = check_one(x, p, err)) < 0)
            goto out;
        /* Children that hold value (pending, held, financed, settled)
         * took it from the parent; dead ones gave it back. */
        if (p && !is_dead(x->status)) {
            size_t pi = (size_t)(p - v);
            if (__builtin_add_overflow(taken[pi], x->amount.minor,
                                       &taken[pi])) {
                rc = h2h_err_set(err, H2H_EINVALID,
                                 "voucher %s: children's amounts overflow",
                                 p->id);
                goto out;
            }
            if (x->status == FMT_VOUCHER_PENDING)
                fl[pi] |= F_PENDING_CHILD;
        }
        const struct fmt_voucher *r = lookup(sorted, n, x->root_id);
        if (!r) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "voucher %s: its root %s is not in the set", x->id,
                             x->root_id);
            goto out;
        }
        fl[r - v] |= x->status == FMT_VOUCHER_SETTLED ? F_TREE_SETTLED
                     : is_live(x->status)             ? F_TREE_LIVE
                                                      : 0;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fmt_voucher *x = &v[i];
        const char *ccy = x->amount.ccy;
        if (is_dead(x->status) || x->status == FMT_VOUCHER_PENDING) {
            if (taken[i] != 0) {
                rc = h2h_err_set(err, H2H_EINVALID,
                                 "voucher %s is %s yet has children holding "
                                 "%s",
                                 x->id, fmt_voucher_status_name(x->status),
                                 money(a1, sizeof(a1), taken[i], ccy));
                goto out;
            }
            continue;
        }
        if (x->remaining + taken[i] != x->amount.minor) {
            rc = h2h_err_set(
                err, H2H_EINVALID,
                "voucher %s does not add up: remaining %s plus %s in its "
                "children is not its amount %s",
                x->id, money(a1, sizeof(a1), x->remaining, ccy),
                money(a2, sizeof(a2), taken[i], ccy),
                money(a3, sizeof(a3), x->amount.minor, ccy));
            goto out;
        }
        if (x->status == FMT_VOUCHER_FINANCED && (fl[i] & F_PENDING_CHILD)) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "voucher %s is financed while a transfer from it "
                             "is pending",
                             x->id);
            goto out;
        }
        if ((fl[i] & F_TREE_SETTLED) && (fl[i] & F_TREE_LIVE)) {
            rc = h2h_err_set(err, H2H_EINVALID,
                             "the tree of %s is settled only in part", x->id);
            goto out;
        }
    }
out:
    free(sorted);
    free(taken);
    free(fl);
    return rc;
}

/* ---- holdings ---------------------------------------------------------- */

int fmt_voucher_holdings(const struct fmt_voucher *v, size_t n,
                         const char *party, const char *ccy,
                         struct fmt_voucher_holdings *out, struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    if (empty(party))
        return h2h_err_set(err, H2H_EINVALID, "holdings of nobody");
    if (!fmt_ccy_valid(ccy))
        return h2h_err_set(err, H2H_EINVALID,
                           "holdings: currency '%s' is not ISO 4217", nz(ccy));
    for (size_t i = 0; i < n; i++) {
        const struct fmt_voucher *x = &v[i];
        if (strcmp(x->amount.ccy, ccy) != 0)
            continue;
        if (streq(x->holder, party)) {
            switch (x->status) {
            case FMT_VOUCHER_PENDING:
                out->n_pending_in++;
                out->pending_in += x->amount.minor;
                break;
            case FMT_VOUCHER_HELD:
                /* A voucher transferred in full holds nothing any more. */
                if (x->remaining > 0) {
                    out->n_held++;
                    out->held += x->remaining;
                }
                break;
            case FMT_VOUCHER_FINANCED:
                out->n_financed++;
                out->financed += x->remaining;
                break;
            case FMT_VOUCHER_SETTLED:
                if (x->remaining > 0) {
                    out->n_settled++;
                    out->settled += x->remaining;
                }
                break;
            default: break;
            }
        }
        if (x->status == FMT_VOUCHER_PENDING && streq(x->transferor, party)) {
            out->n_pending_out++;
            out->pending_out += x->amount.minor;
        }
        if (streq(x->issuer, party) && is_live(x->status))
            out->issued_live += x->remaining;
    }
    return 0;
}
