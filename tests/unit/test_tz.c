/*
 * test_tz.c - time zones against outside truth.
 *
 * The truth comes from three independent places: zdump -v (frozen below),
 * Debian's /usr/bin/python3 zoneinfo (run at test time over thousands of
 * instants and civil times around the 2026-2027 changes and later years
 * that only the footer rules cover), and glibc's timegm/gmtime_r for the
 * civil date arithmetic.  zic compiles "slim" zone files (transitions only
 * up to the last rule change, the rest from the footer) so the footer
 * code is checked against the same Python answers.  Hand-made TZif files
 * cover version 1, version 3 footers and every kind of broken file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "tz.h"

#define PY "/usr/bin/python3"

static struct tz *load(const char *name)
{
    struct tz *z = NULL;
    struct h2h_err err = {0};
    int rc = tz_load(name, &z, &err);
    if (rc != 0)
        fprintf(stderr, "tz_load(%s): %d %s\n", name, rc, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return z;
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void)
{
    static const struct {
        const char *name;
        int want;
    } t[] = {
        {"Europe/Berlin", 0},
        {"America/New_York", 0},
        {"Asia/Shanghai", 0},
        {"Etc/GMT+5", 0},
        {"America/Port-au-Prince", 0},
        {"UTC", 0},
        {"+08:00", 0},
        {"-05:30", 0},
        {"+00:00", 0},
        {"+18:00", 0},
        {"+18:01", H2H_EINVALID},
        {"+19:00", H2H_EINVALID},
        {"+8:00", H2H_EINVALID},
        {"../etc/passwd", H2H_EINVALID},
        {"Europe/../../etc/passwd", H2H_EINVALID},
        {"/etc/passwd", H2H_EINVALID},
        {"Europe//Berlin", H2H_EINVALID},
        {"Europe/Berlin/", H2H_EINVALID},
        {"Asia/Shang hai", H2H_EINVALID},
        {"Europe/Berlin;id", H2H_EINVALID},
        {"zone.tab", H2H_EINVALID},
        {"Europe\\Berlin", H2H_EINVALID},
        {"", H2H_EINVALID},
        {"No/Such_Zone", H2H_ENOTFOUND},
        {"Europe", H2H_ENOTFOUND}, /* a directory */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct tz *z = NULL;
        struct h2h_err err = {0};
        int rc = tz_load(t[i].name, &z, &err);
        if (rc != t[i].want)
            fprintf(stderr, "name \"%s\": got %d (%s), want %d\n", t[i].name,
                    rc, err.msg, t[i].want);
        CU_ASSERT_EQUAL(rc, t[i].want);
        CU_ASSERT((rc == 0) == (z != NULL));
        if (rc != 0)
            CU_ASSERT(err.msg[0] != '\0');
        tz_free(z);
    }
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    struct tz *z = NULL;
    CU_ASSERT_EQUAL(tz_load(longname, &z, NULL), H2H_EINVALID);
    CU_ASSERT_EQUAL(tz_load(NULL, &z, NULL), H2H_EINVALID);
    tz_free(NULL);
}

static void test_fixed(void)
{
    static const struct {
        const char *name;
        int off;
    } t[] = {{"UTC", 0},
             {"+08:00", 28800},
             {"-05:30", -19800},
             {"+05:45", 20700},
             {"-00:00", 0}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct tz *z = load(t[i].name);
        CU_ASSERT_STRING_EQUAL(tz_name(z), t[i].name);
        for (time_t u = -2000000000; u < 4000000000; u += 123456789) {
            CU_ASSERT_EQUAL(tz_offset_at(z, u), t[i].off);
        }
        struct tm tm;
        CU_ASSERT_EQUAL(tz_to_local(z, 1790000000, &tm), 0);
        CU_ASSERT_EQUAL(tm.tm_gmtoff, t[i].off);
        CU_ASSERT_STRING_EQUAL(tm.tm_zone, t[i].name);
        time_t at;
        CU_ASSERT_EQUAL(tz_next_transition(z, 0, &at), H2H_ENOTFOUND);
        CU_ASSERT_EQUAL(tz_prev_transition(z, 0, &at), H2H_ENOTFOUND);
        /* 2026-06-01 12:00 civil */
        struct tm c = {
            .tm_year = 126, .tm_mon = 5, .tm_mday = 1, .tm_hour = 12};
        time_t u;
        CU_ASSERT_EQUAL(tz_from_local(z, &c, 0, &u), 0);
        CU_ASSERT_EQUAL(u, 1780315200 - t[i].off);
        tz_free(z);
    }
    /* NULL is UTC */
    CU_ASSERT_EQUAL(tz_offset_at(NULL, 1790000000), 0);
    CU_ASSERT_STRING_EQUAL(tz_name(NULL), "UTC");
}

/* ---- civil dates against glibc -------------------------------------- */

