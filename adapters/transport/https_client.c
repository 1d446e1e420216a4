/*
 * https_client.c - the HTTPS client (see https.h): one curl multi handle
 * driven by the libuv loop, the FIFO queue behind the concurrency limit,
 * cancel and close.
 *
 * curl's multi-socket interface tells us which sockets to watch
 * (socket_cb: one uv_poll_t each) and when to wake it up (timer_cb: one
 * uv_timer_t); we tell it what happened with curl_multi_socket_action()
 * and then collect finished transfers.  Those two curl callbacks only
 * change what libuv watches: curl must not be re-entered from them.
 *
 * Caller callbacks run only from process(), which runs only from libuv
 * callbacks (never from inside an API call): API calls change state and
 * start the zero-delay c->kick timer.  A caller callback may start, cancel
 * or close; the client is freed only once process() is no longer on the
 * stack and every libuv handle has been closed.
 */
#include "https_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "h2h_err.h"

/* One socket curl asked us to watch.  Owned by the client (c->socks)
 * until curl says CURL_POLL_REMOVE (or the client is torn down); freed in
 * the poll handle's close callback. */
struct https_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct https_client *c;
    struct https_sock *prev, *next;
};

static void process(struct https_client *c);

static int global_done;

/* ------------------------------------------------------------------ */
/* global                                                              */

