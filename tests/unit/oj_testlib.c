/*
 * oj_testlib.c - the openapi_json suites' shared harness (see
 * oj_testlib.h).
 */
#include "oj_testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "fsutil.h"
#include "https.h"
#include "openapi_json.h"
#include "testutil.h"

#define PY "/usr/bin/python3"

static const struct h2h_adapter_ops *OPS = &openapi_json_ops;

struct ojt_env ojt_env;
int ojt_closed_calls;

static int verbose(void)
{
    return getenv("H2H_TEST_VERBOSE") != NULL;
}

void ojt_day(int offset, char out[11])
{
    time_t t = time(NULL) + (time_t)offset * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- the simulator ------------------------------------------------------ */

void ojt_jcopy(const json_t *o, const char *k, char *dst, size_t n)
{
    const char *v = json_string_value(json_object_get(o, k));
    snprintf(dst, n, "%s", v ? v : "");
}

int ojt_env_start(const char *seed)
{
    struct ojt_env *e = &ojt_env;
    if (e->up || e->failed)
        return e->up ? 0 : -1;
    e->failed = 1;
    const char *d = tu_mkdtemp();
    if (!d)
        return -1;
    snprintf(e->dir, sizeof(e->dir), "%s", d);
    char seedp[400], info[400];
    snprintf(seedp, sizeof(seedp), "%s/seed.json", e->dir);
    snprintf(info, sizeof(info), "%s/info.json", e->dir);
    if (tu_write_file(seedp, seed, strlen(seed)) != 0)
        return -1;
    if (tu_system("%s %s start %s/world --seed %s -- --page-size 2 "
                  "--lifetime 600 > %s",
                  PY, tu_src("tests/sims/openapi_world.py"), e->dir, seedp,
                  info) != 0)
        return -1;
    json_t *j = json_load_file(info, 0, NULL);
    if (!j)
        return -1;
    ojt_jcopy(j, "ca", e->ca, sizeof(e->ca));
    ojt_jcopy(j, "client", e->client, sizeof(e->client));
    ojt_jcopy(j, "client_key", e->client_key, sizeof(e->client_key));
    ojt_jcopy(j, "client_p12", e->client_p12, sizeof(e->client_p12));
    ojt_jcopy(j, "client_p12_pass", e->client_p12_pass,
              sizeof(e->client_p12_pass));
    ojt_jcopy(j, "client2", e->client2, sizeof(e->client2));
    ojt_jcopy(j, "client2_key", e->client2_key, sizeof(e->client2_key));
    ojt_jcopy(j, "client_sign", e->sign, sizeof(e->sign));
    ojt_jcopy(j, "client_sign_key", e->sign_key, sizeof(e->sign_key));
    ojt_jcopy(j, "bank_sign", e->bank, sizeof(e->bank));
    ojt_jcopy(j, "secret_file", e->secret, sizeof(e->secret));
    ojt_jcopy(j, "client_id", e->client_id, sizeof(e->client_id));
    ojt_jcopy(j, "base_url", e->base_url, sizeof(e->base_url));
    e->port = (unsigned)json_integer_value(json_object_get(j, "port"));
    e->admin_port =
        (unsigned)json_integer_value(json_object_get(j, "admin_port"));
    json_decref(j);
    if (!e->port || !e->admin_port)
        return -1;
    e->up = 1;
    e->failed = 0;
    return 0;
}

void ojt_env_stop(void)
{
    if (!ojt_env.dir[0])
        return;
    tu_system("%s %s stop %s/world", PY, tu_src("tests/sims/openapi_world.py"),
              ojt_env.dir);
    if (!getenv("H2H_KEEP"))
        tu_rmtree(ojt_env.dir);
    ojt_env.up = 0;
}

int ojt_main(const char *suite, const struct tu_case *cases)
{
    signal(SIGPIPE, SIG_IGN);
    struct h2h_err err;
    if (cert_init(&err) != 0 || https_global_init(&err) != 0) {
        fprintf(stderr, "init: %s\n", err.msg);
        return 1;
    }
    int rc = tu_main(suite, cases);
    ojt_env_stop();
    https_global_cleanup();
    cert_shutdown();
    return rc;
}

json_t *ojt_admin(const char *method, const char *path, const char *body,
                  int *status)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)ojt_env.admin_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return NULL;
    }
    char *req = NULL;
    int n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (n < 0 || write(fd, req, (size_t)n) != n) {
        free(req);
        close(fd);
        return NULL;
    }
    free(req);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    if (status)
        *status = len > 12 ? atoi(buf + 9) : 0;
    char *b = strstr(buf, "\r\n\r\n");
    json_t *j = b ? json_loads(b + 4, 0, NULL) : NULL;
    free(buf);
    return j;
}

