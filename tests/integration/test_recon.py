"""Reconciliation end to end (daemon side of issue 6, /tmp/recon/CONTRACT.md
and daemon/recon.h): what h2hd submitted against what the bank booked.

One iso20022_sftp bank served by a real OpenSSH sshd on loopback, with the
strict back office of tests/sims/bank_sftp.py behind it, and one channel
whose `reconcile` group names the report folder, a folder of expected
receipts (treasury's open invoices), window_days = 3 and grace_days = 0.

1. Treasury drops two pain.001 files, A (5 payments) and B (3 payments),
   every EndToEndId distinct, requested execution date yesterday (UTC),
   BtchBookg false (each payment booked on its own),
   so that with grace_days = 0 and the run's as-of date today a payment
   that was never booked is overdue at once (an exception, not pending).
   Both are uploaded once, accepted, and acknowledged by their pain.002.
2. The bank does not book one payment of B: its entry is taken out of the
   simulator's ledger before statements are written.  The bank books an
   unknown incoming credit nobody expects, and an incoming credit whose
   remittance names an invoice listed in expected_dir/open.csv.
3. The bank writes a camt.053; h2hd delivers it (out/statements, log
   bank.download.delivered) and archives the bank's file under
   state/ledger/<bank>/<sha256>.
4. `h2hctl reconcile --from <yesterday> --to <today>` waits and exits 0.
   The run folder holds the ten outputs: matched.csv has exactly the seven
   booked payments (items "<message id>/<n>", rule exact, key EndToEndId,
   the payment's EndToEndId) and the expected receipt (rule reference, key
   Remittance); unmatched_payments.csv exactly the unbooked payment;
   unmatched_entries.csv exactly the unknown credit; result.xml validates
   against tests/fixtures/recon/recon.xsd with the same counts; report.html
   shows them.  `h2hctl reconcile --last [--json]` agrees with the files,
   message A is `booked` (show, queue --state booked, log payment.booked),
   message B is not; the log has recon.started and recon.finished with the
   same summary.
5. A second run (with --bank, which picks the bank's home channel) finds
   the same matches (booked messages still take part) under a new run id
   and books nothing more.
6. An expected-receipts file with one broken row: the next run (with
   --channel) still succeeds, reads the good row, and logs
   recon.expected.problem (warn) naming the file and the line.
7. Crashes: CRASH_KILLS (10, H2H_RECON_KILLS) times `h2hctl reconcile
   --no-wait` and SIGKILL h2hd - after a random 0-50 ms, as soon as the
   run's hidden .<id>.tmp folder shows, or as soon as the run folder is
   renamed into view - then start h2hd again on the same config.  Whatever
   the timing: `reconcile --last --json` is the run h2hctl started (or the
   previous one when none was recorded) and is ok or interrupted, never
   running; an interrupted run is announced by recon.interrupted runs=1 in
   the new start's log; every visible run folder belongs to a run the
   store records ok, holds the ten outputs and a valid result.xml; no
   interrupted run has one (a hidden .<id>.tmp at most); message A stays
   booked (payment.booked once, by run 1), B never is.  An ok run's files
   match run 1's.  Then a normal run succeeds with run 1's pairs and
   leaves no hidden folder, and h2hd stops on SIGTERM with exit 0.
   H2H_RECON_SEED repeats a timing.

Environment as for every integration test (H2HD, H2HCTL, H2H_SRC,
H2H_CORPUS from ctest); H2H_KEEP=1 keeps the temporary folders.
"""
import csv
import datetime
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from decimal import Decimal

from h2hlib import CORPUS, H2HCTL, check, fail, wait_until
from sftplib import (CRED_BIC, CREDITORS, DEBTOR, SRC, SftpBank, SftpWorld,
                     Sshd, Cleanup, iban, logfmt, new_msg_id)

from lxml import etree

XSD = os.path.join(SRC, "tests", "fixtures", "recon", "recon.xsd")
KEEP = os.environ.get("H2H_KEEP") == "1"

OUTPUTS = ("matched.csv", "unmatched_payments.csv", "unmatched_entries.csv",
           "mismatches.csv", "duplicates.csv", "reversals.csv",
           "ambiguous.csv", "open_receipts.csv", "report.html", "result.xml")

# the columns of daemon/recon.h, in order
COLS = {
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
    "open_receipts.csv": "reference,payer,amount,currency,due_date,"
                         "days_overdue,account",
}

BANK = "bankx"
WINDOW_DAYS = 3
GRACE_DAYS = 0
THRESHOLD = 60

# Payments: (amount, creditor index).  Distinct amounts, so that nothing
# but the EndToEndId could pair them up anyway.
PAY_A = [("100.01", 0), ("200.02", 1), ("300.03", 2), ("400.04", 3),
         ("500.05", 0)]
PAY_B = [("1000.11", 1), ("2000.22", 2), ("3000.33", 3)]
MISSING = 2  # B's payment n (1-based) the bank never books

INVOICE = "INV-2026-7781"
INVOICE_TOKEN = "INV20267781"  # recon.h step 2 normalisation
RECEIPT_AMT = "1234.50"
RECEIPT_PAYER = "Acme Trading GmbH"
UNKNOWN_AMT = "777.77"
UNKNOWN_NAME = "Stranger Ltd"


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def avoid_midnight():
    """Every date here is today's or yesterday's (UTC); a run that crossed
    midnight would compare the wrong days.  Close to midnight, wait."""
    now = datetime.datetime.now(datetime.timezone.utc)
    left = 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
    if left < 150:
        print("test_recon: waiting %d s for UTC midnight to pass" % (left + 2))
        time.sleep(left + 2)


# --------------------------------------------------------------------------
# inputs


