"""End to end with a Chinese bank's direct-connect front end: h2hd and its
cnbank_xml adapter against the strict simulator tests/sims/bank_cn.py,
both configured from the same profile file (etc/cnbank/cmb-style.profile:
GBK, yuan, HTTPS POST with mutual TLS, CMS signature in X-Sign, token
paging; etc/cnbank/icbc-style.profile: GB18030, fen, 6-digit
length-prefixed plain TCP on loopback, signature in eb/pub/SignData, page
paging), started through tests/sims/cn_world.py.

    test_cnbank_e2e.py MODE PROFILE       MODE flow|security|crash,
                                          PROFILE cmb|icbc

flow: a CSV of four payments whose creditor names and remittance texts
are Chinese goes out as four `payment` requests, each serial created
exactly once (the simulator's arrival log), and the simulator stores the
very same Chinese text (a GBK / GB18030 round trip; icbc-style also a
character outside GBK).  The bank answers "pending": the first pain.002
in out/status says PDNG and the message stays submitted; the adapter asks
again until the bank settles and a later pain.002 says ACSC (acknowledged).
A canonical payroll file (category purpose SALA, 3 items, one to a closed
account) is one `payroll` request; its items get their own statuses (two
ACSC, one RJCT: partially_accepted).  cmb-style only: a payment whose
creditor name has a character GBK cannot write (U+1F600, and U+20AC, which
only Windows code page 936 has) fails in h2hd with a log line naming the
field, and nothing of that message reaches the bank.  The
ambiguous failure: the bank creates a payment and sends no answer; h2hd
asks by serial (payment_status) and never sends the payment again.  A busy
bank delays a payment without duplicating it.  Statements (camt.053 in
out/statements) hold exactly the bank's ledger entries of the statement
days (amounts, directions, Chinese counterparty names, opening and closing
balance; two entries a page), and each of those entries has one PDF
receipt in out/receipts, named after our serial or the entry, delivered
once although later polls list them again.  Last, an entry is booked
while h2hd reads a statement (after its balance request, before the
transactions): every statement delivered during the run must carry the
bank's opening balance (the opening of the first statement day never
changes).  Then `h2hctl reconcile` over the statement days (from the
fetched day to today): each payment and paid payroll item the bank booked
is matched exactly by the serial the simulator recorded on its booking
(a payroll booked as one debit: one batch match with its paid items),
what the bank refused or never got is not in the run, the bank's other
entries are unmatched_entries, and every message booked in full moves to
`booked` (payment.booked).

security: every answer that is not genuine is treated as no answer and
never acknowledges a payment: a forged response signature, a replayed
response (echo mismatch), undecodable garbage, a dropped connection; each
is resolved by inquiry with exactly one create.  h2hd pinned to another
bank signing certificate refuses every answer (the payment is created
once, asked about, never acknowledged) until the right certificate is
configured.  cmb-style (HTTPS) also: a server certificate for another host
name, an expired one, one from an untrusted CA, our client certificate
from a CA the bank does not trust (nothing reaches the bank; the log names
the reason), and a configuration without a client certificate
(--check-config refuses it).

crash: payments and payroll batches keep arriving while h2hd is
SIGKILLed at least 20 times (H2H_CN_KILLS, default 30) at random moments,
right after the bank logged an arrival (a payment created, its answer
perhaps not read), right after the adapter made a status report and right
after one reached out/status.  At the end every payment and batch was
created exactly once at the bank (no serial with two `created`), every
message is acknowledged, and each status report the adapter made reached
out/status exactly once (pain.002 MsgIds <id>-S1.. without gap or repeat,
the last one ACSC).
"""
import csv
import datetime
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

from lxml import etree

from h2hlib import H2HD, World, check, drop_atomic, fail, wait_until

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "sims"))
import cn_world  # noqa: E402

CST = datetime.timezone(datetime.timedelta(hours=8))
RUN = "%04X" % random.SystemRandom().randrange(0x10000)

OURS = cn_world.ACCOUNTS[0]
OUR_NAME = "深圳前海示例科技有限公司"
PAYEES = ["6222021001122334455", "6228480012345678901",
          "6217000010001234567", "6225880011223344"]
CLOSED = "6222020000000000404"
SEED_NAMES = ["上海星辰贸易有限公司", "北京华联物流股份有限公司",
              "广州南方电子科技有限公司", "杭州西湖茶叶有限公司"]


def today():
    """The bank's today (utc_offset +08:00 in both profiles)."""
    return datetime.datetime.now(CST).date()


