#!/usr/bin/python3
"""Test double for keyfleet's central API (SPEC.md section 3).

Serves users' records from a data directory and can be told to misbehave at
run time through small control files, so shell tests drive it by writing a
file rather than restarting it.

Usage:
  server.py --data-dir DIR [--cert PEM --key PEM] [--client-ca PEM] [--http]
            [--bind ADDR] [--port N] [--port-file FILE] [--pid-file FILE]
            [--verbose]

Routes (a query string is ignored):
  GET .../users/NAME   NAME is percent-decoded; the body is DIR/NAME.jws
                       (application/jose), else DIR/NAME.json
                       (application/json), else DIR/NAME.keys (text/plain).
  GET .../FILE         any path whose last segment names a file in DIR is
                       served as that file, typed by extension, the way a
                       static host or CDN would serve /static/alice.jws or
                       GitHub-style /alice.keys.
  anything else        404 with a small JSON error body.
A 200 carries a strong ETag, '"' + sha256(body)[:16 hex] + '"'; a request
whose If-None-Match matches it gets 304 with no body.

Control files, re-read on every request:
  DIR/_mode, DIR/NAME.mode   one word and an optional argument; the per-user
                             file wins. NAME is the requested user, or for a
                             static path the file name without its extension.
      normal            the default
      status N          reply with HTTP status N and a short JSON body
      slow SECONDS      sleep, then answer normally
      drip [SECONDS]    correct Content-Length, then the body one byte per
                        SECONDS (default 1)
      driphead [SECONDS] the status line and headers one byte per SECONDS
                        (default 1), then the body
      hang              read the request, never answer; the socket is held
                        until the client goes away, at most 120 s
      oversized BYTES   200, a JSON record padded to BYTES bytes, streamed
      garbage [BYTES]   200, application/json, random bytes that are not JSON
      nul               the normal body with a NUL byte in the middle
      redirect URL      302 to URL
      wrongtype         the normal body as text/html
      close             read the request, then close without any response
      flaky             500 and normal in turn, counted per NAME (first 500)
  DIR/_latency_ms            integer milliseconds added before every request

Written for the tests to inspect:
  DIR/_requests.log          one tab-separated line per request:
      time METHOD PATH If-None-Match Authorization(yes/no) Keyfleet-Host
      User-Agent STATUS
    absent headers are "-"; STATUS is "-" for hang and close. The line is
    written when the status is decided, before any body is sent, so it is
    already there when the client returns, even after a client timeout.
  DIR/_last_headers.json     all request headers of the latest request, as a
                             JSON object (header names as the client sent
                             them), replaced atomically.

The port file and pid file are written atomically and removed on a clean exit
(SIGTERM or SIGINT). Nothing is printed unless something goes wrong, or with
--verbose (access log on stderr).
"""

import argparse
import hashlib
import http.server
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

HANDSHAKE_TIMEOUT = 10      # seconds a client gets to complete the TLS handshake
HANG_LIMIT = 120            # seconds "hang" holds a connection at most
IDLE_TIMEOUT = HANG_LIMIT + 10  # keep-alive idle limit per connection

USER_EXTENSIONS = ((".jws", "application/jose"),
                   (".json", "application/json"),
                   (".keys", "text/plain"))
STATIC_TYPES = dict(USER_EXTENSIONS, **{".txt": "text/plain",
                                         ".pub": "text/plain",
                                         ".html": "text/html"})

CONTROL_FILES = {"_mode", "_latency_ms", "_requests.log", "_last_headers.json"}

# The errors a client produces by going away or speaking garbage. They are
# part of the tests, not faults of the server, so they are never reported.
CLIENT_GONE = (ConnectionError, TimeoutError, ssl.SSLError)


def etag_of(body):
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def is_control_file(name):
    """Control and scratch files are never served as static content."""
    return (name in CONTROL_FILES or name.endswith(".mode")
            or name.endswith(".tmp"))


