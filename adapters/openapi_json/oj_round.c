/*
 * oj_round.c - the bills round of a poll (every bills_interval, or when a
 * scheduled job or `h2hctl fetch --kind bills` asks): what the bill pool
 * and supply-chain-finance desks have for us that nothing pushes.
 *
 *   1. load     (thread pool) the records still followed (an operation
 *               answered "pending", a financing not final, a voucher
 *               operation awaiting the receiver), found by their markers
 *               in state_dir/fam/open/ (oj_fam_open_each), and
 *               state_dir/fam/seen.json (what was delivered unasked
 *               before);
 *   2. follow   each record's object asked for (GET the draft, the
 *               financing, the voucher); a new document when it moved;
 *   3. bills    GET /v1/bills/notices (every page): one <BillNotice> per
 *               notice not delivered before; GET /v1/bills/pool: a
 *               <BillResult> pool_overview when the figures changed;
 *   4. scf      GET /v1/scf/notices: one repayment notice each, once;
 *               our vouchers: a <Hldgs> when they changed;
 *   5. save     (thread pool) records (docs, follow) durable, their
 *               documents into outbox/, the unasked documents into
 *               outbox/, then seen.json.  A crash between the last two
 *               makes the same documents again under the same names (the
 *               daemon's registry answers H2H_EDUP).
 * The poll then delivers outbox/ as it does status reports.  A transport
 * failure ends the network steps; what was learnt is still saved.
 */
#include "oj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "scf.h"

/* Repayment notices are listed before the financings are asked for: a
 * notice seen implies a view at least as new (see follow_cb). */
enum { R_SNOTICES, R_FOLLOW, R_BNOTICES, R_POOL, R_HLDGS, R_SAVE, R_END };

#define SEEN_NAME "seen.json"
#define SEEN_KEEP 5000 /* ids remembered per list (the newest) */

struct oj_round {
    struct oj *o;
    oj_round_fn done;
    void *data;
    int phase;
    uv_work_t work;
    int wrc;
    struct h2h_err werr;
    json_t *recs; /* followed records */
    size_t next;
    json_t *cur;   /* the record being asked about */
    json_t *dirty; /* records changed */
    json_t *seen;
    json_t *out;      /* [{"name", "doc"}] unasked documents */
    json_t *hl_us;    /* the vouchers we hold, while the others are asked */
    json_t *snotices; /* the bank's repayment notices, this round */
    int seen_dirty;
    int wrote, bank_down, failed;
    struct h2h_err err;
};

static void step(struct oj_round *r);

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void rfail(struct oj_round *r, const struct h2h_err *e, int down)
{
    if (down)
        r->bank_down = 1;
    if (e->code == H2H_ECANCELED || r->failed)
        return;
    r->failed = 1;
    r->err = *e;
}

/* A fetch that did not give a usable 200: no answer at all means the
 * bank is down, any other answer is a protocol failure of what. */
static void fetch_failed(struct oj_round *r, long status,
                         const struct h2h_err *err, const char *what)
{
    struct h2h_err e;
    if (!status)
        e = *err;
    else
        h2h_err_set(&e, H2H_EPROTO, "HTTP %ld", status);
    h2h_err_prefix(&e, "%s", what);
    rfail(r, &e, !status);
}

/* The common head of the work_after callbacks: the pool slot back, and a
 * canceled or failed worker fails the round. */
static void work_ended(struct oj_round *r, int status)
{
    oj_work_done(r->o);
    if (status != 0 || r->wrc < 0) {
        struct h2h_err e = r->werr;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        rfail(r, &e, 0);
    }
}

/* ---- load and save (thread pool) ------------------------------------------
 */

/* One marked record: an interrupted write of its documents is finished
 * first; a record still followed is kept for this round. */
static void load_one(json_t *rec, void *data)
{
    struct oj_round *r = data;
    struct h2h_err e = {0};
    if (json_is_true(json_object_get(rec, "answered")) &&
        oj_fam_flush(r->o, rec, &e) < 0 && r->wrc == 0) {
        r->wrc = e.code;
        r->werr = e;
    }
    if (json_is_object(json_object_get(rec, "follow")))
        json_array_append(r->recs, rec);
}

