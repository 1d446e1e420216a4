#!/usr/bin/python3
"""Self-test of the bank simulator (bank_sftp.py) and the fault proxy.

Run: /usr/bin/python3 tests/sims/test_sims_selftest.py [-v] [name-filter]
Exit status 0 when every check passed. Needs the official XSDs from
$H2H_CORPUS (default ../shared/corpus beside the repository).

Fixtures are generated here. Expected values (verdicts, reason codes,
balances) are worked out in this file independently of the simulator: IBAN
check digits with Python's big integers, amounts from the fixture tables.
"""
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from decimal import Decimal
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, TESTS)

import bank_sftp  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

from lxml import etree  # noqa: E402

PY = "/usr/bin/python3"
CORPUS = bank_sftp.default_corpus()
VERBOSE = "-v" in sys.argv
FILTER = [a for a in sys.argv[1:] if not a.startswith("-")]

NS03 = bank_sftp.NS_PAIN001_03
NS09 = bank_sftp.NS_PAIN001_09
NS002 = bank_sftp.NS_PAIN002_10
NS053 = bank_sftp.NS_CAMT053_02
NS052 = bank_sftp.NS_CAMT052_02


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


# -- independent helpers ---------------------------------------------------

def make_iban(country, bban):
    """IBAN with correct check digits (ISO 13616 via big integers)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%s%02d%s" % (country, 98 - int(digits) % 97, bban)


IBAN_DE = "DE89370400440532013000"      # the classic published example
IBAN_GB = "GB29NWBK60161331926819"
IBAN_NL = "NL91ABNA0417164300"
IBAN_FR = make_iban("FR", "20041010050500013M02606")
IBAN_CH = make_iban("CH", "0076201162385295" + "7")
IBAN_BAD_SUM = "DE89370400440532013001"  # one digit off
IBAN_BAD_LEN = make_iban("DE", "3704004405320130001")  # 23 chars, sum ok
DEBTOR = make_iban("DE", "500105175407324931")
DEBTOR2 = make_iban("NL", "INGB0001234567")
BIC_OK = "COBADEFFXXX"
BIC_BAD = "COBAQQFF"    # no country QQ; passes the XSD pattern


def pain001(ns, msg_id, pmtinfs, nb=None, ctrl=None, drop_msgid=False):
    """pain.001 text. pmtinfs: list of dicts (id, dbtr, bic, txs); tx dicts
    (e2e, amt, ccy, iban, bic, name, rmt)."""
    bic = "BIC" if ns == NS03 else "BICFI"
    all_tx = [t for p in pmtinfs for t in p["txs"]]
    nb = len(all_tx) if nb is None else nb
    ctrl = sum((Decimal(t["amt"]) for t in all_tx), Decimal(0)) \
        if ctrl is None else ctrl
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<Document xmlns="%s"><CstmrCdtTrfInitn><GrpHdr>' % ns]
    if not drop_msgid:
        out.append("<MsgId>%s</MsgId>" % msg_id)
    out.append("<CreDtTm>2024-03-01T10:00:00</CreDtTm><NbOfTxs>%d</NbOfTxs>"
               "<CtrlSum>%s</CtrlSum><InitgPty><Nm>Treasury Test AG</Nm>"
               "</InitgPty></GrpHdr>" % (nb, ctrl))
    for p in pmtinfs:
        psum = sum((Decimal(t["amt"]) for t in p["txs"]), Decimal(0))
        out.append("<PmtInf><PmtInfId>%s</PmtInfId><PmtMtd>TRF</PmtMtd>"
                   "<NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>"
                   % (p["id"], len(p["txs"]), psum))
        if ns == NS03:
            out.append("<ReqdExctnDt>2024-03-04</ReqdExctnDt>")
        else:
            out.append("<ReqdExctnDt><Dt>2024-03-04</Dt></ReqdExctnDt>")
        out.append("<Dbtr><Nm>Treasury Test AG</Nm></Dbtr>"
                   "<DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>"
                   "<DbtrAgt><FinInstnId><%s>%s</%s></FinInstnId></DbtrAgt>"
                   % (p.get("dbtr", DEBTOR), bic, p.get("bic", BIC_OK), bic))
        for t in p["txs"]:
            out.append("<CdtTrfTxInf><PmtId><InstrId>I-%s</InstrId>"
                       "<EndToEndId>%s</EndToEndId></PmtId>"
                       "<Amt><InstdAmt Ccy=\"%s\">%s</InstdAmt></Amt>"
                       % (t["e2e"], t["e2e"], t.get("ccy", "EUR"), t["amt"]))
            if t.get("bic"):
                out.append("<CdtrAgt><FinInstnId><%s>%s</%s></FinInstnId>"
                           "</CdtrAgt>" % (bic, t["bic"], bic))
            out.append("<Cdtr><Nm>%s</Nm></Cdtr><CdtrAcct><Id><IBAN>%s</IBAN>"
                       "</Id></CdtrAcct><RmtInf><Ustrd>%s</Ustrd></RmtInf>"
                       "</CdtTrfTxInf>"
                       % (escape(t.get("name", "Supplier GmbH")), t["iban"],
                          escape(t.get("rmt", "Invoice " + t["e2e"]))))
        out.append("</PmtInf>")
    out.append("</CstmrCdtTrfInitn></Document>\n")
    return "".join(out)


def tx(e2e, amt, iban=IBAN_GB, ccy="EUR", bic=BIC_OK, **kw):
    d = dict(e2e=e2e, amt=amt, iban=iban, ccy=ccy, bic=bic)
    d.update(kw)
    return d


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def parse(path):
    return etree.parse(path, bank_sftp.safe_parser())


def xsd_errors(path):
    return bank_sftp.validate_file(path, corpus=CORPUS)


def xsd_errors_xmllint(path, ns):
    """Second opinion from libxml2's xmllint, when present."""
    xmllint = shutil.which("xmllint")
    if not xmllint:
        return None
    xsd = os.path.join(CORPUS, "xsd", bank_sftp.XSD_FILES[ns])
    r = subprocess.run([xmllint, "--noout", "--nonet", "--schema", xsd,
                        path], capture_output=True, text=True)
    return r.returncode, r.stderr


