#!/usr/bin/python3
"""A small HTTPS server (or CONNECT proxy) for h2hd's HTTPS transport tests.

    tls_server.py --cert C --key K [--ca CA] [--require-client-cert]
                  [--tls12-only] [--log FILE] [--lifetime 600] [--port N]
    tls_server.py --proxy [--proxy-auth USER:PASS] [--log FILE] ...

Listens on 127.0.0.1 (a free port unless --port) and prints one line
"LISTEN <port>" on stdout once it accepts connections.  Stops on SIGTERM or
SIGINT, and by itself after --lifetime seconds (default 600), so a crashed
test never leaves it behind for long.  Python 3 standard library only.

HTTPS mode (HTTP/1.1, keep-alive, TLS 1.2 minimum; --tls12-only caps it at
1.2).  The TLS handshake runs in the connection's own thread, so a client
that never finishes one cannot block the others.  --ca makes the server
ask for a client certificate (verified against CA); --require-client-cert
refuses a handshake without one.  Endpoints:

    /slow?ms=N        read the request, wait N ms, then answer like the echo
    /status/N         answer with status N and a small JSON body
    /big?bytes=N      N bytes of body ("&chunked=1": chunked, no length)
    /close            read the request, then drop the connection unanswered
    /stats            the counters below as JSON
    anything else     echo: JSON {method, path, headers [[name, value]...],
                      body (text), body_len, body_sha256, conn, tls_version,
                      client_cert (the client certificate's subject CN or
                      null), inflight}

Proxy mode (--proxy): a plain-TCP forward proxy that only does CONNECT to
127.0.0.1 / localhost / ::1 targets (anything else: 403) and pipes bytes
both ways.  With --proxy-auth it wants Basic credentials (else 407).

Log (--log FILE, JSON lines, appended and flushed per line; "t" is
time.time()):

    {"event": "conn", "conn": N, "t": ..., "peer": "127.0.0.1:P"}
    {"event": "tls_fail", "conn": N, "t": ..., "error": "..."}
    {"event": "req", "conn": N, "method": "GET", "path": "/x", "t0": ...,
     "t1": ..., "inflight": K, "body_len": L, "client_cert": CN|null}
    {"event": "connect", "conn": N, "target": "127.0.0.1:P", "auth": bool,
     "status": 200}                                   (proxy mode)

"conn" counts accepted TCP connections from 1, so a test can prove that
several requests shared one connection; "inflight" is how many requests
(including this one) the server was handling when this one arrived, and
t0/t1 bracket it, so a test can prove a concurrency limit from outside.
"""
import argparse
import base64
import hashlib
import http.server
import json
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

LOCAL_TARGETS = ("127.0.0.1", "localhost", "::1", "[::1]")


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


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.conns = 0
        self.requests = 0
        self.inflight = 0
        self.max_inflight = 0
        self.tls_failures = 0

    def new_conn(self):
        with self.lock:
            self.conns += 1
            return self.conns

    def begin(self):
        with self.lock:
            self.requests += 1
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
            return self.inflight

    def end(self):
        with self.lock:
            self.inflight -= 1

    def snapshot(self):
        with self.lock:
            return {"conns": self.conns, "requests": self.requests,
                    "inflight": self.inflight,
                    "max_inflight": self.max_inflight,
                    "tls_failures": self.tls_failures}


# The connection id of the connection a handler thread serves.
_tls = threading.local()


