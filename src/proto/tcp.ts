// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp.ts` - TCP translation between the guest's segments and host sockets (tap path)
 *
 * Theory of operation: there is no TCP stack here and no buffer of our own.
 * Every guest connection is backed by a host kernel socket:
 *
 * - a SYN from the guest (both ends unicast, as upstream) opens a non-blocking
 *   socket to the destination translated by `fwd/nat.ts` (the
 *   `--map-host-loopback` address, by default the gateway, is the host's
 *   loopback); the SYN-ACK goes to the guest only once `connect()` completed,
 *   and a failure answers with RST;
 * - a connection accepted on a forwarded port is spliced (pasta, from
 *   loopback) or becomes a SYN to the guest (or the rule's target address)
 *   from the peer's address as `fwd/nat.ts` shows it; the guest's SYN-ACK
 *   completes it. Connections are flows of the flow table (`tcp_conn.ts`);
 * - socket data is peeked (`MSG_PEEK`, `SO_PEEK_OFF` where the kernel has it,
 *   else skipping already-sent bytes into a scratch area) straight into the
 *   payload areas of pre-built frame slots, at most the guest's window and
 *   MSS, and dropped from the socket (`MSG_TRUNC`) only when the guest
 *   acknowledges it. Duplicate ACKs and the ACK timeout rewind and resend from
 *   the socket;
 * - guest data is written with one `sendmsg()` per batch of segments. The ACK
 *   number towards the guest follows what the real peer acknowledged
 *   (`tcpi_bytes_acked`), or everything written for local or low-RTT peers; the
 *   window towards the guest comes from `tcpi_snd_wnd` and `SO_SNDBUF`, and the
 *   guest's window is applied to the socket with `TCP_WINDOW_CLAMP`.
 *
 * State is a set of event bits (see `tcp_conn.ts`), as upstream. One timerfd
 * per connection (created on first use) implements the ACK coalescing,
 * handshake, retransmission, FIN and activity timeouts. Closed connections are
 * reaped after each loop iteration, compacting the table and updating the
 * indices carried by epoll references.
 *
 * Nothing on the per-packet paths allocates or throws.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import type { Ctx } from "../context.ts";
import { debug, LimitedMessage } from "../log.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType, outOfResources, SOCKET_MAX } from "../loop/loop.ts";
import { sipHash24 } from "../siphash.ts";
import type { Arena } from "../tap/arena.ts";
import type { Pool } from "../tap/pool.ts";
import type { TapOut } from "../tap/tap_out.ts";
import { seqGe, seqGt, seqLe, seqLt } from "../wire/seq.ts";
import * as sa from "../wire/sockaddr.ts";
import * as tcph from "../wire/tcp.ts";
import * as nat from "../fwd/nat.ts";
import * as inany from "../wire/inany.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { listenSlot } from "../fwd/fwd.ts";
import type { FlowTable } from "../flow/flow.ts";
import type { FwdRule } from "../fwd/fwd_rule.ts";
import { LISTEN_OUTBOUND } from "../fwd/listen.ts";
import {
  ACK_FROM_TAP_DUE,
  ACK_TO_TAP_DUE,
  ACTIVE_CLOSE,
  CLOSED,
  ConnTable,
  ESTABLISHED,
  LOCAL,
  SOCK_ACCEPTED,
  SOCK_DRAINED,
  SOCK_FIN_RCVD,
  SOCK_FIN_SENT,
  SOCK_OUT_WAIT,
  STALLED,
  TAP_FIN_ACKED,
  TAP_FIN_RCVD,
  TAP_FIN_SENT,
  TAP_SYN_ACK_SENT,
  TAP_SYN_RCVD,
  TCP_MAX_CONNS,
  V6,
  WND_CLAMPED,
  WND_SHORT,
  WND_WAIT,
} from "./tcp_conn.ts";
import { MSS4, MSS6, TCP_FRAMES, TcpBufs, writeHeaders } from "./tcp_buf.ts";
import {
  CLOCK_MONOTONIC,
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  IPPROTO_TCP,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_PEEK,
  SHUT_WR,
  SO_BINDTODEVICE,
  SO_ERROR,
  SO_LINGER,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_MAXSEG,
  TCP_WINDOW_CLAMP,
  TFD_CLOEXEC,
  TFD_NONBLOCK,
} from "../../ffi/sys.ts";
import { EAGAIN, EINPROGRESS, EPIPE, strerror } from "../../ffi/errno.ts";

/** Retransmissions before giving up (upstream TCP_MAX_RETRANS). */
export const TCP_MAX_RETRANS = 7;
/** Timeouts in milliseconds, as upstream. */
export const ACK_INTERVAL = 10;
/** Handshake timeout. */
export const SYN_TIMEOUT = 10_000;
/** Timeout for an ACK of data from the guest. */
export const ACK_TIMEOUT = 2_000;
/** Timeout after both FINs. */
export const FIN_TIMEOUT = 60_000;
/** Activity timeout. */
export const ACT_TIMEOUT = 7_200_000;
/**
 * Milliseconds between inactivity scans (upstream INACTIVITY_INTERVAL): a connection with no
 * activity on either side for a whole interval is reset, between one and two intervals after
 * its last activity.
 */
export const INACTIVITY_INTERVAL = 7_200_000;
/** Largest window we advertise or clamp to (upstream MAX_WINDOW). */
export const MAX_WINDOW = 1 << 24;
/** Window scale we use towards the guest (upstream MAX_WS). */
export const MAX_WS = 8;
/** A local window cut by queued data under this can't take one full segment: retry on ACK_INTERVAL. */
const SMALL_WINDOW = 65536;
/** Flags that each have a deadline on the connection's timer. */
const TIMED_FLAGS = ACK_TO_TAP_DUE | ACK_FROM_TAP_DUE;
/** Initial window before the handshake completes (RFC 6928). */
export const WINDOW_DEFAULT = 14600;
/** Send buffers below this make us ACK guest data as soon as it is written. */
export const SNDBUF_SMALL = 128 * 1024;
/** Buffers at least this large are halved for the window (upstream SNDBUF_BIG). */
export const SNDBUF_BIG = 4 * 1024 * 1024;
/** Minimum RTT (µs) that marks a peer as local (upstream LOW_RTT_THRESHOLD). */
export const LOW_RTT_THRESHOLD = 10;
/** Entries of the low-RTT destination table (upstream LOW_RTT_TABLE_SIZE). */
export const LOW_RTT_TABLE_SIZE = 8;

// Linux constants.
const SO_PEEK_OFF = 42;
/** TCP_MAXSEG bounds the kernel accepts (TCP_MIN_MSS, MAX_TCP_WINDOW). */
const TCP_MIN_MSS = 88;
const MAXSEG_MAX = 32767;
const INT_MAX_HALF = 0x3fffffff;

/** Words of pf_tcp_info() output. */
const TI_MIN_RTT = 5;
const TI_SND_WND = 6;
const TI_BYTES_ACKED = 7;
const TI_WORDS = 14;

/** Entries of the iov table (UIO_MAXIOV). */
const IOV_MAX = 1024;
/** Bytes of the scratch area that already-sent data is read into without SO_PEEK_OFF. */
const DISCARD_LEN = 65536;
/** Acknowledged bytes left in a socket before they are read away (see ConnTable.unread). */
export const DISCARD_BATCH = 4096;

/**
 * Hook for loopback connections accepted in pasta (spliced path, `tcp_splice.ts`): gets the
 * accepted socket, the target port, whether the peer is IPv6, whether the listener was a
 * namespace-side (-T) one, and the flow's two flowsides from `fwd/nat.ts` (initiating, then
 * target at `SIDE_WORDS`); returns true if it took the socket.
 */
export type SpliceAccept = (
  c: Ctx,
  fd: number,
  port: number,
  v6: boolean,
  outbound: boolean,
  sides: Uint32Array,
  now: number,
) => boolean;

const INVALID = new LimitedMessage(
  "TCP: invalid endpoint in SYN (unspecified, multicast or broadcast address, or port 0)",
);

/** What the TCP module needs from the tap: frame queue plus an explicit flush. */
export interface TcpTap extends TapOut {
  /** Sends every queued frame now. */
  flush(): void;
}

/** Options for {@linkcode Tcp}, mostly for tests. */
export interface TcpOptions {
  /** 128-bit hash and ISN secret (four u32); random from getrandom() by default. */
  secret?: Uint32Array;
  /** Connection table size (default {@linkcode TCP_MAX_CONNS}). */
  capacity?: number;
  /** The process's flow table (default: one of its own, of `capacity` flows). */
  flows?: FlowTable;
}

const NO_CONN = new LimitedMessage(
  "TCP: connection table full or socket unavailable, dropping SYN",
);

const SOCK = new LimitedMessage("TCP: socket error, resetting connection");

/**
 * Initial sequence number (RFC 6528): SipHash-2-4 under `secret` of the 36 bytes at `off` in
 * `u8` (remote address, guest address, both ports) plus a 32 ns clock from `nowMs`.
 */
export function tcpIsn(secret: Uint32Array, u8: Uint8Array, off: number, nowMs: number): number {
  const h = sipHash24(secret, u8, off, 36);
  const ticks = Math.floor(nowMs * 31250) % 0x100000000;
  return (h + ticks) >>> 0;
}

/** The TCP tap-path module: connection table, handlers, timers. */
export class Tcp {
  readonly conns: ConnTable;
  /**
   * The rule of a listener (`fwd/fwd.ts`): `outbound` for `-T` listeners, and the
   * slot from the listener's reference; null (or no hook): no target address.
   */
  ruleAt: ((outbound: boolean, slot: number) => FwdRule | null) | null = null;
  /** Scratch rule for the translation of an accepted connection: target port given, taddr copied. */
  readonly #rule = { first: 0, to: 0, taddr: new Uint32Array(4) };
  /** Hook for spliced (loopback) connections in pasta; null: everything goes through the tap. */
  spliceAccept: SpliceAccept | null = null;
  readonly #c: Ctx;
  readonly #loop: Loop;
  readonly #tap: TcpTap;
  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #u32: Uint32Array;
  readonly #bufs: TcpBufs;
  readonly #secret: Uint32Array;
  /** iov table (in the arena), TCP_INFO words, discard area. */
  readonly #iovOff: number;
  readonly #iov: Uint32Array;
  /** Separate iov table for guest data to the socket (the peek path may run in between). */
  readonly #iovInOff: number;
  readonly #iovIn: Uint32Array;
  readonly #tiOff: number;
  readonly #ti: Uint32Array;
  readonly #discardOff: number;
  /** Socket address scratch (outside the arena: cold calls) and the ISN input. */
  readonly #sa = new Uint8Array(128);
  readonly #sadv = new DataView(this.#sa.buffer);
  readonly #isnBuf = new Uint8Array(36);
  readonly #isnDv = new DataView(this.#isnBuf.buffer);
  readonly #linger = new Uint8Array(8);
  readonly #src6 = new Uint32Array(4);
  readonly #dst6 = new Uint32Array(4);
  readonly #w = new Uint32Array(4);
  readonly #guest = new Uint32Array(4);
  /** Scratch flowsides (initiating, target) for the translation. */
  readonly #sides = new Uint32Array(2 * nat.SIDE_WORDS);
  /** Low-RTT destinations (guest-facing addresses, four words each). */
  readonly #lowRtt = new Uint32Array(LOW_RTT_TABLE_SIZE * 4);
  #lowRttNext = 0;
  /** Whether the kernel supports SO_PEEK_OFF on TCP sockets (probed on first use). */
  #peekOff = -1;
  /** SO_SNDBUF of a new outbound socket, read from the first one (0: not yet). */
  #sndbufNew = 0;
  /** Whether SO_SNDBUF/SO_RCVBUF may be set large (kernel limits allow 4 MiB). */
  #bigBufs = false;
  /** Connections marked CLOSED and not yet reaped. */
  #closing = 0;
  /** Time of the last inactivity scan (-1: none yet). */
  #inactivityRun = -1;
  /** Per-packet scratch of the tap handler (indices of packets past a gap). */
  readonly #keep = new Int32Array(IOV_MAX);
  /** #dataFromTap()'s batch so far: iov entries for the socket, next sequence, FIN seen. */
  #niov = 0;
  #seqFrom = 0;
  #fin = false;

  /** Reserves frame slots and scratch in `arena`, registers the loop handlers. */
  constructor(c: Ctx, loop: Loop, tap: TcpTap, arena: Arena, opts: TcpOptions = {}) {
    this.#c = c;
    this.#loop = loop;
    this.#tap = tap;
    this.#u8 = arena.u8;
    this.#dv = arena.dv;
    this.#u32 = new Uint32Array(arena.u8.buffer, 0, arena.u8.buffer.byteLength >>> 2);
    this.#bufs = new TcpBufs(arena);
    this.#iovOff = arena.alloc(IOV_MAX * 8, 64);
    this.#iov = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset + this.#iovOff, IOV_MAX * 2);
    this.#iovInOff = arena.alloc(IOV_MAX * 8, 64);
    this.#iovIn = new Uint32Array(
      arena.u8.buffer,
      arena.u8.byteOffset + this.#iovInOff,
      IOV_MAX * 2,
    );
    this.#tiOff = arena.alloc(TI_WORDS * 4, 64);
    this.#ti = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset + this.#tiOff, TI_WORDS);
    this.#discardOff = arena.alloc(DISCARD_LEN, 64);
    let secret = opts.secret;
    if (!secret) {
      const b = new Uint8Array(16);
      const rc = lib().pf_getrandom(b, 0, 16, 0);
      if (rc !== 16) throw new Error(`Cannot get random bytes for TCP: ${strerror(-rc)}`);
      secret = new Uint32Array(b.buffer);
    }
    this.#secret = new Uint32Array(secret);
    this.conns = new ConnTable(this.#secret, opts.capacity ?? TCP_MAX_CONNS, opts.flows);
    this.#linger[0] = 1; // l_onoff = 1, l_linger = 0 (native endianness: first int)
    this.#probeBufs();
    const fault = (_fd: number, i: number): void => this.faultClose(i);
    loop.on(EpollType.TCP, (ev, fd, i, now) => this.sockHandler(ev, fd, i, now), fault);
    loop.on(EpollType.TCP_TIMER, (ev, fd, i, now) => this.timerHandler(ev, fd, i, now), fault);
    loop.on(EpollType.TCP_LISTEN, (ev, fd, i, now) => this.listenHandler(ev, fd, i, now));
    loop.defer((now) => this.deferHandler(now));
  }

  /** Whether SO_SNDBUF of INT_MAX/2 gives at least 4 MiB (else keep kernel autotuning). */
  #probeBufs(): void {
    const ffi = lib();
    const fd = ffi.pf_socket(sa.AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, INT_MAX_HALF);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, INT_MAX_HALF);
    const s = ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
    const r = ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
    this.#bigBufs = s >= SNDBUF_BIG && r >= SNDBUF_BIG;
    ffi.pf_close(fd);
  }

  /** Sets large buffers on a new socket when the kernel allows them. */
  #sockBufs(fd: number): void {
    if (!this.#bigBufs) return;
    const ffi = lib();
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, INT_MAX_HALF);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, INT_MAX_HALF);
  }

  /** Number of connections in the table. */
  get count(): number {
    return this.conns.count;
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Sets the epoll mask of connection `i` for its state. */
  #epoll(i: number): void {
    const t = this.conns;
    const ev = t.events[i]!;
    let mask: number;
    if (ev & ESTABLISHED) {
      if (ev & TAP_FIN_SENT) mask = EPOLLET;
      else if (t.flags[i]! & STALLED) mask = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      else mask = EPOLLIN | EPOLLRDHUP;
      if (t.flags[i]! & (SOCK_OUT_WAIT | WND_WAIT)) mask = (mask | EPOLLOUT) & ~EPOLLET;
    } else if ((ev & TAP_SYN_RCVD) && !(ev & TAP_SYN_ACK_SENT)) {
      mask = EPOLLOUT | EPOLLET | EPOLLRDHUP;
    } else {
      // Handshake with the guest pending: a half-close from the socket side
      // is seen once established (the MOD to a level-triggered mask reports
      // it); level-triggered here, it would wake us until then
      mask = EPOLLRDHUP | EPOLLET;
    }
    mask = mask >>> 0;
    if (t.epollMask[i] === mask) return;
    t.epollMask[i] = mask;
    this.#loop.mod(t.sock[i]!, EpollType.TCP, i, mask);
  }

  /** Re-arms the timer of connection `i` for its flags and events. */
  #timer(i: number): void {
    const t = this.conns;
    if (t.flags[i]! & CLOSED) return;
    const fl = t.flags[i]!;
    const ev = t.events[i]!;
    let ms: number;
    if (fl & ACK_TO_TAP_DUE) ms = ACK_INTERVAL;
    else if (fl & ACK_FROM_TAP_DUE) ms = (ev & ESTABLISHED) ? ACK_TIMEOUT : SYN_TIMEOUT;
    else if ((ev & (SOCK_FIN_SENT | TAP_FIN_ACKED)) === (SOCK_FIN_SENT | TAP_FIN_ACKED)) {
      ms = FIN_TIMEOUT;
    } else ms = ACT_TIMEOUT;
    const now = this.#loop.now;
    const at = now + ms;
    t.dueAt[i] = at;
    if ((fl & TIMED_FLAGS) === ACK_FROM_TAP_DUE && t.timerAt[i]! > now && t.timerAt[i]! <= at) {
      // Armed to run out first (an earlier wait for an ACK): its handler arms the rest then.
      // One timerfd_settime() per ACK_TIMEOUT instead of one per segment sent.
      return;
    }
    const ffi = lib();
    let fd = t.timer[i]!;
    if (fd < 0) {
      fd = ffi.pf_timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
      if (fd < 0) return;
      if (fd > SOCKET_MAX || this.#loop.add(fd, EpollType.TCP_TIMER, i, EPOLLIN) < 0) {
        ffi.pf_close(fd);
        return;
      }
      t.timer[i] = fd;
    }
    this.#arm(i, fd, ms, now);
  }

  /** Arms `i`'s timerfd `fd` to run out in `ms` from `now`. */
  #arm(i: number, fd: number, ms: number, now: number): void {
    this.conns.timerAt[i] = now + ms;
    lib().pf_timerfd_settime(fd, 0, Math.floor(ms / 1000), (ms % 1000) * 1_000_000, 0, 0);
  }

  /** Bytes of guest data written to `i`'s socket that the peer hadn't taken at the last TCP_INFO. */
  #unacked(i: number): number {
    const t = this.conns;
    return (t.seqFromTap[i]! - t.seqInitFromTap[i]! - t.peerAcked[i]!) | 0;
  }

  /** Sets flag bits on connection `i`, re-arming the timer when a timed flag appears. */
  #flagSet(i: number, f: number): void {
    const t = this.conns;
    const old = t.flags[i]!;
    t.flags[i] = old | f;
    if ((f & ~old) & TIMED_FLAGS) this.#timer(i);
  }

  /**
   * Clears flag bits on connection `i`, re-arming the timer when a timed flag goes
   * and another is left. With none left, as upstream's conn_flag_do(), the timer
   * runs out at its old deadline and {@linkcode timerHandler} arms the activity
   * timeout then: one timerfd_settime() per request/response instead of two. (A
   * connection whose FIN timeout would apply is closed where its last FIN event
   * is set: {@linkcode #checkDone}.)
   */
  #flagClear(i: number, f: number): void {
    const t = this.conns;
    const old = t.flags[i]!;
    const left = old & ~f;
    t.flags[i] = left;
    if ((f & old) & TIMED_FLAGS && left & TIMED_FLAGS) this.#timer(i);
  }

  /** Marks connection `i` closed; it is reaped after the loop iteration. */
  #close(i: number): void {
    const t = this.conns;
    if (t.flags[i]! & CLOSED) return;
    t.flags[i] = t.flags[i]! | CLOSED;
    t.events[i] = 0;
    this.#closing++;
  }

  /** After a fault in its handler: resets connection `i`, both sides. */
  faultClose(i: number): void {
    if (i < this.conns.count) this.#rst(i);
  }

  /** Sends RST to the guest and closes connection `i` (the host side with RST too). */
  #rst(i: number): void {
    const t = this.conns;
    if (t.flags[i]! & CLOSED) return;
    this.#sendFlags(i, tcph.RST | tcph.ACK);
    this.#lingerZero(i);
    this.#close(i);
  }

  /** Makes the close of connection `i`'s socket send RST to the host peer. */
  #lingerZero(i: number): void {
    const fd = this.conns.sock[i]!;
    if (fd >= 0) lib().pf_setsockopt_buf(fd, SOL_SOCKET, SO_LINGER, this.#linger, 8);
  }

  /** Whether connection `i` is closed on both sides; closes it if so. */
  #checkDone(i: number): boolean {
    const t = this.conns;
    const ev = t.events[i]!;
    if ((ev & (SOCK_FIN_SENT | TAP_FIN_ACKED)) === (SOCK_FIN_SENT | TAP_FIN_ACKED)) {
      this.#close(i);
      return true;
    }
    return false;
  }

  /** Guest-facing source (remote) and destination (guest) addresses into the scratch words. */
  #addrs(i: number): void {
    const t = this.conns;
    const k = i << 2;
    const s = this.#src6, d = this.#dst6;
    s[0] = t.addr[k]!;
    s[1] = t.addr[k + 1]!;
    s[2] = t.addr[k + 2]!;
    s[3] = t.addr[k + 3]!;
    // The guest's address of this connection (its flow's tap side).
    d[0] = t.guest[k]!;
    d[1] = t.guest[k + 1]!;
    d[2] = t.guest[k + 2]!;
    d[3] = t.guest[k + 3]!;
  }

  /** A flags frame slot, flushing the tap when all are in use; -1 if none. */
  #flagsSlot(): number {
    let l2 = this.#bufs.takeFlags();
    if (l2 < 0) {
      this.#flushTap();
      l2 = this.#bufs.takeFlags();
    }
    return l2;
  }

  /** Flushes the tap's queue and frees our slots. */
  #flushTap(): void {
    this.#tap.flush();
    this.#bufs.reset();
  }

  /** Window field to send on connection `i`. */
  #wndField(i: number): number {
    const t = this.conns;
    const w = t.wndToTap[i]! >>> t.wsToTap[i]!;
    return w > 0xffff ? 0xffff : w;
  }

  /**
   * Queues a segment without payload on connection `i` with `flags` (SYN carries MSS and
   * window scale options; SYN and FIN advance seq_to_tap). Returns false if no slot.
   */
  #sendFlags(i: number, flags: number): boolean {
    const t = this.conns;
    const l2 = this.#flagsSlot();
    if (l2 < 0) return false;
    const v6 = (t.flags[i]! & V6) !== 0;
    const hdr = v6 ? 74 : 54;
    let optLen = 0;
    let wnd = this.#wndField(i);
    const u8 = this.#u8;
    if (flags & tcph.SYN) {
      const p = l2 + hdr;
      const mss = this.#ourMss(v6);
      u8[p] = tcph.OPT_MSS;
      u8[p + 1] = 4;
      u8[p + 2] = mss >>> 8;
      u8[p + 3] = mss & 0xff;
      optLen = 4;
      if (t.wsToTap[i]! || (t.events[i]! & SOCK_ACCEPTED)) {
        u8[p + 4] = tcph.OPT_NOP;
        u8[p + 5] = tcph.OPT_WS;
        u8[p + 6] = 3;
        u8[p + 7] = (t.events[i]! & SOCK_ACCEPTED) ? MAX_WS : t.wsToTap[i]!;
        optLen = 8;
      }
      // Windows in SYN segments are never scaled.
      wnd = t.wndToTap[i]! > 0xffff ? 0xffff : t.wndToTap[i]!;
    }
    this.#addrs(i);
    const seq = t.seqToTap[i]!;
    const ack = (flags & tcph.ACK) ? t.seqAckToTap[i]! : 0;
    const len = writeHeaders(
      u8,
      this.#u32,
      this.#dv,
      l2,
      v6,
      this.#c.macGuest,
      this.#c.conf.mac,
      this.#src6[3]!,
      this.#dst6[3]!,
      this.#src6,
      this.#dst6,
      t.sock[i]!,
      t.sockPort[i]!,
      t.tapPort[i]!,
      seq,
      ack,
      flags,
      wnd,
      optLen,
      0,
    );
    if (flags & (tcph.SYN | tcph.FIN)) t.seqToTap[i] = (seq + 1) >>> 0;
    this.#tap.queue(l2, len);
    if (flags & tcph.ACK) this.#ackSent(i);
    return true;
  }

  /** After an ACK went out: keep ACK_TO_TAP_DUE for a zero (or short) window or a lagging ACK. */
  #ackSent(i: number): void {
    const t = this.conns;
    const w = t.wndToTap[i]!;
    const small = w === 0 || ((t.flags[i]! & WND_SHORT) !== 0 && w < SMALL_WINDOW);
    if (small || t.seqAckToTap[i] !== t.seqFromTap[i]) {
      this.#flagSet(i, ACK_TO_TAP_DUE);
    } else if (t.flags[i]! & ACK_TO_TAP_DUE) this.#flagClear(i, ACK_TO_TAP_DUE);
  }

  /** MSS we advertise to the guest. */
  #ourMss(v6: boolean): number {
    const mtu = this.#c.conf.mtu || 65520;
    const mss = mtu - 20 - (v6 ? 40 : 20);
    const max = v6 ? MSS6 : MSS4;
    return mss > max ? max : mss;
  }

  /**
   * Takes the guest's MSS (default 536, at most what our frames carry) and window scale
   * (at most 14; none: no scaling either way) from its SYN or SYN-ACK at `th`.
   */
  #synOptions(i: number, v6: boolean, dv: DataView, th: number, hlen: number): void {
    const t = this.conns;
    const mssOpt = tcph.optMss(dv, th, hlen);
    const max = v6 ? MSS6 : MSS4;
    t.tapMss[i] = mssOpt > 0 ? (mssOpt > max ? max : mssOpt) : 536;
    const wsOpt = tcph.optWscale(dv, th, hlen);
    t.wsFromTap[i] = wsOpt >= 0 ? (wsOpt > 14 ? 14 : wsOpt) : 0;
    t.wsToTap[i] = wsOpt >= 0 ? MAX_WS : 0;
  }

  /** Whether the guest-facing address of `i` is in the low-RTT table. */
  #isLowRtt(i: number): boolean {
    const a = this.conns.addr;
    const k = i << 2;
    const r = this.#lowRtt;
    for (let j = 0; j < LOW_RTT_TABLE_SIZE * 4; j += 4) {
      if (
        r[j] === a[k] && r[j + 1] === a[k + 1] && r[j + 2] === a[k + 2] && r[j + 3] === a[k + 3]
      ) {
        return true;
      }
    }
    return false;
  }

  /** Adds the address of `i` to the low-RTT table. */
  #addLowRtt(i: number): void {
    if (this.#isLowRtt(i)) return;
    const a = this.conns.addr;
    const k = i << 2;
    const j = this.#lowRttNext * 4;
    this.#lowRtt[j] = a[k]!;
    this.#lowRtt[j + 1] = a[k + 1]!;
    this.#lowRtt[j + 2] = a[k + 2]!;
    this.#lowRtt[j + 3] = a[k + 3]!;
    this.#lowRttNext = (this.#lowRttNext + 1) % LOW_RTT_TABLE_SIZE;
  }

  /**
   * Updates the ACK number and window towards the guest from TCP_INFO (upstream
   * tcp_update_seqack_wnd); `force` ACKs everything received. Returns whether either changed.
   * `lazy` (data from the socket, or its EPOLLOUT, which tell nothing new about what the peer
   * took): a local connection whose window is open acknowledges everything it has, as it
   * would anyway, and keeps its window, without asking the kernel, as upstream does without
   * a TCP_INFO at hand. A request/response took six getsockopt() calls per transaction
   * before, against upstream's one.
   */
  #updateSeqAckWnd(i: number, force: boolean, lazy = false): boolean {
    const t = this.conns;
    const fd = t.sock[i]!;
    const oldAck = t.seqAckToTap[i]!;
    const oldWnd = t.wndToTap[i]!;
    const fl = t.flags[i]!;
    const ti = this.#ti;
    // Without TCP_INFO (not asked for, or not given): everything received is acknowledged
    const skip = lazy && !force && (fl & LOCAL) !== 0 && !(fl & (WND_WAIT | WND_SHORT)) &&
      oldWnd > WINDOW_DEFAULT;
    if (skip || lib().pf_tcp_info(fd, this.#u8, this.#tiOff) < 0) {
      t.seqAckToTap[i] = t.seqFromTap[i]!;
      return t.seqAckToTap[i] !== oldAck;
    }
    t.peerAcked[i] = ti[TI_BYTES_ACKED]!;
    if (!(fl & LOCAL) && ti[TI_MIN_RTT]! > 0 && ti[TI_MIN_RTT]! <= LOW_RTT_THRESHOLD) {
      t.flags[i] = fl | LOCAL;
      this.#addLowRtt(i);
    }
    const local = (t.flags[i]! & LOCAL) !== 0;
    // What the guest sent that the peer hasn't acknowledged yet (local connections)
    const queued = this.#unacked(i);
    // The buffer grows (autotuning) as data queues: with little queued, the last size read
    // is as good, and a local window needs no other system call
    if (!local || queued > t.sndbuf[i]! >>> 4) {
      const sb = lib().pf_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
      if (sb > 0) t.sndbuf[i] = sb;
    }
    const sndbuf = t.sndbuf[i]!;
    if (
      force || local || sndbuf < SNDBUF_SMALL ||
      (t.events[i]! & (TAP_FIN_RCVD | SOCK_FIN_SENT)) !== 0
    ) {
      t.seqAckToTap[i] = t.seqFromTap[i]!;
    } else {
      const acked = (t.seqInitFromTap[i]! + ti[TI_BYTES_ACKED]!) >>> 0;
      let v = acked;
      if (seqGt(v, t.seqFromTap[i]!)) v = t.seqFromTap[i]!;
      if (seqGt(v, oldAck)) t.seqAckToTap[i] = v;
    }
    let wnd: number;
    const sndWnd = ti[TI_SND_WND]!;
    let scaled = sndbuf;
    if (sndbuf >= SNDBUF_BIG) scaled = sndbuf / 2;
    else if (sndbuf > SNDBUF_SMALL) {
      scaled = sndbuf * (1 - 0.5 * (sndbuf - SNDBUF_SMALL) / (SNDBUF_BIG - SNDBUF_SMALL));
    }
    scaled = Math.floor(scaled);
    if (local) {
      // Everything written is acknowledged, so the window is the free part of the buffer
      // (less an eighth for the kernel's per-segment overhead). The guest stops sending on a
      // window under one segment and would wait for its persist timer (200 ms and more), so
      // when the window is under an eighth of the buffer (more than 3/4 queued: the kernel
      // reports EPOLLOUT once at most 2/3 are), EPOLLOUT says when to open it again.
      const room = sndbuf - (sndbuf >>> 3);
      scaled = queued <= 0 ? room : room > queued ? room - queued : 0;
      this.#wndWait(i, scaled < sndbuf >>> 3);
      const short = queued > 0 && scaled < SMALL_WINDOW;
      t.flags[i] = short ? t.flags[i]! | WND_SHORT : t.flags[i]! & ~WND_SHORT;
    }
    if (sndWnd) wnd = sndWnd < scaled ? sndWnd : scaled;
    else wnd = scaled;
    if (wnd > MAX_WINDOW) wnd = MAX_WINDOW;
    if (!(t.events[i]! & ESTABLISHED) && wnd < WINDOW_DEFAULT) wnd = WINDOW_DEFAULT;
    // Keep the window a multiple of the scale, so what we send is what we mean.
    const ws = t.wsToTap[i]!;
    wnd = (wnd >>> ws) << ws;
    t.wndToTap[i] = wnd;
    return t.seqAckToTap[i] !== oldAck || wnd !== oldWnd;
  }

  /** Sets or clears WND_WAIT on `i`, watching EPOLLOUT while it is set. */
  #wndWait(i: number, on: boolean): void {
    const t = this.conns;
    const fl = t.flags[i]!;
    // Not again from the EPOLLOUT that ended a wait: a socket the kernel calls writeable
    // (shut down for writing, say) would fire at once, for ever; WND_SHORT's timer retries.
    if (on && this.#wndOut) return;
    if (on === ((fl & WND_WAIT) !== 0)) return;
    t.flags[i] = on ? fl | WND_WAIT : fl & ~WND_WAIT;
    this.#epoll(i);
  }

  /** Sends an ACK on `i` if the ACK number or window changed (or `force`); `lazy` as for #updateSeqAckWnd. */
  #ackIfNeeded(i: number, force: boolean, lazy = false): void {
    const changed = this.#updateSeqAckWnd(i, false, lazy);
    if (changed || force) this.#sendFlags(i, tcph.ACK);
    else this.#ackSent(i);
  }

  /** Applies the guest's window to the socket with TCP_WINDOW_CLAMP (±1 % is ignored). */
  #clampWindow(i: number): void {
    const t = this.conns;
    let w = t.wndFromTap[i]!;
    if (w > MAX_WINDOW) w = MAX_WINDOW;
    if (w < 256) w = 256;
    const prev = t.clamp[i]!;
    if ((t.flags[i]! & WND_CLAMPED) && prev) {
      const d = w > prev ? w - prev : prev - w;
      if (d * 100 < prev) return;
    }
    t.clamp[i] = w;
    t.flags[i] = t.flags[i]! | WND_CLAMPED;
    lib().pf_setsockopt_int(t.sock[i]!, IPPROTO_TCP, TCP_WINDOW_CLAMP, w);
  }

  // ---- socket to guest -----------------------------------------------------------------------

  /** Set while handling EPOLLOUT: WND_WAIT is not set again from there. */
  #wndOut = false;

  /** Whether SO_PEEK_OFF works; probed on the first socket. */
  #usePeekOff(fd: number): boolean {
    if (this.#peekOff < 0) {
      this.#peekOff = lib().pf_setsockopt_int(fd, SOL_SOCKET, SO_PEEK_OFF, 0) === 0 ? 1 : 0;
      return this.#peekOff === 1;
    }
    if (this.#peekOff === 1) lib().pf_setsockopt_int(fd, SOL_SOCKET, SO_PEEK_OFF, 0);
    return this.#peekOff === 1;
  }

  /** Rewinds what was sent to the guest to what it acknowledged (retransmission). */
  #rewind(i: number): void {
    const t = this.conns;
    t.seqToTap[i] = t.seqAckFromTap[i]!;
    t.flags[i] = t.flags[i]! & ~SOCK_DRAINED;
    if (t.events[i]! & TAP_FIN_SENT) t.events[i] = t.events[i]! & ~TAP_FIN_SENT;
    this.#peekFromAcked(i);
  }

  /** Sets the peek offset of `i`'s socket to the first byte the guest hasn't acknowledged. */
  #peekFromAcked(i: number): void {
    const t = this.conns;
    if (this.#peekOff === 1) {
      lib().pf_setsockopt_int(t.sock[i]!, SOL_SOCKET, SO_PEEK_OFF, t.unread[i]!);
    }
  }

  /** Reads away what the guest acknowledged from `i`'s socket; false on a socket error. */
  #discard(i: number): boolean {
    const t = this.conns;
    const n = t.unread[i]!;
    if (n === 0) return true;
    const rc = lib().pf_recv_discard(t.sock[i]!, n, MSG_DONTWAIT);
    if (rc < 0 && rc !== -EAGAIN) return false;
    // (EAGAIN, or fewer: the kernel has less than we counted; nothing is left to skip then)
    t.unread[i] = rc > 0 && rc < n ? n - rc : 0;
    return true;
  }

  /** Sends socket data to the guest as far as its window allows (upstream tcp_data_from_sock). */
  #dataFromSock(i: number): void {
    const t = this.conns;
    const ev = t.events[i]!;
    t.flags[i] = t.flags[i]! & ~SOCK_DRAINED;
    if (!(ev & ESTABLISHED) || (ev & TAP_FIN_SENT) || (t.flags[i]! & CLOSED)) return;
    let inflight = (t.seqToTap[i]! - t.seqAckFromTap[i]!) | 0;
    if (inflight < 0) {
      t.seqToTap[i] = t.seqAckFromTap[i]!;
      inflight = 0;
      this.#peekFromAcked(i);
    }
    const wnd = t.wndFromTap[i]!;
    let avail = wnd - inflight;
    if (avail <= 0) {
      this.#stall(i, true);
      this.#flagSet(i, ACK_FROM_TAP_DUE);
      return;
    }
    const mss = t.tapMss[i]!;
    let nseg = Math.ceil(avail / mss);
    if (nseg > TCP_FRAMES) {
      nseg = TCP_FRAMES;
      avail = nseg * mss;
    }
    const bufs = this.#bufs;
    if (bufs.dataNext + nseg > TCP_FRAMES) this.#flushTap();
    const iov = this.#iov;
    let n = 0;
    const peekOff = this.#peekOff === 1;
    if (!peekOff) {
      let skip = inflight + t.unread[i]!;
      while (skip > 0 && n < IOV_MAX - TCP_FRAMES) {
        const l = skip > DISCARD_LEN ? DISCARD_LEN : skip;
        iov[n * 2] = this.#discardOff;
        iov[n * 2 + 1] = l;
        n++;
        skip -= l;
      }
      if (skip > 0) return;
    }
    const first = n;
    let left = avail;
    for (let s = 0; s < nseg; s++) {
      iov[n * 2] = bufs.payload(bufs.dataNext + s);
      iov[n * 2 + 1] = left > mss ? mss : left;
      left -= mss;
      n++;
    }
    const fd = t.sock[i]!;
    let len = lib().pf_recvmsg(fd, this.#u8, this.#iovOff, n, MSG_PEEK | MSG_DONTWAIT, 0, 0);
    if (len < 0) {
      if (len !== -EAGAIN) {
        SOCK.debug(performance.now());
        this.#rst(i);
      } else {
        if (!(ev & SOCK_FIN_RCVD)) t.flags[i] = t.flags[i]! | SOCK_DRAINED;
        // Nothing past what the guest has yet (SO_PEEK_OFF): the unread data keeps EPOLLIN
        // up, so wait for new data edge-triggered, as upstream, or the loop spins until the
        // guest's ACK.
        if (inflight > 0) this.#stall(i, true);
      }
      return;
    }
    if (!peekOff) len -= inflight + t.unread[i]!;
    const got = len;
    if (len <= 0) {
      if ((ev & SOCK_FIN_RCVD) && len === 0) {
        this.#updateSeqAckWnd(i, false);
        this.#sendFlags(i, tcph.FIN | tcph.ACK);
        t.events[i] = t.events[i]! | TAP_FIN_SENT;
        this.#flagSet(i, ACK_FROM_TAP_DUE);
        this.#epoll(i);
      } else {
        this.#stall(i, true);
      }
      return;
    }
    this.#updateSeqAckWnd(i, false, true);
    const v6 = (t.flags[i]! & V6) !== 0;
    const hdr = v6 ? 74 : 54;
    this.#addrs(i);
    const wndField = this.#wndField(i);
    const c = this.#c;
    let seq = t.seqToTap[i]!;
    const ack = t.seqAckToTap[i]!;
    for (let s = 0; s < nseg && len > 0; s++) {
      const pay = iov[(first + s) * 2]!;
      const seg = iov[(first + s) * 2 + 1]!;
      const plen = len < seg ? len : seg;
      const l2 = pay - hdr;
      const flen = writeHeaders(
        this.#u8,
        this.#u32,
        this.#dv,
        l2,
        v6,
        c.macGuest,
        c.conf.mac,
        this.#src6[3]!,
        this.#dst6[3]!,
        this.#src6,
        this.#dst6,
        fd,
        t.sockPort[i]!,
        t.tapPort[i]!,
        seq,
        ack,
        tcph.ACK | (plen === len ? tcph.PSH : 0),
        wndField,
        0,
        plen,
      );
      this.#tap.queue(l2, flen);
      bufs.dataNext++;
      seq = (seq + plen) >>> 0;
      len -= plen;
    }
    t.seqToTap[i] = seq;
    this.#ackSent(i);
    if (got < avail && !(ev & SOCK_FIN_RCVD)) {
      // Less than we asked for: the socket has nothing more, and new data raises an event even
      // edge-triggered. Staying STALLED spares an epoll_ctl() now and the level-triggered
      // wake-up (by the data the guest has yet to acknowledge) that would set it again.
      t.flags[i] = t.flags[i]! | SOCK_DRAINED;
    } else {
      this.#stall(i, false);
    }
    this.#flagSet(i, ACK_FROM_TAP_DUE);
  }

  /** Sets or clears STALLED on `i`, updating the epoll mask. */
  #stall(i: number, on: boolean): void {
    const t = this.conns;
    const f = t.flags[i]!;
    if (on === ((f & STALLED) !== 0)) return;
    t.flags[i] = on ? f | STALLED : f & ~STALLED;
    this.#epoll(i);
  }

  // ---- guest to socket -----------------------------------------------------------------------

  /**
   * Handles packets `start..` of a TCP sequence from the guest (one flow); returns how many
   * were consumed. Install as `tap.handlers.tcp`.
   */
  tapHandler(c: Ctx, v6: boolean, l3: number, pool: Pool, start: number, now: number): number {
    const dv = this.#dv;
    const count = pool.count - start;
    const th = pool.get(start, 0, tcph.MIN_HEADER_LEN);
    if (th < 0) return 1;
    const hlen = tcph.dataOffset(dv, th);
    const plen0 = pool.lenOf(start);
    if (hlen < tcph.MIN_HEADER_LEN || hlen > plen0) return 1;
    const flags = tcph.flags(dv, th);
    const tapPort = tcph.srcPort(dv, th);
    const sockPort = tcph.dstPort(dv, th);
    const w = this.#w;
    const g = this.#guest;
    if (v6) {
      ipv6.readDst(dv, l3, w);
      ipv6.readSrc(dv, l3, g);
    } else {
      inany.setV4(w, 0, ipv4.dst(dv, l3));
      inany.setV4(g, 0, ipv4.src(dv, l3));
    }
    const t = this.conns;
    const i = t.key(g, 0, w, 0, tapPort, sockPort).lookup();
    if (i < 0) {
      if ((flags & (tcph.SYN | tcph.ACK | tcph.RST)) === tcph.SYN) {
        this.#connFromTap(c, v6, l3, th, hlen, now);
        return 1;
      }
      return count;
    }
    if (t.flags[i]! & CLOSED) return count;
    t.inactive[i] = 0;
    const ev = t.events[i]!;
    if (flags & tcph.RST) {
      this.#lingerZero(i);
      this.#close(i);
      return count;
    }
    if (ev & SOCK_ACCEPTED) {
      this.#connFromSockFinish(i, th, hlen, flags);
      return 1;
    }
    if (ev & TAP_SYN_RCVD) {
      if (flags & tcph.SYN) return 1; // retransmitted SYN: the SYN-ACK comes on connect
      if (!(ev & TAP_SYN_ACK_SENT) || !(flags & tcph.ACK)) {
        this.#rst(i);
        return count;
      }
      if (tcph.ack(dv, th) !== t.seqToTap[i]) {
        this.#rst(i);
        return count;
      }
      t.events[i] = ESTABLISHED;
      t.seqAckFromTap[i] = t.seqToTap[i]!;
      t.wndFromTap[i] = tcph.window(dv, th) << t.wsFromTap[i]!;
      this.#flagClear(i, ACK_FROM_TAP_DUE);
      this.#clampWindow(i);
      this.#epoll(i);
    }
    if (!(t.events[i]! & ESTABLISHED)) return count;
    this.#dataFromTap(i, pool, start, now);
    return count;
  }

  /**
   * Queues for the socket the part of a guest segment (header at `th`, `plen`
   * bytes of payload from `seq`, flags `fl`) past `#seqFrom`, where it starts,
   * and notes its FIN; false if it brings nothing new (a retransmission).
   */
  #takeData(th: number, hlen: number, plen: number, seq: number, fl: number): boolean {
    const seqFrom = this.#seqFrom;
    const end = (seq + plen) >>> 0;
    if (seqLt(end, seqFrom) || (end === seqFrom && !(fl & tcph.FIN))) return false;
    const skip = (seqFrom - seq) | 0;
    const n = this.#niov;
    if (plen - skip > 0 && n < IOV_MAX) {
      this.#iovIn[n * 2] = th + hlen + skip;
      this.#iovIn[n * 2 + 1] = plen - skip;
      this.#niov = n + 1;
      this.#seqFrom = end;
    }
    if (fl & tcph.FIN) this.#fin = true;
    return true;
  }

  /** Processes ACKs and data of an established connection (upstream tcp_data_from_tap). */
  #dataFromTap(i: number, pool: Pool, start: number, _now: number): void {
    const t = this.conns;
    const dv = this.#dv;
    const keep = this.#keep;
    let nkeep = 0;
    let maxAck = t.seqAckFromTap[i]!;
    let ackSeen = false;
    let wnd = t.wndFromTap[i]!;
    let dup = 0;
    let old = false;
    this.#niov = 0;
    this.#seqFrom = t.seqFromTap[i]!;
    this.#fin = false;
    const finRcvd = (t.events[i]! & TAP_FIN_RCVD) !== 0;
    const ws = t.wsFromTap[i]!;
    for (let p = start; p < pool.count; p++) {
      const th = pool.get(p, 0, tcph.MIN_HEADER_LEN);
      if (th < 0) continue;
      const len = pool.lenOf(p);
      const hlen = tcph.dataOffset(dv, th);
      if (hlen < tcph.MIN_HEADER_LEN || hlen > len) {
        this.#rst(i);
        return;
      }
      const fl = tcph.flags(dv, th);
      if (fl & tcph.RST) {
        this.#lingerZero(i);
        this.#close(i);
        return;
      }
      const plen = len - hlen;
      if (fl & tcph.ACK) {
        const a = tcph.ack(dv, th);
        const wv = tcph.window(dv, th) << ws;
        if (!ackSeen || seqGe(a, maxAck)) {
          if (
            plen === 0 && !(fl & tcph.FIN) && a === t.seqAckFromTap[i] && wv === wnd &&
            t.seqToTap[i] !== a
          ) dup++;
          maxAck = a;
          wnd = wv;
          ackSeen = true;
        }
      }
      if (finRcvd || (plen === 0 && !(fl & tcph.FIN))) continue;
      const seq = tcph.seq(dv, th);
      if (seqGt(seq, this.#seqFrom)) {
        if (nkeep < IOV_MAX) keep[nkeep++] = p;
        continue;
      }
      if (!this.#takeData(th, hlen, plen, seq, fl)) old = true;
    }
    // Segments past a gap that the rest of the batch filled.
    for (let again = true; again && nkeep > 0 && !this.#fin;) {
      again = false;
      for (let q = 0; q < nkeep; q++) {
        const p = keep[q]!;
        if (p < 0) continue;
        const th = pool.get(p, 0, tcph.MIN_HEADER_LEN);
        const len = pool.lenOf(p);
        const hlen = tcph.dataOffset(dv, th);
        const seq = tcph.seq(dv, th);
        if (seqGt(seq, this.#seqFrom)) continue;
        keep[q] = -1;
        again = true;
        this.#takeData(th, hlen, len - hlen, seq, tcph.flags(dv, th));
      }
    }
    let gap = false;
    for (let q = 0; q < nkeep; q++) if (keep[q]! >= 0) gap = true;

    // ACKs from the guest: window, consumed socket data, our FIN.
    if (ackSeen) this.#ackFromTap(i, maxAck, wnd, dup >= 2);
    if (t.flags[i]! & CLOSED) return;

    const niov = this.#niov;
    const seqFrom = this.#seqFrom;
    const fin = this.#fin;

    // Data to the socket.
    let partial = false;
    if (niov > 0) {
      const want = (seqFrom - t.seqFromTap[i]!) >>> 0;
      let n = lib().pf_sendmsg(
        t.sock[i]!,
        this.#u8,
        this.#iovInOff,
        niov,
        MSG_DONTWAIT | MSG_NOSIGNAL,
        0,
        0,
      );
      if (n < 0) {
        if (n === -EAGAIN || n === -EPIPE) n = 0;
        else {
          this.#rst(i);
          return;
        }
      }
      t.seqFromTap[i] = (t.seqFromTap[i]! + n) >>> 0;
      partial = n < want;
      if (partial && !(t.flags[i]! & SOCK_OUT_WAIT)) {
        t.flags[i] = t.flags[i]! | SOCK_OUT_WAIT;
        this.#epoll(i);
      }
    }
    if (fin && !partial && !finRcvd) {
      t.seqFromTap[i] = (t.seqFromTap[i]! + 1) >>> 0;
      t.events[i] = t.events[i]! | TAP_FIN_RCVD;
      if (!(t.events[i]! & SOCK_FIN_RCVD)) t.flags[i] = t.flags[i]! | ACTIVE_CLOSE;
      lib().pf_shutdown(t.sock[i]!, SHUT_WR);
      t.events[i] = t.events[i]! | SOCK_FIN_SENT;
      this.#updateSeqAckWnd(i, true);
      this.#sendFlags(i, tcph.ACK);
      if (this.#checkDone(i)) return;
      this.#timer(i);
      return;
    }
    if (niov > 0 || partial || old) {
      // A retransmission of data we have means our ACK was lost or late: ACK again.
      // Written in full, with at most a sixteenth of the buffer written since the kernel
      // last said what the peer took, a local connection's window needs no TCP_INFO (lazy,
      // as for data from the socket): one getsockopt() less per request/response.
      const unseen = this.#unacked(i);
      const lazy = !partial && !old && unseen >= 0 && unseen <= t.sndbuf[i]! >>> 4;
      this.#ackIfNeeded(i, partial || old, lazy);
    }
    if (gap) {
      // Duplicate ACK, at most once per seq_from_tap value (low byte).
      const low = t.seqFromTap[i]! & 0xff;
      if (t.dupAck[i] !== low) {
        t.dupAck[i] = low;
        this.#updateSeqAckWnd(i, false);
        this.#sendFlags(i, tcph.ACK);
        this.#sendFlags(i, tcph.ACK);
      }
    }
  }

  /** Handles the highest ACK of a batch from the guest, with its window. */
  #ackFromTap(i: number, ack: number, wnd: number, retr: boolean): void {
    const t = this.conns;
    const oldWnd = t.wndFromTap[i]!;
    t.wndFromTap[i] = wnd;
    if (wnd !== oldWnd) this.#clampWindow(i);
    const from = t.seqAckFromTap[i]!;
    if (seqGt(ack, from) && seqLe(ack, t.seqToTap[i]!)) {
      let n = (ack - from) >>> 0;
      const finAcked = (t.events[i]! & TAP_FIN_SENT) !== 0 && ack === t.seqToTap[i];
      if (finAcked) n--;
      // Read away in batches: one recv() per request/response exchange was a tenth of its
      // system calls. The peek offset (or the bytes skipped) accounts for what is left.
      t.unread[i] = t.unread[i]! + n;
      if (t.unread[i]! >= DISCARD_BATCH && !this.#discard(i)) {
        this.#rst(i);
        return;
      }
      t.seqAckFromTap[i] = ack;
      t.retrans[i] = 0;
      if (finAcked) {
        t.events[i] = t.events[i]! | TAP_FIN_ACKED;
        if (this.#checkDone(i)) return;
      }
      if (ack === t.seqToTap[i]) this.#flagClear(i, ACK_FROM_TAP_DUE);
      else this.#timer(i);
    }
    if (retr && !(t.events[i]! & TAP_FIN_ACKED)) {
      this.#rewind(i);
      this.#dataFromSock(i);
    } else if (
      !(t.flags[i]! & SOCK_DRAINED) && ((t.flags[i]! & STALLED) || wnd > oldWnd || seqGt(ack, from))
    ) {
      this.#dataFromSock(i);
    }
  }

  // ---- connection set-up ---------------------------------------------------------------------

  /** Fills the ISN input for connection `i` and returns the ISN. */
  #isn(i: number, now: number): number {
    const t = this.conns;
    const d = this.#isnDv;
    const k = i << 2;
    for (let j = 0; j < 4; j++) d.setUint32(j * 4, t.addr[k + j]!);
    const c = this.#c;
    if (t.flags[i]! & V6) {
      for (let j = 0; j < 4; j++) d.setUint32(16 + j * 4, c.conf.ip6.addr[j]!);
    } else {
      d.setUint32(16, 0);
      d.setUint32(20, 0);
      d.setUint32(24, 0xffff);
      d.setUint32(28, c.conf.ip4.addr);
    }
    d.setUint16(32, t.tapPort[i]!);
    d.setUint16(34, t.sockPort[i]!);
    return tcpIsn(this.#secret, this.#isnBuf, 0, now);
  }

  /** Opens a host socket for a SYN from the guest (upstream tcp_conn_from_tap). */
  #connFromTap(c: Ctx, v6: boolean, l3: number, th: number, hlen: number, now: number): void {
    const ffi = lib();
    const dv = this.#dv;
    const t = this.conns;
    const w = this.#w;
    const tapPort = tcph.srcPort(dv, th);
    const sockPort = tcph.dstPort(dv, th);
    // Both ends must be unicast, ports non-zero (upstream): a SYN to 0.0.0.0,
    // a broadcast or a multicast address reaches nothing.
    const f = this.#sides;
    if (v6) {
      for (let j = 0; j < 4; j++) f[nat.EADDR + j] = dv.getUint32(l3 + 8 + j * 4);
    } else {
      inany.setV4(f, nat.EADDR, dv.getUint32(l3 + 12));
    }
    inany.copyAddr(f, nat.OADDR, w, 0);
    f[nat.EPORT] = tapPort;
    f[nat.OPORT] = sockPort;
    if (
      sockPort === 0 || tapPort === 0 || !inany.isUnicast(f, nat.EADDR) ||
      !inany.isUnicast(f, nat.OADDR)
    ) {
      INVALID.debug(now);
      return;
    }
    if (t.count >= t.capacity) {
      NO_CONN.debug(now);
      return;
    }
    const T = nat.SIDE_WORDS;
    nat.natFromTap(c, nat.IPPROTO_TCP, f, 0, f, T);
    const fd = ffi.pf_socket(
      v6 ? sa.AF_INET6 : sa.AF_INET,
      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    if (fd < 0 || fd > SOCKET_MAX) {
      if (fd >= 0) ffi.pf_close(fd);
      NO_CONN.debug(now);
      return;
    }
    const i = t.key(f, nat.EADDR, w, 0, tapPort, sockPort).alloc();
    if (i < 0) {
      ffi.pf_close(fd);
      NO_CONN.debug(now);
      return;
    }
    t.sock[i] = fd;
    t.events[i] = TAP_SYN_RCVD;
    if (v6) t.flags[i] = V6;

    // Destination: the target side of the translation (fwd/nat.ts).
    const sad = this.#sadv;
    let salen: number;
    const local = inany.isLoopback(f, T + nat.EADDR);
    let outbound = !local;
    if (!v6) {
      salen = sa.writeIn4(sad, 0, f[T + nat.EADDR + 3]!, sockPort);
    } else {
      let scope = 0;
      if (inany.isLinkLocal6(f, T + nat.EADDR)) {
        scope = c.conf.ifindex6;
        outbound = false;
      }
      for (let j = 0; j < 4; j++) w[j] = f[T + nat.EADDR + j]!;
      salen = sa.writeIn6(sad, 0, w, sockPort, scope);
    }
    if (local || this.#isLowRtt(i)) t.flags[i] = t.flags[i]! | LOCAL;

    // Options from the guest's SYN.
    this.#synOptions(i, v6, dv, th, hlen);
    const seq = tcph.seq(dv, th);
    t.seqInitFromTap[i] = seq;
    t.seqFromTap[i] = (seq + 1) >>> 0;
    t.seqAckToTap[i] = (seq + 1) >>> 0;
    t.wndFromTap[i] = tcph.window(dv, th);
    const isn = this.#isn(i, now);
    t.seqToTap[i] = isn;
    t.seqAckFromTap[i] = isn;
    t.wndToTap[i] = WINDOW_DEFAULT;

    this.#sockBufs(fd);
    // The kernel refuses an MSS past MAX_TCP_WINDOW (a 64 KiB MTU's): no call then
    const mss = t.tapMss[i]!;
    if (mss >= TCP_MIN_MSS && mss <= MAXSEG_MAX) {
      ffi.pf_setsockopt_int(fd, IPPROTO_TCP, TCP_MAXSEG, mss);
    }
    if (outbound) this.#bindOutbound(fd, v6);
    // A new socket's SO_SNDBUF is the same every time (what #sockBufs asked for, capped by the
    // kernel, or its default): read once
    if (this.#sndbufNew <= 0) this.#sndbufNew = ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
    t.sndbuf[i] = this.#sndbufNew;
    this.#usePeekOff(fd);

    const rc = ffi.pf_connect(fd, this.#sa, salen);
    t.epollMask[i] = (EPOLLOUT | EPOLLET | EPOLLRDHUP) >>> 0;
    if (this.#loop.add(fd, EpollType.TCP, i, t.epollMask[i]!) < 0) {
      t.epollMask[i] = 0;
      this.#rst(i);
      return;
    }
    if (rc === 0) {
      this.#connected(i);
    } else if (rc !== -EINPROGRESS) {
      this.#rst(i);
    }
  }

  /** Binds an outbound socket to -o / --outbound-if addresses and interfaces. */
  #bindOutbound(fd: number, v6: boolean): void {
    const c = this.#c;
    const ffi = lib();
    const ifname = v6 ? c.conf.ip6.ifnameOut : c.conf.ip4.ifnameOut;
    if (ifname) {
      const name = new TextEncoder().encode(ifname + "\0");
      ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    }
    const sad = new Uint8Array(sa.SOCKADDR_MAX);
    const d = new DataView(sad.buffer);
    if (v6) {
      const a = c.conf.ip6.addrOut;
      if (inany.ip6IsZero(a)) return;
      ffi.pf_bind(fd, sad, sa.writeIn6(d, 0, a, 0));
    } else {
      if (!c.conf.ip4.addrOut) return;
      ffi.pf_bind(fd, sad, sa.writeIn4(d, 0, c.conf.ip4.addrOut, 0));
    }
  }

  /** The host connect of `i` completed: SYN-ACK to the guest. */
  #connected(i: number): void {
    const t = this.conns;
    this.#updateSeqAckWnd(i, true);
    if (t.wndToTap[i]! < WINDOW_DEFAULT) t.wndToTap[i] = WINDOW_DEFAULT;
    this.#sendFlags(i, tcph.SYN | tcph.ACK);
    t.events[i] = t.events[i]! | TAP_SYN_ACK_SENT;
    this.#epoll(i);
    this.#flagSet(i, ACK_FROM_TAP_DUE);
  }

  /** The guest answered our SYN (upstream tcp_conn_from_sock_finish). */
  #connFromSockFinish(i: number, th: number, hlen: number, flags: number): void {
    const t = this.conns;
    const dv = this.#dv;
    if ((flags & (tcph.SYN | tcph.ACK)) !== (tcph.SYN | tcph.ACK)) {
      this.#rst(i);
      return;
    }
    if (tcph.ack(dv, th) !== t.seqToTap[i]) {
      this.#rst(i);
      return;
    }
    const v6 = (t.flags[i]! & V6) !== 0;
    this.#synOptions(i, v6, dv, th, hlen);
    const seq = tcph.seq(dv, th);
    // bytes_acked of an accepted socket doesn't count the handshake: start after the SYN.
    t.seqInitFromTap[i] = (seq + 1) >>> 0;
    t.seqFromTap[i] = (seq + 1) >>> 0;
    t.seqAckToTap[i] = (seq + 1) >>> 0;
    t.seqAckFromTap[i] = t.seqToTap[i]!;
    t.wndFromTap[i] = tcph.window(dv, th);
    t.events[i] = ESTABLISHED;
    this.#flagClear(i, ACK_FROM_TAP_DUE);
    this.#clampWindow(i);
    this.#updateSeqAckWnd(i, true);
    this.#sendFlags(i, tcph.ACK);
    this.#epoll(i);
    this.#dataFromSock(i);
  }

  /** Accepts connections on a forwarded port; `index` holds the target port and flags. */
  listenHandler(_events: number, fd: number, index: number, now: number): void {
    const ffi = lib();
    const c = this.#c;
    const sad = this.#sadv;
    for (let n = 0; n < 16; n++) {
      const s = ffi.pf_accept4(fd, this.#sa, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (s < 0) {
        if (outOfResources(s)) this.#loop.rest(fd, EpollType.TCP_LISTEN, index, EPOLLIN);
        else if (s !== -EAGAIN) debug(`TCP: accept failed: ${strerror(-s)}`);
        return;
      }
      if (s > SOCKET_MAX) {
        ffi.pf_close(s);
        continue;
      }
      const port = index & 0xffff;
      const outbound = (index & LISTEN_OUTBOUND) !== 0;
      const rule = this.#rule;
      const fr = this.ruleAt?.(outbound, listenSlot(index)) ?? null;
      if (fr !== null) rule.taddr.set(fr.taddr);
      else rule.taddr.fill(0);
      const w = this.#w;
      let v6 = sa.family(sad, 0) === sa.AF_INET6;
      if (v6) {
        sa.readAddr6(sad, 0, w);
        if (inany.isV4(w, 0)) v6 = false;
      } else {
        inany.setV4(w, 0, sa.addr4(sad, 0));
      }
      const peerPort = sa.port(sad, 0);
      // The initiating side: the peer, and us as it sees us (only loopback
      // matters to the translation: a loopback peer reached a loopback address).
      const f = this.#sides;
      const T = nat.SIDE_WORDS;
      inany.copyAddr(f, nat.EADDR, w, 0);
      if (inany.isLoopback(f, nat.EADDR)) inany.copyAddr(f, nat.OADDR, w, 0);
      else if (v6) f.fill(0, nat.OADDR, nat.OADDR + 4);
      else inany.setV4(f, nat.OADDR, 0);
      f[nat.EPORT] = peerPort;
      f[nat.OPORT] = port;
      if (outbound) {
        if (
          !this.spliceAccept ||
          nat.natFromSplice(rule, nat.IPPROTO_TCP, f, 0, f, T) !== nat.PIF_HOST ||
          !this.spliceAccept(c, s, port, v6, true, f, now)
        ) {
          ffi.pf_close(s);
        }
        continue;
      }
      const pif = nat.natFromHost(c, rule, nat.IPPROTO_TCP, f, 0, f, T);
      if (pif === nat.PIF_SPLICE && this.spliceAccept) {
        if (!this.spliceAccept(c, s, port, v6, false, f, now)) ffi.pf_close(s);
        continue;
      }
      if (pif !== nat.PIF_TAP && pif !== nat.PIF_SPLICE) {
        ffi.pf_close(s);
        continue;
      }
      // Not spliced (passt, or no splicing): through the tap, from the translated source.
      if (pif === nat.PIF_SPLICE) {
        if (!nat.natInbound(c, f, nat.EADDR, f, T + nat.OADDR)) {
          if (!nat.ourTapAddr(c, !v6, f, T + nat.OADDR)) {
            ffi.pf_close(s);
            continue;
          }
        }
      }
      for (let j = 0; j < 4; j++) w[j] = f[T + nat.OADDR + j]!;
      if (!this.#connFromSock(s, v6, port, peerPort, now)) ffi.pf_close(s);
    }
  }

  /** Makes an accepted socket a tap connection: SYN to the guest. */
  #connFromSock(fd: number, v6: boolean, port: number, peerPort: number, now: number): boolean {
    const c = this.#c;
    const t = this.conns;
    if (v6 ? !c.conf.v6 : !c.conf.v4) return false;
    if (!v6 && !(c.ip4AddrSeen || c.conf.ip4.addr)) return false;
    const w = this.#w;
    // The guest side's address: the translation's target (the guest, or the rule's).
    const g = this.#sides, go = nat.SIDE_WORDS + nat.EADDR;
    if (t.key(g, go, w, 0, port, peerPort).lookup() >= 0) return false;
    const i = t.alloc();
    if (i < 0) return false;
    t.sock[i] = fd;
    t.events[i] = SOCK_ACCEPTED;
    t.flags[i] = v6 ? V6 : 0;
    if (this.#isLowRtt(i)) t.flags[i] = t.flags[i]! | LOCAL;
    const ffi = lib();
    this.#sockBufs(fd);
    t.sndbuf[i] = ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
    this.#usePeekOff(fd);
    const isn = this.#isn(i, now);
    t.seqToTap[i] = isn;
    t.seqAckFromTap[i] = isn;
    t.wsToTap[i] = 0;
    t.wndToTap[i] = WINDOW_DEFAULT;
    t.tapMss[i] = 536;
    t.epollMask[i] = (EPOLLRDHUP | EPOLLET) >>> 0;
    if (this.#loop.add(fd, EpollType.TCP, i, t.epollMask[i]!) < 0) {
      t.epollMask[i] = 0;
      t.sock[i] = -1;
      t.free(i);
      return false;
    }
    this.#updateSeqAckWnd(i, true);
    if (t.wndToTap[i]! < WINDOW_DEFAULT) t.wndToTap[i] = WINDOW_DEFAULT;
    this.#sendFlags(i, tcph.SYN);
    this.#flagSet(i, ACK_FROM_TAP_DUE);
    return true;
  }

  // ---- events --------------------------------------------------------------------------------

  /** Handles events on a connection's socket. */
  sockHandler(events: number, fd: number, i: number, _now: number): void {
    const t = this.conns;
    if (!t.inUse(i) || t.sock[i] !== fd || (t.flags[i]! & CLOSED)) return;
    t.inactive[i] = 0;
    const ev = t.events[i]!;
    if (events & EPOLLERR) {
      this.#rst(i);
      return;
    }
    if ((ev & (SOCK_FIN_SENT | TAP_FIN_ACKED)) === (SOCK_FIN_SENT | TAP_FIN_ACKED)) {
      this.#close(i);
      return;
    }
    if (ev & ESTABLISHED) {
      if ((events & EPOLLHUP) && (ev & TAP_FIN_SENT)) {
        this.#close(i);
        return;
      }
      if (events & EPOLLRDHUP) t.events[i] = t.events[i]! | SOCK_FIN_RCVD;
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) this.#dataFromSock(i);
      if ((events & EPOLLOUT) && !(t.flags[i]! & CLOSED)) {
        if (t.flags[i]! & SOCK_OUT_WAIT) {
          // Room again after a short write: three duplicate ACKs make the guest resend now.
          t.flags[i] = t.flags[i]! & ~SOCK_OUT_WAIT;
          this.#epoll(i);
          this.#updateSeqAckWnd(i, false);
          this.#sendFlags(i, tcph.ACK);
          this.#sendFlags(i, tcph.ACK);
          this.#sendFlags(i, tcph.ACK);
        } else {
          // Fresh figures only for a window held for this EPOLLOUT; otherwise it is the
          // edge-triggered one of a stalled connection, when the peer acknowledged data
          const held = (t.flags[i]! & WND_WAIT) !== 0;
          this.#wndOut = true;
          this.#wndWait(i, false);
          this.#ackIfNeeded(i, false, !held);
          this.#wndOut = false;
        }
      }
      return;
    }
    if ((ev & TAP_SYN_RCVD) && !(ev & TAP_SYN_ACK_SENT)) {
      if (events & EPOLLHUP) {
        this.#rst(i);
        return;
      }
      if (events & EPOLLOUT) {
        const err = lib().pf_getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
        if (err !== 0) this.#rst(i);
        else this.#connected(i);
      }
      return;
    }
    if (events & EPOLLHUP) this.#rst(i);
  }

  /** Handles the expiry of a connection's timer. */
  timerHandler(_events: number, fd: number, i: number, now: number): void {
    const t = this.conns;
    lib().pf_timerfd_read(fd);
    if (!t.inUse(i) || t.timer[i] !== fd || (t.flags[i]! & CLOSED)) return;
    t.timerAt[i] = 0;
    const fl = t.flags[i]!;
    const ev = t.events[i]!;
    if ((fl & TIMED_FLAGS) === ACK_FROM_TAP_DUE && t.dueAt[i]! - now >= 1) {
      // Armed lazily (see #timer): the segments in flight were sent later than the timer.
      this.#arm(i, fd, Math.ceil(t.dueAt[i]! - now), now);
      return;
    }
    if (fl & ACK_TO_TAP_DUE) {
      t.flags[i] = fl & ~ACK_TO_TAP_DUE;
      if (ev & ESTABLISHED) this.#ackIfNeeded(i, false);
      if (!(t.flags[i]! & ACK_TO_TAP_DUE)) this.#timer(i);
      return;
    }
    if (fl & ACK_FROM_TAP_DUE) {
      if (!(ev & ESTABLISHED)) {
        this.#rst(i);
        return;
      }
      if (t.retrans[i]! >= TCP_MAX_RETRANS) {
        this.#rst(i);
        return;
      }
      t.retrans[i] = t.retrans[i]! + 1;
      this.#rewind(i);
      this.#dataFromSock(i);
      this.#timer(i);
      return;
    }
    if ((ev & (SOCK_FIN_SENT | TAP_FIN_ACKED)) === (SOCK_FIN_SENT | TAP_FIN_ACKED)) {
      this.#rst(i);
      return;
    }
    // Activity timeout: upstream effectively never resets here; re-arm.
    this.#timer(i);
  }

  /** Flushes frames to the tap and reaps closed connections (after each loop iteration). */
  deferHandler(_now: number): void {
    this.#flushTap();
    if (this.#closing > 0) this.#reap();
  }

  /** Periodic work (every second): the inactivity scan, reaping. */
  timer(now: number): void {
    if (this.#inactivityRun < 0) this.#inactivityRun = now;
    else if (now - this.#inactivityRun >= INACTIVITY_INTERVAL) {
      this.#inactivityRun = now;
      const t = this.conns;
      for (let i = 0; i < t.high; i++) {
        if (!t.inUse(i) || t.flags[i]! & CLOSED) continue;
        if (t.inactive[i]) {
          debug("TCP: connection inactive for a whole interval, resetting");
          this.#rst(i);
        } else t.inactive[i] = 1;
      }
      this.#flushTap();
    }
    if (this.#closing > 0) this.#reap();
  }

  /** Destroys CLOSED connections, compacting the table. */
  #reap(): void {
    const t = this.conns;
    const ffi = lib();
    const loop = this.#loop;
    for (let i = t.high - 1; i >= 0; i--) {
      if (!t.inUse(i) || !(t.flags[i]! & CLOSED)) continue;
      const s = t.sock[i]!;
      if (s >= 0) {
        // Unread data would make close() reset the peer's side (no matter after an RST)
        this.#discard(i);
        // Our sockets and timers are never duplicated: close() alone leaves the epoll set
        loop.forget(s);
        ffi.pf_close(s);
      }
      const tm = t.timer[i]!;
      if (tm >= 0) {
        loop.forget(tm);
        ffi.pf_close(tm);
      }
      t.free(i);
    }
    this.#closing = 0;
  }

  /** Closes every connection's socket (RST to both sides), for shutdown and tests. */
  closeAll(): void {
    const t = this.conns;
    for (let i = 0; i < t.high; i++) if (t.inUse(i)) this.#rst(i);
    this.#flushTap();
    this.#reap();
  }
}

/**
 * Creates the TCP module and wires it: tap handler, loop handlers, the periodic timer. The
 * tap must be the one whose queue this module's frames go to.
 */
export function setupTcp(
  c: Ctx,
  loop: Loop,
  tap: TcpTap & { handlers: { tcp: Tcp["tapHandler"] } },
  arena: Arena,
  flows?: FlowTable,
): Tcp {
  const tcp = new Tcp(c, loop, tap, arena, flows ? { flows } : {});
  tap.handlers.tcp = (cc, v6, l3, pool, start, now) => tcp.tapHandler(cc, v6, l3, pool, start, now);
  loop.every(1000, (now) => tcp.timer(now));
  return tcp;
}
