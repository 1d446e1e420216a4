"""End to end with a JSON open-banking bank: h2hd and its openapi_json
adapter against the strict simulator tests/sims/bank_openapi.py (mutual
TLS, OAuth2, CMS-signed requests and answers, idempotency keys), started
through tests/sims/openapi_world.py.

    test_openapi_e2e.py [flow|crash|security|all]      (default: all)

flow: treasury drops a pain.001.001.03 and a CSV into a channel (input
auto); h2hd renders them canonical, the adapter sends every payment once
(the simulator's arrival log shows one `created` per EndToEndId and
nothing else), makes a pain.002 from the bank's answers, which moves each
message to acknowledged, and brings a statement of the debtor account
into out/statements as MT940 (several pages of entries; balances that
match the bank's ledger).  Then the ambiguous failure: the bank creates a
payment and the connection closes before its answer; h2hd does not resend
but asks by key (recover) and the message is acknowledged with exactly
one arrival.  Then a payment scheduled for later: PDNG first (the message
stays submitted), acknowledged by a second report once the bank executes
it.  No full account number reaches the log.

crash: payments keep arriving while h2hd is SIGKILLed at least 20 times
(H2H_OPENAPI_KILLS, default 30) at random moments, right after the bank
logged an arrival (payment created, answer perhaps not read), right after
a status report appeared in the adapter's outbox, and right after one
reached out/status.  At the end every payment was created exactly once at
the bank (no duplicate in the arrival log), every message is
acknowledged, each status report reached treasury exactly once, nothing
is held or failed, and the store passes its start-up check.

security: nothing that is not the bank's genuine, fresh answer over a
trusted connection is accepted, and each refusal has a log line naming
it.  Answers: a response signature over other bytes, and a replayed
answer (the bank's last genuine answer again, its X-Response-Id seen
before), are each no answer: payment.outcome_unknown naming the check,
then an inquiry by key (recover) and the message acknowledged with the
payment created exactly once at the bank (the forged one: found; the
replayed one: the request was never processed, proven not sent, sent
again); never acknowledged on the bad answer, never resent blindly.
With bank_cert pinned to another certificate than the bank signs with,
every answer is refused (not signed by the pinned certificate): the
payment, created once, stays submitting while recover keeps asking;
with the right pin recovery finds it (still one arrival).  TLS: a server
certificate for another host name, an expired one, one from a CA not in
tls.ca_file, and a client certificate from a CA the bank does not trust:
the message fails (or, if the bank's alert was not read, waits for a
retry) with a log line naming the reason, no outcome_unknown, nothing
reaches the bank; a bank without a client certificate is refused by
--check-config.
"""
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
from decimal import Decimal

from h2hlib import H2HD, World, check, drop_atomic, fail, wait_until

