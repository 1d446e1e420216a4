/*
 * cx_int.h - shared by the files of the cnbank_xml adapter.  Not an API:
 * see cnbank_xml.h.  PROFILE.md (this folder) is the contract for every
 * profile setting and every byte on the wire.  Who does what:
 *   cnbank_xml.c   create, health, certs, close, the ops table
 *   cx_config.c    the bank's settings (check_config and create)
 *   cx_profile.c   the profile file: parsed, validated (file:line), kept
 *   cx_msg.c       requests built (DOM -> encoding -> signature) and
 *                  answers read (signature, decoding, echo, code, results)
 *   cx_wire.c      framing: HTTPS POST (https.h) or length-prefixed TCP
 *   cx_pay.c       canonical payment file -> single payments or a payroll
 *   cx_submit.c    submit and recover
 *   cx_poll.c      poll: reports, pending inquiries, statements, receipts
 *   cx_stmt.c      transactions (paged) -> canonical statement; receipts
 *   cx_profile_fam.c  the bill pool / scf families' value tables
 *   cx_bill.c, cx_scf.c  bill / scf requests -> plans; answers -> results
 *   cx_fam_val.c   the values both families convert the same way
 *   cx_fam.c       submit and recover of bill / scf messages (records)
 *   cx_fam_poll.c  the bills round of a poll
 *
 * Threads: everything on the loop thread, except what says "thread pool".
 */
#ifndef H2H_CX_INT_H
#define H2H_CX_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <libconfig.h>
#include <libxml/tree.h>
#include <openssl/x509.h>
#include <uv.h>

#include "adapter.h"
#include "cert.h"
#include "h2h_err.h"
#include "records.h"
#include "settings.h"

/* ---- profile (cx_profile.c) ------------------------------------------- */

enum cx_fn {
    CX_FN_PAYMENT = 0,
    CX_FN_PAYMENT_STATUS,
    CX_FN_PAYROLL,
    CX_FN_PAYROLL_RESULT,
    CX_FN_BALANCE,
    CX_FN_TRANSACTIONS,
    CX_FN_RECEIPTS,
    CX_FN_RECEIPT_DOWNLOAD,
    CX_FN_CORE, /* the ones above are required; the families optional */
    /* bills family (PROFILE.md "Bill pool and supply-chain finance") */
    CX_FN_BILL_OPERATION = CX_FN_CORE,
    CX_FN_BILL_QUERY,
    CX_FN_BILL_DRAFTS,
    CX_FN_BILL_NOTICES,
    CX_FN_BILL_POOL,
    CX_FN_BILL_HISTORY, /* optional within the family */
    /* scf family */
    CX_FN_SCF_FINANCING,
    CX_FN_SCF_QUERY,
    CX_FN_SCF_CANCEL,
    CX_FN_VOUCHER_OPERATION,
    CX_FN_VOUCHER_QUERY,
    CX_FN_VOUCHER_LIST,
    CX_FN_COUNT
};
/* "payment", "payment_status", ... (the profile's names). */
const char *cx_fn_name(enum cx_fn f);

/* Template tokens (PROFILE.md, "Tokens"). */
enum cx_tok {
    CX_T_FUNCTION = 0,
    CX_T_LOGIN,
    CX_T_USER,
    CX_T_REQUEST_ID,
    CX_T_DATE,
    CX_T_TIME,
    CX_T_SERIAL,
    CX_T_DEBTOR_ACCOUNT,
    CX_T_DEBTOR_NAME,
    CX_T_CREDITOR_ACCOUNT,
    CX_T_CREDITOR_NAME,
    CX_T_CREDITOR_BANK,
    CX_T_AMOUNT,
    CX_T_CURRENCY,
    CX_T_CURRENCY_CODE,
    CX_T_REMITTANCE,
    CX_T_COUNT,
    CX_T_TOTAL,
    CX_T_ITEM_NO,
    CX_T_ACCOUNT,
    CX_T_FROM,
    CX_T_TO,
    CX_T_PAGE,
    CX_T_RECEIPT_ID,
    /* the bills and scf families; all may be empty (PROFILE.md) */
    CX_T_ORIG_SERIAL,
    CX_T_OUR_ACCOUNT,
    CX_T_BILL_OP,
    CX_T_DRAFT_NO,
    CX_T_SUB_FROM,
    CX_T_SUB_TO,
    CX_T_DRAFT_KIND,
    CX_T_ISSUE_DATE,
    CX_T_MATURITY_DATE,
    CX_T_TRANSFERABLE,
    CX_T_DIVISIBLE,
    CX_T_CPTY_NAME,
    CX_T_CPTY_ACCOUNT,
    CX_T_CPTY_BANK,
    CX_T_ACCEPTOR_NAME,
    CX_T_ACCEPTOR_ACCOUNT,
    CX_T_ACCEPTOR_BANK,
    CX_T_PAYEE_NAME,
    CX_T_PAYEE_ACCOUNT,
    CX_T_PAYEE_BANK,
    CX_T_RATE,
    CX_T_OP_DATE,
    CX_T_POOL_ID,
    CX_T_NOTICE_ID,
    CX_T_OVERDUE,
    CX_T_REASON,
    CX_T_MEMO,
    CX_T_VOUCHER_OP,
    CX_T_VOUCHER_ID,
    CX_T_FINANCING_KIND,
    CX_T_VALUE_DATE,
    CX_T_PRODUCT,
    CX_T_AGREEMENT_REF,
    CX_T_CONTRACT_REF,
    CX_T_INVOICE_NO,
    CX_T_TAX_CODE,
    CX_T_INVOICE_AMOUNT,
    CX_T_INVOICE_ISSUE_DATE,
    CX_T_INVOICE_DUE_DATE,
    CX_T_BUYER_NAME,
    CX_T_SELLER_NAME,
    CX_T_SELLER_ACCOUNT,
    CX_T_DRAFT_STATUS,
    CX_T_MATURITY_FROM,
    CX_T_MATURITY_TO,
    CX_T_HOLDER,
    CX_T_N
};
/* The first token of the families: from here on every token may be
 * empty, and the caller decides which ones an operation needs. */
