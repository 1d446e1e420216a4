/*
 * iso20022_sftp.c - create, submit, recover, health and close of the
 * ISO 20022 SFTP bank; see iso20022_sftp.h.  Settings are read in
 * iso20022_sftp_config.c, polling lives in iso20022_sftp_poll.c, the
 * sweep of dead temporaries in iso20022_sftp_sweep.c.
 *
 * Every operation is a short chain of transport operations on the bank's
 * session pool: each transport callback starts the next step or ends the
 * chain with the adapter's result.  The transport never calls back from
 * inside a call, so neither do we; a step that cannot even be queued ends
 * the chain from within the previous step's callback.
 */
#include "iso20022_sftp_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "names.h"

/* ---- small helpers ------------------------------------------------------ */

int isx_join(char *buf, size_t bufsz, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    int slash = dl > 0 && dir[dl - 1] == '/';
    int n = snprintf(buf, bufsz, "%s%s%s", dir, slash ? "" : "/", name);
    return (n < 0 || (size_t)n >= bufsz) ? H2H_ETOOBIG : 0;
}

void isx_note(struct isx *x, const struct sftp_result *r, int per_file)
{
    if (r->outcome == H2H_OUT_OK) {
        x->last_err[0] = '\0';
        if (x->sweep_retry) { /* the server is back */
            x->sweep_retry = 0;
            x->next_sweep_ms = 0;
            isx_sweep_maybe(x);
        }
        return;
    }
    if (r->err.code == H2H_ECANCELED)
        return; /* our own shutdown says nothing about the bank */
    /* a taken name is about that file (and handled), never the bank */
    if (r->err.code == H2H_EDUP || (per_file && r->err.code == H2H_ENOTFOUND))
        return;
    snprintf(x->last_err, sizeof(x->last_err), "%s", r->err.msg);
}

static void isx_free(struct isx *x)
{
    if (!x)
        return;
    isx_live_del(x);
    isx_seen_release(x);
    for (size_t i = 0; i < x->n_dls; i++) {
        free(x->dls[i].dir);
        free(x->dls[i].pattern);
    }
    free(x->dls);
    for (size_t i = 0; i < x->n_arch; i++) {
        free(x->arch[i].dir);
        free(x->arch[i].match);
    }
    free(x->arch);
    for (size_t i = 0; i < x->n_dirty; i++)
        free(x->dirty[i]);
    free(x->dirty);
    free(x->host);
    free(x->user);
    free(x->key);
    free(x->passphrase_file);
    free(x->password_file);
    free(x->known_hosts);
    free(x->upload_dir);
    free(x->move_to);
    free(x->base.bank);
    free(x);
}

static void pool_closed_cb(void *data)
{
    struct isx *x = data;
    x->pool = NULL;
    /* The daemon's callback may still look at a->bank and a->data. */
    if (x->close_cb)
        x->close_cb(&x->base);
    isx_free(x);
}

/* Close the pool once nothing of ours runs on it any more: an upload in
 * flight is let finish (bounded by op_timeout) rather than cut, which
 * would only turn it into "unknown". */
static void maybe_close(struct isx *x)
{
    if (!x->closing || x->inflight > 0 || x->pool_closing)
        return;
    x->pool_closing = 1;
    sftp_pool_close(x->pool, pool_closed_cb, x);
}

void isx_op_done(struct isx *x)
{
    x->inflight--;
    maybe_close(x);
}

static int isx_create(uv_loop_t *loop, const config_setting_t *bank,
                      const char *bank_name, const char *base_dir,
                      const char *state_dir, struct h2h_adapter **out,
                      struct h2h_err *err)
{
    int rc;
    (void)state_dir; /* what the bank holds is the state: nothing local */
    struct isx *x = calloc(1, sizeof(*x));
    if (!x)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    x->base.ops = &iso20022_sftp_ops;
    x->base.loop = loop;
    if (!(x->base.bank = strdup(bank_name))) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = isx_settings(bank, base_dir, x, err)) < 0) {
        h2h_err_prefix(err, "bank %s", bank_name);
        goto fail;
    }
    int ms = 0;
    x->max_sessions =
        config_setting_lookup_int(bank, "max_sessions", &ms) && ms > 0
            ? (unsigned)ms
            : 4;
    x->so.host = x->host;
    x->so.user = x->user;
    x->so.private_key = x->key;
    x->so.passphrase_file = x->passphrase_file;
    x->so.password_file = x->password_file;
    x->so.known_hosts = x->known_hosts;
    rc =
        sftp_pool_new(loop, &x->so, x->max_sessions, x->idle_ms, &x->pool, err);
    if (rc < 0) {
        h2h_err_prefix(err, "bank %s", bank_name);
        goto fail;
    }
    unsigned char r[4] = {0};
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        uint64_t t = uv_hrtime();
        memcpy(r, &t, sizeof(r));
    }
    snprintf(x->tag, sizeof(x->tag), "%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3]);
    isx_live_add(x);
    *out = &x->base;
    return 0;
fail:
    isx_free(x);
    return rc;
}

