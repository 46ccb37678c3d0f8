#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Writes malformed frames to the tap interface given as argv[1] (from inside
# pasta's namespace), so that they reach pasta's tap fd. Prints the count.
import random
import socket
import struct
import sys

ifname = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
mac = s.getsockname()[4]
dst = b"\xff" * 6


def eth(t, payload):
    return dst + mac + struct.pack("!H", t) + payload


def ip4(proto, payload, tot=None, ihl=5):
    tot = 20 + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 0, 0, 64, proto, 0,
                    socket.inet_aton("192.0.2.2"), socket.inet_aton("192.0.2.1"))
    return h + payload


def ip6(nh, payload, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, plen, nh, 64) + b"\xfe\x80" + b"\0" * 13 + b"\x02" \
        + b"\xff\x02" + b"\0" * 13 + b"\x01" + payload


def udp(sport, dport, payload, length=None):
    length = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, length, 0) + payload


def dhcp(options):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, 0x1234, 0, 0x8000,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10,
                        b"\0" * 64, b"\0" * 128)
    return bootp + b"\x63\x82\x53\x63" + options


frames = [
    eth(0x0800, b""),                                   # no IPv4 header
    eth(0x0800, ip4(17, b"")[:10]),                     # truncated header
    eth(0x0800, ip4(17, udp(1, 2, b"x"), tot=9000)),    # total length too big
    eth(0x0800, ip4(17, udp(1, 2, b"x"), ihl=15)),      # IHL past the end
    eth(0x0800, ip4(17, udp(1, 2, b"x", length=4000))),  # UDP length too big
    eth(0x0800, ip4(17, udp(1, 2, b"x", length=3))),    # UDP length too small
    eth(0x0800, ip4(6, b"\0" * 12 + b"\xf0" + b"\0" * 7)),  # TCP data offset past end
    eth(0x0800, ip4(6, b"\0" * 12 + b"\x10" + b"\0" * 7)),  # TCP data offset < 20
    eth(0x0800, ip4(1, b"\x08")),                       # short ICMP
    eth(0x86dd, b"\x60"),                               # truncated IPv6
    eth(0x86dd, ip6(17, udp(1, 2, b"x"), plen=5000)),   # payload length lies
    eth(0x86dd, ip6(0, b"\x00\xff" + b"\0" * 6)),       # extension header past end
    eth(0x86dd, ip6(58, b"\x87")),                      # short NDP
    eth(0x86dd, ip6(58, b"\x85\0\0\0\0\0\0\0\x01\xff")),  # RS with a bad option length
    eth(0x86dd, ip6(17, udp(546, 547, b"\x01\x00\x00\x01\x00\x01\xff\xff"))),  # DHCPv6 bad opt
    eth(0x0806, b"\x00\x01\x08\x00\x06"),               # truncated ARP
    eth(0x0800, ip4(17, udp(68, 67, dhcp(b"\x35\x01\x01\x37\xff\x01")))),  # option past end
    eth(0x0800, ip4(17, udp(68, 67, dhcp(b"\x35\x01\x01\x34\x01\x03\xff")))),  # overload loop
    eth(0x0800, ip4(17, udp(68, 67, dhcp(b"\x35\x01\x03" + b"\x00" * 300)))),  # pads, no end
    eth(0x0800, ip4(17, udp(68, 67, dhcp(b"")[:100]))),  # truncated BOOTP
]
rnd = random.Random(1)
for _ in range(500):
    base = bytearray(rnd.choice(frames[2:]))
    for _ in range(rnd.randrange(1, 8)):
        base[rnd.randrange(14, len(base))] = rnd.randrange(256)
    frames.append(eth(int.from_bytes(base[12:14], "big"), bytes(base[14:])))
n = 0
for f in frames:
    try:
        s.send(f)
        n += 1
    except OSError:
        pass
print(f"sent {n}")