static void load_work(uv_work_t *w)
{
    struct oj_round *r = w->data;
    struct oj *o = r->o;
    char path[OJ_PATH_MAX];
    struct h2h_err e = {0};
    r->wrc = 0;
    r->recs = json_array();
    int rc = oj_fam_open_each(o, load_one, r, &e);
    if (rc < 0 && r->wrc == 0) {
        r->wrc = rc;
        r->werr = e;
    }
    if (fsu_join(path, sizeof(path), o->fam_dir, SEEN_NAME) == 0)
        r->seen = json_load_file(path, 0, NULL);
    if (!json_is_object(r->seen)) {
        json_decref(r->seen);
        r->seen = json_object();
    }
}

static void save_work(uv_work_t *w)
{
    struct oj_round *r = w->data;
    struct oj *o = r->o;
    size_t i;
    json_t *v;
    r->wrc = 0;
    json_array_foreach(r->dirty, i, v)
    {
        struct h2h_err e = {0};
        int rc = oj_fam_save(o, v, &e);
        if (rc == 0)
            rc = oj_fam_flush(o, v, &e);
        if (rc < 0 && r->wrc == 0) {
            r->wrc = rc;
            r->werr = e;
        }
    }
    json_array_foreach(r->out, i, v)
    {
        struct h2h_err e = {0};
        int rc =
            oj_fam_put_doc(o, js(v, "name"), json_object_get(v, "doc"), &e);
        if (rc < 0) {
            if (r->wrc == 0) {
                r->wrc = rc;
                r->werr = e;
            }
            /* not remembered as delivered: made again next round */
            return;
        }
    }
    if (r->seen_dirty) {
        char *txt = json_dumps(r->seen, JSON_COMPACT);
        struct h2h_err e = {0};
        int rc = txt ? fsu_write_file(o->fam_dir, SEEN_NAME, txt, strlen(txt),
                                      FSU_REPLACE, &e)
                     : h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        free(txt);
        if (rc < 0 && r->wrc == 0) {
            r->wrc = rc;
            r->werr = e;
        }
    }
}

static void work_after(uv_work_t *w, int status)
{
    struct oj_round *r = w->data;
    work_ended(r, status);
    if (r->phase == R_SAVE) {
        r->wrote = json_array_size(r->dirty) + json_array_size(r->out) > 0;
        r->phase = R_END;
    }
    step(r);
}

/* ---- follow-ups ------------------------------------------------------------
 */

static int same_from(const json_t *piece, json_int_t from)
{
    return json_integer_value(json_object_get(
               json_object_get(piece, "sub_range"), "from")) == from;
}

/* The status a signed operation of ours leaves the piece in. */
static const char *final_status(const char *op)
{
    static const char *const t[][2] = {
        {"present_acceptance", "accepted"},
        {"present_receipt", "delivered"},
        {"endorse", "endorsed"},
        {"discount", "discounted"},
        {"pledge", "pledged"},
        {"release", "held"},
        {"present_payment", "paid"},
        {"recourse", "recourse_settled"},
    };
    for (size_t i = 0; op && i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i][0], op) == 0)
            return t[i][1];
    return NULL;
}

/* Our pending operation on a draft ended when its piece no longer shows
 * it pending under our request id. */
