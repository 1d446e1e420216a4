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
(RFC 6749 3.2). scope: a space-separated subset of "payments accounts"
(default: both). Answers (RFC 6749 5.1/5.2, `Cache-Control: no-store`):
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
(/v1/payments...) or "accounts" (/v1/accounts/...) -> 403
{"error": "insufficient_scope"}. Authorization comes before routing: only
an authorized caller learns 404 {"error": "not_found"} (unknown /v1 path)
or 405 {"error": "method_not_allowed"} with `Allow`. Unknown or repeated
query parameters -> 400 {"error": "invalid_field", "field": <name>}.
X-Request-Signature is only read on POST /v1/payments.

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
                     then send nothing
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
                      override dropped. Tokens stay valid.

10. Seed file (--seed), applied when the state directory holds no state
-----------------------------------------------------------------------
  {"accounts": [{"iban", "currency", "opening_balance": "-?[0-9.]+"}],
   "entries": [{"account", "booking_date", "value_date" (default
     booking_date), "amount" (unsigned, the currency's digits),
     "currency", "credit_debit": "CRDT"|"DBIT", "end_to_end_id",
     "counterparty_name", "counterparty_account",
     "remittance_information", "bank_reference" (these five optional)}]}
State: <state>/state.json (payments, keys, ledger, bank date; replaced
atomically on every change), <state>/arrivals.jsonl, <state>/cursor.key.
A restart keeps them; tokens are lost.

CLI
---
  bank_openapi.py --cert F --key F --ca F --client-id ID
      --client-secret-file F --client-cn CN
      (--client-sign-ca F | --client-sign-cert F) --sign-cert F --sign-key F
      --state DIR [--seed F] [--page-size 50] [--token-ttl 300]
      [--max-amount X] [--lifetime 900] [--port 0] [--admin-port 0]
      [--opening-balance 1000000] [--no-overdraft] [--today YYYY-MM-DD]
      [-v]
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
      no_overdraft=False, today=None, port=0, admin_port=0).start()
  bank.port, bank.admin_port; bank.set_faults(**same members as above);
  bank.arrivals(); bank.count_arrivals(end_to_end_id=, outcome=,
  idempotency_key=); bank.duplicates(); bank.ledger(); bank.payments_list();
  bank.add_entries([...]); bank.set_today(date | None); bank.reset();
  bank.expire_tokens(); bank.stop()   (also a context manager)
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
SCOPES = ("payments", "accounts")

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


class ApiHandler(http.server.BaseHTTPRequestHandler):
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
                           "scope is a subset of 'payments accounts'")
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
        self.arrival = None
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
        self.server.sim._append_arrival(rec)
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
        sigs = self.headers.get_all("X-Request-Signature") or []
        why = None
        if len(sigs) != 1:
            why = "X-Request-Signature required once"
        else:
            s = sigs[0].strip()
            try:
                if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", s) or \
                        len(s) % 4:
                    raise ValueError
                der = base64.b64decode(s, validate=True)
            except ValueError:
                der = None
                why = "X-Request-Signature is not base64"
            if der is not None:
                why = verify_detached(body, der, sim.client_sign_ca,
                                      sim.client_sign_cert)
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
        except (ValueError, TypeError) as e:
            return self._send(400, {"error": "invalid_request",
                                    "message": str(e)})
        return self._send(404, {"error": "not_found"})


FAULT_DEFAULTS = {"latency_ms": 0, "http_500_next": 0,
                  "timeout_after_create_next": 0, "timeout_mode": "hold",
                  "timeout_hold_s": 60.0, "bad_response_signature_next": 0,
                  "replay_last_response_next": 0}


class BankSim:
    """The simulator; start() serves, stop() ends. See the module text."""

    def __init__(self, state_dir, cert, key, ca, client_id, sign_cert,
                 sign_key, client_cn, client_secret=None,
                 client_secret_file=None, client_sign_ca=None,
                 client_sign_cert=None, seed=None, page_size=50,
                 token_ttl=300, max_amount=None, lifetime=900, port=0,
                 admin_port=0, opening_balance="1000000", no_overdraft=False,
                 today=None, verbose=False, log=None):
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

    def _append_arrival(self, rec):
        line = json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n"
        with self._arr_lock:
            with open(self.arrivals_file, "a", encoding="utf-8") as f:
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
            self._fresh_state()
            self._save_locked()
        with self._arr_lock:
            open(self.arrivals_file, "w").close()

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
        sim = BankSim(
            state_dir=a.state, cert=a.cert, key=a.key, ca=a.ca,
            client_id=a.client_id, client_secret_file=a.client_secret_file,
            client_cn=a.client_cn, client_sign_ca=a.client_sign_ca,
            client_sign_cert=a.client_sign_cert, sign_cert=a.sign_cert,
            sign_key=a.sign_key, seed=a.seed, page_size=a.page_size,
            token_ttl=a.token_ttl, max_amount=a.max_amount,
            lifetime=a.lifetime, port=a.port, admin_port=a.admin_port,
            opening_balance=a.opening_balance, no_overdraft=a.no_overdraft,
            today=a.today, verbose=a.verbose)
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
