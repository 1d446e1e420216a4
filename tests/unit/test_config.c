/*
 * test_config.c - configuration loading, validation, defaults, reload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "testutil.h"

/* Write text to dir/name; returns a static path (one slot per call site
 * is enough: callers load it before writing the next). */
static const char *write_conf(const char *dir, const char *name,
                              const char *text)
{
    static char path[4][4096];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 4096, "%s/%s", dir, name);
    CU_ASSERT_FATAL(tu_write_file(p, text, strlen(text)) == 0);
    return p;
}

/* Index of the problem that starts with "file:line: " and contains
 * needle; -1 if none. */
static int find_problem(const struct cfg_problems *p, const char *file,
                        int line, const char *needle)
{
    char prefix[4200];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
    for (size_t i = 0; i < p->n; i++)
        if (strncmp(p->v[i], prefix, strlen(prefix)) == 0 &&
            strstr(p->v[i], needle))
            return (int)i;
    return -1;
}

/* Absolute, normalised path of a file in the source tree: problems name
 * files by their absolute path. */
static void src_abs(char *buf, size_t bufsz, const char *rel)
{
    char *r = realpath(tu_src(rel), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    snprintf(buf, bufsz, "%s", r);
    free(r);
}

static void dump(const struct cfg_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        fprintf(stderr, "  problem: %s\n", p->v[i]);
}

static const char *const bank_and_channel =
    "banks = ( { name = \"b1\"; adapter = \"dirdrop\";"
    " dirdrop = { outbox = \"bank/in\"; }; } );\n"
    "channels = ( { name = \"erp\"; bank = \"b1\"; } );\n";

static void test_sample_loads(void)
{
    char path[4096], dir[4096];
    src_abs(path, sizeof(path), "etc/h2hd.conf.sample");
    src_abs(dir, sizeof(dir), "etc");
    char *absdir = realpath(dir, NULL);
    CU_ASSERT_FATAL(absdir != NULL);
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    int rc = cfg_load(path, &c, &p);
    dump(&p);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_EQUAL(c->n_banks, 1);
    CU_ASSERT_EQUAL(c->n_channels, 1);
    CU_ASSERT_EQUAL(c->control_socket_mode, 0660);
    CU_ASSERT_EQUAL(c->log_level, H2H_LOG_INFO);
    CU_ASSERT_STRING_EQUAL(c->log_file, "-");
    CU_ASSERT_EQUAL(c->shutdown_timeout_ms, 30000);
    CU_ASSERT_EQUAL(c->retry.initial_ms, 5000);
    CU_ASSERT_EQUAL(c->retry.max_age_s, 86400);
    /* the sample's base_dir "." is the folder of the sample */
    if (c->base_dir) {
        char *want_base = realpath(c->base_dir, NULL);
        CU_ASSERT_PTR_NOT_NULL(want_base);
        if (want_base)
            CU_ASSERT_STRING_EQUAL(want_base, absdir);
        free(want_base);
    }
    const struct cfg_bank *b = cfg_bank_find(c, "demo-bank");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(b->adapter, "dirdrop");
    CU_ASSERT_STRING_EQUAL(b->name_pattern, "{id}-{name}");
    CU_ASSERT_PTR_NOT_NULL(config_setting_get_member(b->setting, "dirdrop"));
    CU_ASSERT_PTR_NULL(c->channels[0].archive_dir);
    CU_ASSERT_EQUAL(c->channels[0].n_routes, 0);
    cfg_free(c);
    cfg_problems_release(&p);
    free(absdir);
}

static void test_defaults(void)
{
    const char *dir = tu_mkdtemp();
    const char *path = write_conf(dir, "h2hd.conf", bank_and_channel);
    char want[4096];
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL_FATAL(cfg_load(path, &c, &p), 0);
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_STRING_EQUAL(c->base_dir, dir);
    snprintf(want, sizeof(want), "%s/state", dir);
    CU_ASSERT_STRING_EQUAL(c->state_dir, want);
    snprintf(want, sizeof(want), "%s/spool", dir);
    CU_ASSERT_STRING_EQUAL(c->spool_dir, want);
    snprintf(want, sizeof(want), "%s/state/h2hd.pid", dir);
    CU_ASSERT_STRING_EQUAL(c->pid_file, want);
    snprintf(want, sizeof(want), "%s/state/h2hctl.sock", dir);
    CU_ASSERT_STRING_EQUAL(c->control_socket, want);
    snprintf(want, sizeof(want), "%s/state/audit.log", dir);
    CU_ASSERT_STRING_EQUAL(c->audit_log, want);
    CU_ASSERT_STRING_EQUAL(c->log_file, "-");
    CU_ASSERT_EQUAL(c->control_socket_mode, 0660);
    CU_ASSERT_EQUAL(c->log_level, H2H_LOG_INFO);
    CU_ASSERT_EQUAL(c->shutdown_timeout_ms, 30000);
    CU_ASSERT_EQUAL(c->rescan_interval_ms, 2000);
    CU_ASSERT_EQUAL(c->batch_max, 64);
    CU_ASSERT_EQUAL(c->retry.initial_ms, 5000);
    CU_ASSERT_EQUAL(c->retry.max_ms, 600000);
    CU_ASSERT_DOUBLE_EQUAL(c->retry.factor, 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c->retry.jitter, 0.2, 1e-12);
    CU_ASSERT_EQUAL(c->retry.max_attempts, 12);
    CU_ASSERT_EQUAL(c->retry.max_age_s, 86400);

    CU_ASSERT_EQUAL_FATAL(c->n_banks, 1);
    const struct cfg_bank *b = &c->banks[0];
    CU_ASSERT_STRING_EQUAL(b->timezone, "UTC");
    CU_ASSERT_EQUAL(b->max_sessions, 4);
    CU_ASSERT_EQUAL(b->poll_interval_ms, 10000);
    CU_ASSERT_PTR_NULL(b->name_pattern);
    CU_ASSERT_EQUAL(b->retry.max_attempts, 12);

    CU_ASSERT_EQUAL_FATAL(c->n_channels, 1);
    const struct cfg_channel *ch = &c->channels[0];
    snprintf(want, sizeof(want), "%s/spool/erp/in", dir);
    CU_ASSERT_STRING_EQUAL(ch->drop_dir, want);
    snprintf(want, sizeof(want), "%s/spool/erp/out", dir);
    CU_ASSERT_STRING_EQUAL(ch->out_dir, want);
    snprintf(want, sizeof(want), "%s/spool/erp/rejected", dir);
    CU_ASSERT_STRING_EQUAL(ch->rejected_dir, want);
    CU_ASSERT_PTR_NULL(ch->archive_dir);
    CU_ASSERT_STRING_EQUAL(ch->input_format, "passthrough");
    CU_ASSERT_STRING_EQUAL(ch->output_format, "as-received");
    CU_ASSERT_STRING_EQUAL(ch->kind, "payment");
    CU_ASSERT_STRING_EQUAL(ch->profile, "none");
    CU_ASSERT_EQUAL(ch->stability_ms, 1000);
    snprintf(want, sizeof(want), "%s/spool/erp/out/reconcile", dir);
    CU_ASSERT_STRING_EQUAL(ch->reconcile.dir, want);
    CU_ASSERT_PTR_NULL(ch->reconcile.expected_dir);
    CU_ASSERT_EQUAL(ch->reconcile.window_days, 3);
    CU_ASSERT_EQUAL(ch->reconcile.grace_days, 5);
    CU_ASSERT_EQUAL(ch->reconcile.threshold, 60);
    CU_ASSERT_EQUAL(ch->reconcile.days, 31);
    cfg_free(c);
    cfg_problems_release(&p);
    tu_rmtree(dir);
}

/* A bank's retry group overrides only what it sets. */
static void test_bank_retry_inherits(void)
{
    const char *dir = tu_mkdtemp();
    const char *path = write_conf(dir, "h2hd.conf",
        "daemon = { retry = { initial = 100; max_attempts = 3; }; };\n"
        "banks = (\n"
        " { name = \"b1\"; adapter = \"dirdrop\";\n"
        "   dirdrop = { outbox = \"o1\"; }; },\n"
        " { name = \"b2\"; adapter = \"dirdrop\"; retry = { max_attempts = 7;"
        " factor = 3; };\n"
        "   dirdrop = { outbox = \"o2\"; }; }\n"
        ");\n");
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL_FATAL(cfg_load(path, &c, &p), 0);
    const struct cfg_bank *b1 = cfg_bank_find(c, "b1");
    const struct cfg_bank *b2 = cfg_bank_find(c, "b2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b2);
    CU_ASSERT_PTR_NULL(cfg_bank_find(c, "b3"));
    CU_ASSERT_EQUAL(b1->retry.initial_ms, 100);
    CU_ASSERT_EQUAL(b1->retry.max_attempts, 3);
    CU_ASSERT_EQUAL(b2->retry.initial_ms, 100);     /* inherited */
    CU_ASSERT_EQUAL(b2->retry.max_attempts, 7);     /* own */
    CU_ASSERT_DOUBLE_EQUAL(b2->retry.factor, 3.0, 1e-12);
    CU_ASSERT_EQUAL(b2->retry.max_ms, 600000);      /* built-in default */
    cfg_free(c);
    cfg_problems_release(&p);
    tu_rmtree(dir);
}

static void test_relative_paths(void)
{
    const char *dir = tu_mkdtemp();
    char sub[512], text[2048], want[4096];
    snprintf(sub, sizeof(sub), "%s/etc", dir);
    CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
    snprintf(text, sizeof(text),
             "daemon = { base_dir = \"../root/./x/..\"; state_dir = "
             "\"/var/tmp//h2h-state/\"; spool_dir = \"sp\";\n"
             "  pid_file = \"run/h2hd.pid\"; log_file = \"log/h2hd.log\"; };\n"
             "banks = ( { name = \"b1\"; adapter = \"dirdrop\";"
             " dirdrop = { outbox = \"bank/in\"; }; } );\n"
             "channels = ( { name = \"erp\"; bank = \"b1\";"
             " drop = \"drop/./erp//\"; archive = \"arch\"; } );\n");
    const char *path = write_conf(sub, "h2hd.conf", text);
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    int rc = cfg_load(path, &c, &p);
    dump(&p);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    snprintf(want, sizeof(want), "%s/root", dir);
    CU_ASSERT_STRING_EQUAL(c->base_dir, want);
    CU_ASSERT_STRING_EQUAL(c->state_dir, "/var/tmp/h2h-state");
    snprintf(want, sizeof(want), "%s/root/sp", dir);
    CU_ASSERT_STRING_EQUAL(c->spool_dir, want);
    snprintf(want, sizeof(want), "%s/root/run/h2hd.pid", dir);
    CU_ASSERT_STRING_EQUAL(c->pid_file, want);
    /* defaults under state_dir follow it */
    CU_ASSERT_STRING_EQUAL(c->control_socket, "/var/tmp/h2h-state/h2hctl.sock");
    snprintf(want, sizeof(want), "%s/root/log/h2hd.log", dir);
    CU_ASSERT_STRING_EQUAL(c->log_file, want);
    snprintf(want, sizeof(want), "%s/root/drop/erp", dir);
    CU_ASSERT_STRING_EQUAL(c->channels[0].drop_dir, want);
    snprintf(want, sizeof(want), "%s/root/sp/erp/out", dir);
    CU_ASSERT_STRING_EQUAL(c->channels[0].out_dir, want);
    snprintf(want, sizeof(want), "%s/root/arch", dir);
    CU_ASSERT_STRING_EQUAL(c->channels[0].archive_dir, want);
    cfg_free(c);
    cfg_problems_release(&p);

    /* a relative config path is made absolute against the working dir */
    char cwd[4096];
    CU_ASSERT_FATAL(getcwd(cwd, sizeof(cwd)) != NULL);
    CU_ASSERT_FATAL(chdir(dir) == 0);
    rc = cfg_load("etc/h2hd.conf", &c, &p);
    CU_ASSERT_FATAL(chdir(cwd) == 0);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    snprintf(want, sizeof(want), "%s/root", dir);
    CU_ASSERT_STRING_EQUAL(c->base_dir, want);
    snprintf(want, sizeof(want), "%s/etc/h2hd.conf", dir);
    CU_ASSERT_STRING_EQUAL(c->path, want);
    cfg_free(c);
    cfg_problems_release(&p);
    tu_rmtree(dir);
}

static const struct {
    int line;
    const char *needle;
} five[] = {
    {3, "unknown setting \"log_levl\" in daemon (did you mean \"log_level\"?)"},
    {4, "daemon.batch_max = 0 is out of range (1..10000)"},
    {10, "unknown dirdrop setting \"colour\""},
    {13, "names are 1 to 32 letters"},
    {21, "no bank named \"no-such-bank\""},
};

static void test_five_mistakes(void)
{
    char path[4096];
    src_abs(path, sizeof(path),
            "tests/fixtures/config/five_mistakes.conf");
    struct cfg *c = (struct cfg *)1;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL(cfg_load(path, &c, &p), H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(c);
    dump(&p);
    CU_ASSERT_EQUAL(p.n, 5);
    for (size_t i = 0; i < sizeof(five) / sizeof(five[0]); i++) {
        int k = find_problem(&p, path, five[i].line, five[i].needle);
        if (k < 0)
            fprintf(stderr, "  missing: line %d: %s\n", five[i].line,
                    five[i].needle);
        CU_ASSERT(k >= 0);
        /* listed in file order, whatever order the checks ran in */
        CU_ASSERT_EQUAL(k, (int)i);
    }
    cfg_problems_release(&p);
    CU_ASSERT_EQUAL(p.n, 0);
    CU_ASSERT_PTR_NULL(p.v);
}

static void test_syntax_error(void)
{
    char path[4096];
    src_abs(path, sizeof(path), "tests/fixtures/config/syntax_error.conf");
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL(cfg_load(path, &c, &p), H2H_ECONFIG);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(p.n, 1);
    CU_ASSERT(find_problem(&p, path, 3, "syntax error") >= 0);
    dump(&p);
    cfg_problems_release(&p);

    /* a missing file is one problem naming the file */
    CU_ASSERT_EQUAL(cfg_load("/nonexistent/h2hd.conf", &c, &p), H2H_ECONFIG);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    CU_ASSERT(strncmp(p.v[0], "/nonexistent/h2hd.conf: cannot read",
                      strlen("/nonexistent/h2hd.conf: cannot read")) == 0);
    cfg_problems_release(&p);

    /* probs may be NULL */
    CU_ASSERT_EQUAL(cfg_load(path, &c, NULL), H2H_ECONFIG);
}

/* The list is capped; problems already in the list are kept. */
static void test_problem_cap(void)
{
    const char *dir = tu_mkdtemp();
    size_t cap = 64 * (CFG_PROBLEMS_MAX + 50);
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    size_t o = (size_t)snprintf(text, cap, "daemon = {\n");
    for (int i = 0; i < CFG_PROBLEMS_MAX + 50; i++)
        o += (size_t)snprintf(text + o, cap - o, "  typo_%d = 1;\n", i);
    snprintf(text + o, cap - o, "};\n");
    const char *path = write_conf(dir, "many.conf", text);
    free(text);
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL(cfg_load(path, &c, &p), H2H_ECONFIG);
    CU_ASSERT_EQUAL_FATAL(p.n, CFG_PROBLEMS_MAX);
    CU_ASSERT(find_problem(&p, path, 2, "typo_0") == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.v[p.n - 1], "too many problems"));
    cfg_problems_release(&p);

    /* a caller's earlier problems stay first and intact */
    const char *path2 = write_conf(dir, "two.conf",
                                   "daemon = {\n batch_max = 0;\n};\n"
                                   "extra = 1;\n");
    CU_ASSERT_EQUAL(cfg_load(path2, &c, &p), H2H_ECONFIG);
    CU_ASSERT_EQUAL(p.n, 2);
    CU_ASSERT_EQUAL(cfg_load(path2, &c, &p), H2H_ECONFIG);
    CU_ASSERT_EQUAL_FATAL(p.n, 4);
    CU_ASSERT_STRING_EQUAL(p.v[0], p.v[2]);
    CU_ASSERT_STRING_EQUAL(p.v[1], p.v[3]);
    CU_ASSERT(find_problem(&p, path2, 2, "batch_max") == 0);
    cfg_problems_release(&p);
    tu_rmtree(dir);
}

static void test_include(void)
{
    char main_path[4096], part[4096];
    src_abs(main_path, sizeof(main_path),
            "tests/fixtures/config/include_main.conf");
    src_abs(part, sizeof(part), "tests/fixtures/config/include_part.conf");
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL(cfg_load(main_path, &c, &p), H2H_ECONFIG);
    dump(&p);
    CU_ASSERT_EQUAL(p.n, 1);
    /* the problem points into the included file, at its own line */
    CU_ASSERT(find_problem(&p, part, 5, "max_sessions = 99 is out of "
                                        "range") >= 0);
    cfg_problems_release(&p);
}

static void test_minimal_fixture(void)
{
    char path[4096];
    src_abs(path, sizeof(path), "tests/fixtures/config/minimal.conf");
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL(cfg_load(path, &c, &p), 0);
    dump(&p);
    CU_ASSERT_PTR_NOT_NULL(c);
    cfg_free(c);
    cfg_problems_release(&p);
}

/* label, daemon/bank/channel text, line, expected fragment */
static const struct bad_case {
    const char *label;
    const char *text;
    int line;
    const char *needle;
} bad[] = {
    {"unknown section", "deamon = { };\n", 1, "unknown section \"deamon\""},
    {"daemon not a group", "daemon = 5;\n", 1, "daemon must be a group"},
    {"wrong type", "daemon = {\n rescan_interval = \"2000\"; };\n", 2,
     "daemon.rescan_interval must be an integer"},
    {"unknown log level", "daemon = { log_level = \"loud\"; };\n", 1,
     "is not a log level"},
    {"mode not octal", "daemon = {\n control_socket_mode = 0968; };\n", 2,
     "octal"},
    {"mode string", "daemon = { control_socket_mode = \"rw\"; };\n", 1,
     "not an octal mode"},
    {"mode too big", "daemon = { control_socket_mode = \"01777\"; };\n", 1,
     "out of range"},
    {"retry initial above max",
     "daemon = { retry = {\n initial = 10; max = 5; }; };\n", 1,
     "initial (10 ms) is above max (5 ms)"},
    {"retry forever", "daemon = { retry = { max_attempts = 0; max_age = 0;"
     " }; };\n", 1, "both 0"},
    {"retry unknown key", "daemon = { retry = { intial = 10; }; };\n", 1,
     "unknown setting \"intial\" in daemon.retry"},
    {"retry factor low", "daemon = { retry = { factor = 0.5; }; };\n", 1,
     "daemon.retry.factor = 0.5 is out of range"},
    {"empty path", "daemon = { state_dir = \"\"; };\n", 1, "may not be empty"},
    {"socket path too long",
     "daemon = { control_socket = \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "a"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaa/s\"; };\n", 1, "longer than a unix socket path"},
    {"banks not a list", "banks = { };\n", 1, "banks must be a list"},
    {"bank without name",
     "banks = ( {\n adapter = \"dirdrop\"; dirdrop = { outbox = \"o\"; };"
     " } );\n", 1, "bank #1 needs \"name\""},
    {"unknown adapter",
     "banks = ( { name = \"b\";\n adapter = \"carrier-pigeon\"; } );\n", 2,
     "unknown adapter \"carrier-pigeon\""},
    {"adapter group missing",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\"; } );\n", 1,
     "bank b: adapter dirdrop needs"},
    {"other adapter's group",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n sftp = { };"
     " dirdrop = { outbox = \"o\"; }; } );\n", 2,
     "unknown setting \"sftp\" in bank b"},
    {"dirdrop kinds unknown",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n dirdrop = { "
     "outbox = \"o\";\n kinds = ( \"payment\", \"cheque\" ); }; } );\n",
     3, "dirdrop.kinds must be a list of"},
    {"dirdrop kinds empty",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n dirdrop = { "
     "outbox = \"o\";\n kinds = ( ); }; } );\n",
     3, "dirdrop.kinds must be a list of"},
    {"duplicate bank",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\"; dirdrop = { outbox ="
     " \"o\"; }; },\n { name = \"b\"; adapter = \"dirdrop\"; dirdrop = {"
     " outbox = \"o2\"; }; } );\n", 2, "already used at line 1"},
    {"bad time zone",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n timezone ="
     " \"Mars/Olympus\"; dirdrop = { outbox = \"o\"; }; } );\n", 2,
     "not a known time zone"},
    {"pattern without id",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n name_pattern ="
     " \"{name}\"; dirdrop = { outbox = \"o\"; }; } );\n", 2,
     "must contain {id}, {msgid}, or {date} with {seq}"},
    {"pattern seq without date",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n name_pattern ="
     " \"PAY_{seq6}.xml\"; dirdrop = { outbox = \"o\"; }; } );\n", 2,
     "must contain {id}, {msgid}, or {date} with {seq}"},
    {"pattern seq width",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n name_pattern ="
     " \"PAY_{date}_{seq0}.xml\"; dirdrop = { outbox = \"o\"; }; } );\n",
     2, "unknown token"},
    {"pattern unknown token",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n name_pattern ="
     " \"{id}-{nmae}\"; dirdrop = { outbox = \"o\"; }; } );\n", 2,
     "unknown token"},
    {"pattern slash",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n name_pattern ="
     " \"x/{id}\"; dirdrop = { outbox = \"o\"; }; } );\n", 2, "'/'"},
    {"max_sessions range",
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n max_sessions = 0;"
     " dirdrop = { outbox = \"o\"; }; } );\n", 2, "out of range (1..64)"},
    {"bank retry bad",
     "daemon = { retry = { initial = 100; }; };\n"
     "banks = ( { name = \"b\"; adapter = \"dirdrop\";\n retry = { max = 50;"
     " }; dirdrop = { outbox = \"o\"; }; } );\n", 3,
     "bank b.retry: initial (100 ms) is above max (50 ms)"},
    {"channel without bank", "channels = ( {\n name = \"c\"; } );\n", 1,
     "channel c needs \"bank\""},
    {"channel unknown key",
     "channels = ( { name = \"c\"; bank = \"b1\";\n stabilty = 5; } );\n", 2,
     "did you mean \"stability\""},
    {"input format",
     "channels = ( { name = \"c\"; bank = \"b1\";\n input_format = \"xls\";"
     " } );\n", 2, "is not one of: passthrough, auto, pain.001, csv, "
     "canonical"},
    {"output format",
     "channels = ( { name = \"c\"; bank = \"b1\";\n output_format = \"pdf\";"
     " } );\n", 2, "is not one of"},
    {"kind", "channels = ( { name = \"c\"; bank = \"b1\";\n kind = \"bill\";"
     " } );\n", 2, "is not one of: payment"},
    {"duplicate channel",
     "channels = ( { name = \"c\"; bank = \"b1\"; },\n { name = \"c\";"
     " bank = \"b1\"; } );\n", 2, "channel name \"c\" is already used"},
    {"shared drop folder",
     "channels = ( { name = \"c1\"; bank = \"b1\"; drop = \"in\"; },\n"
     " { name = \"c2\"; bank = \"b1\";\n drop = \"./in/\"; } );\n", 3,
     "is also channel c1's drop folder"},
    {"out is another's rejected",
     "channels = ( { name = \"c1\"; bank = \"b1\"; rejected = \"x\"; },\n"
     " { name = \"c2\"; bank = \"b1\";\n out = \"x\"; } );\n", 3,
     "out folder"},
    {"same folder twice in a channel",
     "channels = ( { name = \"c1\"; bank = \"b1\";\n archive = \"spool/c1/in\";"
     " } );\n", 2, "archive folder"},
    {"route to unknown bank",
     "channels = ( { name = \"c\"; bank = \"b1\"; routes = (\n"
     " { account = \"DE89370400440532013000\";\n bank = \"nope\"; } ); } );\n",
     3, "no bank named \"nope\""},
    {"route bad account",
     "channels = ( { name = \"c\"; bank = \"b1\"; routes = (\n"
     " { account = \"DE89-3704\"; bank = \"b1\"; } ); } );\n", 2,
     "must be letters and digits"},
    {"route twice",
     "channels = ( { name = \"c\"; bank = \"b1\"; routes = (\n"
     " { account = \"DE89 3704\"; bank = \"b1\"; },\n"
     " { account = \"de893704\"; bank = \"b1\"; } ); } );\n", 3,
     "routed twice"},
    {"route unknown key",
     "channels = ( { name = \"c\"; bank = \"b1\"; routes = (\n"
     " { account = \"DE89\"; bank = \"b1\"; iban = \"x\"; } ); } );\n", 2,
     "unknown setting \"iban\" in channel c.routes"},
    {"control character",
     "channels = ( { name = \"c\"; bank = \"b1\";\n profile = \"a\\tb\"; }"
     " );\n", 2, "contains control characters"},
    {"reconcile not a group",
     "channels = ( { name = \"c\"; bank = \"b1\";\n reconcile = 3; } );\n",
     2, "channel c.reconcile must be a group"},
    {"reconcile threshold",
     "channels = ( { name = \"c\"; bank = \"b1\"; reconcile = {\n"
     " threshold = 0; }; } );\n", 2, "threshold"},
    {"reconcile unknown key",
     "channels = ( { name = \"c\"; bank = \"b1\"; reconcile = {\n"
     " grace = 2; }; } );\n", 2, "unknown setting \"grace\" in channel "
     "c.reconcile"},
    {"reconcile dir is the drop folder",
     "channels = ( { name = \"c\"; bank = \"b1\"; drop = \"in\"; reconcile "
     "= {\n expected_dir = \"in\"; }; } );\n", 2,
     "reconcile.expected_dir folder"},
    {"reconcile job kind",
     "banks = ( { name = \"b1\"; adapter = \"dirdrop\"; dirdrop = { outbox "
     "= \"o\"; };\n schedule = { jobs = ( { kind = \"recon\"; cron = "
     "\"@daily\"; } ); }; } );\n", 2, "kind"},
};

static void test_bad_values(void)
{
    const char *dir = tu_mkdtemp();
    /* every case gets a valid bank b1 unless it defines banks itself */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[4096];
        int own_banks = strstr(bad[i].text, "banks") != NULL;
        int shift = 0;
        if (own_banks || strstr(bad[i].text, "channels") == NULL)
            snprintf(text, sizeof(text), "%s", bad[i].text);
        else {
            snprintf(text, sizeof(text),
                     "banks = ( { name = \"b1\"; adapter = \"dirdrop\";"
                     " dirdrop = { outbox = \"bank/in\"; }; } );\n%s",
                     bad[i].text);
            shift = 1;
        }
        const char *path = write_conf(dir, "bad.conf", text);
        struct cfg *c = NULL;
        struct cfg_problems p = {0};
        int rc = cfg_load(path, &c, &p);
        int k = find_problem(&p, path, bad[i].line + shift, bad[i].needle);
        if (rc != H2H_ECONFIG || k < 0) {
            fprintf(stderr, "case \"%s\": rc %d, expected line %d: %s\n",
                    bad[i].label, rc, bad[i].line + shift, bad[i].needle);
            dump(&p);
        }
        CU_ASSERT_EQUAL(rc, H2H_ECONFIG);
        CU_ASSERT(k >= 0);
        CU_ASSERT_PTR_NULL(c);
        cfg_free(c);
        cfg_problems_release(&p);
    }
    tu_rmtree(dir);
}

static void test_socket_mode_forms(void)
{
    static const struct {
        const char *val;
        int want;
    } forms[] = {
        {"0660", 0660}, {"\"0660\"", 0660}, {"432", 0660}, {"\"600\"", 0600},
        {"0", 0}, {"0700", 0700},
    };
    const char *dir = tu_mkdtemp();
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "daemon = {\n  control_socket_mode = %s;\n};\n%s",
                 forms[i].val, bank_and_channel);
        const char *path = write_conf(dir, "m.conf", text);
        struct cfg *c = NULL;
        struct cfg_problems p = {0};
        CU_ASSERT_EQUAL_FATAL(cfg_load(path, &c, &p), 0);
        if (c->control_socket_mode != forms[i].want)
            fprintf(stderr, "mode %s -> %o\n", forms[i].val,
                    (unsigned)c->control_socket_mode);
        CU_ASSERT_EQUAL(c->control_socket_mode, forms[i].want);
        cfg_free(c);
        cfg_problems_release(&p);
    }
    tu_rmtree(dir);
}

static void test_reload_check(void)
{
    const char *dir = tu_mkdtemp();
    char text[2048];
    snprintf(text, sizeof(text), "daemon = { log_level = \"info\"; };\n%s",
             bank_and_channel);
    const char *p1 = write_conf(dir, "a.conf", text);
    struct cfg *a = NULL, *b = NULL, *d = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL_FATAL(cfg_load(p1, &a, &p), 0);

    /* log level and banks may change */
    snprintf(text, sizeof(text),
             "daemon = { log_level = \"debug\"; batch_max = 3; };\n%s",
             bank_and_channel);
    const char *p2 = write_conf(dir, "b.conf", text);
    CU_ASSERT_EQUAL_FATAL(cfg_load(p2, &b, &p), 0);
    CU_ASSERT_EQUAL(cfg_reload_check(a, b, &p), 0);
    CU_ASSERT_EQUAL(p.n, 0);

    /* state_dir may not */
    snprintf(text, sizeof(text),
             "daemon = {\n  log_level = \"info\";\n  state_dir = \"other\";\n"
             "};\n%s", bank_and_channel);
    const char *p3 = write_conf(dir, "d.conf", text);
    CU_ASSERT_EQUAL_FATAL(cfg_load(p3, &d, &p), 0);
    CU_ASSERT_EQUAL(cfg_reload_check(a, d, &p), H2H_ECONFIG);
    dump(&p);
    CU_ASSERT(find_problem(&p, p3, 3, "daemon.state_dir cannot change "
                                      "without a restart") >= 0);
    /* pid_file, control_socket and audit_log default under state_dir:
     * the first two are bound at start, so they are refused too */
    CU_ASSERT(find_problem(&p, p3, 0, "pid_file") < 0);
    int found_pid = 0, found_audit = 0;
    for (size_t i = 0; i < p.n; i++) {
        found_pid |= strstr(p.v[i], "daemon.pid_file") != NULL;
        found_audit |= strstr(p.v[i], "audit_log") != NULL;
    }
    CU_ASSERT(found_pid);
    CU_ASSERT(!found_audit);
    cfg_problems_release(&p);
    /* and the same config against itself is fine */
    CU_ASSERT_EQUAL(cfg_reload_check(d, d, &p), 0);
    cfg_free(a);
    cfg_free(b);
    cfg_free(d);
    cfg_problems_release(&p);
    tu_rmtree(dir);
}

static void test_routes(void)
{
    const char *dir = tu_mkdtemp();
    const char *path = write_conf(dir, "r.conf",
        "banks = (\n"
        " { name = \"b1\"; adapter = \"dirdrop\"; dirdrop = { outbox = \"o1\";"
        " }; },\n"
        " { name = \"b2\"; adapter = \"dirdrop\"; dirdrop = { outbox = \"o2\";"
        " }; } );\n"
        "channels = ( { name = \"erp\"; bank = \"b1\"; routes = (\n"
        " { account = \"DE89 3704 0044 0532 0130 00\"; bank = \"b2\"; } ); }"
        " );\n");
    struct cfg *c = NULL;
    struct cfg_problems p = {0};
    CU_ASSERT_EQUAL_FATAL(cfg_load(path, &c, &p), 0);
    const struct cfg_channel *ch = cfg_channel_find(c, "erp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    CU_ASSERT_PTR_NULL(cfg_channel_find(c, "nope"));
    CU_ASSERT_EQUAL(ch->n_routes, 1);
    CU_ASSERT_STRING_EQUAL(cfg_route(ch, "DE89370400440532013000"), "b2");
    CU_ASSERT_STRING_EQUAL(cfg_route(ch, "de89 370400440532013000"), "b2");
    CU_ASSERT_STRING_EQUAL(cfg_route(ch, "DE8937040044053201300"), "b1");
    CU_ASSERT_STRING_EQUAL(cfg_route(ch, "DE893704004405320130001"), "b1");
    CU_ASSERT_STRING_EQUAL(cfg_route(ch, NULL), "b1");
    CU_ASSERT_STRING_EQUAL(cfg_route(ch, ""), "b1");
    cfg_free(c);
    cfg_problems_release(&p);
    tu_rmtree(dir);
}

static void test_demo_write(void)
{
    const char *tmp = tu_mkdtemp();
    char dir[512], conf[4096], p[4096];
    snprintf(dir, sizeof(dir), "%s/demo/x", tmp);
    struct h2h_err err = {0};
    CU_ASSERT_EQUAL_FATAL(cfg_demo_write(dir, &err), 0);
    struct stat st;
    snprintf(p, sizeof(p), "%s/bank/inbox", dir);
    CU_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(p, sizeof(p), "%s/bank/outbox", dir);
    CU_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    snprintf(conf, sizeof(conf), "%s/h2hd.conf", dir);
    struct cfg *c = NULL;
    struct cfg_problems pr = {0};
    CU_ASSERT_EQUAL_FATAL(cfg_load(conf, &c, &pr), 0);
    const struct cfg_bank *b = cfg_bank_find(c, "demo-bank");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(b->adapter, "dirdrop");
    const char *outbox = NULL;
    const config_setting_t *dd = config_setting_get_member(b->setting,
                                                           "dirdrop");
    CU_ASSERT(dd && config_setting_lookup_string(dd, "outbox", &outbox));
    CU_ASSERT(outbox && strcmp(outbox, "bank/inbox") == 0);
    const struct cfg_channel *ch = cfg_channel_find(c, "erp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    CU_ASSERT_STRING_EQUAL(ch->bank, "demo-bank");
    snprintf(p, sizeof(p), "%s/spool/erp/in", dir);
    CU_ASSERT_STRING_EQUAL(ch->drop_dir, p);
    cfg_free(c);
    cfg_problems_release(&pr);

    /* a second run keeps an edited file */
    CU_ASSERT_FATAL(tu_write_file(conf, "# mine\n", 7) == 0);
    CU_ASSERT_EQUAL(cfg_demo_write(dir, &err), 0);
    size_t len = 0;
    char *txt = tu_read_file(conf, &len);
    CU_ASSERT(txt && strcmp(txt, "# mine\n") == 0);
    free(txt);
    tu_rmtree(tmp);
}

static const struct tu_case cases[] = {
    {"sample loads", test_sample_loads},
    {"defaults", test_defaults},
    {"bank retry inherits", test_bank_retry_inherits},
    {"relative paths", test_relative_paths},
    {"five mistakes", test_five_mistakes},
    {"syntax error", test_syntax_error},
    {"problem cap", test_problem_cap},
    {"include", test_include},
    {"minimal fixture", test_minimal_fixture},
    {"bad values", test_bad_values},
    {"socket mode forms", test_socket_mode_forms},
    {"reload check", test_reload_check},
    {"routes", test_routes},
    {"demo write", test_demo_write},
    {NULL, NULL},
};

int main(void)
{
    return tu_main("config", cases);
}
