#!/usr/bin/python3
"""A Chinese bank-enterprise direct-connect front end (银企直连前置机), for
h2hd's tests, configured by the same profile file as h2hd's cnbank_xml
adapter (adapters/cnbank_xml/PROFILE.md is the contract; etc/cnbank/ holds
the two shipped profiles).

An independent implementation: Debian's /usr/bin/python3 with its standard
library and python3-lxml, and the `openssl` CLI for CMS signing and
verification. Nothing here imports or calls h2hd's C code. It is strict on
purpose: what PROFILE.md says a bank refuses, it refuses, with the bank's
code and a message naming the field.

What it does with a request (PROFILE.md has the details)
-------------------------------------------------------
framing http: HTTPS POST (TLS >= 1.2, client certificate required, signed
by --ca); framing tcp: plain TCP on 127.0.0.1, the profile's fixed-width
decimal length prefix, one request per connection. Then:
  1. decode in the profile's encoding: the XML declaration must name it
     (and an HTTP charset parameter too); bytes that do not decode are
     refused (errors.format);
  2. parse with lxml (no network, no entities, no DTD; DOCTYPE refused);
     root, function code at the {function} header path, every element and
     attribute checked against the profile (missing, repeated, unexpected,
     fixed values) -> errors.format;
  3. request signature where the profile puts it (CMS detached, SHA-256,
     over the exact bytes PROFILE.md defines; `openssl cms -verify`
     against --client-sign-ca, or pinned to --client-sign-cert)
     -> errors.signature;
  4. {login} / {user} -> errors.login;
  5. the function: values validated (account digits 10-30, amount in the
     profile's unit, names, lengths, dates, count/total) -> errors.invalid;
     accounts not ours -> errors.account;
  6. payments and payroll: the serial is the idempotency key (same content
     -> the original result, `replayed`; other content -> errors.duplicate,
     `conflict`); created ones are `pending` and become final after
     --settle-ms (rejected if the creditor account is --closed, else
     finished and booked in the ledger);
  7. the answer in the profile's encoding with the header echo, return
     code and message, results, signed where the profile says (--sign-cert
     / --sign-key).

Arrival log: <state>/arrivals.jsonl, one JSON line per request:
  {"time", "seq", "function" (payment, ...; null if unknown), "code"
   (function code as sent or null), "serial", "request_id", "outcome",
   "ret_code", "error", "fault", "bank_ref", "status"}
outcome: created | replayed | conflict | rejected (refused: format, login,
invalid, account) | bad_signature | not_found | busy | ok (inquiries) |
dropped (fault drop_next) | fault_replay (fault replay_last_response_next).
A serial with `created` twice would be a duplicate (never happens: the
simulator refuses it); `replayed` counts resends.

Faults (admin port, POST /admin/faults, JSON; counters count requests):
  latency_ms                  every answer waits this long after processing
  busy_next: N                next N parsed requests: the busy code, nothing
                              done
  timeout_after_create_next: N  next N payment/payroll requests that CREATE
                              an instruction create it, then send nothing:
                              timeout_mode "hold" (keep the connection open
                              until the client closes it or timeout_hold_s)
                              or "close" (close at once)
  bad_response_signature_next: N  next N answers carry a valid bank
                              signature over other bytes
  replay_last_response_next: N  next N requests are not processed; the last
                              genuine answer is sent again, byte for byte
                              (processed normally while there is none)
  garbage_next: N             next N requests are processed, but the answer
                              is bytes that do not decode in the encoding
                              (still framed; signed with header signatures)
  drop_next: N                next N requests are read, not processed, and
                              the connection is closed without an answer
  clear: true                 all faults off first
GET /admin/faults | /admin/arrivals | /admin/ledger | /admin/payments;
POST /admin/reset (fresh bank: faults off, instructions, ledger re-seeded,
arrival log emptied); POST /admin/entries {"entries": [seed entry...]}
books entries now; POST /admin/settings {"settle_ms", "page_size",
"closed"} changes those.

Seed (--seed FILE, JSON; applied when the state directory has no state):
  {"accounts": [{"account", "currency" ("CNY"), "name", "opening_balance"
   ("1000000.00", yuan)}], "closed": ["6222..."],
   "entries": [{"account", "booking_date" (YYYY-MM-DD), "amount" (yuan,
   unsigned), "credit_debit" ("C"|"D"), "counterparty_name",
   "counterparty_account", "counterparty_bank", "remittance"}]}
Without --seed every account gets 8 incoming credits with Chinese names
and remittance texts, booked on the 8 days before today.

CLI
---
  bank_cn.py --profile FILE --state DIR [--login L] [--user U]
      [--accounts A [A ...]] [--cert F --key F --ca F] [--sign-cert F
      --sign-key F] [--client-sign-cert F | --client-sign-ca F] [--seed F]
      [--closed A [A ...]] [--page-size 20] [--settle-ms 1000]
      [--lifetime 900] [--port 0] [--admin-port 0] [-v]
Prints `LISTEN <port>` and `ADMIN <port>` when ready; stops on SIGTERM /
SIGINT or after --lifetime seconds (exit 0); exit 2 on bad arguments, an
invalid profile (every problem as file:line: message) or missing files.

Python
------
  sim = BankCN(profile="etc/cnbank/cmb-style.profile", state_dir=d,
               cert=..., key=..., ca=..., sign_cert=..., sign_key=...,
               client_sign_ca=...).start()
  sim.port, sim.admin_port, sim.set_faults(busy_next=1), sim.arrivals(),
  sim.count_arrivals(serial=, outcome=), sim.ledger(), sim.payments_list(),
  sim.add_entries([...]), sim.reset(), sim.stop()
  Profile(path) alone validates a profile (ProfileError lists problems).

Bill pool and supply-chain finance (the optional function families of
PROFILE.md): the JSON bank's desk (bank_openapi.BillsScfBank) is reused;
_BillsDoor below only translates requests and answers. Its admin hooks
(bills_state, scf_state, bill_counterparty, bill_present, set_pool,
bills_settings, scf_review, voucher_hook, set_bank_date,
bs_requests_list) are on the admin port too; tests/sims/README.md lists
them. --bank-code sets this bank's CNAPS code (the desk's "us").
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
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from decimal import Decimal

from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bank_openapi as desk  # noqa: E402  the bill pool / SCF desk

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import libconf  # noqa: E402

OPENSSL = "openssl"
MAX_MESSAGE = 1 << 20
CODECS = {"GBK": "gbk", "GB18030": "gb18030", "GB2312": "gb2312",
          "UTF-8": "utf-8"}
ISO_OK = ("ACSC", "ACCP", "ACTC")
ISO_ALL = ("PDNG", "RJCT") + ISO_OK

# -------------------------------------------------------------------------
# The profile

COMMON_TOKENS = {"login", "user", "request_id", "date", "time"}
HEADER_TOKENS = COMMON_TOKENS | {"function"}
FUNC_TOKENS = {
    "payment": {"serial", "debtor_account", "debtor_name",
                "creditor_account", "creditor_name", "creditor_bank",
                "amount", "currency", "currency_code", "remittance"},
    "payment_status": {"serial"},
    "payroll": {"serial", "debtor_account", "debtor_name", "currency",
                "currency_code", "count", "total"},
    "payroll_result": {"serial"},
    "balance": {"account"},
    "transactions": {"account", "from", "to", "page"},
    "receipts": {"account", "from", "to", "page"},
    "receipt_download": {"receipt_id"},
    # the optional families (PROFILE.md "Bill pool and supply-chain
    # finance"): a family is complete or absent
    "bill_operation": {"serial", "bill_op", "draft_no", "sub_from",
                       "sub_to", "amount", "our_account", "draft_kind",
                       "issue_date", "maturity_date", "transferable",
                       "divisible", "cpty_name", "cpty_account",
                       "cpty_bank", "acceptor_name", "acceptor_account",
                       "acceptor_bank", "payee_name", "payee_account",
                       "payee_bank", "rate", "op_date", "pool_id",
                       "notice_id", "overdue", "reason", "memo"},
    "bill_query": {"serial"},
    "bill_drafts": {"draft_status", "maturity_from", "maturity_to", "page"},
    "bill_notices": {"page"},
    "bill_pool": set(),
    "bill_history": {"draft_no"},
    "scf_financing": {"serial", "financing_kind", "our_account", "amount",
                      "currency", "currency_code", "value_date", "product",
                      "agreement_ref", "contract_ref", "count", "total",
                      "memo"},
    "scf_query": {"serial"},
    "scf_cancel": {"serial", "orig_serial", "reason"},
    "voucher_operation": {"serial", "voucher_op", "voucher_id", "amount",
                          "our_account", "cpty_name", "cpty_account",
                          "cpty_bank", "maturity_date", "reason", "memo"},
    "voucher_query": {"serial"},
    "voucher_list": {"holder", "page"},
}
BASE_FUNCS = ("payment", "payment_status", "payroll", "payroll_result",
              "balance", "transactions", "receipts", "receipt_download")
# family -> (its functions, the optional ones among them, its tables)
FAMILIES = {
    "bills": (("bill_operation", "bill_query", "bill_drafts",
               "bill_notices", "bill_pool", "bill_history"),
              ("bill_history",),
              ("bill_ops", "draft_kinds", "draft_status_map")),
    "scf": (("scf_financing", "scf_query", "scf_cancel",
             "voucher_operation", "voucher_query", "voucher_list"), (),
            ("financing_kinds", "financing_status_map", "voucher_ops",
             "voucher_status_map")),
}
FAMILY_OF = {f: fam for fam, (fs, o, t) in FAMILIES.items() for f in fs}
SHARED_TABLES = ("request_results", "yes_no")    # either family needs them
# value tables: every one of h2hd's names (formats/bill.h, formats/scf.h)
TABLE_NAMES = {
    "bill_ops": ("issue", "present_acceptance", "present_receipt",
                 "endorse", "discount", "pledge", "release",
                 "present_payment", "recourse", "withdraw", "sign",
                 "refuse"),
    "draft_kinds": ("AC01", "AC02"),
    "draft_status_map": (
        "registered", "pending_acceptance", "accepted", "pending_receipt",
        "delivered", "held", "pending_endorsement", "endorsed",
        "pending_discount", "discounted", "pending_pledge", "pledged",
        "pending_release", "pending_payment", "paid", "dishonoured",
        "pending_recourse", "recourse_settled", "withdrawn", "refused",
        "liable"),
    "request_results": ("accepted", "pending", "rejected"),
    "financing_kinds": ("receivable", "reverse_factoring"),
    "financing_status_map": ("submitted", "under_review", "approved",
                             "rejected", "financed", "repaid", "cancelled"),
    "voucher_ops": ("issue", "sign", "refuse", "withdraw", "transfer",
                    "finance", "settle"),
    "voucher_status_map": ("pending", "held", "financed", "settled",
                           "refused", "withdrawn"),
}
ITEM_TOKENS = {"item_no", "creditor_account", "creditor_name",
               "creditor_bank", "amount", "remittance"}
SCF_ITEM_TOKENS = {"item_no", "invoice_no", "tax_code", "invoice_amount",
                   "invoice_issue_date", "invoice_due_date", "buyer_name",
                   "seller_name", "seller_account"}
ITEM_TOKENS_OF = {"payroll": ITEM_TOKENS, "scf_financing": SCF_ITEM_TOKENS}
ALL_TOKENS = HEADER_TOKENS | ITEM_TOKENS | SCF_ITEM_TOKENS | \
    set().union(*FUNC_TOKENS.values())
REQUIRED_TOKENS = {
    "payment": ({"serial", "debtor_account", "creditor_account",
                 "creditor_name", "amount"}, {"currency", "currency_code"}),
    "payment_status": ({"serial"}, None),
    "payroll": ({"serial", "debtor_account"}, {"currency", "currency_code"}),
    "payroll_result": ({"serial"}, None),
    "balance": ({"account"}, None),
    "transactions": ({"account", "from", "to", "page"}, None),
    "receipts": ({"account", "from", "to", "page"}, None),
    "receipt_download": ({"receipt_id"}, None),
    "bill_operation": ({"serial", "bill_op", "draft_no", "sub_from",
                        "sub_to", "amount", "our_account", "cpty_name",
                        "cpty_account", "cpty_bank", "draft_kind",
                        "issue_date", "maturity_date", "acceptor_name",
                        "acceptor_account", "acceptor_bank", "payee_name",
                        "payee_account", "payee_bank", "rate", "op_date",
                        "pool_id", "notice_id", "reason"}, None),
    "bill_query": ({"serial"}, None),
    "bill_history": ({"draft_no"}, None),
    "bill_drafts": ({"draft_status", "maturity_from", "maturity_to",
                     "page"}, None),
    "bill_notices": ({"page"}, None),
    "bill_pool": (set(), None),
    "scf_financing": ({"serial", "financing_kind", "our_account", "amount",
                       "count"}, {"currency", "currency_code"}),
    "scf_query": ({"serial"}, None),
    "scf_cancel": ({"serial", "orig_serial", "reason"}, None),
    "voucher_operation": ({"serial", "voucher_op", "voucher_id", "amount",
                           "our_account", "cpty_name", "cpty_account",
                           "cpty_bank", "maturity_date", "reason"}, None),
    "voucher_query": ({"serial"}, None),
    "voucher_list": ({"page"}, None),
}
REQUIRED_ITEM_TOKENS = {
    "payroll": {"item_no", "creditor_account", "creditor_name", "amount"},
    "scf_financing": {"item_no", "invoice_no", "invoice_amount",
                      "invoice_issue_date", "invoice_due_date",
                      "buyer_name"}}
PAGED_FUNCS = ("transactions", "receipts", "bill_drafts", "bill_notices",
               "voucher_list")
OPTIONAL_EMPTY = {"creditor_bank", "remittance"}

# result keys: (required, optional)
RESULT_KEYS = {
    "payment": ({"serial", "status", "bank_ref"}, {"reason"}),
    "payment_status": ({"serial", "status"}, {"bank_ref", "reason",
                                              "amount"}),
    "payroll": ({"serial", "status"}, {"bank_ref", "reason"}),
    "payroll_result": ({"serial", "status", "items", "item"},
                       {"bank_ref"}),
    "balance": ({"account", "balance"}, {"name", "currency", "available"}),
    "transactions": ({"items", "item"}, {"next", "more"}),
    "receipts": ({"items", "item"}, {"next", "more"}),
    "receipt_download": ({"content"}, {"receipt_id", "name"}),
    "bill_operation": ({"serial", "status", "items", "item"},
                       {"reason_code", "reason", "bank_ref"}),
    "bill_query": ({"serial", "status", "items", "item"},
                   {"reason_code", "reason", "bank_ref"}),
    "bill_drafts": ({"items", "item"}, {"next", "more"}),
    "bill_notices": ({"items", "item"}, {"next", "more"}),
    "bill_history": ({"items", "item"}, set()),
    "bill_pool": ({"pool_id", "as_of", "pledged_count", "pledged_total",
                   "deposit", "quota_total", "quota_used",
                   "quota_available"}, set()),
    "scf_financing": ({"serial", "status"},
                      {"reason_code", "reason", "bank_ref"}),
    "scf_cancel": ({"serial", "status"},
                   {"reason_code", "reason", "bank_ref"}),
    "scf_query": ({"serial", "status"},
                  {"reason_code", "reason", "bank_ref", "approved_amount",
                   "rate", "value_date", "maturity_date", "interest",
                   "loan_ref", "financed_amount", "financed_date",
                   "repaid_principal", "repaid_interest", "repaid_date",
                   "items", "item"}),
    "voucher_operation": ({"serial", "status", "items", "item"},
                          {"reason_code", "reason", "bank_ref"}),
    "voucher_query": ({"serial", "status", "items", "item"},
                      {"reason_code", "reason", "bank_ref"}),
    "voucher_list": ({"items", "item"}, {"next", "more"}),
}
DRAFT_ROW = ({"draft_no", "draft_kind", "amount", "issue_date",
              "maturity_date", "drawer_name", "drawer_bank",
              "acceptor_name", "acceptor_bank", "payee_name", "payee_bank",
              "draft_status", "transferable", "divisible", "sub_from",
              "sub_to"},
             {"drawer_account", "acceptor_account", "payee_account",
              "holder_name", "holder_account", "holder_bank",
              "face_amount"})
VOUCHER_ROW = ({"voucher_id", "root_id", "level", "issuer_name",
                "holder_name", "amount", "remaining", "issue_date",
                "maturity_date", "voucher_status"},
               {"parent_id", "issuer_account", "holder_account",
                "holder_bank", "transferor_name", "financed_amount",
                "loan_ref", "settled_date"})
RESULT_ITEM_KEYS = {
    "payroll_result": ({"item_no", "status"},
                       {"creditor_account", "creditor_name", "amount",
                        "reason"}),
    "transactions": ({"entry_id", "booking_date", "amount", "credit_debit",
                      "debit_value", "credit_value", "counterparty_name",
                      "counterparty_account", "remittance", "serial"},
                     {"value_date", "currency", "counterparty_bank",
                      "bank_ref"}),
    "receipts": ({"receipt_id", "entry_id", "booking_date", "amount"},
                 {"serial", "credit_debit", "debit_value", "credit_value",
                  "counterparty_name"}),
    "bill_operation": DRAFT_ROW,
    "bill_query": DRAFT_ROW,
    "bill_drafts": DRAFT_ROW,
    "bill_notices": (DRAFT_ROW[0] | {"notice_id", "notice_kind",
                                     "from_name", "from_bank",
                                     "received_date"},
                     DRAFT_ROW[1] | {"from_account", "claim_amount",
                                     "reason"}),
    "bill_history": ({"event_date", "event_op", "event", "draft_status",
                      "sub_from", "sub_to", "amount"},
                     {"from_name", "to_name"}),
    "scf_query": ({"invoice_no", "result"}, {"financed_amount", "reason"}),
    "voucher_operation": VOUCHER_ROW,
    "voucher_query": VOUCHER_ROW,
    "voucher_list": VOUCHER_ROW,
}
VALUE_KEYS = {"debit_value", "credit_value"}   # values, not paths
FUNC_KEYS = {"code", "request", "header", "result"}
FUNC_EXTRA_KEYS = {"payroll": {"items", "item"},
                   "scf_financing": {"items", "item"},
                   "receipt_download": {"content_encoding"}}
TOP_KEYS = {"profile_version", "name", "description", "encoding", "framing",
            "http", "length", "amount_unit", "date_format", "time_format",
            "utc_offset", "currency_codes", "limits", "envelope", "response",
            "signature", "paging", "functions", "status_map"} | \
    set(TABLE_NAMES) | {"yes_no"}
ERROR_KEYS = ("format", "signature", "login", "invalid", "duplicate",
              "account")
LIMIT_KEYS = ("serial", "name", "remittance", "bank_name", "batch_items")

SEG_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
TOKEN_RE = re.compile(r"\{([^{}]*)\}")


class ProfileError(ValueError):
    """Every problem of a profile, one "file:line: message" per line."""


def split_path(path):
    """'A/B/@c' -> (['A', 'B'], 'c'); '' -> ([], None). Raises ValueError."""
    if path == "":
        return [], None
    parts = path.split("/")
    attr = None
    if parts[-1].startswith("@"):
        attr = parts.pop()[1:]
        if not SEG_RE.fullmatch(attr):
            raise ValueError("bad attribute name in path %r" % path)
    for p in parts:
        if not SEG_RE.fullmatch(p):
            raise ValueError("bad path %r (element names [A-Za-z_]"
                             "[A-Za-z0-9_.-]* separated by '/')" % path)
    if attr is not None and not parts:
        raise ValueError("attribute path %r needs an element" % path)
    return parts, attr


def template_tokens(tmpl):
    """Token names in a template, in order. Raises ValueError."""
    out = [m.group(1) for m in TOKEN_RE.finditer(tmpl)]
    rest = TOKEN_RE.sub("", tmpl)
    if "{" in rest or "}" in rest:
        raise ValueError("unbalanced '{' or '}' in template %r" % tmpl)
    return out


FMT_PARTS = {"Y": (r"[0-9]{4}", "year"), "m": (r"[0-9]{2}", "month"),
             "d": (r"[0-9]{2}", "day"), "H": (r"[0-9]{2}", "hour"),
             "M": (r"[0-9]{2}", "minute"), "S": (r"[0-9]{2}", "second")}


def fmt_regex(fmt):
    """strftime subset -> (regex source with named groups, directives)."""
    out, seen, i = [], [], 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%":
            if i + 1 >= len(fmt):
                raise ValueError("format %r ends with '%%'" % fmt)
            d = fmt[i + 1]
            if d == "%":
                out.append("%")
            elif d in FMT_PARTS:
                if d in seen:
                    raise ValueError("format %r repeats %%%s" % (fmt, d))
                seen.append(d)
                out.append("(?P<%s>%s)" % (FMT_PARTS[d][1], FMT_PARTS[d][0]))
            else:
                raise ValueError("format %r: only %%Y %%m %%d %%H %%M %%S "
                                 "%%%% are allowed" % fmt)
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out), seen


class Fn:
    """One function of a profile."""

    def __init__(self, name):
        self.name = name
        self.code = None
        self.header = {}          # path -> template (overrides)
        self.request = []         # [(path, template)]
        self.items = None         # payroll: item element path
        self.item = []            # [(path, template)]
        self.result = {}          # key -> path
        self.result_items = None  # path
        self.result_item = {}     # key -> path or value
        self.content_encoding = None


class Profile:
    """A validated profile. Profile(path) raises ProfileError."""

    def __init__(self, path):
        self.path = path
        try:
            cfg, lines = libconf.load(path, with_lines=True)
        except libconf.ConfigError as e:
            raise ProfileError(str(e))
        except OSError as e:
            raise ProfileError("%s: %s" % (path, e.strerror))
        self._lines = lines
        self._problems = []
        self._load(cfg)
        if self._problems:
            raise ProfileError("\n".join(dict.fromkeys(self._problems)))

    # -- helpers --

    def _bad(self, where, msg):
        line = None
        w = tuple(where)
        while line is None and w is not None:
            line = self._lines.get(w)
            w = w[:-1] if w else None
        self._problems.append("%s:%d: %s" % (self.path, line or 1, msg))

    def _get(self, d, key, where, typ, required=True, default=None):
        w = tuple(where) + (key,)
        if key not in d:
            if required:
                self._bad(where, "%s: missing" % ".".join(map(str, w)))
            return default
        v = d[key]
        ok = isinstance(v, typ) and not (typ is int and isinstance(v, bool))
        if not ok:
            names = {str: "a string", int: "an integer", dict: "a group",
                     list: "a list", bool: "a boolean"}
            self._bad(w, "%s: must be %s" % (".".join(map(str, w)),
                                             names.get(typ, typ)))
            return default
        return v

    def _unknown(self, d, allowed, where):
        for k in d:
            if k not in allowed:
                self._bad(tuple(where) + (k,), "%s: unknown setting" %
                          ".".join(map(str, tuple(where) + (k,))))

    def _path(self, v, where, allow_attr=True, allow_empty=False):
        if v == "" and allow_empty:
            return v
        try:
            parts, attr = split_path(v)
            if not parts:
                raise ValueError("empty path")
            if attr and not allow_attr:
                raise ValueError("%r: an attribute is not allowed here" % v)
        except ValueError as e:
            self._bad(where, str(e))
            return None
        return v

    def _template(self, tmpl, where, allowed, what):
        try:
            toks = template_tokens(tmpl)
        except ValueError as e:
            self._bad(where, str(e))
            return []
        for t in toks:
            if t not in ALL_TOKENS:
                self._bad(where, "unknown token {%s} in %s" % (t, what))
            elif t not in allowed:
                self._bad(where, "token {%s} is not allowed in %s" % (t, what))
        return toks

    def _pairs(self, lst, where, allowed, what):
        out = []
        if not isinstance(lst, list):
            self._bad(where, "%s: must be a list of ( path, template )" % what)
            return out
        seen = set()
        for i, p in enumerate(lst):
            w = tuple(where) + (i,)
            if not (isinstance(p, list) and len(p) == 2 and
                    all(isinstance(x, str) for x in p)):
                self._bad(w, "%s: each entry must be ( \"path\", "
                          "\"template\" )" % what)
                continue
            path = self._path(p[0], w)
            toks = self._template(p[1], w, allowed, what)
            if path is None:
                continue
            if path in seen:
                self._bad(w, "%s: path %s appears twice" % (what, path))
                continue
            seen.add(path)
            out.append((path, p[1], toks))
        return out

    # -- loading --

    def _load(self, cfg):
        W = ()
        self._unknown(cfg, TOP_KEYS, W)
        v = self._get(cfg, "profile_version", W, int)
        if v is not None and v != 1:
            self._bad(("profile_version",), "profile_version: only 1 exists")
        self.name = self._get(cfg, "name", W, str, False,
                              os.path.basename(self.path))
        self._get(cfg, "description", W, str, False)
        enc = self._get(cfg, "encoding", W, str)
        if enc is not None and enc not in CODECS:
            self._bad(("encoding",), "encoding: one of %s" %
                      ", ".join(CODECS))
            enc = None
        self.encoding = enc or "UTF-8"
        self.codec = CODECS[self.encoding]
        fr = self._get(cfg, "framing", W, str)
        if fr is not None and fr not in ("http", "tcp"):
            self._bad(("framing",), "framing: http or tcp")
        self.framing = fr
        self.content_type = None
        self.length_digits = None
        if fr == "http":
            h = self._get(cfg, "http", W, dict, default={})
            self._unknown(h, {"content_type"}, ("http",))
            ct = self._get(h, "content_type", ("http",), str)
            if ct is not None:
                mt, params = parse_content_type(ct)
                if mt not in ("text/xml", "application/xml"):
                    self._bad(("http", "content_type"), "http.content_type: "
                              "text/xml or application/xml")
                cs = params.get("charset")
                if cs is not None and cs.upper() != self.encoding:
                    self._bad(("http", "content_type"), "http.content_type: "
                              "charset %s is not the encoding %s" %
                              (cs, self.encoding))
            self.content_type = ct
            if "length" in cfg:
                self._bad(("length",), "length: only with framing tcp")
        elif fr == "tcp":
            ln = self._get(cfg, "length", W, dict, default={})
            self._unknown(ln, {"digits", "counts"}, ("length",))
            d = self._get(ln, "digits", ("length",), int)
            if d is not None and not 4 <= d <= 10:
                self._bad(("length", "digits"), "length.digits: 4..10")
            self.length_digits = d or 6
            c = self._get(ln, "counts", ("length",), str)
            if c is not None and c != "bytes":
                self._bad(("length", "counts"), "length.counts: \"bytes\"")
            if "http" in cfg:
                self._bad(("http",), "http: only with framing http")
        au = self._get(cfg, "amount_unit", W, str)
        if au is not None and au not in ("yuan", "fen"):
            self._bad(("amount_unit",), "amount_unit: yuan or fen")
        self.amount_unit = au
        self.date_format = self._get(cfg, "date_format", W, str) or "%Y%m%d"
        self.time_format = self._get(cfg, "time_format", W, str) or "%H%M%S"
        try:
            src, seen = fmt_regex(self.date_format)
            if sorted(seen) != sorted("Ymd"):
                raise ValueError("date_format needs %Y %m %d and nothing "
                                 "else")
            self.date_re = re.compile(src)
        except ValueError as e:
            self._bad(("date_format",), str(e))
            self.date_re = re.compile(fmt_regex("%Y%m%d")[0])
        try:
            src, seen = fmt_regex(self.time_format)
            if sorted(seen) != sorted("HMS"):
                raise ValueError("time_format needs %H %M %S and nothing "
                                 "else")
            self.time_re = re.compile(src)
        except ValueError as e:
            self._bad(("time_format",), str(e))
            self.time_re = re.compile(fmt_regex("%H%M%S")[0])
        off = self._get(cfg, "utc_offset", W, str) or "+08:00"
        m = re.fullmatch(r"([+-])([01][0-9]|2[0-3]):([0-5][0-9])", off)
        if not m:
            self._bad(("utc_offset",), "utc_offset: +HH:MM or -HH:MM")
            self.tz = dt.timezone(dt.timedelta(hours=8))
        else:
            mins = int(m.group(2)) * 60 + int(m.group(3))
            self.tz = dt.timezone(dt.timedelta(
                minutes=mins if m.group(1) == "+" else -mins))

        cc = self._get(cfg, "currency_codes", W, list, default=[])
        self.ccy_to_code, self.code_to_ccy = {}, {}
        for i, p in enumerate(cc):
            w = ("currency_codes", i)
            if not (isinstance(p, list) and len(p) == 2 and
                    all(isinstance(x, str) for x in p)):
                self._bad(w, "currency_codes: each entry ( \"CNY\", "
                          "\"code\" )")
                continue
            if not re.fullmatch(r"[A-Z]{3}", p[0]) or not p[1]:
                self._bad(w, "currency_codes: ISO code [A-Z]{3} and a "
                          "non-empty bank code")
                continue
            if p[0] in self.ccy_to_code or p[1] in self.code_to_ccy:
                self._bad(w, "currency_codes: %s / %s listed twice" %
                          tuple(p))
                continue
            self.ccy_to_code[p[0]] = p[1]
            self.code_to_ccy[p[1]] = p[0]
        if not self.ccy_to_code:
            self._bad(("currency_codes",), "currency_codes: at least CNY")

        lim = self._get(cfg, "limits", W, dict, default={})
        self._unknown(lim, LIMIT_KEYS, ("limits",))
        self.limits = {}
        for k in LIMIT_KEYS:
            v = self._get(lim, k, ("limits",), int, default=30)
            hi = 30 if k == "serial" else (10000 if k == "batch_items"
                                           else 1000)
            if v is not None and not 1 <= v <= hi:
                self._bad(("limits", k), "limits.%s: 1..%d" % (k, hi))
            self.limits[k] = v

        self._load_envelope(cfg)
        self._load_response(cfg)
        self._load_signature(cfg)
        self._load_paging(cfg)
        self._load_functions(cfg)
        self._load_status_map(cfg)
        self._load_tables(cfg)
        self._check_sig_names()

    def _load_tables(self, cfg):
        """The value tables of the bill / SCF families: ( h2hd name, the
        bank's value ), every name present, both sides unique."""
        self.tables, self.rtables = {}, {}
        fams = getattr(self, "families", set())
        want = set()
        for fam in fams:
            want.update(FAMILIES[fam][2])
        if fams:
            want.update(SHARED_TABLES)
        for t in sorted(set(TABLE_NAMES) | {"yes_no"}):
            if t not in want:
                if t in cfg:
                    self._bad((t,), "%s: only with the functions of its "
                              "family (%s)" % (t, " or ".join(
                                  sorted(f for f, x in FAMILIES.items()
                                         if t in x[2]) or ["bills", "scf"])))
                continue
            if t not in cfg:
                self._bad((), "%s: missing (needed by the %s functions)" %
                          (t, " and ".join(sorted(fams))))
                continue
            lst = cfg[t]
            if t == "yes_no":
                if not (isinstance(lst, list) and len(lst) == 2 and
                        all(isinstance(x, str) and x for x in lst) and
                        lst[0] != lst[1]):
                    self._bad((t,), "yes_no: ( \"yes value\", \"no value\" ),"
                              " two different non-empty strings")
                    continue
                self.yes_no = (lst[0], lst[1])
                continue
            fwd, back = {}, {}
            if not isinstance(lst, list):
                self._bad((t,), "%s: a list of ( name, value ) pairs" % t)
                continue
            for i, p in enumerate(lst):
                w = (t, i)
                if not (isinstance(p, list) and len(p) == 2 and
                        all(isinstance(x, str) and x for x in p)):
                    self._bad(w, "%s: each entry ( \"name\", \"value\" ), "
                              "non-empty strings" % t)
                    continue
                if p[0] not in TABLE_NAMES[t]:
                    self._bad(w, "%s: %r is not one of %s" %
                              (t, p[0], " ".join(TABLE_NAMES[t])))
                    continue
                if p[0] in fwd or p[1] in back:
                    self._bad(w, "%s: %s / %s listed twice" % (t, p[0], p[1]))
                    continue
                fwd[p[0]], back[p[1]] = p[1], p[0]
            miss = [n for n in TABLE_NAMES[t] if n not in fwd]
            if miss:
                self._bad((t,), "%s: missing %s" % (t, " ".join(miss)))
            self.tables[t], self.rtables[t] = fwd, back

    def _check_sig_names(self):
        """A signature element is found by its bytes: its name must not
        name any other element of a request or an answer."""
        names = {self.root}
        paths = [p for p, t, k in self.header] + [self.code_path or "",
                                                   self.message_path or "",
                                                   self.body,
                                                   self.response_body]
        for fn in self.functions.values():
            paths += [p for p, t, k in fn.request] + \
                [p for p, t, k in fn.item] + [fn.items or ""] + \
                list(fn.result.values()) + [fn.result_items or ""] + \
                [v for k, v in fn.result_item.items()
                 if k not in VALUE_KEYS]
        for p in paths:
            names.update(x for x in p.split("/") if x and
                         not x.startswith("@"))
        for where, el in (("element", self.sig_element),
                          ("response_element", self.rsig_element)):
            if el and el.split("/")[-1] in names:
                self._bad(("signature", where), "signature.%s: the name "
                          "%s is used by another element; it must be unique "
                          "in the message" % (where, el.split("/")[-1]))

    def _load_envelope(self, cfg):
        W = ("envelope",)
        env = self._get(cfg, "envelope", (), dict, default={})
        self._unknown(env, {"root", "header", "body", "response_body"}, W)
        root = self._get(env, "root", W, str) or "ROOT"
        if not SEG_RE.fullmatch(root):
            self._bad(W + ("root",), "envelope.root: an element name")
        self.root = root
        hdr = self._get(env, "header", W, list, default=[])
        self.header = self._pairs(hdr, W + ("header",), HEADER_TOKENS,
                                  "envelope.header")
        fpaths = [p for p, t, toks in self.header if "function" in toks]
        if len(fpaths) != 1 or \
                [t for p, t, toks in self.header if p == fpaths[0]] != \
                ["{function}"]:
            self._bad(W + ("header",), "envelope.header: exactly one entry "
                      "must be ( path, \"{function}\" )")
        self.function_path = fpaths[0] if fpaths else None
        if not any("login" in toks for p, t, toks in self.header):
            self._bad(W + ("header",), "envelope.header: {login} missing")
        b = self._get(env, "body", W, str, default="")
        self.body = self._path(b, W + ("body",), False, True) or ""
        rb = self._get(env, "response_body", W, str, default="")
        self.response_body = self._path(rb, W + ("response_body",), False,
                                        True) or ""

    def _load_response(self, cfg):
        W = ("response",)
        r = self._get(cfg, "response", (), dict, default={})
        self._unknown(r, {"code", "message", "echo", "ok", "busy",
                          "not_found", "errors"}, W)
        self.code_path = self._path(self._get(r, "code", W, str) or "X",
                                    W + ("code",))
        self.message_path = self._path(self._get(r, "message", W, str) or
                                       "X", W + ("message",))
        hpaths = {p for p, t, k in self.header}
        self.echo = []
        for i, e in enumerate(self._get(r, "echo", W, list, default=[])):
            if not isinstance(e, str) or e not in hpaths:
                self._bad(W + ("echo", i), "response.echo: %r is not a path "
                          "of envelope.header" % (e,))
            else:
                self.echo.append(e)
        codes = {}
        for k in ("ok", "busy", "not_found"):
            lst = self._get(r, k, W, list, default=[])
            if not lst or not all(isinstance(x, str) and x for x in lst):
                self._bad(W + (k,), "response.%s: a list of one or more "
                          "non-empty strings" % k)
                lst = ["?" + k]
            setattr(self, "codes_" + k, list(lst))
            for c in lst:
                if c in codes:
                    self._bad(W + (k,), "response: code %r is both %s and %s"
                              % (c, codes[c], k))
                codes[c] = k
        er = self._get(r, "errors", W, dict, default={})
        self._unknown(er, ERROR_KEYS, W + ("errors",))
        self.errors = {}
        for k in ERROR_KEYS:
            c = self._get(er, k, W + ("errors",), str, default="?" + k)
            if c in codes:
                self._bad(W + ("errors", k), "response.errors.%s: code %r is "
                          "also %s" % (k, c, codes[c]))
            codes[c] = "errors." + k
            self.errors[k] = c
        for p in (self.code_path, self.message_path):
            if p in hpaths:
                self._bad(W, "response: %s is a request header path" % p)

    def _load_signature(self, cfg):
        W = ("signature",)
        s = self._get(cfg, "signature", (), dict, default={})
        self._unknown(s, {"where", "header", "element", "response",
                          "response_header", "response_element"}, W)
        for k, hk, ek in (("where", "header", "element"),
                          ("response", "response_header",
                           "response_element")):
            v = self._get(s, k, W, str, default="none")
            if v not in ("http-header", "element", "none"):
                self._bad(W + (k,), "signature.%s: http-header, element or "
                          "none" % k)
                v = "none"
            if v == "http-header" and self.framing != "http":
                self._bad(W + (k,), "signature.%s: http-header needs "
                          "framing http" % k)
            h = e = None
            if v == "http-header":
                h = self._get(s, hk, W, str)
                if h is not None and not re.fullmatch(r"[A-Za-z0-9-]+", h):
                    self._bad(W + (hk,), "signature.%s: a header name" % hk)
            elif hk in s:
                self._bad(W + (hk,), "signature.%s: only with %s = "
                          "\"http-header\"" % (hk, k))
            if v == "element":
                e = self._path(self._get(s, ek, W, str) or "X", W + (ek,),
                               allow_attr=False)
                if e in {p for p, t, x in self.header}:
                    self._bad(W + (ek,), "signature.%s: %s is a header "
                              "path" % (ek, e))
            elif ek in s:
                self._bad(W + (ek,), "signature.%s: only with %s = "
                          "\"element\"" % (ek, k))
            if k == "where":
                self.sig_where, self.sig_header, self.sig_element = v, h, e
            else:
                self.rsig_where, self.rsig_header, self.rsig_element = v, h, e

    def _load_paging(self, cfg):
        W = ("paging",)
        p = self._get(cfg, "paging", (), dict, default={})
        st = self._get(p, "style", W, str, default="token")
        if st not in ("token", "page"):
            self._bad(W + ("style",), "paging.style: token or page")
            st = "token"
        self.paging = st
        if st == "page":
            self._unknown(p, {"style", "first", "more_value", "last_value"},
                          W)
            self.page_first = self._get(p, "first", W, int, default=1)
            if self.page_first is not None and self.page_first < 0:
                self._bad(W + ("first",), "paging.first: 0 or more")
            self.more_value = self._get(p, "more_value", W, str, default="1")
            self.last_value = self._get(p, "last_value", W, str, default="0")
            if self.more_value == self.last_value:
                self._bad(W, "paging: more_value and last_value must differ")
        else:
            self._unknown(p, {"style"}, W)

    def _load_functions(self, cfg):
        W = ("functions",)
        fs = self._get(cfg, "functions", (), dict, default={})
        self._unknown(fs, FUNC_TOKENS, W)
        self.functions = {}
        self.by_code = {}
        hpaths = {p for p, t, k in self.header}
        self.families = set()
        for fam, (names, optional, tables) in FAMILIES.items():
            have = [n for n in names if n in fs]
            if not have:
                continue
            self.families.add(fam)
            miss = [n for n in names if n not in fs and n not in optional]
            if miss:
                self._bad(W + (have[0],), "functions: the %s family is "
                          "incomplete: %s missing (a family is complete or "
                          "absent)" % (fam, ", ".join(miss)))
        for name in FUNC_TOKENS:
            if name not in fs:
                if name in BASE_FUNCS:
                    self._bad(W, "functions.%s: missing" % name)
                continue
            d = fs[name]
            fw = W + (name,)
            if not isinstance(d, dict):
                self._bad(fw, "functions.%s: must be a group" % name)
                continue
            fn = Fn(name)
            self._unknown(d, FUNC_KEYS | FUNC_EXTRA_KEYS.get(name, set()), fw)
            fn.code = self._get(d, "code", fw, str)
            if fn.code is not None:
                if not fn.code or fn.code in self.by_code:
                    self._bad(fw + ("code",), "functions.%s.code: empty or "
                              "used twice" % name)
                self.by_code[fn.code] = fn
            allowed = COMMON_TOKENS | FUNC_TOKENS[name]
            for p, t, toks in self._pairs(d.get("header", []),
                                          fw + ("header",), allowed,
                                          "functions.%s.header" % name):
                if p not in hpaths:
                    self._bad(fw + ("header",), "functions.%s.header: %s is "
                              "not a path of envelope.header" % (name, p))
                elif p == self.function_path:
                    self._bad(fw + ("header",), "functions.%s.header: the "
                              "{function} entry cannot be replaced" % name)
                fn.header[p] = (t, toks)
            req = self._get(d, "request", fw, list, default=[])
            fn.request = self._pairs(req, fw + ("request",), allowed,
                                     "functions.%s.request" % name)
            used = set()
            for p, t, toks in self.merged_header(fn):
                used.update(toks)
            for p, t, toks in fn.request:
                used.update(toks)
            if name in ITEM_TOKENS_OF:
                fn.items = self._path(self._get(d, "items", fw, str) or "X",
                                      fw + ("items",), allow_attr=False)
                it = self._get(d, "item", fw, list, default=[])
                fn.item = self._pairs(it, fw + ("item",), COMMON_TOKENS |
                                      ITEM_TOKENS_OF[name],
                                      "functions.%s.item" % name)
                iused = set()
                for p, t, toks in fn.item:
                    iused.update(toks)
                miss = REQUIRED_ITEM_TOKENS[name] - iused
                if miss:
                    self._bad(fw + ("item",), "functions.%s.item: "
                              "missing %s" % (name, " ".join(
                                  "{%s}" % x for x in sorted(miss))))
            need, one_of = REQUIRED_TOKENS[name]
            miss = need - used
            if miss:
                self._bad(fw + ("request",), "functions.%s: request lacks %s"
                          % (name, " ".join("{%s}" % x for x in sorted(miss))))
            if one_of and not (one_of & used):
                self._bad(fw + ("request",), "functions.%s: request needs "
                          "one of %s" % (name, " ".join(
                              "{%s}" % x for x in sorted(one_of))))
            self._check_tree(fn, fw)
            if name == "receipt_download":
                ce = self._get(d, "content_encoding", fw, str)
                if ce is not None and ce != "base64":
                    self._bad(fw + ("content_encoding",), "functions."
                              "receipt_download.content_encoding: base64")
                fn.content_encoding = ce
            res = self._get(d, "result", fw, dict, default={})
            self._load_result(fn, res, fw + ("result",))
            self.functions[name] = fn

    def _load_result(self, fn, res, rw):
        need, opt = RESULT_KEYS[fn.name]
        if fn.name in PAGED_FUNCS:
            need = need | ({"next"} if self.paging == "token" else {"more"})
            opt = opt - {"next", "more"}
        self._unknown(res, need | opt, rw)
        for k in sorted(need):
            if k not in res:
                self._bad(rw, "%s: %s missing" % (".".join(rw[1:]), k))
        leafs = []
        for k, v in res.items():
            if k not in need | opt:
                continue
            if k == "item":
                if not isinstance(v, dict):
                    self._bad(rw + (k,), "result.item: must be a group")
                    continue
                ineed, iopt = RESULT_ITEM_KEYS[fn.name]
                self._unknown(v, ineed | iopt, rw + (k,))
                for ik in sorted(ineed):
                    if ik not in v:
                        self._bad(rw + (k,), "result.item: %s missing" % ik)
                ileafs = []
                for ik, iv in v.items():
                    if ik not in ineed | iopt:
                        continue
                    if not isinstance(iv, str):
                        self._bad(rw + (k, ik), "result.item.%s: a string" %
                                  ik)
                        continue
                    if ik in VALUE_KEYS:
                        fn.result_item[ik] = iv
                        continue
                    p = self._path(iv, rw + (k, ik))
                    if p:
                        fn.result_item[ik] = p
                        ileafs.append((p, rw + (k, ik)))
                if "credit_debit" in v and ("debit_value" not in v or
                                            "credit_value" not in v or
                                            v.get("debit_value") ==
                                            v.get("credit_value")):
                    self._bad(rw + (k,), "result.item: credit_debit needs "
                              "two different debit_value and credit_value")
                self._check_leafs(ileafs)
                continue
            if not isinstance(v, str):
                self._bad(rw + (k,), "result.%s: a path string" % k)
                continue
            p = self._path(v, rw + (k,), allow_attr=(k != "items"))
            if p:
                if k == "items":
                    fn.result_items = p
                else:
                    fn.result[k] = p
                    leafs.append((p, rw + (k,)))
        if fn.result_items:
            for p, w in leafs:
                if p == fn.result_items or \
                        p.startswith(fn.result_items + "/"):
                    self._bad(w, "result: %s is inside the items element" % p)
        self._check_leafs(leafs)

    def _check_leafs(self, leafs):
        """No path may be both a value and the parent of another."""
        paths = {}
        for p, w in leafs:
            if p in paths:
                self._bad(w, "path %s used twice" % p)
            paths[p] = w
        for p, w in leafs:
            for q in paths:
                if q.startswith(p + "/") and not q.startswith(p + "/@"):
                    self._bad(w, "%s has a value and also children (%s)" %
                              (p, q))

    def _check_tree(self, fn, fw):
        """The whole request tree must be consistent (no leaf with kids)."""
        leafs = []
        for p, t, toks in self.merged_header(fn):
            leafs.append((p, fw))
        base = self.body + "/" if self.body else ""
        for p, t, toks in fn.request:
            leafs.append((base + p, fw + ("request",)))
        if fn.items:
            for p, t, toks in fn.item:
                leafs.append((base + fn.items + "/" + p, fw + ("item",)))
        if self.sig_element:
            leafs.append((self.sig_element, ("signature",)))
        self._check_leafs(leafs)

    def _load_status_map(self, cfg):
        W = ("status_map",)
        sm = self._get(cfg, "status_map", (), list, default=[])
        self.status_map = {}
        self.status_value = {}
        for i, p in enumerate(sm):
            w = W + (i,)
            if not (isinstance(p, list) and len(p) == 2 and
                    all(isinstance(x, str) for x in p)):
                self._bad(w, "status_map: each entry ( \"VALUE\", \"ISO\" )")
                continue
            v, iso = p
            if iso not in ISO_ALL:
                self._bad(w, "status_map: %s is not one of %s" %
                          (iso, " ".join(ISO_ALL)))
                continue
            if v in self.status_map or not v:
                self._bad(w, "status_map: value %r empty or twice" % v)
                continue
            self.status_map[v] = iso
            kind = ("pending" if iso == "PDNG" else
                    "rejected" if iso == "RJCT" else "finished")
            self.status_value.setdefault(kind, v)
        for kind in ("pending", "finished", "rejected"):
            if kind not in self.status_value:
                self._bad(W, "status_map: no value maps to %s" %
                          {"pending": "PDNG", "finished": "ACSC or ACCP",
                           "rejected": "RJCT"}[kind])

    # -- use --

    def merged_header(self, fn):
        out = []
        for p, t, toks in self.header:
            if p in fn.header:
                t, toks = fn.header[p]
            out.append((p, t, toks))
        return out

    def fmt_date(self, d):
        return (self.date_format.replace("%%", "\0").replace(
            "%Y", "%04d" % d.year).replace("%m", "%02d" % d.month).replace(
            "%d", "%02d" % d.day).replace("\0", "%"))

    def parse_date(self, s):
        m = self.date_re.fullmatch(s)
        if not m:
            return None
        try:
            return dt.date(int(m.group("year")), int(m.group("month")),
                           int(m.group("day")))
        except ValueError:
            return None

    def parse_time(self, s):
        m = self.time_re.fullmatch(s)
        if not m:
            return None
        h, mi, se = (int(m.group(x)) for x in ("hour", "minute", "second"))
        return (h, mi, se) if h < 24 and mi < 60 and se < 60 else None

    def fmt_amount(self, fen, signed=False):
        neg = fen < 0
        fen = abs(int(fen))
        s = str(fen) if self.amount_unit == "fen" else \
            "%d.%02d" % (fen // 100, fen % 100)
        return ("-" + s) if neg and signed else s

    def parse_amount(self, s):
        """Amount text -> int fen > 0, or None."""
        if self.amount_unit == "fen":
            if not re.fullmatch(r"[1-9][0-9]{0,17}", s):
                return None
            return int(s)
        if not re.fullmatch(r"(0|[1-9][0-9]{0,15})\.[0-9]{2}", s):
            return None
        v = int(s.replace(".", ""))
        return v if v > 0 else None


def parse_content_type(ct):
    parts = [p.strip() for p in ct.split(";")]
    params = {}
    for p in parts[1:]:
        if "=" in p:
            k, v = p.split("=", 1)
            params[k.strip().lower()] = v.strip().strip('"')
    return parts[0].lower(), params


# -------------------------------------------------------------------------
# XML helpers (shared shape rules for building answers)

def xml_child(parent, name, create=True):
    for c in parent:
        if isinstance(c.tag, str) and c.tag == name:
            return c
    return etree.SubElement(parent, name) if create else None


def xml_set(base, path, value):
    parts, attr = split_path(path)
    el = base
    for p in parts:
        el = xml_child(el, p)
    if attr:
        el.set(attr, value)
    else:
        el.text = value
    return el


def xml_base(root, path):
    el = root
    for p in split_path(path)[0]:
        el = xml_child(el, p)
    return el


def xml_new_item(base, path):
    parts = split_path(path)[0]
    el = base
    for p in parts[:-1]:
        el = xml_child(el, p)
    return etree.SubElement(el, parts[-1])


# -------------------------------------------------------------------------
# CMS via the openssl CLI

OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")
OID_SHA256 = bytes.fromhex("608648016503040201")


def _tlv(buf, pos):
    if pos + 2 > len(buf):
        raise ValueError("truncated")
    tag, ln = buf[pos], buf[pos + 1]
    pos += 2
    if ln & 0x80:
        n = ln & 0x7F
        if not 1 <= n <= 4 or pos + n > len(buf):
            raise ValueError("bad length")
        ln = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + ln > len(buf):
        raise ValueError("truncated")
    return tag, pos, pos + ln


def _children(buf, s, e):
    out = []
    while s < e:
        t = _tlv(buf, s)
        out.append(t)
        s = t[2]
    return out


def cms_problem(der):
    """None for a DER CMS SignedData that is detached and uses SHA-256
    only; else what is wrong (openssl checks the rest)."""
    try:
        t, s, e = _tlv(der, 0)
        if t != 0x30 or e != len(der):
            return "not one DER SEQUENCE"
        ci = _children(der, s, e)
        if len(ci) != 2 or der[ci[0][1]:ci[0][2]] != OID_SIGNED_DATA or \
                ci[1][0] != 0xA0:
            return "not a CMS SignedData"
        sd = _children(der, *_children(der, ci[1][1], ci[1][2])[0][1:])
        if len(sd) < 4 or sd[1][0] != 0x31 or sd[2][0] != 0x30:
            return "malformed SignedData"

        def sha256(alg):
            k = _children(der, alg[1], alg[2])
            return bool(k) and der[k[0][1]:k[0][2]] == OID_SHA256
        if not all(sha256(a) for a in _children(der, sd[1][1], sd[1][2])):
            return "digest algorithm is not SHA-256"
        if len(_children(der, sd[2][1], sd[2][2])) != 1:
            return "not detached (content embedded)"
        return None
    except (ValueError, IndexError) as e:
        return "bad DER: %s" % e


class Cms:
    def __init__(self, tmpdir):
        self.tmp = tmpdir

    def _files(self):
        return tempfile.mkdtemp(prefix="cms-", dir=self.tmp)

    def sign(self, data, cert, key):
        d = self._files()
        try:
            dp, sp = os.path.join(d, "data"), os.path.join(d, "sig")
            with open(dp, "wb") as f:
                f.write(data)
            r = subprocess.run([OPENSSL, "cms", "-sign", "-binary",
                                "-outform", "DER", "-md", "sha256",
                                "-signer", cert, "-inkey", key, "-in", dp,
                                "-out", sp], capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=30)
            if r.returncode != 0:
                raise RuntimeError("openssl cms -sign: %s" %
                                   r.stderr.decode(errors="replace"))
            with open(sp, "rb") as f:
                return f.read()
        finally:
            _rmtree(d)

    def verify(self, data, der, ca=None, pinned=None):
        """None when der verifies over data; else why not."""
        prob = cms_problem(der)
        if prob:
            return prob
        d = self._files()
        try:
            dp, sp, op = (os.path.join(d, n) for n in ("data", "sig", "who"))
            with open(dp, "wb") as f:
                f.write(data)
            with open(sp, "wb") as f:
                f.write(der)
            cmd = [OPENSSL, "cms", "-verify", "-binary", "-inform", "DER",
                   "-in", sp, "-content", dp, "-purpose", "any", "-out",
                   os.devnull, "-signer", op]
            if pinned:
                cmd += ["-CAfile", pinned, "-partial_chain", "-certfile",
                        pinned]
            else:
                cmd += ["-CAfile", ca]
            r = subprocess.run(cmd, capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=30)
            if r.returncode != 0:
                lines = r.stderr.decode(errors="replace").strip().splitlines()
                return "verification failed: %s" % (
                    lines[-1] if lines else "openssl exit %d" % r.returncode)
            if pinned:
                want = _pem_ders(pinned)[:1]
                got = _pem_ders(op)
                if not got or any(g not in want for g in got):
                    return "signer is not the pinned certificate"
            return None
        finally:
            _rmtree(d)


def _pem_ders(path):
    with open(path) as f:
        text = f.read()
    return [ssl.PEM_cert_to_DER_cert(m.group(0)) for m in re.finditer(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text,
        re.S)]


def _rmtree(d):
    for n in os.listdir(d):
        try:
            os.unlink(os.path.join(d, n))
        except OSError:
            pass
    try:
        os.rmdir(d)
    except OSError:
        pass


def b64(data):
    return base64.b64encode(data).decode("ascii")


def b64_strict(text):
    """Standard padded base64 without whitespace -> bytes (or None)."""
    if not re.fullmatch(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|"
                        r"[A-Za-z0-9+/]{3}=)?", text or "") or not text:
        return None
    return base64.b64decode(text)


def element_sig_split(data, path):
    """Bytes with <E>b64</E> -> (bytes with <E></E>, b64 text) or a reason
    string. E is the last part of path; its start tag must occur once."""
    name = split_path(path)[0][-1].encode("ascii")
    start, end = b"<" + name + b">", b"</" + name + b">"
    if data.count(start) != 1 or data.count(b"<" + name + b"/>") or \
            data.count(b"<" + name + b" "):
        return "signature element <%s> must appear exactly once, written " \
            "<%s>...</%s>" % ((name.decode(),) * 3)
    i = data.index(start) + len(start)
    j = data.find(end, i)
    if j < 0:
        return "signature element <%s> not closed" % name.decode()
    sig = data[i:j]
    return data[:i] + data[j:], sig.decode("ascii", "replace")


def element_sig_insert(data, path, sig_b64):
    name = split_path(path)[0][-1].encode("ascii")
    empty = b"<" + name + b"></" + name + b">"
    assert data.count(empty) == 1, "signature element not empty once"
    return data.replace(empty, b"<" + name + b">" + sig_b64.encode() +
                        b"</" + name + b">")


# -------------------------------------------------------------------------
# Receipts: a small valid PDF

def make_pdf(lines):
    """A one-page PDF 1.4 (Helvetica) with these ASCII lines."""
    def esc(s):
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    text = ["BT", "/F1 12 Tf", "72 760 Td", "16 TL"]
    for ln in lines:
        text.append("(%s) '" % esc(ln.encode("ascii", "replace").decode()))
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream +
            b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, xref))
    return bytes(out)