#define CX_T_FAMILY CX_T_ORIG_SERIAL
/* "function", "login", ... (without braces). */
const char *cx_tok_name(enum cx_tok t);

/* Result keys (PROFILE.md, "functions": the `result` and `item` keys). */
enum cx_key {
    CX_K_SERIAL = 0,
    CX_K_STATUS,
    CX_K_BANK_REF,
    CX_K_REASON,
    CX_K_AMOUNT,
    CX_K_ITEMS, /* path of the repeated element (not a value) */
    CX_K_ITEM_NO,
    CX_K_CREDITOR_ACCOUNT,
    CX_K_CREDITOR_NAME,
    CX_K_ACCOUNT,
    CX_K_NAME,
    CX_K_CURRENCY,
    CX_K_BALANCE,
    CX_K_AVAILABLE,
    CX_K_NEXT,
    CX_K_MORE,
    CX_K_ENTRY_ID,
    CX_K_BOOKING_DATE,
    CX_K_VALUE_DATE,
    CX_K_CREDIT_DEBIT,
    CX_K_DEBIT_VALUE,  /* a value, not a path */
    CX_K_CREDIT_VALUE, /* a value, not a path */
    CX_K_COUNTERPARTY_NAME,
    CX_K_COUNTERPARTY_ACCOUNT,
    CX_K_COUNTERPARTY_BANK,
    CX_K_REMITTANCE,
    CX_K_RECEIPT_ID,
    CX_K_CONTENT,
    /* the bills and scf families */
    CX_K_REASON_CODE,
    CX_K_DRAFT_NO,
    CX_K_DRAFT_KIND,
    CX_K_FACE_AMOUNT,
    CX_K_ISSUE_DATE,
    CX_K_MATURITY_DATE,
    CX_K_DRAWER_NAME,
    CX_K_DRAWER_ACCOUNT,
    CX_K_DRAWER_BANK,
    CX_K_ACCEPTOR_NAME,
    CX_K_ACCEPTOR_ACCOUNT,
    CX_K_ACCEPTOR_BANK,
    CX_K_PAYEE_NAME,
    CX_K_PAYEE_ACCOUNT,
    CX_K_PAYEE_BANK,
    CX_K_HOLDER_NAME,
    CX_K_HOLDER_ACCOUNT,
    CX_K_HOLDER_BANK,
    CX_K_DRAFT_STATUS,
    CX_K_TRANSFERABLE,
    CX_K_DIVISIBLE,
    CX_K_SUB_FROM,
    CX_K_SUB_TO,
    CX_K_NOTICE_ID,
    CX_K_NOTICE_KIND,
    CX_K_FROM_NAME,
    CX_K_FROM_ACCOUNT,
    CX_K_FROM_BANK,
    CX_K_RECEIVED_DATE,
    CX_K_CLAIM_AMOUNT,
    CX_K_EVENT_DATE,
    CX_K_EVENT_OP,
    CX_K_EVENT,
    CX_K_TO_NAME,
    CX_K_POOL_ID,
    CX_K_AS_OF,
    CX_K_PLEDGED_COUNT,
    CX_K_PLEDGED_TOTAL,
    CX_K_DEPOSIT,
    CX_K_QUOTA_TOTAL,
    CX_K_QUOTA_USED,
    CX_K_QUOTA_AVAILABLE,
    CX_K_APPROVED_AMOUNT,
    CX_K_RATE,
    CX_K_INTEREST,
    CX_K_LOAN_REF,
    CX_K_FINANCED_AMOUNT,
    CX_K_FINANCED_DATE,
    CX_K_REPAID_PRINCIPAL,
    CX_K_REPAID_INTEREST,
    CX_K_REPAID_DATE,
    CX_K_INVOICE_NO,
    CX_K_RESULT,
    CX_K_VOUCHER_ID,
    CX_K_ROOT_ID,
    CX_K_PARENT_ID,
    CX_K_LEVEL,
    CX_K_ISSUER_NAME,
    CX_K_ISSUER_ACCOUNT,
    CX_K_TRANSFEROR_NAME,
    CX_K_REMAINING,
    CX_K_VOUCHER_STATUS,
    CX_K_SETTLED_DATE,
    CX_K_N
};
/* A set of tokens or of result keys: one bit each.  There are more than
 * 64 of both, so the sets are 128 bits wide (a GNU C extension, which
 * the build uses: C11 with GNU extensions). */
__extension__ typedef unsigned __int128 cx_set;
#define CX_BIT(n) ((cx_set)1 << (n))
/* "serial", "status", ... (the profile's key names). */
const char *cx_key_name(enum cx_key k);

/* One ( path, template ) of a header, request or item list. */
struct cx_entry {
    char *path;
    char *tmpl;
};

