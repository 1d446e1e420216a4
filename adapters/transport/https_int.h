/*
 * https_int.h - shared between the files of the HTTPS transport; not part
 * of the API (see https.h):
 *
 *   https_client.c    the client: curl multi driven by libuv, the FIFO
 *                     queue and concurrency limit, cancel, close
 *   https_req.c       one request: argument checks, the curl easy handle
 *                     and its data callbacks, the result
 *   https_classify.c  a finished request's curl code -> outcome + message
 *   https_tls.c       OpenSSL: client credential checks at start, the
 *                     per-connection hooks that record what the peer
 *                     presented (certificate, alerts)
 *
 * Ownership: the client owns its queued and active requests (struct
 * https_xfer) and frees each right after its callback returned.  A request
 * owns its easy handle, header list, body copy, files and its reference to
 * the TLS record of the connection it opened.
 */
#ifndef H2H_HTTPS_INT_H
#define H2H_HTTPS_INT_H

#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "https.h"

/* Defaults (https.h documents them). */
#define HTTPS_DEF_CONNECT_MS 10000
#define HTTPS_DEF_REQUEST_MS 60000
#define HTTPS_DEF_CONCURRENT 4
#define HTTPS_MAX_CONCURRENT 256
#define HTTPS_DEF_IDLE_S 30
#define HTTPS_DEF_MAX_RESPONSE (64ULL * 1024 * 1024)
#define HTTPS_DEF_USER_AGENT "h2hd"
/* Caps on what a server can make us hold besides the body. */
#define HTTPS_MAX_RESP_HEADERS_BYTES (64 * 1024)
#define HTTPS_MAX_REQ_HEADERS 100
#define HTTPS_MAX_REQ_HEADER_BYTES (64 * 1024)

/*
 * What the TLS layer saw on one connection.  Created when curl sets up a
 * new connection's SSL_CTX (https__tls_ctx_cb) and referenced by that
 * SSL_CTX (ex_data, dropped when OpenSSL frees it) and by the request that
 * opened the connection (dropped when the request is freed): curl may free
 * the SSL_CTX before we read the record, or keep the connection (and a
 * renegotiation may write the record) after the request is gone.  Only the
 * loop thread touches it.
 */
struct https_tlsinfo {
    int refs;
    int have_leaf;
    struct https_peer peer; /* the leaf (depth 0) certificate */
    int verify_err;         /* first X509_V_ERR_* reported, 0 = none */
    int verify_depth;
    char verify_subject[256]; /* the certificate that failed */
    int cert_requested;       /* the server asked for a client certificate */
    int cert_missing;         /* ... and none was configured */
    int alert;                /* last alert received from the server, -1 none */
    char alert_text[64];
};

enum https_xstate { X_QUEUED, X_ACTIVE, X_DONE };

struct https_xfer {
    struct https_xfer *prev, *next; /* in the client's queue or active list */
    struct https_client *c;
    enum https_xstate state;
    CURL *easy;
    struct curl_slist *hdrs; /* must outlive every use of easy */
    unsigned flags;
    https_cb cb;
    void *data;
    char hostport[300]; /* for messages: never the path or query */
    uint64_t t_start;   /* uv_hrtime when it left the queue */

    /* request body: memory copy (body) or file (body_fd) */
    int has_body;
    unsigned char *body;
    int body_fd;
    uint64_t body_size;
    uint64_t body_off;  /* next byte handed to curl */
    uint64_t body_hi;   /* most bytes ever handed to curl */
    int resent;         /* curl rewound the body to send it again */
    int rewind_refused; /* ... and we said no (not idempotent) */
    int read_errno;

    /* response */
    uint64_t max_resp;
    uint64_t resp_total;
    char *resp; /* memory body, NUL-terminated */
    size_t resp_len, resp_cap;
    int resp_fd;
    char *resp_path;
    int too_big;
    int write_errno;
    char *hdr; /* header block of the latest response head */
    size_t hdr_len, hdr_cap;
    int hdr_too_big;
    struct https_header *hv;
    size_t n_hv;

    struct https_tlsinfo *tls; /* of the connection it opened, or NULL */
    int canceled;
    int glue_failed; /* the loop could not watch one of its sockets */
    char errbuf[CURL_ERROR_SIZE];
};

struct https_sock;

struct https_client {
    uv_loop_t *loop;
    CURLM *multi;
    struct https_opts o; /* strings owned; secrets wiped at free */
    uv_timer_t timer;    /* curl's timeout */
    uv_timer_t kick;     /* run process() on the next loop turn */
    int handles;         /* libuv handles not yet closed */
    struct {
        struct https_xfer *head, *tail;
    } queue, active;
    size_t n_queued, n_active;
    struct https_sock *socks; /* sockets being watched */
    int closing;
    int torn; /* multi cleaned up, handles closing */
    int in_dispatch;
    https_close_cb close_cb;
    void *close_data;
    struct https_stats st;
};

/* https_req.c */
int https__xfer_new(struct https_client *c, const struct https_req *rq,
                    https_cb cb, void *data, struct https_xfer **out,
                    struct h2h_err *err);
/* Fill r (pointing into x) for the finished x; rc is curl's result. */
void https__xfer_result(struct https_xfer *x, CURLcode rc,
                        struct https_result *r);
void https__xfer_free(struct https_xfer *x);

/* https_classify.c: outcome, err, sent of a finished x. */
void https__classify(struct https_xfer *x, CURLcode rc, struct https_result *r);

/* https_tls.c */
int https__tls_global_init(struct h2h_err *err);
void https__tls_global_cleanup(void);
/* 1 when libcurl's TLS is OpenSSL, so that the SSL_CTX hook can be used. */
int https__tls_is_openssl(void);
/* Check the client credentials of o at start (see https.h). */
int https__tls_check_client(const struct https_opts *o, struct h2h_err *err);
/* Check a pin string or file. */
int https__tls_check_pin(const char *pin, struct h2h_err *err);
/* CURLOPT_SSL_CTX_FUNCTION; userp is the struct https_xfer. */
CURLcode https__tls_ctx_cb(CURL *easy, void *sslctx, void *userp);
void https__tlsinfo_unref(struct https_tlsinfo *ti);
/* "certificate has expired" etc. */
const char *https__tls_verify_text(int verify_err);

#endif
