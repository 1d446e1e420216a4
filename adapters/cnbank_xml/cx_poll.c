/*
 * cx_poll.c - what the bank has for us, in one round:
 *
 *   1. scan       (thread pool) finish report writes a crash interrupted,
 *                 list the records still pending and the reports waiting
 *                 in outbox/ (done/ is pruned hourly);
 *   2. outbox     each report is copied into the daemon's tmp_dir and
 *                 delivered (kind "status"); removed from outbox/ once the
 *                 daemon answers 0 or H2H_EDUP;
 *   3. pending    when due: each payment still pending is asked about
 *                 (payment_status), each payroll batch (payroll_result); a
 *                 record whose statuses changed gets its next report, and
 *                 the reports made are delivered at once (step 2 again);
 *   4. statements when due (statement_interval), one account at a time
 *                 (cx_stmt.c), kind "statement";
 *   5. receipts   with the statements: each account's receipts of the same
 *                 days not taken before, one PDF each, kind "receipt".
 *
 * Deliveries go one at a time: a crash leaves at most one file half
 * handled, and the daemon's registry (remote name and hash) sorts that
 * out on the next round.  A transport failure towards the bank ends the
 * network steps of the round; local steps still run.  One poll at a time.
 */
#include "cx_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "fsutil.h"

enum { P_SCAN, P_OUTBOX, P_PENDING, P_BILLS, P_STMT, P_RCPT, P_END };

#define PRUNE_EVERY_MS (3600u * 1000u)

struct inq {
    struct cx_poll *p;
    size_t tx; /* payment: the transaction; payroll: unused */
};

struct cx_poll {
    struct cx *c;
    struct h2h_poll_req *preq;
    int phase;
    int second;    /* the outbox round after step 3 */
    int bank_down; /* a transport failure: no more network this round */
    int prune;
    uv_work_t work;
    int wrc;
    struct h2h_err werr;
    /* outbox */
    char **names;
    size_t n_names, next_name;
    /* pending */
    json_t *recs;
    size_t next_rec;
    json_t *cur;
    struct inq *inqs;
    size_t q_next, q_running;
    int changed, any_changed;
    int pending_due;
    int bills_due, bills_started; /* the bills round (cx_fam_poll.c) */
    /* statements and receipts */
    int stmt_due;
    size_t acct, racct;
    char from[11], to[11];
    struct cx_receipts *rl;
    int listing;
    /* the delivery in progress */
    struct adl dl;
    int failed;
    unsigned long answers0; /* c->answers when the round began */
    struct h2h_result res;
};

static void advance(struct cx_poll *p);

static uint64_t last_prune_ms; /* loop thread only */

static void fail(struct cx_poll *p, const struct h2h_err *e)
{
    if (e->code == H2H_ECANCELED)
        return;
    cx_note_err(p->c, e);
    if (p->failed)
        return;
    p->failed = 1;
    p->res.outcome = H2H_OUT_TEMPFAIL;
    p->res.err = *e;
}

static void finish(struct cx_poll *p)
{
    struct cx *c = p->c;
    struct h2h_poll_req *preq = p->preq;
    struct h2h_result res = p->res;
    if (!p->failed) {
        res.outcome = H2H_OUT_OK;
        /* healthy again only once the bank answered: a round of local
         * work says nothing about a refused certificate or pin */
        if (c->answers != p->answers0)
            cx_note_ok(c);
    }
    arec_names_free(p->names, p->n_names);
    json_decref(p->recs);
    json_decref(p->cur);
    free(p->inqs);
    cx_receipts_free(p->rl);
    c->poll = NULL;
    preq->priv = NULL;
    free(p);
    preq->done(&c->base, preq, &res);
    cx_op_done(c);
}

/* ---- deliveries ------------------------------------------------------------
 */

static void on_answer(struct adl *d);

static void deliver(struct cx_poll *p)
{
    p->dl.a = &p->c->base;
    p->dl.preq = p->preq;
    p->dl.on_answer = on_answer;
    adl_deliver(&p->dl);
}

void cx_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                       const struct h2h_download *dl, int rc)
{
    struct cx *o = (struct cx *)a;
    struct cx_poll *p = req ? req->priv : NULL;
    if (p && p == o->poll)
        adl_delivered(&p->dl, dl, rc);
}

