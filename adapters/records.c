/*
 * records.c - per-message records and the pain.002 reports made from
 * them; see records.h for the record and the write order.
 */
#include "records.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "amount.h"
#include "fsutil.h"
#include "pain002.h"

int arec_status_pending(const char *sts)
{
    if (!sts)
        return 1;
    return !(strncmp(sts, "AC", 2) == 0 || strcmp(sts, "RJCT") == 0);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long jint(const json_t *o, const char *k)
{
    return (long)json_integer_value(json_object_get(o, k));
}

static void now_ts(char out[48])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char b[24];
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 48, "%s.%03dZ", b, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* ---- the report ------------------------------------------------------------
 */

/* Group status from the transaction statuses. */
static const char *grp_status(const json_t *txs)
{
    size_t i, n = json_array_size(txs), rj = 0, pend = 0;
    const char *first = NULL;
    int same = 1;
    json_t *t;
    json_array_foreach(txs, i, t)
    {
        const char *s = jstr(t, "status");
        if (arec_status_pending(s))
            pend++;
        else if (strcmp(s, "RJCT") == 0)
            rj++;
        if (!first)
            first = s;
        else if (!s || strcmp(first, s) != 0)
            same = 0;
    }
    if (pend)
        return "PDNG";
    if (rj == n)
        return "RJCT";
    if (rj)
        return "PART";
    return same && first && strlen(first) == 4 ? first : "ACCP";
}

int arec_report(const json_t *rec, char **buf, size_t *len, char *name,
                size_t namesz, struct h2h_err *err)
{
    struct fmt_status_report r;
    json_t *txs = json_object_get(rec, "txs");
    const char *msg_id = jstr(rec, "msg_id");
    long seq = jint(rec, "seq");
    char mid[64];
    FILE *f = NULL;
    int rc = 0;
    *buf = NULL;
    *len = 0;
    fmt_status_report_init(&r);
    if (!msg_id || seq < 1 || !json_is_array(txs) || !json_array_size(txs))
        return h2h_err_set(err, H2H_EPARSE,
                           "record without msg_id, seq or "
                           "transactions");
    /* MsgId is at most 35 characters: h2hd's ids are far shorter */
    snprintf(mid, sizeof(mid), "%.24s-S%ld", msg_id, seq);
    snprintf(name, namesz, "pain002_%s_%ld.xml", msg_id, seq);
    size_t n = json_array_size(txs);
    /* the model's strings are borrowed from rec: pointers only, never
     * released through fmt_status_report_release */
    r.msg_id = mid;
    r.cre_dt_tm = (char *)jstr(rec, "cre_dt_tm");
    r.orgnl_msg_id = (char *)jstr(rec, "orgnl_msg_id");
    r.orgnl_msg_nm_id = (char *)jstr(rec, "orgnl_nm_id");
    r.orgnl_nb_of_txs = (int64_t)n;
    r.grp_sts = (char *)grp_status(txs);
    r.pmts = calloc(n, sizeof(*r.pmts));
    struct fmt_tx_status *ts = calloc(n, sizeof(*ts));
    struct fmt_reason *rs = calloc(n, sizeof(*rs));
    if (!r.pmts || !ts || !rs) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    /* consecutive transactions of one payment group form one
     * OrgnlPmtInfAndSts, in file order */
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(txs, i);
        const char *pid = jstr(t, "pmt_inf_id");
        if (!pid)
            pid = "NOTPROVIDED";
        struct fmt_pmt_status *p = r.n_pmts ? &r.pmts[r.n_pmts - 1] : NULL;
        if (!p || strcmp(p->orgnl_pmt_inf_id, pid) != 0) {
            p = &r.pmts[r.n_pmts++];
            p->orgnl_pmt_inf_id = (char *)pid;
            p->txs = &ts[i];
        }
        struct fmt_tx_status *x = &ts[i];
        p->n_txs++;
        x->sts_id = (char *)jstr(t, "payment_id");
        x->orgnl_instr_id = (char *)jstr(t, "instr_id");
        x->orgnl_end_to_end_id = (char *)jstr(t, "e2e");
        x->sts = (char *)jstr(t, "status");
        const char *reason = jstr(t, "reason"), *error = jstr(t, "error");
        if (reason || error) {
            /* a refused payment: the bank's words, as narrative */
            rs[i].code = (char *)(reason ? reason : "NARR");
            rs[i].addtl_info = (char *)error;
            x->reasons = &rs[i];
            x->n_reasons = 1;
        }
        const char *amt = jstr(t, "amount"), *ccy = jstr(t, "ccy");
        int64_t minor;
        if (amt && ccy &&
            fmt_amount_parse(amt, strlen(amt), ccy, 0, &minor, NULL) == 0) {
            x->amt.minor = minor;
            snprintf(x->amt.ccy, sizeof(x->amt.ccy), "%s", ccy);
        }
    }
    f = open_memstream(buf, len);
    if (!f) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    rc = fmt_pain002_write(f, &r, 10, err);
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_EIO, "out of memory");
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
out:
    free(r.pmts);
    free(ts);
    free(rs);
    return rc;
}

