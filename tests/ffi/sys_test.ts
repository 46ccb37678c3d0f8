// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { EAGAIN, EBADF, ECONNREFUSED, EINVAL } from "../../ffi/errno.ts";
import { lib } from "../../ffi/lib.ts";
import * as sys from "../../ffi/sys.ts";
import {
  fromCstr,
  parseSockaddr,
  sockaddrIn,
  sockaddrIn6,
  sockaddrUn,
} from "../_helpers/sockaddr.ts";

const L = lib();

const LOOPBACK = 0x7f000001;
/** SO_NO_CHECK: UDP without checksums (socket(7)); the kernel then refuses UDP GSO. */
const SO_NO_CHECK = 11;

/** Pair of connected, non-blocking sockets of a type. */
function pair(type: number): [number, number] {
  const fds = new Int32Array(2);
  sys.sysCheck(
    L.pf_socketpair(sys.AF_UNIX, type | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC, 0, fds),
    "create socket pair",
  );
  return [fds[0]!, fds[1]!];
}

/** Non-blocking UDP socket bound to 127.0.0.1 on a free port, and the port. */
function udpSocket(): [number, number] {
  const fd = sys.sysCheck(
    L.pf_socket(sys.AF_INET, sys.SOCK_DGRAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC, 0),
    "create UDP socket",
  );
  sys.sysCheck(bindTo(fd, sockaddrIn(LOOPBACK, 0)), "bind UDP socket");
  return [fd, boundPort(fd)];
}

/** bind(2) to an encoded address: 0 or -errno. */
function bindTo(fd: number, sa: Uint8Array): number {
  return L.pf_bind(fd, sa, sa.length);
}

function boundPort(fd: number): number {
  const sa = new Uint8Array(sys.SOCKADDR_MAX);
  sys.sysCheck(L.pf_getsockname(fd, sa), "get socket name");
  const a = parseSockaddr(sa);
  assert.ok(a && a.family !== sys.AF_UNIX);
  return a.port;
}

/** Closes each descriptor. */
function closeAll(...fds: number[]): void {
  for (const fd of fds) L.pf_close(fd);
}

Deno.test("pf_close(-1) returns -EBADF", () => {
  assert.equal(L.pf_close(-1), -EBADF);
});

Deno.test("pf_connect() to a closed loopback port returns -ECONNREFUSED", () => {
  const probe = L.pf_socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC, 0);
  sys.sysCheck(bindTo(probe, sockaddrIn(LOOPBACK, 0)), "bind probe");
  const port = boundPort(probe);
  L.pf_close(probe);

  const fd = L.pf_socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC, 0);
  const sa = sockaddrIn(LOOPBACK, port);
  const rc = L.pf_connect(fd, sa, sa.length);
  L.pf_close(fd);
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
  assert.deepEqual(parseSockaddr(sockaddrIn(0xc0a80101, 8080)), {
    family: sys.AF_INET,
    addr: 0xc0a80101,
    port: 8080,
  });
  const sa6 = sockaddrIn6([0xfe800000, 0, 0, 1], 53, 3);
  assert.equal(sa6.length, 28);
  assert.deepEqual([...sa6.subarray(2, 4)], [0, 53]);
  assert.deepEqual(parseSockaddr(sa6), {
    family: sys.AF_INET6,
    addr: [0xfe800000, 0, 0, 1],
    port: 53,
    scopeId: 3,
  });
  const un = sockaddrUn("/tmp/x.sock");
  assert.equal(un.length, 2 + 11 + 1);
  assert.deepEqual(parseSockaddr(un), { family: sys.AF_UNIX, path: "/tmp/x.sock" });
  assert.throws(() => sockaddrUn("/" + "a".repeat(120)), RangeError);
  assert.equal(parseSockaddr(new Uint8Array(16)), null);
});

Deno.test("cstr() NUL-terminates UTF-8", () => {
  assert.deepEqual([...sys.cstr("tä")], [0x74, 0xc3, 0xa4, 0]);
  assert.equal(fromCstr(sys.cstr("eth0")), "eth0");
});