int https_global_init(struct h2h_err *err)
{
    if (global_done)
        return 0;
    /* curl_global_init is reference counted and, from 7.84 on, thread-safe;
     * the daemon still calls this first thing in main. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return h2h_err_set(err, H2H_ENOMEM, "https: curl_global_init failed");
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (!v || !(v->features & CURL_VERSION_SSL) || !v->ssl_version) {
        curl_global_cleanup();
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "https: libcurl was built without TLS");
    }
    int rc = https__tls_global_init(err);
    if (rc) {
        curl_global_cleanup();
        return rc;
    }
    global_done = 1;
    return 0;
}

void https_global_cleanup(void)
{
    if (!global_done)
        return;
    https__tls_global_cleanup();
    curl_global_cleanup();
    global_done = 0;
}

/* ------------------------------------------------------------------ */
/* lists                                                               */

#define LIST_APPEND(l, x)                                                      \
    do {                                                                       \
        (x)->next = NULL;                                                      \
        (x)->prev = (l).tail;                                                  \
        if ((l).tail)                                                          \
            (l).tail->next = (x);                                              \
        else                                                                   \
            (l).head = (x);                                                    \
        (l).tail = (x);                                                        \
    } while (0)

#define LIST_REMOVE(l, x)                                                      \
    do {                                                                       \
        if ((x)->prev)                                                         \
            (x)->prev->next = (x)->next;                                       \
        else                                                                   \
            (l).head = (x)->next;                                              \
        if ((x)->next)                                                         \
            (x)->next->prev = (x)->prev;                                       \
        else                                                                   \
            (l).tail = (x)->prev;                                              \
        (x)->prev = (x)->next = NULL;                                          \
    } while (0)

/* ------------------------------------------------------------------ */
/* options                                                             */

static void wipe_free(const char *s)
{
    if (s) {
        OPENSSL_cleanse((char *)s, strlen(s));
        free((char *)s);
    }
}

static void opts_free(struct https_opts *o)
{
    free((char *)o->ca_file);
    free((char *)o->ca_dir);
    free((char *)o->client_cert);
    free((char *)o->client_key);
    free((char *)o->client_p12);
    wipe_free(o->key_passphrase);
    free((char *)o->pinned_pubkey);
    free((char *)o->proxy);
    free((char *)o->no_proxy);
    free((char *)o->proxy_user);
    wipe_free(o->proxy_password);
    free((char *)o->proxy_ca_file);
    free((char *)o->user_agent);
    memset(o, 0, sizeof(*o));
}

static int dup_str(const char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

static int opts_copy(struct https_opts *d, const struct https_opts *s,
                     struct h2h_err *err)
{
    int rc;
    memset(d, 0, sizeof(*d));
    if (!s)
        return h2h_err_set(err, H2H_EINVALID, "https: options needed");
    if (s->max_concurrent > HTTPS_MAX_CONCURRENT)
        return h2h_err_set(err, H2H_EINVALID, "https: max_concurrent above %d",
                           HTTPS_MAX_CONCURRENT);
    if (s->proxy && strncasecmp(s->proxy, "http://", 7) != 0 &&
        strncasecmp(s->proxy, "https://", 8) != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: proxy must be an http:// or https:// URL");
    if (s->proxy && strchr(s->proxy, '@'))
        return h2h_err_set(err, H2H_EINVALID,
                           "https: no credentials in the proxy URL (use "
                           "proxy_user / proxy_password)");
    if (s->proxy_password && !s->proxy_user)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: proxy_password needs proxy_user");
    if (s->user_agent && strpbrk(s->user_agent, "\r\n"))
        return h2h_err_set(err, H2H_EINVALID, "https: bad user_agent");
    if (s->pinned_pubkey && (rc = https__tls_check_pin(s->pinned_pubkey, err)))
        return rc;
    if ((rc = https__tls_check_client(s, err)))
        return rc;

    *d = *s;
    if (dup_str(&d->ca_file, s->ca_file) || dup_str(&d->ca_dir, s->ca_dir) ||
        dup_str(&d->client_cert, s->client_cert) ||
        dup_str(&d->client_key, s->client_key) ||
        dup_str(&d->client_p12, s->client_p12) ||
        dup_str(&d->key_passphrase, s->key_passphrase) ||
        dup_str(&d->pinned_pubkey, s->pinned_pubkey) ||
        dup_str(&d->proxy, s->proxy) || dup_str(&d->no_proxy, s->no_proxy) ||
        dup_str(&d->proxy_user, s->proxy_user) ||
        dup_str(&d->proxy_password, s->proxy_password) ||
        dup_str(&d->proxy_ca_file, s->proxy_ca_file) ||
        dup_str(&d->user_agent,
                s->user_agent ? s->user_agent : HTTPS_DEF_USER_AGENT))
        return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
    if (!d->connect_timeout_ms)
        d->connect_timeout_ms = HTTPS_DEF_CONNECT_MS;
    if (!d->request_timeout_ms)
        d->request_timeout_ms = HTTPS_DEF_REQUEST_MS;
    if (!d->low_speed_limit)
        d->low_speed_limit = 1;
    if (!d->max_concurrent)
        d->max_concurrent = HTTPS_DEF_CONCURRENT;
    if (!d->idle_timeout_s)
        d->idle_timeout_s = HTTPS_DEF_IDLE_S;
    if (!d->max_response)
        d->max_response = HTTPS_DEF_MAX_RESPONSE;
    return 0;
}

/* ------------------------------------------------------------------ */
/* libuv <-> curl                                                      */

static void kick_cb(uv_timer_t *t)
{
    process(t->data);
}

static void kick(struct https_client *c)
{
    if (!c->torn)
        uv_timer_start(&c->kick, kick_cb, 0, 0);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    struct https_sock *k = h->data;
    struct https_client *c = k->c;
    int flags = 0, running = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    /* k may be closed (not freed) by curl's socket_cb inside */
    curl_multi_socket_action(c->multi, k->fd, flags, &running);
    process(c);
}

static void timeout_cb(uv_timer_t *t)
{
    struct https_client *c = t->data;
    int running = 0;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process(c);
}

/* One of c's libuv handles is closed; the last one frees c. */
static void handle_gone(struct https_client *c)
{
    if (--c->handles > 0)
        return;
    https_close_cb cb = c->close_cb;
    void *data = c->close_data;
    opts_free(&c->o);
    free(c);
    if (cb)
        cb(data);
}

static void handle_closed(uv_handle_t *h)
{
    handle_gone(h->data);
}

static void sock_closed(uv_handle_t *h)
{
    struct https_sock *k = h->data;
    struct https_client *c = k->c;
    free(k);
    handle_gone(c);
}

static void sock_close(struct https_client *c, struct https_sock *k)
{
    uv_poll_stop(&k->poll);
    if (k->prev)
        k->prev->next = k->next;
    else
        c->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    /* Closed now, while curl still has the descriptor open: libuv drops
     * it from epoll before curl closes it and the number is reused. */
    uv_close((uv_handle_t *)&k->poll, sock_closed);
}

/* The loop cannot watch a socket: fail the request that owns it (from
 * process(), not here inside curl). */
static void glue_fail(struct https_client *c, CURL *easy)
{
    char *p = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p) == CURLE_OK && p) {
        struct https_xfer *x = (struct https_xfer *)p;
        x->glue_failed = 1;
        kick(c);
    }
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching s. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
    struct https_client *c = userp;
    struct https_sock *k = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (k)
            sock_close(c, k);
        return 0;
    }
    if (c->torn)
        return 0;
    if (!k) {
        k = calloc(1, sizeof(*k));
        if (!k) {
            glue_fail(c, easy);
            return 0;
        }
        if (uv_poll_init_socket(c->loop, &k->poll, s) != 0) {
            free(k);
            glue_fail(c, easy);
            return 0;
        }
        k->fd = s;
        k->c = c;
        k->poll.data = k;
        c->handles++;
        k->next = c->socks;
        if (c->socks)
            c->socks->prev = k;
        c->socks = k;
        curl_multi_assign(c->multi, s, k);
    }
    int ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= UV_WRITABLE;
    if (!ev)
        uv_poll_stop(&k->poll);
    else if (uv_poll_start(&k->poll, ev, poll_cb) != 0)
        glue_fail(c, easy);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants socket_action(TIMEOUT) in ms. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct https_client *c = userp;
    if (c->torn)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else /* 0: on the next loop turn, never from inside curl */
        uv_timer_start(&c->timer, timeout_cb, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* requests                                                            */

/* Hand x's result to its caller and free x. */
static void finish(struct https_client *c, struct https_xfer *x, CURLcode rc)
{
    struct https_result r;
    if (x->state == X_ACTIVE) {
        LIST_REMOVE(c->active, x);
        c->n_active--;
    } else {
        LIST_REMOVE(c->queue, x);
        c->n_queued--;
    }
    x->state = X_DONE;
    https__xfer_result(x, rc, &r);
    long n = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK &&
        n > 0)
        c->st.connections += (unsigned long)n;
    c->st.completed++;
    x->cb(&r, x->data);
    https__xfer_free(x);
}

/* Take x off the multi handle and finish it (canceled or broken). */
static void abort_active(struct https_client *c, struct https_xfer *x)
{
    curl_multi_remove_handle(c->multi, x->easy);
    finish(c, x, CURLE_ABORTED_BY_CALLBACK);
}

static void start(struct https_client *c, struct https_xfer *x)
{
    LIST_REMOVE(c->queue, x);
    c->n_queued--;
    LIST_APPEND(c->active, x);
    c->n_active++;
    x->state = X_ACTIVE;
    x->t_start = uv_hrtime();
    c->st.requests++;
    if (c->n_active > c->st.peak_active)
        c->st.peak_active = c->n_active;
    if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
        x->glue_failed = 1;
        finish(c, x, CURLE_FAILED_INIT);
    }
}

