/*
 * h2hctl - operator command line for a running h2hd.
 *
 *   h2hctl [-c CONFIG] [-s SOCKET] [-t SECONDS] [--json] COMMAND [ARGS]
 *
 * Socket: -s, else $H2H_SOCKET, else control_socket from the config file
 * (-c, default /etc/h2hd/h2hd.conf).
 *
 * Exit codes: 0 ok, 1 the daemon reported an error (or, for the local
 * commands convert / validate, the input has problems or cannot be
 * converted), 2 usage error, 3 the daemon could not be reached (not
 * running, permission, timeout).
 *
 * convert and validate work on files without a daemon, through
 * formats/convert.h: treasury and operators check or re-render a file
 * exactly as h2hd would.
 *
 * Adding a command: write a run_* function and add one row to commands[]
 * (name, positional argument bounds, whether it talks to the daemon, the
 * options it takes, usage, summary).  Options are parsed by the dispatcher;
 * a run_* function gets the positional arguments and option values.
 *
 * Everything printed from the daemon's answers goes through clean(): file
 * names and error texts come from outside (treasury drops, banks) and must
 * not be able to send escape sequences to the operator's terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "amount.h"
#include "config.h"
#include "convert.h"
#include "ctlclient.h"
#include "formats_init.h"
#include "h2h_err.h"
#include "ident.h"

#define EXIT_DAEMON 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

#define DEFAULT_CONFIG "/etc/h2hd/h2hd.conf"
#define DEFAULT_TIMEOUT_S 60
#define OPTS_MAX 8

struct ctx {
    const char *config;
    const char *socket;
    int json;
    int timeout_ms;
    char socket_buf[4096];
};

struct cmd_args {
    int argc;     /* positional arguments after the command name */
    char **argv;
    const char *opt[OPTS_MAX]; /* values, same index as command.opts */
};

struct command {
    const char *name;
    int min_args;
    int max_args; /* -1: no limit */
    int needs_daemon;
    int (*run)(struct ctx *x, const struct cmd_args *a);
    const char *opts[OPTS_MAX]; /* "--name VALUE" options, "name!" for a
                                   flag without value; NULL ends */
    const char *usage;
    const char *summary;
};

static const struct command commands[];

/* ---- output helpers ------------------------------------------------- */

/* Copy of s safe for a terminal: C0/C1 controls and DEL become '?'. */
static char *clean(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            out[j++] = '?';
        } else if (c == 0xc2 && i + 1 < n
                   && (unsigned char)s[i + 1] >= 0x80
                   && (unsigned char)s[i + 1] <= 0x9f) {
            out[j++] = '?';
            i++;
        } else {
            out[j++] = (char)c;
        }
    }
    out[j] = '\0';
    return out;
}

/* A json value as display text (malloc'd, cleaned); missing/null "-". */
static char *text(const json_t *v)
{
    char buf[64];
    char *dump = NULL, *out;
    const char *s;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        s = json_string_value(v);
        if (!*s)
            s = "-";
        break;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        s = buf;
        break;
    case JSON_REAL:
        snprintf(buf, sizeof(buf), "%g", json_real_value(v));
        s = buf;
        break;
    case JSON_TRUE:
        s = "yes";
        break;
    case JSON_FALSE:
        s = "no";
        break;
    case JSON_NULL:
        s = "-";
        break;
    default:
        dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        s = dump ? dump : "?";
        break;
    }
    out = clean(s);
    free(dump);
    if (!out) {
        fprintf(stderr, "h2hctl: out of memory\n");
        exit(EXIT_UNREACHABLE);
    }
    return out;
}

/* Terminal columns taken by UTF-8 s (one per code point; good enough for
 * ids, states, bank names and file names). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

struct table {
    size_t ncols, nrows, cap;
    char **cells; /* row-major, owned */
};

static void table_init(struct table *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
}

/* Append a row; takes ownership of the ncols malloc'd strings. */
static void table_add(struct table *t, char **row)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));
        if (!p) {
            fprintf(stderr, "h2hctl: out of memory\n");
            exit(EXIT_UNREACHABLE);
        }
        t->cells = p;
        t->cap = ncap;
    }
    memcpy(t->cells + t->nrows * t->ncols, row, t->ncols * sizeof(*row));
    t->nrows++;
}

/* Print with columns padded to the widest cell; frees the table. */
static void table_print(struct table *t, FILE *f)
{
    size_t w[32] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols && c < 32; c++) {
            size_t cw = width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            fputs(s, f);
            if (c + 1 < t->ncols)
                for (size_t i = width(s); i < w[c < 32 ? c : 31] + 2; i++)
                    fputc(' ', f);
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, "h2hctl: out of memory\n");
        exit(EXIT_UNREACHABLE);
    }
    return p;
}

/* A table whose first row is its column headings: n names, step apart
 * from names[0] (2 for a { heading, key } table, 1 for a plain list). */
static void table_start(struct table *t, size_t n, const char *const *names,
                        size_t step)
{
    char **row = calloc(n, sizeof(*row));
    if (!row) {
        fprintf(stderr, "h2hctl: out of memory\n");
        exit(EXIT_UNREACHABLE);
    }
    table_init(t, n);
    for (size_t c = 0; c < n; c++)
        row[c] = xstrdup(names[c * step]);
    table_add(t, row);
    free(row);
}

/* "accepted=3 deferred=1" from a counts object, zeros left out. */
static char *counts_text(const json_t *counts, int all)
{
    char buf[1024];
    size_t pos = 0;
    const char *k;
    json_t *v;
    buf[0] = '\0';
    json_object_foreach((json_t *)counts, k, v)
    {
        if (!all && json_is_integer(v) && json_integer_value(v) == 0)
            continue;
        char *t = text(v);
        int n = snprintf(buf + pos, sizeof(buf) - pos, "%s%s=%s",
                         pos ? " " : "", k, t);
        free(t);
        if (n < 0 || (size_t)n >= sizeof(buf) - pos)
            break;
        pos += (size_t)n;
    }
    return clean(pos ? buf : "-");
}

static void print_json(const json_t *result)
{
    char *s = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
}

/* ---- talking to the daemon ------------------------------------------ */

static int resolve_socket(struct ctx *x)
{
    if (x->socket)
        return 0;
    const char *env = getenv("H2H_SOCKET");
    if (env && *env) {
        x->socket = env;
        return 0;
    }
    /* The daemon's own loader, so relative paths and defaults resolve
     * exactly as h2hd resolves them. */
    struct cfg *cfg = NULL;
    struct cfg_problems probs = {0};
    int rc = cfg_load(x->config, &cfg, &probs);
    if (rc == 0 && cfg->control_socket
        && strlen(cfg->control_socket) < sizeof(x->socket_buf)) {
        snprintf(x->socket_buf, sizeof(x->socket_buf), "%s",
                 cfg->control_socket);
        x->socket = x->socket_buf;
    } else {
        fprintf(stderr, "h2hctl: cannot find the control socket in %s\n",
                x->config);
        for (size_t i = 0; i < probs.n && i < 5; i++) {
            char *m = clean(probs.v[i]);
            fprintf(stderr, "  %s\n", m ? m : "?");
            free(m);
        }
        if (probs.n > 5)
            fprintf(stderr, "  ... %zu more problems\n", probs.n - 5);
        fprintf(stderr, "h2hctl: give the socket with -s SOCKET or "
                        "H2H_SOCKET\n");
        rc = -1;
    }
    cfg_free(cfg);
    cfg_problems_release(&probs);
    return rc < 0 ? -1 : 0;
}