static void test_civil_dates(void)
{
    CU_ASSERT_EQUAL(tz_days_from_civil(1970, 1, 1), 0);
    CU_ASSERT_EQUAL(tz_days_from_civil(2000, 3, 1), 11017);
    CU_ASSERT_EQUAL(tz_days_from_civil(1, 1, 1), -719162);
    CU_ASSERT_EQUAL(tz_days_from_civil(9999, 12, 31), 2932896);
    CU_ASSERT_EQUAL(tz_days_from_civil(2028, 2, 29), 21243);
    CU_ASSERT_EQUAL(tz_weekday(0), 4);                               /* Thu */
    CU_ASSERT_EQUAL(tz_weekday(tz_days_from_civil(2026, 2, 17)), 2); /* Tue */
    CU_ASSERT_EQUAL(tz_weekday(tz_days_from_civil(1, 1, 1)), 1);     /* Mon */
    CU_ASSERT(tz_is_leap_year(2028) && tz_is_leap_year(2000));
    CU_ASSERT(!tz_is_leap_year(2100) && !tz_is_leap_year(2027));
    CU_ASSERT_EQUAL(tz_days_in_month(2028, 2), 29);
    CU_ASSERT_EQUAL(tz_days_in_month(2100, 2), 28);
    CU_ASSERT_EQUAL(tz_days_in_month(2026, 13), 0);
    CU_ASSERT(tz_valid_date(2028, 2, 29));
    CU_ASSERT(!tz_valid_date(2027, 2, 29));
    CU_ASSERT(!tz_valid_date(2026, 4, 31));
    CU_ASSERT(!tz_valid_date(0, 1, 1));
    CU_ASSERT(!tz_valid_date(10000, 1, 1));

    /* glibc's gmtime_r is the outside truth for every 7919th day from
     * year 1 to 9999, and the round trip must be exact for all. */
    int bad = 0;
    for (int64_t d = -719162; d <= 2932896; d += (bad ? 1 : 7919)) {
        time_t t = (time_t)(d * 86400);
        struct tm g;
        if (!gmtime_r(&t, &g))
            continue;
        int y, m, dd;
        tz_civil_from_days(d, &y, &m, &dd);
        if (y != g.tm_year + 1900 || m != g.tm_mon + 1 || dd != g.tm_mday ||
            tz_weekday(d) != g.tm_wday || tz_days_from_civil(y, m, dd) != d) {
            if (bad++ < 5)
                fprintf(stderr, "day %lld: %d-%d-%d\n", (long long)d, y, m, dd);
        }
        if (bad > 20)
            break;
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int64_t d = -800000; d <= 3000000; d++) {
        int y, m, dd;
        tz_civil_from_days(d, &y, &m, &dd);
        if (tz_days_from_civil(y, m, dd) != d) {
            CU_FAIL("civil round trip");
            break;
        }
    }
}

/* ---- frozen zdump -v output ------------------------------------------- */

/*
 * Produced with `zdump -v -c 2026,2028 Europe/Berlin America/New_York
 * Asia/Shanghai` (tzdata of Debian 12): each change as the first second of
 * the new local time, with the offsets before and after.
 */
static const struct {
    const char *zone;
    time_t at;
    int before, after;
    int isdst;
    const char *abbr;
    int hour, min; /* local time at `at` */
} zdump_changes[] = {
    {"Europe/Berlin", 1774746000, 3600, 7200, 1, "CEST", 3, 0}, /* 03-29 */
    {"Europe/Berlin", 1792890000, 7200, 3600, 0, "CET", 2, 0},  /* 10-25 */
    {"Europe/Berlin", 1806195600, 3600, 7200, 1, "CEST", 3, 0}, /* 03-28 */
    {"Europe/Berlin", 1824944400, 7200, 3600, 0, "CET", 2, 0},  /* 10-31 */
    {"America/New_York", 1772953200, -18000, -14400, 1, "EDT", 3, 0},
    {"America/New_York", 1793512800, -14400, -18000, 0, "EST", 1, 0},
    {"America/New_York", 1805007600, -18000, -14400, 1, "EDT", 3, 0},
    {"America/New_York", 1825567200, -14400, -18000, 0, "EST", 1, 0},
};

