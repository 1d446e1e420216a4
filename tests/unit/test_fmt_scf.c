/*
 * test_fmt_scf.c - supply-chain finance model: financing request rules and
 * status, credit vouchers and their state machine (formats/scf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scf.h"
#include "testutil.h"

#define ISSUE_DAY "2025-01-10"
#define OP_DAY "2025-03-01"
#define MATURITY "2025-06-30"
#define FACE 100000000LL /* 1,000,000.00 CNY */

/* ---- helpers ------------------------------------------------------------ */

/* CU_ASSERT_STRING_EQUAL on a NULL would crash the whole suite. */
#define ASSERT_STR(a, b)                                                       \
    do {                                                                       \
        const char *a_ = (a);                                                  \
        CU_ASSERT_PTR_NOT_NULL(a_);                                            \
        if (a_)                                                                \
            CU_ASSERT_STRING_EQUAL(a_, (b));                                   \
    } while (0)

/* strstr on a message, as an assertion that also shows the message. */
#define ASSERT_MSG(e, words)                                                   \
    do {                                                                       \
        int hit_ = strstr((e).msg, (words)) != NULL;                           \
        CU_ASSERT(hit_);                                                       \
        if (!hit_)                                                             \
            fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n", __FILE__,          \
                    __LINE__, (e).msg, (words));                               \
    } while (0)

#define FREE_AND(p)                                                            \
    do {                                                                       \
        free(p);                                                               \
        (p) = NULL;                                                            \
    } while (0)

static int vop(struct fmt_voucher_set *s, enum fmt_voucher_op_kind kind,
               const char *id, const char *actor, const char *date,
               const char *cp, int64_t minor, const char *new_id,
               struct h2h_err *e)
{
    struct fmt_voucher_op op = {
        .kind = kind,
        .voucher_id = id,
        .actor = actor,
        .date = date,
        .counterparty = cp,
        .amount = {minor, "CNY"},
        .new_id = new_id,
        /* Only an issue sets the maturity; any other op must ignore it. */
        .maturity_date = kind == FMT_VOUCHER_ISSUE ? MATURITY : "2099-12-31",
        .ref = kind == FMT_VOUCHER_FINANCE ? "FIN-001" : NULL,
    };
    h2h_err_clear(e);
    return fmt_voucher_apply(s, &op, e);
}

static int vcheck(const struct fmt_voucher_set *s,
                  enum fmt_voucher_op_kind kind, const char *id,
                  const char *actor, const char *date, const char *cp,
                  int64_t minor, const char *new_id, struct h2h_err *e)
{
    struct fmt_voucher_op op = {
        .kind = kind,
        .voucher_id = id,
        .actor = actor,
        .date = date,
        .counterparty = cp,
        .amount = {minor, "CNY"},
        .new_id = new_id,
        .maturity_date = MATURITY,
    };
    h2h_err_clear(e);
    return fmt_voucher_check(s->v, s->n, &op, e);
}

static const struct fmt_voucher *vs(const struct fmt_voucher_set *s,
                                    const char *id)
{
    return fmt_voucher_find(s->v, s->n, id);
}

/* Value the tree still represents: what live and settled vouchers hold. */
static int64_t tree_value(const struct fmt_voucher_set *s)
{
    int64_t t = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].status != FMT_VOUCHER_REFUSED &&
            s->v[i].status != FMT_VOUCHER_WITHDRAWN)
            t += s->v[i].remaining;
    return t;
}

/* Every field that an operation may change, for "nothing changed". */
static char *snapshot(const struct fmt_voucher_set *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (size_t i = 0; i < s->n; i++) {
        const struct fmt_voucher *x = &s->v[i];
        fprintf(f, "%s %s %lld/%lld %s %s %s %s %lld\n", x->id,
                fmt_voucher_status_name(x->status), (long long)x->remaining,
                (long long)x->amount.minor, x->holder,
                x->status_date ? x->status_date : "-",
                x->fin_bank ? x->fin_bank : "-",
                x->fin_date ? x->fin_date : "-", (long long)x->fin_amount);
    }
    fclose(f);
    return buf;
}

static int tree_ok(const struct fmt_voucher_set *s)
{
    struct h2h_err e;
    h2h_err_clear(&e);
    int rc = fmt_voucher_tree_check(s->v, s->n, &e);
    if (rc != 0)
        fprintf(stderr, "tree check: %s\n", e.msg);
    return rc == 0;
}

/* One root voucher V1 (CORE -> T1) brought into state st. */
static void make_state(struct fmt_voucher_set *s, enum fmt_voucher_status st)
{
    struct h2h_err e;
    fmt_voucher_set_init(s);
    CU_ASSERT_EQUAL_FATAL(vop(s, FMT_VOUCHER_ISSUE, "V1", "CORE", ISSUE_DAY,
                              "T1", FACE, NULL, &e),
                          0);
    switch (st) {
    case FMT_VOUCHER_PENDING: break;
    case FMT_VOUCHER_REFUSED:
        CU_ASSERT_EQUAL_FATAL(
            vop(s, FMT_VOUCHER_REFUSE, "V1", "T1", OP_DAY, NULL, 0, NULL, &e),
            0);
        break;
    case FMT_VOUCHER_WITHDRAWN:
        CU_ASSERT_EQUAL_FATAL(vop(s, FMT_VOUCHER_WITHDRAW, "V1", "CORE", OP_DAY,
                                  NULL, 0, NULL, &e),
                              0);
        break;
    default:
        CU_ASSERT_EQUAL_FATAL(
            vop(s, FMT_VOUCHER_SIGN, "V1", "T1", OP_DAY, NULL, 0, NULL, &e), 0);
        if (st == FMT_VOUCHER_FINANCED)
            CU_ASSERT_EQUAL_FATAL(vop(s, FMT_VOUCHER_FINANCE, "V1", "T1",
                                      OP_DAY, "BANK", 0, NULL, &e),
                                  0);
        if (st == FMT_VOUCHER_SETTLED)
            CU_ASSERT_EQUAL_FATAL(vop(s, FMT_VOUCHER_SETTLE, "V1", "CORE",
                                      MATURITY, NULL, 0, NULL, &e),
                                  0);
        break;
    }
    CU_ASSERT_EQUAL_FATAL(vs(s, "V1")->status, st);
}

/* ---- names and rates ---------------------------------------------------- */

/* The name functions take their enum; the table below wants one shape. */
#define NAME_AS_INT(fn, type)                                                  \
    static const char *fn##_i(int v)                                           \
    {                                                                          \
        return fn((type)v);                                                    \
    }
NAME_AS_INT(fmt_scf_kind_name, enum fmt_scf_kind)
NAME_AS_INT(fmt_scf_status_name, enum fmt_scf_status)
NAME_AS_INT(fmt_scf_item_name, enum fmt_scf_item)
NAME_AS_INT(fmt_scf_cancel_answer_name, enum fmt_scf_cancel_answer)
NAME_AS_INT(fmt_scf_repay_kind_name, enum fmt_scf_repay_kind)
NAME_AS_INT(fmt_voucher_status_name, enum fmt_voucher_status)
NAME_AS_INT(fmt_voucher_op_name, enum fmt_voucher_op_kind)

