/*
 * test_calendar.c - business-day calendars: the shipped CN and TARGET2
 * files against their sources, the file format, and every kind of error
 * with its line number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "testutil.h"
#include "tz.h"

static int64_t D(int y, int m, int d)
{
    return tz_days_from_civil(y, m, d);
}

static struct cal *load_shipped(const char *rel)
{
    struct cal *c = NULL;
    struct h2h_err err = {0};
    int rc = cal_load(tu_src(rel), &c, &err);
    if (rc != 0)
        fprintf(stderr, "cal_load(%s): %s\n", rel, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return c;
}

/* ---- CN ------------------------------------------------------------------ */

/*
 * From 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号,
 * 2025-11-04): days off, the weekend days worked (上班), and ordinary
 * neighbours of both.
 */
static const struct {
    int y, m, d;
    int business;
} cn2026[] = {
    {2025, 12, 31, -1}, /* before valid */
    {2026, 1, 1, 0},
    {2026, 1, 2, 0},
    {2026, 1, 3, 0}, /* 元旦 */
    {2026, 1, 4, 1}, /* Sun, 上班 */
    {2026, 1, 5, 1},
    {2026, 1, 10, 0}, /* ordinary */
    {2026, 2, 13, 1}, /* Fri */
    {2026, 2, 14, 1}, /* Sat, 上班 */
    {2026, 2, 15, 0},
    {2026, 2, 16, 0},
    {2026, 2, 17, 0}, /* 春节 */
    {2026, 2, 18, 0},
    {2026, 2, 19, 0},
    {2026, 2, 20, 0},
    {2026, 2, 21, 0},
    {2026, 2, 22, 0},
    {2026, 2, 23, 0},
    {2026, 2, 24, 1}, /* Tue */
    {2026, 2, 27, 1},
    {2026, 2, 28, 1}, /* Sat, 上班 */
    {2026, 3, 1, 0},  /* Sun */
    {2026, 4, 3, 1},
    {2026, 4, 4, 0},
    {2026, 4, 5, 0}, /* 清明 */
    {2026, 4, 6, 0},
    {2026, 4, 7, 1},
    {2026, 4, 30, 1},
    {2026, 5, 1, 0},
    {2026, 5, 4, 0}, /* 劳动节 */
    {2026, 5, 5, 0},
    {2026, 5, 6, 1},
    {2026, 5, 9, 1}, /* Sat, 上班 */
    {2026, 5, 10, 0},
    {2026, 6, 18, 1},
    {2026, 6, 19, 0},
    {2026, 6, 21, 0}, /* 端午 */
    {2026, 6, 22, 1},
    {2026, 9, 20, 1}, /* Sun, 上班 */
    {2026, 9, 24, 1},
    {2026, 9, 25, 0},
    {2026, 9, 27, 0}, /* 中秋 */
    {2026, 9, 28, 1},
    {2026, 9, 30, 1},
    {2026, 10, 1, 0},
    {2026, 10, 5, 0}, /* 国庆 */
    {2026, 10, 7, 0},
    {2026, 10, 8, 1},
    {2026, 10, 9, 1},
    {2026, 10, 10, 1}, /* Sat, 上班 */
    {2026, 10, 11, 0},
    /* 2027, provisional: statutory days and 补假 */
    {2027, 2, 4, 1},
    {2027, 2, 5, 0},
    {2027, 2, 6, 0},
    {2027, 2, 8, 0},
    {2027, 2, 10, 0},
    {2027, 2, 11, 1},
    {2027, 10, 5, 0},
    {2027, 10, 6, 1},
    {2027, 12, 31, 1},
    {2028, 1, 3, -1}, /* after valid */
};

