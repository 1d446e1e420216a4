/*
 * store.h - the durable state store: the single authority on message state.
 *
 * Purpose: every outgoing message, its lifecycle (state.h) with a full
 * event history, the registry of files downloaded from banks, the
 * business ids seen (for cross-file duplicate checks), the archive of
 * statement files delivered (the ledger), the record of reconciliation
 * runs and h2hd's view of each bank's drafts and pool figures (bill
 * pool), credit vouchers and financing requests live here.  The
 * embedded back end is one SQLite database in WAL mode with
 * synchronous=FULL: when a call that commits returns 0, the change
 * survives a crash or power loss.  Everything goes through store_*, so a
 * PostgreSQL back end can replace it later.
 *
 * Lifecycle: store_open() -> calls -> store_close().  One struct store per
 * daemon.  The file is created with mode 0600 (it holds account data);
 * the schema is created or migrated on open (a version in table meta).
 *
 * Transactions: every mutating call is one transaction of its own and
 * commits (one fsync) before it returns.  To group many changes into one
 * commit (a batch of acceptances), wrap them in store_txn_begin() /
 * store_txn_commit(): calls inside do not commit on their own.  A call
 * that fails inside a group transaction undoes only its own partial work
 * (a savepoint) and leaves the rest of the group intact, so e.g. one
 * H2H_EDUP does not spoil a batch; the caller still decides whether to
 * commit or roll back the group.  Ids handed out inside a group that is
 * rolled back are not handed out again by this process.
 *
 * Ownership: strings passed in are borrowed for the call.  store_get() and
 * store_find_hash() fill a caller-owned struct store_msg whose strings are
 * malloc'd; free them with store_msg_release() (NULL-safe, and safe on a
 * struct those calls left untouched on error because they zero it first).
 * Pointers handed to callbacks are valid only during the callback.
 * Callbacks of store_list() and store_history() may call any store_*
 * function (rows are read completely before the first callback).
 *
 * Errors: 0 or a negative code; struct h2h_err (may be NULL) gets a
 * message.  SQLite failures are H2H_EDB with sqlite3_errmsg() in the
 * message; bad arguments H2H_EINVALID; unknown ids H2H_ENOTFOUND; a
 * refused transition or compare-and-set mismatch H2H_ESTATE; duplicates
 * H2H_EDUP.
 *
 * Threads: all calls are synchronous on the caller's thread (the loop
 * thread in h2hd); a struct store must not be used from two threads.
 * A commit blocks the caller for one fsync; group commits amortise it.
 * Times are unix milliseconds, UTC.
 */
#ifndef H2H_STORE_H
#define H2H_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "h2h_err.h"
#include "state.h"

struct store;

/* Current schema version written by this code. */
#define STORE_SCHEMA_VERSION 6

/* Message ids: "M" + UTC yyyymmdd of acceptance + "-" + a sequence number
 * from a persistent counter, zero-padded to 6 digits (more when it grows):
 * "M20261128-000042".  The counter is never reset, so an id is never
 * reused, not even after the message row is deleted.  Reconciliation runs
 * are numbered the same way with "R" and their own counter "ctr:recon":
 * "R20261128-000007". */
#define STORE_ID_MAX 40

/* Free-text fields (detail, error) longer than this are cut (at a UTF-8
 * character boundary); they come partly from bank responses. */
#define STORE_TEXT_MAX 4096

int store_open(const char *path, struct store **out, struct h2h_err *err);
/* Finalises statements and closes the database (NULL-safe).  An open
 * group transaction is rolled back. */
void store_close(struct store *s);

/* Group transaction (see top).  begin: H2H_ESTATE if one is already open.
 * commit: on failure the whole group is rolled back and nothing of it is
 * durable.  rollback: no-op when none is open. */
int store_txn_begin(struct store *s, struct h2h_err *err);
int store_txn_commit(struct store *s, struct h2h_err *err);
void store_txn_rollback(struct store *s);
/* 1 while a group transaction is open. */
int store_txn_active(const struct store *s);

