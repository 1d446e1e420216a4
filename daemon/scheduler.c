/*
 * scheduler.c - see scheduler.h.
 *
 * One timer for all banks (d->sched_timer), armed at the earliest run
 * that is due, and never for more than REARM_MAX_MS: the schedule is kept
 * in wall-clock time (unix seconds), libuv's timers in the loop's
 * monotonic time, so a clock that is set forwards or backwards is noticed
 * within a minute.  Each job keeps its next regular time (slot), when it
 * fires (slot + jitter), an optional run to do now (catch-up), and the
 * run in progress: which bank_rt carries it (after a reload the retired
 * one may still be finishing it) and whether it runs or waits behind
 * another round of that bank.
 */
#include "scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "backoff.h"
#include "h2hd.h"
#include "log.h"
#include "reconrun.h"
#include "store.h"

/* The longest the timer sleeps (see the top). */
#define REARM_MAX_MS 60000
/* Steps when walking to the latest missed time: a bound, not a limit
 * any real schedule reaches (sched_catchup looks back in windows). */
#define WALK_MAX 1000000

/* ---- decisions ----------------------------------------------------------- */

int sched_next_slot(const struct cron *c, const struct tz *z,
                    const struct cal *cal, time_t after, time_t *slot,
                    struct h2h_err *err)
{
    return cron_next_business(c, z, cal, after, slot, err);
}

int64_t sched_fire_ms(time_t slot, int64_t jitter_s, uint64_t *rng)
{
    int64_t ms = (int64_t)slot * 1000;
    if (rng && jitter_s > 0)
        ms += (int64_t)(backoff_rand(rng) % (uint64_t)(jitter_s * 1000 + 1));
    return ms;
}

/* The next slot after `after`, where a calendar that runs out only after
 * now's date is no error: the slot it cannot place lies after now anyway
 * (*slot is then now + 1).  The caller walks up to now. */
static int slot_upto(const struct cron *c, const struct tz *z,
                     const struct cal *cal, time_t after, time_t now,
                     time_t *slot, struct h2h_err *err)
{
    int rc = sched_next_slot(c, z, cal, after, slot, err);
    if (rc != H2H_ENOTFOUND || !cal)
        return rc;
    int64_t first, last, day_now, day_after;
    cal_valid_range(cal, &first, &last);
    if (tz_local_day(z, now, &day_now) == 0 &&
        tz_local_day(z, after, &day_after) == 0 && day_after >= first &&
        day_now <= last) {
        h2h_err_clear(err);
        *slot = now + 1;
        return 0;
    }
    return rc;
}

int sched_catchup(const struct cron *c, const struct tz *z,
                  const struct cal *cal, int catch_up,
                  const struct sched_last *last, time_t now, time_t *missed,
                  struct h2h_err *err)
{
    static const int64_t windows[] = {60, 3600, 86400, 32 * 86400, 400 * 86400};
    *missed = 0;
    if (!last || !last->known)
        return SCHED_BASELINE;
    /* A run that never finished did not happen: its own time is missed. */
    time_t from = last->unfinished ? last->sched - 1 : last->sched;
    time_t t, x;
    int rc = slot_upto(c, z, cal, from, now, &t, err);
    if (rc < 0)
        return rc;
    if (t > now)
        return SCHED_UP_TO_DATE;
    /* The latest missed time: look back from now in growing windows, so
     * that a job every second after a month down walks a minute of runs,
     * not a month of them. */
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        time_t a = now - (time_t)windows[i];
        if (a <= t)
            break;
        if ((rc = slot_upto(c, z, cal, a, now, &x, err)) < 0)
            return rc;
        if (x <= now) {
            t = x;
            break;
        }
    }
    for (long n = 0; n < WALK_MAX; n++) {
        if ((rc = slot_upto(c, z, cal, t, now, &x, err)) < 0)
            return rc;
        if (x > now)
            break;
        t = x;
    }
    *missed = t;
    return catch_up ? SCHED_CATCH_UP : SCHED_MISSED;
}


