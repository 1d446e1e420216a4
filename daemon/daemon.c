/*
 * daemon.c - start-up, signals, reload and orderly shutdown of h2hd.
 *
 * Start: load and validate the config, take the pid-file lock (two daemons
 * must never share a state folder or spool), open the store, create one
 * adapter per bank, start the control socket, resolve what a crash left
 * half-way (messages in `submitting` go through the adapter's recover
 * before anything is resent), then watch the drop folders.
 *
 * SIGTERM/SIGINT: stop taking new work (watchers, timers, pump), let the
 * operations in flight finish up to daemon.shutdown_timeout, commit their
 * results, close everything, exit 0.  Whatever is still running at the
 * timeout is left in `submitting` and resolved by recover at the next
 * start.  SIGHUP: reopen the log and audit files and reload the config;
 * an invalid new config is refused with every problem logged and the old
 * one stays in force.
 *
 * Certificates: every bank's certificates in use are checked for expiry
 * at start, after every reload and every hour (certwatch.h); a reload
 * recreates the adapters, which load their keys and certificates afresh,
 * so swapping a certificate needs no restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "billbook.h"
#include "certwatch.h"
#include "ctl.h"
#include "fsutil.h"
#include "h2hd.h"
#include "log.h"
#include "reconrun.h"
#include "scfbook.h"
#include "scheduler.h"
#include "tz.h"

void engine_flush(struct h2hd *d);

int64_t h2hd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h2hd_today(char out[11])
{
    tz_day_text(h2hd_now_ms() / 86400000, out);
}

void h2hd_bank_today(struct h2hd *d, const char *bank, char out[11])
{
    const struct cfg_bank *b = d->cfg ? cfg_bank_find(d->cfg, bank) : NULL;
    struct tm tm;
    char day[32];
    h2hd_today(out);
    if (b && b->zone &&
        tz_to_local(b->zone, (time_t)(h2hd_now_ms() / 1000), &tm) == 0 &&
        strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 10)
        memcpy(out, day, 11);
}

void h2hd_bank_today_cb(void *ctx, const char *bank, char out[11])
{
    h2hd_bank_today(ctx, bank, out);
}

struct bank_rt *h2hd_bank(struct h2hd *d, const char *name)
{
    for (size_t i = 0; name && i < d->n_banks; i++)
        if (!d->banks[i]->retired && strcmp(d->banks[i]->name, name) == 0)
            return d->banks[i];
    return NULL;
}

/* The hourly expiry check: thresholds are days apart, so an hour late is
 * early enough, and the 1-day warning still comes with almost a day left. */
#define CERT_CHECK_INTERVAL_MS (3600 * 1000)

/* ---- pid file ------------------------------------------------------------ */

static int pidfile_take(const char *path, struct h2h_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return h2h_err_set(err, -errno, "pid file %s: %s", path,
                           strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        close(fd);
        return h2h_err_set(err, -EBUSY,
                           "another h2hd (pid %s) holds %s: two daemons must "
                           "never share one state folder",
                           buf[0] ? buf : "?", path);
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        close(fd);
        return h2h_err_set(err, -errno, "write pid file %s: %s", path,
                           strerror(errno));
    }
    return fd;
}

/* ---- banks and channels ---------------------------------------------------- */

static void bank_closed_cb(struct h2h_adapter *a)
{
    struct bank_rt *b = a->data;
    b->ad = NULL;
}

/* A dialect that fixes the bank's clock (a direct-connect profile's
 * utc_offset) and a bank timezone that disagrees with it right now: h2hd
 * would judge cut-offs, maturities and presentment a day off for part of
 * every day.  Said once per start or reload; the operator sets timezone. */
