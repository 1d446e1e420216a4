/*
 * cron.h - schedule expressions: when does a job run next.
 *
 * Grammar (case-insensitive; blanks are spaces or tabs):
 *
 *   expr      = cron | interval | macro
 *   cron      = minute hour day-of-month month day-of-week
 *   field     = item *("," item)
 *   item      = ("*" | value | value "-" value) ["/" step]
 *   minute 0-59, hour 0-23, day-of-month 1-31,
 *   month 1-12 or jan-dec, day-of-week 0-7 or sun-sat (0 and 7 are
 *   Sunday; a range may end in "sun", as in mon-sun)
 *   interval  = "every" N unit, unit "s", "m" or "h" (blanks allowed
 *               between the parts: "every 15m", "every 2 h"); 1s to 24h
 *   macro     = "@hourly" (0 * * * *), "@daily" / "@midnight" (0 0 * * *),
 *               "@weekly" (0 0 * * 0), "@monthly" (0 0 1 * *),
 *               "@yearly" / "@annually" (0 0 1 1 *)
 *
 * As in Vixie cron and cronie: "value/step" means value-max/step; a step
 * must be 1 up to the field's span; when both day-of-month and
 * day-of-week are restricted (neither field starts with '*') a day
 * matches if EITHER matches ("0 9 1 * mon": the 1st and every Monday),
 * otherwise both must.  An expression that can never run (0 0 30 2 *) is
 * refused.
 *
 * Evaluation (cron_next) is in the civil time of the zone given:
 *   - A run whose civil time is skipped by a forward DST change
 *     (Europe/Berlin 2026-03-29 02:30) happens at the first instant
 *     after the gap (03:00 CEST), once however many runs fell into it.
 *   - In a repeated hour (2026-10-25 02:00-02:59 happens in CEST, then
 *     again in CET) a job runs once, in the first pass, unless its hour
 *     field is exactly "*": an hourly or more frequent job ("0-59/15 * *
 *     * *", "5 * * * *") keeps its rhythm through both passes.
 * Intervals ("every 15m") do not depend on the zone: they run whenever
 * the Unix time is a multiple of the interval (every 15 minutes on the
 * quarter hour UTC; in zones with offsets that are not whole hours,
 * such as +05:30, "every 1h" runs at half past the local hour; use
 * "0 * * * *" for the local hour).
 *
 * Ownership: cron_parse returns a struct cron the caller frees with
 * cron_free.  A parsed expression is immutable: any thread may use it.
 */
#ifndef H2H_CRON_H
#define H2H_CRON_H

#include <stdint.h>
#include <time.h>

#include "calendar.h"
#include "h2h_err.h"
#include "tz.h"

#define CRON_EXPR_MAX 256

struct cron;

/* 0, or H2H_EPARSE with a message naming the bad field ("cron \"...\":
 * hour field \"25\": 25 is out of range 0-23"), H2H_EINVALID (never
 * runs), H2H_ENOMEM. */
int cron_parse(const char *expr, struct cron **out, struct h2h_err *err);

void cron_free(struct cron *c); /* NULL ok */

/* The expression as given. */
const char *cron_text(const struct cron *c);

/* The interval in seconds for "every ...", 0 for other expressions. */
int64_t cron_interval(const struct cron *c);

/*
 * The next run strictly after `after`, evaluated in zone z's civil time
 * (z NULL: UTC).  0, or H2H_EINVALID (after outside
 * TZ_TIME_MIN..TZ_TIME_MAX), H2H_ENOTFOUND (no run before year 9999).
 */
int cron_next(const struct cron *c, const struct tz *z, time_t after,
              time_t *next);

/*
 * As cron_next, skipping runs whose civil date in z is not a business
 * day of cal (cal NULL: no filter).  After a non-business day the search
 * resumes at the start (civil midnight) of the next business day.  0, or
 * H2H_ENOTFOUND with a message when the calendar has run out (a run
 * would fall on a date outside its `valid` range): the caller should log
 * that, not guess.  Other errors as cron_next.
 */
int cron_next_business(const struct cron *c, const struct tz *z,
                       const struct cal *cal, time_t after, time_t *next,
                       struct h2h_err *err);

#endif
