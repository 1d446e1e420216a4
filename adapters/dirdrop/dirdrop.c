/*
 * dirdrop.c - the directory bank; see dirdrop.h.
 *
 * Every operation is one uv_work_t: the blocking part (copy, fsync, rename,
 * readdir) runs on a pool thread and touches only its own op struct; the
 * after-work callback classifies nothing new, it only hands the result to
 * the daemon on the loop thread.
 */
#include "dirdrop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "names.h"

#define POLL_MAX_FILES 1000

struct dirdrop {
    struct h2h_adapter base;
    char *outbox;
    char *inbox;
    char **archive;
    size_t n_archive;
    int consumed_by_bank;
    int delete_after_fetch;
    unsigned kinds; /* H2H_KIND_*: what the gateway behind the folder takes */
    int inflight;
    int closing;
    void (*close_cb)(struct h2h_adapter *a);
    char health[256];
};

enum op_kind { OP_SUBMIT, OP_RECOVER, OP_POLL };

struct dl_item {
    char remote[256];
    char local[4096];
    char sha256[65];
    uint64_t size;
    int answered;
    int rc;
};

struct dd_op {
    uv_work_t work;
    struct dirdrop *dd;
    enum op_kind kind;
    struct h2h_submit_req *req;
    h2h_result_cb cb;
    struct h2h_result res;
    /* poll */
    struct h2h_poll_req *preq;
    struct dl_item *items;
    size_t n_items;
    size_t n_answered;
    int delivering; /* inside poll_after's deliver loop */
};

static char *resolve(const char *base, const char *p)
{
    char buf[4096];
    if (p[0] == '/' || !base || !*base)
        return strdup(p);
    snprintf(buf, sizeof(buf), "%s/%s", base, p);
    return strdup(buf);
}

static void dd_free(struct dirdrop *dd);

static void maybe_closed(struct dirdrop *dd)
{
    if (dd->closing && dd->inflight == 0) {
        /* The callback may still look at a->bank and a->data. */
        if (dd->close_cb)
            dd->close_cb(&dd->base);
        dd_free(dd);
    }
}

/* ---- submit ------------------------------------------------------------- */

static int same_content(const char *a, const char *b)
{
    char ha[65], hb[65];
    if (fsu_sha256_file(a, ha, NULL, NULL) ||
        fsu_sha256_file(b, hb, NULL, NULL))
        return 0;
    return strcmp(ha, hb) == 0;
}

static void submit_work(uv_work_t *w)
{
    struct dd_op *op = w->data;
    struct dirdrop *dd = op->dd;
    struct h2h_result *res = &op->res;
    char final[4096];

    int src = open(op->req->payload, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) {
        res->outcome = H2H_OUT_PERMFAIL;
        h2h_err_set(&res->err, -errno, "payload %s: %s", op->req->payload,
                    strerror(errno));
        return;
    }
    int rc = fsu_copy_fd(src, dd->outbox, op->req->remote_name, 0, NULL, NULL,
                         &res->err);
    close(src);
    if (rc == 0) {
        res->outcome = H2H_OUT_OK;
        snprintf(res->bank_ref, sizeof(res->bank_ref), "%s",
                 op->req->remote_name);
        return;
    }
    if (rc == -EEXIST) {
        /* Our own earlier attempt may have landed (e.g. the answer to a
         * previous submit was lost): identical content is success, anything
         * else must never be overwritten. */
        fsu_join(final, sizeof(final), dd->outbox, op->req->remote_name);
        if (same_content(op->req->payload, final)) {
            res->outcome = H2H_OUT_OK;
            h2h_err_clear(&res->err);
        } else {
            res->outcome = H2H_OUT_PERMFAIL;
            h2h_err_set(&res->err, H2H_EDUP,
                        "%s already exists at the bank with other content",
                        op->req->remote_name);
        }
        return;
    }
    /* Full disk, missing mount, permissions: may heal; nothing visible was
     * created (the temporary is removed), so a retry is safe. */
    res->outcome = H2H_OUT_TEMPFAIL;
}

