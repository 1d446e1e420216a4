"""h2hd's book of supply-chain finance (issue 7, daemon/scfbook.h), end
to end against a folder gateway: a dirdrop bank whose gateway takes
payments and supply-chain-finance requests.  The test plays the platform:
it reads what h2hd puts into the bank's inbox folder, keeps its own ledger
of the vouchers (an implementation of its own, not formats/scf.c), and
answers with <ScfResult> documents in the bank's outbox folder, dated
relative to today (UTC).

What is checked, on real outcomes (log events, .reason texts, h2hctl
--json scf / show, the gateway's inbox):
  1. a <ScfRequest> for a payments-only bank is refused naming the bank
     and its adapter; a financing request whose invoice is already due is
     refused with the request rule;
  2. a financing request reaches the gateway unchanged; the platform's
     status reports (under review, approved, then financed) acknowledge
     the message and `h2hctl scf` shows it financed with the platform's
     amounts; a cancellation after disbursement is refused at the drop
     folder; a status inquiry is acknowledged by the next report; a
     repayment notice repays it; the same request as a tsin.001
     goes unchanged and the bank's tsin.002 finances it; a dropped
     tsin.002 is refused as h2hd's own output;
  2b. treasury that speaks tsin gets tsin back: the platform answers a
     tsin.001 with <ScfResult> status reports (approved without ids of
     its own, then financed with loan ref and rate); out/scf holds their
     tsin.002 renditions, valid against tsin.002.001.01.xsd with the
     request's invoices, amounts and dates, while the book keeps loan ref
     and rate from the <ScfResult>; a kill -9 as the approval lands
     leaves one tsin.002 and one acknowledgement; a repaid report, which
     tsin.002 cannot say, and a repayment notice arrive as <ScfResult>
     (the first with a note); a tsin.003 cancellation of another tsin.001
     gets its answer as tsin.002 (CxlStsInf PACK);
  3. a second request cancelled before disbursement: the platform's
     answer acknowledges the cancellation's own message;
  4. one voucher's life, with `h2hctl scf` and the platform's ledger
     agreeing at each step: an operation on a voucher the book does not
     know is refused (ask the platform first); the platform answers our
     holdings inquiry (a voucher issued to us as tier-1, and one maturing in five
     days, which is alerted once); a transfer of 40% to a tier-2 supplier
     goes out unchanged, its result lists the child pending, later
     holdings list it held by the supplier; a transfer of more than what
     remains is refused with the state machine's reason and nothing
     reaches the gateway; one the platform refuses is rejected with its
     code and changes nothing; the remainder is financed (pending the
     bank's review, then accepted); the platform reports the tree settled
     at maturity.
"""
import datetime
import hashlib
import os
import sqlite3
import subprocess
import time

from lxml import etree

from h2hlib import H2HCTL, World, check, drop_atomic, fail, wait_until

NS = "urn:h2hd:scf:1"
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(delta):
    return (TODAY + datetime.timedelta(days=delta)).isoformat()


CORE = "91440300MA5G8T1X2K"   # the core enterprise: issues and pays
US = "91441900MA51XKQ67B"     # us: the tier-1 supplier
SUP = "91440605MA4WAT9E3H"    # our own supplier (tier 2)
FIN_BANK = "CMBCCNBS"

CONF = """
daemon = {
  state_dir = "state";
  spool_dir = "spool";
  log_file = "h2hd.log";
  log_level = "info";
  shutdown_timeout = 10;
  rescan_interval = 200;
  retry = { initial = 200; max = 2000; factor = 2.0; jitter = 0.2;
            max_attempts = 50; max_age = 86400; };
};
banks = (
  { name = "gw"; adapter = "dirdrop"; max_sessions = 2;
    poll_interval = 200;
    dirdrop = { outbox = "bank/inbox"; inbox = "bank/outbox";
                kinds = ( "payment", "scf" ); }; },
  { name = "pay"; adapter = "dirdrop"; max_sessions = 1;
    poll_interval = 1000;
    dirdrop = { outbox = "bank2/inbox"; inbox = "bank2/outbox"; }; }
);
channels = (
  { name = "erp"; bank = "gw"; input_format = "passthrough";
    stability = 0; },
  { name = "ops"; bank = "pay"; input_format = "passthrough";
    stability = 0; }
);
"""

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def amt(tag, minor, ccy="CNY"):
    return '<%s Ccy="%s">%d.%02d</%s>' % (tag, ccy, minor // 100, minor % 100,
                                          tag)


def request(body):
    return (HEAD + '<ScfRequest xmlns="%s">%s</ScfRequest>\n' %
            (NS, body)).encode()


def result(body):
    return (HEAD + '<ScfResult xmlns="%s">%s</ScfResult>\n' %
            (NS, body)).encode()


def fincg(req_id, invoices, requested):
    """A receivable financing request of ours; invoices: (number, minor,
    issue delta, due delta)."""
    inv = "".join(
        "<Invc><Nb>%s</Nb><IsseDt>%s</IsseDt><DueDt>%s</DueDt>%s"
        "<Buyr><Nm>华南精密制造集团有限公司</Nm><OrgId>%s</OrgId></Buyr>"
        "</Invc>" % (nb, day(isd), day(due), amt("Amt", minor), CORE)
        for nb, minor, isd, due in invoices)
    return request(
        "<Fincg><ReqId>%s</ReqId><Kind>receivable</Kind><Ccy>CNY</Ccy>%s"
        "<Rqstr><Nm>东莞市恒达五金制品有限公司</Nm><OrgId>%s</OrgId></Rqstr>"
        "<CdtAcct><OthrId>44250100003809876543</OthrId><Ccy>CNY</Ccy>"
        "</CdtAcct><FrstAgt><BIC>%s</BIC></FrstAgt><Invcs>%s</Invcs></Fincg>" %
        (req_id, amt("ReqdAmt", requested), US, FIN_BANK, inv))


