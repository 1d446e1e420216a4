/*
 * test_fmt_bill.c - electronic commercial drafts: names, records, requests,
 * the state machine over every (state, operation) pair, whole lives of
 * drafts, sub-range splits, date rules, notices and the pool overview.
 *
 * Drafts are built in code; the expected verdicts are written out by hand
 * from the rules in bill.h, not derived from the module's tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "testutil.h"

#define NUM "530158000001202401150000123456"
#define NUM2 "530158000001202401150000999999"
#define ISSUE "2024-01-15"
#define MATURITY "2024-07-15"
#define BEFORE "2024-03-01" /* a day well inside the term */
#define AMOUNT 1000000      /* 10,000.00 CNY: sub-range 1-1000000 */

#define DRAWER_ACCT "110000000000000001"
#define PAYEE_ACCT "220000000000000002"
#define ENDORSEE_ACCT "330000000000000003"

static char *dup(const char *s)
{
    char *c = s ? strdup(s) : NULL;
    if (s && !c)
        abort();
    return c;
}

static void set_party(struct fmt_bill_party *p, const char *name,
                      const char *acct, const char *bank)
{
    fmt_bill_party_release(p);
    p->party.name = dup(name);
    p->acct.other_id = dup(acct);
    p->bank_code = dup(bank);
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = dup(s);
}

/* A divisible bank acceptance of 10,000.00 CNY that we hold. */
static void base_draft(struct fmt_draft *d, enum fmt_draft_kind kind)
{
    memset(d, 0, sizeof(*d));
    d->number = dup(NUM);
    d->kind = kind;
    d->amount.minor = AMOUNT;
    strcpy(d->amount.ccy, "CNY");
    d->issue_date = dup(ISSUE);
    d->maturity_date = dup(MATURITY);
    set_party(&d->drawer, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
              "102100099996");
    if (kind == FMT_DRAFT_AC01)
        set_party(&d->acceptor, "ICBC Beijing Branch", NULL, "102100000013");
    else
        set_party(&d->acceptor, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
                  "102100099996");
    set_party(&d->payee, "Jiangnan Supply Ltd.", PAYEE_ACCT, "103100000026");
    set_party(&d->holder, "Jiangnan Supply Ltd.", PAYEE_ACCT, "103100000026");
    d->status = FMT_DRAFT_HELD;
    d->divisible = 1;
    d->sub_from = 1;
    d->sub_to = AMOUNT;
}

static void set_state(struct fmt_draft *d, enum fmt_draft_status st,
                      enum fmt_bill_dir dir, enum fmt_draft_status prev)
{
    d->status = st;
    d->pending_dir = dir;
    d->prev_status = prev;
}

/* A well-formed request for op on draft NUM (the whole piece). */
static void mk_req(struct fmt_bill_request *rq, enum fmt_bill_op op)
{
    memset(rq, 0, sizeof(*rq));
    rq->op = op;
    rq->req_id = dup("REQ-0001");
    switch (op) {
    case FMT_BILL_OP_ISSUE:
        base_draft(&rq->draft, FMT_DRAFT_AC01);
        free(rq->draft.number);
        rq->draft.number = NULL; /* the bank assigns it */
        rq->draft.status = FMT_DRAFT_NONE;
        rq->draft.sub_from = rq->draft.sub_to = 0;
        fmt_bill_party_release(&rq->draft.holder);
        return;
    case FMT_BILL_OP_POOL_OVERVIEW:
    case FMT_BILL_OP_NOTICES: return;
    case FMT_BILL_OP_DRAFTS:
        rq->f_status = FMT_DRAFT_PLEDGED;
        rq->f_maturity_from = dup("2024-07-01");
        rq->f_maturity_to = dup("2024-07-31");
        return;
    default: break;
    }
    rq->draft_no = dup(NUM);
    switch (op) {
    case FMT_BILL_OP_ENDORSE:
        set_party(&rq->cpty, "Lingnan Parts Ltd.", ENDORSEE_ACCT,
                  "104100000045");
        break;
    case FMT_BILL_OP_DISCOUNT:
        set_party(&rq->cpty, "Bank of Ningbo", NULL, "313332082914");
        rq->rate_ppm = 13500;
        break;
    case FMT_BILL_OP_PLEDGE: rq->pool_id = dup("POOL-2024-01"); break;
    case FMT_BILL_OP_RECOURSE:
        set_party(&rq->cpty, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
                  "102100099996");
        break;
    case FMT_BILL_OP_REFUSE: rq->reason = dup("goods not delivered"); break;
    default: break;
    }
}

static int expect_check(int line, const struct fmt_draft *d,
                        const struct fmt_bill_request *rq, const char *today,
                        int code, const char *sub)
{
    struct h2h_err e = {0};
    int rc = fmt_draft_check(d, rq, today, &e);
    if (rc != code || (sub && !strstr(e.msg, sub)))
        fprintf(stderr,
                "line %d: check rc %d (want %d): \"%s\" (want \"%s\")\n", line,
                rc, code, e.msg, sub ? sub : "");
    CU_ASSERT_EQUAL(rc, code);
    if (sub)
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, sub));
    if (rc < 0)
        CU_ASSERT_EQUAL(e.code, rc);
    return rc;
}
#define CHECK(d, rq, today, code, sub)                                         \
    expect_check(__LINE__, d, rq, today, code, sub)

static int expect_apply(int line, struct fmt_draft *d,
                        const struct fmt_bill_request *rq,
                        enum fmt_bill_outcome o, struct fmt_draft *rest,
                        int code, const char *sub)
{
    struct h2h_err e = {0};
    int rc = fmt_draft_apply(d, rq, o, rest, &e);
    if (rc != code || (sub && !strstr(e.msg, sub)))
        fprintf(stderr,
                "line %d: apply rc %d (want %d): \"%s\" (want \"%s\")\n", line,
                rc, code, e.msg, sub ? sub : "");
    CU_ASSERT_EQUAL(rc, code);
    if (sub)
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, sub));
    return rc;
}
#define APPLY(d, rq, o, rest, code, sub)                                       \
    expect_apply(__LINE__, d, rq, o, rest, code, sub)

#define STATE(d, st, dir, prev)                                                \
    do {                                                                       \
        if ((d)->status != (st) || (d)->pending_dir != (dir) ||                \
            (d)->prev_status != (prev))                                        \
            fprintf(stderr, "line %d: state %s/%s/%s\n", __LINE__,             \
                    fmt_draft_status_name((d)->status),                        \
                    fmt_bill_dir_name((d)->pending_dir),                       \
                    fmt_draft_status_name((d)->prev_status));                  \
        CU_ASSERT_EQUAL((d)->status, st);                                      \
        CU_ASSERT_EQUAL((d)->pending_dir, dir);                                \
        CU_ASSERT_EQUAL((d)->prev_status, prev);                               \
    } while (0)

/* ---- names ----------------------------------------------------------------
 */

