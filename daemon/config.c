/*
 * config.c - see config.h.
 *
 * Every option lives in one table per section (struct opt): its name, type,
 * where it goes in the struct, default, bounds and whether it can change
 * on reload.  The generic section parser walks a libconfig group against a
 * table; the same tables free the strings and drive cfg_reload_check(), so
 * an option added to a table is parsed, defaulted, validated, freed and
 * reload-checked with no other code.  Cross-section rules (unique names,
 * banks that exist, distinct folders, the adapters' own settings) run after
 * all sections were read.
 *
 * The loader never stops at the first problem: a bad value is reported and
 * replaced by its default so later checks still run on sane data.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "adapter.h"
#include "calendar.h"
#include "charset.h"
#include "cron.h"
#include "fsutil.h"
#include "log.h"
#include "tz.h"

#define PATH_CAP 4000        /* resolved paths; runtime buffers are 4096 */
#define STR_CAP 256          /* any other string value */
#define SECTION_CAP 256      /* banks, channels */
#define ROUTES_CAP 10000     /* routes per channel */
#define JOBS_CAP 32          /* scheduled jobs per bank */
#define ACCOUNT_CAP 64

/* ---- option tables ---------------------------------------------------- */

enum opt_type {
    T_INT,      /* int; bounds in min/max */
    T_BOOL,     /* int 0/1; true or false */
    T_I64,      /* int64_t; value * scale (seconds -> ms) */
    T_DBL,      /* double; bounds in fmin/fmax; integers accepted */
    T_STR,      /* char *; free text without control characters */
    T_NAME,     /* char *; [A-Za-z0-9_-]{1,32} */
    T_ENUM,     /* char *; one of choices */
    T_PATH,     /* char *; resolved, see rel */
    T_MODE,     /* int; file mode as octal ("0660", 0660, or 432) */
    T_LEVEL,    /* int; log level name */
    T_TZ,       /* char *; IANA time zone name */
    T_PATTERN,  /* char *; bank-visible file name pattern */
    T_CHARSET,  /* char *; a charset iconv knows (fmt_charset_known) */
    T_RETRY,    /* struct cfg_retry; nested group, per-field inheritance */
    T_SPECIAL,  /* parsed by the section's own code (routes) */
};

/* What a relative path (given or default) is relative to. */
enum rel {
    REL_BASE = 0,    /* base_dir */
    REL_CONFDIR,     /* the config file's folder (base_dir itself) */
    REL_STATE,       /* state_dir (defaults only) */
    REL_CHAN_SPOOL,  /* spool_dir/<channel name> (defaults only) */
};

enum {
    OPT_RESTART = 1,    /* cannot change on reload */
    OPT_REQUIRED = 2,
    OPT_EMPTY_NULL = 4, /* "" means "none" (NULL) */
    OPT_DASH = 8,       /* "-" is kept as is (stderr) */
    OPT_INHERIT = 16,   /* T_RETRY: defaults are the daemon's retry */
};

struct opt {
    const char *name;
    enum opt_type type;
    size_t off;
    unsigned flags;
    const char *def_s;
    int64_t def_i;
    int64_t min, max;
    double def_f, fmin, fmax;
    int64_t scale;               /* T_I64: multiply the value */
    enum rel rel;                /* T_PATH */
    const char *const *choices;  /* T_ENUM */
};

#define DAEMON(f) offsetof(struct cfg, f)
#define BANK(f) offsetof(struct cfg_bank, f)
#define CHAN(f) offsetof(struct cfg_channel, f)
#define RETRY(f) offsetof(struct cfg_retry, f)
#define ROUTE(f) offsetof(struct cfg_route, f)
#define SCHED(f) offsetof(struct cfg_schedule, f)
#define JOB(f) offsetof(struct cfg_job, f)
#define RECON(f) offsetof(struct cfg_reconcile, f)

static const struct opt retry_opts[] = {
    {.name = "initial", .type = T_I64, .off = RETRY(initial_ms),
     .def_i = 5000, .min = 1, .max = 86400000, .scale = 1},
    {.name = "max", .type = T_I64, .off = RETRY(max_ms),
     .def_i = 600000, .min = 1, .max = 7 * 86400000LL, .scale = 1},
    {.name = "factor", .type = T_DBL, .off = RETRY(factor),
     .def_f = 2.0, .fmin = 1.0, .fmax = 10.0},
    {.name = "jitter", .type = T_DBL, .off = RETRY(jitter),
     .def_f = 0.2, .fmin = 0.0, .fmax = 1.0},
    {.name = "max_attempts", .type = T_INT, .off = RETRY(max_attempts),
     .def_i = 12, .min = 0, .max = 1000},
    {.name = "max_age", .type = T_I64, .off = RETRY(max_age_s),
     .def_i = 86400, .min = 0, .max = 30 * 86400, .scale = 1},
    {0},
};

/* Order matters: base_dir, state_dir and spool_dir are resolved before the
 * paths whose defaults live under them. */
static const struct opt daemon_opts[] = {
    {.name = "base_dir", .type = T_PATH, .off = DAEMON(base_dir),
     .def_s = ".", .rel = REL_CONFDIR},
    {.name = "state_dir", .type = T_PATH, .off = DAEMON(state_dir),
     .flags = OPT_RESTART, .def_s = "state"},
    {.name = "spool_dir", .type = T_PATH, .off = DAEMON(spool_dir),
     .flags = OPT_RESTART, .def_s = "spool"},
    {.name = "pid_file", .type = T_PATH, .off = DAEMON(pid_file),
     .flags = OPT_RESTART, .def_s = "h2hd.pid", .rel = REL_STATE},
    {.name = "control_socket", .type = T_PATH, .off = DAEMON(control_socket),
     .flags = OPT_RESTART, .def_s = "h2hctl.sock", .rel = REL_STATE},
    {.name = "control_socket_mode", .type = T_MODE,
     .off = DAEMON(control_socket_mode), .flags = OPT_RESTART,
     .def_i = 0660, .min = 0, .max = 0777},
    {.name = "audit_log", .type = T_PATH, .off = DAEMON(audit_log),
     .def_s = "audit.log", .rel = REL_STATE},
    {.name = "log_file", .type = T_PATH, .off = DAEMON(log_file),
     .flags = OPT_DASH, .def_s = "-"},
    {.name = "log_level", .type = T_LEVEL, .off = DAEMON(log_level),
     .def_i = H2H_LOG_INFO},
    {.name = "shutdown_timeout", .type = T_I64,
     .off = DAEMON(shutdown_timeout_ms), .def_i = 30, .min = 0, .max = 3600,
     .scale = 1000},
    {.name = "rescan_interval", .type = T_I64,
     .off = DAEMON(rescan_interval_ms), .def_i = 2000, .min = 100,
     .max = 3600000, .scale = 1},
    {.name = "batch_max", .type = T_INT, .off = DAEMON(batch_max),
     .def_i = 64, .min = 1, .max = 10000},
    {.name = "retry", .type = T_RETRY, .off = DAEMON(retry)},
    {0},
};

static const char *const payment_formats[] = {
    "as-received", "pain.001.001.03", "pain.001.001.09", "mt101", "canonical",
    NULL};
/* The names fmt_profile_by_name() knows (formats/convert.h). */
static const char *const profiles[] = {"none", "sepa", "sepa-translit", "cgi",
                                       NULL};

