/* test_state.c - the message state table (daemon/state.c). */
#include <string.h>

#include "state.h"
#include "testutil.h"

/* The allowed edges, written independently of state.c from the design:
 * every pair not listed here must be refused. */
static const struct {
    enum msg_state from, to;
} allowed[] = {
    {ST_ACCEPTED, ST_RENDERED},
    {ST_ACCEPTED, ST_FAILED},
    {ST_ACCEPTED, ST_HELD},
    {ST_RENDERED, ST_SUBMITTING},
    {ST_RENDERED, ST_HELD},
    {ST_RENDERED, ST_FAILED},
    {ST_SUBMITTING, ST_SUBMITTED},
    {ST_SUBMITTING, ST_DEFERRED},
    {ST_SUBMITTING, ST_FAILED},
    {ST_SUBMITTING, ST_HELD},
    {ST_SUBMITTED, ST_ACKNOWLEDGED},
    {ST_SUBMITTED, ST_REJECTED},
    {ST_SUBMITTED, ST_PARTIALLY_ACCEPTED},
    {ST_SUBMITTED, ST_BOOKED},
    {ST_SUBMITTED, ST_HELD},
    {ST_ACKNOWLEDGED, ST_BOOKED},
    {ST_ACKNOWLEDGED, ST_REJECTED},
    {ST_ACKNOWLEDGED, ST_PARTIALLY_ACCEPTED},
    {ST_PARTIALLY_ACCEPTED, ST_BOOKED},
    {ST_DEFERRED, ST_SUBMITTING},
    {ST_DEFERRED, ST_RENDERED},
    {ST_DEFERRED, ST_FAILED},
    {ST_DEFERRED, ST_HELD},
    {ST_FAILED, ST_RENDERED},
    {ST_FAILED, ST_ACCEPTED},
    {ST_FAILED, ST_HELD},
    {ST_HELD, ST_ACCEPTED},
    {ST_HELD, ST_RENDERED},
    {ST_HELD, ST_DEFERRED},
    {ST_HELD, ST_FAILED},
    {ST_HELD, ST_SUBMITTED},
};

static int listed(enum msg_state f, enum msg_state t)
{
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (allowed[i].from == f && allowed[i].to == t)
            return 1;
    return 0;
}

static void test_names(void)
{
    static const struct {
        enum msg_state s;
        const char *name;
    } cases[] = {
        {ST_ACCEPTED, "accepted"},
        {ST_RENDERED, "rendered"},
        {ST_SUBMITTING, "submitting"},
        {ST_SUBMITTED, "submitted"},
        {ST_ACKNOWLEDGED, "acknowledged"},
        {ST_REJECTED, "rejected"},
        {ST_PARTIALLY_ACCEPTED, "partially_accepted"},
        {ST_BOOKED, "booked"},
        {ST_HELD, "held"},
        {ST_DEFERRED, "deferred"},
        {ST_FAILED, "failed"},
    };
    CU_ASSERT_EQUAL(sizeof(cases) / sizeof(cases[0]), ST__COUNT);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_STRING_EQUAL(state_name(cases[i].s), cases[i].name);
        CU_ASSERT_EQUAL(state_parse(cases[i].name), (int)cases[i].s);
    }
    CU_ASSERT_STRING_EQUAL(state_name(ST__COUNT), "?");
    CU_ASSERT_STRING_EQUAL(state_name((enum msg_state)-1), "?");
    CU_ASSERT_EQUAL(state_parse(NULL), -1);
    CU_ASSERT_EQUAL(state_parse(""), -1);
    CU_ASSERT_EQUAL(state_parse("Accepted"), -1);
    CU_ASSERT_EQUAL(state_parse("accepted "), -1);
    CU_ASSERT_EQUAL(state_parse("partially"), -1);
}

/* All 121 pairs: exactly the listed ones are allowed. */
static void test_table(void)
{
    int n_allowed = 0;
    for (int f = 0; f < ST__COUNT; f++)
        for (int t = 0; t < ST__COUNT; t++) {
            int want = listed((enum msg_state)f, (enum msg_state)t);
            int got = state_can_transition((enum msg_state)f,
                                           (enum msg_state)t);
            if (got != want)
                fprintf(stderr, "\n  %s -> %s: got %d want %d\n",
                        state_name((enum msg_state)f),
                        state_name((enum msg_state)t), got, want);
            CU_ASSERT_EQUAL(got, want);
            n_allowed += got;
        }
    CU_ASSERT_EQUAL(n_allowed, (int)(sizeof(allowed) / sizeof(allowed[0])));
    CU_ASSERT_FALSE(state_can_transition(ST__COUNT, ST_ACCEPTED));
    CU_ASSERT_FALSE(state_can_transition(ST_ACCEPTED, ST__COUNT));
    /* Nothing may ever enter submitting except from rendered/deferred. */
    for (int f = 0; f < ST__COUNT; f++)
        if (f != ST_RENDERED && f != ST_DEFERRED)
            CU_ASSERT_FALSE(state_can_transition((enum msg_state)f,
                                                 ST_SUBMITTING));
}

static void test_terminal(void)
{
    for (int s = 0; s < ST__COUNT; s++) {
        int want = s == ST_REJECTED || s == ST_BOOKED;
        CU_ASSERT_EQUAL(state_is_terminal((enum msg_state)s), want);
        int out = 0;
        for (int t = 0; t < ST__COUNT; t++)
            out += state_can_transition((enum msg_state)s, (enum msg_state)t);
        /* terminal <=> no way out */
        CU_ASSERT_EQUAL(out == 0, want);
    }
}

/* Every state is reachable from accepted. */
static void test_reachable(void)
{
    int seen[ST__COUNT] = {0};
    seen[ST_ACCEPTED] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int f = 0; f < ST__COUNT; f++)
            for (int t = 0; t < ST__COUNT && seen[f]; t++)
                if (!seen[t] && state_can_transition((enum msg_state)f,
                                                     (enum msg_state)t))
                    seen[t] = changed = 1;
    }
    for (int s = 0; s < ST__COUNT; s++)
        CU_ASSERT_EQUAL(seen[s], 1);
}

int main(void)
{
    static const struct tu_case cases[] = {
        {"names round-trip", test_names},
        {"transition table, all pairs", test_table},
        {"terminal states", test_terminal},
        {"all states reachable", test_reachable},
        {NULL, NULL},
    };
    return tu_main("state", cases);
}
