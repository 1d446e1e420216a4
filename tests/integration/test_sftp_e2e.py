"""End to end over SFTP: treasury drops a 500-payment pain.001.001.03 and a
CSV file; h2hd validates them, renders pain.001.001.09 and uploads each
exactly once through the iso20022_sftp adapter to a real OpenSSH sshd on
loopback, where a strict bank back office (tests/sims/bank_sftp.py)
validates against the official XSD, books and answers with a pain.002.
h2hd fetches the status reports into out/status, moves the messages to
acknowledged, and fetches a statement into out/statements as MT940 and,
after a reload, as canonical XML.  Then trust failures: a key the server
does not accept and a changed host key fail the payment permanently with a
clear reason (the presented fingerprint), and nothing reaches the bank."""
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal

from h2hlib import CORPUS, World, check, drop_atomic, fail, sha256, wait_until

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "sims"))
import bank_sftp  # noqa: E402

SSHD_PY = os.path.join(SRC, "tests", "sims", "sshd.py")
TODAY = datetime.date.today().isoformat()
N_PAY = 500


def iban(country, bban):
    """A valid IBAN for bban: mod-97 check digits (ISO 13616)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%s%02d%s" % (country, 98 - int(digits) % 97, bban)


DEBTOR = iban("DE", "370400440532013000")


def pain001_03(msg_id, n):
    """pain.001.001.03, one payment group of n credit transfers from
    DEBTOR to n different (valid) accounts; returns (bytes, total)."""
    txs, total = [], Decimal("0.00")
    for i in range(n):
        amt = Decimal("%d.%02d" % (10 + i, i % 100))
        total += amt
        txs.append("""
      <CdtTrfTxInf>
        <PmtId><EndToEndId>%s-%d</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="EUR">%s</InstdAmt></Amt>
        <CdtrAgt><FinInstnId><BIC>DEUTDEFFXXX</BIC></FinInstnId></CdtrAgt>
        <Cdtr><Nm>Supplier %d GmbH</Nm></Cdtr>
        <CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct>
        <RmtInf><Ustrd>Invoice %d</Ustrd></RmtInf>
      </CdtTrfTxInf>""" % (msg_id, i, amt, i,
                           iban("DE", "50070010%010d" % (i + 1)), 9000 + i))
    doc = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>%s</MsgId>
      <CreDtTm>%sT09:00:00</CreDtTm>
      <NbOfTxs>%d</NbOfTxs>
      <CtrlSum>%s</CtrlSum>
      <InitgPty><Nm>Example Treasury GmbH</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>%s-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>%d</NbOfTxs>
      <CtrlSum>%s</CtrlSum>
      <ReqdExctnDt>%s</ReqdExctnDt>
      <Dbtr><Nm>Example Treasury GmbH</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></DbtrAgt>%s
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
""" % (msg_id, TODAY, n, total, msg_id, n, total, TODAY, DEBTOR, "".join(txs))
    return doc.encode(), total


def csv_payments(msg_id):
    """A CSV payment file (formats/CSV.md) of three transfers."""
    rows = [("%s-%d" % (msg_id, i), amt, iban("FR", "20041010050500013M0%04d" % i))
            for i, amt in enumerate(("12.34", "1250.00", "0.99"))]
    lines = ["msg_id,execution_date,debtor_name,debtor_iban,debtor_bic,"
             "end_to_end_id,amount,currency,creditor_name,creditor_iban,"
             "creditor_bic,remittance"]
    for e2e, amt, cred in rows:
        lines.append("%s,%s,Example Treasury GmbH,%s,COBADEFFXXX,%s,%s,EUR,"
                     "\"Fournisseur, SA\",%s,BNPAFRPPXXX,Invoice %s"
                     % (msg_id, TODAY, DEBTOR, e2e, amt, cred, e2e))
    total = sum(Decimal(a) for _, a, _ in rows)
    return ("\r\n".join(lines) + "\r\n").encode(), total


