#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 passt-deno developers
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A small vhost-user front end: what QEMU does for a virtio-net device whose
# back end is "passt --vhost-user", without a virtual machine. The guest's
# memory is a memfd shared over the socket; the two split virtqueues (0: RX,
# towards the guest; 1: TX, from the guest) live in it, with kick and call
# eventfds.
#
#   vu_frontend.py bridge SOCK CMD [ARG...]
#       create the tap interface eth0 (run in a namespace of its own: unshare
#       -n), and move frames between it and the rings while CMD runs; exits
#       with CMD's status (what tap_bridge.py does for the stream socket)
#   vu_frontend.py arp SOCK TARGET
#       ARP request for TARGET; prints "arp-reply MAC IP"
#   vu_frontend.py malformed SOCK TARGET
#       bad chains (address outside memory, descriptor loop, nested and
#       out-of-range indirect tables, wrong direction), a head outside the
#       ring, abrupt disconnects, a kick descriptor that is a dead socket; an
#       ARP request must be answered after each; prints "survived"
#   vu_frontend.py badmem SOCK TARGET
#       a memory table the back end must refuse (region larger than its file,
#       descriptor count mismatch), then a good session on a new connection
#   vu_frontend.py flood SOCK TARGET SECONDS
#       benchmark: ARP requests as fast as the rings take them, counts the
#       replies; prints "frames N bytes B seconds S"
#   vu_frontend.py stream-flood SOCK TARGET SECONDS
#       the same on passt's stream socket (no vhost-user), for comparison
#
# Options (before the command): --indirect (TX chains through indirect
# tables, when offered), --split (virtio-net header and frame in separate
# descriptors, chained directly or in the indirect table), --no-event-idx, --no-mrg (one large buffer per RX frame),
# --qsize N. "features ..." on stderr tells what was negotiated.
import fcntl
import mmap
import os
import select
import socket
import struct
import subprocess
import sys
import time

# vhost-user requests
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM = 15, 16, 17
SET_VRING_ENABLE = 18

F_VERSION_1 = 1 << 32
F_MRG_RXBUF = 1 << 15
F_INDIRECT = 1 << 28
F_EVENT_IDX = 1 << 29
F_PROTOCOL = 1 << 30
PF_REPLY_ACK = 1 << 3

DESC_NEXT, DESC_WRITE, DESC_INDIRECT = 1, 2, 4
HDR_LEN = 12
MAC = bytes.fromhex("525400123456")

GPA_BASE = 0x100000000
QVA_BASE = 0x7F1234000000
MEM_SIZE = 64 << 20


class Closed(Exception):
    pass


