/*
 * iso20022_sftp_config.c - the bank's "iso20022_sftp" settings; see
 * iso20022_sftp.h for what each means and etc/h2hd.conf.sample for the
 * operator's view.
 *
 * One pass over the subtree serves both check_config (every problem
 * reported, file:line style, nothing kept) and create (the settings of a
 * subtree that passed are copied into the instance).  Only syntax and
 * ranges are checked: files and folders are looked at when used, so that
 * --check-config works on another machine.
 */
#include "iso20022_sftp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define GROUP "iso20022_sftp"

/* One pass over the settings: check_config reports every problem; create
 * fills x (when not NULL) from a subtree that passed. */
struct pctx {
    isx_report_fn report;
    void *ctx;
    int n;
    int oom;
    const char *base_dir;
    struct isx *x;
};

static void problem(struct pctx *pc, const config_setting_t *s, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));
static void problem(struct pctx *pc, const config_setting_t *s, const char *fmt,
                    ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pc->report(pc->ctx, s, msg);
    pc->n++;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* A string setting of g; NULL when absent (reported when required) or
 * bad (reported).  where: "iso20022_sftp." or a list element's label. */
static const char *str_opt(struct pctx *pc, const config_setting_t *g,
                           const char *where, const char *name, int required,
                           size_t max, const char *what)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (!m) {
        if (required)
            problem(pc, g, "%s%s (%s) is required", where, name, what);
        return NULL;
    }
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        problem(pc, m, "%s%s must be a string (%s)", where, name, what);
        return NULL;
    }
    const char *s = config_setting_get_string(m);
    if (!*s) {
        problem(pc, m, "%s%s must not be empty (%s)", where, name, what);
        return NULL;
    }
    if (strlen(s) > max) {
        problem(pc, m, "%s%s is longer than %zu bytes", where, name, max);
        return NULL;
    }
    if (has_ctl(s)) {
        problem(pc, m, "%s%s contains a control character", where, name);
        return NULL;
    }
    return s;
}

static long long int_opt(struct pctx *pc, const config_setting_t *g,
                         const char *name, long long def, long long min,
                         long long max, const char *unit)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    if (!m)
        return def;
    int t = config_setting_type(m);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        problem(pc, m, GROUP ".%s must be a whole number of %s", name, unit);
        return def;
    }
    long long v = config_setting_get_int64(m);
    if (v < min || v > max) {
        problem(pc, m, GROUP ".%s must be between %lld and %lld %s", name, min,
                max, unit);
        return def;
    }
    return v;
}

/* Unknown members of g are errors: a typo never passes silently. */
static void check_known(struct pctx *pc, const config_setting_t *g,
                        const char *where, const char *const *known)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(m);
        int ok = 0;
        for (const char *const *k = known; nm && *k; k++)
            if (strcmp(nm, *k) == 0)
                ok = 1;
        if (!ok)
            problem(pc, m, "unknown %s setting \"%s\"", where, nm ? nm : "?");
    }
}

static char *xdup(struct pctx *pc, const char *s)
{
    char *d = strdup(s);
    if (!d)
        pc->oom = 1;
    return d;
}

/* Local paths are relative to the daemon's base_dir. */
static char *local_path(struct pctx *pc, const char *p)
{
    if (p[0] == '/' || !pc->base_dir || !*pc->base_dir)
        return xdup(pc, p);
    char buf[ISX_PATH_MAX + 1];
    if (isx_join(buf, sizeof(buf), pc->base_dir, p) != 0) {
        pc->oom = 1;
        return NULL;
    }
    return xdup(pc, buf);
}

static const char *const known_keys[] = {
    "host",
    "port",
    "user",
    "key",
    "passphrase_file",
    "password_file",
    "known_hosts",
    "upload_dir",
    "downloads",
    "after_fetch",
    "move_to",
    "archive_dirs",
    "consumed_by_bank",
    "connect_timeout",
    "op_timeout",
    "keepalive",
    "idle_timeout",
    "max_download_mb",
    NULL,
};
static const char *const dl_keys[] = {"dir", "pattern", NULL};
static const char *const arch_keys[] = {"dir", "match", NULL};

static int is_list(const config_setting_t *s)
{
    return config_setting_is_list(s) || config_setting_is_array(s);
}

