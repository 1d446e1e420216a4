/*
 * engine.c - moves messages through their lifecycle; see h2hd.h.
 *
 * The pump (a 0 ms timer, so that many triggers in one loop iteration make
 * one pass) first commits the results that came back from adapters, then
 * renders accepted messages, then fills each bank's free session slots with
 * rendered messages: their move to `submitting` (with the bank-visible
 * name) is committed before the adapter is called, so that a crash after
 * the first byte always finds them in `submitting` and asks the bank
 * (recover) before anything is sent again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "billbook.h"
#include "fsutil.h"
#include "h2hd.h"
#include "log.h"
#include "names.h"
#include "render.h"
#include "scfbook.h"
#include "scheduler.h"

/* ---- in-flight set: message ids with an adapter operation running ------- */

struct inflight_set {
    char (*ids)[STORE_ID_MAX];
    size_t n, cap;
};

static int inflight_add(struct h2hd *d, const char *id)
{
    struct inflight_set *s = d->inflight;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        void *p = realloc(s->ids, nc * sizeof(*s->ids));
        if (!p)
            return H2H_ENOMEM;
        s->ids = p;
        s->cap = nc;
    }
    snprintf(s->ids[s->n++], STORE_ID_MAX, "%s", id);
    return 0;
}

static void inflight_del(struct h2hd *d, const char *id)
{
    struct inflight_set *s = d->inflight;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0) {
            memcpy(s->ids[i], s->ids[--s->n], STORE_ID_MAX);
            return;
        }
}

int engine_is_inflight(struct h2hd *d, const char *id)
{
    struct inflight_set *s = d->inflight;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return 1;
    return 0;
}

int engine_inflight_total(struct h2hd *d)
{
    return (int)d->inflight->n + d->pickups_inflight + d->renders_inflight;
}

/* ---- pending results, committed together --------------------------------- */

struct pending {
    struct pending *next;
    char id[STORE_ID_MAX];
    enum msg_state from, to;
    char *error;
    char *detail;
    char *bank;
    char *remote;
    int attempts_inc;
    int64_t next_attempt_ms;
    enum h2h_log_level level;
    const char *event;
};

static void pending_add(struct h2hd *d, const char *id, enum msg_state from,
                        enum msg_state to, const char *event,
                        enum h2h_log_level level, const char *bank,
                        const char *remote, const char *error,
                        const char *detail, int attempts_inc,
                        int64_t next_attempt_ms)
{
    struct pending *p = calloc(1, sizeof(*p));
    if (!p) {
        /* The message stays where it is; recovery picks it up later. */
        h2h_log(H2H_LOG_ERROR, "engine.oom", "msg", id, NULL);
        return;
    }
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->from = from;
    p->to = to;
    p->event = event;
    p->level = level;
    p->bank = bank ? strdup(bank) : NULL;
    p->remote = remote ? strdup(remote) : NULL;
    p->error = error ? strdup(error) : NULL;
    p->detail = detail ? strdup(detail) : NULL;
    p->attempts_inc = attempts_inc;
    p->next_attempt_ms = next_attempt_ms;
    /* keep arrival order: append */
    struct pending **pp = &d->pending;
    while (*pp)
        pp = &(*pp)->next;
    *pp = p;
}

static void pending_free(struct pending *p)
{
    free(p->error);
    free(p->detail);
    free(p->bank);
    free(p->remote);
    free(p);
}

static void flush_pending(struct h2hd *d)
{
    struct pending *list = d->pending;
    struct h2h_err err = {0};
    if (!list)
        return;
    d->pending = NULL;
    if (store_txn_begin(d->store, &err) != 0) {
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
        d->pending = list; /* try again on the next pump */
        return;
    }
    for (struct pending *p = list; p; p = p->next) {
        struct store_change ch = {
            .error = p->error ? p->error : (p->to == ST_SUBMITTED ? "" : NULL),
            .attempts_inc = p->attempts_inc,
            .next_attempt_ms = p->next_attempt_ms,
            .detail = p->detail ? p->detail : p->error,
            .actor = "daemon",
        };
        struct h2h_err e = {0};
        if (store_transition(d->store, p->id, p->from, p->to, &ch, &e) != 0) {
            h2h_log(H2H_LOG_ERROR, "message.transition.failed", "msg", p->id,
                    "from", state_name(p->from), "to", state_name(p->to),
                    "error", e.msg, NULL);
            p->event = NULL;
        }
    }
    if (store_txn_commit(d->store, &err) != 0) {
        /* Nothing of this group is durable: keep the results for the next
         * pump rather than log transitions that did not happen. */
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
        d->pending = list;
        return;
    }
    for (struct pending *p = list, *n; p; p = n) {
        n = p->next;
        if (p->event)
            h2h_log(p->level, p->event, "msg", p->id, "bank",
                    p->bank ? p->bank : "", "state", state_name(p->to),
                    "remote", p->remote, "error", p->error, "detail", p->detail,
                    NULL);
        pending_free(p);
    }
}

/* ---- jobs: one adapter operation ------------------------------------------
 */

struct job {
    struct h2h_submit_req req;
    struct bank_rt *b;
    struct h2hd *d;
    int recover;
    int attempts;
    int64_t created_ms;
    char id[STORE_ID_MAX];
    char *remote;
    char *payload;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->remote);
    free(j->payload);
    free(j);
}

static void bank_op_done(struct bank_rt *b);

static const struct cfg_retry *retry_of(struct bank_rt *b)
{
    return b->cfg ? &b->cfg->retry : &b->d->cfg->retry;
}

static void submit_cb(struct h2h_adapter *a, struct h2h_submit_req *req,
                      const struct h2h_result *res)
{
    struct job *j = req->data;
    struct h2hd *d = j->d;
    struct bank_rt *b = j->b;
    (void)a;
    inflight_del(d, j->id);
    switch (res->outcome) {
    case H2H_OUT_OK:
        pending_add(d, j->id, ST_SUBMITTING, ST_SUBMITTED, "payment.submitted",
                    H2H_LOG_INFO, b->name, j->remote, NULL,
                    res->bank_ref[0] ? res->bank_ref : NULL, 0, -1);
        break;
    case H2H_OUT_TEMPFAIL:
    case H2H_OUT_NOT_SENT: {
        int attempts = j->attempts + 1;
        const struct cfg_retry *r = retry_of(b);
        if (backoff_exhausted(r, attempts, j->created_ms, h2hd_now_ms())) {
            pending_add(d, j->id, ST_SUBMITTING, ST_FAILED, "payment.failed",
                        H2H_LOG_ERROR, b->name, j->remote, res->err.msg,
                        "retries exhausted; waiting for a person", 1, -1);
        } else {
            int64_t delay = backoff_delay_ms(r, attempts, &d->rng);
            pending_add(d, j->id, ST_SUBMITTING, ST_DEFERRED,
                        "payment.deferred", H2H_LOG_WARN, b->name, j->remote,
                        res->err.msg, NULL, 1, h2hd_now_ms() + delay);
        }
        snprintf(b->last_error, sizeof(b->last_error), "%s", res->err.msg);
        break;
    }
    case H2H_OUT_PERMFAIL:
        pending_add(d, j->id, ST_SUBMITTING, ST_FAILED, "payment.failed",
                    H2H_LOG_ERROR, b->name, j->remote, res->err.msg, NULL, 1,
                    -1);
        break;
    case H2H_OUT_UNKNOWN:
        /* The connection died after the bank may have taken the file.
         * The message stays in submitting, where recovery (the adapter's
         * recover, on the next retry tick) asks the bank before anything
         * is sent again; only an answer recover cannot give holds it. */
        h2h_log(H2H_LOG_WARN, "payment.outcome_unknown", "msg", j->id, "bank",
                b->name, "remote", j->remote, "error", res->err.msg, "next",
                "recover asks the bank before any resend", NULL);
        snprintf(b->last_error, sizeof(b->last_error), "%s", res->err.msg);
        break;
    }
    job_free(j);
    bank_op_done(b);
}