def pain001(msg_id, exec_date, pays):
    """A valid pain.001.001.03: one PmtInf, one transfer per (amount,
    creditor) of pays; EndToEndId and InstrId unique per transaction.
    Returns (bytes, [EndToEndId of transaction n=1..])."""
    txs, e2es, total = [], [], Decimal("0.00")
    for n, (amt, k) in enumerate(pays, 1):
        e2e = ("%s-E%d" % (msg_id, n))[:35]
        e2es.append(e2e)
        total += Decimal(amt)
        txs.append(
            "<CdtTrfTxInf><PmtId><InstrId>%s</InstrId>"
            "<EndToEndId>%s</EndToEndId></PmtId>"
            "<Amt><InstdAmt Ccy=\"EUR\">%s</InstdAmt></Amt>"
            "<CdtrAgt><FinInstnId><BIC>%s</BIC></FinInstnId></CdtrAgt>"
            "<Cdtr><Nm>Supplier %d</Nm></Cdtr>"
            "<CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct>"
            "<RmtInf><Ustrd>Supplies %s line %d</Ustrd></RmtInf>"
            "</CdtTrfTxInf>\n"
            % (("%s-I%d" % (msg_id, n))[:35], e2e, amt, CRED_BIC[k], k,
               CREDITORS[k], msg_id, n))
    doc = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
<CstmrCdtTrfInitn>
<GrpHdr><MsgId>%s</MsgId><CreDtTm>%sT09:00:00</CreDtTm>
<NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
<InitgPty><Nm>Example Treasury GmbH</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>%s-P</PmtInfId><PmtMtd>TRF</PmtMtd>
<BtchBookg>false</BtchBookg>
<NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
<ReqdExctnDt>%s</ReqdExctnDt>
<Dbtr><Nm>Example Treasury GmbH</Nm></Dbtr>
<DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>
<DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></DbtrAgt>
%s</PmtInf>
</CstmrCdtTrfInitn>
</Document>
""" % (msg_id, exec_date, len(pays), total, msg_id[:30], len(pays), total,
       exec_date, DEBTOR, "".join(txs))
    return doc.encode(), e2es


def write_file(path, text):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path)
                       + ".part")
    with open(tmp, "w", newline="") as f:
        f.write(text)
    os.rename(tmp, path)


def conf_text(w, bank, recon_dir, expected_dir, reconcile=True,
              bank_extra=""):
    """h2hd.conf: the SFTP bank and one channel with a reconcile group
    (reconcile=False: the same world without it, for a daemon that does
    not know the group yet)."""
    group = """
    reconcile = {
      dir = "%s";
      expected_dir = "%s";
      window_days = %d;
      grace_days = %d;
      threshold = %d;
      days = 31;
    };""" % (recon_dir, expected_dir, WINDOW_DAYS, GRACE_DAYS, THRESHOLD)
    return """
daemon = {
  state_dir = "state"; spool_dir = "spool";
  log_file = "h2hd.log"; log_level = "info";
  shutdown_timeout = 10; rescan_interval = 200; batch_max = 64;
  retry = { initial = 200; max = 2000; factor = 2.0; jitter = 0.2;
            max_attempts = 50; max_age = 86400; };
};
banks = (%s
);
channels = (
  { name = "%s"; bank = "%s"; input_format = "auto";
    output_format = "camt.053"; stability = 0;%s
  }
);
""" % (bank.conf(poll_interval=300, bank_extra=bank_extra),
       w.channel(bank), bank.name, group if reconcile else "")


# --------------------------------------------------------------------------
# helpers


def ctl_run(w, *args, timeout=60):
    """h2hctl as an operator types it (no global --json)."""
    try:
        return subprocess.run([H2HCTL, "-s", w.sock, "-t", "60"] + list(args),
                              capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        fail("h2hctl %s did not return within %d s" % (" ".join(args),
                                                       timeout))


def read_csv(path, name):
    """Rows (dicts) of a report CSV; its header must be recon.h's."""
    with open(path, newline="", encoding="utf-8") as f:
        raw = f.read()
    check(raw.endswith("\r\n"), "%s ends with CRLF (RFC 4180): %r"
          % (name, raw[-40:]))
    rows = list(csv.reader(raw.splitlines()))
    check(rows, "%s has a header row" % name)
    check(",".join(rows[0]) == COLS[name],
          "%s columns\n  got      %s\n  expected %s"
          % (name, ",".join(rows[0]), COLS[name]))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def summary_pairs(s):
    return dict(kv.split("=", 1) for kv in s.split() if "=" in kv)


def files(d):
    try:
        return sorted(n for n in os.listdir(d) if not n.startswith("."))
    except FileNotFoundError:
        return []


class Ctx:
    pass


# --------------------------------------------------------------------------
# 1-3: payments out, statement in (works without the reconcile feature)


def deliver(c):
    """Drop A and B, wait until both are acknowledged, let the bank skip
    one booking and add two credits, fetch the camt.053."""
    w, bank = c.w, c.bank
    c.msg_a_bid, c.msg_b_bid = new_msg_id("RECA", 1), new_msg_id("RECB", 2)
    data_a, c.e2e_a = pain001(c.msg_a_bid, c.yesterday, PAY_A)
    data_b, c.e2e_b = pain001(c.msg_b_bid, c.yesterday, PAY_B)
    w.put(bank, "pay-a.xml", data_a)
    w.put(bank, "pay-b.xml", data_b)

    bank.wait_arrived([c.msg_a_bid, c.msg_b_bid], 60, "A and B at the bank")
    bank.check_exactly_once([c.msg_a_bid, c.msg_b_bid])
    for a in bank.arrivals():
        check(a["accepted"] == a["n_tx"],
              "every payment of %s accepted by the bank: %r"
              % (a["msg_id"], a.get("tx")))
    w.wait_settled(2, 60, "acknowledged")
    c.msg_a = w.msg_by_file("pay-a.xml")
    c.msg_b = w.msg_by_file("pay-b.xml")
    check(c.msg_a and c.msg_b, "both messages listed: %r" % w.queue())
    for m in (c.msg_a, c.msg_b):
        wait_until(lambda: w.events("payment.acknowledged", msg=m["id"]), 30,
                   "payment.acknowledged (pain.002 linked) for %s" % m["id"])

    # the bank never books B's payment MISSING
    c.missing_e2e = c.e2e_b[MISSING - 1]
    with bank.sim._lock:
        led = bank.sim.ledger.load(DEBTOR, "EUR", create=False)
        check(led is not None, "the bank keeps a ledger for the debtor")
        before = len(led["entries"])
        led["entries"] = [e for e in led["entries"]
                          if e.get("end_to_end_id") != c.missing_e2e]
        check(len(led["entries"]) == before - 1 == len(PAY_A) + len(PAY_B) - 1,
              "exactly one booking taken out of %d" % before)
        bank.sim.ledger.save(led)
    # an incoming credit nobody expects
    bank.sim.credit(DEBTOR, UNKNOWN_AMT, counterparty={
        "name": UNKNOWN_NAME, "account": iban("NL", "ABNA0417164300")},
        remittance="Unexpected transfer")
    # an incoming credit for treasury's open invoice
    bank.sim.credit(DEBTOR, RECEIPT_AMT, counterparty={
        "name": RECEIPT_PAYER, "account": iban("DE", "120300000000202051")},
        remittance="Payment %s thank you" % INVOICE)

    with open(bank.sim.trigger, "w") as f:
        f.write("%s camt053\n" % c.today)
    stmts = os.path.join(w.out_dir, "statements")
    got = wait_until(lambda: files(stmts), 60,
                     "the camt.053 in out/statements: %s" % w.tail(10))
    check(len(got) == 1, "one statement delivered: %r" % got)
    dl = wait_until(lambda: w.events("bank.download.delivered", bank=BANK,
                                     kind="statements"), 30,
                    "bank.download.delivered kind=statements")
    check(len(dl) == 1, "one statement delivery logged: %r" % dl)
    c.stmt_sha = dl[0].get("sha256", "")
    body = open(os.path.join(stmts, got[0]), "rb").read()
    n_ntry = len(re.findall(rb"<(?:\w+:)?Ntry>", body))
    want = len(PAY_A) + len(PAY_B) - 1 + 2
    check(n_ntry == want, "the statement has %d entries, got %d"
          % (want, n_ntry))
    check(c.missing_e2e.encode() not in body,
          "the unbooked payment %s is not in the statement" % c.missing_e2e)


