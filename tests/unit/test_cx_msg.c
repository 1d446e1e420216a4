/*
 * test_cx_msg.c - cnbank_xml requests and answers (adapters/cnbank_xml/
 * cx_msg.c) against PROFILE.md, with the two shipped profiles
 * (etc/cnbank/cmb-style.profile: GBK, yuan, HTTPS, X-Sign header;
 * icbc-style.profile: GB18030, fen, length-prefixed TCP, SignData
 * element):
 *   - the amount and date helpers;
 *   - requests byte for byte where PROFILE.md fixes the bytes, and their
 *     signatures checked with h2hd's verifier and with `openssl cms`;
 *   - values refused before anything is built, naming the token;
 *   - answers made here (decoding, declaration, DOCTYPE, root, echo,
 *     results, bank signature);
 *   - round trips through the independent simulator tests/sims/bank_cn.py
 *     (started here with a PKI from tests/sims/pki.py): balance, a payment
 *     with Chinese text whose stored name is read back from the simulator's
 *     admin port, its status, statement pages in both paging styles, a
 *     payroll and its result, and the faults that must make an answer
 *     unusable (bad bank signature, replayed answer, garbage).
 * The requests are sent with plain blocking sockets (tcp) and libcurl
 * (https, mutual TLS), not with the adapter's own transport.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libconfig.h>
#include <openssl/x509.h>

#include "cert.h"
#include "charset.h"
#include "cx_int.h"
#include "settings.h"
#include "testutil.h"

#define PY "/usr/bin/python3"
#define LOGIN "H2HCORP01"
#define OURS "755912345610001"
#define OURS2 "755912345620002"
#define PAYEE "6222021001122334455"
#define CN_NAME "上海浦东发展银行测试公司"
#define CN_REMIT "货款 2026年11月"
#define CN_DEBTOR "深圳前海示例科技有限公司"
#define CN_BANK "中国工商银行上海分行"

static int verbose(void)
{
    return getenv("H2H_TEST_VERBOSE") != NULL;
}

/* An h2h call that must succeed; the message is shown when it does not. */
#define OK(expr)                                                               \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != 0)                                                          \
            fprintf(stderr, "\n  %s:%d: %s -> %d: %s\n", __FILE__, __LINE__,   \
                    #expr, rc_, err.msg);                                      \
        CU_ASSERT_EQUAL(rc_, 0);                                               \
    } while (0)

/* rc must be want and err's message must hold needle (NULL: any). */
#define EXPECT(rc, want, needle) expect_((rc), (want), &err, (needle), __LINE__)

static void expect_(int rc, int want, const struct h2h_err *e,
                    const char *needle, int line)
{
    int ok = rc == want && (!needle || strstr(e->msg, needle));
    if (!ok || verbose())
        fprintf(stderr, "\n  line %d: rc %d (want %d): %s%s%s\n", line, rc,
                want, e->msg, needle ? " -- want: " : "", needle ? needle : "");
    CU_ASSERT_EQUAL(rc, want);
    if (needle)
        CU_ASSERT_PTR_NOT_NULL(strstr(e->msg, needle));
}

/* Strings equal, NULL-safe, with both shown when they are not. */
#define STREQ(got, want) streq_((got), (want), #got, __LINE__)

static void streq_(const char *got, const char *want, const char *what,
                   int line)
{
    int ok = got && want && !strcmp(got, want);
    if (!ok)
        fprintf(stderr, "\n  line %d: %s is \"%s\", want \"%s\"\n", line, what,
                got ? got : "(null)", want ? want : "(null)");
    CU_ASSERT(ok);
}

/* ---- a growing byte buffer -------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        while (c < b->len + n + 1)
            c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p)
            abort();
        b->cap = c;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Replace the first occurrence of from (in the bytes) with to. */
static int bytes_replace(char **b, size_t *len, const char *from,
                         const char *to)
{
    char *at = memmem(*b, *len, from, strlen(from));
    if (!at)
        return -1;
    size_t off = (size_t)(at - *b), fl = strlen(from), tl = strlen(to);
    char *n = malloc(*len - fl + tl + 1);
    memcpy(n, *b, off);
    memcpy(n + off, to, tl);
    memcpy(n + off + tl, *b + off + fl, *len - off - fl);
    *len = *len - fl + tl;
    n[*len] = '\0';
    free(*b);
    *b = n;
    return 0;
}

/* ---- the PKI and the profiles ------------------------------------------ */

static struct {
    int tried, ok;
    char dir[256];
    char ca[400], client[400], client_key[400], server[400], server_key[400],
        signer[400], signer_key[400];
    struct cert_identity *corp; /* our request signatures (client.pem) */
    struct cert_identity *bank; /* answers made here, as the bank */
    STACK_OF(X509) * bank_pin;
    STACK_OF(X509) * corp_pin;
} pki;

static int pki_up(void)
{
    if (pki.tried)
        return pki.ok ? 0 : -1;
    pki.tried = 1;
    const char *d = tu_mkdtemp();
    if (!d)
        return -1;
    snprintf(pki.dir, sizeof(pki.dir), "%s", d);
    if (tu_system("%s %s %s/pki > /dev/null", PY, tu_src("tests/sims/pki.py"),
                  pki.dir) != 0)
        return -1;
#define P(f, n) snprintf(pki.f, sizeof(pki.f), "%s/pki/%s", pki.dir, n)
    P(ca, "ca.pem");
    P(client, "client.pem");
    P(client_key, "client.key");
    P(server, "server.pem");
    P(server_key, "server.key");
    P(signer, "signer.pem");
    P(signer_key, "signer.key");
#undef P
    struct h2h_err err;
    struct cert_identity_src corp = {.key_file = pki.client_key,
                                     .cert_file = pki.client};
    struct cert_identity_src bank = {.key_file = pki.signer_key,
                                     .cert_file = pki.signer};
    if (cert_identity_load(&corp, &pki.corp, &err) != 0 ||
        cert_identity_load(&bank, &pki.bank, &err) != 0 ||
        cert_load_certs(pki.signer, &pki.bank_pin, &err) != 0 ||
        cert_load_certs(pki.client, &pki.corp_pin, &err) != 0) {
        fprintf(stderr, "pki: %s\n", err.msg);
        return -1;
    }
    pki.ok = 1;
    return 0;
}

struct bank {
    const char *kind; /* "cmb" | "icbc" */
    const char *file; /* below the source tree */
    struct cx_profile *p;
    int sim_tried, sim_ok;
    pid_t pid;
    int out_fd; /* the simulator's stdout, kept open */
    unsigned port, admin;
    char state[400];
};

static struct bank banks[2] = {
    {.kind = "cmb", .file = "etc/cnbank/cmb-style.profile", .out_fd = -1},
    {.kind = "icbc", .file = "etc/cnbank/icbc-style.profile", .out_fd = -1},
};
#define CMB (&banks[0])
#define ICBC (&banks[1])

static void report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "  profile line %d: %s\n",
            s ? config_setting_source_line(s) : 0, msg);
}

static int profile_up(struct bank *bk)
{
    if (bk->p)
        return 0;
    struct aset a = {.report = report_cb, .group = "cnbank_xml"};
    int n = cx_profile_load(tu_src(bk->file), &a, NULL, &bk->p);
    if (n != 0 || !bk->p) {
        fprintf(stderr, "  %s: %d problems\n", bk->file, n);
        return -1;
    }
    return 0;
}

#define NEED_PROFILE(bk)                                                       \
    do {                                                                       \
        if (pki_up() != 0 || profile_up(bk) != 0) {                            \
            CU_FAIL("profile or PKI not available");                           \
            return;                                                            \
        }                                                                      \
    } while (0)

/* ---- values ------------------------------------------------------------- */

/* One request's values; v points into the struct, so never copy it. */
struct rv {
    struct cx_vals v;
    char rid[40], date[40], time[40], serial[40], amount[32], total[32],
        count[12], from[40], to[40], page[80];
};

static int counter;

static void rv_init(const struct bank *bk, struct rv *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->rid, sizeof(r->rid), "T%dQ%06d", (int)(getpid() % 100000),
             ++counter);
    cx_bank_now(bk->p, r->date, sizeof(r->date), r->time, sizeof(r->time));
    r->v.v[CX_T_LOGIN] = LOGIN;
    r->v.v[CX_T_USER] = LOGIN;
    r->v.v[CX_T_REQUEST_ID] = r->rid;
    r->v.v[CX_T_DATE] = r->date;
    r->v.v[CX_T_TIME] = r->time;
}

static void rv_payment(const struct bank *bk, struct rv *r, int64_t fen,
                       const char *name, const char *remit)
{
    rv_init(bk, r);
    snprintf(r->serial, sizeof(r->serial), "T%dP%05d", (int)(getpid() % 100000),
             ++counter);
    cx_amount_format(bk->p, fen, r->amount, sizeof(r->amount));
    r->v.v[CX_T_SERIAL] = r->serial;
    r->v.v[CX_T_DEBTOR_ACCOUNT] = OURS;
    r->v.v[CX_T_DEBTOR_NAME] = CN_DEBTOR;
    r->v.v[CX_T_CREDITOR_ACCOUNT] = PAYEE;
    r->v.v[CX_T_CREDITOR_NAME] = name;
    r->v.v[CX_T_CREDITOR_BANK] = CN_BANK;
    r->v.v[CX_T_AMOUNT] = r->amount;
    r->v.v[CX_T_CURRENCY] = "CNY";
    r->v.v[CX_T_CURRENCY_CODE] = cx_ccy_bank(bk->p, "CNY");
    r->v.v[CX_T_REMITTANCE] = remit;
}