def status_doc(sim, rec):
    check(rec["status_files"], "no pain.002 written for %s" % rec["file"])
    p = os.path.join(sim.download, rec["status_files"][0])
    errs = xsd_errors(p)
    check(not errs, "pain.002 %s invalid: %s" % (p, errs))
    return parse(p)


def t002(doc, path):
    r = doc.find("/".join("{%s}%s" % (NS002, n) for n in path.split("/")))
    return None if r is None else r.text


def tx_status(doc):
    """{e2e: (TxSts, [reason codes])} from a pain.002."""
    out = {}
    q = lambda n: "{%s}%s" % (NS002, n)
    for t in doc.iter(q("TxInfAndSts")):
        e2e = t.findtext(q("OrgnlEndToEndId"))
        codes = [c.text for c in t.iter(q("Cd"))]
        out[e2e] = (t.findtext(q("TxSts")), codes)
    return out


def new_sim(tmp, **kw):
    root = os.path.join(tmp, "bank")
    kw.setdefault("booking_date", dt.date(2024, 3, 4))
    return bank_sftp.BankSim(root, corpus=CORPUS, **kw)


def drop(sim, name, text):
    write(os.path.join(sim.upload, name), text)


# -- simulator tests ---------------------------------------------------------

def test_iban_bic_tables():
    for good in (IBAN_DE, IBAN_GB, IBAN_NL, IBAN_FR, IBAN_CH, DEBTOR, DEBTOR2,
                 "BE68539007547034", "NO9386011117947"):
        check(bank_sftp.iban_valid(good), "valid iban refused: " + good)
    for bad in (IBAN_BAD_SUM, IBAN_BAD_LEN, "XX89370400440532013000",
                "de89370400440532013000", "", "DE", None):
        check(not bank_sftp.iban_valid(bad), "bad iban accepted: %r" % bad)
    for good in ("COBADEFFXXX", "INGBNL2A", "NWBKGB2L", "DEUTDEFF500"):
        check(bank_sftp.bic_valid(good), "valid bic refused: " + good)
    for bad in (BIC_BAD, "COBADEF", "COBADEFFXX", "cobadeff", "1OBADEFF"):
        check(not bank_sftp.bic_valid(bad), "bad bic accepted: " + bad)


