/*
 * test_cx_wire.c - the cnbank_xml framing layer against real peers on
 * loopback: tests/sims/tcp_frame_server.py (one port per behaviour: echo,
 * slow, bad prefixes, cut, reset, silent, a connect that hangs), the bank
 * simulator tests/sims/bank_cn.py with the two shipped profiles (HTTPS
 * with client certificates, and the 6-digit length-prefixed TCP), and
 * tests/sims/tls_server.py (what went out on the wire, non-200 statuses,
 * slow answers).  Certificates come from tests/sims/pki.py.  What the
 * peers saw (order, concurrency, bodies) comes from their own logs.
 *
 * The profiles are built by hand with the few fields the wire reads, so
 * this suite does not depend on the profile loader.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <uv.h>

#include "cx_int.h"
#include "https.h"
#include "testutil.h"

#define PY "/usr/bin/python3"
#define DIGITS 8 /* the TCP peer's prefix width */
#define HOLD_MS 300

/* ---- peers ------------------------------------------------------------- */

enum {
    M_ECHO,
    M_HOLD,
    M_SLOW,
    M_BADPREFIX,
    M_ZERO,
    M_HUGE,
    M_SHORT,
    M_CLOSEAFTER,
    M_RESET,
    M_SILENT,
    M_STUCK,
    M_COUNT
};
static const char *const mode_name[M_COUNT] = {
    "echo",  "hold",       "slow",  "badprefix", "zero",  "huge",
    "short", "closeafter", "reset", "silent",    "stuck",
};

static struct {
    int tcp_up, tcp_failed, sims_up, sims_failed;
    char dir[256], pki[300], tcplog[400], tlslog[400];
    pid_t tcp_pid, cmb_pid, icbc_pid, tls_pid;
    unsigned mport[M_COUNT];
    unsigned cmb_port, icbc_port, tls_port;
} env;

static const char *pki(const char *name)
{
    static char buf[8][600];
    static int n;
    char *b = buf[n++ % 8];
    snprintf(b, 600, "%s/%s", env.pki, name);
    return b;
}

/* Start argv with stdout on a pipe (returned in *fd) and stderr into
 * errlog (unless H2H_TEST_VERBOSE). */
static pid_t spawn(const char *const *argv, const char *errlog, int *fd)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        if (!getenv("H2H_TEST_VERBOSE")) {
            int e = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (e >= 0)
                dup2(e, 2);
        }
        execv(PY, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    *fd = fds[0];
    return pid;
}

/* Read stdout until a line starting with last arrived (within ms); the
 * lines so far in buf.  0 when it did. */