static void parse_downloads(struct pctx *pc, const config_setting_t *g)
{
    const config_setting_t *l = config_setting_get_member(g, "downloads");
    if (!l)
        return;
    if (!is_list(l)) {
        problem(pc, l,
                GROUP ".downloads must be a list of { dir = \"...\"; "
                      "pattern = \"*\"; } groups");
        return;
    }
    int n = config_setting_length(l);
    struct isx *x = pc->x;
    if (x && n > 0 && !(x->dls = calloc((size_t)n, sizeof(*x->dls)))) {
        pc->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const char *dir = NULL, *pat = "*";
        char where[64];
        snprintf(where, sizeof(where), GROUP ".downloads[%d].", i);
        if (config_setting_type(e) == CONFIG_TYPE_STRING) {
            dir = config_setting_get_string(e);
            if (!*dir || has_ctl(dir) || strlen(dir) > ISX_PATH_MAX) {
                problem(pc, e, GROUP ".downloads[%d] is not a usable folder",
                        i);
                dir = NULL;
            }
        } else if (config_setting_is_group(e)) {
            check_known(pc, e, "downloads", dl_keys);
            dir = str_opt(pc, e, where, "dir", 1, ISX_PATH_MAX,
                          "the remote folder to fetch from");
            const char *p = str_opt(pc, e, where, "pattern", 0, NAMES_DROP_MAX,
                                    "a file name glob");
            if (p)
                pat = p;
        } else {
            problem(pc, e,
                    GROUP ".downloads[%d] must be a group { dir = \"...\"; "
                          "pattern = \"*\"; }",
                    i);
        }
        if (x && dir) {
            struct isx_download *d = &x->dls[x->n_dls++];
            d->dir = xdup(pc, dir);
            d->pattern = xdup(pc, pat);
        }
    }
}

/* "{name}" must appear in an archive match: without it the pattern would
 * take any file for ours. */
static void parse_archives(struct pctx *pc, const config_setting_t *g)
{
    const config_setting_t *l = config_setting_get_member(g, "archive_dirs");
    if (!l)
        return;
    if (!is_list(l)) {
        problem(pc, l,
                GROUP ".archive_dirs must be a list of folders (or of "
                      "{ dir = \"...\"; match = \"*_{name}\"; } groups)");
        return;
    }
    int n = config_setting_length(l);
    struct isx *x = pc->x;
    if (x && n > 0 && !(x->arch = calloc((size_t)n, sizeof(*x->arch)))) {
        pc->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const char *dir = NULL, *match = NULL;
        char where[64];
        snprintf(where, sizeof(where), GROUP ".archive_dirs[%d].", i);
        if (config_setting_type(e) == CONFIG_TYPE_STRING) {
            dir = config_setting_get_string(e);
            if (!*dir || has_ctl(dir) || strlen(dir) > ISX_PATH_MAX) {
                problem(pc, e, GROUP ".archive_dirs[%d] is not a usable folder",
                        i);
                dir = NULL;
            }
        } else if (config_setting_is_group(e)) {
            check_known(pc, e, "archive_dirs", arch_keys);
            dir = str_opt(pc, e, where, "dir", 1, ISX_PATH_MAX,
                          "the bank's archive folder");
            match = str_opt(pc, e, where, "match", 0, NAMES_DROP_MAX,
                            "a glob with {name}");
            if (match && !strstr(match, "{name}")) {
                problem(pc, config_setting_get_member(e, "match"),
                        "%smatch must contain {name} (the uploaded file's "
                        "name), e.g. \"*_{name}\"",
                        where);
                match = NULL;
            }
            if (match && strcmp(match, "{name}") == 0)
                match = NULL; /* the same name: a plain stat will do */
        } else {
            problem(pc, e, GROUP ".archive_dirs[%d] must be a folder name", i);
        }
        if (x && dir) {
            struct isx_archive *a = &x->arch[x->n_arch++];
            a->dir = xdup(pc, dir);
            a->match = match ? xdup(pc, match) : NULL;
        }
    }
}

