// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `_rig.ts` - the whole guest side for the "tap" and "tcp" targets: `Tap.process` with the
 * real ARP, DHCP, DHCPv6, NDP, ICMP, UDP and TCP handlers, a real loop, and host peers on
 * loopback
 *
 * Theory of operation: the rig is wired as `run.ts` wires pasta (same constructors, same
 * handler hooks), with a back-end that checks every frame sent to the guest
 * ({@linkcode checkFrame}) and records the TCP segments among them. The host side is a TCP
 * listener and a UDP echo socket on 127.0.0.1 and ::1 at fixed ports (the gateway addresses
 * map there), plus a listener handed to the TCP module as a forwarded port, so that the host
 * can open connections towards the guest. Frames are written into the tap's input area as
 * the tap back-ends do, with random bytes between them.
 *
 * Time: the handlers get a fake clock, the real clock plus an offset that
 * {@linkcode Rig.advance} moves forward; timers that upstream and we run from timerfds (TCP)
 * are fired by calling the TCP module's timer handler for every armed timer, as their expiry
 * would. Wake-ups are counted by wrapping every event handler registered in the loop.
 *
 * The rig opens sockets towards whatever the guest addresses: run it only in a network
 * namespace of its own (the runner does).
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { EpollType, Loop } from "../../src/loop/loop.ts";
import { Icmp } from "../../src/proto/icmp.ts";
import { INACTIVITY_INTERVAL, Tcp } from "../../src/proto/tcp.ts";
import { LISTEN_V6 } from "../../src/fwd/listen.ts";
import { FlowTable } from "../../src/flow/flow.ts";
import { Udp } from "../../src/proto/udp.ts";
import { Arena } from "../../src/tap/arena.ts";
import { Tap, type TapBackend } from "../../src/tap/tap.ts";
import * as sa from "../../src/wire/sockaddr.ts";
import {
  GUEST_MAC,
  readTcpFields,
  type TcpFields,
  tcpOptionValues,
  testCtx,
} from "../_helpers/frames.ts";
import type { Ctx } from "../../src/context.ts";
import { checkFrame, countFds, listFds, newFds, type Rng } from "./_lib.ts";
import { MIN_FRAME } from "../_helpers/frames.ts";
import type { HostPorts } from "./_gen.ts";

const SOCK_STREAM = 1, SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_LINGER = 13;
const IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
const MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000;
const EPOLLIN = 1;

/** Fixed host ports in the rig's namespace. */
export const HOST: HostPorts = { tcp: 5201, udp: 5353 };
/** Host port forwarded to the guest (host connects here, the guest gets a SYN). */
export const FWD_PORT = 8080;
/** Guest port that {@linkcode FWD_PORT} forwards to. */
export const FWD_TARGET = 80;

/**
 * Highest rate of idle wake-ups that send nothing to the guest (per second): the timers of a
 * few connections stay far below, a level-triggered event nobody consumes goes far above.
 */
export const WAKEUPS_MAX = 2000;

/** Configurations the rig runs with: the variant of a run is its seed modulo their number. */
export const VARIANTS = [
  "pasta defaults, MTU 65520",
  "passt, MTU 1500",
  "MTU 1280, gateway not mapped to the host (--no-map-gw)",
  "DNS forwarding (--dns-forward) to the host's loopback, both families",
  "IPv4 only, MTU 576",
  "IPv6 only",
];

/** The test context for configuration `variant`. */
export function configure(variant: number): Ctx {
  const v = variant % VARIANTS.length;
  const c = v === 1
    ? testCtx({ mode: "passt", mtu: 1500 })
    : v === 2
    ? testCtx({ mtu: 1280 })
    : v === 4
    ? testCtx({ v6: false, mtu: 576 })
    : v === 5
    ? testCtx({ v4: false })
    : testCtx();
  if (v === 2) {
    // --no-map-gw: the host's loopback is not mapped, either family
    c.conf.ip4.mapHostLoopback = 0;
    c.conf.ip6.mapHostLoopback.fill(0);
  }
  if (v === 3) {
    c.conf.ip4.dnsMatch = c.conf.ip4.dns[0]!;
    c.conf.ip4.dnsHost = 0x7f000001;
    c.conf.ip6.dnsMatch.set(c.conf.ip6.dns[0]!);
    c.conf.ip6.dnsHost.set([0, 0, 0, 1]);
  }
  return c;
}

/** A TCP segment sent to the guest: `sport` is the remote (host-side) port, `dport` the guest's. */
export interface Seg extends TcpFields {
  v6: boolean;
  /** Payload length, and the window scale option of a SYN (-1 if none). */
  plen: number;
  ws: number;
}

