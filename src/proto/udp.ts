// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp.ts` - UDP flows: the guest, host sockets and (pasta) the namespace's loopback
 *
 * Theory of operation, as upstream's `udp.c` and `udp_flow.c`: UDP has no
 * connections, but most protocols use it like one: a client sends from a port
 * of its choosing to a server, which answers with addresses and ports
 * swapped. Each such pair is a flow of the flow table (`flow/flow.ts`, type
 * {@linkcode FLOW_UDP}), with two sides: the initiating one (where the first
 * datagram came from) and the target. A side on the tap ({@linkcode PIF_TAP}) is
 * found by hash; a side on a socket ({@linkcode PIF_HOST}, or
 * {@linkcode PIF_SPLICE} for a socket in pasta's namespace) has a socket of
 * its own, bound to the side's address and port (`SO_REUSEADDR`, so that
 * several flows share a port) and connected to the endpoint, so that the
 * kernel hands us only that flow's datagrams on it and its epoll reference is
 * the flow side (`flow * 2 + side`). Columns beside the table, sized to its
 * capacity: the socket per side and the last activity per flow.
 *
 * - From the guest ({@linkcode Udp.tapHandler}): a sequence of datagrams of
 *   one flow arrives from the tap and is looked up by its tap side. A miss
 *   creates the flow: both ends unicast (the destination specified), as
 *   upstream; the target side comes from `fwd/nat.ts` (`natFromTap`:
 *   `--dns-forward` to `--dns-host` on ports 53 and 853, `--map-host-loopback`
 *   to the host's loopback, `--map-guest-addr`); the host socket keeps the
 *   guest's source port if it can (an ephemeral port if the host holds that
 *   one) and learns its own address with `getsockname()`. All datagrams of the
 *   sequence leave with one `sendmmsg()` on the flow's socket, iovecs pointing
 *   at the payloads in the arena.
 * - From a listener ({@linkcode Udp.listenHandler}): the sockets of `-u` rules
 *   (`fwd/fwd.ts`, opened through {@linkcode Udp.listenBackend}) and of `-U`
 *   rules in the namespace (`udp_splice.ts`) receive datagrams from any
 *   peer, in batches; each one is looked up by the listener's side (peer, the
 *   listener's address and port), and a miss creates a flow through
 *   `natFromHost` (the rule's target port and address; a loopback peer in
 *   pasta is spliced to the namespace) or `natFromSplice` (`-U`: the host's
 *   loopback). The initiating side gets a socket of its own, bound where the
 *   listener is and connected to the peer, which the kernel prefers to the
 *   listener for that peer's datagrams: later datagrams and replies use it,
 *   and the flow outlives the listener.
 * - From a flow's socket ({@linkcode Udp.sockHandler}): `recvmmsg()` receives up
 *   to {@linkcode UDP_MAX_FRAMES} datagrams. Towards the tap they land
 *   straight in frame slots whose Ethernet, IP and UDP headers are templated
 *   at start-up (the IPv4 header checksum from a precomputed partial sum); the
 *   addresses and ports are the tap side's, swapped. As upstream, the IPv4 UDP
 *   checksum is 0 (none); the IPv6 one is always computed. Towards the other
 *   socket of a spliced flow they leave with one `sendmmsg()`. A datagram
 *   queued from another peer before the socket was connected is dropped.
 * - Errors (`IP_RECVERR`, as upstream): host sockets queue the ICMP errors
 *   the network sends about our datagrams; on EPOLLERR the queue is emptied
 *   and an error about a datagram from the guest goes to the guest as an
 *   ICMP or ICMPv6 error, from the sender as the guest sees it, quoting the
 *   datagram as the guest sent it (so a closed port on the host is "port
 *   unreachable" in the guest); the rest is only read, never received as
 *   data.
 *
 * Aging, as upstream 2026: {@linkcode Udp.timer} (every second) walks the
 * table and closes idle flows, and their sockets. Each side counts the
 * batches it sent; a flow with replies and more than one batch on either side
 * is a stream. The idle timeouts are the kernel's connection tracking ones
 * (`nf_conntrack_udp_timeout`, `nf_conntrack_udp_timeout_stream`), else
 * {@linkcode UDP_TIMEOUT_DEFAULT} and {@linkcode UDP_TIMEOUT_STREAM_DEFAULT}
 * seconds. Tests set one timeout for both with {@linkcode setUdpTimeout}, or
 * the environment variable `PASST_UDP_TIMEOUT_MS` read when a
 * {@linkcode Udp} is created. When the
 * table is full, new flows are refused (the datagram is dropped, with a
 * rate-limited debug line); existing flows go on.
 *
 * Nothing on the packet path allocates or throws.
 *
 * @module
 */

import type { Ctx } from "../context.ts";
import { lib } from "../../ffi/lib.ts";
import { EADDRINUSE, EAFNOSUPPORT, EINVAL, EMFILE, ENOMSG } from "../../ffi/errno.ts";
import type { ListenBackend } from "../fwd/fwd.ts";
import { listenSlot, withSlot } from "../fwd/fwd.ts";
import { FWD_DUAL_STACK_ANY, type FwdRule } from "../fwd/fwd_rule.ts";
import { listenSocket } from "../fwd/listen.ts";
import { FLOW_UDP, type FlowTable } from "../flow/flow.ts";
import { LimitedMessage } from "../log.ts";
import { readSysFileOr } from "../sysfile.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType, SOCKET_MAX } from "../loop/loop.ts";
import type { Arena } from "../tap/arena.ts";
import type { Pool } from "../tap/pool.ts";
import type { Tap } from "../tap/tap.ts";
import * as csum from "../wire/checksum.ts";
import * as icmp from "../wire/icmp.ts";
import * as eth from "../wire/ethernet.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as sa from "../wire/sockaddr.ts";
import * as nat from "../fwd/nat.ts";
import * as inany from "../wire/inany.ts";
import {
  EPOLLERR,
  EPOLLIN,
  IP_FREEBIND,
  IP_RECVERR,
  IPPROTO_IPV6,
  IPV6_FREEBIND,
  IPV6_RECVERR,
  IPV6_V6ONLY,
  MMSG_GSO_REFUSED,
  MMSG_WORDS,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_TRUNC,
  RECVERR_WORDS,
  SO_BINDTODEVICE,
  SO_ERROR,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
} from "../../ffi/sys.ts";

/** Seconds after which an idle flow is closed, unless the kernel says (upstream UDP_TIMEOUT_DEFAULT). */
export const UDP_TIMEOUT_DEFAULT = 30;
/** The same for a stream of datagrams both ways (upstream UDP_TIMEOUT_STREAM_DEFAULT). */
export const UDP_TIMEOUT_STREAM_DEFAULT = 120;
/** The kernel's idle timeouts of UDP connection tracking, in seconds. */
const TIMEOUT_SYSCTL = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout";
const TIMEOUT_STREAM_SYSCTL = "/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream";
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
/** Bit of a listener's epoll index: a `-U` listener in the namespace ({@linkcode nat.PIF_SPLICE}). */
export const UDP_LISTEN_SPLICE = 1 << 17;
/** Bit of a listener's epoll index: IPv6. */
export const UDP_LISTEN_V6 = 1 << 16;

/** Bytes of the original datagram quoted in an ICMP error to the guest (upstream). */
const ICMP4_MAX_DLEN = 8;
/** The same for ICMPv6: what fits the IPv6 minimum MTU. */
const ICMP6_MAX_DLEN = 1280 - 40 - 8;
/** Errors read from an error queue per event at most. */
const ERRQUEUE_MAX = 64;
/** `ee_origin` of errors from ICMP and ICMPv6 messages. */
const SO_EE_ORIGIN_ICMP = 2;
const SO_EE_ORIGIN_ICMP6 = 3;
/** ICMP "fragmentation needed" (destination unreachable), ICMPv6 "packet too big". */
const ICMP_DEST_UNREACH = 3;
const ICMP_FRAG_NEEDED = 4;
const ICMP6_PACKET_TOO_BIG = 2;

/** Offsets inside a slot: the UDP header is 8-aligned, the payload follows. */
const SLOT_L4 = 72;
const SLOT_PAYLOAD = SLOT_L4 + 8;
/** Size in bytes of an entry of a native mmsg table ({@linkcode MMSG_WORDS} words). */
const MMSG_BYTES = MMSG_WORDS * 4;
/** Room for a socket address in the receive name area. */
const NAME_ROOM = 32;
const SW = nat.SIDE_WORDS;

let timeoutOverride = -1;

/**
 * Sets one idle timeout for every flow, in milliseconds (tests); a negative
 * value restores the kernel's or the default ones.
 */
export function setUdpTimeout(ms: number): void {
  timeoutOverride = ms;
}

/** Seconds in the sysctl file at `path`, or `fallback`. */
function sysctlSeconds(path: string, fallback: number): number {
  const t = readSysFileOr(path).trim();
  return /^\d{1,9}$/.test(t) ? Number(t) : fallback;
}

/** Namespace descriptors, for sockets on the {@linkcode nat.PIF_SPLICE} side (pasta). */
export interface UdpNs {
  userns: number;
  netns: number;
}

/** What the UDP module needs from the tap: queue frames, and flush to reuse its slots. */
export interface UdpTap {
  /** The arena bytes. */
  readonly u8: Uint8Array;
  /** A DataView over the arena. */
  readonly dv: DataView;
  /** Queues the frame at `off` of `len` bytes (four writable bytes precede it). */
  queue(off: number, len: number): void;
  /** A free output slot for one frame (its Ethernet offset), or -1. */
  slot(): number;
  /** Sends everything queued. */
  flush(): void;
  /** Frames queued and not yet sent. */
  readonly queued: number;
}

const SOCK = new LimitedMessage(
  "UDP: cannot open, bind or connect the socket of a new flow, dropping datagrams",
);
const SEND = new LimitedMessage(
  "UDP: sendmmsg() failed or sent part of a sequence, datagrams dropped",
);
const MALFORMED = new LimitedMessage("UDP: dropping malformed datagram from guest");
const TRUNCATED = new LimitedMessage("UDP: dropping truncated datagram from host");
const FULL = new LimitedMessage("UDP: flow table full, new flow refused, datagram dropped");
const STRAY = new LimitedMessage("UDP: dropping datagram without a flow");
const ICMP_ERROR = new LimitedMessage("UDP: ICMP error from the host's side relayed to the guest");

/** UDP flows: the guest's datagrams, the sockets' handlers and the listeners of `-u`. */
export class Udp {
  /** Socket per flow side (sidx), -1 if none (set when a flow is created). */
  readonly sock: Int32Array;
  /** Last activity per flow, milliseconds. */
  readonly ts: Float64Array;
  /** Batches per flow side (sidx), saturating at 255: what makes a stream. */
  readonly activity: Uint8Array;
  /** Per flow: the path refused UDP GSO sends (`pf_sendmmsg_gso()`), send datagrams one by one. */
  readonly #noGso: Uint8Array;
  /** Idle timeouts, milliseconds: a flow, and a stream. */
  readonly timeoutMs: number;
  readonly streamTimeoutMs: number;
  /** The rule of a `-u` listener from its slot (`fwd/fwd.ts`); null: no target address. */
  ruleAt: ((slot: number) => FwdRule | null) | null = null;
  /** The namespace, for spliced flows (pasta); null: nothing is spliced. */
  ns: UdpNs | null = null;
  /** Scratch rule of the translation: listener port, target port, target address. */
  readonly #rule = { first: 0, to: 0, taddr: new Uint32Array(4) };
  /** Listeners opened through {@linkcode Udp.listenBackend} or `udp_splice.ts`, for close(). */
  readonly listeners = new Set<number>();

  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #u32: Uint32Array;
  readonly #nslots: number;
  /**
   * Per family: first slot, receive mmsg table, receive names; next free slot;
   * slots whose constant headers are written (a prefix: {@linkcode Udp.#fill}).
   */
  readonly #slotsOff = new Uint32Array(2);
  readonly #tabOff = new Uint32Array(2);
  readonly #namesOff = new Uint32Array(2);
  readonly #slotNext = new Uint32Array(2);
  readonly #filled = new Uint32Array(2);
  /** Precomputed partial sum of the constant IPv4 header words. */
  readonly #ip4Base: number;
  /** Send table for the guest's datagrams and spliced ones. */
  readonly #sendTabOff: number;
  /** Scratch socket address (bind, connect, getsockname), outside the arena. */
  readonly #saU8 = new Uint8Array(sa.SOCKADDR_MAX);
  readonly #saDv = new DataView(this.#saU8.buffer);
  /** The listener's own address, read once per batch. */
  readonly #lsaU8 = new Uint8Array(sa.SOCKADDR_MAX);
  readonly #lsaDv = new DataView(this.#lsaU8.buffer);
  #lsaLen = 0;
  readonly #w = new Uint32Array(4);
  readonly #any6 = new Uint32Array(4);
  /** Scratch flowside of a lookup. */
  readonly #key = new Uint32Array(SW);
  /** Error queue: the start of the datagram in error, and what the kernel says of it. */
  readonly #errBuf = new Uint8Array(ICMP6_MAX_DLEN);
  readonly #errInfo = new Uint8Array(4 * RECVERR_WORDS);
  readonly #errW = new Uint32Array(this.#errInfo.buffer);
  readonly #errDv = new DataView(this.#errInfo.buffer);
  readonly #off = new Uint32Array(4);
  readonly #otap = new Uint32Array(4);
  readonly #src6 = new Uint32Array(4);
  readonly #dst6 = new Uint32Array(4);
  /** Outbound interface names, NUL-terminated, or null. */
  readonly #ifOut4: Uint8Array | null;
  readonly #ifOut6: Uint8Array | null;

  /**
   * Reserves slots and tables in `arena` (shared with `tap`), and registers the
   * socket handlers in `loop`; flows live in `flows`; `slots` frame slots per
   * family (at least {@linkcode UDP_MAX_FRAMES}).
   */
  constructor(
    readonly c: Ctx,
    readonly loop: Loop,
    readonly tap: UdpTap,
    arena: Arena,
    readonly flows: FlowTable,
    slots = UDP_SLOTS,
  ) {
    this.sock = new Int32Array(2 * flows.capacity); // set when a flow is created
    this.ts = new Float64Array(flows.capacity);
    this.activity = new Uint8Array(2 * flows.capacity);
    this.#noGso = new Uint8Array(flows.capacity);
    this.timeoutMs = 1000 * sysctlSeconds(TIMEOUT_SYSCTL, UDP_TIMEOUT_DEFAULT);
    this.streamTimeoutMs = 1000 * sysctlSeconds(TIMEOUT_STREAM_SYSCTL, UDP_TIMEOUT_STREAM_DEFAULT);
    this.#u8 = arena.u8;
    this.#dv = arena.dv;
    this.#u32 = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset, arena.u8.length >>> 2);
    this.#nslots = Math.max(slots, UDP_MAX_FRAMES);
    const u32 = this.#u32;
    for (let f = 0; f < 2; f++) {
      const l3len = f === 1 ? ipv6.HEADER_LEN : ipv4.MIN_HEADER_LEN;
      this.#slotsOff[f] = arena.alloc(this.#nslots * UDP_SLOT_SIZE, 64);
      this.#tabOff[f] = arena.alloc(this.#nslots * MMSG_BYTES, 64);
      this.#namesOff[f] = arena.alloc(this.#nslots * NAME_ROOM, 64);
      for (let i = 0; i < this.#nslots; i++) {
        const base = this.#slotsOff[f]! + i * UDP_SLOT_SIZE;
        const e = (this.#tabOff[f]! >>> 2) + i * MMSG_WORDS;
        u32[e] = base + SLOT_PAYLOAD;
        // (the frame, from its Ethernet header, is at most 64 KiB)
        u32[e + 1] = 65535 - (SLOT_PAYLOAD - (SLOT_L4 - l3len - eth.HEADER_LEN));
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
    const enc = new TextEncoder();
    this.#ifOut4 = c.conf.ip4.ifnameOut ? enc.encode(c.conf.ip4.ifnameOut + "\0") : null;
    this.#ifOut6 = c.conf.ip6.ifnameOut ? enc.encode(c.conf.ip6.ifnameOut + "\0") : null;
    try {
      const env = Deno.env.get("PASST_UDP_TIMEOUT_MS");
      if (env !== undefined && /^\d+$/.test(env)) setUdpTimeout(Number(env));
    } catch {
      // No --allow-env: keep the default.
    }
    loop.on(
      EpollType.UDP,
      (ev, fd, index, now) => this.sockHandler(ev, fd, index, now),
      (fd, index) => {
        if (this.sock[index] === fd) this.#close(index >> 1);
      },
    );
    loop.on(EpollType.UDP_LISTEN, (ev, fd, index, now) => this.listenHandler(ev, fd, index, now));
  }

  /** UDP flows open. */
  get tracked(): number {
    const t = this.flows.type;
    let n = 0;
    for (let i = 0; i < this.flows.high; i++) if (t[i] === FLOW_UDP) n++;
    return n;
  }

  // -- sockets of flow sides --------------------------------------------------

  /**
   * Writes the socket address of the address at `w[o]` and `port` into the
   * scratch address (IPv4 for an IPv4-mapped address); returns its length.
   */
  #sa(w: Uint32Array, o: number, port: number, scope: number): number {
    if (inany.isV4(w, o)) return sa.writeIn4(this.#saDv, 0, w[o + 3]!, port);
    const a = this.#w;
    a[0] = w[o]!, a[1] = w[o + 1]!, a[2] = w[o + 2]!, a[3] = w[o + 3]!;
    return sa.writeIn6(this.#saDv, 0, a, port, scope);
  }

  /** Reads the socket address at `dv[off]` into the address and port of side words `w[o]`. */
  #fromSa(dv: DataView, off: number, w: Uint32Array, ao: number, po: number): void {
    if (sa.family(dv, off) === sa.AF_INET) inany.setV4(w, ao, sa.addr4(dv, off));
    else for (let j = 0; j < 4; j++) w[ao + j] = dv.getUint32(off + 8 + j * 4);
    w[po] = sa.port(dv, off);
  }

  /**
   * A socket of `pif` bound to the scratch address (`len` bytes); `lo`: its
   * peer is loopback, `dup`: beside a listener (no `SO_BINDTODEVICE` for
   * either). Returns the fd or -errno.
   */
  #bound(pif: number, v6: boolean, len: number, lo: boolean, dup: boolean): number {
    const ffi = lib();
    const af = v6 ? sa.AF_INET6 : sa.AF_INET;
    const type = SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (pif === nat.PIF_SPLICE) {
      const ns = this.ns;
      if (ns === null) return -EINVAL;
      return ffi.pf_ns_bind_socket(ns.userns, ns.netns, af, type, 0, this.#saU8, len, -1);
    }
    const fd = ffi.pf_socket(af, type, 0);
    if (fd < 0) return fd;
    if (v6) ffi.pf_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    // ICMP errors from the network, for the guest (see #errors).
    ffi.pf_setsockopt_int(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_RECVERR : IP_RECVERR, 1);
    // Beside a listener on an address that may not be local (--freebind).
    if (dup && this.c.conf.freebind) {
      ffi.pf_setsockopt_int(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND, 1);
    }
    const ifname = lo || dup ? null : v6 ? this.#ifOut6 : this.#ifOut4;
    let rc = 0;
    if (ifname !== null) {
      rc = ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, ifname.length);
    }
    if (rc >= 0) rc = ffi.pf_bind(fd, this.#saU8, len);
    if (rc < 0) {
      ffi.pf_close(fd);
      return rc;
    }
    return fd;
  }

  /**
   * Opens the socket of side `sidx`: bound to the side's address and port (an
   * ephemeral port if that one is taken), or with `dup` where the listener is
   * (`#lsa`); connected to the endpoint; the side learns its address from the
   * kernel unless `dup`. Registered with the sidx as reference. Returns the fd
   * or -errno.
   */
  #sideSock(sidx: number, dup: boolean): number {
    const ffi = lib();
    const ft = this.flows;
    const s = ft.side;
    const o = sidx * SW;
    const pif = ft.pif[sidx]!;
    const v6 = !inany.isV4(s, o + nat.EADDR);
    const lo = inany.isLoopback(s, o + nat.EADDR);
    let fd: number;
    if (dup) {
      // Where the listener is.
      for (let j = 0; j < this.#lsaLen; j++) this.#saU8[j] = this.#lsaU8[j]!;
      fd = this.#bound(pif, v6, this.#lsaLen, lo, true);
    } else {
      fd = this.#bound(pif, v6, this.#sa(s, o + nat.OADDR, s[o + nat.OPORT]!, 0), lo, false);
      if (fd === -EADDRINUSE) {
        fd = this.#bound(pif, v6, this.#sa(s, o + nat.OADDR, 0, 0), lo, false);
      }
    }
    if (fd < 0) return fd;
    if (fd > SOCKET_MAX) {
      ffi.pf_close(fd);
      return -EMFILE;
    }
    const scope = pif === nat.PIF_HOST && inany.isLinkLocal6(s, o + nat.EADDR)
      ? this.c.conf.ifindex6
      : 0;
    let rc = ffi.pf_connect(fd, this.#saU8, this.#sa(s, o + nat.EADDR, s[o + nat.EPORT]!, scope));
    if (rc >= 0 && !dup) {
      rc = ffi.pf_getsockname(fd, this.#saU8);
      if (rc >= 0) this.#fromSa(this.#saDv, 0, s, o + nat.OADDR, o + nat.OPORT);
    }
    if (rc >= 0) rc = this.loop.add(fd, EpollType.UDP, sidx, EPOLLIN);
    if (rc < 0) {
      ffi.pf_close(fd);
      return rc;
    }
    this.sock[sidx] = fd;
    return fd;
  }

  /** Closes flow `i` and its sockets. */
  #close(i: number): void {
    const ffi = lib();
    for (let sidx = 2 * i; sidx < 2 * i + 2; sidx++) {
      const fd = this.sock[sidx]!;
      if (fd < 0) continue;
      this.loop.del(fd);
      ffi.pf_close(fd);
      this.sock[sidx] = -1;
    }
    this.flows.free(i);
  }

  /** A new flow of the table, sockets unset; -1 (logged) when the table is full. */
  #alloc(now: number): number {
    const i = this.flows.alloc(FLOW_UDP, nat.IPPROTO_UDP);
    if (i < 0) {
      FULL.debug(now);
      return -1;
    }
    this.sock[2 * i] = -1;
    this.sock[2 * i + 1] = -1;
    this.ts[i] = now;
    this.activity[2 * i] = 1;
    this.activity[2 * i + 1] = 0;
    this.#noGso[i] = 0;
    return i;
  }

  /** Records a batch from side `sidx` at `now`. */
  #active(sidx: number, now: number): void {
    this.ts[sidx >> 1] = now;
    if (this.activity[sidx]! < 255) this.activity[sidx]!++;
  }

  /**
   * Puts both sides of flow `i` in the hash once its target side is set and
   * its sockets are open; if the tap side has no destination yet, the guest's
   * configured address of the family.
   */
  #activate(i: number): void {
    const ft = this.flows;
    for (let sidx = 2 * i; sidx < 2 * i + 2; sidx++) {
      const o = sidx * SW + nat.EADDR;
      if (ft.pif[sidx] === nat.PIF_TAP && inany.isUnspecified(ft.side, o)) {
        if (inany.isV4(ft.side, o)) inany.setV4(ft.side, o, this.c.conf.ip4.addr);
        else inany.setV6(ft.side, o, this.c.conf.ip6.addr);
      }
      ft.hashInsert(sidx);
    }
  }

  /** Creates the flow whose tap side is `#key`; returns that side's sidx or -1. */
  #fromTap(now: number): number {
    const ft = this.flows;
    const i = this.#alloc(now);
    if (i < 0) return -1;
    const ini = 2 * i * SW;
    ft.side.set(this.#key, ini);
    ft.pif[2 * i] = nat.PIF_TAP;
    ft.pif[2 * i + 1] = nat.natFromTap(this.c, nat.IPPROTO_UDP, ft.side, ini, ft.side, ini + SW);
    if (ft.pif[2 * i + 1] !== nat.PIF_HOST || this.#sideSock(2 * i + 1, false) < 0) {
      SOCK.debug(now);
      this.#close(i);
      return -1;
    }
    this.#activate(i);
    return 2 * i;
  }

  /**
   * Creates the flow whose initiating side, on `pif`, is `#key`, from a
   * listener (its address in `#lsa`) for `target`, rule `slot`; returns the
   * initiating side's sidx, or -1 (refused, or no socket).
   */
  #fromListener(pif: number, target: number, slot: number, now: number): number {
    const ft = this.flows;
    const i = this.#alloc(now);
    if (i < 0) return -1;
    const ini = 2 * i * SW;
    ft.side.set(this.#key, ini);
    ft.pif[2 * i] = pif;
    const rule = this.#rule;
    rule.first = this.#key[nat.OPORT]!;
    rule.to = target;
    let tpif: number;
    if (pif === nat.PIF_HOST) {
      const fr = this.ruleAt?.(slot) ?? null;
      if (fr !== null) rule.taddr.set(fr.taddr);
      else rule.taddr.fill(0);
      tpif = nat.natFromHost(this.c, rule, nat.IPPROTO_UDP, ft.side, ini, ft.side, ini + SW);
    } else {
      tpif = nat.natFromSplice(rule, nat.IPPROTO_UDP, ft.side, ini, ft.side, ini + SW);
    }
    ft.pif[2 * i + 1] = tpif;
    if (tpif === nat.PIF_NONE || (tpif === nat.PIF_SPLICE && this.ns === null)) {
      this.flows.free(i);
      return -1;
    }
    if (
      this.#sideSock(2 * i, true) < 0 ||
      (tpif !== nat.PIF_TAP && this.#sideSock(2 * i + 1, false) < 0)
    ) {
      SOCK.debug(now);
      this.#close(i);
      return -1;
    }
    this.#activate(i);
    return 2 * i;
  }

  // -- from the guest -----------------------------------------------------------

  /**
   * Handles datagrams `start..pool.count-1` of a guest sequence (one flow: same
   * addresses and ports; the IP header at `l3`); returns how many it consumed.
   */
  tapHandler(_c: Ctx, v6: boolean, l3: number, pool: Pool, start: number, now: number): number {
    const dv = this.#dv;
    const u32 = this.#u32;
    const count = pool.count;
    const first = pool.get(start, 0, 8);
    if (first < 0) {
      MALFORMED.debug(now);
      return 1;
    }
    const k = this.#key;
    nat.keyFromGuest(k, dv, l3, v6);
    k[nat.EPORT] = dv.getUint16(first);
    k[nat.OPORT] = dv.getUint16(first + 2);
    const ft = this.flows;
    let sidx = ft.lookup(nat.IPPROTO_UDP, nat.PIF_TAP, k, 0);
    if (sidx < 0) {
      // The source must be unicast and the destination specified (upstream); ports non-zero.
      if (
        k[nat.EPORT] === 0 || k[nat.OPORT] === 0 || !inany.isUnicast(k, nat.EADDR) ||
        inany.isUnspecified(k, nat.OADDR)
      ) {
        MALFORMED.debug(now);
        return count - start;
      }
      sidx = this.#fromTap(now);
      if (sidx < 0) return count - start;
    } else {
      this.#active(sidx, now);
    }
    const fd = this.sock[sidx ^ 1]!;
    if (fd < 0) return count - start;

    const tab = this.#sendTabOff;
    let n = 0;
    let i = start;
    for (; i < count && n < UDP_SEND_BATCH; i++) {
      const off = pool.get(i, 0, 8);
      const avail = pool.lenOf(i);
      if (off < 0) {
        MALFORMED.debug(now);
        continue;
      }
      const ulen = dv.getUint16(off + 4);
      if (ulen < 8 || ulen > avail) {
        MALFORMED.debug(now);
        continue;
      }
      const e = (tab >>> 2) + n * MMSG_WORDS;
      u32[e] = off + 8;
      u32[e + 1] = ulen - 8;
      u32[e + 2] = 0;
      u32[e + 3] = 0;
      n++;
    }
    if (n > 0) {
      const flow = sidx >> 1;
      let rc: number;
      if (this.#noGso[flow] === 0) {
        rc = lib().pf_sendmmsg_gso(fd, this.#u8, tab, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        const refused = (tab >>> 2) + MMSG_GSO_REFUSED;
        if (u32[refused] !== 0) {
          this.#noGso[flow] = 1;
          u32[refused] = 0;
        }
      } else {
        rc = lib().pf_sendmmsg(fd, this.#u8, tab, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      if (rc < n) SEND.debug(now);
    }
    return i - start;
  }

  // -- from sockets -------------------------------------------------------------

  /**
   * Makes room for a batch in the slots of family `f` (flushing the tap if
   * needed), receives on `fd`; returns the count, the first slot in
   * `#slotNext[f]` before the call advanced it.
   */
  #recv(fd: number, f: number): number {
    const tap = this.tap;
    if (tap.queued === 0) {
      this.#slotNext[0] = 0;
      this.#slotNext[1] = 0;
    } else if (this.#slotNext[f]! + UDP_MAX_FRAMES > this.#nslots) {
      tap.flush();
      this.#slotNext[0] = 0;
      this.#slotNext[1] = 0;
    }
    const end = this.#slotNext[f]! + UDP_MAX_FRAMES;
    if (end > this.#filled[f]!) this.#fill(f, end);
    const tw = (this.#tabOff[f]! + this.#slotNext[f]! * MMSG_BYTES) >>> 2;
    const u32 = this.#u32;
    for (let k = 0; k < UDP_MAX_FRAMES; k++) u32[tw + k * MMSG_WORDS + 3] = sa.SIN6_LEN;
    const n = lib().pf_recvmmsg(fd, this.#u8, tw << 2, UDP_MAX_FRAMES, MSG_DONTWAIT);
    return n > 0 ? n : 0;
  }

  /**
   * Writes the constant headers (our MAC, the EtherType, the IP header's
   * fixed fields) of family `f`'s slots up to `end`: on their first use, not
   * at start-up, so that a slot's page is touched only once it receives
   * (64 pages per family otherwise, in every start and at idle).
   */
  #fill(f: number, end: number): void {
    const u8 = this.#u8;
    const dv = this.#dv;
    const v6 = f === 1;
    const mac = this.c.conf.mac;
    for (let i = this.#filled[f]!; i < end; i++) {
      const l4 = this.#slotsOff[f]! + i * UDP_SLOT_SIZE + SLOT_L4;
      const l3 = l4 - (v6 ? ipv6.HEADER_LEN : ipv4.MIN_HEADER_LEN);
      const l2 = l3 - eth.HEADER_LEN;
      eth.writeHeader(u8, dv, l2, this.c.macGuest, mac, v6 ? eth.ETH_P_IPV6 : eth.ETH_P_IP);
      if (v6) ipv6.push(u8, dv, l3, this.#any6, this.#any6, ipv4.PROTO_UDP, 0);
      else ipv4.push(u8, dv, l3, 0, 0, ipv4.PROTO_UDP, 0);
    }
    this.#filled[f] = end;
  }

  /** Whether the datagram's source (name at `nameOff`) is the endpoint of side `sidx`. */
  #fromEndpoint(nameOff: number, sidx: number): boolean {
    const dv = this.#dv;
    const s = this.flows.side;
    const o = sidx * SW;
    if (sa.port(dv, nameOff) !== s[o + nat.EPORT]) return false;
    if (sa.family(dv, nameOff) === sa.AF_INET) {
      return inany.equals4(s, o + nat.EADDR, sa.addr4(dv, nameOff));
    }
    for (let j = 0; j < 4; j++) {
      if (dv.getUint32(nameOff + 8 + j * 4) !== s[o + nat.EADDR + j]) return false;
    }
    return true;
  }

  /**
   * Receives datagrams on the socket of flow side `sidx` and forwards them to
   * the other side: frames to the guest, or the other socket of a spliced flow.
   */
  sockHandler(events: number, fd: number, sidx: number, now: number): void {
    const ft = this.flows;
    const i = sidx >> 1;
    if (ft.type[i] !== FLOW_UDP || this.sock[sidx] !== fd) return;
    if (events & EPOLLERR) {
      this.#errors(fd, sidx, now);
      if (!(events & EPOLLIN)) return;
    }
    const to = sidx ^ 1;
    const v6 = !inany.isV4(ft.side, sidx * SW + nat.EADDR);
    const f = v6 ? 1 : 0;
    const n = this.#recv(fd, f);
    if (n === 0) return;
    const slot0 = this.#slotNext[f]!;
    this.#active(sidx, now);
    const tw = (this.#tabOff[f]! + slot0 * MMSG_BYTES) >>> 2;
    const u32 = this.#u32;
    if (ft.pif[to] === nat.PIF_TAP) {
      const tv6 = !inany.isV4(ft.side, to * SW + nat.EADDR);
      this.#slotNext[f] = slot0 + n;
      for (let k = 0; k < n; k++) {
        const e = tw + k * MMSG_WORDS;
        if (u32[e + 5]! & MSG_TRUNC) {
          TRUNCATED.debug(now);
          continue;
        }
        if (tv6 !== v6 || !this.#fromEndpoint(u32[e + 2]!, sidx)) {
          STRAY.debug(now);
          continue;
        }
        this.#toTap(f, slot0 + k, to, u32[e + 4]!);
      }
      return;
    }
    // Spliced: socket to socket, payloads where they landed (the slots stay free).
    if (this.sock[to]! < 0) return;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const e = tw + k * MMSG_WORDS;
      if ((u32[e + 5]! & MSG_TRUNC) || !this.#fromEndpoint(u32[e + 2]!, sidx)) {
        STRAY.debug(now);
        continue;
      }
      this.#queueSend(m++, e);
    }
    if (m > 0) this.#sendRun(to, m, now);
  }

  /** Entry `m` of the send table: the payload and length of receive-table entry `e`. */
  #queueSend(m: number, e: number): void {
    const u32 = this.#u32;
    const o = (this.#sendTabOff >>> 2) + m * MMSG_WORDS;
    u32[o] = u32[e]!;
    u32[o + 1] = u32[e + 4]!;
    u32[o + 2] = 0;
    u32[o + 3] = 0;
  }

  /**
   * Empties the error queue of the socket of side `sidx` (`IP_RECVERR`) and
   * clears its error: an ICMP error about a datagram from the guest goes to
   * the guest, from the address that sent it as the guest sees it (the
   * flow's address if it is the peer), quoting the datagram as the guest sent
   * it, as upstream; other errors are only read.
   */
  #errors(fd: number, sidx: number, now: number): void {
    const ffi = lib();
    const ft = this.flows;
    const toTap = ft.pif[sidx] === nat.PIF_HOST && ft.pif[sidx ^ 1] === nat.PIF_TAP;
    for (let k = 0; k < ERRQUEUE_MAX; k++) {
      const n = ffi.pf_recv_err(fd, this.#errBuf, this.#errBuf.length, this.#errInfo);
      if (n === -ENOMSG) continue;
      if (n < 0) break;
      if (toTap) this.#icmpToTap(sidx, n, now);
    }
    ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
  }

  /** Sends the guest the ICMP error in `#errInfo` about `dlen` bytes it sent through `sidx`. */
  #icmpToTap(sidx: number, dlen: number, now: number): void {
    const s = this.flows.side;
    const w = this.#errW;
    const edv = this.#errDv;
    const t = (sidx ^ 1) * SW;
    const v4 = inany.isV4(s, t + nat.EADDR);
    if (w[0] !== (v4 ? SO_EE_ORIGIN_ICMP : SO_EE_ORIGIN_ICMP6)) return;
    // The node that sent the error, as the guest sees it.
    const off = this.#off;
    if (w[4] === sa.AF_INET) inany.setV4(off, 0, edv.getUint32(20));
    else if (w[4] === sa.AF_INET6) {
      for (let j = 0; j < 4; j++) {
        off[j] = edv.getUint32(20 + 4 * j);
      }
    } else return;
    if (inany.isV4(off, 0) !== v4) return;
    const otap = this.#otap;
    let peer = true;
    for (let j = 0; j < 4; j++) if (off[j] !== s[sidx * SW + nat.EADDR + j]) peer = false;
    if (peer) inany.copyAddr(otap, 0, s, t + nat.OADDR);
    else if (!nat.natInbound(this.c, off, 0, otap, 0)) return;
    const tap = this.tap;
    const l2 = tap.slot();
    if (l2 < 0) return;
    const u8 = this.#u8;
    const dv = this.#dv;
    const c = this.c;
    const l3 = l2 + eth.HEADER_LEN;
    if (v4) {
      const n = Math.min(dlen, ICMP4_MAX_DLEN);
      const l4 = l3 + ipv4.MIN_HEADER_LEN;
      const in3 = l4 + icmp.HEADER_LEN;
      const in4 = in3 + ipv4.MIN_HEADER_LEN;
      const len = icmp.HEADER_LEN + ipv4.MIN_HEADER_LEN + 8 + n;
      const guest = s[t + nat.EADDR + 3]!;
      eth.writeHeader(u8, dv, l2, c.macGuest, c.conf.mac, eth.ETH_P_IP);
      ipv4.push(u8, dv, l3, otap[3]!, guest, nat.IPPROTO_ICMP, len);
      dv.setUint8(l4, w[1]!);
      dv.setUint8(l4 + 1, w[2]!);
      const mtu = w[1] === ICMP_DEST_UNREACH && w[2] === ICMP_FRAG_NEEDED ? w[3]! & 0xffff : 0;
      dv.setUint32(l4 + 4, mtu);
      ipv4.push(u8, dv, in3, guest, s[t + nat.OADDR + 3]!, ipv4.PROTO_UDP, 8 + dlen);
      dv.setUint16(in4, s[t + nat.EPORT]!);
      dv.setUint16(in4 + 2, s[t + nat.OPORT]!);
      dv.setUint16(in4 + 4, 8 + dlen);
      dv.setUint16(in4 + 6, 0);
      for (let j = 0; j < n; j++) u8[in4 + 8 + j] = this.#errBuf[j]!;
      icmp.setChecksum(dv, l4, 0);
      icmp.setChecksum(dv, l4, csum.csumFold(csum.sum16(u8, l4, len, 0)));
      tap.queue(l2, eth.HEADER_LEN + ipv4.MIN_HEADER_LEN + len);
    } else {
      const n = Math.min(dlen, ICMP6_MAX_DLEN);
      const l4 = l3 + ipv6.HEADER_LEN;
      const in3 = l4 + icmp.HEADER_LEN;
      const in4 = in3 + ipv6.HEADER_LEN;
      const len = icmp.HEADER_LEN + ipv6.HEADER_LEN + 8 + n;
      const src = this.#src6, dst = this.#dst6;
      for (let j = 0; j < 4; j++) {
        src[j] = s[t + nat.EADDR + j]!;
        dst[j] = s[t + nat.OADDR + j]!;
      }
      eth.writeHeader(u8, dv, l2, c.macGuest, c.conf.mac, eth.ETH_P_IPV6);
      ipv6.push(u8, dv, l3, otap, src, nat.IPPROTO_ICMPV6, len);
      dv.setUint8(l4, w[1]!);
      dv.setUint8(l4 + 1, w[2]!);
      dv.setUint32(l4 + 4, w[1] === ICMP6_PACKET_TOO_BIG ? w[3]! : 0);
      ipv6.push(u8, dv, in3, src, dst, ipv4.PROTO_UDP, 8 + dlen);
      dv.setUint16(in4, s[t + nat.EPORT]!);
      dv.setUint16(in4 + 2, s[t + nat.OPORT]!);
      dv.setUint16(in4 + 4, 8 + dlen);
      dv.setUint16(in4 + 6, 0);
      for (let j = 0; j < n; j++) u8[in4 + 8 + j] = this.#errBuf[j]!;
      const sum = csum.sum32(u8, this.#u32, in4, 8 + n) +
        csum.pseudo6(u8, in3 + ipv6.SRC_OFF, in3 + ipv6.DST_OFF, ipv4.PROTO_UDP, 8 + n);
      dv.setUint16(in4 + 6, csum.udpCsumFinal(sum));
      icmp.setChecksum(dv, l4, 0);
      const icsum = csum.l4Checksum6(
        u8,
        l4,
        len,
        l3 + ipv6.SRC_OFF,
        l3 + ipv6.DST_OFF,
        nat.IPPROTO_ICMPV6,
      );
      icmp.setChecksum(dv, l4, icsum);
      tap.queue(l2, eth.HEADER_LEN + ipv6.HEADER_LEN + len);
    }
    ICMP_ERROR.debug(now);
  }

  /**
   * Receives datagrams on a listener (epoll index: {@linkcode UDP_LISTEN_SPLICE},
   * {@linkcode UDP_LISTEN_V6}, target port, rule slot), finds or creates the
   * flow of each, and forwards it.
   */
  listenHandler(events: number, fd: number, index: number, now: number): void {
    const ffi = lib();
    if (events & EPOLLERR) {
      ffi.pf_getsockopt_int(fd, SOL_SOCKET, SO_ERROR);
      if (!(events & EPOLLIN)) return;
    }
    const pif = index & UDP_LISTEN_SPLICE ? nat.PIF_SPLICE : nat.PIF_HOST;
    const v6 = (index & UDP_LISTEN_V6) !== 0;
    const f = v6 ? 1 : 0;
    const target = index & 0xffff;
    const n = this.#recv(fd, f);
    if (n === 0) return;
    const slot0 = this.#slotNext[f]!;
    this.#slotNext[f] = slot0 + n;
    // Our side of these datagrams: where the listener is bound.
    const lsa = ffi.pf_getsockname(fd, this.#lsaU8);
    if (lsa < 0) return;
    this.#lsaLen = lsa;
    const ft = this.flows;
    const dv = this.#dv;
    const u32 = this.#u32;
    const k = this.#key;
    const tw = (this.#tabOff[f]! + slot0 * MMSG_BYTES) >>> 2;
    let run = -1;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const e = tw + j * MMSG_WORDS;
      if (u32[e + 5]! & MSG_TRUNC) {
        TRUNCATED.debug(now);
        continue;
      }
      const nameOff = u32[e + 2]!;
      this.#fromSa(dv, nameOff, k, nat.EADDR, nat.EPORT);
      this.#fromSa(this.#lsaDv, 0, k, nat.OADDR, nat.OPORT);
      // Bound to any: what a loopback peer reached is loopback, the rest is unknown.
      if (inany.isUnspecified(k, nat.OADDR) && inany.isLoopback(k, nat.EADDR)) {
        inany.copyAddr(k, nat.OADDR, k, nat.EADDR);
      }
      let sidx = ft.lookup(nat.IPPROTO_UDP, pif, k, 0);
      if (sidx < 0) {
        if (k[nat.EPORT] === 0 || !inany.isUnicast(k, nat.EADDR)) {
          STRAY.debug(now);
          continue;
        }
        sidx = this.#fromListener(pif, target, listenSlot(index), now);
        if (sidx < 0) continue;
      } else {
        this.#active(sidx, now);
      }
      const to = sidx ^ 1;
      if (ft.pif[to] === nat.PIF_TAP) {
        if (inany.isV4(ft.side, to * SW + nat.EADDR) === v6) {
          STRAY.debug(now);
          continue;
        }
        this.#toTap(f, slot0 + j, to, u32[e + 4]!);
        continue;
      }
      // Spliced: runs of datagrams of one flow leave together.
      if (run !== to && m > 0) this.#sendRun(run, m, now);
      if (run !== to) m = 0;
      run = to;
      this.#queueSend(m++, e);
    }
    if (m > 0) this.#sendRun(run, m, now);
  }

  /** Sends the first `m` entries of the send table on the socket of side `sidx`. */
  #sendRun(sidx: number, m: number, now: number): void {
    const out = this.sock[sidx]!;
    if (out < 0) return;
    const rc = lib().pf_sendmmsg(out, this.#u8, this.#sendTabOff, m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (rc < m) SEND.debug(now);
  }

  /**
   * Completes the frame in `slot` of family `f` for tap side `t` and queues it:
   * the guest's MAC, the UDP header, then the family's IP header.
   */
  #toTap(f: number, slot: number, t: number, len: number): void {
    const dv = this.#dv;
    const u8 = this.#u8;
    const s = this.flows.side;
    const o = t * SW;
    const base = this.#slotsOff[f]! + slot * UDP_SLOT_SIZE;
    const l4 = base + SLOT_L4;
    const l3 = l4 - (f === 1 ? ipv6.HEADER_LEN : ipv4.MIN_HEADER_LEN);
    const l2 = l3 - eth.HEADER_LEN;
    const mac = this.c.macGuest;
    for (let i = 0; i < 6; i++) u8[l2 + i] = mac[i]!;
    dv.setUint16(l4, s[o + nat.OPORT]!);
    dv.setUint16(l4 + 2, s[o + nat.EPORT]!);
    dv.setUint16(l4 + 4, 8 + len);
    dv.setUint16(l4 + 6, 0);
    if (f === 1) this.#ip6(l3, l4, o, len);
    else this.#ip4(l3, o, len);
    this.tap.queue(l2, SLOT_L4 + 8 + len - (l2 - base));
  }

  /** Completes the IPv4 header at `l3` from tap side words `o`, for `len` payload bytes. */
  #ip4(l3: number, o: number, len: number): void {
    const dv = this.#dv;
    const s = this.flows.side;
    const src = s[o + nat.OADDR + 3]!;
    const dst = s[o + nat.EADDR + 3]!;
    const total = ipv4.MIN_HEADER_LEN + 8 + len;
    dv.setUint16(l3 + 2, total);
    dv.setUint32(l3 + 12, src);
    dv.setUint32(l3 + 16, dst);
    dv.setUint16(
      l3 + 10,
      csum.csumFold(
        this.#ip4Base + total + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff),
      ),
    );
  }

  /**
   * Completes the IPv6 header at `l3` from tap side words `o`, and the UDP
   * checksum of the datagram at `l4` (`len` payload bytes).
   */
  #ip6(l3: number, l4: number, o: number, len: number): void {
    const dv = this.#dv;
    const u8 = this.#u8;
    const s = this.flows.side;
    const l4len = 8 + len;
    dv.setUint16(l3 + 4, l4len);
    for (let i = 0; i < 4; i++) {
      dv.setUint32(l3 + ipv6.SRC_OFF + i * 4, s[o + nat.OADDR + i]!);
      dv.setUint32(l3 + ipv6.DST_OFF + i * 4, s[o + nat.EADDR + i]!);
    }
    const sum = csum.sum32(u8, this.#u32, l4, l4len) +
      csum.pseudo6(u8, l3 + ipv6.SRC_OFF, l3 + ipv6.DST_OFF, ipv4.PROTO_UDP, l4len);
    dv.setUint16(l4 + 6, csum.udpCsumFinal(sum));
  }

  // -- aging --------------------------------------------------------------------

  /** Closes flows idle for the timeout (run every second). */
  timer(now: number): void {
    const ft = this.flows;
    const act = this.activity;
    for (let i = 0; i < ft.high; i++) {
      if (ft.type[i] !== FLOW_UDP) continue;
      const stream = act[2 * i + 1]! > 0 && (act[2 * i]! > 1 || act[2 * i + 1]! > 1);
      const limit = timeoutOverride >= 0
        ? timeoutOverride
        : stream
        ? this.streamTimeoutMs
        : this.timeoutMs;
      if (now - this.ts[i]! > limit) this.#close(i);
    }
  }

  // -- listeners ------------------------------------------------------------------

  /**
   * The listeners of `-u` rules (`fwd/fwd.ts`): one socket per family (IPv4
   * and IPv6-only), bound to the rule's address or any, at `port`, with the
   * target port and the rule's slot in the reference.
   */
  listenBackend(): ListenBackend {
    return {
      open: (rule, slot, port, out) => this.#listenOpen(rule, slot, port, out),
      close: (_rule, _port, fd) => this.closeListener(fd),
    };
  }

  /** Registers listener `fd` (index: target port, family, splice bit; `slot`); 0 or -errno. */
  addListener(fd: number, index: number, slot: number): number {
    const rc = fd > SOCKET_MAX
      ? -EMFILE
      : this.loop.add(fd, EpollType.UDP_LISTEN, withSlot(index, slot), EPOLLIN);
    if (rc < 0) {
      lib().pf_close(fd);
      return rc;
    }
    this.listeners.add(fd);
    return 0;
  }

  /** Closes listener `fd`; its flows go on with their own sockets. */
  closeListener(fd: number): void {
    this.loop.del(fd);
    lib().pf_close(fd);
    this.listeners.delete(fd);
  }

  /**
   * Opens and registers `rule`'s listeners of `port`, one per family (UDP
   * sockets are never dual-stack): each family the configuration enables and,
   * unless the rule is for any address, the rule's own. `socket(v6)` opens one
   * (fd or -errno); `flags` go into the listeners' index. Fills `out` (IPv4,
   * IPv6); returns 0 if one opened, else the last error.
   */
  listenEachFamily(
    rule: FwdRule,
    slot: number,
    port: number,
    out: Int32Array,
    flags: number,
    socket: (v6: boolean) => number,
  ): number {
    const conf = this.c.conf;
    const any = (rule.flags & FWD_DUAL_STACK_ANY) !== 0;
    const target = nat.targetPort(rule, port);
    let err = 0;
    for (let f = 0; f < 2; f++) {
      const v6 = f === 1;
      if (v6 ? !conf.v6 : !conf.v4) continue;
      if (!any && inany.isV4(rule.addr, 0) === v6) continue;
      const fd = socket(v6);
      const index = flags | (v6 ? UDP_LISTEN_V6 : 0) | target;
      const rc = fd < 0 ? fd : this.addListener(fd, index, slot);
      if (rc < 0) {
        err = rc;
        continue;
      }
      out[f] = fd;
    }
    if (out[0]! < 0 && out[1]! < 0) return err || -EAFNOSUPPORT;
    return 0;
  }

  #listenOpen(rule: FwdRule, slot: number, port: number, out: Int32Array): number {
    const conf = this.c.conf;
    return this.listenEachFamily(rule, slot, port, out, 0, (v6) => {
      let addr = rule.addr;
      if (rule.flags & FWD_DUAL_STACK_ANY) {
        addr = new Uint32Array(4);
        if (!v6) inany.setV4(addr, 0, 0);
      }
      return listenSocket(addr, false, rule.ifname, port, conf.freebind, SOCK_DGRAM);
    });
  }

  /** Closes every flow and listener (shutdown and tests). */
  close(): void {
    this.timer(Infinity);
    for (const fd of [...this.listeners]) this.closeListener(fd);
  }
}

/**
 * Creates the UDP module for run.ts: installs the tap handler and the 1 s aging
 * timer. Listeners come from the forwarding rules (`fwd/fwd.ts`, through
 * {@linkcode Udp.listenBackend}).
 */
export function setupUdp(c: Ctx, loop: Loop, tap: Tap, arena: Arena, flows: FlowTable): Udp {
  const udp = new Udp(c, loop, tap, arena, flows);
  tap.handlers.udp = (cc, v6, l3, pool, start, now) => udp.tapHandler(cc, v6, l3, pool, start, now);
  loop.every(1000, (now) => udp.timer(now));
  return udp;
}