static void test_names(void)
{
    static const char *const opn[] = {NULL,
                                      "issue",
                                      "present_acceptance",
                                      "present_receipt",
                                      "endorse",
                                      "discount",
                                      "pledge",
                                      "release",
                                      "present_payment",
                                      "recourse",
                                      "withdraw",
                                      "sign",
                                      "refuse",
                                      "pool_overview",
                                      "drafts",
                                      "draft_detail",
                                      "notices"};
    CU_ASSERT_EQUAL(sizeof(opn) / sizeof(opn[0]), FMT_BILL_OP_COUNT);
    for (int i = 1; i < FMT_BILL_OP_COUNT; i++) {
        enum fmt_bill_op op = FMT_BILL_OP_NONE;
        const char *n = fmt_bill_op_name((enum fmt_bill_op)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        CU_ASSERT_STRING_EQUAL(n, opn[i]);
        CU_ASSERT_EQUAL(fmt_bill_op_parse(n, &op, NULL), 0);
        CU_ASSERT_EQUAL(op, i);
    }
    CU_ASSERT_PTR_NULL(fmt_bill_op_name(FMT_BILL_OP_COUNT));
    CU_ASSERT_PTR_NULL(fmt_bill_op_name((enum fmt_bill_op) - 1));
    struct h2h_err e = {0};
    enum fmt_bill_op op = FMT_BILL_OP_SIGN;
    CU_ASSERT_EQUAL(fmt_bill_op_parse("none", &op, &e), H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_bill_op_parse("Endorse", &op, &e), H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_bill_op_parse(NULL, &op, &e), H2H_EINVALID);
    CU_ASSERT_EQUAL(op, FMT_BILL_OP_SIGN); /* untouched on failure */
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "unknown bill operation"));

    static const char *const stn[] = {"none",
                                      "registered",
                                      "pending_acceptance",
                                      "accepted",
                                      "pending_receipt",
                                      "delivered",
                                      "held",
                                      "pending_endorsement",
                                      "endorsed",
                                      "pending_discount",
                                      "discounted",
                                      "pending_pledge",
                                      "pledged",
                                      "pending_release",
                                      "pending_payment",
                                      "paid",
                                      "dishonoured",
                                      "pending_recourse",
                                      "recourse_settled",
                                      "withdrawn",
                                      "refused",
                                      "liable"};
    CU_ASSERT_EQUAL(sizeof(stn) / sizeof(stn[0]), FMT_DRAFT_STATUS_COUNT);
    for (int i = 0; i < FMT_DRAFT_STATUS_COUNT; i++) {
        enum fmt_draft_status st = FMT_DRAFT_PAID;
        const char *n = fmt_draft_status_name((enum fmt_draft_status)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        CU_ASSERT_STRING_EQUAL(n, stn[i]);
        CU_ASSERT_EQUAL(fmt_draft_status_parse(n, &st, NULL), 0);
        CU_ASSERT_EQUAL(st, i);
        CU_ASSERT_EQUAL(fmt_draft_status_pending((enum fmt_draft_status)i),
                        strncmp(n, "pending_", 8) == 0);
    }
    CU_ASSERT_PTR_NULL(fmt_draft_status_name(FMT_DRAFT_STATUS_COUNT));
    enum fmt_draft_status st;
    CU_ASSERT_EQUAL(fmt_draft_status_parse("pledged ", &st, NULL),
                    H2H_EINVALID);

    enum fmt_draft_kind k = FMT_DRAFT_KIND_NONE;
    CU_ASSERT_STRING_EQUAL(fmt_draft_kind_name(FMT_DRAFT_AC01), "AC01");
    CU_ASSERT_STRING_EQUAL(fmt_draft_kind_name(FMT_DRAFT_AC02), "AC02");
    CU_ASSERT_EQUAL(fmt_draft_kind_parse("AC02", &k, NULL), 0);
    CU_ASSERT_EQUAL(k, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(fmt_draft_kind_parse("AC01", &k, NULL), 0);
    CU_ASSERT_EQUAL(k, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_kind_parse("none", &k, NULL), H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_draft_kind_parse("ac01", &k, NULL), H2H_EINVALID);
    CU_ASSERT_PTR_NULL(fmt_draft_kind_name((enum fmt_draft_kind)3));

    enum fmt_bill_dir dir = FMT_BILL_DIR_NONE;
    CU_ASSERT_STRING_EQUAL(fmt_bill_dir_name(FMT_BILL_DIR_OUT), "out");
    CU_ASSERT_STRING_EQUAL(fmt_bill_dir_name(FMT_BILL_DIR_IN), "in");
    CU_ASSERT_EQUAL(fmt_bill_dir_parse("in", &dir, NULL), 0);
    CU_ASSERT_EQUAL(dir, FMT_BILL_DIR_IN);
    CU_ASSERT_EQUAL(fmt_bill_dir_parse("none", &dir, NULL), 0);
    CU_ASSERT_EQUAL(dir, FMT_BILL_DIR_NONE);
    CU_ASSERT_EQUAL(fmt_bill_dir_parse("incoming", &dir, NULL), H2H_EINVALID);

    enum fmt_bill_outcome o = FMT_BILL_OUTCOME_NONE;
    static const char *const on[] = {NULL, "accepted", "pending", "rejected"};
    for (int i = 1; i <= 3; i++) {
        CU_ASSERT_STRING_EQUAL(fmt_bill_outcome_name((enum fmt_bill_outcome)i),
                               on[i]);
        CU_ASSERT_EQUAL(fmt_bill_outcome_parse(on[i], &o, NULL), 0);
        CU_ASSERT_EQUAL(o, i);
    }
    CU_ASSERT_EQUAL(fmt_bill_outcome_parse("none", &o, NULL), H2H_EINVALID);
    CU_ASSERT_PTR_NULL(fmt_bill_outcome_name((enum fmt_bill_outcome)4));

    CU_ASSERT_EQUAL(fmt_bill_op_inquiry(FMT_BILL_OP_DRAFTS), 1);
    CU_ASSERT_EQUAL(fmt_bill_op_inquiry(FMT_BILL_OP_NOTICES), 1);
    CU_ASSERT_EQUAL(fmt_bill_op_inquiry(FMT_BILL_OP_ENDORSE), 0);
    CU_ASSERT_EQUAL(fmt_bill_op_inquiry(FMT_BILL_OP_COUNT), 0);
}

/* ---- the record on its own --------------------------------------------------
 */

static void test_validate(void)
{
    struct fmt_draft d;
    struct h2h_err e = {0};
    base_draft(&d, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, &e), 0);

#define BAD(stmt, sub)                                                         \
    do {                                                                       \
        base_draft(&d, FMT_DRAFT_AC01);                                        \
        stmt;                                                                  \
        memset(&e, 0, sizeof(e));                                              \
        int rc_ = fmt_draft_validate(&d, &e);                                  \
        if (rc_ != H2H_EINVALID || !strstr(e.msg, sub))                        \
            fprintf(stderr, "validate line %d: %d \"%s\"\n", __LINE__, rc_,    \
                    e.msg);                                                    \
        CU_ASSERT_EQUAL(rc_, H2H_EINVALID);                                    \
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, sub));                            \
        fmt_draft_release(&d);                                                 \
    } while (0)
    fmt_draft_release(&d);
    BAD(set_str(&d.number, "53015800000120240115000012345"), "not 30 digits");
    BAD(set_str(&d.number, "53015800000120240115000012345X"), "not 30 digits");
    BAD(set_str(&d.number, NULL), "not 30 digits");
    BAD(d.kind = FMT_DRAFT_KIND_NONE, "kind of draft");
    BAD(strcpy(d.amount.ccy, "USD"), "in CNY");
    BAD((d.amount.minor = 0, d.sub_to = 0, d.sub_from = 0, d.divisible = 0),
        "not positive");
    BAD(d.amount.minor = 999999, "holds 10000.00 CNY but the amount is "
                                 "9999.99 CNY");
    BAD((d.sub_from = 0, d.sub_to = 0), "divisible draft needs");
    BAD((d.sub_from = 5, d.sub_to = 4), "not a range");
    BAD(set_str(&d.maturity_date, ISSUE), "not after the issue date");
    BAD(set_str(&d.maturity_date, "2024-02-30"), "maturity date");
    BAD(set_str(&d.issue_date, NULL), "issue date");
    BAD(d.pending_dir = FMT_BILL_DIR_OUT, "is not pending");
    BAD(d.prev_status = FMT_DRAFT_PLEDGED, "is not pending");
    BAD(set_state(&d, FMT_DRAFT_PENDING_ENDORSEMENT, FMT_BILL_DIR_NONE,
                  FMT_DRAFT_HELD),
        "needs a pending direction");
    BAD(set_state(&d, FMT_DRAFT_PENDING_ENDORSEMENT, FMT_BILL_DIR_OUT,
                  FMT_DRAFT_PLEDGED),
        "must come from held, not pledged");
    BAD(set_state(&d, FMT_DRAFT_PENDING_DISCOUNT, FMT_BILL_DIR_IN,
                  FMT_DRAFT_NONE),
        "never addressed to us");
    BAD(set_state(&d, FMT_DRAFT_PENDING_RECEIPT, FMT_BILL_DIR_IN,
                  FMT_DRAFT_HELD),
        "cannot come from held");
    BAD(set_state(&d, FMT_DRAFT_PENDING_RELEASE, FMT_BILL_DIR_OUT,
                  FMT_DRAFT_PENDING_PLEDGE),
        "not a settled one");
    BAD(d.status = FMT_DRAFT_STATUS_COUNT, "unknown status");
#undef BAD

    /* the two forms of a non-divisible draft */
    base_draft(&d, FMT_DRAFT_AC01);
    d.divisible = 0;
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, NULL), 0);
    d.sub_from = d.sub_to = 0;
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, NULL), 0);
    /* a piece of a divisible draft in the middle of the original range */
    d.divisible = 1;
    d.sub_from = 300001;
    d.sub_to = 700000;
    d.amount.minor = 400000;
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, NULL), 0);
    set_state(&d, FMT_DRAFT_PENDING_RELEASE, FMT_BILL_DIR_IN,
              FMT_DRAFT_PLEDGED);
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, NULL), 0);
    CU_ASSERT_EQUAL(fmt_draft_validate(NULL, NULL), H2H_EINVALID);
    fmt_draft_release(&d);
}

/* ---- the request on its own ------------------------------------------------
 */

static void test_request_shape(void)
{
    struct fmt_bill_request rq;
    struct h2h_err e;
    /* every operation's well-formed request passes */
    for (int op = 1; op < FMT_BILL_OP_COUNT; op++) {
        mk_req(&rq, (enum fmt_bill_op)op);
        memset(&e, 0, sizeof(e));
        int rc = fmt_bill_request_check(&rq, &e);
        if (rc)
            fprintf(stderr, "op %d: %s\n", op, e.msg);
        CU_ASSERT_EQUAL(rc, 0);
        fmt_bill_request_release(&rq);
    }

#define BADRQ(op, stmt, sub)                                                   \
    do {                                                                       \
        mk_req(&rq, op);                                                       \
        stmt;                                                                  \
        memset(&e, 0, sizeof(e));                                              \
        int rc_ = fmt_bill_request_check(&rq, &e);                             \
        if (rc_ != H2H_EINVALID || !strstr(e.msg, sub))                        \
            fprintf(stderr, "request line %d: %d \"%s\"\n", __LINE__, rc_,     \
                    e.msg);                                                    \
        CU_ASSERT_EQUAL(rc_, H2H_EINVALID);                                    \
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, sub));                            \
        fmt_bill_request_release(&rq);                                         \
    } while (0)
    BADRQ(FMT_BILL_OP_NONE, (void)0, "unknown operation");
    BADRQ(FMT_BILL_OP_COUNT, (void)0, "unknown operation");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.req_id, NULL),
          "endorse request: the request id is missing");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.req_id, "REQ 1"),
          "is not 1-64 letters");
    BADRQ(FMT_BILL_OP_ENDORSE,
          set_str(&rq.req_id, "R1234567890123456789012345678901234567890123456"
                              "7890123456789012345"),
          "is not 1-64 letters");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.draft_no, NULL),
          "endorse request REQ-0001: the draft number is missing");
    BADRQ(FMT_BILL_OP_DRAFT_DETAIL, set_str(&rq.draft_no, NULL),
          "draft number is missing");
    BADRQ(FMT_BILL_OP_SIGN,
          set_str(&rq.draft_no, "5301580000012024011500001234"),
          "is not 30 digits");
    BADRQ(FMT_BILL_OP_SIGN,
          set_str(&rq.draft_no, "53015800000120240115000012345a"),
          "is not 30 digits");
    BADRQ(FMT_BILL_OP_ENDORSE, (rq.sub_from = 10, rq.sub_to = 9),
          "sub-range 10-9 is not a range");
    BADRQ(FMT_BILL_OP_ENDORSE, (rq.sub_from = 0, rq.sub_to = 9),
          "sub-range 0-9 is not a range");
    BADRQ(FMT_BILL_OP_ENDORSE, (rq.sub_from = -5, rq.sub_to = 9),
          "is not a range");
    BADRQ(FMT_BILL_OP_ENDORSE,
          (strcpy(rq.amount.ccy, "USD"), rq.amount.minor = AMOUNT), "in CNY");
    BADRQ(FMT_BILL_OP_ENDORSE, strcpy(rq.amount.ccy, "CNY"), "not positive");
    BADRQ(FMT_BILL_OP_ENDORSE, rq.amount.minor = 5, "without a currency");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.cpty.party.name, NULL),
          "the endorsee's name is missing");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.cpty.acct.other_id, NULL),
          "the endorsee's account number is missing");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.cpty.bank_code, NULL),
          "the endorsee's bank code is missing");
    BADRQ(FMT_BILL_OP_ENDORSE, set_str(&rq.cpty.bank_code, "10410000004"),
          "bank code \"10410000004\" is not 12 digits");
    BADRQ(FMT_BILL_OP_PRESENT_PAYMENT,
          set_party(&rq.cpty, "X", NULL, "1041000000AB"), "is not 12 digits");
    BADRQ(FMT_BILL_OP_DISCOUNT, rq.rate_ppm = 0, "discount rate");
    BADRQ(FMT_BILL_OP_DISCOUNT, rq.rate_ppm = 1000000, "discount rate");
    BADRQ(FMT_BILL_OP_DISCOUNT, rq.rate_ppm = -13500, "discount rate");
    BADRQ(FMT_BILL_OP_DISCOUNT, set_str(&rq.cpty.bank_code, NULL),
          "discounting bank's bank code is missing");
    BADRQ(FMT_BILL_OP_DISCOUNT, set_str(&rq.date, "2024-13-01"), "date:");
    BADRQ(FMT_BILL_OP_PLEDGE, set_str(&rq.pool_id, NULL), "neither the pool");
    BADRQ(FMT_BILL_OP_RECOURSE, set_str(&rq.cpty.party.name, NULL),
          "recourse debtor's name");
    BADRQ(FMT_BILL_OP_RECOURSE, set_str(&rq.cpty.acct.other_id, NULL),
          "recourse debtor's account number");
    BADRQ(FMT_BILL_OP_DRAFTS, set_str(&rq.f_maturity_to, "2024-06-30"),
          "maturity from 2024-07-01 is after maturity to 2024-06-30");
    BADRQ(FMT_BILL_OP_DRAFTS, set_str(&rq.f_maturity_from, "July"),
          "maturity from");
    BADRQ(FMT_BILL_OP_DRAFTS, rq.f_status = FMT_DRAFT_STATUS_COUNT,
          "unknown status filter");
    /* the draft to issue */
    BADRQ(FMT_BILL_OP_ISSUE, rq.draft.kind = FMT_DRAFT_KIND_NONE,
          "issue request REQ-0001: the kind of draft is missing");
    BADRQ(FMT_BILL_OP_ISSUE, rq.draft.amount.minor = 0, "not positive");
    BADRQ(FMT_BILL_OP_ISSUE, set_str(&rq.draft.number, "123"),
          "is not 30 digits");
    BADRQ(FMT_BILL_OP_ISSUE,
          (set_str(&rq.draft.number, NUM), set_str(&rq.draft_no, NUM2)),
          "differ");
    BADRQ(FMT_BILL_OP_ISSUE,
          (rq.draft.sub_from = 2, rq.draft.sub_to = AMOUNT + 1),
          "a new draft's sub-range is 1-1000000, not 2-1000001");
    BADRQ(FMT_BILL_OP_ISSUE, (rq.draft.sub_from = 2, rq.draft.sub_to = AMOUNT),
          "sub-range 2-1000000 holds 9999.99 CNY but the amount is 10000.00 "
          "CNY");
    BADRQ(FMT_BILL_OP_ISSUE, set_str(&rq.draft.payee.acct.other_id, NULL),
          "the payee's account number is missing");
    BADRQ(FMT_BILL_OP_ISSUE, set_str(&rq.draft.drawer.bank_code, NULL),
          "the drawer's bank code is missing");
    BADRQ(FMT_BILL_OP_ISSUE, set_str(&rq.draft.acceptor.party.name, NULL),
          "the acceptor's name is missing");
    BADRQ(FMT_BILL_OP_ISSUE, rq.draft.kind = FMT_DRAFT_AC02,
          "the acceptor's account number is missing");
    BADRQ(FMT_BILL_OP_ISSUE, set_str(&rq.draft.maturity_date, "2024-01-14"),
          "maturity date 2024-01-14 is not after the issue date 2024-01-15");
