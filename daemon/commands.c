/*
 * commands.c - what h2hctl can ask the daemon (see ctl.h for the wire).
 *
 * Handlers run on the loop thread and answer from the store; the ones that
 * can move money (retry, release) or a message's state (reconcile, which
 * books what it matched) are registered with CTL_F_AUDIT so that
 * the control server writes who asked to the audit log before they run.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cert.h"
#include "ctl.h"
#include "h2hd.h"
#include "ident.h"
#include "log.h"
#include "reconrun.h"
#include "scheduler.h"
#include "tz.h"

static void iso_time(int64_t ms, char *buf, size_t sz)
{
    if (ms <= 0) {
        snprintf(buf, sz, "%s", "");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *counts_json(struct h2hd *d, const char *bank)
{
    int64_t counts[ST__COUNT] = {0};
    json_t *o = json_object();
    if (store_counts(d->store, bank, counts, NULL) == 0)
        for (int s = 0; s < ST__COUNT; s++)
            json_object_set_new(o, state_name((enum msg_state)s),
                                json_integer(counts[s]));
    return o;
}

static int cmd_status(void *ctx, const json_t *args, uid_t uid,
                      json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)args;
    (void)uid;
    (void)err;
    json_t *banks = json_array();
    for (size_t i = 0; i < d->n_banks; i++) {
        struct bank_rt *b = d->banks[i];
        if (b->retired)
            continue;
        const char *health = b->ad && b->ad->ops->health
                                 ? b->ad->ops->health(b->ad) : "unknown";
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "name", b->name,
                              "adapter", b->cfg ? b->cfg->adapter : "",
                              "health", health, "inflight", b->inflight,
                              "last_error", b->last_error);
        json_object_set_new(o, "counts", counts_json(d, b->name));
        json_array_append_new(banks, o);
    }
    json_t *chans = json_array();
    for (size_t i = 0; i < d->n_chans; i++)
        json_array_append_new(chans, json_pack(
            "{s:s, s:s, s:s}", "name", d->chans[i]->cfg->name, "drop",
            d->chans[i]->cfg->drop_dir, "bank", d->chans[i]->cfg->bank));
    *result = json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:o}", "version",
                        H2H_VERSION, "pid", (json_int_t)getpid(), "uptime_s",
                        (json_int_t)((h2hd_now_ms() - d->started_ms) / 1000),
                        "config", d->cfg->path, "banks", banks, "channels",
                        chans, "counts", counts_json(d, NULL));
    return 0;
}

static json_t *msg_json(const struct store_msg *m, int full)
{
    char next[32], upd[32], created[32];
    iso_time(m->next_attempt_ms, next, sizeof(next));
    iso_time(m->updated_ms, upd, sizeof(upd));
    iso_time(m->created_ms, created, sizeof(created));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}",
                          "id", m->id, "state", state_name(m->state),
                          "channel", m->channel ? m->channel : "", "bank",
                          m->bank ? m->bank : "", "file",
                          m->orig_name ? m->orig_name : "", "attempts",
                          m->attempts, "next_attempt",
                          m->state == ST_DEFERRED ? next : "", "updated", upd,
                          "error", m->last_error ? m->last_error : "");
    if (full) {
        json_object_set_new(o, "created", json_string(created));
        json_object_set_new(o, "sha256", json_string(m->sha256));
        json_object_set_new(o, "size", json_integer(m->size));
        json_object_set_new(o, "kind", json_string(m->kind ? m->kind : ""));
        json_object_set_new(o, "remote_name",
                            json_string(m->remote_name ? m->remote_name : ""));
        json_object_set_new(o, "business_id",
                            json_string(m->business_id ? m->business_id : ""));
        json_object_set_new(o, "payload",
                            json_string(m->payload_path ? m->payload_path : ""));
        json_object_set_new(o, "rendered",
                            json_string(m->rendered_path ? m->rendered_path : ""));
        json_object_set_new(o, "held_from",
                            json_string(m->state == ST_HELD
                                            ? state_name(m->held_from) : ""));
    }
    return o;
}

static int queue_cb(void *ctx, const struct store_msg *m)
{
    json_array_append_new(ctx, msg_json(m, 0));
    return 0;
}

static const char *arg_str(const json_t *args, const char *key)
{
    json_t *v = args ? json_object_get(args, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int cmd_queue(void *ctx, const json_t *args, uid_t uid, json_t **result,
                     struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)uid;
    struct store_filter f = {.state = -1, .limit = 1000};
    const char *st = arg_str(args, "state");
    if (st && (f.state = state_parse(st)) < 0)
        return h2h_err_set(err, H2H_EINVALID, "unknown state \"%s\"", st);
    f.bank = arg_str(args, "bank");
    f.channel = arg_str(args, "channel");
    json_t *lim = json_object_get(args, "limit");
    if (json_is_integer(lim) && json_integer_value(lim) > 0)
        f.limit = (size_t)json_integer_value(lim);
    json_t *arr = json_array();
    int rc = store_list(d->store, &f, queue_cb, arr, err);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *result = json_pack("{s:o}", "messages", arr);
    return 0;
}

static int hist_cb(void *ctx, const struct store_event *e)
{
    char at[32];
    iso_time(e->at_ms, at, sizeof(at));
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s}", "at", at,
                                         "from", e->from ? e->from : "", "to",
                                         e->to, "detail",
                                         e->detail ? e->detail : "", "actor",
                                         e->actor ? e->actor : ""));
    return 0;
}

static int tx_cb(void *ctx, const struct store_tx_status *t)
{
    char at[40];
    iso_time(t->at_ms, at, sizeof(at));
    json_array_append_new(
        ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "pmt_inf_id",
                       t->pmt_inf_id ? t->pmt_inf_id : "", "end_to_end_id",
                       t->end_to_end_id ? t->end_to_end_id : "", "status",
                       t->status ? t->status : "", "reasons",
                       t->reasons ? t->reasons : "", "report",
                       t->report ? t->report : "", "at", at));
    return 0;
}

static int need_id(const json_t *args, const char **id, struct h2h_err *err)
{
    *id = arg_str(args, "id");
    if (!*id || !**id)
        return h2h_err_set(err, H2H_EINVALID, "a message id is required");
    return 0;
}

static int cmd_show(void *ctx, const json_t *args, uid_t uid, json_t **result,
                    struct h2h_err *err)
{
    struct h2hd *d = ctx;
    const char *id;
    struct store_msg m = {0};
    (void)uid;
    int rc = need_id(args, &id, err);
    if (rc || (rc = store_get(d->store, id, &m, err)))
        return rc;
    json_t *hist = json_array(), *pays = json_array();
    rc = store_history(d->store, id, hist_cb, hist, err);
    if (rc == 0)
        rc = store_tx_status_list(d->store, id, tx_cb, pays, err);
    if (rc == 0) {
        *result = json_pack("{s:o, s:o, s:o}", "message", msg_json(&m, 1),
                            "history", hist, "payments", pays);
    } else {
        json_decref(hist);
        json_decref(pays);
    }
    store_msg_release(&m);
    return rc;
}

static void actor_of(uid_t uid, char *buf, size_t sz)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, sz, "uid=%u(%s)", (unsigned)uid, pw->pw_name);
    else
        snprintf(buf, sz, "uid=%u", (unsigned)uid);
}

static int answer_state(struct h2hd *d, const char *id, json_t **result,
                        struct h2h_err *err)
{
    struct store_msg m = {0};
    int rc = store_get(d->store, id, &m, err);
    if (rc)
        return rc;
    *result = json_pack("{s:s, s:s}", "id", id, "state", state_name(m.state));
    store_msg_release(&m);
    engine_kick(d);
    return 0;
}

static int cmd_retry(void *ctx, const json_t *args, uid_t uid, json_t **result,
                     struct h2h_err *err)
{
    struct h2hd *d = ctx;
    const char *id;
    char actor[64];
    int rc = need_id(args, &id, err);
    if (rc)
        return rc;
    actor_of(uid, actor, sizeof(actor));
    if ((rc = store_retry(d->store, id, actor, err)))
        return rc;
    h2h_log(H2H_LOG_INFO, "payment.retry.requested", "msg", id, "actor",
            actor, NULL);
    return answer_state(d, id, result, err);
}

static int cmd_hold(void *ctx, const json_t *args, uid_t uid, json_t **result,
                    struct h2h_err *err)
{
    struct h2hd *d = ctx;
    const char *id;
    char actor[64];
    int rc = need_id(args, &id, err);
    if (rc)
        return rc;
    if (engine_is_inflight(d, id))
        return h2h_err_set(err, H2H_ESTATE,
                           "%s is being sent right now; hold it after the "
                           "bank answered", id);
    actor_of(uid, actor, sizeof(actor));
    if ((rc = store_hold(d->store, id, "held by an operator", actor, err)))
        return rc;
    h2h_log(H2H_LOG_INFO, "payment.held", "msg", id, "actor", actor, NULL);
    return answer_state(d, id, result, err);
}

static int cmd_release(void *ctx, const json_t *args, uid_t uid,
                       json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    const char *id;
    char actor[64];
    enum msg_state to;
    int rc = need_id(args, &id, err);
    if (rc)
        return rc;
    actor_of(uid, actor, sizeof(actor));
    if ((rc = store_release(d->store, id, actor, err, &to)))
        return rc;
    h2h_log(H2H_LOG_INFO, "payment.released", "msg", id, "actor", actor,
            "state", state_name(to), NULL);
    return answer_state(d, id, result, err);
}

/* fetch {bank, kind?, date?}: run one fetch of that kind now. */
static int cmd_fetch(void *ctx, const json_t *args, uid_t uid,
                     json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)uid;
    const char *bank = json_string_value(json_object_get(args, "bank"));
    const char *kind = json_string_value(json_object_get(args, "kind"));
    const char *date = json_string_value(json_object_get(args, "date"));
    if (!bank)
        return h2h_err_set(err, H2H_EINVALID, "fetch needs a bank");
    unsigned what = h2h_poll_kind(kind ? kind : "all");
    if (!what)
        return h2h_err_set(err, H2H_EINVALID,
                           "unknown kind \"%.40s\" (status, statements, "
                           "intraday, balance, bills, all)",
                           kind);
    if (date && fmt_date_check(date, NULL) != 0)
        return h2h_err_set(err, H2H_EINVALID,
                           "date \"%.20s\" is not YYYY-MM-DD", date);
    struct bank_rt *b = NULL;
    for (size_t i = 0; i < d->n_banks; i++)
        if (!d->banks[i]->retired && strcmp(d->banks[i]->name, bank) == 0)
            b = d->banks[i];
    if (!b)
        return h2h_err_set(err, H2H_ENOTFOUND, "no bank \"%.60s\"", bank);
    int rc = engine_poll(b, what, date, err);
    if (rc < 0)
        return rc;
    h2h_log(H2H_LOG_INFO, "bank.fetch.requested", "bank", b->name, "kind",
            kind ? kind : "all", "date", date ? date : "default", "queued",
            rc ? "yes" : "no", NULL);
    *result = json_pack("{s:s,s:s,s:s,s:b}", "bank", b->name, "kind",
                        kind ? kind : "all", "date", date ? date : "",
                        "queued", rc == 1);
    return 0;
}

