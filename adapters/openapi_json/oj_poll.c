/*
 * oj_poll.c - what the bank has for us, in one round:
 *
 *   1. scan      (thread pool) finish report writes a crash interrupted,
 *                list the records still pending and the reports waiting in
 *                outbox/ (done/ is pruned hourly);
 *   2. outbox    each report is copied into the daemon's tmp_dir and
 *                delivered (kind "status"); removed from outbox/ once the
 *                daemon answers 0 or H2H_EDUP, else kept for the next round;
 *   3. pending   each payment still PDNG is asked for (GET
 *                /v1/payments/{id}); a record whose statuses changed gets
 *                its next report (arec_advance), and the reports made
 *                are delivered at once (step 2 again);
 *   4. statements when due (statement_interval), one account at a time
 *                (oj_stmt.c), delivered as kind "statement".
 *
 * Deliveries go one at a time, like every adapter's: a crash leaves at
 * most one file half-handled, and the daemon's registry (remote name and
 * hash) sorts that out on the next round.  A transport failure towards the
 * bank ends the network steps of the round (the next round tries again);
 * local steps still run.  One poll at a time.
 */
#include "oj_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "fsutil.h"

enum { P_SCAN, P_OUTBOX, P_PENDING, P_BILLS, P_STMT, P_END };

#define PRUNE_EVERY_MS (3600u * 1000u)

struct inq {
    struct oj_poll *p;
    size_t tx;
};

struct oj_poll {
    struct oj *o;
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
    json_t *cur;      /* the record being asked about */
    struct inq *inqs; /* one per transaction of cur */
    size_t q_next, q_running;
    int changed, any_changed;
    int pending_due;
    /* bills round (oj_round.c) */
    int bills_due, bills_started, bills_ok;
    /* statements */
    int stmt_due;
    size_t acct;
    char from[11], to[11];
    /* the delivery in progress */
    struct adl dl;
    /* result */
    int failed;
    unsigned long answers0; /* o->answers when the round began */
    struct h2h_result res;
};

static void advance(struct oj_poll *p);

static uint64_t last_prune_ms; /* loop thread only */

static void fail(struct oj_poll *p, const struct h2h_err *e)
{
    if (e->code == H2H_ECANCELED)
        return;
    oj_note_err(p->o, e);
    if (p->failed)
        return;
    p->failed = 1;
    p->res.outcome = H2H_OUT_TEMPFAIL;
    p->res.err = *e;
}

static void finish(struct oj_poll *p)
{
    struct oj *o = p->o;
    struct h2h_poll_req *preq = p->preq;
    struct h2h_result res = p->res;
    if (!p->failed) {
        res.outcome = H2H_OUT_OK;
        /* healthy again only once the bank answered: a round of local
         * work says nothing about a refused certificate or pin */
        if (o->answers != p->answers0)
            oj_note_ok(o);
    }
    arec_names_free(p->names, p->n_names);
    json_decref(p->recs);
    json_decref(p->cur);
    free(p->inqs);
    o->poll = NULL;
    preq->priv = NULL;
    free(p);
    preq->done(&o->base, preq, &res);
    oj_op_done(o);
}

static void local_name(struct oj_poll *p, char *buf, size_t n)
{
    struct oj *o = p->o;
    /* unique per bank and run: never a leftover of a crash, nor another
     * bank's download in the same tmp_dir; the temporary prefix lets the
     * daemon's start-up clean-up remove what a crash left */
    snprintf(buf, n, FSU_TMP_PREFIX "%.64s.oj.%s.%lu", o->base.bank, o->tag,
             ++o->seq);
}

/* ---- deliveries ---------------------------------------------------------- */

static void on_answer(struct adl *d);

static void deliver(struct oj_poll *p)
{
    p->dl.a = &p->o->base;
    p->dl.preq = p->preq;
    p->dl.on_answer = on_answer;
    adl_deliver(&p->dl);
}

void oj_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                       const struct h2h_download *dl, int rc)
{
    struct oj *o = (struct oj *)a;
    struct oj_poll *p = req ? req->priv : NULL;
    if (p && p == o->poll)
        adl_delivered(&p->dl, dl, rc);
}

