/*
 * test_cnbank_xml.c - the cnbank_xml bank's settings: check_config,
 * table-driven (the profile is read for real, from etc/cnbank/), and the
 * example in etc/h2hd.conf.sample.  The adapter's operations are tested
 * end to end against tests/sims/bank_cn.py by tests/integration/
 * test_cnbank_e2e.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "adapter.h"
#include "cnbank_xml.h"
#include "testutil.h"

static const struct h2h_adapter_ops *OPS = &cnbank_xml_ops;

struct reports {
    int n;
    char all[8192];
};

static void report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    struct reports *r = ctx;
    size_t l = strlen(r->all);
    const char *f = s ? config_setting_source_file(s) : NULL;
    const char *slash = f ? strrchr(f, '/') : NULL;
    r->n++;
    snprintf(r->all + l, sizeof(r->all) - l, "%s:%d: %s\n",
             slash ? slash + 1
             : f   ? f
                   : "-",
             s ? config_setting_source_line(s) : 0, msg);
}

/* base_dir: the source's etc/, where the profiles live as cnbank/... */
static int check_text(const char *text, struct reports *r)
{
    config_t cfg;
    config_init(&cfg);
    memset(r, 0, sizeof(*r));
    int rc = -1;
    if (config_read_string(&cfg, text) == CONFIG_TRUE)
        rc = OPS->check_config(config_lookup(&cfg, "bank"), tu_src("etc"),
                               report_cb, r);
    else
        fprintf(stderr, "  parse error line %d: %s\n", config_error_line(&cfg),
                config_error_text(&cfg));
    config_destroy(&cfg);
    return rc;
}

#define CMB "profile = \"cnbank/cmb-style.profile\"; "
#define ICBC "profile = \"cnbank/icbc-style.profile\"; "
#define TLS "tls = { client_cert = \"c.pem\"; client_key = \"c.key\"; }; "
#define SIGN "sign = { key = \"s.key\"; cert = \"s.pem\"; }; "
#define WHO                                                                    \
    "login = \"H2HCORP01\"; bank_cert = \"b.pem\"; accounts = ( "              \
    "\"755912345610001\" ); "
#define HTTP_OK CMB "url = \"https://127.0.0.1:8443/\"; " WHO TLS SIGN
#define TCP_OK ICBC "host = \"127.0.0.1\"; port = 8082; " WHO SIGN

static const struct {
    const char *label;
    const char *bank;
    int problems;
    const char *needle;
} cases[] = {
    {"http profile",
     "payment_format = \"canonical\"; cnbank_xml = { " HTTP_OK "};", 0, NULL},
    {"tcp profile",
     "payment_format = \"canonical\"; cnbank_xml = { " TCP_OK "};", 0, NULL},
    {"not canonical", "cnbank_xml = { " HTTP_OK "};", 1,
     "payment_format = \"canonical\""},
    {"no group", "payment_format = \"canonical\";", 1,
     "needs a \"cnbank_xml\""},
    {"unknown setting",
     "payment_format = \"canonical\"; cnbank_xml = { " HTTP_OK "colour = 1; };",
     1, "unknown cnbank_xml setting \"colour\""},
    {"url for a tcp profile",
     "payment_format = \"canonical\"; cnbank_xml = { " TCP_OK
     "url = \"https://x/\"; };",
     1, "url and tls are for framing \"http\""},
    {"host for an http profile",
     "payment_format = \"canonical\"; cnbank_xml = { " HTTP_OK
     "host = \"127.0.0.1\"; };",
     1, "host and port are for framing \"tcp\""},
    {"tcp to another machine",
     "payment_format = \"canonical\"; cnbank_xml = { " ICBC
     "host = \"10.1.2.3\"; port = 8082; " WHO SIGN "};",
     1, "must be a loopback address"},
    {"http without tls",
     "payment_format = \"canonical\"; cnbank_xml = { " CMB
     "url = \"https://127.0.0.1:8443/\"; " WHO SIGN "};",
     1, "cnbank_xml.tls must be a group"},
    {"no signing identity",
     "payment_format = \"canonical\"; cnbank_xml = { " CMB
     "url = \"https://127.0.0.1:8443/\"; " WHO TLS "};",
     1, "cnbank_xml.sign must be a group"},
    {"no bank_cert",
     "payment_format = \"canonical\"; cnbank_xml = { " CMB
     "url = \"https://127.0.0.1:8443/\"; login = \"L1\"; " TLS SIGN "};",
     1, "bank_cert (the bank's signing certificate) is required"},
    {"serial prefix too long",
     "payment_format = \"canonical\"; cnbank_xml = { " HTTP_OK
     "serial_prefix = \"ABCDEFGHIJKL\"; };",
     1, "too long for profile cmb-style"},
    {"serial prefix characters",
     "payment_format = \"canonical\"; cnbank_xml = { " HTTP_OK
     "serial_prefix = \"H_2\"; };",
     1, "serial_prefix may hold letters, digits and '-' only"},
    {"account not digits",
     "payment_format = \"canonical\"; cnbank_xml = { " CMB
     "url = \"https://127.0.0.1:8443/\"; login = \"L\"; bank_cert = \"b\"; "
     "accounts = ( \"7559-1234\" ); " TLS SIGN "};",
     1, "accounts[0] must be a string of 10 to 30 digits"},
    {"missing profile file",
     "payment_format = \"canonical\"; cnbank_xml = { profile = "
     "\"cnbank/none.profile\"; url = \"https://h/\"; " WHO TLS SIGN "};",
     1, "none.profile"},
    {"no login",
     "payment_format = \"canonical\"; cnbank_xml = { " CMB
     "url = \"https://127.0.0.1:8443/\"; bank_cert = \"b\"; " TLS SIGN "};",
     1, "login (our customer / login id) is required"},
};

