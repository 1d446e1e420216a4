#!/usr/bin/python3
"""Self-test of the open-banking REST API simulator (bank_openapi.py).

Run: /usr/bin/python3 tests/sims/test_bank_openapi_selftest.py [-v] [filter]
Exit status 0 when every check passed.

The simulator runs as a subprocess (the CLI h2hd's tests use) with a PKI
made here: tests/sims/pki.py's make_pki() when it is there and works, plus
the certificates it does not make (client signing certificates, a second
trusted client CN, a signer from the untrusted CA) issued with the openssl
CLI; without pki.py everything comes from the openssl CLI. It is driven
over real mutual TLS with http.client. Request signatures are made, and
every /v1 response signature is checked, with `openssl cms` (not with the
simulator's code). Expected IBAN check digits come from Python's big
integers, expected balances from the amounts sent here. A second simulator
runs in-process (Python API) for the pinned signing certificate, token
expiry, scheduled payments, overdraft, restarts and reset.

The bill pool and supply-chain finance API (BILLS_API) gets a third CLI
simulator (test_bills_scf: every draft, financing and voucher operation,
each refusal code, idempotency, split arithmetic, pool quota, a voucher's
whole life with the ledger checked at each step), an in-process one
(test_bills_inprocess: no-overdraft codes, restart, reset) and a check
that every bank code was produced (test_bills_codes). Word: bills.
"""
import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bank_openapi  # noqa: E402

PY = "/usr/bin/python3"
SIM = os.path.join(HERE, "bank_openapi.py")
VERBOSE = "-v" in sys.argv
FILTER = [a for a in sys.argv[1:] if not a.startswith("-")]
TODAY = dt.date(2024, 3, 4)          # the CLI simulator's --today
CLIENT_ID = "h2hd-test-client"
SECRET = "s3cr3t-Value_with+odd=chars"
MAX_AMOUNT = "10000.00"
OPENING = Decimal("1000000.00")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


def make_iban(country, bban):
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%s%02d%s" % (country, 98 - int(digits) % 97, bban)


DEBTOR = make_iban("DE", "500105175407324931")
DEBTOR2 = make_iban("NL", "INGB0001234567")
SEEDED = make_iban("FR", "20041010050500013M02606")
CREDITOR = "GB29NWBK60161331926819"
CREDITOR_BAD_SUM = "GB29NWBK60161331926818"
OWN2 = make_iban("DE", "370400440532013000")


# -- PKI ----------------------------------------------------------------------

def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    if r.returncode:
        raise RuntimeError("openssl %s: %s" % (args[0], r.stderr.decode()))
    return r.stdout


