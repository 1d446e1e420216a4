/*
 * cx_fam.c - submit and recover of a bill or scf message (PROFILE.md
 * "Bill pool and supply-chain finance", "What h2hd does with them").
 *
 * An operation is one request under the serial serial_prefix + msg_id:
 *   prepare  (thread pool) read and plan the dropped document (cx_bill.c,
 *            cx_scf.c): what the bank would refuse fails the message
 *            here.  Build and sign the request and make the record
 *            (state_dir/fam/<msg_id>.json: ReqId <-> serial, the exact
 *            bytes) durable before the first byte leaves; a record that
 *            exists already gives its bytes back, so a retry never sends
 *            other bytes under the serial;
 *   send     once;
 *   finish   (thread pool) an ok answer becomes the <BillResult> /
 *            <ScfResult>, durable in outbox/ (poll delivers it to
 *            out/bills, out/scf), then the record notes it.
 * Outcomes: ok -> OK; busy or nothing sent -> TEMPFAIL; errors.duplicate
 * and every other code -> PERMFAIL with the bank's code and message
 * (nothing was done); no usable answer (or one whose status no table
 * lists) -> UNKNOWN.  Recover: no record -> NOT_SENT (nothing left the
 * machine); else the query function by serial: ok -> OK and the result
 * written unless it was before, not_found -> NOT_SENT, else TEMPFAIL.
 *
 * Inquiries send nothing that changes anything: their calls (every page)
 * run, one result is written, and the record notes it; a recover finds
 * the record (OK) or runs them again (NOT_SENT).
 *
 * The record also carries what the bills rounds (cx_fam_poll.c) need:
 * "final" (0 while the bank says pending), "sum" (status and terms last
 * reported) and "results" (the results written, which names the next).
 * A record a round follows has a marker, the empty file fam/open/<msg_id>
 * .json, durable before the record needs it and removed once the record
 * is settled (final, an inquiry, or nothing a round asks about); a
 * financing has an entry fam/byreq/<ReqId> holding its msg_id, written
 * before its record, for cancellations and inquiries.  The first round
 * without fam/open/.built (an older version's records) reads every record
 * once to make both.
 */
#include "cx_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

#define REC_MAX (1u << 20)
#define MAX_PAGES 1000

struct cx_fop {
    struct cx *c;
    struct h2h_submit_req *req;
    h2h_result_cb cb;
    int recover;
    char msg_id[64];
    char kind[8]; /* "bill" or "scf": copied, read by the thread pool */
    char *payload;
    struct cx_plan pl;
    struct cx_common common; /* the request's {request_id} {date} {time} */
    struct cx_request rq;
    json_t *rec;    /* the record, NULL while there is none */
    int rec_failed; /* the request or its record could not be made */
    int rc;
    struct h2h_err err;
    /* answers kept for the finish (inquiries: every page) */
    struct cx_answer **pages;
    size_t n_pages;
    struct cx_answer *history;
    enum cx_fn ans_fn;
    char page[80];
    int step; /* inquiry: 0 pages, 1 history */
    uv_work_t work;
    struct h2h_result res;
};

static void fop_free(struct cx_fop *f)
{
    for (size_t i = 0; i < f->n_pages; i++) {
        cx_answer_release(f->pages[i]);
        free(f->pages[i]);
    }
    free(f->pages);
    if (f->history) {
        cx_answer_release(f->history);
        free(f->history);
    }
    cx_plan_release(&f->pl);
    cx_request_release(&f->rq);
    json_decref(f->rec);
    free(f->payload);
    free(f);
}

static void done(struct cx_fop *f, enum h2h_outcome out,
                 const struct h2h_err *e)
{
    struct cx *c = f->c;
    f->res.outcome = out;
    if (e)
        f->res.err = *e;
    else
        h2h_err_clear(&f->res.err);
    if (out == H2H_OUT_OK)
        cx_note_ok(c);
    else if (out != H2H_OUT_NOT_SENT && e && e->code != H2H_ECANCELED)
        cx_note_err(c, e);
    f->cb(&c->base, f->req, &f->res);
    fop_free(f);
    cx_op_done(c);
}

/* ---- records (thread pool) --------------------------------------------- */

static int rec_path(const struct cx *c, const char *msg_id, char *buf, size_t n)
{
    char name[96];
    snprintf(name, sizeof(name), "%s.json", msg_id);
    return fsu_join(buf, n, c->fam_dir, name);
}

