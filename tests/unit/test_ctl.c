/*
 * test_ctl.c - control socket server (daemon/ctl.h), its blocking client
 * (daemon/ctlclient.h) and the h2hctl binary.
 *
 * The server runs on a real libuv loop in a second thread; the test thread
 * talks to it through the real socket, with ctlc_* or with raw sockets for
 * what a well-behaved client never does.  Handlers run on the loop thread
 * and only record what they saw; assertions happen on the test thread
 * after the answer arrived.  Each fixture ends with uv_loop_close() == 0.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "audit.h"
#include "ctl.h"
#include "ctlclient.h"
#include "testutil.h"

#define TMO 10000 /* ms, generous for slow sanitizer runs */

struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    uv_thread_t thread;
    struct ctl_server *srv;
    struct audit *audit;
    char dir[256];
    char sock[512];
    char auditpath[512];
    int closed;
    /* What the audited handler saw in the audit log when it ran. */
    int h_request_lines;
    int h_result_lines;
    int h_calls;
};

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* ---- handlers (loop thread) ----------------------------------------- */

static int h_echo(void *ctx, const json_t *args, uid_t uid, json_t **result,
                  struct h2h_err *err)
{
    (void)ctx;
    (void)err;
    *result = json_pack("{s:O,s:I}", "args", (json_t *)args, "uid",
                        (json_int_t)uid);
    return 0;
}

static int h_fail(void *ctx, const json_t *args, uid_t uid, json_t **result,
                  struct h2h_err *err)
{
    (void)ctx;
    (void)uid;
    (void)result;
    const char *id = json_string_value(json_object_get(args, "id"));
    return h2h_err_set(err, H2H_ENOTFOUND, "no message %s", id ? id : "?");
}

static int h_fail_bare(void *ctx, const json_t *args, uid_t uid,
                       json_t **result, struct h2h_err *err)
{
    (void)ctx;
    (void)args;
    (void)uid;
    (void)err;
    *result = json_object(); /* must be dropped by the server */
    return H2H_ESTATE;
}

/* Audited: records whether the request line was already in the audit log. */
static int h_retry(void *ctx, const json_t *args, uid_t uid, json_t **result,
                   struct h2h_err *err)
{
    struct fixture *fx = ctx;
    (void)uid;
    char *log = tu_read_file(fx->auditpath, NULL);
    fx->h_request_lines = log ? count(log, " phase=request") : -1;
    fx->h_result_lines = log ? count(log, " phase=result") : -1;
    fx->h_calls++;
    free(log);
    const char *id = json_string_value(json_object_get(args, "id"));
    if (!id)
        return h2h_err_set(err, H2H_EINVALID, "retry needs an id");
    if (strcmp(id, "BAD") == 0)
        return h2h_err_set(err, H2H_ESTATE, "message %s is booked", id);
    *result = json_pack("{s:s,s:s}", "id", id, "state", "rendered");
    return 0;
}

#define BIG_LEN (1024 * 1024)

static int h_big(void *ctx, const json_t *args, uid_t uid, json_t **result,
                 struct h2h_err *err)
{
    (void)ctx;
    (void)args;
    (void)uid;
    char *s = malloc(BIG_LEN + 1);
    if (!s)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    memset(s, 'b', BIG_LEN);
    s[BIG_LEN] = '\0';
    *result = json_pack("{s:s}", "s", s);
    free(s);
    return 0;
}

static int h_status(void *ctx, const json_t *args, uid_t uid,
                    json_t **result, struct h2h_err *err)
{
    (void)ctx;
    (void)args;
    (void)uid;
    (void)err;
    *result = json_loads(
        "{\"version\":\"0.1.0\",\"pid\":123,\"uptime_s\":3725,"
        "\"config\":\"/etc/h2hd/h2hd.conf\","
        "\"banks\":[{\"name\":\"bank-one\",\"adapter\":\"dirdrop\","
        "\"health\":\"ok\",\"counts\":{\"accepted\":0,\"deferred\":2}}],"
        "\"counts\":{\"accepted\":0,\"rendered\":5}}",
        0, NULL);
    return 0;
}

/* Echoes its filter into the one message it lists, so the test sees the
 * options h2hctl sent. */
static int h_queue(void *ctx, const json_t *args, uid_t uid, json_t **result,
                   struct h2h_err *err)
{
    (void)ctx;
    (void)uid;
    (void)err;
    const char *st = json_string_value(json_object_get(args, "state"));
    json_int_t lim = json_integer_value(json_object_get(args, "limit"));
    *result = json_pack(
        "{s:[{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:n}]}", "messages", "id",
        "M20261128-0001", "state", st ? st : "none", "channel", "erp",
        "bank", "bank-one", "file", "pay\x1b[31m1.xml", "attempts", lim,
        "next_attempt", "2026-11-28T14:00:00Z", "updated",
        "2026-11-28T13:50:01Z", "error");
    return 0;
}