/* bills {bank?, days?}: the bill pool as the book knows it (billbook.h):
 * per bank the pool figures the bank last reported (pools: one entry per
 * pool, amounts null when the bank did not give them) and the pieces
 * pledged and held with their totals, and every piece maturing within
 * days (default 30) or overdue. */
struct bills_ctx {
    json_t *banks, *drafts;
    const char *until;
};

static json_t *bank_totals(json_t *banks, const char *bank)
{
    json_t *o = json_object_get(banks, bank);
    if (!o) {
        o = json_pack("{s:i, s:I, s:i, s:I, s:i, s:[]}", "pledged", 0,
                      "pledged_amount", (json_int_t)0, "held", 0, "held_amount",
                      (json_int_t)0, "pending", 0, "pools");
        json_object_set_new(banks, bank, o);
    }
    return o;
}

static void add_int(json_t *o, const char *key, json_int_t v)
{
    json_object_set_new(
        o, key, json_integer(json_integer_value(json_object_get(o, key)) + v));
}

static int bills_cb(void *ctx, const struct store_draft *d)
{
    struct bills_ctx *c = ctx;
    json_t *t = bank_totals(c->banks, d->bank);
    int pledged = strcmp(d->status, "pledged") == 0;
    int held = strcmp(d->status, "held") == 0;
    if (pledged || held) {
        add_int(t, pledged ? "pledged" : "held", 1);
        add_int(t, pledged ? "pledged_amount" : "held_amount", d->amount);
    }
    if (d->pending)
        add_int(t, "pending", 1);
    if (strcmp(d->maturity_date, c->until) <= 0 &&
        (pledged || held || d->pending))
        json_array_append_new(
            c->drafts,
            json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:s, "
                      "s:b}",
                      "bank", d->bank, "number", d->number, "sub_from",
                      (json_int_t)d->sub_from, "sub_to", (json_int_t)d->sub_to,
                      "kind", d->kind, "status", d->status, "amount",
                      (json_int_t)d->amount, "ccy", d->ccy, "maturity",
                      d->maturity_date, "holder", d->holder, "pending",
                      d->pending));
    return 0;
}