def leaf(d, name, cn, ca, ca_key, eku=None, san=None):
    """EC P-256 leaf issued by ca with the openssl CLI."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    args = ["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", crt, "-subj", "/CN=" + cn, "-days", "2",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "keyUsage=critical,digitalSignature"]
    if ca:
        args += ["-CA", ca, "-CAkey", ca_key]
    if eku:
        args += ["-addext", "extendedKeyUsage=" + eku]
    if san:
        args += ["-addext", "subjectAltName=" + san]
    openssl(*args)
    return crt, key


def own_root(d, name, cn):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", crt, "-subj", "/CN=" + cn, "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return crt, key


def cert_cn(path):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    with open(path, "rb") as f:
        c = x509.load_pem_x509_certificate(f.read())
    cns = c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return cns[0].value if len(cns) == 1 else None


def make_certs(d):
    os.makedirs(d, exist_ok=True)
    p = {}
    try:
        import pki
        man = pki.make_pki(os.path.join(d, "pki"))
        for k in ("ca", "ca2", "server", "client", "client2", "signer"):
            for f in ("cert", "key"):
                check(os.path.isfile(man[k][f]), "pki %s %s" % (k, f))
        p["ca"], p["ca_key"] = man["ca"]["cert"], man["ca"]["key"]
        p["ca2"], p["ca2_key"] = man["ca2"]["cert"], man["ca2"]["key"]
        p["server"], p["server_key"] = man["server"]["cert"], \
            man["server"]["key"]
        p["client"], p["client_key"] = man["client"]["cert"], \
            man["client"]["key"]
        p["rogue_client"], p["rogue_client_key"] = man["client2"]["cert"], \
            man["client2"]["key"]
        p["bank_sign"], p["bank_sign_key"] = man["signer"]["cert"], \
            man["signer"]["key"]
        p["source"] = "pki.py"
    except Exception as e:  # missing or changed: our own, same shape
        if VERBOSE:
            print("pki.py not used (%r); openssl CLI PKI" % e)
        p = {"source": "openssl"}
        p["ca"], p["ca_key"] = own_root(d, "ca", "h2hd selftest CA")
        p["ca2"], p["ca2_key"] = own_root(d, "ca2", "untrusted CA")
        p["server"], p["server_key"] = leaf(
            d, "server", "localhost", p["ca"], p["ca_key"], "serverAuth",
            "IP:127.0.0.1,DNS:localhost")
        p["client"], p["client_key"] = leaf(
            d, "client", "h2hd client", p["ca"], p["ca_key"], "clientAuth")
        p["rogue_client"], p["rogue_client_key"] = leaf(
            d, "rogue_client", "h2hd client", p["ca2"], p["ca2_key"],
            "clientAuth")
        p["bank_sign"], p["bank_sign_key"] = leaf(
            d, "bank_sign", "bank signing", p["ca"], p["ca_key"],
            "emailProtection")
    p["client_cn"] = cert_cn(p["client"])
    check(p["client_cn"], "client CN")
    p["other_client"], p["other_client_key"] = leaf(
        d, "other_client", "someone else", p["ca"], p["ca_key"], "clientAuth")
    p["client_sign"], p["client_sign_key"] = leaf(
        d, "client_sign", "h2hd signing", p["ca"], p["ca_key"],
        "emailProtection")
    p["client_sign2"], p["client_sign2_key"] = leaf(
        d, "client_sign2", "h2hd signing 2", p["ca"], p["ca_key"],
        "emailProtection")
    p["rogue_sign"], p["rogue_sign_key"] = leaf(
        d, "rogue_sign", "h2hd signing", p["ca2"], p["ca2_key"],
        "emailProtection")
    return p


# -- client side --------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # list of (name, value)
        self.body = body

    def h(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return vals[0] if len(vals) == 1 else (None if not vals else vals)

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Env:
    """What every test gets: PKI, simulator ports, helpers."""

    def __init__(self, tmp, pki):
        self.tmp = tmp
        self.pki = pki
        self.seen_ids = set()
        self.n = 0
        self.token = None

    # TLS / HTTP

    def ctx(self, cert="client", tls_max=None):
        c = ssl.create_default_context(cafile=self.pki["ca"])
        if cert:
            c.load_cert_chain(self.pki[cert], self.pki[cert + "_key"])
        if tls_max:
            c.maximum_version = tls_max
        return c

    def raw(self, method, path, body=None, headers=None, cert="client",
            timeout=10, port=None, conn=None):
        own = conn is None
        if own:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", port or self.port, context=self.ctx(cert),
                timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Resp(r.status, r.getheaders(), r.read())
        finally:
            if own:
                conn.close()

    def call(self, method, path, body=None, headers=None, token=True,
             verify=True, **kw):
        """A /v1 call; checks the response signature unless verify=False."""
        hd = dict(headers or {})
        if token is True:
            token = self.token
        if token and "Authorization" not in hd:
            hd["Authorization"] = "Bearer " + token
        r = self.raw(method, path, body, hd, **kw)
        if verify:
            self.check_signed(r)
        return r

    def check_signed(self, r, expect_ok=True):
        rid, ts = r.h("X-Response-Id"), r.h("X-Response-Timestamp")
        sig = r.h("X-Response-Signature")
        check(isinstance(rid, str) and re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
            r"[0-9a-f]{12}", rid), "X-Response-Id %r" % rid)
        check(isinstance(ts, str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ts),
            "X-Response-Timestamp %r" % ts)
        check(isinstance(sig, str), "no X-Response-Signature")
        ok = self.verify(ts.encode() + b"\n" + rid.encode() + b"\n" + r.body,
                         base64.b64decode(sig, validate=True))
        eq(ok, expect_ok, "response signature verifies (%r)" % r)
        if expect_ok:
            check(rid not in self.seen_ids, "response id reused: %s" % rid)
            self.seen_ids.add(rid)

    def verify(self, data, sig_der, ca=None):
        self.n += 1
        dp = os.path.join(self.tmp, "v%d.data" % self.n)
        sp = os.path.join(self.tmp, "v%d.sig" % self.n)
        with open(dp, "wb") as f:
            f.write(data)
        with open(sp, "wb") as f:
            f.write(sig_der)
        r = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
             "-in", sp, "-content", dp, "-CAfile", ca or self.pki["ca"],
             "-purpose", "any", "-out", os.devnull], capture_output=True,
            stdin=subprocess.DEVNULL, timeout=30)
        os.unlink(dp)
        os.unlink(sp)
        return r.returncode == 0

    def sign(self, body, signer="client_sign", md="sha256", detached=True):
        self.n += 1
        bp = os.path.join(self.tmp, "s%d.body" % self.n)
        sp = os.path.join(self.tmp, "s%d.sig" % self.n)
        with open(bp, "wb") as f:
            f.write(body)
        args = ["cms", "-sign", "-binary", "-outform", "DER", "-md", md,
                "-signer", self.pki[signer],
                "-inkey", self.pki[signer + "_key"],
                "-in", bp, "-out", sp]
        if not detached:
            args.append("-nodetach")
        openssl(*args)
        with open(sp, "rb") as f:
            der = f.read()
        os.unlink(bp)
        os.unlink(sp)
        return base64.b64encode(der).decode()

    def get_token(self, cert="client", client_id=CLIENT_ID, secret=SECRET,
                  scope=None, port=None):
        form = "grant_type=client_credentials&client_id=%s&client_secret=%s" \
            % (quote(client_id), quote(secret))
        if scope is not None:
            form += "&scope=" + quote(scope)
        r = self.raw("POST", "/oauth/token", form.encode(),
                     {"Content-Type": "application/x-www-form-urlencoded"},
                     cert=cert, port=port)
        return r

    def new_token(self, **kw):
        r = self.get_token(**kw)
        eq(r.status, 200, "token status (%r)" % r)
        return r.json["access_token"]

    # payments

    def body(self, e2e, amount="12.00", ccy="EUR", debtor=DEBTOR,
             creditor=CREDITOR, **extra):
        obj = {"end_to_end_id": e2e,
               "instructed_amount": {"amount": amount, "currency": ccy},
               "debtor_account": {"iban": debtor},
               "creditor_account": {"iban": creditor},
               "creditor_name": "Creditor Ltd"}
        obj.update(extra)
        return json.dumps(obj).encode()

    def pay(self, key, body, signer="client_sign", sig=None, headers=None,
            **kw):
        hd = {"Content-Type": "application/json"}
        if key is not None:
            hd["Idempotency-Key"] = key
        if sig is None and signer:
            sig = self.sign(body, signer)
        if sig is not None:
            hd["X-Request-Signature"] = sig
        hd.update(headers or {})
        return self.call("POST", "/v1/payments", body, hd, **kw)

    # admin

    def admin(self, method, path, obj=None, port=None):
        c = http.client.HTTPConnection("127.0.0.1", port or self.admin_port,
                                       timeout=10)
        try:
            body = json.dumps(obj).encode() if obj is not None else None
            c.request(method, path, body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, json.loads(r.read())
        finally:
            c.close()

    def faults(self, **kw):
        st, ans = self.admin("POST", "/admin/faults", kw)
        eq(st, 200, "admin faults %r" % ans)
        return ans

    def arrivals(self, **match):
        st, arr = self.admin("GET", "/admin/arrivals")
        eq(st, 200, "admin arrivals")
        return [a for a in arr if all(a.get(k) == v for k, v in match.items())]

    def balance(self, iban, kind="interimAvailable", ccy="EUR"):
        r = self.call("GET", "/v1/accounts/%s/balances" % iban)
        eq(r.status, 200, "balances %r" % r)
        for b in r.json["balances"]:
            if b["type"] == kind and b["amount"]["currency"] == ccy:
                return Decimal(b["amount"]["amount"]), b["date"]
        raise Fail("no %s %s balance in %r" % (kind, ccy, r.json))


def quote(s):
    from urllib.parse import quote as q
    return q(s, safe="")


def refused(fn):
    """True when fn() fails at the TLS/TCP level without an HTTP answer."""
    try:
        r = fn()
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected,
            http.client.BadStatusLine, OSError):
        return True
    raise Fail("got an HTTP answer: %r" % r)


# -- tests against the CLI simulator (share one process, in order) ------------

def t01_tls_client_cert_required(e):
    eq(e.raw("POST", "/oauth/token", b"x", cert="client").status, 400,
       "a proper client certificate gets an HTTP answer")
    check(refused(lambda: e.raw("GET", "/v1/payments/x", cert=None)),
          "no client cert")
    check(refused(lambda: e.raw("GET", "/v1/payments/x",
                                cert="rogue_client")),
          "client cert from an untrusted CA")
    # TLS 1.2: the refusal happens in the handshake itself
    s = socket.create_connection(("127.0.0.1", e.port), timeout=10)
    c = e.ctx(cert=None, tls_max=ssl.TLSVersion.TLSv1_2)
    try:
        try:
            t = c.wrap_socket(s, server_hostname="127.0.0.1")
            t.sendall(b"GET / HTTP/1.1\r\n\r\n")
            got = t.recv(100)
            raise Fail("TLS 1.2 without a client cert answered %r" % got)
        except (ssl.SSLError, ConnectionError):
            pass
    finally:
        s.close()
    check(refused(lambda: _plain_http(e)), "plain HTTP on the TLS port")


def _plain_http(e):
    c = http.client.HTTPConnection("127.0.0.1", e.port, timeout=5)
    try:
        c.request("GET", "/v1/payments/x")
        return c.getresponse()
    finally:
        c.close()


def t02_token(e):
    r = e.get_token()
    eq(r.status, 200, "token (%r)" % r)
    j = r.json
    eq(sorted(j), ["access_token", "expires_in", "token_type"], "token keys")
    eq((j["token_type"], j["expires_in"]), ("Bearer", 300), "token type/ttl")
    check(re.fullmatch(r"[A-Za-z0-9_-]{43}", j["access_token"]), "token shape")
    eq(r.h("Cache-Control"), "no-store", "token Cache-Control")
    check(r.h("X-Response-Signature") is None, "token answer is not signed")
    e.token = j["access_token"]
    r = e.get_token(secret=SECRET + "x")
    eq((r.status, r.json["error"]), (401, "invalid_client"), "wrong secret")
    r = e.get_token(client_id="someone")
    eq((r.status, r.json["error"]), (401, "invalid_client"), "wrong id")
    r = e.get_token(cert="other_client")
    eq((r.status, r.json["error"]), (401, "invalid_client"), "wrong cert CN")
    r = e.raw("POST", "/oauth/token",
              b"grant_type=password&client_id=%s&client_secret=x" %
              CLIENT_ID.encode(),
              {"Content-Type": "application/x-www-form-urlencoded"})
    eq((r.status, r.json["error"]), (400, "unsupported_grant_type"),
       "grant type")
    r = e.get_token(scope="payments admin")
    eq((r.status, r.json["error"]), (400, "invalid_scope"), "bad scope")
    r = e.raw("POST", "/oauth/token", json.dumps({
        "grant_type": "client_credentials"}).encode(),
        {"Content-Type": "application/json"})
    eq((r.status, r.json["error"]), (400, "invalid_request"), "json body")
    r = e.raw("POST", "/oauth/token",
              ("grant_type=client_credentials&client_id=%s&client_id=%s&"
               "client_secret=%s" % (CLIENT_ID, CLIENT_ID, quote(SECRET))
               ).encode(),
              {"Content-Type": "application/x-www-form-urlencoded"})
    eq((r.status, r.json["error"]), (400, "invalid_request"), "duplicate")
    r = e.raw("POST", "/oauth/token",
              b"client_id=x&client_secret=y",
              {"Content-Type": "application/x-www-form-urlencoded"})
    eq((r.status, r.json["error"]), (400, "invalid_request"), "no grant")
    eq(e.raw("GET", "/oauth/token").status, 405, "GET token")
    r = e.get_token(scope="accounts")
    eq((r.status, r.json.get("scope")), (200, "accounts"), "scoped token")
    e.accounts_token = r.json["access_token"]


def t03_authorization(e):
    path = "/v1/accounts/%s/balances" % SEEDED
    r = e.call("GET", path, token=None)
    eq((r.status, r.json["error"]), (401, "invalid_token"), "no token")
    eq(r.h("WWW-Authenticate"), 'Bearer error="invalid_token"',
       "WWW-Authenticate")
    r = e.call("GET", path, token="A" * 43)
    eq((r.status, r.json["error"]), (401, "invalid_token"), "unknown token")
    r = e.call("GET", path, headers={"Authorization": "Basic " + e.token})
    eq(r.status, 401, "Basic scheme")
    # a token is bound to the certificate it was issued over
    r = e.call("GET", path, cert="other_client")
    eq((r.status, r.json["error"]), (401, "invalid_token"), "other CN")
    eq(e.call("GET", path).status, 200, "good token")
    r = e.call("GET", "/v1/payments/pay_000000000000000000000000",
               token=e.accounts_token)
    eq((r.status, r.json["error"]), (403, "insufficient_scope"), "scope")
    eq(e.call("GET", path, token=e.accounts_token).status, 200,
       "accounts scope reads balances")
    r = e.call("POST", "/v1/payments", e.body("E2E-NOAUTH"), token=None,
               headers={"Idempotency-Key": "key-noauth",
                        "Content-Type": "application/json"})
    eq(r.status, 401, "payment without token")
    eq([(a["outcome"], a["http_status"], a["end_to_end_id"])
        for a in e.arrivals(idempotency_key="key-noauth")],
       [("unauthorized", 401, "E2E-NOAUTH")], "unauthorized arrival")
    r = e.call("GET", "/v1/nothing")
    eq((r.status, r.json["error"]), (404, "not_found"), "unknown path")
    r = e.call("DELETE", "/v1/payments")
    eq((r.status, r.h("Allow")), (405, "GET, POST"), "method")
    r = e.call("GET", "/v1/accounts/%s/balances?x=1" % SEEDED)
    eq((r.status, r.json["field"]), (400, "x"), "unknown query parameter")


def t04_payment_and_idempotency(e):
    eq(e.call("GET", "/v1/accounts/%s/balances" % DEBTOR).status, 404,
       "no account before its first payment")
    before = OPENING
    body = e.body("E2E-0001", "123.45", remittance_information="inv 1",
                  creditor_agent={"bic": "NWBKGB2LXXX"},
                  requested_execution_date=TODAY.isoformat())
    r = e.pay("key-0001", body)
    eq(r.status, 201, "create (%r)" % r)
    j = r.json
    eq(sorted(j), ["end_to_end_id", "payment_id", "status", "status_reason"],
       "201 members")
    eq((j["status"], j["status_reason"], j["end_to_end_id"]),
       ("ACCP", None, "E2E-0001"), "201 values")
    check(re.fullmatch(r"pay_[0-9a-f]{24}", j["payment_id"]), "payment_id")
    eq(r.h("Location"), "/v1/payments/" + j["payment_id"], "Location")
    pid = j["payment_id"]
    after, day = e.balance(DEBTOR)
    eq((before - after, day), (Decimal("123.45"), TODAY.isoformat()),
       "debtor debited on the booking date")
    # replay: same key, same bytes
    r2 = e.pay("key-0001", body)
    eq(r2.status, 201, "replay status")
    eq(r2.body, r.body, "replay body byte for byte")
    check(r2.h("X-Response-Id") != r.h("X-Response-Id"), "fresh response id")
    eq(e.balance(DEBTOR)[0], after, "replay books nothing")
    # same key, other bytes (only whitespace differs) -> conflict
    r3 = e.pay("key-0001", body.replace(b", ", b",  ", 1))
    eq((r3.status, r3.json["error"], r3.json["payment_id"]),
       (422, "idempotency_key_reused", pid), "same key other body")
    r4 = e.pay("key-0001", e.body("E2E-0001", "999.00"))
    eq(r4.status, 422, "same key other payment")
    a = e.arrivals(idempotency_key="key-0001")
    eq([x["outcome"] for x in a], ["created", "replayed", "conflict",
                                   "conflict"], "arrival outcomes")
    eq({x["payment_id"] for x in a}, {pid}, "arrival payment ids")
    eq(a[0]["body_sha256"], hashlib.sha256(body).hexdigest(), "body sha256")
    eq((a[0]["end_to_end_id"], a[0]["status"], a[0]["http_status"]),
       ("E2E-0001", "ACCP", 201), "arrival record")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                       a[0]["time"]), "arrival time")
    # the booked entry
    r = e.call("GET", "/v1/accounts/%s/transactions?from=%s&to=%s" % (
        DEBTOR, TODAY, TODAY))
    ent = [t for t in r.json["transactions"]
           if t["end_to_end_id"] == "E2E-0001"]
    eq(len(ent), 1, "one entry")
    eq((ent[0]["amount"], ent[0]["credit_debit"], ent[0]["booking_date"],
        ent[0]["counterparty_name"], ent[0]["counterparty_account"],
        ent[0]["remittance_information"]),
       ({"amount": "-123.45", "currency": "EUR"}, "DBIT", TODAY.isoformat(),
        "Creditor Ltd", CREDITOR, "inv 1"), "entry")
    e.pid1 = pid


def t05_request_signature(e):
    body = e.body("E2E-SIG", "10.00")
    cases = [
        ("missing", dict(signer=None)),
        ("not base64", dict(sig="!!notbase64!!")),
        ("other body", dict(sig=e.sign(e.body("E2E-SIG", "10.01")))),
        ("untrusted signer", dict(signer="rogue_sign")),
        ("sha1", dict(sig=e.sign(body, md="sha1"))),
        ("not detached", dict(sig=e.sign(body, detached=False))),
        ("truncated", dict(sig=e.sign(body)[:-8])),
    ]
    for what, kw in cases:
        r = e.pay("key-sig", body, **kw)
        eq((r.status, r.json["error"]), (400, "invalid_signature"), what)
    eq(len(e.arrivals(idempotency_key="key-sig", outcome="bad_signature")),
       len(cases), "bad_signature arrivals")
    eq(e.call("GET", "/v1/payments?idempotency_key=key-sig").status, 404,
       "nothing created")
    r = e.pay("key-sig", body)
    eq((r.status, r.json["status"]), (201, "ACCP"), "key still usable")
    # the client's TLS certificate is no signing certificate for the bank
    r = e.pay("key-sig2", body, signer="client")
    eq(r.status, 201, "a cert from the signing CA verifies (CA mode)")


def t06_validation(e):
    ok = json.loads(e.body("E2E-V"))

    def variant(**changes):
        o = json.loads(json.dumps(ok))
        for path, v in changes.items():
            cur = o
            parts = path.split("__")
            for p in parts[:-1]:
                cur = cur[p]
            if v is KeyError:
                del cur[parts[-1]]
            else:
                cur[parts[-1]] = v
        return json.dumps(o).encode()
    cases = [
        ("debtor IBAN check digits", variant(
            debtor_account__iban="DE89370400440532013001"),
         "invalid_field", "debtor_account.iban"),
        ("debtor IBAN length", variant(
            debtor_account__iban=make_iban("DE", "3704004405320130001")),
         "invalid_field", "debtor_account.iban"),
        ("creditor IBAN with spaces", variant(
            creditor_account__iban="GB29 NWBK 6016 1331 9268 19"),
         "invalid_field", "creditor_account.iban"),
        ("creditor IBAN lower case", variant(
            creditor_account__iban=CREDITOR.lower()),
         "invalid_field", "creditor_account.iban"),
        ("EUR with one decimal", variant(instructed_amount__amount="12.5"),
         "invalid_field", "instructed_amount.amount"),
        ("EUR without decimals", variant(instructed_amount__amount="12"),
         "invalid_field", "instructed_amount.amount"),
        ("JPY with decimals", variant(instructed_amount__amount="12.00",
                                      instructed_amount__currency="JPY"),
         "invalid_field", "instructed_amount.amount"),
        ("BHD with two decimals", variant(instructed_amount__amount="1.25",
                                          instructed_amount__currency="BHD"),
         "invalid_field", "instructed_amount.amount"),
        ("zero", variant(instructed_amount__amount="0.00"),
         "invalid_field", "instructed_amount.amount"),
        ("negative", variant(instructed_amount__amount="-5.00"),
         "invalid_field", "instructed_amount.amount"),
        ("number, not string", variant(instructed_amount__amount=12.5),
         "invalid_field", "instructed_amount.amount"),
        ("currency lower case", variant(instructed_amount__currency="eur"),
         "invalid_field", "instructed_amount.currency"),
        ("unknown field", variant(foo="bar"), "unknown_field", "foo"),
        ("unknown nested field", variant(instructed_amount__foo=1),
         "unknown_field", "instructed_amount.foo"),
        ("missing creditor_name", variant(creditor_name=KeyError),
         "missing_field", "creditor_name"),
        ("missing amount", variant(instructed_amount__amount=KeyError),
         "missing_field", "instructed_amount.amount"),
        ("e2e 36 chars", variant(end_to_end_id="E" * 36),
         "invalid_field", "end_to_end_id"),
        ("creditor_name 71 chars", variant(creditor_name="N" * 71),
         "invalid_field", "creditor_name"),
        ("remittance 141 chars", variant(remittance_information="R" * 141),
         "invalid_field", "remittance_information"),
        ("control character", variant(creditor_name="A\tB"),
         "invalid_field", "creditor_name"),
        ("blank", variant(creditor_name="   "),
         "invalid_field", "creditor_name"),
        ("BIC country", variant(creditor_agent={"bic": "COBAQQFF"}),
         "invalid_field", "creditor_agent.bic"),
        ("BIC length", variant(creditor_agent={"bic": "COBADEFFXX"}),
         "invalid_field", "creditor_agent.bic"),
        ("date", variant(requested_execution_date="2024-02-30"),
         "invalid_field", "requested_execution_date"),
        ("date too far", variant(requested_execution_date="2025-03-05"),
         "invalid_field", "requested_execution_date"),
        ("debtor_account not an object", variant(debtor_account=DEBTOR),
         "invalid_field", "debtor_account"),
        ("duplicate member", b'{"end_to_end_id":"A","end_to_end_id":"B"}',
         "invalid_json", "end_to_end_id"),
        ("not JSON", b"{not json", "invalid_json", None),
        ("array", b"[]", "invalid_json", None),
        ("NaN", b'{"end_to_end_id": NaN}', "invalid_json", None),
        ("latin-1", variant(creditor_name="M\u00fcller").replace(
            "M\\u00fcller".encode(), "M\u00fcller".encode("latin-1")),
         "invalid_json", None),
    ]
    for i, (what, body, code, field) in enumerate(cases):
        r = e.pay("key-val-%d" % i, body)
        eq(r.status, 400, "%s: status (%r)" % (what, r))
        j = r.json
        eq((j["error"], j["field"]), (code, field), what)
        check(j["errors"][0] == {"error": code, "field": field,
                                 "message": j["message"]}, what + " errors[0]")
    # all problems are listed
    r = e.pay("key-val-multi", variant(foo=1, creditor_name=KeyError,
                                       instructed_amount__amount="1.5"))
    eq(sorted(x["field"] for x in r.json["errors"]),
       ["creditor_name", "foo", "instructed_amount.amount"], "all problems")
    # optional members may be null
    r = e.pay("key-val-null", variant(creditor_agent=None,
                                      remittance_information=None,
                                      requested_execution_date=None))
    eq(r.status, 201, "nulls for optional members")
    # a 400 does not use up the key
    r = e.pay("key-val-0", e.body("E2E-V0"))
    eq(r.status, 201, "key reusable after 400")
    eq(len(e.arrivals(outcome="rejected_invalid")), len(cases) + 1,
       "rejected_invalid arrivals")
    # headers
    body = e.body("E2E-H")
    for what, key in (("missing", None), ("bad char", "key/1"),
                      ("too long", "k" * 65), ("empty", "")):
        r = e.pay(key, body)
        eq((r.status, r.json["error"], r.json["field"]),
           (400, "invalid_header", "Idempotency-Key"), "key " + what)
    eq(e.pay("k" * 64, body).status, 201, "64-character key")
    r = e.pay("key-ctype", body, headers={"Content-Type": "text/plain"})
    eq((r.status, r.json["error"]), (415, "unsupported_media_type"), "ctype")
    r = e.pay("key-ctype", body,
              headers={"Content-Type": "application/json; charset=utf-8"})
    eq(r.status, 201, "charset parameter")
    big = e.body("E2E-BIG", remittance_information="x" * 70000)
    r = e.pay("key-big", big, signer=None, sig="AAAA")
    eq(r.status, 413, "body too large")


def t07_rejections(e):
    bal0 = e.balance(DEBTOR)[0]
    for key, body, reason in (
            ("key-ac01", e.body("E2E-AC01", creditor=CREDITOR_BAD_SUM),
             "AC01"),
            ("key-ac01b", e.body("E2E-AC01b", creditor=make_iban(
                "GB", "NWBK6016133192681")), "AC01"),   # length 21
            ("key-am03", e.body("E2E-AM03", ccy="ABC"), "AM03"),
            ("key-am02", e.body("E2E-AM02", "10000.01"), "AM02"),
            ("key-am02-jpy", e.body("E2E-AM02J", "10001", ccy="JPY"),
             "AM02")):
        r = e.pay(key, body)
        eq((r.status, r.json["status"], r.json["status_reason"]),
           (201, "RJCT", reason), key)
        g = e.call("GET", "/v1/payments?idempotency_key=" + key)
        eq((g.json["status"], g.json["status_reason"]), ("RJCT", reason),
           key + " inquiry")
        a = e.arrivals(idempotency_key=key)
        eq([(x["outcome"], x["status"], x["error"]) for x in a],
           [("created", "RJCT", reason)], key + " arrival")
    eq(e.balance(DEBTOR)[0], bal0, "rejections book nothing")
    r = e.pay("key-max", e.body("E2E-MAX", MAX_AMOUNT))
    eq(r.json["status"], "ACCP", "exactly the limit")
    eq(bal0 - e.balance(DEBTOR)[0], Decimal(MAX_AMOUNT), "booked")


def t08_inquiry(e):
    r = e.call("GET", "/v1/payments/" + e.pid1)
    eq(r.status, 200, "by id")
    j = r.json
    eq(sorted(j), ["created_at", "end_to_end_id", "payment_id", "status",
                   "status_reason"], "payment members")
    eq((j["payment_id"], j["status"], j["end_to_end_id"]),
       (e.pid1, "ACCP", "E2E-0001"), "by id values")
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                       j["created_at"]), "created_at")
    r = e.call("GET", "/v1/payments?idempotency_key=key-0001")
    eq((r.status, r.json), (200, j), "by key")
    r = e.call("GET", "/v1/payments/pay_ffffffffffffffffffffffff")
    eq((r.status, r.json["error"]), (404, "payment_not_found"), "unknown id")
    r = e.call("GET", "/v1/payments?idempotency_key=never-used")
    eq((r.status, r.json["error"]), (404, "payment_not_found"), "unknown key")
    eq(e.call("GET", "/v1/payments?idempotency_key=a%2Fb").status, 400,
       "bad key")
    eq(e.call("GET", "/v1/payments").status, 400, "no listing")
    eq(e.call("GET", "/v1/payments?idempotency_key=key-0001&x=1").status,
       400, "extra parameter")


def t09_balances_and_transactions(e):
    # the seed: opening 500.00, 12 credits of 1.00..12.00 from TODAY-20 on
    r = e.call("GET", "/v1/accounts/%s/balances" % SEEDED)
    eq(r.status, 200, "balances")
    closing = Decimal("500.00") + sum(Decimal(i) for i in range(1, 13))
    eq(r.json, {"account": SEEDED, "balances": [
        {"type": "closingBooked",
         "amount": {"amount": str(closing), "currency": "EUR"},
         "date": (TODAY - dt.timedelta(days=1)).isoformat()},
        {"type": "interimAvailable",
         "amount": {"amount": str(closing - 1), "currency": "EUR"},
         "date": TODAY.isoformat()}]}, "seeded balances (entry 13 is "
       "a debit of 1.00 booked today)")
    eq(e.call("GET", "/v1/accounts/%s/balances" % OWN2).status, 404,
       "unknown account")
    eq(e.call("GET", "/v1/accounts/DE00123/balances").json["field"], "iban",
       "bad iban")
    base = "/v1/accounts/%s/transactions?from=%s&to=%s" % (
        SEEDED, TODAY - dt.timedelta(days=30), TODAY)
    got, pages, cur, cursors = [], 0, None, []
    while True:
        r = e.call("GET", base + ("&cursor=" + cur if cur else ""))
        eq(r.status, 200, "page %d (%r)" % (pages, r))
        j = r.json
        eq(j["account"], SEEDED, "account")
        got += j["transactions"]
        pages += 1
        cur = j["next_cursor"]
        check(len(j["transactions"]) == (5 if cur else 3),
              "page size 5 (last 3): %d" % len(j["transactions"]))
        if cur is None:
            break
        cursors.append(cur)
        check(pages < 10, "paging does not end")
    eq(pages, 3, "pages for 13 entries at 5 a page")
    eq([t["remittance_information"] for t in got],
       ["seed %d" % i for i in range(1, 14)], "order (booking date, then "
       "booking order)")
    eq(len({t["entry_id"] for t in got}), 13, "unique entry ids")
    eq(got[0], {"entry_id": got[0]["entry_id"],
                "booking_date": (TODAY - dt.timedelta(days=20)).isoformat(),
                "value_date": (TODAY - dt.timedelta(days=21)).isoformat(),
                "amount": {"amount": "1.00", "currency": "EUR"},
                "credit_debit": "CRDT", "end_to_end_id": "SEED-1",
                "counterparty_name": "Customer 1",
                "counterparty_account": CREDITOR,
                "remittance_information": "seed 1",
                "bank_reference": "REF1"}, "entry members")
    eq((got[12]["amount"], got[12]["credit_debit"], got[12]["end_to_end_id"],
        got[12]["counterparty_name"]),
       ({"amount": "-1.00", "currency": "EUR"}, "DBIT", None, None),
       "a debit with nulls")
    # the same pages again: stable
    r = e.call("GET", base + "&cursor=" + cursors[0])
    eq([t["entry_id"] for t in r.json["transactions"]],
       [t["entry_id"] for t in got[5:10]], "cursor replays the same page")
    # limit
    r = e.call("GET", base + "&limit=13")
    eq((len(r.json["transactions"]), r.json["next_cursor"]), (13, None),
       "limit 13: one page, no cursor")
    r = e.call("GET", base + "&limit=12")
    check(r.json["next_cursor"] is not None, "limit 12 leaves one")
    r = e.call("GET", base + "&limit=12&cursor=" + r.json["next_cursor"])
    eq((len(r.json["transactions"]), r.json["next_cursor"]), (1, None),
       "last page of limit 12")
    # date range
    d = TODAY - dt.timedelta(days=18)
    r = e.call("GET", "/v1/accounts/%s/transactions?from=%s&to=%s" % (
        SEEDED, d, d))
    eq([t["remittance_information"] for t in r.json["transactions"]],
       ["seed 3"], "one day")
    # tampered / foreign cursors
    c = cursors[0]
    p64, mac = c.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p64 + "=" * (-len(p64) % 4)))
    payload["k"][1] = 0
    forged = base64.urlsafe_b64encode(json.dumps(
        payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    flipped = c[:-3] + ("A" if c[-3] != "A" else "B") + c[-2:]
    for what, q in (("forged payload", forged + "." + mac),
                    ("flipped mac", flipped),
                    ("garbage", "xyz"),
                    ("other range", None)):
        url = base + "&cursor=" + q if q else \
            "/v1/accounts/%s/transactions?from=%s&to=%s&cursor=%s" % (
                SEEDED, TODAY - dt.timedelta(days=29), TODAY, c)
        r = e.call("GET", url)
        eq((r.status, r.json["error"]), (400, "invalid_cursor"), what)
    for q, field in (("from=2024-01-01", "to"), ("to=2024-01-01", "from"),
                     ("from=2024-02-01&to=2024-01-01", "to"),
                     ("from=2024-1-1&to=2024-01-01", "from"),
                     ("from=2024-01-01&to=2024-01-02&limit=0", "limit"),
                     ("from=2024-01-01&to=2024-01-02&limit=501", "limit"),
                     ("from=2024-01-01&to=2024-01-02&limit=x", "limit"),
                     ("from=2024-01-01&from=2024-01-01&to=2024-01-02",
                      "from"),
                     ("from=2024-01-01&to=2024-01-02&page=2", "page")):
        r = e.call("GET", "/v1/accounts/%s/transactions?%s" % (SEEDED, q))
        eq((r.status, r.json["field"]), (400, field), q)


def t10_response_signature(e):
    r = e.call("GET", "/v1/payments/" + e.pid1, verify=False)
    ts, rid = r.h("X-Response-Timestamp"), r.h("X-Response-Id")
    sig = base64.b64decode(r.h("X-Response-Signature"))
    data = ts.encode() + b"\n" + rid.encode() + b"\n"
    check(e.verify(data + r.body, sig), "verifies over ts\\nid\\nbody")
    check(not e.verify(data + r.body.replace(b"ACCP", b"RJCT"), sig),
          "altered body fails")
    check(not e.verify(data.replace(ts[:4].encode(), b"1999") + r.body, sig),
          "altered timestamp fails")
    check(not e.verify(r.body, sig), "body alone fails")
    check(not e.verify(data + r.body, sig, ca=e.pki["ca2"]),
          "another trust anchor fails")
    # also errors are signed (call() checked a 401 and a 404 already)
    r = e.call("GET", "/v1/payments/" + e.pid1, token="bogus")
    eq(r.status, 401, "signed 401")
    # keep-alive: several answers on one connection, unique ids
    conn = http.client.HTTPSConnection("127.0.0.1", e.port, context=e.ctx(),
                                       timeout=10)
    ids = set()
    for i in range(5):
        r = e.raw("GET", "/v1/payments/" + e.pid1,
                  headers={"Authorization": "Bearer " + e.token}, conn=conn)
        eq(r.status, 200, "keep-alive %d" % i)
        e.check_signed(r)
        ids.add(r.h("X-Response-Id"))
    conn.close()
    eq(len(ids), 5, "ids on one connection")


def t11_fault_500(e):
    e.faults(http_500_next=2)
    body = e.body("E2E-500")
    r = e.pay("key-500", body)
    eq((r.status, r.json["error"]), (500, "internal_error"), "500 on POST")
    r = e.call("GET", "/v1/payments?idempotency_key=key-500")
    eq(r.status, 500, "500 on GET")
    r = e.call("GET", "/v1/payments?idempotency_key=key-500")
    eq(r.status, 404, "third call is normal and nothing was created")
    eq(e.faults()["http_500_next"], 0, "counter used up")
    r = e.pay("key-500", body)
    eq(r.status, 201, "resend after inquiry")
    eq([a["outcome"] for a in e.arrivals(idempotency_key="key-500")],
       ["fault_500", "created"], "arrivals")


def t12_fault_timeout_after_create(e):
    for mode, wait in (("hold", 1.0), ("close", 5), ("reset", 5)):
        e.faults(timeout_after_create_next=1, timeout_mode=mode,
                 timeout_hold_s=30)
        key, e2e = "key-tmo-" + mode, "E2E-TMO-" + mode
        body = e.body(e2e, "7.00")
        t0 = time.monotonic()
        try:
            r = e.pay(key, body, timeout=wait)
            raise Fail("%s: got an answer %r" % (mode, r))
        except socket.timeout:
            check(mode == "hold", "%s: timed out" % mode)
        except (ConnectionError, http.client.RemoteDisconnected,
                ssl.SSLError) as x:
            check(mode != "hold", "hold mode closed: %r" % x)
            if mode == "reset":
                check(isinstance(x, ConnectionResetError),
                      "reset mode: %r" % x)
        took = time.monotonic() - t0
        check(took < (2.5 if mode == "hold" else 1.5),
              "%s took %.1fs" % (mode, took))
        r = e.call("GET", "/v1/payments?idempotency_key=" + key)
        eq((r.status, r.json["end_to_end_id"]), (200, e2e),
           "%s: the payment exists" % mode)
        a = e.arrivals(end_to_end_id=e2e)
        eq([(x["outcome"], x["http_status"], x["fault"]) for x in a],
           [("created", None, "timeout_after_create:" + mode)],
           "%s: created once, no answer" % mode)
        # the right client move: same key, same bytes -> the same payment
        r2 = e.pay(key, body)
        eq((r2.status, r2.json["payment_id"]),
           (201, r.json["payment_id"]), "%s: resend replays" % mode)
        eq(len(e.arrivals(end_to_end_id=e2e, outcome="created")), 1,
           "%s: still created once" % mode)
    eq(e.faults()["timeout_after_create_next"], 0, "used up")


def t13_fault_latency(e):
    e.faults(latency_ms=700)
    t0 = time.monotonic()
    eq(e.call("GET", "/v1/payments/" + e.pid1).status, 200, "slow GET")
    check(time.monotonic() - t0 >= 0.65, "latency applied")
    t0 = time.monotonic()
    eq(e.get_token().status, 200, "token")
    check(time.monotonic() - t0 < 0.6, "no latency on /oauth/token")
    try:
        e.pay("key-slow", e.body("E2E-SLOW"), timeout=0.3)
        raise Fail("slow POST answered in time")
    except socket.timeout:
        pass
    e.faults(latency_ms=0)
    time.sleep(0.6)
    r = e.call("GET", "/v1/payments?idempotency_key=key-slow")
    eq(r.status, 200, "processed before the wait")


def t14_fault_expire_tokens(e):
    old = e.token
    e.faults(expire_tokens=True)
    r = e.call("GET", "/v1/payments/" + e.pid1, token=old)
    eq((r.status, r.json["error"]), (401, "invalid_token"), "expired")
    e.token = e.new_token()
    eq(e.call("GET", "/v1/payments/" + e.pid1).status, 200, "new token")
    check("expire_tokens" not in e.faults(), "one-shot action")


def t15_fault_bad_response_signature(e):
    e.faults(bad_response_signature_next=1)
    r = e.call("GET", "/v1/payments/" + e.pid1, verify=False)
    eq(r.status, 200, "answer itself is fine")
    e.check_signed(r, expect_ok=False)
    # the signature is a good CMS by the bank, just over other bytes
    sig = base64.b64decode(r.h("X-Response-Signature"))
    eq(bank_openapi.cms_shape_problem(sig), None, "well-formed CMS")
    e.check_signed(e.call("GET", "/v1/payments/" + e.pid1, verify=False))


def t16_fault_replay_last_response(e):
    a = e.call("GET", "/v1/payments/" + e.pid1)
    e.faults(replay_last_response_next=1)
    body = e.body("E2E-REPLAYED")
    r = e.pay("key-replayed", body, verify=False)
    eq((r.status, r.body), (a.status, a.body), "old status and body")
    for h in ("X-Response-Id", "X-Response-Timestamp",
              "X-Response-Signature"):
        eq(r.h(h), a.h(h), "replayed " + h)
    check(r.h("X-Response-Id") in e.seen_ids, "a client sees the id again")
    r = e.call("GET", "/v1/payments?idempotency_key=key-replayed")
    eq(r.status, 404, "the replayed request was not processed")
    eq([x["outcome"] for x in e.arrivals(idempotency_key="key-replayed")],
       ["fault_replay"], "arrival")
    eq(e.pay("key-replayed", body).status, 201, "resend")


def t17_duplicates_and_admin(e):
    body1 = e.body("E2E-DUP", "3.00")
    eq(e.pay("key-dup-1", body1).status, 201, "first")
    eq(e.pay("key-dup-2", body1).status, 201, "same e2e under another key")
    created = e.arrivals(end_to_end_id="E2E-DUP", outcome="created")
    eq(len(created), 2, "a duplicate shows as created twice")
    st, ans = e.admin("POST", "/admin/faults", {"nonsense": 1})
    eq(st, 400, "unknown fault")
    st, ans = e.admin("POST", "/admin/faults", {"http_500_next": -1})
    eq(st, 400, "negative counter")
    st, ans = e.admin("POST", "/admin/faults", {"timeout_mode": "maybe"})
    eq(st, 400, "bad mode")
    st, led = e.admin("GET", "/admin/ledger")
    eq((st, led["today"]), (200, TODAY.isoformat()), "ledger")
    accts = {a["iban"]: a for a in led["accounts"]}
    eq(sorted(accts), sorted([DEBTOR, SEEDED]), "ledger accounts")
    deb = accts[DEBTOR]
    total = sum(Decimal(x["amount"]["amount"]) for x in deb["entries"])
    eq(Decimal(deb["opening"]["EUR"]) + total, e.balance(DEBTOR)[0],
       "ledger adds up to interimAvailable")
    st, pays = e.admin("GET", "/admin/payments")
    check(any(p["payment_id"] == e.pid1 and
              p["idempotency_key"] == "key-0001" for p in pays),
          "admin payments")
    # every arrival line carries the documented members
    keys = {"time", "client_cn", "idempotency_key", "body_sha256",
            "end_to_end_id", "outcome", "payment_id", "status",
            "http_status", "error", "fault"}
    for a in e.arrivals():
        eq(set(a), keys, "arrival members")
        eq(a["client_cn"], e.pki["client_cn"], "arrival client_cn")
    eq(sorted(set(a["outcome"] for a in e.arrivals())),
       sorted(["created", "replayed", "conflict", "rejected_invalid",
               "bad_signature", "fault_500", "fault_replay",
               "unauthorized"]),
       "outcomes seen")
    # reset: a fresh bank, the same tokens
    st, _ = e.admin("POST", "/admin/reset", {})
    eq(st, 200, "reset")
    eq(e.arrivals(), [], "arrivals emptied")
    eq(e.call("GET", "/v1/payments/" + e.pid1).status, 404, "payments gone")
    eq(e.call("GET", "/v1/accounts/%s/balances" % DEBTOR).status, 404,
       "implicit account gone")
    eq(e.call("GET", "/v1/accounts/%s/balances" % SEEDED).status, 200,
       "seeded account back")
    eq(e.pay("key-0001", e.body("E2E-AFTER")).status, 201, "keys forgotten")


TESTS_CLI = [(n, f) for n, f in sorted(globals().items())
             if re.match(r"t\d\d_", n)]


def seed_file(d):
    entries = [{"account": SEEDED,
                "booking_date":
                    (TODAY - dt.timedelta(days=21 - i)).isoformat(),
                "value_date": (TODAY - dt.timedelta(days=22 - i)).isoformat(),
                "amount": "%d.00" % i, "currency": "EUR",
                "credit_debit": "CRDT", "end_to_end_id": "SEED-%d" % i,
                "counterparty_name": "Customer %d" % i,
                "counterparty_account": CREDITOR,
                "remittance_information": "seed %d" % i,
                "bank_reference": "REF%d" % i} for i in range(1, 13)]
    # booked out of order on purpose: a debit today, listed last
    entries.insert(3, {"account": SEEDED, "booking_date": TODAY.isoformat(),
                       "amount": "1.00", "currency": "EUR",
                       "credit_debit": "DBIT",
                       "remittance_information": "seed 13"})
    fn = os.path.join(d, "seed.json")
    with open(fn, "w") as f:
        json.dump({"accounts": [{"iban": SEEDED, "currency": "EUR",
                                 "opening_balance": "500.00"}],
                   "entries": entries}, f)
    return fn


def start_cli(d, pki, extra=(), state="state"):
    sec = os.path.join(d, "secret")
    with open(sec, "w") as f:
        f.write(SECRET + "\n")
    err = open(os.path.join(d, "sim.stderr"), "w")
    args = [PY, SIM, "--cert", pki["server"], "--key", pki["server_key"],
            "--ca", pki["ca"], "--client-id", CLIENT_ID,
            "--client-secret-file", sec, "--client-cn", pki["client_cn"],
            "--client-sign-ca", pki["ca"], "--sign-cert", pki["bank_sign"],
            "--sign-key", pki["bank_sign_key"],
            "--state", os.path.join(d, state)] + list(extra)
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
    err.close()
    l1, l2 = p.stdout.readline(), p.stdout.readline()
    m1 = re.fullmatch(r"LISTEN (\d+)\n", l1)
    m2 = re.fullmatch(r"ADMIN (\d+)\n", l2)
    if not (m1 and m2):
        p.kill()
        p.wait()
        with open(os.path.join(d, "sim.stderr")) as f:
            raise Fail("simulator did not start: %r %r %s" % (l1, l2,
                                                               f.read()))
    return p, int(m1.group(1)), int(m2.group(1))


def stop_proc(p):
    if p.poll() is None:
        p.kill()
        p.wait()


def test_cli(tmp, pki):
    """The CLI simulator, driven through the whole contract."""
    p, port, admin = start_cli(tmp, pki, [
        "--seed", seed_file(tmp), "--page-size", "5", "--max-amount",
        MAX_AMOUNT, "--today", TODAY.isoformat(), "--lifetime", "300"])
    e = Env(tmp, pki)
    e.port, e.admin_port = port, admin
    results = []
    try:
        for name, f in TESTS_CLI:
            t0 = time.monotonic()
            try:
                f(e)
                results.append((name, None, time.monotonic() - t0))
            except Exception as x:
                if VERBOSE or not isinstance(x, Fail):
                    traceback.print_exc()
                results.append((name, x, time.monotonic() - t0))
            finally:
                try:
                    e.faults(clear=True)
                except Exception:
                    pass
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        rc = p.wait(timeout=10)
        results.append(("sigterm_exit", None if rc == 0 else
                        Fail("exit status %r" % rc), time.monotonic() - t0))
    finally:
        stop_proc(p)
        if any(r[1] for r in results):
            with open(os.path.join(tmp, "sim.stderr")) as f:
                print("--- simulator stderr ---\n" + f.read()[-4000:])
    return results


# -- in-process simulator: pinned signing cert, expiry, PDNG, restart ---------

def test_python_api(tmp, pki):
    t_start = time.monotonic()
    today = dt.date(2024, 6, 28)
    seed = os.path.join(tmp, "seed2.json")
    with open(seed, "w") as f:
        json.dump({"accounts": [
            {"iban": DEBTOR2, "currency": "EUR", "opening_balance": "100.00"},
            {"iban": OWN2, "currency": "EUR", "opening_balance": "0.00"}]}, f)
    kw = dict(state_dir=os.path.join(tmp, "st2"), cert=pki["server"],
              key=pki["server_key"], ca=pki["ca"], client_id=CLIENT_ID,
              client_secret=SECRET, client_cn=pki["client_cn"],
              client_sign_cert=pki["client_sign"],
              sign_cert=pki["bank_sign"], sign_key=pki["bank_sign_key"],
              seed=seed, token_ttl=4, no_overdraft=True, today=today,
              lifetime=120, log=lambda m: None)
    bank = bank_openapi.BankSim(**kw).start()
    e = Env(tmp, pki)
    e.port, e.admin_port = bank.port, bank.admin_port
    try:
        e.token = e.new_token()
        body = e.body("P-1", "30.00", debtor=DEBTOR2, creditor=OWN2)
        r = e.pay("p-1", body, signer="client_sign2")
        eq((r.status, r.json["error"]), (400, "invalid_signature"),
           "pinned: another cert of the same CA")
        r = e.pay("p-1", body, signer="client_sign")
        eq((r.status, r.json["status"]), (201, "ACCP"), "pinned cert")
        eq(e.balance(OWN2)[0], Decimal("30.00"),
           "transfer to an own account is credited there")
        eq(e.balance(DEBTOR2)[0], Decimal("70.00"), "and debited here")
        r = e.pay("p-2", e.body("P-2", "70.01", debtor=DEBTOR2,
                                creditor=CREDITOR))
        eq((r.json["status"], r.json["status_reason"]), ("RJCT", "AM04"),
           "no overdraft")
        # scheduled payment
        later = today + dt.timedelta(days=3)
        r = e.pay("p-3", e.body("P-3", "20.00", debtor=DEBTOR2,
                                creditor=CREDITOR,
                                requested_execution_date=later.isoformat()))
        eq((r.status, r.json["status"]), (201, "PDNG"), "future date")
        pid3 = r.json["payment_id"]
        eq(e.balance(DEBTOR2)[0], Decimal("70.00"), "not booked yet")
        r = e.pay("p-4", e.body("P-4", "1.00", debtor=DEBTOR2,
                                creditor=CREDITOR,
                                requested_execution_date="2024-01-02"))
        eq(r.json["status"], "ACCP", "past date executes today")
        bank.set_today(later)
        e.token = e.new_token()
        r = e.call("GET", "/v1/payments/" + pid3)
        eq(r.json["status"], "ACCP", "settled on its date")
        r = e.call("GET", "/v1/accounts/%s/transactions?from=%s&to=%s" % (
            DEBTOR2, later, later))
        eq([(t["end_to_end_id"], t["amount"]["amount"])
            for t in r.json["transactions"]], [("P-3", "-20.00")],
           "booked on the execution date")
        bal, day = e.balance(DEBTOR2, "closingBooked")
        eq((bal, day), (Decimal("69.00"), (later - dt.timedelta(days=1))
                        .isoformat()), "closingBooked before that date")
        eq(e.balance(DEBTOR2)[0], Decimal("49.00"), "interim after it")
        # replay of the PDNG answer is the original answer
        r = e.pay("p-3", e.body("P-3", "20.00", debtor=DEBTOR2,
                                creditor=CREDITOR,
                                requested_execution_date=later.isoformat()))
        eq(r.json["status"], "PDNG", "replay is the original answer")
        # runtime entries
        bank.add_entries([{"account": DEBTOR2,
                           "booking_date": later.isoformat(),
                           "amount": "5.00", "currency": "EUR",
                           "credit_debit": "CRDT",
                           "counterparty_name": "Payer"}])
        eq(e.balance(DEBTOR2)[0], Decimal("54.00"), "credit added")
        eq(bank.count_arrivals(outcome="created"), 4, "count_arrivals")
        eq(bank.duplicates(), [], "no duplicates")
        # token expiry
        e.token = e.new_token()
        eq(e.call("GET", "/v1/payments/" + pid3).status, 200, "fresh token")
        time.sleep(4.1)
        r = e.call("GET", "/v1/payments/" + pid3)
        eq((r.status, r.json["error"]), (401, "invalid_token"),
           "expired by time")
        # restart: state survives, tokens do not
        tok = e.new_token()
        bank.stop()
        bank = bank_openapi.BankSim(**kw).start()
        e.port, e.admin_port = bank.port, bank.admin_port
        r = e.call("GET", "/v1/payments/" + pid3, token=tok)
        eq(r.status, 401, "tokens do not survive a restart")
        e.token = e.new_token()
        r = e.call("GET", "/v1/payments?idempotency_key=p-1")
        eq((r.status, r.json["end_to_end_id"]), (200, "P-1"),
           "payments survive a restart")
        eq(e.balance(DEBTOR2)[0], Decimal("54.00"), "ledger survives")
        r = e.pay("p-1", body)
        eq(r.status, 201, "idempotency survives a restart")
        eq(bank.count_arrivals(idempotency_key="p-1", outcome="replayed"), 1,
           "arrival log survives")
        bank.reset()
        eq(e.balance(DEBTOR2)[0], Decimal("100.00"), "reset: seed again")
        eq(bank.arrivals(), [], "reset: no arrivals")
    finally:
        bank.stop()
    check(bank.stopped.is_set(), "stop")
    return [("python_api", None, time.monotonic() - t_start)]


def test_cli_lifetime_and_args(tmp, pki):
    t0 = time.monotonic()
    p, port, admin = start_cli(tmp, pki, ["--lifetime", "1.5"],
                               state="st3")
    try:
        rc = p.wait(timeout=10)
    finally:
        stop_proc(p)
    took = time.monotonic() - t0
    out = []
    out.append(("lifetime_exit", None if rc == 0 and 1.4 < took < 6 else
                Fail("rc %r after %.1fs" % (rc, took)), took))
    r = subprocess.run([PY, SIM, "--cert", pki["server"], "--key",
                        pki["server_key"], "--ca", pki["ca"], "--client-id",
                        "x", "--client-secret-file",
                        os.path.join(tmp, "nonexistent"), "--client-cn", "x",
                        "--client-sign-ca", pki["ca"], "--sign-cert",
                        pki["bank_sign"], "--sign-key", pki["bank_sign_key"],
                        "--state", os.path.join(tmp, "st4")],
                       capture_output=True, text=True, timeout=30)
    out.append(("bad_args_exit_2", None if r.returncode == 2 else
                Fail("rc %r: %s" % (r.returncode, r.stderr)), 0))
    r = subprocess.run([PY, SIM, "--client-secret", "x"],
                       capture_output=True, text=True, timeout=30)
    out.append(("no_secret_on_argv", None if r.returncode == 2 else
                Fail("rc %r" % r.returncode), 0))
    return out


def test_docs(tmp, pki):
    """README.md carries the module's contract word for word."""
    doc = bank_openapi.__doc__
    contract = doc[doc.index("THE CONTRACT"):doc.index("\nCLI\n---")]
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    ok = "## bank_openapi.py" in readme and contract.rstrip() in readme
    bills = bank_openapi.BILLS_API.strip("\n")
    ok2 = "## Bill pool and supply-chain finance API" in readme and \
        bills in readme
    return [("readme_contract", None if ok else
             Fail("tests/sims/README.md does not repeat the contract of "
                  "bank_openapi.py verbatim"), 0),
            ("readme_bills_api", None if ok2 else
             Fail("tests/sims/README.md does not repeat BILLS_API "
                  "verbatim under 'Bill pool and supply-chain finance "
                  "API'"), 0)]


