/*
 * iso20022_sftp_poll.c - what the bank has for us; see iso20022_sftp.h.
 *
 * One poll walks the download folders in order: list a folder, then for
 * each file that qualifies download -> deliver -> wait for the daemon's
 * answer -> delete / move / keep, one file at a time, so that a crash
 * leaves at most one file half-handled and the daemon's registry (keyed by
 * remote name and hash) sorts that out on the next poll.  advance() is the
 * one place that decides the next step; every transport callback and the
 * daemon's answer end by calling it (or by starting the after-fetch step).
 */
#include "iso20022_sftp_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"

/* A listed file that qualifies for fetching. */
struct isx_ent {
    char *name;
    uint64_t size;
    int64_t mtime;
};

enum { PH_LIST, PH_ITEMS };

struct isx_poll {
    struct isx *x;
    struct h2h_poll_req *preq;
    int phase;
    size_t dl; /* current downloads entry */
    struct isx_ent *ents;
    size_t n_ents, next;
    struct isx_ent *cur; /* being fetched, delivered or tidied up */
    int waiting;         /* delivered: the daemon's answer is due */
    int in_deliver;      /* inside preq->deliver() */
    int answered, answer;
    int move_try;
    int stop;   /* connection trouble: end after the current step */
    int failed; /* res holds the first failure */
    struct h2h_result res;
    char remote[ISX_PATH_MAX + 1];
    char local[4096];
    char sha256[65];
    uint64_t size;
};

static void advance(struct isx_poll *p);

/* ---- what we remember ---------------------------------------------------- */

