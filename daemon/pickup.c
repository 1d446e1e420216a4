/*
 * pickup.c - drop folder -> accepted message (Postfix pickup discipline).
 *
 * A scan (file-system event, periodic rescan, or start-up) lists the drop
 * folder on the loop thread (metadata only) and decides per name:
 *   hidden / temporary name   -> skipped, the writer is not done
 *   bad name, not a regular file (symlink, fifo, directory)
 *                             -> rejected/ with a .reason
 *   size or mtime changed within the channel's stability period
 *                             -> wait (writers that write in place)
 *   stable                    -> part of a batch
 * A batch is copied into the store's data folder on the thread pool
 * (temp name, fsync, rename, one fsync of the directory), hashed on the
 * way, and validated when the channel has a format.  Back on the loop the
 * acceptances are committed in one transaction; only then a second pool
 * job removes (or archives) the drop files and fsyncs the drop folder.
 *
 * Crash at any point: before the commit the drop file is still there and
 * is picked up again (its copy is an orphan temp, cleaned at start); after
 * the commit and before the removal, the same file (same device, inode,
 * mtime and hash) is recognised as already accepted and only removed.
 * The same content dropped again as a new file is a duplicate: reported and
 * moved to rejected/, never sent twice.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "billbook.h"
#include "fsutil.h"
#include "h2hd.h"
#include "log.h"
#include "render.h"
#include "scfbook.h"
#include "names.h"

/* How long a MsgId stays taken per bank.  Banks keep theirs for 30 to 90
 * days; the longest is the safe one. */
#define PICKUP_MSGID_WINDOW_MS (90LL * 86400 * 1000)

/* ---- stability tracking: name -> (size, mtime, since) -------------------- */

struct seen {
    struct seen *next;
    int64_t size;
    int64_t mtime_ns;
    int64_t since_ms;
    unsigned gen;
    char name[];
};

struct seen_map {
    struct seen **b;
    size_t nb;
    size_t n;
    unsigned gen;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static struct seen_map *seen_new(void)
{
    struct seen_map *m = calloc(1, sizeof(*m));
    if (m) {
        m->nb = 1024;
        m->b = calloc(m->nb, sizeof(*m->b));
        if (!m->b) {
            free(m);
            return NULL;
        }
    }
    return m;
}

static void seen_free(struct seen_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nb; i++)
        for (struct seen *s = m->b[i], *n; s; s = n) {
            n = s->next;
            free(s);
        }
    free(m->b);
    free(m);
}

static struct seen *seen_get(struct seen_map *m, const char *name, int create)
{
    struct seen **pp = &m->b[hash_str(name) % m->nb];
    for (struct seen *s = *pp; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    if (!create)
        return NULL;
    size_t len = strlen(name);
    struct seen *s = calloc(1, sizeof(*s) + len + 1);
    if (!s)
        return NULL;
    memcpy(s->name, name, len + 1);
    s->size = -1;
    s->next = *pp;
    *pp = s;
    m->n++;
    return s;
}

/* Forget names not seen in the latest scan (gone or picked up). */
static void seen_sweep(struct seen_map *m)
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct seen **pp = &m->b[i]; *pp;) {
            if ((*pp)->gen != m->gen) {
                struct seen *dead = *pp;
                *pp = dead->next;
                free(dead);
                m->n--;
            } else {
                pp = &(*pp)->next;
            }
        }
}

/* ---- a batch ---------------------------------------------------------------
 */

enum item_fate {
    FATE_ACCEPT,    /* copied; to be committed */
    FATE_REJECT,    /* bad input: to rejected/ with reason */
    FATE_SKIP,      /* changed or vanished meanwhile: look again later */
    FATE_DUPLICATE, /* same content as an earlier message */
    FATE_RECOVERED, /* this very file was accepted before a crash */
};