def write_atomically(path, text):
    # The temporary name is unique per process and thread, because handler
    # threads rewrite _last_headers.json concurrently.
    tmp = "%s.%d.%d.tmp" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def log_field(value):
    """A header value fit for one tab-separated log field."""
    if value is None or value == "":
        return "-"
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class BadControlFile(Exception):
    """A control file the server cannot make sense of: a fault of the test."""


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so that Content-Length and keep-alive behave as with a real
    # API server; every response below sets Content-Length.
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    def version_string(self):
        return "keyfleet-test-api"

    # --- logging ---------------------------------------------------------

    def log_message(self, fmt, *args):
        # Access log and protocol errors (timeouts, malformed requests) are
        # the client's doing; show them only on request.
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        # BaseHTTPRequestHandler calls this from send_response(), which is
        # exactly when the status is decided: before any body goes out.
        self.server.log_request_line(self, code)
        if self.server.verbose:
            super().log_request(code, size)

    def parse_request(self):
        self.arrived = time.time()
        return super().parse_request()

    # --- request handling ------------------------------------------------

    def do_GET(self):
        try:
            self.record_headers()
            self.server.sleep_latency()
            self.dispatch()
        except CLIENT_GONE:
            self.close_connection = True
        except BadControlFile as e:
            sys.stderr.write("server.py: %s\n" % e)
            self.send_json(500, {"error": "test server: %s" % e})

    def record_headers(self):
        headers = {name: value for name, value in self.headers.items()}
        write_atomically(self.server.path("_last_headers.json"),
                         json.dumps(headers, indent=1, sort_keys=True) + "\n")

    def resolve(self):
        """Map the request path to (name, body, content_type).

        body is None when there is nothing to serve; name is still set so
        that per-user mode files apply to unknown users too.
        """
        path = self.path.split("?", 1)[0]
        segments = path.split("/")
        # Decode only after splitting, so "%2F" cannot smuggle in a slash.
        last = os.fsdecode(urllib.parse.unquote_to_bytes(segments[-1]))
        if "/" in last or "\0" in last or last in ("", ".", ".."):
            return None, None, None

        if len(segments) >= 3 and segments[-2] == "users":
            # The static lookup below still applies when these miss, so
            # /users/alice.jws serves the file alice.jws.
            for ext, ctype in USER_EXTENSIONS:
                body = self.server.read_data(last + ext)
                if body is not None:
                    return last, body, ctype

        # "alice.jws" is user alice's file; "alice.smith" is a user name.
        stem, ext = os.path.splitext(last)
        name = stem if ext in STATIC_TYPES else last
        if not is_control_file(last):
            body = self.server.read_data(last)
            if body is not None:
                ctype = STATIC_TYPES.get(ext, "application/octet-stream")
                return name, body, ctype
        return name, None, None

    def dispatch(self):
        name, body, ctype = self.resolve()
        word, arg = self.server.read_mode(name)

        if word == "normal":
            self.send_record(body, ctype)
        elif word == "status":
            code = parse_number(int, word, arg)
            self.send_json(code, {"error": "injected status %d" % code})
        elif word == "slow":
            time.sleep(parse_number(float, word, arg))
            self.send_record(body, ctype)
        elif word == "drip":
            delay = parse_number(float, word, arg) if arg else 1.0
            self.send_record(body, ctype, drip=delay)
        elif word == "driphead":
            delay = parse_number(float, word, arg) if arg else 1.0
            self.server.log_request_line(self, "200")
            head = ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                    "Content-Length: %d\r\n\r\n" % (ctype, len(body)))
            for ch in head.encode("ascii"):
                self.wfile.write(bytes([ch]))
                self.wfile.flush()
                time.sleep(delay)
            self.wfile.write(body)
        elif word == "hang":
            self.server.log_request_line(self, "-")
            self.hold_until_client_leaves()
        elif word == "oversized":
            self.send_oversized(name or "", parse_number(int, word, arg))
        elif word == "garbage":
            size = parse_number(int, word, arg) if arg else 512
            # 0xff never occurs in UTF-8, so this can never parse as JSON.
            junk = b"\xff" + os.urandom(max(size - 1, 0))
            self.send_body(200, junk, "application/json")
        elif word == "nul":
            if body is not None:
                mid = len(body) // 2
                body = body[:mid] + b"\0" + body[mid:]
            self.send_record(body, ctype)
        elif word == "redirect":
            if not arg:
                raise BadControlFile("redirect needs a URL")
            self.send_body(302, b"redirected\n", "text/plain",
                           extra={"Location": arg})
        elif word == "wrongtype":
            self.send_record(body, "text/html")
        elif word == "close":
            self.server.log_request_line(self, "-")
            self.close_connection = True
        elif word == "flaky":
            if self.server.flaky_fails(name):
                self.send_json(500, {"error": "flaky: failing this time"})
            else:
                self.send_record(body, ctype)
        else:
            raise BadControlFile("unknown mode %r" % word)

    # --- responses -------------------------------------------------------

    def send_record(self, body, ctype, drip=None):
        """A normal answer: the body with its ETag, 304, or 404."""
        if body is None:
            self.send_json(404, {"error": "not found"})
            return
        tag = etag_of(body)
        if self.etag_matches(tag):
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_body(200, body, ctype, extra={"ETag": tag}, drip=drip)

    def etag_matches(self, tag):
        inm = self.headers.get("If-None-Match")
        if inm is None:
            return False
        candidates = [t.strip() for t in inm.split(",")]
        return tag in candidates or "*" in candidates

    def send_json(self, code, obj):
        # Statuses that may not carry a body get none.
        if code in (204, 304) or code < 200:
            self.send_response(code)
            if code >= 200:
                self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (json.dumps(obj) + "\n").encode()
        self.send_body(code, body, "application/json")

    def send_body(self, code, body, ctype, extra=None, drip=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if drip is None:
            self.wfile.write(body)
            return
        for i in range(len(body)):
            self.wfile.write(body[i:i + 1])
            time.sleep(drip)

    def send_oversized(self, name, size):
        # Valid JSON, a plausible record, padded to exactly `size` bytes
        # (or the bare record when `size` is smaller than that).
        head = ('{"user": %s, "active": true, "keys": [], "pad": "'
                % json.dumps(name)).encode()
        tail = b'"}'
        pad = max(size - len(head) - len(tail), 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(head) + pad + len(tail)))
        self.end_headers()
        self.wfile.write(head)
        chunk = b"x" * 65536
        while pad > 0:
            n = min(pad, len(chunk))
            self.wfile.write(chunk[:n])
            pad -= n
        self.wfile.write(tail)

    def hold_until_client_leaves(self):
        """Answer nothing; keep the socket open until the client closes it."""
        self.close_connection = True
        conn = self.connection
        deadline = time.monotonic() + HANG_LIMIT
        conn.settimeout(1.0)
        while time.monotonic() < deadline:
            try:
                if not conn.recv(4096):
                    return          # orderly close by the client
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                return              # reset, or TLS torn down