static int exists_in(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    return fsu_join(p, sizeof(p), dir, name) == 0 && lstat(p, &st) == 0;
}

/* Remove our temporaries for one remote name (a crash between create and
 * rename leaves one behind). */
static void remove_tmps(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t plen = strlen(FSU_TMP_PREFIX);
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *dot;
        if (strncmp(de->d_name, FSU_TMP_PREFIX, plen) == 0 &&
            (dot = strchr(de->d_name + plen, '.')) &&
            strcmp(dot + 1, name) == 0)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

static void recover_work(uv_work_t *w)
{
    struct dd_op *op = w->data;
    struct dirdrop *dd = op->dd;
    const char *name = op->req->remote_name;
    struct stat st;

    if (stat(dd->outbox, &st) < 0) {
        op->res.outcome = H2H_OUT_TEMPFAIL;
        h2h_err_set(&op->res.err, -errno, "bank folder %s: %s", dd->outbox,
                    strerror(errno));
        return;
    }
    if (exists_in(dd->outbox, name)) {
        op->res.outcome = H2H_OUT_OK;
        return;
    }
    for (size_t i = 0; i < dd->n_archive; i++)
        if (exists_in(dd->archive[i], name)) {
            op->res.outcome = H2H_OUT_OK;
            return;
        }
    if (dd->consumed_by_bank) {
        op->res.outcome = H2H_OUT_UNKNOWN;
        h2h_err_set(&op->res.err, H2H_ENOTFOUND,
                    "%s is not in the bank folder, but the bank removes files "
                    "it has read: delivery cannot be proven either way",
                    name);
        return;
    }
    remove_tmps(dd->outbox, name);
    op->res.outcome = H2H_OUT_NOT_SENT;
    h2h_err_set(&op->res.err, H2H_ENOTFOUND, "%s never reached the bank folder",
                name);
}

static void result_after(uv_work_t *w, int status)
{
    struct dd_op *op = w->data;
    struct dirdrop *dd = op->dd;
    if (status == UV_ECANCELED) {
        op->res.outcome = H2H_OUT_TEMPFAIL;
        h2h_err_set(&op->res.err, H2H_ECANCELED, "canceled at shutdown");
    }
    op->cb(&dd->base, op->req, &op->res);
    free(op);
    dd->inflight--;
    maybe_closed(dd);
}

static int start_op(struct dirdrop *dd, enum op_kind kind,
                    struct h2h_submit_req *req, h2h_result_cb cb,
                    uv_work_cb work, struct h2h_err *err)
{
    if (dd->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           dd->base.bank);
    struct dd_op *op = calloc(1, sizeof(*op));
    if (!op)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    op->dd = dd;
    op->kind = kind;
    op->req = req;
    op->cb = cb;
    op->work.data = op;
    int rc = uv_queue_work(dd->base.loop, &op->work, work, result_after);
    if (rc) {
        free(op);
        return h2h_err_set(err, H2H_EIO, "uv_queue_work: %s", uv_strerror(rc));
    }
    dd->inflight++;
    return 0;
}

static int dd_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
                     h2h_result_cb cb, struct h2h_err *err)
{
    if (names_check_drop(req->remote_name, NULL) != 0)
        return h2h_err_set(err, H2H_EINVALID, "bad remote name \"%s\"",
                           req->remote_name);
    return start_op((struct dirdrop *)a, OP_SUBMIT, req, cb, submit_work, err);
}

static int dd_recover(struct h2h_adapter *a, struct h2h_submit_req *req,
                      h2h_result_cb cb, struct h2h_err *err)
{
    if (names_check_drop(req->remote_name, NULL) != 0)
        return h2h_err_set(err, H2H_EINVALID, "bad remote name \"%s\"",
                           req->remote_name);
    return start_op((struct dirdrop *)a, OP_RECOVER, req, cb, recover_work,
                    err);
}