static void test_names(void)
{
    static const struct {
        const char *(*name)(int);
        int (*parse)(const char *);
        int count;
        const char *first, *last;
    } t[] = {
        {fmt_scf_kind_name_i, fmt_scf_kind_parse, 2, "receivable",
         "reverse_factoring"},
        {fmt_scf_status_name_i, fmt_scf_status_parse, FMT_SCF_STATUS__COUNT,
         "submitted", "cancelled"},
        {fmt_scf_item_name_i, fmt_scf_item_parse, FMT_SCF_ITEM__COUNT,
         "accepted", "rejected"},
        {fmt_scf_cancel_answer_name_i, fmt_scf_cancel_answer_parse, 3, "none",
         "refused"},
        {fmt_scf_repay_kind_name_i, fmt_scf_repay_kind_parse, 2, "due", "paid"},
        {fmt_voucher_status_name_i, fmt_voucher_status_parse,
         FMT_VOUCHER_STATUS__COUNT, "pending", "withdrawn"},
        {fmt_voucher_op_name_i, fmt_voucher_op_parse, FMT_VOUCHER_OP__COUNT,
         "issue", "settle"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ASSERT_STR(t[i].name(0), t[i].first);
        ASSERT_STR(t[i].name(t[i].count - 1), t[i].last);
        ASSERT_STR(t[i].name(t[i].count), "?");
        ASSERT_STR(t[i].name(-1), "?");
        for (int k = 0; k < t[i].count; k++)
            CU_ASSERT_EQUAL(t[i].parse(t[i].name(k)), k);
        CU_ASSERT_EQUAL(t[i].parse(NULL), -1);
        CU_ASSERT_EQUAL(t[i].parse("?"), -1);
        CU_ASSERT_EQUAL(t[i].parse(""), -1);
    }
    ASSERT_STR(fmt_scf_status_name(FMT_SCF_UNDER_REVIEW), "under_review");
    ASSERT_STR(fmt_voucher_op_name(FMT_VOUCHER_TRANSFER), "transfer");
    CU_ASSERT_EQUAL(fmt_voucher_status_parse("Held"), -1); /* exact case */
    ASSERT_STR(fmt_scf_item_iso(FMT_SCF_ITEM_ACCEPTED), "FNCD");
    ASSERT_STR(fmt_scf_item_iso(FMT_SCF_ITEM_PENDING), "PDNG");
    ASSERT_STR(fmt_scf_item_iso(FMT_SCF_ITEM_REJECTED), "NTFD");
    CU_ASSERT_EQUAL(fmt_scf_item_from_iso("NTFD"), FMT_SCF_ITEM_REJECTED);
    CU_ASSERT_EQUAL(fmt_scf_item_from_iso("fncd"), -1);
}

static void test_rates(void)
{
    static const struct {
        const char *s;
        int rc;
        int64_t v;
        const char *back;
    } t[] = {
        {"3.45", 0, 34500000000LL, "3.45"},
        {"80", 0, 800000000000LL, "80"},
        {"0.0000000001", 0, 1, "0.0000000001"},
        {"0.5", 0, 5000000000LL, "0.5"},
        {"100.000", 0, 1000000000000LL, "100"},
        {"1.00000000010", 0, 10000000001LL, "1.0000000001"},
        {"1.00000000015", H2H_EINVALID, 0, NULL}, /* would round */
        {"-1", H2H_EINVALID, 0, NULL},
        {"+1", H2H_EINVALID, 0, NULL},
        {"1e2", H2H_EINVALID, 0, NULL},
        {".5", H2H_EINVALID, 0, NULL},
        {"5.", H2H_EINVALID, 0, NULL},
        {"", H2H_EINVALID, 0, NULL},
        {"3,45", H2H_EINVALID, 0, NULL},
        {"922337204", H2H_EINVALID, 0, NULL}, /* beyond int64 */
        {"922337203", 0, 9223372030000000000LL, "922337203"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int64_t v = -7;
        struct h2h_err e;
        h2h_err_clear(&e);
        int rc = fmt_scf_rate_parse(t[i].s, strlen(t[i].s), &v, &e);
        CU_ASSERT_EQUAL(rc, t[i].rc);
        if (rc != t[i].rc)
            fprintf(stderr, "rate %s: rc %d (%s)\n", t[i].s, rc, e.msg);
        if (t[i].rc != 0) {
            CU_ASSERT(e.msg[0] != '\0');
            continue;
        }
        CU_ASSERT_EQUAL(v, t[i].v);
        char buf[32];
        CU_ASSERT_EQUAL(fmt_scf_rate_format(v, buf, sizeof(buf)),
                        (int)strlen(t[i].back));
        ASSERT_STR(buf, t[i].back);
    }
    char small[3];
    CU_ASSERT_EQUAL(fmt_scf_rate_format(34500000000LL, small, sizeof(small)),
                    H2H_ETOOBIG);
    CU_ASSERT_EQUAL(fmt_scf_rate_format(-1, small, sizeof(small)),
                    H2H_EINVALID);
}

/* ---- voucher state machine: (state, op) verdicts ----------------------- */

static void test_voucher_verdicts(void)
{
    /* For V1 in each state, each operation by the party entitled to it:
     * the verdict, and the status V1 has afterwards when allowed. */
    static const struct {
        enum fmt_voucher_status state;
        enum fmt_voucher_op_kind op;
        int rc;
        int after;         /* -1: a refusal, the state stays */
        const char *words; /* in the refusal */
    } t[] = {
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_SIGN, 0, FMT_VOUCHER_HELD, NULL},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_REFUSE, 0, FMT_VOUCHER_REFUSED, NULL},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_WITHDRAW, 0, FMT_VOUCHER_WITHDRAWN,
         NULL},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_TRANSFER, H2H_ESTATE, -1,
         "awaiting signature"},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_FINANCE, H2H_ESTATE, -1,
         "awaiting signature"},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_SETTLE, H2H_ESTATE, -1,
         "before settlement"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_SIGN, H2H_ESTATE, -1, "is held by T1"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_REFUSE, H2H_ESTATE, -1,
         "only a pending voucher"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_WITHDRAW, H2H_ESTATE, -1,
         "only a pending voucher"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_TRANSFER, 0, FMT_VOUCHER_HELD, NULL},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_FINANCE, 0, FMT_VOUCHER_FINANCED, NULL},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_SETTLE, 0, FMT_VOUCHER_SETTLED, NULL},
        {FMT_VOUCHER_FINANCED, FMT_VOUCHER_SIGN, H2H_ESTATE, -1,
         "financed at BANK"},
        {FMT_VOUCHER_FINANCED, FMT_VOUCHER_REFUSE, H2H_ESTATE, -1,
         "financed at BANK"},
        {FMT_VOUCHER_FINANCED, FMT_VOUCHER_WITHDRAW, H2H_ESTATE, -1,
         "financed at BANK"},
        {FMT_VOUCHER_FINANCED, FMT_VOUCHER_TRANSFER, H2H_ESTATE, -1,
         "financed at BANK since " OP_DAY},
        {FMT_VOUCHER_FINANCED, FMT_VOUCHER_FINANCE, H2H_ESTATE, -1,
         "financed at BANK"},
        {FMT_VOUCHER_FINANCED, FMT_VOUCHER_SETTLE, 0, FMT_VOUCHER_SETTLED,
         NULL},
        {FMT_VOUCHER_SETTLED, FMT_VOUCHER_SIGN, H2H_ESTATE, -1, "settled"},
        {FMT_VOUCHER_SETTLED, FMT_VOUCHER_REFUSE, H2H_ESTATE, -1, "settled"},
        {FMT_VOUCHER_SETTLED, FMT_VOUCHER_WITHDRAW, H2H_ESTATE, -1, "settled"},
        {FMT_VOUCHER_SETTLED, FMT_VOUCHER_TRANSFER, H2H_ESTATE, -1, "settled"},
        {FMT_VOUCHER_SETTLED, FMT_VOUCHER_FINANCE, H2H_ESTATE, -1, "settled"},
        {FMT_VOUCHER_SETTLED, FMT_VOUCHER_SETTLE, H2H_ESTATE, -1,
         "already settled"},
        {FMT_VOUCHER_REFUSED, FMT_VOUCHER_SIGN, H2H_ESTATE, -1,
         "refused by T1"},
        {FMT_VOUCHER_REFUSED, FMT_VOUCHER_REFUSE, H2H_ESTATE, -1, "refused"},
        {FMT_VOUCHER_REFUSED, FMT_VOUCHER_WITHDRAW, H2H_ESTATE, -1, "refused"},
        {FMT_VOUCHER_REFUSED, FMT_VOUCHER_TRANSFER, H2H_ESTATE, -1,
         "no longer exists"},
        {FMT_VOUCHER_REFUSED, FMT_VOUCHER_FINANCE, H2H_ESTATE, -1, "refused"},
        {FMT_VOUCHER_REFUSED, FMT_VOUCHER_SETTLE, H2H_ESTATE, -1,
         "nothing to settle"},
        {FMT_VOUCHER_WITHDRAWN, FMT_VOUCHER_SIGN, H2H_ESTATE, -1,
         "withdrawn by CORE"},
        {FMT_VOUCHER_WITHDRAWN, FMT_VOUCHER_REFUSE, H2H_ESTATE, -1,
         "withdrawn"},
        {FMT_VOUCHER_WITHDRAWN, FMT_VOUCHER_WITHDRAW, H2H_ESTATE, -1,
         "withdrawn"},
        {FMT_VOUCHER_WITHDRAWN, FMT_VOUCHER_TRANSFER, H2H_ESTATE, -1,
         "withdrawn"},
        {FMT_VOUCHER_WITHDRAWN, FMT_VOUCHER_FINANCE, H2H_ESTATE, -1,
         "withdrawn"},
        {FMT_VOUCHER_WITHDRAWN, FMT_VOUCHER_SETTLE, H2H_ESTATE, -1,
         "nothing to settle"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct fmt_voucher_set s;
        struct h2h_err e;
        make_state(&s, t[i].state);
        const char *actor = "T1", *cp = NULL, *date = OP_DAY;
        int64_t amt = 0;
        switch (t[i].op) {
        case FMT_VOUCHER_WITHDRAW: actor = "CORE"; break;
        case FMT_VOUCHER_SETTLE:
            actor = "CORE";
            date = MATURITY;
            break;
        case FMT_VOUCHER_TRANSFER:
            cp = "T2";
            amt = FACE / 4;
            break;
        case FMT_VOUCHER_FINANCE: cp = "BANK"; break;
        default: break;
        }
        char *before = snapshot(&s);
        int rc = vop(&s, t[i].op, "V1", actor, date, cp, amt, "V2", &e);
        char label[96];
        snprintf(label, sizeof(label), "%s on %s", fmt_voucher_op_name(t[i].op),
                 fmt_voucher_status_name(t[i].state));
        CU_ASSERT_EQUAL(rc, t[i].rc);
        if (rc != t[i].rc)
            fprintf(stderr, "%s: rc %d (%s)\n", label, rc, e.msg);
        if (t[i].rc == 0) {
            CU_ASSERT_EQUAL((int)vs(&s, "V1")->status, t[i].after);
            CU_ASSERT(tree_ok(&s));
            CU_ASSERT_EQUAL(tree_value(&s),
                            t[i].after == FMT_VOUCHER_REFUSED ||
                                    t[i].after == FMT_VOUCHER_WITHDRAWN
                                ? 0
                                : FACE);
        } else {
            char *after = snapshot(&s);
            ASSERT_STR(after, before); /* nothing changed */
            free(after);
            ASSERT_MSG(e, t[i].words);
        }
        free(before);
        fmt_voucher_set_release(&s);
    }
}

