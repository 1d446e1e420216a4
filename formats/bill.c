/*
 * bill.c - electronic commercial drafts: names, lifecycle, and the draft
 * state machine; see bill.h for the rules.
 *
 * The machine is two tables: one per operation (the state it starts from,
 * the pending state it leads to, the state it ends in, what it needs) and
 * one per state (its name and how a treasury user is told what it is).
 * Checks and apply read the same tables, so a request check allows
 * exactly what apply later records.
 */
#include "bill.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

#define BIT(s) (1u << (s))

/* ---- tables ---------------------------------------------------------------
 */

enum {
    OPF_INQUIRY = 1u << 0,  /* no draft involved, never refused by state */
    OPF_NUMBER = 1u << 1,   /* needs draft_no */
    OPF_PARTIAL = 1u << 2,  /* may take part of a divisible piece */
    OPF_TRANSFER = 1u << 3, /* not for a draft marked 不得转让 */
    OPF_BEFORE = 1u << 4,   /* only before the maturity date */
};

struct op_info {
    const char *name;
    const char *cannot; /* "cannot be endorsed" */
    const char *noun;   /* "endorsement", for "withdraw the ... first" */
    enum fmt_draft_status from, pending, done;
    unsigned flags;
};

static const struct op_info ops[FMT_BILL_OP_COUNT] = {
    [FMT_BILL_OP_NONE] = {"none", "cannot be handled", "operation",
                          FMT_DRAFT_NONE, FMT_DRAFT_NONE, FMT_DRAFT_NONE, 0},
    [FMT_BILL_OP_ISSUE] = {"issue", "cannot be issued", "issue", FMT_DRAFT_NONE,
                           FMT_DRAFT_NONE, FMT_DRAFT_REGISTERED, 0},
    [FMT_BILL_OP_PRESENT_ACCEPTANCE] = {"present_acceptance",
                                        "cannot be presented for acceptance",
                                        "presentment for acceptance",
                                        FMT_DRAFT_REGISTERED,
                                        FMT_DRAFT_PENDING_ACCEPTANCE,
                                        FMT_DRAFT_ACCEPTED,
                                        OPF_NUMBER | OPF_BEFORE},
    [FMT_BILL_OP_PRESENT_RECEIPT] = {"present_receipt",
                                     "cannot be presented for receipt",
                                     "presentment for receipt",
                                     FMT_DRAFT_ACCEPTED,
                                     FMT_DRAFT_PENDING_RECEIPT,
                                     FMT_DRAFT_DELIVERED,
                                     OPF_NUMBER | OPF_BEFORE},
    [FMT_BILL_OP_ENDORSE] = {"endorse", "cannot be endorsed", "endorsement",
                             FMT_DRAFT_HELD, FMT_DRAFT_PENDING_ENDORSEMENT,
                             FMT_DRAFT_ENDORSED,
                             OPF_NUMBER | OPF_PARTIAL | OPF_TRANSFER |
                                 OPF_BEFORE},
    [FMT_BILL_OP_DISCOUNT] = {"discount", "cannot be discounted",
                              "discount request", FMT_DRAFT_HELD,
                              FMT_DRAFT_PENDING_DISCOUNT, FMT_DRAFT_DISCOUNTED,
                              OPF_NUMBER | OPF_PARTIAL | OPF_TRANSFER},
    [FMT_BILL_OP_PLEDGE] = {"pledge", "cannot be pledged into the pool",
                            "pledge", FMT_DRAFT_HELD, FMT_DRAFT_PENDING_PLEDGE,
                            FMT_DRAFT_PLEDGED,
                            OPF_NUMBER | OPF_PARTIAL | OPF_TRANSFER |
                                OPF_BEFORE},
    [FMT_BILL_OP_RELEASE] = {"release", "cannot be released from the pool",
                             "release request", FMT_DRAFT_PLEDGED,
                             FMT_DRAFT_PENDING_RELEASE, FMT_DRAFT_HELD,
                             OPF_NUMBER},
    [FMT_BILL_OP_PRESENT_PAYMENT] = {"present_payment",
                                     "cannot be presented for payment",
                                     "presentment for payment", FMT_DRAFT_HELD,
                                     FMT_DRAFT_PENDING_PAYMENT, FMT_DRAFT_PAID,
                                     OPF_NUMBER},
    [FMT_BILL_OP_RECOURSE] = {"recourse", "cannot be used to claim recourse",
                              "recourse claim", FMT_DRAFT_DISHONOURED,
                              FMT_DRAFT_PENDING_RECOURSE,
                              FMT_DRAFT_RECOURSE_SETTLED, OPF_NUMBER},
    [FMT_BILL_OP_WITHDRAW] = {"withdraw", "cannot be withdrawn", "withdrawal",
                              FMT_DRAFT_NONE, FMT_DRAFT_NONE, FMT_DRAFT_NONE,
                              OPF_NUMBER},
    [FMT_BILL_OP_SIGN] = {"sign", "cannot be signed", "signature",
                          FMT_DRAFT_NONE, FMT_DRAFT_NONE, FMT_DRAFT_NONE,
                          OPF_NUMBER},
    [FMT_BILL_OP_REFUSE] = {"refuse", "cannot be refused", "refusal",
                            FMT_DRAFT_NONE, FMT_DRAFT_NONE, FMT_DRAFT_NONE,
                            OPF_NUMBER},
    [FMT_BILL_OP_POOL_OVERVIEW] = {"pool_overview", "", "", FMT_DRAFT_NONE,
                                   FMT_DRAFT_NONE, FMT_DRAFT_NONE, OPF_INQUIRY},
    [FMT_BILL_OP_DRAFTS] = {"drafts", "", "", FMT_DRAFT_NONE, FMT_DRAFT_NONE,
                            FMT_DRAFT_NONE, OPF_INQUIRY},
    [FMT_BILL_OP_DRAFT_DETAIL] = {"draft_detail", "", "", FMT_DRAFT_NONE,
                                  FMT_DRAFT_NONE, FMT_DRAFT_NONE,
                                  OPF_INQUIRY | OPF_NUMBER},
    [FMT_BILL_OP_NOTICES] = {"notices", "", "", FMT_DRAFT_NONE, FMT_DRAFT_NONE,
                             FMT_DRAFT_NONE, OPF_INQUIRY},
};

struct st_info {
    const char *name;
    const char *out;     /* "it is ..." (not pending, or pending OUT) */
    const char *in;      /* "it is ..." pending IN; NULL: cannot be IN */
    enum fmt_bill_op op; /* pending: the operation awaiting a signature */
};

