"""The bill pool and supply-chain finance through a Chinese bank's
direct-connect front end, end to end: h2hd's cnbank_xml adapter against
tests/sims/bank_cn.py (which plays the business with the JSON bank's desk),
both configured from one shipped profile (PROFILE.md "Bill pool and
supply-chain finance").

    test_cnbank_bills.py PROFILE        PROFILE cmb|icbc

Checked on real outcomes (out/bills, out/scf, the simulator's state,
ledger and arrival log, h2hctl bills / scf, h2hd's log):
  bills   issue (the bank numbers the draft); present_acceptance answered
          pending, the counterparty signs later, a bills round finds it
          accepted (a second result for the same ReqId); withdraw (撤票);
          a draft endorsed to us arrives as a <BillNotice>, treasury drops
          sign, the piece is held; a partial endorsement (the remainder
          stays held); a pledge (the pool figures the bank reports reach
          h2hctl bills); release; discount (the proceeds credited in the
          bank's ledger under our serial); present_payment of a draft due
          today after the bank's date moved: dishonoured, then recourse
          settled (credited); a maturity alert in the log; refusals with
          the bank's codes reject their messages (BIL019, BIL021);
          present_receipt (accepted -> pending_receipt -> delivered to
          the payee, no money moves); a notice refused with a reason
          (refused at the bank and in the book); pool_overview and
          drafts inquiries (held, maturity window) answered with the
          bank's figures and pieces;
  scf     a receivable financing through review, approval and
          disbursement (status results, the ledger credit), a
          cancellation refused after disbursement, repayment (a
          repayment notice result); a cancellation accepted before
          disbursement; reverse factoring (the sellers named to the bank,
          nothing booked to us); a tsin.001 request answered in tsin.002
          (no <ScfResult>), h2hctl scf with the bank's loan reference;
  every document in out/bills and out/scf validates against bills.xsd,
  scf.xsd or tsin.002.001.01.xsd;
  crash   kill -9 right after the bank recorded a request (its arrival
          log tells): after the restart exactly one arrival created it and
          exactly one final result is in out/bills.
"""
import datetime
import json
import os
import sqlite3
import sys
import tempfile
import time

from lxml import etree

from h2hlib import World, check, drop_atomic, fail, wait_until

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, os.path.join(SRC, "tests", "sims"))
import cn_world  # noqa: E402
import test_cnbank_e2e as e2e  # noqa: E402

BNS = "urn:h2hd:bills:1"
SNS = "urn:h2hd:scf:1"
TNS = "urn:iso:std:iso:20022:tech:xsd:tsin.002.001.01"
CST = datetime.timezone(datetime.timedelta(hours=8))
OURS = cn_world.ACCOUNTS[0]
US_BANK = "308584000013"  # bank_cn.py's --bank-code default: "us"
SUPPLIER = ("岭南配件有限公司", "330000000000000003", "104100000045")
DRAWER = ("西部重工集团有限公司", "440000000000000004", "105100000017")
ACCEPTOR_BANK = ("中国工商银行深圳分行", None, "102584000002")
THIS_BANK = ("H2HD模拟银行", None, US_BANK)  # the bank itself
# voucher parties by member id (the adapter's setting scf_parties)
US_ID = "深圳前海示例科技有限公司"  # as the bank lists us
T1 = ("91441900MA51XKQ67B", "东莞市恒达五金制品有限公司", "660000000000000006",
      "105100000017")
T3 = ("91440605MA4WAT9E3H", "佛山市永盛塑胶有限公司", "770000000000000007",
      "104100000045")
RUN = "%04X" % (int(time.time() * 1000) % 0x10000)


def today():
    return datetime.datetime.now(CST).date()


def day(n):
    return (today() + datetime.timedelta(days=n)).isoformat()


def party(tag, p):
    nm, acct, bk = p
    return "<%s><Nm>%s</Nm>%s<BkCd>%s</BkCd></%s>" % (
        tag, nm, "<Acct><OthrId>%s</OthrId></Acct>" % acct if acct else "",
        bk, tag)


def amt(tag, minor):
    return '<%s Ccy="CNY">%d.%02d</%s>' % (tag, minor // 100, minor % 100,
                                            tag)


def bill_req(op, req, body=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<BillRequest xmlns="%s"><Op>%s</Op><ReqId>%s</ReqId>%s'
            "</BillRequest>\n" % (BNS, op, req, body)).encode()


def sjson(p):
    nm, acct, bk = p
    return {"name": nm, "account": acct, "bank_code": bk}


# --------------------------------------------------------------------------
# h2hd


class Run:
    def __init__(self, profile):
        self.profile = profile
        self.dir = tempfile.mkdtemp(prefix="h2h-cnbills-%s-" % profile)
        self.bank = e2e.Bank(self.dir, profile, ["--settle-ms", "300"])
        conf = e2e.DAEMON + e2e.bank_conf(
            self.bank, poll=300, statement_interval=3600,
            pending_interval=1, receipts=False)
        parties = ", ".join('{ id = "%s"; name = "%s"; account = "%s"; '
                            'bank_code = "%s"; }' % p for p in (T1, T3))
        conf = conf.replace("connect_timeout = 5;",
                            "bills_interval = 1; scf_parties = ( %s );\n"
                            "      connect_timeout = 5;" % parties)
        conf = conf.replace('output_format = "camt.053"; ', "")
        # every document treasury gets is checked against its schema
        # once (out/scf holds tsin.002 renditions beside <ScfResult>s)
        self.schemas = {k: etree.XMLSchema(etree.parse(os.path.join(
            SRC, "formats", "schemas", f))) for k, f in (
                ("bills", "bills.xsd"), ("scf", "scf.xsd"),
                ("tsin", "tsin.002.001.01.xsd"))}
        self.valid = {}     # path -> root element
        self.conf = conf
        self.w = World("cnbills-" + profile)
        self.w.write_conf(conf)
        self.starts = 0
        self.start()

    def start(self):
        try:
            os.unlink(self.w.sock)
        except FileNotFoundError:
            pass
        self.w.start()
        self.starts += 1
        wait_until(lambda: len(self.w.log_events("daemon.started")) ==
                   self.starts, 20, "h2hd start %d" % self.starts)

    def admin(self, method, path, obj=None):
        return self.bank.admin(method, path, obj)

    def drop(self, name, data):
        drop_atomic(self.w, name, data)
        lines = wait_until(lambda: [
            x for x in self.w.log_events("payment.accepted")
            if " file=%s " % name in x + " "], 20,
            "%s accepted by h2hd\n%s" % (name, self.w.tail(20)))
        for f in lines[0].split():
            if f.startswith("msg="):
                return f[4:]
        fail("no msg= in %r" % lines[0])

    def show(self, msg):
        return self.w.ctl_json("show", msg)["message"]

    def wait_state(self, msg, state, timeout=20):
        return wait_until(
            lambda: self.show(msg)["state"] == state and self.show(msg),
            timeout, "message %s to be %s (is %s)\n%s" % (
                msg, state, self.show(msg)["state"], self.w.tail(15)))

    def docs(self, sub, root=None):
        """Every document in out/<sub>: (name, root tag, element)."""
        d = os.path.join(self.w.out, sub)
        out = []
        for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if n.startswith("."):
                continue
            el = self.valid_doc(sub, os.path.join(d, n))
            tag = etree.QName(el).localname
            if root is None or tag == root:
                out.append((n, tag, el))
        return out

    def valid_doc(self, sub, path):
        if path in self.valid:
            return self.valid[path]
        doc = etree.parse(path, etree.XMLParser(resolve_entities=False,
                                                no_network=True))
        sch = self.schemas["tsin" if path.endswith(".tsin002.xml")
                           else sub]
        if not sch.validate(doc):
            fail("%s does not validate against its schema: %s\n%s" % (
                path, sch.error_log, open(path, encoding="utf-8").read()))
        self.valid[path] = doc.getroot()
        return self.valid[path]

    def tsin002(self, req):
        """The tsin.002 reports in out/scf about request req (the
        tsin.001's GrpId), oldest name first."""
        return [(n, el) for n, tag, el in self.docs("scf", "Document")
                if el.findtext("{%s}InvcFincgReqSts/{%s}OrgnlReqInfAndSts/"
                               "{%s}Id" % (TNS, TNS, TNS)) == req]

    def results(self, req, sub="bills"):
        """The results in out/<sub> for ReqId req, oldest first."""
        out = []
        for n, tag, el in self.docs(sub):
            ids = el.xpath(".//*[local-name()='ReqId' or "
                           "local-name()='OrgnlReqId']/text()")
            if req in ids:
                out.append((os.path.getmtime(os.path.join(self.w.out, sub,
                                                          n)), n, el))
        return [(n, el) for _, n, el in sorted(out)]

    def wait_results(self, req, n, sub="bills", timeout=20):
        return wait_until(lambda: len(self.results(req, sub)) >= n and
                          self.results(req, sub), timeout,
                          "%d result(s) for %s in out/%s (have %d)\n%s" % (
                              n, req, sub, len(self.results(req, sub)),
                              self.w.tail(15)))

    def serial(self, msg):
        return "H2H" + msg

    def created(self, serial):
        return [a for a in self.bank.arrivals()
                if a["serial"] == serial and a["outcome"] == "created"]


