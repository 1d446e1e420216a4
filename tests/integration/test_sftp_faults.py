"""Faults on the SFTP bank path: real OpenSSH sshd, the bank simulator
behind it, the fault proxy in front of it where the network misbehaves.

Scenarios (each in its own h2hd world; run a subset by naming them):

  sshd_kill   sshd (listener and every session process) killed by pid
              while several MB payments are being uploaded (their
              temporaries half written); h2hd restarted by an operator
              during the outage; sshd restarted on the same port.  Retries
              back off; everything arrives; the partial temporaries the
              dead connections left are cleaned up.
  cut         the connection cut mid-transfer (after 1 MB upstream, RST)
              and during the handshake (after 200 bytes downstream, FIN).
  delay       a slow link (100 ms per chunk each way): slow, not failed.
  swallow     traffic swallowed: op_timeout fires, the daemon stays
              responsive, retries, and delivers once the link is back.
  auth        a key the server does not accept: failed (no retry loop),
              no login, no arrival; fixed config + reload + retry: once.
  hostkey     a changed host key (same type, and another type): fails
              closed before authentication; the log shows the presented
              key's SHA256 fingerprint exactly as ssh-keygen -l prints it.
  lost_answer the bank renamed the upload into place but the answer was
              lost with the connection: outcome unknown, recover asks the
              bank and finds it; never a second upload, never held.
  rename      the final name taken at the bank: a dangling symlink (the
              server's rename, a link(2), fails with EEXIST while a stat of
              the name says "no such file"), a directory, and a directory
              whose size equals our payload's (only its type tells it from
              our own earlier upload).
  disk_full   sshd with RLIMIT_FSIZE and SIGXFSZ ignored: writes past the
              limit fail like on a full disk (sftp "Failure") while the
              session lives; small payments still pass; after the "disk
              is freed" (sshd restarted without the limit) the big one
              arrives.

Every scenario ends with: the daemon alive and answering, every payment at
the bank exactly once (per MsgId in the simulator's arrival log, accepted,
no DUPL), no upload temporaries left at the bank, and the store and
h2hctl agreeing that every message is acknowledged (the bank's pain.002
fetched and linked).
"""
import os
import re
import shutil
import sys
import tempfile
import time

from h2hlib import check, fail, wait_until
from sftplib import (Cleanup, SftpBank, SftpWorld, Sshd, big_pain001,
                     keygen, log_time, new_msg_id, pain001,
                     pain001_rendering_to, rendered_size)

KEEP = os.environ.get("H2H_KEEP") == "1"


class Ctx:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="h2h-sftpfaults-")
        self.cleanup = Cleanup()
        self.sshd = Sshd(os.path.join(self.base, "sshd")).start()
        self.figures = []

    def bank(self, name, **kw):
        b = SftpBank(self.sshd, name, **kw)
        self.cleanup.add(b.stop)
        return b

    def world(self, name, banks, **kw):
        w = SftpWorld(name, banks, **kw)
        self.cleanup.add(w.cleanup)
        return w

    def note(self, fmt, *args):
        line = fmt % args
        self.figures.append(line)
        print("  " + line, flush=True)


def ids_of(w, bank):
    return {m["file"]: m["id"] for m in w.queue(bank=bank.name)}


def attempts_times(w, mid):
    """Wall times of every submit attempt of message mid (log)."""
    return [log_time(kv) for kv in w.events("payment.submitting", msg=mid)]


def deferrals(w, mid=None):
    if mid:
        return w.events("payment.deferred", msg=mid)
    return w.events("payment.deferred")


def finish(ctx, w, bank, msg_ids, timeout=90, what=""):
    """The common end of a scenario: see the module docstring."""
    bank.wait_arrived(msg_ids, timeout, "%s payments at the bank" % what)
    n = len(msg_ids)
    w.wait_settled(n, timeout)
    bank.check_exactly_once(msg_ids, what)
    wait_until(lambda: not os.listdir(bank.download), 20,
               "the bank's download folder to be emptied")
    w.check_alive(what)
    w.check_store(n)
    rc = w.stop()
    check(rc == 0, "%sh2hd exit status %r on SIGTERM" % (what, rc))
    # start-up runs the store's consistency check; then a clean stop
    w.start()
    w.check_store(n)
    check(w.stop() == 0, "%sclean restart and stop" % what)
    bank.check_exactly_once(msg_ids, what)
    # last, so that it does not hide the outcomes above
    left = bank.temporaries()
    check(not left, "%spartial upload temporaries left at the bank after "
          "the connection died: %r" % (what, left))