static void test_cn_2026(void)
{
    struct cal *c = load_shipped("etc/calendars/CN.cal");
    CU_ASSERT_STRING_EQUAL(cal_name(c), "CN");
    for (size_t i = 0; i < sizeof(cn2026) / sizeof(cn2026[0]); i++) {
        int want = cn2026[i].business < 0 ? H2H_ENOTFOUND : cn2026[i].business;
        int got = cal_is_business_day(c, cn2026[i].y, cn2026[i].m, cn2026[i].d);
        if (got != want)
            fprintf(stderr, "CN %04d-%02d-%02d: got %d want %d\n", cn2026[i].y,
                    cn2026[i].m, cn2026[i].d, got, want);
        CU_ASSERT_EQUAL(got, want);
    }
    /* The notice's 33 days off include 14 weekend days; 19 fall on
     * weekdays, and 6 weekend days are worked: 365 - 104 - 19 + 6. */
    int n = 0;
    for (int64_t d = D(2026, 1, 1); d <= D(2026, 12, 31); d++)
        n += cal_is_business_day_n(c, d) == 1;
    CU_ASSERT_EQUAL(n, 248);

    const char *desc = NULL;
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2026, 2, 17), &desc), CAL_HOLIDAY);
    CU_ASSERT(desc && strstr(desc, "春节") && strstr(desc, "正月初一"));
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2026, 2, 14), &desc), CAL_WORKDAY);
    CU_ASSERT(desc && strstr(desc, "调休"));
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2026, 3, 7), &desc), CAL_WEEKEND);
    CU_ASSERT_STRING_EQUAL(desc, "");
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2026, 3, 9), NULL), CAL_BUSINESS);
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2028, 1, 3), NULL), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 2, 30), H2H_EINVALID);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 13, 1), H2H_EINVALID);

    int64_t first, last;
    cal_valid_range(c, &first, &last);
    CU_ASSERT_EQUAL(first, D(2026, 1, 1));
    CU_ASSERT_EQUAL(last, D(2027, 12, 31));
    const char *note = NULL;
    CU_ASSERT_EQUAL(cal_provisional(c, D(2026, 6, 1), &note), 0);
    CU_ASSERT_EQUAL(cal_provisional(c, D(2027, 2, 6), &note), 1);
    CU_ASSERT(note && strstr(note, "2027"));
    cal_free(c);
}

