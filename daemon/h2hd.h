/*
 * h2hd.h - the daemon's runtime: one struct h2hd owned by the loop thread,
 * shared by the modules that make up the core (daemon.c, pickup.c,
 * engine.c, commands.c).  Nothing outside daemon/ includes this.
 *
 * Message flow (each arrow one committed store transition + one log line):
 *
 *   drop file --pickup--> accepted --render--> rendered --pump-->
 *   submitting --adapter.submit--> submitted | deferred | failed | held
 *   deferred --retry timer (backoff)--> rendered ...
 *   submitting (found at start or after a lost answer) --adapter.recover-->
 *   submitted | rendered (proven not sent) | held (unknown)
 *
 * Store writes happen on the loop thread; groups of transitions are
 * committed in one transaction (one fsync for many files).  File I/O
 * (copying, fsync, rename) runs on the libuv thread pool.
 */
#ifndef H2H_H2HD_H
#define H2H_H2HD_H

#include <stdint.h>

#include <uv.h>

#include "adapter.h"
#include "config.h"
#include "store.h"

struct ctl_server;
struct audit;
struct sched;
struct certwatch;
struct h2hd;

struct bank_rt {
    struct h2hd *d;
    char *name;
    const struct cfg_bank *cfg;   /* points into d->cfg */
    struct h2h_adapter *ad;
    int inflight;                 /* submit + recover in flight */
    uv_timer_t poll_timer;
    int poll_timer_live;
    int polling;
    struct h2h_poll_req preq;
    char poll_date[11];           /* preq.date's storage */
    /* fetches asked for while a poll ran: they run right after it */
    int want;                     /* a fetch waits */
    unsigned want_what;           /* H2H_POLL_* bits, 0 = a routine round */
    char want_date[11];           /* "" = the adapter's default range */
    char last_error[H2H_ERR_MSG_MAX];
    int retired;                  /* replaced by a reload; closes when idle */
};

struct seen_map;

struct chan_rt {
    struct h2hd *d;
    const struct cfg_channel *cfg; /* points into d->cfg */
    uv_fs_event_t ev;
    uv_timer_t wait_timer;        /* coalesces events, stability waits */
    int handles;                  /* open libuv handles */
    int closing;
    struct seen_map *seen;        /* stability tracking by name */
    int busy;                     /* a pickup batch is in flight */
    int rescan;                   /* rescan once the batch is done */
    int lock_fd;
    char data_dir[4096];
};

struct h2hd {
    uv_loop_t *loop;
    struct cfg *cfg;
    struct store *store;
    struct ctl_server *ctl;
    struct audit *audit;
    struct bank_rt **banks;
    size_t n_banks;
    struct chan_rt **chans;
    size_t n_chans;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t rescan_timer;
    uv_timer_t retry_timer;
    uv_timer_t pump_timer;
    uv_timer_t shutdown_timer;
    uv_timer_t cert_timer;        /* hourly certificate expiry check */
    uv_timer_t sched_timer;       /* the next scheduled job (scheduler.h) */
    struct sched *sched;          /* jobs and cut-offs of every bank */
    struct rrun *rrun;            /* the reconciliation run going, or NULL
                                     (reconrun.h) */
    struct certwatch *certwatch;  /* expiry warnings already logged: kept
                                     across reloads so none is repeated */
    int stopping;
    int closing_handles;
    int pickups_inflight;
    int renders_inflight;
    int64_t started_ms;
    uint64_t rng;
    uint64_t seq;                 /* unique names for payload copies */
    int pid_fd;
    char data_dir[4096];          /* state_dir/data */
    char dl_dir[4096];            /* state_dir/incoming: downloads */
    struct pending *pending;      /* results waiting for a group commit */
    struct inflight_set *inflight;
    int pump_scheduled;
    int exit_code;
    int closing_phase;
    struct cfg **retired_cfgs;    /* configs replaced by reloads: channels
                                     closing late may still point into them */
    size_t n_retired;
};

int64_t h2hd_now_ms(void);
/* Today as "YYYY-MM-DD" (UTC): the day dates and maturities are judged on. */
void h2hd_today(char out[11]);
/* Today ("YYYY-MM-DD") on the clock of bank (its `timezone`); UTC's for
 * a bank not configured or a zone that cannot be loaded.  The second form
 * is the callback bbook_alerts()/sbook_alerts() take (ctx: the h2hd). */
void h2hd_bank_today(struct h2hd *d, const char *bank, char out[11]);
void h2hd_bank_today_cb(void *ctx, const char *bank, char out[11]);

/* daemon.c */
int h2hd_start(struct h2hd *d, const char *cfg_path, struct h2h_err *err);
int h2hd_reload(struct h2hd *d, struct h2h_err *err);
void h2hd_stop(struct h2hd *d, const char *why);
void h2hd_release(struct h2hd *d);
struct bank_rt *h2hd_bank(struct h2hd *d, const char *name);
/* Walk every bank's certificates and log the expiry thresholds they
 * crossed (certwatch.h); at start, after a reload and every hour. */
void h2hd_check_certs(struct h2hd *d);

/* pickup.c: drop folders -> accepted */
int pickup_start(struct h2hd *d, struct chan_rt *ch, struct h2h_err *err);
void pickup_scan(struct chan_rt *ch);
void pickup_close(struct chan_rt *ch); /* frees ch once closed */
void pickup_scan_all(struct h2hd *d);

/* engine.c: accepted -> ... -> submitted, retries, recovery, polling */
void engine_kick(struct h2hd *d);
void engine_recover_all(struct h2hd *d);
void engine_retry_due(struct h2hd *d);
int engine_poll_start(struct h2hd *d, struct bank_rt *b);
void engine_poll_now(struct bank_rt *b);
/* Fetch what (H2H_POLL_* bits; 0 = a routine round) now, for one day
 * (date "YYYY-MM-DD", the bank's) or the default range (NULL).  When the
 * bank's poll is running, the fetch runs right after it (fetches asked
 * meanwhile are merged: bits or'ed, the last date wins).  0 started, 1
 * queued, or an error (no such adapter support, shutting down). */
int engine_poll(struct bank_rt *b, unsigned what, const char *date,
                struct h2h_err *err);
int engine_inflight_total(struct h2hd *d);
int engine_init(struct h2hd *d, struct h2h_err *err);
void engine_release(struct h2hd *d);
int engine_is_inflight(struct h2hd *d, const char *msg_id);

/* commands.c: h2hctl commands */
int commands_register(struct h2hd *d, struct h2h_err *err);

#endif
