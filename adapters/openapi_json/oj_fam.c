/*
 * oj_fam.c - one bill-pool or supply-chain-finance request at the bank,
 * and the records that make its answers durable.
 *
 * A record (state_dir/fam/<bills|scf>-<ReqId>.json):
 *   { "fam", "req_id", "op", "post", "path", "body" (the exact bytes of
 *     the POST), "ctx" (what reading the answers needs), "answered",
 *     "docs": [ doc, ... ] (what the bank said, one document each),
 *     "written" (docs already rendered into outbox/), "follow" (what the
 *     bills round still asks about, or null) }
 * Document i (1-based) of a record is outbox/<bill|scf>-<ReqId>-<i>.xml,
 * rendered from the doc alone, so a crash anywhere makes the same bytes
 * under the same name again.  The order:
 *   submit   record (answered false, body) durable BEFORE the first byte
 *            leaves; every resend takes the body from the record;
 *   answer   record (docs, follow, answered true) durable -> documents
 *            durable in outbox/ -> record (written) -> the callback OK;
 *   recover  an answered record: its documents made sure of -> OK
 *            (nothing asked); else GET /v1/<fam>/requests/{ReqId}: 200 ->
 *            the recorded answer read as if it had just come, 404 ->
 *            NOT_SENT (the resend uses the record's bytes).
 * A record that needs a bills round (a "follow", or documents not all
 * written) has a marker, the empty file fam/open/<record name>, durable
 * before the record needs it and removed after the record is settled
 * (answered, nothing to follow or write), so a round reads only those.
 * Inquiries (GETs) are harmless to repeat: their record is made with the
 * answer; a recover without it is NOT_SENT.
 */
#include "oj_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

void oj_fplan_release(struct oj_fplan *p)
{
    free(p->path);
    free(p->body);
    json_decref(p->ctx);
    memset(p, 0, sizeof(*p));
}

int oj_fam_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 64 || id[0] == '.')
        return 0;
    for (; *id; id++)
        if (!((*id >= 'A' && *id <= 'Z') || (*id >= 'a' && *id <= 'z') ||
              (*id >= '0' && *id <= '9') || strchr("._-", *id)))
            return 0;
    return 1;
}

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- records and documents (thread pool) --------------------------------- */

static int rec_name(const char *fam, const char *req_id, char *buf, size_t n)
{
    if (!fam || !oj_fam_id_ok(req_id))
        return -1;
    snprintf(buf, n, "%s-%s.json", fam, req_id);
    return 0;
}

int oj_fam_open(const json_t *rec)
{
    size_t n = json_array_size(json_object_get(rec, "docs"));
    json_int_t w = json_integer_value(json_object_get(rec, "written"));
    return json_is_object(json_object_get(rec, "follow")) ||
           (json_is_true(json_object_get(rec, "answered")) && (size_t)w < n);
}

/* Answered and nothing left: no writer ever makes such a record open
 * again, so its marker may go even while a submit holds the record. */
static int settled(const json_t *rec)
{
    return json_is_true(json_object_get(rec, "answered")) && !oj_fam_open(rec);
}

static int open_dir(const struct oj *o, char *buf, size_t n,
                    struct h2h_err *err)
{
    if (fsu_join(buf, n, o->fam_dir, OJ_OPEN_DIR) != 0)
        return h2h_err_set(err, H2H_ETOOBIG, "state folder path too long");
    return fsu_mkdirs(buf, 0700, err);
}

static int mark(const struct oj *o, const char *name, unsigned flags,
                struct h2h_err *err)
{
    char dir[OJ_PATH_MAX];
    int rc = open_dir(o, dir, sizeof(dir), err);
    if (rc == 0)
        rc = fsu_write_file(dir, name, "", 0, flags, err);
    return rc == -EEXIST ? 0 : rc;
}

/* Not made durable: a marker that comes back after a crash only costs the
 * next round one read. */