struct store_msg {
    char id[STORE_ID_MAX];
    char *channel;
    char *bank, *kind, *orig_name; /* may be NULL */
    char sha256[65];               /* lower-case hex */
    int64_t size;
    enum msg_state state;
    enum msg_state held_from; /* ST_NONE unless state == ST_HELD */
    char *payload_path, *rendered_path, *remote_name, *business_id,
        *last_error; /* NULL when unset */
    int attempts;
    int64_t next_attempt_ms, created_ms, updated_ms;
    int64_t drop_dev, drop_ino, drop_mtime_ns;
};

void store_msg_release(struct store_msg *m);

/* channel, sha256 (64 hex digits, either case; stored lower case) and
 * payload_path are required; the other strings may be NULL. */
struct store_accept {
    const char *channel, *bank, *kind, *orig_name, *sha256, *payload_path,
        *business_id;
    int64_t size, drop_dev, drop_ino, drop_mtime_ns;
};

/*
 * New message in ST_ACCEPTED with a creation event (actor "daemon"),
 * next_attempt_ms = now.  id_out receives its id.  H2H_EDUP when
 * (channel, sha256) already exists: id_out then holds the existing
 * message's id and nothing changes.
 */
int store_accept(struct store *s, const struct store_accept *in,
                 char id_out[STORE_ID_MAX], struct h2h_err *err);

/* Look a message up by content; 0 or H2H_ENOTFOUND. */
int store_find_hash(struct store *s, const char *channel, const char *sha256,
                    struct store_msg *out, struct h2h_err *err);
/* 0 or H2H_ENOTFOUND. */
int store_get(struct store *s, const char *id, struct store_msg *out,
              struct h2h_err *err);

/* Changes applied together with a transition.  NULL string fields keep the
 * current value; a non-NULL one replaces it ("" stores an empty string,
 * except for error where "" clears last_error to NULL). */
struct store_change {
    const char *rendered_path, *remote_name, *business_id;
    const char *error;       /* sets last_error; "" clears */
    int attempts_inc;        /* added to attempts (after a reset) */
    int reset_attempts;      /* non-zero: attempts = 0 first */
    int64_t next_attempt_ms; /* < 0 keep; note {0} sets it to 0 = due now */
    const char *detail;      /* event text */
    const char *actor;       /* "daemon" (default when NULL), "uid=1000" */
};

/*
 * Compare-and-set transition: moves message id from `from` to `to` and
 * appends an event, in one transaction (or as part of the open group).
 * H2H_ESTATE with a message naming both states when the current state is
 * not `from`, when state_can_transition() refuses, or when leaving
 * ST_HELD for anything other than held_from or ST_RENDERED.
 * to == ST_HELD records held_from = from; leaving held clears it.
 * H2H_ENOTFOUND for an unknown id.  ch may be NULL.
 */
int store_transition(struct store *s, const char *id, enum msg_state from,
                     enum msg_state to, const struct store_change *ch,
                     struct h2h_err *err);

/* Hold a message from whatever state it is in, if the table allows
 * (so not from a terminal state, from held, nor from acknowledged or
 * partially_accepted, where the bank already has it and there is nothing
 * left to stop).  H2H_ESTATE otherwise. */
int store_hold(struct store *s, const char *id, const char *detail,
               const char *actor, struct h2h_err *err);

/*
 * Release a held message back to the state it was held from, with one
 * exception: a message held from ST_SUBMITTING (outcome at the bank
 * unknown) is released to ST_RENDERED - releasing it means a person
 * decided to resend; it is never put back into submitting.  A release to
 * rendered or deferred makes the message due now.  *to_out (may be NULL)
 * receives the new state.  H2H_ESTATE if the message is not held.
 */
int store_release(struct store *s, const char *id, const char *actor,
                  struct h2h_err *err, enum msg_state *to_out);

/* failed | deferred -> rendered with attempts = 0, last_error cleared and
 * next_attempt_ms = now; a failed message without a rendered file goes to
 * accepted instead, so that the pipeline renders it again.  H2H_ESTATE
 * from any other state. */
int store_retry(struct store *s, const char *id, const char *actor,
                struct h2h_err *err);

