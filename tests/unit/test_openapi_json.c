/*
 * test_openapi_json.c - the openapi_json bank adapter: its settings
 * (check_config, table-driven, plus the example in etc/h2hd.conf.sample)
 * and its operations against the strict simulator tests/sims/
 * bank_openapi.py, started through tests/sims/openapi_world.py (a PKI from
 * tests/sims/pki.py, a client signing certificate from the openssl CLI,
 * mutual TLS on loopback).  What the bank did is read from the
 * simulator's admin port (arrival log, payments, faults), not from the
 * adapter; the status reports and statements the adapter makes are read
 * back with h2hd's own pain.002 and canonical readers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libconfig.h>
#include <openssl/x509.h>
#include <uv.h>

#include "adapter.h"
#include "canon.h"
#include "fsutil.h"
#include "oj_testlib.h"
#include "openapi_json.h"
#include "pain002.h"
#include "stmtcheck.h"
#include "testutil.h"

#define PY "/usr/bin/python3"

static const struct h2h_adapter_ops *OPS = &openapi_json_ops;

#define DEBTOR "DE89370400440532013000"
#define DEBTOR2 "NL91ABNA0417164300"
#define CRED1 "GB29NWBK60161331926819"
#define CRED2 "FR1420041010050500013M02606"

static int verbose(void)
{
    return getenv("H2H_TEST_VERBOSE") != NULL;
}

/* ---- check_config ------------------------------------------------------- */

#define TLS_OK "tls = { client_cert = \"c.pem\"; client_key = \"c.key\"; };"
#define SIGN_OK "sign = { key = \"s.key\"; cert = \"s.pem\"; };"
#define MIN_OK                                                                 \
    "base_url = \"https://api.bank.example/psd2/\"; client_id = \"id\"; "      \
    "client_secret_file = \"secret\"; bank_cert = \"bank.pem\"; " TLS_OK       \
    " " SIGN_OK

static const struct {
    const char *label;
    const char *bank; /* members besides name and adapter */
    int problems;
    const char *needle;
} config_cases[] = {
    {"minimal",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK " };", 0, NULL},
    {"everything",
     "payment_format = \"canonical\"; max_sessions = 3; openapi_json = { "
     "base_url = \"https://h:8443\"; client_id = \"id\"; "
     "client_secret_file = \"s\"; scope = \"payments accounts\"; "
     "token_path = \"/auth/token\"; tls = { ca_file = \"ca.pem\"; "
     "client_p12 = \"c.p12\"; passphrase_file = \"pp\"; "
     "pinned_pubkey = \"sha256//AAAA\"; proxy = \"http://proxy:3128\"; "
     "no_proxy = \"localhost\"; }; sign = { p12 = \"s.p12\"; "
     "passphrase_file = \"spp\"; }; bank_cert = \"b.pem\"; "
     "replay_window = 120; accounts = ( \"" DEBTOR "\", \"NL91 ABNA 0417 "
     "1643 00\" ); statement_days = 3; statement_interval = 0; "
     "pending_interval = 30; "
     "connect_timeout = 5; request_timeout = 30; };",
     0, NULL},
    {"token at another host",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " token_path = \"https://auth.bank.example/token\"; };",
     0, NULL},
    {"payment_format missing", "openapi_json = { " MIN_OK " };", 1,
     "payment_format = \"canonical\""},
    {"payment_format pain.001",
     "payment_format = \"pain.001.001.09\"; openapi_json = { " MIN_OK " };", 1,
     "it is \"pain.001.001.09\""},
    {"no group", "payment_format = \"canonical\";", 1,
     "needs an \"openapi_json\" group"},
    {"http url",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"http://h\"; client_id = \"id\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; " TLS_OK " " SIGN_OK " };",
     1, "base_url must be an https:// URL"},
    {"url with credentials",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://u:p@h\"; client_id = \"id\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; " TLS_OK " " SIGN_OK " };",
     1, "without credentials"},
    {"client_id missing",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_secret_file = \"s\"; bank_cert = \"b\"; " TLS_OK
     " " SIGN_OK " };",
     1, "openapi_json.client_id"},
    {"no tls",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; " SIGN_OK " };",
     1, "openapi_json.tls must be a group"},
    {"tls without certificate",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; tls = { ca_file = \"ca\"; }; " SIGN_OK " };",
     1, "mutual TLS"},
    {"tls p12 and pem",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; tls = { client_p12 = \"p\"; client_cert = \"c\"; "
     "}; " SIGN_OK " };",
     1, "leave out client_cert"},
    {"no sign",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; " TLS_OK " };",
     1, "openapi_json.sign must be a group"},
    {"sign cert without key",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; " TLS_OK " sign = { cert = \"c\"; }; };",
     2, "sign.key (with cert) or"},
    {"no bank_cert",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; " TLS_OK
     " " SIGN_OK " };",
     1, "bank_cert"},
    {"bad account",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " accounts = ( \"DE89370400440532013001\" ); };",
     1, "accounts[0] is not a valid IBAN"},
    {"accounts not a list",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " accounts = \"x\"; };",
     1, "list of IBANs"},
    {"replay window zero",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " replay_window = 0; };",
     1, "replay_window must be between"},
    {"timeout as string",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " request_timeout = \"30\"; };",
     1, "whole number"},
    {"bad pin",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; tls = { client_cert = \"c\"; pinned_pubkey = "
     "\"md5//x\"; }; " SIGN_OK " };",
     1, "sha256//base64"},
    {"bad token_path",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " token_path = \"oauth/token\"; };",
     1, "token_path must start with '/'"},
    {"unknown settings",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " base_ulr = \"x\"; tls2 = 1; };",
     2, "unknown openapi_json setting \"base_ulr\""},
    {"unknown tls setting",
     "payment_format = \"canonical\"; openapi_json = { base_url = "
     "\"https://h\"; client_id = \"i\"; client_secret_file = \"s\"; "
     "bank_cert = \"b\"; tls = { client_cert = \"c\"; verify = false; "
     "}; " SIGN_OK " };",
     1, "unknown openapi_json.tls setting \"verify\""},
    {"control character",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " scope = \"a\\nb\"; };",
     1, "control character"},
    {"scf_parties not a list",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " scf_parties = \"x\"; };",
     1, "scf_parties must be a list of groups"},
    {"scf_parties: bad account and bank code",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " scf_parties = ( { id = \"M1\"; name = \"甲\"; account = "
     "\"12-34\"; bank_code = \"10410000004\"; } ); };",
     2, "scf_parties[0].account must be digits and capital letters"},
    {"scf_parties: an id twice, a typo, a missing name",
     "payment_format = \"canonical\"; openapi_json = { " MIN_OK
     " scf_parties = ( { id = \"M1\"; name = \"甲\"; account = "
     "\"1234\"; bank_code = \"104100000045\"; }, { id = \"M1\"; "
     "name = \"乙\"; account = \"5678\"; bank_code = \"104100000045\"; "
     "}, { id = \"M2\"; acount = \"1\"; bank_code = "
     "\"104100000045\"; } ); };",
     4, "scf_parties[1]: M1 is listed twice"},
    {"every problem at once",
     "openapi_json = { base_url = 1; replay_window = -1; foo = 1; };", 9,
     "openapi_json.client_id"},
};

static void test_check_config(void)
{
    for (size_t i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]);
         i++) {
        char text[4096];
        struct ojt_reports r;
        snprintf(text, sizeof(text),
                 "bank = { name = \"b\"; adapter = \"openapi_json\";\n%s\n};\n",
                 config_cases[i].bank);
        int n = ojt_check(text, &r);
        if (n != config_cases[i].problems ||
            (config_cases[i].needle && !strstr(r.all, config_cases[i].needle)))
            fprintf(stderr, "  case \"%s\": %d problems (want %d):\n%s",
                    config_cases[i].label, n, config_cases[i].problems, r.all);
        CU_ASSERT_EQUAL(n, config_cases[i].problems);
        CU_ASSERT_EQUAL(r.n, n);
        if (config_cases[i].needle)
            CU_ASSERT_PTR_NOT_NULL(strstr(r.all, config_cases[i].needle));
    }
}

