"""Scaffolding for h2hd's SFTP bank tests (Debian's /usr/bin/python3).

A test builds, in one temporary folder:

  * a throw-away OpenSSH sshd on loopback (tests/sims/sshd.py), which it
    can kill (the listener and every session process it forked), restart
    on the same port, or start with a file size limit (a server whose
    writes fail like on a full disk);
  * one or more bank back offices (tests/sims/bank_sftp.py's BankSim) in
    folders below the folder that sshd serves, each polling its upload
    folder in a thread and logging every arrival (duplicates countable);
  * optionally a fault proxy (tests/faultproxy.py) in front of sshd for a
    bank, to cut, delay or swallow its traffic;
  * an h2hd World (h2hlib.World) whose config has iso20022_sftp banks and
    one channel per bank.

Payments are valid pain.001.001.03 files generated here, each with its own
MsgId, so that what reaches the bank can be counted per MsgId.

Everything started here is stopped by pid in cleanup(); nothing is killed
by name.
"""
import datetime
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

from h2hlib import H2HCTL, World, check, fail, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("H2H_SRC") or os.path.dirname(os.path.dirname(HERE))
SIMS = os.path.join(SRC, "tests", "sims")
TESTS = os.path.join(SRC, "tests")
for _p in (SIMS, TESTS):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import bank_sftp  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

PY = "/usr/bin/python3"
SSHD_PY = os.path.join(SIMS, "sshd.py")
KEYGEN = "/usr/bin/ssh-keygen"
TODAY = datetime.date.today().isoformat()
TMP_PREFIX = ".h2h-tmp."

# --------------------------------------------------------------------------
# payments


def iban(country, bban):
    """A valid IBAN for bban: mod-97 check digits (ISO 13616)."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return "%s%02d%s" % (country, 98 - int(digits) % 97, bban)


DEBTOR = iban("DE", "370400440532013000")
CREDITORS = [iban("FR", "20041010050500013M02606"),
             iban("NL", "INGB0001234567"),
             iban("DE", "500105175407324931"),
             iban("GB", "NWBK60161331926819")]
CRED_BIC = ["BNPAFRPPXXX", "INGBNL2AXXX", "COBADEFFXXX", "NWBKGB2LXXX"]

RUN = "%04X" % random.SystemRandom().randrange(0x10000)


def new_msg_id(tag, i):
    """A MsgId unique in this run (<= 35 characters)."""
    return ("%s-%s-%d" % (tag, RUN, i))[:35]


def pain001(msg_id, n_tx=1, seed=0, remit_pad=0, first_pad=0):
    """A valid pain.001.001.03 with one PmtInf of n_tx credit transfers.

    remit_pad lengthens each remittance line (max 140 characters) so that
    big files can be made with fewer transactions; first_pad adds that
    many characters in all, up to 120 per line from the first line on
    (byte-exact sizes)."""
    rnd = random.Random("%s/%d" % (msg_id, seed))
    txs = []
    total = 0
    for t in range(n_tx):
        minor = rnd.randrange(100, 5000000)
        total += minor
        k = rnd.randrange(len(CREDITORS))
        extra = min(120, max(0, first_pad - 120 * t))
        remit = ("Invoice %d/%d " % (t, seed)) + "R" * remit_pad + "F" * extra
        txs.append(
            "<CdtTrfTxInf><PmtId><InstrId>I%d</InstrId>"
            "<EndToEndId>%s</EndToEndId></PmtId>"
            "<Amt><InstdAmt Ccy=\"EUR\">%d.%02d</InstdAmt></Amt>"
            "<CdtrAgt><FinInstnId><BIC>%s</BIC></FinInstnId></CdtrAgt>"
            "<Cdtr><Nm>Supplier %d</Nm></Cdtr>"
            "<CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct>"
            "<RmtInf><Ustrd>%s</Ustrd></RmtInf></CdtTrfTxInf>\n"
            % (t, ("E%d-%s" % (t, msg_id))[:35], minor // 100, minor % 100,
               CRED_BIC[k], k, CREDITORS[k], remit[:140]))
    ctrl = "%d.%02d" % (total // 100, total % 100)
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">
<CstmrCdtTrfInitn>
<GrpHdr><MsgId>%s</MsgId><CreDtTm>%sT09:00:00</CreDtTm>
<NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
<InitgPty><Nm>Example Treasury GmbH</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>%s-P</PmtInfId><PmtMtd>TRF</PmtMtd>
<NbOfTxs>%d</NbOfTxs><CtrlSum>%s</CtrlSum>
<ReqdExctnDt>%s</ReqdExctnDt>
<Dbtr><Nm>Example Treasury GmbH</Nm></Dbtr>
<DbtrAcct><Id><IBAN>%s</IBAN></Id></DbtrAcct>
<DbtrAgt><FinInstnId><BIC>COBADEFFXXX</BIC></FinInstnId></DbtrAgt>
%s</PmtInf>
</CstmrCdtTrfInitn>
</Document>
""" % (msg_id, TODAY, n_tx, ctrl, msg_id[:30], n_tx, ctrl, TODAY, DEBTOR,
       "".join(txs))).encode()


