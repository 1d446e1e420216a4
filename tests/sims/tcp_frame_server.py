#!/usr/bin/python3
"""Length-prefixed TCP peers for the cnbank_xml framing tests
(tests/unit/test_cx_wire.c): one loopback port per behaviour.

    tcp_frame_server.py [--digits 8] [--log FILE] [--lifetime 120]
                        [--hold-ms 300] [--chunk 3] [--chunk-ms 20]

Prints "LISTEN <mode> <port>" for every mode below, then "READY".  A
request is framed as the adapter sends it (--digits ASCII decimal digits
giving the byte count, then the bytes); so are the answers of the modes
that answer.  Modes:

    echo        read the request, answer it with the same bytes
    hold        read, wait --hold-ms, answer like echo (concurrency, FIFO)
    slow        read, answer like echo in --chunk byte pieces, --chunk-ms
                apart (the prefix is split too)
    badprefix   read, answer with a prefix that is not all digits
    zero        read, answer with a zero length
    huge        read, answer with a prefix of 2000000 (over 1 MiB)
    short       read, answer a prefix 10 bytes longer than what follows,
                then close
    closeafter  read, close without answering
    reset       accept, then close at once with RST without reading
    silent      read, never answer (until the client closes or lifetime)
    stuck       never accepts, and its accept queue is kept full, so that
                a connect hangs until the client gives up

Log (--log, JSON lines, flushed per line): {"event": "accept", "mode",
"conn", "active"} and {"event": "req", "mode", "conn", "prefix", "len",
"body" (latin-1 text), "active"}.  "active" is the number of connections
of that mode being served; it is decremented before an answer goes out,
so a client that opens its next connection only after an answer cannot
make it look higher than it was.  Standard library only; stops on
SIGTERM / SIGINT or after --lifetime seconds.
"""
import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

MODES = ("echo", "hold", "slow", "badprefix", "zero", "huge", "short",
         "closeafter", "reset", "silent", "stuck")


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.lock = threading.Lock()

    def write(self, **rec):
        if not self.f:
            return
        line = json.dumps(rec, sort_keys=True)
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


class Server:
    def __init__(self, a):
        self.a = a
        self.log = Log(a.log)
        self.lock = threading.Lock()
        self.active = {m: 0 for m in MODES}
        self.conn = 0
        self.keep = []  # sockets that must stay open (stuck fillers)

    def _count(self, mode, d):
        with self.lock:
            self.active[mode] += d
            return self.active[mode]

    def _read(self, s, n):
        buf = b""
        while len(buf) < n:
            d = s.recv(n - len(buf))
            if not d:
                return None
            buf += d
        return buf

    def _frame(self, body):
        return b"%0*d" % (self.a.digits, len(body)) + body

    def handle(self, s, mode, conn):
        served = True
        try:
            if mode == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                return
            s.settimeout(10)
            prefix = self._read(s, self.a.digits)
            if prefix is None:
                return
            try:
                n = int(prefix)
            except ValueError:
                n = 0
            body = self._read(s, n) if n > 0 else b""
            if body is None:
                return
            self.log.write(event="req", mode=mode, conn=conn,
                           prefix=prefix.decode("latin-1"), len=len(body),
                           body=body.decode("latin-1"),
                           active=self.active[mode], t=time.time())
            d = self.a.digits
            if mode == "hold":
                time.sleep(self.a.hold_ms / 1000.0)
            served = False
            self._count(mode, -1)
            if mode in ("echo", "hold"):
                s.sendall(self._frame(body))
            elif mode == "slow":
                out = self._frame(body)
                for i in range(0, len(out), self.a.chunk):
                    s.sendall(out[i:i + self.a.chunk])
                    time.sleep(self.a.chunk_ms / 1000.0)
            elif mode == "badprefix":
                s.sendall((b"0000012x" * 2)[:d] + b"abcdefghijklmnop")
            elif mode == "zero":
                s.sendall(b"0" * d)
            elif mode == "huge":
                s.sendall(b"%0*d" % (d, 2000000) + b"x" * 100)
            elif mode == "short":
                s.sendall(b"%0*d" % (d, len(body) + 10) + body)
            elif mode == "closeafter":
                pass
            elif mode == "silent":
                s.settimeout(None)
                while s.recv(4096):
                    pass
        except OSError:
            pass
        finally:
            if served:
                self._count(mode, -1)
            try:
                s.close()
            except OSError:
                pass

    def accept_loop(self, ls, mode):
        while True:
            try:
                s, _ = ls.accept()
            except OSError:
                return
            with self.lock:
                self.conn += 1
                conn = self.conn
            active = self._count(mode, 1)
            self.log.write(event="accept", mode=mode, conn=conn,
                           active=active, t=time.time())
            threading.Thread(target=self.handle, args=(s, mode, conn),
                             daemon=True).start()

    def stuck(self):
        # Backlog 0 holds one finished handshake; with it never accepted,
        # Linux drops every further SYN, so a connect can only time out.
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(0)
        port = ls.getsockname()[1]
        self.keep.append(ls)
        for _ in range(3):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            self.keep.append(c)
            time.sleep(0.05)
        return port

    def start(self):
        ports = {}
        for mode in MODES:
            if mode == "stuck":
                ports[mode] = self.stuck()
                continue
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", 0))
            ls.listen(64)
            ports[mode] = ls.getsockname()[1]
            threading.Thread(target=self.accept_loop, args=(ls, mode),
                             daemon=True).start()
        return ports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--digits", type=int, default=8)
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--hold-ms", type=int, default=300)
    ap.add_argument("--chunk", type=int, default=3)
    ap.add_argument("--chunk-ms", type=int, default=20)
    a = ap.parse_args()
    if not 1 <= a.digits <= 10:
        print("--digits: 1..10", file=sys.stderr)
        return 2
    srv = Server(a)
    ports = srv.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for mode in MODES:
        print("LISTEN %s %d" % (mode, ports[mode]))
    print("READY", flush=True)
    stop.wait(a.lifetime)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