struct store_filter {
    int state;                  /* -1 any */
    const char *bank, *channel; /* NULL any */
    int64_t due_before_ms;      /* > 0: only next_attempt_ms <= this */
    size_t limit;               /* 0 = no limit */
};

/* Non-zero stops iteration; that value is returned by store_list(). */
typedef int (*store_msg_cb)(void *ctx, const struct store_msg *m);

/* Messages matching f (NULL: all), oldest acceptance first; with
 * due_before_ms > 0, earliest next_attempt_ms first.  Returns 0, the
 * callback's non-zero value, or an error. */
int store_list(struct store *s, const struct store_filter *f, store_msg_cb cb,
               void *ctx, struct h2h_err *err);

/* counts[st] = number of messages in state st (for bank, or all when
 * bank is NULL). */
int store_counts(struct store *s, const char *bank, int64_t counts[ST__COUNT],
                 struct h2h_err *err);

struct store_event {
    int64_t seq, at_ms;              /* seq grows over the whole store */
    const char *from;                /* NULL for the creation event */
    const char *to, *detail, *actor; /* detail may be NULL */
};
typedef int (*store_event_cb)(void *ctx, const struct store_event *e);

/* Events of one message in order; H2H_ENOTFOUND for an unknown id.  A
 * non-zero callback value stops and is returned. */
int store_history(struct store *s, const char *id, store_event_cb cb, void *ctx,
                  struct h2h_err *err);

/*
 * Download registry: every file fetched from a bank, keyed by
 * (bank, remote_name, sha256), so a re-listing never delivers it twice.
 * register: 0 new, H2H_EDUP already registered.  delivered: marks it
 * handed to treasury at local_path (H2H_ENOTFOUND if not registered;
 * marking twice keeps the first delivery).  state: *registered and
 * *delivered (either may be NULL) receive 0/1.
 */
int store_download_register(struct store *s, const char *bank,
                            const char *remote_name, const char *sha256,
                            int64_t size, struct h2h_err *err);
int store_download_delivered(struct store *s, const char *bank,
                             const char *remote_name, const char *sha256,
                             const char *local_path, struct h2h_err *err);
int store_download_state(struct store *s, const char *bank,
                         const char *remote_name, const char *sha256,
                         int *registered, int *delivered, struct h2h_err *err);
/* When the download was registered (ms since the epoch): a time that
 * stays the same however often a crash makes h2hd fetch it again.  0 or
 * H2H_ENOTFOUND. */
int store_download_registered_ms(struct store *s, const char *bank,
                                 const char *remote_name, const char *sha256,
                                 int64_t *ms, struct h2h_err *err);

/*
 * Business ids (kind "msgid", "e2e", ...) of accepted messages, for
 * duplicate checks across files.  record: remembers (kind, id) for message
 * msg_id (may be NULL) at now; recording an id again moves its time to
 * now.  seen: 1 if (kind, id) was recorded at or after since_ms, 0 if
 * not, negative on error.
 */
int store_id_record(struct store *s, const char *kind, const char *id,
                    const char *msg_id, struct h2h_err *err);
int store_id_seen(struct store *s, const char *kind, const char *id,
                  int64_t since_ms, struct h2h_err *err);
/* The message (kind, id) was last recorded for: how a bank's status
 * report (naming our MsgId) finds its message.  0 or H2H_ENOTFOUND. */
int store_id_owner(struct store *s, const char *kind, const char *id,
                   char msg_id[STORE_ID_MAX], struct h2h_err *err);

/*
 * What a bank reported per payment of message msg_id (a pain.002's
 * payment groups and transactions): keyed by (msg_id, pmt_inf_id,
 * end_to_end_id), "" where the report names none (a whole payment group);
 * a later report of the same key replaces the earlier one.  status is the
 * bank's code (ACCP, RJCT, PDNG, ...), reasons its reason codes ("AC01,
 * AM04"), report the bank's file.  list: in key order; the callback may
 * not call store functions; a non-zero value stops and is returned.
 */
