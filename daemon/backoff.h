/*
 * backoff.h - retry delays: exponential backoff with a cap and jitter.
 *
 * delay(attempt) = min(initial * factor^(attempt-1), max), then spread by
 * +/- jitter (a fraction, drawn uniformly) so that many messages failing
 * together do not retry together.  The result is never negative and never
 * above max * (1 + jitter).
 *
 * Randomness comes from a small deterministic PRNG (splitmix64) whose state
 * the caller owns and seeds, so tests are reproducible and the daemon
 * needs no global state.
 *
 * Pure functions over the caller's state: any thread, as long as one
 * rng_state is not shared between threads.
 */
#ifndef H2H_BACKOFF_H
#define H2H_BACKOFF_H

#include <stdint.h>

#include "config.h"

/* Delay before retry number `attempt` (1-based: the delay after the first
 * failed attempt is attempt 1; values < 1 count as 1).  rng_state NULL:
 * no jitter. */
int64_t backoff_delay_ms(const struct cfg_retry *r, int attempt,
                         uint64_t *rng_state);

/* 1 when no further attempt should be made: `attempts` already made
 * reached max_attempts (if > 0), or the first attempt lies max_age_s or
 * more in the past (if > 0).  Times in milliseconds on the same clock. */
int backoff_exhausted(const struct cfg_retry *r, int attempts,
                      int64_t first_attempt_ms, int64_t now_ms);

/* Next value of the splitmix64 generator; advances *state. */
uint64_t backoff_rand(uint64_t *state);

/* A uniform double in [0, 1) from the same generator. */
double backoff_rand_unit(uint64_t *state);

#endif