static void test_voucher_wrong_party(void)
{
    /* Each operation by someone who is not entitled to it. */
    static const struct {
        enum fmt_voucher_status state;
        enum fmt_voucher_op_kind op;
        const char *actor;
        const char *words;
    } t[] = {
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_SIGN, "T2", "sent to T1"},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_SIGN, "CORE", "sent to T1"},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_REFUSE, "T2", "sent to T1"},
        {FMT_VOUCHER_PENDING, FMT_VOUCHER_WITHDRAW, "T1", "only the sender"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_TRANSFER, "T2", "held by T1"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_TRANSFER, "CORE", "held by T1"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_FINANCE, "T2", "held by T1"},
        {FMT_VOUCHER_HELD, FMT_VOUCHER_SETTLE, "T1", "only the issuer CORE"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct fmt_voucher_set s;
        struct h2h_err e;
        make_state(&s, t[i].state);
        int settle = t[i].op == FMT_VOUCHER_SETTLE;
        const char *cp = t[i].op == FMT_VOUCHER_TRANSFER  ? "T3"
                         : t[i].op == FMT_VOUCHER_FINANCE ? "BANK"
                                                          : NULL;
        int rc = vop(&s, t[i].op, "V1", t[i].actor, settle ? MATURITY : OP_DAY,
                     cp, t[i].op == FMT_VOUCHER_TRANSFER ? 100 : 0, "V2", &e);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        ASSERT_MSG(e, t[i].words);
        CU_ASSERT_EQUAL(vs(&s, "V1")->status, t[i].state);
        CU_ASSERT_EQUAL(s.n, 1);
        fmt_voucher_set_release(&s);
    }
}

/* ---- one voucher's whole life ------------------------------------------ */

static void test_voucher_life(void)
{
    struct fmt_voucher_set s;
    struct h2h_err e;
    struct fmt_voucher_holdings h;
    fmt_voucher_set_init(&s);

    /* issue to T1 */
    CU_ASSERT_EQUAL_FATAL(vop(&s, FMT_VOUCHER_ISSUE, "V1", "CORE", ISSUE_DAY,
                              "T1", FACE, NULL, &e),
                          0);
    const struct fmt_voucher *v1 = vs(&s, "V1");
    CU_ASSERT_EQUAL(v1->status, FMT_VOUCHER_PENDING);
    CU_ASSERT_EQUAL(v1->level, 1);
    CU_ASSERT_PTR_NULL(v1->parent_id);
    ASSERT_STR(v1->root_id, "V1");
    ASSERT_STR(v1->issuer, "CORE");
    ASSERT_STR(v1->holder, "T1");
    ASSERT_STR(v1->original_holder, "T1");
    ASSERT_STR(v1->maturity_date, MATURITY);
    CU_ASSERT_EQUAL(v1->remaining, FACE);
    CU_ASSERT(tree_ok(&s));
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T1", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_pending_in, 1);
    CU_ASSERT_EQUAL(h.pending_in, FACE);
    CU_ASSERT_EQUAL(h.held, 0);

    /* T1 signs */
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V1", "T1", "2025-01-11", NULL, 0, NULL, &e),
        0);
    CU_ASSERT_EQUAL(vs(&s, "V1")->status, FMT_VOUCHER_HELD);
    ASSERT_STR(vs(&s, "V1")->status_date, "2025-01-11");
    CU_ASSERT(tree_ok(&s));

    /* T1 splits and transfers 40% to T2 */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", "2025-02-01",
                        "T2", FACE * 40 / 100, "V2", &e),
                    0);
    const struct fmt_voucher *v2 = vs(&s, "V2");
    CU_ASSERT_EQUAL_FATAL(s.n, 2);
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, FACE * 60 / 100);
    CU_ASSERT_EQUAL(vs(&s, "V1")->status, FMT_VOUCHER_HELD);
    CU_ASSERT_EQUAL(v2->amount.minor, FACE * 40 / 100);
    ASSERT_STR(v2->amount.ccy, "CNY");
    CU_ASSERT_EQUAL(v2->remaining, FACE * 40 / 100);
    CU_ASSERT_EQUAL(v2->level, 2);
    ASSERT_STR(v2->parent_id, "V1");
    ASSERT_STR(v2->root_id, "V1");
    ASSERT_STR(v2->transferor, "T1");
    ASSERT_STR(v2->holder, "T2");
    ASSERT_STR(v2->original_holder, "T1");
    ASSERT_STR(v2->issue_date, "2025-02-01");
    ASSERT_STR(v2->maturity_date, MATURITY);
    CU_ASSERT_EQUAL(v2->status, FMT_VOUCHER_PENDING);
    CU_ASSERT_EQUAL(tree_value(&s), FACE);
    CU_ASSERT(tree_ok(&s));
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T1", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.held, FACE * 60 / 100);
    CU_ASSERT_EQUAL(h.n_pending_out, 1);
    CU_ASSERT_EQUAL(h.pending_out, FACE * 40 / 100);

    /* T2 signs */
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V2", "T2", "2025-02-02", NULL, 0, NULL, &e),
        0);
    CU_ASSERT(tree_ok(&s));

    /* T2 transfers part (150,000.00) to T3 */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V2", "T2", "2025-03-01",
                        "T3", 15000000, "V3", &e),
                    0);
    const struct fmt_voucher *v3 = vs(&s, "V3");
    CU_ASSERT_EQUAL(v3->level, 3);
    ASSERT_STR(v3->parent_id, "V2");
    ASSERT_STR(v3->root_id, "V1");
    ASSERT_STR(v3->original_holder, "T1");
    ASSERT_STR(v3->issuer, "CORE");
    ASSERT_STR(v3->maturity_date, MATURITY);
    CU_ASSERT_EQUAL(vs(&s, "V2")->remaining, 40000000 - 15000000);
    CU_ASSERT_EQUAL(tree_value(&s), FACE);
    CU_ASSERT(tree_ok(&s));

    /* T2 cannot finance while its transfer to T3 is pending */
    CU_ASSERT_EQUAL(vcheck(&s, FMT_VOUCHER_FINANCE, "V2", "T2", "2025-03-02",
                           "BANK", 0, NULL, &e),
                    H2H_ESTATE);
    ASSERT_MSG(e, "still pending");

    /* T3 signs */
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V3", "T3", "2025-03-02", NULL, 0, NULL, &e),
        0);
    CU_ASSERT(tree_ok(&s));

    /* T2 finances what it still holds */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_FINANCE, "V2", "T2", "2025-03-05",
                        "BANK", 0, NULL, &e),
                    0);
    v2 = vs(&s, "V2");
    CU_ASSERT_EQUAL(v2->status, FMT_VOUCHER_FINANCED);
    ASSERT_STR(v2->fin_bank, "BANK");
    ASSERT_STR(v2->fin_ref, "FIN-001");
    ASSERT_STR(v2->fin_date, "2025-03-05");
    CU_ASSERT_EQUAL(v2->fin_amount, 25000000);
    ASSERT_STR(v2->holder, "T2");
    CU_ASSERT_EQUAL(tree_value(&s), FACE);
    CU_ASSERT(tree_ok(&s));
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T2", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_financed, 1);
    CU_ASSERT_EQUAL(h.financed, 25000000);
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "CORE", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.issued_live, FACE);

    /* Settlement before maturity is refused, and changes nothing */
    char *before = snapshot(&s);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_SETTLE, "V1", "CORE", "2025-06-29",
                        NULL, 0, NULL, &e),
                    H2H_EINVALID);
    ASSERT_MSG(e, "cannot be settled before");
    char *after = snapshot(&s);
    ASSERT_STR(before, after);
    free(before);
    free(after);

    /* Maturity: CORE pays; settle named through a leaf works for the tree */
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SETTLE, "V3", "CORE", MATURITY, NULL, 0, NULL, &e),
        0);
    for (size_t i = 0; i < s.n; i++) {
        CU_ASSERT_EQUAL(s.v[i].status, FMT_VOUCHER_SETTLED);
        ASSERT_STR(s.v[i].status_date, MATURITY);
    }
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, 60000000);
    CU_ASSERT_EQUAL(vs(&s, "V2")->remaining, 25000000);
    CU_ASSERT_EQUAL(vs(&s, "V3")->remaining, 15000000);
    CU_ASSERT_EQUAL(tree_value(&s), FACE);
    CU_ASSERT(tree_ok(&s));
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T3", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_settled, 1);
    CU_ASSERT_EQUAL(h.settled, 15000000);
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "CORE", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.issued_live, 0);

    /* A second settlement is refused */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_SETTLE, "V1", "CORE", "2025-07-01",
                        NULL, 0, NULL, &e),
                    H2H_ESTATE);
    ASSERT_MSG(e, "already settled on " MATURITY);

    /* Tampering with any amount breaks the tree check */
    struct fmt_voucher *w = (struct fmt_voucher *)vs(&s, "V3");
    w->amount.minor += 1;
    w->remaining += 1;
    CU_ASSERT_EQUAL(fmt_voucher_tree_check(s.v, s.n, &e), H2H_EINVALID);
    ASSERT_MSG(e, "voucher V2 does not add up");
    w->amount.minor -= 1;
    w->remaining -= 1;
    CU_ASSERT(tree_ok(&s));
    w = (struct fmt_voucher *)vs(&s, "V1");
    w->remaining -= 100;
    CU_ASSERT_EQUAL(fmt_voucher_tree_check(s.v, s.n, &e), H2H_EINVALID);
    ASSERT_MSG(e, "voucher V1 does not add up");
    w->remaining += 100;
    w = (struct fmt_voucher *)vs(&s, "V2");
    w->remaining -= 1; /* also breaks fin_amount == remaining */
    CU_ASSERT_EQUAL(fmt_voucher_tree_check(s.v, s.n, &e), H2H_EINVALID);
    ASSERT_MSG(e, "V2");
    w->remaining += 1;
    CU_ASSERT(tree_ok(&s));

    fmt_voucher_set_release(&s);
}

