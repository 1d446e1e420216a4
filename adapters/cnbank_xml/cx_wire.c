/*
 * cx_wire.c - framing: one request out, one answer back, classified.
 *
 *   http  POST to the bank's url through the shared HTTPS transport
 *         (https.h): mutual TLS, keep-alive, its own FIFO and concurrency
 *         limit.  Only a 200 is an answer: any other status came after
 *         the body may have reached the bank, so it is UNKNOWN (the
 *         caller asks by inquiry), never a refusal.
 *   tcp   plain TCP on loopback, one request per connection: a fixed
 *         width of ASCII digits giving the byte count, then the bytes;
 *         the answer comes back framed the same way.  A FIFO of
 *         exchanges, at most max_concurrent connections open at a time.
 *
 * A tcp exchange (struct xch) owns a timer (from cx_wire_send on) and a
 * socket (from the moment it leaves the queue).  Whatever ends it - the
 * answer, an error, a timeout, close - records the result and closes both
 * handles; the caller's callback runs from the last close callback, so it
 * is always later than any call of ours, the slot is free again by then,
 * and the memory goes only after libuv is done with every handle.
 *
 * "Sent" is decided conservatively: the first write on a fresh socket is
 * tried at once (uv_try_write), so a connection reset before it took any
 * byte is known to be TEMPFAIL; from the moment any byte may have reached
 * the kernel every failure is UNKNOWN.
 *
 * Never logs: results carry struct h2h_err.  Messages name host:port,
 * never a body or a header value (they may carry account numbers or
 * signatures).
 */
#include "cx_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "https.h"

/* PROFILE.md, Framing: the front end refuses a length over 1 MiB, so an
 * answer claiming more is garbage rather than a big answer. */
#define CX_FRAME_MAX (1024u * 1024u)
/* Defaults for settings left at 0, as the HTTPS transport has them. */
#define CX_CONNECT_TIMEOUT_DEF_S 10u
#define CX_REQUEST_TIMEOUT_DEF_S 60u
#define CX_MAX_CONCURRENT_DEF 4

struct xch;

struct xlist {
    struct xch *head, *tail;
};

struct cx_wire {
    uv_loop_t *loop;
    const struct cx_profile *p;
    const struct cx_settings *s;
    char where[300]; /* "127.0.0.1:8082", for messages */

    /* http */
    struct https_client *hc;
    int hc_closed;

    /* tcp */
    struct sockaddr_storage addr;
    unsigned connect_ms, request_ms;
    int max_running;
    struct xlist queue;   /* waiting for a slot, FIFO */
    struct xlist running; /* holding a slot until their handles closed */
    int n_running;

    /* Both: exchanges whose callback has not run yet. */
    int n_live;
    int closing;
    /* Never started; closing it is what makes close's callback later than
     * cx_wire_close even when nothing is in flight. */
    uv_timer_t defer;
    int defer_closed;
    void (*close_cb)(void *data);
    void *close_data;
};

/* ---- the end of a wire --------------------------------------------------- */

static void wire_maybe_freed(struct cx_wire *w)
{
    if (!w->closing || !w->defer_closed || !w->hc_closed || w->n_live > 0)
        return;
    void (*cb)(void *) = w->close_cb;
    void *data = w->close_data;
    free(w);
    if (cb)
        cb(data);
}

static void defer_closed_cb(uv_handle_t *h)
{
    struct cx_wire *w = h->data;
    w->defer_closed = 1;
    wire_maybe_freed(w);
}

static void hc_closed_cb(void *data)
{
    struct cx_wire *w = data;
    w->hc_closed = 1;
    w->hc = NULL;
    wire_maybe_freed(w);
}

/* ---- http ---------------------------------------------------------------- */

struct hreq {
    struct cx_wire *w;
    cx_wire_cb cb;
    void *data;
};

/* The one value of header name; NULL when absent or given twice (which
 * of two signatures would be the bank's?  Neither: no answer). */
static const char *only_header(const struct https_result *res, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0) {
            if (v)
                return NULL;
            v = res->headers[i].value;
        }
    return v;
}