/* ---- settings ----------------------------------------------------------- */

void ojt_report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    struct ojt_reports *r = ctx;
    size_t l = strlen(r->all);
    r->n++;
    snprintf(r->all + l, sizeof(r->all) - l, "%d: %s\n",
             s ? config_setting_source_line(s) : 0, msg);
}

int ojt_check(const char *text, struct ojt_reports *r)
{
    config_t cfg;
    config_init(&cfg);
    memset(r, 0, sizeof(*r));
    int rc = -1;
    if (config_read_string(&cfg, text) == CONFIG_TRUE)
        rc = OPS->check_config(config_lookup(&cfg, "bank"), NULL, ojt_report_cb,
                               r);
    else
        fprintf(stderr, "  parse error line %d: %s\n", config_error_line(&cfg),
                config_error_text(&cfg));
    config_destroy(&cfg);
    return rc;
}

/* ---- a bank on the simulator -------------------------------------------- */

int ojt_world_open(struct ojt_world *w, const char *tls, const char *members)
{
    const struct ojt_env *e = &ojt_env;
    memset(w, 0, sizeof(*w));
    const char *d = tu_mkdtemp();
    snprintf(w->base, sizeof(w->base), "%s", d ? d : "/nonexistent");
    snprintf(w->state, sizeof(w->state), "%s/state/adapters/obank", w->base);
    snprintf(w->tmp, sizeof(w->tmp), "%s/incoming", w->base);
    snprintf(w->got, sizeof(w->got), "%s/got", w->base);
    CU_ASSERT_EQUAL(fsu_mkdirs(w->state, 0700, NULL), 0);
    CU_ASSERT_EQUAL(fsu_mkdirs(w->tmp, 0700, NULL), 0);
    CU_ASSERT_EQUAL(fsu_mkdirs(w->got, 0700, NULL), 0);
    char tlsbuf[2048];
    if (!tls) {
        snprintf(tlsbuf, sizeof(tlsbuf),
                 "ca_file = \"%s\"; client_cert = \"%s\"; client_key = \"%s\";",
                 e->ca, e->client, e->client_key);
        tls = tlsbuf;
    }
    char text[8192];
    snprintf(text, sizeof(text),
             "bank = { name = \"obank\"; adapter = \"openapi_json\";"
             " payment_format = \"canonical\"; max_sessions = 2;\n"
             "openapi_json = { base_url = \"%s\"; client_id = \"%s\";"
             " client_secret_file = \"%s\"; tls = { %s };"
             " sign = { key = \"%s\"; cert = \"%s\"; }; bank_cert = \"%s\";"
             " connect_timeout = 5; request_timeout = 5; %s }; };\n",
             e->base_url, e->client_id, e->secret, tls, e->sign_key, e->sign,
             e->bank, members ? members : "");
    uv_loop_init(&w->loop);
    config_init(&w->cfg);
    if (config_read_string(&w->cfg, text) != CONFIG_TRUE) {
        fprintf(stderr, "  config: %s\n", config_error_text(&w->cfg));
        return -1;
    }
    const config_setting_t *bank = config_lookup(&w->cfg, "bank");
    struct ojt_reports r;
    memset(&r, 0, sizeof(r));
    if (OPS->check_config(bank, NULL, ojt_report_cb, &r) != 0) {
        fprintf(stderr, "%s", r.all);
        return -1;
    }
    struct h2h_err err = {0};
    int rc =
        OPS->create(&w->loop, bank, "obank", w->base, w->state, &w->a, &err);
    if (rc)
        fprintf(stderr, "  create: %s\n", err.msg);
    return rc;
}

static void wake_cb(uv_timer_t *t)
{
    (void)t;
}

int ojt_run_until(uv_loop_t *loop, int *count, int want, unsigned ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, wake_cb, 10, 10);
    uint64_t end = uv_now(loop) + ms;
    while (*count < want && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *count >= want ? 0 : -1;
}