static struct isx_seen *seen_find(struct isx_download *d, const char *name,
                                  size_t *pos)
{
    size_t lo = 0, hi = d->n_seen;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d->seen[mid].name, name);
        if (c == 0) {
            if (pos)
                *pos = mid;
            return &d->seen[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return NULL;
}

/* Remember e as delivered (due: its delete/move is still to be done).
 * Without an mtime from the server, name and size alone would be too weak
 * an identity: such files are simply fetched again (the daemon answers
 * H2H_EDUP), which is safe, only slower. */
static void seen_add(struct isx *x, size_t dl, const struct isx_ent *e, int due)
{
    struct isx_download *d = &x->dls[dl];
    size_t pos;
    if (e->mtime == 0)
        return;
    struct isx_seen *s = seen_find(d, e->name, &pos);
    if (!s) {
        if (d->n_seen == d->cap_seen) {
            size_t cap = d->cap_seen ? d->cap_seen * 2 : 16;
            struct isx_seen *v = realloc(d->seen, cap * sizeof(*v));
            if (!v)
                return; /* only costs a second download */
            d->seen = v;
            d->cap_seen = cap;
        }
        char *nm = strdup(e->name);
        if (!nm)
            return;
        memmove(&d->seen[pos + 1], &d->seen[pos],
                (d->n_seen - pos) * sizeof(*d->seen));
        d->n_seen++;
        s = &d->seen[pos];
        s->name = nm;
    }
    s->size = e->size;
    s->mtime = e->mtime;
    s->due = due;
    s->gen = x->gen;
}

static void seen_del(struct isx *x, size_t dl, const char *name)
{
    struct isx_download *d = &x->dls[dl];
    size_t pos;
    if (!seen_find(d, name, &pos))
        return;
    free(d->seen[pos].name);
    memmove(&d->seen[pos], &d->seen[pos + 1],
            (d->n_seen - pos - 1) * sizeof(*d->seen));
    d->n_seen--;
}

/* Forget files the listing of generation gen no longer showed. */
static void seen_prune(struct isx_download *d, unsigned long gen)
{
    size_t o = 0;
    for (size_t i = 0; i < d->n_seen; i++) {
        if (d->seen[i].gen == gen)
            d->seen[o++] = d->seen[i];
        else
            free(d->seen[i].name);
    }
    d->n_seen = o;
}

void isx_seen_release(struct isx *x)
{
    for (size_t i = 0; i < x->n_dls; i++) {
        struct isx_download *d = &x->dls[i];
        for (size_t k = 0; k < d->n_seen; k++)
            free(d->seen[k].name);
        free(d->seen);
        d->seen = NULL;
        d->n_seen = d->cap_seen = 0;
    }
}

/* ---- the poll ------------------------------------------------------------ */

static void ents_free(struct isx_poll *p)
{
    for (size_t i = 0; i < p->n_ents; i++)
        free(p->ents[i].name);
    free(p->ents);
    p->ents = NULL;
    p->n_ents = p->next = 0;
    p->cur = NULL;
}

/* Keep the first failure for done(); connection trouble (temporary or
 * unknown) ends the poll after the current step: every further file would
 * only wait for the same dead server. */
static void fail(struct isx_poll *p, enum h2h_outcome out,
                 const struct h2h_err *e)
{
    if (out == H2H_OUT_TEMPFAIL || out == H2H_OUT_UNKNOWN)
        p->stop = 1;
    if (p->failed)
        return;
    p->failed = 1;
    p->res.outcome =
        out == H2H_OUT_PERMFAIL ? H2H_OUT_PERMFAIL : H2H_OUT_TEMPFAIL;
    p->res.err = *e;
}

static void finish(struct isx_poll *p)
{
    struct isx *x = p->x;
    struct h2h_poll_req *preq = p->preq;
    struct h2h_result res = p->res;
    if (!p->failed)
        res.outcome = H2H_OUT_OK;
    ents_free(p);
    x->poll = NULL;
    preq->priv = NULL;
    free(p);
    preq->done(&x->base, preq, &res);
    isx_op_done(x);
}

static void list_cb(const struct sftp_result *r, void *data);
static void download_cb(const struct sftp_result *r, void *data);
static void after_cb(const struct sftp_result *r, void *data);

static int start_list(struct isx_poll *p, struct h2h_err *e)
{
    struct isx *x = p->x;
    return sftp_pool_list(x->pool, x->dls[p->dl].dir, list_cb, p, e);
}

static int start_download(struct isx_poll *p, struct h2h_err *e)
{
    struct isx *x = p->x;
    char lname[NAMES_DROP_MAX + 1];
    /* unique per bank and run: never collides with a leftover of a crash,
     * nor with another bank's downloads in the same tmp_dir */
    snprintf(lname, sizeof(lname), "%.64s.%s.%lu", x->base.bank, x->tag,
             ++x->dl_seq);
    return sftp_pool_download(x->pool, p->remote, p->preq->tmp_dir, lname,
                              download_cb, p, e);
}

/* Delete or move p->cur after the daemon took it. */
static int start_after(struct isx_poll *p, struct h2h_err *e)
{
    struct isx *x = p->x;
    if (x->after == ISX_DELETE)
        return sftp_pool_remove(x->pool, p->remote, after_cb, p, e);
    char name[NAMES_DROP_MAX + 16], to[ISX_PATH_MAX + 1];
    if (p->move_try == 0)
        snprintf(name, sizeof(name), "%s", p->cur->name);
    else
        snprintf(name, sizeof(name), "%s.%d", p->cur->name, p->move_try);
    if (isx_join(to, sizeof(to), x->move_to, name) != 0)
        return h2h_err_set(e, H2H_ETOOBIG, "move_to path too long");
    return sftp_pool_rename(x->pool, p->remote, to, after_cb, p, e);
}

static void advance(struct isx_poll *p)
{
    struct isx *x = p->x;
    struct h2h_err e = {0};
    for (;;) {
        if (p->stop || x->closing) {
            finish(p);
            return;
        }
        if (p->phase == PH_LIST) {
            if (p->dl >= x->n_dls) {
                finish(p);
                return;
            }
            if (start_list(p, &e) == 0)
                return;
            fail(p, H2H_OUT_TEMPFAIL, &e);
            continue;
        }
        if (p->next >= p->n_ents) {
            ents_free(p);
            p->dl++;
            p->phase = PH_LIST;
            continue;
        }
        struct isx_ent *en = &p->ents[p->next++];
        struct isx_seen *s = seen_find(&x->dls[p->dl], en->name, NULL);
        int known = s && s->size == en->size && s->mtime == en->mtime;
        if (known && !s->due)
            continue; /* delivered before and kept: nothing to do */
        p->cur = en;
        p->move_try = 0;
        if (isx_join(p->remote, sizeof(p->remote), x->dls[p->dl].dir,
                     en->name) != 0)
            continue;
        int rc = known ? start_after(p, &e) : start_download(p, &e);
        if (rc == 0)
            return;
        fail(p, H2H_OUT_TEMPFAIL, &e);
    }
}

static void list_cb(const struct sftp_result *r, void *data)
{
    struct isx_poll *p = data;
    struct isx *x = p->x;
    struct isx_download *d = &x->dls[p->dl];
    isx_note(x, r, 0);
    if (r->outcome != H2H_OUT_OK) {
        /* one unusable folder does not keep the others from being read */
        fail(p, r->outcome, &r->err);
        p->dl++;
        advance(p);
        return;
    }
    unsigned long gen = ++x->gen;
    if (r->n_entries && !(p->ents = calloc(r->n_entries, sizeof(*p->ents)))) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        fail(p, H2H_OUT_TEMPFAIL, &e);
        advance(p);
        return;
    }
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct sftp_entry *se = &r->entries[i];
        /* the transport already skipped hidden and invalid names */
        if (names_is_ignored(se->name) || names_check_drop(se->name, NULL) ||
            fnmatch(d->pattern, se->name, 0) != 0)
            continue;
        struct isx_seen *s = seen_find(d, se->name, NULL);
        if (s && s->size == se->size && s->mtime == se->mtime)
            s->gen = gen;
        struct isx_ent *en = &p->ents[p->n_ents];
        if (!(en->name = strdup(se->name)))
            continue;
        en->size = se->size;
        en->mtime = se->mtime;
        p->n_ents++;
    }
    /* a truncated listing proves nothing about the files it left out */
    if (!r->truncated)
        seen_prune(d, gen);
    p->phase = PH_ITEMS;
    p->next = 0;
    advance(p);
}

