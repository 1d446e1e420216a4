/*
 * test_fmt_stmtcheck.c - the statement checker (opening + entries ==
 * closing) on statements built in code, independent of any format.
 */
#include <stdlib.h>
#include <string.h>

#include "stmtcheck.h"
#include "testutil.h"

struct ent {
    int64_t minor;
    int credit, reversal;
    const char *sts;
    const char *ccy; /* NULL: EUR */
};

struct bal {
    const char *type;
    int64_t minor;
    const char *ccy;
};

struct ccase {
    const char *label;
    struct bal bals[4];
    struct ent ents[6];
    /* expectations */
    int balanced, unbalanced, no_balances;
    const char *rule; /* rule of the one problem expected, NULL: none */
    const char *msg;  /* fragment of its message */
};

static const struct ccase cases[] = {
    {"adds up",
     {{"OPBD", 10000, "EUR"}, {"CLBD", 12500, "EUR"}},
     {{5000, 1, 0, "BOOK", NULL}, {2500, 0, 0, "BOOK", NULL}},
     1,
     0,
     0,
     NULL,
     NULL},
    {"does not add up",
     {{"OPBD", 1815, "EUR"}, {"CLBD", 2705, "EUR"}},
     {{885, 1, 0, "BOOK", NULL}},
     0,
     1,
     0,
     "stmt.balance",
     "the bank's own figures do not add up: opening 18.15 EUR + entries "
     "8.85 EUR != closing 27.05 EUR (difference 0.05 EUR)"},
    {"negative opening and debit entries",
     {{"OPBD", -5000, "EUR"}, {"CLBD", -8000, "EUR"}},
     {{1000, 0, 0, "BOOK", NULL}, {2000, 0, 0, NULL, NULL}},
     1,
     0,
     0,
     NULL,
     NULL},
    {"pending and info entries are left out",
     {{"OPBD", 0, "EUR"}, {"CLBD", 100, "EUR"}},
     {{100, 1, 0, "BOOK", NULL},
      {999, 1, 0, "PDNG", NULL},
      {777, 0, 0, "INFO", NULL}},
     1,
     0,
     0,
     NULL,
     NULL},
    {"PRCD serves as opening",
     {{"PRCD", 10000, "EUR"}, {"CLBD", 4700, "EUR"}},
     {{5300, 0, 0, "BOOK", NULL}},
     1,
     0,
     0,
     NULL,
     NULL},
    {"OPBD wins over PRCD, last CLBD wins",
     {{"PRCD", 1, "EUR"},
      {"OPBD", 100, "EUR"},
      {"CLBD", 5, "EUR"},
      {"CLBD", 150, "EUR"}},
     {{50, 1, 0, "BOOK", NULL}},
     1,
     0,
     0,
     NULL,
     NULL},
    {"reversal of a credit is booked as a debit",
     {{"OPBD", 1000, "EUR"}, {"CLBD", 700, "EUR"}},
     {{300, 0, 1, "BOOK", NULL}},
     1,
     0,
     0,
     NULL,
     NULL},
    {"reversal signed the other way is reported with a hint",
     {{"OPBD", 1000, "EUR"}, {"CLBD", 1300, "EUR"}},
     {{300, 0, 1, "BOOK", NULL}},
     0,
     1,
     0,
     "stmt.balance",
     "it would add up if the 1 reversal entry were counted the other way "
     "round"},
    {"only an opening balance",
     {{"OPBD", 1000, "EUR"}, {"CLAV", 1000, "EUR"}},
     {{300, 0, 0, "BOOK", NULL}},
     0,
     0,
     1,
     NULL,
     NULL},
    {"no balances at all",
     {{NULL, 0, NULL}},
     {{300, 0, 0, "BOOK", NULL}},
     0,
     0,
     1,
     NULL,
     NULL},
    {"balances in two currencies",
     {{"OPBD", 1815, "EUR"}, {"CLBD", -2700, "SEK"}},
     {{885, 1, 0, "BOOK", NULL}},
     0,
     1,
     0,
     "stmt.ccy",
     "the opening balance is in EUR but the closing balance is in SEK"},
    {"entry in another currency",
     {{"OPBD", 100, "EUR"}, {"CLBD", 200, "EUR"}},
     {{100, 1, 0, "BOOK", "USD"}},
     0,
     1,
     0,
     "stmt.ccy",
     "booked entries are in USD but the balances are in EUR"},
    {"JPY has no decimals",
     {{"OPBD", 1000, "JPY"}, {"CLBD", 999, "JPY"}},
     {{2, 1, 0, "BOOK", "JPY"}},
     0,
     1,
     0,
     "stmt.balance",
     "opening 1000 JPY + entries 2 JPY != closing 999 JPY (difference -3 "
     "JPY)"},
};