static const struct opt bank_opts[] = {
    {.name = "name", .type = T_NAME, .off = BANK(name),
     .flags = OPT_REQUIRED},
    {.name = "adapter", .type = T_STR, .off = BANK(adapter),
     .flags = OPT_REQUIRED},
    {.name = "timezone", .type = T_TZ, .off = BANK(timezone), .def_s = "UTC"},
    {.name = "max_sessions", .type = T_INT, .off = BANK(max_sessions),
     .def_i = 4, .min = 1, .max = 64},
    {.name = "poll_interval", .type = T_I64, .off = BANK(poll_interval_ms),
     .def_i = 10000, .min = 100, .max = 86400000, .scale = 1},
    {.name = "name_pattern", .type = T_PATTERN, .off = BANK(name_pattern)},
    {.name = "charset", .type = T_CHARSET, .off = BANK(charset)},
    {.name = "payment_format", .type = T_ENUM, .off = BANK(payment_format),
     .def_s = "as-received", .choices = payment_formats},
    {.name = "profile", .type = T_ENUM, .off = BANK(profile),
     .def_s = "none", .choices = profiles},
    {.name = "retry", .type = T_RETRY, .off = BANK(retry),
     .flags = OPT_INHERIT},
    {.name = "schedule", .type = T_SPECIAL},
    {0},
};

/* A bank's schedule group; the zone, calendar, cut-off and jobs are
 * checked further by parse_schedule. */
static const char *const after_cutoffs[] = {"hold", "flag", NULL};

static const struct opt sched_opts[] = {
    {.name = "timezone", .type = T_STR, .off = SCHED(timezone)},
    {.name = "calendar", .type = T_PATH, .off = SCHED(calendar),
     .flags = OPT_EMPTY_NULL},
    {.name = "jitter", .type = T_I64, .off = SCHED(jitter_s), .def_i = 0,
     .min = 0, .max = 3600, .scale = 1},
    {.name = "catch_up", .type = T_BOOL, .off = SCHED(catch_up), .def_i = 1},
    {.name = "jobs", .type = T_SPECIAL},
    {.name = "cutoff", .type = T_STR, .off = SCHED(cutoff)},
    {.name = "after_cutoff", .type = T_ENUM, .off = SCHED(after_cutoff),
     .def_s = "hold", .choices = after_cutoffs},
    {0},
};

/* The kinds h2h_poll_kind() knows, but "all": a job fetches one kind;
 * and "reconcile", a reconciliation run for the bank (reconrun.h). */
static const char *const job_kinds[] = {"status", "statements", "intraday",
                                        "balance", "bills", "reconcile", NULL};

static const struct opt job_opts[] = {
    {.name = "kind", .type = T_ENUM, .off = JOB(kind), .flags = OPT_REQUIRED,
     .choices = job_kinds},
    {.name = "cron", .type = T_STR, .off = JOB(cron), .flags = OPT_REQUIRED},
    {.name = "business_days", .type = T_BOOL, .off = JOB(business_days),
     .def_i = 0},
    {0},
};

static const char *const input_formats[] = {
    "passthrough", "auto", "pain.001", "csv", "canonical", NULL};
static const char *const output_formats[] = {
    "as-received", "canonical", "camt.053", "mt940", "csv", NULL};
static const char *const kinds[] = {"payment", NULL};

static const struct opt chan_opts[] = {
    {.name = "name", .type = T_NAME, .off = CHAN(name),
     .flags = OPT_REQUIRED},
    {.name = "bank", .type = T_NAME, .off = CHAN(bank),
     .flags = OPT_REQUIRED},
    {.name = "drop", .type = T_PATH, .off = CHAN(drop_dir), .def_s = "in",
     .rel = REL_CHAN_SPOOL},
    {.name = "out", .type = T_PATH, .off = CHAN(out_dir), .def_s = "out",
     .rel = REL_CHAN_SPOOL},
    {.name = "rejected", .type = T_PATH, .off = CHAN(rejected_dir),
     .def_s = "rejected", .rel = REL_CHAN_SPOOL},
    {.name = "archive", .type = T_PATH, .off = CHAN(archive_dir),
     .flags = OPT_EMPTY_NULL},
    {.name = "input_format", .type = T_ENUM, .off = CHAN(input_format),
     .def_s = "passthrough", .choices = input_formats},
    {.name = "output_format", .type = T_ENUM, .off = CHAN(output_format),
     .def_s = "as-received", .choices = output_formats},
    {.name = "kind", .type = T_ENUM, .off = CHAN(kind), .def_s = "payment",
     .choices = kinds},
    {.name = "profile", .type = T_ENUM, .off = CHAN(profile),
     .def_s = "none", .choices = profiles},
    {.name = "charset", .type = T_CHARSET, .off = CHAN(charset)},
    {.name = "stability", .type = T_I64, .off = CHAN(stability_ms),
     .def_i = 1000, .min = 0, .max = 3600000, .scale = 1},
    {.name = "routes", .type = T_SPECIAL},
    {.name = "reconcile", .type = T_SPECIAL},
    {0},
};

/* A channel's reconcile group; dir defaults to <out>/reconcile. */
static const struct opt recon_opts[] = {
    {.name = "dir", .type = T_PATH, .off = RECON(dir)},
    {.name = "expected_dir", .type = T_PATH, .off = RECON(expected_dir),
     .flags = OPT_EMPTY_NULL},
    {.name = "window_days", .type = T_INT, .off = RECON(window_days),
     .def_i = 3, .min = 0, .max = 60},
    {.name = "grace_days", .type = T_INT, .off = RECON(grace_days),
     .def_i = 5, .min = 0, .max = 365},
    {.name = "threshold", .type = T_INT, .off = RECON(threshold),
     .def_i = 60, .min = 1, .max = 100},
    {.name = "days", .type = T_INT, .off = RECON(days), .def_i = 31,
     .min = 1, .max = 400},
    {0},
};

static const struct opt route_opts[] = {
    {.name = "account", .type = T_STR, .off = ROUTE(account),
     .flags = OPT_REQUIRED},
    {.name = "bank", .type = T_NAME, .off = ROUTE(bank),
     .flags = OPT_REQUIRED},
    {0},
};

static const char *const top_keys[] = {"daemon", "banks", "channels", NULL};

static int is_string_type(enum opt_type t)
{
    return t == T_STR || t == T_NAME || t == T_ENUM || t == T_PATH ||
           t == T_TZ || t == T_PATTERN || t == T_CHARSET;
}

#define FIELD(obj, o, type) ((type *)((char *)(obj) + (o)->off))
#define CFIELD(obj, o, type) ((const type *)((const char *)(obj) + (o)->off))

/* ---- problems --------------------------------------------------------- */

