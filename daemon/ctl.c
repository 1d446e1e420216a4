/*
 * ctl.c - control socket server; see ctl.h.
 *
 * Each client owns two handles (its pipe and an idle timer) and is freed
 * when both close callbacks have run; the server is freed when its
 * listener and every client are gone, and only then is the caller's close
 * callback invoked.  That is what lets the daemon's shutdown end with
 * uv_loop_close() == 0.
 *
 * Reads go into a small fixed per-client buffer and are appended to a line
 * buffer that never holds more than one partial request (complete lines are
 * answered immediately), so memory per client is bounded by
 * CTL_REQUEST_MAX plus one read.  A client that pipelines requests faster
 * than it reads answers is paused (reading stops) while its write queue is
 * above CTL_WQ_HIGH, so a slow reader cannot make the daemon buffer
 * unbounded responses.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define CTL_CLIENTS_MAX 64
#define CTL_READ_CHUNK 16384
#define CTL_WQ_HIGH (4u * 1024 * 1024)
#define CTL_WQ_LOW (1u * 1024 * 1024)
#define CTL_CMD_SHOW 64 /* bytes of an unknown command name echoed back */

struct ctl_cmd {
    struct ctl_cmd *next;
    ctl_handler h;
    void *ctx;
    unsigned flags;
    char name[];
};

struct ctl_client {
    struct ctl_client *next, *prev;
    struct ctl_server *srv;
    uv_pipe_t pipe;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    uid_t uid;
    int open_handles;
    int closing;  /* uv_close called */
    int draining; /* no more requests: answer what is queued, then close */
    int paused;   /* reading stopped for back-pressure */
    int reading;  /* uv_read_start in effect */
    char *buf;    /* unprocessed input */
    size_t len, cap;
    char rbuf[CTL_READ_CHUNK];
};

struct ctl_server {
    uv_loop_t *loop;
    uv_pipe_t listener;
    char *path;
    dev_t dev;
    ino_t ino;
    struct audit *audit;
    struct ctl_cmd *cmds;
    struct ctl_client *clients;
    unsigned nclients;
    unsigned idle_ms;
    int listener_open;
    int closing;
    void (*close_cb)(void *arg);
    void *close_arg;
};

struct ctl_wreq {
    uv_write_t req;
    struct ctl_client *c;
    char *data;
};

static void client_close(struct ctl_client *c);
static void client_process(struct ctl_client *c);
static void client_read_start(struct ctl_client *c);
static void client_read_stop(struct ctl_client *c);

/* ---- server lifetime ------------------------------------------------ */

static void server_maybe_free(struct ctl_server *s)
{
    if (!s->closing || s->listener_open || s->clients)
        return;
    void (*cb)(void *) = s->close_cb;
    void *arg = s->close_arg;
    struct ctl_cmd *cmd = s->cmds;
    while (cmd) {
        struct ctl_cmd *next = cmd->next;
        free(cmd);
        cmd = next;
    }
    free(s->path);
    free(s);
    if (cb)
        cb(arg);
}

static void listener_closed_cb(uv_handle_t *h)
{
    struct ctl_server *s = h->data;
    s->listener_open = 0;
    server_maybe_free(s);
}

/* ---- client lifetime ------------------------------------------------ */

static void client_handle_closed_cb(uv_handle_t *h)
{
    struct ctl_client *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct ctl_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients--;
    free(c->buf);
    free(c);
    server_maybe_free(s);
}

static void client_close(struct ctl_client *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->pipe, client_handle_closed_cb);
    uv_close((uv_handle_t *)&c->timer, client_handle_closed_cb);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)status;
    client_close(req->data);
}

/* Stop taking requests; close once the queued answers are written. */
static void client_drain(struct ctl_client *c)
{
    if (c->closing || c->draining)
        return;
    c->draining = 1;
    client_read_stop(c);
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->pipe,
                    shutdown_cb) < 0)
        client_close(c);
}