struct cx_function {
    char *code;
    struct cx_entry *request; /* below envelope.body, in order */
    size_t n_request;
    struct cx_entry *header;  /* overrides of envelope.header (same paths) */
    size_t n_header;
    char *items;              /* payroll, scf_financing: repeated element
                                 below body */
    struct cx_entry *item;    /* payroll, scf_financing: below each item */
    size_t n_item;
    /* result: top-level keys -> path below envelope.response_body (NULL:
     * not in the profile).  result[CX_K_ITEMS] is the repeated element's
     * path; item[] the paths below each repeated element (debit_value and
     * credit_value hold values, not paths). */
    char *result[CX_K_N];
    char *item_result[CX_K_N];
    int content_base64; /* receipt_download: content_encoding = "base64" */
};

enum cx_framing { CX_FRAMING_HTTP = 0, CX_FRAMING_TCP };
enum cx_sig_where { CX_SIG_NONE = 0, CX_SIG_HEADER, CX_SIG_ELEMENT };
enum cx_paging { CX_PAGING_TOKEN = 0, CX_PAGING_PAGE };
enum cx_code_class {
    CX_CODE_OK = 0,
    CX_CODE_BUSY,
    CX_CODE_NOT_FOUND,
    CX_CODE_DUPLICATE, /* errors.duplicate */
    CX_CODE_ERROR      /* any other code: refused, nothing done */
};

struct cx_pair {
    char *a, *b;
};

/* A loaded profile: immutable after cx_profile_load, shared read-only by
 * the loop thread and thread-pool jobs; freed with cx_profile_free. */
struct cx_profile {
    char *file; /* the path it was loaded from */
    char *name; /* optional; the file's base name when absent */
    char *encoding;
    enum cx_framing framing;
    char *content_type; /* http */
    int length_digits;  /* tcp */
    int amount_fen;     /* 0: yuan "1234.50", 1: fen "123450" */
    char *date_format, *time_format;
    int utc_offset_min; /* +08:00 -> 480 */
    struct cx_pair *ccy; /* ( ISO 4217, bank code ) */
    size_t n_ccy;
    struct {
        int serial, name, remittance, bank_name, batch_items;
    } limits;

    char *root;
    struct cx_entry *header;
    size_t n_header;
    char *body;          /* "" = the root */
    char *response_body; /* "" = the root */

    char *code_path, *message_path;
    char **echo; /* header paths */
    size_t n_echo;
    char **ok, **busy, **not_found;
    size_t n_ok, n_busy, n_not_found;
    struct {
        char *format, *signature, *login, *invalid, *duplicate, *account;
    } errors;

    enum cx_sig_where sig_where, resp_sig_where;
    char *sig_header, *sig_element;           /* request */
    char *resp_sig_header, *resp_sig_element; /* answer */

    enum cx_paging paging;
    long page_first;
    char *more_value, *last_value;

    struct cx_function fn[CX_FN_COUNT];
    struct cx_pair *status_map; /* ( bank value, PDNG|ACCP|ACSC|ACTC|RJCT ) */
    size_t n_status_map;

    /* The optional families (fn[] entries of an absent family have code
     * NULL) and their value tables, ( h2hd name, the bank's value ):
     * PROFILE.md "Bill pool and supply-chain finance". */
    int has_bills, has_scf;
    struct cx_table {
        struct cx_pair *v;
        size_t n;
    } t_bill_ops, t_draft_kinds, t_draft_status, t_results, t_fin_kinds,
        t_fin_status, t_voucher_ops, t_voucher_status;
    char *yes, *no; /* yes_no */
};

/*
 * Read and check the profile file at path (already resolved against
 * base_dir).  Every problem goes to a->report with the offending setting
 * of the profile's own config tree (so the message names the profile
 * file and line), or with at (the bank's `profile` setting) when the file
 * cannot be read or parsed at all (then naming the file and the parser's
 * line).  Returns the number of problems; when it is 0 and out is not
 * NULL, *out receives the profile (caller frees with cx_profile_free).
 * a->oom is set when memory ran out.
 */
int cx_profile_load(const char *path, struct aset *a,
                    const config_setting_t *at, struct cx_profile **out);
void cx_profile_free(struct cx_profile *p);
/* The class of a return code. */
enum cx_code_class cx_code_class(const struct cx_profile *p, const char *code);
/* The bank's currency code of an ISO one and back; NULL when not listed. */
const char *cx_ccy_bank(const struct cx_profile *p, const char *iso);
const char *cx_ccy_iso(const struct cx_profile *p, const char *bank);
/* The ISO status of a bank status value; NULL when not in status_map. */
const char *cx_status_iso(const struct cx_profile *p, const char *bank);
/* A value table's bank value of an h2hd name and back; NULL when not
 * listed (or the table is absent). */
const char *cx_tab_bank(const struct cx_table *t, const char *name);
const char *cx_tab_name(const struct cx_table *t, const char *bank);
/* The result keys an ok answer of fn must carry (item: in each item). */
cx_set cx_keys_required(const struct cx_profile *p, enum cx_fn fn, int item);

/* cx_profile_fam.c: the families' value tables, read from the profile's
 * root (has_bills / has_scf already set from the functions present);
 * problems to a like cx_profile_load's.  Returns the number of problems.
 * Frees with cx_fam_free. */
int cx_fam_read(struct cx_profile *p, const config_setting_t *root,
                struct aset *a);
void cx_fam_free(struct cx_profile *p);

/* ---- the bank's settings (cx_config.c) ---------------------------------- */

#define CX_PATH_MAX 4096