/* ---- submit and recover -------------------------------------------------- */

enum { J_SUBMIT, J_LIST_TMP, J_RM_TMP, J_STAT, J_ARCHIVE };

/* ---- names whose upload broke off ---------------------------------------- */

static size_t dirty_find(const struct isx *x, const char *name)
{
    for (size_t i = 0; i < x->n_dirty; i++)
        if (strcmp(x->dirty[i], name) == 0)
            return i;
    return (size_t)-1;
}

/* Out of memory or full: that name's temporary then waits for the sweep. */
static void dirty_add(struct isx *x, const char *name)
{
    if (dirty_find(x, name) != (size_t)-1 || x->n_dirty >= ISX_DIRTY_MAX)
        return;
    char **v = realloc(x->dirty, (x->n_dirty + 1) * sizeof(*v));
    if (!v)
        return;
    x->dirty = v;
    if ((v[x->n_dirty] = strdup(name)))
        x->n_dirty++;
}

static void dirty_del(struct isx *x, const char *name)
{
    size_t i = dirty_find(x, name);
    if (i == (size_t)-1)
        return;
    free(x->dirty[i]);
    x->dirty[i] = x->dirty[--x->n_dirty];
}

struct isx_job {
    struct isx_job *next; /* in x->jobs */
    struct isx *x;
    struct h2h_submit_req *req;
    h2h_result_cb cb;
    int step;
    int upload;    /* submit: J_LIST_TMP / J_RM_TMP clean up, then upload */
    int have_size; /* local_size is known */
    uint64_t local_size;
    char **tmps; /* recover: our temporaries still to remove */
    size_t n_tmps, tmp_i;
    size_t arch_i;
    struct h2h_result res;
};

int isx_busy(const struct isx *x, const char *remote_name)
{
    for (const struct isx_job *j = x->jobs; j; j = j->next)
        if (strcmp(j->req->remote_name, remote_name) == 0)
            return 1;
    return 0;
}

