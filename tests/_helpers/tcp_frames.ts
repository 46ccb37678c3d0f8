// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp_frames.ts` - a TCP test bench: the real TCP module and loop against real host
 * sockets, with the test playing the guest
 *
 * {@linkcode TcpBench} owns an arena, a real {@linkcode Loop}, a recording tap
 * ({@linkcode RecTap}: every queued frame is copied and parsed) and a
 * {@linkcode Tcp}. {@linkcode GuestConn} is a minimal guest-side TCP endpoint
 * that builds segments into the arena and feeds them to the tap handler as one
 * sequence, the way `tap.ts` does. Host sockets are plain non-blocking sockets
 * through the native library ({@linkcode HostListener}, {@linkcode HostConn}),
 * polled by the test between loop iterations. Test code: allocates freely.
 *
 * @module
 */

import {
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "../../ffi/sys.ts";
import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import type { Ctx } from "../../src/context.ts";
import { Loop } from "../../src/loop/loop.ts";
import { Tcp, type TcpTap } from "../../src/proto/tcp.ts";
import { Arena } from "../../src/tap/arena.ts";
import { Pool } from "../../src/tap/pool.ts";
import { l4Checksum4, l4Checksum6 } from "../../src/wire/checksum.ts";
import * as sa from "../../src/wire/sockaddr.ts";
import {
  concatList,
  GUEST_MAC,
  padProblem,
  readTcpFields,
  type TcpFields,
  tcpOptionValues,
  testCtx,
} from "./frames.ts";

/** TCP flag bits. */
export const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;

/** A frame the TCP module sent to the guest, parsed. */
export interface TapSeg extends TcpFields {
  v6: boolean;
  src: Uint32Array;
  dst: Uint32Array;
  mss: number;
  ws: number;
  payload: Uint8Array;
  /** Whether the IP (v4) and TCP checksums verify. */
  csumOk: boolean;
}

/** Parses an Ethernet frame carrying TCP; throws on anything else. */
export function parseTapSeg(f: Uint8Array): TapSeg {
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const type = dv.getUint16(12);
  const v6 = type === 0x86dd;
  const src = new Uint32Array(4), dst = new Uint32Array(4);
  let l4: number;
  let csumOk: boolean;
  let end: number;
  if (!v6) {
    if (type !== 0x0800) throw new Error(`not IP: ${type.toString(16)}`);
    src[2] = 0xffff;
    dst[2] = 0xffff;
    src[3] = dv.getUint32(26);
    dst[3] = dv.getUint32(30);
    l4 = 34;
    const tot = dv.getUint16(16);
    const l4len = tot - 20;
    let h = 0;
    for (let k = 14; k < 34; k += 2) h += dv.getUint16(k);
    while (h > 0xffff) h = (h & 0xffff) + (h >>> 16);
    csumOk = h === 0xffff &&
      l4Checksum4(f, l4, l4len, src[3]!, dst[3]!, 6) === 0;
    if (padProblem(f, 0, f.length, 14 + tot)) csumOk = false;
    end = 14 + tot;
  } else {
    for (let k = 0; k < 4; k++) {
      src[k] = dv.getUint32(22 + 4 * k);
      dst[k] = dv.getUint32(38 + 4 * k);
    }
    l4 = 54;
    const l4len = dv.getUint16(18);
    csumOk = l4Checksum6(f, l4, l4len, 22, 38, 6) === 0 && !padProblem(f, 0, f.length, 54 + l4len);
    end = 54 + l4len;
  }
  const hlen = (dv.getUint8(l4 + 12) >> 4) * 4;
  const { mss, ws } = tcpOptionValues(f, l4);
  return {
    v6,
    src,
    dst,
    ...readTcpFields(dv, l4),
    mss,
    ws,
    payload: f.slice(l4 + hlen, end),
    csumOk,
  };
}

/** A tap that copies and parses every queued frame. */
export class RecTap implements TcpTap {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Frames not yet taken by the test. */
  segs: TapSeg[] = [];
  flushes = 0;

  /** Records frames over `arena`. */
  constructor(arena: Arena) {
    this.u8 = arena.u8;
    this.dv = arena.dv;
  }

  /** Not used by TCP. */
  slot(): number {
    return -1;
  }

  /** Copies and parses the frame. */
  queue(off: number, len: number): void {
    this.segs.push(parseTapSeg(this.u8.slice(off, off + len)));
  }

  /** Counts flushes. */
  flush(): void {
    this.flushes++;
  }

  /** Returns and forgets the recorded segments. */
  take(): TapSeg[] {
    const s = this.segs;
    this.segs = [];
    return s;
  }
}

/** Words of an IPv4 address as IPv4-mapped (what TapSeg uses). */
export function mapped(a: number): Uint32Array {
  return Uint32Array.of(0, 0, 0xffff, a >>> 0);
}

/** The TCP module, a loop and a recording tap over one arena. */
export class TcpBench {
  readonly c: Ctx;
  readonly arena: Arena;
  readonly loop: Loop;
  readonly tap: RecTap;
  readonly tcp: Tcp;
  /** Area for guest frames. */
  readonly inOff: number;
  readonly pool: Pool;
  /** Fake clock for the tap handler (milliseconds). */
  now = 1000;

  /** Sets up everything; `ctx` defaults to the test context with a known guest address. */
  constructor(ctx?: Ctx) {
    this.c = ctx ?? testCtx();
    this.c.ip4AddrSeen = this.c.conf.ip4.addr;
    this.c.ip6AddrSeen.set(this.c.conf.ip6.addr);
    this.c.macGuest.set(GUEST_MAC);
    this.arena = new Arena(new ArrayBuffer(48 * 1024 * 1024));
    this.loop = new Loop();
    this.tap = new RecTap(this.arena);
    this.tcp = new Tcp(this.c, this.loop, this.tap, this.arena, {
      secret: Uint32Array.of(1, 2, 3, 4),
      capacity: 4096,
    });
    this.inOff = this.arena.alloc(8 * 1024 * 1024, 64);
    this.pool = new Pool(this.arena.size, 1024);
  }

  /** Runs loop iterations for up to `ms` (at least one), returning early once `until()` holds. */
  spin(ms = 50, until?: () => boolean): void {
    const end = performance.now() + ms;
    do {
      this.loop.runOnce(1);
      if (until && until()) return;
    } while (performance.now() < end);
  }

  /** Closes the loop's epoll fd and every connection. */
  close(): void {
    this.tcp.closeAll();
    lib().pf_close(this.loop.epfd);
  }
}

/** One segment for {@linkcode GuestConn.feed}. */
export interface GuestSeg {
  seq: number;
  ack: number;
  flags: number;
  wnd: number;
  payload?: Uint8Array;
  /** Raw option bytes (padded to 4 by the caller). */
  opts?: Uint8Array;
}

/** The guest side of one connection. */
export class GuestConn {
  /** Guest's next sequence number to send, and the next one expected from the host. */
  sndNxt: number;
  rcvNxt = 0;
  /** Highest ACK received, the host's window (scaled) and its scale. */
  sndUna: number;
  peerWnd = 65535;
  peerWs = 0;
  /** Data received in order. */
  received: Uint8Array[] = [];
  receivedLen = 0;
  finRcvd = false;
  rstRcvd = false;
  /** Window the guest advertises (unscaled field) and its scale. */
  wndField = 65535;
  ws = 7;
  mss = 65460;

  /** A guest endpoint `gaddr:gport` talking to `raddr:rport` (IPv4-mapped for IPv4). */
  constructor(
    readonly b: TcpBench,
    readonly v6: boolean,
    readonly gaddr: Uint32Array,
    readonly gport: number,
    readonly raddr: Uint32Array,
    readonly rport: number,
    isn = 1_000_000,
  ) {
    this.sndNxt = isn;
    this.sndUna = isn;
  }

  /** Feeds segments as one sequence to the tap handler. */
  feed(segs: GuestSeg[]): void {
    const b = this.b;
    const u8 = b.arena.u8;
    const dv = b.arena.dv;
    b.pool.flush();
    let off = b.inOff;
    let l3first = -1;
    for (const s of segs) {
      const opts = s.opts ?? new Uint8Array(0);
      const pl = s.payload ?? new Uint8Array(0);
      const l4len = 20 + opts.length + pl.length;
      const l3 = off;
      let l4: number;
      if (!this.v6) {
        dv.setUint8(l3, 0x45);
        dv.setUint8(l3 + 1, 0);
        dv.setUint16(l3 + 2, 20 + l4len);
        dv.setUint32(l3 + 4, 0);
        dv.setUint8(l3 + 8, 64);
        dv.setUint8(l3 + 9, 6);
        dv.setUint16(l3 + 10, 0);
        dv.setUint32(l3 + 12, this.gaddr[3]!);
        dv.setUint32(l3 + 16, this.raddr[3]!);
        l4 = l3 + 20;
      } else {
        dv.setUint32(l3, 0x60000000);
        dv.setUint16(l3 + 4, l4len);
        dv.setUint8(l3 + 6, 6);
        dv.setUint8(l3 + 7, 64);
        for (let k = 0; k < 4; k++) {
          dv.setUint32(l3 + 8 + 4 * k, this.gaddr[k]!);
          dv.setUint32(l3 + 24 + 4 * k, this.raddr[k]!);
        }
        l4 = l3 + 40;
      }
      dv.setUint16(l4, this.gport);
      dv.setUint16(l4 + 2, this.rport);
      dv.setUint32(l4 + 4, s.seq >>> 0);
      dv.setUint32(l4 + 8, s.ack >>> 0);
      dv.setUint8(l4 + 12, ((20 + opts.length) / 4) << 4);
      dv.setUint8(l4 + 13, s.flags);
      dv.setUint16(l4 + 14, s.wnd);
      dv.setUint32(l4 + 16, 0);
      u8.set(opts, l4 + 20);
      u8.set(pl, l4 + 20 + opts.length);
      if (l3first < 0) l3first = l3;
      b.pool.add(l4, l4len);
      off = (l4 + l4len + 63) & ~63;
    }
    let start = 0;
    while (start < b.pool.count) {
      const n = b.tcp.tapHandler(b.c, this.v6, l3first, b.pool, start, b.now);
      start += n > 0 ? n : b.pool.count;
    }
  }

  /** Options of a SYN: MSS, NOP, window scale. */
  synOpts(): Uint8Array {
    return Uint8Array.of(2, 4, this.mss >>> 8, this.mss & 0xff, 1, 3, 3, this.ws);
  }

  /** Sends the SYN. */
  syn(): void {
    this.feed([{ seq: this.sndNxt, ack: 0, flags: SYN, wnd: 65535, opts: this.synOpts() }]);
    this.sndNxt = (this.sndNxt + 1) >>> 0;
  }

  /** Handles segments from the host side: data in order, ACKs, FIN, RST; returns them. */
  absorb(segs: TapSeg[]): TapSeg[] {
    for (const s of segs) {
      if (s.flags & RST) this.rstRcvd = true;
      if (s.flags & ACK) {
        if (((s.ack - this.sndUna) | 0) > 0) this.sndUna = s.ack;
        this.peerWnd = s.wnd << this.peerWs;
      }
      if (s.payload.length && s.seq === this.rcvNxt) {
        this.received.push(s.payload);
        this.receivedLen += s.payload.length;
        this.rcvNxt = (this.rcvNxt + s.payload.length) >>> 0;
      }
      if ((s.flags & FIN) && ((s.seq + s.payload.length) >>> 0) === this.rcvNxt) {
        this.finRcvd = true;
        this.rcvNxt = (this.rcvNxt + 1) >>> 0;
      }
    }
    return segs;
  }

  /** Sends a pure ACK of everything received. */
  ack(): void {
    this.feed([{ seq: this.sndNxt, ack: this.rcvNxt, flags: ACK, wnd: this.wndField }]);
  }

  /** Sends `data` as segments within the host's window; returns bytes sent. */
  send(data: Uint8Array, flags = 0): number {
    const segs: GuestSeg[] = [];
    let off = 0;
    const inflight = (this.sndNxt - this.sndUna) >>> 0;
    let room = this.peerWnd - inflight;
    while (off < data.length && room > 0 && segs.length < 128) {
      const n = Math.min(this.mss, data.length - off, room);
      segs.push({
        seq: this.sndNxt,
        ack: this.rcvNxt,
        flags: ACK | PSH | (off + n === data.length ? flags : 0),
        wnd: this.wndField,
        payload: data.subarray(off, off + n),
      });
      this.sndNxt = (this.sndNxt + n) >>> 0;
      off += n;
      room -= n;
    }
    if (segs.length) this.feed(segs);
    return off;
  }

  /** Sends FIN. */
  fin(): void {
    this.feed([{ seq: this.sndNxt, ack: this.rcvNxt, flags: FIN | ACK, wnd: this.wndField }]);
    this.sndNxt = (this.sndNxt + 1) >>> 0;
  }

  /** Sends RST. */
  rst(): void {
    this.feed([{ seq: this.sndNxt, ack: this.rcvNxt, flags: RST | ACK, wnd: 0 }]);
  }

  /** All data received, concatenated. */
  data(): Uint8Array {
    return concatList(this.received);
  }
}

function writeSa(d: DataView, v6: boolean, addr: Uint32Array | number, port: number): number {
  if (!v6) return sa.writeIn4(d, 0, addr as number, port);
  return sa.writeIn6(d, 0, addr as Uint32Array, port);
}

/** A listening TCP socket on the host, polled by the test. */
export class HostListener {
  readonly fd: number;
  readonly port: number;

  /** Listens on 127.0.0.1 or ::1 (port 0: kernel's choice). */
  constructor(readonly v6: boolean, port = 0) {
    const ffi = lib();
    const fd = ffi.pf_socket(v6 ? 10 : 2, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket: ${fd}`);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    const b = new Uint8Array(128);
    const d = new DataView(b.buffer);
    const len = writeSa(d, v6, v6 ? Uint32Array.of(0, 0, 0, 1) : 0x7f000001, port);
    let rc = ffi.pf_bind(fd, b, len);
    if (rc === 0) rc = ffi.pf_listen(fd, 128);
    if (rc < 0) throw new Error(`bind/listen: ${rc}`);
    ffi.pf_getsockname(fd, b);
    this.fd = fd;
    this.port = sa.port(d, 0);
  }

  /** Accepts one pending connection, or returns null. */
  accept(): HostConn | null {
    const b = new Uint8Array(128);
    const fd = lib().pf_accept4(this.fd, b, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? null : new HostConn(fd);
  }

  /** Closes the socket. */
  close(): void {
    lib().pf_close(this.fd);
  }
}

/** A connected non-blocking TCP socket on the host. */
export class HostConn {
  readonly #buf = new Uint8Array(1 << 20);
  /** Data read so far. */
  chunks: Uint8Array[] = [];
  readLen = 0;
  eof = false;
  /** Last read error (negative errno), 0 if none. */
  error = 0;

  /** Wraps `fd`. */
  constructor(readonly fd: number) {}

  /** Connects to `addr:port` (non-blocking). */
  static connect(v6: boolean, addr: Uint32Array | number, port: number): HostConn {
    const ffi = lib();
    const fd = ffi.pf_socket(v6 ? 10 : 2, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const b = new Uint8Array(128);
    const len = writeSa(new DataView(b.buffer), v6, addr, port);
    ffi.pf_connect(fd, b, len);
    return new HostConn(fd);
  }

  /** Reads what is available. */
  poll(): void {
    for (;;) {
      const n = lib().pf_recv(this.fd, this.#buf, 0, this.#buf.length, MSG_DONTWAIT);
      if (n > 0) {
        this.chunks.push(this.#buf.slice(0, n));
        this.readLen += n;
        continue;
      }
      if (n === 0) this.eof = true;
      else if (n !== -11) this.error = n;
      return;
    }
  }

  /** Writes as much of `data` from `off` as the socket takes; returns the new offset. */
  write(data: Uint8Array, off: number): number {
    while (off < data.length) {
      const n = lib().pf_send(
        this.fd,
        data,
        off,
        Math.min(data.length - off, 1 << 20),
        MSG_DONTWAIT | MSG_NOSIGNAL,
      );
      if (n <= 0) break;
      off += n;
    }
    return off;
  }

  /** shutdown(SHUT_WR). */
  shutdownWrite(): void {
    lib().pf_shutdown(this.fd, 1);
  }

  /** Closes with RST (SO_LINGER zero). */
  reset(): void {
    const l = new Uint8Array(8);
    l[0] = 1;
    lib().pf_setsockopt_buf(this.fd, SOL_SOCKET, SO_LINGER, l, 8);
    lib().pf_close(this.fd);
  }

  /** Closes. */
  close(): void {
    lib().pf_close(this.fd);
  }

  /** Everything read, concatenated. */
  data(): Uint8Array {
    return concatList(this.chunks);
  }
}

/** Number of open file descriptors of this process. */
export function countFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

/** Opens a guest connection to the gateway (host loopback) and completes both handshakes. */
export function openToGateway(
  b: TcpBench,
  v6: boolean,
  l: HostListener,
  gport = 40000,
): { g: GuestConn; h: HostConn } {
  const gaddr = v6 ? b.c.conf.ip6.addr : mapped(b.c.conf.ip4.addr);
  const raddr = v6 ? b.c.conf.ip6.gw : mapped(b.c.conf.ip4.gw);
  const g = new GuestConn(b, v6, gaddr, gport, raddr, l.port);
  g.syn();
  let h: HostConn | null = null;
  b.spin(2000, () => {
    h ??= l.accept();
    return h !== null && b.tap.segs.length > 0;
  });
  const segs = b.tap.take();
  assert.equal(segs.length, 1, "one SYN-ACK");
  const sa = segs[0]!;
  assert.equal(sa.flags, SYN | ACK);
  assert.ok(sa.csumOk);
  assert.equal(sa.ack, g.sndNxt);
  assert.equal(sa.sport, l.port);
  assert.equal(sa.dport, gport);
  assert.deepEqual(sa.src, raddr, "SYN-ACK comes from the address the guest connected to");
  assert.ok(sa.mss > 0 && sa.ws === 8);
  g.rcvNxt = (sa.seq + 1) >>> 0;
  g.peerWs = sa.ws;
  g.sndUna = sa.ack;
  g.peerWnd = sa.wnd;
  g.ack();
  assert.ok(h, "host side accepted");
  return { g, h: h! };
}

/** Runs `body` with a fresh bench and a host listener (IPv6 if `v6`), closing both afterwards. */
export async function withBench(
  v6: boolean,
  body: (b: TcpBench, l: HostListener) => void | Promise<void>,
): Promise<void> {
  const b = new TcpBench();
  const l = new HostListener(v6);
  try {
    await body(b, l);
  } finally {
    b.close();
    l.close();
  }
}
