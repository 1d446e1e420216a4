#!/usr/bin/python3
r"""A bank's JSON open-banking REST API (mutual TLS, OAuth2, CMS-signed
requests and responses), for h2hd's tests.

An independent implementation (Debian's /usr/bin/python3: stdlib plus
python3-cryptography for response signing; the `openssl` CLI verifies
request signatures). Nothing here imports or calls h2hd's C code. It is
strict on purpose: what a real bank would refuse, it refuses, naming the
field. tests/sims/README.md ("bank_openapi.py") carries the same contract.

THE CONTRACT (an adapter must do exactly this; anything else is refused)
=======================================================================

0. Transport and conventions
----------------------------
HTTPS only, TLS 1.2 or 1.3, on 127.0.0.1. The server certificate is
--cert/--key. A CLIENT CERTIFICATE IS REQUIRED, issued by --ca; without one
(or with one from another CA) the TLS handshake fails (TLS 1.3: the client
sees the alert on its first read). The client certificate's subject CN is
the client identity. HTTP/1.1 with keep-alive: every answer has
Content-Length; the server closes after `Connection: close`, after 411/413
and after 30 s without a request (the TLS handshake must finish in 10 s).
Request bodies need Content-Length (no chunked encoding -> 411), at most
65536 bytes (-> 413).

JSON is UTF-8, answers are compact with `Content-Type: application/json`
and `Cache-Control: no-store`. Dates are `YYYY-MM-DD`. The bank's date is
the UTC date unless set by --today or POST /admin/date. Timestamps are
RFC 3339 UTC with milliseconds, always 24 characters:
`2024-03-04T10:15:00.123Z` (wall-clock time, also with --today). Amounts
are JSON strings `[0-9]+(.[0-9]+)?`, no leading zeros, with EXACTLY the
currency's ISO 4217 minor digits (EUR "12.00", JPY "1200", BHD "1.250");
signed amounts in answers carry "-" when negative, never "+".

1. POST /oauth/token   (outside /v1: answers are not signed)
-----------------------------------------------------------
`Content-Type: application/x-www-form-urlencoded`, body
  grant_type=client_credentials&client_id=ID&client_secret=SECRET[&scope=S]
Client authentication is by these form fields only (no HTTP Basic). A
parameter given twice -> invalid_request; unknown parameters are ignored
(RFC 6749 3.2). scope: a space-separated subset of "payments accounts
bills scf" (default: all four). Answers (RFC 6749 5.1/5.2, `Cache-Control: no-store`):
  200 {"access_token": "<43 chars of base64url>", "token_type": "Bearer",
       "expires_in": <--token-ttl, default 300>}
      plus "scope": "<as asked>" when a scope was asked for
  400 {"error": "invalid_request", "error_description": "..."}
      missing/empty/repeated parameter, other Content-Type, not form syntax
  400 {"error": "unsupported_grant_type", ...}  not client_credentials
  400 {"error": "invalid_scope", ...}           another scope
  401 {"error": "invalid_client", ...}  client_id or client_secret wrong,
      or the TLS client certificate's CN is not --client-cn
  405 {"error": "invalid_request", ...} with `Allow: POST` for other methods
The token is bound to the certificate CN it was issued over and valid while
now < issue time + expires_in. Several tokens may be valid at once.

2. Authorization (every /v1 request)
------------------------------------
`Authorization: Bearer <access_token>` (scheme case-insensitive). Missing,
repeated, unknown, expired, revoked (fault expire_tokens, a simulator
restart) or presented over a connection with another certificate CN
-> 401 {"error": "invalid_token", "message": "..."} with
`WWW-Authenticate: Bearer error="invalid_token"`. The remedy is a new
token, then the same request again. A token whose scope lacks "payments"
(/v1/payments...), "accounts" (/v1/accounts/...), "bills" (/v1/bills/...)
or "scf" (/v1/scf/...) -> 403 {"error": "insufficient_scope"}. Authorization comes before routing: only
an authorized caller learns 404 {"error": "not_found"} (unknown /v1 path)
or 405 {"error": "method_not_allowed"} with `Allow`. Unknown or repeated
query parameters -> 400 {"error": "invalid_field", "field": <name>}.
X-Request-Signature is only read on POST /v1/payments and on the POSTs
of section 11.

3. POST /v1/payments
--------------------
Headers:
  Idempotency-Key: 1-64 characters of [A-Za-z0-9._:-], exactly once
  Content-Type: application/json (parameters such as charset=utf-8 allowed)
  X-Request-Signature: standard base64 (RFC 4648 section 4, padded, no
      line breaks) of a CMS (PKCS#7) SignedData in DER: DETACHED (no
      eContent), every digest algorithm SHA-256, over the EXACT body bytes,
      made with the client's signing key, e.g.
        openssl cms -sign -binary -outform DER -md sha256
                -signer sign.pem -inkey sign.key -in BODY -out SIG
      The bank runs `openssl cms -verify -binary -inform DER -content BODY
      -purpose any` with -CAfile --client-sign-ca (the signer certificate
      must then be embedded in the signature: the default of
      `openssl cms -sign`), or, with --client-sign-cert, trusting only that
      certificate, which must be the signer (embedded or not).
Body: one JSON object, exactly these members (no others at any level;
optional ones may be absent or null, both meaning absent; no duplicate
member names; no NaN/Infinity; text lengths count Unicode code points;
text must not be empty or blank or contain U+0000-U+001F, U+007F-U+009F):
  {"end_to_end_id": text 1-35,
   "instructed_amount": {"amount": amount string, "currency": "[A-Z]{3}"},
   "debtor_account": {"iban": IBAN},
   "creditor_account": {"iban": IBAN},
   "creditor_name": text 1-70,
   "creditor_agent": {"bic": BIC},            optional
   "remittance_information": text 1-140,      optional
   "requested_execution_date": "YYYY-MM-DD"   optional}
IBANs in electronic form: upper case, no spaces.

Steps, in this order; the first that fails answers:
  1. token (section 2)                   -> 401 / 403
  2. Idempotency-Key missing, repeated or malformed
                   -> 400 {"error": "invalid_header",
                           "field": "Idempotency-Key", "message": "..."}
  3. other Content-Type
                   -> 415 {"error": "unsupported_media_type"}
  4. X-Request-Signature missing, repeated, not base64, not a detached
     SHA-256 CMS, not verifying over the body, wrong signer
                   -> 400 {"error": "invalid_signature", "message": "..."}
  5. idempotency, per key, for the life of the state directory:
     key used before by a created payment (any status) and body
     BYTE-IDENTICAL (SHA-256 of the raw bytes; no JSON canonicalisation:
     member order and whitespace count; the signature bytes do not)
                   -> 201, the ORIGINAL answer body byte for byte (same
                      payment_id, the status as it was at creation), fresh
                      X-Response-* headers
     key used before with other body bytes
                   -> 422 {"error": "idempotency_key_reused",
                           "payment_id": <the existing one>, "message"}
     A request that created nothing (refused in steps 1-4 or 6, or hit by
     the http_500 / replay faults) does not use up its key.
  6. validation    -> 400 {"error": CODE, "field": PATH, "message": TEXT,
                           "errors": [{"error", "field", "message"}...]}
     "errors" lists every problem found; the top level repeats the first.
     PATH is dotted ("instructed_amount.amount", "creditor_agent.bic",
     "instructed_amount.foo"). CODE:
       invalid_json   not UTF-8 / not JSON / not an object (field null),
                      a duplicate member (field: its name)
       missing_field  a required member absent or null
       unknown_field  a member not listed above
       invalid_field  wrong JSON type, text too long/empty/blank/control
                      characters, and:
         debtor_account.iban    not a valid IBAN (shape, country length,
                                mod-97)
         creditor_account.iban  not shaped [A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}
         creditor_agent.bic     not [A-Z]{4}CC[A-Z0-9]{2}([A-Z0-9]{3})?
                                with CC an ISO 3166 country
         instructed_amount.currency  not [A-Z]{3}
         instructed_amount.amount    not an amount string, more than 15
                                integer digits, zero, or (currency known)
                                other than exactly its minor digits
         requested_execution_date    not a real date, or more than 365
                                days after the bank's date
  7. business checks -> 201 with status RJCT and one reason, first wins:
       AM03  currency well-formed but not ISO 4217 (e.g. "ABC")
       AC01  creditor IBAN well-shaped but wrong length or mod-97
       AM02  amount above --max-amount (default: no limit; no FX)
       AM04  --no-overdraft and the debtor's interimAvailable in that
             currency would fall below zero
  8. otherwise 201, ACCP, booked at once; or PDNG when
     requested_execution_date is after the bank's date: booked on that
     date, when it becomes ACCP (or RJCT AM04). A past date executes today.
201 body, and `Location: /v1/payments/<payment_id>`:
  {"payment_id": "pay_<24 hex>", "status": "ACCP"|"RJCT"|"PDNG",
   "status_reason": "AC01"|"AM02"|"AM03"|"AM04"|null, "end_to_end_id": ...}
A RJCT payment is a created payment (it exists; its key is used up). The
bank does not deduplicate end_to_end_id: the same id under another key is
another payment (the arrival log shows the duplicate).
Booking: an accepted payment is a DBIT entry (negative amount) on the
debtor account in the payment's currency on the booking date; when the
creditor IBAN is an account here too, also a CRDT entry there. An account
(or a currency on it) seen first opens at --opening-balance (default
1000000). Accounts exist once seeded, given entries, or debited.

4. Inquiry: GET /v1/payments/{payment_id}, GET /v1/payments?idempotency_key=K
-----------------------------------------------------------------------------
  200 {"payment_id", "status", "status_reason", "end_to_end_id",
       "created_at"}   status is CURRENT (PDNG may have become ACCP/RJCT)
  404 {"error": "payment_not_found"}
  400 invalid_field / missing_field (K malformed or missing; no listing)
After an ambiguous failure (no answer, connection lost, timeout, 5xx, an
answer failing its signature, id or freshness check) a client asks by
key: 200 means the payment exists (record it, never send it again); 404
means it was not created (send again: same key, same bytes).

5. GET /v1/accounts/{iban}/balances   (no query parameters)
--------------------------------------------------------
  200 {"account": iban, "balances": [...]}: per currency of the account,
  alphabetically, two entries in this order:
    {"type": "closingBooked", "amount": {"amount": "-1.00",
     "currency": "EUR"}, "date": <bank date - 1 day>}
        opening + every entry booked before the bank date
    {"type": "interimAvailable", "amount": {...}, "date": <bank date>}
        opening + every entry booked on or before the bank date
  404 {"error": "account_not_found"}; 400 invalid_field "iban" (not an IBAN)

6. GET /v1/accounts/{iban}/transactions?from=D&to=D[&cursor=C][&limit=N]
------------------------------------------------------------------------
from, to required, from <= to, inclusive, on booking_date. limit 1-500,
default --page-size (50).
  200 {"account": iban, "transactions": [entry...], "next_cursor": str|null}
  entry: {"entry_id": "E<10 digits>", "booking_date", "value_date",
          "amount": {"amount": signed string, "currency"},
          "credit_debit": "CRDT"|"DBIT", "end_to_end_id": str|null,
          "counterparty_name": str|null, "counterparty_account": str|null,
          "remittance_information": str|null, "bank_reference": str|null}
          (every member always present; for a payment bank_reference is
          its payment_id)
Order: booking_date, then booking order (entry_id); stable. next_cursor
is null on the last page (never an empty trailing page); otherwise send it
back with the SAME account, from and to (limit may change). A cursor
continues after the last entry it returned. It is opaque (base64url +
HMAC); altered, foreign, or used with another account/from/to -> 400
{"error": "invalid_cursor"}. Other errors: 400 missing_field or
invalid_field naming from, to, limit; 404 account_not_found.

7. Signed responses
-------------------
Every /v1 answer (errors, 401, 404 and injected 500s included) carries
  X-Response-Id         a UUID, unique per answer
  X-Response-Timestamp  RFC 3339 UTC, 24 characters as above
  X-Response-Signature  standard base64 of a CMS SignedData, DER,
                        detached, SHA-256, by --sign-cert/--sign-key (the
                        certificate embedded) over the bytes
      <X-Response-Timestamp> "\n" <X-Response-Id> "\n" <body>
Check: `openssl cms -verify -binary -inform DER -in SIG -content DATA
-CAfile <the bank signing cert's CA, or the cert with -partial_chain>
-purpose any`. A client rejects an answer whose signature fails, whose id
it has seen before, or whose timestamp is too far from its clock, and
treats the call as ambiguous (section 4).

8. Arrival log (<state>/arrivals.jsonl; GET /admin/arrivals)
-----------------------------------------------------------
One JSON line per POST /v1/payments request, written before it is
answered:
  {"time", "client_cn", "idempotency_key" (as sent, cut at 100, or null),
   "body_sha256", "end_to_end_id" (if the body parsed as JSON, else null),
   "outcome", "payment_id", "status" (payment status or null),
   "http_status" (null when no answer was sent), "error" (error code or
   RJCT reason, or null), "fault" (null or the fault that hit it)}
outcome: created | replayed | conflict | rejected_invalid (400, 411, 413,
415) | bad_signature | unauthorized (401, 403) | fault_500 | fault_replay.
The same end_to_end_id `created` twice is a duplicate.

9. Admin port: plain HTTP on 127.0.0.1, JSON in and out
-------------------------------------------------------
POST /admin/faults  with any of these members (others -> 400):
  latency_ms: int    every /v1 answer is sent this late, AFTER the request
                     was processed (a client that times out may leave a
                     created payment behind); 0 = off
  http_500_next: N   the next N /v1 requests get 500 {"error":
                     "internal_error"} (signed) and do nothing else
  timeout_after_create_next: N  the next N payment POSTs that CREATE a
                     payment (not replays, not refusals) create and book
                     it, log `created` (fault "timeout_after_create:<mode>"),
                     then send nothing; the same for the POSTs of section
                     11 that get recorded (201 or 422 with a bank code)
  timeout_mode: "hold"   keep the connection open until the client closes
                     it (or timeout_hold_s, default 60, passes), then close
              | "close"  close at once (TCP FIN, no TLS close_notify)
              | "reset"  close at once with a TCP RST
  timeout_hold_s: seconds
  expire_tokens: true  every token issued so far is invalid from now on
  bad_response_signature_next: N  the next N /v1 answers carry a valid CMS
                     signature by the bank, but over other bytes
  replay_last_response_next: N  the next N /v1 requests are NOT processed;
                     each is answered with the last genuine /v1 answer sent
                     before (status, headers with the old id, timestamp and
                     signature, body), byte for byte. Stays armed while no
                     answer has been sent yet.
  clear: true        all faults off before applying the rest
Per /v1 request the order is: replay, 500, then normal processing (the
timeout fault applies at creation, the bad signature when answering,
latency last). Answer: the fault state.
GET  /admin/faults    the fault state
GET  /admin/arrivals  the arrival log as a JSON list
GET  /admin/ledger    {"today", "accounts": [{"iban", "opening": {CCY:
                      amount}, "entries": [entry + "seq", "payment_id"]}]}
GET  /admin/payments  payments + idempotency_key, body_sha256,
                      execution_date, booking_date, request
POST /admin/entries   {"entries": [seed entry, ...]}: books them now
POST /admin/date      {"today": "YYYY-MM-DD" | null}: sets the bank date,
                      settles due PDNG payments
POST /admin/reset     a fresh bank: faults off, payments and keys gone,
                      ledger re-seeded, arrival log emptied, bank date
                      override dropped, bills / scf state and settings as
                      new (section 11). Tokens stay valid.
The bill pool and supply-chain finance hooks (/admin/settings,
/admin/bills..., /admin/scf..., /admin/requests) are in section 11, B8.

10. Seed file (--seed), applied when the state directory holds no state
-----------------------------------------------------------------------
  {"accounts": [{"iban", "currency", "opening_balance": "-?[0-9.]+"}],
   "entries": [{"account", "booking_date", "value_date" (default
     booking_date), "amount" (unsigned, the currency's digits),
     "currency", "credit_debit": "CRDT"|"DBIT", "end_to_end_id",
     "counterparty_name", "counterparty_account",
     "remittance_information", "bank_reference" (these five optional)}]}
State: <state>/state.json (payments, keys, ledger, bank date, drafts,
notices, pool, financing, vouchers, settings; replaced atomically on every
change), <state>/arrivals.jsonl, <state>/requests.jsonl (section 11),
<state>/cursor.key. A restart keeps them; tokens are lost.

11. Bill pool and supply-chain finance
--------------------------------------
/v1/bills (electronic commercial drafts, the bill pool) and /v1/scf
(receivable financing, reverse factoring, credit vouchers): the module's
BILLS_API text, repeated in tests/sims/README.md under "Bill pool and
supply-chain finance API".

CLI
---
  bank_openapi.py --cert F --key F --ca F --client-id ID
      --client-secret-file F --client-cn CN
      (--client-sign-ca F | --client-sign-cert F) --sign-cert F --sign-key F
      --state DIR [--seed F] [--page-size 50] [--token-ttl 300]
      [--max-amount X] [--lifetime 900] [--port 0] [--admin-port 0]
      [--opening-balance 1000000] [--no-overdraft] [--today YYYY-MM-DD]
      [--bank-code 999100000010] [--customer-name NAME]
      [--pool-id POOL0001] [--auto-sign-ms N] [-v]
Prints `LISTEN <port>` then `ADMIN <port>` on stdout when ready. The secret
file holds the client secret (a final newline is dropped); secrets never
go on the command line. Stops on SIGTERM/SIGINT or after --lifetime
seconds (0: no limit), exit status 0; 2 for bad arguments or files.
Refused TLS handshakes and, with -v, every request are logged on stderr.

Python API (tests/sims on sys.path):
  bank = bank_openapi.BankSim(state_dir=..., cert=..., key=..., ca=...,
      client_id=..., client_secret="..." (or client_secret_file=...),
      client_cn=..., client_sign_ca=... (or client_sign_cert=...),
      sign_cert=..., sign_key=..., seed=None, page_size=50, token_ttl=300,
      max_amount=None, lifetime=900, opening_balance="1000000",
      no_overdraft=False, today=None, port=0, admin_port=0,
      bank_code="999100000010", customer_name="H2HD测试企业有限公司",
      pool_id="POOL0001", auto_sign_ms=None).start()
  bank.port, bank.admin_port; bank.set_faults(**same members as above);
  bank.arrivals(); bank.count_arrivals(end_to_end_id=, outcome=,
  idempotency_key=); bank.duplicates(); bank.ledger(); bank.payments_list();
  bank.add_entries([...]); bank.set_today(date | None); bank.reset();
  bank.expire_tokens(); bank.stop()   (also a context manager)
  Bills and scf (section 11, B8; the same members as the admin bodies):
  bank.bills_state(); bank.scf_state(); bank.requests_log();
  bank.count_requests(request_id=, outcome=, family=);
  bank.set_settings(auto_sign_ms=, voucher_rate=, financing_rate=);
  bank.set_pool(deposit=, used=); bank.bill_counterparty(number=,
  action=, sub_range=, reason=); bank.bill_present(kind=, to_account=,
  ...); bank.scf_review(request_id=, decision=, ...);
  bank.voucher_hook(action=, ...). Rule refusals raise
  bank_openapi.Refusal (.code, .body()), unknown objects HookError, bad
  input ValueError.
"""
import argparse
import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

OPENSSL = "openssl"
MAX_BODY = 65536
MAX_LIMIT = 500
SCOPES = ("payments", "accounts", "bills", "scf")

# --------------------------------------------------------------------------
# Reference data, kept here on purpose (not taken from h2hd's tables).

# ISO 4217 minor-unit exponents.
CCY_EXP = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2,
    "AUD": 2, "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2,
    "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2, "BSD": 2,
    "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLF": 4,
    "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CZK": 2, "DJF": 0, "DKK": 2,
    "DOP": 2, "DZD": 2, "EGP": 2, "ETB": 2, "EUR": 2, "FJD": 2, "GBP": 2,
    "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "HKD": 2,
    "HNL": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2,
    "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2,
    "KMF": 0, "KRW": 0, "KWD": 3, "KZT": 2, "LBP": 2, "LKR": 2, "LYD": 3,
    "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MNT": 2, "MOP": 2, "MUR": 2,
    "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NOK": 2, "NPR": 2,
    "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2,
    "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2,
    "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "TZS": 2,
    "UAH": 2, "UGX": 0, "USD": 2, "UYI": 0, "UYU": 2, "UZS": 2, "VND": 0,
    "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0, "ZAR": 2, "ZMW": 2,
}

# IBAN length per country (SWIFT IBAN registry).
IBAN_LEN = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
    "BG": 22, "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22,
    "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29,
    "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    "GF": 27, "GP": 27, "MQ": 27, "RE": 27, "PF": 27, "TF": 27, "YT": 27,
    "NC": 27, "BL": 27, "MF": 27, "PM": 27, "WF": 27,
}