static void job_finish(struct isx_job *j)
{
    struct isx *x = j->x;
    for (struct isx_job **pp = &x->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    for (size_t i = 0; i < j->n_tmps; i++)
        free(j->tmps[i]);
    free(j->tmps);
    j->cb(&x->base, j->req, &j->res);
    free(j);
    isx_op_done(x);
}

static int job_new(struct isx *x, struct h2h_submit_req *req, h2h_result_cb cb,
                   struct isx_job **out, struct h2h_err *err)
{
    *out = NULL;
    if (x->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           x->base.bank);
    if (!req || !req->remote_name || !req->payload || !cb)
        return h2h_err_set(err, H2H_EINVALID, "incomplete request");
    if (names_check_drop(req->remote_name, NULL) != 0)
        return h2h_err_set(err, H2H_EINVALID, "bad remote name \"%s\"",
                           req->remote_name);
    /* Two operations on one name would race: recover removes the very
     * temporary a running upload writes.  The daemon never asks for that;
     * refuse it rather than guess. */
    if (isx_busy(x, req->remote_name))
        return h2h_err_set(err, H2H_ESTATE,
                           "an operation on %s is already running",
                           req->remote_name);
    struct isx_job *j = calloc(1, sizeof(*j));
    if (!j)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    j->x = x;
    j->req = req;
    j->cb = cb;
    /* The rendered payload is immutable: its size now is its size when
     * the bank compares it.  A payload that cannot be stat'ed here is
     * reported by the transport (submit) or leaves the size unchecked
     * (recover: presence is the proof). */
    struct stat st;
    if (stat(req->payload, &st) == 0 && S_ISREG(st.st_mode)) {
        j->have_size = 1;
        j->local_size = (uint64_t)st.st_size;
    }
    *out = j;
    return 0;
}

/* The final name exists at the bank (in where) with size bytes. */
static void found(struct isx_job *j, const char *where, int is_regular,
                  uint64_t size)
{
    if (!is_regular) {
        /* a folder (or link, ...) of that name is nobody's delivery, even
         * when its size happens to equal ours */
        j->res.outcome = H2H_OUT_PERMFAIL;
        h2h_err_set(&j->res.err, H2H_EDUP,
                    "%s already exists at the bank in %s and is not a "
                    "regular file: not ours, and never overwritten",
                    j->req->remote_name, where);
        return;
    }
    if (!j->have_size || size == j->local_size) {
        j->res.outcome = H2H_OUT_OK;
        h2h_err_clear(&j->res.err);
        snprintf(j->res.bank_ref, sizeof(j->res.bank_ref), "%s",
                 j->req->remote_name);
        return;
    }
    j->res.outcome = H2H_OUT_PERMFAIL;
    h2h_err_set(&j->res.err, H2H_EDUP,
                "%s already exists at the bank in %s with %llu bytes, ours "
                "has %llu: not ours, and never overwritten",
                j->req->remote_name, where, (unsigned long long)size,
                (unsigned long long)j->local_size);
}

static void upload_cb(const struct sftp_result *r, void *data)
{
    struct isx_job *j = data;
    struct isx *x = j->x;
    isx_note(x, r, 0); /* a missing upload_dir is the bank's problem */
    if (r->outcome == H2H_OUT_OK) {
        j->res.outcome = H2H_OUT_OK;
        snprintf(j->res.bank_ref, sizeof(j->res.bank_ref), "%s",
                 j->req->remote_name);
    } else if (r->err.code == H2H_EDUP && r->exists) {
        /* Taken: most likely our own earlier attempt whose answer was
         * lost.  Same size: ours; anything else is never overwritten. */
        found(j, x->upload_dir, r->is_regular, r->size);
    } else {
        j->res.outcome = r->outcome;
        j->res.err = r->err;
    }
    /* A connection that died mid-way may have left our temporary: the
     * transport could not remove it.  The next attempt does. */
    if (r->outcome == H2H_OUT_TEMPFAIL || r->outcome == H2H_OUT_UNKNOWN)
        dirty_add(x, j->req->remote_name);
    job_finish(j);
}

/* Recover could not look (connection, permissions): ask again later.  A
 * dead connection during a look is not an unknown delivery, so UNKNOWN
 * (which holds the message for a person) becomes TEMPFAIL. */
static void cannot_tell(struct isx_job *j, const struct sftp_result *r)
{
    j->res.outcome =
        r->outcome == H2H_OUT_PERMFAIL ? H2H_OUT_PERMFAIL : H2H_OUT_TEMPFAIL;
    j->res.err = r->err;
    if (j->upload) /* nothing of this attempt was sent yet */
        h2h_err_prefix(&j->res.err,
                       "removing what an earlier attempt left of %s",
                       j->req->remote_name);
    else
        h2h_err_prefix(&j->res.err, "cannot tell whether the bank has %s",
                       j->req->remote_name);
}

/* "{name}" in match replaced by the remote name, its glob characters
 * escaped; 0 or H2H_ETOOBIG. */
static int archive_glob(char *buf, size_t bufsz, const char *match,
                        const char *name)
{
    size_t o = 0;
    for (const char *p = match; *p;) {
        if (strncmp(p, "{name}", 6) == 0) {
            for (const char *n = name; *n; n++) {
                if (strchr("*?[]\\", *n)) {
                    if (o + 1 >= bufsz)
                        return H2H_ETOOBIG;
                    buf[o++] = '\\';
                }
                if (o + 1 >= bufsz)
                    return H2H_ETOOBIG;
                buf[o++] = *n;
            }
            p += 6;
            continue;
        }
        if (o + 1 >= bufsz)
            return H2H_ETOOBIG;
        buf[o++] = *p++;
    }
    buf[o] = '\0';
    return 0;
}

static void chain_cb(const struct sftp_result *r, void *data);

/* Queue the step j->step; H2H_* when it could not be queued. */
static int chain_step(struct isx_job *j, struct h2h_err *err)
{
    struct isx *x = j->x;
    const char *name = j->req->remote_name;
    char path[ISX_PATH_MAX + 1];
    for (;;) {
        switch (j->step) {
        case J_SUBMIT:
            return sftp_pool_upload(x->pool, j->req->payload, x->upload_dir,
                                    name, 0, upload_cb, j, err);
        case J_LIST_TMP:
            return sftp_pool_list_tmp(x->pool, x->upload_dir, name, chain_cb, j,
                                      err);
        case J_RM_TMP:
            if (j->tmp_i >= j->n_tmps) {
                dirty_del(x, name); /* nothing of earlier attempts left */
                j->step = j->upload ? J_SUBMIT : J_STAT;
                continue;
            }
            if (isx_join(path, sizeof(path), x->upload_dir,
                         j->tmps[j->tmp_i]) != 0)
                return h2h_err_set(err, H2H_ETOOBIG, "remote path too long");
            return sftp_pool_remove(x->pool, path, chain_cb, j, err);
        case J_STAT:
            if (isx_join(path, sizeof(path), x->upload_dir, name) != 0)
                return h2h_err_set(err, H2H_ETOOBIG, "remote path too long");
            return sftp_pool_stat(x->pool, path, chain_cb, j, err);
        case J_ARCHIVE: {
            const struct isx_archive *ar = &x->arch[j->arch_i];
            if (ar->match)
                return sftp_pool_list(x->pool, ar->dir, chain_cb, j, err);
            if (isx_join(path, sizeof(path), ar->dir, name) != 0)
                return h2h_err_set(err, H2H_ETOOBIG, "remote path too long");
            return sftp_pool_stat(x->pool, path, chain_cb, j, err);
        }
        }
        return h2h_err_set(err, H2H_ESTATE, "bad recover step");
    }
}

/* Nothing found in the upload folder nor in archive j->arch_i - 1: look in
 * the next archive, or conclude. */
static int next_archive(struct isx_job *j)
{
    struct isx *x = j->x;
    if (j->arch_i < x->n_arch) {
        j->step = J_ARCHIVE;
        return 1;
    }
    if (x->consumed_by_bank) {
        j->res.outcome = H2H_OUT_UNKNOWN;
        h2h_err_set(&j->res.err, H2H_ENOTFOUND,
                    "%s is not in %s%s, but the bank removes files it has "
                    "read: delivery cannot be proven either way",
                    j->req->remote_name, x->upload_dir,
                    x->n_arch ? " nor in its archive folders" : "");
    } else {
        j->res.outcome = H2H_OUT_NOT_SENT;
        h2h_err_set(&j->res.err, H2H_ENOTFOUND, "%s never reached %s%s",
                    j->req->remote_name, x->upload_dir,
                    x->n_arch ? " nor the bank's archive folders" : "");
    }
    return 0;
}

static void chain_cb(const struct sftp_result *r, void *data)
{
    struct isx_job *j = data;
    struct isx *x = j->x;
    int more = 1;
    switch (j->step) {
    case J_LIST_TMP:
        isx_note(x, r, 0);
        if (r->outcome != H2H_OUT_OK) {
            cannot_tell(j, r);
            more = 0;
            break;
        }
        if (r->n_entries > 0 &&
            !(j->tmps = calloc(r->n_entries, sizeof(*j->tmps)))) {
            j->res.outcome = H2H_OUT_TEMPFAIL;
            h2h_err_set(&j->res.err, H2H_ENOMEM, "out of memory");
            more = 0;
            break;
        }
        for (size_t i = 0; i < r->n_entries; i++)
            if ((j->tmps[j->n_tmps] = strdup(r->entries[i].name)))
                j->n_tmps++;
        j->step = J_RM_TMP;
        break;
    case J_RM_TMP:
        /* The temporary must be gone before we look for the final name:
         * a rename still on its way from the dead connection then can no
         * longer land after we answered "not sent". */
        isx_note(x, r, 1);
        if (r->outcome != H2H_OUT_OK && r->err.code != H2H_ENOTFOUND) {
            cannot_tell(j, r);
            more = 0;
            break;
        }
        j->tmp_i++;
        break;
    case J_STAT:
        isx_note(x, r, 0);
        if (r->outcome != H2H_OUT_OK) {
            cannot_tell(j, r);
            more = 0;
        } else if (r->exists) {
            found(j, x->upload_dir, r->is_regular, r->size);
            more = 0;
        } else {
            more = next_archive(j);
        }
        break;
    case J_ARCHIVE: {
        const struct isx_archive *ar = &x->arch[j->arch_i++];
        if (r->outcome != H2H_OUT_OK && r->err.code == H2H_ENOTFOUND) {
            /* a folder that is not there holds nothing */
            more = next_archive(j);
            break;
        }
        isx_note(x, r, 0);
        if (r->outcome != H2H_OUT_OK) {
            cannot_tell(j, r);
            more = 0;
            break;
        }
        if (!ar->match) {
            if (r->exists) {
                found(j, ar->dir, r->is_regular, r->size);
                more = 0;
            } else {
                more = next_archive(j);
            }
            break;
        }
        char glob[2 * NAMES_DROP_MAX + 2 * ISX_PATH_MAX];
        int hit = 0, hit_size = 0;
        uint64_t size = 0;
        if (archive_glob(glob, sizeof(glob), ar->match, j->req->remote_name) ==
            0)
            for (size_t i = 0; i < r->n_entries; i++)
                if (fnmatch(glob, r->entries[i].name, 0) == 0) {
                    hit = 1;
                    size = r->entries[i].size;
                    if (!j->have_size || size == j->local_size)
                        hit_size = 1;
                }
        if (hit) {
            /* listings hold regular files only */
            found(j, ar->dir, 1, hit_size ? j->local_size : size);
            more = 0;
        } else if (r->truncated) {
            j->res.outcome = H2H_OUT_UNKNOWN;
            h2h_err_set(&j->res.err, H2H_ETOOBIG,
                        "archive folder %s holds more than %d files: %s "
                        "cannot be looked for there",
                        ar->dir, SFTP_LIST_MAX, j->req->remote_name);
            more = 0;
        } else {
            more = next_archive(j);
        }
        break;
    }
    default: more = 0; break;
    }
    if (more) {
        struct h2h_err e = {0};
        if (chain_step(j, &e) == 0)
            return;
        j->res.outcome = H2H_OUT_TEMPFAIL;
        j->res.err = e;
    }
    job_finish(j);
}

static int isx_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
                      h2h_result_cb cb, struct h2h_err *err)
{
    struct isx *x = (struct isx *)a;
    struct isx_job *j;
    int rc = job_new(x, req, cb, &j, err);
    if (rc < 0)
        return rc;
    j->upload = 1;
    /* Remove what an earlier attempt left first: one this instance saw
     * break off, or, until this instance's first sweep has listed the
     * folder, one of a process before it (that sweep leaves the names of
     * running submits alone, so it cannot do it for them). */
    j->step =
        dirty_find(x, req->remote_name) != (size_t)-1 || (x->sole && !x->swept)
            ? J_LIST_TMP
            : J_SUBMIT;
    rc = chain_step(j, err);
    if (rc < 0) {
        free(j);
        return rc;
    }
    j->next = x->jobs;
    x->jobs = j;
    x->inflight++;
    isx_sweep_maybe(x);
    return 0;
}

