/*
 * test_iso20022_sftp.c - the ISO 20022 SFTP bank adapter: its settings
 * (check_config, table-driven, plus the example in etc/h2hd.conf.sample)
 * and its operations against a real OpenSSH sshd on loopback started
 * through tests/sims/sshd.py.  sshd serves the local file system, so what
 * the bank "has" is checked on disk directly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <uv.h>

#include "adapter.h"
#include "fsutil.h"
#include "iso20022_sftp.h"
#include "testutil.h"

static const struct h2h_adapter_ops *OPS = &iso20022_sftp_ops;

/* ---- check_config ------------------------------------------------------- */

struct reports {
    int n;
    char all[4096];
};

static void report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    struct reports *r = ctx;
    size_t l = strlen(r->all);
    r->n++;
    snprintf(r->all + l, sizeof(r->all) - l, "%d: %s\n",
             s ? config_setting_source_line(s) : 0, msg);
}

/* Problems check_config finds in a bank group whose iso20022_sftp group
 * holds body; -1 when the text does not parse. */
static int check_body(const char *body, struct reports *r)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "bank = { name = \"b\"; adapter = \"iso20022_sftp\";\n%s\n};\n",
             body);
    config_t cfg;
    config_init(&cfg);
    memset(r, 0, sizeof(*r));
    int rc = -1;
    if (config_read_string(&cfg, text) == CONFIG_TRUE)
        rc = OPS->check_config(config_lookup(&cfg, "bank"), NULL, report_cb, r);
    else
        fprintf(stderr, "  parse error line %d: %s\n", config_error_line(&cfg),
                config_error_text(&cfg));
    config_destroy(&cfg);
    return rc;
}

#define MIN_OK                                                                 \
    "host = \"127.0.0.1\"; user = \"h2h\"; key = \"k\"; "                      \
    "known_hosts = \"kh\"; upload_dir = \"up\";"

static const struct {
    const char *label;
    const char *body; /* bank members besides name and adapter */
    int problems;
    const char *needle; /* in the problems, when any */
} config_cases[] = {
    {"minimal", "iso20022_sftp = { " MIN_OK " };", 0, NULL},
    {"everything",
     "iso20022_sftp = { " MIN_OK
     " port = 2222; passphrase_file = \"p\"; password_file = \"pw\";"
     " downloads = ( { dir = \"dl\"; pattern = \"*.xml\"; }, \"dl2\" );"
     " after_fetch = \"move\"; move_to = \"dl/done\";"
     " archive_dirs = ( \"arch\", { dir = \"a2\"; match = \"*_{name}\"; } );"
     " consumed_by_bank = true; connect_timeout = 5; op_timeout = 60;"
     " keepalive = 10; idle_timeout = 120; max_download_mb = 64; };",
     0, NULL},
    {"password only",
     "iso20022_sftp = { host = \"h\"; user = \"u\"; password_file = \"pw\";"
     " known_hosts = \"kh\"; upload_dir = \"up\"; };",
     0, NULL},
    {"no group", "", 1, "needs an \"iso20022_sftp\" group"},
    {"group is a string", "iso20022_sftp = \"x\";", 1, "needs an"},
    {"host missing",
     "iso20022_sftp = { user = \"u\"; key = \"k\"; known_hosts = \"kh\";"
     " upload_dir = \"up\"; };",
     1, "iso20022_sftp.host"},
    {"no credentials",
     "iso20022_sftp = { host = \"h\"; user = \"u\"; known_hosts = \"kh\";"
     " upload_dir = \"up\"; };",
     1, "password_file is required"},
    {"passphrase without key",
     "iso20022_sftp = { host = \"h\"; user = \"u\"; password_file = \"pw\";"
     " passphrase_file = \"p\"; known_hosts = \"kh\"; upload_dir = \"up\"; };",
     1, "set iso20022_sftp.key too"},
    {"known_hosts missing",
     "iso20022_sftp = { host = \"h\"; user = \"u\"; key = \"k\";"
     " upload_dir = \"up\"; };",
     1, "known_hosts"},
    {"upload_dir missing",
     "iso20022_sftp = { host = \"h\"; user = \"u\"; key = \"k\";"
     " known_hosts = \"kh\"; };",
     1, "upload_dir"},
    {"empty host",
     "iso20022_sftp = { host = \"\"; user = \"u\"; key = \"k\";"
     " known_hosts = \"kh\"; upload_dir = \"up\"; };",
     1, "must not be empty"},
    {"port as string", "iso20022_sftp = { " MIN_OK " port = \"22\"; };", 1,
     "whole number"},
    {"port out of range", "iso20022_sftp = { " MIN_OK " port = 70000; };", 1,
     "between 1 and 65535"},
    {"timeout zero", "iso20022_sftp = { " MIN_OK " op_timeout = 0; };", 1,
     "op_timeout must be between"},
    {"unknown setting", "iso20022_sftp = { " MIN_OK " hots = \"x\"; };", 1,
     "unknown iso20022_sftp setting \"hots\""},
    {"bad after_fetch",
     "iso20022_sftp = { " MIN_OK " after_fetch = \"archive\"; };", 1,
     "\"delete\", \"keep\" or \"move\""},
    {"move without move_to",
     "iso20022_sftp = { " MIN_OK " after_fetch = \"move\"; };", 1,
     "needs iso20022_sftp.move_to"},
    {"downloads not a list",
     "iso20022_sftp = { " MIN_OK " downloads = { dir = \"d\"; }; };", 1,
     "must be a list"},
    {"download without dir",
     "iso20022_sftp = { " MIN_OK " downloads = ( { pattern = \"*\"; } ); };", 1,
     "downloads[0].dir"},
    {"download unknown key",
     "iso20022_sftp = { " MIN_OK
     " downloads = ( { dir = \"d\"; patern = \"*\"; } ); };",
     1, "unknown downloads setting \"patern\""},
    {"archive match without {name}",
     "iso20022_sftp = { " MIN_OK
     " archive_dirs = ( { dir = \"a\"; match = \"*.xml\"; } ); };",
     1, "must contain {name}"},
    {"consumed_by_bank not bool",
     "iso20022_sftp = { " MIN_OK " consumed_by_bank = 1; };", 1,
     "true or false"},
    {"control character",
     "iso20022_sftp = { " MIN_OK " move_to = \"a\\nb\"; };", 1,
     "control character"},
    {"every problem at once",
     "iso20022_sftp = { port = 0; after_fetch = \"x\"; foo = 1; };", 8,
     "iso20022_sftp.user"},
};