void cfg_problems_release(struct cfg_problems *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

/* Where a listed problem points, to sort the list into file order. */
struct pos {
    char *file;
    int line;
};

struct ld {
    struct cfg *c;
    struct cfg_problems *probs;
    struct pos *pos;              /* parallel to probs->v[base..] */
    size_t base;                  /* problems the caller had already */
    size_t count;                 /* problems seen, listed or not */
    int oom;
    const char *confdir;          /* the config file's folder */
    const char *chan_name;        /* channel being parsed (REL_CHAN_SPOOL) */
    const char *cur_bank;         /* bank being checked by its adapter */
};

static void probs_add(struct ld *ld, const char *file, int line,
                      const char *fmt, va_list ap)
{
    ld->count++;
    if (!ld->probs || ld->probs->n >= CFG_PROBLEMS_MAX)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (ld->probs->n == CFG_PROBLEMS_MAX - 1)
        snprintf(msg, sizeof(msg), "too many problems, the rest is not "
                                   "listed");
    char *s = NULL;
    int rc = line > 0 ? asprintf(&s, "%s:%d: %s", file, line, msg)
                      : asprintf(&s, "%s: %s", file, msg);
    char **v = rc < 0 ? NULL
                      : realloc(ld->probs->v,
                                (ld->probs->n + 1) * sizeof(*v));
    if (v)
        ld->probs->v = v;
    size_t k = ld->probs->n - ld->base;
    struct pos *ps = v ? realloc(ld->pos, (k + 1) * sizeof(*ps)) : NULL;
    if (ps)
        ld->pos = ps;
    char *f = ps ? strdup(file) : NULL;
    if (!f) {
        if (rc >= 0)
            free(s);
        ld->oom = 1;
        return;
    }
    ps[k] = (struct pos){f, line};
    v[ld->probs->n++] = s;
}

/* Checks run section by section; an operator reads the file top down.
 * Stable insertion sort by (file, line): the list is short (capped). */
static void probs_sort(struct ld *ld)
{
    if (!ld->probs || !ld->pos)
        return;
    size_t n = ld->probs->n - ld->base;
    char **pv = ld->probs->v + ld->base;
    if (ld->probs->n == CFG_PROBLEMS_MAX && n > 0)
        n--;   /* "too many problems" stays last */
    for (size_t i = 1; i < n; i++) {
        struct pos p = ld->pos[i];
        char *v = pv[i];
        size_t j = i;
        while (j > 0) {
            int cmp = strcmp(ld->pos[j - 1].file, p.file);
            if (cmp < 0 || (cmp == 0 && ld->pos[j - 1].line <= p.line))
                break;
            ld->pos[j] = ld->pos[j - 1];
            pv[j] = pv[j - 1];
            j--;
        }
        ld->pos[j] = p;
        pv[j] = v;
    }
}

static void ld_release(struct ld *ld)
{
    for (size_t i = 0; ld->pos && ld->probs && i < ld->probs->n - ld->base;
         i++)
        free(ld->pos[i].file);
    free(ld->pos);
    ld->pos = NULL;
}

static void problem_at(struct ld *ld, const char *file, int line,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem_at(struct ld *ld, const char *file, int line,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    probs_add(ld, file, line, fmt, ap);
    va_end(ap);
}

static void problem(struct ld *ld, const config_setting_t *s,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The file a setting came from.  libconfig 1.5 records an @include by the
 * name written in the file, relative to the include folder (the config
 * file's folder); make that usable from anywhere. */
static const char *source_file(const struct cfg *c, const config_setting_t *s,
                               char *buf, size_t bufsz)
{
    const char *file = s ? config_setting_source_file(s) : NULL;
    if (!file)
        return c->path;
    if (file[0] == '/' || strcmp(file, c->path) == 0 || !c->priv_confdir)
        return file;
    snprintf(buf, bufsz, "%s/%s", c->priv_confdir, file);
    return buf;
}

static void problem(struct ld *ld, const config_setting_t *s,
                    const char *fmt, ...)
{
    char buf[4096];
    const char *file = source_file(ld->c, s, buf, sizeof(buf));
    int line = s ? (int)config_setting_source_line(s) : 0;
    va_list ap;
    va_start(ap, fmt);
    probs_add(ld, file, line, fmt, ap);
    va_end(ap);
}

static char *xstrdup(struct ld *ld, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        ld->oom = 1;
    return d;
}

/* ---- value checks ----------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > CFG_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static int tz_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || s[0] == '/' || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_+-/", s[i]))
            return 0;
    /* Where the zone database is installed, the zone must be in it. */
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return 1;
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, s);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* NULL when fine, else why not.  The pattern makes the bank-visible name,
 * the idempotency key: it must identify the message ({id} or {msgid}) and
 * stay one path component. */
static const char *pattern_problem(const char *s)
{
    static const char *const tokens[] = {"{id}", "{name}", "{date}",
                                         "{msgid}", "{seq}", NULL};
    int ident = 0, date = 0, seq = 0;
    if (!*s || strlen(s) > 128)
        return "must be 1 to 128 characters";
    for (const char *p = s; *p;) {
        if (*p == '{') {
            const char *const *t;
            size_t len = 0;
            for (t = tokens; *t; t++)
                if (strncmp(p, *t, strlen(*t)) == 0)
                    break;
            if (*t)
                len = strlen(*t);
            else if (strncmp(p, "{seq", 4) == 0 && p[4] >= '1' &&
                     p[4] <= '9' && p[5] == '}')
                len = 6, t = tokens + 4; /* {seqN}: N digits */
            else
                return "has an unknown token (known: {id} {name} {date} "
                       "{msgid} {seq} {seqN})";
            if (strcmp(*t, "{id}") == 0 || strcmp(*t, "{msgid}") == 0)
                ident = 1;
            date |= strcmp(*t, "{date}") == 0;
            seq |= strcmp(*t, "{seq}") == 0;
            p += len;
            continue;
        }
        if (*p == '/' || *p == '}' || (unsigned char)*p < 0x20 || *p == 0x7f)
            return "may not contain '/', '}' or control characters";
        p++;
    }
    if (!ident && !(date && seq))
        return "must contain {id}, {msgid}, or {date} with {seq}, so that "
               "every message gets its own name";
    return NULL;
}

/* Edit distance, small strings only; for "did you mean" hints. */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins)
                                : (del < ins ? del : ins);
        }
    return d[la][lb];
}

static void unknown_key(struct ld *ld, const config_setting_t *m,
                        const char *where, const struct opt *tbl)
{
    const char *name = config_setting_name(m);
    const char *best = NULL;
    int bestd = 3;
    for (const struct opt *o = tbl; o && o->name; o++) {
        int dd = distance(name, o->name);
        if (dd < bestd)
            bestd = dd, best = o->name;
    }
    if (best)
        problem(ld, m, "unknown setting \"%s\" in %s (did you mean \"%s\"?)",
                name, where, best);
    else
        problem(ld, m, "unknown setting \"%s\" in %s", name, where);
}

/* ---- paths ------------------------------------------------------------ */

/* Lexically normalise base + "/" + p (or p when absolute) into a malloc'd
 * absolute path: no "//", ".", "..", or trailing '/'.  Symlinks are not
 * resolved: the folders may not exist yet. */
static char *path_join_norm(const char *base, const char *p)
{
    char *in = NULL;
    if (p[0] == '/' ? asprintf(&in, "%s", p) < 0
                    : asprintf(&in, "%s/%s", base ? base : "/", p) < 0)
        return NULL;
    size_t n = strlen(in);
    char *out = malloc(n + 2);
    if (!out) {
        free(in);
        return NULL;
    }
    size_t o = 0;
    char *save = NULL;
    for (char *tok = strtok_r(in, "/", &save); tok;
         tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        size_t k = strlen(tok);
        memcpy(out + o, tok, k);
        o += k;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(in);
    return out;
}

/* The config file's absolute path: a daemon that detached (chdir "/")
 * must still find it on reload. */
static char *abs_path(const char *path)
{
    char cwd[4096];
    if (path[0] == '/')
        return path_join_norm(NULL, path);
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    return path_join_norm(cwd, path);
}

static char *dir_of(const char *abs)
{
    const char *slash = strrchr(abs, '/');
    if (!slash || slash == abs)
        return strdup("/");
    return strndup(abs, (size_t)(slash - abs));
}

/* ---- the generic section parser -------------------------------------- */

static void parse_section(struct ld *ld, const config_setting_t *grp,
                          const struct opt *tbl, void *obj,
                          const void *inherit, const char *where,
                          const char *extra_key);

/* Value of an integer setting written with a leading zero, read as octal
 * from the source line: libconfig 1.5 reads 0660 as decimal 660.  Returns
 * 1 and *val when the literal in the file has a leading zero, 0 when not
 * (or when the line cannot be read), -1 when it is not octal. */
static int octal_literal(const struct cfg *c, const config_setting_t *s,
                         long *val)
{
    char buf0[4096];
    const char *file = source_file(c, s, buf0, sizeof(buf0));
    int line = (int)config_setting_source_line(s);
    const char *name = config_setting_name(s);
    if (!file || line <= 0 || !name)
        return 0;
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    char buf[4096];
    int rc = 0;
    for (int i = 1; fgets(buf, sizeof(buf), f); i++) {
        if (i < line)
            continue;
        for (char *p = strstr(buf, name); p; p = strstr(p + 1, name)) {
            char *q = p + strlen(name);
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q != '=' && *q != ':')
                continue;
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            if (q[0] != '0' || !isdigit((unsigned char)q[1]))
                break;
            char *end;
            errno = 0;
            *val = strtol(q, &end, 8);
            rc = (errno || isdigit((unsigned char)*end)) ? -1 : 1;
            break;
        }
        break;
    }
    fclose(f);
    return rc;
}