# -- bill pool and supply-chain finance (section 11 / BILLS_API) -------------
# A third CLI simulator (own state, --today BTODAY) is driven like the first
# one: mutual TLS, signed POSTs, every answer's signature checked. Expected
# figures (interest, proceeds, pool quota, split amounts) are worked out
# here from the amounts sent, with Decimal, not with the simulator's code.

BTODAY = dt.date(2024, 3, 4)
BANK_CODE = "999100000010"
CUSTOMER = "H2HD测试企业有限公司"
OUR = make_iban("DE", "210501700012345678")       # bills
FIN = make_iban("DE", "100500000123456789")       # financing
VCH = make_iban("DE", "120300000000202051")       # vouchers
NOT_OURS = make_iban("DE", "500105170000000001")
CODES_SEEN = set()

ACC_BANK = {"name": "中国工商银行上海分行", "bank_code": "102290000018"}
OTHER_BANK = {"name": "招商银行深圳分行", "bank_code": "308584000013"}
PAYEE = {"name": "上海供应商有限公司", "account": "31001234567890",
         "bank_code": "105290000012"}
ENDORSEE = {"name": "苏州零件厂", "account": "622200001111",
            "bank_code": "103305000013"}
DRAWER_X = {"name": "北京买方集团", "account": "11001100220033",
            "bank_code": "102100000017"}
