/*
 * cert_util.c - small conversions shared by certs/: times, names,
 * validity, pin matching.  See cert_int.h.
 */
#include "cert_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>

int cert_asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return H2H_EPARSE;
    /* ASN1_TIME_to_tm yields UTC; timegm (not mktime) keeps it so. */
    *out = timegm(&tm);
    return 0;
}

void cert_time_iso(time_t t, char *buf, size_t bufsz)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, bufsz, "?");
}

void cert_name_str(const X509_NAME *name, char *buf, size_t bufsz)
{
    if (bufsz == 0)
        return;
    buf[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    /* RFC 2253 order and escaping, but UTF-8 left as is: CFCA subjects
     * are often Chinese and should stay readable in the log. */
    unsigned long fl = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
    if (X509_NAME_print_ex(b, name, 0, fl) >= 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n > 0) {
            size_t m = (size_t)n < bufsz - 1 ? (size_t)n : bufsz - 1;
            memcpy(buf, p, m);
            buf[m] = '\0';
        }
    }
    BIO_free(b);
}

void cert_subject_str(X509 *x, char *buf, size_t bufsz)
{
    cert_name_str(X509_get_subject_name(x), buf, bufsz);
}

int cert_validity_check(X509 *x, time_t at, struct h2h_err *err)
{
    time_t now = at ? at : time(NULL);
    time_t nb, na;
    char subj[256], ts[24];
    cert_subject_str(x, subj, sizeof(subj));
    if (cert_asn1_time(X509_get0_notBefore(x), &nb) < 0 ||
        cert_asn1_time(X509_get0_notAfter(x), &na) < 0)
        return h2h_err_set(err, H2H_EAUTH,
                           "certificate %s has an unreadable validity period",
                           subj);
    if (now < nb) {
        cert_time_iso(nb, ts, sizeof(ts));
        return h2h_err_set(err, H2H_EAUTH,
                           "certificate %s is not yet valid (not before %s)",
                           subj, ts);
    }
    if (now > na) {
        cert_time_iso(na, ts, sizeof(ts));
        return h2h_err_set(err, H2H_EAUTH,
                           "certificate %s has expired (not after %s)", subj,
                           ts);
    }
    return 0;
}

int cert_is_pinned(STACK_OF(X509) * pinned, X509 *x)
{
    for (int i = 0; pinned && i < sk_X509_num(pinned); i++)
        if (X509_cmp(sk_X509_value(pinned, i), x) == 0)
            return 1;
    return 0;
}