# -------------------------------------------------------------------------
# The bank

class Refusal(Exception):
    """A request refused with one of the profile's error codes."""

    def __init__(self, kind, message, outcome="rejected"):
        super().__init__(message)
        self.kind = kind          # key of profile.errors, or busy/not_found
        self.message = message
        self.outcome = outcome


class Reply:
    def __init__(self, body=b"", sig_header=None, mode="answer"):
        self.body = body
        self.sig_header = sig_header   # (name, value) or None
        self.mode = mode               # answer | hold | close


class Request:
    """A decoded, structurally valid request."""

    def __init__(self):
        self.root = None
        self.fn = None
        self.code = None
        self.values = {}
        self.items = []
        self.echo = {}


FAULT_DEFAULTS = {"latency_ms": 0, "busy_next": 0,
                  "timeout_after_create_next": 0, "timeout_mode": "hold",
                  "timeout_hold_s": 30.0, "bad_response_signature_next": 0,
                  "replay_last_response_next": 0, "garbage_next": 0,
                  "drop_next": 0}
FAULT_COUNTERS = ("busy_next", "timeout_after_create_next",
                  "bad_response_signature_next", "replay_last_response_next",
                  "garbage_next", "drop_next")

DEFAULT_NAMES = ["上海星辰贸易有限公司", "北京华联物流股份有限公司",
                 "深圳市南山区恒泰电子厂", "广州白云国际货运代理有限公司",
                 "杭州西湖龙井茶业合作社", "成都天府软件园服务中心",
                 "武汉长江建材供应链管理有限公司", "苏州工业园区精密机械有限公司"]