static const struct st_info sts[FMT_DRAFT_STATUS_COUNT] = {
    [FMT_DRAFT_NONE] = {"none", "not issued yet, or not known to us", NULL,
                        FMT_BILL_OP_NONE},
    [FMT_DRAFT_REGISTERED] = {"registered",
                              "registered but not yet presented for "
                              "acceptance",
                              NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_ACCEPTANCE] =
        {"pending_acceptance",
         "presented for acceptance and awaits the acceptor's signature",
         "presented to us for acceptance and awaits our signature",
         FMT_BILL_OP_PRESENT_ACCEPTANCE},
    [FMT_DRAFT_ACCEPTED] = {"accepted",
                            "accepted but not yet presented to the payee for "
                            "receipt",
                            NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_RECEIPT] =
        {"pending_receipt",
         "presented to the payee and awaits the payee's signature",
         "presented to us for receipt and awaits our signature",
         FMT_BILL_OP_PRESENT_RECEIPT},
    [FMT_DRAFT_DELIVERED] = {"delivered",
                             "delivered to the payee and no longer ours", NULL,
                             FMT_BILL_OP_NONE},
    [FMT_DRAFT_HELD] = {"held", "held by us", NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_ENDORSEMENT] =
        {"pending_endorsement",
         "being endorsed to another holder and awaits the endorsee's "
         "signature",
         "endorsed to us and awaits our signature", FMT_BILL_OP_ENDORSE},
    [FMT_DRAFT_ENDORSED] = {"endorsed", "endorsed away and no longer ours",
                            NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_DISCOUNT] =
        {"pending_discount",
         "offered for discount and awaits the bank's signature", NULL,
         FMT_BILL_OP_DISCOUNT},
    [FMT_DRAFT_DISCOUNTED] = {"discounted",
                              "discounted and belongs to the discounting bank",
                              NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_PLEDGE] =
        {"pending_pledge",
         "being pledged into the pool and awaits the bank's signature", NULL,
         FMT_BILL_OP_PLEDGE},
    [FMT_DRAFT_PLEDGED] = {"pledged", "pledged in the pool", NULL,
                           FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_RELEASE] =
        {"pending_release",
         "pledged in the pool with our release request pending",
         "released from the pool by the bank and awaits our signature",
         FMT_BILL_OP_RELEASE},
    [FMT_DRAFT_PENDING_PAYMENT] =
        {"pending_payment",
         "presented for payment and awaits the acceptor's answer",
         "presented to us for payment and awaits our answer",
         FMT_BILL_OP_PRESENT_PAYMENT},
    [FMT_DRAFT_PAID] = {"paid", "paid and settled", NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_DISHONOURED] = {"dishonoured",
                               "dishonoured (payment was refused)", NULL,
                               FMT_BILL_OP_NONE},
    [FMT_DRAFT_PENDING_RECOURSE] =
        {"pending_recourse",
         "the subject of our recourse claim, which awaits the debtor's "
         "answer",
         "the subject of a recourse claim against us, which awaits our "
         "answer",
         FMT_BILL_OP_RECOURSE},
    [FMT_DRAFT_RECOURSE_SETTLED] = {"recourse_settled", "settled by recourse",
                                    NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_WITHDRAWN] = {"withdrawn", "withdrawn (cancelled)", NULL,
                             FMT_BILL_OP_NONE},
    [FMT_DRAFT_REFUSED] = {"refused",
                           "refused by us (it was presented to us and we "
                           "declined it)",
                           NULL, FMT_BILL_OP_NONE},
    [FMT_DRAFT_LIABLE] = {"liable",
                          "accepted by us and with its holder (we pay it at "
                          "maturity)",
                          NULL, FMT_BILL_OP_NONE},
};

/* Presentments addressed to us: the states our record may be in when one
 * arrives, and where signing or refusing leads (FMT_DRAFT_NONE: back to
 * prev_status, or refused when there is none). */
struct in_info {
    enum fmt_draft_status pending;
    unsigned from;
    enum fmt_draft_status sign, refuse;
};

static const struct in_info *in_info(enum fmt_bill_op kind)
{
    static const struct in_info acc = {FMT_DRAFT_PENDING_ACCEPTANCE,
                                       BIT(FMT_DRAFT_NONE) |
                                           BIT(FMT_DRAFT_REFUSED),
                                       FMT_DRAFT_LIABLE, FMT_DRAFT_REFUSED};
    static const struct in_info rcp = {
        FMT_DRAFT_PENDING_RECEIPT, BIT(FMT_DRAFT_NONE) | BIT(FMT_DRAFT_REFUSED),
        FMT_DRAFT_HELD, FMT_DRAFT_REFUSED};
    static const struct in_info end = {
        FMT_DRAFT_PENDING_ENDORSEMENT,
        BIT(FMT_DRAFT_NONE) | BIT(FMT_DRAFT_REFUSED) | BIT(FMT_DRAFT_ENDORSED) |
            BIT(FMT_DRAFT_DELIVERED),
        FMT_DRAFT_HELD, FMT_DRAFT_REFUSED};
    static const struct in_info rel = {FMT_DRAFT_PENDING_RELEASE,
                                       BIT(FMT_DRAFT_PLEDGED) |
                                           BIT(FMT_DRAFT_PENDING_RELEASE),
                                       FMT_DRAFT_HELD, FMT_DRAFT_NONE};
    static const struct in_info pay = {
        FMT_DRAFT_PENDING_PAYMENT,
        BIT(FMT_DRAFT_NONE) | BIT(FMT_DRAFT_LIABLE) | BIT(FMT_DRAFT_DELIVERED),
        FMT_DRAFT_PAID, FMT_DRAFT_REFUSED};
    static const struct in_info rec = {
        FMT_DRAFT_PENDING_RECOURSE,
        BIT(FMT_DRAFT_NONE) | BIT(FMT_DRAFT_DELIVERED) |
            BIT(FMT_DRAFT_ENDORSED) | BIT(FMT_DRAFT_DISCOUNTED) |
            BIT(FMT_DRAFT_LIABLE) | BIT(FMT_DRAFT_REFUSED),
        FMT_DRAFT_RECOURSE_SETTLED, FMT_DRAFT_NONE};
    switch (kind) {
    case FMT_BILL_OP_PRESENT_ACCEPTANCE: return &acc;
    case FMT_BILL_OP_PRESENT_RECEIPT: return &rcp;
    case FMT_BILL_OP_ENDORSE: return &end;
    case FMT_BILL_OP_RELEASE: return &rel;
    case FMT_BILL_OP_PRESENT_PAYMENT: return &pay;
    case FMT_BILL_OP_RECOURSE: return &rec;
    default: return NULL;
    }
}

/* ---- names ------------------------------------------------------------- */

static const char *const kind_names[] = {"none", "AC01", "AC02"};
static const char *const dir_names[] = {"none", "out", "in"};
static const char *const outcome_names[] = {"none", "accepted", "pending",
                                            "rejected"};

static int parse_name(const char *what, const char *s, const char *(*name)(int),
                      int n, int *out, struct h2h_err *err)
{
    for (int i = 0; s && i < n; i++) {
        const char *nm = name(i);
        if (nm && !strcmp(nm, s)) {
            *out = i;
            return 0;
        }
    }
    return h2h_err_set(err, H2H_EINVALID, "unknown %s \"%.64s\"", what,
                       s ? s : "");
}

static const char *op_name_i(int i)
{
    return fmt_bill_op_name((enum fmt_bill_op)i);
}
static const char *st_name_i(int i)
{
    return fmt_draft_status_name((enum fmt_draft_status)i);
}
static const char *kind_name_i(int i)
{
    return fmt_draft_kind_name((enum fmt_draft_kind)i);
}
static const char *dir_name_i(int i)
{
    return fmt_bill_dir_name((enum fmt_bill_dir)i);
}
static const char *outcome_name_i(int i)
{
    return fmt_bill_outcome_name((enum fmt_bill_outcome)i);
}

const char *fmt_bill_op_name(enum fmt_bill_op op)
{
    return (unsigned)op < FMT_BILL_OP_COUNT ? ops[op].name : NULL;
}

int fmt_bill_op_parse(const char *s, enum fmt_bill_op *out, struct h2h_err *err)
{
    int v = 0;
    /* "none" names the zero value of a struct, never an operation */
    int rc = parse_name("bill operation", s && strcmp(s, "none") ? s : NULL,
                        op_name_i, FMT_BILL_OP_COUNT, &v, err);
    if (rc == 0)
        *out = (enum fmt_bill_op)v;
    return rc;
}

const char *fmt_draft_status_name(enum fmt_draft_status st)
{
    return (unsigned)st < FMT_DRAFT_STATUS_COUNT ? sts[st].name : NULL;
}

int fmt_draft_status_parse(const char *s, enum fmt_draft_status *out,
                           struct h2h_err *err)
{
    int v = 0;
    int rc = parse_name("draft status", s, st_name_i, FMT_DRAFT_STATUS_COUNT,
                        &v, err);
    if (rc == 0)
        *out = (enum fmt_draft_status)v;
    return rc;
}

const char *fmt_draft_kind_name(enum fmt_draft_kind k)
{
    return (unsigned)k <= FMT_DRAFT_AC02 ? kind_names[k] : NULL;
}

int fmt_draft_kind_parse(const char *s, enum fmt_draft_kind *out,
                         struct h2h_err *err)
{
    int v = 0;
    int rc =
        parse_name("draft kind (AC01 bank, AC02 commercial acceptance)",
                   s && strcmp(s, "none") ? s : NULL, kind_name_i, 3, &v, err);
    if (rc == 0)
        *out = (enum fmt_draft_kind)v;
    return rc;
}

const char *fmt_bill_dir_name(enum fmt_bill_dir d)
{
    return (unsigned)d <= FMT_BILL_DIR_IN ? dir_names[d] : NULL;
}

int fmt_bill_dir_parse(const char *s, enum fmt_bill_dir *out,
                       struct h2h_err *err)
{
    int v = 0;
    int rc = parse_name("pending direction", s, dir_name_i, 3, &v, err);
    if (rc == 0)
        *out = (enum fmt_bill_dir)v;
    return rc;
}