Deno.test("pf_epoll_wait() reports a readable pipe with its 64-bit reference", () => {
  const p = new Int32Array(2);
  sys.sysCheck(L.pf_pipe2(p, sys.O_NONBLOCK | sys.O_CLOEXEC), "create pipe");
  const [r, w] = [p[0]!, p[1]!];
  const ep = sys.sysCheck(L.pf_epoll_create(), "create epoll");
  const ev = new Uint8Array(4 * sys.EPOLL_WORDS * 8);
  const evw = new Uint32Array(ev.buffer);
  try {
    sys.sysCheck(
      L.pf_epoll_ctl(ep, sys.EPOLL_CTL_ADD, r, sys.EPOLLIN, 0xdeadbeef, 0x80000007),
      "add",
    );
    assert.equal(L.pf_epoll_wait(ep, ev, 8, 0), 0);

    const data = new TextEncoder().encode("hello");
    assert.equal(L.pf_write(w, data, 0, data.length), 5);
    assert.equal(L.pf_epoll_wait(ep, ev, 8, 1000), 1);
    assert.equal(evw[0]! & sys.EPOLLIN, sys.EPOLLIN);
    assert.equal(evw[1], 0xdeadbeef);
    assert.equal(evw[2], 0x80000007);

    const buf = new Uint8Array(64);
    assert.equal(L.pf_read(r, buf, 10, 54), 5);
    assert.equal(new TextDecoder().decode(buf.subarray(10, 15)), "hello");
    assert.equal(L.pf_read(r, buf, 0, 64), -EAGAIN);
    assert.equal(L.pf_epoll_wait(ep, ev, 8, 0), 0);
    assert.equal(L.pf_epoll_wait(ep, ev, 0, 0), -EINVAL);
  } finally {
    closeAll(ep, r, w);
  }
});

Deno.test("a timerfd fires through epoll and counts expirations", () => {
  const ep = sys.sysCheck(L.pf_epoll_create(), "create epoll");
  const tfd = sys.sysCheck(
    L.pf_timerfd_create(sys.CLOCK_MONOTONIC, sys.TFD_NONBLOCK | sys.TFD_CLOEXEC),
    "create timer",
  );
  const ev = new Uint8Array(4 * sys.EPOLL_WORDS * 4);
  const evw = new Uint32Array(ev.buffer);
  try {
    sys.sysCheck(L.pf_epoll_ctl(ep, sys.EPOLL_CTL_ADD, tfd, sys.EPOLLIN, 42, 0), "add timer");
    assert.equal(L.pf_timerfd_read(tfd), -EAGAIN);
    sys.sysCheck(L.pf_timerfd_settime(tfd, 0, 0, 20_000_000, 0, 0), "arm timer");
    const t0 = performance.now();
    assert.equal(L.pf_epoll_wait(ep, ev, 4, 2000), 1);
    assert.ok(performance.now() - t0 >= 15, "not before the timer was due");
    assert.equal(evw[1], 42);
    assert.equal(L.pf_timerfd_read(tfd), 1);
    assert.equal(L.pf_timerfd_read(tfd), -EAGAIN);
  } finally {
    closeAll(tfd, ep);
  }
});

