/*
 * scheduler.h - scheduled fetches and payment cut-offs, per bank.
 *
 * (Not "sched.h": daemon/ is on every include path, and a sched.h there
 * would shadow the system's <sched.h>, which <pthread.h> includes.)
 *
 * A bank's `schedule` group (config.h, struct cfg_schedule) names jobs:
 * one per kind (status, statements, intraday, balance, bills, reconcile),
 * each a cron
 * expression or interval (cron.h) evaluated in the schedule's time zone
 * (tz.h), optionally on business days of a calendar only (calendar.h).
 * A job that comes due asks the engine for one fetch of its kind
 * (engine_poll with its H2H_POLL_* bit); statements are fetched for the
 * previous business day (the previous day without a calendar), intraday
 * reports for the day of the run, the other kinds for the adapter's
 * default range.  A "reconcile" job fetches nothing: it starts a
 * reconciliation run for the bank (reconrun.h) and ends when the run
 * does.  A bank with at least one fetch job gets no poll_interval
 * rounds: jobs drive all of its fetching, so status reports flow only
 * through a "status" job.
 *
 * Rules:
 *   - Never two runs of one job at once: a job whose previous run has
 *     not finished (its poll round, or the round it waits behind, is
 *     still going) is skipped for that time, logged sched.job.skipped,
 *     not stacked.  A run ends when the bank's poll round that carried it
 *     ends (sched_poll_done, from the engine); its result ("ok" or the
 *     poll's error) is stored and logged sched.job.done.
 *   - Jitter: each run waits a random 0..jitter seconds after its time.
 *   - Memory: per (bank, kind) the store keeps the last scheduled time
 *     run and the last run's start, end and result (store_job_*).  At
 *     start and after a reload, a job with a scheduled time in
 *     (last, now] runs once now (sched.job.catchup, for the latest such
 *     time) or, with catch_up = false, is skipped (sched.job.missed).  A
 *     job never seen before only records now as its baseline: nothing is
 *     caught up on the very first start.  A run that started and never
 *     finished (h2hd was killed) counts as missed.  A reload keeps the
 *     next time of a job whose rule (cron, business_days, zone, calendar,
 *     jitter) did not change; changed and new jobs are checked as at
 *     start.  A run in progress carries on across a reload; one that
 *     waited behind a round of the replaced bank runs at once.
 *   - A calendar that has run out (a date outside its `valid` range) is
 *     never guessed past: sched.calendar.exhausted (error) is logged once
 *     and the job does not run until a reload brings a longer calendar.
 *     A date in a `provisional` range is used, with one warning
 *     (sched.calendar.provisional).
 *   - Cut-off: for a bank with `cutoff`, the first time a payment would
 *     be submitted it is judged once (never again on retries): after the
 *     cut-off time of the bank's day, or on a day that is not a business
 *     day of the calendar (without a calendar only the time of day
 *     counts), it is held until 00:00 bank time of the next business day
 *     ("hold") or sent now and flagged ("flag").  When the calendar cannot
 *     tell (it has run out), "hold" leaves the payment to a person.
 *
 * The decisions are pure functions (the first part below), table-tested
 * without a loop; the second part runs them on the daemon's loop.
 *
 * Ownership: the pure functions borrow their arguments.  The daemon's
 * scheduler (struct sched) belongs to struct h2hd; sched_prepare builds
 * one for a configuration, sched_commit puts it in force (taking over the
 * runs in progress of the one it replaces), sched_free releases it.
 *
 * Threads: the loop thread only (the pure functions: any thread).
 */
#ifndef H2H_SCHEDULER_H
#define H2H_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "calendar.h"
#include "config.h"
#include "cron.h"
#include "h2h_err.h"
#include "tz.h"

/* ---- decisions ---------------------------------------------------------- */

/* The next scheduled time of c strictly after `after`, in zone z, on a
 * business day of cal (NULL: any day).  0, or H2H_ENOTFOUND when the
 * calendar has run out (err says which date), other cron_next errors. */
int sched_next_slot(const struct cron *c, const struct tz *z,
                    const struct cal *cal, time_t after, time_t *slot,
                    struct h2h_err *err);

/* When a run scheduled for `slot` fires, in unix ms: slot plus a random
 * delay of 0 to jitter_s seconds (whole milliseconds) from *rng
 * (backoff_rand); rng NULL or jitter_s <= 0: the slot itself. */
int64_t sched_fire_ms(time_t slot, int64_t jitter_s, uint64_t *rng);

/* What the store remembers of a job (store_job_get). */
struct sched_last {
    int known;      /* the job has a row: it ran or was baselined */
    time_t sched;   /* its last scheduled time run (or the baseline) */
    int unfinished; /* the last run started and never ended */
};

enum sched_catchup {
    SCHED_UP_TO_DATE = 0, /* nothing missed */
    SCHED_BASELINE = 1,   /* never seen: record now, run nothing */
    SCHED_CATCH_UP = 2,   /* run once now for *missed */
    SCHED_MISSED = 3,     /* catch_up off: skip; *missed the latest */
};

/*
 * At start or after a reload: was a scheduled time of c (zone z, business
 * days of cal when not NULL) missed in (last->sched, now]?  An unfinished
 * last run counts its own time as missed.  *missed receives the latest
 * missed time.  An enum sched_catchup (>= 0), or a negative error
 * (H2H_ENOTFOUND: the calendar ran out).
 */