def tsin001(grp_id):
    """The same kind of request as ISO 20022 tsin.001, as treasury may
    drop it: 800,000.00 CNY on two invoices of 500,000.00."""
    inv = "".join(
        "<InvcReqInf><InvcGnlInf><DocTp>CINV</DocTp><DocNb>%s</DocNb>"
        "<IsseDt>%s</IsseDt></InvcGnlInf><InvcTtlsInf>"
        '<TtlTaxblAmt Ccy="CNY">500000.00</TtlTaxblAmt>'
        '<TtlTaxAmt Ccy="CNY">0.00</TtlTaxAmt>'
        '<TtlInvcAmt Ccy="CNY">500000.00</TtlInvcAmt>'
        "<PmtDueDt>%s</PmtDueDt></InvcTtlsInf>"
        "<Spplr><PtyId><Nm>东莞市恒达五金制品有限公司</Nm></PtyId></Spplr>"
        "<Buyr><PtyId><Nm>华南精密制造集团有限公司</Nm></PtyId></Buyr>"
        "<InvcPmtInf><PmtMtd>TRF</PmtMtd></InvcPmtInf></InvcReqInf>" %
        (nb, day(-10), day(due)) for nb, due in (("INV-001", 80),
                                                 ("INV-002", 85)))
    return (HEAD +
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:tsin.001.001.01">'
            "<InvcFincgReq><ReqGrpInf><GrpId>%s</GrpId>"
            "<CreDtTm>%sT09:00:00+08:00</CreDtTm>"
            "<NbOfInvcReqs>2</NbOfInvcReqs>"
            '<TtlBlkInvcAmt Ccy="CNY">1000000.00</TtlBlkInvcAmt>'
            "<Ccy>CNY</Ccy><FincgRqstr><PtyId>"
            "<Nm>东莞市恒达五金制品有限公司</Nm></PtyId><CdtAcct><Id>"
            "<PrtryAcct><Id>1001234509000012345</Id></PrtryAcct></Id>"
            "</CdtAcct></FincgRqstr><FrstAgt><BIC>ICBKCNBJSHI</BIC></FrstAgt>"
            "<AddtlInf><InfTp><Prtry>H2H:KIND</Prtry></InfTp>"
            "<InfVal>receivable</InfVal></AddtlInf>"
            "<AddtlInf><InfTp><Prtry>H2H:REQAMT</Prtry></InfTp>"
            "<InfVal>800000.00</InfVal></AddtlInf></ReqGrpInf>%s"
            "</InvcFincgReq></Document>\n" % (grp_id, day(0), inv)).encode()


def tsin002(req_id):
    """The bank's tsin.002 answer (fixture): both invoices financed,
    800,000.00 CNY disbursed.  The fixture finances its second invoice as
    a rate, which fmt_scf_status_report_check does not add into the total
    (it compares the amounts alone with it): here the rate becomes its
    amount."""
    src = os.environ.get("H2H_SRC", os.path.join(os.path.dirname(
        __file__), "..", ".."))
    with open(os.path.join(src, "tests", "fixtures", "tsin",
                           "tsin002_financed.xml"), "rb") as f:
        return f.read().replace(b"RF-2025-0001", req_id.encode()).replace(
            b"<Rate>80</Rate>", b'<Amt Ccy="CNY">400000.00</Amt>')


def status(req_id, sts, financed=None, extra="", sts_id="S"):
    return result(
        "<StsRpt>%s<OrgnlReqId>%s</OrgnlReqId><Sts>%s</Sts>"
        "%s%s</StsRpt>" %
        ("<StsId>%s</StsId>" % sts_id if sts_id else "", req_id, sts,
         "" if financed is None else amt("FincdAmt", financed), extra))


def tsin003(cxl_id, grp_id, reason):
    """treasury's ISO 20022 cancellation of the tsin.001 grp_id"""
    return (HEAD +
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:tsin.003.001.01">'
            "<InvcFincgCxlReq><CxlReqId><Id>%s</Id>"
            "<CreDtTm>%sT10:00:00+08:00</CreDtTm></CxlReqId><CxlReqInf>"
            "<OrgnlGrpId>%s</OrgnlGrpId>"
            "<OrgnlCreDtTm>%sT09:00:00+08:00</OrgnlCreDtTm>"
            "<CxlRsn>%s</CxlRsn></CxlReqInf></InvcFincgCxlReq></Document>\n"
            % (cxl_id, day(0), grp_id, day(0), reason)).encode()


TNS = "urn:iso:std:iso:20022:tech:xsd:tsin.002.001.01"


class Tsin002:
    """A tsin.002 h2hd put into out/scf, validated against its schema."""
    schema = None

    def __init__(self, path):
        if Tsin002.schema is None:
            src = os.environ.get("H2H_SRC", os.path.join(
                os.path.dirname(__file__), "..", ".."))
            Tsin002.schema = etree.XMLSchema(etree.parse(os.path.join(
                src, "formats", "schemas", "tsin.002.001.01.xsd")))
        self.doc = etree.parse(path, etree.XMLParser(
            resolve_entities=False, no_network=True))
        check(Tsin002.schema.validate(self.doc),
              "%s validates against tsin.002.001.01.xsd: %s\n%s" % (
                  path, Tsin002.schema.error_log,
                  etree.tostring(self.doc).decode()))
        self.root = self.doc.getroot()[0]
        check(self.root.tag == "{%s}InvcFincgReqSts" % TNS,
              "%s is an InvcFincgReqSts: %s" % (path, self.root.tag))

    def all(self, path):
        return [x.text for x in self.root.findall(
            "/".join("{%s}%s" % (TNS, p) for p in path.split("/")))]

    def t(self, path):
        v = self.all(path)
        return v[0] if v else None