static json_t *amount_or_null(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static int pools_cb(void *ctx, const struct store_pool *p)
{
    struct bills_ctx *c = ctx;
    char learnt[32];
    iso_time(p->learnt_ms, learnt, sizeof(learnt));
    json_array_append_new(
        json_object_get(bank_totals(c->banks, p->bank), "pools"),
        json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:s}",
                  "pool_id", p->pool_id, "as_of", p->as_of, "ccy", p->ccy,
                  "pledged_count", (json_int_t)p->pledged_count,
                  "pledged_total", amount_or_null(p->pledged_total),
                  "deposit", amount_or_null(p->deposit), "quota_total",
                  amount_or_null(p->quota_total), "quota_used",
                  amount_or_null(p->quota_used), "quota_available",
                  amount_or_null(p->quota_available), "learnt", learnt));
    return 0;
}

static int cmd_bills(void *ctx, const json_t *args, uid_t uid, json_t **result,
                     struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)uid;
    json_t *dv = args ? json_object_get(args, "days") : NULL;
    json_int_t days = json_is_integer(dv) ? json_integer_value(dv) : 30;
    if (days < 0 || days > 3660)
        return h2h_err_set(err, H2H_EINVALID, "days must be 0..3660");
    char until[11];
    tz_day_text(h2hd_now_ms() / 86400000 + days, until);
    struct bills_ctx c = {
        .banks = json_object(), .drafts = json_array(), .until = until};
    struct store_draft_filter f = {.bank = arg_str(args, "bank")};
    /* the pools first, so that a bank's entry lists them in pool order
     * even when the bank has no draft in the book */
    int rc = store_pool_list(d->store, f.bank, pools_cb, &c, err);
    if (rc == 0)
        rc = store_draft_list(d->store, &f, bills_cb, &c, err);
    if (rc < 0) {
        json_decref(c.banks);
        json_decref(c.drafts);
        return rc;
    }
    *result = json_pack("{s:o, s:o, s:s}", "banks", c.banks, "maturing",
                        c.drafts, "until", until);
    return 0;
}

