"""Scheduled fetches and payment cut-offs (daemon/scheduler.h), end to end
with the cnbank_xml bank against its simulator (tests/sims/bank_cn.py,
icbc-style profile over TCP, through tests/sims/cn_world.py).  The bank's
poll_interval is a day, so only the schedule's jobs make h2hd ask the
bank for anything.

1. jobs drive fetching: a statements job `every 3s` and a balance job
   `every 4s` run (sched.job.done result=ok), the statement of the
   previous day in the bank's zone arrives in out/statements, and
   `h2hctl jobs` shows schedule, zone, last run, result ok and the next
   run (table and --json).  Nothing is caught up on the very first start.
2. never two runs of one job: with every bank answer 2.5 s late, a round
   outlasts the interval; the job's later times are skipped
   (sched.job.skipped) and its runs never overlap (started/done strictly
   alternate in the log); `h2hctl jobs` shows it running.
3. catch-up: h2hd stopped past both jobs' next times and started again
   logs sched.job.catchup exactly once per job and runs them.
4. cut-off: with cutoff = "00:00" (always past, bank time) and "hold", a
   dropped payment is not sent: payment.after_cutoff action=held
   until=<tomorrow 00:00+08:00>, the message waits in deferred with that
   due time, and the simulator never sees it.  After a reload to "flag",
   the next payment goes out at once (action=flagged) and is
   acknowledged, while the held one stays held: it was judged once.
"""
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from h2hlib import H2HCTL, World, check, drop_atomic, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_cnbank_e2e as cn  # noqa: E402  (its Bank, pain001, log helpers)

CST = datetime.timezone(datetime.timedelta(hours=8))

DAEMON = """
daemon = {
  state_dir = "state"; spool_dir = "spool";
  log_file = "h2hd.log"; log_level = "debug"; rescan_interval = 200;
  shutdown_timeout = 20;
  retry = { initial = 200; max = 1000; factor = 2.0; jitter = 0.2;
            max_attempts = 100; max_age = 3600; };
};
"""


