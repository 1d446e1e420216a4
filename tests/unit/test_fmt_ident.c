/* test_fmt_ident.c - IBAN, BIC, countries, dates, UUID, SEPA text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "testutil.h"

static void test_iban(void)
{
    static const struct {
        const char *iban;
        int ok;
        const char *words; /* expected in the message when not ok */
    } t[] = {
        /* examples of the SWIFT IBAN registry */
        {"DE89370400440532013000", 1, NULL},
        {"GB82WEST12345698765432", 1, NULL},
        {"FR1420041010050500013M02606", 1, NULL},
        {"NL91ABNA0417164300", 1, NULL},
        {"BE68539007547034", 1, NULL},
        {"CH9300762011623852957", 1, NULL},
        {"NO9386011117947", 1, NULL},
        {"SA0380000000608010167519", 1, NULL},
        {"MT84MALT011000012345MTLCAST001S", 1, NULL},
        {"LC55HEMM000100010012001200023015", 1, NULL},
        {"DE89370400440532013001", 0, "check digit"},
        {"DE88370400440532013000", 0, "check digit"},
        {"DE8937040044053201300", 0, "have 22"},
        {"DE893704004405320130000", 0, "have 22"},
        {"de89370400440532013000", 0, "capitals"},
        {"DE89 3704 0044 0532 0130 00", 0, "spaces"},
        {"US12345678901234567890", 0, "does not use"},
        {"DE8937040044053201300-", 0, "letter or digit"},
        {"", 0, "empty"},
        {"DEXX370400440532013000", 0, "check digits"},
        {"12345678901234567890123456789012345", 0, "longer"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct h2h_err err = {0};
        int rc = fmt_iban_check(t[i].iban, &err);
        if ((rc == 0) != t[i].ok)
            fprintf(stderr, "iban %s: rc %d %s\n", t[i].iban, rc, err.msg);
        CU_ASSERT_EQUAL(rc == 0, t[i].ok);
        if (!t[i].ok) {
            CU_ASSERT_EQUAL(rc, H2H_EINVALID);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, t[i].words));
        }
    }
    CU_ASSERT(fmt_iban_check(NULL, NULL) < 0);

    /* no full account number in a message */
    struct h2h_err err = {0};
    fmt_iban_check("DE89370400440532013001", &err);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "370400440532"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "DE89...3001"));
}

/* An independent mod-97 (big number in decimal string, long division) to
 * cross-check the check digits we compute for every registry country. */
static int mod97_str(const char *digits)
{
    int r = 0;
    for (const char *p = digits; *p; p++)
        r = (r * 10 + (*p - '0')) % 97;
    return r;
}

static void test_iban_generated(void)
{
    /* For each registry country, build an IBAN of the right length with
     * the correct check digits and expect it valid; change one digit and
     * expect it invalid.  Catches a wrong length in the table only for
     * countries listed below (lengths from the registry). */
    static const struct {
        const char *cc;
        int len;
    } t[] = {{"AD", 24}, {"AT", 20}, {"BR", 29}, {"DK", 18}, {"EG", 29},
             {"ES", 24}, {"FI", 18}, {"GR", 27}, {"HU", 28}, {"IT", 27},
             {"JO", 30}, {"KW", 30}, {"PL", 28}, {"PT", 25}, {"RU", 33},
             {"SE", 24}, {"TR", 26}, {"UA", 29}, {"XK", 20}, {"YE", 30}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char bban[40], num[100], iban[64];
        int n = t[i].len - 4;
        for (int k = 0; k < n; k++)
            bban[k] = (char)('0' + (k * 7 + 3) % 10);
        bban[n] = '\0';
        snprintf(num, sizeof(num), "%s%d%d00", bban, t[i].cc[0] - 'A' + 10,
                 t[i].cc[1] - 'A' + 10);
        int cd = 98 - mod97_str(num);
        snprintf(iban, sizeof(iban), "%s%02d%s", t[i].cc, cd, bban);
        struct h2h_err err = {0};
        int rc = fmt_iban_check(iban, &err);
        if (rc)
            fprintf(stderr, "%s: %s\n", iban, err.msg);
        CU_ASSERT_EQUAL(rc, 0);
        iban[6] = iban[6] == '9' ? '0' : (char)(iban[6] + 1);
        CU_ASSERT_EQUAL(fmt_iban_check(iban, NULL), H2H_EINVALID);
    }
}

static void test_iban_normalize(void)
{
    char out[40];
    CU_ASSERT_EQUAL(
        fmt_iban_normalize("de89 3704 0044 0532 0130 00", out, sizeof(out)),
        22);
    CU_ASSERT_STRING_EQUAL(out, "DE89370400440532013000");
    CU_ASSERT_EQUAL(fmt_iban_check(out, NULL), 0);
    char small[5];
    CU_ASSERT_EQUAL(fmt_iban_normalize("DE89370400", small, sizeof(small)),
                    H2H_ETOOBIG);
}

