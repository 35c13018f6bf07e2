#!/usr/bin/env python3
"""Polls http://HOST:PORT/healthz every 5 ms until it answers 200; prints the wall-clock time of
that answer (ns since the epoch, same clock as bash's $EPOCHREALTIME). Exit 1 after TIMEOUT_S.

  healthz_poll.py HOST PORT TIMEOUT_S [READY_FILE]

READY_FILE, if given, is created once the poller runs (so the caller can start the controller
only then). Raw sockets: no HTTP library start-up or connection pooling in the loop.
"""
import os
import socket
import sys
import time


def probe(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
            data = s.recv(64)
            return data.startswith(b"HTTP/1.0 200") or data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main():
    host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if len(sys.argv) > 4:
        open(sys.argv[4], "w").close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe(host, port):
            print(time.time_ns())
            return
        time.sleep(0.005)
    sys.exit(1)


if __name__ == "__main__":
    main()