ACC_CORP = {"name": "深圳核心企业股份有限公司", "account": "44201500000001",
            "bank_code": "105584000019"}
TIER1 = {"name": "一级供应商有限公司", "account": "6100000001",
         "bank_code": "102584000002"}
TIER2 = {"name": "二级供应商有限公司", "account": "6200000002",
         "bank_code": "103584000003"}
TIER2B = {"name": "二级供应商乙公司", "account": "6200000099",
          "bank_code": "103584000003"}
TIER3 = {"name": "三级供应商有限公司", "account": "6300000003",
         "bank_code": "104584000004"}
BANK_US = {"name": "H2HD模拟银行", "account": None, "bank_code": BANK_CODE}


def us(acct=OUR):
    return {"name": CUSTOMER, "account": acct, "bank_code": BANK_CODE}


def party_out(p):
    """A party as the bank shows it (account null when absent)."""
    return {"name": p["name"], "account": p.get("account"),
            "bank_code": p["bank_code"]}


def cny(s):
    return {"amount": s, "currency": "CNY"}


def D(s):
    return Decimal(s)


def interest(amount, rate, days):
    from decimal import ROUND_HALF_UP
    return (D(amount) * D(rate) / 100 * days / 360).quantize(
        D("0.01"), rounding=ROUND_HALF_UP)


def ext_draft(kind="AC01", amount="100000.00", issue="2024-02-01",
              maturity="2024-06-04", **kw):
    d = {"kind": kind, "amount": cny(amount), "issue_date": issue,
         "maturity_date": maturity, "drawer": DRAWER_X,
         "acceptor": ACC_BANK if kind == "AC01" else ACC_CORP,
         "payee": PAYEE}
    d.update(kw)
    return d


class BEnv(Env):
    """Env plus helpers for the bills and scf resources."""

    def __init__(self, tmp, pki):
        super().__init__(tmp, pki)
        self.seq = 0

    def rid(self, prefix="r"):
        self.seq += 1
        return "%s-%04d" % (prefix, self.seq)

    def note(self, r):
        try:
            j = json.loads(r.body)
        except ValueError:
            return
        if isinstance(j, dict) and isinstance(j.get("error"), str) and \
                re.fullmatch(r"(BIL|SCF)\d{3}", j["error"]):
            CODES_SEEN.add(j["error"])

    def bpost(self, path, obj=None, key=None, raw=None, sig=None, **kw):
        body = raw if raw is not None else \
            json.dumps(obj, ensure_ascii=False).encode()
        if key is None:
            key = obj["request_id"]
        hd = {"Content-Type": "application/json"}
        if key is not False:
            hd["Idempotency-Key"] = key
        hd["X-Request-Signature"] = sig if sig is not None else \
            self.sign(body)
        r = self.call("POST", path, body, hd, **kw)
        self.note(r)
        return r

    def get(self, path, status=200):
        r = self.call("GET", path)
        self.note(r)
        eq(r.status, status, "GET %s (%r)" % (path, r))
        return r.json

    def ok(self, r, what, status=201):
        eq(r.status, status, "%s (%r)" % (what, r))
        return r.json

    def refused(self, r, code, what):
        eq((r.status, r.json.get("error")), (422, code), "%s (%r)" % (what,
                                                                      r))
        j = r.json
        check(j.get("message") and j.get("message_zh") and
              re.search("[\u4e00-\u9fff]", j["message_zh"]),
              what + ": English and Chinese message")
        eq(set(j), {"error", "message", "message_zh", "request_id", "op"},
           what + ": refusal members")
        return j

    def bad(self, r, code, field, what):
        eq((r.status, r.json.get("error"), r.json.get("field")),
           (400, code, field), "%s (%r)" % (what, r))

    def hook(self, path, obj, status=200):
        st, ans = self.admin("POST", path, obj)
        if isinstance(ans, dict) and isinstance(ans.get("error"), str) and \
                re.fullmatch(r"(BIL|SCF)\d{3}", ans["error"]):
            CODES_SEEN.add(ans["error"])
        eq(st, status, "admin %s %r -> %r" % (path, obj, ans))
        return ans

    def set_date(self, day):
        self.hook("/admin/date", {"today": str(day)})

    def bal(self, iban=OUR):
        return self.balance(iban, ccy="CNY")[0]

    # drafts

    def issue(self, kind="AC01", amount="100000.00", maturity="2024-06-04",
              key=None, **extra):
        obj = {"request_id": key or self.rid("iss"), "kind": kind,
               "amount": cny(amount), "maturity_date": maturity,
               "drawer_account": OUR,
               "acceptor": ACC_BANK if kind == "AC01" else ACC_CORP,
               "payee": PAYEE}
        obj.update(extra)
        return self.bpost("/v1/bills/drafts", obj)

    def op(self, number, op, key=None, **fields):
        obj = {"op": op, "request_id": key or self.rid(op[:4])}
        obj.update(fields)
        return self.bpost("/v1/bills/drafts/%s/operations" % number, obj)

    def cpty(self, number, action, sub_range=None, status=200, **kw):
        obj = {"number": number, "action": action}
        if sub_range:
            obj["sub_range"] = sub_range
        obj.update(kw)
        return self.hook("/admin/bills/counterparty", obj, status)

    def present(self, kind, draft=None, number=None, frm=PAYEE, to=OUR,
                **kw):
        obj = {"kind": kind, "to_account": to}
        if frm is not None:
            obj["from"] = frm
        if draft is not None:
            obj["draft"] = draft
        if number is not None:
            obj["number"] = number
        obj.update(kw)
        return self.hook("/admin/bills/present", obj)["notice"]

    def held(self, **kw):
        """A new draft endorsed to us and signed: (number, piece)."""
        n = self.present("endorse", ext_draft(**kw))
        j = self.ok(self.op(n["number"], "sign", notice_id=n["notice_id"]),
                    "sign endorsement")
        eq(j["draft"]["status"], "held", "held after signing")
        return n["number"], j["draft"]

    def detail(self, number):
        return self.get("/v1/bills/drafts/%s" % number)["pieces"]

    def check_pieces(self, number):
        """Pieces cover 1..face without gap or overlap and their amounts
        add up to the face amount; -> pieces."""
        ps = self.detail(number)
        face = D(ps[0]["face_amount"]["amount"])
        nxt = 1
        for p in ps:
            eq(p["sub_range"]["from"], nxt, "pieces contiguous")
            n = p["sub_range"]["to"] - p["sub_range"]["from"] + 1
            eq(D(p["amount"]["amount"]), D(n) / 100, "piece amount = to - "
               "from + 1 fen")
            nxt = p["sub_range"]["to"] + 1
        eq(D(nxt - 1) / 100, face, "pieces end at the face amount")
        eq(sum(D(p["amount"]["amount"]) for p in ps), face,
           "piece amounts add up to the face amount")
        return ps

    # scf

    def invoice(self, number, amount, due="2024-06-30", issue="2024-02-15",
                **kw):
        inv = {"number": number, "issue_date": issue, "due_date": due,
               "amount": cny(amount),
               "buyer": {"name": "深圳核心企业股份有限公司",
                         "id": "91440300MA5XXXXX1"},
               "seller": {"name": CUSTOMER}}
        inv.update(kw)
        return inv

    def finance(self, invoices, requested, kind="receivable", key=None,
                **kw):
        obj = {"request_id": key or self.rid("fin"), "kind": kind,
               "requested_amount": cny(requested), "account": FIN,
               "invoices": invoices}
        obj.update(kw)
        return self.bpost("/v1/scf/financing", obj)

    def review(self, rid, decision, status=200, **kw):
        obj = dict(kw, request_id=rid, decision=decision)
        ans = self.hook("/admin/scf/review", obj, status)
        if status == 200 and ans["financing"]["rejection"]:
            CODES_SEEN.add(ans["financing"]["rejection"]["code"])
        return ans

    def vop(self, vid, op, key=None, **fields):
        obj = {"op": op, "request_id": key or self.rid("v" + op[:3])}
        obj.update(fields)
        return self.bpost("/v1/scf/vouchers/%s/operations" % vid, obj)

    def vhook(self, action, status=200, **kw):
        return self.hook("/admin/scf/vouchers", dict(kw, action=action),
                         status)

    def voucher(self, vid, status=200):
        return self.get("/v1/scf/vouchers/%s" % vid, status)

    def tree_check(self, root_id, amount):
        """The bank's ledger of the tree adds up: amount = remaining +
        live children for every voucher, and the live remaining of the
        tree is the root amount."""
        st = self.hook_get("/admin/scf")
        vs = [v for v in st["vouchers"] if v["root_id"] == root_id]
        live = ("pending", "held", "financed", "settled")
        for v in vs:
            kids = sum(D(c["amount"]["amount"]) for c in vs
                       if c["parent_id"] == v["voucher_id"] and
                       c["status"] in live)
            eq(D(v["remaining"]["amount"]) + kids, D(v["amount"]["amount"]),
               "%s: amount = remaining + live children" % v["voucher_id"])
        total = sum(D(v["remaining"]["amount"]) for v in vs
                    if v["status"] in live)
        eq(total, D(amount), "tree %s adds up" % root_id)
        tr = [t for t in st["trees"] if t["root_id"] == root_id]
        eq(tr, [{"root_id": root_id, "amount": cny(amount),
                 "live_remaining": cny(amount)}], "admin tree sum")
        return {v["voucher_id"]: v for v in vs}

    def hook_get(self, path):
        st, ans = self.admin("GET", path)
        eq(st, 200, "admin GET " + path)
        return ans


def b01_scopes_and_routes(e):
    tok_pay = e.new_token(scope="payments accounts")
    r = e.call("GET", "/v1/bills/pool", token=tok_pay)
    eq((r.status, r.json["error"]), (403, "insufficient_scope"),
       "bills need scope bills")
    r = e.call("GET", "/v1/scf/notices", token=tok_pay)
    eq((r.status, r.json["error"]), (403, "insufficient_scope"),
       "scf needs scope scf")
    tok_b = e.new_token(scope="bills")
    eq(e.call("GET", "/v1/bills/pool", token=tok_b).status, 200,
       "scope bills")
    eq(e.call("GET", "/v1/scf/notices", token=tok_b).status, 403,
       "bills is not scf")
    r = e.get_token(scope="bills scf loans")
    eq((r.status, r.json["error"]), (400, "invalid_scope"), "unknown scope")
    r = e.call("DELETE", "/v1/bills/drafts")
    eq((r.status, r.h("Allow")), (405, "GET, POST"), "405 with Allow")
    eq(e.call("POST", "/v1/bills/pool", b"{}").status, 405, "pool is GET")
    r = e.call("GET", "/v1/bills/nothing")
    eq((r.status, r.json["error"]), (404, "not_found"), "unknown path")
    eq(e.call("GET", "/v1/bills/pool", token=None).status, 401, "no token")
    r = e.call("GET", "/v1/bills/pool?x=1")
    eq((r.status, r.json["field"]), (400, "x"), "unknown query parameter")
    pool = e.get("/v1/bills/pool")
    eq(pool, {"pool_id": "POOL0001", "as_of": BTODAY.isoformat(),
              "pledged_count": 0, "pledged_total": cny("0.00"),
              "deposit": cny("0.00"), "quota_total": cny("0.00"),
              "quota_used": cny("0.00"), "quota_available": cny("0.00"),
              "ratios": {"AC01": "1.00", "AC02": "0.80"}}, "empty pool")


def b02_issue_and_detail(e):
    key = e.rid("iss")
    j = e.ok(e.issue(key=key, memo="货款"), "issue")
    eq(sorted(j), ["draft", "op", "remainder", "request_id", "result"],
       "answer members")
    eq((j["request_id"], j["op"], j["result"], j["remainder"]),
       (key, "issue", "accepted", None), "answer")
    d = j["draft"]
    num = d["number"]
    check(re.fullmatch(r"[0-9]{30}", num), "30 digits: %r" % num)
    eq(num[0], "5", "AC01 draft numbers start with 5")
    eq(num[1:13], ACC_BANK["bank_code"], "acceptor's bank code")
    eq(num[13:21], BTODAY.strftime("%Y%m%d"), "issue date")
    total = 0
    for i, c in enumerate(reversed(num)):    # Luhn over all 30 digits
        v = int(c) * (2 if i % 2 else 1)
        total += v - 9 if v > 9 else v
    eq(total % 10, 0, "Luhn check digit")
    eq(sorted(d), sorted([
        "number", "sub_range", "kind", "amount", "face_amount",
        "issue_date", "maturity_date", "drawer", "acceptor", "payee",
        "holder", "status", "transferable", "divisible", "pending",
        "pledge", "updated_at"]), "piece members")
    eq((d["sub_range"], d["kind"], d["amount"], d["face_amount"],
        d["issue_date"], d["maturity_date"], d["status"], d["holder"],
        d["transferable"], d["divisible"], d["pending"], d["pledge"]),
       ({"from": 1, "to": 10000000}, "AC01", cny("100000.00"),
        cny("100000.00"), BTODAY.isoformat(), "2024-06-04", "registered",
        None, True, False, None, None), "piece values")
    eq((d["drawer"], d["acceptor"], d["payee"]),
       (us(), party_out(ACC_BANK), party_out(PAYEE)), "parties")
    ps = e.detail(num)
    eq(len(ps), 1, "one piece")
    h = ps[0]["history"]
    eq([(x["op"], x["event"], x["status"], x["request_id"]) for x in h],
       [("issue", "registered", "registered", key)], "history")
    eq(sorted(h[0]), sorted(["time", "date", "op", "event", "from", "to",
                             "status", "sub_range", "amount", "request_id",
                             "notice_id", "reason"]), "event members")
    r = e.call("GET", "/v1/bills/drafts/%s" % ("9" * 30))
    e.note(r)
    eq((r.status, r.json["error"]), (404, "BIL001"), "unknown draft")
    r = e.call("GET", "/v1/bills/drafts/12345")
    eq((r.status, r.json["field"]), (400, "number"), "number shape")
    j = e.ok(e.issue(kind="AC02", amount="0.01", transferable=False,
                     divisible=True, maturity="2024-09-04"), "AC02 issue")
    eq((j["draft"]["number"][0], j["draft"]["number"][1:13],
        j["draft"]["sub_range"], j["draft"]["transferable"],
        j["draft"]["divisible"], j["draft"]["acceptor"]),
       ("6", ACC_CORP["bank_code"], {"from": 1, "to": 1}, False, True,
        party_out(ACC_CORP)), "AC02, 0.01, 6 months exactly")
    r = e.op(num, "present_acceptance", sub_range={"from": 1, "to": 2},
             key=e.rid("bad"))
    e.refused(r, "BIL013", "partial range on a whole-piece operation")


def b03_issue_validation(e):
    base = {"kind": "AC01", "amount": cny("100.00"),
            "maturity_date": "2024-06-04", "drawer_account": OUR,
            "acceptor": ACC_BANK, "payee": PAYEE}

    def v(**ch):
        o = json.loads(json.dumps(base))
        for k, val in ch.items():
            parts = k.split("__")
            cur = o
            for p in parts[:-1]:
                cur = cur[p]
            if val is KeyError:
                del cur[parts[-1]]
            else:
                cur[parts[-1]] = val
        return o
    cases = [
        ("unknown field", v(foo=1), "unknown_field", "foo"),
        ("unknown nested", v(payee__foo=1), "unknown_field", "payee.foo"),
        ("one decimal", v(amount__amount="100.0"), "invalid_field",
         "amount.amount"),
        ("three decimals", v(amount__amount="100.000"), "invalid_field",
         "amount.amount"),
        ("no decimals", v(amount__amount="100"), "invalid_field",
         "amount.amount"),
        ("leading zero", v(amount__amount="0100.00"), "invalid_field",
         "amount.amount"),
        ("zero", v(amount__amount="0.00"), "invalid_field",
         "amount.amount"),
        ("number not string", v(amount__amount=100.5), "invalid_field",
         "amount.amount"),
        ("USD", v(amount__currency="USD"), "invalid_field",
         "amount.currency"),
        ("kind", v(kind="AC03"), "invalid_field", "kind"),
        ("date", v(maturity_date="2024-02-30"), "invalid_field",
         "maturity_date"),
        ("missing maturity", v(maturity_date=KeyError), "missing_field",
         "maturity_date"),
        ("bank code 11 digits", v(payee__bank_code="10529000001"),
         "invalid_field", "payee.bank_code"),
        ("missing bank code", v(payee__bank_code=KeyError),
         "missing_field", "payee.bank_code"),
        ("payee without account", v(payee__account=KeyError),
         "missing_field", "payee.account"),
        ("AC02 acceptor without account", v(kind="AC02"),
         "missing_field", "acceptor.account"),
        ("account lower case", v(payee__account="abc123"),
         "invalid_field", "payee.account"),
        ("bool as string", v(transferable="false"), "invalid_field",
         "transferable"),
        ("control character", v(memo="a\nb"), "invalid_field", "memo"),
        ("name too long", v(payee__name="名" * 101), "invalid_field",
         "payee.name"),
        ("request_id is not the key", v(request_id="other"),
         "invalid_field", "request_id"),
    ]
    for i, (what, obj, code, field) in enumerate(cases):
        key = "b03-%02d" % i
        obj.setdefault("request_id", key)
        r = e.bpost("/v1/bills/drafts", obj, key=key)
        e.bad(r, code, field, what)
        eq(r.json["errors"][0]["field"], field, what + " errors[0]")
    r = e.bpost("/v1/bills/drafts", raw=b'{"kind":"AC01","kind":"AC02"}',
                key="b03-dup")
    e.bad(r, "invalid_json", "kind", "duplicate member")
    r = e.bpost("/v1/bills/drafts", raw=b"[]", key="b03-arr")
    e.bad(r, "invalid_json", None, "array")
    # headers and signature, as for payments
    body = json.dumps(dict(base, request_id="b03-h")).encode()
    r = e.bpost("/v1/bills/drafts", raw=body, key=False)
    e.bad(r, "invalid_header", "Idempotency-Key", "no key")
    r = e.bpost("/v1/bills/drafts", raw=body, key="b03-h",
                sig=e.sign(body + b" "))
    eq((r.status, r.json["error"]), (400, "invalid_signature"),
       "signature over other bytes")
    r = e.call("POST", "/v1/bills/drafts", body, {
        "Idempotency-Key": "b03-h", "Content-Type": "text/plain",
        "X-Request-Signature": e.sign(body)})
    eq(r.status, 415, "content type")
    r = e.bpost("/v1/bills/drafts?x=1", raw=body, key="b03-h")
    e.bad(r, "invalid_field", "x", "query on a POST")
    # all the 400s used no key: b03-00 and b03-h are still free
    e.ok(e.bpost("/v1/bills/drafts", raw=body, key="b03-h"),
         "key unused after refusals")
    e.ok(e.bpost("/v1/bills/drafts", dict(base, request_id="b03-00")),
         "key unused after a 400")
    # operation bodies: per-op members
    num = e.ok(e.issue(), "issue")["draft"]["number"]
    for what, fields, code, field in (
            ("unknown op", {"op": "cash"}, "invalid_field", "op"),
            ("member of another op", {"op": "present_acceptance",
                                      "rate": "1.5"}, "invalid_field",
             "rate"),
            ("endorse without counterparty", {"op": "endorse"},
             "missing_field", "counterparty"),
            ("endorsee without account", {
                "op": "endorse", "counterparty": OTHER_BANK},
             "missing_field", "counterparty.account"),
            ("discount rate number", {"op": "discount", "rate": 1.5,
                                      "account": OUR}, "invalid_field",
             "rate"),
            ("discount rate 5 decimals", {"op": "discount",
                                          "rate": "1.12345",
                                          "account": OUR},
             "invalid_field", "rate"),
            ("refuse without reason", {"op": "refuse", "notice_id": "N1"},
             "missing_field", "reason"),
            ("sub_range to < from", {"op": "withdraw", "sub_range": {
                "from": 5, "to": 4}}, "invalid_field", "sub_range.to"),
            ("sub_range from 0", {"op": "withdraw", "sub_range": {
                "from": 0, "to": 4}}, "invalid_field", "sub_range.from"),
            ("overdue not bool", {"op": "present_payment", "account": OUR,
                                  "overdue": 1}, "invalid_field",
             "overdue")):
        key = e.rid("b03op")
        r = e.op(num, fields.pop("op"), key=key, **fields) \
            if "op" in fields else None
        e.bad(r, code, field, what)
    r = e.op("123", "withdraw")
    e.bad(r, "invalid_field", "number", "number in the path")