/* ---- durable records -------------------------------------------------------
 */

static int rec_write(const char *dir, const json_t *rec, struct h2h_err *err)
{
    char name[128];
    snprintf(name, sizeof(name), "%s.json", jstr(rec, "msg_id"));
    char *s = json_dumps(rec, JSON_COMPACT);
    if (!s)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = fsu_write_file(dir, name, s, strlen(s), FSU_REPLACE, err);
    free(s);
    return rc;
}

/* 0 with *out, -ENOENT when there is none, or another error. */
static int rec_load(const char *dir, const char *name, json_t **out,
                    struct h2h_err *err)
{
    char path[AREC_PATH_MAX];
    json_error_t je;
    *out = NULL;
    if (fsu_join(path, sizeof(path), dir, name) != 0)
        return h2h_err_set(err, H2H_ETOOBIG, "path too long");
    if (access(path, F_OK) != 0)
        return errno == ENOENT
                   ? -ENOENT
                   : h2h_err_set(err, -errno, "%s: %s", path, strerror(errno));
    json_t *r = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!r || !jstr(r, "msg_id") || !json_is_array(json_object_get(r, "txs"))) {
        json_decref(r);
        return h2h_err_set(err, H2H_EPARSE, "record %s is damaged: %s", path,
                           r ? "fields missing" : je.text);
    }
    *out = r;
    return 0;
}

static int any_pending(const json_t *rec)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rec, "txs"), i, t)
    {
        if (arec_status_pending(jstr(t, "status")))
            return 1;
    }
    return 0;
}

int arec_ensure(const struct arec_dirs *d, json_t *rec, struct h2h_err *err)
{
    long seq = jint(rec, "seq");
    if (jint(rec, "written") >= seq)
        return 0;
    char *buf = NULL, name[200];
    size_t len = 0;
    int rc = arec_report(rec, &buf, &len, name, sizeof(name), err);
    if (rc < 0)
        return rc;
    rc = fsu_write_file(d->outbox, name, buf, len, 0, err);
    free(buf);
    /* already there: the same bytes, from before a crash */
    if (rc == -EEXIST)
        rc = 0;
    if (rc < 0)
        return rc;
    json_object_set_new(rec, "written", json_integer(seq));
    if (any_pending(rec))
        return rec_write(d->pending, rec, err);
    if ((rc = rec_write(d->done, rec, err)) < 0)
        return rc;
    char path[AREC_PATH_MAX], name2[128];
    snprintf(name2, sizeof(name2), "%s.json", jstr(rec, "msg_id"));
    if (fsu_join(path, sizeof(path), d->pending, name2) == 0 &&
        unlink(path) == 0)
        fsu_fsync_dir(d->pending, NULL);
    return 0;
}

int arec_open(const struct arec_dirs *d, const char *msg_id, json_t *rec,
              int *fresh, struct h2h_err *err)
{
    char name[128];
    json_t *old = NULL;
    *fresh = 0;
    snprintf(name, sizeof(name), "%s.json", msg_id);
    int rc = rec_load(d->done, name, &old, err);
    if (rc == -ENOENT)
        rc = rec_load(d->pending, name, &old, err);
    if (rc == 0) {
        rc = arec_ensure(d, old, err);
        json_decref(old);
        return rc;
    }
    if (rc != -ENOENT)
        return rc;
    char ts[48];
    now_ts(ts);
    json_object_set_new(rec, "seq", json_integer(1));
    json_object_set_new(rec, "written", json_integer(0));
    json_object_set_new(rec, "cre_dt_tm", json_string(ts));
    if ((rc = rec_write(d->pending, rec, err)) < 0)
        return rc;
    *fresh = 1;
    return arec_ensure(d, rec, err);
}

