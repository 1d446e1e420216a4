/*
 * https_tls.c - the OpenSSL side of the HTTPS transport (see https_int.h).
 *
 * curl does the TLS work; this file adds two things it cannot:
 *   - client credentials are checked when a client is created (file mode,
 *     passphrase, key matches certificate), so a configuration mistake is
 *     reported at start and not as a handshake failure at the first payment;
 *   - hooks on each new connection's SSL_CTX (CURLOPT_SSL_CTX_FUNCTION,
 *     OpenSSL back end only) that record what the server presented and
 *     said: the leaf certificate (subject, issuer, validity, fingerprint,
 *     key pin), the first chain verification error, whether it asked for a
 *     client certificate we do not have, the alerts it sent.  They never
 *     change a verdict: the verify callback returns OpenSSL's own.
 */
#include "https_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int ctx_idx = -1;
static int is_openssl = -1;

/* ------------------------------------------------------------------ */
/* the per-connection record                                           */

void https__tlsinfo_unref(struct https_tlsinfo *ti)
{
    if (ti && --ti->refs == 0)
        free(ti);
}

/* OpenSSL frees an SSL_CTX (curl closed the connection): drop its ref. */
static void ctx_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                        long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    https__tlsinfo_unref(ptr);
}

static struct https_tlsinfo *info_of_ssl(const SSL *ssl)
{
    if (!ssl || ctx_idx < 0)
        return NULL;
    return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_idx);
}

static void name_text(const X509_NAME *n, char *buf, size_t bufsz)
{
    buf[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    /* RFC 2253 order and escaping, UTF-8 kept as is */
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
        0) {
        int l = BIO_read(b, buf, (int)bufsz - 1);
        buf[l > 0 ? l : 0] = '\0';
    }
    BIO_free(b);
    /* a name is shown in a one-line message: no control characters */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static void time_text(const ASN1_TIME *t, char *buf, size_t bufsz)
{
    struct tm tm;
    buf[0] = '\0';
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void leaf_record(struct https_tlsinfo *ti, X509 *x)
{
    struct https_peer *p = &ti->peer;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    name_text(X509_get_subject_name(x), p->subject, sizeof(p->subject));
    name_text(X509_get_issuer_name(x), p->issuer, sizeof(p->issuer));
    time_text(X509_get0_notBefore(x), p->not_before, sizeof(p->not_before));
    time_text(X509_get0_notAfter(x), p->not_after, sizeof(p->not_after));
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
        size_t o = 0;
        for (unsigned i = 0; i < mdlen && o + 4 <= sizeof(p->sha256); i++)
            o += (size_t)snprintf(p->sha256 + o, sizeof(p->sha256) - o,
                                  i ? ":%02X" : "%02X", md[i]);
    }
    /* the pin curl compares: SHA-256 of the DER SubjectPublicKeyInfo */
    unsigned char *der = NULL;
    int dlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (dlen > 0 &&
        EVP_Digest(der, (size_t)dlen, md, &mdlen, EVP_sha256(), NULL) == 1) {
        unsigned char b64[64];
        int n = EVP_EncodeBlock(b64, md, (int)mdlen);
        snprintf(p->pin, sizeof(p->pin), "sha256//%.*s", n, (char *)b64);
    }
    OPENSSL_free(der);
    ti->have_leaf = 1;
}

/* Called by OpenSSL for each certificate of the chain it verifies. */
static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct https_tlsinfo *ti = info_of_ssl(ssl);
    if (!ti)
        return ok;
    X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
    if (!ti->have_leaf && leaf)
        leaf_record(ti, leaf);
    if (!ok && !ti->verify_err) {
        ti->verify_err = X509_STORE_CTX_get_error(sctx);
        ti->verify_depth = X509_STORE_CTX_get_error_depth(sctx);
        X509 *bad = X509_STORE_CTX_get_current_cert(sctx);
        if (bad)
            name_text(X509_get_subject_name(bad), ti->verify_subject,
                      sizeof(ti->verify_subject));
    }
    return ok; /* never overrule OpenSSL */
}

/* Only called when the server asks for a client certificate and none is
 * configured (curl installs a configured one on the SSL_CTX). */
