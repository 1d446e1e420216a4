#!/usr/bin/python3
"""Self-test of the direct-connect front end simulator (bank_cn.py), its
profile parser (libconf.py) and the two shipped profiles (etc/cnbank/).

Run: /usr/bin/python3 tests/sims/test_bank_cn_selftest.py [-v] [filter]
Exit status 0 when every check passed.

For BOTH profiles the simulator is started (cmb-style as a subprocess
through its CLI, icbc-style in-process through its class), with throw-away
EC P-256 certificates made here with the openssl CLI. Requests are built by
the small client below straight from the profile's libconfig data
(encoding, framing, signature placement), not from the simulator's profile
model, and every expected value (balances, amounts in the profile's unit,
entry counts, statuses) is worked out here from the seed and from what the
test sent.
"""
import base64
import datetime as dt
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import libconf  # noqa: E402

PY = "/usr/bin/python3"
PROFILES = {"cmb": os.path.join(REPO, "etc", "cnbank", "cmb-style.profile"),
            "icbc": os.path.join(REPO, "etc", "cnbank", "icbc-style.profile")}
VERBOSE = "-v" in sys.argv
FILTER = [a for a in sys.argv[1:] if not a.startswith("-")]
SETTLE_MS = 300
PAGE_SIZE = 3
CST = dt.timezone(dt.timedelta(hours=8))

OURS = "755912345610001"
OURS2 = "755912345620002"
NOT_OURS = "755900000000009"
PAYEE = "6222021001122334455"
PAYEE2 = "6228480012345678901"
CLOSED = "6222020000000000404"
RARE = "张\U00020BB7"     # 𠮷: in GB18030, not in GBK


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL,
                       timeout=60, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd),
                                       r.stderr.decode(errors="replace")))
    return r.stdout


# -- throw-away PKI (openssl CLI, EC P-256) --------------------------------

def make_pki(d):
    def key_csr(name, cn):
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             os.path.join(d, name + ".key"), "-out",
             os.path.join(d, name + ".csr"), "-subj", "/O=h2hd test/CN=" + cn])

    def ca(name, cn):
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             os.path.join(d, name + ".key"), "-out",
             os.path.join(d, name + ".pem"), "-days", "2", "-subj",
             "/O=h2hd test/CN=" + cn, "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign"])

    def leaf(name, cn, issuer, ext):
        key_csr(name, cn)
        extf = os.path.join(d, name + ".ext")
        with open(extf, "w") as f:
            f.write("[v3]\nbasicConstraints=CA:FALSE\n" + ext)
        run(["openssl", "x509", "-req", "-in", os.path.join(d, name + ".csr"),
             "-CA", os.path.join(d, issuer + ".pem"), "-CAkey",
             os.path.join(d, issuer + ".key"), "-set_serial",
             str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
             "-out", os.path.join(d, name + ".pem"), "-extfile", extf,
             "-extensions", "v3"])

    ca("ca", "cn test CA")
    ca("rogue", "somebody else's CA")
    leaf("server", "127.0.0.1", "ca",
         "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
         "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n")
    leaf("client", "h2hd client", "ca",
         "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n")
    sig = "keyUsage=critical,digitalSignature,nonRepudiation\n"
    leaf("corpsign", "H2HCORP01 signing", "ca", sig)
    leaf("banksign", "bank signing", "ca", sig)
    leaf("roguesign", "H2HCORP01 signing", "rogue", sig)
    return {n: (os.path.join(d, n + ".pem"), os.path.join(d, n + ".key"))
            for n in ("ca", "server", "client", "corpsign", "banksign",
                      "roguesign")}


def cms_sign(data, cert, key, tmp):
    dp, sp = os.path.join(tmp, "c.data"), os.path.join(tmp, "c.sig")
    with open(dp, "wb") as f:
        f.write(data)
    run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md",
         "sha256", "-signer", cert, "-inkey", key, "-in", dp, "-out", sp])
    with open(sp, "rb") as f:
        return f.read()


def cms_verify(data, der, pinned, tmp):
    dp, sp = os.path.join(tmp, "v.data"), os.path.join(tmp, "v.sig")
    with open(dp, "wb") as f:
        f.write(data)
    with open(sp, "wb") as f:
        f.write(der)
    r = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform",
                        "DER", "-in", sp, "-content", dp, "-CAfile", pinned,
                        "-partial_chain", "-purpose", "any", "-out",
                        os.devnull], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    return r.returncode == 0


# -- a small client, straight from the profile's libconfig data ------------

class Unencodable(Exception):
    pass


class NoAnswer(Exception):
    """No usable answer: the outcome is unknown (ask by serial)."""


class Answer:
    def __init__(self):
        self.code = self.message = None
        self.result = {}
        self.items = []
        self.body = b""
        self.request = b""


def _child(el, name):
    for c in el:
        if c.tag == name:
            return c
    return etree.SubElement(el, name)


def _set(base, path, value):
    parts = path.split("/")
    attr = parts.pop()[1:] if parts[-1].startswith("@") else None
    el = base
    for p in parts:
        el = _child(el, p)
    if attr:
        el.set(attr, value)
    else:
        el.text = value


def _base(root, path):
    el = root
    for p in (path.split("/") if path else []):
        el = _child(el, p)
    return el


def _get(base, path):
    parts = path.split("/")
    attr = parts.pop()[1:] if parts[-1].startswith("@") else None
    el = base
    for p in parts:
        el = el.find(p) if el is not None else None
    if el is None:
        return None
    return el.get(attr) if attr else (el.text or "")