static int read_until(int fd, const char *last, char *buf, size_t n, int ms)
{
    size_t len = 0;
    uint64_t end = uv_hrtime() / 1000000 + (uint64_t)ms;
    buf[0] = '\0';
    for (;;) {
        char *l = buf;
        while (l && *l) {
            if (!strncmp(l, last, strlen(last)) && strchr(l, '\n'))
                goto done;
            l = strchr(l, '\n');
            l = l ? l + 1 : NULL;
        }
        int64_t left = (int64_t)(end - uv_hrtime() / 1000000);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (len + 1 >= n || left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
    }
    close(fd);
    return -1;
done:
    close(fd);
    return 0;
}

static int make_dir(void)
{
    if (env.dir[0])
        return 0;
    const char *d = tu_mkdtemp();
    if (!d)
        return -1;
    snprintf(env.dir, sizeof(env.dir), "%s", d);
    return 0;
}

static int tcp_start(void)
{
    if (env.tcp_up || env.tcp_failed)
        return env.tcp_up ? 0 : -1;
    env.tcp_failed = 1;
    if (make_dir() != 0)
        return -1;
    char err[400], digits[8], hold[16];
    snprintf(env.tcplog, sizeof(env.tcplog), "%s/tcp.log", env.dir);
    snprintf(err, sizeof(err), "%s/tcp.err", env.dir);
    snprintf(digits, sizeof(digits), "%d", DIGITS);
    snprintf(hold, sizeof(hold), "%d", HOLD_MS);
    const char *argv[] = {
        PY,           tu_src("tests/sims/tcp_frame_server.py"),
        "--digits",   digits,
        "--log",      env.tcplog,
        "--hold-ms",  hold,
        "--lifetime", "240",
        NULL};
    int fd;
    env.tcp_pid = spawn(argv, err, &fd);
    if (env.tcp_pid < 0)
        return -1;
    char buf[2048];
    if (read_until(fd, "READY", buf, sizeof(buf), 15000) != 0) {
        fprintf(stderr, "tcp_frame_server did not start\n");
        return -1;
    }
    for (char *l = buf; l && *l;) {
        char mode[32];
        unsigned port;
        if (sscanf(l, "LISTEN %31s %u", mode, &port) == 2)
            for (int i = 0; i < M_COUNT; i++)
                if (!strcmp(mode, mode_name[i]))
                    env.mport[i] = port;
        l = strchr(l, '\n');
        l = l ? l + 1 : NULL;
    }
    for (int i = 0; i < M_COUNT; i++)
        if (!env.mport[i])
            return -1;
    env.tcp_up = 1;
    env.tcp_failed = 0;
    return 0;
}

static pid_t start_bank(const char *name, const char *profile, int http,
                        unsigned *port)
{
    char state[400], err[400], prof[600];
    snprintf(state, sizeof(state), "%s/%s-state", env.dir, name);
    snprintf(err, sizeof(err), "%s/%s.err", env.dir, name);
    snprintf(prof, sizeof(prof), "%s", tu_src(profile));
    const char *argv[32];
    int n = 0;
    argv[n++] = PY;
    argv[n++] = tu_src("tests/sims/bank_cn.py");
    argv[n++] = "--profile";
    argv[n++] = prof;
    argv[n++] = "--state";
    argv[n++] = state;
    argv[n++] = "--sign-cert";
    argv[n++] = pki("signer.pem");
    argv[n++] = "--sign-key";
    argv[n++] = pki("signer.key");
    argv[n++] = "--client-sign-ca";
    argv[n++] = pki("ca.pem");
    argv[n++] = "--lifetime";
    argv[n++] = "240";
    if (http) {
        argv[n++] = "--cert";
        argv[n++] = pki("server.pem");
        argv[n++] = "--key";
        argv[n++] = pki("server.key");
        argv[n++] = "--ca";
        argv[n++] = pki("ca.pem");
    }
    argv[n] = NULL;
    int fd;
    pid_t pid = spawn(argv, err, &fd);
    if (pid < 0)
        return -1;
    char buf[512];
    if (read_until(fd, "ADMIN", buf, sizeof(buf), 20000) != 0 ||
        sscanf(buf, "LISTEN %u", port) != 1) {
        fprintf(stderr, "bank_cn %s did not start (see %s)\n", name, err);
        return pid;
    }
    return pid;
}

static int sims_start(void)
{
    if (env.sims_up || env.sims_failed)
        return env.sims_up ? 0 : -1;
    env.sims_failed = 1;
    if (make_dir() != 0)
        return -1;
    snprintf(env.pki, sizeof(env.pki), "%s/pki", env.dir);
    if (tu_system("%s %s %s > /dev/null", PY, tu_src("tests/sims/pki.py"),
                  env.pki) != 0)
        return -1;
    /* all three interpreters start in parallel */
    char err[400], cert[600], key[600], ca[600];
    snprintf(env.tlslog, sizeof(env.tlslog), "%s/tls.log", env.dir);
    snprintf(err, sizeof(err), "%s/tls.err", env.dir);
    snprintf(cert, sizeof(cert), "%s", pki("server.pem"));
    snprintf(key, sizeof(key), "%s", pki("server.key"));
    snprintf(ca, sizeof(ca), "%s", pki("ca.pem"));
    const char *targv[] = {PY,           tu_src("tests/sims/tls_server.py"),
                           "--cert",     cert,
                           "--key",      key,
                           "--ca",       ca,
                           "--log",      env.tlslog,
                           "--lifetime", "240",
                           NULL};
    int tfd;
    env.tls_pid = spawn(targv, err, &tfd);
    env.cmb_pid =
        start_bank("cmb", "etc/cnbank/cmb-style.profile", 1, &env.cmb_port);
    env.icbc_pid =
        start_bank("icbc", "etc/cnbank/icbc-style.profile", 0, &env.icbc_port);
    char buf[256];
    if (env.tls_pid < 0 ||
        read_until(tfd, "LISTEN", buf, sizeof(buf), 15000) != 0 ||
        sscanf(buf, "LISTEN %u", &env.tls_port) != 1) {
        fprintf(stderr, "tls_server did not start\n");
        return -1;
    }
    if (!env.cmb_port || !env.icbc_port)
        return -1;
    env.sims_up = 1;
    env.sims_failed = 0;
    return 0;
}

static void stop_pid(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}

static void env_stop(void)
{
    stop_pid(&env.tcp_pid);
    stop_pid(&env.cmb_pid);
    stop_pid(&env.icbc_pid);
    stop_pid(&env.tls_pid);
    if (env.dir[0] && !getenv("H2H_TEST_KEEP"))
        tu_rmtree(env.dir);
}

#define NEED_TCP()                                                             \
    do {                                                                       \
        if (tcp_start() != 0) {                                                \
            CU_FAIL("tcp_frame_server did not start");                         \
            return;                                                            \
        }                                                                      \
    } while (0)
#define NEED_SIMS()                                                            \
    do {                                                                       \
        if (sims_start() != 0) {                                               \
            CU_FAIL("bank simulators did not start");                          \
            return;                                                            \
        }                                                                      \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The TCP peer's "req" lines since t0 whose body starts with prefix, in
 * log order: their bodies into bodies[] (up to max), the highest "active"
 * into *peak.  Returns how many. */
static int tcp_reqs(double t0, const char *prefix, char bodies[][64], int max,
                    int *peak)
{
    FILE *f = fopen(env.tcplog, "r");
    char line[8192];
    int n = 0;
    if (peak)
        *peak = 0;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *ev = json_string_value(json_object_get(j, "event"));
        const char *b = json_string_value(json_object_get(j, "body"));
        double t = json_real_value(json_object_get(j, "t"));
        if (ev && !strcmp(ev, "req") && b && t >= t0 &&
            !strncmp(b, prefix, strlen(prefix))) {
            if (n < max && bodies)
                snprintf(bodies[n], 64, "%s", b);
            int a = (int)json_integer_value(json_object_get(j, "active"));
            if (peak && a > *peak)
                *peak = a;
            n++;
        }
        json_decref(j);
    }
    if (f)
        fclose(f);
    return n;
}

/* The prefix the TCP peer saw with the request whose body is body. */
static int tcp_req_prefix(const char *body, char *out, size_t n)
{
    FILE *f = fopen(env.tcplog, "r");
    char line[8192];
    int found = -1;
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *b = json_string_value(json_object_get(j, "body"));
        const char *p = json_string_value(json_object_get(j, "prefix"));
        if (b && p && !strcmp(b, body)) {
            snprintf(out, n, "%s", p);
            found = 0;
        }
        json_decref(j);
    }
    if (f)
        fclose(f);
    return found;
}