static void test_zdump_frozen(void)
{
    for (size_t i = 0; i < sizeof(zdump_changes) / sizeof(zdump_changes[0]);
         i++) {
        struct tz *z = load(zdump_changes[i].zone);
        time_t at = zdump_changes[i].at;
        CU_ASSERT_EQUAL(tz_offset_at(z, at - 1), zdump_changes[i].before);
        CU_ASSERT_EQUAL(tz_offset_at(z, at), zdump_changes[i].after);
        struct tm tm;
        CU_ASSERT_EQUAL(tz_to_local(z, at, &tm), 0);
        CU_ASSERT_EQUAL(tm.tm_isdst, zdump_changes[i].isdst);
        CU_ASSERT_STRING_EQUAL(tm.tm_zone, zdump_changes[i].abbr);
        CU_ASSERT_EQUAL(tm.tm_hour, zdump_changes[i].hour);
        CU_ASSERT_EQUAL(tm.tm_min, zdump_changes[i].min);
        time_t t;
        CU_ASSERT_EQUAL(tz_next_transition(z, at - 1, &t), 0);
        CU_ASSERT_EQUAL(t, at);
        CU_ASSERT_EQUAL(tz_prev_transition(z, at, &t), 0);
        CU_ASSERT_EQUAL(t, at);
        CU_ASSERT_EQUAL(tz_prev_transition(z, at - 1, &t), 0);
        CU_ASSERT(t < at);
        tz_free(z);
    }
    /* Shanghai has not changed since 1991 and never will by its rules. */
    struct tz *z = load("Asia/Shanghai");
    time_t t;
    CU_ASSERT_EQUAL(tz_next_transition(z, 1767225600, &t), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(tz_offset_at(z, 1767225600), 28800);
    tz_free(z);
}

/* The two awkward civil times of the brief, spelled out. */
static void test_berlin_gap_overlap(void)
{
    struct tz *z = load("Europe/Berlin");
    struct tm c = {
        .tm_year = 126, .tm_mon = 2, .tm_mday = 29, .tm_hour = 2, .tm_min = 30};
    struct tz_local r;
    CU_ASSERT_EQUAL(tz_resolve_local(z, &c, &r), 0);
    CU_ASSERT_EQUAL(r.kind, TZ_LOCAL_GAP);
    CU_ASSERT_EQUAL(r.first, 1774747800);     /* 01:30Z = 03:30 CEST */
    CU_ASSERT_EQUAL(r.after_gap, 1774746000); /* 01:00Z = 03:00 CEST */
    time_t u;
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 0, &u), 0);
    CU_ASSERT_EQUAL(u, 1774747800);
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 1, &u), 0);
    CU_ASSERT_EQUAL(u, 1774747800);

    c = (struct tm){
        .tm_year = 126, .tm_mon = 9, .tm_mday = 25, .tm_hour = 2, .tm_min = 30};
    CU_ASSERT_EQUAL(tz_resolve_local(z, &c, &r), 0);
    CU_ASSERT_EQUAL(r.kind, TZ_LOCAL_OVERLAP);
    CU_ASSERT_EQUAL(r.first, 1792888200);  /* 00:30Z, CEST */
    CU_ASSERT_EQUAL(r.second, 1792891800); /* 01:30Z, CET */
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 0, &u), 0);
    CU_ASSERT_EQUAL(u, 1792888200);
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 1, &u), 0);
    CU_ASSERT_EQUAL(u, 1792891800);

    /* normalised like timegm: March 0 is the last of February */
    c = (struct tm){.tm_year = 126, .tm_mon = 2, .tm_mday = 0, .tm_hour = 25};
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 0, &u), 0);
    CU_ASSERT_EQUAL(u, 1772323200); /* 2026-03-01 01:00 CET = 00:00Z */
    c = (struct tm){.tm_year = 126, .tm_mon = -1, .tm_mday = 31};
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 0, &u), 0);
    CU_ASSERT_EQUAL(u, 1767135600); /* 2025-12-31 00:00 CET */

    /* range */
    c = (struct tm){.tm_year = 10000 - 1900, .tm_mon = 0, .tm_mday = 2};
    CU_ASSERT_EQUAL(tz_from_local(z, &c, 0, &u), H2H_EINVALID);
    struct tm tm;
    CU_ASSERT_EQUAL(tz_to_local(z, TZ_TIME_MAX + 1, &tm), H2H_EINVALID);
    CU_ASSERT_EQUAL(tz_to_local(z, TZ_TIME_MIN - 1, &tm), H2H_EINVALID);
    CU_ASSERT_EQUAL(tz_to_local(z, TZ_TIME_MAX, &tm), 0);
    CU_ASSERT_EQUAL(tz_to_local(z, TZ_TIME_MIN, &tm), 0);
    int64_t day;
    CU_ASSERT_EQUAL(tz_local_day(z, 1792889999, &day), 0); /* 02:59 CEST */
    CU_ASSERT_EQUAL(day, tz_days_from_civil(2026, 10, 25));
    CU_ASSERT_EQUAL(tz_local_day(z, 1792792799, &day), 0); /* 23:59 CEST */
    CU_ASSERT_EQUAL(day, tz_days_from_civil(2026, 10, 23));
    tz_free(z);
}

/* ---- Python zoneinfo at test time -------------------------------------- */

/*
 * For each zone: instants every 6 hours through 2026-2027, 2040 and 2100
 * (the last two beyond the fat files' tables: footer rules), and every 15
 * minutes from 3 hours before to 3 hours after each offset change there,
 * plus the seconds around it ("I" lines); then civil times every 10
 * minutes around each change with both folds and the kind ("L" lines).
 */