class Queue:
    """A split virtqueue laid out at `base` in the shared memory."""

    def __init__(self, mem, base, num):
        self.mem, self.num = mem, num
        # Ring indices are read and written as whole 16-bit words, as a
        # driver does: struct.pack_into() stores byte by byte, and the back
        # end could see a torn index (0x00ff -> 0x0000 -> 0x0100).
        self.w16 = memoryview(mem).cast("H")
        self.desc = base
        self.avail = base + 16 * num
        self.used = (self.avail + 6 + 2 * num + 4095) & ~4095
        self.end = self.used + ((6 + 8 * num + 4095) & ~4095)
        self.avail_idx = 0
        self.last_used = 0
        self.kick = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.call = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        mem[base:self.end] = bytes(self.end - base)

    def set_desc(self, i, addr, length, flags, nxt=0):
        struct.pack_into("<QIHH", self.mem, self.desc + 16 * i, addr, length, flags, nxt)

    def push(self, head):
        self.w16[(self.avail + 4) // 2 + self.avail_idx % self.num] = head
        self.avail_idx = (self.avail_idx + 1) & 0xFFFF
        self.w16[(self.avail + 2) // 2] = self.avail_idx

    def used_idx(self):
        return self.w16[(self.used + 2) // 2]

    def pop_used(self):
        """Next used element (id, len), or None."""
        if self.used_idx() == self.last_used:
            return None
        e = struct.unpack_from("<II", self.mem, self.used + 4 + 8 * (self.last_used % self.num))
        self.last_used = (self.last_used + 1) & 0xFFFF
        return e

    def want_call(self):
        self.w16[(self.avail + 4) // 2 + self.num] = self.last_used

    def notify(self, old, event_idx):
        """Kicks the back end if it asked for it (event index) or didn't refuse."""
        if event_idx:
            ev = self.w16[(self.used + 4 + 8 * self.num) // 2]
            new = self.avail_idx
            if ((new - ev - 1) & 0xFFFF) >= ((new - old) & 0xFFFF):
                return
        elif self.w16[self.used // 2] & 1:
            return
        os.eventfd_write(self.kick, 1)


class Frontend:
    def __init__(self, path, opts):
        self.opts = opts
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.memfd = os.memfd_create("guest", os.MFD_CLOEXEC)
        os.ftruncate(self.memfd, MEM_SIZE)
        self.mem = mmap.mmap(self.memfd, MEM_SIZE, mmap.MAP_SHARED)
        self.qsize = opts.get("qsize", 256)
        self.ack = False
        self.dropped = 0

    # -- protocol -------------------------------------------------------------

    def msg(self, req, payload=b"", fds=(), reply=False):
        flags = 1
        if self.ack and not reply:
            flags |= 8
        data = struct.pack("<III", req, flags, len(payload)) + payload
        if fds:
            socket.send_fds(self.s, [data], list(fds))
        else:
            self.s.sendall(data)
        if reply or self.ack:
            r = self.reply(req)
            if not reply:
                (rc,) = struct.unpack("<Q", r)
                if rc:
                    raise Closed(f"request {req} failed: {rc}")
            return r
        return None

    def reply(self, req):
        self.s.settimeout(10)
        hdr = self.recv_exact(12)
        r, flags, size = struct.unpack("<III", hdr)
        if r != req or not flags & 4:
            raise Closed(f"bad reply {r} {flags:#x} to {req}")
        return self.recv_exact(size)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            try:
                c = self.s.recv(n - len(buf))
            except (socket.timeout, ConnectionResetError):
                raise Closed("no reply")
            if not c:
                raise Closed("back end closed the connection")
            buf += c
        return buf

    def u64(self, req, val):
        return self.msg(req, struct.pack("<Q", val))

    def state(self, req, idx, num, reply=False):
        return self.msg(req, struct.pack("<II", idx, num), reply=reply)

    def mem_table(self, regions, fds):
        p = struct.pack("<II", len(regions), 0)
        for r in regions:
            p += struct.pack("<QQQQ", *r)
        return self.msg(SET_MEM_TABLE, p, fds=fds)

    def setup(self, mem_regions=None, mem_fds=None):
        (offered,) = struct.unpack("<Q", self.msg(GET_FEATURES, reply=True))
        want = F_VERSION_1 | F_PROTOCOL
        for f, opt in ((F_MRG_RXBUF, "no-mrg"), (F_EVENT_IDX, "no-event-idx"),
                       (F_INDIRECT, "no-indirect")):
            if offered & f and not self.opts.get(opt):
                want |= f
        if not offered & F_VERSION_1 or not offered & F_PROTOCOL:
            raise Closed(f"back end offers {offered:#x}")
        self.features = want
        self.event_idx = bool(want & F_EVENT_IDX)
        self.mrg = bool(want & F_MRG_RXBUF)
        self.indirect = bool(want & F_INDIRECT) and self.opts.get("indirect")
        (pf,) = struct.unpack("<Q", self.msg(GET_PROTOCOL_FEATURES, reply=True))
        self.u64(SET_PROTOCOL_FEATURES, pf & PF_REPLY_ACK)
        self.ack = bool(pf & PF_REPLY_ACK)
        self.msg(SET_OWNER)
        self.u64(SET_FEATURES, want)
        print(f"features {offered:#x} using {want:#x} indirect={bool(self.indirect)}",
              file=sys.stderr, flush=True)
        self.mem_table(mem_regions or [(GPA_BASE, MEM_SIZE, QVA_BASE, 0)],
                       mem_fds or [self.memfd])
        self.rx = Queue(self.mem, 0, self.qsize)
        self.tx = Queue(self.mem, self.rx.end, self.qsize)
        self.ind = self.tx.end  # indirect tables: 4 entries per TX slot
        self.rxbuf_len = 4096 if self.mrg else HDR_LEN + 65536
        self.rxbufs = (self.ind + 64 * self.qsize + 4095) & ~4095
        self.txbufs = self.rxbufs + self.rxbuf_len * self.qsize
        self.txbuf_len = 65536 + 64
        assert self.txbufs + self.txbuf_len * self.qsize <= MEM_SIZE
        for i, q in enumerate((self.rx, self.tx)):
            self.state(SET_VRING_NUM, i, q.num)
            self.state(SET_VRING_BASE, i, 0)
            self.msg(SET_VRING_ADDR, struct.pack(
                "<IIQQQQ", i, 0, QVA_BASE + q.desc, QVA_BASE + q.used,
                QVA_BASE + q.avail, 0))
            self.msg(SET_VRING_KICK, struct.pack("<Q", i), fds=[q.kick])
            self.msg(SET_VRING_CALL, struct.pack("<Q", i), fds=[q.call])
        for i in range(self.qsize):
            self.rx.set_desc(i, GPA_BASE + self.rxbufs + i * self.rxbuf_len,
                             self.rxbuf_len, DESC_WRITE)
            self.rx.push(i)
        self.rx.want_call()
        self.tx.want_call()
        split_direct = self.opts.get("split") and not self.indirect
        self.tx_free = list(range(self.qsize // 2 if split_direct else self.qsize))
        for i in range(2):
            self.state(SET_VRING_ENABLE, i, 1)
        os.eventfd_write(self.rx.kick, 1)

    def close(self):
        self.s.close()

    # -- frames ---------------------------------------------------------------

    def reclaim(self):
        while (e := self.tx.pop_used()) is not None:
            if e[0] < self.qsize:
                self.tx_free.append(e[0])
        self.tx.want_call()

    def send(self, frame, timeout=5.0):
        """Queues one frame on TX and kicks; False if no slot came free in time."""
        deadline = time.monotonic() + timeout
        self.reclaim()
        while not self.tx_free:
            self.wait([self.tx.call], 0.05)
            self.reclaim()
            if not self.tx_free and time.monotonic() > deadline:
                return False
        i = self.tx_free.pop()
        buf = self.txbufs + i * self.txbuf_len
        self.mem[buf:buf + HDR_LEN] = bytes(HDR_LEN)
        self.mem[buf + HDR_LEN:buf + HDR_LEN + len(frame)] = frame
        parts = [(buf, HDR_LEN + len(frame))]
        if self.opts.get("split"):
            parts = [(buf, HDR_LEN), (buf + HDR_LEN, len(frame))]
        self.put_chain(i, parts, 0)
        old = self.tx.avail_idx
        self.tx.push(i)
        self.tx.notify(old, self.event_idx)
        return True

    def put_chain(self, i, parts, flags):
        if self.indirect:
            t = self.ind + 64 * i
            for k, (a, n) in enumerate(parts):
                nf = flags | (DESC_NEXT if k + 1 < len(parts) else 0)
                struct.pack_into("<QIHH", self.mem, t + 16 * k, GPA_BASE + a, n, nf, k + 1)
            self.tx.set_desc(i, GPA_BASE + t, 16 * len(parts), DESC_INDIRECT)
            return
        # direct: slot i is descriptor i, a second part descriptor i + qsize/2
        half = self.qsize // 2
        for k, (a, n) in enumerate(parts):
            nf = flags | (DESC_NEXT if k + 1 < len(parts) else 0)
            self.tx.set_desc(i + k * half, GPA_BASE + a, n, nf, i + half)

    def receive(self):
        """Frames the back end wrote to RX (without header); re-posts the buffers."""
        frames = []
        old = self.rx.avail_idx
        while True:
            e = self.rx.pop_used()
            if e is None:
                break
            head, length = e
            base = self.rxbufs + head * self.rxbuf_len
            if length < HDR_LEN or head >= self.qsize:
                self.dropped += 1
                head %= self.qsize
                self.rx.set_desc(head, GPA_BASE + self.rxbufs + head * self.rxbuf_len,
                                 self.rxbuf_len, DESC_WRITE)
                self.rx.push(head)
                continue
            nbuf = struct.unpack_from("<H", self.mem, base + 10)[0] if self.mrg else 1
            data = bytes(self.mem[base + HDR_LEN:base + length])
            self.rx.push(head)
            for _ in range(max(nbuf, 1) - 1):
                while (e := self.rx.pop_used()) is None:
                    time.sleep(0.001)
                h2, l2 = e
                b2 = self.rxbufs + h2 * self.rxbuf_len
                data += bytes(self.mem[b2:b2 + l2])
                self.rx.push(h2)
            frames.append(data)
        self.rx.want_call()
        if self.rx.avail_idx != old:
            self.rx.notify(old, self.event_idx)
        return frames

    def wait(self, fds, timeout):
        r, _, _ = select.select(fds + [self.s], [], [], timeout)
        for fd in r:
            if fd not in (self.rx.call, self.tx.call, self.s):
                continue
            if fd is self.s:
                try:
                    if not self.s.recv(1, socket.MSG_PEEK):
                        raise Closed("back end closed the connection")
                except BlockingIOError:
                    pass
                continue
            try:
                os.eventfd_read(fd)
            except BlockingIOError:
                pass
        return r

    def frames(self, timeout):
        """Waits up to `timeout` for frames from the back end."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.receive()
            if got:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self.wait([self.rx.call], min(left, 0.05))


def arp_request(target):
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC, b"\0" * 4,
                      b"\0" * 6, socket.inet_aton(target))
    return b"\xff" * 6 + MAC + struct.pack("!H", 0x0806) + arp


def arp_reply_from(frame, target):
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    op = struct.unpack("!H", frame[20:22])[0]
    if op == 2 and socket.inet_ntoa(frame[28:32]) == target and frame[32:38] == MAC:
        return frame[22:28].hex(":")
    return None


def arp(fe, target, timeout=10.0):
    if not fe.send(arp_request(target)):
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in fe.frames(deadline - time.monotonic()):
            mac = arp_reply_from(f, target)
            if mac:
                print("arp-reply", mac, target, flush=True)
                return True
    print("timeout", flush=True)
    return False


def bad_chains(fe):
    """Queues chains the back end must drop without touching memory outside ours."""
    tx = fe.tx
    frame = arp_request("10.0.0.1")
    # Take five free slots for the bad chains
    slots = [fe.tx_free.pop() for _ in range(5)]
    a, b, c, d, e = slots
    # 1: address beyond the region
    tx.set_desc(a, GPA_BASE + MEM_SIZE - 8, 64, 0)
    tx.push(a)
    # 2: descriptor loop: b -> c -> b
    tx.set_desc(b, GPA_BASE + fe.txbufs, 20, DESC_NEXT, c)
    tx.set_desc(c, GPA_BASE + fe.txbufs, 20, DESC_NEXT, b)
    tx.push(b)
    # 3: indirect table outside memory
    tx.set_desc(c, 0x10, 64, DESC_INDIRECT)
    tx.push(c)
    # 4: nested indirect: the table's entry is itself indirect
    t = fe.ind + 64 * d
    struct.pack_into("<QIHH", fe.mem, t, GPA_BASE + t, 16, DESC_INDIRECT, 0)
    tx.set_desc(d, GPA_BASE + t, 16, DESC_INDIRECT)
    tx.push(d)
    # 5: device-writable buffer on the TX queue
    tx.set_desc(e, GPA_BASE + fe.txbufs, HDR_LEN + len(frame), DESC_WRITE)
    tx.push(e)
    old = (tx.avail_idx - 5) & 0xFFFF
    tx.notify(old, fe.event_idx)
    # RX: the next two buffers the back end takes become a read-only one and
    # one outside memory; receive() restores them when they come back empty
    rx = fe.rx
    for k, (addr, flags) in enumerate(((GPA_BASE + fe.rxbufs, 0),
                                       (GPA_BASE + (1 << 40), DESC_WRITE))):
        h = struct.unpack_from("<H", fe.mem, rx.avail + 4 + 2 * ((rx.last_used + k) % rx.num))[0]
        rx.set_desc(h, addr, fe.rxbuf_len, flags)


def main():
    args = sys.argv[1:]
    opts = {}
    while args and args[0].startswith("--"):
        o = args.pop(0)[2:]
        if o == "qsize":
            opts[o] = int(args.pop(0))
        else:
            opts[o] = True
    cmd, path = args[0], args[1]
    if cmd == "bridge":
        return bridge(path, args[2:], opts)
    target = args[2]
    if cmd == "arp":
        fe = Frontend(path, opts)
        fe.setup()
        return 0 if arp(fe, target) else 1
    if cmd == "malformed":
        return malformed(path, target, opts)
    if cmd == "badmem":
        return badmem(path, target, opts)
    if cmd == "flood":
        return flood(path, target, float(args[3]), opts)
    if cmd == "stream-flood":
        return stream_flood(path, target, float(args[3]))
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


def malformed(path, target, opts):
    opts = dict(opts, indirect=True)
    fe = Frontend(path, opts)
    fe.setup()
    if not arp(fe, target):
        return 1
    bad_chains(fe)
    time.sleep(0.2)
    fe.reclaim()
    ok = arp(fe, target)
    print("rx-dropped", fe.dropped, flush=True)
    ok = ok and fe.dropped == 2
    # A head index outside the ring breaks the TX queue: the back end must
    # stay up, and a new session must work.
    fe.tx.push(fe.qsize + 7)
    fe.tx.notify((fe.tx.avail_idx - 1) & 0xFFFF, fe.event_idx)
    time.sleep(0.2)
    fe.close()
    fe = Frontend(path, opts)
    fe.setup()
    ok = arp(fe, target) and ok
    # Abrupt disconnect with frames in flight, then a new session
    for _ in range(32):
        fe.send(arp_request(target))
    fe.close()
    fe = Frontend(path, opts)
    fe.setup()
    ok = arp(fe, target) and ok
    # A kick "eventfd" that is a socket whose peer is gone: readable forever,
    # the back end must drop it rather than spin; a good one works again
    a, b = socket.socketpair()
    b.close()
    fe.msg(SET_VRING_KICK, struct.pack("<Q", 1), fds=[a.fileno()])
    a.close()
    time.sleep(0.2)
    fe.msg(SET_VRING_KICK, struct.pack("<Q", 1), fds=[fe.tx.kick])
    ok = arp(fe, target) and ok
    if ok:
        print("survived", flush=True)
    return 0 if ok else 1


def refused(path, opts, what, regions, fds):
    """Offer a new connection a memory table of regions backed by fds(frontend).

    Returns True if passt refuses it; prints what it accepted otherwise.
    """
    fe = Frontend(path, opts)
    try:
        fe.setup(mem_regions=regions, mem_fds=fds(fe))
        print("accepted", what, flush=True)
        return False
    except (Closed, OSError) as e:
        print("refused", e, flush=True)
        return True
    finally:
        fe.close()


def badmem(path, target, opts):
    small = os.memfd_create("small", os.MFD_CLOEXEC)
    os.ftruncate(small, 4096)
    region = (GPA_BASE, MEM_SIZE, QVA_BASE, 0)
    ok = refused(path, opts, "a region larger than its file", [region], lambda fe: [small])
    ok = refused(path, opts, "two regions with one descriptor", [region] * 2,
                 lambda fe: [fe.memfd]) and ok
    fe = Frontend(path, opts)
    fe.setup()
    ok = arp(fe, target) and ok
    return 0 if ok else 1


def flood(path, target, seconds, opts):
    fe = Frontend(path, opts)
    fe.setup()
    req = arp_request(target)
    if not arp(fe, target):
        return 1
    frames = nbytes = sent = 0
    window = int(os.environ.get("VU_WINDOW", "32"))  # requests in flight
    t0 = time.monotonic()
    end = t0 + seconds
    while time.monotonic() < end:
        while sent - frames < window:
            if not fe.send(req, timeout=0.5):
                break
            sent += 1
        got = fe.receive()
        frames += len(got)
        nbytes += sum(len(f) for f in got)
        if not got:
            fe.wait([fe.rx.call], 0.01)
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline and frames < sent:
        got = fe.frames(0.1)
        frames += len(got)
        nbytes += sum(len(f) for f in got)
    dt = time.monotonic() - t0
    print(f"frames {frames} bytes {nbytes} seconds {dt:.3f}", flush=True)
    return 0


def stream_flood(path, target, seconds):
    """The flood case on the stream socket (4-byte length, then the frame), for comparison."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    req = arp_request(target)
    msg = struct.pack("!I", len(req)) + req
    frames = nbytes = sent = 0
    window = int(os.environ.get("VU_WINDOW", "32"))
    buf = b""
    t0 = time.monotonic()
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end + 1 or (now >= end and frames >= sent):
            break
        if now < end and sent - frames < window:
            s.sendall(msg * (window - (sent - frames)))
            sent += window - (sent - frames)
        r, _, _ = select.select([s], [], [], 0.01)
        if not r:
            continue
        data = s.recv(1 << 20)
        if not data:
            break
        buf += data
        while len(buf) >= 4:
            (n,) = struct.unpack("!I", buf[:4])
            if len(buf) < 4 + n:
                break
            frames += 1
            nbytes += n
            buf = buf[4 + n:]
    dt = time.monotonic() - t0
    print(f"frames {frames} bytes {nbytes} seconds {dt:.3f}", flush=True)
    return 0


TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def bridge(path, cmd, opts):
    tap = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", b"eth0", IFF_TAP | IFF_NO_PI))
    subprocess.run(["ip", "link", "set", "eth0", "address", MAC.hex(":")], check=True)
    fe = Frontend(path, opts)
    fe.setup()
    child = subprocess.Popen(cmd)
    try:
        while child.poll() is None:
            try:
                r = fe.wait([tap, fe.rx.call], 0.05)
            except Closed:
                print("bridge: passt closed the connection", file=sys.stderr)
                child.wait()
                return 1
            if tap in r:
                for _ in range(64):
                    try:
                        frame = os.read(tap, 65536)
                    except BlockingIOError:
                        break
                    fe.send(frame)
            for f in fe.receive():
                try:
                    os.write(tap, f)
                except OSError:
                    pass  # link down: dropped, as on a cable-less port
            fe.reclaim()
        return child.returncode
    finally:
        if child.poll() is None:
            child.kill()
        fe.close()


if __name__ == "__main__":
    sys.exit(main())
