/*
 * config.h - h2hd's configuration: load, validate, look up.
 *
 * The file is libconfig syntax with three top-level sections: `daemon`
 * (a group), `banks` and `channels` (lists of groups); etc/h2hd.conf.sample
 * explains every option.  Each section is described by one table in
 * config.c (name, type, default, bounds, reloadable) that drives parsing,
 * validation, defaults and the reload check, so an option exists in exactly
 * one place.
 *
 * Lifecycle: cfg_load() builds a complete, validated, immutable struct cfg
 * or nothing.  It validates ALL of the file and collects every problem as
 * "file:line: message" (syntax errors from libconfig included), so an
 * operator fixes a file in one round.  Unknown keys are problems: a typo
 * must never pass silently.  Each bank's adapter validates its own settings
 * through its check_config op.  A reload loads a new struct cfg, asks
 * cfg_reload_check() whether it may replace the running one, and swaps
 * pointers; the old one is cfg_free()d once nothing points into it.
 *
 * Paths: the config file's own path is made absolute against the working
 * directory at load time (reloads work after a detach), and problems name
 * files by that absolute path.  Every relative path is resolved against
 * base_dir, which itself
 * defaults to the directory of the config file (a relative base_dir is
 * relative to that directory).  All paths in struct cfg are absolute and
 * lexically normalised ("log_file" may be "-" for stderr).
 *
 * Ownership: struct cfg owns every string and array in it; cfg_free()
 * releases all.  struct cfg_problems is the caller's: release it with
 * cfg_problems_release() (also after a successful load: it is then empty).
 * Bank `setting` pointers stay valid while the struct cfg lives.
 *
 * Errors: cfg_load returns 0, or H2H_ECONFIG with every problem in probs
 * (H2H_ENOMEM when memory ran out).  cfg_reload_check returns 0 or
 * H2H_ECONFIG.
 *
 * Threads: no shared state; a struct cfg may be read from any thread while
 * nobody frees it.
 */
#ifndef H2H_CONFIG_H
#define H2H_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "h2h_err.h"

/* Names of banks and channels: [A-Za-z0-9_-]{1,CFG_NAME_MAX}. */
#define CFG_NAME_MAX 32
/* At most this many problems are collected; the last one says so. */
#define CFG_PROBLEMS_MAX 200

struct cfg_problems {
    char **v;   /* "file:line: message", each malloc'd */
    size_t n;
};
/* Free every message and reset to empty; accepts NULL. */
void cfg_problems_release(struct cfg_problems *p);

/*
 * Retry policy.  max_attempts 0: no limit by count; max_age_s 0: no limit
 * by age (never both 0 in a loaded config).
 */
struct cfg_retry {
    int64_t initial_ms, max_ms;
    double factor, jitter;
    int max_attempts;
    int64_t max_age_s;
};

/*
 * A bank's schedule (its `schedule` group; daemon/scheduler.h runs it).
 * Every setting has been checked: the zone loads, the calendar loads, each
 * cron expression parses, each kind appears once.
 */
struct cfg_job {
    char *kind;          /* "status", "statements", "intraday", "balance",
                            "bills" (h2h_poll_kind names) */
    char *cron;          /* as written: cron, "every N{s,m,h}", @macro */
    int business_days;   /* runs only on business days of the calendar */
};

struct cfg_schedule {
    char *timezone;      /* IANA name or "+hh:mm"; default: the bank's */
    char *calendar;      /* absolute path, NULL: none */
    int64_t jitter_s;    /* random delay per run, 0..jitter_s seconds */
    int catch_up;        /* run once at start what was missed */
    struct cfg_job *jobs;
    size_t n_jobs;
    char *cutoff;        /* "HH:MM" as written, NULL: no cut-off */
    int cutoff_min;      /* minutes after midnight, bank time; -1: none */
    char *after_cutoff;  /* "hold" or "flag" */
};

struct tz;

struct cfg_bank {
    char *name, *adapter, *timezone;
    /* timezone loaded once with the config (owned; NULL when it could not
     * be: the config is then refused anyway) */
    struct tz *zone;
    int max_sessions;
    int64_t poll_interval_ms;
    struct cfg_retry retry;       /* the daemon's, overridden per field */
    /* Bank-visible file name pattern; tokens {id} {name} {date} {msgid};
     * NULL: not configured (the engine uses "{id}-{name}"). */
    char *name_pattern;
    /* What payments are sent as: "as-received" (the dropped file itself)
     * or a format the daemon renders ("pain.001.001.03", "pain.001.001.09",
     * "mt101", "canonical"); profile: market practice of the rendering
     * ("none", "sepa", "sepa-translit", "cgi"). */
    char *payment_format, *profile;
    /* Charset of the MT940/942 and CSV files the bank sends (iconv name);
     * NULL: UTF-8 (or what a file declares).  XML declares its own. */
    char *charset;
    /* NULL: no `schedule` group (fetching follows poll_interval). */
    struct cfg_schedule *schedule;
    /* The bank's whole group, handed to the adapter's check_config and
     * create; valid while the struct cfg lives. */
    const config_setting_t *setting;
};

