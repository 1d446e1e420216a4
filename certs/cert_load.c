/*
 * cert_load.c - identities (private key + certificate + chain) from PEM or
 * PKCS#12, and certificate lists from PEM or DER.  See cert.h.
 *
 * Secrets (key file bytes, PKCS#12 bytes, the passphrase) live in buffers
 * we own, are handed to OpenSSL through read-only memory BIOs and are
 * wiped before they are freed, on every path.
 */
#include "cert_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

struct cert_identity {
    EVP_PKEY *key;          /* owned */
    X509 *cert;             /* owned: the leaf */
    STACK_OF(X509) * chain; /* owned, with its certificates; never NULL */
};

void cert_identity_free(struct cert_identity *id)
{
    if (!id)
        return;
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
    sk_X509_pop_free(id->chain, X509_free);
    free(id);
}

EVP_PKEY *cert_identity_key(const struct cert_identity *id)
{
    return id->key;
}

X509 *cert_identity_cert(const struct cert_identity *id)
{
    return id->cert;
}

STACK_OF(X509) * cert_identity_chain(const struct cert_identity *id)
{
    return id->chain;
}

void cert_certs_free(STACK_OF(X509) * certs)
{
    sk_X509_pop_free(certs, X509_free);
}

/* ---- certificates ------------------------------------------------- */

/* Append every certificate in buf (PEM blocks, or one DER certificate
 * when there is no PEM at all) to into; the number added, or negative. */
int cert_certs_parse(const unsigned char *buf, size_t len, const char *path,
                     STACK_OF(X509) * into, struct h2h_err *err)
{
    if (len > CERT_FILE_MAX)
        return h2h_err_set(err, H2H_ETOOBIG, "%s is too big", path);
    int n = 0;
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    if (!b)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    X509 *x;
    /* PEM_read_bio_X509 skips blocks of other types (keys, CRLs). */
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(into, x)) {
            X509_free(x);
            BIO_free(b);
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        }
        n++;
    }
    BIO_free(b);
    /* The loop ends on "no start line": expected, not a failure. */
    ERR_clear_error();
    if (n == 0 && !memmem(buf, len, "-----BEGIN", 10)) {
        const unsigned char *p = buf;
        x = d2i_X509(NULL, &p, (long)len);
        if (x && p == buf + len) {
            if (!sk_X509_push(into, x)) {
                X509_free(x);
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            }
            n++;
        } else {
            X509_free(x);
        }
        ERR_clear_error();
    }
    return n;
}

int cert_load_certs(const char *path, STACK_OF(X509) * *out,
                    struct h2h_err *err)
{
    *out = NULL;
    unsigned char *buf;
    size_t len;
    int rc = cert_file_read(path, "certificate file", 0, &buf, &len, err);
    if (rc < 0)
        return rc;
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!sk) {
        free(buf);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    rc = cert_certs_parse(buf, len, path, sk, err);
    free(buf);
    if (rc == 0)
        rc = h2h_err_set(err, H2H_EPARSE,
                         "certificate file %s holds no certificate (PEM or "
                         "DER)",
                         path);
    if (rc < 0) {
        cert_certs_free(sk);
        return rc;
    }
    *out = sk;
    return 0;
}

/* ---- private keys ------------------------------------------------- */

struct pw_ctx {
    const char *pass; /* NULL: none configured */
    size_t len;
    int asked; /* OpenSSL wanted a passphrase: the key is encrypted */
};

static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    struct pw_ctx *c = u;
    c->asked = 1;
    if (!c->pass || c->len > (size_t)size)
        return -1;
    memcpy(buf, c->pass, c->len);
    return (int)c->len;
}