class Sshd:
    """tests/sims/sshd.py: a throw-away OpenSSH sshd on 127.0.0.1."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="h2h-sshd-")
        r = subprocess.run(["/usr/bin/python3", SSHD_PY, "start", self.dir],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail("sshd did not start: " + r.stdout + r.stderr)
        self.info = dict(l.split("=", 1) for l in r.stdout.split("\n") if "=" in l)
        self.port = int(self.info["port"])
        self.user = self.info["user"]
        self.root = os.path.join(self.dir, "sftp")

    def p(self, name):
        return os.path.join(self.dir, name)

    def stop(self):
        subprocess.run(["/usr/bin/python3", SSHD_PY, "stop", self.dir],
                       capture_output=True, timeout=60)
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


def install_key(w, src, name):
    """A private key beside the config (relative path), mode 0600."""
    os.makedirs(w.p("keys"), exist_ok=True)
    dst = w.p(os.path.join("keys", name))
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)
    return "keys/" + name


BANK = """
  {{ name = "{name}"; adapter = "iso20022_sftp"; payment_format = "pain.001.001.09";
    max_sessions = 2; poll_interval = 500;
    iso20022_sftp = {{
      host = "127.0.0.1"; port = {port}; user = "{user}";
      key = "{key}"; known_hosts = "{known_hosts}";
      upload_dir = "{root}/upload";
      {downloads}
      after_fetch = "delete";
      archive_dirs = ( {{ dir = "{root}/.banksim/archive"; match = "??????_{{name}}"; }} );
      connect_timeout = 5; op_timeout = 30; keepalive = 30; idle_timeout = 60;
    }}; }}"""

DAEMON = """
daemon = {
  log_file = "h2hd.log"; log_level = "debug"; rescan_interval = 300;
  shutdown_timeout = 10;
  retry = { initial = 200; max = 1000; max_attempts = 5; max_age = 3600; };
};
"""


def bank_conf(sshd, w, name, key, known_hosts, downloads=True):
    return BANK.format(
        name=name, port=sshd.port, user=sshd.user, key=key,
        known_hosts=known_hosts, root=sshd.root,
        downloads=('downloads = ( { dir = "%s/download"; pattern = "*"; } );'
                   % sshd.root) if downloads else "")


def messages(w):
    return [w.ctl_json("show", m["id"]) for m in w.ctl_json("queue")["messages"]]


def by_business_id(w, bid):
    for m in messages(w):
        if m["message"].get("business_id") == bid:
            return m
    return None


def files(d):
    try:
        return sorted(n for n in os.listdir(d) if not n.startswith("."))
    except FileNotFoundError:
        return []


def fingerprint(pub):
    """"SHA256:..." of a public key file, as ssh-keygen prints it."""
    out = subprocess.run(["ssh-keygen", "-l", "-f", pub], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1]


def main_flow(sshd, sim):
    w = World("sftp-e2e")
    try:
        key = install_key(w, sshd.info["user_key"], "id_ed25519")
        kh = install_key(w, sshd.info["known_hosts"], "known_hosts")
        chan = """
