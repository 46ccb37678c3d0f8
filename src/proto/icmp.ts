// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `icmp.ts` - ICMP and ICMPv6 echo through unprivileged "ping" sockets
 *
 * Theory of operation: each echo flow (guest address, pinged address,
 * identifier) is a flow of the flow table (`flow/flow.ts`), found by its tap
 * side, with a `SOCK_DGRAM`/`IPPROTO_ICMP(V6)` socket bound with the identifier
 * as its "port" so that the kernel keeps it; the epoll reference carries the
 * flow. Replies are received straight into an output slot behind room for the
 * Ethernet and IP headers, the identifier is restored from the flow (in case the
 * bind failed and the kernel chose another one), and the frame goes to the guest
 * from the address it pinged, to the address it pinged from. Addresses are translated by `fwd/nat.ts`, as for TCP
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
import { LimitedMessage } from "../log.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType, SOCKET_MAX } from "../loop/loop.ts";
import type { Arena } from "../tap/arena.ts";
import type { Tap } from "../tap/tap.ts";
import * as csum from "../wire/checksum.ts";
import * as eth from "../wire/ethernet.ts";
import * as icmp from "../wire/icmp.ts";
import * as icmpv6 from "../wire/icmpv6.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as sa from "../wire/sockaddr.ts";
import * as nat from "../fwd/nat.ts";
import * as inany from "../wire/inany.ts";
import { FLOW_PING4, FLOW_PING6, type FlowTable } from "../flow/flow.ts";
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

const OPEN = new LimitedMessage(
  "Cannot open ping socket: check net.ipv4.ping_group_range includes your group",
  1,
  1000,
);

const SEND = new LimitedMessage("ICMP: failed to send echo request");

const INVALID = new LimitedMessage(
  "ICMP: echo request from or to an unspecified, multicast or broadcast address, dropped",
);

const FULL = new LimitedMessage("ICMP: flow table full, echo request dropped");

/** Echo flows in the flow table, and the socket handlers. */
export class Icmp {
  /** Socket per flow (indexed by flow), -1 if none. */
  readonly #sock: Int32Array;
  /** Scratch: iov table (one entry) and socket address. */
  readonly #iovOff: number;
  readonly #iov: Uint32Array;
  readonly #saOff: number;
  readonly #words = new Uint32Array(4);
  readonly #dst = new Uint32Array(4);
  /** Scratch flowside of a request from the guest. */
  readonly #key = new Uint32Array(nat.SIDE_WORDS);

  /** Registers the socket handlers in `loop`; flows live in `flows`. */
  constructor(
    readonly c: Ctx,
    readonly loop: Loop,
    readonly tap: Tap,
    arena: Arena,
    readonly flows: FlowTable,
  ) {
    this.#sock = new Int32Array(flows.capacity); // set when a flow is created
    this.#iovOff = arena.alloc(16, 16);
    this.#iov = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset + this.#iovOff, 2);
    this.#saOff = arena.alloc(sa.SOCKADDR_MAX, 16);
    const onReply = (ev: number, fd: number, index: number, now: number): void =>
      this.sockHandler(ev, fd, index, now);
    loop.on(EpollType.ICMP, onReply, loop.dropFd);
    loop.on(EpollType.ICMPV6, onReply, loop.dropFd);
  }

  /** Echo flows open. */
  get count(): number {
    let n = 0;
    const t = this.flows.type;
    for (let i = 0; i < this.flows.high; i++) if (t[i] === FLOW_PING4 || t[i] === FLOW_PING6) n++;
    return n;
  }

