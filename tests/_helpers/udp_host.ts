// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp_host.ts` - a UDP test bench: real host sockets, the real tap path and loop
 *
 * {@linkcode HostSock} is a plain, synchronous UDP socket on the host (through
 * the native library), polled by the test. {@linkcode UdpBench} wires a real
 * {@linkcode Tap} (frames fed from the test, frames to the guest recorded), a
 * real {@linkcode Loop} and a {@linkcode Udp} over one arena, so that tests go
 * through sequences, sendmmsg, epoll and recvmmsg as in production.
 *
 * @module
 */

import { MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "../../ffi/sys.ts";
import { strerror } from "../../ffi/errno.ts";
import { lib } from "../../ffi/lib.ts";
import { FlowTable } from "../../src/flow/flow.ts";
import { Udp } from "../../src/proto/udp.ts";
import { l4Checksum6 } from "../../src/wire/checksum.ts";
import * as sa from "../../src/wire/sockaddr.ts";
import {
  ether,
  GUEST_MAC,
  HOST_MAC,
  ip6Bytes,
  ipv4Packet,
  ipv6Packet,
  padProblem,
  testCtx,
  udp4,
} from "./frames.ts";
import { TapBench } from "./tap_bench.ts";

/** A datagram received by a {@linkcode HostSock}. */
export interface Datagram {
  data: Uint8Array;
  /** Source address as text ("127.0.0.1", "::1"). */
  addr: string;
  port: number;
}

function addrText(dv: DataView, off: number): string {
  if (sa.family(dv, off) === sa.AF_INET) {
    const a = sa.addr4(dv, off);
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(dv.getUint16(off + 8 + 2 * i).toString(16));
  return parts.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

function writeAddr(dv: DataView, off: number, v6: boolean, addr: string, port: number): number {
  if (!v6) {
    const p = addr.split(".").map(Number);
    return sa.writeIn4(dv, off, ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0, port);
  }
  const w = new Uint32Array(4);
  if (addr === "::1") w[3] = 1;
  else if (addr !== "::") throw new Error(`test helper only knows :: and ::1, not ${addr}`);
  return sa.writeIn6(dv, off, w, port);
}

/** A UDP port on IPv4 `addr` that the kernel considers free: it picks one for a socket we then close. */
export function freeUdpPort(addr = "127.0.0.1"): number {
  const probe = new HostSock(false, addr);
  probe.close();
  return probe.port;
}

/** A non-blocking UDP socket on the host, polled by the test. */
export class HostSock {
  readonly fd: number;
  readonly port: number;
  readonly #buf = new Uint8Array(70000);
  readonly #dv = new DataView(this.#buf.buffer);
  readonly #iov = new Uint32Array(this.#buf.buffer, 0, 2);

  /** Binds to `addr` (dotted quad, "::" or "::1") and `port` (0: kernel's choice). */
  constructor(readonly v6: boolean, addr: string, port = 0) {
    const ffi = lib();
    const fd = ffi.pf_socket(
      v6 ? sa.AF_INET6 : sa.AF_INET,
      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    if (fd < 0) throw new Error(`socket: ${-fd}`);
    if (v6) ffi.pf_setsockopt_int(fd, 41, 26, 1);
    const len = writeAddr(this.#dv, 16, v6, addr, port);
    const rc = ffi.pf_bind(fd, this.#buf.subarray(16), len);
    if (rc < 0) {
      ffi.pf_close(fd);
      throw new Error(`bind ${addr}:${port}: ${strerror(-rc)}`);
    }
    const out = new Uint8Array(128);
    ffi.pf_getsockname(fd, out);
    this.fd = fd;
    this.port = sa.port(new DataView(out.buffer), 0);
  }

  /** One datagram if any is waiting, else null. */
  recv(): Datagram | null {
    this.#iov[0] = 256;
    this.#iov[1] = this.#buf.length - 256;
    const n = lib().pf_recvmsg(this.fd, this.#buf, 0, 1, MSG_DONTWAIT, 16, 128);
    if (n < 0) return null;
    return {
      data: this.#buf.slice(256, 256 + n),
      addr: addrText(this.#dv, 16),
      port: sa.port(this.#dv, 16),
    };
  }

  /** Sends `data` to `addr`:`port`; returns bytes sent or -errno. */
  sendTo(data: Uint8Array, addr: string, port: number): number {
    this.#buf.set(data, 256);
    this.#iov[0] = 256;
    this.#iov[1] = data.length;
    const len = writeAddr(this.#dv, 16, this.v6, addr, port);
    return lib().pf_sendmsg(this.fd, this.#buf, 0, 1, 0, 16, len);
  }

  /** Echoes every waiting datagram back to its sender; returns how many. */
  echo(): number {
    let n = 0;
    for (let d = this.recv(); d !== null; d = this.recv()) {
      this.sendTo(d.data, d.addr, d.port);
      n++;
    }
    return n;
  }

  /** Closes the socket. */
  close(): void {
    lib().pf_close(this.fd);
  }

  /** Closes the socket at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A frame the program sent to the guest, parsed. */
export interface GuestFrame {
  v6: boolean;
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  /** IPv4 source and destination (u32), or 0 for IPv6. */
  src4: number;
  dst4: number;
  /** IPv6 source and destination words, zero for IPv4. */
  src6: Uint32Array;
  dst6: Uint32Array;
  sport: number;
  dport: number;
  /** UDP checksum field as sent. */
  csum: number;
  /** Whether the IP header (IPv4) and UDP checksum (IPv6, or IPv4 if non-zero) verify. */
  checksumsOk: boolean;
  payload: Uint8Array;
}

/** Parses an Ethernet/IP/UDP frame sent to the guest; null if it is not one. */
export function parseGuestFrame(f: Uint8Array): GuestFrame | null {
  const dv = new DataView(f.buffer, f.byteOffset, f.length);
  const type = dv.getUint16(12);
  const src6 = new Uint32Array(4);
  const dst6 = new Uint32Array(4);
  if (type === 0x0800) {
    if (dv.getUint8(23) !== 17) return null;
    const total = dv.getUint16(16);
    let s = 0;
    for (let i = 14; i < 34; i += 2) s += dv.getUint16(i);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    const l4 = 34;
    const ulen = dv.getUint16(l4 + 4);
    return {
      v6: false,
      dstMac: f.slice(0, 6),
      srcMac: f.slice(6, 12),
      src4: dv.getUint32(26),
      dst4: dv.getUint32(30),
      src6,
      dst6,
      sport: dv.getUint16(l4),
      dport: dv.getUint16(l4 + 2),
      csum: dv.getUint16(l4 + 6),
      checksumsOk: s === 0xffff && !padProblem(f, 0, f.length, 14 + total) && ulen === total - 20,
      payload: f.slice(l4 + 8, l4 + ulen),
    };
  }
  if (type !== 0x86dd || dv.getUint8(20) !== 17) return null;
  for (let i = 0; i < 4; i++) {
    src6[i] = dv.getUint32(22 + 4 * i);
    dst6[i] = dv.getUint32(38 + 4 * i);
  }
  const plen = dv.getUint16(18);
  const l4 = 54;
  const ulen = dv.getUint16(l4 + 4);
  const u8 = f.slice();
  const stored = dv.getUint16(l4 + 6);
  new DataView(u8.buffer).setUint16(l4 + 6, 0);
  let c = l4Checksum6(u8, l4, ulen, 22, 38, 17);
  if (c === 0) c = 0xffff;
  return {
    v6: true,
    dstMac: f.slice(0, 6),
    srcMac: f.slice(6, 12),
    src4: 0,
    dst4: 0,
    src6,
    dst6,
    sport: dv.getUint16(l4),
    dport: dv.getUint16(l4 + 2),
    csum: stored,
    checksumsOk: stored === c && !padProblem(f, 0, f.length, 54 + plen) && ulen === plen,
    payload: f.slice(l4 + 8, l4 + ulen),
  };
}

/** An IPv4 UDP frame from the guest. */
export function guestUdp4(
  src: number,
  dst: number,
  sport: number,
  dport: number,
  payload: Uint8Array,
): Uint8Array {
  return ether(HOST_MAC, GUEST_MAC, 0x0800, ipv4Packet(src, dst, 17, udp4(sport, dport, payload)));
}

/** An IPv6 UDP frame from the guest (checksum filled in). */
export function guestUdp6(
  src: Uint32Array,
  dst: Uint32Array,
  sport: number,
  dport: number,
  payload: Uint8Array,
): Uint8Array {
  return ether(
    HOST_MAC,
    GUEST_MAC,
    0x86dd,
    ipv6Packet(src, dst, 17, udp4(sport, dport, payload), 6),
  );
}

/** Words equal? */
export function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export { ip6Bytes };

/** Tap + loop + UDP over one arena, frames to the guest recorded. */
export class UdpBench extends TapBench {
  readonly udp: Udp;

  /** Builds the bench; `patch` changes the test configuration; `capacity` flows at most. */
  constructor(patch: Parameters<typeof testCtx>[0] = {}, capacity = 1024) {
    super(testCtx(patch), new FlowTable(Uint32Array.of(1, 2, 3, 4), capacity));
    this.udp = new Udp(this.c, this.loop, this.tap, this.arena, this.flows);
    this.tap.handlers.udp = (c, v6, l3, pool, start, now) =>
      this.udp.tapHandler(c, v6, l3, pool, start, now);
  }

  /**
   * Runs the loop and `poll` (host sockets) until `done()` or `ms` elapse;
   * returns whether `done()` became true.
   */
  pump(ms: number, done: () => boolean, poll: () => void = () => {}): boolean {
    const end = performance.now() + ms;
    for (;;) {
      poll();
      this.loop.runOnce(1);
      poll();
      if (done()) return true;
      if (performance.now() > end) return false;
    }
  }

  /** The frames sent to the guest so far, parsed (non-UDP ones left out). */
  parsed(): GuestFrame[] {
    return this.out.map(parseGuestFrame).filter((f): f is GuestFrame => f !== null);
  }

  /** Closes sockets and the epoll instance. */
  override close(): void {
    this.udp.close();
    super.close();
  }
}

/** Runs `fn` with a fresh bench and a host socket on `addr` (IPv6 if `v6`) to echo from; closes both. */
export function withEcho(
  v6: boolean,
  addr: string,
  fn: (b: UdpBench, echo: HostSock) => void,
): void {
  using b = new UdpBench();
  using echo = new HostSock(v6, addr);
  fn(b, echo);
}