static void idle_cb(uv_timer_t *t)
{
    struct ctl_client *c = t->data;
    char uid[32];
    snprintf(uid, sizeof(uid), "%lu", (unsigned long)c->uid);
    h2h_log(H2H_LOG_INFO, "ctl.client.idle", "uid", uid, NULL);
    client_close(c);
}

/* ---- writing -------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status)
{
    struct ctl_wreq *w = (struct ctl_wreq *)req;
    struct ctl_client *c = w->c;
    free(w->data);
    free(w);
    if (c->closing)
        return;
    if (status < 0) {
        client_close(c);
        return;
    }
    if (c->paused
        && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe)
               <= CTL_WQ_LOW) {
        c->paused = 0;
        client_process(c);
    }
}

/* Queue one response line; takes ownership of line (malloc'd, no '\n'). */
static void client_send(struct ctl_client *c, char *line)
{
    size_t n = strlen(line);
    char *p = realloc(line, n + 2);
    struct ctl_wreq *w = p ? malloc(sizeof(*w)) : NULL;
    if (!w) {
        free(p ? p : line);
        client_close(c);
        return;
    }
    p[n] = '\n';
    p[n + 1] = '\0';
    w->c = c;
    w->data = p;
    uv_buf_t b = uv_buf_init(p, (unsigned)(n + 1));
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, write_cb) < 0) {
        free(p);
        free(w);
        client_close(c);
    }
}

