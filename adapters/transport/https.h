/*
 * https.h - asynchronous HTTPS client on the libuv loop (libcurl multi).
 *
 * Purpose: let bank dialects talk HTTPS to a bank without ever blocking the
 * loop.  One struct https_client per bank owns one curl multi handle driven
 * by libuv (curl's multi-socket interface: a uv_poll_t per socket curl asks
 * us to watch and one uv_timer_t for curl's timeouts), so keep-alive
 * connections are reused between the client's requests.  The client runs at
 * most max_concurrent requests at a time and queues the rest (FIFO); curl
 * also opens at most that many connections to a host.
 *
 * TLS: version 1.2 or newer; certificate chain and host name verification
 * are always on (there is no option to turn them off).  Trust comes from
 * ca_file / ca_dir, which then replace the system store (so a bank's CA can
 * be pinned that way), or from the system store when neither is given.
 * Optional public-key pinning (pinned_pubkey) on top.  Client certificates
 * for mutual TLS: PEM certificate + key files, or one PKCS#12 file; the
 * key's passphrase is a string the caller read from a file or the
 * environment (never from argv).  Only https:// URLs; redirects are not
 * followed (the status goes back to the caller).
 *
 * Proxy: an explicit HTTP(S) proxy (CONNECT tunnel) with optional
 * credentials and a no_proxy list.  Without one, no proxy is used at all:
 * the http_proxy / https_proxy environment variables are ignored, so the
 * path to a bank is always what the configuration says.
 *
 * Lifecycle (libuv style):
 *   https_global_init() once at start, before other threads exist (h2hd's
 *   main; https_client_new() calls it too, it is idempotent);
 *   https_client_new() -> https_request() any number of times ->
 *   https_client_close(c, cb, data): queued requests end with TEMPFAIL /
 *   H2H_ECANCELED, requests in flight are aborted (see "canceled" below),
 *   connections are closed, then cb(data) runs once and c is freed.  Memory
 *   is released only after every libuv handle's close callback ran, so
 *   uv_loop_close() returns 0 once cb ran.  https_global_cleanup() at exit
 *   (optional; for leak checkers).
 *
 * Contract for https_request (the same as sftp.h):
 *   - returns 0 and calls cb exactly once, later, on the loop thread (never
 *     from inside the call); or returns a negative code with err filled and
 *     never calls cb (bad arguments, unreadable body file, client closing);
 *   - everything in struct https_req is copied (the body too): the caller
 *     may free it on return;
 *   - the struct https_result passed to cb and everything it points to
 *     (body, headers, peer) is valid only during the callback: copy what
 *     you keep.
 *
 * Outcomes (enum h2h_outcome from adapter.h), with res->sent telling how
 * much of the request may have left this host:
 *   OK        a complete HTTP response arrived; res->status is returned as
 *             is (a 500 is OK here: the dialect decides what it means)
 *   TEMPFAIL  nothing was sent (sent == HTTPS_SENT_NONE): connection
 *             refused or reset, DNS failure, connect or TLS handshake
 *             timeout (H2H_ETIMEOUT), TLS handshake failure, proxy failure,
 *             canceled before sending (H2H_ECANCELED); or any failure after
 *             sending of a request flagged HTTPS_IDEMPOTENT
 *   PERMFAIL  will not work as is: the server's certificate chain failed
 *             verification (expired, untrusted issuer, ...), its host name
 *             did not match, or its key is not pinned (H2H_ESECURITY; the
 *             message names the check that failed and the presented
 *             certificate's subject, issuer, validity, SHA-256 fingerprint
 *             and public-key pin); the server refused our client
 *             certificate or wanted one we do not have (H2H_EAUTH; seen in
 *             its TLS alert; a server that just drops the connection after
 *             a TLS 1.3 handshake without the alert reaching us gives a
 *             TEMPFAIL whose message says so); the
 *             proxy refused us (H2H_EAUTH, H2H_ECONFIG); bad local TLS files
 *             (H2H_ECONFIG); a response over max_response of an idempotent
 *             request (H2H_ETOOBIG)
 *   UNKNOWN   the request may have reached the bank and no complete answer
 *             came back: timeout after sending (H2H_ETIMEOUT), connection
 *             dropped or reset (-errno or H2H_EIO), canceled in flight
 *             (H2H_ECANCELED), response too big (H2H_ETOOBIG): ask the bank
 *             before sending again
 *
 * "Not sent" is decided conservatively: a request counts as possibly sent
 * (HTTPS_SENT_PARTIAL) from the moment curl finished connecting (TCP, proxy
 * tunnel, TLS) and was about to write it; HTTPS_SENT_ALL says the request
 * head and the whole body were written to the connection.
 *
 * Resending: curl repeats a request on a fresh connection when a reused
 * keep-alive connection turns out to be closed before any answer byte
 * came back (the classic keep-alive race).  For a request with a body this
 * transport allows that only with HTTPS_IDEMPOTENT (res->resent tells);
 * otherwise the request fails UNKNOWN instead of reaching the bank twice.
 * A body-less request (GET, DELETE, HEAD) may be repeated that way; a
 * dialect that must not risk it sets HTTPS_FRESH_CONNECT.
 *
 * Errors go into struct h2h_err only; this module never logs (it sits below
 * daemon/log.h).  Messages name the host and port, never the path or query
 * (they may carry account numbers), a header value, a body, a passphrase or
 * a proxy password.
 *
 * Secrets (key passphrase, proxy password) are copied and wiped when the
 * client is freed; libcurl keeps its own copies per request, which it
 * frees without wiping.
 *
 * Threads: every function must be called on the loop thread (except
 * https_global_init / _cleanup, see above); every callback runs on it.
 * Local files (request body, response file) are read and written on the
 * loop thread (page-cache I/O, as the SFTP transport does).  The process
 * must ignore SIGPIPE (h2hd does): with CURLOPT_NOSIGNAL curl does not.
 */