static int client_cert_cb(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct https_tlsinfo *ti = info_of_ssl(ssl);
    if (ti)
        ti->cert_requested = ti->cert_missing = 1;
    return 0; /* go on without one: the server decides */
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    struct https_tlsinfo *ti = info_of_ssl(ssl);
    if (!ti)
        return;
    if ((where & SSL_CB_READ_ALERT) && (ret & 0xff) != 0) {
        /* ret = level << 8 | description; close_notify (0) is no news */
        ti->alert = ret & 0xff;
        snprintf(ti->alert_text, sizeof(ti->alert_text), "%s",
                 SSL_alert_desc_string_long(ret));
    }
    if ((where & SSL_CB_LOOP) && SSL_get_state(ssl) == TLS_ST_CR_CERT_REQ)
        ti->cert_requested = 1;
    if (where & SSL_CB_HANDSHAKE_DONE)
        snprintf(ti->peer.tls_version, sizeof(ti->peer.tls_version), "%s",
                 SSL_get_version(ssl));
}

CURLcode https__tls_ctx_cb(CURL *easy, void *sslctx, void *userp)
{
    (void)easy;
    SSL_CTX *ctx = sslctx;
    struct https_xfer *x = userp;

    /* curl already asked for verification; make sure, and add our
     * recording callback (it returns OpenSSL's verdict unchanged). */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
    SSL_CTX_set_client_cert_cb(ctx, client_cert_cb);
    SSL_CTX_set_info_callback(ctx, info_cb);
    if (ctx_idx < 0)
        return CURLE_OK;
    struct https_tlsinfo *ti = calloc(1, sizeof(*ti));
    if (!ti)
        return CURLE_OK; /* only the details of a message are lost */
    ti->alert = -1;
    ti->refs = 1;
    if (!SSL_CTX_set_ex_data(ctx, ctx_idx, ti)) {
        free(ti);
        return CURLE_OK;
    }
    /* a second connection of the same request (curl's retry) replaces the
     * first one's record */
    https__tlsinfo_unref(x->tls);
    ti->refs++;
    x->tls = ti;
    return CURLE_OK;
}

const char *https__tls_verify_text(int verify_err)
{
    return X509_verify_cert_error_string(verify_err);
}

/* ------------------------------------------------------------------ */
/* global                                                              */

int https__tls_is_openssl(void)
{
    if (is_openssl < 0) {
        const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        is_openssl =
            v && v->ssl_version && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
    }
    return is_openssl;
}

int https__tls_global_init(struct h2h_err *err)
{
    if (ctx_idx >= 0 || !https__tls_is_openssl())
        return 0;
    ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, ctx_ex_free);
    if (ctx_idx < 0)
        return h2h_err_set(err, H2H_ENOMEM, "https: openssl ex_data index");
    return 0;
}

void https__tls_global_cleanup(void)
{
    if (ctx_idx >= 0)
        CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL_CTX, ctx_idx);
    ctx_idx = -1;
}

/* ------------------------------------------------------------------ */
/* client credentials at start                                         */

/* A file holding a private key: regular, ours to read, private. */
static int check_key_file(const char *what, const char *path,
                          struct h2h_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return h2h_err_set(err, H2H_ECONFIG, "https: %s %s: %s", what, path,
                           strerror(errno));
    if (!S_ISREG(st.st_mode))
        return h2h_err_set(err, H2H_ECONFIG, "https: %s %s is not a file", what,
                           path);
    if (st.st_mode & 077)
        return h2h_err_set(err, H2H_ESECURITY,
                           "https: %s %s is readable by group or others "
                           "(chmod 600 it)",
                           what, path);
    return 0;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pass = u;
    if (!pass)
        return 0; /* encrypted and no passphrase: fail to decrypt */
    size_t n = strlen(pass);
    if (n > (size_t)size)
        return 0;
    memcpy(buf, pass, n);
    return (int)n;
}

/* OpenSSL's reason for the last failure, for a message (never secret). */
static const char *ossl_reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, n, "%s", r ? r : "unknown error");
    ERR_clear_error();
    return buf;
}

