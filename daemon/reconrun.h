/*
 * reconrun.h - reconciliation runs inside h2hd: the engine (recon.h) fed
 * from the store and the kept statements, its reports published, matched
 * payments booked.
 *
 * A run (started by `h2hctl reconcile`, or by a bank's schedule job of
 * kind "reconcile") belongs to one channel and covers the days [from, to]:
 *
 *   payments  the channel's messages in submitted, acknowledged,
 *             partially_accepted or booked (optionally of one bank), read
 *             from the payload copies h2hd keeps; a transaction the bank
 *             reported RJCT is left out; execution date in [from, to] (a
 *             transaction without one takes the message's acceptance day).
 *             Each payment is "<message id>/<n>", n counting the
 *             transactions of the file from 1.
 *   entries   booked statement entries of the channel's banks (the banks
 *             whose home channel it is, or --bank), from the statements
 *             h2hd delivered: every statement is kept as the bank sent it
 *             in state_dir/ledger/<bank>/<sha256> and listed in the store
 *             (engine.c).  Booking date in [from, to]; optionally one
 *             account.  A day of an account covered by an end-of-day
 *             statement (camt.053, MT940) takes its entries from the latest
 *             such statement received only - corrected and re-fetched
 *             statements replace earlier ones instead of doubling them.
 *             Other days take camt.052 / MT942 / camt.054 entries, where
 *             the same booking repeated by a later report is taken once.
 *             Each entry is "<bank>/<file>#<n>".
 *   expected  every *.csv and *.xml file in the channel's expected_dir
 *             (treasury's open invoices, recon.h); a broken row is skipped
 *             and logged (recon.expected.problem), the rest is used.
 *
 * The run's as-of day is `to`.  Its reports go into
 * <reconcile dir>/<run id>/ (recon_write_dir's files), written under a
 * hidden temporary name and renamed when complete, so a finance person
 * never opens half a report.  A message whose every accepted transaction
 * was matched (not returned, reversed nor of another amount) moves to
 * `booked` (payment.booked), in the same transaction that records the
 * run's end, so a crash leaves either both or neither.
 *
 * One run at a time: a second start is refused while one is running.  The
 * reading and matching run on the libuv thread pool; progress (phase,
 * done, total) is visible through rrun_status_json() while it runs.  A
 * run cut short by a stop of h2hd is recorded "failed"; one cut short by a
 * crash is found "running" at the next start and marked "interrupted",
 * and a report folder it had already renamed into view is taken back out
 * (to .<id>.tmp, removed by the next run): a visible report always
 * belongs to a run recorded "ok", whose bookings are committed.
 *
 * Threads: the loop thread (the work itself runs on the pool and reports
 * back to the loop).  Ownership: struct h2hd owns the running run (d->rrun).
 */
#ifndef H2H_RECONRUN_H
#define H2H_RECONRUN_H

#include <jansson.h>

#include "h2h_err.h"
#include "store.h"

struct h2hd;

struct rrun_params {
    const char *channel; /* NULL: the home channel of bank, else the
                            first channel */
    const char *bank;    /* NULL: every bank of the channel */
    const char *account; /* NULL: every account */
    const char *from;    /* NULL: to - (days - 1) */
    const char *to;      /* NULL: today (UTC) */
    const char *trigger; /* "ctl", "schedule" */
};

/* Called on the loop thread when a run ends (result "ok" or "failed"). */
typedef void (*rrun_done_cb)(void *ctx, const char *id, int ok,
                             const char *error);

/* Start a run; id_out receives its id.  done (may be NULL) is called when
 * it ends.  H2H_EINVALID for bad parameters (unknown channel or bank, a
 * bad date, from after to), H2H_ESTATE when a run is going or h2hd is
 * stopping. */
int rrun_start(struct h2hd *d, const struct rrun_params *p, rrun_done_cb done,
               void *done_ctx, char id_out[STORE_ID_MAX], struct h2h_err *err);

/* 1 while a run is going. */
int rrun_busy(const struct h2hd *d);

/* The run id (NULL: the latest) as the JSON object `h2hctl reconcile`
 * prints; a new reference in *out.  H2H_ENOTFOUND when there is none. */
int rrun_status_json(struct h2hd *d, const char *id, json_t **out,
                     struct h2h_err *err);

/* At start-up: runs a crash cut short become "interrupted" (logged). */
void rrun_recover(struct h2hd *d);

/* Ask a running run to stop soon (h2hd is stopping); it then ends
 * "failed".  No-op without one. */
void rrun_cancel(struct h2hd *d);

#endif