Deno.test("pf_signal_pipe() turns SIGUSR1 sent to ourselves into one byte", () => {
  const p = new Int32Array(2);
  sys.sysCheck(L.pf_pipe2(p, sys.O_NONBLOCK | sys.O_CLOEXEC), "create pipe");
  const [r, w] = [p[0]!, p[1]!];
  try {
    sys.sysCheck(L.pf_signal_pipe(w), "install signal handlers");
    sys.sysCheck(L.pf_kill(Deno.pid, sys.SIGUSR1), "signal ourselves");
    const buf = new Uint8Array(16);
    let n = -EAGAIN;
    for (let i = 0; i < 200 && n === -EAGAIN; i++) {
      n = L.pf_read(r, buf, 0, 16);
      if (n === -EAGAIN) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    assert.equal(n, 1);
    assert.equal(buf[0], sys.SIGUSR1);
  } finally {
    L.pf_signal_pipe(-1);
    L.pf_close(r);
    L.pf_close(w);
  }
});

/** Sends `sizes` (byte i of datagram k is k + i) with pf_sendmmsg_gso() on `tx`; the result. */
function sendGso(tx: number, arena: Uint8Array, sizes: number[]): number {
  const w = new Uint32Array(arena.buffer);
  let data = 32768;
  for (let k = 0; k < sizes.length; k++) {
    const e = k * sys.MMSG_WORDS;
    w.fill(0, e, e + sys.MMSG_WORDS);
    w[e + sys.MMSG_BUF_OFF] = data;
    w[e + sys.MMSG_BUF_LEN] = sizes[k]!;
    for (let i = 0; i < sizes[k]!; i++) arena[data + i] = (k + i) & 0xff;
    data += sizes[k]!;
  }
  return L.pf_sendmmsg_gso(tx, arena, 0, sizes.length, 0);
}

/** Reads every datagram waiting on `rx`: their sizes, each checked against sendGso()'s pattern. */
function drainGso(rx: number): number[] {
  const buf = new Uint8Array(65536);
  const got: number[] = [];
  for (let n; (n = L.pf_recv(rx, buf, 0, buf.length, sys.MSG_DONTWAIT)) >= 0;) {
    const k = got.length;
    for (let i = 0; i < n; i++) assert.equal(buf[i], (k + i) & 0xff, `datagram ${k}, byte ${i}`);
    got.push(n);
  }
  return got;
}

/**
 * Sends `sizes` with pf_sendmmsg_gso() from a connected socket (set up by
 * `prepare`) to a receiver on the loopback; checks that each datagram arrived
 * whole and in order, and returns the table's MMSG_GSO_REFUSED word.
 */
function gsoRoundTrip(sizes: number[], prepare: (tx: number) => void = () => {}): number {
  const [rx, rxPort] = udpSocket();
  const [tx] = udpSocket();
  const arena = new Uint8Array(1 << 20);
  try {
    const sa = sockaddrIn(LOOPBACK, rxPort);
    sys.sysCheck(L.pf_connect(tx, sa, sa.length), "connect UDP socket");
    assert.equal(L.pf_setsockopt_int(rx, sys.SOL_SOCKET, sys.SO_RCVBUF, 4 << 20), 0);
    prepare(tx);
    assert.equal(sendGso(tx, arena, sizes), sizes.length);
    assert.deepEqual(drainGso(rx), sizes);
    return new Uint32Array(arena.buffer)[sys.MMSG_GSO_REFUSED]!;
  } finally {
    closeAll(rx, tx);
  }
}

Deno.test("pf_sendmmsg_gso() sends runs of equal datagrams as GSO sends: the peer gets each datagram", () => {
  // runs of 1400 (with a shorter tail), 9 x 8000 (more than one GSO send), singles
  const sizes = [1400, 1400, 1400, 700, 9, ...new Array(9).fill(8000), 1, 1];
  assert.equal(gsoRoundTrip(sizes), 0, "no fallback on the loopback");
});

Deno.test("pf_sendmmsg_gso() falls back to plain datagrams where GSO is refused, and says so", () => {
  // without checksums (SO_NO_CHECK) the kernel refuses UDP GSO with EINVAL
  const noCheck = (tx: number) =>
    assert.equal(L.pf_setsockopt_int(tx, sys.SOL_SOCKET, SO_NO_CHECK, 1), 0);
  assert.equal(gsoRoundTrip([1000, 1000, 1000, 10], noCheck), 1, "the caller learns of it");
});

Deno.test("pf_sendmmsg() and pf_recvmmsg() move a batch of UDP datagrams with addresses", () => {
  const [rx, rxPort] = udpSocket();
  const [tx, txPort] = udpSocket();
  const arena = new Uint8Array(65536);
  const w = new Uint32Array(arena.buffer);
  const TAB = 0, NAME = 1024, DATA = 4096;
  const sizes = [1, 100, 1400];
  try {
    arena.set(sockaddrIn(LOOPBACK, rxPort), NAME);
    for (let i = 0; i < sizes.length; i++) {
      const e = (TAB >> 2) + i * sys.MMSG_WORDS;
      w[e + sys.MMSG_BUF_OFF] = DATA + i * 2048;
      w[e + sys.MMSG_BUF_LEN] = sizes[i]!;
      w[e + sys.MMSG_NAME_OFF] = NAME;
      w[e + sys.MMSG_NAME_LEN] = 16;
      arena.fill(0x41 + i, DATA + i * 2048, DATA + i * 2048 + sizes[i]!);
    }
    assert.equal(L.pf_sendmmsg(tx, arena, TAB, sizes.length, 0), 3);
    assert.equal(w[(TAB >> 2) + 2 * sys.MMSG_WORDS + sys.MMSG_MSG_LEN], 1400);

    const RTAB = 512, RNAME = 2048, RDATA = 32768;
    for (let i = 0; i < 8; i++) {
      const e = (RTAB >> 2) + i * sys.MMSG_WORDS;
      w[e + sys.MMSG_BUF_OFF] = RDATA + i * 2048;
      w[e + sys.MMSG_BUF_LEN] = 2048;
      w[e + sys.MMSG_NAME_OFF] = RNAME + i * 32;
      w[e + sys.MMSG_NAME_LEN] = 32;
    }
    assert.equal(L.pf_recvmmsg(rx, arena, RTAB, 8, sys.MSG_DONTWAIT), 3);
    for (let i = 0; i < 3; i++) {
      const e = (RTAB >> 2) + i * sys.MMSG_WORDS;
      assert.equal(w[e + sys.MMSG_MSG_LEN], sizes[i]);
      assert.equal(w[e + sys.MMSG_NAME_LEN], 16);
      assert.equal(w[e + sys.MMSG_MSG_FLAGS], 0);
      assert.equal(arena[RDATA + i * 2048], 0x41 + i);
      assert.equal(arena[RDATA + i * 2048 + sizes[i]! - 1], 0x41 + i);
      assert.deepEqual(parseSockaddr(arena.subarray(RNAME + i * 32, RNAME + i * 32 + 16)), {
        family: sys.AF_INET,
        addr: LOOPBACK,
        port: txPort,
      });
    }
    assert.equal(L.pf_recvmmsg(rx, arena, RTAB, 8, sys.MSG_DONTWAIT), -EAGAIN);
    assert.equal(L.pf_recvmmsg(rx, arena, RTAB, 1025, sys.MSG_DONTWAIT), -EINVAL);
  } finally {
    closeAll(rx, tx);
  }
});

Deno.test("pf_writev(), pf_readv(), pf_sendmsg() and pf_recvmsg() follow iov tables", () => {
  const [a, b] = pair(sys.SOCK_STREAM);
  const arena = new Uint8Array(4096);
  const w = new Uint32Array(arena.buffer);
  try {
    arena.set(new TextEncoder().encode("abc"), 1000);
    arena.set(new TextEncoder().encode("defgh"), 2000);
    w.set([1000, 3, 2000, 5], 0);
    assert.equal(L.pf_writev(a, arena, 0, 2), 8);
    w.set([3000, 4, 3500, 10], 4);
    assert.equal(L.pf_readv(b, arena, 16, 2), 8);
    const dec = new TextDecoder();
    assert.equal(dec.decode(arena.subarray(3000, 3004)), "abcd");
    assert.equal(dec.decode(arena.subarray(3500, 3504)), "efgh");

    assert.equal(L.pf_sendmsg(a, arena, 0, 1, sys.MSG_NOSIGNAL, 0, 0), 3);
    assert.equal(L.pf_recvmsg(b, arena, 16, 1, sys.MSG_PEEK, 0, 0), 3);
    assert.equal(L.pf_recv(b, arena, 100, 10, 0), 3);
    assert.equal(dec.decode(arena.subarray(100, 103)), "abc");
    assert.equal(L.pf_writev(a, arena, 0, 1025), -EINVAL);
  } finally {
    closeAll(a, b);
  }
});

Deno.test("pf_tcp_info() reports an established connection and bytes received", () => {
  const l = L.pf_socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC, 0);
  sys.sysCheck(bindTo(l, sockaddrIn(LOOPBACK, 0)), "bind listener");
  sys.sysCheck(L.pf_listen(l, 1), "listen");
  const c = L.pf_socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC, 0);
  const lsa = sockaddrIn(LOOPBACK, boundPort(l));
  sys.sysCheck(L.pf_connect(c, lsa, lsa.length), "connect");
  const peer = new Uint8Array(sys.SOCKADDR_MAX);
  const s = sys.sysCheck(L.pf_accept4(l, peer, sys.SOCK_CLOEXEC), "accept");
  const buf = new Uint8Array(4096);
  const info = new Uint8Array(4 * sys.TCPI_WORDS + 8);
  const iw = new Uint32Array(info.buffer, 8);
  try {
    assert.deepEqual(parseSockaddr(peer), {
      family: sys.AF_INET,
      addr: LOOPBACK,
      port: boundPort(c),
    });
    buf[600] = 0x5a;
    assert.equal(L.pf_send(c, buf, 0, 1000, sys.MSG_NOSIGNAL), 1000);
    assert.equal(L.pf_recv(s, buf, 2000, 1000, sys.MSG_PEEK | sys.MSG_WAITALL), 1000);
    assert.equal(L.pf_recv_discard(s, 600, sys.MSG_DONTWAIT), 600);
    assert.equal(L.pf_recv(s, buf, 2000, 4096 - 2000, sys.MSG_DONTWAIT), 400);
    assert.equal(buf[2000], 0x5a, "the first 600 bytes were dropped");
    assert.equal(L.pf_tcp_info(s, info, 8), 0);
    assert.equal(iw[sys.TCPI_STATE], 1, "TCP_ESTABLISHED");
    assert.ok(iw[sys.TCPI_OPTLEN]! >= 200, "kernel filled the fields we read");
    assert.ok(iw[sys.TCPI_SND_MSS]! > 0);
    assert.equal(iw[sys.TCPI_BYTES_RECEIVED_LO], 1000);
    assert.equal(iw[sys.TCPI_BYTES_RECEIVED_HI], 0);
    assert.equal(L.pf_getsockopt_int(c, sys.SOL_SOCKET, sys.SO_TYPE), sys.SOCK_STREAM);
    assert.equal(L.pf_setsockopt_int(c, sys.IPPROTO_TCP, sys.TCP_NODELAY, 1), 0);
    assert.equal(L.pf_getsockopt_int(c, sys.IPPROTO_TCP, sys.TCP_NODELAY), 1);
    assert.equal(L.pf_tcp_info(-1, info, 0), -EBADF);
  } finally {
    closeAll(s, c, l);
  }
});