static void http_done_cb(const struct https_result *res, void *data)
{
    struct hreq *h = data;
    struct cx_wire *w = h->w;
    const struct cx_profile *p = w->p;
    struct cx_wire_result r;
    memset(&r, 0, sizeof(r));
    r.outcome = res->outcome;
    if (res->outcome != H2H_OUT_OK) {
        /* The transport's classes are ours: TEMPFAIL nothing sent,
         * PERMFAIL TLS policy or local files, UNKNOWN may have arrived. */
        r.err = res->err;
    } else if (res->status != 200) {
        r.outcome = H2H_OUT_UNKNOWN;
        h2h_err_set(&r.err, H2H_EPROTO,
                    "https %s: HTTP status %ld instead of 200 after the "
                    "request was sent (the bank may have processed it)",
                    w->where, res->status);
    } else {
        r.body = res->body ? res->body : "";
        r.len = (size_t)res->body_len;
        if (p->resp_sig_where == CX_SIG_HEADER && p->resp_sig_header)
            r.sig_header_value = only_header(res, p->resp_sig_header);
    }
    h->cb(&r, h->data);
    free(h);
    w->n_live--;
    wire_maybe_freed(w);
}

static int http_send(struct cx_wire *w, const struct cx_request *rq,
                     cx_wire_cb cb, void *data, struct h2h_err *err)
{
    const struct cx_profile *p = w->p;
    char *ct = NULL, *sig = NULL;
    const char *hdrs[3];
    size_t nh = 0;
    struct hreq *h = NULL;
    int rc;

    if (p->sig_where == CX_SIG_HEADER && !rq->sig_header_value) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "https %s: the profile signs requests in header %s "
                         "but the request has no signature",
                         w->where, p->sig_header);
        goto out;
    }
    if (asprintf(&ct, "Content-Type: %s", p->content_type) < 0) {
        ct = NULL;
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    hdrs[nh++] = ct;
    if (p->sig_where == CX_SIG_HEADER) {
        if (asprintf(&sig, "%s: %s", p->sig_header, rq->sig_header_value) < 0) {
            sig = NULL;
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            goto out;
        }
        hdrs[nh++] = sig;
    }
    hdrs[nh] = NULL;
    h = calloc(1, sizeof(*h));
    if (!h) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    h->w = w;
    h->cb = cb;
    h->data = data;
    /* Not HTTPS_IDEMPOTENT: a payment must never be repeated by the
     * transport; whatever fails after sending is UNKNOWN for the caller's
     * inquiry to settle. */
    struct https_req hr = {
        .method = "POST",
        .url = w->s->url,
        .headers = hdrs,
        .body = rq->body ? rq->body : "",
        .body_len = rq->len,
    };
    rc = https_request(w->hc, &hr, http_done_cb, h, NULL, err);
    if (rc < 0)
        goto out;
    h = NULL;
    w->n_live++;
out:
    free(h);
    /* The signature is not secret (it goes out in clear inside TLS), but
     * it is released with the header line that carried it. */
    free(sig);
    free(ct);
    return rc;
}

/* "host:port" of an https:// url, for messages (never the path: it may
 * carry an account). */