/* The example in etc/h2hd.conf.sample, uncommented, passes as it is. */
static void test_sample_example(void)
{
    int lines = 0;
    char *out = tu_conf_example("openapi_json", &lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_TRUE(lines > 20);
    struct ojt_reports r;
    CU_ASSERT_EQUAL(ojt_check(out, &r), 0);
    if (r.n)
        fprintf(stderr, "%s\n%s", r.all, out);
    CU_ASSERT_PTR_EQUAL(h2h_adapter_find("openapi_json"), OPS);
    free(out);
}

/* ---- the simulator --------------------------------------------------------
 */

/* Seed: the debtor account with entries yesterday and today, so that a
 * statement has several pages (page size 2). */
static void seed_text(char *text, size_t n)
{
    char y[11], t[11];
    ojt_day(-1, y);
    ojt_day(0, t);
    snprintf(
        text, n,
        "{\"accounts\": [{\"iban\": \"%s\", \"currency\": \"EUR\", "
        "\"opening_balance\": \"5000.00\"}, {\"iban\": \"%s\", \"currency\": "
        "\"EUR\", \"opening_balance\": \"10.00\"}],\n"
        "\"entries\": [\n"
        "{\"account\": \"%s\", \"booking_date\": \"%s\", \"amount\": "
        "\"100.00\", \"currency\": \"EUR\", \"credit_debit\": \"CRDT\", "
        "\"end_to_end_id\": \"IN-1\", \"counterparty_name\": \"Customer A\", "
        "\"counterparty_account\": \"%s\", \"remittance_information\": "
        "\"Invoice 1\"},\n"
        "{\"account\": \"%s\", \"booking_date\": \"%s\", \"amount\": "
        "\"20.50\", \"currency\": \"EUR\", \"credit_debit\": \"DBIT\", "
        "\"counterparty_name\": \"Fees\"},\n"
        "{\"account\": \"%s\", \"booking_date\": \"%s\", \"amount\": "
        "\"300.00\", \"currency\": \"EUR\", \"credit_debit\": \"CRDT\", "
        "\"end_to_end_id\": \"IN-2\", \"counterparty_name\": \"Customer B\"},\n"
        "{\"account\": \"%s\", \"booking_date\": \"%s\", \"amount\": "
        "\"1.00\", \"currency\": \"USD\", \"credit_debit\": \"CRDT\"},\n"
        "{\"account\": \"%s\", \"booking_date\": \"%s\", \"amount\": "
        "\"7.00\", \"currency\": \"EUR\", \"credit_debit\": \"DBIT\", "
        "\"bank_reference\": \"BR-7\"}\n]}\n",
        DEBTOR, DEBTOR2, DEBTOR, y, CRED2, DEBTOR, y, DEBTOR, t, DEBTOR, t,
        DEBTOR, t);
}

static int env_start(void)
{
    char seed[4096];
    seed_text(seed, sizeof(seed));
    return ojt_env_start(seed);
}

#define NEED_ENV()                                                             \
    do {                                                                       \
        if (env_start() != 0) {                                                \
            CU_FAIL("bank simulator did not start");                           \
            return;                                                            \
        }                                                                      \
    } while (0)

static json_t *admin(const char *method, const char *path, const char *body)
{
    return ojt_admin(method, path, body, NULL);
}

static void faults(const char *json)
{
    json_t *j = admin("POST", "/admin/faults", json);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
}

static void sim_today(const char *date)
{
    char body[64];
    if (date)
        snprintf(body, sizeof(body), "{\"today\": \"%s\"}", date);
    else
        snprintf(body, sizeof(body), "{\"today\": null}");
    json_t *j = admin("POST", "/admin/date", body);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
}

/* Arrivals whose key starts with msg_id and whose outcome is outcome
 * (NULL: any). */
static int arrivals(const char *msg_id, const char *outcome)
{
    json_t *a = admin("GET", "/admin/arrivals", NULL);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(a, i, x)
    {
        const char *k =
            json_string_value(json_object_get(x, "idempotency_key"));
        const char *o = json_string_value(json_object_get(x, "outcome"));
        if (k && strncmp(k, msg_id, strlen(msg_id)) == 0 &&
            k[strlen(msg_id)] == '-' &&
            (!outcome || (o && !strcmp(o, outcome))))
            n++;
    }
    json_decref(a);
    return n;
}

/* Each EndToEndId of the run created at most once. */
static void no_duplicates(void)
{
    json_t *a = admin("GET", "/admin/arrivals", NULL);
    size_t i, k;
    json_t *x, *y;
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    json_array_foreach(a, i, x)
    {
        const char *o = json_string_value(json_object_get(x, "outcome"));
        const char *e = json_string_value(json_object_get(x, "end_to_end_id"));
        if (!o || strcmp(o, "created") || !e)
            continue;
        json_array_foreach(a, k, y)
        {
            const char *o2 = json_string_value(json_object_get(y, "outcome"));
            const char *e2 =
                json_string_value(json_object_get(y, "end_to_end_id"));
            if (k > i && o2 && !strcmp(o2, "created") && e2 && !strcmp(e, e2)) {
                fprintf(stderr, "  duplicate: %s\n", e);
                CU_FAIL("a payment was created twice");
            }
        }
    }
    json_decref(a);
}

/* ---- canonical payments ------------------------------------------------- */

struct ptx {
    const char *e2e;
    const char *amount; /* "12.00" */
    const char *cdtr;   /* IBAN */
    const char *name;
    const char *bic;   /* or NULL */
    const char *ustrd; /* or NULL */
};

static int msg_counter;

/* A fresh message id for this run. */
static void new_msg(char *buf, size_t n)
{
    snprintf(buf, n, "M%05d-%06d", (int)(getpid() % 100000), ++msg_counter);
}

static void put_group(FILE *f, const char *pmtinf, const char *debtor,
                      const char *date, const struct ptx *tx, int n,
                      const char *msg_id, int *line)
{
    fprintf(f,
            "  <Group>\n    <PmtInfId>%s</PmtInfId>\n    <PmtMtd>TRF</PmtMtd>\n"
            "    <NbOfTxs>%d</NbOfTxs>\n",
            pmtinf, n);
    if (date)
        fprintf(f, "    <ReqdExctnDt>%s</ReqdExctnDt>\n", date);
    fprintf(f,
            "    <Dbtr><Nm>Example Treasury GmbH</Nm></Dbtr>\n"
            "    <DbtrAcct><IBAN>%s</IBAN></DbtrAcct>\n"
            "    <DbtrAgt><BIC>COBADEFFXXX</BIC></DbtrAgt>\n",
            debtor);
    for (int i = 0; i < n; i++) {
        fprintf(f,
                "    <Tx>\n      <InstrId>I%d</InstrId>\n"
                "      <EndToEndId>%s-%s</EndToEndId>\n"
                "      <Amt Ccy=\"EUR\">%s</Amt>\n",
                ++*line, msg_id, tx[i].e2e, tx[i].amount);
        if (tx[i].bic)
            fprintf(f, "      <CdtrAgt><BIC>%s</BIC></CdtrAgt>\n", tx[i].bic);
        fprintf(f,
                "      <Cdtr><Nm>%s</Nm></Cdtr>\n"
                "      <CdtrAcct><IBAN>%s</IBAN></CdtrAcct>\n",
                tx[i].name, tx[i].cdtr);
        if (tx[i].ustrd)
            fprintf(f, "      <Ustrd>%s</Ustrd>\n", tx[i].ustrd);
        fprintf(f, "    </Tx>\n");
    }
    fprintf(f, "  </Group>\n");
}

/* Write a canonical PaymentBatch of one or two groups to path. */
static void canon2(const char *path, const char *msg_id, const char *date1,
                   const struct ptx *tx1, int n1, const char *date2,
                   const struct ptx *tx2, int n2)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int line = 0;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<PaymentBatch xmlns=\"urn:h2hd:canonical:1\">\n  <Header>\n"
            "    <MsgId>PAY-%s</MsgId>\n"
            "    <CreDtTm>2026-01-01T09:00:00</CreDtTm>\n"
            "    <NbOfTxs>%d</NbOfTxs>\n"
            "    <InitgPty><Nm>Example Treasury GmbH</Nm></InitgPty>\n"
            "    <SrcFmt>pain.001.001.03</SrcFmt>\n  </Header>\n",
            msg_id, n1 + n2);
    char pid[64];
    snprintf(pid, sizeof(pid), "%s-P1", msg_id);
    put_group(f, pid, DEBTOR, date1, tx1, n1, msg_id, &line);
    if (n2) {
        snprintf(pid, sizeof(pid), "%s-P2", msg_id);
        put_group(f, pid, DEBTOR, date2, tx2, n2, msg_id, &line);
    }
    fprintf(f, "</PaymentBatch>\n");
    fclose(f);
}

