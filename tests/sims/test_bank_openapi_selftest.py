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
    return [("readme_contract", None if ok else
             Fail("tests/sims/README.md does not repeat the contract of "
                  "bank_openapi.py verbatim"), 0)]


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