struct store_tx_status {
    const char *pmt_inf_id, *end_to_end_id, *status, *reasons, *report;
    int64_t at_ms;
};
typedef int (*store_tx_status_cb)(void *ctx, const struct store_tx_status *t);
int store_tx_status_put(struct store *s, const char *msg_id,
                        const struct store_tx_status *t, struct h2h_err *err);
int store_tx_status_list(struct store *s, const char *msg_id,
                         store_tx_status_cb cb, void *ctx,
                         struct h2h_err *err);

/* The next value (1, 2, ...) of the counter called name (which starts
 * with "ctr:"), durable with the caller's transaction: a rolled-back
 * transaction hands the same value out again. */
int store_counter_next(struct store *s, const char *name, int64_t *value,
                       struct h2h_err *err);

/*
 * Scheduled jobs (daemon/scheduler.h): what the scheduler remembers per
 * (bank, kind) across restarts and reloads.  sched_ms is the scheduled
 * time of the last run, or the baseline recorded when the
 * job was first seen or its missed runs were skipped; started_ms and
 * ended_ms are the last run's start and end (0: none yet; ended_ms <
 * started_ms: the run never finished, e.g. h2hd was killed); result is
 * "ok" or "failed" with error the reason ("" when none).
 *
 * get: 0 or H2H_ENOTFOUND (never seen).  mark: set sched_ms, leaving the
 * run columns as they are (creates the row).  started: a run of the slot
 * sched_ms began at started_ms (ended_ms is cleared until it finishes).
 * finished: the run that started last ended at ended_ms with result and
 * error (error may be NULL); H2H_ENOTFOUND when no run was started.
 */
#define STORE_JOB_ERROR_MAX 512
struct store_job {
    int64_t sched_ms, started_ms, ended_ms;
    char result[16];                 /* "ok", "failed", "" never finished */
    char error[STORE_JOB_ERROR_MAX]; /* cut at a character boundary */
};
int store_job_get(struct store *s, const char *bank, const char *kind,
                  struct store_job *out, struct h2h_err *err);
int store_job_mark(struct store *s, const char *bank, const char *kind,
                   int64_t sched_ms, struct h2h_err *err);
int store_job_started(struct store *s, const char *bank, const char *kind,
                      int64_t sched_ms, int64_t started_ms,
                      struct h2h_err *err);
int store_job_finished(struct store *s, const char *bank, const char *kind,
                       int64_t ended_ms, const char *result, const char *error,
                       struct h2h_err *err);

/*
 * Cut-off decisions (daemon/scheduler.h): taken once per message, the first
 * time it would be submitted to a bank with a cut-off, and kept so that a
 * retry is never judged again.  action: "in_time", "held" or "flagged";
 * until_ms the instant a held message becomes due (0 otherwise).  get:
 * 0 with *action (a buffer of 16) set, or H2H_ENOTFOUND when none was
 * taken.  put: H2H_EDUP when one exists (the first stays), H2H_ENOTFOUND
 * for an unknown message.
 */
int store_cutoff_get(struct store *s, const char *msg_id, char action[16],
                     int64_t *until_ms, struct h2h_err *err);
int store_cutoff_put(struct store *s, const char *msg_id, const char *action,
                     int64_t until_ms, struct h2h_err *err);

/*
 * Statement archive (the ledger): every statement file h2hd delivered,
 * kept for reconciliation, one row per (bank, sha256) in the order added.
 *
 * add: bank, remote_name, sha256 (64 hex digits, either case; stored lower
 * case) and path are required, charset may be NULL, size >= 0;
 * received_ms is ignored (the row gets now).  0, or H2H_EDUP when (bank,
 * sha256) is already there (nothing changes, not even the path).  Like
 * every mutating call it commits on its own or takes part in the open
 * group transaction.
 *
 * list: the files of bank (NULL: every bank) in the order they were
 * added.  The rows are read completely before the first callback, so it
 * may call any store function; the struct and its strings are valid only
 * during the callback (received_ms filled, charset NULL when none was
 * given).  Returns 0, the callback's non-zero value (which stops the
 * iteration), or an error.
 */