static void canon(const char *path, const char *msg_id, const char *date,
                  const struct ptx *tx, int n)
{
    canon2(path, msg_id, date, tx, n, NULL, NULL, 0);
}

static const struct ptx THREE[] = {
    {"A", "12.00", CRED1, "Supplier One Ltd", "NWBKGB2LXXX", "Invoice 1"},
    {"B", "1250.50", CRED2, "Fournisseur SA", NULL, "Invoice 2"},
    {"C", "0.99", CRED1, "Supplier One Ltd", NULL, NULL},
};

/* ---- a bank on the simulator ------------------------------------------- */

/* extra: more openapi_json settings; tls: the tls group's body, NULL for
 * the client PEM files. */
static int world_open_tls(struct ojt_world *w, const char *extra,
                          const char *tls)
{
    char members[4096];
    int own_accounts = extra && strstr(extra, "accounts");
    snprintf(members, sizeof(members),
             "%s statement_interval = 0; pending_interval = 0; %s",
             own_accounts ? "" : "accounts = ( \"" DEBTOR "\" );",
             extra ? extra : "");
    return ojt_world_open(w, tls, members);
}

static int world_open(struct ojt_world *w, const char *extra)
{
    return world_open_tls(w, extra, NULL);
}

#define OPEN(w, extra)                                                         \
    do {                                                                       \
        NEED_ENV();                                                            \
        if (world_open((w), (extra)) != 0) {                                   \
            CU_FAIL("adapter not created");                                    \
            ojt_world_close(w);                                                \
            return;                                                            \
        }                                                                      \
    } while (0)

/* ---- submit / recover --------------------------------------------------- */

/* Submit (recover = 0) or recover msg_id's payload; result in *g. */
static void op(struct ojt_world *w, int recover, const char *payload,
               const char *msg_id, struct ojt_got *g)
{
    struct h2h_submit_req req = {.msg_id = msg_id,
                                 .remote_name = msg_id,
                                 .payload = payload,
                                 .kind = "payment"};
    ojt_op(w, recover, &req, g);
}

static void payload_path(struct ojt_world *w, const char *msg_id, char *buf,
                         size_t n)
{
    snprintf(buf, n, "%s/%s.xml", w->base, msg_id);
}

/* Files in dir (not hidden), sorted, into names (at most max). */
static int list(const char *dir, char names[][256], int max)
{
    struct dirent **v;
    int n = scandir(dir, &v, NULL, alphasort), k = 0;
    for (int i = 0; i < n; i++) {
        if (v[i]->d_name[0] != '.' && k < max)
            snprintf(names[k++], 256, "%s", v[i]->d_name);
        free(v[i]);
    }
    if (n >= 0)
        free(v);
    return k;
}

static int outbox_count(struct ojt_world *w)
{
    char dir[600], names[64][256];
    snprintf(dir, sizeof(dir), "%s/outbox", w->state);
    return list(dir, names, 64);
}

