/*
 * records.h - per-message records and the status reports made from them,
 * for adapters whose bank answers per payment (openapi_json, cnbank_xml)
 * rather than with a pain.002 of its own.
 *
 * The daemon links a message to its status through a pain.002 whose
 * OrgnlMsgId is the payment file's MsgId.  So once a submit or recover
 * ends OK, the adapter keeps a record (JSON, state_dir/pending/<msg_id>.json)
 * and renders pain.002.001.10 from the record alone into state_dir/outbox/,
 * from where its poll delivers it.  A record:
 *   { "msg_id", "orgnl_msg_id", "orgnl_nm_id" (e.g. "pain.001.001.03"),
 *     "seq", "written", "cre_dt_tm",          (managed here)
 *     "txs": [ { "key" (the bank-side idempotency key / serial),
 *                "e2e", "instr_id", "pmt_inf_id", "amount" (decimal),
 *                "ccy", "payment_id" (the bank's reference), "status"
 *                (ISO: PDNG, ACSC, ACCP, ACTC, RJCT; null = not final),
 *                "reason" (ISO reason code), "error" (text) }, ... ],
 *     ... anything else the adapter keeps (ignored here) }
 * Null or absent members are left out of the report.  "seq" numbers the
 * report the current statuses call for, "written" the last one on disk.
 * Every change: record (seq+1) durable -> report durable -> record
 * (written = seq) durable; a crash anywhere leaves a record whose report
 * is made again byte for byte (it depends on the record only), so the
 * daemon's download registry sees the same name and hash.  Records whose
 * transactions are all final move to done/ (kept AREC_DONE_KEEP_S), where
 * they answer "was a report made already?" for a message recovered or
 * resubmitted after a crash.
 *
 * Every function here blocks (fsync): thread pool only.  Ownership: the
 * caller owns rec; *out arrays are freed with json_decref /
 * arec_names_free.
 */
#ifndef H2H_RECORDS_H
#define H2H_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "h2h_err.h"

#define AREC_PATH_MAX 4096
/* Done records are kept this long, then removed. */
#define AREC_DONE_KEEP_S (14 * 86400)

/* The folders below an adapter's state_dir. */
struct arec_dirs {
    char state[AREC_PATH_MAX];
    char outbox[AREC_PATH_MAX];  /* pain.002 waiting to be delivered */
    char pending[AREC_PATH_MAX]; /* records of messages not final yet */
    char done[AREC_PATH_MAX];    /* records of final messages (kept a while) */
};

/* Fill d below state_dir and create the folders (mode 0700), removing
 * temporaries of interrupted writes.  Loop thread is fine (startup). */
int arec_dirs_init(struct arec_dirs *d, const char *state_dir,
                   struct h2h_err *err);

/* Make the record of msg_id durable and its first status report: when a
 * record already exists (pending or done) its report is only made sure
 * of and *fresh = 0; else rec is written, its pain.002 put into outbox/,
 * and *fresh = 1. */
int arec_open(const struct arec_dirs *d, const char *msg_id, json_t *rec,
              int *fresh, struct h2h_err *err);
/* rec (loaded from pending/) got new statuses: a new sequence number and
 * report; moves to done/ when nothing is pending any more. */
int arec_advance(const struct arec_dirs *d, json_t *rec, struct h2h_err *err);
/* The report of rec's current sequence is in outbox/ (or was delivered):
 * write it when the record says it is not yet. */
int arec_ensure(const struct arec_dirs *d, json_t *rec, struct h2h_err *err);
/* Every record in pending/ that still waits for a final status (an
 * array, name order), after finishing interrupted report writes; with
 * prune, done/ records older than AREC_DONE_KEEP_S are removed.  *out is
 * set also when some record could not be read (the first such problem is
 * returned). */
int arec_pending(const struct arec_dirs *d, int prune, json_t **out,
                 struct h2h_err *err);
/* Status reports waiting in outbox/, name order. */
int arec_outbox_list(const struct arec_dirs *d, char ***out, size_t *n,
                     struct h2h_err *err);
void arec_names_free(char **v, size_t n);
/* Copy report name from outbox/ into dir as local_name (durable), with
 * its SHA-256 (hex) and size: what poll hands to the daemon. */
int arec_outbox_copy(const struct arec_dirs *d, const char *name,
                     const char *dir, const char *local_name, char sha256[65],
                     uint64_t *size, struct h2h_err *err);
/* The daemon holds report name (it answered 0 or H2H_EDUP): it leaves
 * outbox/.  A lost unlink delivers the same bytes again, which the
 * daemon's registry answers with H2H_EDUP.  Any thread (one unlink). */
void arec_outbox_done(const struct arec_dirs *d, const char *name);
/* Render rec's current status report as pain.002.001.10 into a new
 * buffer; name receives its file name. */
int arec_report(const json_t *rec, char **buf, size_t *len, char *name,
                size_t namesz, struct h2h_err *err);
/* 1 when a transaction status is not final (PDNG, NULL, unknown words). */
int arec_status_pending(const char *sts);

#endif