struct item {
    char name[256]; /* as in the drop folder (NAME_MAX) */
    enum item_fate fate;
    char *reason; /* rejection text, malloc'd */
    char sha256[65];
    uint64_t size;
    int64_t dev, ino, mtime_ns;
    char payload[4096];
    char msg_id[STORE_ID_MAX];
    char business_id[128];
    char kind[16];               /* "payment", "bill" (validation) */
    char bank[CFG_NAME_MAX + 1]; /* where it goes (routed at validation) */
    char moved_as[300];          /* name used in rejected/ or archive/ */
    char safe_name[NAMES_DROP_MAX + 1]; /* for names refused as names */
};

struct batch {
    uv_work_t work;
    struct chan_rt *ch;
    struct item *items;
    size_t n;
    char drop_dir[4096];
    char rejected_dir[4096];
    char archive_dir[4096]; /* "" when drop files are deleted */
    char data_dir[4096];
    uint64_t seq0;
    struct render_in_opts ropts;
};

static void batch_free(struct batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->items[i].reason);
    free(b->items);
    render_in_opts_release(&b->ropts);
    free(b);
}

static void set_reason(struct item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(struct item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(it->reason);
    if (vasprintf(&it->reason, fmt, ap) < 0)
        it->reason = NULL;
    va_end(ap);
    it->fate = FATE_REJECT;
}

/* Pool thread: copy each file into the data folder and validate it. */
static void copy_work(uv_work_t *w)
{
    struct batch *b = w->data;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        char path[4096], pname[128];
        if (it->fate != FATE_ACCEPT)
            continue;
        fsu_join(path, sizeof(path), b->drop_dir, it->name);
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ELOOP)
                set_reason(it, "refused: %s is a symbolic link", it->name);
            else
                it->fate = FATE_SKIP;
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            set_reason(it, "refused: %s is not a regular file", it->name);
            continue;
        }
        if (st.st_nlink > 1) {
            /* A hard link could point at any file of the same owner. */
            close(fd);
            set_reason(it, "refused: %s has %lu hard links", it->name,
                       (unsigned long)st.st_nlink);
            continue;
        }
        it->dev = (int64_t)st.st_dev;
        it->ino = (int64_t)st.st_ino;
        it->mtime_ns =
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        snprintf(pname, sizeof(pname), "p-%llx-%zu",
                 (unsigned long long)b->seq0, i);
        struct h2h_err e = {0};
        int rc = fsu_copy_fd(fd, b->data_dir, pname, FSU_NO_DIRSYNC, it->sha256,
                             &it->size, &e);
        close(fd);
        if (rc) {
            it->fate = FATE_SKIP;
            set_reason(it, "copy failed: %s", e.msg);
            it->fate = FATE_SKIP;
            continue;
        }
        fsu_join(it->payload, sizeof(it->payload), b->data_dir, pname);
        char *why = NULL;
        if (render_validate_input(&b->ropts, it->payload, it->name,
                                  it->business_id, sizeof(it->business_id),
                                  it->bank, sizeof(it->bank), it->kind,
                                  sizeof(it->kind), &why) != 0) {
            unlink(it->payload);
            it->payload[0] = '\0';
            set_reason(it, "%s", why ? why : "invalid input");
            free(why);
        }
    }
    fsu_fsync_dir(b->data_dir, NULL);
}