def warm_up(ctx, w, bank, tag):
    mid = new_msg_id(tag + "W", 0)
    w.put(bank, "%s-warm.xml" % tag.lower(), pain001(mid, 2))
    bank.wait_arrived([mid], 30, "the warm-up payment")
    return mid


# --------------------------------------------------------------------------


def sc_sshd_kill(ctx):
    bank = ctx.bank("kill")
    w = ctx.world("sftp-kill", [(bank, dict(
        retry=dict(initial=500, max=4000, max_attempts=50, max_age=3600),
        connect_timeout=5, op_timeout=10))])
    w.start()
    ids = [warm_up(ctx, w, bank, "KILL")]

    # Drop four payments of several MB and wait until uploads are in the
    # middle of their data: temporaries with bytes in them, none written
    # out yet, so that no upload is at its rename (a lost answer there is
    # the lost_answer scenario).
    # Then kill sshd: the listener and every session process.  On a busy
    # machine the test may miss every upload; it tries again then.
    seen = None
    for rnd in range(3):
        big = [new_msg_id("KILL%d" % rnd, i) for i in range(4)]
        datas = [big_pain001(m, 4) for m in big]
        full = min(rendered_size(d) or len(d) for d in datas)
        for i, (m, data) in enumerate(zip(big, datas)):
            w.put(bank, "kill-%d-%d.xml" % (rnd, i), data)
        ids += big

        def in_progress():
            out = []
            for n in bank.temporaries():
                try:
                    size = os.path.getsize(os.path.join(bank.upload, n))
                except OSError:
                    return None  # renamed just now
                if size >= full:
                    return None  # written out: may be at its rename
                out.append((n, size))
            return out if any(sz > 0 for _, sz in out) else None
        deadline = time.time() + 30
        while time.time() < deadline and not bank.arrived(big):
            seen = in_progress()
            if seen:
                break
            time.sleep(0.001)
        if seen:
            break
        bank.wait_arrived(big, 60, "the payments of a missed round")
    check(seen, "three rounds of uploads, none seen in progress")
    killed = ctx.sshd.kill()
    t_kill = time.time()
    ctx.note("sshd_kill: killed %d sshd processes while %d uploads were "
             "under way: %s (rendered payload %d bytes)", len(killed),
             len(seen), ", ".join("%s %d bytes" % x for x in seen), full)
    check(len(killed) >= 2, "expected a listener and session processes, "
          "killed %r" % killed)
    sizes_at_kill = {n: os.path.getsize(os.path.join(bank.upload, n))
                     for n in bank.temporaries()
                     if os.path.exists(os.path.join(bank.upload, n))}

    # Retries with backoff while sshd is down; the daemon stays up.
    wait_until(lambda: deferrals(w), 30, "a deferral after the kill")
    time.sleep(9)
    w.check_alive("while sshd is down")
    st = w.bank_health(bank)
    check(st["health"].startswith("degraded"),
          "bank health while sshd is down: %r" % st["health"])
    q = w.queue(bank=bank.name)
    delivered = [m for m in q if m["state"] in ("submitted", "acknowledged")]
    waiting = [m for m in q if m["state"] in ("deferred", "rendered",
                                              "submitting")]
    check(not [m for m in q if m["state"] in ("failed", "held")],
          "failed/held while sshd is down: %r" % q)
    check(waiting, "nothing waiting for sshd to come back: %r" % q)
    gaps_all = []
    for m in waiting:
        times = [t for t in attempts_times(w, m["id"]) if t >= t_kill - 1]
        gaps = [b - a for a, b in zip(times, times[1:])]
        gaps_all.append(gaps)
        # 9+ s of outage, initial 0.5 s doubling to a cap of 4 s: a few
        # attempts with growing gaps, not one a second
        check(2 <= len(times) <= 8, "%s: %d attempts in the outage (%r)" %
              (m["id"], len(times), gaps))
        if len(gaps) >= 2:
            check(max(gaps) >= 1.8 and gaps[-1] > gaps[0],
                  "%s: no backoff between attempts: %r" % (m["id"], gaps))
    errs = set(d.get("error", "") for d in deferrals(w))
    check(all(errs), "a deferral without an error: %r" % errs)
    ctx.note("sshd_kill: %d delivered before the kill, %d waiting; attempt "
             "gaps (s) %s; errors %s", len(delivered), len(waiting),
             [["%.1f" % g for g in gs] for gs in gaps_all],
             sorted(errs)[:3])

    # an operator restarts h2hd during the outage: it stops cleanly with
    # retries pending and picks them up again (stopped between attempts,
    # so that nothing is left in submitting for recovery to look at)
    wait_until(lambda: all(m["state"] == "deferred"
                           for m in w.queue(bank=bank.name)
                           if m["state"] not in ("submitted",
                                                 "acknowledged")),
               20, "every waiting message between two attempts", 0.02)
    t0 = time.time()
    rc = w.stop()
    check(rc == 0, "h2hd exit status %r on SIGTERM during the outage" % rc)
    ctx.note("sshd_kill: h2hd stopped in %.1f s during the outage and "
             "restarted", time.time() - t0)
    w.start()
    t_up = time.time()
    ctx.sshd.start()
    bank.wait_arrived(ids, 60)
    ctx.note("sshd_kill: all %d arrived %.1f s after sshd came back; "
             "partial temporaries at the kill: %r", len(ids),
             time.time() - t_up, sizes_at_kill)
    finish(ctx, w, bank, ids, what="sshd_kill: ")