/* Two certificates (one expired, one with a terminal escape in its
 * subject); with a bank filter only that bank's, an unknown bank is an
 * error. */
static int h_certs(void *ctx, const json_t *args, uid_t uid, json_t **result,
                   struct h2h_err *err)
{
    (void)ctx;
    (void)uid;
    const char *bank = json_string_value(json_object_get(args, "bank"));
    if (bank && strcmp(bank, "bank-one") != 0 && strcmp(bank, "empty") != 0)
        return h2h_err_set(err, H2H_ENOTFOUND, "no bank named \"%s\"", bank);
    json_t *certs = json_array();
    if (!bank || strcmp(bank, "bank-one") == 0)
        json_array_append_new(
            certs,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "bank", "bank-one",
                      "label", "tls client", "subject",
                      "CN=h2hd client\x1b[31m,O=test", "issuer",
                      "CN=test CA,O=test", "fingerprint", "AB:CD:EF",
                      "not_after", "2026-12-03T10:00:00Z", "days_left",
                      (json_int_t)4, "warning", "7 days"));
    if (!bank)
        json_array_append_new(
            certs,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "bank", "bank-two",
                      "label", "bank response signing (pinned)", "subject",
                      "CN=bank", "issuer", "CN=bank CA", "fingerprint",
                      "01:02:03", "not_after", "2026-11-25T10:00:00Z",
                      "days_left", (json_int_t)-3, "warning", "expired"));
    *result = json_pack("{s:o}", "certs", certs);
    return 0;
}

/* ---- fixture -------------------------------------------------------- */

static void closed_cb(void *arg)
{
    ((struct fixture *)arg)->closed++;
}

static void int_cb(void *arg)
{
    ++*(int *)arg;
}

static void stop_cb(uv_async_t *a)
{
    struct fixture *fx = a->data;
    ctl_server_close(fx->srv, closed_cb, fx);
    uv_close((uv_handle_t *)&fx->stop, NULL);
}

static void loop_thread(void *arg)
{
    struct fixture *fx = arg;
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

/* Start a server in a fresh directory; idle_ms 0 keeps the default. */
static int fx_start(struct fixture *fx, unsigned idle_ms)
{
    struct h2h_err err;
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "%s", tu_mkdtemp());
    snprintf(fx->sock, sizeof(fx->sock), "%s/ctl.sock", fx->dir);
    snprintf(fx->auditpath, sizeof(fx->auditpath), "%s/audit.log", fx->dir);
    CU_ASSERT_EQUAL_FATAL(uv_loop_init(&fx->loop), 0);
    CU_ASSERT_EQUAL_FATAL(audit_open(fx->auditpath, &fx->audit, &err), 0);
    int rc = ctl_server_start(&fx->loop, fx->sock, 0660, fx->audit, &fx->srv,
                              &err);
    if (rc < 0) {
        fprintf(stderr, "ctl_server_start: %s\n", err.msg);
        return rc;
    }
    if (idle_ms)
        ctl_server_set_idle_timeout(fx->srv, idle_ms);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "echo", h_echo, fx, 0), 0);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "fail", h_fail, fx, 0), 0);
    CU_ASSERT_EQUAL(
        ctl_server_register(fx->srv, "failbare", h_fail_bare, fx, 0), 0);
    CU_ASSERT_EQUAL(
        ctl_server_register(fx->srv, "retry", h_retry, fx, CTL_F_AUDIT), 0);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "status", h_status, fx, 0),
                    0);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "queue", h_queue, fx, 0),
                    0);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "big", h_big, fx, 0), 0);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "certs", h_certs, fx, 0), 0);
    CU_ASSERT_EQUAL(ctl_server_register(fx->srv, "echo", h_echo, fx, 0),
                    -EEXIST);
    fx->stop.data = fx;
    CU_ASSERT_EQUAL_FATAL(uv_async_init(&fx->loop, &fx->stop, stop_cb), 0);
    CU_ASSERT_EQUAL_FATAL(uv_thread_create(&fx->thread, loop_thread, fx), 0);
    return 0;
}

static void fx_stop(struct fixture *fx)
{
    struct stat st;
    uv_async_send(&fx->stop);
    uv_thread_join(&fx->thread);
    CU_ASSERT_EQUAL(fx->closed, 1);
    CU_ASSERT_EQUAL(uv_loop_close(&fx->loop), 0);
    CU_ASSERT_NOT_EQUAL(stat(fx->sock, &st), 0); /* socket unlinked */
    audit_close(fx->audit);
    tu_rmtree(fx->dir);
}

/* ---- raw socket helpers ---------------------------------------------- */

static void set_sun(struct sockaddr_un *sa, const char *path)
{
    size_t n = strlen(path);
    CU_ASSERT_FATAL(n < sizeof(sa->sun_path));
    memcpy(sa->sun_path, path, n + 1);
}

