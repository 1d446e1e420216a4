/*
 * calendar.h - business-day calendars: weekends, holidays, and the
 * weekend days that are working days (the Chinese 调休).
 *
 * A calendar is a small text file (etc/calendars/CN.cal,
 * TARGET2.cal), UTF-8, one directive a line:
 *
 *   # a comment: '#' at the start of a line or after a blank, to the end
 *   weekend = sat sun
 *   valid 2026-01-01 2027-12-31
 *   provisional 2027-01-01 2027-12-31  official notice not yet published
 *   holiday 2026-02-16  春节
 *   workday 2026-02-14  春节调休上班
 *
 *   weekend      the weekdays (mon tue wed thu fri sat sun, or the full
 *                names) that are not business days; at most once, default
 *                "sat sun"; "weekend =" alone means none.
 *   valid        required, exactly once: the first and last date the file
 *                speaks for.  Outside it the calendar knows nothing, and
 *                says so (H2H_ENOTFOUND) instead of guessing.
 *   holiday      a date that is not a business day; the rest of the line
 *                describes it (for logs).  A holiday may fall on a weekend.
 *   workday      a weekend date that is a business day all the same.
 *   provisional  a range inside `valid` whose data is not yet confirmed
 *                (computed, not from the official source); the rest of
 *                the line says what to check.  Lookups answer as usual;
 *                cal_provisional lets the caller warn.
 *
 * Every date is YYYY-MM-DD and must be real; holidays and workdays must
 * lie inside `valid`, a date may be listed only once, and a workday must
 * be a weekend day.  `valid` may span at most 200 years.  Errors name the
 * file and line: "CN.cal:12: bad date \"2026-02-30\"" (H2H_EPARSE for
 * what cannot be read, H2H_EINVALID for what breaks a rule).
 *
 * Days are counted as days since 1970-01-01 (tz_days_from_civil in tz.h).
 *
 * Ownership: cal_load/cal_parse return a struct cal the caller frees with
 * cal_free.  A loaded calendar is immutable: any thread may read it.
 */
#ifndef H2H_CALENDAR_H
#define H2H_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"

#define CAL_FILE_MAX (1024 * 1024)
#define CAL_LINE_MAX 4096
#define CAL_SPAN_MAX_DAYS 73050 /* 200 years */

struct cal;

/* Load and check the calendar file at path.  Its name (cal_name) is the
 * file name without directory and ".cal".  0, H2H_EPARSE, H2H_EINVALID,
 * H2H_ETOOBIG, H2H_ENOTFOUND (no file), H2H_ENOMEM or -errno. */
int cal_load(const char *path, struct cal **out, struct h2h_err *err);

/* The same from text in memory; label stands for the path in messages
 * and names the calendar. */
int cal_parse(const char *text, size_t len, const char *label, struct cal **out,
              struct h2h_err *err);

void cal_free(struct cal *c); /* NULL ok */

const char *cal_name(const struct cal *c);

/* The `valid` range, first and last day inclusive. */
void cal_valid_range(const struct cal *c, int64_t *first, int64_t *last);

/*
 * 1 if y-m-d is a business day, 0 if not (weekend or holiday),
 * H2H_ENOTFOUND if it is outside the calendar's `valid` range,
 * H2H_EINVALID if it is not a date.
 */
int cal_is_business_day(const struct cal *c, int y, int m, int d);
int cal_is_business_day_n(const struct cal *c, int64_t day);

enum cal_day_kind {
    CAL_BUSINESS = 0, /* an ordinary working day */
    CAL_WEEKEND = 1,
    CAL_HOLIDAY = 2, /* listed as holiday (whatever weekday it is) */
    CAL_WORKDAY = 3, /* a weekend day listed as workday: business day */
};

/* What the file says about day: a cal_day_kind (>= 0), and the line's
 * description in *desc (NULL ok; "" when there is none), or
 * H2H_ENOTFOUND outside `valid`. */
int cal_day_kind(const struct cal *c, int64_t day, const char **desc);

/* 1 if day lies in a `provisional` range (its note in *note, NULL ok),
 * else 0. */
int cal_provisional(const struct cal *c, int64_t day, const char **note);

/*
 * The first business day strictly after (next) or before (prev) day.
 * 0, or H2H_ENOTFOUND with a message when the walk leaves `valid`
 * before finding one: the calendar has run out.
 */
int cal_next_business_day(const struct cal *c, int64_t day, int64_t *out,
                          struct h2h_err *err);
int cal_prev_business_day(const struct cal *c, int64_t day, int64_t *out,
                          struct h2h_err *err);

/*
 * n business days after day (n > 0: the n-th business day strictly
 * after day; n < 0: before it).  n == 0 gives day itself when it is a
 * business day, else the next one (the "following" convention).  Errors
 * as cal_next_business_day.
 */
int cal_add_business_days(const struct cal *c, int64_t day, int n, int64_t *out,
                          struct h2h_err *err);

#endif
