/*
 * reconrun.c - the loop thread's side of a reconciliation run (see
 * reconrun.h): gather the inputs from the store and the configuration,
 * hand them to the pool (reconfeed.c), and take the outcome: log it,
 * book the matched messages and record the run, in one transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "h2hd.h"
#include "log.h"
#include "reconrun.h"
#include "reconrun_int.h"
#include "tz.h"

/* Input problems logged per run; the rest are counted in one line. */
#define RR_LOG_PROBLEMS_MAX 50

struct rrun {
    struct h2hd *d;
    uv_work_t work;
    struct rr_job *job;
    rrun_done_cb done;
    void *done_ctx;
    char channel[64], bank[64];
    struct rr_map_banks {
        char **names;
        size_t n;
    } banks; /* the banks whose statements count */
};

int rrun_busy(const struct h2hd *d)
{
    return d->rrun != NULL;
}

/* ---- parameters -------------------------------------------------------- */

static int date_ok(const char *s)
{
    int64_t days;
    return tz_day_parse(s, &days) == 0;
}

static int add_bank(struct rrun *r, const char *name)
{
    char **v = realloc(r->banks.names, (r->banks.n + 1) * sizeof(*v));
    if (!v)
        return H2H_ENOMEM;
    r->banks.names = v;
    if (!(v[r->banks.n] = strdup(name)))
        return H2H_ENOMEM;
    r->banks.n++;
    return 0;
}

static int bank_counts(const struct rrun *r, const char *name)
{
    for (size_t i = 0; i < r->banks.n; i++)
        if (strcmp(r->banks.names[i], name) == 0)
            return 1;
    return 0;
}

/* ---- inputs from the store --------------------------------------------- */

struct gather {
    struct rrun *r;
    int rc;
};

static int want_state(enum msg_state s)
{
    return s == ST_SUBMITTED || s == ST_ACKNOWLEDGED ||
           s == ST_PARTIALLY_ACCEPTED || s == ST_BOOKED;
}

/* The references the message's bank books payments under (adapter.h),
 * copied: the adapter may be replaced by a reload during the run. */
static int booking_refs(struct h2hd *d, struct rr_msg *x)
{
    const char *serial = NULL, *batch = NULL, *purpose = NULL;
    struct bank_rt *b = h2hd_bank(d, x->bank);
    if (!b || !b->ad || !b->ad->ops->booking_refs)
        return 0;
    b->ad->ops->booking_refs(b->ad, &serial, &batch, &purpose);
    if ((serial && !(x->serial_pattern = strdup(serial))) ||
        (batch && !(x->batch_pattern = strdup(batch))) ||
        (purpose && !(x->batch_purpose = strdup(purpose))))
        return H2H_ENOMEM;
    return 0;
}