/* ---- refusals, withdrawals ---------------------------------------------- */

static void test_voucher_refusals(void)
{
    struct fmt_voucher_set s;
    struct h2h_err e;
    make_state(&s, FMT_VOUCHER_HELD);
    static const struct {
        const char *label;
        enum fmt_voucher_op_kind op;
        const char *id, *actor, *cp;
        int64_t amt;
        const char *new_id;
        int rc;
        const char *words;
    } t[] = {
        {"more than remaining", FMT_VOUCHER_TRANSFER, "V1", "T1", "T2",
         FACE + 1, "V2", H2H_EINVALID,
         "transfer of 1000000.01 CNY exceeds the 1000000.00 CNY"},
        {"zero part", FMT_VOUCHER_TRANSFER, "V1", "T1", "T2", 0, "V2",
         H2H_EINVALID, "positive"},
        {"negative part", FMT_VOUCHER_TRANSFER, "V1", "T1", "T2", -500, "V2",
         H2H_EINVALID, "positive"},
        {"to itself", FMT_VOUCHER_TRANSFER, "V1", "T1", "T1", 100, "V2",
         H2H_EINVALID, "to itself"},
        {"no receiver", FMT_VOUCHER_TRANSFER, "V1", "T1", NULL, 100, "V2",
         H2H_EINVALID, "no receiver"},
        {"child id taken", FMT_VOUCHER_TRANSFER, "V1", "T1", "T2", 100, "V1",
         H2H_EDUP, "already exists"},
        {"no child id", FMT_VOUCHER_TRANSFER, "V1", "T1", "T2", 100, NULL,
         H2H_EINVALID, "needed to record"},
        {"unknown voucher", FMT_VOUCHER_TRANSFER, "V9", "T1", "T2", 100, "V2",
         H2H_ENOTFOUND, "no voucher V9"},
        {"finance a part", FMT_VOUCHER_FINANCE, "V1", "T1", "BANK", 100, NULL,
         H2H_EINVALID, "whole"},
        {"finance negative", FMT_VOUCHER_FINANCE, "V1", "T1", "BANK", -1, NULL,
         H2H_EINVALID, "whole"},
        {"finance no bank", FMT_VOUCHER_FINANCE, "V1", "T1", NULL, 0, NULL,
         H2H_EINVALID, "no bank"},
        {"issue again", FMT_VOUCHER_ISSUE, "V1", "CORE", "T1", FACE, NULL,
         H2H_EDUP, "already exists"},
        {"issue to itself", FMT_VOUCHER_ISSUE, "V7", "CORE", "CORE", FACE, NULL,
         H2H_EINVALID, "to itself"},
        {"issue nothing", FMT_VOUCHER_ISSUE, "V7", "CORE", "T1", 0, NULL,
         H2H_EINVALID, "positive"},
        {"no actor", FMT_VOUCHER_SIGN, "V1", "", NULL, 0, NULL, H2H_EINVALID,
         "no party"},
    };
    char *before = snapshot(&s);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int rc = vop(&s, t[i].op, t[i].id, t[i].actor, OP_DAY, t[i].cp,
                     t[i].amt, t[i].new_id, &e);
        CU_ASSERT_EQUAL(rc, t[i].rc);
        ASSERT_MSG(e, t[i].words);
        if (rc != t[i].rc)
            fprintf(stderr, "%s: rc %d \"%s\"\n", t[i].label, rc, e.msg);
    }
    /* a request may leave the child's id to the platform: the check
     * (what h2hd runs before sending) takes it, only recording needs it */
    CU_ASSERT_EQUAL(vcheck(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T2",
                           100, NULL, &e),
                    0);
    char *after = snapshot(&s);
    ASSERT_STR(before, after);
    free(before);
    free(after);

    /* Another currency is refused; the voucher's own (or none) is fine. */
    struct fmt_voucher_op op = {.kind = FMT_VOUCHER_TRANSFER,
                                .voucher_id = "V1",
                                .actor = "T1",
                                .date = OP_DAY,
                                .counterparty = "T2",
                                .amount = {100, "USD"},
                                .new_id = "V2"};
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &e), H2H_EINVALID);
    ASSERT_MSG(e, "is in CNY");
    op.amount.ccy[0] = '\0';
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &e), 0);

    /* Transfer everything: the parent keeps nothing and cannot finance. */
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T2", FACE, "V2", &e),
        0);
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, 0);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V2", "T2", OP_DAY, NULL, 0, NULL, &e), 0);
    CU_ASSERT_EQUAL(vcheck(&s, FMT_VOUCHER_FINANCE, "V1", "T1", OP_DAY, "BANK",
                           0, NULL, &e),
                    H2H_ESTATE);
    ASSERT_MSG(e, "nothing left to finance");
    struct fmt_voucher_holdings h;
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T1", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_held, 0); /* V1 holds nothing any more */
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T2", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_held, 1);
    CU_ASSERT_EQUAL(h.held, FACE);
    CU_ASSERT_EQUAL(
        vcheck(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T3", 1, "V3", &e),
        H2H_EINVALID);
    ASSERT_MSG(e, "exceeds the 0.00 CNY");
    CU_ASSERT(tree_ok(&s));
    fmt_voucher_set_release(&s);
}

static void test_voucher_withdraw_refuse(void)
{
    struct fmt_voucher_set s;
    struct h2h_err e;
    make_state(&s, FMT_VOUCHER_HELD);

    /* T2 refuses: the amount goes back to V1 */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T2",
                        30000000, "V2", &e),
                    0);
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, FACE - 30000000);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_REFUSE, "V2", "T2", "2025-03-02", NULL,
                        0, NULL, &e),
                    0);
    CU_ASSERT_EQUAL(vs(&s, "V2")->status, FMT_VOUCHER_REFUSED);
    CU_ASSERT_EQUAL(vs(&s, "V2")->remaining, 0);
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, FACE);
    CU_ASSERT_EQUAL(tree_value(&s), FACE);
    CU_ASSERT(tree_ok(&s));

    /* T1 sends to T3; T3 cannot withdraw it, T1 can */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T3",
                        20000000, "V3", &e),
                    0);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_WITHDRAW, "V3", "T3", "2025-03-03",
                        NULL, 0, NULL, &e),
                    H2H_EINVALID);
    ASSERT_MSG(e, "sent by T1");
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_WITHDRAW, "V3", "T1", "2025-03-03",
                        NULL, 0, NULL, &e),
                    0);
    CU_ASSERT_EQUAL(vs(&s, "V3")->status, FMT_VOUCHER_WITHDRAWN);
    ASSERT_STR(vs(&s, "V3")->status_date, "2025-03-03");
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, FACE);
    CU_ASSERT(tree_ok(&s));

    /* A withdrawn transfer can neither be signed nor withdrawn again */
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V3", "T3", "2025-03-04", NULL, 0, NULL, &e),
        H2H_ESTATE);
    ASSERT_MSG(e, "withdrawn by T1");

    /* A signed transfer can no longer be withdrawn */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T4",
                        10000000, "V4", &e),
                    0);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V4", "T4", OP_DAY, NULL, 0, NULL, &e), 0);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_WITHDRAW, "V4", "T1", OP_DAY, NULL, 0, NULL, &e),
        H2H_ESTATE);
    CU_ASSERT_EQUAL(vs(&s, "V1")->remaining, FACE - 10000000);

    /* Settlement waits for a pending transfer; dead ones are left alone */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V4", "T4", OP_DAY, "T5",
                        1000000, "V5", &e),
                    0);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SETTLE, "V1", "CORE", MATURITY, NULL, 0, NULL, &e),
        H2H_ESTATE);
    ASSERT_MSG(e, "V5");
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_REFUSE, "V5", "T5", MATURITY, NULL, 0, NULL, &e),
        0);
    CU_ASSERT_EQUAL(vs(&s, "V4")->remaining, 10000000);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SETTLE, "V1", "CORE", MATURITY, NULL, 0, NULL, &e),
        0);
    CU_ASSERT_EQUAL(vs(&s, "V1")->status, FMT_VOUCHER_SETTLED);
    CU_ASSERT_EQUAL(vs(&s, "V4")->status, FMT_VOUCHER_SETTLED);
    CU_ASSERT_EQUAL(vs(&s, "V2")->status, FMT_VOUCHER_REFUSED);
    CU_ASSERT_EQUAL(vs(&s, "V3")->status, FMT_VOUCHER_WITHDRAWN);
    CU_ASSERT_EQUAL(vs(&s, "V5")->status, FMT_VOUCHER_REFUSED);
    CU_ASSERT_EQUAL(tree_value(&s), FACE);
    CU_ASSERT(tree_ok(&s));

    /* The issuer withdraws a root nobody signed */
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_ISSUE, "W1", "CORE", ISSUE_DAY, "T1",
                        500, NULL, &e),
                    0);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_WITHDRAW, "W1", "CORE", OP_DAY, NULL, 0, NULL, &e),
        0);
    CU_ASSERT_EQUAL(vs(&s, "W1")->status, FMT_VOUCHER_WITHDRAWN);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SETTLE, "W1", "CORE", MATURITY, NULL, 0, NULL, &e),
        H2H_ESTATE);
    ASSERT_MSG(e, "nothing to settle");
    CU_ASSERT(tree_ok(&s));
    fmt_voucher_set_release(&s);
}

/* ---- dates -------------------------------------------------------------- */

