#!/usr/bin/python3
"""A small TCP fault proxy for h2hd's tests (loopback only).

Listens on 127.0.0.1 (a free port unless one is given) and forwards every
connection to a loopback target. On demand it can:

  * cut a connection after N bytes in one direction ("up" = client to
    target, "down" = target to client) or counting both ("both");
  * delay every chunk (per direction);
  * swallow traffic: keep the connection open but read and drop what
    arrives instead of forwarding it;
  * stall: stop reading altogether, so TCP flow control pushes back;
  * refuse new connections, either by accepting and resetting them at once
    ("rst") or by closing the listening socket ("closed", the client sees
    ECONNREFUSED; the same port is bound again when refusing stops);
  * drop every open connection now (kill_all).

Settings apply at once, also to open connections. Counters are per
connection, from its first byte.

Bounded on purpose: the target must be a loopback address, it listens on
127.0.0.1 only, and it stops by itself after `lifetime` seconds (default
600).

Python:   p = FaultProxy(("127.0.0.1", 2222)).start(); p.port; p.stop()
CLI:      faultproxy.py --target 127.0.0.1:2222 [--port N] [--lifetime S]
          prints "LISTEN <port>" and reads commands from stdin
          (see tests/sims/README.md).
Stdlib only; Debian's /usr/bin/python3.
"""
import argparse
import ipaddress
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

DIRS = ("up", "down")