static void url_where(const char *url, char *buf, size_t n)
{
    const char *a = strstr(url, "://");
    a = a ? a + 3 : url;
    size_t len = strcspn(a, "/?#");
    const char *at = memchr(a, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    /* the port's colon comes after an IPv6 literal's closing bracket */
    const char *rb = memchr(a, ']', len);
    const char *from = rb ? rb : a;
    int has_port = memchr(from, ':', len - (size_t)(from - a)) != NULL;
    snprintf(buf, n, "%.*s%s", (int)len, a, has_port ? "" : ":443");
}

/* ---- tcp: one exchange --------------------------------------------------- */

enum xstate { XS_QUEUED = 0, XS_CONNECTING, XS_EXCHANGING };

struct xch {
    struct xch *prev, *next;
    struct xlist *list; /* queue, running or NULL */
    struct cx_wire *w;
    cx_wire_cb cb;
    void *data;
    enum xstate state;
    int done;
    int wrote;  /* a byte of the request may have reached the kernel */
    int closes; /* handle closes outstanding */
    int tcp_open;

    char *out; /* prefix and body */
    size_t out_len;

    char prefix[11];
    size_t prefix_got;
    char *in; /* the answer, NUL-terminated for convenience */
    size_t in_len, in_got;

    uv_timer_t timer;
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct cx_wire_result res;
};

static void xlist_push(struct xlist *l, struct xch *x)
{
    x->prev = l->tail;
    x->next = NULL;
    if (l->tail)
        l->tail->next = x;
    else
        l->head = x;
    l->tail = x;
    x->list = l;
}

static void xlist_del(struct xch *x)
{
    struct xlist *l = x->list;
    if (!l)
        return;
    if (x->prev)
        x->prev->next = x->next;
    else
        l->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        l->tail = x->prev;
    x->prev = x->next = NULL;
    x->list = NULL;
}

static void xch_free(struct xch *x)
{
    free(x->out);
    free(x->in);
    free(x);
}

static void wire_pump(struct cx_wire *w);

static void xch_closed_cb(uv_handle_t *h)
{
    struct xch *x = h->data;
    if (--x->closes > 0)
        return;
    struct cx_wire *w = x->w;
    if (x->list == &w->running)
        w->n_running--;
    xlist_del(x);
    if (x->res.outcome == H2H_OUT_OK) {
        x->res.body = x->in;
        x->res.len = x->in_len;
    }
    x->cb(&x->res, x->data);
    xch_free(x);
    w->n_live--;
    wire_pump(w);
    wire_maybe_freed(w);
}

/* Record how x ended (the first call wins) and close its handles; the
 * callback follows from xch_closed_cb. */
static void xch_end(struct xch *x, enum h2h_outcome o, int code,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void xch_end(struct xch *x, enum h2h_outcome o, int code,
                    const char *fmt, ...)
{
    if (x->done)
        return;
    x->done = 1;
    x->res.outcome = o;
    if (o == H2H_OUT_OK) {
        h2h_err_clear(&x->res.err);
    } else {
        char msg[H2H_ERR_MSG_MAX - 320];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        h2h_err_set(&x->res.err, code, "tcp %s: %s", x->w->where, msg);
    }
    uv_timer_stop(&x->timer);
    x->closes++;
    uv_close((uv_handle_t *)&x->timer, xch_closed_cb);
    if (x->tcp_open) {
        /* A pending connect or write ends with UV_ECANCELED before this
         * close callback; their callbacks see x->done and do nothing. */
        x->closes++;
        uv_close((uv_handle_t *)&x->tcp, xch_closed_cb);
    }
}

static void xch_timeout_cb(uv_timer_t *t)
{
    struct xch *x = t->data;
    struct cx_wire *w = x->w;
    if (x->state == XS_CONNECTING)
        xch_end(x, H2H_OUT_TEMPFAIL, H2H_ETIMEOUT,
                "no connection within %u ms (nothing sent)", w->connect_ms);
    else
        xch_end(x, H2H_OUT_UNKNOWN, H2H_ETIMEOUT,
                "no complete answer within %u ms of sending (the bank may "
                "have the request)",
                w->request_ms);
}

static void xch_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct xch *x = h->data;
    (void)suggested;
    /* Exactly what is still missing: the prefix first, then the body, so
     * nothing after the answer is ever read. */
    if (!x->in)
        *buf = uv_buf_init(x->prefix + x->prefix_got,
                           (unsigned)(x->w->p->length_digits - x->prefix_got));
    else
        *buf =
            uv_buf_init(x->in + x->in_got, (unsigned)(x->in_len - x->in_got));
}

static void xch_prefix_done(struct xch *x)
{
    size_t digits = (size_t)x->w->p->length_digits;
    unsigned long long n = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned char c = (unsigned char)x->prefix[i];
        if (c < '0' || c > '9') {
            xch_end(x, H2H_OUT_UNKNOWN, H2H_EPROTO,
                    "the answer's length prefix is not %zu decimal digits",
                    digits);
            return;
        }
        n = n * 10 + (unsigned)(c - '0');
    }
    if (n == 0 || n > CX_FRAME_MAX) {
        xch_end(x, H2H_OUT_UNKNOWN, H2H_EPROTO,
                "the answer's length prefix says %llu bytes (1..%u allowed)", n,
                CX_FRAME_MAX);
        return;
    }
    x->in = malloc((size_t)n + 1);
    if (!x->in) {
        xch_end(x, H2H_OUT_UNKNOWN, H2H_ENOMEM,
                "out of memory for a %llu-byte answer", n);
        return;
    }
    x->in_len = (size_t)n;
}