const char *fmt_bill_outcome_name(enum fmt_bill_outcome o)
{
    return (unsigned)o <= FMT_BILL_REJECTED ? outcome_names[o] : NULL;
}

int fmt_bill_outcome_parse(const char *s, enum fmt_bill_outcome *out,
                           struct h2h_err *err)
{
    int v = 0;
    int rc = parse_name("bill outcome", s && strcmp(s, "none") ? s : NULL,
                        outcome_name_i, 4, &v, err);
    if (rc == 0)
        *out = (enum fmt_bill_outcome)v;
    return rc;
}

int fmt_draft_status_pending(enum fmt_draft_status st)
{
    return (unsigned)st < FMT_DRAFT_STATUS_COUNT &&
           sts[st].op != FMT_BILL_OP_NONE;
}

int fmt_bill_op_inquiry(enum fmt_bill_op op)
{
    return (unsigned)op < FMT_BILL_OP_COUNT && (ops[op].flags & OPF_INQUIRY);
}

/* ---- release and copy --------------------------------------------------- */

void fmt_bill_party_release(struct fmt_bill_party *p)
{
    if (!p)
        return;
    fmt_party_release(&p->party);
    fmt_account_release(&p->acct);
    free(p->bank_code);
    memset(p, 0, sizeof(*p));
}

void fmt_draft_release(struct fmt_draft *d)
{
    if (!d)
        return;
    free(d->number);
    free(d->issue_date);
    free(d->maturity_date);
    fmt_bill_party_release(&d->drawer);
    fmt_bill_party_release(&d->acceptor);
    fmt_bill_party_release(&d->payee);
    fmt_bill_party_release(&d->holder);
    memset(d, 0, sizeof(*d));
}

void fmt_bill_request_release(struct fmt_bill_request *rq)
{
    if (!rq)
        return;
    free(rq->req_id);
    free(rq->draft_no);
    fmt_bill_party_release(&rq->cpty);
    free(rq->date);
    fmt_account_release(&rq->proceeds_acct);
    free(rq->pool_id);
    fmt_draft_release(&rq->draft);
    free(rq->notice_id);
    free(rq->reason);
    free(rq->memo);
    free(rq->f_maturity_from);
    free(rq->f_maturity_to);
    memset(rq, 0, sizeof(*rq));
}

void fmt_draft_event_release(struct fmt_draft_event *e)
{
    if (!e)
        return;
    free(e->time);
    fmt_bill_party_release(&e->from);
    fmt_bill_party_release(&e->to);
    memset(e, 0, sizeof(*e));
}

void fmt_bill_notice_release(struct fmt_bill_notice *n)
{
    if (!n)
        return;
    free(n->notice_id);
    fmt_draft_release(&n->draft);
    fmt_bill_party_release(&n->from);
    free(n->time);
    free(n->reason);
    memset(n, 0, sizeof(*n));
}

void fmt_bill_pool_release(struct fmt_bill_pool *p)
{
    if (!p)
        return;
    free(p->pool_id);
    free(p->as_of);
    memset(p, 0, sizeof(*p));
}

void fmt_bill_result_release(struct fmt_bill_result *r)
{
    if (!r)
        return;
    free(r->req_id);
    free(r->bank_code);
    free(r->bank_text);
    for (size_t i = 0; r->drafts && i < r->n_drafts; i++)
        fmt_draft_release(&r->drafts[i]);
    free(r->drafts);
    for (size_t i = 0; r->history && i < r->n_history; i++)
        fmt_draft_event_release(&r->history[i]);
    free(r->history);
    for (size_t i = 0; r->notices && i < r->n_notices; i++)
        fmt_bill_notice_release(&r->notices[i]);
    free(r->notices);
    fmt_bill_pool_release(&r->pool);
    memset(r, 0, sizeof(*r));
}

/* model.h has no copy functions; these stay here until another module
 * needs them. */
#define CP(dst, src, f)                                                        \
    do {                                                                       \
        if (fmt_strset(&(dst)->f, (src)->f) < 0)                               \
            goto fail;                                                         \
    } while (0)

static int postal_copy(struct fmt_postal *dst, const struct fmt_postal *src)
{
    CP(dst, src, dept);
    CP(dst, src, street);
    CP(dst, src, building);
    CP(dst, src, postcode);
    CP(dst, src, town);
    CP(dst, src, subdivision);
    CP(dst, src, country);
    for (size_t i = 0; i < sizeof(src->lines) / sizeof(src->lines[0]); i++)
        CP(dst, src, lines[i]);
    return 0;
fail:
    fmt_postal_release(dst);
    return H2H_ENOMEM;
}

static int party_copy(struct fmt_party *dst, const struct fmt_party *src)
{
    CP(dst, src, name);
    if (postal_copy(&dst->addr, &src->addr) < 0)
        goto fail;
    CP(dst, src, org_bic);
    CP(dst, src, org_id);
    CP(dst, src, org_id_scheme);
    CP(dst, src, prvt_id);
    CP(dst, src, ctry_of_res);
    return 0;
fail:
    fmt_party_release(dst);
    return H2H_ENOMEM;
}

static int account_copy(struct fmt_account *dst, const struct fmt_account *src)
{
    CP(dst, src, iban);
    CP(dst, src, other_id);
    CP(dst, src, other_scheme);
    CP(dst, src, ccy);
    CP(dst, src, name);
    CP(dst, src, type);
    return 0;
fail:
    fmt_account_release(dst);
    return H2H_ENOMEM;
}

int fmt_bill_party_copy(struct fmt_bill_party *dst,
                        const struct fmt_bill_party *src)
{
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return 0;
    if (party_copy(&dst->party, &src->party) < 0 ||
        account_copy(&dst->acct, &src->acct) < 0)
        goto fail;
    CP(dst, src, bank_code);
    return 0;
fail:
    fmt_bill_party_release(dst);
    return H2H_ENOMEM;
}

int fmt_draft_copy(struct fmt_draft *dst, const struct fmt_draft *src)
{
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return 0;
    /* scalars first, then replace every pointer by a copy of its own */
    *dst = *src;
    dst->number = dst->issue_date = dst->maturity_date = NULL;
    memset(&dst->drawer, 0, sizeof(dst->drawer));
    memset(&dst->acceptor, 0, sizeof(dst->acceptor));
    memset(&dst->payee, 0, sizeof(dst->payee));
    memset(&dst->holder, 0, sizeof(dst->holder));
    CP(dst, src, number);
    CP(dst, src, issue_date);
    CP(dst, src, maturity_date);
    if (fmt_bill_party_copy(&dst->drawer, &src->drawer) < 0 ||
        fmt_bill_party_copy(&dst->acceptor, &src->acceptor) < 0 ||
        fmt_bill_party_copy(&dst->payee, &src->payee) < 0 ||
        fmt_bill_party_copy(&dst->holder, &src->holder) < 0)
        goto fail;
    return 0;
fail:
    fmt_draft_release(dst);
    return H2H_ENOMEM;
}

#undef CP

/* ---- small helpers ---------------------------------------------------------
 */