def test_valid_file_accepted_and_booked(tmp):
    sim = new_sim(tmp)
    for ns, msg in ((NS03, "MSG-OK-03"), (NS09, "MSG-OK-09")):
        drop(sim, msg + ".xml", pain001(ns, msg, [
            {"id": "PMT-" + msg, "txs": [
                tx(msg + "-1", "100.25", IBAN_GB, name="Acme Ltd",
                   rmt="Invoice 4711"),
                tx(msg + "-2", "1000", IBAN_FR, bic=None)]}]))
        recs = sim.process_once()
        eq(len(recs), 1, "records for " + msg)
        r = recs[0]
        eq((r["verdict"], r["reason"], r["msg_id"], r["n_tx"]),
           ("ACCP", None, msg, 2), "arrival record " + msg)
        doc = status_doc(sim, r)
        eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts"), "ACCP",
           "GrpSts")
        eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId"), msg,
           "OrgnlMsgId")
        eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgNmId"),
           "pain.001.001.0" + ns[-1], "OrgnlMsgNmId")
        eq(t002(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/OrgnlPmtInfId"),
           "PMT-" + msg, "OrgnlPmtInfId")
        eq(tx_status(doc), {msg + "-1": ("ACCP", []),
                            msg + "-2": ("ACCP", [])}, "tx statuses")
        check(not os.path.exists(os.path.join(sim.upload, msg + ".xml")),
              "processed upload still in the upload folder")
    led = json.load(open(sim.ledger.path(DEBTOR, "EUR")))
    eq([(e["end_to_end_id"], e["amount"], e["cdt_dbt"]) for e in
        led["entries"]],
       [("MSG-OK-03-1", "100.25", "DBIT"), ("MSG-OK-03-2", "1000.00", "DBIT"),
        ("MSG-OK-09-1", "100.25", "DBIT"), ("MSG-OK-09-2", "1000.00", "DBIT")],
       "ledger entries")
    e0 = led["entries"][0]
    eq((e0["counterparty"]["name"], e0["counterparty"]["account"],
        e0["remittance"], e0["booking_date"]),
       ("Acme Ltd", IBAN_GB, "Invoice 4711", "2024-03-04"), "ledger entry")
    eq(sim.balance(DEBTOR, "EUR"),
       (Decimal("1000000"), Decimal("1000000") - Decimal("2200.50")),
       "balance")
    eq(len(sim.arrivals()), 2, "arrivals")
    if xsd_errors_xmllint:
        p = os.path.join(sim.download, sim.arrivals()[0]["status_files"][0])
        res = xsd_errors_xmllint(p, NS002)
        if res is not None:
            eq(res[0], 0, "xmllint on pain.002: " + res[1])


# (e2e, amount, currency, iban, bic, expected status, expected reasons)
TX_TABLE = [
    ("T-OK", "10.00", "EUR", IBAN_NL, BIC_OK, "ACCP", []),
    ("T-BADSUM", "10.00", "EUR", IBAN_BAD_SUM, BIC_OK, "RJCT", ["AC01"]),
    ("T-BADLEN", "10.00", "EUR", IBAN_BAD_LEN, BIC_OK, "RJCT", ["AC01"]),
    ("T-BADBIC", "10.00", "EUR", IBAN_NL, BIC_BAD, "RJCT", ["RC01"]),
    ("T-3DEC", "10.001", "EUR", IBAN_NL, BIC_OK, "RJCT", ["AM12"]),
    ("T-JPYDEC", "100.5", "JPY", IBAN_NL, BIC_OK, "RJCT", ["AM12"]),
    ("T-JPYOK", "100", "JPY", IBAN_NL, BIC_OK, "ACCP", []),
    ("T-BHD3", "1.125", "BHD", IBAN_NL, BIC_OK, "ACCP", []),
    ("T-ZERO", "0", "EUR", IBAN_NL, BIC_OK, "RJCT", ["AM01"]),
    ("T-CCY", "5.00", "XYZ", IBAN_NL, BIC_OK, "RJCT", ["AM03"]),
    ("T-TWO", "1.999", "EUR", IBAN_BAD_SUM, BIC_OK, "RJCT", ["AC01", "AM12"]),
]


def test_bad_transactions_part(tmp):
    sim = new_sim(tmp)
    drop(sim, "mixed.xml", pain001(NS03, "MSG-MIXED", [
        {"id": "PMT-MIXED", "txs": [tx(e, a, i, c, b)
                                    for e, a, c, i, b, _, _ in TX_TABLE]}]))
    (r,) = sim.process_once()
    eq((r["verdict"], r["reason"]), ("PART", None), "file verdict")
    want_acc = sum(1 for row in TX_TABLE if row[5] == "ACCP")
    eq((r["accepted"], r["rejected"]), (want_acc, len(TX_TABLE) - want_acc),
       "counts")
    doc = status_doc(sim, r)
    eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts"), "PART",
       "GrpSts")
    eq(t002(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/PmtInfSts"), "PART",
       "PmtInfSts")
    got = tx_status(doc)
    for e2e, _, _, _, _, st, reasons in TX_TABLE:
        eq(got.get(e2e), (st, reasons), "status of " + e2e)
    # only accepted ones are booked, each in its currency's ledger
    booked = {(led["currency"], e["end_to_end_id"], e["amount"])
              for led in sim.ledgers() for e in led["entries"]}
    eq(booked, {("EUR", "T-OK", "10.00"), ("JPY", "T-JPYOK", "100"),
                ("BHD", "T-BHD3", "1.125")}, "booked entries")

    # the same kind of file with only bad transactions is a file RJCT
    drop(sim, "allbad.xml", pain001(NS09, "MSG-ALLBAD", [
        {"id": "PMT-ALLBAD", "txs": [tx("B-1", "1.00", IBAN_BAD_SUM)]}]))
    (r,) = sim.process_once()
    eq((r["verdict"], r["reason"]), ("RJCT", None), "all-bad verdict")
    eq(tx_status(status_doc(sim, r)), {"B-1": ("RJCT", ["AC01"])}, "all-bad")

    # a bad debtor account rejects its whole payment information block
    drop(sim, "baddebtor.xml", pain001(NS03, "MSG-BADDBTR", [
        {"id": "PMT-BD", "dbtr": IBAN_BAD_SUM,
         "txs": [tx("D-1", "1.00"), tx("D-2", "2.00")]},
        {"id": "PMT-GOOD", "txs": [tx("D-3", "3.00")]}]))
    (r,) = sim.process_once()
    eq(r["verdict"], "PART", "bad debtor verdict")
    eq(tx_status(status_doc(sim, r)),
       {"D-1": ("RJCT", ["AC02"]), "D-2": ("RJCT", ["AC02"]),
        "D-3": ("ACCP", [])}, "bad debtor statuses")


def test_duplicate_msgid(tmp):
    sim = new_sim(tmp)
    text = pain001(NS03, "MSG-DUP", [{"id": "PMT-DUP", "txs": [
        tx("DUP-1", "50.00")]}])
    drop(sim, "first.xml", text)
    (r1,) = sim.process_once()
    eq(r1["verdict"], "ACCP", "first verdict")
    # same content, new name (a resend after a lost acknowledgement)
    drop(sim, "second.xml", text)
    (r2,) = sim.process_once()
    eq((r2["verdict"], r2["reason"]), ("RJCT", "DUPL"), "second verdict")
    eq(r2["sha256"], r1["sha256"], "same bytes on the wire")
    doc = status_doc(sim, r2)
    eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts"), "RJCT", "GrpSts")
    eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd"),
       "DUPL", "group reason")
    eq(tx_status(doc), {"DUP-1": ("RJCT", ["DUPL"])}, "tx reason")
    eq(sim.count_arrivals(msg_id="MSG-DUP"), 2, "arrivals of MSG-DUP")
    eq(sim.count_arrivals(sha256=r1["sha256"]), 2, "arrivals by hash")
    lines = open(sim.arrivals_path).read().splitlines()
    eq(len(lines), 2, "arrival log lines")
    eq([json.loads(l)["file"] for l in lines], ["first.xml", "second.xml"],
       "arrival log order")
    led = json.load(open(sim.ledger.path(DEBTOR, "EUR")))
    eq(len(led["entries"]), 1, "duplicate not booked twice")
    # a fresh simulator on the same root still knows the MsgId
    sim2 = new_sim(tmp)
    drop(sim2, "third.xml", text)
    (r3,) = sim2.process_once()
    eq(r3["reason"], "DUPL", "duplicate after restart")
    check(r3["seq"] > r2["seq"], "sequence survives restart")


