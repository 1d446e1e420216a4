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

#include "settings.h"

#define GROUP "iso20022_sftp"

/* One pass over the settings: check_config reports every problem; create
 * fills x (when not NULL) from a subtree that passed. */
struct pctx {
    struct aset a; /* the pass: problems, base_dir */
    struct isx *x;
};

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
        aset_problem(&pc->a, l,
                     GROUP ".downloads must be a list of { dir = \"...\"; "
                           "pattern = \"*\"; } groups");
        return;
    }
    int n = config_setting_length(l);
    struct isx *x = pc->x;
    if (x && n > 0 && !(x->dls = calloc((size_t)n, sizeof(*x->dls)))) {
        pc->a.oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const char *dir = NULL, *pat = "*";
        char where[64];
        snprintf(where, sizeof(where), GROUP ".downloads[%d].", i);
        if (config_setting_type(e) == CONFIG_TYPE_STRING) {
            dir = config_setting_get_string(e);
            if (!*dir || aset_has_ctl(dir) || strlen(dir) > ISX_PATH_MAX) {
                aset_problem(&pc->a, e,
                             GROUP ".downloads[%d] is not a usable folder", i);
                dir = NULL;
            }
        } else if (config_setting_is_group(e)) {
            aset_check_known(&pc->a, e, "downloads", dl_keys);
            dir = aset_str(&pc->a, e, where, "dir", 1, ISX_PATH_MAX,
                           "the remote folder to fetch from");
            const char *p = aset_str(&pc->a, e, where, "pattern", 0,
                                     NAMES_DROP_MAX, "a file name glob");
            if (p)
                pat = p;
        } else {
            aset_problem(&pc->a, e,
                         GROUP
                         ".downloads[%d] must be a group { dir = \"...\"; "
                         "pattern = \"*\"; }",
                         i);
        }
        if (x && dir) {
            struct isx_download *d = &x->dls[x->n_dls++];
            d->dir = aset_dup(&pc->a, dir);
            d->pattern = aset_dup(&pc->a, pat);
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
        aset_problem(&pc->a, l,
                     GROUP ".archive_dirs must be a list of folders (or of "
                           "{ dir = \"...\"; match = \"*_{name}\"; } groups)");
        return;
    }
    int n = config_setting_length(l);
    struct isx *x = pc->x;
    if (x && n > 0 && !(x->arch = calloc((size_t)n, sizeof(*x->arch)))) {
        pc->a.oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        const char *dir = NULL, *match = NULL;
        char where[64];
        snprintf(where, sizeof(where), GROUP ".archive_dirs[%d].", i);
        if (config_setting_type(e) == CONFIG_TYPE_STRING) {
            dir = config_setting_get_string(e);
            if (!*dir || aset_has_ctl(dir) || strlen(dir) > ISX_PATH_MAX) {
                aset_problem(&pc->a, e,
                             GROUP ".archive_dirs[%d] is not a usable folder",
                             i);
                dir = NULL;
            }
        } else if (config_setting_is_group(e)) {
            aset_check_known(&pc->a, e, "archive_dirs", arch_keys);
            dir = aset_str(&pc->a, e, where, "dir", 1, ISX_PATH_MAX,
                           "the bank's archive folder");
            match = aset_str(&pc->a, e, where, "match", 0, NAMES_DROP_MAX,
                             "a glob with {name}");
            if (match && !strstr(match, "{name}")) {
                aset_problem(&pc->a, config_setting_get_member(e, "match"),
                             "%smatch must contain {name} (the uploaded file's "
                             "name), e.g. \"*_{name}\"",
                             where);
                match = NULL;
            }
            if (match && strcmp(match, "{name}") == 0)
                match = NULL; /* the same name: a plain stat will do */
        } else {
            aset_problem(&pc->a, e,
                         GROUP ".archive_dirs[%d] must be a folder name", i);
        }
        if (x && dir) {
            struct isx_archive *a = &x->arch[x->n_arch++];
            a->dir = aset_dup(&pc->a, dir);
            a->match = match ? aset_dup(&pc->a, match) : NULL;
        }
    }
}