def sc_cut(ctx):
    bank = ctx.bank("cut", proxy=True)
    w = ctx.world("sftp-cut", [(bank, dict(connect_timeout=4, op_timeout=4))])
    w.start()
    ids = [warm_up(ctx, w, bank, "CUT")]
    p = bank.proxy
    for label, nbytes, direction, rst, data_mb in (
            ("mid-transfer", 1000000, "up", True, 3),
            ("handshake", 200, "down", False, 0)):
        mid = new_msg_id("CUT" + label[0].upper(), 0)
        data = big_pain001(mid, data_mb) if data_mb else pain001(mid, 3)
        cuts0 = p.snapshot()["cuts"]
        p.cut_after(nbytes, direction, rst=rst)
        w.put(bank, "cut-%s.xml" % label, data)
        wait_until(lambda: p.snapshot()["cuts"] >= cuts0 + 2, 60,
                   "two cut connections (%s)" % label)
        mids = ids_of(w, bank)
        m = mids["cut-%s.xml" % label]
        wait_until(lambda: deferrals(w, m), 30, "a deferral (%s)" % label)
        check(bank.counts().get(mid, 0) == 0,
              "%s arrived through a connection cut %s" % (mid, label))
        w.check_alive("with connections cut")
        p.cut_after(None)
        t0 = time.time()
        bank.wait_arrived([mid], 60, "the payment after the cut (%s)" % label)
        d = deferrals(w, m)
        ctx.note("cut %s (%d bytes %s, %s): %d cuts, %d deferrals (%s), "
                 "arrived %.1f s after the fault was lifted", label, nbytes,
                 direction, "RST" if rst else "FIN",
                 p.snapshot()["cuts"] - cuts0, len(d), d[0].get("error"),
                 time.time() - t0)
        check(all(x.get("error") for x in d), "deferral without error")
        ids.append(mid)
    finish(ctx, w, bank, ids, what="cut: ")


def sc_delay(ctx):
    bank = ctx.bank("delay", proxy=True)
    w = ctx.world("sftp-delay", [(bank, dict(connect_timeout=8,
                                              op_timeout=4))])
    w.start()
    ids = [warm_up(ctx, w, bank, "DLY")]
    p = bank.proxy
    p.set_delay(100, "both")
    slow = [new_msg_id("DLY", 1), new_msg_id("DLY", 2)]
    t0 = time.time()
    w.put(bank, "dly-small.xml", pain001(slow[0], 2))
    w.put(bank, "dly-big.xml", big_pain001(slow[1], 0.5))
    bank.wait_arrived(slow, 120, "payments over the slow link")
    took = time.time() - t0
    p.set_delay(0, "both")
    ids += slow
    d = deferrals(w)
    ctx.note("delay: 2 payments over a 100 ms/chunk link in %.1f s, %d "
             "deferrals", took, len(d))
    check(took >= 0.5, "the delay had no effect (%.2f s)" % took)
    check(not d, "a slow link (progressing) was taken for a failure: %r" % d)
    finish(ctx, w, bank, ids, what="delay: ")


