/*
 * test_fmt_mt101.c - MT101 writer, fed by the pain.001 reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt101.h"
#include "pain001.h"
#include "testutil.h"

/* pain.001 file -> MT101 text; returns the writer's code. */
static int convert(const char *path, const struct fmt_mt101_opts *o, char **out,
                   size_t *len, struct h2h_err *e)
{
    FILE *f = open_memstream(out, len);
    struct fmt_mt101_writer *w = fmt_mt101_writer_new(f, o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct fmt_pay_sink s = fmt_mt101_writer_sink(w);
    struct fmt_src src = {.path = path};
    int rc = fmt_pain001_read(&src, &s, NULL, e);
    int rc2 = fmt_mt101_writer_finish(w, e);
    fmt_mt101_writer_free(w);
    fclose(f);
    return rc ? rc : rc2;
}

/* Split MT text into its fields: "20" -> value lines joined by "\n". */
struct field {
    char tag[8];
    char val[512];
};

static int split_fields(const char *mt, struct field *v, int max)
{
    int n = 0;
    const char *p = mt;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 1 && p[0] == ':' && n < max) {
            const char *c = memchr(p + 1, ':', len - 1);
            if (c) {
                memset(&v[n], 0, sizeof(v[n]));
                snprintf(v[n].tag, sizeof(v[n].tag), "%.*s", (int)(c - p - 1),
                         p + 1);
                snprintf(v[n].val, sizeof(v[n].val), "%.*s",
                         (int)(len - (size_t)(c - p) - 1), c + 1);
                n++;
            }
        } else if (n > 0 && len > 0 && p[0] != '-' && p[0] != '{') {
            size_t l = strlen(v[n - 1].val);
            snprintf(v[n - 1].val + l, sizeof(v[n - 1].val) - l, "\n%.*s",
                     (int)len, p);
        }
        p += len;
        if (eol)
            p += 2;
    }
    return n;
}

static void test_fixture_fields(void)
{
    const char *in = tu_src("tests/fixtures/pain/pain001_full_03.xml");
    struct fmt_mt101_opts o = {.transliterate = 1};
    char *out = NULL;
    size_t len = 0;
    struct h2h_err e = {0};
    int rc = convert(in, &o, &out, &len, &e);
    if (rc)
        fprintf(stderr, "%s\n", e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    struct field f[64];
    int n = split_fields(out, f, 64);
    static const struct {
        const char *tag, *val;
    } want[] = {
        {"20", "PMT-1"},
        {"28D", "1/1"},
        {"50H", "/DE89370400440532013000\nAcme GmbH\nHauptstrasse 12\n"
                "60311 Frankfurt\nDE"},
        {"52A", "COBADEFFXXX"},
        {"30", "240304"},
        {"21", "INSTR-1"},
        {"32B", "EUR1000,00"},
        {"57A", "INGBNL2A"},
        {"59", "/NL91ABNA0417164300\nSupplier + Sons B.V.\nKerkstraat 1\n"
               "1012 AB Amsterdam\nNL"},
        {"70", "RF18539007547034"},
        {"71A", "SHA"},
        {"21", "E2E-2"},
        {"32B", "EUR234,56"},
        {"57A", "BNPAFRPP"},
        {"59", "/FR1420041010050500013M02606\nFournisseur SARL"},
        {"70", "invoice 4711\nsecond line"},
        {"71A", "SHA"},
        {"20", "PMT-2"},
        {"28D", "1/1"},
        {"50H", "/31001234567890\nAcme Shanghai Ltd"},
        {"52A", "BKCHCNBJ"},
        {"30", "240305"},
        {"21", "CN-1"},
        {"32B", "CNY123,35"},
        {"57D", "//CNAPS102100099996\nICBC Shanghai Branch"},
        {"59", "/6222020200001234567\nShanghai Parts Co\nNanjing Road 100\n"
               "200001 Shanghai\nCN"},
        {"70", "PO 9988"},
        {"71A", "OUR"},
    };
    int nw = (int)(sizeof(want) / sizeof(want[0]));
    CU_ASSERT_EQUAL(n, nw);
    for (int i = 0; i < n && i < nw; i++) {
        if (strcmp(f[i].tag, want[i].tag) || strcmp(f[i].val, want[i].val))
            fprintf(stderr, "field %d: got :%s:%s want :%s:%s\n", i, f[i].tag,
                    f[i].val, want[i].tag, want[i].val);
        CU_ASSERT_STRING_EQUAL(f[i].tag, want[i].tag);
        CU_ASSERT_STRING_EQUAL(f[i].val, want[i].val);
    }

    /* and byte for byte, framing and CRLF included */
    size_t elen = 0;
    char *exp = tu_read_file(
        tu_src("tests/fixtures/pain/mt101_from_full_03.expected"), &elen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
    CU_ASSERT_EQUAL(len, elen);
    CU_ASSERT(len == elen && memcmp(out, exp, len) == 0);
    /* no line longer than 35 characters after the tag */
    for (int i = 0; i < n; i++) {
        char *save = NULL, *v = strdup(f[i].val);
        for (char *l = strtok_r(v, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save))
            CU_ASSERT(strlen(l) <= 35);
        free(v);
    }
    free(exp);
    free(out);
}

static void test_charset(void)
{
    const char *in = tu_src("tests/fixtures/pain/pain001_full_03.xml");
    struct fmt_mt101_opts o = {0};
    char *out = NULL;
    size_t len = 0;
    struct h2h_err e = {0};
    int rc = convert(in, &o, &out, &len, &e);
    CU_ASSERT_EQUAL(rc, H2H_ECHARSET);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "field 59"));
    free(out);
}