static void recover_cb(struct h2h_adapter *a, struct h2h_submit_req *req,
                       const struct h2h_result *res)
{
    struct job *j = req->data;
    struct h2hd *d = j->d;
    struct bank_rt *b = j->b;
    (void)a;
    inflight_del(d, j->id);
    switch (res->outcome) {
    case H2H_OUT_OK:
        pending_add(d, j->id, ST_SUBMITTING, ST_SUBMITTED,
                    "payment.recovered.delivered", H2H_LOG_INFO, b->name,
                    j->remote, NULL, "recover: the bank has it", 0, -1);
        break;
    case H2H_OUT_NOT_SENT:
        /* Proven not delivered: due again now, through the normal retry
         * path (the state table never goes from submitting straight back
         * to rendered). */
        pending_add(
            d, j->id, ST_SUBMITTING, ST_DEFERRED, "payment.recovered.not_sent",
            H2H_LOG_WARN, b->name, j->remote, NULL,
            "recover: proven not delivered; will be sent", 0, h2hd_now_ms());
        break;
    case H2H_OUT_UNKNOWN:
        pending_add(d, j->id, ST_SUBMITTING, ST_HELD, "payment.held",
                    H2H_LOG_ERROR, b->name, j->remote, res->err.msg,
                    "recover: outcome unknown; ask the bank before release", 0,
                    -1);
        break;
    default:
        /* Cannot tell now (bank unreachable): stays in submitting and is
         * asked again on a later retry tick. */
        h2h_log(H2H_LOG_WARN, "payment.recover.retry", "msg", j->id, "bank",
                b->name, "error", res->err.msg, NULL);
        break;
    }
    job_free(j);
    bank_op_done(b);
}

static struct job *job_new(struct h2hd *d, struct bank_rt *b,
                           const struct store_msg *m, int recover)
{
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->d = d;
    j->b = b;
    j->recover = recover;
    j->attempts = m->attempts;
    j->created_ms = m->created_ms;
    snprintf(j->id, sizeof(j->id), "%s", m->id);
    j->remote = strdup(m->remote_name ? m->remote_name : "");
    j->payload =
        strdup(m->rendered_path ? m->rendered_path
                                : (m->payload_path ? m->payload_path : ""));
    if (!j->remote || !j->payload) {
        job_free(j);
        return NULL;
    }
    j->req.msg_id = j->id;
    j->req.remote_name = j->remote;
    j->req.payload = j->payload;
    j->req.kind = m->kind ? m->kind : "payment";
    j->req.data = j;
    return j;
}

/* Start an adapter operation; on a synchronous error the message goes back
 * to where a retry will find it. */
static void start_job(struct h2hd *d, struct bank_rt *b, struct job *j)
{
    struct h2h_err err = {0};
    int rc;
    if (j->recover)
        rc = b->ad->ops->recover(b->ad, &j->req, recover_cb, &err);
    else
        rc = b->ad->ops->submit(b->ad, &j->req, submit_cb, &err);
    if (rc == 0) {
        b->inflight++;
        inflight_add(d, j->id);
        return;
    }
    if (!j->recover) {
        /* Nothing left the machine: the callback will never run. */
        int64_t delay = backoff_delay_ms(retry_of(b), j->attempts + 1, &d->rng);
        pending_add(d, j->id, ST_SUBMITTING, ST_DEFERRED, "payment.deferred",
                    H2H_LOG_WARN, b->name, j->remote, err.msg, NULL, 1,
                    h2hd_now_ms() + delay);
    } else {
        h2h_log(H2H_LOG_WARN, "payment.recover.retry", "msg", j->id, "bank",
                b->name, "error", err.msg, NULL);
    }
    job_free(j);
    engine_kick(d);
}

static void bank_op_done(struct bank_rt *b)
{
    struct h2hd *d = b->d;
    b->inflight--;
    engine_kick(d);
    if (d->stopping)
        h2hd_stop(d, NULL);
}

/* ---- the pump --------------------------------------------------------------
 */

struct collect {
    struct store_msg *v;
    size_t n, cap;
};

static int collect_cb(void *ctx, const struct store_msg *m)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        void *p = realloc(c->v, nc * sizeof(*c->v));
        if (!p)
            return 1;
        c->v = p;
        c->cap = nc;
    }
    /* store_msg strings belong to the store's row buffer: copy */
    struct store_msg *dst = &c->v[c->n];
    *dst = *m;
    dst->channel = m->channel ? strdup(m->channel) : NULL;
    dst->bank = m->bank ? strdup(m->bank) : NULL;
    dst->kind = m->kind ? strdup(m->kind) : NULL;
    dst->orig_name = m->orig_name ? strdup(m->orig_name) : NULL;
    dst->payload_path = m->payload_path ? strdup(m->payload_path) : NULL;
    dst->rendered_path = m->rendered_path ? strdup(m->rendered_path) : NULL;
    dst->remote_name = m->remote_name ? strdup(m->remote_name) : NULL;
    dst->business_id = m->business_id ? strdup(m->business_id) : NULL;
    dst->last_error = m->last_error ? strdup(m->last_error) : NULL;
    c->n++;
    return 0;
}