json_t *cx_fam_rec_load(const struct cx *c, const char *msg_id)
{
    char path[CX_PATH_MAX];
    if (rec_path(c, msg_id, path, sizeof(path)) != 0)
        return NULL;
    return json_load_file(path, 0, NULL);
}

int cx_fam_rec_followed(const json_t *rec)
{
    if (json_is_true(json_object_get(rec, "final")) ||
        json_is_true(json_object_get(rec, "inquiry")) ||
        !json_integer_value(json_object_get(rec, "results")))
        return 0;
    json_int_t fn = json_integer_value(json_object_get(rec, "fn"));
    return fn == CX_FN_BILL_OPERATION || fn == CX_FN_SCF_FINANCING ||
           fn == CX_FN_VOUCHER_OPERATION;
}

/* Never followed again, whoever writes it next: its marker may go even
 * while a submit holds the record.  (One without results yet is not: its
 * first result may leave it pending.) */
static int settled(const json_t *rec)
{
    json_int_t fn = json_integer_value(json_object_get(rec, "fn"));
    return json_is_true(json_object_get(rec, "final")) ||
           json_is_true(json_object_get(rec, "inquiry")) ||
           !(fn == CX_FN_BILL_OPERATION || fn == CX_FN_SCF_FINANCING ||
             fn == CX_FN_VOUCHER_OPERATION);
}

static int sub_dir(const struct cx *c, const char *sub, char *buf, size_t n,
                   struct h2h_err *err)
{
    if (fsu_join(buf, n, c->fam_dir, sub) != 0)
        return h2h_err_set(err, H2H_ETOOBIG, "state folder path too long");
    return fsu_mkdirs(buf, 0700, err);
}

static int mark(const struct cx *c, const char *name, unsigned flags,
                struct h2h_err *err)
{
    char dir[CX_PATH_MAX];
    int rc = sub_dir(c, CX_OPEN_DIR, dir, sizeof(dir), err);
    if (rc == 0)
        rc = fsu_write_file(dir, name, "", 0, flags, err);
    return rc == -EEXIST ? 0 : rc;
}

/* Not made durable: a marker that comes back after a crash only costs the
 * next round one read. */
static void unmark(const struct cx *c, const char *name)
{
    char dir[CX_PATH_MAX], path[CX_PATH_MAX];
    if (fsu_join(dir, sizeof(dir), c->fam_dir, CX_OPEN_DIR) == 0 &&
        fsu_join(path, sizeof(path), dir, name) == 0)
        (void)unlink(path);
}

int cx_fam_rec_save(const struct cx *c, json_t *rec, struct h2h_err *err)
{
    const char *id = json_string_value(json_object_get(rec, "msg_id"));
    char name[96];
    if (!id)
        return h2h_err_set(err, H2H_EINVALID, "record without msg_id");
    snprintf(name, sizeof(name), "%s.json", id);
    /* the marker is durable before the record needs it and goes only
     * after the record says it is settled */
    if (cx_fam_rec_followed(rec)) {
        int rc = mark(c, name, 0, err);
        if (rc < 0)
            return h2h_err_prefix(err, "marker of %s", id);
    }
    char *s = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
    if (!s)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = fsu_write_file(c->fam_dir, name, s, strlen(s), FSU_REPLACE, err);
    free(s);
    if (rc == 0 && settled(rec))
        unmark(c, name);
    return rc < 0 ? h2h_err_prefix(err, "record of %s", id) : 0;
}

/* 1 when a ReqId can name its index entry. */
static int req_name_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= 64 && id[0] != '.' &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789._-") == n;
}

/* A financing's entry fam/byreq/<ReqId> (its msg_id), so that a
 * cancellation or inquiry finds it without reading every record. */
static int req_index(const struct cx *c, const json_t *rec, unsigned flags,
                     struct h2h_err *err)
{
    const char *req = json_string_value(json_object_get(rec, "req_id"));
    const char *id = json_string_value(json_object_get(rec, "msg_id"));
    char dir[CX_PATH_MAX];
    if (json_integer_value(json_object_get(rec, "fn")) != CX_FN_SCF_FINANCING ||
        !req_name_ok(req) || !id)
        return 0;
    int rc = sub_dir(c, CX_BYREQ_DIR, dir, sizeof(dir), err);
    if (rc == 0)
        rc = fsu_write_file(dir, req, id, strlen(id), flags | FSU_REPLACE, err);
    return rc < 0 ? h2h_err_prefix(err, "index entry of %s", req) : 0;
}

static int is_rec_name(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' && l > 5 && l < 64 && strcmp(n + l - 5, ".json") == 0;
}

