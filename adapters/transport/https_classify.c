/*
 * https_classify.c - what a finished request means for the daemon (see the
 * outcome table in https.h): curl's result code, our own reasons to abort
 * (canceled, too big, local I/O), what the TLS hooks saw, and how much of
 * the request may have left this host.
 *
 * The rule of thumb: nothing sent -> TEMPFAIL (try again later is safe);
 * possibly sent -> UNKNOWN (ask the bank first), TEMPFAIL only when the
 * caller said repeating is harmless; anything that will fail the same way
 * until a person changes something (certificates, pins, credentials,
 * local TLS files) -> PERMFAIL with a message that says what to look at.
 */
#include "https_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* TLS alert descriptions (RFC 8446 6.2) this file tells apart. */
enum {
    AL_HANDSHAKE_FAILURE = 40,
    AL_BAD_CERTIFICATE = 42,
    AL_UNSUPPORTED_CERTIFICATE = 43,
    AL_CERTIFICATE_REVOKED = 44,
    AL_CERTIFICATE_EXPIRED = 45,
    AL_CERTIFICATE_UNKNOWN = 46,
    AL_UNKNOWN_CA = 48,
    AL_ACCESS_DENIED = 49,
    AL_PROTOCOL_VERSION = 70,
    AL_INSUFFICIENT_SECURITY = 71,
    AL_CERTIFICATE_REQUIRED = 116,
};

/* The alert the server sent, from the TLS hook of the connection this
 * request opened, else from curl's message: OpenSSL's reason strings
 * ("tlsv13 alert certificate required", ...) are stable since 1.1.1, and a
 * reused connection has no hook record for this request. */
static int server_alert(const struct https_xfer *x, const char **name)
{
    static const struct {
        const char *text;
        int alert;
    } tab[] = {
        {"alert certificate required", AL_CERTIFICATE_REQUIRED},
        {"alert bad certificate", AL_BAD_CERTIFICATE},
        {"alert unsupported certificate", AL_UNSUPPORTED_CERTIFICATE},
        {"alert certificate revoked", AL_CERTIFICATE_REVOKED},
        {"alert certificate expired", AL_CERTIFICATE_EXPIRED},
        {"alert certificate unknown", AL_CERTIFICATE_UNKNOWN},
        {"alert unknown ca", AL_UNKNOWN_CA},
        {"alert access denied", AL_ACCESS_DENIED},
        {"alert handshake failure", AL_HANDSHAKE_FAILURE},
        {"alert protocol version", AL_PROTOCOL_VERSION},
        {"alert insufficient security", AL_INSUFFICIENT_SECURITY},
    };
    if (x->tls && x->tls->alert >= 0) {
        *name = x->tls->alert_text;
        return x->tls->alert;
    }
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strstr(x->errbuf, tab[i].text)) {
            *name = tab[i].text + 6; /* after "alert " */
            return tab[i].alert;
        }
    *name = "";
    return -1;
}

static int client_cert_alert(int a)
{
    switch (a) {
    case AL_BAD_CERTIFICATE:
    case AL_UNSUPPORTED_CERTIFICATE:
    case AL_CERTIFICATE_REVOKED:
    case AL_CERTIFICATE_EXPIRED:
    case AL_CERTIFICATE_UNKNOWN:
    case AL_UNKNOWN_CA:
    case AL_CERTIFICATE_REQUIRED: return 1;
    default: return 0;
    }
}

/* How much of the request may have left.  PRETRANSFER is stamped when
 * curl has a usable connection (TCP, proxy tunnel, TLS done) and is about
 * to write the request: from then on we must assume it went out.  (The
 * request size alone does not tell: it counts a proxy CONNECT too.) */
