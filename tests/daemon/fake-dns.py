#!/usr/bin/env python3
"""A resolver on 127.0.0.1:PORT for tests/daemon/network.bats: names under
.berth-test get an A record 192.0.2.123 (TEST-NET-1: never contacted),
anything else NXDOMAIN.  Each query's name is printed, so the test can
see what reached the upstream."""
import socket
import struct
import sys


def name_of(msg, off):
    labels = []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels), off + 1


def answer(msg):
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    name, end = name_of(msg, 12)
    qtype = struct.unpack(">H", msg[end:end + 2])[0]
    question = msg[12:end + 4]
    print(name, qtype, flush=True)
    found = name.lower().endswith(".berth-test")
    rr = b""
    if found and qtype == 1:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.123")
    rcode = 0 if found else 3
    head = struct.pack(">HHHHHH", qid, 0x8180 | rcode | (flags & 0x0100), 1, 1 if rr else 0, 0, 0)
    return head + question + rr


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    while True:
        msg, peer = s.recvfrom(4096)
        try:
            s.sendto(answer(msg), peer)
        except (IndexError, struct.error):
            pass


main()
