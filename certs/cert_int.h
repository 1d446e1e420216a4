/*
 * cert_int.h - helpers shared by the files of certs/; not part of the API
 * (cert.h is).  Same error and ownership rules as cert.h.
 */
#ifndef H2H_CERT_INT_H
#define H2H_CERT_INT_H

#include <stddef.h>
#include <time.h>

#include <libxml/xmlerror.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "cert.h"
#include "h2h_err.h"

#define CERT_FILE_MAX (1u << 20) /* key, certificate, PKCS#12 file */
#define CERT_SECRET_MAX 1024     /* passphrase */

/* Fill err with the formatted message followed by ": " and the reasons
 * OpenSSL queued on this thread (never data strings, so never a secret),
 * then clear the queue.  Returns code. */
int cert_ossl_fail(struct h2h_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Read a whole file (at most CERT_FILE_MAX bytes) into a malloc'd buffer
 * with a NUL after the data.  secret: the file holds a secret, so it must
 * be a regular file with no group / other permission (checked on the
 * opened descriptor), and the caller releases the buffer with
 * cert_secret_free.  what names the file in messages ("key file").
 */
int cert_file_read(const char *path, const char *what, int secret,
                   unsigned char **buf, size_t *len, struct h2h_err *err);
/* Wipe and free a buffer that held a secret; NULL ok. */
void cert_secret_free(void *buf, size_t len);

/* The passphrase from file or env (at most one non-NULL): *pass is NULL
 * when neither is configured, else a malloc'd NUL-terminated string the
 * caller releases with cert_secret_free(*pass, *len). */
int cert_passphrase(const char *file, const char *env, char **pass, size_t *len,
                    struct h2h_err *err);

/* Append every certificate in buf (PEM blocks; or one DER certificate
 * when there is no PEM at all) to into: the number added, or negative.
 * path names the source in messages. */
int cert_certs_parse(const unsigned char *buf, size_t len, const char *path,
                     STACK_OF(X509) * into, struct h2h_err *err);

/* ASN1_TIME -> time_t (UTC).  0 or H2H_EPARSE. */
int cert_asn1_time(const ASN1_TIME *t, time_t *out);
/* "2026-11-28T14:02:11Z" into buf (at least 21 bytes). */
void cert_time_iso(time_t t, char *buf, size_t bufsz);
/* RFC 2253 with UTF-8 kept, cut to bufsz. */
void cert_name_str(const X509_NAME *name, char *buf, size_t bufsz);
/* Short description "CN=...,O=..." of x's subject for messages. */
void cert_subject_str(X509 *x, char *buf, size_t bufsz);

/* Is x within its validity period at `at` (0: now)?  0 or H2H_EAUTH. */
int cert_validity_check(X509 *x, time_t at, struct h2h_err *err);

/* Is x one of pinned (byte-equal)? */
int cert_is_pinned(STACK_OF(X509) * pinned, X509 *x);

/* xmlsec1 error capture (per thread): clear before an xmlsec1 call, read
 * after it; "" when xmlsec1 reported nothing. */
void cert_xmlsec_err_clear(void);
const char *cert_xmlsec_err(void);
/* The XMLSEC_ERRORS_R_* code of that first report, 0 when none. */
int cert_xmlsec_err_reason(void);

/* Keep libxml2 from printing on this thread between begin and end, and
 * keep its first error (message and line) for our own messages. */
struct cert_xml_quiet {
    char msg[256];
    int line;
    xmlStructuredErrorFunc old_s;
    void *old_sctx;
    xmlGenericErrorFunc old_g;
    void *old_gctx;
};
void cert_xml_quiet_begin(struct cert_xml_quiet *q);
void cert_xml_quiet_end(struct cert_xml_quiet *q);

/* Number of successful cert_init() not yet shut down (0: not ready). */
int cert_initialised(void);

#endif