# --------------------------------------------------------------------------
# 4-6: reconciliation


def no_bank(v):
    """How a run without --bank names its bank: not at all."""
    return v in (None, "", "-")


def run_reconcile(c, label, bank=None, channel=None):
    """h2hctl reconcile --from yesterday --to today [--bank B] [--channel C]
    (the channel is bankx-ch in every case: the only one, and bankx's
    home channel); returns (run id, run folder)."""
    args = ["reconcile", "--from", c.yesterday, "--to", c.today]
    if bank:
        args += ["--bank", bank]
    if channel:
        args += ["--channel", channel]
    c.run_bank = bank
    r = ctl_run(c.w, *args)
    check(r.returncode == 0, "%s: h2hctl reconcile exit %d (want 0)\n"
          "stdout: %s\nstderr: %s\nlog:\n%s"
          % (label, r.returncode, r.stdout, r.stderr, c.w.tail(15)))
    lines = r.stdout.splitlines()
    m = re.match(r"^run (R[0-9A-Za-z-]+) ok$", lines[0] if lines else "")
    check(m, "%s: first line 'run R... ok', got %r" % (label, r.stdout))
    run_id = m.group(1)
    dirs = [l[4:].strip() for l in lines if l.startswith("dir ")]
    check(dirs, "%s: the text output names the dir: %r" % (label, r.stdout))
    want = os.path.join(c.recon_dir, run_id)
    check(os.path.realpath(dirs[0]) == os.path.realpath(want),
          "%s: dir %s, expected %s" % (label, dirs[0], want))
    check(any(("channel %s" % c.w.channel(c.bank)) in l and
               ("bank %s" % (bank or "-")) in l and
               ("from %s" % c.yesterday) in l and
               ("to %s" % c.today) in l and "trigger ctl" in l
               for l in lines),
          "%s: the text output names channel, bank, from, to, trigger: %r"
          % (label, r.stdout))
    check(any("payments=" in l for l in lines),
          "%s: the text output has the summary: %r" % (label, r.stdout))
    return run_id, want


def last_json(c):
    r = ctl_run(c.w, "reconcile", "--last", "--json")
    check(r.returncode == 0, "h2hctl reconcile --last --json exit %d: %s %s"
          % (r.returncode, r.stdout, r.stderr))
    try:
        return json.loads(r.stdout)
    except ValueError:
        fail("h2hctl reconcile --last --json is not JSON: %r" % r.stdout)


def read_run(c, run_dir, label):
    check(os.path.isdir(run_dir), "%s: run folder %s exists (reconcile dir: "
          "%r)" % (label, run_dir, os.listdir(c.recon_dir)
                   if os.path.isdir(c.recon_dir) else None))
    have = set(os.listdir(run_dir))
    missing = [n for n in OUTPUTS if n not in have]
    check(not missing, "%s: outputs missing in %s: %r (has %r)"
          % (label, run_dir, missing, sorted(have)))
    tmp = [n for n in os.listdir(c.recon_dir) if n.endswith(".tmp")]
    check(not tmp, "%s: temporary run folders left: %r" % (label, tmp))
    return {n: read_csv(os.path.join(run_dir, n), n) for n in COLS}


def item(m, n):
    return "%s/%d" % (m["id"], n)