static void xch_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct xch *x = s->data;
    (void)buf;
    if (x->done || nread == 0)
        return;
    if (nread == UV_EOF) {
        if (!x->in)
            xch_end(x, H2H_OUT_UNKNOWN, H2H_EIO,
                    "connection closed by the peer without an answer (%zu "
                    "prefix bytes; the bank may have the request)",
                    x->prefix_got);
        else
            xch_end(x, H2H_OUT_UNKNOWN, H2H_EIO,
                    "connection closed after %zu of %zu answer bytes (the "
                    "bank may have the request)",
                    x->in_got, x->in_len);
        return;
    }
    if (nread < 0) {
        xch_end(x, H2H_OUT_UNKNOWN, (int)nread,
                "receive: %s (the bank may have the request)",
                uv_strerror((int)nread));
        return;
    }
    if (!x->in) {
        x->prefix_got += (size_t)nread;
        if (x->prefix_got == (size_t)x->w->p->length_digits)
            xch_prefix_done(x);
        return;
    }
    x->in_got += (size_t)nread;
    if (x->in_got == x->in_len) {
        x->in[x->in_len] = '\0';
        xch_end(x, H2H_OUT_OK, 0, "%s", "");
    }
}

static void xch_write_cb(uv_write_t *req, int status)
{
    struct xch *x = req->data;
    if (x->done || status == 0)
        return;
    xch_end(x, H2H_OUT_UNKNOWN, status,
            "send: %s (part of the request may have been sent)",
            uv_strerror(status));
}

static void xch_send(struct xch *x)
{
    struct cx_wire *w = x->w;
    uv_stream_t *st = (uv_stream_t *)&x->tcp;
    uv_buf_t b = uv_buf_init(x->out, (unsigned)x->out_len);
    /* Tried at once on the fresh socket, so that a reset before any byte
     * was taken is known as such (TEMPFAIL) rather than guessed. */
    int n = uv_try_write(st, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        xch_end(x, H2H_OUT_TEMPFAIL, n, "send: %s (nothing sent)",
                uv_strerror(n));
        return;
    }
    x->wrote = 1;
    x->state = XS_EXCHANGING;
    uv_timer_stop(&x->timer);
    uv_timer_start(&x->timer, xch_timeout_cb, w->request_ms, 0);
    if (n < 0)
        n = 0;
    int rc;
    if ((size_t)n < x->out_len) {
        b = uv_buf_init(x->out + n, (unsigned)(x->out_len - (size_t)n));
        x->wreq.data = x;
        rc = uv_write(&x->wreq, st, &b, 1, xch_write_cb);
        if (rc < 0) {
            xch_end(x, H2H_OUT_UNKNOWN, rc,
                    "send: %s (part of the request may have been sent)",
                    uv_strerror(rc));
            return;
        }
    }
    rc = uv_read_start(st, xch_alloc_cb, xch_read_cb);
    if (rc < 0)
        xch_end(x, H2H_OUT_UNKNOWN, rc,
                "receive: %s (the bank may have the request)", uv_strerror(rc));
}