struct cx_settings {
    char *profile_path; /* resolved */
    struct cx_profile *profile; /* loaded from profile_path (owned) */
    char *url;          /* framing http */
    char *host;         /* framing tcp: a loopback address */
    int port;
    char *login, *user; /* user defaults to login */
    char **accounts;    /* digits */
    size_t n_accounts;
    char *serial_prefix;
    struct aset_sign sign; /* our request-signing identity */
    char *bank_cert;       /* pinned: the bank's answer signatures */
    struct aset_tls tls;   /* framing http: mutual TLS, proxy */
    int statement_days;
    unsigned statement_interval_s, pending_interval_s;
    unsigned bills_interval_s; /* the bills rounds (cx_fam_poll.c) */
    struct aset_party *parties; /* scf_parties (settings.h) */
    size_t n_parties;
    int receipts; /* fetch receipts with statements (default yes) */
    unsigned connect_timeout_s, request_timeout_s;
    int max_concurrent;
};

/* check_config pass (out NULL) or create pass (out filled, the profile
 * loaded; release with cx_settings_release).  The profile file is read
 * and checked in both passes (it is part of the configuration).
 * Returns the number of problems reported. */
int cx_settings_read(const config_setting_t *bank, struct aset *a,
                     struct cx_settings *out);
void cx_settings_release(struct cx_settings *s);

/* ---- requests and answers (cx_msg.c) ------------------------------------ */

/* Token values for one request (UTF-8; NULL = not given).  Payroll items
 * have their own struct cx_vals each (only the item tokens are read from
 * them). */
struct cx_vals {
    const char *v[CX_T_N];
};

/* The bytes to send: body (in the profile's encoding, XML declaration
 * first, signature element filled when the profile puts it there) and,
 * for signature.where "http-header", the header's value (base64). */
struct cx_request {
    char *body;
    size_t len;
    char *sig_header_value; /* NULL unless CX_SIG_HEADER */
};
void cx_request_release(struct cx_request *r);

/*
 * Thread pool (signing).  Build function fn's request from the profile
 * and the values: header (with the function's overrides), body, payroll
 * items, signature.  Every value is checked first: a token the function
 * uses but vals lacks is H2H_EINVALID; a value the profile's encoding
 * cannot represent is H2H_EINVALID naming the token ("{creditor_name}:
 * character U+20AC cannot be written in GBK"); control characters,
 * leading/trailing blanks and lengths over limits.* likewise.  sign_id may
 * be NULL only when signature.where is none.  0 or an error; out is
 * filled only on 0.
 */
int cx_request_build(const struct cx_profile *p, enum cx_fn fn,
                     const struct cx_vals *vals, const struct cx_vals *items,
                     size_t n_items, const struct cert_identity *sign_id,
                     struct cx_request *out, struct h2h_err *err);

/* An answer's results, UTF-8.  top[k]: the value of result key k (NULL
 * when the profile has no such key or the element is absent); items:
 * n_items rows of CX_K_N values each (row i key k at items[i * CX_K_N +
 * k]). */
struct cx_answer {
    enum cx_code_class cls;
    char *code;    /* as the bank wrote it */
    char *message; /* may be NULL */
    char *top[CX_K_N];
    char **items;
    size_t n_items;
};
void cx_answer_release(struct cx_answer *a);

/*
 * Thread pool (verification).  Read an answer to a request of function fn
 * that carried vals (for the echo check), in PROFILE.md's order: bank
 * signature (sig_header_value from the HTTP header, or the element) ->
 * decoding in the profile's encoding (the declaration must name it) ->
 * hardened parse -> root -> echo -> code and message -> results (for ok
 * answers; a missing required result element is an error).  bank: the
 * pinned bank certificate(s) (NULL only when signature.response is
 * none).  0 with out filled, or an error (H2H_EAUTH signature,
 * H2H_ECHARSET, H2H_EPARSE, H2H_EPROTO echo or missing element...): the
 * caller treats every error as "no answer".
 */
int cx_answer_read(const struct cx_profile *p, enum cx_fn fn,
                   const struct cx_vals *vals, const void *body, size_t len,
                   const char *sig_header_value, const struct cert_peer *bank,
                   struct cx_answer *out, struct h2h_err *err);

/* Amount conversions between the profile's unit and minor units (fen). */
int cx_amount_to_minor(const struct cx_profile *p, const char *s,
                       int64_t *minor, struct h2h_err *err);
void cx_amount_format(const struct cx_profile *p, int64_t minor, char *buf,
                      size_t n);
/* Dates: "YYYY-MM-DD" <-> the profile's date_format. */
int cx_date_to_iso(const struct cx_profile *p, const char *s, char out[11],
                   struct h2h_err *err);
void cx_date_format(const struct cx_profile *p, const char *iso, char *buf,
                    size_t n);
/* Now on the bank's clock: {date} and {time} in the profile's formats,
 * and today as "YYYY-MM-DD" (days_offset added). */
void cx_bank_now(const struct cx_profile *p, char *date, size_t dn,
                 char *time, size_t tn);
void cx_bank_today(const struct cx_profile *p, int days_offset, char out[11]);

/* ---- framing (cx_wire.c) ------------------------------------------------ */

struct cx_wire;