/* Pool thread: the acceptances are committed; clear the drop folder. */
static void clear_work(uv_work_t *w)
{
    struct batch *b = w->data;
    int touched_drop = 0, touched_rej = 0, touched_arch = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        char path[4096];
        struct h2h_err e = {0};
        fsu_join(path, sizeof(path), b->drop_dir, it->name);
        switch (it->fate) {
        case FATE_ACCEPT:
        case FATE_RECOVERED:
            if (b->archive_dir[0]) {
                if (fsu_move_into(path, b->archive_dir, NULL, it->moved_as,
                                  sizeof(it->moved_as), FSU_NO_DIRSYNC,
                                  &e) == 0)
                    touched_arch = 1;
            } else {
                unlink(path);
            }
            touched_drop = 1;
            break;
        case FATE_REJECT:
        case FATE_DUPLICATE:
            if (fsu_move_into(path, b->rejected_dir,
                              it->safe_name[0] ? it->safe_name : NULL,
                              it->moved_as, sizeof(it->moved_as),
                              FSU_NO_DIRSYNC, &e) == 0) {
                char rname[400];
                const char *text = it->reason ? it->reason : "rejected";
                char *body = NULL;
                if (asprintf(&body, "file: %s\nreason: %s\n",
                             it->safe_name[0] ? it->safe_name : it->name,
                             text) >= 0) {
                    snprintf(rname, sizeof(rname), "%s.reason", it->moved_as);
                    fsu_write_file(b->rejected_dir, rname, body, strlen(body),
                                   FSU_NO_DIRSYNC | FSU_REPLACE, &e);
                    free(body);
                }
                touched_rej = touched_drop = 1;
            }
            break;
        case FATE_SKIP: break;
        }
    }
    if (touched_drop)
        fsu_fsync_dir(b->drop_dir, NULL);
    if (touched_rej)
        fsu_fsync_dir(b->rejected_dir, NULL);
    if (touched_arch)
        fsu_fsync_dir(b->archive_dir, NULL);
}

static void chan_free(struct chan_rt *ch);

static void clear_done(uv_work_t *w, int status)
{
    struct batch *b = w->data;
    struct chan_rt *ch = b->ch;
    struct h2hd *d = ch->d;
    (void)status;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        switch (it->fate) {
        case FATE_REJECT:
            h2h_log(H2H_LOG_WARN, "spool.rejected", "channel", ch->cfg->name,
                    "file", it->name, "moved_to", it->moved_as, "reason",
                    it->reason ? it->reason : "", NULL);
            break;
        case FATE_DUPLICATE:
            h2h_log(H2H_LOG_WARN, "payment.duplicate", "channel", ch->cfg->name,
                    "file", it->name, "msg", it->msg_id, "sha256", it->sha256,
                    "moved_to", it->moved_as, NULL);
            break;
        case FATE_RECOVERED:
            h2h_log(H2H_LOG_INFO, "spool.pickup.recovered", "channel",
                    ch->cfg->name, "file", it->name, "msg", it->msg_id, NULL);
            break;
        default: break;
        }
    }
    batch_free(b);
    ch->busy = 0;
    d->pickups_inflight--;
    engine_kick(d);
    if (ch->closing) {
        if (ch->handles == 0)
            chan_free(ch);
        if (d->stopping)
            h2hd_stop(d, NULL);
        return;
    }
    if (ch->rescan && !d->stopping) {
        ch->rescan = 0;
        pickup_scan(ch);
    }
    if (d->stopping)
        h2hd_stop(d, NULL);
}