static void unmark(const struct oj *o, const char *name)
{
    char dir[OJ_PATH_MAX], path[OJ_PATH_MAX];
    if (fsu_join(dir, sizeof(dir), o->fam_dir, OJ_OPEN_DIR) == 0 &&
        fsu_join(path, sizeof(path), dir, name) == 0)
        (void)unlink(path);
}

int oj_fam_save(const struct oj *o, const json_t *rec, struct h2h_err *err)
{
    char name[100];
    if (rec_name(js(rec, "fam"), js(rec, "req_id"), name, sizeof(name)) < 0)
        return h2h_err_set(err, H2H_EINVALID, "record without a usable id");
    /* the marker is durable before the record needs it and goes only
     * after the record says it needs nothing more */
    if (oj_fam_open(rec)) {
        int rc = mark(o, name, 0, err);
        if (rc < 0)
            return h2h_err_prefix(err, "marker of %s", name);
    }
    char *txt = json_dumps(rec, JSON_COMPACT);
    if (!txt)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc =
        fsu_write_file(o->fam_dir, name, txt, strlen(txt), FSU_REPLACE, err);
    free(txt);
    if (rc == 0 && settled(rec))
        unmark(o, name);
    return rc;
}

static int is_rec_name(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' && l > 5 && strcmp(n + l - 5, ".json") == 0 &&
           (strncmp(n, "bills-", 6) == 0 || strncmp(n, "scf-", 4) == 0);
}

static json_t *load_named(const char *dir, const char *name)
{
    char path[OJ_PATH_MAX];
    if (fsu_join(path, sizeof(path), dir, name) != 0)
        return NULL;
    return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

/* The records written before there were markers: every one is read once,
 * the open ones marked, then the stamp says the index is whole.  A crash
 * before the stamp makes the next round do it again. */
static int open_build(const struct oj *o, const char *dir,
                      void (*fn)(json_t *rec, void *data), void *data,
                      struct h2h_err *err)
{
    DIR *d = opendir(o->fam_dir);
    if (!d)
        return h2h_err_set(err, -errno, "%s: %s", o->fam_dir, strerror(errno));
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!is_rec_name(de->d_name))
            continue;
        json_t *rec = load_named(o->fam_dir, de->d_name);
        if (!rec)
            continue;
        /* a marker that cannot be made: no stamp, the next round again */
        if (rc == 0 && oj_fam_open(rec))
            rc = mark(o, de->d_name, FSU_NO_DIRSYNC, err);
        fn(rec, data);
        json_decref(rec);
    }
    closedir(d);
    if (rc == 0)
        rc = fsu_fsync_dir(dir, err);
    if (rc == 0)
        rc = fsu_write_file(dir, OJ_OPEN_BUILT, "", 0, FSU_REPLACE, err);
    return rc < 0 ? h2h_err_prefix(err, "indexing %s", o->fam_dir) : 0;
}

int oj_fam_open_each(const struct oj *o, void (*fn)(json_t *rec, void *data),
                     void *data, struct h2h_err *err)
{
    char dir[OJ_PATH_MAX], path[OJ_PATH_MAX];
    int rc = open_dir(o, dir, sizeof(dir), err);
    if (rc < 0)
        return rc;
    if (fsu_join(path, sizeof(path), dir, OJ_OPEN_BUILT) != 0)
        return h2h_err_set(err, H2H_ETOOBIG, "state folder path too long");
    if (access(path, F_OK) != 0)
        return open_build(o, dir, fn, data, err);
    DIR *d = opendir(dir);
    if (!d)
        return h2h_err_set(err, -errno, "%s: %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_rec_name(de->d_name))
            continue;
        json_t *rec = load_named(o->fam_dir, de->d_name);
        /* no record (yet: an inquiry's comes with its answer), or one not
         * answered (yet: its answer is being made): the marker stays */
        if (!rec)
            continue;
        fn(rec, data);
        if (settled(rec))
            unmark(o, de->d_name);
        json_decref(rec);
    }
    closedir(d);
    return 0;
}