def vop(req_id, op, vid, **kw):
    parts = ["<ReqId>%s</ReqId><Op>%s</Op><VchrId>%s</VchrId>"
             "<Actr>%s</Actr><Dt>%s</Dt>" % (req_id, op, vid, US, day(0))]
    if "cpty" in kw:
        parts.append("<Cpty>%s</Cpty>" % kw["cpty"])
    if "minor" in kw:
        parts.append(amt("Amt", kw["minor"]))
    if "new_id" in kw:
        parts.append("<NewId>%s</NewId>" % kw["new_id"])
    return request("<VchrOp>%s</VchrOp>" % "".join(parts))


class Platform:
    """The platform's side: its own ledger of vouchers, the documents it
    sends, and what h2hd sent it."""

    def __init__(self, w):
        self.w = w
        self.n = 0
        self.v = {}   # id -> dict

    # -- the ledger ------------------------------------------------------
    def issue(self, vid, face, maturity, issued):
        self.v[vid] = dict(id=vid, parent=None, root=vid, level=1,
                           issuer=CORE, trfr=CORE, holder=US, amount=face,
                           remaining=face, issue=day(issued),
                           maturity=day(maturity), status="held",
                           sts_dt=day(issued), fin_bank=None)

    def transfer(self, vid, to, minor, new_id):
        p = self.v[vid]
        if p["status"] != "held" or minor > p["remaining"]:
            fail("the platform would refuse this transfer")
        p["remaining"] -= minor
        self.v[new_id] = dict(p, id=new_id, parent=vid, level=p["level"] + 1,
                              trfr=p["holder"], holder=to, amount=minor,
                              remaining=minor, issue=day(0), status="pending",
                              sts_dt=day(0), fin_bank=None)

    def sign(self, vid):
        self.v[vid]["status"] = "held"

    def finance(self, vid, bank):
        x = self.v[vid]
        x.update(status="financed", fin_bank=bank, sts_dt=day(0))

    def settle(self, root):
        for x in self.v.values():
            if x["root"] == root and x["status"] in ("held", "financed"):
                x.update(status="settled", sts_dt=x["maturity"])

    def totals(self, party):
        """What party has (the holdings rule of the model, written anew)."""
        t = dict(n_held=0, held=0, n_pending_in=0, pending_in=0,
                 n_pending_out=0, pending_out=0, n_financed=0, financed=0,
                 n_settled=0, settled=0, issued_live=0)
        for x in self.v.values():
            if x["holder"] == party:
                if x["status"] == "pending":
                    t["n_pending_in"] += 1
                    t["pending_in"] += x["amount"]
                elif x["status"] in ("held", "financed", "settled") and \
                        x["remaining"] > 0:
                    t["n_" + x["status"]] += 1
                    t[x["status"]] += x["remaining"]
            if x["status"] == "pending" and x["trfr"] == party:
                t["n_pending_out"] += 1
                t["pending_out"] += x["amount"]
            if x["issuer"] == party and x["status"] in (
                    "pending", "held", "financed"):
                t["issued_live"] += x["remaining"]
        return t

    def xml(self, vid):
        x = self.v[vid]
        return (
            "<Vchr><Id>%s</Id>%s<RootId>%s</RootId><Lvl>%d</Lvl>"
            "<Issr>%s</Issr><OrgnlHldr>%s</OrgnlHldr><Trfr>%s</Trfr>"
            "<Hldr>%s</Hldr>%s%s<IsseDt>%s</IsseDt><MtrtyDt>%s</MtrtyDt>"
            "<Sts>%s</Sts><StsDt>%s</StsDt>%s</Vchr>" %
            (x["id"], "<PrntId>%s</PrntId>" % x["parent"] if x["parent"]
             else "", x["root"], x["level"], x["issuer"], US, x["trfr"],
             x["holder"], amt("Amt", x["amount"]),
             amt("Rmng", x["remaining"]), x["issue"], x["maturity"],
             x["status"], x["sts_dt"],
             "<FinBk>%s</FinBk><FinDt>%s</FinDt>%s" %
             (x["fin_bank"], day(0), amt("FinAmt", x["remaining"]))
             if x["fin_bank"] else ""))

    def holdings(self, ids, req_id=None):
        return result(
            "<Hldgs>%s<Pty>%s</Pty><AsOf>%s</AsOf><Vchrs>%s</Vchrs></Hldgs>" %
            ("<ReqId>%s</ReqId>" % req_id if req_id else "", US, day(0),
             "".join(self.xml(i) for i in ids)))

    def op_result(self, req_id, op, outcome, ids, code="0000", text="成功"):
        return result(
            "<VchrOpRslt><ReqId>%s</ReqId><Op>%s</Op><Outcm>%s</Outcm>"
            "<BkRtrCd>%s</BkRtrCd><BkRtrTxt>%s</BkRtrTxt>%s</VchrOpRslt>" %
            (req_id, op, outcome, code, text,
             "<Vchrs>%s</Vchrs>" % "".join(self.xml(i) for i in ids)
             if ids else ""))

    # -- the folders -----------------------------------------------------
    def send(self, data, name):
        tmp = os.path.join(self.w.bank_out, "." + name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.w.bank_out, name))

    def answer_tsin(self, data, name):
        """An answer treasury gets as tsin.002: out/scf/<base>.tsin002.xml
        and not the <ScfResult> itself."""
        self.send(data, name)
        dst = os.path.join(self.w.out, "scf", name[:-4] + ".tsin002.xml")
        wait_until(lambda: os.path.exists(dst) and not os.path.exists(
            os.path.join(self.w.bank_out, name)), 20,
                   "%s delivered to out/scf as tsin.002" % name)
        check(not os.path.exists(os.path.join(self.w.out, "scf", name)),
              "%s is not delivered as received" % name)
        return Tsin002(dst)

    def answer(self, data, name=None):
        self.n += 1
        name = name or "ans-%03d.xml" % self.n
        self.send(data, name)
        dst = os.path.join(self.w.out, "scf", name)
        wait_until(lambda: os.path.exists(dst) and not os.path.exists(
            os.path.join(self.w.bank_out, name)), 20,
                   "%s delivered to out/scf" % name)
        with open(dst, "rb") as f:
            check(f.read() == data, "%s reaches out/scf as sent" % name)
        return name