/* scf {bank?}: supply-chain finance as the book knows it (scfbook.h):
 * every voucher (per tree: ordered by root, level, id) with our role in
 * it, totals per currency, and the financing requests with their status.
 * Totals, from our side: held (signed, free: their remaining amounts),
 * pending_in (sent to us, awaiting our signature), pending_out (sent by
 * us, not yet signed), financed, settled, issued_live (what we owe as
 * issuer). */
struct scf_ctx {
    json_t *vouchers, *totals, *financing;
    json_t *roles; /* "bank id" -> our role, to know who sent a child */
};

static json_t *ccy_totals(json_t *totals, const char *ccy)
{
    json_t *o = json_object_get(totals, ccy);
    if (!o) {
        o = json_pack("{s:i, s:I, s:i, s:I, s:i, s:I, s:i, s:I, s:i, s:I, "
                      "s:I}",
                      "n_held", 0, "held", (json_int_t)0, "n_pending_in", 0,
                      "pending_in", (json_int_t)0, "n_pending_out", 0,
                      "pending_out", (json_int_t)0, "n_financed", 0, "financed",
                      (json_int_t)0, "n_settled", 0, "settled", (json_int_t)0,
                      "issued_live", (json_int_t)0);
        json_object_set_new(totals, ccy, o);
    }
    return o;
}

