/*
 * cx_fam_poll.c - the bills round of a poll (PROFILE.md "What h2hd does
 * with them"), every cnbank_xml.bills_interval seconds or when asked
 * (H2H_POLL_BILLS):
 *
 *   1. records  each bill or voucher request the bank still has pending
 *               is asked about (bill_query / voucher_query): a result when
 *               it is final; each financing not final (scf_query): a
 *               status result when its status or terms changed, and a
 *               repayment notice when it is repaid;
 *   2. notices  bill_notices (every page): one <BillNotice> per notice
 *               not delivered before (a marker per id in fam/notices/);
 *   3. pool     bill_pool: a pool overview result when the figures
 *               changed (fam/pool.sum);
 *   4. holdings voucher_list (holder us, every page): a holdings result
 *               when the vouchers changed (fam/holdings.sum).
 *
 * Every result goes to outbox/ (durable) before the record, marker or
 * sum notes it: a crash in between writes the same result again, which
 * the daemon's registry knows (same name, same bytes) or takes as the
 * next.  A transport failure ends the round's network steps.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "fsutil.h"

enum { R_SCAN, R_RECS, R_NOTICES, R_POOL, R_HOLD, R_END };

#define MAX_PAGES 1000

struct cx_round {
    struct cx *c;
    cx_round_done_fn done;
    void *data;
    int step;
    unsigned done_steps; /* lists asked this round (a bit per step) */
    int wrote, bank_down;
    struct h2h_err err;
    int failed;
    /* records */
    json_t *recs;
    size_t next;
    json_t *cur;
    struct cx_plan pl;
    /* answers of the current step */
    struct cx_answer **pages;
    size_t n_pages;
    char page[80];
    enum cx_fn fn;
    int wrc;
    struct h2h_err werr;
    uv_work_t work;
};

static void advance(struct cx_round *r);

static void drop_pages(struct cx_round *r)
{
    for (size_t i = 0; i < r->n_pages; i++) {
        cx_answer_release(r->pages[i]);
        free(r->pages[i]);
    }
    free(r->pages);
    r->pages = NULL;
    r->n_pages = 0;
    r->page[0] = '\0';
}

static void note(struct cx_round *r, const struct h2h_err *e)
{
    if (e->code == H2H_ECANCELED)
        return;
    cx_note_err(r->c, e);
    if (!r->failed) {
        r->failed = 1;
        r->err = *e;
    }
}

/* ---- plans of records ------------------------------------------------------
 */

int cx_fam_rec_plan(const json_t *rec, struct cx_plan *pl)
{
    memset(pl, 0, sizeof(*pl));
    const char *s;
    pl->fam = (enum cx_fam)json_integer_value(json_object_get(rec, "fam"));
    pl->fn = (enum cx_fn)json_integer_value(json_object_get(rec, "fn"));
    pl->query = (enum cx_fn)json_integer_value(json_object_get(rec, "query"));
    pl->inquiry = json_is_true(json_object_get(rec, "inquiry"));
    if ((s = json_string_value(json_object_get(rec, "serial"))))
        snprintf(pl->serial, sizeof(pl->serial), "%s", s);
    if ((s = json_string_value(json_object_get(rec, "req_id"))))
        snprintf(pl->req_id, sizeof(pl->req_id), "%s", s);
    if ((s = json_string_value(json_object_get(rec, "op"))))
        snprintf(pl->op, sizeof(pl->op), "%s", s);
    if ((s = json_string_value(json_object_get(rec, "orig_req"))))
        snprintf(pl->orig_req, sizeof(pl->orig_req), "%s", s);
    if (cx_plan_set(pl, &pl->v, CX_T_SERIAL, pl->serial) != 0)
        return H2H_ENOMEM;
    if ((s = json_string_value(json_object_get(rec, "orig_serial"))) &&
        cx_plan_set(pl, &pl->v, CX_T_ORIG_SERIAL, s) != 0)
        return H2H_ENOMEM;
    return 0;
}

/* ---- 1. records -------------------------------------------------------- */

static void take_followed(json_t *rec, void *data)
{
    if (cx_fam_rec_followed(rec))
        json_array_append(data, rec);
}

/* Only the marked records are read (cx_fam_open_each). */
static void scan_work(uv_work_t *w)
{
    struct cx_round *r = w->data;
    r->wrc = 0;
    if ((r->recs = json_array()))
        r->wrc = cx_fam_open_each(r->c, take_followed, r->recs, &r->werr);
}

static void after(uv_work_t *w, int status)
{
    struct cx_round *r = w->data;
    cx_work_done(r->c);
    if (status != 0) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_ECANCELED, "canceled");
        note(r, &e);
        r->step = R_END;
    } else if (r->wrc < 0) {
        note(r, &r->werr);
    }
    advance(r);
}

