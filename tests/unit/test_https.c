/*
 * test_https.c - the asynchronous HTTPS transport against real TLS servers
 * on loopback: tests/sims/tls_server.py (Python's ssl, i.e. OpenSSL, in
 * another process) with certificates from tests/sims/pki.py.  What the
 * servers saw (connections, requests and their timing, CONNECT targets)
 * comes from their JSON logs, not from the client.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <uv.h>

#include "https.h"
#include "testutil.h"

#define PY "/usr/bin/python3"

/* ---- servers ---------------------------------------------------------- */

enum {
    S_MAIN,      /* server cert, client cert optional (CA ca) */
    S_MTLS,      /* client cert required */
    S_TLS12,     /* TLS 1.2 only, client cert required */
    S_WRONG,     /* cert for wrong.example */
    S_EXPIRED,   /* expired cert */
    S_UNTRUSTED, /* cert by the untrusted CA */
    S_PROXY,     /* CONNECT proxy */
    S_PROXYAUTH, /* CONNECT proxy wanting Basic user:secret */
    S_COUNT,
};

static const char *const srv_name[S_COUNT] = {"main",  "mtls",     "tls12",
                                              "wrong", "expired",  "untrusted",
                                              "proxy", "proxyauth"};

struct proc {
    pid_t pid;
    int fd; /* stdout until LISTEN was read */
    unsigned port;
    char log[600];
};

static struct {
    int up, failed;
    char dir[256];
    char pki[300];
    struct proc s[S_COUNT];
    char server_pin[80], ca2_pin[80], server_sha256[120];
} env;

static const char *pki(const char *name)
{
    static char buf[8][600];
    static int n;
    char *b = buf[n++ % 8];
    snprintf(b, 600, "%s/%s", env.pki, name);
    return b;
}

