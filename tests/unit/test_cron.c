/*
 * test_cron.c - schedule expressions: parsing with messages that name the
 * field, next-run tables (month ends, leap days, Vixie's day rule), DST in
 * Europe/Berlin and America/New_York, intervals, the business-day filter
 * with the shipped CN and TARGET2 calendars, and a brute-force check of
 * hundreds of random expressions against a minute-by-minute search.
 *
 * Expected instants are written in UTC and converted with glibc's timegm,
 * so they do not depend on the tz module under test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "cron.h"
#include "testutil.h"
#include "tz.h"

/* "YYYY-MM-DDTHH:MM[:SS]" in UTC. */
static time_t utc(const char *iso)
{
    struct tm tm = {0};
    int sec = 0;
    int n = sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec);
    CU_ASSERT_FATAL(n >= 5);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = sec;
    return timegm(&tm);
}

static void show(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct cron *parse_ok(const char *expr)
{
    struct cron *c = NULL;
    struct h2h_err err = {0};
    int rc = cron_parse(expr, &c, &err);
    if (rc != 0)
        fprintf(stderr, "cron_parse(%s): %s\n", expr, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return c;
}

static struct tz *zone(const char *name)
{
    struct tz *z = NULL;
    CU_ASSERT_EQUAL_FATAL(tz_load(name, &z, NULL), 0);
    return z;
}

/* ---- parsing --------------------------------------------------------- */

static void test_parse_errors(void)
{
    static const struct {
        const char *expr;
        int rc;
        const char *what; /* must appear in the message */
    } t[] = {
        {"61 * * * *", H2H_EPARSE,
         "minute field \"61\": 61 is out of range "
         "0-59"},
        {"* 24 * * *", H2H_EPARSE, "hour field \"24\""},
        {"* * 0 * *", H2H_EPARSE, "day-of-month field \"0\""},
        {"* * 32 * *", H2H_EPARSE, "day-of-month field"},
        {"* * * 13 *", H2H_EPARSE, "month field \"13\""},
        {"* * * foo *", H2H_EPARSE, "month field \"foo\""},
        {"* * * * 8", H2H_EPARSE, "day-of-week field \"8\""},
        {"* * * * mo", H2H_EPARSE, "day-of-week field"},
        {"mon * * * *", H2H_EPARSE, "minute field \"mon\""},
        {"*/0 * * * *", H2H_EPARSE, "step 0 is out of range"},
        {"*/60 * * * *", H2H_EPARSE, "step 60 is out of range 1-59"},
        {"*/x * * * *", H2H_EPARSE, "bad step"},
        {"5-3 * * * *", H2H_EPARSE, "runs backwards"},
        {"* * * * fri-mon", H2H_EPARSE, "runs backwards"},
        {"1,,2 * * * *", H2H_EPARSE, "empty list item"},
        {"1, * * * *", H2H_EPARSE, "empty list item"},
        {"1000 * * * *", H2H_EPARSE, "not a number"},
        {"1-2-3 * * * *", H2H_EPARSE, "minute field"},
        {"* * * *", H2H_EPARSE, "expected 5 fields"},
        {"* * * * * *", H2H_EPARSE, "got 6"},
        {"", H2H_EPARSE, "got 0"},
        {"0 0 30 2 *", H2H_EINVALID, "never run"},
        {"0 0 31 4,6,9,11 *", H2H_EINVALID, "never run"},
        {"every 0m", H2H_EPARSE, "1s to 24h"},
        {"every 25h", H2H_EPARSE, "1s to 24h"},
        {"every 15", H2H_EPARSE, "unit"},
        {"every 15x", H2H_EPARSE, "unit"},
        {"every m", H2H_EPARSE, "unit"},
        {"every", H2H_EPARSE, "unit"},
        {"every 15m and more", H2H_EPARSE, "unexpected"},
        {"@reboot", H2H_EPARSE, "unknown macro"},
        {"@daily 5", H2H_EPARSE, "unknown macro"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cron *c = NULL;
        struct h2h_err err = {0};
        int rc = cron_parse(t[i].expr, &c, &err);
        int ok = rc == t[i].rc && !c && strstr(err.msg, t[i].what) &&
                 strstr(err.msg, t[i].expr);
        if (!ok)
            fprintf(stderr, "\"%s\": rc %d \"%s\"\n", t[i].expr, rc, err.msg);
        CU_ASSERT(ok);
        cron_free(c);
    }
    char longexpr[CRON_EXPR_MAX + 10];
    memset(longexpr, ' ', sizeof(longexpr) - 1);
    longexpr[sizeof(longexpr) - 1] = '\0';
    struct cron *c = NULL;
    CU_ASSERT_EQUAL(cron_parse(longexpr, &c, NULL), H2H_EPARSE);
    cron_free(NULL);
}

static void test_parse_ok(void)
{
    static const char *const ok[] = {
        "*/15 * * * *",  "0 9-17/2 * * mon-fri",
        "0 0 * * 7",     "0 0 1 jan,JUL *",
        "0 0 29 2 *",    "@daily",
        "@HOURLY",       "every 30s",
        "every 2 h",     "EVERY 15M",
        "every15m",      "0 0 * * mon-sun",
        "30 4 1,15 * 5", "  0\t0 * * *  ",
        "0 0 31 1-12 *", "5/20 * * * *",
        "0 0 * * */7",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct cron *c = parse_ok(ok[i]);
        CU_ASSERT_STRING_EQUAL(cron_text(c), ok[i]);
        cron_free(c);
    }
    struct cron *c = parse_ok("every 15m");
    CU_ASSERT_EQUAL(cron_interval(c), 900);
    cron_free(c);
    c = parse_ok("every 2 h");
    CU_ASSERT_EQUAL(cron_interval(c), 7200);
    cron_free(c);
    c = parse_ok("every 30s");
    CU_ASSERT_EQUAL(cron_interval(c), 30);
    cron_free(c);
    c = parse_ok("0 * * * *");
    CU_ASSERT_EQUAL(cron_interval(c), 0);
    cron_free(c);
}

/* ---- next-run tables ------------------------------------------------- */

struct next_case {
    const char *label;
    const char *expr;
    const char *zone; /* NULL: UTC */
    const char *after;
    const char *want; /* UTC */
};

static void run_cases(const struct next_case *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct cron *c = parse_ok(t[i].expr);
        struct tz *z = t[i].zone ? zone(t[i].zone) : NULL;
        time_t next = 0;
        int rc = cron_next(c, z, utc(t[i].after), &next);
        if (rc != 0 || next != utc(t[i].want)) {
            char got[40];
            show(next, got, sizeof(got));
            fprintf(stderr, "%s: \"%s\" after %s: rc %d got %s want %s\n",
                    t[i].label, t[i].expr, t[i].after, rc, got, t[i].want);
        }
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(next, utc(t[i].want));
        tz_free(z);
        cron_free(c);
    }
}

static void test_next_utc(void)
{
    static const struct next_case t[] = {
        {"31st skips short months", "0 0 31 * *", NULL, "2026-01-31T00:00",
         "2026-03-31T00:00"},
        {"31st after March", "0 0 31 * *", NULL, "2026-03-31T00:00",
         "2026-05-31T00:00"},
        {"first of month over year end", "0 0 1 * *", NULL, "2026-12-15T10:00",
         "2027-01-01T00:00"},
        {"last minute of the year", "59 23 31 12 *", NULL, "2026-12-31T23:59",
         "2027-12-31T23:59"},
        {"just before it", "59 23 31 12 *", NULL, "2026-12-31T23:58:59",
         "2026-12-31T23:59"},
        {"strictly after", "0 0 * * *", NULL, "2026-05-05T00:00",
         "2026-05-06T00:00"},
        {"one second before", "0 0 * * *", NULL, "2026-05-04T23:59:59",
         "2026-05-05T00:00"},
        {"leap day from 2026", "0 0 29 2 *", NULL, "2026-03-01T00:00",
         "2028-02-29T00:00"},
        {"leap day to leap day", "0 0 29 2 *", NULL, "2028-02-29T00:00",
         "2032-02-29T00:00"},
        {"no leap day in 2100", "0 0 29 2 *", NULL, "2097-01-01T00:00",
         "2104-02-29T00:00"},
        {"28-31 in leap February", "0 12 28-31 * *", NULL, "2028-02-28T12:00",
         "2028-02-29T12:00"},
        {"28-31 in plain February", "0 12 28-31 * *", NULL, "2027-02-28T12:00",
         "2027-03-28T12:00"},
        {"Mondays over year end", "30 6 * * 1", NULL, "2026-12-30T00:00",
         "2027-01-04T06:30"},
        {"Vixie OR: Monday the 1st", "0 9 1 * mon", NULL, "2026-05-25T09:00",
         "2026-06-01T09:00"},
        {"Vixie OR: next Monday", "0 9 1 * mon", NULL, "2026-06-01T09:00",
         "2026-06-08T09:00"},
        {"Vixie OR: the 1st, a Wednesday", "0 9 1 * mon", NULL,
         "2026-06-29T09:00", "2026-07-01T09:00"},
        {"star dom means AND", "0 9 */2 * mon", NULL, "2026-06-01T09:00",
         "2026-06-15T09:00"},
        {"7 is Sunday", "0 0 * * 7", NULL, "2026-03-01T00:00",
         "2026-03-08T00:00"},
        {"sun-sat", "0 0 * * sun-sat", NULL, "2026-03-01T00:00",
         "2026-03-02T00:00"},
        {"mon-sun", "0 0 * * mon-sun", NULL, "2026-03-01T00:00",
         "2026-03-02T00:00"},
        {"hours and steps", "*/20 9-10 * * *", NULL, "2026-01-01T10:40",
         "2026-01-02T09:00"},
        {"step from a value", "5/20 * * * *", NULL, "2026-01-01T10:45",
         "2026-01-01T11:05"},
        {"@monthly after a leap day", "@monthly", NULL, "2028-02-29T12:00",
         "2028-03-01T00:00"},
        {"@weekly", "@weekly", NULL, "2026-03-02T00:00", "2026-03-08T00:00"},
        {"@yearly", "@yearly", NULL, "2026-01-01T00:00", "2027-01-01T00:00"},
        {"names, any case", "0 0 1 JAN,jul *", NULL, "2026-01-01T00:00",
         "2026-07-01T00:00"},
        {"Shanghai 09:00", "0 9 * * *", "Asia/Shanghai", "2026-02-13T01:00",
         "2026-02-14T01:00"},
        {"Kolkata 09:00", "0 9 * * *", "Asia/Kolkata", "2026-02-13T03:30",
         "2026-02-14T03:30"},
        {"fixed -05:30 midnight", "0 0 * * *", "-05:30", "2026-06-01T05:30",
         "2026-06-02T05:30"},
        {"before 1970", "0 0 1 1 *", NULL, "1960-06-01T00:00",
         "1961-01-01T00:00"},
    };
    run_cases(t, sizeof(t) / sizeof(t[0]));

    struct cron *c = parse_ok("0 0 * * *");
    time_t next;
    CU_ASSERT_EQUAL(cron_next(c, NULL, TZ_TIME_MAX + 1, &next), H2H_EINVALID);
    CU_ASSERT_EQUAL(cron_next(c, NULL, TZ_TIME_MAX - 10, &next), H2H_ENOTFOUND);
    cron_free(c);
}

static void test_next_dst(void)
{
    static const struct next_case t[] = {
        /* Europe/Berlin, 2026-03-29: 02:00-02:59 CET do not exist. */
        {"skipped 02:30 runs as the gap ends", "30 2 * * *", "Europe/Berlin",
         "2026-03-28T01:30", "2026-03-29T01:00"},
        {"then the next day as usual", "30 2 * * *", "Europe/Berlin",
         "2026-03-29T01:00", "2026-03-30T00:30"},
        {"02:00 also at the gap's end", "0 2 * * *", "Europe/Berlin",
         "2026-03-28T23:00", "2026-03-29T01:00"},
        {"01:59 CET still exists", "59 1 * * *", "Europe/Berlin",
         "2026-03-28T23:00", "2026-03-29T00:59"},
        {"03:00 CEST is the gap's end too", "0 3 * * *", "Europe/Berlin",
         "2026-03-28T23:00", "2026-03-29T01:00"},
        {"every 15 minutes: one run for the gap", "*/15 * * * *",
         "Europe/Berlin", "2026-03-29T00:45", "2026-03-29T01:00"},
        {"and on from 03:15 CEST", "*/15 * * * *", "Europe/Berlin",
         "2026-03-29T01:00", "2026-03-29T01:15"},
        /* Europe/Berlin, 2026-10-25: 02:00-02:59 happen twice. */
        {"repeated 02:30: first pass", "30 2 * * *", "Europe/Berlin",
         "2026-10-24T00:30", "2026-10-25T00:30"},
        {"repeated 02:30: not again", "30 2 * * *", "Europe/Berlin",
         "2026-10-25T00:30", "2026-10-26T01:30"},
        {"started in the second pass", "30 2 * * *", "Europe/Berlin",
         "2026-10-25T01:10", "2026-10-26T01:30"},
        {"hour-restricted */15 runs once", "*/15 2 * * *", "Europe/Berlin",
         "2026-10-25T00:45", "2026-10-26T01:00"},
        {"hourly runs in both passes", "0 * * * *", "Europe/Berlin",
         "2026-10-25T00:30", "2026-10-25T01:00"},
        {"hourly after the second 02:00", "0 * * * *", "Europe/Berlin",
         "2026-10-25T01:00", "2026-10-25T02:00"},
        {"*/15 after the first 02:45", "*/15 * * * *", "Europe/Berlin",
         "2026-10-25T00:50", "2026-10-25T01:00"},
        /* America/New_York */
        {"NY 02:00 skipped on 03-08", "0 2 * * *", "America/New_York",
         "2026-03-07T07:00", "2026-03-08T07:00"},
        {"NY 01:30 repeated on 11-01", "30 1 * * *", "America/New_York",
         "2026-10-31T05:30", "2026-11-01T05:30"},
        {"NY 01:30 not twice", "30 1 * * *", "America/New_York",
         "2026-11-01T05:30", "2026-11-02T06:30"},
        {"NY 2027 gap", "30 2 14 3 *", "America/New_York", "2027-01-01T00:00",
         "2027-03-14T07:00"},
    };
    run_cases(t, sizeof(t) / sizeof(t[0]));
}

/* Runs over a whole DST change stay evenly spaced, once per slot. */
static void test_dst_sequences(void)
{
    struct tz *z = zone("Europe/Berlin");
    static const struct {
        const char *expr;
        const char *from, *to;
        int spacing; /* seconds between runs; 0: do not check */
        int runs;
    } t[] = {
        /* civil 02:00 and 02:30 fold into 03:00 CEST: spacing holds */
        {"*/30 * * * *", "2026-03-28T20:00", "2026-03-29T04:00", 1800, 16},
        /* both passes of the repeated hour */
        {"*/30 * * * *", "2026-10-24T20:00", "2026-10-25T04:00", 1800, 16},
        {"0 * * * *", "2026-10-24T20:00", "2026-10-25T04:00", 3600, 8},
        /* once per civil day, all year */
        {"30 2 * * *", "2025-12-31T23:00", "2026-12-31T23:00", 0, 365},
        {"0 3 * * *", "2025-12-31T23:00", "2026-12-31T23:00", 0, 365},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cron *c = parse_ok(t[i].expr);
        time_t at = utc(t[i].from), end = utc(t[i].to), prev = 0;
        int runs = 0, bad = 0;
        int64_t prev_day = 0;
        for (;;) {
            time_t next;
            CU_ASSERT_EQUAL_FATAL(cron_next(c, z, at, &next), 0);
            if (next > end)
                break;
            CU_ASSERT(next > at);
            if (runs > 0 && t[i].spacing && next - prev != t[i].spacing)
                bad++;
            int64_t day;
            tz_local_day(z, next, &day);
            if (!t[i].spacing && runs > 0 && day != prev_day + 1)
                bad++; /* one run per civil day */
            prev_day = day;
            prev = at = next;
            runs++;
        }
        if (bad || runs != t[i].runs)
            fprintf(stderr, "\"%s\" %s..%s: %d runs, %d bad\n", t[i].expr,
                    t[i].from, t[i].to, runs, bad);
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(runs, t[i].runs);
        cron_free(c);
    }
    tz_free(z);
}

static void test_intervals(void)
{
    static const struct next_case t[] = {
        {"quarter hour", "every 15m", NULL, "2026-01-01T10:07",
         "2026-01-01T10:15"},
        {"strictly after", "every 15m", NULL, "2026-01-01T10:15",
         "2026-01-01T10:30"},
        {"30 seconds", "every 30s", NULL, "2026-01-01T10:15:29",
         "2026-01-01T10:15:30"},
        {"2 hours, UTC grid", "every 2h", NULL, "2026-03-29T00:59:59",
         "2026-03-29T02:00"},
        {"zone does not matter", "every 1h", "Asia/Kolkata", "2026-01-01T10:07",
         "2026-01-01T11:00"},
        {"nor DST", "every 1h", "Europe/Berlin", "2026-03-29T00:30",
         "2026-03-29T01:00"},
        {"24h", "every 24h", NULL, "2026-01-01T10:07", "2026-01-02T00:00"},
        {"before 1970", "every 15m", NULL, "1969-12-31T23:50",
         "1970-01-01T00:00"},
    };
    run_cases(t, sizeof(t) / sizeof(t[0]));
}

/* ---- business days ----------------------------------------------------- */

static struct cal *calendar(const char *rel)
{
    struct cal *c = NULL;
    struct h2h_err err = {0};
    int rc = cal_load(tu_src(rel), &c, &err);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", rel, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return c;
}

static void test_business(void)
{
    struct cal *cn = calendar("etc/calendars/CN.cal");
    struct cal *t2 = calendar("etc/calendars/TARGET2.cal");
    struct tz *sh = zone("Asia/Shanghai");
    struct tz *be = zone("Europe/Berlin");
    static const struct {
        const char *label;
        const char *expr;
        int target2; /* else CN */
        const char *after, *want;
    } t[] = {
        {"Fri 09:00 -> the Saturday worked", "0 9 * * *", 0, "2026-02-13T01:00",
         "2026-02-14T01:00"},
        {"Sat worked -> after 春节", "0 9 * * *", 0, "2026-02-14T01:00",
         "2026-02-24T01:00"},
        {"mon-fri skips the Saturday worked", "0 9 * * mon-fri", 0,
         "2026-02-13T01:00", "2026-02-24T01:00"},
        {"the Saturday after 春节 is worked", "0 9 * * *", 0,
         "2026-02-27T01:00", "2026-02-28T01:00"},
        {"and the Sunday is not", "0 9 * * *", 0, "2026-02-28T01:00",
         "2026-03-02T01:00"},
        {"hourly resumes at local midnight", "every 1h", 0, "2026-02-14T15:30",
         "2026-02-23T16:00"},
        {"国庆", "30 17 * * *", 0, "2026-09-30T09:30", "2026-10-08T09:30"},
        {"provisional 2027 春节", "0 9 * * *", 0, "2027-02-04T01:00",
         "2027-02-11T01:00"},
        {"Easter 2026", "0 18 * * *", 1, "2026-04-02T16:00",
         "2026-04-07T16:00"},
        {"Easter 2027", "0 18 * * *", 1, "2027-03-25T17:00",
         "2027-03-30T16:00"},
        {"Christmas 2026", "0 8 * * *", 1, "2026-12-24T07:00",
         "2026-12-28T07:00"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cron *c = parse_ok(t[i].expr);
        time_t next = 0;
        struct h2h_err err = {0};
        int rc = cron_next_business(c, t[i].target2 ? be : sh,
                                    t[i].target2 ? t2 : cn, utc(t[i].after),
                                    &next, &err);
        if (rc != 0 || next != utc(t[i].want)) {
            char got[40];
            show(next, got, sizeof(got));
            fprintf(stderr, "%s: rc %d (%s) got %s want %s\n", t[i].label, rc,
                    err.msg, got, t[i].want);
        }
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(next, utc(t[i].want));
        cron_free(c);
    }

    /* Every run over 春节 2026 lands on a business day, none is missed. */
    struct cron *c = parse_ok("0 9,15 * * *");
    time_t at = utc("2026-02-01T00:00"), end = utc("2026-03-10T00:00");
    int runs = 0;
    for (;;) {
        time_t next;
        CU_ASSERT_EQUAL_FATAL(cron_next_business(c, sh, cn, at, &next, NULL),
                              0);
        if (next > end)
            break;
        int64_t day;
        tz_local_day(sh, next, &day);
        CU_ASSERT_EQUAL(cal_is_business_day_n(cn, day), 1);
        at = next;
        runs++;
    }
    /* Feb 1-Mar 9 2026: 37 days, 11 of them Saturdays or Sundays, 6
     * weekdays of 春节, 2 Saturdays worked: 22 business days, two runs
     * each. */
    CU_ASSERT_EQUAL(runs, 44);
    cron_free(c);

    /* The calendar runs out: an error that says so, no guess. */
    c = parse_ok("0 9 * * *");
    time_t next;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(
        cron_next_business(c, sh, cn, utc("2027-12-31T01:00"), &next, &err),
        H2H_ENOTFOUND);
    CU_ASSERT(strstr(err.msg, "CN") && strstr(err.msg, "2028-01-01") &&
              strstr(err.msg, "2027-12-31"));
    CU_ASSERT_EQUAL(
        cron_next_business(c, sh, cn, utc("2025-12-30T01:00"), &next, &err),
        H2H_ENOTFOUND);
    CU_ASSERT(strstr(err.msg, "2025-12-31") != NULL);
    /* ... also when the last days are holidays */
    struct cal *tiny = NULL;
    const char *text = "valid 2026-01-01 2026-01-04\n";
    CU_ASSERT_EQUAL_FATAL(cal_parse(text, strlen(text), "tiny", &tiny, NULL),
                          0);
    CU_ASSERT_EQUAL(
        cron_next_business(c, sh, tiny, utc("2026-01-02T01:00"), &next, &err),
        H2H_ENOTFOUND);
    CU_ASSERT(strstr(err.msg, "tiny") != NULL);
    /* no calendar: plain cron_next */
    CU_ASSERT_EQUAL(
        cron_next_business(c, sh, NULL, utc("2026-02-14T01:00"), &next, NULL),
        0);
    CU_ASSERT_EQUAL(next, utc("2026-02-15T01:00"));
    cal_free(tiny);
    cron_free(c);

    /* A zone whose day starts in a gap: America/Havana changes at 00:00
     * (2026-03-08 00:00 CST -> 01:00 CDT); a business day restarting
     * there begins at 01:00 CDT = 05:00Z, and the runs of the skipped
     * 00:00 and 00:30 happen then, once. */
    struct tz *hav = zone("America/Havana");
    struct cal *all = NULL;
    text = "weekend =\nvalid 2026-03-01 2026-03-31\nholiday 2026-03-07 x\n";
    CU_ASSERT_EQUAL_FATAL(cal_parse(text, strlen(text), "h", &all, NULL), 0);
    c = parse_ok("*/30 * * * *");
    CU_ASSERT_EQUAL(
        cron_next_business(c, hav, all, utc("2026-03-07T05:00"), &next, NULL),
        0);
    CU_ASSERT_EQUAL(next, utc("2026-03-08T05:00"));
    CU_ASSERT_EQUAL(cron_next_business(c, hav, all, next, &next, NULL), 0);
    CU_ASSERT_EQUAL(next, utc("2026-03-08T05:30"));
    cron_free(c);
    cal_free(all);
    tz_free(hav);

    tz_free(sh);
    tz_free(be);
    cal_free(cn);
    cal_free(t2);
}

/* ---- brute force --------------------------------------------------------- */

/* Field patterns with their value sets written out by hand. */
struct pat {
    const char *s;
    const int v[32]; /* terminated by -1 */
};

static const struct pat minutes[] = {
    {"*", {-2}},
    {"0", {0, -1}},
    {"*/15", {0, 15, 30, 45, -1}},
    {"5,35", {5, 35, -1}},
    {"10-20/5", {10, 15, 20, -1}},
    {"59", {59, -1}},
};
static const struct pat hours[] = {
    {"*", {-2}},
    {"0", {0, -1}},
    {"9-17", {9, 10, 11, 12, 13, 14, 15, 16, 17, -1}},
    {"*/6", {0, 6, 12, 18, -1}},
    {"23", {23, -1}},
    {"0,12", {0, 12, -1}},
};
static const struct pat doms[] = {
    {"*", {-2}},
    {"1", {1, -1}},
    {"15", {15, -1}},
    {"31", {31, -1}},
    {"1-7", {1, 2, 3, 4, 5, 6, 7, -1}},
    {"*/10", {1, 11, 21, 31, -1}},
    {"29", {29, -1}},
};
static const struct pat months[] = {
    {"*", {-2}},
    {"2", {2, -1}},
    {"jan,jul", {1, 7, -1}},
    {"*/3", {1, 4, 7, 10, -1}},
    {"dec", {12, -1}},
};
static const struct pat dows[] = {
    {"*", {-2}},
    {"0", {0, -1}},
    {"mon-fri", {1, 2, 3, 4, 5, -1}},
    {"sat,sun", {6, 0, -1}},
    {"7", {0, -1}},
    {"5", {5, -1}},
};

static int in(const struct pat *p, int x)
{
    if (p->v[0] == -2)
        return 1;
    for (int i = 0; p->v[i] >= 0; i++)
        if (p->v[i] == x)
            return 1;
    return 0;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The first matching minute after `after`, searched one civil day and one
 * minute at a time with gmtime_r on (instant + fixed offset). */
static time_t brute(const struct pat *mi, const struct pat *h,
                    const struct pat *dom, const struct pat *mon,
                    const struct pat *dow, int offset, time_t after)
{
    int star = dom->s[0] == '*' || dow->s[0] == '*';
    time_t civil = after + offset + 1;
    civil = (civil + 59) / 60 * 60;
    for (int days = 0; days < 366 * 9; days++) {
        struct tm tm;
        time_t t = civil;
        gmtime_r(&t, &tm);
        int dok = in(dom, tm.tm_mday), wok = in(dow, tm.tm_wday);
        int day_ok = in(mon, tm.tm_mon + 1) && (star ? dok && wok : dok || wok);
        if (day_ok) {
            for (time_t u = civil;; u += 60) {
                struct tm m;
                gmtime_r(&u, &m);
                if (m.tm_mday != tm.tm_mday)
                    break;
                if (in(h, m.tm_hour) && in(mi, m.tm_min))
                    return u - offset;
            }
        }
        civil = (civil / 86400 + 1) * 86400;
    }
    return -1;
}

static void test_brute_force(void)
{
    static const struct {
        const char *zone;
        int offset;
    } zones[] = {{NULL, 0},
                 {"Asia/Shanghai", 28800},
                 {"-05:30", -19800},
                 {"+05:45", 20700}};
    uint64_t rng = 20260329;
    int checked = 0, bad = 0;
    for (int i = 0; i < 400; i++) {
        const struct pat *mi = &minutes[rng_next(&rng) % 6];
        const struct pat *h = &hours[rng_next(&rng) % 6];
        const struct pat *dom = &doms[rng_next(&rng) % 7];
        const struct pat *mon = &months[rng_next(&rng) % 5];
        const struct pat *dow = &dows[rng_next(&rng) % 6];
        int zi = (int)(rng_next(&rng) % 4);
        char expr[128];
        snprintf(expr, sizeof(expr), "%s %s %s %s %s", mi->s, h->s, dom->s,
                 mon->s, dow->s);
        struct cron *c = NULL;
        struct h2h_err err = {0};
        int rc = cron_parse(expr, &c, &err);
        if (rc == H2H_EINVALID) /* e.g. "... 31 2 *": never runs */
            continue;
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        struct tz *z = zones[zi].zone ? zone(zones[zi].zone) : NULL;
        /* after: somewhere in 2026-2029, at any second */
        time_t after = 1767225600 + (time_t)(rng_next(&rng) % (4 * 31557600));
        for (int k = 0; k < 3; k++) {
            time_t want = brute(mi, h, dom, mon, dow, zones[zi].offset, after);
            time_t got = 0;
            rc = cron_next(c, z, after, &got);
            if (want < 0)
                break; /* beyond the brute-force horizon */
            checked++;
            if (rc != 0 || got != want) {
                if (bad++ < 10) {
                    char a[40], b[40], w[40];
                    show(after, a, sizeof(a));
                    show(got, b, sizeof(b));
                    show(want, w, sizeof(w));
                    fprintf(stderr, "\"%s\" in %s after %s: got %s want %s\n",
                            expr, zones[zi].zone ? zones[zi].zone : "UTC", a, b,
                            w);
                }
                break;
            }
            after = got;
        }
        tz_free(z);
        cron_free(c);
    }
    fprintf(stderr, "  %d next runs checked, %d wrong\n", checked, bad);
    CU_ASSERT(checked > 800);
    CU_ASSERT_EQUAL(bad, 0);
}

static const struct tu_case cases[] = {
    {"parse errors name the field", test_parse_errors},
    {"parse accepts", test_parse_ok},
    {"next run, UTC and fixed zones", test_next_utc},
    {"next run across DST", test_next_dst},
    {"DST sequences", test_dst_sequences},
    {"intervals", test_intervals},
    {"business-day filter", test_business},
    {"brute force", test_brute_force},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("cron", cases);
}