static int raw_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    set_sun(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int raw_send(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * Read until want_lines '\n' or EOF or timeout.  Returns bytes read into
 * buf (NUL-terminated), and sets *eof when the peer closed (EOF or reset).
 */
static size_t raw_recv(int fd, char *buf, size_t sz, int want_lines,
                       int timeout_ms, int *eof)
{
    size_t n = 0;
    *eof = 0;
    buf[0] = '\0';
    while (n + 1 < sz && count(buf, "\n") < want_lines) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        ssize_t r = recv(fd, buf + n, sz - n - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *eof = 1;
            break;
        }
        n += (size_t)r;
        buf[n] = '\0';
    }
    return n;
}

/* ---- tests ---------------------------------------------------------- */

static void test_round_trip(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(fx.sock, &st), 0);
    CU_ASSERT(S_ISSOCK(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0660);

    json_t *args = json_pack("{s:s,s:s}", "state", "deferred", "bank", "b1");
    json_t *res = NULL;
    struct h2h_err err;
    h2h_err_clear(&err);
    int rc = ctlc_request(fx.sock, "echo", args, TMO, &res, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "echo: %s\n", err.msg);
    CU_ASSERT(json_equal(json_object_get(res, "args"), args));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(res, "uid")),
                    (json_int_t)getuid());
    json_decref(res);

    /* No args: the handler gets an empty object. */
    rc = ctlc_request(fx.sock, "echo", NULL, TMO, &res, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(json_is_object(json_object_get(res, "args")));
    CU_ASSERT_EQUAL(json_object_size(json_object_get(res, "args")), 0);
    json_decref(res);

    /* Several requests on one connection. */
    struct ctlc *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ctlc_connect(fx.sock, TMO, &c, &err), 0);
    for (int i = 0; i < 3; i++) {
        json_t *a = json_pack("{s:i}", "n", i);
        rc = ctlc_call(c, "echo", a, TMO, &res, &err);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                            json_object_get(res, "args"), "n")),
                        i);
        json_decref(res);
        json_decref(a);
    }
    ctlc_close(c);
    json_decref(args);
    fx_stop(&fx);
}

/* Pipelined requests in one write, a blank line, a CRLF line. */
static void test_pipelined_raw(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    int fd = raw_connect(fx.sock);
    CU_ASSERT_FATAL(fd >= 0);
    const char *req = "{\"cmd\":\"echo\",\"args\":{\"n\":1}}\n"
                      "\n"
                      "{\"cmd\":\"echo\",\"args\":{\"n\":2}}\r\n"
                      "{\"cmd\":\"nope\"}\n";
    CU_ASSERT_EQUAL(raw_send(fd, req, strlen(req)), 0);
    char buf[4096];
    int eof;
    raw_recv(fd, buf, sizeof(buf), 3, TMO, &eof);
    CU_ASSERT_EQUAL(count(buf, "\n"), 3);
    char *l2 = strchr(buf, '\n');
    char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
    CU_ASSERT_FATAL(l2 && l3);
    CU_ASSERT_EQUAL(strncmp(buf, "{\"ok\":true,\"result\":{\"args\":{\"n\":1}",
                            34),
                    0);
    CU_ASSERT_EQUAL(strncmp(l2 + 1,
                            "{\"ok\":true,\"result\":{\"args\":{\"n\":2}", 34),
                    0);
    CU_ASSERT_EQUAL(strcmp(l3 + 1, "{\"ok\":false,\"error\":\"unknown "
                                   "command \\\"nope\\\"\"}\n"),
                    0);
    close(fd);

    /* Half-close after the request: the answer still comes, then EOF. */
    fd = raw_connect(fx.sock);
    CU_ASSERT_FATAL(fd >= 0);
    raw_send(fd, "{\"cmd\":\"echo\"}\n", 15);
    shutdown(fd, SHUT_WR);
    raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
    CU_ASSERT_EQUAL(strncmp(buf, "{\"ok\":true", 10), 0);
    raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
    CU_ASSERT_EQUAL(eof, 1);
    close(fd);

    /* A client that pipelines more answers than it reads: the server
     * pauses it (write queue above its high mark) and resumes later; all
     * answers arrive, in order. */
    fd = raw_connect(fx.sock);
    CU_ASSERT_FATAL(fd >= 0);
    char reqs[16 * 32] = "";
    for (int i = 0; i < 12; i++)
        strcat(reqs, "{\"cmd\":\"big\"}\n");
    strcat(reqs, "{\"cmd\":\"echo\",\"args\":{\"last\":1}}\n");
    raw_send(fd, reqs, strlen(reqs));
    usleep(200 * 1000); /* let the server fill its queue */
    size_t cap = 14 * (BIG_LEN + 64);
    char *all = malloc(cap);
    CU_ASSERT_FATAL(all != NULL);
    size_t got = 0;
    int lines = 0;
    while (lines < 13) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, TMO) <= 0)
            break;
        ssize_t r = recv(fd, all + got, cap - got, 0);
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            lines += all[got + (size_t)i] == '\n';
        got += (size_t)r;
    }
    CU_ASSERT_EQUAL(lines, 13);
    CU_ASSERT(got > 12 * (size_t)BIG_LEN);
    /* The last line is the echo. */
    all[got - 1] = '\0';
    char *lastl = strrchr(all, '\n');
    CU_ASSERT_PTR_NOT_NULL(lastl);
    CU_ASSERT_PTR_NOT_NULL(lastl ? strstr(lastl, "\"last\":1") : NULL);
    free(all);
    close(fd);
    fx_stop(&fx);
}

