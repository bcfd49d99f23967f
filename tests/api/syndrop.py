#!/usr/bin/python3
"""A TCP port whose connects never complete, for keyfleet's timeout tests.

  syndrop.py --port-file FILE [--pid-file FILE] [--bind ADDR]

It listens with a backlog of 0 and fills that queue itself without ever
accepting: the kernel then drops every further SYN to the port, so a
client's connect() hangs in SYN-SENT as it would behind a firewall that
drops packets.  The pid file, then the port file, are written atomically
once that holds; SIGTERM ends it.
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


def main(argv):
    p = argparse.ArgumentParser(description="A port that drops SYNs.")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port-file", required=True)
    p.add_argument("--pid-file")
    args = p.parse_args(argv)
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
