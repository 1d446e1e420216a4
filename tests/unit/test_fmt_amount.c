/* test_fmt_amount.c - ISO 4217 table and exact decimal parsing. */
#include <stdint.h>
#include <string.h>

#include "amount.h"
#include "testutil.h"

static void test_exponents(void)
{
    static const struct {
        const char *ccy;
        int exp;
    } t[] = {
        {"EUR", 2},  {"USD", 2}, {"CNY", 2},   {"GBP", 2},  {"CHF", 2},
        {"JPY", 0},  {"KRW", 0}, {"ISK", 0},   {"CLP", 0},  {"VND", 0},
        {"XAF", 0},  {"XOF", 0}, {"XPF", 0},   {"UGX", 0},  {"PYG", 0},
        {"BHD", 3},  {"IQD", 3}, {"JOD", 3},   {"KWD", 3},  {"LYD", 3},
        {"OMR", 3},  {"TND", 3}, {"XXX", -1},  {"XAU", -1}, {"HRK", -1},
        {"eur", -1}, {"EU", -1}, {"EURO", -1}, {"", -1},    {NULL, -1},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        CU_ASSERT_EQUAL(fmt_ccy_exponent(t[i].ccy), t[i].exp);
        CU_ASSERT_EQUAL(fmt_ccy_valid(t[i].ccy), t[i].exp >= 0);
    }
}

static void test_table_sorted_and_large(void)
{
    /* bsearch needs the table sorted: every code from AAA to ZZZ that is
     * found must be found again, and the count is that of the ISO list. */
    int n = 0;
    char c[4] = "AAA";
    for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
        for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
            for (c[2] = 'A'; c[2] <= 'Z'; c[2]++)
                n += fmt_ccy_valid(c);
    CU_ASSERT(n >= 150);
    CU_ASSERT(n <= 185);
}

static void test_parse(void)
{
    static const struct {
        const char *s, *ccy;
        int neg;
        int rc;
        int64_t minor;
    } t[] = {
        {"12.5", "EUR", 0, 0, 1250},
        {"12.50", "EUR", 0, 0, 1250},
        {"12.340", "EUR", 0, 0, 1234},
        {"12.3400000", "EUR", 0, 0, 1234},
        {"12.345", "EUR", 0, H2H_EINVALID, 0},
        {"0.01", "EUR", 0, 0, 1},
        {"0", "EUR", 0, 0, 0},
        {"007", "EUR", 0, 0, 700},
        {"100", "JPY", 0, 0, 100},
        {"100.00", "JPY", 0, 0, 100},
        {"100.5", "JPY", 0, H2H_EINVALID, 0},
        {"1.234", "BHD", 0, 0, 1234},
        {"1.2345", "BHD", 0, H2H_EINVALID, 0},
        {"-5.00", "EUR", 0, H2H_EINVALID, 0},
        {"-5.00", "EUR", 1, 0, -500},
        {"+5.00", "EUR", 1, H2H_EINVALID, 0},
        {"1e3", "EUR", 0, H2H_EINVALID, 0},
        {"1,000.00", "EUR", 0, H2H_EINVALID, 0},
        {"1,5", "EUR", 0, H2H_EINVALID, 0},
        {" 1.5", "EUR", 0, H2H_EINVALID, 0},
        {"1.5 ", "EUR", 0, H2H_EINVALID, 0},
        {"1.2.3", "EUR", 0, H2H_EINVALID, 0},
        {".5", "EUR", 0, H2H_EINVALID, 0},
        {"5.", "EUR", 0, H2H_EINVALID, 0},
        {"", "EUR", 0, H2H_EINVALID, 0},
        {"-", "EUR", 1, H2H_EINVALID, 0},
        {"12.00", "XYZ", 0, H2H_EINVALID, 0},
        /* 18 significant digits is the ISO cap */
        {"9999999999999999.99", "EUR", 0, 0, 999999999999999999LL},
        {"99999999999999999.99", "EUR", 0, H2H_ETOOBIG, 0},
        {"999999999999999999", "EUR", 0, H2H_ETOOBIG, 0}, /* *100 > int64 */
        {"999999999999999999", "JPY", 0, 0, 999999999999999999LL},
        {"0000000000000000000001.00", "EUR", 0, 0, 100},
        {"1234567890123456789", "JPY", 0, H2H_ETOOBIG, 0},
        {"00000000000000000000000000000000000000000000000000000000000000001",
         "EUR", 0, H2H_ETOOBIG, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct h2h_err err = {0};
        int64_t v = -12345;
        int rc = fmt_amount_parse(t[i].s, strlen(t[i].s), t[i].ccy, t[i].neg,
                                  &v, &err);
        if (rc != t[i].rc)
            fprintf(stderr, "case %zu \"%s\" %s: rc %d (%s)\n", i, t[i].s,
                    t[i].ccy, rc, err.msg);
        CU_ASSERT_EQUAL(rc, t[i].rc);
        if (t[i].rc == 0) {
            CU_ASSERT_EQUAL(v, t[i].minor);
        } else {
            CU_ASSERT(err.msg[0] != '\0');
        }
    }
}

static void test_parse_len_not_nul(void)
{
    /* len bounds the input: a reader passes a slice of a bigger buffer */
    int64_t v = 0;
    CU_ASSERT_EQUAL(fmt_amount_parse("12.34XYZ", 5, "EUR", 0, &v, NULL), 0);
    CU_ASSERT_EQUAL(v, 1234);
}

static void test_error_words(void)
{
    struct h2h_err err = {0};
    int64_t v;
    fmt_amount_parse("12.345", 6, "EUR", 0, &v, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "12.345"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "2 decimals"));
    fmt_amount_parse("1.5", 3, "JPY", 0, &v, &err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "JPY"));
}