/* Read a pain.002 file into r; 0 when it parsed cleanly. */
static int read_report(const char *path, struct fmt_status_report *r)
{
    struct fmt_src src = {.path = path};
    struct fmt_diag diag;
    struct h2h_err err = {0};
    fmt_diag_init(&diag, path);
    int rc = fmt_pain002_read(&src, r, &diag, &err);
    if (rc != 0 || diag.n) {
        fprintf(stderr, "  %s: %s\n", path, err.msg);
        fmt_diag_print(&diag, stderr);
        rc = -1;
    }
    fmt_diag_release(&diag);
    return rc;
}

/* The outbox report pain002_<msg>_<seq>.xml of w, read into r. */
static int outbox_report(struct ojt_world *w, const char *msg_id, int seq,
                         struct fmt_status_report *r)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/outbox/pain002_%s_%d.xml", w->state,
             msg_id, seq);
    return read_report(path, r);
}

static const char *tx_status(const struct fmt_status_report *r,
                             const char *e2e_suffix)
{
    for (size_t i = 0; i < r->n_pmts; i++)
        for (size_t k = 0; k < r->pmts[i].n_txs; k++) {
            const char *e = r->pmts[i].txs[k].orgnl_end_to_end_id;
            size_t l = e ? strlen(e) : 0, s = strlen(e2e_suffix);
            if (l > s && strcmp(e + l - s, e2e_suffix) == 0 &&
                e[l - s - 1] == '-')
                return r->pmts[i].txs[k].sts;
        }
    return NULL;
}

static void test_submit_ok(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, NULL, THREE, 3);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    if (g.out != H2H_OUT_OK)
        fprintf(stderr, "  submit: %s\n", g.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.ref, "pay_"));
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 3);
    CU_ASSERT_EQUAL(outbox_count(&w), 1);
    struct fmt_status_report r;
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL_FATAL(outbox_report(&w, mid, 1, &r), 0);
    char want[64];
    snprintf(want, sizeof(want), "PAY-%s", mid);
    CU_ASSERT_STRING_EQUAL(r.orgnl_msg_id, want);
    CU_ASSERT_STRING_EQUAL(r.grp_sts, "ACCP");
    CU_ASSERT_EQUAL(r.orgnl_nb_of_txs, 3);
    CU_ASSERT_EQUAL(r.n_pmts, 1);
    CU_ASSERT_STRING_EQUAL(tx_status(&r, "A"), "ACCP");
    CU_ASSERT_STRING_EQUAL(tx_status(&r, "C"), "ACCP");
    CU_ASSERT_PTR_NOT_NULL(r.pmts[0].txs[0].sts_id);
    fmt_status_report_release(&r);
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");

    /* the same message again: replayed, nothing new */
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 3);
    CU_ASSERT_EQUAL(arrivals(mid, "replayed"), 3);
    CU_ASSERT_EQUAL(outbox_count(&w), 1);
    /* recover says the bank has it, and makes no second report */
    op(&w, 1, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(outbox_count(&w), 1);
    no_duplicates();
    ojt_world_close(&w);
}

/* One transaction, nothing else: for the fault tests. */
static void one_tx(struct ojt_world *w, char *mid, size_t midn, char *pay,
                   size_t payn)
{
    static const struct ptx ONE[] = {
        {"X", "42.00", CRED1, "Supplier One Ltd", "NWBKGB2LXXX", "Invoice X"}};
    new_msg(mid, midn);
    payload_path(w, mid, pay, payn);
    canon(pay, mid, NULL, ONE, 1);
}

static void test_token_expired(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g); /* the adapter holds a token now */
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    faults("{\"expire_tokens\": true}");
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "unauthorized"), 1);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 1);
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");
    ojt_world_close(&w);
}

static void test_http_500(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, NULL, THREE, 3);
    faults("{\"clear\": true, \"http_500_next\": 1}");
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_TEMPFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "HTTP 500"));
    CU_ASSERT_PTR_NOT_NULL(strstr(OPS->health(w.a), "degraded: "));
    CU_ASSERT_EQUAL(arrivals(mid, "fault_500"), 1);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 0);
    CU_ASSERT_EQUAL(outbox_count(&w), 0);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 3);
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");
    CU_ASSERT_EQUAL(outbox_count(&w), 1);
    ojt_world_close(&w);
}

/* The bank creates the payment and the answer never comes (connection
 * closed, reset, or held until it closes): UNKNOWN, then recover finds it
 * by key; exactly one created. */
static void timeout_case(const char *mode)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600], f[200];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    snprintf(f, sizeof(f),
             "{\"clear\": true, \"timeout_after_create_next\": 1, "
             "\"timeout_mode\": \"%s\", \"timeout_hold_s\": 1}",
             mode);
    faults(f);
    op(&w, 0, pay, mid, &g);
    if (g.out != H2H_OUT_UNKNOWN)
        fprintf(stderr, "  %s: %s %s\n", mode, h2h_outcome_name(g.out), g.msg);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 1);
    CU_ASSERT_EQUAL(outbox_count(&w), 0);
    op(&w, 1, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 1);
    CU_ASSERT_EQUAL(arrivals(mid, NULL), 1); /* no POST since */
    CU_ASSERT_EQUAL(outbox_count(&w), 1);
    ojt_world_close(&w);
}

static void test_timeout_after_create(void)
{
    timeout_case("close");
    timeout_case("reset");
    timeout_case("hold");
}

/* Transaction 1 created without an answer, 2 and 3 never sent: recover
 * proves "not sent", the resubmit replays 1 and creates 2 and 3. */
static void test_recover_not_sent(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, NULL, THREE, 3);
    faults("{\"clear\": true, \"timeout_after_create_next\": 1, "
           "\"timeout_mode\": \"close\"}");
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_UNKNOWN);
    op(&w, 1, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_NOT_SENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "never created"));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 3);
    CU_ASSERT_EQUAL(arrivals(mid, "replayed"), 1);
    no_duplicates();
    ojt_world_close(&w);
}

static void test_bad_signature(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g); /* a token first: the fault hits the POST */
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    faults("{\"clear\": true, \"bad_response_signature_next\": 1}");
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_UNKNOWN);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "signature does not verify"));
    CU_ASSERT_PTR_NOT_NULL(strstr(OPS->health(w.a), "degraded: "));
    CU_ASSERT_EQUAL(outbox_count(&w), 1); /* the first message's only */
    op(&w, 1, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 1);
    CU_ASSERT_EQUAL(arrivals(mid, NULL), 1);
    CU_ASSERT_EQUAL(outbox_count(&w), 2);
    ojt_world_close(&w);
}

/* The bank's last answer replayed byte for byte (valid signature, old id
 * and timestamp): refused, so the payment counts as unknown; the request
 * itself did nothing, which recover proves. */
