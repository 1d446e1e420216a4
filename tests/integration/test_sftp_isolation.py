"""A slow SFTP bank does not delay another bank.

Two iso20022_sftp banks on one h2hd, both served by a real sshd: "fast"
directly, "slow" through the fault proxy.  First the fast bank's
drop-to-arrival latency is measured with the slow bank idle (baseline);
then the proxy delays every chunk the slow bank's server sends by 5 s (so
every SFTP operation of the slow bank, and its polls, take 5 s or more),
payments for the slow bank are dropped until its sessions are busy, and
the fast bank's latency is measured again.  It must stay within twice the
baseline plus one second (median and worst case), and so must the time to
the fast bank's acknowledgement (its pain.002 fetched and linked).  The
slow bank's payments arrive once the delay is lifted, exactly once, as do
the fast bank's.
"""
import os
import shutil
import statistics
import tempfile
import time

from h2hlib import check, wait_until
from sftplib import SftpBank, SftpWorld, Sshd, log_time, new_msg_id, pain001

K = int(os.environ.get("H2H_ISO_SAMPLES", "8"))
SLOW_MS = 5000
GAP = 2.0 * SLOW_MS / 1000.0 / K


def main():
    base = tempfile.mkdtemp(prefix="h2h-sftpiso-")
    sshd = Sshd(os.path.join(base, "sshd")).start()
    fast = slow = w = None
    t_start = time.time()
    try:
        fast = SftpBank(sshd, "fast", poll_ms=20)
        slow = SftpBank(sshd, "slow", proxy=True, poll_ms=20)
        w = SftpWorld("sftp-iso", [
            (fast, dict(max_sessions=2, poll_interval=500, connect_timeout=10,
                        op_timeout=30)),
            (slow, dict(max_sessions=2, poll_interval=500, connect_timeout=30,
                        op_timeout=30))], rescan=200)
        w.start()
        fast_ids, slow_ids = [], []

        def pay(bank, ids, tag):
            mid = new_msg_id(tag, len(ids))
            t = w.put(bank, "%s-%03d.xml" % (tag.lower(), len(ids)),
                      pain001(mid, 3, seed=len(ids)))
            ids.append(mid)
            return mid, t

        # warm up: both banks have live sessions
        for _ in range(2):
            pay(fast, fast_ids, "FAST")
            pay(slow, slow_ids, "SLOW")
        fast.wait_arrived(fast_ids, 30, "the fast bank's warm-up")
        slow.wait_arrived(slow_ids, 30, "the slow bank's warm-up")

        def measure(label):
            lat, acks = [], []
            for _ in range(K):
                mid, t0 = pay(fast, fast_ids, "FAST")
                fast.wait_arrived([mid], 60, "%s payment %s" % (label, mid))
                arr = [a for a in fast.arrivals() if a.get("msg_id") == mid]
                lat.append(arr[0]["t_arrival"] - t0)
                file = "fast-%03d.xml" % (len(fast_ids) - 1)
                m = wait_until(lambda: w.msg_by_file(file), 10, "the message")
                ack = wait_until(
                    lambda: w.events("payment.acknowledged", msg=m["id"]),
                    30, "%s acknowledgement of %s" % (label, m["id"]))
                acks.append(log_time(ack[0]) - t0)
                # spread the samples over two of the slow bank's 5 s
                time.sleep(GAP)
            return lat, acks

        base_lat, base_ack = measure("baseline")

        # the slow bank turns slow: every chunk from its server waits 5 s
        slow.proxy.set_delay(SLOW_MS, "down")
        n_slow0 = len(slow_ids)
        for _ in range(4):
            pay(slow, slow_ids, "SLOW")

        def slow_busy():
            b = w.bank_health(slow)
            return b and b["inflight"] >= 1
        wait_until(slow_busy, 20, "the slow bank's uploads in flight")
        t_slow = time.time()
        slow_lat, slow_ack = measure("with the slow bank")
        phase = time.time() - t_slow
        stuck_arrived = len([m for m in slow_ids[n_slow0:]
                             if slow.counts().get(m)])
        inflight_end = w.bank_health(slow)["inflight"]
        check(phase >= 2 * SLOW_MS / 1000.0,
              "the loaded phase lasted only %.1f s" % phase)
        check(stuck_arrived < 4,
              "all slow payments arrived during the slow phase: the delay "
              "did not bite")
        w.check_alive("with a slow bank")

        def fig(v):
            return "median %.3f s, max %.3f s" % (statistics.median(v),
                                                  max(v))
        print("isolation: fast bank drop-to-arrival, baseline: %s %s" %
              (fig(base_lat), ["%.3f" % x for x in base_lat]))
        print("isolation: fast bank drop-to-arrival, slow bank busy: %s %s"
              % (fig(slow_lat), ["%.3f" % x for x in slow_lat]))
        print("isolation: fast bank drop-to-acknowledged, baseline: %s; "
              "slow bank busy: %s" % (fig(base_ack), fig(slow_ack)))
        print("isolation: slow phase %.1f s, %d of 4 slow payments arrived "
              "in it, %d slow operations in flight at its end" % (
                  phase, stuck_arrived, inflight_end))
        for what, b, s in (("arrival", base_lat, slow_lat),
                           ("acknowledgement", base_ack, slow_ack)):
            mb, ms = statistics.median(b), statistics.median(s)
            check(ms <= 2 * mb + 1.0,
                  "median %s latency %.3f s with a slow bank, baseline "
                  "%.3f s" % (what, ms, mb))
            check(max(s) <= 2 * max(b) + 1.0,
                  "worst %s latency %.3f s with a slow bank, baseline "
                  "%.3f s" % (what, max(s), max(b)))

        # the slow bank recovers: everything arrives exactly once
        slow.proxy.set_delay(0, "down")
        slow.wait_arrived(slow_ids, 120, "the slow bank's payments")
        n = len(fast_ids) + len(slow_ids)
        w.wait_settled(n, 90)
        fast.check_exactly_once(fast_ids, "fast: ")
        slow.check_exactly_once(slow_ids, "slow: ")
        w.check_store(n)
        check(w.stop() == 0, "clean stop")
        print("isolation: passed in %.1f s" % (time.time() - t_start))
    except SystemExit:
        if w is not None:
            print(w.tail(60))
        raise
    finally:
        if w is not None:
            w.cleanup()
        for b in (fast, slow):
            if b is not None:
                b.stop()
        sshd.stop()
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