int sched_job_date(unsigned what, const struct tz *z, const struct cal *cal,
                   time_t slot, char date[11], struct h2h_err *err)
{
    int64_t day;
    date[0] = '\0';
    if (!(what & (H2H_POLL_STATEMENTS | H2H_POLL_INTRADAY)))
        return 0;
    int rc = tz_local_day(z, slot, &day);
    if (rc < 0)
        return h2h_err_set(err, rc, "scheduled time out of range");
    /* End of day: the statement of the last completed (business) day. */
    if (what & H2H_POLL_STATEMENTS) {
        if (!cal)
            day--;
        else if ((rc = cal_prev_business_day(cal, day, &day, err)) < 0)
            return rc;
    }
    tz_day_text(day, date);
    return 0;
}

/* The first instant of civil day `day` in z (after the gap, if midnight
 * is skipped there). */
static int day_start(const struct tz *z, int64_t day, time_t *out)
{
    int y, m, d;
    tz_civil_from_days(day, &y, &m, &d);
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    struct tz_local loc;
    int rc = tz_resolve_local(z, &tm, &loc);
    if (rc < 0)
        return rc;
    *out = loc.kind == TZ_LOCAL_GAP ? loc.after_gap : loc.first;
    return 0;
}

int sched_cutoff_check(const struct tz *z, const struct cal *cal,
                       int cutoff_min, time_t now, time_t *until,
                       struct h2h_err *err)
{
    struct tm lt;
    int rc = tz_to_local(z, now, &lt);
    if (rc < 0)
        return h2h_err_set(err, rc, "time out of range");
    int64_t day =
        tz_days_from_civil(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
    int verdict = SCHED_IN_TIME;
    if (cal) {
        int b = cal_is_business_day_n(cal, day);
        if (b < 0) {
            char d[11];
            tz_day_text(day, d);
            return h2h_err_set(err, H2H_ENOTFOUND,
                               "calendar %s cannot tell whether %s is a "
                               "business day (outside its valid range)",
                               cal_name(cal), d);
        }
        if (b == 0)
            verdict = SCHED_NOT_BUSINESS_DAY;
    }
    int sec = lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec;
    if (verdict == SCHED_IN_TIME && sec >= cutoff_min * 60)
        verdict = SCHED_AFTER_CUTOFF;
    if (verdict == SCHED_IN_TIME)
        return verdict;
    int64_t next = day + 1;
    if (cal && (rc = cal_next_business_day(cal, day, &next, err)) < 0)
        return rc;
    if ((rc = day_start(z, next, until)) < 0)
        return h2h_err_set(err, rc, "next business day out of range");
    return verdict;
}

void sched_iso_local(const struct tz *z, time_t t, char *buf, size_t n)
{
    struct tm tm;
    if (n == 0)
        return;
    buf[0] = '\0';
    if (tz_to_local(z, t, &tm) != 0)
        return;
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, sign, off / 3600, off % 3600 / 60);
}

/* ---- the daemon's scheduler ---------------------------------------------- */

enum run { RUN_IDLE = 0, RUN_QUEUED = 1, RUN_ACTIVE = 2 };
static const char *const run_names[] = {"idle", "queued", "running"};

struct sbank;

struct sjob {
    struct sbank *sb;
    char kind[16];
    unsigned what;
    char *cron_text;
    struct cron *cron;
    int business_days;
    time_t slot;     /* next regular time; -1: none (stopped) */
    int64_t fire_ms; /* slot plus jitter */
    time_t pending;  /* > 0: run now for this time */
    /* the run in progress */
    enum run run;
    struct bank_rt *carrier;
    time_t run_slot;
    int64_t run_started_ms;
    int exhausted_logged, provisional_logged;
};

