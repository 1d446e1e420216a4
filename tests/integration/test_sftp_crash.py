"""SIGKILL h2hd at random moments while payments flow to an SFTP bank.

A real OpenSSH sshd serves the bank simulator's folder; the simulator
validates every upload against the official XSD, logs every arrival, moves
processed uploads to its archive (<seq>_<name>, which the adapter knows as
archive_dirs) and answers each with a pain.002.  h2hd is killed with
SIGKILL 42 times (H2H_CRASH_KILLS) and restarted each time while new
payment files keep arriving.  A sixth of the kills come at random
moments, the others as soon as the test sees an upload temporary appear
(mid-upload), a final name appear (just after a rename, perhaps before the
daemon recorded it) or a status report appear in out/status (between
delivering the report and linking it to its message).

At the end: every dropped payment's MsgId arrived exactly once (no loss,
no DUPL verdict, no second arrival of any kind), every message is
acknowledged (each status report fetched and linked), each status report
reached treasury exactly once, no upload temporary is left at the bank, no
message waits for a person (held / failed), and the store passes its
start-up consistency check with h2hctl agreeing.
"""
import hashlib
import os
import random
import shutil
import tempfile
import time

from h2hlib import check, fail, wait_until
from sftplib import (SftpBank, SftpWorld, Sshd, big_pain001, new_msg_id,
                     pain001)

N_FILES = int(os.environ.get("H2H_SFTP_CRASH_FILES", "150"))
KILLS = int(os.environ.get("H2H_CRASH_KILLS", "42"))
SWEEP = (0, 0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008)