def check_files(c, run_dir, csvs, label):
    """The outputs of a run against what happened at the bank."""
    booked_a = {item(c.msg_a, n): c.e2e_a[n - 1]
                for n in range(1, len(PAY_A) + 1)}
    booked_b = {item(c.msg_b, n): c.e2e_b[n - 1]
                for n in range(1, len(PAY_B) + 1) if n != MISSING}
    booked = dict(booked_a, **booked_b)
    amounts = {item(c.msg_a, n): a for n, (a, _) in enumerate(PAY_A, 1)}
    amounts.update({item(c.msg_b, n): a for n, (a, _) in
                    enumerate(PAY_B, 1)})

    # matched.csv: the seven booked payments by EndToEndId ...
    mt = csvs["matched.csv"]
    pay_rows = [r for r in mt if r["side"] == "payment"]
    got = sorted(r["item_id"] for r in pay_rows)
    check(got == sorted(booked),
          "%s: matched payments\n  got      %r\n  expected %r"
          % (label, got, sorted(booked)))
    for r in pay_rows:
        check((r["rule"], r["key"], r["key_value"], r["score"]) ==
              ("exact", "EndToEndId", booked[r["item_id"]], "100"),
              "%s: %s matched by rule exact, key EndToEndId %s, score 100: %r"
              % (label, r["item_id"], booked[r["item_id"]], r))
        a = amounts[r["item_id"]]
        check(r["item_amount"] == a and r["entry_amount"] == a and
              r["currency"] == "EUR",
              "%s: %s amounts %s/%s, expected %s EUR"
              % (label, r["item_id"], r["item_amount"], r["entry_amount"], a))
        check(r["item_date"] == c.yesterday and r["book_date"] == c.today,
              "%s: %s dates %s/%s" % (label, r["item_id"], r["item_date"],
                                      r["book_date"]))
        check(r["flags"] == "" and r["batch_id"] == "",
              "%s: %s has no flags and no batch (BtchBookg false): %r"
              % (label, r["item_id"], r))
    check(len({r["entry_id"] for r in pay_rows}) == len(pay_rows),
          "%s: each payment has its own entry: %r"
          % (label, [r["entry_id"] for r in pay_rows]))
    check(len({r["group"] for r in pay_rows}) == len(pay_rows),
          "%s: one match (group) per payment" % label)
    # ... and treasury's invoice by its reference
    rc = [r for r in mt if r["side"] == "receipt"]
    check(len(rc) == 1, "%s: one matched receipt: %r" % (label, rc))
    rc = rc[0]
    check((rc["item_id"], rc["rule"], rc["key"], rc["key_value"]) ==
          (INVOICE, "reference", "Remittance", INVOICE_TOKEN),
          "%s: the receipt %s matched by reference token %s: %r"
          % (label, INVOICE, INVOICE_TOKEN, rc))
    check(rc["item_amount"] == RECEIPT_AMT == rc["entry_amount"],
          "%s: receipt amounts %r" % (label, rc))
    check(len(mt) == len(booked) + 1, "%s: matched.csv has %d rows, got %d"
          % (label, len(booked) + 1, len(mt)))

    # unmatched_payments.csv: exactly the one the bank never booked
    up = csvs["unmatched_payments.csv"]
    check([r["payment_id"] for r in up] == [item(c.msg_b, MISSING)],
          "%s: unmatched payments %r, expected [%s]"
          % (label, [r["payment_id"] for r in up], item(c.msg_b, MISSING)))
    u = up[0]
    check(u["end_to_end_id"] == c.missing_e2e and
          u["amount"] == PAY_B[MISSING - 1][0] and u["currency"] == "EUR" and
          u["exec_date"] == c.yesterday and u["days_open"] == "1" and
          u["bank"] == BANK,
          "%s: the unmatched payment's details: %r" % (label, u))
    check(u["state"] != "booked", "%s: the unmatched payment's message is "
          "not booked: %r" % (label, u["state"]))

    # unmatched_entries.csv: exactly the unknown credit
    ue = csvs["unmatched_entries.csv"]
    check(len(ue) == 1, "%s: one unmatched entry, got %r" % (label, ue))
    e = ue[0]
    check((e["direction"], e["amount"], e["currency"], e["book_date"],
           e["counterparty"]) ==
          ("CRDT", UNKNOWN_AMT, "EUR", c.today, UNKNOWN_NAME),
          "%s: the unmatched entry is the unknown credit: %r" % (label, e))
    check(e["best_candidate"] == "",
          "%s: the unknown credit has no candidate: %r" % (label, e))

    for n in ("mismatches.csv", "duplicates.csv", "reversals.csv",
              "ambiguous.csv", "open_receipts.csv"):
        check(csvs[n] == [], "%s: %s is empty: %r" % (label, n, csvs[n]))

    # result.xml: well-formed, valid, same counts
    try:
        doc = etree.parse(os.path.join(run_dir, "result.xml"),
                          etree.XMLParser(resolve_entities=False,
                                          no_network=True))
    except etree.XMLSyntaxError as ex:
        fail("%s: result.xml is not well-formed: %s" % (label, ex))
    schema = etree.XMLSchema(etree.parse(XSD))
    if not schema.validate(doc):
        fail("%s: result.xml does not validate against recon.xsd: %s"
             % (label, "; ".join("line %d: %s" % (x.line, x.message)
                                 for x in list(schema.error_log)[:5])))
    ns = {"r": "urn:h2hd:recon:1"}
    par = doc.find("r:Parameters", ns)
    check(par is not None and par.get("AsOf") == c.today and
          par.get("WindowDays") == str(WINDOW_DAYS) and
          par.get("GraceDays") == str(GRACE_DAYS) and
          par.get("Threshold") == str(THRESHOLD),
          "%s: result.xml Parameters %r" % (
              label, dict(par.attrib) if par is not None else None))
    s = doc.find("r:Summary", ns)
    want = {"Payments": len(PAY_A) + len(PAY_B),
            "Entries": len(booked) + 2, "Receipts": c.receipts,
            "MatchedPayments": len(booked), "MatchedEntries": len(booked) + 1,
            "MatchedReceipts": 1, "Exact": len(booked), "Reference": 1,
            "Fuzzy": 0, "UnmatchedPayments": 1, "PendingPayments": 0,
            "UnmatchedEntries": 1, "OpenReceipts": 0,
            "AmountMismatches": 0, "DateMismatches": 0, "Duplicates": 0,
            "Ambiguous": 0}
    bad = {k: (s.get(k), v) for k, v in want.items() if s.get(k) != str(v)}
    check(not bad, "%s: result.xml Summary (got, expected): %r" % (label, bad))
    nm = len(doc.findall("r:Matches/r:Match", ns))
    check(nm == len(booked) + 1, "%s: result.xml has %d Match, expected %d"
          % (label, nm, len(booked) + 1))
    kinds = sorted(x.get("Kind") for x in
                   doc.findall("r:Exceptions/r:Exception", ns))
    check(kinds == ["unmatched_entry", "unmatched_payment"],
          "%s: result.xml exceptions %r" % (label, kinds))

    # report.html: the counts, and the exceptions by name
    html = open(os.path.join(run_dir, "report.html"), encoding="utf-8").read()
    for lab, n in (("Submitted", len(PAY_A) + len(PAY_B)),
                   ("Matched to bookings", len(booked)),
                   ("Not booked after the grace period", 1),
                   ("Unknown (no payment or receipt found)", 1),
                   ("Received", 1)):
        check(re.search(r">%s</td>\s*<td[^>]*>%d</td>" % (re.escape(lab), n),
                        html),
              "%s: report.html shows %s = %d" % (label, lab, n))
    check(item(c.msg_b, MISSING) in html,
          "%s: report.html lists the unmatched payment %s"
          % (label, item(c.msg_b, MISSING)))
    check(UNKNOWN_AMT in html, "%s: report.html lists the unknown credit"
          % label)
    return {(r["side"], r["item_id"], r["entry_id"], r["rule"], r["key"],
             r["key_value"]) for r in mt}


