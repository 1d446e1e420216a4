/*
 * cert_trust.c - per-bank trust stores, chain verification with a reason
 * an operator can act on, and the signer policy of a peer (pinned and/or
 * chained).  See cert.h.
 */
#include "cert_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#define TRUST_DIR_MAX_FILES 4096

struct cert_trust {
    X509_STORE *store;      /* owned */
    STACK_OF(X509) * certs; /* owned: what the store was filled with */
};

void cert_trust_free(struct cert_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    cert_certs_free(t->certs);
    free(t);
}

X509_STORE *cert_trust_store(const struct cert_trust *t)
{
    return t->store;
}

STACK_OF(X509) * cert_trust_certs(const struct cert_trust *t)
{
    return t->certs;
}

static int add_file(struct cert_trust *t, const char *path, struct h2h_err *err)
{
    unsigned char *buf;
    size_t len;
    int rc = cert_file_read(path, "CA file", 0, &buf, &len, err);
    if (rc < 0)
        return rc;
    int before = sk_X509_num(t->certs);
    rc = cert_certs_parse(buf, len, path, t->certs, err);
    free(buf);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return h2h_err_set(err, H2H_ECONFIG, "CA file %s holds no certificate",
                           path);
    for (int i = before; i < sk_X509_num(t->certs); i++) {
        /* The store takes its own reference; duplicates are ignored. */
        if (!X509_STORE_add_cert(t->store, sk_X509_value(t->certs, i)))
            return cert_ossl_fail(err, H2H_EIO,
                                  "CA file %s: cannot add a certificate", path);
    }
    return 0;
}

static int ca_name(const struct dirent *d)
{
    const char *n = d->d_name;
    if (n[0] == '.')
        return 0;
    const char *dot = strrchr(n, '.');
    return dot &&
           (strcasecmp(dot, ".pem") == 0 || strcasecmp(dot, ".crt") == 0 ||
            strcasecmp(dot, ".cer") == 0);
}

static int add_dir(struct cert_trust *t, const char *dir, struct h2h_err *err)
{
    struct dirent **names = NULL;
    /* Name order: the same folder always gives the same store. */
    int n = scandir(dir, &names, ca_name, alphasort);
    if (n < 0) {
        int e = errno;
        return h2h_err_set(err, -e, "CA folder %s: %s", dir, strerror(e));
    }
    int rc = 0;
    if (n > TRUST_DIR_MAX_FILES) {
        rc = h2h_err_set(err, H2H_ETOOBIG,
                         "CA folder %s holds more than %d certificate files",
                         dir, TRUST_DIR_MAX_FILES);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (w < 0 || (size_t)w >= sizeof(path)) {
            rc = h2h_err_set(err, H2H_EINVALID, "CA folder %s: name too long",
                             dir);
            goto out;
        }
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            continue;
        rc = add_file(t, path, err);
        if (rc < 0)
            goto out;
    }
out:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int cert_trust_load(const char *path, unsigned flags, struct cert_trust **out,
                    struct h2h_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return h2h_err_set(err, H2H_EINVALID, "trust store: no path");
    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        return h2h_err_set(err, -e, "trust store %s: %s", path, strerror(e));
    }
    int rc = 0;
    struct cert_trust *t = calloc(1, sizeof(*t));
    if (!t || !(t->store = X509_STORE_new()) ||
        !(t->certs = sk_X509_new_null())) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (flags & CERT_TRUST_PARTIAL_CHAIN)
        X509_STORE_set_flags(t->store, X509_V_FLAG_PARTIAL_CHAIN);
    if (S_ISDIR(st.st_mode))
        rc = add_dir(t, path, err);
    else
        rc = add_file(t, path, err);
    if (rc < 0)
        goto out;
    if (sk_X509_num(t->certs) == 0) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "trust store %s holds no certificate (*.pem, *.crt, "
                         "*.cer)",
                         path);
        goto out;
    }
    *out = t;
    t = NULL;
out:
    cert_trust_free(t);
    return rc;
}