DEFAULT_REMITTANCE = ["货款 INV-2024-0012", "运费 第三季度", "设备尾款",
                      "代理费 合同HT-88", "茶叶采购 预付款",
                      "服务费 2024年3月", "建材款 批次7", "机械配件款"]


# -------------------------------------------------------------------------
# Bill pool and supply-chain finance: the desk of the JSON bank
# (bank_openapi.BillsScfBank: drafts, notices, pool, financing, vouchers,
# codes BIL001-026 / SCF001-041) is reused as is; this door only
# translates: the profile's request -> the desk's operation (values from
# amount_unit / date_format / yes_no / the value tables to the desk's
# forms, checked by the desk's own validators) -> the desk's answer -> the
# profile's result elements.

CN_BANK_CODE = "308584000013"        # this bank's CNAPS code (the desk's
                                     # bank_code: parties "at this bank")
RATE_RE = re.compile(r"(0|[1-9][0-9]?)(\.[0-9]{1,4})?")
SHORT_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,35}")
VOUCHER_ID_RE = re.compile(r"[A-Za-z0-9]{1,40}")
# bill_operation tokens that only issue uses, and those issue never uses
ISSUE_ONLY = ("draft_kind", "issue_date", "maturity_date", "transferable",
              "divisible", "acceptor_name", "acceptor_account",
              "acceptor_bank", "payee_name", "payee_account", "payee_bank")