  /**
   * Creates the flow for the request whose tap side is in `#key`: target side
   * through the translation, socket bound to the identifier; the flow index or -1.
   */
  #newFlow(v6: boolean, id: number, now: number): number {
    const ffi = lib();
    const c = this.c;
    const ft = this.flows;
    const proto = v6 ? nat.IPPROTO_ICMPV6 : nat.IPPROTO_ICMP;
    const i = ft.alloc(v6 ? FLOW_PING6 : FLOW_PING4, proto);
    if (i < 0) {
      FULL.debug(now);
      return -1;
    }
    this.#sock[i] = -1;
    const ini = ft.sideOff(2 * i), tgt = ft.sideOff(2 * i + 1);
    ft.side.set(this.#key, ini);
    ft.pif[2 * i] = nat.PIF_TAP;
    ft.pif[2 * i + 1] = nat.natFromTap(c, proto, ft.side, ini, ft.side, tgt);
    ft.side[tgt + nat.EPORT] = id;
    const fd = ffi.pf_socket(
      v6 ? sa.AF_INET6 : sa.AF_INET,
      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
    );
    if (fd < 0) {
      OPEN.warn(now);
      ft.free(i);
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
    // A failed bind is tolerated: replies get their identifier back from the flow.
    ffi.pf_bind(fd, this.tap.u8.subarray(this.#saOff, this.#saOff + len), len);
    if (
      fd > SOCKET_MAX || this.loop.add(fd, v6 ? EpollType.ICMPV6 : EpollType.ICMP, i, EPOLLIN) < 0
    ) {
      ffi.pf_close(fd);
      ft.free(i);
      return -1;
    }
    this.#sock[i] = fd;
    ft.hashInsert(2 * i);
    return i;
  }

  /** Handles an ICMP packet from the guest: echo requests go out, the rest is dropped. */
  tapHandler(c: Ctx, v6: boolean, l3: number, l4: number, l4len: number, now: number): void {
    const dv = this.tap.dv;
    if (icmp.validate(dv, l4, l4len) < 0) return;
    if (icmp.type(dv, l4) !== (v6 ? icmpv6.ECHO_REQUEST : icmp.ECHO_REQUEST)) return;
    const id = icmp.id(dv, l4);
    // The tap side of the flow: the guest, the address it pinged, the identifier.
    const k = this.#key;
    nat.keyFromGuest(k, dv, l3, v6);
    k[nat.EPORT] = id;
    k[nat.OPORT] = id;
    // Both ends must be unicast (upstream).
    if (!inany.isUnicast(k, nat.EADDR) || !inany.isUnicast(k, nat.OADDR)) {
      INVALID.debug(now);
      return;
    }
    const ft = this.flows;
    const proto = v6 ? nat.IPPROTO_ICMPV6 : nat.IPPROTO_ICMP;
    const sidx = ft.lookup(proto, nat.PIF_TAP, k, 0);
    const i = sidx >= 0 ? sidx >> 1 : this.#newFlow(v6, id, now);
    if (i < 0) return;
    ft.deadline[i] = now + ICMP_ECHO_TIMEOUT * 1000;
    const fd = this.#sock[i]!;
    const tgt = ft.sideOff(2 * i + 1);
    let salen: number;
    if (v6) {
      const w = this.#words;
      for (let j = 0; j < 4; j++) w[j] = ft.side[tgt + nat.EADDR + j]!;
      salen = sa.writeIn6(dv, this.#saOff, w, 0, inany.isLinkLocal6(w, 0) ? c.conf.ifindex6 : 0);
    } else {
      salen = sa.writeIn4(dv, this.#saOff, ft.side[tgt + nat.EADDR + 3]!, 0);
    }
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
    if (rc < 0) SEND.debug(now);
  }

  /**
   * Receives echo replies on the socket of flow `i` and sends them to the guest,
   * from the address it pinged, with its identifier.
   */
  sockHandler(_events: number, fd: number, i: number, now: number): void {
    const ft = this.flows;
    const type = ft.type[i];
    if (this.#sock[i] !== fd || (type !== FLOW_PING4 && type !== FLOW_PING6)) return;
    const v6 = type === FLOW_PING6;
    const tap = this.tap;
    const dv = tap.dv;
    const u8 = tap.u8;
    const c = this.c;
    const ini = ft.sideOff(2 * i);
    const id = ft.side[ini + nat.EPORT]!;
    for (let n = 0; n < 8; n++) {
      const l2 = tap.slot();
      if (l2 < 0) return;
      const l3 = l2 + eth.HEADER_LEN;
      const l4 = l3 + (v6 ? ipv6.HEADER_LEN : ipv4.MIN_HEADER_LEN);
      this.#iov[0] = l4;
      this.#iov[1] = 65535 - (l4 - l2);
      const len = lib().pf_recvmsg(
        fd,
        u8,
        this.#iovOff,
        1,
        MSG_DONTWAIT,
        this.#saOff,
        sa.SOCKADDR_MAX,
      );
      if (len < icmp.HEADER_LEN) return;
      ft.deadline[i] = now + ICMP_ECHO_TIMEOUT * 1000;
      icmp.setId(dv, l4, id);
      icmp.setChecksum(dv, l4, 0);
      if (v6) {
        const src = this.#words, dst = this.#dst;
        for (let j = 0; j < 4; j++) {
          src[j] = ft.side[ini + nat.OADDR + j]!;
          dst[j] = ft.side[ini + nat.EADDR + j]!;
        }
        eth.writeHeader(u8, dv, l2, c.macGuest, c.conf.mac, eth.ETH_P_IPV6);
        ipv6.push(u8, dv, l3, src, dst, IPPROTO_ICMPV6, len);
        const sum = csum.l4Checksum6(
          u8,
          l4,
          len,
          l3 + ipv6.SRC_OFF,
          l3 + ipv6.DST_OFF,
          IPPROTO_ICMPV6,
        );
        icmp.setChecksum(dv, l4, sum);
      } else {
        const src = ft.side[ini + nat.OADDR + 3]!, dst = ft.side[ini + nat.EADDR + 3]!;
        eth.writeHeader(u8, dv, l2, c.macGuest, c.conf.mac, eth.ETH_P_IP);
        ipv4.push(u8, dv, l3, src, dst, IPPROTO_ICMP, len);
        icmp.setChecksum(dv, l4, csum.csumFold(csum.sum16(u8, l4, len, 0)));
      }
      tap.queue(l2, l4 - l2 + len);
    }
  }

  /** Closes echo flows unused for {@linkcode ICMP_ECHO_TIMEOUT} seconds. */
  timer(now: number): void {
    const ft = this.flows;
    for (let i = 0; i < ft.high; i++) {
      const t = ft.type[i];
      if ((t !== FLOW_PING4 && t !== FLOW_PING6) || now < ft.deadline[i]!) continue;
      this.#close(i);
    }
  }

  #close(i: number): void {
    const fd = this.#sock[i]!;
    if (fd >= 0) {
      this.loop.del(fd);
      lib().pf_close(fd);
      this.#sock[i] = -1;
    }
    this.flows.free(i);
  }

  /** Closes every echo flow (shutdown and tests). */
  closeAll(): void {
    this.timer(Infinity);
  }
}