struct cfg_route {
    char *account;   /* as written in the file */
    char *bank;
};

/* A channel's reconciliation settings (daemon/reconrun.h): always filled,
 * with defaults when the channel has no `reconcile` group. */
struct cfg_reconcile {
    char *dir;           /* where runs write their reports; default
                            <out>/reconcile */
    char *expected_dir;  /* treasury's open invoices (*.csv, *.xml), NULL:
                            none */
    int window_days;     /* +/- days around execution / due dates */
    int grace_days;      /* days before an unbooked payment is reported */
    int threshold;       /* fuzzy match score needed, 1..100 */
    int days;            /* a run without --from covers this many days */
};

struct cfg_channel {
    char *name, *drop_dir, *out_dir, *rejected_dir;
    char *archive_dir;   /* NULL: drop files are deleted after acceptance */
    char *bank;          /* default bank */
    char *input_format;  /* "passthrough","auto","pain.001","csv","canonical" */
    /* for statements/status delivered to out: "as-received","canonical",
     * "camt.053","mt940","csv" */
    char *output_format;
    char *kind;          /* "payment" */
    char *profile;       /* validation profile: none|sepa|sepa-translit|cgi */
    char *charset;       /* CSV / MT input charset (iconv name); NULL UTF-8 */
    struct cfg_route *routes;
    size_t n_routes;
    int64_t stability_ms;
    struct cfg_reconcile reconcile;
};

struct cfg {
    char *path;          /* the config file, made absolute */
    char *base_dir, *state_dir, *spool_dir, *pid_file, *control_socket,
        *audit_log, *log_file;
    int control_socket_mode;
    int log_level;       /* enum h2h_log_level from daemon/log.h */
    int64_t shutdown_timeout_ms, rescan_interval_ms;
    int batch_max;
    struct cfg_retry retry;
    struct cfg_bank *banks;
    size_t n_banks;
    struct cfg_channel *channels;
    size_t n_channels;
    /* private: the libconfig tree kept alive for the adapters' subtrees,
     * and the config file's folder (where @include names are relative) */
    config_t *priv_lc;
    char *priv_confdir;
};

/* Load and validate path.  On success *out is the new config (caller
 * frees with cfg_free); on failure *out is NULL and probs holds every
 * problem.  probs may be NULL (problems are then only counted away). */
int cfg_load(const char *path, struct cfg **out, struct cfg_problems *probs);
/* Accepts NULL. */
void cfg_free(struct cfg *c);

/* May new replace old without a restart?  Refuses changes to options that
 * are bound at start-up (state_dir, spool_dir, pid_file, control_socket,
 * control_socket_mode), one problem each. */
int cfg_reload_check(const struct cfg *old, const struct cfg *new,
                     struct cfg_problems *probs);

/* Lookups by name; NULL when there is none. */
const struct cfg_bank *cfg_bank_find(const struct cfg *c, const char *name);
const struct cfg_channel *cfg_channel_find(const struct cfg *c,
                                           const char *name);

/* The bank for a debtor account: a route whose account matches (ignoring
 * spaces and case), else ch->bank.  debtor_account may be NULL. */
const char *cfg_route(const struct cfg_channel *ch, const char *debtor_account);

/* The channel a bank's downloads are delivered to (and whose reports a
 * reconciliation of the bank writes): the first whose default bank it is,
 * else the first channel; NULL without channels. */
const struct cfg_channel *cfg_home_channel(const struct cfg *c,
                                           const char *bank);

/*
 * Write DIR/h2hd.conf, the built-in demo set-up used by `h2hd --demo DIR`:
 * one channel "erp" and one dirdrop bank "demo-bank" whose bank folders
 * are DIR/bank/inbox (what we send) and DIR/bank/outbox (what the bank
 * leaves for us).  Creates DIR and those folders.  An existing
 * DIR/h2hd.conf is left as it is (a demo may be restarted after edits).
 * Paths inside the file are relative, so the folder can be moved.
 */
int cfg_demo_write(const char *dir, struct h2h_err *err);

#endif