static const char py_instants[] =
    "import sys, datetime as dt\n"
    "from zoneinfo import ZoneInfo\n"
    "E = dt.datetime(1970, 1, 1)\n"
    "def ts(d): return int(d.timestamp())\n"
    "def off(z, t): return int(dt.datetime.fromtimestamp(t, z)"
    ".utcoffset().total_seconds())\n"
    "def inst(name, z, t):\n"
    "    d = dt.datetime.fromtimestamp(t, z)\n"
    "    print('I', name, t, int(d.utcoffset().total_seconds()),"
    " 1 if d.dst() else 0, d.tzname(), d.year, d.month, d.day, d.hour,"
    " d.minute, d.second, (d.weekday() + 1) % 7,"
    " d.timetuple().tm_yday - 1)\n"
    "def changes(z, a, b):\n"
    "    out = []\n"
    "    t = a\n"
    "    while t < b:\n"
    "        if off(z, t) != off(z, t + 3600):\n"
    "            lo, hi = t, t + 3600\n"
    "            while hi - lo > 1:\n"
    "                m = (lo + hi) // 2\n"
    "                if off(z, m) == off(z, t): lo = m\n"
    "                else: hi = m\n"
    "            out.append(hi)\n"
    "        t += 3600\n"
    "    return out\n"
    "for name in sys.argv[1:]:\n"
    "    z = ZoneInfo(name)\n"
    "    for y0, y1 in ((2026, 2028), (2040, 2041), (2100, 2101)):\n"
    "        a = ts(dt.datetime(y0, 1, 1, tzinfo=dt.timezone.utc))\n"
    "        b = ts(dt.datetime(y1, 1, 1, tzinfo=dt.timezone.utc))\n"
    "        for t in range(a, b, 6 * 3600): inst(name, z, t)\n"
    "        for T in changes(z, a, b):\n"
    "            for t in list(range(T - 3 * 3600, T + 3 * 3600, 900))"
    " + [T - 1, T, T + 1]:\n"
    "                inst(name, z, t)\n"
    "            ob, oa = off(z, T - 1), off(z, T)\n"
    "            lo, hi = T + min(ob, oa) - 3 * 3600, T + max(ob, oa) + "
    "3 * 3600\n"
    "            Ls = list(range(lo, hi, 600)) + [T + ob - 1, T + ob, T + oa"
    " - 1, T + oa]\n"
    "            for L in Ls:\n"
    "                n = E + dt.timedelta(seconds=L)\n"
    "                t0 = ts(n.replace(tzinfo=z, fold=0))\n"
    "                t1 = ts(n.replace(tzinfo=z, fold=1))\n"
    "                back = dt.datetime.fromtimestamp(t0, z)"
    ".replace(tzinfo=None)\n"
    "                kind = 1 if back != n else (2 if t0 != t1 else 0)\n"
    "                print('L', name, L, kind, t0, t1, T if kind == 1 else"
    " t0)\n";

struct zone_cache {
    char name[64];
    struct tz *z;
};

static struct tz *cached(struct zone_cache *zc, size_t n, const char *name,
                         const char *dir)
{
    for (size_t i = 0; i < n; i++) {
        if (zc[i].z && strcmp(zc[i].name, name) == 0)
            return zc[i].z;
        if (!zc[i].z) {
            snprintf(zc[i].name, sizeof(zc[i].name), "%s", name);
            struct h2h_err err = {0};
            if (tz_load_dir(dir, name, &zc[i].z, &err) != 0) {
                fprintf(stderr, "load %s/%s: %s\n", dir ? dir : "", name,
                        err.msg);
                return NULL;
            }
            return zc[i].z;
        }
    }
    return NULL;
}

/* Compare every line of a Python answer file; returns mismatches. */
static int compare_python(const char *path, const char *dir, int *lines)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    struct zone_cache zc[8] = {{{0}, NULL}};
    char line[512];
    int bad = 0;
    *lines = 0;
    while (fgets(line, sizeof(line), f)) {
        char kind, name[64], abbr[32];
        long long t, L, t0, t1, ag;
        int off, isdst, y, mo, d, h, mi, s, wd, yd, k;
        struct tz *z;
        if (sscanf(line, "I %63s %lld %d %d %31s %d %d %d %d %d %d %d %d", name,
                   &t, &off, &isdst, abbr, &y, &mo, &d, &h, &mi, &s, &wd,
                   &yd) == 13) {
            kind = 'I';
        } else if (sscanf(line, "L %63s %lld %d %lld %lld %lld", name, &L, &k,
                          &t0, &t1, &ag) == 6) {
            kind = 'L';
        } else {
            fprintf(stderr, "unparsed python line: %s", line);
            bad++;
            continue;
        }
        (*lines)++;
        z = cached(zc, 8, name, dir);
        if (!z) {
            bad++;
            continue;
        }
        if (kind == 'I') {
            struct tm tm;
            int ok = tz_to_local(z, (time_t)t, &tm) == 0 &&
                     tm.tm_gmtoff == off && tm.tm_isdst == isdst &&
                     strcmp(tm.tm_zone, abbr) == 0 && tm.tm_year + 1900 == y &&
                     tm.tm_mon + 1 == mo && tm.tm_mday == d &&
                     tm.tm_hour == h && tm.tm_min == mi && tm.tm_sec == s &&
                     tm.tm_wday == wd && tm.tm_yday == yd &&
                     tz_offset_at(z, (time_t)t) == off;
            if (!ok && bad++ < 10)
                fprintf(stderr,
                        "%s %lld: got %ld %d %s %d-%d-%d %d:%d:%d, "
                        "python %s",
                        name, t, (long)tm.tm_gmtoff, tm.tm_isdst, tm.tm_zone,
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, line);
        } else {
            int64_t days = L >= 0 ? L / 86400 : -((-L + 86399) / 86400);
            int64_t sod = L - days * 86400;
            int cy, cm, cd;
            tz_civil_from_days(days, &cy, &cm, &cd);
            struct tm c = {.tm_year = cy - 1900,
                           .tm_mon = cm - 1,
                           .tm_mday = cd,
                           .tm_hour = (int)(sod / 3600),
                           .tm_min = (int)(sod % 3600 / 60),
                           .tm_sec = (int)(sod % 60)};
            struct tz_local r;
            time_t f0 = 0, f1 = 0;
            int ok = tz_resolve_local(z, &c, &r) == 0 &&
                     tz_from_local(z, &c, 0, &f0) == 0 &&
                     tz_from_local(z, &c, 1, &f1) == 0 && (int)r.kind == k &&
                     f0 == t0 && r.after_gap == ag &&
                     /* in a gap we move forward whatever the fold;
                      * Python's fold=1 moves back */
                     (k == 1 ? f1 == t0 : f1 == t1);
            if (!ok && bad++ < 10)
                fprintf(stderr,
                        "%s civil %lld: got kind %d %lld %lld %lld, "
                        "python %s",
                        name, L, (int)r.kind, (long long)f0, (long long)f1,
                        (long long)r.after_gap, line);
        }
    }
    fclose(f);
    for (size_t i = 0; i < 8; i++)
        tz_free(zc[i].z);
    return bad;
}

