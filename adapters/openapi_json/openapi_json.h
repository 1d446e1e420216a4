/*
 * openapi_json.h - a bank's JSON open-banking REST API (issue 5).
 *
 * The bank: HTTPS with mutual TLS, an OAuth2 access token (client
 * credentials), one POST /v1/payments per credit transfer with an
 * Idempotency-Key and a CMS signature over the exact body bytes (and,
 * with kinds, the bill pool and supply-chain finance: below), every
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
 * Bill pool and supply-chain finance (kinds "bill", "scf"; the contract
 * is tests/sims/README.md, "Bill pool and supply-chain finance API",
 * B0-B8).  One request = one message: req->remote_name is the request's
 * id (<ReqId>, <CxlId>, <InqId>, tsin GrpId / CxlReqId), used as the
 * body's request_id and as the Idempotency-Key (1-64 of A-Z a-z 0-9 . _
 * -, else PERMFAIL).  The token's scope must cover "bills" and "scf"
 * (no scope setting asks for everything).
 *   submit   kind "bill": a <BillRequest> (canon_bill.h; unreadable ->
 *            PERMFAIL naming the problem).  Operations are one POST
 *            (issue: /v1/bills/drafts; the others /v1/bills/drafts/{n}/
 *            operations): body built deterministically (compact, fixed
 *            member order) and kept in a record (state_dir/fam/
 *            bills-<ReqId>.json) made durable BEFORE the first byte
 *            leaves; every resend sends the record's bytes.  Mapping:
 *            parties {name, account (OthrId, else IBAN), bank_code};
 *            amounts {"amount", "currency"}; Rate 1.35 -> "1.35";
 *            PrcdsAcct is the account of discount, present_payment,
 *            recourse (else bills_account) and of sign (payment and
 *            recourse notices: the bank refuses it for the others, so only
 *            an explicit PrcdsAcct goes); Rsn -> reason; AddtlInf -> memo.
 *            Inquiries (pool_overview, drafts, draft_detail, notices) are
 *            GETs, lists paged to the end.
 *            kind "scf": a <ScfRequest> (canon_scf.h) or a tsin.001 /
 *            tsin.003: <Fincg> / tsin.001 -> POST /v1/scf/financing;
 *            <Cxl> / tsin.003 -> POST /v1/scf/financing/{OrgnlReqId}/cancel
 *            (its own CxlId as key); <Inq> -> GET /v1/scf/financing/{id};
 *            <VchrOp> -> POST /v1/scf/vouchers (issue) or
 *            /v1/scf/vouchers/{id}/operations (a refuse carries the fixed
 *            reason "拒绝签收": the canonical operation has none; NewId is
 *            not sent: the bank names the child); <VchrInq> -> GET
 *            /v1/scf/vouchers?holder=us[&status=] or /v1/scf/vouchers/{id}.
 *            Results for a tsin.001 stay canonical <ScfResult> (the daemon
 *            links both alike; tsin.002 has no place for the loan
 *            reference and rate).
 *            Outcomes: 201 -> OK once the result document is durable in
 *            outbox/ (below); 422 with a BILnnn / SCFnnn code (the bank
 *            recorded a refusal) -> OK as well, with a result saying
 *            rejected, BankCd / reason = the code, text = the bank's
 *            English message (the daemon's book then rejects the
 *            message: the bank's word is an answer, not a failure of
 *            ours); 422 idempotency_key_reused, or a ReqId whose record
 *            holds other bytes -> PERMFAIL; 400 -> PERMFAIL naming the
 *            field; 401 after a fresh token, 403, 404, 415 -> PERMFAIL;
 *            5xx, 408, 429, no connection -> TEMPFAIL; no answer after
 *            the body went out, or an answer failing its signature ->
 *            UNKNOWN.  An inquiry that fails is TEMPFAIL (repeatable).
 *   recover  an answered record: its documents made sure of -> OK,
 *            nothing asked; else GET /v1/<bills|scf>/requests/{ReqId}:
 *            200 -> the recorded answer taken as if it had just come
 *            (OK, one result), 404 -> NOT_SENT (the resend uses the
 *            record's bytes), anything else -> TEMPFAIL.  An inquiry
 *            without an answer -> NOT_SENT.
 *   results  written to outbox/ and delivered by the poll like status
 *            reports, under stable names: bill-<ReqId>-<n>.xml /
 *            scf-<ReqId>-<n>.xml (n = 1 for the answer, 2... for what
 *            the follow-ups learn), notice-<id>.xml (<BillNotice>),
 *            pool-<as_of>-<n>.xml (<BillResult> pool_overview, ReqId
 *            POOL-<as_of>-<n>), repayment notices rpmt-<id>.xml ("paid")
 *            and scfrpmt-<id>.xml ("due"), scfhldgs-<date>-<n>.xml
 *            (<Hldgs>).  The poll delivers in name order, which is the
 *            order the daemon's book folds them in: a due notice after
 *            the report that the financing was disbursed, a paid one
 *            before the report that it is repaid.  Bill
 *            results: op, outcome (accepted / pending / rejected), the
 *            piece(s) after the operation (the remainder of a split
 *            second), the bank's code and text; a piece pending OUT
 *            carries the state a refusal returns to.  SCF status reports:
 *            the financing's status, terms (approved or financed amount,
 *            rate, value and maturity dates, loan reference), invoices,
 *            and a cancellation's answer (accepted, or refused with its
 *            code, e.g. SCF010, and the financing's status then).
 *   bills round (part of poll: every bills_interval, or at once when
 *            what has H2H_POLL_BILLS): (1) each operation answered
 *            "pending" is followed (GET /v1/bills/drafts/{n}; a voucher
 *            /v1/scf/vouchers/{id}): once the piece no longer shows our
 *            request pending, a second result for the same ReqId,
 *            accepted (signed) or rejected (refused / dishonoured /
 *            withdrawn, with the counterparty's reason), with the piece
 *            (from the piece's history: signed / refused under our
 *            request id, withdrawn after it; else whether the piece
 *            reached the operation's final status); then it is
 *            forgotten.  Each financing not final is asked
 *            for (GET /v1/scf/financing/{id}); a new status report when
 *            its status or terms changed.  (2) /v1/bills/notices and
 *            /v1/scf/notices (every page; the latter listed before the
 *            financings are asked for, and a "repaid" report waits for
 *            its "paid" notice): one document per notice id never
 *            delivered before (ids kept in state_dir/fam/seen.json).
 *            (3) /v1/bills/pool: a pool overview when the figures (not
 *            their date) changed since the last one delivered.  (4)
 *            /v1/scf/vouchers?holder=us and ?holder=others (the trees we
 *            issued, the vouchers we sent): one holdings document of
 *            both when they changed, for our member id: the holder of a
 *            voucher we hold, else the scf_parties entry whose account
 *            is bills_account, else the one used before.  A transport
 *            failure ends the round's network steps; what was learnt is
 *            still saved.
 * Voucher parties: h2hd's voucher model names parties by the platform's
 * member id, the bank by {name, account, bank_code}; scf_parties maps
 * one to the other.  A counterparty of an issue or transfer must be
 * listed (else PERMFAIL naming it); a party in the bank's answers becomes
 * the id of the entry with its account and bank code, else its account
 * number (the bank code when it has none).  Our account for vouchers is
 * the actor's scf_parties account, else bills_account.
 * Crash safety: record durable before the POST; answer -> record (docs,
 * follow-up) durable -> documents durable in outbox/ -> record
 * ("written") -> callback OK.  Every document is rendered from the
 * record alone, so one remade after a crash has the same name and bytes
 * (the daemon's registry answers H2H_EDUP).  Unasked documents are
 * written before seen.json remembers them.  Records stay in
 * state_dir/fam/ (small; the daemon's store keeps the history); those a
 * bills round still has work for (a follow-up, documents not written)
 * also have an empty marker state_dir/fam/open/<record name>, made
 * durable before the record needs it and removed once it is settled, so
 * a round reads only those.  The first round without fam/open/.built
 * (records of an older version) reads every record once to make them.
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
 *   kinds [("payment")]          what this bank takes: a list of
 *                                "payment", "bill", "scf" (as dirdrop's)
 *   bills_interval [300]         seconds between bills rounds (0: every
 *                                poll); a scheduled job or h2hctl fetch
 *                                --kind bills runs one at once
 *   bills_account                optional, our account (digits and
 *                                capital letters, e.g. the IBAN's
 *                                electronic form) for bill money when a
 *                                request names none: discount proceeds,
 *                                present_payment, recourse, vouchers
 *   scf_parties [()]             voucher parties: ( { id = "<member
 *                                id>"; name = "..."; account = "...";
 *                                bank_code = "<12 digits>"; }, ... )
 *   connect_timeout [10], request_timeout [60]
 * The daemon's own bank settings used here: payment_format (must be
 * "canonical"), max_sessions [4] (requests at once), poll_interval.
 * Private keys, the client secret and passphrase files must not be
 * readable by group or others; everything is loaded at create, so a bad
 * file refuses the bank at start (or the reload).
 *
 * state_dir (<daemon state_dir>/adapters/<bank>): outbox/, pending/,
 * done/ as above, and fam/ (bill and scf records, seen.json).
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