static int isx_recover(struct h2h_adapter *a, struct h2h_submit_req *req,
                       h2h_result_cb cb, struct h2h_err *err)
{
    struct isx *x = (struct isx *)a;
    struct isx_job *j;
    int rc = job_new(x, req, cb, &j, err);
    if (rc < 0)
        return rc;
    j->step = J_LIST_TMP;
    rc = chain_step(j, err);
    if (rc < 0) {
        free(j);
        return rc;
    }
    j->next = x->jobs;
    x->jobs = j;
    x->inflight++;
    isx_sweep_maybe(x);
    return 0;
}

/* ---- health, close ------------------------------------------------------ */

static const char *isx_health(struct h2h_adapter *a)
{
    struct isx *x = (struct isx *)a;
    if (x->last_err[0])
        snprintf(x->health, sizeof(x->health), "degraded: %s", x->last_err);
    else
        snprintf(x->health, sizeof(x->health), "ok");
    return x->health;
}

static void isx_close(struct h2h_adapter *a, void (*cb)(struct h2h_adapter *a))
{
    struct isx *x = (struct isx *)a;
    if (x->closing)
        H2H_BUG("adapter %s closed twice", a->bank);
    x->closing = 1;
    x->close_cb = cb;
    maybe_close(x);
}

static int isx_check(const config_setting_t *bank, const char *base_dir,
                     isx_report_fn report, void *ctx)
{
    (void)base_dir; /* its files are read at create only */
    return isx_check_config(bank, report, ctx);
}

const struct h2h_adapter_ops iso20022_sftp_ops = {
    .name = "iso20022_sftp",
    .check_config = isx_check,
    .create = isx_create,
    .submit = isx_submit,
    .recover = isx_recover,
    .inquire = NULL,
    .poll = isx_poll,
    .poll_delivered = isx_poll_delivered,
    .health = isx_health,
    .close = isx_close,
};