static void on_answer(struct adl *d)
{
    struct oj_poll *p =
        (struct oj_poll *)((char *)d - offsetof(struct oj_poll, dl));
    struct oj *o = p->o;
    if (p->phase == P_OUTBOX && adl_taken(&p->dl))
        arec_outbox_done(&o->dirs, p->dl.remote);
    advance(p);
}

static void copy_work(uv_work_t *w)
{
    struct oj_poll *p = w->data;
    p->wrc = arec_outbox_copy(&p->o->dirs, p->dl.remote, p->preq->tmp_dir,
                              strrchr(p->dl.local, '/') + 1, p->dl.sha256,
                              &p->dl.size, &p->werr);
}

static void copy_after(uv_work_t *w, int status)
{
    struct oj_poll *p = w->data;
    oj_work_done(p->o);
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

/* Deliver the next outbox report; 1 when one is on its way. */
static int next_outbox(struct oj_poll *p)
{
    struct oj *o = p->o;
    struct h2h_err e = {0};
    while (p->next_name < p->n_names) {
        const char *nm = p->names[p->next_name++];
        char lname[200];
        snprintf(p->dl.remote, sizeof(p->dl.remote), "%s", nm);
        local_name(p, lname, sizeof(lname));
        if (fsu_join(p->dl.local, sizeof(p->dl.local), p->preq->tmp_dir,
                     lname) != 0)
            continue;
        p->work.data = p;
        if (oj_queue_work(o, &p->work, copy_work, copy_after, &e) == 0)
            return 1;
        fail(p, &e);
        return 0;
    }
    return 0;
}

/* ---- pending payments -----------------------------------------------------
 */

static void advance_work(uv_work_t *w)
{
    struct oj_poll *p = w->data;
    p->wrc = arec_advance(&p->o->dirs, p->cur, &p->werr);
}

static void advance_after(uv_work_t *w, int status)
{
    struct oj_poll *p = w->data;
    oj_work_done(p->o);
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

static void inq_cb(struct oj *o, const struct oj_reply *r, void *data)
{
    struct inq *q = data;
    struct oj_poll *p = q->p;
    json_t *t = json_array_get(json_object_get(p->cur, "txs"), q->tx);
    p->q_running--;
    (void)o;
    if (r->outcome != H2H_OUT_OK) {
        struct h2h_err e = r->err;
        h2h_err_prefix(&e, "asking the bank for a pending payment");
        fail(p, &e);
        if (!r->bad_answer)
            p->bank_down = 1;
        advance(p);
        return;
    }
    const char *pid = json_string_value(json_object_get(t, "payment_id"));
    const char *sts = json_string_value(json_object_get(r->json, "status"));
    const char *rp = json_string_value(json_object_get(r->json, "payment_id"));
    json_t *rsn = json_object_get(r->json, "status_reason");
    if (r->status != 200 || !sts || strlen(sts) != 4 ||
        strspn(sts, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 4 || !rp || !pid ||
        strcmp(rp, pid) != 0 ||
        (json_is_string(rsn) && strlen(json_string_value(rsn)) > 4)) {
        char prob[300];
        struct h2h_err e;
        oj_reply_problem(r, prob, sizeof(prob));
        h2h_err_set(&e, H2H_EPROTO,
                    "the bank's answer about payment %s is not usable: %s",
                    pid ? pid : "?", prob);
        fail(p, &e);
        advance(p);
        return;
    }
    const char *old = json_string_value(json_object_get(t, "status"));
    const char *newr = json_is_string(rsn) ? json_string_value(rsn) : NULL;
    const char *oldr = json_string_value(json_object_get(t, "reason"));
    if (!old || strcmp(old, sts) != 0 ||
        (newr ? !oldr || strcmp(oldr, newr) != 0 : oldr != NULL)) {
        json_object_set_new(t, "status", json_string(sts));
        json_object_set_new(t, "reason",
                            newr && *newr ? json_string(newr) : json_null());
        p->changed = 1;
    }
    advance(p);
}

/* Ask about the next pending payments of p->cur; 1 when something runs. */
static int inquire(struct oj_poll *p)
{
    struct oj *o = p->o;
    json_t *txs = json_object_get(p->cur, "txs");
    size_t n = json_array_size(txs);
    unsigned window = o->s.max_sessions ? o->s.max_sessions : 1;
    while (!p->bank_down && !o->closing && p->q_running < window &&
           p->q_next < n) {
        size_t i = p->q_next++;
        json_t *t = json_array_get(txs, i);
        const char *pid = json_string_value(json_object_get(t, "payment_id"));
        if (!pid || !arec_status_pending(
                        json_string_value(json_object_get(t, "status"))))
            continue;
        char enc[200], path[300];
        struct h2h_err e = {0};
        if (oj_urlenc(pid, enc, sizeof(enc)) != 0)
            continue;
        snprintf(path, sizeof(path), "/v1/payments/%s", enc);
        p->inqs[i].p = p;
        p->inqs[i].tx = i;
        struct oj_call_spec sp = {
            .method = "GET", .path = path, .flags = HTTPS_IDEMPOTENT};
        if (oj_call(o, &sp, inq_cb, &p->inqs[i], &e) != 0) {
            fail(p, &e);
            p->bank_down = 1;
            break;
        }
        p->q_running++;
    }
    return p->q_running > 0;
}

/* Step 3: returns 1 while something runs. */
static int step_pending(struct oj_poll *p)
{
    struct oj *o = p->o;
    struct h2h_err e = {0};
    for (;;) {
        if (p->cur) {
            if (inquire(p))
                return 1;
            /* every pending payment of this record answered (or not) */
            if (p->changed && !o->closing) {
                p->changed = 0;
                p->work.data = p;
                if (oj_queue_work(o, &p->work, advance_work, advance_after,
                                  &e) == 0)
                    return 1;
                fail(p, &e);
            }
            json_decref(p->cur);
            p->cur = NULL;
        }
        if (p->bank_down || o->closing || !p->pending_due ||
            p->next_rec >= json_array_size(p->recs))
            return 0;
        json_t *rec = json_array_get(p->recs, p->next_rec++);
        const char *mid = json_string_value(json_object_get(rec, "msg_id"));
        if (!mid || oj_msg_running(o, mid))
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

/* ---- scans ----------------------------------------------------------------
 */

static void scan_work(uv_work_t *w)
{
    struct oj_poll *p = w->data;
    struct h2h_err e = {0};
    p->wrc = 0;
    if (!p->second) {
        p->wrc = arec_pending(&p->o->dirs, p->prune, &p->recs, &p->werr);
    }
    arec_names_free(p->names, p->n_names);
    p->names = NULL;
    p->n_names = p->next_name = 0;
    int rc = arec_outbox_list(&p->o->dirs, &p->names, &p->n_names, &e);
    if (rc < 0 && p->wrc == 0) {
        p->wrc = rc;
        p->werr = e;
    }
}

static void scan_after(uv_work_t *w, int status)
{
    struct oj_poll *p = w->data;
    oj_work_done(p->o);
    if (status != 0 || p->wrc < 0) {
        struct h2h_err e = p->werr;
        if (status != 0)
            h2h_err_set(&e, H2H_ECANCELED, "canceled");
        fail(p, &e);
    }
    p->phase = P_OUTBOX;
    advance(p);
}

static int start_scan(struct oj_poll *p, struct h2h_err *err)
{
    p->work.data = p;
    return oj_queue_work(p->o, &p->work, scan_work, scan_after, err);
}

/* ---- statements -------------------------------------------------------- */

static void stmt_done(struct oj *o, void *data, const char *path,
                      const char *name, const char *sha256, uint64_t size,
                      const struct h2h_err *err, int bank_down)
{
    struct oj_poll *p = data;
    (void)o;
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
    p->dl.kind = "statement";
    deliver(p);
}

/* Step 4: 1 while an account is on its way. */
static int step_stmt(struct oj_poll *p)
{
    struct oj *o = p->o;
    while (!p->bank_down && !o->closing && p->acct < o->s.n_accounts) {
        struct h2h_err e = {0};
        size_t i = p->acct++;
        if (oj_stmt_fetch(o, i, p->from, p->to, p->preq->tmp_dir, stmt_done, p,
                          &e) == 0)
            return 1;
        fail(p, &e);
    }
    return 0;
}

/* ---- the bills round ------------------------------------------------------
 */

static void round_done(struct oj *o, void *data, int wrote,
                       const struct h2h_err *err, int bank_down)
{
    struct oj_poll *p = data;
    if (err)
        fail(p, err);
    if (bank_down)
        p->bank_down = 1;
    if (wrote)
        p->any_changed = 1; /* deliver what it put into outbox/ now */
    /* a round that ran to its end is due again after the interval, even
     * with a failure in it (asking every poll would not cure it) */
    p->bills_ok = !bank_down && !o->closing;
    advance(p);
}

/* ---- the round ------------------------------------------------------------
 */

static void advance(struct oj_poll *p)
{
    struct oj *o = p->o;
    struct h2h_err e = {0};
    for (;;) {
        switch (p->phase) {
        case P_OUTBOX:
            if (next_outbox(p))
                return;
            if (p->second || o->closing) {
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
                !o->closing) {
                p->bills_started = 1;
                if (oj_round_start(o, round_done, p, &e) == 0)
                    return;
                fail(p, &e);
            }
            if (p->any_changed && !o->closing) {
                /* deliver the reports just made in this round */
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
            p->phase = P_END;
            continue;
        default:
            if (p->bills_ok)
                o->next_bills_ms = uv_now(o->base.loop) +
                                   (uint64_t)o->s.bills_interval_s * 1000u;
            if (p->pending_due && !p->bank_down && !o->closing)
                o->next_pending_ms = uv_now(o->base.loop) +
                                     (uint64_t)o->s.pending_interval_s * 1000u;
            /* statements fetched for every account: due again after the
             * interval; cut short (bank down, shutdown): next round */
            if (p->stmt_due && !p->bank_down && !o->closing)
                o->next_stmt_ms = uv_now(o->base.loop) +
                                  (uint64_t)o->s.statement_interval_s * 1000u;
            finish(p);
            return;
        }
    }
}

int oj_poll_holds(const struct oj *o, const char *msg_id)
{
    const json_t *cur = o->poll ? o->poll->cur : NULL;
    const char *m = json_string_value(json_object_get(cur, "msg_id"));
    return m && strcmp(m, msg_id) == 0;
}

int oj_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
            struct h2h_err *err)
{
    struct oj *o = (struct oj *)a;
    if (o->closing)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           a->bank);
    if (o->poll)
        return h2h_err_set(err, H2H_ESTATE, "bank %s: a poll is running",
                           a->bank);
    if (!req || !req->tmp_dir || !req->deliver || !req->done)
        return h2h_err_set(err, H2H_EINVALID, "incomplete poll request");
    struct oj_poll *p = calloc(1, sizeof(*p));
    if (!p)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    p->o = o;
    p->preq = req;
    p->answers0 = o->answers;
    p->phase = P_SCAN;
    uint64_t now = uv_now(o->base.loop);
    if (last_prune_ms == 0 || now - last_prune_ms >= PRUNE_EVERY_MS) {
        p->prune = 1;
        last_prune_ms = now;
    }
    /* pending payments and statements only when due */
    /* a routine round does what its intervals say is due; a named kind
     * (scheduled job, h2hctl fetch) is done now */
    unsigned stmt_bits =
        H2H_POLL_STATEMENTS | H2H_POLL_INTRADAY | H2H_POLL_BALANCE;
    p->pending_due = req->what ? (req->what & H2H_POLL_STATUS) != 0
                               : now >= o->next_pending_ms;
    int stmt_due =
        req->what ? (req->what & stmt_bits) != 0 : now >= o->next_stmt_ms;
    if (o->s.kinds & (H2H_KIND_BILLS | H2H_KIND_SCF))
        p->bills_due = req->what ? (req->what & H2H_POLL_BILLS) != 0
                                 : now >= o->next_bills_ms;
    if (o->s.n_accounts && stmt_due) {
        p->stmt_due = 1;
        if (req->date) {
            snprintf(p->from, sizeof(p->from), "%.10s", req->date);
            snprintf(p->to, sizeof(p->to), "%.10s", req->date);
        } else {
            oj_date(-(int)o->s.statement_days, p->from);
            oj_date(0, p->to);
        }
    } else {
        p->acct = o->s.n_accounts;
    }
    int rc = start_scan(p, err);
    if (rc < 0) {
        free(p);
        return rc;
    }
    req->priv = p;
    o->poll = p;
    o->ops++;
    return 0;
}
