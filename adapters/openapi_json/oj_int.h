/*
 * oj_int.h - shared by the files of the openapi_json adapter.  Not an
 * API: see openapi_json.h.  Who does what:
 *   openapi_json.c  create, health, certs, close, the ops table
 *   oj_config.c     the bank's settings (check_config and create)
 *   oj_token.c      the OAuth2 access token: fetched, cached, refreshed
 *   oj_call.c       one /v1 call: token, 401 retry, signed-answer check
 *   oj_json.c       canonical payment -> JSON bodies (deterministic bytes)
 *   oj_submit.c     submit and recover
 *   oj_record.c     per-message records and the pain.002 built from them
 *   oj_poll.c       poll: status reports out, pending payments asked
 *   oj_stmt.c       statements: balances + transactions -> canonical
 *   oj_fam.c        bill / scf requests: records, submit, recover, paged
 *                   GETs
 *   oj_bill.c       <BillRequest> -> JSON; the bank's drafts -> results
 *   oj_scf.c        <ScfRequest>, tsin.001/003 -> JSON; financing ->
 *                   status reports, repayment notices
 *   oj_vchr.c       credit vouchers: operations, holdings, scf_parties
 *   oj_round.c      the bills round of a poll (follow-ups, notices, pool,
 *                   holdings)
 *
 * Threads: everything runs on the loop thread except the functions marked
 * "thread pool" (file I/O, parsing, rendering), which touch nothing but
 * their arguments and immutable settings.
 */
#ifndef H2H_OJ_INT_H
#define H2H_OJ_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cert.h"
#include "records.h"
#include "stmtbuild.h"
#include "settings.h"
#include "https.h"
#include "model.h"
#include "openapi_json.h"

#define OJ_PATH_MAX 4096
/* Longest Idempotency-Key the bank takes. */
#define OJ_KEY_MAX 64
/* Most transactions in one message (each is one request). */
#define OJ_TX_MAX 100000
/* Most statement entries fetched for one account and range, and pages. */
#define OJ_STMT_MAX_ENTRIES 200000
#define OJ_STMT_MAX_PAGES 10000

/* ---- settings (oj_config.c) --------------------------------------------- */

struct oj_settings {
    char *base_url; /* https://host[:port][/prefix], no trailing '/' */
    char *client_id;
    char *client_secret_file;
    char *scope;     /* NULL: none asked for */
    char *token_url; /* base_url + token_path, or token_path if absolute */
    struct aset_tls tls;
    struct aset_sign sign;
    char *bank_cert;
    unsigned replay_window_s;
    char **accounts; /* IBANs, electronic form */
    size_t n_accounts;
    unsigned statement_days;
    unsigned statement_interval_s;
    unsigned pending_interval_s;
    unsigned connect_timeout_s, request_timeout_s;
    unsigned max_sessions; /* the bank's max_sessions */
    unsigned kinds;        /* H2H_KIND_* this bank takes (kinds) */
    unsigned bills_interval_s;
    char *bills_account;      /* NULL: none */
    struct aset_party *parties; /* scf_parties (settings.h) */
    size_t n_parties;
};

typedef void (*oj_report_fn)(void *ctx, const config_setting_t *s,
                             const char *msg);
int oj_check_config(const config_setting_t *bank, oj_report_fn report,
                    void *ctx);
/* Copy the settings of a bank that passes check_config into s (paths
 * resolved against base_dir): 0, H2H_ECONFIG with the first problem, or
 * H2H_ENOMEM.  What was copied before a failure is released by
 * oj_settings_release. */
int oj_settings_load(const config_setting_t *bank, const char *base_dir,
                     struct oj_settings *s, struct h2h_err *err);
void oj_settings_release(struct oj_settings *s);

/* ---- the adapter instance ------------------------------------------------ */

struct oj_call;
struct oj_msg;
struct oj_poll;
struct oj_replay;

/* Someone waiting for an access token (oj_token.c). */
struct oj_token_wait {
    struct oj_token_wait *next;
    /* err NULL: a token is there (oj_token_current); else why not, with
     * outcome TEMPFAIL or PERMFAIL. */
    void (*ready)(struct oj_token_wait *w, enum h2h_outcome out,
                  const struct h2h_err *err);
};

struct oj_token {
    char *value; /* secret; NULL when none */
    unsigned gen;
    uint64_t refresh_ms; /* uv_now() from which a new one is fetched */
    int fetching;
    struct oj_token_wait *waiters;
};