#undef BADRQ

    /* a bank acceptance needs no acceptor account; an explicit whole range
     * 1..amount is fine for a new draft */
    mk_req(&rq, FMT_BILL_OP_ISSUE);
    rq.draft.sub_from = 1;
    rq.draft.sub_to = AMOUNT;
    CU_ASSERT_EQUAL(fmt_bill_request_check(&rq, NULL), 0);
    fmt_bill_request_release(&rq);
    CU_ASSERT_EQUAL(fmt_bill_request_check(NULL, NULL), H2H_EINVALID);
}

/* ---- every (state, operation) pair ----------------------------------------
 */

/*
 * verdict per operation, in enum order:
 *   issue pacc prcp endo disc pled rele ppay recr wdrw sign refu
 *   pool drafts detail notices
 * A allowed, S refused by state (H2H_ESTATE), I invalid (H2H_EINVALID).
 */
struct row {
    const char *label;
    enum fmt_draft_status st;
    enum fmt_bill_dir dir;
    enum fmt_draft_status prev;
    enum fmt_draft_kind kind;
    int self;    /* acceptor and payee accounts are the drawer's */
    int no_xfer; /* 不得转让 */
    const char *verdict;
    const char *s_sub; /* in every S message */
    const char *i_sub; /* in every I message */
};

#define O FMT_BILL_DIR_OUT
#define IN FMT_BILL_DIR_IN
#define N0 FMT_BILL_DIR_NONE
#define AC1 FMT_DRAFT_AC01
#define AC2 FMT_DRAFT_AC02

static const struct row rows[] = {
    {"none", FMT_DRAFT_NONE, N0, 0, AC1, 0, 0, "ASSSSSSSSSSSAAAA",
     "it is not issued yet", NULL},
    {"registered", FMT_DRAFT_REGISTERED, N0, 0, AC1, 0, 0, "SASSSSSSSASSAAAA",
     "not yet presented for acceptance", NULL},
    {"pending acceptance, ours", FMT_DRAFT_PENDING_ACCEPTANCE, O,
     FMT_DRAFT_REGISTERED, AC1, 0, 0, "SSSSSSSSSASSAAAA",
     "awaits the acceptor's signature", NULL},
    {"pending acceptance, we accept our own", FMT_DRAFT_PENDING_ACCEPTANCE, O,
     FMT_DRAFT_REGISTERED, AC2, 1, 0, "SSSSSSSSSAAAAAAA",
     "awaits the acceptor's signature", NULL},
    {"pending acceptance, to us", FMT_DRAFT_PENDING_ACCEPTANCE, IN,
     FMT_DRAFT_NONE, AC2, 0, 0, "SSSSSSSSSSAAAAAA",
     "presented to us for acceptance", NULL},
    {"accepted", FMT_DRAFT_ACCEPTED, N0, 0, AC1, 0, 0, "SSASSSSSSASSAAAA",
     "not yet presented to the payee", NULL},
    {"pending receipt, ours", FMT_DRAFT_PENDING_RECEIPT, O, FMT_DRAFT_ACCEPTED,
     AC1, 0, 0, "SSSSSSSSSASSAAAA", "awaits the payee's signature", NULL},
    {"pending receipt, payee is us", FMT_DRAFT_PENDING_RECEIPT, O,
     FMT_DRAFT_ACCEPTED, AC1, 1, 0, "SSSSSSSSSAAAAAAA",
     "awaits the payee's signature", NULL},
    {"pending receipt, to us", FMT_DRAFT_PENDING_RECEIPT, IN, FMT_DRAFT_NONE,
     AC1, 0, 0, "SSSSSSSSSSAAAAAA", "presented to us for receipt", NULL},
    {"delivered", FMT_DRAFT_DELIVERED, N0, 0, AC1, 0, 0, "SSSSSSSSSSSSAAAA",
     "delivered to the payee and no longer ours", NULL},
    {"held", FMT_DRAFT_HELD, N0, 0, AC1, 0, 0, "SSSAAASASSSSAAAA",
     "it is held by us", NULL},
    {"held, not transferable", FMT_DRAFT_HELD, N0, 0, AC1, 0, 1,
     "SSSIIISASSSSAAAA", "it is held by us", "not transferable (不得转让)"},
    {"pending endorsement, ours", FMT_DRAFT_PENDING_ENDORSEMENT, O,
     FMT_DRAFT_HELD, AC1, 0, 0, "SSSSSSSSSASSAAAA",
     "awaits the endorsee's signature", NULL},
    {"pending endorsement, to us", FMT_DRAFT_PENDING_ENDORSEMENT, IN,
     FMT_DRAFT_NONE, AC1, 0, 0, "SSSSSSSSSSAAAAAA", "endorsed to us", NULL},
    {"endorsed", FMT_DRAFT_ENDORSED, N0, 0, AC1, 0, 0, "SSSSSSSSSSSSAAAA",
     "endorsed away and no longer ours", NULL},
    {"pending discount", FMT_DRAFT_PENDING_DISCOUNT, O, FMT_DRAFT_HELD, AC1, 0,
     0, "SSSSSSSSSASSAAAA", "offered for discount", NULL},
    {"pending discount 'to us' (impossible)", FMT_DRAFT_PENDING_DISCOUNT, IN,
     FMT_DRAFT_NONE, AC1, 0, 0, "SIIIIIIIIIIIAAAA", "offered for discount",
     "never addressed to us"},
    {"discounted", FMT_DRAFT_DISCOUNTED, N0, 0, AC1, 0, 0, "SSSSSSSSSSSSAAAA",
     "belongs to the discounting bank", NULL},
    {"pending pledge", FMT_DRAFT_PENDING_PLEDGE, O, FMT_DRAFT_HELD, AC1, 0, 0,
     "SSSSSSSSSASSAAAA", "being pledged into the pool", NULL},
    {"pledged", FMT_DRAFT_PLEDGED, N0, 0, AC1, 0, 0, "SSSSSSASSSSSAAAA",
     "it is pledged in the pool", NULL},
    {"pending release, ours", FMT_DRAFT_PENDING_RELEASE, O, FMT_DRAFT_PLEDGED,
     AC1, 0, 0, "SSSSSSSSSASSAAAA", "our release request pending", NULL},
    {"pending release, to us", FMT_DRAFT_PENDING_RELEASE, IN, FMT_DRAFT_PLEDGED,
     AC1, 0, 0, "SSSSSSSSSSAAAAAA", "released from the pool by the bank", NULL},
    {"pending payment, ours", FMT_DRAFT_PENDING_PAYMENT, O, FMT_DRAFT_HELD, AC1,
     0, 0, "SSSSSSSSSASSAAAA", "awaits the acceptor's answer", NULL},
    {"pending payment, to us", FMT_DRAFT_PENDING_PAYMENT, IN, FMT_DRAFT_LIABLE,
     AC2, 0, 0, "SSSSSSSSSSAAAAAA", "presented to us for payment", NULL},
    {"paid", FMT_DRAFT_PAID, N0, 0, AC1, 0, 0, "SSSSSSSSSSSSAAAA",
     "paid and settled", NULL},
    {"dishonoured", FMT_DRAFT_DISHONOURED, N0, 0, AC1, 0, 0, "SSSSSSSSASSSAAAA",
     "dishonoured", NULL},
    {"pending recourse, ours", FMT_DRAFT_PENDING_RECOURSE, O,
     FMT_DRAFT_DISHONOURED, AC1, 0, 0, "SSSSSSSSSASSAAAA", "our recourse claim",
     NULL},
    {"pending recourse, to us", FMT_DRAFT_PENDING_RECOURSE, IN,
     FMT_DRAFT_ENDORSED, AC1, 0, 0, "SSSSSSSSSSAAAAAA",
     "recourse claim against us", NULL},
    {"recourse settled", FMT_DRAFT_RECOURSE_SETTLED, N0, 0, AC1, 0, 0,
     "SSSSSSSSSSSSAAAA", "settled by recourse", NULL},
    {"withdrawn", FMT_DRAFT_WITHDRAWN, N0, 0, AC1, 0, 0, "SSSSSSSSSSSSAAAA",
     "withdrawn (cancelled)", NULL},
    {"refused", FMT_DRAFT_REFUSED, N0, 0, AC1, 0, 0, "SSSSSSSSSSSSAAAA",
     "refused by us", NULL},
    {"liable", FMT_DRAFT_LIABLE, N0, 0, AC2, 0, 0, "SSSSSSSSSSSSAAAA",
     "accepted by us and with its holder", NULL},
    {"held with a stray direction", FMT_DRAFT_HELD, O, 0, AC1, 0, 0,
     "SIIIIIIIIIIIAAAA", "held by us", "is not pending"},
    {"pending endorsement from pledged", FMT_DRAFT_PENDING_ENDORSEMENT, O,
     FMT_DRAFT_PLEDGED, AC1, 0, 0, "SIIIIIIIIIIIAAAA", "being endorsed",
     "must come from held"},
};

static void row_draft(struct fmt_draft *d, const struct row *r)
{
    base_draft(d, r->kind);
    if (r->self) {
        set_party(&d->acceptor, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
                  "102100099996");
        set_party(&d->payee, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
                  "102100099996");
    }
    d->not_transferable = r->no_xfer;
    set_state(d, r->st, r->dir, r->prev);
}