def sc_swallow(ctx):
    op_timeout = 3
    bank = ctx.bank("swallow", proxy=True)
    w = ctx.world("sftp-swallow", [(bank, dict(connect_timeout=3,
                                                op_timeout=op_timeout))])
    w.start()
    ids = [warm_up(ctx, w, bank, "SWL")]
    p = bank.proxy
    wait_until(lambda: p.active() >= 1, 10, "a live session to the bank")
    p.swallow(True, "both")
    mid = new_msg_id("SWL", 1)
    t_drop = w.put(bank, "swl.xml", pain001(mid, 2))
    # the daemon keeps answering while its bank hangs
    worst = 0.0
    deadline = time.time() + 2.5
    while time.time() < deadline:
        t = time.time()
        w.check_alive("while traffic is swallowed")
        worst = max(worst, time.time() - t)
        time.sleep(0.1)
    m = wait_until(lambda: ids_of(w, bank).get("swl.xml"), 10, "the message")
    first = wait_until(lambda: deferrals(w, m), 30,
                       "the first deferral (op_timeout)")
    waited = log_time(first[0]) - t_drop
    err = first[0].get("error", "")
    check(op_timeout - 0.5 <= waited <= op_timeout + 6,
          "first failure %.2f s after the drop, op_timeout is %d s" %
          (waited, op_timeout))
    check(re.search(r"time|no progress|no answer", err, re.I),
          "the timeout's error does not say so: %r" % err)
    wait_until(lambda: len(deferrals(w, m)) >= 2, 30, "a second deferral")
    check(bank.counts().get(mid, 0) == 0, "arrived through a swallow")
    check(worst < 1.0, "h2hctl status took %.2f s while a bank hung" % worst)
    p.swallow(False, "both")
    t0 = time.time()
    bank.wait_arrived([mid], 60, "the payment after the swallow")
    ctx.note("swallow: first failure %.2f s after the drop (op_timeout %d "
             "s): %r; %d deferrals; h2hctl status <= %.3f s meanwhile; "
             "arrived %.1f s after the link came back", waited, op_timeout,
             err, len(deferrals(w, m)), worst, time.time() - t0)
    ids.append(mid)
    finish(ctx, w, bank, ids, what="swallow: ")


def sc_auth(ctx):
    bank = ctx.bank("auth")
    wrong = keygen(os.path.join(ctx.base, "wrong_ed25519"))
    good = dict(connect_timeout=5, op_timeout=10)
    w = ctx.world("sftp-auth", [(bank, dict(good, key=wrong))])
    w.start()
    logins0 = ctx.sshd.accepted_logins()
    mid = new_msg_id("AUTH", 1)
    w.put(bank, "auth.xml", pain001(mid, 2))
    m = wait_until(lambda: ids_of(w, bank).get("auth.xml"), 20, "the message")
    failed = wait_until(lambda: w.events("payment.failed", msg=m), 30,
                        "payment.failed after the refused key")
    err = failed[0].get("error", "")
    check(re.search(r"auth", err, re.I),
          "the failure does not say authentication: %r" % err)
    time.sleep(2.5)  # no retry loop on a permanent failure
    show = w.show(m)
    check(show["message"]["state"] == "failed",
          "state %r after a refused key" % show["message"]["state"])
    n_att = len(attempts_times(w, m))
    check(n_att == 1, "a refused key was tried %d times" % n_att)
    check(bank.counts().get(mid, 0) == 0, "arrived with a refused key")
    check(ctx.sshd.accepted_logins() == logins0,
          "sshd accepted a login with the wrong key")
    health = w.bank_health(bank)["health"]
    check(health.startswith("degraded") and re.search("auth", health, re.I),
          "bank health %r" % health)
    ctx.note("auth: failed after %d attempt: %r; health %r", n_att, err,
             health)

    w.set_banks([(bank, good)])
    w.reload()
    w.ctl("retry", m)
    bank.wait_arrived([mid], 30, "the payment after the key was fixed")
    finish(ctx, w, bank, [mid], what="auth: ")