static void test_voucher_dates(void)
{
    struct fmt_voucher_set s;
    struct h2h_err e;
    make_state(&s, FMT_VOUCHER_HELD);
    static const struct {
        enum fmt_voucher_op_kind op;
        const char *date;
        int rc;
        const char *words;
    } t[] = {
        {FMT_VOUCHER_FINANCE, "2025-06-29", 0, NULL},
        {FMT_VOUCHER_FINANCE, MATURITY, H2H_EINVALID, "financed on or after"},
        {FMT_VOUCHER_FINANCE, "2025-07-15", H2H_EINVALID,
         "matures on " MATURITY},
        {FMT_VOUCHER_TRANSFER, "2025-06-29", 0, NULL},
        {FMT_VOUCHER_TRANSFER, MATURITY, H2H_EINVALID, "transferred on or"},
        {FMT_VOUCHER_SETTLE, "2025-06-29", H2H_EINVALID,
         "cannot be settled before"},
        {FMT_VOUCHER_SETTLE, MATURITY, 0, NULL},
        {FMT_VOUCHER_SETTLE, "2025-08-01", 0, NULL}, /* late payment */
        {FMT_VOUCHER_FINANCE, "2025-01-09", H2H_EINVALID,
         "before it was issued"},
        {FMT_VOUCHER_FINANCE, "2025-02-30", H2H_EINVALID, "not a date"},
        {FMT_VOUCHER_FINANCE, NULL, H2H_EINVALID, "not a date"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int settle = t[i].op == FMT_VOUCHER_SETTLE;
        int rc = vcheck(&s, t[i].op, "V1", settle ? "CORE" : "T1", t[i].date,
                        t[i].op == FMT_VOUCHER_FINANCE ? "BANK" : "T2",
                        t[i].op == FMT_VOUCHER_TRANSFER ? 100 : 0, "V2", &e);
        CU_ASSERT_EQUAL(rc, t[i].rc);
        if (t[i].words)
            ASSERT_MSG(e, t[i].words);
        if (rc != t[i].rc)
            fprintf(stderr, "dates %zu: rc %d \"%s\"\n", i, rc, e.msg);
    }
    /* Issue: maturity must come after the issue date */
    struct fmt_voucher_op op = {.kind = FMT_VOUCHER_ISSUE,
                                .voucher_id = "V8",
                                .actor = "CORE",
                                .date = "2025-06-30",
                                .counterparty = "T1",
                                .amount = {100, "CNY"},
                                .maturity_date = "2025-06-30"};
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &e), H2H_EINVALID);
    ASSERT_MSG(e, "must be after the issue date");
    op.maturity_date = "2025-07-01";
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &e), 0);
    op.maturity_date = "2025-13-01";
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &e), H2H_EINVALID);
    ASSERT_MSG(e, "not a date");
    op.maturity_date = "2025-07-01";
    memcpy(op.amount.ccy, "XYZ", 4);
    CU_ASSERT_EQUAL(fmt_voucher_check(s.v, s.n, &op, &e), H2H_EINVALID);
    ASSERT_MSG(e, "ISO 4217");
    fmt_voucher_set_release(&s);
}

/* ---- tree check on hand-made damage ------------------------------------ */

static void test_tree_check(void)
{
    struct fmt_voucher_set s;
    struct h2h_err e;
    make_state(&s, FMT_VOUCHER_HELD);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T2",
                        40000000, "V2", &e),
                    0);
    CU_ASSERT_EQUAL(
        vop(&s, FMT_VOUCHER_SIGN, "V2", "T2", OP_DAY, NULL, 0, NULL, &e), 0);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V2", "T2", OP_DAY, "T3",
                        10000000, "V3", &e),
                    0);
    CU_ASSERT(tree_ok(&s));
    CU_ASSERT_EQUAL(fmt_voucher_tree_check(NULL, 0, &e), 0);

    enum {
        LEVEL,
        CCY,
        STATUS_DEAD,
        FIN_NO_BANK,
        PARTIAL_SETTLE,
        NO_PARENT,
        DUP_ID,
        SENDER,
        ROOT_LEVEL,
        PENDING_PARENT,
        MATURITY_DIFF,
        N
    };
    static const char *const words[N] = {
        [LEVEL] = "level",
        [CCY] = "currency",
        [STATUS_DEAD] = "does not add up",
        [FIN_NO_BANK] = "names no bank",
        [PARTIAL_SETTLE] = "settled only in part",
        [NO_PARENT] = "not in the set",
        [DUP_ID] = "appears twice",
        [SENDER] = "was sent by",
        [ROOT_LEVEL] = "must be a root",
        [PENDING_PARENT] = "is pending yet has children",
        [MATURITY_DIFF] = "maturity",
    };
    for (int k = 0; k < N; k++) {
        struct fmt_voucher_set c;
        fmt_voucher_set_init(&c);
        for (size_t i = 0; i < s.n; i++)
            CU_ASSERT_EQUAL_FATAL(fmt_voucher_set_add(&c, &s.v[i], &e), 0);
        CU_ASSERT_EQUAL(fmt_voucher_set_add(&c, &s.v[0], &e), H2H_EDUP);
        CU_ASSERT_EQUAL_FATAL(tree_ok(&c), 1);
        struct fmt_voucher *v1 = &c.v[0], *v2 = &c.v[1], *v3 = &c.v[2];
        switch (k) {
        case LEVEL: v3->level = 4; break;
        case CCY: memcpy(v3->amount.ccy, "USD", 4); break;
        case STATUS_DEAD: /* V2 refused behind V1's back: V1 short */
            v2->status = FMT_VOUCHER_REFUSED;
            v2->remaining = 0;
            v3->status = FMT_VOUCHER_REFUSED;
            v3->remaining = 0;
            break;
        case FIN_NO_BANK: v1->status = FMT_VOUCHER_FINANCED; break;
        case PARTIAL_SETTLE: v1->status = FMT_VOUCHER_SETTLED; break;
        case NO_PARENT:
            free(v3->parent_id);
            v3->parent_id = strdup("V9");
            break;
        case DUP_ID:
            free(v3->id);
            v3->id = strdup("V2");
            break;
        case SENDER:
            free(v3->transferor);
            v3->transferor = strdup("T1");
            break;
        case ROOT_LEVEL: v1->level = 2; break;
        case PENDING_PARENT: v2->status = FMT_VOUCHER_PENDING; break;
        case MATURITY_DIFF:
            free(v3->maturity_date);
            v3->maturity_date = strdup("2025-06-29");
            break;
        }
        int rc = fmt_voucher_tree_check(c.v, c.n, &e);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        ASSERT_MSG(e, words[k]);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "tree damage %d: rc %d \"%s\"\n", k, rc, e.msg);
        fmt_voucher_set_release(&c);
    }
    fmt_voucher_set_release(&s);
}

static void test_holdings(void)
{
    struct fmt_voucher_set s;
    struct h2h_err e;
    struct fmt_voucher_holdings h;
    make_state(&s, FMT_VOUCHER_HELD);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_TRANSFER, "V1", "T1", OP_DAY, "T2",
                        30000000, "V2", &e),
                    0);
    CU_ASSERT_EQUAL(vop(&s, FMT_VOUCHER_ISSUE, "U1", "CORE", ISSUE_DAY, "T2",
                        7000, NULL, &e),
                    0);
    struct fmt_voucher_op op = {.kind = FMT_VOUCHER_ISSUE,
                                .voucher_id = "X1",
                                .actor = "CORE",
                                .date = ISSUE_DAY,
                                .counterparty = "T1",
                                .amount = {999, "USD"},
                                .maturity_date = MATURITY};
    CU_ASSERT_EQUAL(fmt_voucher_apply(&s, &op, &e), 0);

    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T2", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_pending_in, 2);
    CU_ASSERT_EQUAL(h.pending_in, 30000000 + 7000);
    CU_ASSERT_EQUAL(h.n_held, 0);
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T1", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_held, 1);
    CU_ASSERT_EQUAL(h.held, FACE - 30000000);
    CU_ASSERT_EQUAL(h.pending_out, 30000000);
    CU_ASSERT_EQUAL(h.n_pending_in, 0); /* X1 is in USD */
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "T1", "USD", &h, &e), 0);
    CU_ASSERT_EQUAL(h.n_pending_in, 1);
    CU_ASSERT_EQUAL(h.pending_in, 999);
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "CORE", "CNY", &h, &e), 0);
    CU_ASSERT_EQUAL(h.issued_live, FACE + 7000);
    CU_ASSERT_EQUAL(h.n_pending_out, 1); /* U1 */
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, "CORE", "EURO", &h, &e),
                    H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_voucher_holdings(s.v, s.n, NULL, "CNY", &h, &e),
                    H2H_EINVALID);
    CU_ASSERT(tree_ok(&s));
    fmt_voucher_set_release(&s);
}

/* ---- financing request -------------------------------------------------- */

static void set_amt(struct fmt_amount *a, int64_t minor)
{
    a->minor = minor;
    memcpy(a->ccy, "CNY", 4);
}

