"""Reload, shutdown, pid lock and --check-config behaviour of h2hd."""
import hashlib
import os
import subprocess
import time

from h2hlib import (H2HD, World, check, drop_atomic, fail, payment,
                    wait_until)


def test_sighup_broken_config_keeps_old():
    w = World("hup")
    try:
        w.start()
        for i in range(10):
            drop_atomic(w, "a-%d.xml" % i, payment(i, "hup"))
        wait_until(lambda: len(w.bank_files()) == 10, 30, "first 10 files")
        good = open(w.conf).read()
        w.write_conf(good + "\nbogus_key = 1;\nchannels2 = ( { name = 3 } \n")
        w.proc.send_signal(1)  # SIGHUP
        wait_until(lambda: w.log_events("config.reload.refused"), 10,
                   "the refusal in the log")
        line = w.log_events("config.reload.refused")[0]
        check("h2hd.conf:" in line, "refusal names file:line: " + line)
        check(w.proc.poll() is None, "h2hd died on a broken reload")
        for i in range(10, 20):
            drop_atomic(w, "a-%d.xml" % i, payment(i, "hup"))
        wait_until(lambda: len(w.bank_files()) == 20, 30,
                   "files flowing on the old config")
        r = w.ctl("reload", check_rc=False)
        check(r.returncode == 1, "h2hctl reload of a broken config must fail")
        check("refused" in (r.stdout + r.stderr),
              "h2hctl reload says why: " + r.stdout + r.stderr)
        # A valid change is taken.
        w.write_conf(good.replace('log_level = "info"', 'log_level = "debug"'))
        w.proc.send_signal(1)
        wait_until(lambda: w.log_events("config.reloaded"), 10, "reload")
        for i in range(20, 25):
            drop_atomic(w, "a-%d.xml" % i, payment(i, "hup"))
        wait_until(lambda: len(w.bank_files()) == 25, 30, "after reload")
        check(w.stop() == 0, "exit status")
    except SystemExit:
        print(w.tail())
        raise
    finally:
        w.cleanup()


def test_sigterm_leaves_nothing_half_done():
    w = World("term", sessions=2, batch_max=8)
    try:
        big = [os.urandom(4 << 20) + b"%d" % i for i in range(24)]
        for i, data in enumerate(big):
            drop_atomic(w, "big-%02d.bin" % i, data)
        w.start()
        wait_until(lambda: w.log_events("payment.submitting"), 30,
                   "uploads in flight")
        w.proc.send_signal(15)
        rc = w.proc.wait(30)
        check(rc == 0, "SIGTERM exit status %r" % rc)
        check(w.log_events("daemon.stopping"), "stopping logged")
        states = w.db_states()
        check("submitting" not in states,
              "a message left in submitting after SIGTERM: %r" % states)
        tmp = [n for n in os.listdir(w.bank_in) if n.startswith(".")]
        check(not tmp, "half-written files at the bank: %r" % tmp)
        for n in w.bank_files():
            data = open(os.path.join(w.bank_in, n), "rb").read()
            check(data in big, "a truncated or altered file at the bank: " + n)
        # Everything completes after a restart, each exactly once.
        w.start()
        wait_until(lambda: len(w.bank_files()) == len(big), 60,
                   "the rest after restart")
        hashes = w.bank_hashes()
        check(sorted(hashes) == sorted(hashlib.sha256(b).hexdigest()
                                       for b in big), "exactly once")
        check(w.stop() == 0, "exit status")
    except SystemExit:
        print(w.tail())
        raise
    finally:
        w.cleanup()


def test_pid_lock_and_check_config():
    w = World("lock")
    try:
        w.start()
        r = subprocess.run([H2HD, "-c", w.conf], capture_output=True,
                           text=True, timeout=20)
        check(r.returncode != 0, "a second daemon on the same state started")
        check("another h2hd" in r.stderr, "says why: " + r.stderr)
        check(w.proc.poll() is None, "first daemon still running")
        check(w.stop() == 0, "exit status")
        w.write_conf(open(w.conf).read().replace(
            'adapter = "dirdrop"', 'adapter = "nosuch"').replace(
            "stability = 0", "stability = -5"))
        r = subprocess.run([H2HD, "-c", w.conf, "--check-config"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode != 0, "--check-config accepted a broken file")
        lines = [l for l in r.stderr.splitlines() if l.startswith(w.conf + ":")]
        check(len(lines) >= 2, "each problem as file:line: %r" % r.stderr)
    finally:
        w.cleanup()


if __name__ == "__main__":
    test_sighup_broken_config_keeps_old()
    test_sigterm_leaves_nothing_half_done()
    test_pid_lock_and_check_config()
    print("signals: ok")