def b04_issue_refusals(e):
    for what, kw, code in (
            ("issue date yesterday", {"issue_date": "2024-03-03"},
             "BIL025"),
            ("issue date tomorrow", {"issue_date": "2024-03-05"}, "BIL025"),
            ("maturity = issue", {"maturity_date": "2024-03-04"},
             "BIL015"),
            ("maturity > 6 months", {"maturity_date": "2024-09-05"},
             "BIL015"),
            ("drawer account not ours", {"drawer_account": NOT_OURS},
             "BIL020"),
            ("payee is us", {"payee": us()}, "BIL019"),
            ("AC02 acceptor is us", {"kind": "AC02", "acceptor": us()},
             "BIL019")):
        key = e.rid("b04")
        j = e.refused(e.issue(key=key, **kw), code, what)
        eq((j["request_id"], j["op"]), (key, "issue"), what + " ids")
    e.ok(e.issue(issue_date="2024-03-04", maturity="2024-09-04"),
         "today, exactly 6 months")


def b05_idempotency(e):
    key = e.rid("idem")
    obj = {"request_id": key, "kind": "AC01", "amount": cny("5000.00"),
           "maturity_date": "2024-05-04", "drawer_account": OUR,
           "acceptor": ACC_BANK, "payee": PAYEE}
    body = json.dumps(obj).encode()
    r1 = e.bpost("/v1/bills/drafts", raw=body, key=key)
    e.ok(r1, "create")
    r2 = e.bpost("/v1/bills/drafts", raw=body, key=key)
    eq((r2.status, r2.body), (201, r1.body), "replay: same answer, bytes")
    check(r2.h("X-Response-Id") != r1.h("X-Response-Id"), "fresh id")
    r3 = e.bpost("/v1/bills/drafts", raw=body.replace(b", ", b",  ", 1),
                 key=key)
    eq((r3.status, r3.json["error"], r3.json["request_id"]),
       (422, "idempotency_key_reused", key), "other bytes")
    num = r1.json["draft"]["number"]
    r4 = e.bpost("/v1/bills/drafts/%s/operations" % num, raw=body, key=key)
    eq((r4.status, r4.json["error"]), (422, "idempotency_key_reused"),
       "same key and bytes on another path")
    eq(len([p for p in e.hook_get("/admin/bills")["pieces"]
            if p["number"] == num]), 1, "one draft made")
    q = e.get("/v1/bills/requests/" + key)
    eq((q["request_id"], q["op"], q["path"], q["http_status"]),
       (key, "issue", "/v1/bills/drafts", 201), "inquiry by key")
    eq(q["answer"], r1.json, "inquiry: the original answer")
    r = e.call("GET", "/v1/bills/requests/never-sent")
    eq((r.status, r.json["error"]), (404, "request_not_found"),
       "unknown key")
    # a refusal uses its key and replays as a refusal
    rk = e.rid("idem-ref")
    rr = e.op(num, "present_receipt", key=rk)
    e.refused(rr, "BIL002", "receipt before acceptance")
    ok = e.ok(e.op(num, "present_acceptance"), "acceptance")
    eq(ok["result"], "pending", "pending")
    rr2 = e.op(num, "present_receipt", key=rk)
    eq((rr2.status, rr2.body), (422, rr.body),
       "refusal replayed byte for byte (the state changed meanwhile)")
    eq(e.get("/v1/bills/requests/" + rk)["http_status"], 422,
       "inquiry shows the refusal")
    # the op's body bytes differ -> conflict, also for refusals
    r = e.op(num, "withdraw", key=rk)
    eq(r.status, 422, "conflict on a refused key")
    eq(r.json["error"], "idempotency_key_reused", "conflict code")
    # key name spaces: payments, bills and scf are separate
    e.ok(e.finance([e.invoice("IDEM-NS-1", "100.00")], "90.00", key=key),
         "the same key in scf")
    eq(e.pay(key, e.body("E2E-NS")).status, 201, "the same key in payments")
    log = e.hook_get("/admin/requests")
    mine = [(x["family"], x["outcome"], x["http_status"], x["op"])
            for x in log if x["idempotency_key"] == key]
    eq(mine, [("bills", "created", 201, "issue"),
              ("bills", "replayed", 201, "issue"),
              ("bills", "conflict", 422, "issue"),
              ("bills", "conflict", 422, "issue"),
              ("scf", "created", 201, "financing")], "request log")
    rl = [x for x in log if x["idempotency_key"] == rk]
    eq([(x["outcome"], x["error"]) for x in rl],
       [("refused", "BIL002"), ("replayed", None),
        ("conflict", "idempotency_key_reused")], "refusal in the log")
    eq(sorted(log[0]), sorted([
        "time", "client_cn", "family", "path", "idempotency_key",
        "request_id", "op", "body_sha256", "outcome", "http_status",
        "error", "fault"]), "request log members")
    eq(log[-1]["body_sha256"] is not None, True, "sha")
    check(all(x["idempotency_key"] != key or x["request_id"] == key
              for x in log), "request_id logged")


def b06_acceptance_and_receipt(e):
    num = e.ok(e.issue(), "issue")["draft"]["number"]
    e.refused(e.op(num, "present_receipt"), "BIL002", "receipt first")
    r = e.op(num, "endorse", counterparty=ENDORSEE)
    e.refused(r, "BIL002", "endorse a registered draft")
    j = e.ok(e.op(num, "present_acceptance"), "present acceptance")
    p = j["draft"]["pending"]
    eq((j["result"], j["draft"]["status"], p["op"], p["direction"],
        p["counterparty"], p["request_id"]),
       ("pending", "pending_acceptance", "present_acceptance", "out",
        party_out(ACC_BANK), j["request_id"]), "pending acceptance")
    eq(sorted(p), sorted(["op", "direction", "request_id", "notice_id",
                          "counterparty", "since", "rate", "date",
                          "interest", "proceeds", "account",
                          "claim_amount", "reason", "pool_id", "overdue"]),
       "pending members")
    e.refused(e.op(num, "present_acceptance"), "BIL002", "twice")
    d = e.cpty(num, "refuse", reason="承兑人拒绝")["draft"]
    eq((d["status"], d["pending"]), ("registered", None),
       "refused acceptance: back to registered")
    e.ok(e.op(num, "present_acceptance"), "again")
    j = e.ok(e.op(num, "withdraw"), "withdraw")
    eq((j["result"], j["draft"]["status"]), ("accepted", "registered"),
       "withdrawn: registered")
    e.ok(e.op(num, "present_acceptance"), "third time")
    eq(e.cpty(num, "sign")["draft"]["status"], "accepted", "signed")
    e.cpty(num, "sign", status=409)
    e.refused(e.op(num, "present_payment", account=OUR), "BIL002",
              "payment of an accepted draft")
    j = e.ok(e.op(num, "present_receipt"), "present receipt")
    eq((j["draft"]["status"], j["draft"]["pending"]["counterparty"]),
       ("pending_receipt", party_out(PAYEE)), "pending receipt")
    d = e.cpty(num, "refuse")["draft"]
    eq(d["status"], "accepted", "refused receipt: back to accepted")
    e.ok(e.op(num, "present_receipt"), "receipt again")
    d = e.cpty(num, "sign")["draft"]
    eq((d["status"], d["holder"]), ("delivered", party_out(PAYEE)),
       "delivered to the payee")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE), "BIL004",
              "not ours any more")
    e.refused(e.op(num, "withdraw"), "BIL002", "nothing to withdraw")
    h = e.detail(num)[0]["history"]
    eq([(x["op"], x["event"], x["status"]) for x in h], [
        ("issue", "registered", "registered"),
        ("present_acceptance", "requested", "pending_acceptance"),
        ("present_acceptance", "refused", "registered"),
        ("present_acceptance", "requested", "pending_acceptance"),
        ("present_acceptance", "withdrawn", "registered"),
        ("present_acceptance", "requested", "pending_acceptance"),
        ("present_acceptance", "signed", "accepted"),
        ("present_receipt", "requested", "pending_receipt"),
        ("present_receipt", "refused", "accepted"),
        ("present_receipt", "requested", "pending_receipt"),
        ("present_receipt", "signed", "delivered")], "history")
    eq(h[2]["reason"], "承兑人拒绝", "refusal reason kept")
    # 撤票: withdraw a registered draft
    n2 = e.ok(e.issue(), "issue 2")["draft"]["number"]
    eq(e.ok(e.op(n2, "withdraw"), "撤票")["draft"]["status"], "withdrawn",
       "withdrawn")
    e.refused(e.op(n2, "present_acceptance"), "BIL002", "after 撤票")
    e.refused(e.op(n2, "withdraw"), "BIL002", "withdraw twice")
    e.cpty(n2, "sign", status=409)
    e.cpty("1" * 30, "sign", status=404)
    e.hook("/admin/bills/counterparty", {"number": n2, "action": "maybe"},
           400)


def b07_notices(e):
    eq(e.get("/v1/bills/notices")["notices"], [], "no notices yet")
    # endorsement to us
    n = e.present("endorse", ext_draft(kind="AC02", amount="20000.00"))
    eq(sorted(n), sorted(["notice_id", "kind", "number", "sub_range",
                          "amount", "claim_amount", "from", "to",
                          "received_at", "reason", "status", "draft"]),
       "notice members")
    eq((n["kind"], n["from"], n["to"], n["amount"], n["status"],
        n["draft"]["status"], n["draft"]["holder"],
        n["draft"]["pending"]["direction"]),
       ("endorse", party_out(PAYEE), us(), cny("20000.00"), "open",
        "pending_endorsement", party_out(PAYEE), "in"), "endorse notice")
    got = e.get("/v1/bills/notices")
    eq(([x["notice_id"] for x in got["notices"]], got["total"]),
       ([n["notice_id"]], 1), "listed")
    num = n["number"]
    e.refused(e.op(num, "sign", notice_id=n["notice_id"], account=OUR),
              "BIL026", "account on an endorsement notice")
    e.refused(e.op(num, "sign", notice_id="BN00000000000000"), "BIL014",
              "unknown notice")
    other = e.ok(e.issue(), "another draft")["draft"]["number"]
    e.refused(e.op(other, "sign", notice_id=n["notice_id"]), "BIL014",
              "notice of another draft")
    e.refused(e.op("4" * 30, "sign", notice_id=n["notice_id"]), "BIL001",
              "unknown draft")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE), "BIL004",
              "not ours before signing")
    e.refused(e.op(num, "withdraw"), "BIL023", "withdraw what was sent to "
              "us")
    e.refused(e.op(num, "sign", notice_id=n["notice_id"],
                   sub_range={"from": 1, "to": 100}), "BIL013",
              "part of the piece")
    j = e.ok(e.op(num, "sign", notice_id=n["notice_id"]), "sign")
    eq((j["result"], j["draft"]["status"], j["draft"]["holder"],
        j["draft"]["pending"]), ("accepted", "held", us(), None),
       "held by us")
    e.refused(e.op(num, "sign", notice_id=n["notice_id"]), "BIL014",
              "answered already")
    eq(e.get("/v1/bills/notices")["notices"], [], "no open notice left")
    # receipt: refuse it
    n = e.present("present_receipt", ext_draft(), frm=None)
    eq((n["from"], n["draft"]["status"], n["draft"]["holder"]),
       (party_out(DRAWER_X), "pending_receipt", None),
       "from defaults to the drawer")
    j = e.ok(e.op(n["number"], "refuse", notice_id=n["notice_id"],
                  reason="无此交易"), "refuse")
    eq(j["draft"]["status"], "refused", "refused")
    # acceptance: we are the AC02 acceptor; then payment is presented
    n = e.present("present_acceptance", ext_draft(
        kind="AC02", amount="30000.00", acceptor=us()), frm=None)
    j = e.ok(e.op(n["number"], "sign", notice_id=n["notice_id"]),
             "accept")
    eq((j["draft"]["status"], j["draft"]["holder"]), ("liable", None),
       "liable")
    n2 = e.present("present_payment", number=n["number"], frm=ENDORSEE)
    eq((n2["draft"]["status"], n2["draft"]["holder"]),
       ("pending_payment", party_out(ENDORSEE)), "presented to us")
    e.refused(e.op(n["number"], "sign", notice_id=n2["notice_id"]),
              "BIL026", "paying needs an account")
    e.refused(e.op(n["number"], "sign", notice_id=n2["notice_id"],
                   account=NOT_OURS), "BIL020", "not our account")
    b0 = e.bal()
    j = e.ok(e.op(n["number"], "sign", notice_id=n2["notice_id"],
                  account=OUR), "pay")
    eq(j["draft"]["status"], "paid", "paid")
    eq(b0 - e.bal(), D("30000.00"), "debited the piece amount")
    tx = e.get("/v1/accounts/%s/transactions?from=%s&to=%s" % (
        OUR, BTODAY, BTODAY))["transactions"]
    eq([(t["amount"], t["bank_reference"], t["counterparty_name"])
        for t in tx if t["bank_reference"] == n2["notice_id"]],
       [({"amount": "-30000.00", "currency": "CNY"}, n2["notice_id"],
         ENDORSEE["name"])], "the booking")
    # recourse claimed from us
    n3 = e.present("recourse", ext_draft(amount="1000.00"), frm=ENDORSEE,
                   claim_amount=cny("1012.50"), reason="拒付追索")
    eq((n3["claim_amount"], n3["reason"], n3["draft"]["status"]),
       (cny("1012.50"), "拒付追索", "pending_recourse"), "recourse notice")
    b0 = e.bal()
    j = e.ok(e.op(n3["number"], "sign", notice_id=n3["notice_id"],
                  account=OUR), "settle the claim")
    eq((j["draft"]["status"], b0 - e.bal()),
       ("recourse_settled", D("1012.50")), "claim paid")
    st = e.hook_get("/admin/bills")
    eq({x["notice_id"]: x["status"] for x in st["notices"]}[
        n3["notice_id"]], "signed", "admin: answered notice")
    e.hook("/admin/bills/present", {"kind": "endorse", "to_account":
                                    NOT_OURS, "draft": ext_draft()}, 400)
    e.hook("/admin/bills/present", {"kind": "endorse", "to_account": OUR,
                                    "draft": ext_draft()}, 400)


def b08_endorse_and_split(e):
    num, d = e.held(amount="100000.00", divisible=True)
    e.refused(e.op(num, "endorse", counterparty=us()), "BIL019",
              "endorse to ourselves")
    j = e.ok(e.op(num, "endorse", counterparty=ENDORSEE,
                  sub_range={"from": 1, "to": 3000000}), "partial endorse")
    eq((j["result"], j["draft"]["sub_range"], j["draft"]["amount"],
        j["draft"]["status"]),
       ("pending", {"from": 1, "to": 3000000}, cny("30000.00"),
        "pending_endorsement"), "the part")
    rest = j["remainder"]
    eq((rest["sub_range"], rest["amount"], rest["status"], rest["holder"],
        rest["pending"]),
       ({"from": 3000001, "to": 10000000}, cny("70000.00"), "held", us(),
        None), "the remainder stays held")
    ps = e.check_pieces(num)
    eq(len(ps), 2, "two pieces")
    eq(ps[1]["history"][-1]["event"], "split", "split event")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE), "BIL007",
              "no sub_range on a split draft")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE,
                   sub_range={"from": 3000002, "to": 4000000}), "BIL012",
              "not from the piece's start")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE,
                   sub_range={"from": 2999999, "to": 3000001}), "BIL003",
              "across pieces")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE,
                   sub_range={"from": 1, "to": 10000001}), "BIL003",
              "outside the draft")
    e.refused(e.op(num, "endorse", counterparty=ENDORSEE,
                   sub_range={"from": 1, "to": 3000000}), "BIL002",
              "the pending part")
    d = e.cpty(num, "sign", {"from": 1, "to": 3000000})["draft"]
    eq((d["status"], d["holder"]), ("endorsed", party_out(ENDORSEE)),
       "endorsed")
    e.refused(e.op(num, "discount", rate="1.5", account=OUR,
                   sub_range={"from": 1, "to": 3000000}), "BIL004",
              "not the holder")
    # second split of the remainder: 20000.00 + 50000.00
    j = e.ok(e.op(num, "endorse", counterparty=ENDORSEE,
                  sub_range={"from": 3000001, "to": 5000000}),
             "split the remainder")
    eq((j["draft"]["amount"], j["remainder"]["amount"],
        j["remainder"]["sub_range"]),
       (cny("20000.00"), cny("50000.00"),
        {"from": 5000001, "to": 10000000}), "second split")
    d = e.cpty(num, "refuse", {"from": 3000001, "to": 5000000})["draft"]
    eq(d["status"], "held", "refused endorsement: held again")
    ps = e.check_pieces(num)
    eq([(p["sub_range"]["from"], p["status"]) for p in ps],
       [(1, "endorsed"), (3000001, "held"), (5000001, "held")],
       "pieces never merge")
    j = e.ok(e.op(num, "endorse", counterparty=ENDORSEE,
                  sub_range={"from": 3000001, "to": 5000000}), "again")
    eq(j["remainder"], None, "whole piece: no remainder")
    j = e.ok(e.op(num, "withdraw", sub_range={"from": 3000001,
                                              "to": 5000000}), "withdraw")
    eq(j["draft"]["status"], "held", "withdrawn: held")
    e.refused(e.op(num, "withdraw", sub_range={"from": 3000001,
                                               "to": 4000000}), "BIL002",
              "nothing pending")
    # not divisible, not transferable
    n2, _ = e.held(amount="8000.00")
    e.refused(e.op(n2, "endorse", counterparty=ENDORSEE,
                   sub_range={"from": 1, "to": 100}), "BIL008",
              "not divisible")
    e.refused(e.op(n2, "present_payment", account=OUR,
                   sub_range={"from": 1, "to": 100}), "BIL013",
              "payment of a part")
    n3, _ = e.held(amount="9000.00", transferable=False, divisible=True)
    for op, kw in (("endorse", {"counterparty": ENDORSEE}),
                   ("discount", {"rate": "1.5", "account": OUR}),
                   ("pledge", {})):
        e.refused(e.op(n3, op, **kw), "BIL006", op + " not transferable")
    # at maturity no more transfers
    n4, _ = e.held(amount="1000.00", maturity="2024-03-20")
    e.set_date("2024-03-20")
    try:
        e.refused(e.op(n4, "endorse", counterparty=ENDORSEE), "BIL016",
                  "endorse at maturity")
    finally:
        e.set_date(BTODAY)
    e.ok(e.op(n4, "endorse", counterparty=ENDORSEE), "before maturity")