static void test_headers_and_limits(void)
{
    struct fmt_mt101_opts o = {.sender_lt = "ACMEDEFFAXXX",
                               .receiver_lt = "COBADEFFXXXX"};
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    struct fmt_mt101_writer *w = fmt_mt101_writer_new(f, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct fmt_pay_sink s = fmt_mt101_writer_sink(w);

    struct fmt_pay_header h;
    struct fmt_pay_group g;
    struct fmt_pay_tx t;
    fmt_pay_header_init(&h);
    fmt_pay_group_init(&g);
    memset(&t, 0, sizeof(t));
    fmt_strset(&h.msg_id, "M1");
    fmt_strset(&g.reqd_exctn_dt, "2024-12-31");
    fmt_strset(&g.dbtr.name, "Acme");
    fmt_strset(&g.dbtr_acct.other_id, "12345");
    fmt_strset(&t.end_to_end_id, "T1");
    t.amt.minor = 5000;
    memcpy(t.amt.ccy, "JPY", 4);
    fmt_strset(&t.cdtr.name,
               "A very long beneficiary name that needs two lines");
    fmt_strset(&t.cdtr_acct.other_id, "999");
    CU_ASSERT_EQUAL(s.begin(s.ctx, &h), 0);
    CU_ASSERT_EQUAL(s.group_begin(s.ctx, &g), 0);
    CU_ASSERT_EQUAL(s.tx(s.ctx, &g, &t), 0);
    /* 5 lines of remittance do not fit :70: */
    fmt_strset(&t.rmt_ustrd, "1\n2\n3\n4\n5");
    CU_ASSERT_EQUAL(s.tx(s.ctx, &g, &t), H2H_EINVALID);
    struct h2h_err e = {0};
    CU_ASSERT_EQUAL(fmt_mt101_writer_finish(w, &e), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "field 70"));
    fmt_mt101_writer_free(w);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(out,
                                  "{1:F01ACMEDEFFAXXX0000000000}"
                                  "{2:I101COBADEFFXXXXN}{4:\r\n:20:M1\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":30:241231\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":32B:JPY5000,\r\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, ":59:/999\r\nA very long beneficiary name that n"
                    "\r\needs two lines\r\n"));
    /* the failed transaction left nothing behind */
    CU_ASSERT_PTR_NULL(strstr(out, ":70:"));
    free(out);

    /* references longer than 16 characters are refused, not cut */
    out = NULL;
    f = open_memstream(&out, &len);
    w = fmt_mt101_writer_new(f, NULL);
    s = fmt_mt101_writer_sink(w);
    fmt_strset(&g.pmt_inf_id, "PMT-0123456789-ABCDEF");
    CU_ASSERT_EQUAL(s.begin(s.ctx, &h), 0);
    CU_ASSERT_EQUAL(s.group_begin(s.ctx, &g), H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(fmt_mt101_writer_error(w)->msg, "field 20"));
    fmt_mt101_writer_free(w);
    fclose(f);
    free(out);

    CU_ASSERT_PTR_NULL(fmt_mt101_writer_new(
        stdout, &(struct fmt_mt101_opts){.sender_lt = "SHORT"}));
    fmt_mt101_writer_free(NULL);
    fmt_pay_header_release(&h);
    fmt_pay_group_release(&g);
    fmt_pay_tx_release(&t);
}

static const struct tu_case cases[] = {
    {"fixture field by field", test_fixture_fields},
    {"x character set", test_charset},
    {"headers and field limits", test_headers_and_limits},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("fmt_mt101", cases);
}