static void on_answer(struct adl *d)
{
    struct cx_poll *p =
        (struct cx_poll *)((char *)d - offsetof(struct cx_poll, dl));
    struct cx *c = p->c;
    int taken = adl_taken(&p->dl);
    if (p->phase == P_OUTBOX && taken)
        arec_outbox_done(&c->dirs, p->dl.remote);
    if (p->phase == P_RCPT && taken)
        cx_receipts_taken(c, p->rl);
    advance(p);
}

static void copy_work(uv_work_t *w)
{
    struct cx_poll *p = w->data;
    p->wrc = arec_outbox_copy(&p->c->dirs, p->dl.remote, p->preq->tmp_dir,
                              strrchr(p->dl.local, '/') + 1, p->dl.sha256,
                              &p->dl.size, &p->werr);
}

static void copy_after(uv_work_t *w, int status)
{
    struct cx_poll *p = w->data;
    cx_work_done(p->c);
    if (status != 0 || p->wrc < 0) {
        struct h2h_err e = p->werr;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        h2h_err_prefix(&e, "status report %s", p->dl.remote);
        fail(p, &e);
        advance(p);
        return;
    }
    p->dl.kind = "status";
    deliver(p);
}

static int next_outbox(struct cx_poll *p)
{
    struct cx *c = p->c;
    struct h2h_err e = {0};
    while (p->next_name < p->n_names) {
        const char *nm = p->names[p->next_name++];
        char lname[200];
        snprintf(p->dl.remote, sizeof(p->dl.remote), "%s", nm);
        cx_local_name(c, lname, sizeof(lname));
        if (fsu_join(p->dl.local, sizeof(p->dl.local), p->preq->tmp_dir,
                     lname) != 0)
            continue;
        p->work.data = p;
        if (cx_queue_work(c, &p->work, copy_work, copy_after, &e) == 0)
            return 1;
        fail(p, &e);
        return 0;
    }
    return 0;
}

/* ---- pending payments
 * -------------------------------------------------------- */

static void advance_work(uv_work_t *w)
{
    struct cx_poll *p = w->data;
    p->wrc = arec_advance(&p->c->dirs, p->cur, &p->werr);
}

static void advance_after(uv_work_t *w, int status)
{
    struct cx_poll *p = w->data;
    cx_work_done(p->c);
    if (status != 0 || p->wrc < 0) {
        struct h2h_err e = p->werr;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        fail(p, &e);
    } else {
        p->any_changed = 1;
    }
    json_decref(p->cur);
    p->cur = NULL;
    advance(p);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Set t's status (ISO, from the bank's value) and what goes with it;
 * p->changed when anything differs. */
static void update_tx(struct cx_poll *p, json_t *t, const char *bank_sts,
                      const char *reason, const char *bank_ref)
{
    const char *iso = cx_status_iso(p->c->p, bank_sts);
    if (!iso) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO,
                    "bank.status.unknown: serial %s has status \"%.20s\", "
                    "which status_map does not list; kept as it was",
                    jstr(t, "key") ? jstr(t, "key") : "?", bank_sts);
        cx_note_err(p->c, &e);
        return;
    }
    const char *old = jstr(t, "status");
    int rj = strcmp(iso, "RJCT") == 0;
    if (old && strcmp(old, iso) == 0)
        return;
    json_object_set_new(t, "status", json_string(iso));
    json_object_set_new(t, "bank_status", json_string(bank_sts));
    json_object_set_new(t, "reason", rj ? json_string("NARR") : json_null());
    json_object_set_new(t, "error",
                        rj && reason && *reason ? json_string(reason)
                                                : json_null());
    if (bank_ref && *bank_ref && !jstr(t, "payment_id"))
        json_object_set_new(t, "payment_id", json_string(bank_ref));
    p->changed = 1;
}

