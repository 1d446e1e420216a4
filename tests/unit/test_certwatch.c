/*
 * test_certwatch.c - the daemon's certificate expiry warnings
 * (daemon/certwatch.h): each threshold logged once per bank and
 * certificate, the most severe one only for a certificate first seen
 * late, no repeat when the same certificate is loaded again (a reload),
 * a renewed certificate starting over, and rounds forgetting what is no
 * longer in use.
 *
 * The clock is the test's: every check passes its own "now" relative to
 * the certificate's not-after, so thresholds are crossed without waiting.
 * What is asserted is the log itself (the operator's view), read back
 * from a log file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"
#include "certwatch.h"
#include "log.h"
#include "testutil.h"

#define D 86400L

static char logpath[512];

/* A self-signed EC certificate valid for days from now. */
static X509 *mkcert(const char *cn, long days)
{
    static long serial = 1;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!k || !x)
        goto fail;
    X509_NAME *n = X509_get_subject_name(x);
    if (!ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), days * D) ||
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
                                    (const unsigned char *)"h2hd test", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, n) || !X509_set_pubkey(x, k) ||
        !X509_sign(x, k, EVP_sha256()))
        goto fail;
    EVP_PKEY_free(k);
    return x;
fail:
    EVP_PKEY_free(k);
    X509_free(x);
    return NULL;
}

static time_t not_after(X509 *x)
{
    struct cert_info ci;
    CU_ASSERT_EQUAL_FATAL(cert_info_get(x, 0, &ci, NULL), 0);
    return ci.not_after_t;
}

static const char *fp(X509 *x)
{
    static char buf[CERT_FP_LEN + 1];
    CU_ASSERT_EQUAL(cert_fingerprint(x, buf, sizeof(buf), NULL), 0);
    return buf;
}

/* Fresh, empty log file for one test. */
static void log_start(void)
{
    snprintf(logpath, sizeof(logpath), "%s/h2hd.log", tu_mkdtemp());
    CU_ASSERT_EQUAL_FATAL(h2h_log_open(logpath, H2H_LOG_DEBUG), 0);
}

static char *log_text(void)
{
    char *s = tu_read_file(logpath, NULL);
    return s ? s : calloc(1, 1);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* Lines of the log holding every one of the NULL-terminated needles. */
static int lines_with(const char *log, ...)
{
    int n = 0;
    const char *line = log;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = strndup(line, len);
        int all = l != NULL;
        va_list ap;
        va_start(ap, log);
        for (const char *s; all && (s = va_arg(ap, const char *)) != NULL;)
            all = strstr(l, s) != NULL;
        va_end(ap);
        n += all;
        free(l);
        line += len + (end ? 1 : 0);
    }
    return n;
}

static void log_end(void)
{
    h2h_log_close();
    char *dir = strdup(logpath);
    if (dir) {
        *strrchr(dir, '/') = '\0';
        tu_rmtree(dir);
    }
    free(dir);
}