/* A valid receivable financing request with two invoices. */
static void make_request(struct fmt_scf_request *r)
{
    memset(r, 0, sizeof(*r));
    r->request_id = strdup("RF-2025-0001");
    r->cre_dt_tm = strdup("2025-03-01T09:00:00+08:00");
    r->kind = FMT_SCF_RECEIVABLE;
    r->requestor.name = strdup("上海供应商有限公司");
    r->requestor.org_id = strdup("91310000SUPPLIER1X");
    r->credit_acct.other_id = strdup("310066726018800012345");
    r->bank.bic = strdup("PCBCCNBJ");
    r->product = strdup("YSZK-01");
    r->agreement_ref = strdup("FA-2024-77");
    memcpy(r->ccy, "CNY", 4);
    set_amt(&r->requested, 80000000);
    r->value_date = strdup("2025-03-05");
    r->n_invoices = 2;
    r->invoices = calloc(2, sizeof(*r->invoices));
    for (int i = 0; i < 2; i++) {
        struct fmt_scf_invoice *iv = &r->invoices[i];
        fmt_scf_invoice_init(iv);
        iv->number = strdup(i ? "INV-002" : "INV-001");
        iv->issue_date = strdup("2025-02-01");
        iv->due_date = strdup(i ? "2025-08-01" : "2025-07-01");
        set_amt(&iv->amount, 50000000);
        set_amt(&iv->taxable, 44247788);
        set_amt(&iv->tax, 5752212);
        set_amt(&iv->requested, 40000000);
        iv->buyer.name = strdup("核心企业集团");
        iv->buyer.org_id = strdup("91310000CORE00001X");
        iv->tax_invoice_code = strdup("3100241130");
        iv->line = 10 + i;
    }
}

static int has_rule(const struct fmt_diag *d, const char *rule)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].rule && strcmp(d->v[i].rule, rule) == 0)
            return 1;
    return 0;
}

static void test_request_check(void)
{
    struct fmt_scf_request r;
    struct fmt_diag d;
    make_request(&r);
    fmt_diag_init(&d, "req");
    CU_ASSERT_EQUAL(fmt_scf_request_check(&r, "2025-03-01", &d), 0);
    if (d.n)
        fmt_diag_print(&d, stderr);
    fmt_diag_release(&d);
    fmt_scf_request_release(&r);

    enum {
        NO_ID,
        LONG_ID,
        BAD_CCY,
        NOTHING,
        NO_ACCT,
        NO_BANK,
        BAD_BIC,
        PAST_VD,
        NO_INV,
        DUP_INV,
        DUE_BEFORE_ISSUE,
        DUE_BEFORE_VD,
        OVERDUE,
        INV_CCY,
        TAX_SUM,
        ASK_MORE,
        ASK_BOTH,
        NO_BUYER,
        TAX_CODE,
        SUM_PARTS,
        OVER_TOTAL,
        RF_NO_SUPPLIER,
        RF_NO_ACCT,
        RF_BUYER,
        RF_SELF,
        N
    };
    /* The rule each damage must trip, and the one other rule it may trip
     * as a consequence ("*": many, e.g. a request in an unknown currency). */
    static const struct {
        const char *rule, *also;
    } want[N] = {
        [NO_ID] = {"scf.id", NULL},
        [LONG_ID] = {"scf.id", NULL},
        [BAD_CCY] = {"scf.ccy", "*"},
        [NOTHING] = {"scf.amount", "scf.sum"},
        [NO_ACCT] = {"scf.account", NULL},
        [NO_BANK] = {"scf.bank", NULL},
        [BAD_BIC] = {"scf.bank", NULL},
        [PAST_VD] = {"scf.value_date", NULL},
        [NO_INV] = {"scf.invoices", NULL},
        [DUP_INV] = {"scf.invoice.dup", NULL},
        [DUE_BEFORE_ISSUE] = {"scf.invoice.dates", NULL},
        [DUE_BEFORE_VD] = {"scf.invoice.due", NULL},
        [OVERDUE] = {"scf.invoice.due", NULL},
        [INV_CCY] = {"scf.invoice.amount", "scf.sum"},
        [TAX_SUM] = {"scf.invoice.amount", NULL},
        [ASK_MORE] = {"scf.invoice.requested", "scf.sum"},
        [ASK_BOTH] = {"scf.invoice.requested", NULL},
        [NO_BUYER] = {"scf.invoice.buyer", NULL},
        [TAX_CODE] = {"scf.invoice.tax_code", NULL},
        [SUM_PARTS] = {"scf.sum", NULL},
        [OVER_TOTAL] = {"scf.sum", NULL},
        [RF_NO_SUPPLIER] = {"scf.supplier", NULL},
        [RF_NO_ACCT] = {"scf.supplier", NULL},
        [RF_BUYER] = {"scf.invoice.buyer", NULL},
        [RF_SELF] = {"scf.supplier", NULL},
    };
    for (int k = 0; k < N; k++) {
        make_request(&r);
        struct fmt_scf_invoice *i1 = &r.invoices[0], *i2 = &r.invoices[1];
        const char *today = "2025-03-01";
        switch (k) {
        case NO_ID: FREE_AND(r.request_id); break;
        case LONG_ID:
            free(r.request_id);
            r.request_id = strdup("RF-0123456789-0123456789-0123456789X");
            break;
        case BAD_CCY: memcpy(r.ccy, "XYZ", 4); break;
        case NOTHING: r.requested.minor = 0; break;
        case NO_ACCT: FREE_AND(r.credit_acct.other_id); break;
        case NO_BANK: FREE_AND(r.bank.bic); break;
        case BAD_BIC:
            free(r.bank.bic);
            r.bank.bic = strdup("PCBC");
            break;
        case PAST_VD: today = "2025-03-06"; break;
        case NO_INV: /* release the invoices first: the count owns them */
            for (size_t i = 0; i < r.n_invoices; i++)
                fmt_scf_invoice_release(&r.invoices[i]);
            r.n_invoices = 0;
            break;
        case DUP_INV:
            free(i2->number);
            i2->number = strdup("INV-001");
            break;
        case DUE_BEFORE_ISSUE:
            free(i1->issue_date);
            i1->issue_date = strdup("2025-07-02");
            break;
        case DUE_BEFORE_VD:
            free(i1->due_date);
            i1->due_date = strdup("2025-03-05");
            break;
        case OVERDUE:
            FREE_AND(r.value_date);
            today = "2025-07-01";
            break;
        case INV_CCY: memcpy(i1->amount.ccy, "USD", 4); break;
        case TAX_SUM: i1->tax.minor += 1; break;
        case ASK_MORE: i1->requested.minor = i1->amount.minor + 1; break;
        case ASK_BOTH: i1->requested_rate = 80 * FMT_SCF_RATE_ONE; break;
        case NO_BUYER: fmt_party_release(&i2->buyer); break;
        case TAX_CODE:
            free(i1->tax_invoice_code);
            i1->tax_invoice_code = strdup("31002411300"); /* 11 digits */
            break;
        case SUM_PARTS: i2->requested.minor -= 1; break;
        case OVER_TOTAL:
            i1->requested.ccy[0] = i2->requested.ccy[0] = '\0';
            r.requested.minor = 100000001;
            break;
        case RF_NO_SUPPLIER:
            r.kind = FMT_SCF_REVERSE_FACTORING;
            free(r.requestor.org_id);
            r.requestor.org_id = strdup("91310000CORE00001X");
            break;
        case RF_NO_ACCT:
        case RF_BUYER:
        case RF_SELF:
            r.kind = FMT_SCF_REVERSE_FACTORING;
            free(r.requestor.org_id);
            r.requestor.org_id = strdup("91310000CORE00001X");
            for (int i = 0; i < 2; i++) {
                struct fmt_scf_invoice *iv = &r.invoices[i];
                iv->seller.name = strdup(i ? "二级供应商" : "一级供应商");
                iv->seller.org_id =
                    strdup(i ? "91310000SUPPLIER2X" : "91310000SUPPLIER1X");
                iv->seller_acct.other_id = strdup(i ? "6222001" : "6222002");
            }
            if (k == RF_NO_ACCT) {
                fmt_account_release(&i2->seller_acct);
            } else if (k == RF_BUYER) {
                free(i2->buyer.org_id);
                i2->buyer.org_id = strdup("91310000OTHER0001X");
            } else {
                free(i2->seller.org_id);
                i2->seller.org_id = strdup("91310000CORE00001X");
            }
            break;
        }
        fmt_diag_init(&d, "req");
        int n = fmt_scf_request_check(&r, today, &d);
        CU_ASSERT(n >= 1);
        CU_ASSERT_EQUAL((size_t)n, d.n);
        CU_ASSERT(has_rule(&d, want[k].rule));
        /* Only the damage done, and what follows from it, is reported. */
        int extra = 0;
        for (size_t i = 0; i < d.n; i++)
            if (strcmp(d.v[i].rule, want[k].rule) != 0 &&
                !(want[k].also && (strcmp(want[k].also, "*") == 0 ||
                                   strcmp(d.v[i].rule, want[k].also) == 0)))
                extra++;
        CU_ASSERT_EQUAL(extra, 0);
        if (extra || !has_rule(&d, want[k].rule)) {
            fprintf(stderr, "request case %d wants %s, got:\n", k,
                    want[k].rule);
            fmt_diag_print(&d, stderr);
        }
        fmt_diag_release(&d);
        CU_ASSERT_EQUAL(fmt_scf_request_check(&r, today, NULL), n);
        fmt_scf_request_release(&r);
    }

    /* Reverse factoring done right: suppliers and their accounts named,
     * the buyer left out (it is the requestor). */
    make_request(&r);
    r.kind = FMT_SCF_REVERSE_FACTORING;
    FREE_AND(r.credit_acct.other_id);
    for (int i = 0; i < 2; i++) {
        struct fmt_scf_invoice *iv = &r.invoices[i];
        fmt_party_release(&iv->buyer);
        iv->seller.name = strdup("供应商");
        iv->seller.org_id = strdup(i ? "S2" : "S1");
        iv->seller_acct.other_id = strdup("6222001");
        free(iv->number);
        iv->number = strdup("INV-1"); /* same number, two suppliers */
    }
    fmt_diag_init(&d, "req");
    CU_ASSERT_EQUAL(fmt_scf_request_check(&r, NULL, &d), 0);
    if (d.n)
        fmt_diag_print(&d, stderr);
    fmt_diag_release(&d);
    fmt_scf_request_release(&r);
}