def sc_hostkey(ctx):
    bank = ctx.bank("hostkey")
    sshd = ctx.sshd
    presented = sshd.fingerprint()  # what the server shows
    other = keygen(os.path.join(ctx.base, "other_host_ed25519"))
    with open(other + ".pub") as f:
        typ, b64 = f.read().split()[:2]
    pinned_other = os.path.join(ctx.base, "known_hosts_other_ed25519")
    with open(pinned_other, "w") as f:
        f.write("[127.0.0.1]:%d %s %s\n" % (sshd.port, typ, b64))
    cases = (("changed ed25519 key", pinned_other),
             ("pinned ecdsa key", sshd.p("known_hosts_changed")))
    good = dict(connect_timeout=5, op_timeout=10)
    w = ctx.world("sftp-hostkey", [(bank, dict(good,
                                               known_hosts=cases[0][1]))])
    w.start()
    logins0 = sshd.accepted_logins()
    mid = new_msg_id("HKEY", 1)
    w.put(bank, "hostkey.xml", pain001(mid, 2))
    m = wait_until(lambda: ids_of(w, bank).get("hostkey.xml"), 20,
                   "the message")
    for i, (label, kh) in enumerate(cases):
        if i:
            w.set_banks([(bank, dict(good, known_hosts=kh))])
            w.reload()
            w.ctl("retry", m)
        failed = wait_until(
            lambda: w.events("payment.failed", msg=m)[i:], 30,
            "payment.failed for the %s" % label)
        err = failed[0].get("error", "")
        line = [l for l in w.log_events("payment.failed")
                if "msg=%s " % m in l][i]
        check(presented in line,
              "%s: the log line does not show the presented key %s: %s" %
              (label, presented, line))
        check(re.search(r"ssh-ed25519 " + re.escape(presented), err),
              "%s: no 'ssh-ed25519 %s' in %r" % (label, presented, err))
        check(re.search(r"host key", err, re.I),
              "%s: the error does not say host key: %r" % (label, err))
        time.sleep(1.5)
        check(w.show(m)["message"]["state"] == "failed",
              "%s: state %r" % (label, w.show(m)["message"]["state"]))
        check(bank.counts().get(mid, 0) == 0, "arrived despite the %s" %
              label)
        check(sshd.accepted_logins() == logins0,
              "%s: we authenticated to a server with an unpinned key" % label)
        ctx.note("hostkey %s: fails closed: %r (ssh-keygen -l: %s)", label,
                 err, presented)
    health = w.bank_health(bank)["health"]
    check(presented in health, "bank health %r lacks %s" % (health,
                                                            presented))
    w.set_banks([(bank, good)])
    w.reload()
    w.ctl("retry", m)
    finish(ctx, w, bank, [mid], what="hostkey: ")


def sc_lost_answer(ctx):
    """The bank renamed our upload into place, but its answer never came
    back (the connection dropped while the reply was on its way): the
    outcome is unknown.  The daemon must not resend blindly nor wait for a
    person: it asks the bank (recover), finds the file and moves on."""
    bank = ctx.bank("lost", proxy=True, archive=False)
    w = ctx.world("sftp-lost", [(bank, dict(connect_timeout=8,
                                             op_timeout=8))])
    w.start()
    ids = [warm_up(ctx, w, bank, "LOST")]
    p = bank.proxy
    before = set(n for n in os.listdir(bank.upload) if not n.startswith("."))
    # Every answer takes 400 ms through the proxy: time enough to see the
    # final name appear at the bank and drop the connection while the
    # rename's answer is still held back.
    p.set_delay(400, "down")
    # The back office sits on the file for now: no status report may
    # prove receipt before recover has had its say.
    bank.sim.settle_ms = 60000
    mid = new_msg_id("LOST", 1)
    w.put(bank, "lost.xml", pain001(mid, 3))
    deadline = time.time() + 60
    final = set()
    while time.time() < deadline and not final:
        final = set(n for n in os.listdir(bank.upload)
                    if not n.startswith(".")) - before
        time.sleep(0.0005)
    check(final, "the upload never reached its final name")
    p.kill_all()
    p.set_delay(0, "down")
    m = wait_until(lambda: ids_of(w, bank).get("lost.xml"), 10, "the message")
    unknown = wait_until(lambda: w.events("payment.outcome_unknown", msg=m),
                         30, "the unknown outcome logged")
    rec = wait_until(lambda: w.events("payment.recovered.delivered", msg=m),
                     30, "recover finding the file at the bank")
    bank.sim.settle_ms = 0
    bank.wait_arrived([mid], 10, "the payment")
    ids.append(mid)
    check(len(w.events("payment.submitting", msg=m)) == 1,
          "sent again although the bank had it: %r" %
          w.events("payment.submitting", msg=m))
    check(not w.events("payment.held", msg=m),
          "an answer recover could give waited for a person")
    ctx.note("lost_answer: rename answer lost (%s): %r; recover: %r",
             sorted(final)[0], unknown[0].get("error"),
             rec[0].get("detail") or rec[0].get("event"))
    finish(ctx, w, bank, ids, what="lost_answer: ")