/* ---- client side ------------------------------------------------------- */

static int in_call;     /* inside cx_wire_send / cx_wire_close */
static int total_calls; /* result callbacks so far */

struct got {
    int calls;
    enum h2h_outcome outcome;
    int code;
    char msg[H2H_ERR_MSG_MAX];
    char *body; /* copy, NUL-terminated */
    size_t len;
    int has_sig;
    char sig[256];
    int *counter;
    int order;
    uint64_t at_ms;
};

static void got_cb(const struct cx_wire_result *r, void *data)
{
    struct got *g = data;
    CU_ASSERT_FALSE(in_call); /* never from inside our call */
    g->calls++;
    total_calls++;
    g->outcome = r->outcome;
    g->code = r->err.code;
    snprintf(g->msg, sizeof(g->msg), "%s", r->err.msg);
    free(g->body);
    g->body = NULL;
    g->len = r->len;
    if (r->body) {
        g->body = malloc(r->len + 1);
        memcpy(g->body, r->body, r->len);
        g->body[r->len] = '\0';
    }
    g->has_sig = r->sig_header_value != NULL;
    snprintf(g->sig, sizeof(g->sig), "%s",
             r->sig_header_value ? r->sig_header_value : "");
    g->at_ms = uv_hrtime() / 1000000;
    if (g->counter)
        g->order = ++*g->counter;
    if (getenv("H2H_TEST_VERBOSE"))
        fprintf(stderr, "  [%s %d] %s\n", h2h_outcome_name(r->outcome),
                r->err.code, r->err.msg);
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

struct closer {
    int closed;
    int calls_at_close; /* total_calls when close's callback ran */
};

static void closed_cb(void *data)
{
    struct closer *c = data;
    CU_ASSERT_FALSE(in_call);
    c->closed++;
    c->calls_at_close = total_calls;
}

static void wire_close(struct cx_wire *w, struct closer *c)
{
    in_call = 1;
    cx_wire_close(w, closed_cb, c);
    in_call = 0;
    CU_ASSERT_EQUAL(c->closed, 0); /* never from inside the call */
}

/* Close w, drain the loop, check that no handle is left. */
static void finish(uv_loop_t *loop, struct cx_wire *w)
{
    struct closer c = {0};
    if (w) {
        wire_close(w, &c);
        CU_ASSERT_EQUAL(run_until(loop, &c.closed, 1, 10000), 0);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(c.closed, w ? 1 : 0);
    CU_ASSERT_EQUAL(uv_loop_close(loop), 0);
}

/* Send a copy of body that is wiped and freed on return: the wire must
 * have copied it. */
static int send_body(struct cx_wire *w, const void *body, size_t len,
                     const char *sig, struct got *g, struct h2h_err *err)
{
    char *b = malloc(len + 1);
    char *s = sig ? strdup(sig) : NULL;
    memcpy(b, body, len);
    struct cx_request rq = {.body = b, .len = len, .sig_header_value = s};
    in_call = 1;
    int rc = cx_wire_send(w, &rq, got_cb, g, err);
    in_call = 0;
    memset(b, 'Z', len);
    free(b);
    free(s);
    if (rc && getenv("H2H_TEST_VERBOSE"))
        fprintf(stderr, "  cx_wire_send: %s\n", err->msg);
    return rc;
}

static int send_str(struct cx_wire *w, const char *body, struct got *g)
{
    struct h2h_err err;
    int rc = send_body(w, body, strlen(body), NULL, g, &err);
    CU_ASSERT_EQUAL(rc, 0);
    return rc;
}

static int contains(const char *hay, const char *needle)
{
    int ok = hay && strstr(hay, needle) != NULL;
    if (!ok)
        fprintf(stderr, "  expected \"%s\" in: %s\n", needle, hay ? hay : "");
    return ok;
}

/* ---- tcp --------------------------------------------------------------- */

static char host_lo[] = "127.0.0.1";

static void tcp_profile(struct cx_profile *p, int digits)
{
    memset(p, 0, sizeof(*p));
    p->framing = CX_FRAMING_TCP;
    p->length_digits = digits;
}

static void tcp_settings(struct cx_settings *s, unsigned port)
{
    memset(s, 0, sizeof(*s));
    s->host = host_lo;
    s->port = (int)port;
    s->connect_timeout_s = 3;
    s->request_timeout_s = 10;
    s->max_concurrent = 4;
}

static const char *hostport(unsigned port)
{
    static char buf[4][64];
    static int n;
    char *b = buf[n++ % 4];
    snprintf(b, 64, "127.0.0.1:%u", port);
    return b;
}

/* One exchange with the TCP peer's mode m on a fresh loop and wire. */
static void tcp_one(const struct cx_settings *s, const void *body, size_t len,
                    struct got *g)
{
    uv_loop_t loop;
    struct cx_profile p;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    memset(g, 0, sizeof(*g));
    tcp_profile(&p, DIGITS);
    uv_loop_init(&loop);
    int rc = cx_wire_new(&loop, &p, s, &w, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) {
        fprintf(stderr, "  cx_wire_new: %s\n", err.msg);
        finish(&loop, NULL);
        return;
    }
    rc = send_body(w, body, len, NULL, g, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(g->calls, 0);
    if (!rc)
        CU_ASSERT_EQUAL(run_until(&loop, &g->calls, 1, 20000), 0);
    finish(&loop, w);
    CU_ASSERT_EQUAL(g->calls, rc ? 0 : 1);
}

static void tcp_mode(int m, const char *body, struct got *g)
{
    struct cx_settings s;
    tcp_settings(&s, env.mport[m]);
    tcp_one(&s, body, strlen(body), g);
}

static void test_tcp_echo(void)
{
    NEED_TCP();
    struct cx_settings s;
    struct got g;
    /* binary-safe: a NUL, high bytes, CR LF */
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"GB18030\"?>\n<CMS>\xb9\xa4\0\r\n"
        "\xff</CMS>";
    size_t len = sizeof(body) - 1;
    tcp_settings(&s, env.mport[M_ECHO]);
    tcp_one(&s, body, len, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.code, 0);
    CU_ASSERT_EQUAL(g.len, len);
    CU_ASSERT_TRUE(g.body && !memcmp(g.body, body, len));
    CU_ASSERT_FALSE(g.has_sig);
    got_free(&g, 1);

    /* the prefix on the wire: DIGITS zero-padded decimal digits */
    tcp_mode(M_ECHO, "prefix-check", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    char pfx[32] = "", want[32];
    CU_ASSERT_EQUAL(tcp_req_prefix("prefix-check", pfx, sizeof(pfx)), 0);
    snprintf(want, sizeof(want), "%0*d", DIGITS, 12);
    CU_ASSERT_STRING_EQUAL(pfx, want);
    got_free(&g, 1);

    /* a slow answer in 3-byte pieces (the prefix split too) */
    const char *slow = "slow answer, twenty chunks and more of it";
    tcp_mode(M_SLOW, slow, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.len, strlen(slow));
    CU_ASSERT_STRING_EQUAL(g.body ? g.body : "", slow);
    got_free(&g, 1);

    /* a bigger answer (256 KiB) */
    size_t big = 256 * 1024;
    char *b = malloc(big);
    for (size_t i = 0; i < big; i++)
        b[i] = (char)('a' + (i * 7) % 26);
    tcp_one(&s, b, big, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(g.len, big);
    CU_ASSERT_TRUE(g.body && !memcmp(g.body, b, big));
    free(b);
    got_free(&g, 1);
}

static void test_tcp_bad_answers(void)
{
    NEED_TCP();
    struct got g;
    const char *secret = "acct-6222000011112222";
    static const struct {
        int mode;
        int code; /* 0: any */
        const char *what;
    } cases[] = {
        {M_BADPREFIX, H2H_EPROTO, "not all digits"},
        {M_ZERO, H2H_EPROTO, "length 0"},
        {M_HUGE, H2H_EPROTO, "over 1 MiB"},
        {M_SHORT, H2H_EIO, "shorter than its prefix"},
        {M_CLOSEAFTER, H2H_EIO, "closed without answer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tcp_mode(cases[i].mode, secret, &g);
        if (g.outcome != H2H_OUT_UNKNOWN || g.code != cases[i].code)
            fprintf(stderr, "  case %s: %s %d %s\n", cases[i].what,
                    h2h_outcome_name(g.outcome), g.code, g.msg);
        CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
        CU_ASSERT_EQUAL(g.code, cases[i].code);
        CU_ASSERT_PTR_NULL(g.body);
        CU_ASSERT_TRUE(contains(g.msg, hostport(env.mport[cases[i].mode])));
        CU_ASSERT_FALSE(strstr(g.msg, "6222") != NULL); /* never the body */
        got_free(&g, 1);
    }

    /* closed at once with RST: whether our bytes got into the socket first
     * is a race, so either class is right, never OK */
    tcp_mode(M_RESET, secret, &g);
    CU_ASSERT_TRUE(g.outcome == H2H_OUT_UNKNOWN ||
                   g.outcome == H2H_OUT_TEMPFAIL);
    CU_ASSERT_TRUE(g.code < 0);
    CU_ASSERT_TRUE(contains(g.msg, hostport(env.mport[M_RESET])));
    CU_ASSERT_FALSE(strstr(g.msg, "6222") != NULL);
    got_free(&g, 1);
}

static void test_tcp_refused(void)
{
    /* a port nobody listens on: bound, then closed again */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    CU_ASSERT_EQUAL_FATAL(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    unsigned port = ntohs(a.sin_port);
    struct cx_settings s;
    struct got g;
    tcp_settings(&s, port);
    tcp_one(&s, "refused", 7, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, -ECONNREFUSED);
    CU_ASSERT_TRUE(contains(g.msg, hostport(port)));
    CU_ASSERT_TRUE(contains(g.msg, "nothing sent"));
    got_free(&g, 1);
}

static void test_tcp_timeouts(void)
{
    NEED_TCP();
    struct cx_settings s;
    struct got g;
    double t0 = now_s();

    /* silent after reading: UNKNOWN after request_timeout_s */
    tcp_settings(&s, env.mport[M_SILENT]);
    s.request_timeout_s = 1;
    uint64_t start = uv_hrtime() / 1000000;
    tcp_one(&s, "silent-1", 8, &g);
    uint64_t took = uv_hrtime() / 1000000 - start;
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    CU_ASSERT_TRUE(took >= 900 && took < 5000);
    CU_ASSERT_TRUE(contains(g.msg, hostport(env.mport[M_SILENT])));
    CU_ASSERT_EQUAL(tcp_reqs(t0, "silent-1", NULL, 0, NULL), 1);
    got_free(&g, 1);

    /* an answer dripping in longer than the request timeout: the timeout
     * covers the whole answer, not each read */
    char body[301];
    memset(body, 'd', 300);
    body[300] = '\0';
    tcp_settings(&s, env.mport[M_SLOW]);
    s.request_timeout_s = 1;
    start = uv_hrtime() / 1000000;
    tcp_one(&s, body, 300, &g);
    took = uv_hrtime() / 1000000 - start;
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    CU_ASSERT_TRUE(took >= 900 && took < 3000);
    got_free(&g, 1);

    /* a connect that never completes: TEMPFAIL after connect_timeout_s,
     * and the request timeout (longer) did not matter */
    tcp_settings(&s, env.mport[M_STUCK]);
    s.connect_timeout_s = 1;
    s.request_timeout_s = 30;
    start = uv_hrtime() / 1000000;
    tcp_one(&s, "stuck", 5, &g);
    took = uv_hrtime() / 1000000 - start;
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    CU_ASSERT_TRUE(took >= 900 && took < 5000);
    CU_ASSERT_TRUE(contains(g.msg, "nothing sent"));
    got_free(&g, 1);
}

static void test_tcp_concurrency(void)
{
    NEED_TCP();
    enum { N = 6 };
    uv_loop_t loop;
    struct cx_profile p;
    struct cx_settings s;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    struct got g[N];
    int done = 0;
    double t0 = now_s();
    memset(g, 0, sizeof(g));
    tcp_profile(&p, DIGITS);
    tcp_settings(&s, env.mport[M_HOLD]);
    s.max_concurrent = 2;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    uint64_t start = uv_hrtime() / 1000000;
    for (int i = 0; i < N; i++) {
        char b[32];
        snprintf(b, sizeof(b), "conc-%d", i);
        g[i].counter = &done;
        send_str(w, b, &g[i]);
    }
    CU_ASSERT_EQUAL(run_until(&loop, &done, N, 20000), 0);
    uint64_t took = uv_hrtime() / 1000000 - start;
    finish(&loop, w);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(g[i].calls, 1);
        CU_ASSERT_EQUAL(g[i].outcome, H2H_OUT_OK);
        char b[32];
        snprintf(b, sizeof(b), "conc-%d", i);
        CU_ASSERT_STRING_EQUAL(g[i].body ? g[i].body : "", b);
    }
    int peak = 0;
    CU_ASSERT_EQUAL(tcp_reqs(t0, "conc-", NULL, 0, &peak), N);
    CU_ASSERT_EQUAL(peak, 2); /* used, and never exceeded */
    /* three rounds of two */
    CU_ASSERT_TRUE(took >= 3 * HOLD_MS - 50);
    got_free(g, N);
}

static void test_tcp_fifo(void)
{
    NEED_TCP();
    enum { N = 5 };
    uv_loop_t loop;
    struct cx_profile p;
    struct cx_settings s;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    struct got g[N];
    int done = 0;
    double t0 = now_s();
    memset(g, 0, sizeof(g));
    tcp_profile(&p, DIGITS);
    tcp_settings(&s, env.mport[M_HOLD]);
    s.max_concurrent = 1;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    for (int i = 0; i < N; i++) {
        char b[32];
        snprintf(b, sizeof(b), "fifo-%d", i);
        g[i].counter = &done;
        send_str(w, b, &g[i]);
    }
    CU_ASSERT_EQUAL(run_until(&loop, &done, N, 20000), 0);
    finish(&loop, w);
    char seen[N][64];
    int peak = 0;
    CU_ASSERT_EQUAL(tcp_reqs(t0, "fifo-", seen, N, &peak), N);
    CU_ASSERT_EQUAL(peak, 1);
    for (int i = 0; i < N; i++) {
        char b[32];
        snprintf(b, sizeof(b), "fifo-%d", i);
        CU_ASSERT_STRING_EQUAL(seen[i], b);
        CU_ASSERT_EQUAL(g[i].order, i + 1);
        CU_ASSERT_EQUAL(g[i].outcome, H2H_OUT_OK);
    }
    got_free(g, N);
}

static void test_tcp_close(void)
{
    NEED_TCP();
    uv_loop_t loop;
    struct cx_profile p;
    struct cx_settings s;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    struct got g[3];
    struct closer c = {0};
    double t0 = now_s();
    tcp_profile(&p, DIGITS);

    /* one sent and waiting, two queued */
    memset(g, 0, sizeof(g));
    tcp_settings(&s, env.mport[M_SILENT]);
    s.max_concurrent = 1;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    send_str(w, "close-0", &g[0]);
    send_str(w, "close-1", &g[1]);
    send_str(w, "close-2", &g[2]);
    for (int i = 0; i < 100 && tcp_reqs(t0, "close-0", NULL, 0, NULL) < 1; i++)
        run_for(&loop, 50);
    CU_ASSERT_EQUAL(tcp_reqs(t0, "close-", NULL, 0, NULL), 1);
    int before = total_calls;
    wire_close(w, &c);
    CU_ASSERT_EQUAL(run_until(&loop, &c.closed, 1, 5000), 0);
    CU_ASSERT_EQUAL(c.calls_at_close, before + 3); /* callbacks first */
    CU_ASSERT_EQUAL(g[0].outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g[0].code, H2H_ECANCELED);
    for (int i = 1; i < 3; i++) {
        CU_ASSERT_EQUAL(g[i].calls, 1);
        CU_ASSERT_EQUAL(g[i].outcome, H2H_OUT_TEMPFAIL);
        CU_ASSERT_EQUAL(g[i].code, H2H_ECANCELED);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(c.closed, 1);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    CU_ASSERT_EQUAL(tcp_reqs(t0, "close-", NULL, 0, NULL), 1);
    got_free(g, 3);

    /* closed while connecting: nothing written, TEMPFAIL */
    memset(g, 0, sizeof(g));
    memset(&c, 0, sizeof(c));
    tcp_settings(&s, env.mport[M_ECHO]);
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    send_str(w, "close-connecting", &g[0]);
    wire_close(w, &c);
    CU_ASSERT_EQUAL(g[0].calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(g[0].calls, 1);
    CU_ASSERT_EQUAL(g[0].outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g[0].code, H2H_ECANCELED);
    CU_ASSERT_EQUAL(c.closed, 1);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    got_free(g, 1);

    /* an idle wire: close's callback later, not inside */
    memset(&c, 0, sizeof(c));
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    wire_close(w, &c);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(c.closed, 1);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

/* Closing from inside a result callback. */
struct close_in_cb {
    struct got g;
    struct cx_wire *w;
    struct closer c;
};

static void close_in_cb_cb(const struct cx_wire_result *r, void *data)
{
    struct close_in_cb *x = data;
    got_cb(r, &x->g);
    in_call = 1;
    cx_wire_close(x->w, closed_cb, &x->c);
    in_call = 0;
}

static void test_tcp_close_in_callback(void)
{
    NEED_TCP();
    uv_loop_t loop;
    struct cx_profile p;
    struct cx_settings s;
    struct h2h_err err;
    struct close_in_cb x;
    struct got second;
    memset(&x, 0, sizeof(x));
    memset(&second, 0, sizeof(second));
    tcp_profile(&p, DIGITS);
    tcp_settings(&s, env.mport[M_ECHO]);
    s.max_concurrent = 1;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &x.w, &err), 0);
    struct cx_request rq = {.body = "first", .len = 5};
    CU_ASSERT_EQUAL(cx_wire_send(x.w, &rq, close_in_cb_cb, &x, &err), 0);
    send_str(x.w, "second", &second);
    CU_ASSERT_EQUAL(run_until(&loop, &x.c.closed, 1, 10000), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(x.g.calls, 1);
    CU_ASSERT_EQUAL(x.g.outcome, H2H_OUT_OK);
    CU_ASSERT_EQUAL(second.calls, 1);
    CU_ASSERT_EQUAL(second.outcome, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(second.code, H2H_ECANCELED);
    CU_ASSERT_EQUAL(x.c.closed, 1);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    got_free(&x.g, 1);
    got_free(&second, 1);
}

static void test_tcp_bad_arguments(void)
{
    uv_loop_t loop;
    struct cx_profile p;
    struct cx_settings s;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    struct got g = {0};
    static char name[] = "bank.example", v6[] = "::1";
    uv_loop_init(&loop);

    tcp_profile(&p, DIGITS);
    tcp_settings(&s, 8082);
    s.host = name; /* no name lookups */
    CU_ASSERT_EQUAL(cx_wire_new(&loop, &p, &s, &w, &err), H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(w);
    tcp_settings(&s, 0);
    CU_ASSERT_EQUAL(cx_wire_new(&loop, &p, &s, &w, &err), H2H_ECONFIG);
    tcp_profile(&p, 0);
    tcp_settings(&s, 8082);
    CU_ASSERT_EQUAL(cx_wire_new(&loop, &p, &s, &w, &err), H2H_ECONFIG);

    /* IPv6 loopback is an address too */
    tcp_profile(&p, 4);
    s.host = v6;
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    /* empty, and too long for 4 digits */
    CU_ASSERT_EQUAL(send_body(w, "", 0, NULL, &g, &err), H2H_EINVALID);
    char *big = calloc(1, 10000);
    CU_ASSERT_EQUAL(send_body(w, big, 10000, NULL, &g, &err), H2H_ETOOBIG);
    CU_ASSERT_EQUAL(send_body(w, big, 9999, NULL, &g, &err), 0);
    free(big);
    finish(&loop, w);
    /* nobody listens on [::1]:8082 (or it answers): one callback */
    CU_ASSERT_EQUAL(g.calls, 1);
    got_free(&g, 1);
}

static void test_tcp_bank(void)
{
    NEED_SIMS();
    struct cx_settings s;
    struct cx_profile p;
    struct got g;
    uv_loop_t loop;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    tcp_settings(&s, env.icbc_port);
    tcp_profile(&p, 6); /* icbc-style: length.digits = 6 */
    memset(&g, 0, sizeof(g));
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &s, &w, &err), 0);
    send_str(w, "this is not XML at all", &g);
    CU_ASSERT_EQUAL(run_until(&loop, &g.calls, 1, 20000), 0);
    finish(&loop, w);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_TRUE(g.body && !strncmp(g.body, "<?xml", 5));
    CU_ASSERT_TRUE(g.body && contains(g.body, "B0001")); /* errors.format */
    CU_ASSERT_FALSE(g.has_sig);
    got_free(&g, 1);
}

/* ---- http -------------------------------------------------------------- */

static char ct_gbk[] = "text/xml; charset=GBK", ct_plain[] = "text/plain",
            xsign[] = "X-Sign";

static void cmb_profile(struct cx_profile *p)
{
    memset(p, 0, sizeof(*p));
    p->framing = CX_FRAMING_HTTP;
    p->content_type = ct_gbk;
    p->sig_where = CX_SIG_HEADER;
    p->sig_header = xsign;
    p->resp_sig_where = CX_SIG_HEADER;
    p->resp_sig_header = xsign;
}

struct http_cfg {
    struct cx_settings s;
    char url[256], ca[600], cert[600], key[600], p12[600], pass[600];
};

static void http_cfg(struct http_cfg *c, unsigned port, const char *path)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->url, sizeof(c->url), "https://127.0.0.1:%u%s", port, path);
    snprintf(c->ca, sizeof(c->ca), "%s", pki("ca.pem"));
    snprintf(c->cert, sizeof(c->cert), "%s", pki("client.pem"));
    snprintf(c->key, sizeof(c->key), "%s", pki("client.key"));
    c->s.url = c->url;
    c->s.tls.ca_file = c->ca;
    c->s.tls.client_cert = c->cert;
    c->s.tls.client_key = c->key;
    c->s.connect_timeout_s = 5;
    c->s.request_timeout_s = 20;
    c->s.max_concurrent = 2;
}

static void http_one(const struct cx_profile *p, const struct cx_settings *s,
                     const char *body, const char *sig, struct got *g)
{
    uv_loop_t loop;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    memset(g, 0, sizeof(*g));
    uv_loop_init(&loop);
    int rc = cx_wire_new(&loop, p, s, &w, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) {
        fprintf(stderr, "  cx_wire_new: %s\n", err.msg);
        finish(&loop, NULL);
        return;
    }
    rc = send_body(w, body, strlen(body), sig, g, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(g->calls, 0);
    if (!rc)
        CU_ASSERT_EQUAL(run_until(&loop, &g->calls, 1, 30000), 0);
    finish(&loop, w);
}

static void test_http_bank(void)
{
    NEED_SIMS();
    struct cx_profile p;
    struct http_cfg c;
    struct got g;
    cmb_profile(&p);
    http_cfg(&c, env.cmb_port, "/");

    /* garbage is a 200 with a signed format error */
    http_one(&p, &c.s, "this is not XML at all", "AAAA", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_TRUE(g.has_sig);
    CU_ASSERT_TRUE(strlen(g.sig) > 20);
    CU_ASSERT_TRUE(g.body && !strncmp(g.body, "<?xml", 5));
    CU_ASSERT_TRUE(g.body && contains(g.body, "-1")); /* errors.format */
    CU_ASSERT_EQUAL(g.len, g.body ? strlen(g.body) : 0);
    got_free(&g, 1);

    /* the client certificate as PKCS#12 with a passphrase file */
    http_cfg(&c, env.cmb_port, "/");
    c.s.tls.client_cert = c.s.tls.client_key = NULL;
    snprintf(c.p12, sizeof(c.p12), "%s", pki("client.p12"));
    snprintf(c.pass, sizeof(c.pass), "%s", pki("client.p12.pass"));
    c.s.tls.client_p12 = c.p12;
    c.s.tls.passphrase_file = c.pass;
    http_one(&p, &c.s, "still not XML", "AAAA", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_TRUE(g.has_sig);
    got_free(&g, 1);

    /* a status other than 200 (415: not an XML content type) came after
     * the request went out: UNKNOWN, never a refusal */
    struct cx_profile bad = p;
    bad.content_type = ct_plain;
    http_cfg(&c, env.cmb_port, "/");
    http_one(&bad, &c.s, "<x/>", "AAAA", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g.code, H2H_EPROTO);
    CU_ASSERT_TRUE(contains(g.msg, "415"));
    CU_ASSERT_TRUE(contains(g.msg, hostport(env.cmb_port)));
    CU_ASSERT_PTR_NULL(g.body);
    CU_ASSERT_FALSE(g.has_sig);
    got_free(&g, 1);
}

static void test_http_tls_refused(void)
{
    NEED_SIMS();
    struct cx_profile p;
    struct http_cfg c;
    struct got g;
    cmb_profile(&p);

    /* the bank's chain does not lead to our CA */
    http_cfg(&c, env.cmb_port, "/");
    snprintf(c.ca, sizeof(c.ca), "%s", pki("ca2.pem"));
    http_one(&p, &c.s, "<x/>", "AAAA", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    CU_ASSERT_TRUE(contains(g.msg, hostport(env.cmb_port)));
    got_free(&g, 1);

    /* no client certificate: the bank refuses the handshake */
    http_cfg(&c, env.cmb_port, "/");
    c.s.tls.client_cert = c.s.tls.client_key = NULL;
    http_one(&p, &c.s, "<x/>", "AAAA", &g);
    CU_ASSERT_TRUE(g.outcome == H2H_OUT_PERMFAIL ||
                   g.outcome == H2H_OUT_TEMPFAIL);
    if (g.outcome == H2H_OUT_PERMFAIL)
        CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
    CU_ASSERT_TRUE(contains(g.msg, "client certificate"));
    got_free(&g, 1);

    /* a passphrase file others may read is refused at creation */
    char loose[600];
    snprintf(loose, sizeof(loose), "%s/loose.pass", env.dir);
    size_t n = 0;
    char *pw = tu_read_file(pki("client.p12.pass"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    CU_ASSERT_EQUAL(tu_write_file(loose, pw, n), 0);
    free(pw);
    chmod(loose, 0644);
    http_cfg(&c, env.cmb_port, "/");
    c.s.tls.client_cert = c.s.tls.client_key = NULL;
    snprintf(c.p12, sizeof(c.p12), "%s", pki("client.p12"));
    c.s.tls.client_p12 = c.p12;
    c.s.tls.passphrase_file = loose;
    uv_loop_t loop;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL(cx_wire_new(&loop, &p, &c.s, &w, &err), H2H_ESECURITY);
    CU_ASSERT_PTR_NULL(w);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

/* Value of header name in tls_server's echo, or "". */
static const char *echo_header(json_t *j, const char *name)
{
    json_t *hs = json_object_get(j, "headers");
    for (size_t i = 0; i < json_array_size(hs); i++) {
        json_t *h = json_array_get(hs, i);
        const char *n = json_string_value(json_array_get(h, 0));
        const char *v = json_string_value(json_array_get(h, 1));
        if (n && v && !strcasecmp(n, name))
            return v;
    }
    return "";
}

static const char *jstr(json_t *j, const char *k)
{
    const char *v = json_string_value(json_object_get(j, k));
    return v ? v : "";
}

static void test_http_wire(void)
{
    NEED_SIMS();
    struct cx_profile p;
    struct http_cfg c;
    struct got g;
    cmb_profile(&p);

    /* what went out: POST, our content type, the signature header */
    http_cfg(&c, env.tls_port, "/cx");
    const char *body = "<?xml version=\"1.0\" encoding=\"GBK\"?>\n<R/>";
    http_one(&p, &c.s, body, "c2lnbmF0dXJl", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    CU_ASSERT_FALSE(g.has_sig); /* tls_server does not sign */
    json_t *j = g.body ? json_loads(g.body, 0, NULL) : NULL;
    CU_ASSERT_PTR_NOT_NULL(j);
    CU_ASSERT_STRING_EQUAL(jstr(j, "method"), "POST");
    CU_ASSERT_STRING_EQUAL(jstr(j, "body"), body);
    CU_ASSERT_STRING_EQUAL(echo_header(j, "Content-Type"), ct_gbk);
    CU_ASSERT_STRING_EQUAL(echo_header(j, "X-Sign"), "c2lnbmF0dXJl");
    char cl[16];
    snprintf(cl, sizeof(cl), "%zu", strlen(body));
    CU_ASSERT_STRING_EQUAL(echo_header(j, "Content-Length"), cl);
    CU_ASSERT_STRING_EQUAL(echo_header(j, "Transfer-Encoding"), "");
    json_decref(j);
    got_free(&g, 1);

    /* without signature.where = http-header no such header goes out */
    struct cx_profile nosig = p;
    nosig.sig_where = CX_SIG_NONE;
    http_one(&nosig, &c.s, body, NULL, &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_OK);
    j = g.body ? json_loads(g.body, 0, NULL) : NULL;
    CU_ASSERT_STRING_EQUAL(echo_header(j, "X-Sign"), "");
    json_decref(j);
    got_free(&g, 1);

    /* a 503 after sending: UNKNOWN naming the status and host:port, never
     * the path or query (they may carry an account) */
    http_cfg(&c, env.tls_port, "/status/503?acct=6222000011112222");
    http_one(&p, &c.s, body, "AAAA", &g);
    CU_ASSERT_EQUAL(g.outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_TRUE(contains(g.msg, "503"));
    CU_ASSERT_TRUE(contains(g.msg, hostport(env.tls_port)));
    CU_ASSERT_FALSE(strstr(g.msg, "6222") != NULL);
    got_free(&g, 1);

    /* refused at send: the profile signs in a header, the request has no
     * signature; the callback never runs */
    uv_loop_t loop;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    http_cfg(&c, env.tls_port, "/cx");
    memset(&g, 0, sizeof(g));
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &c.s, &w, &err), 0);
    CU_ASSERT_EQUAL(send_body(w, "<x/>", 4, NULL, &g, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(send_body(w, "<x/>", 4, "a\r\nX-Evil: 1", &g, &err),
                    H2H_EINVALID);
    CU_ASSERT_FALSE(strstr(err.msg, "Evil") != NULL);
    finish(&loop, w);
    CU_ASSERT_EQUAL(g.calls, 0);
}

static void test_http_close(void)
{
    NEED_SIMS();
    struct cx_profile p;
    struct http_cfg c;
    struct got g[3];
    struct closer cl = {0};
    uv_loop_t loop;
    struct cx_wire *w = NULL;
    struct h2h_err err;
    cmb_profile(&p);
    http_cfg(&c, env.tls_port, "/slow?ms=3000");
    c.s.max_concurrent = 1;
    memset(g, 0, sizeof(g));
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL_FATAL(cx_wire_new(&loop, &p, &c.s, &w, &err), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(send_body(w, "<x/>", 4, "AAAA", &g[i], &err), 0);
    run_for(&loop, 700);
    int before = total_calls;
    wire_close(w, &cl);
    CU_ASSERT_EQUAL(run_until(&loop, &cl.closed, 1, 10000), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(cl.calls_at_close, before + 3);
    CU_ASSERT_EQUAL(g[0].outcome, H2H_OUT_UNKNOWN);
    CU_ASSERT_EQUAL(g[0].code, H2H_ECANCELED);
    for (int i = 1; i < 3; i++) {
        CU_ASSERT_EQUAL(g[i].calls, 1);
        CU_ASSERT_EQUAL(g[i].outcome, H2H_OUT_TEMPFAIL);
        CU_ASSERT_EQUAL(g[i].code, H2H_ECANCELED);
    }
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    got_free(g, 3);
}

static const struct tu_case cases[] = {
    {"tcp: framed echo, slow answer, 256 KiB", test_tcp_echo},
    {"tcp: bad prefix, 0, over 1 MiB, cut, reset", test_tcp_bad_answers},
    {"tcp: connection refused is TEMPFAIL", test_tcp_refused},
    {"tcp: request and connect timeouts", test_tcp_timeouts},
    {"tcp: max_concurrent 2 for 6 requests", test_tcp_concurrency},
    {"tcp: FIFO order with one slot", test_tcp_fifo},
    {"tcp: close cancels running and queued", test_tcp_close},
    {"tcp: close from inside a callback", test_tcp_close_in_callback},
    {"tcp: bad settings and requests refused", test_tcp_bad_arguments},
    {"tcp: icbc-style bank simulator", test_tcp_bank},
    {"http: cmb-style bank simulator", test_http_bank},
    {"http: TLS refusals", test_http_tls_refused},
    {"http: headers, statuses, refused requests", test_http_wire},
    {"http: close with requests in flight", test_http_close},
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
    int rc = tu_main("cx_wire", cases);
    env_stop();
    https_global_cleanup();
    return rc;
}
