/* test_fmt_charset.c - iconv conversions, fail closed. */
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "testutil.h"

/* UTF-8 texts and their bytes in wire charsets (from the charset
 * standards, not produced by the code under test). */
static const struct {
    const char *cs;
    const char *wire;
    size_t wlen;
    const char *utf8;
} pairs[] = {
    {"GBK", "\xd6\xd0\xb9\xfa\xd2\xf8\xd0\xd0", 8,
     "\xe4\xb8\xad\xe5\x9b\xbd\xe9\x93\xb6\xe8\xa1\x8c"}, /* 中国银行 */
    {"GB2312", "\xd6\xd0\xce\xc4 ABC", 8,
     "\xe4\xb8\xad\xe6\x96\x87 ABC"}, /* 中文 ABC */
    {"GB18030", "\xd6\xd0\x81\x30\x81\x30", 6,
     "\xe4\xb8\xad\xc2\x80"},                               /* 中 U+0080 */
    {"GB18030", "\x90\x30\x81\x30", 4, "\xf0\x90\x80\x80"}, /* U+10000 */
    {"CP852", "\x8e\x99\x9a \x9c\xa6", 6,
     "\xc3\x84\xc3\x96\xc3\x9c \xc5\xa5\xc5\xbd"}, /* ÄÖÜ ťŽ */
    {"ISO-8859-1", "M\xfcller \xe9", 8, "M\xc3\xbcller \xc3\xa9"},
    {"ISO-8859-15", "\xa4 5", 3, "\xe2\x82\xac 5"}, /* € */
    {"UTF-8", "\xc3\xa4", 2, "\xc3\xa4"},
    {NULL, "plain", 5, "plain"},
};

static void test_round_trip(void)
{
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char *out = NULL;
        size_t ol = 0;
        struct h2h_err err = {0};
        int rc = fmt_to_utf8(pairs[i].cs, pairs[i].wire, pairs[i].wlen, &out,
                             &ol, &err);
        if (rc)
            fprintf(stderr, "\n%s: %s\n", pairs[i].cs, err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(out, pairs[i].utf8);
        CU_ASSERT_EQUAL(ol, strlen(pairs[i].utf8));
        free(out);

        rc = fmt_from_utf8(pairs[i].cs, pairs[i].utf8, strlen(pairs[i].utf8),
                           &out, &ol, &err);
        if (rc)
            fprintf(stderr, "\n%s: %s\n", pairs[i].cs, err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(ol, pairs[i].wlen);
        CU_ASSERT(memcmp(out, pairs[i].wire, pairs[i].wlen) == 0);
        CU_ASSERT_EQUAL(out[ol], '\0');
        free(out);
    }
}

static void test_fail_closed(void)
{
    static const struct {
        int to_utf8;
        const char *cs;
        const char *in;
        size_t len;
        const char *words;
    } t[] = {
        /* € is not in GB2312, ISO-8859-1 nor CP852 */
        {0, "GB2312", "ab\xe2\x82\xac", 5, "offset 2"},
        {0, "ISO-8859-1", "\xe2\x82\xac", 3, "cannot be written in ISO-8859-1"},
        {0, "CP852", "x\xe2\x82\xac", 4, "offset 1"},
        /* a Chinese character in Latin-1 */
        {0, "ISO-8859-1", "\xe4\xb8\xad", 3, "0xE4"},
        /* invalid UTF-8 given to fmt_from_utf8 */
        {0, "GBK", "ok\xff", 3, "not valid UTF-8"},
        /* GBK lead byte with an invalid trail */
        {1, "GBK", "a\xd6\x20", 3, "offset 1"},
        /* GBK truncated at the end */
        {1, "GBK", "ab\xd6", 3, "ends inside"},
        /* invalid UTF-8 declared as UTF-8 */
        {1, "UTF-8", "abc\xc3\x28", 5, "offset 3"},
        {1, NULL, "\xed\xa0\x80", 3, "not valid UTF-8"},
        /* unknown and suffixed charset names */
        {1, "X-NO-SUCH", "a", 1, "unknown character set"},
        {0, "ISO-8859-1//TRANSLIT", "\xe2\x82\xac", 3, "unknown"},
        {1, "GBK//IGNORE", "\xd6\x20", 2, "unknown"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *out = (char *)1;
        struct h2h_err err = {0};
        int rc =
            t[i].to_utf8
                ? fmt_to_utf8(t[i].cs, t[i].in, t[i].len, &out, NULL, &err)
                : fmt_from_utf8(t[i].cs, t[i].in, t[i].len, &out, NULL, &err);
        if (rc != H2H_ECHARSET || !strstr(err.msg, t[i].words))
            fprintf(stderr, "\ncase %zu: rc %d %s\n", i, rc, err.msg);
        CU_ASSERT_EQUAL(rc, H2H_ECHARSET);
        CU_ASSERT_PTR_NULL(out);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, t[i].words));
    }
}

static void test_names(void)
{
    CU_ASSERT(fmt_charset_is_utf8(NULL));
    CU_ASSERT(fmt_charset_is_utf8(""));
    CU_ASSERT(fmt_charset_is_utf8("utf-8"));
    CU_ASSERT(fmt_charset_is_utf8("UTF8"));
    CU_ASSERT(!fmt_charset_is_utf8("GBK"));
    static const char *known[] = {"GBK",   "GB18030",      "GB2312",
                                  "CP852", "ISO-8859-1",   "ISO-8859-15",
                                  "UTF-8", "WINDOWS-1252", NULL};
    for (int i = 0; known[i]; i++)
        CU_ASSERT(fmt_charset_known(known[i]));
    CU_ASSERT(!fmt_charset_known("X-NO-SUCH"));
    CU_ASSERT(!fmt_charset_known("GBK//TRANSLIT"));
}

static void test_large(void)
{
    /* 1 MB of GBK text converts and comes back byte for byte */
    size_t n = 1u << 20;
    char *gbk = malloc(n);
    for (size_t i = 0; i < n; i += 2) {
        gbk[i] = (char)0xd6;
        gbk[i + 1] = (char)0xd0;
    }
    char *u = NULL, *back = NULL;
    size_t ul = 0, bl = 0;
    CU_ASSERT_EQUAL_FATAL(fmt_to_utf8("GBK", gbk, n, &u, &ul, NULL), 0);
    CU_ASSERT_EQUAL(ul, n / 2 * 3);
    CU_ASSERT_EQUAL_FATAL(fmt_from_utf8("GBK", u, ul, &back, &bl, NULL), 0);
    CU_ASSERT_EQUAL(bl, n);
    CU_ASSERT(memcmp(back, gbk, n) == 0);
    free(gbk);
    free(u);
    free(back);
    char *e = NULL;
    size_t el = 7;
    CU_ASSERT_EQUAL(fmt_to_utf8("GBK", "", 0, &e, &el, NULL), 0);
    CU_ASSERT_STRING_EQUAL(e, "");
    CU_ASSERT_EQUAL(el, 0);
    free(e);
}

static const struct tu_case cases[] = {
    {"round trips GBK GB2312 GB18030 CP852 ISO-8859-1/15", test_round_trip},
    {"fail closed with offsets", test_fail_closed},
    {"charset names", test_names},
    {"large input", test_large},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_charset", cases);
}