def sc_rename(ctx):
    bank = ctx.bank("rename")
    # remote name = the MsgId, known before the drop
    conf = dict(connect_timeout=5, op_timeout=10,
                retry=dict(initial=300, max=1000, max_attempts=50,
                           max_age=3600),
                bank_extra='name_pattern = "{msgid}.xml";')
    w = ctx.world("sftp-rename", [(bank, conf)])
    w.start()
    ids = [warm_up(ctx, w, bank, "REN")]
    cases = (("dangling symlink", "RENS"), ("directory", "REND"),
             ("directory of our size", "RENZ"))
    for label, tag in cases:
        mid = new_msg_id(tag, 1)
        final = os.path.join(bank.upload, mid + ".xml")
        if label.startswith("directory"):
            os.mkdir(final)
        else:
            os.symlink(os.path.join(ctx.base, "nowhere", "x"), final)
        data = pain001(mid, 2)
        if label == "directory of our size":
            # a directory whose size equals our payload's: only its type
            # tells it from our own earlier upload
            data = pain001_rendering_to(mid, os.stat(final).st_size)
            if data is None:
                ctx.note("rename %s: skipped, no payload renders to %d "
                         "bytes on this file system", label,
                         os.stat(final).st_size)
                os.rmdir(final)
                continue
        fname = "%s.xml" % tag.lower()
        w.put(bank, fname, data)
        m = wait_until(lambda: ids_of(w, bank).get(fname), 20, "the message")

        def refused():
            f = w.events("payment.failed", msg=m)
            d = w.events("payment.deferred", msg=m)
            s = w.events("payment.submitted", msg=m)
            return f or s or (d if len(d) >= 2 else None)
        ev = wait_until(refused, 30, "the refusal (%s)" % label)
        err = ev[0].get("error", "")
        msg = w.show(m)["message"]
        state = msg["state"]
        if label == "directory of our size":
            ctx.note("rename %s: a %d-byte directory, our payload %s "
                     "bytes: state %s", label, os.stat(final).st_size,
                     os.path.getsize(msg["rendered"])
                     if msg.get("rendered") else "?", state)
        check(state not in ("submitted", "acknowledged"),
              "%s: h2hd took the message as delivered (%s) though nothing "
              "was: the bank's upload folder holds a %s under its name "
              "(%s)" % (label, state, label, ev[0]))
        check(state in ("failed", "deferred", "rendered", "submitting"),
              "%s: state %r" % (label, state))
        check(re.search(r"rename|exists|taken|%s" % re.escape(mid), err,
                        re.I), "%s: unclear error %r" % (label, err))
        check(bank.counts().get(mid, 0) == 0, "%s: arrived" % label)
        if os.path.islink(final):
            check(not os.path.exists(os.path.realpath(final)),
                  "the server followed the symlink")
        wait_until(lambda: not bank.temporaries(), 10,
                   "the temporary removed after the refusal (%r)" %
                   bank.temporaries())
        ctx.note("rename %s: %s after %d attempts: %r", label,
                 ev[0].get("event", state), len(attempts_times(w, m)), err)
        # the bank clears the name; a person retries when it failed
        if label.startswith("directory"):
            os.rmdir(final)
        else:
            os.unlink(final)
        if w.show(m)["message"]["state"] == "failed":
            w.ctl("retry", m)
        bank.wait_arrived([mid], 30, "the payment once the name is free")
        ids.append(mid)
    finish(ctx, w, bank, ids, what="rename: ")