static int rec_load(const struct oj *o, const char *fam, const char *req_id,
                    json_t **out, struct h2h_err *err)
{
    char name[100], path[OJ_PATH_MAX];
    *out = NULL;
    if (rec_name(fam, req_id, name, sizeof(name)) < 0 ||
        fsu_join(path, sizeof(path), o->fam_dir, name) != 0)
        return h2h_err_set(err, H2H_EINVALID, "bad record name");
    json_error_t je;
    json_t *r = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!r) {
        FILE *f = fopen(path, "r");
        if (!f && errno == ENOENT)
            return H2H_ENOTFOUND;
        if (f)
            fclose(f);
        return h2h_err_set(err, H2H_EIO, "record %s unreadable: %s", name,
                           je.text);
    }
    *out = r;
    return 0;
}

int oj_fam_put_doc(const struct oj *o, const char *name, const json_t *doc,
                   struct h2h_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    const char *t = js(doc, "t");
    int rc = t && strncmp(t, "bill", 4) == 0
                 ? oj_bill_render(doc, &buf, &len, err)
                 : oj_scf_render(doc, &buf, &len, err);
    if (rc < 0)
        return h2h_err_prefix(err, "document %s", name);
    rc = fsu_write_file(o->dirs.outbox, name, buf, len, 0, err);
    free(buf);
    /* the name was made from the same doc: the same bytes are there */
    return rc == -EEXIST ? 0 : rc;
}

int oj_fam_flush(const struct oj *o, json_t *rec, struct h2h_err *err)
{
    const char *fam = js(rec, "fam"), *id = js(rec, "req_id");
    json_t *docs = json_object_get(rec, "docs");
    size_t n = json_array_size(docs);
    size_t w = (size_t)json_integer_value(json_object_get(rec, "written"));
    if (w >= n)
        return 0;
    for (size_t i = w; i < n; i++) {
        char name[120];
        snprintf(name, sizeof(name), "%s-%s-%zu.xml",
                 fam && strcmp(fam, "bills") == 0 ? "bill" : "scf", id, i + 1);
        int rc = oj_fam_put_doc(o, name, json_array_get(docs, i), err);
        if (rc < 0)
            return rc;
    }
    json_object_set_new(rec, "written", json_integer((json_int_t)n));
    return oj_fam_save(o, rec, err);
}

/* ---- answers -> docs ------------------------------------------------------
 */

json_t *oj_bill_answer(const json_t *ctx, long status, const json_t *answer,
                       json_t **follow, struct h2h_err *err);
json_t *oj_scf_answer(const struct oj_settings *s, const json_t *ctx,
                      long status, const json_t *answer, json_t **follow,
                      struct h2h_err *err);

json_t *oj_fam_answer(const struct oj_settings *s, const json_t *ctx,
                      long status, const json_t *answer, json_t **follow,
                      struct h2h_err *err)
{
    *follow = NULL;
    const char *fam = js(ctx, "fam");
    if (fam && strcmp(fam, "bills") == 0)
        return oj_bill_answer(ctx, status, answer, follow, err);
    return oj_scf_answer(s, ctx, status, answer, follow, err);
}

/* ---- paged GETs -----------------------------------------------------------
 */

#define FETCH_PAGE_SIZE 200
#define FETCH_MAX_PAGES 10000

struct fetch {
    struct oj *o;
    char *path;
    const char *items;
    json_t *all;
    long page;
    oj_fetch_fn done;
    void *data;
};

static int fetch_page(struct fetch *f, struct h2h_err *err);

static void fetch_end(struct fetch *f, long status, json_t *got,
                      const struct h2h_err *err)
{
    struct oj *o = f->o;
    oj_fetch_fn done = f->done;
    void *data = f->data;
    json_decref(f->all);
    free(f->path);
    free(f);
    done(o, data, status, got, err);
}

