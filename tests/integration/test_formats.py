"""h2hd with formats switched on: what treasury drops is validated and
routed by debtor account, rendered in each bank's payment format (valid
against the official XSD), refused with a readable reason when it is not
fit to send; what the bank sends back reaches treasury in the channel's
output format."""
import datetime
import os
import re
import subprocess

from h2hlib import CORPUS, H2HD, World, check, drop_atomic, fail, wait_until

XSD = os.path.join(CORPUS, "xsd")
TODAY = datetime.date.today().isoformat()


def iban(country, bban):
    """A valid IBAN for bban: mod-97 check digits (ISO 13616)."""
    rearranged = bban + country + "00"
    digits = "".join(str(int(c, 36)) for c in rearranged)
    check_digits = 98 - int(digits) % 97
    return "%s%02d%s" % (country, check_digits, bban)


ACCT_A = iban("DE", "370400440532013000")
ACCT_B = iban("DE", "500105175407324931")
CRED = iban("FR", "20041010050500013M02606")


def pain001(msg_id, groups, broken=False):
    """A pain.001.001.03 with one PmtInf per (debtor IBAN, [amounts])."""
    n_all = sum(len(a) for _, a in groups)
    sum_all = sum(sum(a) for _, a in groups)
    pis = []
    for gi, (debtor, amounts) in enumerate(groups):
        txs = []
        for ti, amt in enumerate(amounts):
            txs.append("""
      <CdtTrfTxInf>
        <PmtId><EndToEndId>%s-%d-%d</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="EUR">%.2f</InstdAmt></Amt>
        <CdtrAgt><FinInstnId><BIC>BNPAFRPPXXX</BIC></FinInstnId></CdtrAgt>
        <Cdtr><Nm>Fournisseur SA</Nm></Cdtr>
        <CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct>
        <RmtInf><Ustrd>Invoice %d</Ustrd></RmtInf>
      </CdtTrfTxInf>""" % (msg_id, gi, ti, amt, CRED, ti))
        pis.append("""
    <PmtInf>
      <PmtInfId>%s-%d</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>%d</NbOfTxs>
      <CtrlSum>%.2f</CtrlSum>
      <ReqdExctnDt>%s</ReqdExctnDt>
      <Dbtr><Nm>Example Treasury GmbH</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></DbtrAgt>%s
    </PmtInf>""" % (msg_id, gi, len(amounts), sum(amounts), TODAY, debtor,
                    "".join(txs)))
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>%s</MsgId>
      <CreDtTm>%sT09:00:00</CreDtTm>
      <NbOfTxs>%d</NbOfTxs>
      <CtrlSum>%.2f</CtrlSum>
      <InitgPty><Nm>Example Treasury GmbH</Nm></InitgPty>
    </GrpHdr>%s
  </CstmrCdtTrfInitn>
</Document>
""" % (msg_id, TODAY, n_all + (1 if broken else 0), sum_all,
       "".join(pis))).encode()


CONF = """
daemon = {
  log_file = "h2hd.log"; log_level = "debug"; rescan_interval = 300;
  shutdown_timeout = 10;
  retry = { initial = 200; max = 1000; max_attempts = 5; max_age = 3600; };
};
banks = (
  { name = "bank1"; adapter = "dirdrop"; poll_interval = 300;
    payment_format = "pain.001.001.09";
    dirdrop = { outbox = "bank/inbox"; inbox = "bank/outbox"; }; },
  { name = "bank2"; adapter = "dirdrop"; poll_interval = 300;
    payment_format = "pain.001.001.03";
    dirdrop = { outbox = "bank2/inbox"; inbox = "bank2/outbox"; }; }
);
channels = (
  { name = "erp"; bank = "bank1"; input_format = "auto";
    output_format = "mt940"; stability = 0;
    routes = ( { account = "%s"; bank = "bank2"; } ); }
);
"""


def pain002(orig_msg_id, grp_sts=None, txs=()):
    """A pain.002.001.10 answering orig_msg_id; txs: (e2e, status, code)."""
    grp = "<GrpSts>%s</GrpSts>" % grp_sts if grp_sts else ""
    tx = "".join("""
      <TxInfAndSts><OrgnlEndToEndId>%s</OrgnlEndToEndId><TxSts>%s</TxSts>%s
      </TxInfAndSts>""" % (e2e, sts, "<StsRsnInf><Rsn><Cd>%s</Cd></Rsn></StsRsnInf>"
                           % code if code else "") for e2e, sts, code in txs)
    pmt = ("<OrgnlPmtInfAndSts><OrgnlPmtInfId>%s-0</OrgnlPmtInfId>%s"
           "</OrgnlPmtInfAndSts>" % (orig_msg_id, tx)) if txs else ""
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>STS-%s</MsgId><CreDtTm>%sT10:00:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>%s</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>%s</OrgnlGrpInfAndSts>
    %s
  </CstmrPmtStsRpt>
</Document>
""" % (orig_msg_id, TODAY, orig_msg_id, grp, pmt)).encode()