struct sbank {
    char name[CFG_NAME_MAX + 1];
    char *zone_name, *cal_path; /* cal_path NULL: none */
    struct tz *tz;
    struct cal *cal;
    int64_t jitter_s;
    int catch_up;
    int cutoff_min; /* -1: none */
    char cutoff[8];
    int flag; /* after_cutoff = "flag" */
    struct sjob *jobs;
    size_t n_jobs;
    int cut_exhausted_logged, cut_provisional_logged;
};

struct sched {
    struct sbank *banks;
    size_t n_banks;
};

int sched_has_jobs(const struct cfg_bank *cb)
{
    if (!cb || !cb->schedule)
        return 0;
    for (size_t k = 0; k < cb->schedule->n_jobs; k++)
        if (strcmp(cb->schedule->jobs[k].kind, "reconcile") != 0)
            return 1;
    return 0;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_banks; i++) {
        struct sbank *sb = &s->banks[i];
        for (size_t k = 0; k < sb->n_jobs; k++) {
            cron_free(sb->jobs[k].cron);
            free(sb->jobs[k].cron_text);
        }
        free(sb->jobs);
        tz_free(sb->tz);
        cal_free(sb->cal);
        free(sb->zone_name);
        free(sb->cal_path);
    }
    free(s->banks);
    free(s);
}

static int prepare_bank(const struct cfg_bank *cb, struct sbank *sb,
                        struct h2h_err *err)
{
    const struct cfg_schedule *sc = cb->schedule;
    int rc;
    snprintf(sb->name, sizeof(sb->name), "%s", cb->name);
    sb->jitter_s = sc->jitter_s;
    sb->catch_up = sc->catch_up;
    sb->cutoff_min = sc->cutoff ? sc->cutoff_min : -1;
    snprintf(sb->cutoff, sizeof(sb->cutoff), "%s",
             sc->cutoff ? sc->cutoff : "");
    sb->flag = sc->after_cutoff && strcmp(sc->after_cutoff, "flag") == 0;
    if (!(sb->zone_name = strdup(sc->timezone ? sc->timezone : "UTC")) ||
        (sc->calendar && !(sb->cal_path = strdup(sc->calendar))))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if ((rc = tz_load(sb->zone_name, &sb->tz, err)) < 0 ||
        (sb->cal_path && (rc = cal_load(sb->cal_path, &sb->cal, err)) < 0))
        return h2h_err_prefix(err, "bank %s schedule", cb->name);
    if (sc->n_jobs && !(sb->jobs = calloc(sc->n_jobs, sizeof(*sb->jobs))))
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    for (size_t k = 0; k < sc->n_jobs; k++) {
        const struct cfg_job *cj = &sc->jobs[k];
        struct sjob *j = &sb->jobs[sb->n_jobs++];
        j->sb = sb;
        j->slot = -1;
        j->business_days = cj->business_days;
        snprintf(j->kind, sizeof(j->kind), "%s", cj->kind);
        j->what = h2h_poll_kind(cj->kind);
        if (!(j->cron_text = strdup(cj->cron)))
            return h2h_err_set(err, H2H_ENOMEM, "out of memory");
        if ((rc = cron_parse(cj->cron, &j->cron, err)) < 0)
            return h2h_err_prefix(err, "bank %s job %s", cb->name, j->kind);
    }
    return 0;
}