static json_t *draft_moved(const json_t *rec, const json_t *got)
{
    const char *req = js(rec, "req_id");
    const json_t *fol = json_object_get(rec, "follow");
    json_int_t from = json_integer_value(json_object_get(fol, "from"));
    const json_t *ps = json_object_get(got, "pieces"), *piece = NULL, *v;
    size_t i;
    json_array_foreach(ps, i, v)
    {
        if (same_from(v, from))
            piece = v;
    }
    if (!piece)
        return NULL;
    const json_t *pend = json_object_get(piece, "pending");
    if (json_is_object(pend) && js(pend, "request_id") &&
        strcmp(js(pend, "request_id"), req) == 0)
        return NULL; /* still waiting */
    /* The piece's history says how our request ended: signed or
     * refused under our request id, or withdrawn (by our own withdraw
     * request, under its id) after ours; failing that, whether the
     * piece reached the operation's final status. */
    const char *op = js(json_object_get(rec, "ctx"), "op");
    const char *outcome = NULL, *text = NULL, *ev, *rid;
    int ours = 0;
    json_array_foreach(json_object_get(piece, "history"), i, v)
    {
        if (!(ev = js(v, "event")))
            continue;
        rid = js(v, "request_id");
        int mine = rid && strcmp(rid, req) == 0;
        if (mine && strcmp(ev, "requested") == 0) {
            ours = 1;
            outcome = text = NULL;
        } else if (mine && strcmp(ev, "signed") == 0) {
            outcome = "accepted";
            text = "signed by the counterparty";
        } else if (mine && strcmp(ev, "refused") == 0) {
            outcome = "rejected";
            text = js(v, "reason") ? js(v, "reason")
                                   : "refused by the counterparty";
        } else if (ours && !outcome && strcmp(ev, "withdrawn") == 0 && op &&
                   js(v, "op") && strcmp(js(v, "op"), op) == 0) {
            outcome = "rejected";
            text = "withdrawn";
        }
    }
    if (!outcome) {
        const char *want = final_status(op);
        const char *st = js(piece, "status");
        outcome = want && st && strcmp(want, st) == 0 ? "accepted" : "rejected";
    }
    json_t *ds = json_array();
    json_array_append_new(ds, oj_bill_piece(piece));
    return oj_bill_doc(json_object_get(rec, "ctx"), outcome, NULL, text, ds);
}

/* A financing repaid whose "paid" notice the bank did not list yet (it
 * came between the two requests): its report waits for the next round,
 * so that the notice is folded first. */
static int repaid_early(const struct oj_round *r, const json_t *view)
{
    size_t i;
    const json_t *n;
    const char *id = js(view, "request_id");
    if (!id ||
        strcmp(js(view, "status") ? js(view, "status") : "", "repaid") != 0)
        return 0;
    json_array_foreach(r->snotices, i, n)
    {
        if (js(n, "request_id") && strcmp(js(n, "request_id"), id) == 0 &&
            js(n, "kind") && strcmp(js(n, "kind"), "paid") == 0)
            return 0;
    }
    return 1;
}

static void follow_cb(struct oj *o, void *data, long status, json_t *got,
                      const struct h2h_err *err)
{
    struct oj_round *r = data;
    json_t *rec = r->cur, *doc = NULL;
    json_t *fol = json_object_get(rec, "follow");
    const char *what = js(fol, "what");
    int stop = 0;
    r->cur = NULL;
    if (!status) {
        struct h2h_err e = *err;
        h2h_err_prefix(&e, "following %s", js(rec, "req_id"));
        rfail(r, &e, 1);
    } else if (status != 200) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO, "following %s: HTTP %ld %s",
                    js(rec, "req_id"), status,
                    js(got, "error") ? js(got, "error") : "");
        rfail(r, &e, 0);
    } else if (what && strcmp(what, "draft") == 0) {
        doc = draft_moved(rec, got);
        stop = doc != NULL;
    } else if (what && strcmp(what, "financing") == 0) {
        char *key = oj_scf_view_key(got);
        if (key && (!js(fol, "key") || strcmp(key, js(fol, "key")) != 0) &&
            !repaid_early(r, got)) {
            doc = oj_scf_sts_doc(got, NULL, NULL, NULL);
            json_object_set_new(fol, "key", json_string(key));
            int st = fmt_scf_status_parse(js(got, "status"));
            stop = st >= 0 && fmt_scf_status_is_final(st);
        }
        free(key);
    } else if (what && strcmp(what, "voucher") == 0) {
        const char *st = js(got, "status");
        if (st && strcmp(st, "pending") != 0) {
            doc = oj_scf_vop_followed(&o->s, rec, got);
            stop = 1;
        }
    }
    if (doc) {
        json_array_append_new(json_object_get(rec, "docs"), doc);
        if (stop)
            json_object_set_new(rec, "follow", json_null());
        json_array_append(r->dirty, rec);
    }
    json_decref(got);
    json_decref(rec);
    step(r);
}