/* What one exchange got.  outcome OK: a complete answer (HTTP 200, or a
 * complete length-prefixed message), body/len/sig_header_value valid
 * during the callback only.  Otherwise err says why; outcome TEMPFAIL
 * (nothing was sent: refused, TLS handshake failed before sending,
 * canceled before sending), UNKNOWN (the request may have reached the
 * bank: cut, timed out, HTTP status other than 200 after sending,
 * garbage length prefix), PERMFAIL (TLS policy: the bank's certificate
 * or host name refused, our client certificate refused; bad local
 * files). */
struct cx_wire_result {
    enum h2h_outcome outcome;
    struct h2h_err err;
    const char *body;
    size_t len;
    const char *sig_header_value; /* response_header's value, or NULL */
};
typedef void (*cx_wire_cb)(const struct cx_wire_result *r, void *data);

/* A per-bank transport for profile p with settings s (both must outlive
 * the wire).  http: an https_client (mutual TLS from s->tls, max
 * s->max_concurrent); tcp: connections to s->host:s->port, one per
 * request, at most max_concurrent at a time (the rest queued FIFO). */
int cx_wire_new(uv_loop_t *loop, const struct cx_profile *p,
                const struct cx_settings *s, struct cx_wire **out,
                struct h2h_err *err);
/* Send one request (copied): 0 and cb later, exactly once, on the loop
 * thread; or an error (cb never runs). */
int cx_wire_send(struct cx_wire *w, const struct cx_request *rq,
                 cx_wire_cb cb, void *data, struct h2h_err *err);
/* Stop: queued and running exchanges end (TEMPFAIL or UNKNOWN,
 * H2H_ECANCELED), then cb(data) once and w is freed. */
void cx_wire_close(struct cx_wire *w, void (*cb)(void *data), void *data);

/* ---- the adapter instance (cnbank_xml.c) -------------------------------- */

struct cx_msg;
struct cx_poll;

struct cx {
    struct h2h_adapter base;
    struct cx_settings s; /* s.profile: the profile */
    const struct cx_profile *p;
    struct arec_dirs dirs;
    char receipts_dir[CX_PATH_MAX]; /* state_dir/receipts: delivered ids */
    struct cx_wire *wire;
    struct cert_identity *sign_id; /* NULL when the profile signs nothing */
    struct cert_identity *tls_id;  /* framing http, for the inventory */
    STACK_OF(X509) * bank_pin;     /* bank_cert */
    STACK_OF(X509) * tls_cas;      /* tls.ca_file, for the inventory */
    struct cert_peer peer;         /* the bank's answers: pinned bank_pin */

    struct cx_msg *msgs;      /* running submits and recovers */
    struct cx_poll *poll;     /* the running poll, or NULL */
    int ops;                  /* msgs + poll */
    int works;                /* thread-pool jobs not yet back */
    uint64_t next_stmt_ms;    /* uv_now() when statements are due */
    uint64_t next_pending_ms; /* uv_now() when pending payments are due */
    uint64_t next_bills_ms;   /* uv_now() when the bills round is due */
    char fam_dir[CX_PATH_MAX]; /* state_dir/fam: bill and scf records */
    unsigned long seq;        /* request ids and local temporary names */
    unsigned long answers;    /* verified answers so far (for health) */
    char tag[9];              /* random, keeps ids and names unique per run */

    int closing, wire_closing;
    void (*close_cb)(struct h2h_adapter *a);

    char last_err[H2H_ERR_MSG_MAX]; /* "" while healthy */
    char health[H2H_ERR_MSG_MAX + 16];
    /* booking_refs: cx_pay.c's serials as patterns */
    char serial_pattern[64], batch_pattern[64];
};

void cx_note_err(struct cx *c, const struct h2h_err *e);
void cx_note_ok(struct cx *c);
void cx_op_done(struct cx *c);
void cx_work_done(struct cx *c);
int cx_queue_work(struct cx *c, uv_work_t *w, uv_work_cb work,
                  uv_after_work_cb after, struct h2h_err *err);
/* A fresh {request_id} ("Q" + run tag + counter [+ "-" + sub]). */
void cx_request_id(struct cx *c, char *buf, size_t n);

/* ---- one exchange (cx_call.c) -------------------------------------------- */

/* What an exchange got.  out OK: a verified answer of this request (ans,
 * borrowed during the callback; ans->cls says what the bank did).
 * Otherwise ans is NULL and err says why: TEMPFAIL (nothing reached the
 * bank), PERMFAIL (TLS policy, or the request could not be built: a value
 * the bank cannot take), UNKNOWN (no usable answer: it may have been
 * processed; bad_answer = 1 when an answer came but failed its signature,
 * decoding, parsing or echo check). */
struct cx_reply {
    enum h2h_outcome out;
    struct h2h_err err;
    int bad_answer;
    struct cx_answer *ans;
};
typedef void (*cx_call_cb)(struct cx *c, const struct cx_reply *r, void *data);

/* Send an already built request rq (its vals, for the echo check): 0 and
 * cb later, once; or an error (cb never runs).  rq and vals are copied. */
int cx_call_send(struct cx *c, enum cx_fn fn, const struct cx_request *rq,
                 const struct cx_vals *vals, cx_call_cb cb, void *data,
                 struct h2h_err *err);
/* Fill the tokens every request carries ({function} {login} {user}
 * {request_id} {date} {time}) into v; the strings live in bufs. */
struct cx_common {
    char request_id[32], date[32], time[32];
};
void cx_fill_common(struct cx *c, enum cx_fn fn, struct cx_vals *v,
                    struct cx_common *bufs);
/* Build (loop thread) and send a request of fn with v's function tokens
 * (the common ones are filled here).  Inquiries, balance, lists. */