static void xch_connect_cb(uv_connect_t *req, int status)
{
    struct xch *x = req->data;
    if (x->done)
        return;
    if (status < 0) {
        xch_end(x, H2H_OUT_TEMPFAIL, status, "connect: %s (nothing sent)",
                uv_strerror(status));
        return;
    }
    /* Small messages, one each way: no reason to wait for Nagle. */
    (void)uv_tcp_nodelay(&x->tcp, 1);
    xch_send(x);
}

static void xch_start(struct xch *x)
{
    struct cx_wire *w = x->w;
    xlist_push(&w->running, x);
    w->n_running++;
    x->state = XS_CONNECTING;
    int rc = uv_tcp_init(w->loop, &x->tcp);
    if (rc < 0) {
        xch_end(x, H2H_OUT_TEMPFAIL, rc, "socket: %s (nothing sent)",
                uv_strerror(rc));
        return;
    }
    x->tcp_open = 1;
    x->tcp.data = x;
    x->creq.data = x;
    uv_timer_start(&x->timer, xch_timeout_cb, w->connect_ms, 0);
    rc = uv_tcp_connect(&x->creq, &x->tcp, (const struct sockaddr *)&w->addr,
                        xch_connect_cb);
    if (rc < 0)
        xch_end(x, H2H_OUT_TEMPFAIL, rc, "connect: %s (nothing sent)",
                uv_strerror(rc));
}

static void wire_pump(struct cx_wire *w)
{
    while (!w->closing && w->n_running < w->max_running && w->queue.head) {
        struct xch *x = w->queue.head;
        xlist_del(x);
        xch_start(x);
    }
}

