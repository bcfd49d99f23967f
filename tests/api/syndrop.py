#!/usr/bin/python3
"""A TCP port that never gets anywhere, for keyfleet's timeout tests.

  syndrop.py --port-file FILE [--pid-file FILE] [--bind ADDR] [--silent]

It listens with a backlog of 0 and fills that queue itself without ever
accepting: the kernel then drops every further SYN to the port, so a
client's connect() hangs in SYN-SENT as it would behind a firewall that
drops packets.  With --silent it accepts every connection instead, and
then neither reads nor writes: a TLS peer that never says hello.  The pid
file, then the port file, are written atomically once that holds; SIGTERM
ends it.
"""

import argparse
import os
import socket
import sys
import time


def write_atomically(path, value):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % value)
    os.rename(path + ".tmp", path)


def serve_silently(args):
    listener = socket.socket()
    listener.bind((args.bind, 0))
    listener.listen(64)
    if args.pid_file:
        write_atomically(args.pid_file, os.getpid())
    write_atomically(args.port_file, listener.getsockname()[1])
    held = []
    while True:
        conn, _ = listener.accept()
        held.append(conn)
        del held[:-256]


def main(argv):
    p = argparse.ArgumentParser(description="A port that drops SYNs.")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port-file", required=True)
    p.add_argument("--pid-file")
    p.add_argument("--silent", action="store_true",
                   help="accept connections and never say a word")
    args = p.parse_args(argv)
    if args.silent:
        return serve_silently(args)
    listener = socket.socket()
    listener.bind((args.bind, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held = []
    # The one connection the queue takes, then one whose SYN is dropped.
    for _ in range(2):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect((args.bind, port))
        except BlockingIOError:
            pass
        held.append(c)
    time.sleep(0.2)
    if args.pid_file:
        write_atomically(args.pid_file, os.getpid())
    write_atomically(args.port_file, port)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