int cx_call(struct cx *c, enum cx_fn fn, const struct cx_vals *v,
            cx_call_cb cb, void *data, struct h2h_err *err);

/* ---- canonical payment -> requests (cx_pay.c) --------------------------- */

enum cx_tx_state {
    TX_NONE = 0, /* not asked yet */
    TX_CREATED,  /* the bank has it (ok, or found by inquiry) */
    TX_REFUSED,  /* an error code: not created, serial unused */
    TX_CONFLICT, /* errors.duplicate: the serial belongs to another */
    TX_MISSING,  /* inquiry: not_found */
    TX_TEMP,     /* try again later; nothing harmful happened */
    TX_UNKNOWN,  /* may or may not have been created */
    TX_PERM,     /* will not work as configured */
};

/* One payment, or one payroll item. */
struct cx_tx {
    char *e2e, *instr_id, *pmt_inf_id;
    char amount[40], ccy[4]; /* ISO decimal, for the status report */
    char amount_bank[32];    /* in the profile's unit */
    char item_no[12];        /* payroll: 1, 2, ... */
    char *creditor_account, *creditor_name, *creditor_bank, *remittance;
    /* payroll items: the bank's answer (payroll_result) */
    char status[8]; /* ISO, "" when not known */
    char *reason;
};

/* One request: a single payment (one tx) or a payroll batch (all txs). */
struct cx_unit {
    char serial[32];
    size_t first, n; /* its txs */
    struct cx_request rq;
    struct cx_vals vals; /* pointers into this unit, its tx, the batch */
    struct cx_common common;
    enum cx_tx_state st;
    char bank_ref[65];
    char status[8]; /* ISO; "" when the bank's value is not in status_map */
    char *bank_status, *error;
};

struct cx_batch {
    char *orgnl_msg_id, *orgnl_nm_id;
    int payroll;
    char *debtor_account, *debtor_name;
    char ccy[4], ccy_code[16];
    char count[16], total[32];
    struct cx_tx *txs;
    size_t n_txs;
    struct cx_unit *units;
    size_t n_units;
};

/* Thread pool.  Read the canonical payment at path into b: payroll (one
 * payment group whose category purpose is SALA) or single payments, with
 * their serials (prefix + msg_id [+ "-" + index]).  A value the bank
 * cannot take is H2H_EINVALID naming the transaction and the field. */
int cx_batch_read(const struct cx *c, const char *path, const char *msg_id,
                  struct cx_batch *b, struct h2h_err *err);
/* Thread pool.  Build and sign every unit's request (fresh request ids
 * from id_base, "<id_base>-<unit>"). */
int cx_batch_build(const struct cx *c, struct cx_batch *b, const char *id_base,
                   struct h2h_err *err);
void cx_batch_release(struct cx_batch *b);
/* Point u's vals at its values (and the batch's, the settings'). */
void cx_unit_vals(const struct cx *c, const struct cx_batch *b,
                  struct cx_unit *u, struct cx_vals *v);
/* The record (records.h) of a batch the bank has. */
json_t *cx_record_new(const struct cx *c, const char *msg_id,
                      const struct cx_batch *b);

/* ---- submit / recover (cx_submit.c) ------------------------------------- */

int cx_submit(struct h2h_adapter *a, struct h2h_submit_req *req,
              h2h_result_cb cb, struct h2h_err *err);
int cx_recover(struct h2h_adapter *a, struct h2h_submit_req *req,
               h2h_result_cb cb, struct h2h_err *err);
int cx_msg_running(const struct cx *c, const char *msg_id);

/* ---- poll (cx_poll.c), statements and receipts (cx_stmt.c) -------------- */

int cx_poll(struct h2h_adapter *a, struct h2h_poll_req *req,
            struct h2h_err *err);
void cx_poll_delivered(struct h2h_adapter *a, struct h2h_poll_req *req,
                       const struct h2h_download *dl, int rc);
int cx_poll_holds(const struct cx *c, const char *msg_id);

/* A file for the daemon: done(...) with its local path (in tmp_dir, the
 * caller's), remote name, SHA-256 and size, or path NULL and err
 * (bank_down: the bank could not be reached, no use asking more). */
typedef void (*cx_file_done_fn)(struct cx *c, void *data, const char *path,
                                const char *name, const char *sha256,
                                uint64_t size, const struct h2h_err *err,
                                int bank_down);
/* Account i's statement for from..to (ISO dates): balance, then every
 * page of transactions, built as canonical XML. */
int cx_stmt_fetch(struct cx *c, size_t i, const char *from, const char *to,
                  const char *tmp_dir, cx_file_done_fn done, void *data,
                  struct h2h_err *err);

/* Account i's receipts for from..to not delivered before: listed (every
 * page), then fetched one at a time through next_receipt. */
struct cx_receipts;
typedef void (*cx_list_done_fn)(struct cx *c, void *data,
                                struct cx_receipts *list,
                                const struct h2h_err *err, int bank_down);
int cx_receipts_list(struct cx *c, size_t i, const char *from, const char *to,
                     cx_list_done_fn done, void *data, struct h2h_err *err);
/* Fetch the next receipt of list into tmp_dir: 0 and done later; 1 when
 * there is none left; or an error. */
int cx_receipts_next(struct cx *c, struct cx_receipts *list,
                     const char *tmp_dir, cx_file_done_fn done, void *data,
                     struct h2h_err *err);
/* The receipt delivered last was taken by the daemon: remember it (a
 * marker in receipts_dir) so that it is not fetched again. */