static void on_answer(struct isx_poll *p);

static void download_cb(const struct sftp_result *r, void *data)
{
    struct isx_poll *p = data;
    struct isx *x = p->x;
    isx_note(x, r, 1);
    if (r->outcome != H2H_OUT_OK) {
        if (r->err.code != H2H_ENOTFOUND) /* vanished: taken by another */
            fail(p, r->outcome, &r->err);
        advance(p);
        return;
    }
    if (r->size != p->cur->size) {
        /* Changed between listing and download: the bank is still
         * writing it in place.  The next poll takes it when it is still. */
        if (r->local_path)
            unlink(r->local_path);
        advance(p);
        return;
    }
    snprintf(p->local, sizeof(p->local), "%s",
             r->local_path ? r->local_path : "");
    snprintf(p->sha256, sizeof(p->sha256), "%s", r->sha256);
    p->size = r->size;
    struct h2h_download dl = {
        .remote_name = p->cur->name,
        .local_path = p->local,
        .kind = "other", /* the daemon sorts by content */
        .sha256 = p->sha256,
        .size = p->size,
    };
    /* The daemon may answer from inside deliver(): on_answer() then runs
     * once deliver() returned, never nested inside it. */
    p->waiting = 1;
    p->answered = 0;
    p->in_deliver = 1;
    p->preq->deliver(&x->base, p->preq, &dl);
    p->in_deliver = 0;
    if (p->answered)
        on_answer(p);
}

void isx_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                        const struct h2h_download *dl, int rc)
{
    struct isx *x = (struct isx *)a;
    struct isx_poll *p = req ? req->priv : NULL;
    if (!p || p != x->poll || !p->waiting || !p->cur || !dl ||
        !dl->remote_name || strcmp(dl->remote_name, p->cur->name) != 0)
        return; /* not the answer we wait for */
    p->waiting = 0;
    p->answered = 1;
    p->answer = rc;
    if (!p->in_deliver)
        on_answer(p);
}

static void on_answer(struct isx_poll *p)
{
    struct isx *x = p->x;
    struct h2h_err e = {0};
    if (p->answer != 0 && p->answer != H2H_EDUP) {
        /* the daemon could not take it: the file stays for next time */
        advance(p);
        return;
    }
    /* Remembered before the delete / move is tried: should that fail, the
     * next poll only retries it instead of fetching the file again. */
    seen_add(x, p->dl, p->cur, x->after != ISX_KEEP);
    if (x->after == ISX_KEEP) {
        advance(p);
        return;
    }
    if (start_after(p, &e) == 0)
        return;
    fail(p, H2H_OUT_TEMPFAIL, &e);
    advance(p);
}

static void after_cb(const struct sftp_result *r, void *data)
{
    struct isx_poll *p = data;
    struct isx *x = p->x;
    struct h2h_err e = {0};
    if (r->outcome == H2H_OUT_OK ||
        (x->after == ISX_DELETE && r->err.code == H2H_ENOTFOUND)) {
        isx_note(x, r, 1);
        seen_del(x, p->dl, p->cur->name);
        advance(p);
        return;
    }
    if (x->after == ISX_MOVE && r->err.code == H2H_EDUP && p->move_try < 9) {
        /* a file of that name was moved there before: keep both */
        p->move_try++;
        if (start_after(p, &e) == 0)
            return;
        fail(p, H2H_OUT_TEMPFAIL, &e);
        advance(p);
        return;
    }
    isx_note(x, r, 0);
    fail(p, r->outcome, &r->err);
    advance(p);
}

int isx_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
             struct h2h_err *err)
{
    struct isx *x = (struct isx *)a;
    if (x->n_dls == 0)
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "bank %s has no iso20022_sftp.downloads to poll",
                           a->bank);
    if (x->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           a->bank);
    if (x->poll)
        return h2h_err_set(err, H2H_ESTATE, "bank %s: a poll is running",
                           a->bank);
    if (!req || !req->tmp_dir || !req->deliver || !req->done)
        return h2h_err_set(err, H2H_EINVALID, "incomplete poll request");
    struct isx_poll *p = calloc(1, sizeof(*p));
    if (!p)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    p->x = x;
    p->preq = req;
    p->phase = PH_LIST;
    int rc = start_list(p, err);
    if (rc < 0) {
        free(p);
        return rc;
    }
    req->priv = p;
    x->poll = p;
    x->inflight++;
    isx_sweep_maybe(x);
    return 0;
}