static void collect_release(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        store_msg_release(&c->v[i]);
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

static int list_into(struct h2hd *d, int state, const char *bank,
                     int64_t due_before, size_t limit, struct collect *c)
{
    struct store_filter f = {
        .state = state,
        .bank = bank,
        .due_before_ms = due_before,
        .limit = limit,
    };
    struct h2h_err err = {0};
    int rc = store_list(d->store, &f, collect_cb, c, &err);
    if (rc < 0)
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
    return rc;
}

/* accepted -> rendered.  Rendering into a bank format runs on the pool;
 * a payload that goes to the bank as it came needs no work. */
static void render_done(struct render_job *rj, int rc, const char *out_path,
                        const char *why);

static void render_accepted(struct h2hd *d)
{
    struct collect c = {0};
    if (list_into(d, ST_ACCEPTED, NULL, 0, 256, &c) < 0 || c.n == 0)
        goto out;
    for (size_t i = 0; i < c.n; i++) {
        struct store_msg *m = &c.v[i];
        if (engine_is_inflight(d, m->id))
            continue;
        struct bank_rt *b = h2hd_bank(d, m->bank);
        if (!b) {
            pending_add(d, m->id, ST_ACCEPTED, ST_HELD, "payment.held",
                        H2H_LOG_ERROR, m->bank, NULL,
                        "no such bank in the configuration", NULL, 0, -1);
            continue;
        }
        /* a bank's payment_format is for payments: other families go
         * as treasury dropped them (canonical XML the adapter reads) */
        int payment = !m->kind || strcmp(m->kind, "payment") == 0;
        if (!payment || !render_needed(b->cfg)) {
            pending_add(d, m->id, ST_ACCEPTED, ST_RENDERED, "payment.rendered",
                        H2H_LOG_INFO, m->bank, NULL, NULL, "as received", 0,
                        -1);
            continue;
        }
        const struct cfg_channel *cc = cfg_channel_find(d->cfg, m->channel);
        if (render_start(d->loop, b->cfg, m, cc ? cc->charset : NULL,
                         d->data_dir, render_done, d) == 0) {
            inflight_add(d, m->id);
            d->renders_inflight++;
        }
    }
    flush_pending(d);
out:
    collect_release(&c);
}

static void render_done(struct render_job *rj, int rc, const char *out_path,
                        const char *why)
{
    struct h2hd *d = render_job_data(rj);
    const char *id = render_job_msg(rj);
    inflight_del(d, id);
    d->renders_inflight--;
    if (rc == 0) {
        struct h2h_err err = {0};
        struct store_change ch = {
            .rendered_path = out_path, .detail = "rendered", .actor = "daemon"};
        if (store_transition(d->store, id, ST_ACCEPTED, ST_RENDERED, &ch,
                             &err) == 0)
            h2h_log(H2H_LOG_INFO, "payment.rendered", "msg", id, "bank",
                    render_job_bank(rj), "file", out_path, NULL);
        else
            h2h_log(H2H_LOG_ERROR, "message.transition.failed", "msg", id,
                    "error", err.msg, NULL);
    } else {
        pending_add(d, id, ST_ACCEPTED, ST_FAILED, "payment.failed",
                    H2H_LOG_ERROR, render_job_bank(rj), NULL,
                    why ? why : "rendering failed", NULL, 0, -1);
    }
    render_job_free(rj);
    engine_kick(d);
    if (d->stopping)
        h2hd_stop(d, NULL);
}

/* "{id}-{name}" -> bank-visible name; tokens {id} {name} {date}. */
/* A {seq} or {seqN} token (N digits, 1..9; {seq} is 3) at p: its length,
 * with *width set; 0 when p holds none. */
static size_t seq_token(const char *p, int *width)
{
    if (strncmp(p, "{seq", 4) != 0)
        return 0;
    if (p[4] == '}') {
        *width = 3;
        return 5;
    }
    if (p[4] >= '1' && p[4] <= '9' && p[5] == '}') {
        *width = p[4] - '0';
        return 6;
    }
    return 0;
}

/*
 * The name the bank sees, from the bank's name_pattern.  {date} is the
 * message's acceptance day (UTC) and {seq} counts this bank's names of
 * that day: the counter lives in the store and moves in the caller's
 * transaction, the one that records the name, so a name is never handed
 * out twice and a retry reuses the recorded name.  0 or H2H_*.
 */
static int make_remote(struct h2hd *d, const struct bank_rt *b,
                       const struct store_msg *m, char *out, size_t outsz,
                       struct h2h_err *err)
{
    const char *pat =
        b->cfg && b->cfg->name_pattern ? b->cfg->name_pattern : "{id}-{name}";
    size_t o = 0;
    char date[16], seq[32] = "";
    int64_t seq_v = 0;
    time_t t = (time_t)(m->created_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    for (const char *p = pat; *p && o + 1 < outsz;) {
        const char *val = NULL;
        size_t skip = 0;
        int width;
        if (strncmp(p, "{id}", 4) == 0)
            val = m->id, skip = 4;
        else if (strncmp(p, "{name}", 6) == 0)
            val = m->orig_name ? m->orig_name : "", skip = 6;
        else if (strncmp(p, "{date}", 6) == 0)
            val = date, skip = 6;
        else if (strncmp(p, "{msgid}", 7) == 0)
            val = m->business_id ? m->business_id : m->id, skip = 7;
        else if ((skip = seq_token(p, &width)) > 0) {
            if (!seq_v) {
                char key[CFG_NAME_MAX + 32];
                snprintf(key, sizeof(key), "ctr:name:%s:%s", b->name, date);
                int rc = store_counter_next(d->store, key, &seq_v, err);
                if (rc)
                    return rc;
            }
            snprintf(seq, sizeof(seq), "%0*lld", width, (long long)seq_v);
            val = seq;
        }
        if (val) {
            for (; *val && o + 1 < outsz; val++)
                out[o++] = (*val == '/' ? '_' : *val);
            p += skip;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    /* Bank names obey the drop-name rules: cap at a character boundary. */
    if (o > NAMES_DROP_MAX) {
        o = NAMES_DROP_MAX;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
            o--;
        out[o] = '\0';
    }
    return 0;
}

/* A payment judged late by the bank's cut-off (scheduler.h), to be logged
 * once the transaction that records the verdict has committed. */
struct late {
    char id[STORE_ID_MAX];
    struct sched_verdict v;
};

static const char *verdict_name(enum sched_action a)
{
    switch (a) {
    case SCHED_SEND: return "in_time";
    case SCHED_FLAG: return "flagged";
    default: return "held";
    }
}

/*
 * The cut-off verdict for m, taken once per message: the first time it
 * would be submitted; a retry, a release or a restart keeps it.  Inside
 * the caller's transaction, which records it.  0 with *v (SCHED_SEND also
 * when the bank has no cut-off or m was judged before; *fresh 1 when it
 * was judged now; *held_until the end of an earlier hold, else 0), or an
 * error.
 */
static int cutoff_verdict(struct h2hd *d, struct bank_rt *b,
                          const struct store_msg *m, struct sched_verdict *v,
                          int *fresh, int64_t *held_until,
                          struct h2h_err *err)
{
    char act[16];
    memset(v, 0, sizeof(*v));
    v->action = SCHED_SEND;
    *fresh = 0;
    *held_until = 0;
    if (!sched_has_cutoff(d, b->name))
        return 0;
    int rc = store_cutoff_get(d->store, m->id, act, held_until, err);
    if (rc != H2H_ENOTFOUND)
        return rc;
    h2h_err_clear(err);
    sched_payment_cutoff(d, b->name, (time_t)(h2hd_now_ms() / 1000), v);
    *fresh = 1;
    return store_cutoff_put(d->store, m->id, verdict_name(v->action),
                            v->action == SCHED_HOLD ? (int64_t)v->until * 1000
                                                    : 0,
                            err);
}

/* A late payment that is not sent now.  Held until the next business day:
 * deferred with that due time, which the retry timer honours like any
 * backoff (the state table reaches deferred through submitting only; both
 * steps commit together, so it is never durable in submitting unsent).
 * When the calendar cannot tell that day: held for a person. */
static int hold_late(struct h2hd *d, const struct store_msg *m,
                     const struct sched_verdict *v, struct h2h_err *err)
{
    char detail[512];
    if (v->action == SCHED_HOLD_PERSON) {
        snprintf(detail, sizeof(detail),
                 "cut-off: %s; held until a person releases it", v->why);
        struct store_change ch = {.error = detail, .detail = detail};
        return store_transition(d->store, m->id, ST_RENDERED, ST_HELD, &ch,
                                err);
    }
    snprintf(detail, sizeof(detail), "cut-off: %s; held until %s", v->why,
             v->until_iso);
    struct store_change to_sub = {.detail = "cut-off check: not sent"};
    struct store_change to_def = {.error = detail,
                                  .detail = detail,
                                  .next_attempt_ms = (int64_t)v->until * 1000};
    int rc = store_transition(d->store, m->id, ST_RENDERED, ST_SUBMITTING,
                              &to_sub, err);
    if (rc == 0)
        rc = store_transition(d->store, m->id, ST_SUBMITTING, ST_DEFERRED,
                              &to_def, err);
    return rc;
}

static void log_late(const char *bank, const struct late *l)
{
    const struct sched_verdict *v = &l->v;
    const char *next = "sent then (h2hctl retry: now)";
    if (v->action == SCHED_HOLD_PERSON)
        next = "h2hctl release once decided";
    else if (v->action == SCHED_FLAG)
        next = "sent now";
    h2h_log(v->action == SCHED_HOLD_PERSON ? H2H_LOG_ERROR : H2H_LOG_WARN,
            "payment.after_cutoff", "msg", l->id, "bank", bank, "action",
            v->action == SCHED_FLAG ? "flagged" : "held", "until",
            v->action == SCHED_HOLD ? v->until_iso : NULL, "reason", v->why,
            "next", next, NULL);
}

static void submit_rendered(struct h2hd *d, struct bank_rt *b)
{
    if (!b->ad || b->retired)
        return;
    int max = b->cfg && b->cfg->max_sessions > 0 ? b->cfg->max_sessions : 4;
    int free_slots = max - b->inflight;
    if (free_slots <= 0)
        return;
    struct collect c = {0};
    struct h2h_err err = {0};
    if (list_into(d, ST_RENDERED, b->name, 0, (size_t)free_slots, &c) < 0 ||
        c.n == 0)
        goto out;
    struct job **jobs = calloc(c.n, sizeof(*jobs));
    struct late *late = calloc(c.n, sizeof(*late));
    if (!jobs || !late) {
        free(jobs);
        free(late);
        goto out;
    }
    /* Commit `submitting` for the whole group before the first byte. */
    if (store_txn_begin(d->store, &err) != 0) {
        free(late);
        free(jobs);
        goto fail;
    }
    size_t nj = 0, nl = 0, nheld = 0;
    for (size_t i = 0; i < c.n; i++) {
        struct store_msg *m = &c.v[i];
        char remote[512];
        struct h2h_err e = {0};
        struct sched_verdict v;
        int fresh;
        int64_t held_until;
        if (cutoff_verdict(d, b, m, &v, &fresh, &held_until, &e) != 0) {
            h2h_log(H2H_LOG_ERROR, "message.transition.failed", "msg", m->id,
                    "error", e.msg, NULL);
            continue;
        }
        if (fresh && v.action != SCHED_SEND) {
            snprintf(late[nl].id, sizeof(late[nl].id), "%s", m->id);
            late[nl].v = v;
        }
        if (v.action == SCHED_HOLD || v.action == SCHED_HOLD_PERSON) {
            if (hold_late(d, m, &v, &e) != 0) {
                h2h_log(H2H_LOG_ERROR, "message.transition.failed", "msg",
                        m->id, "error", e.msg, NULL);
                continue;
            }
            nheld++;
            if (fresh)
                nl++;
            continue;
        }
        if (fresh && v.action == SCHED_FLAG)
            nl++;
        if (m->remote_name && m->remote_name[0])
            snprintf(remote, sizeof(remote), "%s", m->remote_name);
        else if (make_remote(d, b, m, remote, sizeof(remote), &e) != 0) {
            h2h_log(H2H_LOG_ERROR, "message.transition.failed", "msg", m->id,
                    "error", e.msg, NULL);
            continue;
        }
        struct store_change ch = {
            .remote_name = remote, .actor = "daemon", .detail = remote};
        if (store_transition(d->store, m->id, ST_RENDERED, ST_SUBMITTING, &ch,
                             &e) != 0) {
            h2h_log(H2H_LOG_ERROR, "message.transition.failed", "msg", m->id,
                    "error", e.msg, NULL);
            continue;
        }
        free(m->remote_name);
        m->remote_name = strdup(remote);
        jobs[nj] = job_new(d, b, m, 0);
        /* retry.max_age counts from the end of a cut-off hold: a payment
         * kept over a weekend is not too old for its first retry */
        if (jobs[nj] && held_until > jobs[nj]->created_ms)
            jobs[nj]->created_ms = held_until;
        if (jobs[nj])
            nj++;
    }
    if (store_txn_commit(d->store, &err) != 0) {
        for (size_t i = 0; i < nj; i++)
            job_free(jobs[i]);
        free(jobs);
        free(late);
        goto fail;
    }
    for (size_t i = 0; i < nl; i++)
        log_late(b->name, &late[i]);
    free(late);
    /* held ones left session slots free: fill them on the next pass */
    if (nheld)
        engine_kick(d);
    for (size_t i = 0; i < nj; i++) {
        h2h_log(H2H_LOG_INFO, "payment.submitting", "msg", jobs[i]->id, "bank",
                b->name, "remote", jobs[i]->remote, NULL);
        start_job(d, b, jobs[i]);
    }
    free(jobs);
    goto out;
fail:
    store_txn_rollback(d->store);
    h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
out:
    collect_release(&c);
}

static void pump_cb(uv_timer_t *t)
{
    struct h2hd *d = t->data;
    d->pump_scheduled = 0;
    flush_pending(d);
    if (d->stopping)
        return;
    render_accepted(d);
    for (size_t i = 0; i < d->n_banks; i++)
        submit_rendered(d, d->banks[i]);
    flush_pending(d);
}

void engine_kick(struct h2hd *d)
{
    if (d->pump_scheduled)
        return;
    d->pump_scheduled = 1;
    uv_timer_start(&d->pump_timer, pump_cb, 0, 0);
}

/* ---- recovery and retries
 * ---------------------------------------------------- */

void engine_recover_all(struct h2hd *d)
{
    struct collect c = {0};
    if (list_into(d, ST_SUBMITTING, NULL, 0, 0, &c) < 0)
        return;
    for (size_t i = 0; i < c.n; i++) {
        struct store_msg *m = &c.v[i];
        if (engine_is_inflight(d, m->id))
            continue;
        struct bank_rt *b = h2hd_bank(d, m->bank);
        if (!b || !b->ad || b->retired)
            continue;
        struct job *j = job_new(d, b, m, 1);
        if (!j)
            continue;
        h2h_log(H2H_LOG_INFO, "payment.recovering", "msg", m->id, "bank",
                b->name, "remote", m->remote_name, NULL);
        start_job(d, b, j);
    }
    collect_release(&c);
}

void engine_retry_due(struct h2hd *d)
{
    struct collect c = {0};
    int64_t now = h2hd_now_ms();
    if (list_into(d, ST_DEFERRED, NULL, now, 1000, &c) < 0)
        return;
    for (size_t i = 0; i < c.n; i++)
        pending_add(d, c.v[i].id, ST_DEFERRED, ST_RENDERED, "payment.retry",
                    H2H_LOG_INFO, c.v[i].bank, NULL, NULL, "backoff elapsed", 0,
                    -1);
    collect_release(&c);
    engine_kick(d);
}

static void retry_timer_cb(uv_timer_t *t)
{
    struct h2hd *d = t->data;
    static int64_t last_recover;
    if (d->stopping)
        return;
    engine_retry_due(d);
    int64_t now = h2hd_now_ms();
    if (now - last_recover >= 10000) {
        last_recover = now;
        engine_recover_all(d);
    }
}

/* ---- polling: what the bank has for us
 * ---------------------------------------- */

/* The running channel of cfg_home_channel(); NULL when it is not
 * running (h2hd is stopping). */
static struct chan_rt *home_channel(struct h2hd *d, const char *bank)
{
    const struct cfg_channel *c = cfg_home_channel(d->cfg, bank);
    for (size_t i = 0; c && i < d->n_chans; i++)
        if (strcmp(d->chans[i]->cfg->name, c->name) == 0)
            return d->chans[i];
    return NULL;
}

/* One download on its way from the adapter's temporary to out/. */
struct dl_ctx {
    struct h2h_adapter *a;
    struct h2h_poll_req *req;
    struct bank_rt *b;
    char remote[256], sha256[65], local[4096];
    uint64_t size;
};

static void dl_answer(struct dl_ctx *x, int rc)
{
    struct h2h_download dl = {.remote_name = x->remote,
                              .local_path = x->local,
                              .kind = "other",
                              .sha256 = x->sha256,
                              .size = x->size};
    h2h_poll_delivered(x->a, x->req, &dl, rc);
    free(x);
}

/* What linking one status report did, kept to be logged once the store
 * transaction that holds it has committed. */
struct status_link {
    enum {
        LINK_NONE,
        LINK_PENDING,
        LINK_UNMATCHED,
        LINK_REPEATED,
        LINK_IGNORED,
        LINK_MOVED
    } what;
    enum msg_state to;
    char id[STORE_ID_MAX];
    size_t n_tx_recorded; /* payment statuses kept for h2hctl show */
    struct h2h_err err;
};

/* A bank's status report moves the message it answers (found by the
 * MsgId recorded at acceptance for that bank).  A report for a message
 * still in `submitting` (h2hd crashed before it recorded the upload) is
 * proof of receipt: the message is moved to submitted first.  Runs inside
 * the caller's transaction, so that the report counts as delivered exactly
 * when its message has moved: a crash between the two would lose the
 * link, since a delivered report is never fetched again. */
static void link_status(struct h2hd *d, const char *bank, const char *file,
                        const struct render_status *st, struct status_link *o)
{
    struct h2h_err err = {0};
    char key[CFG_NAME_MAX + 130];
    struct store_msg m = {0};

    snprintf(key, sizeof(key), "%s:%s", bank, st->orgnl_msg_id);
    if (store_id_owner(d->store, "msgid", key, o->id, &err) != 0 ||
        store_get(d->store, o->id, &m, &err) != 0) {
        o->what = LINK_UNMATCHED;
        o->err = err;
        return;
    }
    /* what the bank said about each payment, for h2hctl show */
    for (size_t i = 0; i < st->n_txs; i++) {
        const struct render_tx_status *t = &st->txs[i];
        struct store_tx_status ts = {.pmt_inf_id = t->pmt_inf_id,
                                     .end_to_end_id = t->e2e,
                                     .status = t->sts,
                                     .reasons =
                                         t->reasons[0] ? t->reasons : NULL,
                                     .report = file};
        if (store_tx_status_put(d->store, o->id, &ts, &err) == 0)
            o->n_tx_recorded++;
    }
    if (strcmp(st->verdict, "RJCT") == 0)
        o->to = ST_REJECTED;
    else if (strcmp(st->verdict, "PART") == 0)
        o->to = ST_PARTIALLY_ACCEPTED;
    else if (strncmp(st->verdict, "AC", 2) == 0)
        o->to = ST_ACKNOWLEDGED;
    else {
        o->what = LINK_PENDING;
        store_msg_release(&m);
        return;
    }
    char detail[1024];
    snprintf(detail, sizeof(detail),
             "status report %s: %s, %zu of %zu "
             "transactions accepted%s%s",
             file, st->verdict, st->n_accepted, st->n_tx,
             st->reasons[0] ? ", reasons " : "", st->reasons);
    int rc = 0;
    enum msg_state from = m.state;
    if (from == ST_SUBMITTING) {
        struct store_change ch = {.detail = "the bank's status report "
                                            "proves receipt",
                                  .error = ""};
        rc = store_transition(d->store, o->id, ST_SUBMITTING, ST_SUBMITTED, &ch,
                              &err);
        from = ST_SUBMITTED;
    }
    if (rc == 0 && from == o->to) {
        o->what = LINK_REPEATED; /* the same verdict again */
    } else if (rc == 0) {
        struct store_change ch = {
            .detail = detail,
            .error = o->to == ST_ACKNOWLEDGED ? "" : detail,
        };
        rc = store_transition(d->store, o->id, from, o->to, &ch, &err);
        o->what = rc == 0 ? LINK_MOVED : LINK_IGNORED;
    } else {
        o->what = LINK_IGNORED;
    }
    if (o->what == LINK_IGNORED)
        o->err = err;
    store_msg_release(&m);
}

static void log_status_link(const char *bank, const char *file,
                            const struct render_status *st,
                            const struct status_link *o)
{
    char n_acc[24], n_tx[24];
    snprintf(n_acc, sizeof(n_acc), "%zu", st->n_accepted);
    snprintf(n_tx, sizeof(n_tx), "%zu", st->n_tx);
    switch (o->what) {
    case LINK_PENDING:
        h2h_log(H2H_LOG_INFO, "status.pending", "msg", o->id, "bank", bank,
                "file", file, "orig_msgid", st->orgnl_msg_id, "status",
                st->verdict, NULL);
        break;
    case LINK_UNMATCHED:
        h2h_log(H2H_LOG_WARN, "status.unmatched", "bank", bank, "file", file,
                "orig_msgid", st->orgnl_msg_id, "status", st->verdict, "error",
                o->err.msg, NULL);
        break;
    case LINK_IGNORED:
        h2h_log(H2H_LOG_WARN, "status.ignored", "msg", o->id, "bank", bank,
                "file", file, "status", st->verdict, "error", o->err.msg, NULL);
        break;
    case LINK_MOVED:
        h2h_log(o->to == ST_ACKNOWLEDGED ? H2H_LOG_INFO : H2H_LOG_WARN,
                o->to == ST_ACKNOWLEDGED ? "payment.acknowledged"
                : o->to == ST_REJECTED   ? "payment.rejected"
                                         : "payment.partially_accepted",
                "msg", o->id, "bank", bank, "file", file, "status", st->verdict,
                "accepted", n_acc, "transactions", n_tx, "reasons",
                st->reasons[0] ? st->reasons : NULL, NULL);
        break;
    case LINK_NONE:
    case LINK_REPEATED: break;
    }
}

/* A statement as the bank sent it, kept for reconciliation (reconrun.h):
 * hard-linked (copied across file systems) to state_dir/ledger/<bank>/
 * <sha256> before the delivery moves or removes it, and recorded in the
 * store in the delivery's own transaction.  The name is the content's
 * hash, so doing it again after a crash finds the file already there. */
static int ledger_keep(struct h2hd *d, const struct bank_rt *b,
                       const struct dl_ctx *x, char *path, size_t pathsz,
                       struct h2h_err *err)
{
    char dir[4096], tmp[4096];
    int rc;
    if ((rc = fsu_join(tmp, sizeof(tmp), d->cfg->state_dir, "ledger")) < 0 ||
        (rc = fsu_join(dir, sizeof(dir), tmp, b->name)) < 0 ||
        (rc = fsu_join(path, pathsz, dir, x->sha256)) < 0)
        return h2h_err_set(err, rc, "ledger path too long");
    if ((rc = fsu_mkdirs(dir, 0750, err)) < 0)
        return rc;
    if (link(x->local, path) == 0)
        return fsu_fsync_dir(dir, err);
    if (errno == EEXIST)
        return 0;
    if (errno != EXDEV && errno != EPERM)
        return h2h_err_set(err, -errno, "keep %s as %s: %s", x->local, path,
                           strerror(errno));
    rc = fsu_copy_file(x->local, dir, x->sha256, 0, NULL, NULL, err);
    return rc == -EEXIST ? 0 : rc;
}

/* Treasury's form of an scf answer (scfbook.h): a status report about a
 * request treasury dropped as tsin.001 (or whose cancellation it dropped
 * as tsin.003) goes to out/scf as tsin.002.  Decided here rather than in
 * the download job: only the store knows how the request was dropped (its
 * message's payload) and the pool job has no store; scf documents are
 * small (SBOOK_DOC_MAX), so rendering one on the loop thread costs what
 * linking it does.  The stand-ins for the ids a dialect may not give come
 * from the download itself (its sha256, its registration time), so that
 * after a crash before the commit the same bytes come out again and the
 * idempotent move finds them in place.  0 with tmp "" (deliver as
 * received; *note, malloc'd, may say why) or with the rendition at tmp
 * beside x->local, to be delivered as name, its hash in sha; negative
 * when the store failed (try the delivery again). */
static int scf_form(struct h2hd *d, const struct dl_ctx *x, char *tmp,
                    size_t tmpsz, char *name, size_t namesz, char sha[65],
                    char **note, struct h2h_err *err)
{
    struct sbook_form f = {0};
    char sid[40], when[32], dir[4096], base[100];
    int64_t ms = 0;
    struct tm tm;
    tmp[0] = '\0';
    *note = NULL;
    int rc = store_download_registered_ms(d->store, x->b->name, x->remote,
                                          x->sha256, &ms, err);
    if (rc < 0)
        return rc;
    time_t t = (time_t)(ms / 1000);
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(sid, sizeof(sid), "H2H%.32s", x->sha256);
    rc =
        sbook_treasury_form(d->store, x->b->name, x->local, sid, when, &f, err);
    if (rc == 0 && f.doc) {
        render_renamed(name, namesz, x->remote, "tsin002.xml");
        snprintf(dir, sizeof(dir), "%s", x->local);
        char *slash = strrchr(dir, '/');
        snprintf(base, sizeof(base), "%stsin002.%s", FSU_TMP_PREFIX,
                 x->sha256);
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof(dir), ".");
        if ((rc = fsu_join(tmp, tmpsz, dir, base)) < 0)
            h2h_err_set(err, rc, "rendition path too long");
        else if ((rc = fsu_write_file(dir, base, f.doc, f.len, FSU_REPLACE,
                                      err)) == 0)
            rc = fsu_sha256_file(tmp, sha, NULL, err);
        if (rc < 0)
            unlink(tmp);
    }
    if (rc == 0) {
        *note = f.note;
        f.note = NULL;
    } else {
        tmp[0] = '\0';
    }
    sbook_form_release(&f);
    return rc;
}

/* Loop thread, after render_download_start's work: the file is classified
 * (and converted when the channel asks for another format); move it into
 * out/<kind>/ and mark the download delivered.  The registry key stays the
 * bank's own file (remote name + its sha256), whatever we deliver. */
static void deliver_done(void *data, const struct render_dl_result *r)
{
    struct dl_ctx *x = data;
    struct bank_rt *b = x->b;
    struct h2hd *d = b->d;
    struct h2h_err err = {0};
    int rc = r->rc;
    struct chan_rt *ch = home_channel(d, b->name);
    char dir[4096], dst[4096];

    if (rc != 0 || !ch) {
        h2h_log(H2H_LOG_ERROR, "bank.download.failed", "bank", b->name,
                "remote", x->remote, "error",
                ch ? h2h_strerror(rc) : "no channel for this bank", NULL);
        if (r->converted)
            unlink(r->path);
        unlink(x->local);
        dl_answer(x, rc ? rc : H2H_ENOTFOUND);
        return;
    }
    char kept[4096] = "";
    int is_stmt = strcmp(r->kind, "statements") == 0;
    if (is_stmt && ledger_keep(d, b, x, kept, sizeof(kept), &err) != 0) {
        h2h_log(H2H_LOG_ERROR, "bank.download.failed", "bank", b->name,
                "remote", x->remote, "error", err.msg, NULL);
        if (r->converted)
            unlink(r->path);
        unlink(x->local);
        dl_answer(x, err.code ? err.code : H2H_EIO);
        return;
    }
    /* what goes to out/: the download job's file, or treasury's form of
     * an scf answer */
    const char *path = r->path, *name = r->name, *sha = r->sha256;
    int converted = r->converted;
    int is_bills = strcmp(r->kind, "bills") == 0;
    int is_scf = strcmp(r->kind, "scf") == 0;
    char form[4096] = "", form_name[300], form_sha[65];
    char *form_note = NULL;
    if (is_scf && !converted) {
        if (scf_form(d, x, form, sizeof(form), form_name, sizeof(form_name),
                     form_sha, &form_note, &err) != 0) {
            h2h_log(H2H_LOG_ERROR, "bank.download.failed", "bank", b->name,
                    "remote", x->remote, "error", err.msg, NULL);
            unlink(x->local);
            dl_answer(x, err.code ? err.code : H2H_EIO);
            return;
        }
        if (form[0]) {
            path = form;
            name = form_name;
            sha = form_sha;
            converted = 1;
        }
    }
    fsu_join(dir, sizeof(dir), ch->cfg->out_dir, r->kind);
    fsu_mkdirs(dir, 0750, NULL);
    fsu_join(dst, sizeof(dst), dir, name);
    char have[65];
    /* Idempotent move: the same name with the same content is already
     * there when a crash came between the move and the registry update
     * (conversions and renditions are deterministic, so this holds for
     * them too). */
    if (fsu_sha256_file(dst, have, NULL, NULL) == 0 && strcmp(have, sha) == 0) {
        if (converted)
            unlink(path);
        rc = 0;
    } else {
        char used[300];
        rc = fsu_move_into(path, dir, name, used, sizeof(used), 0, &err);
        if (rc == 0)
            fsu_join(dst, sizeof(dst), dir, used);
    }
    struct status_link link = {0};
    struct bbook_link blink = {0};
    struct sbook_link slink = {0};
    if (rc == 0 && (rc = store_txn_begin(d->store, &err)) == 0) {
        rc = store_download_delivered(d->store, b->name, x->remote, x->sha256,
                                      dst, &err);
        if (rc == 0 && is_stmt) {
            struct store_ledger_file lf = {
                .bank = b->name,
                .remote_name = x->remote,
                .sha256 = x->sha256,
                .path = kept,
                .charset = b->cfg ? b->cfg->charset : NULL,
                .size = (int64_t)x->size};
            rc = store_ledger_add(d->store, &lf, &err);
            if (rc == H2H_EDUP)
                rc = 0;
        }
        if (rc == 0 && r->status->present)
            link_status(d, b->name, x->remote, r->status, &link);
        /* a bill result moves the request's message and the book, with
         * the delivery: a crash between them would lose the answer */
        if (rc == 0 && is_bills)
            rc = bbook_link_file(d->store, b->name, dst, &blink, &err);
        /* so do a supply-chain-finance result and a tsin.002; the book
         * from the bank's own <ScfResult> when treasury gets tsin.002
         * (loan reference and rate are not in it) */
        if (rc == 0 && is_scf)
            rc = sbook_link_file(d->store, b->name, form[0] ? x->local : dst,
                                 &slink, &err);
        if (rc == 0)
            rc = store_txn_commit(d->store, &err);
        else
            store_txn_rollback(d->store);
    }
    if (rc == 0) {
        if (converted)
            unlink(x->local);
        h2h_log(H2H_LOG_INFO, "bank.download.delivered", "bank", b->name,
                "remote", x->remote, "kind", r->kind, "channel", ch->cfg->name,
                "file", dst, "sha256", x->sha256, "form",
                form[0] ? "tsin.002" : NULL, NULL);
        if (r->note)
            h2h_log(H2H_LOG_WARN, "bank.download.note", "bank", b->name,
                    "remote", x->remote, "file", dst, "note", r->note, NULL);
        if (form_note)
            h2h_log(H2H_LOG_WARN, "bank.download.note", "bank", b->name,
                    "remote", x->remote, "file", dst, "note", form_note, NULL);
        if (r->status->present)
            log_status_link(b->name, x->remote, r->status, &link);
        if (is_bills) {
            bbook_log_link(b->name, x->remote, &blink);
            /* a draft the bank just told us about may be due already */
            bbook_alerts(d->store, h2hd_bank_today_cb, d);
        }
        if (is_scf) {
            sbook_log_link(b->name, x->remote, &slink);
            /* a voucher the platform just listed may be due already */
            sbook_alerts(d->store, h2hd_bank_today_cb, d);
        }
    } else {
        h2h_log(H2H_LOG_ERROR, "bank.download.failed", "bank", b->name,
                "remote", x->remote, "error", err.msg, NULL);
        if (converted)
            unlink(path);
        unlink(x->local);
    }
    free(form_note);
    dl_answer(x, rc);
}

static void deliver_cb(struct h2h_adapter *a, struct h2h_poll_req *req,
                       const struct h2h_download *dl)
{
    struct bank_rt *b = req->data;
    struct h2hd *d = b->d;
    struct h2h_err err = {0};
    int registered = 0, delivered = 0, rc;
    rc = store_download_state(d->store, b->name, dl->remote_name, dl->sha256,
                              &registered, &delivered, &err);
    if (rc == 0 && delivered) {
        unlink(dl->local_path);
        h2h_poll_delivered(a, req, dl, H2H_EDUP);
        return;
    }
    if (rc == 0 && !registered)
        rc = store_download_register(d->store, b->name, dl->remote_name,
                                     dl->sha256, (int64_t)dl->size, &err);
    struct chan_rt *ch = home_channel(d, b->name);
    struct dl_ctx *x = NULL;
    if (rc == 0 && ch)
        x = calloc(1, sizeof(*x));
    if (x) {
        x->a = a;
        x->req = req;
        x->b = b;
        x->size = dl->size;
        snprintf(x->remote, sizeof(x->remote), "%s", dl->remote_name);
        snprintf(x->sha256, sizeof(x->sha256), "%s", dl->sha256);
        snprintf(x->local, sizeof(x->local), "%s", dl->local_path);
        if (render_download_start(d->loop, ch->cfg->output_format,
                                  b->cfg ? b->cfg->charset : NULL,
                                  dl->local_path, dl->remote_name, deliver_done,
                                  x) == 0)
            return;
        free(x);
        rc = H2H_ENOMEM;
        h2h_err_set(&err, rc, "out of memory");
    } else if (rc == 0) {
        rc = ch ? H2H_ENOMEM : H2H_ENOTFOUND;
        h2h_err_set(&err, rc, "%s",
                    ch ? "out of memory" : "no channel for this bank");
    }
    h2h_log(H2H_LOG_ERROR, "bank.download.failed", "bank", b->name, "remote",
            dl->remote_name, "error", err.msg, NULL);
    unlink(dl->local_path);
    h2h_poll_delivered(a, req, dl, rc);
}

static int poll_start(struct bank_rt *b, unsigned what, const char *date,
                      struct h2h_err *err);

/* Start the fetches asked for while b's round (or its retired
 * predecessor's) ran. */
static void start_wanted(struct bank_rt *b)
{
    struct h2h_err err = {0};
    char date[11];
    unsigned what = b->want_what;
    snprintf(date, sizeof(date), "%s", b->want_date);
    b->want = 0;
    b->want_what = 0;
    b->want_date[0] = '\0';
    if (poll_start(b, what, date[0] ? date : NULL, &err) != 0) {
        h2h_log(H2H_LOG_WARN, "bank.poll.failed", "bank", b->name, "error",
                err.msg, NULL);
        /* the scheduled jobs that waited for this round end with it */
        sched_poll_started(b, what);
        sched_poll_done(b, what, 0, err.msg);
    }
}

static void poll_done_cb(struct h2h_adapter *a, struct h2h_poll_req *req,
                         const struct h2h_result *res)
{
    struct bank_rt *b = req->data;
    (void)a;
    b->polling = 0;
    if (res->outcome != H2H_OUT_OK) {
        snprintf(b->last_error, sizeof(b->last_error), "%s", res->err.msg);
        h2h_log(H2H_LOG_WARN, "bank.poll.failed", "bank", b->name, "error",
                res->err.msg, NULL);
    } else {
        h2h_log(H2H_LOG_DEBUG, "bank.poll.done", "bank", b->name, NULL);
    }
    /* the scheduled runs this round carried end with it */
    sched_poll_done(b, req->what, res->outcome == H2H_OUT_OK,
                    res->outcome == H2H_OUT_OK ? NULL : res->err.msg);
    if (b->d->stopping) {
        h2hd_stop(b->d, NULL);
        return;
    }
    if (b->want && !b->retired) {
        /* a fetch asked for while this round ran */
        start_wanted(b);
    } else if (b->retired) {
        /* the bank's successor (after a reload) queued its fetches behind
         * this last round of ours: they go now */
        struct bank_rt *nb = h2hd_bank(b->d, b->name);
        if (nb && nb->want && !nb->polling)
            start_wanted(nb);
    }
}

/* Another instance of the same bank (retired by a reload) still in its
 * last round: one round per bank at a time, so that two never fetch the
 * same files side by side. */
static int sibling_polling(struct bank_rt *b)
{
    struct h2hd *d = b->d;
    for (size_t i = 0; i < d->n_banks; i++) {
        struct bank_rt *o = d->banks[i];
        if (o != b && o->retired && o->polling && strcmp(o->name, b->name) == 0)
            return 1;
    }
    return 0;
}

static int poll_start(struct bank_rt *b, unsigned what, const char *date,
                      struct h2h_err *err)
{
    struct h2hd *d = b->d;
    b->preq.tmp_dir = d->dl_dir;
    b->preq.deliver = deliver_cb;
    b->preq.done = poll_done_cb;
    b->preq.data = b;
    b->preq.what = what;
    snprintf(b->poll_date, sizeof(b->poll_date), "%s", date ? date : "");
    b->preq.date = b->poll_date[0] ? b->poll_date : NULL;
    int rc = b->ad->ops->poll(b->ad, &b->preq, err);
    if (rc == 0) {
        b->polling = 1;
        sched_poll_started(b, what);
    }
    return rc;
}

int engine_poll(struct bank_rt *b, unsigned what, const char *date,
                struct h2h_err *err)
{
    struct h2hd *d = b->d;
    if (!b->ad || !b->ad->ops->poll)
        return h2h_err_set(err, H2H_EUNSUPPORTED,
                           "bank %s has nothing to fetch", b->name);
    if (d->stopping || b->retired)
        return h2h_err_set(err, H2H_ECANCELED, "bank %s is shutting down",
                           b->name);
    if (b->polling || sibling_polling(b)) {
        b->want = 1;
        b->want_what |= what;
        if (date)
            snprintf(b->want_date, sizeof(b->want_date), "%s", date);
        return 1;
    }
    return poll_start(b, what, date, err);
}

void engine_poll_now(struct bank_rt *b)
{
    struct h2h_err err = {0};
    if (b->polling || !b->ad || !b->ad->ops->poll || b->d->stopping ||
        b->retired || sibling_polling(b))
        return;
    if (poll_start(b, 0, NULL, &err) != 0 && err.code != H2H_EUNSUPPORTED)
        h2h_log(H2H_LOG_WARN, "bank.poll.failed", "bank", b->name, "error",
                err.msg, NULL);
}

static void poll_timer_cb(uv_timer_t *t)
{
    engine_poll_now(t->data);
}

int engine_poll_start(struct h2hd *d, struct bank_rt *b)
{
    uv_timer_init(d->loop, &b->poll_timer);
    b->poll_timer.data = b;
    b->poll_timer_live = 1;
    /* A bank with scheduled jobs fetches when they say (scheduler.h). */
    if (sched_has_jobs(b->cfg))
        return 0;
    int64_t iv = b->cfg && b->cfg->poll_interval_ms > 0
                     ? b->cfg->poll_interval_ms
                     : 60000;
    return uv_timer_start(&b->poll_timer, poll_timer_cb, 100, (uint64_t)iv);
}

int engine_init(struct h2hd *d, struct h2h_err *err)
{
    d->inflight = calloc(1, sizeof(*d->inflight));
    if (!d->inflight)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    uv_timer_init(d->loop, &d->pump_timer);
    d->pump_timer.data = d;
    uv_timer_init(d->loop, &d->retry_timer);
    d->retry_timer.data = d;
    uv_timer_start(&d->retry_timer, retry_timer_cb, 1000, 1000);
    return 0;
}

void engine_release(struct h2hd *d)
{
    for (struct pending *p = d->pending, *n; p; p = n) {
        n = p->next;
        pending_free(p);
    }
    d->pending = NULL;
    if (d->inflight) {
        free(d->inflight->ids);
        free(d->inflight);
        d->inflight = NULL;
    }
}

/* Flush results that arrived during shutdown (called before the store is
 * closed). */
void engine_flush(struct h2hd *d)
{
    flush_pending(d);
}
