/*
 * adapter.h - the bank adapter interface.
 *
 * An adapter speaks one dialect family (dirdrop, iso20022_sftp, cnbank_xml,
 * openapi_json, ...) to one configured bank.  It turns a rendered payload
 * into bank traffic and bank traffic into files for the daemon; it never
 * touches the spool or the state store: the daemon decides what an outcome
 * means for a message.
 *
 * Lifecycle:  ops->create(loop, bank config subtree, ..., state_dir) ->
 *             adapter instance;
 *             submit / poll / inquire / recover, any number, concurrently
 *             up to the bank's limit; ops->close(a, cb) stops everything in
 *             flight (their callbacks run with H2H_OUT_TEMPFAIL, canceled)
 *             and calls cb once the memory can be freed.
 *
 * Contract for every asynchronous operation:
 *   - it runs on the loop thread and must never block it;
 *   - if the call returns 0 its callback runs exactly once, later, on the
 *     loop thread (never from inside the call);
 *   - if the call returns an error (negative code, err filled) the callback
 *     is never called;
 *   - every pointer in a request must stay valid until the callback ran.
 *
 * Outcomes: every result is classified so that the daemon can decide:
 *   H2H_OUT_OK        done (submit: the bank has it; recover: it was sent)
 *   H2H_OUT_TEMPFAIL  try again later (network down, bank busy); nothing
 *                     reached the bank, or what did is harmless to repeat
 *   H2H_OUT_PERMFAIL  will never work as is (rejected, refused by policy)
 *   H2H_OUT_UNKNOWN   the bank may or may not have it: ask, never resend
 *   H2H_OUT_NOT_SENT  recover only: proven not delivered; safe to resend
 */
#ifndef H2H_ADAPTER_H
#define H2H_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <uv.h>

#include "h2h_err.h"

enum h2h_outcome {
    H2H_OUT_OK = 0,
    H2H_OUT_TEMPFAIL = 1,
    H2H_OUT_PERMFAIL = 2,
    H2H_OUT_UNKNOWN = 3,
    H2H_OUT_NOT_SENT = 4,
};

const char *h2h_outcome_name(enum h2h_outcome o);

struct h2h_adapter;

/* One outgoing message, as the daemon hands it over. */
struct h2h_submit_req {
    const char *msg_id;      /* h2hd's message id, stable across restarts */
    const char *remote_name; /* the bank-visible name / idempotency key */
    const char *payload;     /* path of the rendered payload (immutable) */
    const char *kind;        /* "payment", "bill", "scf", ... */
    void *data;              /* the caller's */
};

/* What a submit, recover or inquire produced. */
struct h2h_result {
    enum h2h_outcome outcome;
    struct h2h_err err;      /* why, when outcome != OK */
    char bank_ref[128];      /* bank-side reference, "" when none */
};

typedef void (*h2h_result_cb)(struct h2h_adapter *a,
                              struct h2h_submit_req *req,
                              const struct h2h_result *res);

/*
 * A poll delivers what the bank has for us, one file at a time, to the
 * daemon's deliver callback; the file is a complete local temporary copy
 * (the adapter verified its size), which the daemon registers in the
 * download registry and moves into place.  The daemon answers through
 * h2h_poll_delivered(): 0 -> the adapter may delete/move the remote
 * original (per profile); H2H_EDUP -> already known, same; other ->
 * leave the remote file for the next round.
 */
struct h2h_download {
    const char *remote_name; /* validated: no '/', no "..", no controls */
    const char *local_path;  /* temp file the daemon takes over (renames) */
    const char *kind;        /* "status", "statement", "receipt", "other" */
    const char *sha256;      /* hex digest of the local copy */
    uint64_t size;
};

struct h2h_poll_req;
typedef void (*h2h_deliver_cb)(struct h2h_adapter *a, struct h2h_poll_req *req,
                               const struct h2h_download *dl);
typedef void (*h2h_poll_done_cb)(struct h2h_adapter *a,
                                 struct h2h_poll_req *req,
                                 const struct h2h_result *res);
/* What a poll is asked to fetch (struct h2h_poll_req.what). */
enum {
    H2H_POLL_STATUS = 1,     /* status reports; pending payments asked */
    H2H_POLL_STATEMENTS = 2, /* end-of-day statements (and receipts) */
    H2H_POLL_INTRADAY = 4,   /* intraday reports */
    H2H_POLL_BALANCE = 8,    /* balances */
    H2H_POLL_BILLS = 16,     /* bill-pool and supply-chain inquiries */
    H2H_POLL_ALL = 31,
};
/* "status", "statements", "intraday", "balance", "bills", "all" -> bits;
 * 0 when unknown. */
unsigned h2h_poll_kind(const char *name);

struct h2h_poll_req {
    const char *tmp_dir;     /* where downloads land (same fs as the out) */
    /* 0: a routine round (poll_interval): the adapter fetches what its
     * own intervals say is due.  Else H2H_POLL_* bits from a scheduled
     * job or `h2hctl fetch`: the adapter fetches those now, whatever its
     * intervals say; adapters that cannot tell kinds apart (a folder of
     * files) fetch everything. */
    unsigned what;
    /* With STATEMENTS / INTRADAY: that one day ("YYYY-MM-DD", the bank's
     * date) instead of the adapter's default range; NULL: default. */
    const char *date;
    h2h_deliver_cb deliver;
    h2h_poll_done_cb done;
    void *data;
    void *priv;              /* the adapter's */
};
/* Called by the daemon from (or after) deliver; rc as described above. */
void h2h_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                        const struct h2h_download *dl, int rc);