struct store_ledger_file {
    const char *bank, *remote_name, *sha256, *path;
    const char *charset; /* may be NULL */
    int64_t size;
    int64_t received_ms; /* set by store_ledger_add to now; filled by list */
};
typedef int (*store_ledger_cb)(void *ctx, const struct store_ledger_file *f);
int store_ledger_add(struct store *s, const struct store_ledger_file *f,
                     struct h2h_err *err);
int store_ledger_list(struct store *s, const char *bank, store_ledger_cb cb,
                      void *ctx, struct h2h_err *err);

/*
 * Reconciliation runs: one row per run, begun "running" and finished
 * "ok" or "failed"; a run h2hd did not finish (it stopped or died during
 * it) is marked "interrupted" at the next start-up.  Strings are
 * fixed-size buffers in the caller's struct; error and summary are cut at
 * a UTF-8 character boundary to fit.
 *
 * begin: a new run in "running", started now, with the next id ("R" +
 * UTC yyyymmdd + "-" + the counter "ctr:recon", see STORE_ID_MAX) in
 * id_out.  Reads channel, bank, account ("" = all), from and to
 * (YYYY-MM-DD, from <= to) and trigger (not empty) of r; the rest is
 * ignored.  H2H_EINVALID for a bad date or a string not terminated
 * within its buffer.  An id handed out inside a group transaction that is
 * rolled back is not handed out again by this process.
 *
 * end: finishes run id with result "ok" or "failed", error (NULL or "":
 * none), dir (NULL or "": none; a path that does not fit the buffer is
 * refused with H2H_EINVALID rather than cut), summary (NULL: ""), booked
 * (>= 0) and ended_ms = now.  H2H_ENOTFOUND for an unknown id,
 * H2H_ESTATE when the run is not running (nothing changes).
 *
 * get: one run by id, or the latest begun when id is NULL, into out
 * (zeroed first); 0 or H2H_ENOTFOUND.
 *
 * interrupted: for start-up, before any run begins: every run still
 * "running" becomes "interrupted" with ended_ms = now and error "h2hd
 * stopped during the run".  Returns the number of runs changed (>= 0) or
 * a negative error.
 */
#define STORE_RECON_SUMMARY_MAX 4096
struct store_recon_run {
    char id[STORE_ID_MAX];
    char channel[64], bank[64], account[128]; /* "" = all */
    char from[11], to[11];                    /* YYYY-MM-DD */
    char trigger[16];                         /* "ctl", "schedule" */
    int64_t started_ms, ended_ms;             /* ended_ms 0 while running */
    char result[16]; /* "running", "ok", "failed", "interrupted" */
    char error[512]; /* "" when none; cut at a character boundary */
    char dir[4096];  /* output folder, "" until finished ok */
    char summary[STORE_RECON_SUMMARY_MAX]; /* logfmt, "" until finished */
    int64_t booked; /* messages the run moved to booked */
};
int store_recon_begin(struct store *s, const struct store_recon_run *r,
                      char id_out[STORE_ID_MAX], struct h2h_err *err);
int store_recon_end(struct store *s, const char *id, const char *result,
                    const char *error, const char *dir, const char *summary,
                    int64_t booked, struct h2h_err *err);
int store_recon_get(struct store *s, const char *id,
                    struct store_recon_run *out, struct h2h_err *err);
int store_recon_interrupted(struct store *s, struct h2h_err *err);

