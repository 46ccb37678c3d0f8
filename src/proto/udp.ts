// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp.ts` - UDP translation with port tracking, and DNS forwarding
 *
 * Theory of operation: UDP has no connections, but the guest and the host
 * use ephemeral ports at the same time, and a reply has to find its way back
 * to the guest socket that caused it. As upstream, we keep, per family, a map
 * indexed by the **guest's source port**:
 *
 * - `sock`: the host socket that carries this guest port's datagrams, bound
 *   to the same port number where possible (created when first needed, with
 *   the outbound address and interface applied), so that replies reach it;
 *   when the port is taken on the host, an ephemeral port is bound instead:
 *   replies still reach the right guest port, since the socket's epoll index
 *   is the guest port, not the host one;
 * - `flags`: LOCAL, set when a datagram from a host-local address (loopback,
 *   unspecified, or the guest's own address, as pasta copies the host's) was
 *   shown to the guest as coming from the gateway, with LOOPBACK or GUA saying
 *   which host address it was, so that a reply to the gateway at that port goes
 *   back to that same address; indexed by the remote port;
 * - `ts`: last activity, for aging.
 *
 * Guest to host ({@linkcode Udp.tapHandler}): a sequence of datagrams of one
 * flow arrives from the tap. Both ends must be unicast (the destination
 * specified), as upstream. The destination goes through `fwd/nat.ts`
 * (`--dns-forward` to `--dns-host` on ports 53 and 853, `--map-host-loopback`
 * to the host's loopback unless a reply goes back to a recorded local
 * address, `--map-guest-addr`), and all datagrams leave with one
 * `sendmmsg()` whose iovecs point at the payloads in the arena.
 *
 * Host to guest ({@linkcode Udp.sockHandler}): `recvmmsg()` receives up to
 * {@linkcode UDP_MAX_FRAMES} datagrams straight into frame slots whose
 * Ethernet, IP and UDP headers are templated at start-up (the IPv4 header
 * checksum starts from a precomputed partial sum). The source is shown
 * through `fwd/nat.ts` (`natReplySource`: the `--dns-host` resolver as the
 * `--dns-forward` address, 127.0.0.1 and ::1 as the `--map-host-loopback`
 * address, the host's own address as `--map-guest-addr`, other host-local
 * addresses as our tap address), the guest's link-local or global address as
 * destination to match the source's scope, the
 * destination port is the epoll index, and the frames are queued to the tap
 * together. As upstream, the IPv4 UDP checksum is 0 (none); the IPv6 one is
 * always computed. EPOLLERR only clears the socket error, without receiving.
 *
 * Inbound forwarding (`-u`): the rules' listeners (`fwd/fwd.ts`, opened
 * through {@linkcode Udp.listenBackend}), one socket per forwarded port and
 * family, with the target port (and the rule's slot) as epoll index. The
 * socket is also stored in the map at the target port, so the guest's replies
 * from that port leave through it and reach the client from the port it used.
 * A datagram from the host's loopback is spliced in pasta (`udp_splice.ts`)
 * unless `--no-splice`; with `--splice-only` others are dropped.
 *
 * Aging: {@linkcode Udp.timer} (every second) closes sockets and forgets
 * flags idle for {@linkcode UDP_CONN_TIMEOUT} seconds. Tests shorten that with
 * {@linkcode setUdpTimeout}, or the environment variable
 * `PASST_UDP_TIMEOUT_MS` read when a {@linkcode Udp} is created.
 *
 * UDP is not in the flow table yet (`flow/flow.ts`): the per-port tracking
 * above is its state.
 *
 * Nothing on the packet path allocates or throws.
 *
 * @module
 */

import type { Ctx } from "../context.ts";
import { lib } from "../../ffi/lib.ts";
import { EADDRINUSE, EAFNOSUPPORT } from "../../ffi/errno.ts";
import type { ListenBackend } from "../fwd/fwd.ts";
import { listenSlot, withSlot } from "../fwd/fwd.ts";
import { FWD_DUAL_STACK_ANY, type FwdRule } from "../fwd/fwd_rule.ts";
import { listenSocket, targetPort } from "../fwd/listen.ts";
import { debugRatelimit, RateLimit } from "../log.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType } from "../loop/loop.ts";
import type { Arena } from "../tap/arena.ts";
import type { Pool } from "../tap/pool.ts";
import type { Tap } from "../tap/tap.ts";
import * as csum from "../wire/checksum.ts";
import * as eth from "../wire/ethernet.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as sa from "../wire/sockaddr.ts";
import * as nat from "../fwd/nat.ts";
import { sumWords } from "./udp_csum.ts";
import {
  EPOLLERR,
  EPOLLIN,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  MMSG_WORDS,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  SO_BINDTODEVICE,
  SO_ERROR,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
} from "../../ffi/sys.ts";

/** Seconds after which an idle binding is closed (upstream UDP_CONN_TIMEOUT). */
export const UDP_CONN_TIMEOUT = 180;
/** Datagrams per `recvmmsg()` call (upstream UDP_MAX_FRAMES). */
export const UDP_MAX_FRAMES = 32;
/** Frame slots per family towards the guest. */
export const UDP_SLOTS = 64;
/** Bytes of one frame slot. */
export const UDP_SLOT_SIZE = 65536 + 128;
/** Datagrams per `sendmmsg()` call at most (UIO_MAXIOV). */
export const UDP_SEND_BATCH = 1024;
/** Arena bytes a {@linkcode Udp} reserves with the default number of slots. */
export const UDP_ARENA_BYTES = 2 * UDP_SLOTS * (UDP_SLOT_SIZE + 64) + UDP_SEND_BATCH * 32 + 4096;

/** Map flag: a host-local source was shown to the guest as the gateway at this port. */
export const PORT_LOCAL = 1;
/** Map flag: ... and that source was a loopback address. */
export const PORT_LOOPBACK = 2;
/** Map flag: ... and that source was our global IPv6 address. */
export const PORT_GUA = 4;
/** Map flag: the socket is a bound listener (`-u`), never aged. */
export const PORT_LISTEN = 8;

/** Offsets inside a slot: the UDP header is 8-aligned, the payload follows. */
const SLOT_L4 = 72;
const SLOT_PAYLOAD = SLOT_L4 + 8;
/** Size in bytes of an entry of a native mmsg table ({@linkcode MMSG_WORDS} words). */
const MMSG_BYTES = MMSG_WORDS * 4;
/** Room for a socket address in the receive name area. */
const NAME_ROOM = 32;

let timeoutOverride = -1;

/** Sets the idle timeout of bindings in milliseconds (tests); a negative value restores 180 s. */
export function setUdpTimeout(ms: number): void {
  timeoutOverride = ms;
}

/** The idle timeout in use, in milliseconds. */
export function udpTimeoutMs(): number {
  return timeoutOverride >= 0 ? timeoutOverride : UDP_CONN_TIMEOUT * 1000;
}

/** Hook for spliced UDP (pasta, loopback to loopback, `udp_splice.ts`). */
export interface UdpSplice {
  /**
   * Offered each datagram from a loopback source received on a bound listener,
   * payload at `payOff` of `len` bytes and source at `saOff` in the arena, to
   * be sent to the address at `dst[dstOff]` (inany words, `fwd/nat.ts`);
   * returns true if it forwarded the datagram itself (then the tap never sees it).
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
  ): boolean;
  /** Listener `fd` is being closed: forget it as the way back of any flow. */
  forget(fd: number): void;
}

/** What the UDP module needs from the tap: queue frames, and flush to reuse its slots. */
export interface UdpTap {
  /** The arena bytes. */
  readonly u8: Uint8Array;
  /** A DataView over the arena. */
  readonly dv: DataView;
  /** Queues the frame at `off` of `len` bytes (four writable bytes precede it). */
  queue(off: number, len: number): void;
  /** Sends everything queued. */
  flush(): void;
  /** Frames queued and not yet sent. */
  readonly queued: number;
}

const rlBind = new RateLimit();
const rlSend = new RateLimit();
const rlMalformed = new RateLimit();
const rlRecv = new RateLimit();

function msgBind(): string {
  return "UDP: cannot open or bind a socket for a guest port, dropping datagrams";
}

function msgSend(): string {
  return "UDP: sendmmsg() failed or sent part of a sequence, datagrams dropped";
}

function msgMalformed(): string {
  return "UDP: dropping malformed datagram from guest";
}

function msgRecv(): string {
  return "UDP: dropping truncated datagram from host";
}

/** Whether two address word arrays are equal. */
function eq6(a: Uint32Array, b: Uint32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** Whether four address words are all zero. */
function zero6(a: Uint32Array): boolean {
  return (a[0]! | a[1]! | a[2]! | a[3]!) === 0;
}

/** Whether four address words are ::1. */
function loopback6(a: Uint32Array): boolean {
  return a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 1;
}

/** Whether four address words are in fe80::/10. */
function linkLocal6(a: Uint32Array): boolean {
  return a[0]! >>> 22 === 0x3fa;
}

/** UDP port tracking, the socket handlers and the guest datagram handler. */
export class Udp {
  /** Socket per guest port: [0, 65536) IPv4, [65536, 131072) IPv6; -1 if none. */
  readonly sock = new Int32Array(2 * 65536).fill(-1);
  /** {@linkcode PORT_LOCAL} and friends, per port and family. */
  readonly flags = new Uint8Array(2 * 65536);
  /** Last activity per port and family, in milliseconds. */
  readonly ts = new Float64Array(2 * 65536);
  /** Keys (family bit 16 plus port) subject to aging. */
  readonly #active = new Int32Array(2 * 65536);
  readonly #inActive = new Uint8Array(2 * 65536);
  #nactive = 0;
  /** The rule of a `-u` listener from its slot (`fwd/fwd.ts`); null: no target address. */
  ruleAt: ((slot: number) => FwdRule | null) | null = null;
  /** Scratch rule of the translation: the target port is the reference's; taddr copied. */
  readonly #rule = { first: 0, to: 0, taddr: new Uint32Array(4) };
  /** A rule's target address for the frame being built (`#dstSet`). */
  readonly #dstW = new Uint32Array(4);
  #dstSet = false;
  /** Spliced UDP, when it exists. */
  splice: UdpSplice | null = null;

  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #u32: Uint32Array;
  readonly #nslots: number;
  /** Per family: first slot, receive mmsg table, receive names; next free slot. */
  readonly #slotsOff = new Uint32Array(2);
  readonly #tabOff = new Uint32Array(2);
  readonly #namesOff = new Uint32Array(2);
  readonly #slotNext = new Uint32Array(2);
  /** Precomputed partial sum of the constant IPv4 header words. */
  readonly #ip4Base: number;
  /** Send table and destination address for the guest's datagrams. */
  readonly #sendTabOff: number;
  readonly #sendSaOff: number;
  /** Scratch socket address for bind(), outside the arena, and address words. */
  readonly #bindU8 = new Uint8Array(sa.SOCKADDR_MAX);
  readonly #bindDv = new DataView(this.#bindU8.buffer);
  readonly #w = new Uint32Array(4);
  readonly #src = new Uint32Array(4);
  /** Scratch flowsides (initiating, target) for the translation. */
  readonly #sides = new Uint32Array(2 * nat.SIDE_WORDS);
  readonly #any6 = new Uint32Array(4);
  /** Outbound interface names, NUL-terminated, or null. */
  readonly #ifOut4: Uint8Array | null;
  readonly #ifOut6: Uint8Array | null;

  /**
   * Reserves slots and tables in `arena` (shared with `tap`), and registers the
   * socket handlers in `loop`; `slots` frame slots per family (at least
   * {@linkcode UDP_MAX_FRAMES}).
   */
  constructor(
    readonly c: Ctx,
    readonly loop: Loop,
    readonly tap: UdpTap,
    arena: Arena,
    slots = UDP_SLOTS,
  ) {
    this.#u8 = arena.u8;
    this.#dv = arena.dv;
    this.#u32 = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset, arena.u8.length >>> 2);
    this.#nslots = Math.max(slots, UDP_MAX_FRAMES);
    const dv = this.#dv;
    const u32 = this.#u32;
    for (let f = 0; f < 2; f++) {
      const v6 = f === 1;
      this.#slotsOff[f] = arena.alloc(this.#nslots * UDP_SLOT_SIZE, 64);
      this.#tabOff[f] = arena.alloc(this.#nslots * MMSG_BYTES, 64);
      this.#namesOff[f] = arena.alloc(this.#nslots * NAME_ROOM, 64);
      for (let i = 0; i < this.#nslots; i++) {
        const base = this.#slotsOff[f]! + i * UDP_SLOT_SIZE;
        const l4 = base + SLOT_L4;
        const l3 = l4 - (v6 ? ipv6.HEADER_LEN : ipv4.MIN_HEADER_LEN);
        const l2 = l3 - eth.HEADER_LEN;
        eth.writeHeader(
          arena.u8,
          dv,
          l2,
          c.macGuest,
          c.conf.mac,
          v6 ? eth.ETH_P_IPV6 : eth.ETH_P_IP,
        );
        if (v6) {
          ipv6.push(arena.u8, dv, l3, this.#any6, this.#any6, ipv4.PROTO_UDP, 0);
        } else {
          ipv4.push(arena.u8, dv, l3, 0, 0, ipv4.PROTO_UDP, 0);
        }
        const e = (this.#tabOff[f]! >>> 2) + i * MMSG_WORDS;
        u32[e] = base + SLOT_PAYLOAD;
        u32[e + 1] = 65535 - (base + SLOT_PAYLOAD - l2);
        u32[e + 2] = this.#namesOff[f]! + i * NAME_ROOM;
        u32[e + 3] = sa.SIN6_LEN;
        u32[e + 4] = 0;
        u32[e + 5] = 0;
        u32[e + 6] = 0;
        u32[e + 7] = 0;
      }
    }
    // Version/IHL, TOS, ID, flags and fragment offset, TTL and protocol: all fixed.
    this.#ip4Base = 0x4500 + 0 + 0 + ((255 << 8) | ipv4.PROTO_UDP);
    this.#sendTabOff = arena.alloc(UDP_SEND_BATCH * MMSG_BYTES, 64);
    this.#sendSaOff = arena.alloc(sa.SOCKADDR_MAX, 64);
    const enc = new TextEncoder();
    this.#ifOut4 = c.conf.ip4.ifnameOut ? enc.encode(c.conf.ip4.ifnameOut + "\0") : null;
    this.#ifOut6 = c.conf.ip6.ifnameOut ? enc.encode(c.conf.ip6.ifnameOut + "\0") : null;
    try {
      const env = Deno.env.get("PASST_UDP_TIMEOUT_MS");
      if (env !== undefined && /^\d+$/.test(env)) setUdpTimeout(Number(env));
    } catch {
      // No --allow-env: keep the default.
    }
    const onSock = (ev: number, fd: number, index: number, now: number): void =>
      this.sockHandler(ev, fd, index, now);
    loop.on(EpollType.UDP, onSock, loop.dropFd);
    loop.on(EpollType.UDP_LISTEN, onSock);
  }

  /** Starts aging `key` from `now` if it isn't aged yet. */
  #track(key: number, now: number): void {
    this.ts[key] = now;
    if (this.#inActive[key]) return;
    this.#inActive[key] = 1;
    this.#active[this.#nactive++] = key;
  }

  /**
   * Creates a datagram socket of the family; with `ifname` (NUL-terminated)
   * bound to that device. Returns the fd or -errno.
   */
  #socket(v6: boolean, ifname: Uint8Array | null): number {
    const ffi = lib();
    const fd = ffi.pf_socket(
      v6 ? sa.AF_INET6 : sa.AF_INET,
      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    if (fd < 0) return fd;
    if (v6) ffi.pf_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (ifname !== null) {
      const rc = ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, ifname.length);
      if (rc < 0) {
        ffi.pf_close(fd);
        return rc;
      }
    }
    return fd;
  }

  /** Binds `fd` to `addr4`/`addr6` and `port` (scratch address outside the arena). */
  #bind(fd: number, v6: boolean, addr4: number, addr6: Uint32Array, port: number): number {
    const len = v6
      ? sa.writeIn6(this.#bindDv, 0, addr6, port)
      : sa.writeIn4(this.#bindDv, 0, addr4, port);
    return lib().pf_bind(fd, this.#bindU8, len);
  }

  /** Opens the socket for guest port `port`; returns the fd or -1 (datagrams dropped). */
  #open(v6: boolean, port: number, now: number): number {
    const ffi = lib();
    const conf = this.c.conf;
    const fd = this.#socket(v6, v6 ? this.#ifOut6 : this.#ifOut4);
    if (fd < 0) {
      debugRatelimit(rlBind, now, msgBind);
      return -1;
    }
    let rc = this.#bind(fd, v6, conf.ip4.addrOut, conf.ip6.addrOut, port);
    // The port is taken on the host: any port will do, replies are routed by the epoll index.
    if (rc === -EADDRINUSE) rc = this.#bind(fd, v6, conf.ip4.addrOut, conf.ip6.addrOut, 0);
    if (rc >= 0) rc = this.loop.add(fd, EpollType.UDP, (v6 ? 0x10000 : 0) | port, EPOLLIN);
    if (rc < 0) {
      ffi.pf_close(fd);
      debugRatelimit(rlBind, now, msgBind);
      return -1;
    }
    const key = (v6 ? 65536 : 0) | port;
    this.sock[key] = fd;
    this.#track(key, now);
    return fd;
  }

  /**
   * Handles datagrams `start..pool.count-1` of a guest sequence (one flow: same
   * addresses and ports; the IP header at `l3`); returns how many it consumed.
   */
  tapHandler(c: Ctx, v6: boolean, l3: number, pool: Pool, start: number, now: number): number {
    const dv = this.#dv;
    const u32 = this.#u32;
    const count = pool.count;
    const first = pool.get(start, 0, 8);
    if (first < 0) {
      debugRatelimit(rlMalformed, now, msgMalformed);
      return 1;
    }
    const sport = dv.getUint16(first);
    const dport = dv.getUint16(first + 2);
    const saOff = this.#sendSaOff;
    // Destination through the translation (fwd/nat.ts). The source must be
    // unicast and the destination specified (upstream); ports non-zero.
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
    f[nat.EPORT] = sport;
    f[nat.OPORT] = dport;
    if (
      sport === 0 || dport === 0 || !nat.isUnicast(f, nat.EADDR) || nat.isUnspecified(f, nat.OADDR)
    ) {
      debugRatelimit(rlMalformed, now, msgMalformed);
      return count - start;
    }
    nat.natFromTap(c, nat.IPPROTO_UDP, f, 0, f, T);
    let salen: number;
    if (v6) {
      const w = this.#w;
      for (let j = 0; j < 4; j++) w[j] = f[T + nat.EADDR + j]!;
      // A reply to a host-local source shown as the host-loopback address goes
      // back to that address, not to loopback (see #markLocal).
      const fl = this.flags[65536 | dport]!;
      if (
        (fl & PORT_LOCAL) && !(fl & PORT_LOOPBACK) &&
        nat.equals6(f, nat.OADDR, c.conf.ip6.mapHostLoopback)
      ) {
        w.set(fl & PORT_GUA ? c.conf.ip6.addr : c.ip6AddrSeen);
      }
      salen = sa.writeIn6(dv, saOff, w, dport, linkLocal6(w) ? c.conf.ifindex6 : 0);
    } else {
      let dst = f[T + nat.EADDR + 3]!;
      const fl = this.flags[dport]!;
      if (
        (fl & PORT_LOCAL) && !(fl & PORT_LOOPBACK) && c.conf.ip4.mapHostLoopback !== 0 &&
        nat.equals4(f, nat.OADDR, c.conf.ip4.mapHostLoopback)
      ) {
        dst = c.ip4AddrSeen;
      }
      salen = sa.writeIn4(dv, saOff, dst, dport);
    }

    const key = (v6 ? 65536 : 0) | sport;
    let fd = this.sock[key]!;
    if (fd < 0) fd = this.#open(v6, sport, now);
    if (fd < 0) return count - start;
    if (!(this.flags[key]! & PORT_LISTEN)) this.#track(key, now);

    const tab = this.#sendTabOff;
    let n = 0;
    let i = start;
    for (; i < count && n < UDP_SEND_BATCH; i++) {
      const off = pool.get(i, 0, 8);
      const avail = pool.lenOf(i);
      if (off < 0) {
        debugRatelimit(rlMalformed, now, msgMalformed);
        continue;
      }
      const ulen = dv.getUint16(off + 4);
      if (ulen < 8 || ulen > avail) {
        debugRatelimit(rlMalformed, now, msgMalformed);
        continue;
      }
      const e = (tab >>> 2) + n * MMSG_WORDS;
      u32[e] = off + 8;
      u32[e + 1] = ulen - 8;
      u32[e + 2] = saOff;
      u32[e + 3] = salen;
      n++;
    }
    if (n > 0) {
      const rc = lib().pf_sendmmsg(fd, this.#u8, tab, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (rc < n) debugRatelimit(rlSend, now, msgSend);
    }
    return i - start;
  }

  /**
   * Receives datagrams on the socket `fd` (epoll index: family bit 16, guest
   * port) and queues them to the guest.
   */
  sockHandler(events: number, fd: number, index: number, now: number): void {
    const ffi = lib();
    if (events & EPOLLERR) {
      // Reading SO_ERROR clears it; there is nothing to receive for it.
      ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
      if (!(events & EPOLLIN)) return;
    }
    const v6 = (index & 0x10000) !== 0;
    const f = v6 ? 1 : 0;
    const dport = index & 0xffff;
    const tap = this.tap;
    if (tap.queued === 0) {
      this.#slotNext[0] = 0;
      this.#slotNext[1] = 0;
    } else if (this.#slotNext[f]! + UDP_MAX_FRAMES > this.#nslots) {
      tap.flush();
      this.#slotNext[0] = 0;
      this.#slotNext[1] = 0;
    }
    const firstSlot = this.#slotNext[f]!;
    const tab = this.#tabOff[f]! + firstSlot * MMSG_BYTES;
    const u32 = this.#u32;
    const tw = tab >>> 2;
    for (let k = 0; k < UDP_MAX_FRAMES; k++) u32[tw + k * MMSG_WORDS + 3] = sa.SIN6_LEN;
    const n = ffi.pf_recvmmsg(fd, this.#u8, tab, UDP_MAX_FRAMES, MSG_DONTWAIT);
    if (n <= 0) return;
    this.#slotNext[f] = firstSlot + n;
    const key = (v6 ? 65536 : 0) | dport;
    if (this.sock[key] === fd && !(this.flags[key]! & PORT_LISTEN)) this.ts[key] = now;
    const listener = (this.flags[key]! & PORT_LISTEN) !== 0;
    for (let k = 0; k < n; k++) {
      const e = tw + k * MMSG_WORDS;
      const len = u32[e + 4]!;
      if (u32[e + 5]! & MSG_TRUNC) {
        debugRatelimit(rlRecv, now, msgRecv);
        continue;
      }
      const base = this.#slotsOff[f]! + (firstSlot + k) * UDP_SLOT_SIZE;
      const nameOff = u32[e + 2]!;
      this.#dstSet = false;
      if (listener && this.#inbound(v6, fd, dport, listenSlot(index), base, len, nameOff, now)) {
        continue;
      }
      const l2 = v6
        ? this.#frame6(base, nameOff, dport, len, now)
        : this.#frame4(base, nameOff, dport, len, now);
      tap.queue(l2, SLOT_L4 + 8 + len - (l2 - base));
    }
  }

  /**
   * Decides where a datagram received on a `-u` listener goes (`fwd/nat.ts`):
   * spliced (pasta, from loopback), dropped (`--splice-only`, not from
   * loopback), or through the tap (false).
   */
  #inbound(
    v6: boolean,
    fd: number,
    port: number,
    slot: number,
    base: number,
    len: number,
    nameOff: number,
    now: number,
  ): boolean {
    const dv = this.#dv;
    const f = this.#sides;
    const T = nat.SIDE_WORDS;
    if (v6) {
      sa.readAddr6(dv, nameOff, this.#w);
      nat.setV6(f, nat.EADDR, this.#w);
    } else {
      nat.setV4(f, nat.EADDR, sa.addr4(dv, nameOff));
    }
    // Only loopback matters of the address it reached: loopback reaches loopback.
    if (nat.isLoopback(f, nat.EADDR)) nat.copyAddr(f, nat.OADDR, f, nat.EADDR);
    else if (v6) f.fill(0, nat.OADDR, nat.OADDR + 4);
    else nat.setV4(f, nat.OADDR, 0);
    f[nat.EPORT] = sa.port(dv, nameOff);
    f[nat.OPORT] = port;
    const rule = this.#rule;
    const fr = this.ruleAt?.(slot) ?? null;
    if (fr !== null) rule.taddr.set(fr.taddr);
    else rule.taddr.fill(0);
    const pif = nat.natFromHost(this.c, rule, nat.IPPROTO_UDP, f, 0, f, T);
    if (pif === nat.PIF_NONE) return true;
    if (pif === nat.PIF_TAP && fr !== null && !nat.isUnspecified(fr.taddr, 0)) {
      // The rule's target address is the destination on the guest's side.
      nat.copyAddr(this.#dstW, 0, f, T + nat.EADDR);
      this.#dstSet = true;
    }
    if (pif !== nat.PIF_SPLICE || this.splice === null) return false;
    return this.splice.datagram(v6, fd, port, base + SLOT_PAYLOAD, len, nameOff, f, T, now);
  }

  /** Records that a host-local source at `port` was shown as the gateway. */
  #markLocal(key: number, bits: number, now: number): void {
    this.flags[key] = (this.flags[key]! & PORT_LISTEN) | PORT_LOCAL | bits;
    this.#track(key, now);
  }

  /** Completes the IPv4 frame in slot `base`; returns its Ethernet offset. */
  #frame4(base: number, nameOff: number, dport: number, len: number, now: number): number {
    const dv = this.#dv;
    const u8 = this.#u8;
    const c = this.c;
    const ip4 = c.conf.ip4;
    const l4 = base + SLOT_L4;
    const l3 = l4 - ipv4.MIN_HEADER_LEN;
    const l2 = l3 - eth.HEADER_LEN;
    const from = sa.addr4(dv, nameOff);
    const sport = sa.port(dv, nameOff);
    const f = this.#sides;
    nat.setV4(f, 0, from);
    let src = from;
    if (nat.natReplySource(c, nat.IPPROTO_UDP, f, 0, sport, f, 4)) src = f[7]!;
    if (src !== from && src === ip4.mapHostLoopback && !nat.isDnsFlow(nat.IPPROTO_UDP, sport)) {
      this.#markLocal(sport, from >>> 24 === 127 ? PORT_LOOPBACK : 0, now);
    }
    const dst = this.#dstSet ? this.#dstW[3]! : c.ip4AddrSeen !== 0 ? c.ip4AddrSeen : ip4.addr;
    const mac = c.macGuest;
    for (let i = 0; i < 6; i++) u8[l2 + i] = mac[i]!;
    const total = ipv4.MIN_HEADER_LEN + 8 + len;
    dv.setUint16(l3 + 2, total);
    dv.setUint32(l3 + 12, src >>> 0);
    dv.setUint32(l3 + 16, dst >>> 0);
    dv.setUint16(
      l3 + 10,
      csum.csumFold(
        this.#ip4Base + total + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff),
      ),
    );
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    dv.setUint16(l4 + 4, 8 + len);
    dv.setUint16(l4 + 6, 0);
    return l2;
  }

  /** Completes the IPv6 frame in slot `base`; returns its Ethernet offset. */
  #frame6(base: number, nameOff: number, dport: number, len: number, now: number): number {
    const dv = this.#dv;
    const u8 = this.#u8;
    const c = this.c;
    const ip6 = c.conf.ip6;
    const l4 = base + SLOT_L4;
    const l3 = l4 - ipv6.HEADER_LEN;
    const l2 = l3 - eth.HEADER_LEN;
    const w = this.#w;
    sa.readAddr6(dv, nameOff, w);
    const sport = sa.port(dv, nameOff);
    const src = this.#src;
    if (!nat.natReplySource(c, nat.IPPROTO_UDP, w, 0, sport, src, 0)) src.set(w);
    if (
      !eq6(src, w) && !zero6(ip6.mapHostLoopback) && eq6(src, ip6.mapHostLoopback) &&
      !nat.isDnsFlow(nat.IPPROTO_UDP, sport)
    ) {
      this.#markLocal(
        65536 | sport,
        (loopback6(w) ? PORT_LOOPBACK : 0) | (eq6(w, ip6.addr) ? PORT_GUA : 0),
        now,
      );
    }
    let dst: Uint32Array = linkLocal6(src) ? c.ip6AddrLlSeen : c.ip6AddrSeen;
    if (zero6(dst)) dst = zero6(c.ip6AddrSeen) ? ip6.addr : c.ip6AddrSeen;
    if (this.#dstSet) dst = this.#dstW;
    const mac = c.macGuest;
    for (let i = 0; i < 6; i++) u8[l2 + i] = mac[i]!;
    const l4len = 8 + len;
    dv.setUint16(l3 + 4, l4len);
    for (let i = 0; i < 4; i++) {
      dv.setUint32(l3 + ipv6.SRC_OFF + i * 4, src[i]!);
      dv.setUint32(l3 + ipv6.DST_OFF + i * 4, dst[i]!);
    }
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    dv.setUint16(l4 + 4, l4len);
    dv.setUint16(l4 + 6, 0);
    const sum = sumWords(u8, this.#u32, l4, l4len) +
      csum.pseudo6(u8, l3 + ipv6.SRC_OFF, l3 + ipv6.DST_OFF, ipv4.PROTO_UDP, l4len);
    dv.setUint16(l4 + 6, csum.udpCsumFinal(sum));
    return l2;
  }

  /** Closes sockets and forgets flags idle for the timeout (run every second). */
  timer(now: number): void {
    const limit = udpTimeoutMs();
    for (let i = 0; i < this.#nactive; i++) {
      const key = this.#active[i]!;
      if (now - this.ts[key]! < limit) continue;
      const fl = this.flags[key]!;
      if (fl & PORT_LISTEN) {
        this.flags[key] = PORT_LISTEN;
      } else {
        const fd = this.sock[key]!;
        if (fd >= 0) {
          this.loop.del(fd);
          lib().pf_close(fd);
          this.sock[key] = -1;
        }
        this.flags[key] = 0;
      }
      this.#inActive[key] = 0;
      this.#active[i--] = this.#active[--this.#nactive]!;
    }
  }

  /** Number of sockets opened for guest ports and not yet aged out. */
  get tracked(): number {
    let n = 0;
    for (let i = 0; i < this.#nactive; i++) {
      const key = this.#active[i]!;
      if (this.sock[key]! >= 0 && !(this.flags[key]! & PORT_LISTEN)) n++;
    }
    return n;
  }

  /**
   * The listeners of `-u` rules (`fwd/fwd.ts`): one socket per family (IPv4
   * and IPv6-only), bound to the rule's address or any, at `port`, with the
   * target port and the rule's slot in the reference. The socket is also the
   * one the guest's replies from the target port leave from: it takes the
   * place of a tracked socket there.
   */
  listenBackend(): ListenBackend {
    return {
      open: (rule, slot, port, out) => this.#listenOpen(rule, slot, port, out),
      close: (rule, port, fd, v6) => this.#listenClose(rule, port, fd, v6),
    };
  }

  #listenOpen(rule: FwdRule, slot: number, port: number, out: Int32Array): number {
    const conf = this.c.conf;
    const any = (rule.flags & FWD_DUAL_STACK_ANY) !== 0;
    const target = targetPort(rule, port);
    let err = 0;
    for (let f = 0; f < 2; f++) {
      const v6 = f === 1;
      if (v6 ? !conf.v6 : !conf.v4) continue;
      let addr = rule.addr;
      if (any) {
        addr = new Uint32Array(4);
        if (!v6) nat.setV4(addr, 0, 0);
      } else if (nat.isV4(addr, 0) === v6) {
        continue;
      }
      const fd = listenSocket(addr, false, rule.ifname, port, conf.freebind, SOCK_DGRAM);
      const key = (v6 ? 65536 : 0) | target;
      let rc = fd;
      if (fd >= 0) {
        rc = this.loop.add(fd, EpollType.UDP_LISTEN, withSlot(key, slot), EPOLLIN);
        if (rc < 0) lib().pf_close(fd);
      }
      if (rc < 0) {
        err = rc;
        continue;
      }
      const old = this.sock[key]!;
      if (old >= 0 && !(this.flags[key]! & PORT_LISTEN)) {
        this.loop.del(old);
        lib().pf_close(old);
      }
      this.sock[key] = fd;
      this.flags[key] = PORT_LISTEN;
      out[f] = fd;
    }
    if (out[0]! < 0 && out[1]! < 0) {
      if (out[0]! >= 0) this.#listenClose(rule, port, out[0]!, false);
      return err || -EAFNOSUPPORT;
    }
    return 0;
  }

  #listenClose(rule: FwdRule, port: number, fd: number, v6: boolean): void {
    const key = (v6 ? 65536 : 0) | targetPort(rule, port);
    this.loop.del(fd);
    lib().pf_close(fd);
    this.splice?.forget(fd);
    if (this.sock[key] === fd) {
      this.sock[key] = -1;
      this.flags[key] = 0;
    }
  }

  /** Closes every socket (shutdown and tests). */
  close(): void {
    const ffi = lib();
    for (let key = 0; key < this.sock.length; key++) {
      const fd = this.sock[key]!;
      if (fd < 0) continue;
      this.loop.del(fd);
      ffi.pf_close(fd);
      this.sock[key] = -1;
      this.flags[key] = 0;
    }
    for (let i = 0; i < this.#nactive; i++) this.#inActive[this.#active[i]!] = 0;
    this.#nactive = 0;
  }
}

/**
 * Creates the UDP module for run.ts: installs the tap handler and the 1 s aging
 * timer. Listeners come from the forwarding rules (`fwd/fwd.ts`, through
 * {@linkcode Udp.listenBackend}).
 */
export function setupUdp(c: Ctx, loop: Loop, tap: Tap, arena: Arena): Udp {
  const udp = new Udp(c, loop, tap, arena);
  tap.handlers.udp = (cc, v6, l3, pool, start, now) => udp.tapHandler(cc, v6, l3, pool, start, now);
  loop.every(1000, (now) => udp.timer(now));
  return udp;
}