static void rv_balance(const struct bank *bk, struct rv *r, const char *acct)
{
    rv_init(bk, r);
    r->v.v[CX_T_ACCOUNT] = acct;
}

/* ---- amounts and dates ---------------------------------------------------
 */

static void test_amounts(void)
{
    struct h2h_err err;
    struct cx_profile yuan = {.amount_fen = 0}, fen = {.amount_fen = 1};
    int64_t m = -1;
    char b[32];
    OK(cx_amount_to_minor(&yuan, "1234.50", &m, &err));
    CU_ASSERT_EQUAL(m, 123450);
    OK(cx_amount_to_minor(&yuan, "0.01", &m, &err));
    CU_ASSERT_EQUAL(m, 1);
    OK(cx_amount_to_minor(&yuan, "0.00", &m, &err)); /* a zero balance */
    CU_ASSERT_EQUAL(m, 0);
    OK(cx_amount_to_minor(&yuan, "9999999999999999.99", &m, &err));
    CU_ASSERT_EQUAL(m, 999999999999999999LL);
    OK(cx_amount_to_minor(&fen, "123450", &m, &err));
    CU_ASSERT_EQUAL(m, 123450);
    OK(cx_amount_to_minor(&fen, "0", &m, &err));
    CU_ASSERT_EQUAL(m, 0);
    static const char *bad_yuan[] = {
        "1234.5", "-1",       "-1.00",   "1,234.00",
        "1234",   "1234.500", ".50",     "01.00",
        "+1.00",  " 1.00",    "1.00 ",   "1.0a",
        "",       "1e3.00",   "1234,50", "12345678901234567.00",
    };
    for (size_t i = 0; i < sizeof(bad_yuan) / sizeof(bad_yuan[0]); i++) {
        int rc = cx_amount_to_minor(&yuan, bad_yuan[i], &m, &err);
        if (rc != H2H_EINVALID)
            fprintf(stderr, "\n  yuan \"%s\" accepted\n", bad_yuan[i]);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    }
    EXPECT(cx_amount_to_minor(&yuan, "1234.5", &m, &err), H2H_EINVALID, "yuan");
    static const char *bad_fen[] = {
        "1234.50", "-1", "0123", "1,234", "", "12a", "1234567890123456789"};
    for (size_t i = 0; i < sizeof(bad_fen) / sizeof(bad_fen[0]); i++)
        CU_ASSERT_EQUAL(cx_amount_to_minor(&fen, bad_fen[i], &m, &err),
                        H2H_EINVALID);
    cx_amount_format(&yuan, 123450, b, sizeof(b));
    STREQ(b, "1234.50");
    cx_amount_format(&yuan, 5, b, sizeof(b));
    STREQ(b, "0.05");
    cx_amount_format(&yuan, -1250, b, sizeof(b));
    STREQ(b, "-12.50");
    cx_amount_format(&fen, 123450, b, sizeof(b));
    STREQ(b, "123450");
    cx_amount_format(&fen, -7, b, sizeof(b));
    STREQ(b, "-7");
    /* round trip */
    for (int64_t v = 1; v < 100000000000LL; v = v * 7 + 3) {
        cx_amount_format(&yuan, v, b, sizeof(b));
        CU_ASSERT_EQUAL(cx_amount_to_minor(&yuan, b, &m, NULL), 0);
        CU_ASSERT_EQUAL(m, v);
        cx_amount_format(&fen, v, b, sizeof(b));
        CU_ASSERT_EQUAL(cx_amount_to_minor(&fen, b, &m, NULL), 0);
        CU_ASSERT_EQUAL(m, v);
    }
}

static void test_dates(void)
{
    struct h2h_err err;
    struct cx_profile compact = {.date_format = "%Y%m%d",
                                 .time_format = "%H%M%S",
                                 .utc_offset_min = 480};
    struct cx_profile dashed = {.date_format = "%Y-%m-%d",
                                .time_format = "%H:%M:%S",
                                .utc_offset_min = 480};
    struct cx_profile odd = {.date_format = "%d/%m/%Y %%",
                             .time_format = "T%H.%M.%S",
                             .utc_offset_min = -330};
    char iso[11], b[40], t[40];
    OK(cx_date_to_iso(&compact, "20240304", iso, &err));
    STREQ(iso, "2024-03-04");
    OK(cx_date_to_iso(&dashed, "2024-03-04", iso, &err));
    STREQ(iso, "2024-03-04");
    OK(cx_date_to_iso(&odd, "29/02/2024 %", iso, &err));
    STREQ(iso, "2024-02-29");
    static const char *bad_compact[] = {"2024-03-04", "2024030",  "202403045",
                                        "20240230",   "20231301", "20240300",
                                        "2024O304",   "",         "20230229"};
    for (size_t i = 0; i < sizeof(bad_compact) / sizeof(bad_compact[0]); i++)
        CU_ASSERT_EQUAL(cx_date_to_iso(&compact, bad_compact[i], iso, &err),
                        H2H_EINVALID);
    EXPECT(cx_date_to_iso(&dashed, "20240304", iso, &err), H2H_EINVALID,
           "%Y-%m-%d");
    cx_date_format(&compact, "2024-03-04", b, sizeof(b));
    STREQ(b, "20240304");
    cx_date_format(&dashed, "2024-03-04", b, sizeof(b));
    STREQ(b, "2024-03-04");
    cx_date_format(&odd, "2024-03-04", b, sizeof(b));
    STREQ(b, "04/03/2024 %");
    cx_date_format(&compact, "not a date", b, sizeof(b));
    STREQ(b, "");

    /* the bank's clock: today there, in both forms */
    time_t now = time(NULL);
    for (int k = 0; k < 2; k++) {
        struct cx_profile *p = k ? &dashed : &odd;
        time_t bt = now + (time_t)p->utc_offset_min * 60;
        struct tm tm;
        gmtime_r(&bt, &tm);
        char want[11];
        strftime(want, sizeof(want), "%Y-%m-%d", &tm);
        cx_bank_today(p, 0, iso);
        if (strcmp(iso, want)) /* midnight passed in between: once more */
            cx_bank_today(p, 0, iso);
        STREQ(iso, want);
        cx_bank_now(p, b, sizeof(b), t, sizeof(t));
        char back[11];
        OK(cx_date_to_iso(p, b, back, &err));
        STREQ(back, iso);
        CU_ASSERT_EQUAL(strlen(t), k ? 8u : 9u);
        CU_ASSERT(k ? t[2] == ':' : t[0] == 'T');
    }
    char y[11], tm1[11];
    cx_bank_today(&dashed, -1, y);
    cx_bank_today(&dashed, 1, tm1);
    CU_ASSERT(strcmp(y, iso) < 0 && strcmp(iso, tm1) < 0);
    cx_bank_today(&dashed, -366, y);
    CU_ASSERT(strncmp(y, iso, 4) < 0);
}

/* ---- requests ----------------------------------------------------------- */

/* The detached signature b64 over data verifies with `openssl cms`. */
static int openssl_verify(const char *data, size_t len, const char *b64)
{
    struct h2h_err err;
    unsigned char *der = NULL;
    size_t dl = 0;
    if (cert_b64_decode(b64, strlen(b64), &der, &dl, &err) != 0)
        return -1;
    char dp[600], sp[600];
    snprintf(dp, sizeof(dp), "%s/v.data", pki.dir);
    snprintf(sp, sizeof(sp), "%s/v.sig", pki.dir);
    int rc = tu_write_file(dp, data, len) || tu_write_file(sp, der, dl);
    free(der);
    if (rc)
        return -1;
    return tu_system("openssl cms -verify -binary -inform DER -in %s "
                     "-content %s -CAfile %s -purpose any -out /dev/null "
                     "2>/dev/null",
                     sp, dp, pki.ca);
}