static void inq_cb(struct cx *c, const struct cx_reply *r, void *data)
{
    struct inq *q = data;
    struct cx_poll *p = q->p;
    json_t *txs = json_object_get(p->cur, "txs");
    int payroll =
        jstr(p->cur, "mode") && strcmp(jstr(p->cur, "mode"), "payroll") == 0;
    const char *serial = payroll ? jstr(p->cur, "serial")
                                 : jstr(json_array_get(txs, q->tx), "serial");
    p->q_running--;
    (void)c;
    if (r->out != H2H_OUT_OK) {
        struct h2h_err e = r->err;
        h2h_err_prefix(&e, "asking the bank about serial %s",
                       serial ? serial : "?");
        fail(p, &e);
        if (!r->bad_answer)
            p->bank_down = 1;
        advance(p);
        return;
    }
    const struct cx_answer *a = r->ans;
    const char *ser = a->top[CX_K_SERIAL], *sts = a->top[CX_K_STATUS];
    if (a->cls != CX_CODE_OK || !ser || !serial || strcmp(ser, serial) != 0 ||
        !sts) {
        struct h2h_err e;
        h2h_err_set(&e, H2H_EPROTO,
                    "the bank's answer about serial %s is not usable: code "
                    "%.20s%s%.200s",
                    serial ? serial : "?", a->code, a->message ? ": " : "",
                    a->message ? a->message : "");
        fail(p, &e);
        advance(p);
        return;
    }
    if (!payroll) {
        update_tx(p, json_array_get(txs, q->tx), sts, a->top[CX_K_REASON],
                  a->top[CX_K_BANK_REF]);
        advance(p);
        return;
    }
    const char *iso = cx_status_iso(c->p, sts);
    size_t i;
    json_t *t;
    json_array_foreach(txs, i, t)
    {
        const char *no = jstr(t, "item_no");
        if (iso && strcmp(iso, "RJCT") == 0) {
            /* the batch as a whole was refused */
            update_tx(p, t, sts, a->top[CX_K_REASON], a->top[CX_K_BANK_REF]);
            continue;
        }
        for (size_t k = 0; no && k < a->n_items; k++) {
            char *const *row = &a->items[k * CX_K_N];
            if (row[CX_K_ITEM_NO] && strcmp(row[CX_K_ITEM_NO], no) == 0 &&
                row[CX_K_STATUS])
                update_tx(p, t, row[CX_K_STATUS], row[CX_K_REASON],
                          a->top[CX_K_BANK_REF]);
        }
    }
    advance(p);
}

/* Ask about the next pending payments of p->cur; 1 when something runs. */
static int inquire(struct cx_poll *p)
{
    struct cx *c = p->c;
    json_t *txs = json_object_get(p->cur, "txs");
    size_t n = json_array_size(txs);
    int payroll =
        jstr(p->cur, "mode") && strcmp(jstr(p->cur, "mode"), "payroll") == 0;
    size_t window = (size_t)(c->s.max_concurrent > 0 ? c->s.max_concurrent : 1);
    while (!p->bank_down && !c->closing && p->q_running < window &&
           p->q_next < n) {
        size_t i = p->q_next++;
        json_t *t = json_array_get(txs, i);
        if (!arec_status_pending(jstr(t, "status")))
            continue;
        struct cx_vals v;
        struct h2h_err e = {0};
        memset(&v, 0, sizeof(v));
        v.v[CX_T_SERIAL] = payroll ? jstr(p->cur, "serial") : jstr(t, "serial");
        if (!v.v[CX_T_SERIAL])
            continue;
        p->inqs[i].p = p;
        p->inqs[i].tx = i;
        if (cx_call(c, payroll ? CX_FN_PAYROLL_RESULT : CX_FN_PAYMENT_STATUS,
                    &v, inq_cb, &p->inqs[i], &e) != 0) {
            fail(p, &e);
            p->bank_down = 1;
            break;
        }
        p->q_running++;
        if (payroll)
            p->q_next = n; /* one question answers for every item */
    }
    return p->q_running > 0;
}

static int step_pending(struct cx_poll *p)
{
    struct cx *c = p->c;
    struct h2h_err e = {0};
    for (;;) {
        if (p->cur) {
            if (inquire(p))
                return 1;
            if (p->changed && !c->closing) {
                p->changed = 0;
                p->work.data = p;
                if (cx_queue_work(c, &p->work, advance_work, advance_after,
                                  &e) == 0)
                    return 1;
                fail(p, &e);
            }
            json_decref(p->cur);
            p->cur = NULL;
        }
        if (p->bank_down || c->closing || !p->pending_due ||
            p->next_rec >= json_array_size(p->recs))
            return 0;
        json_t *rec = json_array_get(p->recs, p->next_rec++);
        const char *mid = jstr(rec, "msg_id");
        if (!mid || cx_msg_running(c, mid))
            continue; /* its submit or recover owns the record now */
        p->cur = json_incref(rec);
        free(p->inqs);
        p->inqs = calloc(json_array_size(json_object_get(p->cur, "txs")) + 1,
                         sizeof(*p->inqs));
        if (!p->inqs) {
            h2h_err_set(&e, H2H_ENOMEM, "out of memory");
            fail(p, &e);
            json_decref(p->cur);
            p->cur = NULL;
            return 0;
        }
        p->q_next = p->q_running = 0;
        p->changed = 0;
    }
}

