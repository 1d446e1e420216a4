#!/usr/bin/python3
"""A ready-to-use world for h2hd's cnbank_xml tests: certificates and a
running bank_cn.py simulator (a Chinese direct-connect front end)
configured by one of the profiles in etc/cnbank/.

    cn_world.py start DIR PROFILE [--name N] [--server S] [--seed F]
                [-- SIM-ARGS...]
        makes DIR/pki once (tests/sims/pki.py's make_pki, plus, with its
        issue_leaf, our request signing certificate and a second bank
        signing certificate, which make_pki does not make) and starts the
        simulator CLI for PROFILE (a path, or "cmb" / "icbc" for the
        shipped profiles) on loopback, its state in DIR/<N>-state (N
        defaults to "sim"; several simulators can share one DIR), lifetime
        900 s unless SIM-ARGS say otherwise.  For an http profile it serves
        TLS with pki's server certificate (S picks another: wronghost,
        expired, untrusted) and asks for client certificates issued by the
        test CA; for a tcp profile it listens in plain text on 127.0.0.1.
        Prints one JSON object with every path, the ports and the pid,
        then exits (the simulator keeps running, detached, its stderr in
        DIR/<N>.stderr).
    cn_world.py stop DIR [--name N]
        stops that simulator (by the pid in DIR/<N>.pid, checked against
        its command line first).

    import cn_world
    info = cn_world.prepare(DIR)                       # PKI only
    info = cn_world.start(DIR, "cmb", ["--settle-ms", "300"])
    cn_world.stop(DIR)

The dict (and the JSON) holds: dir, ca, ca2, server, server_key,
wronghost(_key), expired(_key), untrusted(_key), client, client_key,
client2, client2_key (a TLS client certificate from a CA the bank does not
trust), client_sign, client_sign_key (our request signing certificate),
bank_sign, bank_sign_key (the bank's answer signing certificate: pin it as
h2hd's bank_cert), bank_sign2, bank_sign2_key (another signing
certificate by the same CA, for a wrong pin), login, user, accounts; and
from start: profile (absolute path), framing, name, state, arrivals (the
arrival log), server_cert (the one served; null for tcp), port,
admin_port, pid, host, url (https://127.0.0.1:PORT/ for http profiles,
else null).  Everything runs on Debian's /usr/bin/python3;
keys are mode 0600.  Nothing is killed by name.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

PY = "/usr/bin/python3"
SIM = os.path.join(HERE, "bank_cn.py")
PROFILES = {"cmb": os.path.join(REPO, "etc", "cnbank", "cmb-style.profile"),
            "icbc": os.path.join(REPO, "etc", "cnbank",
                                 "icbc-style.profile")}
LOGIN = "H2HCORP01"
ACCOUNTS = ["755912345610001"]
SERVERS = ("server", "wronghost", "expired", "untrusted")


def profile_path(profile):
    return os.path.abspath(PROFILES.get(profile, profile))


def framing_of(profile):
    """The profile's framing, read with the simulator's own parser."""
    import libconf
    return libconf.load(profile_path(profile))["framing"]


def _sign_leaf(man, name, cn):
    """A signing certificate issued by the test CA (made once)."""
    import pki
    e = man.get(name) or pki.issue_leaf(man, name, cn, days=30,
                                        purpose="sign")
    return e["cert"], e["key"]


def prepare(d):
    """The PKI in d/pki (made once, reused afterwards)."""
    d = os.path.abspath(d)
    os.makedirs(d, mode=0o700, exist_ok=True)
    pdir = os.path.join(d, "pki")
    man_file = os.path.join(pdir, "manifest.json")
    if os.path.exists(man_file):
        with open(man_file) as f:
            man = json.load(f)
    else:
        import pki
        man = pki.make_pki(pdir)
    ca = man["ca"]["cert"]
    sign, sign_key = _sign_leaf(man, "client_sign",
                                LOGIN + " request signing")
    bank2, bank2_key = _sign_leaf(man, "bank_sign2", "another bank signing")
    info = {"dir": d, "ca": ca, "ca2": man["ca2"]["cert"],
            "client": man["client"]["cert"],
            "client_key": man["client"]["key"],
            "client2": man["client2"]["cert"],
            "client2_key": man["client2"]["key"],
            "client_sign": sign, "client_sign_key": sign_key,
            "bank_sign": man["signer"]["cert"],
            "bank_sign_key": man["signer"]["key"],
            "bank_sign2": bank2, "bank_sign2_key": bank2_key,
            "login": LOGIN, "user": LOGIN, "accounts": list(ACCOUNTS)}
    for s in SERVERS:
        info[s] = man[s]["cert"]
        info[s + "_key"] = man[s]["key"]
    return info


def _files(d, name):
    return (os.path.join(d, name + ".pid"), os.path.join(d, name + ".stderr"),
            os.path.join(d, name + "-state"))


def start(d, profile, sim_args=(), seed=None, name="sim", server="server",
          login=LOGIN, accounts=None):
    """prepare(d), then start the simulator CLI for profile, detached;
    returns the info dict with port, admin_port, pid and url."""
    if server not in SERVERS:
        raise ValueError("server: one of %s" % ", ".join(SERVERS))
    info = prepare(d)
    d = info["dir"]
    accounts = list(accounts or ACCOUNTS)
    pidf, errf, state = _files(d, name)
    prof = profile_path(profile)
    framing = framing_of(prof)
    args = [PY, SIM, "--profile", prof, "--state", state, "--login", login,
            "--accounts"] + accounts + [
            "--sign-cert", info["bank_sign"],
            "--sign-key", info["bank_sign_key"],
            "--client-sign-ca", info["ca"]]
    if framing == "http":
        args += ["--cert", info[server], "--key", info[server + "_key"],
                 "--ca", info["ca"]]
    if seed:
        args += ["--seed", seed]
    sim_args = list(sim_args)
    if "--lifetime" not in sim_args:
        args += ["--lifetime", "900"]
    args += sim_args
    err = open(errf, "ab")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err,
                         stdin=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    err.close()
    l1, l2 = p.stdout.readline(), p.stdout.readline()
    m1 = re.fullmatch(r"LISTEN (\d+)\n", l1)
    m2 = re.fullmatch(r"ADMIN (\d+)\n", l2)
    if not (m1 and m2):
        p.kill()
        p.wait()
        with open(errf, "rb") as f:
            raise RuntimeError("simulator did not start: %r %r %s" % (
                l1, l2, f.read().decode("utf-8", "replace")[-2000:]))
    p.stdout.close()
    port = int(m1.group(1))
    info.update(profile=prof, framing=framing, name=name, state=state,
                arrivals=os.path.join(state, "arrivals.jsonl"),
                login=login, user=login, accounts=accounts,
                server_cert=info[server] if framing == "http" else None,
                port=port, admin_port=int(m2.group(1)), pid=p.pid,
                host="127.0.0.1",
                url="https://127.0.0.1:%d/" % port if framing == "http"
                else None)
    with open(pidf, "w") as f:
        f.write("%d\n" % p.pid)
    return info


def _ours(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return SIM.encode() in f.read()
    except OSError:
        return False


def stop(d, name="sim"):
    pidf = _files(os.path.abspath(d), name)[0]
    try:
        with open(pidf) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    if _ours(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in range(100):
            if not _ours(pid):
                break
            time.sleep(0.05)
        if _ours(pid):
            os.kill(pid, signal.SIGKILL)
    os.unlink(pidf)


def main(argv):
    if len(argv) >= 3 and argv[0] == "start":
        d, profile, rest = argv[1], argv[2], argv[3:]
        kw = {}
        while rest[:1] and rest[0] in ("--name", "--server", "--seed"):
            kw[rest[0][2:]] = rest[1]
            rest = rest[2:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        info = start(d, profile, rest, **kw)
        print(json.dumps(info, sort_keys=True), flush=True)
        return 0
    if len(argv) in (2, 4) and argv[0] == "stop":
        name = argv[3] if len(argv) == 4 and argv[2] == "--name" else "sim"
        stop(argv[1], name)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