def q(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def conf(bank, jobs, cutoff=None, after="hold"):
    """h2hd.conf: one cnbank_xml bank "cn1" with a schedule."""
    i = bank.info
    sched = ['timezone = "Asia/Shanghai";', "jitter = 0;",
             "jobs = ( %s );" % ", ".join(
                 '{ kind = %s; cron = %s; }' % (q(k), q(c))
                 for k, c in jobs)]
    if cutoff:
        sched.append("cutoff = %s; after_cutoff = %s;" % (q(cutoff),
                                                           q(after)))
    return DAEMON + """
banks = (
  { name = "cn1"; adapter = "cnbank_xml"; payment_format = "canonical";
    max_sessions = 4; poll_interval = 86400000;
    schedule = { %s };
    cnbank_xml = {
      profile = %s;
      host = %s; port = %d;
      login = %s;
      accounts = ( %s );
      serial_prefix = "H2H";
      sign = { key = %s; cert = %s; };
      bank_cert = %s;
      statement_days = 1; statement_interval = 3600;
      pending_interval = 3600; receipts = false;
      connect_timeout = 5; request_timeout = 15;
    }; }
);
channels = (
  { name = "erp"; bank = "cn1"; input_format = "auto";
    output_format = "camt.053"; stability = 0; }
);
""" % ("\n      ".join(sched), q(i["profile"]), q(i["host"]), i["port"],
       q(i["login"]), ", ".join(q(a) for a in i["accounts"]),
       q(i["client_sign_key"]), q(i["client_sign"]), q(i["bank_sign"]))


def bank_today():
    return datetime.datetime.now(CST).date()


def seed():
    t = bank_today()
    ent = []
    for days, amt, name in ((1, "1234.56", cn.SEED_NAMES[0]),
                            (1, "88.80", cn.SEED_NAMES[1]),
                            (0, "10.00", cn.SEED_NAMES[2])):
        ent.append({"account": cn.OURS,
                    "booking_date": (t - datetime.timedelta(days=days))
                    .isoformat(),
                    "amount": amt, "credit_debit": "C",
                    "counterparty_name": name,
                    "counterparty_account": "6222000000000001234",
                    "counterparty_bank": "中国工商银行上海分行",
                    "remittance": "货款"})
    return {"accounts": [{"account": cn.OURS, "currency": "CNY",
                          "name": cn.OUR_NAME,
                          "opening_balance": "1000000.00"}],
            "closed": [], "entries": ent}


def ev(w, name, **match):
    return cn.events(w, name, **match)


def jobs_of(w):
    return {j["kind"]: j for j in w.ctl_json("jobs")["jobs"]}


def kind_sequence(w, kind):
    """sched.job.started / done of one job, in log order."""
    out = []
    for line in w.log_events():
        kv = cn.parse_line(line)
        if kv.get("kind") == kind and kv.get("event") in (
                "sched.job.started", "sched.job.done"):
            out.append(kv["event"].rsplit(".", 1)[1])
    return out


def main():
    t0 = time.time()
    base = tempfile.mkdtemp(prefix="h2h-sched-")
    bank = cn.Bank(os.path.join(base, "bank"), "icbc",
                   ["--settle-ms", "0"], seed=seed())
    w = None
    jobs = [("statements", "every 3s"), ("balance", "every 4s")]
    try:
        w = World("sched")
        w.write_conf(conf(bank, jobs))
        w.start()
        stmts = os.path.join(w.out, "statements")

        # 1. jobs drive fetching
        yday = (bank_today() - datetime.timedelta(days=1)).isoformat()
        wait_until(lambda: len(ev(w, "sched.job.done", kind="statements",
                                  result="ok")) >= 2 and
                   ev(w, "sched.job.done", kind="balance", result="ok"), 20,
                   "two statements runs and a balance run\n" + w.tail(30))
        started = ev(w, "sched.job.started", kind="statements")
        check(started and all(s.get("date") == yday for s in started),
              "statements runs ask for the bank's yesterday %s: %r" %
              (yday, [s.get("date") for s in started]))
        wait_until(lambda: [n for n in cn.files(stmts)
                            if "_%s_%s.xml" % (yday, yday) in n], 20,
                   "yesterday's statement in out/statements: %r" %
                   cn.files(stmts))
        check(not ev(w, "sched.job.catchup"),
              "nothing is caught up on the first start")
        arr = bank.arrivals()
        check(arr and all(a["function"] in ("balance", "transactions")
                          for a in arr),
              "only the jobs' fetches reached the bank: %r" %
              sorted(set(a["function"] for a in arr)))
        js = jobs_of(w)
        st = js.get("statements", {})
        check(st.get("schedule") == "every 3s" and
              st.get("timezone") == "Asia/Shanghai" and
              st.get("result") == "ok" and
              re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$",
                       st.get("last_run", "")) and
              re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$",
                       st.get("next_run", "")) and
              st["next_run"] > st["last_run"],
              "h2hctl jobs: statements %r" % st)
        check(set(js) == {"statements", "balance"}, "two jobs: %r" %
              sorted(js))
        r = subprocess.run([H2HCTL, "-s", w.sock, "jobs", "cn1"],
                           capture_output=True, text=True, timeout=30)
        lines = r.stdout.splitlines()
        check(r.returncode == 0 and len(lines) == 3 and
              lines[0].split()[:4] == ["BANK", "KIND", "SCHEDULE", "TIME"] and
              "NEXT RUN" in lines[0] and "RUNNING" in lines[0] and
              any(" ok " in x and "statements" in x for x in lines[1:]),
              "h2hctl jobs table:\n" + r.stdout + r.stderr)
        bad = w.ctl("jobs", "nosuchbank", check_rc=False)
        check(bad.returncode == 1, "jobs for an unknown bank: exit 1")

        # 2. a slow bank: skipped, never stacked
        n_skip = len(ev(w, "sched.job.skipped", kind="statements"))
        bank.faults(clear=True, latency_ms=2500)
        wait_until(lambda: len(ev(w, "sched.job.skipped",
                                  kind="statements")) >= n_skip + 2, 40,
                   "statements runs skipped while the slow one runs\n" +
                   w.tail(30))
        running = wait_until(
            lambda: [j for j in w.ctl_json("jobs")["jobs"]
                     if j["running"]], 20, "h2hctl jobs: a job running")
        check(all(j["state"] in ("running", "queued") for j in running),
              "running jobs: %r" % running)
        sk = ev(w, "sched.job.skipped", kind="statements")[-1]
        check(sk.get("running_since") and sk.get("scheduled") and
              sk["scheduled"] > sk["running_since"],
              "the skip names the run in progress: %r" % sk)
        bank.faults(clear=True)
        for kind in ("statements", "balance"):
            seq = kind_sequence(w, kind)
            check(seq and all(a != b for a, b in zip(seq, seq[1:])) and
                  seq[0] == "started",
                  "%s: runs never overlap: %r" % (kind, seq))

        # 3. catch-up after a stop (between runs: a run still waiting at
        # the stop would count as missed too)
        wait_until(lambda: not [j for j in w.ctl_json("jobs")["jobs"]
                                if j["running"]], 30,
                   "the slow runs to end\n" + w.tail(20))
        check(w.stop() == 0, "clean stop")
        stopped = time.time()
        n_lines = len(w.log_events())
        time.sleep(4.5)  # past both jobs' next times
        w.start()

        def catchups():
            out = {}
            for line in w.log_events()[n_lines:]:
                kv = cn.parse_line(line)
                if kv.get("event") == "sched.job.catchup":
                    out.setdefault(kv["kind"], []).append(kv)
            return out
        wait_until(lambda: set(catchups()) == {"statements", "balance"}, 15,
                   "a catch-up per job\n" + w.tail(20))
        time.sleep(2)
        cu = catchups()
        check(all(len(v) == 1 for v in cu.values()),
              "sched.job.catchup exactly once per job: %r" % cu)
        for kind, (c,) in cu.items():
            m = datetime.datetime.fromisoformat(c["missed"]).timestamp()
            check(stopped - 4 < m <= time.time(),
                  "%s: the missed time %s lies in the outage" %
                  (kind, c["missed"]))
        wait_until(lambda: all(
            [kv for kv in map(cn.parse_line, w.log_events()[n_lines:])
             if kv.get("event") == "sched.job.done" and
             kv.get("kind") == k and kv.get("result") == "ok"]
            for k, _ in jobs), 20, "the caught-up runs finished")

        # 4. cut-off: "00:00" is always past, bank time
        w.write_conf(conf(bank, jobs, cutoff="00:00", after="hold"))
        w.ctl("reload")
        held_id = "SCHED-HOLD-%s" % cn.RUN
        drop_atomic(w, "hold.xml", cn.pain001(held_id, [
            ("%s-1" % held_id, 1234, "上海截止测试有限公司", cn.PAYEES[0],
             "截止时间后")]))
        held = cn.msg_id_of(w, held_id)
        wait_until(lambda: ev(w, "payment.after_cutoff", msg=held), 20,
                   "payment.after_cutoff for %s\n%s" % (held, w.tail(20)))
        a = ev(w, "payment.after_cutoff", msg=held)
        tomorrow = [(bank_today() + datetime.timedelta(days=k)).isoformat() +
                    "T00:00:00+08:00" for k in (1, 2)]
        check(len(a) == 1 and a[0].get("action") == "held" and
              a[0].get("until") in tomorrow and
              "after the cut-off 00:00" in a[0].get("reason", ""),
              "held until tomorrow 00:00 bank time: %r" % a)
        cn.wait_state(w, held_id, "deferred", 10)
        m = [x for x in w.ctl_json("queue")["messages"] if x["id"] == held][0]
        due = datetime.datetime.fromisoformat(
            m["next_attempt"].replace("Z", "+00:00"))
        check(due == datetime.datetime.fromisoformat(a[0]["until"]),
              "due at the hold-until instant: %r vs %r" %
              (m["next_attempt"], a[0]["until"]))
        time.sleep(2)
        check(not bank.of("H2H" + held),
              "a held payment never reaches the bank: %r" % bank.of("H2H" +
                                                                  held))
        check(cn.state_of(w, held_id) == "deferred", "still deferred")

        w.write_conf(conf(bank, jobs, cutoff="00:00", after="flag"))
        w.ctl("reload")
        flag_id = "SCHED-FLAG-%s" % cn.RUN
        drop_atomic(w, "flag.xml", cn.pain001(flag_id, [
            ("%s-1" % flag_id, 4321, "北京截止测试有限公司", cn.PAYEES[1],
             "截止时间后发送")]))
        flagged = cn.msg_id_of(w, flag_id)
        cn.wait_state(w, flag_id, "acknowledged", 30)
        f = ev(w, "payment.after_cutoff", msg=flagged)
        check(len(f) == 1 and f[0].get("action") == "flagged",
              "flagged and sent: %r" % f)
        bank.check_exactly_once(["H2H%s-1" % flagged], "flagged: ")
        check(cn.state_of(w, held_id) == "deferred" and
              not bank.of("H2H" + held) and
              len(ev(w, "payment.after_cutoff", msg=held)) == 1,
              "the held payment was judged once: still held after the "
              "reload to flag")
        check(set(jobs_of(w)) == {"statements", "balance"},
              "the reload kept the jobs")
        check(w.stop() == 0, "clean stop")
        print("sched: %d statements runs, %d skipped, catch-up %s, "
              "held until %s, flagged sent; %.1f s" % (
                  len(ev(w, "sched.job.done", kind="statements")),
                  len(ev(w, "sched.job.skipped")), sorted(cu),
                  a[0]["until"], time.time() - t0))
    except SystemExit:
        if w is not None:
            print(w.tail(80))
        raise
    finally:
        if w is not None:
            w.cleanup()
        bank.stop()
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
    print("PASS test_sched")


if __name__ == "__main__":
    main()