static void fetch_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct fetch *f = data;
    struct h2h_err e = {0};
    (void)o;
    if (r->outcome != H2H_OUT_OK) {
        e = r->err;
        fetch_end(f, 0, NULL, &e);
        return;
    }
    if (r->status != 200 || !f->items) {
        fetch_end(f, r->status, json_incref(r->json), NULL);
        return;
    }
    json_t *v = json_object_get(r->json, f->items);
    long pages =
        (long)json_integer_value(json_object_get(r->json, "total_pages"));
    if (!json_is_array(v)) {
        h2h_err_set(&e, H2H_EPROTO, "the bank's answer to %s has no %s",
                    f->path, f->items);
        fetch_end(f, 0, NULL, &e);
        return;
    }
    json_array_extend(f->all, v);
    if (json_array_size(v) == 0 || f->page >= pages ||
        f->page >= FETCH_MAX_PAGES) {
        json_t *all = json_incref(f->all);
        fetch_end(f, 200, all, NULL);
        return;
    }
    f->page++;
    if (fetch_page(f, &e) != 0)
        fetch_end(f, 0, NULL, &e);
}

static int fetch_page(struct fetch *f, struct h2h_err *err)
{
    char *path = NULL;
    int rc;
    if (!f->items)
        path = strdup(f->path);
    else if (asprintf(&path, "%s%cpage=%ld&page_size=%d", f->path,
                      strchr(f->path, '?') ? '&' : '?', f->page,
                      FETCH_PAGE_SIZE) < 0)
        path = NULL;
    if (!path)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    struct oj_call_spec sp = {
        .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
    rc = oj_call(f->o, &sp, fetch_cb, f, err);
    free(path);
    return rc;
}

int oj_fetch(struct oj *o, const char *path, const char *items,
             oj_fetch_fn done, void *data, struct h2h_err *err)
{
    struct fetch *f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(path)) || !(f->all = json_array())) {
        if (f)
            free(f->path);
        free(f);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    f->o = o;
    f->items = items;
    f->page = 1;
    f->done = done;
    f->data = data;
    int rc = fetch_page(f, err);
    if (rc < 0) {
        json_decref(f->all);
        free(f->path);
        free(f);
    }
    return rc;
}

/* ---- submit and recover ---------------------------------------------------
 */

struct oj_fmsg {
    struct oj_fmsg *next; /* o->fmsgs */
    struct oj *o;
    struct h2h_submit_req *req;
    h2h_result_cb cb;
    int recover;
    int scf;
    char *payload;
    struct oj_fplan plan;
    json_t *rec;
    int done_already; /* prepare found an answered record */
    int not_sent;     /* recover of an inquiry that has no answer */
    int rc;
    struct h2h_err err;
    uv_work_t work;
    struct h2h_result res;
    /* the answer being recorded */
    long status;
    json_t *answer;
};

static const char *fam_name(const struct oj_fmsg *m)
{
    return m->scf ? "scf" : "bills";
}

int oj_fam_running(const struct oj *o, const char *fam, const char *req_id)
{
    for (const struct oj_fmsg *p = o->fmsgs; p; p = p->next)
        if (p->plan.req_id[0] && strcmp(p->plan.req_id, req_id) == 0 &&
            strcmp(fam_name(p), fam) == 0)
            return 1;
    return 0;
}

static void fmsg_free(struct oj_fmsg *m)
{
    oj_fplan_release(&m->plan);
    json_decref(m->rec);
    json_decref(m->answer);
    free(m->payload);
    free(m);
}