static void parse(const config_setting_t *bank, struct pctx *pc)
{
    const config_setting_t *g = config_setting_get_member(bank, GROUP);
    struct isx *x = pc->x;
    if (!g || !config_setting_is_group(g)) {
        aset_problem(&pc->a, g ? g : bank,
                     "adapter " GROUP " needs an \"" GROUP
                     "\" group with at least "
                     "host, user, key or password_file, known_hosts and "
                     "upload_dir");
        return;
    }
    aset_check_known(&pc->a, g, GROUP, known_keys);
    const char *w = GROUP ".";
    const char *host =
        aset_str(&pc->a, g, w, "host", 1, 255, "the bank's server");
    const char *user = aset_str(&pc->a, g, w, "user", 1, 255, "our login");
    const char *key =
        aset_str(&pc->a, g, w, "key", 0, ISX_PATH_MAX, "a private key file");
    const char *pass =
        aset_str(&pc->a, g, w, "passphrase_file", 0, ISX_PATH_MAX,
                 "a file holding the key's passphrase");
    const char *pw = aset_str(&pc->a, g, w, "password_file", 0, ISX_PATH_MAX,
                              "a file holding the password");
    const char *kh = aset_str(&pc->a, g, w, "known_hosts", 1, ISX_PATH_MAX,
                              "the pinned host key, OpenSSH format");
    const char *up = aset_str(&pc->a, g, w, "upload_dir", 1, ISX_PATH_MAX,
                              "the remote folder payments go to");
    if (!config_setting_get_member(g, "key") &&
        !config_setting_get_member(g, "password_file"))
        aset_problem(&pc->a, g,
                     GROUP ".key (a private key file) or " GROUP
                           ".password_file is required");
    if (config_setting_get_member(g, "passphrase_file") &&
        !config_setting_get_member(g, "key"))
        aset_problem(&pc->a, config_setting_get_member(g, "passphrase_file"),
                     GROUP
                     ".passphrase_file is the passphrase of a key: set " GROUP
                     ".key too");
    long long port = aset_int(&pc->a, g, "port", 22, 1, 65535, "(a TCP port)");
    long long cto =
        aset_int(&pc->a, g, "connect_timeout", 10, 1, 600, "seconds");
    long long oto = aset_int(&pc->a, g, "op_timeout", 30, 1, 3600, "seconds");
    long long ka = aset_int(&pc->a, g, "keepalive", 30, 1, 3600, "seconds");
    long long idle =
        aset_int(&pc->a, g, "idle_timeout", 60, 1, 86400, "seconds");
    long long maxmb =
        aset_int(&pc->a, g, "max_download_mb", 1024, 1, 1024 * 1024, "MiB");

    enum isx_after after = ISX_DELETE;
    const char *af = aset_str(&pc->a, g, w, "after_fetch", 0, 16,
                              "\"delete\", \"keep\" or \"move\"");
    if (af) {
        if (strcmp(af, "delete") == 0)
            after = ISX_DELETE;
        else if (strcmp(af, "keep") == 0)
            after = ISX_KEEP;
        else if (strcmp(af, "move") == 0)
            after = ISX_MOVE;
        else
            aset_problem(&pc->a, config_setting_get_member(g, "after_fetch"),
                         GROUP ".after_fetch must be \"delete\", \"keep\" or "
                               "\"move\"");
    }
    const char *mv = aset_str(&pc->a, g, w, "move_to", 0, ISX_PATH_MAX,
                              "the remote folder fetched files move to");
    if (after == ISX_MOVE && !config_setting_get_member(g, "move_to"))
        aset_problem(&pc->a, config_setting_get_member(g, "after_fetch"),
                     GROUP ".after_fetch = \"move\" needs " GROUP ".move_to");
    int consumed = 0;
    const config_setting_t *cb =
        config_setting_get_member(g, "consumed_by_bank");
    if (cb && config_setting_type(cb) != CONFIG_TYPE_BOOL)
        aset_problem(&pc->a, cb,
                     GROUP ".consumed_by_bank must be true or false");
    else if (cb)
        consumed = config_setting_get_bool(cb);
    parse_downloads(pc, g);
    parse_archives(pc, g);

    if (!x || pc->a.n)
        return;
    x->host = aset_dup(&pc->a, host);
    x->user = aset_dup(&pc->a, user);
    x->key = key ? aset_local_path(&pc->a, key) : NULL;
    x->passphrase_file = pass ? aset_local_path(&pc->a, pass) : NULL;
    x->password_file = pw ? aset_local_path(&pc->a, pw) : NULL;
    x->known_hosts = aset_local_path(&pc->a, kh);
    x->upload_dir = aset_dup(&pc->a, up);
    x->move_to = mv ? aset_dup(&pc->a, mv) : NULL;
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
    struct pctx pc = {.a = {.report = report, .ctx = ctx, .group = GROUP}};
    parse(bank, &pc);
    return pc.a.n;
}

int isx_settings(const config_setting_t *bank, const char *base_dir,
                 struct isx *x, struct h2h_err *err)
{
    struct aset_first fp = {0};
    struct pctx pc = {.a = {.report = aset_first_report,
                            .ctx = &fp,
                            .group = GROUP,
                            .base_dir = base_dir},
                      .x = x};
    parse(bank, &pc);
    return aset_result(&pc.a, &fp, err);
}