static const char *write_script(const char *dir, const char *name,
                                const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(tu_write_file(path, text, strlen(text)), 0);
    return path;
}

static void test_python_zoneinfo(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char out[512];
    snprintf(out, sizeof(out), "%s/py.txt", dir);
    const char *script = write_script(dir, "inst.py", py_instants);
    int rc = tu_system(PY " %s Europe/Berlin America/New_York Asia/Shanghai "
                          "Australia/Lord_Howe America/Sao_Paulo > %s",
                       script, out);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    int lines = 0;
    int bad = compare_python(out, NULL, &lines);
    fprintf(stderr, "  python zoneinfo: %d lines, %d mismatches\n", lines, bad);
    CU_ASSERT_EQUAL(bad, 0);
    /* 3 zones x (2 years + 2 more) every 6 hours, plus the changes */
    CU_ASSERT(lines > 20000);

    /* The same answers from zic's slim files, where everything after the
     * last rule change (1996 for Berlin) comes from the footer. */
    char slim[512];
    snprintf(slim, sizeof(slim), "%s/slim", dir);
    rc = tu_system("zic -b slim -d %s /usr/share/zoneinfo/tzdata.zi "
                   "2>/dev/null",
                   slim);
    if (rc != 0) {
        fprintf(stderr,
                "  zic -b slim unavailable (%d): slim check "
                "skipped\n",
                rc);
    } else {
        bad = compare_python(out, slim, &lines);
        fprintf(stderr, "  slim files: %d lines, %d mismatches\n", lines, bad);
        CU_ASSERT_EQUAL(bad, 0);
    }
    tu_rmtree(dir);
}

/* Every zone Python knows, at instants from 1900 to 2100. */
static const char py_all[] =
    "import sys, datetime as dt, zoneinfo\n"
    "T = [-2208988800, -1000000000, 0, 946684800, 1767225600, 1783987200,\n"
    "     1798761600, 2240524800, 2256163200, 4102444800, 4118083200]\n"
    "for name in sorted(zoneinfo.available_timezones()):\n"
    "    if name in ('localtime',): continue\n"
    "    z = zoneinfo.ZoneInfo(name)\n"
    "    for t in T:\n"
    "        d = dt.datetime.fromtimestamp(t, z)\n"
    "        print(name, t, int(d.utcoffset().total_seconds()), d.tzname())\n";

static void test_all_zones(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char out[512], slim[512];
    snprintf(out, sizeof(out), "%s/all.txt", dir);
    snprintf(slim, sizeof(slim), "%s/slim", dir);
    const char *script = write_script(dir, "all.py", py_all);
    CU_ASSERT_EQUAL_FATAL(tu_system(PY " %s > %s", script, out), 0);
    int have_slim = tu_system("zic -b slim -d %s /usr/share/zoneinfo/tzdata.zi"
                              " 2>/dev/null",
                              slim) == 0;
    FILE *f = fopen(out, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[256], last[64] = "";
    struct tz *z = NULL, *zs = NULL;
    int bad = 0, zones = 0, lines = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[64], abbr[32];
        long long t;
        int off;
        if (sscanf(line, "%63s %lld %d %31s", name, &t, &off, abbr) != 4)
            continue;
        if (strcmp(name, last) != 0) {
            tz_free(z);
            tz_free(zs);
            z = zs = NULL;
            snprintf(last, sizeof(last), "%s", name);
            struct h2h_err err = {0};
            if (tz_load(name, &z, &err) != 0) {
                fprintf(stderr, "load %s: %s\n", name, err.msg);
                bad++;
            }
            if (have_slim && tz_load_dir(slim, name, &zs, &err) != 0) {
                /* zic writes backward links only when asked; fine */
                zs = NULL;
            }
            zones++;
        }
        lines++;
        struct tm tm;
        if (z && (tz_to_local(z, (time_t)t, &tm) != 0 || tm.tm_gmtoff != off ||
                  strcmp(tm.tm_zone, abbr) != 0)) {
            if (bad++ < 10)
                fprintf(stderr, "%s %lld: got %ld %s, python %d %s\n", name, t,
                        (long)tm.tm_gmtoff, tm.tm_zone, off, abbr);
        }
        if (zs && (tz_to_local(zs, (time_t)t, &tm) != 0 ||
                   tm.tm_gmtoff != off || strcmp(tm.tm_zone, abbr) != 0)) {
            if (bad++ < 10)
                fprintf(stderr, "slim %s %lld: got %ld %s, python %d %s\n",
                        name, t, (long)tm.tm_gmtoff, tm.tm_zone, off, abbr);
        }
    }
    fclose(f);
    tz_free(z);
    tz_free(zs);
    fprintf(stderr, "  %d zones, %d instants, %d mismatches\n", zones, lines,
            bad);
    CU_ASSERT(zones > 300);
    CU_ASSERT_EQUAL(bad, 0);
    tu_rmtree(dir);
}