/* Balance request of each profile, byte for byte. */
static void test_request_bytes(void)
{
    struct h2h_err err;
    struct rv r;
    struct cx_request rq = {0};
    NEED_PROFILE(CMB);
    struct cert_peer corp = {.pinned = pki.corp_pin};
    rv_balance(CMB, &r, OURS);
    OK(cx_request_build(CMB->p, CX_FN_BALANCE, &r.v, NULL, 0, pki.corp, &rq,
                        &err));
    char want[2048];
    snprintf(want, sizeof(want),
             "<?xml version=\"1.0\" encoding=\"GBK\"?>\n<CMBSDKPGK><INFO>"
             "<FUNNAM>GetAccInfo</FUNNAM><DATTYP>2</DATTYP><LGNNAM>H2HCORP01"
             "</LGNNAM><SEQNBR>%s</SEQNBR></INFO><SDKACINFX><ACCNBR>" OURS
             "</ACCNBR></SDKACINFX></CMBSDKPGK>",
             r.rid);
    CU_ASSERT_EQUAL(rq.len, strlen(want));
    CU_ASSERT(rq.body && !strcmp(rq.body, want));
    if (rq.body && strcmp(rq.body, want))
        fprintf(stderr, "\n  got  %s\n  want %s\n", rq.body, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rq.sig_header_value);
    CU_ASSERT_PTR_NULL(strpbrk(rq.sig_header_value, "\r\n "));
    OK(cert_cms_verify_b64(rq.sig_header_value, strlen(rq.sig_header_value),
                           rq.body, rq.len, &corp, NULL, &err));
    CU_ASSERT_EQUAL(openssl_verify(rq.body, rq.len, rq.sig_header_value), 0);
    cx_request_release(&rq);
    CU_ASSERT_PTR_NULL(rq.body);

    /* a payment: Chinese text in GBK bytes, empty {creditor_bank} as an
     * empty element, the same bytes under the signature */
    rv_payment(CMB, &r, 123450, CN_NAME, CN_REMIT);
    r.v.v[CX_T_CREDITOR_BANK] = NULL;
    OK(cx_request_build(CMB->p, CX_FN_PAYMENT, &r.v, NULL, 0, pki.corp, &rq,
                        &err));
    char *gbk = NULL;
    size_t gl = 0;
    OK(fmt_from_utf8("GBK", "<CRTNAM>" CN_NAME "</CRTNAM>",
                     strlen("<CRTNAM>" CN_NAME "</CRTNAM>"), &gbk, &gl, &err));
    CU_ASSERT_PTR_NOT_NULL(memmem(rq.body, rq.len, gbk, gl));
    free(gbk);
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, "<TRSAMT>1234.50</TRSAMT>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, "<CCYNBR>10</CCYNBR>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, "<CRTBNK></CRTBNK>"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(rq.body, "<DCOPDPAYX><YURREF>")); /* shared prefix */
    CU_ASSERT_PTR_NULL(
        strstr(strstr(rq.body, "<DCOPDPAYX>") + 1, "<DCOPDPAYX>"));
    CU_ASSERT_PTR_NULL(strstr(rq.body, "&#"));
    OK(cert_cms_verify_b64(rq.sig_header_value, strlen(rq.sig_header_value),
                           rq.body, rq.len, &corp, NULL, &err));
    cx_request_release(&rq);

    NEED_PROFILE(ICBC);
    rv_balance(ICBC, &r, OURS);
    OK(cx_request_build(ICBC->p, CX_FN_BALANCE, &r.v, NULL, 0, pki.corp, &rq,
                        &err));
    CU_ASSERT_PTR_NULL(rq.sig_header_value);
    char head[1024], tail[256];
    snprintf(head, sizeof(head),
             "<?xml version=\"1.0\" encoding=\"GB18030\"?>\n<CMS><eb><pub>"
             "<TransCode>QACCBAL</TransCode><CIS>H2HCORP01</CIS><BankCode>102"
             "</BankCode><ID>H2HCORP01</ID><TranDate>%s</TranDate><TranTime>"
             "%s</TranTime><fSeqno>%s</fSeqno><SignData>",
             r.date, r.time, r.rid);
    snprintf(tail, sizeof(tail),
             "</SignData></pub><in><TotalNum>1</TotalNum><rd><AccNo>" OURS
             "</AccNo></rd></in></eb></CMS>");
    CU_ASSERT_FATAL(rq.body != NULL && rq.len > strlen(head) + strlen(tail));
    CU_ASSERT_EQUAL(memcmp(rq.body, head, strlen(head)), 0);
    STREQ(rq.body + rq.len - strlen(tail), tail);
    if (memcmp(rq.body, head, strlen(head)))
        fprintf(stderr, "\n  got  %s\n  want %s...\n", rq.body, head);
    /* the signature is over the bytes with <SignData></SignData> */
    size_t sl = rq.len - strlen(head) - strlen(tail);
    char *sig = strndup(rq.body + strlen(head), sl);
    CU_ASSERT_PTR_NULL(strpbrk(sig, "\r\n <"));
    struct buf signed_bytes = {0};
    buf_add(&signed_bytes, rq.body, strlen(head));
    buf_add(&signed_bytes, tail, strlen(tail));
    OK(cert_cms_verify_b64(sig, sl, signed_bytes.p, signed_bytes.len, &corp,
                           NULL, &err));
    CU_ASSERT_EQUAL(openssl_verify(signed_bytes.p, signed_bytes.len, sig), 0);
    /* and not over the bytes as sent */
    CU_ASSERT_EQUAL(
        cert_cms_verify_b64(sig, sl, rq.body, rq.len, &corp, NULL, NULL),
        H2H_EAUTH);
    free(sig);
    free(signed_bytes.p);
    cx_request_release(&rq);

    /* the function's header override: fSeqno is the serial; fen; the
     * same token twice; GB18030 for a character GBK lacks */
    rv_payment(ICBC, &r, 123450, "张\xf0\xa0\xae\xb7", CN_REMIT);
    OK(cx_request_build(ICBC->p, CX_FN_PAYMENT, &r.v, NULL, 0, pki.corp, &rq,
                        &err));
    char fs[80];
    snprintf(fs, sizeof(fs), "<fSeqno>%s</fSeqno>", r.serial);
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, fs));
    CU_ASSERT_PTR_NULL(strstr(rq.body, r.rid));
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, "<TotalAmt>123450</TotalAmt>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, "<PayAmt>123450</PayAmt>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rq.body, "<CurrType>001</CurrType>"));
    char *g18 = NULL;
    OK(fmt_from_utf8("GB18030", "张\xf0\xa0\xae\xb7", 7, &g18, &gl, &err));
    CU_ASSERT_PTR_NOT_NULL(memmem(rq.body, rq.len, g18, gl));
    free(g18);
    cx_request_release(&rq);
}

