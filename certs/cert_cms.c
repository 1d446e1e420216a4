/*
 * cert_cms.c - CMS / PKCS#7 detached signatures over request and response
 * bodies (OpenSSL CMS API).  See cert.h.
 *
 * The body is always treated as binary (CMS_BINARY): without it OpenSSL
 * would canonicalise line ends the S/MIME way and sign or verify other
 * bytes than the bank sees.  Signer certificates are checked by us
 * (cert_peer_accept), not by CMS_verify, so that pinning, purpose and the
 * verification time follow the bank's configuration and the error says
 * why; CMS_verify only checks the signatures themselves.
 */
#include "cert_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

/* ---- sign --------------------------------------------------------- */

static int sign_bio(const struct cert_identity *id, BIO *data, unsigned flags,
                    unsigned char **der, size_t *der_len, struct h2h_err *err)
{
    *der = NULL;
    *der_len = 0;
    EVP_PKEY *key = cert_identity_key(id);
    X509 *cert = cert_identity_cert(id);
    int kt = EVP_PKEY_get_base_id(key);
    if (kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC)
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "cms sign: %s keys are not supported (RSA or EC)",
                           OBJ_nid2sn(kt));
    int rc = 0;
    unsigned char *out = NULL;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL,
                                    CMS_DETACHED | CMS_BINARY | CMS_PARTIAL);
    if (!cms) {
        rc = cert_ossl_fail(err, H2H_EIO, "cms sign: set-up failed");
        goto out;
    }
    /* No S/MIME capabilities attribute: it means nothing to a bank. */
    unsigned sf = CMS_BINARY | CMS_NOSMIMECAP;
    if (flags & CERT_CMS_NOCERTS)
        sf |= CMS_NOCERTS;
    if (flags & CERT_CMS_NOATTR)
        sf |= CMS_NOATTR;
    if (!CMS_add1_signer(cms, cert, key, EVP_sha256(), sf)) {
        rc = cert_ossl_fail(err, H2H_EIO, "cms sign: cannot add the signer");
        goto out;
    }
    if (flags & CERT_CMS_CHAIN) {
        STACK_OF(X509) *chain = cert_identity_chain(id);
        for (int i = 0; i < sk_X509_num(chain); i++)
            if (!CMS_add1_cert(cms, sk_X509_value(chain, i))) {
                rc = cert_ossl_fail(err, H2H_EIO,
                                    "cms sign: cannot add the chain");
                goto out;
            }
    }
    if (!CMS_final(cms, data, NULL, CMS_DETACHED | CMS_BINARY)) {
        rc = cert_ossl_fail(err, H2H_EIO, "cms sign: signing failed");
        goto out;
    }
    int n = i2d_CMS_ContentInfo(cms, NULL);
    if (n <= 0) {
        rc = cert_ossl_fail(err, H2H_EIO, "cms sign: cannot encode");
        goto out;
    }
    out = malloc((size_t)n);
    if (!out) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    unsigned char *p = out;
    if (i2d_CMS_ContentInfo(cms, &p) != n) {
        rc = cert_ossl_fail(err, H2H_EIO, "cms sign: cannot encode");
        goto out;
    }
    *der = out;
    *der_len = (size_t)n;
    out = NULL;
    ERR_clear_error();
out:
    free(out);
    CMS_ContentInfo_free(cms);
    return rc;
}

int cert_cms_sign(const struct cert_identity *id, const void *body, size_t len,
                  unsigned flags, unsigned char **der, size_t *der_len,
                  struct h2h_err *err)
{
    *der = NULL;
    *der_len = 0;
    if (!id || (!body && len))
        return h2h_err_set(err, H2H_EINVALID, "cms sign: bad arguments");
    if (len > INT_MAX)
        return h2h_err_set(err, H2H_ETOOBIG,
                           "cms sign: body too big for memory, sign the file");
    BIO *data = BIO_new_mem_buf(len ? body : "", (int)len);
    if (!data)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = sign_bio(id, data, flags, der, der_len, err);
    BIO_free(data);
    return rc;
}