static enum https_sent sent_state(const struct https_xfer *x, long status,
                                  uint64_t *body_sent)
{
    curl_off_t pre = 0, up = 0;
    long reqsize = 0, nconn = 0;
    curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &reqsize);
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn);
    *body_sent = up > 0 ? (uint64_t)up : 0;
    if (pre <= 0 && up <= 0 && x->body_hi == 0)
        return HTTPS_SENT_NONE;
    /* all of it: the head (a CONNECT on a new proxied connection would
     * count there too, unless an answer proves the request went) and the
     * whole body */
    if (pre > 0 && reqsize > 0 &&
        (!x->has_body || *body_sent >= x->body_size) &&
        (status > 0 || !x->c->o.proxy || nconn == 0))
        return HTTPS_SENT_ALL;
    return HTTPS_SENT_PARTIAL;
}

/* "; presented certificate: ..." or "" */
static const char *peer_text(const struct https_xfer *x, char *buf, size_t n)
{
    const struct https_tlsinfo *ti = x->tls;
    buf[0] = '\0';
    if (ti && ti->have_leaf)
        snprintf(buf, n,
                 "; presented certificate: subject %s; SHA-256 %s; "
                 "issuer %s; valid %s to %s; key %s",
                 ti->peer.subject, ti->peer.sha256, ti->peer.issuer,
                 ti->peer.not_before, ti->peer.not_after, ti->peer.pin);
    return buf;
}

static const char *curl_text(const struct https_xfer *x, CURLcode rc)
{
    return x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
}

static int os_code(const struct https_xfer *x)
{
    long e = 0;
    curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &e);
    return e > 0 ? (int)-e : H2H_EIO;
}

