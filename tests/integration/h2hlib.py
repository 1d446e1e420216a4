"""Shared helpers for h2hd's integration tests (Debian's /usr/bin/python3).

Each test builds a private world under a temporary folder: a config file, a
spool, a state folder and a directory bank; starts the real h2hd binary
(path from $H2HD, set by ctest) and drives it like an operator would.
"""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

H2HD = os.environ.get("H2HD", "h2hd")
H2HCTL = os.environ.get("H2HCTL", "h2hctl")
CORPUS = os.environ.get("H2H_CORPUS",
                        os.path.join(os.path.dirname(__file__),
                                     "../../../shared/corpus"))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    fail("timed out after %ss waiting for %s" % (timeout, what))


CONF = """
daemon = {{
  state_dir = "state";
  spool_dir = "spool";
  log_file = "h2hd.log";
  log_level = "{log_level}";
  shutdown_timeout = {shutdown_timeout};
  rescan_interval = {rescan};
  batch_max = {batch_max};
  retry = {{ initial = {retry_initial}; max = 2000; factor = 2.0; jitter = 0.2;
            max_attempts = {max_attempts}; max_age = 86400; }};
}};
banks = (
  {{ name = "bank1"; adapter = "dirdrop"; max_sessions = {sessions};
     poll_interval = {poll};
     dirdrop = {{ outbox = "bank/inbox"; inbox = "bank/outbox"; }}; }}
);
channels = (
  {{ name = "erp"; bank = "bank1"; input_format = "passthrough";
     stability = {stability}; }}
);
"""


class World:
    """A private h2hd installation in a temporary folder."""

    def __init__(self, name, **kw):
        self.root = tempfile.mkdtemp(prefix="h2h-%s-" % name)
        self.opts = dict(log_level="info", shutdown_timeout=10, rescan=500,
                         batch_max=64, retry_initial=200, max_attempts=50,
                         sessions=4, poll=1000, stability=0)
        self.opts.update(kw)
        self.conf = os.path.join(self.root, "h2hd.conf")
        self.write_conf()
        self.drop = self.p("spool/erp/in")
        self.out = self.p("spool/erp/out")
        self.rejected = self.p("spool/erp/rejected")
        self.bank_in = self.p("bank/inbox")
        self.bank_out = self.p("bank/outbox")
        for d in (self.drop, self.bank_in, self.bank_out):
            os.makedirs(d, exist_ok=True)
        self.proc = None
        self.log = self.p("h2hd.log")
        self.sock = self.p("state/h2hctl.sock")

    def p(self, rel):
        return os.path.join(self.root, rel)

    def write_conf(self, text=None):
        with open(self.conf, "w") as f:
            f.write(text if text is not None else CONF.format(**self.opts))

    def start(self, wait=True):
        self.stderr = open(self.p("stderr.txt"), "ab")
        self.proc = subprocess.Popen([H2HD, "-c", self.conf],
                                     stdout=self.stderr, stderr=self.stderr,
                                     cwd=self.root)
        if wait:
            wait_until(lambda: os.path.exists(self.sock) or
                       self.proc.poll() is not None, 20, "h2hd to start")
            check(self.proc.poll() is None,
                  "h2hd exited at start: " + self.tail())
        return self.proc

    def restart(self, n):
        """Start h2hd again (the n-th start) and wait until it answers; a
        SIGKILL leaves its socket file behind."""
        try:
            os.unlink(self.sock)
        except FileNotFoundError:
            pass
        self.start()
        wait_until(lambda: len(self.log_events("daemon.started")) == n, 20,
                   "start number %d" % n)
        wait_until(lambda: self.ctl("status", check_rc=False).returncode ==
                   0, 20, "h2hctl to answer")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                fail("h2hd did not stop on SIGTERM within %ss" % timeout)
        return self.proc.returncode if self.proc else None

    def tail(self, n=30):
        out = []
        for path in (self.log, self.p("stderr.txt")):
            try:
                with open(path, errors="replace") as f:
                    out += f.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def log_events(self, event=None):
        evs = []
        try:
            with open(self.log, errors="replace") as f:
                for line in f:
                    if event is None or (" event=%s " % event) in line + " ":
                        evs.append(line.rstrip("\n"))
        except OSError:
            pass
        return evs

    def ctl(self, *args, check_rc=True):
        r = subprocess.run([H2HCTL, "-s", self.sock, "--json"] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check_rc and r.returncode != 0:
            fail("h2hctl %s failed (%d): %s %s" % (" ".join(args), r.returncode,
                                                  r.stdout, r.stderr))
        return r

    def ctl_json(self, *args):
        return json.loads(self.ctl(*args).stdout)

    def db_states(self):
        con = sqlite3.connect(self.p("state/h2hd.db"))
        try:
            return dict(con.execute(
                "select state, count(*) from msg group by state"))
        finally:
            con.close()

    def bank_files(self):
        return sorted(n for n in os.listdir(self.bank_in)
                      if not n.startswith("."))

    def bank_hashes(self):
        return [sha256(os.path.join(self.bank_in, n)) for n in self.bank_files()]

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if os.environ.get("H2H_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)


def drop_atomic(world, name, data):
    """Write like a well-behaved ERP: temp name, then rename."""
    tmp = os.path.join(world.drop, "." + name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(world.drop, name))


def payment(i, salt=""):
    return ("<Payment><Id>%d%s</Id><Amount>%d.%02d</Amount>%s</Payment>\n" %
            (i, salt, i, i % 100, "x" * (i % 200))).encode()