def reason_of(w, name, rejected=None):
    path = os.path.join(rejected or w.rejected, name + ".reason")
    wait_until(lambda: os.path.exists(path), 20,
               "%s to be refused with a reason" % name)
    with open(path, encoding="utf-8") as f:
        return f.read()


def events(w, ev, **kv):
    out = []
    for line in w.log_events(ev):
        if all((" %s=%s" % (k, v)) in line + " " for k, v in kv.items()):
            out.append(line)
    return out


def wait_event(w, ev, n=1, **kv):
    return wait_until(lambda: len(events(w, ev, **kv)) >= n and
                      events(w, ev, **kv), 20,
                      "%s %r in the log (have: %s)" % (
                          ev, kv, "\n".join(w.log_events()[-8:])))


def accepted_msg(w, name):
    lines = wait_event(w, "payment.accepted", file=name)
    for f in lines[0].split():
        if f.startswith("msg="):
            return f[4:]
    fail("no msg= in %r" % lines[0])


def show(w, msg):
    return w.ctl_json("show", msg)["message"]


def wait_state(w, msg, state):
    return wait_until(lambda: show(w, msg)["state"] == state and
                      show(w, msg), 20,
                      "message %s to be %s (is %s)" % (
                          msg, state, show(w, msg)["state"]))


def bank_file(w, name):
    def find():
        for n in w.bank_files():
            if n == name or n.endswith("-" + name):
                return n
        return None
    n = wait_until(find, 20, "%s in the bank's inbox (have %r)" % (
        name, w.bank_files()))
    with open(os.path.join(w.bank_in, n), "rb") as f:
        return f.read()


def scf(w):
    return w.ctl_json("scf")


def financing(w, req_id):
    for f in scf(w)["financing"]:
        if f["request_id"] == req_id:
            return f
    fail("%s not in h2hctl scf: %r" % (req_id, scf(w)["financing"]))


def agree(w, pf, what):
    """h2hctl scf and the platform's ledger tell the same story."""
    view = scf(w)
    mine = {v["id"]: (v["status"], v["holder"], v["amount"], v["remaining"],
                      v["level"], v["maturity"]) for v in view["vouchers"]}
    theirs = {x["id"]: (x["status"], x["holder"], x["amount"],
                        x["remaining"], x["level"], x["maturity"])
              for x in pf.v.values()}
    check(mine == theirs, "%s: the vouchers agree:\nh2hd     %r\nplatform %r"
          % (what, mine, theirs))
    t = view["totals"].get("CNY")
    check(t == pf.totals(US), "%s: the totals agree:\nh2hd     %r\n"
          "platform %r" % (what, t, pf.totals(US)))
    return view


def book_doc(w, req_id):
    """The book's document for a financing request (the store's row)."""
    con = sqlite3.connect(w.p("state/h2hd.db"))
    try:
        rows = [r[0] for r in con.execute(
            "select doc from scf_request where request_id = ?", (req_id,))]
    finally:
        con.close()
    check(len(rows) == 1, "one book row for %s: %r" % (req_id, rows))
    return rows[0]