static void teardown(struct https_client *c)
{
    c->torn = 1;
    /* closes the cached connections; curl may still report sockets to
     * stop watching through socket_cb */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks)
        sock_close(c, c->socks);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
    uv_close((uv_handle_t *)&c->kick, handle_closed);
}

/* Collect finished transfers, apply cancels, start queued requests, and
 * tear down a closing client once nothing is left. */
static void process(struct https_client *c)
{
    CURLMsg *m;
    int left;
    struct https_xfer *x, *nx;

    if (c->torn)
        return;
    c->in_dispatch++;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result; /* m dies with remove_handle */
        char *p = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
        x = (struct https_xfer *)p;
        curl_multi_remove_handle(c->multi, e);
        if (x)
            finish(c, x, rc);
    }
    /* A caller callback above may have canceled or closed: everything in
     * these lists is still ours (only finish() frees, and only here). */
    for (x = c->active.head; x; x = nx) {
        nx = x->next;
        if (c->closing)
            x->canceled = 1;
        if (x->canceled || x->glue_failed)
            abort_active(c, x);
    }
    for (x = c->queue.head; x; x = nx) {
        nx = x->next;
        if (c->closing)
            x->canceled = 1;
        if (x->canceled)
            finish(c, x, CURLE_ABORTED_BY_CALLBACK);
    }
    while (!c->closing && c->queue.head && c->n_active < c->o.max_concurrent)
        start(c, c->queue.head);
    c->in_dispatch--;
    if (c->closing && c->in_dispatch == 0 && !c->active.head && !c->queue.head)
        teardown(c);
    else if (c->closing)
        kick(c); /* defensive: something is left, sweep again */
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