/* Values refused before anything is built, naming the token. */
static void test_request_values(void)
{
    struct h2h_err err;
    struct rv r;
    struct cx_request rq = {0};
    NEED_PROFILE(CMB);
    NEED_PROFILE(ICBC);
    struct {
        struct bank *bk;
        int tok;
        const char *value;
        const char *needle;
    } cases[] = {
        {CMB, CX_T_CREDITOR_NAME, "Caf\xc3\xa9 \xe2\x82\xac GmbH",
         "{creditor_name}: character U+20AC cannot be written in GBK"},
        {CMB, CX_T_REMITTANCE, "\xe8\xb4\xa7\xe6\xac\xbe \xf0\x9f\x98\x80",
         "{remittance}: character U+1F600 cannot be written in GBK"},
        {CMB, CX_T_CREDITOR_NAME, "张\xf0\xa0\xae\xb7",
         "{creditor_name}: character U+20BB7 cannot be written in GBK"},
        {CMB, CX_T_CREDITOR_NAME, NULL, "{creditor_name}: missing"},
        {CMB, CX_T_CREDITOR_NAME, "", "{creditor_name}: empty"},
        {CMB, CX_T_CREDITOR_NAME, " 上海", "{creditor_name}: leading or"},
        {CMB, CX_T_CREDITOR_NAME, "上海\xe3\x80\x80", "leading or trailing"},
        {CMB, CX_T_CREDITOR_NAME, "上海\n公司", "control character U+000A"},
        {CMB, CX_T_CREDITOR_NAME, "\xff\xfe", "not valid UTF-8"},
        {CMB, CX_T_CREDITOR_NAME,
         "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
         "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一",
         "{creditor_name}: 61 characters, at most 60"},
        {CMB, CX_T_CREDITOR_ACCOUNT, "622202100", "10..30 digits"},
        {CMB, CX_T_CREDITOR_ACCOUNT, "6222-0210-0112", "10..30 digits"},
        {CMB, CX_T_CREDITOR_ACCOUNT, OURS, "the same account"},
        {CMB, CX_T_DEBTOR_ACCOUNT, NULL, "{debtor_account}: missing"},
        {CMB, CX_T_AMOUNT, "0.00", "{amount}: \"0.00\": an amount above"},
        {CMB, CX_T_AMOUNT, "1234.5", "{amount}"},
        {CMB, CX_T_AMOUNT, "-1.00", "{amount}"},
        {CMB, CX_T_AMOUNT, "123450", "{amount}"},
        {CMB, CX_T_CURRENCY_CODE, "99", "{currency_code}"},
        {CMB, CX_T_SERIAL, "H2H_1", "{serial}"},
        {CMB, CX_T_SERIAL, "H2H0123456789012345678901234567", "{serial}"},
        {CMB, CX_T_REQUEST_ID, "Q 1", "{request_id}"},
        {CMB, CX_T_LOGIN, NULL, "{login}: missing"},
        /* GB18030's editions write these differently (PUA, U+1E3F) */
        {ICBC, CX_T_CREDITOR_NAME, "\xee\x9e\x8d",
         "{creditor_name}: character U+E78D cannot be written in GB18030"},
        {ICBC, CX_T_REMITTANCE, "m\xe1\xb8\xbf",
         "{remittance}: character U+1E3F cannot be written in GB18030"},
        {ICBC, CX_T_AMOUNT, "1234.50", "fen"},
        {ICBC, CX_T_DEBTOR_NAME, NULL, "{debtor_name}: missing"},
        {ICBC, CX_T_DATE, "2001-01-01",
         "{date}: \"2001-01-01\" is not the "
         "bank's date"},
        {ICBC, CX_T_DATE, "20240101", "is not a date in %Y-%m-%d"},
        {ICBC, CX_T_TIME, "25:00:00", "{time}"},
        {ICBC, CX_T_REMITTANCE,
         "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
         "一二三四五六七八九十一",
         "{remittance}: 41 characters, at most 40"},
        {ICBC, CX_T_USER, "", "{user}: empty"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rv_payment(cases[i].bk, &r, 100, CN_NAME, CN_REMIT);
        r.v.v[cases[i].tok] = cases[i].value;
        h2h_err_clear(&err);
        int rc = cx_request_build(cases[i].bk->p, CX_FN_PAYMENT, &r.v, NULL, 0,
                                  pki.corp, &rq, &err);
        EXPECT(rc, H2H_EINVALID, cases[i].needle);
        CU_ASSERT_PTR_NULL(rq.body);
        if (rc == 0)
            cx_request_release(&rq);
    }

    /* GB18030 has room for what GBK lacks */
    rv_payment(ICBC, &r, 100, "Caf\xc3\xa9 \xe2\x82\xac", "\xf0\x9f\x98\x80");
    OK(cx_request_build(ICBC->p, CX_FN_PAYMENT, &r.v, NULL, 0, pki.corp, &rq,
                        &err));
    cx_request_release(&rq);

    /* no identity for a profile that signs */
    rv_payment(CMB, &r, 100, CN_NAME, CN_REMIT);
    EXPECT(
        cx_request_build(CMB->p, CX_FN_PAYMENT, &r.v, NULL, 0, NULL, &rq, &err),
        H2H_EINVALID, "signing identity");

    /* statements: range and page */
    struct {
        struct bank *bk;
        int from_days, to_days;
        const char *page, *needle;
    } st[] = {
        {CMB, -3, -5, "", "must run forward"},
        {CMB, -400, 0, "", "at most 366 days"},
        {CMB, -3, 0, "abc-def", "{page}"},
        {ICBC, -3, 0, "0", "{page}: \"0\": a page number from 1"},
        {ICBC, -3, 0, "", "{page}"},
        {ICBC, -3, 0, NULL, "{page}: missing"},
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        char a[11], b[11];
        rv_init(st[i].bk, &r);
        cx_bank_today(st[i].bk->p, st[i].from_days, a);
        cx_bank_today(st[i].bk->p, st[i].to_days, b);
        cx_date_format(st[i].bk->p, a, r.from, sizeof(r.from));
        cx_date_format(st[i].bk->p, b, r.to, sizeof(r.to));
        r.v.v[CX_T_ACCOUNT] = OURS;
        r.v.v[CX_T_FROM] = r.from;
        r.v.v[CX_T_TO] = r.to;
        r.v.v[CX_T_PAGE] = st[i].page;
        EXPECT(cx_request_build(st[i].bk->p, CX_FN_TRANSACTIONS, &r.v, NULL, 0,
                                pki.corp, &rq, &err),
               H2H_EINVALID, st[i].needle);
    }
    /* token style: no page is the first page */
    rv_init(CMB, &r);
    r.v.v[CX_T_ACCOUNT] = OURS;
    char today[11];
    cx_bank_today(CMB->p, 0, today);
    cx_date_format(CMB->p, today, r.to, sizeof(r.to));
    r.v.v[CX_T_TO] = r.to;
    r.v.v[CX_T_FROM] = r.to;
    OK(cx_request_build(CMB->p, CX_FN_TRANSACTIONS, &r.v, NULL, 0, pki.corp,
                        &rq, &err));
    CU_ASSERT_PTR_NOT_NULL(rq.body && strstr(rq.body, "<CTNKEY></CTNKEY>"));
    cx_request_release(&rq);
}

/* ---- payroll values ----------------------------------------------------- */

struct batch {
    struct rv r;
    struct cx_vals items[3];
    char no[3][4], amt[3][32];
};

static const char *const PR_ACCT[3] = {
    "6222021001122334455", "6228480012345678901", "6222600260001072444"};
static const char *const PR_NAME[3] = {"王小明", "李华", "欧阳娜娜"};
static const int64_t PR_FEN[3] = {100000, 200050, 34567};

static void batch_init(const struct bank *bk, struct batch *b)
{
    memset(b, 0, sizeof(*b));
    rv_init(bk, &b->r);
    snprintf(b->r.serial, sizeof(b->r.serial), "T%dB%05d",
             (int)(getpid() % 100000), ++counter);
    int64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(b->no[i], sizeof(b->no[i]), "%d", i + 1);
        cx_amount_format(bk->p, PR_FEN[i], b->amt[i], sizeof(b->amt[i]));
        sum += PR_FEN[i];
        b->items[i].v[CX_T_ITEM_NO] = b->no[i];
        b->items[i].v[CX_T_CREDITOR_ACCOUNT] = PR_ACCT[i];
        b->items[i].v[CX_T_CREDITOR_NAME] = PR_NAME[i];
        b->items[i].v[CX_T_AMOUNT] = b->amt[i];
        b->items[i].v[CX_T_REMITTANCE] = "工资 2026年11月";
        b->items[i].v[CX_T_CREDITOR_BANK] = i == 1 ? CN_BANK : NULL;
    }
    cx_amount_format(bk->p, sum, b->r.total, sizeof(b->r.total));
    snprintf(b->r.count, sizeof(b->r.count), "3");
    struct cx_vals *v = &b->r.v;
    v->v[CX_T_SERIAL] = b->r.serial;
    v->v[CX_T_DEBTOR_ACCOUNT] = OURS;
    v->v[CX_T_DEBTOR_NAME] = CN_DEBTOR;
    v->v[CX_T_CURRENCY] = "CNY";
    v->v[CX_T_CURRENCY_CODE] = cx_ccy_bank(bk->p, "CNY");
    v->v[CX_T_COUNT] = b->r.count;
    v->v[CX_T_TOTAL] = b->r.total;
}

static void test_payroll_values(void)
{
    struct h2h_err err;
    struct cx_request rq = {0};
    struct batch b;
    NEED_PROFILE(CMB);
    NEED_PROFILE(ICBC);
    for (int k = 0; k < 2; k++) {
        struct bank *bk = &banks[k];
        batch_init(bk, &b);
        OK(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 3, pki.corp,
                            &rq, &err));
        /* three item elements, in order, below the body */
        const char *el = k ? "<rd><iSeqno>" : "<SDKATDRQX><TRXSEQ>";
        const char *at = rq.body;
        for (int i = 0; i < 3; i++) {
            at = at ? strstr(at, el) : NULL;
            CU_ASSERT_PTR_NOT_NULL(at);
            if (at)
                CU_ASSERT_EQUAL(at[strlen(el)], '1' + i);
            at = at ? at + 1 : NULL;
        }
        CU_ASSERT_PTR_NULL(at ? strstr(at, el) : NULL);
        cx_request_release(&rq);

        batch_init(bk, &b);
        b.r.v.v[CX_T_COUNT] = "2";
        EXPECT(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 3,
                                pki.corp, &rq, &err),
               H2H_EINVALID, "{count}: is 2 but there are 3 items");
        batch_init(bk, &b);
        b.r.v.v[CX_T_TOTAL] = b.amt[0];
        EXPECT(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 3,
                                pki.corp, &rq, &err),
               H2H_EINVALID, "{total}");
        batch_init(bk, &b);
        b.items[1].v[CX_T_ITEM_NO] = "3";
        EXPECT(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 3,
                                pki.corp, &rq, &err),
               H2H_EINVALID, "item 2: {item_no}");
        batch_init(bk, &b);
        b.items[2].v[CX_T_CREDITOR_ACCOUNT] = "12";
        EXPECT(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 3,
                                pki.corp, &rq, &err),
               H2H_EINVALID, "item 3: {creditor_account}");
        batch_init(bk, &b);
        b.items[0].v[CX_T_CREDITOR_NAME] =
            k ? "\xf3\xa0\x80\x80\xed\xa0\x80" : "Ma\xc3\xafs \xe2\x82\xac";
        EXPECT(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 3,
                                pki.corp, &rq, &err),
               H2H_EINVALID, "item 1: {creditor_name}");
        batch_init(bk, &b);
        EXPECT(cx_request_build(bk->p, CX_FN_PAYROLL, &b.r.v, b.items, 0,
                                pki.corp, &rq, &err),
               H2H_EINVALID, "at least one item");
    }
}

/* ---- answers made here -------------------------------------------------- */

/* The pieces of a balance answer of each profile (UTF-8). */
struct shape {
    const char *open, *echo, *code, *sig, *hclose, *result, *close;
};

static const struct shape SHAPES[2] = {
    {"<CMBSDKPGK><INFO>",
     "<FUNNAM>GetAccInfo</FUNNAM><DATTYP>2</DATTYP><LGNNAM>H2HCORP01</LGNNAM>"
     "<SEQNBR>%s</SEQNBR>",
     "<RETCOD>%s</RETCOD><ERRMSG>%s</ERRMSG>", "", "</INFO>",
     "<NTQACINFZ><ACCNBR>" OURS "</ACCNBR><ACCNAM>深圳前海 &amp; 公司</ACCNAM>"
     "<CCYNBR>10</CCYNBR><ONLBLV>-12.50</ONLBLV>%s</NTQACINFZ>",
     "</CMBSDKPGK>"},
    {"<CMS><eb><pub>",
     "<TransCode>QACCBAL</TransCode><CIS>H2HCORP01</CIS><fSeqno>%s</fSeqno>",
     "<RetCode>%s</RetCode><RetMsg>%s</RetMsg>", "<SignData></SignData>",
     "</pub>",
     "<out><rd><AccNo>" OURS "</AccNo><AccName>深圳前海 &amp; 公司</AccName>"
     "<CurrType>001</CurrType><AccBalance>-1250</AccBalance>%s</rd></out>",
     "</eb></CMS>"},
};

struct ans_opt {
    const char *decl;   /* encoding named in the declaration, "" none */
    const char *rid;    /* echoed request id, NULL: no echo */
    const char *code;   /* return code */
    const char *msg;    /* its message */
    int result;         /* 1: results, 0: none */
    const char *extra;  /* inside the result element (e.g. an option) */
    const char *before; /* between the declaration and the root */
};