static const struct cfg_retry *retry_inherit(struct ld *ld,
                                             const struct opt *o)
{
    return (o->flags & OPT_INHERIT) ? &ld->c->retry : NULL;
}

static const char *where_sub(char *buf, const char *where, const char *name)
{
    snprintf(buf, 80, "%s.%s", where, name);
    return buf;
}

static void set_default(struct ld *ld, const struct opt *o, void *obj,
                        const void *inherit)
{
    if (inherit && o->type != T_RETRY) {
        if (is_string_type(o->type))
            *FIELD(obj, o, char *) =
                xstrdup(ld, *CFIELD(inherit, o, char *const));
        else if (o->type == T_I64)
            *FIELD(obj, o, int64_t) = *CFIELD(inherit, o, int64_t);
        else if (o->type == T_DBL)
            *FIELD(obj, o, double) = *CFIELD(inherit, o, double);
        else if (o->type != T_SPECIAL)
            *FIELD(obj, o, int) = *CFIELD(inherit, o, int);
        return;
    }
    switch (o->type) {
    case T_INT: case T_BOOL: case T_MODE: case T_LEVEL:
        *FIELD(obj, o, int) = (int)o->def_i;
        break;
    case T_I64:
        *FIELD(obj, o, int64_t) = o->def_i * o->scale;
        break;
    case T_DBL:
        *FIELD(obj, o, double) = o->def_f;
        break;
    case T_PATH:
        if (o->def_s && (o->flags & OPT_DASH) && strcmp(o->def_s, "-") == 0) {
            *FIELD(obj, o, char *) = xstrdup(ld, o->def_s);
        } else if (o->def_s) {
            const char *base = ld->c->base_dir;
            char *tmp = NULL;
            if (o->rel == REL_CONFDIR)
                base = ld->confdir;
            else if (o->rel == REL_STATE)
                base = ld->c->state_dir;
            else if (o->rel == REL_CHAN_SPOOL) {
                if (asprintf(&tmp, "%s/%s", ld->c->spool_dir,
                             ld->chan_name ? ld->chan_name : "_") < 0) {
                    ld->oom = 1;
                    break;
                }
                base = tmp;
            }
            char *p = path_join_norm(base, o->def_s);
            if (!p)
                ld->oom = 1;
            *FIELD(obj, o, char *) = p;
            free(tmp);
        }
        break;
    case T_STR: case T_NAME: case T_ENUM: case T_TZ: case T_PATTERN:
    case T_CHARSET:
        *FIELD(obj, o, char *) = xstrdup(ld, o->def_s);
        break;
    case T_RETRY:
        parse_section(ld, NULL, retry_opts, FIELD(obj, o, struct cfg_retry),
                      retry_inherit(ld, o), o->name, NULL);
        break;
    case T_SPECIAL:
        break;
    }
}

static const char *type_word(enum opt_type t)
{
    switch (t) {
    case T_INT: case T_I64: return "an integer";
    case T_BOOL: return "true or false";
    case T_DBL: return "a number";
    case T_MODE: return "an octal mode like \"0660\"";
    case T_RETRY: return "a group { ... }";
    case T_SPECIAL: return "a list ( ... )";
    default: return "a string";
    }
}

/* Parse one present setting into obj; on a problem report it and return
 * -1 (the caller applies the default instead). */
static int parse_value(struct ld *ld, const config_setting_t *s,
                       const struct opt *o, void *obj, const char *where)
{
    int t = config_setting_type(s);
    int is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
    const char *str = t == CONFIG_TYPE_STRING ? config_setting_get_string(s)
                                              : NULL;
    char wsub[80];
    switch (o->type) {
    case T_INT:
    case T_I64: {
        if (!is_int)
            break;
        long long v = config_setting_get_int64(s);
        if (v < o->min || v > o->max) {
            problem(ld, s, "%s.%s = %lld is out of range (%lld..%lld)", where,
                    o->name, v, (long long)o->min, (long long)o->max);
            return -1;
        }
        if (o->type == T_INT)
            *FIELD(obj, o, int) = (int)v;
        else
            *FIELD(obj, o, int64_t) = (int64_t)v * o->scale;
        return 0;
    }
    case T_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            break;
        *FIELD(obj, o, int) = config_setting_get_bool(s) ? 1 : 0;
        return 0;
    case T_DBL: {
        if (!is_int && t != CONFIG_TYPE_FLOAT)
            break;
        double v = is_int ? (double)config_setting_get_int64(s)
                          : config_setting_get_float(s);
        if (!(v >= o->fmin && v <= o->fmax)) {
            problem(ld, s, "%s.%s = %g is out of range (%g..%g)", where,
                    o->name, v, o->fmin, o->fmax);
            return -1;
        }
        *FIELD(obj, o, double) = v;
        return 0;
    }
    case T_MODE: {
        long v;
        if (is_int) {
            int oct = octal_literal(ld->c, s, &v);
            if (oct < 0) {
                problem(ld, s, "%s.%s: a number with a leading zero is "
                               "octal and may only use digits 0-7",
                        where, o->name);
                return -1;
            }
            if (oct == 0)
                v = (long)config_setting_get_int64(s);
        } else if (str) {
            char *end;
            errno = 0;
            v = strtol(str, &end, 8);
            if (!*str || *end || errno || !isdigit((unsigned char)*str)) {
                problem(ld, s, "%s.%s = \"%s\" is not an octal mode like "
                               "\"0660\"", where, o->name, str);
                return -1;
            }
        } else {
            break;
        }
        if (v < o->min || v > o->max) {
            problem(ld, s, "%s.%s = %#lo is out of range (0..0777)", where,
                    o->name, (unsigned long)v);
            return -1;
        }
        *FIELD(obj, o, int) = (int)v;
        return 0;
    }
    case T_LEVEL: {
        if (!str)
            break;
        int lv = h2h_log_level_parse(str);
        if (lv < 0) {
            problem(ld, s, "%s.%s = \"%s\" is not a log level (debug, info, "
                           "warn, error)", where, o->name, str);
            return -1;
        }
        *FIELD(obj, o, int) = lv;
        return 0;
    }
    case T_RETRY:
        if (!config_setting_is_group(s))
            break;
        parse_section(ld, s, retry_opts, FIELD(obj, o, struct cfg_retry),
                      retry_inherit(ld, o), where_sub(wsub, where, o->name),
                      NULL);
        return 0;
    case T_SPECIAL:
        return 0;   /* the section's own code parses it */
    default:
        break;
    }
    if (!is_string_type(o->type)) {
        problem(ld, s, "%s.%s must be %s", where, o->name, type_word(o->type));
        return -1;
    }
    if (!str) {
        problem(ld, s, "%s.%s must be a string in double quotes", where,
                o->name);
        return -1;
    }
    size_t cap = o->type == T_PATH ? PATH_CAP : STR_CAP;
    if (strlen(str) > cap) {
        problem(ld, s, "%s.%s is longer than %zu characters", where, o->name,
                cap);
        return -1;
    }
    if (has_control(str)) {
        problem(ld, s, "%s.%s contains control characters", where, o->name);
        return -1;
    }
    char *val = NULL;
    switch (o->type) {
    case T_NAME:
        if (!name_ok(str)) {
            problem(ld, s, "%s.%s = \"%s\": names are 1 to %d letters, "
                           "digits, '_' or '-'", where, o->name, str,
                    CFG_NAME_MAX);
            return -1;
        }
        break;
    case T_ENUM: {
        const char *const *c;
        for (c = o->choices; *c; c++)
            if (strcmp(*c, str) == 0)
                break;
        if (!*c) {
            char list[256] = "";
            for (c = o->choices; *c; c++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list),
                         "%s%s", c == o->choices ? "" : ", ", *c);
            problem(ld, s, "%s.%s = \"%s\" is not one of: %s", where, o->name,
                    str, list);
            return -1;
        }
        break;
    }
    case T_TZ:
        if (!tz_ok(str)) {
            problem(ld, s, "%s.%s = \"%s\" is not a known time zone (like "
                           "\"Europe/Berlin\" or \"UTC\")", where, o->name,
                    str);
            return -1;
        }
        break;
    case T_CHARSET:
        if (!fmt_charset_known(str)) {
            problem(ld, s, "%s.%s = \"%s\" is not a charset this system "
                           "converts (like \"UTF-8\", \"ISO-8859-1\" or "
                           "\"GB18030\")", where, o->name, str);
            return -1;
        }
        break;
    case T_PATTERN: {
        const char *why = pattern_problem(str);
        if (why) {
            problem(ld, s, "%s.%s = \"%s\" %s", where, o->name, str, why);
            return -1;
        }
        break;
    }
    case T_PATH:
        if ((o->flags & OPT_EMPTY_NULL) && !*str) {
            *FIELD(obj, o, char *) = NULL;
            return 0;
        }
        if ((o->flags & OPT_DASH) && strcmp(str, "-") == 0)
            break;
        if (!*str) {
            problem(ld, s, "%s.%s may not be empty", where, o->name);
            return -1;
        }
        val = path_join_norm(o->rel == REL_CONFDIR ? ld->confdir
                                                   : ld->c->base_dir, str);
        if (!val) {
            ld->oom = 1;
            return -1;
        }
        *FIELD(obj, o, char *) = val;
        return 0;
    default:
        if (!*str && (o->flags & OPT_REQUIRED)) {
            problem(ld, s, "%s.%s may not be empty", where, o->name);
            return -1;
        }
        break;
    }
    *FIELD(obj, o, char *) = xstrdup(ld, str);
    return 0;
}

