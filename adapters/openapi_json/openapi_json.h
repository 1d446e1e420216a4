/*
 * openapi_json.h - a bank's JSON open-banking REST API (issue 5).
 *
 * The bank: HTTPS with mutual TLS, an OAuth2 access token (client
 * credentials), one POST /v1/payments per credit transfer with an
 * Idempotency-Key and a CMS signature over the exact body bytes, every
 * /v1 answer CMS-signed by the bank, inquiry by key and by payment id,
 * balances and paged transactions.  The contract it is built and tested
 * against is the docstring of tests/sims/bank_openapi.py.  It runs on the
 * asynchronous HTTPS transport (adapters/transport/https.h): keep-alive
 * connections, at most the bank's max_sessions requests at once, every
 * wait bounded.
 *
 * Payments: the daemon renders each message in h2hd's canonical XML
 * (the bank's payment_format must be "canonical"); every transaction i
 * (1-based, file order) becomes one JSON body, built deterministically
 * (compact, fixed member order: the bank compares raw bytes), sent under
 *     Idempotency-Key: <msg_id>-<i as 4+ digits>     e.g. M20261128-000042-0001
 * and the same bytes under the same key on every attempt, so that the
 * bank answers a repeat with the payment it already made.
 *
 * Operations:
 *   submit   transaction 1 first, then the others (max_sessions at a
 *            time).  All created (201/200) -> OK, and a pain.002.001.10
 *            for the message is made (below).  A transaction refused with
 *            400 naming one of its fields: when nothing of the message
 *            was created -> PERMFAIL naming the transaction and the field
 *            (transaction 1 refused stops the others, so a problem common
 *            to all creates nothing); when others were created -> OK, and
 *            the status report says RJCT for the refused ones with the
 *            bank's words (NARR), i.e. the message is partially accepted
 *            (the bank does hold part of it: reporting PERMFAIL would hide
 *            payments that will be made).  422 (key used with other
 *            bytes), 401 after a fresh token, 403, 404, 415, TLS trust ->
 *            PERMFAIL.  5xx, 408, 429, a transport failure before any
 *            answer -> TEMPFAIL (the retry resends the same bytes under
 *            the same keys: idempotent, no duplicates).  No complete
 *            answer after sending, or an answer whose signature, id or
 *            freshness fails -> UNKNOWN (the daemon then recovers; this
 *            adapter never resends blindly).  What the bank would refuse
 *            is refused before anything is sent (PERMFAIL): EndToEndId
 *            1-35, creditor name 1-70, remittance 1-140 characters (lines
 *            joined with a space; a creditor reference when there are no
 *            lines), no control characters, IBAN accounts, BIC and
 *            currency shape, execution date at most 365 days ahead.  Not
 *            carried (the API has no place for them): ultimate parties,
 *            purpose, charge bearer, regulatory reporting, instructions
 *            for the debtor agent, UETR, structured remittance other than
 *            the creditor reference.
 *   recover  GET /v1/payments?idempotency_key=K for each transaction:
 *            all found -> OK (status report from the current statuses,
 *            unless one was made before); any 404 -> NOT_SENT (the
 *            daemon sends the message again; what the bank has replays
 *            under its key); cannot tell -> TEMPFAIL.
 *   poll     delivers the status reports waiting in state_dir/outbox/
 *            (kind "status"); every pending_interval asks about payments
 *            still PDNG (GET /v1/payments/{id}) and makes and delivers a
 *            new report when a status changed; then, every
 *            statement_interval, for each account: balances and
 *            transactions from today-statement_days to today (UTC
 *            dates) as a canonical statement (kind
 *            "statement", remote name stmt_<CC>-<last 4>-<hash>_<from>_
 *            <to>.xml, the same bytes while nothing changes).
 *   health   "ok", or "degraded: <the last error>".
 *   certs    the TLS client certificate, the signing certificate, the
 *            pinned bank certificate(s) and the TLS trust anchors.
 *   close    no new operations; those in flight finish (each request is
 *            bounded by request_timeout), then the client closes and cb
 *            runs.
 *   inquire  not offered (NULL): recover and poll do the asking.
 *
 * Every /v1 answer is checked before it is read: X-Response-Signature, a
 * detached CMS signature over "<X-Response-Timestamp>\n<X-Response-Id>\n
 * <body>", must verify against bank_cert (pinned: no other signer is
 * accepted), then the replay window refuses an X-Response-Id seen before
 * and a timestamp more than replay_window seconds from our clock.  The
 * window is shared by the instances of one bank (a reload does not forget
 * it) but not kept across restarts: a restart is longer than most windows
 * need.  The token: POST token_path (form client_credentials, client_id
 * and client_secret in the body) over the same mutual TLS; cached and
 * replaced at 80 % of expires_in, and when a /v1 call is answered 401
 * (then the call is made once more with the new token).
 *
 * Status reports: after a submit or recover ends OK, a record of the
 * message (state_dir/pending/<msg_id>.json: every transaction's key,
 * EndToEndId, payment id, status, reason) is made durable, and from it a
 * pain.002.001.10 (state_dir/outbox/pain002_<msg_id>_<n>.xml): OrgnlMsgId
 * is the payment file's MsgId, which is how the daemon links it to the
 * message (OrgnlMsgNmId its pain.001 version, "pain.001" for CSV input);
 * GrpSts PDNG while any payment is pending, else ACCP / PART / RJCT;
 * per payment group (OrgnlPmtInfId) every transaction with StsId = the
 * bank's payment id, OrgnlInstrId, OrgnlEndToEndId, TxSts and the reason
 * code (a refused one: NARR with the bank's words).  Records of messages all
 * final move to state_dir/done/ and are removed after 14 days.  The record is
 * written before its report, so a crash never loses a report nor makes a
 * second, different one (see oj_record.c).
 *
 * Settings (the bank's "openapi_json" group; local paths relative to the
 * daemon's base_dir; seconds unless said otherwise):
 *   base_url                     required, https://host[:port][/prefix]:
 *                                /v1/... and token_path are below it
 *   client_id                    required, OAuth2 client id
 *   client_secret_file           required, file holding the client secret
 *                                (first line; chmod 600)
 *   scope                        optional, asked for in the token request
 *   token_path ["/oauth/token"]  below base_url, or a whole https:// URL
 *   tls = {                      required (mutual TLS):
 *     client_cert, client_key      PEM certificate and key (key may be in
 *                                  client_cert), or
 *     client_p12                   PKCS#12 with both
 *     passphrase_file              optional, the key's / P12's passphrase
 *     ca_file                      optional, PEM CAs the bank's server
 *                                  chains to (else the system store)
 *     pinned_pubkey                optional, "sha256//base64[;...]"
 *     proxy, no_proxy              optional CONNECT proxy ("http://h:p")
 *   }
 *   sign = { key, cert | p12, passphrase_file }
 *                                required, the request-signing identity
 *   bank_cert                    required, the bank's response-signing
 *                                certificate(s), PEM (pinned)
 *   replay_window [300]          seconds an answer's timestamp may be
 *                                off our clock (1..86400)
 *   accounts [()]                IBANs whose statements are fetched
 *   statement_days [1]           statements from today-N to today (0..366)
 *   statement_interval [300]     seconds between statement fetches
 *                                (0: every poll)
 *   pending_interval [60]        seconds between inquiries about payments
 *                                still PDNG (0: every poll); reports in
 *                                outbox/ go out every poll regardless
 *   connect_timeout [10], request_timeout [60]
 * The daemon's own bank settings used here: payment_format (must be
 * "canonical"), max_sessions [4] (requests at once), poll_interval.
 * Private keys, the client secret and passphrase files must not be
 * readable by group or others; everything is loaded at create, so a bad
 * file refuses the bank at start (or the reload).
 *
 * state_dir (<daemon state_dir>/adapters/<bank>): outbox/, pending/,
 * done/ as above; nothing else.
 *
 * Nothing is logged here: results carry the reasons, and never a secret,
 * a token or a passphrase, nor a full account number of a statement.
 * Threads: loop thread; file work and parsing on the libuv thread pool.
 */
#ifndef H2H_OPENAPI_JSON_H
#define H2H_OPENAPI_JSON_H

#include "adapter.h"

extern const struct h2h_adapter_ops openapi_json_ops;

#endif