Deno.test("pf_tap_read_batch() and pf_tap_write_batch() keep frame boundaries", () => {
  // A SOCK_SEQPACKET pair returns one message per read, as a tap fd does
  const [a, b] = pair(sys.SOCK_SEQPACKET);
  const arena = new Uint8Array(16384);
  const w = new Uint32Array(arena.buffer);
  try {
    assert.equal(L.pf_tap_read_batch(b, arena, 4096, 8192, 0, 16, 1600), 0, "EAGAIN at once");
    const lens = [60, 1514, 98, 42, 1000, 7];
    let off = 10000;
    for (let i = 0; i < lens.length; i++) {
      arena.fill(i + 1, off, off + lens[i]!);
      w[256 + 2 * i] = off;
      w[256 + 2 * i + 1] = lens[i]!;
      off += lens[i]!;
    }
    assert.equal(L.pf_tap_write_batch(a, arena, 1024, lens.length), lens.length);

    // After 5 frames (2714 bytes) less than 1600 bytes of the 4000 remain
    assert.equal(L.pf_tap_read_batch(b, arena, 4096, 4000, 0, 16, 1600), 5);
    let expect = 4096;
    for (let i = 0; i < 5; i++) {
      assert.equal(w[2 * i], expect, `frame ${i} offset`);
      assert.equal(w[2 * i + 1], lens[i], `frame ${i} length`);
      assert.equal(arena[expect], i + 1);
      assert.equal(arena[expect + lens[i]! - 1], i + 1);
      expect += lens[i]!;
    }
    assert.equal(L.pf_tap_read_batch(b, arena, 4096, 8192, 0, 16, 1600), 1);
    assert.equal(w[1], 7);
    assert.equal(L.pf_tap_read_batch(-1, arena, 4096, 8192, 0, 16, 1600), -EBADF);
    assert.equal(L.pf_tap_write_batch(-1, arena, 1024, 1), -EBADF);
  } finally {
    closeAll(a, b);
  }
});