/* A balance answer in the profile's encoding (UTF-8 text converted). */
static char *answer(const struct bank *bk, const struct ans_opt *o, size_t *len)
{
    const struct shape *s = &SHAPES[bk == ICBC];
    char echo[512] = "", code[512], res[1024] = "", text[4096];
    if (o->rid)
        snprintf(echo, sizeof(echo), s->echo, o->rid);
    snprintf(code, sizeof(code), s->code, o->code, o->msg ? o->msg : "");
    if (o->result)
        snprintf(res, sizeof(res), s->result, o->extra ? o->extra : "");
    char decl[128] = "";
    if (o->decl && *o->decl)
        snprintf(decl, sizeof(decl),
                 "<?xml version=\"1.0\" encoding=\"%s\"?>\n", o->decl);
    else if (!o->decl)
        snprintf(decl, sizeof(decl),
                 "<?xml version=\"1.0\" encoding=\"%s\"?>\n", bk->p->encoding);
    snprintf(text, sizeof(text), "%s%s%s%s%s%s%s%s%s", decl,
             o->before ? o->before : "", s->open, echo, code, s->sig, s->hclose,
             res, s->close);
    char *out = NULL;
    if (fmt_from_utf8(bk->p->encoding, text, strlen(text), &out, len, NULL))
        return NULL;
    return out;
}

/* Sign an answer as the bank would (id: the signer). */
static void bank_sign(const struct bank *bk, struct cert_identity *id, char **b,
                      size_t *len, char **hdr)
{
    struct h2h_err err;
    char *sig = NULL;
    *hdr = NULL;
    OK(cert_cms_sign_b64(id, *b, *len, 0, &sig, &err));
    if (!sig)
        return;
    if (bk->p->resp_sig_where == CX_SIG_HEADER) {
        *hdr = sig;
        return;
    }
    char with[4096];
    snprintf(with, sizeof(with), "<SignData>%s</SignData>", sig);
    free(sig);
    CU_ASSERT_EQUAL(bytes_replace(b, len, "<SignData></SignData>", with), 0);
}

static void test_answers_offline(void)
{
    struct h2h_err err;
    struct rv r;
    struct cx_answer a = {0};
    NEED_PROFILE(CMB);
    NEED_PROFILE(ICBC);
    for (int k = 0; k < 2; k++) {
        struct bank *bk = &banks[k];
        /* decoding and parsing without the signature step */
        struct cx_profile q = *bk->p;
        q.resp_sig_where = CX_SIG_NONE;
        rv_balance(bk, &r, OURS);
        size_t len;
        char *b;
        struct ans_opt o = {.rid = r.rid, .code = "0", .result = 1};

        b = answer(bk, &o, &len);
        OK(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                          &err));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
        STREQ(a.code, "0");
        STREQ(a.message, "");
        STREQ(a.top[CX_K_ACCOUNT], OURS);
        STREQ(a.top[CX_K_NAME], "深圳前海 & 公司");
        STREQ(a.top[CX_K_BALANCE], k ? "-1250" : "-12.50");
        STREQ(a.top[CX_K_CURRENCY], k ? "001" : "10");
        CU_ASSERT_PTR_NULL(a.top[CX_K_AVAILABLE]); /* optional, absent */
        CU_ASSERT_EQUAL(a.n_items, 0);
        cx_answer_release(&a);
        free(b);

        /* the echo of another request: the answer to something else */
        o.rid = "T1Q000000";
        b = answer(bk, &o, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_EPROTO, "another request");
        free(b);
        /* no echo: only a refusal may lack it */
        o.rid = NULL;
        b = answer(bk, &o, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_EPROTO, "without the echo");
        free(b);
        o.code = k ? "B0116" : "-6"; /* not_found */
        o.result = 0;
        b = answer(bk, &o, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_EPROTO, "without the echo");
        free(b);
        o.code = k ? "B0116" : "-6";
        o.rid = r.rid;
        b = answer(bk, &o, &len);
        OK(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                          &err));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_NOT_FOUND);
        cx_answer_release(&a);
        free(b);
        o.code = k ? "B0001" : "-1"; /* format: the bank could not read it */
        o.msg = "报文格式错误";
        o.rid = NULL;
        b = answer(bk, &o, &len);
        OK(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                          &err));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_ERROR);
        STREQ(a.message, "报文格式错误");
        CU_ASSERT_PTR_NULL(a.top[CX_K_BALANCE]);
        cx_answer_release(&a);
        free(b);
        o.code = k ? "9999" : "-9";
        b = answer(bk, &o, &len);
        OK(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                          &err));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_BUSY);
        cx_answer_release(&a);
        free(b);
        o.code = k ? "B0005" : "-5";
        o.rid = r.rid;
        b = answer(bk, &o, &len);
        OK(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                          &err));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_DUPLICATE);
        cx_answer_release(&a);
        free(b);

        /* ok without a required result */
        struct ans_opt o2 = {.rid = r.rid, .code = "0", .result = 0};
        b = answer(bk, &o2, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_EPROTO, "without its");
        free(b);

        /* the declaration must name the profile's encoding */
        struct ans_opt o3 = {.rid = r.rid, .code = "0", .result = 1};
        o3.decl = "UTF-8";
        b = answer(bk, &o3, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_ECHARSET, "declared encoding UTF-8");
        free(b);
        o3.decl = k ? "GBK" : "GB18030";
        b = answer(bk, &o3, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_ECHARSET, "declared encoding");
        free(b);
        o3.decl = "";
        b = answer(bk, &o3, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_ECHARSET, "no XML declaration");
        free(b);
        o3.decl = k ? "gb18030" : "gbk"; /* names are case-insensitive */
        b = answer(bk, &o3, &len);
        OK(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                          &err));
        cx_answer_release(&a);
        free(b);

        /* bytes that do not decode: fail closed */
        o3.decl = NULL;
        o3.msg = "XXBAD";
        b = answer(bk, &o3, &len);
        CU_ASSERT_EQUAL(bytes_replace(&b, &len, "XXBAD", "\xff\x20\xff"), 0);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_ECHARSET, "not valid");
        free(b);
        /* a second declaration cannot switch the decoder */
        o3.msg = NULL;
        o3.before = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>";
        b = answer(bk, &o3, &len);
        CU_ASSERT_EQUAL(bytes_replace(&b, &len, "?>\n<?xml", "?><?xml"), 0);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_EPARSE, NULL);
        free(b);
        /* DOCTYPE: refused before anything in it is read */
        o3.before = "<!DOCTYPE x [<!ENTITY e \"boom\">]>\n";
        b = answer(bk, &o3, &len);
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_ESECURITY, "DOCTYPE");
        free(b);
        /* not well-formed */
        o3.before = NULL;
        b = answer(bk, &o3, &len);
        len -= 3;
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, b, len, NULL, NULL, &a,
                              &err),
               H2H_EPARSE, NULL);
        free(b);
        /* another root */
        const char *t = k ? "<?xml version=\"1.0\" encoding=\"GB18030\"?>\n"
                            "<CMBSDKPGK/>"
                          : "<?xml version=\"1.0\" encoding=\"GBK\"?>\n<CMS/>";
        EXPECT(cx_answer_read(&q, CX_FN_BALANCE, &r.v, t, strlen(t), NULL, NULL,
                              &a, &err),
               H2H_EPROTO, "root");
        CU_ASSERT_PTR_NULL(a.code);

        /* the bank signature, where the profile puts it */
        struct cert_peer bank = {.pinned = pki.bank_pin};
        char *hdr = NULL;
        memset(&o, 0, sizeof(o));
        o.rid = r.rid;
        o.code = "0";
        o.result = 1;
        b = answer(bk, &o, &len);
        bank_sign(bk, pki.bank, &b, &len, &hdr);
        OK(cx_answer_read(bk->p, CX_FN_BALANCE, &r.v, b, len, hdr, &bank, &a,
                          &err));
        STREQ(a.top[CX_K_ACCOUNT], OURS);
        cx_answer_release(&a);
        /* one byte changed after signing */
        char *c = memmem(b, len, OURS, strlen(OURS));
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        c[3] = '0';
        EXPECT(cx_answer_read(bk->p, CX_FN_BALANCE, &r.v, b, len, hdr, &bank,
                              &a, &err),
               H2H_EAUTH, "answer signature");
        c[3] = '9';
        free(b);
        free(hdr);
        /* signed by someone else (our own key) */
        b = answer(bk, &o, &len);
        bank_sign(bk, pki.corp, &b, &len, &hdr);
        EXPECT(cx_answer_read(bk->p, CX_FN_BALANCE, &r.v, b, len, hdr, &bank,
                              &a, &err),
               H2H_EAUTH, "answer signature");
        free(b);
        free(hdr);
        /* not signed */
        b = answer(bk, &o, &len);
        EXPECT(cx_answer_read(bk->p, CX_FN_BALANCE, &r.v, b, len, NULL, &bank,
                              &a, &err),
               H2H_EAUTH, "answer signature");
        free(b);
        if (k) {
            /* the signature element twice */
            b = answer(bk, &o, &len);
            bank_sign(bk, pki.bank, &b, &len, &hdr);
            CU_ASSERT_EQUAL(bytes_replace(&b, &len, "</pub>",
                                          "<SignData>AAAA</SignData></pub>"),
                            0);
            EXPECT(cx_answer_read(bk->p, CX_FN_BALANCE, &r.v, b, len, NULL,
                                  &bank, &a, &err),
                   H2H_EAUTH, "exactly once");
            free(b);
        }
    }
}

