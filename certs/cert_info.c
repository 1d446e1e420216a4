/*
 * cert_info.c - what an operator needs to know about a certificate in
 * use (names, fingerprint, validity, key) and the expiry warning levels.
 * See cert.h.
 */
#include "cert_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

int cert_fingerprint(X509 *x, char *buf, size_t bufsz, struct h2h_err *err)
{
    if (!x || bufsz < CERT_FP_LEN + 1)
        return h2h_err_set(err, H2H_EINVALID, "fingerprint: bad arguments");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32)
        return cert_ossl_fail(err, H2H_EIO, "fingerprint: digest failed");
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < n; i++) {
        buf[3 * i] = hex[md[i] >> 4];
        buf[3 * i + 1] = hex[md[i] & 15];
        buf[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
    return 0;
}

static void key_str(X509 *x, char *buf, size_t bufsz)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    if (!k) {
        snprintf(buf, bufsz, "unknown");
        ERR_clear_error();
        return;
    }
    int id = EVP_PKEY_get_base_id(k);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        snprintf(buf, bufsz, "%s-%d", id == EVP_PKEY_RSA ? "RSA" : "RSA-PSS",
                 EVP_PKEY_get_bits(k));
    } else if (id == EVP_PKEY_EC) {
        char group[64] = "";
        const char *nist = NULL;
        if (EVP_PKEY_get_group_name(k, group, sizeof(group), NULL))
            nist = EC_curve_nid2nist(OBJ_txt2nid(group));
        snprintf(buf, bufsz, "EC-%s", nist ? nist : group[0] ? group : "?");
    } else {
        const char *name = EVP_PKEY_get0_type_name(k);
        snprintf(buf, bufsz, "%s", name ? name : OBJ_nid2sn(id));
    }
}

static long floor_days(time_t from, time_t to)
{
    long long d = (long long)to - (long long)from;
    long long q = d / 86400;
    if (d % 86400 != 0 && d < 0)
        q--;
    return (long)q;
}

int cert_info_get(X509 *x, time_t now, struct cert_info *out,
                  struct h2h_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!x)
        return h2h_err_set(err, H2H_EINVALID, "info: no certificate");
    if (!now)
        now = time(NULL);
    cert_name_str(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    cert_name_str(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));

    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(out->serial, sizeof(out->serial), "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);

    int rc =
        cert_fingerprint(x, out->fingerprint, sizeof(out->fingerprint), err);
    if (rc < 0)
        return rc;
    key_str(x, out->key, sizeof(out->key));
    if (cert_asn1_time(X509_get0_notBefore(x), &out->not_before_t) < 0 ||
        cert_asn1_time(X509_get0_notAfter(x), &out->not_after_t) < 0)
        return h2h_err_set(err, H2H_EPARSE,
                           "certificate %s: unreadable validity period",
                           out->subject);
    cert_time_iso(out->not_before_t, out->not_before, sizeof(out->not_before));
    cert_time_iso(out->not_after_t, out->not_after, sizeof(out->not_after));
    out->days_left = floor_days(now, out->not_after_t);
    ERR_clear_error();
    return 0;
}

enum cert_warn cert_warn_level(time_t not_after, time_t now)
{
    long long left = (long long)not_after - (long long)now;
    if (left < 0)
        return CERT_WARN_EXPIRED;
    if (left < 86400LL)
        return CERT_WARN_1D;
    if (left < 7 * 86400LL)
        return CERT_WARN_7D;
    if (left < 30 * 86400LL)
        return CERT_WARN_30D;
    return CERT_WARN_NONE;
}

enum cert_warn cert_warn_crossed(time_t not_after, time_t prev_check,
                                 time_t now)
{
    enum cert_warn cur = cert_warn_level(not_after, now);
    /* Never checked: any level is news. */
    enum cert_warn prev =
        prev_check ? cert_warn_level(not_after, prev_check) : CERT_WARN_NONE;
    return cur > prev ? cur : CERT_WARN_NONE;
}

const char *cert_warn_name(enum cert_warn w)
{
    switch (w) {
    case CERT_WARN_NONE: return "none";
    case CERT_WARN_30D: return "30 days";
    case CERT_WARN_7D: return "7 days";
    case CERT_WARN_1D: return "1 day";
    case CERT_WARN_EXPIRED: return "expired";
    }
    return "?";
}