static void test_state_matrix(void)
{
    size_t pairs = 0, allowed = 0, refused = 0, invalid = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        CU_ASSERT_EQUAL_FATAL(strlen(r->verdict), FMT_BILL_OP_COUNT - 1);
        for (int op = 1; op < FMT_BILL_OP_COUNT; op++) {
            struct fmt_draft d;
            struct fmt_bill_request rq;
            struct h2h_err e = {0};
            row_draft(&d, r);
            mk_req(&rq, (enum fmt_bill_op)op);
            /* payment is presented on the maturity date, everything else
             * earlier */
            const char *today =
                op == FMT_BILL_OP_PRESENT_PAYMENT ? MATURITY : BEFORE;
            char want = r->verdict[op - 1];
            int code = want == 'A'   ? 0
                       : want == 'S' ? H2H_ESTATE
                                     : H2H_EINVALID;
            int rc = fmt_draft_check(&d, &rq, today, &e);
            const char *sub = want == 'S'   ? r->s_sub
                              : want == 'I' ? r->i_sub
                                            : NULL;
            int ok = rc == code && (!sub || strstr(e.msg, sub));
            /* a refusal by state names the draft first */
            if (want == 'S' && strncmp(e.msg, "draft " NUM, 36))
                ok = 0;
            if (!ok)
                fprintf(stderr, "%s / %s: rc %d want %c: \"%s\"\n", r->label,
                        fmt_bill_op_name((enum fmt_bill_op)op), rc, want,
                        e.msg);
            CU_ASSERT(ok);
            pairs++;
            allowed += want == 'A';
            refused += want == 'S';
            invalid += want == 'I';

            /* apply agrees with check: what check allows, apply records;
             * what check refuses by state, apply refuses too, except the
             * bank's answer to the pending operation itself */
            int is_answer = fmt_draft_status_pending(d.status) &&
                            d.pending_dir == FMT_BILL_DIR_OUT &&
                            ((d.status == FMT_DRAFT_PENDING_ACCEPTANCE &&
                              op == FMT_BILL_OP_PRESENT_ACCEPTANCE) ||
                             (d.status == FMT_DRAFT_PENDING_RECEIPT &&
                              op == FMT_BILL_OP_PRESENT_RECEIPT) ||
                             (d.status == FMT_DRAFT_PENDING_ENDORSEMENT &&
                              op == FMT_BILL_OP_ENDORSE) ||
                             (d.status == FMT_DRAFT_PENDING_DISCOUNT &&
                              op == FMT_BILL_OP_DISCOUNT) ||
                             (d.status == FMT_DRAFT_PENDING_PLEDGE &&
                              op == FMT_BILL_OP_PLEDGE) ||
                             (d.status == FMT_DRAFT_PENDING_RELEASE &&
                              op == FMT_BILL_OP_RELEASE) ||
                             (d.status == FMT_DRAFT_PENDING_PAYMENT &&
                              op == FMT_BILL_OP_PRESENT_PAYMENT) ||
                             (d.status == FMT_DRAFT_PENDING_RECOURSE &&
                              op == FMT_BILL_OP_RECOURSE));
            if (!is_answer && !fmt_bill_op_inquiry((enum fmt_bill_op)op)) {
                struct fmt_draft copy, rest = {0};
                CU_ASSERT_EQUAL_FATAL(fmt_draft_copy(&copy, &d), 0);
                int arc =
                    fmt_draft_apply(&copy, &rq, FMT_BILL_ACCEPTED, &rest, NULL);
                int want_arc = want == 'A' ? 0 : code;
                /* transferability and dates are check's business only */
                if (want == 'I' && r->no_xfer)
                    want_arc = 0;
                if (arc != want_arc)
                    fprintf(stderr, "%s / %s: apply rc %d want %d\n", r->label,
                            fmt_bill_op_name((enum fmt_bill_op)op), arc,
                            want_arc);
                CU_ASSERT_EQUAL(arc, want_arc);
                /* a success moves the state, a failure leaves it */
                CU_ASSERT_EQUAL(arc == 0, copy.status != d.status);
                fmt_draft_release(&copy);
                fmt_draft_release(&rest);
            }
            fmt_draft_release(&d);
            fmt_bill_request_release(&rq);
        }
    }
    fprintf(stderr,
            "state matrix: %zu pairs: %zu allowed, %zu refused by "
            "state, %zu invalid\n",
            pairs, allowed, refused, invalid);
    CU_ASSERT_EQUAL(pairs,
                    (sizeof(rows) / sizeof(rows[0])) * (FMT_BILL_OP_COUNT - 1));
}

/* The words a treasury user reads, whole. */
static void test_reasons(void)
{
    struct fmt_draft d;
    struct fmt_bill_request rq;
    struct h2h_err e = {0};
    base_draft(&d, FMT_DRAFT_AC01);
    set_state(&d, FMT_DRAFT_PLEDGED, N0, 0);
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CU_ASSERT_EQUAL(fmt_draft_check(&d, &rq, BEFORE, &e), H2H_ESTATE);
    CU_ASSERT_STRING_EQUAL(e.msg, "draft " NUM ", sub-range 1-1000000: cannot "
                                  "be endorsed: it is pledged in the pool "
                                  "(release it first)");
    fmt_bill_request_release(&rq);

    /* the part concerned is named, not the whole piece */
    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    rq.sub_from = 1;
    rq.sub_to = 300000;
    CU_ASSERT_EQUAL(fmt_draft_check(&d, &rq, BEFORE, &e), H2H_ESTATE);
    CU_ASSERT_STRING_EQUAL(e.msg, "draft " NUM ", sub-range 1-300000: cannot "
                                  "be discounted: it is pledged in the pool "
                                  "(release it first)");
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    CHECK(&d, &rq, MATURITY, H2H_ESTATE,
          "the pool bank collects it at maturity");
    fmt_bill_request_release(&rq);
    mk_req(&rq, FMT_BILL_OP_PLEDGE);
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "(it is in the pool already)");
    fmt_bill_request_release(&rq);

    /* an ECDS draft has no sub-range to show */
    d.divisible = 0;
    d.sub_from = d.sub_to = 0;
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CU_ASSERT_EQUAL(fmt_draft_check(&d, &rq, BEFORE, &e), H2H_ESTATE);
    CU_ASSERT_STRING_EQUAL(e.msg, "draft " NUM ": cannot be endorsed: it is "
                                  "pledged in the pool (release it first)");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);

    struct {
        enum fmt_draft_status st;
        enum fmt_bill_dir dir;
        enum fmt_draft_status prev;
        enum fmt_bill_op op;
        const char *msg;
    } t[] = {
        {FMT_DRAFT_REGISTERED, N0, 0, FMT_BILL_OP_ENDORSE,
         "cannot be endorsed: it is registered but not yet presented for "
         "acceptance (present it for acceptance first)"},
        {FMT_DRAFT_ACCEPTED, N0, 0, FMT_BILL_OP_DISCOUNT,
         "(present it for receipt first)"},
        {FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD, FMT_BILL_OP_DISCOUNT,
         "cannot be discounted: it is being endorsed to another holder and "
         "awaits the endorsee's signature (wait for the answer, or withdraw "
         "the endorsement first)"},
        {FMT_DRAFT_PENDING_PLEDGE, O, FMT_DRAFT_HELD, FMT_BILL_OP_SIGN,
         "(the counterparty signs or refuses it, not us)"},
        {FMT_DRAFT_PENDING_ENDORSEMENT, IN, FMT_DRAFT_NONE,
         FMT_BILL_OP_WITHDRAW,
         "cannot be withdrawn: it is endorsed to us and awaits our signature "
         "(it was presented to us: refuse it instead)"},
        {FMT_DRAFT_PENDING_RECEIPT, IN, FMT_DRAFT_NONE, FMT_BILL_OP_ENDORSE,
         "(sign or refuse it first)"},
        {FMT_DRAFT_HELD, N0, 0, FMT_BILL_OP_RECOURSE,
         "cannot be used to claim recourse: it is held by us (recourse needs "
         "a draft whose payment was refused)"},
        {FMT_DRAFT_HELD, N0, 0, FMT_BILL_OP_RELEASE, "(it is not in the pool)"},
        {FMT_DRAFT_HELD, N0, 0, FMT_BILL_OP_WITHDRAW, "(nothing is pending)"},
        {FMT_DRAFT_HELD, N0, 0, FMT_BILL_OP_SIGN,
         "(nothing awaits our signature)"},
        {FMT_DRAFT_DISHONOURED, N0, 0, FMT_BILL_OP_ENDORSE,
         "(only recourse is possible now)"},
        {FMT_DRAFT_ENDORSED, N0, 0, FMT_BILL_OP_PRESENT_PAYMENT,
         "cannot be presented for payment: it is endorsed away and no longer "
         "ours"},
        {FMT_DRAFT_NONE, N0, 0, FMT_BILL_OP_PRESENT_ACCEPTANCE,
         "(issue it first)"},
        {FMT_DRAFT_HELD, N0, 0, FMT_BILL_OP_ISSUE,
         "cannot be issued: it is held by us"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        base_draft(&d, FMT_DRAFT_AC01);
        set_state(&d, t[i].st, t[i].dir, t[i].prev);
        mk_req(&rq, t[i].op);
        const char *today =
            t[i].op == FMT_BILL_OP_PRESENT_PAYMENT ? MATURITY : BEFORE;
        CHECK(&d, &rq, today, H2H_ESTATE, t[i].msg);
        fmt_draft_release(&d);
        fmt_bill_request_release(&rq);
    }
}

/* ---- lives -----------------------------------------------------------------
 */

/* We draw a bank acceptance and deliver it to our supplier. */
static void test_life_drawer(void)
{
    struct fmt_draft d = {0};
    struct fmt_bill_request rq;

    mk_req(&rq, FMT_BILL_OP_ISSUE);
    CHECK(NULL, &rq, BEFORE, 0, NULL);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    /* the bank cannot answer "pending" to a registration */
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, H2H_EINVALID, "no pending stage");
    STATE(&d, FMT_DRAFT_NONE, N0, FMT_DRAFT_NONE);
    APPLY(&d, &rq, FMT_BILL_REJECTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_NONE, N0, FMT_DRAFT_NONE);
    CU_ASSERT_PTR_NULL(d.number);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REGISTERED, N0, FMT_DRAFT_NONE);
    /* a divisible draft registered without a range gets 1..amount */
    CU_ASSERT_EQUAL(d.sub_from, 1);
    CU_ASSERT_EQUAL(d.sub_to, AMOUNT);
    CU_ASSERT_PTR_NOT_NULL(d.payee.party.name);
    CU_ASSERT_PTR_NULL(d.number);
    d.number = dup(NUM); /* the bank's answer carries the number */
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, NULL), 0);
    /* issuing again is refused */
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "cannot be issued: it is registered");
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, H2H_ESTATE, NULL);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_PRESENT_ACCEPTANCE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_ACCEPTANCE, O, FMT_DRAFT_REGISTERED);
    /* a pending "pending" changes nothing */
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_ACCEPTANCE, O, FMT_DRAFT_REGISTERED);
    fmt_bill_request_release(&rq);
    /* the acceptor is a bank: we do not sign */
    mk_req(&rq, FMT_BILL_OP_SIGN);
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "not us");
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, H2H_ESTATE, NULL);
    fmt_bill_request_release(&rq);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    /* the bank signs its acceptance */
    mk_req(&rq, FMT_BILL_OP_PRESENT_ACCEPTANCE);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_ACCEPTED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_PRESENT_RECEIPT);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_RECEIPT, O, FMT_DRAFT_ACCEPTED);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_DELIVERED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    /* the payee holds it now */
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.holder.party.name);
    CU_ASSERT_STRING_EQUAL(d.holder.party.name, "Jiangnan Supply Ltd.");
    CU_ASSERT_STRING_EQUAL(d.holder.acct.other_id, PAYEE_ACCT);

    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "delivered to the payee and no longer");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* A commercial draft we accept ourselves, payable to ourselves, then
 * endorsed on. */