/* v into its currency's totals; parent_role: ours in v's parent ("" for
 * a root or a parent the book lacks). */
static void tally_voucher(json_t *t, const struct store_voucher *v,
                          const char *parent_role)
{
    int held = strcmp(v->ours_role, "held") == 0;
    int issued = strcmp(v->ours_role, "issued") == 0;
    int pending = strcmp(v->status, "pending") == 0;
    if (held && pending) {
        add_int(t, "n_pending_in", 1);
        add_int(t, "pending_in", v->amount);
    } else if (held && v->remaining > 0) {
        const char *k = strcmp(v->status, "held") == 0       ? "held"
                        : strcmp(v->status, "financed") == 0 ? "financed"
                        : strcmp(v->status, "settled") == 0  ? "settled"
                                                             : NULL;
        if (k) {
            char n[24];
            snprintf(n, sizeof(n), "n_%s", k);
            add_int(t, n, 1);
            add_int(t, k, v->remaining);
        }
    }
    /* sent by us, not yet signed: a part of one we held, or a root we
     * issued */
    if (pending && ((!held && !issued && strcmp(parent_role, "held") == 0) ||
                    (issued && v->level == 1))) {
        add_int(t, "n_pending_out", 1);
        add_int(t, "pending_out", v->amount);
    }
    if (issued && (pending || strcmp(v->status, "held") == 0 ||
                   strcmp(v->status, "financed") == 0))
        add_int(t, "issued_live", v->remaining);
}

static int scf_voucher_cb(void *ctx, const struct store_voucher *v)
{
    struct scf_ctx *c = ctx;
    char key[sizeof(v->bank) + sizeof(v->id) + 2];
    /* the list comes by tree and level: a parent is seen before its
     * children */
    snprintf(key, sizeof(key), "%s %s", v->bank, v->parent_id);
    const char *pr = json_string_value(json_object_get(c->roles, key));
    tally_voucher(ccy_totals(c->totals, v->ccy), v, pr ? pr : "");
    snprintf(key, sizeof(key), "%s %s", v->bank, v->id);
    json_object_set_new(c->roles, key, json_string(v->ours_role));
    json_array_append_new(
        c->vouchers,
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:I, s:s, s:I, "
                  "s:s, s:s, s:s, s:s}",
                  "bank", v->bank, "id", v->id, "parent_id", v->parent_id,
                  "root_id", v->root_id, "level", v->level, "issuer", v->issuer,
                  "holder", v->holder, "status", v->status, "amount",
                  (json_int_t)v->amount, "ccy", v->ccy, "remaining",
                  (json_int_t)v->remaining, "issue_date", v->issue_date,
                  "maturity", v->maturity_date, "fin_bank", v->fin_bank, "role",
                  v->ours_role));
    return 0;
}