/* Why verification failed, in words that say what to do about it. */
static void explain(int e, X509 *cur, char *buf, size_t bufsz)
{
    char name[256] = "?", ts[24];
    time_t tt;
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        if (cur && cert_asn1_time(X509_get0_notAfter(cur), &tt) == 0) {
            cert_time_iso(tt, ts, sizeof(ts));
            snprintf(buf, bufsz, "certificate has expired (not after %s)", ts);
            return;
        }
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        if (cur && cert_asn1_time(X509_get0_notBefore(cur), &tt) == 0) {
            cert_time_iso(tt, ts, sizeof(ts));
            snprintf(buf, bufsz, "certificate is not yet valid (not before %s)",
                     ts);
            return;
        }
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        if (cur)
            cert_name_str(X509_get_issuer_name(cur), name, sizeof(name));
        snprintf(buf, bufsz,
                 "issuer %s is not in the trust store (untrusted CA)", name);
        return;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        if (cur)
            cert_subject_str(cur, name, sizeof(name));
        snprintf(buf, bufsz,
                 "self-signed certificate %s is not in the trust store "
                 "(untrusted)",
                 name);
        return;
    case X509_V_ERR_INVALID_PURPOSE:
        snprintf(buf, bufsz,
                 "unsuitable purpose (key usage or extended key usage)");
        return;
    }
    snprintf(buf, bufsz, "%s", X509_verify_cert_error_string(e));
}

int cert_trust_verify(const struct cert_trust *t, X509 *cert,
                      STACK_OF(X509) * untrusted, int purpose, time_t at,
                      struct h2h_err *err)
{
    if (!t || !cert)
        return h2h_err_set(err, H2H_EINVALID,
                           "verify: no trust store or no certificate");
    int rc = 0;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!ctx)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (!X509_STORE_CTX_init(ctx, t->store, cert, untrusted)) {
        rc = cert_ossl_fail(err, H2H_EIO, "verify: cannot set up");
        goto out;
    }
    if (purpose && !X509_STORE_CTX_set_purpose(ctx, purpose)) {
        rc = cert_ossl_fail(err, H2H_EINVALID, "verify: unknown purpose %d",
                            purpose);
        goto out;
    }
    if (at)
        X509_STORE_CTX_set_time(ctx, 0, at);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
        char subj[256], why[384], at_s[300] = "";
        cert_subject_str(cert, subj, sizeof(subj));
        explain(e, cur, why, sizeof(why));
        if (depth > 0 && cur) {
            char cs[256];
            cert_subject_str(cur, cs, sizeof(cs));
            snprintf(at_s, sizeof(at_s), " (at %s, depth %d)", cs, depth);
        }
        ERR_clear_error();
        rc = h2h_err_set(err, H2H_EAUTH, "certificate %s not trusted: %s%s",
                         subj, why, at_s);
        goto out;
    }
    ERR_clear_error();
out:
    X509_STORE_CTX_free(ctx);
    return rc;
}

int cert_peer_accept(const struct cert_peer *peer, X509 *signer,
                     STACK_OF(X509) * untrusted, struct h2h_err *err)
{
    if (!peer || !signer)
        return h2h_err_set(err, H2H_EINVALID, "no peer or no signer");
    int pinned = peer->pinned && sk_X509_num(peer->pinned) > 0;
    if (!pinned && !peer->trust)
        return h2h_err_set(err, H2H_EINVALID,
                           "peer has neither a pinned certificate nor a "
                           "trust store");
    if (pinned) {
        if (!cert_is_pinned(peer->pinned, signer)) {
            char subj[256], fp[CERT_FP_LEN + 1] = "?";
            cert_subject_str(signer, subj, sizeof(subj));
            cert_fingerprint(signer, fp, sizeof(fp), NULL);
            return h2h_err_set(err, H2H_EAUTH,
                               "signer %s (sha256 %s) is not the pinned "
                               "certificate",
                               subj, fp);
        }
        int rc = cert_validity_check(signer, peer->at, err);
        if (rc < 0) {
            h2h_err_prefix(err, "pinned signer");
            return rc;
        }
    }
    if (peer->trust)
        return cert_trust_verify(peer->trust, signer, untrusted, peer->purpose,
                                 peer->at, err);
    return 0;
}