static void test_life_self(void)
{
    struct fmt_draft d = {0};
    struct fmt_bill_request rq;

    mk_req(&rq, FMT_BILL_OP_ISSUE);
    rq.draft.kind = FMT_DRAFT_AC02;
    set_party(&rq.draft.acceptor, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
              "102100099996");
    set_party(&rq.draft.payee, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
              "102100099996");
    set_str(&rq.draft.number, NUM);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REGISTERED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_STRING_EQUAL(d.number, NUM);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_PRESENT_ACCEPTANCE);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    fmt_bill_request_release(&rq);
    /* we are the acceptor: we sign */
    mk_req(&rq, FMT_BILL_OP_SIGN);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, H2H_EINVALID, "no pending stage");
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_ACCEPTED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_PRESENT_RECEIPT);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_RECEIPT, O, FMT_DRAFT_ACCEPTED);
    fmt_bill_request_release(&rq);
    /* we are the payee: we sign, and hold it */
    mk_req(&rq, FMT_BILL_OP_SIGN);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 1);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 1);
    /* we became the holder when we signed the receipt as payee */
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.holder.party.name);
    CU_ASSERT_STRING_EQUAL(d.holder.party.name, "Huadong Trading Co., Ltd.");
    /* the endorsee signs */
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_STRING_EQUAL(d.holder.party.name, "Lingnan Parts Ltd.");
    CU_ASSERT_STRING_EQUAL(d.holder.acct.other_id, ENDORSEE_ACCT);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);

    /* a bank acceptance is never ours to accept, whatever the accounts */
    base_draft(&d, FMT_DRAFT_AC01);
    set_party(&d.acceptor, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
              "102100099996");
    set_state(&d, FMT_DRAFT_PENDING_ACCEPTANCE, O, FMT_DRAFT_REGISTERED);
    mk_req(&rq, FMT_BILL_OP_SIGN);
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "awaits the acceptor's signature");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);

    /* refusing our own acceptance returns the draft to registered */
    base_draft(&d, FMT_DRAFT_AC02);
    set_state(&d, FMT_DRAFT_PENDING_ACCEPTANCE, O, FMT_DRAFT_REGISTERED);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REGISTERED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* Held -> pledged -> released -> held; held -> discounted. */
static void test_life_pool_and_discount(void)
{
    struct fmt_draft d;
    struct fmt_bill_request rq;
    base_draft(&d, FMT_DRAFT_AC01);

    mk_req(&rq, FMT_BILL_OP_PLEDGE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_PLEDGE, O, FMT_DRAFT_HELD);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PLEDGED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 1);
    /* pledging does not change the holder */
    CU_ASSERT_STRING_EQUAL(d.holder.party.name, "Jiangnan Supply Ltd.");
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "pledged in the pool (release it");
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, H2H_ESTATE, NULL);
    STATE(&d, FMT_DRAFT_PLEDGED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_RELEASE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    /* release is not limited to before maturity */
    CHECK(&d, &rq, "2024-08-01", 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_RELEASE, O, FMT_DRAFT_PLEDGED);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 1);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    /* the bank signs at once: no pending stage seen */
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_DISCOUNTED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_STRING_EQUAL(d.holder.party.name, "Bank of Ningbo");
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    CHECK(&d, &rq, BEFORE, H2H_ESTATE, "belongs to the discounting bank");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* Presentment for payment: paid, or dishonoured and recourse. */
static void test_life_payment_and_recourse(void)
{
    struct fmt_draft d;
    struct fmt_bill_request rq;
    base_draft(&d, FMT_DRAFT_AC01);

    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    CHECK(&d, &rq, MATURITY, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_PAYMENT, O, FMT_DRAFT_HELD);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PAID, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    CHECK(&d, &rq, MATURITY, H2H_ESTATE, "paid and settled");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);

    base_draft(&d, FMT_DRAFT_AC01);
    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    /* the bank refuses the request itself: nothing happened */
    APPLY(&d, &rq, FMT_BILL_REJECTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    /* the acceptor refuses to pay: dishonoured, not back to held */
    APPLY(&d, &rq, FMT_BILL_REJECTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_DISHONOURED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 1);
    CHECK(&d, &rq, MATURITY, H2H_ESTATE, "only recourse is possible now");
    fmt_bill_request_release(&rq);

    mk_req(&rq, FMT_BILL_OP_RECOURSE);
    CHECK(&d, &rq, "2024-07-20", 0, NULL);
    /* the claim may exceed the draft (interest, costs), never fall short */
    strcpy(rq.amount.ccy, "CNY");
    rq.amount.minor = AMOUNT + 4500;
    CHECK(&d, &rq, "2024-07-20", 0, NULL);
    rq.amount.minor = AMOUNT - 1;
    CHECK(&d, &rq, "2024-07-20", H2H_EINVALID,
          "the recourse amount 9999.99 CNY is less than the draft's 10000.00 "
          "CNY");
    rq.amount.minor = AMOUNT;
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_RECOURSE, O, FMT_DRAFT_DISHONOURED);
    /* the debtor refuses: we may claim from another party */
    APPLY(&d, &rq, FMT_BILL_REJECTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_DISHONOURED, N0, FMT_DRAFT_NONE);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_RECOURSE_SETTLED, N0, FMT_DRAFT_NONE);
    CHECK(&d, &rq, "2024-07-20", H2H_ESTATE, "settled by recourse");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* Withdrawals and refusals return to the state before. */
