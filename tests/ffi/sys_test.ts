// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { EAGAIN, EBADF, ECONNREFUSED, EINVAL } from "../../ffi/errno.ts";
import * as sys from "../../ffi/sys.ts";

const LOOPBACK = 0x7f000001;

/** Pair of connected, non-blocking sockets of a type. */
function pair(type: number): [number, number] {
  const fds = new Int32Array(2);
  sys.sysCheck(
    sys.socketpair(sys.AF_UNIX, type | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC, 0, fds),
    "create socket pair",
  );
  return [fds[0]!, fds[1]!];
}

/** Non-blocking UDP socket bound to 127.0.0.1 on a free port, and the port. */
function udpSocket(): [number, number] {
  const fd = sys.sysCheck(
    sys.socket(sys.AF_INET, sys.SOCK_DGRAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC),
    "create UDP socket",
  );
  sys.sysCheck(sys.bind(fd, sys.sockaddrIn(LOOPBACK, 0)), "bind UDP socket");
  return [fd, boundPort(fd)];
}

function boundPort(fd: number): number {
  const sa = new Uint8Array(sys.SOCKADDR_MAX);
  sys.sysCheck(sys.getsockname(fd, sa), "get socket name");
  const a = sys.parseSockaddr(sa);
  assert.ok(a && a.family !== sys.AF_UNIX);
  return a.port;
}

Deno.test("close(-1) returns -EBADF", () => {
  assert.equal(sys.close(-1), -EBADF);
});

Deno.test("connect() to a closed loopback port returns -ECONNREFUSED", () => {
  const probe = sys.socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC);
  sys.sysCheck(sys.bind(probe, sys.sockaddrIn(LOOPBACK, 0)), "bind probe");
  const port = boundPort(probe);
  sys.close(probe);

  const fd = sys.socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC);
  const rc = sys.connect(fd, sys.sockaddrIn(LOOPBACK, port));
  sys.close(fd);
  assert.equal(rc, -ECONNREFUSED);
  assert.throws(
    () => sys.sysCheck(rc, `connect to 127.0.0.1:${port}`, "connect"),
    (e: unknown) => {
      assert.ok(e instanceof sys.SysError);
      assert.equal(
        e.message,
        `Cannot connect to 127.0.0.1:${port}: ECONNREFUSED (Connection refused)`,
      );
      assert.equal(e.errno, ECONNREFUSED);
      assert.equal(e.code, "ECONNREFUSED");
      assert.equal(e.syscall, "connect");
      return true;
    },
  );
});

Deno.test("sockaddr helpers round-trip IPv4, IPv6 and UNIX addresses", () => {
  assert.deepEqual(sys.parseSockaddr(sys.sockaddrIn(0xc0a80101, 8080)), {
    family: sys.AF_INET,
    addr: 0xc0a80101,
    port: 8080,
  });
  const sa6 = sys.sockaddrIn6([0xfe800000, 0, 0, 1], 53, 3);
  assert.equal(sa6.length, 28);
  assert.deepEqual([...sa6.subarray(2, 4)], [0, 53]);
  assert.deepEqual(sys.parseSockaddr(sa6), {
    family: sys.AF_INET6,
    addr: [0xfe800000, 0, 0, 1],
    port: 53,
    scopeId: 3,
  });
  const un = sys.sockaddrUn("/tmp/x.sock");
  assert.equal(un.length, 2 + 11 + 1);
  assert.deepEqual(sys.parseSockaddr(un), { family: sys.AF_UNIX, path: "/tmp/x.sock" });
  assert.throws(() => sys.sockaddrUn("/" + "a".repeat(120)), RangeError);
  assert.equal(sys.parseSockaddr(new Uint8Array(16)), null);
});

Deno.test("cstr() NUL-terminates UTF-8", () => {
  assert.deepEqual([...sys.cstr("tä")], [0x74, 0xc3, 0xa4, 0]);
  assert.equal(sys.fromCstr(sys.cstr("eth0")), "eth0");
});