static void set(struct https_result *r, enum h2h_outcome out, int code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set(struct https_result *r, enum h2h_outcome out, int code,
                const char *fmt, ...)
{
    va_list ap;
    r->outcome = out;
    va_start(ap, fmt);
    h2h_err_vset(&r->err, code, fmt, ap);
    va_end(ap);
}

/* TLS verdicts and refusals; 1 when r was set. */
static int classify_tls(struct https_xfer *x, CURLcode rc,
                        struct https_result *r)
{
    const char *hp = x->hostport;
    const struct https_tlsinfo *ti = x->tls;
    char peer[1024];
    const char *aname;
    int a;

    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
        if (ti && ti->verify_err)
            set(r, H2H_OUT_PERMFAIL, H2H_ESECURITY,
                "https %s: TLS certificate chain verification failed: %s "
                "(certificate at depth %d: %s)%s",
                hp, https__tls_verify_text(ti->verify_err), ti->verify_depth,
                ti->verify_subject, peer_text(x, peer, sizeof(peer)));
        else if (strstr(x->errbuf, "host name") || strstr(x->errbuf, "subject"))
            set(r, H2H_OUT_PERMFAIL, H2H_ESECURITY,
                "https %s: TLS host name check failed: %s%s", hp, x->errbuf,
                peer_text(x, peer, sizeof(peer)));
        else
            set(r, H2H_OUT_PERMFAIL, H2H_ESECURITY,
                "https %s: TLS certificate verification failed: %s%s", hp,
                curl_text(x, rc), peer_text(x, peer, sizeof(peer)));
        return 1;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        set(r, H2H_OUT_PERMFAIL, H2H_ESECURITY,
            "https %s: TLS public key pin check failed: the server's key "
            "%s is not pinned%s",
            hp, ti && ti->have_leaf ? ti->peer.pin : "(unknown)",
            peer_text(x, peer, sizeof(peer)));
        return 1;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        set(r, H2H_OUT_PERMFAIL, H2H_ECONFIG,
            "https %s: local TLS settings: %s", hp, curl_text(x, rc));
        return 1;
    default: break;
    }

    a = server_alert(x, &aname);
    int have_cert = x->c->o.client_cert || x->c->o.client_p12;
    /* A server that refuses the client certificate never hands the
     * request to the application (TLS 1.3 reads it only after checking
     * the certificate), so this is a refusal, not an unknown. */
    if (client_cert_alert(a) ||
        (a == AL_HANDSHAKE_FAILURE && ti && ti->cert_missing)) {
        if (!have_cert)
            set(r, H2H_OUT_PERMFAIL, H2H_EAUTH,
                "https %s: the server requires a TLS client certificate "
                "and none is configured (TLS alert: %s)",
                hp, aname);
        else
            set(r, H2H_OUT_PERMFAIL, H2H_EAUTH,
                "https %s: the server refused our TLS client certificate "
                "(TLS alert: %s)",
                hp, aname);
        return 1;
    }
    if (a == AL_ACCESS_DENIED) {
        set(r, H2H_OUT_PERMFAIL, H2H_EAUTH,
            "https %s: the server denied access (TLS alert: %s)", hp, aname);
        return 1;
    }
    /* The alert is not always read: the server may reset the connection
     * (it had unread data from us) before curl gets to it.  If it asked
     * for a certificate we do not have and dropped us before anything was
     * sent, that is the same refusal, and safe to call permanent.  With a
     * certificate it may be a refusal or a crash: say so, but only a
     * temporary failure. */
    int dropped = r->sent == HTTPS_SENT_NONE &&
                  (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
                   rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING);
    if (dropped && ti && ti->cert_missing && !have_cert) {
        set(r, H2H_OUT_PERMFAIL, H2H_EAUTH,
            "https %s: the server requires a TLS client certificate and "
            "none is configured (it asked for one and closed the "
            "connection: %s)",
            hp, curl_text(x, rc));
        return 1;
    }
    if (dropped && ti && ti->cert_requested && have_cert &&
        ti->peer.tls_version[0]) {
        set(r, H2H_OUT_TEMPFAIL, H2H_EIO,
            "https %s: the server closed the connection right after the TLS "
            "handshake, before the request: it may have refused our client "
            "certificate (no TLS alert was read: %s) (nothing was sent)",
            hp, curl_text(x, rc));
        return 1;
    }
    if (a == AL_PROTOCOL_VERSION || a == AL_INSUFFICIENT_SECURITY ||
        (rc == CURLE_SSL_CONNECT_ERROR &&
         strstr(x->errbuf, "unsupported protocol"))) {
        set(r, H2H_OUT_PERMFAIL, H2H_ESECURITY,
            "https %s: no TLS 1.2 or newer with acceptable parameters on "
            "offer (%s)",
            hp, curl_text(x, rc));
        return 1;
    }
    return 0;
}

/* The proxy refused the tunnel; 1 when r was set. */
static int classify_proxy(struct https_xfer *x, CURLcode rc,
                          struct https_result *r)
{
    long cc = 0;
    const char *hp = x->hostport;
    if (rc == CURLE_COULDNT_RESOLVE_PROXY) {
        set(r, H2H_OUT_TEMPFAIL, H2H_EIO, "https %s: proxy: %s", hp,
            curl_text(x, rc));
        return 1;
    }
    if (!x->c->o.proxy ||
        curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE, &cc) !=
            CURLE_OK ||
        cc < 300)
        return 0;
    if (cc == 407)
        set(r, H2H_OUT_PERMFAIL, H2H_EAUTH,
            "https %s: the proxy wants %s credentials (407)", hp,
            x->c->o.proxy_user ? "other" : "proxy");
    else if (cc == 403)
        set(r, H2H_OUT_PERMFAIL, H2H_ECONFIG,
            "https %s: the proxy refuses to connect there (403)", hp);
    else
        set(r, H2H_OUT_TEMPFAIL, H2H_EIO,
            "https %s: the proxy could not open a tunnel (%ld)", hp, cc);
    return 1;
}