# ISO 3166-1 alpha-2, for the country part of a BIC.
COUNTRIES = set("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ
BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR
CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR
TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
""".split())

IDEM_KEY_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
IBAN_SHAPE_RE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")
BIC_RE = re.compile(r"[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}([A-Z0-9]{3})?")
CCY_RE = re.compile(r"[A-Z]{3}")
AMOUNT_RE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CTRL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
PAYMENT_ID_RE = re.compile(r"pay_[0-9a-f]{24}")


def iban_shape_ok(s):
    return isinstance(s, str) and bool(IBAN_SHAPE_RE.fullmatch(s))


def iban_valid(s):
    """True when s is an electronic-form IBAN: known country, its length,
    mod-97 == 1."""
    if not iban_shape_ok(s) or IBAN_LEN.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def bic_valid(s):
    if not isinstance(s, str):
        return False
    m = BIC_RE.fullmatch(s)
    return bool(m) and m.group(1) in COUNTRIES


def parse_date(s):
    if not isinstance(s, str) or not DATE_RE.fullmatch(s):
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


def parse_amount(s, ccy):
    """(Decimal, None) or (None, problem). ccy None: any decimals."""
    if not isinstance(s, str):
        return None, "must be a string"
    m = AMOUNT_RE.fullmatch(s)
    if not m:
        return None, "not a decimal amount string"
    if len(m.group(1)) > 15:
        return None, "more than 15 integer digits"
    if len(m.group(1)) > 1 and m.group(1)[0] == "0":
        return None, "leading zero"
    decs = len(m.group(2) or "")
    if ccy is not None:
        exp = CCY_EXP[ccy]
        if decs != exp:
            return None, "%s takes exactly %d decimals, got %d" % (
                ccy, exp, decs)
    elif m.group(2) is not None and decs == 0:
        return None, "not a decimal amount string"
    d = Decimal(s)
    if d <= 0:
        return None, "must be greater than zero"
    return d, None


def fmt_amount(d, ccy):
    """Decimal -> string with exactly the currency's decimals, '-' if < 0."""
    exp = CCY_EXP.get(ccy, 2)
    d = Decimal(d).quantize(Decimal(1).scaleb(-exp))
    if d == 0:
        d = abs(d)
    return "{:f}".format(d)


def rfc3339(t=None):
    t = t if t is not None else time.time()
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
                      sort_keys=False).encode("utf-8")


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def b64u_dec(s):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def atomic_write(path, data):
    """Write to a temporary name, then rename: readers never see half a
    file. No fsync: this is a test simulator, not a bank."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# CMS: shape check (own DER walker), signing (python3-cryptography),
# verification (openssl CLI).

OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
OID_SHA256 = bytes.fromhex("608648016503040201")


def _der(buf, pos):
    """(tag, start, end) of the TLV at pos (definite lengths only)."""
    if pos + 2 > len(buf):
        raise ValueError("truncated")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag number")
    ln = buf[pos + 1]
    pos += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf):
            raise ValueError("bad length")
        ln = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + ln > len(buf):
        raise ValueError("truncated")
    return tag, pos, pos + ln


def _kids(buf, start, end):
    out = []
    while start < end:
        t, s, e = _der(buf, start)
        out.append((t, s, e))
        start = e
    return out


def cms_shape_problem(der):
    """None when der is a DER ContentInfo/SignedData, detached, with only
    SHA-256 digests and at least one signer; else what is wrong."""
    try:
        t, s, e = _der(der, 0)
        if t != 0x30 or e != len(der):
            return "not a single DER SEQUENCE"
        ci = _kids(der, s, e)
        if len(ci) < 2 or ci[0][0] != 0x06 or \
                der[ci[0][1]:ci[0][2]] != OID_SIGNED_DATA or ci[1][0] != 0xA0:
            return "not a CMS SignedData"
        inner = _kids(der, ci[1][1], ci[1][2])
        if len(inner) != 1 or inner[0][0] != 0x30:
            return "bad SignedData"
        sd = _kids(der, inner[0][1], inner[0][2])
        if len(sd) < 4 or sd[0][0] != 0x02 or sd[1][0] != 0x31 or \
                sd[2][0] != 0x30 or sd[-1][0] != 0x31:
            return "bad SignedData"

        def alg_is_sha256(t_s_e):
            t, s, e = t_s_e
            if t != 0x30:
                return False
            k = _kids(der, s, e)
            return bool(k) and k[0][0] == 0x06 and \
                der[k[0][1]:k[0][2]] == OID_SHA256
        algs = _kids(der, sd[1][1], sd[1][2])
        if not algs or not all(alg_is_sha256(a) for a in algs):
            return "digest algorithm is not SHA-256"
        encap = _kids(der, sd[2][1], sd[2][2])
        if len(encap) != 1:
            return "not detached (content embedded)"
        signers = _kids(der, sd[-1][1], sd[-1][2])
        if not signers:
            return "no signer"
        for si in signers:
            k = _kids(der, si[1], si[2])
            if len(k) < 5 or not alg_is_sha256(k[2]):
                return "signer digest algorithm is not SHA-256"
        return None
    except ValueError as e:
        return "bad DER: %s" % e


class Signer:
    def __init__(self, cert_file, key_file):
        with open(cert_file, "rb") as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        with open(key_file, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), None)

    def sign(self, data):
        return pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(
            self.cert, self.key, hashes.SHA256()).sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature,
             pkcs7.PKCS7Options.Binary])


def _pem_certs_der(text):
    out = []
    for m in re.finditer(r"-----BEGIN CERTIFICATE-----.*?-----END "
                         r"CERTIFICATE-----", text, re.S):
        out.append(ssl.PEM_cert_to_DER_cert(m.group(0)))
    return out


def verify_detached(body, sig_der, ca_file=None, pinned_file=None):
    """None when sig_der is a valid detached SHA-256 CMS signature over
    body (chained to ca_file, or by exactly pinned_file); else why not."""
    prob = cms_shape_problem(sig_der)
    if prob:
        return prob
    with tempfile.TemporaryDirectory(prefix="bank-openapi-") as d:
        bp, sp, op = (os.path.join(d, n) for n in ("body", "sig", "signer"))
        with open(bp, "wb") as f:
            f.write(body)
        with open(sp, "wb") as f:
            f.write(sig_der)
        cmd = [OPENSSL, "cms", "-verify", "-binary", "-inform", "DER",
               "-in", sp, "-content", bp, "-purpose", "any",
               "-out", os.devnull, "-signer", op]
        if pinned_file:
            cmd += ["-CAfile", pinned_file, "-partial_chain",
                    "-certfile", pinned_file]
        else:
            cmd += ["-CAfile", ca_file]
        r = subprocess.run(cmd, capture_output=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            err = r.stderr.decode("utf-8", "replace").strip().splitlines()
            return "verification failed: %s" % (
                err[-1] if err else "openssl exit %d" % r.returncode)
        if pinned_file:
            with open(pinned_file) as f:
                pin = _pem_certs_der(f.read())
            with open(op) as f:
                got = _pem_certs_der(f.read())
            if not got or any(g not in pin[:1] for g in got):
                return "signer is not the configured signing certificate"
    return None


# --------------------------------------------------------------------------
# Request body validation

class _DupKey(ValueError):
    pass


def _pairs(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise _DupKey(k)
        d[k] = v
    return d


def _no_const(name):
    raise ValueError("%s is not JSON" % name)


def strict_json(body):
    """Parse bytes as strict JSON; raises ValueError / _DupKey."""
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if text.startswith("\ufeff"):
        raise ValueError("byte order mark")
    return json.loads(text, object_pairs_hook=_pairs,
                      parse_constant=_no_const)


PAYMENT_FIELDS = ("end_to_end_id", "instructed_amount", "debtor_account",
                  "creditor_account", "creditor_name", "creditor_agent",
                  "remittance_information", "requested_execution_date")


class Problems:
    def __init__(self):
        self.items = []

    def add(self, code, field, message):
        self.items.append({"error": code, "field": field,
                           "message": message})

    def answer(self):
        first = self.items[0]
        return dict(first, errors=self.items)


def _unknown(p, obj, allowed, prefix):
    for k in sorted(obj):
        if k not in allowed:
            p.add("unknown_field", prefix + k, "unknown field")


def _text(p, obj, name, path, maxlen, required):
    v = obj.get(name)
    if v is None:
        if required:
            p.add("missing_field", path, "required")
        return None
    if not isinstance(v, str):
        p.add("invalid_field", path, "must be a string")
        return None
    if not v.strip():
        p.add("invalid_field", path, "must not be empty or blank")
        return None
    if len(v) > maxlen:
        p.add("invalid_field", path, "longer than %d characters" % maxlen)
        return None
    if CTRL_RE.search(v):
        p.add("invalid_field", path, "control character")
        return None
    return v


def _obj(p, obj, name, members, required):
    v = obj.get(name)
    if v is None:
        if required:
            p.add("missing_field", name, "required")
        return None
    if not isinstance(v, dict):
        p.add("invalid_field", name, "must be an object")
        return None
    _unknown(p, v, members, name + ".")
    return v


def validate_payment(body, today):
    """-> (payment dict, None) or (None, Problems)."""
    p = Problems()
    try:
        obj = strict_json(body)
    except _DupKey as e:
        p.add("invalid_json", str(e), "duplicate member")
        return None, p
    except (ValueError, RecursionError) as e:
        p.add("invalid_json", None, "not JSON: %s" % e)
        return None, p
    if not isinstance(obj, dict):
        p.add("invalid_json", None, "not a JSON object")
        return None, p
    _unknown(p, obj, PAYMENT_FIELDS, "")
    out = {}
    out["end_to_end_id"] = _text(p, obj, "end_to_end_id", "end_to_end_id",
                                 35, True)
    amt = _obj(p, obj, "instructed_amount", ("amount", "currency"), True)
    ccy = None
    if amt is not None:
        c = amt.get("currency")
        if c is None:
            p.add("missing_field", "instructed_amount.currency", "required")
        elif not isinstance(c, str) or not CCY_RE.fullmatch(c):
            p.add("invalid_field", "instructed_amount.currency",
                  "not a three-letter currency code")
        else:
            ccy = c
        a = amt.get("amount")
        if a is None:
            p.add("missing_field", "instructed_amount.amount", "required")
        else:
            d, why = parse_amount(a, ccy if ccy in CCY_EXP else None)
            if why:
                p.add("invalid_field", "instructed_amount.amount", why)
            else:
                out["amount"] = d
        out["currency"] = ccy
    for side in ("debtor_account", "creditor_account"):
        acct = _obj(p, obj, side, ("iban",), True)
        if acct is None:
            continue
        path = side + ".iban"
        v = acct.get("iban")
        if v is None:
            p.add("missing_field", path, "required")
        elif not isinstance(v, str):
            p.add("invalid_field", path, "must be a string")
        elif side == "debtor_account" and not iban_valid(v):
            p.add("invalid_field", path,
                  "not a valid IBAN (shape, length or check digits)")
        elif side == "creditor_account" and not iban_shape_ok(v):
            p.add("invalid_field", path, "not shaped like an IBAN")
        else:
            out[side] = v
    out["creditor_name"] = _text(p, obj, "creditor_name", "creditor_name",
                                 70, True)
    agent = _obj(p, obj, "creditor_agent", ("bic",), False)
    out["creditor_bic"] = None
    if agent is not None:
        v = agent.get("bic")
        if v is None:
            p.add("missing_field", "creditor_agent.bic", "required")
        elif not bic_valid(v):
            p.add("invalid_field", "creditor_agent.bic",
                  "not a BIC (4 letters, ISO country, 2 and optionally 3 "
                  "alphanumerics)")
        else:
            out["creditor_bic"] = v
    out["remittance_information"] = _text(
        p, obj, "remittance_information", "remittance_information", 140,
        False)
    out["requested_execution_date"] = None
    rd = obj.get("requested_execution_date")
    if rd is not None:
        d = parse_date(rd)
        if d is None:
            p.add("invalid_field", "requested_execution_date",
                  "not a date YYYY-MM-DD")
        elif d > today + dt.timedelta(days=365):
            p.add("invalid_field", "requested_execution_date",
                  "more than 365 days ahead")
        else:
            out["requested_execution_date"] = d
    if p.items:
        return None, p
    return out, None


# --------------------------------------------------------------------------
# Bill pool (electronic commercial drafts) and supply-chain finance.
# BILLS_API below is the contract (tests/sims/README.md repeats it word for
# word). The rules are this bank's own, written from the domain (ECDS /
# 新一代票据业务系统 practice, 票据池 and 供应链金融 platform habits), not
# taken from h2hd's formats/.

BILLS_API = r"""
BILL POOL AND SUPPLY-CHAIN FINANCE API (same bank, same port)
=============================================================

B0. Conventions
---------------
Everything in sections 0-2 and 7 of the contract above holds: mutual TLS,
the bearer token (scope "bills" for /v1/bills/..., "scf" for /v1/scf/...;
a token asked for without scope has both), 401/403/404/405 before
anything else, unknown or repeated query parameters -> 400 invalid_field,
every answer signed. JSON bodies are strict as in section 3: exactly the
members listed (unknown -> 400 unknown_field, a member listed but not
used by the given op -> 400 invalid_field "not used by op X"), null means
absent, no duplicate members, text not empty/blank/control characters,
lengths in code points.
  amount      {"amount": "(0|[1-9][0-9]{0,14})\.[0-9]{2}", "currency":
              "CNY"}: a JSON object, the amount a string with EXACTLY 2
              decimals, > 0. Bills and vouchers are CNY only; financing
              takes any ISO 4217 currency with 2 minor digits, one
              currency per request. Answers use the same form.
  date        "YYYY-MM-DD", a real date.
  rate        annual percentage as a string "[0-9]{1,2}(.[0-9]{1,4})?",
              > 0 ("1.35" = 1.35 % p.a.); answers give 4 decimals "1.3500".
  party       {"name": text 1-100, "account": "[0-9A-Z]{1,34}" (optional
              where said), "bank_code": "[0-9]{12}" (CNAPS 行号)}
  request_id  1-64 characters of [A-Za-z0-9._:-]
Interest is amount * rate / 100 * days / 360, rounded half up to 0.01.
Our side: the client (the certificate's enterprise) is `us`. A party is us
when its bank_code is this bank's (--bank-code, default 999100000010) and
its account is one of the client's accounts here (the accounts of section
3: seeded, given entries or debited); our party in answers is {"name":
--customer-name, "account": that account, "bank_code": --bank-code}. This
bank as a party is {"name": "H2HD模拟银行", "account": null, "bank_code":
--bank-code}. Parties in answers always carry all three members (account
null when absent). Money moves are entries on the client's account as in
section 3 (seen by balances and transactions; currency CNY or the
financing's; booking date = value date = the bank date, except a
repayment at maturity, booked on the maturity date), with a remittance
text naming the draft or voucher and bank_reference = what caused it:
the request_id of our operation (discount, present_payment, recourse,
voucher finance and settle), the notice_id (signing a payment or
recourse notice), the loan_ref (financing disbursement and repayment) or
the voucher_id (settlement paid to a voucher we hold).

B1. POSTs: headers, idempotency, answers
----------------------------------------
Every POST below takes the headers of section 3 (Idempotency-Key,
Content-Type: application/json, X-Request-Signature over the exact body)
and is checked in this order: token (401/403), a malformed id in the
path (400 invalid_field "number" | "voucher_id" | "request_id"), any
query parameter (400 invalid_field), Idempotency-Key (400
invalid_header), Content-Type (415), signature (400 invalid_signature),
idempotency, validation (400), business rules (422). In addition the
body's "request_id" MUST equal the Idempotency-Key (else 400
invalid_field "request_id"). Keys live in two name spaces, "bills"
(every POST under /v1/bills) and "scf" (every POST under /v1/scf),
separate from payments and kept for the life of the state directory.
  - key used before, same path and byte-identical body -> the ORIGINAL
    answer, status code and body byte for byte (201 or 422), fresh
    X-Response-* headers
  - key used before with another path or other bytes -> 422
    {"error": "idempotency_key_reused", "request_id": K, "message"}
  - 400/401/403/415, bad signature, injected 500 or replay: nothing
    recorded, the key stays unused
  - a business refusal IS recorded: it uses up its key, and is answered
    422 {"error": "<code>", "message": English, "message_zh": Chinese,
         "request_id": K, "op": <op>}
    codes below (BILnnn, SCFnnn); a new attempt needs a new key.
After an ambiguous outcome ask GET /v1/bills/requests/{K} or
GET /v1/scf/requests/{K}:
  200 {"request_id", "op", "path", "http_status", "created_at",
       "answer": <the original answer body as JSON>}
  404 {"error": "request_not_found"}     -> not recorded: send again
Validation errors are 400 as in section 3 step 6 (error, field, message,
errors); list members are named "invoices[0].amount.amount".
Paged lists take page=N (1-999999, default 1) and page_size=N (1-500,
default --page-size) and answer {"<items>": [...], "page", "page_size",
"total", "total_pages"}; total_pages = ceil(total / page_size) (0 when
empty); a page after the last is an empty list. Other parameters are
filters; a filter value out of its set -> 400 invalid_field.

B2. Drafts: model
-----------------
A draft (电子商业汇票) has a 30-digit number assigned by the bank:
kind digit (5 = AC01 bank acceptance, 6 = AC02 commercial acceptance),
the acceptor's 12-digit bank_code, the issue date YYYYMMDD, an 8-digit
serial, a Luhn check digit. Its face amount in fen (0.01 CNY) F gives the
sub-ticket range 1..F; a PIECE is number + sub_range {"from", "to"}
(integers), amount = to - from + 1 fen. A new draft is one piece 1..F.
Only a "divisible" draft splits: a partial endorse, discount or pledge
takes the part [piece.from, to] (it MUST start at the piece's first
sub-ticket) and leaves the remainder [to + 1, piece.to] as a new piece,
status held, same history plus a "split" event. Pieces never merge.
Piece view (every member always present):
  {"number", "sub_range": {"from", "to"}, "kind": "AC01"|"AC02",
   "amount": amount (the piece), "face_amount": amount (the draft),
   "issue_date", "maturity_date", "drawer": party, "acceptor": party,
   "payee": party, "holder": party|null, "status", "transferable": bool,
   "divisible": bool,
   "pending": null | {"op", "direction": "out"|"in", "request_id",
       "notice_id", "counterparty": party (out: who must sign; in: who
       sent it), "since": timestamp, "rate", "date", "interest",
       "proceeds", "account", "claim_amount", "reason", "pool_id",
       "overdue"}    (members that do not apply are null),
   "pledge": null | {"pool_id", "pledgee": party, "date"},
   "updated_at": timestamp}
Statuses (this is OUR view of the piece):
  registered          we drew it (出票已登记)
  pending_acceptance  提示承兑待签收 (out: by us; in: to us as acceptor)
  accepted            承兑已签收, to be presented for receipt
  pending_receipt     提示收票待签收 (out: to the payee; in: to us)
  delivered           the payee signed: not ours any more
  held                we hold it
  pending_endorsement 背书待签收 (out: by us; in: to us)
  endorsed            endorsed away, signed: not ours
  pending_discount    贴现待签收           discounted   the bank's
  pending_pledge      质押待签收           pledged      in our pool
  pending_release     出池(解质押)待签收
  pending_payment     提示付款待签收 (out: by us; in: to us as acceptor)
  paid                结清              dishonoured   拒付 (our presentment)
  pending_recourse    追索待清偿 (out: by us; in: claimed from us)
  recourse_settled    追索已清偿        withdrawn     撤票 by us (drawer)
  refused             we refused what was presented to us
  liable              we accepted it (acceptor): we pay at maturity
Operation, from which status, where it goes (sign = the counterparty
signs; refuse = the counterparty refuses; withdraw = we take it back):
  present_acceptance  registered -> pending_acceptance; sign -> accepted;
                      refuse/withdraw -> registered
  present_receipt     accepted -> pending_receipt; sign -> delivered
                      (holder = payee); refuse/withdraw -> accepted
  endorse             held -> pending_endorsement; sign -> endorsed
                      (holder = endorsee); refuse/withdraw -> held
  discount            held -> pending_discount; sign -> discounted
                      (holder = the discounting bank; the proceeds are
                      credited to "account"); refuse/withdraw -> held
  pledge              held -> pending_pledge; sign -> pledged;
                      refuse/withdraw -> held
  release             pledged -> pending_release; sign -> held;
                      refuse/withdraw -> pledged
  present_payment     held -> pending_payment; sign -> paid (the piece
                      amount credited to "account"); refuse (拒付) ->
                      dishonoured; withdraw -> held
  recourse            dishonoured -> pending_recourse; sign ->
                      recourse_settled (the claim credited to
                      "account"); refuse/withdraw -> dishonoured
  withdraw            of our own pending operation (direction out):
                      back as above; of a registered or accepted draft
                      (撤票): -> withdrawn
  sign / refuse       of a notice addressed to us (direction in), below
Notices to us (kind: what was presented; sign -> / refuse ->):
  present_acceptance  we are the AC02 acceptor: liable / refused
  present_receipt     we are the payee: held / refused
  endorse             we are the endorsee: held / refused
  present_payment     we are the acceptor: paid, the piece amount DEBITED
                      from "account" / refused
  recourse            claimed from us: recourse_settled, the claim
                      DEBITED from "account" / refused
The counterparty's side is played by the admin hooks (B8) or, with
auto_sign_ms set, by the bank itself: every outgoing pending operation
older than auto_sign_ms is signed before the next request is handled.
History events (detail): {"time", "date", "op", "event": "registered" |
"requested" | "signed" | "refused" | "withdrawn" | "split", "from":
party|null, "to": party|null, "status" (after the event), "sub_range",
"amount" (of the piece then), "request_id", "notice_id", "reason"},
oldest first. "op" is the business operation (a notice's kind for
notices; "withdraw" only for 撤票); "from" is who acted (us for our
requests and answers, the counterparty for its sign/refuse, the sender
of a notice), "to" the other side. A remainder piece starts with a copy
of its parent's history and a "split" event.

B3. Drafts: endpoints
---------------------
POST /v1/bills/drafts  (issue, 出票; we are the drawer)
  {"request_id", "kind": "AC01"|"AC02", "amount": amount,
   "maturity_date": date, "drawer_account": our account,
   "acceptor": party (AC01: the accepting bank, account optional; AC02:
               account required),
   "payee": party (account required),
   "issue_date": date (optional, must be the bank date),
   "transferable": bool (optional, default true; false = 不得转让),
   "divisible": bool (optional, default false; true = 可分包),
   "memo": text 1-200 (optional)}
  201 {"request_id", "op": "issue", "result": "accepted",
       "draft": piece (status registered), "remainder": null}
POST /v1/bills/drafts/{number}/operations
  {"op", "request_id", "memo"?, plus per op (R required, O optional,
   anything else -> 400):
   present_acceptance  O sub_range
   present_receipt     O sub_range
   endorse             R counterparty (the endorsee, account required)
                       O sub_range
   discount            R rate, account (credited)  O sub_range,
                       counterparty (a bank; default this bank), date
                       (discount date, default the bank date)
   pledge              O sub_range, pool_id, counterparty (the pledgee:
                       this bank only: its bank_code, no account)
   release             O sub_range, pool_id
   present_payment     R account (credited)  O sub_range, overdue (bool)
   recourse            R counterparty (whom we claim from), account
                       (credited), reason (text 1-200)  O sub_range,
                       amount (the claim, default the piece amount)
   withdraw            O sub_range
   sign                R notice_id  O sub_range, account (the account
                       debited: required for present_payment and
                       recourse notices, refused for the others)
   refuse              R notice_id, reason (text 1-200)  O sub_range}
  sub_range {"from": int >= 1, "to": int >= from}; pool_id and
  notice_id: text 1-35. {number}: 30 digits, else 400 invalid_field
  "number".
  201 {"request_id", "op", "result": "accepted" (took effect) | "pending"
       (awaits the counterparty), "draft": the piece concerned, after
       the operation, "remainder": the piece split off, or null}
  The discount answer's pending carries rate, date, interest (amount *
  rate * (maturity - date) / 360) and proceeds (amount - interest).
GET /v1/bills/drafts?status=S&maturity_from=D&maturity_to=D&page=&page_size=
  every piece the bank keeps for us (also those that left us: every
  status), ordered by maturity_date, number, sub_range.from; status is one
  of the statuses of B2, maturity_from / maturity_to inclusive:
  200 {"drafts": [piece...], "page", "page_size", "total", "total_pages"}
GET /v1/bills/drafts/{number}
  200 {"number", "pieces": [piece + "history": [event...]...]} by from
  404 {"error": "BIL001", "message", "message_zh"}
GET /v1/bills/notices?page=&page_size=
  open notices to us ("BN<yyyymmdd><6 digits>"), by notice_id:
  200 {"notices": [{"notice_id", "kind", "number", "sub_range", "amount",
       "claim_amount": amount|null, "from": party, "to": party (us),
       "received_at", "reason": text|null, "status": "open",
       "draft": piece}...], "page", ...}
GET /v1/bills/pool  (no parameters)
  200 {"pool_id", "as_of": bank date, "pledged_count", "pledged_total",
       "deposit", "quota_total", "quota_used", "quota_available",
       "ratios": {"AC01": "1.00", "AC02": "0.80"}}
  pledged_* count pieces in status pledged or pending_release;
  quota_total = deposit + sum over PLEDGED pieces (not pending_release)
  of floor(amount * ratio of its kind, 0.01); quota_used is the pool's
  financing in use (hook B8); quota_available = quota_total - quota_used.