/* ---- hand-made TZif files ----------------------------------------------- */

struct tzw {
    unsigned char b[4096];
    size_t n;
};

static void put(struct tzw *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put32(struct tzw *w, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    put(w, b, 4);
}

static void put64(struct tzw *w, int64_t v)
{
    put32(w, (uint32_t)((uint64_t)v >> 32));
    put32(w, (uint32_t)v);
}

struct ttype {
    int32_t off;
    int dst;
    int abbr;
};

/* header + one data block; timesize 4 or 8 */
static void block(struct tzw *w, char version, int timesize, size_t n,
                  const int64_t *at, const unsigned char *idx, size_t nt,
                  const struct ttype *tt, const char *chars, size_t nchars,
                  uint32_t leapcnt)
{
    put(w, "TZif", 4);
    unsigned char v = (unsigned char)version;
    put(w, &v, 1);
    unsigned char zero[15] = {0};
    put(w, zero, 15);
    put32(w, 0);       /* isutcnt */
    put32(w, 0);       /* isstdcnt */
    put32(w, leapcnt); /* leapcnt */
    put32(w, (uint32_t)n);
    put32(w, (uint32_t)nt);
    put32(w, (uint32_t)nchars);
    for (size_t i = 0; i < n; i++) {
        if (timesize == 8)
            put64(w, at[i]);
        else
            put32(w, (uint32_t)at[i]);
    }
    put(w, idx, n);
    for (size_t i = 0; i < nt; i++) {
        put32(w, (uint32_t)tt[i].off);
        unsigned char b[2] = {(unsigned char)tt[i].dst,
                              (unsigned char)tt[i].abbr};
        put(w, b, 2);
    }
    put(w, chars, nchars);
    for (uint32_t i = 0; i < leapcnt; i++) {
        if (timesize == 8)
            put64(w, 78796800 + i);
        else
            put32(w, 78796800 + i);
        put32(w, i + 1);
    }
}

static int load_bytes(const char *dir, const char *name, const struct tzw *w,
                      struct tz **z, struct h2h_err *err)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    CU_ASSERT_EQUAL(tu_write_file(path, w->b, w->n), 0);
    *z = NULL;
    return tz_load_dir(dir, name, z, err);
}