NOT_ISSUE = ("draft_no", "sub_from", "sub_to", "cpty_name", "cpty_account",
             "cpty_bank", "rate", "op_date", "pool_id", "notice_id",
             "overdue", "reason")
NAME_TOKENS = ("cpty_name", "acceptor_name", "payee_name", "buyer_name",
               "seller_name")
ACCOUNT_TOKENS = ("cpty_account", "acceptor_account", "payee_account",
                  "seller_account")
BANK_TOKENS = ("cpty_bank", "acceptor_bank", "payee_bank")
DATE_TOKENS = ("issue_date", "maturity_date", "op_date", "value_date",
               "maturity_from", "maturity_to", "invoice_issue_date",
               "invoice_due_date")
AMOUNT_TOKENS = ("amount", "invoice_amount", "total")
YES_NO_TOKENS = ("transferable", "divisible", "overdue")
TEXT35_TOKENS = ("product", "agreement_ref", "contract_ref", "invoice_no")


def _fen(view):
    """The desk's {"amount": "12.34", ...} -> 1234."""
    return int(Decimal(view["amount"]) * 100)


def _party(p):
    return p or {}


class _BillsDoor:
    """bill_* / scf_* / voucher_* functions of BankCN (a mixin over the
    desk; every _fn_* runs under self.lock)."""

    # -- the desk's host interface --

    def _available_locked(self, account, ccy, day):
        return Decimal(self._balance_locked(account)[1]).scaleb(-2)

    def _book_minor(self, account, minor, ccy, ref, text, cpty=None,
                    day=None):
        day = day or self.today()
        c = _party(cpty)
        self._book_locked(account, day.isoformat(), abs(int(minor)),
                          "C" if minor > 0 else "D", ccy,
                          c.get("name") or "", c.get("account") or "",
                          c.get("bank_code") or "", text[:60], "", ref)

    # -- values --

    def _tv(self, table, value, what):
        n = self.profile.rtables[table].get(value)
        if n is None:
            raise Refusal("invalid", "代码无效: {%s} %r is not a value of "
                          "%s" % (what, value, table))
        return n

    def _bv(self, table, name):
        return self.profile.tables[table][name]

    def _yn(self, b):
        return self.profile.yes_no[0 if b else 1]

    def _date_out(self, iso):
        return self.profile.fmt_date(dt.date.fromisoformat(iso)) \
            if iso else ""

    def _amt_out(self, view):
        return self.profile.fmt_amount(_fen(view), True) if view else ""

    def _bs_values(self, vals, what=""):
        """Non-empty tokens of a request (or an item), checked in the
        profile's forms and converted; an empty token is left out."""
        P = self.profile
        lim = P.limits
        out = {}
        for k, s in vals.items():
            if k in COMMON_TOKENS or s == "" or k in ("serial", "page",
                                                      "item_no"):
                continue
            if k in NAME_TOKENS:
                out[k] = self._text(s, lim["name"], k)
            elif k in ("reason", "memo"):
                out[k] = self._text(s, lim["remittance"], k)
            elif k == "our_account":
                out[k] = self._own(s, k)
            elif k in ACCOUNT_TOKENS:
                out[k] = self._acct(s, k)
            elif k in BANK_TOKENS:
                if not re.fullmatch(r"[0-9]{12}", s):
                    raise Refusal("invalid", "行号错误: {%s} %r must be a "
                                  "12-digit CNAPS code" % (k, s))
                out[k] = s
            elif k == "draft_no":
                if not re.fullmatch(r"[0-9]{30}", s):
                    raise Refusal("invalid", "票据号码错误: {draft_no} %r "
                                  "must be 30 digits" % s)
                out[k] = s
            elif k in ("sub_from", "sub_to"):
                if not re.fullmatch(r"[1-9][0-9]{0,17}", s):
                    raise Refusal("invalid", "子票区间错误: {%s} %r must be "
                                  "an integer >= 1" % (k, s))
                out[k] = int(s)
            elif k in AMOUNT_TOKENS:
                out[k] = self._amount(s, k)
            elif k in DATE_TOKENS:
                d = P.parse_date(s)
                if d is None:
                    raise Refusal("invalid", "日期格式错误: {%s} %r is not a "
                                  "date in %s" % (k, s, P.date_format))
                out[k] = d
            elif k in YES_NO_TOKENS:
                if s not in P.yes_no:
                    raise Refusal("invalid", "标志错误: {%s} %r is not %s or "
                                  "%s" % ((k, s) + P.yes_no))
                out[k] = s == P.yes_no[0]
            elif k == "rate":
                if not RATE_RE.fullmatch(s) or Decimal(s) <= 0:
                    raise Refusal("invalid", "利率错误: {rate} %r (percent "
                                  "p.a., at most 4 decimals)" % s)
                out[k] = s
            elif k in ("pool_id", "notice_id"):
                if not SHORT_ID_RE.fullmatch(s):
                    raise Refusal("invalid", "编号错误: {%s} %r" % (k, s))
                out[k] = s
            elif k == "voucher_id":
                if not VOUCHER_ID_RE.fullmatch(s):
                    raise Refusal("invalid", "凭证编号错误: {voucher_id} %r" %
                                  s)
                out[k] = s
            elif k == "orig_serial":
                if not re.fullmatch(r"[A-Za-z0-9-]{1,%d}" % lim["serial"],
                                    s):
                    raise Refusal("invalid", "原业务参考号错误: "
                                  "{orig_serial} %r" % s)
                out[k] = s
            elif k in TEXT35_TOKENS:
                out[k] = self._text(s, 35, k)
            elif k == "tax_code":
                if not re.fullmatch(r"[0-9]{10}|[0-9]{12}", s):
                    raise Refusal("invalid", "发票代码错误: {tax_code} %r" % s)
                out[k] = s
            elif k == "count":
                if not re.fullmatch(r"[1-9][0-9]{0,5}", s):
                    raise Refusal("invalid", "笔数错误: {count} %r" % s)
                out[k] = int(s)
            elif k == "holder":
                if s not in ("us", "others"):
                    raise Refusal("invalid", "持有方错误: {holder} %r (us or "
                                  "others)" % s)
                out[k] = s
            elif k == "bill_op":
                out[k] = self._tv("bill_ops", s, k)
            elif k == "draft_kind":
                out[k] = self._tv("draft_kinds", s, k)
            elif k == "draft_status":
                out[k] = self._tv("draft_status_map", s, k)
            elif k == "voucher_op":
                out[k] = self._tv("voucher_ops", s, k)
            elif k == "financing_kind":
                out[k] = self._tv("financing_kinds", s, k)
            else:                       # currency, currency_code
                out[k] = s
        if ("sub_from" in out) != ("sub_to" in out) or \
                out.get("sub_to", 1) < out.get("sub_from", 1):
            raise Refusal("invalid", "子票区间错误: {sub_from} {sub_to} both "
                          "or neither, from <= to")
        return out

    @staticmethod
    def _must(v, need, what):
        miss = [k for k in need if k not in v]
        if miss:
            raise Refusal("invalid", "字段缺失: %s requires {%s}" %
                          (what, "} {".join(miss)))

    @staticmethod
    def _must_not(v, ban, what):
        extra = [k for k in ban if k in v]
        if extra:
            raise Refusal("invalid", "字段不适用: {%s} must be empty for %s" %
                          ("} {".join(extra), what))

    @staticmethod
    def _cparty(v, prefix):
        """name/account/bank tokens -> the desk's party (None if none)."""
        keys = [prefix + "_name", prefix + "_account", prefix + "_bank"]
        if not any(k in v for k in keys):
            return None
        p = {}
        for k, dk in zip(keys, ("name", "account", "bank_code")):
            if k in v:
                p[dk] = v[k]
        return p

    def _desk_check(self, validate, obj, key):
        """The desk's own validator over the translated request."""
        out, probs = validate(json.dumps(obj, ensure_ascii=False)
                              .encode("utf-8"), key)
        if probs:
            raise Refusal("invalid", "字段错误: " + "; ".join(
                "%s: %s" % (x["field"], x["message"])
                for x in probs.items))
        return out

    # -- serials (one name space with payments and payroll) --

    def _bs_fingerprint(self, req):
        v = {k: x for k, x in req.values.items()
             if k not in ("request_id", "date", "time")}
        return _fingerprint({"fn": req.fn.name, "v": v, "items": req.items})

    def _bs_repeat(self, req, kind):
        """None (new serial) or the original answer of a repeat."""
        serial = req.values["serial"]
        fp = self._bs_fingerprint(req)
        p = self.payments.get(serial)
        if p is not None:
            raise Refusal("duplicate", "业务参考号重复: serial %s was used for "
                          "a %s (bank ref %s)" % (serial, p["kind"],
                                                  p["bank_ref"]), "conflict")
        rec = self.bs_requests.get(serial)
        if rec is None:
            return None, fp
        if rec["kind"] == kind and rec["fingerprint"] == fp:
            return (self._ok(), "", dict(rec["original"]),
                    [dict(x) for x in rec["items"]], "replayed", False), fp
        raise Refusal("duplicate", "业务参考号重复: serial %s was used for "
                      "another instruction (bank ref %s)" %
                      (serial, rec["bank_ref"]), "conflict")

    def _bs_apply(self, apply):
        """Run a desk operation; a business refusal changes nothing (what
        may have moved is put back) -> (answer, None) or (None, refusal)."""
        snap = json.dumps({"bills": self.bills, "scf": self.scf})
        n = len(self.entries)
        try:
            return apply(), None
        except desk.Refusal as e:
            old = json.loads(snap)
            self.bills, self.scf = old["bills"], old["scf"]
            del self.entries[n:]
            return None, e

    def _bs_store(self, req, kind, fp, result, items, **extra):
        serial = req.values["serial"]
        result = dict(result, serial=serial,
                      bank_ref=self._new_ref_locked())
        rec = dict(kind=kind, serial=serial, fingerprint=fp,
                   bank_ref=result["bank_ref"], original=result,
                   items=items, created=time.time(), **extra)
        self.bs_requests[serial] = rec
        self._save_locked()
        return (self._ok(), "", dict(result), [dict(x) for x in items],
                "created", True)

    def _refused(self, e, status):
        b = e.body()
        return {"status": status, "reason_code": e.code,
                "reason": "%s (%s)" % (b["message_zh"], b["message"])}

    def _bs_lookup(self, req, kinds):
        v = self._v(req)
        rec = self.bs_requests.get(v["serial"])
        if rec is None or rec["kind"] not in kinds:
            raise Refusal("not_found", "无此业务参考号: serial %s not found" %
                          v["serial"], "not_found")
        return rec

    # -- rows --

    def _draft_row(self, d):
        dr, ac, py = d["drawer"], d["acceptor"], d["payee"]
        ho = _party(d["holder"])
        return {"draft_no": d["number"],
                "draft_kind": self._bv("draft_kinds", d["kind"]),
                "amount": self._amt_out(d["amount"]),
                "face_amount": self._amt_out(d["face_amount"]),
                "issue_date": self._date_out(d["issue_date"]),
                "maturity_date": self._date_out(d["maturity_date"]),
                "drawer_name": dr["name"],
                "drawer_account": dr.get("account") or "",
                "drawer_bank": dr["bank_code"],
                "acceptor_name": ac["name"],
                "acceptor_account": ac.get("account") or "",
                "acceptor_bank": ac["bank_code"],
                "payee_name": py["name"],
                "payee_account": py.get("account") or "",
                "payee_bank": py["bank_code"],
                "holder_name": ho.get("name") or "",
                "holder_account": ho.get("account") or "",
                "holder_bank": ho.get("bank_code") or "",
                "draft_status": self._bv("draft_status_map", d["status"]),
                "transferable": self._yn(d["transferable"]),
                "divisible": self._yn(d["divisible"]),
                "sub_from": str(d["sub_range"]["from"]),
                "sub_to": str(d["sub_range"]["to"])}

    def _voucher_row(self, v):
        fin, st = v["financing"], v["settlement"]
        return {"voucher_id": v["voucher_id"], "root_id": v["root_id"],
                "parent_id": v["parent_id"] or "", "level": str(v["level"]),
                "issuer_name": v["issuer"]["name"],
                "issuer_account": v["issuer"].get("account") or "",
                "holder_name": v["holder"]["name"],
                "holder_account": v["holder"].get("account") or "",
                "holder_bank": v["holder"].get("bank_code") or "",
                "transferor_name": _party(v["transferor"]).get("name") or "",
                "amount": self._amt_out(v["amount"]),
                "remaining": self._amt_out(v["remaining"]),
                "issue_date": self._date_out(v["issue_date"]),
                "maturity_date": self._date_out(v["maturity_date"]),
                "voucher_status": self._bv("voucher_status_map",
                                           v["status"]),
                "financed_amount": self._amt_out(fin["amount"])
                if fin else "",
                "loan_ref": fin["loan_ref"] if fin else "",
                "settled_date": self._date_out(st["date"]) if st else ""}

    def _list_page(self, req, fname, rows, key):
        """One page of rows per the profile's paging -> (rows, extra)."""
        P = self.profile
        page = req.values.get("page", "")
        size = self.page_size
        if P.paging == "token":
            start = 0
            if page:
                m = re.fullmatch(r"([0-9]{6})([0-9A-F]{12})", page)
                if not m or not hmac.compare_digest(m.group(2), self._lmac(
                        fname, key, m.group(1))):
                    raise Refusal("invalid", "续传键无效: the continuation "
                                  "token %r is not valid for this list" %
                                  page)
                start = int(m.group(1))
            out = rows[start:start + size]
            nxt = ""
            if len(rows) > start + size:
                off = "%06d" % (start + size)
                nxt = off + self._lmac(fname, key, off)
            return out, {"next": nxt}
        if not re.fullmatch(r"[0-9]{1,9}", page) or int(page) < P.page_first:
            raise Refusal("invalid", "页码错误: {page} %r (from %d)" %
                          (page, P.page_first))
        start = (int(page) - P.page_first) * size
        more = len(rows) > start + size
        return rows[start:start + size], \
            {"more": P.more_value if more else P.last_value}

    def _lmac(self, fname, key, off):
        msg = "|".join((fname, key, off))
        return hmac.new(self.token_key, msg.encode(), hashlib.sha256) \
            .hexdigest()[:12].upper()

    # -- bills --

    def _fn_bill_operation(self, req):
        v = self._v(req)
        b = self._bs_values(req.values)
        self._must(b, ("bill_op",), "bill_operation")
        op = b["bill_op"]
        serial = v["serial"]
        amount = lambda fen: {"amount": desk.m2s(fen), "currency": "CNY"}
        if op == "issue":
            self._must_not(b, NOT_ISSUE, "issue")
            self._must(b, ("amount", "our_account", "draft_kind",
                           "maturity_date", "acceptor_name",
                           "acceptor_bank", "payee_name", "payee_bank"),
                       "issue")
            obj = {"request_id": serial, "kind": b["draft_kind"],
                   "amount": amount(b["amount"]),
                   "maturity_date": b["maturity_date"].isoformat(),
                   "drawer_account": b["our_account"],
                   "acceptor": self._cparty(b, "acceptor"),
                   "payee": self._cparty(b, "payee")}
            if "issue_date" in b:
                obj["issue_date"] = b["issue_date"].isoformat()
            for k in ("transferable", "divisible", "memo"):
                if k in b:
                    obj[k] = b[k]
            r = self._desk_check(desk.validate_bill_issue, obj, serial)
            apply = lambda: self._bill_issue_locked(serial, r)
        else:
            self._must_not(b, ISSUE_ONLY, op)
            self._must(b, ("draft_no",), op)
            obj = {"request_id": serial, "op": op}
            if "sub_from" in b:
                obj["sub_range"] = {"from": b["sub_from"], "to": b["sub_to"]}
            cp = self._cparty(b, "cpty")
            if cp is not None:
                obj["counterparty"] = cp
            for k, dk in (("rate", "rate"), ("pool_id", "pool_id"),
                          ("notice_id", "notice_id"), ("reason", "reason"),
                          ("memo", "memo"), ("our_account", "account"),
                          ("overdue", "overdue")):
                if k in b:
                    obj[dk] = b[k]
            if "op_date" in b:
                obj["date"] = b["op_date"].isoformat()
            if "amount" in b:
                if op == "recourse":
                    obj["amount"] = amount(b["amount"])
                elif "sub_from" not in b or \
                        b["amount"] != b["sub_to"] - b["sub_from"] + 1:
                    raise Refusal("invalid", "金额错误: {amount} is the part "
                                  "of a sub-range (sub_to - sub_from + 1 "
                                  "fen) or a recourse claim, else empty")
            r = self._desk_check(desk.validate_bill_op, obj, serial)
            number = b["draft_no"]
            apply = lambda: self._bill_op_locked(serial, number, r)
        rep, fp = self._bs_repeat(req, "bill")
        if rep:
            return rep
        ans, e = self._bs_apply(apply)
        if e is not None:
            return self._bs_store(req, "bill", fp, self._refused(
                e, self._bv("request_results", "rejected")), [],
                op=op, outcome="rejected")
        items = [self._draft_row(ans["draft"])]
        ranges = [(ans["draft"]["number"], ans["draft"]["sub_range"]["from"])]
        if ans["remainder"]:
            items.append(self._draft_row(ans["remainder"]))
            ranges.append((ans["remainder"]["number"],
                           ans["remainder"]["sub_range"]["from"]))
        res = {"status": self._bv("request_results", ans["result"]),
               "reason_code": "", "reason": ""}
        return self._bs_store(req, "bill", fp, res, items, op=op,
                              outcome=ans["result"], pieces=ranges)

    def _bill_now(self, rec):
        """A bill request's current outcome: pending until the
        counterparty answered; then accepted or rejected."""
        if rec["outcome"] != "pending":
            return dict(rec["original"]), [dict(x) for x in rec["items"]]
        serial = rec["serial"]
        number = rec["pieces"][0][0]
        outcome, reason = "pending", ""
        for pc in self._pieces_of(number):
            pend = pc["pending"]
            if pend and pend["request_id"] == serial:
                break
        else:
            evs = [e for pc in self._pieces_of(number)
                   for e in pc["history"] if e["request_id"] == serial and
                   e["event"] in ("signed", "refused", "withdrawn")]
            if evs:
                last = max(evs, key=lambda e: e["time"])
                if last["event"] == "signed":
                    outcome = "accepted"
                else:
                    outcome = "rejected"
                    reason = last["reason"] or (
                        "对方拒绝签收 (refused by the counterparty)"
                        if last["event"] == "refused" else
                        "已撤回 (withdrawn)")
        items = []
        for num, frm in rec["pieces"]:
            try:
                items.append(self._draft_row(self._piece_view(
                    self._locate(num, (frm, frm)))))
            except desk.Refusal:
                pass
        res = dict(rec["original"], status=self._bv("request_results",
                                                    outcome),
                   reason=reason)
        return res, items

    def _fn_bill_query(self, req):
        rec = self._bs_lookup(req, ("bill",))
        res, items = self._bill_now(rec)
        return (self._ok(), "", res, items, "ok", False)

    def _fn_bill_drafts(self, req):
        self._v(req)
        b = self._bs_values(req.values)
        st = b.get("draft_status")
        lo, hi = b.get("maturity_from"), b.get("maturity_to")
        if lo and hi and lo > hi:
            raise Refusal("invalid", "日期范围错误: maturity_from after "
                          "maturity_to")
        rows = [self._draft_row(self._piece_view(p)) for p in sorted(
            self.bills["pieces"], key=lambda p: (p["maturity_date"],
                                                 p["number"], p["from"]))
            if p["status"] is not None and
            (st is None or p["status"] == st) and
            (lo is None or p["maturity_date"] >= lo.isoformat()) and
            (hi is None or p["maturity_date"] <= hi.isoformat())]
        key = "%s|%s|%s" % (st, lo, hi)
        rows, extra = self._list_page(req, "bill_drafts", rows, key)
        return (self._ok(), "", extra, rows, "ok", False)

    def _fn_bill_notices(self, req):
        self._v(req)
        rows = []
        for nid, n in sorted(self.bills["notices"].items()):
            if n["status"] != "open":
                continue
            nv = self._notice_view(n)
            row = self._draft_row(nv["draft"])
            s = _party(n["sender"])
            recv = dt.datetime.fromisoformat(
                n["received_at"].replace("Z", "+00:00")).astimezone(
                self.profile.tz).date() + dt.timedelta(days=self.day_offset)
            row.update(notice_id=nid,
                       notice_kind=self._bv("bill_ops", n["kind"]),
                       from_name=s.get("name") or "",
                       from_account=s.get("account") or "",
                       from_bank=s.get("bank_code") or "",
                       received_date=self.profile.fmt_date(recv),
                       claim_amount=self._amt_out(nv["claim_amount"]),
                       reason=n["reason"] or "")
            rows.append(row)
        rows, extra = self._list_page(req, "bill_notices", rows, "")
        return (self._ok(), "", extra, rows, "ok", False)

    def _fn_bill_history(self, req):
        v = self._v(req)
        b = self._bs_values(req.values)
        self._must(b, ("draft_no",), "bill_history")
        ps = self._pieces_of(b["draft_no"])
        if not ps:
            raise Refusal("not_found", "票据不存在: draft %s not found" %
                          v["draft_no"], "not_found")
        evs = sorted((e for pc in ps for e in pc["history"]),
                     key=lambda e: e["time"])
        rows = [{"event_date": self._date_out(e["date"]),
                 "event_op": self._bv("bill_ops", e["op"]),
                 "event": e["event"],
                 "draft_status": self._bv("draft_status_map", e["status"]),
                 "sub_from": str(e["sub_range"]["from"]),
                 "sub_to": str(e["sub_range"]["to"]),
                 "amount": self._amt_out(e["amount"]),
                 "from_name": _party(e["from"]).get("name") or "",
                 "to_name": _party(e["to"]).get("name") or ""}
                for e in evs]
        return (self._ok(), "", {}, rows, "ok", False)

    def _fn_bill_pool(self, req):
        self._v(req)
        pv = self._pool_view_locked()
        res = {"pool_id": pv["pool_id"],
               "as_of": self._date_out(pv["as_of"]),
               "pledged_count": str(pv["pledged_count"])}
        for k in ("pledged_total", "deposit", "quota_total", "quota_used",
                  "quota_available"):
            res[k] = self._amt_out(pv[k])
        return (self._ok(), "", res, [], "ok", False)

    # -- supply-chain finance --

    def _fn_scf_financing(self, req):
        v = self._v(req)
        b = self._bs_values(req.values)
        self._must(b, ("financing_kind", "our_account", "amount", "count"),
                   "scf_financing")
        serial = v["serial"]
        ccy = self._currency(v, b["our_account"])
        n = len(req.items)
        if n == 0 or n > 100:
            raise Refusal("invalid", "发票笔数错误: 1..100 invoices, got %d" %
                          n)
        if b["count"] != n:
            raise Refusal("invalid", "总笔数不符: {count} %d but %d invoices"
                          % (b["count"], n))
        invs, total = [], 0
        for i, it in enumerate(req.items, 1):
            try:
                if it.get("item_no") != str(i):
                    raise Refusal("invalid", "{item_no} is %r, expected %d" %
                                  (it.get("item_no"), i))
                x = self._bs_values(it)
                self._must(x, ("invoice_no", "invoice_amount",
                               "invoice_issue_date", "invoice_due_date",
                               "buyer_name"), "an invoice")
            except Refusal as r:
                raise Refusal(r.kind, "第%d张发票: item %d: %s" %
                              (i, i, r.message))
            total += x["invoice_amount"]
            inv = {"number": x["invoice_no"],
                   "issue_date": x["invoice_issue_date"].isoformat(),
                   "due_date": x["invoice_due_date"].isoformat(),
                   "amount": {"amount": desk.m2s(x["invoice_amount"]),
                              "currency": ccy},
                   "buyer": {"name": x["buyer_name"]},
                   "seller": {"name": x.get("seller_name") or
                              self.accounts[b["our_account"]]["name"]}}
            if "seller_account" in x:
                inv["seller_account"] = x["seller_account"]
            if "tax_code" in x:
                inv["tax_invoice_code"] = x["tax_code"]
            invs.append(inv)
        if "total" in b and b["total"] != total:
            raise Refusal("invalid", "总金额不符: {total} but the invoices add "
                          "up to %s" % self.profile.fmt_amount(total))
        obj = {"request_id": serial, "kind": b["financing_kind"],
               "requested_amount": {"amount": desk.m2s(b["amount"]),
                                    "currency": ccy},
               "account": b["our_account"], "invoices": invs}
        if "value_date" in b:
            obj["value_date"] = b["value_date"].isoformat()
        for k in ("product", "agreement_ref", "contract_ref", "memo"):
            if k in b:
                obj[k] = b[k]
        r = self._desk_check(desk.validate_financing, obj, serial)
        rep, fp = self._bs_repeat(req, "financing")
        if rep:
            return rep
        ans, e = self._bs_apply(lambda: self._fin_create_locked(serial, r))
        fsm = "financing_status_map"
        if e is not None:
            return self._bs_store(req, "financing", fp, self._refused(
                e, self._bv(fsm, "rejected")), [], outcome="rejected")
        res = {"status": self._bv(fsm, ans["financing"]["status"]),
               "reason_code": "", "reason": ""}
        # the desk keeps no seller names: the record keeps whom the
        # request named (admin /admin/bs_requests shows it)
        sellers = [{"invoice_no": i["number"],
                    "name": i["seller"]["name"],
                    "account": i.get("seller_account")} for i in invs]
        return self._bs_store(req, "financing", fp, res, [],
                              outcome="created", sellers=sellers)

    def _fin_now(self, rec):
        fsm = "financing_status_map"
        fid = rec.get("orig_serial") or rec["serial"]
        f = self.scf["financing"].get(fid)
        if f is None or (rec["kind"] == "financing" and
                         rec["outcome"] == "rejected"):
            return dict(rec["original"], status=self._bv(fsm, "rejected")
                        if rec["kind"] == "financing" else
                        rec["original"]["status"]), []
        fv = self._fin_view(f)
        res = {"serial": rec["serial"], "bank_ref": rec["bank_ref"],
               "status": self._bv(fsm, fv["status"]), "reason_code": "",
               "reason": ""}
        rj = fv["rejection"] or None
        if rec["kind"] == "cancel" and rec["outcome"] == "rejected":
            res.update(reason_code=rec["original"]["reason_code"],
                       reason=rec["original"]["reason"])
        elif rj:
            res.update(reason_code=rj["code"], reason=rj["reason"])
        elif fv["cancellation"]:
            res.update(reason=fv["cancellation"]["reason"])
        a = fv["approved"]
        if a:
            res.update(approved_amount=self._amt_out(a["amount"]),
                       rate=a["rate"],
                       value_date=self._date_out(a["value_date"]),
                       maturity_date=self._date_out(a["maturity_date"]),
                       interest=self._amt_out(a["interest"]))
        if fv["loan_ref"]:
            res["loan_ref"] = fv["loan_ref"]
        if fv["financed"]:
            res.update(financed_amount=self._amt_out(
                fv["financed"]["amount"]), financed_date=self._date_out(
                fv["financed"]["value_date"]))
        if fv["repayment"]:
            res.update(repaid_principal=self._amt_out(
                fv["repayment"]["principal"]), repaid_interest=self._amt_out(
                fv["repayment"]["interest"]), repaid_date=self._date_out(
                fv["repayment"]["date"]))
        items = []
        for i in fv["invoices"]:
            rs = i["reason"] or {}
            items.append({"invoice_no": i["number"],
                          "result": self._bv("request_results", i["result"]),
                          "financed_amount": self._amt_out(
                              i["financed_amount"]),
                          "reason": rs.get("message") or ""})
        return res, items

    def _fn_scf_query(self, req):
        rec = self._bs_lookup(req, ("financing", "cancel"))
        res, items = self._fin_now(rec)
        return (self._ok(), "", res, items, "ok", False)

    def _fn_scf_cancel(self, req):
        v = self._v(req)
        b = self._bs_values(req.values)
        self._must(b, ("orig_serial", "reason"), "scf_cancel")
        serial = v["serial"]
        r = self._desk_check(desk.validate_cancel, {
            "request_id": serial, "reason": b["reason"]}, serial)
        rep, fp = self._bs_repeat(req, "cancel")
        if rep:
            return rep
        orig = b["orig_serial"]
        ans, e = self._bs_apply(
            lambda: self._fin_cancel_locked(serial, orig, r))
        rr = "request_results"
        if e is not None:
            return self._bs_store(req, "cancel", fp, self._refused(
                e, self._bv(rr, "rejected")), [], outcome="rejected",
                orig_serial=orig)
        return self._bs_store(req, "cancel", fp, {
            "status": self._bv(rr, "accepted"), "reason_code": "",
            "reason": ""}, [], outcome="accepted", orig_serial=orig)

    def _fn_voucher_operation(self, req):
        v = self._v(req)
        b = self._bs_values(req.values)
        self._must(b, ("voucher_op",), "voucher_operation")
        op = b["voucher_op"]
        serial = v["serial"]
        amount = lambda fen: {"amount": desk.m2s(fen), "currency": "CNY"}
        if op == "issue":
            self._must_not(b, ("voucher_id", "reason"), "issue")
            self._must(b, ("amount", "our_account", "maturity_date",
                           "cpty_name", "cpty_account", "cpty_bank"),
                       "issue")
            obj = {"request_id": serial, "amount": amount(b["amount"]),
                   "maturity_date": b["maturity_date"].isoformat(),
                   "issuer_account": b["our_account"],
                   "receiver": self._cparty(b, "cpty")}
            if "memo" in b:
                obj["memo"] = b["memo"]
            r = self._desk_check(desk.validate_voucher_issue, obj, serial)

            def apply():
                self._our_account(r["issuer_account"], "SCF005")
                today = self.today()
                if r["maturity_date"] <= today or \
                        r["maturity_date"] > desk.add_months(today, 12):
                    raise desk.Refusal("SCF041")
                if self._is_us(r["receiver"]):
                    raise desk.Refusal("SCF039")
                x = self._v_issue_locked(self._us(r["issuer_account"]),
                                         r["receiver"], r["amount"][0],
                                         r["maturity_date"], None, serial)
                return self._voucher_answer(serial, "issue", "pending", x,
                                            None)
        else:
            self._must_not(b, ("maturity_date",), op)
            self._must(b, ("voucher_id",), op)
            obj = {"request_id": serial, "op": op}
            cp = self._cparty(b, "cpty")
            if cp is not None:
                obj["to"] = cp
            for k, dk in (("reason", "reason"), ("memo", "memo"),
                          ("our_account", "account")):
                if k in b:
                    obj[dk] = b[k]
            if "amount" in b:
                obj["amount"] = amount(b["amount"])
            r = self._desk_check(desk.validate_voucher_op, obj, serial)
            vid = b["voucher_id"]

            def apply():
                x = self.scf["vouchers"].get(vid)
                if x is None or not self._v_visible(x):
                    raise desk.Refusal("SCF030")
                res, a, c = self._v_act_locked(x, op, r, True, serial)
                return self._voucher_answer(serial, op, res, a, c)
        rep, fp = self._bs_repeat(req, "voucher")
        if rep:
            return rep
        ans, e = self._bs_apply(apply)
        rr = "request_results"
        if e is not None:
            return self._bs_store(req, "voucher", fp, self._refused(
                e, self._bv(rr, "rejected")), [], op=op, outcome="rejected")
        items = [self._voucher_row(ans["voucher"])]
        ids = [ans["voucher"]["voucher_id"]]
        if ans["child"]:
            items.append(self._voucher_row(ans["child"]))
            ids.append(ans["child"]["voucher_id"])
        return self._bs_store(req, "voucher", fp, {
            "status": self._bv(rr, ans["result"]), "reason_code": "",
            "reason": ""}, items, op=op, outcome=ans["result"],
            vouchers=ids)

    def _fn_voucher_query(self, req):
        rec = self._bs_lookup(req, ("voucher",))
        if rec["outcome"] != "pending":
            return (self._ok(), "", dict(rec["original"]),
                    [dict(x) for x in rec["items"]], "ok", False)
        vs = [self.scf["vouchers"][i] for i in rec["vouchers"]]
        target = vs[-1]             # the issued voucher / the new child
        st = target["status"]
        outcome = "pending" if st == "pending" else \
            "rejected" if st in ("refused", "withdrawn") else "accepted"
        reason = ""
        if outcome == "rejected":
            reason = "对方拒签 (refused by the receiver)" if st == "refused" \
                else "已撤销 (withdrawn)"
        res = dict(rec["original"], status=self._bv("request_results",
                                                    outcome), reason=reason)
        return (self._ok(), "", res,
                [self._voucher_row(self._v_view(x)) for x in vs], "ok",
                False)

    def _fn_voucher_list(self, req):
        self._v(req)
        b = self._bs_values(req.values)
        holder = b.get("holder")
        rows = [self._voucher_row(self._v_view(x)) for x in sorted(
            self.scf["vouchers"].values(),
            key=lambda x: (x["root_id"], x["voucher_id"]))
            if self._v_visible(x) and
            (holder is None or self._is_us(x["holder"]) == (holder == "us"))]
        rows, extra = self._list_page(req, "voucher_list", rows,
                                      holder or "")
        return (self._ok(), "", extra, rows, "ok", False)

    # -- admin (Python API; the admin port maps onto these) --

    def bills_settings(self, **kw):
        """The desk's settings: auto_sign_ms, voucher_rate,
        financing_rate."""
        return desk.BillsScfBank.set_settings(self, **kw)

    def set_bank_date(self, day=None, days=None):
        """Move the bank date: day (YYYY-MM-DD) or days (offset from the
        real date); neither = back to the real date."""
        with self.lock:
            real = dt.datetime.now(self.profile.tz).date()
            if day is not None:
                d = dt.date.fromisoformat(day)
                self.day_offset = (d - real).days
            elif days is not None:
                if not isinstance(days, int) or isinstance(days, bool):
                    raise ValueError("days: an integer")
                self.day_offset = days
            else:
                self.day_offset = 0
            self._settle_locked()
            self._bs_tick_locked()
            self._save_locked()
            return {"today": self.today().isoformat(),
                    "offset_days": self.day_offset}

    def bs_requests_list(self):
        with self.lock:
            return json.loads(json.dumps(list(self.bs_requests.values())))