static void test_cn_arithmetic(void)
{
    struct cal *c = load_shipped("etc/calendars/CN.cal");
    struct {
        const char *label;
        int64_t from;
        int n;
        int64_t want;
        int rc;
    } add[] = {
        {"Fri before 春节 +1: the Saturday worked", D(2026, 2, 13), 1,
         D(2026, 2, 14), 0},
        {"+2 crosses the holiday", D(2026, 2, 13), 2, D(2026, 2, 24), 0},
        {"+6 reaches the worked Saturday", D(2026, 2, 13), 6, D(2026, 2, 28),
         0},
        {"-1 from after 春节", D(2026, 2, 24), -1, D(2026, 2, 14), 0},
        {"0 on a holiday rolls forward", D(2026, 2, 16), 0, D(2026, 2, 24), 0},
        {"0 on a business day stays", D(2026, 2, 24), 0, D(2026, 2, 24), 0},
        {"0 on a worked Sunday stays", D(2026, 1, 4), 0, D(2026, 1, 4), 0},
        {"国庆 +1", D(2026, 9, 30), 1, D(2026, 10, 8), 0},
        {"runs out at the end", D(2027, 12, 30), 2, 0, H2H_ENOTFOUND},
        {"runs out at the start", D(2026, 1, 5), -2, 0, H2H_ENOTFOUND},
        {"0 outside", D(2028, 1, 3), 0, 0, H2H_ENOTFOUND},
    };
    for (size_t i = 0; i < sizeof(add) / sizeof(add[0]); i++) {
        int64_t out = 0;
        struct h2h_err err = {0};
        int rc = cal_add_business_days(c, add[i].from, add[i].n, &out, &err);
        if (rc != add[i].rc || (rc == 0 && out != add[i].want))
            fprintf(stderr, "%s: rc %d out %lld (%s)\n", add[i].label, rc,
                    (long long)out, err.msg);
        CU_ASSERT_EQUAL(rc, add[i].rc);
        if (rc == 0) {
            CU_ASSERT_EQUAL(out, add[i].want);
        } else {
            CU_ASSERT(strstr(err.msg, "CN") != NULL);
        }
    }
    int64_t out;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(cal_next_business_day(c, D(2026, 2, 14), &out, &err), 0);
    CU_ASSERT_EQUAL(out, D(2026, 2, 24));
    CU_ASSERT_EQUAL(cal_prev_business_day(c, D(2026, 1, 5), &out, &err), 0);
    CU_ASSERT_EQUAL(out, D(2026, 1, 4));
    CU_ASSERT_EQUAL(cal_prev_business_day(c, D(2026, 1, 4), &out, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT(strstr(err.msg, "2026-01-01..2027-12-31") != NULL);
    CU_ASSERT_EQUAL(cal_next_business_day(c, D(2027, 12, 31), &out, &err),
                    H2H_ENOTFOUND);
    CU_ASSERT(strstr(err.msg, "after 2027-12-31") != NULL);
    cal_free(c);
}

/* ---- TARGET2 ------------------------------------------------------------ */

/* Easter Sunday, Gregorian computus (Meeus/Jones/Butcher), written here
 * independently of the data file. */
static int64_t easter(int y)
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3;
    int h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31;
    int day = (h + l - 7 * m + 114) % 31 + 1;
    return D(y, month, day);
}

static void test_target2(void)
{
    /* the computus against published dates */
    CU_ASSERT_EQUAL(easter(2024), D(2024, 3, 31));
    CU_ASSERT_EQUAL(easter(2025), D(2025, 4, 20));
    CU_ASSERT_EQUAL(easter(2026), D(2026, 4, 5));
    CU_ASSERT_EQUAL(easter(2027), D(2027, 3, 28));
    CU_ASSERT_EQUAL(easter(2038), D(2038, 4, 25));
    CU_ASSERT_EQUAL(easter(2285), D(2285, 3, 22));

    struct cal *c = load_shipped("etc/calendars/TARGET2.cal");
    CU_ASSERT_STRING_EQUAL(cal_name(c), "TARGET2");
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 4, 3), 0); /* Good Friday */
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 4, 6), 0); /* Easter Mon */
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2027, 3, 26), 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2027, 3, 29), 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 4, 2), 1);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 4, 7), 1);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 12, 24), 1);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 12, 31), 1);

    /* Every day of 2026-2027 against the ECB's rule. */
    int bad = 0;
    for (int64_t d = D(2026, 1, 1); d <= D(2027, 12, 31); d++) {
        int y, m, dd;
        tz_civil_from_days(d, &y, &m, &dd);
        int wd = tz_weekday(d);
        int closed = wd == 0 || wd == 6 || (m == 1 && dd == 1) ||
                     d == easter(y) - 2 || d == easter(y) + 1 ||
                     (m == 5 && dd == 1) || (m == 12 && dd == 25) ||
                     (m == 12 && dd == 26);
        if (cal_is_business_day_n(c, d) != !closed && bad++ < 5)
            fprintf(stderr, "TARGET2 %04d-%02d-%02d: file disagrees\n", y, m,
                    dd);
    }
    CU_ASSERT_EQUAL(bad, 0);
    const char *desc;
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2027, 3, 26), &desc), CAL_HOLIDAY);
    CU_ASSERT_STRING_EQUAL(desc, "Good Friday");
    CU_ASSERT_EQUAL(cal_provisional(c, D(2027, 3, 26), NULL), 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2028, 1, 3), H2H_ENOTFOUND);
    int64_t out;
    CU_ASSERT_EQUAL(cal_add_business_days(c, D(2026, 4, 2), 1, &out, NULL), 0);
    CU_ASSERT_EQUAL(out, D(2026, 4, 7));
    cal_free(c);
}

/* ---- the format ------------------------------------------------------- */

static struct cal *parse(const char *text, struct h2h_err *err, int *rc)
{
    struct cal *c = NULL;
    *rc = cal_parse(text, strlen(text), "dir/test.cal", &c, err);
    return c;
}