/* Walk grp (may be NULL: all defaults) against tbl, filling obj.  inherit,
 * when not NULL, supplies the defaults (a bank's retry inherits the
 * daemon's).  extra_key is one more member name allowed in grp (a bank's
 * adapter group). */
static void parse_section(struct ld *ld, const config_setting_t *grp,
                          const struct opt *tbl, void *obj,
                          const void *inherit, const char *where,
                          const char *extra_key)
{
    if (grp) {
        int n = config_setting_length(grp);
        for (int i = 0; i < n; i++) {
            const config_setting_t *m =
                config_setting_get_elem(grp, (unsigned)i);
            const char *name = config_setting_name(m);
            const struct opt *o;
            for (o = tbl; o->name; o++)
                if (strcmp(o->name, name) == 0)
                    break;
            if (!o->name && !(extra_key && strcmp(extra_key, name) == 0))
                unknown_key(ld, m, where, tbl);
        }
    }
    for (const struct opt *o = tbl; o->name; o++) {
        const config_setting_t *s =
            grp ? config_setting_get_member(grp, o->name) : NULL;
        if (s && parse_value(ld, s, o, obj, where) == 0)
            continue;
        if (!s && (o->flags & OPT_REQUIRED))
            problem(ld, grp, "%s needs \"%s\"", where, o->name);
        set_default(ld, o, obj, inherit);
    }
}

/* ---- sections --------------------------------------------------------- */

static void check_retry(struct ld *ld, const config_setting_t *grp,
                        const struct cfg_retry *r, const char *where)
{
    const config_setting_t *s = grp ? config_setting_get_member(grp, "retry")
                                    : NULL;
    if (!s)
        s = grp;
    if (r->initial_ms > r->max_ms)
        problem(ld, s, "%s.retry: initial (%lld ms) is above max (%lld ms)",
                where, (long long)r->initial_ms, (long long)r->max_ms);
    if (r->max_attempts == 0 && r->max_age_s == 0)
        problem(ld, s, "%s.retry: max_attempts and max_age are both 0; a "
                       "failing message must reach a person eventually",
                where);
}

static const config_setting_t *list_of_groups(struct ld *ld,
                                              const config_setting_t *root,
                                              const char *key, int *n)
{
    const config_setting_t *l = config_setting_get_member(root, key);
    *n = 0;
    if (!l)
        return NULL;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        problem(ld, l, "%s must be a list: %s = ( { ... }, { ... } );", key,
                key);
        return NULL;
    }
    *n = config_setting_length(l);
    if (*n > SECTION_CAP) {
        problem(ld, l, "%s: more than %d entries", key, SECTION_CAP);
        *n = SECTION_CAP;
    }
    return l;
}

/* "HH:MM", 00:00 to 23:59 -> minutes after midnight; -1 if malformed. */
static int parse_hhmm(const char *s)
{
    if (strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && !isdigit((unsigned char)s[i]))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

/* The member key of g, or g itself when the key is absent: where a
 * problem about key points. */
static const config_setting_t *at_member(const config_setting_t *g,
                                         const char *key)
{
    const config_setting_t *m = g ? config_setting_get_member(g, key) : NULL;
    return m ? m : g;
}

static void parse_jobs(struct ld *ld, const config_setting_t *sg,
                       struct cfg_schedule *sc, const char *where)
{
    const config_setting_t *l = config_setting_get_member(sg, "jobs");
    if (!l)
        return;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        problem(ld, l, "%s.jobs must be a list: jobs = ( { kind = "
                       "\"statements\"; cron = \"30 7 * * *\"; } );", where);
        return;
    }
    int n = config_setting_length(l);
    if (n > JOBS_CAP) {
        problem(ld, l, "%s.jobs: more than %d jobs", where, JOBS_CAP);
        n = JOBS_CAP;
    }
    if (n == 0)
        return;
    sc->jobs = calloc((size_t)n, sizeof(*sc->jobs));
    if (!sc->jobs) {
        ld->oom = 1;
        return;
    }
    const config_setting_t *seen[JOBS_CAP] = {0};
    for (int i = 0; i < n; i++) {
        const config_setting_t *jg = config_setting_get_elem(l, (unsigned)i);
        char jwhere[128];
        snprintf(jwhere, sizeof(jwhere), "%s.jobs[%d]", where, i + 1);
        if (!config_setting_is_group(jg)) {
            problem(ld, jg, "%s: each job is a group { kind = \"...\"; "
                            "cron = \"...\"; }", jwhere);
            continue;
        }
        struct cfg_job *j = &sc->jobs[sc->n_jobs];
        seen[sc->n_jobs++] = jg;
        parse_section(ld, jg, job_opts, j, NULL, jwhere, NULL);
        if (j->cron) {
            struct cron *cr = NULL;
            struct h2h_err e = {0};
            if (cron_parse(j->cron, &cr, &e) != 0)
                problem(ld, at_member(jg, "cron"), "%s.cron: %s", jwhere,
                        e.msg);
            cron_free(cr);
        }
        if (j->business_days && !sc->calendar)
            problem(ld, at_member(jg, "business_days"),
                    "%s.business_days needs a calendar (%s.calendar) to "
                    "tell business days", jwhere, where);
        /* The scheduler remembers each job by (bank, kind). */
        for (size_t k = 0; j->kind && k + 1 < sc->n_jobs; k++)
            if (sc->jobs[k].kind && strcmp(sc->jobs[k].kind, j->kind) == 0)
                problem(ld, at_member(jg, "kind"),
                        "%s: kind \"%s\" is already scheduled at line %d; "
                        "one job per kind (put several times into one cron "
                        "expression)", jwhere, j->kind,
                        (int)config_setting_source_line(seen[k]));
    }
}

