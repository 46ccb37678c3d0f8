// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp_splice.ts` - pasta's loopback fast path for UDP: socket to socket
 *
 * Theory of operation: datagrams between the host's loopback and the
 * namespace's loopback on forwarded ports never go through the tap device.
 *
 * - Inbound (`-u`): `udp.ts` receives on its bound listener and offers each
 *   datagram from a loopback source to {@linkcode UdpSplice.datagram}. We send
 *   it from a socket in the namespace bound to the same loopback address at the
 *   client's source port (an ephemeral port if that one is taken), to the
 *   namespace's loopback at the target port. Replies arriving on that socket go
 *   back through the host listener, to the client's address and port.
 * - Outbound (`-U`): our listeners bound on 127.0.0.1 and ::1 in the namespace
 *   receive with `recvmmsg()`; runs of datagrams from one source port leave with
 *   one `sendmmsg()` from a host socket bound to loopback at that source port,
 *   to the host's loopback at the target port. Replies go back through the
 *   namespace listener.
 *
 * Reply sockets are tracked per side, family and client port (the same
 * tracking as the tap path: a binding and a timestamp), and closed after
 * {@linkcode udpTimeoutMs} of inactivity by the 1 s timer. Their epoll
 * reference is {@linkcode EpollType.UDP} with {@linkcode UDP_SPLICE_REF} set in
 * the index, which our wrapper of the UDP handler routes here.
 *
 * The `-U` listeners belong to the forwarding rules (`fwd/fwd.ts`): this module
 * opens and closes them through {@linkcode UdpSplice.listenBackend}, and a reply
 * socket never keeps the descriptor of a listener that was closed
 * ({@linkcode UdpSplice.forget}).
 *
 * Nothing on the packet path allocates or throws.
 *
 * @module
 */

// #syscalls:pasta recvmmsg sendmmsg socket bind close getsockopt
// #syscalls:pasta clone setns wait4 rt_sigprocmask exit lseek read openat