/* An ok answer about another serial than the one asked about is not the
 * answer to this inquiry, whatever its echo says. */
static void test_answer_other_serial(void)
{
    struct h2h_err err;
    struct rv r;
    struct cx_answer a = {0};
    NEED_PROFILE(CMB);
    struct cx_profile q = *CMB->p;
    q.resp_sig_where = CX_SIG_NONE;
    rv_init(CMB, &r);
    r.v.v[CX_T_SERIAL] = "H2HM20261128-000042-1";
    for (int k = 0; k < 2; k++) {
        char text[2048], *b = NULL;
        size_t len = 0;
        snprintf(text, sizeof(text),
                 "<?xml version='1.0' encoding='GBK' standalone='yes'?>\n"
                 "<CMBSDKPGK>\n  <INFO><FUNNAM>GetPaymentInfo</FUNNAM>"
                 "<SEQNBR>%s</SEQNBR><RETCOD>0</RETCOD></INFO>\n"
                 "  <NTQPAYQYZ><YURREF>%s</YURREF><REQSTS>FIN</REQSTS>"
                 "<TRSAMT>1.00</TRSAMT><REQNBR/><!-- c --></NTQPAYQYZ>\n"
                 "</CMBSDKPGK>\n",
                 r.rid, k ? "H2HM20261128-000042-2" : "H2HM20261128-000042-1");
        OK(fmt_from_utf8("GBK", text, strlen(text), &b, &len, &err));
        int rc = cx_answer_read(&q, CX_FN_PAYMENT_STATUS, &r.v, b, len, NULL,
                                NULL, &a, &err);
        if (k) {
            EXPECT(rc, H2H_EPROTO, "answer about serial");
        } else {
            OK(rc);
            STREQ(a.top[CX_K_STATUS], "FIN");
            STREQ(a.top[CX_K_BANK_REF], "");
            CU_ASSERT_PTR_NULL(a.top[CX_K_REASON]);
            CU_ASSERT_PTR_NULL(a.message);
            cx_answer_release(&a);
        }
        free(b);
    }
}

/* ---- the simulator ------------------------------------------------------ */

static int sim_up(struct bank *bk)
{
    if (bk->sim_tried)
        return bk->sim_ok ? 0 : -1;
    bk->sim_tried = 1;
    if (pki_up() != 0 || profile_up(bk) != 0)
        return -1;
    snprintf(bk->state, sizeof(bk->state), "%s/state-%s", pki.dir, bk->kind);
    char prof[1024], script[1024];
    snprintf(prof, sizeof(prof), "%s", tu_src(bk->file));
    snprintf(script, sizeof(script), "%s", tu_src("tests/sims/bank_cn.py"));
    const char *argv[40];
    int n = 0;
    argv[n++] = PY;
    argv[n++] = script;
    argv[n++] = "--profile";
    argv[n++] = prof;
    argv[n++] = "--state";
    argv[n++] = bk->state;
    argv[n++] = "--accounts";
    argv[n++] = OURS;
    argv[n++] = OURS2;
    argv[n++] = "--sign-cert";
    argv[n++] = pki.signer;
    argv[n++] = "--sign-key";
    argv[n++] = pki.signer_key;
    argv[n++] = "--client-sign-ca";
    argv[n++] = pki.ca;
    argv[n++] = "--page-size";
    argv[n++] = "3";
    argv[n++] = "--settle-ms";
    argv[n++] = "300";
    argv[n++] = "--lifetime";
    argv[n++] = "600";
    if (bk->p->framing == CX_FRAMING_HTTP) {
        argv[n++] = "--cert";
        argv[n++] = pki.server;
        argv[n++] = "--key";
        argv[n++] = pki.server_key;
        argv[n++] = "--ca";
        argv[n++] = pki.ca;
    }
    argv[n] = NULL;
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        int dn = open("/dev/null", O_RDONLY);
        if (dn >= 0)
            dup2(dn, 0);
        execv(PY, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    bk->pid = pid;
    bk->out_fd = pfd[0];
    char line[4096];
    size_t have = 0;
    time_t end = time(NULL) + 60;
    while ((!bk->port || !bk->admin) && time(NULL) < end) {
        struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
        if (poll(&pf, 1, 1000) <= 0)
            continue;
        ssize_t r = read(pfd[0], line + have, sizeof(line) - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        line[have] = '\0';
        char *l = strstr(line, "LISTEN ");
        if (l)
            bk->port = (unsigned)atoi(l + 7);
        l = strstr(line, "ADMIN ");
        if (l && strchr(l, '\n'))
            bk->admin = (unsigned)atoi(l + 6);
    }
    if (!bk->port || !bk->admin) {
        fprintf(stderr, "  simulator %s did not start\n", bk->kind);
        return -1;
    }
    bk->sim_ok = 1;
    return 0;
}

static void sim_stop(struct bank *bk)
{
    if (bk->pid > 0) {
        kill(bk->pid, SIGTERM);
        int st;
        for (int i = 0; i < 100; i++) {
            if (waitpid(bk->pid, &st, WNOHANG) == bk->pid) {
                bk->pid = 0;
                break;
            }
            usleep(100000);
        }
        if (bk->pid > 0) {
            kill(bk->pid, SIGKILL);
            waitpid(bk->pid, &st, 0);
        }
        bk->pid = 0;
    }
    if (bk->out_fd >= 0)
        close(bk->out_fd);
    bk->out_fd = -1;
}

#define NEED_SIM(bk)                                                           \
    do {                                                                       \
        if (sim_up(bk) != 0) {                                                 \
            CU_FAIL("bank simulator did not start");                           \
            return;                                                            \
        }                                                                      \
    } while (0)

/* One request to the simulator's admin port (plain HTTP on loopback). */
static json_t *admin(const struct bank *bk, const char *method,
                     const char *path, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)bk->admin)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return NULL;
    }
    char *req = NULL;
    int n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (n < 0 || write(fd, req, (size_t)n) != n) {
        free(req);
        close(fd);
        return NULL;
    }
    free(req);
    struct buf b = {0};
    char tmp[65536];
    ssize_t r;
    while ((r = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(&b, tmp, (size_t)r);
    close(fd);
    char *s = b.p ? strstr(b.p, "\r\n\r\n") : NULL;
    json_t *j = s ? json_loads(s + 4, 0, NULL) : NULL;
    free(b.p);
    return j;
}

static void faults(const struct bank *bk, const char *json)
{
    json_t *j = admin(bk, "POST", "/admin/faults", json);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
}

/* The simulator's record of the payment or batch with this serial (a new
 * reference), or NULL. */
static json_t *sim_payment(const struct bank *bk, const char *serial)
{
    json_t *all = admin(bk, "GET", "/admin/payments", NULL), *x, *out = NULL;
    size_t i;
    json_array_foreach(all, i, x)
    {
        const char *s = json_string_value(json_object_get(x, "serial"));
        if (s && !strcmp(s, serial))
            out = json_incref(x);
    }
    json_decref(all);
    return out;
}

/* The simulator's ledger entry of account (a new reference), or NULL. */
static json_t *sim_account(const struct bank *bk, const char *account)
{
    json_t *l = admin(bk, "GET", "/admin/ledger", NULL), *x, *out = NULL;
    size_t i;
    json_array_foreach(json_object_get(l, "accounts"), i, x)
    {
        const char *s = json_string_value(json_object_get(x, "account"));
        if (s && !strcmp(s, account))
            out = json_incref(x);
    }
    json_decref(l);
    return out;
}

struct reply {
    struct buf body;
    char *sig;
    const char *sig_name;
};

static size_t on_body(char *ptr, size_t sz, size_t n, void *ud)
{
    buf_add(&((struct reply *)ud)->body, ptr, sz * n);
    return sz * n;
}

static size_t on_header(char *ptr, size_t sz, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = sz * n, nl = strlen(r->sig_name);
    if (len > nl + 1 && !strncasecmp(ptr, r->sig_name, nl) && ptr[nl] == ':') {
        const char *v = ptr + nl + 1;
        size_t vl = len - nl - 1;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl &&
               (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        free(r->sig);
        r->sig = strndup(v, vl);
    }
    return len;
}

static int send_http(const struct bank *bk, const struct cx_request *rq,
                     struct reply *out)
{
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    char url[64], ct[256], sg[8192];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/", bk->port);
    snprintf(ct, sizeof(ct), "Content-Type: %s", bk->p->content_type);
    struct curl_slist *h = curl_slist_append(NULL, ct);
    h = curl_slist_append(h, "Expect:");
    if (rq->sig_header_value) {
        snprintf(sg, sizeof(sg), "%s: %s", bk->p->sig_header,
                 rq->sig_header_value);
        h = curl_slist_append(h, sg);
    }
    out->sig_name = bk->p->resp_sig_header ? bk->p->resp_sig_header : "X-None";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, pki.ca);
    curl_easy_setopt(c, CURLOPT_SSLCERT, pki.client);
    curl_easy_setopt(c, CURLOPT_SSLKEY, pki.client_key);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "\n  https: %s, status %ld\n", curl_easy_strerror(rc),
                status);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_tcp(const struct bank *bk, const struct cx_request *rq,
                    struct reply *out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)bk->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char pre[16];
    int d = bk->p->length_digits;
    snprintf(pre, sizeof(pre), "%0*zu", d, rq->len);
    struct buf all = {0};
    char tmp[65536];
    ssize_t r;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        write_all(fd, pre, strlen(pre)) || write_all(fd, rq->body, rq->len)) {
        close(fd);
        return -1;
    }
    while ((r = read(fd, tmp, sizeof(tmp))) > 0)
        buf_add(&all, tmp, (size_t)r);
    close(fd);
    int rc = -1;
    if (all.len >= (size_t)d) {
        size_t n = 0;
        int digits = 1;
        for (int i = 0; i < d; i++) {
            if (all.p[i] < '0' || all.p[i] > '9')
                digits = 0;
            n = n * 10 + (size_t)(all.p[i] - '0');
        }
        if (digits && n == all.len - (size_t)d) {
            buf_add(&out->body, all.p + d, n);
            rc = 0;
        }
    }
    if (rc)
        fprintf(stderr, "\n  tcp: no framed answer (%zu bytes)\n", all.len);
    free(all.p);
    return rc;
}