static int msg_cb(void *ctx, const struct store_msg *m)
{
    struct gather *g = ctx;
    struct rr_job *j = g->r->job;
    if (!want_state(m->state) || !m->payload_path)
        return 0;
    struct rr_msg *v = realloc(j->msgs, (j->n_msgs + 1) * sizeof(*v));
    if (!v)
        return g->rc = H2H_ENOMEM;
    j->msgs = v;
    struct rr_msg *x = &v[j->n_msgs];
    memset(x, 0, sizeof(*x));
    snprintf(x->id, sizeof(x->id), "%s", m->id);
    x->bank = strdup(m->bank ? m->bank : "");
    x->state = strdup(state_name(m->state));
    x->path = strdup(m->payload_path);
    time_t t = (time_t)(m->created_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(x->created_day, sizeof(x->created_day), "%Y-%m-%d", &tm);
    j->n_msgs++;
    if (!x->bank || !x->state || !x->path)
        return g->rc = H2H_ENOMEM;
    return booking_refs(g->r->d, x) < 0 ? (g->rc = H2H_ENOMEM) : 0;
}

static int rejected_cb(void *ctx, const struct store_tx_status *t)
{
    struct rr_msg *m = ctx;
    if (strcmp(t->status, "RJCT") != 0)
        return 0;
    struct rr_rejected *v =
        realloc(m->rejected, (m->n_rejected + 1) * sizeof(*v));
    if (!v)
        return H2H_ENOMEM;
    m->rejected = v;
    v[m->n_rejected].pmt_inf_id = strdup(t->pmt_inf_id ? t->pmt_inf_id : "");
    v[m->n_rejected].end_to_end_id =
        strdup(t->end_to_end_id ? t->end_to_end_id : "");
    m->n_rejected++;
    return v[m->n_rejected - 1].pmt_inf_id && v[m->n_rejected - 1].end_to_end_id
               ? 0
               : H2H_ENOMEM;
}

static int file_cb(void *ctx, const struct store_ledger_file *f)
{
    struct gather *g = ctx;
    struct rr_job *j = g->r->job;
    if (!bank_counts(g->r, f->bank))
        return 0;
    struct rr_file *v = realloc(j->files, (j->n_files + 1) * sizeof(*v));
    if (!v)
        return g->rc = H2H_ENOMEM;
    j->files = v;
    struct rr_file *x = &v[j->n_files++];
    x->bank = strdup(f->bank);
    x->remote = strdup(f->remote_name);
    x->path = strdup(f->path);
    x->charset = f->charset ? strdup(f->charset) : NULL;
    if (!x->bank || !x->remote || !x->path || (f->charset && !x->charset))
        return g->rc = H2H_ENOMEM;
    return 0;
}

static int gather(struct h2hd *d, struct rrun *r, struct h2h_err *err)
{
    struct gather g = {.r = r};
    struct store_filter f = {.state = -1,
                             .channel = r->channel,
                             .bank = r->bank[0] ? r->bank : NULL};
    int rc = store_list(d->store, &f, msg_cb, &g, err);
    if (rc == 0 && g.rc)
        rc = h2h_err_set(err, g.rc, "out of memory");
    for (size_t i = 0; rc == 0 && i < r->job->n_msgs; i++) {
        struct rr_msg *m = &r->job->msgs[i];
        rc = store_tx_status_list(d->store, m->id, rejected_cb, m, err);
    }
    if (rc == 0)
        rc = store_ledger_list(d->store, r->bank[0] ? r->bank : NULL, file_cb,
                               &g, err);
    if (rc == 0 && g.rc)
        rc = h2h_err_set(err, g.rc, "out of memory");
    return rc;
}

/* ---- the end of a run -------------------------------------------------- */

static void log_problems(const struct rr_job *j)
{
    size_t n =
        j->n_probs < RR_LOG_PROBLEMS_MAX ? j->n_probs : RR_LOG_PROBLEMS_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct rr_problem *p = &j->probs[i];
        char line[16];
        snprintf(line, sizeof(line), "%d", p->line);
        h2h_log(H2H_LOG_WARN,
                p->expected ? "recon.expected.problem" : "recon.input.problem",
                "id", j->id, "file", p->file, "line", p->line ? line : NULL,
                "rule", p->rule, "error", p->msg, NULL);
    }
    size_t more = j->n_probs - n + j->probs_dropped;
    if (more) {
        char cnt[24];
        snprintf(cnt, sizeof(cnt), "%zu", more);
        h2h_log(H2H_LOG_WARN, "recon.input.problem", "id", j->id, "more", cnt,
                "error", "further problems are not listed", NULL);
    }
}

/* Book every message the run matched in full, and record the run's end,
 * in one transaction.  *booked receives how many moved. */
static int book_and_record(struct h2hd *d, struct rr_job *j,
                           const char *summary, int64_t *booked,
                           struct h2h_err *err)
{
    char detail[256];
    int rc = store_txn_begin(d->store, err);
    if (rc < 0)
        return rc;
    *booked = 0;
    for (size_t i = 0; i < j->n_msgs; i++) {
        struct rr_msg *m = &j->msgs[i];
        struct store_msg cur = {0};
        if (m->unreadable || m->n_taken == 0 || m->n_matched < m->n_taken)
            continue;
        if (store_get(d->store, m->id, &cur, NULL) != 0)
            continue;
        enum msg_state from = cur.state;
        store_msg_release(&cur);
        if (!want_state(from) || from == ST_BOOKED)
            continue;
        snprintf(detail, sizeof(detail),
                 "reconciliation %s: all %zu payments booked by the bank",
                 j->id, m->n_taken);
        struct store_change ch = {.detail = detail, .actor = "recon"};
        struct h2h_err e = {0};
        /* a message that moved meanwhile (a late status report) is left
         * for the next run: H2H_ESTATE is not a failure of this one */
        if (store_transition(d->store, m->id, from, ST_BOOKED, &ch, &e) == 0) {
            (*booked)++;
            m->n_matched = SIZE_MAX; /* marks it for the log line */
        }
    }
    rc = store_recon_end(d->store, j->id, "ok", NULL, j->run_dir, summary,
                         *booked, err);
    if (rc == 0)
        return store_txn_commit(d->store, err);
    store_txn_rollback(d->store);
    return rc;
}

