/*
 * backoff.c - see backoff.h.
 */
#include "backoff.h"

#include <math.h> /* isfinite: a macro, no libm */

uint64_t backoff_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double backoff_rand_unit(uint64_t *state)
{
    /* 53 random bits fill a double's mantissa exactly. */
    return (double)(backoff_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t backoff_delay_ms(const struct cfg_retry *r, int attempt,
                         uint64_t *rng_state)
{
    double initial = r->initial_ms > 0 ? (double)r->initial_ms : 0.0;
    double max = r->max_ms > 0 ? (double)r->max_ms : 0.0;
    double factor = r->factor >= 1.0 ? r->factor : 1.0;
    double jitter = r->jitter > 0.0 ? r->jitter : 0.0;
    if (!isfinite(factor) || !isfinite(jitter))
        factor = 1.0, jitter = 0.0;
    if (jitter > 1.0)
        jitter = 1.0;
    if (attempt < 1)
        attempt = 1;
    /* Grown in double and capped on the way: factor^attempt overflows
     * int64 long before attempt gets large, and the loop stops at the cap
     * (no libm needed). */
    double d = initial;
    for (int i = 1; i < attempt && d < max && factor > 1.0; i++)
        d *= factor;
    if (!(d <= max))
        d = max;
    if (rng_state && jitter > 0.0) {
        double u = backoff_rand_unit(rng_state) * 2.0 - 1.0; /* [-1, 1) */
        d *= 1.0 + jitter * u;
    }
    double hi = max * (1.0 + jitter);
    if (d > hi)
        d = hi;
    if (!(d >= 0.0))
        d = 0.0;
    return (int64_t)d;
}

int backoff_exhausted(const struct cfg_retry *r, int attempts,
                      int64_t first_attempt_ms, int64_t now_ms)
{
    if (r->max_attempts > 0 && attempts >= r->max_attempts)
        return 1;
    if (r->max_age_s > 0 && now_ms - first_attempt_ms >= r->max_age_s * 1000)
        return 1;
    return 0;
}