/* ---- poll --------------------------------------------------------------- */

static void poll_work(uv_work_t *w)
{
    struct dd_op *op = w->data;
    struct dirdrop *dd = op->dd;
    DIR *d = opendir(dd->inbox);
    if (!d) {
        op->res.outcome = H2H_OUT_TEMPFAIL;
        h2h_err_set(&op->res.err, -errno, "bank folder %s: %s", dd->inbox,
                    strerror(errno));
        return;
    }
    op->items = calloc(POLL_MAX_FILES, sizeof(*op->items));
    if (!op->items) {
        closedir(d);
        op->res.outcome = H2H_OUT_TEMPFAIL;
        h2h_err_set(&op->res.err, H2H_ENOMEM, "out of memory");
        return;
    }
    struct dirent *de;
    unsigned seq = 0;
    while ((de = readdir(d)) && op->n_items < POLL_MAX_FILES) {
        if (names_check_drop(de->d_name, NULL) != 0 ||
            names_is_ignored(de->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        struct dl_item *it = &op->items[op->n_items];
        char src[4096], lname[300];
        snprintf(it->remote, sizeof(it->remote), "%s", de->d_name);
        snprintf(lname, sizeof(lname), "dl-%u-%.200s", seq++, de->d_name);
        fsu_join(src, sizeof(src), dd->inbox, de->d_name);
        struct h2h_err e;
        if (fsu_copy_file(src, op->preq->tmp_dir, lname,
                          FSU_NO_DIRSYNC | FSU_REPLACE, it->sha256, &it->size,
                          &e))
            continue; /* vanished or unreadable: next round */
        fsu_join(it->local, sizeof(it->local), op->preq->tmp_dir, lname);
        op->n_items++;
    }
    closedir(d);
    fsu_fsync_dir(op->preq->tmp_dir, NULL);
    op->res.outcome = H2H_OUT_OK;
}

static void poll_finish(struct dd_op *op)
{
    struct dirdrop *dd = op->dd;
    struct h2h_poll_req *preq = op->preq;
    op->preq->priv = NULL;
    free(op->items);
    struct h2h_result res = op->res;
    free(op);
    preq->done(&dd->base, preq, &res);
    dd->inflight--;
    maybe_closed(dd);
}

static void poll_after(uv_work_t *w, int status)
{
    struct dd_op *op = w->data;
    if (status == UV_ECANCELED || op->res.outcome != H2H_OUT_OK ||
        op->n_items == 0) {
        if (status == UV_ECANCELED)
            op->res.outcome = H2H_OUT_TEMPFAIL;
        poll_finish(op);
        return;
    }
    op->preq->priv = op;
    op->delivering = 1;
    for (size_t i = 0; i < op->n_items; i++) {
        struct h2h_download dl = {
            .remote_name = op->items[i].remote,
            .local_path = op->items[i].local,
            .kind = "other",
            .sha256 = op->items[i].sha256,
            .size = op->items[i].size,
        };
        op->preq->deliver(&op->dd->base, op->preq, &dl);
    }
    /* The daemon may answer from inside deliver (a file it already has):
     * finishing is left to here, so that op outlives the loop above. */
    op->delivering = 0;
    if (op->n_answered == op->n_items)
        poll_finish(op);
}

static void dd_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                              const struct h2h_download *dl, int rc)
{
    struct dirdrop *dd = (struct dirdrop *)a;
    struct dd_op *op = req->priv;
    if (!op)
        return;
    for (size_t i = 0; i < op->n_items; i++) {
        struct dl_item *it = &op->items[i];
        if (it->answered || strcmp(it->remote, dl->remote_name) != 0)
            continue;
        it->answered = 1;
        it->rc = rc;
        /* The daemon holds the file durably (or already had it): the
         * original may go.  unlink is cheap enough for the loop thread. */
        if ((rc == 0 || rc == H2H_EDUP) && dd->delete_after_fetch) {
            char p[4096];
            if (fsu_join(p, sizeof(p), dd->inbox, it->remote) == 0)
                unlink(p);
        }
        if (++op->n_answered == op->n_items && !op->delivering)
            poll_finish(op);
        return;
    }
}

static int dd_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
                   struct h2h_err *err)
{
    struct dirdrop *dd = (struct dirdrop *)a;
    if (!dd->inbox)
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "bank %s has no dirdrop.inbox to poll",
                           dd->base.bank);
    if (dd->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           dd->base.bank);
    struct dd_op *op = calloc(1, sizeof(*op));
    if (!op)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    op->dd = dd;
    op->kind = OP_POLL;
    op->preq = req;
    op->work.data = op;
    int rc = uv_queue_work(a->loop, &op->work, poll_work, poll_after);
    if (rc) {
        free(op);
        return h2h_err_set(err, H2H_EIO, "uv_queue_work: %s", uv_strerror(rc));
    }
    dd->inflight++;
    return 0;
}