def big_pain001(msg_id, mbytes):
    """A pain.001.001.03 of about mbytes MB (long remittance lines)."""
    per_tx = 560  # bytes per transaction with remit_pad=100, roughly
    return pain001(msg_id, n_tx=max(1, int(mbytes * 1e6 / per_tx)),
                   remit_pad=100)


def rendered_size(data, fmt="pain.001.001.09"):
    """Size of data rendered as fmt by h2hctl convert (the daemon's
    renderer), or None when it cannot tell."""
    d = tempfile.mkdtemp(prefix="h2h-render-")
    try:
        src, dst = os.path.join(d, "in.xml"), os.path.join(d, "out.xml")
        with open(src, "wb") as f:
            f.write(data)
        r = subprocess.run([H2HCTL, "convert", "--to", fmt, src, dst],
                           capture_output=True, timeout=60)
        return os.path.getsize(dst) if r.returncode == 0 else None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def pain001_rendering_to(msg_id, size, fmt="pain.001.001.09"):
    """A pain.001.001.03 whose rendering as fmt is exactly size bytes, or
    None when none of the shapes tried gets there (the rendered size grows
    with first_pad, though not always by exactly one byte a character)."""
    for n_tx in range(1, 60):
        lo, hi = 0, 120 * n_tx
        if rendered_size(pain001(msg_id, n_tx), fmt) > size:
            return None
        if rendered_size(pain001(msg_id, n_tx, first_pad=hi), fmt) < size:
            continue
        while lo <= hi:
            mid = (lo + hi) // 2
            data = pain001(msg_id, n_tx, first_pad=mid)
            got = rendered_size(data, fmt)
            if got is None:
                return None
            if got == size:
                return data
            if got < size:
                lo = mid + 1
            else:
                hi = mid - 1
    return None


# --------------------------------------------------------------------------
# processes


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ppid_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: split after the last ')'
    try:
        return int(st[st.rindex(")") + 2:].split()[1])
    except (ValueError, IndexError):
        return None


def descendants(pid):
    """pids of every living process below pid (children first found)."""
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            pp = ppid_of(int(name))
            if pp is not None:
                kids.setdefault(pp, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, ()):
            out.append(c)
            todo.append(c)
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); it is gone for our purposes
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2:].split()[0] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def kill_tree(pid, sig=signal.SIGKILL):
    """Stop pid and every process it forked: freeze the tree first (so
    that nothing forks a new child behind our back), then kill it.  pid
    must be a process this test started."""
    frozen = set()
    for _ in range(20):
        tree = [pid] + descendants(pid)
        new = [p for p in tree if p not in frozen]
        if not new:
            break
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            frozen.add(p)
    for p in frozen:
        try:
            os.kill(p, sig)
            if sig != signal.SIGKILL:
                os.kill(p, signal.SIGCONT)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in frozen):
        time.sleep(0.02)
    return sorted(frozen)