void cx_receipts_taken(struct cx *c, struct cx_receipts *list);
void cx_receipts_free(struct cx_receipts *list);

/* A unique local temporary name in the daemon's tmp_dir. */
void cx_local_name(struct cx *c, char *buf, size_t n);

/* ---- bill pool and supply-chain finance --------------------------------
 * cx_bill.c / cx_scf.c   a dropped request -> a plan (the bank function and
 *                        its token values); answers -> canonical results
 * cx_fam.c               submit and recover of such a message, its record
 *                        and results (write-ahead, outbox)
 * cx_fam_poll.c          the bills rounds
 */

enum cx_fam { CX_FAM_BILLS = 1, CX_FAM_SCF = 2 };

/* What a bill or scf message asks of the bank.  An operation is one
 * request of fn with {serial}; an inquiry runs list / query functions and
 * sends nothing that changes anything.  Strings are owned by the plan
 * (pool); vals and items point into it. */
struct cx_plan {
    enum cx_fam fam;
    enum cx_fn fn;    /* the operation's function; inquiries: see inq */
    enum cx_fn query; /* recover and rounds ask this by serial */
    int inquiry;      /* 0: an operation */
    char serial[40];
    char req_id[72];  /* the treasury's ReqId: in every result */
    char op[32];      /* its operation's name, for the result */
    char orig_req[72]; /* cancel, scf inquiry: the request named */
    char draft_no[32]; /* draft_detail */
    int scf_kind;      /* enum fmt_canon_scf_req_kind, scf only */
    struct cx_vals v;
    struct cx_vals *items;
    size_t n_items;
    char **pool;
    size_t n_pool, cap_pool;
};
void cx_plan_release(struct cx_plan *pl);
/* Keep a copy of s in the plan as token t's value (or an item's). */
int cx_plan_set(struct cx_plan *pl, struct cx_vals *v, enum cx_tok t,
                const char *s);

/* The values cx_bill.c and cx_scf.c convert alike (cx_fam_val.c), any
 * thread.  Into a plan: put copies s (NULL: nothing) as token t of v (the
 * plan's own vals or an item's); date and minor write an ISO date / minor
 * units in the profile's format and unit; a failed copy sets oom, which
 * the planner turns into H2H_ENOMEM once. */
struct fmt_account;
struct fmt_amount;
struct cx_fvals {
    const struct cx *c;
    struct cx_plan *pl;
    int oom;
};
void cx_fv_put(struct cx_fvals *b, struct cx_vals *v, enum cx_tok t,
               const char *s);
void cx_fv_date(struct cx_fvals *b, struct cx_vals *v, enum cx_tok t,
                const char *iso);
void cx_fv_minor(struct cx_fvals *b, struct cx_vals *v, enum cx_tok t,
                 int64_t minor);
/* 0, or H2H_ENOMEM when a put of b failed. */
int cx_fv_done(const struct cx_fvals *b, struct h2h_err *err);
/* An account's number (other id, else IBAN; NULL: none); our first. */
const char *cx_fv_acct(const struct fmt_account *a);
const char *cx_fv_our_account(const struct cx *c);
/* A treasury ReqId: 1 to 71 of A-Z a-z 0-9 - _ . */
int cx_fv_id_ok(const char *s);
/* Out of an answer, each doing nothing for NULL or "": dup a copy into
 * *dst (H2H_ENOMEM, err untouched); iso_date a date in the profile's
 * format into a new ISO string; minor_of / money an amount (money: CNY);
 * what names the value in the H2H_EPROTO message.  unknown: the
 * bank.status.unknown error for a value v that table does not list. */
int cx_fv_dup(char **dst, const char *s);
int cx_fv_iso_date(const struct cx *c, const char *s, char **dst,
                   const char *what, struct h2h_err *err);
int cx_fv_minor_of(const struct cx *c, const char *s, int64_t *m,
                   const char *what, struct h2h_err *err);
int cx_fv_money(const struct cx *c, const char *s, struct fmt_amount *a,
                const char *what, struct h2h_err *err);
int cx_fv_unknown(const char *table, const char *v, struct h2h_err *err);
/* A result document written to memory: open (NULL: out of memory, err
 * set), write to it, then close with the writer's rc; on failure *doc is
 * freed and NULL. */
FILE *cx_fv_doc_open(char **doc, size_t *len, struct h2h_err *err);
int cx_fv_doc_close(FILE *f, int rc, char **doc, struct h2h_err *err);

/* Thread pool.  Read the dropped bill request at path and plan it for
 * this bank: every value the bank would refuse is H2H_EINVALID naming
 * the field, before anything is sent.  serial: the message's. */
int cx_bill_plan(const struct cx *c, const char *path, const char *serial,
                 struct cx_plan *pl, struct h2h_err *err);
/* The same for a <ScfRequest> or a tsin.001 / tsin.003.  orig_serial:
 * looks up the serial of a request named by its ReqId (cancel, inquiry);
 * data is passed to it. */
typedef int (*cx_serial_of_fn)(void *data, const char *req_id, char *serial,
                               size_t n);
int cx_scf_plan(const struct cx *c, const char *path, const char *serial,
                cx_serial_of_fn serial_of, void *data, struct cx_plan *pl,
                struct h2h_err *err);

/* An answer turned into a canonical result document (UTF-8 XML in a new
 * buffer *doc).  *final: 0 while the bank says the request is pending
 * (rounds ask again).  *sum (may be NULL) receives a short text of what
 * matters for "changed?" checks in rounds (status and terms). */