#define NO_TRANSPORT 1

/* Build, send, read.  0, an error of cx_request_build / cx_answer_read,
 * or NO_TRANSPORT.  req (may be NULL) gets the request's bytes. */
static int call(struct bank *bk, enum cx_fn fn, const struct cx_vals *v,
                const struct cx_vals *items, size_t n, struct cx_answer *a,
                struct h2h_err *err, struct cx_request *req)
{
    struct cx_request rq = {0};
    int rc = cx_request_build(bk->p, fn, v, items, n, pki.corp, &rq, err);
    if (rc) {
        fprintf(stderr, "\n  build %s: %s\n", cx_fn_name(fn), err->msg);
        return rc;
    }
    struct reply rp = {0};
    rc = bk->p->framing == CX_FRAMING_HTTP ? send_http(bk, &rq, &rp)
                                           : send_tcp(bk, &rq, &rp);
    if (rc == 0) {
        struct cert_peer bank = {.pinned = pki.bank_pin};
        rc = cx_answer_read(bk->p, fn, v, rp.body.p ? rp.body.p : "",
                            rp.body.len, rp.sig, &bank, a, err);
        if (verbose())
            fprintf(stderr, "\n  %s %s -> %d %s\n  %.*s\n", bk->kind,
                    cx_fn_name(fn), rc, rc ? err->msg : "", (int)rp.body.len,
                    rp.body.p ? rp.body.p : "");
    } else {
        rc = NO_TRANSPORT;
    }
    free(rp.body.p);
    free(rp.sig);
    if (req)
        *req = rq;
    else
        cx_request_release(&rq);
    return rc;
}

static void sim_balance(struct bank *bk)
{
    struct h2h_err err;
    struct rv r;
    struct cx_answer a = {0};
    NEED_SIM(bk);
    for (int i = 0; i < 2; i++) {
        const char *acct = i ? OURS2 : OURS;
        rv_balance(bk, &r, acct);
        OK(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a.top[CX_K_BALANCE]);
        STREQ(a.top[CX_K_ACCOUNT], acct);
        STREQ(a.top[CX_K_CURRENCY], cx_ccy_bank(bk->p, "CNY"));
        STREQ(a.top[CX_K_NAME], CN_DEBTOR);
        json_t *l = sim_account(bk, acct);
        const char *want = json_string_value(json_object_get(l, "balance"));
        CU_ASSERT(want && !strcmp(a.top[CX_K_BALANCE], want));
        int64_t m = 0;
        const char *b = a.top[CX_K_BALANCE];
        OK(cx_amount_to_minor(bk->p, b[0] == '-' ? b + 1 : b, &m, &err));
        CU_ASSERT(m > 0);
        json_decref(l);
        cx_answer_release(&a);
    }
}

/* A payment with Chinese text: what the bank stored is what was meant. */
static void sim_payment_cn(struct bank *bk)
{
    struct h2h_err err;
    struct rv r;
    struct cx_answer a = {0};
    NEED_SIM(bk);
    const char *names[2] = {CN_NAME, "张\xf0\xa0\xae\xb7 Café €"};
    for (int i = 0; i < (bk == ICBC ? 2 : 1); i++) {
        rv_payment(bk, &r, 123450 + i, names[i], CN_REMIT);
        OK(call(bk, CX_FN_PAYMENT, &r.v, NULL, 0, &a, &err, NULL));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a.top[CX_K_SERIAL]);
        STREQ(a.top[CX_K_SERIAL], r.serial);
        STREQ(cx_status_iso(bk->p, a.top[CX_K_STATUS]), "PDNG");
        CU_ASSERT(a.top[CX_K_BANK_REF] && a.top[CX_K_BANK_REF][0]);
        char *ref = a.top[CX_K_BANK_REF] ? strdup(a.top[CX_K_BANK_REF]) : NULL;
        cx_answer_release(&a);

        json_t *pm = sim_payment(bk, r.serial);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
        json_t *v = json_object_get(pm, "values");
        const char *nm = json_string_value(json_object_get(v, "creditor_name"));
        const char *rm = json_string_value(json_object_get(v, "remittance"));
        const char *cb = json_string_value(json_object_get(v, "creditor_bank"));
        CU_ASSERT(nm && !strcmp(nm, names[i]));
        CU_ASSERT(rm && !strcmp(rm, CN_REMIT));
        if (bk == CMB) /* cmb-style's payment has a creditor bank element */
            CU_ASSERT(cb && !strcmp(cb, CN_BANK));
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(v, "amount")),
                        123450 + i);
        json_decref(pm);

        /* the status by serial, once it is final */
        usleep(500000);
        struct rv s;
        rv_init(bk, &s);
        s.v.v[CX_T_SERIAL] = r.serial;
        OK(call(bk, CX_FN_PAYMENT_STATUS, &s.v, NULL, 0, &a, &err, NULL));
        CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
        CU_ASSERT(a.top[CX_K_SERIAL] && !strcmp(a.top[CX_K_SERIAL], r.serial));
        STREQ(cx_status_iso(bk->p, a.top[CX_K_STATUS]), "ACSC");
        CU_ASSERT(ref && a.top[CX_K_BANK_REF] &&
                  !strcmp(a.top[CX_K_BANK_REF], ref));
        CU_ASSERT(a.top[CX_K_AMOUNT] && !strcmp(a.top[CX_K_AMOUNT], r.amount));
        cx_answer_release(&a);
        free(ref);
    }

    /* a serial the bank never saw */
    struct rv s;
    rv_init(bk, &s);
    s.v.v[CX_T_SERIAL] = "T0NEVER0SENT";
    OK(call(bk, CX_FN_PAYMENT_STATUS, &s.v, NULL, 0, &a, &err, NULL));
    CU_ASSERT_EQUAL(a.cls, CX_CODE_NOT_FOUND);
    CU_ASSERT_PTR_NULL(a.top[CX_K_STATUS]);
    cx_answer_release(&a);
}

/* Answers that must be no answer at all. */
static void sim_faults(struct bank *bk)
{
    struct h2h_err err;
    struct rv r;
    struct cx_answer a = {0};
    NEED_SIM(bk);

    rv_balance(bk, &r, OURS);
    faults(bk, "{\"bad_response_signature_next\": 1}");
    EXPECT(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL), H2H_EAUTH,
           "answer signature");

    /* a genuine answer, then the same bytes again for another request */
    rv_balance(bk, &r, OURS);
    OK(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL));
    cx_answer_release(&a);
    faults(bk, "{\"replay_last_response_next\": 1}");
    rv_balance(bk, &r, OURS);
    EXPECT(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL), H2H_EPROTO,
           "another request");

    /* garbage: with a header signature it verifies and then fails to
     * decode; the element signature cannot even be found in it */
    rv_balance(bk, &r, OURS);
    faults(bk, "{\"garbage_next\": 1}");
    if (bk->p->resp_sig_where == CX_SIG_HEADER)
        EXPECT(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL),
               H2H_ECHARSET, "not valid");
    else
        EXPECT(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL),
               H2H_EAUTH, "answer signature");

    /* and afterwards all is well again */
    rv_balance(bk, &r, OURS);
    OK(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL));
    CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
    cx_answer_release(&a);

    /* a refusal of the bank: an account that is not ours */
    rv_balance(bk, &r, "755900000000009");
    OK(call(bk, CX_FN_BALANCE, &r.v, NULL, 0, &a, &err, NULL));
    CU_ASSERT_EQUAL(a.cls, CX_CODE_ERROR);
    STREQ(a.code, bk == ICBC ? "B0007" : "-7");
    CU_ASSERT(a.message && strstr(a.message, "755900000000009"));
    cx_answer_release(&a);
}

/* Statement pages in the profile's paging style: every entry of the
 * simulator's ledger in the range, once, oldest first. */