SRC = os.environ.get("H2H_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "sims"))
import openapi_world  # noqa: E402
import pki  # noqa: E402

TODAY = datetime.datetime.now(datetime.timezone.utc).date()
RUN = "%04X" % random.SystemRandom().randrange(0x10000)


def iban(country, bban):
    """A valid IBAN for bban: mod-97 check digits (ISO 13616)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%s%02d%s" % (country, 98 - int(digits) % 97, bban)


DEBTOR = iban("DE", "370400440532013000")
CREDITORS = [iban("FR", "20041010050500013M02606"),
             iban("NL", "INGB0001234567"),
             iban("GB", "NWBK60161331926819")]
CRED_BIC = ["BNPAFRPPXXX", "INGBNL2AXXX", "NWBKGB2LXXX"]


def pain001(msg_id, n, date=None, seed=0):
    """pain.001.001.03, one group of n transfers from DEBTOR; returns
    (bytes, [EndToEndId...], total)."""
    rnd = random.Random("%s/%d" % (msg_id, seed))
    txs, e2es, total = [], [], Decimal("0.00")
    for i in range(n):
        amt = Decimal(rnd.randrange(100, 500000)) / 100
        total += amt
        k = i % len(CREDITORS)
        e2e = ("%s-%d" % (msg_id, i))[:35]
        e2es.append(e2e)
        txs.append("""
      <CdtTrfTxInf>
        <PmtId><InstrId>I%d</InstrId><EndToEndId>%s</EndToEndId></PmtId>
        <Amt><InstdAmt Ccy="EUR">%s</InstdAmt></Amt>
        <CdtrAgt><FinInstnId><BIC>%s</BIC></FinInstnId></CdtrAgt>
        <Cdtr><Nm>Supplier %d GmbH</Nm></Cdtr>
        <CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct>
        <RmtInf><Ustrd>Invoice %d/%s</Ustrd></RmtInf>
      </CdtTrfTxInf>""" % (i, e2e, amt, CRED_BIC[k], k, CREDITORS[k], i,
                           msg_id))
    doc = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>%s</MsgId><CreDtTm>%sT09:00:00</CreDtTm>
      <NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
      <InitgPty><Nm>Example Treasury GmbH</Nm></InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>%s-1</PmtInfId><PmtMtd>TRF</PmtMtd>
      <NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
      <ReqdExctnDt>%s</ReqdExctnDt>
      <Dbtr><Nm>Example Treasury GmbH</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>
      <DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></DbtrAgt>%s
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
""" % (msg_id, TODAY, n, total, msg_id[:30], n, total,
       (date or TODAY).isoformat(), DEBTOR, "".join(txs))
    return doc.encode(), e2es, total


def csv_payments(msg_id):
    """A CSV payment file (formats/CSV.md) of three transfers."""
    rows = [("%s-%d" % (msg_id, i), amt,
             iban("FR", "20041010050500013M0%04d" % i))
            for i, amt in enumerate(("12.34", "1250.00", "0.99"))]
    lines = ["msg_id,execution_date,debtor_name,debtor_iban,debtor_bic,"
             "end_to_end_id,amount,currency,creditor_name,creditor_iban,"
             "creditor_bic,remittance"]
    for e2e, amt, cred in rows:
        lines.append("%s,%s,Example Treasury GmbH,%s,COBADEFFXXX,%s,%s,EUR,"
                     "\"Fournisseur, SA\",%s,BNPAFRPPXXX,Invoice %s"
                     % (msg_id, TODAY, DEBTOR, e2e, amt, cred, e2e))
    return ("\r\n".join(lines) + "\r\n").encode(), [r[0] for r in rows]


# --------------------------------------------------------------------------
# the bank


class Bank:
    """The simulator CLI (openapi_world.start) and its admin port."""

    def __init__(self, d, page_size=3, server="server"):
        self.dir = d
        seed = os.path.join(d, "seed.json")
        os.makedirs(d, exist_ok=True)
        y = (TODAY - datetime.timedelta(days=1)).isoformat()
        with open(seed, "w") as f:
            json.dump({"accounts": [{"iban": DEBTOR, "currency": "EUR",
                                     "opening_balance": "250000.00"}],
                       "entries": [
                           {"account": DEBTOR, "booking_date": y,
                            "amount": "1000.00", "currency": "EUR",
                            "credit_debit": "CRDT", "end_to_end_id": "IN-1",
                            "counterparty_name": "Customer A",
                            "remittance_information": "Invoice 77"},
                           {"account": DEBTOR, "booking_date": y,
                            "amount": "12.50", "currency": "EUR",
                            "credit_debit": "DBIT",
                            "counterparty_name": "Bank fees"}]}, f)
        self.info = openapi_world.start(
            d, ["--page-size", str(page_size), "--lifetime", "1200"],
            seed=seed, server=server)
        self.arrivals_file = os.path.join(self.info["state"],
                                          "arrivals.jsonl")

    def stop(self):
        openapi_world.stop(self.dir)

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

    def set_today(self, day):
        return self.admin("POST", "/admin/date",
                          {"today": day.isoformat() if day else None})

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

    def created(self):
        """EndToEndId -> number of `created` arrivals."""
        c = {}
        for a in self.arrivals():
            if a["outcome"] == "created":
                c[a["end_to_end_id"]] = c.get(a["end_to_end_id"], 0) + 1
        return c

    def check_exactly_once(self, e2es, what=""):
        c = self.created()
        dup = sorted(k for k, v in c.items() if v > 1)
        check(not dup, "%spayments created twice at the bank: %r" %
              (what, dup[:5]))
        missing = [e for e in e2es if c.get(e, 0) != 1]
        check(not missing, "%spayments not created exactly once: %r" %
              (what, [(e, c.get(e, 0)) for e in missing[:5]]))

    def ledger_entries(self, ccy="EUR"):
        """DEBTOR's entries in ccy from yesterday to today, and the balance
        at the end of today."""
        led = self.admin("GET", "/admin/ledger")
        frm = (TODAY - datetime.timedelta(days=1)).isoformat()
        for a in led["accounts"]:
            if a["iban"] != DEBTOR:
                continue
            bal = Decimal(a["opening"][ccy])
            n = 0
            for e in a["entries"]:
                if e["amount"]["currency"] != ccy:
                    continue
                if e["booking_date"] <= TODAY.isoformat():
                    bal += Decimal(e["amount"]["amount"])
                if frm <= e["booking_date"] <= TODAY.isoformat():
                    n += 1
            return n, bal
        return 0, None


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

BANK = """
banks = (
  {{ name = "obank"; adapter = "openapi_json"; payment_format = "canonical";
     max_sessions = 4; poll_interval = {poll};
     openapi_json = {{
       base_url = "{url}"; client_id = "{cid}";
       client_secret_file = "keys/secret";
       tls = {{ ca_file = "{ca}"; client_cert = "{cc}"; client_key = "{ck}"; }};
       sign = {{ key = "{sk}"; cert = "{sc}"; }};
       bank_cert = "{bc}";
       accounts = ( {accounts} ); statement_days = 1;
       statement_interval = 1; pending_interval = 1;
       connect_timeout = 5; request_timeout = 5;
     }}; }}
);
channels = (
  {{ name = "erp"; bank = "obank"; input_format = "auto";
     output_format = "mt940"; stability = 0; }}
);
"""


def bank_conf(bank, accounts=True, poll=300, client=None, bank_cert=None):
    """The "obank" bank and "erp" channel for the simulator bank.info;
    client: (cert, key) of another TLS client certificate, or "none" for
    none at all; bank_cert: another pinned bank signing certificate."""
    i = bank.info
    cc, ck = client if isinstance(client, tuple) else (i["client"],
                                                       i["client_key"])
    text = BANK.format(
        poll=poll, url=i["base_url"], cid=i["client_id"], ca=i["ca"],
        cc=cc, ck=ck, sk=i["client_sign_key"], sc=i["client_sign"],
        bc=bank_cert or i["bank_sign"],
        accounts='"%s"' % DEBTOR if accounts else "")
    if client == "none":
        cut = ' client_cert = "%s"; client_key = "%s";' % (cc, ck)
        check(cut in text, "the client certificate in the template")
        text = text.replace(cut, "")
    return DAEMON + text


def make_world(name, bank, accounts=True, poll=300, **kw):
    w = World(name)
    os.makedirs(w.p("keys"), exist_ok=True)
    shutil.copyfile(bank.info["secret_file"], w.p("keys/secret"))
    os.chmod(w.p("keys/secret"), 0o600)
    w.write_conf(bank_conf(bank, accounts=accounts, poll=poll, **kw))
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


def messages(w):
    return [w.ctl_json("show", m["id"]) for m in w.ctl_json("queue")["messages"]]


def by_business_id(w, bid):
    for m in messages(w):
        if m["message"].get("business_id") == bid:
            return m
    return None


def state_of(w, bid):
    m = by_business_id(w, bid)
    return m["message"]["state"] if m else None


def files(d):
    try:
        return sorted(n for n in os.listdir(d) if not n.startswith("."))
    except FileNotFoundError:
        return []


def acknowledged(w, bid, timeout):
    wait_until(lambda: state_of(w, bid) == "acknowledged", timeout,
               "%s acknowledged (now %s)\n%s" % (bid, state_of(w, bid),
                                                 w.tail(20)))


# --------------------------------------------------------------------------
# flow


def flow(base):
    bank = Bank(os.path.join(base, "bank-flow"))
    w = None
    try:
        w = make_world("openapi-e2e", bank)
        w.start()
        pain_id, csv_id = "OA-PAIN-" + RUN, "OA-CSV-" + RUN
        data, pain_e2e, _ = pain001(pain_id, 40)
        drop_atomic(w, "payments-40.xml", data)
        data, csv_e2e = csv_payments(csv_id)
        drop_atomic(w, "payments.csv", data)
        for bid in (pain_id, csv_id):
            acknowledged(w, bid, 60)

        # the bank: each payment exactly once, and nothing else arrived
        arr = bank.arrivals()
        bank.check_exactly_once(pain_e2e + csv_e2e)
        check(len(arr) == 43 and all(a["outcome"] == "created" for a in arr),
              "43 arrivals, all created: %r" %
              sorted(set(a["outcome"] for a in arr)))
        check(all(a["idempotency_key"].startswith("M") for a in arr),
              "keys are h2hd's message ids")

        # treasury: one pain.002 per message, linked (acknowledged above)
        status = os.path.join(w.out, "status")
        rep = files(status)
        check(len(rep) == 2, "two status reports in out/status: %r" % rep)
        for bid in (pain_id, csv_id):
            hits = [n for n in rep if "<OrgnlMsgId>%s</OrgnlMsgId>" % bid in
                    open(os.path.join(status, n)).read()]
            check(len(hits) == 1, "one pain.002 answers %s: %r" % (bid, hits))
        show = by_business_id(w, pain_id)
        pays = show["payments"]
        check(len(pays) == 40 and all(p["status"] == "ACCP" for p in pays),
              "h2hctl show lists 40 accepted payments: %r" % pays[:2])
        check(set(p["end_to_end_id"] for p in pays) == set(pain_e2e),
              "by EndToEndId")

        # a statement in the channel's format, with every entry of the
        # bank's ledger for the range and its closing balance
        stmts = os.path.join(w.out, "statements")
        n_ledger, closing = bank.ledger_entries()
        check(n_ledger == 45, "45 ledger entries: %d" % n_ledger)

        def complete_statement():
            for n in files(stmts):
                if ".sta" not in n:
                    continue
                mt = open(os.path.join(stmts, n), errors="replace").read()
                if mt.count("\n:61:") == n_ledger:
                    return n, mt
            return None
        name, mt = wait_until(complete_statement, 30,
                              "an MT940 statement with all %d entries: %r" %
                              (n_ledger, files(stmts)))
        check(DEBTOR not in name and name.startswith("stmt_DE-3000-"),
              "the statement's name masks the account: %s" % name)
        check(":60F:" in mt and ":62F:" in mt, "opening and closing balance")
        m62 = re.search(r":62F:([CD])(\d{6})EUR([0-9,]+)", mt)
        got = Decimal(m62.group(3).replace(",", "."))
        if m62.group(1) == "D":
            got = -got
        check(got == closing, "closing balance %s, the bank's %s" %
              (got, closing))
        check(not [l for l in w.log_events("bank.download.note")
                   if "stmt_" in l],
              "the statement converted without a note")

        # the ambiguous failure: created, connection closed before the
        # answer; recover asks by key, never resends
        tmo_id = "OA-TMO-" + RUN
        bank.faults(clear=True, timeout_after_create_next=1,
                    timeout_mode="close")
        data, tmo_e2e, _ = pain001(tmo_id, 1)
        drop_atomic(w, "timeout.xml", data)
        acknowledged(w, tmo_id, 60)
        mid = by_business_id(w, tmo_id)["message"]["id"]
        mine = [a for a in bank.arrivals()
                if a["idempotency_key"].startswith(mid + "-")]
        check(len(mine) == 1 and mine[0]["outcome"] == "created" and
              mine[0]["fault"] == "timeout_after_create:close",
              "one arrival, the created one: %r" % mine)
        check(events(w, "payment.outcome_unknown", msg=mid),
              "the submit's outcome was unknown")
        check(events(w, "payment.recovered.delivered", msg=mid),
              "recover found it at the bank")
        bank.check_exactly_once(tmo_e2e)

        # a payment for later: PDNG (stays submitted), then executed
        later = TODAY + datetime.timedelta(days=2)
        pdng_id = "OA-PDNG-" + RUN
        data, pdng_e2e, _ = pain001(pdng_id, 2, date=later)
        drop_atomic(w, "later.xml", data)
        wait_until(lambda: events(w, "status.pending", orig_msgid=pdng_id), 60,
                   "a PDNG status report for %s" % pdng_id)
        check(state_of(w, pdng_id) == "submitted", "PDNG: still submitted")
        bank.set_today(later)
        acknowledged(w, pdng_id, 60)
        bank.set_today(None)
        pays = by_business_id(w, pdng_id)["payments"]
        check(pays and all(p["status"] == "ACCP" for p in pays),
              "the second report says ACCP: %r" % pays)
        bank.check_exactly_once(pdng_e2e)

        st = w.ctl_json("status")
        health = [b["health"] for b in st["banks"] if b["name"] == "obank"]
        check(health == ["ok"], "bank healthy: %r" % health)
        check(w.stop() == 0, "clean stop")
        for line in w.log_events():
            if DEBTOR in line:
                fail("a full account number reached the log: " + line)
        print("openapi flow: 47 payments in 4 messages exactly once, "
              "4 messages acknowledged, MT940 statement of %d entries" %
              n_ledger)
    except SystemExit:
        if w is not None:
            print(w.tail(60))
        raise
    finally:
        if w is not None:
            w.cleanup()
        bank.stop()


# --------------------------------------------------------------------------
# crash


def crash(base):
    kills = int(os.environ.get("H2H_OPENAPI_KILLS", "30"))
    n_msgs = int(os.environ.get("H2H_OPENAPI_CRASH_MSGS", "96"))
    rnd = random.Random(int(os.environ.get("H2H_SEED", "4711")))
    bank = Bank(os.path.join(base, "bank-crash"))
    w = None
    t0 = time.time()
    try:
        w = make_world("openapi-crash", bank, accounts=False, poll=200)
        outbox = w.p("state/adapters/obank/outbox")
        status = os.path.join(w.out, "status")
        msgs = []  # (business id, [e2e])

        def drop_next():
            i = len(msgs)
            bid = "OC-%s-%03d" % (RUN, i)
            data, e2es, _ = pain001(bid, 1 + i % 4, seed=i)
            drop_atomic(w, "oc-%03d.xml" % i, data)
            msgs.append((bid, e2es))

        def names(d):
            return set(files(d))

        def kill_on(change, timeout):
            deadline = time.time() + timeout
            while time.time() < deadline:
                if change():
                    return True
                time.sleep(0.0005)
            return False

        waves = [n_msgs * (k + 1) // (kills + 1) for k in range(kills + 1)]
        modes = ("random", "arrival", "outbox", "status", "arrival", "random")
        how = {m: 0 for m in modes + ("timer",)}
        for k in range(kills):
            while len(msgs) < waves[k]:
                drop_next()
            w.start()
            mode = modes[k % len(modes)]
            if mode == "random":
                time.sleep(rnd.uniform(0.05, 0.8))
            elif mode == "arrival":
                size = bank.arrivals_size()
                if not kill_on(lambda: bank.arrivals_size() != size, 3):
                    mode = "timer"
            elif mode == "outbox":
                before = names(outbox)
                if not kill_on(lambda: names(outbox) - before, 3):
                    mode = "timer"
            else:
                before = names(status)
                if not kill_on(lambda: names(status) - before, 3):
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
        wait_until(lambda: w.settled(n_msgs), 180,
                   "every message acknowledged (store: %r)" % w.db_states())

        e2es = [e for _, es in msgs for e in es]
        bank.check_exactly_once(e2es, "crash: ")
        created = sum(bank.created().values())
        check(created == len(e2es), "%d payments created for %d sent" %
              (created, len(e2es)))
        reps = files(status)
        ids = []
        for n in reps:
            m = re.search(r"<OrgnlMsgId>([^<]*)</OrgnlMsgId>",
                          open(os.path.join(status, n)).read())
            ids.append(m.group(1) if m else None)
        check(len(reps) == n_msgs and sorted(ids) ==
              sorted(b for b, _ in msgs),
              "each status report exactly once in out/status: %d files for "
              "%d messages" % (len(reps), n_msgs))
        wait_until(lambda: not files(outbox), 30,
                   "the adapter's outbox emptied: %r" % files(outbox))
        held = w.log_events("payment.held")
        failed = w.log_events("payment.failed")
        check(not held and not failed,
              "messages needed a person: %r" % (held + failed)[:3])
        counts = w.ctl_json("status")["counts"]
        check(counts.get("acknowledged") == n_msgs and
              sum(counts.values()) == n_msgs, "h2hctl status: %r" % counts)
        check(w.stop() == 0, "clean stop after the kills")
        w.start()  # start-up runs the store's consistency check
        wait_until(lambda: w.settled(n_msgs), 30, "still all acknowledged")
        check(w.stop() == 0, "clean stop after the restart")
        bank.check_exactly_once(e2es, "crash (after restart): ")
        outcomes = {}
        for a in bank.arrivals():
            outcomes[a["outcome"]] = outcomes.get(a["outcome"], 0) + 1
        rec = {e: len(w.log_events(e)) for e in (
            "payment.recovering", "payment.recovered.delivered",
            "payment.recovered.not_sent", "payment.outcome_unknown")}
        print("openapi crash: %d kills (%s), %d messages, %d payments each "
              "created once (arrivals %r), recovery %r; kills %.1f s, total "
              "%.1f s" % (kills, how, n_msgs, len(e2es), outcomes, rec,
                          t_kills, time.time() - t0))
        check(rec["payment.recovering"] > 0,
              "no kill left a message in submitting: recovery untested")
    except SystemExit:
        if w is not None:
            print(w.tail(60))
        raise
    finally:
        if w is not None:
            w.cleanup()
        bank.stop()


# --------------------------------------------------------------------------
# security


def msg_id_of(w, bid, timeout=30):
    def find():
        m = by_business_id(w, bid)
        return m["message"]["id"] if m else None
    return wait_until(find, timeout, "message %s accepted by h2hd\n%s" %
                      (bid, w.tail(20)), interval=0.2)


def one_payment(w, bid):
    """One pain.001 of one transfer; returns (h2hd's message id, e2es)."""
    data, e2es, _ = pain001(bid, 1)
    drop_atomic(w, bid.lower() + ".xml", data)
    return msg_id_of(w, bid), e2es


def mine(bank, mid):
    """The bank's arrivals under the keys of h2hd's message mid."""
    return [a for a in bank.arrivals()
            if (a["idempotency_key"] or "").startswith(mid + "-")]


def log_errors(w, mid):
    """Every event with its error / note text logged for message mid."""
    out = []
    for line in w.log_events():
        kv = parse_line(line)
        if kv.get("msg") == mid:
            out.append("%s: %s" % (kv.get("event"), kv.get("error", "")))
    return out


def steps(w, mid):
    """What h2hd did with message mid, in order (submit and recover)."""
    return [kv.get("event") for kv in map(parse_line, w.log_events())
            if kv.get("msg") == mid and kv.get("event") in (
                "payment.submitted", "payment.outcome_unknown",
                "payment.recovered.delivered", "payment.recovered.not_sent",
                "payment.failed", "payment.held")]


# (The bank's health in `h2hctl status` is not asserted here: the
# adapter's poll sets it back to "ok" whenever a poll ends without error,
# also one that asked the bank nothing, so a refusal shows there only
# until the next poll.)


def security(base):
    t0 = time.time()
    bank = Bank(os.path.join(base, "bank-sec"))
    banks, worlds, results = [bank], [], []
    try:
        # no accounts: no statements, and nothing stays PDNG, so every /v1
        # request comes from the payment in hand and a fault (which counts
        # /v1 answers or requests) hits the payment it is meant for
        w = make_world("openapi-sec", bank, accounts=False)
        worlds.append(w)
        w.start()
        a_id = "OA-SEC-A-" + RUN
        a_mid, _ = one_payment(w, a_id)
        acknowledged(w, a_id, 30)
        check(steps(w, a_mid) == ["payment.submitted"],
              "a genuine answer acknowledges at once: %r" % steps(w, a_mid))

        def answer_fault(tag, fault, words, processed):
            t1 = time.time()
            bid = "OA-SEC-%s-%s" % (tag, RUN)
            # a genuine answer right before: the replay then repeats an
            # answer the bank really sent (to another payment)
            pid = "OA-SEC-P%s-%s" % (tag, RUN)
            one_payment(w, pid)
            acknowledged(w, pid, 30)
            n_before = len(bank.arrivals())
            bank.faults(clear=True, **{fault: 1})
            mid, e2es = one_payment(w, bid)
            acknowledged(w, bid, 40)
            check(bank.admin("GET", "/admin/faults")[fault] == 0,
                  "%s: the fault was used" % fault)
            arr = mine(bank, mid)
            outs = [a["outcome"] for a in arr]
            if processed:
                # the bank created it and its answer was forged: found by
                # the inquiry, never sent again
                check(outs == ["created"],
                      "%s: one request, created, never resent: %r" %
                      (fault, outs))
            else:
                # the request was not processed (the old answer came
                # back): the inquiry proves it was not created, and only
                # then it is sent again
                check(outs == ["fault_replay", "created"],
                      "%s: not processed, then sent again after the "
                      "inquiry: %r" % (fault, outs))
            check(len(bank.arrivals()) - n_before == len(outs),
                  "%s: nothing else reached the bank: %r" %
                  (fault, bank.arrivals()[n_before:]))
            bank.check_exactly_once(e2es, fault + ": ")
            unk = events(w, "payment.outcome_unknown", msg=mid)
            check(len(unk) == 1, "%s: the outcome was unknown once, not a "
                  "refusal: %r" % (fault, log_errors(w, mid)))
            err = unk[0].get("error", "")
            check(re.search(words, err),
                  "%s: the log names the reason (%s): %r" % (fault, words,
                                                             err))
            want = ["payment.outcome_unknown"] + (
                ["payment.recovered.delivered"] if processed else
                ["payment.recovered.not_sent", "payment.submitted"])
            check(steps(w, mid) == want,
                  "%s: h2hd's steps %r, want %r (nothing acknowledged on "
                  "the bad answer)" % (fault, steps(w, mid), want))
            pays = by_business_id(w, bid)["payments"]
            check(len(pays) == 1 and pays[0]["status"] == "ACCP" and
                  pays[0]["end_to_end_id"] == e2es[0],
                  "%s: h2hctl show: the payment accepted: %r" % (fault, pays))
            results.append("%s ok (%.1f s)" % (fault, time.time() - t1))

        answer_fault("SIG", "bad_response_signature_next",
                     r"answer \(HTTP 201\) signature does not verify against "
                     r"bank_cert: cms verify: the signature does not match",
                     True)
        answer_fault("RPL", "replay_last_response_next",
                     r"answer \(HTTP 201\) refused as a replay: replay: bank "
                     r"obank message id \S+ was already received", False)
        check(w.stop() == 0, "clean stop")

        # bank_cert pinned to another certificate (by the same CA): every
        # answer is refused; the payment created by the first request is
        # asked about, never sent again, never acknowledged.  A new h2hd
        # numbers its messages afresh, so its keys would meet the first
        # one's at the bank (422): a fresh bank
        t1 = time.time()
        bank.admin("POST", "/admin/reset")
        with open(os.path.join(bank.info["dir"], "pki", "manifest.json")) as f:
            man = json.load(f)
        other = pki.issue_leaf(man, "bank_sign2", "h2hd test bank signing",
                               days=30, purpose="sign", ou="bank")
        w2 = make_world("openapi-sec-pin", bank, accounts=False,
                        bank_cert=other["cert"])
        worlds.append(w2)
        w2.start()
        pin_id = "OA-SEC-PIN-" + RUN
        mid, e2es = one_payment(w2, pin_id)
        # (recover asks again every 10 s)
        wait_until(lambda: len(events(w2, "payment.recover.retry",
                                      msg=mid)) >= 2, 40,
                   "two refused inquiries for %s\n%s" % (mid, w2.tail(20)))
        st = state_of(w2, pin_id)
        check(st == "submitting", "not acknowledged with a wrong pin (%s)" %
              st)
        outs = [a["outcome"] for a in mine(bank, mid)]
        check(outs == ["created"], "created once, never resent: %r" % outs)
        unk = events(w2, "payment.outcome_unknown", msg=mid)
        check(len(unk) == 1 and re.search(
            r"answer \(HTTP 201\) signature does not verify against "
            r"bank_cert: cms verify: not signed by the pinned certificate",
            unk[0].get("error", "")),
            "the submit's answer refused, naming the pin: %r" %
            log_errors(w2, mid)[:3])
        for r in events(w2, "payment.recover.retry", msg=mid):
            check(re.search(r"answer \(HTTP 200\) signature does not verify "
                            r"against bank_cert: cms verify: not signed by "
                            r"the pinned certificate", r.get("error", "")),
                  "each inquiry's answer refused, naming the pin: %r" % r)
        check(steps(w2, mid) == ["payment.outcome_unknown"],
              "nothing acknowledged on an answer from another signer: %r" %
              steps(w2, mid))
        check(w2.stop() == 0, "clean stop")
        # the right certificate: recovery finds it, still one create
        w2.write_conf(bank_conf(bank, accounts=False))
        w2.start()
        acknowledged(w2, pin_id, 40)
        outs = [a["outcome"] for a in mine(bank, mid)]
        check(outs == ["created"], "still one create after the right pin: "
              "%r" % outs)
        check(steps(w2, mid) == ["payment.outcome_unknown",
                                 "payment.recovered.delivered"],
              "recovered by the inquiry: %r" % steps(w2, mid))
        bank.check_exactly_once(e2es, "pin: ")
        check(w2.stop() == 0, "clean stop")
        results.append("wrong bank_cert ok (%.1f s)" % (time.time() - t1))

        tls_cases(base, bank, banks, worlds, results)
        print("openapi security: %s; %.1f s" % (", ".join(results),
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
    cases = [
        # (tag, served certificate, our client certificate, the reason)
        ("wronghost", "wronghost", None,
         r"TLS host name check failed|IP address mismatch|host ?name "
         r"mismatch"),
        ("expired", "expired", None,
         r"TLS certificate chain verification failed: certificate has "
         r"expired"),
        ("untrusted", "untrusted", None,
         r"TLS certificate chain verification failed: unable to get local "
         r"issuer certificate"),
        ("client2", "server", "client2",
         r"the server refused our TLS client certificate \(TLS alert: "
         r"unknown ca\)|it may have refused our client certificate"),
    ]
    for tag, server, client, words in cases:
        t1 = time.time()
        b = Bank(os.path.join(base, "bank-tls-" + tag), server=server)
        banks.append(b)
        kw = {}
        if client:
            # a client certificate from a CA the bank does not trust
            kw["client"] = (b.info[client], b.info[client + "_key"])
        w = make_world("openapi-tls-" + tag, b, accounts=False, **kw)
        worlds.append(w)
        w.start()
        bid = "OA-TLS-%s-%s" % (tag.upper(), RUN)
        mid, _ = one_payment(w, bid)
        wait_until(lambda: events(w, "payment.failed", msg=mid) or
                   events(w, "payment.deferred", msg=mid) or
                   events(w, "payment.outcome_unknown", msg=mid), 30,
                   "%s: the submit failed\n%s" % (tag, w.tail(20)))
        errs = " ".join(log_errors(w, mid))
        check(re.search(words, errs, re.I),
              "%s: the log names the reason (%s): %r" % (tag, words,
                                                         errs[:600]))
        check(not events(w, "payment.outcome_unknown", msg=mid),
              "%s: a refused connection is not an unknown outcome" % tag)
        # a server certificate h2hd refuses is TLS policy: failed, for a
        # person; so is the bank's TLS alert refusing our certificate, but
        # when the connection is reset before the alert is read h2hd
        # cannot tell and retries (deferred)
        st = state_of(w, bid)
        check(st == "failed" or
              (client and st in ("deferred", "rendered", "submitting")),
              "%s: nothing acknowledged, state %s" % (tag, st))
        check(b.arrivals() == [], "%s: nothing reached the bank: %r" %
              (tag, b.arrivals()[:3]))
        if client and st != "failed":
            # the alert was not read: the retries are refused the same way
            # (backoff 200 ms .. 1 s)
            # (backoff 200 ms .. 1 s); a retry that does read the alert
            # fails the message for a person, and then nothing follows
            wait_until(lambda: len(events(w, "payment.deferred", msg=mid) +
                                   events(w, "payment.failed", msg=mid)) >= 3
                       or state_of(w, bid) == "failed",
                       30, "%s: two retries\n%s" % (tag, w.tail(20)))
            for e in (events(w, "payment.deferred", msg=mid) +
                      events(w, "payment.failed", msg=mid)):
                check(re.search(words, e.get("error", ""), re.I),
                      "%s: each attempt names the reason: %r" % (tag, e))
            check(not events(w, "payment.outcome_unknown", msg=mid) and
                  b.arrivals() == [] and
                  state_of(w, bid) in ("failed", "deferred", "rendered",
                                       "submitting"),
                  "%s: the retries reached nothing: %r" % (tag,
                                                           b.arrivals()[:3]))
        if client:
            # and the bank did refuse it (its own log)
            with open(os.path.join(b.dir, "sim.stderr"),
                      errors="replace") as f:
                sim_err = f.read()
            check(re.search(r"tls handshake from \S+ refused", sim_err),
                  "%s: the bank refused the handshake: %r" %
                  (tag, sim_err[-400:]))
        check(w.stop() == 0, "clean stop")
        b.stop()
        results.append("TLS %s refused (%s, %.1f s)" % (tag, st,
                                                       time.time() - t1))

    # no client certificate at all: the configuration is refused
    w = make_world("openapi-tls-nocert", bank, accounts=False, client="none")
    worlds.append(w)
    r = subprocess.run([H2HD, "-c", w.conf, "--check-config"],
                       capture_output=True, text=True, timeout=30,
                       cwd=w.root)
    out = r.stdout + r.stderr
    check(r.returncode != 0 and "client_cert" in out,
          "--check-config refuses a bank without a client certificate "
          "(%d): %s" % (r.returncode, out[-500:]))
    results.append("no client cert refused by --check-config")


def settled(w, n, state="acknowledged"):
    st = w.db_states()
    return st.get(state, 0) == n and sum(st.values()) == n


def main():
    World.settled = settled
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    base = tempfile.mkdtemp(prefix="h2h-openapi-")
    try:
        if part in ("flow", "all"):
            flow(base)
        if part in ("crash", "all"):
            crash(base)
        if part in ("security", "all"):
            security(base)
        print("PASS test_openapi_e2e %s" % part)
    finally:
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