Deno.test("pf_splice() moves socket data through a pipe", () => {
  const [a, b] = pair(sys.SOCK_STREAM);
  const [c, d] = pair(sys.SOCK_STREAM);
  const p = new Int32Array(2);
  sys.sysCheck(L.pf_pipe2(p, sys.O_NONBLOCK | sys.O_CLOEXEC), "create pipe");
  const buf = new TextEncoder().encode("spliced");
  try {
    assert.ok(L.pf_fcntl(p[0]!, sys.F_GETPIPE_SZ, 0) >= 4096);
    assert.equal(L.pf_write(a, buf, 0, buf.length), 7);
    assert.equal(L.pf_splice(b, p[1]!, 1 << 20, sys.SPLICE_F_MOVE | sys.SPLICE_F_NONBLOCK), 7);
    assert.equal(L.pf_splice(p[0]!, c, 1 << 20, sys.SPLICE_F_MOVE | sys.SPLICE_F_NONBLOCK), 7);
    const out = new Uint8Array(16);
    assert.equal(L.pf_read(d, out, 0, 16), 7);
    assert.equal(new TextDecoder().decode(out.subarray(0, 7)), "spliced");
  } finally {
    for (const fd of [a, b, c, d, p[0]!, p[1]!]) L.pf_close(fd);
  }
});