static void test_errors(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    json_t *res = (json_t *)1;
    struct h2h_err err;

    static const struct {
        const char *label;
        const char *cmd;
        const char *args_json; /* NULL: no args */
        const char *msg;
    } cases[] = {
        {"unknown", "nope", NULL, "unknown command \"nope\""},
        {"handler error", "fail", "{\"id\":\"M7\"}", "no message M7"},
        {"bare code", "failbare", NULL, NULL /* h2h_strerror */},
        {"args not object", "echo", "[1,2]",
         "bad request: \"args\" must be an object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *args = cases[i].args_json
                           ? json_loads(cases[i].args_json, 0, NULL)
                           : NULL;
        h2h_err_clear(&err);
        int rc = ctlc_request(fx.sock, cases[i].cmd, args, TMO, &res, &err);
        const char *want = cases[i].msg ? cases[i].msg
                                        : h2h_strerror(H2H_ESTATE);
        if (rc != H2H_EINVALID || strcmp(err.msg, want) != 0)
            fprintf(stderr, "case %s: rc %d msg \"%s\"\n", cases[i].label,
                    rc, err.msg);
        CU_ASSERT_EQUAL(rc, H2H_EINVALID);
        CU_ASSERT_STRING_EQUAL(err.msg, want);
        CU_ASSERT_PTR_NULL(res);
        CU_ASSERT_FALSE(ctlc_unreachable(rc));
        json_decref(args);
    }

    /* Malformed lines, straight on the wire. */
    static const struct {
        const char *line;
        const char *prefix;
    } bad[] = {
        {"not json\n", "{\"ok\":false,\"error\":\"bad request: "},
        {"[1]\n", "{\"ok\":false,\"error\":\"bad request: not a json"},
        {"{\"args\":{}}\n", "{\"ok\":false,\"error\":\"bad request: \\\"cmd"},
        {"{\"cmd\":\"echo\",\"cmd\":\"x\"}\n",
         "{\"ok\":false,\"error\":\"bad request: "},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = raw_connect(fx.sock);
        CU_ASSERT_FATAL(fd >= 0);
        raw_send(fd, bad[i].line, strlen(bad[i].line));
        char buf[1024];
        int eof;
        raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
        CU_ASSERT_EQUAL(strncmp(buf, bad[i].prefix, strlen(bad[i].prefix)),
                        0);
        /* The connection survives a bad request. */
        raw_send(fd, "{\"cmd\":\"echo\"}\n", 15);
        raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
        CU_ASSERT_EQUAL(strncmp(buf, "{\"ok\":true", 10), 0);
        close(fd);
    }
    fx_stop(&fx);
}

static void test_oversized(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    static const char prefix[] = "{\"cmd\":\"echo\",\"args\":{\"x\":\"";
    size_t n = CTL_REQUEST_MAX + 4096;
    char *big = malloc(n + 1);
    CU_ASSERT_FATAL(big != NULL);

    for (int with_newline = 0; with_newline < 2; with_newline++) {
        /* A syntactically fine request, just too long. */
        memset(big, 'a', n);
        memcpy(big, prefix, strlen(prefix));
        memcpy(big + n - 4, "\"}}\n", 4);
        size_t len = with_newline ? n : n - 1;
        int fd = raw_connect(fx.sock);
        CU_ASSERT_FATAL(fd >= 0);
        raw_send(fd, big, len); /* may fail midway once the server quits */
        char buf[1024];
        int eof;
        raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "{\"ok\":false,\"error\":"
                                           "\"request too large"));
        raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
        CU_ASSERT_EQUAL(eof, 1); /* and the connection is closed */
        close(fd);
    }

    /* Just under the cap is fine. */
    size_t ok_len = CTL_REQUEST_MAX; /* bytes before '\n' */
    memset(big, 'a', ok_len);
    memcpy(big, prefix, strlen(prefix));
    memcpy(big + ok_len - 3, "\"}}\n", 4);
    json_t *res = NULL;
    int fd = raw_connect(fx.sock);
    CU_ASSERT_FATAL(fd >= 0);
    raw_send(fd, big, ok_len + 1);
    char *rbuf = malloc(2 * CTL_REQUEST_MAX);
    int eof;
    raw_recv(fd, rbuf, 2 * CTL_REQUEST_MAX, 1, TMO, &eof);
    res = json_loads(rbuf, 0, NULL);
    if (!json_is_true(json_object_get(res, "ok")))
        fprintf(stderr, "answer: %.200s\n", rbuf);
    CU_ASSERT(json_is_true(json_object_get(res, "ok")));
    json_decref(res);
    free(rbuf);
    close(fd);
    free(big);
    fx_stop(&fx);
}