struct oj {
    struct h2h_adapter base;
    struct oj_settings s;
    struct arec_dirs dirs;
    struct https_client *http;
    struct cert_identity *sign_id;
    struct cert_identity *tls_id; /* for the inventory only */
    STACK_OF(X509) * bank_pin;    /* bank_cert */
    STACK_OF(X509) * tls_cas;     /* ca_file, for the inventory; or NULL */
    struct oj_replay *replay;
    char *secret; /* client secret */
    struct oj_token tok;

    struct oj_msg *msgs;       /* running submits and recovers */
    struct oj_poll *poll;      /* the running poll, or NULL */
    int ops;                   /* msgs + poll */
    int works;                 /* thread-pool jobs not yet back */
    uint64_t next_stmt_ms;     /* uv_now() when statements are due */
    uint64_t next_pending_ms;  /* uv_now() when pending payments are due */
    uint64_t next_bills_ms;    /* uv_now() when a bills round is due */
    char fam_dir[OJ_PATH_MAX]; /* state_dir/fam: bill and scf records */
    struct oj_fmsg *fmsgs;     /* running bill / scf submits and recovers */
    struct oj_round *round;    /* the running bills round, or NULL */
    unsigned long seq;         /* local temporary names */
    unsigned long answers;     /* verified answers so far (for health) */
    char tag[9];               /* random, keeps local names unique per run */

    int closing, http_closing;
    void (*close_cb)(struct h2h_adapter *a);

    char last_err[H2H_ERR_MSG_MAX]; /* "" while healthy */
    char health[H2H_ERR_MSG_MAX + 16];
};

/* openapi_json.c */
/* Remember a failure for health ("degraded: ..."); canceled ones (our own
 * shutdown) say nothing about the bank. */
void oj_note_err(struct oj *o, const struct h2h_err *e);
void oj_note_ok(struct oj *o);
/* An operation (submit, recover, poll) or a thread-pool job ended: finish
 * a close that waits for it. */
void oj_op_done(struct oj *o);
void oj_work_done(struct oj *o);
/* uv_queue_work counted in o->works. */
int oj_queue_work(struct oj *o, uv_work_t *w, uv_work_cb work,
                  uv_after_work_cb after, struct h2h_err *err);

/* ---- token (oj_token.c) ---------------------------------------------------
 */

/* A valid token (not due for refresh), or NULL; *gen its generation. */
const char *oj_token_current(struct oj *o, unsigned *gen);
/* Wait for a token: 0 and w->ready runs later, once; or an error when no
 * token request could be started (w->ready never runs).  Starts a fetch
 * when none runs. */
int oj_token_wait(struct oj *o, struct oj_token_wait *w, struct h2h_err *err);
/* Forget a waiter (its ready will not run); for close. */
void oj_token_unwait(struct oj *o, struct oj_token_wait *w);
/* The bank refused the token of generation gen: drop it (unless a newer
 * one is already there). */
void oj_token_invalidate(struct oj *o, unsigned gen);
void oj_token_release(struct oj *o);

/* ---- calls (oj_call.c) -------------------------------------------------- */

struct oj_call_spec {
    const char *method; /* "GET", "POST" */
    const char *path;   /* "/v1/...", already URL-encoded */
    const void *body;   /* copied */
    size_t body_len;
    const char *content_type;   /* with a body */
    const char *const *headers; /* extra "Name: value", NULL-ended */
    unsigned flags;             /* HTTPS_* */
};

/* What a call got.  outcome OK: a complete, verified answer (status, json
 * when the body is a JSON object or array, else NULL); otherwise err says
 * why, with outcome as the transport classified it (TEMPFAIL, PERMFAIL,
 * UNKNOWN), or UNKNOWN for an answer whose signature, id or freshness
 * failed (bad_answer = 1). */
struct oj_reply {
    enum h2h_outcome outcome;
    struct h2h_err err;
    int bad_answer;
    long status;
    json_t *json; /* borrowed, valid during the callback */
    const char *body;
    size_t body_len;
};

typedef void (*oj_call_cb)(struct oj *o, const struct oj_reply *r, void *data);

/* Start a /v1 call: 0 and cb later, exactly once; or an error (cb never
 * runs).  Attaches the token (fetching one when needed), repeats the call
 * once with a new token after a 401 invalid_token, and verifies the
 * answer's signature and freshness before cb sees it. */