Deno.test("pf_open(), pf_lseek() and pf_ftruncate() work on a file", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/f`;
  const fd = sys.sysCheck(
    L.pf_open(sys.cstr(path), sys.O_RDWR | sys.O_CREAT | sys.O_CLOEXEC, 0o600),
    `open "${path}"`,
  );
  try {
    const data = new TextEncoder().encode("0123456789");
    assert.equal(L.pf_write(fd, data, 0, 10), 10);
    assert.equal(L.pf_lseek(fd, 2, sys.SEEK_SET), 2);
    assert.equal(L.pf_ftruncate(fd, 5), 0);
    const out = new Uint8Array(10);
    assert.equal(L.pf_read(fd, out, 0, 10), 3);
    assert.equal(new TextDecoder().decode(out.subarray(0, 3)), "234");
    assert.equal(Deno.statSync(path).size, 5);
    assert.equal(L.pf_open(sys.cstr(`${dir}/missing`), sys.O_RDONLY, 0), -2);
  } finally {
    L.pf_close(fd);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("pf_getrandom() fills just the part of the buffer it is given", () => {
  const u8 = new Uint8Array(1 << 20);
  assert.equal(u8.every((x) => x === 0), true);
  assert.equal(L.pf_getrandom(u8, 4096, 64, 0), 64);
  assert.ok(u8.subarray(4096, 4160).some((x) => x !== 0));
  assert.equal(u8[4095], 0);
  assert.equal(u8[4160], 0);
});

Deno.test("pf_raise_nofile() sets the soft limit to the hard limit", () => {
  const n = L.pf_raise_nofile();
  assert.ok(n > 0);
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const m = limits.match(/^Max open files\s+(\S+)\s+(\S+)/m);
  assert.ok(m);
  assert.equal(m[1], m[2]);
});

Deno.test("pf_eventfd() and pf_inotify_*() create usable descriptors", () => {
  const efd = sys.sysCheck(L.pf_eventfd(3, sys.EFD_NONBLOCK | sys.EFD_CLOEXEC), "eventfd");
  const buf = new Uint8Array(8);
  assert.equal(L.pf_read(efd, buf, 0, 8), 8);
  assert.equal(new DataView(buf.buffer).getBigUint64(0, true), 3n);
  L.pf_close(efd);

  const dir = Deno.makeTempDirSync();
  const ifd = sys.sysCheck(L.pf_inotify_init1(sys.IN_NONBLOCK | sys.IN_CLOEXEC), "inotify");
  try {
    assert.ok(L.pf_inotify_add_watch(ifd, sys.cstr(dir), sys.IN_DELETE) > 0);
    Deno.writeTextFileSync(`${dir}/x`, "");
    Deno.removeSync(`${dir}/x`);
    const ev = new Uint8Array(256);
    assert.ok(L.pf_read(ifd, ev, 0, 256) >= 16);
    assert.equal(new DataView(ev.buffer).getUint32(4, true) & sys.IN_DELETE, sys.IN_DELETE);
  } finally {
    L.pf_close(ifd);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("pf_netlink_open() returns a bound NETLINK_ROUTE socket", () => {
  const fd = sys.sysCheck(L.pf_netlink_open(), "open netlink socket");
  const sa = new Uint8Array(sys.SOCKADDR_MAX);
  try {
    assert.equal(L.pf_getsockname(fd, sa), 12);
    assert.equal(new DataView(sa.buffer).getUint16(0, true), sys.AF_NETLINK);
    assert.notEqual(new DataView(sa.buffer).getUint32(4, true), 0, "kernel assigned a port id");
  } finally {
    L.pf_close(fd);
  }
});

Deno.test("pf_ifindex() finds lo and reports a missing interface", () => {
  assert.equal(L.pf_ifindex(sys.cstr("lo")), 1);
  assert.equal(L.pf_ifindex(sys.cstr("nosuchif0")), -19);
});