static void test_withdraw_and_refuse(void)
{
    struct {
        enum fmt_bill_op op;
        enum fmt_draft_status from, pending;
        const char *today;
    } t[] = {
        {FMT_BILL_OP_PRESENT_ACCEPTANCE, FMT_DRAFT_REGISTERED,
         FMT_DRAFT_PENDING_ACCEPTANCE, BEFORE},
        {FMT_BILL_OP_PRESENT_RECEIPT, FMT_DRAFT_ACCEPTED,
         FMT_DRAFT_PENDING_RECEIPT, BEFORE},
        {FMT_BILL_OP_ENDORSE, FMT_DRAFT_HELD, FMT_DRAFT_PENDING_ENDORSEMENT,
         BEFORE},
        {FMT_BILL_OP_DISCOUNT, FMT_DRAFT_HELD, FMT_DRAFT_PENDING_DISCOUNT,
         BEFORE},
        {FMT_BILL_OP_PLEDGE, FMT_DRAFT_HELD, FMT_DRAFT_PENDING_PLEDGE, BEFORE},
        {FMT_BILL_OP_RELEASE, FMT_DRAFT_PLEDGED, FMT_DRAFT_PENDING_RELEASE,
         BEFORE},
        {FMT_BILL_OP_PRESENT_PAYMENT, FMT_DRAFT_HELD, FMT_DRAFT_PENDING_PAYMENT,
         MATURITY},
        {FMT_BILL_OP_RECOURSE, FMT_DRAFT_DISHONOURED,
         FMT_DRAFT_PENDING_RECOURSE, "2024-07-20"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct fmt_draft d;
        struct fmt_bill_request rq, wd;
        base_draft(&d, FMT_DRAFT_AC01);
        set_state(&d, t[i].from, N0, FMT_DRAFT_NONE);
        mk_req(&rq, t[i].op);
        mk_req(&wd, FMT_BILL_OP_WITHDRAW);
        CHECK(&d, &rq, t[i].today, 0, NULL);
        /* nothing pending yet: nothing to withdraw (registered and
         * accepted drafts are cancelled instead) */
        if (t[i].from != FMT_DRAFT_REGISTERED &&
            t[i].from != FMT_DRAFT_ACCEPTED)
            CHECK(&d, &wd, t[i].today, H2H_ESTATE, "cannot be withdrawn");
        APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
        STATE(&d, t[i].pending, O, t[i].from);
        /* a second request of the same kind is refused while pending */
        CHECK(&d, &rq, t[i].today, H2H_ESTATE, "wait for the answer");
        CHECK(&d, &wd, t[i].today, 0, NULL);
        /* the bank refuses the withdrawal (already signed, say) */
        APPLY(&d, &wd, FMT_BILL_REJECTED, NULL, 0, NULL);
        STATE(&d, t[i].pending, O, t[i].from);
        APPLY(&d, &wd, FMT_BILL_PENDING, NULL, H2H_EINVALID,
              "no pending stage");
        APPLY(&d, &wd, FMT_BILL_ACCEPTED, NULL, 0, NULL);
        STATE(&d, t[i].from, N0, FMT_DRAFT_NONE);
        /* and again, now refused by the counterparty */
        APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
        APPLY(&d, &rq, FMT_BILL_REJECTED, NULL, 0, NULL);
        STATE(&d,
              t[i].op == FMT_BILL_OP_PRESENT_PAYMENT ? FMT_DRAFT_DISHONOURED
                                                     : t[i].from,
              N0, FMT_DRAFT_NONE);
        fmt_bill_request_release(&rq);
        fmt_bill_request_release(&wd);
        fmt_draft_release(&d);
    }

    /* a registered or accepted draft that never left us is cancelled */
    enum fmt_draft_status cancel[] = {FMT_DRAFT_REGISTERED, FMT_DRAFT_ACCEPTED};
    for (size_t i = 0; i < 2; i++) {
        struct fmt_draft d;
        struct fmt_bill_request wd;
        base_draft(&d, FMT_DRAFT_AC01);
        set_state(&d, cancel[i], N0, FMT_DRAFT_NONE);
        mk_req(&wd, FMT_BILL_OP_WITHDRAW);
        CHECK(&d, &wd, BEFORE, 0, NULL);
        APPLY(&d, &wd, FMT_BILL_ACCEPTED, NULL, 0, NULL);
        STATE(&d, FMT_DRAFT_WITHDRAWN, N0, FMT_DRAFT_NONE);
        CHECK(&d, &wd, BEFORE, H2H_ESTATE, "withdrawn (cancelled)");
        fmt_bill_request_release(&wd);
        fmt_draft_release(&d);
    }

    /* an answer that does not fit the pending operation changes nothing */
    struct fmt_draft d;
    struct fmt_bill_request rq;
    base_draft(&d, FMT_DRAFT_AC01);
    set_state(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, H2H_ESTATE, "cannot be discounted");
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    APPLY(&d, &rq, (enum fmt_bill_outcome)0, NULL, H2H_EINVALID,
          "unknown outcome");
    APPLY(&d, &rq, (enum fmt_bill_outcome)7, NULL, H2H_EINVALID,
          "unknown outcome");
    fmt_bill_request_release(&rq);
    /* nor does one about another draft */
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    set_str(&rq.draft_no, NUM2);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, H2H_EINVALID,
          "it is for draft " NUM2 " but the record is of draft " NUM);
    CHECK(&d, &rq, BEFORE, H2H_EINVALID, "but the record is of draft");
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    fmt_bill_request_release(&rq);
    /* inquiries never change a draft */
    mk_req(&rq, FMT_BILL_OP_DRAFT_DETAIL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* ---- sub-ranges ------------------------------------------------------------
 */

static void test_subranges(void)
{
    struct fmt_draft d, rest = {0}, rest2 = {0};
    struct fmt_bill_request rq;
    base_draft(&d, FMT_DRAFT_AC01);

    /* endorse 1-300000 of 1-1000000 */
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    rq.sub_from = 1;
    rq.sub_to = 300000;
    strcpy(rq.amount.ccy, "CNY");
    rq.amount.minor = 300001;
    CHECK(&d, &rq, BEFORE, H2H_EINVALID,
          "the amount 3000.01 CNY does not match the part concerned, 3000.00 "
          "CNY");
    rq.amount.minor = 300000;
    CHECK(&d, &rq, BEFORE, 0, NULL);
    /* a split needs somewhere to put the rest, and d stays as it was */
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, H2H_EINVALID, "remainder");
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(d.sub_to, AMOUNT);
    /* a refusal by the bank splits nothing */
    APPLY(&d, &rq, FMT_BILL_REJECTED, &rest, 0, NULL);
    CU_ASSERT_PTR_NULL(rest.number);
    CU_ASSERT_EQUAL(d.sub_to, AMOUNT);

    APPLY(&d, &rq, FMT_BILL_PENDING, &rest, 1, NULL);
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    CU_ASSERT_EQUAL(d.sub_from, 1);
    CU_ASSERT_EQUAL(d.sub_to, 300000);
    CU_ASSERT_EQUAL(d.amount.minor, 300000);
    STATE(&rest, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(rest.sub_from, 300001);
    CU_ASSERT_EQUAL(rest.sub_to, 1000000);
    CU_ASSERT_EQUAL(rest.amount.minor, 700000);
    CU_ASSERT_STRING_EQUAL(rest.amount.ccy, "CNY");
    CU_ASSERT_STRING_EQUAL(rest.number, NUM);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rest.payee.party.name);
    CU_ASSERT(rest.payee.party.name != d.payee.party.name); /* deep copy */
    CU_ASSERT_EQUAL(fmt_draft_validate(&d, NULL), 0);
    CU_ASSERT_EQUAL(fmt_draft_validate(&rest, NULL), 0);
    /* the endorsee signs the part */
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_STRING_EQUAL(d.holder.party.name, "Lingnan Parts Ltd.");
    CU_ASSERT_STRING_EQUAL(rest.holder.party.name, "Jiangnan Supply Ltd.");
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);

    /* the rest, 300001-1000000: invalid parts */
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    rq.sub_from = 1;
    rq.sub_to = 300000;
    CHECK(&rest, &rq, BEFORE, H2H_EINVALID,
          "draft " NUM ", sub-range 1-300000: the sub-range lies outside the "
          "piece we have, 300001-1000000");
    rq.sub_from = 300001;
    rq.sub_to = 1000001;
    CHECK(&rest, &rq, BEFORE, H2H_EINVALID, "outside the piece");
    rq.sub_from = 400000;
    rq.sub_to = 500000;
    CHECK(&rest, &rq, BEFORE, H2H_EINVALID,
          "take it from either end, so that what stays with us is one range");
    APPLY(&rest, &rq, FMT_BILL_PENDING, &rest2, H2H_EINVALID, "either end");
    CU_ASSERT_PTR_NULL(rest2.number);
    /* present_payment and release take the whole piece */
    fmt_bill_request_release(&rq);
    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    rq.sub_from = 300001;
    rq.sub_to = 400000;
    CHECK(&rest, &rq, MATURITY, H2H_EINVALID,
          "present_payment takes the whole piece, 300001-1000000");
    rq.sub_from = 300001;
    rq.sub_to = 1000000;
    CHECK(&rest, &rq, MATURITY, 0, NULL);
    fmt_bill_request_release(&rq);

    /* endorse from the far end: 700001-1000000, accepted at once */
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    rq.sub_from = 700001;
    rq.sub_to = 1000000;
    CHECK(&rest, &rq, BEFORE, 0, NULL);
    APPLY(&rest, &rq, FMT_BILL_ACCEPTED, &rest2, 1, NULL);
    STATE(&rest, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(rest.sub_from, 700001);
    CU_ASSERT_EQUAL(rest.amount.minor, 300000);
    STATE(&rest2, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(rest2.sub_from, 300001);
    CU_ASSERT_EQUAL(rest2.sub_to, 700000);
    CU_ASSERT_EQUAL(rest2.amount.minor, 400000);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&rest);

    /* pledge part of 300001-700000, withdraw: the pieces stay apart */
    mk_req(&rq, FMT_BILL_OP_PLEDGE);
    rq.sub_from = 300001;
    rq.sub_to = 350000;
    APPLY(&rest2, &rq, FMT_BILL_PENDING, &rest, 1, NULL);
    STATE(&rest2, FMT_DRAFT_PENDING_PLEDGE, O, FMT_DRAFT_HELD);
    STATE(&rest, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(rest.sub_from, 350001);
    /* the answer about a pending piece concerns all of it */
    rq.sub_to = 310000;
    APPLY(&rest2, &rq, FMT_BILL_ACCEPTED, NULL, H2H_EINVALID,
          "whole pending piece 300001-350000");
    fmt_bill_request_release(&rq);
    struct fmt_bill_request wd;
    mk_req(&wd, FMT_BILL_OP_WITHDRAW);
    APPLY(&rest2, &wd, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&rest2, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(rest2.sub_from, 300001);
    CU_ASSERT_EQUAL(rest2.sub_to, 350000);
    CU_ASSERT_EQUAL(rest2.amount.minor, 50000);
    fmt_bill_request_release(&wd);
    fmt_draft_release(&rest);

    /* discount a part at once */
    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    rq.sub_from = 340001;
    rq.sub_to = 350000;
    APPLY(&rest2, &rq, FMT_BILL_ACCEPTED, &rest, 1, NULL);
    STATE(&rest2, FMT_DRAFT_DISCOUNTED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_STRING_EQUAL(rest2.holder.party.name, "Bank of Ningbo");
    CU_ASSERT_EQUAL(rest.sub_from, 300001);
    CU_ASSERT_EQUAL(rest.sub_to, 340000);
    STATE(&rest, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&rest);
    fmt_draft_release(&rest2);

    /* the whole piece named explicitly: no split */
    base_draft(&d, FMT_DRAFT_AC01);
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    rq.sub_from = 1;
    rq.sub_to = AMOUNT;
    APPLY(&d, &rq, FMT_BILL_PENDING, &rest, 0, NULL);
    CU_ASSERT_PTR_NULL(rest.number);
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD);
    fmt_draft_release(&d);

    /* a non-divisible draft of the new system, and an ECDS draft */
    base_draft(&d, FMT_DRAFT_AC01);
    d.divisible = 0;
    rq.sub_to = 10;
    CHECK(&d, &rq, BEFORE, H2H_EINVALID,
          "the draft is not divisible (不可分包): the operation must take all "
          "of 1-1000000");
    d.sub_from = d.sub_to = 0;
    CHECK(&d, &rq, BEFORE, H2H_EINVALID,
          "the draft has no sub-ticket ranges (an ECDS draft)");
    rq.sub_from = rq.sub_to = 0;
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, &rest, 0, NULL);
    STATE(&d, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(d.sub_from, 0);
    CU_ASSERT_EQUAL(d.amount.minor, AMOUNT);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* ---- dates ------------------------------------------------------------------
 */

static void test_dates(void)
{
    struct fmt_draft d;
    struct fmt_bill_request rq;

    /* issue: term, today */
    struct {
        const char *issue, *maturity, *today;
        int code;
        const char *sub;
    } iss[] = {
        {ISSUE, "2024-07-15", ISSUE, 0, NULL},
        {ISSUE, "2024-07-16", ISSUE, H2H_EINVALID,
         "maturity date 2024-07-16 is more than 6 months after the issue "
         "date 2024-01-15"},
        {ISSUE, "2024-01-15", ISSUE, H2H_EINVALID, "is not after the issue"},
        {ISSUE, "2024-01-10", ISSUE, H2H_EINVALID, "is not after the issue"},
        {"2024-08-31", "2025-02-28", "2024-08-31", 0, NULL},
        {"2024-08-31", "2025-03-01", "2024-08-31", H2H_EINVALID,
         "more than 6 months"},
        {"2023-08-31", "2024-02-29", "2023-08-31", 0, NULL},
        {"2023-08-31", "2024-03-01", "2023-08-31", H2H_EINVALID,
         "more than 6 months"},
        {"2024-12-31", "2025-06-30", "2024-12-31", 0, NULL},
        {"2024-12-31", "2025-07-01", "2024-12-31", H2H_EINVALID,
         "more than 6 months"},
        {ISSUE, MATURITY, "2024-01-14", H2H_EINVALID,
         "the issue date 2024-01-15 is in the future (today is 2024-01-14)"},
        {ISSUE, MATURITY, MATURITY, H2H_EINVALID,
         "the maturity date 2024-07-15 is not after today (2024-07-15)"},
        {ISSUE, MATURITY, "2024-07-14", 0, NULL},
        {ISSUE, MATURITY, NULL, H2H_EINVALID, "no valid business date"},
        {ISSUE, MATURITY, "2024-7-14", H2H_EINVALID, "no valid business date"},
    };
    for (size_t i = 0; i < sizeof(iss) / sizeof(iss[0]); i++) {
        mk_req(&rq, FMT_BILL_OP_ISSUE);
        set_str(&rq.draft.issue_date, iss[i].issue);
        set_str(&rq.draft.maturity_date, iss[i].maturity);
        CHECK(NULL, &rq, iss[i].today, iss[i].code, iss[i].sub);
        fmt_bill_request_release(&rq);
    }

    base_draft(&d, FMT_DRAFT_AC01);
    /* before maturity only */
    enum fmt_bill_op before[] = {FMT_BILL_OP_ENDORSE, FMT_BILL_OP_PLEDGE};
    for (size_t i = 0; i < 2; i++) {
        mk_req(&rq, before[i]);
        CHECK(&d, &rq, "2024-07-14", 0, NULL);
        CHECK(&d, &rq, MATURITY, H2H_EINVALID,
              "it matures on 2024-07-15 and today is 2024-07-15; this is "
              "possible only before the maturity date");
        CHECK(&d, &rq, "2025-01-01", H2H_EINVALID, "only before the maturity");
        CHECK(&d, &rq, NULL, H2H_EINVALID, "no valid business date");
        fmt_bill_request_release(&rq);
    }
    /* presentment for acceptance and receipt before maturity too */
    set_state(&d, FMT_DRAFT_REGISTERED, N0, FMT_DRAFT_NONE);
    mk_req(&rq, FMT_BILL_OP_PRESENT_ACCEPTANCE);
    CHECK(&d, &rq, "2024-07-14", 0, NULL);
    CHECK(&d, &rq, MATURITY, H2H_EINVALID,
          "cannot be presented for acceptance: it matures on");
    fmt_bill_request_release(&rq);
    set_state(&d, FMT_DRAFT_ACCEPTED, N0, FMT_DRAFT_NONE);
    mk_req(&rq, FMT_BILL_OP_PRESENT_RECEIPT);
    CHECK(&d, &rq, "2024-07-14", 0, NULL);
    CHECK(&d, &rq, "2024-07-16", H2H_EINVALID, "only before the maturity");
    fmt_bill_request_release(&rq);
    set_state(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);

    /* discount: the discount date before maturity, not in the past */
    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    CHECK(&d, &rq, "2024-07-14", 0, NULL);
    CHECK(&d, &rq, MATURITY, H2H_EINVALID,
          "the discount date 2024-07-15 is not before the maturity date "
          "2024-07-15");
    set_str(&rq.date, "2024-07-20");
    CHECK(&d, &rq, BEFORE, H2H_EINVALID,
          "the discount date 2024-07-20 is not before the maturity date");
    set_str(&rq.date, "2024-02-01");
    CHECK(&d, &rq, BEFORE, H2H_EINVALID,
          "the discount date 2024-02-01 is in the past (today is 2024-03-01)");
    set_str(&rq.date, "2024-04-01");
    CHECK(&d, &rq, BEFORE, 0, NULL);
    set_str(&rq.date, BEFORE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    fmt_bill_request_release(&rq);

    /* presentment for payment: maturity .. maturity + 10 days */
    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    CHECK(&d, &rq, "2024-07-14", H2H_EINVALID,
          "cannot be presented for payment yet: it matures on 2024-07-15 "
          "(today is 2024-07-14)");
    CHECK(&d, &rq, MATURITY, 0, NULL);
    CHECK(&d, &rq, "2024-07-25", 0, NULL);
    CHECK(&d, &rq, "2024-07-26", H2H_EINVALID,
          "the presentment period ended on 2024-07-25, 10 days after the "
          "maturity date 2024-07-15: set overdue");
    CHECK(&d, &rq, "2025-03-01", H2H_EINVALID, "逾期提示付款");
    rq.overdue = 1;
    CHECK(&d, &rq, "2024-07-26", 0, NULL);
    CHECK(&d, &rq, "2024-07-14", H2H_EINVALID, "yet");
    fmt_bill_request_release(&rq);
    /* the period crosses a month and a year end */
    set_str(&d.maturity_date, "2024-12-28");
    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    CHECK(&d, &rq, "2025-01-07", 0, NULL);
    CHECK(&d, &rq, "2025-01-08", H2H_EINVALID, "ended on 2025-01-07");
    fmt_bill_request_release(&rq);

    /* withdraw, release, sign: no date rule */
    set_str(&d.maturity_date, MATURITY);
    set_state(&d, FMT_DRAFT_PENDING_ENDORSEMENT, IN, FMT_DRAFT_NONE);
    mk_req(&rq, FMT_BILL_OP_SIGN);
    CHECK(&d, &rq, "2024-09-01", 0, NULL);
    fmt_bill_request_release(&rq);

    /* days to maturity */
    long days = 12345;
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, BEFORE, &days), 0);
    CU_ASSERT_EQUAL(days, 136);
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, MATURITY, &days), 0);
    CU_ASSERT_EQUAL(days, 0);
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, "2024-07-18", &days), 0);
    CU_ASSERT_EQUAL(days, -3);
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, "2023-07-15", &days), 0);
    CU_ASSERT_EQUAL(days, 366); /* 2024 is a leap year */
    days = 7;
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, "2024-02-30", &days),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(days, 7);
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, NULL, &days), H2H_EINVALID);
    set_str(&d.maturity_date, NULL);
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(&d, BEFORE, &days),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_draft_days_to_maturity(NULL, BEFORE, &days),
                    H2H_EINVALID);
    fmt_draft_release(&d);
}