static void test_check_config(void)
{
    for (size_t i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]);
         i++) {
        struct reports r;
        int n = check_body(config_cases[i].body, &r);
        if (n != config_cases[i].problems ||
            (config_cases[i].needle && !strstr(r.all, config_cases[i].needle)))
            fprintf(stderr, "  case \"%s\": %d problems (want %d):\n%s",
                    config_cases[i].label, n, config_cases[i].problems, r.all);
        CU_ASSERT_EQUAL(n, config_cases[i].problems);
        CU_ASSERT_EQUAL(r.n, n);
        if (config_cases[i].needle)
            CU_ASSERT_PTR_NOT_NULL(strstr(r.all, config_cases[i].needle));
    }
}

/* The example in etc/h2hd.conf.sample, uncommented, passes as it is. */
static void test_sample_example(void)
{
    int lines = 0;
    char *out = tu_conf_example("iso20022_sftp", &lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_TRUE(lines > 20);
    config_t cfg;
    config_init(&cfg);
    int parsed = config_read_string(&cfg, out) == CONFIG_TRUE;
    if (!parsed)
        fprintf(stderr, "  sample example line %d: %s\n%s\n",
                config_error_line(&cfg), config_error_text(&cfg), out);
    CU_ASSERT_TRUE_FATAL(parsed);
    struct reports r = {0};
    const config_setting_t *bank = config_lookup(&cfg, "bank");
    CU_ASSERT_EQUAL(OPS->check_config(bank, NULL, report_cb, &r), 0);
    if (r.n)
        fprintf(stderr, "%s", r.all);
    const char *s = NULL;
    CU_ASSERT_TRUE(config_setting_lookup_string(bank, "adapter", &s) &&
                   strcmp(s, "iso20022_sftp") == 0);
    CU_ASSERT_PTR_EQUAL(h2h_adapter_find("iso20022_sftp"), OPS);
    config_destroy(&cfg);
    free(out);
}

/* create() refuses what check_config refuses, with the reason. */
static void test_create_refuses(void)
{
    config_t cfg;
    config_init(&cfg);
    CU_ASSERT_FATAL(
        config_read_string(&cfg,
                           "bank = { name = \"b\"; adapter = "
                           "\"iso20022_sftp\"; iso20022_sftp = { host = "
                           "\"h\"; user = \"u\"; upload_dir = \"u\"; }; };") ==
        CONFIG_TRUE);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct h2h_adapter *a = NULL;
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(
        OPS->create(&loop, config_lookup(&cfg, "bank"), "b", "/x", NULL, &a,
                    &err),
        H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bank b: line 1:"));
    config_destroy(&cfg);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

/* ---- the server --------------------------------------------------------- */

static struct {
    int up;
    char dir[256];
    char user[64];
    char known_hosts[512];
    char user_key[512];
    char root[512]; /* served folder */
    unsigned port;
} srv;

static int info_get(const char *text, const char *key, char *buf, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "%s=", key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, pat, strlen(pat)) == 0) {
            p += strlen(pat);
            size_t l = strcspn(p, "\n");
            if (l >= n)
                return -1;
            memcpy(buf, p, l);
            buf[l] = '\0';
            return 0;
        }
    return -1;
}

static int server_start(void)
{
    if (srv.up)
        return 0;
    const char *d = tu_mkdtemp();
    if (!d)
        return -1;
    snprintf(srv.dir, sizeof(srv.dir), "%s", d);
    if (tu_system("/usr/bin/python3 %s start %s > %s/info",
                  tu_src("tests/sims/sshd.py"), srv.dir, srv.dir) != 0)
        return -1;
    char path[512], port[16];
    snprintf(path, sizeof(path), "%s/info", srv.dir);
    char *text = tu_read_file(path, NULL);
    if (!text)
        return -1;
    int rc = info_get(text, "port", port, sizeof(port)) |
             info_get(text, "user", srv.user, sizeof(srv.user)) |
             info_get(text, "known_hosts", srv.known_hosts,
                      sizeof(srv.known_hosts)) |
             info_get(text, "user_key", srv.user_key, sizeof(srv.user_key));
    free(text);
    if (rc)
        return -1;
    srv.port = (unsigned)atoi(port);
    snprintf(srv.root, sizeof(srv.root), "%s/sftp", srv.dir);
    srv.up = 1;
    return 0;
}

static void server_stop(void)
{
    if (!srv.up)
        return;
    tu_system("/usr/bin/python3 %s stop %s", tu_src("tests/sims/sshd.py"),
              srv.dir);
    tu_rmtree(srv.dir);
    srv.up = 0;
}

#define NEED_SERVER()                                                          \
    do {                                                                       \
        if (server_start() != 0) {                                             \
            CU_FAIL("sshd did not start");                                     \
            return;                                                            \
        }                                                                      \
    } while (0)

/* ---- a bank on the server ----------------------------------------------- */

/* One test's world: remote folders under the served root, a local base
 * folder, and the adapter. */
struct world {
    uv_loop_t loop;
    config_t cfg;
    struct h2h_adapter *a;
    struct h2h_adapter *twin; /* an idle second instance, see world_twin */
    char rdir[600];           /* remote base */
    char up[700];             /* upload */
    char dl[700];             /* download */
    char done[700];           /* move_to */
    char arch[700];           /* archive */
    char local[600];          /* base_dir */
    char tmp[700];            /* poll tmp_dir */
};

static void mkdirp(const char *p)
{
    CU_ASSERT_EQUAL(fsu_mkdirs(p, 0755, NULL), 0);
}

/* Set before world_open: an idle twin instance on the same folders is
 * created first, so that w->a is not the only live instance there and
 * does not sweep up every temporary of ours when it starts (tests of the
 * by-name clean-ups need that). */
static int world_twin;

/* extra: more iso20022_sftp settings; known_hosts may be NULL (real). */
static int world_open(struct world *w, const char *extra,
                      const char *known_hosts)
{
    static int n;
    memset(w, 0, sizeof(*w));
    snprintf(w->rdir, sizeof(w->rdir), "%s/w%d", srv.root, ++n);
    snprintf(w->up, sizeof(w->up), "%s/upload", w->rdir);
    snprintf(w->dl, sizeof(w->dl), "%s/download", w->rdir);
    snprintf(w->done, sizeof(w->done), "%s/download/done", w->rdir);
    snprintf(w->arch, sizeof(w->arch), "%s/archive", w->rdir);
    mkdirp(w->up);
    mkdirp(w->done);
    mkdirp(w->arch);
    const char *d = tu_mkdtemp();
    snprintf(w->local, sizeof(w->local), "%s", d ? d : "/nonexistent");
    snprintf(w->tmp, sizeof(w->tmp), "%s/incoming", w->local);
    mkdirp(w->tmp);
    /* the key by a path relative to base_dir */
    char key[700];
    snprintf(key, sizeof(key), "%s/key", w->local);
    CU_ASSERT_EQUAL(
        tu_system("cp %s %s && chmod 600 %s", srv.user_key, key, key), 0);
    /* "@R" in extra stands for the remote base folder */
    char ex[2048] = "";
    for (const char *e = extra ? extra : ""; *e;) {
        size_t l = strlen(ex);
        if (strncmp(e, "@R", 2) == 0) {
            snprintf(ex + l, sizeof(ex) - l, "%s", w->rdir);
            e += 2;
        } else if (l + 1 < sizeof(ex)) {
            ex[l] = *e++;
            ex[l + 1] = '\0';
        } else {
            break;
        }
    }
    char text[4096];
    snprintf(text, sizeof(text),
             "bank = { name = \"bankx\"; adapter = \"iso20022_sftp\";"
             " max_sessions = 2;\n"
             "iso20022_sftp = { host = \"127.0.0.1\"; port = %u; user = "
             "\"%s\"; key = \"key\"; known_hosts = \"%s\"; upload_dir = "
             "\"%s\"; downloads = ( { dir = \"%s\"; pattern = \"*.xml\"; } );"
             " connect_timeout = 5; %s }; };\n",
             srv.port, srv.user, known_hosts ? known_hosts : srv.known_hosts,
             w->up, w->dl, ex);
    uv_loop_init(&w->loop);
    config_init(&w->cfg);
    if (config_read_string(&w->cfg, text) != CONFIG_TRUE) {
        fprintf(stderr, "  config: %s\n", config_error_text(&w->cfg));
        return -1;
    }
    const config_setting_t *bank = config_lookup(&w->cfg, "bank");
    struct reports r;
    memset(&r, 0, sizeof(r));
    if (OPS->check_config(bank, NULL, report_cb, &r) != 0) {
        fprintf(stderr, "%s", r.all);
        return -1;
    }
    struct h2h_err err = {0};
    int rc = 0;
    if (world_twin)
        rc = OPS->create(&w->loop, bank, "bankx", w->local, NULL, &w->twin,
                         &err);
    if (rc == 0)
        rc = OPS->create(&w->loop, bank, "bankx", w->local, NULL, &w->a, &err);
    if (rc)
        fprintf(stderr, "  create: %s\n", err.msg);
    return rc;
}

static void wake_cb(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop until *count >= want or ms passed; 0 when reached.  The
 * ticking timer makes each UV_RUN_ONCE return soon even when the awaited
 * callback ran in the timer phase (before the poll phase would block until
 * the next keepalive). */
static int run_until(uv_loop_t *loop, int *count, int want, unsigned ms)
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

static int closed_calls;

static void closed_cb(struct h2h_adapter *a)
{
    CU_ASSERT_STRING_EQUAL(a->bank, "bankx");
    closed_calls++;
}

static void world_close(struct world *w)
{
    int want = (w->a ? 1 : 0) + (w->twin ? 1 : 0);
    closed_calls = 0;
    if (w->a)
        OPS->close(w->a, closed_cb);
    if (w->twin)
        OPS->close(w->twin, closed_cb);
    CU_ASSERT_EQUAL(run_until(&w->loop, &closed_calls, want, 20000), 0);
    w->a = w->twin = NULL;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(closed_calls, want);
    CU_ASSERT_EQUAL(uv_loop_close(&w->loop), 0);
    config_destroy(&w->cfg);
    tu_rmtree(w->local);
}

/* ---- submit / recover --------------------------------------------------- */

struct got {
    int calls;
    enum h2h_outcome out;
    int code;
    char msg[H2H_ERR_MSG_MAX];
    char ref[128];
};

static void result_cb(struct h2h_adapter *a, struct h2h_submit_req *req,
                      const struct h2h_result *r)
{
    struct got *g = req->data;
    (void)a;
    g->calls++;
    g->out = r->outcome;
    g->code = r->err.code;
    snprintf(g->msg, sizeof(g->msg), "%s", r->err.msg);
    snprintf(g->ref, sizeof(g->ref), "%s", r->bank_ref);
    if (getenv("H2H_TEST_VERBOSE"))
        fprintf(stderr, "  [%s] %s\n", h2h_outcome_name(r->outcome),
                r->err.msg);
}

/* Run submit (recover = 0) or recover of payload as name; result in *g. */
static void op(struct world *w, int recover, const char *payload,
               const char *name, struct got *g)
{
    memset(g, 0, sizeof(*g));
    struct h2h_submit_req req = {.msg_id = "M1",
                                 .remote_name = name,
                                 .payload = payload,
                                 .kind = "payment",
                                 .data = g};
    struct h2h_err err = {0};
    int rc = recover ? OPS->recover(w->a, &req, result_cb, &err)
                     : OPS->submit(w->a, &req, result_cb, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(g->calls, 0); /* never from inside the call */
    CU_ASSERT_EQUAL(run_until(&w->loop, &g->calls, 1, 30000), 0);
    CU_ASSERT_EQUAL(g->calls, 1);
}

static void put(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    CU_ASSERT_EQUAL(tu_write_file(p, text, strlen(text)), 0);
}

static int exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* Names in dir starting with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "ls -a %s", dir);
    FILE *f = popen(cmd, "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, prefix, strlen(prefix)))
            n++;
    if (f)
        pclose(f);
    return n;
}

static void test_submit(void)
{
    NEED_SERVER();
    struct world w;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    put(w.local, "pay.xml", "<Document>one</Document>\n");
    put(w.local, "other.xml", "<Document>other, longer</Document>\n");
    char pay[700], other[700];
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    snprintf(other, sizeof(other), "%s/other.xml", w.local);
    struct got g;

    op(&w, 0, pay, "M1-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_STRING_EQUAL(g.ref, "M1-pay.xml");
    char *got = NULL;
    char p[1024];
    snprintf(p, sizeof(p), "%s/M1-pay.xml", w.up);
    got = tu_read_file(p, NULL);
    CU_ASSERT_TRUE(got && strcmp(got, "<Document>one</Document>\n") == 0);
    free(got);
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");

    /* again: our earlier attempt is there (same size) -> ok, untouched */
    op(&w, 0, pay, "M1-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_STRING_EQUAL(g.ref, "M1-pay.xml");

    /* another file under the same name: never overwritten */
    op(&w, 0, other, "M1-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EDUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "never overwritten"));
    got = tu_read_file(p, NULL);
    CU_ASSERT_TRUE(got && strcmp(got, "<Document>one</Document>\n") == 0);
    free(got);
    /* a taken name is about that file, not the bank's health */
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");

    /* a payload that is gone: permanent, named */
    snprintf(p, sizeof(p), "%s/missing.xml", w.local);
    op(&w, 0, p, "M2-missing.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);

    /* a folder under the final name, even one of our size, is not ours */
    char dir[1024], sized[700];
    snprintf(dir, sizeof(dir), "%s/M30-dir.xml", w.up);
    mkdirp(dir);
    struct stat dst;
    CU_ASSERT_EQUAL_FATAL(stat(dir, &dst), 0);
    snprintf(sized, sizeof(sized), "%s/sized.xml", w.local);
    CU_ASSERT_EQUAL(
        tu_system("head -c %lld /dev/zero > %s", (long long)dst.st_size, sized),
        0);
    op(&w, 0, sized, "M30-dir.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "not a regular file"));
    op(&w, 1, sized, "M30-dir.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "not a regular file"));

    /* the bank's upload folder is gone: permanent, and the bank is not
     * healthy */
    CU_ASSERT_EQUAL(tu_rmtree(w.up), 0);
    op(&w, 0, pay, "M3-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ENOTFOUND);
    CU_ASSERT_EQUAL(strncmp(OPS->health(w.a), "degraded: ", 10), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(OPS->health(w.a), "M3-pay.xml"));
    mkdirp(w.up);
    op(&w, 0, pay, "M3-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");

    /* synchronous refusals never call back */
    struct h2h_submit_req bad = {
        .remote_name = "../x", .payload = pay, .data = &g};
    struct h2h_err err = {0};
    memset(&g, 0, sizeof(g));
    CU_ASSERT_EQUAL(OPS->submit(w.a, &bad, result_cb, &err), H2H_EINVALID);
    CU_ASSERT_EQUAL(count_prefix(w.up, ".h2h-tmp."), 0);
    world_close(&w);
    CU_ASSERT_EQUAL(g.calls, 0);
}

static void test_recover(void)
{
    NEED_SERVER();
    struct world w;
    world_twin = 1; /* recover's own clean-up, not the start-up sweep */
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    world_twin = 0;
    put(w.local, "pay.xml", "<Document>recover me</Document>\n");
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    struct got g;

    /* a crash between create and rename left our temporary: removed, and
     * the payment never arrived */
    put(w.up, ".h2h-tmp.0badc0de.M3-pay.xml", "<Docu");
    put(w.up, ".h2h-tmp.0badc0de.M3-pay.xml.other", "not ours");
    put(w.up, ".h2h-tmp.zzzzzzzz.M3-pay.xml", "not ours either");
    op(&w, 1, pay, "M3-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_NOT_SENT);
    CU_ASSERT_FALSE(exists(w.up, ".h2h-tmp.0badc0de.M3-pay.xml"));
    CU_ASSERT_TRUE(exists(w.up, ".h2h-tmp.0badc0de.M3-pay.xml.other"));
    CU_ASSERT_TRUE(exists(w.up, ".h2h-tmp.zzzzzzzz.M3-pay.xml"));

    /* there with our size: delivered */
    put(w.up, "M3-pay.xml", "<Document>recover me</Document>\n");
    op(&w, 1, pay, "M3-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_STRING_EQUAL(g.ref, "M3-pay.xml");

    /* there with another size: not ours */
    put(w.up, "M4-pay.xml", "<Document>something else</Document>\n");
    op(&w, 1, pay, "M4-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EDUP);
    world_close(&w);

    /* the bank moved it into its archive under another name; a folder
     * that is not there holds nothing */
    struct world w2;
    CU_ASSERT_FATAL(world_open(&w2,
                               "archive_dirs = ( \"/nonexistent/folder\", "
                               "{ dir = \"@R/archive\"; "
                               "match = \"??????_{name}\"; } );",
                               NULL) == 0);
    const char *archdir = w2.arch;

    put(w2.local, "pay.xml", "<Document>recover me</Document>\n");
    snprintf(pay, sizeof(pay), "%s/pay.xml", w2.local);
    put(archdir, "000017_M5-pay.xml", "<Document>recover me</Document>\n");
    put(archdir, "000018_M5-pay.xml.bak", "<Document>recover me</Document>\n");
    op(&w2, 1, pay, "M5-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    op(&w2, 1, pay, "M6-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_NOT_SENT);
    world_close(&w2);

    /* a bank that consumes uploads: absence proves nothing */
    CU_ASSERT_FATAL(world_open(&w2, "consumed_by_bank = true;", NULL) == 0);
    put(w2.local, "pay.xml", "<Document>recover me</Document>\n");
    snprintf(pay, sizeof(pay), "%s/pay.xml", w2.local);
    op(&w2, 1, pay, "M7-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_UNKNOWN);
    world_close(&w2);
}

/* ---- trust failures ------------------------------------------------------ */

static void test_changed_host_key(void)
{
    NEED_SERVER();
    char kh[600];
    snprintf(kh, sizeof(kh), "%s/known_hosts_changed", srv.dir);
    struct world w;
    CU_ASSERT_FATAL(world_open(&w, NULL, kh) == 0);
    put(w.local, "pay.xml", "<Document/>\n");
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    struct got g;
    op(&w, 0, pay, "M8-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EHOSTKEY);
    CU_ASSERT_PTR_NOT_NULL(strstr(g.msg, "SHA256:"));
    const char *h = OPS->health(w.a);
    CU_ASSERT_EQUAL(strncmp(h, "degraded: ", 10), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "ssh-ed25519 SHA256:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "CHANGED"));
    CU_ASSERT_FALSE(exists(w.up, "M8-pay.xml"));
    /* recover cannot tell either; never "not sent" */
    op(&w, 1, pay, "M8-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EHOSTKEY);
    world_close(&w);
}

static void test_wrong_key(void)
{
    NEED_SERVER();
    /* a key the server does not know */
    struct world w;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    char key[700];
    snprintf(key, sizeof(key), "%s/key", w.local);
    unlink(key);
    CU_ASSERT_EQUAL(
        tu_system("ssh-keygen -q -t ed25519 -N '' -f %s >/dev/null", key), 0);
    put(w.local, "pay.xml", "<Document/>\n");
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    struct got g;
    op(&w, 0, pay, "M9-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_EAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(OPS->health(w.a), "refused key"));
    world_close(&w);

    /* group-readable key: refused before use */
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    snprintf(key, sizeof(key), "%s/key", w.local);
    put(w.local, "pay.xml", "<Document/>\n");
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    chmod(key, 0640);
    op(&w, 0, pay, "M9-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ESECURITY);
    world_close(&w);
}

/* ---- poll ---------------------------------------------------------------- */

#define MAXDL 16

struct polls {
    struct world *w;
    int delivered, done;
    enum h2h_outcome out;
    char msg[H2H_ERR_MSG_MAX];
    char names[MAXDL][256];
    uint64_t sizes[MAXDL];
    int sha_ok[MAXDL];
    int answer;       /* what the daemon answers */
    int answer_later; /* from a timer instead of inside deliver */
    uv_timer_t timer;
    char later_name[256];
    struct h2h_poll_req req;
};

static void later_cb(uv_timer_t *t)
{
    struct polls *ps = t->data;
    struct h2h_download dl = {.remote_name = ps->later_name};
    h2h_poll_delivered(ps->w->a, &ps->req, &dl, ps->answer);
}

static void deliver_cb(struct h2h_adapter *a, struct h2h_poll_req *req,
                       const struct h2h_download *dl)
{
    struct polls *ps = req->data;
    int i = ps->delivered++;
    if (i < MAXDL) {
        snprintf(ps->names[i], sizeof(ps->names[i]), "%s", dl->remote_name);
        ps->sizes[i] = dl->size;
        char sha[65];
        uint64_t size = 0;
        ps->sha_ok[i] =
            fsu_sha256_file(dl->local_path, sha, &size, NULL) == 0 &&
            strcmp(sha, dl->sha256) == 0 && size == dl->size &&
            strncmp(dl->local_path, ps->w->tmp, strlen(ps->w->tmp)) == 0;
    }
    /* the daemon takes the local file over */
    unlink(dl->local_path);
    if (ps->answer_later) {
        snprintf(ps->later_name, sizeof(ps->later_name), "%s", dl->remote_name);
        uv_timer_start(&ps->timer, later_cb, 10, 0);
        return;
    }
    h2h_poll_delivered(a, req, dl, ps->answer);
}

static void poll_done_cb(struct h2h_adapter *a, struct h2h_poll_req *req,
                         const struct h2h_result *res)
{
    struct polls *ps = req->data;
    (void)a;
    ps->done++;
    ps->out = res->outcome;
    snprintf(ps->msg, sizeof(ps->msg), "%s", res->err.msg);
}

static void polls_init(struct polls *ps, struct world *w)
{
    memset(ps, 0, sizeof(*ps));
    ps->w = w;
    uv_timer_init(&w->loop, &ps->timer);
    ps->timer.data = ps;
    ps->req.tmp_dir = w->tmp;
    ps->req.deliver = deliver_cb;
    ps->req.done = poll_done_cb;
    ps->req.data = ps;
}

static void polls_release(struct polls *ps)
{
    uv_close((uv_handle_t *)&ps->timer, NULL);
}

/* One poll; names delivered in ps. */
static void poll_once(struct polls *ps)
{
    ps->delivered = ps->done = 0;
    memset(ps->names, 0, sizeof(ps->names));
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(OPS->poll(ps->w->a, &ps->req, &err), 0);
    CU_ASSERT_EQUAL(ps->done, 0);
    /* one at a time */
    CU_ASSERT_EQUAL(OPS->poll(ps->w->a, &ps->req, &err), H2H_ESTATE);
    CU_ASSERT_EQUAL(run_until(&ps->w->loop, &ps->done, 1, 30000), 0);
    CU_ASSERT_EQUAL(ps->done, 1);
}

static int delivered(const struct polls *ps, const char *name)
{
    for (int i = 0; i < ps->delivered && i < MAXDL; i++)
        if (strcmp(ps->names[i], name) == 0)
            return 1;
    return 0;
}

static void test_poll_delete(void)
{
    NEED_SERVER();
    struct world w;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    mkdirp(w.dl);
    put(w.dl, "pain002_1.xml", "<Document>status 1</Document>\n");
    put(w.dl, "camt053_1.xml", "<Document>statement, longer</Document>\n");
    put(w.dl, ".hidden.xml", "x");
    put(w.dl, "partial.xml.part", "x");
    put(w.dl, "note.txt", "not matching the pattern");
    struct polls ps;
    polls_init(&ps, &w);
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(ps.delivered, 2);
    CU_ASSERT_TRUE(delivered(&ps, "pain002_1.xml"));
    CU_ASSERT_TRUE(delivered(&ps, "camt053_1.xml"));
    CU_ASSERT_TRUE(ps.sha_ok[0] && ps.sha_ok[1]);
    CU_ASSERT_FALSE(exists(w.dl, "pain002_1.xml"));
    CU_ASSERT_FALSE(exists(w.dl, "camt053_1.xml"));
    CU_ASSERT_TRUE(exists(w.dl, ".hidden.xml"));
    CU_ASSERT_TRUE(exists(w.dl, "partial.xml.part"));
    CU_ASSERT_TRUE(exists(w.dl, "note.txt"));

    /* the daemon cannot take it now (answered later, from a timer):
     * the file stays and comes again next time */
    put(w.dl, "pain002_2.xml", "<Document>status 2</Document>\n");
    ps.answer = H2H_EIO;
    ps.answer_later = 1;
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.delivered, 1);
    CU_ASSERT_TRUE(exists(w.dl, "pain002_2.xml"));
    /* already known to the daemon: deleted like a fresh one */
    ps.answer = H2H_EDUP;
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.delivered, 1);
    CU_ASSERT_FALSE(exists(w.dl, "pain002_2.xml"));
    CU_ASSERT_EQUAL(count_prefix(w.tmp, "bankx."), 0);
    CU_ASSERT_EQUAL(count_prefix(w.tmp, ".h2h-tmp."), 0);

    /* a download folder that is not there: the poll says so */
    tu_rmtree(w.dl);
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.out, H2H_OUT_PERMFAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ps.msg, "download"));
    CU_ASSERT_EQUAL(strncmp(OPS->health(w.a), "degraded: ", 10), 0);
    mkdirp(w.dl);
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.out, H2H_OUT_OK);
    CU_ASSERT_STRING_EQUAL(OPS->health(w.a), "ok");
    polls_release(&ps);
    world_close(&w);
}

static void test_poll_keep(void)
{
    NEED_SERVER();
    struct world w;
    CU_ASSERT_FATAL(world_open(&w, "after_fetch = \"keep\";", NULL) == 0);
    mkdirp(w.dl);
    put(w.dl, "a.xml", "<Document>a</Document>\n");
    put(w.dl, "b.xml", "<Document>b</Document>\n");
    struct polls ps;
    polls_init(&ps, &w);
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.delivered, 2);
    CU_ASSERT_TRUE(exists(w.dl, "a.xml") && exists(w.dl, "b.xml"));
    /* known files are not fetched again */
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(ps.delivered, 0);
    /* a new file, and one the bank rewrote: fetched */
    put(w.dl, "c.xml", "<Document>c</Document>\n");
    put(w.dl, "a.xml", "<Document>a, corrected</Document>\n");
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.delivered, 2);
    CU_ASSERT_TRUE(delivered(&ps, "a.xml") && delivered(&ps, "c.xml"));
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.delivered, 0);
    polls_release(&ps);
    world_close(&w);
}

static void test_poll_move(void)
{
    NEED_SERVER();
    struct world w;
    CU_ASSERT_FATAL(world_open(&w,
                               "after_fetch = \"move\"; "
                               "move_to = \"@R/download/done\";",
                               NULL) == 0);
    const char *target = w.done;

    mkdirp(w.dl);
    put(w.dl, "s1.xml", "<Document>one</Document>\n");
    put(target, "s2.xml", "<Document>moved before</Document>\n");
    put(w.dl, "s2.xml", "<Document>two</Document>\n");
    struct polls ps;
    polls_init(&ps, &w);
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.out, H2H_OUT_OK);
    CU_ASSERT_EQUAL(ps.delivered, 2);
    CU_ASSERT_FALSE(exists(w.dl, "s1.xml") || exists(w.dl, "s2.xml"));
    CU_ASSERT_TRUE(exists(target, "s1.xml"));
    CU_ASSERT_TRUE(exists(target, "s2.xml.1"));
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.delivered, 0);
    polls_release(&ps);
    world_close(&w);
}

/* ---- what broken connections leave -------------------------------------- */

/* Freeze (1) or thaw (0) sshd's session processes: a connection that stops
 * answering without closing. */
static void freeze_sessions(int on)
{
    tu_system("for p in $(pgrep -P $(cat %s/sshd.pid)); do kill -%s $p; "
              "pkill -%s -P $p; done",
              srv.dir, on ? "STOP" : "CONT", on ? "STOP" : "CONT");
}

/* An upload whose connection died may leave our temporary (the transport
 * could not remove it): the next attempt of that name removes it first. */
static void test_retry_cleans_up(void)
{
    NEED_SERVER();
    struct world w;
    world_twin = 1; /* the retry's own clean-up, not the start-up sweep */
    CU_ASSERT_FATAL(world_open(&w, "op_timeout = 1;", NULL) == 0);
    world_twin = 0;
    put(w.local, "pay.xml", "<Document>retry</Document>\n");
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    struct got g;
    op(&w, 1, pay, "M20-pay.xml", &g); /* a session is up */
    CU_ASSERT_EQUAL(g.out, H2H_OUT_NOT_SENT);
    freeze_sessions(1);
    op(&w, 0, pay, "M20-pay.xml", &g);
    freeze_sessions(0);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_TEMPFAIL);
    CU_ASSERT_EQUAL(g.code, H2H_ETIMEOUT);
    /* what such a connection leaves behind */
    put(w.up, ".h2h-tmp.0badc0de.M20-pay.xml", "<Docu");
    op(&w, 0, pay, "M20-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    CU_ASSERT_TRUE(exists(w.up, "M20-pay.xml"));
    CU_ASSERT_EQUAL(count_prefix(w.up, ".h2h-tmp."), 0);
    world_close(&w);
}

/* Run w's loop until dir/name is gone; 1 when it is. */
static int wait_gone(struct world *w, const char *dir, const char *name)
{
    for (int i = 0; i < 500 && exists(dir, name); i++) {
        int never = 0;
        run_until(&w->loop, &never, 1, 10);
    }
    return !exists(dir, name);
}

static const char *const sweep_names[] = {
    ".h2h-tmp.0badc0de.M21-old.xml",   /* ours, hours old */
    ".h2h-tmp.0badc0df.M22-fresh.xml", /* ours, fresh */
    ".h2h-tmp.not-ours.xml",           /* not our pattern */
    ".other-tool.M21-old.xml",
};

static void plant_sweep(struct world *w)
{
    for (size_t i = 0; i < 4; i++) {
        char p[1024];
        put(w->up, sweep_names[i], "<Docu");
        snprintf(p, sizeof(p), "%s/%s", w->up, sweep_names[i]);
        if (i != 1)
            CU_ASSERT_EQUAL(tu_system("touch -d '3 hours ago' '%s'", p), 0);
    }
    mkdirp(w->dl);
}

/* The first instance on an upload folder sweeps every temporary of ours
 * (the previous process is gone, nothing of ours can be running there);
 * one started beside another (a reload) only takes the dead ones. */
static void test_sweep(void)
{
    NEED_SERVER();
    struct world w;
    struct polls ps;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    plant_sweep(&w);
    polls_init(&ps, &w);
    poll_once(&ps);
    CU_ASSERT_EQUAL(ps.out, H2H_OUT_OK);
    CU_ASSERT_TRUE(wait_gone(&w, w.up, sweep_names[0]));
    CU_ASSERT_TRUE(wait_gone(&w, w.up, sweep_names[1]));
    CU_ASSERT_TRUE(exists(w.up, sweep_names[2]));
    CU_ASSERT_TRUE(exists(w.up, sweep_names[3]));
    polls_release(&ps);
    world_close(&w);

    world_twin = 1;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    world_twin = 0;
    plant_sweep(&w);
    polls_init(&ps, &w);
    poll_once(&ps);
    CU_ASSERT_TRUE(wait_gone(&w, w.up, sweep_names[0]));
    CU_ASSERT_TRUE(exists(w.up, sweep_names[1]));
    CU_ASSERT_TRUE(exists(w.up, sweep_names[2]));
    CU_ASSERT_TRUE(exists(w.up, sweep_names[3]));
    polls_release(&ps);
    world_close(&w);
}

/* A process before this one left a temporary of a name that is submitted
 * again at once: the first sweep leaves it alone (its submit is running),
 * so the submit removes it itself before it uploads. */
static void test_restart_leftover(void)
{
    NEED_SERVER();
    struct world w;
    struct got g;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    const char *left = ".h2h-tmp.0badf00d.M20-pay.xml";
    put(w.up, left, "<Document>half");
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/pay.xml", w.local);
    put(w.local, "pay.xml", "<Document>whole</Document>\n");
    op(&w, 0, pay, "M20-pay.xml", &g);
    CU_ASSERT_EQUAL(g.out, H2H_OUT_OK);
    /* gone by the time the submit answers, not by a later sweep */
    CU_ASSERT_FALSE(exists(w.up, left));
    CU_ASSERT_TRUE(exists(w.up, "M20-pay.xml"));
    world_close(&w);
}

/* ---- close ----------------------------------------------------------------
 */

static void test_close_in_flight(void)
{
    NEED_SERVER();
    struct world w;
    CU_ASSERT_FATAL(world_open(&w, NULL, NULL) == 0);
    char pay[700];
    snprintf(pay, sizeof(pay), "%s/big.bin", w.local);
    CU_ASSERT_EQUAL(tu_system("head -c 3000000 /dev/urandom > %s", pay), 0);
    struct got g1 = {0}, g2 = {0};
    struct h2h_submit_req r1 = {
        .remote_name = "M10-big.bin", .payload = pay, .data = &g1};
    struct h2h_submit_req r2 = {
        .remote_name = "M12-other.bin", .payload = pay, .data = &g2};
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL(OPS->submit(w.a, &r1, result_cb, &err), 0);
    /* recover of a name whose submit runs would race with it (it removes
     * our temporaries): refused */
    struct h2h_submit_req r4 = {
        .remote_name = "M10-big.bin", .payload = pay, .data = &g2};
    CU_ASSERT_EQUAL(OPS->recover(w.a, &r4, result_cb, &err), H2H_ESTATE);
    CU_ASSERT_EQUAL(OPS->recover(w.a, &r2, result_cb, &err), 0);
    closed_calls = 0;
    OPS->close(w.a, closed_cb);
    /* closing: nothing new is taken */
    struct got g3 = {0};
    struct h2h_submit_req r3 = {
        .remote_name = "M11.xml", .payload = pay, .data = &g3};
    CU_ASSERT_EQUAL(OPS->submit(w.a, &r3, result_cb, &err), H2H_ECANCELED);
    CU_ASSERT_EQUAL(run_until(&w.loop, &closed_calls, 1, 30000), 0);
    w.a = NULL;
    /* what was in flight finished (and reported) before the close */
    CU_ASSERT_EQUAL(g1.calls, 1);
    CU_ASSERT_EQUAL(g2.calls, 1);
    CU_ASSERT_EQUAL(g3.calls, 0);
    CU_ASSERT_EQUAL(g2.out, H2H_OUT_NOT_SENT);
    CU_ASSERT_EQUAL(g1.out, H2H_OUT_OK);
    if (g1.out != H2H_OUT_OK)
        fprintf(stderr, "  submit: %s\n", g1.msg);
    CU_ASSERT_TRUE(exists(w.up, "M10-big.bin"));
    world_close(&w);
}

static const struct tu_case cases[] = {
    {"check_config table", test_check_config},
    {"sample example passes", test_sample_example},
    {"create refuses bad settings", test_create_refuses},
    {"submit, resubmit, never overwrite", test_submit},
    {"recover: temporaries, archive, consumed", test_recover},
    {"changed host key fails closed with fingerprint", test_changed_host_key},
    {"unknown or exposed key refused", test_wrong_key},
    {"poll delete, answers, missing folder", test_poll_delete},
    {"poll keep fetches each file once", test_poll_keep},
    {"poll move keeps both on a clash", test_poll_move},
    {"a retry removes what a dead connection left", test_retry_cleans_up},
    {"sweeps of dead temporaries", test_sweep},
    {"a restart's leftover goes before the upload", test_restart_leftover},
    {"close with operations in flight", test_close_in_flight},
    {NULL, NULL},
};

/* LeakSanitizer (ASan builds only; unused otherwise).  libssh2 1.10 does
 * not free its ECDH key exchange state when a session is freed in the
 * middle of the key exchange, which these tests do on purpose (a pool
 * closed while its second session still connects, frozen servers); and it
 * leaks two BIGNUMs per ECDSA key it loads.  Not ours to fix, and narrow
 * enough to hide nothing of h2hd's (no h2hd code runs below these). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    /* full stacks through libcrypto so that the suppressions can match */
    return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libssh2_session_handshake\n"
           "leak:libssh2_userauth_publickey_fromfile_ex\n";
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    int rc = tu_main("iso20022_sftp", cases);
    server_stop();
    return rc;
}