/*
 * Bill pool and supply-chain finance: h2hd's view, per bank, of the
 * drafts (formats/bill.h), credit vouchers and financing requests
 * (formats/scf.h), updated from the banks' results, notices and inquiries
 * and read by `h2hctl bills`, `h2hctl scf` and the daily maturity alert.
 * The store keeps the columns h2hd filters and sorts on, and the object
 * itself as canonical XML in doc, which it neither parses nor checks.
 *
 * Strings are fixed-size buffers in the caller's struct; put refuses one
 * that is not terminated within its buffer (it does not fit) with
 * H2H_EINVALID, and so do get, delete and alerted for a key longer than
 * its buffer.  Dates are "YYYY-MM-DD", currencies three letters A-Z,
 * amounts minor units >= 0; status is the formats' name of the status
 * ("held", "pledged", ...), refused when unknown.  updated_ms: the time
 * of the caller's information; 0 means now (the store's clock).
 *
 * doc: put reads it (NULL: none) and does not keep the pointer; get fills
 * it with a malloc'd copy (NULL when none) that the matching _release
 * frees (NULL-safe, and safe on a struct get left untouched on error
 * because get zeroes it first).  get returns 0 or H2H_ENOTFOUND.
 *
 * put inserts the row or replaces the one with the same key, as one
 * transaction or as part of the open group.  list: the rows matching the
 * filter (NULL: all; in every filter a NULL or "" field matches
 * everything), read completely before the first callback, so it may call
 * any store function; the struct and doc are valid only during the
 * callback.  Returns 0, the callback's non-zero value (which stops the
 * iteration), or an error (H2H_EINVALID for a bad filter).
 */

/* Names of parties (holder, issuer, financing bank): at most
 * STORE_PARTY_MAX - 1 bytes of UTF-8. */
#define STORE_PARTY_MAX 256

/*
 * Drafts: one row per piece of a draft (bill.h: a whole draft, or a
 * sub-range of a divisible one), keyed by (bank, number, sub_from,
 * sub_to).  sub_from/sub_to: 0/0 for a draft without sub-tickets, else
 * 1 <= sub_from <= sub_to.  When a piece is split, the caller deletes its
 * row and puts the two new pieces in one group transaction.
 *
 * put: bank, number (30 digits), kind ("AC01", "AC02"), status (a
 * fmt_draft_status_name() other than "none"), ccy and maturity_date are
 * required; issue_date and holder may be "" (unknown); pending is 0 or 1.
 * last_alert_days is ignored: a replaced row keeps its own, a new one has
 * none.
 *
 * delete: 0, or H2H_ENOTFOUND when there is no such piece.
 *
 * alerted: records days (>= 0) as the last maturity-alert threshold
 * logged for the piece, so the daily alert does not repeat it; days -1
 * forgets it.  0 or H2H_ENOTFOUND.
 *
 * list: ordered by maturity_date, number, sub_from (then sub_to, bank).
 * Filter: bank, status (an unknown name is H2H_EINVALID), number, and
 * maturity_from <= maturity_date <= maturity_to (either may be open;
 * from after to is H2H_EINVALID); limit 0 = no limit.
 */
struct store_draft {
    char bank[64];
    char number[31]; /* 30 digits */
    int64_t sub_from, sub_to;
    char kind[8];    /* "AC01" bank, "AC02" commercial acceptance */
    char status[32]; /* fmt_draft_status_name(), e.g. "pledged" */
    int64_t amount;  /* of this piece, minor units */
    char ccy[4];
    char issue_date[11];          /* YYYY-MM-DD, "" unknown */
    char maturity_date[11];       /* YYYY-MM-DD */
    char holder[STORE_PARTY_MAX]; /* current holder's name, "" unknown */
    int pending;                  /* 1: an operation awaits an answer */
    int64_t updated_ms;           /* put: 0 = now */
    int last_alert_days;          /* -1 none; put ignores it */
    char *doc;                    /* canonical XML, NULL none (see above) */
};
struct store_draft_filter {
    const char *bank, *status, *number;
    const char *maturity_from, *maturity_to; /* YYYY-MM-DD, inclusive */
    size_t limit;                            /* 0 = no limit */
};
typedef int (*store_draft_cb)(void *ctx, const struct store_draft *d);
void store_draft_release(struct store_draft *d);
int store_draft_put(struct store *s, const struct store_draft *d,
                    struct h2h_err *err);
int store_draft_get(struct store *s, const char *bank, const char *number,
                    int64_t sub_from, int64_t sub_to, struct store_draft *out,
                    struct h2h_err *err);
int store_draft_delete(struct store *s, const char *bank, const char *number,
                       int64_t sub_from, int64_t sub_to, struct h2h_err *err);