/* OpenSSL's X509, without making every includer of this header depend on
 * OpenSSL's headers. */
struct x509_st;
typedef void (*h2h_cert_cb)(void *ctx, const char *label,
                            struct x509_st *cert);

/* Families of messages an adapter takes (struct h2h_adapter_ops.kinds). */
enum {
    H2H_KIND_PAYMENTS = 1, /* pain.001 and the like: every adapter */
    H2H_KIND_BILLS = 2,    /* bill-pool requests (formats/bill.h) */
    H2H_KIND_SCF = 4,      /* supply-chain finance (formats/scf.h) */
};

struct h2h_adapter_ops {
    const char *name;        /* "dirdrop", ... */
    /* H2H_KIND_* bits of what submit takes; 0 means payments only. */
    unsigned kinds;
    /* Optional: what one bank's instance takes, when a setting of the
     * bank decides (a folder gateway); NULL: kinds. */
    unsigned (*instance_kinds)(struct h2h_adapter *a);
    /* Validate a bank's config subtree without side effects; report each
     * problem through report(file:line style message) and return the count.
     * base_dir resolves relative paths (NULL: the working directory), for
     * the files that are configuration themselves (a bank profile). */
    int (*check_config)(const config_setting_t *bank, const char *base_dir,
                        void (*report)(void *ctx, const config_setting_t *s,
                                       const char *msg),
                        void *ctx);
    /* base_dir resolves relative paths in the bank's settings.  state_dir
     * is the adapter's own durable working folder for this bank
     * (<daemon state_dir>/adapters/<bank name>, created mode 0700 by the
     * daemon before create; it survives restarts and reloads, and during
     * a reload the retiring instance and its successor share it).
     * Adapters without local state ignore it; it may be NULL in tests of
     * such adapters. */
    int (*create)(uv_loop_t *loop, const config_setting_t *bank,
                  const char *bank_name, const char *base_dir,
                  const char *state_dir, struct h2h_adapter **out,
                  struct h2h_err *err);
    int (*submit)(struct h2h_adapter *a, struct h2h_submit_req *req,
                  h2h_result_cb cb, struct h2h_err *err);
    /* Resolve a message left in `submitting`: did the bank get it? */
    int (*recover)(struct h2h_adapter *a, struct h2h_submit_req *req,
                   h2h_result_cb cb, struct h2h_err *err);
    /* Status inquiry by key; NULL when the dialect has none. */
    int (*inquire)(struct h2h_adapter *a, struct h2h_submit_req *req,
                   h2h_result_cb cb, struct h2h_err *err);
    int (*poll)(struct h2h_adapter *a, struct h2h_poll_req *req,
                struct h2h_err *err);
    /* The daemon's answer for one delivered download; see
     * h2h_poll_delivered(). */
    void (*poll_delivered)(struct h2h_adapter *a, struct h2h_poll_req *req,
                           const struct h2h_download *dl, int rc);
    /* A one-line health summary for `h2hctl status` ("ok", "degraded: ..."). */
    const char *(*health)(struct h2h_adapter *a);
    /* Stop: no new operations are accepted; operations in flight finish
     * (or are canceled where the transport can cancel safely), then cb
     * runs once and the adapter's memory is gone after it returns. */
    void (*close)(struct h2h_adapter *a, void (*cb)(struct h2h_adapter *a));
    /* Optional (NULL when the adapter holds no certificates): call cb once
     * per certificate in use (client TLS certificate, signing identity,
     * pinned bank certificates, trust anchors), synchronously, with a
     * short label saying what it is for ("tls client", "request signing",
     * ...).  The certificate is borrowed for the duration of cb only (take
     * a reference with X509_up_ref to keep it); for expiry warnings. */
    void (*certs)(struct h2h_adapter *a, h2h_cert_cb cb, void *ctx);
    /* Optional (NULL: the bank books payments under their own ids only):
     * the references the bank books this adapter's payments under, for
     * reconciliation.  serial: a pattern for one payment's customer
     * serial (also each item of a batch the bank books item by item);
     * batch: one for a file the bank may book as one debit (a payroll
     * batch), which is what a file is when a payment group has category
     * purpose batch_purpose.  Tokens {msgid} (h2hd's message id) and {n}
     * (the payment's number in the file, from 1).  Any may be set to NULL;
     * the strings belong to the adapter and live as long as it does. */
    void (*booking_refs)(struct h2h_adapter *a, const char **serial,
                         const char **batch, const char **batch_purpose);
    /* Optional (NULL: the dialect does not say): the bank's civil time as
     * minutes east of UTC, when the dialect fixes it (a direct-connect
     * profile's utc_offset).  The daemon warns at start when the bank's
     * timezone disagrees: it judges cut-offs and maturities by that zone. */
    int (*clock_offset)(struct h2h_adapter *a, int *minutes);
};

/* Common head every adapter instance embeds first. */
struct h2h_adapter {
    const struct h2h_adapter_ops *ops;
    char *bank;              /* bank name, owned */
    uv_loop_t *loop;
    void *data;              /* the daemon's */
};

/* Registry of compiled-in adapters; NULL when unknown. */
const struct h2h_adapter_ops *h2h_adapter_find(const char *name);

/* The H2H_KIND_* bit of a message kind ("payment", "bill", "scf"); 0 for
 * an unknown kind.  h2h_adapter_takes: 1 when a bank with adapter ops
 * (and, when it exists, instance a of it) takes messages of that kind;
 * NULL ops takes nothing. */
unsigned h2h_kind_bit(const char *kind);
int h2h_adapter_takes(const struct h2h_adapter_ops *ops,
                      struct h2h_adapter *a, const char *kind);

#endif