/* 1 when a follow-up was started. */
static int next_follow(struct oj_round *r)
{
    struct oj *o = r->o;
    while (!r->bank_down && !o->closing && r->next < json_array_size(r->recs)) {
        json_t *rec = json_array_get(r->recs, r->next++);
        json_t *fol = json_object_get(rec, "follow");
        const char *what = js(fol, "what"), *id;
        char path[200];
        if (oj_fam_running(o, js(rec, "fam") ? js(rec, "fam") : "",
                           js(rec, "req_id") ? js(rec, "req_id") : ""))
            continue; /* its submit or recover owns the record now */
        if (!what)
            continue;
        if (strcmp(what, "draft") == 0 && oj_fam_id_ok(id = js(fol, "number")))
            snprintf(path, sizeof(path), "/v1/bills/drafts/%s", id);
        else if (strcmp(what, "financing") == 0 && oj_fam_id_ok(js(fol, "id")))
            snprintf(path, sizeof(path), "/v1/scf/financing/%s", js(fol, "id"));
        else if (strcmp(what, "voucher") == 0 && oj_fam_id_ok(js(fol, "id")))
            snprintf(path, sizeof(path), "/v1/scf/vouchers/%s", js(fol, "id"));
        else
            continue;
        struct h2h_err e = {0};
        r->cur = json_incref(rec);
        if (oj_fetch(o, path, NULL, follow_cb, r, &e) == 0)
            return 1;
        json_decref(r->cur);
        r->cur = NULL;
        rfail(r, &e, 1);
    }
    return 0;
}

/* ---- unasked documents ----------------------------------------------------
 */

static json_t *seen_list(struct oj_round *r, const char *k)
{
    json_t *l = json_object_get(r->seen, k);
    if (!json_is_array(l)) {
        l = json_array();
        json_object_set_new(r->seen, k, l);
    }
    return l;
}

static int in_list(const json_t *l, const char *id)
{
    size_t i;
    const json_t *v;
    json_array_foreach(l, i, v)
    {
        if (json_string_value(v) && strcmp(json_string_value(v), id) == 0)
            return 1;
    }
    return 0;
}

static void add_out(struct oj_round *r, const char *name, json_t *doc)
{
    if (doc)
        json_array_append_new(r->out,
                              json_pack("{s:s,s:o}", "name", name, "doc", doc));
}

static void notices_cb(struct oj *o, void *data, long status, json_t *got,
                       const struct h2h_err *err)
{
    struct oj_round *r = data;
    int bills = r->phase == R_BNOTICES;
    (void)o;
    if (status != 200) {
        fetch_failed(r, status, err, bills ? "bill notices" : "scf notices");
    } else {
        if (!bills)
            r->snotices = json_incref(got);
        json_t *l = seen_list(r, bills ? "bill_notices" : "scf_notices");
        size_t i;
        json_t *v;
        json_array_foreach(got, i, v)
        {
            const char *id = js(v, "notice_id");
            char name[120];
            if (!oj_fam_id_ok(id) || in_list(l, id))
                continue;
            /* the poll delivers in name order: a "due" notice after the
             * report that the financing was disbursed (scf- < scfrpmt-),
             * a "paid" one before the report that it is repaid (rpmt- <
             * scf-), as the book folds them */
            const char *k = js(v, "kind");
            snprintf(name, sizeof(name), "%s-%s.xml",
                     bills                         ? "notice"
                     : k && strcmp(k, "paid") == 0 ? "rpmt"
                                                   : "scfrpmt",
                     id);
            add_out(r, name,
                    json_pack("{s:s,s:O}", "t",
                              bills ? "bill_notice" : "scf_rpmt", "notice", v));
            json_array_append_new(l, json_string(id));
            r->seen_dirty = 1;
        }
        while (json_array_size(l) > SEEN_KEEP)
            json_array_remove(l, 0);
    }
    json_decref(got);
    r->phase++;
    step(r);
}