static void parse_schedule(struct ld *ld, const config_setting_t *g,
                           struct cfg_bank *b, const char *bwhere)
{
    const config_setting_t *sg = config_setting_get_member(g, "schedule");
    if (!sg)
        return;
    char where[96];
    snprintf(where, sizeof(where), "%s.schedule", bwhere);
    if (!config_setting_is_group(sg)) {
        problem(ld, sg, "%s must be a group: schedule = { jobs = ( ... ); };",
                where);
        return;
    }
    struct cfg_schedule *sc = calloc(1, sizeof(*sc));
    if (!sc) {
        ld->oom = 1;
        return;
    }
    b->schedule = sc;
    parse_section(ld, sg, sched_opts, sc, NULL, where, NULL);
    if (!sc->timezone)
        sc->timezone = xstrdup(ld, b->timezone ? b->timezone : "UTC");
    if (sc->timezone) {
        struct tz *z = NULL;
        struct h2h_err e = {0};
        if (tz_load(sc->timezone, &z, &e) != 0)
            problem(ld, at_member(sg, "timezone"), "%s.timezone = \"%s\": "
                    "%s (an IANA name like \"Asia/Shanghai\", or an offset "
                    "like \"+08:00\")", where, sc->timezone, e.msg);
        tz_free(z);
    }
    if (sc->calendar) {
        struct cal *cal = NULL;
        struct h2h_err e = {0};
        if (cal_load(sc->calendar, &cal, &e) != 0)
            problem(ld, at_member(sg, "calendar"), "%s.calendar: %s", where,
                    e.msg);
        cal_free(cal);
    }
    sc->cutoff_min = -1;
    if (sc->cutoff && !*sc->cutoff) {
        free(sc->cutoff);
        sc->cutoff = NULL;
    }
    if (sc->cutoff && (sc->cutoff_min = parse_hhmm(sc->cutoff)) < 0)
        problem(ld, at_member(sg, "cutoff"), "%s.cutoff = \"%s\" is not a "
                "time of day \"HH:MM\" (00:00 to 23:59, bank time)", where,
                sc->cutoff);
    parse_jobs(ld, sg, sc, where);
}

static void report_cb(void *ctx, const config_setting_t *s, const char *msg)
{
    struct ld *ld = ctx;
    problem(ld, s, "%s: %s", ld->cur_bank, msg);
}

static void parse_banks(struct ld *ld, const config_setting_t *root)
{
    struct cfg *c = ld->c;
    int n;
    const config_setting_t *l = list_of_groups(ld, root, "banks", &n);
    if (n == 0)
        return;
    c->banks = calloc((size_t)n, sizeof(*c->banks));
    if (!c->banks) {
        ld->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(g)) {
            problem(ld, g, "banks: each bank is a group { name = ...; }");
            continue;
        }
        struct cfg_bank *b = &c->banks[c->n_banks++];
        b->setting = g;
        const char *adapter = NULL;
        config_setting_lookup_string(g, "adapter", &adapter);
        char where[64];
        const char *nm = NULL;
        config_setting_lookup_string(g, "name", &nm);
        if (nm && name_ok(nm))
            snprintf(where, sizeof(where), "bank %s", nm);
        else
            snprintf(where, sizeof(where), "bank #%d", i + 1);
        /* The adapter's own group carries the adapter's name. */
        parse_section(ld, g, bank_opts, b, NULL, where, adapter);
        if (b->timezone)
            (void)tz_load(b->timezone, &b->zone, NULL); /* tz_ok said why */
        check_retry(ld, g, &b->retry, where);
        parse_schedule(ld, g, b, where);
        for (size_t j = 0; b->name && j + 1 < c->n_banks; j++)
            if (c->banks[j].name && strcmp(c->banks[j].name, b->name) == 0)
                problem(ld, config_setting_get_member(g, "name"),
                        "bank name \"%s\" is already used at line %d",
                        b->name,
                        (int)config_setting_source_line(c->banks[j].setting));
        if (!b->adapter)
            continue;
        const struct h2h_adapter_ops *ops = h2h_adapter_find(b->adapter);
        if (!ops) {
            problem(ld, config_setting_get_member(g, "adapter"),
                    "%s: unknown adapter \"%s\"", where, b->adapter);
            continue;
        }
        if (ops->check_config) {
            ld->cur_bank = where;
            ops->check_config(g, ld->c->base_dir, report_cb, ld);
            ld->cur_bank = NULL;
        }
    }
}

static int account_ok(const char *s)
{
    size_t n = strlen(s), alnum = 0;
    if (n > ACCOUNT_CAP)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (isalnum((unsigned char)s[i]))
            alnum++;
        else if (s[i] != ' ')
            return 0;
    }
    return alnum > 0;
}

/* Accounts compare ignoring spaces and case: "DE89 3704 ..." == "de893704". */
static int account_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return 0;
        a++, b++;
    }
}

static void parse_routes(struct ld *ld, const config_setting_t *g,
                         struct cfg_channel *ch, const char *where)
{
    const config_setting_t *l = config_setting_get_member(g, "routes");
    if (!l)
        return;
    if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
        problem(ld, l, "%s.routes must be a list: routes = ( { account = "
                       "\"...\"; bank = \"...\"; } );", where);
        return;
    }
    int n = config_setting_length(l);
    if (n > ROUTES_CAP) {
        problem(ld, l, "%s.routes: more than %d routes", where, ROUTES_CAP);
        n = ROUTES_CAP;
    }
    if (n == 0)
        return;
    ch->routes = calloc((size_t)n, sizeof(*ch->routes));
    if (!ch->routes) {
        ld->oom = 1;
        return;
    }
    char rwhere[80];
    snprintf(rwhere, sizeof(rwhere), "%s.routes", where);
    for (int i = 0; i < n; i++) {
        const config_setting_t *r = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(r)) {
            problem(ld, r, "%s: each route is a group { account = \"...\"; "
                           "bank = \"...\"; }", rwhere);
            continue;
        }
        struct cfg_route *rt = &ch->routes[ch->n_routes++];
        parse_section(ld, r, route_opts, rt, NULL, rwhere, NULL);
        if (!rt->account)
            continue;
        const config_setting_t *as = config_setting_get_member(r, "account");
        if (!account_ok(rt->account)) {
            problem(ld, as, "%s: account \"%s\" must be letters and digits "
                            "(spaces allowed), at most %d", rwhere,
                    rt->account, ACCOUNT_CAP);
            continue;
        }
        for (size_t j = 0; j + 1 < ch->n_routes; j++)
            if (ch->routes[j].account &&
                account_eq(ch->routes[j].account, rt->account))
                problem(ld, as, "%s: account \"%s\" is routed twice", rwhere,
                        rt->account);
    }
}

static void parse_reconcile(struct ld *ld, const config_setting_t *g,
                            struct cfg_channel *ch, const char *where)
{
    const config_setting_t *rg = config_setting_get_member(g, "reconcile");
    char rwhere[96];
    snprintf(rwhere, sizeof(rwhere), "%s.reconcile", where);
    if (rg && !config_setting_is_group(rg)) {
        problem(ld, rg, "%s must be a group: reconcile = { dir = \"...\"; };",
                rwhere);
        rg = NULL;
    }
    parse_section(ld, rg, recon_opts, &ch->reconcile, NULL, rwhere, NULL);
    if (!ch->reconcile.dir && ch->out_dir &&
        asprintf(&ch->reconcile.dir, "%s/reconcile", ch->out_dir) < 0) {
        ch->reconcile.dir = NULL;
        ld->oom = 1;
    }
}

/* A bank that re-renders payments needs them parsed, and a bank that sends
 * files as received cannot take a CSV or canonical file: either would
 * only fail at send time, message by message. */