/* ---- scans
 * --------------------------------------------------------------------- */

static void scan_work(uv_work_t *w)
{
    struct cx_poll *p = w->data;
    struct h2h_err e = {0};
    p->wrc = 0;
    if (!p->second)
        p->wrc = arec_pending(&p->c->dirs, p->prune, &p->recs, &p->werr);
    arec_names_free(p->names, p->n_names);
    p->names = NULL;
    p->n_names = p->next_name = 0;
    int rc = arec_outbox_list(&p->c->dirs, &p->names, &p->n_names, &e);
    if (rc < 0 && p->wrc == 0) {
        p->wrc = rc;
        p->werr = e;
    }
}

static void scan_after(uv_work_t *w, int status)
{
    struct cx_poll *p = w->data;
    cx_work_done(p->c);
    if (status != 0 || p->wrc < 0) {
        struct h2h_err e = p->werr;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        fail(p, &e);
    }
    p->phase = P_OUTBOX;
    advance(p);
}

static int start_scan(struct cx_poll *p, struct h2h_err *err)
{
    p->work.data = p;
    return cx_queue_work(p->c, &p->work, scan_work, scan_after, err);
}

/* ---- statements and receipts
 * ------------------------------------------------- */

static void file_done(struct cx *c, void *data, const char *path,
                      const char *name, const char *sha256, uint64_t size,
                      const struct h2h_err *err, int bank_down)
{
    struct cx_poll *p = data;
    (void)c;
    if (!path) {
        fail(p, err);
        if (bank_down)
            p->bank_down = 1;
        advance(p);
        return;
    }
    snprintf(p->dl.remote, sizeof(p->dl.remote), "%s", name);
    snprintf(p->dl.local, sizeof(p->dl.local), "%s", path);
    snprintf(p->dl.sha256, sizeof(p->dl.sha256), "%s", sha256);
    p->dl.size = size;
    p->dl.kind = p->phase == P_RCPT ? "receipt" : "statement";
    deliver(p);
}

static int step_stmt(struct cx_poll *p)
{
    struct cx *c = p->c;
    while (!p->bank_down && !c->closing && p->acct < c->s.n_accounts) {
        struct h2h_err e = {0};
        size_t i = p->acct++;
        if (cx_stmt_fetch(c, i, p->from, p->to, p->preq->tmp_dir, file_done, p,
                          &e) == 0)
            return 1;
        fail(p, &e);
    }
    return 0;
}

static void list_done(struct cx *c, void *data, struct cx_receipts *list,
                      const struct h2h_err *err, int bank_down)
{
    struct cx_poll *p = data;
    (void)c;
    p->listing = 0;
    if (!list) {
        fail(p, err);
        if (bank_down)
            p->bank_down = 1;
    }
    p->rl = list;
    advance(p);
}

static int step_rcpt(struct cx_poll *p)
{
    struct cx *c = p->c;
    for (;;) {
        struct h2h_err e = {0};
        if (p->bank_down || c->closing)
            return 0;
        if (p->rl) {
            int rc =
                cx_receipts_next(c, p->rl, p->preq->tmp_dir, file_done, p, &e);
            if (rc == 0)
                return 1;
            if (rc < 0)
                fail(p, &e);
            cx_receipts_free(p->rl);
            p->rl = NULL;
        }
        if (!c->s.receipts || p->racct >= c->s.n_accounts)
            return 0;
        size_t i = p->racct++;
        if (cx_receipts_list(c, i, p->from, p->to, list_done, p, &e) == 0) {
            p->listing = 1;
            return 1;
        }
        fail(p, &e);
    }
}

/* ---- the round
 * --------------------------------------------------------------- */

static void bills_done(struct cx *c, void *data, int wrote,
                       const struct h2h_err *err, int bank_down)
{
    struct cx_poll *p = data;
    (void)c;
    (void)err; /* noted by the round: the bank's health, not the poll's */
    p->any_changed |= wrote;
    p->bank_down |= bank_down;
    advance(p);
}

