#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tap_bridge.py SOCK CMD [ARG...]
#
# What QEMU's "-netdev stream" does, for a network namespace instead of a
# virtual machine: creates the tap interface eth0 (run it in a namespace of
# its own: unshare -n), connects to passt at SOCK, and moves frames both ways
# (4-byte big-endian length, then the frame) while CMD runs. Exits with CMD's
# status.
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def main():
    path, cmd = sys.argv[1], sys.argv[2:]
    tap = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", b"eth0", IFF_TAP | IFF_NO_PI))
    subprocess.run(["ip", "link", "set", "eth0", "address", "52:54:00:12:34:56"], check=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    child = subprocess.Popen(cmd)
    try:
        return pump(tap, s, child)
    finally:
        if child.poll() is None:
            child.kill()


def pump(tap, s, child):
    buf = b""
    while child.poll() is None:
        ready, _, _ = select.select([tap, s], [], [], 0.2)
        if tap in ready:
            frame = os.read(tap, 65536)
            s.sendall(struct.pack("!I", len(frame)) + frame)
        if s in ready:
            data = s.recv(1 << 20)
            if not data:
                print("bridge: passt closed the connection", file=sys.stderr)
                child.wait()
                return 1
            buf += data
            while len(buf) >= 4:
                (n,) = struct.unpack("!I", buf[:4])
                if len(buf) < 4 + n:
                    break
                try:
                    os.write(tap, buf[4:4 + n])
                except OSError:
                    pass  # link down: dropped, as on a cable-less port
                buf = buf[4 + n:]
    s.close()
    return child.returncode


sys.exit(main())