int cx_bill_result(const struct cx *c, const struct cx_plan *pl,
                   const struct cx_answer *a, char **doc, size_t *len,
                   int *final, struct h2h_err *err);
int cx_scf_result(const struct cx *c, const struct cx_plan *pl, enum cx_fn fn,
                  const struct cx_answer *a, char **doc, size_t *len,
                  int *final, char **sum, struct h2h_err *err);
/* Inquiry results from the answers of every page / call. */
int cx_bill_pool_doc(const struct cx *c, const char *req_id,
                     const struct cx_answer *a, char **doc, size_t *len,
                     char **sum, struct h2h_err *err);
int cx_bill_list_doc(const struct cx *c, const char *req_id, const char *op,
                     struct cx_answer *const *pages, size_t n_pages,
                     const struct cx_answer *history, const char *draft_no,
                     char **doc, size_t *len, struct h2h_err *err);
/* One <BillNotice> of row i of a bill_notices answer; *id: its notice id
 * (borrowed from a). */
int cx_bill_notice_doc(const struct cx *c, const struct cx_answer *a, size_t i,
                       char **doc, size_t *len, const char **id,
                       struct h2h_err *err);
int cx_scf_holdings_doc(const struct cx *c, const char *req_id,
                        struct cx_answer *const *pages, size_t n_pages,
                        char **doc, size_t *len, char **sum,
                        struct h2h_err *err);
/* A repayment notice for a financing the bank reports repaid. */
int cx_scf_repaid_doc(const struct cx *c, const char *req_id,
                      const struct cx_answer *a, char **doc, size_t *len,
                      struct h2h_err *err);

int cx_fam_submit(struct cx *c, struct h2h_submit_req *req, h2h_result_cb cb,
                  int recover, struct h2h_err *err);
/* Records (state_dir/fam/<msg_id>.json, their indexes in fam/open/ and
 * fam/byreq/, see cx_fam_rec_followed) and results (outbox/), thread
 * pool: load (NULL when absent or unreadable), save durably, and a new
 * result of a record written to the outbox as <msg_id>-<n>.xml before
 * the record notes it (final, sum). */
json_t *cx_fam_rec_load(const struct cx *c, const char *msg_id);
int cx_fam_rec_save(const struct cx *c, json_t *rec, struct h2h_err *err);
int cx_fam_rec_result(const struct cx *c, json_t *rec, const char *doc,
                      size_t len, int final, const char *sum,
                      struct h2h_err *err);
int cx_fam_outbox_put(const struct cx *c, const char *stem, const char *doc,
                      size_t len, struct h2h_err *err);
/* The bills round of a poll (cx_fam_poll.c): done(...) once, later, with
 * wrote = 1 when results went to the outbox; err NULL or the first
 * problem; bank_down when the bank could not be reached. */
typedef void (*cx_round_done_fn)(struct cx *c, void *data, int wrote,
                                 const struct h2h_err *err, int bank_down);
int cx_bills_round(struct cx *c, cx_round_done_fn done, void *data,
                   struct h2h_err *err);
/* The kind (a bills op name) of notice id as delivered by a round; -1
 * when this bank's rounds did not deliver it. */
int cx_fam_notice_kind(const struct cx *c, const char *id, char *kind,
                       size_t n);
/* Thread pool: fn(rec, data) for each record in state_dir/fam until fn
 * returns nonzero, which this returns (0: all were seen). */
int cx_fam_rec_each(const struct cx *c, int (*fn)(json_t *rec, void *data),
                    void *data);
/* 1 when the bills rounds follow rec: a bill, voucher or financing
 * operation with a result, not final.  Such a record has a marker, the
 * empty file fam_dir/CX_OPEN_DIR/<msg_id>.json: cx_fam_rec_save makes it
 * durable before it writes a followed record and removes it after it
 * wrote a settled one (final, an inquiry, or another function).  A
 * financing's record also has fam_dir/CX_BYREQ_DIR/<ReqId> (its msg_id),
 * written before the record. */
int cx_fam_rec_followed(const json_t *rec);
#define CX_OPEN_DIR "open"
#define CX_OPEN_BUILT ".built" /* in CX_OPEN_DIR: both indexes whole */
#define CX_BYREQ_DIR "byreq"
/* Thread pool: fn(rec, data) for each marked record (rec is the
 * caller's during fn), its marker removed after fn when rec is settled;
 * a marker whose record is missing or has no result yet stays.  Until the
 * indexes are known whole (CX_OPEN_BUILT), fn sees every record once
 * instead while they are made.  0, or an error (fn may have seen some of
 * them, or none). */
int cx_fam_open_each(const struct cx *c, void (*fn)(json_t *rec, void *data),
                     void *data, struct h2h_err *err);
/* The {page} of a list's calls (submit's inquiries and rounds alike),
 * kept in page[n]: first sets it in v when fn is a list; next, after an
 * ok answer a, 1 with page set to the next page's when the bank says there
 * is more (a page style answer without rows ends the list), 0 at the end.
 * The callers cap the number of pages. */
void cx_fam_page_first(const struct cx_profile *p, enum cx_fn fn, char *page,
                       size_t n, struct cx_vals *v);
int cx_fam_page_next(const struct cx_profile *p, const struct cx_answer *a,
                     char *page, size_t n);
/* A plan good enough for the answers to a recorded request (rounds). */
int cx_fam_rec_plan(const json_t *rec, struct cx_plan *pl);

#endif