static int scf_financing_cb(void *ctx, const struct store_financing *r)
{
    struct scf_ctx *c = ctx;
    json_array_append_new(
        c->financing,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, "
                  "s:s, s:s, s:s}",
                  "bank", r->bank, "request_id", r->request_id, "kind", r->kind,
                  "status", r->status, "ccy", r->ccy, "requested",
                  (json_int_t)r->requested, "approved", (json_int_t)r->approved,
                  "financed", (json_int_t)r->financed, "repaid",
                  (json_int_t)r->repaid, "loan_ref", r->loan_ref, "value_date",
                  r->value_date, "maturity", r->maturity_date, "reason",
                  r->reason, "msg", r->msg_id));
    return 0;
}

static int cmd_scf(void *ctx, const json_t *args, uid_t uid, json_t **result,
                   struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)uid;
    const char *bank = arg_str(args, "bank");
    struct scf_ctx c = {.vouchers = json_array(),
                        .totals = json_object(),
                        .financing = json_array(),
                        .roles = json_object()};
    struct store_voucher_filter vf = {.bank = bank};
    struct store_financing_filter ff = {.bank = bank};
    int rc = store_voucher_list(d->store, &vf, scf_voucher_cb, &c, err);
    if (rc == 0)
        rc = store_financing_list(d->store, &ff, scf_financing_cb, &c, err);
    json_decref(c.roles);
    if (rc < 0) {
        json_decref(c.vouchers);
        json_decref(c.totals);
        json_decref(c.financing);
        return rc;
    }
    *result = json_pack("{s:o, s:o, s:o}", "vouchers", c.vouchers, "totals",
                        c.totals, "financing", c.financing);
    return 0;
}

/* reconcile {from?, to?, account?, bank?, channel?}: start a run. */
static int cmd_reconcile(void *ctx, const json_t *args, uid_t uid,
                         json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    char id[STORE_ID_MAX];
    (void)uid;
    struct rrun_params p = {.from = arg_str(args, "from"),
                            .to = arg_str(args, "to"),
                            .account = arg_str(args, "account"),
                            .bank = arg_str(args, "bank"),
                            .channel = arg_str(args, "channel"),
                            .trigger = "ctl"};
    int rc = rrun_start(d, &p, NULL, NULL, id, err);
    if (rc < 0)
        return rc;
    *result = json_pack("{s:s}", "id", id);
    return 0;
}

/* reconcile_status {id?}: one run (the latest without id), with its
 * progress while it runs. */
static int cmd_reconcile_status(void *ctx, const json_t *args, uid_t uid,
                                json_t **result, struct h2h_err *err)
{
    (void)uid;
    return rrun_status_json(ctx, arg_str(args, "id"), result, err);
}

static int jobs_cb(void *ctx, const struct sched_job_info *j)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}",
        "bank", j->bank, "kind", j->kind, "schedule", j->cron,
        "business_days", j->business_days, "timezone", j->zone, "calendar",
        j->calendar, "last_run", j->last_start, "last_end", j->last_end,
        "result", j->result, "error", j->error, "next_run", j->next,
        "running", strcmp(j->state, "idle") != 0, "state", j->state);
    if (!o)
        return H2H_ENOMEM;
    json_object_set_new(o, "duration_ms",
                        j->duration_ms >= 0 ? json_integer(j->duration_ms)
                                            : json_null());
    json_object_set_new(o, "stopped", json_boolean(j->exhausted));
    json_array_append_new(ctx, o);
    return 0;
}

/* jobs {bank?}: every scheduled job with its last and next run. */
static int cmd_jobs(void *ctx, const json_t *args, uid_t uid,
                    json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)uid;
    const char *bank = arg_str(args, "bank");
    if (bank && !h2hd_bank(d, bank))
        return h2h_err_set(err, H2H_ENOTFOUND, "no bank named \"%.60s\"",
                           bank);
    json_t *arr = json_array();
    if (!arr)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    int rc = sched_list(d, bank, jobs_cb, arr, err);
    if (rc) {
        json_decref(arr);
        if (rc == H2H_ENOMEM)
            h2h_err_set(err, rc, "out of memory");
        return rc;
    }
    *result = json_pack("{s:o}", "jobs", arr);
    return 0;
}