Deno.test("epollWait() reports a readable pipe with its 64-bit reference", () => {
  const p = new Int32Array(2);
  sys.sysCheck(sys.pipe2(p, sys.O_NONBLOCK | sys.O_CLOEXEC), "create pipe");
  const [r, w] = [p[0]!, p[1]!];
  const ep = sys.sysCheck(sys.epollCreate(), "create epoll");
  const ev = new Uint8Array(4 * sys.EPOLL_WORDS * 8);
  const evw = new Uint32Array(ev.buffer);
  try {
    sys.sysCheck(
      sys.epollCtl(ep, sys.EPOLL_CTL_ADD, r, sys.EPOLLIN, 0xdeadbeef, 0x80000007),
      "add",
    );
    assert.equal(sys.epollWait(ep, ev, 8, 0), 0);

    const data = new TextEncoder().encode("hello");
    assert.equal(sys.write(w, data, 0, data.length), 5);
    assert.equal(sys.epollWait(ep, ev, 8, 1000), 1);
    assert.equal(evw[0]! & sys.EPOLLIN, sys.EPOLLIN);
    assert.equal(evw[1], 0xdeadbeef);
    assert.equal(evw[2], 0x80000007);

    const buf = new Uint8Array(64);
    assert.equal(sys.read(r, buf, 10, 54), 5);
    assert.equal(new TextDecoder().decode(buf.subarray(10, 15)), "hello");
    assert.equal(sys.read(r, buf, 0, 64), -EAGAIN);
    assert.equal(sys.epollWait(ep, ev, 8, 0), 0);
    assert.equal(sys.epollWait(ep, ev, 0, 0), -EINVAL);
  } finally {
    sys.close(ep);
    sys.close(r);
    sys.close(w);
  }
});

Deno.test("a timerfd fires through epoll and counts expirations", () => {
  const ep = sys.sysCheck(sys.epollCreate(), "create epoll");
  const tfd = sys.sysCheck(
    sys.timerfdCreate(sys.CLOCK_MONOTONIC, sys.TFD_NONBLOCK | sys.TFD_CLOEXEC),
    "create timer",
  );
  const ev = new Uint8Array(4 * sys.EPOLL_WORDS * 4);
  const evw = new Uint32Array(ev.buffer);
  try {
    sys.sysCheck(sys.epollCtl(ep, sys.EPOLL_CTL_ADD, tfd, sys.EPOLLIN, 42, 0), "add timer");
    assert.equal(sys.timerfdRead(tfd), -EAGAIN);
    sys.sysCheck(sys.timerfdSettime(tfd, 0, 0, 20_000_000), "arm timer");
    const t0 = performance.now();
    assert.equal(sys.epollWait(ep, ev, 4, 2000), 1);
    assert.ok(performance.now() - t0 >= 15, "not before the timer was due");
    assert.equal(evw[1], 42);
    assert.equal(sys.timerfdRead(tfd), 1);
    assert.equal(sys.timerfdRead(tfd), -EAGAIN);
  } finally {
    sys.close(tfd);
    sys.close(ep);
  }
});