int sched_prepare(const struct cfg *cfg, struct sched **out,
                  struct h2h_err *err)
{
    *out = NULL;
    struct sched *s = calloc(1, sizeof(*s));
    if (!s || (cfg->n_banks &&
               !(s->banks = calloc(cfg->n_banks, sizeof(*s->banks))))) {
        free(s);
        return h2h_err_set(err, H2H_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < cfg->n_banks; i++) {
        const struct cfg_bank *cb = &cfg->banks[i];
        if (!cb->schedule)
            continue;
        int rc = prepare_bank(cb, &s->banks[s->n_banks++], err);
        if (rc < 0) {
            sched_free(s);
            return rc;
        }
    }
    /* Jobs point at their bank: the array does not move from here on. */
    *out = s;
    return 0;
}

static struct sbank *find_bank(struct sched *s, const char *name)
{
    for (size_t i = 0; s && i < s->n_banks; i++)
        if (strcmp(s->banks[i].name, name) == 0)
            return &s->banks[i];
    return NULL;
}

static struct sjob *find_job(struct sched *s, const char *bank,
                             const char *kind)
{
    struct sbank *sb = find_bank(s, bank);
    for (size_t k = 0; sb && k < sb->n_jobs; k++)
        if (strcmp(sb->jobs[k].kind, kind) == 0)
            return &sb->jobs[k];
    return NULL;
}

/* The calendar that filters a job's times. */
static const struct cal *slot_cal(const struct sjob *j)
{
    return j->business_days ? j->sb->cal : NULL;
}

static void iso(const struct sjob *j, time_t t, char buf[40])
{
    sched_iso_local(j->sb->tz, t, buf, 40);
}

static void log_exhausted(struct sjob *j, const char *why)
{
    if (j->exhausted_logged)
        return;
    j->exhausted_logged = 1;
    h2h_log(H2H_LOG_ERROR, "sched.calendar.exhausted", "bank", j->sb->name,
            "kind", j->kind, "calendar", j->sb->cal ? cal_name(j->sb->cal) : "",
            "error", why, "next",
            "the job does not run until a reload brings a calendar that "
            "covers its dates",
            NULL);
}

static void warn_provisional(struct sjob *j, time_t t, int use_day, int64_t day)
{
    const char *note = NULL;
    if (j->provisional_logged || !j->sb->cal)
        return;
    if (!use_day && tz_local_day(j->sb->tz, t, &day) < 0)
        return;
    if (cal_provisional(j->sb->cal, day, &note) != 1)
        return;
    char d[11];
    tz_day_text(day, d);
    j->provisional_logged = 1;
    h2h_log(H2H_LOG_WARN, "sched.calendar.provisional", "bank", j->sb->name,
            "kind", j->kind, "calendar", cal_name(j->sb->cal), "date", d,
            "note", note ? note : "", NULL);
}

/* The job's next regular time strictly after `after`. */
static void plan_next(struct h2hd *d, struct sjob *j, time_t after)
{
    struct h2h_err err = {0};
    time_t slot;
    int rc =
        sched_next_slot(j->cron, j->sb->tz, slot_cal(j), after, &slot, &err);
    if (rc < 0) {
        j->slot = -1;
        if (rc == H2H_ENOTFOUND && slot_cal(j))
            log_exhausted(j, err.msg);
        else
            h2h_log(H2H_LOG_ERROR, "sched.job.stopped", "bank", j->sb->name,
                    "kind", j->kind, "error", err.msg, NULL);
        return;
    }
    j->slot = slot;
    j->fire_ms = sched_fire_ms(slot, j->sb->jitter_s, &d->rng);
    if (slot_cal(j))
        warn_provisional(j, slot, 0, 0);
}

/* At start or after a reload: catch up what was missed (scheduler.h). */
static void check_missed(struct h2hd *d, struct sjob *j, time_t now)
{
    struct store_job row;
    struct h2h_err err = {0};
    char when[40];
    int rc = store_job_get(d->store, j->sb->name, j->kind, &row, &err);
    if (rc < 0 && rc != H2H_ENOTFOUND) {
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
        return;
    }
    h2h_err_clear(&err);
    struct sched_last last = {
        .known = rc == 0,
        .sched = (time_t)(row.sched_ms / 1000),
        .unfinished = row.started_ms > 0 && row.ended_ms < row.started_ms,
    };
    time_t missed;
    rc = sched_catchup(j->cron, j->sb->tz, slot_cal(j), j->sb->catch_up, &last,
                       now, &missed, &err);
    if (rc < 0) {
        if (rc == H2H_ENOTFOUND && slot_cal(j))
            log_exhausted(j, err.msg);
        else
            h2h_log(H2H_LOG_ERROR, "sched.job.stopped", "bank", j->sb->name,
                    "kind", j->kind, "error", err.msg, NULL);
        return;
    }
    switch ((enum sched_catchup)rc) {
    case SCHED_UP_TO_DATE: break;
    case SCHED_BASELINE:
        /* First sight: what happened before it was configured is not
         * missed. */
        if (store_job_mark(d->store, j->sb->name, j->kind, (int64_t)now * 1000,
                           &err) < 0)
            h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
        break;
    case SCHED_CATCH_UP:
        iso(j, missed, when);
        h2h_log(H2H_LOG_INFO, "sched.job.catchup", "bank", j->sb->name, "kind",
                j->kind, "missed", when, NULL);
        j->pending = missed;
        break;
    case SCHED_MISSED:
        iso(j, missed, when);
        h2h_log(H2H_LOG_WARN, "sched.job.missed", "bank", j->sb->name, "kind",
                j->kind, "missed", when, "next", "skipped (catch_up = false)",
                NULL);
        if (store_job_mark(d->store, j->sb->name, j->kind,
                           (int64_t)missed * 1000, &err) < 0)
            h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
        break;
    }
}

/* Did the job keep the rule it had?  Then its next time stands. */
static int same_rule(const struct sjob *a, const struct sjob *b)
{
    const struct sbank *x = a->sb, *y = b->sb;
    return strcmp(a->cron_text, b->cron_text) == 0 &&
           a->business_days == b->business_days &&
           strcmp(x->zone_name, y->zone_name) == 0 &&
           (x->cal_path ? y->cal_path && strcmp(x->cal_path, y->cal_path) == 0
                        : !y->cal_path) &&
           x->jitter_s == y->jitter_s;
}

static void timer_cb(uv_timer_t *t);

static void rearm(struct h2hd *d)
{
    struct sched *s = d->sched;
    int64_t now = h2hd_now_ms(), next = INT64_MAX;
    for (size_t i = 0; s && i < s->n_banks; i++)
        for (size_t k = 0; k < s->banks[i].n_jobs; k++) {
            const struct sjob *j = &s->banks[i].jobs[k];
            if (j->pending)
                next = now;
            else if (j->slot >= 0 && j->fire_ms < next)
                next = j->fire_ms;
        }
    if (next == INT64_MAX || d->stopping) {
        uv_timer_stop(&d->sched_timer);
        return;
    }
    int64_t delay = next - now;
    if (delay < 0)
        delay = 0;
    if (delay > REARM_MAX_MS)
        delay = REARM_MAX_MS;
    uv_timer_start(&d->sched_timer, timer_cb, (uint64_t)delay, 0);
}

void sched_commit(struct h2hd *d, struct sched *s)
{
    struct sched *old = d->sched;
    time_t now = (time_t)(h2hd_now_ms() / 1000);
    for (size_t i = 0; i < s->n_banks; i++) {
        struct sbank *sb = &s->banks[i];
        struct sbank *ob = find_bank(old, sb->name);
        if (ob) {
            sb->cut_exhausted_logged = ob->cut_exhausted_logged;
            sb->cut_provisional_logged = ob->cut_provisional_logged;
        }
        for (size_t k = 0; k < sb->n_jobs; k++) {
            struct sjob *j = &sb->jobs[k];
            struct sjob *o = find_job(old, sb->name, j->kind);
            int kept = 0;
            if (o) {
                j->run = o->run;
                j->carrier = o->carrier;
                j->run_slot = o->run_slot;
                j->run_started_ms = o->run_started_ms;
                if (same_rule(o, j)) {
                    kept = 1;
                    j->slot = o->slot;
                    j->fire_ms = o->fire_ms;
                    j->pending = o->pending;
                    j->exhausted_logged = o->exhausted_logged;
                    j->provisional_logged = o->provisional_logged;
                }
                /* It waited behind a round of the retired bank, whose
                 * queue went with it: run it on the new one now. */
                if (j->run == RUN_QUEUED) {
                    j->run = RUN_IDLE;
                    j->carrier = NULL;
                    j->pending = j->run_slot;
                }
            }
            if (kept)
                continue;
            if (j->run == RUN_IDLE && !j->pending)
                check_missed(d, j, now);
            plan_next(d, j, now);
        }
    }
    d->sched = s;
    sched_free(old);
    rearm(d);
}

static void finish(struct h2hd *d, struct sjob *j, int ok, const char *error)
{
    struct h2h_err err = {0};
    char when[40], dur[24];
    int64_t now = h2hd_now_ms();
    if (d->store &&
        store_job_finished(d->store, j->sb->name, j->kind, now,
                           ok ? "ok" : "failed", ok ? NULL : error, &err) < 0)
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", err.msg, NULL);
    iso(j, j->run_slot, when);
    snprintf(dur, sizeof(dur), "%lld", (long long)(now - j->run_started_ms));
    h2h_log(ok ? H2H_LOG_INFO : H2H_LOG_WARN, "sched.job.done", "bank",
            j->sb->name, "kind", j->kind, "result", ok ? "ok" : "failed",
            "duration_ms", dur, "scheduled", when, "error",
            ok ? NULL : (error && *error ? error : "unknown"), NULL);
    j->run = RUN_IDLE;
    j->carrier = NULL;
}

/* A scheduled reconciliation run ended: the job it belongs to (looked up
 * again, a reload may have replaced the scheduler meanwhile) is done. */
static void recon_done(void *ctx, const char *id, int ok, const char *error)
{
    struct h2hd *d = ctx;
    (void)id;
    struct sched *s = d->sched;
    for (size_t i = 0; s && i < s->n_banks; i++)
        for (size_t k = 0; k < s->banks[i].n_jobs; k++) {
            struct sjob *j = &s->banks[i].jobs[k];
            if (j->run == RUN_ACTIVE && strcmp(j->kind, "reconcile") == 0 &&
                j->carrier == NULL)
                finish(d, j, ok, error);
        }
}

/* A reconcile job: one run for the bank, over its channel's default days
 * up to today. */
static int fire_reconcile(struct h2hd *d, struct sjob *j, struct h2h_err *err)
{
    char id[STORE_ID_MAX];
    struct rrun_params p = {.bank = j->sb->name, .trigger = "schedule"};
    int rc = rrun_start(d, &p, recon_done, d, id, err);
    if (rc == 0)
        j->run = RUN_ACTIVE;
    return rc;
}

/* One run of job j for scheduled time slot. */
static void fire(struct h2hd *d, struct sjob *j, time_t slot)
{
    struct sbank *sb = j->sb;
    struct h2h_err err = {0};
    char when[40], since[40], date[11];
    struct bank_rt *b = h2hd_bank(d, sb->name);
    if (!b)
        return;
    iso(j, slot, when);
    if (j->run != RUN_IDLE) {
        /* never two runs of one job: this time is left out */
        iso(j, (time_t)(j->run_started_ms / 1000), since);
        h2h_log(H2H_LOG_WARN, "sched.job.skipped", "bank", sb->name, "kind",
                j->kind, "scheduled", when, "running_since", since, "reason",
                j->run == RUN_QUEUED ? "the previous run still waits for the "
                                       "bank's round before it"
                                     : "the previous run is still running",
                NULL);
        return;
    }
    int rc = sched_job_date(j->what, sb->tz, sb->cal, slot, date, &err);
    if (rc < 0) {
        log_exhausted(j, err.msg);
        return;
    }
    if (date[0]) {
        int64_t day =
            tz_days_from_civil(atoi(date), atoi(date + 5), atoi(date + 8));
        warn_provisional(j, 0, 1, day);
    }
    int64_t now = h2hd_now_ms();
    j->run_slot = slot;
    j->run_started_ms = now;
    int recon = strcmp(j->kind, "reconcile") == 0;
    rc = recon ? fire_reconcile(d, j, &err)
               : engine_poll(b, j->what, date[0] ? date : NULL, &err);
    struct h2h_err e2 = {0};
    if (store_job_started(d->store, sb->name, j->kind, (int64_t)slot * 1000,
                          now, &e2) < 0)
        h2h_log(H2H_LOG_ERROR, "store.failed", "error", e2.msg, NULL);
    if (rc < 0) {
        /* nothing started: the run ends here with the reason */
        finish(d, j, 0, err.msg);
        return;
    }
    if (recon) {
        /* ends by recon_done, not by the bank's poll rounds */
        j->carrier = NULL;
        return;
    }
    j->run = rc == 0 ? RUN_ACTIVE : RUN_QUEUED;
    j->carrier = b;
    h2h_log(H2H_LOG_DEBUG, "sched.job.started", "bank", sb->name, "kind",
            j->kind, "scheduled", when, "date", date[0] ? date : NULL, "queued",
            rc == 1 ? "yes" : "no", NULL);
}

static void timer_cb(uv_timer_t *t)
{
    struct h2hd *d = t->data;
    struct sched *s = d->sched;
    if (d->stopping || !s)
        return;
    int64_t now = h2hd_now_ms();
    for (size_t i = 0; i < s->n_banks; i++)
        for (size_t k = 0; k < s->banks[i].n_jobs; k++) {
            struct sjob *j = &s->banks[i].jobs[k];
            if (j->pending) {
                time_t slot = j->pending;
                j->pending = 0;
                fire(d, j, slot);
            }
            if (j->slot >= 0 && j->fire_ms <= now) {
                time_t slot = j->slot;
                fire(d, j, slot);
                /* times that passed meanwhile (a blocked loop, a clock
                 * set forwards) are not run one after another */
                time_t now_s = (time_t)(now / 1000);
                plan_next(d, j, slot > now_s ? slot : now_s);
            }
        }
    rearm(d);
}

void sched_poll_started(struct bank_rt *b, unsigned what)
{
    struct sched *s = b->d->sched;
    for (size_t i = 0; s && i < s->n_banks; i++)
        for (size_t k = 0; k < s->banks[i].n_jobs; k++) {
            struct sjob *j = &s->banks[i].jobs[k];
            if (j->carrier == b && j->run == RUN_QUEUED && (what & j->what))
                j->run = RUN_ACTIVE;
        }
}

void sched_poll_done(struct bank_rt *b, unsigned what, int ok,
                     const char *error)
{
    struct h2hd *d = b->d;
    struct sched *s = d->sched;
    for (size_t i = 0; s && i < s->n_banks; i++)
        for (size_t k = 0; k < s->banks[i].n_jobs; k++) {
            struct sjob *j = &s->banks[i].jobs[k];
            if (j->carrier == b && j->run == RUN_ACTIVE && (what & j->what))
                finish(d, j, ok, error);
        }
}

int sched_has_cutoff(struct h2hd *d, const char *bank)
{
    const struct sbank *sb = bank ? find_bank(d->sched, bank) : NULL;
    return sb && sb->cutoff_min >= 0;
}

void sched_payment_cutoff(struct h2hd *d, const char *bank, time_t now,
                          struct sched_verdict *v)
{
    struct h2h_err err = {0};
    struct sbank *sb = bank ? find_bank(d->sched, bank) : NULL;
    memset(v, 0, sizeof(*v));
    v->action = SCHED_SEND;
    if (!sb || sb->cutoff_min < 0)
        return;
    time_t until = 0;
    int rc =
        sched_cutoff_check(sb->tz, sb->cal, sb->cutoff_min, now, &until, &err);
    if (rc < 0) {
        /* no guessing: a person decides, or (flag) it goes flagged */
        if (!sb->cut_exhausted_logged) {
            sb->cut_exhausted_logged = 1;
            h2h_log(H2H_LOG_ERROR, "sched.calendar.exhausted", "bank", sb->name,
                    "kind", "cutoff", "calendar",
                    sb->cal ? cal_name(sb->cal) : "", "error", err.msg, "next",
                    sb->flag ? "payments are sent and flagged"
                             : "payments are held for a person",
                    NULL);
        }
        snprintf(v->why, sizeof(v->why), "%.200s", err.msg);
        v->action = sb->flag ? SCHED_FLAG : SCHED_HOLD_PERSON;
        return;
    }
    if (sb->cal && !sb->cut_provisional_logged) {
        int64_t day;
        const char *note = NULL;
        if (tz_local_day(sb->tz, now, &day) == 0 &&
            cal_provisional(sb->cal, day, &note) == 1) {
            char dd[11];
            tz_day_text(day, dd);
            sb->cut_provisional_logged = 1;
            h2h_log(H2H_LOG_WARN, "sched.calendar.provisional", "bank",
                    sb->name, "kind", "cutoff", "calendar", cal_name(sb->cal),
                    "date", dd, "note", note ? note : "", NULL);
        }
    }
    if (rc == SCHED_IN_TIME)
        return;
    if (rc == SCHED_AFTER_CUTOFF) {
        snprintf(v->why, sizeof(v->why), "after the cut-off %s (%s)",
                 sb->cutoff, sb->zone_name);
    } else {
        char dd[11];
        int64_t day = 0;
        tz_local_day(sb->tz, now, &day);
        tz_day_text(day, dd);
        snprintf(v->why, sizeof(v->why), "%s is not a business day (%s)", dd,
                 cal_name(sb->cal));
    }
    v->action = sb->flag ? SCHED_FLAG : SCHED_HOLD;
    v->until = until;
    sched_iso_local(sb->tz, until, v->until_iso, sizeof(v->until_iso));
}

int sched_list(struct h2hd *d, const char *bank, sched_job_cb cb, void *ctx,
               struct h2h_err *err)
{
    struct sched *s = d->sched;
    for (size_t i = 0; s && i < s->n_banks; i++) {
        struct sbank *sb = &s->banks[i];
        if (bank && strcmp(bank, sb->name) != 0)
            continue;
        for (size_t k = 0; k < sb->n_jobs; k++) {
            struct sjob *j = &sb->jobs[k];
            struct store_job row;
            int rc = store_job_get(d->store, sb->name, j->kind, &row, err);
            if (rc < 0 && rc != H2H_ENOTFOUND)
                return rc;
            h2h_err_clear(err);
            struct sched_job_info in = {
                .bank = sb->name,
                .kind = j->kind,
                .cron = j->cron_text,
                .zone = sb->zone_name,
                .calendar = sb->cal ? cal_name(sb->cal) : "",
                .business_days = j->business_days,
                .state = run_names[j->run],
                .result = row.result,
                .error = row.error,
                .duration_ms = -1,
                .exhausted = j->slot < 0 && !j->pending,
            };
            if (j->pending)
                iso(j, (time_t)(h2hd_now_ms() / 1000), in.next);
            else if (j->slot >= 0)
                iso(j, (time_t)(j->fire_ms / 1000), in.next);
            if (row.started_ms > 0)
                iso(j, (time_t)(row.started_ms / 1000), in.last_start);
            if (row.ended_ms >= row.started_ms && row.ended_ms > 0) {
                iso(j, (time_t)(row.ended_ms / 1000), in.last_end);
                in.duration_ms = row.ended_ms - row.started_ms;
            }
            if ((rc = cb(ctx, &in)) != 0)
                return rc;
        }
    }
    return 0;
}