def b09_discount(e):
    num, _ = e.held(amount="100000.00", divisible=True,
                    maturity="2024-06-04")
    for what, kw in (("date before today", {"date": "2024-03-03"}),
                     ("date at maturity", {"date": "2024-06-04"})):
        e.refused(e.op(num, "discount", rate="1.35", account=OUR, **kw),
                  "BIL011", what)
    e.refused(e.op(num, "discount", rate="1.35", account=NOT_OURS),
              "BIL020", "proceeds account not ours")
    e.refused(e.op(num, "discount", rate="1.35", account=OUR,
                   counterparty=us()), "BIL019", "discount with ourselves")
    # the whole draft: 100000.00 * 1.35 % * 92 / 360 = 345.00
    j = e.ok(e.op(num, "discount", rate="1.35", account=OUR,
                  sub_range={"from": 1, "to": 10000000}), "discount")
    p = j["draft"]["pending"]
    eq((p["rate"], p["date"], p["interest"], p["proceeds"], p["account"],
        p["counterparty"]),
       ("1.3500", BTODAY.isoformat(), cny("345.00"), cny("99655.00"), OUR,
        BANK_US), "terms: 92 days at 1.35 %")
    eq(j["remainder"], None, "whole piece")
    e.ok(e.op(num, "withdraw"), "withdraw the discount")
    # a part, at another bank, on a later date
    part_to = 1234567
    j = e.ok(e.op(num, "discount", rate="2.1", account=OUR,
                  counterparty=OTHER_BANK, date="2024-03-11",
                  sub_range={"from": 1, "to": part_to}), "partial")
    amount = "12345.67"
    days = (dt.date(2024, 6, 4) - dt.date(2024, 3, 11)).days
    want_i = interest(amount, "2.1", days)
    p = j["draft"]["pending"]
    eq((j["draft"]["amount"], p["interest"], p["proceeds"]),
       (cny(amount), cny(str(want_i)), cny(str(D(amount) - want_i))),
       "partial terms")
    eq(D(j["remainder"]["amount"]["amount"]), D("100000.00") - D(amount),
       "remainder")
    b0 = e.bal()
    d = e.cpty(num, "sign", {"from": 1, "to": part_to})["draft"]
    eq((d["status"], d["holder"]), ("discounted", party_out(OTHER_BANK)),
       "discounted")
    eq(e.bal() - b0, D(amount) - want_i, "proceeds credited")
    tx = e.get("/v1/accounts/%s/transactions?from=%s&to=%s" % (
        OUR, BTODAY, BTODAY))["transactions"]
    eq([t["amount"]["amount"] for t in tx
        if t["bank_reference"] == j["request_id"]],
       [str(D(amount) - want_i)], "booked with the request id")
    e.check_pieces(num)
    # refused discount: held again, nothing booked
    j = e.ok(e.op(num, "discount", rate="1.35", account=OUR,
                  sub_range={"from": part_to + 1, "to": 10000000}), "rest")
    b0 = e.bal()
    eq(e.cpty(num, "refuse", {"from": part_to + 1,
                              "to": 10000000})["draft"]["status"],
       "held", "refused discount")
    eq(e.bal(), b0, "nothing booked")


def b10_pool(e):
    n1, _ = e.held(kind="AC01", amount="100000.00")
    n2, _ = e.held(kind="AC02", amount="50000.00", divisible=True)
    e.refused(e.op(n1, "pledge", pool_id="POOL9999"), "BIL021",
              "another pool")
    e.refused(e.op(n1, "pledge", counterparty=OTHER_BANK), "BIL022",
              "pledgee elsewhere")
    e.refused(e.op(n1, "release"), "BIL002", "release a held draft")
    j = e.ok(e.op(n1, "pledge", pool_id="POOL0001"), "pledge AC01")
    eq((j["draft"]["status"], j["draft"]["pending"]["pool_id"],
        j["draft"]["pending"]["counterparty"]),
       ("pending_pledge", "POOL0001", BANK_US), "pending pledge")
    pool = e.get("/v1/bills/pool")
    eq((pool["pledged_count"], pool["quota_total"]), (0, cny("0.00")),
       "pending pledges give no quota")
    e.cpty(n1, "sign")
    j = e.ok(e.op(n2, "pledge", sub_range={"from": 1, "to": 5000000}),
             "pledge AC02 (all of it, as a range)")
    e.cpty(n2, "sign")
    d = e.detail(n1)[0]
    eq((d["status"], d["pledge"]["pool_id"], d["pledge"]["pledgee"],
        d["pledge"]["date"], d["holder"]),
       ("pledged", "POOL0001", BANK_US, BTODAY.isoformat(), us()),
       "pledged")
    e.refused(e.op(n1, "endorse", counterparty=ENDORSEE), "BIL002",
              "endorse a pledged draft")
    e.refused(e.op(n1, "discount", rate="1.5", account=OUR), "BIL002",
              "discount a pledged draft")
    pool = e.hook("/admin/bills/pool", {"deposit": "10000.00"})
    # 100000.00 * 100 % + 50000.00 * 80 % + 10000.00
    want = {"pledged_count": 2, "pledged_total": cny("150000.00"),
            "deposit": cny("10000.00"), "quota_total": cny("150000.00"),
            "quota_used": cny("0.00"), "quota_available": cny("150000.00")}
    eq({k: pool[k] for k in want}, want, "quota")
    eq(e.get("/v1/bills/pool"), pool, "the API says the same")
    e.hook("/admin/bills/pool", {"used": "150000.01"}, 400)
    e.hook("/admin/bills/pool", {"used": "120000.00"})
    e.refused(e.op(n1, "release"), "BIL010", "AC01 release: 100000 > 30000")
    e.refused(e.op(n2, "release"), "BIL010", "AC02 release: 40000 > 30000")
    e.hook("/admin/bills/pool", {"used": "110000.00"})
    j = e.ok(e.op(n2, "release", pool_id="POOL0001"), "release AC02")
    eq((j["draft"]["status"], j["result"]), ("pending_release", "pending"),
       "pending release")
    pool = e.get("/v1/bills/pool")
    eq((pool["pledged_count"], pool["quota_total"],
        pool["quota_available"]),
       (2, cny("110000.00"), cny("0.00")),
       "a pending release gives no quota but is still pledged")
    e.cpty(n2, "sign")
    d = e.detail(n2)[0]
    eq((d["status"], d["pledge"]), ("held", None), "released")
    pool = e.get("/v1/bills/pool")
    eq((pool["pledged_count"], pool["pledged_total"],
        pool["quota_total"]), (1, cny("100000.00"), cny("110000.00")),
       "after release")
    e.refused(e.op(n1, "release"), "BIL010", "still refused")
    e.hook("/admin/bills/pool", {"used": "0.00"})
    e.ok(e.op(n1, "release"), "release AC01")
    eq(e.cpty(n1, "refuse")["draft"]["status"], "pledged",
       "refused release: still pledged")
    e.refused(e.op(n1, "present_payment", account=OUR), "BIL002",
              "payment of a pledged draft")


def b11_payment_and_recourse(e):
    mat = dt.date(2024, 4, 15)
    n1, _ = e.held(amount="6000.00", maturity=mat.isoformat())
    n2, _ = e.held(amount="7000.00", maturity=mat.isoformat())
    n3, _ = e.held(amount="8000.00", maturity=mat.isoformat())
    e.refused(e.op(n1, "present_payment", account=OUR), "BIL005",
              "before maturity")
    try:
        e.set_date(mat)
        e.refused(e.op(n1, "present_payment", account=NOT_OURS), "BIL020",
                  "account not ours")
        j = e.ok(e.op(n1, "present_payment", account=OUR), "present")
        p = j["draft"]["pending"]
        eq((j["draft"]["status"], p["counterparty"], p["account"],
            p["overdue"]), ("pending_payment", party_out(ACC_BANK), OUR,
                            False), "pending payment")
        e.cpty(n1, "refuse", status=200, reason="余额不足")
        d = e.detail(n1)[0]
        eq(d["status"], "dishonoured", "refusal of payment = dishonour")
        e.refused(e.op(n1, "recourse", counterparty=TIER3, account=OUR,
                       reason="拒付追索"), "BIL017", "not liable")
        e.refused(e.op(n1, "recourse", counterparty=DRAWER_X, account=OUR,
                       reason="拒付追索", amount=cny("5999.99")), "BIL018",
                  "claim below the amount")
        e.refused(e.op(n1, "recourse", counterparty=DRAWER_X,
                       account=NOT_OURS, reason="拒付追索"), "BIL020",
                  "recourse to a foreign account")
        j = e.ok(e.op(n1, "recourse", counterparty=DRAWER_X, account=OUR,
                      reason="拒付追索", amount=cny("6010.00")), "recourse")
        eq((j["draft"]["status"], j["draft"]["pending"]["claim_amount"]),
           ("pending_recourse", cny("6010.00")), "pending recourse")
        eq(e.cpty(n1, "refuse")["draft"]["status"], "dishonoured",
           "recourse refused")
        e.ok(e.op(n1, "recourse", counterparty=PAYEE, account=OUR,
                  reason="向前手追索"), "recourse from the payee")
        b0 = e.bal()
        eq(e.cpty(n1, "sign")["draft"]["status"], "recourse_settled",
           "settled")
        eq(e.bal() - b0, D("6000.00"), "default claim: the piece amount")
        # dishonour hook, then paid
        e.ok(e.op(n2, "present_payment", account=OUR), "present 2")
        e.cpty(n2, "dishonour")
        eq(e.detail(n2)[0]["status"], "dishonoured", "dishonour hook")
        e.cpty(n2, "dishonour", status=409)
        e.set_date(mat + dt.timedelta(days=10))
        b0 = e.bal()
        e.ok(e.op(n3, "present_payment", account=OUR), "last day")
        e.ok(e.op(n3, "withdraw"), "withdraw a presentment")
        e.set_date(mat + dt.timedelta(days=11))
        e.refused(e.op(n3, "present_payment", account=OUR), "BIL009",
                  "period over")
        j = e.ok(e.op(n3, "present_payment", account=OUR, overdue=True),
                 "overdue presentment")
        eq(j["draft"]["pending"]["overdue"], True, "overdue recorded")
        e.cpty(n3, "dishonour", status=200)
        e.ok(e.op(n3, "recourse", counterparty=ACC_BANK, account=OUR,
                  reason="拒付追索"), "recourse from the acceptor")
        e.cpty(n3, "sign")
        eq(e.bal() - b0, D("8000.00"), "paid by recourse")
        n4, _ = e.held(amount="500.00", maturity=(
            mat + dt.timedelta(days=11)).isoformat())
        b0 = e.bal()
        e.ok(e.op(n4, "present_payment", account=OUR), "present 4")
        d = e.cpty(n4, "sign")["draft"]
        eq((d["status"], e.bal() - b0), ("paid", D("500.00")), "paid")
        e.refused(e.op(n4, "present_payment", account=OUR), "BIL002",
                  "paid already")
    finally:
        e.set_date(BTODAY)


def b12_auto_sign(e):
    num = e.ok(e.issue(), "issue")["draft"]["number"]
    e.hook("/admin/settings", {"auto_sign_ms": 0})
    try:
        j = e.ok(e.op(num, "present_acceptance"), "present")
        eq(j["draft"]["status"], "pending_acceptance", "answer: pending")
        eq(e.detail(num)[0]["status"], "accepted",
           "signed before the next request")
        e.hook("/admin/settings", {"auto_sign_ms": 60000})
        e.ok(e.op(num, "present_receipt"), "present receipt")
        eq(e.detail(num)[0]["status"], "pending_receipt",
           "not yet: 60 s")
    finally:
        s = e.hook("/admin/settings", {"auto_sign_ms": None})
    eq(s, {"auto_sign_ms": None, "voucher_rate": "3.6500",
           "financing_rate": "4.3500"}, "settings")
    e.hook("/admin/settings", {"auto_sign_ms": -1}, 400)
    e.hook("/admin/settings", {"voucher_rate": "0"}, 400)
    e.hook("/admin/settings", {"other": 1}, 400)