/** A broken invariant found by the rig. */
export class RigError extends Error {
  /** The message says which invariant. */
  constructor(message: string) {
    super(message);
    this.name = "RigError";
  }
}

/** The guest side of a pasta-like process, with host peers. */
export class Rig implements TapBackend {
  readonly c: Ctx;
  readonly arena = new Arena(new ArrayBuffer(64 * 1024 * 1024));
  readonly loop = new Loop();
  readonly tap: Tap;
  readonly tcp: Tcp;
  readonly udp: Udp;
  readonly icmp: Icmp;
  /** Segments to the guest not yet taken by the caller. */
  segs: Seg[] = [];
  /** Host-side sockets: listeners, echo sockets, the forwarded listener, accepted peers. */
  readonly listen: number[] = [];
  readonly echo: number[] = [];
  readonly fwd: number[] = [];
  /** Accepted (and connected, for inbound) host peers still open. */
  peers: number[] = [];
  offset = 0;
  /** Handler invocations since the last reset, and frames checked. */
  wakeups = 0;
  /** Of those, the ones that sent nothing to the guest. */
  fruitless = 0;
  /** Connections that only the inactivity timeout removed when draining. */
  idleReset = 0;
  /** Their states (events, whether a timer was armed), counted. */
  idleStates: Record<string, number> = {};
  byKind: Record<string, number> = {};
  framesOut = 0;
  /** Frames to the guest by kind (ARP, IP protocol, ICMPv6 type). */
  outKinds: Record<string, number> = {};
  #buf = new Uint8Array(65536);
  #sa = new Uint8Array(128);
  #echoBuf = new Uint8Array(65536 + 256);
  #desc: Uint32Array | null = null;
  #descOff = -1;