#ifndef H2H_HTTPS_H
#define H2H_HTTPS_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "adapter.h"
#include "h2h_err.h"

struct https_client;
struct https_xfer;

/* Client settings.  Strings are copied by https_client_new (secrets are
 * wiped when the client is freed).  A number of 0 takes the default in
 * brackets. */
struct https_opts {
    const char *ca_file; /* PEM bundle of trusted CAs */
    const char *ca_dir;  /* OpenSSL hashed CA folder (c_rehash) */
    /* Client certificate for mutual TLS, optional:
     *   PEM: client_cert (certificate, may include the chain) and
     *        client_key (PEM private key; NULL: the key is in client_cert)
     *   PKCS#12: client_p12 (certificate + key [+ chain])
     * The file holding the private key must not be readable by group or
     * others (H2H_ESECURITY).  The key is loaded at https_client_new, so a
     * wrong passphrase or a key that does not match is refused there. */
    const char *client_cert;
    const char *client_key;
    const char *client_p12;
    const char *key_passphrase; /* secret: the PEM key's or P12's */
    /* "sha256//base64[;sha256//base64...]" (curl's CURLOPT_PINNEDPUBLICKEY
     * form; each hash is over the DER SubjectPublicKeyInfo).  Checked in
     * addition to the chain, never instead of it. */
    const char *pinned_pubkey;
    const char *proxy;           /* "http://host:port" or "https://..." */
    const char *no_proxy;        /* "host1,host2,.domain" (curl's NOPROXY) */
    const char *proxy_user;      /* proxy credentials, optional */
    const char *proxy_password;  /* secret */
    const char *proxy_ca_file;   /* for an https:// proxy; else the system
                                  * store */
    const char *user_agent;      /* ["h2hd"] */
    unsigned connect_timeout_ms; /* DNS + TCP + proxy + TLS [10000] */
    unsigned request_timeout_ms; /* whole request, connect included, once
                                  * it left the queue [60000] */
    unsigned low_speed_time_s;   /* abort when slower than low_speed_limit
                                  * bytes/s for this long [0: off] */
    unsigned low_speed_limit;    /* [1] */
    unsigned max_concurrent;     /* requests at once = connections [4] */
    unsigned idle_timeout_s;     /* reuse connections idle at most this
                                  * long [30] */
    uint64_t max_response;       /* response body cap [64 MiB] */
};

/* https_req.flags */
enum {
    /* Repeating the request is harmless (a status inquiry, a download):
     * failures after sending are TEMPFAIL instead of UNKNOWN, and curl may
     * resend it on a fresh connection (see "Resending"). */
    HTTPS_IDEMPOTENT = 1,
    /* Use a new connection for this request (no keep-alive race). */
    HTTPS_FRESH_CONNECT = 2,
};

/* One request.  Everything is copied by https_request. */
struct https_req {
    const char *method; /* "GET", "POST", "PUT", ... [GET, POST with body] */
    const char *url;    /* https://host[:port]/path?query */
    /* "Name: value" lines, NULL-terminated, or NULL.  No CR/LF inside;
     * "Name:" sends an empty header; Content-Length and Transfer-Encoding
     * are the transport's.  Without a Content-Type a body is sent as
     * application/octet-stream; "Expect: 100-continue" is never sent
     * unless given here. */
    const char *const *headers;
    /* Body, at most one of: body/body_len (memory; body_len 0 with a
     * non-NULL body sends an empty body) or body_file (read while sending;
     * its size is taken at https_request and must not change). */
    const void *body;
    size_t body_len;
    const char *body_file;
    /* Response body to this new file (created O_EXCL, mode 0600, removed
     * again unless the outcome is OK; not fsync'd: durability is the
     * caller's, through fsutil) instead of memory. */
    const char *response_file;
    unsigned timeout_ms;   /* [the client's request_timeout_ms] */
    uint64_t max_response; /* [the client's max_response] */
    unsigned flags;        /* HTTPS_* above */
};