static int key_from_pem(const unsigned char *buf, size_t len, const char *path,
                        const char *pass, size_t pass_len, EVP_PKEY **key,
                        struct h2h_err *err)
{
    struct pw_ctx pc = {pass, pass_len, 0};
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    if (!b)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    *key = PEM_read_bio_PrivateKey_ex(b, NULL, pw_cb, &pc, NULL, NULL);
    BIO_free(b);
    if (*key) {
        ERR_clear_error();
        return 0;
    }
    /* Whether OpenSSL asked for a passphrase tells an encrypted key from
     * a file without a key, whatever error strings this OpenSSL uses. */
    if (pc.asked && pass) {
        ERR_clear_error();
        return h2h_err_set(err, H2H_EAUTH,
                           "key file %s: wrong passphrase (cannot decrypt "
                           "the private key)",
                           path);
    }
    if (pc.asked) {
        ERR_clear_error();
        return h2h_err_set(err, H2H_ECONFIG,
                           "key file %s is encrypted and no passphrase is "
                           "configured (passphrase file or environment "
                           "variable)",
                           path);
    }
    /* OpenSSL 3's decoders only say "unsupported" here: not helpful. */
    ERR_clear_error();
    return h2h_err_set(err, H2H_EPARSE, "key file %s holds no PEM private key",
                       path);
}

/* The certificate of certs whose public key is key's, or NULL. */
static X509 *match_leaf(STACK_OF(X509) * certs, EVP_PKEY *key, int *idx)
{
    X509 *found = NULL;
    for (int i = 0; i < sk_X509_num(certs); i++) {
        EVP_PKEY *pub = X509_get0_pubkey(sk_X509_value(certs, i));
        if (pub && EVP_PKEY_eq(pub, key) == 1) {
            found = sk_X509_value(certs, i);
            *idx = i;
            break;
        }
    }
    /* EVP_PKEY_eq queues errors for keys of other types. */
    ERR_clear_error();
    return found;
}

/* Split certs into the leaf matching key and the chain: fills id. */
static int take_certs(struct cert_identity *id, STACK_OF(X509) * certs,
                      const char *path, struct h2h_err *err)
{
    int idx = -1;
    X509 *leaf = match_leaf(certs, id->key, &idx);
    if (!leaf)
        return h2h_err_set(err, H2H_ECONFIG,
                           "%s: no certificate matches the private key", path);
    id->cert = sk_X509_delete(certs, idx);
    id->chain = certs;
    return 0;
}

static int load_pem(const struct cert_identity_src *src, const char *pass,
                    size_t pass_len, struct cert_identity *id,
                    struct h2h_err *err)
{
    unsigned char *kbuf = NULL, *cbuf = NULL;
    size_t klen = 0, clen = 0;
    STACK_OF(X509) *certs = NULL;
    int rc = cert_file_read(src->key_file, "key file", 1, &kbuf, &klen, err);
    if (rc < 0)
        goto out;
    rc = key_from_pem(kbuf, klen, src->key_file, pass, pass_len, &id->key, err);
    if (rc < 0)
        goto out;
    certs = sk_X509_new_null();
    if (!certs) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    const char *cpath = src->cert_file ? src->cert_file : src->key_file;
    if (src->cert_file) {
        rc = cert_file_read(src->cert_file, "certificate file", 0, &cbuf, &clen,
                            err);
        if (rc < 0)
            goto out;
        rc = cert_certs_parse(cbuf, clen, cpath, certs, err);
    } else {
        rc = cert_certs_parse(kbuf, klen, cpath, certs, err);
    }
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "%s holds no certificate for the private key%s", cpath,
                         src->cert_file ? "" : " (set a certificate file)");
        goto out;
    }
    rc = take_certs(id, certs, cpath, err);
    if (rc == 0)
        certs = NULL; /* now id->chain */
out:
    cert_certs_free(certs);
    cert_secret_free(kbuf, klen);
    free(cbuf);
    return rc;
}