static void check_chan_bank(struct ld *ld, const config_setting_t *g,
                            const struct cfg_channel *ch, const char *bank,
                            const char *where)
{
    const struct cfg_bank *b = bank ? cfg_bank_find(ld->c, bank) : NULL;
    if (!b || !b->payment_format || !ch->input_format)
        return;
    int as_received = strcmp(b->payment_format, "as-received") == 0;
    int passthrough = strcmp(ch->input_format, "passthrough") == 0;
    const config_setting_t *at = config_setting_get_member(g, "input_format");
    if (!at)
        at = g;
    if (!as_received && passthrough)
        problem(ld, at,
                "%s: bank %s renders payments as %s, which needs them parsed; "
                "set input_format to \"auto\", \"pain.001\", \"csv\" or "
                "\"canonical\"",
                where, b->name, b->payment_format);
    else if (as_received && !passthrough &&
             strcmp(ch->input_format, "pain.001") != 0 &&
             strcmp(ch->input_format, "auto") != 0)
        problem(ld, at,
                "%s: bank %s takes files as received, but this channel takes "
                "%s; set the bank's payment_format (e.g. "
                "\"pain.001.001.09\")",
                where, b->name, ch->input_format);
}

static void parse_channels(struct ld *ld, const config_setting_t *root,
                           const config_setting_t ***gs)
{
    struct cfg *c = ld->c;
    int n;
    const config_setting_t *l = list_of_groups(ld, root, "channels", &n);
    if (n == 0)
        return;
    c->channels = calloc((size_t)n, sizeof(*c->channels));
    *gs = calloc((size_t)n, sizeof(**gs));
    if (!c->channels || !*gs) {
        ld->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        if (!config_setting_is_group(g)) {
            problem(ld, g, "channels: each channel is a group { name = ...; }");
            continue;
        }
        (*gs)[c->n_channels] = g;
        struct cfg_channel *ch = &c->channels[c->n_channels++];
        const char *nm = NULL;
        config_setting_lookup_string(g, "name", &nm);
        int good = nm && name_ok(nm);
        char where[64];
        if (good)
            snprintf(where, sizeof(where), "channel %s", nm);
        else
            snprintf(where, sizeof(where), "channel #%d", i + 1);
        ld->chan_name = good ? nm : NULL;
        parse_section(ld, g, chan_opts, ch, NULL, where, NULL);
        ld->chan_name = NULL;
        parse_routes(ld, g, ch, where);
        parse_reconcile(ld, g, ch, where);
        for (size_t j = 0; ch->name && j + 1 < c->n_channels; j++)
            if (c->channels[j].name &&
                strcmp(c->channels[j].name, ch->name) == 0)
                problem(ld, config_setting_get_member(g, "name"),
                        "channel name \"%s\" is already used at line %d",
                        ch->name, (int)config_setting_source_line((*gs)[j]));
        if (ch->bank && !cfg_bank_find(c, ch->bank))
            problem(ld, config_setting_get_member(g, "bank"),
                    "%s: no bank named \"%s\"", where, ch->bank);
        check_chan_bank(ld, g, ch, ch->bank, where);
        for (size_t k = 0; k < ch->n_routes; k++) {
            const struct cfg_route *rt = &ch->routes[k];
            check_chan_bank(ld, g, ch, rt->bank, where);
            if (rt->bank && !cfg_bank_find(c, rt->bank)) {
                const config_setting_t *rl =
                    config_setting_get_member(g, "routes");
                const config_setting_t *rs =
                    config_setting_get_elem(rl, (unsigned)k);
                problem(ld, config_setting_get_member(rs, "bank"),
                        "%s.routes: no bank named \"%s\"", where, rt->bank);
            }
        }
    }
}

/* A folder used twice would mix one channel's files into another's (or
 * feed rejected files, reports or expected receipts back into pickup). */
#define CHAN_FOLDERS 6
static void chan_folders(const struct cfg_channel *ch,
                         const char *out[CHAN_FOLDERS])
{
    out[0] = ch->drop_dir;
    out[1] = ch->out_dir;
    out[2] = ch->rejected_dir;
    out[3] = ch->archive_dir;
    out[4] = ch->reconcile.dir;
    out[5] = ch->reconcile.expected_dir;
}

static void check_folders(struct ld *ld, const config_setting_t **gs)
{
    static const char *const keys[CHAN_FOLDERS] = {
        "drop", "out", "rejected", "archive", "reconcile.dir",
        "reconcile.expected_dir"};
    struct cfg *c = ld->c;
    for (size_t i = 0; i < c->n_channels; i++) {
        const struct cfg_channel *a = &c->channels[i];
        const char *pa[CHAN_FOLDERS];
        chan_folders(a, pa);
        for (size_t ka = 0; ka < CHAN_FOLDERS; ka++) {
            if (!pa[ka])
                continue;
            int dup = 0;
            for (size_t j = 0; j <= i && !dup; j++) {
                const struct cfg_channel *b = &c->channels[j];
                const char *pb[CHAN_FOLDERS];
                chan_folders(b, pb);
                for (size_t kb = 0; kb < (j == i ? ka : CHAN_FOLDERS) && !dup;
                     kb++) {
                    if (!pb[kb] || strcmp(pa[ka], pb[kb]) != 0)
                        continue;
                    const config_setting_t *s =
                        config_setting_lookup((config_setting_t *)gs[i],
                                              keys[ka]);
                    problem(ld, s ? s : gs[i],
                            "channel %s: %s folder %s is also channel %s's "
                            "%s folder", a->name ? a->name : "?", keys[ka],
                            pa[ka], b->name ? b->name : "?", keys[kb]);
                    dup = 1;
                }
            }
        }
    }
}

static void check_daemon(struct ld *ld, const config_setting_t *dg)
{
    struct cfg *c = ld->c;
    check_retry(ld, dg, &c->retry, "daemon");
    struct sockaddr_un sun;
    if (c->control_socket &&
        strlen(c->control_socket) >= sizeof(sun.sun_path)) {
        const config_setting_t *s =
            dg ? config_setting_get_member(dg, "control_socket") : NULL;
        problem(ld, s ? s : dg,
                "daemon.control_socket: %s is longer than a unix socket path "
                "may be (%zu)", c->control_socket, sizeof(sun.sun_path) - 1);
    }
}

/* ---- load ------------------------------------------------------------- */

static void free_section(const struct opt *tbl, void *obj)
{
    for (const struct opt *o = tbl; o->name; o++)
        if (is_string_type(o->type))
            free(*FIELD(obj, o, char *));
}

void cfg_free(struct cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_banks; i++) {
        struct cfg_schedule *sc = c->banks[i].schedule;
        if (sc) {
            for (size_t k = 0; k < sc->n_jobs; k++)
                free_section(job_opts, &sc->jobs[k]);
            free(sc->jobs);
            free_section(sched_opts, sc);
            free(sc);
        }
        tz_free(c->banks[i].zone);
        free_section(bank_opts, &c->banks[i]);
    }
    free(c->banks);
    for (size_t i = 0; i < c->n_channels; i++) {
        struct cfg_channel *ch = &c->channels[i];
        for (size_t k = 0; k < ch->n_routes; k++)
            free_section(route_opts, &ch->routes[k]);
        free(ch->routes);
        free_section(recon_opts, &ch->reconcile);
        free_section(chan_opts, ch);
    }
    free(c->channels);
    free_section(daemon_opts, c);
    free(c->path);
    free(c->priv_confdir);
    if (c->priv_lc) {
        config_destroy(c->priv_lc);
        free(c->priv_lc);
    }
    free(c);
}