/* 1 when the indexes are whole: every record before them was read. */
static int built(const struct cx *c)
{
    char dir[CX_PATH_MAX], path[CX_PATH_MAX];
    return fsu_join(dir, sizeof(dir), c->fam_dir, CX_OPEN_DIR) == 0 &&
           fsu_join(path, sizeof(path), dir, CX_OPEN_BUILT) == 0 &&
           access(path, F_OK) == 0;
}

struct build_q {
    const struct cx *c;
    void (*fn)(json_t *rec, void *data);
    void *data;
    int rc;
    struct h2h_err *err;
};

static int build_one(json_t *rec, void *data)
{
    struct build_q *q = data;
    const char *id = json_string_value(json_object_get(rec, "msg_id"));
    char name[96];
    /* a marker that cannot be made: no stamp, the next round again */
    if (q->rc == 0 && id && cx_fam_rec_followed(rec)) {
        snprintf(name, sizeof(name), "%s.json", id);
        q->rc = mark(q->c, name, FSU_NO_DIRSYNC, q->err);
    }
    if (q->rc == 0)
        q->rc = req_index(q->c, rec, FSU_NO_DIRSYNC, q->err);
    q->fn(rec, q->data);
    return 0;
}

/* The records written before the indexes: every one read once, the
 * followed ones marked and the financings indexed, then the stamp.  A
 * crash before the stamp makes the next round do it again. */
static int build(const struct cx *c, void (*fn)(json_t *rec, void *data),
                 void *data, struct h2h_err *err)
{
    char opend[CX_PATH_MAX], byreq[CX_PATH_MAX];
    struct build_q q = {.c = c, .fn = fn, .data = data, .err = err};
    int rc = sub_dir(c, CX_OPEN_DIR, opend, sizeof(opend), err);
    if (rc == 0)
        rc = sub_dir(c, CX_BYREQ_DIR, byreq, sizeof(byreq), err);
    if (rc < 0)
        return rc;
    cx_fam_rec_each(c, build_one, &q);
    if ((rc = q.rc) == 0 && (rc = fsu_fsync_dir(opend, err)) == 0 &&
        (rc = fsu_fsync_dir(byreq, err)) == 0)
        rc = fsu_write_file(opend, CX_OPEN_BUILT, "", 0, FSU_REPLACE, err);
    return rc < 0 ? h2h_err_prefix(err, "indexing %s", c->fam_dir) : 0;
}

int cx_fam_open_each(const struct cx *c, void (*fn)(json_t *rec, void *data),
                     void *data, struct h2h_err *err)
{
    char dir[CX_PATH_MAX];
    if (!built(c))
        return build(c, fn, data, err);
    if (fsu_join(dir, sizeof(dir), c->fam_dir, CX_OPEN_DIR) != 0)
        return h2h_err_set(err, H2H_ETOOBIG, "state folder path too long");
    DIR *d = opendir(dir);
    if (!d)
        return h2h_err_set(err, -errno, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (!is_rec_name(e->d_name))
            continue;
        char id[64];
        snprintf(id, sizeof(id), "%.*s", (int)(l - 5), e->d_name);
        json_t *rec = cx_fam_rec_load(c, id);
        /* no record, or one in flight (no result yet): the marker stays */
        if (!rec)
            continue;
        fn(rec, data);
        if (settled(rec))
            unmark(c, e->d_name);
        json_decref(rec);
    }
    closedir(d);
    return 0;
}

/* Result n of a record: outbox/<msg_id>-<n>.xml, made durable there
 * (the same name again replaces: a record that did not note it yet makes
 * it again). */
int cx_fam_outbox_put(const struct cx *c, const char *stem, const char *doc,
                      size_t len, struct h2h_err *err)
{
    char name[160];
    snprintf(name, sizeof(name), "%s.xml", stem);
    int rc = fsu_write_file(c->dirs.outbox, name, doc, len, FSU_REPLACE, err);
    return rc < 0 ? h2h_err_prefix(err, "result %s", name) : 0;
}