static void commit_batch(struct batch *b)
{
    struct chan_rt *ch = b->ch;
    struct h2hd *d = ch->d;
    struct h2h_err err = {0};
    int64_t id_since = h2hd_now_ms() - PICKUP_MSGID_WINDOW_MS;

    if (store_txn_begin(d->store, &err) != 0)
        goto fail;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->fate != FATE_ACCEPT)
            continue;
        struct store_msg old = {0};
        if (store_find_hash(d->store, ch->cfg->name, it->sha256, &old, NULL) ==
            0) {
            snprintf(it->msg_id, sizeof(it->msg_id), "%s", old.id);
            if (old.drop_dev == it->dev && old.drop_ino == it->ino &&
                old.drop_mtime_ns == it->mtime_ns) {
                it->fate = FATE_RECOVERED;
            } else {
                it->fate = FATE_DUPLICATE;
                char when[64] = "";
                time_t t = (time_t)(old.created_ms / 1000);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                set_reason(it,
                           "duplicate: the same content (sha256 %s) was "
                           "accepted as message %s from file \"%s\" at %s; "
                           "it is not sent again",
                           it->sha256, old.id,
                           old.orig_name ? old.orig_name : "", when);
                it->fate = FATE_DUPLICATE;
            }
            store_msg_release(&old);
            unlink(it->payload); /* our fresh copy is not needed */
            continue;
        }
        /* The bank's adapter must take the file's family: a bill-pool
         * request sent to a payments-only bank would at best be refused
         * there, days later. */
        const char *kind = it->kind[0] ? it->kind : "payment";
        const struct cfg_bank *cb = cfg_bank_find(d->cfg, it->bank);
        const char *adapter = cb ? cb->adapter : "?";
        struct bank_rt *brt = h2hd_bank(d, it->bank);
        if (!h2h_adapter_takes(cb ? h2h_adapter_find(cb->adapter) : NULL,
                               brt ? brt->ad : NULL, kind)) {
            set_reason(it,
                       "%s: a %s for bank %s, whose adapter %s does "
                       "not take them; send it through a channel whose "
                       "bank offers %s",
                       it->name,
                       strcmp(kind, "bill") == 0 ? "bill-pool request"
                                                 : "supply-chain-finance "
                                                   "request",
                       it->bank, adapter,
                       strcmp(kind, "bill") == 0 ? "the bill pool"
                                                 : "supply-chain finance");
            unlink(it->payload);
            continue;
        }
        /* An operation on a draft must fit the draft as the bank last
         * described it (billbook.h): refused here, not days later. */
        char today[11]; /* the day the bank will judge it on */
        h2hd_bank_today(d, it->bank, today);
        if (strcmp(kind, "bill") == 0) {
            char *why = NULL;
            if (bbook_check_request(d->store, it->bank, it->payload, today,
                                    &why) != 0) {
                set_reason(it, "%s: %s", it->name, why ? why : "refused");
                free(why);
                unlink(it->payload);
                continue;
            }
        }
        /* Likewise a voucher operation, a cancellation or a financing
         * request against the book of supply-chain finance (scfbook.h). */
        struct sbook_req sreq = {0};
        if (strcmp(kind, "scf") == 0) {
            char *why = NULL;
            if (sbook_check_request(d->store, it->bank, it->payload, today,
                                    &sreq, &why) != 0) {
                set_reason(it, "%s: %s", it->name, why ? why : "refused");
                free(why);
                unlink(it->payload);
                continue;
            }
        }
        /* A bank refuses a reused MsgId, often days later and without a
         * useful reason; say so now, while treasury still has the file.
         * A bill-pool or supply-chain-finance request's ReqId is kept
         * apart from MsgIds. */
        const char *idkind = strcmp(kind, "payment") == 0 ? "msgid" : kind;
        char idkey[CFG_NAME_MAX + 130];
        snprintf(idkey, sizeof(idkey), "%s:%s", it->bank, it->business_id);
        if (it->business_id[0]) {
            int seen = store_id_seen(d->store, idkind, idkey, id_since, &err);
            if (seen < 0)
                goto fail_rollback;
            if (seen) {
                set_reason(it,
                           "%s: %s \"%s\" was already used for bank %s "
                           "by an earlier file in the last %d days; banks "
                           "refuse a reused one: give this file a new one",
                           it->name,
                           strcmp(kind, "payment") == 0 ? "MsgId" : "ReqId",
                           it->business_id, it->bank,
                           (int)(PICKUP_MSGID_WINDOW_MS / 86400000));
                unlink(it->payload);
                continue;
            }
        }
        struct store_accept in = {
            .channel = ch->cfg->name,
            .bank = it->bank,
            .kind = kind,
            .orig_name = it->name,
            .sha256 = it->sha256,
            .payload_path = it->payload,
            .business_id = it->business_id[0] ? it->business_id : NULL,
            .size = (int64_t)it->size,
            .drop_dev = it->dev,
            .drop_ino = it->ino,
            .drop_mtime_ns = it->mtime_ns,
        };
        if (store_accept(d->store, &in, it->msg_id, &err) != 0)
            goto fail_rollback;
        if (it->business_id[0] &&
            store_id_record(d->store, idkind, idkey, it->msg_id, &err) != 0)
            goto fail_rollback;
        /* a cancellation or inquiry is answered by reports naming the
         * financing request: let them find this message too */
        if (sreq.also_kind[0]) {
            snprintf(idkey, sizeof(idkey), "%s:%s", it->bank, sreq.also_id);
            if (store_id_record(d->store, sreq.also_kind, idkey, it->msg_id,
                                &err) != 0)
                goto fail_rollback;
        }
    }
    if (store_txn_commit(d->store, &err) != 0)
        goto fail;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = &b->items[i];
        if (it->fate == FATE_ACCEPT) {
            char sz[32];
            snprintf(sz, sizeof(sz), "%llu", (unsigned long long)it->size);
            h2h_log(H2H_LOG_INFO, "payment.accepted", "msg", it->msg_id,
                    "channel", ch->cfg->name, "bank", it->bank, "file",
                    it->name, "bytes", sz, "sha256", it->sha256, NULL);
        }
    }
    b->work.data = b;
    if (uv_queue_work(d->loop, &b->work, clear_work, clear_done) == 0)
        return;
    clear_done(&b->work, 0);
    return;