static void test_thresholds_once(void)
{
    struct certwatch *w = NULL;
    X509 *x = mkcert("tls client one", 100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_EQUAL_FATAL(certwatch_new(&w, NULL), 0);
    log_start();
    time_t na = not_after(x);
    struct {
        time_t now;
        enum cert_warn want;
    } steps[] = {
        {na - 40 * D, CERT_WARN_NONE},    {na - 30 * D, CERT_WARN_NONE},
        {na - 30 * D + 1, CERT_WARN_30D}, {na - 29 * D, CERT_WARN_NONE},
        {na - 8 * D, CERT_WARN_NONE},     {na - 7 * D + 60, CERT_WARN_7D},
        {na - 6 * D, CERT_WARN_NONE},     {na - D / 2, CERT_WARN_1D},
        {na - 60, CERT_WARN_NONE},        {na + 1, CERT_WARN_EXPIRED},
        {na + 3 * D, CERT_WARN_NONE},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        enum cert_warn got =
            certwatch_check(w, "bank1", "tls client", x, steps[i].now);
        if (got != steps[i].want)
            fprintf(stderr, "\n  step %zu: got %s, want %s\n", i,
                    cert_warn_name(got), cert_warn_name(steps[i].want));
        CU_ASSERT_EQUAL(got, steps[i].want);
    }
    char *log = log_text();
    char fpkv[CERT_FP_LEN + 20];
    snprintf(fpkv, sizeof(fpkv), "fingerprint=%s", fp(x));
    CU_ASSERT_EQUAL(count(log, "\n"), 4);
    CU_ASSERT_EQUAL(count(log, "event=cert.expiring"), 3);
    CU_ASSERT_EQUAL(lines_with(log, "level=warn", "event=cert.expiring",
                               "bank=bank1", "label=\"tls client\"",
                               "subject=\"CN=tls client one,O=h2hd test\"",
                               "issuer=\"CN=tls client one,O=h2hd test\"",
                               "days_left=29 ", "threshold=\"30 days\"", fpkv,
                               NULL),
                    1);
    CU_ASSERT_EQUAL(lines_with(log, "event=cert.expiring", "days_left=6 ",
                               "threshold=\"7 days\"", fpkv, NULL),
                    1);
    CU_ASSERT_EQUAL(lines_with(log, "event=cert.expiring", "days_left=0 ",
                               "threshold=\"1 day\"", fpkv, NULL),
                    1);
    CU_ASSERT_EQUAL(lines_with(log, "level=error", "event=cert.expired",
                               "bank=bank1", "days_left=-1 ",
                               "threshold=expired", "not_after=", fpkv, NULL),
                    1);
    free(log);
    log_end();
    certwatch_free(w);
    X509_free(x);
}

/* First seen with 5 days left: the 7-day warning only, never the stale
 * 30-day one; first seen expired: the error only. */
static void test_first_seen_late(void)
{
    struct certwatch *w = NULL;
    X509 *x = mkcert("request signing", 50);
    X509 *old = mkcert("old signing", 50);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    CU_ASSERT_EQUAL_FATAL(certwatch_new(&w, NULL), 0);
    log_start();
    time_t na = not_after(x);
    CU_ASSERT_EQUAL(certwatch_check(w, "b", "request signing", x, na - 5 * D),
                    CERT_WARN_7D);
    CU_ASSERT_EQUAL(certwatch_check(w, "b", "request signing", x, na - 4 * D),
                    CERT_WARN_NONE);
    time_t na2 = not_after(old);
    CU_ASSERT_EQUAL(certwatch_check(w, "b", "old", old, na2 + 40 * D),
                    CERT_WARN_EXPIRED);
    CU_ASSERT_EQUAL(certwatch_check(w, "b", "old", old, na2 + 41 * D),
                    CERT_WARN_NONE);
    char *log = log_text();
    CU_ASSERT_EQUAL(count(log, "\n"), 2);
    CU_ASSERT_EQUAL(count(log, "threshold=\"30 days\""), 0);
    CU_ASSERT_EQUAL(
        lines_with(log, "threshold=\"7 days\"", "days_left=5 ", NULL), 1);
    CU_ASSERT_EQUAL(lines_with(log, "event=cert.expired", "days_left=-40 ",
                               "subject=\"CN=old signing,O=h2hd test\"", NULL),
                    1);
    free(log);
    log_end();
    certwatch_free(w);
    X509_free(x);
    X509_free(old);
}

/* A reload loads the same certificate into a new X509 object: the
 * fingerprint, not the pointer, is what is remembered.  Per bank; a
 * second use in the same bank is not announced twice; a renewed
 * certificate (same subject, new key and dates) starts over; a round
 * forgets what was not seen in it. */
static void test_identity_and_rounds(void)
{
    struct certwatch *w = NULL;
    X509 *x = mkcert("shared", 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    X509 *again = X509_dup(x);
    X509 *renewed = mkcert("shared", 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(again);
    CU_ASSERT_PTR_NOT_NULL_FATAL(renewed);
    CU_ASSERT_EQUAL_FATAL(certwatch_new(&w, NULL), 0);
    log_start();
    time_t now = time(NULL);

    certwatch_round_begin(w);
    CU_ASSERT_EQUAL(certwatch_check(w, "bank1", "tls client", x, now),
                    CERT_WARN_30D);
    CU_ASSERT_EQUAL(certwatch_check(w, "bank1", "request signing", x, now),
                    CERT_WARN_NONE);
    CU_ASSERT_EQUAL(certwatch_check(w, "bank2", "tls client", x, now),
                    CERT_WARN_30D);
    certwatch_round_end(w);
    CU_ASSERT_EQUAL(certwatch_size(w), 2);

    /* "reload": both banks, the certificate read again */
    certwatch_round_begin(w);
    CU_ASSERT_EQUAL(certwatch_check(w, "bank1", "tls client", again, now + 60),
                    CERT_WARN_NONE);
    CU_ASSERT_EQUAL(certwatch_check(w, "bank2", "tls client", again, now + 60),
                    CERT_WARN_NONE);
    certwatch_round_end(w);
    CU_ASSERT_EQUAL(certwatch_size(w), 2);

    /* bank1 swapped its certificate, bank2 no longer uses one */
    certwatch_round_begin(w);
    CU_ASSERT_EQUAL(
        certwatch_check(w, "bank1", "tls client", renewed, now + 120),
        CERT_WARN_30D);
    certwatch_round_end(w);
    CU_ASSERT_EQUAL(certwatch_size(w), 1);

    /* the old one back in bank2: announced again, it had been forgotten */
    certwatch_round_begin(w);
    CU_ASSERT_EQUAL(
        certwatch_check(w, "bank1", "tls client", renewed, now + 180),
        CERT_WARN_NONE);
    CU_ASSERT_EQUAL(certwatch_check(w, "bank2", "tls client", x, now + 180),
                    CERT_WARN_30D);
    certwatch_round_end(w);
    CU_ASSERT_EQUAL(certwatch_size(w), 2);

    char *log = log_text();
    char fpx[CERT_FP_LEN + 20], fpr[CERT_FP_LEN + 20];
    snprintf(fpx, sizeof(fpx), "fingerprint=%s", fp(x));
    snprintf(fpr, sizeof(fpr), "fingerprint=%s", fp(renewed));
    CU_ASSERT_STRING_NOT_EQUAL(fpx, fpr);
    CU_ASSERT_EQUAL(count(log, "\n"), 4);
    CU_ASSERT_EQUAL(lines_with(log, "bank=bank1", fpx, NULL), 1);
    CU_ASSERT_EQUAL(lines_with(log, "bank=bank2", fpx, NULL), 2);
    CU_ASSERT_EQUAL(lines_with(log, "bank=bank1", fpr, NULL), 1);
    CU_ASSERT_EQUAL(count(log, "label=\"request signing\""), 0);
    free(log);
    log_end();
    certwatch_free(w);
    X509_free(x);
    X509_free(again);
    X509_free(renewed);
}

/* Nothing to say about a certificate far from expiry, and nothing kept. */
static void test_quiet_when_fine(void)
{
    struct certwatch *w = NULL;
    X509 *x = mkcert("long lived", 400);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_EQUAL_FATAL(certwatch_new(&w, NULL), 0);
    log_start();
    certwatch_round_begin(w);
    CU_ASSERT_EQUAL(certwatch_check(w, "b", "tls trust anchor", x, time(NULL)),
                    CERT_WARN_NONE);
    certwatch_round_end(w);
    CU_ASSERT_EQUAL(certwatch_size(w), 0);
    char *log = log_text();
    CU_ASSERT_STRING_EQUAL(log, "");
    free(log);
    log_end();
    certwatch_free(w);
    certwatch_free(NULL);
    X509_free(x);
}

static const struct tu_case cases[] = {
    {"30/7/1 days and expired, each once", test_thresholds_once},
    {"first seen late: the most severe only", test_first_seen_late},
    {"same certificate reloaded, per bank, renewed, rounds",
     test_identity_and_rounds},
    {"quiet far from expiry", test_quiet_when_fine},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("certwatch", cases);
}