/* A next sink that counts what it receives and can abort. */
struct counter {
    int begin, stmt_begin, entry, stmt_end, end;
    int abort_at_entry;
};

static int c_begin(void *ctx, const struct fmt_stmt_doc *d)
{
    (void)d;
    ((struct counter *)ctx)->begin++;
    return 0;
}
static int c_stmt_begin(void *ctx, const struct fmt_stmt *s)
{
    (void)s;
    ((struct counter *)ctx)->stmt_begin++;
    return 0;
}
static int c_entry(void *ctx, const struct fmt_stmt *s,
                   const struct fmt_entry *e)
{
    struct counter *c = ctx;
    (void)s;
    (void)e;
    c->entry++;
    if (c->abort_at_entry && c->entry == c->abort_at_entry)
        return H2H_ECANCELED;
    return 0;
}
static int c_stmt_end(void *ctx, const struct fmt_stmt *s)
{
    (void)s;
    ((struct counter *)ctx)->stmt_end++;
    return 0;
}
static int c_end(void *ctx, const struct fmt_stmt_doc *d)
{
    (void)d;
    ((struct counter *)ctx)->end++;
    return 0;
}

/* Feed one case's statement through sink; returns the first negative rc. */
static int feed(const struct ccase *c, const struct fmt_stmt_sink *s)
{
    struct fmt_stmt_doc doc = {0};
    struct fmt_stmt st = {0};
    struct fmt_balance bals[4];
    int rc;
    memset(bals, 0, sizeof(bals));
    st.id = (char *)c->label;
    st.line = 7;
    for (size_t i = 0; i < 4 && c->bals[i].type; i++) {
        snprintf(bals[i].type, sizeof(bals[i].type), "%s", c->bals[i].type);
        bals[i].amt.minor = c->bals[i].minor;
        snprintf(bals[i].amt.ccy, sizeof(bals[i].amt.ccy), "%s",
                 c->bals[i].ccy);
        st.n_bals++;
    }
    st.bals = bals;
    if ((rc = s->begin(s->ctx, &doc)) < 0 ||
        (rc = s->stmt_begin(s->ctx, &st)) < 0)
        return rc;
    for (size_t i = 0; i < 6 && c->ents[i].minor; i++) {
        struct fmt_entry e = {0};
        e.amt.minor = c->ents[i].minor;
        snprintf(e.amt.ccy, sizeof(e.amt.ccy), "%s",
                 c->ents[i].ccy ? c->ents[i].ccy : "EUR");
        e.credit = c->ents[i].credit;
        e.reversal = c->ents[i].reversal;
        e.sts = (char *)c->ents[i].sts;
        if ((rc = s->entry(s->ctx, &st, &e)) < 0)
            return rc;
    }
    if ((rc = s->stmt_end(s->ctx, &st)) < 0)
        return rc;
    return s->end(s->ctx, &doc);
}

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ccase *c = &cases[i];
        struct fmt_diag diag;
        struct counter cnt = {0};
        struct fmt_stmt_sink next = {c_begin,    c_stmt_begin, c_entry,
                                     c_stmt_end, c_end,        &cnt};
        fmt_diag_init(&diag, "case");
        struct fmt_stmt_checker *ck = fmt_stmt_checker_new(&diag, &next);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
        struct fmt_stmt_sink s = fmt_stmt_checker_sink(ck);
        CU_ASSERT_EQUAL(feed(c, &s), 0);
        int n = fmt_stmt_checker_finish(ck);
        struct fmt_stmt_check_results res;
        fmt_stmt_checker_results(ck, &res);
        int ok = res.statements == 1 && res.balanced == (size_t)c->balanced &&
                 res.unbalanced == (size_t)c->unbalanced &&
                 res.no_balances == (size_t)c->no_balances &&
                 res.checked == (size_t)(c->balanced + c->unbalanced) &&
                 n == (c->rule ? 1 : 0) && diag.n == (size_t)n &&
                 res.problems == (size_t)n;
        if (ok && c->rule) {
            ok = !strcmp(diag.v[0].rule, c->rule) &&
                 strstr(diag.v[0].msg, c->msg) != NULL && diag.v[0].line == 7 &&
                 diag.v[0].where && strstr(diag.v[0].where, c->label);
        }
        if (!ok) {
            fprintf(stderr,
                    "\ncase '%s': n=%d balanced=%zu unbalanced=%zu "
                    "nobal=%zu\n",
                    c->label, n, res.balanced, res.unbalanced, res.no_balances);
            fmt_diag_print(&diag, stderr);
        }
        CU_ASSERT_TRUE(ok);
        /* the tee passed every callback on */
        CU_ASSERT_EQUAL(cnt.begin, 1);
        CU_ASSERT_EQUAL(cnt.stmt_begin, 1);
        CU_ASSERT_EQUAL(cnt.stmt_end, 1);
        CU_ASSERT_EQUAL(cnt.end, 1);
        int ents = 0;
        for (size_t k = 0; k < 6 && c->ents[k].minor; k++)
            ents++;
        CU_ASSERT_EQUAL(cnt.entry, ents);
        fmt_stmt_checker_free(ck);
        fmt_diag_release(&diag);
    }
}