/* ---- config, lifecycle -------------------------------------------------- */

static const char *const known_keys[] = {
    "outbox",      "inbox", "archive_dirs", "consumed_by_bank",
    "after_fetch", "kinds", NULL,
};

/* dirdrop.kinds: the families the gateway behind the folders takes;
 * default payments only.  0, or -1 for a bad list. */
static int dd_kinds(const config_setting_t *g, unsigned *kinds)
{
    const config_setting_t *k = config_setting_get_member(g, "kinds");
    *kinds = H2H_KIND_PAYMENTS;
    if (!k)
        return 0;
    if (!config_setting_is_aggregate(k) || config_setting_length(k) == 0)
        return -1;
    *kinds = 0;
    for (int i = 0; i < config_setting_length(k); i++) {
        const char *s = config_setting_get_string_elem(k, i);
        unsigned bit = s ? h2h_kind_bit(s) : 0;
        if (!bit || (s && !*s))
            return -1;
        *kinds |= bit;
    }
    return 0;
}

static int dd_check_config(const config_setting_t *bank, const char *base_dir,
                           void (*report)(void *ctx, const config_setting_t *s,
                                          const char *msg),
                           void *ctx)
{
    int n = 0;
    (void)base_dir;
    const config_setting_t *g = config_setting_get_member(bank, "dirdrop");
    if (!g || !config_setting_is_group(g)) {
        report(ctx, bank,
               "adapter dirdrop needs a \"dirdrop\" group with at "
               "least \"outbox\"");
        return 1;
    }
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        int known = 0;
        for (const char *const *k = known_keys; *k; k++)
            if (strcmp(config_setting_name(m), *k) == 0)
                known = 1;
        if (!known) {
            char msg[200];
            snprintf(msg, sizeof(msg), "unknown dirdrop setting \"%s\"",
                     config_setting_name(m));
            report(ctx, m, msg);
            n++;
        }
    }
    const char *s;
    if (!config_setting_lookup_string(g, "outbox", &s) || !*s) {
        report(ctx, g,
               "dirdrop.outbox (the folder the bank reads) is required");
        n++;
    }
    if (config_setting_get_member(g, "inbox") &&
        (!config_setting_lookup_string(g, "inbox", &s) || !*s)) {
        report(ctx, config_setting_get_member(g, "inbox"),
               "dirdrop.inbox must be a folder name");
        n++;
    }
    const config_setting_t *af = config_setting_get_member(g, "after_fetch");
    if (af && (!config_setting_lookup_string(g, "after_fetch", &s) ||
               (strcmp(s, "delete") != 0 && strcmp(s, "keep") != 0))) {
        report(ctx, af, "dirdrop.after_fetch must be \"delete\" or \"keep\"");
        n++;
    }
    const config_setting_t *ar = config_setting_get_member(g, "archive_dirs");
    if (ar && !config_setting_is_aggregate(ar)) {
        report(ctx, ar, "dirdrop.archive_dirs must be a list of folders");
        n++;
    }
    unsigned kinds;
    if (dd_kinds(g, &kinds) < 0) {
        report(ctx, config_setting_get_member(g, "kinds"),
               "dirdrop.kinds must be a list of \"payment\", \"bill\" and "
               "\"scf\" (what the gateway behind the folders takes)");
        n++;
    }
    return n;
}