def check_json(c, j, run_id, run_dir, csvs, booked_now, label):
    check(j.get("id") == run_id and j.get("result") == "ok",
          "%s: --last --json is run %s ok: %r" % (label, run_id, j))
    for k, v in (("channel", c.w.channel(c.bank)), ("from", c.yesterday),
                 ("to", c.today), ("trigger", "ctl")):
        check(j.get(k) == v, "%s: --last --json %s=%r, expected %r"
              % (label, k, j.get(k), v))
    check(j.get("bank") == c.run_bank if c.run_bank else no_bank(j.get("bank")),
          "%s: --last --json bank=%r (--bank %s)"
          % (label, j.get("bank"), c.run_bank))
    check(os.path.realpath(j.get("dir") or "") == os.path.realpath(run_dir),
          "%s: --last --json dir %r" % (label, j.get("dir")))
    check(j.get("started") and j.get("ended"),
          "%s: started and ended set: %r" % (label, j))
    mt, up, ue = (csvs["matched.csv"], csvs["unmatched_payments.csv"],
                  csvs["unmatched_entries.csv"])
    mm = csvs["mismatches.csv"]
    want = {
        "payments": len(PAY_A) + len(PAY_B),
        "matched_payments": len({r["item_id"] for r in mt
                                 if r["side"] == "payment"}),
        "unmatched_payments": len(up),
        "unmatched_entries": len(ue),
        "pending_payments": 0,
        "amount_mismatches": sum(1 for r in mm if r["kind"] == "amount"),
        "date_mismatches": sum(1 for r in mm if r["kind"] == "date"),
        "duplicates": len(csvs["duplicates.csv"]),
        "booked": booked_now,
    }
    counts = j.get("counts") or {}
    bad = {k: (counts.get(k), v) for k, v in want.items()
           if counts.get(k) != v}
    check(not bad, "%s: --last --json counts (got, from the files): %r"
          % (label, bad))
    sp = summary_pairs(j.get("summary") or "")
    for k in ("payments", "matched_payments", "unmatched_payments",
              "unmatched_entries", "pending_payments"):
        check(sp.get(k) == str(want[k]), "%s: summary %s=%r, expected %d"
              % (label, k, sp.get(k), want[k]))
    check(sp.get("exact") == "7" and sp.get("reference") == "1" and
          sp.get("matched_receipts") == "1",
          "%s: summary by rule: %r" % (label, j.get("summary")))
    return sp


def check_log(c, run_id, run_dir, sp, booked_now, label):
    w = c.w
    st = w.events("recon.started", id=run_id)
    check(len(st) == 1, "%s: one recon.started id=%s: %r"
          % (label, run_id, w.log_events("recon.started")))
    st = st[0]
    for k, v in (("channel", w.channel(c.bank)), ("from", c.yesterday),
                 ("to", c.today), ("trigger", "ctl")):
        check(st.get(k) == v, "%s: recon.started %s=%r, expected %r"
              % (label, k, st.get(k), v))
    check(st.get("bank") == c.run_bank if c.run_bank
          else no_bank(st.get("bank")),
          "%s: recon.started bank=%r (--bank %s)"
          % (label, st.get("bank"), c.run_bank))
    fin = w.events("recon.finished", id=run_id)
    check(len(fin) == 1, "%s: one recon.finished id=%s: %r"
          % (label, run_id, w.log_events("recon.finished")))
    fin = fin[0]
    check(os.path.realpath(fin.get("dir", "")) == os.path.realpath(run_dir),
          "%s: recon.finished dir=%r" % (label, fin.get("dir")))
    check(fin.get("booked") == str(booked_now),
          "%s: recon.finished booked=%r, expected %d"
          % (label, fin.get("booked"), booked_now))
    bad = {k: (fin.get(k), v) for k, v in sp.items() if fin.get(k) != v}
    check(not bad, "%s: recon.finished summary differs from --last "
          "(log, ctl): %r" % (label, bad))
    check(not w.events("recon.failed"), "%s: no recon.failed: %r"
          % (label, w.log_events("recon.failed")))


def check_states(c, label):
    w = c.w
    a = w.show(c.msg_a["id"])["message"]
    b = w.show(c.msg_b["id"])["message"]
    check(a["state"] == "booked", "%s: message A %s is booked (h2hctl show): "
          "%r" % (label, c.msg_a["id"], a["state"]))
    check(b["state"] == "acknowledged",
          "%s: message B %s, one payment never booked, stays acknowledged: "
          "%r" % (label, c.msg_b["id"], b["state"]))
    q = [m["id"] for m in w.queue(state="booked")]
    check(q == [c.msg_a["id"]], "%s: h2hctl queue --state booked lists only "
          "A: %r" % (label, q))
    ev = w.events("payment.booked")
    check([e.get("msg") for e in ev] == [c.msg_a["id"]],
          "%s: payment.booked once, for A only: %r" % (label, ev))
    return ev[0]