static int spawn(struct proc *p, const char *name, const char *const *args)
{
    const char *argv[32];
    char lifetime[] = "120";
    int n = 0, fds[2];
    snprintf(p->log, sizeof(p->log), "%s/%s.log", env.dir, name);
    argv[n++] = PY;
    argv[n++] = tu_src("tests/sims/tls_server.py");
    argv[n++] = "--log";
    argv[n++] = p->log;
    argv[n++] = "--lifetime";
    argv[n++] = lifetime;
    while (*args && n < 30)
        argv[n++] = *args++;
    argv[n] = NULL;
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        dup2(fds[1], 1);
        execv(PY, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    p->fd = fds[0];
    return 0;
}

/* Read "LISTEN <port>" within ms. */
static int wait_listen(struct proc *p, int ms)
{
    char buf[128];
    size_t len = 0;
    uint64_t end = uv_hrtime() / 1000000 + (uint64_t)ms;
    while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
        int64_t left = (int64_t)(end - uv_hrtime() / 1000000);
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        ssize_t r = read(p->fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(p->fd);
    p->fd = -1;
    return sscanf(buf, "LISTEN %u", &p->port) == 1 ? 0 : -1;
}

static void json_str(json_t *man, const char *a, const char *b, char *dst,
                     size_t n)
{
    const char *v =
        json_string_value(json_object_get(json_object_get(man, a), b));
    snprintf(dst, n, "%s", v ? v : "");
}

static int env_start(void)
{
    if (env.up || env.failed)
        return env.up ? 0 : -1;
    env.failed = 1;
    const char *d = tu_mkdtemp();
    if (!d)
        return -1;
    snprintf(env.dir, sizeof(env.dir), "%s", d);
    snprintf(env.pki, sizeof(env.pki), "%s/pki", env.dir);
    if (tu_system("%s %s %s > /dev/null", PY, tu_src("tests/sims/pki.py"),
                  env.pki) != 0)
        return -1;
    json_t *man = json_load_file(pki("manifest.json"), 0, NULL);
    if (!man)
        return -1;
    json_str(man, "server", "pin", env.server_pin, sizeof(env.server_pin));
    json_str(man, "ca2", "pin", env.ca2_pin, sizeof(env.ca2_pin));
    json_str(man, "server", "sha256", env.server_sha256,
             sizeof(env.server_sha256));
    json_decref(man);

    char cert[600], key[600], ca[600], wcert[600], wkey[600], ecert[600],
        ekey[600], ucert[600], ukey[600];
    snprintf(cert, sizeof(cert), "%s", pki("server.pem"));
    snprintf(key, sizeof(key), "%s", pki("server.key"));
    snprintf(ca, sizeof(ca), "%s", pki("ca.pem"));
    snprintf(wcert, sizeof(wcert), "%s", pki("wronghost.pem"));
    snprintf(wkey, sizeof(wkey), "%s", pki("wronghost.key"));
    snprintf(ecert, sizeof(ecert), "%s", pki("expired.pem"));
    snprintf(ekey, sizeof(ekey), "%s", pki("expired.key"));
    snprintf(ucert, sizeof(ucert), "%s", pki("untrusted.pem"));
    snprintf(ukey, sizeof(ukey), "%s", pki("untrusted.key"));
    const char *a_main[] = {"--cert", cert, "--key", key, "--ca", ca, NULL};
    const char *a_mtls[] = {
        "--cert", cert, "--key", key, "--ca", ca, "--require-client-cert",
        NULL};
    const char *a_tls12[] = {
        "--cert",       cert, "--key", key, "--ca", ca, "--require-client-cert",
        "--tls12-only", NULL};
    const char *a_wrong[] = {"--cert", wcert, "--key", wkey, NULL};
    const char *a_exp[] = {"--cert", ecert, "--key", ekey, NULL};
    const char *a_untr[] = {"--cert", ucert, "--key", ukey, NULL};
    const char *a_proxy[] = {"--proxy", NULL};
    const char *a_proxyauth[] = {"--proxy", "--proxy-auth", "h2h:s3cret", NULL};
    const char *const *args[S_COUNT] = {a_main, a_mtls, a_tls12, a_wrong,
                                        a_exp,  a_untr, a_proxy, a_proxyauth};
    /* start all, then wait for all: the interpreters start in parallel */
    for (int i = 0; i < S_COUNT; i++)
        if (spawn(&env.s[i], srv_name[i], args[i]) != 0)
            return -1;
    for (int i = 0; i < S_COUNT; i++)
        if (wait_listen(&env.s[i], 15000) != 0) {
            fprintf(stderr, "tls_server %s did not start\n", srv_name[i]);
            return -1;
        }
    env.up = 1;
    env.failed = 0;
    return 0;
}

static void env_stop(void)
{
    for (int i = 0; i < S_COUNT; i++)
        if (env.s[i].pid > 0) {
            kill(env.s[i].pid, SIGTERM);
            waitpid(env.s[i].pid, NULL, 0);
            env.s[i].pid = 0;
        }
    if (env.dir[0] && !getenv("H2H_TEST_KEEP"))
        tu_rmtree(env.dir);
}

#define NEED_SERVERS()                                                         \
    do {                                                                       \
        if (env_start() != 0) {                                                \
            CU_FAIL("test servers did not start");                             \
            return;                                                            \
        }                                                                      \
    } while (0)

static const char *url(int srv, const char *path)
{
    static char buf[8][256];
    static int n;
    char *b = buf[n++ % 8];
    snprintf(b, 256, "https://127.0.0.1:%u%s", env.s[srv].port, path);
    return b;
}

/* Lines of a server log with "event": ev (and path starting with prefix). */
static int log_count(int srv, const char *ev, const char *prefix)
{
    FILE *f = fopen(env.s[srv].log, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *e = json_string_value(json_object_get(j, "event"));
        const char *p = json_string_value(json_object_get(j, "path"));
        if (e && !strcmp(e, ev) &&
            (!prefix || (p && !strncmp(p, prefix, strlen(prefix)))))
            n++;
        json_decref(j);
    }
    if (f)
        fclose(f);
    return n;
}

/* Wait until the server logged want events ev (with a path starting with
 * prefix); 0 when it did within ms.  A server logs a request when its
 * handler ends, which may be after the client saw the connection close. */
static int wait_event(int srv, const char *ev, const char *prefix, int want,
                      unsigned ms)
{
    uint64_t end = uv_hrtime() / 1000000 + ms;
    while (log_count(srv, ev, prefix) < want) {
        if (uv_hrtime() / 1000000 > end)
            return -1;
        usleep(50 * 1000);
    }
    return 0;
}

static int wait_log(int srv, const char *prefix, int want, unsigned ms)
{
    return wait_event(srv, "req", prefix, want, ms);
}

/* ---- client side ------------------------------------------------------ */

struct got {
    int calls;
    enum h2h_outcome outcome;
    int code;
    char msg[H2H_ERR_MSG_MAX];
    long status;
    enum https_sent sent;
    uint64_t body_sent;
    char *body; /* copy, NUL-terminated; NULL when the result had none */
    uint64_t body_len;
    char ctype[128];
    int n_headers;
    int new_connection, resent;
    struct https_peer peer;
    unsigned long total_ms;
    int *counter; /* shared completion counter, optional */
    int order;    /* value of *counter after this one */
};

static void got_cb(const struct https_result *r, void *data)
{
    struct got *g = data;
    g->calls++;
    g->outcome = r->outcome;
    g->code = r->err.code;
    snprintf(g->msg, sizeof(g->msg), "%s", r->err.msg);
    g->status = r->status;
    g->sent = r->sent;
    g->body_sent = r->body_sent;
    g->body_len = r->body_len;
    free(g->body);
    g->body = NULL;
    if (r->body) {
        g->body = malloc(r->body_len + 1);
        memcpy(g->body, r->body, r->body_len);
        g->body[r->body_len] = '\0';
    }
    const char *ct = https_result_header(r, "content-type");
    snprintf(g->ctype, sizeof(g->ctype), "%s", ct ? ct : "");
    g->n_headers = (int)r->n_headers;
    g->new_connection = r->new_connection;
    g->resent = r->resent;
    g->peer = r->peer;
    g->total_ms = r->total_ms;
    if (g->counter)
        g->order = ++*g->counter;
    if (getenv("H2H_TEST_VERBOSE"))
        fprintf(stderr, "  [%s status=%ld sent=%d] %s\n",
                h2h_outcome_name(r->outcome), r->status, (int)r->sent,
                r->err.msg);
}

static void got_free(struct got *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(g[i].body);
        g[i].body = NULL;
    }
}

static void wake_cb(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop until *count >= want or ms passed; 0 when reached. */
static int run_until(uv_loop_t *loop, int *count, int want, unsigned ms)
{
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, wake_cb, ms, 0);
    uint64_t end = uv_now(loop) + ms;
    while (*count < want && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *count >= want ? 0 : -1;
}

static void run_for(uv_loop_t *loop, unsigned ms)
{
    int never = 0;
    run_until(loop, &never, 1, ms);
}

static void closed_cb(void *data)
{
    (*(int *)data)++;
}

/* Close c, drain the loop, and check that nothing leaked. */
static void finish(uv_loop_t *loop, struct https_client *c)
{
    int closed = 0;
    if (c) {
        https_client_close(c, closed_cb, &closed);
        CU_ASSERT_EQUAL(closed, 0); /* never from inside the call */
        CU_ASSERT_EQUAL(run_until(loop, &closed, 1, 10000), 0);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(closed, c ? 1 : 0);
    CU_ASSERT_EQUAL(uv_loop_close(loop), 0);
}

static struct https_opts base_opts(void)
{
    static char ca[600];
    struct https_opts o;
    memset(&o, 0, sizeof(o));
    snprintf(ca, sizeof(ca), "%s", pki("ca.pem"));
    o.ca_file = ca;
    o.connect_timeout_ms = 3000;
    o.request_timeout_ms = 10000;
    return o;
}

/* One request on a fresh client (and loop); result in *g. */
static void one(const struct https_opts *o, const struct https_req *rq,
                struct got *g)
{
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    memset(g, 0, sizeof(*g));
    uv_loop_init(&loop);
    int rc = https_client_new(&loop, o, &c, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) {
        fprintf(stderr, "  https_client_new: %s\n", err.msg);
        finish(&loop, NULL);
        g->outcome = -1;
        return;
    }
    rc = https_request(c, rq, got_cb, g, NULL, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "  https_request: %s\n", err.msg);
    CU_ASSERT_EQUAL(g->calls, 0); /* never from inside the call */
    if (!rc)
        CU_ASSERT_EQUAL(run_until(&loop, &g->calls, 1, 30000), 0);
    finish(&loop, c);
    CU_ASSERT_EQUAL(g->calls, rc ? 0 : 1);
}

static void get(const struct https_opts *o, const char *u, struct got *g)
{
    struct https_req rq = {.url = u};
    one(o, &rq, g);
}

/* The echo's JSON (caller json_decref's). */
static json_t *echo(const struct got *g)
{
    json_t *j = g->body ? json_loads(g->body, JSON_ALLOW_NUL, NULL) : NULL;
    CU_ASSERT_PTR_NOT_NULL(j);
    return j;
}

static const char *jstr(json_t *j, const char *k)
{
    const char *v = json_string_value(json_object_get(j, k));
    return v ? v : "";
}

/* Value of header name in the echo's header list, or NULL. */
static const char *echo_header(json_t *j, const char *name)
{
    json_t *hs = json_object_get(j, "headers");
    for (size_t i = 0; i < json_array_size(hs); i++) {
        json_t *h = json_array_get(hs, i);
        if (!strcasecmp(json_string_value(json_array_get(h, 0)), name))
            return json_string_value(json_array_get(h, 1));
    }
    return NULL;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int contains(const char *hay, const char *needle)
{
    int ok = hay && strstr(hay, needle) != NULL;
    if (!ok)
        fprintf(stderr, "  expected \"%s\" in: %s\n", needle, hay ? hay : "");
    return ok;
}

static char *read_secret(const char *path)
{
    char *s = tu_read_file(path, NULL);
    if (s)
        s[strcspn(s, "\r\n")] = '\0';
    return s;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int l = 0;
    EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* ---- tests: requests -------------------------------------------------- */

static void test_get_post_echo(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;

    /* GET with headers of ours (one empty), by IP */
    const char *hdrs[] = {"X-H2H-Test: yes", "X-Empty:", NULL};
    struct https_req rq = {.url = url(S_MAIN, "/hello?x=1"), .headers = hdrs};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.status, 200);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_ALL);
    CU_ASSERT_STRING_EQUAL(g.ctype, "application/json");
    CU_ASSERT_TRUE(g.n_headers >= 3);
    CU_ASSERT_EQUAL(g.new_connection, 1);
    json_t *j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "method"), "GET");
    CU_ASSERT_STRING_EQUAL(jstr(j, "path"), "/hello?x=1");
    CU_ASSERT_STRING_EQUAL(nz(echo_header(j, "X-H2H-Test")), "yes");
    CU_ASSERT_STRING_EQUAL(nz(echo_header(j, "X-Empty")), "");
    CU_ASSERT_PTR_NOT_NULL(echo_header(j, "X-Empty"));
    CU_ASSERT_STRING_EQUAL(nz(echo_header(j, "User-Agent")), "h2hd");
    const char *tv = jstr(j, "tls_version");
    CU_ASSERT_TRUE(!strcmp(tv, "TLSv1.3") || !strcmp(tv, "TLSv1.2"));
    CU_ASSERT_STRING_EQUAL(g.peer.tls_version, tv);
    json_decref(j);
    /* the presented certificate, as pki.py made it */
    CU_ASSERT_TRUE(contains(g.peer.subject, "CN=127.0.0.1"));
    CU_ASSERT_TRUE(contains(g.peer.issuer, "CN=h2hd test root CA"));
    CU_ASSERT_STRING_EQUAL(g.peer.sha256, env.server_sha256);
    CU_ASSERT_STRING_EQUAL(g.peer.pin, env.server_pin);
    got_free(&g, 1);

    /* by name (SAN DNS localhost) */
    char u[256];
    snprintf(u, sizeof(u), "https://localhost:%u/byname", env.s[S_MAIN].port);
    get(&o, u, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.status, 200);
    got_free(&g, 1);

    /* POST with a body and a content type */
    const char body[] = "<Document>payload äöü</Document>";
    const char *xml[] = {"Content-Type: application/xml", NULL};
    struct https_req post = {.url = url(S_MAIN, "/submit"),
                             .headers = xml,
                             .body = body,
                             .body_len = strlen(body)};
    one(&o, &post, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_ALL);
    CU_ASSERT_EQUAL(g.body_sent, strlen(body));
    j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "method"), "POST");
    CU_ASSERT_STRING_EQUAL(jstr(j, "body"), body);
    CU_ASSERT_STRING_EQUAL(nz(echo_header(j, "Content-Type")),
                           "application/xml");
    CU_ASSERT_PTR_NULL(echo_header(j, "Expect"));
    json_decref(j);
    got_free(&g, 1);

    /* PUT without a content type: octet-stream, not form data */
    struct https_req put = {.method = "PUT",
                            .url = url(S_MAIN, "/put"),
                            .body = "x",
                            .body_len = 1};
    one(&o, &put, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "method"), "PUT");
    CU_ASSERT_STRING_EQUAL(nz(echo_header(j, "Content-Type")),
                           "application/octet-stream");
    json_decref(j);
    got_free(&g, 1);

    /* empty POST, DELETE, HEAD */
    struct https_req empty = {.url = url(S_MAIN, "/e"), .body = ""};
    one(&o, &empty, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "method"), "POST");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "body_len")), 0);
    json_decref(j);
    got_free(&g, 1);
    struct https_req del = {.method = "DELETE", .url = url(S_MAIN, "/d")};
    one(&o, &del, &g);
    j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "method"), "DELETE");
    json_decref(j);
    got_free(&g, 1);
    struct https_req head = {.method = "HEAD", .url = url(S_MAIN, "/h")};
    one(&o, &head, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.status, 200);
    CU_ASSERT_EQUAL(g.body_len, 0);
    got_free(&g, 1);

    /* a status is returned as is */
    get(&o, url(S_MAIN, "/status/503"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.status, 503);
    got_free(&g, 1);
}