static void test_audit_before_handler(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    json_t *args = json_pack("{s:s}", "id", "M20261128-0001");
    json_t *res = NULL;
    struct h2h_err err;
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "retry", args, TMO, &res, &err),
                    0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(res, "state")),
                           "rendered");
    json_decref(res);
    json_decref(args);
    /* The handler saw exactly its request record and no result yet. */
    CU_ASSERT_EQUAL(fx.h_calls, 1);
    CU_ASSERT_EQUAL(fx.h_request_lines, 1);
    CU_ASSERT_EQUAL(fx.h_result_lines, 0);

    args = json_pack("{s:s}", "id", "BAD");
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "retry", args, TMO, &res, &err),
                    H2H_EINVALID);
    CU_ASSERT_STRING_EQUAL(err.msg, "message BAD is booked");
    json_decref(args);
    CU_ASSERT_EQUAL(fx.h_request_lines, 2);
    CU_ASSERT_EQUAL(fx.h_result_lines, 1);

    /* Not audited. */
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "echo", NULL, TMO, &res, &err), 0);
    json_decref(res);

    char *log = tu_read_file(fx.auditpath, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_EQUAL(count(log, "\n"), 4);
    CU_ASSERT_EQUAL(count(log, "cmd=echo"), 0);
    char want[256];
    snprintf(want, sizeof(want), " uid=%lu ", (unsigned long)getuid());
    CU_ASSERT_EQUAL(count(log, want), 4);
    CU_ASSERT_EQUAL(
        count(log, "cmd=retry args=\"{\\\"id\\\":\\\"M20261128-0001\\\"}\" "
                   "phase=result outcome=ok\n"),
        1);
    CU_ASSERT_EQUAL(count(log, "cmd=retry args=\"{\\\"id\\\":\\\"BAD\\\"}\" "
                               "phase=result outcome=\"error: message BAD "
                               "is booked\"\n"),
                    1);
    free(log);
    fx_stop(&fx);
}

/* If the request cannot be audited, the command must not run.  The audit
 * write is made to fail with RLIMIT_FSIZE (EFBIG), which needs no root. */
static void test_audit_failure_refuses(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    struct rlimit old, lim;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 0; /* the audit log is empty: any append fails */
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);

    json_t *args = json_pack("{s:s}", "id", "M1");
    json_t *res = NULL;
    struct h2h_err err;
    int rc = ctlc_request(fx.sock, "retry", args, TMO, &res, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    CU_ASSERT_EQUAL(rc, H2H_EINVALID);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(err.msg, "command refused: cannot write the audit log"));
    CU_ASSERT_EQUAL(fx.h_calls, 0);
    json_decref(args);

    /* Unaudited commands still work, and audited ones again afterwards. */
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "echo", NULL, TMO, &res, &err), 0);
    json_decref(res);
    args = json_pack("{s:s}", "id", "M2");
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "retry", args, TMO, &res, &err),
                    0);
    CU_ASSERT_EQUAL(fx.h_calls, 1);
    json_decref(res);
    json_decref(args);
    fx_stop(&fx);
}

static void test_idle_timeout(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 300), 0);
    int fd = raw_connect(fx.sock);
    CU_ASSERT_FATAL(fd >= 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char buf[64];
    int eof;
    raw_recv(fd, buf, sizeof(buf), 1, TMO, &eof);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000
              + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CU_ASSERT_EQUAL(eof, 1);
    CU_ASSERT(ms >= 250);
    CU_ASSERT(ms < TMO);
    close(fd);

    /* Activity keeps a connection open past the timeout. */
    struct ctlc *c = NULL;
    json_t *res;
    CU_ASSERT_EQUAL_FATAL(ctlc_connect(fx.sock, TMO, &c, NULL), 0);
    for (int i = 0; i < 4; i++) {
        usleep(150 * 1000);
        CU_ASSERT_EQUAL(ctlc_call(c, "echo", NULL, TMO, &res, NULL), 0);
        json_decref(res);
    }
    ctlc_close(c);
    fx_stop(&fx);
}

/* Closing the server with clients connected leaves nothing behind. */
static void test_close_with_clients(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = raw_connect(fx.sock);
    /* One has a partial request buffered. */
    raw_send(fds[1], "{\"cmd\":", 7);
    /* Make sure the server accepted them before closing. */
    json_t *res;
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "echo", NULL, TMO, &res, NULL), 0);
    json_decref(res);
    fx_stop(&fx); /* asserts uv_loop_close() == 0 */
    for (int i = 0; i < 3; i++) {
        char buf[64];
        int eof;
        CU_ASSERT(fds[i] >= 0);
        raw_recv(fds[i], buf, sizeof(buf), 1, TMO, &eof);
        CU_ASSERT_EQUAL(eof, 1);
        close(fds[i]);
    }
}