def x(el, name):
    r = el.xpath(".//*[local-name()='%s']/text()" % name)
    return r[0] if r else None


def outcome(el):
    return x(el, "Outcm")


def drafts_of(el):
    return [(x(d, "Nb"), x(d, "Sts"), int(x(d, "Fr") or 0),
             int(x(d, "To") or 0))
            for d in el.xpath(".//*[local-name()='Drft']")]


def piece(r, number, fr):
    for p in r.admin("GET", "/admin/bills")["pieces"]:
        if p["number"] == number and p["sub_range"]["from"] == fr:
            return p
    return None


def counterparty(r, number, fr, to, action="sign"):
    r.admin("POST", "/admin/bills/counterparty",
            {"number": number, "sub_range": {"from": fr, "to": to},
             "action": action})


def present(r, kind, minor, maturity, issue=None, frm=SUPPLIER):
    """A draft endorsed (or otherwise presented) to us: the notice."""
    d = {"kind": "AC01",
         "amount": {"amount": "%d.%02d" % (minor // 100, minor % 100),
                    "currency": "CNY"},
         "issue_date": issue or day(0), "maturity_date": maturity,
         "drawer": sjson(DRAWER), "acceptor": sjson(ACCEPTOR_BANK),
         "payee": sjson(SUPPLIER), "divisible": True}
    n = r.admin("POST", "/admin/bills/present",
                {"kind": kind, "to_account": OURS, "from": sjson(frm),
                 "draft": d})["notice"]
    return n["notice_id"], n["number"]


def wait_notice(r, nid):
    def find():
        for n, tag, el in r.docs("bills", "BillNotice"):
            if x(el, "NtceId") == nid:
                return el
        return None
    return wait_until(find, 20, "notice %s in out/bills\n%s" % (
        nid, r.w.tail(15)))


def sign_notice(r, tag, nid, number):
    req = "SG-%s-%s" % (RUN, tag)
    msg = r.drop("sign-%s.xml" % tag, bill_req(
        "sign", req, "<DrftNb>%s</DrftNb><NtceId>%s</NtceId>" % (number,
                                                                  nid)))
    r.wait_state(msg, "acknowledged")
    res = r.wait_results(req, 1)
    check(outcome(res[-1][1]) == "accepted", "sign %s: %s" % (
        tag, etree.tostring(res[-1][1])))
    return msg


def ledger_by_ref(r, ref):
    acc = r.bank.ledger_account(OURS)
    return [e for e in acc.get("entries", []) if e.get("bank_ref") == ref or
            ref in (e.get("remittance") or "") or e.get("serial") == ref]


def book_row(r, number, fr, to):
    """The book's status of one piece (also for pieces no longer ours)."""
    con = sqlite3.connect(r.w.p("state/h2hd.db"), timeout=10)
    try:
        row = con.execute("select status from draft where bank = 'cn1' and "
                          "number = ? and sub_from = ? and sub_to = ?",
                          (number, fr, to)).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def book_pieces(r, number):
    return sorted((d["sub_from"], d["sub_to"], d["status"])
                  for d in r.w.ctl_json("bills", "--days", "400")["maturing"]
                  if d["number"] == number)


# --------------------------------------------------------------------------
# the bill pool


def bills(r):
    # 1. issue: the bank numbers a bank acceptance payable to a supplier
    req = "IS-%s-1" % RUN
    msg = r.drop("issue.xml", bill_req("issue", req, (
        "<Drft><Tp>AC01</Tp>%s<IsseDt>%s</IsseDt><MtrtyDt>%s</MtrtyDt>"
        "%s%s%s<Dvsbl>true</Dvsbl></Drft>") % (
            amt("Amt", 1000000), day(0), day(90),
            party("Drwr", ("深圳前海示例科技有限公司", OURS, US_BANK)),
            party("Accptr", ACCEPTOR_BANK), party("Pyee", SUPPLIER))))
    r.wait_state(msg, "acknowledged")
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "accepted", "issue accepted")
    (d0, st, fr, to), = drafts_of(el)
    check(len(d0) == 30 and st == "registered" and (fr, to) == (1, 1000000),
          "the issued draft: %r" % ((d0, st, fr, to),))
    check(len(r.created(r.serial(msg))) == 1, "issue created once")

    # 2. present_acceptance: pending until the acceptor signs
    req = "PA-%s-1" % RUN
    msg = r.drop("pacc.xml", bill_req("present_acceptance", req,
                                      "<DrftNb>%s</DrftNb>" % d0))
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "pending", "present_acceptance pending first")
    time.sleep(1.5)
    check(r.show(msg)["state"] == "submitted",
          "a pending answer leaves the message submitted")
    check(len(r.results(req)) == 1, "no second result while pending")
    counterparty(r, d0, 1, 1000000)
    res = r.wait_results(req, 2)
    check(outcome(res[1][1]) == "accepted" and
          drafts_of(res[1][1])[0][1] == "accepted",
          "the bills round finds the acceptance signed")
    r.wait_state(msg, "acknowledged")
    time.sleep(1.5)
    check(len(r.results(req)) == 2, "no third result once final")
    check(len(r.created(r.serial(msg))) == 1, "sent once")

    # 3. withdraw (撤票) of the accepted draft
    req = "WD-%s-1" % RUN
    msg = r.drop("withdraw.xml", bill_req("withdraw", req,
                                          "<DrftNb>%s</DrftNb>" % d0))
    r.wait_state(msg, "acknowledged")
    (_, el), = r.wait_results(req, 1)
    check(drafts_of(el)[0][1] == "withdrawn", "withdrawn")
    check(piece(r, d0, 1)["status"] == "withdrawn", "the bank's view")

    # 3b. present_receipt: accepted -> pending_receipt -> delivered once
    # the payee signs (the draft leaves us; no money moves)
    req = "IS-%s-2" % RUN
    msg = r.drop("issue-2.xml", bill_req("issue", req, (
        "<Drft><Tp>AC01</Tp>%s<IsseDt>%s</IsseDt><MtrtyDt>%s</MtrtyDt>"
        "%s%s%s</Drft>") % (
            amt("Amt", 400000), day(0), day(120),
            party("Drwr", ("深圳前海示例科技有限公司", OURS, US_BANK)),
            party("Accptr", ACCEPTOR_BANK), party("Pyee", SUPPLIER))))
    r.wait_state(msg, "acknowledged")
    (_, el), = r.wait_results(req, 1)
    (dr, st, _, _), = drafts_of(el)
    check(st == "registered", "the second issue: %r" % (drafts_of(el),))
    req = "PA-%s-2" % RUN
    msg = r.drop("pacc-2.xml", bill_req("present_acceptance", req,
                                        "<DrftNb>%s</DrftNb>" % dr))
    r.wait_results(req, 1)
    counterparty(r, dr, 1, 400000)
    r.wait_results(req, 2)
    r.wait_state(msg, "acknowledged")
    check(piece(r, dr, 1)["status"] == "accepted", "accepted at the bank")
    entries0 = len(r.bank.ledger_account(OURS).get("entries", []))
    req = "PR-%s-1" % RUN
    msg = r.drop("preceipt.xml", bill_req("present_receipt", req,
                                          "<DrftNb>%s</DrftNb>" % dr))
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "pending" and
          drafts_of(el)[0][:2] == (dr, "pending_receipt"),
          "present_receipt pending: %s" % etree.tostring(el))
    check(piece(r, dr, 1)["status"] == "pending_receipt",
          "the bank awaits the payee: %r" % piece(r, dr, 1)["status"])
    check(r.show(msg)["state"] == "submitted", "submitted while pending")
    counterparty(r, dr, 1, 400000)
    res = r.wait_results(req, 2)
    check(outcome(res[1][1]) == "accepted" and
          drafts_of(res[1][1])[0][:2] == (dr, "delivered"),
          "the payee signed: %s" % etree.tostring(res[1][1]))
    r.wait_state(msg, "acknowledged")
    check(piece(r, dr, 1)["status"] == "delivered" and
          piece(r, dr, 1)["holder"]["account"] == SUPPLIER[1],
          "delivered to the payee at the bank: %r" % piece(r, dr, 1))
    wait_until(lambda: book_row(r, dr, 1, 400000) == "delivered", 20,
               "the book: %s delivered (%r)" % (dr, book_row(r, dr, 1,
                                                               400000)))
    check(len(r.created(r.serial(msg))) == 1, "present_receipt sent once")
    check(len(r.bank.ledger_account(OURS).get("entries", [])) == entries0,
          "a receipt moves no money")
    time.sleep(1.5)
    check(len(r.results(req)) == 2, "no third result once delivered")

    # 4. a draft endorsed to us: notice, sign, held
    nid, d1 = present(r, "endorse", 1000000, day(60))
    el = wait_notice(r, nid)
    check(x(el, "Nb") == d1 and x(el, "Op") == "endorse", "the notice")
    sign_notice(r, "d1", nid, d1)
    check(piece(r, d1, 1)["status"] == "held", "held at the bank")
    wait_until(lambda: book_pieces(r, d1) == [(1, 1000000, "held")], 20,
               "the book holds d1 (%r)" % book_pieces(r, d1))
    time.sleep(1.5)
    check(len([1 for _, _, e in r.docs("bills", "BillNotice")
               if x(e, "NtceId") == nid]) == 1,
          "the notice is delivered once")

    # 4b. a draft endorsed to us that treasury refuses (with a reason)
    nid5, d5 = present(r, "endorse", 250000, day(50))
    wait_notice(r, nid5)
    req = "RJ-%s-1" % RUN
    msg = r.drop("refuse.xml", bill_req(
        "refuse", req, "<DrftNb>%s</DrftNb><NtceId>%s</NtceId>"
        "<Rsn>与合同不符, 拒绝签收</Rsn>" % (d5, nid5)))
    r.wait_state(msg, "acknowledged")
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "accepted" and x(el, "Op") == "refuse",
          "the refusal accepted: %s" % etree.tostring(el))
    check(len(r.created(r.serial(msg))) == 1, "the refusal sent once")
    st = {n["notice_id"]: n["status"]
          for n in r.admin("GET", "/admin/bills")["notices"]}
    check(st.get(nid5) == "refused" and
          piece(r, d5, 1)["status"] == "refused",
          "refused at the bank: notice %r, piece %r" % (
              st.get(nid5), piece(r, d5, 1)["status"]))
    check((piece(r, d5, 1)["holder"] or {}).get("account") != OURS,
          "the refused draft is not ours: %r" % piece(r, d5, 1)["holder"])
    wait_until(lambda: book_row(r, d5, 1, 250000) == "refused", 20,
               "the book: %s refused (%r)" % (d5, book_row(r, d5, 1,
                                                           250000)))
    check(book_pieces(r, d5) == [], "h2hctl bills does not count it: %r" %
          book_pieces(r, d5))

    # 5. a partial endorsement: 3,000.00 of 10,000.00
    req = "EN-%s-1" % RUN
    msg = r.drop("endorse.xml", bill_req("endorse", req, (
        "<DrftNb>%s</DrftNb><SubRg><Fr>1</Fr><To>300000</To></SubRg>%s%s")
        % (d1, amt("Amt", 300000), party("Cpty", SUPPLIER))))
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "pending", "endorse pending")
    check(sorted(drafts_of(el)) == sorted([
        (d1, "pending_endorsement", 1, 300000),
        (d1, "held", 300001, 1000000)]), "piece and remainder: %r" %
        drafts_of(el))
    counterparty(r, d1, 1, 300000)
    res = r.wait_results(req, 2)
    check(outcome(res[1][1]) == "accepted", "endorse signed")
    r.wait_state(msg, "acknowledged")
    check(piece(r, d1, 300001)["status"] == "held", "the rest is held")

    # 6. pledge the rest; the pool figures follow
    req = "PL-%s-1" % RUN
    pool = r.admin("GET", "/admin/bills")["pool"]
    msg = r.drop("pledge.xml", bill_req("pledge", req, (
        "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To></SubRg>"
        "<PoolId>%s</PoolId>") % (d1, pool["pool_id"])))
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "pending", "pledge pending")
    counterparty(r, d1, 300001, 1000000)
    r.wait_results(req, 2)
    r.wait_state(msg, "acknowledged")
    check(piece(r, d1, 300001)["status"] == "pledged", "pledged")

    def pool_seen():
        for n, tag, el in r.docs("bills", "BillResult"):
            if x(el, "Op") == "pool_overview" and x(el, "PldgdNb") == "1" \
                    and x(el, "PldgdAmt") == "7000.00":
                return el
        return None
    wait_until(pool_seen, 20, "a pool overview with the pledge")
    # treasury asks for the pool's figures (pool_overview): the bank's
    req = "PO-%s-1" % RUN
    msg = r.drop("pool.xml", bill_req("pool_overview", req))
    r.wait_state(msg, "acknowledged")
    (_, el), = r.wait_results(req, 1)
    bp = r.admin("GET", "/admin/bills")["pool"]
    got = {k: x(el, k) for k in ("PoolId", "AsOf", "PldgdNb", "PldgdAmt",
                                 "Dpst", "QtaTtl", "QtaUsd", "QtaAvlbl")}
    want = {"PoolId": bp["pool_id"], "AsOf": bp["as_of"],
            "PldgdNb": str(bp["pledged_count"]),
            "PldgdAmt": bp["pledged_total"]["amount"],
            "Dpst": bp["deposit"]["amount"],
            "QtaTtl": bp["quota_total"]["amount"],
            "QtaUsd": bp["quota_used"]["amount"],
            "QtaAvlbl": bp["quota_available"]["amount"]}
    check(outcome(el) == "accepted" and got == want and
          got["PldgdNb"] == "1" and got["PldgdAmt"] == "7000.00" and
          got["AsOf"] == day(0),
          "pool_overview: %r, the bank %r" % (got, want))
    shown = r.w.ctl_json("bills", "--days", "400")
    check("7000" in json.dumps(shown), "h2hctl bills shows the pool: %s" %
          json.dumps(shown)[:600])

    # 7. release
    req = "RL-%s-1" % RUN
    msg = r.drop("release.xml", bill_req("release", req, (
        "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To></SubRg>"
        "<PoolId>%s</PoolId>") % (d1, pool["pool_id"])))
    r.wait_results(req, 1)
    counterparty(r, d1, 300001, 1000000)
    r.wait_results(req, 2)
    r.wait_state(msg, "acknowledged")
    check(piece(r, d1, 300001)["status"] == "held", "released: held")

    # 8. discount: the proceeds are credited under our serial
    req = "DC-%s-1" % RUN
    msg = r.drop("discount.xml", bill_req("discount", req, (
        "<DrftNb>%s</DrftNb><SubRg><Fr>300001</Fr><To>1000000</To></SubRg>"
        "%s<Rate>2.35</Rate><PrcdsAcct><OthrId>%s</OthrId></PrcdsAcct>") % (
            d1, party("Cpty", THIS_BANK), OURS)))
    r.wait_results(req, 1)
    counterparty(r, d1, 300001, 1000000)
    res = r.wait_results(req, 2)
    check(outcome(res[1][1]) == "accepted", "discounted")
    r.wait_state(msg, "acknowledged")
    check(piece(r, d1, 300001)["status"] == "discounted", "the bank's")
    credits = ledger_by_ref(r, r.serial(msg))
    check(len(credits) == 1 and credits[0]["cd"] == "C" and
          0 < credits[0]["amount_fen"] < 700000,
          "one discount credit below the face amount: %r" % credits)

    # 9. due today: the bank's date runs from the issue to maturity
    r.admin("POST", "/admin/today", {"day": day(-60)})
    nid, d2 = present(r, "endorse", 500000, day(0), issue=day(-60))
    r.admin("POST", "/admin/today", {})
    wait_notice(r, nid)
    sign_notice(r, "d2", nid, d2)
    wait_until(lambda: [1 for x_ in r.w.log_events("bill.maturing")
                        if d2 in x_], 20, "a maturity alert for %s" % d2)
    req = "PP-%s-1" % RUN
    msg = r.drop("ppay.xml", bill_req("present_payment", req,
                                      "<DrftNb>%s</DrftNb>" % d2))
    (_, el), = r.wait_results(req, 1)
    check(outcome(el) == "pending", "present_payment pending")
    counterparty(r, d2, 1, 500000, "dishonour")
    res = r.wait_results(req, 2)
    check(outcome(res[1][1]) == "rejected", "dishonoured: rejected")
    r.wait_state(msg, "rejected")
    check(piece(r, d2, 1)["status"] == "dishonoured", "dishonoured")
    # the rejection's piece is settled (dishonoured): the book takes it
    # from the result itself, in the delivery's transaction
    check(book_row(r, d2, 1, 500000) == "dishonoured",
          "the book learns the dishonour from the result (%r)" %
          book_row(r, d2, 1, 500000))
    # treasury asks the bank for the draft's history (draft_detail)
    req = "DD-%s-1" % RUN
    msg = r.drop("detail.xml", bill_req("draft_detail", req,
                                        "<DrftNb>%s</DrftNb>" % d2))
    r.wait_state(msg, "acknowledged")
    (_, el), = r.wait_results(req, 1)
    check(drafts_of(el) == [(d2, "dishonoured", 1, 500000)],
          "draft_detail: %r" % drafts_of(el))
    check(len(el.xpath(".//*[local-name()='Evt']")) >= 3,
          "draft_detail carries the history: %s" % etree.tostring(el)[:800])
    req = "RC-%s-1" % RUN
    msg = r.drop("recourse.xml", bill_req("recourse", req, (
        "<DrftNb>%s</DrftNb>%s%s<Rsn>到期拒付, 追索票款</Rsn>") % (
            d2, amt("Amt", 500000), party("Cpty", DRAWER))))
    r.wait_results(req, 1)
    counterparty(r, d2, 1, 500000)
    res = r.wait_results(req, 2)
    check(outcome(res[1][1]) == "accepted", "recourse settled")
    r.wait_state(msg, "acknowledged")
    credits = ledger_by_ref(r, r.serial(msg))
    check(len(credits) == 1 and credits[0]["amount_fen"] == 500000,
          "the claim credited: %r" % credits)

    # 10. refusals with the bank's codes
    for tag, body, code in (
            ("payee-us", (
                "<Drft><Tp>AC01</Tp>%s<IsseDt>%s</IsseDt><MtrtyDt>%s"
                "</MtrtyDt>%s%s%s</Drft>") % (
                amt("Amt", 100000), day(0), day(30),
                party("Drwr", ("深圳前海示例科技有限公司", OURS, US_BANK)),
                party("Accptr", ACCEPTOR_BANK),
                party("Pyee", ("深圳前海示例科技有限公司", OURS, US_BANK))),
             "BIL019"),):
        req = "RF-%s-%s" % (RUN, tag)
        msg = r.drop("refused-%s.xml" % tag, bill_req("issue", req, body))
        r.wait_state(msg, "rejected")
        (_, el), = r.wait_results(req, 1)
        check(outcome(el) == "rejected" and x(el, "BkRtrCd") == code,
              "refused with %s: %s" % (code, etree.tostring(el)))
    # a pool the bank does not know
    nid, d3 = present(r, "endorse", 200000, day(45))
    wait_notice(r, nid)
    sign_notice(r, "d3", nid, d3)
    req = "RF-%s-pool" % RUN
    msg = r.drop("refused-pool.xml", bill_req(
        "pledge", req, "<DrftNb>%s</DrftNb><PoolId>NOPOOL</PoolId>" % d3))
    r.wait_state(msg, "rejected")
    (_, el), = r.wait_results(req, 1)
    check(x(el, "BkRtrCd") == "BIL021", "BIL021: %s" % etree.tostring(el))

    # 11. drafts inquiries: held ones maturing in a window, all held ones
    nid, d6 = present(r, "endorse", 150000, day(100))
    wait_notice(r, nid)
    sign_notice(r, "d6", nid, d6)

    def bank_held(lo=None, hi=None):
        return sorted((p["number"], p["status"], p["sub_range"]["from"],
                       p["sub_range"]["to"])
                      for p in r.admin("GET", "/admin/bills")["pieces"]
                      if p["status"] == "held" and
                      (lo is None or p["maturity_date"] >= lo) and
                      (hi is None or p["maturity_date"] <= hi))
    for tag, fl, lo, hi, want in (
            ("win", "<MtrtyFr>%s</MtrtyFr><MtrtyTo>%s</MtrtyTo>" % (
                day(30), day(60)), day(30), day(60), [d3]),
            ("all", "", None, None, [d3, d6])):
        req = "DQ-%s-%s" % (RUN, tag)
        msg = r.drop("drafts-%s.xml" % tag, bill_req(
            "drafts", req, "<Fltrs><Sts>held</Sts>%s</Fltrs>" % fl))
        r.wait_state(msg, "acknowledged")
        (_, el), = r.wait_results(req, 1)
        got = sorted(drafts_of(el))
        check(outcome(el) == "accepted" and got == bank_held(lo, hi) and
              sorted({g[0] for g in got}) == sorted(want),
              "drafts %s: %r, the bank holds %r" % (tag, got,
                                                    bank_held(lo, hi)))
    return d3