static void rec_work(uv_work_t *w)
{
    struct cx_round *r = w->data;
    struct cx *c = r->c;
    const struct cx_answer *a = r->pages[0];
    char *doc = NULL, *sum = NULL;
    size_t len = 0;
    int final = 1;
    r->wrc = 0;
    if (r->pl.fam == CX_FAM_BILLS) {
        r->wrc = cx_bill_result(c, &r->pl, a, &doc, &len, &final, &r->werr);
        if (r->wrc == 0 && final)
            r->wrc = cx_fam_rec_result(c, r->cur, doc, len, 1, NULL, &r->werr);
        r->wrote |= r->wrc == 0 && final;
        goto out;
    }
    r->wrc =
        cx_scf_result(c, &r->pl, r->fn, a, &doc, &len, &final, &sum, &r->werr);
    if (r->wrc < 0)
        goto out;
    const char *was = json_string_value(json_object_get(r->cur, "sum"));
    int changed = !was || strcmp(was, sum) != 0;
    if (r->fn == CX_FN_VOUCHER_QUERY) {
        if (final)
            r->wrc = cx_fam_rec_result(c, r->cur, doc, len, 1, sum, &r->werr);
        r->wrote |= r->wrc == 0 && final;
        goto out;
    }
    /* a financing: its status or terms */
    const char *st = cx_tab_name(&c->p->t_fin_status, a->top[CX_K_STATUS]);
    int repaid = st && strcmp(st, "repaid") == 0;
    if (changed) {
        r->wrc = cx_fam_rec_result(c, r->cur, doc, len, final && !repaid, sum,
                                   &r->werr);
        r->wrote |= r->wrc == 0;
    }
    if (r->wrc == 0 && repaid &&
        !json_is_true(json_object_get(r->cur, "final"))) {
        free(doc);
        doc = NULL;
        r->wrc = cx_scf_repaid_doc(c, r->pl.req_id, a, &doc, &len, &r->werr);
        if (r->wrc == 0)
            r->wrc = cx_fam_rec_result(c, r->cur, doc, len, 1, sum, &r->werr);
        r->wrote |= r->wrc == 0;
    }
out:
    free(doc);
    free(sum);
}

static int keep(struct cx_round *r, const struct cx_answer *a)
{
    struct cx_answer *k = malloc(sizeof(*k));
    struct cx_answer **np =
        k ? realloc(r->pages, (r->n_pages + 1) * sizeof(*np)) : NULL;
    if (!np) {
        free(k);
        return -1;
    }
    *k = *a;
    r->pages = np;
    r->pages[r->n_pages++] = k;
    /* taken over: cx_call.c releases the emptied answer */
    memset((struct cx_answer *)a, 0, sizeof(*a));
    return 0;
}

static void queue(struct cx_round *r, uv_work_cb fn)
{
    struct h2h_err e = {0};
    r->work.data = r;
    if (cx_queue_work(r->c, &r->work, fn, after, &e) != 0) {
        note(r, &e);
        r->step = R_END;
        advance(r);
    }
}

static int call(struct cx_round *r, enum cx_fn fn, const struct cx_vals *v);

static void list_work(uv_work_t *w);

static void call_cb(struct cx *c, const struct cx_reply *rp, void *data)
{
    struct cx_round *r = data;
    if (rp->out != H2H_OUT_OK) {
        note(r, &rp->err);
        if (!rp->bad_answer)
            r->bank_down = 1;
        r->step = r->bank_down ? R_END : r->step + (r->step != R_RECS);
        drop_pages(r);
        advance(r);
        return;
    }
    const struct cx_answer *a = rp->ans;
    if (a->cls != CX_CODE_OK) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO, "%s: bank code %.20s%s%.200s",
                    cx_fn_name(r->fn), a->code, a->message ? ": " : "",
                    a->message ? a->message : "");
        if (a->cls == CX_CODE_BUSY)
            r->bank_down = 1;
        note(r, &e);
        drop_pages(r);
        if (r->step != R_RECS)
            r->step++;
        advance(r);
        return;
    }
    if (keep(r, a) != 0) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_ENOMEM, "out of memory");
        note(r, &e);
        r->step = R_END;
        advance(r);
        return;
    }
    if (r->step == R_RECS) {
        queue(r, rec_work);
        return;
    }
    const struct cx_answer *k = r->pages[r->n_pages - 1];
    int more = 0;
    if (c->p->fn[r->fn].result[CX_K_ITEMS] && r->n_pages < MAX_PAGES)
        more = cx_fam_page_next(c->p, k, r->page, sizeof(r->page));
    if (more) {
        struct cx_vals v;
        memset(&v, 0, sizeof(v));
        v.v[CX_T_PAGE] = r->page;
        if (r->fn == CX_FN_VOUCHER_LIST)
            v.v[CX_T_HOLDER] = "us";
        if (call(r, r->fn, &v) != 0) {
            r->step = R_END;
            advance(r);
        }
        return;
    }
    queue(r, list_work);
}

