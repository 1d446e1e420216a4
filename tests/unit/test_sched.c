/*
 * test_sched.c - the scheduler's decisions, without a loop: when a run
 * fires (jitter bounds), what a start catches up (missed runs, the first
 * start's baseline, catch_up off, a run that never finished, a calendar
 * that ran out), which day a statements or intraday run asks for (the CN
 * Spring Festival 2026 with its worked Saturdays, TARGET2 Easter 2026),
 * the payment cut-off (before and after, days off, the hold-until instant
 * across both DST changes of Europe/Berlin), the schedule's config errors
 * with file:line, the commented example in h2hd.conf.sample, and the
 * store's job and cut-off rows.
 *
 * Expected instants are written in UTC and converted with glibc's timegm,
 * so they do not depend on the tz module the scheduler uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "adapter.h"
#include "calendar.h"
#include "config.h"
#include "cron.h"
#include "scheduler.h"
#include "store.h"
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

static struct cron *cron_of(const char *expr)
{
    struct cron *c = NULL;
    struct h2h_err err = {0};
    int rc = cron_parse(expr, &c, &err);
    if (rc)
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

static struct cal *calendar(const char *name)
{
    char rel[64];
    struct cal *c = NULL;
    struct h2h_err err = {0};
    snprintf(rel, sizeof(rel), "etc/calendars/%s.cal", name);
    int rc = cal_load(tu_src(rel), &c, &err);
    if (rc)
        fprintf(stderr, "cal_load(%s): %s\n", rel, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return c;
}

static void expect_time(time_t got, const char *want, const char *what)
{
    char g[32];
    show(got, g, sizeof(g));
    if (got != utc(want))
        fprintf(stderr, "\n  %s: got %s, want %sZ\n", what, g, want);
    CU_ASSERT_EQUAL(got, utc(want));
}

/* ---- when a run fires ----------------------------------------------- */

static void test_next_and_jitter(void)
{
    struct tz *sh = zone("Asia/Shanghai");
    struct cal *cn = calendar("CN");
    struct cron *c = cron_of("30 7 * * *");
    struct h2h_err err = {0};
    time_t t;

    /* business days across the Spring Festival 2026: Friday the 13th,
     * the worked Saturday the 14th, then nothing until Tuesday the 24th
     * (07:30 CST is 23:30 UTC the day before) */
    static const char *const runs[] = {
        "2026-02-12T23:30", "2026-02-13T23:30", "2026-02-23T23:30",
        "2026-02-24T23:30", "2026-02-25T23:30", "2026-02-26T23:30",
        "2026-02-27T23:30", /* Saturday the 28th: worked */
        "2026-03-01T23:30", /* then Monday, March 2nd */
    };
    time_t after = utc("2026-02-12T12:00");
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        CU_ASSERT_EQUAL(sched_next_slot(c, sh, cn, after, &t, &err), 0);
        expect_time(t, runs[i], "CN business-day run");
        after = t;
    }
    /* without the calendar: every day */
    CU_ASSERT_EQUAL(
        sched_next_slot(c, sh, NULL, utc("2026-02-15T00:00"), &t, &err), 0);
    expect_time(t, "2026-02-15T23:30", "daily run");
    /* the calendar ends on 2027-12-31: the run after it is not guessed */
    CU_ASSERT_EQUAL(
        sched_next_slot(c, sh, cn, utc("2027-12-31T00:00"), &t, &err),
        H2H_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "CN"));

    /* jitter: within [slot, slot + jitter] and spread over it */
    uint64_t rng = 42;
    time_t slot = utc("2026-03-02T23:30");
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < 5000; i++) {
        int64_t f = sched_fire_ms(slot, 30, &rng);
        CU_ASSERT(f >= (int64_t)slot * 1000 &&
                  f <= (int64_t)slot * 1000 + 30000);
        lo = f < lo ? f : lo;
        hi = f > hi ? f : hi;
    }
    CU_ASSERT(lo - (int64_t)slot * 1000 < 1000);
    CU_ASSERT((int64_t)slot * 1000 + 30000 - hi < 1000);
    CU_ASSERT_EQUAL(sched_fire_ms(slot, 0, &rng), (int64_t)slot * 1000);
    CU_ASSERT_EQUAL(sched_fire_ms(slot, 30, NULL), (int64_t)slot * 1000);
    CU_ASSERT_EQUAL(sched_fire_ms(slot, 1, &rng) / 1000 - slot <= 1, 1);

    cron_free(c);
    cal_free(cn);
    tz_free(sh);
}