Deno.test("signalPipe() turns SIGUSR1 sent to ourselves into one byte", () => {
  const p = new Int32Array(2);
  sys.sysCheck(sys.pipe2(p, sys.O_NONBLOCK | sys.O_CLOEXEC), "create pipe");
  const [r, w] = [p[0]!, p[1]!];
  try {
    sys.sysCheck(sys.signalPipe(w), "install signal handlers");
    sys.sysCheck(sys.kill(Deno.pid, sys.SIGUSR1), "signal ourselves");
    const buf = new Uint8Array(16);
    let n = -EAGAIN;
    for (let i = 0; i < 200 && n === -EAGAIN; i++) {
      n = sys.read(r, buf, 0, 16);
      if (n === -EAGAIN) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    assert.equal(n, 1);
    assert.equal(buf[0], sys.SIGUSR1);
  } finally {
    sys.signalPipe(-1);
    sys.close(r);
    sys.close(w);
  }
});

Deno.test("sendmmsg() and recvmmsg() move a batch of UDP datagrams with addresses", () => {
  const [rx, rxPort] = udpSocket();
  const [tx, txPort] = udpSocket();
  const arena = new Uint8Array(65536);
  const w = new Uint32Array(arena.buffer);
  const TAB = 0, NAME = 1024, DATA = 4096;
  const sizes = [1, 100, 1400];
  try {
    arena.set(sys.sockaddrIn(LOOPBACK, rxPort), NAME);
    for (let i = 0; i < sizes.length; i++) {
      const e = (TAB >> 2) + i * sys.MMSG_WORDS;
      w[e + sys.MMSG_BUF_OFF] = DATA + i * 2048;
      w[e + sys.MMSG_BUF_LEN] = sizes[i]!;
      w[e + sys.MMSG_NAME_OFF] = NAME;
      w[e + sys.MMSG_NAME_LEN] = 16;
      arena.fill(0x41 + i, DATA + i * 2048, DATA + i * 2048 + sizes[i]!);
    }
    assert.equal(sys.sendmmsg(tx, arena, TAB, sizes.length, 0), 3);
    assert.equal(w[(TAB >> 2) + 2 * sys.MMSG_WORDS + sys.MMSG_MSG_LEN], 1400);

    const RTAB = 512, RNAME = 2048, RDATA = 32768;
    for (let i = 0; i < 8; i++) {
      const e = (RTAB >> 2) + i * sys.MMSG_WORDS;
      w[e + sys.MMSG_BUF_OFF] = RDATA + i * 2048;
      w[e + sys.MMSG_BUF_LEN] = 2048;
      w[e + sys.MMSG_NAME_OFF] = RNAME + i * 32;
      w[e + sys.MMSG_NAME_LEN] = 32;
    }
    assert.equal(sys.recvmmsg(rx, arena, RTAB, 8, sys.MSG_DONTWAIT), 3);
    for (let i = 0; i < 3; i++) {
      const e = (RTAB >> 2) + i * sys.MMSG_WORDS;
      assert.equal(w[e + sys.MMSG_MSG_LEN], sizes[i]);
      assert.equal(w[e + sys.MMSG_NAME_LEN], 16);
      assert.equal(w[e + sys.MMSG_MSG_FLAGS], 0);
      assert.equal(arena[RDATA + i * 2048], 0x41 + i);
      assert.equal(arena[RDATA + i * 2048 + sizes[i]! - 1], 0x41 + i);
      assert.deepEqual(sys.parseSockaddr(arena.subarray(RNAME + i * 32, RNAME + i * 32 + 16)), {
        family: sys.AF_INET,
        addr: LOOPBACK,
        port: txPort,
      });
    }
    assert.equal(sys.recvmmsg(rx, arena, RTAB, 8, sys.MSG_DONTWAIT), -EAGAIN);
    assert.equal(sys.recvmmsg(rx, arena, RTAB, 1025, sys.MSG_DONTWAIT), -EINVAL);
  } finally {
    sys.close(rx);
    sys.close(tx);
  }
});

Deno.test("writev(), readv(), sendmsg() and recvmsg() follow iov tables", () => {
  const [a, b] = pair(sys.SOCK_STREAM);
  const arena = new Uint8Array(4096);
  const w = new Uint32Array(arena.buffer);
  try {
    arena.set(new TextEncoder().encode("abc"), 1000);
    arena.set(new TextEncoder().encode("defgh"), 2000);
    w.set([1000, 3, 2000, 5], 0);
    assert.equal(sys.writev(a, arena, 0, 2), 8);
    w.set([3000, 4, 3500, 10], 4);
    assert.equal(sys.readv(b, arena, 16, 2), 8);
    const dec = new TextDecoder();
    assert.equal(dec.decode(arena.subarray(3000, 3004)), "abcd");
    assert.equal(dec.decode(arena.subarray(3500, 3504)), "efgh");

    assert.equal(sys.sendmsg(a, arena, 0, 1, sys.MSG_NOSIGNAL), 3);
    assert.equal(sys.recvmsg(b, arena, 16, 1, sys.MSG_PEEK), 3);
    assert.equal(sys.recv(b, arena, 100, 10, 0), 3);
    assert.equal(dec.decode(arena.subarray(100, 103)), "abc");
    assert.equal(sys.writev(a, arena, 0, 1025), -EINVAL);
  } finally {
    sys.close(a);
    sys.close(b);
  }
});

Deno.test("tcpInfo() reports an established connection and bytes received", () => {
  const l = sys.socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC);
  sys.sysCheck(sys.bind(l, sys.sockaddrIn(LOOPBACK, 0)), "bind listener");
  sys.sysCheck(sys.listen(l, 1), "listen");
  const c = sys.socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC);
  sys.sysCheck(sys.connect(c, sys.sockaddrIn(LOOPBACK, boundPort(l))), "connect");
  const peer = new Uint8Array(sys.SOCKADDR_MAX);
  const s = sys.sysCheck(sys.accept4(l, peer, sys.SOCK_CLOEXEC), "accept");
  const buf = new Uint8Array(4096);
  const info = new Uint8Array(4 * sys.TCPI_WORDS + 8);
  const iw = new Uint32Array(info.buffer, 8);
  try {
    assert.deepEqual(sys.parseSockaddr(peer), {
      family: sys.AF_INET,
      addr: LOOPBACK,
      port: boundPort(c),
    });
    buf[600] = 0x5a;
    assert.equal(sys.send(c, buf, 0, 1000, sys.MSG_NOSIGNAL), 1000);
    assert.equal(sys.recv(s, buf, 2000, 1000, sys.MSG_PEEK | sys.MSG_WAITALL), 1000);
    assert.equal(sys.recvDiscard(s, 600, sys.MSG_DONTWAIT), 600);
    assert.equal(sys.recv(s, buf, 2000, 4096 - 2000, sys.MSG_DONTWAIT), 400);
    assert.equal(buf[2000], 0x5a, "the first 600 bytes were dropped");
    assert.equal(sys.tcpInfo(s, info, 8), 0);
    assert.equal(iw[sys.TCPI_STATE], 1, "TCP_ESTABLISHED");
    assert.ok(iw[sys.TCPI_OPTLEN]! >= 200, "kernel filled the fields we read");
    assert.ok(iw[sys.TCPI_SND_MSS]! > 0);
    assert.equal(iw[sys.TCPI_BYTES_RECEIVED_LO], 1000);
    assert.equal(iw[sys.TCPI_BYTES_RECEIVED_HI], 0);
    assert.equal(sys.getsockoptInt(c, sys.SOL_SOCKET, sys.SO_TYPE), sys.SOCK_STREAM);
    assert.equal(sys.setsockoptInt(c, sys.IPPROTO_TCP, sys.TCP_NODELAY, 1), 0);
    assert.equal(sys.getsockoptInt(c, sys.IPPROTO_TCP, sys.TCP_NODELAY), 1);
    assert.equal(sys.tcpInfo(-1, info, 0), -EBADF);
  } finally {
    sys.close(s);
    sys.close(c);
    sys.close(l);
  }
});

