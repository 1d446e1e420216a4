#!/usr/bin/python3
"""A bank back office behind an SFTP folder, for h2hd's tests.

An independent implementation (Debian's /usr/bin/python3, stdlib plus
python3-lxml only): nothing here imports or calls h2hd's C code, so a bug in
formats/ cannot hide by agreeing with itself.

It works on folders only. Given the bank root (the folder an OpenSSH sshd
serves to h2hd) it watches an upload folder and, for every file that
arrives:

  * appends one JSON line to an arrival log (time, file, size, sha256,
    MsgId, number of transactions, verdict) so tests can count duplicates
    on the wire;
  * validates pain.001.001.03 / .09 against the official XSDs in
    $H2H_CORPUS/xsd, or MT101 (name ends with .mt101) with field checks;
  * rejects a MsgId it has seen before (file level RJCT, reason DUPL);
  * checks each transaction (IBAN mod-97 and length, BIC, amount > 0,
    decimals <= currency exponent) and answers with pain.002.001.10 in the
    download folder: ACCP, PART or RJCT with reason codes;
  * books accepted payments in a JSON ledger per account and currency;
  * on request writes camt.053.001.02, camt.052.001.02 and MT940.

Everything it renders is validated against the official XSDs before it is
published (written to a dot-file, then renamed), so a simulator bug fails
loudly instead of feeding h2hd a broken file.

State (ledger, arrival log, archive of processed uploads) lives in
<root>/.banksim unless told otherwise. See tests/sims/README.md.
"""
import argparse
import datetime as dt
import hashlib
import json
import os
import re
import signal
import stat
import sys
import threading
import time
from decimal import Decimal, InvalidOperation

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

NS_PAIN001_03 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
NS_PAIN001_09 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
NS_PAIN002_10 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
NS_CAMT053_02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
NS_CAMT052_02 = "urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"

XSD_FILES = {
    NS_PAIN001_03: "nlsepa__pain.001.001.03.xsd",
    NS_PAIN001_09: "sepaxml__pain.001.001.09.xsd",
    NS_PAIN002_10: "hbci4j__pain.002.001.10.xsd",
    NS_CAMT053_02: "genkgo__camt.053.001.02.xsd",
    NS_CAMT052_02: "genkgo__camt.052.001.02.xsd",
}
MSG_NAME = {NS_PAIN001_03: "pain.001.001.03", NS_PAIN001_09: "pain.001.001.09"}

MAX_FILE_BYTES = 64 * 1024 * 1024
TMP_PREFIX = ".banksim-tmp."

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
    # French overseas territories carry their own country code
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

BIC_RE = re.compile(r"^[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}([A-Z0-9]{3})?$")
# what camt.053.001.02's BICIdentifier accepts (stricter than real BICs)
BIC_XSD_RE = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")


def iban_valid(iban):
    """True when iban has a known country, its length and mod-97 == 1."""
    if not isinstance(iban, str):
        return False
    s = iban.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}", s):
        return False
    if IBAN_LEN.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    rem = 0
    for ch in moved:
        v = int(ch) if ch.isdigit() else ord(ch) - 55
        for d in str(v):
            rem = (rem * 10 + int(d)) % 97
    return rem == 1


def bic_valid(bic):
    """True for an 8 or 11 character BIC with a real ISO country code."""
    if not isinstance(bic, str):
        return False
    m = BIC_RE.fullmatch(bic)
    return bool(m) and m.group(1) in COUNTRIES


def looks_like_iban(s):
    return bool(re.match(r"^[A-Z]{2}[0-9]{2}", s or ""))


def to_minor(amount, exp):
    """Decimal -> int minor units; None when it has too many decimals."""
    scaled = amount * (Decimal(10) ** exp)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def fmt_minor(minor, ccy, sep="."):
    """int minor units -> unsigned decimal string with the ccy's digits."""
    exp = CCY_EXP.get(ccy, 2)
    minor = abs(int(minor))
    if exp == 0:
        return str(minor)
    s = str(minor).rjust(exp + 1, "0")
    return s[:-exp] + sep + s[-exp:]


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso_ts(t=None):
    return (t or utcnow()).isoformat()


def clip(s, n):
    s = "" if s is None else str(s)
    return s if len(s) <= n else s[:n]


def safe_name(s, n=40):
    s = re.sub(r"[^A-Za-z0-9_-]", "_", s or "")
    return s[:n] or "x"


def default_corpus():
    env = os.environ.get("H2H_CORPUS")
    if env:
        return env
    return os.path.normpath(os.path.join(REPO, "..", "shared", "corpus"))


def safe_parser():
    # No network, no entity expansion, no DTD loading; DOCTYPE is refused
    # separately because lxml has no switch to reject it outright.
    return etree.XMLParser(resolve_entities=False, no_network=True,
                           load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True)


def parse_xml_bytes(data):
    """Parse untrusted XML bytes safely; raises ValueError on DTD/garbage."""
    head = data[:4096]
    if b"<!DOCTYPE" in data or b"<!ENTITY" in head:
        raise ValueError("document type declarations are not accepted")
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as e:
        raise ValueError("not well-formed xml: %s" % e)
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise ValueError("document type declarations are not accepted")
    return tree


class Schemas:
    """Official XSDs from the corpus, loaded once each."""

    def __init__(self, corpus=None):
        self.corpus = corpus or default_corpus()
        self.xsd_dir = os.path.join(self.corpus, "xsd")
        self._cache = {}
        self._lock = threading.Lock()

    def available(self):
        return os.path.isdir(self.xsd_dir)

    def get(self, ns):
        with self._lock:
            if ns not in self._cache:
                path = os.path.join(self.xsd_dir, XSD_FILES[ns])
                if not os.path.exists(path):
                    raise RuntimeError(
                        "official schema %s missing (H2H_CORPUS=%s)"
                        % (path, self.corpus))
                doc = etree.parse(path, safe_parser())
                self._cache[ns] = etree.XMLSchema(doc)
            return self._cache[ns]

    def errors(self, ns, tree):
        """List of error strings, empty when tree is valid."""
        schema = self.get(ns)
        if schema.validate(tree):
            return []
        return ["line %d: %s" % (e.line, e.message)
                for e in schema.error_log][:10]


def validate_file(path, ns=None, corpus=None):
    """Validate an XML file against the official XSD for its namespace.

    Returns a list of errors (empty == valid). For tests."""
    with open(path, "rb") as f:
        tree = parse_xml_bytes(f.read())
    ns = ns or etree.QName(tree.getroot()).namespace
    if ns not in XSD_FILES:
        return ["no official schema for namespace %r" % ns]
    return Schemas(corpus).errors(ns, tree)


# --------------------------------------------------------------------------
# The parsed form of one incoming payment file.

