"""README command 1 ends in etc/demo.sh: the demo must show files flowing
(3 payments rendered for the bank, 1 refused with a reason, a statement
delivered as MT940 and a status report as received)."""
import os
import shutil
import subprocess
import tempfile

from h2hlib import H2HD, check

SRC = os.environ.get("H2H_SRC", os.path.join(os.path.dirname(__file__), "../.."))


def main():
    tmp = tempfile.mkdtemp(prefix="h2h-demo-")
    try:
        # demo.sh wants BUILD/daemon/h2hd and h2hctl: the binaries' folder's
        # parent is that BUILD.
        build = os.path.dirname(os.path.dirname(os.path.abspath(H2HD)))
        demo = os.path.join(tmp, "demo")
        r = subprocess.run(["sh", os.path.join(SRC, "etc/demo.sh"), build],
                           env=dict(os.environ, DEMO_DIR=demo),
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "demo.sh failed: " + r.stdout + r.stderr)
        inbox = sorted(os.listdir(os.path.join(demo, "bank/inbox")))
        check(len(inbox) == 3, "3 payments at the bank: %r" % inbox)
        for n in inbox:
            body = open(os.path.join(demo, "bank/inbox", n)).read()
            check("pain.001.001.09" in body, n + " rendered as pain.001.001.09")
        rej = os.path.join(demo, "spool/erp/rejected/broken.xml.reason")
        check(os.path.exists(rej) and "IBAN" in open(rej).read(),
              "the broken file is refused with an IBAN reason")
        st = os.listdir(os.path.join(demo, "spool/erp/out/statements"))
        check(len(st) == 1 and st[0].endswith(".sta"),
              "statement delivered as MT940: %r" % st)
        check(len(os.listdir(os.path.join(demo, "spool/erp/out/status"))) == 1,
              "status report delivered")
        check("submitted=3" in r.stdout, "h2hctl status shows 3 submitted")
        check("event=payment.submitted" in r.stdout, "the log is shown")
        print("PASS test_demo")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