def b13_listing_and_paging(e):
    st = e.hook_get("/admin/bills")
    allp = st["pieces"]
    got = e.get("/v1/bills/drafts?page_size=500")
    eq((got["total"], got["page"], got["page_size"], got["total_pages"]),
       (len(allp), 1, 500, 1), "everything on one page")
    keyf = [(p["maturity_date"], p["number"], p["sub_range"]["from"])
            for p in got["drafts"]]
    eq(keyf, sorted(keyf), "ordered by maturity, number, range")
    pages, seen, page = None, [], 1
    while True:
        j = e.get("/v1/bills/drafts?page_size=4&page=%d" % page)
        pages = j["total_pages"]
        seen += j["drafts"]
        check(len(j["drafts"]) == (4 if page < pages else
                                   len(allp) - 4 * (pages - 1)),
              "page %d size" % page)
        if page >= pages:
            break
        page += 1
    eq(pages, (len(allp) + 3) // 4, "total_pages")
    eq(seen, got["drafts"], "pages = the whole list")
    eq(e.get("/v1/bills/drafts?page_size=4&page=%d" % (pages + 1))["drafts"],
       [], "after the last page")
    for status in ("held", "pledged", "endorsed", "paid"):
        j = e.get("/v1/bills/drafts?status=%s&page_size=500" % status)
        want = [p for p in allp if p["status"] == status]
        check(want, "test data has %s pieces" % status)
        eq(sorted((p["number"], p["sub_range"]["from"])
                  for p in j["drafts"]),
           sorted((p["number"], p["sub_range"]["from"]) for p in want),
           "status=" + status)
    j = e.get("/v1/bills/drafts?maturity_from=2024-04-15&"
              "maturity_to=2024-04-30&page_size=500")
    want = [p for p in allp if "2024-04-15" <= p["maturity_date"] <=
            "2024-04-30"]
    check(want, "pieces maturing 04-15..04-30")
    eq(len(j["drafts"]), len(want), "maturity range")
    j = e.get("/v1/bills/drafts?status=held&maturity_to=2024-04-01")
    check(all(p["status"] == "held" and p["maturity_date"] <= "2024-04-01"
              for p in j["drafts"]), "filters combine")
    for q, field in (("status=foo", "status"), ("page=0", "page"),
                     ("page_size=501", "page_size"), ("page=x", "page"),
                     ("maturity_from=2024-13-01", "maturity_from"),
                     ("maturity_from=2024-05-01&maturity_to=2024-04-01",
                      "maturity_to"), ("limit=5", "limit"),
                     ("status=held&status=paid", "status")):
        r = e.call("GET", "/v1/bills/drafts?" + q)
        eq((r.status, r.json["error"], r.json["field"]),
           (400, "invalid_field", field), q)
    for i in range(3):
        e.present("endorse", ext_draft(amount="%d.00" % (100 + i)))
    j = e.get("/v1/bills/notices?page_size=2")
    eq((len(j["notices"]), j["total"], j["total_pages"]), (2, 3, 2),
       "notices paged")
    j2 = e.get("/v1/bills/notices?page_size=2&page=2")
    ids = [n["notice_id"] for n in j["notices"] + j2["notices"]]
    eq(ids, sorted(ids), "notices oldest first")


def b14_faults_on_bills(e):
    e.faults(timeout_after_create_next=1, timeout_mode="close")
    key = e.rid("tmo")
    obj = {"request_id": key, "kind": "AC01", "amount": cny("77.00"),
           "maturity_date": "2024-05-04", "drawer_account": OUR,
           "acceptor": ACC_BANK, "payee": PAYEE}
    body = json.dumps(obj).encode()
    try:
        r = e.bpost("/v1/bills/drafts", raw=body, key=key, timeout=5)
        raise Fail("answered: %r" % r)
    except (ConnectionError, http.client.RemoteDisconnected,
            ssl.SSLError):
        pass
    q = e.get("/v1/bills/requests/" + key)
    eq(q["http_status"], 201, "recorded")
    r = e.bpost("/v1/bills/drafts", raw=body, key=key)
    eq((r.status, r.json), (201, q["answer"]), "resend replays")
    e.faults(http_500_next=1)
    k2 = e.rid("f500")
    r = e.issue(key=k2)
    eq(r.status, 500, "injected 500")
    eq(e.call("GET", "/v1/bills/requests/" + k2).status, 404,
       "nothing recorded")
    e.ok(e.issue(key=k2), "the key is still free")
    log = [x for x in e.hook_get("/admin/requests")
           if x["idempotency_key"] in (key, k2)]
    eq([(x["outcome"], x["http_status"], x["fault"]) for x in log],
       [("created", None, "timeout_after_create:close"),
        ("replayed", 201, None), ("fault_500", 500, "http_500"),
        ("created", 201, None)], "request log with faults")


def s01_financing_life(e):
    key = e.rid("fin")
    inv = [e.invoice("INV-S01-1", "60000.00", due="2024-05-31",
                     tax_invoice_code="4403231130"),
           e.invoice("INV-S01-2", "40000.00", due="2024-06-30")]
    j = e.ok(e.finance(inv, "90000.00", key=key, product="AR-FIN",
                       agreement_ref="AGR-2024-01"), "submit")
    eq(sorted(j), ["financing", "op", "request_id"], "answer members")
    f = j["financing"]
    eq(sorted(f), sorted([
        "request_id", "kind", "status", "requested_amount", "account",
        "value_date", "product", "agreement_ref", "contract_ref",
        "created_at", "updated_at", "approved", "rejection",
        "cancellation", "loan_ref", "financed", "repayment", "invoices"]),
       "view members")
    eq((f["request_id"], f["kind"], f["status"], f["requested_amount"],
        f["account"], f["approved"], f["loan_ref"]),
       (key, "receivable", "submitted", cny("90000.00"), FIN, None, None),
       "submitted")
    eq([(i["number"], i["result"], i["financed_amount"], i["reason"])
        for i in f["invoices"]],
       [("INV-S01-1", "pending", None, None),
        ("INV-S01-2", "pending", None, None)], "invoices pending")
    eq(e.get("/v1/scf/financing/" + key), f, "GET = the answer")
    eq(e.review(key, "review")["financing"]["status"], "under_review",
       "under review")
    f = e.review(key, "approve")["financing"]
    days = (dt.date(2024, 6, 30) - BTODAY).days
    want_i = interest("90000.00", "4.35", days)
    eq(want_i, D("1283.25"), "worked example: 118 days")
    eq((f["status"], f["approved"]),
       ("approved", {"amount": cny("90000.00"), "rate": "4.3500",
                     "value_date": BTODAY.isoformat(),
                     "maturity_date": "2024-06-30",
                     "interest": cny("1283.25")}), "approved")
    eq([(i["result"], i["financed_amount"]) for i in f["invoices"]],
       [("accepted", cny("54000.00")), ("accepted", cny("36000.00"))],
       "invoice shares add up")
    e.review(key, "approve", status=409)
    b0 = e.bal(FIN)
    f = e.review(key, "disburse")["financing"]
    check(re.fullmatch(r"LN[0-9]{10}", f["loan_ref"]), "loan ref")
    eq((f["status"], f["financed"]), ("financed", {
        "amount": cny("90000.00"), "value_date": BTODAY.isoformat()}),
       "financed")
    eq(e.bal(FIN) - b0, D("90000.00"), "disbursed to the account")
    ns = e.get("/v1/scf/notices?request_id=" + key)["notices"]
    eq([(n["kind"], n["amount"], n["principal"], n["interest"],
         n["due_date"], n["loan_ref"], n["account"]) for n in ns],
       [("due", cny("91283.25"), cny("90000.00"), cny("1283.25"),
         "2024-06-30", f["loan_ref"], FIN)], "due notice")
    eq(sorted(ns[0]), sorted(["notice_id", "kind", "request_id",
                              "loan_ref", "amount", "principal",
                              "interest", "due_date", "account",
                              "created_at"]), "notice members")
    try:
        e.set_date("2024-06-29")
        eq(e.get("/v1/scf/financing/" + key)["status"], "financed",
           "not yet due")
        e.set_date("2024-06-30")
        f = e.get("/v1/scf/financing/" + key)
        eq((f["status"], f["repayment"]),
           ("repaid", {"principal": cny("90000.00"),
                       "interest": cny("1283.25"),
                       "amount": cny("91283.25"), "date": "2024-06-30"}),
           "repaid at maturity")
        eq(b0 - e.bal(FIN), D("1283.25"), "repaid principal + interest")
        tx = e.get("/v1/accounts/%s/transactions?from=%s&to=2024-06-30" % (
            FIN, BTODAY))["transactions"]
        eq([(t["booking_date"], t["amount"]["amount"]) for t in tx
            if t["bank_reference"] == f["loan_ref"]],
           [(BTODAY.isoformat(), "90000.00"), ("2024-06-30", "-91283.25")],
           "ledger: disbursement and repayment")
        ns = e.get("/v1/scf/notices?request_id=" + key)["notices"]
        eq([n["kind"] for n in ns], ["due", "paid"], "paid notice")
    finally:
        e.set_date(BTODAY)
    e.review(key, "repay", status=409)


def s02_financing_refusals(e):
    good = [e.invoice("INV-S02-1", "10000.00")]
    for what, kw, code in (
            ("account not ours", {"account": NOT_OURS}, "SCF005"),
            ("value date past", {"value_date": "2024-03-01"}, "SCF006"),
            ("invoice due today", {"invoices": [e.invoice(
                "INV-S02-2", "10000.00", due="2024-03-04")]}, "SCF003"),
            ("invoice issued tomorrow", {"invoices": [e.invoice(
                "INV-S02-3", "10000.00", issue="2024-03-05")]}, "SCF003"),
            ("invoice financed already", {"invoices": [e.invoice(
                "INV-S01-2", "40000.00")]}, "SCF002"),
            ("above 90 %", {"requested": "9000.01"}, "SCF004")):
        req = kw.pop("requested", "9000.00")
        invs = kw.pop("invoices", good)
        j = e.refused(e.finance(invs, req, **kw), code, what)
        eq(j["op"], "financing", what + " op")
    e.ok(e.finance(good, "9000.00"), "exactly 90 %")
    e.ok(e.finance([e.invoice("INV-S02-9", "100.00",
                              seller_account="622200009")], "100.00",
                   kind="reverse_factoring"), "reverse factoring: 100 %")
    e.refused(e.finance([e.invoice("INV-S02-8", "100.00",
                                   seller_account="6222")], "100.01",
                        kind="reverse_factoring"), "SCF004", "above 100 %")
    base = [e.invoice("INV-S02-V", "100.00")]
    cases = [
        ("unknown field", {"foo": 1}, base, "unknown_field", "foo"),
        ("3 decimals", {}, [dict(base[0], amount=cny("100.000"))],
         "invalid_field", "invoices[0].amount.amount"),
        ("currency mismatch", {}, [dict(base[0], amount={
            "amount": "100.00", "currency": "USD"})], "invalid_field",
         "invoices[0].amount.currency"),
        ("JPY", {"requested_amount": {"amount": "90.00",
                                      "currency": "JPY"}},
         base, "invalid_field", "requested_amount.currency"),
        ("same invoice twice", {}, base + base, "invalid_field",
         "invoices[1].number"),
        ("due before issue", {}, [dict(base[0], due_date="2024-02-01")],
         "invalid_field", "invoices[0].due_date"),
        ("seller_account on receivable", {}, [dict(
            base[0], seller_account="1")], "invalid_field",
         "invoices[0].seller_account"),
        ("reverse factoring without seller_account",
         {"kind": "reverse_factoring"}, base, "missing_field",
         "invoices[0].seller_account"),
        ("no invoices", {}, [], "invalid_field", "invoices"),
        ("tax code 11 digits", {}, [dict(base[0],
                                         tax_invoice_code="12345678901")],
         "invalid_field", "invoices[0].tax_invoice_code"),
        ("unknown invoice member", {}, [dict(base[0], vat=1)],
         "unknown_field", "invoices[0].vat"),
        ("kind", {"kind": "factoring"}, base, "invalid_field", "kind"),
    ]
    for what, kw, invs, code, field in cases:
        r = e.finance(invs, "90.00", **kw)
        e.bad(r, code, field, what)


def s03_cancel_and_reject(e):
    k1 = e.rid("fin")
    e.ok(e.finance([e.invoice("INV-S03-1", "1000.00")], "900.00", key=k1),
         "submit 1")
    c1 = e.rid("cxl")
    j = e.ok(e.bpost("/v1/scf/financing/%s/cancel" % k1, {
        "request_id": c1, "reason": "不再需要", "reason_code": "CUST"}),
        "cancel")
    f = j["financing"]
    eq((j["op"], j["request_id"], f["status"], f["cancellation"]["request_id"],
        f["cancellation"]["reason"], f["cancellation"]["reason_code"]),
       ("cancel", c1, "cancelled", c1, "不再需要", "CUST"), "cancelled")
    e.refused(e.bpost("/v1/scf/financing/%s/cancel" % k1, {
        "request_id": e.rid("cxl"), "reason": "again"}), "SCF011",
        "cancel twice")
    r = e.call("GET", "/v1/scf/financing/nothing-here")
    e.note(r)
    eq((r.status, r.json["error"]), (404, "SCF001"), "GET unknown")
    e.refused(e.bpost("/v1/scf/financing/nothing-here/cancel", {
        "request_id": e.rid("cxl"), "reason": "x"}), "SCF001",
        "cancel unknown")
    r = e.bpost("/v1/scf/financing/%s/cancel" % k1, {
        "request_id": e.rid("cxl"), "reason": "x" * 106})
    e.bad(r, "invalid_field", "reason", "reason too long")
    # the cancelled request's invoice is free again; two invoices, one
    # rejected on approval
    k2 = e.rid("fin")
    e.ok(e.finance([e.invoice("INV-S03-1", "1000.00"),
                    e.invoice("INV-S03-2", "3000.00", due="2024-05-31")],
                   "3600.00", key=k2), "submit 2 (invoice reused)")
    e.review(k2, "approve", status=400, invoices={"NOPE": {
        "result": "rejected"}})
    e.review(k2, "approve", status=400, amount="2700.01", invoices={
        "INV-S03-1": {"result": "rejected"}})
    f = e.review(k2, "approve", rate="3.8", invoices={
        "INV-S03-1": {"result": "rejected", "code": "SCF002",
                      "reason": "发票重复"}})["financing"]
    eq([(i["number"], i["result"], i["reason"], i["financed_amount"])
        for i in f["invoices"]],
       [("INV-S03-1", "rejected", {"code": "SCF002",
                                   "message": "发票重复"}, None),
        ("INV-S03-2", "accepted", None, cny("2700.00"))],
       "one invoice rejected: 90 % of the other")
    want_i = interest("2700.00", "3.8", (dt.date(2024, 5, 31) -
                                         BTODAY).days)
    eq(f["approved"], {"amount": cny("2700.00"), "rate": "3.8000",
                       "value_date": BTODAY.isoformat(),
                       "maturity_date": "2024-05-31",
                       "interest": cny(str(want_i))}, "terms")
    e.review(k2, "disburse")
    e.refused(e.bpost("/v1/scf/financing/%s/cancel" % k2, {
        "request_id": e.rid("cxl"), "reason": "late"}), "SCF010",
        "cancel after disbursement")
    b0 = e.bal(FIN)
    f = e.review(k2, "repay")["financing"]
    eq((f["status"], b0 - e.bal(FIN)), ("repaid", D("2700.00") + want_i),
       "early repayment")
    # rejection by review
    k3 = e.rid("fin")
    e.ok(e.finance([e.invoice("INV-S03-3", "500.00")], "450.00", key=k3),
         "submit 3")
    f = e.review(k3, "reject", reason="授信额度不足")["financing"]
    eq((f["status"], f["rejection"], f["invoices"][0]["result"],
        f["invoices"][0]["reason"]),
       ("rejected", {"code": "SCF020", "reason": "授信额度不足"},
        "rejected", {"code": "SCF020", "message": "授信额度不足"}),
       "rejected")
    e.refused(e.bpost("/v1/scf/financing/%s/cancel" % k3, {
        "request_id": e.rid("cxl"), "reason": "x"}), "SCF011",
        "cancel a rejected request")
    # every invoice rejected on approval -> rejected SCF021
    k4 = e.rid("fin")
    e.ok(e.finance([e.invoice("INV-S03-4", "500.00")], "450.00", key=k4),
         "submit 4")
    f = e.review(k4, "approve", invoices={"INV-S03-4": {
        "result": "rejected"}})["financing"]
    eq((f["status"], f["rejection"]["code"]), ("rejected", "SCF021"),
       "no invoice accepted")
    e.review("nothing", "approve", status=404)
    e.review(k4, "maybe", status=400)
    # pro rata shares: floor, the rest on the last accepted invoice
    k6 = e.rid("fin")
    e.ok(e.finance([e.invoice("INV-S03-6%d" % i, "100.00")
                    for i in range(3)], "200.00", key=k6), "three invoices")
    f = e.review(k6, "approve")["financing"]
    eq([i["financed_amount"] for i in f["invoices"]],
       [cny("66.66"), cny("66.66"), cny("66.68")],
       "200.00 over three equal invoices")
    # reverse factoring: the bank pays the seller, we repay
    k5 = e.rid("fin")
    e.ok(e.finance([e.invoice("INV-S03-5", "800.00",
                              seller_account="6222000099")], "800.00",
                   kind="reverse_factoring", key=k5), "reverse factoring")
    e.review(k5, "approve")
    b0 = e.bal(FIN)
    e.review(k5, "disburse")
    eq(e.bal(FIN), b0, "reverse factoring pays the seller, not us")
    f = e.review(k5, "repay")["financing"]
    eq(b0 - e.bal(FIN), D(f["repayment"]["amount"]["amount"]),
       "we repay principal and interest")
    eq(D(f["repayment"]["amount"]["amount"]),
       D("800.00") + interest("800.00", "4.35",
                              (dt.date(2024, 6, 30) - BTODAY).days),
       "reverse factoring interest")


def s04_financing_idempotency(e):
    key = e.rid("fin")
    obj = {"request_id": key, "kind": "receivable",
           "requested_amount": cny("90.00"), "account": FIN,
           "invoices": [e.invoice("INV-S04-1", "100.00")]}
    body = json.dumps(obj).encode()
    r1 = e.bpost("/v1/scf/financing", raw=body, key=key)
    e.ok(r1, "create")
    e.review(key, "review")
    r2 = e.bpost("/v1/scf/financing", raw=body, key=key)
    eq((r2.status, r2.body), (201, r1.body),
       "replay: the original answer (submitted)")
    eq(e.get("/v1/scf/financing/" + key)["status"], "under_review",
       "GET: the current status")
    obj["requested_amount"] = cny("80.00")
    r3 = e.bpost("/v1/scf/financing", obj)
    eq((r3.status, r3.json["error"]), (422, "idempotency_key_reused"),
       "other body")
    q = e.get("/v1/scf/requests/" + key)
    eq((q["op"], q["http_status"], q["answer"]),
       ("financing", 201, r1.json), "inquiry")
    eq(e.call("GET", "/v1/scf/requests/nope").status, 404, "unknown")
    eq(len([f for f in e.hook_get("/admin/scf")["financing"]
            if f["request_id"] == key]), 1, "created once")


def s05_voucher_life_tier1(e):
    """One voucher's whole life, seen by us as the tier-1 supplier."""
    root = e.vhook("issue", issuer=ACC_CORP, to=us(VCH),
                   amount=cny("1000000.00"),
                   maturity_date="2024-09-04")["voucher"]
    rid = root["voucher_id"]
    check(re.fullmatch(r"V20240304[0-9]{6}", rid), "voucher id")
    eq((root["status"], root["level"], root["parent_id"], root["root_id"],
        root["issuer"], root["original_holder"], root["holder"],
        root["amount"], root["remaining"]),
       ("pending", 1, None, rid, party_out(ACC_CORP), us(VCH), us(VCH),
        cny("1000000.00"), cny("1000000.00")), "issued to us")
    eq(sorted(root), sorted([
        "voucher_id", "root_id", "parent_id", "level", "issuer",
        "original_holder", "transferor", "holder", "amount", "remaining",
        "issue_date", "maturity_date", "status", "status_date",
        "financing", "settlement", "contract_ref", "created_at",
        "updated_at"]), "voucher members")
    got = e.get("/v1/scf/vouchers?holder=us&status=pending")["vouchers"]
    eq([v["voucher_id"] for v in got], [rid], "waiting for us")
    e.tree_check(rid, "1000000.00")
    j = e.ok(e.vop(rid, "sign"), "sign")
    eq((j["result"], j["voucher"]["status"], j["child"]),
       ("accepted", "held", None), "held")
    # transfer down: 300000.00 to tier 2
    j = e.ok(e.vop(rid, "transfer", amount=cny("300000.00"), to=TIER2),
             "transfer to tier 2")
    c1 = j["child"]
    eq((j["result"], j["voucher"]["remaining"], c1["level"],
        c1["parent_id"], c1["root_id"], c1["status"], c1["amount"],
        c1["transferor"], c1["holder"], c1["original_holder"],
        c1["maturity_date"]),
       ("pending", cny("700000.00"), 2, rid, rid, "pending",
        cny("300000.00"), us(VCH), party_out(TIER2), us(VCH),
        "2024-09-04"), "child")
    e.tree_check(rid, "1000000.00")
    e.vhook("sign", voucher_id=c1["voucher_id"])
    # tier 2 passes 100000.00 on to tier 3 (outside us)
    c2 = e.vhook("transfer", voucher_id=c1["voucher_id"], to=TIER3,
                 amount=cny("100000.00"))["child"]
    eq((c2["level"], c2["parent_id"]), (3, c1["voucher_id"]), "tier 3")
    e.vhook("sign", voucher_id=c2["voucher_id"])
    vs = e.tree_check(rid, "1000000.00")
    eq((vs[rid]["remaining"], vs[c1["voucher_id"]]["remaining"],
        vs[c2["voucher_id"]]["remaining"]),
       (cny("700000.00"), cny("200000.00"), cny("100000.00")),
       "remaining down the tree")
    eq(e.voucher(c2["voucher_id"], 404)["error"], "SCF030",
       "tier 3 is not ours to see")
    # a transfer withdrawn and one refused give the amount back
    j = e.ok(e.vop(rid, "transfer", amount=cny("50000.00"), to=TIER2B),
             "transfer to tier 2b")
    e.ok(e.vop(j["child"]["voucher_id"], "withdraw"), "withdraw")
    eq(e.voucher(rid)["remaining"], cny("700000.00"), "given back")
    j = e.ok(e.vop(rid, "transfer", amount=cny("50000.00"), to=TIER2B),
             "again")
    e.vhook("refuse", voucher_id=j["child"]["voucher_id"], reason="no")
    eq(e.voucher(rid)["remaining"], cny("700000.00"), "refused: back")
    e.tree_check(rid, "1000000.00")
    # financing: the whole remaining
    e.refused(e.vop(rid, "finance", account=VCH,
                    amount=cny("600000.00")), "SCF037", "a part")
    b0 = e.bal(VCH)
    j = e.ok(e.vop(rid, "finance", account=VCH,
                   amount=cny("700000.00")), "finance")
    fin = j["voucher"]["financing"]
    want_i = interest("700000.00", "3.65", 184)
    eq(want_i, D("13058.89"), "worked example: 184 days at 3.65 %")
    eq((j["voucher"]["status"], fin["amount"], fin["rate"],
        fin["interest"], fin["proceeds"], fin["date"], fin["account"]),
       ("financed", cny("700000.00"), "3.6500", cny("13058.89"),
        cny("686941.11"), BTODAY.isoformat(), VCH), "financed")
    eq(e.bal(VCH) - b0, D("686941.11"), "proceeds credited")
    e.refused(e.vop(rid, "transfer", amount=cny("1.00"), to=TIER2),
              "SCF031", "transfer a financed voucher")
    e.refused(e.vop(rid, "finance", account=VCH), "SCF031",
              "finance twice")
    e.vhook("finance", voucher_id=c2["voucher_id"])
    e.tree_check(rid, "1000000.00")
    e.refused(e.vop(rid, "settle", account=VCH), "SCF036",
              "we are not the issuer")
    e.vhook("settle", voucher_id=rid, status=409)   # before maturity
    try:
        e.set_date("2024-09-04")
        b0 = e.bal(VCH)
        e.vhook("settle", voucher_id=c2["voucher_id"])
        st = e.hook_get("/admin/scf")
        tree = {v["voucher_id"]: v for v in st["vouchers"]
                if v["root_id"] == rid}
        eq(sorted((v["level"], v["status"], v["settlement"]["amount"],
                   v["settlement"]["paid_to"]) for v in tree.values()
                  if v["status"] == "settled"),
           [(1, "settled", cny("700000.00"), BANK_US),
            (2, "settled", cny("200000.00"), party_out(TIER2)),
            (3, "settled", cny("100000.00"), BANK_US)],
           "settled: financed ones pay the bank")
        eq(sorted(v["status"] for v in tree.values()),
           ["refused", "settled", "settled", "settled", "withdrawn"],
           "every voucher of the tree")
        e.tree_check(rid, "1000000.00")
        eq(e.bal(VCH), b0, "nothing to us: ours was financed")
        eq(e.voucher(rid)["status"], "settled", "our view")
    finally:
        e.set_date(BTODAY)


def s06_voucher_life_issuer(e):
    """We are the core enterprise: issue -> two tiers down -> financing
    -> settlement, checking the tree after each step."""
    j = e.ok(e.bpost("/v1/scf/vouchers", {
        "request_id": e.rid("vis"), "amount": cny("500000.00"),
        "maturity_date": "2024-06-04", "issuer_account": VCH,
        "receiver": TIER1, "contract_ref": "PO-2024-77"}), "issue")
    eq((j["op"], j["result"], j["child"]), ("issue", "pending", None),
       "answer")
    root = j["voucher"]
    rid = root["voucher_id"]
    eq((root["issuer"], root["holder"], root["original_holder"],
        root["transferor"], root["contract_ref"]),
       (us(VCH), party_out(TIER1), party_out(TIER1), us(VCH),
        "PO-2024-77"), "issued by us")

    def listed():
        vs = e.get("/v1/scf/vouchers?root_id=%s&page_size=500" %
                   rid)["vouchers"]
        return {v["voucher_id"]: v for v in vs}
    e.tree_check(rid, "500000.00")
    e.refused(e.vop(rid, "sign"), "SCF038", "not addressed to us")
    e.vhook("sign", voucher_id=rid)
    c1 = e.vhook("transfer", voucher_id=rid, to=TIER2,
                 amount=cny("200000.00"))["child"]
    e.vhook("sign", voucher_id=c1["voucher_id"])
    c2 = e.vhook("transfer", voucher_id=c1["voucher_id"], to=TIER3,
                 amount=cny("50000.00"))["child"]
    e.vhook("sign", voucher_id=c2["voucher_id"])
    vs = e.tree_check(rid, "500000.00")
    mine = listed()
    eq(sorted(mine), sorted(vs), "the issuer sees the whole tree")
    eq({k: v["remaining"] for k, v in mine.items()},
       {k: v["remaining"] for k, v in vs.items()}, "our view = the bank's")
    eq(sum(D(v["remaining"]["amount"]) for v in mine.values()),
       D("500000.00"), "our view adds up")
    eq(sorted(v["level"] for v in mine.values()), [1, 2, 3], "three tiers")
    e.vhook("finance", voucher_id=c2["voucher_id"])
    e.refused(e.vop(c1["voucher_id"], "transfer", amount=cny("1.00"),
                    to=TIER3), "SCF032", "not ours to transfer")
    e.refused(e.vop(rid, "settle", account=VCH), "SCF035",
              "before maturity")
    # a pending transfer at settlement lapses
    c3 = e.vhook("transfer", voucher_id=c1["voucher_id"], to=TIER2B,
                 amount=cny("10000.00"))["child"]
    try:
        e.set_date("2024-06-04")
        e.refused(e.vop(rid, "settle", account=NOT_OURS), "SCF005",
                  "account not ours")
        b0 = e.bal(VCH)
        j = e.ok(e.vop(rid, "settle", account=VCH), "settle")
        eq((j["result"], j["voucher"]["status"]), ("accepted", "settled"),
           "settled")
        eq(b0 - e.bal(VCH), D("500000.00"), "the root amount debited")
        vs = e.tree_check(rid, "500000.00")
        eq(vs[c3["voucher_id"]]["status"], "withdrawn", "pending lapsed")
        eq(sorted((v["level"], v["settlement"]["amount"]["amount"])
                  for v in vs.values() if v["status"] == "settled"),
           [(1, "300000.00"), (2, "150000.00"), (3, "50000.00")],
           "each paid its remaining")
        e.refused(e.vop(rid, "settle", account=VCH), "SCF031",
                  "settle twice")
        tx = e.get("/v1/accounts/%s/transactions?from=2024-06-04&"
                   "to=2024-06-04" % VCH)["transactions"]
        eq([t["amount"]["amount"] for t in tx
            if t["bank_reference"] == j["request_id"]], ["-500000.00"],
           "the settlement booking")
    finally:
        e.set_date(BTODAY)


def s07_voucher_refusals(e):
    def issue(**kw):
        obj = {"request_id": e.rid("vis"), "amount": cny("1000.00"),
               "maturity_date": "2024-09-04", "issuer_account": VCH,
               "receiver": TIER1}
        obj.update(kw)
        return e.bpost("/v1/scf/vouchers", obj)
    e.refused(issue(issuer_account=NOT_OURS), "SCF005", "issuer account")
    e.refused(issue(maturity_date="2024-03-04"), "SCF041", "maturity today")
    e.refused(issue(maturity_date="2025-03-05"), "SCF041", "over a year")
    e.ok(issue(maturity_date="2025-03-04"), "exactly a year")
    e.refused(issue(receiver=us(VCH)), "SCF039", "to ourselves")
    e.bad(issue(receiver=OTHER_BANK), "missing_field", "receiver.account",
          "receiver without account")
    e.bad(issue(amount=cny("10")), "invalid_field", "amount.amount",
          "no decimals")
    e.refused(e.vop("V20240304999999", "sign"), "SCF030", "unknown")
    r = e.vop("V-1", "sign")
    e.bad(r, "invalid_field", "voucher_id", "id shape")
    v = e.vhook("issue", issuer=ACC_CORP, to=us(VCH),
                amount=cny("5000.00"), maturity_date="2024-04-04")["voucher"]
    vid = v["voucher_id"]
    e.refused(e.vop(vid, "transfer", amount=cny("1.00"), to=TIER2),
              "SCF031", "transfer a pending voucher")
    e.refused(e.vop(vid, "withdraw"), "SCF038", "withdraw what was sent "
              "to us")
    e.vhook("sign", voucher_id=vid, status=409)      # it is ours to sign
    e.ok(e.vop(vid, "sign"), "sign")
    e.refused(e.vop(vid, "sign"), "SCF031", "sign a held voucher")
    e.refused(e.vop(vid, "transfer", amount=cny("5000.01"), to=TIER2),
              "SCF033", "more than remaining")
    e.refused(e.vop(vid, "transfer", amount=cny("1.00"), to=us(VCH)),
              "SCF039", "transfer to ourselves")
    e.bad(e.vop(vid, "transfer", amount=cny("1.00")), "missing_field",
          "to", "transfer without to")
    e.bad(e.vop(vid, "sign", account=VCH), "invalid_field", "account",
          "account not used by sign")
    j = e.ok(e.vop(vid, "transfer", amount=cny("5000.00"), to=TIER2),
             "everything")
    eq(j["voucher"]["remaining"], cny("0.00"), "nothing left")
    e.refused(e.vop(vid, "finance", account=VCH), "SCF037",
              "nothing left to finance")
    e.refused(e.vop(j["child"]["voucher_id"], "sign"), "SCF038",
              "the receiver signs, not us")
    e.refused(e.vop(vid, "transfer", amount=cny("0.01"), to=TIER2),
              "SCF033", "remaining 0")
    e.vhook("withdraw", voucher_id=j["child"]["voucher_id"], status=409)
    e.ok(e.vop(j["child"]["voucher_id"], "withdraw"), "withdraw")
    try:
        e.set_date("2024-04-04")
        e.refused(e.vop(vid, "transfer", amount=cny("1.00"), to=TIER2),
                  "SCF034", "at maturity")
        e.refused(e.vop(vid, "finance", account=VCH), "SCF034",
                  "finance at maturity")
    finally:
        e.set_date(BTODAY)
    e.vhook("issue", status=400, issuer=us(VCH), to=TIER1,
            amount=cny("1.00"), maturity_date="2024-09-04")
    e.vhook("nonsense", status=400, voucher_id=vid)
    e.vhook("sign", status=404, voucher_id="V0")


def s08_voucher_settled_to_us(e):
    """We hold part of a tree at settlement: the issuer pays us our
    remaining; the counterparties sign by themselves (auto_sign_ms)."""
    v = e.vhook("issue", issuer=ACC_CORP, to=us(VCH),
                amount=cny("3000.00"), maturity_date="2024-05-04")["voucher"]
    vid = v["voucher_id"]
    e.ok(e.vop(vid, "sign"), "sign")
    e.hook("/admin/settings", {"auto_sign_ms": 0})
    try:
        j = e.ok(e.vop(vid, "transfer", amount=cny("1000.00"), to=TIER2),
                 "transfer")
        eq(j["child"]["status"], "pending", "answer: pending")
        eq(e.voucher(j["child"]["voucher_id"])["status"], "held",
           "auto-signed by the receiver")
    finally:
        e.hook("/admin/settings", {"auto_sign_ms": None})
    vs = e.tree_check(vid, "3000.00")
    try:
        e.set_date("2024-05-04")
        b0 = e.bal(VCH)
        e.vhook("settle", voucher_id=vid)
        eq(e.bal(VCH) - b0, D("2000.00"), "our remaining paid to us")
        mine = e.voucher(vid)
        eq((mine["status"], mine["settlement"]),
           ("settled", {"date": "2024-05-04", "amount": cny("2000.00"),
                        "paid_to": us(VCH)}), "our settlement")
        eq(e.voucher(j["child"]["voucher_id"])["settlement"]["paid_to"],
           party_out(TIER2), "the child is paid to tier 2")
        tx = e.get("/v1/accounts/%s/transactions?from=2024-05-04&"
                   "to=2024-05-04" % VCH)["transactions"]
        eq([(t["amount"]["amount"], t["counterparty_name"]) for t in tx
            if t["bank_reference"] == vid],
           [("2000.00", ACC_CORP["name"])], "booked from the issuer")
        e.tree_check(vid, "3000.00")
        e.vhook("settle", voucher_id=vid, status=409)
    finally:
        e.set_date(BTODAY)
    check(vs, "tree")


def s09_voucher_listing(e):
    st = e.hook_get("/admin/scf")
    allv = st["vouchers"]
    got = e.get("/v1/scf/vouchers?page_size=500")["vouchers"]
    check(len(got) < len(allv), "some vouchers are not ours to see")
    keyf = [(v["root_id"], v["voucher_id"]) for v in got]
    eq(keyf, sorted(keyf), "order")
    ours = e.get("/v1/scf/vouchers?holder=us&page_size=500")["vouchers"]
    others = e.get("/v1/scf/vouchers?holder=others&page_size=500")[
        "vouchers"]
    check(ours and others, "both kinds present")
    eq(len(ours) + len(others), len(got), "us + others = all")
    check(all(v["holder"]["account"] in (VCH,) for v in ours), "ours")
    held = e.get("/v1/scf/vouchers?holder=us&status=settled")["vouchers"]
    check(held and all(v["status"] == "settled" for v in held), "status")
    j = e.get("/v1/scf/vouchers?page_size=2&page=2")
    eq((j["page"], j["page_size"], j["total"], j["total_pages"],
        [v["voucher_id"] for v in j["vouchers"]]),
       (2, 2, len(got), (len(got) + 1) // 2,
        [v["voucher_id"] for v in got[2:4]]), "paging")
    d = e.voucher(got[0]["voucher_id"])
    check(d["history"] and sorted(d["history"][0]) == sorted([
        "time", "date", "op", "event", "by", "to", "amount", "status",
        "request_id"]), "history members")
    for q, field in (("holder=me", "holder"), ("status=open", "status"),
                     ("page_size=0", "page_size"), ("x=1", "x")):
        r = e.call("GET", "/v1/scf/vouchers?" + q)
        eq((r.status, r.json["field"]), (400, field), q)
    r = e.call("GET", "/v1/scf/notices?kind=due")
    eq((r.status, r.json["field"]), (400, "kind"), "notices filter")


TESTS_BILLS = [(n, f) for n, f in sorted(globals().items())
               if re.match(r"[bs]\d\d_", n)]


def bills_seed(d):
    fn = os.path.join(d, "seed_bills.json")
    with open(fn, "w") as f:
        json.dump({"accounts": [
            {"iban": a, "currency": "CNY", "opening_balance": "5000000.00"}
            for a in (OUR, FIN, VCH)]}, f)
    return fn


def test_bills_scf(tmp, pki):
    """The bills and scf API through the CLI simulator."""
    p, port, admin = start_cli(tmp, pki, [
        "--seed", bills_seed(tmp), "--today", BTODAY.isoformat(),
        "--lifetime", "300"])
    e = BEnv(tmp, pki)
    e.port, e.admin_port = port, admin
    results = []
    try:
        e.token = e.new_token()
        for name, f in TESTS_BILLS:
            t0 = time.monotonic()
            try:
                f(e)
                results.append((name, None, time.monotonic() - t0))
            except Exception as x:
                if VERBOSE or not isinstance(x, Fail):
                    traceback.print_exc()
                results.append((name, x, time.monotonic() - t0))
            finally:
                try:
                    e.faults(clear=True)
                except Exception:
                    pass
    finally:
        stop_proc(p)
        if any(r[1] for r in results):
            with open(os.path.join(tmp, "sim.stderr")) as f:
                print("--- simulator stderr ---\n" + f.read()[-4000:])
    return results


def test_bills_inprocess(tmp, pki):
    """In-process: no overdraft (BIL024, SCF040), restart, reset."""
    t0 = time.monotonic()
    seed = os.path.join(tmp, "seed.json")
    with open(seed, "w") as f:
        json.dump({"accounts": [{"iban": OUR, "currency": "CNY",
                                 "opening_balance": "1000.00"}]}, f)
    kw = dict(state_dir=os.path.join(tmp, "st"), cert=pki["server"],
              key=pki["server_key"], ca=pki["ca"], client_id=CLIENT_ID,
              client_secret=SECRET, client_cn=pki["client_cn"],
              client_sign_ca=pki["ca"], sign_cert=pki["bank_sign"],
              sign_key=pki["bank_sign_key"], seed=seed, no_overdraft=True,
              today=BTODAY, lifetime=120, log=lambda m: None,
              customer_name="测试二号", bank_code="999100000028")
    bank = bank_openapi.BankSim(**kw).start()
    e = BEnv(tmp, pki)
    e.port, e.admin_port = bank.port, bank.admin_port
    me = {"name": "测试二号", "account": OUR, "bank_code": "999100000028"}
    try:
        e.token = e.new_token()
        n = bank.bill_present(kind="present_payment", to_account=OUR,
                              draft=ext_draft(amount="1000.01",
                                              acceptor=me),
                              **{"from": PAYEE})["notice"]
        e.refused(e.op(n["number"], "sign", notice_id=n["notice_id"],
                       account=OUR), "BIL024", "no cover")
        eq(e.bal(), D("1000.00"), "nothing booked")
        j = e.ok(e.op(n["number"], "refuse", notice_id=n["notice_id"],
                      reason="余额不足"), "refuse instead")
        eq(j["draft"]["status"], "refused", "refused")
        v = bank.voucher_hook(action="issue", issuer=ACC_CORP, to=TIER1,
                              amount=cny("10.00"),
                              maturity_date="2024-04-01")
        eq(v["voucher"]["holder"], party_out(TIER1), "outside tree")
        k = e.rid("vis")
        j = e.ok(e.bpost("/v1/scf/vouchers", {
            "request_id": k, "amount": cny("1000.01"),
            "maturity_date": "2024-04-01", "issuer_account": OUR,
            "receiver": TIER1}), "issue")
        vid = j["voucher"]["voucher_id"]
        eq(j["voucher"]["issuer"], me, "our party: --customer-name, "
           "--bank-code")
        bank.voucher_hook(action="sign", voucher_id=vid)
        bank.set_today(dt.date(2024, 4, 1))
        e.refused(e.vop(vid, "settle", account=OUR), "SCF040", "no cover")
        try:
            bank.voucher_hook(action="settle", voucher_id=vid)
            raise Fail("a hook settled our voucher")
        except bank_openapi.Refusal as x:
            eq(x.code, "SCF036", "hooks do not act for us")
        bank.set_settings(auto_sign_ms=0)
        j = e.ok(e.bpost("/v1/bills/drafts", {
            "request_id": e.rid("iss"), "kind": "AC01",
            "amount": cny("10.00"), "maturity_date": "2024-05-01",
            "drawer_account": OUR, "acceptor": ACC_BANK,
            "payee": PAYEE}), "issue a draft")
        num = j["draft"]["number"]
        e.ok(e.op(num, "present_acceptance"), "present")
        # restart: state and keys survive, the auto-sign setting too
        bank.stop()
        bank = bank_openapi.BankSim(**kw).start()
        e.port, e.admin_port = bank.port, bank.admin_port
        e.token = e.new_token()
        eq(e.detail(num)[0]["status"], "accepted", "auto-signed, restarted")
        r = e.bpost("/v1/scf/vouchers", {
            "request_id": k, "amount": cny("1000.01"),
            "maturity_date": "2024-04-01", "issuer_account": OUR,
            "receiver": TIER1})
        eq((r.status, r.json["voucher"]["status"]), (201, "pending"),
           "replay after restart: the original answer")
        eq(e.voucher(vid)["status"], "held", "vouchers survive")
        eq(bank.count_requests(request_id=k, outcome="replayed"), 1,
           "request log survives")
        eq(bank.bills_state()["settings"]["auto_sign_ms"], 0,
           "settings survive")
        bank.reset()
        eq(bank.bills_state()["pieces"], [], "reset: no drafts")
        eq(bank.scf_state()["vouchers"], [], "reset: no vouchers")
        eq(bank.requests_log(), [], "reset: request log emptied")
        eq(bank.bills_state()["settings"]["auto_sign_ms"], None,
           "reset: settings")
        eq(e.call("GET", "/v1/scf/requests/" + k).status, 404,
           "reset: keys forgotten")
    finally:
        bank.stop()
    return [("bills_inprocess", None, time.monotonic() - t0)]


def test_bills_codes(tmp, pki):
    """Every bank code of BILLS_API was produced by some test above."""
    want = set(bank_openapi.CODES)
    missing = sorted(want - CODES_SEEN)
    doc = bank_openapi.BILLS_API
    undocumented = sorted(c for c in want if c not in doc)
    err = None
    if missing:
        err = Fail("codes never produced: %s" % ", ".join(missing))
    elif undocumented:
        err = Fail("codes not in BILLS_API: %s" % ", ".join(undocumented))
    return [("all_codes_exercised", err, 0)]


# -- runner -------------------------------------------------------------------

def main():
    t_all = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="h2h-openapi-")
    failed = total = 0
    try:
        t0 = time.monotonic()
        try:
            pki = make_certs(os.path.join(tmp, "certs"))
        except Exception as x:
            traceback.print_exc()
            print("FAIL pki: %s" % x)
            return 1
        print("PKI from %s (%.2fs)" % (pki["source"], time.monotonic() - t0))
        groups = [test_cli, test_python_api, test_cli_lifetime_and_args,
                  test_bills_scf, test_bills_inprocess, test_bills_codes,
                  test_docs]
        for g in groups:
            if FILTER and not any(x in g.__name__ for x in FILTER):
                continue
            d = os.path.join(tmp, g.__name__)
            os.makedirs(d)
            t0 = time.monotonic()
            try:
                results = g(d, pki)
            except Exception as x:
                if VERBOSE or not isinstance(x, Fail):
                    traceback.print_exc()
                results = [(g.__name__, x, time.monotonic() - t0)]
            for name, err, took in results:
                total += 1
                if err is None:
                    print("PASS %s (%.2fs)" % (name, took))
                else:
                    failed += 1
                    print("FAIL %s: %s" % (name, err))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d/%d passed in %.1fs" % (total - failed, total,
                                     time.monotonic() - t_all))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