/* Ask the daemon; on success *result is set and 0 returned, otherwise the
 * error is printed and the exit code returned. */
static int call(struct ctx *x, const char *cmd, json_t *args,
                json_t **result)
{
    struct h2h_err err;
    h2h_err_clear(&err);
    *result = NULL;
    int rc = ctlc_request(x->socket, cmd, args, x->timeout_ms, result, &err);
    if (rc == 0)
        return 0;
    char *msg = clean(err.msg[0] ? err.msg : h2h_strerror(rc));
    fprintf(stderr, "h2hctl: %s: %s\n", cmd, msg ? msg : "error");
    free(msg);
    return ctlc_unreachable(rc) ? EXIT_UNREACHABLE : EXIT_DAEMON;
}

/* ---- commands ------------------------------------------------------- */

static void fmt_duration(long long s, char *buf, size_t sz)
{
    if (s < 0)
        s = 0;
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    if (d)
        snprintf(buf, sz, "%lldd %lldh %lldm", d, h, m);
    else if (h)
        snprintf(buf, sz, "%lldh %lldm %llds", h, m, s % 60);
    else if (m)
        snprintf(buf, sz, "%lldm %llds", m, s % 60);
    else
        snprintf(buf, sz, "%llds", s);
}

static void print_status(const json_t *r)
{
    char up[64];
    char *ver = text(json_object_get(r, "version"));
    char *pid = text(json_object_get(r, "pid"));
    char *cfg = text(json_object_get(r, "config"));
    fmt_duration(json_integer_value(json_object_get(r, "uptime_s")), up,
                 sizeof(up));
    printf("h2hd %s, pid %s, up %s\nconfig:   %s\n", ver, pid, up, cfg);
    free(ver);
    free(pid);
    free(cfg);
    json_t *counts = json_object_get(r, "counts");
    if (json_is_object(counts)) {
        char *c = counts_text(counts, 1);
        printf("messages: %s\n", c ? c : "-");
        free(c);
    }
    json_t *banks = json_object_get(r, "banks");
    if (!json_is_array(banks) || json_array_size(banks) == 0) {
        printf("\nno banks configured\n");
        return;
    }
    struct table t;
    table_init(&t, 4);
    char *hdr[] = {xstrdup("BANK"), xstrdup("ADAPTER"), xstrdup("HEALTH"),
                   xstrdup("MESSAGES")};
    table_add(&t, hdr);
    size_t i;
    json_t *b;
    json_array_foreach(banks, i, b)
    {
        json_t *bc = json_object_get(b, "counts");
        char *row[] = {text(json_object_get(b, "name")),
                       text(json_object_get(b, "adapter")),
                       text(json_object_get(b, "health")),
                       json_is_object(bc) ? counts_text(bc, 0)
                                          : xstrdup("-")};
        if (!row[3])
            row[3] = xstrdup("-");
        table_add(&t, row);
    }
    putchar('\n');
    table_print(&t, stdout);
}

static int run_status(struct ctx *x, const struct cmd_args *a)
{
    (void)a;
    json_t *r;
    int rc = call(x, "status", NULL, &r);
    if (rc)
        return rc;
    if (x->json)
        print_json(r);
    else
        print_status(r);
    json_decref(r);
    return 0;
}

static const char *const queue_cols[][2] = {
    {"ID", "id"},           {"STATE", "state"},
    {"BANK", "bank"},       {"CHANNEL", "channel"},
    {"TRIES", "attempts"},  {"NEXT ATTEMPT", "next_attempt"},
    {"UPDATED", "updated"}, {"FILE", "file"},
    {"ERROR", "error"},
};
#define QUEUE_NCOLS (sizeof(queue_cols) / sizeof(queue_cols[0]))

static int run_queue(struct ctx *x, const struct cmd_args *a)
{
    static const char *const keys[] = {"state", "bank", "channel"};
    json_t *args = json_object();
    for (int i = 0; i < 3; i++)
        if (a->opt[i])
            json_object_set_new(args, keys[i], json_string(a->opt[i]));
    if (a->opt[3]) {
        char *end;
        errno = 0;
        long n = strtol(a->opt[3], &end, 10);
        if (errno || *end || end == a->opt[3] || n < 1 || n > 1000000) {
            fprintf(stderr, "h2hctl: queue: --limit wants a number "
                            "from 1 to 1000000\n");
            json_decref(args);
            return EXIT_USAGE;
        }
        json_object_set_new(args, "limit", json_integer(n));
    }
    json_t *r;
    int rc = call(x, "queue", args, &r);
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    json_t *msgs = json_object_get(r, "messages");
    size_t n = json_array_size(msgs);
    if (n == 0) {
        printf("no messages\n");
        json_decref(r);
        return 0;
    }
    struct table t;
    table_start(&t, QUEUE_NCOLS, &queue_cols[0][0], 2);
    char *row[QUEUE_NCOLS];
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        for (size_t c = 0; c < QUEUE_NCOLS; c++)
            row[c] = text(json_object_get(m, queue_cols[c][1]));
        table_add(&t, row);
    }
    table_print(&t, stdout);
    printf("%zu message%s\n", n, n == 1 ? "" : "s");
    json_decref(r);
    return 0;
}