channels = (
  { name = "erp"; bank = "bankx"; input_format = "auto";
    output_format = "%s"; stability = 0; }
);
"""
        bank = "banks = (%s\n);\n" % bank_conf(sshd, w, "bankx", key, kh)
        w.write_conf(DAEMON + bank + chan % "mt940")
        w.start()

        big, big_total = pain001_03("E2E-PAIN-1", N_PAY)
        drop_atomic(w, "payments-500.xml", big)
        csv, csv_total = csv_payments("E2E-CSV-1")
        drop_atomic(w, "payments.csv", csv)

        # The bank receives exactly one valid file per drop.
        wait_until(lambda: len(sim.arrivals()) >= 2, 120,
                   "both files at the bank: " + w.tail(10))
        arr = sim.arrivals()
        check(len(arr) == 2, "exactly two arrivals: %r" %
              [(a["file"], a["msg_id"], a["reason"]) for a in arr])
        got = {a["msg_id"]: a for a in arr}
        check(set(got) == {"E2E-PAIN-1", "E2E-CSV-1"},
              "the bank got both MsgIds: %r" % sorted(got))
        for a in arr:
            check(a["reason"] != "DUPL", "no duplicate at the bank: %r" % a)
            check(a["verdict"] == "ACCP" and a["reason"] is None,
                  "%s accepted by the bank: verdict %s reason %s error %s"
                  % (a["file"], a["verdict"], a["reason"], a["error"]))
            check(a["format"] == "pain.001.001.09",
                  "%s rendered as pain.001.001.09, got %s" % (a["file"],
                                                               a["format"]))
        check(got["E2E-PAIN-1"]["n_tx"] == N_PAY and
              got["E2E-PAIN-1"]["accepted"] == N_PAY,
              "all %d payments accepted: %r" % (N_PAY, got["E2E-PAIN-1"]["n_tx"]))
        check(got["E2E-CSV-1"]["n_tx"] == 3, "the CSV's 3 payments arrived")

        # What arrived is byte for byte what h2hd rendered, under the
        # bank-visible name it recorded.
        for bid in ("E2E-PAIN-1", "E2E-CSV-1"):
            m = wait_until(lambda: by_business_id(w, bid), 30,
                           "message %s listed" % bid)["message"]
            a = got[bid]
            check(a["file"] == m["remote_name"],
                  "arrived as %s, recorded %s" % (a["file"], m["remote_name"]))
            check(a["sha256"] == sha256(m["rendered"]),
                  "%s arrived exactly as rendered" % bid)

        # The pain.002 answers come back into out/status ...
        status = os.path.join(w.out, "status")
        wait_until(lambda: len([n for n in files(status)
                                if n.startswith("pain002_")]) == 2, 60,
                   "two status reports in out/status: %r" % files(status))
        for bid in ("E2E-PAIN-1", "E2E-CSV-1"):
            names = [n for n in files(status) if n.startswith("pain002_%s_" % bid)]
            check(len(names) == 1, "one pain.002 for %s: %r" % (bid, names))
            body = open(os.path.join(status, names[0])).read()
            check("<OrgnlMsgId>%s</OrgnlMsgId>" % bid in body,
                  "the pain.002 answers %s" % bid)
        # ... are taken off the server (after_fetch = "delete") ...
        wait_until(lambda: not [n for n in files(os.path.join(sshd.root, "download"))
                                if n.startswith("pain002_")], 30,
                   "fetched status reports deleted at the bank")
        # ... and move the messages to acknowledged.
        for bid in ("E2E-PAIN-1", "E2E-CSV-1"):
            wait_until(lambda: (by_business_id(w, bid) or {}).get(
                "message", {}).get("state") == "acknowledged", 60,
                "%s acknowledged (h2hctl show): %r" % (
                    bid, (by_business_id(w, bid) or {}).get("message")))

        # A statement, fetched and delivered as MT940.
        with open(sim.trigger, "w") as f:
            f.write("%s camt053\n" % TODAY)
        stmts = os.path.join(w.out, "statements")
        wait_until(lambda: [n for n in files(stmts) if n.endswith(".sta")], 60,
                   "an MT940 statement in out/statements: %r" % files(stmts))
        sta = [n for n in files(stmts) if n.endswith(".sta")]
        check(len(sta) == 1, "one statement: %r" % sta)
        mt = open(os.path.join(stmts, sta[0]), errors="replace").read()
        check(":20:" in mt and ":60F:" in mt and ":62F:" in mt,
              "the statement is MT940: " + mt[:300])
        n61 = mt.count("\n:61:") + mt.startswith(":61:")
        check(n61 == N_PAY + 3, "%d entries booked and reported, got %d"
              % (N_PAY + 3, n61))
        m62 = re.search(r":62F:([CD])(\d{6})EUR([0-9,]+)", mt)
        check(m62 is not None, "closing balance present")
        closing = Decimal(m62.group(3).replace(",", "."))
        if m62.group(1) == "D":
            closing = -closing
        want = Decimal("1000000.00") - big_total - csv_total
        check(closing == want, "closing balance %s, expected %s" % (closing, want))

        # Reload with another output format: the next statement arrives as
        # canonical XML (the new adapter instance fetches it).
        w.write_conf(DAEMON + bank + chan % "canonical")
        w.ctl("reload")
        with open(sim.trigger, "w") as f:
            f.write("%s camt053\n" % TODAY)
        wait_until(lambda: [n for n in files(stmts) if not n.endswith(".sta")],
                   60, "a canonical statement in out/statements: %r"
                   % files(stmts))
        canon = [n for n in files(stmts) if not n.endswith(".sta")]
        check(len(canon) == 1, "one more statement: %r" % canon)
        body = open(os.path.join(stmts, canon[0]), errors="replace").read()
        check("urn:h2hd:canonical" in body,
              "the second statement is canonical XML: " + body[:300])
        wait_until(lambda: not files(os.path.join(sshd.root, "download")), 30,
                   "the bank's download folder emptied: %r"
                   % files(os.path.join(sshd.root, "download")))

        # Still exactly once, nothing left behind, healthy.
        check(len(sim.arrivals()) == 2, "still two arrivals after the reload")
        left = [n for n in os.listdir(os.path.join(sshd.root, "upload"))
                if n.startswith(".h2h-tmp.")]
        check(not left, "no upload temporaries left: %r" % left)
        st = w.ctl_json("status")
        health = [b["health"] for b in st["banks"] if b["name"] == "bankx"]
        check(health == ["ok"], "bank healthy: %r" % health)

        check(w.proc.poll() is None, "h2hd still running")
        check(w.stop() == 0, "clean stop")
        # No full account number in the log, apart from the bank's own file
        # names (BankSim names statements camt053_<IBAN>_...; the daemon
        # logs remote names as they are).
        for line in w.log_events():
            if DEBTOR in re.sub(r"(remote|file)=\S+", "", line):
                fail("a full account number reached the log: " + line)
    except SystemExit:
        print(w.tail(60))
        raise
    finally:
        w.cleanup()


def trust_failures(sshd, sim):
    """A refused key and a changed host key: permanent, clear, nothing
    sent."""
    w = World("sftp-trust")
    try:
        wrong = w.p("wrong_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        wrong], check=True, stdin=subprocess.DEVNULL)
        wrong_key = install_key(w, wrong, "wrong_ed25519")
        key = install_key(w, sshd.info["user_key"], "id_ed25519")
        kh = install_key(w, sshd.info["known_hosts"], "known_hosts")
        kh_changed = install_key(w, sshd.p("known_hosts_changed"),
                                 "known_hosts_changed")
        banks = "banks = (%s,%s\n);\n" % (
            bank_conf(sshd, w, "wrongkey", wrong_key, kh, downloads=False),
            bank_conf(sshd, w, "changedkey", key, kh_changed, downloads=False))
        chans = """