def test_file_level_rejects(tmp):
    sim = new_sim(tmp)
    ok = [{"id": "P", "txs": [tx("F-1", "1.50"), tx("F-2", "2.50")]}]
    cases = [
        ("noid.xml", pain001(NS03, "X", ok, drop_msgid=True), "FF01"),
        ("nbtx.xml", pain001(NS03, "MSG-NB", ok, nb=3), "AM18"),
        ("ctrl.xml", pain001(NS09, "MSG-CS", ok, ctrl="4.01"), "AM10"),
        ("garbage.xml", "this is not xml <", "FF01"),
        ("ns.xml", pain001(NS03, "MSG-NS", ok).replace(
            "pain.001.001.03", "pain.001.001.02"), "FF01"),
        ("xxe.xml", '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM '
         '"file:///etc/passwd">]>\n<Document xmlns="%s">&x;</Document>'
         % NS03, "FF01"),
    ]
    for name, text, code in cases:
        drop(sim, name, text)
        (r,) = sim.process_once()
        eq((r["verdict"], r["reason"]), ("RJCT", code), "verdict of " + name)
        doc = status_doc(sim, r)
        eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd"),
           code, "reason in pain.002 of " + name)
        raw = open(os.path.join(sim.download, r["status_files"][0])).read()
        check("root:" not in raw, "entity expanded into pain.002")
    eq(sum(len(l["entries"]) for l in sim.ledgers()), 0, "nothing booked")


def test_ignored_names_and_keep_mode(tmp):
    sim = new_sim(tmp, keep_uploads=True)
    text = pain001(NS03, "MSG-KEEP", [{"id": "P", "txs": [tx("K", "1.00")]}])
    drop(sim, ".h2h-tmp.partial.xml", text[:100])
    drop(sim, ".hidden.xml", text)
    eq(sim.process_once(), [], "dot-files must be ignored")
    drop(sim, "keep.xml", text)
    eq(len(sim.process_once()), 1, "first pass")
    eq(sim.process_once(), [], "a kept file is processed once")
    check(os.path.exists(os.path.join(sim.upload, "keep.xml")), "kept")
    time.sleep(0.01)
    os.unlink(os.path.join(sim.upload, "keep.xml"))
    drop(sim, "keep.xml", text)   # overwritten on the wire
    (r,) = sim.process_once()
    eq(r["reason"], "DUPL", "re-upload under the same name")
    eq(sim.count_arrivals(name="keep.xml"), 2, "arrivals of keep.xml")


def test_reject_all_delay_no_status(tmp):
    sim = new_sim(tmp, reject_all="MS03", delay_ms=150)
    drop(sim, "a.xml", pain001(NS03, "MSG-RA", [{"id": "P", "txs": [
        tx("R", "1.00")]}]))
    t0 = time.monotonic()
    (r,) = sim.process_once()
    check(time.monotonic() - t0 >= 0.14, "delay_ms not applied")
    eq((r["verdict"], r["reason"]), ("RJCT", "MS03"), "reject-all")
    status_doc(sim, r)
    eq(sum(len(l["entries"]) for l in sim.ledgers()), 0, "nothing booked")
    sim2 = new_sim(os.path.join(tmp, "b"), no_status=True, status_copies=1)
    drop(sim2, "b.xml", pain001(NS03, "MSG-NS", [{"id": "P", "txs": [
        tx("N", "1.00")]}]))
    (r,) = sim2.process_once()
    eq((r["verdict"], r["status_files"]), ("ACCP", []), "no status")
    eq(os.listdir(sim2.download), [], "download folder stays empty")
    sim3 = new_sim(os.path.join(tmp, "c"), status_copies=2)
    drop(sim3, "c.xml", pain001(NS03, "MSG-2X", [{"id": "P", "txs": [
        tx("C", "1.00")]}]))
    (r,) = sim3.process_once()
    eq(len(os.listdir(sim3.download)), 2, "status copies")