static void test_files(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    const char *d = tu_mkdtemp();
    char in[512], out[512];
    snprintf(in, sizeof(in), "%s/body.bin", d);
    snprintf(out, sizeof(out), "%s/resp.bin", d);

    /* 1 MiB body from a file */
    size_t n = 1024 * 1024;
    unsigned char *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7 + (i >> 11));
    CU_ASSERT_EQUAL(tu_write_file(in, b, n), 0);
    char want[65];
    sha256_hex(b, n, want);
    free(b);
    struct https_req rq = {.url = url(S_MAIN, "/file"), .body_file = in};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_ALL);
    CU_ASSERT_EQUAL(g.body_sent, n);
    json_t *j = echo(&g);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "body_len")),
                    (json_int_t)n);
    CU_ASSERT_STRING_EQUAL(jstr(j, "body_sha256"), want);
    json_decref(j);
    got_free(&g, 1);

    /* response body into a new file */
    struct https_req big = {.url = url(S_MAIN, "/big?bytes=300000"),
                            .response_file = out};
    one(&o, &big, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_PTR_NULL(g.body);
    CU_ASSERT_EQUAL(g.body_len, 300000);
    struct stat st;
    CU_ASSERT_EQUAL(stat(out, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 300000);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    got_free(&g, 1);

    /* an existing response file is refused and left alone */
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &c, &err), 0);
    CU_ASSERT_EQUAL(https_request(c, &big, got_cb, &g, NULL, &err), -EEXIST);
    CU_ASSERT_EQUAL(stat(out, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 300000);
    /* a missing body file */
    char nofile[600];
    snprintf(nofile, sizeof(nofile), "%s/nope", d);
    struct https_req nob = {.url = url(S_MAIN, "/x"), .body_file = nofile};
    CU_ASSERT_EQUAL(https_request(c, &nob, got_cb, &g, NULL, &err), -ENOENT);
    finish(&loop, c);

    /* too big into a file: the file is gone again */
    unlink(out);
    struct https_req toobig = {.url = url(S_MAIN, "/big?bytes=300000"),
                               .response_file = out,
                               .max_response = 100000};
    one(&o, &toobig, &g);
    CU_ASSERT_EQUAL(g.code, H2H_ETOOBIG);
    CU_ASSERT_NOT_EQUAL(stat(out, &st), 0);
    got_free(&g, 1);
    tu_rmtree(d);
}

