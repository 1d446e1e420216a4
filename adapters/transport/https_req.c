/*
 * https_req.c - one request of the HTTPS transport (see https_int.h): the
 * argument checks, the curl easy handle with its options and data
 * callbacks, and the result handed to the caller.
 *
 * Bodies always go through CURLOPT_READFUNCTION (never POSTFIELDS) so that
 * curl must ask us (CURLOPT_SEEKFUNCTION) before it sends a body a second
 * time: that is where a silent resend of a payment is refused.
 */
#include "https_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* argument checks                                                     */

static int is_tchar(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* "Name:" at the start of h, case-insensitive. */
static int header_is(const char *h, const char *name)
{
    size_t l = strlen(name);
    return strncasecmp(h, name, l) == 0 && h[l] == ':';
}

/* Header i: "Name: value", a token name, no CR/LF; names curl computes
 * itself are refused.  Messages name the header, never its value. */
static int check_header(const char *h, int i, struct h2h_err *err)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: header %d is not \"Name: value\"", i + 1);
    for (const char *p = h; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return h2h_err_set(err, H2H_EINVALID,
                               "https: header %d has a bad name", i + 1);
    if (strpbrk(colon, "\r\n"))
        return h2h_err_set(err, H2H_EINVALID,
                           "https: header %.*s: CR or LF in the value",
                           (int)(colon - h), h);
    if (header_is(h, "Content-Length") || header_is(h, "Transfer-Encoding"))
        return h2h_err_set(err, H2H_EINVALID,
                           "https: header %.*s is set by the transport",
                           (int)(colon - h), h);
    return 0;
}

static int check_method(const char *m, struct h2h_err *err)
{
    size_t n = strlen(m);
    if (n == 0 || n > 16 || strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != n)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: bad method (upper-case letters only)");
    return 0;
}

/* https:// only, no credentials in the URL; host:port for messages. */
static int check_url(const char *url, char *hostport, size_t n,
                     struct h2h_err *err)
{
    char *host = NULL, *port = NULL, *user = NULL;
    int rc = 0;
    if (!url || strncasecmp(url, "https://", 8) != 0)
        return h2h_err_set(err, H2H_EINVALID, "https: not an https:// URL");
    CURLU *u = curl_url();
    if (!u)
        return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = h2h_err_set(err, H2H_EINVALID, "https: malformed URL (%s)",
                         curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rc = h2h_err_set(err, H2H_EINVALID,
                         "https: credentials in the URL are not allowed "
                         "(send them in a header)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK) {
        rc = h2h_err_set(err, H2H_EINVALID, "https: URL without a host");
        goto out;
    }
    snprintf(hostport, n, "%s:%s", host, port);
out:
    curl_free(user);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* ------------------------------------------------------------------ */
/* curl callbacks                                                      */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct https_xfer *x = ud;
    size_t n = size * nmemb;
    if (x->resp_total + n > x->max_resp) {
        x->too_big = 1;
        return 0; /* anything but n aborts the transfer */
    }
    if (x->resp_fd >= 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(x->resp_fd, ptr + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                x->write_errno = errno;
                return 0;
            }
            off += (size_t)w;
        }
    } else if (n) {
        if (x->resp_len + n + 1 > x->resp_cap) {
            size_t cap = x->resp_cap ? x->resp_cap : 16384;
            while (cap < x->resp_len + n + 1)
                cap *= 2;
            char *p = realloc(x->resp, cap);
            if (!p) {
                x->write_errno = ENOMEM;
                return 0;
            }
            x->resp = p;
            x->resp_cap = cap;
        }
        memcpy(x->resp + x->resp_len, ptr, n);
        x->resp_len += n;
        x->resp[x->resp_len] = '\0';
    }
    x->resp_total += n;
    return n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    struct https_xfer *x = ud;
    size_t n = size * nitems;
    /* a new status line starts a new head (after a 1xx, or on a second
     * attempt): only the final response's headers are kept */
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0)
        x->hdr_len = 0;
    if (x->hdr_len + n + 1 > HTTPS_MAX_RESP_HEADERS_BYTES) {
        x->hdr_too_big = 1;
        return 0;
    }
    if (x->hdr_len + n + 1 > x->hdr_cap) {
        size_t cap = x->hdr_cap ? x->hdr_cap : 2048;
        while (cap < x->hdr_len + n + 1)
            cap *= 2;
        char *p = realloc(x->hdr, cap);
        if (!p) {
            x->write_errno = ENOMEM;
            return 0;
        }
        x->hdr = p;
        x->hdr_cap = cap;
    }
    memcpy(x->hdr + x->hdr_len, buf, n);
    x->hdr_len += n;
    x->hdr[x->hdr_len] = '\0';
    return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    struct https_xfer *x = ud;
    size_t want = size * nitems;
    uint64_t left = x->body_size - x->body_off;
    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (x->body_fd >= 0) {
        ssize_t r;
        do
            r = pread(x->body_fd, buf, want, (off_t)x->body_off);
        while (r < 0 && errno == EINTR);
        if (r <= 0) {
            /* r == 0: the file shrank after https_request took its size */
            x->read_errno = r < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)r;
    } else {
        memcpy(buf, x->body + x->body_off, want);
    }
    x->body_off += want;
    if (x->body_off > x->body_hi)
        x->body_hi = x->body_off;
    return want;
}