static void test_check_config(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[4096];
        struct reports r;
        snprintf(text, sizeof(text),
                 "bank = { name = \"b\"; adapter = \"cnbank_xml\";\n%s\n};\n",
                 cases[i].bank);
        int n = check_text(text, &r);
        if (n != cases[i].problems ||
            (cases[i].needle && !strstr(r.all, cases[i].needle)))
            fprintf(stderr, "  case \"%s\": %d problems (want %d):\n%s",
                    cases[i].label, n, cases[i].problems, r.all);
        CU_ASSERT_EQUAL(n, cases[i].problems);
        CU_ASSERT_EQUAL(r.n, n);
        if (cases[i].needle)
            CU_ASSERT_PTR_NOT_NULL(strstr(r.all, cases[i].needle));
    }
}

/* A mistake in the profile is reported in the profile's own file:line. */
static void test_profile_mistake_named(void)
{
    char dir[] = "/tmp/h2h-cx-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char *prof = tu_read_file(tu_src("etc/cnbank/cmb-style.profile"), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prof);
    const char *needle = "amount_unit = \"yuan\";";
    char *at = strstr(prof, needle);
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    int line = 1;
    for (const char *p = prof; p < at; p++)
        line += *p == '\n';
    char path[600], text[4096], want[200];
    snprintf(path, sizeof(path), "%s/bad.profile", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(prof, 1, (size_t)(at - prof), f);
    fputs("amount_unit = \"jiao\";", f);
    fputs(at + strlen(needle), f);
    fclose(f);
    snprintf(text, sizeof(text),
             "bank = { name = \"b\"; adapter = \"cnbank_xml\"; payment_format "
             "= \"canonical\";\ncnbank_xml = { profile = \"%s\"; url = "
             "\"https://h/\"; " WHO TLS SIGN "}; };\n",
             path);
    struct reports r;
    CU_ASSERT_EQUAL(check_text(text, &r), 1);
    snprintf(want, sizeof(want), "bad.profile:%d: ", line);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.all, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.all, "amount_unit"));
    if (!strstr(r.all, want))
        fprintf(stderr, "  want %s in:\n%s", want, r.all);
    unlink(path);
    rmdir(dir);
    free(prof);
}

/* The example in etc/h2hd.conf.sample, uncommented, passes as it is. */
static void test_sample_example(void)
{
    int lines = 0;
    char *out = tu_conf_example("cnbank_xml", &lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_TRUE(lines > 20);
    struct reports r;
    CU_ASSERT_EQUAL(check_text(out, &r), 0);
    if (r.n)
        fprintf(stderr, "%s\n%s", r.all, out);
    CU_ASSERT_PTR_EQUAL(h2h_adapter_find("cnbank_xml"), OPS);
    free(out);
}

static const struct tu_case cases_list[] = {
    {"check_config", test_check_config},
    {"a profile mistake names the profile's file:line",
     test_profile_mistake_named},
    {"etc/h2hd.conf.sample example", test_sample_example},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("cnbank_xml", cases_list);
}