static void parse(const config_setting_t *bank, struct pctx *pc)
{
    const config_setting_t *g = config_setting_get_member(bank, GROUP);
    struct isx *x = pc->x;
    if (!g || !config_setting_is_group(g)) {
        problem(pc, g ? g : bank,
                "adapter " GROUP " needs an \"" GROUP "\" group with at least "
                "host, user, key or password_file, known_hosts and "
                "upload_dir");
        return;
    }
    check_known(pc, g, GROUP, known_keys);
    const char *w = GROUP ".";
    const char *host = str_opt(pc, g, w, "host", 1, 255, "the bank's server");
    const char *user = str_opt(pc, g, w, "user", 1, 255, "our login");
    const char *key =
        str_opt(pc, g, w, "key", 0, ISX_PATH_MAX, "a private key file");
    const char *pass = str_opt(pc, g, w, "passphrase_file", 0, ISX_PATH_MAX,
                               "a file holding the key's passphrase");
    const char *pw = str_opt(pc, g, w, "password_file", 0, ISX_PATH_MAX,
                             "a file holding the password");
    const char *kh = str_opt(pc, g, w, "known_hosts", 1, ISX_PATH_MAX,
                             "the pinned host key, OpenSSH format");
    const char *up = str_opt(pc, g, w, "upload_dir", 1, ISX_PATH_MAX,
                             "the remote folder payments go to");
    if (!config_setting_get_member(g, "key") &&
        !config_setting_get_member(g, "password_file"))
        problem(pc, g,
                GROUP ".key (a private key file) or " GROUP
                      ".password_file is required");
    if (config_setting_get_member(g, "passphrase_file") &&
        !config_setting_get_member(g, "key"))
        problem(pc, config_setting_get_member(g, "passphrase_file"),
                GROUP ".passphrase_file is the passphrase of a key: set " GROUP
                      ".key too");
    long long port = int_opt(pc, g, "port", 22, 1, 65535, "(a TCP port)");
    long long cto = int_opt(pc, g, "connect_timeout", 10, 1, 600, "seconds");
    long long oto = int_opt(pc, g, "op_timeout", 30, 1, 3600, "seconds");
    long long ka = int_opt(pc, g, "keepalive", 30, 1, 3600, "seconds");
    long long idle = int_opt(pc, g, "idle_timeout", 60, 1, 86400, "seconds");
    long long maxmb =
        int_opt(pc, g, "max_download_mb", 1024, 1, 1024 * 1024, "MiB");

    enum isx_after after = ISX_DELETE;
    const char *af = str_opt(pc, g, w, "after_fetch", 0, 16,
                             "\"delete\", \"keep\" or \"move\"");
    if (af) {
        if (strcmp(af, "delete") == 0)
            after = ISX_DELETE;
        else if (strcmp(af, "keep") == 0)
            after = ISX_KEEP;
        else if (strcmp(af, "move") == 0)
            after = ISX_MOVE;
        else
            problem(pc, config_setting_get_member(g, "after_fetch"),
                    GROUP ".after_fetch must be \"delete\", \"keep\" or "
                          "\"move\"");
    }
    const char *mv = str_opt(pc, g, w, "move_to", 0, ISX_PATH_MAX,
                             "the remote folder fetched files move to");
    if (after == ISX_MOVE && !config_setting_get_member(g, "move_to"))
        problem(pc, config_setting_get_member(g, "after_fetch"),
                GROUP ".after_fetch = \"move\" needs " GROUP ".move_to");
    int consumed = 0;
    const config_setting_t *cb =
        config_setting_get_member(g, "consumed_by_bank");
    if (cb && config_setting_type(cb) != CONFIG_TYPE_BOOL)
        problem(pc, cb, GROUP ".consumed_by_bank must be true or false");
    else if (cb)
        consumed = config_setting_get_bool(cb);
    parse_downloads(pc, g);
    parse_archives(pc, g);

    if (!x || pc->n)
        return;
    x->host = xdup(pc, host);
    x->user = xdup(pc, user);
    x->key = key ? local_path(pc, key) : NULL;
    x->passphrase_file = pass ? local_path(pc, pass) : NULL;
    x->password_file = pw ? local_path(pc, pw) : NULL;
    x->known_hosts = local_path(pc, kh);
    x->upload_dir = xdup(pc, up);
    x->move_to = mv ? xdup(pc, mv) : NULL;
    x->after = after;
    x->consumed_by_bank = consumed;
    x->idle_ms = (unsigned)idle * 1000u;
    x->so.port = (unsigned)port;
    x->so.connect_timeout_ms = (unsigned)cto * 1000u;
    /* one bound for every phase of setting a session up */
    x->so.handshake_timeout_ms = (unsigned)cto * 1000u;
    x->so.auth_timeout_ms = (unsigned)cto * 1000u;
    x->so.op_timeout_ms = (unsigned)oto * 1000u;
    x->so.keepalive_s = (unsigned)ka;
    x->so.max_download = (uint64_t)maxmb * 1024 * 1024;
}

int isx_check_config(const config_setting_t *bank, isx_report_fn report,
                     void *ctx)
{
    struct pctx pc = {.report = report, .ctx = ctx};
    parse(bank, &pc);
    return pc.n;
}

struct first_problem {
    int n;
    char msg[600];
};

static void first_report(void *ctx, const config_setting_t *s, const char *msg)
{
    struct first_problem *f = ctx;
    if (f->n++ == 0)
        snprintf(f->msg, sizeof(f->msg), "line %d: %.500s",
                 s ? config_setting_source_line(s) : 0, msg);
}

int isx_settings(const config_setting_t *bank, const char *base_dir,
                 struct isx *x, struct h2h_err *err)
{
    struct first_problem fp = {0};
    struct pctx pc = {
        .report = first_report, .ctx = &fp, .base_dir = base_dir, .x = x};
    parse(bank, &pc);
    if (pc.n)
        return h2h_err_set(err, H2H_ECONFIG, "%s%s", fp.msg,
                           pc.n > 1 ? " (and more)" : "");
    if (pc.oom)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}