static void clock_check(const struct cfg_bank *cb, struct h2h_adapter *ad)
{
    int minutes;
    if (!cb->zone || !ad->ops->clock_offset ||
        ad->ops->clock_offset(ad, &minutes) != 0)
        return;
    const char *zone = cb->timezone ? cb->timezone : "UTC";
    int have = tz_offset_at(cb->zone, time(NULL)) / 60;
    if (have == minutes)
        return;
    char want[16], now[16];
    snprintf(want, sizeof(want), "%+03d:%02d", minutes / 60,
             abs(minutes % 60));
    snprintf(now, sizeof(now), "%+03d:%02d", have / 60, abs(have % 60));
    h2h_log(H2H_LOG_WARN, "bank.timezone.mismatch", "bank", cb->name,
            "timezone", zone, "offset", now, "bank_offset", want, "hint",
            "set the bank's timezone to the zone its front end runs on "
            "(e.g. Asia/Shanghai for +08:00)",
            NULL);
}

static int bank_create(struct h2hd *d, const struct cfg_bank *cb,
                       struct bank_rt **out, struct h2h_err *err)
{
    const struct h2h_adapter_ops *ops = h2h_adapter_find(cb->adapter);
    if (!ops)
        return h2h_err_set(err, H2H_ECONFIG, "bank %s: unknown adapter %s",
                           cb->name, cb->adapter);
    struct bank_rt *b = calloc(1, sizeof(*b));
    if (!b || !(b->name = strdup(cb->name))) {
        free(b);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    b->d = d;
    b->cfg = cb;
    /* The adapter's own durable folder: <state_dir>/adapters/<bank>, for
     * what only it knows (e.g. status reports still to be delivered). */
    char sdir[4096], adir[4096];
    int rc = fsu_join(adir, sizeof(adir), d->cfg->state_dir, "adapters");
    if (rc == 0)
        rc = fsu_join(sdir, sizeof(sdir), adir, cb->name);
    if (rc == 0)
        rc = fsu_mkdirs(sdir, 0700, err);
    else
        h2h_err_set(err, rc, "bank %s: state folder path too long", cb->name);
    if (rc == 0)
        rc = ops->create(d->loop, cb->setting, cb->name, d->cfg->base_dir,
                         sdir, &b->ad, err);
    if (rc) {
        free(b->name);
        free(b);
        return rc;
    }
    b->ad->data = b;
    clock_check(cb, b->ad);
    *out = b;
    return 0;
}

static int banks_start(struct h2hd *d, struct h2h_err *err)
{
    d->banks = calloc(d->cfg->n_banks ? d->cfg->n_banks : 1, sizeof(*d->banks));
    if (!d->banks)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->cfg->n_banks; i++) {
        int rc = bank_create(d, &d->cfg->banks[i], &d->banks[i], err);
        if (rc)
            return rc;
        d->n_banks++;
        engine_poll_start(d, d->banks[i]);
        h2h_log(H2H_LOG_INFO, "bank.started", "bank", d->banks[i]->name,
                "adapter", d->cfg->banks[i].adapter, NULL);
    }
    return 0;
}

/* A reload restarts channels; the drop-folder lock passes from the old
 * channel to the new one for the same folder, so that no other daemon can
 * slip in between (and the old one, still closing, does not block us). */
static int steal_lock(struct chan_rt **old, size_t n_old, const char *drop)
{
    for (size_t i = 0; i < n_old; i++)
        if (old[i] && old[i]->lock_fd >= 0 &&
            strcmp(old[i]->cfg->drop_dir, drop) == 0) {
            int fd = old[i]->lock_fd;
            old[i]->lock_fd = -1;
            return fd;
        }
    return -1;
}