/* ---- transferability --------------------------------------------------------
 */

static void test_not_transferable(void)
{
    struct fmt_draft d;
    struct fmt_bill_request rq;
    base_draft(&d, FMT_DRAFT_AC01);
    d.not_transferable = 1;
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(&d, &rq, BEFORE, H2H_EINVALID,
          "draft " NUM ", sub-range 1-1000000: cannot be endorsed: it is "
          "marked not transferable (不得转让)");
    fmt_bill_request_release(&rq);
    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    CHECK(&d, &rq, BEFORE, H2H_EINVALID, "cannot be discounted: it is marked");
    fmt_bill_request_release(&rq);
    mk_req(&rq, FMT_BILL_OP_PLEDGE);
    CHECK(&d, &rq, BEFORE, H2H_EINVALID, "cannot be pledged into the pool");
    fmt_bill_request_release(&rq);
    mk_req(&rq, FMT_BILL_OP_PRESENT_PAYMENT);
    CHECK(&d, &rq, MATURITY, 0, NULL);
    fmt_bill_request_release(&rq);
    /* the same draft, transferable */
    d.not_transferable = 0;
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    fmt_bill_request_release(&rq);
    fmt_draft_release(&d);
}

/* ---- notices: drafts presented to us ----------------------------------------
 */

static void mk_notice(struct fmt_bill_notice *n, enum fmt_bill_op kind,
                      enum fmt_draft_kind dk)
{
    memset(n, 0, sizeof(*n));
    n->notice_id = dup("NTC-77");
    n->kind = kind;
    base_draft(&n->draft, dk);
    n->draft.status = FMT_DRAFT_PAID; /* ignored */
    set_party(&n->from, "Huadong Trading Co., Ltd.", DRAWER_ACCT,
              "102100099996");
}

static void test_notices(void)
{
    struct fmt_draft d = {0};
    struct fmt_bill_notice n;
    struct fmt_bill_request rq;
    struct h2h_err e = {0};

    /* as payee: receipt presented to us, signed, held, endorsed on */
    mk_notice(&n, FMT_BILL_OP_PRESENT_RECEIPT, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_RECEIPT, IN, FMT_DRAFT_NONE);
    CU_ASSERT_STRING_EQUAL(d.number, NUM);
    CU_ASSERT_EQUAL(d.amount.minor, AMOUNT);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    /* the same notice again does not fit a pending record */
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "does not fit"));
    mk_req(&rq, FMT_BILL_OP_SIGN);
    set_str(&rq.notice_id, "NTC-77");
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_REJECTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PENDING_RECEIPT, IN, FMT_DRAFT_NONE);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_PENDING, NULL, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    /* endorsed back to us later: the record moves on */
    mk_notice(&n, FMT_BILL_OP_ENDORSE, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_ENDORSEMENT, IN, FMT_DRAFT_ENDORSED);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    CHECK(&d, &rq, BEFORE, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REFUSED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    /* refusing a receipt */
    mk_notice(&n, FMT_BILL_OP_PRESENT_RECEIPT, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, NULL), 0);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REFUSED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    /* as acceptor of a commercial draft: accept, refuse payment, settle the
     * recourse claim */
    mk_notice(&n, FMT_BILL_OP_PRESENT_ACCEPTANCE, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_ACCEPTANCE, IN, FMT_DRAFT_NONE);
    mk_req(&rq, FMT_BILL_OP_SIGN);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_LIABLE, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 0);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    mk_notice(&n, FMT_BILL_OP_PRESENT_PAYMENT, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_PAYMENT, IN, FMT_DRAFT_LIABLE);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    set_str(&rq.reason, NULL);
    CHECK(&d, &rq, MATURITY, H2H_EINVALID,
          "refusing payment (拒付) needs a reason");
    set_str(&rq.reason, "contract dispute");
    CHECK(&d, &rq, MATURITY, 0, NULL);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REFUSED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    mk_notice(&n, FMT_BILL_OP_RECOURSE, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_RECOURSE, IN, FMT_DRAFT_REFUSED);
    mk_req(&rq, FMT_BILL_OP_SIGN);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_RECOURSE_SETTLED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    /* we paid as acceptor */
    mk_notice(&n, FMT_BILL_OP_PRESENT_PAYMENT, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    mk_req(&rq, FMT_BILL_OP_SIGN);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PAID, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    /* a recourse claim about a draft new to us, refused: refused */
    mk_notice(&n, FMT_BILL_OP_RECOURSE, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_RECOURSE, IN, FMT_DRAFT_NONE);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_REFUSED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    /* a recourse claim we refuse: back to where we were */
    base_draft(&d, FMT_DRAFT_AC01);
    set_state(&d, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    mk_notice(&n, FMT_BILL_OP_RECOURSE, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_RECOURSE, IN, FMT_DRAFT_ENDORSED);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_ENDORSED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    /* release by the pool bank: refused -> still pledged; signed -> held;
     * also when our own release request was pending */
    base_draft(&d, FMT_DRAFT_AC01);
    set_state(&d, FMT_DRAFT_PLEDGED, N0, FMT_DRAFT_NONE);
    mk_notice(&n, FMT_BILL_OP_RELEASE, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_RELEASE, IN, FMT_DRAFT_PLEDGED);
    CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), 1);
    mk_req(&rq, FMT_BILL_OP_REFUSE);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_PLEDGED, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);
    set_state(&d, FMT_DRAFT_PENDING_RELEASE, O, FMT_DRAFT_PLEDGED);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_RELEASE, IN, FMT_DRAFT_PLEDGED);
    mk_req(&rq, FMT_BILL_OP_SIGN);
    APPLY(&d, &rq, FMT_BILL_ACCEPTED, NULL, 0, NULL);
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    fmt_bill_request_release(&rq);

    /* notices that do not fit */
    memset(&e, 0, sizeof(e));
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "a release request addressed to us "
                                         "does not fit: it is held by us"));
    fmt_bill_notice_release(&n);
    mk_notice(&n, FMT_BILL_OP_ENDORSE, FMT_DRAFT_AC01);
    set_str(&n.draft.number, NUM2);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not about our record"));
    set_str(&n.draft.number, NUM);
    n.draft.sub_from = 2; /* the amount no longer matches either */
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "notice NTC-77: sub-range 2-1000000"));
    STATE(&d, FMT_DRAFT_HELD, N0, FMT_DRAFT_NONE);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);

    mk_notice(&n, FMT_BILL_OP_PRESENT_ACCEPTANCE, FMT_DRAFT_AC01);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "a bank acceptance is accepted and "
                                         "paid by its bank"));
    CU_ASSERT_PTR_NULL(d.number);
    n.kind = FMT_BILL_OP_PRESENT_PAYMENT;
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_EINVALID);
    n.kind = FMT_BILL_OP_DISCOUNT;
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "\"discount\" is not something "
                                         "presented to us"));
    n.kind = FMT_BILL_OP_RELEASE; /* a pledge we do not have */
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_ESTATE);
    CU_ASSERT_EQUAL(d.status, FMT_DRAFT_NONE);
    CU_ASSERT_PTR_NULL(d.number);
    fmt_bill_notice_release(&n);

    /* payment presented to us for a draft we drew and accepted, delivered */
    base_draft(&d, FMT_DRAFT_AC02);
    set_state(&d, FMT_DRAFT_DELIVERED, N0, FMT_DRAFT_NONE);
    mk_notice(&n, FMT_BILL_OP_PRESENT_PAYMENT, FMT_DRAFT_AC02);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), 0);
    STATE(&d, FMT_DRAFT_PENDING_PAYMENT, IN, FMT_DRAFT_DELIVERED);
    fmt_draft_release(&d);
    /* ... but not when another company accepted it */
    base_draft(&d, FMT_DRAFT_AC02);
    set_party(&d.acceptor, "Other Co.", "990000000000000009", "105100000017");
    set_state(&d, FMT_DRAFT_DELIVERED, N0, FMT_DRAFT_NONE);
    CU_ASSERT_EQUAL(fmt_draft_receive(&d, &n, &e), H2H_ESTATE);
    fmt_bill_notice_release(&n);
    fmt_draft_release(&d);
    CU_ASSERT_EQUAL(fmt_draft_receive(NULL, NULL, NULL), H2H_EINVALID);
}