def parse_number(kind, word, arg):
    try:
        return kind(arg)
    except (TypeError, ValueError):
        raise BadControlFile("mode %r needs a number, got %r" % (word, arg))


class APIServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True       # a hanging client never delays shutdown
    allow_reuse_address = True

    def __init__(self, address, data_dir, ssl_context, verbose):
        self.data_dir = data_dir
        self.ssl_context = ssl_context
        self.verbose = verbose
        self.log_lock = threading.Lock()
        self.flaky_lock = threading.Lock()
        self.flaky_counts = {}
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def server_bind(self):
        # HTTPServer.server_bind() resolves the bind address with getfqdn(),
        # which can stall for seconds without working DNS; we never need it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        # TLS is set up here, in the connection's own thread, rather than by
        # wrapping the listening socket: that way a slow or failing handshake
        # (the wrong-CA tests) neither blocks accept() nor spews tracebacks.
        conn = request
        # As real servers do: without it Nagle holds TLS 1.3's second session
        # ticket (and a body after its headers) until the client's delayed
        # ACK, adding ~40 ms to every exchange on loopback.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            try:
                request.settimeout(HANDSHAKE_TIMEOUT)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError) as e:
                if self.verbose:
                    sys.stderr.write("%s - TLS handshake failed: %s\n"
                                     % (client_address[0], e))
                return
        try:
            Handler(conn, client_address, self)
        finally:
            if conn is not request:
                conn.close()

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, CLIENT_GONE):
            return
        super().handle_error(request, client_address)

    # --- data and control files ------------------------------------------

    def path(self, name):
        return os.path.join(self.data_dir, name)

    def read_data(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def read_control(self, name):
        try:
            with open(self.path(name), encoding="utf-8") as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def read_mode(self, name):
        """(word, argument or None) from NAME.mode, else _mode, else normal."""
        text = None
        if name:
            text = self.read_control(name + ".mode")
        if text is None:
            text = self.read_control("_mode")
        if not text:
            return "normal", None
        parts = text.split(None, 1)
        return parts[0].lower(), (parts[1] if len(parts) > 1 else None)

    def sleep_latency(self):
        text = self.read_control("_latency_ms")
        if text:
            ms = parse_number(float, "_latency_ms", text)
            time.sleep(ms / 1000.0)

    def flaky_fails(self, name):
        with self.flaky_lock:
            n = self.flaky_counts.get(name, 0)
            self.flaky_counts[name] = n + 1
        return n % 2 == 0

    def log_request_line(self, handler, status):
        # A request rejected while being parsed (400, 414) may lack any of
        # these attributes.
        headers = getattr(handler, "headers", None)
        get = headers.get if headers is not None else (lambda _k: None)
        fields = [
            "%.6f" % getattr(handler, "arrived", time.time()),
            log_field(getattr(handler, "command", None)),
            log_field(getattr(handler, "path", None)),
            log_field(get("If-None-Match")),
            "yes" if get("Authorization") is not None else "no",
            log_field(get("Keyfleet-Host")),
            log_field(get("User-Agent")),
            str(status),
        ]
        line = "\t".join(fields) + "\n"
        with self.log_lock:
            # Reopened each time, so a test may truncate or delete the log
            # between cases.
            with open(self.path("_requests.log"), "a", encoding="utf-8",
                      errors="backslashreplace") as f:
                f.write(line)
                f.flush()


def parse_args(argv):
    p = argparse.ArgumentParser(description="Test double for keyfleet's API.")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--cert", help="server certificate chain (PEM)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--client-ca", help="require client certificates from this CA")
    p.add_argument("--http", action="store_true", help="plain HTTP, no TLS")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--port-file", help="written with the port once listening")
    p.add_argument("--pid-file")
    p.add_argument("--verbose", action="store_true", help="access log on stderr")
    args = p.parse_args(argv)
    if not os.path.isdir(args.data_dir):
        p.error("--data-dir %s is not a directory" % args.data_dir)
    if args.http:
        if args.cert or args.key or args.client_ca:
            p.error("--http excludes --cert, --key and --client-ca")
    elif not (args.cert and args.key):
        p.error("TLS needs --cert and --key (or use --http)")
    return args


def make_ssl_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=args.client_ca)
    return ctx


def main(argv):
    args = parse_args(argv)
    ctx = None if args.http else make_ssl_context(args)
    server = APIServer((args.bind, args.port), os.path.abspath(args.data_dir),
                       ctx, args.verbose)

    # Leave serve_forever() by exception: calling shutdown() from a signal
    # handler would deadlock, as it waits for the loop in this same thread.
    def on_sigterm(_signum, _frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_sigterm)

    written = []
    try:
        if args.pid_file:
            write_atomically(args.pid_file, "%d\n" % os.getpid())
            written.append(args.pid_file)
        # The socket is already listening (bound and activated in the
        # constructor), so a client that sees the port file can connect.
        if args.port_file:
            write_atomically(args.port_file, "%d\n" % server.server_address[1])
            written.append(args.port_file)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        for path in written:
            try:
                os.unlink(path)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