int oj_call(struct oj *o, const struct oj_call_spec *spec, oj_call_cb cb,
            void *data, struct h2h_err *err);
/* "error: field: message" of a JSON error answer, for messages (cut,
 * control characters replaced). */
void oj_reply_problem(const struct oj_reply *r, char *buf, size_t n);
/* Percent-encode s into buf (unreserved characters kept); 0 or
 * H2H_ETOOBIG. */
int oj_urlenc(const char *s, char *buf, size_t n);
/* Shared replay windows (one per bank name across instances, so that a
 * reload does not forget what was seen). */
int oj_replay_get(const char *bank, unsigned window_s, struct oj_replay **out,
                  struct h2h_err *err);
void oj_replay_put(struct oj_replay *r);

/* ---- canonical payment -> JSON (oj_json.c) ------------------------------ */

/* One transaction of a message, as sent and as answered. */
enum oj_tx_state {
    TX_NONE = 0, /* not asked yet */
    TX_CREATED,  /* the bank has it (201/200, or found by inquiry) */
    TX_REFUSED,  /* 400 naming a field of this payment: not created */
    TX_CONFLICT, /* 422: the key was used with other bytes */
    TX_MISSING,  /* inquiry: 404, not created */
    TX_TEMP,     /* try again later; nothing harmful happened */
    TX_UNKNOWN,  /* may or may not have been created */
    TX_PERM,     /* will not work as configured (auth, TLS, our bug) */
};

struct oj_tx {
    char key[OJ_KEY_MAX + 1]; /* Idempotency-Key */
    char *body;               /* the exact bytes sent, every time */
    size_t body_len;
    char *e2e, *instr_id, *pmt_inf_id;
    char amount[40], ccy[4];
    /* the answer */
    enum oj_tx_state st;
    char payment_id[65];
    char status[8], reason[8];
    char *error; /* refused / failed: what the bank or transport said */
};

struct oj_batch {
    char *orgnl_msg_id; /* the payment file's MsgId */
    char *orgnl_nm_id;  /* its format, e.g. "pain.001.001.03" */
    struct oj_tx *txs;
    size_t n_txs;
};

/* Thread pool.  Read the canonical payment at path and build every
 * transaction's body and key (msg_id-0001, ...) in file order.  today:
 * "YYYY-MM-DD", for the execution date check.  0, or H2H_EINVALID /
 * H2H_EPARSE / -errno / H2H_ETOOBIG with err naming the transaction and
 * the problem (nothing of b is then valid; release it anyway). */
int oj_batch_read(const char *path, const char *msg_id, const char *today,
                  struct oj_batch *b, struct h2h_err *err);
void oj_batch_release(struct oj_batch *b);
/* The JSON body of one transaction (deterministic: compact, fixed member
 * order), or an error naming the field that the bank would refuse. */
int oj_body_build(const struct fmt_pay_group *g, const struct fmt_pay_tx *t,
                  const char *today, char **body, size_t *len,
                  struct h2h_err *err);

/* ---- records and status reports (oj_record.c; thread pool) -------------- */

/* A new record for a message whose submit or recover ended OK: every
 * transaction with its state and answer.  NULL on ENOMEM. */
json_t *oj_record_new(const char *msg_id, const struct oj_batch *b);

/* ---- submit / recover (oj_submit.c) ------------------------------------- */

int oj_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
              h2h_result_cb cb, struct h2h_err *err);
int oj_recover(struct h2h_adapter *a, struct h2h_submit_req *req,
               h2h_result_cb cb, struct h2h_err *err);

/* ---- poll (oj_poll.c) and statements (oj_stmt.c) ------------------------ */

int oj_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
            struct h2h_err *err);
/* 1 while the running poll works on msg_id's record (asks about its
 * payments or writes its next report): a submit or recover ending OK
 * must not write the same record then. */
int oj_poll_holds(const struct oj *o, const char *msg_id);
/* 1 while a submit or recover of msg_id runs (oj_submit.c). */
int oj_msg_running(const struct oj *o, const char *msg_id);
void oj_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                       const struct h2h_download *dl, int rc);

/* One account's statement: balances and entries fetched, then built and
 * written (thread pool) as a canonical Statements document. */