/* A json string for msg even when msg is not valid UTF-8. */
static json_t *json_text(const char *msg)
{
    json_t *j = json_string(msg);
    if (j)
        return j;
    char *copy = strdup(msg);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static char *error_line(const char *msg)
{
    json_t *r = json_object();
    json_object_set_new(r, "ok", json_false());
    json_object_set_new(r, "error", json_text(msg));
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

static void send_error(struct ctl_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void send_error(struct ctl_client *c, const char *fmt, ...)
{
    char msg[H2H_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *line = error_line(msg);
    if (!line) {
        client_close(c);
        return;
    }
    client_send(c, line);
}

/* ---- dispatch ------------------------------------------------------- */

static struct ctl_cmd *find_cmd(struct ctl_server *s, const char *name)
{
    for (struct ctl_cmd *cmd = s->cmds; cmd; cmd = cmd->next)
        if (strcmp(cmd->name, name) == 0)
            return cmd;
    return NULL;
}

static void run_cmd(struct ctl_client *c, struct ctl_cmd *cmd, json_t *args)
{
    struct ctl_server *s = c->srv;
    struct audit *audit = (cmd->flags & CTL_F_AUDIT) ? s->audit : NULL;
    char *args_json = NULL;
    char uid[32];
    struct h2h_err herr;
    h2h_err_clear(&herr);
    snprintf(uid, sizeof(uid), "%lu", (unsigned long)c->uid);

    if (audit) {
        args_json = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
        struct h2h_err aerr;
        h2h_err_clear(&aerr);
        if (audit_record(audit, c->uid, cmd->name, args_json, NULL,
                         &aerr) < 0) {
            h2h_log(H2H_LOG_ERROR, "ctl.audit.failed", "cmd", cmd->name,
                    "uid", uid, "error", aerr.msg, NULL);
            send_error(c, "command refused: cannot write the audit log: %s",
                       aerr.msg);
            goto out;
        }
    }

    json_t *result = NULL;
    int rc = cmd->h(cmd->ctx, args, c->uid, &result, &herr);
    char *line = NULL;
    char outcome[H2H_ERR_MSG_MAX + 16];
    if (rc < 0) {
        json_decref(result);
        const char *msg = herr.msg[0] ? herr.msg : h2h_strerror(rc);
        snprintf(outcome, sizeof(outcome), "error: %s", msg);
        h2h_log(audit ? H2H_LOG_WARN : H2H_LOG_INFO, "ctl.request.failed",
                "cmd", cmd->name, "uid", uid, "error", msg, NULL);
        line = error_line(msg);
    } else {
        json_t *r = json_object();
        json_object_set_new(r, "ok", json_true());
        json_object_set_new(r, "result", result ? result : json_object());
        line = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        snprintf(outcome, sizeof(outcome), "ok");
        h2h_log(audit ? H2H_LOG_INFO : H2H_LOG_DEBUG, "ctl.request", "cmd",
                cmd->name, "uid", uid, NULL);
        if (!line || strlen(line) > CTL_RESPONSE_MAX) {
            const char *why = line ? "result too large"
                                   : "result cannot be encoded as json";
            free(line);
            line = error_line(why);
            /* The command did run: the audit must say so. */
            snprintf(outcome, sizeof(outcome), "ok (answer not sent: %s)",
                     why);
        }
    }
    if (audit) {
        struct h2h_err aerr;
        h2h_err_clear(&aerr);
        /* The command has run; failing to record that is logged, and the
         * client still gets the true answer. */
        if (audit_record(audit, c->uid, cmd->name, args_json, outcome,
                         &aerr) < 0)
            h2h_log(H2H_LOG_ERROR, "ctl.audit.failed", "cmd", cmd->name,
                    "uid", uid, "error", aerr.msg, NULL);
    }
    if (!line) {
        client_close(c);
        goto out;
    }
    if (!c->closing)
        client_send(c, line);
    else
        free(line);
out:
    free(args_json);
}

static void handle_line(struct ctl_client *c, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '
                       || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return; /* blank lines are harmless keep-alives */

    json_error_t jerr;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *args = NULL;
    if (!req) {
        send_error(c, "bad request: %s", jerr.text);
        return;
    }
    if (!json_is_object(req)) {
        send_error(c, "bad request: not a json object");
        goto out;
    }
    json_t *jcmd = json_object_get(req, "cmd");
    if (!json_is_string(jcmd) || json_string_length(jcmd) == 0) {
        send_error(c, "bad request: \"cmd\" must be a non-empty string");
        goto out;
    }
    const char *name = json_string_value(jcmd);
    json_t *jargs = json_object_get(req, "args");
    if (!jargs || json_is_null(jargs)) {
        args = json_object();
    } else if (json_is_object(jargs)) {
        args = json_incref(jargs);
    } else {
        send_error(c, "bad request: \"args\" must be an object");
        goto out;
    }
    struct ctl_cmd *cmd = find_cmd(c->srv, name);
    if (!cmd || strlen(name) != json_string_length(jcmd)) {
        send_error(c, "unknown command \"%.*s\"", CTL_CMD_SHOW, name);
        goto out;
    }
    run_cmd(c, cmd, args);
out:
    json_decref(args);
    json_decref(req);
}

/* Answer every complete line in the buffer, unless paused or draining. */
static void client_process(struct ctl_client *c)
{
    size_t start = 0;
    while (!c->closing && !c->draining && !c->paused) {
        char *nl = memchr(c->buf + start, '\n', c->len - start);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (c->buf + start));
        if (n > CTL_REQUEST_MAX) {
            send_error(c, "request too large (limit %d bytes)",
                       CTL_REQUEST_MAX);
            client_drain(c);
            break;
        }
        handle_line(c, c->buf + start, n);
        start += n + 1;
        if (!c->closing
            && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe)
                   > CTL_WQ_HIGH) {
            c->paused = 1;
            client_read_stop(c);
        }
    }
    if (c->closing || c->draining)
        return;
    if (start > 0) {
        memmove(c->buf, c->buf + start, c->len - start);
        c->len -= start;
    }
    if (c->len > CTL_REQUEST_MAX) {
        send_error(c, "request too large (limit %d bytes)", CTL_REQUEST_MAX);
        client_drain(c);
        return;
    }
    if (!c->paused && !c->reading)
        client_read_start(c);
}

/* ---- reading -------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct ctl_client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct ctl_client *c = st->data;
    (void)buf;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        /* EOF: the client sent all it will; its answers are queued. */
        if (nread == UV_EOF)
            client_drain(c);
        else
            client_close(c);
        return;
    }
    uv_timer_again(&c->timer);
    size_t need = c->len + (size_t)nread;
    if (need > c->cap) {
        size_t ncap = c->cap ? c->cap : 4096;
        while (ncap < need)
            ncap *= 2;
        char *p = realloc(c->buf, ncap);
        if (!p) {
            client_close(c);
            return;
        }
        c->buf = p;
        c->cap = ncap;
    }
    memcpy(c->buf + c->len, c->rbuf, (size_t)nread);
    c->len = need;
    client_process(c);
}