static void test_replayed_answer(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    faults("{\"clear\": true, \"replay_last_response_next\": 1}");
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_UNKNOWN);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "replay"));
    CU_ASSERT_EQUAL(arrivals(mid, "fault_replay"), 1);
    op(&w, 1, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_NOT_SENT);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 1);
    ojt_world_close(&w);
}

/* The bank refuses a field (400): with nothing created PERMFAIL naming the
 * field; with others created, OK and a PART report. */
static void test_refused_field(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600], old[11], today[11];
    struct ojt_got g;
    ojt_day(-400, old);
    ojt_day(0, today);
    /* the bank thinks it is 400 days ago: today is too far ahead */
    sim_today(old);
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, today, THREE, 3);
    op(&w, 0, pay, mid, &g);
    if (g.out != H2H_OUT_PERMFAIL)
        fprintf(stderr, "  %s: %s\n", h2h_outcome_name(g.out), g.msg);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "requested_execution_date"));
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "nothing created"));
    CU_ASSERT_EQUAL(arrivals(mid, "rejected_invalid"), 1); /* 1 alone */
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 0);
    CU_ASSERT_EQUAL(outbox_count(&w), 0);

    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon2(pay, mid, old, THREE, 2, today, THREE + 2, 1);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 2);
    CU_ASSERT_EQUAL(arrivals(mid, "rejected_invalid"), 1);
    struct fmt_status_report r;
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL_FATAL(outbox_report(&w, mid, 1, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.grp_sts, "PART");
    CU_ASSERT_EQUAL(r.n_pmts, 2);
    CU_ASSERT_STRING_EQUAL(tx_status(&r, "A"), "ACCP");
    CU_ASSERT_STRING_EQUAL(tx_status(&r, "C"), "RJCT");
    if (r.n_pmts == 2 && r.pmts[1].n_txs == 1 &&
        r.pmts[1].txs[0].n_reasons == 1) {
        CU_ASSERT_STRING_EQUAL(r.pmts[1].txs[0].reasons[0].code, "NARR");
        CU_ASSERT_PTR_NOT_NULL(strstr(r.pmts[1].txs[0].reasons[0].addtl_info,
                                      "requested_execution_date"));
    } else {
        CU_FAIL("refused transaction without its reason");
    }
    fmt_status_report_release(&r);
    sim_today(NULL);
    ojt_world_close(&w);
}

/* A payment the bank creates but rejects (creditor IBAN check digits):
 * the message is OK at the transport level, the report says why. */
static void test_business_reject(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    static const struct ptx TWO[] = {
        {"A", "5.00", CRED1, "Supplier One Ltd", NULL, NULL},
        {"B", "6.00", "GB00NWBK60161331926819", "Wrong Digits Ltd", NULL,
         NULL}};
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, NULL, TWO, 2);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 2);
    struct fmt_status_report r;
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL_FATAL(outbox_report(&w, mid, 1, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.grp_sts, "PART");
    CU_ASSERT_STRING_EQUAL(tx_status(&r, "B"), "RJCT");
    CU_ASSERT_EQUAL_FATAL(r.pmts[0].n_txs, 2);
    CU_ASSERT_EQUAL_FATAL(r.pmts[0].txs[1].n_reasons, 1);
    CU_ASSERT_STRING_EQUAL(r.pmts[0].txs[1].reasons[0].code, "AC01");
    fmt_status_report_release(&r);
    ojt_world_close(&w);
}

/* A second simulator whose tokens live 2 s, sharing the PKI: the token is
 * replaced at 80 % of its life, before the bank would refuse it. */
static void test_token_refresh(void)
{
    NEED_ENV();
    char d2[400], info[500], saved[128];
    snprintf(d2, sizeof(d2), "%s/world2", ojt_env.dir);
    snprintf(info, sizeof(info), "%s/info2.json", ojt_env.dir);
    CU_ASSERT_EQUAL_FATAL(fsu_mkdirs(d2, 0700, NULL), 0);
    if (tu_system("ln -sf %s/world/pki %s/pki && cp -p %s/world/secret %s/ &&"
                  " %s %s start %s -- --token-ttl 2 --lifetime 120 > %s",
                  ojt_env.dir, d2, ojt_env.dir, d2, PY,
                  tu_src("tests/sims/openapi_world.py"), d2, info) != 0) {
        CU_FAIL("second simulator did not start");
        return;
    }
    json_t *j = json_load_file(info, 0, NULL);
    snprintf(saved, sizeof(saved), "%s", ojt_env.base_url);
    ojt_jcopy(j, "base_url", ojt_env.base_url, sizeof(ojt_env.base_url));
    json_decref(j);
    struct ojt_world w;
    int rc = world_open(&w, "accounts = ( );");
    snprintf(ojt_env.base_url, sizeof(ojt_env.base_url), "%s", saved);
    if (rc == 0) {
        char mid[32], pay[600];
        struct ojt_got g;
        one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
        op(&w, 0, pay, mid, &g);
        CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
        int never = 0;
        ojt_run_until(&w.loop, &never, 1, 1800); /* past 80 %, before 100 % */
        one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
        op(&w, 0, pay, mid, &g);
        CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
        ojt_run_until(&w.loop, &never, 1, 2300); /* past 100 % */
        one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
        op(&w, 0, pay, mid, &g);
        CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
        /* no request met an expired token: the second simulator's arrival
         * log holds only created ones */
        char path[600];
        snprintf(path, sizeof(path), "%s/state/arrivals.jsonl", d2);
        char *text = tu_read_file(path, NULL);
        CU_ASSERT_PTR_NOT_NULL(text);
        if (text) {
            CU_ASSERT_PTR_NULL(strstr(text, "unauthorized"));
            CU_ASSERT_PTR_NOT_NULL(strstr(text, "created"));
            free(text);
        }
    } else {
        CU_FAIL("adapter not created");
    }
    ojt_world_close(&w);
    tu_system("%s %s stop %s", PY, tu_src("tests/sims/openapi_world.py"), d2);
}

/* What the bank would refuse is refused here, before anything is sent. */
static void test_refused_before_sending(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    static const struct ptx LONG[] = {
        {"A", "1.00", CRED1, "Supplier One Ltd", NULL, NULL},
        {"B", "1.00", CRED1,
         "A creditor name that is far longer than the seventy characters "
         "this bank takes",
         NULL, NULL}};
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, NULL, LONG, 2);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "transaction 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "creditor name"));
    CU_ASSERT_EQUAL(arrivals(mid, NULL), 0);
    /* a name of white space only (no-break spaces) is blank to the bank */
    static const struct ptx BLANK[] = {
        {"A", "1.00", CRED1, "&#160;&#160;", NULL, NULL}};
    canon(pay, mid, NULL, BLANK, 1);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "creditor name is empty"));
    CU_ASSERT_EQUAL(arrivals(mid, NULL), 0);
    /* a payload that is not canonical XML at all */
    tu_write_file(pay, "<x/>", 4);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(arrivals(mid, NULL), 0);
    ojt_world_close(&w);
}