static void dd_free(struct dirdrop *dd)
{
    for (size_t i = 0; i < dd->n_archive; i++)
        free(dd->archive[i]);
    free(dd->archive);
    free(dd->outbox);
    free(dd->inbox);
    free(dd->base.bank);
    free(dd);
}

static int dd_create(uv_loop_t *loop, const config_setting_t *bank,
                     const char *bank_name, const char *base_dir,
                     const char *state_dir, struct h2h_adapter **out,
                     struct h2h_err *err)
{
    (void)state_dir; /* no local state: the folders are the state */
    const config_setting_t *g = config_setting_get_member(bank, "dirdrop");
    const char *s;
    int b;
    if (!g || !config_setting_lookup_string(g, "outbox", &s))
        return h2h_err_set(err, H2H_ECONFIG, "bank %s: dirdrop.outbox missing",
                           bank_name);
    struct dirdrop *dd = calloc(1, sizeof(*dd));
    if (!dd)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    dd->base.ops = &dirdrop_ops;
    dd->base.loop = loop;
    dd->base.bank = strdup(bank_name);
    dd->outbox = resolve(base_dir, s);
    if (config_setting_lookup_string(g, "inbox", &s))
        dd->inbox = resolve(base_dir, s);
    if (config_setting_lookup_bool(g, "consumed_by_bank", &b))
        dd->consumed_by_bank = b;
    dd->delete_after_fetch = 1;
    if (config_setting_lookup_string(g, "after_fetch", &s))
        dd->delete_after_fetch = strcmp(s, "keep") != 0;
    if (dd_kinds(g, &dd->kinds) < 0)
        dd->kinds = H2H_KIND_PAYMENTS; /* check_config said why */
    const config_setting_t *ar = config_setting_get_member(g, "archive_dirs");
    int n = ar ? config_setting_length(ar) : 0;
    if (n > 0) {
        dd->archive = calloc((size_t)n, sizeof(char *));
        for (int i = 0; dd->archive && i < n; i++) {
            const char *p = config_setting_get_string_elem(ar, i);
            if (p)
                dd->archive[dd->n_archive++] = resolve(base_dir, p);
        }
    }
    if (!dd->base.bank || !dd->outbox) {
        dd_free(dd);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    snprintf(dd->health, sizeof(dd->health), "ok");
    *out = &dd->base;
    return 0;
}

static const char *dd_health(struct h2h_adapter *a)
{
    struct dirdrop *dd = (struct dirdrop *)a;
    struct stat st;
    if (stat(dd->outbox, &st) < 0 || !S_ISDIR(st.st_mode))
        snprintf(dd->health, sizeof(dd->health), "down: %s unreachable",
                 dd->outbox);
    else
        snprintf(dd->health, sizeof(dd->health), "ok");
    return dd->health;
}

static unsigned dd_instance_kinds(struct h2h_adapter *a)
{
    return ((struct dirdrop *)a)->kinds;
}

static void dd_close(struct h2h_adapter *a, void (*cb)(struct h2h_adapter *a))
{
    struct dirdrop *dd = (struct dirdrop *)a;
    dd->closing = 1;
    dd->close_cb = cb;
    maybe_closed(dd);
}

const struct h2h_adapter_ops dirdrop_ops = {
    .name = "dirdrop",
    .instance_kinds = dd_instance_kinds,
    .check_config = dd_check_config,
    .create = dd_create,
    .submit = dd_submit,
    .recover = dd_recover,
    .inquire = NULL,
    .poll = dd_poll,
    .poll_delivered = dd_poll_delivered,
    .health = dd_health,
    .close = dd_close,
};
