#!/usr/bin/python3
"""A ready-to-use world for h2hd's openapi_json tests: certificates, the
client secret and a running bank_openapi.py simulator.

    openapi_world.py start DIR [--seed F] [--server S] [-- SIM-ARGS...]
        makes DIR/pki (tests/sims/pki.py's make_pki, plus a client signing
        certificate from its issue_leaf, which make_pki does not make),
        DIR/secret (mode 0600) and starts the simulator CLI on
        loopback with its state in DIR/state (lifetime 900 s unless
        SIM-ARGS say otherwise), serving pki's server certificate (S picks
        another one of pki's: wronghost, expired, untrusted); prints one
        JSON object on stdout with
        every path, the ports and the simulator's pid, then exits (the
        simulator keeps running, detached, its stderr in DIR/sim.stderr).
    openapi_world.py stop DIR
        stops the simulator started for DIR (by the pid in DIR/sim.pid,
        checked against its command line first).

    import openapi_world
    info = openapi_world.prepare(DIR)           # PKI + secret, no simulator
    info = openapi_world.start(DIR, ["--page-size", "2"])
    info = openapi_world.start(DIR, server="expired")  # TLS refusal tests
    openapi_world.stop(DIR)

The JSON (and the dict) holds: dir, ca, server, server_key, client,
client_key, client_cn, client_sign, client_sign_key, bank_sign,
bank_sign_key, secret_file, client_id, state, ca2 (a CA nobody trusts),
client2, client2_key (a TLS client certificate by ca2), wronghost,
expired, untrusted (and their _key: server certificates for
wrong.example, expired, and by ca2); from start also server_cert (the
certificate served), port, admin_port, pid, base_url.  Everything runs on Debian's /usr/bin/python3; keys are mode
0600.  Nothing is killed by name.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PY = "/usr/bin/python3"
SIM = os.path.join(HERE, "bank_openapi.py")
CLIENT_ID = "h2hd-openapi-test"
SECRET = "t0p-s3cret_value+with/odd=chars"


def _sign_leaf(man, name, cn):
    """A signing certificate issued by the test CA (made once)."""
    import pki
    e = man.get(name) or pki.issue_leaf(man, name, cn, days=30,
                                        purpose="sign")
    return e["cert"], e["key"]


def _cn(path):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    with open(path, "rb") as f:
        c = x509.load_pem_x509_certificate(f.read())
    return c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def prepare(d):
    """PKI and client secret in d (made once, reused afterwards)."""
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
    sign, sign_key = _sign_leaf(man, "client_sign", "h2hd request signing")
    secret = os.path.join(d, "secret")
    if not os.path.exists(secret):
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(SECRET + "\n")
    return {
        "dir": d,
        "ca": man["ca"]["cert"],
        "server": man["server"]["cert"], "server_key": man["server"]["key"],
        "client": man["client"]["cert"], "client_key": man["client"]["key"],
        "client_p12": man["client"]["p12"],
        "client_p12_pass": man["client"]["p12_pass_file"],
        "client_cn": _cn(man["client"]["cert"]),
        "client2": man["client2"]["cert"], "client2_key": man["client2"]["key"],
        "ca2": man["ca2"]["cert"],
        "wronghost": man["wronghost"]["cert"],
        "wronghost_key": man["wronghost"]["key"],
        "expired": man["expired"]["cert"],
        "expired_key": man["expired"]["key"],
        "untrusted": man["untrusted"]["cert"],
        "untrusted_key": man["untrusted"]["key"],
        "client_sign": sign, "client_sign_key": sign_key,
        "bank_sign": man["signer"]["cert"],
        "bank_sign_key": man["signer"]["key"],
        "secret_file": secret, "client_id": CLIENT_ID,
        "state": os.path.join(d, "state"),
    }


SERVERS = ("server", "wronghost", "expired", "untrusted")


def start(d, sim_args=(), seed=None, server="server"):
    """prepare(d), then start the simulator CLI detached, serving pki's
    certificate `server` (one of SERVERS); returns the info dict with
    server_cert, port, admin_port, pid and base_url."""
    if server not in SERVERS:
        raise ValueError("server must be one of %s" % (SERVERS,))
    info = prepare(d)
    args = [PY, SIM, "--cert", info[server], "--key", info[server + "_key"],
            "--ca", info["ca"], "--client-id", CLIENT_ID,
            "--client-secret-file", info["secret_file"],
            "--client-cn", info["client_cn"],
            "--client-sign-ca", info["ca"],
            "--sign-cert", info["bank_sign"],
            "--sign-key", info["bank_sign_key"], "--state", info["state"]]
    if seed:
        args += ["--seed", seed]
    sim_args = list(sim_args)
    if "--lifetime" not in sim_args:
        args += ["--lifetime", "900"]
    args += sim_args
    err = open(os.path.join(info["dir"], "sim.stderr"), "ab")
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
        with open(os.path.join(info["dir"], "sim.stderr"), "rb") as f:
            raise RuntimeError("simulator did not start: %r %r %s" % (
                l1, l2, f.read().decode("utf-8", "replace")[-2000:]))
    p.stdout.close()
    info.update(server_cert=info[server],
                port=int(m1.group(1)), admin_port=int(m2.group(1)),
                pid=p.pid, base_url="https://127.0.0.1:%s" % m1.group(1))
    with open(os.path.join(info["dir"], "sim.pid"), "w") as f:
        f.write("%d\n" % p.pid)
    return info


def _ours(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return SIM.encode() in f.read()
    except OSError:
        return False


def stop(d):
    pf = os.path.join(os.path.abspath(d), "sim.pid")
    try:
        with open(pf) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    if _ours(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _ours(pid):
                break
            time.sleep(0.05)
        if _ours(pid):
            os.kill(pid, signal.SIGKILL)
    os.unlink(pf)


def main(argv):
    if len(argv) >= 2 and argv[0] == "start":
        rest = argv[2:]
        seed, server = None, "server"
        while rest[:1] in (["--seed"], ["--server"]) and len(rest) >= 2:
            if rest[0] == "--seed":
                seed = rest[1]
            else:
                server = rest[1]
            rest = rest[2:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        info = start(argv[1], rest, seed, server)
        print(json.dumps(info, sort_keys=True), flush=True)
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        stop(argv[1])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