/* curl rewinds the body when it must send it again: after a reused
 * connection turned out dead (the keep-alive race), or for a multi-pass
 * authentication.  The first one may mean a second copy of a payment at
 * the bank, so only idempotent requests may do it. */
static int seek_cb(void *ud, curl_off_t offset, int origin)
{
    struct https_xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->body_size)
        return CURL_SEEKFUNC_CANTSEEK;
    if ((uint64_t)offset < x->body_hi) {
        if (!(x->flags & HTTPS_IDEMPOTENT)) {
            x->rewind_refused = 1;
            return CURL_SEEKFUNC_FAIL;
        }
        x->resent = 1;
    }
    x->body_off = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* curl's sockets must not leak into children (tests, hooks) */
static curl_socket_t open_cb(void *ud, curlsocktype purpose,
                             struct curl_sockaddr *a)
{
    (void)ud;
    (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ------------------------------------------------------------------ */
/* building the request                                                */

static int add_header(struct https_xfer *x, const char *h)
{
    struct curl_slist *l = curl_slist_append(x->hdrs, h);
    if (!l)
        return -1;
    x->hdrs = l;
    return 0;
}

#define SETOPT(opt, val)                                                       \
    do {                                                                       \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK) {                       \
            rc = h2h_err_set(err, H2H_EUNSUPPORTED,                            \
                             "https: libcurl refused option %s", #opt);        \
            goto out;                                                          \
        }                                                                      \
    } while (0)

/* Every option of x's easy handle from the client's settings and rq. */
static int setup_easy(struct https_xfer *x, const struct https_req *rq,
                      const char *method, struct h2h_err *err)
{
    const struct https_opts *o = &x->c->o;
    int rc = 0;
    CURL *e = x->easy;

    SETOPT(CURLOPT_URL, rq->url);
    SETOPT(CURLOPT_PRIVATE, (void *)x);
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_PROTOCOLS_STR, "https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);

    /* TLS: 1.2 or newer, chain and host name always verified */
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file || o->ca_dir) {
        /* Set both: a configured trust store replaces the built-in default
         * bundle and folder entirely, or it would not pin anything. */
        SETOPT(CURLOPT_CAINFO, o->ca_file);
        SETOPT(CURLOPT_CAPATH, o->ca_dir);
    }
    if (o->client_p12) {
        SETOPT(CURLOPT_SSLCERT, o->client_p12);
        SETOPT(CURLOPT_SSLCERTTYPE, "P12");
    } else if (o->client_cert) {
        SETOPT(CURLOPT_SSLCERT, o->client_cert);
        SETOPT(CURLOPT_SSLCERTTYPE, "PEM");
        SETOPT(CURLOPT_SSLKEY, o->client_key ? o->client_key : o->client_cert);
        SETOPT(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (o->key_passphrase && (o->client_p12 || o->client_cert))
        SETOPT(CURLOPT_KEYPASSWD, o->key_passphrase);
    if (o->pinned_pubkey)
        SETOPT(CURLOPT_PINNEDPUBLICKEY, o->pinned_pubkey);
    if (https__tls_is_openssl()) {
        SETOPT(CURLOPT_SSL_CTX_FUNCTION, https__tls_ctx_cb);
        SETOPT(CURLOPT_SSL_CTX_DATA, (void *)x);
    }

    /* proxy: the configured one or none (never the environment's) */
    SETOPT(CURLOPT_PROXY, o->proxy ? o->proxy : "");
    if (o->proxy) {
        SETOPT(CURLOPT_HTTPPROXYTUNNEL, 1L);
        SETOPT(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
        if (o->no_proxy)
            SETOPT(CURLOPT_NOPROXY, o->no_proxy);
        if (o->proxy_user) {
            SETOPT(CURLOPT_PROXYUSERNAME, o->proxy_user);
            SETOPT(CURLOPT_PROXYPASSWORD,
                   o->proxy_password ? o->proxy_password : "");
            SETOPT(CURLOPT_PROXYAUTH, (long)CURLAUTH_ANY);
        }
        SETOPT(CURLOPT_PROXY_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        SETOPT(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
        SETOPT(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
        if (o->proxy_ca_file)
            SETOPT(CURLOPT_PROXY_CAINFO, o->proxy_ca_file);
    }

    /* time limits and connections */
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SETOPT(CURLOPT_TIMEOUT_MS,
           (long)(rq->timeout_ms ? rq->timeout_ms : o->request_timeout_ms));
    if (o->low_speed_time_s) {
        SETOPT(CURLOPT_LOW_SPEED_TIME, (long)o->low_speed_time_s);
        SETOPT(CURLOPT_LOW_SPEED_LIMIT, (long)o->low_speed_limit);
    }
    SETOPT(CURLOPT_MAXAGE_CONN, (long)o->idle_timeout_s);
    if (rq->flags & HTTPS_FRESH_CONNECT)
        SETOPT(CURLOPT_FRESH_CONNECT, 1L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_TCP_KEEPIDLE, 30L);
    SETOPT(CURLOPT_TCP_KEEPINTVL, 10L);
    SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_cb);

    /* the request */
    SETOPT(CURLOPT_USERAGENT, o->user_agent);
    if (strcmp(method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (x->has_body) {
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_size);
        SETOPT(CURLOPT_READFUNCTION, read_cb);
        SETOPT(CURLOPT_READDATA, (void *)x);
        SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
        SETOPT(CURLOPT_SEEKDATA, (void *)x);
        if (strcmp(method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
    } else {
        SETOPT(CURLOPT_HTTPGET, 1L);
        if (strcmp(method, "GET") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, method);
    }
    SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_resp);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, (void *)x);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, (void *)x);
out:
    return rc;
}

static int build_headers(struct https_xfer *x, const struct https_req *rq,
                         struct h2h_err *err)
{
    int have_ct = 0, have_expect = 0, rc;
    size_t total = 0;
    int n = 0;
    for (const char *const *h = rq->headers; h && *h; h++, n++) {
        if (n >= HTTPS_MAX_REQ_HEADERS)
            return h2h_err_set(err, H2H_EINVALID, "https: more than %d headers",
                               HTTPS_MAX_REQ_HEADERS);
        if ((rc = check_header(*h, n, err)))
            return rc;
        total += strlen(*h);
        if (total > HTTPS_MAX_REQ_HEADER_BYTES)
            return h2h_err_set(err, H2H_EINVALID,
                               "https: headers longer than %d bytes",
                               HTTPS_MAX_REQ_HEADER_BYTES);
        have_ct |= header_is(*h, "Content-Type");
        have_expect |= header_is(*h, "Expect");
        const char *colon = strchr(*h, ':');
        if (colon[strspn(colon + 1, " \t") + 1] == '\0') {
            /* curl drops "Name:" (it means "remove that header"); an
             * empty header is spelled "Name;" */
            char *semi = strndup(*h, (size_t)(colon - *h) + 1);
            if (semi)
                semi[colon - *h] = ';';
            rc = semi ? add_header(x, semi) : -1;
            free(semi);
        } else {
            rc = add_header(x, *h);
        }
        if (rc)
            return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
    }
    /* curl would call a body form data; and would wait up to a second
     * for a "100 Continue" many bank front ends never send */
    if ((x->has_body && !have_ct &&
         add_header(x, "Content-Type: application/octet-stream")) ||
        (!have_expect && add_header(x, "Expect:")))
        return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
    return 0;
}

static int open_body(struct https_xfer *x, const struct https_req *rq,
                     struct h2h_err *err)
{
    if (rq->body) {
        x->has_body = 1;
        x->body_size = rq->body_len;
        x->body = malloc(rq->body_len ? rq->body_len : 1);
        if (!x->body)
            return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
        memcpy(x->body, rq->body, rq->body_len);
        return 0;
    }
    if (!rq->body_file)
        return 0;
    struct stat st;
    x->has_body = 1;
    x->body_fd = open(rq->body_file, O_RDONLY | O_CLOEXEC);
    if (x->body_fd < 0)
        return h2h_err_set(err, -errno, "https: body file %s: %s",
                           rq->body_file, strerror(errno));
    if (fstat(x->body_fd, &st) != 0 || !S_ISREG(st.st_mode))
        return h2h_err_set(err, H2H_EINVALID,
                           "https: body file %s is not a regular file",
                           rq->body_file);
    x->body_size = (uint64_t)st.st_size;
    return 0;
}

int https__xfer_new(struct https_client *c, const struct https_req *rq,
                    https_cb cb, void *data, struct https_xfer **out,
                    struct h2h_err *err)
{
    struct https_xfer *x = NULL;
    int rc;
    *out = NULL;
    if (!rq || !cb)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: request and callback "
                           "needed");
    if (rq->body && rq->body_file)
        return h2h_err_set(err, H2H_EINVALID,
                           "https: body or body_file, not both");
    int with_body = rq->body || rq->body_file;
    const char *method = rq->method ? rq->method : with_body ? "POST" : "GET";
    if ((rc = check_method(method, err)))
        return rc;
    if (with_body && (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
        return h2h_err_set(err, H2H_EINVALID, "https: %s with a body", method);

    x = calloc(1, sizeof(*x));
    if (!x)
        return h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
    x->c = c;
    x->body_fd = -1;
    x->resp_fd = -1;
    x->flags = rq->flags;
    x->cb = cb;
    x->data = data;
    x->max_resp = rq->max_response ? rq->max_response : c->o.max_response;
    if ((rc = check_url(rq->url, x->hostport, sizeof(x->hostport), err)) ||
        (rc = open_body(x, rq, err)) || (rc = build_headers(x, rq, err)))
        goto fail;
    if (rq->response_file) {
        x->resp_path = strdup(rq->response_file);
        if (!x->resp_path) {
            rc = h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
            goto fail;
        }
        /* resp_fd >= 0 is what makes the file ours to remove again: an
         * existing file (EEXIST) is left alone */
        x->resp_fd = open(rq->response_file,
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (x->resp_fd < 0) {
            rc = h2h_err_set(err, -errno, "https: response file %s: %s",
                             rq->response_file, strerror(errno));
            goto fail;
        }
    }
    x->easy = curl_easy_init();
    if (!x->easy) {
        rc = h2h_err_set(err, H2H_ENOMEM, "https: out of memory");
        goto fail;
    }
    if ((rc = setup_easy(x, rq, method, err)))
        goto fail;
    *out = x;
    return 0;
fail:
    https__xfer_free(x);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the result                                                          */

/* Split the kept header block into name/value pairs, in place. */
static void parse_headers(struct https_xfer *x)
{
    size_t lines = 1;
    if (!x->hdr)
        return;
    for (const char *p = x->hdr; *p; p++)
        lines += *p == '\n';
    x->hv = calloc(lines, sizeof(*x->hv));
    if (!x->hv)
        return;
    char *p = x->hdr;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        if (eol)
            *eol = '\0';
        size_t l = strlen(p);
        while (l && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t'))
            p[--l] = '\0';
        /* skip the status line and obsolete folded continuations */
        char *colon = strchr(p, ':');
        if (l && colon && strncmp(p, "HTTP/", 5) != 0 && *p != ' ' &&
            *p != '\t') {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            x->hv[x->n_hv].name = p;
            x->hv[x->n_hv].value = v;
            x->n_hv++;
        }
        p = next;
    }
}

void https__xfer_result(struct https_xfer *x, CURLcode rc,
                        struct https_result *r)
{
    long status = 0, nconn = 0;
    memset(r, 0, sizeof(*r));
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconn);
    r->status = status;
    if (x->resp_fd >= 0) {
        if (close(x->resp_fd) != 0 && !x->write_errno)
            x->write_errno = errno;
        x->resp_fd = -1;
    }
    https__classify(x, rc, r);
    if (x->resp_path && r->outcome != H2H_OUT_OK)
        unlink(x->resp_path); /* half a response is no response */
    r->body = x->resp_path ? NULL : x->resp ? x->resp : "";
    r->body_len = x->resp_total;
    parse_headers(x);
    r->headers = x->hv;
    r->n_headers = x->hv ? x->n_hv : 0;
    r->new_connection = nconn > 0;
    r->resent = x->resent;
    if (x->tls && x->tls->have_leaf)
        r->peer = x->tls->peer;
    if (x->t_start)
        r->total_ms = (unsigned long)((uv_hrtime() - x->t_start) / 1000000);
}

void https__xfer_free(struct https_xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdrs);
    if (x->body_fd >= 0)
        close(x->body_fd);
    if (x->resp_fd >= 0) {
        /* never finished (failed before it was queued) */
        close(x->resp_fd);
        if (x->resp_path)
            unlink(x->resp_path);
    }
    free(x->resp_path);
    free(x->body);
    free(x->resp);
    free(x->hdr);
    free(x->hv);
    https__tlsinfo_unref(x->tls);
    free(x);
}