int cert_cms_sign_file(const struct cert_identity *id, const char *path,
                       unsigned flags, unsigned char **der, size_t *der_len,
                       struct h2h_err *err)
{
    *der = NULL;
    *der_len = 0;
    if (!id || !path)
        return h2h_err_set(err, H2H_EINVALID, "cms sign: bad arguments");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return h2h_err_set(err, -e, "cms sign: %s: %s", path, strerror(e));
    }
    BIO *data = BIO_new_fd(fd, BIO_CLOSE);
    if (!data) {
        close(fd);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    int rc = sign_bio(id, data, flags, der, der_len, err);
    BIO_free(data);
    if (rc < 0)
        h2h_err_prefix(err, "%s", path);
    return rc;
}

int cert_cms_sign_b64(const struct cert_identity *id, const void *body,
                      size_t len, unsigned flags, char **b64,
                      struct h2h_err *err)
{
    *b64 = NULL;
    unsigned char *der;
    size_t dlen;
    int rc = cert_cms_sign(id, body, len, flags, &der, &dlen, err);
    if (rc < 0)
        return rc;
    rc = cert_b64_encode(der, dlen, b64, NULL, err);
    free(der);
    return rc;
}

/* ---- verify ------------------------------------------------------- */

/* 0 when nid is a digest we accept from this peer. */
static int digest_ok(int nid, const struct cert_peer *peer, struct h2h_err *err)
{
    switch (nid) {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
    case NID_sha224:
    case NID_undef: /* signature algorithm without a digest of its own */
        return 0;
    case NID_sha1:
        if (peer->flags & CERT_PEER_ALLOW_SHA1)
            return 0;
        return h2h_err_set(err, H2H_ESECURITY,
                           "cms verify: SHA-1 signature refused (allow it "
                           "for this bank only if it cannot do better)");
    }
    return h2h_err_set(err, H2H_ESECURITY, "cms verify: digest %s refused",
                       OBJ_nid2sn(nid));
}

