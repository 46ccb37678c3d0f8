# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
"""Small clients and servers for bench.ts (Python's standard library only).

  peers.py rr-server PORT            echo one byte per request on PORT, one byte and close on PORT+1
  peers.py rr-client HOST PORT SECS  prints "TRANS_PER_S CONN_PER_S"
  peers.py conn-server PORT          accepts and holds every connection
  peers.py conn-client HOST PORT N DIR
                                     writes DIR/idle, opens N connections and keeps them, writes
                                     DIR/opened (seconds it took), waits for DIR/done, exits
  peers.py udp-sink PORT SECS        counts datagrams for SECS after the first; prints "N BYTES SECS"
  peers.py slow-sink PORT CHUNK PAUSE_MS
                                     for each connection: reads CHUNK bytes at a time with a pause
                                     after each read until EOF, then sends back the byte count
  peers.py send HOST PORT BYTES      sends BYTES bytes, half-closes, waits for the count; prints
                                     the seconds from connect to the count
  peers.py passt-peer SOCK PAYLOAD SECS SRC DST PORT
                                     a synthetic guest on passt's AF_UNIX socket: UDP frames of
                                     PAYLOAD bytes from SRC to DST:PORT as fast as it can
"""

import os
import resource
import socket
import struct
import sys
import threading
import time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listener(port, backlog):
    """A listening socket for IPv4 and IPv6 on every address of the bench namespace."""
    l = socket.socket(socket.AF_INET6)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    l.bind(("::", port))
    l.listen(backlog)
    return l


def rr_server(port):
    def rr(l):
        while True:
            c, _ = l.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                d = c.recv(1)
                if not d:
                    break
                c.sendall(d)
            c.close()

    def crr(l):
        while True:
            c, _ = l.accept()
            c.sendall(b"y")
            c.close()

    for p, fn in ((port, rr), (port + 1, crr)):
        threading.Thread(target=fn, args=(listener(p, 128),), daemon=True).start()
    threading.Event().wait()


def rr_client(host, port, secs):
    c = socket.create_connection((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        c.sendall(b"x")
        c.recv(1)
        n += 1
    c.close()
    rr = n / secs
    n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s = socket.create_connection((host, port + 1))
        s.recv(1)
        s.close()
        n += 1
    print(round(rr), round(n / secs))


def raise_nofile():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def conn_server(port):
    raise_nofile()
    held = []
    l = listener(port, 4096)
    while True:
        c, _ = l.accept()
        held.append(c)


def touch(path, text=""):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def conn_client(host, port, n, d):
    raise_nofile()
    touch(d + "/idle", str(os.getpid()))
    while not os.path.exists(d + "/go"):
        time.sleep(0.05)
    held = []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            held.append(socket.create_connection((host, port), timeout=10))
        touch(d + "/opened", "%.4f" % (time.monotonic() - t0))
    except OSError as e:
        touch(d + "/opened", "ERR %d %s" % (len(held), e))
    while not os.path.exists(d + "/done"):
        time.sleep(0.05)


def udp_sink(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", port))
    buf = bytearray(65536)
    s.settimeout(30)
    n = s.recv_into(buf)
    t0 = time.monotonic()
    end = t0 + secs
    count, total = 1, n
    s.settimeout(0.5)
    try:
        while time.monotonic() < end:
            total += s.recv_into(buf)
            count += 1
    except socket.timeout:
        pass
    print(count, total, "%.3f" % (time.monotonic() - t0))


def slow_sink(port, chunk, pause):
    def serve(c):
        n = 0
        buf = bytearray(chunk)
        while True:
            k = c.recv_into(buf)
            if not k:
                break
            n += k
            time.sleep(pause)
        c.sendall(str(n).encode())
        c.close()

    l = listener(port, 16)
    while True:
        c, _ = l.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def send(host, port, total):
    block = bytes(1 << 20)
    t0 = time.monotonic()
    c = socket.create_connection((host, port))
    left = total
    while left > 0:
        left -= c.send(block[: min(left, len(block))])
    c.shutdown(socket.SHUT_WR)
    got = c.recv(64).decode()
    if got != str(total):
        sys.exit("peers.py send: the receiver counted %s of %d bytes" % (got or "none", total))
    print("%.3f" % (time.monotonic() - t0))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def passt_peer(path, payload, secs, src, dst, port):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            c.connect(path)
            break
        except OSError:
            time.sleep(0.05)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)

    def drain():
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    udp = struct.pack("!HHHH", 40000, port, 8 + payload, 0) + b"x" * payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("9a559a559a55") + bytes.fromhex("525400123456") + b"\x08\x00"
    frame = eth + ip + udp
    one = struct.pack("!I", len(frame)) + frame
    batch = one * max(1, 262144 // len(one))
    per = len(batch) // len(one)
    sent = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        c.sendall(batch)
        sent += per
    print(sent)
    c.close()


def main():
    a = sys.argv[1:]
    cmd = a[0]
    if cmd == "rr-server":
        rr_server(int(a[1]))
    elif cmd == "rr-client":
        rr_client(a[1], int(a[2]), float(a[3]))
    elif cmd == "conn-server":
        conn_server(int(a[1]))
    elif cmd == "conn-client":
        conn_client(a[1], int(a[2]), int(a[3]), a[4])
    elif cmd == "udp-sink":
        udp_sink(int(a[1]), float(a[2]))
    elif cmd == "slow-sink":
        slow_sink(int(a[1]), int(a[2]), float(a[3]) / 1000)
    elif cmd == "send":
        send(a[1], int(a[2]), int(a[3]))
    elif cmd == "passt-peer":
        passt_peer(a[1], int(a[2]), float(a[3]), a[4], a[5], int(a[6]))
    else:
        sys.exit("peers.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