static int all_digits(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int empty(const char *s)
{
    return !s || !*s;
}

/* Account number of a party: the Chinese account number, else the IBAN. */
static const char *acct_no(const struct fmt_bill_party *p)
{
    if (!empty(p->acct.other_id))
        return p->acct.other_id;
    if (!empty(p->acct.iban))
        return p->acct.iban;
    return NULL;
}

static int same_account(const struct fmt_bill_party *a,
                        const struct fmt_bill_party *b)
{
    const char *x = acct_no(a), *y = acct_no(b);
    return x && y && !strcmp(x, y);
}

static int has_range(int64_t from, int64_t to)
{
    return from != 0 || to != 0;
}

/* "3000.00 CNY" */
static const char *money(char *buf, size_t n, int64_t minor)
{
    /* int64 in CNY needs at most 21 characters; fen when formatting fails */
    char num[32];
    if (fmt_amount_format(minor, "CNY", '.', num, sizeof(num)) < 0)
        snprintf(buf, n, "%" PRId64 " fen", minor);
    else
        snprintf(buf, n, "%.28s CNY", num);
    return buf;
}

/* What a message is about: "draft N, sub-range a-b", the part the request
 * concerns when it names one. */
static void subject(char *buf, size_t n, const struct fmt_draft *d,
                    const struct fmt_bill_request *rq)
{
    const char *no = d && d->number       ? d->number
                     : rq && rq->draft_no ? rq->draft_no
                                          : NULL;
    int64_t from = 0, to = 0;
    if (rq && has_range(rq->sub_from, rq->sub_to)) {
        from = rq->sub_from;
        to = rq->sub_to;
    } else if (d) {
        from = d->sub_from;
        to = d->sub_to;
    }
    if (!no)
        snprintf(buf, n, "new draft");
    else if (has_range(from, to))
        snprintf(buf, n, "draft %s, sub-range %" PRId64 "-%" PRId64, no, from,
                 to);
    else
        snprintf(buf, n, "draft %s", no);
}

/* A refusal about a draft: "<subject>: <what>". */
__attribute__((format(printf, 5, 6))) static int
about(struct h2h_err *err, int code, const struct fmt_draft *d,
      const struct fmt_bill_request *rq, const char *fmt, ...)
{
    char subj[128], what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    subject(subj, sizeof(subj), d, rq);
    return h2h_err_set(err, code, "%s: %s", subj, what);
}

/* A malformed request: "<op> request <id>: <what>". */
__attribute__((format(printf, 3, 4))) static int
bad_request(struct h2h_err *err, const struct fmt_bill_request *rq,
            const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    const char *op = fmt_bill_op_name(rq->op);
    if (!empty(rq->req_id) && strlen(rq->req_id) <= FMT_BILL_REQ_ID_MAX)
        return h2h_err_set(err, H2H_EINVALID, "%s request %s: %s",
                           op ? op : "bill", rq->req_id, what);
    return h2h_err_set(err, H2H_EINVALID, "%s request: %s", op ? op : "bill",
                       what);
}

static const char *phrase(const struct fmt_draft *d)
{
    const struct st_info *si = &sts[d->status];
    return d->pending_dir == FMT_BILL_DIR_IN && si->in ? si->in : si->out;
}

/* Our own presentment that we also sign: a commercial draft we accept
 * ourselves, or one whose payee is us. */
static int self_signable(const struct fmt_draft *d)
{
    if (d->pending_dir != FMT_BILL_DIR_OUT)
        return 0;
    if (d->status == FMT_DRAFT_PENDING_ACCEPTANCE)
        return d->kind == FMT_DRAFT_AC02 &&
               same_account(&d->acceptor, &d->drawer);
    if (d->status == FMT_DRAFT_PENDING_RECEIPT)
        return same_account(&d->payee, &d->drawer);
    return 0;
}

/* What to do about a refusal by state, or NULL. */
static const char *hint(const struct fmt_draft *d, enum fmt_bill_op op,
                        char *buf, size_t n)
{
    int holder_op = op == FMT_BILL_OP_ENDORSE || op == FMT_BILL_OP_DISCOUNT ||
                    op == FMT_BILL_OP_PLEDGE ||
                    op == FMT_BILL_OP_PRESENT_PAYMENT;
    if (fmt_draft_status_pending(d->status)) {
        if (d->pending_dir == FMT_BILL_DIR_IN)
            return op == FMT_BILL_OP_WITHDRAW
                       ? "it was presented to us: refuse it instead"
                       : "sign or refuse it first";
        if (op == FMT_BILL_OP_SIGN || op == FMT_BILL_OP_REFUSE)
            return "the counterparty signs or refuses it, not us";
        snprintf(buf, n, "wait for the answer, or withdraw the %s first",
                 ops[sts[d->status].op].noun);
        return buf;
    }
    switch (d->status) {
    case FMT_DRAFT_NONE:
        return op == FMT_BILL_OP_PRESENT_ACCEPTANCE ? "issue it first" : NULL;
    case FMT_DRAFT_REGISTERED:
        return holder_op || op == FMT_BILL_OP_PRESENT_RECEIPT
                   ? "present it for acceptance first"
                   : NULL;
    case FMT_DRAFT_ACCEPTED:
        return holder_op ? "present it for receipt first" : NULL;
    case FMT_DRAFT_PLEDGED:
        if (op == FMT_BILL_OP_PLEDGE)
            return "it is in the pool already";
        if (op == FMT_BILL_OP_PRESENT_PAYMENT)
            return "the pool bank collects it at maturity; release it first "
                   "to present it ourselves";
        return holder_op ? "release it first" : NULL;
    case FMT_DRAFT_DISHONOURED:
        return op == FMT_BILL_OP_RECOURSE ? NULL
                                          : "only recourse is possible now";
    case FMT_DRAFT_HELD:
        switch (op) {
        case FMT_BILL_OP_RELEASE: return "it is not in the pool";
        case FMT_BILL_OP_RECOURSE:
            return "recourse needs a draft whose payment was refused";
        case FMT_BILL_OP_WITHDRAW: return "nothing is pending";
        case FMT_BILL_OP_SIGN:
        case FMT_BILL_OP_REFUSE: return "nothing awaits our signature";
        default: return NULL;
        }
    default: return NULL;
    }
}

static int refuse_state(struct h2h_err *err, const struct fmt_draft *d,
                        const struct fmt_bill_request *rq)
{
    char hb[128];
    const char *h = hint(d, rq->op, hb, sizeof(hb));
    return about(err, H2H_ESTATE, d, rq, "%s: it is %s%s%s%s",
                 ops[rq->op].cannot, phrase(d), h ? " (" : "", h ? h : "",
                 h ? ")" : "");
}

/* Does d's state allow rq->op to start now? */
static int state_allows(const struct fmt_draft *d, enum fmt_bill_op op)
{
    int pending = fmt_draft_status_pending(d->status);
    switch (op) {
    case FMT_BILL_OP_ISSUE: return d->status == FMT_DRAFT_NONE;
    case FMT_BILL_OP_WITHDRAW:
        return (pending && d->pending_dir == FMT_BILL_DIR_OUT) ||
               d->status == FMT_DRAFT_REGISTERED ||
               d->status == FMT_DRAFT_ACCEPTED;
    case FMT_BILL_OP_SIGN:
    case FMT_BILL_OP_REFUSE:
        return (pending && d->pending_dir == FMT_BILL_DIR_IN) ||
               self_signable(d);
    default: return d->status == ops[op].from && ops[op].from != FMT_DRAFT_NONE;
    }
}

/* Day number of a "YYYY-MM-DD" plus months, the day clamped to the end of
 * a shorter month (08-31 + 6 months = 02-28/29).  Only for valid dates. */
static long add_months(const char *date, int months)
{
    int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
    m += months;
    y += (m - 1) / 12;
    m = (m - 1) % 12 + 1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int last = mdays[m - 1] + (m == 2 && leap);
    if (d > last)
        d = last;
    char buf[16];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
    return fmt_date_days(buf);
}

static void day_text(long days, char *buf, size_t n)
{
    /* inverse of days_from_civil (H. Hinnant), for messages only */
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp + (mp < 10 ? 3 : -9);
    snprintf(buf, n, "%04ld-%02ld-%02ld", y + (m <= 2), m, d);
}

/* ---- the draft record ------------------------------------------------------
 */

/* Data of a draft (not its state).  A draft being issued may lack its
 * number (the bank assigns it) and, when divisible, its range (it gets
 * 1..amount); a record has both.  Messages without a prefix. */
static int draft_data_check(const struct fmt_draft *d, int issuing,
                            struct h2h_err *err)
{
    int need_number = !issuing;
    char m1[48], m2[48];
    if (d->number || need_number) {
        if (!all_digits(d->number, FMT_DRAFT_NUMBER_LEN))
            return h2h_err_set(
                err, H2H_EINVALID, "draft number \"%.40s\" is not %d digits",
                d->number ? d->number : "", FMT_DRAFT_NUMBER_LEN);
    }
    if (d->kind != FMT_DRAFT_AC01 && d->kind != FMT_DRAFT_AC02)
        return h2h_err_set(err, H2H_EINVALID,
                           "the kind of draft is missing (AC01 bank or AC02 "
                           "commercial acceptance)");
    if (strcmp(d->amount.ccy, "CNY"))
        return h2h_err_set(err, H2H_EINVALID,
                           "amount currency is \"%.3s\": electronic drafts "
                           "are in CNY",
                           d->amount.ccy);
    if (d->amount.minor <= 0)
        return h2h_err_set(err, H2H_EINVALID, "amount %s is not positive",
                           money(m1, sizeof(m1), d->amount.minor));
    struct h2h_err e2 = {0};
    if (fmt_date_check(d->issue_date, &e2) < 0)
        return h2h_err_set(err, H2H_EINVALID, "issue date: %s", e2.msg);
    if (fmt_date_check(d->maturity_date, &e2) < 0)
        return h2h_err_set(err, H2H_EINVALID, "maturity date: %s", e2.msg);
    if (fmt_date_days(d->maturity_date) <= fmt_date_days(d->issue_date))
        return h2h_err_set(err, H2H_EINVALID,
                           "maturity date %s is not after the issue date %s",
                           d->maturity_date, d->issue_date);
    if (!has_range(d->sub_from, d->sub_to)) {
        if (d->divisible && !issuing)
            return h2h_err_set(err, H2H_EINVALID,
                               "a divisible draft needs its sub-ticket range");
        return 0;
    }
    if (d->sub_from < 1 || d->sub_to < d->sub_from)
        return h2h_err_set(err, H2H_EINVALID,
                           "sub-range %" PRId64 "-%" PRId64
                           " is not a range of sub-tickets (from 1 up)",
                           d->sub_from, d->sub_to);
    if (d->sub_to - d->sub_from + 1 != d->amount.minor)
        return h2h_err_set(err, H2H_EINVALID,
                           "sub-range %" PRId64 "-%" PRId64
                           " holds %s but the amount is %s",
                           d->sub_from, d->sub_to,
                           money(m1, sizeof(m1), d->sub_to - d->sub_from + 1),
                           money(m2, sizeof(m2), d->amount.minor));
    return 0;
}

int fmt_draft_validate(const struct fmt_draft *d, struct h2h_err *err)
{
    if (!d)
        return h2h_err_set(err, H2H_EINVALID, "no draft");
    int rc = draft_data_check(d, 0, err);
    if (rc < 0)
        goto out;
    if ((unsigned)d->status >= FMT_DRAFT_STATUS_COUNT) {
        rc = h2h_err_set(err, H2H_EINVALID, "unknown status %d", d->status);
        goto out;
    }
    const struct st_info *si = &sts[d->status];
    if (si->op == FMT_BILL_OP_NONE) {
        if (d->pending_dir != FMT_BILL_DIR_NONE ||
            d->prev_status != FMT_DRAFT_NONE)
            rc = h2h_err_set(err, H2H_EINVALID,
                             "status %s is not pending but the record has a "
                             "pending direction or a previous status",
                             si->name);
        goto out;
    }
    if ((unsigned)d->prev_status >= FMT_DRAFT_STATUS_COUNT ||
        fmt_draft_status_pending(d->prev_status)) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "status %s: the previous status is not a settled one",
                         si->name);
        goto out;
    }
    if (d->pending_dir == FMT_BILL_DIR_OUT) {
        if (d->prev_status != ops[si->op].from)
            rc = h2h_err_set(
                err, H2H_EINVALID, "status %s (ours) must come from %s, not %s",
                si->name, sts[ops[si->op].from].name, sts[d->prev_status].name);
    } else if (d->pending_dir == FMT_BILL_DIR_IN) {
        const struct in_info *ii = in_info(si->op);
        if (!si->in || !ii)
            rc = h2h_err_set(err, H2H_EINVALID,
                             "status %s is never addressed to us", si->name);
        else if (!(ii->from & BIT(d->prev_status)))
            rc = h2h_err_set(err, H2H_EINVALID,
                             "status %s (addressed to us) cannot come from %s",
                             si->name, sts[d->prev_status].name);
    } else {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "status %s needs a pending direction (out or in)",
                         si->name);
    }
