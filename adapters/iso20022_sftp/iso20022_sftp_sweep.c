/*
 * iso20022_sftp_sweep.c - removing what dead uploads left in upload_dir.
 *
 * An upload whose connection dies between creating its temporary
 * (.h2h-tmp.<8 hex>.<name>) and renaming it leaves the temporary behind:
 * the transport cannot remove it over a dead connection.  Three things
 * collect such leftovers:
 *   - the next submit of the same name, when this instance saw the attempt
 *     break off (iso20022_sftp.c, "dirty" names) or has not finished its
 *     first sweep yet (which leaves the names of running submits alone),
 *     and recover after a crash (all by name, before anything else);
 *   - a sweep of every temporary of ours when an instance starts using an
 *     upload folder that no other live instance in this process uses: no
 *     upload of ours can be running there (the previous process is gone;
 *     one upload folder belongs to one h2hd), so everything found is dead.
 *     This is what catches attempts that broke off before a restart;
 *   - then, hourly, a sweep of the temporaries older than
 *     max(ISX_SWEEP_AGE_S, 2 * op_timeout): a live upload keeps its
 *     temporary's mtime fresh or fails within op_timeout, so these are
 *     dead too, whatever instance (e.g. one retired by a reload) wrote
 *     them.
 * Names of submits and recovers running in this instance are always left
 * alone.  A sweep is housekeeping: it starts from submit, recover or poll,
 * runs beside them, and its failures change neither their results nor the
 * bank's health.
 */
#include "iso20022_sftp_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"

/* Loop thread only, like everything here; a plain list is enough. */
static struct isx *live;

static int same_folder(const struct isx *a, const struct isx *b)
{
    return a->so.port == b->so.port && strcmp(a->host, b->host) == 0 &&
           strcmp(a->user, b->user) == 0 &&
           strcmp(a->upload_dir, b->upload_dir) == 0;
}

void isx_live_add(struct isx *x)
{
    x->sole = 1;
    for (struct isx *o = live; o; o = o->next_live)
        if (same_folder(o, x))
            x->sole = 0;
    x->next_live = live;
    live = x;
}

void isx_live_del(struct isx *x)
{
    for (struct isx **pp = &live; *pp; pp = &(*pp)->next_live)
        if (*pp == x) {
            *pp = x->next_live;
            return;
        }
}

struct isx_sweep {
    struct isx *x;
    char **names;
    size_t n, i;
};

static void sweep_end(struct isx_sweep *sw)
{
    struct isx *x = sw->x;
    for (size_t i = 0; i < sw->n; i++)
        free(sw->names[i]);
    free(sw->names);
    free(sw);
    x->sweeping = 0;
    isx_op_done(x);
}

static void rm_cb(const struct sftp_result *r, void *data);

static void next(struct isx_sweep *sw)
{
    struct isx *x = sw->x;
    char path[ISX_PATH_MAX + 1];
    while (sw->i < sw->n && !x->closing) {
        const char *nm = sw->names[sw->i++];
        if (isx_join(path, sizeof(path), x->upload_dir, nm) == 0 &&
            sftp_pool_remove(x->pool, path, rm_cb, sw, NULL) == 0)
            return;
    }
    sweep_end(sw);
}

static void rm_cb(const struct sftp_result *r, void *data)
{
    (void)r; /* gone, or the next sweep tries again */
    next(data);
}

static void list_cb(const struct sftp_result *r, void *data)
{
    struct isx_sweep *sw = data;
    struct isx *x = sw->x;
    if (r->outcome != H2H_OUT_OK) {
        /* most likely unreachable (the operation beside says so): again
         * as soon as an operation succeeds (isx_note), at the latest in a
         * minute */
        x->next_sweep_ms = uv_now(x->base.loop) + ISX_SWEEP_RETRY_MS;
        x->sweep_retry = 1;
        sweep_end(sw);
        return;
    }
    /* the first sweep of a sole instance takes every age */
    int all = !x->swept && x->sole;
    x->swept = 1;
    if (r->n_entries == 0 ||
        !(sw->names = calloc(r->n_entries, sizeof(*sw->names)))) {
        sweep_end(sw);
        return;
    }
    int64_t age = 2 * (int64_t)(x->so.op_timeout_ms / 1000);
    if (age < ISX_SWEEP_AGE_S)
        age = ISX_SWEEP_AGE_S;
    int64_t before = (int64_t)time(NULL) - age;
    size_t pl = strlen(FSU_TMP_PREFIX) + 9; /* prefix, 8 hex digits, '.' */
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct sftp_entry *e = &r->entries[i];
        if (strlen(e->name) <= pl || isx_busy(x, e->name + pl))
            continue;
        /* without an mtime the age is unknown: only a sole start takes it */
        if (!all && (e->mtime == 0 || e->mtime >= before))
            continue;
        if ((sw->names[sw->n] = strdup(e->name)))
            sw->n++;
    }
    next(sw);
}

void isx_sweep_maybe(struct isx *x)
{
    uint64_t now = uv_now(x->base.loop);
    if (x->closing || x->sweeping || now < x->next_sweep_ms)
        return;
    struct isx_sweep *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return;
    sw->x = x;
    if (sftp_pool_list_tmp(x->pool, x->upload_dir, NULL, list_cb, sw, NULL)) {
        free(sw);
        return;
    }
    x->next_sweep_ms = now + ISX_SWEEP_EVERY_MS;
    x->sweeping = 1;
    x->inflight++;
}