channels = (
  { name = "erp"; bank = "wrongkey"; input_format = "auto"; stability = 0; },
  { name = "erp2"; bank = "changedkey"; input_format = "auto"; stability = 0; }
);
"""
        w.write_conf(DAEMON + banks + chans)
        os.makedirs(w.p("spool/erp2/in"), exist_ok=True)
        before = len(sim.arrivals())
        w.start()
        drop_atomic(w, "a.xml", pain001_03("E2E-TRUST-1", 2)[0])
        tmp = os.path.join(w.p("spool/erp2/in"), ".b.xml.part")
        with open(tmp, "wb") as f:
            f.write(pain001_03("E2E-TRUST-2", 2)[0])
        os.rename(tmp, w.p("spool/erp2/in/b.xml"))

        def state(bid):
            m = by_business_id(w, bid)
            return m and m["message"]
        a = wait_until(lambda: (state("E2E-TRUST-1") or {}).get("state") == "failed"
                       and state("E2E-TRUST-1"), 60,
                       "the payment to the bank refusing our key fails: %r"
                       % state("E2E-TRUST-1"))
        check("refused key" in a["error"] and "wrong_ed25519" in a["error"],
              "the reason names the refused key: " + a["error"])
        b = wait_until(lambda: (state("E2E-TRUST-2") or {}).get("state") == "failed"
                       and state("E2E-TRUST-2"), 60,
                       "the payment to the bank with a changed host key fails: %r"
                       % state("E2E-TRUST-2"))
        fp = fingerprint(sshd.p("host_ed25519.pub"))
        check("CHANGED" in b["error"] and fp in b["error"],
              "the reason names the presented fingerprint %s: %s"
              % (fp, b["error"]))
        check(a["attempts"] <= 1 and b["attempts"] <= 1,
              "permanent: not retried (%d, %d attempts)"
              % (a["attempts"], b["attempts"]))

        health = {x["name"]: x["health"] for x in w.ctl_json("status")["banks"]}
        check(health["changedkey"].startswith("degraded: ") and
              fp in health["changedkey"],
              "h2hctl status shows the fingerprint: %r" % health["changedkey"])
        check(health["wrongkey"].startswith("degraded: ") and
              "refused key" in health["wrongkey"],
              "h2hctl status shows the refused key: %r" % health["wrongkey"])
        check(any(fp in l for l in w.log_events("payment.failed")),
              "the log line carries the fingerprint")
        check(len(sim.arrivals()) == before, "nothing reached the bank")
        check(w.stop() == 0, "clean stop")
    except SystemExit:
        print(w.tail(60))
        raise
    finally:
        w.cleanup()


def main():
    if not os.path.isdir(os.path.join(CORPUS, "xsd")):
        fail("the corpus XSDs are missing: %s" % CORPUS)
    sshd = Sshd()
    sim_log = []
    sim = bank_sftp.BankSim(sshd.root, corpus=CORPUS,
                            log=lambda m: sim_log.append(m))
    t = sim.start_thread(poll_ms=100)
    try:
        main_flow(sshd, sim)
        trust_failures(sshd, sim)
        print("PASS test_sftp_e2e")
    except SystemExit:
        print("bank simulator log:\n" + "\n".join(sim_log[-30:]))
        raise
    finally:
        sim.stop()
        t.join(10)
        sshd.stop()


if __name__ == "__main__":
    main()