struct oj_stmt_job;
/* Fetch and build the statement of account (o->s.accounts[i]) for
 * from..to into a new file in tmp_dir; done(...) later, once, with its
 * path, remote name, SHA-256 and size, or with path NULL and err (and
 * bank_down when the bank could not be reached: no use asking more this
 * round).  The file at path belongs to the caller. */
typedef void (*oj_stmt_done_fn)(struct oj *o, void *data, const char *path,
                                const char *name, const char *sha256,
                                uint64_t size, const struct h2h_err *err,
                                int bank_down);
int oj_stmt_fetch(struct oj *o, size_t i, const char *from, const char *to,
                  const char *tmp_dir, oj_stmt_done_fn done, void *data,
                  struct h2h_err *err);
/* "YYYY-MM-DD" of now + days_offset, UTC. */
void oj_date(int days_offset, char out[11]);

/* ---- bill pool and supply-chain finance ------------------------------------
 * oj_fam.c    records (state_dir/fam/<fam>-<ReqId>.json, markers of the open
 *             ones in state_dir/fam/open/), documents into
 *             outbox/, submit and recover of one request
 * oj_bill.c   <BillRequest> -> plan; the bank's JSON -> <BillResult>,
 *             <BillNotice>
 * oj_scf.c    <ScfRequest> / tsin.001 / tsin.003 -> plan; JSON ->
 *             <ScfResult>
 * oj_vchr.c   credit vouchers (<VchrOp>, <VchrInq>, holdings)
 * oj_round.c  the bills round of a poll: pending follow-ups, notices,
 *             pool, repayment notices, holdings
 * A "doc" is a small JSON object holding what the bank said (kept in a
 * record or state file) from which one XML document is rendered, the same
 * bytes every time. */

enum oj_fam { OJ_FAM_BILLS = 1, OJ_FAM_SCF = 2 };

/* oj_jval.c: values both directions use.  An amount as {amount,
 * currency} (NULL when it does not format). */
json_t *oj_jamount(const struct fmt_amount *a);
/* The account's number: its other id, else its IBAN. */
const char *oj_acct_no(const struct fmt_account *a);
/* fmt_strset of v; nothing when v is NULL. */
int oj_dup_str(char **dst, const char *v);
/* The bank's {amount, currency} into out: zero when a (or either member)
 * is missing, -1 when the figure does not parse. */
int oj_amount_of(const json_t *a, struct fmt_amount *out);

/* What one request becomes at the bank. */
struct oj_fplan {
    enum oj_fam fam;
    char req_id[65]; /* the Idempotency-Key and body request_id */
    char op[24];     /* for messages */
    int post;        /* 1: one POST; 0: GETs (an inquiry) */
    char *path;      /* POST: its path; GET: the path (with filters) */
    char *body;      /* POST: the exact bytes */
    size_t body_len;
    const char *items; /* GET paged: the list's member; NULL: one GET */
    json_t *ctx;       /* what reading the answers needs ("fam", "req_id",
                          "op", ...) */
};
void oj_fplan_release(struct oj_fplan *p);

/* 1 when id can be a key and part of a file name: 1-64 of A-Z a-z 0-9
 * . _ -, not starting with '.'. */
int oj_fam_id_ok(const char *id);

/* oj_bill.c (thread pool) */
int oj_bill_plan(const char *payload, const struct oj_settings *s,
                 struct oj_fplan *p, struct h2h_err *err);
/* A <BillResult> doc; takes drafts (an array of piece JSON, may be NULL). */
json_t *oj_bill_doc(const json_t *ctx, const char *outcome, const char *code,
                    const char *text, json_t *drafts);
/* A copy of a piece without updated_at and history. */
json_t *oj_bill_piece(const json_t *piece);
int oj_bill_render(const json_t *doc, char **buf, size_t *len,
                   struct h2h_err *err);

/* oj_scf.c (thread pool) */
int oj_scf_plan(const char *payload, const struct oj_settings *s,
                struct oj_fplan *p, struct h2h_err *err);
int oj_scf_render(const json_t *doc, char **buf, size_t *len,
                  struct h2h_err *err);
/* The status-report doc of a financing view (and of a cancellation's
 * answer: cxl "accepted" / "refused" with code and text, else NULL). */
json_t *oj_scf_sts_doc(const json_t *view, const char *cxl, const char *code,
                       const char *text);
/* What of a financing view a new status report is made for. */
char *oj_scf_view_key(const json_t *view);

