#!/usr/bin/python3
"""A DNS server for keyfleet's tests that can be told to misbehave.

It answers A and AAAA queries over UDP (and TCP, should a resolver retry
there) for the names in its zone file, and is told how to behave through a
control file re-read on every query, the way tests/api/server.py is.  Tests
point the C library at it by bind-mounting over /etc/resolv.conf, inside a
mount namespace, a file that names its address.

Usage:
  dns.py --bind ADDR [--port 53] --control FILE [--log FILE]
         [--pid-file FILE]

The control file:
  answer NAME=ADDR[,ADDR] ...   answer for these names (A for IPv4
                                addresses, AAAA for IPv6 ones); any other
                                name is NXDOMAIN.  The default, with no
                                names, knows none.
  silent                        read queries, never answer
  late SECONDS NAME=ADDR ...    answer as "answer" does, SECONDS late
  servfail                      answer every query SERVFAIL
  nxdomain                      answer every query NXDOMAIN
An absent or empty control file is "answer" with no names.

Every query is logged to --log as one line: time, query type, name, and
what was done (answered, silent, late, servfail, nxdomain).  SIGTERM ends
it; the pid file is written once it listens, and removed on exit.
"""

import argparse
import ipaddress
import os
import signal
import socket
import struct
import sys
import threading
import time

TYPE_A, TYPE_AAAA = 1, 28
TYPE_NAMES = {TYPE_A: "A", TYPE_AAAA: "AAAA"}
RCODE_SERVFAIL, RCODE_NXDOMAIN = 2, 3
TTL = 5


def read_control(path):
    """The mode, its delay, and the names it knows."""
    try:
        with open(path) as f:
            words = f.read().split()
    except FileNotFoundError:
        words = []
    mode = words[0] if words else "answer"
    delay = 0.0
    rest = words[1:]
    if mode == "late":
        delay = float(rest[0])
        rest = rest[1:]
    names = {}
    for word in rest:
        name, _, addrs = word.partition("=")
        names[name.lower().rstrip(".")] = [ipaddress.ip_address(a)
                                           for a in addrs.split(",") if a]
    return mode, delay, names


def parse_query(data):
    """(id, flags, question bytes, name, qtype) of a one-question query."""
    if len(data) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    labels, pos = [], 12
    while True:
        if pos >= len(data):
            return None
        n = data[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0 or pos + 1 + n > len(data):
            return None
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    if pos + 4 > len(data):
        return None
    qtype, _qclass = struct.unpack("!HH", data[pos:pos + 4])
    return qid, flags, data[12:pos + 4], ".".join(labels).lower(), qtype


def build_reply(query, rcode, addrs):
    qid, flags, question, _name, qtype = query
    answers = b""
    count = 0
    for a in addrs:
        if (qtype == TYPE_A and a.version == 4) or \
                (qtype == TYPE_AAAA and a.version == 6):
            rdata = a.packed
            # The name as a pointer to the question's (offset 12).
            answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, TTL,
                                   len(rdata)) + rdata
            count += 1
    # QR, the query's opcode and RD, RA; authoritative.
    rflags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
    return struct.pack("!HHHHHH", qid, rflags, 1, count, 0, 0) + \
        question + answers


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()

    def log(self, query, what):
        if not self.args.log:
            return
        line = "%.3f\t%s\t%s\t%s\n" % (time.time(),
                                       TYPE_NAMES.get(query[4], query[4]),
                                       query[3], what)
        with self.lock, open(self.args.log, "a") as f:
            f.write(line)

    def reply_for(self, data):
        """(reply bytes or None, delay) for one query."""
        query = parse_query(data)
        if query is None:
            return None, 0
        mode, delay, names = read_control(self.args.control)
        if mode == "silent":
            self.log(query, "silent")
            return None, 0
        if mode == "servfail":
            self.log(query, "servfail")
            return build_reply(query, RCODE_SERVFAIL, []), 0
        if mode == "nxdomain":
            self.log(query, "nxdomain")
            return build_reply(query, RCODE_NXDOMAIN, []), 0
        name = query[3]
        if name not in names:
            self.log(query, "nxdomain (unknown name)")
            return build_reply(query, RCODE_NXDOMAIN, []), delay
        self.log(query, "late %.1f s" % delay if delay else "answered")
        return build_reply(query, 0, names[name]), delay

    def serve_udp(self, sock):
        while True:
            data, peer = sock.recvfrom(4096)
            reply, delay = self.reply_for(data)
            if reply is None:
                continue
            if delay:
                threading.Timer(delay, sock.sendto, (reply, peer)).start()
            else:
                sock.sendto(reply, peer)

    def serve_tcp_client(self, conn):
        with conn:
            try:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                n = struct.unpack("!H", head)[0]
                data = b""
                while len(data) < n:
                    chunk = conn.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
                reply, delay = self.reply_for(data)
                if reply is None:
                    time.sleep(60)
                    return
                time.sleep(delay)
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                pass

    def serve_tcp(self, sock):
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=self.serve_tcp_client, args=(conn,),
                             daemon=True).start()


def main(argv):
    p = argparse.ArgumentParser(description="A misbehaving test DNS server.")
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--control", required=True)
    p.add_argument("--log")
    p.add_argument("--pid-file")
    args = p.parse_args(argv)
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((args.bind, args.port))
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.bind, args.port))
    tcp.listen(16)
    server = Server(args)

    def on_sigterm(_signum, _frame):
        if args.pid_file:
            try:
                os.unlink(args.pid_file)
            except FileNotFoundError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    threading.Thread(target=server.serve_tcp, args=(tcp,),
                     daemon=True).start()
    if args.pid_file:
        tmp = args.pid_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pid_file)
    server.serve_udp(udp)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