Deno.test("tapReadBatch() and tapWriteBatch() keep frame boundaries", () => {
  // A SOCK_SEQPACKET pair returns one message per read, as a tap fd does
  const [a, b] = pair(sys.SOCK_SEQPACKET);
  const arena = new Uint8Array(16384);
  const w = new Uint32Array(arena.buffer);
  try {
    assert.equal(sys.tapReadBatch(b, arena, 4096, 8192, 0, 16, 1600), 0, "EAGAIN at once");
    const lens = [60, 1514, 98, 42, 1000, 7];
    let off = 10000;
    for (let i = 0; i < lens.length; i++) {
      arena.fill(i + 1, off, off + lens[i]!);
      w[256 + 2 * i] = off;
      w[256 + 2 * i + 1] = lens[i]!;
      off += lens[i]!;
    }
    assert.equal(sys.tapWriteBatch(a, arena, 1024, lens.length), lens.length);

    // After 5 frames (2714 bytes) less than 1600 bytes of the 4000 remain
    assert.equal(sys.tapReadBatch(b, arena, 4096, 4000, 0, 16, 1600), 5);
    let expect = 4096;
    for (let i = 0; i < 5; i++) {
      assert.equal(w[2 * i], expect, `frame ${i} offset`);
      assert.equal(w[2 * i + 1], lens[i], `frame ${i} length`);
      assert.equal(arena[expect], i + 1);
      assert.equal(arena[expect + lens[i]! - 1], i + 1);
      expect += lens[i]!;
    }
    assert.equal(sys.tapReadBatch(b, arena, 4096, 8192, 0, 16, 1600), 1);
    assert.equal(w[1], 7);
    assert.equal(sys.tapReadBatch(-1, arena, 4096, 8192, 0, 16, 1600), -EBADF);
    assert.equal(sys.tapWriteBatch(-1, arena, 1024, 1), -EBADF);
  } finally {
    sys.close(a);
    sys.close(b);
  }
});

