#!/usr/bin/env python3
"""Listens on a Unix datagram socket (the test's /dev/log) and appends each
syslog message to a file, one per line, so tests can assert what keyfleet
logged.  Stops on SIGTERM."""
import os
import signal
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(out, "ab", buffering=0) as f:
        try:
            while True:
                msg = sock.recv(65536)
                f.write(msg.rstrip(b"\0\n") + b"\n")
        finally:
            os.unlink(path)


if __name__ == "__main__":
    main()