fail_rollback:
    store_txn_rollback(d->store);
fail:
    /* Nothing was committed: the drop files stay and are picked up again
     * on the next scan.  Remove our copies. */
    h2h_log(H2H_LOG_ERROR, "spool.accept.failed", "channel", ch->cfg->name,
            "error", err.msg, NULL);
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].payload[0] && b->items[i].fate == FATE_ACCEPT)
            unlink(b->items[i].payload);
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].fate != FATE_REJECT)
            b->items[i].fate = FATE_SKIP;
    b->work.data = b;
    if (uv_queue_work(d->loop, &b->work, clear_work, clear_done) != 0)
        clear_done(&b->work, 0);
}

static void copy_done(uv_work_t *w, int status)
{
    struct batch *b = w->data;
    if (status == UV_ECANCELED) {
        for (size_t i = 0; i < b->n; i++)
            b->items[i].fate = FATE_SKIP;
        clear_done(w, 0);
        return;
    }
    commit_batch(b);
}

/* ---- scanning ------------------------------------------------------------ */

/* A name refused as a name is kept readable in rejected/: control
 * characters and bytes that are not printable ASCII become '_', the length
 * is capped; the .reason file shows the original escaped. */
static void reject_bad_name(struct batch *b, const char *name, const char *why)
{
    struct item *it = &b->items[b->n++];
    char shown[4 * NAMES_DROP_MAX + 1];
    size_t o = 0, k = 0;
    for (const unsigned char *p = (const unsigned char *)name;
         *p && k < NAMES_DROP_MAX - 8; p++, k++) {
        it->safe_name[k] =
            (*p < 0x20 || *p >= 0x7f || *p == '/') ? '_' : (char)*p;
        if (o + 5 < sizeof(shown))
            o += (size_t)(*p < 0x20 || *p >= 0x7f
                              ? snprintf(shown + o, sizeof(shown) - o,
                                         "\\x%02x", *p)
                              : snprintf(shown + o, sizeof(shown) - o, "%c",
                                         *p));
    }
    it->safe_name[k] = '\0';
    if (strstr(it->safe_name, ".."))
        for (char *q = it->safe_name; (q = strstr(q, "..")); q++)
            *q = '_';
    if (it->safe_name[0] == '.' || it->safe_name[0] == '\0')
        it->safe_name[0] = '_';
    snprintf(it->name, sizeof(it->name), "%s", name); /* to move it */
    set_reason(it, "%s (name as received: \"%s%s\")", why, shown,
               name[k] ? "..." : "");
}

static void reject_now(struct batch *b, const char *name, const char *why)
{
    struct item *it = &b->items[b->n++];
    snprintf(it->name, sizeof(it->name), "%s", name);
    set_reason(it, "%s", why);
}

static void rescan_later(struct chan_rt *ch, int64_t delay_ms);