def tsin_answers(w, pf):
    """2b: a tsin.001 answered by <ScfResult>s reaches treasury as
    tsin.002; the book still has what only the <ScfResult> says."""
    t4 = tsin001("FIN-4")
    drop_atomic(w, "fin-4.xml", t4)
    m4 = accepted_msg(w, "fin-4.xml")
    wait_state(w, m4, "submitted")
    check(bank_file(w, "fin-4.xml") == t4, "the tsin.001 goes unchanged")
    # approved, without report id or time (the dialects' way): h2hd's
    # stand-ins; h2hd killed the moment its tsin.002 lands
    ok = status("FIN-4", "approved", 80000000,
                "<IntrstRate>3.1</IntrstRate>", sts_id=None)
    pf.send(ok, "fin-4-ok.xml")
    dst = os.path.join(w.out, "scf", "fin-4-ok.tsin002.xml")
    wait_until(lambda: os.path.exists(dst), 20, "the tsin.002 to land",
               interval=0.001)
    w.kill9()
    w.restart(2)
    wait_state(w, m4, "acknowledged")
    wait_until(lambda: not os.path.exists(
        os.path.join(w.bank_out, "fin-4-ok.xml")), 20,
               "the approval to be fetched")
    landed = sorted(n for n in os.listdir(os.path.join(w.out, "scf"))
                    if n.startswith("fin-4-ok"))
    check(landed == ["fin-4-ok.tsin002.xml"],
          "one tsin.002 for the approval, nothing else: %r" % landed)
    sh = w.ctl_json("show", m4)
    acks = [h for h in sh["history"] if h["to"] == "acknowledged"]
    check(len(acks) == 1 and "scf financing approved" in acks[0]["detail"],
          "the approval was linked once: %r" % sh["history"])
    # (a kill after the commit leaves no log line: the download is
    # delivered, the restarted daemon only removes the bank's copy)
    dl = events(w, "bank.download.delivered", remote="fin-4-ok.xml")
    check(len(dl) <= 1 and all(" form=tsin.002" in e and
                               "fin-4-ok.tsin002.xml" in e for e in dl),
          "delivered at most once, logged as tsin.002: %r" % dl)
    x = Tsin002(dst)
    check(x.t("StsId/Id") == "H2H" + hashlib.sha256(ok).hexdigest()[:32] and
          x.t("StsId/CreDtTm")[:10] == day(0) and
          x.t("StsId/CreDtTm").endswith("Z"),
          "the stand-ins: id from the download's hash, time its arrival: "
          "%r %r" % (x.t("StsId/Id"), x.t("StsId/CreDtTm")))
    check(x.t("OrgnlReqInfAndSts/Id") == "FIN-4" and
          x.t("OrgnlReqInfAndSts/CreDtTm") == day(0) + "T09:00:00+08:00" and
          x.t("OrgnlReqInfAndSts/VldtnStsInf/Sts") == "RCCF",
          "answers FIN-4 as the request had it")
    F = "FincgInfAndSts/"
    check(x.t(F + "FincgAllwdSummry/FincdItmNb") == "2" and
          x.t(F + "FincgAllwdSummry/TtlAccptdItmsAmt") == "1000000.00" and
          x.t(F + "FincgAllwdSummry/TtlFincdAmt") == "800000.00" and
          x.t(F + "FincgAllwdSummry/FincgDtDtls/CdtDt") is None,
          "approved: two invoices, 800,000.00 of 1,000,000.00, no value "
          "date yet: %s" % etree.tostring(x.doc).decode())
    inv = F + "InvcFincgDtls/OrgnlInvcInf/"
    check(x.all(inv + "DocNb") == ["INV-001", "INV-002"] and
          x.all(inv + "TtlInvcAmt") == ["500000.00", "500000.00"] and
          x.all(inv + "IsseDt") == [day(-10), day(-10)] and
          x.all(inv + "PmtDueDt") == [day(80), day(85)] and
          x.all(F + "InvcFincgDtls/InvcFincgRslt/FincgReqSts") ==
          ["FNCD", "FNCD"],
          "the request's invoices, accepted: %s" %
          etree.tostring(x.doc).decode())
    # financed, with the bank's loan reference and rate
    fin = status("FIN-4", "financed", 80000000,
                 "<IntrstRate>3.1</IntrstRate><ValDt>%s</ValDt><MtrtyDt>%s"
                 "</MtrtyDt><LoanRef>JJ-0004</LoanRef>" % (day(0), day(80)),
                 sts_id="S44")
    x = pf.answer_tsin(fin, "fin-4-fin.xml")
    wait_event(w, "scf.status", req="FIN-4", status="financed")
    dl = events(w, "bank.download.delivered", remote="fin-4-fin.xml")
    check(len(dl) == 1 and " form=tsin.002" in dl[0] and
          "file=%s" % os.path.join(w.out, "scf", "fin-4-fin.tsin002.xml")
          in dl[0], "logged as tsin.002: %r" % dl)
    check(x.t("StsId/Id") == "S44" and
          x.t(F + "FincgAllwdSummry/TtlFincdAmt") == "800000.00" and
          x.t(F + "FincgAllwdSummry/FincgDtDtls/CdtDt") == day(0) and
          x.t(F + "FincgAllwdSummry/FincgDtDtls/DbtDt") == day(80),
          "financed, value date and maturity: %s" %
          etree.tostring(x.doc).decode())
    f = financing(w, "FIN-4")
    check(f["status"] == "financed" and f["financed"] == 80000000 and
          f["loan_ref"] == "JJ-0004" and f["msg"] == m4,
          "h2hctl scf: the loan ref from the <ScfResult>: %r" % f)
    doc = book_doc(w, "FIN-4")
    check("<IntrstRate>3.1" in doc and "JJ-0004" in doc,
          "the book keeps rate and loan ref: %r" % doc)
    check(show(w, m4)["state"] == "acknowledged", "FIN-4 stays acknowledged")
    # a repaid report tsin.002 cannot say, a repayment notice: as received
    rp = status("FIN-4", "repaid", 80000000, "<LoanRef>JJ-0004</LoanRef>",
                sts_id="S45")
    pf.answer(rp, "fin-4-rp.xml")
    wait_event(w, "scf.status", req="FIN-4", status="repaid")
    notes = events(w, "bank.download.note", remote="fin-4-rp.xml")
    check(len(notes) == 1 and "tsin.002 cannot carry" in notes[0] and
          "repaid" in notes[0], "the note says why: %r" % notes)
    check(not os.path.exists(os.path.join(w.out, "scf",
                                          "fin-4-rp.tsin002.xml")),
          "no tsin.002 for the repaid report")
    # the canonical requests' answers came as they were sent (answer()
    # compares), none logged as tsin
    check(all(" form=" not in e for e in events(
        w, "bank.download.delivered") if "fin-4" not in e and
              "fin-5" not in e),
          "only FIN-4's answers were rendered")
    # a tsin.003 cancellation of another tsin.001: its answer as tsin.002
    drop_atomic(w, "fin-5.xml", tsin001("FIN-5"))
    m5 = accepted_msg(w, "fin-5.xml")
    wait_state(w, m5, "submitted")
    drop_atomic(w, "cxl-5.xml", tsin003("CXL-5", "FIN-5", "不再需要融资"))
    m_cxl5 = accepted_msg(w, "cxl-5.xml")
    wait_state(w, m_cxl5, "submitted")
    x = pf.answer_tsin(status("FIN-5", "cancelled", None,
                              "<CxlAnsw>accepted</CxlAnsw>", sts_id="S50"),
                       "fin-5-cxl.xml")
    wait_event(w, "scf.cancel.accepted", msg=m_cxl5, req="FIN-5")
    check(x.t("OrgnlReqInfAndSts/Id") == "FIN-5" and
          x.t("OrgnlReqInfAndSts/CxlStsInf/Sts") == "PACK" and
          x.t("FincgInfAndSts/FincgAllwdSummry/FincdItmNb") is None,
          "the cancellation accepted, in tsin.002: %s" %
          etree.tostring(x.doc).decode())
    check(show(w, m_cxl5)["state"] == "acknowledged" and
          financing(w, "FIN-5")["status"] == "cancelled",
          "the cancellation's message acknowledged, FIN-5 cancelled")