out:
    return rc;
}

/* ---- the request on its own ---------------------------------------------- */

static int party_needs(const struct fmt_bill_request *rq,
                       const struct fmt_bill_party *p, const char *who,
                       int name, int acct, int bank, struct h2h_err *err)
{
    if (name && empty(p->party.name))
        return bad_request(err, rq, "the %s's name is missing", who);
    if (acct && !acct_no(p))
        return bad_request(err, rq, "the %s's account number is missing", who);
    if (bank && empty(p->bank_code))
        return bad_request(err, rq, "the %s's bank code is missing", who);
    if (!empty(p->bank_code) &&
        !all_digits(p->bank_code, FMT_BILL_BANK_CODE_LEN))
        return bad_request(err, rq,
                           "the %s's bank code \"%.20s\" is not %d digits", who,
                           p->bank_code, FMT_BILL_BANK_CODE_LEN);
    return 0;
}

/* The data of a draft to issue that does not depend on today. */
static int issue_data_check(const struct fmt_bill_request *rq,
                            struct h2h_err *err)
{
    const struct fmt_draft *x = &rq->draft;
    struct h2h_err e2 = {0};
    int rc;
    if (draft_data_check(x, 1, &e2) < 0)
        return bad_request(err, rq, "%s", e2.msg);
    if (x->number && !empty(rq->draft_no) && strcmp(x->number, rq->draft_no))
        return bad_request(err, rq,
                           "draft_no %.40s and the draft's number %.40s differ",
                           rq->draft_no, x->number);
    if (fmt_date_days(x->maturity_date) >
        add_months(x->issue_date, FMT_BILL_MAX_TERM_MONTHS))
        return bad_request(err, rq,
                           "maturity date %s is more than %d months after the "
                           "issue date %s (the legal limit since 2023)",
                           x->maturity_date, FMT_BILL_MAX_TERM_MONTHS,
                           x->issue_date);
    if (has_range(x->sub_from, x->sub_to) &&
        (x->sub_from != 1 || x->sub_to != x->amount.minor))
        return bad_request(err, rq,
                           "a new draft's sub-range is 1-%" PRId64
                           ", not %" PRId64 "-%" PRId64,
                           x->amount.minor, x->sub_from, x->sub_to);
    if ((rc = party_needs(rq, &x->drawer, "drawer", 1, 1, 1, err)) < 0 ||
        (rc = party_needs(rq, &x->acceptor, "acceptor", 1,
                          x->kind == FMT_DRAFT_AC02, 1, err)) < 0 ||
        (rc = party_needs(rq, &x->payee, "payee", 1, 1, 1, err)) < 0)
        return rc;
    return 0;
}

int fmt_bill_request_check(const struct fmt_bill_request *rq,
                           struct h2h_err *err)
{
    if (!rq)
        return h2h_err_set(err, H2H_EINVALID, "no bill request");
    if (rq->op <= FMT_BILL_OP_NONE || rq->op >= FMT_BILL_OP_COUNT)
        return bad_request(err, rq, "unknown operation %d", (int)rq->op);
    const struct op_info *oi = &ops[rq->op];
    char m1[48];
    struct h2h_err e2 = {0};
    int rc;

    /* The request id is the bank-visible idempotency key: it must survive
     * every dialect's serial-number field unchanged. */
    if (empty(rq->req_id))
        return bad_request(err, rq, "the request id is missing");
    size_t idlen = strlen(rq->req_id);
    if (idlen > FMT_BILL_REQ_ID_MAX ||
        strspn(rq->req_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                           "xyz0123456789-_.") != idlen)
        return bad_request(err, rq,
                           "request id \"%.70s\" is not 1-%d letters, digits, "
                           "'-', '_' or '.'",
                           rq->req_id, FMT_BILL_REQ_ID_MAX);

    if ((oi->flags & OPF_NUMBER) && empty(rq->draft_no))
        return bad_request(err, rq, "the draft number is missing");
    if (!empty(rq->draft_no) && !all_digits(rq->draft_no, FMT_DRAFT_NUMBER_LEN))
        return bad_request(err, rq, "draft number \"%.40s\" is not %d digits",
                           rq->draft_no, FMT_DRAFT_NUMBER_LEN);
    if (has_range(rq->sub_from, rq->sub_to) &&
        (rq->sub_from < 1 || rq->sub_to < rq->sub_from))
        return bad_request(err, rq,
                           "sub-range %" PRId64 "-%" PRId64
                           " is not a range of sub-tickets (from 1 up, the "
                           "end not before the start)",
                           rq->sub_from, rq->sub_to);
    if (rq->amount.ccy[0]) {
        if (strcmp(rq->amount.ccy, "CNY"))
            return bad_request(err, rq,
                               "amount currency is \"%.3s\": electronic "
                               "drafts are in CNY",
                               rq->amount.ccy);
        if (rq->amount.minor <= 0)
            return bad_request(err, rq, "amount %s is not positive",
                               money(m1, sizeof(m1), rq->amount.minor));
    } else if (rq->amount.minor) {
        return bad_request(err, rq, "an amount without a currency");
    }
    if (rq->date && fmt_date_check(rq->date, &e2) < 0)
        return bad_request(err, rq, "date: %s", e2.msg);
    if ((rc = party_needs(rq, &rq->cpty, "counterparty", 0, 0, 0, err)) < 0)
        return rc;