  /** Builds the rig with configuration `variant` (see {@linkcode VARIANTS}). */
  constructor(readonly variant = 0) {
    const c = this.c = configure(variant);
    c.macGuest.set(GUEST_MAC);
    c.ip4AddrSeen = c.conf.ip4.addr;
    c.ip6AddrSeen.set(c.conf.ip6.addr);
    const tap = this.tap = new Tap(c, this.arena);
    tap.backend = this;
    const flows = new FlowTable(Uint32Array.of(1, 2, 3, 4), 2048);
    this.icmp = new Icmp(c, this.loop, tap, this.arena, flows);
    this.tcp = new Tcp(c, this.loop, tap, this.arena, {
      secret: Uint32Array.of(1, 2, 3, 4),
      capacity: 1024,
      flows,
    });
    this.udp = new Udp(c, this.loop, tap, this.arena, flows);
    tap.handlers.icmp = (cc, v6, l3, l4, len, now) =>
      this.icmp.tapHandler(cc, v6, l3, l4, len, now);
    tap.handlers.tcp = (cc, v6, l3, pool, start, now) =>
      this.tcp.tapHandler(cc, v6, l3, pool, start, now);
    tap.handlers.udp = (cc, v6, l3, pool, start, now) =>
      this.udp.tapHandler(cc, v6, l3, pool, start, now);
    this.loop.defer(() => tap.flush());
    // Count every wake-up of every handler.
    const count = <T extends unknown[]>(fn: (...a: T) => void, kind: string) => (...a: T): void => {
      this.wakeups++;
      const before = this.framesOut + this.tap.queued;
      fn(...a);
      if (this.framesOut + this.tap.queued === before) {
        this.fruitless++;
        this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
      }
    };
    const t = this.tcp, u = this.udp, i = this.icmp;
    this.loop.on(EpollType.TCP, count((e, f, x, n) => t.sockHandler(e, f, x, n), "t.sockHandler"));
    this.loop.on(
      EpollType.TCP_TIMER,
      count((e, f, x, n) => t.timerHandler(e, f, x, n), "t.timerHandler"),
    );
    this.loop.on(
      EpollType.TCP_LISTEN,
      count((e, f, x, n) => t.listenHandler(e, f, x, n), "t.listenHandler"),
    );
    this.loop.on(EpollType.UDP, count((e, f, x, n) => u.sockHandler(e, f, x, n), "u.sockHandler"));
    this.loop.on(
      EpollType.UDP_LISTEN,
      count((e, f, x, n) => u.listenHandler(e, f, x, n), "u.listenHandler"),
    );
    this.loop.on(EpollType.ICMP, count((e, f, x, n) => i.sockHandler(e, f, x, n), "i.sockHandler"));
    this.loop.on(
      EpollType.ICMPV6,
      count((e, f, x, n) => i.sockHandler(e, f, x, n), "i.sockHandler"),
    );
    for (const v6 of [false, true]) {
      this.listen.push(this.#socket(v6, SOCK_STREAM, HOST.tcp, true));
      this.echo.push(this.#socket(v6, SOCK_DGRAM, HOST.udp, false));
      const f = this.#socket(v6, SOCK_STREAM, FWD_PORT, true);
      this.fwd.push(f);
      this.loop.add(f, EpollType.TCP_LISTEN, FWD_TARGET | (v6 ? LISTEN_V6 : 0), EPOLLIN);
    }
  }

  #socket(v6: boolean, type: number, port: number, listen: boolean): number {
    const ffi = lib();
    const fd = ffi.pf_socket(v6 ? 10 : 2, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`socket: ${fd}`);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (v6) ffi.pf_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    const d = new DataView(this.#sa.buffer);
    const len = v6
      ? sa.writeIn6(d, 0, Uint32Array.of(0, 0, 0, 1), port)
      : sa.writeIn4(d, 0, 0x7f000001, port);
    let rc = ffi.pf_bind(fd, this.#sa, len);
    if (rc === 0 && listen) rc = ffi.pf_listen(fd, 1024);
    if (rc < 0) throw new Error(`bind ${port}: ${rc} (is this a namespace of our own?)`);
    return fd;
  }

  /** The fake clock. */
  now(): number {
    return performance.now() + this.offset;
  }

  /** Checks and records the frames the tap sends (the back-end of the tap). */
  send(descOff: number, count: number): number {
    if (descOff !== this.#descOff) {
      this.#desc = new Uint32Array(this.tap.u8.buffer, this.tap.u8.byteOffset + descOff, count * 2);
      this.#descOff = descOff;
    }
    if (this.#desc!.length < count * 2) {
      this.#desc = new Uint32Array(this.tap.u8.buffer, this.tap.u8.byteOffset + descOff, count * 2);
    }
    const q = this.#desc!;
    const u8 = this.tap.u8;
    const dv = this.tap.dv;
    for (let k = 0; k < count; k++) {
      const off = q[k * 2]!, len = q[k * 2 + 1]!;
      const bad = len < MIN_FRAME ? `${len}-byte frame, not padded` : checkFrame(u8, off, len);
      if (bad) throw new RigError(`malformed frame to the guest: ${bad}`);
      this.framesOut++;
      const type = dv.getUint16(off + 12);
      const kind = type === 0x0806
        ? "arp"
        : type === 0x0800
        ? `ip4.${u8[off + 23]}`
        : `ip6.${u8[off + 20]}${u8[off + 20] === 58 ? "." + u8[off + 54] : ""}`;
      this.outKinds[kind] = (this.outKinds[kind] ?? 0) + 1;
      let l4: number;
      if (type === 0x0800 && u8[off + 23] === 6) l4 = off + 14 + (u8[off + 14]! & 15) * 4;
      else if (type === 0x86dd && u8[off + 20] === 6) l4 = off + 54;
      else continue;
      const hl = (u8[l4 + 12]! >> 4) * 4;
      this.segs.push({
        v6: type === 0x86dd,
        ...readTcpFields(dv, l4),
        plen: off + len - l4 - hl,
        ws: tcpOptionValues(u8, l4).ws,
      });
    }
    return count;
  }

  /** Writes `frames` into the input area (random gaps between them) and processes them. */
  inject(frames: Uint8Array[], rng: Rng): void {
    const tap = this.tap;
    let o = tap.inOff;
    tap.frames.flush();
    for (const f of frames) {
      const gap = rng.below(64);
      for (let k = 0; k < gap; k++) tap.u8[o + k] = rng.u32() & 0xff;
      o += gap;
      if (o + f.length + 64 > tap.inOff + tap.inLen) break;
      tap.u8.set(f, o);
      tap.frames.add(o, f.length);
      o += f.length;
      for (let k = 0; k < 16; k++) tap.u8[o + k] = rng.u32() & 0xff;
    }
    tap.process(this.now());
  }

  /** Runs `n` loop iterations without waiting, serving the host side in between. */
  pump(n = 2): void {
    for (let k = 0; k < n; k++) {
      this.loop.runOnce(0);
      this.serveHost();
    }
  }

  /** Accepts host-side connections and echoes UDP datagrams back. */
  serveHost(): void {
    const ffi = lib();
    for (const l of this.listen) {
      for (;;) {
        const fd = ffi.pf_accept4(l, this.#sa, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        this.peers.push(fd);
      }
    }
    // Echo: iov table at 0, peer name at 64, data at 256 of a private buffer.
    const b = this.#echoBuf;
    const iov = new Uint32Array(b.buffer, 0, 2);
    for (let f = 0; f < this.echo.length; f++) {
      const e = this.echo[f]!;
      for (let k = 0; k < 16; k++) {
        iov[0] = 256;
        iov[1] = b.length - 256;
        const n = ffi.pf_recvmsg(e, b, 0, 1, MSG_DONTWAIT, 64, 128);
        if (n < 0) break;
        iov[1] = n;
        ffi.pf_sendmsg(e, b, 0, 1, MSG_DONTWAIT | MSG_NOSIGNAL, 64, f === 1 ? 28 : 16);
      }
    }
  }

  /** A host peer: connects to the forwarded port (the TCP module offers it to the guest). */
  connectFwd(v6: boolean): number {
    const ffi = lib();
    const fd = ffi.pf_socket(v6 ? 10 : 2, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const d = new DataView(this.#sa.buffer);
    const len = v6
      ? sa.writeIn6(d, 0, Uint32Array.of(0, 0, 0, 1), FWD_PORT)
      : sa.writeIn4(d, 0, 0x7f000001, FWD_PORT);
    ffi.pf_connect(fd, this.#sa, len);
    this.peers.push(fd);
    return fd;
  }

  /** Writes up to `n` bytes from a host peer; returns bytes written. */
  peerWrite(fd: number, n: number): number {
    const r = lib().pf_send(
      fd,
      this.#buf,
      0,
      Math.min(n, this.#buf.length),
      MSG_DONTWAIT | MSG_NOSIGNAL,
    );
    return r > 0 ? r : 0;
  }

  /** Reads what a host peer has; returns bytes read, -1 at end of file. */
  peerRead(fd: number): number {
    let total = 0;
    for (;;) {
      const r = lib().pf_recv(fd, this.#buf, 0, this.#buf.length, MSG_DONTWAIT);
      if (r === 0) return total ? total : -1;
      if (r < 0) return total;
      total += r;
    }
  }

  /** Half-closes a host peer. */
  peerShutdown(fd: number): void {
    lib().pf_shutdown(fd, 1);
  }

  /** Closes a host peer, with RST if `reset`. */
  peerClose(fd: number, reset: boolean): void {
    const i = this.peers.indexOf(fd);
    if (i < 0) return;
    this.peers.splice(i, 1);
    if (reset) {
      const l = new Uint8Array(8);
      l[0] = 1;
      lib().pf_setsockopt_buf(fd, SOL_SOCKET, SO_LINGER, l, 8);
    }
    lib().pf_close(fd);
  }

  /** Moves the fake clock forward and runs the periodic timers (UDP, ICMP, TCP reaping). */
  advance(ms: number): void {
    this.offset += ms;
    const now = this.now();
    this.udp.timer(now);
    this.icmp.timer(now);
    this.tcp.timer(now);
  }

  /** Fires every armed TCP timer, as if its time had come; returns how many fired. */
  fireTcpTimers(): number {
    const t = this.tcp.conns;
    let n = 0;
    for (let i = 0; i < t.high; i++) {
      const fd = t.timer[i]!;
      if (!t.inUse(i) || fd < 0) continue;
      this.tcp.timerHandler(EPOLLIN, fd, i, this.now());
      n++;
    }
    this.tcp.deferHandler(this.now());
    return n;
  }

  /**
   * Lets everything time out: host peers close (reset when `reset`), TCP timers fire until
   * the table is empty (at most `rounds` times), the clock moves past every idle timeout.
   * Throws a {@linkcode RigError} unless the TCP table and the UDP and ICMP sockets drain.
   */
  drain(reset: boolean, rounds = 40): void {
    // Connections queued at a listener while descriptors ran out can be accepted late, even
    // after the table was empty once: drain until it stays empty.
    for (let pass = 0; pass < 3; pass++) {
      this.#drainOnce(reset, rounds);
      this.advance(200_000);
      this.pump(1);
      for (const fd of [...this.peers]) this.peerClose(fd, reset);
      if (this.tcp.count === 0) break;
    }
    if (this.tcp.count > 0) throw new RigError(`TCP connections left: ${this.describe()}`);
    if (this.udp.tracked !== 0) throw new RigError(`${this.udp.tracked} UDP flows after timeout`);
    this.segs.length = 0;
  }

  #drainOnce(reset: boolean, rounds: number): void {
    for (const fd of [...this.peers]) this.peerClose(fd, reset);
    for (let r = 0; r < rounds && this.tcp.count > 0; r++) {
      this.pump(2);
      // Connections queued at a host listener (while descriptors ran out) come in late.
      for (const fd of [...this.peers]) this.peerClose(fd, reset);
      this.fireTcpTimers();
      this.pump(1);
    }
    if (this.tcp.count === 0) return;
    // Half-closed or idle connections the guest forgot: only the inactivity timeout ends
    // them, between one and two scan intervals after their last activity.
    this.idleReset += this.tcp.count;
    const t = this.tcp.conns;
    for (let i = 0; i < t.high; i++) {
      if (!t.inUse(i)) continue;
      const k = `events 0x${t.events[i]!.toString(16)} timer ${t.timer[i]! >= 0 ? "yes" : "no"}`;
      this.idleStates[k] = (this.idleStates[k] ?? 0) + 1;
    }
    const what = this.describe();
    this.advance(INACTIVITY_INTERVAL);
    this.pump(1);
    this.advance(INACTIVITY_INTERVAL);
    this.pump(2);
    if (this.tcp.count > 0) {
      throw new RigError(`TCP table not drained by timers and inactivity timeout: ${what}`);
    }
  }

  /**
   * Wake-ups per second that sent nothing to the guest, while the harness is idle for `ms`
   * milliseconds of real time (the loop blocks in epoll_wait as the real one does). Wake-ups
   * that move data (a guest with a tiny MSS takes many) don't count: a level-triggered event
   * nobody consumes does.
   */
  idleRate(ms: number): number {
    const start = performance.now();
    this.wakeups = 0;
    this.fruitless = 0;
    this.byKind = {};
    let left = ms;
    while (left > 0) {
      this.loop.runOnce(Math.ceil(left));
      this.serveHost();
      left = ms - (performance.now() - start);
    }
    return this.fruitless / ((performance.now() - start) / 1000);
  }

  /** The TCP connections' states, for failure messages. */
  describe(): string {
    const t = this.tcp.conns;
    const st = [];
    for (let i = 0; i < t.high; i++) {
      if (!t.inUse(i)) continue;
      st.push(
        `[${i}] events 0x${t.events[i]!.toString(16)} flags 0x${t.flags[i]!.toString(16)} ` +
          `epoll 0x${t.epollMask[i]!.toString(16)}`,
      );
    }
    return `${t.count} TCP connections ${st.join(", ")}; fruitless wake-ups by kind ${
      JSON.stringify(this.byKind)
    }`;
  }

  /** Closes everything the rig opened. */
  close(): void {
    const ffi = lib();
    for (const fd of [...this.peers]) this.peerClose(fd, true);
    this.tcp.closeAll();
    this.udp.close();
    this.advance(10_000_000);
    for (const fd of [...this.listen, ...this.echo, ...this.fwd]) {
      this.loop.del(fd);
      ffi.pf_close(fd);
    }
    ffi.pf_close(this.loop.epfd);
  }
}

/**
 * What the stateful targets (tap, tcp) keep across their inputs: one rig, the
 * descriptors open before it started, and the worst idle wake-up rate seen.
 */
export class RigSession {
  readonly rig: Rig;
  readonly fds: number;
  readonly fdList: Map<number, string>;
  maxRate = 0;

  constructor(readonly variant: number) {
    this.rig = new Rig(variant);
    this.fds = countFds();
    this.fdList = listFds();
  }

  /** Measures the idle wake-up rate for `ms`; throws (naming `when`) above WAKEUPS_MAX. */
  checkIdle(ms: number, when: string): void {
    const rate = this.rig.idleRate(ms);
    if (rate > this.maxRate) this.maxRate = rate;
    if (rate > WAKEUPS_MAX) {
      throw new Error(
        `${Math.round(rate)} fruitless wake-ups per second ${when}: ${this.rig.describe()}`,
      );
    }
  }

  /** What differs from the descriptors open at the start, or null when nothing does. */
  fdLeak(): string | null {
    const n = countFds();
    if (n === this.fds) return null;
    return `${n} descriptors open after draining, ${this.fds} before; new: ${newFds(this.fdList)}`;
  }

  /** The rig's counters: frames to the guest, idle timeouts (by state) and the worst idle rate. */
  counters(): Record<string, number> {
    return {
      framesToGuest: this.rig.framesOut,
      maxIdleWakeupsPerSecond: Math.round(this.maxRate),
      closedByInactivityTimeout: this.rig.idleReset,
      ...Object.fromEntries(
        Object.entries(this.rig.idleStates).map(([k, v]) => [`inactive(${k})`, v]),
      ),
    };
  }

  close(): void {
    this.rig.close();
  }
}