static void test_bad_arguments(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    struct got g = {0};
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &c, &err), 0);

    struct https_req plain = {.url = "http://127.0.0.1:1/x"};
    CU_ASSERT_EQUAL(https_request(c, &plain, got_cb, &g, NULL, &err),
                    H2H_EINVALID);
    const char *crlf[] = {"X-A: b\r\nX-Injected: 1", NULL};
    struct https_req inj = {.url = url(S_MAIN, "/"), .headers = crlf};
    CU_ASSERT_EQUAL(https_request(c, &inj, got_cb, &g, NULL, &err),
                    H2H_EINVALID);
    CU_ASSERT_FALSE(strstr(err.msg, "Injected") != NULL); /* no values */
    const char *cl[] = {"Content-Length: 5", NULL};
    struct https_req clr = {.url = url(S_MAIN, "/"), .headers = cl};
    CU_ASSERT_EQUAL(https_request(c, &clr, got_cb, &g, NULL, &err),
                    H2H_EINVALID);
    struct https_req cred = {.url = "https://user:pw@127.0.0.1:1/"};
    CU_ASSERT_EQUAL(https_request(c, &cred, got_cb, &g, NULL, &err),
                    H2H_EINVALID);
    CU_ASSERT_FALSE(strstr(err.msg, "pw") != NULL);
    struct https_req getbody = {
        .method = "GET", .url = url(S_MAIN, "/"), .body = "x", .body_len = 1};
    CU_ASSERT_EQUAL(https_request(c, &getbody, got_cb, &g, NULL, &err),
                    H2H_EINVALID);
    struct https_req badm = {.method = "get it", .url = url(S_MAIN, "/")};
    CU_ASSERT_EQUAL(https_request(c, &badm, got_cb, &g, NULL, &err),
                    H2H_EINVALID);
    finish(&loop, c);
    CU_ASSERT_EQUAL(g.calls, 0);

    /* options */
    struct https_opts b = base_opts();
    b.proxy = "socks5://127.0.0.1:1080";
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL(https_client_new(&loop, &b, &c, &err), H2H_EINVALID);
    CU_ASSERT_PTR_NULL(c);
    b = base_opts();
    b.proxy = "http://user:pw@127.0.0.1:3128";
    CU_ASSERT_EQUAL(https_client_new(&loop, &b, &c, &err), H2H_EINVALID);
    b = base_opts();
    b.pinned_pubkey = "sha256//tooshort";
    CU_ASSERT_EQUAL(https_client_new(&loop, &b, &c, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

/* ---- tests: TLS ------------------------------------------------------- */

static void test_tls12(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    char cert[600], key[600];
    snprintf(cert, sizeof(cert), "%s", pki("client.pem"));
    snprintf(key, sizeof(key), "%s", pki("client.key"));
    o.client_cert = cert;
    o.client_key = key;
    get(&o, url(S_TLS12, "/tls12"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    json_t *j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "tls_version"), "TLSv1.2");
    CU_ASSERT_STRING_EQUAL(jstr(j, "client_cert"), "h2hd client");
    json_decref(j);
    CU_ASSERT_STRING_EQUAL(g.peer.tls_version, "TLSv1.2");
    got_free(&g, 1);

    /* TLS 1.2 refuses a missing client certificate inside the handshake:
     * nothing was sent, and it will not work until configured */
    o = base_opts();
    int before = log_count(S_TLS12, "req", NULL);
    get(&o, url(S_TLS12, "/nocert"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "requires a TLS client certificate"));
    CU_ASSERT_EQUAL(log_count(S_TLS12, "req", NULL), before);
    got_free(&g, 1);
}

static void test_mtls_pem_and_p12(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    char cert[600], key[600], p12[600];
    snprintf(cert, sizeof(cert), "%s", pki("client.pem"));
    snprintf(key, sizeof(key), "%s", pki("client.key"));
    snprintf(p12, sizeof(p12), "%s", pki("client.p12"));

    o.client_cert = cert;
    o.client_key = key;
    get(&o, url(S_MTLS, "/pem"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.status, 200);
    json_t *j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "client_cert"), "h2hd client");
    json_decref(j);
    got_free(&g, 1);

    /* PKCS#12 with its passphrase read from a file, as the daemon would */
    o = base_opts();
    char *pass = read_secret(pki("client.p12.pass"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(pass);
    o.client_p12 = p12;
    o.key_passphrase = pass;
    get(&o, url(S_MTLS, "/p12"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "client_cert"), "h2hd client");
    json_decref(j);
    got_free(&g, 1);

    /* mistakes are caught when the client is created */
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    uv_loop_init(&loop);
    o.key_passphrase = "not the passphrase";
    CU_ASSERT_EQUAL(https_client_new(&loop, &o, &c, &err), H2H_ECONFIG);
    CU_ASSERT_FALSE(strstr(err.msg, "not the passphrase") != NULL);
    CU_ASSERT_FALSE(strstr(err.msg, pass) != NULL);
    o.key_passphrase = NULL;
    CU_ASSERT_EQUAL(https_client_new(&loop, &o, &c, &err), H2H_ECONFIG);
    /* a key readable by others */
    char open_key[600];
    snprintf(open_key, sizeof(open_key), "%s/open.key", env.dir);
    tu_system("cp %s %s && chmod 644 %s", key, open_key, open_key);
    o = base_opts();
    o.client_cert = cert;
    o.client_key = open_key;
    CU_ASSERT_EQUAL(https_client_new(&loop, &o, &c, &err), H2H_ESECURITY);
    CU_ASSERT_TRUE(contains(err.msg, "readable by group or others"));
    /* a key that does not belong to the certificate */
    o.client_key = pki("server.key");
    CU_ASSERT_EQUAL(https_client_new(&loop, &o, &c, &err), H2H_ECONFIG);
    CU_ASSERT_TRUE(contains(err.msg, "does not match"));
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    free(pass);
}

static void test_mtls_refused(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;

    /* no client certificate (TLS 1.3: the refusal comes after the client
     * finished the handshake, and still nothing reached the application) */
    int before = log_count(S_MTLS, "req", NULL);
    struct https_req rq = {
        .url = url(S_MTLS, "/nocert"), .body = "pay", .body_len = 3};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
    CU_ASSERT_TRUE(contains(g.msg, "requires a TLS client certificate"));
    CU_ASSERT_TRUE(contains(g.msg, "none is configured"));
    got_free(&g, 1);

    /* a client certificate from a CA the server does not trust: TLS 1.2
     * refuses it inside the handshake, so the alert is always read */
    char cert[600], key[600];
    snprintf(cert, sizeof(cert), "%s", pki("client2.pem"));
    snprintf(key, sizeof(key), "%s", pki("client2.key"));
    o.client_cert = cert;
    o.client_key = key;
    get(&o, url(S_TLS12, "/othercert"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "refused our TLS client certificate"));
    CU_ASSERT_TRUE(contains(g.msg, "unknown CA"));
    got_free(&g, 1);
    /* TLS 1.3 refuses it after our side finished the handshake; the
     * server's reset can beat its alert to curl, and then all we can say
     * is that it dropped us before the request */
    get(&o, url(S_MTLS, "/othercert"), &g);
    if (g.outcome == H2H_OUT_PERMFAIL) {
        CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
        CU_ASSERT_TRUE(contains(g.msg, "refused our TLS client certificate"));
    } else {
        CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
        CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
        CU_ASSERT_TRUE(contains(g.msg, "may have refused our client"));
    }
    CU_ASSERT_EQUAL(wait_event(S_MTLS, "tls_fail", NULL, 2, 3000), 0);
    CU_ASSERT_EQUAL(log_count(S_MTLS, "req", NULL), before);
    got_free(&g, 1);
}

static void test_wrong_host(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    int before = log_count(S_WRONG, "req", NULL);
    struct https_req rq = {
        .url = url(S_WRONG, "/pay"), .body = "x", .body_len = 1};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "host name check failed"));
    CU_ASSERT_TRUE(contains(g.msg, "CN=wrong.example"));
    CU_ASSERT_TRUE(contains(g.msg, "SHA-256 "));
    CU_ASSERT_TRUE(contains(g.peer.subject, "wrong.example"));
    CU_ASSERT_EQUAL(log_count(S_WRONG, "req", NULL), before);
    got_free(&g, 1);
}

static void test_expired(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    get(&o, url(S_EXPIRED, "/x"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "chain verification failed"));
    CU_ASSERT_TRUE(contains(g.msg, "certificate has expired"));
    CU_ASSERT_TRUE(contains(g.msg, "expired gateway"));
    CU_ASSERT_TRUE(g.peer.not_after[0] != '\0');
    got_free(&g, 1);
}

static void test_untrusted_ca(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    get(&o, url(S_UNTRUSTED, "/x"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "chain verification failed"));
    CU_ASSERT_TRUE(contains(g.msg, "local issuer"));
    CU_ASSERT_TRUE(contains(g.msg, "issuer CN=h2hd untrusted CA"));
    got_free(&g, 1);

    /* the system store does not know our test CA either */
    o.ca_file = NULL;
    get(&o, url(S_MAIN, "/x"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    got_free(&g, 1);

    /* a trust store with only the other CA does not trust the main server:
     * a configured store replaces the default one */
    char ca2[600];
    snprintf(ca2, sizeof(ca2), "%s", pki("ca2.pem"));
    o.ca_file = ca2;
    get(&o, url(S_MAIN, "/x"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    got_free(&g, 1);
}

static void test_pinning(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    char both[200];

    o.pinned_pubkey = env.server_pin;
    get(&o, url(S_MAIN, "/pinned"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    got_free(&g, 1);
    /* one of several pins (key rollover) */
    snprintf(both, sizeof(both), "%s;%s", env.ca2_pin, env.server_pin);
    o.pinned_pubkey = both;
    get(&o, url(S_MAIN, "/pinned2"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    got_free(&g, 1);
    /* the pin file pki.py wrote */
    char pinfile_pin[100];
    char *p = read_secret(pki("server.spki"));
    snprintf(pinfile_pin, sizeof(pinfile_pin), "%s", p ? p : "");
    free(p);
    CU_ASSERT_STRING_EQUAL(pinfile_pin, env.server_pin);

    o.pinned_pubkey = env.ca2_pin;
    get(&o, url(S_MAIN, "/mismatch"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "pin check failed"));
    CU_ASSERT_TRUE(contains(g.msg, env.server_pin)); /* what to pin */
    got_free(&g, 1);
}

/* ---- tests: sizes, timeouts, failures --------------------------------- */

static void test_response_too_big(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    o.max_response = 100000;

    get(&o, url(S_MAIN, "/big?bytes=100000"), &g); /* exactly the cap */
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.body_len, 100000);
    got_free(&g, 1);

    /* with a Content-Length, curl refuses before reading */
    get(&o, url(S_MAIN, "/big?bytes=200000"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g.code, H2H_ETOOBIG);
    CU_ASSERT_TRUE(contains(g.msg, "larger than 100000 bytes"));
    got_free(&g, 1);

    /* chunked: cut while reading; idempotent -> permanent */
    struct https_req rq = {.url = url(S_MAIN, "/big?bytes=200000&chunked=1"),
                           .flags = HTTPS_IDEMPOTENT};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ETOOBIG);
    CU_ASSERT_TRUE(g.body_len <= 100000);
    got_free(&g, 1);
}

static int listener(int backlog, unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t l = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_connect_failures(void)
{
    struct https_opts o = base_opts();
    struct got g;
    char u[128];
    unsigned port;

    /* nobody listens: refused, nothing sent */
    int fd = listener(1, &port);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    close(fd);
    snprintf(u, sizeof(u), "https://127.0.0.1:%u/x", port);
    struct https_req rq = {.url = u, .body = "x", .body_len = 1};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, -ECONNREFUSED);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    got_free(&g, 1);

    /* a server that accepts TCP but never answers the TLS hello */
    o.connect_timeout_ms = 500;
    fd = listener(8, &port);
    snprintf(u, sizeof(u), "https://127.0.0.1:%u/x", port);
    uint64_t t0 = uv_hrtime();
    one(&o, &rq, &g);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "connect timeout"));
    CU_ASSERT_TRUE(ms >= 450 && ms < 3000);
    close(fd);
    got_free(&g, 1);

    /* a full accept queue drops our SYN: TCP connect never completes */
    fd = listener(0, &port);
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL(connect(filler, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(u, sizeof(u), "https://127.0.0.1:%u/x", port);
    t0 = uv_hrtime();
    one(&o, &rq, &g);
    ms = (uv_hrtime() - t0) / 1000000;
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(ms >= 450 && ms < 3000);
    close(filler);
    close(fd);
    got_free(&g, 1);
}

static void test_request_timeout(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    const char body[] = "<pain.001/>";
    int before = log_count(S_MAIN, "req", "/slow?ms=3000");
    struct https_req rq = {.url = url(S_MAIN, "/slow?ms=3000"),
                           .body = body,
                           .body_len = sizeof(body) - 1,
                           .timeout_ms = 700};
    uint64_t t0 = uv_hrtime();
    one(&o, &rq, &g);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_ALL);
    CU_ASSERT_EQUAL(g.body_sent, sizeof(body) - 1);
    CU_ASSERT_TRUE(contains(g.msg, "request timeout"));
    CU_ASSERT_TRUE(contains(g.msg, "may have reached the bank"));
    CU_ASSERT_TRUE(ms >= 650 && ms < 2500);
    got_free(&g, 1);

    /* the same for a request that may be repeated */
    rq.flags = HTTPS_IDEMPOTENT;
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    got_free(&g, 1);
    /* the bank did get both (logged when its handler ends) */
    CU_ASSERT_EQUAL(wait_log(S_MAIN, "/slow?ms=3000", before + 2, 5000), 0);
}

static void test_connection_dropped(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    int before = log_count(S_MAIN, "req", "/close");
    struct https_req rq = {
        .url = url(S_MAIN, "/close"), .body = "pay", .body_len = 3};
    one(&o, &rq, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_ALL);
    CU_ASSERT_TRUE(contains(g.msg, "may have reached the bank"));
    CU_ASSERT_EQUAL(g.status, 0);
    got_free(&g, 1);
    CU_ASSERT_EQUAL(wait_log(S_MAIN, "/close", before + 1, 3000), 0);
    CU_ASSERT_EQUAL(log_count(S_MAIN, "req", "/close"), before + 1);

    struct https_req idem = {.url = url(S_MAIN, "/close"),
                             .flags = HTTPS_IDEMPOTENT};
    one(&o, &idem, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_NOT_EQUAL(g.sent, HTTPS_SENT_NONE);
    got_free(&g, 1);
}

/* The keep-alive race: a reused connection dies after the request went
 * out.  curl would send the body again on a new connection; the transport
 * allows that only for idempotent requests.  The server's log shows how
 * many copies arrived. */
static void test_no_silent_resend(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    struct got g[2];
    for (int pass = 0; pass < 2; pass++) {
        char path[64];
        snprintf(path, sizeof(path), "/close?resend=%d", pass);
        memset(g, 0, sizeof(g));
        uv_loop_init(&loop);
        CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &c, &err), 0);
        struct https_req warm = {.url = url(S_MAIN, "/warm")};
        CU_ASSERT_EQUAL(https_request(c, &warm, got_cb, &g[0], NULL, &err), 0);
        CU_ASSERT_EQUAL(run_until(&loop, &g[0].calls, 1, 10000), 0);
        CU_ASSERT_EQUAL(g[0].outcome, H2H_OUT_OK);
        struct https_req rq = {.url = url(S_MAIN, path),
                               .body = "payment",
                               .body_len = 7,
                               .flags = pass ? HTTPS_IDEMPOTENT : 0};
        CU_ASSERT_EQUAL(https_request(c, &rq, got_cb, &g[1], NULL, &err), 0);
        CU_ASSERT_EQUAL(run_until(&loop, &g[1].calls, 1, 10000), 0);
        finish(&loop, c);
        wait_log(S_MAIN, path, 2, 1000); /* the log may lag the close */
        if (pass == 0) {
            CU_ASSERT_EQUAL(g[1].outcome, H2H_OUT_UNKNOWN);
            CU_ASSERT_EQUAL(g[1].resent, 0);
            CU_ASSERT_EQUAL(log_count(S_MAIN, "req", path), 1);
        } else {
            /* sent twice, as allowed, and reported */
            CU_ASSERT_EQUAL(g[1].outcome, H2H_OUT_TEMPFAIL);
            CU_ASSERT_EQUAL(g[1].resent, 1);
            CU_ASSERT_EQUAL(log_count(S_MAIN, "req", path), 2);
        }
        got_free(g, 2);
    }
}

/* ---- tests: concurrency, reuse, proxy, close --------------------------- */

static void test_concurrency_limit(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    struct got g[10];
    int done = 0;
    const char *tag = "/slow?ms=150&tag=limit";
    memset(g, 0, sizeof(g));
    o.max_concurrent = 2;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &c, &err), 0);
    for (int i = 0; i < 10; i++) {
        char body[32];
        snprintf(body, sizeof(body), "n=%d", i);
        struct https_req rq = {
            .url = url(S_MAIN, tag), .body = body, .body_len = strlen(body)};
        g[i].counter = &done;
        CU_ASSERT_EQUAL(https_request(c, &rq, got_cb, &g[i], NULL, &err), 0);
    }
    struct https_stats st;
    https_client_stats(c, &st);
    CU_ASSERT_EQUAL(st.queued, 10);
    CU_ASSERT_EQUAL(run_until(&loop, &done, 10, 20000), 0);
    https_client_stats(c, &st);
    CU_ASSERT_EQUAL(st.peak_active, 2);
    CU_ASSERT_EQUAL(st.completed, 10);
    CU_ASSERT_TRUE(st.connections <= 2);
    finish(&loop, c);
    for (int i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(g[i].outcome, H2H_OUT_OK);
        json_t *j = echo(&g[i]);
        char body[32];
        snprintf(body, sizeof(body), "n=%d", i);
        CU_ASSERT_STRING_EQUAL(jstr(j, "body"), body);
        json_decref(j);
    }
    /* FIFO: the first two were started first and finished first */
    CU_ASSERT_TRUE(g[0].order <= 2 && g[1].order <= 2);
    got_free(g, 10);

    /* from outside: never more than 2 of them at the server at once */
    FILE *f = fopen(env.s[S_MAIN].log, "r");
    char line[4096];
    double t0[16], t1[16];
    int n = 0;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *p = json_string_value(json_object_get(j, "path"));
        if (p && !strcmp(p, tag) && n < 16) {
            t0[n] = json_real_value(json_object_get(j, "t0"));
            t1[n] = json_real_value(json_object_get(j, "t1"));
            n++;
        }
        json_decref(j);
    }
    if (f)
        fclose(f);
    CU_ASSERT_EQUAL(n, 10);
    int peak = 0;
    for (int i = 0; i < n; i++) {
        int at = 0; /* requests running when request i started */
        for (int k = 0; k < n; k++)
            at += t0[k] <= t0[i] && t1[k] > t0[i];
        if (at > peak)
            peak = at;
    }
    CU_ASSERT_EQUAL(peak, 2);
}

static void reuse_next(const struct https_result *r, void *data);

struct chain {
    struct https_client *c;
    struct got g[5];
    int n;
};

/* Start the next request from the previous one's callback. */
static void reuse_next(const struct https_result *r, void *data)
{
    struct chain *ch = data;
    struct h2h_err err;
    got_cb(r, &ch->g[ch->n]);
    if (++ch->n < 5) {
        struct https_req rq = {.url = url(S_MAIN, "/reuse")};
        CU_ASSERT_EQUAL(https_request(ch->c, &rq, reuse_next, ch, NULL, &err),
                        0);
    }
}

static void test_connection_reuse(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    uv_loop_t loop;
    struct h2h_err err;
    struct chain ch;
    memset(&ch, 0, sizeof(ch));
    int conns = log_count(S_MAIN, "conn", NULL);
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &ch.c, &err), 0);
    struct https_req rq = {.url = url(S_MAIN, "/reuse")};
    CU_ASSERT_EQUAL(https_request(ch.c, &rq, reuse_next, &ch, NULL, &err), 0);
    CU_ASSERT_EQUAL(run_until(&loop, &ch.n, 5, 10000), 0);
    struct https_stats st;
    https_client_stats(ch.c, &st);
    CU_ASSERT_EQUAL(st.connections, 1);
    finish(&loop, ch.c);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(ch.g[i].outcome, H2H_OUT_OK);
        CU_ASSERT_EQUAL(ch.g[i].new_connection, i == 0);
    }
    /* the server saw one connection for all five */
    CU_ASSERT_EQUAL(log_count(S_MAIN, "conn", NULL), conns + 1);
    got_free(ch.g, 5);

    /* HTTPS_FRESH_CONNECT does not take the idle connection */
    struct got g[2];
    memset(g, 0, sizeof(g));
    conns = log_count(S_MAIN, "conn", NULL);
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &ch.c, &err), 0);
    CU_ASSERT_EQUAL(https_request(ch.c, &rq, got_cb, &g[0], NULL, &err), 0);
    CU_ASSERT_EQUAL(run_until(&loop, &g[0].calls, 1, 10000), 0);
    rq.flags = HTTPS_FRESH_CONNECT;
    CU_ASSERT_EQUAL(https_request(ch.c, &rq, got_cb, &g[1], NULL, &err), 0);
    CU_ASSERT_EQUAL(run_until(&loop, &g[1].calls, 1, 10000), 0);
    finish(&loop, ch.c);
    CU_ASSERT_EQUAL(g[1].outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g[1].new_connection, 1);
    CU_ASSERT_EQUAL(log_count(S_MAIN, "conn", NULL), conns + 2);
    got_free(g, 2);
}