static void test_stale_socket_replaced(void)
{
    char dir[256], path[512];
    snprintf(dir, sizeof(dir), "%s", tu_mkdtemp());
    snprintf(path, sizeof(path), "%s/ctl.sock", dir);
    /* A socket file nobody listens on: what a crashed daemon leaves. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    set_sun(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);

    uv_loop_t loop;
    struct ctl_server *s = NULL;
    struct h2h_err err;
    uv_loop_init(&loop);
    int rc = ctl_server_start(&loop, path, 0600, NULL, &s, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0) {
        CU_ASSERT_EQUAL(stat(path, &st), 0);
        CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
        /* It listens: a connect succeeds (backlog, loop not running). */
        int c = raw_connect(path);
        CU_ASSERT(c >= 0);
        if (c >= 0)
            close(c);
        int closed = 0;
        ctl_server_close(s, int_cb, &closed);
        CU_ASSERT_EQUAL(closed, 0); /* only once the handles are closed */
        uv_run(&loop, UV_RUN_DEFAULT);
        CU_ASSERT_EQUAL(closed, 1);
    }
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
    tu_rmtree(dir);
}

static void test_second_server_refused(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    uv_loop_t loop2;
    uv_loop_init(&loop2);
    struct ctl_server *s2 = (struct ctl_server *)1;
    struct h2h_err err;
    h2h_err_clear(&err);
    int rc = ctl_server_start(&loop2, fx.sock, 0660, NULL, &s2, &err);
    CU_ASSERT_EQUAL(rc, -EADDRINUSE);
    CU_ASSERT_PTR_NULL(s2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, fx.sock));
    CU_ASSERT_EQUAL(uv_loop_close(&loop2), 0);
    /* The first server is untouched. */
    json_t *res;
    CU_ASSERT_EQUAL(ctlc_request(fx.sock, "echo", NULL, TMO, &res, NULL), 0);
    json_decref(res);

    /* Something that is not a socket is never removed. */
    char other[600];
    snprintf(other, sizeof(other), "%s/plain", fx.dir);
    tu_write_file(other, "x", 1);
    uv_loop_init(&loop2);
    rc = ctl_server_start(&loop2, other, 0660, NULL, &s2, &err);
    CU_ASSERT_EQUAL(rc, -EEXIST);
    struct stat st;
    CU_ASSERT_EQUAL(stat(other, &st), 0);
    CU_ASSERT(S_ISREG(st.st_mode));
    CU_ASSERT_EQUAL(uv_loop_close(&loop2), 0);
    fx_stop(&fx);
}

static void test_client_errors(void)
{
    char dir[256], path[512];
    json_t *res;
    struct h2h_err err;
    snprintf(dir, sizeof(dir), "%s", tu_mkdtemp());
    snprintf(path, sizeof(path), "%s/none.sock", dir);
    int rc = ctlc_request(path, "status", NULL, TMO, &res, &err);
    CU_ASSERT_EQUAL(rc, -ENOENT);
    CU_ASSERT(ctlc_unreachable(rc));
    char want[700];
    snprintf(want, sizeof(want), "h2hd is not running (no socket at %s)",
             path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);

    /* Stale socket file: nobody listens. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    set_sun(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    rc = ctlc_request(path, "status", NULL, TMO, &res, &err);
    CU_ASSERT_EQUAL(rc, -ECONNREFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "h2hd is not running"));

    /* A listener that never answers: timeout. */
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    listen(fd, 4);
    rc = ctlc_request(path, "status", NULL, 300, &res, &err);
    CU_ASSERT_EQUAL(rc, H2H_ETIMEOUT);
    CU_ASSERT(ctlc_unreachable(rc));
    close(fd);
    tu_rmtree(dir);
}

/* The socket's mode keeps out who is not owner or group: as root, check it
 * from a child that became nobody; otherwise with a mode-0 socket. */
static void test_permission_denied(void)
{
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    char want[700];
    snprintf(want, sizeof(want),
             "permission denied on %s: run as a member of the h2hd group or "
             "as root",
             fx.sock);
    if (geteuid() == 0) {
        CU_ASSERT_EQUAL(chmod(fx.dir, 0755), 0); /* only the socket guards */
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            json_t *res;
            struct h2h_err err;
            if (setgroups(0, NULL) < 0 || setgid(65534) < 0
                || setuid(65534) < 0)
                _exit(10);
            int rc = ctlc_request(fx.sock, "echo", NULL, TMO, &res, &err);
            if (rc != -EACCES)
                _exit(11);
            _exit(strcmp(err.msg, want) == 0 ? 0 : 12);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CU_ASSERT(WIFEXITED(st));
        CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
    } else {
        CU_ASSERT_EQUAL(chmod(fx.sock, 0), 0);
        json_t *res;
        struct h2h_err err;
        int rc = ctlc_request(fx.sock, "echo", NULL, TMO, &res, &err);
        CU_ASSERT_EQUAL(rc, -EACCES);
        CU_ASSERT_STRING_EQUAL(err.msg, want);
    }
    fx_stop(&fx);
}