static void test_format(void)
{
    struct h2h_err err = {0};
    int rc;
    /* BOM, CRLF, comments anywhere, "weekend=" glued, full day names,
     * '#' inside a description. */
    struct cal *c = parse("\xef\xbb\xbf# Gulf-style week\r\n"
                          "weekend=Friday sat   # Fri-Sat\r\n"
                          "\r\n"
                          "   valid 2026-01-01 2026-12-31\r\n"
                          "holiday 2026-03-20  Eid al-Fitr No.#1 # note\r\n"
                          "workday 2026-01-02  make-up Friday\r\n"
                          "provisional 2026-03-19 2026-03-22 moon sighting\n"
                          "holiday 2026-06-01",
                          &err, &rc);
    if (rc != 0)
        fprintf(stderr, "format: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(cal_name(c), "test");
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 2), 1);  /* Fri, worked */
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 9), 0);  /* Fri */
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 10), 0); /* Sat */
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 11), 1); /* Sun */
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 3, 20), 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 6, 1), 0);
    const char *desc, *note;
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2026, 3, 20), &desc), CAL_HOLIDAY);
    CU_ASSERT_STRING_EQUAL(desc, "Eid al-Fitr No.#1");
    CU_ASSERT_EQUAL(cal_day_kind(c, D(2026, 6, 1), &desc), CAL_HOLIDAY);
    CU_ASSERT_STRING_EQUAL(desc, "");
    CU_ASSERT_EQUAL(cal_provisional(c, D(2026, 3, 22), &note), 1);
    CU_ASSERT_STRING_EQUAL(note, "moon sighting");
    CU_ASSERT_EQUAL(cal_provisional(c, D(2026, 3, 23), &note), 0);
    cal_free(c);

    /* no weekend at all; default weekend is sat sun */
    c = parse("weekend =\nvalid 2026-01-01 2026-01-31\n", &err, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 3), 1);
    cal_free(c);
    c = parse("valid 2026-01-01 2026-01-31\n", &err, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 3), 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 4), 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 5), 1);
    cal_free(c);
    /* valid after the dates it governs */
    c = parse("holiday 2026-01-05 x\nvalid 2026-01-01 2026-01-31\n", &err, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(cal_is_business_day(c, 2026, 1, 5), 0);
    cal_free(c);
}