static void advance(struct cx_poll *p)
{
    struct cx *c = p->c;
    struct h2h_err e = {0};
    for (;;) {
        switch (p->phase) {
        case P_OUTBOX:
            if (next_outbox(p))
                return;
            if (p->second || c->closing) {
                p->phase = P_STMT;
                continue;
            }
            p->phase = P_PENDING;
            continue;
        case P_PENDING:
            if (step_pending(p))
                return;
            p->phase = P_BILLS;
            continue;
        case P_BILLS:
            if (p->bills_due && !p->bills_started && !p->bank_down &&
                !c->closing) {
                p->bills_started = 1;
                if (cx_bills_round(c, bills_done, p, &e) == 0)
                    return;
                fail(p, &e);
            }
            if (p->any_changed && !c->closing) {
                p->any_changed = 0;
                p->second = 1;
                p->phase = P_SCAN;
                if (start_scan(p, &e) == 0)
                    return;
                fail(p, &e);
            }
            p->phase = P_STMT;
            continue;
        case P_STMT:
            if (step_stmt(p))
                return;
            p->phase = P_RCPT;
            continue;
        case P_RCPT:
            if (p->stmt_due && step_rcpt(p))
                return;
            p->phase = P_END;
            continue;
        default:
            if (p->bills_due && !p->bank_down && !c->closing)
                c->next_bills_ms = uv_now(c->base.loop) +
                                   (uint64_t)c->s.bills_interval_s * 1000u;
            if (p->pending_due && !p->bank_down && !c->closing)
                c->next_pending_ms = uv_now(c->base.loop) +
                                     (uint64_t)c->s.pending_interval_s * 1000u;
            if (p->stmt_due && !p->bank_down && !c->closing)
                c->next_stmt_ms = uv_now(c->base.loop) +
                                  (uint64_t)c->s.statement_interval_s * 1000u;
            finish(p);
            return;
        }
    }
}

int cx_poll_holds(const struct cx *c, const char *msg_id)
{
    const json_t *cur = c->poll ? c->poll->cur : NULL;
    const char *m = json_string_value(json_object_get(cur, "msg_id"));
    return m && strcmp(m, msg_id) == 0;
}

int cx_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
            struct h2h_err *err)
{
    struct cx *c = (struct cx *)a;
    if (c->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           a->bank);
    if (c->poll)
        return h2h_err_set(err, H2H_ESTATE, "bank %s: a poll is running",
                           a->bank);
    if (!req || !req->tmp_dir || !req->deliver || !req->done)
        return h2h_err_set(err, H2H_EINVALID, "incomplete poll request");
    struct cx_poll *p = calloc(1, sizeof(*p));
    if (!p)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    p->c = c;
    p->preq = req;
    p->answers0 = c->answers;
    p->phase = P_SCAN;
    uint64_t now = uv_now(c->base.loop);
    if (last_prune_ms == 0 || now - last_prune_ms >= PRUNE_EVERY_MS) {
        p->prune = 1;
        last_prune_ms = now;
    }
    /* a routine round does what its intervals say is due; a named kind
     * (scheduled job, h2hctl fetch) is done now */
    unsigned stmt_bits =
        H2H_POLL_STATEMENTS | H2H_POLL_INTRADAY | H2H_POLL_BALANCE;
    p->pending_due = req->what ? (req->what & H2H_POLL_STATUS) != 0
                               : now >= c->next_pending_ms;
    p->bills_due = (c->p->has_bills || c->p->has_scf) &&
                   (req->what ? (req->what & H2H_POLL_BILLS) != 0
                              : now >= c->next_bills_ms);
    int stmt_due =
        req->what ? (req->what & stmt_bits) != 0 : now >= c->next_stmt_ms;
    if (c->s.n_accounts && stmt_due) {
        p->stmt_due = 1;
        if (req->date) {
            snprintf(p->from, sizeof(p->from), "%.10s", req->date);
            snprintf(p->to, sizeof(p->to), "%.10s", req->date);
        } else {
            /* the bank's days: its booking dates are in its own zone */
            cx_bank_today(c->p, -c->s.statement_days, p->from);
            cx_bank_today(c->p, 0, p->to);
        }
    } else {
        p->acct = p->racct = c->s.n_accounts;
    }
    int rc = start_scan(p, err);
    if (rc < 0) {
        free(p);
        return rc;
    }
    req->priv = p;
    c->poll = p;
    c->ops++;
    return 0;
}