def main():
    seed = int(os.environ.get("H2H_SEED", "4242"))
    rnd = random.Random(seed)
    base = tempfile.mkdtemp(prefix="h2h-sftpcrash-")
    sshd = Sshd(os.path.join(base, "sshd")).start()
    bank = w = None
    t_start = time.time()
    try:
        bank = SftpBank(sshd, "crashbank", archive=True)
        w = SftpWorld("sftp-crash", [(bank, dict(
            max_sessions=2, poll_interval=300, connect_timeout=5,
            op_timeout=10,
            retry=dict(initial=200, max=1000, max_attempts=100,
                       max_age=3600)))], shutdown_timeout=5, rescan=200,
            batch_max=8)
        msg_ids = []
        kinds = {}

        def drop_next():
            i = len(msg_ids)
            mid = new_msg_id("CR", i)
            # mostly small, every 10th about 300 kB: uploads that take a
            # while, so kills also land in the middle of writes
            if i % 10 == 7:
                data = big_pain001(mid, 0.3)
            else:
                data = pain001(mid, 1 + i % 5, seed=i)
            kinds[mid] = len(data)
            w.put(bank, "cr-%04d.xml" % i, data)
            msg_ids.append(mid)

        def names(folder, hidden):
            try:
                return set(n for n in os.listdir(folder)
                           if n.startswith(".h2h-tmp.") == hidden and
                           (hidden or not n.startswith(".")))
            except FileNotFoundError:
                return set()

        def kill_on(folder, hidden, timeout):
            """Kill as soon as a new name shows up in folder: an upload
            temporary (hidden), a final name just renamed into place, a
            status report just moved into out/status."""
            before = names(folder, hidden)
            deadline = time.time() + timeout
            while time.time() < deadline:
                if names(folder, hidden) - before:
                    return True
                time.sleep(0.0005)
            return False

        waves = [N_FILES * (k + 1) // (KILLS + 1) for k in range(KILLS + 1)]
        lived = []
        how = {"random": 0, "mid-upload": 0, "after-rename": 0,
               "status-delivery": 0, "timer": 0}
        modes = ("random", "mid-upload", "status-delivery", "after-rename",
                 "status-delivery", "status-delivery")
        for kill in range(KILLS):
            while len(msg_ids) < waves[kill]:
                drop_next()
            w.start()
            t0 = time.time()
            mode = modes[kill % len(modes)]
            if mode == "random":
                time.sleep(rnd.uniform(0.05, 0.9))
            elif mode == "status-delivery":
                if not kill_on(w.status_dir(bank), False, 2.5):
                    mode = "timer"  # nothing happened: kill anyway
                else:
                    # sweep the few ms in which the report is recorded as
                    # delivered and linked to its message (fast disks: well
                    # under one; slow ones: several)
                    time.sleep(SWEEP[how["status-delivery"] % len(SWEEP)])
            elif not kill_on(bank.upload, mode == "mid-upload", 2.0):
                mode = "timer"
            how[mode] += 1
            check(w.proc.poll() is None, "h2hd died by itself before kill "
                  "%d:\n%s" % (kill, w.tail(40)))
            w.kill9()
            lived.append(time.time() - t0)
        while len(msg_ids) < N_FILES:
            drop_next()
        t_kills = time.time() - t_start
        arrived_during = len([m for m in msg_ids if bank.counts().get(m)])

        w.start()
        bank.wait_arrived(msg_ids, 120, "every payment at the bank")
        st_dir = w.status_dir(bank)

        def reports():
            try:
                return [n for n in os.listdir(st_dir)
                        if not n.startswith(".")]
            except FileNotFoundError:
                return []
        wait_until(lambda: not os.listdir(bank.download) and
                   len(reports()) >= N_FILES, 60,
                   "every status report fetched and delivered")
        try:
            w.wait_settled(N_FILES, 20)
        except SystemExit:
            # say precisely what is stuck, then fail
            con_states = w.db_states()
            acked = set(kv.get("msg") for kv in
                        w.events("payment.acknowledged"))
            stuck = [m for m in w.queue() if m["state"] != "acknowledged"]
            for m in stuck:
                biz = w.show(m["id"])["message"]["business_id"]
                rep = [n for n in reports() if ("_%s_" % biz) in n]
                dl = [l for l in w.log_events("bank.download.delivered")
                      if rep and rep[0] in l]
                print("stuck %s (%s, MsgId %s): status report %r in "
                      "out/status, delivered %d times in the log, "
                      "acknowledged in the log: %s" % (
                          m["id"], m["state"], biz, rep, len(dl),
                          m["id"] in acked))
            fail("%d messages never acknowledged although every status "
                 "report reached out/status (store: %r): a kill between "
                 "registering a download as delivered and linking its "
                 "status report loses the link" % (len(stuck), con_states))

        # -- the bank: each MsgId exactly once, nothing else
        arr = bank.arrivals()
        bank.check_exactly_once(msg_ids, "crash: ")
        check(len(arr) == N_FILES,
              "the bank logged %d arrivals for %d payments: %r" % (
                  len(arr), N_FILES,
                  sorted(a["file"] for a in arr
                         if a.get("msg_id") not in set(msg_ids))[:5]))
        left = bank.temporaries()
        check(not left, "upload temporaries left at the bank: %r" % left)
        check(not [n for n in os.listdir(bank.upload)
                   if not n.startswith(".")],
              "unprocessed files in the bank's upload folder")

        # -- treasury: each status report exactly once
        hashes = set()
        for n in reports():
            with open(os.path.join(st_dir, n), "rb") as f:
                hashes.add(hashlib.sha256(f.read()).hexdigest())
        check(len(reports()) == N_FILES and len(hashes) == N_FILES,
              "%d status reports (%d distinct) in out/status for %d "
              "payments" % (len(reports()), len(hashes), N_FILES))
        drop_left = [n for n in os.listdir(w.drop_dir(bank))
                     if n != ".h2hd.lock"]
        check(not drop_left, "drop folder not empty: %r" % drop_left[:5])

        # -- the store and h2hctl
        w.check_alive("after the kills")
        w.check_store(N_FILES)
        held = w.log_events("payment.held")
        failed = w.log_events("payment.failed")
        check(not held and not failed,
              "messages needed a person: %r" % (held + failed)[:3])
        check(w.stop() == 0, "clean stop after the crashes")
        w.start()  # start-up runs the store's consistency check
        w.check_store(N_FILES)
        check(w.stop() == 0, "clean stop after the restart")
        bank.check_exactly_once(msg_ids, "crash (after restart): ")
        check(len(bank.arrivals()) == N_FILES, "arrivals after the restart")

        rec = {e: len(w.log_events(e)) for e in (
            "payment.recovering", "payment.recovered.delivered",
            "payment.recovered.not_sent", "spool.pickup.recovered")}
        print("sftp crash: %d kills (%s; alive %.2f-%.2f s each, seed %d), %d "
              "payments (%d big), %d at the bank before the last start; "
              "each exactly once at the bank and in out/status; recovery: "
              "%s; kills phase %.1f s, total "
              "%.1f s" % (KILLS, how, min(lived), max(lived), seed, N_FILES,
                          sum(1 for v in kinds.values() if v > 100000),
                          arrived_during, rec, t_kills,
                          time.time() - t_start))
        check(rec["payment.recovering"] > 0,
              "no kill ever left a message in submitting: the test did "
              "not exercise recovery")
    except SystemExit:
        if w is not None:
            print(w.tail(60))
        print("\n".join(sshd.log_text().splitlines()[-10:]))
        raise
    finally:
        if w is not None:
            w.cleanup()
        if bank is not None:
            bank.stop()
        sshd.stop()
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