static int check_algs(CMS_ContentInfo *cms, const struct cert_peer *peer,
                      struct h2h_err *err)
{
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (sk_CMS_SignerInfo_num(sis) <= 0)
        return h2h_err_set(err, H2H_EINVALID, "cms verify: no signer");
    for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
        X509_ALGOR *dig = NULL, *sig = NULL;
        CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, i), NULL, NULL,
                                 &dig, &sig);
        int dnid = dig ? OBJ_obj2nid(dig->algorithm) : NID_undef;
        if (dnid == NID_undef)
            return h2h_err_set(err, H2H_ESECURITY,
                               "cms verify: unknown digest algorithm");
        int rc = digest_ok(dnid, peer, err);
        if (rc < 0)
            return rc;
        /* e.g. sha1WithRSAEncryption names a digest of its own */
        int snid = sig ? OBJ_obj2nid(sig->algorithm) : NID_undef;
        int sdig = NID_undef, spk = NID_undef;
        if (snid != NID_undef && OBJ_find_sigid_algs(snid, &sdig, &spk)) {
            rc = digest_ok(sdig, peer, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Drain the OpenSSL error queue: which of the CMS reasons that we
 * explain were in it, and the reason strings of the others. */
enum { Q_NOTFOUND = 1, Q_MISMATCH = 2 };

static int drain(char *other, size_t osz)
{
    int seen = 0;
    size_t ol = 0;
    unsigned long e;
    other[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        int r = ERR_GET_REASON(e);
        if (ERR_GET_LIB(e) == ERR_LIB_CMS &&
            r == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) {
            seen |= Q_NOTFOUND;
        } else if (ERR_GET_LIB(e) == ERR_LIB_CMS &&
                   (r == CMS_R_VERIFICATION_FAILURE ||
                    r == CMS_R_CONTENT_VERIFY_ERROR ||
                    r == CMS_R_MESSAGEDIGEST_WRONG_LENGTH)) {
            seen |= Q_MISMATCH;
        } else if (ol < osz) {
            const char *rs = ERR_reason_error_string(e);
            int w = snprintf(other + ol, osz - ol, "%s%s", ol ? ", " : "",
                             rs ? rs : "unknown error");
            if (w > 0)
                ol += (size_t)w;
        }
    }
    return seen;
}

int cert_cms_verify(const unsigned char *der, size_t der_len, const void *body,
                    size_t len, const struct cert_peer *peer, X509 **signer,
                    struct h2h_err *err)
{
    if (signer)
        *signer = NULL;
    if (!der || !peer || (!body && len))
        return h2h_err_set(err, H2H_EINVALID, "cms verify: bad arguments");
    int pinned = peer->pinned && sk_X509_num(peer->pinned) > 0;
    if (!pinned && !peer->trust)
        return h2h_err_set(err, H2H_EINVALID,
                           "cms verify: the bank has neither a pinned "
                           "certificate nor a trust store");
    if (der_len > CERT_CMS_SIG_MAX)
        return h2h_err_set(err, H2H_ETOOBIG,
                           "cms verify: signature larger than %u bytes",
                           CERT_CMS_SIG_MAX);
    if (len > INT_MAX)
        return h2h_err_set(err, H2H_ETOOBIG, "cms verify: body too big");

    int rc = 0;
    BIO *dcont = NULL;
    STACK_OF(X509) *inside = NULL, *signers = NULL;
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
    if (!cms || p != der + der_len) {
        rc = cert_ossl_fail(err, H2H_EPARSE,
                            "cms verify: not a DER CMS / PKCS#7 signature");
        goto out;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        rc = h2h_err_set(err, H2H_EPARSE,
                         "cms verify: not a SignedData structure");
        goto out;
    }
    if (CMS_is_detached(cms) != 1) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "cms verify: the signature carries its own content "
                         "(expected a detached signature)");
        goto out;
    }
    rc = check_algs(cms, peer, err);
    if (rc < 0)
        goto out;

    dcont = BIO_new_mem_buf(len ? body : "", (int)len);
    if (!dcont) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    unsigned vf = CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY;
    STACK_OF(X509) *certs = NULL;
    if (pinned) {
        /* Only the pinned certificates can be signers: certificates
         * inside the signature are not even looked at for that. */
        vf |= CMS_NOINTERN;
        certs = peer->pinned;
    }
    if (CMS_verify(cms, certs, NULL, dcont, NULL, vf) != 1) {
        char other[256];
        int seen = drain(other, sizeof(other));
        if (seen & Q_NOTFOUND)
            rc = h2h_err_set(err, H2H_EAUTH,
                             pinned ? "cms verify: not signed by the pinned "
                                      "certificate"
                                    : "cms verify: the signer's certificate "
                                      "is not in the signature");
        else if ((seen & Q_MISMATCH) || !other[0])
            rc = h2h_err_set(err, H2H_EAUTH,
                             "cms verify: the signature does not match the "
                             "body (modified body or another key)");
        else
            rc = h2h_err_set(err, H2H_EAUTH, "cms verify: %s", other);
        goto out;
    }
    signers = CMS_get0_signers(cms);
    inside = CMS_get1_certs(cms);
    if (!signers || sk_X509_num(signers) == 0) {
        rc = h2h_err_set(err, H2H_EINVALID, "cms verify: no signer");
        goto out;
    }
    for (int i = 0; i < sk_X509_num(signers); i++) {
        rc = cert_peer_accept(peer, sk_X509_value(signers, i), inside, err);
        if (rc < 0) {
            h2h_err_prefix(err, "cms verify");
            goto out;
        }
    }
    if (signer) {
        X509 *s = sk_X509_value(signers, 0);
        if (X509_up_ref(s))
            *signer = s;
    }
    ERR_clear_error();
out:
    sk_X509_free(signers); /* CMS_get0_signers: the stack only */
    cert_certs_free(inside);
    BIO_free(dcont);
    CMS_ContentInfo_free(cms);
    return rc;
}

int cert_cms_verify_b64(const char *b64, size_t b64_len, const void *body,
                        size_t len, const struct cert_peer *peer, X509 **signer,
                        struct h2h_err *err)
{
    if (signer)
        *signer = NULL;
    if (!b64)
        return h2h_err_set(err, H2H_EINVALID, "cms verify: no signature");
    if (b64_len > (size_t)CERT_CMS_SIG_MAX * 2)
        return h2h_err_set(err, H2H_ETOOBIG,
                           "cms verify: signature larger than %u bytes",
                           CERT_CMS_SIG_MAX);
    unsigned char *der;
    size_t dlen;
    int rc = cert_b64_decode(b64, b64_len, &der, &dlen, err);
    if (rc < 0) {
        h2h_err_prefix(err, "cms verify");
        return rc;
    }
    rc = cert_cms_verify(der, dlen, body, len, peer, signer, err);
    free(der);
    return rc;
}