static int run_show(struct ctx *x, const struct cmd_args *a)
{
    json_t *args = json_pack("{s:s}", "id", a->argv[0]);
    json_t *r;
    int rc = args ? call(x, "show", args, &r) : EXIT_USAGE;
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    json_t *msg = json_object_get(r, "message");
    static const char *const first[] = {
        "id",       "state",        "channel", "bank", "file",
        "attempts", "next_attempt", "updated", "error", NULL};
    struct table t;
    table_init(&t, 2);
    for (int i = 0; first[i]; i++) {
        json_t *v = json_object_get(msg, first[i]);
        if (!v)
            continue;
        char *row[] = {NULL, text(v)};
        size_t n = strlen(first[i]);
        row[0] = malloc(n + 2);
        if (!row[0])
            exit(EXIT_UNREACHABLE);
        snprintf(row[0], n + 2, "%s:", first[i]);
        table_add(&t, row);
    }
    /* The rest, in key order so the output is stable. */
    const char **rest = calloc(json_object_size(msg) + 1, sizeof(*rest));
    size_t nrest = 0;
    const char *k;
    json_t *v;
    json_object_foreach(msg, k, v)
    {
        int known = 0;
        for (int i = 0; first[i]; i++)
            known |= strcmp(k, first[i]) == 0;
        if (!known && rest)
            rest[nrest++] = k;
    }
    for (size_t i = 1; i < nrest; i++)
        for (size_t j = i; j > 0 && strcmp(rest[j - 1], rest[j]) > 0; j--) {
            const char *tmp = rest[j];
            rest[j] = rest[j - 1];
            rest[j - 1] = tmp;
        }
    for (size_t i = 0; i < nrest; i++) {
        char *key = clean(rest[i]);
        size_t n = key ? strlen(key) : 0;
        char *row[] = {malloc(n + 2), text(json_object_get(msg, rest[i]))};
        if (!row[0] || !key)
            exit(EXIT_UNREACHABLE);
        snprintf(row[0], n + 2, "%s:", key);
        free(key);
        table_add(&t, row);
    }
    free(rest);
    table_print(&t, stdout);

    json_t *hist = json_object_get(r, "history");
    if (json_array_size(hist) > 0) {
        static const char *const hk[] = {"at", "from", "to", "actor",
                                         "detail"};
        table_init(&t, 5);
        char *hdr[] = {xstrdup("AT"), xstrdup("FROM"), xstrdup("TO"),
                       xstrdup("ACTOR"), xstrdup("DETAIL")};
        table_add(&t, hdr);
        size_t i;
        json_t *h;
        json_array_foreach(hist, i, h)
        {
            char *row[5];
            for (int c = 0; c < 5; c++)
                row[c] = text(json_object_get(h, hk[c]));
            table_add(&t, row);
        }
        printf("\nhistory:\n");
        table_print(&t, stdout);
    }
    json_t *pays = json_object_get(r, "payments");
    if (json_array_size(pays) > 0) {
        static const char *const pk[] = {"pmt_inf_id", "end_to_end_id",
                                         "status", "reasons", "report"};
        table_init(&t, 5);
        char *hdr[] = {xstrdup("PMTINFID"), xstrdup("ENDTOENDID"),
                       xstrdup("STATUS"), xstrdup("REASONS"),
                       xstrdup("REPORT")};
        table_add(&t, hdr);
        size_t i;
        json_t *p;
        json_array_foreach(pays, i, p)
        {
            char *row[5];
            for (int c = 0; c < 5; c++)
                row[c] = text(json_object_get(p, pk[c]));
            table_add(&t, row);
        }
        printf("\npayments (as the bank reported them):\n");
        table_print(&t, stdout);
    }
    json_decref(r);
    return 0;
}

/* retry / hold / release: same shape. */
static int run_transition(struct ctx *x, const char *cmd,
                          const struct cmd_args *a)
{
    json_t *args = json_pack("{s:s}", "id", a->argv[0]);
    json_t *r;
    int rc = args ? call(x, cmd, args, &r) : EXIT_USAGE;
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
    } else {
        char *id = text(json_object_get(r, "id"));
        char *st = text(json_object_get(r, "state"));
        printf("%s: %s\n", id, st);
        free(id);
        free(st);
    }
    json_decref(r);
    return 0;
}

static int run_retry(struct ctx *x, const struct cmd_args *a)
{
    return run_transition(x, "retry", a);
}

static int run_hold(struct ctx *x, const struct cmd_args *a)
{
    return run_transition(x, "hold", a);
}

static int run_release(struct ctx *x, const struct cmd_args *a)
{
    return run_transition(x, "release", a);
}

static int run_reload(struct ctx *x, const struct cmd_args *a)
{
    (void)a;
    json_t *r;
    int rc = call(x, "reload", NULL, &r);
    if (rc)
        return rc;
    if (x->json)
        print_json(r);
    else if (json_is_true(json_object_get(r, "reloaded")))
        printf("configuration reloaded\n");
    else
        print_json(r);
    json_decref(r);
    return 0;
}

static const char *const certs_cols[][2] = {
    {"BANK", "bank"},
    {"LABEL", "label"},
    {"DAYS LEFT", "days_left"},
    {"NOT AFTER", "not_after"},
    {"SUBJECT", "subject"},
    {"ISSUER", "issuer"},
    {"SHA-256 FINGERPRINT", "fingerprint"},
};
#define CERTS_NCOLS (sizeof(certs_cols) / sizeof(certs_cols[0]))

static int run_certs(struct ctx *x, const struct cmd_args *a)
{
    json_t *args = a->argc ? json_pack("{s:s}", "bank", a->argv[0]) : NULL;
    json_t *r;
    int rc = call(x, "certs", args, &r);
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    json_t *certs = json_object_get(r, "certs");
    size_t n = json_array_size(certs);
    if (n == 0) {
        printf("no certificates in use\n");
        json_decref(r);
        return 0;
    }
    /* short columns first: the names and the fingerprint are long, and
     * the days left is what an operator looks for */
    struct table t;
    table_start(&t, CERTS_NCOLS, &certs_cols[0][0], 2);
    char *row[CERTS_NCOLS];
    size_t i;
    json_t *ce;
    json_array_foreach(certs, i, ce)
    {
        for (size_t c = 0; c < CERTS_NCOLS; c++)
            row[c] = text(json_object_get(ce, certs_cols[c][1]));
        json_t *dl = json_object_get(ce, "days_left");
        if (json_is_integer(dl) && json_integer_value(dl) < 0) {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s (expired)", row[2]);
            free(row[2]);
            row[2] = xstrdup(buf);
        }
        json_t *e = json_object_get(ce, "error");
        if (json_is_string(e)) {
            /* an unreadable certificate: say why where the subject goes */
            free(row[4]);
            row[4] = text(e);
        }
        table_add(&t, row);
    }
    table_print(&t, stdout);
    printf("%zu certificate%s\n", n, n == 1 ? "" : "s");
    json_decref(r);
    return 0;
}

/* ---- local commands: convert, validate ------------------------------ */

/* Option indexes, in the order of the opts lists in commands[]. */
enum { CO_FROM, CO_TO, CO_PROFILE, CO_CHARSET, CO_TODAY, CO_OUT_CHARSET };
enum { VO_FROM, VO_PROFILE, VO_CHARSET, VO_TODAY };

/* One line of text from a file, safe for the terminal. */
static void put_clean(FILE *f, const char *prefix, const char *line)
{
    char *c = clean(line);
    fprintf(f, "%s%s\n", prefix, c ? c : "?");
    free(c);
}

/* Every problem, one per line.  Messages quote the input (names, ids), so
 * they go through clean() like everything else from outside. */
static void print_problems(FILE *f, const struct fmt_diag *d,
                           const char *prefix)
{
    char *all = fmt_diag_join(d);
    if (!all) {
        fprintf(stderr, "h2hctl: out of memory\n");
        return;
    }
    char *save = NULL;
    for (char *l = strtok_r(all, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save))
        put_clean(f, prefix, l);
    free(all);
}

/* Split diag into the bank's figures that do not add up (rule stmt.*:
 * warnings for convert) and everything else; both may be NULL. */
static void split_problems(const struct fmt_diag *d, struct fmt_diag *stmt,
                           struct fmt_diag *rest)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct fmt_problem *p = &d->v[i];
        int is_stmt = p->rule && !strncmp(p->rule, "stmt.", 5);
        struct fmt_diag *to = is_stmt ? stmt : rest;
        if (to)
            fmt_diag_add(to, p->line, p->where, p->rule, "%s",
                         p->msg ? p->msg : "");
    }
    if (rest)
        rest->dropped += d->dropped;
}