static void sim_transactions(struct bank *bk)
{
    struct h2h_err err;
    struct rv r;
    struct cx_answer a = {0};
    NEED_SIM(bk);
    usleep(400000); /* payments of other tests settled and booked */
    char from_iso[11], to_iso[11];
    cx_bank_today(bk->p, -30, from_iso);
    cx_bank_today(bk->p, 0, to_iso);
    json_t *acct = sim_account(bk, OURS);
    json_t *entries = json_object_get(acct, "entries"), *e;
    size_t i, want = 0;
    json_array_foreach(entries, i, e)
    {
        const char *d = json_string_value(json_object_get(e, "booking_date"));
        if (d && strcmp(d, from_iso) >= 0 && strcmp(d, to_iso) <= 0)
            want++;
    }
    CU_ASSERT(want >= 8);

    const struct cx_function *f = &bk->p->fn[CX_FN_TRANSACTIONS];
    size_t got = 0;
    int pages = 0;
    char last_date[11] = "";
    long page_no = bk->p->page_first;
    char token[128] = "";
    for (;;) {
        rv_init(bk, &r);
        cx_date_format(bk->p, from_iso, r.from, sizeof(r.from));
        cx_date_format(bk->p, to_iso, r.to, sizeof(r.to));
        r.v.v[CX_T_ACCOUNT] = OURS;
        r.v.v[CX_T_FROM] = r.from;
        r.v.v[CX_T_TO] = r.to;
        if (bk->p->paging == CX_PAGING_TOKEN)
            snprintf(r.page, sizeof(r.page), "%s", token);
        else
            snprintf(r.page, sizeof(r.page), "%ld", page_no++);
        r.v.v[CX_T_PAGE] = r.page;
        int rc = call(bk, CX_FN_TRANSACTIONS, &r.v, NULL, 0, &a, &err, NULL);
        OK(rc);
        if (rc)
            break;
        CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
        pages++;
        CU_ASSERT(a.n_items <= 3);
        for (size_t k = 0; k < a.n_items; k++) {
            char **row = a.items + k * CX_K_N;
            got++;
            char iso[11] = "";
            OK(cx_date_to_iso(bk->p, row[CX_K_BOOKING_DATE], iso, &err));
            CU_ASSERT(strcmp(last_date, iso) <= 0);
            snprintf(last_date, sizeof(last_date), "%s", iso);
            int64_t m = 0;
            OK(cx_amount_to_minor(bk->p, row[CX_K_AMOUNT], &m, &err));
            CU_ASSERT(m > 0);
            CU_ASSERT(row[CX_K_CREDIT_DEBIT] &&
                      (!strcmp(row[CX_K_CREDIT_DEBIT],
                               f->item_result[CX_K_CREDIT_VALUE]) ||
                       !strcmp(row[CX_K_CREDIT_DEBIT],
                               f->item_result[CX_K_DEBIT_VALUE])));
            CU_ASSERT_PTR_NULL(row[CX_K_DEBIT_VALUE]);
            CU_ASSERT_PTR_NOT_NULL(row[CX_K_SERIAL]);
            /* the same entry as in the simulator's ledger */
            int found = 0;
            json_array_foreach(entries, i, e)
            {
                const char *id =
                    json_string_value(json_object_get(e, "entry_id"));
                if (id && row[CX_K_ENTRY_ID] &&
                    !strcmp(id, row[CX_K_ENTRY_ID])) {
                    found++;
                    STREQ(json_string_value(json_object_get(e, "booking_date")),
                          iso);
                    STREQ(json_string_value(
                              json_object_get(e, "counterparty_name")),
                          row[CX_K_COUNTERPARTY_NAME]);
                    CU_ASSERT_EQUAL(
                        json_integer_value(json_object_get(e, "amount_fen")),
                        m);
                }
            }
            CU_ASSERT_EQUAL(found, 1);
        }
        int more;
        if (bk->p->paging == CX_PAGING_TOKEN) {
            const char *nx = a.top[CX_K_NEXT];
            more = nx && *nx;
            snprintf(token, sizeof(token), "%s", more ? nx : "");
        } else {
            CU_ASSERT_PTR_NOT_NULL(a.top[CX_K_MORE]);
            more = a.top[CX_K_MORE] &&
                   !strcmp(a.top[CX_K_MORE], bk->p->more_value);
        }
        cx_answer_release(&a);
        if (!more || pages > 50)
            break;
    }
    CU_ASSERT_EQUAL(got, want);
    CU_ASSERT(pages >= 3);
    json_decref(acct);
}

static void sim_payroll(struct bank *bk)
{
    struct h2h_err err;
    struct cx_answer a = {0};
    struct batch b;
    NEED_SIM(bk);
    batch_init(bk, &b);
    OK(call(bk, CX_FN_PAYROLL, &b.r.v, b.items, 3, &a, &err, NULL));
    CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
    CU_ASSERT(a.top[CX_K_SERIAL] && !strcmp(a.top[CX_K_SERIAL], b.r.serial));
    STREQ(cx_status_iso(bk->p, a.top[CX_K_STATUS]), "PDNG");
    cx_answer_release(&a);

    json_t *pm = sim_payment(bk, b.r.serial), *it;
    CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(pm, "items")), 3);
    size_t i;
    json_array_foreach(json_object_get(pm, "items"), i, it)
    {
        STREQ(json_string_value(json_object_get(it, "creditor_name")),
              PR_NAME[i]);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(it, "amount")),
                        PR_FEN[i]);
    }
    json_decref(pm);

    usleep(500000);
    struct rv s;
    rv_init(bk, &s);
    s.v.v[CX_T_SERIAL] = b.r.serial;
    OK(call(bk, CX_FN_PAYROLL_RESULT, &s.v, NULL, 0, &a, &err, NULL));
    CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
    STREQ(cx_status_iso(bk->p, a.top[CX_K_STATUS]), "ACSC");
    CU_ASSERT_EQUAL_FATAL(a.n_items, 3);
    for (i = 0; i < 3; i++) {
        char **row = a.items + i * CX_K_N;
        STREQ(row[CX_K_ITEM_NO], b.no[i]);
        STREQ(row[CX_K_CREDITOR_NAME], PR_NAME[i]);
        STREQ(row[CX_K_CREDITOR_ACCOUNT], PR_ACCT[i]);
        STREQ(row[CX_K_AMOUNT], b.amt[i]);
        STREQ(cx_status_iso(bk->p, row[CX_K_STATUS]), "ACSC");
    }
    cx_answer_release(&a);

    /* the same batch again: the original result, not a second batch */
    snprintf(b.r.rid, sizeof(b.r.rid), "T%dQ%06d", (int)(getpid() % 100000),
             ++counter);
    b.r.v.v[CX_T_REQUEST_ID] = b.r.rid;
    OK(call(bk, CX_FN_PAYROLL, &b.r.v, b.items, 3, &a, &err, NULL));
    CU_ASSERT_EQUAL(a.cls, CX_CODE_OK);
    cx_answer_release(&a);
    json_t *arr = admin(bk, "GET", "/admin/arrivals", NULL), *x;
    int created = 0, replayed = 0;
    json_array_foreach(arr, i, x)
    {
        const char *s = json_string_value(json_object_get(x, "serial"));
        const char *o = json_string_value(json_object_get(x, "outcome"));
        if (s && o && !strcmp(s, b.r.serial)) {
            created += !strcmp(o, "created");
            replayed += !strcmp(o, "replayed");
        }
    }
    json_decref(arr);
    CU_ASSERT_EQUAL(created, 1);
    CU_ASSERT_EQUAL(replayed, 1);
}

static void test_sim_balance_cmb(void)
{
    sim_balance(CMB);
}
static void test_sim_balance_icbc(void)
{
    sim_balance(ICBC);
}
static void test_sim_payment_cmb(void)
{
    sim_payment_cn(CMB);
}
static void test_sim_payment_icbc(void)
{
    sim_payment_cn(ICBC);
}
static void test_sim_faults_cmb(void)
{
    sim_faults(CMB);
}
static void test_sim_faults_icbc(void)
{
    sim_faults(ICBC);
}
static void test_sim_transactions_cmb(void)
{
    sim_transactions(CMB);
}
static void test_sim_transactions_icbc(void)
{
    sim_transactions(ICBC);
}
static void test_sim_payroll_cmb(void)
{
    sim_payroll(CMB);
}
static void test_sim_payroll_icbc(void)
{
    sim_payroll(ICBC);
}

static const struct tu_case cases[] = {
    {"amounts yuan and fen", test_amounts},
    {"dates and the bank's clock", test_dates},
    {"request bytes and signatures", test_request_bytes},
    {"values refused before building", test_request_values},
    {"payroll values", test_payroll_values},
    {"answers: decoding, echo, results, signature", test_answers_offline},
    {"answer about another serial", test_answer_other_serial},
    {"cmb-style: balance", test_sim_balance_cmb},
    {"icbc-style: balance", test_sim_balance_icbc},
    {"cmb-style: payment in GBK, status", test_sim_payment_cmb},
    {"icbc-style: payment in GB18030, status", test_sim_payment_icbc},
    {"cmb-style: unusable answers", test_sim_faults_cmb},
    {"icbc-style: unusable answers", test_sim_faults_icbc},
    {"cmb-style: payroll and result", test_sim_payroll_cmb},
    {"icbc-style: payroll and result", test_sim_payroll_icbc},
    {"cmb-style: transactions, token paging", test_sim_transactions_cmb},
    {"icbc-style: transactions, page paging", test_sim_transactions_icbc},
    {NULL, NULL},
};

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct h2h_err err;
    if (cert_init(&err) != 0) {
        fprintf(stderr, "init: %s\n", err.msg);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = tu_main("cx_msg", cases);
    for (int i = 0; i < 2; i++) {
        sim_stop(&banks[i]);
        cx_profile_free(banks[i].p);
    }
    cert_identity_free(pki.corp);
    cert_identity_free(pki.bank);
    cert_certs_free(pki.bank_pin);
    cert_certs_free(pki.corp_pin);
    if (pki.dir[0] && !getenv("H2H_KEEP"))
        tu_rmtree(pki.dir);
    curl_global_cleanup();
    cert_shutdown();
    return rc;
}