class Client:
    def __init__(self, profile_path, port, pki, tmp, login="H2HCORP01",
                 user=None, signer="corpsign"):
        self.p = libconf.load(profile_path)
        self.port = port
        self.pki = pki
        self.tmp = tmp
        self.login = login
        self.user = user or login
        self.signer = signer
        self.codec = {"GBK": "gbk", "GB18030": "gb18030"}[self.p["encoding"]]
        self.n = 0
        self.last_request_id = None

    # values

    def amount(self, v):
        if isinstance(v, str):
            return v                       # raw, for negative tests
        if self.p["amount_unit"] == "fen":
            return str(v)
        return "%d.%02d" % (v // 100, v % 100)

    def date(self, d):
        return d.strftime(self.p["date_format"])

    def ccy_code(self, ccy):
        return dict(map(tuple, self.p["currency_codes"]))[ccy]

    def fill(self, tmpl, vals, where):
        def sub(m):
            t = m.group(1)
            v = vals[t]
            v = self.amount(v) if t in ("amount", "total") else str(v)
            try:
                v.encode(self.codec)
            except UnicodeEncodeError:
                raise Unencodable("%s: {%s} %r cannot be written in %s" %
                                  (where, t, v, self.p["encoding"]))
            return v
        return re.sub(r"\{([a-z_]+)\}", sub, tmpl)

    # building

    def build(self, fname, values, items=None):
        P, fn = self.p, self.p["functions"][fname]
        self.n += 1
        now = dt.datetime.now(CST)
        vals = {"function": fn["code"], "login": self.login,
                "user": self.user, "request_id": "T%dQ%06d" %
                (os.getpid() % 1000, self.n),
                "date": now.strftime(P["date_format"]),
                "time": now.strftime(P["time_format"]),
                "currency": "CNY", "page": ""}
        vals["currency_code"] = self.ccy_code(values.get("currency", "CNY"))
        vals.update(values)
        if items is not None:
            vals.setdefault("count", len(items))
            vals.setdefault("total", sum(i.get("amount") for i in items
                                         if isinstance(i.get("amount"),
                                                       int)))
        env = P["envelope"]
        root = etree.Element(env["root"])
        over = {p: t for p, t in fn.get("header", [])}
        echo = {}
        for path, tmpl in env["header"]:
            v = self.fill(over.get(path, tmpl), vals, path)
            _set(root, path, v)
            echo[path] = v
        body = _base(root, env["body"])
        for path, tmpl in fn["request"]:
            _set(body, path, self.fill(tmpl, vals, path))
        for n, it in enumerate(items or [], 1):
            iv = dict(vals, item_no=n, creditor_bank="", remittance="")
            iv.update(it)
            parts = fn["items"].split("/")
            parent = _base(body, "/".join(parts[:-1]))
            el = etree.SubElement(parent, parts[-1])
            for path, tmpl in fn["item"]:
                _set(el, path, self.fill(tmpl, iv, "item %d %s" % (n, path)))
        sig = P["signature"]
        if sig["where"] == "element":
            _set(root, sig["element"], "")
        self.last_request_id = vals["request_id"]
        text = etree.tostring(root, encoding="unicode")
        data = ('<?xml version="1.0" encoding="%s"?>\n' % P["encoding"] +
                text).encode(self.codec)
        return data, echo

    def sign(self, data, signer=None):
        cert, key = self.pki[signer or self.signer]
        s = base64.b64encode(cms_sign(data, cert, key, self.tmp)).decode()
        sig = self.p["signature"]
        if sig["where"] == "http-header":
            return data, {sig["header"]: s}
        name = sig["element"].split("/")[-1].encode()
        empty = b"<" + name + b"></" + name + b">"
        assert data.count(empty) == 1
        return data.replace(empty, b"<%s>%s</%s>" % (name, s.encode(),
                                                      name)), {}

    # sending

    def send(self, data, headers=None, timeout=10, content_type=None):
        """-> (body, headers dict) or raises NoAnswer."""
        headers = dict(headers or {})
        if self.p["framing"] == "http":
            ctx = ssl.create_default_context(cafile=self.pki["ca"][0])
            ctx.load_cert_chain(*self.pki["client"])
            c = http.client.HTTPSConnection("127.0.0.1", self.port,
                                            context=ctx, timeout=timeout)
            headers["Content-Type"] = content_type or \
                self.p["http"]["content_type"]
            try:
                c.request("POST", "/", body=data, headers=headers)
                r = c.getresponse()
                body = r.read()
            except (OSError, http.client.HTTPException) as e:
                raise NoAnswer("connection: %r" % e)
            finally:
                c.close()
            if r.status != 200:
                raise NoAnswer("HTTP %d" % r.status)
            return body, {k.lower(): v for k, v in r.getheaders()}
        digits = self.p["length"]["digits"]
        s = socket.create_connection(("127.0.0.1", self.port),
                                     timeout=timeout)
        try:
            s.sendall(b"%0*d" % (digits, len(data)) + data)
            buf = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                buf += d
        except OSError as e:
            raise NoAnswer("connection: %r" % e)
        finally:
            s.close()
        if len(buf) < digits or not buf[:digits].isdigit():
            raise NoAnswer("no framed answer (%d bytes)" % len(buf))
        n = int(buf[:digits])
        if len(buf) != digits + n:
            raise NoAnswer("answer length %d, prefix says %d" %
                           (len(buf) - digits, n))
        return buf[digits:], {}

    def read(self, fname, body, headers, echo):
        P, fn = self.p, self.p["functions"][fname]
        sig = P["signature"]
        bank = self.pki["banksign"][0]
        if sig["response"] == "http-header":
            h = headers.get(sig["response_header"].lower())
            if not h or not cms_verify(body, base64.b64decode(h), bank,
                                       self.tmp):
                raise NoAnswer("answer signature missing or wrong")
        elif sig["response"] == "element":
            name = sig["response_element"].split("/")[-1].encode()
            m = re.search(rb"<%s>([A-Za-z0-9+/=]*)</%s>" % (name, name), body)
            if not m:
                raise NoAnswer("no signature element in the answer")
            signed = body[:m.start(1)] + body[m.end(1):]
            if not cms_verify(signed, base64.b64decode(m.group(1)), bank,
                              self.tmp):
                raise NoAnswer("answer signature wrong")
        decl = ('<?xml version="1.0" encoding="%s"?>' %
                P["encoding"]).encode()
        if not body.startswith(decl):
            raise NoAnswer("answer does not declare %s" % P["encoding"])
        try:
            text = body.decode(self.codec)
        except UnicodeDecodeError:
            raise NoAnswer("answer does not decode as %s" % P["encoding"])
        try:
            root = etree.fromstring(text[len(decl):].encode("utf-8"),
                                    etree.XMLParser(resolve_entities=False,
                                                    no_network=True))
        except etree.XMLSyntaxError as e:
            raise NoAnswer("answer not XML: %s" % e)
        if root.tag != P["envelope"]["root"]:
            raise NoAnswer("answer root %s" % root.tag)
        missing = False
        for path in P["response"]["echo"]:
            got = _get(root, path)
            if got is None:
                missing = True
            elif got != echo[path]:
                raise NoAnswer("echo %s: %r, sent %r (stale answer)" %
                               (path, got, echo[path]))
        a = Answer()
        a.body = body
        a.code = _get(root, P["response"]["code"])
        a.message = _get(root, P["response"]["message"])
        if missing and (a.code is None or a.code in P["response"]["ok"]):
            raise NoAnswer("an ok answer without the echo")
        if a.code in P["response"]["ok"]:
            base = root
            rb = P["envelope"]["response_body"]
            for p in (rb.split("/") if rb else []):
                base = base.find(p)
            res = fn["result"]
            for k, path in res.items():
                if k in ("items", "item"):
                    continue
                a.result[k] = _get(base, path)
            if "items" in res:
                parts = res["items"].split("/")
                parent = base
                for p in parts[:-1]:
                    parent = parent.find(p) if parent is not None else None
                for el in ([] if parent is None else
                           parent.findall(parts[-1])):
                    a.items.append({k: (_get(el, v) if k not in
                                        ("debit_value", "credit_value")
                                        else v)
                                    for k, v in res["item"].items()})
        return a

    def call(self, fname, values=None, items=None, mutate=None, signer=None,
             unsigned=False, timeout=10, content_type=None):
        data, echo = self.build(fname, values or {}, items)
        if mutate:
            data = mutate(data)
            # what the bank can echo is what the mutated bytes say
            try:
                r = etree.fromstring(data.split(b"?>", 1)[1].decode(
                    self.codec, "replace").encode("utf-8"))
                for path in echo:
                    if _get(r, path) is not None:
                        echo[path] = _get(r, path)
            except (etree.XMLSyntaxError, IndexError):
                pass
        headers = {}
        if self.p["signature"]["where"] != "none" and not unsigned:
            data, headers = self.sign(data, signer)
        body, rh = self.send(data, headers, timeout, content_type)
        a = self.read(fname, body, rh, echo)
        a.request = data
        return a


# -- the test context -------------------------------------------------------

class Bank:
    """One running simulator and its client."""

    def __init__(self, kind, top, pki):
        self.kind = kind
        self.profile = PROFILES[kind]
        self.p = libconf.load(self.profile)
        self.dir = os.path.join(top, kind)
        os.makedirs(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.pki = pki
        self.today = dt.datetime.now(CST).date()
        self.seed = self._seed()
        self.proc = self.sim = None
        self.expected = []    # (serial, amount fen, cd) of our bookings

    def _seed(self):
        entries = []
        for i in range(8):
            entries.append({
                "account": OURS, "booking_date":
                (self.today - dt.timedelta(days=10 - i)).isoformat(),
                "amount": "%d.%02d" % (1000 + i * 111, i * 7),
                "credit_debit": "C",
                "counterparty_name": ["上海星辰贸易有限公司", "北京华联物流股份有限公司",
                                      "杭州西湖龙井茶业合作社", "成都天府软件园服务中心"][i % 4],
                "counterparty_account": "62220%014d" % i,
                "counterparty_bank": "中国银行上海分行",
                "remittance": "货款 INV-%04d" % i})
        entries.append({"account": OURS, "booking_date":
                        (self.today - dt.timedelta(days=40)).isoformat(),
                        "amount": "50.00", "credit_debit": "D",
                        "counterparty_name": "国网电力", "remittance": "电费"})
        seed = {"accounts": [{"account": OURS, "currency": "CNY",
                              "name": "深圳前海测试科技有限公司",
                              "opening_balance": "500000.00"},
                             {"account": OURS2, "currency": "CNY",
                              "name": "深圳前海测试科技有限公司二部",
                              "opening_balance": "100.00"}],
                "closed": [CLOSED], "entries": entries}
        fn = os.path.join(self.dir, "seed.json")
        with open(fn, "w", encoding="utf-8") as f:
            json.dump(seed, f, ensure_ascii=False)
        return seed

    def seed_fen(self, account, d_from=None, d_to=None):
        out = []
        for e in self.seed["entries"]:
            if e["account"] != account:
                continue
            d = dt.date.fromisoformat(e["booking_date"])
            if d_from and not d_from <= d <= d_to:
                continue
            a, b = e["amount"].split(".")
            out.append((e, int(a) * 100 + int(b)))
        return out

    def args(self):
        a = ["--profile", self.profile, "--state", self.state,
             "--accounts", OURS, OURS2, "--seed",
             os.path.join(self.dir, "seed.json"), "--page-size",
             str(PAGE_SIZE), "--settle-ms", str(SETTLE_MS), "--lifetime",
             "300", "--sign-cert", self.pki["banksign"][0], "--sign-key",
             self.pki["banksign"][1], "--client-sign-ca", self.pki["ca"][0]]
        if self.p["framing"] == "http":
            a += ["--cert", self.pki["server"][0], "--key",
                  self.pki["server"][1], "--ca", self.pki["ca"][0]]
        if self.kind == "icbc":
            a += ["--user", "H2HCORP01.op1"]
        return a

    def start_cli(self):
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, "bank_cn.py")] + self.args(),
            stdout=subprocess.PIPE, stderr=None if VERBOSE else
            subprocess.DEVNULL, text=True)
        l1 = self.proc.stdout.readline().split()
        l2 = self.proc.stdout.readline().split()
        check(len(l1) == 2 and l1[0] == "LISTEN", "LISTEN line: %r" % l1)
        check(len(l2) == 2 and l2[0] == "ADMIN", "ADMIN line: %r" % l2)
        self.port, self.admin_port = int(l1[1]), int(l2[1])

    def start_class(self):
        import bank_cn
        a = self.args()
        kw = {}
        i = 0
        while i < len(a):
            k = a[i][2:].replace("-", "_")
            if k == "accounts":
                kw[k] = [a[i + 1], a[i + 2]]
                i += 3
                continue
            kw[k] = a[i + 1]
            i += 2
        kw["profile"] = kw.pop("profile")
        kw["state_dir"] = kw.pop("state")
        kw["page_size"] = int(kw["page_size"])
        kw["settle_ms"] = int(kw["settle_ms"])
        kw["lifetime"] = float(kw["lifetime"])
        kw["log"] = (lambda m: print("sim:", m, file=sys.stderr)) \
            if VERBOSE else (lambda m: None)
        self.sim = bank_cn.BankCN(**kw).start()
        self.port, self.admin_port = self.sim.port, self.sim.admin_port

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        if self.sim:
            self.sim.stop()
            self.sim = None

    def client(self, **kw):
        kw.setdefault("user", "H2HCORP01.op1" if self.kind == "icbc"
                      else None)
        return Client(self.profile, self.port, self.pki, self.dir, **kw)

    # admin port (plain HTTP, JSON)
    def admin(self, method, path, obj=None):
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port,
                                       timeout=10)
        body = json.dumps(obj).encode() if obj is not None else None
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read().decode("utf-8"))
        c.close()
        if r.status != 200:
            raise Fail("admin %s %s: %d %r" % (method, path, r.status, data))
        return data

    def faults(self, **kw):
        return self.admin("POST", "/admin/faults", kw)

    def arrivals(self, **match):
        return [a for a in self.admin("GET", "/admin/arrivals")
                if all(a.get(k) == v for k, v in match.items())]

    def ledger_entries(self, account=OURS):
        for a in self.admin("GET", "/admin/ledger")["accounts"]:
            if a["account"] == account:
                return a["entries"]
        raise Fail("no ledger for %s" % account)

    # profile facts the tests need
    def status(self, iso):
        for v, i in self.p["status_map"]:
            if i == iso or (iso == "ACSC" and i in ("ACSC", "ACCP")):
                return v
        raise Fail("no status for %s" % iso)

    def code(self, kind):
        r = self.p["response"]
        if kind in ("ok", "busy", "not_found"):
            return r[kind][0]
        return r["errors"][kind]

    def fmt(self, fen):
        if self.p["amount_unit"] == "fen":
            return str(fen)
        return "%d.%02d" % (fen // 100, fen % 100)


_serial_n = [0]


def serial(b, tag="P"):
    _serial_n[0] += 1
    return "H2HM%s-%06d-%s%d" % (dt.date.today().strftime("%Y%m%d"),
                                 _serial_n[0], tag, 1)[:30]


def pay_values(b, s, amount=123450, creditor=PAYEE, **kw):
    v = {"serial": s, "debtor_account": OURS,
         "debtor_name": "深圳前海测试科技有限公司", "creditor_account": creditor,
         "creditor_name": "李四", "creditor_bank": "中国农业银行深圳分行",
         "amount": amount, "remittance": "服务费 2024年3月"}
    v.update(kw)
    return v


def wait_settle():
    time.sleep(SETTLE_MS / 1000.0 + 0.25)


def still_young(t0):
    """True while an instruction created after t0 must still be pending
    (a loaded machine may take longer than the settle delay: then the
    pending check is skipped, never failed)."""
    young = time.monotonic() - t0 < SETTLE_MS / 1000.0 * 0.8
    if not young:
        print("     (slow machine: pending check skipped)")
    return young


# -- libconf ---------------------------------------------------------------

def t_libconf(b):
    cfg = libconf.loads('a = "x" "y"; /* c */ b : 0x10; // d\n'
                        'c = ( 1, "z", { d = true; } ); e = [ 1.5, 2. ];\n'
                        '# e\nf = "q\\"\\\\\\n\\x41"; g = 7L, h = FALSE',
                        "t.cfg")
    eq(cfg, {"a": "xy", "b": 16, "c": [1, "z", {"d": True}],
             "e": [1.5, 2.0], "f": 'q"\\\nA', "g": 7, "h": False}, "parse")
    for text, line, word in (
            ("a = 1;\nb = (1, 2,);", 2, "trailing"),
            ("a = 1;\n\na = 2;", 3, "duplicate"),
            ("a = [1, \"x\"];", 1, "mismatched"),
            ("a = {\n b = 1;\n", 3, "end of file"),
            ("a = \"x\\q\";", 1, "escape"),
            ("a = 1;;", 1, "setting name"),
            ("a = 3000000000;", 1, "32-bit"),
            ("\n\n_a = 1;", 3, "cannot read"),
            ("a = \"abc\ndef\";", 1, "newline"),
            ("@include \"x\"", 1, "@include")):
        try:
            libconf.loads(text, "bad.cfg")
            raise Fail("accepted %r" % text)
        except libconf.ConfigError as e:
            check(str(e).startswith("bad.cfg:%d: " % line) and
                  word in str(e), "error for %r: %s" % (text, e))


def t_profiles(b):
    """The shipped profiles differ in every row of PROFILE.md's table."""
    c = libconf.load(PROFILES["cmb"])
    i = libconf.load(PROFILES["icbc"])
    for key in ("encoding", "amount_unit", "framing", "date_format"):
        check(c[key] != i[key], "profiles agree on %s" % key)
    check(c["envelope"]["root"] != i["envelope"]["root"], "same root")
    check(c["signature"]["where"] == "http-header" and
          i["signature"]["where"] == "element", "signature placement")
    check(c["paging"]["style"] == "token" and i["paging"]["style"] == "page",
          "paging")
    codes_c = {f["code"] for f in c["functions"].values()}
    codes_i = {f["code"] for f in i["functions"].values()}
    # 8 base functions + the bills (6) and scf (6) families
    check(not codes_c & codes_i and len(codes_c) == len(codes_i) == 20,
          "function codes")
    import bank_cn
    for p in PROFILES.values():
        bank_cn.Profile(p)       # validates, raises on any problem
    # a broken copy is refused with file:line
    src = open(PROFILES["icbc"], encoding="utf-8").read()
    bad = src.replace('"{remittance}" ) );\n    result = { serial   = "fSeqno"',
                      '"{remitance}" ) );\n    result = { serial   = "fSeqno"')
    check(bad != src, "mutation")
    fn = os.path.join(b.dir, "bad.profile")
    with open(fn, "w", encoding="utf-8") as f:
        f.write(bad)
    line = bad[:bad.index("{remitance}")].count("\n") + 1
    try:
        bank_cn.Profile(fn)
        raise Fail("bad profile accepted")
    except bank_cn.ProfileError as e:
        check("%s:%d: unknown token {remitance}" % (fn, line) in str(e),
              "profile error: %s" % e)


# -- per profile -----------------------------------------------------------

def t_balance(b):
    c = b.client()
    a = c.call("balance", {"account": OURS})
    eq(a.code, b.code("ok"), "balance code")
    opening = 50000000
    want = opening + sum(f if e["credit_debit"] == "C" else -f
                         for e, f in b.seed_fen(OURS))
    eq(a.result["account"], OURS, "account")
    eq(a.result["balance"], b.fmt(want), "balance in %s" %
       b.p["amount_unit"])
    eq(a.result["available"], b.fmt(want), "available")
    eq(a.result["currency"], c.ccy_code("CNY"), "currency code")
    eq(a.result["name"], "深圳前海测试科技有限公司", "account name")
    if b.p["amount_unit"] == "fen":
        check(re.fullmatch(r"[0-9]+", a.result["balance"]), "fen integer")
    else:
        check(re.fullmatch(r"[0-9]+\.[0-9]{2}", a.result["balance"]),
              "yuan two decimals")
    a = c.call("balance", {"account": NOT_OURS})
    eq(a.code, b.code("account"), "balance of a foreign account")


def t_payment(b):
    c = b.client()
    s = serial(b)
    t0 = time.monotonic()
    a = c.call("payment", pay_values(b, s))
    eq(a.code, b.code("ok"), "payment code (%s)" % a.message)
    eq(a.result["serial"], s, "serial echoed in result")
    eq(a.result["status"], b.status("PDNG"), "status at creation")
    check(re.fullmatch(r"[0-9]{10}", a.result["bank_ref"] or ""), "bank_ref")
    # the amount went out in the profile's unit
    want = b"<%s>%s</%s>" % ((b"TRSAMT", b"1234.50", b"TRSAMT")
                             if b.kind == "cmb" else
                             (b"PayAmt", b"123450", b"PayAmt"))
    check(want in a.request, "amount on the wire: %r" % want)
    check(("encoding=\"%s\"" % b.p["encoding"]).encode() in a.request[:60],
          "declaration")
    if b.kind == "cmb":
        check("李四".encode("gbk") in a.request, "GBK bytes on the wire")
    else:
        check("李四".encode("gb18030") in a.request, "GB18030 bytes")
    ref = a.result["bank_ref"]
    st = c.call("payment_status", {"serial": s})
    if still_young(t0):
        eq(st.result["status"], b.status("PDNG"), "pending before settle")
    wait_settle()
    st = c.call("payment_status", {"serial": s})
    eq(st.code, b.code("ok"), "status code")
    eq(st.result["status"], b.status("ACSC"), "finished after settle")
    eq(st.result["bank_ref"], ref, "same bank_ref")
    eq(st.result["amount"], b.fmt(123450), "amount in status")
    booked = [e for e in b.ledger_entries() if e["serial"] == s]
    eq(len(booked), 1, "booked once")
    eq((booked[0]["amount_fen"], booked[0]["cd"]), (123450, "D"), "booking")
    b.expected.append((s, 123450, "D"))
    eq(len(b.arrivals(serial=s, outcome="created")), 1, "arrival created")
    b.pay_serial, b.pay_ref = s, ref
    # an internal transfer credits our other account too
    s2 = serial(b)
    a = c.call("payment", pay_values(b, s2, amount=2500, creditor=OURS2))
    eq(a.code, b.code("ok"), "internal transfer")
    b.expected.append((s2, 2500, "D"))
    wait_settle()
    cr = [e for e in b.ledger_entries(OURS2) if e["cd"] == "C"]
    eq([e["amount_fen"] for e in cr], [2500], "credit on our other account")


def t_replay(b):
    c = b.client()
    s = b.pay_serial
    a = c.call("payment", pay_values(b, s))
    eq(a.code, b.code("ok"), "replay answered ok")
    eq(a.result["bank_ref"], b.pay_ref, "original bank_ref")
    eq(a.result["status"], b.status("PDNG"), "original result (as created)")
    eq(len(b.arrivals(serial=s, outcome="replayed")), 1, "logged replayed")
    eq(len(b.arrivals(serial=s, outcome="created")), 1, "still one created")
    eq(len([e for e in b.ledger_entries() if e["serial"] == s]), 1,
       "still booked once")


def t_conflict(b):
    c = b.client()
    s = b.pay_serial
    a = c.call("payment", pay_values(b, s, amount=123451))
    eq(a.code, b.code("duplicate"), "same serial, other amount")
    check(s in a.message, "message names the serial: %s" % a.message)
    a = c.call("payment", pay_values(b, s, remittance="别的用途"))
    eq(a.code, b.code("duplicate"), "same serial, other remittance")
    eq(len(b.arrivals(serial=s, outcome="conflict")), 2, "logged conflict")
    eq(len([e for e in b.ledger_entries() if e["serial"] == s]), 1,
       "nothing booked")


def t_validation(b):
    c = b.client()
    yuan = b.p["amount_unit"] == "yuan"
    cases = [
        ("letters in account", {"creditor_account": "62220ABC0011223344"},
         "invalid"),
        ("short account", {"creditor_account": "123456789"}, "invalid"),
        ("wrong unit", {"amount": "123450" if yuan else "1234.50"},
         "invalid"),
        ("one decimal", {"amount": "1234.5"}, "invalid"),
        ("zero", {"amount": "0.00" if yuan else "0"}, "invalid"),
        ("negative", {"amount": "-1.00" if yuan else "-100"}, "invalid"),
        ("blank name", {"creditor_name": "  "}, "invalid"),
        ("name too long", {"creditor_name": "名" * 61}, "invalid"),
        ("control character", {"remittance": "a\tb"}, "invalid"),
        ("debtor not ours", {"debtor_account": NOT_OURS}, "account"),
        ("serial too long", {"serial": "S" * 31}, "invalid"),
        ("serial characters", {"serial": "H2H_1"}, "invalid"),
        ("currency code", {"currency_code": "999"}, "invalid"),
    ]
    s = serial(b)
    for label, over, kind in cases:
        v = pay_values(b, s)
        v.update(over)
        a = c.call("payment", v)
        eq(a.code, b.code(kind), "%s (%s)" % (label, a.message))
    eq(len(b.arrivals(serial=s, outcome="rejected")), len(cases) - 2,
       "logged rejected")
    # a refused request does not use up its serial
    a = c.call("payment", pay_values(b, s, amount=777))
    eq(a.code, b.code("ok"), "serial still free after refusals")
    b.expected.append((s, 777, "D"))
    st = c.call("payment_status", {"serial": serial(b)})
    eq(st.code, b.code("not_found"), "unknown serial")
    eq(b.arrivals()[-1]["outcome"], "not_found", "logged not_found")
    # wrong login
    a = b.client(login="SOMEBODY").call("balance", {"account": OURS})
    eq(a.code, b.code("login"), "wrong login")
    if b.kind == "icbc":
        a = b.client(user="OTHER.op").call("balance", {"account": OURS})
        eq(a.code, b.code("login"), "wrong user")
    # a date that is not the bank's
    a = c.call("transactions", {"account": OURS, "from": "2024-13-01",
                                "to": c.date(b.today)})
    eq(a.code, b.code("invalid"), "bad from date")
    a = c.call("transactions", {"account": OURS, "from": c.date(b.today),
                                "to": c.date(b.today - dt.timedelta(1))})
    eq(a.code, b.code("invalid"), "from after to")


def t_structure(b):
    c = b.client()
    root = b.p["envelope"]["root"].encode()
    fcode = b.p["functions"]["balance"]["code"].encode()

    def add_elem(d):
        return d.replace(b"</%s>" % root, b"<EXTRA>1</EXTRA></%s>" % root)

    def drop_login(d):
        tag = b.p["envelope"]["header"][2][0].split("/")[-1].encode()
        return re.sub(rb"<%s>[^<]*</%s>" % (tag, tag), b"", d)

    def other_code(d):
        return d.replace(b">%s<" % fcode, b">NOSUCHFN<")

    def doctype(d):
        i = d.index(b"?>") + 2
        return d[:i] + b"\n<!DOCTYPE x [<!ENTITY e \"x\">]>" + d[i:]

    def not_wellformed(d):
        return d.replace(b"</%s>" % root, b"")

    def attribute(d):
        return d.replace(b"<%s>" % root, b'<%s a="1">' % root)

    for label, mut in (("unexpected element", add_elem),
                       ("missing element", drop_login),
                       ("unknown function", other_code),
                       ("DOCTYPE", doctype),
                       ("not well-formed", not_wellformed),
                       ("unexpected attribute", attribute)):
        a = c.call("balance", {"account": OURS}, mutate=mut)
        eq(a.code, b.code("format"), "%s (%s)" % (label, a.message))
    # a fixed value that differs
    fixed = b"N02031" if b.kind == "cmb" else b"<OnlBatF>1<"
    a = c.call("payment", pay_values(b, serial(b)),
               mutate=lambda d: d.replace(fixed, fixed.replace(b"1", b"2")))
    eq(a.code, b.code("format"), "fixed value changed (%s)" % a.message)


def t_signature(b):
    c = b.client()
    s = serial(b)
    a = c.call("payment", pay_values(b, s), signer="roguesign")
    eq(a.code, b.code("signature"), "signed by an untrusted CA")
    a = c.call("payment", pay_values(b, s), unsigned=True)
    eq(a.code, b.code("signature"), "no signature")
    # tampered after signing: the amount changes on the way
    data, echo = c.build("payment", pay_values(b, s))
    data, hdr = c.sign(data)
    old = b"1234.50" if b.kind == "cmb" else b"123450"
    new = b"9234.50" if b.kind == "cmb" else b"923450"
    check(old in data, "amount in request")
    body, rh = c.send(data.replace(old, new), hdr)
    a = c.read("payment", body, rh, echo)
    eq(a.code, b.code("signature"), "tampered body")
    # base64 with a line break is not the standard form
    data, echo = c.build("payment", pay_values(b, s))
    data, hdr = c.sign(data)
    if hdr:
        k = list(hdr)[0]
        hdr[k] = hdr[k][:40] + " " + hdr[k][40:]
    else:
        name = b.p["signature"]["element"].split("/")[-1].encode()
        data = re.sub(rb"(<%s>.{40})" % name, rb"\1" + b"\n", data)
    body, rh = c.send(data, hdr)
    eq(c.read("payment", body, rh, echo).code, b.code("signature"),
       "signature not in standard base64")
    eq(len(b.arrivals(serial=s, outcome="bad_signature")), 4,
       "logged bad_signature")
    eq(c.call("payment_status", {"serial": s}).code, b.code("not_found"),
       "nothing was created")


def t_encoding(b):
    c = b.client()
    enc = b.p["encoding"].encode()
    other = b"UTF-8" if b.kind == "cmb" else b"GBK"
    a = c.call("balance", {"account": OURS},
               mutate=lambda d: d.replace(b'encoding="%s"' % enc,
                                          b'encoding="%s"' % other))
    eq(a.code, b.code("format"), "declared %s" % other.decode())
    check("编码" in a.message, "message says encoding: %s" % a.message)
    # bytes that do not decode (signed correctly: it is not the signature)
    a = c.call("payment", pay_values(b, serial(b), remittance="ABCDEF"),
               mutate=lambda d: d.replace(b"ABCDEF", b"AB\xff\x81\x20F"))
    eq(a.code, b.code("format"), "undecodable bytes")
    # the same text in UTF-8 under the profile's declaration
    a = c.call("payment", pay_values(b, serial(b), remittance="ABCDEF"),
               mutate=lambda d: d.replace(b"ABCDEF", "货款€".encode("utf-8")
                                          + b"\xff"))
    eq(a.code, b.code("format"), "UTF-8 bytes in a %s message" %
       enc.decode())
    if b.kind == "cmb":
        a = c.call("balance", {"account": OURS},
                   content_type="text/xml; charset=UTF-8")
        eq(a.code, b.code("format"), "HTTP charset differs")
        # the client refuses a character GBK cannot write: nothing is sent
        n = len(b.arrivals())
        try:
            c.call("payment", pay_values(b, serial(b), creditor_name=RARE))
            raise Fail("GBK client sent %r" % RARE)
        except Unencodable as e:
            check("creditor_name" in str(e), "names the field: %s" % e)
        eq(len(b.arrivals()), n, "nothing reached the bank")
    else:
        # GB18030 carries it; it comes back in the statement
        s = serial(b)
        a = c.call("payment", pay_values(b, s, creditor_name=RARE,
                                         amount=4321))
        eq(a.code, b.code("ok"), "GB18030 payment with %r" % RARE)
        check(RARE.encode("gb18030") in a.request, "4-byte GB18030 sequence")
        b.expected.append((s, 4321, "D"))
        b.rare_serial = s


def t_payroll(b):
    c = b.client()
    s = serial(b, "B")
    items = [{"creditor_account": PAYEE, "creditor_name": "王五",
              "amount": 800000, "remittance": "3月工资"},
             {"creditor_account": CLOSED, "creditor_name": "赵六",
              "amount": 650000, "remittance": "3月工资"},
             {"creditor_account": PAYEE2, "creditor_name": "钱七",
              "amount": 720050, "remittance": "3月工资"},
             {"creditor_account": "6217001234567890123",
              "creditor_name": "孙八", "amount": 1, "remittance": ""}]
    bv = {"serial": s, "debtor_account": OURS,
          "debtor_name": "深圳前海测试科技有限公司"}
    a = c.call("payroll", dict(bv, count=5), items=items)
    eq(a.code, b.code("invalid"), "count differs")
    a = c.call("payroll", dict(bv, total=2170050), items=items)
    eq(a.code, b.code("invalid"), "total differs")
    bad = [dict(i) for i in items]
    bad[2]["creditor_account"] = "12345"
    a = c.call("payroll", bv, items=bad)
    eq(a.code, b.code("invalid"), "bad item account")
    check("3" in a.message, "names the item: %s" % a.message)
    t0 = time.monotonic()
    a = c.call("payroll", bv, items=items)
    eq(a.code, b.code("ok"), "payroll (%s)" % a.message)
    ref = a.result["bank_ref"]
    check(ref, "batch bank_ref")
    eq(a.result["serial"], s, "batch serial")
    eq(a.result["status"], b.status("PDNG"), "batch pending")
    want = b"<%s>%s</%s>" % ((b"SUM", b"21700.51", b"SUM") if b.kind == "cmb"
                             else (b"TotalAmt", b"2170051", b"TotalAmt"))
    check(want in a.request, "batch total on the wire: %r" % want)
    r = c.call("payroll_result", {"serial": s})
    eq(len(r.items), 4, "items in the result")
    if still_young(t0):
        eq(r.result["status"], b.status("PDNG"), "result pending")
        eq([i["status"] for i in r.items], [b.status("PDNG")] * 4,
           "items pending")
    wait_settle()
    r = c.call("payroll_result", {"serial": s})
    eq(r.code, b.code("ok"), "payroll_result")
    eq(r.result["status"], b.status("ACSC"), "batch final")
    eq([i["item_no"] for i in r.items], ["1", "2", "3", "4"], "item numbers")
    eq([i["status"] for i in r.items],
       [b.status("ACSC"), b.status("RJCT"), b.status("ACSC"),
        b.status("ACSC")], "per-item results")
    check(r.items[1]["reason"], "reason for the closed account")
    eq([i["amount"] for i in r.items], [b.fmt(x["amount"]) for x in items],
       "item amounts")
    booked = sorted((e["serial"], e["amount_fen"]) for e in
                    b.ledger_entries() if e["serial"].startswith(s + "-"))
    eq(booked, [(s + "-1", 800000), (s + "-3", 720050), (s + "-4", 1)],
       "paid items booked")
    for n, f in ((1, 800000), (3, 720050), (4, 1)):
        b.expected.append(("%s-%d" % (s, n), f, "D"))
    a = c.call("payroll", bv, items=items)
    eq((a.code, a.result["bank_ref"], a.result["status"]),
       (b.code("ok"), ref, b.status("PDNG")), "payroll replay: the original")
    eq(len(b.arrivals(serial=s, outcome="replayed")), 1, "payroll replayed")
    a = c.call("payroll", bv, items=items[:3])
    eq(a.code, b.code("duplicate"), "payroll conflict")
    eq(c.call("payment_status", {"serial": s}).code, b.code("not_found"),
       "payment_status does not see a batch")


def t_closed(b):
    c = b.client()
    s = serial(b)
    a = c.call("payment", pay_values(b, s, creditor=CLOSED))
    eq(a.code, b.code("ok"), "created")
    eq(a.result["status"], b.status("PDNG"), "pending first")
    wait_settle()
    st = c.call("payment_status", {"serial": s})
    eq(st.result["status"], b.status("RJCT"), "rejected after settle")
    check("销户" in st.result["reason"], "reason: %s" % st.result["reason"])
    eq([e for e in b.ledger_entries() if e["serial"] == s], [], "not booked")


def _pages(b, c, fname, frm, to, limit=50):
    pages = []
    style = b.p["paging"]["style"]
    page = "" if style == "token" else b.p["paging"]["first"]
    while len(pages) < limit:
        a = c.call(fname, {"account": OURS, "from": c.date(frm),
                           "to": c.date(to), "page": page})
        eq(a.code, b.code("ok"), "%s page %d (%s)" % (fname, len(pages) + 1,
                                                       a.message))
        pages.append(a)
        if style == "token":
            if not a.result["next"]:
                return pages
            check(len(a.items) == PAGE_SIZE, "a page before the last is full")
            page = a.result["next"]
        else:
            if a.result["more"] != b.p["paging"]["more_value"]:
                eq(a.result["more"], b.p["paging"]["last_value"], "last flag")
                return pages
            check(len(a.items) == PAGE_SIZE, "a page before the last is full")
            page += 1
    raise Fail("paging does not end")


def t_transactions(b):
    c = b.client()
    frm, to = b.today - dt.timedelta(days=30), b.today + dt.timedelta(days=1)
    pages = _pages(b, c, "transactions", frm, to)
    rows = [i for p in pages for i in p.items]
    seeded = b.seed_fen(OURS, frm, to)
    want = len(seeded) + len(b.expected)
    eq(len(rows), want, "entries in range (seed %d + ours %d)" %
       (len(seeded), len(b.expected)))
    check(len(pages) > 2, "more than 2 pages (%d)" % len(pages))
    eq(len({r["entry_id"] for r in rows}), len(rows), "no entry twice")
    dates = [r["booking_date"] for r in rows]
    eq(dates, sorted(dates, key=lambda d: dt.datetime.strptime(
        d, b.p["date_format"])), "oldest first")
    cv = b.p["functions"]["transactions"]["result"]["item"]
    credit, debit = cv["credit_value"], cv["debit_value"]
    got_seed = sorted((r["amount"], r["counterparty_name"], r["remittance"])
                      for r in rows if r["credit_debit"] == credit)
    eq(got_seed, sorted((b.fmt(f), e["counterparty_name"], e["remittance"])
                        for e, f in seeded if e["credit_debit"] == "C"),
       "seeded credits with Chinese names and remittance")
    ours = sorted((r["serial"], r["amount"]) for r in rows
                  if r["credit_debit"] == debit and r["serial"])
    eq(ours, sorted((s, b.fmt(f)) for s, f, cd in b.expected),
       "our bookings, with serials")
    if b.kind == "icbc":
        check(any(r["counterparty_name"] == RARE for r in rows),
              "%r came back through GB18030" % RARE)
    # the seeded debit 40 days ago is outside the range
    check(not any(r["remittance"] == "电费" for r in rows), "range honoured")
    eq(sorted(r["entry_id"] for r in rows),
       sorted(e["entry_id"] for e in b.ledger_entries()
              if frm.isoformat() <= e["booking_date"] <= to.isoformat()),
       "entries are the ledger's")
    b.rows = rows
    if b.p["paging"]["style"] == "token":
        tok = pages[0].result["next"]
        a = c.call("transactions", {"account": OURS, "from": c.date(frm),
                                    "to": c.date(to - dt.timedelta(1)),
                                    "page": tok})
        eq(a.code, b.code("invalid"), "token with another range")
        t2 = tok[:-1] + ("0" if tok[-1] != "0" else "1")
        a = c.call("transactions", {"account": OURS, "from": c.date(frm),
                                    "to": c.date(to), "page": t2})
        eq(a.code, b.code("invalid"), "altered token")
    else:
        n = len(pages) + b.p["paging"]["first"] + 2
        a = c.call("transactions", {"account": OURS, "from": c.date(frm),
                                    "to": c.date(to), "page": n})
        eq((a.code, a.items, a.result["more"]),
           (b.code("ok"), [], b.p["paging"]["last_value"]),
           "page beyond the last")
        a = c.call("transactions", {"account": OURS, "from": c.date(frm),
                                    "to": c.date(to), "page": "x"})
        eq(a.code, b.code("invalid"), "page not a number")
    # an empty range is one page without items
    empty = b.today - dt.timedelta(days=100)
    a = c.call("transactions", {"account": OURS, "from": c.date(empty),
                                "to": c.date(empty),
                                "page": "" if b.kind == "cmb" else 1})
    eq((a.code, a.items), (b.code("ok"), []), "empty range")
    check(a.result.get("next", "") in ("", None) and
          a.result.get("more", b.p["paging"].get("last_value")) ==
          b.p["paging"].get("last_value"), "empty range is the last page")


def t_receipts(b):
    c = b.client()
    frm, to = b.today - dt.timedelta(days=30), b.today + dt.timedelta(days=1)
    pages = _pages(b, c, "receipts", frm, to)
    recs = [i for p in pages for i in p.items]
    check(len(pages) > 2, "receipts: more than 2 pages")
    eq(sorted(r["entry_id"] for r in recs),
       sorted(r["entry_id"] for r in b.rows), "one receipt per entry")
    eq(len({r["receipt_id"] for r in recs}), len(recs), "receipt ids unique")
    mine = [r for r in recs if r["serial"] == b.pay_serial]
    eq(len(mine), 1, "our payment's receipt")
    eq(mine[0]["amount"], b.fmt(123450), "receipt amount")
    a = c.call("receipt_download", {"receipt_id": mine[0]["receipt_id"]})
    eq(a.code, b.code("ok"), "download")
    eq(a.result["receipt_id"], mine[0]["receipt_id"], "receipt id")
    check(re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", a.result["content"]),
          "standard base64 without line breaks")
    pdf = base64.b64decode(a.result["content"], validate=True)
    check(pdf.startswith(b"%PDF-1."), "starts with %PDF")
    check(pdf.rstrip().endswith(b"%%EOF"), "ends with %%EOF")
    check(mine[0]["receipt_id"].encode() in pdf and
          b.pay_serial.encode() in pdf, "the PDF names receipt and serial")
    # the xref offsets point at the objects
    xref = int(re.search(rb"startxref\n([0-9]+)", pdf).group(1))
    check(pdf[xref:].startswith(b"xref"), "startxref")
    for n, off in enumerate(re.findall(rb"([0-9]{10}) 00000 n", pdf), 1):
        check(pdf[int(off):].startswith(b"%d 0 obj" % n), "object %d" % n)
    check(a.result["name"].endswith(".pdf"), "file name")
    a = c.call("receipt_download", {"receipt_id": "R0000000000000"})
    eq(a.code, b.code("not_found"), "unknown receipt")


def t_faults(b):
    c = b.client()
    # latency
    b.faults(latency_ms=400)
    t0 = time.monotonic()
    eq(c.call("balance", {"account": OURS}).code, b.code("ok"), "slow")
    check(time.monotonic() - t0 >= 0.4, "latency applied")
    b.faults(latency_ms=0)
    # busy: nothing done
    b.faults(busy_next=1)
    s = serial(b)
    a = c.call("payment", pay_values(b, s, amount=1111))
    eq(a.code, b.code("busy"), "busy")
    eq(b.arrivals(serial=s)[-1]["outcome"], "busy", "logged busy")
    eq(c.call("payment_status", {"serial": s}).code, b.code("not_found"),
       "busy created nothing")
    # timeout after create, connection closed: the payment exists
    b.faults(timeout_after_create_next=1, timeout_mode="close")
    try:
        c.call("payment", pay_values(b, s, amount=1111))
        raise Fail("answer despite timeout_after_create")
    except NoAnswer:
        pass
    st = c.call("payment_status", {"serial": s})
    eq(st.code, b.code("ok"), "created before the lost answer")
    a = c.call("payment", pay_values(b, s, amount=1111))
    eq((a.code, a.result["bank_ref"]), (b.code("ok"), st.result["bank_ref"]),
       "resend answered from the original")
    b.expected.append((s, 1111, "D"))
    eq(len(b.arrivals(serial=s, outcome="created")), 1, "created once")
    # ... and held open: the client times out
    s2 = serial(b)
    b.faults(timeout_after_create_next=1, timeout_mode="hold",
             timeout_hold_s=5)
    t0 = time.monotonic()
    try:
        c.call("payment", pay_values(b, s2, amount=2222), timeout=1)
        raise Fail("answer despite hold")
    except NoAnswer:
        pass
    check(time.monotonic() - t0 < 4, "client timed out, not the bank")
    eq(c.call("payment_status", {"serial": s2}).code, b.code("ok"),
       "held payment exists")
    b.expected.append((s2, 2222, "D"))
    # a bad bank signature
    b.faults(bad_response_signature_next=1)
    try:
        c.call("balance", {"account": OURS})
        raise Fail("bad answer signature accepted")
    except NoAnswer as e:
        check("signature" in str(e), "why: %s" % e)
    # replay of the last answer: not processed, recognised by the echo
    eq(c.call("payment_status", {"serial": s}).code, b.code("ok"), "before")
    b.faults(replay_last_response_next=1)
    n_created = len(b.arrivals(outcome="created"))
    try:
        c.call("payment", pay_values(b, serial(b), amount=3333))
        raise Fail("replayed answer accepted")
    except NoAnswer as e:
        check("echo" in str(e), "why: %s" % e)
    eq(b.arrivals()[-1]["outcome"], "fault_replay", "logged fault_replay")
    eq(len(b.arrivals(outcome="created")), n_created, "not processed")
    # garbage: framed, but the bytes do not decode
    b.faults(garbage_next=1)
    data, echo = c.build("balance", {"account": OURS})
    body, rh = c.send(*c.sign(data))
    try:
        body.decode(c.codec)
        raise Fail("garbage decodes as %s" % b.p["encoding"])
    except UnicodeDecodeError:
        pass
    try:
        c.read("balance", body, rh, echo)
        raise Fail("garbage accepted")
    except NoAnswer as e:
        # header signatures cover the garbage, so decoding fails; with an
        # element signature there is not even a signature element
        check(("decode" if b.kind == "cmb" else "signature") in str(e),
              "why: %s" % e)
    eq(b.arrivals()[-1]["fault"], "garbage", "logged garbage")
    # drop
    b.faults(drop_next=1)
    try:
        c.call("balance", {"account": OURS})
        raise Fail("answer despite drop")
    except NoAnswer:
        pass
    eq(b.arrivals()[-1]["outcome"], "dropped", "logged dropped")
    f = b.admin("GET", "/admin/faults")
    eq([f[k] for k in ("busy_next", "timeout_after_create_next",
                       "bad_response_signature_next",
                       "replay_last_response_next", "garbage_next",
                       "drop_next")], [0] * 6, "counters used up")
    eq(c.call("balance", {"account": OURS}).code, b.code("ok"), "normal again")
    wait_settle()


def t_transport(b):
    if b.kind == "cmb":
        # no client certificate: the TLS handshake fails
        ctx = ssl.create_default_context(cafile=b.pki["ca"][0])
        conn = http.client.HTTPSConnection("127.0.0.1", b.port, context=ctx,
                                           timeout=5)
        try:
            conn.request("POST", "/", body=b"<x/>",
                         headers={"Content-Type": "text/xml"})
            conn.getresponse().read()
            raise Fail("served without a client certificate")
        except (ssl.SSLError, OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        c = b.client()
        try:
            c.send(b"<x/>", content_type="application/json")
            raise Fail("JSON content type accepted")
        except NoAnswer as e:
            check("415" in str(e), "415: %s" % e)
    else:
        # a length prefix that is not a number is answered with format
        s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        s.sendall(b"00AB12<CMS/>")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        n = int(buf[:6])
        eq(len(buf), 6 + n, "framed answer")
        check(b"<RetCode>%s</RetCode>" % b.code("format").encode() in buf,
              "format code for a bad prefix")
        # the XML bytes are one short of the prefix: no answer
        s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
        s.sendall(b"000100<CMS/>")
        s.shutdown(socket.SHUT_WR)
        eq(s.recv(100), b"", "short message: closed without answer")
        s.close()


def t_restart(b):
    """The state survives a restart: a replay after it is still a replay."""
    b.stop()
    if b.kind == "cmb":
        b.start_cli()
    else:
        b.start_class()
    c = b.client()
    a = c.call("payment", pay_values(b, b.pay_serial))
    eq((a.code, a.result["bank_ref"]), (b.code("ok"), b.pay_ref),
       "replay after restart")
    eq(len(b.arrivals(serial=b.pay_serial, outcome="replayed")), 2,
       "arrival log kept")


def t_reset(b):
    b.admin("POST", "/admin/reset")
    eq(b.admin("GET", "/admin/arrivals"), [], "arrivals emptied")
    eq(b.admin("GET", "/admin/payments"), [], "payments emptied")
    c = b.client()
    eq(c.call("payment_status", {"serial": b.pay_serial}).code,
       b.code("not_found"), "serial forgotten")
    a = c.call("balance", {"account": OURS})
    want = 50000000 + sum(f if e["credit_debit"] == "C" else -f
                          for e, f in b.seed_fen(OURS))
    eq(a.result["balance"], b.fmt(want), "balance re-seeded")




# -- bill pool and supply-chain finance ------------------------------------

BANK_CN = "308584000013"          # the simulator's own CNAPS code
OTHER_BANK = "102100099996"
BILL_FN_TOKENS = ("serial", "bill_op", "draft_no", "sub_from", "sub_to",
                  "amount", "our_account", "draft_kind", "issue_date",
                  "maturity_date", "transferable", "divisible", "cpty_name",
                  "cpty_account", "cpty_bank", "acceptor_name",
                  "acceptor_account", "acceptor_bank", "payee_name",
                  "payee_account", "payee_bank", "rate", "op_date",
                  "pool_id", "notice_id", "overdue", "reason", "memo")


def tv(b, table, name):
    """The profile's value for h2hd's name in a value table."""
    if table == "yes_no":
        return b.p["yes_no"][0 if name else 1]
    return dict(map(tuple, b.p[table]))[name]


def bill_call(b, c, op, **kw):
    v = {k: "" for k in BILL_FN_TOKENS}
    v["serial"] = serial(b, "B")
    v["bill_op"] = tv(b, "bill_ops", op) if op else ""
    for k, x in kw.items():
        v[k] = b.fmt(x) if k == "amount" and isinstance(x, int) else \
            c.date(x) if isinstance(x, dt.date) else x
    a = c.call("bill_operation", v)
    a.serial, a.values = v["serial"], v
    return a


def business(b, a, result, code=None):
    eq(a.code, b.code("ok"), "ok code (%s)" % a.message)
    eq(a.result["status"], tv(b, "request_results", result), "outcome %s" %
       a.result)
    if code:
        eq(a.result["reason_code"], code, "reason code")


def t_bills(b):
    c = b.client()
    today = b.today
    st = lambda s: tv(b, "draft_status_map", s)
    mat = today + dt.timedelta(days=90)
    issue = dict(our_account=OURS, amount=100000,
                 draft_kind=tv(b, "draft_kinds", "AC01"), issue_date=today,
                 maturity_date=mat, transferable=tv(b, "yes_no", True),
                 divisible=tv(b, "yes_no", True), acceptor_name="招商银行深圳分行",
                 acceptor_bank=BANK_CN, payee_name="上海星辰贸易有限公司",
                 payee_account="6222021001122334455", payee_bank=OTHER_BANK)
    # issue: registered; replay gives the original; other content duplicate
    a = bill_call(b, c, "issue", **issue)
    business(b, a, "accepted")
    eq(len(a.items), 1, "one piece")
    d1 = a.items[0]
    check(re.fullmatch(r"[0-9]{30}", d1["draft_no"]), "draft number")
    eq((d1["draft_status"], d1["amount"], d1["sub_from"], d1["sub_to"]),
       (st("registered"), b.fmt(100000), "1", "100000"), "issued piece")
    r = c.call("bill_operation", a.values)
    eq((r.result, r.items), (a.result, a.items), "replay: original answer")
    eq(len(b.arrivals(serial=a.serial, outcome="replayed")), 1, "replayed")
    r = c.call("bill_operation", dict(a.values, amount=b.fmt(100001)))
    eq(r.code, b.code("duplicate"), "other content: duplicate")
    # a refused request does not use its serial
    bad = dict(issue, draft_no="1" * 30)
    r = bill_call(b, c, "issue", **bad)
    eq(r.code, b.code("invalid"), "a token issue does not take: invalid")
    r2 = c.call("bill_operation", dict(r.values, draft_no=""))
    business(b, r2, "accepted")
    for k, x in (("cpty_bank", "12345"), ("draft_kind", "ZZ"),
                 ("transferable", "maybe"), ("amount", "12.3"),
                 ("maturity_date", "2024/01/01"), ("our_account",
                                                   NOT_OURS)):
        r = bill_call(b, c, "issue", **dict(issue, **{k: x}))
        eq(r.code, b.code("account" if k == "our_account" else "invalid"),
           "issue with bad %s: %s" % (k, r.message))
    r = bill_call(b, c, "issue", **dict(issue, acceptor_name=""))
    eq(r.code, b.code("invalid"), "an empty required token")
    # business refusal: the serial is used up, status rejected
    r = bill_call(b, c, "issue", **dict(issue, maturity_date=today +
                                        dt.timedelta(days=400)))
    business(b, r, "rejected", "BIL015")
    r2 = c.call("bill_operation", dict(r.values, maturity_date=c.date(mat)))
    eq(r2.code, b.code("duplicate"), "a business refusal uses the serial")
    # present_acceptance: pending until the acceptor signs
    no = d1["draft_no"]
    a = bill_call(b, c, "present_acceptance", draft_no=no)
    business(b, a, "pending")
    q = c.call("bill_query", {"serial": a.serial})
    eq(q.result["status"], tv(b, "request_results", "pending"), "query")
    eq(q.items[0]["draft_status"], st("pending_acceptance"), "pending")
    b.admin("POST", "/admin/bills/counterparty",
            {"number": no, "action": "sign"})
    q = c.call("bill_query", {"serial": a.serial})
    eq(q.result["status"], tv(b, "request_results", "accepted"), "signed")
    eq(q.items[0]["draft_status"], st("accepted"), "accepted")
    q = c.call("bill_query", {"serial": serial(b, "X")})
    eq(q.code, b.code("not_found"), "unknown serial")
    # present_receipt, refused by the payee: rejected with the reason
    a = bill_call(b, c, "present_receipt", draft_no=no)
    business(b, a, "pending")
    b.admin("POST", "/admin/bills/counterparty",
            {"number": no, "action": "refuse", "reason": "合同未履行"})
    q = c.call("bill_query", {"serial": a.serial})
    eq((q.result["status"], q.result["reason"]),
       (tv(b, "request_results", "rejected"), "合同未履行"), "refused")
    # a draft endorsed to us: a notice; signed, we hold it
    draft = {"kind": "AC01", "amount": {"amount": "1000.00",
                                        "currency": "CNY"},
             "issue_date": today.isoformat(),
             "maturity_date": mat.isoformat(),
             "drawer": {"name": "北京华联物流股份有限公司",
                        "account": "6228480012345678901",
                        "bank_code": OTHER_BANK},
             "acceptor": {"name": "工商银行北京分行", "bank_code": OTHER_BANK},
             "payee": {"name": "北京华联物流股份有限公司",
                       "account": "6228480012345678901",
                       "bank_code": OTHER_BANK},
             "transferable": True, "divisible": True}
    frm = dict(draft["drawer"])
    n = b.admin("POST", "/admin/bills/present",
                {"kind": "endorse", "to_account": OURS, "from": frm,
                 "draft": draft})["notice"]
    ln = c.call("bill_notices", {"page": "" if b.p["paging"]["style"] ==
                                 "token" else "1"})
    mine = [x for x in ln.items if x["notice_id"] == n["notice_id"]]
    eq(len(mine), 1, "notice listed")
    eq((mine[0]["notice_kind"], mine[0]["from_name"], mine[0]["amount"]),
       (tv(b, "bill_ops", "endorse"), frm["name"], b.fmt(100000)), "notice")
    no2 = n["number"]
    r = bill_call(b, c, "sign", draft_no=no2, notice_id="BN0")
    business(b, r, "rejected", "BIL014")
    a = bill_call(b, c, "sign", draft_no=no2, notice_id=n["notice_id"])
    business(b, a, "accepted")
    eq(a.items[0]["draft_status"], st("held"), "held")
    # partial endorsement: the piece and the remainder
    a = bill_call(b, c, "endorse", draft_no=no2, sub_from="1",
                  sub_to="30000", amount=30000, cpty_name="深圳恒泰电子厂",
                  cpty_account="6222020000000000777", cpty_bank=OTHER_BANK)
    business(b, a, "pending")
    eq([(x["sub_from"], x["sub_to"], x["draft_status"]) for x in a.items],
       [("1", "30000", st("pending_endorsement")),
        ("30001", "100000", st("held"))], "split")
    r = bill_call(b, c, "endorse", draft_no=no2, sub_from="30001",
                  sub_to="40000", amount=99, cpty_name="x",
                  cpty_account="6222020000000000777", cpty_bank=OTHER_BANK)
    eq(r.code, b.code("invalid"), "amount is not the part")
    # discount of the remainder: proceeds booked when the bank signs
    rate = "2.35"
    a = bill_call(b, c, "discount", draft_no=no2, sub_from="30001",
                  sub_to="100000", amount=70000, rate=rate,
                  our_account=OURS, op_date=today)
    business(b, a, "pending")
    b.admin("POST", "/admin/bills/counterparty",
            {"number": no2, "sub_range": {"from": 30001, "to": 100000},
             "action": "sign"})
    days = (mat - today).days
    from decimal import Decimal, ROUND_HALF_UP
    interest = int((Decimal(70000) * Decimal(rate) / 100 * days /
                    360).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    e = [x for x in b.ledger_entries() if x["bank_ref"] == a.serial]
    eq([(x["cd"], x["amount_fen"]) for x in e], [("C", 70000 - interest)],
       "discount proceeds booked")
    t = c.call("transactions", {"account": OURS, "from": c.date(today),
                                "to": c.date(today), "page": ""
                                if b.p["paging"]["style"] == "token"
                                else "1"})
    # (page size 3: the proceeds are among today's entries somewhere)
    check(t.code == b.code("ok"), "transactions")
    # pool: pledge a held draft, figures follow
    n = b.admin("POST", "/admin/bills/present",
                {"kind": "endorse", "to_account": OURS, "from": frm,
                 "draft": dict(draft, amount={"amount": "500.00",
                                              "currency": "CNY"})})["notice"]
    no3 = n["number"]
    business(b, bill_call(b, c, "sign", draft_no=no3,
                          notice_id=n["notice_id"]), "accepted")
    p0 = c.call("bill_pool", {})
    a = bill_call(b, c, "pledge", draft_no=no3, pool_id=p0.result["pool_id"])
    business(b, a, "pending")
    b.admin("POST", "/admin/bills/counterparty",
            {"number": no3, "action": "sign"})
    b.admin("POST", "/admin/bills/pool", {"deposit": "100.00",
                                          "used": "200.00"})
    p = c.call("bill_pool", {})
    eq((p.result["pledged_count"], p.result["pledged_total"],
        p.result["deposit"], p.result["quota_total"],
        p.result["quota_used"], p.result["quota_available"]),
       ("1", b.fmt(50000), b.fmt(10000), b.fmt(60000), b.fmt(20000),
        b.fmt(40000)), "pool figures")
    r = bill_call(b, c, "release", draft_no=no3)
    business(b, r, "rejected", "BIL010")
    # one refusal per operation (an unknown draft)
    for op, kw in (("present_acceptance", {}), ("present_receipt", {}),
                   ("endorse", dict(cpty_name="x", cpty_account=PAYEE,
                                    cpty_bank=OTHER_BANK)),
                   ("discount", dict(rate="2.1", our_account=OURS)),
                   ("pledge", {}), ("release", {}),
                   ("present_payment", dict(our_account=OURS)),
                   ("recourse", dict(cpty_name="x", cpty_account=PAYEE,
                                     cpty_bank=OTHER_BANK, our_account=OURS,
                                     reason="拒付")),
                   ("withdraw", {}), ("sign", dict(notice_id="BN1")),
                   ("refuse", dict(notice_id="BN1", reason="不符"))):
        r = bill_call(b, c, op, draft_no="9" * 30, **kw)
        business(b, r, "rejected", "BIL001")
    r = bill_call(b, c, "present_payment", draft_no=no3, our_account=OURS)
    business(b, r, "rejected", "BIL002")
    # lists: every piece once across the pages; history
    want = sorted((x["number"], x["sub_range"]["from"])
                  for x in b.admin("GET", "/admin/bills")["pieces"]
                  if x["status"] is not None)
    got, page = [], "" if b.p["paging"]["style"] == "token" else "1"
    for _ in range(50):
        r = c.call("bill_drafts", {"draft_status": "", "maturity_from": "",
                                   "maturity_to": "", "page": page})
        eq(r.code, b.code("ok"), "bill_drafts")
        check(len(r.items) <= PAGE_SIZE, "page size")
        got += [(x["draft_no"], int(x["sub_from"])) for x in r.items]
        if b.p["paging"]["style"] == "token":
            page = r.result.get("next") or ""
            if not page:
                break
        else:
            if r.result["more"] != b.p["paging"]["more_value"]:
                break
            page = str(int(page) + 1)
    eq(sorted(got), want, "all pieces, once")
    check(len(want) > PAGE_SIZE, "more than one page")
    r = c.call("bill_drafts", {"draft_status": st("pledged"),
                               "maturity_from": "", "maturity_to": "",
                               "page": "" if b.p["paging"]["style"] ==
                               "token" else "1"})
    eq([x["draft_no"] for x in r.items], [no3], "filter by status")
    h = c.call("bill_history", {"draft_no": no})
    eq([x["event"] for x in h.items],
       ["registered", "requested", "signed", "requested", "refused"],
       "history")


def t_scf(b):
    c = b.client()
    today = b.today
    fsm = lambda s: tv(b, "financing_status_map", s)
    rr = lambda s: tv(b, "request_results", s)

    def fin(amount, invoices, **kw):
        v = {"serial": serial(b, "F"), "financing_kind":
             tv(b, "financing_kinds", "receivable"), "our_account": OURS,
             "amount": b.fmt(amount), "value_date": "", "product": "P01",
             "agreement_ref": "AGR-1", "contract_ref": "", "memo": "",
             "count": str(len(invoices)),
             "total": b.fmt(sum(i[1] for i in invoices))}
        v.update(kw)
        items = [{"invoice_no": no, "tax_code": "", "invoice_amount":
                  b.fmt(am), "invoice_issue_date": c.date(today),
                  "invoice_due_date": c.date(today + dt.timedelta(days=60)),
                  "buyer_name": "武汉长江建材供应链管理有限公司",
                  "seller_name": "", "seller_account": ""}
                 for no, am in invoices]
        a = c.call("scf_financing", v, items)
        a.serial, a.values, a.its = v["serial"], v, items
        return a

    def ledger(ref):
        return [(x["cd"], x["amount_fen"]) for x in b.ledger_entries()
                if x["bank_ref"] == ref]
    a = fin(90000, [("INV%s1" % b.kind, 60000), ("INV%s2" % b.kind, 40000)])
    eq(a.code, b.code("ok"), "financing: %s" % a.message)
    eq(a.result["status"], fsm("submitted"), "submitted")
    r = c.call("scf_financing", a.values, a.its)
    eq(r.result, a.result, "replay")
    r = c.call("scf_financing", dict(a.values, count="3"), a.its)
    eq(r.code, b.code("invalid"), "count wrong")
    r = fin(95000, [("INV%s9" % b.kind, 100000)])
    eq((r.result["status"], r.result["reason_code"]),
       (fsm("rejected"), "SCF004"), "above 90%")
    q = c.call("scf_query", {"serial": a.serial})
    eq(q.result["status"], fsm("submitted"), "query submitted")
    b.admin("POST", "/admin/scf/review", {"request_id": a.serial,
                                          "decision": "approve"})
    q = c.call("scf_query", {"serial": a.serial})
    eq((q.result["status"], q.result["approved_amount"]),
       (fsm("approved"), b.fmt(90000)), "approved")
    eq([x["result"] for x in q.items], [rr("accepted")] * 2, "invoices")
    f = b.admin("POST", "/admin/scf/review", {"request_id": a.serial,
                                              "decision": "disburse"})
    loan = f["financing"]["loan_ref"]
    eq(ledger(loan), [("C", 90000)], "disbursed")
    cv = {"serial": serial(b, "C"), "orig_serial": a.serial,
          "reason": "不再需要"}
    r = c.call("scf_cancel", cv)
    eq((r.result["status"], r.result["reason_code"]), (rr("rejected"),
                                                       "SCF010"),
       "cancel after disbursal refused")
    b.admin("POST", "/admin/scf/review", {"request_id": a.serial,
                                          "decision": "repay"})
    q = c.call("scf_query", {"serial": a.serial})
    eq(q.result["status"], fsm("repaid"), "repaid")
    interest = int(q.result["repaid_interest"].replace(".", ""))
    eq(ledger(loan), [("C", 90000), ("D", 90000 + interest)], "repayment")
    # cancelled before disbursal
    a = fin(10000, [("INV%s3" % b.kind, 20000)])
    r = c.call("scf_cancel", {"serial": serial(b, "C"),
                              "orig_serial": a.serial, "reason": "改期"})
    eq(r.result["status"], rr("accepted"), "cancelled")
    q = c.call("scf_query", {"serial": a.serial})
    eq(q.result["status"], fsm("cancelled"), "query cancelled")
    q = c.call("scf_query", {"serial": serial(b, "Z")})
    eq(q.code, b.code("not_found"), "not found")


def t_vouchers(b):
    c = b.client()
    today = b.today
    vs = lambda s: tv(b, "voucher_status_map", s)
    rr = lambda s: tv(b, "request_results", s)
    t1 = {"name": "一级供应商有限公司", "account": "6222020000000001111",
          "bank_code": OTHER_BANK}
    t2 = {"name": "二级供应商有限公司", "account": "6222020000000002222",
          "bank_code": OTHER_BANK}
    mat = today + dt.timedelta(days=120)

    def vop(op, **kw):
        v = {"serial": serial(b, "V"), "voucher_op": tv(b, "voucher_ops", op),
             "voucher_id": "", "amount": "", "our_account": "",
             "cpty_name": "", "cpty_account": "", "cpty_bank": "",
             "maturity_date": "", "reason": "", "memo": ""}
        v.update(kw)
        a = c.call("voucher_operation", v)
        a.serial, a.values = v["serial"], v
        return a

    def tree():
        s = b.admin("GET", "/admin/scf")
        return {x["voucher_id"]: (x["level"], x["status"],
                                  x["remaining"]["amount"])
                for x in s["vouchers"]}
    a = vop("issue", amount=b.fmt(100000), our_account=OURS,
            maturity_date=c.date(mat), cpty_name=t1["name"],
            cpty_account=t1["account"], cpty_bank=t1["bank_code"])
    eq((a.code, a.result["status"]), (b.code("ok"), rr("pending")),
       "issue: %s" % a.message)
    v1 = a.items[0]["voucher_id"]
    eq(tree(), {v1: (1, "pending", "1000.00")}, "tree after issue")
    q = c.call("voucher_query", {"serial": a.serial})
    eq(q.result["status"], rr("pending"), "pending")
    r = vop("settle", voucher_id=v1, our_account=OURS)
    eq((r.result["status"], r.result["reason_code"]), (rr("rejected"),
                                                       "SCF031"),
       "settle a pending voucher")
    b.admin("POST", "/admin/scf/voucher", {"action": "sign",
                                           "voucher_id": v1})
    q = c.call("voucher_query", {"serial": a.serial})
    eq((q.result["status"], q.items[0]["voucher_status"]),
       (rr("accepted"), vs("held")), "tier 1 signed")
    x = b.admin("POST", "/admin/scf/voucher",
                {"action": "transfer", "voucher_id": v1, "to": t2,
                 "amount": {"amount": "300.00", "currency": "CNY"}})
    v2 = x["child"]["voucher_id"]
    b.admin("POST", "/admin/scf/voucher", {"action": "sign",
                                           "voucher_id": v2})
    us = {"name": "深圳前海示例科技有限公司", "account": OURS,
          "bank_code": BANK_CN}
    x = b.admin("POST", "/admin/scf/voucher",
                {"action": "transfer", "voucher_id": v2, "to": us,
                 "amount": {"amount": "100.00", "currency": "CNY"}})
    v3 = x["child"]["voucher_id"]
    eq(tree(), {v1: (1, "held", "700.00"), v2: (2, "held", "200.00"),
                v3: (3, "pending", "100.00")}, "tree after two transfers")
    r = vop("sign", voucher_id=v3)
    eq(r.result["status"], rr("accepted"), "we sign tier 3")
    r = vop("finance", voucher_id=v3, our_account=OURS)
    eq((r.result["status"], r.items[0]["voucher_status"]),
       (rr("accepted"), vs("financed")), "financed")
    fin = r.items[0]
    eq(fin["financed_amount"], b.fmt(10000), "financed amount")
    e = [(x["cd"], x["amount_fen"]) for x in b.ledger_entries()
         if x["bank_ref"] == r.serial]
    eq(len(e), 1, "proceeds booked")
    check(e[0][0] == "C" and 0 < e[0][1] < 10000, "proceeds %r" % e)
    eq(tree()[v3], (3, "financed", "100.00"), "tree after financing")
    r = vop("settle", voucher_id=v1, our_account=OURS)
    eq(r.result["reason_code"], "SCF035", "not yet due")
    b.admin("POST", "/admin/today", {"day": mat.isoformat()})
    try:
        r = vop("settle", voucher_id=v1, our_account=OURS)
        eq(r.result["status"], rr("accepted"), "settled: %s" % r.result)
        eq([(x["cd"], x["amount_fen"]) for x in b.ledger_entries()
            if x["bank_ref"] == r.serial], [("D", 100000)],
           "settlement debited")
        eq({k: s for k, (lv, s, rem) in tree().items()},
           {v1: "settled", v2: "settled", v3: "settled"}, "all settled")
        ls = c.call("voucher_list", {"holder": "us", "page": ""
                                     if b.p["paging"]["style"] == "token"
                                     else "1"})
        eq([(x["voucher_id"], x["voucher_status"]) for x in ls.items],
           [(v3, vs("settled"))], "our holdings")
    finally:
        b.admin("POST", "/admin/today", {})


def t_bs_profile(b):
    """Profile refusals of the bill / SCF families, with file:line."""
    import bank_cn
    src = open(PROFILES["cmb"], encoding="utf-8").read()

    def refused(text, want, name):
        fn = os.path.join(b.dir, name + ".profile")
        with open(fn, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            bank_cn.Profile(fn)
        except bank_cn.ProfileError as e:
            check(re.search(want, str(e)), "%s: %s" % (name, e))
            return
        raise Fail("%s accepted" % name)
    i = src.index("  bill_pool = {")
    j = src.index("  # ---- supply-chain finance family.")
    refused(src[:i] + src[j:], r"\.profile:\d+: functions: the bills family "
            r"is incomplete: bill_pool missing", "incomplete")
    refused(src.replace('( "liable", "900009" ) );', ');\n')
            .replace('( "refused", "900006" ),', '( "refused", "900006" )'),
            r":\d+: draft_status_map: missing liable", "table")
    refused(src.replace('( "BBPOLQRYX/QRYTYP", "1" )',
                        '( "BBPOLQRYX/QRYTYP", "{serial}" )'),
            r":\d+: token \{serial\} is not allowed in "
            r"functions.bill_pool.request", "token")
    refused(src.replace('( "SCFINCCLX/ORGREF", "{orig_serial}" ),',
                        '( "SCFINCCLX/ORGREF", "X" ),'),
            r"scf_cancel: request lacks \{orig_serial\}", "must use")
    refused(src.replace('( "sign", "70" )', '( "sign", "71" )'),
            r"bill_ops: refuse / 71 listed twice", "unique")


PER_PROFILE = [t_balance, t_payment, t_replay, t_conflict, t_validation,
               t_structure, t_signature, t_encoding, t_payroll, t_closed,
               t_faults, t_transactions, t_receipts, t_transport, t_restart,
               t_reset, t_bills, t_scf, t_vouchers]


def main():
    top = tempfile.mkdtemp(prefix="bank-cn-selftest-")
    failures = 0
    ran = 0
    t_start = time.monotonic()
    banks = []
    try:
        pki = make_pki(top)
        for kind in ("cmb", "icbc"):
            b = Bank(kind, top, pki)
            banks.append(b)
            for t in (t_libconf, t_profiles, t_bs_profile) \
                    if kind == "cmb" else ():
                ran, failures = _run(t, b, ran, failures, "")
            if FILTER and not any(f in kind or any(f in t.__name__ for t in
                                                   PER_PROFILE)
                                  for f in FILTER):
                continue
            if kind == "cmb":
                b.start_cli()
            else:
                b.start_class()
            broken = False
            for t in PER_PROFILE:
                if broken:
                    print("SKIP %s [%s] (an earlier test failed)" %
                          (t.__name__, kind))
                    continue
                r0 = failures
                ran, failures = _run(t, b, ran, failures, kind)
                broken = failures > r0 and t in (t_payment,)
            b.stop()
    finally:
        for b in banks:
            b.stop()
        shutil.rmtree(top, ignore_errors=True)
    print("%d checks run, %d failed, %.1f s" % (ran, failures,
                                               time.monotonic() - t_start))
    return 1 if failures or not ran else 0


def _run(t, b, ran, failures, kind):
    name = t.__name__ + ("[%s]" % kind if kind else "")
    if FILTER and not any(f in name for f in FILTER):
        return ran, failures
    t0 = time.monotonic()
    try:
        t(b)
        print("ok   %s (%.2f s)" % (name, time.monotonic() - t0), flush=True)
    except Exception as e:
        failures += 1
        print("FAIL %s: %s" % (name, e), flush=True)
        if VERBOSE or not isinstance(e, Fail):
            traceback.print_exc()
    return ran + 1, failures


if __name__ == "__main__":
    sys.exit(main())