def test_settle_and_readonly_upload(tmp):
    sim = new_sim(tmp, settle_ms=200)
    text = pain001(NS03, "MSG-SETTLE", [{"id": "P", "txs": [tx("S", "1")]}])
    drop(sim, "s.xml", text)
    eq(sim.process_once(), [], "a file seen for the first time waits")
    time.sleep(0.3)
    eq([r["msg_id"] for r in sim.process_once()], ["MSG-SETTLE"], "settled")
    if os.geteuid() == 0:
        return    # root ignores folder permissions
    sim.settle_ms = 0
    drop(sim, "ro.xml", text.replace("MSG-SETTLE", "MSG-RO"))
    os.chmod(sim.upload, 0o555)
    try:
        (r,) = sim.process_once()
        eq(r["verdict"], "ACCP", "read-only upload still processed")
        check(os.path.exists(os.path.join(sim.upload, "ro.xml")),
              "file cannot have moved")
        eq(sim.process_once(), [], "and is not processed twice")
    finally:
        os.chmod(sim.upload, 0o755)


MT101_OK = """{1:F01TESTDEFFAXXX0000000000}{2:I101SIMBDEFFXXXXN}{4:
:20:MT-REF-1
:28D:1/1
:50H:/%s
Treasury Test AG
:30:240304
:21:MT-TX-1
:32B:EUR1234,56
:57A:NWBKGB2L
:59:/%s
Acme Ltd
London
:70:INVOICE 99
:71A:SHA
:21:MT-TX-2
:32B:EUR10,
:59:/%s
Bad Account Ltd
:71A:OUR
:21:MT-TX-3
:32B:JPY10,5
:59:/%s
Yen Supplier
:71A:SHA
-}""" % (DEBTOR, IBAN_GB, IBAN_BAD_SUM, IBAN_NL)