Deno.test("splice() moves socket data through a pipe", () => {
  const [a, b] = pair(sys.SOCK_STREAM);
  const [c, d] = pair(sys.SOCK_STREAM);
  const p = new Int32Array(2);
  sys.sysCheck(sys.pipe2(p, sys.O_NONBLOCK | sys.O_CLOEXEC), "create pipe");
  const buf = new TextEncoder().encode("spliced");
  try {
    assert.ok(sys.fcntl(p[0]!, sys.F_GETPIPE_SZ) >= 4096);
    assert.equal(sys.write(a, buf, 0, buf.length), 7);
    assert.equal(sys.splice(b, p[1]!, 1 << 20, sys.SPLICE_F_MOVE | sys.SPLICE_F_NONBLOCK), 7);
    assert.equal(sys.splice(p[0]!, c, 1 << 20, sys.SPLICE_F_MOVE | sys.SPLICE_F_NONBLOCK), 7);
    const out = new Uint8Array(16);
    assert.equal(sys.read(d, out, 0, 16), 7);
    assert.equal(new TextDecoder().decode(out.subarray(0, 7)), "spliced");
  } finally {
    for (const fd of [a, b, c, d, p[0]!, p[1]!]) sys.close(fd);
  }
});

Deno.test("file helpers open, seek, truncate and read", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/f`;
  const fd = sys.sysCheck(
    sys.open(path, sys.O_RDWR | sys.O_CREAT | sys.O_CLOEXEC, 0o600),
    `open "${path}"`,
  );
  try {
    const data = new TextEncoder().encode("0123456789");
    assert.equal(sys.write(fd, data, 0, 10), 10);
    assert.equal(sys.lseek(fd, 2, sys.SEEK_SET), 2);
    assert.equal(sys.ftruncate(fd, 5), 0);
    const out = new Uint8Array(10);
    assert.equal(sys.read(fd, out, 0, 10), 3);
    assert.equal(new TextDecoder().decode(out.subarray(0, 3)), "234");
    assert.equal(Deno.statSync(path).size, 5);
    assert.equal(sys.open(`${dir}/missing`, sys.O_RDONLY), -2);
  } finally {
    sys.close(fd);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("getrandom() fills just the part of the buffer it is given", () => {
  const u8 = new Uint8Array(1 << 20);
  assert.equal(u8.every((x) => x === 0), true);
  assert.equal(sys.getrandom(u8, 4096, 64), 64);
  assert.ok(u8.subarray(4096, 4160).some((x) => x !== 0));
  assert.equal(u8[4095], 0);
  assert.equal(u8[4160], 0);
});

Deno.test("raiseNofile() sets the soft limit to the hard limit", () => {
  const n = sys.raiseNofile();
  assert.ok(n > 0);
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const m = limits.match(/^Max open files\s+(\S+)\s+(\S+)/m);
  assert.ok(m);
  assert.equal(m[1], m[2]);
});

Deno.test("eventfd and inotify wrappers create usable descriptors", () => {
  const efd = sys.sysCheck(sys.eventfd(3, sys.EFD_NONBLOCK | sys.EFD_CLOEXEC), "eventfd");
  const buf = new Uint8Array(8);
  assert.equal(sys.read(efd, buf, 0, 8), 8);
  assert.equal(new DataView(buf.buffer).getBigUint64(0, true), 3n);
  sys.close(efd);

  const dir = Deno.makeTempDirSync();
  const ifd = sys.sysCheck(sys.inotifyInit1(sys.IN_NONBLOCK | sys.IN_CLOEXEC), "inotify");
  try {
    assert.ok(sys.inotifyAddWatch(ifd, dir, sys.IN_DELETE) > 0);
    Deno.writeTextFileSync(`${dir}/x`, "");
    Deno.removeSync(`${dir}/x`);
    const ev = new Uint8Array(256);
    assert.ok(sys.read(ifd, ev, 0, 256) >= 16);
    assert.equal(new DataView(ev.buffer).getUint32(4, true) & sys.IN_DELETE, sys.IN_DELETE);
  } finally {
    sys.close(ifd);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("netlinkOpen() returns a bound NETLINK_ROUTE socket", () => {
  const fd = sys.sysCheck(sys.netlinkOpen(), "open netlink socket");
  const sa = new Uint8Array(sys.SOCKADDR_MAX);
  try {
    assert.equal(sys.getsockname(fd, sa), 12);
    assert.equal(new DataView(sa.buffer).getUint16(0, true), sys.AF_NETLINK);
    assert.notEqual(new DataView(sa.buffer).getUint32(4, true), 0, "kernel assigned a port id");
  } finally {
    sys.close(fd);
  }
});

Deno.test("ifindex() finds lo and reports a missing interface", () => {
  assert.equal(sys.ifindex("lo"), 1);
  assert.equal(sys.ifindex("nosuchif0"), -19);
});