def main():
    w = World("scfbook")
    w.write_conf(CONF)
    for d in ("spool/ops/in", "bank2/inbox", "bank2/outbox"):
        os.makedirs(w.p(d), exist_ok=True)
    pf = Platform(w)
    t0 = time.time()
    try:
        w.start()
        # ---- 1. refused at the drop folder -----------------------------
        tmp = w.p("spool/ops/in/.fin-pay.part")
        with open(tmp, "wb") as f:
            f.write(fincg("FIN-PAY", [("INV-P1", 10000000, -5, 60)],
                          8000000))
        os.rename(tmp, w.p("spool/ops/in/fin-pay.xml"))
        r = reason_of(w, "fin-pay.xml", w.p("spool/ops/rejected"))
        check("supply-chain-finance request for bank pay" in r and
              "adapter dirdrop does not take them" in r,
              "an scf request to a payments-only bank names bank and "
              "adapter: %r" % r)
        drop_atomic(w, "fin-old.xml",
                    fincg("FIN-OLD", [("INV-O1", 10000000, -40, -1)],
                          8000000))
        r = reason_of(w, "fin-old.xml")
        check("[scf.invoice.due]" in r and day(-1) in r,
              "an invoice already due cannot be financed: %r" % r)

        # ---- 2. a financing request's life -----------------------------
        fin = fincg("FIN-1", [("INV-001", 10000000, -10, 80),
                              ("INV-002", 5000000, -5, 85)], 13500000)
        drop_atomic(w, "fin-1.xml", fin)
        m_fin = accepted_msg(w, "fin-1.xml")
        wait_state(w, m_fin, "submitted")
        check(bank_file(w, "fin-1.xml") == fin,
              "the request reaches the gateway as dropped")
        check(show(w, m_fin)["kind"] == "scf" and
              show(w, m_fin)["business_id"] == "FIN-1",
              "kind scf, business id the request id: %r" % show(w, m_fin))
        pf.answer(status("FIN-1", "under_review", sts_id="S1"))
        wait_event(w, "scf.pending", msg=m_fin, req="FIN-1")
        check(show(w, m_fin)["state"] == "submitted",
              "under review leaves the message submitted")
        pf.answer(status("FIN-1", "approved", 13500000,
                         "<IntrstRate>3.45</IntrstRate>", sts_id="S2"))
        wait_event(w, "scf.accepted", msg=m_fin, req="FIN-1",
                   status="approved")
        sh = w.ctl_json("show", m_fin)
        check(sh["message"]["state"] == "acknowledged",
              "approval acknowledges the request: %r" % sh["message"])
        acks = [h for h in sh["history"] if h["to"] == "acknowledged"]
        check(len(acks) == 1 and "scf financing approved" in
              acks[0]["detail"], "acknowledged once: %r" % sh["history"])
        f = financing(w, "FIN-1")
        check(f["status"] == "approved" and f["requested"] == 13500000 and
              f["approved"] == 13500000 and f["financed"] == 0 and
              f["msg"] == m_fin and f["kind"] == "receivable",
              "h2hctl scf: approved: %r" % f)
        pf.answer(status(
            "FIN-1", "financed", 13500000,
            "<IntrstRate>3.45</IntrstRate><ValDt>%s</ValDt><MtrtyDt>%s"
            "</MtrtyDt><LoanRef>JJ-0001</LoanRef>" % (day(0), day(80)),
            sts_id="S3"))
        wait_event(w, "scf.status", req="FIN-1", status="financed")
        f = financing(w, "FIN-1")
        check(f["status"] == "financed" and f["financed"] == 13500000 and
              f["value_date"] == day(0) and f["maturity"] == day(80) and
              f["loan_ref"] == "JJ-0001",
              "h2hctl scf: financed: %r" % f)
        # a status inquiry is answered by a report about its request
        drop_atomic(w, "inq-1.xml", request(
            "<Inq><InqId>INQ-1</InqId><OrgnlReqId>FIN-1</OrgnlReqId></Inq>"))
        m_inq = accepted_msg(w, "inq-1.xml")
        wait_state(w, m_inq, "submitted")
        pf.answer(status(
            "FIN-1", "financed", 13500000,
            "<ValDt>%s</ValDt><LoanRef>JJ-0001</LoanRef>" % day(0),
            sts_id="S3b"))
        wait_event(w, "scf.inquiry.answered", msg=m_inq, req="FIN-1")
        check(show(w, m_inq)["state"] == "acknowledged",
              "the inquiry is acknowledged")
        check(financing(w, "FIN-1") == f, "a repeated report changes nothing")
        txt = subprocess.run([H2HCTL, "-s", w.sock, "scf"],
                             capture_output=True, text=True, timeout=30)
        check(txt.returncode == 0 and "FIN-1" in txt.stdout and
              "financed" in txt.stdout and "135000.00 CNY" in txt.stdout,
              "h2hctl scf (text): %r" % txt.stdout)
        # too late to cancel
        before = w.bank_files()
        drop_atomic(w, "cxl-1.xml", request(
            "<Cxl><CxlId>CXL-1</CxlId><OrgnlReqId>FIN-1</OrgnlReqId>"
            "<Rsn>买方已提前付款</Rsn></Cxl>"))
        r = reason_of(w, "cxl-1.xml")
        check("already disbursed" in r and "FIN-1" in r,
              "a cancellation after disbursement is refused: %r" % r)
        time.sleep(0.3)
        check(w.bank_files() == before, "nothing reached the gateway")
        # repaid
        pf.answer(result(
            "<RpmtNtce><NtceId>RP-1</NtceId><Kind>paid</Kind><ReqId>FIN-1"
            "</ReqId><LoanRef>JJ-0001</LoanRef>%s%s%s<DueDt>%s</DueDt>"
            "</RpmtNtce>" % (amt("Amt", 13600000), amt("Prncpl", 13500000),
                             amt("Intrst", 100000), day(0))))
        wait_event(w, "scf.repayment", req="FIN-1", status="repaid")
        f = financing(w, "FIN-1")
        check(f["status"] == "repaid" and f["repaid"] == 13500000,
              "repaid: %r" % f)

        # the same as ISO 20022: a tsin.001 goes, a tsin.002 answers
        t1 = tsin001("FIN-3")
        drop_atomic(w, "fin-3.xml", t1)
        m_fin3 = accepted_msg(w, "fin-3.xml")
        check(show(w, m_fin3)["kind"] == "scf" and
              show(w, m_fin3)["business_id"] == "FIN-3",
              "a tsin.001 is an scf request, its GrpId the business id: %r"
              % show(w, m_fin3))
        wait_state(w, m_fin3, "submitted")
        check(bank_file(w, "fin-3.xml") == t1, "the tsin.001 goes unchanged")
        pf.answer(tsin002("FIN-3"), "fin-3-sts.xml")
        wait_event(w, "scf.accepted", msg=m_fin3, req="FIN-3",
                   status="financed")
        f = financing(w, "FIN-3")
        check(f["status"] == "financed" and f["requested"] == 80000000 and
              f["financed"] == 80000000, "FIN-3 financed: %r" % f)
        drop_atomic(w, "sts-drop.xml", tsin002("FIN-9"))
        r = reason_of(w, "sts-drop.xml")
        check("tsin.002" in r and "which h2hd writes" in r,
              "a dropped tsin.002 is refused as h2hd's own output: %r" % r)

        # ---- 2b. tsin in, tsin out -------------------------------------
        tsin_answers(w, pf)

        # ---- 3. cancelled before disbursement --------------------------
        drop_atomic(w, "fin-2.xml",
                    fincg("FIN-2", [("INV-003", 4000000, -3, 70)], 3000000))
        m_fin2 = accepted_msg(w, "fin-2.xml")
        wait_state(w, m_fin2, "submitted")
        drop_atomic(w, "cxl-2.xml", request(
            "<Cxl><CxlId>CXL-2</CxlId><OrgnlReqId>FIN-2</OrgnlReqId>"
            "<Rsn>不再需要融资</Rsn></Cxl>"))
        m_cxl2 = accepted_msg(w, "cxl-2.xml")
        wait_state(w, m_cxl2, "submitted")
        pf.answer(status("FIN-2", "cancelled", None,
                         "<CxlAnsw>accepted</CxlAnsw>", sts_id="S4"))
        wait_event(w, "scf.cancel.accepted", msg=m_cxl2, req="FIN-2")
        check(show(w, m_cxl2)["state"] == "acknowledged",
              "the cancellation's message is acknowledged")
        check(financing(w, "FIN-2")["status"] == "cancelled",
              "FIN-2 cancelled: %r" % financing(w, "FIN-2"))

        # ---- 4. one voucher's life -------------------------------------
        V1, V1C, V9 = "RX-V1", "RX-V1-01", "RX-V9"
        drop_atomic(w, "tr-unknown.xml",
                    vop("TR-0", "transfer", V1, cpty=SUP, minor=100,
                        new_id="RX-X"))
        r = reason_of(w, "tr-unknown.xml")
        check("not in h2hd's book for bank gw" in r and
              "ask the platform first" in r and V1 in r,
              "an unknown voucher is refused: %r" % r)
        pf.issue(V1, 100000000, 60, -10)      # 1,000,000.00, ours (tier 1)
        pf.issue(V9, 5000000, 5, -20)         # 50,000.00, due in 5 days
        inq = request("<VchrInq><InqId>VQ-1</InqId><Pty>%s</Pty></VchrInq>"
                      % US)
        drop_atomic(w, "vq-1.xml", inq)
        m_vq = accepted_msg(w, "vq-1.xml")
        wait_state(w, m_vq, "submitted")
        check(bank_file(w, "vq-1.xml") == inq, "the inquiry goes unchanged")
        pf.answer(pf.holdings([V1, V9], "VQ-1"))
        wait_event(w, "scf.holdings", msg=m_vq, party=US, vouchers=2)
        check(show(w, m_vq)["state"] == "acknowledged",
              "the holdings inquiry is acknowledged")
        v = agree(w, pf, "holdings")
        check({x["id"]: x["role"] for x in v["vouchers"]} ==
              {V1: "held", V9: "held"}, "ours, as holder: %r" % v)
        al = wait_event(w, "scf.voucher.maturing", voucher=V9)
        check(len(al) == 1 and " days_left=5" in al[0] and
              " amount=50000.00" in al[0],
              "one maturity alert, 5 days left: %r" % al)

        tr = vop("TR-1", "transfer", V1, cpty=SUP, minor=40000000,
                 new_id=V1C)
        drop_atomic(w, "tr-1.xml", tr)
        m_tr = accepted_msg(w, "tr-1.xml")
        wait_state(w, m_tr, "submitted")
        check(bank_file(w, "tr-1.xml") == tr, "the transfer goes unchanged")
        pf.transfer(V1, SUP, 40000000, V1C)
        pf.answer(pf.op_result("TR-1", "transfer", "accepted", [V1, V1C],
                               text="转让成功, 待对方签收"))
        wait_event(w, "scf.voucher.accepted", msg=m_tr, req="TR-1")
        check(show(w, m_tr)["state"] == "acknowledged",
              "the transfer is acknowledged")
        v = agree(w, pf, "transfer, pending")
        check({x["id"]: x["role"] for x in v["vouchers"]}[V1C] ==
              "transferred", "the part left our hands: %r" % v)
        check(v["totals"]["CNY"]["pending_out"] == 40000000 and
              v["totals"]["CNY"]["held"] == 65000000,
              "400,000.00 sent, 650,000.00 held: %r" % v["totals"])
        pf.sign(V1C)
        pf.answer(pf.holdings([V1, V1C]))
        wait_event(w, "scf.holdings", party=US, vouchers=2, n=2)
        agree(w, pf, "the supplier signed")

        before = w.bank_files()
        drop_atomic(w, "tr-2.xml", vop("TR-2", "transfer", V1, cpty=SUP,
                                       minor=70000000, new_id="RX-V1-02"))
        r = reason_of(w, "tr-2.xml")
        check("transfer of 700000.00 CNY exceeds the 600000.00 CNY voucher "
              "%s still holds" % V1 in r, "the state machine's reason: %r" % r)
        time.sleep(0.3)
        check(w.bank_files() == before, "nothing reached the gateway")

        # the platform refuses one: the message is rejected with its code,
        # no voucher changes
        drop_atomic(w, "tr-3.xml", vop("TR-3", "transfer", V1, cpty=SUP,
                                       minor=10000000, new_id="RX-V1-03"))
        m_tr3 = accepted_msg(w, "tr-3.xml")
        wait_state(w, m_tr3, "submitted")
        pf.answer(pf.op_result("TR-3", "transfer", "rejected", [],
                               code="E2031", text="收款方未开通"))
        wait_event(w, "scf.voucher.rejected", msg=m_tr3, req="TR-3")
        sh = show(w, m_tr3)
        check(sh["state"] == "rejected" and "E2031" in sh["error"],
              "rejected with the platform's code: %r" % sh)
        agree(w, pf, "a refused transfer")

        fn = vop("FN-1", "finance", V1, cpty=FIN_BANK)
        drop_atomic(w, "fn-1.xml", fn)
        m_fn = accepted_msg(w, "fn-1.xml")
        wait_state(w, m_fn, "submitted")
        check(bank_file(w, "fn-1.xml") == fn, "the financing goes unchanged")
        pf.answer(pf.op_result("FN-1", "finance", "pending", [V1],
                               text="待银行审核"))
        wait_event(w, "scf.voucher.pending", msg=m_fn, req="FN-1")
        check(show(w, m_fn)["state"] == "submitted",
              "under the bank's review: still submitted")
        agree(w, pf, "financing under review")
        pf.finance(V1, FIN_BANK)
        pf.answer(pf.op_result("FN-1", "finance", "accepted", [V1]))
        wait_event(w, "scf.voucher.accepted", msg=m_fn, req="FN-1")
        v = agree(w, pf, "financed")
        check(v["totals"]["CNY"]["financed"] == 60000000 and
              [x["fin_bank"] for x in v["vouchers"] if x["id"] == V1] ==
              [FIN_BANK], "600,000.00 financed at %s: %r" % (FIN_BANK, v))

        # at maturity the core enterprise pays the tree (the platform's
        # report stands for the sixty days passing)
        pf.settle(V1)
        pf.answer(pf.holdings([V1, V1C]))
        wait_event(w, "scf.holdings", party=US, vouchers=2, n=3)
        v = agree(w, pf, "settled")
        check(all(x["status"] == "settled" for x in v["vouchers"]
                  if x["root_id"] == V1),
              "the whole tree is settled: %r" % v["vouchers"])
        check(v["totals"]["CNY"]["settled"] == 60000000,
              "600,000.00 settled to us: %r" % v["totals"])

        check(not w.log_events("scf.ignored") and
              not w.log_events("bank.download.failed"),
              "no answer ignored, no download failed: %r" %
              (w.log_events("scf.ignored"),))
        check(len(events(w, "scf.voucher.maturing", voucher=V9)) == 1,
              "the alert was not repeated")
        check(w.stop() == 0, "clean stop")
        print("PASS test_scf_book (%.1fs)" % (time.time() - t0))
    except SystemExit:
        print(w.tail(40))
        raise
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