import { lib } from "../../ffi/lib.ts";
import type { Ctx } from "../context.ts";
import type { ListenBackend } from "../fwd/fwd.ts";
import { withSlot } from "../fwd/fwd.ts";
import { FWD_DUAL_STACK_ANY, type FwdRule } from "../fwd/fwd_rule.ts";
import { targetPort } from "../fwd/listen.ts";
import * as nat from "../fwd/nat.ts";
import { debugRatelimit, RateLimit } from "../log.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType, SOCKET_MAX } from "../loop/loop.ts";
import type { Arena } from "../tap/arena.ts";
import * as sa from "../wire/sockaddr.ts";
import { type Udp, udpTimeoutMs } from "./udp.ts";
import {
  EPOLLERR,
  EPOLLIN,
  MMSG_WORDS,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  SO_ERROR,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "../../ffi/sys.ts";

/** Flag in a UDP epoll index: a spliced socket handled here. */
export const UDP_SPLICE_REF = 1 << 20;
/** Index kind: namespace socket carrying an inbound (-u) flow. */
export const KIND_NS_REPLY = 0;
/** Index kind: host socket carrying an outbound (-U) flow. */
export const KIND_HOST_REPLY = 1;
/** Index kind: -U listener in the namespace. */
export const KIND_NS_LISTEN = 2;
/** Datagrams per `recvmmsg()` batch. */
export const SPLICE_BATCH = 32;

const LOOPBACK4 = 0x7f000001;
const MMSG_BYTES = 4 * MMSG_WORDS;
const NAME_ROOM = 32;
const SLOT = 65536;

/** Namespace descriptors for the helper that creates sockets there. */
export interface UdpSpliceNs {
  userns: number;
  netns: number;
}

const rlSend = new RateLimit();
const rlSock = new RateLimit();

function msgSend(): string {
  return "UDP (spliced): sendmmsg() failed, datagrams dropped";
}

function msgSock(): string {
  return "UDP (spliced): cannot open a socket for a flow, using the tap path";
}

/** Spliced UDP between the loopbacks. */
export class UdpSplice {
  /** Reply sockets: key kind << 17 | v6 << 16 | client port; -1 if none. */
  readonly sock = new Int32Array(4 * 65536).fill(-1);
  /** Listener that replies on a reply socket go back through, per key. */
  readonly ret = new Int32Array(4 * 65536).fill(-1);
  /** Last activity per key, milliseconds. */
  readonly ts = new Float64Array(4 * 65536);
  /** -U listeners in the namespace: [0, 65536) IPv4, then IPv6; -1 if none. */
  readonly listen = new Int32Array(2 * 65536).fill(-1);
  readonly #active = new Int32Array(4 * 65536);
  #nactive = 0;
  readonly #c: Ctx;
  readonly #loop: Loop;
  readonly #ns: UdpSpliceNs;
  /** Our receive buffer: slots, mmsg table, names, destination address. */
  readonly #buf: Uint8Array;
  readonly #dv: DataView;
  readonly #u32: Uint32Array;
  readonly #tab: number;
  readonly #names: number;
  readonly #dst: number;
  /** In the shared arena: one mmsg entry and a destination, for `datagram()`. */
  readonly #au8: Uint8Array;
  readonly #adv: DataView;
  readonly #au32: Uint32Array;
  readonly #aTab: number;
  readonly #aDst: number;
  readonly #bindU8 = new Uint8Array(sa.SOCKADDR_MAX);
  readonly #bindDv = new DataView(this.#bindU8.buffer);
  readonly #lo6 = new Uint32Array([0, 0, 0, 1]);
  readonly #d6 = new Uint32Array(4);

  /** Creates the splice tables; `arena` is the one `udp.ts` receives into. */
  constructor(c: Ctx, loop: Loop, arena: Arena, ns: UdpSpliceNs) {
    this.#c = c;
    this.#loop = loop;
    this.#ns = ns;
    const size = SPLICE_BATCH * SLOT + SPLICE_BATCH * (MMSG_BYTES + NAME_ROOM) + 64;
    this.#buf = new Uint8Array(size);
    this.#dv = new DataView(this.#buf.buffer);
    this.#u32 = new Uint32Array(this.#buf.buffer);
    this.#tab = SPLICE_BATCH * SLOT;
    this.#names = this.#tab + SPLICE_BATCH * MMSG_BYTES;
    this.#dst = this.#names + SPLICE_BATCH * NAME_ROOM;
    this.#au8 = arena.u8;
    this.#adv = arena.dv;
    this.#au32 = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset, arena.u8.length >>> 2);
    this.#aTab = arena.alloc(MMSG_BYTES, 64);
    this.#aDst = arena.alloc(sa.SOCKADDR_MAX, 64);
  }

  /** Number of reply sockets open. */
  get tracked(): number {
    return this.#nactive;
  }

  /** Writes loopback of the family at `port` into `dv` at `off`; its length. */
  #lo(dv: DataView, off: number, v6: boolean, port: number): number {
    return v6 ? sa.writeIn6(dv, off, this.#lo6, port) : sa.writeIn4(dv, off, LOOPBACK4, port);
  }

  /**
   * Opens a datagram socket bound to loopback at `port` (else an ephemeral port), in
   * the namespace if `inNs`; returns the fd or -errno.
   */
  #socket(inNs: boolean, v6: boolean, port: number): number {
    const ffi = lib();
    const af = v6 ? sa.AF_INET6 : sa.AF_INET;
    const type = SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
    let fd = -1;
    for (let attempt = 0; attempt < 2; attempt++) {
      const len = this.#lo(this.#bindDv, 0, v6, attempt ? 0 : port);
      if (inNs) {
        fd = ffi.pf_ns_bind_socket(
          this.#ns.userns,
          this.#ns.netns,
          af,
          type,
          0,
          this.#bindU8,
          len,
          -1,
        );
      } else {
        fd = ffi.pf_socket(af, type, 0);
        if (fd >= 0) {
          const rc = ffi.pf_bind(fd, this.#bindU8, len);
          if (rc < 0) {
            ffi.pf_close(fd);
            fd = rc;
          }
        }
      }
      if (fd >= 0) break;
    }
    if (fd > SOCKET_MAX) {
      ffi.pf_close(fd);
      return -24;
    }
    return fd;
  }

  /** The reply socket for `key`, opened and registered if needed; -1 on failure. */
  #reply(key: number, retFd: number, now: number): number {
    let s = this.sock[key]!;
    if (s < 0) {
      const kind = key >>> 17;
      const v6 = (key & 0x10000) !== 0;
      s = this.#socket(kind === KIND_NS_REPLY, v6, key & 0xffff);
      if (s < 0) return -1;
      if (this.#loop.add(s, EpollType.UDP, UDP_SPLICE_REF | key, EPOLLIN) < 0) {
        lib().pf_close(s);
        return -1;
      }
      this.sock[key] = s;
      this.#active[this.#nactive++] = key;
    }
    this.ret[key] = retFd;
    this.ts[key] = now;
    return s;
  }

  /**
   * The hook of `udp.ts`: forwards a datagram from host loopback received on the `-u`
   * listener `fd` for target `port` into the namespace; false to leave it to the tap.
   */
  datagram(
    v6: boolean,
    fd: number,
    port: number,
    payOff: number,
    len: number,
    saOff: number,
    dst: Uint32Array,
    dstOff: number,
    now: number,
  ): boolean {
    const sport = sa.port(this.#adv, saOff);
    const key = (KIND_NS_REPLY << 17) | (v6 ? 0x10000 : 0) | sport;
    const s = this.#reply(key, fd, now);
    if (s < 0) {
      debugRatelimit(rlSock, now, msgSock);
      return false;
    }
    const e = this.#aTab >>> 2;
    const u32 = this.#au32;
    u32[e] = payOff;
    u32[e + 1] = len;
    u32[e + 2] = this.#aDst;
    const d6 = this.#d6;
    for (let j = 0; j < 4; j++) d6[j] = dst[dstOff + j]!;
    u32[e + 3] = v6
      ? sa.writeIn6(this.#adv, this.#aDst, d6, port)
      : sa.writeIn4(this.#adv, this.#aDst, d6[3]!, port);
    u32[e + 4] = u32[e + 5] = 0;
    const rc = lib().pf_sendmmsg(s, this.#au8, this.#aTab, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (rc < 1) debugRatelimit(rlSend, now, msgSend);
    return true;
  }

  /** Receives a batch on `fd` into our buffer; returns the count (0 on nothing). */
  #recv(fd: number): number {
    const u32 = this.#u32;
    const tw = this.#tab >>> 2;
    for (let k = 0; k < SPLICE_BATCH; k++) {
      const e = tw + k * MMSG_WORDS;
      u32[e] = k * SLOT;
      u32[e + 1] = SLOT;
      u32[e + 2] = this.#names + k * NAME_ROOM;
      u32[e + 3] = sa.SIN6_LEN;
      u32[e + 4] = u32[e + 5] = 0;
    }
    const n = lib().pf_recvmmsg(fd, this.#buf, this.#tab, SPLICE_BATCH, MSG_DONTWAIT);
    return n > 0 ? n : 0;
  }

  /** Sends entries [from, to) of the table to loopback at `port` through `fd`. */
  #send(fd: number, v6: boolean, port: number, from: number, to: number, now: number): void {
    const u32 = this.#u32;
    const tw = this.#tab >>> 2;
    const dlen = this.#lo(this.#dv, this.#dst, v6, port);
    let n = 0;
    for (let k = from; k < to; k++) {
      const e = tw + k * MMSG_WORDS;
      if (u32[e + 5]! & MSG_TRUNC) continue;
      const o = tw + (from + n) * MMSG_WORDS;
      u32[o] = u32[e]!;
      u32[o + 1] = u32[e + 4]!;
      u32[o + 2] = this.#dst;
      u32[o + 3] = dlen;
      n++;
    }
    if (n === 0) return;
    const rc = lib().pf_sendmmsg(
      fd,
      this.#buf,
      this.#tab + from * MMSG_BYTES,
      n,
      MSG_DONTWAIT | MSG_NOSIGNAL,
    );
    if (rc < n) debugRatelimit(rlSend, now, msgSend);
  }

  /** Handles events on our sockets (index: {@linkcode UDP_SPLICE_REF}, kind, family, port). */
  sockHandler(events: number, fd: number, index: number, now: number): void {
    if (events & EPOLLERR) {
      lib().pf_getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
      if (!(events & EPOLLIN)) return;
    }
    const kind = (index >>> 17) & 3;
    const v6 = (index & 0x10000) !== 0;
    const port = index & 0xffff;
    for (let round = 0; round < 4; round++) {
      const n = this.#recv(fd);
      if (n === 0) return;
      if (kind === KIND_NS_LISTEN) {
        this.#fromNsListener(fd, v6, port, n, now);
      } else {
        const key = index & 0x7ffff;
        const back = this.ret[key]!;
        if (back < 0 || this.sock[key] !== fd) return;
        this.ts[key] = now;
        this.#send(back, v6, port, 0, n, now);
      }
      if (n < SPLICE_BATCH) return;
    }
  }

  /** Forwards `n` datagrams received on the -U listener `fd` to host port `port`. */
  #fromNsListener(fd: number, v6: boolean, port: number, n: number, now: number): void {
    const dv = this.#dv;
    let start = 0;
    while (start < n) {
      const sport = sa.port(dv, this.#names + start * NAME_ROOM);
      let end = start + 1;
      while (end < n && sa.port(dv, this.#names + end * NAME_ROOM) === sport) end++;
      const key = (KIND_HOST_REPLY << 17) | (v6 ? 0x10000 : 0) | sport;
      const s = this.#reply(key, fd, now);
      if (s >= 0) this.#send(s, v6, port, start, end, now);
      else debugRatelimit(rlSock, now, msgSock);
      start = end;
    }
  }

  /**
   * The listeners of `-U` rules (`fwd/fwd.ts`): one socket on the namespace's
   * 127.0.0.1 and one on ::1 at `port`, forwarding to the host's loopback at
   * the target port.
   */
  listenBackend(): ListenBackend {
    return {
      open: (rule, slot, port, out) => this.#listenOpen(rule, slot, port, out),
      close: (_rule, port, fd, v6) => {
        this.#loop.del(fd);
        lib().pf_close(fd);
        this.forget(fd);
        const k = (v6 ? 65536 : 0) + port;
        if (this.listen[k] === fd) this.listen[k] = -1;
      },
    };
  }

  #listenOpen(rule: FwdRule, slot: number, port: number, out: Int32Array): number {
    const conf = this.#c.conf;
    const any = (rule.flags & FWD_DUAL_STACK_ANY) !== 0;
    const target = targetPort(rule, port);
    let err = 0;
    for (let f = 0; f < 2; f++) {
      const v6 = f === 1;
      if (v6 ? !conf.v6 : !conf.v4) continue;
      if (!any && nat.isV4(rule.addr, 0) === v6) continue;
      const len = this.#lo(this.#bindDv, 0, v6, port);
      const fd = lib().pf_ns_bind_socket(
        this.#ns.userns,
        this.#ns.netns,
        v6 ? sa.AF_INET6 : sa.AF_INET,
        SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        0,
        this.#bindU8,
        len,
        -1,
      );
      let rc = fd;
      if (fd >= 0) {
        const idx = UDP_SPLICE_REF | (KIND_NS_LISTEN << 17) | (v6 ? 0x10000 : 0) | target;
        rc = fd > SOCKET_MAX
          ? -24
          : this.#loop.add(fd, EpollType.UDP, withSlot(idx, slot), EPOLLIN);
        if (rc < 0) lib().pf_close(fd);
      }
      if (rc < 0) {
        err = rc;
        continue;
      }
      this.listen[f * 65536 + port] = fd;
      out[f] = fd;
    }
    if (out[0]! < 0 && out[1]! < 0) return err || -97;
    return 0;
  }

  /** Forgets listener `fd` as the way back of reply sockets (it is being closed). */
  forget(fd: number): void {
    for (let i = 0; i < this.#nactive; i++) {
      const key = this.#active[i]!;
      if (this.ret[key] === fd) this.ret[key] = -1;
    }
  }

  /** Closes reply sockets idle for longer than the UDP timeout. */
  timer(now: number): void {
    const limit = udpTimeoutMs();
    const ffi = lib();
    for (let i = 0; i < this.#nactive; i++) {
      const key = this.#active[i]!;
      if (now - this.ts[key]! < limit) continue;
      const fd = this.sock[key]!;
      this.#loop.del(fd);
      ffi.pf_close(fd);
      this.sock[key] = -1;
      this.ret[key] = -1;
      this.#active[i--] = this.#active[--this.#nactive]!;
    }
  }

  /** Closes every socket. */
  close(): void {
    this.timer(Infinity);
    for (let i = 0; i < this.listen.length; i++) {
      const fd = this.listen[i]!;
      if (fd < 0) continue;
      this.#loop.del(fd);
      lib().pf_close(fd);
      this.listen[i] = -1;
    }
  }
}

/**
 * Wires spliced UDP for pasta: the hook of `udp`, the routing of spliced UDP
 * events and the aging timer. `-U` listeners come from the forwarding rules
 * (`fwd/fwd.ts`, through {@linkcode UdpSplice.listenBackend}).
 */
export function setupUdpSplice(
  c: Ctx,
  loop: Loop,
  arena: Arena,
  udp: Udp,
  ns: UdpSpliceNs,
): UdpSplice {
  const us = new UdpSplice(c, loop, arena, ns);
  udp.splice = us;
  loop.on(EpollType.UDP, (ev, fd, index, now) => {
    if (index & UDP_SPLICE_REF) us.sockHandler(ev, fd, index, now);
    else udp.sockHandler(ev, fd, index, now);
  }, loop.dropFd);
  loop.every(1000, (now) => us.timer(now));
  return us;
}
