/*
 * ctlclient.c - blocking control socket client; see ctlclient.h.
 *
 * connect() runs blocking with SO_SNDTIMEO, because a full listen backlog
 * on a Unix socket makes a non-blocking connect fail with EAGAIN and there
 * is nothing to poll for; after that the socket is non-blocking and every
 * send/receive is bounded by one deadline with poll().
 */
#include "ctlclient.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct ctlc {
    int fd;
    char *path;
    char *buf; /* received, not yet consumed */
    size_t len, cap;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1: none), 0 when past. */
static int left_ms(long long deadline)
{
    if (deadline < 0)
        return -1;
    long long d = deadline - now_ms();
    return d <= 0 ? 0 : d > 1000000000 ? 1000000000 : (int)d;
}

static int conn_error(const char *path, int e, struct h2h_err *err)
{
    switch (e) {
    case ENOENT:
        return h2h_err_set(err, -e, "h2hd is not running (no socket at %s)",
                           path);
    case ECONNREFUSED:
        return h2h_err_set(err, -e,
                           "h2hd is not running (nothing listens on %s)",
                           path);
    case EACCES:
    case EPERM:
        return h2h_err_set(err, -EACCES,
                           "permission denied on %s: run as a member of "
                           "the h2hd group or as root",
                           path);
    case EAGAIN:
    case EINPROGRESS:
        return h2h_err_set(err, H2H_ETIMEOUT,
                           "h2hd does not accept connections on %s "
                           "(busy or hung)",
                           path);
    case ENOTDIR:
        return h2h_err_set(err, -e, "h2hd is not running (no socket at %s)",
                           path);
    default:
        return h2h_err_set(err, -e, "cannot connect to %s: %s", path,
                           strerror(e));
    }
}

int ctlc_connect(const char *sock_path, int timeout_ms, struct ctlc **out,
                 struct h2h_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct ctlc *c = NULL;
    int fd = -1, rc;

    *out = NULL;
    if (!sock_path || !*sock_path)
        return h2h_err_set(err, -EINVAL, "no control socket path");
    if (strlen(sock_path) >= sizeof(sa.sun_path))
        return h2h_err_set(err, -ENAMETOOLONG,
                           "control socket path too long: %s", sock_path);
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        return h2h_err_set(err, rc, "socket: %s", strerror(-rc));
    }
    if (timeout_ms > 0) {
        struct timeval tv = {.tv_sec = timeout_ms / 1000,
                             .tv_usec = (timeout_ms % 1000) * 1000};
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno == EINTR)
            continue;
        rc = conn_error(sock_path, errno, err);
        goto fail;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        rc = -errno;
        h2h_err_set(err, rc, "fcntl: %s", strerror(-rc));
        goto fail;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(sock_path))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto fail;
    }
    c->fd = fd;
    *out = c;
    return 0;
fail:
    if (c)
        free(c->path);
    free(c);
    if (fd >= 0)
        close(fd);
    return rc;
}

void ctlc_close(struct ctlc *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->path);
    free(c->buf);
    free(c);
}

static int wait_fd(struct ctlc *c, short events, long long deadline,
                   int timeout_ms, struct h2h_err *err)
{
    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = events};
        int n = poll(&p, 1, left_ms(deadline));
        if (n > 0)
            return 0;
        if (n == 0)
            return h2h_err_set(err, H2H_ETIMEOUT,
                               "no answer from h2hd on %s within %d ms",
                               c->path, timeout_ms);
        if (errno != EINTR) {
            int e = errno;
            return h2h_err_set(err, -e, "poll: %s", strerror(e));
        }
    }
}

static int send_all(struct ctlc *c, const char *p, size_t n,
                    long long deadline, int timeout_ms, struct h2h_err *err)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c, POLLOUT, deadline, timeout_ms, err);
            if (rc < 0)
                return rc;
            continue;
        }
        int e = errno;
        if (e == EPIPE || e == ECONNRESET)
            return h2h_err_set(err, H2H_EPROTO,
                               "h2hd closed the connection on %s", c->path);
        return h2h_err_set(err, -e, "send to %s: %s", c->path, strerror(e));
    }
    return 0;
}