def _client_cn(sock):
    try:
        cert = sock.getpeercert()
    except (ValueError, OSError, AttributeError):  # shut down already
        return None
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connection reuse is tested
    server_version = "h2h-tls-test/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n",
                                                           b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline(1024)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype="application/json", chunked=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test-Conn", str(_tls.conn))
        self.end_headers()
        if self.command == "HEAD":
            return
        if chunked:
            step = 16384
            for i in range(0, len(body), step):
                part = body[i:i + step]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def _handle(self):
        t0 = time.time()
        inflight = self.server.stats.begin()
        body = b""
        status = None
        cn = _client_cn(self.connection)
        try:
            body = self._read_body()
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            if url.path == "/close":
                # drop without answering: no close_notify, just gone
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                status = 0
                return
            if url.path == "/slow":
                time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            if url.path.startswith("/status/"):
                status = int(url.path.split("/")[2])
                self._send(status, json.dumps({"status": status}).encode())
                return
            if url.path == "/big":
                n = int(q.get("bytes", ["0"])[0])
                status = 200
                self._send(200, (b"0123456789abcdef" * (n // 16 + 1))[:n],
                           "application/octet-stream",
                           chunked=q.get("chunked", ["0"])[0] == "1")
                return
            if url.path == "/stats":
                status = 200
                self._send(200, json.dumps(self.server.stats.snapshot())
                           .encode())
                return
            status = 200
            self._send(200, json.dumps({
                "method": self.command, "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
                "body_len": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "conn": _tls.conn, "inflight": inflight,
                "tls_version": self.connection.version(),
                "client_cert": cn,
            }).encode())
        finally:
            self.server.stats.end()
            self.server.log.write(
                event="req", conn=_tls.conn, method=self.command,
                path=self.path, t0=t0, t1=time.time(), inflight=inflight,
                body_len=len(body), status=status, client_cert=cn)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
    do_OPTIONS = _handle


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, ctx, log):
        self.ctx = ctx
        self.log = log
        self.stats = Stats()
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # Runs in the connection's thread: handshake here, not in accept().
        _tls.conn = self.stats.new_conn()
        self.log.write(event="conn", conn=_tls.conn, t=time.time(),
                       peer="%s:%d" % client_address[:2])
        request.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.stats.lock:
                self.stats.tls_failures += 1
            self.log.write(event="tls_fail", conn=_tls.conn, t=time.time(),
                           error=str(e))
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # a client that went away is not news in a test server


class ProxyHandler(socketserver.BaseRequestHandler):
    def _reply(self, status, reason, extra=""):
        self.request.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\n"
                              "\r\n" % (status, reason, extra)).encode())

    def _head(self, buf):
        """One request head from the socket: (request line, headers, bytes
        after the head) or None.  recv, no buffered reader: whatever
        follows the head belongs to the tunnel (or the next request)."""
        while b"\r\n\r\n" not in buf:
            data = self.request.recv(4096)
            if not data or len(buf) > 65536:
                return None
            buf += data
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for h in lines[1:]:
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        return lines[0].strip(), headers, rest

    def handle(self):
        srv = self.server
        conn = srv.stats.new_conn()
        self.request.settimeout(30)
        rest = b""
        while True:  # a 407 keeps the connection, as real proxies do
            got = self._head(rest)
            if got is None:
                return
            line, headers, rest = got
            parts = line.split()
            target = parts[1] if len(parts) == 3 else ""
            authed = False
            if srv.auth:
                want = "Basic " + base64.b64encode(srv.auth.encode()).decode()
                authed = headers.get("proxy-authorization") == want
            status = 200
            if len(parts) != 3 or parts[0] != "CONNECT":
                status = 405
            elif srv.auth and not authed:
                status = 407
            host, _, port = target.rpartition(":")
            if status == 200 and (host not in LOCAL_TARGETS or
                                  not port.isdigit()):
                status = 403
            srv.log.write(event="connect", conn=conn, t=time.time(),
                          target=target, auth=authed, status=status)
            if status == 407:
                self._reply(407, "Proxy Authentication Required",
                            'Proxy-Authenticate: Basic realm="h2h"\r\n')
                continue
            break
        if status == 405:
            return self._reply(405, "Method Not Allowed",
                               "Connection: close\r\n")
        if status == 403:
            return self._reply(403, "Forbidden", "Connection: close\r\n")
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), 10)
        except OSError:
            return self._reply(502, "Bad Gateway", "Connection: close\r\n")
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:  # sent right after the CONNECT, before our answer
            up.sendall(rest)
        self.request.settimeout(None)
        up.settimeout(None)
        socks = [self.request, up]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 60)
                if not r:
                    break
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is self.request else self.request).sendall(data)
        except OSError:
            pass
        finally:
            up.close()


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, log, auth):
        self.log = log
        self.auth = auth
        self.stats = Stats()
        super().__init__(addr, ProxyHandler)

    def handle_error(self, request, client_address):
        pass


def make_context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.tls12_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(a.cert, a.key)
    if a.ca:
        ctx.load_verify_locations(cafile=a.ca)
        ctx.verify_mode = (ssl.CERT_REQUIRED if a.require_client_cert
                           else ssl.CERT_OPTIONAL)
    elif a.require_client_cert:
        sys.exit("--require-client-cert needs --ca")
    return ctx


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--ca", help="CA for client certificates")
    ap.add_argument("--require-client-cert", action="store_true")
    ap.add_argument("--tls12-only", action="store_true")
    ap.add_argument("--proxy", action="store_true",
                    help="be a CONNECT proxy instead of an HTTPS server")
    ap.add_argument("--proxy-auth", metavar="USER:PASS")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args(argv)

    log = Log(a.log)
    addr = ("127.0.0.1", a.port)
    if a.proxy:
        srv = ProxyServer(addr, log, a.proxy_auth)
    else:
        if not a.cert or not a.key:
            ap.error("--cert and --key are needed (or --proxy)")
        srv = TLSServer(addr, make_context(a), log)

    def stop(*_):
        # shutdown() waits for serve_forever(), which runs in this thread:
        # ask from another one.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    t = threading.Timer(a.lifetime, stop)
    t.daemon = True
    t.start()
    print("LISTEN %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