/* ---- poll ------------------------------------------------------------------
 */

static void do_poll(struct ojt_world *w, struct ojt_pgot *g, int answer)
{
    ojt_poll(w, 0, answer, g);
}

static int find_kind(const struct ojt_pgot *g, const char *kind, int nth)
{
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->kind[i], kind) == 0 && nth-- == 0)
            return i;
    return -1;
}

/* What a statement file holds, read back with h2hd's canonical reader and
 * its balance checker. */
struct stmt_sum {
    int stmts, entries;
    char ccy[4][4];
    int entries_of[4];
    int opbd, clbd;
    int credits, debits;
};

static int ss_stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct stmt_sum *s = ctx;
    if (s->stmts < 4)
        snprintf(s->ccy[s->stmts], 4, "%s", st->acct.ccy ? st->acct.ccy : "");
    for (size_t i = 0; i < st->n_bals; i++) {
        s->opbd += strcmp(st->bals[i].type, "OPBD") == 0;
        s->clbd += strcmp(st->bals[i].type, "CLBD") == 0;
    }
    s->stmts++;
    return 0;
}

static int ss_entry(void *ctx, const struct fmt_stmt *st,
                    const struct fmt_entry *e)
{
    struct stmt_sum *s = ctx;
    (void)st;
    s->entries++;
    if (s->stmts >= 1 && s->stmts <= 4)
        s->entries_of[s->stmts - 1]++;
    if (e->credit)
        s->credits++;
    else
        s->debits++;
    return 0;
}

static int read_stmt(const char *path, struct stmt_sum *s,
                     struct fmt_stmt_check_results *cr)
{
    struct fmt_src src = {.path = path};
    struct fmt_diag diag;
    struct h2h_err err = {0};
    memset(s, 0, sizeof(*s));
    fmt_diag_init(&diag, path);
    struct fmt_stmt_sink next = {
        .stmt_begin = ss_stmt_begin, .entry = ss_entry, .ctx = s};
    struct fmt_stmt_checker *c = fmt_stmt_checker_new(&diag, &next);
    struct fmt_stmt_sink sink = fmt_stmt_checker_sink(c);
    int rc = fmt_canon_read_stmt(&src, &sink, &diag, &err);
    fmt_stmt_checker_finish(c);
    fmt_stmt_checker_results(c, cr);
    fmt_stmt_checker_free(c);
    if (rc != 0 || diag.n) {
        fprintf(stderr, "  %s: %s\n", path, err.msg);
        fmt_diag_print(&diag, stderr);
        rc = -1;
    }
    fmt_diag_release(&diag);
    return rc;
}

/* Ledger entries of account in currency booked from..to. */
static int ledger_entries(const char *iban, const char *ccy, const char *from,
                          const char *to)
{
    json_t *l = admin("GET", "/admin/ledger", NULL);
    size_t i, k;
    json_t *a, *e;
    int n = 0;
    json_array_foreach(json_object_get(l, "accounts"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "iban")), iban))
            continue;
        json_array_foreach(json_object_get(a, "entries"), k, e)
        {
            const char *d =
                json_string_value(json_object_get(e, "booking_date"));
            const char *c = json_string_value(
                json_object_get(json_object_get(e, "amount"), "currency"));
            if (d && strcmp(d, from) >= 0 && strcmp(d, to) <= 0 && c &&
                !strcmp(c, ccy))
                n++;
        }
    }
    json_decref(l);
    return n;
}

static void test_poll_reports_and_statement(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600], from[11], to[11];
    struct ojt_got g;
    struct ojt_pgot p;
    faults("{\"clear\": true}");
    new_msg(mid, sizeof(mid));
    payload_path(&w, mid, pay, sizeof(pay));
    canon(pay, mid, NULL, THREE, 3);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(outbox_count(&w), 1);

    do_poll(&w, &p, 0);
    CU_ASSERT_EQUAL(p.out, H2H_OUT_OK);
    if (p.out != H2H_OUT_OK)
        fprintf(stderr, "  poll: %s\n", p.msg);
    int st = find_kind(&p, "status", 0), sm = find_kind(&p, "statement", 0);
    CU_ASSERT_TRUE_FATAL(st >= 0 && sm >= 0);
    char want[300];
    snprintf(want, sizeof(want), "pain002_%s_1.xml", mid);
    CU_ASSERT_STRING_EQUAL(p.remote[st], want);
    CU_ASSERT_EQUAL(find_kind(&p, "status", 1), -1);
    CU_ASSERT_EQUAL(find_kind(&p, "statement", 1), -1);
    CU_ASSERT_EQUAL(outbox_count(&w), 0); /* taken: gone */
    struct fmt_status_report r;
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL(read_report(p.path[st], &r), 0);
    CU_ASSERT_STRING_EQUAL(r.grp_sts, "ACCP");
    fmt_status_report_release(&r);

    /* the statement: the account masked in its name, several pages of
     * entries, one statement per currency, balances that add up */
    ojt_day(-1, from);
    ojt_day(0, to);
    snprintf(want, sizeof(want), "stmt_DE-3000-");
    CU_ASSERT_EQUAL(strncmp(p.remote[sm], want, strlen(want)), 0);
    CU_ASSERT_PTR_NULL(strstr(p.remote[sm], DEBTOR));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.remote[sm], from));
    struct stmt_sum s;
    struct fmt_stmt_check_results cr;
    CU_ASSERT_EQUAL(read_stmt(p.path[sm], &s, &cr), 0);
    CU_ASSERT_EQUAL(s.stmts, 2);
    CU_ASSERT_STRING_EQUAL(s.ccy[0], "EUR");
    CU_ASSERT_STRING_EQUAL(s.ccy[1], "USD");
    int eur = ledger_entries(DEBTOR, "EUR", from, to);
    CU_ASSERT_TRUE(eur >= 7); /* 4 seeded + this test's 3 payments */
    CU_ASSERT_EQUAL(s.entries_of[0], eur);
    CU_ASSERT_EQUAL(s.entries_of[1], 1);
    CU_ASSERT_EQUAL(s.opbd, 2);
    CU_ASSERT_EQUAL(s.clbd, 2);
    CU_ASSERT_EQUAL(cr.checked, 2);
    CU_ASSERT_EQUAL(cr.balanced, 2);
    if (verbose())
        fprintf(stderr, "  statement %s: %d entries\n", p.remote[sm],
                s.entries);

    /* again: nothing to report, the same statement byte for byte */
    char sha[65];
    snprintf(sha, sizeof(sha), "%s", p.sha[sm]);
    do_poll(&w, &p, H2H_EDUP);
    CU_ASSERT_EQUAL(p.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(find_kind(&p, "status", 0), -1);
    sm = find_kind(&p, "statement", 0);
    CU_ASSERT_TRUE_FATAL(sm >= 0);
    CU_ASSERT_STRING_EQUAL(p.sha[sm], sha);
    ojt_world_close(&w);
}

