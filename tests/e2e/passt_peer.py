#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A stand-in for QEMU on passt's stream socket: 4-byte big-endian length, then
# an Ethernet frame. It sends an ARP request for TARGET and prints the reply:
#
#   passt_peer.py connect PATH TARGET [HOLD]   connect to a UNIX socket
#   passt_peer.py fd N TARGET                  use inherited descriptor N (qrap)
#   passt_peer.py spawn TARGET CMD...          socketpair: CMD gets one end as
#                                              fd 3 (passt --fd 3), we use the other
#   passt_peer.py second PATH TARGET           first client connects, then a second
#                                              one, which must be closed at once,
#                                              then the first still gets replies
#
# Output lines: "arp-reply MAC IP" for each reply, "closed" when the peer
# closed the connection, "timeout" when nothing came. Exit status 0 when every
# expected reply came.
import os
import socket
import struct
import subprocess
import sys
import time

MAC = bytes.fromhex("525400f803a6")


def arp_request(target):
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC, b"\0" * 4,
                      b"\0" * 6, socket.inet_aton(target))
    frame = b"\xff" * 6 + MAC + struct.pack("!H", 0x0806) + arp
    return struct.pack("!I", len(frame)) + frame


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        s.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            return None
        if not chunk:
            return b""
        buf += chunk
    return buf


def exchange(s, target, timeout=10.0):
    """Sends the request; returns True when the ARP reply for target came."""
    s.sendall(arp_request(target))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hdr = recv_exact(s, 4, deadline)
        if hdr is None:
            break
        if hdr == b"":
            print("closed", flush=True)
            return False
        (length,) = struct.unpack("!I", hdr)
        frame = recv_exact(s, length, deadline)
        if not frame:
            break
        if len(frame) < 42 or frame[12:14] != b"\x08\x06":
            continue  # router advertisements and the like
        op = struct.unpack("!H", frame[20:22])[0]
        sha, spa = frame[22:28], socket.inet_ntoa(frame[28:32])
        tha = frame[32:38]
        if op == 2 and spa == target and tha == MAC and frame[0:6] == MAC:
            print("arp-reply", sha.hex(":"), spa, flush=True)
            return True
    print("timeout", flush=True)
    return False


def closed_at_once(s, timeout=5.0):
    """True when the peer closes the connection without sending anything."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except (socket.timeout, ConnectionResetError):
        return False


def main():
    mode = sys.argv[1]
    if mode == "connect":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[2])
        ok = exchange(s, sys.argv[3])
        if len(sys.argv) > 4:
            time.sleep(float(sys.argv[4]))
        return 0 if ok else 1
    if mode == "fd":
        s = socket.socket(fileno=int(sys.argv[2]))
        return 0 if exchange(s, sys.argv[3]) else 1
    if mode == "spawn":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = theirs.fileno()
        child = subprocess.Popen(sys.argv[3:], pass_fds=(3,),
                                 preexec_fn=lambda: os.dup2(fd, 3))
        theirs.close()
        ok = exchange(ours, sys.argv[2])
        ours.close()
        try:
            rc = child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            rc = -9
        print("exit", rc, flush=True)
        return 0 if ok else 1
    if mode == "second":
        first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        first.connect(sys.argv[2])
        ok = exchange(first, sys.argv[3])
        second = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        second.connect(sys.argv[2])
        if closed_at_once(second):
            print("second closed", flush=True)
        else:
            print("second kept", flush=True)
            ok = False
        ok = exchange(first, sys.argv[3]) and ok
        return 0 if ok else 1
    print("unknown mode", mode, file=sys.stderr)
    return 2


sys.exit(main())