void https__classify(struct https_xfer *x, CURLcode rc, struct https_result *r)
{
    const char *hp = x->hostport;
    int idem = (x->flags & HTTPS_IDEMPOTENT) != 0;
    uint64_t body_sent = 0;

    r->sent = sent_state(x, r->status, &body_sent);
    r->body_sent = body_sent;
    int none = r->sent == HTTPS_SENT_NONE;
    /* a failure after sending: unknown unless repeating is harmless */
    enum h2h_outcome fail = none   ? H2H_OUT_TEMPFAIL
                            : idem ? H2H_OUT_TEMPFAIL
                                   : H2H_OUT_UNKNOWN;
    const char *sent_note =
        none   ? " (nothing was sent)"
        : idem ? " (the request may have been sent)"
               : " (the request may have reached the bank: ask it before "
                 "sending again)";

    if (x->canceled) {
        set(r, fail, H2H_ECANCELED, "https %s: canceled%s", hp, sent_note);
        return;
    }
    if (x->glue_failed) {
        set(r, fail, H2H_EIO,
            "https %s: the event loop could not watch the connection%s", hp,
            sent_note);
        return;
    }
    if (rc == CURLE_OK) {
        r->outcome = H2H_OUT_OK;
        h2h_err_clear(&r->err);
        return;
    }
    if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED || x->hdr_too_big) {
        /* the bank answered, we cannot take the answer */
        set(r, idem ? H2H_OUT_PERMFAIL : H2H_OUT_UNKNOWN, H2H_ETOOBIG,
            "https %s: response %s larger than %llu bytes (status %ld)%s", hp,
            x->hdr_too_big ? "headers" : "body",
            x->hdr_too_big ? (unsigned long long)HTTPS_MAX_RESP_HEADERS_BYTES
                           : (unsigned long long)x->max_resp,
            r->status, idem ? "" : sent_note);
        return;
    }
    if (x->write_errno) {
        set(r, fail, -x->write_errno,
            "https %s: cannot store the response: %s%s", hp,
            strerror(x->write_errno), sent_note);
        return;
    }
    if (x->read_errno) {
        set(r, fail, -x->read_errno,
            "https %s: cannot read the request body: %s%s", hp,
            strerror(x->read_errno), sent_note);
        return;
    }
    if (x->rewind_refused) {
        set(r, H2H_OUT_UNKNOWN, H2H_EIO,
            "https %s: the reused connection was closed before an answer "
            "came; a request that is not idempotent is not sent twice "
            "(the bank may have it: ask it before sending again)",
            hp);
        r->sent = HTTPS_SENT_PARTIAL;
        return;
    }
    if (classify_tls(x, rc, r) || classify_proxy(x, rc, r))
        return;

    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        set(r, fail, H2H_ETIMEOUT, "https %s: %s timeout: %s%s", hp,
            none ? "connect" : "request", curl_text(x, rc), sent_note);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
        set(r, H2H_OUT_TEMPFAIL, H2H_EIO, "https %s: %s%s", hp,
            curl_text(x, rc), sent_note);
        return;
    case CURLE_COULDNT_CONNECT:
        set(r, fail, os_code(x), "https %s: cannot connect: %s%s", hp,
            curl_text(x, rc), sent_note);
        return;
    case CURLE_SSL_CONNECT_ERROR:
        set(r, fail, H2H_EIO, "https %s: TLS handshake failed: %s%s", hp,
            curl_text(x, rc), sent_note);
        return;
    case CURLE_GOT_NOTHING:
        set(r, fail, H2H_EIO,
            "https %s: the server closed the connection without an "
            "answer%s",
            hp, sent_note);
        return;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        set(r, H2H_OUT_PERMFAIL, H2H_EINVALID, "https %s: %s", hp,
            curl_text(x, rc));
        return;
    case CURLE_OUT_OF_MEMORY:
        set(r, fail, H2H_ENOMEM, "https %s: out of memory%s", hp, sent_note);
        return;
    default:
        set(r, fail, os_code(x), "https %s: %s%s", hp, curl_text(x, rc),
            sent_note);
        return;
    }
}