int cfg_load(const char *path, struct cfg **out, struct cfg_problems *probs)
{
    struct ld ld = {.probs = probs, .base = probs ? probs->n : 0};
    const config_setting_t **chan_gs = NULL;
    int rc = H2H_ECONFIG;
    *out = NULL;
    if (!path || !*path)
        path = ".";   /* reported as unreadable below */
    struct cfg *c = calloc(1, sizeof(*c));
    if (!c || !(c->priv_lc = calloc(1, sizeof(*c->priv_lc)))) {
        cfg_free(c);
        return H2H_ENOMEM;
    }
    config_init(c->priv_lc);
    ld.c = c;
    c->path = abs_path(path);
    if (!c->path) {
        c->path = strdup(path);
        if (!c->path) {
            cfg_free(c);
            return H2H_ENOMEM;
        }
        problem(&ld, NULL, "cannot make the path absolute: %s",
                strerror(errno));
        goto out;
    }
    ld.confdir = c->priv_confdir = dir_of(c->path);
    if (!ld.confdir) {
        rc = H2H_ENOMEM;
        goto out;
    }
    /* @include "x" is relative to the including file's folder. */
    config_set_include_dir(c->priv_lc, ld.confdir);

    FILE *f = fopen(c->path, "r");
    if (!f) {
        problem(&ld, NULL, "cannot read: %s", strerror(errno));
        goto out;
    }
    fclose(f);
    if (!config_read_file(c->priv_lc, c->path)) {
        const char *file = config_error_file(c->priv_lc);
        int line = config_error_line(c->priv_lc);
        const char *text = config_error_text(c->priv_lc);
        if (config_error_type(c->priv_lc) == CONFIG_ERR_FILE_IO)
            problem(&ld, NULL, "cannot read: %s", text ? text : "i/o error");
        else
            problem_at(&ld, file ? file : c->path, line, "%s",
                       text ? text : "syntax error");
        goto out;
    }

    const config_setting_t *root = config_root_setting(c->priv_lc);
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
        const char *const *k;
        for (k = top_keys; *k; k++)
            if (strcmp(*k, config_setting_name(m)) == 0)
                break;
        if (!*k)
            problem(&ld, m, "unknown section \"%s\" (known: daemon, banks, "
                            "channels)", config_setting_name(m));
    }
    const config_setting_t *dg = config_setting_get_member(root, "daemon");
    if (dg && !config_setting_is_group(dg)) {
        problem(&ld, dg, "daemon must be a group: daemon = { ... };");
        dg = NULL;
    }
    parse_section(&ld, dg, daemon_opts, c, NULL, "daemon", NULL);
    check_daemon(&ld, dg);
    parse_banks(&ld, root);
    parse_channels(&ld, root, &chan_gs);
    if (chan_gs)
        check_folders(&ld, chan_gs);
    if (ld.oom)
        rc = H2H_ENOMEM;
    else if (ld.count == 0)
        rc = 0;
out:
    probs_sort(&ld);
    ld_release(&ld);
    free(chan_gs);
    if (rc == 0)
        *out = c;
    else
        cfg_free(c);
    return rc;
}

/* ---- reload ----------------------------------------------------------- */

int cfg_reload_check(const struct cfg *old, const struct cfg *new,
                     struct cfg_problems *probs)
{
    struct ld ld = {.c = (struct cfg *)new, .probs = probs,
                    .base = probs ? probs->n : 0};
    const config_setting_t *dg =
        new->priv_lc ? config_lookup(new->priv_lc, "daemon") : NULL;
    for (const struct opt *o = daemon_opts; o->name; o++) {
        if (!(o->flags & OPT_RESTART))
            continue;
        char was[64], now[64];
        const char *a, *b;
        if (is_string_type(o->type)) {
            a = *CFIELD(old, o, char *const);
            b = *CFIELD(new, o, char *const);
            if ((!a && !b) || (a && b && strcmp(a, b) == 0))
                continue;
        } else if (o->type == T_MODE || o->type == T_INT) {
            int x = *CFIELD(old, o, int), y = *CFIELD(new, o, int);
            if (x == y)
                continue;
            snprintf(was, sizeof(was), o->type == T_MODE ? "%#o" : "%d", x);
            snprintf(now, sizeof(now), o->type == T_MODE ? "%#o" : "%d", y);
            a = was, b = now;
        } else {
            H2H_BUG("reload check: option %s has no comparison", o->name);
        }
        const config_setting_t *s =
            dg ? config_setting_get_member(dg, o->name) : NULL;
        problem(&ld, s, "daemon.%s cannot change without a restart (running: "
                        "%s, new: %s)", o->name, a ? a : "none",
                b ? b : "none");
    }
    ld_release(&ld);
    return ld.count ? H2H_ECONFIG : 0;
}

/* ---- lookups ---------------------------------------------------------- */

const struct cfg_bank *cfg_bank_find(const struct cfg *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_banks; i++)
        if (c->banks[i].name && strcmp(c->banks[i].name, name) == 0)
            return &c->banks[i];
    return NULL;
}

const struct cfg_channel *cfg_channel_find(const struct cfg *c,
                                           const char *name)
{
    for (size_t i = 0; c && name && i < c->n_channels; i++)
        if (c->channels[i].name && strcmp(c->channels[i].name, name) == 0)
            return &c->channels[i];
    return NULL;
}

const struct cfg_channel *cfg_home_channel(const struct cfg *c,
                                           const char *bank)
{
    for (size_t i = 0; i < c->n_channels; i++)
        if (c->channels[i].bank && strcmp(c->channels[i].bank, bank) == 0)
            return &c->channels[i];
    return c->n_channels ? &c->channels[0] : NULL;
}

const char *cfg_route(const struct cfg_channel *ch, const char *debtor_account)
{
    for (size_t i = 0; debtor_account && i < ch->n_routes; i++)
        if (ch->routes[i].account &&
            account_eq(ch->routes[i].account, debtor_account))
            return ch->routes[i].bank;
    return ch->bank;
}

/* ---- demo ------------------------------------------------------------- */

static const char demo_conf[] =
    "# h2hd demo set-up, written by `h2hd --demo DIR`.\n"
    "#\n"
    "# Treasury side: drop payment files into spool/erp/in; results appear\n"
    "# in spool/erp/out, refused files in spool/erp/rejected.\n"
    "# Bank side: the \"bank\" is two folders.  What h2hd sends lands in\n"
    "# bank/inbox; files put into bank/outbox are fetched as if the bank\n"
    "# had sent them.  Every option is explained in h2hd.conf.sample.\n"
    "# Relative paths are relative to this file's folder.\n"
    "\n"
    "daemon = {\n"
    "    log_file = \"state/h2hd.log\";\n"
    "    log_level = \"info\";\n"
    "    rescan_interval = 1000;\n"
    "    shutdown_timeout = 10;\n"
    "    retry = { initial = 2000; max = 60000; max_attempts = 5; };\n"
    "};\n"
    "\n"
    "banks = (\n"
    "    {\n"
    "        name = \"demo-bank\";\n"
    "        adapter = \"dirdrop\";\n"
    "        timezone = \"UTC\";\n"
    "        poll_interval = 2000;\n"
    "        payment_format = \"pain.001.001.09\";\n"
    "        dirdrop = {\n"
    "            outbox = \"bank/inbox\";\n"
    "            inbox = \"bank/outbox\";\n"
    "        };\n"
    "    }\n"
    ");\n"
    "\n"
    "channels = (\n"
    "    {\n"
    "        name = \"erp\";\n"
    "        bank = \"demo-bank\";\n"
    "        input_format = \"auto\";\n"
    "        output_format = \"mt940\";\n"
    "        stability = 500;\n"
    "    }\n"
    ");\n";

int cfg_demo_write(const char *dir, struct h2h_err *err)
{
    static const char *const sub[] = {"bank/inbox", "bank/outbox", "state"};
    char p[4096];
    int rc = fsu_mkdirs(dir, 0750, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        if ((rc = fsu_join(p, sizeof(p), dir, sub[i])) < 0)
            return h2h_err_set(err, rc, "demo folder name too long: %s", dir);
        if ((rc = fsu_mkdirs(p, 0750, err)) < 0)
            return rc;
    }
    rc = fsu_write_file(dir, "h2hd.conf", demo_conf, sizeof(demo_conf) - 1, 0,
                        err);
    if (rc == -EEXIST) {
        h2h_err_clear(err);
        return 0;   /* keep the operator's edits */
    }
    return rc;
}