/* --from / --profile / --charset / --today shared by both commands; 0 or
 * EXIT_USAGE with the reason printed. */
static int local_opts(const char *cmd, const char *from, const char *profile,
                      const char *today, struct fmt_convert_opts *o)
{
    struct h2h_err err;
    h2h_err_clear(&err);
    fmt_convert_opts_init(o);
    if (from && fmt_format_parse(from, &o->from, &err) < 0)
        goto usage;
    if (fmt_profile_by_name(profile, &o->profile, &err) < 0)
        goto usage;
    if (today) {
        if (fmt_date_check(today, &err) < 0)
            goto usage;
        o->profile.today = today;
    }
    return 0;
usage:
    fprintf(stderr, "h2hctl: %s: %s\n", cmd, err.msg);
    return EXIT_USAGE;
}

static const char *family_name(enum fmt_family fam)
{
    switch (fam) {
    case FMT_FAM_PAYMENTS: return "payments";
    case FMT_FAM_STATUS: return "status report";
    case FMT_FAM_STATEMENTS: return "statements";
    case FMT_FAM_NONE: break;
    }
    return "unknown";
}

static const char *family_items(enum fmt_family fam, int groups, size_t n)
{
    switch (fam) {
    case FMT_FAM_PAYMENTS:
        return groups ? (n == 1 ? "group" : "groups")
                      : (n == 1 ? "transaction" : "transactions");
    case FMT_FAM_STATUS:
        return groups ? (n == 1 ? "payment" : "payments")
                      : (n == 1 ? "transaction" : "transactions");
    case FMT_FAM_STATEMENTS:
        return groups ? (n == 1 ? "statement" : "statements")
                      : (n == 1 ? "entry" : "entries");
    case FMT_FAM_NONE: break;
    }
    return groups ? "groups" : "items";
}

/* Copy the whole of in (rewound) to out; 0 or -1. */
static int copy_stream(FILE *in, FILE *out)
{
    char buf[65536];
    size_t n;
    rewind(in);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return -1;
    return ferror(in) || fflush(out) ? -1 : 0;
}

/* fsync the folder holding path, so that a rename into it is durable. */
static int fsync_dir_of(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int run_convert(struct ctx *x, const struct cmd_args *a)
{
    (void)x;
    struct fmt_convert_opts o;
    struct h2h_err err;
    int rc = local_opts("convert", a->opt[CO_FROM], a->opt[CO_PROFILE],
                        a->opt[CO_TODAY], &o);
    if (rc)
        return rc;
    h2h_err_clear(&err);
    if (!a->opt[CO_TO] || fmt_format_parse(a->opt[CO_TO], &o.to, &err) < 0 ||
        o.to.fmt == FMT_UNKNOWN) {
        fprintf(stderr, "h2hctl: convert: %s\n",
                err.msg[0] ? err.msg : "--to FORMAT is required");
        return EXIT_USAGE;
    }
    o.out_charset = a->opt[CO_OUT_CHARSET];

    const char *in = a->argv[0];
    const char *outp = a->argc > 1 ? a->argv[1] : "-";
    int to_stdout = !strcmp(outp, "-");
    /* A device or FIFO (/dev/null, a pipe to another tool) is written to,
     * never renamed over: renaming a temporary onto /dev/null as root
     * replaces the device node for the whole machine. */
    struct stat ost;
    int special = !to_stdout && stat(outp, &ost) == 0 && !S_ISREG(ost.st_mode);
    FILE *sink = NULL;
    if (special && !(sink = fopen(outp, "w"))) {
        char *m = clean(outp);
        fprintf(stderr, "h2hctl: convert: cannot open %s: %s\n",
                m ? m : "output", strerror(errno));
        free(m);
        return 1;
    }
    if (to_stdout)
        sink = stdout;
    if (sink)
        to_stdout = 1; /* from here: "copy a complete temporary to sink" */
    struct fmt_src src = {.path = in, .charset = a->opt[CO_CHARSET]};
    struct fmt_diag diag;
    struct fmt_convert_info info;
    char *tmp = NULL;
    FILE *out = NULL;
    fmt_diag_init(&diag, in);
    memset(&info, 0, sizeof(info));

    /* The output is complete or absent: a file is written under a
     * temporary name in its own folder and renamed once whole (and
     * fsync'd, as it may be handed to a bank next); stdout gets a copy of
     * an anonymous temporary file, so a failed conversion never leaves
     * half a document in a pipe. */
    if (to_stdout) {
        out = tmpfile();
    } else {
        size_t n = strlen(outp) + sizeof(".tmp-XXXXXX");
        tmp = malloc(n);
        if (tmp) {
            snprintf(tmp, n, "%s.tmp-XXXXXX", outp);
            int fd = mkstemp(tmp);
            /* mkstemp makes it 0600; the output is an ordinary file */
            mode_t um = umask(0);
            umask(um);
            if (fd >= 0 && fchmod(fd, 0666 & ~um) < 0) {
                close(fd);
                unlink(tmp);
                fd = -1;
            }
            if (fd >= 0 && !(out = fdopen(fd, "w"))) {
                close(fd);
                unlink(tmp);
            }
        }
    }
    if (!out) {
        char *m = clean(to_stdout ? "temporary file" : outp);
        fprintf(stderr, "h2hctl: convert: cannot create %s: %s\n",
                m ? m : "output", strerror(errno));
        free(m);
        rc = 1;
        goto out;
    }

    rc = fmt_convert(&src, &o, out, &diag, &info, &err);
    if (rc == 0 && (fflush(out) || ferror(out)))
        rc = h2h_err_set(&err, -errno, "write error: %s", strerror(errno));
    if (rc == 0 && !to_stdout && fsync(fileno(out)) < 0)
        rc = h2h_err_set(&err, -errno, "fsync: %s", strerror(errno));
    if (rc == 0 && to_stdout && copy_stream(out, sink) < 0)
        rc = h2h_err_set(&err, H2H_EIO, "cannot write to %s",
                         special ? "the output" : "stdout");
    if (special && fclose(sink) != 0 && rc == 0)
        rc = h2h_err_set(&err, -errno, "write error: %s", strerror(errno));
    if (fclose(out) && rc == 0)
        rc = h2h_err_set(&err, -errno, "write error: %s", strerror(errno));
    out = NULL;
    if (rc == 0 && !to_stdout) {
        if (rename(tmp, outp) < 0)
            rc = h2h_err_set(&err, -errno, "rename to %s: %s", outp,
                             strerror(errno));
        else if (fsync_dir_of(outp) < 0)
            rc = h2h_err_set(&err, -errno, "fsync of the folder: %s",
                             strerror(errno));
    }

    struct fmt_diag warn, probs;
    fmt_diag_init(&warn, in);
    fmt_diag_init(&probs, in);
    split_problems(&diag, &warn, &probs);
    /* A bank's figures that do not add up are delivered, flagged. */
    print_problems(stderr, &warn, "h2hctl: warning: ");
    if (rc < 0) {
        if (!to_stdout && tmp)
            unlink(tmp);
        print_problems(stderr, &probs, "");
        size_t n = probs.n + probs.dropped;
        if (rc == H2H_EINVALID && n > 0)
            fprintf(stderr, "h2hctl: convert: %zu problem%s, nothing written\n",
                    n, n == 1 ? "" : "s");
        else
            put_clean(stderr, "h2hctl: convert: ",
                      err.msg[0] ? err.msg : h2h_strerror(rc));
        rc = 1;
    }
    fmt_diag_release(&warn);
    fmt_diag_release(&probs);
out:
    if (out)
        fclose(out);
    if (rc && tmp)
        unlink(tmp);
    free(tmp);
    fmt_convert_info_release(&info);
    fmt_diag_release(&diag);
    return rc;
}

static int run_validate(struct ctx *x, const struct cmd_args *a)
{
    (void)x;
    struct fmt_convert_opts o;
    struct h2h_err err;
    int rc = local_opts("validate", a->opt[VO_FROM], a->opt[VO_PROFILE],
                        a->opt[VO_TODAY], &o);
    if (rc)
        return rc;
    h2h_err_clear(&err);
    const char *in = a->argv[0];
    struct fmt_src src = {.path = in, .charset = a->opt[VO_CHARSET]};
    struct fmt_diag diag;
    struct fmt_convert_info info;
    fmt_diag_init(&diag, in);
    rc = fmt_convert(&src, &o, NULL, &diag, &info, &err);
    size_t nprob = diag.n + diag.dropped;
    if (rc < 0 && rc != H2H_EINVALID && nprob == 0) {
        /* nothing was judged: I/O, or a format h2hd does not read */
        put_clean(stderr, "h2hctl: validate: ",
                  err.msg[0] ? err.msg : h2h_strerror(rc));
        rc = 1;
        goto out;
    }
    if (info.from == FMT_UNKNOWN || info.fam == FMT_FAM_NONE) {
        printf("unknown format: ");
    } else {
        /* canonical and CSV say which family they hold */
        int plain = info.from != FMT_CANONICAL && info.from != FMT_CSV;
        printf("%s%s%s%s: %zu %s, %zu %s, ", fmt_format_name(info.from),
               plain ? "" : " (", plain ? "" : family_name(info.fam),
               plain ? "" : ")", info.n_groups,
               family_items(info.fam, 1, info.n_groups), info.n_items,
               family_items(info.fam, 0, info.n_items));
    }
    printf("%zu problem%s", nprob, nprob == 1 ? "" : "s");
    if (info.stmt_mismatches)
        printf(" (%zu statement%s that do%s not add up)", info.stmt_mismatches,
               info.stmt_mismatches == 1 ? "" : "s",
               info.stmt_mismatches == 1 ? "es" : "");
    printf("\n");
    print_problems(stdout, &diag, "");
    if (rc < 0 && nprob == 0)
        put_clean(stdout, "", err.msg[0] ? err.msg : h2h_strerror(rc));
    rc = rc < 0 || nprob > 0 ? 1 : 0;
out:
    fmt_convert_info_release(&info);
    fmt_diag_release(&diag);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: h2hctl [-c CONFIG] [-s SOCKET] [-t SECONDS] [--json] "
            "COMMAND [ARGS]\n"
            "\n"
            "  -c, --config FILE    config file naming the control socket\n"
            "                       (default " DEFAULT_CONFIG ")\n"
            "  -s, --socket PATH    control socket (overrides $H2H_SOCKET "
            "and the config)\n"
            "  -t, --timeout SECS   give up waiting for h2hd after SECS "
            "(default %d)\n"
            "      --json           print the daemon's answer as JSON\n"
            "\ncommands:\n",
            DEFAULT_TIMEOUT_S);
    for (const struct command *c = commands; c->name; c++) {
        if (strlen(c->usage) > 28)
            fprintf(f, "  %s\n  %-28s %s\n", c->usage, "", c->summary);
        else
            fprintf(f, "  %-28s %s\n", c->usage, c->summary);
    }
    fprintf(f, "\nexit status: 0 ok, 1 h2hd reported an error, 2 usage "
               "error, 3 h2hd not reachable\n");
}

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int run_fetch(struct ctx *x, const struct cmd_args *a)
{
    json_t *args = json_pack("{s:s}", "bank", a->argv[0]);
    if (args && a->opt[0])
        json_object_set_new(args, "kind", json_string(a->opt[0]));
    if (args && a->opt[1])
        json_object_set_new(args, "date", json_string(a->opt[1]));
    json_t *r;
    int rc = call(x, "fetch", args, &r);
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
    } else {
        const char *date = json_string_value(json_object_get(r, "date"));
        printf("%s: fetching %s%s%s%s\n",
               json_string_value(json_object_get(r, "bank")),
               json_string_value(json_object_get(r, "kind")),
               date && *date ? " for " : "", date && *date ? date : "",
               json_is_true(json_object_get(r, "queued"))
                   ? " (after the round that is running)"
                   : "");
    }
    json_decref(r);
    return 0;
}