def yuan(fen):
    return "%d.%02d" % (fen // 100, fen % 100)


def yuan_s(fen):
    return "None" if fen is None else ("-" if fen < 0 else "") + yuan(abs(fen))


def fen_of(s):
    return int((Decimal(s) * 100).to_integral_value())


# --------------------------------------------------------------------------
# payment files


def csv_file(msg_id, rows, purpose=None):
    """A CSV payment file (formats/CSV.md) from our Chinese account; rows:
    (e2e, fen, creditor_name, creditor_account, remittance)."""
    cols = ["msg_id", "execution_date", "debtor_name", "debtor_account",
            "end_to_end_id", "amount", "currency", "creditor_name",
            "creditor_account", "remittance"]
    if purpose:
        cols.append("category_purpose")

    def q(v):
        return '"%s"' % v.replace('"', '""')
    lines = [",".join(cols)]
    for e2e, fen, name, acct, rem in rows:
        v = [msg_id, today().isoformat(), OUR_NAME, OURS, e2e, yuan(fen),
             "CNY", name, acct, rem]
        if purpose:
            v.append(purpose)
        lines.append(",".join(q(x) for x in v))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def canonical_payroll(msg_id, items):
    """h2hd's canonical payment batch: one SALA group; items: (e2e, fen,
    name, account, remittance)."""
    total = sum(i[1] for i in items)
    txs = "".join("""
    <Tx>
      <EndToEndId>%s</EndToEndId>
      <Amt Ccy="CNY">%s</Amt>
      <Cdtr><Nm>%s</Nm></Cdtr>
      <CdtrAcct><OthrId>%s</OthrId></CdtrAcct>
      <Ustrd>%s</Ustrd>
    </Tx>""" % (e2e, yuan(fen), name, acct, rem)
                  for e2e, fen, name, acct, rem in items)
    doc = """<?xml version="1.0" encoding="UTF-8"?>
<PaymentBatch xmlns="urn:h2hd:canonical:1">
  <Header>
    <MsgId>%s</MsgId>
    <CreDtTm>%sT09:30:00+08:00</CreDtTm>
    <NbOfTxs>%d</NbOfTxs>
    <CtrlSum>%s</CtrlSum>
  </Header>
  <Group>
    <PmtInfId>%s-1</PmtInfId>
    <PmtMtd>TRF</PmtMtd>
    <NbOfTxs>%d</NbOfTxs>
    <CtrlSum>%s</CtrlSum>
    <CtgyPurp>SALA</CtgyPurp>
    <ReqdExctnDt>%s</ReqdExctnDt>
    <Dbtr><Nm>%s</Nm></Dbtr>
    <DbtrAcct><OthrId>%s</OthrId></DbtrAcct>%s
  </Group>
</PaymentBatch>
""" % (msg_id, today().isoformat(), len(items), yuan(total), msg_id,
       len(items), yuan(total), today().isoformat(), OUR_NAME, OURS, txs)
    return doc.encode("utf-8")


def pain001(msg_id, rows):
    """pain.001.001.03 from our account (Othr/Id); rows as csv_file."""
    total = sum(r[1] for r in rows)
    txs = "".join("""
      <CdtTrfTxInf>
        <PmtId><EndToEndId>%s</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="CNY">%s</InstdAmt></Amt>
        <Cdtr><Nm>%s</Nm></Cdtr>
        <CdtrAcct><Id><Othr><Id>%s</Id></Othr></Id></CdtrAcct>
        <RmtInf><Ustrd>%s</Ustrd></RmtInf>
      </CdtTrfTxInf>""" % (e2e, yuan(fen), name, acct, rem)
                  for e2e, fen, name, acct, rem in rows)
    doc = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>%s</MsgId><CreDtTm>%sT09:00:00</CreDtTm>
      <NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
      <InitgPty><Nm>%s</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>%s-1</PmtInfId><PmtMtd>TRF</PmtMtd>
      <NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
      <ReqdExctnDt>%s</ReqdExctnDt>
      <Dbtr><Nm>%s</Nm></Dbtr>
      <DbtrAcct><Id><Othr><Id>%s</Id></Othr></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BIC>CMBCCNBSXXX</BIC></FinInstnId></DbtrAgt>%s
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
""" % (msg_id, today().isoformat(), len(rows), yuan(total), OUR_NAME,
       msg_id[:30], len(rows), yuan(total), today().isoformat(), OUR_NAME,
       OURS, txs)
    return doc.encode("utf-8")


# --------------------------------------------------------------------------
# the bank


class Bank:
    """bank_cn.py started through cn_world, and its admin port."""

    def __init__(self, d, profile, args=(), name="sim", server="server",
                 seed=None):
        self.dir, self.name, self.profile = d, name, profile
        seed_file = None
        if seed is not None:
            seed_file = os.path.join(d, name + "-seed.json")
            os.makedirs(d, exist_ok=True)
            with open(seed_file, "w", encoding="utf-8") as f:
                json.dump(seed, f, ensure_ascii=False)
        self.info = cn_world.start(d, profile, list(args), seed=seed_file,
                                   name=name, server=server)
        self.arrivals_file = self.info["arrivals"]

    def stop(self):
        cn_world.stop(self.dir, self.name)

    def admin(self, method, path, obj=None):
        c = http.client.HTTPConnection("127.0.0.1", self.info["admin_port"],
                                       timeout=30)
        try:
            body = json.dumps(obj).encode() if obj is not None else None
            c.request(method, path, body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            check(r.status == 200, "admin %s %s: %d %r" % (method, path,
                                                           r.status, data))
            return json.loads(data)
        finally:
            c.close()

    def faults(self, **kw):
        return self.admin("POST", "/admin/faults", kw)

    def settings(self, **kw):
        return self.admin("POST", "/admin/settings", kw)

    def arrivals(self):
        try:
            with open(self.arrivals_file, encoding="utf-8") as f:
                return [json.loads(x) for x in f if x.strip()]
        except FileNotFoundError:
            return []

    def arrivals_size(self):
        try:
            return os.path.getsize(self.arrivals_file)
        except OSError:
            return 0

    def of(self, serial_prefix, arr=None):
        """Arrivals whose serial is serial_prefix or starts with it + '-'."""
        return [a for a in (arr if arr is not None else self.arrivals())
                if a["serial"] and (a["serial"] == serial_prefix or
                                    a["serial"].startswith(serial_prefix +
                                                           "-"))]

    def created(self):
        return Counter(a["serial"] for a in self.arrivals()
                       if a["outcome"] == "created")

    def check_exactly_once(self, serials, what=""):
        c = self.created()
        dup = sorted(k for k, v in c.items() if v > 1)
        check(not dup, "%sserials created twice at the bank: %r" %
              (what, dup[:5]))
        missing = [s for s in serials if c.get(s, 0) != 1]
        check(not missing, "%sserials not created exactly once: %r" %
              (what, [(s, c.get(s, 0)) for s in missing[:5]]))

    def fen(self, s):
        """An amount the simulator wrote in the profile's unit -> fen."""
        return int(s) if self.profile == "icbc" else fen_of(s)

    def payments(self):
        return {p["serial"]: p for p in self.admin("GET", "/admin/payments")}

    def ledger_account(self, acct=OURS):
        for a in self.admin("GET", "/admin/ledger")["accounts"]:
            if a["account"] == acct:
                return a
        fail("the bank has no account %s" % acct)


# --------------------------------------------------------------------------
# the daemon

DAEMON = """
daemon = {
  state_dir = "state"; spool_dir = "spool";
  log_file = "h2hd.log"; log_level = "debug"; rescan_interval = 200;
  shutdown_timeout = 10;
  retry = { initial = 200; max = 1000; factor = 2.0; jitter = 0.2;
            max_attempts = 100; max_age = 3600; };
};
"""


def q(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def bank_conf(bank, poll=300, accounts=True, bank_cert=None, tls=None,
              statement_interval=1, pending_interval=1, request_timeout=5,
              receipts=True):
    """The "cn1" bank of h2hd.conf for the simulator bank.info."""
    i = bank.info
    lines = ["profile = %s;" % q(i["profile"])]
    if i["framing"] == "http":
        lines.append("url = %s;" % q(i["url"]))
        t = dict(ca_file=i["ca"], client_cert=i["client"],
                 client_key=i["client_key"])
        if tls is not None:
            t = {k: v for k, v in dict(t, **tls).items() if v is not None}
        lines.append("tls = { %s };" % " ".join(
            "%s = %s;" % (k, q(v)) for k, v in sorted(t.items())))
    else:
        lines.append("host = %s; port = %d;" % (q(i["host"]), i["port"]))
    lines += [
        "login = %s;" % q(i["login"]),
        "accounts = ( %s );" % (", ".join(q(a) for a in i["accounts"])
                                if accounts else ""),
        'serial_prefix = "H2H";',
        "sign = { key = %s; cert = %s; };" % (q(i["client_sign_key"]),
                                              q(i["client_sign"])),
        "bank_cert = %s;" % q(bank_cert or i["bank_sign"]),
        "statement_days = 1; statement_interval = %d;" % statement_interval,
        "pending_interval = %d; receipts = %s;" % (
            pending_interval, "true" if receipts else "false"),
        "connect_timeout = 5; request_timeout = %d;" % request_timeout]
    return """
banks = (
  { name = "cn1"; adapter = "cnbank_xml"; payment_format = "canonical";
    timezone = "Asia/Shanghai"; max_sessions = 4; poll_interval = %d;
    cnbank_xml = {
      %s
    }; }
);
channels = (
  { name = "erp"; bank = "cn1"; input_format = "auto";
    output_format = "camt.053"; stability = 0; }
);
""" % (poll, "\n      ".join(lines))


def make_world(name, bank, **kw):
    w = World(name)
    w.write_conf(DAEMON + bank_conf(bank, **kw))
    return w


_LOGFMT = re.compile(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_line(line):
    kv = {}
    for k, v in _LOGFMT.findall(line):
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        kv[k] = v
    return kv


def events(w, event, **match):
    """Log lines of event whose key=value pairs include match."""
    out = []
    for line in w.log_events(event):
        kv = parse_line(line)
        if all(kv.get(k) == v for k, v in match.items()):
            out.append(kv)
    return out


_IDS = {}  # (world root, business id) -> h2hd message id


def _learn_ids(w):
    """Map business ids to h2hd's message ids (once per message)."""
    known = {v for (r, _), v in _IDS.items() if r == w.root}
    for m in w.ctl_json("queue", "--limit", "10000")["messages"]:
        if m["id"] not in known:
            bid = w.ctl_json("show", m["id"])["message"].get("business_id")
            if bid:
                _IDS[(w.root, bid)] = m["id"]


def msg_id_of(w, bid, timeout=30):
    def find():
        if (w.root, bid) not in _IDS:
            _learn_ids(w)
        return _IDS.get((w.root, bid))
    return wait_until(find, timeout, "message %s accepted by h2hd\n%s" %
                      (bid, w.tail(20)), interval=0.2)


def state_of(w, bid):
    mid = msg_id_of(w, bid)
    for m in w.ctl_json("queue", "--limit", "10000")["messages"]:
        if m["id"] == mid:
            return m["state"]
    return None


def by_business_id(w, bid):
    return w.ctl_json("show", msg_id_of(w, bid))


def wait_state(w, bid, states, timeout):
    if isinstance(states, str):
        states = (states,)
    wait_until(lambda: state_of(w, bid) in states, timeout,
               "%s %s (now %s)\n%s" % (bid, "/".join(states), state_of(w, bid),
                                       w.tail(30)), interval=0.2)


def files(d):
    try:
        return sorted(n for n in os.listdir(d) if not n.startswith("."))
    except FileNotFoundError:
        return []


def xtext(el, path):
    r = el.xpath(path)
    return r[0].strip() if r else None


def local(path):
    """'A/B' -> an XPath by local names (namespace-agnostic)."""
    return "/".join("*[local-name()='%s']" % p for p in path.split("/"))


def status_reports(w):
    """Every pain.002 in out/status: dicts with file, msg_id, orgnl,
    grp, txs {e2e: status}, mtime."""
    d = os.path.join(w.out, "status")
    out = []
    for n in files(d):
        p = os.path.join(d, n)
        try:
            root = etree.parse(p).getroot()
        except (etree.XMLSyntaxError, OSError):
            continue
        rpt = root.xpath(".//" + local("OrgnlGrpInfAndSts"))
        txs = {}
        for t in root.xpath(".//" + local("TxInfAndSts")):
            txs[xtext(t, local("OrgnlEndToEndId") + "/text()")] = \
                xtext(t, local("TxSts") + "/text()")
        out.append({
            "file": n, "mtime": os.stat(p).st_mtime_ns,
            "msg_id": xtext(root, ".//" + local("GrpHdr/MsgId") + "/text()"),
            "orgnl": xtext(rpt[0], local("OrgnlMsgId") + "/text()")
            if rpt else None,
            "grp": xtext(rpt[0], local("GrpSts") + "/text()") if rpt else None,
            "txs": txs})
    return sorted(out, key=lambda r: (r["mtime"], r["file"]))


def report_seq(r):
    """The adapter's report number: pain.002 MsgId <h2hd id>-S<n>."""
    m = re.search(r"-S([0-9]+)$", r["msg_id"] or "")
    return int(m.group(1)) if m else -1


def reports_for(w, bid):
    return [r for r in status_reports(w) if r["orgnl"] == bid]


def ledger_view(bank, frm):
    """The bank's ledger for our account: entries booked frm..today as
    sorted (fen, C/D, counterparty), the opening balance of frm and the
    closing balance now (fen)."""
    acct = bank.ledger_account()
    to = today().isoformat()
    led = [e for e in acct["entries"] if frm <= e["booking_date"] <= to]
    opening = bank.fen(acct["opening"])
    for e in acct["entries"]:
        if e["booking_date"] < frm:
            opening += e["amount_fen"] * (1 if e["cd"] == "C" else -1)
    return {"led": led, "opening": opening,
            "closing": bank.fen(acct["balance"]),
            "entries": sorted((e["amount_fen"], e["cd"],
                               e["counterparty_name"]) for e in led)}


def read_statement(path):
    """A camt.053 from out/statements: entries as ledger_view's, OPBD and
    CLBD in fen (None when missing)."""
    root = etree.parse(path).getroot()
    got = []
    for n in root.xpath(".//" + local("Ntry")):
        amt = fen_of(xtext(n, local("Amt") + "/text()"))
        cd = "C" if xtext(n, local("CdtDbtInd") + "/text()") == "CRDT" \
            else "D"
        rp = "Dbtr" if cd == "C" else "Cdtr"
        nm = xtext(n, ".//" + local("RltdPties") + "/" + local(rp) + "//" +
                   local("Nm") + "/text()")
        got.append((amt, cd, nm or ""))
    bal = {}
    for b in root.xpath(".//" + local("Bal")):
        cd = xtext(b, ".//" + local("Cd") + "/text()")
        v = fen_of(xtext(b, local("Amt") + "/text()"))
        if xtext(b, local("CdtDbtInd") + "/text()") == "DBIT":
            v = -v
        bal[cd] = v
    return {"entries": sorted(got), "opening": bal.get("OPBD"),
            "closing": bal.get("CLBD")}


def wait_for_statement(w, stmts, expect, timeout=30):
    """A statement in out/statements equal to the bank's ledger view."""
    last = {}

    def match():
        for n in reversed(files(stmts)):
            try:
                got = read_statement(os.path.join(stmts, n))
            except (etree.XMLSyntaxError, OSError, TypeError,
                    ArithmeticError):
                continue
            last[n] = got
            if got["entries"] == expect["entries"] and \
                    got["opening"] == expect["opening"] and \
                    got["closing"] == expect["closing"]:
                return n
        return None
    try:
        return wait_until(match, timeout, "a statement")
    except SystemExit:
        n = max(last, default=None)
        got = last.get(n, {})
        fail("no camt.053 in out/statements equals the bank's ledger "
             "(%d entries, opening %s, closing %s); latest %s: %d entries, "
             "opening %s, closing %s; missing %r, extra %r" % (
                 len(expect["entries"]), expect["opening"],
                 expect["closing"], n, len(got.get("entries", [])),
                 got.get("opening"), got.get("closing"),
                 sorted(set(expect["entries"]) -
                        set(got.get("entries", [])))[:5],
                 sorted(set(got.get("entries", [])) -
                        set(expect["entries"]))[:5]))


def all_final(bank):
    return all(p["status"] != "pending" for p in bank.payments().values())


# --------------------------------------------------------------------------
# flow


def seed_for_flow():
    t = today()
    ent = []
    for i, (days, amt, cd, name, rem) in enumerate((
            (3, "777.00", "C", SEED_NAMES[0], "三天前的货款"),
            (1, "1234.56", "C", SEED_NAMES[1], "货款 INV-2026-0012"),
            (1, "88.80", "D", SEED_NAMES[2], "服务费 2026年11月"),
            (0, "5000.00", "C", SEED_NAMES[3], "预付款 第二期"))):
        ent.append({"account": OURS,
                    "booking_date": (t - datetime.timedelta(days=days))
                    .isoformat(),
                    "amount": amt, "credit_debit": cd,
                    "counterparty_name": name,
                    "counterparty_account": "62220%014d" % (i * 1111),
                    "counterparty_bank": "中国工商银行上海分行",
                    "remittance": rem})
    return {"accounts": [{"account": OURS, "currency": "CNY",
                          "name": OUR_NAME,
                          "opening_balance": "1000000.00"}],
            "closed": [CLOSED], "entries": ent}


def flow(base, profile):
    t0 = time.time()
    bank = Bank(os.path.join(base, "bank"), profile,
                ["--settle-ms", "1500", "--page-size", "2"],
                seed=seed_for_flow())
    w = None
    try:
        w = make_world("cn-flow-" + profile, bank)
        w.start()

        # 1. four payments with Chinese names and remittance (CSV)
        csv_id = "CN-CSV-" + RUN
        rare = "\U00020BB7" if profile == "icbc" else ""  # 𠮷: not in GBK
        rows = [
            ("%s-1" % csv_id, 1234550, "上海浦东发展银行测试公司",
             PAYEES[0], "货款 2026年11月"),
            ("%s-2" % csv_id, 88, "北京市朝阳区某某餐饮管理有限公司",
             PAYEES[1], "餐费报销（第三季度）"),
            ("%s-3" % csv_id, 100000, "张%s伟" % rare, PAYEES[2],
             "借款归还·尾款"),
            ("%s-4" % csv_id, 99999, "深圳市南山区测试电子有限公司",
             PAYEES[3], "合同号 HT-2026-118 第一期款项")]
        drop_atomic(w, "payments-cn.csv", csv_file(csv_id, rows))
        # business id -> the transactions of the file, in order (rows)
        to_bank = {csv_id: rows}
        never_sent = []  # business ids of messages h2hd refused to send

        # 2. payroll: canonical, SALA, one item to a closed account
        sal_id = "CN-SALA-" + RUN
        items = [("%s-1" % sal_id, 850000, "李小龙", PAYEES[0],
                  "工资 2026年11月"),
                 ("%s-2" % sal_id, 920050, "王芳", CLOSED, "工资 2026年11月"),
                 ("%s-3" % sal_id, 777700, "欧阳娜娜", PAYEES[2],
                  "工资 2026年11月")]
        drop_atomic(w, "payroll.xml", canonical_payroll(sal_id, items))
        to_bank[sal_id] = items

        csv_mid = msg_id_of(w, csv_id)
        sal_mid = msg_id_of(w, sal_id)
        csv_serials = ["H2H%s-%d" % (csv_mid, i) for i in range(1, 5)]
        sal_serial = "H2H" + sal_mid

        # pending first: a PDNG report while the message stays submitted
        def pdng_report():
            for r in reports_for(w, csv_id):
                if r["grp"] == "PDNG" or (r["txs"] and set(
                        r["txs"].values()) == {"PDNG"}):
                    return r
            return None
        first = wait_until(pdng_report, 30, "a PDNG pain.002 for %s: %r\n%s" %
                           (csv_id, reports_for(w, csv_id), w.tail(30)))
        wait_state(w, csv_id, "acknowledged", 40)
        reps = reports_for(w, csv_id)
        check(reps[0]["file"] == first["file"],
              "the first report for %s is the pending one: %r" % (csv_id,
                                                                  reps))
        last = reps[-1]
        check(last["txs"] == {r[0]: "ACSC" for r in rows},
              "the last report says ACSC for each payment: %r" % last)
        check(len(reps) >= 2 and len(set(r["msg_id"] for r in reps)) ==
              len(reps), "distinct reports, pending then final: %r" % reps)
        seq = [(kv["event"], kv.get("file")) for kv in map(
            parse_line, w.log_events()) if kv.get("msg") == csv_mid and
            kv.get("event") in ("status.pending", "payment.acknowledged")]
        check(seq and seq[0] == ("status.pending", first["file"]) and
              seq[-1] == ("payment.acknowledged", last["file"]) and
              seq.count(seq[-1]) == 1,
              "h2hd: pending (still submitted), then acknowledged once: %r"
              % seq)
        bank.check_exactly_once(csv_serials, "csv: ")
        mine = bank.of("H2H" + csv_mid)
        check(all(a["function"] in ("payment", "payment_status")
                  for a in mine) and
              sum(a["outcome"] == "created" for a in mine) == 4 and
              not [a for a in mine if a["outcome"] not in ("created", "ok")],
              "csv: four creates and inquiries only: %r" %
              [(a["function"], a["outcome"]) for a in mine])
        check([a for a in mine if a["function"] == "payment_status"],
              "the pending payments were asked about")

        # the bank stored the Chinese text exactly (GBK / GB18030 trip)
        pays = bank.payments()
        for serial, (e2e, fen, name, acct, rem) in zip(csv_serials, rows):
            p = pays.get(serial)
            check(p is not None, "the bank has %s" % serial)
            v = p["values"]
            got = (v["creditor_name"], v["remittance"], v["creditor_account"],
                   v["amount"], v["debtor_account"], v["currency"])
            want = (name, rem, acct, fen, OURS, "CNY")
            check(got == want, "%s stored as %r, sent %r" % (serial, got,
                                                              want))
            check(p["status"] == "finished", "%s finished: %s" %
                  (serial, p["status"]))
        show = by_business_id(w, csv_id)
        sts = {p["end_to_end_id"]: p["status"] for p in show["payments"]}
        check(sts == {r[0]: "ACSC" for r in rows},
              "h2hctl show: four payments ACSC: %r" % sts)

        # payroll: one request, per-item statuses
        wait_state(w, sal_id, ("partially_accepted", "acknowledged"), 40)
        check(state_of(w, sal_id) == "partially_accepted",
              "one payroll item rejected: partially_accepted (%s)" %
              state_of(w, sal_id))
        sal_arr = bank.of(sal_serial)
        check(Counter(a["outcome"] for a in sal_arr
                      if a["function"] == "payroll") == {"created": 1},
              "payroll created once, nothing else: %r" %
              [(a["function"], a["outcome"]) for a in sal_arr])
        check(all(a["function"] in ("payroll", "payroll_result")
                  for a in sal_arr), "payroll: only payroll requests")
        p = bank.payments()[sal_serial]
        check([(i["creditor_name"], i["creditor_account"], i["amount"],
                i["status"]) for i in p["items"]] ==
              [(n, a, f, "rejected" if a == CLOSED else "finished")
               for _, f, n, a, _ in items],
              "the bank's payroll items: %r" % p["items"])
        final = reports_for(w, sal_id)[-1]
        want = {e: ("RJCT" if a == CLOSED else "ACSC")
                for e, _, _, a, _ in items}
        check(final["txs"] == want, "payroll pain.002 per item: %r, want %r" %
              (final["txs"], want))
        sts = {x["end_to_end_id"]: x["status"]
               for x in by_business_id(w, sal_id)["payments"]}
        check(sts == want, "h2hctl show: payroll items %r" % sts)

        # a character the charset cannot write: refused before sending
        # (GB18030 writes every character, so only for GBK).  U+1F600 is
        # in no GBK table; U+20AC is not in GBK either (Windows code page
        # 936 puts it at 0x80, which a GBK front end cannot decode)
        for tag, ch in ((("SMILE", "\U0001F600"), ("EURO", "\u20ac"))
                        if profile == "cmb" else ()):
            bad_id = "CN-GBK-%s-%s" % (tag, RUN)
            bad_rows = [("%s-1" % bad_id, 1000, "正常公司", PAYEES[0], "货款"),
                        ("%s-2" % bad_id, 2000, "笑脸%s公司" % ch, PAYEES[1],
                         "货款")]
            arr0 = len(bank.arrivals())
            drop_atomic(w, "gbk-%s.csv" % tag, csv_file(bad_id, bad_rows))
            wait_state(w, bad_id, ("failed", "held"), 30)
            bad_mid = msg_id_of(w, bad_id)
            never_sent.append(bad_id)
            new = bank.arrivals()[arr0:]
            sent = [(a["function"], a["outcome"], a["error"]) for a in new
                    if a["function"] in ("payment", "payroll", None)]
            check(not sent and not bank.of("H2H" + bad_mid, new),
                  "U+%04X: nothing of %s may reach the bank, it got %r" %
                  (ord(ch), bad_mid, sent))
            ev = events(w, "payment.failed", msg=bad_mid) or \
                events(w, "payment.held", msg=bad_mid)
            check(ev, "a failed/held event for %s" % bad_mid)
            err = " ".join(e.get("error", "") for e in ev)
            check(re.search(r"creditor[_ ]name", err, re.I) and
                  "GBK" in err and "nothing sent" in err,
                  "U+%04X: the log names the field and the charset: %r" %
                  (ord(ch), err))

        # the ambiguous failure: created, no answer; inquiry, no resend
        mode = "close" if profile == "cmb" else "hold"
        tmo_id = "CN-TMO-" + RUN
        bank.faults(clear=True, timeout_after_create_next=1,
                    timeout_mode=mode, timeout_hold_s=20)
        to_bank[tmo_id] = [("%s-1" % tmo_id, 4321,
                            "成都市锦江区测试商贸有限公司", PAYEES[1], "设备款")]
        drop_atomic(w, "timeout.xml", pain001(tmo_id, to_bank[tmo_id]))
        tmo_mid = msg_id_of(w, tmo_id)
        wait_state(w, tmo_id, "acknowledged", 45)
        serial = "H2H%s-1" % tmo_mid
        mine = bank.of(serial)
        check(mine and mine[0]["outcome"] == "created" and
              mine[0]["fault"] == "timeout_after_create:" + mode,
              "the first arrival is the create without answer: %r" % mine[:1])
        check([a["outcome"] for a in mine if a["function"] == "payment"] ==
              ["created"], "%s: one payment request, never resent: %r" %
              (serial, [(a["function"], a["outcome"]) for a in mine]))
        check(len(mine) >= 2 and mine[1]["function"] == "payment_status" and
              mine[1]["outcome"] == "ok",
              "then an inquiry by serial: %r" %
              [(a["function"], a["outcome"]) for a in mine])
        check(events(w, "payment.outcome_unknown", msg=tmo_mid),
              "the submit's outcome was unknown")
        check(events(w, "payment.recovered.delivered", msg=tmo_mid),
              "recover found it at the bank")

        # busy: delays, never duplicates
        busy_id = "CN-BUSY-" + RUN
        bank.faults(clear=True, busy_next=100000)
        to_bank[busy_id] = [("%s-1" % busy_id, 2500, "武汉光谷测试有限公司",
                             PAYEES[2], "咨询费")]
        drop_atomic(w, "busy.xml", pain001(busy_id, to_bank[busy_id]))
        busy_mid = msg_id_of(w, busy_id)
        serial = "H2H%s-1" % busy_mid
        wait_until(lambda: [a for a in bank.of(serial)
                            if a["outcome"] == "busy"], 20,
                   "a busy answer to %s" % serial)
        wait_until(lambda: events(w, "payment.deferred", msg=busy_mid), 20,
                   "payment.deferred for %s" % busy_mid)
        check(state_of(w, busy_id) != "acknowledged", "not done while busy")
        bank.faults(clear=True)
        wait_state(w, busy_id, "acknowledged", 40)
        mine = [a for a in bank.of(serial) if a["function"] == "payment"]
        outs = [a["outcome"] for a in mine]
        check(outs.count("created") == 1 and outs[-1] == "created" and
              set(outs) == {"busy", "created"},
              "%s: busy then created once: %r" % (serial, outs))

        # statements: the ledger's entries of the statement days, with
        # the bank's balances
        wait_until(lambda: all_final(bank), 20, "the bank settled everything")
        frm = (today() - datetime.timedelta(days=1)).isoformat()
        stmts = os.path.join(w.out, "statements")
        expect = ledger_view(bank, frm)
        check(len(expect["entries"]) >= 10 and
              expect["opening"] == fen_of("1000777.00"),
              "ledger: %d entries in range, opening %s" %
              (len(expect["entries"]), expect["opening"]))
        name = wait_for_statement(w, stmts, expect)
        n_stmt = len(expect["entries"])

        # receipts: one PDF per booked entry of those days, once
        rdir = os.path.join(w.out, "receipts")
        want_r = {e["receipt_id"]: e for e in expect["led"]}

        def receipts():
            return [n for n in files(rdir) if n.startswith("receipt_")]
        wait_until(lambda: len(receipts()) >= len(want_r), 30,
                   "%d receipts in out/receipts: %r" % (len(want_r),
                                                        files(rdir)))

        def n_fn(fn):
            return len([a for a in bank.arrivals() if a["function"] == fn])
        n_bal = n_fn("balance")
        wait_until(lambda: n_fn("balance") >= n_bal + 3, 30,
                   "two more complete statement and receipt rounds")
        got_r = {}
        for n in receipts():
            check(n.endswith(".pdf"), "receipt named .pdf: %s" % n)
            with open(os.path.join(rdir, n), "rb") as f:
                data = f.read()
            check(data.startswith(b"%PDF-"), "%s is a PDF" % n)
            m = re.search(rb"Receipt id: (R[0-9]+)", data)
            check(m, "%s names its receipt id" % n)
            rid = m.group(1).decode()
            check(rid not in got_r, "receipt %s delivered twice: %s, %s" %
                  (rid, got_r.get(rid), n))
            got_r[rid] = n
        check(sorted(got_r) == sorted(want_r),
              "receipts %r, the ledger's %r" % (sorted(got_r),
                                               sorted(want_r)))
        ours = 0
        for rid, n in got_r.items():
            e = want_r[rid]
            who = e["serial"] or e["entry_id"]
            ours += bool(e["serial"])
            check(n == "receipt_%s_%s_%s.pdf" % (e["booking_date"], who, rid)
                  or n == "receipt_%s_%s_%s.pdf" % (
                      e["booking_date"].replace("-", ""), who, rid),
                  "%s names date %s, %s and %s" % (n, e["booking_date"], who,
                                                   rid))
        check(ours == 8, "8 receipts name our serials: %d" % ours)

        # an entry booked while h2hd reads the statement (after the
        # balance, before the transactions): what reaches treasury must
        # still be true
        bank.faults(clear=True, latency_ms=600)
        n_bal = n_fn("balance")
        wait_until(lambda: n_fn("balance") > n_bal, 30, "a balance request")
        bank.admin("POST", "/admin/entries", {"entries": [{
            "account": OURS, "booking_date": today().isoformat(),
            "amount": "66.60", "credit_debit": "C",
            "counterparty_name": "天津滨海新区测试有限公司",
            "counterparty_account": "6222000000000009999",
            "remittance": "退款"}]})
        bank.faults(clear=True)
        expect2 = ledger_view(bank, frm)
        check(len(expect2["entries"]) == n_stmt + 1, "one more entry")
        wait_for_statement(w, stmts, expect2)
        bad = []
        for n in files(stmts):
            got = read_statement(os.path.join(stmts, n))
            if got["opening"] != expect["opening"]:
                bad.append("%s: opening %s (%d entries, closing %s)" % (
                    n, yuan_s(got["opening"]), len(got["entries"]),
                    yuan_s(got["closing"])))

        # h2hctl fetch: a day outside the routine range (statement_days
        # = 1), on demand: its statement holds that day's booking only
        d3 = (today() - datetime.timedelta(days=3)).isoformat()
        r = w.ctl_json("fetch", "cn1", "--kind", "statements", "--date", d3)
        check(r.get("bank") == "cn1" and r.get("kind") == "statements" and
              r.get("date") == d3, "h2hctl fetch answered: %r" % r)
        check(events(w, "bank.fetch.requested", bank="cn1", date=d3),
              "the fetch is logged")
        day_names = lambda: [n for n in files(stmts)
                             if "_%s_%s.xml" % (d3, d3) in n]
        wait_until(lambda: day_names(), 30,
                   "the statement of %s in out/statements: %r" %
                   (d3, files(stmts)))
        got = read_statement(os.path.join(stmts, day_names()[0]))
        want3 = sorted((e["amount_fen"], e["cd"], e["counterparty_name"])
                       for e in bank.ledger_account()["entries"]
                       if e["booking_date"] == d3)
        check(sorted(got["entries"]) == want3 and len(want3) == 1,
              "the fetched day's statement %r, the ledger's %r" %
              (got["entries"], want3))
        # its balances are the bank's, carried back from today's
        open3 = ledger_view(bank, d3)["opening"]
        close3 = open3 + sum(a if cd == "C" else -a for a, cd, _ in want3)
        check(got["opening"] == open3 and got["closing"] == close3,
              "the fetched day's balances %s / %s, the ledger's %s / %s" %
              (got["opening"], got["closing"], open3, close3))
        bad_kind = w.ctl("fetch", "cn1", "--kind", "gossip", check_rc=False)
        check(bad_kind.returncode != 0 and "unknown kind" in
              (bad_kind.stdout + bad_kind.stderr),
              "an unknown kind is refused: %r" % (bad_kind.stdout,))

        # reconciliation over the statement days, d3 (fetched) to today
        t_rec = time.time()
        n_booked = reconcile_flow(w, bank, to_bank, never_sent, d3,
                                  today().isoformat())
        t_rec = time.time() - t_rec

        check(files(os.path.join(w.out, "other")) == [],
              "nothing in out/other: %r" % files(os.path.join(w.out, "other")))

        st = w.ctl_json("status")
        health = [b["health"] for b in st["banks"] if b["name"] == "cn1"]
        check(health == ["ok"], "bank healthy: %r" % health)
        check(w.stop() == 0, "clean stop")
        for line in w.log_events():
            if OURS in line or any(p in line for p in PAYEES):
                fail("a full account number reached the log: " + line)
        # last, as it fails with the adapter as it is (a statement races
        # with bookings): every statement delivered must be true
        check(not bad, "statements delivered with a wrong opening balance "
              "(the bank's is %s throughout; the closing balance was read "
              "before an entry the statement lists): %s" %
              (yuan_s(expect["opening"]), bad))
        print("cnbank flow %s: %d payments, 1 payroll, timeout + busy "
              "recovered exactly once, statement of %d entries, %d receipts, "
              "reconciled (%d messages booked, %.1f s); %.1f s" % (
                  profile, 4 + 2, n_stmt, len(got_r), n_booked, t_rec,
                  time.time() - t0))
    except SystemExit:
        if w is not None:
            print(w.tail(80))
        raise
    finally:
        if w is not None:
            w.cleanup()
        bank.stop()


# --------------------------------------------------------------------------
# reconciliation (the end of flow)

# the columns of daemon/recon.h, in order
RECON_COLS = {
    "matched.csv": "group,rule,key,key_value,score,side,item_id,batch_id,"
                   "entry_id,account,item_amount,entry_amount,currency,"
                   "entry_currency,item_date,book_date,counterparty,flags",
    "unmatched_payments.csv": "payment_id,bank,account,end_to_end_id,uetr,"
                              "serial,bank_ref,amount,currency,exec_date,"
                              "days_open,counterparty,counterparty_account,"
                              "remittance,batch_id,state",
    "unmatched_entries.csv": "entry_id,account,direction,amount,currency,"
                             "book_date,value_date,acct_svcr_ref,"
                             "end_to_end_id,uetr,customer_ref,bank_ref,"
                             "counterparty,counterparty_account,remittance,"
                             "best_candidate,best_score",
    "mismatches.csv": "kind,group,rule,key,key_value,item_id,entry_id,"
                      "expected_amount,booked_amount,difference,currency,"
                      "item_date,book_date,days_off",
    "duplicates.csv": "kind,id,duplicate_of,payment_id,key,key_value,amount,"
                      "currency,date",
    "reversals.csv": "kind,entry_id,original_entry_id,payment_id,amount,"
                     "currency,direction,book_date,key,key_value,"
                     "return_reason",
    "ambiguous.csv": "entry_id,candidate_id,side,rule,key,key_value,score,"
                     "entry_amount,candidate_amount,currency,book_date,"
                     "candidate_date",
}


def read_report(run_dir, name):
    """The rows (dicts) of one CSV report of a reconciliation run."""
    path = os.path.join(run_dir, name)
    check(os.path.isfile(path), "reconcile: no %s in the run folder %s "
          "(it has %r)" % (name, run_dir, files(run_dir)))
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    check(rows and ",".join(rows[0]) == RECON_COLS[name],
          "reconcile: %s columns\n  got      %s\n  recon.h  %s" % (
              name, ",".join(rows[0]) if rows else None, RECON_COLS[name]))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def bank_bookings(bank, sent, frm, to):
    """What the bank did with what we sent, from the simulator's own
    records (its instructions and its ledger of our account, booking days
    frm..to), tied to our transactions by content (amount, payee name and
    account: unique among what the flow sent).  Returns (ours, theirs,
    refused):
      ours     one dict per booking of ours: serial (as the ledger entry
               carries it), entry (the ledger entry), batch (the entry
               books a whole payroll batch), txs [(business id, n, fen)]
               (n counting the file's transactions from 1)
      theirs   the ledger entries that are no booking of ours
      refused  [(business id, n)] the bank refused (not paid, not booked)"""
    led = [e for e in bank.ledger_account()["entries"]
           if frm <= e["booking_date"] <= to]
    index = {}
    for bid, rows in sent.items():
        for n, (_, fen, name, acct, _) in enumerate(rows, 1):
            index.setdefault((fen, name, acct), []).append((bid, n))

    def tx_of(fen, name, acct, what):
        hit = index.get((fen, name, acct), [])
        check(len(hit) == 1, "reconcile (test data): %s (%s, %s, %s) is %d "
              "of the transactions the flow sent: %r" % (
                  what, yuan(fen), name, acct, len(hit), hit))
        return hit[0]

    def debits(serial_ok, fen, name, acct):
        """Ledger debits of (fen, name, acct) whose serial passes."""
        return [e for e in led if e["cd"] == "D" and serial_ok(e["serial"])
                and (e["amount_fen"], e["counterparty_name"],
                     e["counterparty_account"]) == (fen, name, acct)]

    ours, refused = [], []
    for serial, p in sorted(bank.payments().items()):
        if p["kind"] == "payment":
            v = p["values"]
            key = (v["amount"], v["creditor_name"], v["creditor_account"])
            bid, n = tx_of(*key, what="payment " + serial)
            bk = debits(lambda s: s == serial, *key)
            if p["status"] != "finished":
                check(not bk, "the bank booked payment %s, which it %s: %r" %
                      (serial, p["status"], bk))
                refused.append((bid, n))
                continue
            check(len(bk) == 1, "the simulator booked payment %s once on "
                  "%s..%s: %r" % (serial, frm, to, bk))
            ours.append({"serial": serial, "entry": bk[0], "batch": False,
                         "txs": [(bid, n, v["amount"])]})
            continue
        # a payroll batch: one debit for the batch (serial = the batch's),
        # or one per paid item (PROFILE.md: serial <batch serial>-<item_no>)
        paid = []
        for it in p["items"]:
            key = (it["amount"], it["creditor_name"], it["creditor_account"])
            bid, n = tx_of(*key, what="payroll %s item %s" % (serial,
                                                              it["item_no"]))
            if it["status"] == "finished":
                paid.append((key, (bid, n, it["amount"])))
            else:
                refused.append((bid, n))
        whole = [e for e in led if e["serial"] == serial]
        if whole:
            check(len(whole) == 1 and whole[0]["cd"] == "D" and
                  whole[0]["amount_fen"] == sum(t[2] for _, t in paid),
                  "the payroll %s booked once for its paid items: %r" %
                  (serial, whole))
            ours.append({"serial": serial, "entry": whole[0], "batch": True,
                         "txs": [t for _, t in paid]})
            continue
        for key, t in paid:
            bk = debits(lambda s: s.startswith(serial + "-"), *key)
            check(len(bk) == 1, "the simulator booked the paid item %s/%d "
                  "of payroll %s once on %s..%s: %r" % (t[0], t[1], serial,
                                                        frm, to, bk))
            ours.append({"serial": bk[0]["serial"], "entry": bk[0],
                         "batch": False, "txs": [t], "what": "payroll item"})
    mine = [o["entry"]["entry_id"] for o in ours]
    check(len(set(mine)) == len(mine), "one ledger entry per booking: %r" %
          mine)
    stray = [e for e in led if e["serial"] and e["entry_id"] not in mine]
    check(not stray, "ledger entries under a serial the bank's instructions "
          "do not explain: %r" % stray)
    return ours, [e for e in led if not e["serial"]], refused


def reconcile_flow(w, bank, sent, never_sent, frm, to):
    """`h2hctl reconcile --from frm --to to` after the flow; its reports
    against what the bank booked (bank_bookings), the messages' states.
    Returns how many messages the run booked."""
    ours, theirs, refused = bank_bookings(bank, sent, frm, to)
    mids = {bid: msg_id_of(w, bid) for bid in list(sent) + never_sent}
    pid = lambda bid, n: "%s/%d" % (mids[bid], n)  # noqa: E731

    r = w.ctl("reconcile", "--from", frm, "--to", to, check_rc=False)
    check(r.returncode == 0, "h2hctl reconcile --from %s --to %s: exit %d\n"
          "%s%s\n%s" % (frm, to, r.returncode, r.stdout, r.stderr,
                        w.tail(15)))
    j = w.ctl_json("reconcile", "--last")
    check(j.get("result") == "ok" and (j.get("from"), j.get("to")) ==
          (frm, to) and j.get("dir"),
          "h2hctl reconcile --last --json: the run ok, %s..%s, its dir: %r" %
          (frm, to, j))
    run_id, run_dir = j["id"], j["dir"]
    check(os.path.isdir(run_dir), "the run folder %s exists" % run_dir)
    rep = {n: read_report(run_dir, n) for n in RECON_COLS}
    mt, up, ue = (rep["matched.csv"], rep["unmatched_payments.csv"],
                  rep["unmatched_entries.csv"])

    def entry_text(e):
        return "%s %s, booked %s, %s, serial %r" % (
            "D" if e["cd"] == "D" else "C", yuan(e["amount_fen"]),
            e["booking_date"], e["counterparty_name"], e["serial"])

    # matched.csv: each booking of ours exactly by the serial on it
    rows_of = {}
    for row in mt:
        rows_of.setdefault(row["item_id"], []).append(row)
    groups = {}
    for row in mt:
        groups.setdefault(row["group"], []).append(row)
    want_ids = set()
    problems = []
    for o in ours:
        e = o["entry"]
        ids = [pid(b, n) for b, n, _ in o["txs"]]
        want_ids.update(ids)
        what = "%s %s (the bank's %s)" % (
            "the payroll batch of" if o["batch"] else
            o.get("what", "payment"),
            ", ".join(ids), entry_text(e))
        got = [rows_of.get(i, []) for i in ids]
        if not all(got):
            where_e = [x for x in ue if x["customer_ref"] == o["serial"]]
            where_p = [x for x in up if x["payment_id"] in ids]
            problems.append(
                "%s: not matched (%s not in matched.csv); the entry in "
                "unmatched_entries.csv: %s; the payment in "
                "unmatched_payments.csv: %s" % (
                    what, ", ".join(i for i, g in zip(ids, got) if not g),
                    ["best %s score %s" % (x["best_candidate"] or "-",
                                           x["best_score"] or "-")
                     for x in where_e] or "no",
                    [x["state"] for x in where_p] or
                    "no (pending: within grace_days)"))
            continue
        if any(len(g) != 1 for g in got):
            problems.append("%s: matched more than once: %r" % (what, got))
            continue
        got = [g[0] for g in got]
        grp = groups[got[0]["group"]]
        if sorted(x["item_id"] for x in grp) != sorted(ids) or \
                len({x["entry_id"] for x in grp}) != 1:
            problems.append("%s: its match (group %s) should pair exactly "
                            "%s with one entry: %r" % (what, got[0]["group"],
                                                       ids, grp))
            continue
        for row, (b, n, fen) in zip(got, o["txs"]):
            want = {"rule": "exact", "score": "100", "side": "payment",
                    "key_value": o["serial"], "item_amount": yuan(fen),
                    "entry_amount": yuan(e["amount_fen"]), "currency": "CNY",
                    "entry_currency": "CNY", "book_date": e["booking_date"],
                    "account": OURS}
            if o["batch"]:
                ok_key = row["key"] in ("Batch", "Serial")
                ok_flags = "batch" in row["flags"].split()
            else:
                want.update(counterparty=e["counterparty_name"])
                ok_key = row["key"] == "Serial"
                ok_flags = row["flags"] == ""
            bad = {k: (row[k], v) for k, v in want.items() if row[k] != v}
            if not ok_key:
                bad["key"] = (row["key"], "Batch/Serial" if o["batch"]
                              else "Serial")
            if not ok_flags:
                bad["flags"] = (row["flags"], "batch" if o["batch"] else "")
            if bad:
                problems.append("%s: matched.csv row for %s (got, want): %r "
                                "(rule %s key %s score %s)" % (
                                    what, pid(b, n), bad, row["rule"],
                                    row["key"], row["score"]))
    extra = sorted(set(rows_of) - want_ids)
    if extra:
        problems.append("matched.csv pairs what the bank did not book so: %r"
                        % [rows_of[i] for i in extra])
    check(not problems, "reconcile %s (%s..%s), %s:\n  %s" % (
        run_id, frm, to, run_dir, "\n  ".join(problems)))

    # what the bank refused (RJCT) or never got is not in the run at all
    out = {pid(b, n): "refused by the bank (RJCT)" for b, n in refused}

    def left_out(i):
        for b in never_sent:
            if i.startswith(mids[b] + "/"):
                return "never sent: h2hd refused the file"
        return out.get(i)
    for name, col in (("matched.csv", "item_id"),
                      ("unmatched_payments.csv", "payment_id"),
                      ("mismatches.csv", "item_id"),
                      ("duplicates.csv", "payment_id"),
                      ("reversals.csv", "payment_id"),
                      ("ambiguous.csv", "candidate_id")):
        hit = [(x[col], left_out(x[col])) for x in rep[name]
               if left_out(x[col])]
        check(not hit, "reconcile: %s lists payments that must not be in "
              "the run: %r" % (name, hit))
    check(refused, "the flow has a payment the bank refused (test data)")

    # the bank's other entries (credits, its fee) are unmatched entries,
    # and nothing of ours is
    def ue_key(x):
        return (x["direction"], x["amount"], x["book_date"], x["counterparty"])
    want_ue = sorted(("CRDT" if e["cd"] == "C" else "DBIT",
                      yuan(e["amount_fen"]), e["booking_date"],
                      e["counterparty_name"]) for e in theirs)
    check(sorted(map(ue_key, ue)) == want_ue,
          "unmatched_entries.csv (direction, amount, day, counterparty)\n"
          "  got      %r\n  expected %r (the bank's entries not ours)" %
          (sorted(map(ue_key, ue)), want_ue))
    check(all(x["account"] == OURS and x["customer_ref"] == "" for x in ue),
          "unmatched entries: our account, no serial: %r" % ue)
    check(up == [], "unmatched_payments.csv is empty: %r" % up)
    for n in ("mismatches.csv", "duplicates.csv", "reversals.csv",
              "ambiguous.csv"):
        check(rep[n] == [], "%s is empty: %r" % (n, rep[n]))

    n_tx = sum(len(o["txs"]) for o in ours)
    counts = j.get("counts") or {}
    want = {"payments": n_tx, "matched_payments": n_tx,
            "matched_entries": len(ours), "exact": len(ours),
            "reference": 0, "fuzzy": 0, "unmatched_payments": 0,
            "pending_payments": 0, "unmatched_entries": len(theirs),
            "entries": len(ours) + len(theirs)}
    bad = {k: (counts.get(k), v) for k, v in want.items()
           if counts.get(k) != v}
    check(not bad, "reconcile --last --json counts (got, expected): %r\n%s" %
          (bad, j.get("summary")))

    # every message the bank booked in full (each transaction it did not
    # refuse): booked, payment.booked once; the others keep their state
    done = {(b, n) for o in ours for b, n, _ in o["txs"]}
    full = [b for b, rows in sent.items()
            if all((b, n) in done or (b, n) in refused
                   for n in range(1, len(rows) + 1)) and
            any((b, n) in done for n in range(1, len(rows) + 1))]
    check(full, "the bank booked a message in full (test data)")
    want_b = sorted(mids[b] for b in full)
    for b in sent:
        st = w.ctl_json("show", mids[b])["message"]["state"]
        check((st == "booked") == (b in full),
              "%s (%s), %s by the bank: state %s" % (
                  mids[b], b, "booked in full" if b in full else
                  "not booked in full", st))
    q = sorted(m["id"] for m in w.ctl_json(
        "queue", "--state", "booked", "--limit", "10000")["messages"])
    check(q == want_b, "h2hctl queue --state booked: %r, want %r" %
          (q, want_b))
    ev = events(w, "payment.booked")
    check(sorted(e.get("msg") for e in ev) == want_b and
          all(e.get("run") == run_id for e in ev),
          "payment.booked once per message, run=%s: %r, want %r" %
          (run_id, [(e.get("msg"), e.get("run")) for e in ev], want_b))
    check(counts.get("booked") == len(want_b),
          "the run booked %r messages, want %d" % (counts.get("booked"),
                                                   len(want_b)))
    fin = events(w, "recon.finished", id=run_id)
    check(len(fin) == 1 and fin[0].get("booked") == str(len(want_b)),
          "recon.finished id=%s booked=%d: %r" % (run_id, len(want_b), fin))
    for b in never_sent:
        st = state_of(w, b)
        check(st in ("failed", "held"), "%s, never sent, stays %s" % (b, st))
    return len(want_b)


# --------------------------------------------------------------------------
# security


def one_payment(w, bid, fen=1000, name="安全测试有限公司"):
    drop_atomic(w, bid + ".xml", pain001(bid, [
        ("%s-1" % bid, fen, name, PAYEES[0], "安全测试")]))
    return msg_id_of(w, bid)


def log_errors(w, mid):
    """Every error / note text logged for message mid."""
    out = []
    for line in w.log_events():
        kv = parse_line(line)
        if kv.get("msg") == mid:
            out.append("%s: %s" % (kv.get("event"), kv.get("error", "")))
    return out


def security(base, profile):
    t0 = time.time()
    bank = Bank(os.path.join(base, "bank"), profile, ["--settle-ms", "0"])
    worlds = []
    banks = [bank]
    results = []
    try:
        # no accounts: no statements or receipts; settle 0: nothing stays
        # pending; so every request comes from a payment and the faults
        # (which count requests) hit the payment they are meant for
        w = make_world("cn-sec-" + profile, bank, accounts=False)
        worlds.append(w)
        w.start()
        a_id = "CN-SEC-A-" + RUN
        a_mid = one_payment(w, a_id)
        wait_state(w, a_id, "acknowledged", 30)
        check(events(w, "payment.submitted", msg=a_mid),
              "a genuine answer acknowledges at once")

        def answer_fault(tag, fault, words, created_first, prime=False):
            bid = "CN-SEC-%s-%s" % (tag, RUN)
            if prime:
                # a genuine payment answer first: the replay is then an
                # answer to the same function, told apart by its echo of
                # the request id (cmb-style) or the serial (icbc-style)
                pid = "CN-SEC-P%s-%s" % (tag, RUN)
                one_payment(w, pid)
                wait_state(w, pid, "acknowledged", 30)
            n_before = len(bank.arrivals())
            bank.faults(clear=True, **{fault: 1})
            mid = one_payment(w, bid)
            serial = "H2H%s-1" % mid
            wait_state(w, bid, "acknowledged", 40)
            mine = bank.of(serial)
            outs = [(a["function"], a["outcome"]) for a in mine]
            check([a["outcome"] for a in mine
                   if a["function"] == "payment"] == ["created"],
                  "%s: exactly one payment request, created: %r" %
                  (fault, outs))
            inq = [a for a in mine if a["function"] == "payment_status"]
            check(inq, "%s: resolved by inquiry: %r" % (fault, outs))
            if created_first:
                check(outs[0] == ("payment", "created") and
                      mine[0]["fault"] == fault[:-len("_next")],
                      "%s: the faulty answer was to the create: %r" %
                      (fault, mine[:1]))
            else:
                kind = {"replay_last_response_next": "replay",
                        "drop_next": "drop"}[fault]
                hit = [a for a in bank.arrivals()[n_before:]
                       if a["fault"] == kind]
                check(len(hit) == 1 and not hit[0]["serial"],
                      "%s: one request not processed: %r" % (fault, hit))
                check(outs[0] == ("payment_status", "not_found") and
                      outs[-1] == ("payment", "created"),
                      "%s: not processed; asked, then sent again: %r" %
                      (fault, outs))
            unk = events(w, "payment.outcome_unknown", msg=mid)
            check(unk, "%s: the outcome was unknown, not a refusal" % fault)
            err = " ".join(e.get("error", "") for e in unk)
            check(re.search(words, err, re.I),
                  "%s: the log names the reason (%s): %r" % (fault, words,
                                                             err))
            # the order of what h2hd did: unknown, asked, then either found
            # (processed) or proven not sent and sent again
            seq = [kv.get("event") for kv in map(parse_line, w.log_events())
                   if kv.get("msg") == mid and kv.get("event") in (
                       "payment.submitted", "payment.outcome_unknown",
                       "payment.recovered.delivered",
                       "payment.recovered.not_sent")]
            want = ["payment.outcome_unknown"] + (
                ["payment.recovered.delivered"] if created_first else
                ["payment.recovered.not_sent", "payment.submitted"])
            # after a resend, the bank's status report can link the
            # message before the submit's own result is committed; then
            # there is no payment.submitted line, and that is fine
            ok = seq == want or (not created_first and seq == want[:-1])
            check(ok, "%s: h2hd's steps %r, want %r (nothing "
                  "acknowledged on the bad answer)" % (fault, seq, want))
            results.append("%s ok" % fault)

        answer_fault("SIG", "bad_response_signature_next",
                     r"signature does not match", True)
        answer_fault("RPL", "replay_last_response_next",
                     r"echoes (INFO/SEQNBR|eb/pub/fSeqno) .*another request",
                     False, prime=True)
        # (PROFILE.md, Reading an answer: the signature is checked before
        # decoding; the simulator signs garbage only in an HTTP header, so
        # icbc-style's garbage fails its signature element first)
        answer_fault("GRB", "garbage_next",
                     r"not valid GBK" if profile == "cmb" else
                     r"SignData is not there", True)
        answer_fault("DRP", "drop_next",
                     r"closed|reset|end of file|EOF|no answer", False)
        check(w.stop() == 0, "clean stop")

        # pinned to another bank certificate: every answer refused
        bank.admin("POST", "/admin/reset")
        bank.settings(settle_ms=0)
        w2 = make_world("cn-sec-pin-" + profile, bank, accounts=False,
                        bank_cert=bank.info["bank_sign2"])
        worlds.append(w2)
        w2.start()
        pin_id = "CN-SEC-PIN-" + RUN
        mid = one_payment(w2, pin_id)
        serial = "H2H%s-1" % mid
        wait_until(lambda: len([a for a in bank.of(serial)
                                if a["function"] == "payment_status"]) >= 2,
                   40, "two inquiries for %s\n%s" % (serial, w2.tail(20)))
        st = state_of(w2, pin_id)
        check(st == "submitting", "not acknowledged with a wrong pin (%s)" %
              st)
        mine = bank.of(serial)
        check([a["outcome"] for a in mine if a["function"] == "payment"] ==
              ["created"], "created once, never resent: %r" %
              [(a["function"], a["outcome"]) for a in mine])
        errs = " ".join(log_errors(w2, mid))
        check(re.search(r"not signed by the pinned certificate", errs),
              "the log names the bank signature: %r" % errs[:600])
        check(not events(w2, "payment.submitted", msg=mid) and
              not events(w2, "payment.recovered.delivered", msg=mid),
              "nothing acknowledged on an answer from another signer")
        health = [b["health"] for b in w2.ctl_json("status")["banks"]]
        check(health and health[0] != "ok", "bank health says so: %r" %
              health)
        check(w2.stop() == 0, "clean stop")
        # the right certificate: recovery finds it, still one create
        w2.write_conf(DAEMON + bank_conf(bank, accounts=False))
        w2.start()
        wait_state(w2, pin_id, "acknowledged", 40)
        check([a["outcome"] for a in bank.of(serial)
               if a["function"] == "payment"] == ["created"],
              "still one create after the right pin")
        check(w2.stop() == 0, "clean stop")
        results.append("wrong bank_cert ok")

        if bank.info["framing"] == "http":
            tls_cases(base, bank, banks, worlds, results)
        print("cnbank security %s: %s; %.1f s" % (profile, ", ".join(results),
                                                 time.time() - t0))
    except SystemExit:
        for w in worlds[-1:]:
            print(w.tail(80))
        raise
    finally:
        for w in worlds:
            w.cleanup()
        for b in banks:
            b.stop()


def tls_cases(base, bank, banks, worlds, results):
    d = os.path.join(base, "bank")
    cases = [
        ("wronghost", {}, r"host name"),
        ("expired", {}, r"certificate has expired"),
        ("untrusted", {}, r"chain verification failed: unable to get "
                          r"local issuer"),
        ("server", {"client_cert": bank.info["client2"],
                    "client_key": bank.info["client2_key"]},
         r"refused our TLS client certificate \(TLS alert: unknown CA\)|"
         r"may have refused our client certificate"),
    ]
    for server, tls, words in cases:
        tag = server if not tls else "client2"
        b = Bank(d, "cmb", ["--settle-ms", "0"], name="sim-" + tag,
                 server=server)
        banks.append(b)
        w = make_world("cn-tls-" + tag, b, accounts=False, tls=tls)
        worlds.append(w)
        w.start()
        bid = "CN-TLS-%s-%s" % (tag.upper(), RUN)
        mid = one_payment(w, bid)
        wait_until(lambda: events(w, "payment.failed", msg=mid) or
                   events(w, "payment.deferred", msg=mid) or
                   events(w, "payment.outcome_unknown", msg=mid), 30,
                   "%s: the submit failed\n%s" % (tag, w.tail(20)))
        errs = " ".join(log_errors(w, mid))
        check(re.search(words, errs, re.I),
              "%s: the log names the reason (%s): %r" % (tag, words,
                                                         errs[:600]))
        # a server certificate h2hd refuses is TLS policy: failed, for a
        # person (cx_submit.c); so is the bank's TLS alert refusing our
        # certificate, but when the connection is reset before the alert
        # is read h2hd cannot tell and retries (deferred)
        st = state_of(w, bid)
        check(st == "failed" or
              (tls and st in ("deferred", "rendered", "submitting")),
              "%s: nothing acknowledged, state %s" % (tag, st))
        check(b.arrivals() == [], "%s: nothing reached the bank: %r" %
              (tag, b.arrivals()[:3]))
        check(w.stop() == 0, "clean stop")
        b.stop()
        results.append("TLS %s refused" % tag)

    # no client certificate at all: the configuration is refused
    w = make_world("cn-tls-nocert", bank, accounts=False,
                   tls={"client_cert": None, "client_key": None})
    worlds.append(w)
    r = subprocess.run([H2HD, "-c", w.conf, "--check-config"],
                       capture_output=True, text=True, timeout=30,
                       cwd=w.root)
    out = r.stdout + r.stderr
    check(r.returncode != 0 and "client_cert" in out,
          "--check-config refuses a bank without a client certificate "
          "(%d): %s" % (r.returncode, out[-500:]))
    results.append("no client cert refused by --check-config")


# --------------------------------------------------------------------------
# crash


def crash(base, profile):
    kills = int(os.environ.get("H2H_CN_KILLS", "30"))
    n_msgs = int(os.environ.get("H2H_CN_CRASH_MSGS", "60"))
    rnd = random.Random(int(os.environ.get("H2H_SEED", "4711")))
    # settle 300 ms: most payments are pending when created, so kills also
    # hit the pending inquiries and the second report
    bank = Bank(os.path.join(base, "bank"), profile, ["--settle-ms", "300"])
    w = None
    t0 = time.time()
    try:
        # statements and receipts too: a receipt must not be delivered
        # twice across kills either
        w = make_world("cn-crash-" + profile, bank, poll=200)
        status = os.path.join(w.out, "status")
        rdir = os.path.join(w.out, "receipts")
        msgs = []  # (business id, n transactions)
        kinds = {}  # business id -> payroll?

        def drop_next():
            i = len(msgs)
            bid = "CC-%s-%03d" % (RUN, i)
            payroll = i % 5 == 4
            n = 3 if payroll else 1 + i % 3
            rows = [("%s-%d" % (bid, k + 1), 100 + i * 10 + k,
                     "崩溃测试%d号公司" % k, PAYEES[k % len(PAYEES)],
                     "第%d批" % i) for k in range(n)]
            if payroll:
                data, ext = canonical_payroll(bid, rows), "xml"
            elif i % 2:
                data, ext = csv_file(bid, rows), "csv"
            else:
                data, ext = pain001(bid, rows), "xml"
            drop_atomic(w, "cc-%03d.%s" % (i, ext), data)
            msgs.append((bid, n))
            kinds[bid] = payroll

        def kill_on(change, timeout):
            deadline = time.time() + timeout
            while time.time() < deadline:
                if change():
                    return True
                time.sleep(0.0005)
            return False

        waves = [n_msgs * (k + 1) // (kills + 1) for k in range(kills + 1)]
        outbox = w.p("state/adapters/cn1/outbox")
        modes = ("random", "arrival", "outbox", "status", "arrival",
                 "receipt", "random")
        how = Counter()
        for k in range(kills):
            while len(msgs) < waves[k]:
                drop_next()
            w.start()
            mode = modes[k % len(modes)]
            if mode == "random":
                time.sleep(rnd.uniform(0.02, 0.6))
            elif mode == "arrival":
                size = bank.arrivals_size()
                if not kill_on(lambda: bank.arrivals_size() != size, 3):
                    mode = "timer"
            else:
                # a report made (adapter's outbox) or delivered (out/status)
                d = {"outbox": outbox, "status": status,
                     "receipt": rdir}[mode]
                before = set(files(d))
                if not kill_on(lambda: set(files(d)) - before,
                               6 if mode == "receipt" else 3):
                    mode = "timer"
                else:
                    time.sleep(rnd.choice((0, 0.0005, 0.002, 0.005)))
            how[mode] += 1
            check(w.proc.poll() is None,
                  "h2hd died by itself before kill %d:\n%s" % (k, w.tail(40)))
            w.kill9()
        while len(msgs) < n_msgs:
            drop_next()
        t_kills = time.time() - t0

        w.start()

        def settled():
            st = w.db_states()
            return st.get("acknowledged", 0) == n_msgs and \
                sum(st.values()) == n_msgs
        wait_until(settled, 120, "every message acknowledged (store: %r)" %
                   (w.db_states(),))

        # serials: H2H<h2hd message id>-<i>; h2hd's ids by business id
        _learn_ids(w)
        ids = {b: m for (r, b), m in _IDS.items() if r == w.root}
        check(sorted(ids) == sorted(b for b, _ in msgs),
              "h2hd has every message once: %d of %d" % (len(ids), n_msgs))
        # a payment per transaction, H2H<id>-<i>; a payroll batch H2H<id>
        serials = [s for b, n in msgs for s in (
            ["H2H" + ids[b]] if kinds[b] else
            ["H2H%s-%d" % (ids[b], i + 1) for i in range(n)])]
        bank.check_exactly_once(serials, "crash: ")
        created = sum(bank.created().values())
        check(created == len(serials), "%d payments created for %d sent" %
              (created, len(serials)))
        pays = bank.payments()
        check(sorted(pays) == sorted(serials),
              "the bank holds exactly our serials")

        # status reports: each made once and delivered once (pain.002
        # MsgIds <id>-S1, -S2, ... without a gap or a repeat): pending ones
        # while the bank had not settled everything (payroll items are
        # asked about after the batch is created), at most one more than
        # the message has transactions, then the last, ACSC for each
        def by_msg():
            by = {}
            for r in status_reports(w):
                by.setdefault(r["orgnl"], []).append(r)
            return by

        def finals():
            by = by_msg()
            for b, n in msgs:
                last = max(by.get(b, []), key=report_seq, default=None)
                if not last or last["txs"] != {
                        "%s-%d" % (b, k + 1): "ACSC" for k in range(n)}:
                    return None
            return by
        by = wait_until(finals, 30, "a final ACSC report for every message "
                        "in out/status")
        check(set(by) == set(b for b, _ in msgs),
              "reports only for our messages: %r" %
              sorted(set(by) - set(b for b, _ in msgs)))
        n_reps = sum(len(v) for v in by.values())
        for b, n in msgs:
            rs = sorted(by[b], key=report_seq)
            seqs = [report_seq(r) for r in rs]
            check(all(r["msg_id"].startswith(ids[b] + "-S") for r in rs) and
                  seqs == list(range(1, len(rs) + 1)),
                  "%s: reports %r, want S1..S%d once each" %
                  (b, [r["msg_id"] for r in rs], len(rs)))
            check(1 <= len(rs) <= n + 1,
                  "%s: %d reports %r" % (b, len(rs),
                                         [(r["file"], r["grp"]) for r in rs]))
            for r in rs[:-1]:
                check("PDNG" in r["txs"].values() and
                      set(r["txs"].values()) <= {"PDNG", "ACSC"},
                      "%s: an early report is pending: %r" % (b, r["txs"]))
        # receipts: one per entry booked yesterday or today, once each
        frm = (today() - datetime.timedelta(days=1)).isoformat()
        led = ledger_view(bank, frm)["led"]

        def rids():
            out = {}
            for n in files(rdir):
                m = re.search(r"_(R[0-9]+)\.pdf", n)
                out.setdefault(m.group(1) if m else n, []).append(n)
            return out
        wait_until(lambda: len(rids()) >= len(led), 60,
                   "a receipt for each of %d entries: %d" %
                   (len(led), len(rids())))
        got = rids()
        check(sorted(got) == sorted(e["receipt_id"] for e in led),
              "receipts for exactly the ledger's entries: %d for %d" %
              (len(got), len(led)))
        twice = {k: v for k, v in got.items() if len(v) > 1}
        check(not twice, "receipts delivered twice: %r" %
              sorted(twice.items())[:3])
        held = w.log_events("payment.held")
        failed = w.log_events("payment.failed")
        check(not held and not failed,
              "messages needed a person: %r" % (held + failed)[:3])
        check(w.stop() == 0, "clean stop after the kills")
        w.start()  # start-up runs the store's consistency check
        wait_until(settled, 30, "still all acknowledged")
        check(w.stop() == 0, "clean stop after the restart")
        check(len(status_reports(w)) == n_reps, "no report delivered again")
        check(sum(len(v) for v in rids().values()) == len(led),
              "no receipt delivered again")
        bank.check_exactly_once(serials, "crash (after restart): ")
        outcomes = Counter(a["outcome"] for a in bank.arrivals())
        check(set(outcomes) <= {"created", "replayed", "ok", "not_found"},
              "only creates, resends of the same content and inquiries: %r"
              % dict(outcomes))
        rec = {e: len(w.log_events(e)) for e in (
            "payment.recovering", "payment.recovered.delivered",
            "payment.recovered.not_sent", "payment.outcome_unknown")}
        print("cnbank crash %s: %d kills (%s), %d messages, %d payments and "
              "payroll batches each created once (arrivals %r), recovery %r; "
              "kills %.1f s, total %.1f s" % (
                  profile, kills, dict(how), n_msgs, len(serials),
                          dict(outcomes), rec, t_kills, time.time() - t0))
        check(outcomes["replayed"] + rec["payment.recovered.delivered"] +
              rec["payment.recovered.not_sent"] > 0,
              "no kill left a payment in doubt: recovery untested")
    except SystemExit:
        if w is not None:
            print(w.tail(60))
        raise
    finally:
        if w is not None:
            w.cleanup()
        bank.stop()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("flow", "security",
                                                 "crash") or \
            sys.argv[2] not in ("cmb", "icbc"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode, profile = sys.argv[1], sys.argv[2]
    base = tempfile.mkdtemp(prefix="h2h-cn-%s-%s-" % (mode, profile))
    try:
        {"flow": flow, "security": security, "crash": crash}[mode](base,
                                                                  profile)
        print("PASS test_cnbank_e2e %s %s" % (mode, profile))
    finally:
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