static void log_finished(const struct rr_job *j, const char *summary,
                         int64_t booked)
{
    for (size_t i = 0; i < j->n_msgs; i++)
        if (j->msgs[i].n_matched == SIZE_MAX)
            h2h_log(H2H_LOG_INFO, "payment.booked", "msg", j->msgs[i].id,
                    "bank", j->msgs[i].bank, "run", j->id, NULL);
    /* the summary's own pairs, after id, dir and booked */
    const char *kv[2 * 32];
    size_t n = 0;
    char copy[STORE_RECON_SUMMARY_MAX], nb[24];
    snprintf(nb, sizeof(nb), "%lld", (long long)booked);
    kv[n++] = "id", kv[n++] = j->id;
    kv[n++] = "dir", kv[n++] = j->run_dir;
    kv[n++] = "booked", kv[n++] = nb;
    snprintf(copy, sizeof(copy), "%s", summary);
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok && n + 2 <= 64;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        kv[n++] = tok;
        kv[n++] = eq + 1;
    }
    h2h_log_kv(H2H_LOG_INFO, "recon.finished", kv, n / 2);
}

static void finish(struct rrun *r, int ok, const char *error)
{
    struct h2hd *d = r->d;
    char id[STORE_ID_MAX];
    snprintf(id, sizeof(id), "%s", r->job->id);
    if (d->rrun == r)
        d->rrun = NULL;
    if (r->done)
        r->done(r->done_ctx, id, ok, error);
    rr_job_free(r->job);
    for (size_t i = 0; i < r->banks.n; i++)
        free(r->banks.names[i]);
    free(r->banks.names);
    free(r);
    if (d->stopping)
        h2hd_stop(d, NULL); /* it may have waited for this run */
}

static void work_cb(uv_work_t *w)
{
    struct rrun *r = w->data;
    rr_work(r->job);
}

static void after_work_cb(uv_work_t *w, int status)
{
    struct rrun *r = w->data;
    struct h2hd *d = r->d;
    struct rr_job *j = r->job;
    struct h2h_err err = {0};
    char summary[STORE_RECON_SUMMARY_MAX] = "";
    int64_t booked = 0;
    int rc = status < 0 ? h2h_err_set(&j->err, H2H_ECANCELED, "%s",
                                      uv_strerror(status))
                        : j->rc;
    log_problems(j);
    if (rc == 0) {
        struct recon_summary s;
        recon_summary(j->engine, &s);
        recon_summary_logfmt(&s, summary, sizeof(summary));
        rc = book_and_record(d, j, summary, &booked, &err);
        if (rc < 0)
            j->err = err;
    }
    if (rc == 0) {
        log_finished(j, summary, booked);
        finish(r, 1, NULL);
        return;
    }
    const char *why = j->err.msg[0] ? j->err.msg : h2h_strerror(rc);
    struct h2h_err e2 = {0};
    if (store_recon_end(d->store, j->id, "failed", why, "", NULL, 0, &e2) < 0)
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", e2.msg, NULL);
    h2h_log(H2H_LOG_ERROR, "recon.failed", "id", j->id, "error", why, NULL);
    char keep[H2H_ERR_MSG_MAX];
    snprintf(keep, sizeof(keep), "%s", why);
    finish(r, 0, keep);
}

/* ---- start ------------------------------------------------------------- */