/* ---- the h2hctl binary ---------------------------------------------- */

static const char *h2hctl_bin(void)
{
    static char buf[1024];
    const char *b = getenv("H2H_BUILD");
    snprintf(buf, sizeof(buf), "%s/daemon/h2hctl", b && *b ? b : ".");
    if (access(buf, X_OK) != 0) {
        fprintf(stderr, "h2hctl binary not found at %s (set H2H_BUILD and "
                        "build the h2hctl target)\n",
                buf);
        return NULL;
    }
    return buf;
}

static void test_h2hctl_not_running(void)
{
    const char *bin = h2hctl_bin();
    CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
    const char *dir = tu_mkdtemp();
    char errf[512], want[700];
    snprintf(errf, sizeof(errf), "%s/err", dir);
    int rc = tu_system("H2H_SOCKET= %s -s %s/none.sock status >/dev/null "
                       "2>%s",
                       bin, dir, errf);
    CU_ASSERT_EQUAL(rc, 3);
    char *out = tu_read_file(errf, NULL);
    snprintf(want, sizeof(want), "h2hd is not running (no socket at "
                                 "%s/none.sock)",
             dir);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, want) : NULL);
    free(out);

    /* Same through $H2H_SOCKET. */
    rc = tu_system("H2H_SOCKET=%s/none.sock %s queue >/dev/null 2>&1", dir,
                   bin);
    CU_ASSERT_EQUAL(rc, 3);
    tu_rmtree(dir);
}