def reconcile(c):
    w = c.w
    # the ledger archive of delivered statements (state/ledger/<bank>)
    arch = w.p(os.path.join("state", "ledger", BANK))
    names = files(arch)
    check(names, "the delivered statement is archived in %s" % arch)
    for n in names:
        h = hashlib.sha256(open(os.path.join(arch, n), "rb").read())
        check(h.hexdigest() == n, "archive %s/%s is named by its sha256"
              % (arch, n))
    check(c.stmt_sha in names, "the archive holds the delivered file "
          "(sha256 %s): %r" % (c.stmt_sha, names))

    # 4. first run
    run1, dir1 = run_reconcile(c, "run 1")
    csvs = read_run(c, dir1, "run 1")
    matches1 = check_files(c, dir1, csvs, "run 1")
    j = last_json(c)
    sp = check_json(c, j, run1, dir1, csvs, 1, "run 1")
    r = ctl_run(w, "reconcile", "--last")
    check(r.returncode == 0 and r.stdout.splitlines()[:1] ==
          ["run %s ok" % run1],
          "h2hctl reconcile --last prints 'run %s ok': %r %r"
          % (run1, r.stdout, r.stderr))
    check_log(c, run1, dir1, sp, 1, "run 1")
    ev = check_states(c, "run 1")
    check(ev.get("run") == run1, "payment.booked run=%r, expected %s"
          % (ev.get("run"), run1))

    # 5. again: same matches, new id, nothing more booked
    run2, dir2 = run_reconcile(c, "run 2", bank=BANK)
    check(run2 != run1, "a new run id: %s after %s" % (run2, run1))
    csvs2 = read_run(c, dir2, "run 2")
    matches2 = check_files(c, dir2, csvs2, "run 2")
    check(matches2 == matches1, "run 2 matched the same pairs\n  only in 1: "
          "%r\n  only in 2: %r" % (sorted(matches1 - matches2),
                                   sorted(matches2 - matches1)))
    j2 = last_json(c)
    sp2 = check_json(c, j2, run2, dir2, csvs2, 0, "run 2")
    check_log(c, run2, dir2, sp2, 0, "run 2")
    check_states(c, "run 2")
    check(os.path.isdir(dir1), "run 1's folder is kept")

    # 6. a broken expected-receipts row: reported, skipped, run goes on
    due = (c.today_d + datetime.timedelta(days=30)).isoformat()
    broken = os.path.join(c.expected_dir, "broken.csv")
    write_file(broken, "reference,payer,amount,currency,due_date\r\n"
               "INV-2026-9001,Initech AG,99.00,EUR,%s\r\n"
               "INV-2026-9002,Initech AG,ninety,EUR,%s\r\n" % (due, due))
    c.receipts = 2
    run3, dir3 = run_reconcile(c, "run 3", channel=c.w.channel(c.bank))
    csvs3 = read_run(c, dir3, "run 3")
    matches3 = check_files(c, dir3, csvs3, "run 3")
    check(matches3 == matches1, "run 3 matched the same pairs")
    j3 = last_json(c)
    sp3 = check_json(c, j3, run3, dir3, csvs3, 0, "run 3")
    check(sp3.get("receipts") == "2",
          "run 3 read the good row of broken.csv: receipts=%r"
          % sp3.get("receipts"))
    check_log(c, run3, dir3, sp3, 0, "run 3")
    probs = w.events("recon.expected.problem")
    check(len(probs) == 1, "one recon.expected.problem: %r"
          % w.log_events("recon.expected.problem"))
    p = probs[0]
    check(p.get("level") in ("warn", "warning"),
          "recon.expected.problem is a warning: %r" % p)
    check(os.path.basename(p.get("file", "")) == "broken.csv" and
          p.get("line") == "3" and p.get("rule") and p.get("error"),
          "recon.expected.problem names file broken.csv, line 3, rule and "
          "error: %r" % p)
    return matches1


# --------------------------------------------------------------------------
# 7: h2hd killed (SIGKILL) while a run goes, restarted on the same config


CRASH_KILLS = int(os.environ.get("H2H_RECON_KILLS", "10"))
# how each kill is timed: a random 0-50 ms after `reconcile --no-wait`, as
# soon as the run's hidden .<id>.tmp folder shows, or as soon as the run
# folder is renamed into view (before the store records the run's end)
CRASH_MODES = ("random", "random", "tmp", "published")
RUN_LINE = re.compile(r"^run (R[0-9A-Za-z-]+) (\w+)$")
TMP_NAME = re.compile(r"^\.(R[0-9A-Za-z-]+)\.tmp$")


def store_runs(c):
    """{run id: result} as the store has them (read-only, beside h2hd)."""
    con = sqlite3.connect("file:%s?mode=ro" % c.w.p("state/h2hd.db"),
                          uri=True, timeout=10)
    try:
        return dict(con.execute("select id, result from recon_run"))
    finally:
        con.close()


def listing(d):
    try:
        return set(os.listdir(d))
    except FileNotFoundError:
        return set()


def restart(c, label):
    """Start h2hd again on the same config and wait until it answers;
    returns the log lines written since (this start's)."""
    w = c.w
    mark = len(w.log_events())
    # the killed daemon's socket file is still there: start() cannot wait
    # for it, so wait for an answer instead
    w.start(wait=False)

    def up():
        check(w.proc.poll() is None, "%s: h2hd exited at the restart (%r):"
              "\n%s" % (label, w.proc.poll(), w.tail(40)))
        r = subprocess.run([H2HCTL, "-s", w.sock, "--json", "status"],
                           capture_output=True, text=True, timeout=30)
        return r.returncode == 0
    wait_until(up, 30, "%s: h2hd to answer after the restart" % label)
    new = w.log_events()[mark:]
    check(any(" event=daemon.started " in l + " " for l in new),
          "%s: the restart logged daemon.started: %r" % (label, new[-10:]))
    return new