B4. Drafts: refusal codes (422; checked in this order, first wins)
-------------------------------------------------------------------
issue: BIL025, BIL015, BIL020 (drawer_account), BIL019 (payee, or an
AC02 acceptor, is us).
operations: BIL001 number unknown; sign/refuse: BIL014, BIL013; the rest:
piece (BIL003, BIL007), BIL004 (endorse, discount, pledge, release,
present_payment, recourse), the status: BIL002 (withdraw: BIL023 when the
pending operation was sent to us, BIL002 when nothing of ours is pending
and the draft is not registered/accepted), the range rule (BIL013 for
whole-piece operations; BIL008 then BIL012 for endorse, discount,
pledge), then per op:
  endorse BIL006 BIL016 BIL019; discount BIL006 BIL016 BIL011 BIL019
  BIL020; pledge BIL006 BIL016 BIL021 BIL022; release BIL021 BIL010;
  present_payment BIL005 BIL009 BIL020; recourse BIL017 BIL018 BIL020;
  sign BIL026 BIL020 BIL024.
  BIL001 draft not found / 票据不存在
  BIL002 operation not allowed in status S / 票据状态不允许该业务
  BIL003 sub-range outside the draft, or across pieces / 子票区间超出票据范围
  BIL004 not the holder / 非当前持票人
  BIL005 before maturity / 票据未到期，不能提示付款
  BIL006 draft not transferable / 票据不得转让
  BIL007 sub-range required: the draft is split / 票据已分包，须指定子票区间
  BIL008 draft not divisible / 票据不可分包流转
  BIL009 presentment period over (maturity + 10 days); send overdue: true
         / 已超过提示付款期
  BIL010 pool quota insufficient for the release / 票据池可用额度不足
  BIL011 discount date not in [bank date, maturity) / 贴现日期无效
  BIL012 a part must start at the piece's first sub-ticket / 分包须从起始子票号开始
  BIL013 the operation takes the whole piece / 须针对整个子票区间办理
  BIL014 notice not found, answered, or of another draft / 待签收通知不存在
  BIL015 maturity not after issue or more than 6 months after it / 到期日无效
  BIL016 at or after maturity: no transfer / 票据已到期
  BIL017 counterparty not liable (drawer, acceptor, payee, or a party of
         the piece's history, other than us) / 被追索人非票据债务人
  BIL018 claim below the piece amount / 追索金额低于票面金额
  BIL019 counterparty is ourselves / 交易对手不能为本企业
  BIL020 account not ours / 账户不属于本企业
  BIL021 pool not found (not our pool_id) / 票据池协议不存在
  BIL022 pledgee must be the pool bank / 质权人须为票据池银行
  BIL023 not the initiator: withdraw only our own pending operations /
         非业务发起方，不能撤回
  BIL024 insufficient funds (--no-overdraft) / 账户余额不足
  BIL025 issue date is not the bank date / 出票日须为当日
  BIL026 account required for (only for) payment and recourse notices /
         账户信息与通知类型不符
A refusal changes nothing. "In the presentment period" means maturity <=
bank date <= maturity + 10 days; before it BIL005; after it BIL009 unless
overdue is true. Endorse, discount and pledge need bank date < maturity
(BIL016); the discount date must satisfy bank date <= date < maturity.
Release needs contribution(piece) <= quota_available (BIL010).
"BIL004 not the holder": the piece has a holder and it is not us (a
piece we endorsed, discounted or delivered, or one presented to us and
not yet signed).

B5. Supply-chain financing (应收账款融资 / 反向保理)
------------------------------------------------
POST /v1/scf/financing
  {"request_id", "kind": "receivable"|"reverse_factoring",
   "requested_amount": amount, "account": our account (receivable:
   credited at disbursement; both: debited at repayment),
   "value_date": date (optional), "product", "agreement_ref",
   "contract_ref": text 1-35 (optional), "memo": text 1-200 (optional),
   "invoices": [1-100 of
     {"number": text 1-35, "issue_date": date, "due_date": date
      (>= issue_date), "amount": amount (the request's currency),
      "buyer": {"name": text 1-140, "id": text 1-35 (optional)},
      "seller": same shape,
      "seller_account": "[0-9A-Z]{1,34}" (reverse_factoring: required,
                        the supplier paid; receivable: not allowed),
      "tax_invoice_code": 10 or 12 digits (optional)}]}
  An invoice is tax_invoice_code + number; twice in one request -> 400.
  Refusals (422, in this order): SCF005 account not ours; SCF006
  value_date before the bank date; SCF003 an invoice issued after the
  bank date or due on or before it; SCF002 an invoice already in
  another live request (not rejected or cancelled); SCF004
  requested_amount above floor(ratio * invoice total), ratio 90 %
  (receivable) or 100 % (reverse_factoring).
  201 {"request_id", "op": "financing", "financing": view (submitted)}
GET /v1/scf/financing/{request_id}
  200 view; 404 {"error": "SCF001", ...}
  view: {"request_id", "kind", "status", "requested_amount", "account",
   "value_date": requested|null, "product", "agreement_ref",
   "contract_ref", "created_at", "updated_at",
   "approved": null | {"amount", "rate", "value_date", "maturity_date",
                       "interest"},
   "rejection": null | {"code", "reason"},
   "cancellation": null | {"request_id", "reason", "reason_code", "time"},
   "loan_ref": null | "LN<10 digits>",
   "financed": null | {"amount", "value_date"},
   "repayment": null | {"principal", "interest", "amount", "date"},
   "invoices": [{"number", "tax_invoice_code", "amount", "issue_date",
     "due_date", "result": "pending"|"accepted"|"rejected",
     "reason": null | {"code", "message"},
     "financed_amount": amount|null}]}
  status: submitted -> under_review -> approved -> financed -> repaid
  (under_review may be skipped);
  rejected (from submitted, under_review, approved); cancelled (by us,
  from submitted, under_review, approved). Approval accepts invoices
  (some may be rejected), sets amount <= min(requested, ratio * accepted
  total), rate, value_date, maturity_date and interest = amount * rate *
  (maturity - value_date) / 360; the accepted invoices' financed_amount
  split the amount pro rata (floor, the rest on the last accepted one)
  and add up to it exactly. Disbursement books the amount as a credit on
  "account" (receivable; reverse factoring pays the sellers, nothing is
  booked for us) and issues a "due" notice. When the bank date reaches
  the maturity date (or earlier, by hook) principal + interest are
  debited from "account" (booked on the maturity date, or the hook's bank
  date) and a "paid" notice is issued. SCF020 / SCF021 appear only as a
  rejection's code in the view, never as a 422.
POST /v1/scf/financing/{request_id}/cancel
  {"request_id": the cancellation's own id (= Idempotency-Key),
   "reason": text 1-105, "reason_code": "[A-Z0-9]{1,4}" (optional)}
  201 {"request_id", "op": "cancel", "financing": view (cancelled)}
  422 SCF001 not found, SCF010 already financed (disbursed), SCF011
  already final (rejected, cancelled, repaid).
GET /v1/scf/notices?request_id=&page=&page_size=
  200 {"notices": [{"notice_id": "RN<10 digits>", "kind": "due"|"paid",
       "request_id", "loan_ref", "amount", "principal", "interest",
       "due_date" (due: when it will be debited; paid: when it was),
       "account", "created_at"}...], "page", ...}  oldest first

B6. Credit vouchers (电子债权凭证)
--------------------------------
A voucher: {"voucher_id": "V<yyyymmdd><6 digits>", "root_id",
 "parent_id": null for the root, "level": 1 for the root, parent's + 1,
 "issuer": party (the core enterprise, obligor), "original_holder":
 party (tier-1), "transferor": party (who sent it), "holder": party (the
 receiver while pending), "amount", "remaining": amount not passed on to
 live children, "issue_date", "maturity_date" (the tree's), "status":
 pending|held|financed|settled|refused|withdrawn, "status_date",
 "financing": null | {"amount", "rate", "interest", "proceeds", "date",
 "loan_ref", "account"}, "settlement": null | {"date", "amount",
 "paid_to": party}, "contract_ref", "created_at", "updated_at"};
 detail adds "history": [{"time", "date", "op", "event": "requested" |
 "signed" | "refused" | "withdrawn" | "financed" | "settled" | "lapsed",
 "by": party, "to": party|null, "amount" (the voucher's), "status"
 (after), "request_id"}], oldest first.
Rules: for every voucher amount = remaining + the amounts of its live
(pending, held, financed, settled) children, so the remaining of a tree's
live vouchers add up to the root's amount. A transfer takes "amount" off
the parent's remaining and creates a child (level + 1, pending until the
receiver signs); a refused or withdrawn child gives its amount back.
Only a held voucher transfers or finances, before maturity. Financing
(by this bank, rate = voucher_rate) takes the whole remaining; proceeds =
remaining - interest (to maturity) are credited to "account". Settlement
by the issuer, at or after maturity, debits the root amount from the
issuer's account: pending vouchers of the tree lapse (withdrawn), every
held or financed one becomes settled, paid its remaining (to the holder;
a financed one to this bank); our own held vouchers are credited to the
holder's account (bank_reference = voucher_id). Visible to us: every
voucher of a tree we issued, and every voucher we hold or sent; any
other id answers SCF030. With auto_sign_ms set, every pending voucher
not addressed to us is signed by its receiver after that delay.
POST /v1/scf/vouchers  (issue; we are the core enterprise)
  {"request_id", "amount", "maturity_date", "issuer_account": our account,
   "receiver": party (account required), "contract_ref": text 1-35
   (optional), "memo" (optional)}
  201 {"request_id", "op": "issue", "result": "pending", "voucher": the
       root (pending), "child": null}
  422 SCF005, SCF041 (maturity not after the bank date or more than one
  year on), SCF039 (receiver is us), in this order.
POST /v1/scf/vouchers/{voucher_id}/operations
  {"op", "request_id", "memo"?, plus per op:
   sign      -                  refuse    R reason (text 1-200)
   withdraw  -                  transfer  R amount, to (party, account
                                            required)
   finance   R account  O amount (must be the whole remaining)
   settle    R account (debited; {voucher_id}: any voucher of the tree)}
  201 {"request_id", "op", "result": "accepted"|"pending", "voucher":
       the voucher operated on (after), "child": the new child (transfer)
       or null}
  422, checked in this order:
   sign/refuse: SCF030, SCF031 (not pending), SCF038 (not addressed to us)
   withdraw:    SCF030, SCF031 (not pending), SCF038 (not sent by us)
   transfer:    SCF030, SCF032, SCF031, SCF034, SCF039, SCF033
   finance:     SCF030, SCF032, SCF031, SCF034, SCF037, SCF005
   settle:      SCF030, SCF036, SCF031 (root not held/financed), SCF035,
                SCF005, SCF040
GET /v1/scf/vouchers?holder=us|others&status=S&root_id=R&page=&page_size=
  visible vouchers ("us": we hold them, pending ones addressed to us
  included; "others": held by others), by root_id then voucher_id:
  200 {"vouchers": [voucher...], "page", ...}
GET /v1/scf/vouchers/{voucher_id}
  200 voucher + history; 404 {"error": "SCF030", ...}

B7. SCF refusal codes
---------------------
  SCF001 financing request not found / 融资申请不存在
  SCF002 invoice already financed or under financing / 发票已融资或在途
  SCF003 invoice dates invalid (issued after today or already due) /
         发票日期无效或已到期
  SCF004 requested amount above the financeable amount / 申请金额超过可融资额度
  SCF005 account not ours / 账户不属于本企业
  SCF006 value date before the bank date / 起息日早于当前营业日
  SCF010 already disbursed: cannot cancel / 已放款，不能撤销
  SCF011 already final: cannot cancel / 申请已终结，不能撤销
  SCF020 rejected by credit review (default review code) / 授信审批未通过
  SCF021 no invoice accepted / 无合格发票
  SCF030 voucher not found / 债权凭证不存在
  SCF031 operation not allowed in status S / 凭证状态不允许该业务
  SCF032 not the holder / 非凭证持有人
  SCF033 amount exceeds the remaining amount / 金额超过可用余额
  SCF034 at or after maturity / 凭证已到期
  SCF035 before maturity: cannot settle / 凭证未到期，不能兑付
  SCF036 only the issuer settles / 仅开立方可兑付
  SCF037 financing takes the whole remaining amount / 须按凭证全部余额融资
  SCF038 not addressed to us / not sent by us / 非本企业待处理业务
  SCF039 counterparty is ourselves (or the holder) / 交易对手不能为本企业
  SCF040 insufficient funds (--no-overdraft) / 账户余额不足
  SCF041 maturity not after today or more than one year on / 到期日无效
A refusal changes nothing.

B8. Admin hooks (admin port; tests only)
----------------------------------------
Plain HTTP on the admin port, JSON in and out, like section 9. Answers
200 with the objects named; 400 {"error": "invalid_request", "message"}
for bad input; 404 {"error": "not_found", "message"} for an unknown
draft, request or voucher; 409 when the rules forbid it: {"error":
<bank code>, "message", "message_zh"} (the same rules as the API), or
{"error": "not_pending" | "not_allowed", "message"}.
POST /admin/settings {"auto_sign_ms": int >= 0 | null, "voucher_rate":
     rate, "financing_rate": rate}  (any subset) -> the settings
     (defaults: null, "3.6500", "4.3500"; reset restores the defaults)
POST /admin/date     (section 9) moves the bank date; repayments due by
     then are booked on their maturity date
POST /admin/bills/pool {"deposit": "x.xx", "used": "x.xx"} (any subset)
     -> pool view; 400 when used would exceed quota_total
POST /admin/bills/counterparty {"number", "sub_range"?, "action":
     "sign"|"refuse"|"dishonour", "reason"?}: the counterparty answers
     our pending operation on that piece (dishonour = refuse of a
     present_payment) -> {"draft": piece}
POST /admin/bills/present {"kind": present_acceptance | present_receipt
     | endorse | present_payment | recourse, "to_account": our account,
     "from": party (default: the drawer for present_acceptance and
     present_receipt; required otherwise), "number"? (an existing piece:
     present_payment / recourse / endorse of a draft we know; with
     "sub_range" when split), "draft"? (a new draft: {"number"?, "kind",
     "amount", "issue_date", "maturity_date", "drawer", "acceptor",
     "payee", "transferable"?, "divisible"?}; one of number and draft),
     "claim_amount"? (recourse), "reason"?} -> {"notice": notice}
GET  /admin/bills  {"today", "pool", "pieces": [piece + history],
     "notices": [every notice, "status" open|signed|refused], "settings"}
POST /admin/scf/review {"request_id", "decision": "review" | "approve" |
     "reject" | "disburse" | "repay", approve: "amount"?, "rate"?,
     "value_date"?, "maturity_date"?, "invoices"?: {"<number>":
     {"result": "rejected", "code"?, "reason"?}}; reject: "code"?,
     "reason"?} -> {"financing": view}. approve defaults: the most
     allowed amount, financing_rate, max(bank date, value_date), the
     latest due date of the accepted invoices.
POST /admin/scf/vouchers {"action": ...} an outside party acts:
     issue    {"issuer": party (not us), "to": party (us: a voucher for
              us to sign; or anyone), "amount", "maturity_date"}
     sign | refuse | withdraw  {"voucher_id", "reason"?}
     transfer {"voucher_id", "to": party, "amount"}
     finance | settle  {"voucher_id"}
     same rules as B6 (they may not act for us: 409 SCF038/SCF032/
     SCF036) -> {"voucher": voucher, "child": voucher|null}
GET  /admin/scf  {"today", "financing": [view], "vouchers": [voucher +
     history, all of them], "trees": [{"root_id", "amount",
     "live_remaining"}], "notices": [...], "settings"}
GET  /admin/requests  the request log (<state>/requests.jsonl): one line
     per POST under /v1/bills and /v1/scf: {"time", "client_cn",
     "family": "bills"|"scf", "path", "idempotency_key", "request_id",
     "op" (the body's op, else issue | financing | cancel by path),
     "body_sha256", "outcome", "http_status", "error", "fault"};
     outcome created | refused (422 business code) | replayed | conflict
     | rejected_invalid | bad_signature | unauthorized | fault_500 |
     fault_replay.
The faults of section 9 apply to these requests too
(timeout_after_create_next: to requests that get recorded, 201 or 422).
POST /admin/reset also empties drafts, notices, pool figures, financing,
vouchers, keys and the request log.
"""

BILL_CCY = "CNY"
BILL_PRESENT_DAYS = 10
BILL_MAX_TERM_MONTHS = 6
BANK_PARTY_NAME = "H2HD模拟银行"
DEFAULT_BANK_CODE = "999100000010"
DEFAULT_CUSTOMER = "H2HD测试企业有限公司"
DEFAULT_POOL_ID = "POOL0001"
POOL_RATIO = {"AC01": 100, "AC02": 80}          # percent of the amount
SCF_RATIO = {"receivable": 90, "reverse_factoring": 100}
SETTINGS_DEFAULTS = {"auto_sign_ms": None, "voucher_rate": "3.6500",
                     "financing_rate": "4.3500"}

BILL_STATUSES = (
    "registered", "pending_acceptance", "accepted", "pending_receipt",
    "delivered", "held", "pending_endorsement", "endorsed",
    "pending_discount", "discounted", "pending_pledge", "pledged",
    "pending_release", "pending_payment", "paid", "dishonoured",
    "pending_recourse", "recourse_settled", "withdrawn", "refused",
    "liable")
# our operation -> (allowed from, pending status, signed status)
BILL_OUT = {
    "present_acceptance": (("registered",), "pending_acceptance",
                           "accepted"),
    "present_receipt": (("accepted",), "pending_receipt", "delivered"),
    "endorse": (("held",), "pending_endorsement", "endorsed"),
    "discount": (("held",), "pending_discount", "discounted"),
    "pledge": (("held",), "pending_pledge", "pledged"),
    "release": (("pledged",), "pending_release", "held"),
    "present_payment": (("held",), "pending_payment", "paid"),
    "recourse": (("dishonoured",), "pending_recourse", "recourse_settled"),
}
# notice kind -> (pending status, status once we signed)
BILL_IN = {
    "present_acceptance": ("pending_acceptance", "liable"),
    "present_receipt": ("pending_receipt", "held"),
    "endorse": ("pending_endorsement", "held"),
    "present_payment": ("pending_payment", "paid"),
    "recourse": ("pending_recourse", "recourse_settled"),
}
BILL_HOLDER_OPS = ("endorse", "discount", "pledge", "release",
                   "present_payment", "recourse")
BILL_SPLIT_OPS = ("endorse", "discount", "pledge")
BILL_OPS = tuple(BILL_OUT) + ("withdraw", "sign", "refuse")
# op -> (required, optional) members besides op, request_id, memo
BILL_OP_FIELDS = {
    "present_acceptance": ((), ("sub_range",)),
    "present_receipt": ((), ("sub_range",)),
    "endorse": (("counterparty",), ("sub_range",)),
    "discount": (("rate", "account"), ("sub_range", "counterparty",
                                       "date")),
    "pledge": ((), ("sub_range", "pool_id", "counterparty")),
    "release": ((), ("sub_range", "pool_id")),
    "present_payment": (("account",), ("sub_range", "overdue")),
    "recourse": (("counterparty", "account", "reason"),
                 ("sub_range", "amount")),
    "withdraw": ((), ("sub_range",)),
    "sign": (("notice_id",), ("sub_range", "account")),
    "refuse": (("notice_id", "reason"), ("sub_range",)),
}
VOUCHER_STATUSES = ("pending", "held", "financed", "settled", "refused",
                    "withdrawn")
VOUCHER_LIVE = ("pending", "held", "financed", "settled")
VOUCHER_OP_FIELDS = {
    "sign": ((), ()),
    "refuse": (("reason",), ()),
    "withdraw": ((), ()),
    "transfer": (("amount", "to"), ()),
    "finance": (("account",), ("amount",)),
    "settle": (("account",), ()),
}
SCF_STATUSES = ("submitted", "under_review", "approved", "rejected",
                "financed", "repaid", "cancelled")

CODES = {
    "BIL001": ("draft not found", "票据不存在"),
    "BIL002": ("operation {op} not allowed in status {status}",
               "票据状态为{status}，不允许办理{op}"),
    "BIL003": ("sub-range outside the draft or across pieces",
               "子票区间超出票据范围或跨越多个子票包"),
    "BIL004": ("not the holder", "非当前持票人"),
    "BIL005": ("before maturity", "票据未到期，不能提示付款"),
    "BIL006": ("draft not transferable", "票据不得转让"),
    "BIL007": ("sub-range required: the draft is split into pieces",
               "票据已分包，须指定子票区间"),
    "BIL008": ("draft not divisible", "票据不可分包流转"),
    "BIL009": ("presentment period over", "已超过提示付款期"),
    "BIL010": ("pool quota insufficient for the release",
               "票据池可用额度不足，不能出池"),
    "BIL011": ("discount date invalid", "贴现日期无效"),
    "BIL012": ("a part must start at the piece's first sub-ticket",
               "分包须从子票区间起始号开始"),
    "BIL013": ("the operation takes the whole piece",
               "该业务须针对整个子票区间办理"),
    "BIL014": ("notice not found or already answered",
               "待签收通知不存在或已处理"),
    "BIL015": ("maturity date out of range", "到期日无效"),
    "BIL016": ("draft at or after maturity", "票据已到期，不能转让"),
    "BIL017": ("counterparty not liable on this draft",
               "被追索人非票据债务人"),
    "BIL018": ("claim below the piece amount", "追索金额低于票面金额"),
    "BIL019": ("counterparty is ourselves", "交易对手不能为本企业"),
    "BIL020": ("account not ours", "账户不属于本企业"),
    "BIL021": ("pool not found", "票据池协议不存在"),
    "BIL022": ("pledgee must be the pool bank", "质权人须为票据池银行"),
    "BIL023": ("not the initiator", "非业务发起方，不能撤回"),
    "BIL024": ("insufficient funds", "账户余额不足"),
    "BIL025": ("issue date is not the bank date", "出票日须为当日"),
    "BIL026": ("account does not fit the notice",
               "账户信息与通知类型不符"),
    "SCF001": ("financing request not found", "融资申请不存在"),
    "SCF002": ("invoice already financed or under financing",
               "发票已融资或在途"),
    "SCF003": ("invoice dates invalid or invoice due",
               "发票日期无效或已到期"),
    "SCF004": ("requested amount above the financeable amount",
               "申请金额超过可融资额度"),
    "SCF005": ("account not ours", "账户不属于本企业"),
    "SCF006": ("value date before the bank date", "起息日早于当前营业日"),
    "SCF010": ("already disbursed: cannot cancel", "已放款，不能撤销"),
    "SCF011": ("already final: cannot cancel", "申请已终结，不能撤销"),
    "SCF020": ("rejected by credit review", "授信审批未通过"),
    "SCF021": ("no invoice accepted", "无合格发票"),
    "SCF030": ("voucher not found", "债权凭证不存在"),
    "SCF031": ("operation {op} not allowed in status {status}",
               "凭证状态为{status}，不允许办理{op}"),
    "SCF032": ("not the holder", "非凭证持有人"),
    "SCF033": ("amount exceeds the remaining amount", "金额超过凭证可用余额"),
    "SCF034": ("voucher at or after maturity", "凭证已到期"),
    "SCF035": ("before maturity: cannot settle", "凭证未到期，不能兑付"),
    "SCF036": ("only the issuer settles", "仅开立方可兑付"),
    "SCF037": ("financing takes the whole remaining amount",
               "须按凭证全部余额融资"),
    "SCF038": ("not addressed to us or not sent by us",
               "非本企业待处理业务"),
    "SCF039": ("counterparty is ourselves or the holder",
               "交易对手不能为本企业或持有人"),
    "SCF040": ("insufficient funds", "账户余额不足"),
    "SCF041": ("maturity date out of range", "到期日无效"),
}


class Refusal(Exception):
    """A business refusal with a bank code (422 on the API, 409 on the
    admin hooks)."""

    def __init__(self, code, **kw):
        super().__init__(code)
        self.code = code
        self.kw = kw

    def body(self):
        en, zh = CODES[self.code]
        return {"error": self.code, "message": en.format(**self.kw),
                "message_zh": zh.format(**self.kw)}


class HookError(Exception):
    """An admin hook that cannot be done: (status, error, message)."""

    def __init__(self, status, error, message):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


ACCT_RE = re.compile(r"[0-9A-Z]{1,34}")
BANK_CODE_RE = re.compile(r"[0-9]{12}")
RATE_RE = re.compile(r"(0|[1-9][0-9]?)(\.[0-9]{1,4})?")
AMT2_RE = re.compile(r"(0|[1-9][0-9]{0,14})\.[0-9]{2}")
DRAFT_NO_RE = re.compile(r"[0-9]{30}")
SHORT_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,35}")
VOUCHER_ID_RE = re.compile(r"[A-Za-z0-9]{1,40}")
TAX_CODE_RE = re.compile(r"[0-9]{10}|[0-9]{12}")
REASON_CODE_RE = re.compile(r"[A-Z0-9]{1,4}")


def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(y, m, day)
        except ValueError:
            continue
    raise ValueError("no such date")


def luhn_digit(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        v = int(c)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def m2s(minor):
    """fen (int >= 0) -> '12.34'"""
    sign = "-" if minor < 0 else ""
    a, b = divmod(abs(int(minor)), 100)
    return "%s%d.%02d" % (sign, a, b)


def amt_view(minor, ccy=BILL_CCY):
    return {"amount": m2s(minor), "currency": ccy}


def rate_view(r):
    return "{:.4f}".format(Decimal(r))


def interest_minor(minor, rate, days):
    from decimal import ROUND_HALF_UP
    if days <= 0:
        return 0
    v = Decimal(minor) * Decimal(rate) / Decimal(100) * Decimal(days) / \
        Decimal(360)
    return int(v.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def party_eq(a, b):
    if not a or not b or a.get("bank_code") != b.get("bank_code"):
        return False
    if a.get("account") != b.get("account"):
        return False
    return a.get("account") is not None or a.get("name") == b.get("name")


# -- strict field checking for the bills / scf bodies ------------------------

_ABSENT = object()


class Field:
    """A member checker: fn(problems, value, path) -> cleaned value or
    _ABSENT after adding a problem."""

    def __init__(self, fn, required=False):
        self.fn, self.required = fn, required


def _f_text(maxlen, minlen=1):
    def fn(p, v, path):
        if not isinstance(v, str):
            p.add("invalid_field", path, "must be a string")
        elif not v.strip():
            p.add("invalid_field", path, "must not be empty or blank")
        elif len(v) > maxlen or len(v) < minlen:
            p.add("invalid_field", path, "%d-%d characters" % (minlen,
                                                               maxlen))
        elif CTRL_RE.search(v):
            p.add("invalid_field", path, "control character")
        else:
            return v
        return _ABSENT
    return fn


def _f_re(rx, what):
    def fn(p, v, path):
        if isinstance(v, str) and rx.fullmatch(v):
            return v
        p.add("invalid_field", path, "not %s" % what)
        return _ABSENT
    return fn


def _f_enum(values):
    def fn(p, v, path):
        if isinstance(v, str) and v in values:
            return v
        p.add("invalid_field", path, "one of %s" % ", ".join(values))
        return _ABSENT
    return fn


def _f_date(p, v, path):
    d = parse_date(v)
    if d is None:
        p.add("invalid_field", path, "not a date YYYY-MM-DD")
        return _ABSENT
    return d


def _f_bool(p, v, path):
    if isinstance(v, bool):
        return v
    p.add("invalid_field", path, "must be true or false")
    return _ABSENT


def _f_rate(p, v, path):
    if isinstance(v, str) and RATE_RE.fullmatch(v) and Decimal(v) > 0:
        return Decimal(v)
    p.add("invalid_field", path, "a rate string like \"1.35\" (percent "
          "p.a., > 0, at most 4 decimals)")
    return _ABSENT


def _f_amount(ccys):
    """amount object -> (minor, ccy); ccys: allowed currencies or None
    for any ISO 4217 currency with 2 minor digits."""
    def fn(p, v, path):
        if not isinstance(v, dict):
            p.add("invalid_field", path, "must be an object")
            return _ABSENT
        n0 = len(p.items)
        _unknown(p, v, ("amount", "currency"), path + ".")
        c = v.get("currency")
        if c is None:
            p.add("missing_field", path + ".currency", "required")
        elif not isinstance(c, str) or not CCY_RE.fullmatch(c):
            p.add("invalid_field", path + ".currency",
                  "not a three-letter currency code")
        elif ccys is not None and c not in ccys:
            p.add("invalid_field", path + ".currency",
                  "must be %s" % " or ".join(ccys))
        elif ccys is None and CCY_EXP.get(c) != 2:
            p.add("invalid_field", path + ".currency",
                  "not an ISO 4217 currency with 2 minor digits")
        a = v.get("amount")
        if a is None:
            p.add("missing_field", path + ".amount", "required")
        elif not isinstance(a, str) or not AMT2_RE.fullmatch(a):
            p.add("invalid_field", path + ".amount",
                  "a string with exactly 2 decimals, no leading zero, at "
                  "most 15 integer digits")
        elif Decimal(a) <= 0:
            p.add("invalid_field", path + ".amount",
                  "must be greater than zero")
        if len(p.items) != n0:
            return _ABSENT
        return (int(Decimal(a) * 100), c)
    return fn


def _f_obj(spec):
    def fn(p, v, path):
        if not isinstance(v, dict):
            p.add("invalid_field", path, "must be an object")
            return _ABSENT
        n0 = len(p.items)
        out = check_members(p, v, spec, path + ".")
        return out if len(p.items) == n0 else _ABSENT
    return fn


def _f_list(item, lo, hi):
    def fn(p, v, path):
        if not isinstance(v, list):
            p.add("invalid_field", path, "must be a list")
            return _ABSENT
        if not lo <= len(v) <= hi:
            p.add("invalid_field", path, "%d-%d items" % (lo, hi))
            return _ABSENT
        n0 = len(p.items)
        out = [item(p, x, "%s[%d]" % (path, i)) for i, x in enumerate(v)]
        return out if len(p.items) == n0 else _ABSENT
    return fn


def _f_int_pos(p, v, path):
    if isinstance(v, int) and not isinstance(v, bool) and \
            1 <= v <= 10 ** 17:
        return v
    p.add("invalid_field", path, "an integer >= 1")
    return _ABSENT


def _f_range(p, v, path):
    if not isinstance(v, dict):
        p.add("invalid_field", path, "must be an object")
        return _ABSENT
    n0 = len(p.items)
    o = check_members(p, v, {"from": Field(_f_int_pos, True),
                             "to": Field(_f_int_pos, True)}, path + ".")
    if len(p.items) != n0:
        return _ABSENT
    if o["to"] < o["from"]:
        p.add("invalid_field", path + ".to", "before from")
        return _ABSENT
    return (o["from"], o["to"])


PARTY_SPEC = {"name": Field(_f_text(100), True),
              "account": Field(_f_re(ACCT_RE, "an account number "
                                     "[0-9A-Z]{1,34}")),
              "bank_code": Field(_f_re(BANK_CODE_RE, "a 12-digit bank "
                                       "code"), True)}
_f_party = _f_obj(PARTY_SPEC)
SCF_PARTY_SPEC = {"name": Field(_f_text(140), True),
                  "id": Field(_f_text(35))}
_f_acct = _f_re(ACCT_RE, "an account number [0-9A-Z]{1,34}")
_f_req_id = _f_re(IDEM_KEY_RE, "1-64 characters of [A-Za-z0-9._:-]")
_f_short_id = _f_re(SHORT_ID_RE, "1-35 characters of [A-Za-z0-9._:-]")


def check_members(p, obj, spec, prefix=""):
    """Cleaned members of obj by spec (absent/null/invalid -> None);
    problems go to p."""
    _unknown(p, obj, spec, prefix)
    out = {}
    for name, f in spec.items():
        v = obj.get(name)
        if v is None:
            if f.required:
                p.add("missing_field", prefix + name, "required")
            out[name] = None
            continue
        r = f.fn(p, v, prefix + name)
        out[name] = None if r is _ABSENT else r
    return out


def _parse_body(body):
    """(obj, None) or (None, Problems) for a JSON object body."""
    p = Problems()
    try:
        obj = strict_json(body)
    except _DupKey as e:
        p.add("invalid_json", str(e), "duplicate member")
        return None, p
    except (ValueError, RecursionError) as e:
        p.add("invalid_json", None, "not JSON: %s" % e)
        return None, p
    if not isinstance(obj, dict):
        p.add("invalid_json", None, "not a JSON object")
        return None, p
    return obj, None


def _check_request_id(p, out, key):
    if out.get("request_id") is not None and out["request_id"] != key:
        p.add("invalid_field", "request_id",
              "must equal the Idempotency-Key header")


def _need_account(p, party, path):
    if party is not None and party.get("account") is None:
        p.add("missing_field", path + ".account", "required")


def _validate_ops(body, key, fields, common, ops):
    """Validation of an operations body: op plus per-op members."""
    obj, p = _parse_body(body)
    if p:
        return None, p
    p = Problems()
    out = check_members(p, obj, dict(common, op=Field(_f_enum(ops), True)))
    _check_request_id(p, out, key)
    op = out.get("op")
    if op is not None:
        req, opt = fields[op]
        for name in sorted(obj):
            if name in common and name not in ("op", "request_id", "memo") \
                    and name not in req + opt and obj[name] is not None:
                p.add("invalid_field", name, "not used by op %s" % op)
        for name in req:
            if obj.get(name) is None:
                p.add("missing_field", name, "required for op %s" % op)
    return (None, p) if p.items else (out, None)


BILL_OP_COMMON = {
    "request_id": Field(_f_req_id, True),
    "memo": Field(_f_text(200)),
    "sub_range": Field(_f_range),
    "counterparty": Field(_f_party),
    "rate": Field(_f_rate),
    "date": Field(_f_date),
    "pool_id": Field(_f_short_id),
    "notice_id": Field(_f_short_id),
    "reason": Field(_f_text(200)),
    "account": Field(_f_acct),
    "overdue": Field(_f_bool),
    "amount": Field(_f_amount((BILL_CCY,))),
}


def validate_bill_op(body, key):
    out, p = _validate_ops(body, key, BILL_OP_FIELDS, BILL_OP_COMMON,
                           BILL_OPS)
    if p:
        return None, p
    p = Problems()
    if out["op"] == "endorse":
        _need_account(p, out["counterparty"], "counterparty")
    return (None, p) if p.items else (out, None)


BILL_ISSUE_SPEC = {
    "request_id": Field(_f_req_id, True),
    "kind": Field(_f_enum(("AC01", "AC02")), True),
    "amount": Field(_f_amount((BILL_CCY,)), True),
    "issue_date": Field(_f_date),
    "maturity_date": Field(_f_date, True),
    "drawer_account": Field(_f_acct, True),
    "acceptor": Field(_f_party, True),
    "payee": Field(_f_party, True),
    "transferable": Field(_f_bool),
    "divisible": Field(_f_bool),
    "memo": Field(_f_text(200)),
}


def validate_bill_issue(body, key):
    obj, p = _parse_body(body)
    if p:
        return None, p
    p = Problems()
    out = check_members(p, obj, BILL_ISSUE_SPEC)
    _check_request_id(p, out, key)
    _need_account(p, out["payee"], "payee")
    if out["kind"] == "AC02":
        _need_account(p, out["acceptor"], "acceptor")
    return (None, p) if p.items else (out, None)


INVOICE_SPEC = {
    "number": Field(_f_text(35), True),
    "issue_date": Field(_f_date, True),
    "due_date": Field(_f_date, True),
    "amount": Field(_f_amount(None), True),
    "buyer": Field(_f_obj(SCF_PARTY_SPEC), True),
    "seller": Field(_f_obj(SCF_PARTY_SPEC), True),
    "seller_account": Field(_f_acct),
    "tax_invoice_code": Field(_f_re(TAX_CODE_RE, "10 or 12 digits")),
}
FINANCING_SPEC = {
    "request_id": Field(_f_req_id, True),
    "kind": Field(_f_enum(tuple(SCF_RATIO)), True),
    "requested_amount": Field(_f_amount(None), True),
    "account": Field(_f_acct, True),
    "value_date": Field(_f_date),
    "product": Field(_f_text(35)),
    "agreement_ref": Field(_f_text(35)),
    "contract_ref": Field(_f_text(35)),
    "memo": Field(_f_text(200)),
    "invoices": Field(_f_list(_f_obj(INVOICE_SPEC), 1, 100), True),
}


def validate_financing(body, key):
    obj, p = _parse_body(body)
    if p:
        return None, p
    p = Problems()
    out = check_members(p, obj, FINANCING_SPEC)
    _check_request_id(p, out, key)
    ccy = out["requested_amount"][1] if out["requested_amount"] else None
    seen = set()
    for i, inv in enumerate(out["invoices"] or ()):
        path = "invoices[%d]" % i
        if ccy and inv["amount"][1] != ccy:
            p.add("invalid_field", path + ".amount.currency",
                  "must be the currency of requested_amount")
        if inv["due_date"] < inv["issue_date"]:
            p.add("invalid_field", path + ".due_date", "before issue_date")
        ident = (inv["tax_invoice_code"] or "", inv["number"])
        if ident in seen:
            p.add("invalid_field", path + ".number",
                  "the same invoice twice")
        seen.add(ident)
        if out["kind"] == "reverse_factoring" and \
                inv["seller_account"] is None:
            p.add("missing_field", path + ".seller_account",
                  "required for reverse_factoring")
        if out["kind"] == "receivable" and inv["seller_account"] is not None:
            p.add("invalid_field", path + ".seller_account",
                  "not used by kind receivable")
    return (None, p) if p.items else (out, None)


CANCEL_SPEC = {
    "request_id": Field(_f_req_id, True),
    "reason": Field(_f_text(105), True),
    "reason_code": Field(_f_re(REASON_CODE_RE, "[A-Z0-9]{1,4}")),
}


def validate_cancel(body, key):
    obj, p = _parse_body(body)
    if p:
        return None, p
    p = Problems()
    out = check_members(p, obj, CANCEL_SPEC)
    _check_request_id(p, out, key)
    return (None, p) if p.items else (out, None)


VOUCHER_ISSUE_SPEC = {
    "request_id": Field(_f_req_id, True),
    "amount": Field(_f_amount((BILL_CCY,)), True),
    "maturity_date": Field(_f_date, True),
    "issuer_account": Field(_f_acct, True),
    "receiver": Field(_f_party, True),
    "contract_ref": Field(_f_text(35)),
    "memo": Field(_f_text(200)),
}


def validate_voucher_issue(body, key):
    obj, p = _parse_body(body)
    if p:
        return None, p
    p = Problems()
    out = check_members(p, obj, VOUCHER_ISSUE_SPEC)
    _check_request_id(p, out, key)
    _need_account(p, out["receiver"], "receiver")
    return (None, p) if p.items else (out, None)


VOUCHER_OP_COMMON = {
    "request_id": Field(_f_req_id, True),
    "memo": Field(_f_text(200)),
    "reason": Field(_f_text(200)),
    "amount": Field(_f_amount((BILL_CCY,))),
    "to": Field(_f_party),
    "account": Field(_f_acct),
}


def validate_voucher_op(body, key):
    out, p = _validate_ops(body, key, VOUCHER_OP_FIELDS, VOUCHER_OP_COMMON,
                           tuple(VOUCHER_OP_FIELDS))
    if p:
        return None, p
    p = Problems()
    if out["op"] == "transfer":
        _need_account(p, out["to"], "to")
    return (None, p) if p.items else (out, None)


def _hook_check(obj, spec):
    """Admin hook input -> cleaned dict, or ValueError naming problems."""
    if not isinstance(obj, dict):
        raise ValueError("body must be a JSON object")
    p = Problems()
    out = check_members(p, obj, spec)
    if p.items:
        raise ValueError("; ".join("%s: %s" % (x["field"], x["message"])
                                   for x in p.items))
    return out


# -- the engine (BankSim mixin; every *_locked runs under sim.lock) ----------

class BillsScfBank:

    def _bs_init(self, bank_code, customer_name, pool_id, auto_sign_ms):
        if not BANK_CODE_RE.fullmatch(str(bank_code)):
            raise ValueError("bank code: 12 digits")
        self.bank_code = str(bank_code)
        self.customer_name = customer_name
        self.pool_id = pool_id
        self.settings_defaults = dict(SETTINGS_DEFAULTS,
                                      auto_sign_ms=auto_sign_ms)
        self.settings = dict(self.settings_defaults)
        self.requests_file = os.path.join(self.state_dir, "requests.jsonl")

    def _bs_fresh(self):
        self.bills = {"pieces": [], "notices": {}, "requests": {},
                      "pool": {"deposit": 0, "used": 0}, "serial": 0,
                      "notice_seq": 0}
        self.scf = {"financing": {}, "requests": {}, "vouchers": {},
                    "notices": [], "seq": 0}

    def _bs_load(self, st):
        if "bills" in st and "scf" in st:
            self.bills, self.scf = st["bills"], st["scf"]
        else:
            self._bs_fresh()
        if st.get("settings"):
            self.settings = dict(self.settings_defaults, **st["settings"])

    def _bs_dump(self):
        return {"bills": self.bills, "scf": self.scf,
                "settings": self.settings}

    # -- parties --

    def _is_us(self, party):
        return bool(party) and party.get("bank_code") == self.bank_code \
            and party.get("account") in self.accounts

    def _us(self, account):
        return {"name": self.customer_name, "account": account,
                "bank_code": self.bank_code}

    def _this_bank(self):
        return {"name": BANK_PARTY_NAME, "account": None,
                "bank_code": self.bank_code}

    def _our_account(self, account, code):
        if account not in self.accounts:
            raise Refusal(code)

    def _funds(self, account, minor, ccy, code):
        if self.no_overdraft and self._available_locked(
                account, ccy, self.today()) - Decimal(minor).scaleb(-2) < 0:
            raise Refusal(code)

    def _book_minor(self, account, minor, ccy, ref, text, cpty=None,
                    day=None):
        day = day or self.today()
        self._book_locked(account, day, day, ccy,
                          Decimal(minor).scaleb(-2), None,
                          cpty.get("name") if cpty else None,
                          cpty.get("account") if cpty else None,
                          text[:140], ref, None)

    # -- drafts --

    def _piece_view(self, pc, history=False):
        pend = pc["pending"]
        pv = None
        if pend:
            pv = {"op": pend["op"], "direction": pend["dir"],
                  "request_id": pend["request_id"],
                  "notice_id": pend["notice_id"],
                  "counterparty": pend["counterparty"],
                  "since": pend["since_ts"],
                  "rate": rate_view(pend["rate"]) if pend["rate"] else None,
                  "date": pend["date"],
                  "interest": amt_view(pend["interest"])
                  if pend["interest"] is not None else None,
                  "proceeds": amt_view(pend["proceeds"])
                  if pend["proceeds"] is not None else None,
                  "account": pend["account"],
                  "claim_amount": amt_view(pend["claim"])
                  if pend["claim"] is not None else None,
                  "reason": pend["reason"], "pool_id": pend["pool_id"],
                  "overdue": pend["overdue"]}
        v = {"number": pc["number"],
             "sub_range": {"from": pc["from"], "to": pc["to"]},
             "kind": pc["kind"],
             "amount": amt_view(pc["to"] - pc["from"] + 1),
             "face_amount": amt_view(pc["face"]),
             "issue_date": pc["issue_date"],
             "maturity_date": pc["maturity_date"],
             "drawer": pc["drawer"], "acceptor": pc["acceptor"],
             "payee": pc["payee"], "holder": pc["holder"],
             "status": pc["status"], "transferable": pc["transferable"],
             "divisible": pc["divisible"], "pending": pv,
             "pledge": pc["pledge"], "updated_at": pc["updated_at"]}
        if history:
            v["history"] = pc["history"]
        return v

    @staticmethod
    def _pminor(pc):
        return pc["to"] - pc["from"] + 1

    def _event(self, pc, op, event, frm=None, to=None, request_id=None,
               notice_id=None, reason=None):
        pc["updated_at"] = rfc3339()
        pc["history"].append({
            "time": pc["updated_at"], "date": self.today().isoformat(),
            "op": op, "event": event, "from": frm, "to": to,
            "status": pc["status"],
            "sub_range": {"from": pc["from"], "to": pc["to"]},
            "amount": amt_view(self._pminor(pc)), "request_id": request_id,
            "notice_id": notice_id, "reason": reason})

    def _pieces_of(self, number):
        return sorted((p for p in self.bills["pieces"]
                       if p["number"] == number), key=lambda p: p["from"])

    def _locate(self, number, rng, unknown="BIL001"):
        ps = self._pieces_of(number)
        if not ps:
            raise Refusal(unknown)
        if rng is None:
            if len(ps) > 1:
                raise Refusal("BIL007")
            return ps[0]
        if rng[1] > ps[0]["face"]:
            raise Refusal("BIL003")
        for pc in ps:
            if pc["from"] <= rng[0] and rng[1] <= pc["to"]:
                return pc
        raise Refusal("BIL003")

    def _split(self, pc, to, op):
        rest = json.loads(json.dumps(pc))
        rest["from"] = to + 1
        pc["to"] = to
        rest["pending"] = None
        rest["status"] = "held"
        self.bills["pieces"].append(rest)
        self._event(rest, op, "split")
        return rest

    def _new_number(self, kind, acceptor, issue_date):
        self.bills["serial"] += 1
        body = ("5" if kind == "AC01" else "6") + acceptor["bank_code"] + \
            issue_date.strftime("%Y%m%d") + "%08d" % (
                self.bills["serial"] % 10 ** 8)
        return body + luhn_digit(body)

    def _new_piece(self, number, d, status):
        face = d["amount"][0]
        return {"number": number, "from": 1, "to": face, "face": face,
                "kind": d["kind"],
                "issue_date": d["issue_date"].isoformat(),
                "maturity_date": d["maturity_date"].isoformat(),
                "drawer": d["drawer"], "acceptor": d["acceptor"],
                "payee": d["payee"], "holder": None, "status": status,
                "transferable": True if d["transferable"] is None
                else d["transferable"],
                "divisible": bool(d["divisible"]), "pending": None,
                "pledge": None, "history": [], "updated_at": rfc3339()}

    @staticmethod
    def _pending(op, direction, cpty, prev, request_id=None,
                 notice_id=None, **kw):
        p = {"op": op, "dir": direction, "request_id": request_id,
             "notice_id": notice_id, "counterparty": cpty, "prev": prev,
             "since": time.time(), "since_ts": rfc3339(), "rate": None,
             "date": None, "interest": None, "proceeds": None,
             "account": None, "claim": None, "reason": None,
             "pool_id": None, "overdue": None}
        p.update(kw)
        return p

    def _bill_answer(self, key, op, result, pc, rest=None):
        return {"request_id": key, "op": op, "result": result,
                "draft": self._piece_view(pc),
                "remainder": self._piece_view(rest) if rest else None}

    def _bill_issue_locked(self, key, r):
        today = self.today()
        issue = r["issue_date"] or today
        if issue != today:
            raise Refusal("BIL025")
        mat = r["maturity_date"]
        if mat <= issue or mat > add_months(issue, BILL_MAX_TERM_MONTHS):
            raise Refusal("BIL015")
        self._our_account(r["drawer_account"], "BIL020")
        if self._is_us(r["payee"]) or (r["kind"] == "AC02" and
                                       self._is_us(r["acceptor"])):
            raise Refusal("BIL019")
        d = dict(r, issue_date=issue, drawer=self._us(r["drawer_account"]))
        number = self._new_number(r["kind"], r["acceptor"], issue)
        pc = self._new_piece(number, d, "registered")
        self.bills["pieces"].append(pc)
        self._event(pc, "issue", "registered", pc["drawer"], None, key)
        return self._bill_answer(key, "issue", "accepted", pc)

    def _pool_contribution(self, pc):
        return self._pminor(pc) * POOL_RATIO[pc["kind"]] // 100

    def _pool_figures(self):
        pool = self.bills["pool"]
        pledged = [p for p in self.bills["pieces"]
                   if p["status"] in ("pledged", "pending_release")]
        total = pool["deposit"] + sum(self._pool_contribution(p)
                                      for p in pledged
                                      if p["status"] == "pledged")
        return pledged, total

    def _pool_view_locked(self):
        pledged, total = self._pool_figures()
        used = self.bills["pool"]["used"]
        return {"pool_id": self.pool_id,
                "as_of": self.today().isoformat(),
                "pledged_count": len(pledged),
                "pledged_total": amt_view(sum(self._pminor(p)
                                              for p in pledged)),
                "deposit": amt_view(self.bills["pool"]["deposit"]),
                "quota_total": amt_view(total),
                "quota_used": amt_view(used),
                "quota_available": amt_view(total - used),
                "ratios": {k: "%d.%02d" % divmod(v, 100)
                           for k, v in sorted(POOL_RATIO.items())}}

    def _liable(self, pc):
        out = [pc["drawer"], pc["acceptor"], pc["payee"]]
        for e in pc["history"]:
            out += [e["from"], e["to"]]
        return [p for p in out if p and not self._is_us(p)]

    def _bill_op_locked(self, key, number, r):
        op = r["op"]
        today = self.today()
        if not self._pieces_of(number):
            raise Refusal("BIL001")
        if op in ("sign", "refuse"):
            return self._bill_notice_answer_locked(key, number, r)
        rng = r["sub_range"]
        pc = self._locate(number, rng)
        whole = rng is None or (rng[0] == pc["from"] and rng[1] == pc["to"])
        if op in BILL_HOLDER_OPS and pc["holder"] is not None and \
                not self._is_us(pc["holder"]):
            raise Refusal("BIL004")
        if op == "withdraw":
            pend = pc["pending"]
            if pend is not None and pend["dir"] == "in":
                raise Refusal("BIL023")
            if pend is None and pc["status"] not in ("registered",
                                                     "accepted"):
                raise Refusal("BIL002", op=op, status=pc["status"])
            if not whole:
                raise Refusal("BIL013")
            if pend is None:
                pc["status"] = "withdrawn"
                self._event(pc, "withdraw", "withdrawn", pc["drawer"],
                            None, key)
            else:
                pc["status"] = pend["prev"]
                pc["pending"] = None
                self._event(pc, pend["op"], "withdrawn", None,
                            pend["counterparty"], key)
            return self._bill_answer(key, op, "accepted", pc)
        allowed, pending_status, _ = BILL_OUT[op]
        if pc["status"] not in allowed or pc["pending"] is not None:
            raise Refusal("BIL002", op=op, status=pc["status"])
        if op in BILL_SPLIT_OPS:
            if not whole and not pc["divisible"]:
                raise Refusal("BIL008")
            if not whole and rng[0] != pc["from"]:
                raise Refusal("BIL012")
        elif not whole:
            raise Refusal("BIL013")
        mat = parse_date(pc["maturity_date"])
        part = (rng[1] - rng[0] + 1) if rng else self._pminor(pc)
        extra = {}
        if op in BILL_SPLIT_OPS:
            if not pc["transferable"]:
                raise Refusal("BIL006")
            if today >= mat:
                raise Refusal("BIL016")
        if op == "present_acceptance":
            cpty = pc["acceptor"]
        elif op == "present_receipt":
            cpty = pc["payee"]
        elif op == "endorse":
            cpty = r["counterparty"]
            if self._is_us(cpty):
                raise Refusal("BIL019")
        elif op == "discount":
            day = r["date"] or today
            if day < today or day >= mat:
                raise Refusal("BIL011")
            cpty = r["counterparty"] or self._this_bank()
            if self._is_us(cpty):
                raise Refusal("BIL019")
            self._our_account(r["account"], "BIL020")
            interest = interest_minor(part, r["rate"], (mat - day).days)
            extra = {"rate": str(r["rate"]), "date": day.isoformat(),
                     "interest": interest, "proceeds": part - interest,
                     "account": r["account"]}
        elif op == "pledge":
            if r["pool_id"] is not None and r["pool_id"] != self.pool_id:
                raise Refusal("BIL021")
            cpty = r["counterparty"] or self._this_bank()
            if cpty["bank_code"] != self.bank_code or \
                    cpty.get("account") is not None:
                raise Refusal("BIL022")
            extra = {"pool_id": self.pool_id}
        elif op == "release":
            if r["pool_id"] is not None and r["pool_id"] != self.pool_id:
                raise Refusal("BIL021")
            _, total = self._pool_figures()
            if self._pool_contribution(pc) > \
                    total - self.bills["pool"]["used"]:
                raise Refusal("BIL010")
            cpty = pc["pledge"]["pledgee"]
            extra = {"pool_id": self.pool_id}
        elif op == "present_payment":
            if today < mat:
                raise Refusal("BIL005")
            if today > mat + dt.timedelta(days=BILL_PRESENT_DAYS) and \
                    not r["overdue"]:
                raise Refusal("BIL009")
            self._our_account(r["account"], "BIL020")
            cpty = pc["acceptor"]
            extra = {"account": r["account"], "overdue": bool(r["overdue"])}
        elif op == "recourse":
            cpty = r["counterparty"]
            if not any(party_eq(cpty, x) for x in self._liable(pc)):
                raise Refusal("BIL017")
            claim = r["amount"][0] if r["amount"] else part
            if claim < part:
                raise Refusal("BIL018")
            self._our_account(r["account"], "BIL020")
            extra = {"account": r["account"], "claim": claim,
                     "reason": r["reason"]}
        rest = None
        if not whole:
            rest = self._split(pc, rng[1], op)
        me = pc["holder"] or pc["drawer"]
        pc["pending"] = self._pending(op, "out", cpty, pc["status"], key,
                                      **extra)
        pc["status"] = pending_status
        self._event(pc, op, "requested", me, cpty, key)
        return self._bill_answer(key, op, "pending", pc, rest)

    def _bill_notice_answer_locked(self, key, number, r):
        n = self.bills["notices"].get(r["notice_id"])
        if n is None or n["status"] != "open" or n["number"] != number:
            raise Refusal("BIL014")
        pc = self._locate(number, (n["from"], n["to"]), "BIL014")
        rng = r["sub_range"]
        if rng is not None and rng != (pc["from"], pc["to"]):
            raise Refusal("BIL013")
        pend = pc["pending"]
        kind = n["kind"]
        if r["op"] == "sign":
            pays = kind in ("present_payment", "recourse")
            if pays != (r["account"] is not None):
                raise Refusal("BIL026")
            if pays:
                self._our_account(r["account"], "BIL020")
                minor = pend["claim"] if kind == "recourse" \
                    else self._pminor(pc)
                self._funds(r["account"], minor, BILL_CCY, "BIL024")
                self._book_minor(r["account"], -minor, BILL_CCY,
                                 n["notice_id"], "%s %s %d-%d" % (
                                     kind, pc["number"], pc["from"],
                                     pc["to"]), n["sender"])
            pc["status"] = BILL_IN[kind][1]
            if kind in ("present_receipt", "endorse"):
                pc["holder"] = n["receiver"]
            n["status"] = "signed"
            event = "signed"
        else:
            pc["status"] = "refused"
            n["status"] = "refused"
            event = "refused"
        n["answered_at"] = rfc3339()
        pc["pending"] = None
        self._event(pc, kind, event, n["receiver"], n["sender"], key,
                    n["notice_id"], r["reason"])
        return self._bill_answer(key, r["op"], "accepted", pc)

    def _bill_cpty_locked(self, pc, action, reason=None):
        """The counterparty answers our pending operation on pc."""
        pend = pc["pending"]
        op = pend["op"]
        cpty = pend["counterparty"]
        if action == "sign":
            pc["status"] = BILL_OUT[op][2]
            if op == "present_receipt":
                pc["holder"] = pc["payee"]
            elif op in ("endorse", "discount"):
                pc["holder"] = cpty
            elif op == "pledge":
                pc["pledge"] = {"pool_id": pend["pool_id"],
                                "pledgee": cpty,
                                "date": self.today().isoformat()}
            elif op == "release":
                pc["pledge"] = None
            text = "%s %s %d-%d" % (op, pc["number"], pc["from"], pc["to"])
            if op == "discount":
                self._book_minor(pend["account"], pend["proceeds"],
                                 BILL_CCY, pend["request_id"], text, cpty)
            elif op == "present_payment":
                self._book_minor(pend["account"], self._pminor(pc),
                                 BILL_CCY, pend["request_id"], text, cpty)
            elif op == "recourse":
                self._book_minor(pend["account"], pend["claim"], BILL_CCY,
                                 pend["request_id"], text, cpty)
            event = "signed"
        else:
            pc["status"] = "dishonoured" if op == "present_payment" \
                else pend["prev"]
            event = "refused"
        pc["pending"] = None
        self._event(pc, op, event, cpty, None, pend["request_id"],
                    None, reason)

    def _notice_view(self, n):
        # the piece that holds the notice's first sub-ticket (it may have
        # been split since the notice was answered)
        pc = self._locate(n["number"], (n["from"], n["from"]))
        return {"notice_id": n["notice_id"], "kind": n["kind"],
                "number": n["number"],
                "sub_range": {"from": n["from"], "to": n["to"]},
                "amount": amt_view(n["to"] - n["from"] + 1),
                "claim_amount": amt_view(n["claim"])
                if n["claim"] is not None else None,
                "from": n["sender"], "to": n["receiver"],
                "received_at": n["received_at"], "reason": n["reason"],
                "status": n["status"], "draft": self._piece_view(pc)}

    # -- supply-chain financing --

    def _fin_view(self, f):
        c = f["currency"]
        a = f["approved"]
        return {
            "request_id": f["request_id"], "kind": f["kind"],
            "status": f["status"],
            "requested_amount": amt_view(f["requested"], c),
            "account": f["account"], "value_date": f["value_date"],
            "product": f["product"], "agreement_ref": f["agreement_ref"],
            "contract_ref": f["contract_ref"],
            "created_at": f["created_at"], "updated_at": f["updated_at"],
            "approved": None if a is None else {
                "amount": amt_view(a["amount"], c),
                "rate": rate_view(a["rate"]),
                "value_date": a["value_date"],
                "maturity_date": a["maturity_date"],
                "interest": amt_view(a["interest"], c)},
            "rejection": f["rejection"], "cancellation": f["cancellation"],
            "loan_ref": f["loan_ref"],
            "financed": None if f["financed"] is None else {
                "amount": amt_view(f["financed"]["amount"], c),
                "value_date": f["financed"]["value_date"]},
            "repayment": None if f["repayment"] is None else {
                "principal": amt_view(f["repayment"]["principal"], c),
                "interest": amt_view(f["repayment"]["interest"], c),
                "amount": amt_view(f["repayment"]["amount"], c),
                "date": f["repayment"]["date"]},
            "invoices": [{
                "number": i["number"],
                "tax_invoice_code": i["tax_invoice_code"],
                "amount": amt_view(i["amount"], c),
                "issue_date": i["issue_date"], "due_date": i["due_date"],
                "result": i["result"], "reason": i["reason"],
                "financed_amount": amt_view(i["financed"], c)
                if i["financed"] is not None else None}
                for i in f["invoices"]]}

    def _fin_create_locked(self, key, r):
        today = self.today()
        self._our_account(r["account"], "SCF005")
        if r["value_date"] is not None and r["value_date"] < today:
            raise Refusal("SCF006")
        for inv in r["invoices"]:
            if inv["issue_date"] > today or inv["due_date"] <= today:
                raise Refusal("SCF003")
        live = set()
        for f in self.scf["financing"].values():
            if f["status"] in ("rejected", "cancelled"):
                continue
            for i in f["invoices"]:
                if i["result"] != "rejected":
                    live.add((i["tax_invoice_code"] or "", i["number"]))
        for inv in r["invoices"]:
            if (inv["tax_invoice_code"] or "", inv["number"]) in live:
                raise Refusal("SCF002")
        total = sum(i["amount"][0] for i in r["invoices"])
        if r["requested_amount"][0] > total * SCF_RATIO[r["kind"]] // 100:
            raise Refusal("SCF004")
        now = rfc3339()
        f = {"request_id": key, "kind": r["kind"],
             "currency": r["requested_amount"][1],
             "requested": r["requested_amount"][0], "account": r["account"],
             "value_date": r["value_date"].isoformat()
             if r["value_date"] else None,
             "product": r["product"], "agreement_ref": r["agreement_ref"],
             "contract_ref": r["contract_ref"], "status": "submitted",
             "created_at": now, "updated_at": now, "approved": None,
             "rejection": None, "cancellation": None, "loan_ref": None,
             "financed": None, "repayment": None,
             "invoices": [{"number": i["number"],
                           "tax_invoice_code": i["tax_invoice_code"],
                           "issue_date": i["issue_date"].isoformat(),
                           "due_date": i["due_date"].isoformat(),
                           "amount": i["amount"][0],
                           "seller_account": i["seller_account"],
                           "result": "pending", "reason": None,
                           "financed": None} for i in r["invoices"]]}
        self.scf["financing"][key] = f
        return {"request_id": key, "op": "financing",
                "financing": self._fin_view(f)}

    def _fin_cancel_locked(self, key, fin_id, r):
        f = self.scf["financing"].get(fin_id)
        if f is None:
            raise Refusal("SCF001")
        if f["status"] == "financed":
            raise Refusal("SCF010")
        if f["status"] in ("rejected", "cancelled", "repaid"):
            raise Refusal("SCF011")
        f["status"] = "cancelled"
        f["updated_at"] = rfc3339()
        f["cancellation"] = {"request_id": key, "reason": r["reason"],
                             "reason_code": r["reason_code"],
                             "time": f["updated_at"]}
        return {"request_id": key, "op": "cancel",
                "financing": self._fin_view(f)}

    def _scf_notice(self, f, kind, day):
        self.scf["seq"] += 1
        a = f["approved"]
        c = f["currency"]
        self.scf["notices"].append({
            "notice_id": "RN%010d" % self.scf["seq"], "kind": kind,
            "request_id": f["request_id"], "loan_ref": f["loan_ref"],
            "amount": amt_view(a["amount"] + a["interest"], c),
            "principal": amt_view(a["amount"], c),
            "interest": amt_view(a["interest"], c),
            "due_date": day, "account": f["account"],
            "created_at": rfc3339()})

    def _fin_repay_locked(self, f, day):
        a = f["approved"]
        total = a["amount"] + a["interest"]
        self._book_minor(f["account"], -total, f["currency"],
                         f["loan_ref"], "repayment %s %s" % (
                             f["loan_ref"], f["request_id"]), None, day)
        f["status"] = "repaid"
        f["updated_at"] = rfc3339()
        f["repayment"] = {"principal": a["amount"], "interest":
                          a["interest"], "amount": total,
                          "date": day.isoformat()}
        self._scf_notice(f, "paid", day.isoformat())

    # -- vouchers --

    def _v_view(self, v, history=False):
        out = {k: v[k] for k in (
            "voucher_id", "root_id", "parent_id", "level", "issuer",
            "original_holder", "transferor", "holder")}
        out["amount"] = amt_view(v["amount"])
        out["remaining"] = amt_view(v["remaining"])
        for k in ("issue_date", "maturity_date", "status", "status_date"):
            out[k] = v[k]
        fin = v["financing"]
        out["financing"] = None if fin is None else {
            "amount": amt_view(fin["amount"]),
            "rate": rate_view(fin["rate"]),
            "interest": amt_view(fin["interest"]),
            "proceeds": amt_view(fin["proceeds"]), "date": fin["date"],
            "loan_ref": fin["loan_ref"], "account": fin["account"]}
        st = v["settlement"]
        out["settlement"] = None if st is None else {
            "date": st["date"], "amount": amt_view(st["amount"]),
            "paid_to": st["paid_to"]}
        out["contract_ref"] = v["contract_ref"]
        out["created_at"] = v["created_at"]
        out["updated_at"] = v["updated_at"]
        if history:
            out["history"] = v["history"]
        return out

    def _v_visible(self, v):
        root = self.scf["vouchers"][v["root_id"]]
        return self._is_us(root["issuer"]) or self._is_us(v["holder"]) or \
            self._is_us(v["transferor"])

    def _v_event(self, v, op, event, by, to=None, request_id=None):
        v["updated_at"] = rfc3339()
        v["history"].append({"time": v["updated_at"],
                             "date": self.today().isoformat(), "op": op,
                             "event": event, "by": by, "to": to,
                             "amount": amt_view(v["amount"]),
                             "status": v["status"],
                             "request_id": request_id})

    def _v_status(self, v, status):
        v["status"] = status
        v["status_date"] = self.today().isoformat()

    def _v_new(self, parent, issuer, transferor, to, minor, maturity,
               contract_ref, request_id):
        self.scf["seq"] += 1
        today = self.today()
        vid = "V%s%06d" % (today.strftime("%Y%m%d"),
                           self.scf["seq"] % 10 ** 6)
        now = rfc3339()
        v = {"voucher_id": vid,
             "root_id": parent["root_id"] if parent else vid,
             "parent_id": parent["voucher_id"] if parent else None,
             "level": parent["level"] + 1 if parent else 1,
             "issuer": issuer,
             "original_holder": parent["original_holder"] if parent else to,
             "transferor": transferor, "holder": to, "amount": minor,
             "remaining": minor, "issue_date": today.isoformat(),
             "maturity_date": maturity, "status": "pending",
             "status_date": today.isoformat(), "financing": None,
             "settlement": None, "contract_ref": contract_ref,
             "created_at": now, "updated_at": now, "history": [],
             "since": time.time(), "request_id": request_id}
        self.scf["vouchers"][vid] = v
        return v

    def _v_issue_locked(self, issuer, to, minor, maturity, contract_ref,
                        request_id):
        today = self.today()
        if maturity <= today or maturity > add_months(today, 12):
            raise Refusal("SCF041")
        v = self._v_new(None, issuer, issuer, to, minor,
                        maturity.isoformat(), contract_ref, request_id)
        self._v_event(v, "issue", "requested", issuer, to, request_id)
        return v

    def _v_give_back(self, v):
        if v["parent_id"]:
            self.scf["vouchers"][v["parent_id"]]["remaining"] += v["amount"]

    def _v_tree(self, root_id):
        return [v for v in self.scf["vouchers"].values()
                if v["root_id"] == root_id]

    def _v_act_locked(self, v, op, r, by_us, request_id=None):
        """op on voucher v, by us (API) or by the outside party the
        operation belongs to (hook). -> (result, voucher, child)."""
        today = self.today()
        mat = parse_date(v["maturity_date"])
        if op in ("sign", "refuse", "withdraw"):
            if v["status"] != "pending":
                raise Refusal("SCF031", op=op, status=v["status"])
            who = v["transferor"] if op == "withdraw" else v["holder"]
            if self._is_us(who) != by_us:
                raise Refusal("SCF038")
            if op == "sign":
                self._v_status(v, "held")
                self._v_event(v, "sign", "signed", v["holder"], None,
                              request_id)
            else:
                self._v_status(v, "refused" if op == "refuse"
                               else "withdrawn")
                self._v_give_back(v)
                self._v_event(v, op, "refused" if op == "refuse"
                              else "withdrawn", who, None, request_id)
            return "accepted", v, None
        if op in ("transfer", "finance"):
            if self._is_us(v["holder"]) != by_us:
                raise Refusal("SCF032")
            if v["status"] != "held":
                raise Refusal("SCF031", op=op, status=v["status"])
            if today >= mat:
                raise Refusal("SCF034")
        if op == "transfer":
            to = r["to"]
            if party_eq(to, v["holder"]) or (by_us and self._is_us(to)):
                raise Refusal("SCF039")
            minor = r["amount"][0]
            if minor > v["remaining"]:
                raise Refusal("SCF033")
            v["remaining"] -= minor
            child = self._v_new(v, v["issuer"], v["holder"], to, minor,
                                v["maturity_date"], v["contract_ref"],
                                request_id)
            self._v_event(v, "transfer", "requested", v["holder"], to,
                          request_id)
            self._v_event(child, "transfer", "requested", v["holder"], to,
                          request_id)
            return "pending", v, child
        if op == "finance":
            if v["remaining"] == 0 or (r.get("amount") and
                                       r["amount"][0] != v["remaining"]):
                raise Refusal("SCF037")
            if by_us:
                self._our_account(r["account"], "SCF005")
            rate = Decimal(self.settings["voucher_rate"])
            interest = interest_minor(v["remaining"], rate,
                                      (mat - today).days)
            self.scf["seq"] += 1
            v["financing"] = {
                "amount": v["remaining"], "rate": str(rate),
                "interest": interest,
                "proceeds": v["remaining"] - interest,
                "date": today.isoformat(),
                "loan_ref": "LN%010d" % self.scf["seq"],
                "account": r["account"] if by_us else
                v["holder"].get("account")}
            self._v_status(v, "financed")
            if by_us:
                self._book_minor(r["account"], v["financing"]["proceeds"],
                                 BILL_CCY, request_id or v["voucher_id"],
                                 "voucher financing %s" % v["voucher_id"],
                                 self._this_bank())
            self._v_event(v, "finance", "financed", v["holder"],
                          self._this_bank(), request_id)
            return "accepted", v, None
        # settle
        root = self.scf["vouchers"][v["root_id"]]
        if self._is_us(root["issuer"]) != by_us:
            raise Refusal("SCF036")
        if root["status"] not in ("held", "financed"):
            raise Refusal("SCF031", op=op, status=root["status"])
        if today < mat:
            raise Refusal("SCF035")
        if by_us:
            self._our_account(r["account"], "SCF005")
            self._funds(r["account"], root["amount"], BILL_CCY, "SCF040")
        tree = self._v_tree(root["voucher_id"])
        for x in sorted(tree, key=lambda x: -x["level"]):
            if x["status"] == "pending":
                self._v_status(x, "withdrawn")
                self._v_give_back(x)
                self._v_event(x, "settle", "lapsed", root["issuer"], None,
                              request_id)
        if by_us:
            self._book_minor(r["account"], -root["amount"], BILL_CCY,
                             request_id or root["voucher_id"],
                             "voucher settlement %s" % root["voucher_id"],
                             None)
        for x in sorted(tree, key=lambda x: x["voucher_id"]):
            if x["status"] not in ("held", "financed"):
                continue
            paid_to = self._this_bank() if x["status"] == "financed" \
                else x["holder"]
            x["settlement"] = {"date": today.isoformat(),
                               "amount": x["remaining"],
                               "paid_to": paid_to}
            if x["status"] == "held" and self._is_us(x["holder"]) and \
                    x["remaining"] > 0:
                self._book_minor(x["holder"]["account"], x["remaining"],
                                 BILL_CCY, x["voucher_id"],
                                 "voucher settled %s" % x["voucher_id"],
                                 root["issuer"])
            self._v_status(x, "settled")
            self._v_event(x, "settle", "settled", root["issuer"], paid_to,
                          request_id)
        return "accepted", v, None

    def _voucher_answer(self, key, op, result, v, child):
        return {"request_id": key, "op": op, "result": result,
                "voucher": self._v_view(v),
                "child": self._v_view(child) if child else None}

    # -- time passing: auto-sign, repayments at maturity --

    def _bs_tick_locked(self):
        changed = False
        ms = self.settings["auto_sign_ms"]
        now = time.time()
        if ms is not None:
            for pc in list(self.bills["pieces"]):
                pend = pc["pending"]
                if pend and pend["dir"] == "out" and \
                        pend["since"] + ms / 1000.0 <= now:
                    self._bill_cpty_locked(pc, "sign")
                    changed = True
            for v in sorted(self.scf["vouchers"].values(),
                            key=lambda v: v["voucher_id"]):
                if v["status"] == "pending" and \
                        not self._is_us(v["holder"]) and \
                        v["since"] + ms / 1000.0 <= now:
                    self._v_act_locked(v, "sign", {}, False)
                    changed = True
        today = self.today()
        for f in self.scf["financing"].values():
            if f["status"] == "financed" and \
                    parse_date(f["approved"]["maturity_date"]) <= today:
                self._fin_repay_locked(
                    f, parse_date(f["approved"]["maturity_date"]))
                changed = True
        if changed:
            self._save_locked()

    # -- admin hooks (public, take the lock) --

    def bills_state(self):
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            return {"today": self.today().isoformat(),
                    "pool": self._pool_view_locked(),
                    "pieces": [self._piece_view(p, True) for p in sorted(
                        self.bills["pieces"],
                        key=lambda p: (p["number"], p["from"]))],
                    "notices": [self._notice_view(n) for _, n in sorted(
                        self.bills["notices"].items())],
                    "settings": dict(self.settings)}

    def scf_state(self):
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            vs = sorted(self.scf["vouchers"].values(),
                        key=lambda v: v["voucher_id"])
            trees = []
            for v in vs:
                if v["parent_id"] is None:
                    trees.append({"root_id": v["voucher_id"],
                                  "amount": amt_view(v["amount"]),
                                  "live_remaining": amt_view(sum(
                                      x["remaining"] for x in
                                      self._v_tree(v["voucher_id"])
                                      if x["status"] in VOUCHER_LIVE))})
            return {"today": self.today().isoformat(),
                    "financing": [self._fin_view(f) for _, f in sorted(
                        self.scf["financing"].items())],
                    "vouchers": [self._v_view(v, True) for v in vs],
                    "trees": trees,
                    "notices": list(self.scf["notices"]),
                    "settings": dict(self.settings)}

    def set_settings(self, **kw):
        known = set(SETTINGS_DEFAULTS)
        bad = sorted(set(kw) - known)
        if bad:
            raise ValueError("unknown setting %s" % ", ".join(bad))
        if "auto_sign_ms" in kw and kw["auto_sign_ms"] is not None and (
                not isinstance(kw["auto_sign_ms"], int) or
                isinstance(kw["auto_sign_ms"], bool) or
                kw["auto_sign_ms"] < 0):
            raise ValueError("auto_sign_ms: an integer >= 0 or null")
        for k in ("voucher_rate", "financing_rate"):
            if k in kw and (not isinstance(kw[k], str) or
                            not RATE_RE.fullmatch(kw[k]) or
                            Decimal(kw[k]) <= 0):
                raise ValueError("%s: a rate string" % k)
        with self.lock:
            for k, v in kw.items():
                self.settings[k] = rate_view(v) if k.endswith("rate") else v
            self._save_locked()
            return dict(self.settings)

    def set_pool(self, **kw):
        out = _hook_check(kw, {"deposit": Field(_f_re(
            AMT2_RE, "an amount with 2 decimals")), "used": Field(_f_re(
                AMT2_RE, "an amount with 2 decimals"))})
        with self.lock:
            pool = self.bills["pool"]
            new = dict(pool)
            for k in ("deposit", "used"):
                if out[k] is not None:
                    new[k] = int(Decimal(out[k]) * 100)
            old, self.bills["pool"] = pool, new
            _, total = self._pool_figures()
            if new["used"] > total:
                self.bills["pool"] = old
                raise ValueError("used would exceed quota_total %s" %
                                 m2s(total))
            self._save_locked()
            return self._pool_view_locked()

    def bill_counterparty(self, **kw):
        out = _hook_check(kw, {
            "number": Field(_f_re(DRAFT_NO_RE, "30 digits"), True),
            "sub_range": Field(_f_range),
            "action": Field(_f_enum(("sign", "refuse", "dishonour")), True),
            "reason": Field(_f_text(200))})
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            try:
                pc = self._locate(out["number"], out["sub_range"])
            except Refusal as e:
                if e.code == "BIL001":
                    raise HookError(404, "not_found", "no such draft")
                raise
            pend = pc["pending"]
            if pend is None or pend["dir"] != "out":
                raise HookError(409, "not_pending",
                                "no pending operation of ours on this piece")
            if out["action"] == "dishonour" and \
                    pend["op"] != "present_payment":
                raise HookError(409, "not_pending",
                                "dishonour answers a present_payment only")
            self._bill_cpty_locked(pc, "sign" if out["action"] == "sign"
                                   else "refuse", out["reason"])
            self._save_locked()
            return {"draft": self._piece_view(pc)}

    def bill_present(self, **kw):
        draft_spec = dict(BILL_ISSUE_SPEC)
        for k in ("request_id", "drawer_account", "memo"):
            del draft_spec[k]
        draft_spec["number"] = Field(_f_re(DRAFT_NO_RE, "30 digits"))
        draft_spec["drawer"] = Field(_f_party, True)
        draft_spec["issue_date"] = Field(_f_date, True)
        out = _hook_check(kw, {
            "kind": Field(_f_enum(tuple(BILL_IN)), True),
            "to_account": Field(_f_acct, True),
            "from": Field(_f_party),
            "number": Field(_f_re(DRAFT_NO_RE, "30 digits")),
            "sub_range": Field(_f_range),
            "draft": Field(_f_obj(draft_spec)),
            "claim_amount": Field(_f_amount((BILL_CCY,))),
            "reason": Field(_f_text(200))})
        if (out["number"] is None) == (out["draft"] is None):
            raise ValueError("give one of number and draft")
        kind = out["kind"]
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            if out["to_account"] not in self.accounts:
                raise ValueError("to_account is not one of the client's "
                                 "accounts")
            us = self._us(out["to_account"])
            if out["number"] is not None:
                try:
                    pc = self._locate(out["number"], out["sub_range"])
                except Refusal as e:
                    raise HookError(404 if e.code == "BIL001" else 409,
                                    "not_found" if e.code == "BIL001"
                                    else e.code, e.body()["message"])
                if pc["pending"] is not None or (
                        pc["holder"] is not None and
                        self._is_us(pc["holder"])):
                    raise HookError(409, "not_pending", "the piece is "
                                    "pending or held by the client")
                drawer = pc["drawer"]
            else:
                d = out["draft"]
                if d["number"] and self._pieces_of(d["number"]):
                    raise ValueError("draft.number exists: give number")
                drawer = d["drawer"]
            sender = out["from"]
            if sender is None:
                if kind not in ("present_acceptance", "present_receipt"):
                    raise ValueError("from: required for %s" % kind)
                sender = drawer
            if self._is_us(sender):
                raise ValueError("from: not the client")
            if out["number"] is None:
                number = d["number"] or self._new_number(
                    d["kind"], d["acceptor"], d["issue_date"])
                pc = self._new_piece(number, d, None)
                self.bills["pieces"].append(pc)
            claim = None
            if kind == "recourse":
                claim = out["claim_amount"][0] if out["claim_amount"] \
                    else self._pminor(pc)
            self.bills["notice_seq"] += 1
            nid = "BN%s%06d" % (self.today().strftime("%Y%m%d"),
                                self.bills["notice_seq"] % 10 ** 6)
            if kind in ("endorse", "present_payment", "recourse"):
                pc["holder"] = sender
            pc["pending"] = self._pending(kind, "in", sender, pc["status"],
                                          None, nid, claim=claim,
                                          reason=out["reason"])
            pc["status"] = BILL_IN[kind][0]
            n = {"notice_id": nid, "kind": kind, "number": pc["number"],
                 "from": pc["from"], "to": pc["to"], "sender": sender,
                 "receiver": us, "received_at": rfc3339(), "claim": claim,
                 "reason": out["reason"], "status": "open",
                 "answered_at": None}
            self.bills["notices"][nid] = n
            self._event(pc, kind, "requested", sender, us, None, nid,
                        out["reason"])
            self._save_locked()
            return {"notice": self._notice_view(n)}

    def scf_review(self, **kw):
        out = _hook_check(kw, {
            "request_id": Field(_f_req_id, True),
            "decision": Field(_f_enum(("review", "approve", "reject",
                                       "disburse", "repay")), True),
            "amount": Field(_f_re(AMT2_RE, "an amount with 2 decimals")),
            "rate": Field(_f_rate), "value_date": Field(_f_date),
            "maturity_date": Field(_f_date),
            "invoices": Field(lambda p, v, path: v if isinstance(v, dict)
                              else p.add("invalid_field", path,
                                         "an object") or _ABSENT),
            "code": Field(_f_re(re.compile(r"SCF[0-9]{3}"), "SCFnnn")),
            "reason": Field(_f_text(200))})
        dec = out["decision"]
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            f = self.scf["financing"].get(out["request_id"])
            if f is None:
                raise HookError(404, "not_found", "no such financing")
            st = f["status"]
            allowed = {"review": ("submitted",),
                       "approve": ("submitted", "under_review"),
                       "reject": ("submitted", "under_review", "approved"),
                       "disburse": ("approved",),
                       "repay": ("financed",)}[dec]
            if st not in allowed:
                raise HookError(409, "not_allowed", "%s in status %s" %
                                (dec, st))
            today = self.today()
            if dec == "review":
                f["status"] = "under_review"
            elif dec == "approve":
                self._fin_approve(f, out, today)
            elif dec == "reject":
                code = out["code"] or "SCF020"
                reason = out["reason"] or CODES.get(
                    code, CODES["SCF020"])[0]
                f["status"] = "rejected"
                f["rejection"] = {"code": code, "reason": reason}
                for i in f["invoices"]:
                    i["result"] = "rejected"
                    i["financed"] = None
                    i["reason"] = i["reason"] or {"code": code,
                                                  "message": reason}
            elif dec == "disburse":
                self.scf["seq"] += 1
                f["loan_ref"] = "LN%010d" % self.scf["seq"]
                a = f["approved"]
                f["status"] = "financed"
                f["financed"] = {"amount": a["amount"],
                                 "value_date": today.isoformat()}
                if f["kind"] == "receivable":
                    self._book_minor(f["account"], a["amount"],
                                     f["currency"], f["loan_ref"],
                                     "financing %s %s" % (f["loan_ref"],
                                                          f["request_id"]))
                self._scf_notice(f, "due", a["maturity_date"])
            else:
                self._fin_repay_locked(f, today)
            f["updated_at"] = rfc3339()
            self._bs_tick_locked()
            self._save_locked()
            return {"financing": self._fin_view(f)}

    def _fin_approve(self, f, out, today):
        verdicts = out["invoices"] or {}
        known = {i["number"] for i in f["invoices"]}
        for num, verdict in verdicts.items():
            if num not in known or not isinstance(verdict, dict) or \
                    set(verdict) - {"result", "code", "reason"} or \
                    verdict.get("result") != "rejected":
                raise ValueError("invoices: {number: {\"result\": "
                                 "\"rejected\", \"code\"?, \"reason\"?}}")
        acc = [i for i in f["invoices"] if i["number"] not in verdicts]
        plan = None
        if acc:
            acc_total = sum(i["amount"] for i in acc)
            cap = min(f["requested"],
                      acc_total * SCF_RATIO[f["kind"]] // 100)
            amount = int(Decimal(out["amount"]) * 100) if out["amount"] \
                else cap
            if not 0 < amount <= cap:
                raise ValueError("amount: 0.01 to %s" % m2s(cap))
            rate = out["rate"] or Decimal(self.settings["financing_rate"])
            vd = out["value_date"] or max(
                today, parse_date(f["value_date"]) if f["value_date"]
                else today)
            md = out["maturity_date"] or max(parse_date(i["due_date"])
                                             for i in acc)
            if md <= vd:
                raise ValueError("maturity_date must be after value_date")
            plan = (acc_total, amount, rate, vd, md)
        for i in f["invoices"]:
            v = verdicts.get(i["number"])
            if v:
                i["result"] = "rejected"
                i["financed"] = None
                i["reason"] = {"code": v.get("code") or "SCF003",
                               "message": v.get("reason") or
                               "invoice not accepted"}
            else:
                i["result"] = "accepted"
        if plan is None:
            f["status"] = "rejected"
            f["rejection"] = {"code": "SCF021",
                              "reason": CODES["SCF021"][0]}
            return
        acc_total, amount, rate, vd, md = plan
        given = 0
        for n, i in enumerate(acc):
            share = amount - given if n == len(acc) - 1 else \
                amount * i["amount"] // acc_total
            i["financed"] = share
            given += share
        f["status"] = "approved"
        f["approved"] = {"amount": amount, "rate": str(rate),
                         "value_date": vd.isoformat(),
                         "maturity_date": md.isoformat(),
                         "interest": interest_minor(amount, rate,
                                                    (md - vd).days)}

    def voucher_hook(self, **kw):
        action = kw.get("action")
        specs = {
            "issue": {"issuer": Field(_f_party, True),
                      "to": Field(_f_party, True),
                      "amount": Field(_f_amount((BILL_CCY,)), True),
                      "maturity_date": Field(_f_date, True)},
            "transfer": {"voucher_id": Field(_f_text(40), True),
                         "to": Field(_f_party, True),
                         "amount": Field(_f_amount((BILL_CCY,)), True)},
        }
        spec = specs.get(action, {"voucher_id": Field(_f_text(40), True),
                                  "reason": Field(_f_text(200))})
        if action not in ("issue", "transfer", "sign", "refuse",
                          "withdraw", "finance", "settle"):
            raise ValueError("action: issue, sign, refuse, withdraw, "
                             "transfer, finance or settle")
        out = _hook_check({k: v for k, v in kw.items() if k != "action"},
                          spec)
        for k in ("issuer", "to"):
            if out.get(k) is not None and out[k].get("account") is None:
                raise ValueError("%s.account: required" % k)
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            if action == "issue":
                if self._is_us(out["issuer"]):
                    raise ValueError("issuer: not the client (use the API)")
                v = self._v_issue_locked(out["issuer"], out["to"],
                                         out["amount"][0],
                                         out["maturity_date"], None, None)
                res = (v, None)
            else:
                v = self.scf["vouchers"].get(out["voucher_id"])
                if v is None:
                    raise HookError(404, "not_found", "no such voucher")
                _, a, b = self._v_act_locked(v, action, out, False)
                res = (a, b)
            self._save_locked()
            return {"voucher": self._v_view(res[0]),
                    "child": self._v_view(res[1]) if res[1] else None}

    def requests_log(self):
        with self._arr_lock:
            try:
                with open(self.requests_file, encoding="utf-8") as f:
                    return [json.loads(x) for x in f if x.strip()]
            except FileNotFoundError:
                return []

    def count_requests(self, request_id=None, outcome=None, family=None):
        return sum(1 for a in self.requests_log()
                   if (request_id is None or a["request_id"] == request_id)
                   and (outcome is None or a["outcome"] == outcome)
                   and (family is None or a["family"] == family))


def _page_args(query, sim):
    """(page, page_size) or ValueError(field)."""
    page, size = 1, sim.page_size
    if "page" in query:
        if not re.fullmatch(r"[1-9][0-9]{0,5}", query["page"]):
            raise ValueError("page")
        page = int(query["page"])
    if "page_size" in query:
        if not re.fullmatch(r"[1-9][0-9]{0,3}", query["page_size"]) or \
                int(query["page_size"]) > MAX_LIMIT:
            raise ValueError("page_size")
        size = int(query["page_size"])
    return page, size


def _paged(name, items, page, size):
    total = len(items)
    return {name: items[(page - 1) * size:page * size], "page": page,
            "page_size": size, "total": total,
            "total_pages": (total + size - 1) // size}


class BillsScfHandler:
    """ApiHandler mixin: the /v1/bills and /v1/scf resources."""

    @staticmethod
    def bs_route(method, parts):
        """(route, allow, scope) for a /v1/bills or /v1/scf path."""
        fam = parts[2]
        rest = parts[3:]
        n = len(rest)
        if fam == "bills":
            if rest == ["drafts"]:
                return "drafts", "GET, POST", fam
            if n == 2 and rest[0] == "drafts" and rest[1]:
                return "draft", "GET", fam
            if n == 3 and rest[0] == "drafts" and rest[1] and \
                    rest[2] == "operations":
                return "draft_op", "POST", fam
            if rest in (["pool"], ["notices"]):
                return rest[0], "GET", fam
            if n == 2 and rest[0] == "requests" and rest[1]:
                return "bill_request", "GET", fam
        else:
            if rest == ["financing"]:
                return "financing", "POST", fam
            if n == 2 and rest[0] == "financing" and rest[1]:
                return "financing_one", "GET", fam
            if n == 3 and rest[0] == "financing" and rest[1] and \
                    rest[2] == "cancel":
                return "financing_cancel", "POST", fam
            if rest == ["notices"]:
                return "scf_notices", "GET", fam
            if rest == ["vouchers"]:
                return "vouchers", "GET, POST", fam
            if n == 2 and rest[0] == "vouchers" and rest[1]:
                return "voucher", "GET", fam
            if n == 3 and rest[0] == "vouchers" and rest[1] and \
                    rest[2] == "operations":
                return "voucher_op", "POST", fam
            if n == 2 and rest[0] == "requests" and rest[1]:
                return "scf_request", "GET", fam
        return None

    def bs_dispatch(self, route, method, parts, body, query):
        sim = self.server.sim
        arg = unquote(parts[4]) if len(parts) > 4 else None
        if method == "POST":
            if route == "drafts":
                return self._bs_post("bills", validate_bill_issue, query,
                                     body, sim._bill_issue_locked)
            if route == "draft_op":
                if not DRAFT_NO_RE.fullmatch(arg):
                    return self._bs_bad_path("number", "30 digits")
                return self._bs_post(
                    "bills", validate_bill_op, query, body,
                    lambda k, r: sim._bill_op_locked(k, arg, r))
            if route == "financing":
                return self._bs_post("scf", validate_financing, query,
                                     body, sim._fin_create_locked)
            if route == "financing_cancel":
                if not IDEM_KEY_RE.fullmatch(arg):
                    return self._bs_bad_path("request_id", "not a request "
                                             "id")
                return self._bs_post(
                    "scf", validate_cancel, query, body,
                    lambda k, r: sim._fin_cancel_locked(k, arg, r))
            if route == "vouchers":
                return self._bs_post("scf", validate_voucher_issue, query,
                                     body, self._bs_voucher_issue)
            if route == "voucher_op":
                if not VOUCHER_ID_RE.fullmatch(arg):
                    return self._bs_bad_path("voucher_id", "1-40 letters "
                                             "or digits")
                return self._bs_post(
                    "scf", validate_voucher_op, query, body,
                    lambda k, r: self._bs_voucher_op(k, arg, r))
        return self._bs_get(route, arg, query)

    def _bs_bad_path(self, field, msg):
        self._log_arrival("rejected_invalid", http_status=400,
                          error="invalid_field")
        return self._v1_send(400, {"error": "invalid_field", "field": field,
                                   "message": msg})

    def _bs_voucher_issue(self, key, r):
        sim = self.server.sim
        sim._our_account(r["issuer_account"], "SCF005")
        today = sim.today()
        if r["maturity_date"] <= today or \
                r["maturity_date"] > add_months(today, 12):
            raise Refusal("SCF041")
        if sim._is_us(r["receiver"]):
            raise Refusal("SCF039")
        v = sim._v_issue_locked(sim._us(r["issuer_account"]), r["receiver"],
                                r["amount"][0], r["maturity_date"],
                                r["contract_ref"], key)
        return sim._voucher_answer(key, "issue", "pending", v, None)

    def _bs_voucher_op(self, key, vid, r):
        sim = self.server.sim
        v = sim.scf["vouchers"].get(vid)
        if v is None or not sim._v_visible(v):
            raise Refusal("SCF030")
        result, a, b = sim._v_act_locked(v, r["op"], r, True, key)
        return sim._voucher_answer(key, r["op"], result, a, b)

    def _bs_post(self, family, validate, query, body, apply):
        sim = self.server.sim
        if query:
            k = sorted(query)[0]
            self._log_arrival("rejected_invalid", http_status=400,
                              error="invalid_field")
            return self._v1_send(400, {"error": "invalid_field", "field": k,
                                       "message": "unknown query parameter"})
        keys = self.headers.get_all("Idempotency-Key") or []
        if len(keys) != 1 or not IDEM_KEY_RE.fullmatch(keys[0]):
            self._log_arrival("rejected_invalid", http_status=400,
                              error="invalid_header")
            return self._v1_send(400, {
                "error": "invalid_header", "field": "Idempotency-Key",
                "message": "required once, 1-64 characters of "
                           "[A-Za-z0-9._:-]"})
        key = keys[0]
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/json":
            self._log_arrival("rejected_invalid", http_status=415,
                              error="unsupported_media_type")
            return self._v1_send(415, {"error": "unsupported_media_type",
                                       "message": "application/json only"})
        why = self._signature_problem(body)
        if why:
            self._log_arrival("bad_signature", http_status=400,
                              error="invalid_signature")
            return self._v1_send(400, {"error": "invalid_signature",
                                       "message": why})
        sha = hashlib.sha256(body).hexdigest()
        path = urlsplit(self.path).path
        store = sim.bills["requests"] if family == "bills" else \
            sim.scf["requests"]
        with sim.lock:
            prev = store.get(key)
        if prev is not None:
            return self._bs_idem(prev, path, sha)
        obj, probs = validate(body, key)
        if probs:
            ans = probs.answer()
            self._log_arrival("rejected_invalid", http_status=400,
                              error=ans["error"])
            return self._v1_send(400, ans)
        tmo = False
        with sim.lock:
            store = sim.bills["requests"] if family == "bills" else \
                sim.scf["requests"]
            prev = store.get(key)
            if prev is None:
                snapshot = json.dumps(sim._bs_dump()["bills" if family ==
                                                     "bills" else "scf"])
                n_entries = len(sim.entries)
                try:
                    status, ans = 201, apply(key, obj)
                except Refusal as e:
                    # a refusal changes nothing: put back what may have moved
                    restored = json.loads(snapshot)
                    restored["requests"] = store
                    if family == "bills":
                        sim.bills = restored
                    else:
                        sim.scf = restored
                    del sim.entries[n_entries:]
                    status = 422
                    ans = dict(e.body(), request_id=key, op=obj.get("op") or
                               self._bs_op_name(path))
                rec = {"request_id": key, "op": obj.get("op") or
                       self._bs_op_name(path), "path": path,
                       "body_sha256": sha, "http_status": status,
                       "response": jdump(ans).decode("utf-8"),
                       "created_at": rfc3339()}
                (sim.bills if family == "bills" else
                 sim.scf)["requests"][key] = rec
                sim._save_locked()
                if sim.faults["timeout_after_create_next"] > 0:
                    sim.faults["timeout_after_create_next"] -= 1
                    tmo = True
                    mode = sim.faults["timeout_mode"]
                    hold = sim.faults["timeout_hold_s"]
        if prev is not None:
            return self._bs_idem(prev, path, sha)
        outcome = "created" if status == 201 else "refused"
        err = None if status == 201 else ans["error"]
        if tmo:
            self._log_arrival(outcome, error=err,
                              fault="timeout_after_create:%s" % mode)
            return self._no_answer(mode, hold)
        self._log_arrival(outcome, http_status=status, error=err)
        return self._v1_send(status, raw=rec["response"].encode("utf-8"))

    @staticmethod
    def _bs_op_name(path):
        if path.endswith("/cancel"):
            return "cancel"
        if path.endswith("/financing"):
            return "financing"
        return "issue"

    def _bs_idem(self, prev, path, sha):
        if prev["body_sha256"] == sha and prev["path"] == path:
            self._log_arrival("replayed", http_status=prev["http_status"])
            return self._v1_send(prev["http_status"],
                                 raw=prev["response"].encode("utf-8"))
        self._log_arrival("conflict", http_status=422,
                          error="idempotency_key_reused")
        return self._v1_send(422, {
            "error": "idempotency_key_reused",
            "request_id": prev["request_id"],
            "message": "this Idempotency-Key was used with another body "
                       "or path"})

    def _bs_get(self, route, arg, query):
        sim = self.server.sim

        def bad(field, msg="bad query parameter"):
            return self._v1_send(400, {"error": "invalid_field",
                                       "field": field, "message": msg})

        def refused(code):
            return self._v1_send(404, Refusal(code).body())
        paged = route in ("drafts", "notices", "scf_notices", "vouchers")
        filters = {"drafts": ("status", "maturity_from", "maturity_to"),
                   "scf_notices": ("request_id",),
                   "vouchers": ("holder", "status", "root_id")}
        allowed = filters.get(route, ()) + (("page", "page_size")
                                            if paged else ())
        if not self._only(query, allowed):
            return
        if paged:
            try:
                page, size = _page_args(query, sim)
            except ValueError as e:
                return bad(str(e), "an integer in range")
        if route == "drafts":
            st = query.get("status")
            if st is not None and st not in BILL_STATUSES:
                return bad("status", "not a draft status")
            days = {}
            for k in ("maturity_from", "maturity_to"):
                if k in query:
                    days[k] = parse_date(query[k])
                    if days[k] is None:
                        return bad(k, "not a date YYYY-MM-DD")
            if len(days) == 2 and days["maturity_from"] > \
                    days["maturity_to"]:
                return bad("maturity_to", "before maturity_from")
            with sim.lock:
                rows = [sim._piece_view(p) for p in sorted(
                    sim.bills["pieces"], key=lambda p: (
                        p["maturity_date"], p["number"], p["from"]))
                    if (st is None or p["status"] == st) and
                    ("maturity_from" not in days or p["maturity_date"] >=
                     days["maturity_from"].isoformat()) and
                    ("maturity_to" not in days or p["maturity_date"] <=
                     days["maturity_to"].isoformat())]
            return self._v1_send(200, _paged("drafts", rows, page, size))
        if route == "draft":
            if not DRAFT_NO_RE.fullmatch(arg):
                return bad("number", "30 digits")
            with sim.lock:
                ps = [sim._piece_view(p, True) for p in sim._pieces_of(arg)]
            if not ps:
                return refused("BIL001")
            return self._v1_send(200, {"number": arg, "pieces": ps})
        if route == "notices":
            with sim.lock:
                rows = [sim._notice_view(n) for _, n in sorted(
                    sim.bills["notices"].items()) if n["status"] == "open"]
            return self._v1_send(200, _paged("notices", rows, page, size))
        if route == "pool":
            with sim.lock:
                return self._v1_send(200, sim._pool_view_locked())
        if route in ("bill_request", "scf_request"):
            store = sim.bills["requests"] if route == "bill_request" else \
                sim.scf["requests"]
            with sim.lock:
                rec = store.get(arg)
            if rec is None:
                return self._v1_send(404, {"error": "request_not_found"})
            return self._v1_send(200, {
                "request_id": rec["request_id"], "op": rec["op"],
                "path": rec["path"], "http_status": rec["http_status"],
                "created_at": rec["created_at"],
                "answer": json.loads(rec["response"])})
        if route == "financing_one":
            with sim.lock:
                f = sim.scf["financing"].get(arg)
                view = sim._fin_view(f) if f else None
            if view is None:
                return refused("SCF001")
            return self._v1_send(200, view)
        if route == "scf_notices":
            rid = query.get("request_id")
            with sim.lock:
                rows = [n for n in sim.scf["notices"]
                        if rid is None or n["request_id"] == rid]
            return self._v1_send(200, _paged("notices", rows, page, size))
        if route == "vouchers":
            holder = query.get("holder")
            if holder is not None and holder not in ("us", "others"):
                return bad("holder", "us or others")
            st = query.get("status")
            if st is not None and st not in VOUCHER_STATUSES:
                return bad("status", "not a voucher status")
            with sim.lock:
                rows = [sim._v_view(v) for v in sorted(
                    sim.scf["vouchers"].values(),
                    key=lambda v: (v["root_id"], v["voucher_id"]))
                    if sim._v_visible(v) and
                    (st is None or v["status"] == st) and
                    (query.get("root_id") is None or
                     v["root_id"] == query["root_id"]) and
                    (holder is None or
                     sim._is_us(v["holder"]) == (holder == "us"))]
            return self._v1_send(200, _paged("vouchers", rows, page, size))
        if route == "voucher":
            with sim.lock:
                v = sim.scf["vouchers"].get(arg)
                view = sim._v_view(v, True) if v and sim._v_visible(v) \
                    else None
            if view is None:
                return refused("SCF030")
            return self._v1_send(200, view)
        return self._v1_send(404, {"error": "not_found",
                                   "message": "no such resource"})


# --------------------------------------------------------------------------
# The bank

class Stop(Exception):
    pass


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, sim, ctx):
        self.sim = sim
        self.ctx = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        # the TLS handshake runs here, in the connection's own thread
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.sim.log("tls handshake from %s refused: %s" %
                         (client_address[0], e))
            try:
                request.close()
            except OSError:
                pass
            return
        tls.settimeout(30)
        self.sim._conns_add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.sim._conns_del(tls)
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        self.sim.log("error serving %s: %r" % (client_address,
                                               sys.exc_info()[1]))


class AdminServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, sim):
        self.sim = sim
        super().__init__(addr, handler)


def _peer_cn(sock):
    try:
        cert = sock.getpeercert()
    except (ValueError, OSError):
        return None
    for rdn in (cert or {}).get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


class ApiHandler(BillsScfHandler, http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bank-openapi-sim/1"

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            self.server.sim.log("%s %s" % (self.address_string(),
                                           fmt % args))

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    # -- plumbing --

    def _send_raw(self, status, headers, body):
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _read_body(self):
        """(body, None) or (None, (status, error, message))."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return None, (411, "length_required",
                          "chunked bodies are not accepted")
        cl = self.headers.get_all("Content-Length") or []
        if len(cl) > 1 or (cl and not re.fullmatch(r"[0-9]{1,10}", cl[0])):
            self.close_connection = True
            return None, (400, "invalid_request", "bad Content-Length")
        n = int(cl[0]) if cl else 0
        if not cl and self.command in ("POST", "PUT", "PATCH"):
            self.close_connection = True
            return None, (411, "length_required", "Content-Length required")
        if n > MAX_BODY:
            # drain a moderate body so that the client can read the answer
            self.close_connection = True
            left = n if n <= 16 * MAX_BODY else 0
            while left > 0:
                got = self.rfile.read(min(left, 65536))
                if not got:
                    break
                left -= len(got)
            return None, (413, "payload_too_large",
                          "body larger than %d bytes" % MAX_BODY)
        body = self.rfile.read(n) if n else b""
        if len(body) != n:
            self.close_connection = True
            raise Stop()
        return body, None

    def _dispatch(self, method):
        sim = self.server.sim
        self.cn = _peer_cn(self.connection)
        u = urlsplit(self.path)
        try:
            if u.path == "/oauth/token":
                self._token(method)
            elif u.path == "/v1" or u.path.startswith("/v1/"):
                self._v1(method, u)
            else:
                self._read_body()
                self._plain(404, {"error": "not_found"})
        except Stop:
            self.close_connection = True
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a simulator bug must show, not hang
            sim.log("internal error: %r" % e)
            traceback.print_exc()
            self.close_connection = True

    def _plain(self, status, obj, extra=()):
        body = jdump(obj)
        self._send_raw(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store"),
                                ("Pragma", "no-cache")] + list(extra), body)

    # -- OAuth --

    def _token(self, method):
        sim = self.server.sim
        body, err = self._read_body()
        if err:
            return self._plain(err[0], {"error": "invalid_request",
                                        "error_description": err[2]})
        if method != "POST":
            return self._plain(405, {"error": "invalid_request",
                                     "error_description": "POST only"},
                               [("Allow", "POST")])

        def bad(status, code, desc):
            return self._plain(status, {"error": code,
                                        "error_description": desc})
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/x-www-form-urlencoded":
            return bad(400, "invalid_request",
                       "Content-Type must be "
                       "application/x-www-form-urlencoded")
        try:
            pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True,
                              strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            return bad(400, "invalid_request", "not form-urlencoded")
        form = {}
        for k, v in pairs:
            if k in form:
                return bad(400, "invalid_request", "%s given twice" % k)
            form[k] = v
        for k in ("grant_type", "client_id", "client_secret"):
            if not form.get(k):
                return bad(400, "invalid_request", "%s missing" % k)
        if form["grant_type"] != "client_credentials":
            return bad(400, "unsupported_grant_type",
                       "only client_credentials")
        ok_id = hmac.compare_digest(form["client_id"].encode(),
                                    sim.client_id.encode())
        ok_sec = hmac.compare_digest(form["client_secret"].encode(),
                                     sim.client_secret.encode())
        if not (ok_id and ok_sec):
            return bad(401, "invalid_client", "unknown client or bad secret")
        if self.cn != sim.client_cn:
            return bad(401, "invalid_client",
                       "client certificate CN %r is not this client's" %
                       self.cn)
        scope = form.get("scope")
        if scope is not None:
            parts = scope.split(" ")
            if not scope or any(s not in SCOPES for s in parts):
                return bad(400, "invalid_scope",
                           "scope is a subset of 'payments accounts bills "
                           "scf'")
            scopes = set(parts)
        else:
            scopes = set(SCOPES)
        tok = secrets.token_urlsafe(32)
        with sim.lock:
            sim.tokens[tok] = {"cn": self.cn, "scopes": scopes,
                               "expires": time.time() + sim.token_ttl}
        ans = {"access_token": tok, "token_type": "Bearer",
               "expires_in": sim.token_ttl}
        if scope is not None:
            ans["scope"] = scope
        return self._plain(200, ans)

    # -- /v1 --

    def _v1_send(self, status, obj=None, extra=(), raw=None):
        sim = self.server.sim
        body = raw if raw is not None else jdump(obj)
        ts = rfc3339()
        rid = str(uuid.uuid4())
        with sim.lock:
            bad = sim.faults["bad_response_signature_next"] > 0
            if bad:
                sim.faults["bad_response_signature_next"] -= 1
        data = ts.encode() + b"\n" + rid.encode() + b"\n" + body
        if bad:
            data = b"tampered\n" + data
        sig = base64.b64encode(sim.signer.sign(data)).decode("ascii")
        headers = [("Content-Type", "application/json"),
                   ("Content-Length", str(len(body))),
                   ("Cache-Control", "no-store"),
                   ("X-Response-Id", rid),
                   ("X-Response-Timestamp", ts),
                   ("X-Response-Signature", sig)] + list(extra)
        with sim.lock:
            sim.last_response = (status, headers, body)
        self._delay()
        self._send_raw(status, headers, body)
        return status

    def _delay(self):
        sim = self.server.sim
        ms = sim.faults["latency_ms"]
        if ms > 0:
            sim._stopping.wait(ms / 1000.0)

    def _v1(self, method, u):
        sim = self.server.sim
        body, err = self._read_body()
        is_pay = method == "POST" and u.path == "/v1/payments"
        is_bs = method == "POST" and (u.path.startswith("/v1/bills/") or
                                      u.path.startswith("/v1/scf/"))
        self.arrival = None
        self.arrival_kind = "payments"
        if is_bs:
            key = self.headers.get("Idempotency-Key")
            self.arrival_kind = "requests"
            self.arrival = {
                "time": rfc3339(), "client_cn": self.cn,
                "family": u.path.split("/")[2], "path": u.path,
                "idempotency_key": key[:100] if key is not None else None,
                "request_id": None, "op": None,
                "body_sha256": hashlib.sha256(body or b"").hexdigest(),
                "outcome": None, "http_status": None, "error": None,
                "fault": None}
            try:
                o = strict_json(body or b"")
                if isinstance(o, dict):
                    for k in ("request_id", "op"):
                        if isinstance(o.get(k), str):
                            self.arrival[k] = o[k][:100]
            except (ValueError, RecursionError):
                pass
            if self.arrival["op"] is None:
                self.arrival["op"] = self._bs_op_name(u.path)
        if is_pay:
            key = self.headers.get("Idempotency-Key")
            self.arrival = {
                "time": rfc3339(), "client_cn": self.cn,
                "idempotency_key": key[:100] if key is not None else None,
                "body_sha256": hashlib.sha256(body or b"").hexdigest(),
                "end_to_end_id": None, "outcome": None, "payment_id": None,
                "status": None, "http_status": None, "error": None,
                "fault": None}
            try:
                o = strict_json(body or b"")
                if isinstance(o, dict) and isinstance(o.get("end_to_end_id"),
                                                      str):
                    self.arrival["end_to_end_id"] = o["end_to_end_id"]
            except (ValueError, RecursionError):
                pass
        replay = None
        f500 = False
        with sim.lock:
            sim._settle_locked()
            sim._bs_tick_locked()
            f = sim.faults
            if f["replay_last_response_next"] > 0 and \
                    sim.last_response is not None:
                f["replay_last_response_next"] -= 1
                replay = sim.last_response
            elif f["http_500_next"] > 0:
                f["http_500_next"] -= 1
                f500 = True
        if replay is not None:
            self._log_arrival("fault_replay", http_status=replay[0],
                              fault="replay_last_response")
            self._delay()
            self._send_raw(*replay)
            return
        if f500:
            self._log_arrival("fault_500", http_status=500,
                              error="internal_error", fault="http_500")
            self._v1_send(500, {"error": "internal_error",
                                "message": "injected fault"})
            return
        if err:
            self._log_arrival("rejected_invalid", http_status=err[0],
                              error=err[1])
            self._v1_send(err[0], {"error": err[1], "message": err[2]})
            return
        # authorization
        tok = None
        why = "missing bearer token"
        auth = self.headers.get_all("Authorization") or []
        if len(auth) == 1:
            m = re.fullmatch(r"(?i:bearer) +([A-Za-z0-9._~+/-]+=*) *",
                             auth[0])
            if m:
                with sim.lock:
                    t = sim.tokens.get(m.group(1))
                if t is None:
                    why = "unknown or revoked token"
                elif time.time() >= t["expires"]:
                    why = "token expired"
                elif t["cn"] != self.cn:
                    why = "token issued to another client certificate"
                else:
                    tok = t
            else:
                why = "Authorization is not 'Bearer <token>'"
        elif len(auth) > 1:
            why = "Authorization given twice"
        if tok is None:
            self._log_arrival("unauthorized", http_status=401,
                              error="invalid_token")
            self._v1_send(401, {"error": "invalid_token", "message": why},
                          [("WWW-Authenticate",
                            'Bearer error="invalid_token"')])
            return
        # routing
        path = u.path
        parts = path.split("/")
        route = None
        if path == "/v1/payments":
            route, allow, scope = "payments", "GET, POST", "payments"
        elif len(parts) == 4 and parts[2] == "payments" and parts[3]:
            route, allow, scope = "payment", "GET", "payments"
        elif len(parts) == 5 and parts[2] == "accounts" and parts[3] and \
                parts[4] in ("balances", "transactions"):
            route, allow, scope = parts[4], "GET", "accounts"
        elif len(parts) >= 4 and parts[2] in ("bills", "scf"):
            bs = self.bs_route(method, parts)
            if bs is not None:
                route, allow, scope = bs
        if route is None:
            return self._v1_send(404, {"error": "not_found",
                                       "message": "no such resource"})
        if method not in allow.split(", "):
            self._log_arrival("rejected_invalid", http_status=405,
                              error="method_not_allowed")
            return self._v1_send(405, {"error": "method_not_allowed"},
                                 [("Allow", allow)])
        if scope not in tok["scopes"]:
            self._log_arrival("unauthorized", http_status=403,
                              error="insufficient_scope")
            return self._v1_send(403, {"error": "insufficient_scope",
                                       "message": "token lacks scope %s" %
                                       scope})
        try:
            query = self._query(u.query)
        except ValueError as e:
            self._log_arrival("rejected_invalid", http_status=400,
                              error="invalid_field")
            return self._v1_send(400, {"error": "invalid_field",
                                       "field": str(e),
                                       "message": "bad query parameter"})
        if scope in ("bills", "scf"):
            return self.bs_dispatch(route, method, parts, body, query)
        if route == "payments" and method == "POST":
            return self._create_payment(body, query)
        if route == "payments":
            return self._payment_by_key(query)
        if route == "payment":
            return self._payment_by_id(unquote(parts[3]), query)
        iban = unquote(parts[3])
        if route == "balances":
            return self._balances(iban, query)
        return self._transactions(iban, query)

    @staticmethod
    def _query(q):
        """dict of query parameters; ValueError(name) when repeated."""
        out = {}
        if not q:
            return out
        for part in q.split("&"):
            k, sep, v = part.partition("=")
            k, v = unquote(k.replace("+", " ")), unquote(v.replace("+", " "))
            if k in out or not k:
                raise ValueError(k or "?")
            out[k] = v
        return out

    def _only(self, query, allowed):
        for k in sorted(query):
            if k not in allowed:
                self._v1_send(400, {"error": "invalid_field", "field": k,
                                    "message": "unknown query parameter"})
                return False
        return True

    def _log_arrival(self, outcome, **kw):
        if self.arrival is None:
            return
        rec = dict(self.arrival)
        rec["outcome"] = outcome
        rec.update(kw)
        self.server.sim._append_arrival(rec, self.arrival_kind)
        self.arrival = None

    # -- payments --

    def _create_payment(self, body, query):
        sim = self.server.sim
        if query:
            k = sorted(query)[0]
            self._log_arrival("rejected_invalid", http_status=400,
                              error="invalid_field")
            return self._v1_send(400, {"error": "invalid_field", "field": k,
                                       "message": "unknown query parameter"})
        keys = self.headers.get_all("Idempotency-Key") or []
        if len(keys) != 1 or not IDEM_KEY_RE.fullmatch(keys[0]):
            self._log_arrival("rejected_invalid", http_status=400,
                              error="invalid_header")
            return self._v1_send(400, {
                "error": "invalid_header", "field": "Idempotency-Key",
                "message": "required once, 1-64 characters of "
                           "[A-Za-z0-9._:-]"})
        key = keys[0]
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        if ctype.strip().lower() != "application/json":
            self._log_arrival("rejected_invalid", http_status=415,
                              error="unsupported_media_type")
            return self._v1_send(415, {"error": "unsupported_media_type",
                                       "message": "application/json only"})
        why = self._signature_problem(body)
        if why:
            self._log_arrival("bad_signature", http_status=400,
                              error="invalid_signature")
            return self._v1_send(400, {"error": "invalid_signature",
                                       "message": why})
        sha = hashlib.sha256(body).hexdigest()
        with sim.lock:
            pid = sim.idem.get(key)
            prev = sim.payments.get(pid) if pid else None
        if prev is not None:
            return self._idem_answer(prev, sha)
        with sim.lock:
            today = sim.today()
        pay, probs = validate_payment(body, today)
        if probs:
            ans = probs.answer()
            self._log_arrival("rejected_invalid", http_status=400,
                              error=ans["error"])
            return self._v1_send(400, ans)
        with sim.lock:
            pid = sim.idem.get(key)
            prev = sim.payments.get(pid) if pid else None
            if prev is None:
                rec = sim._create_locked(key, sha, pay)
                tmo = sim.faults["timeout_after_create_next"] > 0
                if tmo:
                    sim.faults["timeout_after_create_next"] -= 1
                    mode = sim.faults["timeout_mode"]
                    hold = sim.faults["timeout_hold_s"]
        if prev is not None:
            return self._idem_answer(prev, sha)
        pid = rec["payment_id"]
        if tmo:
            self._log_arrival("created", payment_id=pid, status=rec["status"],
                              error=rec["status_reason"],
                              fault="timeout_after_create:%s" % mode)
            return self._no_answer(mode, hold)
        self._log_arrival("created", payment_id=pid, status=rec["status"],
                          http_status=201, error=rec["status_reason"])
        return self._v1_send(201, raw=rec["response"].encode("utf-8"),
                             extra=[("Location", "/v1/payments/" + pid)])

    def _signature_problem(self, body):
        """None when X-Request-Signature verifies over body, else why."""
        sim = self.server.sim
        sigs = self.headers.get_all("X-Request-Signature") or []
        if len(sigs) != 1:
            return "X-Request-Signature required once"
        s = sigs[0].strip()
        try:
            if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", s) or len(s) % 4:
                raise ValueError
            der = base64.b64decode(s, validate=True)
        except ValueError:
            return "X-Request-Signature is not base64"
        return verify_detached(body, der, sim.client_sign_ca,
                               sim.client_sign_cert)

    def _idem_answer(self, prev, sha):
        pid = prev["payment_id"]
        if prev["body_sha256"] == sha:
            self._log_arrival("replayed", payment_id=pid,
                              status=prev["status"], http_status=201)
            return self._v1_send(201, raw=prev["response"].encode("utf-8"),
                                 extra=[("Location", "/v1/payments/" + pid)])
        self._log_arrival("conflict", payment_id=pid, http_status=422,
                          error="idempotency_key_reused")
        return self._v1_send(422, {
            "error": "idempotency_key_reused", "payment_id": pid,
            "message": "this Idempotency-Key was used with another body"})

    def _no_answer(self, mode, hold_s):
        sim = self.server.sim
        conn = self.connection
        self.close_connection = True
        if mode == "hold":
            end = time.monotonic() + hold_s
            conn.settimeout(0.2)
            while not sim._stopping.is_set() and time.monotonic() < end:
                try:
                    d = conn.recv(4096)
                except (socket.timeout, ssl.SSLWantReadError):
                    continue
                except (OSError, ssl.SSLError):
                    break
                if not d:
                    break
        elif mode == "reset":
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
            except OSError:
                pass
        raise Stop()

    def _payment_by_key(self, query):
        sim = self.server.sim
        if not self._only(query, ("idempotency_key",)):
            return
        k = query.get("idempotency_key")
        if k is None:
            return self._v1_send(400, {"error": "missing_field",
                                       "field": "idempotency_key",
                                       "message": "listing is not offered"})
        if not IDEM_KEY_RE.fullmatch(k):
            return self._v1_send(400, {"error": "invalid_field",
                                       "field": "idempotency_key",
                                       "message": "not a valid key"})
        with sim.lock:
            pid = sim.idem.get(k)
            p = sim.payments.get(pid) if pid else None
            view = sim._view(p) if p else None
        if view is None:
            return self._v1_send(404, {"error": "payment_not_found"})
        return self._v1_send(200, view)

    def _payment_by_id(self, pid, query):
        sim = self.server.sim
        if not self._only(query, ()):
            return
        with sim.lock:
            p = sim.payments.get(pid)
            view = sim._view(p) if p else None
        if view is None:
            return self._v1_send(404, {"error": "payment_not_found"})
        return self._v1_send(200, view)

    # -- accounts --

    def _account_or_error(self, iban):
        sim = self.server.sim
        if not iban_valid(iban):
            self._v1_send(400, {"error": "invalid_field", "field": "iban",
                                "message": "not a valid IBAN"})
            return False
        with sim.lock:
            known = iban in sim.accounts
        if not known:
            self._v1_send(404, {"error": "account_not_found"})
            return False
        return True

    def _balances(self, iban, query):
        sim = self.server.sim
        if not self._only(query, ()) or not self._account_or_error(iban):
            return
        with sim.lock:
            bals = sim._balances_locked(iban)
        return self._v1_send(200, {"account": iban, "balances": bals})

    def _transactions(self, iban, query):
        sim = self.server.sim
        if not self._only(query, ("from", "to", "cursor", "limit")):
            return

        def bad(code, field, msg):
            return self._v1_send(400, {"error": code, "field": field,
                                       "message": msg})
        days = {}
        for k in ("from", "to"):
            if k not in query:
                return bad("missing_field", k, "required")
            days[k] = parse_date(query[k])
            if days[k] is None:
                return bad("invalid_field", k, "not a date YYYY-MM-DD")
        if days["from"] > days["to"]:
            return bad("invalid_field", "to", "before from")
        limit = sim.page_size
        if "limit" in query:
            if not re.fullmatch(r"[1-9][0-9]{0,3}", query["limit"]) or \
                    int(query["limit"]) > MAX_LIMIT:
                return bad("invalid_field", "limit",
                           "an integer 1-%d" % MAX_LIMIT)
            limit = int(query["limit"])
        if not self._account_or_error(iban):
            return
        after = None
        if "cursor" in query:
            after = sim._cursor_open(query["cursor"], iban, query["from"],
                                     query["to"])
            if after is None:
                return self._v1_send(400, {"error": "invalid_cursor",
                                           "message": "cursor altered or "
                                           "not for this query"})
        with sim.lock:
            rows = sim._entries_locked(iban, days["from"], days["to"], after)
        page = rows[:limit]
        nxt = None
        if len(rows) > limit:
            last = page[-1]
            nxt = sim._cursor_make(iban, query["from"], query["to"],
                                   (last["booking_date"], last["seq"]))
        return self._v1_send(200, {
            "account": iban,
            "transactions": [sim._entry_view(e) for e in page],
            "next_cursor": nxt})


class AdminHandler(http.server.BaseHTTPRequestHandler):
    server_version = "bank-openapi-admin/1"

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            self.server.sim.log("admin %s" % (fmt % args))

    def _send(self, status, obj):
        body = jdump(obj)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        sim = self.server.sim
        p = urlsplit(self.path).path
        if p == "/admin/faults":
            return self._send(200, sim.faults_state())
        if p == "/admin/arrivals":
            return self._send(200, sim.arrivals())
        if p == "/admin/ledger":
            return self._send(200, sim.ledger())
        if p == "/admin/payments":
            return self._send(200, sim.payments_list())
        if p == "/admin/bills":
            return self._send(200, sim.bills_state())
        if p == "/admin/scf":
            return self._send(200, sim.scf_state())
        if p == "/admin/requests":
            return self._send(200, sim.requests_log())
        return self._send(404, {"error": "not_found"})

    def do_POST(self):
        sim = self.server.sim
        p = urlsplit(self.path).path
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(n, 16 << 20)) if n else b""
        try:
            obj = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            if not isinstance(obj, dict):
                raise ValueError("body must be a JSON object")
            if p == "/admin/faults":
                return self._send(200, sim.set_faults(**obj))
            if p == "/admin/reset":
                sim.reset()
                return self._send(200, {"ok": True})
            if p == "/admin/date":
                if set(obj) - {"today"}:
                    raise ValueError("only 'today'")
                sim.set_today(obj.get("today"))
                return self._send(200, {"today": sim.today().isoformat()})
            if p == "/admin/entries":
                if set(obj) != {"entries"}:
                    raise ValueError("only 'entries'")
                return self._send(200, {"entries": sim.add_entries(
                    obj["entries"])})
            hooks = {"/admin/settings": sim.set_settings,
                     "/admin/bills/pool": sim.set_pool,
                     "/admin/bills/counterparty": sim.bill_counterparty,
                     "/admin/bills/present": sim.bill_present,
                     "/admin/scf/review": sim.scf_review,
                     "/admin/scf/vouchers": sim.voucher_hook}
            if p in hooks:
                return self._send(200, hooks[p](**obj))
        except Refusal as e:
            return self._send(409, e.body())
        except HookError as e:
            return self._send(e.status, {"error": e.error,
                                         "message": e.message})
        except (ValueError, TypeError) as e:
            return self._send(400, {"error": "invalid_request",
                                    "message": str(e)})
        return self._send(404, {"error": "not_found"})


FAULT_DEFAULTS = {"latency_ms": 0, "http_500_next": 0,
                  "timeout_after_create_next": 0, "timeout_mode": "hold",
                  "timeout_hold_s": 60.0, "bad_response_signature_next": 0,
                  "replay_last_response_next": 0}


class BankSim(BillsScfBank):
    """The simulator; start() serves, stop() ends. See the module text."""

    def __init__(self, state_dir, cert, key, ca, client_id, sign_cert,
                 sign_key, client_cn, client_secret=None,
                 client_secret_file=None, client_sign_ca=None,
                 client_sign_cert=None, seed=None, page_size=50,
                 token_ttl=300, max_amount=None, lifetime=900, port=0,
                 admin_port=0, opening_balance="1000000", no_overdraft=False,
                 today=None, verbose=False, log=None,
                 bank_code=DEFAULT_BANK_CODE, customer_name=DEFAULT_CUSTOMER,
                 pool_id=DEFAULT_POOL_ID, auto_sign_ms=None):
        if (client_sign_ca is None) == (client_sign_cert is None):
            raise ValueError("give exactly one of client_sign_ca, "
                             "client_sign_cert")
        if client_secret is None:
            if client_secret_file is None:
                raise ValueError("client secret missing")
            with open(client_secret_file, encoding="utf-8") as f:
                client_secret = f.read()
            if client_secret.endswith("\n"):
                client_secret = client_secret[:-1]
            if client_secret.endswith("\r"):
                client_secret = client_secret[:-1]
        if not client_secret:
            raise ValueError("empty client secret")
        if not (1 <= int(page_size) <= MAX_LIMIT):
            raise ValueError("page size 1-%d" % MAX_LIMIT)
        for fn in (cert, key, ca, sign_cert, sign_key,
                   client_sign_ca or client_sign_cert):
            if not os.path.isfile(fn):
                raise ValueError("no such file: %s" % fn)
        self.state_dir = state_dir
        self.cert, self.key, self.ca = cert, key, ca
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_cn = client_cn
        self.client_sign_ca = client_sign_ca
        self.client_sign_cert = client_sign_cert
        self.signer = Signer(sign_cert, sign_key)
        self.seed_file = seed
        self.page_size = int(page_size)
        self.token_ttl = int(token_ttl)
        self.max_amount = Decimal(str(max_amount)) \
            if max_amount is not None else None
        self.lifetime = lifetime
        self.want_port, self.want_admin_port = port, admin_port
        self.opening_balance = Decimal(str(opening_balance))
        self.no_overdraft = no_overdraft
        self.today_override = parse_date(today) if isinstance(today, str) \
            else today
        self.verbose = verbose
        self._log = log
        self.lock = threading.RLock()
        self._arr_lock = threading.Lock()
        self._stopping = threading.Event()
        self.stopped = threading.Event()
        self._conns = set()
        self.tokens = {}
        self.faults = dict(FAULT_DEFAULTS)
        self.last_response = None
        self.port = self.admin_port = None
        os.makedirs(state_dir, exist_ok=True)
        self.state_file = os.path.join(state_dir, "state.json")
        self.arrivals_file = os.path.join(state_dir, "arrivals.jsonl")
        kf = os.path.join(state_dir, "cursor.key")
        if not os.path.exists(kf):
            atomic_write(kf, secrets.token_bytes(32))
        with open(kf, "rb") as f:
            self.cursor_key = f.read()
        self.seed = self._load_seed(seed) if seed else {"accounts": [],
                                                        "entries": []}
        self._bs_init(bank_code, customer_name, pool_id, auto_sign_ms)
        self._load_state()

    def log(self, msg):
        if self._log:
            self._log(msg)
        else:
            print("bank_openapi: %s" % msg, file=sys.stderr, flush=True)

    # -- state --

    def _fresh_state(self):
        self.payments = {}
        self.idem = {}
        self.accounts = {}
        self.entries = []
        self.next_seq = 1
        self._bs_fresh()
        for a in self.seed["accounts"]:
            self.accounts.setdefault(a["iban"], {})[a["currency"]] = \
                a["opening_balance"]
        for e in self.seed["entries"]:
            self._book_locked(**e)

    def _load_state(self):
        with self.lock:
            if not os.path.exists(self.state_file):
                self._fresh_state()
                self._save_locked()
                return
            with open(self.state_file, encoding="utf-8") as f:
                st = json.load(f)
            self.payments = st["payments"]
            self.idem = st["idem"]
            self.accounts = {a: {c: Decimal(v) for c, v in cs.items()}
                             for a, cs in st["accounts"].items()}
            self.entries = []
            for e in st["entries"]:
                e = dict(e)
                e["amount"] = Decimal(e["amount"])
                self.entries.append(e)
            self.next_seq = st["next_seq"]
            self._bs_load(st)
            if st.get("today_override"):
                self.today_override = parse_date(st["today_override"])

    def _save_locked(self):
        st = {"payments": self.payments, "idem": self.idem,
              "accounts": {a: {c: str(v) for c, v in cs.items()}
                           for a, cs in self.accounts.items()},
              "entries": [dict(e, amount=str(e["amount"]))
                          for e in self.entries],
              "next_seq": self.next_seq,
              "today_override": self.today_override.isoformat()
              if self.today_override else None}
        st.update(self._bs_dump())
        atomic_write(self.state_file, json.dumps(st).encode())

    def _load_seed(self, fn):
        with open(fn, encoding="utf-8") as f:
            s = json.load(f)
        if not isinstance(s, dict) or set(s) - {"accounts", "entries"}:
            raise ValueError("seed: an object with accounts and entries")
        out = {"accounts": [], "entries": []}
        for i, a in enumerate(s.get("accounts", [])):
            if set(a) - {"iban", "currency", "opening_balance"} or \
                    not iban_valid(a.get("iban")) or \
                    a.get("currency") not in CCY_EXP:
                raise ValueError("seed account %d: iban, currency, "
                                 "opening_balance" % i)
            ob = a.get("opening_balance", str(self.opening_balance))
            d = Decimal(ob) if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?",
                                            str(ob)) else None
            if d is None:
                raise ValueError("seed account %d: opening_balance" % i)
            out["accounts"].append({"iban": a["iban"],
                                    "currency": a["currency"],
                                    "opening_balance": d})
        out["entries"] = [self._check_entry(e, "seed entry %d" % i)
                          for i, e in enumerate(s.get("entries", []))]
        return out

    @staticmethod
    def _check_entry(e, what):
        allowed = {"account", "booking_date", "value_date", "amount",
                   "currency", "credit_debit", "end_to_end_id",
                   "counterparty_name", "counterparty_account",
                   "remittance_information", "bank_reference"}
        if not isinstance(e, dict) or set(e) - allowed:
            raise ValueError("%s: unknown members %s" % (
                what, sorted(set(e) - allowed) if isinstance(e, dict) else e))
        if not iban_valid(e.get("account")):
            raise ValueError("%s: account not an IBAN" % what)
        bd = parse_date(e.get("booking_date"))
        vd = parse_date(e.get("value_date", e.get("booking_date")))
        if bd is None or vd is None:
            raise ValueError("%s: booking_date/value_date" % what)
        ccy = e.get("currency")
        if ccy not in CCY_EXP:
            raise ValueError("%s: currency" % what)
        amt, why = parse_amount(e.get("amount"), ccy)
        if why:
            raise ValueError("%s: amount: %s" % (what, why))
        cd = e.get("credit_debit")
        if cd not in ("CRDT", "DBIT"):
            raise ValueError("%s: credit_debit CRDT|DBIT" % what)
        for k in ("end_to_end_id", "counterparty_name",
                  "counterparty_account", "remittance_information",
                  "bank_reference"):
            if e.get(k) is not None and not isinstance(e[k], str):
                raise ValueError("%s: %s must be a string" % (what, k))
        return {"account": e["account"], "booking_date": bd,
                "value_date": vd, "currency": ccy,
                "amount": amt if cd == "CRDT" else -amt,
                "end_to_end_id": e.get("end_to_end_id"),
                "counterparty_name": e.get("counterparty_name"),
                "counterparty_account": e.get("counterparty_account"),
                "remittance_information": e.get("remittance_information"),
                "bank_reference": e.get("bank_reference")}

    def today(self):
        return self.today_override or \
            dt.datetime.now(dt.timezone.utc).date()

    def _open_locked(self, iban, ccy):
        cs = self.accounts.setdefault(iban, {})
        if ccy not in cs:
            cs[ccy] = self.opening_balance

    def _book_locked(self, account, booking_date, value_date, currency,
                     amount, end_to_end_id=None, counterparty_name=None,
                     counterparty_account=None, remittance_information=None,
                     bank_reference=None, payment_id=None):
        self._open_locked(account, currency)
        seq = self.next_seq
        self.next_seq += 1
        e = {"seq": seq, "entry_id": "E%010d" % seq, "account": account,
             "booking_date": booking_date.isoformat(),
             "value_date": value_date.isoformat(), "currency": currency,
             "amount": Decimal(amount), "end_to_end_id": end_to_end_id,
             "counterparty_name": counterparty_name,
             "counterparty_account": counterparty_account,
             "remittance_information": remittance_information,
             "bank_reference": bank_reference or "BR%010d" % seq,
             "payment_id": payment_id}
        self.entries.append(e)
        return e

    def _available_locked(self, iban, ccy, day):
        cs = self.accounts.get(iban, {})
        bal = cs.get(ccy, self.opening_balance)
        d = day.isoformat()
        for e in self.entries:
            if e["account"] == iban and e["currency"] == ccy and \
                    e["booking_date"] <= d:
                bal += e["amount"]
        return bal

    def _execute_locked(self, p, day):
        """Book an accepted payment on day; -> None or RJCT reason."""
        r = p["request"]
        ccy = r["currency"]
        amt = Decimal(r["amount"])
        if self.no_overdraft and \
                self._available_locked(r["debtor_account"], ccy, day) - amt \
                < 0:
            return "AM04"
        pid = p["payment_id"]
        self._book_locked(r["debtor_account"], day, day, ccy, -amt,
                          r["end_to_end_id"], r["creditor_name"],
                          r["creditor_account"],
                          r["remittance_information"], pid, pid)
        if r["creditor_account"] in self.accounts:
            self._book_locked(r["creditor_account"], day, day, ccy, amt,
                              r["end_to_end_id"], None, r["debtor_account"],
                              r["remittance_information"], pid, pid)
        p["booking_date"] = day.isoformat()
        return None

    def _create_locked(self, key, sha, pay):
        today = self.today()
        pid = "pay_" + secrets.token_hex(12)
        req = {"end_to_end_id": pay["end_to_end_id"],
               "amount": str(pay["amount"]), "currency": pay["currency"],
               "debtor_account": pay["debtor_account"],
               "creditor_account": pay["creditor_account"],
               "creditor_name": pay["creditor_name"],
               "creditor_bic": pay["creditor_bic"],
               "remittance_information": pay["remittance_information"],
               "requested_execution_date":
                   pay["requested_execution_date"].isoformat()
                   if pay["requested_execution_date"] else None}
        p = {"payment_id": pid, "status": None, "status_reason": None,
             "end_to_end_id": pay["end_to_end_id"], "created_at": rfc3339(),
             "idempotency_key": key, "body_sha256": sha, "request": req,
             "execution_date": None, "booking_date": None}
        reason = None
        if pay["currency"] not in CCY_EXP:
            reason = "AM03"
        elif not iban_valid(pay["creditor_account"]):
            reason = "AC01"
        elif self.max_amount is not None and pay["amount"] > self.max_amount:
            reason = "AM02"
        if reason is None:
            ex = pay["requested_execution_date"]
            ex = today if ex is None or ex < today else ex
            p["execution_date"] = ex.isoformat()
            if ex > today:
                p["status"] = "PDNG"
            else:
                reason = self._execute_locked(p, today)
        if reason:
            p["status"], p["status_reason"] = "RJCT", reason
        elif p["status"] is None:
            p["status"] = "ACCP"
        p["response"] = jdump({"payment_id": pid, "status": p["status"],
                               "status_reason": p["status_reason"],
                               "end_to_end_id": p["end_to_end_id"]}
                              ).decode("utf-8")
        self.payments[pid] = p
        self.idem[key] = pid
        self._save_locked()
        return p

    def _settle_locked(self):
        today = self.today()
        changed = False
        for p in self.payments.values():
            if p["status"] == "PDNG" and \
                    parse_date(p["execution_date"]) <= today:
                reason = self._execute_locked(
                    p, parse_date(p["execution_date"]))
                p["status"] = "RJCT" if reason else "ACCP"
                p["status_reason"] = reason
                changed = True
        if changed:
            self._save_locked()

    @staticmethod
    def _view(p):
        return {"payment_id": p["payment_id"], "status": p["status"],
                "status_reason": p["status_reason"],
                "end_to_end_id": p["end_to_end_id"],
                "created_at": p["created_at"]}

    def _balances_locked(self, iban):
        today = self.today()
        out = []
        for ccy in sorted(self.accounts[iban]):
            closing = self._available_locked(iban, ccy,
                                             today - dt.timedelta(days=1))
            interim = self._available_locked(iban, ccy, today)
            out.append({"type": "closingBooked",
                        "amount": {"amount": fmt_amount(closing, ccy),
                                   "currency": ccy},
                        "date": (today - dt.timedelta(days=1)).isoformat()})
            out.append({"type": "interimAvailable",
                        "amount": {"amount": fmt_amount(interim, ccy),
                                   "currency": ccy},
                        "date": today.isoformat()})
        return out

    def _entries_locked(self, iban, d_from, d_to, after):
        f, t = d_from.isoformat(), d_to.isoformat()
        rows = [e for e in self.entries if e["account"] == iban and
                f <= e["booking_date"] <= t and
                (after is None or (e["booking_date"], e["seq"]) >
                 (after[0], after[1]))]
        rows.sort(key=lambda e: (e["booking_date"], e["seq"]))
        return rows

    @staticmethod
    def _entry_view(e):
        return {"entry_id": e["entry_id"], "booking_date": e["booking_date"],
                "value_date": e["value_date"],
                "amount": {"amount": fmt_amount(e["amount"], e["currency"]),
                           "currency": e["currency"]},
                "credit_debit": "CRDT" if e["amount"] > 0 else "DBIT",
                "end_to_end_id": e["end_to_end_id"],
                "counterparty_name": e["counterparty_name"],
                "counterparty_account": e["counterparty_account"],
                "remittance_information": e["remittance_information"],
                "bank_reference": e["bank_reference"]}

    def _cursor_make(self, iban, f, t, after):
        payload = jdump({"a": iban, "f": f, "t": t, "k": list(after)})
        mac = hmac.new(self.cursor_key, payload, hashlib.sha256).digest()
        return b64u(payload) + "." + b64u(mac)

    def _cursor_open(self, cur, iban, f, t):
        try:
            p64, _, m64 = cur.partition(".")
            payload, mac = b64u_dec(p64), b64u_dec(m64)
            want = hmac.new(self.cursor_key, payload, hashlib.sha256).digest()
            if not hmac.compare_digest(mac, want):
                return None
            c = json.loads(payload)
            if (c["a"], c["f"], c["t"]) != (iban, f, t):
                return None
            k = c["k"]
            if not (isinstance(k, list) and len(k) == 2 and
                    isinstance(k[0], str) and isinstance(k[1], int)):
                return None
            return (k[0], k[1])
        except (ValueError, KeyError, TypeError):
            return None

    def _append_arrival(self, rec, kind="payments"):
        line = json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n"
        fn = self.arrivals_file if kind == "payments" else \
            self.requests_file
        with self._arr_lock:
            with open(fn, "a", encoding="utf-8") as f:
                f.write(line)

    def _conns_add(self, s):
        with self.lock:
            self._conns.add(s)

    def _conns_del(self, s):
        with self.lock:
            self._conns.discard(s)

    # -- public API --

    def arrivals(self):
        with self._arr_lock:
            try:
                with open(self.arrivals_file, encoding="utf-8") as f:
                    return [json.loads(x) for x in f if x.strip()]
            except FileNotFoundError:
                return []

    def count_arrivals(self, end_to_end_id=None, outcome=None,
                       idempotency_key=None):
        n = 0
        for a in self.arrivals():
            if end_to_end_id is not None and \
                    a["end_to_end_id"] != end_to_end_id:
                continue
            if outcome is not None and a["outcome"] != outcome:
                continue
            if idempotency_key is not None and \
                    a["idempotency_key"] != idempotency_key:
                continue
            n += 1
        return n

    def duplicates(self):
        """end_to_end_ids with more than one `created` arrival."""
        seen = {}
        for a in self.arrivals():
            if a["outcome"] == "created":
                seen[a["end_to_end_id"]] = seen.get(a["end_to_end_id"], 0) + 1
        return sorted(k for k, v in seen.items() if v > 1)

    def ledger(self):
        with self.lock:
            self._settle_locked()
            self._bs_tick_locked()
            out = []
            for iban in sorted(self.accounts):
                out.append({
                    "iban": iban,
                    "opening": {c: fmt_amount(v, c) for c, v in
                                sorted(self.accounts[iban].items())},
                    "entries": [dict(self._entry_view(e), seq=e["seq"],
                                     payment_id=e["payment_id"])
                                for e in self.entries
                                if e["account"] == iban]})
            return {"today": self.today().isoformat(), "accounts": out}

    def payments_list(self):
        with self.lock:
            self._settle_locked()
            return [dict(self._view(p), idempotency_key=p["idempotency_key"],
                         body_sha256=p["body_sha256"],
                         execution_date=p["execution_date"],
                         booking_date=p["booking_date"],
                         request=p["request"])
                    for p in sorted(self.payments.values(),
                                    key=lambda p: p["created_at"])]

    def faults_state(self):
        with self.lock:
            return dict(self.faults)

    def set_faults(self, **kw):
        ints = ("latency_ms", "http_500_next", "timeout_after_create_next",
                "bad_response_signature_next", "replay_last_response_next")
        known = set(ints) | {"timeout_mode", "timeout_hold_s",
                             "expire_tokens", "clear"}
        bad = sorted(set(kw) - known)
        if bad:
            raise ValueError("unknown fault %s" % ", ".join(bad))
        for k in ints:
            if k in kw and (not isinstance(kw[k], int) or
                            isinstance(kw[k], bool) or kw[k] < 0):
                raise ValueError("%s: an integer >= 0" % k)
        if "timeout_mode" in kw and \
                kw["timeout_mode"] not in ("hold", "close", "reset"):
            raise ValueError("timeout_mode: hold, close or reset")
        if "timeout_hold_s" in kw and (
                not isinstance(kw["timeout_hold_s"], (int, float)) or
                isinstance(kw["timeout_hold_s"], bool) or
                kw["timeout_hold_s"] < 0):
            raise ValueError("timeout_hold_s: a number >= 0")
        with self.lock:
            if kw.get("clear"):
                self.faults = dict(FAULT_DEFAULTS)
            for k in ints + ("timeout_mode",):
                if k in kw:
                    self.faults[k] = kw[k]
            if "timeout_hold_s" in kw:
                self.faults["timeout_hold_s"] = float(kw["timeout_hold_s"])
            if kw.get("expire_tokens"):
                self.tokens.clear()
            return dict(self.faults)

    def expire_tokens(self):
        self.set_faults(expire_tokens=True)

    def set_today(self, day):
        d = parse_date(day) if isinstance(day, str) else day
        if day is not None and not isinstance(d, dt.date):
            raise ValueError("today: YYYY-MM-DD or null")
        with self.lock:
            self.today_override = d
            self._settle_locked()
            self._bs_tick_locked()
            self._save_locked()

    def add_entries(self, entries):
        if not isinstance(entries, list):
            raise ValueError("entries: a list")
        checked = [self._check_entry(e, "entry %d" % i)
                   for i, e in enumerate(entries)]
        with self.lock:
            out = [self._entry_view(self._book_locked(**e)) for e in checked]
            self._save_locked()
        return out

    def reset(self):
        with self.lock:
            self.faults = dict(FAULT_DEFAULTS)
            self.last_response = None
            self.today_override = None
            self.settings = dict(self.settings_defaults)
            self._fresh_state()
            self._save_locked()
        with self._arr_lock:
            open(self.arrivals_file, "w").close()
            open(self.requests_file, "w").close()

    def _tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        ctx.load_verify_locations(cafile=self.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def start(self):
        self.api = TLSServer(("127.0.0.1", self.want_port), ApiHandler, self,
                             self._tls_context())
        self.admin = AdminServer(("127.0.0.1", self.want_admin_port),
                                 AdminHandler, self)
        self.port = self.api.server_address[1]
        self.admin_port = self.admin.server_address[1]
        self._threads = [
            threading.Thread(target=self.api.serve_forever,
                             kwargs={"poll_interval": 0.1}, daemon=True),
            threading.Thread(target=self.admin.serve_forever,
                             kwargs={"poll_interval": 0.1}, daemon=True)]
        for t in self._threads:
            t.start()
        if self.lifetime:
            self._timer = threading.Timer(self.lifetime, self.stop)
            self._timer.daemon = True
            self._timer.start()
        return self

    def stop(self):
        if self._stopping.is_set():
            self.stopped.wait(10)
            return
        self._stopping.set()
        if getattr(self, "_timer", None) and \
                threading.current_thread() is not self._timer:
            self._timer.cancel()
        for srv in (getattr(self, "api", None), getattr(self, "admin", None)):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                socket.socket.shutdown(c, socket.SHUT_RDWR)
            except OSError:
                pass
        self.stopped.set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


OpenApiBank = BankSim


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="JSON open-banking REST API simulator (mTLS, OAuth2, "
                    "CMS-signed requests and responses)")
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="server key (PEM)")
    ap.add_argument("--ca", required=True, help="CA for client certificates")
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--client-secret-file", required=True)
    ap.add_argument("--client-cn", required=True,
                    help="CN of the client's TLS certificate")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--client-sign-ca",
                   help="CA the client's signing certificate chains to")
    g.add_argument("--client-sign-cert",
                   help="the client's signing certificate (pinned)")
    ap.add_argument("--sign-cert", required=True,
                    help="bank's response signing certificate")
    ap.add_argument("--sign-key", required=True)
    ap.add_argument("--state", required=True, help="state directory")
    ap.add_argument("--seed", help="JSON seed file (accounts, entries)")
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--token-ttl", type=int, default=300)
    ap.add_argument("--max-amount")
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--admin-port", type=int, default=0)
    ap.add_argument("--opening-balance", default="1000000")
    ap.add_argument("--no-overdraft", action="store_true")
    ap.add_argument("--today", help="bank date YYYY-MM-DD (default: UTC)")
    ap.add_argument("--bank-code", default=DEFAULT_BANK_CODE,
                    help="this bank's 12-digit CNAPS code (bills, scf)")
    ap.add_argument("--customer-name", default=DEFAULT_CUSTOMER,
                    help="the client enterprise's name (bills, scf)")
    ap.add_argument("--pool-id", default=DEFAULT_POOL_ID,
                    help="the client's bill pool agreement")
    ap.add_argument("--auto-sign-ms", type=int, default=None,
                    help="counterparties sign our pending bill and voucher "
                         "operations after this many ms (default: never)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.max_amount is not None and \
                not re.fullmatch(r"[0-9]+(\.[0-9]+)?", a.max_amount):
            raise ValueError("--max-amount: a decimal number")
        if a.today is not None and parse_date(a.today) is None:
            raise ValueError("--today: YYYY-MM-DD")
        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", a.opening_balance):
            raise ValueError("--opening-balance: a decimal number")
        if a.auto_sign_ms is not None and a.auto_sign_ms < 0:
            raise ValueError("--auto-sign-ms: >= 0")
        sim = BankSim(
            state_dir=a.state, cert=a.cert, key=a.key, ca=a.ca,
            client_id=a.client_id, client_secret_file=a.client_secret_file,
            client_cn=a.client_cn, client_sign_ca=a.client_sign_ca,
            client_sign_cert=a.client_sign_cert, sign_cert=a.sign_cert,
            sign_key=a.sign_key, seed=a.seed, page_size=a.page_size,
            token_ttl=a.token_ttl, max_amount=a.max_amount,
            lifetime=a.lifetime, port=a.port, admin_port=a.admin_port,
            opening_balance=a.opening_balance, no_overdraft=a.no_overdraft,
            today=a.today, verbose=a.verbose, bank_code=a.bank_code,
            customer_name=a.customer_name, pool_id=a.pool_id,
            auto_sign_ms=a.auto_sign_ms)
        sim.start()
    except (ValueError, OSError, ssl.SSLError, KeyError) as e:
        print("bank_openapi: %s" % e, file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        threading.Thread(target=sim.stop, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("LISTEN %d" % sim.port, flush=True)
    print("ADMIN %d" % sim.admin_port, flush=True)
    while not sim.stopped.wait(0.5):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
