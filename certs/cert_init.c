/*
 * cert_init.c - process-wide set-up of xmlsec1 and the error plumbing
 * shared by certs/ (OpenSSL's per-thread error queue, xmlsec1's error
 * callback).  See cert.h.
 */
#include "cert_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmlsec.h>

#include "formats_init.h"

/* ---- xmlsec1 errors ----------------------------------------------- */

/* xmlsec1 reports errors through one process-wide callback that prints
 * to stderr by default; a module below the log must not print, and the
 * caller wants the reason in its error message.  The callback is global
 * but the capture is per thread, so jobs on the thread pool do not see
 * each other's errors. */
static _Thread_local char xs_err[384];
static _Thread_local int xs_reason;

static void xs_callback(const char *file, int line, const char *func,
                        const char *obj, const char *subj, int reason,
                        const char *msg)
{
    (void)file;
    (void)line;
    (void)obj;
    if (xs_err[0])
        return; /* the first report is the root cause */
    xs_reason = reason;
    if (!subj || strcmp(subj, "unknown") == 0)
        subj = func;
    if (msg && (strcmp(msg, "details=NULL") == 0 || !*msg))
        msg = NULL;
    const char *rmsg = NULL;
    for (xmlSecSize i = 0; i < XMLSEC_ERRORS_MAX_NUMBER; i++) {
        if (xmlSecErrorsGetMsg(i) == NULL)
            break;
        if (xmlSecErrorsGetCode(i) == reason) {
            rmsg = xmlSecErrorsGetMsg(i);
            break;
        }
    }
    snprintf(xs_err, sizeof(xs_err), "%s%s%s%s%s", subj ? subj : "xmlsec",
             rmsg ? ": " : "", rmsg ? rmsg : "", msg ? ": " : "",
             msg ? msg : "");
}

void cert_xmlsec_err_clear(void)
{
    xs_err[0] = '\0';
    xs_reason = 0;
}

int cert_xmlsec_err_reason(void)
{
    return xs_reason;
}

const char *cert_xmlsec_err(void)
{
    return xs_err;
}

/* ---- OpenSSL errors ----------------------------------------------- */

int cert_ossl_fail(struct h2h_err *err, int code, const char *fmt, ...)
{
    char head[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);

    /* Only reason strings: ERR's "data" strings can quote input. */
    char why[384] = "";
    size_t wl = 0;
    int n = 0;
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0) {
        if (n >= 3 || (last && ERR_GET_REASON(e) == ERR_GET_REASON(last)))
            continue;
        const char *r = ERR_reason_error_string(e);
        char tmp[32];
        if (!r) {
            snprintf(tmp, sizeof(tmp), "error %08lx", e);
            r = tmp;
        }
        int w = snprintf(why + wl, sizeof(why) - wl, "%s%s", n ? ", " : "", r);
        if (w < 0 || (size_t)w >= sizeof(why) - wl)
            break;
        wl += (size_t)w;
        last = e;
        n++;
    }
    ERR_clear_error();
    if (n)
        return h2h_err_set(err, code, "%s: %s", head, why);
    return h2h_err_set(err, code, "%s", head);
}

/* ---- init / shutdown ---------------------------------------------- */

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static int init_refs;

int cert_initialised(void)
{
    pthread_mutex_lock(&init_mu);
    int r = init_refs;
    pthread_mutex_unlock(&init_mu);
    return r;
}

int cert_init(struct h2h_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&init_mu);
    if (init_refs > 0) {
        init_refs++;
        goto out;
    }
    /* libxml2 first, the hardened way: the external entity loader that
     * refuses everything stays in force under xmlsec1 too. */
    formats_init();
    xmlSecErrorsSetCallback(xs_callback);
    cert_xmlsec_err_clear();
    if (xmlSecInit() < 0) {
        rc = h2h_err_set(err, H2H_EIO, "xmlsec1 initialisation failed: %s",
                         cert_xmlsec_err());
        goto out;
    }
    xmlSecErrorsSetCallback(xs_callback);
    if (xmlSecCheckVersion() != 1) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "the xmlsec1 library loaded is not compatible with "
                         "the %s h2hd was built with",
                         XMLSEC_VERSION);
        xmlSecShutdown();
        goto out;
    }
    if (xmlSecCryptoAppInit(NULL) < 0) {
        rc = cert_ossl_fail(err, H2H_EIO,
                            "xmlsec1 OpenSSL initialisation failed: %s",
                            cert_xmlsec_err());
        xmlSecShutdown();
        goto out;
    }
    if (xmlSecCryptoInit() < 0) {
        rc = cert_ossl_fail(err, H2H_EIO,
                            "xmlsec1 crypto initialisation failed: %s",
                            cert_xmlsec_err());
        xmlSecCryptoAppShutdown();
        xmlSecShutdown();
        goto out;
    }
    /* Last: xmlSecOpenSSLInit() installs a callback of its own. */
    xmlSecErrorsSetCallback(xs_callback);
    init_refs = 1;
out:
    pthread_mutex_unlock(&init_mu);
    return rc;
}

void cert_shutdown(void)
{
    pthread_mutex_lock(&init_mu);
    if (init_refs > 0 && --init_refs == 0) {
        xmlSecCryptoShutdown();
        xmlSecCryptoAppShutdown();
        xmlSecShutdown();
        /* libxml2 itself belongs to the formats layer and stays up. */
    }
    pthread_mutex_unlock(&init_mu);
}