class Sshd:
    """A throw-away OpenSSH sshd (tests/sims/sshd.py) in folder d."""

    def __init__(self, d):
        self.dir = os.path.abspath(d)
        self.info = {}
        self.port = None
        self.pid = None
        self.fsize = None

    def p(self, name):
        return os.path.join(self.dir, name)

    @property
    def sftp_dir(self):
        return self.p("sftp")

    def start(self, port=None, fsize=None):
        """Start (on port, else the last one, else a free one).

        fsize: RLIMIT_FSIZE in bytes for sshd and everything it forks, with
        SIGXFSZ ignored, so that a write beyond it fails with EFBIG (sftp
        "Failure") while the session lives on: a server whose disk is
        full.  sshd.py runs sshd through Python's subprocess, which resets
        SIGXFSZ to its default (the process would be killed instead), so
        in that case sshd.py only prepares the folder and sshd is started
        here with the same config."""
        self.fsize = fsize
        cmd = [PY, SSHD_PY, "start", self.dir]
        if port or self.port:
            cmd += ["--port", str(port or self.port)]
        last = None
        for attempt in range(10):
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=60)
            if r.returncode == 0:
                break
            last = r
            time.sleep(0.3)  # the old listener may still hold the port
        else:
            fail("sshd did not start: %s %s" % (last.stdout, last.stderr))
        self.info = dict(l.split("=", 1) for l in r.stdout.splitlines()
                         if "=" in l)
        self.port = int(self.info["port"])
        self.pid = int(self.info["pid"])
        self.user = self.info["user"]
        if fsize is not None:
            self.kill(signal.SIGTERM)
            self._start_limited(fsize)
        return self

    def _start_limited(self, fsize):
        def pre():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        pidf = self.p("sshd.pid")
        if os.path.exists(pidf):
            os.unlink(pidf)
        r = subprocess.run(["/usr/sbin/sshd", "-f", self.p("sshd_config"),
                            "-E", self.p("sshd.log")],
                           preexec_fn=pre, restore_signals=False,
                           stdin=subprocess.DEVNULL, timeout=30)
        check(r.returncode == 0, "limited sshd did not start")

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=0.5):
                    pass
                with open(pidf) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                return None
        self.pid = wait_until(up, 20, "limited sshd to listen")

    def ours(self, pid):
        """True when pid is this folder's sshd listener (not a stranger
        that got its pid after it died)."""
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return self.p("sshd_config").encode() in f.read()
        except OSError:
            return False

    def kill(self, sig=signal.SIGKILL):
        """Kill the listener and every session process (the whole tree)."""
        if self.pid is None:
            return []
        pids = kill_tree(self.pid, sig) if self.ours(self.pid) else []
        self.pid = None
        return pids

    def stop(self):
        if self.pid is not None:
            self.kill(signal.SIGTERM)
            # stragglers (a session in the middle of something)
            self.pid = None

    def restart(self, fsize=None):
        self.kill()
        return self.start(self.port, fsize)

    def log_text(self):
        try:
            with open(self.p("sshd.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def accepted_logins(self):
        return self.log_text().count("Accepted publickey")

    def fingerprint(self, pub=None):
        """'SHA256:...' of a public key as ssh-keygen -l prints it."""
        r = subprocess.run([KEYGEN, "-l", "-f", pub or
                            self.p("host_ed25519.pub")],
                           capture_output=True, text=True, check=True)
        return r.stdout.split()[1]


def keygen(path, ktype="ed25519"):
    if not os.path.exists(path):
        subprocess.run([KEYGEN, "-q", "-t", ktype, "-N", "", "-C", "h2h-test",
                        "-f", path], check=True, stdin=subprocess.DEVNULL)
    os.chmod(path, 0o600)
    return path


# --------------------------------------------------------------------------
# the bank


class TimedBankSim(bank_sftp.BankSim):
    """BankSim that stamps each arrival with time.time() (t_arrival), so
    that tests can measure drop-to-arrival latency below one second."""

    def _log_arrival(self, rec):
        rec["t_arrival"] = time.time()
        bank_sftp.BankSim._log_arrival(self, rec)


class SftpBank:
    """One bank: a folder below sshd's sftp folder, its back office in a
    thread, and optionally a fault proxy in front of sshd for its traffic.

    archive=True: the back office moves processed uploads into
    <root>/.banksim/archive/<seq>_<name> (the default of bank_sftp.py) and
    the config tells the adapter where to look (archive_dirs); otherwise
    uploads stay in upload/ (keep_uploads)."""

    def __init__(self, sshd, name, proxy=False, archive=True, poll_ms=50,
                 proxy_lifetime=900, **sim_kw):
        self.sshd = sshd
        self.name = name
        self.root = os.path.join(sshd.sftp_dir, name)
        self.archive = archive
        os.makedirs(self.root, exist_ok=True)
        self.sim = TimedBankSim(self.root, keep_uploads=not archive,
                                **sim_kw)
        self.upload = self.sim.upload
        self.download = self.sim.download
        self.archive_dir = self.sim.archive
        self.thread = self.sim.start_thread(poll_ms=poll_ms)
        self.proxy = None
        self.known_hosts = sshd.p("known_hosts")
        if proxy:
            self.proxy = FaultProxy(("127.0.0.1", sshd.port),
                                    lifetime=proxy_lifetime).start()
            # the host key is pinned for the address we connect to
            self.known_hosts = sshd.p("known_hosts_%s" % name)
            with open(sshd.p("host_ed25519.pub")) as f:
                typ, b64 = f.read().split()[:2]
            with open(self.known_hosts, "w") as f:
                f.write("[127.0.0.1]:%d %s %s\n" % (self.proxy.port, typ, b64))

    @property
    def port(self):
        return self.proxy.port if self.proxy else self.sshd.port

    def stop(self):
        self.sim.stop()
        self.thread.join(timeout=30)
        if self.proxy:
            self.proxy.stop()

    # -- what arrived --------------------------------------------------------

    def arrivals(self):
        return self.sim.arrivals()

    def counts(self):
        c = {}
        for a in self.arrivals():
            c[a.get("msg_id")] = c.get(a.get("msg_id"), 0) + 1
        return c

    def arrived(self, msg_ids):
        c = self.counts()
        return all(c.get(m, 0) >= 1 for m in msg_ids)

    def wait_arrived(self, msg_ids, timeout, what="payments at the bank"):
        msg_ids = list(msg_ids)
        wait_until(lambda: self.arrived(msg_ids), timeout,
                   "%s (%d of %d arrived)" % (
                       what, sum(1 for m in msg_ids
                                 if self.counts().get(m)), len(msg_ids)),
                   interval=0.05)

    def check_exactly_once(self, msg_ids, what=""):
        """Every msg_id arrived exactly once, accepted; no DUPL at all."""
        arr = self.arrivals()
        c = self.counts()
        for m in msg_ids:
            check(c.get(m, 0) == 1, "%s%s arrived %d times at %s" %
                  (what, m, c.get(m, 0), self.name))
        dupl = [a for a in arr if a.get("reason") == "DUPL"]
        check(not dupl, "%sDUPL verdicts at %s: %r" %
              (what, self.name, [(a["file"], a["msg_id"]) for a in dupl]))
        bad = [a for a in arr if a.get("msg_id") in set(msg_ids) and
               a.get("verdict") != "ACCP"]
        check(not bad, "%snot accepted at %s: %r" % (
            what, self.name, [(a["file"], a["verdict"], a["reason"],
                               a["error"]) for a in bad]))

    def temporaries(self):
        try:
            return sorted(n for n in os.listdir(self.upload)
                          if n.startswith(TMP_PREFIX))
        except FileNotFoundError:
            return []

    # -- config ---------------------------------------------------------------

    def conf(self, key=None, known_hosts=None, max_sessions=2,
             poll_interval=1000, retry=None, connect_timeout=10,
             op_timeout=30, keepalive=30, idle_timeout=60, extra="",
             payment_format="pain.001.001.09", bank_extra=""):
        """The bank's entry in banks = ( ... ).  extra goes into the
        iso20022_sftp group, bank_extra into the bank's own group."""
        retry = retry or dict(initial=200, max=2000, max_attempts=50,
                              max_age=3600)
        archive = ('( { dir = "%s"; match = "*_{name}"; } )' %
                   self.archive_dir) if self.archive else "( )"
        return """
  {{ name = "{name}"; adapter = "iso20022_sftp";
     payment_format = "{pf}"; max_sessions = {ms};
     poll_interval = {poll}; {bank_extra}
     retry = {{ {retry} }};
     iso20022_sftp = {{
       host = "127.0.0.1"; port = {port}; user = "{user}";
       key = "{key}"; known_hosts = "{kh}";
       upload_dir = "{up}";
       downloads = ( {{ dir = "{down}"; pattern = "*"; }} );
       after_fetch = "delete"; archive_dirs = {archive};
       connect_timeout = {ct}; op_timeout = {ot}; keepalive = {ka};
       idle_timeout = {it};
       {extra}
     }}; }}""".format(
            name=self.name, pf=payment_format, ms=max_sessions,
            poll=poll_interval,
            retry=" ".join("%s = %s;" % kv for kv in sorted(retry.items())),
            port=self.port, user=self.sshd.user,
            key=key or self.sshd.p("user_ed25519"),
            kh=known_hosts or self.known_hosts,
            up=self.upload, down=self.download, archive=archive,
            ct=connect_timeout, ot=op_timeout, ka=keepalive, it=idle_timeout,
            extra=extra, bank_extra=bank_extra)


# --------------------------------------------------------------------------
# the daemon

DAEMON_CONF = """
daemon = {{
  state_dir = "state";
  spool_dir = "spool";
  log_file = "h2hd.log";
  log_level = "{log_level}";
  shutdown_timeout = {shutdown_timeout};
  rescan_interval = {rescan};
  batch_max = {batch_max};
  retry = {{ initial = 200; max = 2000; factor = 2.0; jitter = 0.2;
            max_attempts = 50; max_age = 86400; }};
}};
"""


class SftpWorld(World):
    """An h2hd World with iso20022_sftp banks: channel <bank>-ch drops
    into bank <bank>.  banks: list of (SftpBank, conf keyword dict)."""

    def __init__(self, name, banks, **kw):
        World.__init__(self, name, **kw)
        self.banks = []
        self.set_banks(banks)
        for b, _ in banks:
            os.makedirs(self.drop_dir(b), exist_ok=True)

    def channel(self, bank):
        return "%s-ch" % bank.name

    def drop_dir(self, bank):
        return self.p("spool/%s/in" % self.channel(bank))

    def status_dir(self, bank):
        return self.p("spool/%s/out/status" % self.channel(bank))

    def set_banks(self, banks):
        """Write the config for banks [(SftpBank, conf kwargs)]."""
        self.banks = banks
        text = DAEMON_CONF.format(**self.opts)
        text += "banks = (%s\n);\n" % ",".join(b.conf(**kw) for b, kw in banks)
        text += "channels = (%s\n);\n" % ",".join(
            """
  { name = "%s"; bank = "%s"; input_format = "auto";
    output_format = "as-received"; stability = 0; }"""
            % (self.channel(b), b.name) for b, _ in banks)
        self.write_conf(text)

    def reload(self):
        r = self.ctl("reload", check_rc=False)
        check(r.returncode == 0, "h2hctl reload refused: %s %s" %
              (r.stdout, r.stderr))
        return r

    def put(self, bank, name, data):
        """Drop like a well-behaved ERP; returns the drop wall time."""
        tmp = os.path.join(self.drop_dir(bank), "." + name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
        t = time.time()
        os.rename(tmp, os.path.join(self.drop_dir(bank), name))
        return t

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self, what=""):
        check(self.alive(), "h2hd died %s(exit %r)\n%s" % (
            what, self.proc.poll() if self.proc else None, self.tail(60)))
        r = self.ctl("status", check_rc=False)
        check(r.returncode == 0, "h2hctl status failed %s: %s %s" %
              (what, r.stdout, r.stderr))
        return json.loads(r.stdout)

    def queue(self, state=None, bank=None):
        args = ["queue"]
        if state:
            args += ["--state", state]
        if bank:
            args += ["--bank", bank]
        return self.ctl_json(*args)["messages"]

    def msg_by_file(self, fname):
        for m in self.queue():
            if m["file"] == fname:
                return m
        return None

    def show(self, mid):
        return self.ctl_json("show", mid)

    def db_states(self, bank=None):
        con = sqlite3.connect(self.p("state/h2hd.db"))
        try:
            if bank:
                return dict(con.execute(
                    "select state, count(*) from msg where bank = ? "
                    "group by state", (bank,)))
            return dict(con.execute(
                "select state, count(*) from msg group by state"))
        finally:
            con.close()

    def bank_health(self, bank):
        st = self.ctl_json("status")
        for b in st["banks"]:
            if b["name"] == bank.name:
                return b
        return None

    def events(self, event, **match):
        """Log lines of event whose key=value pairs include match."""
        out = []
        for line in self.log_events(event):
            kv = logfmt(line)
            if all(kv.get(k) == v for k, v in match.items()):
                out.append(kv)
        return out

    def settled(self, n, state="acknowledged", bank=None):
        """True when the store holds n messages (of bank), all in state."""
        st = self.db_states(bank)
        return st.get(state, 0) == n and sum(st.values()) == n

    def wait_settled(self, n, timeout, state="acknowledged", bank=None):
        wait_until(lambda: self.settled(n, state, bank), timeout,
                   "%d messages %s (store: %r)" % (n, state,
                                                   self.db_states(bank)),
                   interval=0.1)

    def check_store(self, n, state="acknowledged"):
        """Store and h2hctl agree: n messages, all in state."""
        st = self.db_states()
        check(st == {state: n}, "store states %r, expected {%r: %d}" %
              (st, state, n))
        q = self.queue()
        check(len(q) == n, "h2hctl queue lists %d messages, expected %d" %
              (len(q), n))
        check(all(m["state"] == state for m in q),
              "h2hctl queue: %r" % sorted(set(m["state"] for m in q)))
        counts = self.ctl_json("status")["counts"]
        check(counts.get(state) == n and sum(counts.values()) == n,
              "h2hctl status counts %r" % counts)


_LOGFMT = re.compile(r'(\w[\w.]*)=("(?:[^"\\]|\\.)*"|\S*)')


def logfmt(line):
    out = {}
    for k, v in _LOGFMT.findall(line):
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out[k] = v
    return out


def log_time(kv):
    """Wall time (seconds) of a parsed log line's ts=."""
    ts = kv["ts"].rstrip("Z")
    d = datetime.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
    frac = float("0" + ts[19:]) if len(ts) > 19 else 0.0
    return d.replace(tzinfo=datetime.timezone.utc).timestamp() + frac


class Cleanup:
    """Stops everything registered, in reverse order, whatever happens."""

    def __init__(self):
        self.items = []

    def add(self, fn):
        self.items.append(fn)
        return fn

    def run(self):
        while self.items:
            fn = self.items.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning up
                print("cleanup: %r" % e, file=sys.stderr)