class Tx:
    def __init__(self):
        self.instr_id = None
        self.e2e = None
        self.amount_raw = None   # text as received
        self.ccy = None
        self.cdtr_name = None
        self.cdtr_acct = None
        self.cdtr_acct_is_iban = True
        self.cdtr_bic = None
        self.remittance = None
        self.status = "ACCP"
        self.reasons = []
        self.minor = None

    def reject(self, code, info=None):
        self.status = "RJCT"
        if code not in [c for c, _ in self.reasons]:
            self.reasons.append((code, info))


class PmtInf:
    def __init__(self):
        self.id = None
        self.nb_of_txs = None
        self.ctrl_sum = None
        self.dbtr_name = None
        self.dbtr_acct = None
        self.dbtr_acct_is_iban = True
        self.dbtr_bic = None
        self.reasons = []
        self.txs = []


class Payment:
    def __init__(self, fmt):
        self.fmt = fmt           # pain.001.001.03 / pain.001.001.09 / MT101
        self.msg_id = None
        self.cre_dt_tm = None
        self.nb_of_txs = None
        self.ctrl_sum = None
        self.pmt_infs = []

    def txs(self):
        return [t for p in self.pmt_infs for t in p.txs]


class FileReject(Exception):
    """The whole file is refused with one reason code."""

    def __init__(self, code, info, payment=None):
        Exception.__init__(self, "%s: %s" % (code, info))
        self.code = code
        self.info = info
        self.payment = payment


def _q(ns, name):
    return "{%s}%s" % (ns, name)


def _text(el, ns, path):
    """Text at a slash separated path of local names below el, or None."""
    cur = [el]
    for part in path.split("/"):
        nxt = []
        for c in cur:
            nxt.extend(c.findall(_q(ns, part)))
        cur = nxt
        if not cur:
            return None
    t = cur[0].text
    return t.strip() if t is not None else None


def parse_pain001(tree, ns):
    root = tree.getroot()
    doc = root.find(_q(ns, "CstmrCdtTrfInitn"))
    p = Payment(MSG_NAME[ns])
    gh = doc.find(_q(ns, "GrpHdr"))
    p.msg_id = _text(gh, ns, "MsgId")
    p.cre_dt_tm = _text(gh, ns, "CreDtTm")
    p.nb_of_txs = _text(gh, ns, "NbOfTxs")
    p.ctrl_sum = _text(gh, ns, "CtrlSum")
    bic_tag = "BIC" if ns == NS_PAIN001_03 else "BICFI"
    for pel in doc.findall(_q(ns, "PmtInf")):
        pi = PmtInf()
        pi.id = _text(pel, ns, "PmtInfId")
        pi.nb_of_txs = _text(pel, ns, "NbOfTxs")
        pi.ctrl_sum = _text(pel, ns, "CtrlSum")
        pi.dbtr_name = _text(pel, ns, "Dbtr/Nm")
        pi.dbtr_acct = _text(pel, ns, "DbtrAcct/Id/IBAN")
        if pi.dbtr_acct is None:
            pi.dbtr_acct = _text(pel, ns, "DbtrAcct/Id/Othr/Id")
            pi.dbtr_acct_is_iban = False
        pi.dbtr_bic = _text(pel, ns, "DbtrAgt/FinInstnId/" + bic_tag)
        for tel in pel.findall(_q(ns, "CdtTrfTxInf")):
            t = Tx()
            t.instr_id = _text(tel, ns, "PmtId/InstrId")
            t.e2e = _text(tel, ns, "PmtId/EndToEndId")
            amt = tel.find("%s/%s" % (_q(ns, "Amt"), _q(ns, "InstdAmt")))
            if amt is None:
                amt = tel.find("%s/%s/%s" % (_q(ns, "Amt"), _q(ns, "EqvtAmt"),
                                             _q(ns, "Amt")))
            if amt is not None:
                t.amount_raw = (amt.text or "").strip()
                t.ccy = amt.get("Ccy")
            t.cdtr_bic = _text(tel, ns, "CdtrAgt/FinInstnId/" + bic_tag)
            t.cdtr_name = _text(tel, ns, "Cdtr/Nm")
            t.cdtr_acct = _text(tel, ns, "CdtrAcct/Id/IBAN")
            if t.cdtr_acct is None:
                t.cdtr_acct = _text(tel, ns, "CdtrAcct/Id/Othr/Id")
                t.cdtr_acct_is_iban = False
            ustrd = [(u.text or "").strip() for u in
                     tel.findall("%s/%s" % (_q(ns, "RmtInf"), _q(ns, "Ustrd")))]
            if not ustrd:
                ref = _text(tel, ns, "RmtInf/Strd/CdtrRefInf/Ref")
                if ref:
                    ustrd = [ref]
            t.remittance = " ".join(u for u in ustrd if u) or None
            pi.txs.append(t)
        p.pmt_infs.append(pi)
    return p


# MT101 --------------------------------------------------------------------

MT_FIELD_RE = re.compile(r"^:([0-9]{2}[A-Z]?):(.*)$")


def _mt_block4(text):
    """The text block of a SWIFT message, or the whole text without one."""
    if "{1:" in text:
        if text.count("{1:") > 1:
            raise FileReject("FF01", "only one mt101 message per file")
        i = text.find("{4:")
        if i < 0:
            raise FileReject("FF01", "swift envelope without text block")
        j = text.find("\n-}", i)
        if j < 0:
            j = text.find("-}", i)
        if j < 0:
            raise FileReject("FF01", "text block not terminated")
        return text[i + 3:j]
    return text


def _mt_fields(body):
    fields = []
    for raw in body.split("\n"):
        line = raw.rstrip("\r")
        m = MT_FIELD_RE.match(line)
        if m:
            fields.append([m.group(1), m.group(2)])
        elif fields:
            if line.strip() == "-":
                continue
            fields[-1][1] += "\n" + line
        elif line.strip():
            raise FileReject("FF01", "text before the first field")
    return fields


def _mt_account_name(value):
    """(account, rest lines) from '/ACCOUNT\\nName...' style party fields."""
    lines = value.split("\n")
    acct = None
    if lines and lines[0].startswith("/"):
        acct = lines[0][1:].strip()
        lines = lines[1:]
    return acct, [l.strip() for l in lines if l.strip()]