    switch (rq->op) {
    case FMT_BILL_OP_ISSUE: return issue_data_check(rq, err);
    case FMT_BILL_OP_ENDORSE:
        return party_needs(rq, &rq->cpty, "endorsee", 1, 1, 1, err);
    case FMT_BILL_OP_DISCOUNT:
        if ((rc = party_needs(rq, &rq->cpty, "discounting bank", 0, 0, 1,
                              err)) < 0)
            return rc;
        /* a rate of 100 % or more is a unit mistake, not a price */
        if (rq->rate_ppm <= 0 || rq->rate_ppm >= 1000000)
            return bad_request(err, rq,
                               "the discount rate is missing or not between "
                               "0 and 100 %% (millionths: 1.35 %% = 13500)");
        return 0;
    case FMT_BILL_OP_PLEDGE:
        if (empty(rq->pool_id) && empty(rq->cpty.bank_code))
            return bad_request(err, rq,
                               "neither the pool agreement nor the pledgee "
                               "bank's code is given");
        return 0;
    case FMT_BILL_OP_RECOURSE:
        return party_needs(rq, &rq->cpty, "recourse debtor", 1, 1, 0, err);
    case FMT_BILL_OP_DRAFTS:
        if ((unsigned)rq->f_status >= FMT_DRAFT_STATUS_COUNT)
            return bad_request(err, rq, "unknown status filter %d",
                               (int)rq->f_status);
        if (rq->f_maturity_from && fmt_date_check(rq->f_maturity_from, &e2) < 0)
            return bad_request(err, rq, "maturity from: %s", e2.msg);
        if (rq->f_maturity_to && fmt_date_check(rq->f_maturity_to, &e2) < 0)
            return bad_request(err, rq, "maturity to: %s", e2.msg);
        if (rq->f_maturity_from && rq->f_maturity_to &&
            fmt_date_days(rq->f_maturity_from) >
                fmt_date_days(rq->f_maturity_to))
            return bad_request(err, rq,
                               "maturity from %s is after maturity to %s",
                               rq->f_maturity_from, rq->f_maturity_to);
        return 0;
    default: return 0;
    }
}

/* ---- checks against the draft ----------------------------------------------
 */

/* Does the request's part fit the piece d?  *partial: it takes less than
 * the whole piece. */
static int range_fits(const struct fmt_draft *d,
                      const struct fmt_bill_request *rq, int *partial,
                      struct h2h_err *err)
{
    *partial = 0;
    if (!has_range(rq->sub_from, rq->sub_to))
        return 0;
    if (!has_range(d->sub_from, d->sub_to))
        return about(err, H2H_EINVALID, d, rq,
                     "the draft has no sub-ticket ranges (an ECDS draft): "
                     "leave the sub-range empty (0-0)");
    if (rq->sub_from < d->sub_from || rq->sub_to > d->sub_to)
        return about(err, H2H_EINVALID, d, rq,
                     "the sub-range lies outside the piece we have, %" PRId64
                     "-%" PRId64,
                     d->sub_from, d->sub_to);
    if (rq->sub_from == d->sub_from && rq->sub_to == d->sub_to)
        return 0;
    if (!d->divisible)
        return about(err, H2H_EINVALID, d, rq,
                     "the draft is not divisible (不可分包): the operation "
                     "must take all of %" PRId64 "-%" PRId64,
                     d->sub_from, d->sub_to);
    if (!(ops[rq->op].flags & OPF_PARTIAL))
        return about(err, H2H_EINVALID, d, rq,
                     "%s takes the whole piece, %" PRId64 "-%" PRId64
                     ", not a part of it",
                     ops[rq->op].name, d->sub_from, d->sub_to);
    if (rq->sub_from != d->sub_from && rq->sub_to != d->sub_to)
        return about(err, H2H_EINVALID, d, rq,
                     "the part lies inside %" PRId64 "-%" PRId64
                     ": take it from either end, so that what stays with us "
                     "is one range",
                     d->sub_from, d->sub_to);
    *partial = 1;
    return 0;
}

static int amount_fits(const struct fmt_draft *d,
                       const struct fmt_bill_request *rq, int partial,
                       struct h2h_err *err)
{
    char m1[48], m2[48];
    if (!rq->amount.ccy[0])
        return 0;
    int64_t part = partial ? rq->sub_to - rq->sub_from + 1 : d->amount.minor;
    if (rq->op == FMT_BILL_OP_RECOURSE) {
        if (rq->amount.minor < part)
            return about(err, H2H_EINVALID, d, rq,
                         "the recourse amount %s is less than the draft's %s",
                         money(m1, sizeof(m1), rq->amount.minor),
                         money(m2, sizeof(m2), part));
        return 0;
    }
    if (rq->amount.minor != part)
        return about(err, H2H_EINVALID, d, rq,
                     "the amount %s does not match the part concerned, %s",
                     money(m1, sizeof(m1), rq->amount.minor),
                     money(m2, sizeof(m2), part));
    return 0;
}

static int dates_fit(const struct fmt_draft *d,
                     const struct fmt_bill_request *rq, const char *today,
                     struct h2h_err *err)
{
    long t = fmt_date_days(today), mat = fmt_date_days(d->maturity_date);
    const struct op_info *oi = &ops[rq->op];
    if ((oi->flags & OPF_BEFORE) && t >= mat)
        return about(err, H2H_EINVALID, d, rq,
                     "%s: it matures on %s and today is %s; this is possible "
                     "only before the maturity date",
                     oi->cannot, d->maturity_date, today);
    if (rq->op == FMT_BILL_OP_DISCOUNT) {
        const char *dd = rq->date ? rq->date : today;
        if (fmt_date_days(dd) < t)
            return about(err, H2H_EINVALID, d, rq,
                         "the discount date %s is in the past (today is %s)",
                         dd, today);
        if (fmt_date_days(dd) >= mat)
            return about(err, H2H_EINVALID, d, rq,
                         "the discount date %s is not before the maturity "
                         "date %s",
                         dd, d->maturity_date);
    }
    if (rq->op == FMT_BILL_OP_PRESENT_PAYMENT) {
        char end[72]; /* ample for any long: -Wformat-truncation */
        if (t < mat)
            return about(err, H2H_EINVALID, d, rq,
                         "%s yet: it matures on %s (today is %s); payment can "
                         "be presented from that day on",
                         oi->cannot, d->maturity_date, today);
        day_text(mat + FMT_BILL_PRESENT_DAYS, end, sizeof(end));
        if (t > mat + FMT_BILL_PRESENT_DAYS && !rq->overdue)
            return about(err, H2H_EINVALID, d, rq,
                         "the presentment period ended on %s, %d days after "
                         "the maturity date %s: set overdue to present it "
                         "late (逾期提示付款), after which recourse reaches "
                         "only the drawer and the acceptor",
                         end, FMT_BILL_PRESENT_DAYS, d->maturity_date);
    }
    return 0;
}

static int check_issue(const struct fmt_draft *d,
                       const struct fmt_bill_request *rq, const char *today,
                       struct h2h_err *err)
{
    const struct fmt_draft *x = &rq->draft;
    if (d && d->status != FMT_DRAFT_NONE)
        return refuse_state(err, d, rq);
    long t = fmt_date_days(today);
    if (fmt_date_days(x->issue_date) > t)
        return bad_request(err, rq,
                           "the issue date %s is in the future (today is %s)",
                           x->issue_date, today);
    if (fmt_date_days(x->maturity_date) <= t)
        return bad_request(err, rq,
                           "the maturity date %s is not after today (%s)",
                           x->maturity_date, today);
    return 0;
}