static int check_p12(const struct https_opts *o, struct h2h_err *err)
{
    char why[160];
    int rc = check_key_file("client PKCS#12 file", o->client_p12, err);
    if (rc)
        return rc;
    PKCS12 *p12 = NULL;
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    BIO *b = BIO_new_file(o->client_p12, "rb");
    if (!b) {
        rc = h2h_err_set(err, H2H_ECONFIG, "https: client PKCS#12 %s: %s",
                         o->client_p12, ossl_reason(why, sizeof(why)));
        goto out;
    }
    p12 = d2i_PKCS12_bio(b, NULL);
    if (!p12) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client PKCS#12 %s: not a PKCS#12 file (%s)",
                         o->client_p12, ossl_reason(why, sizeof(why)));
        goto out;
    }
    if (!PKCS12_parse(p12, o->key_passphrase, &pkey, &cert, &ca)) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client PKCS#12 %s: cannot open it with the "
                         "passphrase given (%s)",
                         o->client_p12, ossl_reason(why, sizeof(why)));
        goto out;
    }
    if (!pkey || !cert) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client PKCS#12 %s holds no %s", o->client_p12,
                         pkey ? "certificate" : "private key");
        goto out;
    }
    if (X509_check_private_key(cert, pkey) != 1) {
        ERR_clear_error();
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client PKCS#12 %s: the key does not match "
                         "the certificate",
                         o->client_p12);
        goto out;
    }
out:
    sk_X509_pop_free(ca, X509_free);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    PKCS12_free(p12);
    BIO_free(b);
    return rc;
}

static int check_pem(const struct https_opts *o, struct h2h_err *err)
{
    char why[160];
    const char *keyf = o->client_key ? o->client_key : o->client_cert;
    X509 *cert = NULL;
    EVP_PKEY *pkey = NULL;
    BIO *b = NULL;
    int rc = check_key_file("client key", keyf, err);
    if (rc)
        return rc;
    b = BIO_new_file(o->client_cert, "r");
    if (!b || !(cert = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client certificate %s: no PEM certificate "
                         "(%s)",
                         o->client_cert, ossl_reason(why, sizeof(why)));
        goto out;
    }
    BIO_free(b);
    b = BIO_new_file(keyf, "r");
    if (!b || !(pkey = PEM_read_bio_PrivateKey(b, NULL, pass_cb,
                                               (void *)o->key_passphrase))) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client key %s: cannot read a PEM private key"
                         "%s (%s)",
                         keyf,
                         o->key_passphrase ? " with the passphrase given"
                                           : " (encrypted without a "
                                             "passphrase?)",
                         ossl_reason(why, sizeof(why)));
        goto out;
    }
    if (X509_check_private_key(cert, pkey) != 1) {
        ERR_clear_error();
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "https: client key %s does not match the "
                         "certificate %s",
                         keyf, o->client_cert);
        goto out;
    }
out:
    EVP_PKEY_free(pkey);
    X509_free(cert);
    BIO_free(b);
    return rc;
}

int https__tls_check_client(const struct https_opts *o, struct h2h_err *err)
{
    if (o->client_p12 && (o->client_cert || o->client_key))
        return h2h_err_set(err, H2H_EINVALID,
                           "https: client_p12 or client_cert/client_key, "
                           "not both");
    if (o->client_key && !o->client_cert)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: client_key needs client_cert");
    if (o->client_p12)
        return check_p12(o, err);
    if (o->client_cert)
        return check_pem(o, err);
    return 0;
}

int https__tls_check_pin(const char *pin, struct h2h_err *err)
{
    if (strncmp(pin, "sha256//", 8) != 0) {
        /* curl also takes a PEM or DER public key file */
        struct stat st;
        if (stat(pin, &st) != 0 || !S_ISREG(st.st_mode))
            return h2h_err_set(err, H2H_EINVALID,
                               "https: pinned_pubkey is neither "
                               "\"sha256//base64\" nor a key file");
        return 0;
    }
    const char *p = pin;
    while (*p) {
        if (strncmp(p, "sha256//", 8) != 0)
            return h2h_err_set(err, H2H_EINVALID,
                               "https: pinned_pubkey: each pin is "
                               "\"sha256//\" and 44 base64 characters, "
                               "separated by ';'");
        p += 8;
        size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                             "wxyz0123456789+/=");
        if (n != 44 || p[43] != '=' || (p[n] && p[n] != ';'))
            return h2h_err_set(err, H2H_EINVALID,
                               "https: pinned_pubkey: each pin is "
                               "\"sha256//\" and 44 base64 characters, "
                               "separated by ';'");
        p += n;
        if (*p == ';')
            p++;
    }
    return 0;
}