int store_draft_alerted(struct store *s, const char *bank, const char *number,
                        int64_t sub_from, int64_t sub_to, int days,
                        struct h2h_err *err);
int store_draft_list(struct store *s, const struct store_draft_filter *f,
                     store_draft_cb cb, void *ctx, struct h2h_err *err);

/*
 * Pool figures: the latest overview of each bill pool a bank reported
 * (formats/bill.h struct fmt_bill_pool, a pool_overview result), one row
 * per (bank, pool_id); pool_id "" when the bank named none.  Unlike the
 * other rows of the book these are the bank's own totals, kept as it gave
 * them, not derived from the drafts.
 *
 * put: bank is required; pool_id and as_of may be ""; as_of is "" or
 * what the bank dated the figures with, a "YYYY-MM-DD" or an ISO 8601
 * timestamp ("YYYY-MM-DDThh:mm:ss", optional fraction and zone);
 * pledged_count >= 0; an amount is minor units >= 0, or -1 when the bank
 * did not give it; ccy is the currency of every amount given ("" exactly
 * when none is).  learnt_ms: when h2hd learnt the figures; 0 means now.
 * H2H_EINVALID for anything else (nothing changes).
 *
 * The row keeps the latest figures, not the last ones to arrive, so put
 * is a compare-and-set in one transaction (or as part of the open group):
 *   STORE_POOL_STORED (0)  no row yet, or the new figures replace it;
 *   STORE_POOL_SAME        the row holds exactly these figures (as_of,
 *                          currency, count and amounts): nothing changes,
 *                          not even learnt_ms;
 *   STORE_POOL_OLDER       the row's as_of is later than the new one:
 *                          nothing changes.
 * as_of values compare as follows: when either is a date, by their
 * dates; two timestamps that both carry a zone, as the instants they
 * name; otherwise as civil date and time (fractions of a second are not
 * compared).  Equal, or either side "", counts as not older: the figures
 * learnt later win.
 *
 * list: the rows of bank (NULL or "": every bank) ordered by bank, then
 * pool_id; read completely before the first callback, so it may call any
 * store function; the struct is valid only during the callback.  Returns
 * 0, the callback's non-zero value (which stops the iteration), or an
 * error.  The struct has no pointers: nothing to release.
 */
enum {
    STORE_POOL_STORED = 0,
    STORE_POOL_SAME = 1,
    STORE_POOL_OLDER = 2,
};
struct store_pool {
    char bank[64];
    char pool_id[65]; /* "" when the bank named none */
    char as_of[40];   /* date or timestamp as the bank gave it, "" none */
    char ccy[4];      /* of every amount given, "" when none is */
    int64_t pledged_count;
    /* minor units in ccy; -1 when the bank did not give it */
    int64_t pledged_total, deposit, quota_total, quota_used, quota_available;
    int64_t learnt_ms; /* put: 0 = now */
};
typedef int (*store_pool_cb)(void *ctx, const struct store_pool *p);
int store_pool_put(struct store *s, const struct store_pool *p,
                   struct h2h_err *err);
int store_pool_list(struct store *s, const char *bank, store_pool_cb cb,
                    void *ctx, struct h2h_err *err);

/*
 * Credit vouchers: one row per (bank, voucher id), the bank or platform
 * that reported it.  put: bank, id, root_id, issuer, holder, status (a
 * fmt_voucher_status_name()), ccy, issue_date, maturity_date and
 * ours_role ("issued", "held", "transferred": the daemon's word for our
 * part in it) are required; level >= 1, parent_id "" exactly for level 1,
 * and a level 1 voucher is its own root; 0 <= remaining <= amount;
 * fin_bank "" when not financed.
 *
 * list: ordered by root_id, level, id (then bank).  Filter: bank, status
 * (an unknown name is H2H_EINVALID), holder, root_id.
 */