static const char *const jobs_cols[][2] = {
    {"BANK", "bank"},         {"KIND", "kind"},
    {"SCHEDULE", "schedule"}, {"TIME ZONE", "timezone"},
    {"LAST RUN", "last_run"}, {"RESULT", "result"},
    {"NEXT RUN", "next_run"}, {"RUNNING", "running"},
    {"ERROR", "error"},
};
#define JOBS_NCOLS (sizeof(jobs_cols) / sizeof(jobs_cols[0]))

static int run_jobs(struct ctx *x, const struct cmd_args *a)
{
    json_t *args = a->argc ? json_pack("{s:s}", "bank", a->argv[0]) : NULL;
    json_t *r;
    int rc = call(x, "jobs", args, &r);
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    json_t *jobs = json_object_get(r, "jobs");
    if (json_array_size(jobs) == 0) {
        printf("no scheduled jobs\n");
        json_decref(r);
        return 0;
    }
    struct table t;
    table_start(&t, JOBS_NCOLS, &jobs_cols[0][0], 2);
    char *row[JOBS_NCOLS];
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j)
    {
        for (size_t c = 0; c < JOBS_NCOLS; c++)
            row[c] = text(json_object_get(j, jobs_cols[c][1]));
        /* a job the calendar stopped has no next run: say why */
        if (json_is_true(json_object_get(j, "stopped"))) {
            free(row[6]);
            row[6] = xstrdup("none: calendar ran out");
        }
        if (json_is_string(json_object_get(j, "state")) &&
            strcmp(json_string_value(json_object_get(j, "state")),
                   "queued") == 0) {
            free(row[7]);
            row[7] = xstrdup("queued");
        }
        table_add(&t, row);
    }
    table_print(&t, stdout);
    json_decref(r);
    return 0;
}

/* Progress of a reconciliation run while h2hctl waits, on stderr. */
#define RECON_POLL_MS 500

