// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp_splice.ts` - pasta's loopback fast path for TCP: spliced connections
 *
 * Theory of operation: a connection accepted by pasta on a `-t` port from a
 * loopback address, or on a `-T` port (bound on the namespace's loopback), never
 * goes through the tap device. Its accepted socket, side A, is paired with a new
 * socket, side B, connected to the same loopback address family and the target
 * port on the other side: in the namespace for `-t` (sockets created there by
 * the native namespace helper, kept in a small pre-opened pool because each
 * costs a `clone()`), on the host for `-T`. Two pipes per connection, one per
 * direction, carry the data with `splice()`: socket to pipe, pipe to socket,
 * without a copy into this process. Pipe sizes are raised with F_SETPIPE_SZ to
 * the largest size, from {@linkcode MAX_PIPE_SIZE} down by halves, that 32
 * pipes accept at start-up (as upstream).
 *
 * Both sockets are registered once, edge-triggered, for input, output and
 * read hang-up, with {@linkcode EpollType.TCP_SPLICE} and the connection's
 * slot as reference; the handler tells the sides apart by fd. One direction
 * moves data in a tight loop of `splice()` calls until the source is empty
 * or the destination is full (the next output edge of the destination resumes
 * it). Byte counters per direction tell what is still in the pipe. End of
 * file read on one side, once its pipe is drained, becomes `shutdown(SHUT_WR)`
 * on the other; any error resets the other side (SO_LINGER zero, then close).
 * A connection whose two FINs are sent is CLOSING: its descriptors are closed
 * in the 1 s timer, or at once when the descriptors we hold exceed 30% of the
 * open-file limit ({@linkcode FD_PRESSURE}, upstream's rule); drained pipes
 * go back to the pipe pool. Connections accepted on descriptor numbers close
 * to the limit are refused with a reset, so the listener never spins on
 * EMFILE, and descriptors above {@linkcode SOCKET_MAX} are refused with a log
 * line.
 *
 * The connection table is a set of typed arrays indexed by slot (two entries
 * per slot where a value exists per side or direction) with a free-slot
 * stack; nothing on the data path allocates.
 *
 * `-T` listeners ({@linkcode TcpSpliceFwd}) are bound in the namespace on
 * 127.0.0.1 and ::1; in `auto` mode they follow the host's listening ports
 * (sock_diag, or `/proc/net/tcp` and `tcp6`, of the init namespace, opened at start-up),
 * rescanned every second, without the ports forwarded the other way.
 *
 * @module
 */

// #syscalls:pasta splice pipe2 fcntl socket connect shutdown close setsockopt getsockopt
// #syscalls:pasta clone setns wait4 rt_sigprocmask bind listen exit lseek read openat

import { lib } from "../../ffi/lib.ts";
import type { Ctx } from "../context.ts";
import { LimitedMessage } from "../log.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType, SOCKET_MAX } from "../loop/loop.ts";
import * as sa from "../wire/sockaddr.ts";
import type { Tcp } from "./tcp.ts";
import { FLOW_TCP_SPLICE, FlowTable } from "../flow/flow.ts";
import * as nat from "../fwd/nat.ts";
import {
  EPOLLERR,
  EPOLLET,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  F_SETPIPE_SZ,
  IPPROTO_TCP,
  O_CLOEXEC,
  O_NONBLOCK,
  SHUT_WR,
  SO_ERROR,
  SO_LINGER,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SPLICE_F_MORE,
  SPLICE_F_MOVE,
  SPLICE_F_NONBLOCK,
  TCP_NODELAY,
  TCP_QUICKACK,
} from "../../ffi/sys.ts";
import { EAGAIN, EINPROGRESS } from "../../ffi/errno.ts";

/** Largest pipe size tried (upstream MAX_PIPE_SIZE). */
export const MAX_PIPE_SIZE = 8 << 20;
/** Pre-opened pipe pairs (upstream TCP_SPLICE_PIPE_POOL_SIZE pipes). */
export const PIPE_POOL_SIZE = 16;
/** Pipes that must accept the size when probing it at start-up: the pool's, kept as it. */
export const PIPE_PROBE_COUNT = 2 * PIPE_POOL_SIZE;
/** Pre-opened namespace sockets per family (upstream TCP_SOCK_POOL_SIZE). */
export const SOCK_POOL_SIZE = 32;
/** Refill the namespace pool when fewer sockets than this are left (upstream TCP_SOCK_POOL_TSH). */
export const SOCK_POOL_TSH = 16;
/** Default size of the connection table. */
export const SPLICE_MAX_CONNS = 32768;
/** Share of the open-file limit above which descriptors are closed as soon as possible. */
export const FD_PRESSURE = 0.3;
/** Connections accepted on a descriptor this close to the open-file limit are refused. */
export const FD_RESERVE = 8;

/** Connection state bits. */
export const CONNECT = 1;
/** Connected: data moves. */
export const ESTABLISHED = 2;
/** End of file read from A (a->b direction) / from B. */
export const A_FIN_RCVD = 4;
/** End of file read from B. */
export const B_FIN_RCVD = 8;
/** FIN forwarded to B (A's end of file) / to A. */
export const A_FIN_SENT = 16;
/** FIN forwarded to A. */
export const B_FIN_SENT = 32;
/** Both FINs forwarded: descriptors to be closed. */
export const CLOSING = 64;
/** IPv6 connection. */
export const SPLICE_V6 = 128;
/** Outbound (-T) connection: side B is on the host. */
export const SPLICE_OUTBOUND = 256;
/**
 * Input from A not polled: its data waits in the pipe for B to take it (and
 * likewise from B). Upstream's OUT_WAIT rule: every segment that reaches a
 * source whose destination is full would otherwise wake us for nothing.
 */
export const A_IN_OFF = 512;
/** Input from B not polled (see {@linkcode A_IN_OFF}). */
export const B_IN_OFF = 1024;

const EV_SOCK = (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;
const EV_SOCK_IN_OFF = (EPOLLOUT | EPOLLRDHUP | EPOLLET) >>> 0;

/** Namespace descriptors for the helper that creates sockets there (-1: our own). */
export interface SpliceNs {
  userns: number;
  netns: number;
}

/** Options, mostly for tests. */
export interface TcpSpliceOptions {
  /** Connection table size (default {@linkcode SPLICE_MAX_CONNS}). */
  capacity?: number;
  /** Pipe size to use instead of probing. */
  pipeSize?: number;
  /** The process's flow table (default: one of its own, of `capacity` flows). */
  flows?: FlowTable;
}

const REFUSE = new LimitedMessage(
  "TCP (spliced): too many open files or connections, refusing connection",
);

const BIG = new LimitedMessage(
  `TCP (spliced): socket number above ${SOCKET_MAX}, refusing connection`,
);

const ERR = new LimitedMessage(
  "TCP (spliced): cannot connect in the other namespace, resetting connection",
);

/**
 * Finds the pipe size as upstream: the largest of {@linkcode MAX_PIPE_SIZE} and its
 * halves that {@linkcode PIPE_PROBE_COUNT} pipes accept; 0 if even 64 KiB is refused
 * (then pipes keep the kernel's default). With `keep` (two descriptors a pipe, read
 * end first), the pipes that accepted the size are left open there, not closed.
 */
export function probePipeSize(keep?: Int32Array): number {
  const ffi = lib();
  const fds = keep ?? new Int32Array(2 * PIPE_PROBE_COUNT);
  const u8 = new Uint8Array(fds.buffer, fds.byteOffset, 8 * PIPE_PROBE_COUNT);
  for (let size = MAX_PIPE_SIZE; size >= 65536; size >>= 1) {
    let ok = true;
    let n = 0;
    for (; n < PIPE_PROBE_COUNT && ok; n++) {
      if (ffi.pf_pipe2(u8.subarray(n * 8, n * 8 + 8), O_NONBLOCK | O_CLOEXEC) < 0) {
        ok = false;
        break;
      }
      if (ffi.pf_fcntl(fds[n * 2]!, F_SETPIPE_SZ, size) < 0) ok = false;
    }
    if (ok && keep) return size;
    for (let k = 0; k < n; k++) {
      ffi.pf_close(fds[k * 2]!);
      ffi.pf_close(fds[k * 2 + 1]!);
    }
    if (ok) return size;
  }
  return 0;
}

/** Spliced TCP connections: table, pools, the data path. */
export class TcpSplice {
  /** Sockets per slot: [2i] side A (accepted), [2i + 1] side B; -1 if free. */
  readonly sock: Int32Array;
  /** Pipes per slot and direction (0: A to B, 1: B to A): read and write ends. */
  readonly pipeR: Int32Array;
  readonly pipeW: Int32Array;
  /** Bytes read into, and written out of, the pipe of each direction. */
  readonly read: Float64Array;
  readonly written: Float64Array;
  /** State bits per slot ({@linkcode CONNECT}, ...). */
  readonly ev: Uint16Array;
  /** Target port per slot (for logs and tests). */
  readonly port: Uint16Array;
  /** The flow table the connections are flows of (type `FLOW_TCP_SPLICE`). */
  readonly flows: FlowTable;
  /** Most spliced connections at a time. */
  readonly #cap: number;
  /** Connections in use. */
  #count = 0;
  /** Descriptors held by this module (connections, pools). */
  #fds = 0;
  /** The open-file limit, as raised at start-up. */
  readonly nofile: number;
  /** Size pipes are set to (0: the kernel's default). */
  readonly pipeSize: number;
  /** Bytes asked for per socket-to-pipe splice. */
  readonly #chunk: number;
  readonly #loop: Loop;
  readonly #ns: SpliceNs | null;
  /** Pre-opened namespace sockets: IPv4 [0, SOCK_POOL_SIZE), IPv6 after. */
  readonly #nsPool = new Int32Array(2 * SOCK_POOL_SIZE).fill(-1);
  readonly #nsPoolN = new Int32Array(2);
  /** Pre-opened pipe pairs: four fds each (r, w, r, w). */
  readonly #pipePool = new Int32Array(4 * PIPE_POOL_SIZE).fill(-1);
  #pipePoolN = 0;
  readonly #pipeU8 = new Uint8Array(8);
  readonly #pipeI32 = new Int32Array(this.#pipeU8.buffer);
  /** Descriptors of one batch of namespace sockets ({@linkcode SOCK_POOL_SIZE} at most). */
  readonly #batchU8 = new Uint8Array(4 * SOCK_POOL_SIZE);
  readonly #batchI32 = new Int32Array(this.#batchU8.buffer);
  readonly #sa = new Uint8Array(sa.SOCKADDR_MAX);
  readonly #sadv = new DataView(this.#sa.buffer);
  readonly #dst6 = new Uint32Array(4);
  readonly #linger = new Uint8Array(8);

  /**
   * Creates the table; `ns` is where inbound connections' B sockets are created (null:
   * no inbound splicing), `nofile` the open-file limit set at start-up.
   */
  constructor(loop: Loop, ns: SpliceNs | null, nofile: number, opts: TcpSpliceOptions = {}) {
    this.flows = opts.flows ??
      new FlowTable(Uint32Array.of(7, 11, 13, 17), opts.capacity ?? SPLICE_MAX_CONNS);
    this.#cap = Math.min(opts.capacity ?? SPLICE_MAX_CONNS, this.flows.capacity);
    const cap = this.flows.capacity;
    this.#loop = loop;
    this.#ns = ns;
    this.nofile = nofile > 0 ? nofile : 1024;
    // Set when a connection is allocated: no initialisation here.
    this.sock = new Int32Array(2 * cap);
    this.pipeR = new Int32Array(2 * cap);
    this.pipeW = new Int32Array(2 * cap);
    this.read = new Float64Array(2 * cap);
    this.written = new Float64Array(2 * cap);
    this.ev = new Uint16Array(cap);
    this.port = new Uint16Array(cap);
    if (opts.pipeSize !== undefined) this.pipeSize = opts.pipeSize;
    else {
      // The pipes that took the size are the pool, not closed and made again
      this.pipeSize = probePipeSize(this.#pipePool);
      if (this.pipeSize) {
        this.#pipePoolN = PIPE_POOL_SIZE;
        this.#fds += 4 * PIPE_POOL_SIZE;
      } else this.#pipePool.fill(-1);
    }
    this.#chunk = this.pipeSize || 65536;
    new DataView(this.#linger.buffer).setInt32(0, 1, sa.HOST_LE);
    loop.on(
      EpollType.TCP_SPLICE,
      (events, fd, i, now) => this.handler(events, fd, i, now),
      (_fd, i) => this.faultClose(i),
    );
  }

  /** Connections in the table. */
  get count(): number {
    return this.#count;
  }

  /** Descriptors held by this module: connection sockets and pipes, pools. */
  get fds(): number {
    return this.#fds;
  }

  /** Whether our descriptors exceed {@linkcode FD_PRESSURE} of the limit. */
  get pressure(): boolean {
    return this.#fds > this.nofile * FD_PRESSURE;
  }

  /**
   * Takes the accepted loopback socket `fd` for target `port` (the hook of `tcp.ts`):
   * `sides` holds the flow's two flowsides (`fwd/nat.ts`), the initiating one and,
   * at {@linkcode nat.SIDE_WORDS}, the target one, whose address side B connects
   * to (the namespace's address or loopback, or the host's loopback for `-T`).
   * Starts moving data; false only if it did nothing with `fd`.
   */
  accept(
    fd: number,
    port: number,
    v6: boolean,
    outbound: boolean,
    sides: Uint32Array,
    now: number,
  ): boolean {
    const dst = sides, dstOff = nat.SIDE_WORDS + nat.EADDR;
    const ffi = lib();
    if (fd > SOCKET_MAX) {
      BIG.warn(now);
      this.#reset(fd);
      return true;
    }
    if (
      this.#count >= this.#cap || fd >= this.nofile - FD_RESERVE || (!outbound && !this.#ns)
    ) {
      REFUSE.debug(now);
      this.#reset(fd);
      return true;
    }
    ffi.pf_setsockopt_int(fd, IPPROTO_TCP, TCP_QUICKACK, 1);
    const b = outbound
      ? ffi.pf_socket(v6 ? sa.AF_INET6 : sa.AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
      : this.#nsSocket(v6);
    if (b < 0 || b > SOCKET_MAX) {
      if (b > SOCKET_MAX) {
        BIG.warn(now);
        ffi.pf_close(b);
      } else REFUSE.debug(now);
      this.#reset(fd);
      return true;
    }
    const ft = this.flows;
    const i = ft.alloc(FLOW_TCP_SPLICE, nat.IPPROTO_TCP);
    if (i < 0) {
      REFUSE.debug(now);
      ffi.pf_close(b);
      this.#reset(fd);
      return true;
    }
    this.#count++;
    // The flow's sides: the peer that connected (initiating), and where we connect.
    ft.side.set(sides.subarray(0, 2 * nat.SIDE_WORDS), ft.sideOff(2 * i));
    ft.pif[2 * i] = outbound ? nat.PIF_SPLICE : nat.PIF_HOST;
    ft.pif[2 * i + 1] = outbound ? nat.PIF_HOST : nat.PIF_SPLICE;
    ft.hashInsert(2 * i);
    this.#fds += 2;
    this.pipeR[2 * i] =
      this.pipeR[2 * i + 1] =
      this.pipeW[2 * i] =
      this.pipeW[2 * i + 1] =
        -1;
    this.sock[2 * i] = fd;
    this.sock[2 * i + 1] = b;
    this.port[i] = port;
    this.read[2 * i] =
      this.written[2 * i] =
      this.read[2 * i + 1] =
      this.written[2 * i + 1] =
        0;
    this.ev[i] = (v6 ? SPLICE_V6 : 0) | (outbound ? SPLICE_OUTBOUND : 0);
    if (!this.#pipes(i)) {
      REFUSE.debug(now);
      this.#destroy(i, true);
      return true;
    }
    // As upstream: both sides without Nagle (what we move is already
    // segmented by the sender, and SPLICE_F_MORE marks what should wait)
    ffi.pf_setsockopt_int(b, IPPROTO_TCP, TCP_QUICKACK, 1);
    ffi.pf_setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    ffi.pf_setsockopt_int(b, IPPROTO_TCP, TCP_NODELAY, 1);
    const d6 = this.#dst6;
    for (let j = 0; j < 4; j++) d6[j] = dst[dstOff + j]!;
    const len = v6
      ? sa.writeIn6(this.#sadv, 0, d6, port)
      : sa.writeIn4(this.#sadv, 0, d6[3]!, port);
    const rc = ffi.pf_connect(b, this.#sa, len);
    if (rc < 0 && rc !== -EINPROGRESS) {
      ERR.debug(now);
      this.#destroy(i, true);
      return true;
    }
    const loop = this.#loop;
    if (
      loop.add(fd, EpollType.TCP_SPLICE, i, EV_SOCK) < 0 ||
      loop.add(b, EpollType.TCP_SPLICE, i, EV_SOCK) < 0
    ) {
      this.#destroy(i, true);
      return true;
    }
    if (rc === 0) this.#established(i);
    else this.ev[i] = this.ev[i]! | CONNECT;
    return true;
  }

  /** Sends a reset on `fd` and closes it. */
  #reset(fd: number): void {
    const ffi = lib();
    ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_LINGER, this.#linger, 8);
    ffi.pf_close(fd);
  }

  /** A socket in the namespace, from the pool or new; -errno on failure. */
  #nsSocket(v6: boolean): number {
    const f = v6 ? 1 : 0;
    const n = this.#nsPoolN[f]!;
    if (n > 0) {
      const k = f * SOCK_POOL_SIZE + n - 1;
      const fd = this.#nsPool[k]!;
      this.#nsPool[k] = -1;
      this.#nsPoolN[f] = n - 1;
      this.#fds--;
      return fd;
    }
    const ns = this.#ns!;
    return lib().pf_ns_socket(
      ns.userns,
      ns.netns,
      v6 ? sa.AF_INET6 : sa.AF_INET,
      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
  }

  /** Opens one pipe with our size into the scratch pair; false on failure. */
  #pipe(): boolean {
    const ffi = lib();
    if (ffi.pf_pipe2(this.#pipeU8, O_NONBLOCK | O_CLOEXEC) < 0) return false;
    if (this.pipeSize) ffi.pf_fcntl(this.#pipeI32[0]!, F_SETPIPE_SZ, this.pipeSize);
    return true;
  }

  /** Gives slot `i` its two pipes, from the pool or new; false if out of descriptors. */
  #pipes(i: number): boolean {
    if (this.#pipePoolN > 0) {
      const k = 4 * --this.#pipePoolN;
      const p = this.#pipePool;
      this.pipeR[2 * i] = p[k]!;
      this.pipeW[2 * i] = p[k + 1]!;
      this.pipeR[2 * i + 1] = p[k + 2]!;
      this.pipeW[2 * i + 1] = p[k + 3]!;
      return true;
    }
    for (let d = 0; d < 2; d++) {
      if (!this.#pipe()) return false;
      this.pipeR[2 * i + d] = this.#pipeI32[0]!;
      this.pipeW[2 * i + d] = this.#pipeI32[1]!;
      this.#fds += 2;
    }
    return true;
  }

  /** Side B connected: start both directions. */
  #established(i: number): void {
    this.ev[i] = (this.ev[i]! & ~CONNECT) | ESTABLISHED;
    if (this.#move(i, 0) < 0 || this.#move(i, 1) < 0) {
      this.#destroy(i, true);
      return;
    }
    this.#checkDone(i);
  }

  /** Handles events on a socket of slot `i`. */
  handler(events: number, fd: number, i: number, _now: number): void {
    const ev = this.ev[i]!;
    if (!(ev & (CONNECT | ESTABLISHED)) || ev & CLOSING) return;
    const side = this.sock[2 * i] === fd ? 0 : this.sock[2 * i + 1] === fd ? 1 : -1;
    if (side < 0) return;
    if (ev & CONNECT) {
      if (side === 0) {
        if (events & EPOLLERR) this.#destroy(i, true);
        return;
      }
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      const err = lib().pf_getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
      if (err !== 0 || events & EPOLLERR) {
        this.#destroy(i, true);
        return;
      }
      this.#established(i);
      return;
    }
    if (events & EPOLLERR) {
      this.#destroy(i, true);
      return;
    }
    // Data from this side, then data pending towards it.
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
      if (this.#move(i, side) < 0) {
        this.#destroy(i, true);
        return;
      }
    }
    const back = 2 * i + (side ^ 1);
    if (events & (EPOLLOUT | EPOLLHUP) && this.read[back]! > this.written[back]!) {
      if (this.#move(i, side ^ 1) < 0) {
        this.#destroy(i, true);
        return;
      }
    }
    this.#checkDone(i);
  }

  /**
   * Moves data in direction `d` (0: A to B) until the source is empty or the destination
   * full; forwards end of file once drained. Returns 0, or -errno for a reset.
   */
  #move(i: number, d: number): number {
    const ffi = lib();
    const k = 2 * i + d;
    const from = this.sock[k]!;
    const to = this.sock[2 * i + (d ^ 1)]!;
    const pr = this.pipeR[k]!;
    const pw = this.pipeW[k]!;
    const finRcvd = d === 0 ? A_FIN_RCVD : B_FIN_RCVD;
    const finSent = d === 0 ? A_FIN_SENT : B_FIN_SENT;
    const chunk = this.#chunk;
    const more = chunk - (chunk >>> 3);
    for (;;) {
      let r = -EAGAIN;
      if (!(this.ev[i]! & finRcvd)) {
        r = ffi.pf_splice(from, pw, chunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (r > 0) this.read[k] = this.read[k]! + r;
        else if (r === 0) this.ev[i] = this.ev[i]! | finRcvd;
        else if (r !== -EAGAIN) return r;
      }
      const pend = this.read[k]! - this.written[k]!;
      let w = 0;
      if (pend > 0) {
        const fl = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (r >= more ? SPLICE_F_MORE : 0);
        w = ffi.pf_splice(pr, to, pend, fl);
        if (w === -EAGAIN) break;
        if (w < 0) return w;
        this.written[k] = this.written[k]! + w;
      }
      if (r <= 0 && w <= 0) break;
    }
    let ev = this.ev[i]!;
    // Data left in the pipe: the destination is full, and its output edge
    // resumes this direction; until then, stop reading the source.
    const inOff = d === 0 ? A_IN_OFF : B_IN_OFF;
    const waits = this.read[k]! !== this.written[k]!;
    if (waits !== ((ev & inOff) !== 0)) {
      ev ^= inOff;
      this.ev[i] = ev;
      this.#loop.mod(from, EpollType.TCP_SPLICE, i, waits ? EV_SOCK_IN_OFF : EV_SOCK);
    }
    if (ev & finRcvd && !(ev & finSent) && !waits) {
      ffi.pf_shutdown(to, SHUT_WR);
      this.ev[i] = ev | finSent;
    }
    return 0;
  }

  /** Marks slot `i` CLOSING when both FINs are forwarded; closes it now under pressure. */
  #checkDone(i: number): void {
    const ev = this.ev[i]!;
    if ((ev & (A_FIN_SENT | B_FIN_SENT)) !== (A_FIN_SENT | B_FIN_SENT)) return;
    if (this.pressure) this.#destroy(i, false);
    else this.ev[i] = ev | CLOSING;
  }

  /** After a fault in its handler: closes connection `i` with resets. */
  faultClose(i: number): void {
    if (i < this.ev.length && this.ev[i] !== 0) this.#destroy(i, true);
  }

  /** Closes slot `i` (with resets if `rst`); recycles drained pipes. */
  #destroy(i: number, rst: boolean): void {
    const ffi = lib();
    for (let s = 0; s < 2; s++) {
      const fd = this.sock[2 * i + s]!;
      if (fd < 0) continue;
      if (rst) ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_LINGER, this.#linger, 8);
      ffi.pf_close(fd);
      this.sock[2 * i + s] = -1;
      this.#fds--;
    }
    const pr = this.pipeR, pw = this.pipeW;
    const clean = this.read[2 * i] === this.written[2 * i] &&
      this.read[2 * i + 1] === this.written[2 * i + 1];
    if (pr[2 * i]! >= 0 && pr[2 * i + 1]! >= 0) {
      if (clean && this.#pipePoolN < PIPE_POOL_SIZE && !this.pressure) {
        const k = 4 * this.#pipePoolN++;
        const p = this.#pipePool;
        p[k] = pr[2 * i]!;
        p[k + 1] = pw[2 * i]!;
        p[k + 2] = pr[2 * i + 1]!;
        p[k + 3] = pw[2 * i + 1]!;
        pr[2 * i] =
          pw[2 * i] =
          pr[2 * i + 1] =
          pw[2 * i + 1] =
            -1;
      }
    }
    for (let d = 0; d < 2; d++) {
      if (pr[2 * i + d]! >= 0) {
        ffi.pf_close(pr[2 * i + d]!);
        ffi.pf_close(pw[2 * i + d]!);
        pr[2 * i + d] = pw[2 * i + d] = -1;
        this.#fds -= 2;
      }
    }
    this.ev[i] = 0;
    this.flows.free(i);
    this.#count--;
  }

  /** Refills the pools, unless under descriptor pressure (then they are emptied). */
  refill(): void {
    const ffi = lib();
    if (this.pressure) {
      this.#drainPools();
      return;
    }
    while (this.#pipePoolN < PIPE_POOL_SIZE && !this.pressure) {
      const k = 4 * this.#pipePoolN;
      if (!this.#pipe()) return;
      this.#pipePool[k] = this.#pipeI32[0]!;
      this.#pipePool[k + 1] = this.#pipeI32[1]!;
      if (!this.#pipe()) {
        ffi.pf_close(this.#pipePool[k]!);
        ffi.pf_close(this.#pipePool[k + 1]!);
        return;
      }
      this.#pipePool[k + 2] = this.#pipeI32[0]!;
      this.#pipePool[k + 3] = this.#pipeI32[1]!;
      this.#pipePoolN++;
      this.#fds += 4;
    }
    const ns = this.#ns;
    if (!ns) return;
    // One request to the namespace's socket server per family: up to the
    // pool's size, and not past the pressure mark
    for (let f = 0; f < 2; f++) {
      if (this.#nsPoolN[f]! >= SOCK_POOL_TSH) continue;
      const room = Math.floor(this.nofile * FD_PRESSURE) + 1 - this.#fds;
      const want = Math.min(SOCK_POOL_SIZE - this.#nsPoolN[f]!, room);
      if (want <= 0) break;
      const n = ffi.pf_ns_sockets(
        ns.userns,
        ns.netns,
        f ? sa.AF_INET6 : sa.AF_INET,
        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        0,
        this.#batchU8,
        want,
      );
      for (let i = 0; i < n; i++) {
        const fd = this.#batchI32[i]!;
        if (fd > SOCKET_MAX) {
          ffi.pf_close(fd);
          continue;
        }
        this.#nsPool[f * SOCK_POOL_SIZE + this.#nsPoolN[f]!] = fd;
        this.#nsPoolN[f] = this.#nsPoolN[f]! + 1;
        this.#fds++;
      }
    }
  }

  /** Closes every pooled descriptor. */
  #drainPools(): void {
    const ffi = lib();
    while (this.#pipePoolN > 0) {
      const k = 4 * --this.#pipePoolN;
      for (let j = 0; j < 4; j++) ffi.pf_close(this.#pipePool[k + j]!);
      this.#fds -= 4;
    }
    for (let f = 0; f < 2; f++) {
      while (this.#nsPoolN[f]! > 0) {
        const n = this.#nsPoolN[f]! - 1;
        ffi.pf_close(this.#nsPool[f * SOCK_POOL_SIZE + n]!);
        this.#nsPoolN[f] = n;
        this.#fds--;
      }
    }
  }

  /** Periodic work (1 s): closes CLOSING connections, refills the pools. */
  timer(_now: number): void {
    const ft = this.flows;
    for (let i = 0; i < ft.high; i++) {
      if (ft.type[i] === FLOW_TCP_SPLICE && this.ev[i]! & CLOSING) this.#destroy(i, false);
    }
    this.refill();
  }

  /** Closes every connection (with resets) and the pools. */
  closeAll(): void {
    const ft = this.flows;
    for (let i = 0; i < ft.high; i++) {
      if (ft.type[i] === FLOW_TCP_SPLICE && this.sock[2 * i]! >= 0) this.#destroy(i, true);
    }
    this.#drainPools();
  }
}

/**
 * Wires spliced TCP for pasta: the accept hook of `tcp`, the loop handler and the 1 s
 * timer; `nofile` is the limit raised at start-up. `-T` listeners come from the
 * forwarding rules (`fwd/fwd.ts`, `fwd/listen.ts`).
 */
export function setupTcpSplice(
  _c: Ctx,
  loop: Loop,
  tcp: Tcp,
  ns: SpliceNs,
  nofile: number,
  flows?: FlowTable,
): TcpSplice {
  const splice = new TcpSplice(loop, ns, nofile, flows ? { flows } : {});
  tcp.spliceAccept = (_ctx, ...args): boolean => splice.accept(...args);
  // Filled at start-up, as upstream's, although it costs 6-8 ms: filled at the
  // first timer instead, our count of descriptors would grow by about a
  // hundred a second after start, which looks like a leak to whoever counts
  splice.refill();
  loop.every(1000, (now) => splice.timer(now));
  return splice;
}