/* A new result of rec: written to the outbox, then noted in the record. */
int cx_fam_rec_result(const struct cx *c, json_t *rec, const char *doc,
                      size_t len, int final, const char *sum,
                      struct h2h_err *err)
{
    json_int_t n = json_integer_value(json_object_get(rec, "results")) + 1;
    char stem[128];
    snprintf(stem, sizeof(stem), "%s-%lld",
             json_string_value(json_object_get(rec, "msg_id")), (long long)n);
    int rc = cx_fam_outbox_put(c, stem, doc, len, err);
    if (rc < 0)
        return rc;
    json_object_set_new(rec, "results", json_integer(n));
    json_object_set_new(rec, "final", json_boolean(final));
    if (sum)
        json_object_set_new(rec, "sum", json_string(sum));
    return cx_fam_rec_save(c, rec, err);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_enc(const char *p, size_t n)
{
    char *o = malloc(4 * ((n + 2) / 3) + 1), *q = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)p[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)p[i + 2];
        *q++ = b64[v >> 18 & 63];
        *q++ = b64[v >> 12 & 63];
        *q++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *q++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *q = '\0';
    return o;
}

static char *b64_dec(const char *s, size_t *n)
{
    size_t l = strlen(s);
    char *o = malloc(l / 4 * 3 + 1);
    if (!o || l % 4)
        goto bad;
    *n = 0;
    for (size_t i = 0; i < l; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *x = strchr(b64, s[i + k]);
            if (s[i + k] == '=') {
                pad++;
                v <<= 6;
            } else if (!x || !s[i + k] || pad) {
                goto bad;
            } else {
                v = v << 6 | (unsigned)(x - b64);
            }
        }
        o[(*n)++] = (char)(v >> 16);
        if (pad < 2)
            o[(*n)++] = (char)(v >> 8);
        if (pad < 1)
            o[(*n)++] = (char)v;
    }
    o[*n] = '\0';
    return o;
bad:
    free(o);
    return NULL;
}

int cx_fam_rec_each(const struct cx *c, int (*fn)(json_t *rec, void *data),
                    void *data)
{
    DIR *d = opendir(c->fam_dir);
    struct dirent *e;
    int stop = 0;
    while (d && !stop && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (!is_rec_name(e->d_name))
            continue;
        char id[64];
        snprintf(id, sizeof(id), "%.*s", (int)(l - 5), e->d_name);
        json_t *rec = cx_fam_rec_load(c, id);
        if (rec)
            stop = fn(rec, data);
        json_decref(rec);
    }
    if (d)
        closedir(d);
    return stop;
}

struct serial_q {
    const char *req_id;
    char *serial;
    size_t n;
};

static int serial_match(json_t *rec, void *data)
{
    struct serial_q *q = data;
    const char *r = json_string_value(json_object_get(rec, "req_id"));
    const char *s = json_string_value(json_object_get(rec, "serial"));
    if (!r || !s || strcmp(r, q->req_id) != 0 ||
        json_integer_value(json_object_get(rec, "fn")) != CX_FN_SCF_FINANCING)
        return 0;
    snprintf(q->serial, q->n, "%s", s);
    return 1;
}

static int serial_from(const json_t *rec, const char *req_id, char *serial,
                       size_t n)
{
    struct serial_q q = {.req_id = req_id, .serial = serial, .n = n};
    return rec && serial_match((json_t *)rec, &q) ? 0 : -1;
}

/* The serial of the financing whose ReqId is req_id (cancel, inquiry):
 * by its index entry; records older than the index (no stamp yet) and
 * ReqIds that cannot name an entry by reading every record. */
static int serial_of(void *data, const char *req_id, char *serial, size_t n)
{
    const struct cx *c = data;
    char dir[CX_PATH_MAX], path[CX_PATH_MAX], *id = NULL;
    size_t len;
    struct h2h_err e = {0};
    if (req_name_ok(req_id) &&
        fsu_join(dir, sizeof(dir), c->fam_dir, CX_BYREQ_DIR) == 0 &&
        fsu_join(path, sizeof(path), dir, req_id) == 0 &&
        fsu_read_file(path, 96, &id, &len, &e) == 0) {
        json_t *rec = strlen(id) == len ? cx_fam_rec_load(c, id) : NULL;
        int rc = serial_from(rec, req_id, serial, n);
        json_decref(rec);
        free(id);
        if (rc == 0)
            return 0;
    }
    if (req_name_ok(req_id) && built(c))
        return -1;
    struct serial_q q = {.req_id = req_id, .serial = serial, .n = n};
    return cx_fam_rec_each(c, serial_match, &q) ? 0 : -1;
}

static int plan(struct cx_fop *f)
{
    char serial[64];
    snprintf(serial, sizeof(serial), "%s%s",
             f->c->s.serial_prefix ? f->c->s.serial_prefix : "", f->msg_id);
    if (strcmp(f->kind, "bill") == 0)
        return cx_bill_plan(f->c, f->payload, serial, &f->pl, &f->err);
    return cx_scf_plan(f->c, f->payload, serial, serial_of, f->c, &f->pl,
                       &f->err);
}