static void test_h2hctl_commands(void)
{
    const char *bin = h2hctl_bin();
    CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
    struct fixture fx;
    CU_ASSERT_EQUAL_FATAL(fx_start(&fx, 0), 0);
    char outf[512], errf[512];
    snprintf(outf, sizeof(outf), "%s/out", fx.dir);
    snprintf(errf, sizeof(errf), "%s/err", fx.dir);
    char *out;

    /* status, table form */
    int rc = tu_system("%s -s %s status >%s 2>%s", bin, fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "h2hd 0.1.0, pid 123, up 1h 2m 5s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "BANK      ADAPTER  HEALTH  "
                                       "MESSAGES\n"
                                       "bank-one  dirdrop  ok      "
                                       "deferred=2\n"));
    free(out);

    /* Socket resolution: -s beats $H2H_SOCKET, which beats the config;
     * the config is read with the daemon's own loader. */
    char conf[600];
    snprintf(conf, sizeof(conf), "%s/h2hd.conf", fx.dir);
    char *ctext = NULL;
    CU_ASSERT(asprintf(&ctext,
                       "daemon = { control_socket = \"%s\"; };\n"
                       "banks = ();\nchannels = ();\n",
                       fx.sock) > 0);
    tu_write_file(conf, ctext, strlen(ctext));
    free(ctext);
    rc = tu_system("H2H_SOCKET= %s -c %s status >%s 2>%s", bin, conf, outf,
                   errf);
    CU_ASSERT_EQUAL(rc, 0);
    rc = tu_system("H2H_SOCKET=%s/nope %s -c %s status >%s 2>%s", fx.dir,
                   bin, conf, outf, errf);
    CU_ASSERT_EQUAL(rc, 3);
    rc = tu_system("H2H_SOCKET=%s/nope %s -s %s -c %s status >%s 2>%s",
                   fx.dir, bin, fx.sock, conf, outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    tu_write_file(conf, "daemon = { bogus = 1; };\n", 25);
    rc = tu_system("H2H_SOCKET= %s -c %s status >%s 2>%s", bin, conf, outf,
                   errf);
    CU_ASSERT_EQUAL(rc, 2);
    out = tu_read_file(errf, NULL);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "bogus") : NULL);
    free(out);

    /* status --json: the daemon's result, as JSON */
    rc = tu_system("H2H_SOCKET=%s %s --json status >%s 2>%s", fx.sock, bin,
                   outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    json_t *got = json_load_file(outf, 0, NULL);
    json_t *want = NULL;
    h_status(NULL, NULL, 0, &want, NULL);
    CU_ASSERT(got && json_equal(got, want));
    json_decref(got);
    json_decref(want);

    /* queue with options; the terminal escape in the file name is
     * neutralised */
    rc = tu_system("%s -s %s queue --state deferred --limit=7 >%s 2>%s", bin,
                   fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ID              STATE     BANK"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "M20261128-0001  deferred  bank-one"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  7      "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "pay?[31m1.xml"));
    CU_ASSERT_PTR_NULL(strchr(out, '\x1b'));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 message\n"));
    free(out);

    /* retry: audited, ok */
    rc = tu_system("%s -s %s retry M1 >%s 2>%s", bin, fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_STRING_EQUAL(out ? out : "", "M1: rendered\n");
    free(out);

    /* daemon-reported error: exit 1 and the daemon's reason */
    rc = tu_system("%s -s %s retry BAD >%s 2>%s", bin, fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 1);
    out = tu_read_file(errf, NULL);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "message BAD is booked")
                               : NULL);
    free(out);

    /* certs: a table, short columns first, days left marked when expired,
     * escapes neutralised; a bank filter is passed on; --json is the
     * daemon's answer */
    rc = tu_system("%s -s %s certs >%s 2>%s", bin, fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "BANK      LABEL                           DAYS LEFT     "
                    "NOT AFTER             SUBJECT                     "
                    "ISSUER             SHA-256 FINGERPRINT\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "bank-one  tls client                      4             "
                    "2026-12-03T10:00:00Z  CN=h2hd client?[31m,O=test  "
                    "CN=test CA,O=test  AB:CD:EF\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "bank-two  bank response signing (pinned)  -3 (expired)  "
                    "2026-11-25T10:00:00Z  CN=bank"));
    CU_ASSERT_PTR_NULL(strchr(out, '\x1b'));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2 certificates\n"));
    free(out);
    rc = tu_system("%s -s %s certs bank-one >%s 2>%s", bin, fx.sock, outf,
                   errf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "bank-one  tls client") : NULL);
    CU_ASSERT_PTR_NULL(out ? strstr(out, "bank-two") : "");
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "1 certificate\n") : NULL);
    free(out);
    rc = tu_system("%s -s %s certs empty >%s 2>%s", bin, fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_STRING_EQUAL(out ? out : "", "no certificates in use\n");
    free(out);
    rc = tu_system("%s -s %s certs nosuch >%s 2>%s", bin, fx.sock, outf,
                   errf);
    CU_ASSERT_EQUAL(rc, 1);
    out = tu_read_file(errf, NULL);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "no bank named \"nosuch\"")
                               : NULL);
    free(out);
    rc = tu_system("%s -s %s certs --json bank-one >%s 2>%s", bin, fx.sock,
                   outf, errf);
    CU_ASSERT_EQUAL(rc, 0);
    got = json_load_file(outf, 0, NULL);
    json_t *certs_args = json_pack("{s:s}", "bank", "bank-one");
    want = NULL;
    h_certs(NULL, certs_args, 0, &want, NULL);
    CU_ASSERT(got && json_equal(got, want));
    json_decref(certs_args);
    json_decref(got);
    json_decref(want);

    /* command the daemon does not know (hold is not registered here) */
    rc = tu_system("%s -s %s hold M1 >%s 2>%s", bin, fx.sock, outf, errf);
    CU_ASSERT_EQUAL(rc, 1);

    /* usage errors: exit 2, nothing sent */
    static const char *const usage_cases[] = {
        "show", "retry A B", "frobnicate", "queue --limit 0",
        "queue --bogus x", "", "certs a b", "certs --bank x",
    };
    int calls_before = fx.h_calls;
    for (size_t i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]);
         i++) {
        rc = tu_system("%s -s %s %s >/dev/null 2>&1", bin, fx.sock,
                       usage_cases[i]);
        if (rc != 2)
            fprintf(stderr, "h2hctl %s: exit %d\n", usage_cases[i], rc);
        CU_ASSERT_EQUAL(rc, 2);
    }
    CU_ASSERT_EQUAL(fx.h_calls, calls_before);

    rc = tu_system("%s help >%s 2>&1", bin, outf);
    CU_ASSERT_EQUAL(rc, 0);
    out = tu_read_file(outf, NULL);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "release ID") : NULL);
    CU_ASSERT_PTR_NOT_NULL(out ? strstr(out, "certs [BANK]") : NULL);
    free(out);
    fx_stop(&fx);
}

static const struct tu_case cases[] = {
    {"round trip, mode 0660, several per connection", test_round_trip},
    {"pipelined raw requests", test_pipelined_raw},
    {"unknown command, handler errors, bad requests", test_errors},
    {"oversized request answered and closed", test_oversized},
    {"audit record written before the handler", test_audit_before_handler},
    {"audit log that cannot be written", test_audit_failure_refuses},
    {"idle client disconnected", test_idle_timeout},
    {"close with clients connected", test_close_with_clients},
    {"stale socket replaced", test_stale_socket_replaced},
    {"second server refused", test_second_server_refused},
    {"client error messages", test_client_errors},
    {"permission denied message", test_permission_denied},
    {"h2hctl: not running", test_h2hctl_not_running},
    {"h2hctl: commands, output, exit codes", test_h2hctl_commands},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("ctl", cases);
}