static void client_read_start(struct ctl_client *c)
{
    if (c->reading || c->closing)
        return;
    if (uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb) < 0) {
        client_close(c);
        return;
    }
    c->reading = 1;
}

static void client_read_stop(struct ctl_client *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->pipe);
    c->reading = 0;
}

/* ---- accepting ------------------------------------------------------ */

static void connection_cb(uv_stream_t *listener, int status)
{
    struct ctl_server *s = listener->data;
    if (status < 0) {
        h2h_log(H2H_LOG_WARN, "ctl.accept.failed", "error",
                uv_strerror(status), NULL);
        return;
    }
    struct ctl_client *c = calloc(1, sizeof(*c));
    if (!c) {
        /* Leave the connection in the backlog; retried on the next
         * readiness event. */
        h2h_log(H2H_LOG_ERROR, "ctl.accept.failed", "error", "out of memory",
                NULL);
        return;
    }
    c->srv = s;
    uv_pipe_init(s->loop, &c->pipe, 0);
    uv_timer_init(s->loop, &c->timer);
    c->pipe.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;

    int rc = uv_accept(listener, (uv_stream_t *)&c->pipe);
    if (rc < 0) {
        h2h_log(H2H_LOG_WARN, "ctl.accept.failed", "error", uv_strerror(rc),
                NULL);
        client_close(c);
        return;
    }
    if (s->nclients > CTL_CLIENTS_MAX) {
        /* Accept and drop, so a flood cannot exhaust descriptors nor
         * leave the backlog full for the operator's next h2hctl. */
        h2h_log(H2H_LOG_WARN, "ctl.client.refused", "reason",
                "too many connections", NULL);
        client_close(c);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0
        || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
        h2h_log(H2H_LOG_WARN, "ctl.client.refused", "reason",
                "cannot read peer credentials", NULL);
        client_close(c);
        return;
    }
    c->uid = cred.uid;
    uv_timer_start(&c->timer, idle_cb, s->idle_ms, s->idle_ms);
    client_read_start(c);
}

/* ---- public --------------------------------------------------------- */

/*
 * Is something answering on path?  0: no (stale file removed or none),
 * negative: refuse to start.
 */
static int clear_stale(const char *path, struct h2h_err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        int e = errno;
        return h2h_err_set(err, -e, "control socket %s: %s", path,
                           strerror(e));
    }
    if (!S_ISSOCK(st.st_mode))
        return h2h_err_set(err, -EEXIST,
                           "control socket %s: exists and is not a socket",
                           path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = errno;
        return h2h_err_set(err, -e, "socket: %s", strerror(e));
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    int e = rc < 0 ? errno : 0;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return h2h_err_set(err, -EADDRINUSE,
                           "control socket %s: another process (h2hd "
                           "already running?) answers on it",
                           path);
    if (e != ECONNREFUSED)
        return h2h_err_set(err, -e, "control socket %s: probe: %s", path,
                           strerror(e));
    if (unlink(path) < 0 && errno != ENOENT) {
        e = errno;
        return h2h_err_set(err, -e, "control socket %s: remove stale: %s",
                           path, strerror(e));
    }
    h2h_log(H2H_LOG_INFO, "ctl.socket.stale_removed", "path", path, NULL);
    return 0;
}