static void set_common(struct cx_fop *f)
{
    struct cx_vals *v = &f->pl.v;
    v->v[CX_T_FUNCTION] = f->c->p->fn[f->pl.fn].code;
    v->v[CX_T_LOGIN] = f->c->s.login;
    v->v[CX_T_USER] = f->c->s.user;
    v->v[CX_T_REQUEST_ID] = f->common.request_id;
    v->v[CX_T_DATE] = f->common.date;
    v->v[CX_T_TIME] = f->common.time;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* An operation's record: the bytes it sends, made durable first. */
static int record_request(struct cx_fop *f)
{
    struct cx *c = f->c;
    if (f->rec && jstr(f->rec, "body")) {
        /* sent (or about to be) before: the same bytes, the same echo */
        snprintf(f->common.request_id, sizeof(f->common.request_id), "%s",
                 jstr(f->rec, "request_id") ? jstr(f->rec, "request_id") : "");
        snprintf(f->common.date, sizeof(f->common.date), "%s",
                 jstr(f->rec, "date") ? jstr(f->rec, "date") : "");
        snprintf(f->common.time, sizeof(f->common.time), "%s",
                 jstr(f->rec, "time") ? jstr(f->rec, "time") : "");
        set_common(f);
        f->rq.body = b64_dec(jstr(f->rec, "body"), &f->rq.len);
        if (!f->rq.body)
            return h2h_err_set(&f->err, H2H_EIO,
                               "record of %s: its request bytes are damaged",
                               f->msg_id);
        const char *sig = jstr(f->rec, "sig");
        if (sig && !(f->rq.sig_header_value = strdup(sig)))
            return h2h_err_set(&f->err, H2H_ENOMEM, "out of memory");
        return 0;
    }
    set_common(f);
    int rc = cx_request_build(c->p, f->pl.fn, &f->pl.v, f->pl.items,
                              f->pl.n_items, c->sign_id, &f->rq, &f->err);
    if (rc < 0)
        return rc;
    char *body = b64_enc(f->rq.body, f->rq.len);
    json_t *r = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s?,s:b,s:i}",
        "msg_id", f->msg_id, "kind", f->kind, "req_id", f->pl.req_id, "serial",
        f->pl.serial, "op", f->pl.op, "fam", (int)f->pl.fam, "fn",
        (int)f->pl.fn, "query", (int)f->pl.query, "orig_req", f->pl.orig_req,
        "request_id", f->common.request_id, "date", f->common.date, "time",
        f->common.time, "sig", f->rq.sig_header_value, "final", 0, "results",
        0);
    if (!body || !r) {
        free(body);
        json_decref(r);
        return h2h_err_set(&f->err, H2H_ENOMEM, "out of memory");
    }
    json_object_set_new(r, "body", json_string(body));
    free(body);
    if (f->pl.fn == CX_FN_SCF_CANCEL)
        json_object_set_new(r, "orig_serial",
                            json_string(f->pl.v.v[CX_T_ORIG_SERIAL]));
    json_decref(f->rec);
    f->rec = r;
    /* the entry first: a record never lacks its entry once the index is
     * whole (an entry without its record is a miss) */
    rc = req_index(c, r, 0, &f->err);
    return rc < 0 ? rc : cx_fam_rec_save(c, r, &f->err);
}

static void prepare_work(uv_work_t *w)
{
    struct cx_fop *f = w->data;
    if ((f->rc = plan(f)) < 0)
        return;
    f->rec = cx_fam_rec_load(f->c, f->msg_id);
    if (!f->recover && !f->pl.inquiry && (f->rc = record_request(f)) < 0)
        f->rec_failed = 1;
}

/* ---- the calls ----------------------------------------------------------- */

static void finish_work(uv_work_t *w);
static void finish_after(uv_work_t *w, int status);
static int next_call(struct cx_fop *f, struct h2h_err *err);

static void queue_finish(struct cx_fop *f)
{
    struct h2h_err e = {0};
    f->work.data = f;
    if (cx_queue_work(f->c, &f->work, finish_work, finish_after, &e) != 0)
        done(f, H2H_OUT_TEMPFAIL, &e);
}