def parse_mt101(data):
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise FileReject("FF01", "mt101 is not ascii")
    fields = _mt_fields(_mt_block4(text))
    if not fields:
        raise FileReject("FF01", "no fields")
    p = Payment("MT101")
    first_b = next((i for i, (t, _) in enumerate(fields) if t == "21"), None)
    if first_b is None:
        raise FileReject("FF01", "no transaction (:21:)")
    seq_a = dict()
    for tag, val in fields[:first_b]:
        seq_a.setdefault(tag, val)
    ref = seq_a.get("20")
    if ref is None:
        raise FileReject("FF01", "field :20: missing")
    if (len(ref) > 16 or not ref or ref.startswith("/") or ref.endswith("/")
            or "//" in ref or "\n" in ref):
        raise FileReject("FF01", "field :20: malformed")
    p.msg_id = ref
    if not re.fullmatch(r"[0-9]{1,5}/[0-9]{1,5}", seq_a.get("28D", "")):
        raise FileReject("FF01", "field :28D: missing or malformed", p)
    d30 = seq_a.get("30", "")
    try:
        dt.datetime.strptime(d30, "%y%m%d")
    except ValueError:
        raise FileReject("FF01", "field :30: missing or not yymmdd", p)
    pi = PmtInf()
    pi.id = ref
    ord_a = None
    for tag in ("50H", "50G", "50F"):
        if tag in seq_a:
            ord_a = (tag, seq_a[tag])
    if ord_a:
        pi.dbtr_acct, rest = _mt_account_name(ord_a[1])
        pi.dbtr_acct_is_iban = looks_like_iban(pi.dbtr_acct)
        if ord_a[0] == "50G":
            pi.dbtr_bic = rest[0] if rest else None
        else:
            pi.dbtr_name = " ".join(rest) or None
    # sequence B: repeated from each :21:
    groups = []
    for tag, val in fields[first_b:]:
        if tag == "21":
            groups.append({})
        groups[-1].setdefault(tag, val)
    for g in groups:
        t = Tx()
        t.e2e = g.get("21")
        if "32B" not in g or "71A" not in g:
            t.reject("FF01", "mandatory :32B: or :71A: missing")
        else:
            m = re.fullmatch(r"([A-Z]{3})([0-9]{1,14}(,[0-9]*)?)", g["32B"])
            if not m or "," not in g["32B"] or len(m.group(2)) > 15:
                t.reject("AM12", "amount in :32B: malformed")
            else:
                t.ccy = m.group(1)
                t.amount_raw = m.group(2).replace(",", ".").rstrip(".")
            if g["71A"] not in ("BEN", "OUR", "SHA"):
                t.reject("FF01", ":71A: must be BEN, OUR or SHA")
        for tag in ("50H", "50G", "50F"):
            if tag in g:
                # per-transaction ordering customer: treated as debtor of
                # the whole file when sequence A has none
                if pi.dbtr_acct is None:
                    pi.dbtr_acct, rest = _mt_account_name(g[tag])
                    pi.dbtr_acct_is_iban = looks_like_iban(pi.dbtr_acct)
        if "57A" in g:
            _, rest = _mt_account_name(g["57A"])
            t.cdtr_bic = rest[0] if rest else ""
        ben = g.get("59") or g.get("59A") or g.get("59F")
        if ben is not None:
            t.cdtr_acct, rest = _mt_account_name(ben)
            t.cdtr_name = " ".join(rest) or None
            t.cdtr_acct_is_iban = looks_like_iban(t.cdtr_acct)
        if "70" in g:
            t.remittance = " ".join(g["70"].split("\n"))
        pi.txs.append(t)
    p.pmt_infs.append(pi)
    p.nb_of_txs = str(len(pi.txs))
    return p


# --------------------------------------------------------------------------
# Ledger

class Ledger:
    """JSON file per (account, currency) in one folder."""

    def __init__(self, folder, opening_balance="1000000.00"):
        self.folder = folder
        self.opening_balance = Decimal(opening_balance)
        os.makedirs(folder, exist_ok=True)

    def path(self, acct, ccy):
        return os.path.join(self.folder, "%s_%s.json" % (safe_name(acct, 64),
                                                         ccy))

    def exists(self, acct, ccy):
        return os.path.exists(self.path(acct, ccy))

    def load(self, acct, ccy, create=True, today=None):
        p = self.path(acct, ccy)
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f)
        if not create:
            return None
        exp = CCY_EXP[ccy]
        minor = to_minor(self.opening_balance, exp)
        if minor is None:
            minor = int(self.opening_balance * (10 ** exp))
        return {"account": acct, "currency": ccy,
                "opening_balance": fmt_minor(minor, ccy) if minor >= 0
                else "-" + fmt_minor(minor, ccy),
                "opening_date": (today or dt.date.today()).isoformat(),
                "statement_seq": 0, "entries": []}

    def save(self, led):
        p = self.path(led["account"], led["currency"])
        atomic_write(p, json.dumps(led, indent=1, sort_keys=True).encode())

    def all(self):
        out = []
        for n in sorted(os.listdir(self.folder)):
            if n.endswith(".json") and not n.startswith("."):
                with open(os.path.join(self.folder, n)) as f:
                    out.append(json.load(f))
        return out


def dec_to_minor_signed(s, ccy):
    d = Decimal(s)
    return int(d * (10 ** CCY_EXP[ccy]))


def entry_signed_minor(e, ccy):
    m = dec_to_minor_signed(e["amount"], ccy)
    return m if e["cdt_dbt"] == "CRDT" else -m


def balances(led, day):
    """(opening at start of day, closing at end of day, entries of day)."""
    ccy = led["currency"]
    opening = dec_to_minor_signed(led["opening_balance"], ccy)
    day_s = day.isoformat()
    todays = []
    for e in led["entries"]:
        if e["booking_date"] < day_s:
            opening += entry_signed_minor(e, ccy)
        elif e["booking_date"] == day_s:
            todays.append(e)
    closing = opening + sum(entry_signed_minor(e, ccy) for e in todays)
    return opening, closing, todays


def atomic_write(path, data):
    d = os.path.dirname(path) or "."
    tmp = os.path.join(d, TMP_PREFIX + os.path.basename(path))
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------
# XML building helpers

class X:
    """Tiny element builder bound to one namespace."""

    def __init__(self, ns):
        self.ns = ns

    def el(self, parent, name, text=None, **attrs):
        e = etree.SubElement(parent, _q(self.ns, name), **attrs) \
            if parent is not None else etree.Element(_q(self.ns, name),
                                                     nsmap={None: self.ns},
                                                     **attrs)
        if text is not None:
            e.text = str(text)
        return e

    def path(self, parent, names, text=None):
        cur = parent
        parts = names.split("/")
        for n in parts[:-1]:
            cur = self.el(cur, n)
        return self.el(cur, parts[-1], text)


# --------------------------------------------------------------------------