static void test_format_roundtrip(void)
{
    static const struct {
        int64_t minor;
        const char *ccy;
        char sep;
        const char *out;
    } t[] = {
        {1250, "EUR", '.', "12.50"},
        {5, "EUR", '.', "0.05"},
        {0, "EUR", '.', "0.00"},
        {-1, "EUR", '.', "-0.01"},
        {100, "JPY", '.', "100"},
        {0, "JPY", '.', "0"},
        {1234, "BHD", ',', "1,234"},
        {7, "KWD", '.', "0.007"},
        {123456789, "USD", ',', "1234567,89"},
        {INT64_MAX, "EUR", '.', "92233720368547758.07"},
        {INT64_MIN, "EUR", '.', "-92233720368547758.08"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char buf[32];
        int n =
            fmt_amount_format(t[i].minor, t[i].ccy, t[i].sep, buf, sizeof(buf));
        CU_ASSERT_EQUAL(n, (int)strlen(t[i].out));
        CU_ASSERT_STRING_EQUAL(buf, t[i].out);
        if (t[i].sep == '.' && t[i].minor >= 0 && t[i].minor < INT64_MAX) {
            int64_t back = -1;
            CU_ASSERT_EQUAL(
                fmt_amount_parse(buf, strlen(buf), t[i].ccy, 0, &back, NULL),
                0);
            CU_ASSERT_EQUAL(back, t[i].minor);
        }
    }
    char small[4];
    CU_ASSERT(fmt_amount_format(1250, "EUR", '.', small, sizeof(small)) < 0);
    char buf[32];
    CU_ASSERT(fmt_amount_format(1250, "ZZZ", '.', buf, sizeof(buf)) < 0);
}

static void test_milli(void)
{
    int64_t m = 0;
    CU_ASSERT_EQUAL(fmt_milli_parse("1234.56", 7, &m, NULL), 0);
    CU_ASSERT_EQUAL(m, 1234560);
    CU_ASSERT_EQUAL(fmt_milli_parse("1.234", 5, &m, NULL), 0);
    CU_ASSERT_EQUAL(m, 1234);
    CU_ASSERT_EQUAL(fmt_milli_parse("1.2340", 6, &m, NULL), 0);
    CU_ASSERT_EQUAL(m, 1234);
    CU_ASSERT_EQUAL(fmt_milli_parse("1.2345", 6, &m, NULL), H2H_EINVALID);
    CU_ASSERT_EQUAL(fmt_milli_parse("-1.00", 5, &m, NULL), H2H_EINVALID);

    char buf[32];
    fmt_milli_format(1234560, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "1234.56");
    fmt_milli_format(1234, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "1.234");
    fmt_milli_format(0, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "0.00");

    CU_ASSERT_EQUAL(fmt_minor_to_milli(1250, "EUR"), 12500);
    CU_ASSERT_EQUAL(fmt_minor_to_milli(100, "JPY"), 100000);
    CU_ASSERT_EQUAL(fmt_minor_to_milli(1234, "BHD"), 1234);
    CU_ASSERT_EQUAL(fmt_minor_to_milli(INT64_MAX, "JPY"), INT64_MAX);
}

static const struct tu_case cases[] = {
    {"currency exponents", test_exponents},
    {"table sorted, size of ISO list", test_table_sorted_and_large},
    {"parse table", test_parse},
    {"parse honours len", test_parse_len_not_nul},
    {"error messages name value and currency", test_error_words},
    {"format and round trip", test_format_roundtrip},
    {"control sums in 1/1000", test_milli},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_amount", cases);
}