int sched_catchup(const struct cron *c, const struct tz *z,
                  const struct cal *cal, int catch_up,
                  const struct sched_last *last, time_t now, time_t *missed,
                  struct h2h_err *err);

/*
 * The bank day ("YYYY-MM-DD") a run scheduled at slot asks for: for
 * H2H_POLL_STATEMENTS the business day before the slot's date in zone z
 * (cal NULL: the day before), for H2H_POLL_INTRADAY the slot's date, for
 * other kinds none ("": the adapter's default range).  0, or
 * H2H_ENOTFOUND when the calendar has run out.
 */
int sched_job_date(unsigned what, const struct tz *z, const struct cal *cal,
                   time_t slot, char date[11], struct h2h_err *err);

enum sched_cutoff {
    SCHED_IN_TIME = 0,          /* before the cut-off of a business day */
    SCHED_AFTER_CUTOFF = 1,     /* at or after the cut-off time */
    SCHED_NOT_BUSINESS_DAY = 2, /* the calendar says the day is off */
};

/*
 * Is a payment submitted at `now` in time for a cut-off at cutoff_min
 * minutes after midnight, bank time (zone z)?  With a calendar, a day that
 * is not a business day is late all day; without one only the time of day
 * counts.  When late, *until is 00:00 bank time of the next business day
 * (the next day without a calendar; if midnight does not exist there, the
 * first instant after the gap).  An enum sched_cutoff (>= 0), or
 * H2H_ENOTFOUND when the calendar does not cover today or has no next
 * business day.
 */
int sched_cutoff_check(const struct tz *z, const struct cal *cal,
                       int cutoff_min, time_t now, time_t *until,
                       struct h2h_err *err);

/* t as ISO 8601 with z's offset: "2026-02-24T07:30:00+08:00"; "" when t
 * is out of range.  n >= 32. */
void sched_iso_local(const struct tz *z, time_t t, char *buf, size_t n);

/* ---- the daemon's scheduler ---------------------------------------------- */

struct h2hd;
struct bank_rt;
struct sched;

/* 1 when the bank's schedule has fetch jobs (any kind but reconcile):
 * then jobs replace its poll_interval rounds. */
int sched_has_jobs(const struct cfg_bank *cb);

/* Load the zones, calendars and cron expressions of every bank schedule
 * in cfg.  0, or an error (a file changed since the config was checked,
 * out of memory); nothing is running yet. */
int sched_prepare(const struct cfg *cfg, struct sched **out,
                  struct h2h_err *err);

/* Put s in force for d (after d's banks were (re)created): runs in
 * progress of the scheduler it replaces are taken over, missed runs are
 * caught up (see the top), next runs are armed on d->sched_timer.  The
 * old scheduler is freed.  Problems with single jobs are logged, never
 * returned. */
void sched_commit(struct h2hd *d, struct sched *s);

/* Free (NULL ok); the timer is d's and closed by the daemon. */
void sched_free(struct sched *s);

/* Engine hooks: bank b's poll round for `what` started; it ended (ok, or
 * error says why). */
void sched_poll_started(struct bank_rt *b, unsigned what);
void sched_poll_done(struct bank_rt *b, unsigned what, int ok,
                     const char *error);

/* The cut-off verdict for a payment to bank `bank` now. */
enum sched_action {
    SCHED_SEND = 0,        /* no cut-off, or in time */
    SCHED_HOLD = 1,        /* late: due again at until */
    SCHED_FLAG = 2,        /* late: sent now, flagged */
    SCHED_HOLD_PERSON = 3, /* the calendar ran out: a person decides */
};
struct sched_verdict {
    enum sched_action action;
    time_t until;       /* SCHED_HOLD */
    char until_iso[40]; /* until in the bank's zone */
    char why[256];      /* "after the cut-off 16:30 (Asia/Shanghai)" */
};
/* 1 when the bank has a cut-off (payments are judged), else 0. */
int sched_has_cutoff(struct h2hd *d, const char *bank);
/* Judge a payment to `bank` submitted at now.  Logs the calendar's
 * problems (exhausted, provisional) once per bank; the caller logs the
 * verdict for the payment. */
void sched_payment_cutoff(struct h2hd *d, const char *bank, time_t now,
                          struct sched_verdict *v);

/* One job, for h2hctl jobs.  Times are ISO in the bank's zone, "" none. */
struct sched_job_info {
    const char *bank, *kind, *cron, *zone, *calendar; /* calendar "" */
    int business_days;
    const char *state; /* "idle", "queued", "running" */
    char next[40];     /* next run (with jitter); "" none */
    char last_start[40], last_end[40];
    const char *result;  /* "ok", "failed", "" */
    const char *error;   /* "" */
    int64_t duration_ms; /* last finished run, -1 none */
    int exhausted;       /* stopped: the calendar ran out */
};
typedef int (*sched_job_cb)(void *ctx, const struct sched_job_info *j);
/* Every job (of bank only, when not NULL), in configuration order.  0, a
 * non-zero callback value, or a store error. */
int sched_list(struct h2hd *d, const char *bank, sched_job_cb cb, void *ctx,
               struct h2h_err *err);

#endif