static int load_p12(const struct cert_identity_src *src, const char *pass,
                    size_t pass_len, struct cert_identity *id,
                    struct h2h_err *err)
{
    const char *path = src->p12_file;
    unsigned char *buf = NULL;
    size_t len = 0;
    PKCS12 *p12 = NULL;
    STACK_OF(X509) *ca = NULL;
    int rc = cert_file_read(path, "PKCS#12 file", 1, &buf, &len, err);
    if (rc < 0)
        goto out;
    const unsigned char *p = buf;
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (!p12) {
        rc = cert_ossl_fail(err, H2H_EPARSE, "%s is not a PKCS#12 file", path);
        goto out;
    }
    /* Check the MAC first: it tells a wrong passphrase from a file we
     * cannot decode, which PKCS12_parse mixes up. */
    const char *pw = pass;
    if (PKCS12_mac_present(p12)) {
        if (pass) {
            if (!PKCS12_verify_mac(p12, pass, (int)pass_len)) {
                ERR_clear_error();
                rc = h2h_err_set(err, H2H_EAUTH,
                                 "PKCS#12 file %s: wrong passphrase (MAC "
                                 "verification failed)",
                                 path);
                goto out;
            }
        } else if (PKCS12_verify_mac(p12, NULL, 0)) {
            pw = NULL;
        } else if (PKCS12_verify_mac(p12, "", 0)) {
            pw = "";
        } else {
            ERR_clear_error();
            rc = h2h_err_set(err, H2H_ECONFIG,
                             "PKCS#12 file %s is protected by a passphrase "
                             "and none is configured (passphrase file or "
                             "environment variable)",
                             path);
            goto out;
        }
    }
    if (!PKCS12_parse(p12, pw, &id->key, &id->cert, &ca)) {
        unsigned long e = ERR_peek_last_error();
        int r = ERR_GET_REASON(e);
        if (r == ERR_R_UNSUPPORTED || r == EVP_R_UNSUPPORTED_ALGORITHM)
            rc = cert_ossl_fail(err, H2H_ECONFIG,
                                "PKCS#12 file %s uses an algorithm this "
                                "OpenSSL does not enable (a legacy RC2 / "
                                "3DES file?); re-export it with current "
                                "defaults (AES-256)",
                                path);
        else
            rc = cert_ossl_fail(err, pass ? H2H_EAUTH : H2H_EPARSE,
                                "PKCS#12 file %s cannot be decoded%s", path,
                                pass ? " (wrong passphrase?)" : "");
        goto out;
    }
    ERR_clear_error();
    if (!id->key) {
        rc = h2h_err_set(err, H2H_ECONFIG,
                         "PKCS#12 file %s holds no private key", path);
        goto out;
    }
    if (!ca && !(ca = sk_X509_new_null())) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    if (id->cert) {
        /* PKCS12_parse matched the leaf by localKeyID; make sure. */
        if (EVP_PKEY_eq(X509_get0_pubkey(id->cert), id->key) != 1) {
            ERR_clear_error();
            rc = h2h_err_set(err, H2H_ECONFIG,
                             "PKCS#12 file %s: the certificate does not "
                             "match the private key",
                             path);
            goto out;
        }
        id->chain = ca;
        ca = NULL;
    } else {
        rc = take_certs(id, ca, path, err);
        if (rc == 0)
            ca = NULL;
    }
out:
    cert_certs_free(ca);
    PKCS12_free(p12);
    cert_secret_free(buf, len);
    return rc;
}

int cert_identity_load(const struct cert_identity_src *src,
                       struct cert_identity **out, struct h2h_err *err)
{
    *out = NULL;
    if (!src)
        return h2h_err_set(err, H2H_EINVALID, "identity: no source");
    int has_pem = src->key_file && *src->key_file;
    int has_p12 = src->p12_file && *src->p12_file;
    if (has_pem == has_p12)
        return h2h_err_set(err, H2H_EINVALID,
                           has_pem ? "identity: give a key file or a "
                                     "PKCS#12 file, not both"
                                   : "identity: no key file and no PKCS#12 "
                                     "file");
    if (!has_pem && src->cert_file && *src->cert_file)
        return h2h_err_set(err, H2H_EINVALID,
                           "identity: a certificate file goes with a key "
                           "file, not with a PKCS#12 file");

    char *pass = NULL;
    size_t pass_len = 0;
    int rc = cert_passphrase(src->passphrase_file, src->passphrase_env, &pass,
                             &pass_len, err);
    if (rc < 0)
        return rc;
    struct cert_identity *id = calloc(1, sizeof(*id));
    if (!id) {
        cert_secret_free(pass, pass_len);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    if (has_pem)
        rc = load_pem(src, pass, pass_len, id, err);
    else
        rc = load_p12(src, pass, pass_len, id, err);
    cert_secret_free(pass, pass_len);
    if (rc < 0) {
        cert_identity_free(id);
        return rc;
    }
    *out = id;
    return 0;
}