static void test_bic(void)
{
    static const struct {
        const char *bic;
        int ok;
    } t[] = {
        {"DEUTDEFF", 1},  {"DEUTDEFF500", 1},
        {"BKCHCNBJ", 1},  {"BKCHCNBJ110", 1},
        {"NWBKGB2L", 1},  {"COBADEFFXXX", 1},
        {"ABCDXK22", 1},  {"DEUTDE2F", 1},
        {"deutdeff", 0},  {"DEUTDEF", 0},
        {"DEUTDEFF5", 0}, {"DEUTDEFF50", 0},
        {"DEU1DEFF", 0},  {"DEUTZZFF", 0},
        {"DEUTDE1F", 0},  {"DEUTDE0F", 0},
        {"DEUTDEFO", 0},  {"DEUTDEFF50-", 0},
        {"", 0},          {"DEUTDEFF500X", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct h2h_err err = {0};
        int rc = fmt_bic_check(t[i].bic, &err);
        if ((rc == 0) != t[i].ok)
            fprintf(stderr, "bic %s: rc %d %s\n", t[i].bic, rc, err.msg);
        CU_ASSERT_EQUAL(rc == 0, t[i].ok);
        if (!t[i].ok)
            CU_ASSERT(strstr(err.msg, "BIC") != NULL);
    }
}

static void test_country(void)
{
    static const char *ok[] = {"DE", "CN", "US", "GB", "FR", "XK", "SS",
                               "BQ", "CW", "AX", "ZW", "AD", NULL};
    static const char *bad[] = {"UK", "EU", "XX", "de", "D", "DEU",
                                "",   "ZZ", "AA", "YU", NULL};
    for (int i = 0; ok[i]; i++)
        CU_ASSERT_EQUAL(fmt_country_valid(ok[i]), 1);
    for (int i = 0; bad[i]; i++)
        CU_ASSERT_EQUAL(fmt_country_valid(bad[i]), 0);
    CU_ASSERT_EQUAL(fmt_country_valid(NULL), 0);
    int n = 0;
    char c[3] = "AA";
    for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
        for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
            n += fmt_country_valid(c);
    CU_ASSERT_EQUAL(n, 249 + 1); /* ISO 3166-1 has 249 codes, plus XK */
}

static void test_dates(void)
{
    static const struct {
        const char *d;
        int ok;
        long days;
    } t[] = {
        {"1970-01-01", 1, 0},     {"1970-01-02", 1, 1},
        {"2000-02-29", 1, 11016}, {"2024-02-29", 1, 19782},
        {"1969-12-31", 1, -1},    {"2023-02-29", 0, 0},
        {"1900-02-29", 0, 0},     {"2024-13-01", 0, 0},
        {"2024-00-10", 0, 0},     {"2024-04-31", 0, 0},
        {"2024-4-30", 0, 0},      {"2024-04-30Z", 0, 0},
        {"20240430", 0, 0},       {"", 0, 0},
        {"2024-12-31", 1, 20088},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        CU_ASSERT_EQUAL(fmt_date_check(t[i].d, NULL) == 0, t[i].ok);
        if (t[i].ok) {
            CU_ASSERT_EQUAL(fmt_date_days(t[i].d), t[i].days);
        } else {
            CU_ASSERT_EQUAL(fmt_date_days(t[i].d), (long)INT32_MIN);
        }
    }
    /* consecutive days differ by one across 60 years */
    long prev = fmt_date_days("1999-12-31");
    char d[48];
    for (int y = 2000; y < 2060; y++)
        for (int m = 1; m <= 12; m++)
            for (int dd = 1; dd <= 31; dd++) {
                snprintf(d, sizeof(d), "%04d-%02d-%02d", y, m, dd);
                long v = fmt_date_days(d);
                if (v == (long)INT32_MIN)
                    continue;
                CU_ASSERT_EQUAL(v, prev + 1);
                prev = v;
            }
}

static void test_datetime(void)
{
    static const struct {
        const char *t;
        int ok;
    } t[] = {
        {"2024-05-01T10:20:30", 1},
        {"2024-05-01T10:20:30Z", 1},
        {"2024-05-01T10:20:30.123", 1},
        {"2024-05-01T10:20:30.123456789+08:00", 1},
        {"2024-05-01T23:59:59-05:30", 1},
        {"2024-05-01", 0},
        {"2024-05-01T24:00:00", 0},
        {"2024-05-01T10:60:00", 0},
        {"2024-05-01 10:20:30", 0},
        {"2024-05-01T10:20", 0},
        {"2024-05-01T10:20:30.", 0},
        {"2024-05-01T10:20:30+0800", 0},
        {"2024-05-01T10:20:30Zjunk", 0},
        {"2024-02-30T10:20:30", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int rc = fmt_datetime_check(t[i].t, NULL);
        if ((rc == 0) != t[i].ok)
            fprintf(stderr, "datetime %s: %d\n", t[i].t, rc);
        CU_ASSERT_EQUAL(rc == 0, t[i].ok);
    }
}

static void test_uuid(void)
{
    CU_ASSERT_EQUAL(
        fmt_uuid_check("eb6305c9-1f7f-49de-aed0-16487c27b42d", NULL), 0);
    CU_ASSERT_NOT_EQUAL(
        fmt_uuid_check("EB6305C9-1F7F-49DE-AED0-16487C27B42D", NULL), 0);
    CU_ASSERT_NOT_EQUAL(
        fmt_uuid_check("eb6305c9-1f7f-19de-aed0-16487c27b42d", NULL), 0);
    CU_ASSERT_NOT_EQUAL(
        fmt_uuid_check("eb6305c9-1f7f-49de-ced0-16487c27b42d", NULL), 0);
    CU_ASSERT_NOT_EQUAL(
        fmt_uuid_check("eb6305c91f7f49deaed016487c27b42d", NULL), 0);
    CU_ASSERT_NOT_EQUAL(
        fmt_uuid_check("eb6305c9-1f7f-49de-aed0-16487c27b42d0", NULL), 0);
    CU_ASSERT_NOT_EQUAL(fmt_uuid_check("", NULL), 0);
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        int ok;
    } t[] = {
        {"plain", 1},
        {"M\xc3\xbcller", 1},            /* Müller */
        {"\xe4\xb8\xad\xe6\x96\x87", 1}, /* 中文 */
        {"\xf0\x9f\x92\xb6", 1},         /* 💶 */
        {"M\xfcller", 0},                /* Latin-1 byte */
        {"\xc0\xaf", 0},                 /* overlong '/' */
        {"\xe0\x80\xaf", 0},             /* overlong */
        {"\xed\xa0\x80", 0},             /* surrogate */
        {"\xf4\x90\x80\x80", 0},         /* > U+10FFFF */
        {"\xe4\xb8", 0},                 /* truncated */
        {"\x80", 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        CU_ASSERT_EQUAL(fmt_utf8_valid(t[i].s, strlen(t[i].s)), t[i].ok);
    CU_ASSERT_EQUAL(fmt_utf8_valid("a\0b", 3), 1);
}

static void test_sepa(void)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"Mueller GmbH", "Mueller GmbH"},
        {"M\xc3\xbcller GmbH", "Muller GmbH"},
        {"Stra\xc3\x9f"
         "e 5",
         "Strasse 5"},
        {"\xc3\x84pfel \xc3\x96l \xc3\x9c"
         "ber",
         "Apfel Ol Uber"},
        {"Caf\xc3\xa9 Cr\xc3\xa8me \xc3\xa7\xc3\xa0", "Cafe Creme ca"},
        {"\xc5\x81\xc3\xb3"
         "d\xc5\xba",
         "Lodz"}, /* Łódź */
        {"\xc5\xa0koda \xc4\x8c"
         "esk\xc3\xa1",
         "Skoda Ceska"},
        {"Ni\xc8\x9bu \xc5\x92uvre", "Nitu OEuvre"},
        {"A&B", "A+B"},
        {"Tom\xe2\x80\x99s", "Tom's"},
        {"\xe4\xb8\xad\xe6\x96\x87 Co", ".. Co"}, /* one dot each */
        {"x@y_z", "x.y.z"},
        {"bad\xff"
         "byte",
         "bad.byte"},
        {"line1\nline2", "line1\nline2"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *o = fmt_sepa_transliterate(t[i].in);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        if (strcmp(o, t[i].out))
            fprintf(stderr, "translit %zu: \"%s\"\n", i, o);
        CU_ASSERT_STRING_EQUAL(o, t[i].out);
        if (!strchr(o, '\n'))
            CU_ASSERT_EQUAL(fmt_sepa_charset_ok(o), 1);
        free(o);
    }
    CU_ASSERT_EQUAL(fmt_sepa_charset_ok("ABC abc 0-9 /?:().,'+"), 1);
    CU_ASSERT_EQUAL(fmt_sepa_charset_ok("M\xc3\xbcller"), 0);
    CU_ASSERT_EQUAL(fmt_sepa_charset_ok("a&b"), 0);
    CU_ASSERT_EQUAL(fmt_sepa_charset_ok("a\"b"), 0);
    CU_ASSERT_EQUAL(fmt_sepa_charset_ok("a\nb"), 0);
}

static const struct tu_case cases[] = {
    {"iban table", test_iban},
    {"iban generated per country", test_iban_generated},
    {"iban normalize", test_iban_normalize},
    {"bic", test_bic},
    {"country codes", test_country},
    {"dates and day numbers", test_dates},
    {"timestamps", test_datetime},
    {"uuid (uetr)", test_uuid},
    {"utf-8 validity", test_utf8},
    {"sepa charset and transliteration", test_sepa},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_ident", cases);
}
