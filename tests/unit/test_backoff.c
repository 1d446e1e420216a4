/*
 * test_backoff.c - retry delays and exhaustion.
 */
#include <stdint.h>

#include "backoff.h"
#include "testutil.h"

static const struct cfg_retry base = {
    .initial_ms = 1000, .max_ms = 60000, .factor = 2.0, .jitter = 0.0,
    .max_attempts = 5, .max_age_s = 3600,
};

static void test_growth_and_cap(void)
{
    static const struct {
        int attempt;
        int64_t want;
    } t[] = {
        {0, 1000}, {1, 1000}, {2, 2000}, {3, 4000}, {4, 8000}, {5, 16000},
        {6, 32000}, {7, 60000}, {8, 60000}, {100, 60000}, {2000000000, 60000},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint64_t rng = 42;
        CU_ASSERT_EQUAL(backoff_delay_ms(&base, t[i].attempt, &rng),
                        t[i].want);
        CU_ASSERT_EQUAL(backoff_delay_ms(&base, t[i].attempt, NULL),
                        t[i].want);
    }
    struct cfg_retry r = base;
    r.factor = 1.5;
    CU_ASSERT_EQUAL(backoff_delay_ms(&r, 3, NULL), 2250);
    r.factor = 1.0;
    CU_ASSERT_EQUAL(backoff_delay_ms(&r, 50, NULL), 1000);
    /* huge values do not overflow */
    r.factor = 10.0;
    r.max_ms = INT64_C(1) << 60;
    CU_ASSERT_EQUAL(backoff_delay_ms(&r, 1000000, NULL), r.max_ms);
}

static void test_jitter_bounds(void)
{
    struct cfg_retry r = base;
    r.jitter = 0.2;
    uint64_t rng = 12345;
    for (int attempt = 1; attempt <= 9; attempt++) {
        int64_t nominal = backoff_delay_ms(&r, attempt, NULL);
        int64_t lo = INT64_MAX, hi = 0;
        double sum = 0;
        const int draws = 20000;
        for (int i = 0; i < draws; i++) {
            int64_t d = backoff_delay_ms(&r, attempt, &rng);
            CU_ASSERT(d >= 0);
            CU_ASSERT(d <= (int64_t)(r.max_ms * 1.2));
            CU_ASSERT(d >= (int64_t)(nominal * 0.8) - 1);
            CU_ASSERT(d <= (int64_t)(nominal * 1.2));
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            sum += (double)d;
        }
        /* the draws spread over (nearly) the whole band, centred */
        CU_ASSERT(lo < nominal * 0.82);
        CU_ASSERT(hi > nominal * 1.18);
        double mean = sum / draws;
        CU_ASSERT(mean > nominal * 0.99 && mean < nominal * 1.01);
    }
    /* full jitter never goes negative */
    r.jitter = 1.0;
    for (int i = 0; i < 10000; i++) {
        int64_t d = backoff_delay_ms(&r, 3, &rng);
        CU_ASSERT(d >= 0 && d <= 8000);
    }
}

static void test_deterministic(void)
{
    struct cfg_retry r = base;
    r.jitter = 0.5;
    uint64_t a = 7, b = 7, c = 8;
    int same = 1, differs = 0;
    for (int i = 0; i < 100; i++) {
        int64_t x = backoff_delay_ms(&r, 4, &a);
        int64_t y = backoff_delay_ms(&r, 4, &b);
        int64_t z = backoff_delay_ms(&r, 4, &c);
        same &= x == y;
        differs |= x != z;
    }
    CU_ASSERT(same);
    CU_ASSERT(differs);
    /* unit draws stay in [0, 1) */
    uint64_t s = 0;
    for (int i = 0; i < 100000; i++) {
        double u = backoff_rand_unit(&s);
        CU_ASSERT(u >= 0.0 && u < 1.0);
    }
}

static void test_exhausted(void)
{
    static const struct {
        const char *label;
        int max_attempts;
        int64_t max_age_s;
        int attempts;
        int64_t age_ms;
        int want;
    } t[] = {
        {"fresh", 5, 3600, 0, 0, 0},
        {"below count", 5, 3600, 4, 1000, 0},
        {"count reached", 5, 3600, 5, 1000, 1},
        {"count passed", 5, 3600, 9, 1000, 1},
        {"age just below", 5, 3600, 1, 3599999, 0},
        {"age reached", 5, 3600, 1, 3600000, 1},
        {"no count limit", 0, 3600, 1000, 1000, 0},
        {"no count limit, old", 0, 3600, 1000, 3600000, 1},
        {"no age limit", 5, 0, 1, INT64_C(1) << 40, 0},
        {"no age limit, count", 5, 0, 5, 0, 1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cfg_retry r = base;
        r.max_attempts = t[i].max_attempts;
        r.max_age_s = t[i].max_age_s;
        int64_t first = INT64_C(1764300000000);
        int got = backoff_exhausted(&r, t[i].attempts, first,
                                    first + t[i].age_ms);
        if (got != t[i].want)
            fprintf(stderr, "case \"%s\": got %d\n", t[i].label, got);
        CU_ASSERT_EQUAL(got, t[i].want);
    }
}

static const struct tu_case cases[] = {
    {"growth and cap", test_growth_and_cap},
    {"jitter bounds", test_jitter_bounds},
    {"deterministic", test_deterministic},
    {"exhausted", test_exhausted},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("backoff", cases);
}