/* ---- financing request status ------------------------------------------ */

static void report(struct fmt_scf_status_report *rep, const char *req,
                   enum fmt_scf_status st, int64_t financed)
{
    fmt_scf_status_report_release(rep);
    rep->status_id = strdup("ST-1");
    rep->orgnl_request_id = strdup(req);
    rep->status = st;
    if (financed >= 0)
        set_amt(&rep->financed, financed);
}

static void test_status_table(void)
{
    /* The whole table: 1 where an edge exists. */
    static const int edge[FMT_SCF_STATUS__COUNT][FMT_SCF_STATUS__COUNT] = {
        /* sub rev app rej fin rep cxl */
        [FMT_SCF_SUBMITTED] = {0, 1, 1, 1, 1, 0, 1},
        [FMT_SCF_UNDER_REVIEW] = {0, 0, 1, 1, 1, 0, 1},
        [FMT_SCF_APPROVED] = {0, 0, 0, 0, 1, 0, 1},
        [FMT_SCF_REJECTED] = {0, 0, 0, 0, 0, 0, 0},
        [FMT_SCF_FINANCED] = {0, 0, 0, 0, 0, 1, 0},
        [FMT_SCF_REPAID] = {0, 0, 0, 0, 0, 0, 0},
        [FMT_SCF_CANCELLED] = {0, 0, 0, 0, 0, 0, 0},
    };
    for (int f = 0; f < FMT_SCF_STATUS__COUNT; f++)
        for (int t = 0; t < FMT_SCF_STATUS__COUNT; t++) {
            CU_ASSERT_EQUAL(fmt_scf_status_can_move(f, t), edge[f][t]);
            if (fmt_scf_status_can_move(f, t) != edge[f][t])
                fprintf(stderr, "edge %s -> %s\n", fmt_scf_status_name(f),
                        fmt_scf_status_name(t));
        }
    CU_ASSERT_EQUAL(fmt_scf_status_can_move(FMT_SCF_STATUS__COUNT, 0), 0);
    CU_ASSERT_EQUAL(fmt_scf_status_can_move(0, FMT_SCF_STATUS__COUNT), 0);
    int finals = 0;
    for (int s = 0; s < FMT_SCF_STATUS__COUNT; s++)
        finals += fmt_scf_status_is_final(s);
    CU_ASSERT_EQUAL(finals, 3);
    CU_ASSERT(fmt_scf_status_is_final(FMT_SCF_REJECTED));
    CU_ASSERT(fmt_scf_status_is_final(FMT_SCF_REPAID));
    CU_ASSERT(fmt_scf_status_is_final(FMT_SCF_CANCELLED));
}

static void test_status_life(void)
{
    struct fmt_scf_request r;
    struct fmt_scf_track t;
    struct fmt_scf_status_report rep;
    struct h2h_err e;
    make_request(&r);
    fmt_scf_status_report_init(&rep);
    CU_ASSERT_EQUAL_FATAL(fmt_scf_track_init(&t, &r, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_SUBMITTED);
    CU_ASSERT_EQUAL(t.requested.minor, 80000000);

    /* Someone else's report is refused */
    report(&rep, "RF-OTHER", FMT_SCF_UNDER_REVIEW, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_SUBMITTED);

    report(&rep, "RF-2025-0001", FMT_SCF_UNDER_REVIEW, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_UNDER_REVIEW);

    /* Approval: never more than asked, and it must say how much */
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 80000001);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    ASSERT_MSG(e, "more than the 800000.00 CNY");
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_UNDER_REVIEW);
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 75000000);
    rep.interest_rate = 345 * (FMT_SCF_RATE_ONE / 100); /* 3.45 % */
    rep.value_date = strdup("2025-03-05");
    rep.maturity_date = strdup("2025-09-05");
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_APPROVED);
    CU_ASSERT_EQUAL(t.approved.minor, 75000000);
    CU_ASSERT_EQUAL(t.interest_rate, 34500000000LL);
    ASSERT_STR(t.value_date, "2025-03-05");
    ASSERT_STR(t.maturity_date, "2025-09-05");

    /* A repeat fills what is missing, refuses contradictions */
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 75000000);
    rep.loan_ref = strdup("LN-88");
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    ASSERT_STR(t.loan_ref, "LN-88");
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 70000000);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 75000000);
    rep.maturity_date = strdup("2025-10-05");
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    ASSERT_MSG(e, "contradicts");
    ASSERT_STR(t.maturity_date, "2025-09-05");

    /* Before disbursement a cancellation may be sent */
    struct fmt_scf_cancel c;
    fmt_scf_cancel_init(&c);
    c.cancel_id = strdup("CX-1");
    c.orgnl_request_id = strdup("RF-2025-0001");
    c.reason = strdup("买方已提前付款"); /* buyer paid early */
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), 0);

    /* Disbursement: not more than approved; the approved amount when the
     * bank does not repeat it */
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, 75000001);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    ASSERT_MSG(e, "more than the 750000.00 CNY");
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, -1);
    rep.value_date = strdup("2025-03-06");
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_FINANCED);
    CU_ASSERT_EQUAL(t.financed.minor, 75000000);
    ASSERT_STR(t.value_date, "2025-03-06"); /* the latest word */

    /* After disbursement: no cancellation, neither sent nor reported */
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), H2H_ESTATE);
    ASSERT_MSG(e, "already disbursed");
    report(&rep, "RF-2025-0001", FMT_SCF_CANCELLED, -1);
    rep.cancel_answer = FMT_SCF_CXL_ACCEPTED;
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_ESTATE);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_FINANCED);

    /* Repayment: notices of what is due change nothing; payments add up */
    struct fmt_scf_repayment rp = {0};
    rp.notice_id = strdup("RP-1");
    rp.loan_ref = strdup("LN-88");
    rp.kind = FMT_SCF_REPAY_DUE;
    set_amt(&rp.amount, 75600000);
    set_amt(&rp.principal, 75000000);
    set_amt(&rp.interest, 600000);
    rp.due_date = strdup("2025-09-05");
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_FINANCED);
    CU_ASSERT_EQUAL(t.repaid.minor, 0);
    rp.interest.minor = 1; /* does not add up */
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), H2H_EINVALID);
    rp.kind = FMT_SCF_REPAY_PAID;
    set_amt(&rp.amount, 30300000);
    set_amt(&rp.principal, 30000000);
    set_amt(&rp.interest, 300000);
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), 0);
    CU_ASSERT_EQUAL(t.repaid.minor, 30000000);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_FINANCED);
    set_amt(&rp.amount, 45000001);
    set_amt(&rp.principal, 45000001);
    rp.interest.ccy[0] = '\0';
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), H2H_EINVALID);
    ASSERT_MSG(e, "exceed the 450000.00 CNY");
    CU_ASSERT_EQUAL(t.repaid.minor, 30000000);
    free(rp.loan_ref);
    rp.loan_ref = strdup("LN-99"); /* another loan */
    set_amt(&rp.amount, 45000000);
    set_amt(&rp.principal, 45000000);
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), H2H_EINVALID);
    free(rp.loan_ref);
    rp.loan_ref = NULL;
    rp.request_id = strdup("RF-2025-0001");
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), 0);
    CU_ASSERT_EQUAL(t.repaid.minor, 75000000);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_REPAID);
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), H2H_ESTATE);

    /* repaid is final */
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_ESTATE);
    ASSERT_MSG(e, "final");

    fmt_scf_repayment_release(&rp);
    fmt_scf_cancel_release(&c);
    fmt_scf_status_report_release(&rep);
    fmt_scf_track_release(&t);
    fmt_scf_request_release(&r);
}