/* Receive up to and including '\n'; *line_len excludes it. */
static int recv_line(struct ctlc *c, size_t *line_len, long long deadline,
                     int timeout_ms, struct h2h_err *err)
{
    size_t scanned = 0;
    for (;;) {
        char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n',
                                             c->len - scanned)
                                    : NULL;
        if (nl) {
            *line_len = (size_t)(nl - c->buf);
            return 0;
        }
        scanned = c->len;
        if (c->len >= CTLC_RESPONSE_MAX)
            return h2h_err_set(err, H2H_ETOOBIG,
                               "answer from h2hd larger than %d bytes",
                               CTLC_RESPONSE_MAX);
        if (c->cap - c->len < 4096) {
            size_t ncap = c->cap ? c->cap * 2 : 16384;
            if (ncap > CTLC_RESPONSE_MAX + 4096)
                ncap = CTLC_RESPONSE_MAX + 4096;
            char *p = realloc(c->buf, ncap);
            if (!p)
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
            c->buf = p;
            c->cap = ncap;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r > 0) {
            c->len += (size_t)r;
            continue;
        }
        if (r == 0)
            return h2h_err_set(err, H2H_EPROTO,
                               "h2hd closed the connection on %s without "
                               "an answer",
                               c->path);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c, POLLIN, deadline, timeout_ms, err);
            if (rc < 0)
                return rc;
            continue;
        }
        int e = errno;
        if (e == ECONNRESET)
            return h2h_err_set(err, H2H_EPROTO,
                               "h2hd closed the connection on %s", c->path);
        return h2h_err_set(err, -e, "receive from %s: %s", c->path,
                           strerror(e));
    }
}

static int parse_answer(const char *line, size_t n, json_t **result,
                        struct h2h_err *err)
{
    json_error_t jerr;
    json_t *resp = json_loadb(line, n, 0, &jerr);
    int rc = 0;
    if (!resp || !json_is_object(resp)) {
        rc = h2h_err_set(err, H2H_EPROTO, "h2hd sent a malformed answer: %s",
                         resp ? "not an object" : jerr.text);
        goto out;
    }
    json_t *ok = json_object_get(resp, "ok");
    if (!json_is_boolean(ok)) {
        rc = h2h_err_set(err, H2H_EPROTO,
                         "h2hd sent a malformed answer: no \"ok\"");
        goto out;
    }
    if (json_is_false(ok)) {
        const char *msg = json_string_value(json_object_get(resp, "error"));
        rc = h2h_err_set(err, H2H_EINVALID, "%s",
                         msg && *msg ? msg : "request failed (no reason)");
        goto out;
    }
    json_t *r = json_object_get(resp, "result");
    *result = r ? json_incref(r) : json_object();
out:
    json_decref(resp);
    return rc;
}

int ctlc_call(struct ctlc *c, const char *cmd, json_t *args, int timeout_ms,
              json_t **result, struct h2h_err *err)
{
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
    json_t *req = NULL;
    char *line = NULL;
    int rc;

    *result = NULL;
    if (!c || c->fd < 0)
        return h2h_err_set(err, -EBADF, "not connected");
    req = json_object();
    if (!req || json_object_set_new(req, "cmd", json_string(cmd ? cmd : ""))
        || (args && json_object_set(req, "args", args))) {
        rc = h2h_err_set(err, H2H_EPROTO, "cannot encode request \"%s\"",
                         cmd ? cmd : "");
        goto out;
    }
    line = json_dumps(req, JSON_COMPACT);
    if (!line) {
        rc = h2h_err_set(err, H2H_EPROTO, "cannot encode request \"%s\"",
                         cmd);
        goto out;
    }
    size_t n = strlen(line);
    char *p = realloc(line, n + 2);
    if (!p) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    line = p;
    line[n++] = '\n';
    line[n] = '\0';
    rc = send_all(c, line, n, deadline, timeout_ms, err);
    if (rc < 0)
        goto out;
    size_t ln = 0;
    rc = recv_line(c, &ln, deadline, timeout_ms, err);
    if (rc < 0)
        goto out;
    rc = parse_answer(c->buf, ln, result, err);
    memmove(c->buf, c->buf + ln + 1, c->len - ln - 1);
    c->len -= ln + 1;
out:
    free(line);
    json_decref(req);
    return rc;
}

int ctlc_request(const char *sock_path, const char *cmd, json_t *args,
                 int timeout_ms, json_t **result, struct h2h_err *err)
{
    struct ctlc *c;
    *result = NULL;
    int rc = ctlc_connect(sock_path, timeout_ms, &c, err);
    if (rc < 0)
        return rc;
    rc = ctlc_call(c, cmd, args, timeout_ms, result, err);
    ctlc_close(c);
    return rc;
}

int ctlc_unreachable(int rc)
{
    return rc < 0 && rc != H2H_EINVALID;
}
