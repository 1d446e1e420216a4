/*
 * test_names.c - drop file name checks (table-driven).
 */
#include <string.h>

#include "names.h"
#include "testutil.h"

static const struct {
    const char *label;
    const char *name;
    int ok;
    const char *why;   /* fragment of the message when refused */
} drop_cases[] = {
    {"plain", "pay1.xml", 1, NULL},
    {"spaces and dashes", "Payment run 2026-11-28.xml", 1, NULL},
    {"single dots", "a.b.c", 1, NULL},
    {"dot at end", "file.", 1, NULL},
    {"utf-8 latin", "Zahlung-M\xc3\xbcller.xml", 1, NULL},
    {"utf-8 cjk", "\xe4\xbb\x98\xe6\xac\xbe.xml", 1, NULL},
    {"utf-8 4 bytes", "\xf0\x9f\x92\xb6.csv", 1, NULL},
    {"U+00A0 is not a control", "a\xc2\xa0" "b", 1, NULL},
    {"empty", "", 0, "empty"},
    {"dot", ".", 0, "folder"},
    {"dotdot", "..", 0, "folder"},
    {"slash", "a/b", 0, "'/'"},
    {"leading slash", "/etc", 0, "'/'"},
    {"traversal", "../x", 0, "'/'"},
    {"dotdot inside", "a..b", 0, "\"..\""},
    {"newline", "a\nb", 0, "control"},
    {"tab", "a\tb", 0, "control"},
    {"escape", "\x1b[31mred", 0, "control"},
    {"del", "a\x7f", 0, "control"},
    {"C1 CSI", "a\xc2\x9b" "b", 0, "control"},
    {"lone continuation", "a\x80", 0, "utf-8"},
    {"latin-1 byte", "M\xfcller.xml", 0, "utf-8"},
    {"truncated sequence", "a\xe4\xbb", 0, "utf-8"},
    {"overlong slash", "a\xc0\xaf" "b", 0, "utf-8"},
    {"overlong 3 bytes", "\xe0\x80\xaf", 0, "utf-8"},
    {"surrogate", "\xed\xa0\x80", 0, "utf-8"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 0, "utf-8"},
    {"5-byte form", "\xf8\x88\x80\x80\x80", 0, "utf-8"},
    {"0xff", "\xff", 0, "utf-8"},
};

static void test_check_drop(void)
{
    for (size_t i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
        struct h2h_err err = {0};
        int rc = names_check_drop(drop_cases[i].name, &err);
        if ((rc == 0) != drop_cases[i].ok)
            fprintf(stderr, "case \"%s\": rc %d (%s)\n", drop_cases[i].label,
                    rc, err.msg);
        CU_ASSERT_EQUAL(rc == 0, drop_cases[i].ok);
        if (!drop_cases[i].ok) {
            CU_ASSERT_EQUAL(rc, H2H_EINVALID);
            CU_ASSERT_EQUAL(err.code, H2H_EINVALID);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, drop_cases[i].why));
        }
    }
    /* err may be NULL */
    CU_ASSERT_EQUAL(names_check_drop("a/b", NULL), H2H_EINVALID);
    CU_ASSERT_EQUAL(names_check_drop(NULL, NULL), H2H_EINVALID);
}

static void test_length(void)
{
    char name[NAMES_DROP_MAX + 2];
    memset(name, 'a', sizeof(name));
    name[NAMES_DROP_MAX] = '\0';
    CU_ASSERT_EQUAL(names_check_drop(name, NULL), 0);
    name[NAMES_DROP_MAX] = 'a';
    name[NAMES_DROP_MAX + 1] = '\0';
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(names_check_drop(name, &err), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer"));
    /* the limit is in bytes: 67 three-byte characters = 201 bytes */
    char wide[NAMES_DROP_MAX + 8] = "";
    for (int i = 0; i < 67; i++)
        strcat(wide, "\xe4\xbb\x98");
    CU_ASSERT_EQUAL(strlen(wide), 201);
    CU_ASSERT_EQUAL(names_check_drop(wide, NULL), H2H_EINVALID);
    wide[198] = '\0';
    CU_ASSERT_EQUAL(names_check_drop(wide, NULL), 0);
}

static const struct {
    const char *name;
    int ignored;
} ignore_cases[] = {
    {".hidden", 1},
    {".h2hd.lock", 1},
    {".h2h-tmp.1234.pay.xml", 1},
    {"pay.xml.tmp", 1},
    {"pay.xml.TMP", 1},
    {"pay.xml.part", 1},
    {".pay.xml.swp", 1},
    {"pay.xml.swp", 1},
    {"pay.xml~", 1},
    {"pay.xml", 0},
    {"tmp", 0},
    {"pay.tmpl", 0},
    {"part.xml", 0},
    {"pay~.xml", 0},
    {"a.swpx", 0},
};

static void test_ignored(void)
{
    for (size_t i = 0; i < sizeof(ignore_cases) / sizeof(ignore_cases[0]);
         i++) {
        int got = names_is_ignored(ignore_cases[i].name);
        if (got != ignore_cases[i].ignored)
            fprintf(stderr, "ignored(\"%s\") = %d\n", ignore_cases[i].name,
                    got);
        CU_ASSERT_EQUAL(got, ignore_cases[i].ignored);
    }
    CU_ASSERT_EQUAL(names_is_ignored(NULL), 1);
}

static const struct tu_case cases[] = {
    {"check drop", test_check_drop},
    {"length", test_length},
    {"ignored", test_ignored},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("names", cases);
}