static int keep_answer(struct cx_fop *f, const struct cx_answer *a, int history)
{
    struct cx_answer *k = malloc(sizeof(*k));
    if (!k)
        return -1;
    *k = *a; /* the answer is the callback's: take its pointers over */
    if (history) {
        f->history = k;
        return 0;
    }
    struct cx_answer **np = realloc(f->pages, (f->n_pages + 1) * sizeof(*np));
    if (!np) {
        free(k);
        return -1;
    }
    f->pages = np;
    f->pages[f->n_pages++] = k;
    return 0;
}

static void said(const struct cx_answer *a, struct h2h_err *e, int code,
                 const char *what)
{
    h2h_err_set(e, code, "%s: bank code %.20s%s%.300s", what, a->code,
                a->message ? ": " : "", a->message ? a->message : "");
}

static void call_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct cx_fop *f = data;
    struct h2h_err e = {0};
    (void)c;
    if (r->out != H2H_OUT_OK) {
        e = r->err;
        /* an inquiry can always be asked again */
        enum h2h_outcome o = r->out;
        if ((f->recover || f->pl.inquiry) && o == H2H_OUT_UNKNOWN)
            o = H2H_OUT_TEMPFAIL;
        done(f, o, &e);
        return;
    }
    const struct cx_answer *a = r->ans;
    switch (a->cls) {
    case CX_CODE_OK: break;
    case CX_CODE_BUSY:
        said(a, &e, H2H_ESTATE, "the bank is busy, nothing was done");
        done(f, H2H_OUT_TEMPFAIL, &e);
        return;
    case CX_CODE_NOT_FOUND:
        if (f->recover && !f->pl.inquiry) {
            said(a, &e, H2H_ENOTFOUND,
                 "the bank has no request under this serial; it is sent "
                 "again");
            done(f, H2H_OUT_NOT_SENT, &e);
            return;
        }
        said(a, &e, H2H_ENOTFOUND, "not found");
        done(f, f->recover ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL, &e);
        return;
    case CX_CODE_DUPLICATE:
        said(a, &e, H2H_EDUP,
             "the bank holds another request under this serial");
        done(f, H2H_OUT_PERMFAIL, &e);
        return;
    default:
        said(a, &e, H2H_EINVALID, "refused by the bank, nothing was done");
        done(f, f->recover ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL, &e);
        return;
    }
    int more = 0;
    if (f->pl.inquiry && f->step == 0 &&
        c->p->fn[f->ans_fn].result[CX_K_ITEMS]) {
        /* every page of a list */
        more = cx_fam_page_next(c->p, a, f->page, sizeof(f->page));
        if (f->n_pages + 1 >= MAX_PAGES)
            more = 0;
    }
    if (keep_answer(f, a, f->step == 1) != 0) {
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        done(f, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    /* the answer's strings are ours now: cx_call.c releases an emptied
     * answer after this callback */
    memset((struct cx_answer *)a, 0, sizeof(*a));
    if (!more && f->pl.inquiry && f->step == 0 && f->pl.draft_no[0] &&
        c->p->fn[CX_FN_BILL_HISTORY].code) {
        f->step = 1; /* draft_detail: then the draft's history */
        more = 1;
    }
    if (more) {
        if (next_call(f, &e) != 0)
            done(f, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    queue_finish(f);
}

static int next_call(struct cx_fop *f, struct h2h_err *err)
{
    struct cx *c = f->c;
    struct cx_vals v = f->pl.v;
    if (!f->pl.inquiry && !f->recover) {
        f->ans_fn = f->pl.fn;
        return cx_call_send(c, f->pl.fn, &f->rq, &f->pl.v, call_cb, f, err);
    }
    if (!f->pl.inquiry) {
        /* recover: ask by serial (a cancellation: its financing) */
        struct cx_vals q;
        memset(&q, 0, sizeof(q));
        q.v[CX_T_SERIAL] = f->pl.fn == CX_FN_SCF_CANCEL
                               ? f->pl.v.v[CX_T_ORIG_SERIAL]
                               : f->pl.serial;
        f->ans_fn = f->pl.query;
        return cx_call(c, f->pl.query, &q, call_cb, f, err);
    }
    if (f->step == 1) {
        memset(&v, 0, sizeof(v));
        v.v[CX_T_DRAFT_NO] = f->pl.draft_no;
        f->ans_fn = CX_FN_BILL_HISTORY;
        return cx_call(c, CX_FN_BILL_HISTORY, &v, call_cb, f, err);
    }
    for (int t = CX_T_FUNCTION; t <= CX_T_TIME; t++)
        v.v[t] = NULL;
    if (!f->n_pages)
        cx_fam_page_first(c->p, f->pl.fn, f->page, sizeof(f->page), &v);
    else /* a next page: only lists have one */
        v.v[CX_T_PAGE] = f->page;
    f->ans_fn = f->pl.fn;
    return cx_call(c, f->pl.fn, &v, call_cb, f, err);
}

void cx_fam_page_first(const struct cx_profile *p, enum cx_fn fn, char *page,
                       size_t n, struct cx_vals *v)
{
    page[0] = '\0';
    if (!p->fn[fn].result[CX_K_ITEMS])
        return;
    if (p->paging == CX_PAGING_PAGE)
        snprintf(page, n, "%ld", p->page_first);
    v->v[CX_T_PAGE] = page;
}

int cx_fam_page_next(const struct cx_profile *p, const struct cx_answer *a,
                     char *page, size_t n)
{
    const char *nx = a->top[CX_K_NEXT], *mo = a->top[CX_K_MORE];
    if (p->paging == CX_PAGING_TOKEN && nx && *nx && strlen(nx) < 70) {
        snprintf(page, n, "%s", nx);
        return 1;
    }
    if (p->paging == CX_PAGING_PAGE && mo && a->n_items &&
        strcmp(mo, p->more_value) == 0) {
        snprintf(page, n, "%ld", strtol(page, NULL, 10) + 1);
        return 1;
    }
    return 0;
}

/* ---- finish (thread pool) ------------------------------------------------ */

static void finish_work(uv_work_t *w)
{
    struct cx_fop *f = w->data;
    struct cx *c = f->c;
    char *doc = NULL, *sum = NULL;
    size_t len = 0;
    int final = 1;
    f->rc = 0;
    if (f->pl.inquiry) {
        if (f->pl.fam == CX_FAM_BILLS && f->pl.fn == CX_FN_BILL_POOL)
            f->rc = cx_bill_pool_doc(c, f->pl.req_id, f->pages[0], &doc, &len,
                                     NULL, &f->err);
        else if (f->pl.fam == CX_FAM_BILLS)
            f->rc = cx_bill_list_doc(c, f->pl.req_id, f->pl.op, f->pages,
                                     f->n_pages, f->history, f->pl.draft_no,
                                     &doc, &len, &f->err);
        else if (f->pl.fn == CX_FN_VOUCHER_LIST)
            f->rc = cx_scf_holdings_doc(c, f->pl.req_id, f->pages, f->n_pages,
                                        &doc, &len, NULL, &f->err);
        else
            f->rc = cx_scf_result(c, &f->pl, CX_FN_SCF_QUERY, f->pages[0], &doc,
                                  &len, &final, NULL, &f->err);
        if (f->rc == 0 && !f->rec &&
            !(f->rec =
                  json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:b,s:i}", "msg_id",
                            f->msg_id, "kind", f->kind, "req_id", f->pl.req_id,
                            "fam", (int)f->pl.fam, "fn", (int)f->pl.fn, "query",
                            (int)CX_FN_COUNT, "inquiry", 1, "results", 0)))
            f->rc = h2h_err_set(&f->err, H2H_ENOMEM, "out of memory");
        if (f->rc == 0)
            f->rc = cx_fam_rec_result(c, f->rec, doc, len, 1, NULL, &f->err);
        goto out;
    }
    const struct cx_answer *a = f->pages[0];
    if (f->recover && json_integer_value(json_object_get(f->rec, "results")))
        goto out; /* the result was written before */
    if (f->recover && f->pl.fn == CX_FN_SCF_CANCEL) {
        /* the financing's state says whether the cancellation happened */
        const char *st = cx_tab_name(&c->p->t_fin_status, a->top[CX_K_STATUS]);
        if (!st || strcmp(st, "cancelled") != 0) {
            f->rc = h2h_err_set(&f->err, H2H_ENOTFOUND,
                                "financing %s is %s, not cancelled: the "
                                "cancellation is sent again",
                                f->pl.orig_req, st ? st : "unknown");
            f->rc = 1; /* NOT_SENT */
            goto out;
        }
    }
    if (f->pl.fam == CX_FAM_BILLS)
        f->rc = cx_bill_result(c, &f->pl, a, &doc, &len, &final, &f->err);
    else
        f->rc = cx_scf_result(c, &f->pl, f->ans_fn, a, &doc, &len, &final, &sum,
                              &f->err);
    if (f->rc == 0)
        f->rc = cx_fam_rec_result(c, f->rec, doc, len, final, sum, &f->err);
    if (f->rc == 0 && a->top[CX_K_BANK_REF])
        snprintf(f->res.bank_ref, sizeof(f->res.bank_ref), "%.64s",
                 a->top[CX_K_BANK_REF]);
out:
    free(doc);
    free(sum);
}

static void finish_after(uv_work_t *w, int status)
{
    struct cx_fop *f = w->data;
    struct h2h_err e = f->err;
    cx_work_done(f->c);
    if (status != 0) {
        h2h_err_set(&e, H2H_ECANCELED, "canceled");
        done(f,
             f->pl.inquiry || f->recover ? H2H_OUT_TEMPFAIL : H2H_OUT_UNKNOWN,
             &e);
        return;
    }
    if (f->rc == 1) {
        done(f, H2H_OUT_NOT_SENT, &e);
        return;
    }
    if (f->rc < 0) {
        /* the bank has it; its answer could not be read or kept */
        h2h_err_prefix(&e, "%s %s", f->pl.op, f->pl.req_id);
        done(f,
             f->pl.inquiry || f->recover ? H2H_OUT_TEMPFAIL
             : e.code == H2H_EPROTO      ? H2H_OUT_UNKNOWN
                                         : H2H_OUT_TEMPFAIL,
             &e);
        return;
    }
    done(f, H2H_OUT_OK, NULL);
}

static void prepare_after(uv_work_t *w, int status)
{
    struct cx_fop *f = w->data;
    struct cx *c = f->c;
    struct h2h_err e = f->err;
    cx_work_done(c);
    if (status != 0 || c->closing) {
        h2h_err_set(&e, H2H_ECANCELED, "canceled");
        done(f, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (f->rc < 0) {
        /* what the dropped document asks cannot be sent: no retry helps
         * (a record that could not be written: a retry may) */
        int temp =
            f->rc == H2H_ENOMEM ||
            (f->rec_failed && f->rc != H2H_EINVALID && f->rc != H2H_ECHARSET);
        done(f, temp ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL, &e);
        return;
    }
    if (f->recover) {
        if (!f->rec) {
            h2h_err_set(&e, H2H_ENOTFOUND, "no record: nothing was sent for %s",
                        f->msg_id);
            done(f, H2H_OUT_NOT_SENT, &e);
            return;
        }
        if (f->pl.inquiry ||
            json_integer_value(json_object_get(f->rec, "results"))) {
            if (f->pl.inquiry &&
                !json_integer_value(json_object_get(f->rec, "results"))) {
                h2h_err_set(&e, H2H_ENOTFOUND, "inquiry %s not answered yet",
                            f->pl.req_id);
                done(f, H2H_OUT_NOT_SENT, &e);
                return;
            }
            done(f, H2H_OUT_OK, NULL); /* its result is written */
            return;
        }
    }
    if (next_call(f, &e) != 0)
        done(f, H2H_OUT_TEMPFAIL, &e);
}

int cx_fam_submit(struct cx *c, struct h2h_submit_req *req, h2h_result_cb cb,
                  int recover, struct h2h_err *err)
{
    if (c->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           c->base.bank);
    if (!req || !req->payload || !cb || !req->msg_id)
        return h2h_err_set(err, H2H_EINVALID, "incomplete request");
    size_t n = strlen(req->msg_id);
    if (!n || n > 24 ||
        strspn(req->msg_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                            "vwxyz0123456789-") != n)
        return h2h_err_set(err, H2H_EINVALID,
                           "message id \"%.40s\" cannot be part of a customer "
                           "serial ([A-Za-z0-9-])",
                           req->msg_id);
    struct cx_fop *f = calloc(1, sizeof(*f));
    if (!f || !(f->payload = strdup(req->payload))) {
        free(f);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    f->c = c;
    f->req = req;
    f->cb = cb;
    f->recover = recover;
    snprintf(f->msg_id, sizeof(f->msg_id), "%s", req->msg_id);
    snprintf(f->kind, sizeof(f->kind), "%s",
             strcmp(req->kind, "bill") == 0 ? "bill" : "scf");
    /* fresh ids for a request built now; a recorded one keeps its own */
    cx_request_id(c, f->common.request_id, sizeof(f->common.request_id));
    cx_bank_now(c->p, f->common.date, sizeof(f->common.date), f->common.time,
                sizeof(f->common.time));
    f->work.data = f;
    int rc = cx_queue_work(c, &f->work, prepare_work, prepare_after, err);
    if (rc < 0) {
        fop_free(f);
        return rc;
    }
    c->ops++;
    return 0;
}