def sc_disk_full(ctx):
    limit = 300000
    sshd = Sshd(os.path.join(ctx.base, "sshd-full")).start(fsize=limit)
    ctx.cleanup.add(sshd.stop)
    bank = SftpBank(sshd, "full")
    ctx.cleanup.add(bank.stop)
    w = ctx.world("sftp-full", [(bank, dict(
        connect_timeout=5, op_timeout=10,
        retry=dict(initial=300, max=1500, max_attempts=50, max_age=3600)))])
    w.start()
    mid = new_msg_id("FULL", 1)
    data = big_pain001(mid, 1)
    check(len(data) > 2 * limit, "payload too small for the test")
    w.put(bank, "full-big.xml", data)
    m = wait_until(lambda: ids_of(w, bank).get("full-big.xml"), 20,
                   "the message")
    wait_until(lambda: len(deferrals(w, m)) >= 2, 60,
               "two deferrals on the full disk")
    err = deferrals(w, m)[0].get("error", "")
    check(err, "no error on the full disk")
    check(not w.events("payment.failed", msg=m) and
          w.show(m)["message"]["state"] != "held",
          "a full disk is temporary: %r" % w.show(m)["message"])
    # a small payment still passes while the big one cannot
    small = new_msg_id("FULL", 2)
    w.put(bank, "full-small.xml", pain001(small, 2))
    bank.wait_arrived([small], 30, "a small payment on the full disk")
    check(bank.counts().get(mid, 0) == 0, "the big payment arrived")
    n_def = len(deferrals(w, m))
    ctx.note("disk_full: RLIMIT_FSIZE %d bytes, payload %d bytes: %d "
             "deferrals: %r; a small payment passed meanwhile", limit,
             len(data), n_def, err)
    sshd.restart()  # the disk is freed
    check(sshd.fsize is None, "")
    bank.wait_arrived([mid], 60, "the big payment after space was freed")
    finish(ctx, w, bank, [mid, small], what="disk_full: ")


SCENARIOS = [
    ("sshd_kill", sc_sshd_kill),
    ("cut", sc_cut),
    ("delay", sc_delay),
    ("swallow", sc_swallow),
    ("auth", sc_auth),
    ("hostkey", sc_hostkey),
    ("lost_answer", sc_lost_answer),
    ("rename", sc_rename),
    ("disk_full", sc_disk_full),
]


def main():
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    unknown = set(only) - set(n for n, _ in SCENARIOS)
    if unknown:
        fail("unknown scenarios %r" % sorted(unknown))
    ctx = Ctx()
    t_all = time.time()
    failed = []
    try:
        for name, fn in SCENARIOS:
            if only and name not in only:
                continue
            t0 = time.time()
            print("%s ..." % name, flush=True)
            try:
                fn(ctx)
                print("%s: ok (%.1f s)" % (name, time.time() - t0),
                      flush=True)
            except SystemExit:
                # one scenario's failure must not hide the others' results
                failed.append(name)
                print("--- %s FAILED after %.1f s; sshd log tail:" %
                      (name, time.time() - t0))
                print("\n".join(ctx.sshd.log_text().splitlines()[-10:]))
                for fn2 in ctx.cleanup.items:
                    w = getattr(fn2, "__self__", None)
                    if isinstance(w, SftpWorld):
                        print("--- h2hd log tail (%s):" % w.root)
                        print(w.tail(40))
                sys.stdout.flush()
            # the scenario's world and banks are done: free them now
            ctx.cleanup.run()
    finally:
        ctx.cleanup.run()
        ctx.sshd.stop()
        if not KEEP:
            shutil.rmtree(ctx.base, ignore_errors=True)
    print("sftp faults: %.1f s" % (time.time() - t_all))
    for line in ctx.figures:
        print("  " + line)
    if failed:
        fail("scenarios failed: %s" % " ".join(failed))
    print("sftp faults: all passed")


if __name__ == "__main__":
    main()