def check_reports(c, runs, label, xsd):
    """The reconcile dir against the store: a visible folder for every run
    recorded ok, complete, and none for any other run; a hidden temporary
    folder only for an interrupted run."""
    d = c.recon_dir
    for n in sorted(listing(d)):
        path = os.path.join(d, n)
        if n.startswith("."):
            m = TMP_NAME.match(n)
            check(m and runs.get(m.group(1)) == "interrupted",
                  "%s: hidden %s in %s, not the temporary folder of an "
                  "interrupted run (store: %r)" % (label, n, d, runs))
            continue
        check(os.path.isdir(path), "%s: %s is a folder" % (label, path))
        check(runs.get(n) == "ok",
              "%s: visible run folder %s, but the store records run %s as "
              "%r" % (label, path, n, runs.get(n)))
        have = set(os.listdir(path))
        missing = [x for x in OUTPUTS if x not in have]
        check(not missing, "%s: run folder %s lacks %r (has %r)"
              % (label, n, missing, sorted(have)))
        try:
            doc = etree.parse(os.path.join(path, "result.xml"),
                              etree.XMLParser(resolve_entities=False,
                                              no_network=True))
        except etree.XMLSyntaxError as ex:
            fail("%s: %s/result.xml does not parse: %s" % (label, n, ex))
        check(xsd.validate(doc), "%s: %s/result.xml is not valid: %s"
              % (label, n, xsd.error_log))
    for rid, res in sorted(runs.items()):
        check(res in ("ok", "interrupted"),
              "%s: run %s is %r after a restart (ok or interrupted only)"
              % (label, rid, res))
        if res == "ok":
            check(os.path.isdir(os.path.join(d, rid)),
                  "%s: run %s is ok but has no folder in %s: %r"
                  % (label, rid, d, sorted(listing(d))))
        else:
            check(not os.path.exists(os.path.join(d, rid)),
                  "%s: run %s is %s, yet its folder %s is there (%r)"
                  % (label, rid, res, os.path.join(d, rid),
                     sorted(listing(os.path.join(d, rid)))))


def last_status(c, label):
    """h2hctl reconcile --last --json whatever the result: exit 0 for an
    ok run, 1 for one that did not finish ok (contract), JSON either way."""
    r = ctl_run(c.w, "reconcile", "--last", "--json")
    try:
        j = json.loads(r.stdout)
    except ValueError:
        fail("%s: h2hctl reconcile --last --json exit %d, not JSON: %r %r"
             % (label, r.returncode, r.stdout, r.stderr))
    want = 0 if j.get("result") in ("ok", "running") else 1
    check(r.returncode == want, "%s: h2hctl reconcile --last --json exit %d "
          "for a run %r (want %d)" % (label, r.returncode, j.get("result"),
                                      want))
    return j


def kill_when(pred, limit):
    """Poll pred tightly up to limit seconds; True when it held."""
    end = time.time() + limit
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.0002)
    return False