static int channels_start(struct h2hd *d, struct chan_rt **old, size_t n_old,
                          struct h2h_err *err)
{
    d->chans = calloc(d->cfg->n_channels ? d->cfg->n_channels : 1,
                      sizeof(*d->chans));
    if (!d->chans)
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->cfg->n_channels; i++) {
        struct chan_rt *ch = calloc(1, sizeof(*ch));
        if (!ch)
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        ch->cfg = &d->cfg->channels[i];
        ch->lock_fd = steal_lock(old, n_old, ch->cfg->drop_dir);
        d->chans[d->n_chans++] = ch;
        fsu_join(ch->data_dir, sizeof(ch->data_dir), d->data_dir, ch->cfg->name);
        int rc = pickup_start(d, ch, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- certificate expiry --------------------------------------------- */

struct cert_walk {
    struct h2hd *d;
    const char *bank;
    time_t now;
};

static void cert_walk_cb(void *ctx, const char *label, struct x509_st *x)
{
    struct cert_walk *w = ctx;
    certwatch_check(w->d->certwatch, w->bank, label, x, w->now);
}

void h2hd_check_certs(struct h2hd *d)
{
    if (!d->certwatch)
        return;
    struct cert_walk w = {.d = d, .now = time(NULL)};
    certwatch_round_begin(d->certwatch);
    for (size_t i = 0; i < d->n_banks; i++) {
        struct bank_rt *b = d->banks[i];
        /* retired banks are closing; their successors hold the same (or
         * the swapped) certificates */
        if (b->retired || !b->ad || !b->ad->ops->certs)
            continue;
        w.bank = b->name;
        b->ad->ops->certs(b->ad, cert_walk_cb, &w);
    }
    certwatch_round_end(d->certwatch);
}

/* The hourly look at what is about to expire or fall due: certificates,
 * drafts and vouchers of ours nearing maturity (billbook.h, scfbook.h;
 * days counted on each bank's clock). */
static void hourly_checks(struct h2hd *d)
{
    h2hd_check_certs(d);
    bbook_alerts(d->store, h2hd_bank_today_cb, d);
    sbook_alerts(d->store, h2hd_bank_today_cb, d);
}

static void cert_timer_cb(uv_timer_t *t)
{
    hourly_checks(t->data);
}

/* ---- signals ---------------------------------------------------------------- */

static void on_term(uv_signal_t *s, int signum)
{
    struct h2hd *d = s->data;
    h2hd_stop(d, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_hup(uv_signal_t *s, int signum)
{
    struct h2hd *d = s->data;
    struct h2h_err err = {0};
    (void)signum;
    h2h_log_reopen();
    if (d->audit)
        audit_reopen(d->audit);
    h2hd_reload(d, &err);
}

static void rescan_cb(uv_timer_t *t)
{
    pickup_scan_all(t->data);
}

/* ---- start ------------------------------------------------------------------ */

int h2hd_start(struct h2hd *d, const char *cfg_path, struct h2h_err *err)
{
    struct cfg_problems probs = {0};
    char path[4096];
    int rc;

    d->pid_fd = -1;
    d->started_ms = h2hd_now_ms();
    d->rng = (uint64_t)d->started_ms ^ ((uint64_t)getpid() << 32);
    rc = cfg_load(cfg_path, &d->cfg, &probs);
    if (rc) {
        for (size_t i = 0; i < probs.n; i++)
            h2h_log(H2H_LOG_ERROR, "config.invalid", "problem", probs.v[i],
                    NULL);
        h2h_err_set(err, rc, "%s: %zu problem(s), first: %s", cfg_path,
                    probs.n, probs.n ? probs.v[0] : "?");
        cfg_problems_release(&probs);
        return rc;
    }
    h2h_log_set_level((enum h2h_log_level)d->cfg->log_level);
    if (d->cfg->log_file && strcmp(d->cfg->log_file, "-") != 0 &&
        (rc = h2h_log_open(d->cfg->log_file,
                           (enum h2h_log_level)d->cfg->log_level)) != 0)
        return h2h_err_set(err, rc, "log file %s: %s", d->cfg->log_file,
                           strerror(-rc));
    if ((rc = fsu_mkdirs(d->cfg->state_dir, 0750, err)))
        return rc;
    rc = pidfile_take(d->cfg->pid_file, err);
    if (rc < 0)
        return rc;
    d->pid_fd = rc;
    fsu_join(d->data_dir, sizeof(d->data_dir), d->cfg->state_dir, "data");
    fsu_join(d->dl_dir, sizeof(d->dl_dir), d->cfg->state_dir, "incoming");
    if ((rc = fsu_mkdirs(d->data_dir, 0750, err)) ||
        (rc = fsu_mkdirs(d->dl_dir, 0750, err)))
        return rc;
    fsu_clean_tmp(d->dl_dir, NULL);
    fsu_join(path, sizeof(path), d->cfg->state_dir, "h2hd.db");
    if ((rc = store_open(path, &d->store, err)))
        return rc;
    if ((rc = store_check(d->store, err))) {
        h2h_err_prefix(err, "state store %s failed its consistency check", path);
        return rc;
    }
    if (d->cfg->audit_log && (rc = audit_open(d->cfg->audit_log, &d->audit, err)))
        return rc;
    if ((rc = engine_init(d, err)))
        return rc;
    /* Signals first: the control socket tells supervisors and scripts
     * that h2hd is up, and a SIGTERM sent then must stop it in order, not
     * kill it by the default action while banks are still being set up.
     * Handlers run only once the loop runs, after this set-up. */
    uv_signal_init(d->loop, &d->sig_term);
    uv_signal_init(d->loop, &d->sig_int);
    uv_signal_init(d->loop, &d->sig_hup);
    d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
    uv_signal_start(&d->sig_term, on_term, SIGTERM);
    uv_signal_start(&d->sig_int, on_term, SIGINT);
    uv_signal_start(&d->sig_hup, on_hup, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = ctl_server_start(d->loop, d->cfg->control_socket,
                               d->cfg->control_socket_mode, d->audit, &d->ctl,
                               err)))
        return rc;
    if ((rc = commands_register(d, err)))
        return rc;
    if ((rc = certwatch_new(&d->certwatch, err)))
        return rc;
    if ((rc = banks_start(d, err)))
        return rc;
    uv_timer_init(d->loop, &d->cert_timer);
    d->cert_timer.data = d;
    uv_timer_init(d->loop, &d->sched_timer);
    d->sched_timer.data = d;

    uv_timer_init(d->loop, &d->shutdown_timer);
    d->shutdown_timer.data = d;
    uv_timer_init(d->loop, &d->rescan_timer);
    d->rescan_timer.data = d;

    h2h_log(H2H_LOG_INFO, "daemon.started", "config", d->cfg->path, "pid",
            NULL, NULL);
    hourly_checks(d);
    uv_timer_start(&d->cert_timer, cert_timer_cb, CERT_CHECK_INTERVAL_MS,
                   CERT_CHECK_INTERVAL_MS);
    /* Resolve what a crash left behind before taking new work. */
    rrun_recover(d);
    engine_recover_all(d);
    engine_kick(d);
    if ((rc = channels_start(d, NULL, 0, err)))
        return rc;
    uv_timer_start(&d->rescan_timer, rescan_cb,
                   (uint64_t)d->cfg->rescan_interval_ms,
                   (uint64_t)d->cfg->rescan_interval_ms);
    /* Last: catch-up runs deliver into the channels' folders. */
    struct sched *s = NULL;
    if ((rc = sched_prepare(d->cfg, &s, err)))
        return rc;
    sched_commit(d, s);
    return 0;
}

/* ---- reload ------------------------------------------------------------------ */

int h2hd_reload(struct h2hd *d, struct h2h_err *err)
{
    struct cfg_problems probs = {0};
    struct cfg *nc = NULL;
    int rc = cfg_load(d->cfg->path, &nc, &probs);
    if (rc == 0)
        rc = cfg_reload_check(d->cfg, nc, &probs);
    if (rc) {
        for (size_t i = 0; i < probs.n; i++)
            h2h_log(H2H_LOG_ERROR, "config.reload.refused", "problem",
                    probs.v[i], NULL);
        h2h_err_set(err, rc ? rc : H2H_ECONFIG,
                    "new configuration refused (%zu problem(s)%s%s); the "
                    "running one stays in force",
                    probs.n, probs.n ? ", first: " : "",
                    probs.n ? probs.v[0] : "");
        cfg_problems_release(&probs);
        cfg_free(nc);
        return err ? err->code : H2H_ECONFIG;
    }

    /* The new schedule's zones and calendars, before anything changes. */
    struct sched *ns = NULL;
    struct h2h_err se = {0};
    if (sched_prepare(nc, &ns, &se) != 0) {
        cfg_free(nc);
        h2h_log(H2H_LOG_ERROR, "config.reload.refused", "problem", se.msg,
                NULL);
        return h2h_err_set(err, se.code, "%s", se.msg);
    }

    /* New adapters for every bank; the old ones finish what they have in
     * flight and close.  Channels restart on the new settings. */
    struct h2hd tmp = *d;
    tmp.cfg = nc;
    struct bank_rt **nb = calloc(nc->n_banks + d->n_banks + 1, sizeof(*nb));
    if (!nb) {
        cfg_free(nc);
        sched_free(ns);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < nc->n_banks; i++) {
        struct bank_rt *b;
        struct h2h_err e = {0};
        if (bank_create(&tmp, &nc->banks[i], &b, &e) != 0) {
            for (size_t k = 0; k < n; k++) {
                nb[k]->ad->ops->close(nb[k]->ad, bank_closed_cb);
                free(nb[k]->name);
                free(nb[k]);
            }
            free(nb);
            cfg_free(nc);
            sched_free(ns);
            h2h_log(H2H_LOG_ERROR, "config.reload.refused", "problem", e.msg,
                    NULL);
            return h2h_err_set(err, e.code, "%s", e.msg);
        }
        b->d = d;
        nb[n++] = b;
    }
    /* Retire old banks: keep them in the list until idle, marked retired. */
    for (size_t i = 0; i < d->n_banks; i++) {
        struct bank_rt *ob = d->banks[i];
        ob->retired = 1;
        ob->cfg = NULL;
        if (ob->poll_timer_live)
            uv_timer_stop(&ob->poll_timer);
        if (ob->ad)
            ob->ad->ops->close(ob->ad, bank_closed_cb);
        nb[n++] = ob;
    }
    struct chan_rt **old_chans = d->chans;
    size_t n_old = d->n_chans;
    d->chans = NULL;
    d->n_chans = 0;

    /* A new audit log path takes effect now; the old file is closed. */
    if (nc->audit_log && (!d->cfg->audit_log ||
                          strcmp(nc->audit_log, d->cfg->audit_log) != 0)) {
        struct audit *na = NULL;
        struct h2h_err e = {0};
        if (audit_open(nc->audit_log, &na, &e) == 0) {
            ctl_server_set_audit(d->ctl, na);
            audit_close(d->audit);
            d->audit = na;
        } else {
            h2h_log(H2H_LOG_ERROR, "audit.open.failed", "path",
                    nc->audit_log, "error", e.msg, NULL);
        }
    }
    struct cfg *old = d->cfg;
    free(d->banks);
    d->banks = nb;
    d->n_banks = n;
    d->cfg = nc;
    h2h_log_set_level((enum h2h_log_level)nc->log_level);
    for (size_t i = 0; i < d->n_banks; i++)
        if (!d->banks[i]->retired)
            engine_poll_start(d, d->banks[i]);
    /* Old channel structs are freed in their close callbacks; they never
     * touch the old config after pickup_close. */
    struct cfg **rc2 = realloc(d->retired_cfgs,
                               (d->n_retired + 1) * sizeof(*rc2));
    if (rc2) {
        d->retired_cfgs = rc2;
        d->retired_cfgs[d->n_retired++] = old;
    }
    struct h2h_err e = {0};
    if (channels_start(d, old_chans, n_old, &e) != 0)
        h2h_log(H2H_LOG_ERROR, "spool.channel.failed", "error", e.msg, NULL);
    for (size_t i = 0; i < n_old; i++)
        pickup_close(old_chans[i]);
    free(old_chans);
    /* Jobs from the new config; runs in progress carry on, missed ones
     * are caught up (scheduler.h). */
    sched_commit(d, ns);
    /* New adapters, perhaps new certificates: check now rather than within
     * the hour (what was already announced is not repeated), and before
     * config.reloaded, which says the reload is complete. */
    h2hd_check_certs(d);
    h2h_log(H2H_LOG_INFO, "config.reloaded", "config", nc->path, NULL);
    engine_kick(d);
    return 0;
}

/* ---- stop ----------------------------------------------------------------------- */

static void handle_close_cb(uv_handle_t *h)
{
    struct h2hd *d = h->data;
    d->closing_handles--;
}

static void close_handle(struct h2hd *d, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        h->data = d;
        d->closing_handles++;
        uv_close(h, handle_close_cb);
    }
}

static void ctl_closed(void *arg)
{
    struct h2hd *d = arg;
    d->closing_handles--;
}

static void shutdown_timeout_cb(uv_timer_t *t)
{
    struct h2hd *d = t->data;
    h2h_log(H2H_LOG_WARN, "daemon.shutdown.timeout", "inflight", NULL, NULL);
    /* What is still running stays in `submitting` and is resolved by
     * recover at the next start.  Commit what came back, then leave. */
    engine_flush(d);
    store_close(d->store);
    d->store = NULL;
    h2h_log(H2H_LOG_INFO, "daemon.stopped", "reason", "timeout", NULL);
    if (d->cfg && d->cfg->pid_file)
        unlink(d->cfg->pid_file);
    exit(0);
}

static void close_everything(struct h2hd *d)
{
    if (d->closing_phase)
        return;
    d->closing_phase = 1;
    engine_flush(d);
    uv_timer_stop(&d->shutdown_timer);
    close_handle(d, (uv_handle_t *)&d->shutdown_timer);
    close_handle(d, (uv_handle_t *)&d->pump_timer);
    close_handle(d, (uv_handle_t *)&d->retry_timer);
    close_handle(d, (uv_handle_t *)&d->rescan_timer);
    close_handle(d, (uv_handle_t *)&d->cert_timer);
    close_handle(d, (uv_handle_t *)&d->sched_timer);
    close_handle(d, (uv_handle_t *)&d->sig_term);
    close_handle(d, (uv_handle_t *)&d->sig_int);
    close_handle(d, (uv_handle_t *)&d->sig_hup);
    for (size_t i = 0; i < d->n_banks; i++) {
        struct bank_rt *b = d->banks[i];
        if (b->poll_timer_live) {
            b->poll_timer_live = 0;
            close_handle(d, (uv_handle_t *)&b->poll_timer);
        }
        if (b->ad)
            b->ad->ops->close(b->ad, bank_closed_cb);
    }
    if (d->ctl) {
        d->closing_handles++;
        ctl_server_close(d->ctl, ctl_closed, d);
        d->ctl = NULL;
    }
}

void h2hd_stop(struct h2hd *d, const char *why)
{
    if (why && !d->stopping) {
        d->stopping = 1;
        h2h_log(H2H_LOG_INFO, "daemon.stopping", "reason", why, NULL);
        uv_timer_stop(&d->rescan_timer);
        uv_timer_stop(&d->retry_timer);
        uv_timer_stop(&d->cert_timer);
        uv_timer_stop(&d->sched_timer);
        for (size_t i = 0; i < d->n_banks; i++)
            if (d->banks[i]->poll_timer_live)
                uv_timer_stop(&d->banks[i]->poll_timer);
        for (size_t i = 0; i < d->n_chans; i++)
            pickup_close(d->chans[i]);
        d->n_chans = 0;
        int64_t t = d->cfg->shutdown_timeout_ms;
        uv_timer_start(&d->shutdown_timer, shutdown_timeout_cb,
                       (uint64_t)(t > 0 ? t : 1), 0);
    }
    if (!d->stopping)
        return;
    int busy = engine_inflight_total(d);
    for (size_t i = 0; i < d->n_banks; i++)
        busy += d->banks[i]->polling;
    /* a reconciliation run stops at its next step; its end calls here */
    rrun_cancel(d);
    busy += rrun_busy(d);
    if (busy == 0)
        close_everything(d);
}

void h2hd_release(struct h2hd *d)
{
    engine_flush(d);
    engine_release(d);
    for (size_t i = 0; i < d->n_banks; i++) {
        free(d->banks[i]->name);
        free(d->banks[i]);
    }
    free(d->banks);
    free(d->chans);
    store_close(d->store);
    sched_free(d->sched);
    audit_close(d->audit);
    certwatch_free(d->certwatch);
    if (d->pid_fd >= 0) {
        unlink(d->cfg->pid_file);
        close(d->pid_fd);
    }
    for (size_t i = 0; i < d->n_retired; i++)
        cfg_free(d->retired_cfgs[i]);
    free(d->retired_cfgs);
    cfg_free(d->cfg);
    memset(d, 0, sizeof(*d));
}