class BankSim:
    """The bank back office. Thread-safe; one instance per root."""

    def __init__(self, root, upload_dir="upload", download_dir="download",
                 state_dir=None, ledger_dir=None, arrivals=None, corpus=None,
                 delay_ms=0, reject_all=None, keep_uploads=False,
                 booking_date=None, opening_balance="1000000.00",
                 no_overdraft=False, max_amount=None, bank_bic="SIMBDEFFXXX",
                 no_status=False, status_copies=1, settle_ms=0,
                 statement_kinds=("camt053",), log=None):
        self.root = os.path.abspath(root)
        j = lambda p: p if os.path.isabs(p) else os.path.join(self.root, p)
        self.upload = j(upload_dir)
        self.download = j(download_dir)
        self.state = os.path.abspath(state_dir) if state_dir else \
            os.path.join(self.root, ".banksim")
        self.ledger_dir = os.path.abspath(ledger_dir) if ledger_dir else \
            os.path.join(self.state, "ledger")
        self.arrivals_path = os.path.abspath(arrivals) if arrivals else \
            os.path.join(self.state, "arrivals.jsonl")
        self.archive = os.path.join(self.state, "archive")
        self.trigger = os.path.join(self.state, "statement.trigger")
        for d in (self.upload, self.download, self.state, self.archive):
            os.makedirs(d, exist_ok=True)
        self.schemas = Schemas(corpus)
        self.ledger = Ledger(self.ledger_dir, opening_balance)
        self.delay_ms = delay_ms
        self.reject_all = reject_all
        self.keep_uploads = keep_uploads
        self.booking_date = booking_date
        self.no_overdraft = no_overdraft
        self.max_amount = Decimal(max_amount) if max_amount else None
        self.bank_bic = bank_bic
        self.no_status = no_status
        self.status_copies = status_copies
        self.settle_ms = settle_ms
        self.statement_kinds = tuple(statement_kinds)
        self.log = log or (lambda msg: None)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._sizes = {}
        self._seq = self._load_counter()
        self._seen_files = self._load_seen_files()

    # -- persistent small state ------------------------------------------

    def _counter_path(self):
        return os.path.join(self.state, "counter")

    def _load_counter(self):
        try:
            with open(self._counter_path()) as f:
                return int(f.read().strip() or 0)
        except FileNotFoundError:
            return 0

    def _next_seq(self):
        self._seq += 1
        atomic_write(self._counter_path(), str(self._seq).encode())
        return self._seq

    def _seen_path(self):
        return os.path.join(self.state, "processed.json")

    def _load_seen_files(self):
        try:
            with open(self._seen_path()) as f:
                return set(json.load(f))
        except FileNotFoundError:
            return set()

    def _today(self):
        b = self.booking_date
        if callable(b):
            return b()
        if isinstance(b, str):
            return dt.date.fromisoformat(b)
        return b or dt.date.today()

    # -- arrivals ----------------------------------------------------------

    def arrivals(self):
        """Every arrival logged so far, oldest first (list of dicts)."""
        try:
            with open(self.arrivals_path) as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def count_arrivals(self, msg_id=None, sha256=None, name=None):
        n = 0
        for a in self.arrivals():
            if ((msg_id is None or a.get("msg_id") == msg_id) and
                    (sha256 is None or a.get("sha256") == sha256) and
                    (name is None or a.get("file") == name)):
                n += 1
        return n

    def _log_arrival(self, rec):
        line = (json.dumps(rec, sort_keys=True) + "\n").encode()
        fd = os.open(self.arrivals_path,
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _seen_msg_ids(self):
        # a MsgId counts as used once a file carrying it was read as a
        # payment file (whatever its verdict), except DUPL repeats
        return {a["msg_id"] for a in self.arrivals()
                if a.get("msg_id") and a.get("reason") != "DUPL"
                and a.get("reason") != "FF01"}

    # -- the upload folder -------------------------------------------------

    def pending(self):
        """Names in the upload folder that look complete and unprocessed."""
        out = []
        try:
            names = os.listdir(self.upload)
        except FileNotFoundError:
            return out
        for n in names:
            if n.startswith(".") or n.startswith(".h2h-tmp."):
                continue
            p = os.path.join(self.upload, n)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            key = "%s|%d|%d|%d" % (n, st.st_size, st.st_mtime_ns, st.st_ino)
            if key in self._seen_files:
                continue
            if self.settle_ms:
                prev = self._sizes.get(n)
                now = (st.st_size, st.st_mtime_ns)
                self._sizes[n] = now
                if prev != now or time.time() - st.st_mtime < \
                        self.settle_ms / 1000.0:
                    continue
            out.append((st.st_mtime_ns, n, key))
        out.sort()
        return [(n, key) for _, n, key in out]

    def process_once(self):
        """Process every file now in the upload folder; list of records."""
        recs = []
        with self._lock:
            for name, key in self.pending():
                rec = self._process_file(name, key)
                if rec is not None:
                    recs.append(rec)
            if os.path.exists(self.trigger):
                self._handle_trigger()
        return recs

    def _handle_trigger(self):
        try:
            with open(self.trigger) as f:
                spec = f.read().split()
        except FileNotFoundError:
            return
        os.unlink(self.trigger)
        day = None
        kinds = self.statement_kinds
        for w in spec:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", w):
                day = dt.date.fromisoformat(w)
            elif w:
                kinds = tuple(w.split(","))
        paths = self.write_statements(day, kinds)
        self.log("statements written on trigger: %d files" % len(paths))

    def _process_file(self, name, key):
        path = os.path.join(self.upload, name)
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except (FileNotFoundError, PermissionError) as e:
            self.log("cannot read %s: %s" % (name, e))
            return None
        seq = self._next_seq()
        rec = {"time": iso_ts(), "seq": seq, "file": name, "size": len(data),
               "sha256": hashlib.sha256(data).hexdigest(), "format": None,
               "msg_id": None, "n_tx": 0, "verdict": None, "reason": None,
               "accepted": 0, "rejected": 0, "status_files": [],
               "error": None}
        payment = None
        try:
            if len(data) > MAX_FILE_BYTES:
                raise FileReject("FF01", "file larger than %d bytes"
                                 % MAX_FILE_BYTES)
            payment = self._read_payment(name, data)
            self._check_file(payment)
            self._check_txs(payment)
            if self.reject_all:
                raise FileReject(self.reject_all, "bank rejects every file",
                                 payment)
            booked = self._book(payment, seq)
            rec["booked"] = booked
        except FileReject as fr:
            payment = fr.payment or payment
            for t in (payment.txs() if payment else []):
                t.status = "RJCT"
                t.reasons = [(fr.code, None)]
            rec["reason"] = fr.code
            rec["error"] = fr.info
        if payment is not None:
            rec["format"] = payment.fmt
            rec["msg_id"] = payment.msg_id
            txs = payment.txs()
            rec["n_tx"] = len(txs)
            rec["accepted"] = sum(1 for t in txs if t.status == "ACCP")
            rec["rejected"] = len(txs) - rec["accepted"]
            rec["tx"] = [{"e2e": t.e2e, "status": t.status,
                          "reasons": [c for c, _ in t.reasons]} for t in txs]
        if rec["reason"]:
            rec["verdict"] = "RJCT"
        elif rec["n_tx"] and rec["accepted"] == rec["n_tx"]:
            rec["verdict"] = "ACCP"
        elif rec["accepted"] == 0:
            rec["verdict"] = "RJCT"
        else:
            rec["verdict"] = "PART"
        if not self.no_status:
            doc = self._render_pain002(payment, rec)
            for i in range(max(1, self.status_copies)):
                suffix = "" if i == 0 else "_copy%d" % i
                fn = "pain002_%s_%06d%s.xml" % (safe_name(rec["msg_id"] or
                                                          "NOTPROVIDED"),
                                                seq, suffix)
                atomic_write(os.path.join(self.download, fn), doc)
                rec["status_files"].append(fn)
        # the arrival is logged before the upload disappears, so a crash in
        # between shows up as a (visible) double arrival, never as a loss
        self._log_arrival(rec)
        self._dispose(name, key, seq)
        self.log("arrival %s msg_id=%s verdict=%s reason=%s" % (
            name, rec["msg_id"], rec["verdict"], rec["reason"]))
        return rec

    def _dispose(self, name, key, seq):
        src = os.path.join(self.upload, name)
        if self.keep_uploads:
            self._seen_files.add(key)
            atomic_write(self._seen_path(),
                         json.dumps(sorted(self._seen_files)).encode())
            return
        try:
            os.rename(src, os.path.join(self.archive,
                                        "%06d_%s" % (seq, name)))
        except OSError as e:
            # e.g. upload folder made read-only by a test: remember instead
            self.log("cannot archive %s: %s" % (name, e))
            self._seen_files.add(key)

    def _read_payment(self, name, data):
        if name.lower().endswith(".mt101"):
            return parse_mt101(data)
        try:
            tree = parse_xml_bytes(data)
        except ValueError as e:
            raise FileReject("FF01", str(e))
        ns = etree.QName(tree.getroot()).namespace
        if ns not in MSG_NAME:
            raise FileReject("FF01", "unsupported message namespace %r" % ns)
        errs = self.schemas.errors(ns, tree)
        if errs:
            raise FileReject("FF01", "schema: " + errs[0])
        return parse_pain001(tree, ns)

    def _check_file(self, p):
        if p.msg_id in self._seen_msg_ids():
            raise FileReject("DUPL", "duplicate message id", p)
        txs = p.txs()
        if p.nb_of_txs is not None and int(p.nb_of_txs) != len(txs):
            raise FileReject("AM18", "NbOfTxs %s but %d transactions"
                             % (p.nb_of_txs, len(txs)), p)
        if p.ctrl_sum is not None:
            try:
                total = sum((Decimal(t.amount_raw) for t in txs), Decimal(0))
            except (InvalidOperation, TypeError):
                total = None
            if total is None or total != Decimal(p.ctrl_sum):
                raise FileReject("AM10", "CtrlSum %s but amounts add up to %s"
                                 % (p.ctrl_sum, total), p)

    def _check_txs(self, p):
        for pi in p.pmt_infs:
            pi_reason = None
            if pi.nb_of_txs is not None and int(pi.nb_of_txs) != len(pi.txs):
                pi_reason = "AM18"
            elif pi.ctrl_sum is not None:
                try:
                    s = sum((Decimal(t.amount_raw) for t in pi.txs),
                            Decimal(0))
                except (InvalidOperation, TypeError):
                    s = None
                if s != Decimal(pi.ctrl_sum):
                    pi_reason = "AM10"
            if pi.dbtr_acct is None or (pi.dbtr_acct_is_iban and
                                        not iban_valid(pi.dbtr_acct)):
                pi_reason = pi_reason or "AC02"
            if pi.dbtr_bic is not None and not bic_valid(pi.dbtr_bic):
                pi_reason = pi_reason or "RC01"
            if pi_reason:
                pi.reasons.append(pi_reason)
            for t in pi.txs:
                if pi_reason:
                    t.reject(pi_reason)
                self._check_tx(t)

    def _check_tx(self, t):
        if t.cdtr_acct is None or (t.cdtr_acct_is_iban and
                                   not iban_valid(t.cdtr_acct)):
            t.reject("AC01", "creditor account")
        if t.cdtr_bic is not None and not bic_valid(t.cdtr_bic):
            t.reject("RC01", "creditor agent bic")
        if t.amount_raw is None:
            if t.status != "RJCT":
                t.reject("AM12", "amount missing")
            return
        if t.ccy not in CCY_EXP:
            t.reject("AM03", "currency %r" % t.ccy)
            return
        try:
            amt = Decimal(t.amount_raw)
        except InvalidOperation:
            t.reject("AM12", "amount not a number")
            return
        if amt < 0:
            t.reject("AM12", "negative amount")
            return
        if amt == 0:
            t.reject("AM01", "zero amount")
            return
        minor = to_minor(amt, CCY_EXP[t.ccy])
        if minor is None:
            t.reject("AM12", "more decimals than %s allows" % t.ccy)
            return
        if self.max_amount is not None and amt > self.max_amount:
            t.reject("AM02", "above the maximum amount")
            return
        t.minor = minor

    def _book(self, p, seq):
        """Book accepted transactions; returns number of entries booked."""
        today = self._today()
        n = 0
        ledgers = {}
        for pi in p.pmt_infs:
            for i, t in enumerate(pi.txs):
                if t.status != "ACCP":
                    continue
                k = (pi.dbtr_acct, t.ccy)
                if k not in ledgers:
                    ledgers[k] = self.ledger.load(pi.dbtr_acct, t.ccy,
                                                  today=today)
                led = ledgers[k]
                if self.no_overdraft:
                    bal = dec_to_minor_signed(led["opening_balance"], t.ccy) \
                        + sum(entry_signed_minor(e, t.ccy)
                              for e in led["entries"])
                    if bal - t.minor < 0:
                        t.reject("AM04", "insufficient funds")
                        continue
                ref = "BSIM%06d%04d" % (seq, n + 1)
                led["entries"].append({
                    "ref": ref, "end_to_end_id": t.e2e,
                    "instr_id": t.instr_id, "msg_id": p.msg_id,
                    "pmt_inf_id": pi.id,
                    "amount": fmt_minor(t.minor, t.ccy), "cdt_dbt": "DBIT",
                    "counterparty": {"name": t.cdtr_name,
                                     "account": t.cdtr_acct,
                                     "bic": t.cdtr_bic},
                    "remittance": t.remittance,
                    "booking_date": today.isoformat(),
                    "value_date": today.isoformat()})
                n += 1
                # a transfer between two accounts this bank already keeps
                # shows up on both sides
                if self.ledger.exists(t.cdtr_acct, t.ccy) and \
                        (t.cdtr_acct, t.ccy) != k:
                    kc = (t.cdtr_acct, t.ccy)
                    if kc not in ledgers:
                        ledgers[kc] = self.ledger.load(t.cdtr_acct, t.ccy)
                    ledgers[kc]["entries"].append({
                        "ref": ref + "C", "end_to_end_id": t.e2e,
                        "instr_id": None, "msg_id": p.msg_id,
                        "pmt_inf_id": pi.id,
                        "amount": fmt_minor(t.minor, t.ccy),
                        "cdt_dbt": "CRDT",
                        "counterparty": {"name": pi.dbtr_name,
                                         "account": pi.dbtr_acct,
                                         "bic": pi.dbtr_bic},
                        "remittance": t.remittance,
                        "booking_date": today.isoformat(),
                        "value_date": today.isoformat()})
        for led in ledgers.values():
            self.ledger.save(led)
        return n

    def credit(self, account, amount, ccy="EUR", end_to_end_id=None,
               counterparty=None, remittance=None, booking_date=None,
               cdt_dbt="CRDT"):
        """Book an incoming (or, with cdt_dbt='DBIT', outgoing) entry that
        did not come through the upload folder, e.g. a customer payment."""
        with self._lock:
            day = booking_date or self._today()
            led = self.ledger.load(account, ccy, today=day)
            minor = to_minor(Decimal(amount), CCY_EXP[ccy])
            if minor is None or minor <= 0:
                raise ValueError("bad amount %r for %s" % (amount, ccy))
            seq = self._next_seq()
            led["entries"].append({
                "ref": "BSIM%06dX" % seq, "end_to_end_id": end_to_end_id,
                "instr_id": None, "msg_id": None, "pmt_inf_id": None,
                "amount": fmt_minor(minor, ccy), "cdt_dbt": cdt_dbt,
                "counterparty": counterparty or {},
                "remittance": remittance,
                "booking_date": day.isoformat(),
                "value_date": day.isoformat()})
            self.ledger.save(led)

    def ledgers(self):
        return self.ledger.all()

    def balance(self, account, ccy="EUR", day=None):
        """(opening, closing) of day as Decimal, or None if no ledger."""
        led = self.ledger.load(account, ccy, create=False)
        if led is None:
            return None
        o, c, _ = balances(led, day or self._today())
        q = Decimal(10) ** CCY_EXP[ccy]
        return Decimal(o) / q, Decimal(c) / q

    # -- rendering ----------------------------------------------------------

    def _publish_xml(self, ns, root, fn):
        tree = etree.ElementTree(root)
        errs = self.schemas.errors(ns, tree)
        if errs:
            raise RuntimeError("simulator rendered an invalid %s: %s"
                               % (fn, errs))
        data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8",
                              pretty_print=True)
        return data

    def _render_pain002(self, p, rec):
        x = X(NS_PAIN002_10)
        doc = x.el(None, "Document")
        rpt = x.el(doc, "CstmrPmtStsRpt")
        gh = x.el(rpt, "GrpHdr")
        x.el(gh, "MsgId", "BSIM002%012d" % rec["seq"])
        x.el(gh, "CreDtTm", iso_ts())
        x.path(gh, "DbtrAgt/FinInstnId/BICFI", self.bank_bic)
        og = x.el(rpt, "OrgnlGrpInfAndSts")
        x.el(og, "OrgnlMsgId", clip(rec["msg_id"] or "NOTPROVIDED", 35))
        x.el(og, "OrgnlMsgNmId", (p.fmt if p else None) or "UNKNOWN")
        if p is not None and p.cre_dt_tm:
            x.el(og, "OrgnlCreDtTm", p.cre_dt_tm)
        if p is not None:
            x.el(og, "OrgnlNbOfTxs", str(len(p.txs())))
            if p.ctrl_sum:
                x.el(og, "OrgnlCtrlSum", p.ctrl_sum)
        x.el(og, "GrpSts", rec["verdict"])
        if rec["reason"]:
            sri = x.el(og, "StsRsnInf")
            x.path(sri, "Rsn/Cd", rec["reason"])
            info = "file %s: %s" % (rec["file"], rec["error"] or "")
            for i in range(0, min(len(info), 315), 105):
                x.el(sri, "AddtlInf", info[i:i + 105])
        if p is not None and rec["n_tx"]:
            for st, n in (("ACCP", rec["accepted"]),
                          ("RJCT", rec["rejected"])):
                if n:
                    nb = x.el(og, "NbOfTxsPerSts")
                    x.el(nb, "DtldNbOfTxs", str(n))
                    x.el(nb, "DtldSts", st)
        for pi in (p.pmt_infs if p is not None else []):
            op = x.el(rpt, "OrgnlPmtInfAndSts")
            x.el(op, "OrgnlPmtInfId", clip(pi.id or "NOTPROVIDED", 35))
            x.el(op, "OrgnlNbOfTxs", str(len(pi.txs)))
            if pi.ctrl_sum:
                x.el(op, "OrgnlCtrlSum", pi.ctrl_sum)
            acc = sum(1 for t in pi.txs if t.status == "ACCP")
            x.el(op, "PmtInfSts", "ACCP" if acc == len(pi.txs) and pi.txs
                 else "RJCT" if acc == 0 else "PART")
            for code in pi.reasons:
                x.path(x.el(op, "StsRsnInf"), "Rsn/Cd", code)
            for t in pi.txs:
                tx = x.el(op, "TxInfAndSts")
                if t.instr_id:
                    x.el(tx, "OrgnlInstrId", clip(t.instr_id, 35))
                x.el(tx, "OrgnlEndToEndId", clip(t.e2e or "NOTPROVIDED", 35))
                x.el(tx, "TxSts", t.status)
                for code, info in t.reasons:
                    sri = x.el(tx, "StsRsnInf")
                    x.path(sri, "Rsn/Cd", code)
                    if info:
                        x.el(sri, "AddtlInf", clip(info, 105))
        return self._publish_xml(NS_PAIN002_10, doc, "pain.002")

    def write_statements(self, day=None, kinds=None):
        """Write statements for every ledger into the download folder.

        day: datetime.date (default: the bank's today). kinds: any of
        'camt053', 'camt052', 'mt940'. Returns the list of paths."""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        day = day or self._today()
        kinds = tuple(kinds or self.statement_kinds)
        bad = set(kinds) - {"camt053", "camt052", "mt940"}
        if bad:
            raise ValueError("unknown statement kinds %s" % sorted(bad))
        out = []
        with self._lock:
            for led in self.ledger.all():
                led["statement_seq"] = led.get("statement_seq", 0) + 1
                nseq = led["statement_seq"]
                for k in kinds:
                    data, fn = getattr(self, "_render_" + k)(led, day, nseq)
                    p = os.path.join(self.download, fn)
                    atomic_write(p, data)
                    out.append(p)
                self.ledger.save(led)
        return out

    def _account(self, x, parent, acct, ccy=None):
        a = x.el(parent, "Acct") if ccy else parent
        idel = x.el(a, "Id")
        if iban_valid(acct):
            x.el(idel, "IBAN", acct)
        else:
            x.path(idel, "Othr/Id", clip(acct, 34))
        return a

    def _bal(self, x, parent, code, minor, ccy, day):
        b = x.el(parent, "Bal")
        x.path(b, "Tp/CdOrPrtry/Cd", code)
        x.el(b, "Amt", fmt_minor(minor, ccy), Ccy=ccy)
        x.el(b, "CdtDbtInd", "CRDT" if minor >= 0 else "DBIT")
        x.path(b, "Dt/Dt", day.isoformat())

    def _camt(self, ns, root_name, stmt_name, led, day, nseq, bal_codes):
        x = X(ns)
        ccy = led["currency"]
        opening, closing, todays = balances(led, day)
        doc = x.el(None, "Document")
        body = x.el(doc, root_name)
        gh = x.el(body, "GrpHdr")
        tag = "053" if ns == NS_CAMT053_02 else "052"
        seq = self._next_seq()
        x.el(gh, "MsgId", "BSIM%s%s%08d" % (tag, day.strftime("%Y%m%d"), seq))
        now = iso_ts()
        x.el(gh, "CreDtTm", now)
        st = x.el(body, stmt_name)
        x.el(st, "Id", "BSIM%s%s%08d" % (tag, day.strftime("%y%m%d"), seq))
        x.el(st, "ElctrncSeqNb", str(nseq))
        x.el(st, "CreDtTm", now)
        fr = x.el(st, "FrToDt")
        x.el(fr, "FrDtTm", "%sT00:00:00+00:00" % day.isoformat())
        x.el(fr, "ToDtTm", "%sT23:59:59+00:00" % day.isoformat())
        acct = x.el(st, "Acct")
        self._account(x, acct, led["account"])
        x.el(acct, "Ccy", ccy)
        x.path(acct, "Svcr/FinInstnId/BIC", self.bank_bic)
        self._bal(x, st, bal_codes[0], opening, ccy, day)
        self._bal(x, st, bal_codes[1], closing, ccy, day)
        if todays:
            cr = [e for e in todays if e["cdt_dbt"] == "CRDT"]
            db = [e for e in todays if e["cdt_dbt"] == "DBIT"]
            s = lambda es: sum(abs(entry_signed_minor(e, ccy)) for e in es)
            ts = x.el(st, "TxsSummry")
            tn = x.el(ts, "TtlNtries")
            x.el(tn, "NbOfNtries", str(len(todays)))
            x.el(tn, "Sum", fmt_minor(s(todays), ccy))
            net = s(cr) - s(db)
            x.el(tn, "TtlNetNtryAmt", fmt_minor(net, ccy))
            x.el(tn, "CdtDbtInd", "CRDT" if net >= 0 else "DBIT")
            for name, es in (("TtlCdtNtries", cr), ("TtlDbtNtries", db)):
                t = x.el(ts, name)
                x.el(t, "NbOfNtries", str(len(es)))
                x.el(t, "Sum", fmt_minor(s(es), ccy))
        for e in todays:
            self._entry(x, st, e, led)
        return doc

    def _entry(self, x, st, e, led):
        ccy = led["currency"]
        n = x.el(st, "Ntry")
        x.el(n, "NtryRef", clip(e["ref"], 35))
        x.el(n, "Amt", e["amount"], Ccy=ccy)
        x.el(n, "CdtDbtInd", e["cdt_dbt"])
        x.el(n, "Sts", "BOOK")
        x.path(n, "BookgDt/Dt", e["booking_date"])
        x.path(n, "ValDt/Dt", e["value_date"])
        x.el(n, "AcctSvcrRef", clip(e["ref"], 35))
        dom = x.path(n, "BkTxCd/Domn/Cd", "PMNT").getparent()
        fm = x.el(dom, "Fmly")
        x.el(fm, "Cd", "ICDT" if e["cdt_dbt"] == "DBIT" else "RCDT")
        x.el(fm, "SubFmlyCd", "ESCT")
        td = x.path(n, "NtryDtls/TxDtls")
        refs = x.el(td, "Refs")
        if e.get("msg_id"):
            x.el(refs, "MsgId", clip(e["msg_id"], 35))
        x.el(refs, "AcctSvcrRef", clip(e["ref"], 35))
        if e.get("pmt_inf_id"):
            x.el(refs, "PmtInfId", clip(e["pmt_inf_id"], 35))
        if e.get("instr_id"):
            x.el(refs, "InstrId", clip(e["instr_id"], 35))
        x.el(refs, "EndToEndId", clip(e.get("end_to_end_id") or
                                      "NOTPROVIDED", 35))
        x.el(x.path(td, "AmtDtls/TxAmt"), "Amt", e["amount"], Ccy=ccy)
        cp = e.get("counterparty") or {}
        if cp.get("name") or cp.get("account"):
            rp = x.el(td, "RltdPties")
            # only the other side is named: our customer is the account
            role = "Cdtr" if e["cdt_dbt"] == "DBIT" else "Dbtr"
            if cp.get("name"):
                x.path(rp, role + "/Nm", clip(cp["name"], 140))
            if cp.get("account"):
                self._account(x, x.el(rp, role + "Acct"), cp["account"])
        if cp.get("bic") and BIC_XSD_RE.fullmatch(cp["bic"]):
            ag = x.el(td, "RltdAgts")
            x.path(ag, ("CdtrAgt" if e["cdt_dbt"] == "DBIT" else "DbtrAgt")
                   + "/FinInstnId/BIC", cp["bic"])
        if e.get("remittance"):
            x.path(td, "RmtInf/Ustrd", clip(e["remittance"], 140))

    def _render_camt053(self, led, day, nseq):
        doc = self._camt(NS_CAMT053_02, "BkToCstmrStmt", "Stmt", led, day,
                         nseq, ("OPBD", "CLBD"))
        fn = "camt053_%s_%s_%04d.xml" % (safe_name(led["account"]),
                                         day.strftime("%Y%m%d"), nseq)
        return self._publish_xml(NS_CAMT053_02, doc, fn), fn

    def _render_camt052(self, led, day, nseq):
        doc = self._camt(NS_CAMT052_02, "BkToCstmrAcctRpt", "Rpt", led, day,
                         nseq, ("OPBD", "ITBD"))
        fn = "camt052_%s_%s_%04d.xml" % (safe_name(led["account"]),
                                         day.strftime("%Y%m%d"), nseq)
        return self._publish_xml(NS_CAMT052_02, doc, fn), fn

    def _render_mt940(self, led, day, nseq):
        ccy = led["currency"]
        opening, closing, todays = balances(led, day)
        d6 = day.strftime("%y%m%d")
        cd = lambda m: "C" if m >= 0 else "D"
        sw = lambda s: re.sub(r"[^A-Za-z0-9/?:().,'+ -]", " ", s or "")
        lines = [":20:BSIM%s" % d6 + "%04d" % (nseq % 10000),
                 ":25:%s" % sw(led["account"])[:35],
                 ":28C:%d/1" % nseq,
                 ":60F:%s%s%s%s" % (cd(opening), d6, ccy,
                                    fmt_minor(opening, ccy, ","))]
        for e in todays:
            m = entry_signed_minor(e, ccy)
            ref = sw(e.get("end_to_end_id") or "NONREF")[:16]
            lines.append(":61:%s%s%s%sNTRF%s//%s" % (
                d6, day.strftime("%m%d"), cd(m) if m else "C",
                fmt_minor(m, ccy, ","), ref, sw(e["ref"])[:16]))
            cp = e.get("counterparty") or {}
            info = "/EREF/%s/NAME/%s/IBAN/%s/REMI/%s" % (
                sw(e.get("end_to_end_id")), sw(cp.get("name")),
                sw(cp.get("account")), sw(e.get("remittance")))
            chunks = [info[i:i + 65] for i in range(0, len(info), 65)][:6]
            # a line opening with '-' or ':' would end the block or start a
            # field in a reader's eyes
            chunks = [(" " + c[1:]) if c[:1] in "-:" else c for c in chunks]
            lines.append(":86:" + "\r\n".join(chunks))
        lines.append(":62F:%s%s%s%s" % (cd(closing), d6, ccy,
                                        fmt_minor(closing, ccy, ",")))
        body = "\r\n".join(lines)
        bic11 = (self.bank_bic + "XXX")[:11]
        lt = bic11[:8] + "A" + bic11[8:]
        data = ("{1:F01%s0000000000}{2:I940%sN}{4:\r\n%s\r\n-}" % (
            lt, lt, body)).encode("ascii")
        fn = "mt940_%s_%s_%04d.sta" % (safe_name(led["account"]),
                                       day.strftime("%Y%m%d"), nseq)
        return data, fn

    # -- service loop ----------------------------------------------------------

    def stop(self):
        self._stop.set()

    def run(self, poll_ms=100, stop_event=None):
        """Poll until stop() (or stop_event is set)."""
        ev = stop_event or self._stop
        while not ev.is_set() and not self._stop.is_set():
            try:
                self.process_once()
            except Exception as e:  # keep serving; the log says why
                self.log("error: %r" % e)
            ev.wait(poll_ms / 1000.0)

    def start_thread(self, poll_ms=100):
        """Run in a daemon thread; call stop() and join() the result."""
        t = threading.Thread(target=self.run, args=(poll_ms,), daemon=True)
        t.start()
        return t


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="bank back office simulator behind an sftp folder")
    ap.add_argument("--root", required=True,
                    help="bank root folder (the one sshd serves)")
    ap.add_argument("--upload-dir", default="upload",
                    help="relative to root unless absolute (default upload)")
    ap.add_argument("--download-dir", default="download",
                    help="relative to root unless absolute (default download)")
    ap.add_argument("--state-dir", help="default <root>/.banksim")
    ap.add_argument("--ledger", help="ledger folder (default <state>/ledger)")
    ap.add_argument("--arrivals",
                    help="arrival log (default <state>/arrivals.jsonl)")
    ap.add_argument("--corpus", help="default $H2H_CORPUS or ../shared/corpus")
    ap.add_argument("--once", action="store_true",
                    help="process what is there and exit")
    ap.add_argument("--poll-ms", type=int, default=100)
    ap.add_argument("--settle-ms", type=int, default=0,
                    help="only take files unchanged for this long")
    ap.add_argument("--delay-ms", type=int, default=0,
                    help="sleep this long per file (slow bank)")
    ap.add_argument("--reject-all", nargs="?", const="MS03", default=None,
                    metavar="CODE", help="reject every file (default MS03)")
    ap.add_argument("--no-status", action="store_true",
                    help="never answer with a pain.002")
    ap.add_argument("--status-copies", type=int, default=1,
                    help="write each pain.002 this many times")
    ap.add_argument("--keep-uploads", action="store_true",
                    help="leave processed files in the upload folder")
    ap.add_argument("--booking-date", help="YYYY-MM-DD (default today)")
    ap.add_argument("--opening-balance", default="1000000.00")
    ap.add_argument("--no-overdraft", action="store_true",
                    help="reject (AM04) payments the balance does not cover")
    ap.add_argument("--max-amount", help="reject (AM02) larger amounts")
    ap.add_argument("--bank-bic", default="SIMBDEFFXXX")
    ap.add_argument("--statement-now", action="store_true",
                    help="write statements now (after processing uploads)")
    ap.add_argument("--statement-date", help="YYYY-MM-DD")
    ap.add_argument("--statement-kinds", default="camt053",
                    help="comma list of camt053,camt052,mt940")
    ap.add_argument("--pid-file")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)

    def log(msg):
        if not a.quiet:
            print("bank_sftp: " + msg, file=sys.stderr, flush=True)

    kinds = tuple(k for k in a.statement_kinds.split(",") if k)
    sim = BankSim(a.root, upload_dir=a.upload_dir,
                  download_dir=a.download_dir, state_dir=a.state_dir,
                  ledger_dir=a.ledger, arrivals=a.arrivals, corpus=a.corpus,
                  delay_ms=a.delay_ms, reject_all=a.reject_all,
                  keep_uploads=a.keep_uploads, booking_date=a.booking_date,
                  opening_balance=a.opening_balance,
                  no_overdraft=a.no_overdraft, max_amount=a.max_amount,
                  bank_bic=a.bank_bic, no_status=a.no_status,
                  status_copies=a.status_copies, settle_ms=a.settle_ms,
                  statement_kinds=kinds, log=log)
    if not sim.schemas.available():
        print("bank_sftp: corpus xsd folder %s missing" % sim.schemas.xsd_dir,
              file=sys.stderr)
        return 2
    if a.pid_file:
        with open(a.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    stmt_day = dt.date.fromisoformat(a.statement_date) \
        if a.statement_date else None
    if a.once:
        sim.process_once()
        if a.statement_now:
            for p in sim.write_statements(stmt_day, kinds):
                log("wrote " + os.path.basename(p))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sim.stop())
    signal.signal(signal.SIGINT, lambda *_: sim.stop())
    # SIGUSR1: statements now, same as touching <state>/statement.trigger
    signal.signal(signal.SIGUSR1,
                  lambda *_: open(sim.trigger, "a").close())
    sim.process_once()
    if a.statement_now:
        sim.write_statements(stmt_day, kinds)
    log("serving %s (upload=%s download=%s)" % (sim.root, sim.upload,
                                                sim.download))
    sim.run(a.poll_ms)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