static void finish(struct oj_fmsg *m)
{
    struct oj *o = m->o;
    for (struct oj_fmsg **pp = &o->fmsgs; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    if (m->res.outcome == H2H_OUT_OK)
        oj_note_ok(o);
    m->cb(&o->base, m->req, &m->res);
    fmsg_free(m);
    oj_op_done(o);
}

static void fail(struct oj_fmsg *m, enum h2h_outcome out,
                 const struct h2h_err *e)
{
    m->res.outcome = out;
    m->res.err = *e;
    if (e->code != H2H_ECANCELED && out != H2H_OUT_PERMFAIL)
        oj_note_err(m->o, e);
    finish(m);
}

static void ok(struct oj_fmsg *m)
{
    m->res.outcome = H2H_OUT_OK;
    h2h_err_clear(&m->res.err);
    snprintf(m->res.bank_ref, sizeof(m->res.bank_ref), "%s", m->plan.req_id);
    finish(m);
}

/* The answer is in: record, documents, written (thread pool). */
static void answer_work(uv_work_t *w)
{
    struct oj_fmsg *m = w->data;
    json_t *follow = NULL;
    json_t *docs = oj_fam_answer(&m->o->s, m->plan.ctx, m->status, m->answer,
                                 &follow, &m->err);
    m->rc = 0;
    if (!docs) {
        m->rc = m->err.code ? m->err.code : H2H_ENOMEM;
        return;
    }
    json_array_extend(json_object_get(m->rec, "docs"), docs);
    json_decref(docs);
    json_object_set_new(m->rec, "follow", follow ? follow : json_null());
    json_object_set_new(m->rec, "answered", json_true());
    if ((m->rc = oj_fam_save(m->o, m->rec, &m->err)) == 0)
        m->rc = oj_fam_flush(m->o, m->rec, &m->err);
}

static void answer_after(uv_work_t *w, int status)
{
    struct oj_fmsg *m = w->data;
    oj_work_done(m->o);
    if (status != 0 || m->rc < 0) {
        struct h2h_err e = m->err;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        h2h_err_prefix(&e,
                       "the bank answered %s, but the answer could not "
                       "be stored (a retry asks again)",
                       m->plan.req_id);
        /* a document the bank's JSON cannot make will not get better */
        fail(m,
             m->rc == H2H_EPROTO || m->rc == H2H_EINVALID ? H2H_OUT_PERMFAIL
                                                          : H2H_OUT_TEMPFAIL,
             &e);
        return;
    }
    ok(m);
}

static void record_answer(struct oj_fmsg *m, long status, json_t *answer)
{
    struct h2h_err e = {0};
    m->status = status;
    m->answer = answer;
    m->work.data = m;
    if (oj_queue_work(m->o, &m->work, answer_work, answer_after, &e) != 0)
        fail(m, H2H_OUT_TEMPFAIL, &e);
}

static void cxl_view_cb(struct oj *o, void *data, long status, json_t *got,
                        const struct h2h_err *err)
{
    struct oj_fmsg *m = data;
    (void)o;
    (void)err;
    json_t *ans = json_pack("{s:O,s:o}", "refusal", m->answer, "view",
                            status == 200 && got ? got : json_null());
    if (status != 200)
        json_decref(got);
    json_decref(m->answer);
    m->answer = NULL;
    if (!status) {
        /* cannot tell the financing's status now: ask again later */
        struct h2h_err e = *err;
        json_decref(ans);
        h2h_err_prefix(&e,
                       "cancellation %s refused; asking for the "
                       "financing",
                       m->plan.req_id);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    record_answer(m, 422, ans);
}

/* A refused cancellation: its report needs the financing's status, which
 * the refusal does not carry. */
static int cxl_refused(struct oj_fmsg *m, const json_t *j)
{
    const json_t *ctx = m->plan.ctx;
    struct h2h_err e = {0};
    char path[200];
    if (!js(ctx, "kind") || strcmp(js(ctx, "kind"), "cancel") != 0)
        return 0;
    m->answer = json_incref((json_t *)j);
    snprintf(path, sizeof(path), "/v1/scf/financing/%s", js(ctx, "orig"));
    if (oj_fetch(m->o, path, NULL, cxl_view_cb, m, &e) != 0)
        fail(m, H2H_OUT_TEMPFAIL, &e);
    return 1;
}

/* A POST's answer (or the one the bank recorded for it). */
static void take_post_answer(struct oj_fmsg *m, long s, const json_t *j,
                             const char *prob)
{
    struct h2h_err e = {0};
    const char *code = js(j, "error");
    if (s == 200 || s == 201 ||
        (s == 422 && code && strcmp(code, "idempotency_key_reused") != 0)) {
        /* 422 BILnnn / SCFnnn: the bank recorded a refusal; the result
         * says so and the book rejects the message */
        if (s == 422 && cxl_refused(m, j))
            return;
        record_answer(m, s, json_incref((json_t *)j));
        return;
    }
    enum h2h_outcome out =
        s == 408 || s == 429 || s >= 500 ? H2H_OUT_TEMPFAIL : H2H_OUT_PERMFAIL;
    if (s == 422)
        h2h_err_set(&e, H2H_EDUP,
                    "%s: the bank holds another request under key %s: %s",
                    m->plan.op, m->plan.req_id, prob);
    else if (s == 400)
        h2h_err_set(&e, H2H_EINVALID, "%s %s refused by the bank: %s",
                    m->plan.op, m->plan.req_id, prob);
    else
        h2h_err_set(&e, H2H_EPROTO, "%s %s: HTTP %ld %s", m->plan.op,
                    m->plan.req_id, s, prob);
    fail(m, out, &e);
}

static void post_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct oj_fmsg *m = data;
    char prob[400];
    (void)o;
    if (r->outcome != H2H_OUT_OK) {
        struct h2h_err e = r->err;
        h2h_err_prefix(&e, "%s %s", m->plan.op, m->plan.req_id);
        fail(m, r->outcome, &e);
        return;
    }
    oj_reply_problem(r, prob, sizeof(prob));
    take_post_answer(m, r->status, r->json, prob);
}

static void recover_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct oj_fmsg *m = data;
    struct h2h_err e = {0};
    char prob[400];
    (void)o;
    if (r->outcome != H2H_OUT_OK) {
        e = r->err;
        h2h_err_prefix(&e, "asking the bank for request %s", m->plan.req_id);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    oj_reply_problem(r, prob, sizeof(prob));
    const char *code = js(r->json, "error");
    if (r->status == 404 && code && strcmp(code, "request_not_found") == 0) {
        h2h_err_set(&e, H2H_ENOTFOUND,
                    "request %s was never recorded by the bank; it is sent "
                    "again with the same bytes",
                    m->plan.req_id);
        fail(m, H2H_OUT_NOT_SENT, &e);
        return;
    }
    json_t *ans = json_object_get(r->json, "answer");
    json_int_t hs = json_integer_value(json_object_get(r->json, "http_status"));
    if (r->status != 200 || !json_is_object(ans) || !hs) {
        h2h_err_set(&e, H2H_EPROTO,
                    "cannot tell whether the bank has request %s: HTTP %ld %s",
                    m->plan.req_id, r->status, prob);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    oj_reply_problem(&(struct oj_reply){.status = hs, .json = ans}, prob,
                     sizeof(prob));
    take_post_answer(m, (long)hs, ans, prob);
}

static void inquiry_cb(struct oj *o, void *data, long status, json_t *got,
                       const struct h2h_err *err)
{
    struct oj_fmsg *m = data;
    struct h2h_err e = {0};
    (void)o;
    if (!status) {
        e = *err;
        h2h_err_prefix(&e, "%s %s", m->plan.op, m->plan.req_id);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    const char *code = js(got, "error");
    if (status == 200 ||
        (status == 404 && code &&
         (strncmp(code, "BIL", 3) == 0 || strncmp(code, "SCF", 3) == 0))) {
        record_answer(m, status, got);
        return;
    }
    char prob[400];
    oj_reply_problem(&(struct oj_reply){.status = status, .json = got}, prob,
                     sizeof(prob));
    json_decref(got);
    h2h_err_set(&e, status == 400 ? H2H_EINVALID : H2H_EPROTO,
                "%s %s: HTTP %ld %s", m->plan.op, m->plan.req_id, status, prob);
    fail(m,
         status == 400 || (status >= 401 && status < 408) ? H2H_OUT_PERMFAIL
                                                          : H2H_OUT_TEMPFAIL,
         &e);
}

static int send_post(struct oj_fmsg *m, struct h2h_err *err)
{
    struct oj *o = m->o;
    char *sig = NULL, *h_sig = NULL, *h_key = NULL;
    int rc = cert_cms_sign_b64(o->sign_id, m->plan.body, m->plan.body_len, 0,
                               &sig, err);
    if (rc < 0)
        return h2h_err_prefix(err, "signing the request");
    if (asprintf(&h_sig, "X-Request-Signature: %s", sig) < 0)
        h_sig = NULL;
    if (asprintf(&h_key, "Idempotency-Key: %s", m->plan.req_id) < 0)
        h_key = NULL;
    free(sig);
    if (!h_sig || !h_key) {
        free(h_sig);
        free(h_key);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    const char *hdrs[] = {h_key, h_sig, NULL};
    struct oj_call_spec sp = {.method = "POST",
                              .path = m->plan.path,
                              .body = m->plan.body,
                              .body_len = m->plan.body_len,
                              .content_type = "application/json",
                              .headers = hdrs};
    rc = oj_call(o, &sp, post_cb, m, err);
    free(h_sig);
    free(h_key);
    return rc;
}

static int send_recover(struct oj_fmsg *m, struct h2h_err *err)
{
    char path[200];
    snprintf(path, sizeof(path), "/v1/%s/requests/%s", fam_name(m),
             m->plan.req_id);
    struct oj_call_spec sp = {
        .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
    return oj_call(m->o, &sp, recover_cb, m, err);
}

static json_t *rec_new(const struct oj_fmsg *m)
{
    const struct oj_fplan *p = &m->plan;
    json_t *r =
        json_pack("{s:s,s:s,s:s,s:b,s:s,s:s?,s:O,s:b,s:[],s:i,s:n}", "fam",
                  fam_name(m), "req_id", p->req_id, "op", p->op, "post",
                  p->post, "path", p->path, "body", p->body, "ctx", p->ctx,
                  "answered", 0, "docs", "written", 0, "follow");
    return r;
}

static void prepare_work(uv_work_t *w)
{
    struct oj_fmsg *m = w->data;
    struct oj *o = m->o;
    m->rc = m->scf ? oj_scf_plan(m->payload, &o->s, &m->plan, &m->err)
                   : oj_bill_plan(m->payload, &o->s, &m->plan, &m->err);
    if (m->rc < 0)
        return;
    json_t *rec = NULL;
    int rc = rec_load(o, fam_name(m), m->plan.req_id, &rec, &m->err);
    if (rc == 0) {
        m->rec = rec;
        const char *was = js(rec, "body");
        if (m->plan.post && was && m->plan.body &&
            strcmp(was, m->plan.body) != 0) {
            /* the ReqId went to the bank with other content before */
            m->rc = h2h_err_set(&m->err, H2H_EDUP,
                                "request id %s was used before for another "
                                "%s request",
                                m->plan.req_id, fam_name(m));
            return;
        }
        if (json_is_true(json_object_get(rec, "answered"))) {
            m->done_already = 1;
            m->rc = oj_fam_flush(o, rec, &m->err);
            return;
        }
        /* sent before (or about to be): the very bytes of then */
        const char *body = js(rec, "body"), *path = js(rec, "path");
        if (m->plan.post && body && path) {
            free(m->plan.body);
            free(m->plan.path);
            m->plan.body = strdup(body);
            m->plan.path = strdup(path);
            m->plan.body_len = strlen(body);
            if (!m->plan.body || !m->plan.path)
                m->rc = h2h_err_set(&m->err, H2H_ENOMEM, "out of memory");
        }
        return;
    }
    if (rc != H2H_ENOTFOUND) {
        m->rc = rc;
        return;
    }
    if (!(m->rec = rec_new(m))) {
        m->rc = h2h_err_set(&m->err, H2H_ENOMEM, "out of memory");
        return;
    }
    if (!m->plan.post) {
        m->not_sent = m->recover;
        return; /* a GET: the record comes with the answer */
    }
    /* write-ahead: durable before anything leaves */
    m->rc = oj_fam_save(o, m->rec, &m->err);
}

static void prepare_after(uv_work_t *w, int status)
{
    struct oj_fmsg *m = w->data;
    struct oj *o = m->o;
    struct h2h_err e = {0};
    oj_work_done(o);
    if (status != 0) {
        h2h_err_set(&e, H2H_ECANCELED, "canceled");
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    if (m->rc < 0) {
        /* the payload is immutable: what cannot be read or sent now never
         * can; storage and memory may come back */
        int perm = m->rc == H2H_EINVALID || m->rc == H2H_EPARSE ||
                   m->rc == H2H_EDUP || m->rc == H2H_EUNSUPPORTED ||
                   m->rc == H2H_ECHARSET || m->rc == H2H_ESECURITY;
        fail(m, perm ? H2H_OUT_PERMFAIL : H2H_OUT_TEMPFAIL, &m->err);
        return;
    }
    if (m->done_already) {
        ok(m);
        return;
    }
    if (m->not_sent) {
        h2h_err_set(&e, H2H_ENOTFOUND, "inquiry %s has no answer yet",
                    m->plan.req_id);
        fail(m, H2H_OUT_NOT_SENT, &e);
        return;
    }
    if (o->closing) {
        h2h_err_set(&e, H2H_ECANCELED, "bank %s is shutting down",
                    o->base.bank);
        fail(m, H2H_OUT_TEMPFAIL, &e);
        return;
    }
    int rc;
    if (m->plan.post)
        rc = m->recover ? send_recover(m, &e) : send_post(m, &e);
    else if (m->recover) /* an inquiry recorded but not answered: no */
        rc = h2h_err_set(&e, H2H_ESTATE, "inquiry without answer");
    else
        rc = oj_fetch(o, m->plan.path, m->plan.items, inquiry_cb, m, &e);
    if (rc < 0)
        fail(m,
             e.code == H2H_ENOMEM || e.code == H2H_ECANCELED ? H2H_OUT_TEMPFAIL
                                                             : H2H_OUT_PERMFAIL,
             &e);
}

int oj_fam_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
                  h2h_result_cb cb, int recover, struct h2h_err *err)
{
    struct oj *o = (struct oj *)a;
    int scf = strcmp(req->kind, "scf") == 0;
    if (!(o->s.kinds & (scf ? H2H_KIND_SCF : H2H_KIND_BILLS)))
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "bank %s does not take %s requests (see "
                           "openapi_json.kinds)",
                           a->bank, req->kind);
    /* one operation per request id at a time: the same record */
    const char *id = req->remote_name;
    if (id && oj_fam_running(o, scf ? "scf" : "bills", id))
        return h2h_err_set(err, H2H_ESTATE,
                           "an operation on %s is already running", id);
    struct oj_fmsg *m = calloc(1, sizeof(*m));
    if (!m || !(m->payload = strdup(req->payload))) {
        free(m);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    m->o = o;
    m->req = req;
    m->cb = cb;
    m->recover = recover;
    m->scf = scf;
    if (id)
        snprintf(m->plan.req_id, sizeof(m->plan.req_id), "%s", id);
    m->work.data = m;
    int rc = oj_queue_work(o, &m->work, prepare_work, prepare_after, err);
    if (rc < 0) {
        fmsg_free(m);
        return rc;
    }
    m->next = o->fmsgs;
    o->fmsgs = m;
    o->ops++;
    return 0;
}