/* Resolve p against the configuration into r and the job. */
static int setup(struct h2hd *d, const struct rrun_params *p, struct rrun *r,
                 struct h2h_err *err)
{
    const struct cfg *c = d->cfg;
    const struct cfg_channel *ch = NULL;
    struct rr_job *j = r->job;
    if (p->bank && *p->bank && !cfg_bank_find(c, p->bank))
        return h2h_err_set(err, H2H_EINVALID, "no bank called \"%s\"", p->bank);
    if (p->channel && *p->channel) {
        if (!(ch = cfg_channel_find(c, p->channel)))
            return h2h_err_set(err, H2H_EINVALID, "no channel called \"%s\"",
                               p->channel);
    } else {
        ch = p->bank && *p->bank ? cfg_home_channel(c, p->bank)
                                 : (c->n_channels ? &c->channels[0] : NULL);
    }
    if (!ch)
        return h2h_err_set(err, H2H_EINVALID, "no channel configured");
    snprintf(r->channel, sizeof(r->channel), "%s", ch->name);
    snprintf(r->bank, sizeof(r->bank), "%s", p->bank ? p->bank : "");
    if (r->bank[0]) {
        if (add_bank(r, r->bank) < 0)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < c->n_banks; i++)
            if (cfg_home_channel(c, c->banks[i].name) == ch &&
                add_bank(r, c->banks[i].name) < 0)
                return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }

    if (p->to && *p->to) {
        if (!date_ok(p->to))
            return h2h_err_set(err, H2H_EINVALID,
                               "--to \"%s\" is not a date YYYY-MM-DD", p->to);
        snprintf(j->to, sizeof(j->to), "%s", p->to);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(j->to, sizeof(j->to), "%Y-%m-%d", &tm);
    }
    if (p->from && *p->from) {
        if (!date_ok(p->from))
            return h2h_err_set(err, H2H_EINVALID,
                               "--from \"%s\" is not a date YYYY-MM-DD",
                               p->from);
        snprintf(j->from, sizeof(j->from), "%s", p->from);
    } else {
        int64_t to = 0;
        tz_day_parse(j->to, &to);
        tz_day_text(to - (ch->reconcile.days - 1), j->from);
    }
    if (strcmp(j->from, j->to) > 0)
        return h2h_err_set(err, H2H_EINVALID, "--from %s is after --to %s",
                           j->from, j->to);

    recon_opts_init(&j->opts);
    j->opts.window_days = ch->reconcile.window_days;
    j->opts.grace_days = ch->reconcile.grace_days;
    j->opts.threshold = ch->reconcile.threshold;
    if ((p->account && *p->account && !(j->account = strdup(p->account))) ||
        (ch->charset && !(j->channel_charset = strdup(ch->charset))) ||
        !(j->report_dir = strdup(ch->reconcile.dir)) ||
        (ch->reconcile.expected_dir &&
         !(j->expected_dir = strdup(ch->reconcile.expected_dir))))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return 0;
}

int rrun_start(struct h2hd *d, const struct rrun_params *p, rrun_done_cb done,
               void *done_ctx, char id_out[STORE_ID_MAX], struct h2h_err *err)
{
    if (d->stopping)
        return h2h_err_set(err, H2H_ESTATE, "h2hd is stopping");
    if (d->rrun)
        return h2h_err_set(err, H2H_ESTATE,
                           "a reconciliation run is already running: %s",
                           d->rrun->job->id);
    struct rrun *r = calloc(1, sizeof(*r));
    struct rr_job *j = r ? calloc(1, sizeof(*j)) : NULL;
    if (!j) {
        free(r);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&j->mu, NULL);
    r->d = d;
    r->job = j;
    r->done = done;
    r->done_ctx = done_ctx;
    r->work.data = r;
    j->phase = "starting";
    int rc = setup(d, p, r, err);
    if (rc == 0)
        rc = gather(d, r, err);
    if (rc == 0) {
        struct store_recon_run row = {0};
        snprintf(row.channel, sizeof(row.channel), "%s", r->channel);
        snprintf(row.bank, sizeof(row.bank), "%s", r->bank);
        snprintf(row.account, sizeof(row.account), "%s",
                 j->account ? j->account : "");
        snprintf(row.from, sizeof(row.from), "%s", j->from);
        snprintf(row.to, sizeof(row.to), "%s", j->to);
        snprintf(row.trigger, sizeof(row.trigger), "%s",
                 p->trigger ? p->trigger : "ctl");
        rc = store_recon_begin(d->store, &row, j->id, err);
    }
    if (rc == 0 &&
        uv_queue_work(d->loop, &r->work, work_cb, after_work_cb) != 0) {
        rc = h2h_err_set(err, H2H_ENOMEM, "cannot queue the run");
        struct h2h_err e2 = {0};
        store_recon_end(d->store, j->id, "failed", err->msg, "", NULL, 0, &e2);
    }
    if (rc < 0) {
        rr_job_free(j);
        for (size_t i = 0; i < r->banks.n; i++)
            free(r->banks.names[i]);
        free(r->banks.names);
        free(r);
        return rc;
    }
    d->rrun = r;
    char masked[48], nm[24], nf[24];
    snprintf(nm, sizeof(nm), "%zu", j->n_msgs);
    snprintf(nf, sizeof(nf), "%zu", j->n_files);
    h2h_log(H2H_LOG_INFO, "recon.started", "id", j->id, "channel", r->channel,
            "bank", r->bank[0] ? r->bank : NULL, "account",
            j->account
                ? h2h_log_mask_account(j->account, masked, sizeof(masked))
                : NULL,
            "from", j->from, "to", j->to, "trigger",
            p->trigger ? p->trigger : "ctl", "messages", nm, "statement_files",
            nf, NULL);
    snprintf(id_out, STORE_ID_MAX, "%s", j->id);
    return 0;
}