/* oj_vchr.c (thread pool): credit vouchers */
struct fmt_canon_scf_request;
struct fmt_canon_scf_result;
int oj_scf_plan_voucher(const struct fmt_canon_scf_request *rq,
                        const struct oj_settings *s, struct oj_fplan *p,
                        struct h2h_err *err);
json_t *oj_scf_vop_answer(const struct oj_settings *s, const json_t *ctx,
                          long status, const json_t *answer, json_t **follow,
                          struct h2h_err *err);
json_t *oj_scf_vinq_answer(const struct oj_settings *s, const json_t *ctx,
                           long status, const json_t *answer,
                           struct h2h_err *err);
/* The doc of a followed voucher operation (rec) whose voucher (got) is
 * no longer pending. */
json_t *oj_scf_vop_followed(const struct oj_settings *s, const json_t *rec,
                            const json_t *got);
/* A <Hldgs> doc of our vouchers (the bank's list); req_id and party may
 * be NULL (party: the holder of the first voucher; no doc when there is
 * none). */
json_t *oj_scf_hldgs_doc(const struct oj_settings *s, const char *req_id,
                         const char *party, const json_t *vouchers);
/* <Hldgs> / <VchrOpRslt> of a doc ("t" scf_hldgs / scf_vop) into r. */
int oj_scf_vouchers_of(const json_t *doc, struct fmt_canon_scf_result *r,
                       struct h2h_err *err);

/* oj_fam.c */
/* The documents of an answer to a plan's request: POST (201 / 422
 * refusal) or inquiry (the object, or the items of every page); a new
 * array of docs, *follow a follow-up (or NULL).  NULL with err. */
json_t *oj_fam_answer(const struct oj_settings *s, const json_t *ctx,
                      long status, const json_t *answer, json_t **follow,
                      struct h2h_err *err);
/* Thread pool: rec (its "docs" beyond "written") made durable as outbox
 * files, then written = docs. */
int oj_fam_flush(const struct oj *o, json_t *rec, struct h2h_err *err);
/* Thread pool: write rec durably (replacing). */
int oj_fam_save(const struct oj *o, const json_t *rec, struct h2h_err *err);
/* 1 when a bills round has work in rec: a "follow" object, or answered
 * documents not all "written".  Such a record has a marker, the empty file
 * fam_dir/OJ_OPEN_DIR/<record name>: oj_fam_save makes it durable before
 * it writes an open record and removes it after it wrote a settled one
 * (answered, not open). */
int oj_fam_open(const json_t *rec);
#define OJ_OPEN_DIR "open"
#define OJ_OPEN_BUILT ".built" /* in OJ_OPEN_DIR: every old record marked */
/* Thread pool: fn(rec, data) for each marked record (rec is the caller's
 * during fn, which may change it), its marker removed after fn when rec
 * is settled; a marker whose record is missing or unanswered stays.  Until
 * the markers are known whole (OJ_OPEN_BUILT), fn sees every record once
 * instead while they are made.  0, or an error (fn may have seen some
 * of them, or none). */
int oj_fam_open_each(const struct oj *o, void (*fn)(json_t *rec, void *data),
                     void *data, struct h2h_err *err);
/* Thread pool: write one doc as outbox/name (an existing name is kept:
 * it holds the same bytes). */
int oj_fam_put_doc(const struct oj *o, const char *name, const json_t *doc,
                   struct h2h_err *err);
int oj_fam_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
                  h2h_result_cb cb, int recover, struct h2h_err *err);
int oj_fam_running(const struct oj *o, const char *fam, const char *req_id);

/* Fetch path (a list: every page of member items; else the one object):
 * done runs once, with the JSON (owned by the callee: decref) or NULL and
 * err, and status the last HTTP status. */
typedef void (*oj_fetch_fn)(struct oj *o, void *data, long status, json_t *got,
                            const struct h2h_err *err);
int oj_fetch(struct oj *o, const char *path, const char *items,
             oj_fetch_fn done, void *data, struct h2h_err *err);

/* oj_round.c: the bills round; done once with whether documents were
 * put into outbox/ and the first failure (NULL: none). */
typedef void (*oj_round_fn)(struct oj *o, void *data, int wrote,
                            const struct h2h_err *err, int bank_down);
int oj_round_start(struct oj *o, oj_round_fn done, void *data,
                   struct h2h_err *err);

#endif