/* A pool overview or holdings document when key differs from the last
 * one delivered: name <what>-<date>-<n>.xml. */
static void changed_doc(struct oj_round *r, const char *what, const char *date,
                        char *key, json_t *doc)
{
    json_t *st = json_object_get(r->seen, what);
    if (!key || !doc || (js(st, "key") && strcmp(js(st, "key"), key) == 0)) {
        json_decref(doc);
        free(key);
        return;
    }
    json_int_t n = json_integer_value(json_object_get(st, "n")) + 1;
    char name[120];
    snprintf(name, sizeof(name), "%s-%s-%lld.xml", what, date, (long long)n);
    add_out(r, name, doc);
    json_object_set_new(r->seen, what,
                        json_pack("{s:s,s:I}", "key", key, "n", n));
    r->seen_dirty = 1;
    free(key);
}

static void pool_cb(struct oj *o, void *data, long status, json_t *got,
                    const struct h2h_err *err)
{
    struct oj_round *r = data;
    (void)o;
    if (status != 200 || !js(got, "as_of")) {
        fetch_failed(r, status, err, "the bill pool");
    } else {
        /* the figures, not the date they are as of */
        json_t *fig = json_deep_copy(got);
        json_object_del(fig, "as_of");
        char *key = json_dumps(fig, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(fig);
        char date[11], id[40];
        snprintf(date, sizeof(date), "%.10s", js(got, "as_of"));
        json_int_t n = json_integer_value(json_object_get(
                           json_object_get(r->seen, "pool"), "n")) +
                       1;
        snprintf(id, sizeof(id), "POOL-%s-%lld", date, (long long)n);
        json_t *ctx =
            json_pack("{s:s,s:s}", "req_id", id, "op", "pool_overview");
        json_t *doc =
            ctx ? oj_bill_doc(ctx, "accepted", NULL, NULL, NULL) : NULL;
        if (doc)
            json_object_set(doc, "pool", got);
        json_decref(ctx);
        if (oj_fam_id_ok(id))
            changed_doc(r, "pool", date, key, doc);
        else {
            json_decref(doc);
            free(key);
        }
    }
    json_decref(got);
    r->phase++;
    step(r);
}

static void hldgs_fail(struct oj_round *r, const struct h2h_err *err);

/* Our member id for holdings: the holder of a voucher we hold, else the
 * scf_parties entry whose account is bills_account, else the one used
 * last time (seen.json). */
static const char *our_member(struct oj_round *r)
{
    const struct oj_settings *s = &r->o->s;
    json_t *first = json_array_get(r->hl_us, 0);
    if (first)
        return NULL; /* oj_scf_hldgs_doc takes its holder */
    for (size_t i = 0; s->bills_account && i < s->n_parties; i++)
        if (strcmp(s->parties[i].account, s->bills_account) == 0)
            return s->parties[i].id;
    return js(json_object_get(r->seen, "scf"), "party");
}

/* Our vouchers come in two lists: those we hold (holder=us), then
 * those of trees we issued or vouchers we sent (holder=others), which the
 * book needs to follow a tree we issued. */
static void hldgs_cb(struct oj *o, void *data, long status, json_t *got,
                     const struct h2h_err *err)
{
    struct oj_round *r = data;
    if (status == 200 && !r->hl_us) {
        struct h2h_err e = {0};
        r->hl_us = got;
        if (oj_fetch(o, "/v1/scf/vouchers?holder=others", "vouchers", hldgs_cb,
                     r, &e) == 0)
            return;
        rfail(r, &e, 1);
        hldgs_fail(r, NULL);
        return;
    }
    if (status != 200) {
        fetch_failed(r, status, err, "our vouchers");
    } else {
        char date[11];
        oj_date(0, date);
        json_t *all = json_incref(r->hl_us);
        json_array_extend(all, got);
        json_t *doc = oj_scf_hldgs_doc(&o->s, NULL, our_member(r), all);
        json_decref(all);
        json_t *k = doc ? json_object_get(doc, "vouchers") : NULL;
        char *key = k ? json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (doc && js(doc, "party")) {
            if (!json_is_object(json_object_get(r->seen, "scf")))
                json_object_set_new(r->seen, "scf", json_object());
            json_object_set_new(json_object_get(r->seen, "scf"), "party",
                                json_string(js(doc, "party")));
        }
        changed_doc(r, "scfhldgs", date, key, doc);
    }
    json_decref(got);
    hldgs_fail(r, NULL);
}

/* ---- the round ------------------------------------------------------------
 */

static void hldgs_fail(struct oj_round *r, const struct h2h_err *err)
{
    (void)err;
    json_decref(r->hl_us);
    r->hl_us = NULL;
    r->phase++;
    step(r);
}

static void finish(struct oj_round *r)
{
    struct oj *o = r->o;
    oj_round_fn done = r->done;
    void *data = r->data;
    int wrote = r->wrote, down = r->bank_down;
    struct h2h_err e = r->err;
    int failed = r->failed;
    json_decref(r->recs);
    json_decref(r->cur);
    json_decref(r->dirty);
    json_decref(r->seen);
    json_decref(r->out);
    json_decref(r->hl_us);
    json_decref(r->snotices);
    o->round = NULL;
    free(r);
    done(o, data, wrote, failed ? &e : NULL, down);
}

static void step(struct oj_round *r)
{
    struct oj *o = r->o;
    struct h2h_err e = {0};
    int bills = (o->s.kinds & H2H_KIND_BILLS) != 0;
    int scf = (o->s.kinds & H2H_KIND_SCF) != 0;
    for (;;) {
        int net = !r->bank_down && !o->closing;
        int rc = -1;
        switch (r->phase) {
        case R_FOLLOW:
            if (next_follow(r))
                return;
            r->phase++;
            continue;
        case R_BNOTICES:
        case R_SNOTICES:
            if (!net || !(r->phase == R_BNOTICES ? bills : scf)) {
                r->phase++;
                continue;
            }
            rc = oj_fetch(o,
                          r->phase == R_BNOTICES ? "/v1/bills/notices"
                                                 : "/v1/scf/notices",
                          "notices", notices_cb, r, &e);
            break;
        case R_POOL:
            if (!net || !bills) {
                r->phase++;
                continue;
            }
            rc = oj_fetch(o, "/v1/bills/pool", NULL, pool_cb, r, &e);
            break;
        case R_HLDGS:
            if (!net || !scf) {
                r->phase++;
                continue;
            }
            rc = oj_fetch(o, "/v1/scf/vouchers?holder=us", "vouchers", hldgs_cb,
                          r, &e);
            break;
        case R_SAVE:
            if (!json_array_size(r->dirty) && !json_array_size(r->out) &&
                !r->seen_dirty) {
                r->phase = R_END;
                continue;
            }
            r->work.data = r;
            if (oj_queue_work(o, &r->work, save_work, work_after, &e) == 0)
                return;
            rfail(r, &e, 0);
            r->phase = R_END;
            continue;
        default: finish(r); return;
        }
        if (rc == 0)
            return;
        rfail(r, &e, 1);
        r->phase++;
    }
}

static void load_after(uv_work_t *w, int status)
{
    struct oj_round *r = w->data;
    work_ended(r, status);
    if (!r->recs || !r->seen) {
        r->phase = R_END;
    } else {
        r->phase = R_SNOTICES;
    }
    step(r);
}

int oj_round_start(struct oj *o, oj_round_fn done, void *data,
                   struct h2h_err *err)
{
    if (o->round)
        return h2h_err_set(err, H2H_ESTATE, "a bills round is running");
    struct oj_round *r = calloc(1, sizeof(*r));
    if (!r || !(r->dirty = json_array()) || !(r->out = json_array())) {
        if (r)
            json_decref(r->dirty);
        free(r);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    r->o = o;
    r->done = done;
    r->data = data;
    r->work.data = r;
    int rc = oj_queue_work(o, &r->work, load_work, load_after, err);
    if (rc < 0) {
        json_decref(r->dirty);
        json_decref(r->out);
        free(r);
        return rc;
    }
    o->round = r;
    return 0;
}