static void print_recon(const json_t *r)
{
    static const char *const keys[] = {"channel", "bank", "account", "from",
                                       "to", "trigger"};
    char *id = text(json_object_get(r, "id"));
    char *result = text(json_object_get(r, "result"));
    printf("run %s %s\n", id, result);
    free(id);
    free(result);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = json_string_value(json_object_get(r, keys[i]));
        char *t = clean(v && *v ? v : "-");
        printf("%s%s %s", i ? "  " : "", keys[i], t ? t : "?");
        free(t);
    }
    printf("\n");
    const char *fields[][2] = {{"started", "started"}, {"ended", "ended"},
                               {"dir", "dir"}, {"error", "error"},
                               {"summary", ""}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = json_string_value(json_object_get(r, fields[i][0]));
        if (!v || !*v)
            continue;
        char *t = clean(v);
        printf("%s%s%s\n", fields[i][1], *fields[i][1] ? " " : "",
               t ? t : "?");
        free(t);
    }
    json_t *booked = json_object_get(json_object_get(r, "counts"), "booked");
    const char *res = json_string_value(json_object_get(r, "result"));
    if (json_is_integer(booked) && res && strcmp(res, "ok") == 0)
        printf("booked %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(booked));
}

static int recon_finished(const json_t *r)
{
    const char *res = json_string_value(json_object_get(r, "result"));
    return res && strcmp(res, "running") != 0;
}

static int run_reconcile(struct ctx *x, const struct cmd_args *a)
{
    /* opts: from to account bank channel last! no-wait! */
    json_t *r = NULL, *args = NULL;
    int rc;
    if (a->opt[5]) {
        for (int k = 0; k < 5; k++)
            if (a->opt[k]) {
                fprintf(stderr, "h2hctl: reconcile: --last takes no other "
                                "option\n");
                return EXIT_USAGE;
            }
        if ((rc = call(x, "reconcile_status", NULL, &r)))
            return rc;
    } else {
        static const char *const names[] = {"from", "to", "account", "bank",
                                            "channel"};
        args = json_object();
        for (int k = 0; k < 5; k++)
            if (a->opt[k])
                json_object_set_new(args, names[k], json_string(a->opt[k]));
        rc = call(x, "reconcile", args, &r);
        json_decref(args);
        if (rc)
            return rc;
        args = json_pack("{s:O}", "id", json_object_get(r, "id"));
        json_decref(r);
        r = NULL;
        /* follow it: progress on stderr until it ends */
        for (;;) {
            if ((rc = call(x, "reconcile_status", args, &r))) {
                json_decref(args);
                return rc;
            }
            if (a->opt[6] || recon_finished(r))
                break;
            json_t *p = json_object_get(r, "progress");
            if (p && !x->json) {
                char *id = text(json_object_get(r, "id"));
                char *ph = text(json_object_get(p, "phase"));
                fprintf(stderr,
                        "reconcile %s: %s %" JSON_INTEGER_FORMAT
                        "/%" JSON_INTEGER_FORMAT "\n",
                        id, ph, json_integer_value(json_object_get(p, "done")),
                        json_integer_value(json_object_get(p, "total")));
                free(id);
                free(ph);
            }
            json_decref(r);
            r = NULL;
            usleep(RECON_POLL_MS * 1000);
        }
        json_decref(args);
    }
    if (x->json)
        print_json(r);
    else
        print_recon(r);
    const char *res = json_string_value(json_object_get(r, "result"));
    rc = res && (strcmp(res, "ok") == 0 || strcmp(res, "running") == 0)
             ? 0
             : EXIT_DAEMON;
    json_decref(r);
    return rc;
}

/* Minor units as a decimal with 2 places (CNY, EUR: what drafts use). */
static void minor_text(json_int_t v, char *buf, size_t sz)
{
    snprintf(buf, sz, "%s%" JSON_INTEGER_FORMAT ".%02" JSON_INTEGER_FORMAT,
             v < 0 ? "-" : "", (v < 0 ? -v : v) / 100, (v < 0 ? -v : v) % 100);
}

/* An amount of ccy in minor units as decimal text with the currency's
 * places (buf >= 40). */
static void ccy_text(json_int_t v, const char *ccy, char *buf, size_t sz)
{
    if (!ccy || fmt_amount_format((int64_t)v, ccy, '.', buf, sz) < 0)
        minor_text(v, buf, sz);
}

/* "350000.00 CNY" of member key of a pool (in its ccy), or "-" when the
 * bank did not give it. */
static void pool_amount(const json_t *p, const char *key, char *buf,
                        size_t sz)
{
    const json_t *v = json_object_get(p, key);
    const char *ccy = json_string_value(json_object_get(p, "ccy"));
    if (!json_is_integer(v) || !ccy || sz < 48) {
        snprintf(buf, sz, "-");
        return;
    }
    ccy_text(json_integer_value(v), ccy, buf, sz - 5);
    strcat(buf, " ");
    strncat(buf, ccy, 3);
}

/* One line per pool figure set the bank last reported. */
static void print_pools(const char *bank, const json_t *pools)
{
    size_t i;
    const json_t *p;
    json_array_foreach(pools, i, p)
    {
        char pl[48], dep[48], qt[48], qu[48], qa[48];
        pool_amount(p, "pledged_total", pl, sizeof(pl));
        pool_amount(p, "deposit", dep, sizeof(dep));
        pool_amount(p, "quota_total", qt, sizeof(qt));
        pool_amount(p, "quota_used", qu, sizeof(qu));
        pool_amount(p, "quota_available", qa, sizeof(qa));
        char *b = clean(bank);
        char *id = text(json_object_get(p, "pool_id"));
        char *as_of = text(json_object_get(p, "as_of"));
        char *learnt = text(json_object_get(p, "learnt"));
        printf("%s: bank's pool %s as of %s: %" JSON_INTEGER_FORMAT
               " pledged (%s), deposit %s, quota %s, used %s, available %s "
               "(learnt %s)\n",
               b ? b : "?", id && *id ? id : "-",
               as_of && *as_of ? as_of : "-",
               json_integer_value(json_object_get(p, "pledged_count")), pl,
               dep, qt, qu, qa, learnt ? learnt : "-");
        free(b);
        free(id);
        free(as_of);
        free(learnt);
    }
}

static const char *const bills_cols[][2] = {
    {"BANK", "bank"},         {"DRAFT", "number"}, {"SUB-RANGE", ""},
    {"KIND", "kind"},         {"AMOUNT", ""},      {"MATURITY", "maturity"},
    {"STATUS", "status"},     {"HOLDER", "holder"},
};
#define BILLS_NCOLS (sizeof(bills_cols) / sizeof(bills_cols[0]))