def msg_by_business_id(w, business_id):
    for m in w.ctl_json("queue")["messages"]:
        show = w.ctl_json("show", m["id"])
        if show["message"].get("business_id") == business_id:
            return show
    return None


def xsd_valid(path, xsd):
    r = subprocess.run(["xmllint", "--noout", "--nonet", "--schema",
                        os.path.join(XSD, xsd), path],
                       capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def reasons(w):
    out = {}
    if not os.path.isdir(w.rejected):
        return out
    for n in os.listdir(w.rejected):
        if n.endswith(".reason"):
            with open(os.path.join(w.rejected, n), errors="replace") as f:
                out[n[:-len(".reason")]] = f.read()
    return out


def main():
    w = World("formats")
    try:
        # A spaced, lower-case route must still match the IBAN in files.
        spaced = " ".join(re.findall(".{1,4}", ACCT_B.lower()))
        w.write_conf(CONF % spaced)
        for d in ("bank2/inbox", "bank2/outbox"):
            os.makedirs(w.p(d), exist_ok=True)

        # --check-config refuses a pass-through channel to a bank that
        # re-renders (it would fail message by message at send time).
        bad = w.p("bad.conf")
        with open(bad, "w") as f:
            f.write((CONF % spaced).replace('input_format = "auto"',
                                            'input_format = "passthrough"'))
        r = subprocess.run([H2HD, "-c", bad, "--check-config"],
                           capture_output=True, text=True)
        check(r.returncode != 0 and "needs them parsed" in r.stderr,
              "check-config explains the format mismatch: " + r.stderr)

        w.start()
        drop_atomic(w, "good-a.xml", pain001("FMT-A-1", [(ACCT_A, [10.5, 20])]))
        drop_atomic(w, "good-b.xml", pain001("FMT-B-1", [(ACCT_B, [99.99])]))
        drop_atomic(w, "mixed.xml", pain001("FMT-M-1", [(ACCT_A, [1]),
                                                        (ACCT_B, [2])]))
        broken_iban = ACCT_A[:-1] + ("0" if ACCT_A[-1] != "0" else "1")
        drop_atomic(w, "broken.xml", pain001("FMT-X-1", [(broken_iban, [5])],
                                             broken=True))
        with open(os.path.join(CORPUS, "camt",
                               "genkgo__camt053.v2.minimal.xml"), "rb") as f:
            drop_atomic(w, "statement.xml", f.read())
        drop_atomic(w, "xxe.xml", b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">&x;</Document>
""")
        csv = ("msg_id,execution_date,debtor_name,debtor_iban,amount,currency,"
               "creditor_name,creditor_iban,creditor_bic,remittance\r\n"
               "FMT-C-1,%s,Example Treasury GmbH,%s,12.34,EUR,Fournisseur SA,"
               "%s,BNPAFRPPXXX,Invoice 7\r\n" % (TODAY, ACCT_A, CRED))
        drop_atomic(w, "pay.csv", csv.encode())

        wait_until(lambda: len(w.bank_files()) == 2 and
                   len(os.listdir(w.p("bank2/inbox"))) == 1 and
                   len(reasons(w)) == 4, 30,
                   "2 files at bank1, 1 at bank2, 4 rejected")

        # bank1 wants pain.001.001.09: rendered, schema-valid, same money.
        for n in w.bank_files():
            path = os.path.join(w.bank_in, n)
            body = open(path).read()
            check("urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" in body,
                  "%s rendered as pain.001.001.09" % n)
            ok, err = xsd_valid(path, "sepaxml__pain.001.001.09.xsd")
            check(ok, "%s is valid pain.001.001.09: %s" % (n, err))
        bodies = "".join(open(os.path.join(w.bank_in, n)).read()
                         for n in w.bank_files())
        check("<MsgId>FMT-A-1</MsgId>" in bodies and
              "<MsgId>FMT-C-1</MsgId>" in bodies,
              "the pain.001 and the CSV file went to bank1")
        check(">10.50<" in bodies and ">20.00<" in bodies and ">12.34<" in bodies,
              "amounts kept exactly")
        # bank2 (routed by debtor account) wants .03.
        b2 = w.p("bank2/inbox")
        n2 = os.listdir(b2)[0]
        ok, err = xsd_valid(os.path.join(b2, n2), "nlsepa__pain.001.001.03.xsd")
        check(ok, "bank2 file is valid pain.001.001.03: " + err)
        check("<MsgId>FMT-B-1</MsgId>" in open(os.path.join(b2, n2)).read(),
              "FMT-B-1 routed to bank2 by its debtor account")

        rs = reasons(w)
        check("different banks" in rs.get("mixed.xml", ""),
              "mixed-bank file refused: %r" % rs.get("mixed.xml"))
        br = rs.get("broken.xml", "")
        check("iban" in br.lower() and "NbOfTxs" in br,
              "both problems of broken.xml are reported together: " + br)
        check("payment files" in rs.get("statement.xml", ""),
              "a statement dropped as a payment is refused: %r"
              % rs.get("statement.xml"))
        check("DOCTYPE" in rs.get("xxe.xml", "") or
              "doctype" in rs.get("xxe.xml", "").lower(),
              "DOCTYPE refused: %r" % rs.get("xxe.xml"))

        # The same MsgId again (new content) for the same bank: refused.
        drop_atomic(w, "again.xml", pain001("FMT-A-1", [(ACCT_A, [7])]))
        wait_until(lambda: "again.xml" in reasons(w), 20, "reused MsgId refused")
        check("already used" in reasons(w)["again.xml"],
              "reason names the reused MsgId: " + reasons(w)["again.xml"])

        # What the bank sends: a camt.053 reaches treasury as MT940, a
        # pain.002 as received.
        with open(os.path.join(CORPUS, "camt",
                               "genkgo__camt053.v2.multi.statement.xml"),
                  "rb") as f:
            camt = f.read()
        with open(os.path.join(w.bank_out, "stmt-1.xml"), "wb") as f:
            f.write(camt)
        with open(os.path.join(CORPUS, "pain002",
                               "libeufin__2_pain002_B-Level_ACCP_v2009.xml"),
                  "rb") as f:
            p2 = f.read()
        with open(os.path.join(w.bank_out, "status-1.xml"), "wb") as f:
            f.write(p2)
        sdir = os.path.join(w.out, "statements")
        wait_until(lambda: os.path.isdir(sdir) and os.listdir(sdir) and
                   os.path.isdir(os.path.join(w.out, "status")) and
                   os.listdir(os.path.join(w.out, "status")), 20,
                   "statement and status delivered")
        names = os.listdir(sdir)
        check(names == ["stmt-1.sta"], "statement renamed for MT940: %r" % names)
        mt = open(os.path.join(sdir, names[0]), errors="replace").read()
        check(":20:" in mt and ":60F:" in mt and ":62F:" in mt,
              "the statement is MT940: " + mt[:200])
        check(mt.count(":20:") >= 2, "both statements of the file kept")
        st = os.path.join(w.out, "status", "status-1.xml")
        check(open(st, "rb").read() == p2, "the status report as received")

        # Status reports move the messages they answer: bank1 accepts
        # FMT-A-1; bank2 rejects one of FMT-B-1's... only transaction.
        with open(os.path.join(w.bank_out, "ack-a.xml"), "wb") as f:
            f.write(pain002("FMT-A-1", "ACCP"))
        with open(w.p("bank2/outbox/rjct-b.xml"), "wb") as f:
            f.write(pain002("FMT-B-1", None, [("FMT-B-1-0-0", "RJCT", "AC04")]))
        # A report for a MsgId h2hd never sent to that bank moves nothing.
        with open(w.p("bank2/outbox/stray.xml"), "wb") as f:
            f.write(pain002("FMT-A-1", "RJCT"))

        def state_of(bid):
            m = msg_by_business_id(w, bid)
            return m and m["message"]["state"]
        wait_until(lambda: state_of("FMT-A-1") == "acknowledged" and
                   state_of("FMT-B-1") == "rejected", 20,
                   "FMT-A-1 acknowledged and FMT-B-1 rejected")
        b = msg_by_business_id(w, "FMT-B-1")
        last = b["history"][-1]
        check("AC04" in (last.get("detail") or "") and
              "0 of 1" in (last.get("detail") or ""),
              "the rejection names the reason and counts: %r" % last)
        pays = b.get("payments") or []
        check([(p["end_to_end_id"], p["status"], p["reasons"])
               for p in pays if p["end_to_end_id"]] ==
              [("FMT-B-1-0-0", "RJCT", "AC04")] and
              all(p["report"] == "rjct-b.xml" for p in pays),
              "h2hctl show lists the rejected payment: %r" % pays)
        shown = w.ctl("show", b["message"]["id"]).stdout
        check("FMT-B-1-0-0" in shown, "show --json carries the payments")
        check(state_of("FMT-C-1") == "submitted",
              "a message without a report stays submitted")
        wait_until(lambda: w.log_events("status.unmatched"), 10,
                   "the stray report is logged as unmatched")
        check(state_of("FMT-A-1") == "acknowledged",
              "a report from another bank does not move FMT-A-1")

        check(w.proc.poll() is None, "h2hd still running")
        check(w.stop() == 0, "clean stop")
        for line in w.log_events():
            if ACCT_A in line or ACCT_B in line:
                fail("a full account number reached the log: " + line)
        print("PASS test_formats")
    except SystemExit:
        print(w.tail(60))
        raise
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