/* ---- pool, copies, results ------------------------------------------------
 */

static void test_pool(void)
{
    struct fmt_bill_pool p = {0};
    struct h2h_err e = {0};
    p.pool_id = dup("POOL-2024-01");
    p.pledged_count = 3;
    p.pledged_total = (struct fmt_amount){300000000, "CNY"};
    p.quota_total = (struct fmt_amount){240000000, "CNY"};
    p.quota_used = (struct fmt_amount){100000000, "CNY"};
    p.quota_available = (struct fmt_amount){140000000, "CNY"};
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), 0);
    p.quota_available.minor = 100000000; /* 40,000,000 frozen */
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), 0);
    p.quota_available.minor = 140000001;
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "exceed the financing quota"));
    p.quota_available.minor = 140000000;
    strcpy(p.deposit.ccy, "USD");
    p.deposit.minor = 5;
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "deposit is in USD, the rest in CNY"));
    p.deposit.ccy[0] = '\0';
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "deposit without a currency"));
    p.deposit.minor = 0;
    p.quota_used.minor = -1;
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "quota used is negative"));
    p.quota_used.minor = 0;
    p.pledged_count = -1;
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), H2H_EINVALID);
    p.pledged_count = 0;
    CU_ASSERT_EQUAL(fmt_bill_pool_check(&p, &e), 0);
    CU_ASSERT_EQUAL(fmt_bill_pool_check(NULL, &e), H2H_EINVALID);
    fmt_bill_pool_release(&p);
    CU_ASSERT_PTR_NULL(p.pool_id);
}

static void test_copy_and_release(void)
{
    struct fmt_draft a, b;
    base_draft(&a, FMT_DRAFT_AC02);
    a.drawer.party.addr.lines[0] = dup("88 Century Avenue");
    a.drawer.party.addr.country = dup("CN");
    a.payee.acct.name = dup("Jiangnan Supply");
    set_state(&a, FMT_DRAFT_PENDING_PAYMENT, IN, FMT_DRAFT_LIABLE);
    CU_ASSERT_EQUAL_FATAL(fmt_draft_copy(&b, &a), 0);
    CU_ASSERT_STRING_EQUAL(b.number, NUM);
    CU_ASSERT(b.number != a.number);
    CU_ASSERT_STRING_EQUAL(b.drawer.party.addr.lines[0], "88 Century Avenue");
    CU_ASSERT(b.drawer.party.addr.lines[0] != a.drawer.party.addr.lines[0]);
    CU_ASSERT_STRING_EQUAL(b.payee.acct.name, "Jiangnan Supply");
    CU_ASSERT_EQUAL(b.status, FMT_DRAFT_PENDING_PAYMENT);
    CU_ASSERT_EQUAL(b.pending_dir, FMT_BILL_DIR_IN);
    CU_ASSERT_EQUAL(b.prev_status, FMT_DRAFT_LIABLE);
    CU_ASSERT_EQUAL(b.amount.minor, AMOUNT);
    fmt_draft_release(&a);
    /* the copy lives on alone */
    CU_ASSERT_STRING_EQUAL(b.drawer.bank_code, "102100099996");
    CU_ASSERT_EQUAL(fmt_draft_validate(&b, NULL), 0);
    fmt_draft_release(&b);
    fmt_draft_release(&b); /* twice is fine */
    CU_ASSERT_PTR_NULL(b.number);
    fmt_draft_release(NULL);
    CU_ASSERT_EQUAL(fmt_draft_copy(&b, NULL), 0);
    CU_ASSERT_PTR_NULL(b.number);

    /* a full result: every owned string is freed (valgrind) */
    struct fmt_bill_result r = {0};
    r.req_id = dup("REQ-0001");
    r.op = FMT_BILL_OP_DRAFT_DETAIL;
    r.outcome = FMT_BILL_ACCEPTED;
    r.bank_code = dup("0000");
    r.bank_text = dup("交易成功");
    r.n_drafts = 2;
    r.drafts = calloc(2, sizeof(*r.drafts));
    base_draft(&r.drafts[0], FMT_DRAFT_AC01);
    base_draft(&r.drafts[1], FMT_DRAFT_AC02);
    r.n_history = 1;
    r.history = calloc(1, sizeof(*r.history));
    r.history[0].time = dup("2024-01-15T10:00:00+08:00");
    r.history[0].op = FMT_BILL_OP_ISSUE;
    set_party(&r.history[0].from, "A", "1", "102100099996");
    set_party(&r.history[0].to, "B", "2", "102100099996");
    r.n_notices = 1;
    r.notices = calloc(1, sizeof(*r.notices));
    mk_notice(&r.notices[0], FMT_BILL_OP_ENDORSE, FMT_DRAFT_AC01);
    r.notices[0].reason = dup("x");
    r.has_pool = 1;
    r.pool.pool_id = dup("P");
    r.pool.as_of = dup("2024-03-01");
    fmt_bill_result_release(&r);
    CU_ASSERT_PTR_NULL(r.drafts);
    CU_ASSERT_EQUAL(r.n_drafts, 0);
    CU_ASSERT_EQUAL(r.has_pool, 0);
    fmt_bill_result_release(&r);
    fmt_bill_result_release(NULL);

    struct fmt_bill_request rq;
    mk_req(&rq, FMT_BILL_OP_DISCOUNT);
    rq.date = dup("2024-04-01");
    rq.proceeds_acct.other_id = dup("110000000000000001");
    rq.memo = dup("m");
    rq.notice_id = dup("n");
    fmt_bill_request_release(&rq);
    CU_ASSERT_PTR_NULL(rq.req_id);
    CU_ASSERT_EQUAL(rq.rate_ppm, 0);
    fmt_bill_request_release(NULL);
}

static void test_is_ours(void)
{
    struct {
        enum fmt_draft_status st;
        enum fmt_bill_dir dir;
        enum fmt_draft_status prev;
        int ours;
    } t[] = {
        {FMT_DRAFT_HELD, N0, 0, 1},
        {FMT_DRAFT_PLEDGED, N0, 0, 1},
        {FMT_DRAFT_DISHONOURED, N0, 0, 1},
        {FMT_DRAFT_PENDING_ENDORSEMENT, O, FMT_DRAFT_HELD, 1},
        {FMT_DRAFT_PENDING_RELEASE, O, FMT_DRAFT_PLEDGED, 1},
        {FMT_DRAFT_PENDING_RELEASE, IN, FMT_DRAFT_PLEDGED, 1},
        {FMT_DRAFT_PENDING_RECOURSE, O, FMT_DRAFT_DISHONOURED, 1},
        {FMT_DRAFT_PENDING_RECEIPT, IN, FMT_DRAFT_NONE, 0},
        {FMT_DRAFT_PENDING_RECEIPT, O, FMT_DRAFT_ACCEPTED, 0},
        {FMT_DRAFT_PENDING_RECOURSE, IN, FMT_DRAFT_ENDORSED, 0},
        {FMT_DRAFT_ENDORSED, N0, 0, 0},
        {FMT_DRAFT_LIABLE, N0, 0, 0},
        {FMT_DRAFT_REGISTERED, N0, 0, 0},
        {FMT_DRAFT_PAID, N0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct fmt_draft d;
        base_draft(&d, FMT_DRAFT_AC01);
        set_state(&d, t[i].st, t[i].dir, t[i].prev);
        if (fmt_draft_is_ours(&d) != t[i].ours)
            fprintf(stderr, "is_ours %s: want %d\n",
                    fmt_draft_status_name(t[i].st), t[i].ours);
        CU_ASSERT_EQUAL(fmt_draft_is_ours(&d), t[i].ours);
        fmt_draft_release(&d);
    }
    CU_ASSERT_EQUAL(fmt_draft_is_ours(NULL), 0);
}

/* Inquiries need no draft and no date. */
static void test_inquiries(void)
{
    struct fmt_bill_request rq;
    enum fmt_bill_op inq[] = {FMT_BILL_OP_POOL_OVERVIEW, FMT_BILL_OP_DRAFTS,
                              FMT_BILL_OP_DRAFT_DETAIL, FMT_BILL_OP_NOTICES};
    for (size_t i = 0; i < 4; i++) {
        mk_req(&rq, inq[i]);
        CHECK(NULL, &rq, NULL, 0, NULL);
        fmt_bill_request_release(&rq);
    }
    mk_req(&rq, FMT_BILL_OP_DRAFTS);
    set_str(&rq.f_maturity_from, NULL);
    rq.f_status = FMT_DRAFT_NONE;
    CHECK(NULL, &rq, NULL, 0, NULL);
    set_str(&rq.f_maturity_to, "2024-02-30");
    CHECK(NULL, &rq, NULL, H2H_EINVALID, "maturity to");
    fmt_bill_request_release(&rq);
    /* an operation on a draft needs the record */
    mk_req(&rq, FMT_BILL_OP_ENDORSE);
    CHECK(NULL, &rq, BEFORE, H2H_EINVALID, "no record of the draft");
    fmt_bill_request_release(&rq);
}

static const struct tu_case cases[] = {
    {"names round trip", test_names},
    {"draft record validation", test_validate},
    {"request shapes", test_request_shape},
    {"every (state, operation) pair", test_state_matrix},
    {"reasons in words", test_reasons},
    {"life: drawer delivers a bank acceptance", test_life_drawer},
    {"life: self-accepted, self-payee, endorsed", test_life_self},
    {"life: pool and discount", test_life_pool_and_discount},
    {"life: payment, dishonour, recourse", test_life_payment_and_recourse},
    {"withdrawals and refusals", test_withdraw_and_refuse},
    {"sub-range splits", test_subranges},
    {"dates", test_dates},
    {"not transferable", test_not_transferable},
    {"notices addressed to us", test_notices},
    {"pool overview", test_pool},
    {"copy and release", test_copy_and_release},
    {"is ours", test_is_ours},
    {"inquiries", test_inquiries},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_bill", cases);
}