static void test_tzif_versions(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    struct h2h_err err = {0};
    struct tz *z;
    struct tm tm;

    /* Version 1: 32-bit times only, no footer; the last type holds on. */
    static const char ch1[] = "LMT\0AAA\0BBB";
    const struct ttype tt1[] = {{1000, 0, 0}, {3600, 0, 4}, {7200, 1, 8}};
    const int64_t at1[] = {-1000000000, 1000000000};
    const unsigned char ix1[] = {1, 2};
    struct tzw w = {.n = 0};
    block(&w, 0, 4, 2, at1, ix1, 3, tt1, ch1, sizeof(ch1), 0);
    CU_ASSERT_EQUAL_FATAL(load_bytes(dir, "V1", &w, &z, &err), 0);
    CU_ASSERT_EQUAL(tz_offset_at(z, -2000000000), 1000); /* type 0 first */
    CU_ASSERT_EQUAL(tz_offset_at(z, -1000000001), 1000);
    CU_ASSERT_EQUAL(tz_offset_at(z, -1000000000), 3600);
    CU_ASSERT_EQUAL(tz_offset_at(z, 999999999), 3600);
    CU_ASSERT_EQUAL(tz_offset_at(z, 1000000000), 7200);
    CU_ASSERT_EQUAL(tz_offset_at(z, INT64_C(5000000000)), 7200);
    CU_ASSERT_EQUAL(tz_to_local(z, 1000000000, &tm), 0);
    CU_ASSERT_STRING_EQUAL(tm.tm_zone, "BBB");
    CU_ASSERT_EQUAL(tm.tm_isdst, 1);
    time_t t;
    CU_ASSERT_EQUAL(tz_next_transition(z, 1000000000, &t), H2H_ENOTFOUND);
    tz_free(z);

    /* Version 2: a dummy v1 block, 64-bit times past 2038, a footer with
     * a <+03> designation and nothing after. */
    static const char ch2[] = "LMT\0+03";
    const struct ttype tt2[] = {{7324, 0, 0}, {10800, 0, 4}};
    const int64_t at2[] = {INT64_C(4102444800)}; /* 2100-01-01 */
    const unsigned char ix2[] = {1};
    w.n = 0;
    block(&w, '2', 4, 0, NULL, NULL, 1, tt2, ch2, 4, 0);
    block(&w, '2', 8, 1, at2, ix2, 2, tt2, ch2, sizeof(ch2), 0);
    put(&w, "\n<+03>-3\n", 9);
    CU_ASSERT_EQUAL_FATAL(load_bytes(dir, "V2", &w, &z, &err), 0);
    CU_ASSERT_EQUAL(tz_offset_at(z, INT64_C(4102444799)), 7324);
    CU_ASSERT_EQUAL(tz_offset_at(z, INT64_C(4102444800)), 10800);
    CU_ASSERT_EQUAL(tz_to_local(z, INT64_C(4200000000), &tm), 0);
    CU_ASSERT_STRING_EQUAL(tm.tm_zone, "+03");
    CU_ASSERT_EQUAL(tm.tm_gmtoff, 10800);
    tz_free(z);

    /* Version 3 footer: DST all year (EST5EDT,0/0,J365/25), and negative
     * rule times (America/Nuuk's <-02>2<-01>,M3.5.0/-1,M10.5.0/0). */
    static const char ch3[] = "EST\0EDT";
    const struct ttype tt3[] = {{-18000, 0, 0}, {-14400, 1, 4}};
    const int64_t at3[] = {0};
    const unsigned char ix3[] = {0};
    w.n = 0;
    block(&w, '3', 4, 0, NULL, NULL, 1, tt3, ch3, 4, 0);
    block(&w, '3', 8, 1, at3, ix3, 2, tt3, ch3, sizeof(ch3), 0);
    put(&w, "\nEST5EDT,0/0,J365/25\n", 21);
    CU_ASSERT_EQUAL_FATAL(load_bytes(dir, "V3", &w, &z, &err), 0);
    for (int64_t u = 86400; u < INT64_C(4102444800); u += 86400 * 7 + 3607) {
        if (tz_offset_at(z, u) != -14400) {
            fprintf(stderr, "permanent DST broken at %lld\n", (long long)u);
            CU_FAIL("permanent DST");
            break;
        }
    }
    /* around a new year, where one year's end meets the next one's start */
    CU_ASSERT_EQUAL(tz_offset_at(z, 1798779600), -14400); /* 2027-01-01 */
    CU_ASSERT_EQUAL(tz_offset_at(z, 1798779599), -14400);
    tz_free(z);

    static const char ch4[] = "-02\0-01";
    const struct ttype tt4[] = {{-7200, 0, 0}, {-3600, 1, 4}};
    w.n = 0;
    block(&w, '3', 4, 0, NULL, NULL, 1, tt4, ch4, 4, 0);
    block(&w, '3', 8, 0, NULL, NULL, 2, tt4, ch4, sizeof(ch4), 0);
    put(&w, "\n<-02>2<-01>,M3.5.0/-1,M10.5.0/0\n", 33);
    CU_ASSERT_EQUAL_FATAL(load_bytes(dir, "V3b", &w, &z, &err), 0);
    /* 2026: DST from Sat 03-28 23:00 local std (01:00Z 03-29) to Sun
     * 10-25 00:00 local DST (01:00Z 10-25) - the EU's 01:00Z. */
    CU_ASSERT_EQUAL(tz_offset_at(z, 1774746000 - 1), -7200);
    CU_ASSERT_EQUAL(tz_offset_at(z, 1774746000), -3600);
    CU_ASSERT_EQUAL(tz_offset_at(z, 1792890000 - 1), -3600);
    CU_ASSERT_EQUAL(tz_offset_at(z, 1792890000), -7200);
    CU_ASSERT_EQUAL(tz_next_transition(z, 1774746000 - 1, &t), 0);
    CU_ASSERT_EQUAL(t, 1774746000);
    CU_ASSERT_EQUAL(tz_next_transition(z, 1774746000, &t), 0);
    CU_ASSERT_EQUAL(t, 1792890000);
    CU_ASSERT_EQUAL(tz_prev_transition(z, 1792890000 + 5, &t), 0);
    CU_ASSERT_EQUAL(t, 1792890000);
    tz_free(z);
    tu_rmtree(dir);
}