static void test_errors(void)
{
    static const struct {
        const char *label;
        const char *text;
        int rc;
        const char *where; /* expected message prefix */
        const char *what;  /* and a word of it */
    } t[] = {
        {"unknown directive",
         "valid 2026-01-01 2026-12-31\n\nholdiay "
         "2026-01-01\n",
         H2H_EPARSE, "dir/test.cal:3: ", "unknown directive"},
        {"bad date syntax", "valid 2026-01-01 2026-12-31\nholiday 2026-2-1\n",
         H2H_EPARSE, "dir/test.cal:2: ", "bad date"},
        {"no such day",
         "valid 2026-01-01 2026-12-31\n# x\nholiday "
         "2026-02-30 x\n",
         H2H_EPARSE, "dir/test.cal:3: ", "no such day"},
        {"date missing", "valid 2026-01-01 2026-12-31\nholiday\n", H2H_EPARSE,
         "dir/test.cal:2: ", "missing"},
        {"duplicate holiday",
         "valid 2026-01-01 2026-12-31\nholiday "
         "2026-05-01 a\nholiday 2026-05-01 b\n",
         H2H_EINVALID, "dir/test.cal:3: ", "first at line 2"},
        {"holiday and workday",
         "valid 2026-01-01 2026-12-31\nworkday "
         "2026-05-02 a\nholiday 2026-05-02 b\n",
         H2H_EINVALID, "dir/test.cal:3: ", "listed twice"},
        {"workday on a weekday",
         "valid 2026-01-01 2026-12-31\n\n\nworkday "
         "2026-05-04 Monday\n",
         H2H_EINVALID, "dir/test.cal:4: ", "not a weekend day"},
        {"holiday outside valid",
         "valid 2026-01-01 2026-12-31\nholiday "
         "2027-01-01 x\n",
         H2H_EINVALID, "dir/test.cal:2: ", "outside the valid range"},
        {"valid twice",
         "valid 2026-01-01 2026-12-31\nvalid 2027-01-01 "
         "2027-12-31\n",
         H2H_EINVALID, "dir/test.cal:2: ", "first at line 1"},
        {"valid backwards", "valid 2026-12-31 2026-01-01\n", H2H_EINVALID,
         "dir/test.cal:1: ", "before it starts"},
        {"valid missing", "holiday 2026-01-01 x\n", H2H_EINVALID,
         "dir/test.cal: ", "valid"},
        {"valid trailing text", "valid 2026-01-01 2026-12-31 2027\n",
         H2H_EPARSE, "dir/test.cal:1: ", "unexpected"},
        {"valid too long", "valid 1900-01-01 2100-12-31\n", H2H_EINVALID,
         "dir/test.cal:1: ", "longer than"},
        {"weekend twice", "weekend = sat\nweekend = sun\n", H2H_EINVALID,
         "dir/test.cal:2: ", "first at line 1"},
        {"unknown weekday", "weekend = sat sonntag\n", H2H_EPARSE,
         "dir/test.cal:1: ", "unknown weekday"},
        {"weekday twice", "weekend = sat saturday\n", H2H_EINVALID,
         "dir/test.cal:1: ", "twice"},
        {"weekend without =", "weekend sat sun\n", H2H_EPARSE,
         "dir/test.cal:1: ", "expected"},
        {"provisional outside",
         "valid 2026-01-01 2026-12-31\nprovisional "
         "2026-12-01 2027-01-31 x\n",
         H2H_EINVALID, "dir/test.cal:2: ", "outside the valid range"},
        {"bad UTF-8",
         "valid 2026-01-01 2026-12-31\nholiday 2026-01-01 "
         "\xe6\x98\n",
         H2H_EPARSE, "dir/test.cal:2: ", "UTF-8"},
        {"overlong UTF-8",
         "valid 2026-01-01 2026-12-31\nholiday 2026-01-01 "
         "\xc0\xaf\n",
         H2H_EPARSE, "dir/test.cal:2: ", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct h2h_err err = {0};
        int rc;
        struct cal *c = parse(t[i].text, &err, &rc);
        int ok = rc == t[i].rc && c == NULL &&
                 strncmp(err.msg, t[i].where, strlen(t[i].where)) == 0 &&
                 strstr(err.msg, t[i].what) != NULL;
        if (!ok)
            fprintf(stderr, "%s: rc %d msg \"%s\"\n", t[i].label, rc, err.msg);
        CU_ASSERT(ok);
        cal_free(c);
    }

    /* sizes, NUL bytes */
    char *big = malloc(CAL_LINE_MAX + 100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'x', CAL_LINE_MAX + 50);
    memcpy(big, "# ok\n# ", 7);
    big[CAL_LINE_MAX + 50] = '\0';
    struct h2h_err err = {0};
    int rc;
    struct cal *c = parse(big, &err, &rc);
    CU_ASSERT_EQUAL(rc, H2H_ETOOBIG);
    CU_ASSERT(strncmp(err.msg, "dir/test.cal:2: ", 16) == 0);
    free(big);
    c = NULL;
    rc = cal_parse("valid 2026-01-01 2026-12-31\n\0x", 30, "n.cal", &c, &err);
    CU_ASSERT_EQUAL(rc, H2H_EPARSE);
    CU_ASSERT_PTR_NULL(c);

    /* files */
    CU_ASSERT_EQUAL(cal_load("/nonexistent/x.cal", &c, &err), H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(cal_load(tu_src("etc/calendars"), &c, &err), H2H_EINVALID);
    const char *dir = tu_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[512];
    snprintf(path, sizeof(path), "%s/broken.cal", dir);
    const char *text = "valid 2026-01-01 2026-12-31\nholiday 2026-13-01 x\n";
    CU_ASSERT_EQUAL(tu_write_file(path, text, strlen(text)), 0);
    CU_ASSERT_EQUAL(cal_load(path, &c, &err), H2H_EPARSE);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: ", path);
    CU_ASSERT(strncmp(err.msg, want, strlen(want)) == 0);
    tu_rmtree(dir);
    cal_free(NULL);
}

static const struct tu_case cases[] = {
    {"CN 2026 official days", test_cn_2026},
    {"CN business-day arithmetic", test_cn_arithmetic},
    {"TARGET2 against the ECB rule", test_target2},
    {"file format", test_format},
    {"errors with line numbers", test_errors},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("calendar", cases);
}