void pickup_scan(struct chan_rt *ch)
{
    struct h2hd *d = ch->d;
    const struct cfg_channel *cc = ch->cfg;
    if (d->stopping || ch->closing)
        return;
    if (ch->busy) {
        ch->rescan = 1;
        return;
    }
    DIR *dir = opendir(cc->drop_dir);
    if (!dir) {
        h2h_log(H2H_LOG_ERROR, "spool.scan.failed", "channel", cc->name, "dir",
                cc->drop_dir, "error", strerror(errno), NULL);
        return;
    }
    size_t max = d->cfg->batch_max > 0 ? (size_t)d->cfg->batch_max : 64;
    struct batch *b = calloc(1, sizeof(*b));
    if (b)
        b->items = calloc(max, sizeof(*b->items));
    if (!b || !b->items) {
        free(b);
        closedir(dir);
        return;
    }
    b->ch = ch;
    snprintf(b->drop_dir, sizeof(b->drop_dir), "%s", cc->drop_dir);
    snprintf(b->rejected_dir, sizeof(b->rejected_dir), "%s", cc->rejected_dir);
    snprintf(b->archive_dir, sizeof(b->archive_dir), "%s",
             cc->archive_dir ? cc->archive_dir : "");
    snprintf(b->data_dir, sizeof(b->data_dir), "%s", ch->data_dir);
    b->seq0 = ((uint64_t)h2hd_now_ms() << 16) ^ (++d->seq << 8);
    if (render_in_opts_init(&b->ropts, cc) != 0) {
        batch_free(b); /* out of memory: the next scan tries again */
        closedir(dir);
        return;
    }

    int64_t now = h2hd_now_ms();
    int64_t wait_min = -1;
    int more = 0;
    ch->seen->gen++;
    struct dirent *de;
    while ((de = readdir(dir))) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            names_is_ignored(name))
            continue;
        if (b->n >= max) {
            more = 1;
            break;
        }
        struct h2h_err e = {0};
        if (names_check_drop(name, &e) != 0) {
            char why[H2H_ERR_MSG_MAX + 32];
            snprintf(why, sizeof(why), "refused file name: %s", e.msg);
            reject_bad_name(b, name, why);
            continue;
        }
        struct stat st;
        if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            reject_now(b, name, "refused: symbolic links are not accepted");
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            reject_now(b, name, "refused: not a regular file");
            continue;
        }
        int64_t mt =
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        if (cc->stability_ms > 0) {
            struct seen *s = seen_get(ch->seen, name, 1);
            if (!s)
                continue;
            s->gen = ch->seen->gen;
            if (s->size != (int64_t)st.st_size || s->mtime_ns != mt) {
                s->size = (int64_t)st.st_size;
                s->mtime_ns = mt;
                s->since_ms = now;
            }
            /* mtime in the future or too recent: the writer may be busy */
            int64_t quiet = now - s->since_ms;
            int64_t age = now - mt / 1000000;
            if (quiet < cc->stability_ms || age < cc->stability_ms) {
                int64_t left = cc->stability_ms - (quiet < age ? quiet : age);
                if (left < 1)
                    left = 1;
                if (wait_min < 0 || left < wait_min)
                    wait_min = left;
                continue;
            }
        }
        struct item *it = &b->items[b->n++];
        snprintf(it->name, sizeof(it->name), "%s", name);
        it->fate = FATE_ACCEPT;
    }
    closedir(dir);
    if (cc->stability_ms > 0 && !more)
        seen_sweep(ch->seen);
    if (wait_min >= 0)
        rescan_later(ch, wait_min + 5);
    if (b->n == 0) {
        batch_free(b);
        return;
    }
    if (more)
        ch->rescan = 1;
    ch->busy = 1;
    d->pickups_inflight++;
    b->work.data = b;
    if (uv_queue_work(d->loop, &b->work, copy_work, copy_done) != 0) {
        ch->busy = 0;
        d->pickups_inflight--;
        batch_free(b);
    }
}

/* ---- triggers and lifecycle --------------------------------------------- */

static void wait_timer_cb(uv_timer_t *t)
{
    pickup_scan(t->data);
}