/* ---- what a start catches up ---------------------------------------- */

static void test_catchup(void)
{
    struct tz *sh = zone("Asia/Shanghai");
    struct tz *be = zone("Europe/Berlin");
    struct cal *cn = calendar("CN");
    struct cal *t2 = calendar("TARGET2");
    static const struct {
        const char *what, *cron, *zone, *cal;
        int known, unfinished, catch_up;
        const char *last, *now;
        int want;
        const char *missed; /* NULL: none */
    } t[] = {
        {"first start: baseline, nothing caught up", "30 7 * * *", "sh", NULL,
         0, 0, 1, "2026-03-01T00:00", "2026-03-02T01:00", SCHED_BASELINE, NULL},
        {"ran today at 07:30, now 09:00", "30 7 * * *", "sh", NULL, 1, 0, 1,
         "2026-03-01T23:30", "2026-03-02T01:00", SCHED_UP_TO_DATE, NULL},
        {"down over today's 07:30", "30 7 * * *", "sh", NULL, 1, 0, 1,
         "2026-02-28T23:30", "2026-03-02T01:00", SCHED_CATCH_UP,
         "2026-03-01T23:30"},
        {"down for days: once, the latest", "30 7 * * *", "sh", NULL, 1, 0, 1,
         "2026-02-20T23:30", "2026-03-02T01:00", SCHED_CATCH_UP,
         "2026-03-01T23:30"},
        {"catch_up = false: missed, not run", "30 7 * * *", "sh", NULL, 1, 0, 0,
         "2026-02-28T23:30", "2026-03-02T01:00", SCHED_MISSED,
         "2026-03-01T23:30"},
        {"the last run never finished: its own time", "30 7 * * *", "sh", NULL,
         1, 1, 1, "2026-03-01T23:30", "2026-03-02T01:00", SCHED_CATCH_UP,
         "2026-03-01T23:30"},
        {"a run exactly at now counts", "30 7 * * *", "sh", NULL, 1, 0, 1,
         "2026-02-28T23:30", "2026-03-01T23:30", SCHED_CATCH_UP,
         "2026-03-01T23:30"},
        {"Spring Festival: the worked Saturday is the latest", "30 7 * * *",
         "sh", "CN", 1, 0, 1, "2026-02-12T23:30", "2026-02-20T04:00",
         SCHED_CATCH_UP, "2026-02-13T23:30"},
        {"Spring Festival: nothing due on holidays", "30 7 * * *", "sh", "CN",
         1, 0, 1, "2026-02-13T23:30", "2026-02-23T04:00", SCHED_UP_TO_DATE,
         NULL},
        {"every 15m after an hour down", "every 15m", "sh", NULL, 1, 0, 1,
         "2026-03-02T00:00", "2026-03-02T01:07", SCHED_CATCH_UP,
         "2026-03-02T01:00"},
        {"every 1s after a month down", "every 1s", "sh", NULL, 1, 0, 1,
         "2026-02-01T00:00", "2026-03-02T01:07:09", SCHED_CATCH_UP,
         "2026-03-02T01:07:09"},
        {"TARGET2 Easter: Thursday's run, not Friday's or Monday's",
         "0 18 * * *", "be", "TARGET2", 1, 0, 1, "2026-04-01T16:00",
         "2026-04-06T20:00", SCHED_CATCH_UP, "2026-04-02T16:00"},
        {"a calendar running out after now is no error", "0 18 * * *", "be",
         "TARGET2", 1, 0, 1, "2027-12-30T17:00", "2027-12-31T20:00",
         SCHED_CATCH_UP, "2027-12-31T17:00"},
        {"a calendar that ran out before now is", "0 18 * * *", "be", "TARGET2",
         1, 0, 1, "2027-12-30T17:00", "2028-01-05T20:00", H2H_ENOTFOUND, NULL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct cron *c = cron_of(t[i].cron);
        const struct tz *z = strcmp(t[i].zone, "sh") == 0 ? sh : be;
        const struct cal *cal = !t[i].cal                     ? NULL
                                : strcmp(t[i].cal, "CN") == 0 ? cn
                                                              : t2;
        struct sched_last last = {.known = t[i].known,
                                  .sched = utc(t[i].last),
                                  .unfinished = t[i].unfinished};
        struct h2h_err err = {0};
        time_t missed = -1;
        int rc = sched_catchup(c, z, cal, t[i].catch_up, &last, utc(t[i].now),
                               &missed, &err);
        if (rc != t[i].want)
            fprintf(stderr, "\n  %s: got %d (%s), want %d\n", t[i].what, rc,
                    err.msg, t[i].want);
        CU_ASSERT_EQUAL(rc, t[i].want);
        if (t[i].missed)
            expect_time(missed, t[i].missed, t[i].what);
        cron_free(c);
    }
    cal_free(t2);
    cal_free(cn);
    tz_free(be);
    tz_free(sh);
}

/* ---- which day a run asks for --------------------------------------- */

static void test_job_date(void)
{
    struct tz *sh = zone("Asia/Shanghai");
    struct tz *be = zone("Europe/Berlin");
    struct cal *cn = calendar("CN");
    struct cal *t2 = calendar("TARGET2");
    static const struct {
        const char *what;
        unsigned kind;
        const char *zone, *cal, *slot, *want;
    } t[] = {
        /* the first business day after the Spring Festival: the worked
         * Saturday before it */
        {"CN 24 Feb", H2H_POLL_STATEMENTS, "sh", "CN", "2026-02-23T23:30",
         "2026-02-14"},
        {"CN worked Saturday", H2H_POLL_STATEMENTS, "sh", "CN",
         "2026-02-13T23:30", "2026-02-13"},
        {"CN Monday after a worked Saturday", H2H_POLL_STATEMENTS, "sh", "CN",
         "2026-03-01T23:30", "2026-02-28"},
        {"CN, a run on a holiday", H2H_POLL_STATEMENTS, "sh", "CN",
         "2026-02-17T01:00", "2026-02-14"},
        {"CN without calendar: the day before", H2H_POLL_STATEMENTS, "sh", NULL,
         "2026-03-01T23:30", "2026-03-01"},
        {"TARGET2 Tuesday after Easter", H2H_POLL_STATEMENTS, "be", "TARGET2",
         "2026-04-07T05:30", "2026-04-02"},
        {"TARGET2 Easter Monday", H2H_POLL_STATEMENTS, "be", "TARGET2",
         "2026-04-06T05:30", "2026-04-02"},
        {"TARGET2 Monday after a weekend", H2H_POLL_STATEMENTS, "be", "TARGET2",
         "2026-03-30T05:30", "2026-03-27"},
        /* the bank's day, not UTC's: 00:30 CST is 16:30 UTC the day
         * before */
        {"intraday: the bank's today", H2H_POLL_INTRADAY, "sh", "CN",
         "2026-03-02T16:30", "2026-03-03"},
        {"intraday in UTC", H2H_POLL_INTRADAY, "utc", NULL, "2026-03-02T16:30",
         "2026-03-02"},
        {"status: no day", H2H_POLL_STATUS, "sh", "CN", "2026-03-02T16:30", ""},
        {"balance: no day", H2H_POLL_BALANCE, "sh", NULL, "2026-03-02T16:30",
         ""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const struct tz *z = strcmp(t[i].zone, "sh") == 0   ? sh
                             : strcmp(t[i].zone, "be") == 0 ? be
                                                            : NULL;
        const struct cal *cal = !t[i].cal                     ? NULL
                                : strcmp(t[i].cal, "CN") == 0 ? cn
                                                              : t2;
        char date[11] = "x";
        struct h2h_err err = {0};
        int rc = sched_job_date(t[i].kind, z, cal, utc(t[i].slot), date, &err);
        CU_ASSERT_EQUAL(rc, 0);
        if (strcmp(date, t[i].want) != 0)
            fprintf(stderr, "\n  %s: got %s, want %s\n", t[i].what, date,
                    t[i].want);
        CU_ASSERT_STRING_EQUAL(date, t[i].want);
    }
    /* the first day of the calendar has no business day before it */
    char date[11];
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(sched_job_date(H2H_POLL_STATEMENTS, sh, cn,
                                   utc("2025-12-31T23:30"), date, &err),
                    H2H_ENOTFOUND);
    cal_free(t2);
    cal_free(cn);
    tz_free(be);
    tz_free(sh);
}

/* ---- the payment cut-off -------------------------------------------- */

static void test_cutoff(void)
{
    struct tz *be = zone("Europe/Berlin");
    struct tz *sh = zone("Asia/Shanghai");
    struct cal *t2 = calendar("TARGET2");
    struct cal *cn = calendar("CN");
    const int c1630 = 16 * 60 + 30;
    static const struct {
        const char *what, *zone, *cal, *now;
        int want;
        const char *until;
    } t[] = {
        {"Wednesday morning", "be", "TARGET2", "2026-03-25T09:00",
         SCHED_IN_TIME, NULL},
        {"a second before", "be", "TARGET2", "2026-03-25T15:29:59",
         SCHED_IN_TIME, NULL},
        {"at the cut-off", "be", "TARGET2", "2026-03-25T15:30:00",
         SCHED_AFTER_CUTOFF, "2026-03-25T23:00"},
        /* Friday evening: Monday 00:00, which is CEST after the change on
         * Sunday the 29th (22:00 UTC, not 23:00) */
        {"Friday after the cut-off, over the spring change", "be", "TARGET2",
         "2026-03-27T16:00", SCHED_AFTER_CUTOFF, "2026-03-29T22:00"},
        {"Saturday morning: not a business day", "be", "TARGET2",
         "2026-03-28T09:00", SCHED_NOT_BUSINESS_DAY, "2026-03-29T22:00"},
        {"Good Friday morning", "be", "TARGET2", "2026-04-03T07:00",
         SCHED_NOT_BUSINESS_DAY, "2026-04-06T22:00"},
        {"Friday after the cut-off, over the autumn change", "be", "TARGET2",
         "2026-10-23T15:00", SCHED_AFTER_CUTOFF, "2026-10-25T23:00"},
        /* without a calendar only the time of day counts */
        {"no calendar: Saturday morning is in time", "be", NULL,
         "2026-03-28T09:00", SCHED_IN_TIME, NULL},
        {"no calendar: Saturday evening, Sunday 00:00 CET", "be", NULL,
         "2026-03-28T16:00", SCHED_AFTER_CUTOFF, "2026-03-28T23:00"},
        {"no calendar: Sunday evening, Monday 00:00 CEST", "be", NULL,
         "2026-03-29T15:00", SCHED_AFTER_CUTOFF, "2026-03-29T22:00"},
        /* CN: the Friday before the Spring Festival holds until the
         * worked Saturday, the worked Saturday until the 24th */
        {"CN Friday 13 Feb evening", "sh", "CN", "2026-02-13T09:00",
         SCHED_AFTER_CUTOFF, "2026-02-13T16:00"},
        {"CN worked Saturday evening", "sh", "CN", "2026-02-14T09:00",
         SCHED_AFTER_CUTOFF, "2026-02-23T16:00"},
        {"CN worked Saturday morning", "sh", "CN", "2026-02-14T01:00",
         SCHED_IN_TIME, NULL},
        {"CN Spring Festival", "sh", "CN", "2026-02-18T01:00",
         SCHED_NOT_BUSINESS_DAY, "2026-02-23T16:00"},
        {"out of the calendar", "be", "TARGET2", "2028-01-03T09:00",
         H2H_ENOTFOUND, NULL},
        {"the calendar's last day, late: no next business day", "be", "TARGET2",
         "2027-12-31T17:00", H2H_ENOTFOUND, NULL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const struct tz *z = strcmp(t[i].zone, "sh") == 0 ? sh : be;
        const struct cal *cal = !t[i].cal                     ? NULL
                                : strcmp(t[i].cal, "CN") == 0 ? cn
                                                              : t2;
        time_t until = 0;
        struct h2h_err err = {0};
        int rc = sched_cutoff_check(z, cal, c1630, utc(t[i].now), &until, &err);
        if (rc != t[i].want)
            fprintf(stderr, "\n  %s: got %d (%s), want %d\n", t[i].what, rc,
                    err.msg, t[i].want);
        CU_ASSERT_EQUAL(rc, t[i].want);
        if (t[i].until)
            expect_time(until, t[i].until, t[i].what);
    }
    char buf[40];
    sched_iso_local(be, utc("2026-03-29T22:00"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "2026-03-30T00:00:00+02:00");
    sched_iso_local(be, utc("2026-10-25T23:00"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "2026-10-26T00:00:00+01:00");
    sched_iso_local(sh, utc("2026-02-23T16:00"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "2026-02-24T00:00:00+08:00");
    struct tz *neg = zone("-05:30");
    sched_iso_local(neg, utc("2026-02-23T16:00"), buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "2026-02-23T10:30:00-05:30");
    tz_free(neg);
    cal_free(cn);
    cal_free(t2);
    tz_free(sh);
    tz_free(be);
}

/* ---- configuration ----------------------------------------------------- */

static int find_problem(const struct cfg_problems *p, const char *file,
                        int line, const char *needle)
{
    char prefix[4200];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i], prefix, strlen(prefix)) == 0 &&
            strstr(p->v[i], needle))
            return (int)i;
    return -1;
}

static char *real_dir(const char *dir)
{
    char *r = realpath(dir, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    return r;
}

/* base_dir is the source tree's etc/, so calendars/CN.cal resolves. */
static const char *conf_head(void)
{
    static char buf[8192];
    char *etc = real_dir(tu_src("etc"));
    snprintf(buf, sizeof(buf), "daemon = { base_dir = \"%s\"; };\n", etc);
    free(etc);
    return buf;
}

static void test_config_errors(void)
{
    char *dir = real_dir(tu_mkdtemp());
    char path[4200], text[16384];
    snprintf(path, sizeof(path), "%s/h2hd.conf", dir);
    /* one problem per line, the line numbers are the file's */
    snprintf(
        text, sizeof(text),
        "%s"                                                           /* 1 */
        "banks = ( { name = \"b1\"; adapter = \"dirdrop\";\n"          /* 2 */
        "  dirdrop = { outbox = \"bank/in\"; };\n"                     /* 3 */
        "  schedule = {\n"                                             /* 4 */
        "    timezone = \"Mars/Olympus_Mons\";\n"                      /* 5 */
        "    jitter = 7200;\n"                                         /* 6 */
        "    catch_up = \"yes\";\n"                                    /* 7 */
        "    jobs = (\n"                                               /* 8 */
        "      { kind = \"statements\"; cron = \"30 25 * * *\"; },\n"  /* 9 */
        "      { kind = \"statements\"; cron = \"@daily\"; },\n"       /* 10 */
        "      { kind = \"gossip\"; cron = \"@daily\"; },\n"           /* 11 */
        "      { kind = \"status\"; cron = \"every 1m\";\n"            /* 12 */
        "        business_days = true; },\n"                           /* 13 */
        "      { kind = \"balance\"; },\n"                             /* 14 */
        "      { kind = \"bills\"; cron = \"every 2d\"; when = 1; }\n" /* 15 */
        "    );\n"                                                     /* 16 */
        "    cutoff = \"4:30pm\";\n"                                   /* 17 */
        "    after_cutoff = \"pray\";\n"                               /* 18 */
        "    tz = \"UTC\";\n"                                          /* 19 */
        "  }; },\n"                                                    /* 20 */
        "  { name = \"b2\"; adapter = \"dirdrop\";\n"                  /* 21 */
        "    dirdrop = { outbox = \"bank/in2\"; };\n"                  /* 22 */
        "    schedule = { calendar = \"calendars/XX.cal\"; }; },\n"    /* 23 */
        "  { name = \"b3\"; adapter = \"dirdrop\";\n"                  /* 24 */
        "    dirdrop = { outbox = \"bank/in3\"; };\n"                  /* 25 */
        "    schedule = ( 1 ); }\n"                                    /* 26 */
        ");\n"                                                         /* 27 */
        "channels = ( { name = \"erp\"; bank = \"b1\"; } );\n",        /* 28 */
        conf_head());
    CU_ASSERT_EQUAL_FATAL(tu_write_file(path, text, strlen(text)), 0);
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL(cfg_load(path, &c, &p), H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(c);
    static const struct {
        int line;
        const char *needle;
    } want[] = {
        {5, "bank b1.schedule.timezone = \"Mars/Olympus_Mons\""},
        {6, "bank b1.schedule.jitter = 7200 is out of range (0..3600)"},
        {7, "bank b1.schedule.catch_up must be true or false"},
        {9, "bank b1.schedule.jobs[1].cron: cron \"30 25 * * *\": hour field"},
        {10, "kind \"statements\" is already scheduled at line 9"},
        {11, "bank b1.schedule.jobs[3].kind = \"gossip\" is not one of: "
             "status, statements, intraday, balance, bills"},
        {13, "bank b1.schedule.jobs[4].business_days needs a calendar"},
        {14, "bank b1.schedule.jobs[5] needs \"cron\""},
        {15, "unknown setting \"when\" in bank b1.schedule.jobs[6]"},
        {15, "bank b1.schedule.jobs[6].cron: cron \"every 2d\""},
        {17, "bank b1.schedule.cutoff = \"4:30pm\" is not a time of day"},
        {18, "bank b1.schedule.after_cutoff = \"pray\" is not one of: hold, "
             "flag"},
        {19, "unknown setting \"tz\" in bank b1.schedule"},
        {23, "bank b2.schedule.calendar: "},
        {26, "bank b3.schedule must be a group"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int k = find_problem(&p, path, want[i].line, want[i].needle);
        if (k < 0)
            fprintf(stderr, "\n  missing problem at line %d: %s\n",
                    want[i].line, want[i].needle);
        CU_ASSERT(k >= 0);
    }
    if (p.n != sizeof(want) / sizeof(want[0]))
        for (size_t i = 0; i < p.n; i++)
            fprintf(stderr, "  problem: %s\n", p.v[i]);
    CU_ASSERT_EQUAL(p.n, sizeof(want) / sizeof(want[0]));
    cfg_problems_release(&p);

    /* a good one: defaults and what is derived */
    snprintf(
        text, sizeof(text),
        "%s"
        "banks = ( { name = \"b1\"; adapter = \"dirdrop\";\n"
        "  timezone = \"Europe/Berlin\";\n"
        "  dirdrop = { outbox = \"bank/in\"; };\n"
        "  schedule = { calendar = \"calendars/TARGET2.cal\";\n"
        "    jobs = ( { kind = \"statements\"; cron = \"30 7 * * *\";\n"
        "               business_days = true; },\n"
        "             { kind = \"status\"; cron = \"every 1m\"; } );\n"
        "    cutoff = \"16:30\"; }; },\n"
        "  { name = \"b2\"; adapter = \"dirdrop\";\n"
        "    dirdrop = { outbox = \"bank/in2\"; };\n"
        "    schedule = { timezone = \"+08:00\"; after_cutoff = \"flag\";\n"
        "      catch_up = false; jitter = 5; }; },\n"
        "  { name = \"b3\"; adapter = \"dirdrop\";\n"
        "    dirdrop = { outbox = \"bank/in3\"; }; }\n"
        ");\n"
        "channels = ( { name = \"erp\"; bank = \"b1\"; } );\n",
        conf_head());
    CU_ASSERT_EQUAL_FATAL(tu_write_file(path, text, strlen(text)), 0);
    int rc = cfg_load(path, &c, &p);
    for (size_t i = 0; i < p.n; i++)
        fprintf(stderr, "  problem: %s\n", p.v[i]);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const struct cfg_schedule *s1 = c->banks[0].schedule;
    const struct cfg_schedule *s2 = c->banks[1].schedule;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
    CU_ASSERT_PTR_NULL(c->banks[2].schedule);
    CU_ASSERT_STRING_EQUAL(s1->timezone, "Europe/Berlin"); /* the bank's */
    CU_ASSERT_PTR_NOT_NULL(strstr(s1->calendar, "/calendars/TARGET2.cal"));
    CU_ASSERT_EQUAL(s1->calendar[0], '/');
    CU_ASSERT_EQUAL(s1->jitter_s, 0);
    CU_ASSERT_EQUAL(s1->catch_up, 1);
    CU_ASSERT_EQUAL(s1->n_jobs, 2);
    CU_ASSERT_STRING_EQUAL(s1->jobs[0].kind, "statements");
    CU_ASSERT_STRING_EQUAL(s1->jobs[0].cron, "30 7 * * *");
    CU_ASSERT_EQUAL(s1->jobs[0].business_days, 1);
    CU_ASSERT_EQUAL(s1->jobs[1].business_days, 0);
    CU_ASSERT_EQUAL(s1->cutoff_min, 16 * 60 + 30);
    CU_ASSERT_STRING_EQUAL(s1->after_cutoff, "hold");
    CU_ASSERT_STRING_EQUAL(s2->timezone, "+08:00");
    CU_ASSERT_PTR_NULL(s2->calendar);
    CU_ASSERT_EQUAL(s2->n_jobs, 0);
    CU_ASSERT_EQUAL(s2->catch_up, 0);
    CU_ASSERT_EQUAL(s2->jitter_s, 5);
    CU_ASSERT_EQUAL(s2->cutoff_min, -1);
    CU_ASSERT_STRING_EQUAL(s2->after_cutoff, "flag");
    CU_ASSERT_EQUAL(sched_has_jobs(&c->banks[0]), 1);
    CU_ASSERT_EQUAL(sched_has_jobs(&c->banks[1]), 0);
    CU_ASSERT_EQUAL(sched_has_jobs(&c->banks[2]), 0);
    /* the scheduler loads what the config checked */
    struct sched *s = NULL;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(sched_prepare(c, &s, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(s);
    sched_free(s);
    cfg_free(c);
    cfg_problems_release(&p);
    tu_rmtree(dir);
    free(dir);
}

/* The commented example in etc/h2hd.conf.sample loads as written. */
static void test_sample_example(void)
{
    int lines = 0;
    char *ex = tu_conf_example("schedule", &lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
    CU_ASSERT(lines > 20);
    CU_ASSERT_EQUAL_FATAL(strncmp(ex, "bank = ", 7), 0);
    size_t n = strlen(ex);
    CU_ASSERT_FATAL(n > 9 && strcmp(ex + n - 2, ";\n") == 0);
    ex[n - 2] = '\0';
    char *dir = real_dir(tu_mkdtemp());
    char path[4200];
    char *text = malloc(n + 8192);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    snprintf(path, sizeof(path), "%s/h2hd.conf", dir);
    snprintf(text, n + 8192,
             "%sbanks = ( { name = \"b1\"; adapter = \"dirdrop\";\n"
             "  dirdrop = { outbox = \"bank/in\"; };\n"
             "  schedule = %s; } );\n"
             "channels = ( { name = \"erp\"; bank = \"b1\"; } );\n",
             conf_head(), ex + 7);
    CU_ASSERT_EQUAL_FATAL(tu_write_file(path, text, strlen(text)), 0);
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    int rc = cfg_load(path, &c, &p);
    for (size_t i = 0; i < p.n; i++)
        fprintf(stderr, "  problem: %s\n", p.v[i]);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const struct cfg_schedule *s = c->banks[0].schedule;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->n_jobs, 6);
    CU_ASSERT_STRING_EQUAL(s->jobs[5].kind, "reconcile");
    CU_ASSERT_EQUAL(sched_has_jobs(&c->banks[0]), 1);
    CU_ASSERT_STRING_EQUAL(s->timezone, "Asia/Shanghai");
    CU_ASSERT_EQUAL(s->cutoff_min, 16 * 60 + 30);
    cfg_free(c);
    cfg_problems_release(&p);
    free(text);
    free(ex);
    tu_rmtree(dir);
    free(dir);
}

/* ---- the store's memory ------------------------------------------------ */

static void test_store_rows(void)
{
    char dir[4096], db[4200];
    snprintf(dir, sizeof(dir), "%s", tu_mkdtemp());
    snprintf(db, sizeof(db), "%s/h2hd.db", dir);
    struct store *s = NULL;
    struct h2h_err err = {0};
    struct store_job j;
    CU_ASSERT_EQUAL_FATAL(store_open(db, &s, &err), 0);

    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(
        store_job_finished(s, "b1", "statements", 5, "ok", NULL, &err),
        H2H_ENOTFOUND); /* nothing started */
    CU_ASSERT_EQUAL(store_job_mark(s, "b1", "statements", 1000, &err), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err), 0);
    CU_ASSERT_EQUAL(j.sched_ms, 1000);
    CU_ASSERT_EQUAL(j.started_ms, 0);
    CU_ASSERT_STRING_EQUAL(j.result, "");
    CU_ASSERT_EQUAL(store_job_started(s, "b1", "statements", 2000, 2100, &err),
                    0);
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err), 0);
    CU_ASSERT_EQUAL(j.sched_ms, 2000);
    CU_ASSERT_EQUAL(j.started_ms, 2100);
    CU_ASSERT(j.ended_ms < j.started_ms); /* running, or never finished */
    CU_ASSERT_EQUAL(store_job_finished(s, "b1", "statements", 2500, "failed",
                                       "bank busy", &err),
                    0);
    store_close(s);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db, &s, &err), 0); /* durable */
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err), 0);
    CU_ASSERT_EQUAL(j.ended_ms, 2500);
    CU_ASSERT_STRING_EQUAL(j.result, "failed");
    CU_ASSERT_STRING_EQUAL(j.error, "bank busy");
    /* a new run clears the end, keeps the last result until it ends */
    CU_ASSERT_EQUAL(store_job_started(s, "b1", "statements", 3000, 3100, &err),
                    0);
    CU_ASSERT_EQUAL(
        store_job_finished(s, "b1", "statements", 3200, "ok", NULL, &err), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err), 0);
    CU_ASSERT_STRING_EQUAL(j.result, "ok");
    CU_ASSERT_STRING_EQUAL(j.error, "");
    /* mark keeps the run columns */
    CU_ASSERT_EQUAL(store_job_mark(s, "b1", "statements", 9000, &err), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err), 0);
    CU_ASSERT_EQUAL(j.sched_ms, 9000);
    CU_ASSERT_EQUAL(j.started_ms, 3100);
    CU_ASSERT_EQUAL(j.ended_ms, 3200);
    /* another kind, another bank: their own rows */
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "status", &j, &err), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_job_get(s, "b2", "statements", &j, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_job_mark(s, "", "statements", 1, &err), H2H_EINVALID);

    /* cut-off decisions: once per message */
    char id[STORE_ID_MAX], act[16];
    int64_t until = -1;
    struct store_accept in = {
        .channel = "erp",
        .bank = "b1",
        .kind = "payment",
        .orig_name = "p.xml",
        .sha256 = "0000000000000000000000000000000000000000000000000000000000"
                  "000001",
        .payload_path = "/nonexistent/p.xml",
        .size = 1,
    };
    CU_ASSERT_EQUAL_FATAL(store_accept(s, &in, id, &err), 0);
    CU_ASSERT_EQUAL(store_cutoff_get(s, id, act, &until, &err), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_cutoff_put(s, id, "held", 123000, &err), 0);
    CU_ASSERT_EQUAL(store_cutoff_put(s, id, "in_time", 0, &err), H2H_EDUP);
    CU_ASSERT_EQUAL(store_cutoff_get(s, id, act, &until, &err), 0);
    CU_ASSERT_STRING_EQUAL(act, "held");
    CU_ASSERT_EQUAL(until, 123000);
    CU_ASSERT_EQUAL(store_cutoff_put(s, "M20000101-000099", "held", 1, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);

    /* a version 2 store (before the scheduler) is migrated in place */
    sqlite3 *raw = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(db, &raw), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(raw,
                                 "DROP TABLE sched_job; DROP TABLE msg_cutoff;"
                                 "UPDATE meta SET value = 2 WHERE key = "
                                 "'schema_version';",
                                 NULL, NULL, NULL),
                    SQLITE_OK);
    sqlite3_close(raw);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(store_open(db, &s, &err), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "b1", "statements", &j, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(store_cutoff_put(s, id, "flagged", 0, &err), 0);
    CU_ASSERT_EQUAL(store_check(s, &err), 0);
    store_close(s);
    tu_rmtree(dir);
}

int main(void)
{
    static const struct tu_case cases[] = {
        {"next run, business days, jitter bounds", test_next_and_jitter},
        {"catch-up decisions", test_catchup},
        {"the day a run asks for", test_job_date},
        {"payment cut-off", test_cutoff},
        {"config errors and defaults", test_config_errors},
        {"the sample's schedule example", test_sample_example},
        {"store: jobs and cut-off decisions", test_store_rows},
        {NULL, NULL},
    };
    return tu_main("sched", cases);
}
