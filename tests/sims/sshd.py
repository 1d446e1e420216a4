#!/usr/bin/python3
"""Start and stop a throw-away OpenSSH sshd on loopback for h2hd's tests.

    sshd.py start DIR [--port N] [--password-auth]
    sshd.py stop DIR

`start` creates DIR if needed and writes into it:

    host_ed25519{,.pub}   the server's host key (ed25519)
    host_ecdsa{,.pub}     a second host key, NOT offered by the server: tests
                          use it to build a known_hosts with a "changed" key
    user_ed25519{,.pub}   client keys for the current user (no passphrase)
    user_ecdsa{,.pub}
    authorized_keys       both user public keys
    known_hosts           "[127.0.0.1]:PORT ssh-ed25519 ..." (the real key)
    known_hosts_changed   same host, the ecdsa key above (a changed key)
    sshd_config, sshd.pid, sshd.log (LogLevel VERBOSE), sftp/ (a folder)

then starts /usr/sbin/sshd in the background (it daemonises and writes
sshd.pid), waits until the port accepts connections and prints one
"key=value" line each for host, port, pid, user, dir, log, known_hosts,
host_key, user_key, user_key_ecdsa.  Exit status 0 on success.

The test user is whoever runs this.  As root (CI containers) sshd needs
its privilege separation directory /run/sshd, which is created when
missing, and the config allows root to log in with a key only
(PermitRootLogin prohibit-password).  As another user sshd runs without
privileges and can only log that user in.  No PAM, StrictModes off (the
temporary folders are not root-owned), only the internal sftp subsystem.

`stop` sends SIGTERM to the pid in DIR/sshd.pid and waits for it to go.
"""
import argparse
import os
import pwd
import signal
import socket
import subprocess
import sys
import time

SSHD = "/usr/sbin/sshd"
KEYGEN = "/usr/bin/ssh-keygen"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def keygen(path, ktype, bits=None):
    if os.path.exists(path):
        return
    cmd = [KEYGEN, "-q", "-t", ktype, "-N", "", "-C", "h2h-test", "-f", path]
    if bits:
        cmd[2:2] = ["-b", str(bits)]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    os.chmod(path, 0o600)


def pubkey(path):
    with open(path + ".pub") as f:
        return f.read().split()[:2]


def wait_port(port, pidfile, deadline):
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                # sshd creates the pid file before it writes the pid
                with open(pidfile) as f:
                    if f.read().strip().isdigit():
                        return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def start(args):
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(d, "sftp"), exist_ok=True)
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.getuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    p = lambda name: os.path.join(d, name)
    keygen(p("host_ed25519"), "ed25519")
    keygen(p("host_ecdsa"), "ecdsa", 256)
    keygen(p("user_ed25519"), "ed25519")
    keygen(p("user_ecdsa"), "ecdsa", 256)
    with open(p("authorized_keys"), "w") as f:
        for k in ("user_ed25519", "user_ecdsa"):
            f.write(" ".join(pubkey(p(k))) + "\n")
    os.chmod(p("authorized_keys"), 0o600)

    for attempt in range(5):
        port = args.port or free_port()
        hostpat = "[127.0.0.1]:%d" % port
        with open(p("known_hosts"), "w") as f:
            f.write("%s %s\n" % (hostpat, " ".join(pubkey(p("host_ed25519")))))
        with open(p("known_hosts_changed"), "w") as f:
            f.write("%s %s\n" % (hostpat, " ".join(pubkey(p("host_ecdsa")))))
        if os.path.exists(p("sshd.pid")):
            os.unlink(p("sshd.pid"))
        conf = [
            "ListenAddress 127.0.0.1:%d" % port,
            "HostKey %s" % p("host_ed25519"),
            "PidFile %s" % p("sshd.pid"),
            "AuthorizedKeysFile %s" % p("authorized_keys"),
            "StrictModes no",
            "UsePAM no",
            "PubkeyAuthentication yes",
            "PasswordAuthentication %s" % ("yes" if args.password_auth
                                           else "no"),
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "AllowUsers %s" % user,
            "Subsystem sftp internal-sftp -l VERBOSE",
            "LogLevel VERBOSE",
            "MaxStartups 100:30:200",
            "MaxSessions 50",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "PrintMotd no",
            "UseDNS no",
            "LoginGraceTime 30",
        ]
        with open(p("sshd_config"), "w") as f:
            f.write("\n".join(conf) + "\n")
        # sshd re-executes itself: it wants an absolute path.
        rc = subprocess.run([SSHD, "-f", p("sshd_config"), "-E", p("sshd.log")],
                            stdin=subprocess.DEVNULL).returncode
        if rc == 0 and wait_port(port, p("sshd.pid"), time.time() + 10):
            break
        stop_dir(d)
        if args.port:
            sys.stderr.write("sshd did not start, see %s\n" % p("sshd.log"))
            return 1
    else:
        sys.stderr.write("sshd did not start, see %s\n" % p("sshd.log"))
        return 1

    with open(p("sshd.pid")) as f:
        pid = int(f.read().strip())
    out = {
        "host": "127.0.0.1", "port": port, "pid": pid, "user": user,
        "dir": d, "log": p("sshd.log"), "known_hosts": p("known_hosts"),
        "host_key": p("host_ed25519"), "user_key": p("user_ed25519"),
        "user_key_ecdsa": p("user_ecdsa"),
    }
    for k, v in out.items():
        print("%s=%s" % (k, v))
    return 0


def stop_dir(d):
    pidfile = os.path.join(d, "sshd.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=("start", "stop"))
    ap.add_argument("dir")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--password-auth", action="store_true")
    args = ap.parse_args()
    if args.cmd == "start":
        return start(args)
    return stop_dir(os.path.abspath(args.dir))


if __name__ == "__main__":
    sys.exit(main())