# --------------------------------------------------------------------------
# supply-chain finance


def scf_req(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ScfRequest xmlns="%s">%s</ScfRequest>\n' % (SNS, body)).encode()


def scf_status(el):
    return x(el, "Sts")


def fin_of(r, serial):
    for f in r.admin("GET", "/admin/scf")["financing"]:
        if f["request_id"] == serial:
            return f
    fail("the bank has no financing %s" % serial)


def scf(r):
    req = "FN-%s-1" % RUN
    body = (
        "<Fincg><ReqId>%s</ReqId><CreDtTm>%sT09:30:00+08:00</CreDtTm>"
        "<Kind>receivable</Kind><Ccy>CNY</Ccy>%s"
        "<Rqstr><Nm>深圳前海示例科技有限公司</Nm>"
        "<OrgId>91440300MA5EXAMPLE</OrgId></Rqstr>"
        "<CdtAcct><OthrId>%s</OthrId></CdtAcct>"
        "<FrstAgt><ClrSysId>CNAPS</ClrSysId><ClrSysMmbId>%s</ClrSysMmbId>"
        "</FrstAgt>"
        "<Invcs><Invc><Nb>INV%s1</Nb><IsseDt>%s</IsseDt><DueDt>%s</DueDt>"
        "%s<Buyr><Nm>华南精密制造集团</Nm><OrgId>91440300MA5G8T1X2K</OrgId>"
        "</Buyr></Invc>"
        "<Invc><Nb>INV%s2</Nb><IsseDt>%s</IsseDt><DueDt>%s</DueDt>"
        "%s<Buyr><Nm>华南精密制造集团</Nm></Buyr></Invc></Invcs></Fincg>") % (
        req, day(0), amt("ReqdAmt", 8000000), OURS, US_BANK, RUN, day(-10),
        day(80), amt("Amt", 6000000), RUN, day(-5), day(85),
        amt("Amt", 4000000))
    msg = r.drop("fincg.xml", scf_req(body))
    (_, el), = r.wait_results(req, 1, "scf")
    check(r.show(msg)["state"] == "submitted", "submitted: the bank decides")
    check(scf_status(el) == "submitted", "submitted: %s" %
          etree.tostring(el))
    serial = r.serial(msg)
    n = 1
    for dec, want in (("review", "under_review"), ("approve", "approved"),
                      ("disburse", "financed")):
        r.admin("POST", "/admin/scf/review", {"request_id": serial,
                                              "decision": dec})
        n += 1
        res = r.wait_results(req, n, "scf")
        check(scf_status(res[-1][1]) == want, "%s -> %s: %s" % (
            dec, want, etree.tostring(res[-1][1])))
    r.wait_state(msg, "acknowledged")
    fin = fin_of(r, serial)
    loan = fin.get("loan_ref")
    credits = ledger_by_ref(r, loan) if loan else []
    check(len(credits) == 1 and credits[0]["cd"] == "C",
          "the disbursement credited: %r" % credits)
    # a cancellation after disbursement is refused
    # (h2hd's book knows it was disbursed: refused at the drop folder,
    # nothing reaches the bank)
    creq = "CX-%s-1" % RUN
    drop_atomic(r.w, "cancel.xml", scf_req(
        "<Cxl><CxlId>%s</CxlId><OrgnlReqId>%s</OrgnlReqId><Rsn>不再需要</Rsn>"
        "</Cxl>" % (creq, req)))
    why = os.path.join(r.w.rejected, "cancel.xml.reason")
    wait_until(lambda: os.path.exists(why), 20, "the cancellation refused")
    with open(why, encoding="utf-8") as f:
        check("disbursed" in f.read(), "refused as disbursed")
    check(not [a for a in r.bank.arrivals()
               if a["function"] == "scf_cancel"], "no cancellation sent")
    check(fin_of(r, serial)["status"] == "financed",
          "still financed at the bank")
    # repayment
    r.admin("POST", "/admin/scf/review", {"request_id": serial,
                                          "decision": "repay"})

    def repaid():
        return [el for _, el in r.results(req, "scf")
                if etree.QName(el[0]).localname == "RpmtNtce"]
    wait_until(repaid, 20, "a repayment notice\n%s" % r.w.tail(10))
    res = r.results(req, "scf")
    check(any(scf_status(e) == "repaid" for _, e in res), "repaid status")
    shown = r.w.ctl_json("scf")
    check(req in json.dumps(shown), "h2hctl scf knows %s" % req)


SELLERS = (("东莞市恒达五金制品有限公司", "660000000000000006"),
           ("佛山市永盛塑胶有限公司", "770000000000000007"))


def fincg(req, kind, requested, invoices):
    """A financing request; invoices: [(number, minor, issue, due)], on
    a buyer (receivable: we sell) or from SELLERS in turn (reverse
    factoring: we buy, the bank pays the sellers)."""
    inv = []
    for k, (nb, minor, isd, due) in enumerate(invoices):
        if kind == "receivable":
            parties = "<Buyr><Nm>华南精密制造集团</Nm></Buyr>"
        else:
            nm, acct = SELLERS[k % len(SELLERS)]
            parties = ("<Buyr><Nm>深圳前海示例科技有限公司</Nm></Buyr>"
                       "<Spplr><Nm>%s</Nm></Spplr>"
                       "<SpplrAcct><OthrId>%s</OthrId></SpplrAcct>" % (
                           nm, acct))
        inv.append("<Invc><Nb>%s</Nb><IsseDt>%s</IsseDt><DueDt>%s</DueDt>"
                   "%s%s</Invc>" % (nb, isd, due, amt("Amt", minor),
                                    parties))
    return scf_req(
        "<Fincg><ReqId>%s</ReqId><CreDtTm>%sT09:30:00+08:00</CreDtTm>"
        "<Kind>%s</Kind><Ccy>CNY</Ccy>%s"
        "<Rqstr><Nm>深圳前海示例科技有限公司</Nm></Rqstr>"
        "<%s><OthrId>%s</OthrId></%s>"
        "<FrstAgt><ClrSysId>CNAPS</ClrSysId><ClrSysMmbId>%s</ClrSysMmbId>"
        "</FrstAgt><Invcs>%s</Invcs></Fincg>" % (
            req, day(0), kind, amt("ReqdAmt", requested),
            "CdtAcct" if kind == "receivable" else "FincgAcct", OURS,
            "CdtAcct" if kind == "receivable" else "FincgAcct", US_BANK,
            "".join(inv)))


def tsin001(grp, requested, invoices):
    """A receivable financing request as ISO 20022 tsin.001."""
    tamt = (lambda tag, minor: '<%s Ccy="CNY">%d.%02d</%s>' % (
        tag, minor // 100, minor % 100, tag))
    inv = "".join(
        "<InvcReqInf><InvcGnlInf><DocTp>CINV</DocTp><DocNb>%s</DocNb>"
        "<IsseDt>%s</IsseDt></InvcGnlInf><InvcTtlsInf>%s%s%s"
        "<PmtDueDt>%s</PmtDueDt></InvcTtlsInf>"
        "<Spplr><PtyId><Nm>深圳前海示例科技有限公司</Nm></PtyId></Spplr>"
        "<Buyr><PtyId><Nm>华南精密制造集团</Nm></PtyId></Buyr>"
        "<InvcPmtInf><PmtMtd>TRF</PmtMtd></InvcPmtInf></InvcReqInf>" %
        (nb, isd, tamt("TtlTaxblAmt", minor), tamt("TtlTaxAmt", 0),
         tamt("TtlInvcAmt", minor), due) for nb, minor, isd, due in invoices)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:tsin.001.001.01">'
            "<InvcFincgReq><ReqGrpInf><GrpId>%s</GrpId>"
            "<CreDtTm>%sT09:30:00+08:00</CreDtTm>"
            "<NbOfInvcReqs>%d</NbOfInvcReqs>%s<Ccy>CNY</Ccy>"
            "<FincgRqstr><PtyId><Nm>深圳前海示例科技有限公司</Nm></PtyId>"
            "<CdtAcct><Id><PrtryAcct><Id>%s</Id></PrtryAcct></Id></CdtAcct>"
            "</FincgRqstr>"
            "<FrstAgt><PrtryId><Id>%s</Id><IdTp>CNAPS</IdTp></PrtryId>"
            "</FrstAgt><AddtlInf><InfTp><Prtry>H2H:KIND</Prtry></InfTp>"
            "<InfVal>receivable</InfVal></AddtlInf>"
            "<AddtlInf><InfTp><Prtry>H2H:REQAMT</Prtry></InfTp>"
            "<InfVal>%d.%02d</InfVal></AddtlInf></ReqGrpInf>%s"
            "</InvcFincgReq></Document>\n" % (
                grp, day(0), len(invoices),
                tamt("TtlBlkInvcAmt", sum(i[1] for i in invoices)),
                OURS, US_BANK, requested // 100, requested % 100,
                inv)).encode()


def book_fin(r, req):
    """h2hctl scf's financing request req (its ReqId), or None."""
    hits = [f for f in r.w.ctl_json("scf").get("financing", [])
            if f.get("request_id") == req]
    return hits[0] if hits else None


def our_entries(r, ref):
    """Entries in any of our accounts that name ref."""
    out = []
    for a in cn_world.ACCOUNTS:
        out += [e for e in r.bank.ledger_account(a).get("entries", [])
                if e.get("bank_ref") == ref or e.get("serial") == ref or
                ref in (e.get("remittance") or "")]
    return out


def review(r, serial, dec):
    return r.admin("POST", "/admin/scf/review",
                   {"request_id": serial, "decision": dec})["financing"]


def scf_more(r):
    # ---- a cancellation accepted before disbursement --------------------
    req = "FN-%s-2" % RUN
    msg = r.drop("fincg-2.xml", fincg(req, "receivable", 900000, [
        ("INV%s3" % RUN, 1000000, day(-3), day(50))]))
    (_, el), = r.wait_results(req, 1, "scf")
    check(scf_status(el) == "submitted", "FN-2 submitted")
    serial = r.serial(msg)
    wait_until(lambda: (book_fin(r, req) or {}).get("status") ==
               "submitted", 20, "h2hctl scf: %s submitted (%r)" % (
                   req, book_fin(r, req)))
    creq = "CX-%s-2" % RUN
    cmsg = r.drop("cancel-2.xml", scf_req(
        "<Cxl><CxlId>%s</CxlId><OrgnlReqId>%s</OrgnlReqId>"
        "<Rsn>买方已提前付款, 撤销融资申请</Rsn></Cxl>" % (creq, req)))
    r.wait_state(cmsg, "acknowledged")
    cx = [a for a in r.bank.arrivals() if a["function"] == "scf_cancel"]
    check(len(cx) == 1 and cx[0]["outcome"] == "created",
          "one cancellation arrived: %r" % cx)
    check(fin_of(r, serial)["status"] == "cancelled" and
          fin_of(r, serial)["cancellation"],
          "cancelled at the bank: %r" % fin_of(r, serial))
    wait_until(lambda: (book_fin(r, req) or {}).get("status") ==
               "cancelled", 20, "h2hctl scf: %s cancelled (%r)" % (
                   req, book_fin(r, req)))
    wait_until(lambda: any(scf_status(e) == "cancelled"
                           for _, e in r.results(req, "scf")), 20,
               "a cancelled status report for %s" % req)
    check(not fin_of(r, serial)["loan_ref"] and
          not our_entries(r, serial), "nothing disbursed, nothing booked")
    check(len(r.created(serial)) == 1, "FN-2 sent once")

    # ---- reverse factoring: the bank pays the sellers --------------------
    req = "RF-%s-1" % RUN
    inv = [("INV%s4" % RUN, 1200000, day(-2), day(45)),
           ("INV%s5" % RUN, 800000, day(-1), day(40))]
    msg = r.drop("rf.xml", fincg(req, "reverse_factoring", 2000000, inv))
    (_, el), = r.wait_results(req, 1, "scf")
    check(scf_status(el) == "submitted", "RF submitted: %s" %
          etree.tostring(el))
    serial = r.serial(msg)
    check(fin_of(r, serial)["kind"] == "reverse_factoring",
          "the bank's kind: %r" % fin_of(r, serial)["kind"])
    rec = [b for b in r.admin("GET", "/admin/bs_requests")
           if b["serial"] == serial]
    check(len(rec) == 1 and rec[0]["sellers"] == [
        {"invoice_no": nb, "name": s[0], "account": s[1]}
        for (nb, _, _, _), s in zip(inv, SELLERS)],
        "the sellers named to the bank: %r" % rec)
    review(r, serial, "approve")
    fin = review(r, serial, "disburse")
    res = wait_until(lambda: [e for _, e in r.results(req, "scf")
                              if scf_status(e) == "financed"], 20,
                     "RF financed in out/scf\n%s" % r.w.tail(10))
    r.wait_state(msg, "acknowledged")
    check(x(res[-1], "FincdAmt") == "20000.00" and
          x(res[-1], "LoanRef") == fin["loan_ref"],
          "financed 20000.00 under %s: %s" % (fin["loan_ref"],
                                              etree.tostring(res[-1])))
    check(not our_entries(r, fin["loan_ref"]) and
          not our_entries(r, serial),
          "reverse factoring pays the sellers: nothing booked for us")
    wait_until(lambda: (book_fin(r, req) or {}).get("status") ==
               "financed", 20, "h2hctl scf: %s financed (%r)" % (
                   req, book_fin(r, req)))
    check(len(r.created(serial)) == 1, "RF sent once")

    # ---- treasury speaks tsin.001: tsin.002 comes back -------------------
    req = "FT-%s-1" % RUN
    inv = [("INV%s6" % RUN, 1000000, day(-4), day(55))]
    msg = r.drop("ft.xml", tsin001(req, 800000, inv))
    serial = r.serial(msg)
    sub = wait_until(lambda: r.tsin002(req), 20,
                     "a tsin.002 for %s in out/scf\n%s" % (req,
                                                         r.w.tail(10)))
    check(sub[0][1].find(".//{%s}FincgInfAndSts" % TNS) is None,
          "the first tsin.002 says submitted: %s" %
          etree.tostring(sub[0][1])[:600])
    check(fin_of(r, serial)["status"] == "submitted" and
          len(r.created(serial)) == 1, "submitted at the bank once")
    review(r, serial, "approve")
    fin = review(r, serial, "disburse")
    S = "{%s}InvcFincgReqSts/{%s}FincgInfAndSts/{%s}FincgAllwdSummry/" % (
        TNS, TNS, TNS)

    def financed():
        return [el for _, el in r.tsin002(req)
                if el.findtext(S + "{%s}FincgDtDtls/{%s}CdtDt" % (TNS, TNS))]
    el = wait_until(financed, 20, "a financed tsin.002 for %s (have %r)"
                    % (req, [n for n, _ in r.tsin002(req)]))[-1]
    check(el.findtext(S + "{%s}TtlFincdAmt" % TNS) == "8000.00" and
          el.findtext(S + "{%s}FincdItmNb" % TNS) == "1",
          "financed 8000.00 in tsin.002: %s" % etree.tostring(
              el, encoding="unicode"))
    r.wait_state(msg, "acknowledged")
    check(not r.results(req, "scf"),
          "no <ScfResult> of %s reaches treasury: %r" % (
              req, [n for n, _ in r.results(req, "scf")]))
    check(all(n.endswith(".tsin002.xml") for n, _ in r.tsin002(req)),
          "named .tsin002.xml: %r" % [n for n, _ in r.tsin002(req)])
    credits = our_entries(r, fin["loan_ref"])
    check(len(credits) == 1 and credits[0]["cd"] == "C" and
          credits[0]["amount_fen"] == 800000,
          "the disbursement credited: %r" % credits)
    b = wait_until(lambda: (book_fin(r, req) or {}).get("status") ==
                   "financed" and book_fin(r, req), 20,
                   "h2hctl scf: %s financed (%r)" % (req, book_fin(r, req)))
    check(b.get("loan_ref") == fin["loan_ref"] and
          b.get("financed") == 800000,
          "h2hctl scf: the bank's loan ref %s: %r" % (fin["loan_ref"], b))


def vop(req, op, vid, body=""):
    return scf_req("<VchrOp><ReqId>%s</ReqId><Op>%s</Op><VchrId>%s</VchrId>"
                   "<Actr>%s</Actr><Dt>%s</Dt>%s</VchrOp>" % (
                       req, op, vid, US_ID, day(-60), body))


def vparty(p):
    return {"name": p[1], "account": p[2], "bank_code": p[3]}


def vouchers_of(el):
    return {x(v, "Id"): (x(v, "Sts"), x(v, "Rmng"))
            for v in el.xpath(".//*[local-name()='Vchr']")}


def bank_voucher(r, vid):
    for v in r.admin("GET", "/admin/scf")["vouchers"]:
        if v["voucher_id"] == vid:
            return v
    fail("the bank has no voucher %s" % vid)


def book_vouchers(r):
    """h2hctl scf's vouchers: id -> status."""
    out = {}

    def walk(o):
        if isinstance(o, dict):
            vid = o.get("id") or o.get("voucher_id")
            if vid and o.get("status"):
                out[vid] = o["status"]
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(r.w.ctl_json("scf"))
    return out


def vop_step(r, tag, req, data, want_first="accepted"):
    msg = r.drop("vop-%s.xml" % tag, data)
    (_, el), = r.wait_results(req, 1, "scf")
    check(x(el, "Outcm") == want_first, "%s: %s" % (tag, etree.tostring(
        el)[:900]))
    return msg, el


def vouchers(r):
    """One voucher's life: we issue it to a tier-1 supplier, who transfers
    part of it down to us; we sign, transfer part further down, finance
    the rest and, as the issuer, settle the tree at maturity."""
    us = {"name": "深圳前海示例科技有限公司", "account": OURS,
          "bank_code": US_BANK}
    r.admin("POST", "/admin/today", {"day": day(-60)})
    req = "VI-%s-1" % RUN
    msg, el = vop_step(r, "issue", req, vop(
        req, "issue", "NEW-%s-1" % RUN,
        "<Cpty>%s</Cpty>%s<MtrtyDt>%s</MtrtyDt>" % (
            T1[0], amt("Amt", 100000000), day(0))), "pending")
    (root,) = vouchers_of(el)
    check(bank_voucher(r, root)["holder"]["account"] == T1[2],
          "issued to tier 1")
    r.admin("POST", "/admin/scf/voucher", {"action": "sign",
                                           "voucher_id": root})
    res = r.wait_results(req, 2, "scf")
    check(x(res[1][1], "Outcm") == "accepted", "tier 1 signed")
    r.wait_state(msg, "acknowledged")
    # tier 1 passes 400,000.00 down to us
    child = r.admin("POST", "/admin/scf/voucher", {
        "action": "transfer", "voucher_id": root, "to": us,
        "amount": {"amount": "400000.00", "currency": "CNY"}})["child"]
    child = child["voucher_id"]
    wait_until(lambda: book_vouchers(r).get(child) == "pending", 20,
               "h2hctl scf sees %s pending (%r)" % (child, book_vouchers(r)))
    req = "VS-%s-1" % RUN
    msg, el = vop_step(r, "sign", req, vop(req, "sign", child))
    r.wait_state(msg, "acknowledged")
    check(bank_voucher(r, child)["status"] == "held", "we hold it")
    # we pass 100,000.00 down to tier 3
    req = "VT-%s-1" % RUN
    msg, el = vop_step(r, "transfer", req, vop(
        req, "transfer", child, "<Cpty>%s</Cpty>%s<NewId>NEW-%s-2</NewId>" % (
            T3[0], amt("Amt", 10000000), RUN)), "pending")
    grand = [v for v in vouchers_of(el) if v != child]
    check(len(grand) == 1, "the new child: %r" % vouchers_of(el))
    grand = grand[0]
    check(bank_voucher(r, grand)["level"] == 3, "three tiers down")
    r.admin("POST", "/admin/scf/voucher", {"action": "sign",
                                           "voucher_id": grand})
    res = r.wait_results(req, 2, "scf")
    check(x(res[1][1], "Outcm") == "accepted", "tier 3 signed")
    r.wait_state(msg, "acknowledged")
    check(bank_voucher(r, child)["remaining"]["amount"] == "300000.00",
          "300,000.00 stay with us")
    # we finance what stays with us
    req = "VF-%s-1" % RUN
    msg, el = vop_step(r, "finance", req, vop(
        req, "finance", child, "<Cpty>%s</Cpty>" % US_BANK))
    r.wait_state(msg, "acknowledged")
    credits = ledger_by_ref(r, r.serial(msg))
    check(len(credits) == 1 and credits[0]["cd"] == "C" and
          0 < credits[0]["amount_fen"] < 30000000,
          "the financing proceeds credited: %r" % credits)
    wait_until(lambda: book_vouchers(r).get(child) == "financed", 20,
               "h2hctl scf: %s financed (%r)" % (child, book_vouchers(r)))
    # maturity: we settle the tree as its issuer
    r.admin("POST", "/admin/today", {})
    req = "VX-%s-1" % RUN
    msg, el = vop_step(r, "settle", req, vop(req, "settle", root).replace(
        day(-60).encode(), day(0).encode()))
    r.wait_state(msg, "acknowledged")
    for v in (root, child, grand):
        check(bank_voucher(r, v)["status"] == "settled", "%s settled" % v)
    debits = ledger_by_ref(r, r.serial(msg))
    check(len(debits) == 1 and debits[0]["cd"] == "D" and
          debits[0]["amount_fen"] == 100000000,
          "the issuer's debit of the tree: %r" % debits)
    wait_until(lambda: all(book_vouchers(r).get(v) == "settled"
                           for v in (child,)), 20,
               "h2hctl scf: settled (%r)" % book_vouchers(r))


# --------------------------------------------------------------------------
# kill -9 right after the bank recorded a request


def crash(r, number_held):
    nid, d4 = present(r, "endorse", 100000, day(40))
    wait_notice(r, nid)
    req = "KL-%s-1" % RUN
    # the answer waits: the kill comes after the bank did it, before h2hd
    # read the answer
    r.bank.faults(latency_ms=4000)
    before = r.bank.arrivals_size()
    drop_atomic(r.w, "kill-sign.xml", bill_req(
        "sign", req, "<DrftNb>%s</DrftNb><NtceId>%s</NtceId>" % (d4, nid)))

    def arrived():
        return [a for a in r.bank.arrivals()
                if a["function"] == "bill_operation" and a["serial"] and
                a["outcome"] == "created" and
                a["serial"] not in seen]
    seen = {a["serial"] for a in r.bank.arrivals()}
    wait_until(lambda: r.bank.arrivals_size() > before and arrived(), 20,
               "the sign to arrive")
    r.w.kill9()
    r.bank.faults(clear=True)
    (a,) = arrived()
    serial = a["serial"]
    r.start()
    msg = serial[3:]
    r.wait_state(msg, "acknowledged", timeout=30)
    res = r.wait_results(req, 1)
    time.sleep(2)
    res = r.results(req)
    check(len(res) == 1 and outcome(res[0][1]) == "accepted",
          "exactly one final result: %r" % [n for n, _ in res])
    check(len(r.created(serial)) == 1 and
          len([a for a in r.bank.arrivals()
               if a["serial"] == serial and a["function"] ==
               "bill_operation"]) == 1,
          "exactly one arrival of %s: %r" % (
              serial, [a for a in r.bank.arrivals()
                       if a["serial"] == serial]))
    check(piece(r, d4, 1)["status"] == "held", "signed once: held")


def clock(r):
    """A bank left on UTC while its profile's front end runs on +08:00 is
    named at start; the tests' bank (Asia/Shanghai) is not."""
    check('timezone = "Asia/Shanghai"; ' in r.conf, "the test bank's zone")
    w = World("cnclock-" + r.profile)
    try:
        w.write_conf(r.conf.replace('timezone = "Asia/Shanghai"; ', ""))
        w.start()
        ev = wait_until(lambda: w.log_events("bank.timezone.mismatch"), 20,
                        "bank.timezone.mismatch at start")
        check(len(ev) == 1 and " timezone=UTC " in ev[0] and
              " offset=+00:00 " in ev[0] and " bank_offset=+08:00 " in ev[0],
              "the warning names both clocks: %r" % ev)
        check(w.stop() == 0, "clean stop")
    finally:
        w.cleanup()


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("cmb", "icbc"):
        fail("usage: test_cnbank_bills.py cmb|icbc")
    r = Run(sys.argv[1])
    ok = False
    try:
        clock(r)
        held = bills(r)
        scf(r)
        scf_more(r)
        vouchers(r)
        crash(r, held)
        check(not r.w.log_events("bank.timezone.mismatch"),
              "a bank on its front end's clock is not warned about")
        ok = True
    finally:
        try:
            r.w.stop()
        except Exception:
            pass
        r.bank.stop()
        if ok and not os.environ.get("H2H_KEEP"):
            r.w.cleanup()
        else:
            print("kept: %s %s" % (r.w.root, r.dir), file=sys.stderr)
    print("ok")


if __name__ == "__main__":
    main()