static void test_abort_passes_through(void)
{
    struct counter cnt = {.abort_at_entry = 1};
    struct fmt_stmt_sink next = {c_begin,    c_stmt_begin, c_entry,
                                 c_stmt_end, c_end,        &cnt};
    struct fmt_stmt_checker *ck = fmt_stmt_checker_new(NULL, &next);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    struct fmt_stmt_sink s = fmt_stmt_checker_sink(ck);
    CU_ASSERT_EQUAL(feed(&cases[0], &s), H2H_ECANCELED);
    CU_ASSERT_EQUAL(cnt.stmt_end, 0);
    fmt_stmt_checker_free(ck);
}

static void test_no_next_no_diag(void)
{
    /* a checker without next sink and without diag still counts */
    struct fmt_stmt_checker *ck = fmt_stmt_checker_new(NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
    struct fmt_stmt_sink s = fmt_stmt_checker_sink(ck);
    CU_ASSERT_EQUAL(feed(&cases[1], &s), 0);
    CU_ASSERT_EQUAL(feed(&cases[0], &s), 0);
    struct fmt_stmt_check_results res;
    fmt_stmt_checker_results(ck, &res);
    CU_ASSERT_EQUAL(res.statements, 2);
    CU_ASSERT_EQUAL(res.balanced, 1);
    CU_ASSERT_EQUAL(res.unbalanced, 1);
    CU_ASSERT_EQUAL(fmt_stmt_checker_finish(ck), 1);
    fmt_stmt_checker_free(ck);
    fmt_stmt_checker_free(NULL);
    fmt_stmt_checker_results(NULL, &res);
    CU_ASSERT_EQUAL(res.statements, 0);
}

int main(void)
{
    static const struct tu_case tcases[] = {
        {"balance cases", test_cases},
        {"sink abort passes through", test_abort_passes_through},
        {"no next sink, no diag", test_no_next_no_diag},
        {NULL, NULL},
    };
    return tu_main("fmt_stmtcheck", tcases);
}