int ctl_server_start(uv_loop_t *loop, const char *sock_path, int mode,
                     struct audit *audit, struct ctl_server **out,
                     struct h2h_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct ctl_server *s = NULL;
    int fd = -1, bound = 0, rc;
    struct stat st;

    *out = NULL;
    if (!sock_path || !*sock_path)
        return h2h_err_set(err, -EINVAL, "control socket: empty path");
    if (strlen(sock_path) >= sizeof(sa.sun_path))
        return h2h_err_set(err, -ENAMETOOLONG,
                           "control socket %s: path longer than %zu bytes",
                           sock_path, sizeof(sa.sun_path) - 1);
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);

    rc = clear_stale(sock_path, err);
    if (rc < 0)
        return rc;

    /* Bind and chmod before listen(): until listen() a connect() is
     * refused, so no one can slip in while the mode is still umask's. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = -errno;
        h2h_err_set(err, rc, "socket: %s", strerror(-rc));
        goto fail;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        h2h_err_set(err, rc, "control socket %s: bind: %s", sock_path,
                    strerror(-rc));
        goto fail;
    }
    bound = 1;
    if (chmod(sock_path, (mode_t)mode) < 0 || stat(sock_path, &st) < 0) {
        rc = -errno;
        h2h_err_set(err, rc, "control socket %s: chmod: %s", sock_path,
                    strerror(-rc));
        goto fail;
    }
    if (listen(fd, 64) < 0) {
        rc = -errno;
        h2h_err_set(err, rc, "control socket %s: listen: %s", sock_path,
                    strerror(-rc));
        goto fail;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(sock_path))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto fail;
    }
    s->loop = loop;
    s->audit = audit;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->idle_ms = CTL_IDLE_TIMEOUT_MS;
    uv_pipe_init(loop, &s->listener, 0);
    s->listener.data = s;
    s->listener_open = 1;
    rc = uv_pipe_open(&s->listener, fd);
    if (rc == 0) {
        fd = -1; /* owned by the handle now */
        rc = uv_listen((uv_stream_t *)&s->listener, 64, connection_cb);
    }
    if (rc < 0) {
        h2h_err_set(err, rc, "control socket %s: listen: %s", sock_path,
                    uv_strerror(rc));
        /* The handle is freed by its close callback on the next loop
         * turn; the server has no clients, so nothing else remains. */
        s->closing = 1;
        uv_close((uv_handle_t *)&s->listener, listener_closed_cb);
        s = NULL;
        goto fail;
    }
    h2h_log(H2H_LOG_INFO, "ctl.listen", "path", sock_path, NULL);
    *out = s;
    return 0;
fail:
    if (bound)
        unlink(sock_path);
    if (fd >= 0)
        close(fd);
    if (s) {
        free(s->path);
        free(s);
    }
    return rc;
}

int ctl_server_register(struct ctl_server *s, const char *cmd, ctl_handler h,
                        void *ctx, unsigned flags)
{
    if (!s || !cmd || !*cmd || !h)
        return -EINVAL;
    if (find_cmd(s, cmd))
        return -EEXIST;
    size_t n = strlen(cmd);
    struct ctl_cmd *c = malloc(sizeof(*c) + n + 1);
    if (!c)
        return -ENOMEM;
    memcpy(c->name, cmd, n + 1);
    c->h = h;
    c->ctx = ctx;
    c->flags = flags;
    c->next = s->cmds;
    s->cmds = c;
    return 0;
}

void ctl_server_set_idle_timeout(struct ctl_server *s, unsigned ms)
{
    if (s)
        s->idle_ms = ms ? ms : 1;
}

void ctl_server_set_audit(struct ctl_server *s, struct audit *audit)
{
    if (s)
        s->audit = audit;
}

unsigned ctl_server_clients(const struct ctl_server *s)
{
    return s ? s->nclients : 0;
}

void ctl_server_close(struct ctl_server *s, void (*cb)(void *arg), void *arg)
{
    if (!s || s->closing)
        return;
    s->closing = 1;
    s->close_cb = cb;
    s->close_arg = arg;
    /* Unlink only our own socket: a successor may already have bound a new
     * one at the same path. */
    struct stat st;
    if (stat(s->path, &st) == 0 && st.st_dev == s->dev
        && st.st_ino == s->ino)
        unlink(s->path);
    for (struct ctl_client *c = s->clients; c; c = c->next)
        client_close(c);
    uv_close((uv_handle_t *)&s->listener, listener_closed_cb);
    h2h_log(H2H_LOG_INFO, "ctl.closed", "path", s->path, NULL);
}