static int tcp_send(struct cx_wire *w, const struct cx_request *rq,
                    cx_wire_cb cb, void *data, struct h2h_err *err)
{
    size_t digits = (size_t)w->p->length_digits;
    unsigned long long cap = 1;
    for (size_t i = 0; i < digits; i++)
        cap *= 10;
    if (rq->len == 0 || !rq->body)
        return h2h_err_set(err, H2H_EINVALID, "tcp %s: empty request",
                           w->where);
    if (rq->len > CX_FRAME_MAX || rq->len >= cap)
        return h2h_err_set(err, H2H_ETOOBIG,
                           "tcp %s: request of %zu bytes over the frame "
                           "limit (%u bytes, %zu length digits)",
                           w->where, rq->len, CX_FRAME_MAX, digits);
    struct xch *x = calloc(1, sizeof(*x));
    if (!x)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    x->out = malloc(digits + rq->len + 1);
    if (!x->out) {
        free(x);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    snprintf(x->out, digits + 1, "%0*zu", (int)digits, rq->len);
    memcpy(x->out + digits, rq->body, rq->len);
    x->out_len = digits + rq->len;
    x->w = w;
    x->cb = cb;
    x->data = data;
    (void)uv_timer_init(w->loop, &x->timer); /* cannot fail */
    x->timer.data = x;
    w->n_live++;
    xlist_push(&w->queue, x);
    wire_pump(w);
    return 0;
}

/* ---- the wire ------------------------------------------------------------ */

static int tcp_addr(struct cx_wire *w, struct h2h_err *err)
{
    const char *host = w->s->host;
    int port = w->s->port;
    if (!host || port < 1 || port > 65535)
        return h2h_err_set(err, H2H_ECONFIG,
                           "framing tcp needs host and port (1..65535)");
    /* No name lookup: the front end is on loopback, and the config layer
     * only lets through addresses it checked as such. */
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    struct sockaddr_in *a4 = (struct sockaddr_in *)&w->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&w->addr;
    if (uv_ip4_addr(host, port, a4) == 0)
        snprintf(w->where, sizeof(w->where), "%s:%d", host, port);
    else if (uv_ip6_addr(host, port, a6) == 0)
        snprintf(w->where, sizeof(w->where), "[%s]:%d", host, port);
    else
        return h2h_err_set(err, H2H_ECONFIG,
                           "framing tcp: host %s is not an IP address", host);
    return 0;
}

int cx_wire_new(uv_loop_t *loop, const struct cx_profile *p,
                const struct cx_settings *s, struct cx_wire **out,
                struct h2h_err *err)
{
    struct cx_wire *w = NULL;
    int rc;
    *out = NULL;
    if (!loop || !p || !s) {
        rc = h2h_err_set(err, H2H_EINVALID, "cx_wire_new: missing argument");
        goto out;
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    w->loop = loop;
    w->p = p;
    w->s = s;
    w->max_running =
        s->max_concurrent > 0 ? s->max_concurrent : CX_MAX_CONCURRENT_DEF;
    w->connect_ms = (s->connect_timeout_s ? s->connect_timeout_s
                                          : CX_CONNECT_TIMEOUT_DEF_S) *
                    1000u;
    w->request_ms = (s->request_timeout_s ? s->request_timeout_s
                                          : CX_REQUEST_TIMEOUT_DEF_S) *
                    1000u;
    if (p->framing == CX_FRAMING_HTTP) {
        if (!s->url || !p->content_type) {
            rc = h2h_err_set(err, H2H_ECONFIG,
                             "framing http needs url and http.content_type");
            goto out;
        }
        if (p->sig_where == CX_SIG_HEADER && !p->sig_header) {
            rc = h2h_err_set(err, H2H_ECONFIG,
                             "signature.where http-header needs "
                             "signature.header");
            goto out;
        }
        url_where(s->url, w->where, sizeof(w->where));
        rc = aset_https_client(loop, &s->tls, s->connect_timeout_s,
                               s->request_timeout_s, (unsigned)w->max_running,
                               &w->hc, err);
        if (rc < 0)
            goto out;
    } else {
        if (p->length_digits < 1 || p->length_digits > 10) {
            rc = h2h_err_set(err, H2H_ECONFIG,
                             "framing tcp: length.digits %d out of range",
                             p->length_digits);
            goto out;
        }
        if ((rc = tcp_addr(w, err)) < 0)
            goto out;
        w->hc_closed = 1; /* there is none to wait for */
    }
    (void)uv_timer_init(loop, &w->defer); /* cannot fail */
    w->defer.data = w;
    *out = w;
    w = NULL;
    rc = 0;
out:
    free(w); /* only reached with w set before any handle or client */
    return rc;
}

int cx_wire_send(struct cx_wire *w, const struct cx_request *rq, cx_wire_cb cb,
                 void *data, struct h2h_err *err)
{
    if (!w || !rq || !cb || (!rq->body && rq->len))
        return h2h_err_set(err, H2H_EINVALID, "cx_wire_send: bad argument");
    if (w->closing)
        return h2h_err_set(err, H2H_ESTATE, "%s %s: closing",
                           w->p->framing == CX_FRAMING_HTTP ? "https" : "tcp",
                           w->where);
    if (w->p->framing == CX_FRAMING_HTTP)
        return http_send(w, rq, cb, data, err);
    return tcp_send(w, rq, cb, data, err);
}

void cx_wire_close(struct cx_wire *w, void (*cb)(void *data), void *data)
{
    if (!w)
        return;
    if (w->closing)
        H2H_BUG("cx_wire_close called twice");
    w->closing = 1;
    w->close_cb = cb;
    w->close_data = data;
    /* Queued ones never had a socket: nothing can have been sent. */
    while (w->queue.head) {
        struct xch *x = w->queue.head;
        xlist_del(x);
        xch_end(x, H2H_OUT_TEMPFAIL, H2H_ECANCELED,
                "canceled before sending (closing)");
    }
    for (struct xch *x = w->running.head; x; x = x->next) {
        if (x->wrote)
            xch_end(x, H2H_OUT_UNKNOWN, H2H_ECANCELED,
                    "canceled while waiting for the answer (closing; the "
                    "bank may have the request)");
        else
            xch_end(x, H2H_OUT_TEMPFAIL, H2H_ECANCELED,
                    "canceled before sending (closing)");
    }
    if (w->hc)
        https_client_close(w->hc, hc_closed_cb, w);
    uv_close((uv_handle_t *)&w->defer, defer_closed_cb);
}