def test_mt101(tmp):
    sim = new_sim(tmp)
    drop(sim, "pay.mt101", MT101_OK.replace("\n", "\r\n"))
    (r,) = sim.process_once()
    eq((r["format"], r["msg_id"], r["n_tx"], r["verdict"]),
       ("MT101", "MT-REF-1", 3, "PART"), "mt101 record")
    doc = status_doc(sim, r)
    eq(t002(doc, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgNmId"), "MT101",
       "OrgnlMsgNmId")
    eq(tx_status(doc), {"MT-TX-1": ("ACCP", []),
                        "MT-TX-2": ("RJCT", ["AC01"]),
                        "MT-TX-3": ("RJCT", ["AM12"])}, "mt101 statuses")
    led = json.load(open(sim.ledger.path(DEBTOR, "EUR")))
    eq([(e["end_to_end_id"], e["amount"], e["remittance"])
        for e in led["entries"]], [("MT-TX-1", "1234.56", "INVOICE 99")],
       "mt101 booking")
    drop(sim, "broken.mt101", MT101_OK.replace(":28D:1/1", ":28D:x"))
    (r,) = sim.process_once()
    eq((r["verdict"], r["reason"]), ("RJCT", "FF01"), "broken mt101")
    drop(sim, "again.mt101", MT101_OK)
    (r,) = sim.process_once()
    eq(r["reason"], "DUPL", "mt101 duplicate :20:")


def camt_numbers(path, ns):
    """(opening, closing, [(signed amount, e2e, name, ustrd)]) of a camt."""
    q = lambda n: "{%s}%s" % (ns, n)
    doc = parse(path)
    st = next(iter(doc.getroot()))[1]
    bals = {}
    for b in st.findall(q("Bal")):
        code = b.find(".//" + q("Cd")).text
        amt = Decimal(b.findtext(q("Amt")))
        bals[code] = amt if b.findtext(q("CdtDbtInd")) == "CRDT" else -amt
    ents = []
    for n in st.findall(q("Ntry")):
        a = Decimal(n.findtext(q("Amt")))
        a = a if n.findtext(q("CdtDbtInd")) == "CRDT" else -a
        ents.append((a, n.findtext(".//" + q("EndToEndId")),
                     n.findtext(".//" + q("RltdPties") + "//" + q("Nm")),
                     n.findtext(".//" + q("Ustrd"))))
    return bals, ents


def mt940_numbers(path):
    text = open(path).read()
    def bal(tag):
        m = re.search(r":%s:([CD])(\d{6})([A-Z]{3})([0-9,]+)" % tag, text)
        v = Decimal(m.group(4).replace(",", "."))
        return v if m.group(1) == "C" else -v
    moves = [(Decimal(m.group(2).replace(",", ".")) *
              (1 if m.group(1) == "C" else -1))
             for m in re.finditer(r":61:\d{10}([CD])([0-9,]+)N", text)]
    return bal("60F"), bal("62F"), moves


def test_statements(tmp):
    day1, day2 = dt.date(2024, 3, 4), dt.date(2024, 3, 5)
    sim = new_sim(tmp, booking_date=day1)
    drop(sim, "d1.xml", pain001(NS03, "MSG-D1", [{"id": "P1", "txs": [
        tx("S-1", "100.10", name="Acme Ltd", rmt="Invoice 1"),
        tx("S-2", "0.90", IBAN_BAD_SUM),
        tx("S-3", "250.00", IBAN_FR, name="Fournisseur SA", rmt="Facture 7")]}]))
    sim.process_once()
    sim.credit(DEBTOR, "75.05", "EUR", end_to_end_id="IN-1",
               counterparty={"name": "Customer Oy", "account": IBAN_NL},
               remittance="Payment for order 5")
    paths = sim.write_statements(day1, ("camt053", "camt052", "mt940"))
    eq(sorted(os.path.basename(p).split("_")[0] for p in paths),
       ["camt052", "camt053", "mt940"], "statement kinds")
    p053 = [p for p in paths if "camt053" in p][0]
    p052 = [p for p in paths if "camt052" in p][0]
    for p, ns in ((p053, NS053), (p052, NS052)):
        errs = xsd_errors(p)
        check(not errs, "%s invalid: %s" % (p, errs))
        res = xsd_errors_xmllint(p, ns)
        if res is not None:
            eq(res[0], 0, "xmllint " + p + ": " + res[1])
    bals, ents = camt_numbers(p053, NS053)
    # expected from the fixture alone: 1,000,000 - 100.10 - 250.00 + 75.05
    eq(bals["OPBD"], Decimal("1000000.00"), "OPBD day 1")
    eq(bals["CLBD"], Decimal("999724.95"), "CLBD day 1")
    eq(bals["OPBD"] + sum(a for a, _, _, _ in ents), bals["CLBD"],
       "day 1 balances add up")
    eq(sorted(ents), sorted([
        (Decimal("-100.10"), "S-1", "Acme Ltd", "Invoice 1"),
        (Decimal("-250.00"), "S-3", "Fournisseur SA", "Facture 7"),
        (Decimal("75.05"), "IN-1", "Customer Oy", "Payment for order 5")]),
       "day 1 entries")
    bals52, ents52 = camt_numbers(p052, NS052)
    eq((bals52["OPBD"], bals52["ITBD"], len(ents52)),
       (bals["OPBD"], bals["CLBD"], 3), "camt.052 numbers")
    o, c, moves = mt940_numbers([p for p in paths if "mt940" in p][0])
    eq((o, c), (bals["OPBD"], bals["CLBD"]), "mt940 balances")
    eq(o + sum(moves), c, "mt940 balances add up")

    # next day: opening == yesterday's closing
    sim.booking_date = day2
    drop(sim, "d2.xml", pain001(NS09, "MSG-D2", [{"id": "P2", "txs": [
        tx("S-4", "999.99")]}]))
    sim.process_once()
    paths2 = sim.write_statements(day2, ("camt053",))
    eq(len(paths2), 1, "one statement per ledger")
    check(not xsd_errors(paths2[0]), "day 2 camt.053 invalid")
    b2, e2 = camt_numbers(paths2[0], NS053)
    eq(b2["OPBD"], bals["CLBD"], "OPBD day 2 == CLBD day 1")
    eq(b2["CLBD"], bals["CLBD"] - Decimal("999.99"), "CLBD day 2")
    eq([e[1] for e in e2], ["S-4"], "day 2 entries")
    # electronic sequence numbers go up per account
    q = lambda n: "{%s}%s" % (NS053, n)
    seqs = [parse(p).find(".//" + q("ElctrncSeqNb")).text
            for p in (p053, paths2[0])]
    eq(seqs, ["1", "2"], "ElctrncSeqNb")


def iban_mod97(s):
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97


# corpus file -> (verdict, file reason); every other corpus pain.001 must be
# refused as FF01 (foreign namespaces, stubs, a schema-invalid generator)
CORPUS_EXPECT = {
    "nlsepa__ing_pain.001.001.03_voorbeeldbestand.xml": ("ACCP", None),
    "nlsepa__abn_pain.001.001.03_voorbeeldbestand.xml": ("ACCP", None),
    "dvbern__pain001TestReference_v00109ch03.xml": ("ACCP", None),
    # its creditor IBAN NL90ABNA0111111111 fails mod-97 (checked below)
    "nlsepa__main_example.xml": ("RJCT", None),
}


def test_corpus_pain001(tmp):
    # real files, read-only: copied into the temporary bank, never the repo
    check(iban_mod97("NL90ABNA0111111111") != 1, "corpus premise")
    sim = new_sim(tmp)
    src = os.path.join(CORPUS, "pain001")
    names = sorted(n for n in os.listdir(src) if n.endswith(".xml"))
    check(len(names) >= 10, "corpus pain001 folder looks empty")
    for name in names:
        shutil.copyfile(os.path.join(src, name), os.path.join(sim.upload,
                                                              name))
        (r,) = sim.process_once()
        want = CORPUS_EXPECT.get(name, ("RJCT", "FF01"))
        eq((r["verdict"], r["reason"]), want, "corpus " + name)
        status_doc(sim, r)    # always answered, always schema-valid
    r = [a for a in sim.arrivals() if a["file"].startswith("nlsepa__ing")][0]
    eq((r["format"], r["msg_id"], r["n_tx"]), ("pain.001.001.03", "MSGID005",
                                               1), "ing file record")
    r = [a for a in sim.arrivals() if a["file"] == "nlsepa__main_example.xml"]
    eq([t["reasons"] for t in r[0]["tx"]], [["AC01"]], "main example")


def run_cli(args, **kw):
    return subprocess.run([PY, os.path.join(HERE, "bank_sftp.py")] + args,
                          capture_output=True, text=True, timeout=60, **kw)


def test_cli_once_and_service(tmp):
    root = os.path.join(tmp, "bank")
    os.makedirs(os.path.join(root, "in"))
    write(os.path.join(root, "in", "a.xml"), pain001(NS03, "MSG-CLI", [
        {"id": "P", "txs": [tx("C-1", "12.34")]}]))
    env = dict(os.environ, H2H_CORPUS=CORPUS)
    r = run_cli(["--root", root, "--upload-dir", "in", "--download-dir", "out",
                 "--once", "--statement-now", "--booking-date", "2024-03-04",
                 "--statement-kinds", "camt053,mt940", "-q"], env=env)
    eq(r.returncode, 0, "cli --once exit (stderr %s)" % r.stderr)
    out = sorted(os.listdir(os.path.join(root, "out")))
    eq([n.split("_")[0] for n in out], ["camt053", "mt940", "pain002"],
       "cli outputs")
    arr = [json.loads(l) for l in open(os.path.join(root, ".banksim",
                                                    "arrivals.jsonl"))]
    eq([(a["msg_id"], a["verdict"]) for a in arr], [("MSG-CLI", "ACCP")],
       "cli arrivals")

    # service mode: picks files up while running, statement on trigger,
    # clean exit on SIGTERM
    root2 = os.path.join(tmp, "bank2")
    arrivals = os.path.join(tmp, "arr.jsonl")
    p = subprocess.Popen([PY, os.path.join(HERE, "bank_sftp.py"), "--root",
                          root2, "--arrivals", arrivals, "--poll-ms", "50",
                          "-q"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        up = os.path.join(root2, "upload")
        deadline = time.time() + 20
        while not os.path.isdir(up) and time.time() < deadline:
            time.sleep(0.05)
        write(os.path.join(up, ".h2h-tmp.x"), pain001(NS03, "MSG-SVC", [
            {"id": "P", "txs": [tx("V-1", "1.00")]}]))
        os.rename(os.path.join(up, ".h2h-tmp.x"), os.path.join(up, "v.xml"))
        dl = os.path.join(root2, "download")
        while time.time() < deadline and not any(
                n.startswith("pain002") for n in os.listdir(dl)):
            time.sleep(0.05)
        check(any(n.startswith("pain002") for n in os.listdir(dl)),
              "service wrote no pain.002")
        write(os.path.join(root2, ".banksim", "statement.trigger"),
              "2024-01-02 camt052\n")
        while time.time() < deadline and not any(
                n.startswith("camt052") for n in os.listdir(dl)):
            time.sleep(0.05)
        check(any(n.startswith("camt052_") and "20240102" in n
                  for n in os.listdir(dl)), "trigger produced no camt.052")
        p.send_signal(signal.SIGTERM)
        eq(p.wait(timeout=10), 0, "service exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    eq(len(open(arrivals).readlines()), 1, "service arrivals")
    check(not [n for n in os.listdir(dl) if n.startswith(".")],
          "temporary files left in download")


# -- fault proxy tests --------------------------------------------------------

class EchoServer:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = 0
        self.stopped = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    def _echo(self, c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stopped = True
        self.sock.close()


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def recv_until_closed(s, limit, timeout=3):
    """Bytes received until EOF/reset or limit; (data, closed)."""
    s.settimeout(timeout)
    buf = b""
    try:
        while len(buf) < limit:
            d = s.recv(65536)
            if not d:
                return buf, True
            buf += d
    except (ConnectionResetError, BrokenPipeError):
        return buf, True
    except socket.timeout:
        return buf, False
    return buf, False


def test_proxy_forward_and_cut():
    echo = EchoServer()
    with FaultProxy(("127.0.0.1", echo.port), lifetime=60) as p:
        payload = os.urandom(200000)
        s = connect(p.port)
        t = threading.Thread(target=s.sendall, args=(payload,))
        t.start()
        got, closed = recv_until_closed(s, len(payload))
        t.join()
        eq((len(got), got == payload, closed), (len(payload), True, False),
           "plain forward")
        s.close()

        for direction, n in (("up", 1000), ("down", 700), ("both", 900)):
            p.cut_after(n, direction)
            s = connect(p.port)
            try:
                s.sendall(b"x" * 5000)
            except OSError:
                pass
            got, closed = recv_until_closed(s, 100000)
            check(closed, "cut %s: connection not closed" % direction)
            if direction == "up":
                eq(len(got) <= n, True, "cut up: echoed %d > %d" %
                   (len(got), n))
            elif direction == "down":
                eq(len(got), n, "cut down: bytes delivered")
            else:
                check(len(got) < n, "cut both: %d" % len(got))
            s.close()
        eq(p.snapshot()["cuts"], 3, "cut counter")
        p.cut_after(None)
        s = connect(p.port)
        s.sendall(b"y" * 5000)
        got, closed = recv_until_closed(s, 5000)
        eq((len(got), closed), (5000, False), "after cut off")
        s.close()
    echo.close()


def test_proxy_delay_swallow_stall():
    echo = EchoServer()
    with FaultProxy(("127.0.0.1", echo.port), lifetime=60) as p:
        s = connect(p.port)
        s.sendall(b"ping")
        eq(recv_until_closed(s, 4)[0], b"ping", "baseline echo")
        p.set_delay(200)
        t0 = time.monotonic()
        s.sendall(b"ping")
        got = recv_until_closed(s, 4)[0]
        el = time.monotonic() - t0
        eq(got, b"ping", "delayed echo")
        check(el >= 0.38, "delay too short: %.3fs" % el)
        p.set_delay(0)

        p.swallow(True)
        s.sendall(b"lost")
        got, closed = recv_until_closed(s, 4, timeout=0.5)
        eq((got, closed), (b"", False), "swallowed: nothing, still open")
        p.swallow(False)
        s.sendall(b"back")
        eq(recv_until_closed(s, 4)[0], b"back", "after swallow")
        check(p.snapshot()["swallowed_up"] == 4, "swallow counter")

        p.stall(True, "up")
        s.sendall(b"held")
        got, closed = recv_until_closed(s, 4, timeout=0.4)
        eq((got, closed), (b"", False), "stalled")
        p.stall(False, "up")
        eq(recv_until_closed(s, 4)[0], b"held", "stalled data released")
        eq(p.active(), 1, "one active connection")
        p.kill_all()
        got, closed = recv_until_closed(s, 10)
        check(closed, "kill_all closes")
        s.close()
    echo.close()


def test_proxy_refuse_lifetime_loopback():
    echo = EchoServer()
    p = FaultProxy(("127.0.0.1", echo.port), lifetime=60).start()
    port = p.port
    p.refuse(True, "rst")
    try:
        s = connect(port)
        got, closed = recv_until_closed(s, 10)
        s.close()
    except ConnectionResetError:
        # the reset may beat connect() to the finish: same outcome
        got, closed = b"", True
    check(closed and not got, "refuse rst: connection not reset")
    eq(p.snapshot()["refused"], 1, "refused counter")
    p.refuse(True, "closed")
    try:
        connect(port, timeout=2).close()
        raise Fail("refuse closed: connection accepted")
    except ConnectionRefusedError:
        pass
    p.refuse(False)
    eq(p.port, port, "same port after refusing")
    s = connect(port)
    s.sendall(b"hi")
    eq(recv_until_closed(s, 2)[0], b"hi", "serving again")
    s.close()
    p.stop()
    try:
        connect(port, timeout=2).close()
        raise Fail("stopped proxy still accepts")
    except ConnectionRefusedError:
        pass

    q = FaultProxy(("127.0.0.1", echo.port), lifetime=0.5).start()
    s = connect(q.port)
    time.sleep(1.0)
    check(q.stopped, "lifetime did not stop the proxy")
    got, closed = recv_until_closed(s, 10)
    check(closed, "lifetime end did not close connections")
    s.close()

    for target in (("10.1.2.3", 22), ("192.168.0.1", 22), ("8.8.8.8", 53)):
        try:
            FaultProxy(target)
            raise Fail("non-loopback target accepted: %r" % (target,))
        except ValueError:
            pass
    echo.close()


def test_proxy_cli():
    echo = EchoServer()
    p = subprocess.Popen([PY, os.path.join(TESTS, "faultproxy.py"),
                          "--target", "127.0.0.1:%d" % echo.port,
                          "--lifetime", "60", "-q"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        line = p.stdout.readline()
        m = re.fullmatch(r"LISTEN (\d+)\n", line)
        check(m, "no LISTEN line: %r" % line)
        port = int(m.group(1))

        def cmd(c):
            p.stdin.write(c + "\n")
            p.stdin.flush()
            return p.stdout.readline().strip()
        eq(cmd("cut 10 down"), "OK", "cut command")
        s = connect(port)
        s.sendall(b"z" * 100)
        got, closed = recv_until_closed(s, 1000)
        eq((len(got), closed), (10, True), "cli cut")
        s.close()
        eq(cmd("reset"), "OK", "reset")
        check("cuts=1" in cmd("stats"), "stats")
        check(cmd("bogus").startswith("ERR"), "unknown command")
        eq(cmd("quit"), "OK", "quit")
        eq(p.wait(timeout=10), 0, "cli exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = subprocess.run([PY, os.path.join(TESTS, "faultproxy.py"), "--target",
                        "10.0.0.1:22"], capture_output=True, text=True,
                       timeout=30)
    eq(r.returncode, 2, "cli refuses a non-loopback target")
    echo.close()


# -- runner --------------------------------------------------------------------

def main():
    if not os.path.isdir(os.path.join(CORPUS, "xsd")):
        print("corpus not found at %s (set H2H_CORPUS)" % CORPUS,
              file=sys.stderr)
        return 1
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f)]
    if FILTER:
        tests = [(n, f) for n, f in tests if any(x in n for x in FILTER)]
    failed = 0
    for name, f in tests:
        tmp = tempfile.mkdtemp(prefix="h2h-sims-")
        t0 = time.monotonic()
        try:
            if f.__code__.co_argcount:
                f(tmp)
            else:
                f()
            print("PASS %s (%.2fs)" % (name, time.monotonic() - t0))
        except Exception as e:
            failed += 1
            print("FAIL %s: %s" % (name, e))
            if VERBOSE or not isinstance(e, Fail):
                traceback.print_exc()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d/%d passed" % (len(tests) - failed, len(tests)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