void rrun_cancel(struct h2hd *d)
{
    if (d->rrun)
        atomic_store(&d->rrun->job->cancel, 1);
}

/* A run cut short after its folder was renamed into view but before the
 * store recorded its end: take the folder back out of view (the next
 * run's clean-up removes .<id>.tmp) before the row stops being "running",
 * so that a crash in between only repeats this.  One run goes at a time,
 * so only the latest can be running.  The folder is looked for in the
 * channel's reconcile dir as configured now. */
static void unpublish_cut_run(struct h2hd *d)
{
    struct store_recon_run *row = calloc(1, sizeof(*row));
    const struct cfg_channel *ch;
    char dir[4096], tmp[4096], name[STORE_ID_MAX + 8];
    if (!row)
        return;
    if (store_recon_get(d->store, NULL, row, NULL) == 0 &&
        strcmp(row->result, "running") == 0 &&
        (ch = cfg_channel_find(d->cfg, row->channel)) && ch->reconcile.dir &&
        fsu_join(dir, sizeof(dir), ch->reconcile.dir, row->id) == 0) {
        snprintf(name, sizeof(name), ".%s.tmp", row->id);
        if (fsu_join(tmp, sizeof(tmp), ch->reconcile.dir, name) == 0) {
            if (rename(dir, tmp) == 0)
                fsu_fsync_dir(ch->reconcile.dir, NULL);
            else if (errno != ENOENT)
                h2h_log(H2H_LOG_ERROR, "recon.unpublish.failed", "id", row->id,
                        "dir", dir, "error", strerror(errno), NULL);
        }
    }
    free(row);
}

void rrun_recover(struct h2hd *d)
{
    struct h2h_err err = {0};
    unpublish_cut_run(d);
    int n = store_recon_interrupted(d->store, &err);
    if (n < 0) {
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
    } else if (n > 0) {
        char cnt[16];
        snprintf(cnt, sizeof(cnt), "%d", n);
        h2h_log(H2H_LOG_WARN, "recon.interrupted", "runs", cnt, "error",
                "h2hd stopped during the run; start it again", NULL);
    }
}

/* ---- status ------------------------------------------------------------ */

static void iso_ms(int64_t ms, char *buf, size_t sz)
{
    buf[0] = '\0';
    if (ms <= 0)
        return;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The summary's numeric pairs as an object. */
static json_t *counts_of(const char *summary, int64_t booked)
{
    json_t *o = json_object();
    char copy[STORE_RECON_SUMMARY_MAX];
    snprintf(copy, sizeof(copy), "%s", summary);
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '='), *end;
        if (!eq)
            continue;
        *eq = '\0';
        long long v = strtoll(eq + 1, &end, 10);
        if (end != eq + 1 && !*end)
            json_object_set_new(o, tok, json_integer(v));
    }
    json_object_set_new(o, "booked", json_integer(booked));
    return o;
}

int rrun_status_json(struct h2hd *d, const char *id, json_t **out,
                     struct h2h_err *err)
{
    struct store_recon_run *row = calloc(1, sizeof(*row));
    if (!row)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = store_recon_get(d->store, id && *id ? id : NULL, row, err);
    if (rc == H2H_ENOTFOUND && !(id && *id))
        h2h_err_set(err, rc, "no reconciliation run yet");
    if (rc < 0) {
        free(row);
        return rc;
    }
    char started[32], ended[32];
    iso_ms(row->started_ms, started, sizeof(started));
    iso_ms(row->ended_ms, ended, sizeof(ended));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "id", row->id, "result", row->result, "channel", row->channel, "bank",
        row->bank, "account", row->account, "from", row->from, "to", row->to,
        "trigger", row->trigger, "started", started, "ended", ended, "dir",
        row->dir, "error", row->error, "summary", row->summary);
    if (o)
        json_object_set_new(o, "counts", counts_of(row->summary, row->booked));
    if (o && d->rrun && strcmp(d->rrun->job->id, row->id) == 0) {
        struct rr_job *j = d->rrun->job;
        pthread_mutex_lock(&j->mu);
        json_object_set_new(o, "progress",
                            json_pack("{s:s, s:I, s:I}", "phase", j->phase,
                                      "done", (json_int_t)j->done, "total",
                                      (json_int_t)j->total));
        pthread_mutex_unlock(&j->mu);
    }
    free(row);
    if (!o)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    *out = o;
    return 0;
}