class BankCN(_BillsDoor, desk.BillsScfBank):
    """The simulator; start() serves, stop() ends. See the module text."""

    def __init__(self, profile, state_dir, login="H2HCORP01", user=None,
                 accounts=None, cert=None, key=None, ca=None, sign_cert=None,
                 sign_key=None, client_sign_cert=None, client_sign_ca=None,
                 seed=None, closed=None, page_size=20, settle_ms=1000,
                 lifetime=900, port=0, admin_port=0, verbose=False, log=None,
                 bank_code=CN_BANK_CODE, pool_id=desk.DEFAULT_POOL_ID):
        self.profile = profile if isinstance(profile, Profile) else \
            Profile(profile)
        P = self.profile
        if P.framing == "http":
            if not (cert and key and ca):
                raise ValueError("framing http needs --cert, --key and --ca "
                                 "(mutual TLS)")
        elif cert or key or ca:
            raise ValueError("framing tcp is plain TCP on loopback: no "
                             "--cert/--key/--ca")
        if P.rsig_where != "none" and not (sign_cert and sign_key):
            raise ValueError("the profile signs answers: --sign-cert and "
                             "--sign-key needed")
        if P.sig_where != "none" and \
                (client_sign_cert is None) == (client_sign_ca is None):
            raise ValueError("the profile signs requests: give exactly one of "
                             "--client-sign-cert, --client-sign-ca")
        for fn in (cert, key, ca, sign_cert, sign_key, client_sign_cert,
                   client_sign_ca):
            if fn and not os.path.isfile(fn):
                raise ValueError("no such file: %s" % fn)
        if not 1 <= int(page_size) <= 1000:
            raise ValueError("page size 1..1000")
        self.login = login
        self.user = user or login
        self.cert, self.key, self.ca = cert, key, ca
        self.sign_cert, self.sign_key = sign_cert, sign_key
        self.client_sign_cert = client_sign_cert
        self.client_sign_ca = client_sign_ca
        self.page_size = int(page_size)
        self.settle_ms = int(settle_ms)
        self.lifetime = lifetime
        self.want_port, self.want_admin_port = port, admin_port
        self.verbose = verbose
        self._log = log
        self.lock = threading.RLock()
        self._arr_lock = threading.Lock()
        self._arr_seq = None
        self._stopping = threading.Event()
        self.stopped = threading.Event()
        self._conns = set()
        self.faults = dict(FAULT_DEFAULTS)
        self.last_reply = None
        self.port = self.admin_port = None
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = state_dir
        self.tmp = tempfile.mkdtemp(prefix="bank-cn-")
        self.cms = Cms(self.tmp)
        self.state_file = os.path.join(state_dir, "state.json")
        self.arrivals_file = os.path.join(state_dir, "arrivals.jsonl")
        kf = os.path.join(state_dir, "token.key")
        if not os.path.exists(kf):
            _atomic_write(kf, secrets.token_bytes(32))
        with open(kf, "rb") as f:
            self.token_key = f.read()
        self.seed = self._load_seed(seed) if seed else None
        acc = []
        for a in (accounts or []):
            acc += [x for x in a.split(",") if x]
        if not acc and not (self.seed and self.seed["accounts"]):
            acc = ["755912345610001"]
        for a in acc:
            if not re.fullmatch(r"[0-9]{10,30}", a):
                raise ValueError("account %r: 10..30 digits" % a)
        self.cli_accounts = acc
        self.cli_closed = set()
        for a in (closed or []):
            self.cli_closed.update(x for x in a.split(",") if x)
        self.day_offset = 0
        self.no_overdraft = True
        self._bs_init(bank_code, desk.DEFAULT_CUSTOMER, pool_id, None)
        self._load_state()
        # the desk's "us": our accounts at this bank, under our name
        self.customer_name = next(iter(self.accounts.values()))["name"]

    def log(self, msg):
        if self._log:
            self._log(msg)
        else:
            print("bank_cn: %s" % msg, file=sys.stderr, flush=True)

    # -- state --

    def today(self):
        """The bank date: the real date on the bank's clock, moved by
        set_bank_date() for the bill / SCF tests."""
        return dt.datetime.now(self.profile.tz).date() + \
            dt.timedelta(days=self.day_offset)

    def _load_seed(self, fn):
        with open(fn, encoding="utf-8") as f:
            s = json.load(f)
        if not isinstance(s, dict) or set(s) - {"accounts", "closed",
                                                "entries"}:
            raise ValueError("seed: an object with accounts, closed, entries")
        out = {"accounts": [], "closed": list(s.get("closed", [])),
               "entries": []}
        for a in s.get("accounts", []):
            if set(a) - {"account", "currency", "name", "opening_balance"} or \
                    not re.fullmatch(r"[0-9]{10,30}", a.get("account", "")):
                raise ValueError("seed account %r" % (a,))
            out["accounts"].append(a)
        for i, e in enumerate(s.get("entries", [])):
            out["entries"].append(self._check_entry(e, "seed entry %d" % i))
        return out

    @staticmethod
    def _yuan(s, what):
        if not isinstance(s, str) or \
                not re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", s):
            raise ValueError("%s: an amount in yuan like \"12.50\"" % what)
        neg = s.startswith("-")
        s = s.lstrip("-")
        a, _, b = s.partition(".")
        v = int(a) * 100 + int((b + "00")[:2])
        return -v if neg else v

    def _check_entry(self, e, what):
        allowed = {"account", "booking_date", "amount", "credit_debit",
                   "counterparty_name", "counterparty_account",
                   "counterparty_bank", "remittance", "currency"}
        if not isinstance(e, dict) or set(e) - allowed:
            raise ValueError("%s: unknown members %s" %
                             (what, sorted(set(e) - allowed)))
        for k in ("account", "booking_date", "amount", "credit_debit"):
            if k not in e:
                raise ValueError("%s: %s missing" % (what, k))
        try:
            day = dt.date.fromisoformat(e["booking_date"])
        except (TypeError, ValueError):
            raise ValueError("%s: booking_date YYYY-MM-DD" % what)
        amt = self._yuan(e["amount"], what + ": amount")
        if amt <= 0:
            raise ValueError("%s: amount > 0 (credit_debit gives the sign)" %
                             what)
        if e["credit_debit"] not in ("C", "D"):
            raise ValueError("%s: credit_debit C or D" % what)
        return {"account": e["account"], "booking_date": day.isoformat(),
                "amount": amt, "cd": e["credit_debit"],
                "currency": e.get("currency", "CNY"),
                "counterparty_name": e.get("counterparty_name", ""),
                "counterparty_account": e.get("counterparty_account", ""),
                "counterparty_bank": e.get("counterparty_bank", ""),
                "remittance": e.get("remittance", "")}

    def _fresh_state(self):
        self.day_offset = 0
        self._bs_fresh()
        self.settings = dict(self.settings_defaults)
        self.bs_requests = {}   # bill / SCF serial -> record
        self.payments = {}      # serial -> record
        self.accounts = {}      # account -> {currency, name, opening}
        self.entries = []
        self.next_seq = 1
        self.next_ref = 1
        self.closed = set(self.cli_closed)
        today = self.today()
        seed_acc = {a["account"]: a for a in
                    (self.seed["accounts"] if self.seed else [])}
        for a in self.cli_accounts + [x for x in seed_acc
                                      if x not in self.cli_accounts]:
            s = seed_acc.get(a, {})
            self.accounts[a] = {
                "currency": s.get("currency", "CNY"),
                "name": s.get("name", "深圳前海示例科技有限公司"),
                "opening": self._yuan(s.get("opening_balance", "1000000.00"),
                                      "opening_balance")}
        if self.seed:
            self.closed |= set(self.seed["closed"])
            for e in self.seed["entries"]:
                self._book_locked(**e)
        else:
            for n, a in enumerate(self.accounts):
                for i in range(8):
                    day = today - dt.timedelta(days=8 - i)
                    self._book_locked(
                        account=a, booking_date=day.isoformat(),
                        amount=(i + 1) * 123456 + n * 7, cd="C",
                        currency=self.accounts[a]["currency"],
                        counterparty_name=DEFAULT_NAMES[i],
                        counterparty_account="62220%014d" % (i * 1111 + n),
                        counterparty_bank="中国工商银行上海分行",
                        remittance=DEFAULT_REMITTANCE[i])

    def _load_state(self):
        with self.lock:
            if os.path.exists(self.state_file):
                with open(self.state_file, encoding="utf-8") as f:
                    st = json.load(f)
                self.payments = st["payments"]
                self.accounts = st["accounts"]
                self.entries = st["entries"]
                self.next_seq = st["next_seq"]
                self.next_ref = st["next_ref"]
                self.closed = set(st["closed"])
                self.day_offset = st.get("day_offset", 0)
                self.bs_requests = st.get("bs_requests", {})
                self._bs_load(st)
            else:
                self._fresh_state()
                self._save_locked()

    def _save_locked(self):
        st = {"payments": self.payments, "accounts": self.accounts,
              "entries": self.entries, "next_seq": self.next_seq,
              "next_ref": self.next_ref, "closed": sorted(self.closed),
              "day_offset": self.day_offset,
              "bs_requests": self.bs_requests}
        st.update(self._bs_dump())
        _atomic_write(self.state_file, json.dumps(
            st, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    def _book_locked(self, account, booking_date, amount, cd, currency="CNY",
                     counterparty_name="", counterparty_account="",
                     counterparty_bank="", remittance="", serial="",
                     bank_ref=""):
        seq = self.next_seq
        self.next_seq += 1
        ymd = booking_date.replace("-", "")
        e = {"seq": seq, "entry_id": "%s%07d" % (ymd, seq),
             "receipt_id": "R%s%07d" % (ymd, seq), "account": account,
             "booking_date": booking_date, "amount": int(amount), "cd": cd,
             "currency": currency, "counterparty_name": counterparty_name,
             "counterparty_account": counterparty_account,
             "counterparty_bank": counterparty_bank,
             "remittance": remittance, "serial": serial,
             "bank_ref": bank_ref}
        self.entries.append(e)
        return e

    def _new_ref_locked(self):
        r = "%010d" % (5000000000 + self.next_ref)
        self.next_ref += 1
        return r

    def _settle_locked(self, now=None):
        """Make due instructions final (and book them), oldest first."""
        now = time.time() if now is None else now
        due = sorted((p for p in self.payments.values()
                      if p["status"] == "pending" and p["settle_at"] <= now),
                     key=lambda p: p["settle_at"])
        if not due:
            return
        day = self.today().isoformat()
        for p in due:
            v = p["values"]
            if p["kind"] == "payment":
                p["status"], p["reason"] = p["final"], p["final_reason"]
                if p["status"] == "finished":
                    self._book_payment_locked(day, v, v["amount"], p["serial"],
                                              p["bank_ref"], v)
            else:
                for it in p["items"]:
                    it["status"], it["reason"] = it["final"], \
                        it["final_reason"]
                    if it["status"] == "finished":
                        self._book_payment_locked(
                            day, v, it["amount"],
                            "%s-%s" % (p["serial"], it["item_no"]),
                            p["bank_ref"], it)
                p["status"], p["reason"] = "finished", ""
        self._save_locked()

    def _book_payment_locked(self, day, v, amount, serial, ref, cred):
        self._book_locked(v["debtor_account"], day, amount, "D",
                          v["currency"], cred["creditor_name"],
                          cred["creditor_account"],
                          cred.get("creditor_bank", ""),
                          cred.get("remittance", ""), serial, ref)
        if cred["creditor_account"] in self.accounts:
            deb = self.accounts[v["debtor_account"]]
            self._book_locked(cred["creditor_account"], day, amount, "C",
                              v["currency"], deb["name"], v["debtor_account"],
                              "", cred.get("remittance", ""), "", ref)

    def _balance_locked(self, acct):
        a = self.accounts[acct]
        bal = a["opening"]
        for e in self.entries:
            if e["account"] == acct:
                bal += e["amount"] if e["cd"] == "C" else -e["amount"]
        pend = 0
        for p in self.payments.values():
            if p["status"] != "pending" or \
                    p["values"]["debtor_account"] != acct:
                continue
            pend += p["values"]["amount"] if p["kind"] == "payment" else \
                sum(i["amount"] for i in p["items"])
        return bal, bal - pend

    # -- arrivals --

    def _arrival(self, **rec):
        with self._arr_lock:
            rec.setdefault("time", dt.datetime.now(dt.timezone.utc)
                           .isoformat(timespec="milliseconds"))
            for k in ("function", "code", "serial", "request_id", "outcome",
                      "ret_code", "error", "fault", "bank_ref", "status"):
                rec.setdefault(k, None)
            if self._arr_seq is None:
                try:
                    with open(self.arrivals_file, "rb") as f:
                        self._arr_seq = sum(1 for _ in f)
                except FileNotFoundError:
                    self._arr_seq = 0
            self._arr_seq += 1
            rec["seq"] = self._arr_seq
            with open(self.arrivals_file, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) +
                        "\n")
                f.flush()

    def arrivals(self):
        with self._arr_lock:
            try:
                with open(self.arrivals_file, encoding="utf-8") as f:
                    return [json.loads(x) for x in f if x.strip()]
            except FileNotFoundError:
                return []

    def count_arrivals(self, serial=None, outcome=None, function=None):
        return sum(1 for a in self.arrivals()
                   if (serial is None or a["serial"] == serial) and
                   (outcome is None or a["outcome"] == outcome) and
                   (function is None or a["function"] == function))

    # -- inspection and control --

    def ledger(self):
        with self.lock:
            self._settle_locked()
            out = {"today": self.today().isoformat(), "accounts": []}
            for a, info in self.accounts.items():
                bal, avail = self._balance_locked(a)
                out["accounts"].append({
                    "account": a, "currency": info["currency"],
                    "name": info["name"],
                    "opening": self.profile.fmt_amount(info["opening"], True),
                    "balance": self.profile.fmt_amount(bal, True),
                    "available": self.profile.fmt_amount(avail, True),
                    "entries": [dict(e, amount_fen=e["amount"],
                                     amount=self.profile.fmt_amount(
                                         e["amount"]))
                                for e in self.entries if e["account"] == a]})
            return out

    def payments_list(self):
        with self.lock:
            self._settle_locked()
            return json.loads(json.dumps(list(self.payments.values())))

    def faults_state(self):
        with self.lock:
            return dict(self.faults)

    def set_faults(self, **kw):
        known = set(FAULT_DEFAULTS) | {"clear"}
        bad = sorted(set(kw) - known)
        if bad:
            raise ValueError("unknown fault %s" % ", ".join(bad))
        for k in FAULT_COUNTERS + ("latency_ms",):
            if k in kw and (not isinstance(kw[k], int) or
                            isinstance(kw[k], bool) or kw[k] < 0):
                raise ValueError("%s: an integer >= 0" % k)
        if "timeout_mode" in kw and kw["timeout_mode"] not in ("hold",
                                                               "close"):
            raise ValueError("timeout_mode: hold or close")
        if "timeout_hold_s" in kw and (
                not isinstance(kw["timeout_hold_s"], (int, float)) or
                isinstance(kw["timeout_hold_s"], bool) or
                kw["timeout_hold_s"] < 0):
            raise ValueError("timeout_hold_s: a number >= 0")
        with self.lock:
            if kw.get("clear"):
                self.faults = dict(FAULT_DEFAULTS)
            for k in FAULT_DEFAULTS:
                if k in kw:
                    self.faults[k] = kw[k]
            return dict(self.faults)

    def set_settings(self, **kw):
        bad = sorted(set(kw) - {"settle_ms", "page_size", "closed"})
        if bad:
            raise ValueError("unknown setting %s" % ", ".join(bad))
        with self.lock:
            if "settle_ms" in kw:
                if not isinstance(kw["settle_ms"], int) or kw["settle_ms"] < 0:
                    raise ValueError("settle_ms: an integer >= 0")
                self.settle_ms = kw["settle_ms"]
            if "page_size" in kw:
                if not isinstance(kw["page_size"], int) or \
                        not 1 <= kw["page_size"] <= 1000:
                    raise ValueError("page_size: 1..1000")
                self.page_size = kw["page_size"]
            if "closed" in kw:
                if not isinstance(kw["closed"], list):
                    raise ValueError("closed: a list of accounts")
                self.closed = set(kw["closed"])
                self._save_locked()
            return {"settle_ms": self.settle_ms, "page_size": self.page_size,
                    "closed": sorted(self.closed)}

    def add_entries(self, entries):
        if not isinstance(entries, list):
            raise ValueError("entries: a list")
        checked = [self._check_entry(e, "entry %d" % i)
                   for i, e in enumerate(entries)]
        with self.lock:
            for e in checked:
                if e["account"] not in self.accounts:
                    raise ValueError("entry for unknown account %s" %
                                     e["account"])
            out = [self._book_locked(**e) for e in checked]
            self._save_locked()
            return out

    def reset(self):
        with self.lock:
            self.faults = dict(FAULT_DEFAULTS)
            self.last_reply = None
            self._fresh_state()
            self._save_locked()
        with self._arr_lock:
            open(self.arrivals_file, "w").close()
            self._arr_seq = 0

    # -- request processing --

    def process(self, data, content_type=None, sig_header=None):
        """One request (bytes without framing) -> Reply."""
        P = self.profile
        with self.lock:
            f = self.faults
            latency = f["latency_ms"]
            if f["drop_next"] > 0:
                f["drop_next"] -= 1
                self._arrival(outcome="dropped", fault="drop")
                return Reply(mode="close")
            if f["replay_last_response_next"] > 0 and self.last_reply:
                f["replay_last_response_next"] -= 1
                last = self.last_reply
                self._arrival(outcome="fault_replay", fault="replay")
                self._sleep(latency)
                return Reply(last.body, last.sig_header)
        req = Request()
        arrival = {}
        created = False
        try:
            self._decode(data, content_type, req)
            arrival.update(function=req.fn.name, code=req.code,
                           request_id=req.values.get("request_id"),
                           serial=req.values.get("serial"))
            with self.lock:
                if self.faults["busy_next"] > 0:
                    self.faults["busy_next"] -= 1
                    arrival["fault"] = "busy"
                    raise Refusal("busy", "系统繁忙,请稍后再试 (busy)", "busy")
            self._check_signature(data, sig_header)
            if req.values.get("login") not in (None, self.login) or \
                    req.values.get("user") not in (None, self.user):
                raise Refusal("login", "登录名无效 (unknown login/user)")
            with self.lock:
                self._settle_locked()
                self._bs_tick_locked()
                code, msg, result, items, outcome, created = \
                    self._function(req)
                arrival.update(outcome=outcome, ret_code=code,
                               bank_ref=result.get("bank_ref"),
                               status=result.get("status"))
                if outcome != "ok" and msg:
                    arrival["error"] = msg
        except Refusal as r:
            code = P.codes_busy[0] if r.kind == "busy" else \
                P.codes_not_found[0] if r.kind == "not_found" else \
                P.errors[r.kind]
            msg, result, items = r.message, {}, []
            arrival.update(outcome=r.outcome, ret_code=code, error=r.message)
        body = self._answer(req, code, msg, result, items)
        reply = self._sign_reply(body)
        with self.lock:
            f = self.faults
            if created and f["timeout_after_create_next"] > 0:
                f["timeout_after_create_next"] -= 1
                arrival["fault"] = "timeout_after_create:" + f["timeout_mode"]
                self._arrival(**arrival)
                return Reply(mode=f["timeout_mode"])
            fault = None
            if f["garbage_next"] > 0:
                f["garbage_next"] -= 1
                fault = "garbage"
            elif f["bad_response_signature_next"] > 0:
                f["bad_response_signature_next"] -= 1
                fault = "bad_response_signature"
            else:
                self.last_reply = reply
            if fault:
                arrival["fault"] = fault
            self._arrival(**arrival)
        if fault == "garbage":
            reply = self._garbage()
        elif fault == "bad_response_signature":
            reply = self._sign_reply(body, other=True)
        self._sleep(latency)
        return reply

    def _sleep(self, ms):
        if ms:
            self._stopping.wait(ms / 1000.0)

    def _garbage(self):
        P = self.profile
        body = ('<?xml version="1.0" encoding="%s"?>\n<%s>' %
                (P.encoding, P.root)).encode("ascii") + \
            b"\xff\xfe\x81\x20\xff" + ("</%s>" % P.root).encode("ascii")
        hdr = None
        if P.rsig_where == "http-header":
            hdr = (P.rsig_header, b64(self.cms.sign(body, self.sign_cert,
                                                    self.sign_key)))
        return Reply(body, hdr)

    def _sign_reply(self, body, other=False):
        P = self.profile
        if P.rsig_where == "none":
            return Reply(body)
        signed = body + b" (other bytes)" if other else body
        sig = b64(self.cms.sign(signed, self.sign_cert, self.sign_key))
        if P.rsig_where == "http-header":
            return Reply(body, (P.rsig_header, sig))
        return Reply(element_sig_insert(body, P.rsig_element, sig))

    def _answer(self, req, code, msg, result, items):
        P = self.profile
        root = etree.Element(P.root)
        for p in P.echo:
            if p in req.echo:
                xml_set(root, p, req.echo[p])
        xml_set(root, P.code_path, code)
        xml_set(root, P.message_path, msg or "")
        if P.rsig_where == "element":
            xml_set(root, P.rsig_element, "")
        fn = req.fn
        if fn is not None and code in P.codes_ok:
            base = xml_base(root, P.response_body)
            for k, v in result.items():
                if k in fn.result:
                    xml_set(base, fn.result[k], v)
            for it in items:
                el = xml_new_item(base, fn.result_items)
                for k, v in it.items():
                    if k in fn.result_item and k not in VALUE_KEYS:
                        xml_set(el, fn.result_item[k], v)
        text = etree.tostring(root, encoding="unicode")
        # a character the charset lacks (from a seed) becomes a character
        # reference, as libxml2 would write it
        return ('<?xml version="1.0" encoding="%s"?>\n' % P.encoding +
                text).encode(P.codec, "xmlcharrefreplace")

    # decoding and structure

    def _decode(self, data, content_type, req):
        P = self.profile
        if content_type is not None:
            mt, params = parse_content_type(content_type)
            cs = params.get("charset")
            if cs is not None and cs.upper() != P.encoding:
                raise Refusal("format", "报文编码错误: Content-Type charset %s, "
                              "expected %s" % (cs, P.encoding))
        m = re.match(rb'<\?xml\s+version\s*=\s*["\']1\.0["\']\s+encoding\s*=\s*'
                     rb'["\']([A-Za-z0-9_.-]+)["\']\s*(?:standalone\s*=\s*'
                     rb'["\'](?:yes|no)["\']\s*)?\?>', data)
        if not m:
            raise Refusal("format", "报文格式错误: the XML declaration with "
                          "encoding=\"%s\" must come first" % P.encoding)
        declared = m.group(1).decode("ascii")
        if declared.upper() != P.encoding:
            raise Refusal("format", "报文编码错误: declared %s, expected %s" %
                          (declared, P.encoding))
        try:
            text = data.decode(P.codec, errors="strict")
        except UnicodeDecodeError as e:
            raise Refusal("format", "报文编码错误: bytes at offset %d do not "
                          "decode as %s" % (e.start, P.encoding))
        if text.startswith("\ufeff"):
            raise Refusal("format", "报文格式错误: byte order mark")
        rest = text[m.end():]
        if re.search(r"<!DOCTYPE|<!ENTITY", rest):
            raise Refusal("format", "报文格式错误: DOCTYPE not allowed")
        parser = etree.XMLParser(resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=False,
                                 remove_comments=True, remove_pis=True)
        try:
            root = etree.fromstring(rest.encode("utf-8"), parser)
        except etree.XMLSyntaxError as e:
            raise Refusal("format", "报文格式错误: not well-formed XML: %s" % e)
        req.root = root
        # the header echo first: even a refused request gets it back
        for p in P.echo:
            v = _find_text(root, p)
            if v is not None:
                req.echo[p] = v
        if root.tag != P.root:
            raise Refusal("format", "报文格式错误: root <%s>, expected <%s>" %
                          (root.tag, P.root))
        code = _find_text(root, P.function_path)
        if code is None:
            raise Refusal("format", "报文格式错误: no function code at %s" %
                          P.function_path)
        req.code = code
        fn = P.by_code.get(code)
        if fn is None:
            raise Refusal("format", "交易代码不存在: unknown function %r" % code)
        req.fn = fn
        spec = self._spec(fn)
        vals = {}
        self._walk(root, spec, P.root, vals, req)
        req.values = vals

    def _spec(self, fn):
        """Tree of what a request of fn may contain."""
        P = self.profile

        def node():
            return {"kids": {}, "attrs": {}, "tmpl": None, "repeat": False,
                    "item": None}

        def put(tree, path, tmpl, what):
            parts, attr = split_path(path)
            n = tree
            for p in parts:
                n = n["kids"].setdefault(p, node())
            if attr:
                n["attrs"][attr] = (tmpl, what)
            else:
                n["tmpl"] = (tmpl, what)
            return n

        root = node()
        for p, t, toks in P.merged_header(fn):
            put(root, p, t, "header")
        body = root
        for p in split_path(P.body)[0]:
            body = body["kids"].setdefault(p, node())
        for p, t, toks in fn.request:
            put(body, p, t, "request")
        if fn.items:
            parts = split_path(fn.items)[0]
            n = body
            for p in parts:
                n = n["kids"].setdefault(p, node())
            n["repeat"] = True
            item = node()
            for p, t, toks in fn.item:
                put(item, p, t, "item")
            n["item"] = item
        if P.sig_where == "element":
            put(root, P.sig_element, None, "signature")
        return root

    def _walk(self, el, spec, where, vals, req, item_vals=None):
        target = item_vals if item_vals is not None else vals
        if el.tag is etree.Comment or not isinstance(el.tag, str):
            return
        if "}" in el.tag or ":" in el.tag:
            raise Refusal("format", "报文格式错误: namespaces are not allowed "
                          "(%s)" % where)
        for a, v in el.attrib.items():
            if a not in spec["attrs"]:
                raise Refusal("format", "报文格式错误: unexpected attribute "
                              "%s/@%s" % (where, a))
            tmpl, _ = spec["attrs"][a]
            self._match(tmpl, v, "%s/@%s" % (where, a), target)
        for a in spec["attrs"]:
            if a not in el.attrib:
                raise Refusal("format", "报文格式错误: attribute %s/@%s "
                              "missing" % (where, a))
        kids = [c for c in el if isinstance(c.tag, str)]
        if spec["tmpl"] is not None and not spec["kids"]:
            if kids:
                raise Refusal("format", "报文格式错误: %s must hold text, not "
                              "elements" % where)
            tmpl, what = spec["tmpl"]
            if tmpl is not None:
                self._match(tmpl, el.text or "", where, target)
            return
        if (el.text or "").strip() or any((c.tail or "").strip()
                                          for c in el):
            raise Refusal("format", "报文格式错误: text inside %s (mixed "
                          "content)" % where)
        counts = {}
        for c in kids:
            w = "%s/%s" % (where, c.tag)
            if c.tag not in spec["kids"]:
                raise Refusal("format", "报文格式错误: unexpected element %s" %
                              w)
            counts[c.tag] = counts.get(c.tag, 0) + 1
            sub = spec["kids"][c.tag]
            if sub["repeat"]:
                iv = {}
                self._walk(c, sub["item"], w, vals, req, iv)
                req.items.append(iv)
                continue
            if counts[c.tag] > 1:
                raise Refusal("format", "报文格式错误: element %s repeated" % w)
            self._walk(c, sub, w, vals, req, item_vals)
        for name, sub in spec["kids"].items():
            if not sub["repeat"] and counts.get(name, 0) == 0:
                raise Refusal("format", "报文格式错误: element %s/%s missing" %
                              (where, name))

    def _match(self, tmpl, text, where, vals):
        P = self.profile
        toks = template_tokens(tmpl)
        if not toks:
            if text != tmpl:
                raise Refusal("format", "报文格式错误: %s must be %r, got %r" %
                              (where, tmpl, text))
            return
        pattern, names, pos = [], [], 0
        for m in TOKEN_RE.finditer(tmpl):
            pattern.append(re.escape(tmpl[pos:m.start()]))
            t = m.group(1)
            sub = ".*?"
            # date and time shapes only to tell adjacent tokens apart; a
            # lone token takes any text and its value is judged later
            if len(toks) == 1:
                pass
            elif t in ("date", "from", "to"):
                sub = P.date_re.pattern
                sub = re.sub(r"\(\?P<[a-z]+>", "(?:", sub)
            elif t == "time":
                sub = re.sub(r"\(\?P<[a-z]+>", "(?:", P.time_re.pattern)
            pattern.append("(%s)" % sub)
            names.append(t)
            pos = m.end()
        pattern.append(re.escape(tmpl[pos:]))
        m = re.fullmatch("".join(pattern), text, re.S)
        if not m:
            raise Refusal("format", "报文格式错误: %s does not match %r: %r" %
                          (where, tmpl, text))
        for t, v in zip(names, m.groups()):
            if t in vals and vals[t] != v:
                raise Refusal("invalid", "字段不一致: {%s} is %r at %s but %r "
                              "elsewhere" % (t, v, where, vals[t]))
            vals[t] = v

    def _check_signature(self, data, sig_header):
        P = self.profile
        if P.sig_where == "none":
            return
        if P.sig_where == "http-header":
            if not sig_header:
                raise Refusal("signature", "签名缺失: %s header missing" %
                              P.sig_header, "bad_signature")
            signed, text = data, sig_header
        else:
            r = element_sig_split(data, P.sig_element)
            if isinstance(r, str):
                raise Refusal("signature", "签名缺失: " + r, "bad_signature")
            signed, text = r
        der = b64_strict(text)
        if der is None:
            raise Refusal("signature", "签名格式错误: not standard base64 "
                          "(padded, no line breaks)", "bad_signature")
        why = self.cms.verify(signed, der, ca=self.client_sign_ca,
                              pinned=self.client_sign_cert)
        if why:
            raise Refusal("signature", "验签失败: " + why, "bad_signature")

    # functions

    def _function(self, req):
        """-> (code, message, result, items, outcome, created)."""
        h = getattr(self, "_fn_" + req.fn.name)
        return h(req)

    def _v(self, req):
        """Validate the common values of req; returns the checked dict."""
        P = self.profile
        v = req.values
        lim = P.limits
        today = self.today()
        if "date" in v:
            d = P.parse_date(v["date"])
            real = dt.datetime.now(P.tz).date()
            if d is None or (abs((d - today).days) > 1 and
                             abs((d - real).days) > 1):
                raise Refusal("invalid", "日期错误: {date} %r is not the "
                              "bank's date (%s)" % (v["date"],
                                                    P.fmt_date(today)))
        if "time" in v and P.parse_time(v["time"]) is None:
            raise Refusal("invalid", "时间错误: {time} %r" % v["time"])
        if "request_id" in v and \
                not re.fullmatch(r"[A-Za-z0-9-]{1,30}", v["request_id"]):
            raise Refusal("invalid", "请求流水号错误: {request_id} %r" %
                          v["request_id"])
        if "serial" in v and not re.fullmatch(
                r"[A-Za-z0-9-]{1,%d}" % lim["serial"], v["serial"]):
            raise Refusal("invalid", "业务参考号错误: {serial} %r (1..%d of "
                          "A-Z a-z 0-9 -)" % (v["serial"], lim["serial"]))
        return v

    def _text(self, s, limit, what, optional=False):
        if s is None:
            return ""
        if not optional and not s.strip():
            raise Refusal("invalid", "%s不能为空: {%s} is blank" %
                          (_CN.get(what, ""), what))
        if len(s) > limit:
            raise Refusal("invalid", "%s过长: {%s} has %d characters, at most "
                          "%d" % (_CN.get(what, ""), what, len(s), limit))
        if re.search("[\x00-\x1f\x7f]", s):
            raise Refusal("invalid", "非法字符: {%s} has a control character"
                          % what)
        if s != s.strip() and s.strip():
            raise Refusal("invalid", "非法字符: {%s} has leading or trailing "
                          "blanks" % what)
        return s

    def _acct(self, s, what):
        if not re.fullmatch(r"[0-9]{10,30}", s or ""):
            raise Refusal("invalid", "账号格式错误: {%s} %r must be 10..30 "
                          "digits" % (what, s))
        return s

    def _own(self, s, what):
        self._acct(s, what)
        if s not in self.accounts:
            raise Refusal("account", "账户不属于本客户: {%s} %s is not one of "
                          "this customer's accounts" % (what, s))
        return s

    def _amount(self, s, what):
        fen = self.profile.parse_amount(s or "")
        if fen is None:
            unit = self.profile.amount_unit
            raise Refusal("invalid", "金额格式错误: {%s} %r is not an amount in "
                          "%s (%s)" % (what, s, unit, "123450" if unit == "fen"
                                       else "1234.50"))
        return fen

    def _currency(self, v, acct):
        P = self.profile
        ccy = None
        if "currency_code" in v:
            ccy = P.code_to_ccy.get(v["currency_code"])
            if ccy is None:
                raise Refusal("invalid", "币种错误: {currency_code} %r" %
                              v["currency_code"])
        if "currency" in v:
            if v["currency"] not in P.ccy_to_code or \
                    (ccy and v["currency"] != ccy):
                raise Refusal("invalid", "币种错误: {currency} %r" %
                              v["currency"])
            ccy = v["currency"]
        if ccy != self.accounts[acct]["currency"]:
            raise Refusal("invalid", "币种错误: %s is not the currency of the "
                          "account (%s)" % (ccy,
                                            self.accounts[acct]["currency"]))
        return ccy

    def _result_of(self, p):
        P = self.profile
        r = {"serial": p["serial"], "bank_ref": p["bank_ref"],
             "status": P.status_value[p["status"]], "reason": p["reason"]}
        if p["kind"] == "payment":
            r["amount"] = P.fmt_amount(p["values"]["amount"])
        return r

    def _idempotent(self, kind, serial, fingerprint):
        """None (new) or the answer tuple for a repeat."""
        p = self.payments.get(serial)
        if p is None:
            b = self.bs_requests.get(serial)
            if b is not None:
                raise Refusal("duplicate", "业务参考号重复: serial %s was "
                              "used for a %s request (bank ref %s)" %
                              (serial, b["kind"], b["bank_ref"]),
                              "conflict")
            return None
        if p["kind"] == kind and p["fingerprint"] == fingerprint:
            return (self._ok(), "", dict(p["original"]), [], "replayed",
                    False)
        raise Refusal("duplicate", "业务参考号重复: serial %s was used for "
                      "another instruction (bank ref %s)" %
                      (serial, p["bank_ref"]), "conflict")

    def _ok(self):
        return self.profile.codes_ok[0]

    def _fn_payment(self, req):
        P = self.profile
        v = self._v(req)
        lim = P.limits
        self._own(v["debtor_account"], "debtor_account")
        vals = {
            "debtor_account": v["debtor_account"],
            "debtor_name": self._text(v.get("debtor_name"), lim["name"],
                                      "debtor_name",
                                      optional="debtor_name" not in v),
            "creditor_account": self._acct(v["creditor_account"],
                                           "creditor_account"),
            "creditor_name": self._text(v["creditor_name"], lim["name"],
                                        "creditor_name"),
            "creditor_bank": self._text(v.get("creditor_bank"),
                                        lim["bank_name"], "creditor_bank",
                                        True),
            "remittance": self._text(v.get("remittance"), lim["remittance"],
                                     "remittance", True),
            "amount": self._amount(v["amount"], "amount"),
            "currency": self._currency(v, v["debtor_account"]),
        }
        if vals["creditor_account"] == vals["debtor_account"]:
            raise Refusal("invalid", "收付款账号相同: debtor and creditor are "
                          "the same account")
        fp = _fingerprint(vals)
        rep = self._idempotent("payment", v["serial"], fp)
        if rep:
            return rep
        now = time.time()
        closed = vals["creditor_account"] in self.closed
        p = {"kind": "payment", "serial": v["serial"], "fingerprint": fp,
             "values": vals, "created": now,
             "settle_at": now + self.settle_ms / 1000.0,
             "status": "pending", "reason": "",
             "final": "rejected" if closed else "finished",
             "final_reason": "收款账户已销户 (creditor account closed)"
             if closed else "",
             "bank_ref": self._new_ref_locked(), "items": []}
        self.payments[p["serial"]] = p
        if self.settle_ms == 0:
            self._settle_locked(now)
        p["original"] = self._result_of(p)
        self._save_locked()
        return (self._ok(), "", dict(p["original"]), [], "created", True)

    def _fn_payroll(self, req):
        P = self.profile
        v = self._v(req)
        lim = P.limits
        self._own(v["debtor_account"], "debtor_account")
        n = len(req.items)
        if n == 0:
            raise Refusal("invalid", "明细为空: the batch has no items")
        if n > lim["batch_items"]:
            raise Refusal("invalid", "明细过多: %d items, at most %d" %
                          (n, lim["batch_items"]))
        items = []
        total = 0
        for i, it in enumerate(req.items, 1):
            try:
                if it.get("item_no") != str(i):
                    raise Refusal("invalid", "{item_no} is %r, expected %d" %
                                  (it.get("item_no"), i))
                x = {"item_no": str(i),
                     "creditor_account": self._acct(it["creditor_account"],
                                                    "creditor_account"),
                     "creditor_name": self._text(it["creditor_name"],
                                                 lim["name"],
                                                 "creditor_name"),
                     "creditor_bank": self._text(it.get("creditor_bank"),
                                                 lim["bank_name"],
                                                 "creditor_bank", True),
                     "remittance": self._text(it.get("remittance"),
                                              lim["remittance"],
                                              "remittance", True),
                     "amount": self._amount(it["amount"], "amount")}
            except Refusal as r:
                raise Refusal(r.kind, "第%d笔明细: item %d: %s" %
                              (i, i, r.message))
            total += x["amount"]
            items.append(x)
        if "count" in v and v["count"] != str(n):
            raise Refusal("invalid", "总笔数不符: {count} %r but %d items" %
                          (v["count"], n))
        if "total" in v:
            t = self._amount(v["total"], "total")
            if t != total:
                raise Refusal("invalid", "总金额不符: {total} %r but the items "
                              "add up to %s" % (v["total"],
                                                P.fmt_amount(total)))
        vals = {"debtor_account": v["debtor_account"],
                "debtor_name": self._text(v.get("debtor_name"), lim["name"],
                                          "debtor_name",
                                          optional="debtor_name" not in v),
                "currency": self._currency(v, v["debtor_account"]),
                "amount": total}
        fp = _fingerprint({"batch": vals, "items": items})
        rep = self._idempotent("payroll", v["serial"], fp)
        if rep:
            return rep
        now = time.time()
        for x in items:
            closed = x["creditor_account"] in self.closed
            x.update(status="pending", reason="",
                     final="rejected" if closed else "finished",
                     final_reason="收款账户已销户 (creditor account closed)"
                     if closed else "")
        p = {"kind": "payroll", "serial": v["serial"], "fingerprint": fp,
             "values": vals, "created": now,
             "settle_at": now + self.settle_ms / 1000.0,
             "status": "pending", "reason": "", "final": "finished",
             "final_reason": "", "bank_ref": self._new_ref_locked(),
             "items": items}
        self.payments[p["serial"]] = p
        if self.settle_ms == 0:
            self._settle_locked(now)
        p["original"] = self._result_of(p)
        self._save_locked()
        return (self._ok(), "", dict(p["original"]), [], "created", True)

    def _inquiry(self, req, kind):
        v = self._v(req)
        p = self.payments.get(v["serial"])
        if p is None or p["kind"] != kind:
            raise Refusal("not_found", "无此业务参考号: serial %s not found" %
                          v["serial"], "not_found")
        return p

    def _fn_payment_status(self, req):
        p = self._inquiry(req, "payment")
        return (self._ok(), "", self._result_of(p), [], "ok", False)

    def _fn_payroll_result(self, req):
        P = self.profile
        p = self._inquiry(req, "payroll")
        items = [{"item_no": it["item_no"],
                  "creditor_account": it["creditor_account"],
                  "creditor_name": it["creditor_name"],
                  "amount": P.fmt_amount(it["amount"]),
                  "status": P.status_value[it["status"]],
                  "reason": it["reason"]} for it in p["items"]]
        return (self._ok(), "", self._result_of(p), items, "ok", False)

    def _fn_balance(self, req):
        P = self.profile
        v = self._v(req)
        a = self._own(v["account"], "account")
        bal, avail = self._balance_locked(a)
        info = self.accounts[a]
        r = {"account": a, "name": info["name"],
             "currency": P.ccy_to_code.get(info["currency"],
                                           info["currency"]),
             "balance": P.fmt_amount(bal, True),
             "available": P.fmt_amount(avail, True)}
        return (self._ok(), "", r, [], "ok", False)

    def _range(self, v):
        P = self.profile
        a = self._own(v["account"], "account")
        f, t = P.parse_date(v["from"]), P.parse_date(v["to"])
        if f is None or t is None:
            raise Refusal("invalid", "日期格式错误: {from}/{to} %r/%r are not "
                          "dates in %s" % (v["from"], v["to"], P.date_format))
        if f > t or (t - f).days > 366:
            raise Refusal("invalid", "日期范围错误: from %s to %s (from <= to, "
                          "at most 366 days)" % (v["from"], v["to"]))
        return a, f, t

    def _page(self, req, fname):
        """-> (entries of this page, {next: token} or {more: flag})."""
        P = self.profile
        v = self._v(req)
        a, f, t = self._range(v)
        rows = sorted((e for e in self.entries if e["account"] == a and
                       f.isoformat() <= e["booking_date"] <= t.isoformat()),
                      key=lambda e: (e["booking_date"], e["seq"]))
        size = self.page_size
        page = v.get("page", "")
        if P.paging == "token":
            if page:
                m = re.fullmatch(r"([0-9]{8})([0-9]{10})([0-9A-F]{12})", page)
                if not m or not hmac.compare_digest(
                        m.group(3), self._mac(fname, a, f, t, m.group(1),
                                              m.group(2))):
                    raise Refusal("invalid", "续传键无效: the continuation "
                                  "token %r is not valid for this account "
                                  "and range" % page)
                pos = ("%s-%s-%s" % (m.group(1)[:4], m.group(1)[4:6],
                                     m.group(1)[6:]), int(m.group(2)))
                rows = [e for e in rows
                        if (e["booking_date"], e["seq"]) > pos]
            out = rows[:size]
            nxt = ""
            if len(rows) > size:
                last = out[-1]
                ymd = last["booking_date"].replace("-", "")
                sq = "%010d" % last["seq"]
                nxt = ymd + sq + self._mac(fname, a, f, t, ymd, sq)
            return out, {"next": nxt}
        if not re.fullmatch(r"[0-9]{1,9}", page) or int(page) < P.page_first:
            raise Refusal("invalid", "页码错误: {page} %r (from %d)" %
                          (page, P.page_first))
        start = (int(page) - P.page_first) * size
        out = rows[start:start + size]
        more = len(rows) > start + size
        return out, {"more": P.more_value if more else P.last_value}

    def _mac(self, fname, a, f, t, ymd, sq):
        msg = "|".join((fname, a, f.isoformat(), t.isoformat(), ymd, sq))
        return hmac.new(self.token_key, msg.encode(), hashlib.sha256) \
            .hexdigest()[:12].upper()

    def _entry_view(self, e, fn):
        P = self.profile
        ri = fn.result_item
        return {"entry_id": e["entry_id"], "receipt_id": e["receipt_id"],
                "booking_date": P.fmt_date(dt.date.fromisoformat(
                    e["booking_date"])),
                "value_date": P.fmt_date(dt.date.fromisoformat(
                    e["booking_date"])),
                "amount": P.fmt_amount(e["amount"]),
                "currency": P.ccy_to_code.get(e["currency"], e["currency"]),
                "credit_debit": ri.get("credit_value") if e["cd"] == "C"
                else ri.get("debit_value"),
                "counterparty_name": e["counterparty_name"],
                "counterparty_account": e["counterparty_account"],
                "counterparty_bank": e["counterparty_bank"],
                "remittance": e["remittance"], "serial": e["serial"],
                "bank_ref": e["bank_ref"]}

    def _fn_transactions(self, req):
        rows, extra = self._page(req, "transactions")
        fn = req.fn
        return (self._ok(), "", extra, [self._entry_view(e, fn) for e in rows],
                "ok", False)

    def _fn_receipts(self, req):
        rows, extra = self._page(req, "receipts")
        fn = req.fn
        return (self._ok(), "", extra, [self._entry_view(e, fn) for e in rows],
                "ok", False)

    def _fn_receipt_download(self, req):
        self._v(req)
        rid = req.values["receipt_id"]
        e = next((x for x in self.entries if x["receipt_id"] == rid), None)
        if e is None:
            raise Refusal("not_found", "回单不存在: receipt %r not found" % rid,
                          "not_found")
        pdf = make_pdf(self._receipt_lines(e))
        r = {"receipt_id": rid, "name": "%s.pdf" % rid, "content": b64(pdf)}
        return (self._ok(), "", r, [], "ok", False)

    def _receipt_lines(self, e):
        P = self.profile
        return ["Electronic receipt (simulated bank: %s)" % P.name,
                "Receipt id: %s" % e["receipt_id"],
                "Entry id: %s" % e["entry_id"],
                "Booking date: %s" % e["booking_date"],
                "Account: %s" % e["account"],
                "%s %s %s.%02d" % ("Credit" if e["cd"] == "C" else "Debit",
                                   e["currency"], e["amount"] // 100,
                                   e["amount"] % 100),
                "Counterparty account: %s" % e["counterparty_account"],
                "Customer serial: %s" % (e["serial"] or "-"),
                "Bank reference: %s" % (e["bank_ref"] or "-")]

    # -- servers --

    def _tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)
        ctx.load_verify_locations(cafile=self.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def start(self):
        if self.profile.framing == "http":
            self.server = _TLSServer(("127.0.0.1", self.want_port),
                                     _HttpHandler, self, self._tls_context())
        else:
            self.server = _TcpServer(("127.0.0.1", self.want_port),
                                     _TcpHandler, self)
        self.admin = _AdminServer(("127.0.0.1", self.want_admin_port),
                                  _AdminHandler, self)
        self.port = self.server.server_address[1]
        self.admin_port = self.admin.server_address[1]
        self._threads = [threading.Thread(target=s.serve_forever,
                                          kwargs={"poll_interval": 0.1},
                                          daemon=True)
                         for s in (self.server, self.admin)]
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
        for srv in (getattr(self, "server", None),
                    getattr(self, "admin", None)):
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
        _rmtree(self.tmp)
        self.stopped.set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _conn_add(self, c):
        with self.lock:
            self._conns.add(c)

    def _conn_del(self, c):
        with self.lock:
            self._conns.discard(c)

    def _hold(self, conn):
        """timeout_after_create, mode hold: read until the client goes."""
        end = time.monotonic() + self.faults_state()["timeout_hold_s"]
        conn.settimeout(0.2)
        while not self._stopping.is_set() and time.monotonic() < end:
            try:
                d = conn.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                break
            if not d:
                break


_CN = {"creditor_name": "收款人户名", "debtor_name": "付款人户名",
       "remittance": "用途", "creditor_bank": "收款行名"}


def _fingerprint(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def _find_text(root, path):
    """Text at path below root (first match), or None."""
    parts, attr = split_path(path)
    el = root
    for p in parts:
        el = next((c for c in el if isinstance(c.tag, str) and c.tag == p),
                  None)
        if el is None:
            return None
    if attr:
        return el.get(attr)
    return el.text or ""


def _atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _Stop(Exception):
    pass


class _TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, sim, ctx):
        self.sim = sim
        self.ctx = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.sim.log("TLS handshake refused: %s" % e) \
                if self.sim.verbose else None
            try:
                request.close()
            except OSError:
                pass
            return
        tls.settimeout(30)
        self.sim._conn_add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (OSError, ssl.SSLError, _Stop):
            pass
        finally:
            self.sim._conn_del(tls)
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        self.sim.log("error serving %s: %r" % (client_address,
                                               sys.exc_info()[1]))


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bank-cn-sim/1"

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            self.server.sim.log("%s %s" % (self.address_string(),
                                           fmt % args))

    def _plain(self, status, text):
        body = text.encode("utf-8")
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        self._plain(405, "POST only\n")

    do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def do_POST(self):
        sim = self.server.sim
        P = sim.profile
        try:
            if self.headers.get("Transfer-Encoding"):
                return self._plain(411, "Content-Length required (no "
                                   "chunked bodies)\n")
            cl = self.headers.get_all("Content-Length") or []
            if len(cl) != 1 or not re.fullmatch(r"[0-9]{1,10}", cl[0]):
                return self._plain(411, "one Content-Length required\n")
            n = int(cl[0])
            if n > MAX_MESSAGE:
                return self._plain(413, "body over %d bytes\n" % MAX_MESSAGE)
            # read the body first: closing with unread bytes resets the
            # connection and the client may lose the answer
            body = self.rfile.read(n)
            if len(body) != n:
                self.close_connection = True
                return
            ct = self.headers.get("Content-Type")
            mt = parse_content_type(ct)[0] if ct else None
            if mt not in ("text/xml", "application/xml"):
                return self._plain(415, "Content-Type must be text/xml or "
                                   "application/xml\n")
            sig = None
            if P.sig_where == "http-header":
                vals = self.headers.get_all(P.sig_header) or []
                sig = vals[0] if len(vals) == 1 else None
            reply = sim.process(body, ct, sig)
            if reply.mode == "hold":
                self.close_connection = True
                sim._hold(self.connection)
                raise _Stop()
            if reply.mode == "close":
                self.close_connection = True
                raise _Stop()
            self.send_response_only(200)
            self.send_header("Content-Type", P.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.sig_header:
                self.send_header(*reply.sig_header)
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except _Stop:
            raise
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a simulator bug must show, not hang
            sim.log("internal error: %r\n%s" % (e, traceback.format_exc()))
            self.close_connection = True


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, sim):
        self.sim = sim
        super().__init__(addr, handler)


class _TcpHandler(socketserver.BaseRequestHandler):
    def _read(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.request.settimeout(left)
            try:
                d = self.request.recv(min(65536, n - len(buf)))
            except (socket.timeout, OSError):
                return None
            if not d:
                return None
            buf += d
        return bytes(buf)

    def _send(self, body):
        P = self.server.sim.profile
        n = P.length_digits
        if len(body) >= 10 ** n:
            raise RuntimeError("answer too long for the length prefix")
        self.request.sendall(b"%0*d" % (n, len(body)) + body)

    def handle(self):
        sim = self.server.sim
        P = sim.profile
        sim._conn_add(self.request)
        try:
            deadline = time.monotonic() + 30
            prefix = self._read(P.length_digits, deadline)
            if prefix is None:
                return
            if not re.fullmatch(rb"[0-9]+", prefix) or int(prefix) == 0 or \
                    int(prefix) > MAX_MESSAGE:
                sim._arrival(outcome="rejected", ret_code=P.errors["format"],
                             error="bad length prefix %r" % prefix)
                body = sim._answer(Request(), P.errors["format"],
                                   "报文长度错误: bad length prefix %r" %
                                   prefix.decode("ascii", "replace"), {}, [])
                self._send(sim._sign_reply(body).body)
                return
            data = self._read(int(prefix), deadline)
            if data is None:
                sim._arrival(outcome="rejected", ret_code=P.errors["format"],
                             error="message shorter than its length prefix")
                return
            reply = sim.process(data)
            if reply.mode == "hold":
                sim._hold(self.request)
                return
            if reply.mode == "close":
                return
            self._send(reply.body)
        except OSError:
            pass
        except Exception as e:
            sim.log("internal error: %r\n%s" % (e, traceback.format_exc()))
        finally:
            sim._conn_del(self.request)


class _AdminServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, sim):
        self.sim = sim
        super().__init__(addr, handler)


class _AdminHandler(http.server.BaseHTTPRequestHandler):
    server_version = "bank-cn-admin/1"

    def log_message(self, fmt, *args):
        if self.server.sim.verbose:
            self.server.sim.log("admin %s" % (fmt % args))

    def _send(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        sim = self.server.sim
        p = self.path.split("?")[0]
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
        if p == "/admin/bs_requests":
            return self._send(200, sim.bs_requests_list())
        return self._send(404, {"error": "not_found"})

    def do_POST(self):
        sim = self.server.sim
        p = self.path.split("?")[0]
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
            if p == "/admin/settings":
                return self._send(200, sim.set_settings(**obj))
            if p == "/admin/entries":
                if set(obj) != {"entries"}:
                    raise ValueError("only 'entries'")
                return self._send(200, {"entries": sim.add_entries(
                    obj["entries"])})
            hook = {"/admin/bills/counterparty": sim.bill_counterparty,
                    "/admin/bills/present": sim.bill_present,
                    "/admin/bills/pool": sim.set_pool,
                    "/admin/bills/settings": sim.bills_settings,
                    "/admin/scf/review": sim.scf_review,
                    "/admin/scf/voucher": sim.voucher_hook,
                    "/admin/today": sim.set_bank_date}.get(p)
            if hook is not None:
                return self._send(200, hook(**obj))
        except desk.HookError as e:
            return self._send(e.status, {"error": e.error,
                                         "message": e.message})
        except desk.Refusal as e:
            return self._send(409, e.body())
        except (ValueError, TypeError) as e:
            return self._send(400, {"error": "invalid_request",
                                    "message": str(e)})
        return self._send(404, {"error": "not_found"})


# -------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Chinese bank direct-connect front end simulator, "
                    "configured by a cnbank_xml profile")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--state", required=True, help="state directory")
    ap.add_argument("--login", default="H2HCORP01")
    ap.add_argument("--user", help="{user} (default: the login)")
    ap.add_argument("--accounts", nargs="+",
                    help="our accounts (default 755912345610001)")
    ap.add_argument("--cert", help="TLS server certificate (http framing)")
    ap.add_argument("--key", help="TLS server key")
    ap.add_argument("--ca", help="CA for TLS client certificates (required)")
    ap.add_argument("--sign-cert", help="bank's signing certificate")
    ap.add_argument("--sign-key")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--client-sign-cert",
                   help="the customer's signing certificate (pinned)")
    g.add_argument("--client-sign-ca",
                   help="CA the customer's signing certificates chain to")
    ap.add_argument("--seed", help="JSON seed file")
    ap.add_argument("--closed", nargs="+", help="closed payee accounts")
    ap.add_argument("--page-size", type=int, default=20)
    ap.add_argument("--settle-ms", type=int, default=1000)
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--admin-port", type=int, default=0)
    ap.add_argument("--bank-code", default=CN_BANK_CODE,
                    help="this bank's 12-digit CNAPS code (bills, SCF)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    try:
        sim = BankCN(profile=a.profile, state_dir=a.state, login=a.login,
                     user=a.user, accounts=a.accounts, cert=a.cert,
                     key=a.key, ca=a.ca, sign_cert=a.sign_cert,
                     sign_key=a.sign_key,
                     client_sign_cert=a.client_sign_cert,
                     client_sign_ca=a.client_sign_ca, seed=a.seed,
                     closed=a.closed, page_size=a.page_size,
                     settle_ms=a.settle_ms, lifetime=a.lifetime,
                     port=a.port, admin_port=a.admin_port,
                     verbose=a.verbose, bank_code=a.bank_code)
        sim.start()
    except ProfileError as e:
        print(e, file=sys.stderr)
        return 2
    except (ValueError, OSError, ssl.SSLError, KeyError) as e:
        print("bank_cn: %s" % e, file=sys.stderr)
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