enum https_sent {
    HTTPS_SENT_NONE = 0,    /* nothing left this host: safe to resend */
    HTTPS_SENT_PARTIAL = 1, /* some or all of it may have been sent */
    HTTPS_SENT_ALL = 2,     /* head and whole body were written */
};

struct https_header {
    const char *name;
    const char *value;
};

/* The server's certificate as presented on the connection this request
 * opened (empty strings when it reused a connection or none got that far). */
struct https_peer {
    char subject[256]; /* RFC 2253, e.g. "CN=bank.example,O=Bank,C=DE" */
    char issuer[256];
    char sha256[100];    /* "AB:CD:..." of the DER certificate */
    char pin[64];        /* "sha256//..." of its public key */
    char not_before[24]; /* "2026-01-31T00:00:00Z" */
    char not_after[24];
    char tls_version[16]; /* "TLSv1.3" */
};

struct https_result {
    enum h2h_outcome outcome;
    struct h2h_err err; /* code and message when outcome != OK */
    long status;        /* final HTTP status; 0 when none arrived */
    enum https_sent sent;
    uint64_t body_sent; /* request body bytes written */
    /* The response body: in memory (NUL-terminated for convenience; body
     * is NULL when it went to response_file), and its size either way. */
    const char *body;
    uint64_t body_len;
    /* Headers of the final response, in order, as received. */
    const struct https_header *headers;
    size_t n_headers;
    int new_connection;     /* 1: this request opened a connection; 0: reused */
    int resent;             /* curl repeated the body on a fresh connection */
    unsigned long total_ms; /* from leaving the queue to the end */
    struct https_peer peer;
};

typedef void (*https_cb)(const struct https_result *res, void *data);
typedef void (*https_close_cb)(void *data);

/* Initialise libcurl (curl_global_init) and what this module adds to
 * OpenSSL.  Idempotent; 0, or H2H_EUNSUPPORTED when libcurl has no TLS.
 * (With a TLS back end other than OpenSSL everything works, but messages
 * lack the presented certificate and the server's TLS alerts.)  Call once
 * at start before threads exist. */
int https_global_init(struct h2h_err *err);
/* Release what https_global_init took; after every client is closed. */
void https_global_cleanup(void);

/* Create a client.  0 or H2H_EINVALID (bad option or pin string),
 * H2H_ESECURITY (key file readable by others), H2H_ECONFIG (certificate /
 * key / P12 unreadable, wrong passphrase, key does not match the
 * certificate), H2H_ENOMEM; on error nothing was started and *out is
 * NULL. */
int https_client_new(uv_loop_t *loop, const struct https_opts *opts,
                     struct https_client **out, struct h2h_err *err);

/* Close: see the lifecycle above.  cb may be NULL.  c must not be used
 * after this call (callbacks of its requests still run, once each, before
 * cb); calling it twice is a bug. */
void https_client_close(struct https_client *c, https_close_cb cb, void *data);

/* Start a request (see the contract above).  *out (optional) receives a
 * handle for https_cancel, valid until cb has been called.  Errors:
 * H2H_EINVALID (not an https:// URL, bad method or header, two bodies),
 * -errno (body_file cannot be opened, response_file exists or cannot be
 * created), H2H_ESTATE (the client is closing), H2H_ENOMEM. */
int https_request(struct https_client *c, const struct https_req *rq,
                  https_cb cb, void *data, struct https_xfer **out,
                  struct h2h_err *err);

/* Cancel a request whose callback has not run yet: it runs later with
 * H2H_ECANCELED (TEMPFAIL when nothing was sent, else UNKNOWN, or TEMPFAIL
 * with HTTPS_IDEMPOTENT).  A request whose callback already ran must not be
 * passed here. */
void https_cancel(struct https_xfer *x);

/* The value of the first response header called name (case-insensitive),
 * or NULL. */
const char *https_result_header(const struct https_result *res,
                                const char *name);

struct https_stats {
    size_t active;             /* requests running now */
    size_t queued;             /* requests waiting for a slot */
    size_t peak_active;        /* most requests running at once */
    unsigned long requests;    /* requests started (left the queue) */
    unsigned long completed;   /* callbacks run */
    unsigned long connections; /* connections opened */
};
void https_client_stats(const struct https_client *c, struct https_stats *st);

#endif