static int run_bills(struct ctx *x, const struct cmd_args *a)
{
    json_t *args = json_object(), *r;
    if (a->opt[0])
        json_object_set_new(args, "bank", json_string(a->opt[0]));
    if (a->opt[1]) {
        char *end;
        long days = strtol(a->opt[1], &end, 10);
        if (*end || end == a->opt[1] || days < 0 || days > 3660) {
            json_decref(args);
            fprintf(stderr, "h2hctl: bills: --days wants 0..3660\n");
            return EXIT_USAGE;
        }
        json_object_set_new(args, "days", json_integer(days));
    }
    int rc = call(x, "bills", args, &r);
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    const char *bank;
    json_t *t;
    json_object_foreach(json_object_get(r, "banks"), bank, t)
    {
        char p[40], h[40];
        minor_text(json_integer_value(json_object_get(t, "pledged_amount")), p,
                   sizeof(p));
        minor_text(json_integer_value(json_object_get(t, "held_amount")), h,
                   sizeof(h));
        print_pools(bank, json_object_get(t, "pools"));
        char *b = clean(bank);
        printf("%s: pool %" JSON_INTEGER_FORMAT " pledged (%s), %"
               JSON_INTEGER_FORMAT " held (%s), %" JSON_INTEGER_FORMAT
               " awaiting an answer\n",
               b ? b : "?", json_integer_value(json_object_get(t, "pledged")),
               p, json_integer_value(json_object_get(t, "held")), h,
               json_integer_value(json_object_get(t, "pending")));
        free(b);
    }
    json_t *ds = json_object_get(r, "maturing");
    char *until = text(json_object_get(r, "until"));
    if (json_array_size(ds) == 0) {
        printf("no draft of ours matures by %s\n", until);
        free(until);
        json_decref(r);
        return 0;
    }
    printf("maturing by %s:\n", until);
    free(until);
    struct table tb;
    table_start(&tb, BILLS_NCOLS, &bills_cols[0][0], 2);
    char *row[BILLS_NCOLS];
    size_t i;
    json_t *d;
    json_array_foreach(ds, i, d)
    {
        char buf[64];
        for (size_t c = 0; c < BILLS_NCOLS; c++)
            row[c] = bills_cols[c][1][0]
                         ? text(json_object_get(d, bills_cols[c][1]))
                         : NULL;
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT "-%"
                 JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(d, "sub_from")),
                 json_integer_value(json_object_get(d, "sub_to")));
        row[2] = xstrdup(buf);
        minor_text(json_integer_value(json_object_get(d, "amount")), buf,
                   sizeof(buf) - 8);
        strcat(buf, " ");
        strncat(buf, json_string_value(json_object_get(d, "ccy"))
                         ? json_string_value(json_object_get(d, "ccy"))
                         : "",
                3);
        row[4] = xstrdup(buf);
        table_add(&tb, row);
    }
    table_print(&tb, stdout);
    json_decref(r);
    return 0;
}

/* "1000000.00 CNY" of member key of o (in o's ccy), malloc'd. */
static char *amount_cell(const json_t *o, const char *key)
{
    char buf[64];
    const char *ccy = json_string_value(json_object_get(o, "ccy"));
    ccy_text(json_integer_value(json_object_get(o, key)), ccy, buf,
             sizeof(buf) - 5);
    strcat(buf, " ");
    strncat(buf, ccy ? ccy : "", 3);
    return clean(buf);
}

static const char *const scf_vcols[] = {"BANK",   "VOUCHER",  "LEVEL",
                                        "HOLDER", "AMOUNT",   "REMAINING",
                                        "STATUS", "MATURITY", "OURS"};
#define SCF_VNCOLS (sizeof(scf_vcols) / sizeof(scf_vcols[0]))
static const char *const scf_fcols[] = {
    "BANK",     "REQUEST",  "KIND",   "STATUS",     "REQUESTED",
    "APPROVED", "FINANCED", "REPAID", "VALUE-DATE", "MATURITY"};
#define SCF_FNCOLS (sizeof(scf_fcols) / sizeof(scf_fcols[0]))

static int run_scf(struct ctx *x, const struct cmd_args *a)
{
    json_t *args = json_object(), *r;
    if (a->opt[0])
        json_object_set_new(args, "bank", json_string(a->opt[0]));
    int rc = call(x, "scf", args, &r);
    json_decref(args);
    if (rc)
        return rc;
    if (x->json) {
        print_json(r);
        json_decref(r);
        return 0;
    }
    size_t i;
    json_t *v;
    json_t *vs = json_object_get(r, "vouchers");
    if (json_array_size(vs) == 0) {
        printf("no voucher in the book\n");
    } else {
        /* per tree, children indented under their parents */
        struct table tb;
        char *row[SCF_VNCOLS];
        table_start(&tb, SCF_VNCOLS, scf_vcols, 1);
        json_array_foreach(vs, i, v)
        {
            char id[160];
            json_int_t lvl = json_integer_value(json_object_get(v, "level"));
            int ind = lvl > 1 && lvl < 20 ? 2 * (int)(lvl - 1) : 0;
            snprintf(id, sizeof(id), "%*s%s", ind, "",
                     json_string_value(json_object_get(v, "id"))
                         ? json_string_value(json_object_get(v, "id"))
                         : "?");
            row[0] = text(json_object_get(v, "bank"));
            row[1] = clean(id);
            row[2] = text(json_object_get(v, "level"));
            row[3] = text(json_object_get(v, "holder"));
            row[4] = amount_cell(v, "amount");
            row[5] = amount_cell(v, "remaining");
            row[6] = text(json_object_get(v, "status"));
            row[7] = text(json_object_get(v, "maturity"));
            row[8] = text(json_object_get(v, "role"));
            for (size_t c = 0; c < SCF_VNCOLS; c++)
                if (!row[c])
                    row[c] = xstrdup("?");
            table_add(&tb, row);
        }
        table_print(&tb, stdout);
    }
    const char *ccy;
    json_t *t;
    json_object_foreach(json_object_get(r, "totals"), ccy, t)
    {
        static const struct {
            const char *key, *words;
        } parts[] = {{"held", "held"},
                     {"pending_in", "awaiting our signature"},
                     {"pending_out", "sent, not yet signed"},
                     {"financed", "financed"},
                     {"settled", "settled"}};
        char buf[64], n[32];
        char *c = clean(ccy);
        printf("%s:", c ? c : "?");
        for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
            snprintf(n, sizeof(n), "n_%s", parts[k].key);
            ccy_text(json_integer_value(json_object_get(t, parts[k].key)), c,
                     buf, sizeof(buf));
            printf("%s %" JSON_INTEGER_FORMAT " %s (%s)", k ? "," : "",
                   json_integer_value(json_object_get(t, n)), parts[k].words,
                   buf);
        }
        ccy_text(json_integer_value(json_object_get(t, "issued_live")), c, buf,
                 sizeof(buf));
        printf(", owed as issuer %s\n", buf);
        free(c);
    }
    json_t *fs = json_object_get(r, "financing");
    if (json_array_size(fs) == 0) {
        printf("no financing request in the book\n");
        json_decref(r);
        return 0;
    }
    printf("financing:\n");
    struct table tf;
    char *row[SCF_FNCOLS];
    table_start(&tf, SCF_FNCOLS, scf_fcols, 1);
    json_array_foreach(fs, i, v)
    {
        row[0] = text(json_object_get(v, "bank"));
        row[1] = text(json_object_get(v, "request_id"));
        row[2] = text(json_object_get(v, "kind"));
        row[3] = text(json_object_get(v, "status"));
        row[4] = amount_cell(v, "requested");
        row[5] = amount_cell(v, "approved");
        row[6] = amount_cell(v, "financed");
        row[7] = amount_cell(v, "repaid");
        row[8] = text(json_object_get(v, "value_date"));
        row[9] = text(json_object_get(v, "maturity"));
        for (size_t c = 0; c < SCF_FNCOLS; c++)
            if (!row[c])
                row[c] = xstrdup("?");
        table_add(&tf, row);
    }
    table_print(&tf, stdout);
    json_decref(r);
    return 0;
}