static void rescan_later(struct chan_rt *ch, int64_t delay_ms)
{
    if (ch->d->stopping || ch->closing)
        return;
    if (!uv_is_active((uv_handle_t *)&ch->wait_timer) ||
        uv_timer_get_due_in(&ch->wait_timer) > (uint64_t)delay_ms)
        uv_timer_start(&ch->wait_timer, wait_timer_cb, (uint64_t)delay_ms, 0);
}

static void fs_event_cb(uv_fs_event_t *h, const char *filename, int events,
                        int status)
{
    (void)filename;
    (void)events;
    (void)status;
    /* A burst of events (a thousand files arriving) becomes one scan. */
    rescan_later(h->data, 2);
}

void pickup_scan_all(struct h2hd *d)
{
    for (size_t i = 0; i < d->n_chans; i++)
        pickup_scan(d->chans[i]);
}

int pickup_start(struct h2hd *d, struct chan_rt *ch, struct h2h_err *err)
{
    const struct cfg_channel *cc = ch->cfg;
    const char *dirs[] = {cc->drop_dir, cc->out_dir, cc->rejected_dir,
                          cc->archive_dir, ch->data_dir};
    int rc;
    ch->d = d;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (dirs[i] && dirs[i][0] && (rc = fsu_mkdirs(dirs[i], 0750, err)))
            return rc;
    fsu_clean_tmp(ch->data_dir, NULL);
    fsu_clean_tmp(cc->rejected_dir, NULL);

    /* Two daemons must never share a drop folder: a lock inside it (a
     * reload hands the lock over in ch->lock_fd). */
    if (ch->lock_fd < 0) {
        char lock[4096];
        fsu_join(lock, sizeof(lock), cc->drop_dir, ".h2hd.lock");
        ch->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        if (ch->lock_fd < 0)
            return h2h_err_set(err, -errno, "open %s: %s", lock,
                               strerror(errno));
        if (flock(ch->lock_fd, LOCK_EX | LOCK_NB) < 0)
            return h2h_err_set(err, -EBUSY,
                               "drop folder %s is in use by another h2hd",
                               cc->drop_dir);
    }
    ch->seen = seen_new();
    if (!ch->seen)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    uv_timer_init(d->loop, &ch->wait_timer);
    ch->wait_timer.data = ch;
    ch->handles = 1;
    rc = uv_fs_event_init(d->loop, &ch->ev);
    if (rc == 0) {
        ch->ev.data = ch;
        ch->handles++;
        rc = uv_fs_event_start(&ch->ev, fs_event_cb, cc->drop_dir, 0);
        if (rc)
            h2h_log(H2H_LOG_WARN, "spool.watch.unavailable", "channel",
                    cc->name, "error", uv_strerror(rc), NULL);
    }
    h2h_log(H2H_LOG_INFO, "spool.channel.started", "channel", cc->name, "drop",
            cc->drop_dir, "bank", cc->bank, NULL);
    rescan_later(ch, 0);
    return 0;
}

static void chan_free(struct chan_rt *ch)
{
    seen_free(ch->seen);
    if (ch->lock_fd >= 0)
        close(ch->lock_fd);
    struct h2hd *d = ch->d;
    free(ch);
    d->closing_handles--;
    h2hd_stop(d, NULL);
}

static void chan_handle_closed(uv_handle_t *h)
{
    struct chan_rt *ch = h->data;
    if (--ch->handles > 0)
        return;
    /* A batch in flight still uses ch: it frees ch when it is done. */
    if (!ch->busy)
        chan_free(ch);
}

void pickup_close(struct chan_rt *ch)
{
    if (ch->closing)
        return;
    ch->closing = 1;
    ch->d->closing_handles++;
    if (ch->handles == 0) {
        if (!ch->busy)
            chan_free(ch);
        return;
    }
    if (ch->handles == 2)
        uv_close((uv_handle_t *)&ch->ev, chan_handle_closed);
    uv_close((uv_handle_t *)&ch->wait_timer, chan_handle_closed);
}