int arec_advance(const struct arec_dirs *d, json_t *rec, struct h2h_err *err)
{
    char ts[48];
    now_ts(ts);
    json_object_set_new(rec, "seq", json_integer(jint(rec, "seq") + 1));
    json_object_set_new(rec, "cre_dt_tm", json_string(ts));
    int rc = rec_write(d->pending, rec, err);
    return rc < 0 ? rc : arec_ensure(d, rec, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of dir ending in suffix (not hidden), sorted; caller frees. */
static int list_dir(const char *dir, const char *suffix, char ***out, size_t *n,
                    struct h2h_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *dh = opendir(dir);
    if (!dh)
        return h2h_err_set(err, -errno, "%s: %s", dir, strerror(errno));
    size_t cap = 0, sl = strlen(suffix);
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(dh))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= sl ||
            strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(*out, cap * sizeof(*v));
            if (!v) {
                rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
                break;
            }
            *out = v;
        }
        if (!((*out)[*n] = strdup(de->d_name))) {
            rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(dh);
    if (*n)
        qsort(*out, *n, sizeof(**out), cmp_str);
    return rc;
}

void arec_names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int arec_outbox_list(const struct arec_dirs *d, char ***out, size_t *n,
                     struct h2h_err *err)
{
    return list_dir(d->outbox, ".xml", out, n, err);
}

static void prune_done(const struct arec_dirs *d)
{
    char **v;
    size_t n;
    time_t now = time(NULL);
    if (list_dir(d->done, ".json", &v, &n, NULL) < 0)
        return;
    int removed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[AREC_PATH_MAX];
        struct stat st;
        if (fsu_join(path, sizeof(path), d->done, v[i]) == 0 &&
            stat(path, &st) == 0 && st.st_mtime + AREC_DONE_KEEP_S < now &&
            unlink(path) == 0)
            removed = 1;
    }
    if (removed)
        fsu_fsync_dir(d->done, NULL);
    arec_names_free(v, n);
}

int arec_pending(const struct arec_dirs *d, int prune, json_t **out,
                 struct h2h_err *err)
{
    char **v;
    size_t n;
    *out = NULL;
    if (prune)
        prune_done(d);
    int rc = list_dir(d->pending, ".json", &v, &n, err);
    if (rc < 0)
        return rc;
    json_t *all = json_array();
    if (!all) {
        arec_names_free(v, n);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *rec = NULL, *done = NULL;
        struct h2h_err e = {0};
        if (rec_load(d->done, v[i], &done, &e) == 0) {
            /* moved to done/, its pending copy not yet removed (crash) */
            char path[AREC_PATH_MAX];
            json_decref(done);
            if (fsu_join(path, sizeof(path), d->pending, v[i]) == 0)
                unlink(path);
            continue;
        }
        if (rec_load(d->pending, v[i], &rec, &e) < 0) {
            /* a damaged record stays for a person; the others go on */
            if (rc == 0)
                rc = h2h_err_set(err, e.code, "%s", e.msg);
            continue;
        }
        if (arec_ensure(d, rec, &e) < 0) {
            if (rc == 0)
                rc = h2h_err_set(err, e.code, "%s", e.msg);
        } else if (!any_pending(rec)) {
            json_decref(rec);
            continue;
        }
        json_array_append_new(all, rec);
    }
    arec_names_free(v, n);
    *out = all;
    return rc;
}

int arec_dirs_init(struct arec_dirs *d, const char *state_dir,
                   struct h2h_err *err)
{
    int rc;
    if (!state_dir || !*state_dir)
        return h2h_err_set(err, H2H_ECONFIG,
                           "the adapter needs a state folder (h2hd passes "
                           "<state_dir>/adapters/<bank>)");
    snprintf(d->state, sizeof(d->state), "%s", state_dir);
    if ((rc = fsu_join(d->outbox, sizeof(d->outbox), state_dir, "outbox")) ||
        (rc = fsu_join(d->pending, sizeof(d->pending), state_dir, "pending")) ||
        (rc = fsu_join(d->done, sizeof(d->done), state_dir, "done")))
        return h2h_err_set(err, rc, "state folder path too long");
    const char *dirs[] = {d->outbox, d->pending, d->done};
    for (size_t i = 0; i < 3; i++) {
        if ((rc = fsu_mkdirs(dirs[i], 0700, err)) < 0)
            return rc;
        /* a crash may have left a temporary of an unfinished write */
        fsu_clean_tmp(dirs[i], NULL);
    }
    return 0;
}

int arec_outbox_copy(const struct arec_dirs *d, const char *name,
                     const char *dir, const char *local_name, char sha256[65],
                     uint64_t *size, struct h2h_err *err)
{
    char src[AREC_PATH_MAX];
    int rc = fsu_join(src, sizeof(src), d->outbox, name);
    if (rc != 0)
        return h2h_err_set(err, rc, "status report %s: path too long", name);
    return fsu_copy_file(src, dir, local_name, 0, sha256, size, err);
}

void arec_outbox_done(const struct arec_dirs *d, const char *name)
{
    char path[AREC_PATH_MAX];
    if (fsu_join(path, sizeof(path), d->outbox, name) == 0)
        unlink(path);
}