int fmt_draft_check(const struct fmt_draft *d,
                    const struct fmt_bill_request *rq, const char *today,
                    struct h2h_err *err)
{
    int rc = fmt_bill_request_check(rq, err);
    if (rc < 0)
        return rc;
    if (ops[rq->op].flags & OPF_INQUIRY)
        return 0;
    if (fmt_date_days(today) == INT32_MIN)
        return bad_request(err, rq,
                           "no valid business date for today (\"%.16s\")",
                           today ? today : "");
    if (rq->op == FMT_BILL_OP_ISSUE)
        return check_issue(d, rq, today, err);
    if (!d)
        return bad_request(err, rq, "no record of the draft was given");
    if ((rc = fmt_draft_validate(d, err)) < 0) {
        h2h_err_prefix(err, "record of draft %.40s",
                       d->number ? d->number : "(no number)");
        return rc;
    }
    if (strcmp(rq->draft_no, d->number))
        return bad_request(err, rq,
                           "it is for draft %s but the record is of draft %s",
                           rq->draft_no, d->number);
    if (!state_allows(d, rq->op))
        return refuse_state(err, d, rq);
    int partial;
    if ((rc = range_fits(d, rq, &partial, err)) < 0 ||
        (rc = amount_fits(d, rq, partial, err)) < 0)
        return rc;
    if ((ops[rq->op].flags & OPF_TRANSFER) && d->not_transferable)
        return about(err, H2H_EINVALID, d, rq,
                     "%s: it is marked not transferable (不得转让), so it "
                     "cannot be endorsed, discounted or pledged",
                     ops[rq->op].cannot);
    if ((rc = dates_fit(d, rq, today, err)) < 0)
        return rc;
    if (rq->op == FMT_BILL_OP_REFUSE &&
        d->status == FMT_DRAFT_PENDING_PAYMENT && empty(rq->reason))
        return about(err, H2H_EINVALID, d, rq,
                     "refusing payment (拒付) needs a reason");
    return 0;
}

/* ---- apply ----------------------------------------------------------------
 */

static void set_state(struct fmt_draft *d, enum fmt_draft_status st,
                      enum fmt_draft_status prev, enum fmt_bill_dir dir)
{
    d->status = st;
    d->prev_status = prev;
    d->pending_dir = dir;
}

static int no_pending_stage(struct h2h_err *err, const struct fmt_draft *d,
                            const struct fmt_bill_request *rq)
{
    return about(err, H2H_EINVALID, d, rq,
                 "%s has no pending stage: the answer is accepted or "
                 "rejected",
                 ops[rq->op].name);
}

static int apply_issue(struct fmt_draft *d, const struct fmt_bill_request *rq,
                       enum fmt_bill_outcome outcome, struct h2h_err *err)
{
    if (d->status != FMT_DRAFT_NONE)
        return refuse_state(err, d, rq);
    if (outcome == FMT_BILL_PENDING)
        return no_pending_stage(err, d, rq);
    if (outcome == FMT_BILL_REJECTED)
        return 0;
    struct fmt_draft x;
    if (fmt_draft_copy(&x, &rq->draft) < 0)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    set_state(&x, FMT_DRAFT_REGISTERED, FMT_DRAFT_NONE, FMT_BILL_DIR_NONE);
    if (x.divisible && !has_range(x.sub_from, x.sub_to)) {
        x.sub_from = 1;
        x.sub_to = x.amount.minor;
    }
    fmt_draft_release(d);
    *d = x;
    return 0;
}

/* The state an operation ends in once accepted. */
static enum fmt_draft_status done_state(const struct fmt_draft *d,
                                        enum fmt_bill_op op)
{
    if (op == FMT_BILL_OP_PRESENT_RECEIPT &&
        same_account(&d->payee, &d->drawer))
        return FMT_DRAFT_HELD;
    return ops[op].done;
}

/* Sign / refuse: where the answer leads. */
static int answer_target(const struct fmt_draft *d, enum fmt_bill_op op,
                         enum fmt_draft_status *to)
{
    enum fmt_bill_op pop = sts[d->status].op;
    if (d->pending_dir == FMT_BILL_DIR_IN) {
        const struct in_info *ii = in_info(pop);
        enum fmt_draft_status t =
            op == FMT_BILL_OP_SIGN ? ii->sign : ii->refuse;
        if (t == FMT_DRAFT_NONE)
            t = d->prev_status != FMT_DRAFT_NONE ? d->prev_status
                                                 : FMT_DRAFT_REFUSED;
        *to = t;
        return 0;
    }
    if (self_signable(d)) {
        *to = op == FMT_BILL_OP_SIGN ? done_state(d, pop) : d->prev_status;
        return 0;
    }
    return -1;
}

int fmt_draft_apply(struct fmt_draft *d, const struct fmt_bill_request *rq,
                    enum fmt_bill_outcome outcome, struct fmt_draft *split_rest,
                    struct h2h_err *err)
{
    struct fmt_draft rest = {0};
    struct fmt_bill_party holder = {0};
    int new_holder = 0, partial = 0, rc;
    enum fmt_draft_status to = FMT_DRAFT_NONE;

    if (!d)
        return h2h_err_set(err, H2H_EINVALID, "no draft");
    if ((rc = fmt_bill_request_check(rq, err)) < 0)
        return rc;
    if (outcome < FMT_BILL_ACCEPTED || outcome > FMT_BILL_REJECTED)
        return about(err, H2H_EINVALID, d, rq, "unknown outcome %d",
                     (int)outcome);
    const struct op_info *oi = &ops[rq->op];
    if (oi->flags & OPF_INQUIRY)
        return 0;
    if (rq->op == FMT_BILL_OP_ISSUE)
        return apply_issue(d, rq, outcome, err);
    if ((rc = fmt_draft_validate(d, err)) < 0) {
        h2h_err_prefix(err, "record of draft %.40s",
                       d->number ? d->number : "(no number)");
        return rc;
    }
    if (strcmp(rq->draft_no, d->number))
        return bad_request(err, rq,
                           "it is for draft %s but the record is of draft %s",
                           rq->draft_no, d->number);

    int pending = fmt_draft_status_pending(d->status);
    int from_start = 0; /* the answer to a request from the starting state */
    switch (rq->op) {
    case FMT_BILL_OP_WITHDRAW:
        if (pending && d->pending_dir == FMT_BILL_DIR_OUT)
            to = d->prev_status;
        else if (d->status == FMT_DRAFT_REGISTERED ||
                 d->status == FMT_DRAFT_ACCEPTED)
            to = FMT_DRAFT_WITHDRAWN;
        else
            return refuse_state(err, d, rq);
        break;
    case FMT_BILL_OP_SIGN:
    case FMT_BILL_OP_REFUSE:
        if (!pending || answer_target(d, rq->op, &to) < 0)
            return refuse_state(err, d, rq);
        break;
    default:
        if (d->status == oi->from) {
            from_start = 1;
            to = outcome == FMT_BILL_PENDING ? oi->pending
                                             : done_state(d, rq->op);
        } else if (d->status == oi->pending &&
                   d->pending_dir == FMT_BILL_DIR_OUT) {
            /* a counterparty's refusal of payment is a dishonour */
            if (outcome == FMT_BILL_REJECTED)
                to = rq->op == FMT_BILL_OP_PRESENT_PAYMENT
                         ? FMT_DRAFT_DISHONOURED
                         : d->prev_status;
            else
                to = done_state(d, rq->op);
        } else {
            return refuse_state(err, d, rq);
        }
        break;
    }

    /* Only a request from the starting state may take part of the piece;
     * an answer about a pending piece concerns all of it. */
    if ((rc = range_fits(d, rq, &partial, err)) < 0)
        return rc;
    if (partial && !from_start)
        return about(err, H2H_EINVALID, d, rq,
                     "the answer concerns the whole pending piece %" PRId64
                     "-%" PRId64,
                     d->sub_from, d->sub_to);
    if (outcome == FMT_BILL_PENDING && !from_start) {
        if (rq->op == FMT_BILL_OP_WITHDRAW || rq->op == FMT_BILL_OP_SIGN ||
            rq->op == FMT_BILL_OP_REFUSE)
            return no_pending_stage(err, d, rq);
        return 0; /* still pending: nothing new */
    }
    if (outcome == FMT_BILL_REJECTED && (from_start || !oi->pending))
        return 0; /* the bank refused our request: nothing happened */