/* A report the daemon could not take stays for the next round. */
static void test_poll_refused_delivery(void)
{
    struct ojt_world w;
    OPEN(&w, "accounts = ( );");
    char mid[32], pay[600];
    struct ojt_got g;
    struct ojt_pgot p;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    do_poll(&w, &p, H2H_EIO);
    CU_ASSERT_EQUAL(p.n, 1);
    CU_ASSERT_EQUAL(outbox_count(&w), 1);
    do_poll(&w, &p, 0);
    CU_ASSERT_EQUAL(p.n, 1);
    CU_ASSERT_EQUAL(outbox_count(&w), 0);
    ojt_world_close(&w);
}

/* A payment scheduled for later is PDNG; when the bank executes it, the
 * next poll makes and delivers a second report. */
static void test_pending_then_final(void)
{
    struct ojt_world w;
    OPEN(&w, "accounts = ( );");
    char mid[32], pay[600], later[11], path[900];
    struct ojt_got g;
    struct ojt_pgot p;
    struct stat sb;
    ojt_day(2, later);
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    canon(pay, mid, later, THREE, 1);
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    struct fmt_status_report r;
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL(outbox_report(&w, mid, 1, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.grp_sts, "PDNG");
    fmt_status_report_release(&r);
    snprintf(path, sizeof(path), "%s/pending/%s.json", w.state, mid);
    CU_ASSERT_EQUAL(stat(path, &sb), 0);

    do_poll(&w, &p, 0); /* delivers report 1; the bank still says PDNG */
    CU_ASSERT_EQUAL(p.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(p.n, 1);
    do_poll(&w, &p, 0);
    CU_ASSERT_EQUAL(p.n, 0);

    sim_today(later);
    do_poll(&w, &p, 0);
    CU_ASSERT_EQUAL(p.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    char want[300];
    snprintf(want, sizeof(want), "pain002_%s_2.xml", mid);
    CU_ASSERT_STRING_EQUAL(p.remote[0], want);
    fmt_status_report_init(&r);
    CU_ASSERT_EQUAL(read_report(p.path[0], &r), 0);
    CU_ASSERT_STRING_EQUAL(r.grp_sts, "ACCP");
    fmt_status_report_release(&r);
    CU_ASSERT_NOT_EQUAL(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/done/%s.json", w.state, mid);
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(outbox_count(&w), 0);
    sim_today(NULL);
    ojt_world_close(&w);
}

/* A crash between a record and its report: the next poll makes the report
 * again, the same bytes as before. */
static void test_record_redo(void)
{
    struct ojt_world w;
    OPEN(&w, "accounts = ( );");
    char mid[32], pay[600], rep[900], rec[900], pend[900], sha1[65], sha2[65];
    struct ojt_got g;
    struct ojt_pgot p;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    snprintf(rep, sizeof(rep), "%s/outbox/pain002_%s_1.xml", w.state, mid);
    snprintf(rec, sizeof(rec), "%s/done/%s.json", w.state, mid);
    snprintf(pend, sizeof(pend), "%s/pending/%s.json", w.state, mid);
    CU_ASSERT_EQUAL(fsu_sha256_file(rep, sha1, NULL, NULL), 0);
    /* back to "record written, report not yet" */
    json_t *j = json_load_file(rec, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_object_set_new(j, "written", json_integer(0));
    CU_ASSERT_EQUAL(json_dump_file(j, pend, JSON_COMPACT), 0);
    json_decref(j);
    CU_ASSERT_EQUAL(unlink(rec), 0);
    CU_ASSERT_EQUAL(unlink(rep), 0);
    do_poll(&w, &p, 0);
    CU_ASSERT_EQUAL(p.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    CU_ASSERT_EQUAL(fsu_sha256_file(p.path[0], sha2, NULL, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sha1, sha2);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(rec, &sb), 0);
    CU_ASSERT_NOT_EQUAL(stat(pend, &sb), 0);
    ojt_world_close(&w);
}

/* close() lets a request in flight finish. */
static void test_close_in_flight(void)
{
    struct ojt_world w;
    OPEN(&w, NULL);
    char mid[32], pay[600];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    faults("{\"clear\": true, \"latency_ms\": 700}");
    memset(&g, 0, sizeof(g));
    struct h2h_submit_req req = {.msg_id = mid,
                                 .remote_name = mid,
                                 .payload = pay,
                                 .kind = "payment",
                                 .data = &g};
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(OPS->submit(w.a, &req, ojt_result_cb, &err), 0);
    /* let the prepare step and the token request happen */
    int never = 0;
    ojt_run_until(&w.loop, &never, 1, 300);
    ojt_closed_calls = 0;
    OPS->close(w.a, ojt_closed_cb);
    CU_ASSERT_EQUAL(OPS->submit(w.a, &req, ojt_result_cb, &err), H2H_ECANCELED);
    CU_ASSERT_EQUAL(ojt_run_until(&w.loop, &ojt_closed_calls, 1, 20000), 0);
    CU_ASSERT_EQUAL(g.calls, 1);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    w.a = NULL;
    faults("{\"clear\": true}");
    CU_ASSERT_EQUAL(arrivals(mid, "created"), 1);
    ojt_world_close(&w);
}

static int n_certs;
static char cert_labels[512];

static void cert_cb(void *ctx, const char *label, struct x509_st *cert)
{
    (void)ctx;
    CU_ASSERT_PTR_NOT_NULL(cert);
    n_certs++;
    size_t l = strlen(cert_labels);
    snprintf(cert_labels + l, sizeof(cert_labels) - l, "%s;", label);
}

static void test_certs_and_p12(void)
{
    struct ojt_world w;
    char tls[2048];
    NEED_ENV();
    snprintf(tls, sizeof(tls),
             "ca_file = \"%s\"; client_p12 = \"%s\"; passphrase_file = \"%s\";",
             ojt_env.ca, ojt_env.client_p12, ojt_env.client_p12_pass);
    if (world_open_tls(&w, NULL, tls) != 0) {
        CU_FAIL("adapter with a PKCS#12 client identity not created");
        ojt_world_close(&w);
        return;
    }
    n_certs = 0;
    cert_labels[0] = '\0';
    CU_ASSERT_PTR_NOT_NULL_FATAL(OPS->certs);
    OPS->certs(w.a, cert_cb, NULL);
    CU_ASSERT_EQUAL(n_certs, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(cert_labels, "tls client;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cert_labels, "request signing;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cert_labels, "bank response signing"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cert_labels, "tls trust anchor;"));
    char mid[32], pay[600];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    ojt_world_close(&w);
}

/* create refuses what cannot work, with the reason and without secrets. */
static void test_create_refuses(void)
{
    NEED_ENV();
    const char *d = tu_mkdtemp();
    char dir[300], sec[400], text[4096];
    snprintf(dir, sizeof(dir), "%s", d);
    snprintf(sec, sizeof(sec), "%s/secret", dir);
    CU_ASSERT_EQUAL(tu_write_file(sec, "wrong-secret-XYZ\n", 17), 0);
    chmod(sec, 0644);
    for (int k = 0; k < 4; k++) {
        const char *bank = k == 2 ? "/nonexistent/bank.pem" : ojt_env.bank;
        snprintf(text, sizeof(text),
                 "bank = { name = \"obank\"; adapter = \"openapi_json\";"
                 " payment_format = \"canonical\";\n"
                 "openapi_json = { base_url = \"%s\"; client_id = \"%s\";"
                 " client_secret_file = \"%s\"; tls = { ca_file = \"%s\";"
                 " client_cert = \"%s\"; client_key = \"%s\"; };"
                 " sign = { key = \"%s\"; cert = \"%s\"; }; bank_cert = "
                 "\"%s\"; }; };\n",
                 ojt_env.base_url, ojt_env.client_id,
                 k == 0 ? sec : ojt_env.secret, ojt_env.ca, ojt_env.client,
                 ojt_env.client_key, ojt_env.sign_key, ojt_env.sign, bank);
        config_t cfg;
        config_init(&cfg);
        CU_ASSERT_FATAL(config_read_string(&cfg, text) == CONFIG_TRUE);
        uv_loop_t loop;
        uv_loop_init(&loop);
        struct h2h_adapter *a = NULL;
        struct h2h_err err = {0};
        int rc = OPS->create(&loop, config_lookup(&cfg, "bank"), "obank", dir,
                             k == 1 ? NULL : dir, &a, &err);
        if (k < 3) {
            CU_ASSERT_TRUE(rc < 0);
            CU_ASSERT_PTR_NULL(a);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bank obank"));
            if (verbose())
                fprintf(stderr, "  create %d: %s\n", k, err.msg);
        }
        if (k == 0) {
            CU_ASSERT_EQUAL(rc, H2H_ESECURITY);
            CU_ASSERT_PTR_NULL(strstr(err.msg, "wrong-secret"));
        }
        if (k == 2)
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bank_cert"));
        if (k == 3) {
            /* the same settings with everything in place work */
            CU_ASSERT_EQUAL_FATAL(rc, 0);
            struct ojt_world w = {0};
            w.a = a;
            char mid[32], pay[600];
            struct ojt_got g;
            snprintf(w.base, sizeof(w.base), "%s", dir);
            one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
            memset(&g, 0, sizeof(g));
            struct h2h_submit_req req = {
                .msg_id = mid, .remote_name = mid, .payload = pay, .data = &g};
            CU_ASSERT_EQUAL_FATAL(OPS->submit(a, &req, ojt_result_cb, &err), 0);
            CU_ASSERT_EQUAL(ojt_run_until(&loop, &g.calls, 1, 30000), 0);
            CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
            ojt_closed_calls = 0;
            OPS->close(a, ojt_closed_cb);
            CU_ASSERT_EQUAL(ojt_run_until(&loop, &ojt_closed_calls, 1, 20000),
                            0);
            a = NULL;
        }
        uv_run(&loop, UV_RUN_DEFAULT);
        CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
        config_destroy(&cfg);
    }
    tu_rmtree(dir);
}

/* A wrong client secret: the token request is refused (PERMFAIL), and
 * neither the secret nor a token appears in the result. */
static void test_wrong_secret(void)
{
    NEED_ENV();
    struct ojt_world w;
    char sec[600];
    const char *d = tu_mkdtemp();
    snprintf(sec, sizeof(sec), "%s/wrong", d);
    CU_ASSERT_EQUAL(tu_write_file(sec, "not-the-secret-42\n", 18), 0);
    chmod(sec, 0600);
    char saved[600];
    snprintf(saved, sizeof(saved), "%s", ojt_env.secret);
    snprintf(ojt_env.secret, sizeof(ojt_env.secret), "%s", sec);
    int rc = world_open(&w, NULL);
    snprintf(ojt_env.secret, sizeof(ojt_env.secret), "%s", saved);
    if (rc != 0) {
        CU_FAIL("adapter not created");
        ojt_world_close(&w);
        tu_rmtree(d);
        return;
    }
    char mid[32], pay[600];
    struct ojt_got g;
    one_tx(&w, mid, sizeof(mid), pay, sizeof(pay));
    op(&w, 0, pay, mid, &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "invalid_client"));
    CU_ASSERT_PTR_NULL(strstr(g.msg, "not-the-secret"));
    CU_ASSERT_PTR_NOT_NULL(strstr(OPS->health(w.a), "invalid_client"));
    CU_ASSERT_EQUAL(arrivals(mid, NULL), 0);
    ojt_world_close(&w);
    tu_rmtree(d);
}

static const struct tu_case cases[] = {
    {"check_config", test_check_config},
    {"sample example", test_sample_example},
    {"submit, replay, recover", test_submit_ok},
    {"token expired: new token, same request", test_token_expired},
    {"token replaced before it expires", test_token_refresh},
    {"business reject AC01 in the report", test_business_reject},
    {"http 500: TEMPFAIL, then OK", test_http_500},
    {"timeout after create: UNKNOWN, recover OK", test_timeout_after_create},
    {"recover NOT_SENT, resubmit replays", test_recover_not_sent},
    {"bad answer signature: UNKNOWN, recover", test_bad_signature},
    {"replayed answer refused", test_replayed_answer},
    {"400 naming a field", test_refused_field},
    {"refused before sending", test_refused_before_sending},
    {"poll: status reports and statement pages",
     test_poll_reports_and_statement},
    {"poll: a refused delivery stays", test_poll_refused_delivery},
    {"PDNG then final: second report", test_pending_then_final},
    {"record without its report: redone", test_record_redo},
    {"close with a request in flight", test_close_in_flight},
    {"PKCS#12 client identity, certs", test_certs_and_p12},
    {"create refuses", test_create_refuses},
    {"wrong client secret", test_wrong_secret},
    {NULL, NULL},
};

int main(void)
{
    return ojt_main("openapi_json", cases);
}