static int call(struct cx_round *r, enum cx_fn fn, const struct cx_vals *v)
{
    struct h2h_err e = {0};
    r->fn = fn;
    if (cx_call(r->c, fn, v, call_cb, r, &e) == 0)
        return 0;
    note(r, &e);
    return -1;
}

/* ---- 2..4. notices, pool, holdings --------------------------------------- */

/* fam/notices/<file name of id>: a notice delivered; it holds the
 * notice's kind (a bills op name), which signing it needs. */
static void marker_path(const struct cx *c, const char *id, char *dir,
                        size_t dn, char *path, size_t pn)
{
    char name[200];
    size_t k = 0;
    fsu_join(dir, dn, c->fam_dir, "notices");
    /* ids are the bank's: anything outside a safe set becomes its hex */
    for (const char *s = id; *s && k + 4 < sizeof(name); s++) {
        unsigned char ch = (unsigned char)*s;
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-_",
                   ch))
            name[k++] = (char)ch;
        else
            k += (size_t)snprintf(name + k, sizeof(name) - k, "%%%02X", ch);
    }
    name[k] = '\0';
    fsu_join(path, pn, dir, name);
}

static int marked(const struct cx *c, const char *id)
{
    char dir[CX_PATH_MAX], path[CX_PATH_MAX];
    marker_path(c, id, dir, sizeof(dir), path, sizeof(path));
    return access(path, F_OK) == 0;
}

static int mark(const struct cx *c, const char *id, const char *kind,
                struct h2h_err *err)
{
    char dir[CX_PATH_MAX], path[CX_PATH_MAX];
    marker_path(c, id, dir, sizeof(dir), path, sizeof(path));
    if (fsu_mkdirs(dir, 0700, err) < 0)
        return -1;
    const char *name = strrchr(path, '/') + 1;
    return fsu_write_file(dir, name, kind ? kind : "", kind ? strlen(kind) : 0,
                          FSU_REPLACE, err) < 0
               ? -1
               : 0;
}

int cx_fam_notice_kind(const struct cx *c, const char *id, char *kind, size_t n)
{
    char dir[CX_PATH_MAX], path[CX_PATH_MAX], *k = NULL;
    size_t len = 0;
    kind[0] = '\0';
    if (!c->fam_dir[0])
        return -1;
    marker_path(c, id, dir, sizeof(dir), path, sizeof(path));
    if (fsu_read_file(path, 64, &k, &len, NULL) < 0)
        return -1;
    snprintf(kind, n, "%s", k);
    free(k);
    return kind[0] ? 0 : -1;
}

static void hash_stem(const char *prefix, const char *doc, size_t len,
                      char *out, size_t n)
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)doc, len, h);
    snprintf(out, n, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, h[0], h[1],
             h[2], h[3], h[4], h[5], h[6], h[7]);
}

/* A figures result (pool, holdings) and its sum: to the outbox as
 * <what>-<hash>, then fam/<what>.sum, only when the sum kept there differs
 * (or is absent). */
static int put_changed(struct cx_round *r, const char *what, const char *doc,
                       size_t len, const char *sum)
{
    const struct cx *c = r->c;
    char name[32], path[CX_PATH_MAX], stem[96], *was = NULL;
    size_t wl = 0;
    snprintf(name, sizeof(name), "%s.sum", what);
    fsu_join(path, sizeof(path), c->fam_dir, name);
    if (fsu_read_file(path, 1u << 20, &was, &wl, NULL) >= 0) {
        int same = strcmp(was, sum) == 0;
        free(was);
        if (same)
            return 0;
    }
    hash_stem(what, doc, len, stem, sizeof(stem));
    int rc = cx_fam_outbox_put(c, stem, doc, len, &r->werr);
    if (rc == 0)
        rc = fsu_write_file(c->fam_dir, name, sum, strlen(sum), FSU_REPLACE,
                            &r->werr);
    r->wrote |= rc == 0;
    return rc;
}