    /* Everything that can fail comes before d changes. */
    if (partial) {
        if (!split_rest)
            return about(err, H2H_EINVALID, d, rq,
                         "a partial operation needs a record for the "
                         "remainder");
        if (fmt_draft_copy(&rest, d) < 0)
            goto nomem;
    }
    /* The holder follows the draft: the endorsee or discounting bank once
     * they signed, the payee once the receipt is signed. */
    const struct fmt_bill_party *hsrc = NULL;
    if (outcome == FMT_BILL_ACCEPTED && !empty(rq->cpty.party.name) &&
        (rq->op == FMT_BILL_OP_ENDORSE || rq->op == FMT_BILL_OP_DISCOUNT))
        hsrc = &rq->cpty;
    if (to == FMT_DRAFT_DELIVERED ||
        (to == FMT_DRAFT_HELD && (d->status == FMT_DRAFT_ACCEPTED ||
                                  d->status == FMT_DRAFT_PENDING_RECEIPT)))
        hsrc = &d->payee;
    if (hsrc) {
        if (fmt_bill_party_copy(&holder, hsrc) < 0)
            goto nomem;
        new_holder = 1;
    }

    if (partial) {
        /* the part is one end of the piece (range_fits), the rest the
         * other */
        if (rq->sub_from == d->sub_from)
            rest.sub_from = rq->sub_to + 1;
        else
            rest.sub_to = rq->sub_from - 1;
        rest.amount.minor = rest.sub_to - rest.sub_from + 1;
        d->sub_from = rq->sub_from;
        d->sub_to = rq->sub_to;
        d->amount.minor = d->sub_to - d->sub_from + 1;
        *split_rest = rest;
    }
    if (new_holder) {
        fmt_bill_party_release(&d->holder);
        d->holder = holder;
    }
    if (from_start && outcome == FMT_BILL_PENDING)
        set_state(d, to, oi->from, FMT_BILL_DIR_OUT);
    else
        set_state(d, to, FMT_DRAFT_NONE, FMT_BILL_DIR_NONE);
    return partial;

nomem:
    fmt_draft_release(&rest);
    fmt_bill_party_release(&holder);
    return h2h_err_set(err, H2H_ENOMEM, "out of memory");
}

/* ---- notices ----------------------------------------------------------------
 */

int fmt_draft_receive(struct fmt_draft *d, const struct fmt_bill_notice *n,
                      struct h2h_err *err)
{
    if (!d || !n)
        return h2h_err_set(err, H2H_EINVALID, "no draft or no notice");
    const struct in_info *ii = in_info(n->kind);
    const char *kn = fmt_bill_op_name(n->kind);
    if (!ii)
        return h2h_err_set(err, H2H_EINVALID,
                           "notice %.64s: \"%s\" is not something presented "
                           "to us",
                           n->notice_id ? n->notice_id : "",
                           kn ? kn : "unknown");
    int rc = draft_data_check(&n->draft, 0, err);
    if (rc < 0) {
        h2h_err_prefix(err, "notice %.64s", n->notice_id ? n->notice_id : "");
        return rc;
    }
    const struct fmt_draft *nd = &n->draft;
    if ((n->kind == FMT_BILL_OP_PRESENT_ACCEPTANCE ||
         n->kind == FMT_BILL_OP_PRESENT_PAYMENT) &&
        nd->kind == FMT_DRAFT_AC01)
        return about(err, H2H_EINVALID, nd, NULL,
                     "a bank acceptance is accepted and paid by its bank, "
                     "never presented to us for %s",
                     n->kind == FMT_BILL_OP_PRESENT_PAYMENT ? "payment"
                                                            : "acceptance");
    if (d->number) {
        if ((rc = fmt_draft_validate(d, err)) < 0) {
            h2h_err_prefix(err, "record of draft %.40s", d->number);
            return rc;
        }
        if (strcmp(d->number, nd->number) || d->sub_from != nd->sub_from ||
            d->sub_to != nd->sub_to)
            return about(err, H2H_EINVALID, nd, NULL,
                         "the notice is not about our record (draft %s, "
                         "sub-range %" PRId64 "-%" PRId64
                         "): keep it in a record of its own",
                         d->number, d->sub_from, d->sub_to);
    } else if (d->status != FMT_DRAFT_NONE) {
        return h2h_err_set(err, H2H_EINVALID,
                           "a record in status %s without a draft number",
                           sts[d->status].name);
    }
    int fits = (ii->from & BIT(d->status)) != 0;
    if (d->status == FMT_DRAFT_PENDING_RELEASE)
        fits = d->pending_dir == FMT_BILL_DIR_OUT;
    if (d->status == FMT_DRAFT_DELIVERED &&
        n->kind == FMT_BILL_OP_PRESENT_PAYMENT)
        fits = same_account(&d->acceptor, &d->drawer);
    if (!fits)
        return about(err, H2H_ESTATE, d, NULL,
                     "a %s addressed to us does not fit: it is %s",
                     ops[n->kind].noun, phrase(d));

    enum fmt_draft_status prev = d->status;
    if (prev == FMT_DRAFT_PENDING_RELEASE)
        prev = d->prev_status;
    if (!d->number) {
        struct fmt_draft x;
        if (fmt_draft_copy(&x, nd) < 0)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        fmt_draft_release(d);
        *d = x;
    }
    set_state(d, ii->pending, prev, FMT_BILL_DIR_IN);
    return 0;
}

/* ---- maturity and pool ----------------------------------------------------
 */

int fmt_draft_days_to_maturity(const struct fmt_draft *d, const char *today,
                               long *days)
{
    if (!d || !days)
        return H2H_EINVALID;
    long t = fmt_date_days(today), m = fmt_date_days(d->maturity_date);
    if (t == INT32_MIN || m == INT32_MIN)
        return H2H_EINVALID;
    *days = m - t;
    return 0;
}

int fmt_draft_is_ours(const struct fmt_draft *d)
{
    const unsigned ours = BIT(FMT_DRAFT_HELD) | BIT(FMT_DRAFT_PLEDGED) |
                          BIT(FMT_DRAFT_DISHONOURED);
    if (!d || (unsigned)d->status >= FMT_DRAFT_STATUS_COUNT)
        return 0;
    if (ours & BIT(d->status))
        return 1;
    if (!fmt_draft_status_pending(d->status) ||
        (unsigned)d->prev_status >= FMT_DRAFT_STATUS_COUNT)
        return 0;
    if (d->pending_dir == FMT_BILL_DIR_OUT)
        return (ours & BIT(d->prev_status)) != 0;
    return d->status == FMT_DRAFT_PENDING_RELEASE;
}

int fmt_bill_pool_check(const struct fmt_bill_pool *p, struct h2h_err *err)
{
    if (!p)
        return h2h_err_set(err, H2H_EINVALID, "no pool overview");
    const struct fmt_amount *a[] = {&p->pledged_total, &p->deposit,
                                    &p->quota_total, &p->quota_used,
                                    &p->quota_available};
    static const char *const what[] = {"pledged total", "deposit",
                                       "financing quota", "quota used",
                                       "quota available"};
    const char *ccy = NULL;
    if (p->pledged_count < 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "pool %.64s: negative count of pledged drafts",
                           p->pool_id ? p->pool_id : "");
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
        if (!a[i]->ccy[0]) {
            if (a[i]->minor)
                return h2h_err_set(err, H2H_EINVALID,
                                   "pool %.64s: %s without a currency",
                                   p->pool_id ? p->pool_id : "", what[i]);
            continue;
        }
        if (a[i]->minor < 0)
            return h2h_err_set(err, H2H_EINVALID, "pool %.64s: %s is negative",
                               p->pool_id ? p->pool_id : "", what[i]);
        if (ccy && strcmp(ccy, a[i]->ccy))
            return h2h_err_set(
                err, H2H_EINVALID, "pool %.64s: %s is in %s, the rest in %s",
                p->pool_id ? p->pool_id : "", what[i], a[i]->ccy, ccy);
        ccy = a[i]->ccy;
    }
    /* both fit in int64 and are >= 0, so the sum cannot wrap when compared
     * as a difference */
    if (p->quota_total.ccy[0] &&
        p->quota_used.minor > p->quota_total.minor - p->quota_available.minor)
        return h2h_err_set(err, H2H_EINVALID,
                           "pool %.64s: quota used and available exceed the "
                           "financing quota",
                           p->pool_id ? p->pool_id : "");
    return 0;
}