def crash_once(c, k, mode, rnd, xsd):
    w = c.w
    label = "crash %d (%s)" % (k + 1, mode)
    before = store_runs(c)
    last_before = last_status(c, label).get("id")
    seen = listing(c.recon_dir)
    ctl = subprocess.Popen(
        [H2HCTL, "-s", w.sock, "-t", "60", "reconcile", "--from",
         c.yesterday, "--to", c.today, "--no-wait"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    hit = True
    if mode == "random":
        time.sleep(rnd.uniform(0, 0.05))
    elif mode == "tmp":
        hit = kill_when(lambda: any(TMP_NAME.match(n) for n in
                                    listing(c.recon_dir) - seen), 3)
    else:
        hit = kill_when(lambda: any(not n.startswith(".") for n in
                                    listing(c.recon_dir) - seen), 3)
    check(w.alive(), "%s: h2hd died by itself before the kill:\n%s"
          % (label, w.tail(40)))
    w.kill9()
    try:
        out, _ = ctl.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        ctl.kill()
        ctl.communicate()
        fail("%s: h2hctl reconcile --no-wait hangs after h2hd died" % label)
    m = RUN_LINE.match(out.splitlines()[0] if out else "")
    ctl_id = m.group(1) if ctl.returncode == 0 and m else None

    new_log = restart(c, label)
    interrupted_log = [l for l in new_log
                       if " event=recon.interrupted " in l + " "]
    runs = store_runs(c)
    new = sorted(set(runs) - set(before))
    check(len(new) <= 1, "%s: at most one new run: %r" % (label, new))
    check(not ctl_id or new == [ctl_id],
          "%s: h2hctl named run %s, the store has new %r"
          % (label, ctl_id, new))
    j = last_status(c, label)
    want_id = new[0] if new else last_before
    check(j.get("id") == want_id, "%s: --last is %r, expected %s (%s)"
          % (label, j.get("id"), want_id,
             "the run started" if new else "no run was recorded"))
    res = j.get("result")
    check(res in ("ok", "interrupted"),
          "%s: after the restart run %s is %r (ok or interrupted only): %r"
          % (label, j.get("id"), res, j))
    check(runs.get(j.get("id")) == res, "%s: --last says %s, the store %r"
          % (label, res, runs.get(j.get("id"))))
    run_dir = os.path.join(c.recon_dir, j.get("id"))
    if new and res == "interrupted":
        check(len(interrupted_log) == 1 and
              logfmt(interrupted_log[0]).get("runs") == "1",
              "%s: the new start logged recon.interrupted runs=1: %r"
              % (label, interrupted_log))
        check(j.get("error"), "%s: an interrupted run says why: %r"
              % (label, j))
        check(not os.path.exists(run_dir),
              "%s: interrupted run %s has a visible run folder %s (%r); "
              "its matched messages were not booked, its store row has no "
              "dir" % (label, j["id"], run_dir,
                       sorted(listing(run_dir))))
    else:
        check(not interrupted_log, "%s: nothing was running at the kill, "
              "yet the new start logged %r" % (label, interrupted_log))
    if new and res == "ok":
        check(os.path.realpath(j.get("dir") or "") ==
              os.path.realpath(run_dir),
              "%s: ok run %s dir %r" % (label, j["id"], j.get("dir")))
        check((j.get("counts") or {}).get("booked") == 0,
              "%s: a run after A was booked books nothing: %r"
              % (label, j.get("counts")))
        csvs = {n: read_csv(os.path.join(run_dir, n), n) for n in COLS}
        got = check_files(c, run_dir, csvs, label)
        check(got == c.matches1, "%s: run %s matched other pairs than run 1"
              % (label, j["id"]))
    check_reports(c, runs, label, xsd)
    check_states(c, label)
    return (res if new else "none"), hit


def crash(c):
    seed = int(os.environ.get("H2H_RECON_SEED", "0")) or \
        int.from_bytes(os.urandom(4), "big")
    rnd = random.Random(seed)
    print("test_recon: %d kills, H2H_RECON_SEED=%d" % (CRASH_KILLS, seed))
    xsd = etree.XMLSchema(etree.parse(XSD))
    outcomes = {}
    for k in range(CRASH_KILLS):
        mode = CRASH_MODES[k % len(CRASH_MODES)]
        res, hit = crash_once(c, k, mode, rnd, xsd)
        key = "%s:%s%s" % (mode, res, "" if hit else "(missed)")
        outcomes[key] = outcomes.get(key, 0) + 1
    print("test_recon: kills by timing:outcome: %s"
          % ", ".join("%s=%d" % kv for kv in sorted(outcomes.items())))

    # a normal run afterwards: same pairs as run 1, leftovers cleaned
    label = "after the crashes"
    run, run_dir = run_reconcile(c, label)
    csvs = read_run(c, run_dir, label)  # also: no .tmp folder left
    got = check_files(c, run_dir, csvs, label)
    check(got == c.matches1, "%s: matched the same pairs as run 1\n  only "
          "in 1: %r\n  only now: %r" % (label, sorted(c.matches1 - got),
                                         sorted(got - c.matches1)))
    j = last_json(c)
    sp = check_json(c, j, run, run_dir, csvs, 0, label)
    check_log(c, run, run_dir, sp, 0, label)
    check_states(c, label)
    check_reports(c, store_runs(c), label, xsd)
    check(not [n for n in listing(c.recon_dir) if n.startswith(".")],
          "%s: hidden folders left in %s: %r"
          % (label, c.recon_dir, sorted(listing(c.recon_dir))))


def scheduled(c):
    """8. A bank's schedule runs it too: a reconcile job every 2 s, added
    by a reload, starts runs with trigger "schedule" that end ok, book
    nothing new, and show in h2hctl jobs."""
    c.w.write_conf(conf_text(
        c.w, c.bank, c.recon_dir, c.expected_dir,
        bank_extra='schedule = { jobs = ( { kind = "reconcile"; '
                   'cron = "every 2s"; } ); };'))
    mark = len(c.w.log_events())
    c.w.reload()

    def done():
        return [logfmt(l) for l in c.w.log_events()[mark:]
                if " event=sched.job.done " in l + " " and
                logfmt(l).get("kind") == "reconcile"]
    wait_until(lambda: len(done()) >= 2, 30,
               "two scheduled reconcile runs end")
    for d in done():
        check(d.get("result") == "ok" and d.get("bank") == BANK,
              "scheduled reconcile run ok for %s: %r" % (BANK, d))
    started = [logfmt(l) for l in c.w.log_events()[mark:]
               if " event=recon.started " in l + " "]
    check(len(started) >= 2 and all(x.get("trigger") == "schedule" and
                                    x.get("bank") == BANK for x in started),
          "scheduled runs are logged trigger=schedule bank=%s: %r"
          % (BANK, started))
    j = wait_until(lambda: (lambda x: x if x["result"] != "running"
                            else None)(last_json(c)), 10,
                   "the latest scheduled run to end")
    check(j["trigger"] == "schedule" and j["bank"] == BANK and
          j["counts"]["matched_payments"] == 7 and
          j["counts"]["booked"] == 0,
          "the latest run is the scheduled one, same matches: %r" % j)
    jobs = c.w.ctl_json("jobs", BANK)["jobs"]
    rj = [x for x in jobs if x["kind"] == "reconcile"]
    check(len(rj) == 1 and rj[0]["result"] == "ok" and rj[0]["last_run"],
          "h2hctl jobs lists the reconcile job with its last run: %r" % jobs)
    # put the schedule away again for the steps that follow
    c.w.write_conf(conf_text(c.w, c.bank, c.recon_dir, c.expected_dir))
    c.w.reload()


def setup(c, reconcile_group=True):
    c.today_d = utc_today()
    c.today = c.today_d.isoformat()
    c.yesterday = (c.today_d - datetime.timedelta(days=1)).isoformat()
    c.receipts = 1
    c.base = tempfile.mkdtemp(prefix="h2h-recon-")
    c.cleanup.add(lambda: KEEP or shutil.rmtree(c.base, ignore_errors=True))
    c.sshd = Sshd(os.path.join(c.base, "sshd")).start()
    c.cleanup.add(c.sshd.stop)
    # the bank books on the UTC day, like the dates of the run
    c.bank = SftpBank(c.sshd, BANK, poll_ms=50, corpus=CORPUS,
                      booking_date=c.today)
    c.cleanup.add(c.bank.stop)
    c.w = SftpWorld("recon", [(c.bank, dict(poll_interval=300))],
                    rescan=200)
    c.cleanup.add(c.w.cleanup)
    c.w.out_dir = c.w.p("spool/%s/out" % c.w.channel(c.bank))
    c.recon_dir = c.w.p("reconcile")
    c.expected_dir = c.w.p("expected")
    os.makedirs(c.expected_dir)
    write_file(os.path.join(c.expected_dir, "open.csv"),
               "reference,payer,amount,currency,due_date,account\r\n"
               "%s,%s,%s,EUR,%s,%s\r\n"
               % (INVOICE, RECEIPT_PAYER, RECEIPT_AMT, c.today, DEBTOR))
    c.w.write_conf(conf_text(c.w, c.bank, c.recon_dir, c.expected_dir,
                             reconcile_group))
    c.w.start()


def main():
    if not os.path.isdir(os.path.join(CORPUS, "xsd")):
        fail("the corpus XSDs are missing: %s" % CORPUS)
    avoid_midnight()
    t0 = time.time()
    c = Ctx()
    c.cleanup = Cleanup()
    try:
        setup(c)
        deliver(c)
        c.matches1 = reconcile(c)
        crash(c)
        scheduled(c)
        c.w.check_alive("at the end")
        mark = len(c.w.log_events())
        check(c.w.stop() == 0, "clean stop (SIGTERM, exit 0)")
        stopped = [logfmt(l) for l in c.w.log_events()[mark:]
                   if " event=daemon.stopped " in l + " "]
        check(len(stopped) == 1 and stopped[0].get("reason") == "signal",
              "the SIGTERM stop logged daemon.stopped reason=signal: %s"
              % c.w.tail(8))
        print("PASS test_recon (%.1f s)" % (time.time() - t0))
    except SystemExit:
        if getattr(c, "w", None):
            print(c.w.tail(60))
        raise
    finally:
        c.cleanup.run()


if __name__ == "__main__":
    main()