void ojt_closed_cb(struct h2h_adapter *a)
{
    CU_ASSERT_STRING_EQUAL(a->bank, "obank");
    ojt_closed_calls++;
}

void ojt_world_close(struct ojt_world *w)
{
    ojt_closed_calls = 0;
    if (w->a) {
        OPS->close(w->a, ojt_closed_cb);
        CU_ASSERT_EQUAL(ojt_run_until(&w->loop, &ojt_closed_calls, 1, 20000),
                        0);
    }
    w->a = NULL;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&w->loop), 0);
    config_destroy(&w->cfg);
    if (!getenv("H2H_KEEP"))
        tu_rmtree(w->base);
}

/* ---- submit / recover --------------------------------------------------- */

void ojt_result_cb(struct h2h_adapter *a, struct h2h_submit_req *req,
                   const struct h2h_result *r)
{
    struct ojt_got *g = req->data;
    (void)a;
    g->calls++;
    g->out = r->outcome;
    g->code = r->err.code;
    snprintf(g->msg, sizeof(g->msg), "%s", r->err.msg);
    snprintf(g->ref, sizeof(g->ref), "%s", r->bank_ref);
    if (verbose())
        fprintf(stderr, "  %s [%s] %s %s\n", req->msg_id,
                h2h_outcome_name(r->outcome), r->err.msg, r->bank_ref);
}

void ojt_op(struct ojt_world *w, int recover, struct h2h_submit_req *req,
            struct ojt_got *g)
{
    memset(g, 0, sizeof(*g));
    req->data = g;
    struct h2h_err err = {0};
    int rc = recover ? OPS->recover(w->a, req, ojt_result_cb, &err)
                     : OPS->submit(w->a, req, ojt_result_cb, &err);
    if (rc)
        fprintf(stderr, "  %s %s: %s\n", recover ? "recover" : "submit",
                req->msg_id, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(g->calls, 0);
    CU_ASSERT_EQUAL(ojt_run_until(&w->loop, &g->calls, 1, 30000), 0);
    CU_ASSERT_EQUAL(g->calls, 1);
}

/* ---- poll --------------------------------------------------------------- */

static void p_deliver(struct h2h_adapter *a, struct h2h_poll_req *req,
                      const struct h2h_download *dl)
{
    struct ojt_pgot *g = req->data;
    char sha[65];
    CU_ASSERT_EQUAL(fsu_sha256_file(dl->local_path, sha, NULL, NULL), 0);
    CU_ASSERT_STRING_EQUAL(sha, dl->sha256);
    if (g->n < OJT_PGOT_MAX) {
        snprintf(g->remote[g->n], 256, "%s", dl->remote_name);
        snprintf(g->kind[g->n], 16, "%s", dl->kind);
        snprintf(g->sha[g->n], 65, "%s", dl->sha256);
        snprintf(g->path[g->n], 700, "%s/%d-%s", g->w->got, g->n,
                 dl->remote_name);
        CU_ASSERT_EQUAL(rename(dl->local_path, g->path[g->n]), 0);
        g->n++;
    } else {
        unlink(dl->local_path);
    }
    h2h_poll_delivered(a, req, dl, g->answer);
}

static void p_done(struct h2h_adapter *a, struct h2h_poll_req *req,
                   const struct h2h_result *res)
{
    struct ojt_pgot *g = req->data;
    (void)a;
    g->done++;
    g->out = res->outcome;
    snprintf(g->msg, sizeof(g->msg), "%s", res->err.msg);
    if (verbose())
        fprintf(stderr, "  poll [%s] %s (%d files)\n",
                h2h_outcome_name(res->outcome), res->err.msg, g->n);
}

void ojt_poll(struct ojt_world *w, unsigned what, int answer,
              struct ojt_pgot *g)
{
    memset(g, 0, sizeof(*g));
    g->w = w;
    g->answer = answer;
    struct h2h_poll_req req = {.tmp_dir = w->tmp,
                               .what = what,
                               .deliver = p_deliver,
                               .done = p_done,
                               .data = g};
    struct h2h_err err = {0};
    int rc = OPS->poll(w->a, &req, &err);
    if (rc)
        fprintf(stderr, "  poll: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(g->done, 0);
    CU_ASSERT_EQUAL(ojt_run_until(&w->loop, &g->done, 1, 60000), 0);
    CU_ASSERT_EQUAL(g->done, 1);
}
