/*
 * cnbank_xml.h - a Chinese bank-enterprise direct-connect front end
 * (银企直连前置机), issue 5.
 *
 * One mechanism, many banks: everything a bank's front end spells its own
 * way (envelope, element names, function codes, encoding, amount unit,
 * date formats, framing, where the signature goes, return codes, paging,
 * status values) comes from a profile file (PROFILE.md in this folder is
 * the reference; etc/cnbank/ ships cmb-style.profile and
 * icbc-style.profile).  Which customer we are, and where the front end
 * is, comes from the bank's "cnbank_xml" group in h2hd.conf:
 *
 *   { name = "cmb1"; adapter = "cnbank_xml"; payment_format = "canonical";
 *     cnbank_xml = {
 *       profile = "cnbank/cmb-style.profile";  # relative to base_dir
 *       url = "https://127.0.0.1:8443/";       # framing "http"
 *       # host = "127.0.0.1"; port = 8082;     # framing "tcp" (loopback)
 *       login = "H2HCORP01";                   # {login}
 *       # user = "H2HCORP01.op1";              # {user} (default: login)
 *       accounts = ( "755912345610001" );      # balances, details, receipts
 *       serial_prefix = "H2H";                 # customer serial numbers
 *       sign = { key = "keys/sign.key"; cert = "keys/sign.pem"; };
 *                                 # or p12 = "..."; passphrase_file = "..."
 *       bank_cert = "keys/bank-sign.pem";      # pinned: answers' signer
 *       tls = { ca_file = "keys/bank-ca.pem"; client_cert = "keys/tls.pem";
 *               client_key = "keys/tls.key"; };   # framing "http" only
 *       # statement_days = 1; statement_interval = 300;
 *       # pending_interval = 60; receipts = true;
 *       # connect_timeout = 10; request_timeout = 60;
 *     }; }
 *
 * Payments (payment_format "canonical"): a message whose only payment
 * group has category purpose SALA is a payroll batch (代发): one
 * `payroll` request under serial <prefix><msg_id>, one item per
 * transaction.  Any other message: one `payment` request per transaction,
 * serial <prefix><msg_id>-<i> (i from 1, file order).  The serial is the
 * idempotency key: the bank answers a repeat with the same content with
 * the original result.  Every value is checked before anything is sent
 * (PERMFAIL naming the transaction and the field): account digits,
 * lengths, control characters, a currency the profile lists, and every
 * text encodable in the profile's charset (a character GBK cannot write
 * is an error, never a '?').
 *
 * Operations:
 *   submit   payment 1 alone first, then the others (max_sessions at a
 *            time); a payroll batch is one request.  ok -> created, status
 *            by status_map; busy -> TEMPFAIL; an error code -> refused
 *            (not created: PERMFAIL when nothing was created, else OK with
 *            the refused ones RJCT in the status report); duplicate ->
 *            PERMFAIL (the serial is someone else's).  No answer, a cut
 *            connection, a timeout after sending, an answer whose bank
 *            signature, decoding, echo or elements fail -> UNKNOWN: the
 *            daemon recovers; this adapter never resends blindly.
 *   recover  payment_status (payroll_result) by serial: all found -> OK;
 *            any not_found -> NOT_SENT (sent again with the same serials);
 *            otherwise TEMPFAIL (ask again later).
 *   poll     status reports (pain.002.001.10, from records.h) delivered
 *            as kind "status"; every pending_interval, payments and
 *            batches still pending are asked about; every
 *            statement_interval, for each account: balance + transaction
 *            details today-statement_days .. today (the bank's dates) ->
 *            canonical statement (kind "statement"); then the electronic
 *            receipts (电子回单) of the same days not fetched before, one
 *            PDF each (kind "receipt"), named
 *            receipt_<booking date>_<serial or entry id>_<receipt id>.pdf
 *            so that each names the payment (our serial) or the entry it
 *            proves.
 *
 * Security: TLS 1.2+ with chain and host checks, client certificate
 * (framing http); requests CMS-signed where the profile says; every
 * answer's signature verified against the pinned bank_cert before it is
 * decoded; an answer whose echo (request id, function) differs from the
 * request is a replay or a stray answer and is treated as no answer.
 * Framing tcp is plain text to a front end on this machine only (host
 * must be a loopback address).
 *
 * Threads: requests are built and signed, and answers verified, on the
 * loop thread (messages are small); reading payment files and writing
 * records happen on the thread pool.
 */
#ifndef H2H_CNBANK_XML_H
#define H2H_CNBANK_XML_H

#include "adapter.h"

extern const struct h2h_adapter_ops cnbank_xml_ops;

#endif