def _is_loopback(host):
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def _rst_close(s):
    """Close with a TCP reset rather than an orderly FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


class _Conn:
    def __init__(self, proxy, client, server, cid):
        self.proxy = proxy
        self.sock = {"up": (client, server), "down": (server, client)}
        self.client = client
        self.server = server
        self.id = cid
        self.bytes = {"up": 0, "down": 0}
        self.dead = threading.Event()
        self.eof = {"up": False, "down": False}
        self.cut_done = False
        self.lock = threading.Lock()

    def start(self):
        for d in DIRS:
            threading.Thread(target=self._pump, args=(d,), daemon=True,
                             name="faultproxy-%d-%s" % (self.id, d)).start()

    def kill(self, rst=True):
        with self.lock:
            if self.dead.is_set():
                return
            self.dead.set()
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            if rst:
                _rst_close(s)
            else:
                s.close()
        self.proxy._forget(self)

    def _reserve(self, d, n):
        """How many of n bytes may go in direction d, and whether the
        connection is cut after them. Counted before sending, under the
        lock, so the two pumps cannot both spend the same budget."""
        p = self.proxy
        with p.lock:
            limit, cd = p._cut_after, p._cut_dir
            budget = None
            if limit is not None:
                if cd == "both":
                    budget = limit - self.bytes["up"] - self.bytes["down"]
                elif cd == d:
                    budget = limit - self.bytes[d]
            cut = budget is not None and n >= budget
            if self.cut_done:
                return 0, True
            if cut:
                n = max(budget, 0)
                self.cut_done = True
                p.stats["cuts"] += 1
            self.bytes[d] += n
            p.stats["bytes_" + d] += n
        return n, cut

    def _pump(self, d):
        src, dst = self.sock[d]
        p = self.proxy
        try:
            while not self.dead.is_set() and not p._stopping.is_set():
                with p.lock:
                    stall = d in p._stall
                if stall:
                    time.sleep(0.02)
                    continue
                r, _, _ = select.select([src], [], [], 0.05)
                if not r:
                    continue
                with p.lock:
                    # stall may have been set while we waited in select
                    if d in p._stall:
                        continue
                try:
                    chunk = src.recv(65536)
                except OSError:
                    break
                if not chunk:
                    self.eof[d] = True
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    if all(self.eof.values()):
                        self.kill(rst=False)
                    return
                with p.lock:
                    delay = p._delay.get(d, 0.0)
                    swallow = d in p._swallow
                if delay:
                    time.sleep(delay)
                if swallow:
                    with p.lock:
                        p.stats["swallowed_" + d] += len(chunk)
                    continue
                n, cut = self._reserve(d, len(chunk))
                if n:
                    dst.sendall(chunk[:n])
                if cut:
                    self.kill(rst=p._cut_rst)
                    return
        except (OSError, ValueError):
            # ValueError: the other pump closed the socket under select()
            pass
        self.kill(rst=True)


class FaultProxy:
    """Thread-based TCP proxy with fault knobs. All setters are live."""

    def __init__(self, target, port=0, lifetime=600.0, log=None):
        host, tport = target
        if not _is_loopback(host):
            raise ValueError("faultproxy only forwards to loopback, not %r"
                             % host)
        self.target = (host, int(tport))
        self.port = int(port)
        self.lifetime = lifetime
        self.log = log or (lambda msg: None)
        self.lock = threading.RLock()
        self._cut_after = None
        self._cut_dir = "both"
        self._cut_rst = True
        self._delay = {}
        self._swallow = set()
        self._stall = set()
        self._refuse = None
        self._conns = set()
        self._next_id = 0
        self._lsock = None
        self._stopping = threading.Event()
        self._accept_thread = None
        self._timer = None
        self.stats = {"accepted": 0, "refused": 0, "cuts": 0,
                      "connect_failed": 0, "bytes_up": 0, "bytes_down": 0,
                      "swallowed_up": 0, "swallowed_down": 0}

    # -- life cycle --------------------------------------------------------

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self._lsock = s

    def _start_listener(self):
        self._listen()
        t = threading.Thread(target=self._accept_loop, args=(self._lsock,),
                             daemon=True, name="faultproxy-accept")
        self._accept_thread = t
        t.start()

    def _stop_listener(self):
        # the accept thread owns the socket and closes it itself: closing
        # it under a select() in another thread could hand the descriptor
        # number to the next listener
        with self.lock:
            self._lsock = None
            t = self._accept_thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5)

    def start(self):
        self._start_listener()
        if self.lifetime:
            self._timer = threading.Timer(self.lifetime, self._expire)
            self._timer.daemon = True
            self._timer.start()
        self.log("listening on 127.0.0.1:%d -> %s:%d" %
                 ((self.port,) + self.target))
        return self

    def _expire(self):
        self.log("lifetime of %ss over, stopping" % self.lifetime)
        self.stop()

    def stop(self):
        """Close the listener and every connection. Idempotent."""
        self._stopping.set()
        if self._timer:
            self._timer.cancel()
        self._stop_listener()
        self.kill_all()

    @property
    def stopped(self):
        return self._stopping.is_set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def address(self):
        return ("127.0.0.1", self.port)

    # -- knobs -------------------------------------------------------------

    def cut_after(self, nbytes, direction="both", rst=True):
        """Cut each connection once nbytes have gone through in direction
        ('up', 'down' or 'both' counted together); None turns it off.
        rst=False closes with FIN instead of a reset."""
        if direction not in ("up", "down", "both"):
            raise ValueError("direction must be up, down or both")
        with self.lock:
            self._cut_after = None if nbytes is None else int(nbytes)
            self._cut_dir = direction
            self._cut_rst = rst

    def set_delay(self, ms, direction="both"):
        """Sleep ms before forwarding each chunk (0 turns it off)."""
        with self.lock:
            for d in self._dirs(direction):
                self._delay[d] = ms / 1000.0

    def swallow(self, on=True, direction="both"):
        """Read and drop traffic instead of forwarding; stays connected."""
        with self.lock:
            for d in self._dirs(direction):
                (self._swallow.add if on else self._swallow.discard)(d)

    def stall(self, on=True, direction="both"):
        """Stop reading (the sender's window fills up); stays connected."""
        with self.lock:
            for d in self._dirs(direction):
                (self._stall.add if on else self._stall.discard)(d)

    def refuse(self, on=True, how="rst"):
        """Refuse new connections: 'rst' accepts and resets at once,
        'closed' closes the listening socket (ECONNREFUSED)."""
        if how not in ("rst", "closed"):
            raise ValueError("how must be rst or closed")
        with self.lock:
            self._refuse = how if on else None
            listening = self._lsock is not None
        if on and how == "closed" and listening:
            self._stop_listener()
        elif not (on and how == "closed") and not listening \
                and not self.stopped and self._accept_thread is not None:
            self._start_listener()

    def reset(self):
        """Back to a plain proxy (does not touch open connections)."""
        self.cut_after(None)
        with self.lock:
            self._delay.clear()
            self._swallow.clear()
            self._stall.clear()
        self.refuse(False)

    def kill_all(self, rst=True):
        """Drop every open connection now."""
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            c.kill(rst=rst)

    def active(self):
        with self.lock:
            return len(self._conns)

    def snapshot(self):
        with self.lock:
            d = dict(self.stats)
            d["active"] = len(self._conns)
            d["port"] = self.port
        return d

    @staticmethod
    def _dirs(direction):
        if direction == "both":
            return DIRS
        if direction not in DIRS:
            raise ValueError("direction must be up, down or both")
        return (direction,)

    # -- internals ---------------------------------------------------------

    def _forget(self, conn):
        with self.lock:
            self._conns.discard(conn)

    def _accept_loop(self, ls):
        try:
            self._accept_until_closed(ls)
        finally:
            ls.close()

    def _accept_until_closed(self, ls):
        while not self._stopping.is_set():
            with self.lock:
                if self._lsock is not ls:
                    return
            r, _, _ = select.select([ls], [], [], 0.1)
            if not r:
                continue
            with self.lock:
                if self._lsock is not ls:
                    return
            try:
                client, _ = ls.accept()
            except OSError:
                return
            with self.lock:
                refuse = self._refuse
            if refuse or self._stopping.is_set():
                with self.lock:
                    self.stats["refused"] += 1
                _rst_close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError as e:
                with self.lock:
                    self.stats["connect_failed"] += 1
                self.log("target connect failed: %s" % e)
                _rst_close(client)
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self._next_id += 1
                conn = _Conn(self, client, server, self._next_id)
                self._conns.add(conn)
                self.stats["accepted"] += 1
            conn.start()


# --------------------------------------------------------------------------
# CLI: commands on stdin, one per line, answered with "OK ..." or "ERR ...":
#   cut N [up|down|both] [fin]   cut off   delay MS [dir]   swallow on|off [dir]
#   stall on|off [dir]   refuse on|off [rst|closed]   kill   reset   stats
#   quit

def _command(p, words):
    c = words[0]
    a = words[1:]
    if c == "cut":
        if a and a[0] == "off":
            p.cut_after(None)
        else:
            p.cut_after(int(a[0]), a[1] if len(a) > 1 else "both",
                        rst=not (len(a) > 2 and a[2] == "fin"))
    elif c == "delay":
        p.set_delay(int(a[0]), a[1] if len(a) > 1 else "both")
    elif c in ("swallow", "stall"):
        getattr(p, c)(a[0] == "on", a[1] if len(a) > 1 else "both")
    elif c == "refuse":
        p.refuse(a[0] == "on", a[1] if len(a) > 1 else "rst")
    elif c == "kill":
        p.kill_all()
    elif c == "reset":
        p.reset()
    elif c == "stats":
        return " ".join("%s=%s" % kv for kv in sorted(p.snapshot().items()))
    elif c == "quit":
        p.stop()
    else:
        raise ValueError("unknown command %r" % c)
    return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description="loopback tcp fault proxy")
    ap.add_argument("--target", required=True, help="HOST:PORT (loopback)")
    ap.add_argument("--port", type=int, default=0, help="listen port")
    ap.add_argument("--lifetime", type=float, default=600.0,
                    help="stop after this many seconds (default 600)")
    ap.add_argument("--port-file", help="write the listen port here")
    ap.add_argument("--cut-after", type=int)
    ap.add_argument("--cut-dir", default="both", choices=("up", "down",
                                                          "both"))
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--swallow", choices=("up", "down", "both"))
    ap.add_argument("--refuse", choices=("rst", "closed"))
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)
    host, _, port = a.target.rpartition(":")
    log = (lambda m: None) if a.quiet else \
        (lambda m: print("faultproxy: " + m, file=sys.stderr, flush=True))
    try:
        p = FaultProxy((host.strip("[]"), int(port)), a.port, a.lifetime,
                       log)
    except ValueError as e:
        print("faultproxy: %s" % e, file=sys.stderr)
        return 2
    if a.cut_after is not None:
        p.cut_after(a.cut_after, a.cut_dir)
    if a.delay_ms:
        p.set_delay(a.delay_ms)
    if a.swallow:
        p.swallow(True, a.swallow)
    p.start()
    if a.refuse:
        p.refuse(True, a.refuse)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % p.port)
        os.rename(a.port_file + ".tmp", a.port_file)
    print("LISTEN %d" % p.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: p.stop())
    signal.signal(signal.SIGINT, lambda *_: p.stop())
    # stdin commands; when stdin is closed or not a pipe, just wait
    stdin_open = True
    while not p.stopped:
        if not stdin_open:
            time.sleep(0.1)
            continue
        r, _, _ = select.select([sys.stdin], [], [], 0.1)
        if not r:
            continue
        line = sys.stdin.readline()
        if not line:
            stdin_open = False
            continue
        words = line.split()
        if not words:
            continue
        try:
            out = _command(p, words)
            print(("OK " + out).rstrip(), flush=True)
        except (ValueError, IndexError) as e:
            print("ERR %s" % e, flush=True)
    p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