static void list_work(uv_work_t *w)
{
    struct cx_round *r = w->data;
    struct cx *c = r->c;
    char *doc = NULL, *sum = NULL, stem[96], day[11];
    size_t len = 0;
    r->wrc = 0;
    cx_bank_today(c->p, 0, day);
    if (r->step == R_NOTICES) {
        for (size_t i = 0; i < r->n_pages && r->wrc == 0; i++)
            for (size_t k = 0; k < r->pages[i]->n_items && r->wrc == 0; k++) {
                const char *id;
                r->wrc = cx_bill_notice_doc(c, r->pages[i], k, &doc, &len, &id,
                                            &r->werr);
                if (r->wrc == 0 && id && *id && !marked(c, id)) {
                    char pre[120];
                    snprintf(pre, sizeof(pre), "notice-%.60s", id);
                    for (char *q = pre; *q; q++)
                        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                    "nopqrstuvwxyz0123456789-_",
                                    *q))
                            *q = '_';
                    hash_stem(pre, doc, len, stem, sizeof(stem));
                    r->wrc = cx_fam_outbox_put(c, stem, doc, len, &r->werr);
                    const char *kind = cx_tab_name(
                        &c->p->t_bill_ops,
                        r->pages[i]->items[k * CX_K_N + CX_K_NOTICE_KIND]);
                    if (r->wrc == 0)
                        r->wrc = mark(c, id, kind, &r->werr);
                    r->wrote |= r->wrc == 0;
                }
                free(doc);
                doc = NULL;
            }
        goto out;
    }
    if (r->step == R_POOL) {
        char rid[40];
        snprintf(rid, sizeof(rid), "pool-%s", day);
        r->wrc =
            cx_bill_pool_doc(c, rid, r->pages[0], &doc, &len, &sum, &r->werr);
        if (r->wrc == 0)
            r->wrc = put_changed(r, "pool", doc, len, sum);
        goto out;
    }
    /* holdings */
    r->wrc = cx_scf_holdings_doc(c, NULL, r->pages, r->n_pages, &doc, &len,
                                 &sum, &r->werr);
    if (r->wrc == 0)
        r->wrc = put_changed(r, "holdings", doc, len, sum);
out:
    free(doc);
    free(sum);
    if (r->wrc > 0)
        r->wrc = 0;
}

/* ---- the round ------------------------------------------------------------
 */

static void advance(struct cx_round *r)
{
    struct cx *c = r->c;
    drop_pages(r);
    for (;;) {
        if (c->closing || r->bank_down)
            r->step = R_END;
        switch (r->step) {
        case R_RECS: {
            json_decref(r->cur);
            r->cur = NULL;
            cx_plan_release(&r->pl);
            if (r->next >= json_array_size(r->recs)) {
                r->step = R_NOTICES;
                continue;
            }
            r->cur = json_incref(json_array_get(r->recs, r->next++));
            if (cx_fam_rec_plan(r->cur, &r->pl) != 0)
                continue;
            struct cx_vals v;
            memset(&v, 0, sizeof(v));
            v.v[CX_T_SERIAL] = r->pl.serial;
            if (call(r, r->pl.query, &v) == 0)
                return;
            continue;
        }
        case R_NOTICES:
        case R_POOL:
        case R_HOLD: {
            enum cx_fn fn = r->step == R_NOTICES ? CX_FN_BILL_NOTICES
                            : r->step == R_POOL  ? CX_FN_BILL_POOL
                                                 : CX_FN_VOUCHER_LIST;
            int have = r->step == R_HOLD ? c->p->has_scf : c->p->has_bills;
            if (!have || r->done_steps & (1 << r->step)) {
                r->step++;
                continue;
            }
            r->done_steps |= 1 << r->step;
            struct cx_vals v;
            memset(&v, 0, sizeof(v));
            cx_fam_page_first(c->p, fn, r->page, sizeof(r->page), &v);
            if (fn == CX_FN_VOUCHER_LIST)
                v.v[CX_T_HOLDER] = "us";
            if (call(r, fn, &v) == 0)
                return;
            r->step++;
            continue;
        }
        default: {
            struct h2h_err e = r->err;
            int wrote = r->wrote, down = r->bank_down, failed = r->failed;
            cx_round_done_fn done = r->done;
            void *data = r->data;
            json_decref(r->recs);
            json_decref(r->cur);
            cx_plan_release(&r->pl);
            free(r);
            done(c, data, wrote, failed ? &e : NULL, down);
            return;
        }
        }
    }
}

int cx_bills_round(struct cx *c, cx_round_done_fn done, void *data,
                   struct h2h_err *err)
{
    struct cx_round *r = calloc(1, sizeof(*r));
    if (!r)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    r->c = c;
    r->done = done;
    r->data = data;
    r->step = R_SCAN;
    r->work.data = r;
    int rc = cx_queue_work(c, &r->work, scan_work, after, err);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->step = R_RECS;
    return 0;
}
