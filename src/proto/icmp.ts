// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `icmp.ts` - ICMP and ICMPv6 echo through unprivileged "ping" sockets
 *
 * Theory of operation: an echo request from the guest is sent through a
 * `SOCK_DGRAM`/`IPPROTO_ICMP(V6)` socket, one per echo identifier and family,
 * bound with the identifier as its "port" so that the kernel keeps it. Replies
 * are received straight into an output slot behind room for the Ethernet and IP
 * headers, the identifier is restored from the epoll reference (in case the bind
 * failed and the kernel chose another one), and the frame goes to the guest from
 * the replying address. Addresses are translated by `fwd/nat.ts`, as for TCP
 * and UDP: the `--map-host-loopback` address is the host's loopback, the
 * `--map-guest-addr` one the host's own address, and replies come back from
 * the address the guest used. Requests from or to a non-unicast address are
 * dropped.
 * Sockets idle for {@linkcode ICMP_ECHO_TIMEOUT} are closed by the timer.
 *
 * Opening a ping socket needs the user's group in `net.ipv4.ping_group_range`;
 * failures say so, at most once a second.
 *
 * @module
 */

import type { Ctx } from "../context.ts";
import { lib } from "../../ffi/lib.ts";
import { debugRatelimit, RateLimit, warnRatelimit } from "../log.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType } from "../loop/loop.ts";
import type { Arena } from "../tap/arena.ts";
import type { Tap } from "../tap/tap.ts";
import * as csum from "../wire/checksum.ts";
import * as eth from "../wire/ethernet.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as sa from "../wire/sockaddr.ts";
import * as nat from "../fwd/nat.ts";
import {
  EPOLLIN,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SO_BINDTODEVICE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "../../ffi/sys.ts";

/** Seconds after which an unused echo socket is closed (upstream ICMP_ECHO_TIMEOUT). */
export const ICMP_ECHO_TIMEOUT = 60;

const ICMP_ECHO = 8;
const ICMPV6_ECHO = 128;

const rlOpen = new RateLimit(1, 1000);
const rlSend = new RateLimit();

function msgOpen(): string {
  return "Cannot open ping socket: check net.ipv4.ping_group_range includes your group";
}

function msgSend(): string {
  return "ICMP: failed to send echo request";
}

const rlInvalid = new RateLimit();

function msgInvalid(): string {
  return "ICMP: echo request from or to an unspecified, multicast or broadcast address, dropped";
}

/** Echo state per identifier and family, and the socket handlers. */
export class Icmp {
  /** Socket per identifier: [0..65535] IPv4, [65536..] IPv6; -1 if none. */
  readonly #sock = new Int32Array(2 * 65536).fill(-1);
  /** Last use per identifier, in milliseconds. */
  readonly #ts = new Float64Array(2 * 65536);
  /** Identifiers (with the family bit 16) that have a socket. */
  readonly #active = new Int32Array(2 * 65536);
  #nactive = 0;
  /** Scratch: iov table (one entry) and socket address. */
  readonly #iovOff: number;
  readonly #iov: Uint32Array;
  readonly #saOff: number;
  readonly #words = new Uint32Array(4);
  /** Scratch flowsides (initiating, target) for the translation. */
  readonly #sides = new Uint32Array(2 * nat.SIDE_WORDS);

  /** Registers the socket handlers in `loop`. */
  constructor(readonly c: Ctx, readonly loop: Loop, readonly tap: Tap, arena: Arena) {
    this.#iovOff = arena.alloc(16, 16);
    this.#iov = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset + this.#iovOff, 2);
    this.#saOff = arena.alloc(sa.SOCKADDR_MAX, 16);
    const onReply = (ev: number, fd: number, index: number, now: number): void =>
      this.sockHandler(ev, fd, index, now);
    loop.on(EpollType.ICMP, onReply);
    loop.on(EpollType.ICMPV6, onReply);
  }

  /** Opens the echo socket for `id`, or returns -1. */
  #open(v6: boolean, id: number, now: number): number {
    const ffi = lib();
    const c = this.c;
    const fd = ffi.pf_socket(
      v6 ? sa.AF_INET6 : sa.AF_INET,
      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
    );
    if (fd < 0) {
      warnRatelimit(rlOpen, now, msgOpen);
      return -1;
    }
    const ifname = v6 ? c.conf.ip6.ifnameOut : c.conf.ip4.ifnameOut;
    if (ifname) {
      const name = new TextEncoder().encode(ifname + "\0");
      ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    }
    const dv = this.tap.dv;
    const len = v6
      ? sa.writeIn6(dv, this.#saOff, c.conf.ip6.addrOut, id)
      : sa.writeIn4(dv, this.#saOff, c.conf.ip4.addrOut, id);
    // A failed bind is tolerated: replies get their identifier back from the reference.
    ffi.pf_bind(fd, this.tap.u8.subarray(this.#saOff, this.#saOff + len), len);
    const rc = this.loop.add(fd, v6 ? EpollType.ICMPV6 : EpollType.ICMP, id, EPOLLIN);
    if (rc < 0) {
      ffi.pf_close(fd);
      return -1;
    }
    const key = (v6 ? 65536 : 0) + id;
    this.#sock[key] = fd;
    this.#active[this.#nactive++] = key;
    return fd;
  }

  /** Handles an ICMP packet from the guest: echo requests go out, the rest is dropped. */
  tapHandler(c: Ctx, v6: boolean, l3: number, l4: number, l4len: number, now: number): void {
    const dv = this.tap.dv;
    if (l4len < 8) return;
    const type = dv.getUint8(l4);
    if (type !== (v6 ? ICMPV6_ECHO : ICMP_ECHO)) return;
    const id = dv.getUint16(l4 + 4);
    // Destination through the translation (fwd/nat.ts); both ends must be unicast.
    const f = this.#sides;
    const T = nat.SIDE_WORDS;
    if (v6) {
      for (let j = 0; j < 4; j++) {
        f[nat.EADDR + j] = dv.getUint32(l3 + ipv6.SRC_OFF + j * 4);
        f[nat.OADDR + j] = dv.getUint32(l3 + ipv6.DST_OFF + j * 4);
      }
    } else {
      nat.setV4(f, nat.EADDR, ipv4.src(dv, l3));
      nat.setV4(f, nat.OADDR, ipv4.dst(dv, l3));
    }
    f[nat.EPORT] = id;
    f[nat.OPORT] = id;
    if (!nat.isUnicast(f, nat.EADDR) || !nat.isUnicast(f, nat.OADDR)) {
      debugRatelimit(rlInvalid, now, msgInvalid);
      return;
    }
    nat.natFromTap(c, v6 ? nat.IPPROTO_ICMPV6 : nat.IPPROTO_ICMP, f, 0, f, T);
    let salen: number;
    if (v6) {
      const w = this.#words;
      for (let j = 0; j < 4; j++) w[j] = f[T + nat.EADDR + j]!;
      salen = sa.writeIn6(dv, this.#saOff, w, 0, nat.isLinkLocal6(w, 0) ? c.conf.ifindex6 : 0);
    } else {
      salen = sa.writeIn4(dv, this.#saOff, f[T + nat.EADDR + 3]!, 0);
    }
    const key = (v6 ? 65536 : 0) + id;
    let fd = this.#sock[key]!;
    if (fd < 0) fd = this.#open(v6, id, now);
    if (fd < 0) return;
    this.#ts[key] = now;
    this.#iov[0] = l4;
    this.#iov[1] = l4len;
    const rc = lib().pf_sendmsg(
      fd,
      this.tap.u8,
      this.#iovOff,
      1,
      MSG_DONTWAIT | MSG_NOSIGNAL,
      this.#saOff,
      salen,
    );
    if (rc < 0) debugRatelimit(rlSend, now, msgSend);
  }

  /** Receives echo replies on the socket for identifier `id` and sends them to the guest. */
  sockHandler(_events: number, fd: number, id: number, now: number): void {
    const v6 = this.#sock[65536 + id] === fd;
    const tap = this.tap;
    const dv = tap.dv;
    const u8 = tap.u8;
    const c = this.c;
    for (let n = 0; n < 8; n++) {
      const l2 = tap.slot();
      if (l2 < 0) return;
      const l3 = l2 + eth.HEADER_LEN;
      const l4 = l3 + (v6 ? ipv6.HEADER_LEN : 20);
      this.#iov[0] = l4;
      this.#iov[1] = 65535 - (l4 - l2);
      const len = lib().pf_recvmsg(fd, u8, this.#iovOff, 1, MSG_DONTWAIT, this.#saOff, 128);
      if (len < 8) return;
      this.#ts[(v6 ? 65536 : 0) + id] = now;
      dv.setUint16(l4 + 4, id);
      dv.setUint16(l4 + 2, 0);
      if (v6) {
        const src = this.#words;
        sa.readAddr6(dv, this.#saOff, src);
        if (!nat.natReplySource(c, nat.IPPROTO_ICMPV6, src, 0, 0, src, 0)) continue;
        const ll = src[0]! >>> 22 === 0x3fa;
        const dst = ll ? c.ip6AddrLlSeen : c.ip6AddrSeen;
        eth.writeHeader(u8, dv, l2, c.macGuest, c.conf.mac, eth.ETH_P_IPV6);
        ipv6.push(u8, dv, l3, src, dst, IPPROTO_ICMPV6, len);
        dv.setUint16(
          l4 + 2,
          csum.l4Checksum6(u8, l4, len, l3 + ipv6.SRC_OFF, l3 + ipv6.DST_OFF, IPPROTO_ICMPV6),
        );
      } else {
        const f = this.#sides;
        nat.setV4(f, 0, sa.addr4(dv, this.#saOff));
        if (!nat.natReplySource(c, nat.IPPROTO_ICMP, f, 0, 0, f, 0)) continue;
        const src = f[3]!;
        eth.writeHeader(u8, dv, l2, c.macGuest, c.conf.mac, eth.ETH_P_IP);
        ipv4.push(u8, dv, l3, src, c.ip4AddrSeen, IPPROTO_ICMP, len);
        dv.setUint16(l4 + 2, csum.csumFold(csum.sum16(u8, l4, len, 0)));
      }
      tap.queue(l2, l4 - l2 + len);
    }
  }

  /** Closes echo sockets unused for {@linkcode ICMP_ECHO_TIMEOUT} seconds. */
  timer(now: number): void {
    for (let i = 0; i < this.#nactive; i++) {
      const key = this.#active[i]!;
      if (now - this.#ts[key]! < ICMP_ECHO_TIMEOUT * 1000) continue;
      const fd = this.#sock[key]!;
      this.loop.del(fd);
      lib().pf_close(fd);
      this.#sock[key] = -1;
      this.#active[i--] = this.#active[--this.#nactive]!;
    }
  }
}