static int cmd_reload(void *ctx, const json_t *args, uid_t uid,
                      json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)args;
    (void)uid;
    int rc = h2hd_reload(d, err);
    if (rc)
        return rc;
    *result = json_pack("{s:b}", "reloaded", 1);
    return 0;
}

struct certs_list {
    json_t *arr;
    const char *bank;
    time_t now;
};

/* A JSON string of s.  Names are cut to cert_info's buffers, possibly in
 * the middle of a UTF-8 sequence, and a certificate may hold broken
 * strings; jansson refuses invalid UTF-8, so then every non-ASCII byte
 * becomes '?' rather than the certificate going missing from the list. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *c = strdup(s);
    if (!c)
        return NULL;
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(c);
    free(c);
    return j;
}

static void certs_list_cb(void *ctx, const char *label, struct x509_st *x)
{
    struct certs_list *l = ctx;
    struct cert_info ci;
    struct h2h_err e;
    h2h_err_clear(&e);
    if (cert_info_get(x, l->now, &ci, &e) < 0) {
        /* still listed: an operator asking what is in use must see it */
        json_array_append_new(l->arr,
                              json_pack("{s:s, s:s, s:o}", "bank", l->bank,
                                        "label", label, "error", jstr(e.msg)));
        return;
    }
    json_array_append_new(
        l->arr,
        json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:I, s:s}",
                  "bank", l->bank, "label", label, "subject", jstr(ci.subject),
                  "issuer", jstr(ci.issuer), "serial", ci.serial, "key", ci.key,
                  "fingerprint", ci.fingerprint, "not_before", ci.not_before,
                  "not_after", ci.not_after, "days_left",
                  (json_int_t)ci.days_left, "warning",
                  cert_warn_name(cert_warn_level(ci.not_after_t, l->now))));
}

/* Every certificate in use, per bank (args: optional "bank"). */
static int cmd_certs(void *ctx, const json_t *args, uid_t uid,
                     json_t **result, struct h2h_err *err)
{
    struct h2hd *d = ctx;
    (void)uid;
    const char *only = arg_str(args, "bank");
    if (only && !h2hd_bank(d, only))
        return h2h_err_set(err, H2H_ENOTFOUND, "no bank named \"%s\"", only);
    struct certs_list l = {.arr = json_array(), .now = time(NULL)};
    if (!l.arr)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->n_banks; i++) {
        struct bank_rt *b = d->banks[i];
        if (b->retired || !b->ad || !b->ad->ops->certs ||
            (only && strcmp(only, b->name) != 0))
            continue;
        l.bank = b->name;
        b->ad->ops->certs(b->ad, certs_list_cb, &l);
    }
    *result = json_pack("{s:o}", "certs", l.arr);
    return 0;
}

int commands_register(struct h2hd *d, struct h2h_err *err)
{
    static const struct {
        const char *name;
        ctl_handler h;
        unsigned flags;
    } cmds[] = {
        {"status", cmd_status, 0},
        {"queue", cmd_queue, 0},
        {"show", cmd_show, 0},
        {"retry", cmd_retry, CTL_F_AUDIT},
        {"hold", cmd_hold, 0},
        {"release", cmd_release, CTL_F_AUDIT},
        {"reload", cmd_reload, 0},
        {"certs", cmd_certs, 0},
        {"fetch", cmd_fetch, 0},
        {"jobs", cmd_jobs, 0},
        {"reconcile", cmd_reconcile, CTL_F_AUDIT},
        {"reconcile_status", cmd_reconcile_status, 0},
        {"bills", cmd_bills, 0},
        {"scf", cmd_scf, 0},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        int rc = ctl_server_register(d->ctl, cmds[i].name, cmds[i].h, d,
                                     cmds[i].flags);
        if (rc)
            return h2h_err_set(err, rc, "register command %s", cmds[i].name);
    }
    return 0;
}