struct store_voucher {
    char bank[64];
    char id[65];        /* the platform's id */
    char parent_id[65]; /* "" for a root */
    char root_id[65];   /* the root's id; its own for a root */
    int level;          /* 1 for the root (tier-1) */
    char issuer[STORE_PARTY_MAX], holder[STORE_PARTY_MAX];
    char status[16]; /* fmt_voucher_status_name(), e.g. "held" */
    int64_t amount;  /* face amount, minor units */
    char ccy[4];
    int64_t remaining; /* of amount, what transfers did not take */
    char issue_date[11], maturity_date[11];
    char fin_bank[STORE_PARTY_MAX]; /* "" when not financed */
    char ours_role[16];             /* "issued", "held", "transferred" */
    int64_t updated_ms;             /* put: 0 = now */
    char *doc;                      /* canonical XML, NULL none */
};
struct store_voucher_filter {
    const char *bank, *status, *holder, *root_id;
};
typedef int (*store_voucher_cb)(void *ctx, const struct store_voucher *v);
void store_voucher_release(struct store_voucher *v);
int store_voucher_put(struct store *s, const struct store_voucher *v,
                      struct h2h_err *err);
int store_voucher_get(struct store *s, const char *bank, const char *id,
                      struct store_voucher *out, struct h2h_err *err);
int store_voucher_list(struct store *s, const struct store_voucher_filter *f,
                       store_voucher_cb cb, void *ctx, struct h2h_err *err);

/*
 * Financing requests (receivable financing, reverse factoring): one row
 * per (bank, request_id), as folded from the bank's reports (struct
 * fmt_scf_track).  put: bank, request_id, kind (fmt_scf_kind_name():
 * "receivable", "reverse_factoring"), status (fmt_scf_status_name()) and
 * ccy are required; the amounts are in ccy, 0 until known; loan_ref,
 * value_date, maturity_date and reason may be ""; msg_id names the h2hd
 * message that carried the request ("" none; an unknown message is
 * H2H_ENOTFOUND, and deleting the message later empties it).
 *
 * list: the most recently updated first (ties by bank, request_id).
 * Filter: bank, status (an unknown name is H2H_EINVALID).
 */
struct store_financing {
    char bank[64];
    char request_id[65];
    char kind[24];   /* "receivable", "reverse_factoring" */
    char status[16]; /* fmt_scf_status_name(), e.g. "financed" */
    char ccy[4];
    /* minor units in ccy, 0 until known */
    int64_t requested, approved, financed, repaid;
    char loan_ref[65];                      /* "" unknown */
    char value_date[11], maturity_date[11]; /* "" unknown */
    char reason[512];                       /* of a rejection, "" none */
    char msg_id[STORE_ID_MAX];              /* "" none */
    int64_t updated_ms;                     /* put: 0 = now */
    char *doc;                              /* canonical XML, NULL none */
};
struct store_financing_filter {
    const char *bank, *status;
};
typedef int (*store_financing_cb)(void *ctx, const struct store_financing *r);
void store_financing_release(struct store_financing *r);
int store_financing_put(struct store *s, const struct store_financing *r,
                        struct h2h_err *err);
int store_financing_get(struct store *s, const char *bank,
                        const char *request_id, struct store_financing *out,
                        struct h2h_err *err);
int store_financing_list(struct store *s,
                         const struct store_financing_filter *f,
                         store_financing_cb cb, void *ctx, struct h2h_err *err);

/*
 * Consistency check: PRAGMA integrity_check, foreign keys, and invariants:
 * every message has events and its last event ends in the row's state,
 * every state name is known, held_from is set exactly when held, every
 * non-terminal message has a payload path, every reconciliation run has a
 * known result and an end time exactly when it is not running, no id
 * counter is behind the ids it handed out, every draft, voucher and
 * financing request has a known status and no negative amount, a draft's
 * sub-range is ordered (0 <= sub_from <= sub_to) and its kind and pending
 * flag valid, a voucher's remaining lies within 0..amount and its
 * level matches having a parent, and a pool's count is not negative, no
 * amount of it is below -1 (not given) and it has a currency exactly when
 * it has an amount.  0 when all hold; H2H_EDB with the number of
 * problems and the first few in the message.
 */
int store_check(struct store *s, struct h2h_err *err);

#endif