int https_client_new(uv_loop_t *loop, const struct https_opts *opts,
                     struct https_client **out, struct h2h_err *err)
{
    struct https_client *c = NULL;
    int rc;
    *out = NULL;
    if ((rc = https_global_init(err)))
        return rc;
    c = calloc(1, sizeof(*c));
    if (!c)
        return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
    c->loop = loop;
    if ((rc = opts_copy(&c->o, opts, err)))
        goto fail;
    c->multi = curl_multi_init();
    if (!c->multi) {
        rc = h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
        goto fail;
    }
    long n = (long)c->o.max_concurrent;
    if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) ||
        /* our queue is the limit; these keep curl's connection cache to
         * the same size (one connection per request in flight) */
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n) ||
        curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n) ||
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, n)) {
        rc = h2h_err_set(err, H2H_EUNSUPPORTED,
                         "https: libcurl refused a multi option");
        goto fail;
    }
    uv_timer_init(loop, &c->timer);
    uv_timer_init(loop, &c->kick);
    c->timer.data = c;
    c->kick.data = c;
    c->handles = 2;
    *out = c;
    return 0;
fail:
    if (c->multi)
        curl_multi_cleanup(c->multi);
    opts_free(&c->o);
    free(c);
    return rc;
}

void https_client_close(struct https_client *c, https_close_cb cb, void *data)
{
    if (c->closing)
        H2H_BUG("https_client_close called twice");
    c->closing = 1;
    c->close_cb = cb;
    c->close_data = data;
    kick(c);
}

int https_request(struct https_client *c, const struct https_req *rq,
                  https_cb cb, void *data, struct https_xfer **out,
                  struct h2h_err *err)
{
    struct https_xfer *x = NULL;
    int rc;
    if (out)
        *out = NULL;
    if (c->closing)
        return h2h_err_set(err, H2H_ESTATE, "https: client is closing");
    if ((rc = https__xfer_new(c, rq, cb, data, &x, err)))
        return rc;
    x->state = X_QUEUED;
    LIST_APPEND(c->queue, x);
    c->n_queued++;
    kick(c);
    if (out)
        *out = x;
    return 0;
}

void https_cancel(struct https_xfer *x)
{
    if (!x || x->state == X_DONE)
        return;
    x->canceled = 1;
    kick(x->c);
}

const char *https_result_header(const struct https_result *res,
                                const char *name)
{
    for (size_t i = 0; res && i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

void https_client_stats(const struct https_client *c, struct https_stats *st)
{
    *st = c->st;
    st->active = c->n_active;
    st->queued = c->n_queued;
}