static void test_status_reject_cancel(void)
{
    struct fmt_scf_request r;
    struct fmt_scf_track t;
    struct fmt_scf_status_report rep;
    struct fmt_scf_cancel c;
    struct h2h_err e;
    make_request(&r);
    fmt_scf_status_report_init(&rep);
    fmt_scf_cancel_init(&c);
    c.orgnl_request_id = strdup("RF-2025-0001");

    /* rejected is final, with its reason kept */
    CU_ASSERT_EQUAL_FATAL(fmt_scf_track_init(&t, &r, &e), 0);
    report(&rep, "RF-2025-0001", FMT_SCF_REJECTED, -1);
    rep.reason.code = strdup("ID01");
    rep.reason.addtl_info = strdup("发票已被融资"); /* already financed */
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_REJECTED);
    ASSERT_STR(t.reason.code, "ID01");
    ASSERT_STR(t.reason.addtl_info, "发票已被融资");
    for (int s = 0; s < FMT_SCF_STATUS__COUNT; s++) {
        if (s == FMT_SCF_REJECTED)
            continue;
        report(&rep, "RF-2025-0001", s, 1000);
        CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_ESTATE);
        CU_ASSERT_EQUAL(t.status, FMT_SCF_REJECTED);
    }
    report(&rep, "RF-2025-0001", FMT_SCF_REJECTED, -1); /* a repeat */
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    c.reason = strdup("no longer needed");
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), H2H_ESTATE);
    ASSERT_MSG(e, "final");
    fmt_scf_track_release(&t);

    /* cancellation before disbursement: checks, refusal, acceptance */
    CU_ASSERT_EQUAL_FATAL(fmt_scf_track_init(&t, &r, &e), 0);
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), 0);
    free(c.reason);
    c.reason = strdup("");
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), H2H_EINVALID);
    free(c.reason);
    c.reason = malloc(106 * 3 + 1); /* 106 characters of 3 bytes each */
    c.reason[0] = '\0';
    for (int i = 0; i < 106; i++)
        strcat(c.reason, "撤");
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), H2H_EINVALID);
    c.reason[105 * 3] = '\0'; /* 105 characters, 315 bytes: allowed */
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), 0);
    free(c.orgnl_request_id);
    c.orgnl_request_id = strdup("RF-OTHER");
    CU_ASSERT_EQUAL(fmt_scf_cancel_check(&t, &c, &e), H2H_EINVALID);

    report(&rep, "RF-2025-0001", FMT_SCF_SUBMITTED, -1);
    rep.cancel_answer = FMT_SCF_CXL_REFUSED;
    rep.cancel_reason.prtry = strdup("E1023");
    rep.cancel_reason.addtl_info = strdup("放款处理中"); /* being paid out */
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_SUBMITTED);
    ASSERT_STR(t.reason.prtry, "E1023");
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 80000000);
    rep.cancel_answer = FMT_SCF_CXL_ACCEPTED; /* inconsistent */
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 80000000);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    report(&rep, "RF-2025-0001", FMT_SCF_CANCELLED, -1);
    rep.cancel_answer = FMT_SCF_CXL_ACCEPTED;
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_CANCELLED);
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, 80000000);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_ESTATE);
    /* no repayment on something never disbursed */
    struct fmt_scf_repayment rp = {0};
    rp.request_id = strdup("RF-2025-0001");
    rp.kind = FMT_SCF_REPAY_PAID;
    set_amt(&rp.amount, 100);
    CU_ASSERT_EQUAL(fmt_scf_track_repayment(&t, &rp, &e), H2H_ESTATE);
    ASSERT_MSG(e, "nothing to repay");
    fmt_scf_repayment_release(&rp);
    fmt_scf_track_release(&t);

    /* A bank may disburse straight from submitted; repaid by report */
    CU_ASSERT_EQUAL_FATAL(fmt_scf_track_init(&t, &r, &e), 0);
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    ASSERT_MSG(e, "must name the amount");
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, 60000000);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    report(&rep, "RF-2025-0001", FMT_SCF_REPAID, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_REPAID);
    CU_ASSERT_EQUAL(t.repaid.minor, 60000000);
    fmt_scf_track_release(&t);

    /* under_review cannot go back to submitted; approved not to rejected */
    CU_ASSERT_EQUAL_FATAL(fmt_scf_track_init(&t, &r, &e), 0);
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 1000);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), 0);
    report(&rep, "RF-2025-0001", FMT_SCF_REJECTED, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_ESTATE);
    report(&rep, "RF-2025-0001", FMT_SCF_SUBMITTED, -1);
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_ESTATE);
    CU_ASSERT_EQUAL(t.status, FMT_SCF_APPROVED);
    /* maturity before value date */
    report(&rep, "RF-2025-0001", FMT_SCF_FINANCED, 1000);
    rep.value_date = strdup("2025-03-06");
    rep.maturity_date = strdup("2025-03-05");
    CU_ASSERT_EQUAL(fmt_scf_track_status(&t, &rep, &e), H2H_EINVALID);
    ASSERT_MSG(e, "before the value date");
    CU_ASSERT_EQUAL(t.status, FMT_SCF_APPROVED);
    CU_ASSERT_PTR_NULL(t.value_date);
    fmt_scf_track_release(&t);

    fmt_scf_cancel_release(&c);
    fmt_scf_status_report_release(&rep);
    fmt_scf_request_release(&r);
}

static void test_report_check(void)
{
    struct fmt_scf_request r;
    struct fmt_scf_status_report rep;
    struct h2h_err e;
    make_request(&r);
    fmt_scf_status_report_init(&rep);
    report(&rep, "RF-2025-0001", FMT_SCF_APPROVED, 70000000);
    rep.n_invoices = 2;
    rep.invoices = calloc(2, sizeof(*rep.invoices));
    for (int i = 0; i < 2; i++) {
        fmt_scf_invoice_result_init(&rep.invoices[i]);
        rep.invoices[i].number = strdup(i ? "INV-002" : "INV-001");
        rep.invoices[i].result = FMT_SCF_ITEM_ACCEPTED;
        set_amt(&rep.invoices[i].financed, 35000000);
    }
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), 0);

    rep.invoices[1].financed.minor = 34000000; /* 35 + 34 != 70 */
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_EINVALID);
    ASSERT_MSG(e, "add up to 690000.00 CNY");
    rep.invoices[1].financed.minor = 35000000;

    rep.invoices[0].financed.minor = 40000001; /* more than asked on it */
    rep.financed.minor = 75000001;
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_EINVALID);
    ASSERT_MSG(e, "INV-001");
    rep.invoices[0].financed.minor = 35000000;
    rep.financed.minor = 70000000;

    /* one invoice financed by rate (no amount of its own): the total
     * carries it, so the amounts given may only stay below it */
    rep.invoices[1].financed.ccy[0] = '\0';
    rep.invoices[1].financed.minor = 0;
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), 0);
    rep.financed.minor = 34000000; /* less than the 350000.00 given */
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_EINVALID);
    ASSERT_MSG(e, "add up to 350000.00 CNY");
    rep.financed.minor = 70000000;
    set_amt(&rep.invoices[1].financed, 35000000);

    rep.invoices[1].result = FMT_SCF_ITEM_REJECTED;
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_EINVALID);
    ASSERT_MSG(e, "was rejected");
    rep.invoices[1].financed.minor = 0;
    rep.financed.minor = 35000000;
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), 0);

    free(rep.invoices[1].number);
    rep.invoices[1].number = strdup("INV-404");
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_ENOTFOUND);
    ASSERT_MSG(e, "INV-404");
    free(rep.invoices[1].number);
    rep.invoices[1].number = strdup("INV-002");
    rep.invoices[1].seller.org_id = strdup("SOMEONE-ELSE");
    r.invoices[1].seller.org_id = strdup("91310000SUPPLIER1X");
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_ENOTFOUND);

    free(rep.orgnl_request_id);
    rep.orgnl_request_id = strdup("RF-OTHER");
    CU_ASSERT_EQUAL(fmt_scf_status_report_check(&rep, &r, &e), H2H_EINVALID);

    fmt_scf_status_report_release(&rep);
    fmt_scf_request_release(&r);
}

static void test_release(void)
{
    /* Zeroed structs, NULL, and twice: no crash, no leak (valgrind). */
    struct fmt_scf_request r = {0};
    struct fmt_scf_status_report rep = {0};
    struct fmt_scf_cancel c = {0};
    struct fmt_scf_track t = {0};
    struct fmt_voucher_inquiry q = {0};
    struct fmt_voucher v = {0};
    fmt_scf_request_release(&r);
    fmt_scf_request_release(NULL);
    fmt_scf_status_report_release(&rep);
    fmt_scf_status_report_release(&rep);
    CU_ASSERT_EQUAL(rep.interest_rate, -1);
    CU_ASSERT_EQUAL(rep.n_financed_items, -1);
    fmt_scf_cancel_release(&c);
    CU_ASSERT_EQUAL(c.nb_of_invoices, -1);
    fmt_scf_track_release(&t);
    fmt_scf_track_release(NULL);
    fmt_voucher_inquiry_init(&q);
    q.party = strdup("T1");
    q.maturity_to = strdup("2025-12-31");
    fmt_voucher_inquiry_release(&q);
    CU_ASSERT_PTR_NULL(q.party);
    CU_ASSERT_EQUAL(q.status, -1);
    fmt_voucher_release(&v);
    fmt_voucher_release(NULL);
    fmt_scf_repayment_release(NULL);
    fmt_scf_inquiry_release(NULL);
    struct fmt_scf_inquiry sq = {0};
    sq.request_id = strdup("RF-1");
    fmt_scf_inquiry_release(&sq);
    CU_ASSERT_PTR_NULL(sq.request_id);

    /* A deep copy owns its strings */
    struct fmt_voucher_set s;
    make_state(&s, FMT_VOUCHER_FINANCED);
    struct fmt_voucher cp;
    CU_ASSERT_EQUAL_FATAL(fmt_voucher_copy(&cp, &s.v[0]), 0);
    CU_ASSERT_PTR_NOT_EQUAL(cp.id, s.v[0].id);
    ASSERT_STR(cp.fin_bank, "BANK");
    CU_ASSERT_EQUAL(cp.fin_amount, FACE);
    fmt_voucher_set_release(&s);
    ASSERT_STR(cp.holder, "T1");
    fmt_voucher_release(&cp);
    CU_ASSERT_PTR_NULL(cp.id);
}

static const struct tu_case cases[] = {
    {"names", test_names},
    {"rates", test_rates},
    {"voucher (state, op) verdicts", test_voucher_verdicts},
    {"voucher operation by the wrong party", test_voucher_wrong_party},
    {"voucher whole life", test_voucher_life},
    {"voucher refusals", test_voucher_refusals},
    {"voucher refuse and withdraw", test_voucher_withdraw_refuse},
    {"voucher dates", test_voucher_dates},
    {"voucher tree check", test_tree_check},
    {"voucher holdings", test_holdings},
    {"financing request rules", test_request_check},
    {"financing status table", test_status_table},
    {"financing status life", test_status_life},
    {"financing rejected and cancelled", test_status_reject_cancel},
    {"financing report against request", test_report_check},
    {"release and copy", test_release},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_scf", cases);
}