static void test_tzif_broken(void)
{
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    static const char ch[] = "AAA\0BBB";
    const struct ttype tt[] = {{3600, 0, 0}, {7200, 1, 4}};
    const int64_t at[] = {100, 200};
    const unsigned char ix[] = {0, 1};
    const int64_t at_desc[] = {200, 100};
    const unsigned char ix_bad[] = {0, 2};
    const struct ttype tt_badabbr[] = {{3600, 0, 0}, {7200, 1, 9}};
    const struct ttype tt_badoff[] = {{3600, 0, 0}, {100000, 1, 4}};
    const struct ttype tt_baddst[] = {{3600, 0, 0}, {7200, 2, 4}};
    static const struct {
        const char *label;
        int kind;
        int want;
    } t[] = {
        {"bad magic", 0, H2H_EPARSE},
        {"header truncated", 1, H2H_EPARSE},
        {"data truncated", 2, H2H_EPARSE},
        {"type index out of range", 3, H2H_EPARSE},
        {"times not ascending", 4, H2H_EPARSE},
        {"designation out of range", 5, H2H_EPARSE},
        {"offset out of range", 6, H2H_EPARSE},
        {"isdst not 0/1", 7, H2H_EPARSE},
        {"footer missing", 8, H2H_EPARSE},
        {"footer bad TZ string", 9, H2H_EPARSE},
        {"footer DST without rules", 10, H2H_EPARSE},
        {"leap seconds", 11, H2H_EUNSUPPORTED},
        {"no types", 12, H2H_EPARSE},
        {"empty file", 13, H2H_EPARSE},
        {"footer rule out of range", 14, H2H_EPARSE},
        {"v2 second block truncated", 15, H2H_EPARSE},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct tzw w = {.n = 0};
        switch (t[i].kind) {
        case 0:
            block(&w, 0, 4, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            w.b[0] = 'X';
            break;
        case 1:
            block(&w, 0, 4, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            w.n = 30;
            break;
        case 2:
            block(&w, 0, 4, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            w.n -= 3;
            break;
        case 3: block(&w, 0, 4, 2, at, ix_bad, 2, tt, ch, sizeof(ch), 0); break;
        case 4:
            block(&w, 0, 4, 2, at_desc, ix, 2, tt, ch, sizeof(ch), 0);
            break;
        case 5:
            block(&w, 0, 4, 2, at, ix, 2, tt_badabbr, ch, sizeof(ch), 0);
            break;
        case 6:
            block(&w, 0, 4, 2, at, ix, 2, tt_badoff, ch, sizeof(ch), 0);
            break;
        case 7:
            block(&w, 0, 4, 2, at, ix, 2, tt_baddst, ch, sizeof(ch), 0);
            break;
        case 8:
            block(&w, '2', 4, 0, NULL, NULL, 1, tt, ch, 4, 0);
            block(&w, '2', 8, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            break;
        case 9:
            block(&w, '2', 4, 0, NULL, NULL, 1, tt, ch, 4, 0);
            block(&w, '2', 8, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            put(&w, "\nAAA-1BBB,M13.1.0,M10.5.0\n", 26);
            break;
        case 10:
            block(&w, '2', 4, 0, NULL, NULL, 1, tt, ch, 4, 0);
            block(&w, '2', 8, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            put(&w, "\nAAA-1BBB\n", 10);
            break;
        case 11:
            block(&w, '2', 4, 0, NULL, NULL, 1, tt, ch, 4, 0);
            block(&w, '2', 8, 2, at, ix, 2, tt, ch, sizeof(ch), 2);
            put(&w, "\nAAA-1\n", 7);
            break;
        case 12:
            block(&w, 0, 4, 0, NULL, NULL, 0, tt, ch, sizeof(ch), 0);
            break;
        case 13: break;
        case 14:
            block(&w, '2', 4, 0, NULL, NULL, 1, tt, ch, 4, 0);
            block(&w, '2', 8, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            put(&w, "\nAAA-1BBB,J366,M10.5.0/168\n", 27);
            break;
        case 15:
            block(&w, '2', 4, 0, NULL, NULL, 1, tt, ch, 4, 0);
            block(&w, '2', 8, 2, at, ix, 2, tt, ch, sizeof(ch), 0);
            w.n -= 5;
            break;
        }
        struct tz *z = NULL;
        struct h2h_err err = {0};
        int rc = load_bytes(dir, "Broken", &w, &z, &err);
        if (rc != t[i].want)
            fprintf(stderr, "%s: got %d (%s), want %d\n", t[i].label, rc,
                    err.msg, t[i].want);
        CU_ASSERT_EQUAL(rc, t[i].want);
        CU_ASSERT_PTR_NULL(z);
        CU_ASSERT(strstr(err.msg, "Broken") != NULL);
        tz_free(z);
    }
    /* A real right/ zone, when Debian ships them. */
    struct tz *z = NULL;
    int rc = tz_load("right/Europe/Berlin", &z, NULL);
    CU_ASSERT(rc == H2H_EUNSUPPORTED || rc == H2H_ENOTFOUND);
    tz_free(z);
    tu_rmtree(dir);
}

/* Day text both ways: every day of 1..9999 round-trips, and what is not
 * exactly a real YYYY-MM-DD is refused. */
static void test_day_text(void)
{
    char buf[11];
    int64_t days = 0, first = tz_days_from_civil(1, 1, 1),
            last = tz_days_from_civil(9999, 12, 31);
    size_t bad = 0;
    for (int64_t k = first; k <= last; k++) {
        int64_t back = -1;
        tz_day_text(k, buf);
        if (tz_day_parse(buf, &back) != 0 || back != k)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    tz_day_text(0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01");
    CU_ASSERT_EQUAL(tz_day_parse("2028-02-29", &days), 0);
    CU_ASSERT_EQUAL(days, tz_days_from_civil(2028, 2, 29));
    static const char *const refused[] = {
        "2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "2026-01-1",
        "2026/01/01", "2026-01-01T", " 2026-01-01", "0000-01-01", "2026-0a-01",
        "", NULL};
    for (const char *const *r = refused; *r; r++)
        CU_ASSERT_EQUAL(tz_day_parse(*r, &days), H2H_EINVALID);
    CU_ASSERT_EQUAL(tz_day_parse(NULL, &days), H2H_EINVALID);
}

static const struct tu_case cases[] = {
    {"day text", test_day_text},
    {"names", test_names},
    {"fixed offsets", test_fixed},
    {"civil dates vs glibc", test_civil_dates},
    {"zdump frozen 2026-2027", test_zdump_frozen},
    {"berlin gap and overlap", test_berlin_gap_overlap},
    {"python zoneinfo", test_python_zoneinfo},
    {"all zones vs python", test_all_zones},
    {"tzif versions", test_tzif_versions},
    {"tzif broken", test_tzif_broken},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("tz", cases);
}