static int proxy_saw(int srv, const char *target, int status)
{
    FILE *f = fopen(env.s[srv].log, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "target"));
        if (t && !strcmp(t, target) &&
            json_integer_value(json_object_get(j, "status")) == status)
            n++;
        json_decref(j);
    }
    if (f)
        fclose(f);
    return n;
}

static void test_proxy(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    struct got g;
    char proxy[128], target[64];
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", env.s[S_PROXY].port);
    snprintf(target, sizeof(target), "127.0.0.1:%u", env.s[S_MAIN].port);
    int before = proxy_saw(S_PROXY, target, 200);
    o.proxy = proxy;
    get(&o, url(S_MAIN, "/via-proxy"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.status, 200);
    CU_ASSERT_STRING_EQUAL(g.peer.pin, env.server_pin); /* end to end TLS */
    json_t *j = echo(&g);
    CU_ASSERT_STRING_EQUAL(jstr(j, "path"), "/via-proxy");
    json_decref(j);
    got_free(&g, 1);
    CU_ASSERT_EQUAL(proxy_saw(S_PROXY, target, 200), before + 1);

    /* no_proxy: straight to the server, the proxy sees nothing */
    o.no_proxy = "127.0.0.1";
    get(&o, url(S_MAIN, "/no-proxy"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    got_free(&g, 1);
    CU_ASSERT_EQUAL(proxy_saw(S_PROXY, target, 200), before + 1);

    /* without a configured proxy the environment's is ignored */
    o = base_opts();
    setenv("https_proxy", proxy, 1);
    setenv("HTTPS_PROXY", proxy, 1);
    get(&o, url(S_MAIN, "/no-env-proxy"), &g);
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    got_free(&g, 1);
    CU_ASSERT_EQUAL(proxy_saw(S_PROXY, target, 200), before + 1);

    /* a proxy that wants credentials */
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u",
             env.s[S_PROXYAUTH].port);
    o.proxy = proxy;
    o.proxy_user = "h2h";
    o.proxy_password = "s3cret";
    get(&o, url(S_MAIN, "/auth-proxy"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    got_free(&g, 1);
    CU_ASSERT_EQUAL(proxy_saw(S_PROXYAUTH, target, 200), 1);
    o.proxy_password = "wrong";
    get(&o, url(S_MAIN, "/auth-proxy"), &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
    CU_ASSERT_EQUAL(g.sent, HTTPS_SENT_NONE);
    CU_ASSERT_TRUE(contains(g.msg, "proxy"));
    CU_ASSERT_FALSE(strstr(g.msg, "wrong") != NULL);
    got_free(&g, 1);
}

static void test_close_in_flight(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    struct got g[4];
    int done = 0, closed = 0;
    memset(g, 0, sizeof(g));
    o.max_concurrent = 2;
    int before = log_count(S_MAIN, "req", "/slow?ms=2000&tag=close");
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &c, &err), 0);
    for (int i = 0; i < 4; i++) {
        struct https_req rq = {.url = url(S_MAIN, "/slow?ms=2000&tag=close"),
                               .body = "pay",
                               .body_len = 3};
        g[i].counter = &done;
        CU_ASSERT_EQUAL(https_request(c, &rq, got_cb, &g[i], NULL, &err), 0);
    }
    run_for(&loop, 600); /* the first two are at the server now */
    CU_ASSERT_EQUAL(done, 0);
    uint64_t t0 = uv_hrtime();
    https_client_close(c, closed_cb, &closed);
    CU_ASSERT_EQUAL(done, 0);
    struct https_req late = {.url = url(S_MAIN, "/late")};
    CU_ASSERT_EQUAL(https_request(c, &late, got_cb, &g[0], NULL, &err),
                    H2H_ESTATE);
    CU_ASSERT_EQUAL(run_until(&loop, &closed, 1, 5000), 0);
    CU_ASSERT_TRUE((uv_hrtime() - t0) / 1000000 < 1500);
    CU_ASSERT_EQUAL(done, 4); /* every callback ran before the close cb */
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(g[i].calls, 1);
        CU_ASSERT_EQUAL(g[i].code, H2H_ECANCELED);
    }
    /* in flight: may be at the bank; queued: never left */
    CU_ASSERT_EQUAL(g[0].outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g[1].outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g[0].sent, HTTPS_SENT_ALL);
    CU_ASSERT_EQUAL(g[2].outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g[3].outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g[2].sent, HTTPS_SENT_NONE);
    got_free(g, 4);
    /* only the two in flight reached the server */
    CU_ASSERT_EQUAL(
        wait_log(S_MAIN, "/slow?ms=2000&tag=close", before + 2, 6000), 0);
    CU_ASSERT_EQUAL(log_count(S_MAIN, "req", "/slow?ms=2000&tag=close"),
                    before + 2);
}

static void test_cancel(void)
{
    NEED_SERVERS();
    struct https_opts o = base_opts();
    uv_loop_t loop;
    struct https_client *c = NULL;
    struct h2h_err err;
    struct got g[3];
    struct https_xfer *x[3];
    int done = 0;
    memset(g, 0, sizeof(g));
    o.max_concurrent = 1;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(https_client_new(&loop, &o, &c, &err), 0);
    const char *paths[3] = {"/slow?ms=3000&tag=cancel", "/queued", "/after"};
    for (int i = 0; i < 3; i++) {
        struct https_req rq = {.url = url(S_MAIN, paths[i])};
        g[i].counter = &done;
        CU_ASSERT_EQUAL(https_request(c, &rq, got_cb, &g[i], &x[i], &err), 0);
    }
    https_cancel(x[1]); /* queued */
    CU_ASSERT_EQUAL(done, 0);
    run_for(&loop, 400);
    CU_ASSERT_EQUAL(g[1].calls, 1);
    CU_ASSERT_EQUAL(g[1].code, H2H_ECANCELED);
    CU_ASSERT_EQUAL(g[1].outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g[1].sent, HTTPS_SENT_NONE);
    https_cancel(x[0]); /* in flight */
    CU_ASSERT_EQUAL(run_until(&loop, &done, 3, 5000), 0);
    CU_ASSERT_EQUAL(g[0].code, H2H_ECANCELED);
    CU_ASSERT_EQUAL(g[0].outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g[2].outcome, H2H_OUT_OK); /* the slot was freed */
    CU_ASSERT_EQUAL(g[2].order, 3);
    finish(&loop, c);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(g[i].calls, 1);
    got_free(g, 3);
}

static const struct tu_case cases[] = {
    {"GET, POST, PUT, DELETE, HEAD echo over TLS", test_get_post_echo},
    {"body from a file, response to a file", test_files},
    {"bad arguments are refused", test_bad_arguments},
    {"TLS 1.2 server", test_tls12},
    {"mutual TLS with PEM and PKCS#12", test_mtls_pem_and_p12},
    {"client certificate missing or refused", test_mtls_refused},
    {"wrong host name refused", test_wrong_host},
    {"expired certificate refused", test_expired},
    {"untrusted CA refused", test_untrusted_ca},
    {"public key pinning", test_pinning},
    {"response over the cap", test_response_too_big},
    {"connect refused and timeouts: not sent", test_connect_failures},
    {"request timeout after sending: unknown", test_request_timeout},
    {"connection dropped: unknown", test_connection_dropped},
    {"no silent resend of a payment", test_no_silent_resend},
    {"concurrency limit 2 for 10 requests", test_concurrency_limit},
    {"5 sequential requests share 1 connection", test_connection_reuse},
    {"CONNECT proxy", test_proxy},
    {"close with requests in flight", test_close_in_flight},
    {"cancel queued and in flight", test_cancel},
    {NULL, NULL},
};

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct h2h_err err;
    if (https_global_init(&err) != 0) {
        fprintf(stderr, "https_global_init: %s\n", err.msg);
        return 1;
    }
    int rc = tu_main("https", cases);
    env_stop();
    https_global_cleanup();
    return rc;
}