static int run_help(struct ctx *x, const struct cmd_args *a)
{
    (void)x;
    if (a->argc > 0) {
        const struct command *c = find_command(a->argv[0]);
        if (!c) {
            fprintf(stderr, "h2hctl: unknown command \"%s\"\n", a->argv[0]);
            return EXIT_USAGE;
        }
        printf("usage: h2hctl %s\n  %s\n", c->usage, c->summary);
        return 0;
    }
    usage(stdout);
    return 0;
}

static const struct command commands[] = {
    {"status", 0, 0, 1, run_status, {NULL}, "status",
     "daemon, bank health and message counts"},
    {"queue", 0, 0, 1, run_queue, {"state", "bank", "channel", "limit", NULL},
     "queue [--state S] [--bank B] [--channel C] [--limit N]",
     "list messages"},
    {"show", 1, 1, 1, run_show, {NULL}, "show ID",
     "one message with its history"},
    {"retry", 1, 1, 1, run_retry, {NULL}, "retry ID",
     "send a deferred or failed message again (audited)"},
    {"hold", 1, 1, 1, run_hold, {NULL}, "hold ID",
     "keep a message from being sent"},
    {"release", 1, 1, 1, run_release, {NULL}, "release ID",
     "let a held message go (audited)"},
    {"reload", 0, 0, 1, run_reload, {NULL}, "reload",
     "reload the configuration (refused if invalid)"},
    {"certs", 0, 1, 1, run_certs, {NULL}, "certs [BANK]",
     "certificates in use: subject, issuer, SHA-256, expiry"},
    {"fetch", 1, 1, 1, run_fetch, {"kind", "date", NULL},
     "fetch BANK [--kind K] [--date D]",
     "fetch now: status, statements, intraday, balance, bills or all "
     "(default), optionally for one day"},
    {"jobs", 0, 1, 1, run_jobs, {NULL}, "jobs [BANK]",
     "scheduled jobs: schedule, time zone, last run and result, next run"},
    {"reconcile", 0, 0, 1, run_reconcile,
     {"from", "to", "account", "bank", "channel", "last!", "no-wait!", NULL},
     "reconcile [--from D] [--to D] [--account A] [--bank B] [--channel C] "
     "[--no-wait] | --last",
     "match submitted payments against booked statement entries and write "
     "the reports; --last shows the latest run (audited)"},
    {"bills", 0, 0, 1, run_bills, {"bank", "days", NULL},
     "bills [--bank B] [--days N]",
     "the bill pool as the banks last told: their pool figures, pledged "
     "and held drafts, and ours maturing within N days (default 30)"},
    {"scf", 0, 0, 1, run_scf, {"bank", NULL}, "scf [--bank B]",
     "supply-chain finance as the banks last told: vouchers per tree with "
     "our part in them, totals per currency, and financing requests"},
    {"convert", 1, 2, 0, run_convert,
     {"from", "to", "profile", "charset", "today", "out-charset", NULL},
     "convert [--from F] --to F [--profile P] [--charset CS] [--today D] "
     "[--out-charset CS] IN [OUT]",
     "convert a payment, status or statement file (no daemon needed; "
     "OUT - or absent: stdout)"},
    {"validate", 1, 1, 0, run_validate,
     {"from", "profile", "charset", "today", NULL},
     "validate [--from F] [--profile P] [--charset CS] [--today D] FILE",
     "check a file as h2hd would; exit 1 on any problem (no daemon needed)"},
    {"help", 0, 1, 0, run_help, {NULL}, "help [COMMAND]", "this text"},
    {NULL, 0, 0, 0, NULL, {NULL}, NULL, NULL},
};

/* ---- main ----------------------------------------------------------- */

/* Split the words after the command name into options and positional
 * arguments.  --json is accepted anywhere. */
static int parse_cmd_args(struct ctx *x, const struct command *c, int argc,
                          char **argv, struct cmd_args *a)
{
    memset(a, 0, sizeof(*a));
    a->argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!a->argv)
        return -1;
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (only_pos || w[0] != '-' || w[1] == '\0') {
            a->argv[a->argc++] = argv[i];
            continue;
        }
        if (strcmp(w, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(w, "--json") == 0) {
            x->json = 1;
            continue;
        }
        if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
            printf("usage: h2hctl %s\n  %s\n", c->usage, c->summary);
            exit(0);
        }
        int found = 0;
        if (w[1] == '-') {
            const char *name = w + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            for (int k = 0; k < OPTS_MAX && c->opts[k]; k++) {
                size_t on = strcspn(c->opts[k], "!");
                if (on != n || strncmp(c->opts[k], name, n))
                    continue;
                found = 1;
                if (c->opts[k][on] == '!') { /* a flag: no value */
                    if (eq) {
                        fprintf(stderr, "h2hctl: %s: %.*s takes no value\n",
                                c->name, (int)(n + 2), w);
                        return -1;
                    }
                    a->opt[k] = "";
                } else if (eq) {
                    a->opt[k] = eq + 1;
                } else if (i + 1 < argc) {
                    a->opt[k] = argv[++i];
                } else {
                    fprintf(stderr, "h2hctl: %s: %s needs a value\n",
                            c->name, w);
                    return -1;
                }
            }
        }
        if (!found) {
            fprintf(stderr, "h2hctl: %s: unknown option %s\n", c->name, w);
            return -1;
        }
    }
    if (a->argc < c->min_args
        || (c->max_args >= 0 && a->argc > c->max_args)) {
        fprintf(stderr, "usage: h2hctl %s\n", c->usage);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"socket", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ctx x = {.config = DEFAULT_CONFIG,
                    .timeout_ms = DEFAULT_TIMEOUT_S * 1000};
    int opt;
    while ((opt = getopt_long(argc, argv, "+c:s:t:jh", longopts, NULL))
           != -1) {
        switch (opt) {
        case 'c':
            x.config = optarg;
            break;
        case 's':
            x.socket = optarg;
            break;
        case 't': {
            char *end;
            errno = 0;
            long t = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || t < 1 || t > 86400) {
                fprintf(stderr, "h2hctl: -t wants seconds from 1 to "
                                "86400\n");
                return EXIT_USAGE;
            }
            x.timeout_ms = (int)t * 1000;
            break;
        }
        case 'j':
            x.json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const struct command *c = find_command(argv[optind]);
    if (!c) {
        fprintf(stderr, "h2hctl: unknown command \"%s\" (see h2hctl help)\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    struct cmd_args a;
    if (parse_cmd_args(&x, c, argc - optind - 1, argv + optind + 1, &a) < 0) {
        free(a.argv);
        return EXIT_USAGE;
    }
    int rc;
    formats_init();
    if (c->needs_daemon && resolve_socket(&x) < 0)
        rc = EXIT_USAGE;
    else
        rc = c->run(&x, &a);
    free(a.argv);
    return rc;
}
