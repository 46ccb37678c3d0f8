// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tap.ts` - the guest side: frames in, classification, per-flow sequences, frames out
 *
 * Theory of operation: frames from the guest arrive in batches into the input
 * area of the arena (pasta: one `read()` per frame from the tap device, many per
 * FFI call; passt: a stream of length-prefixed frames, split by `passt/framing.ts`,
 * or vhost-user rings, `passt/vhost_user.ts`).
 * Each frame becomes a descriptor in {@linkcode Tap.frames}. {@linkcode Tap.process}
 * then walks the batch once:
 *
 * - the guest's MAC address is learned from every frame's source;
 * - ARP, DHCP, DHCPv6, NDP and ICMP echo are handled inline, one frame at a time;
 * - TCP and UDP packets are sorted into sequences keyed by protocol, addresses
 *   and ports (at most {@linkcode TAP_SEQS} per pass, each holding at most
 *   {@linkcode SEQ_PACKETS} packets), so that interleaved packets of one flow
 *   reach its handler in one call. A sequence's pool holds the L4 segments
 *   (header and payload); the handler reads the addresses from the IP header of
 *   the first packet ({@linkcode Tap.seqL3}).
 *
 * Frames towards the guest are built in arena slots and queued with
 * {@linkcode Tap.queue}; {@linkcode Tap.flush} writes them in one batch at the end
 * of each loop iteration. Every queued frame has four writable bytes in front of
 * it, where passt puts the big-endian length of its stream framing.
 *
 * Malformed frames are dropped with a rate-limited debug message; nothing on this
 * path throws or allocates.
 *
 * @module
 */

import type { Ctx } from "../context.ts";
import { LimitedMessage, traceEnabled, traceMsg } from "../log.ts";
import * as eth from "../wire/ethernet.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as udp from "../wire/udp.ts";
import * as tcp from "../wire/tcp.ts";
import { ip6IsZero } from "../wire/inany.ts";
import type { Arena } from "./arena.ts";
import { Pool } from "./pool.ts";
import type { Pcap } from "./pcap.ts";
import type { TapOut } from "./tap_out.ts";
import { arp } from "../proto/arp.ts";
import { dhcp, SERVER_PORT as DHCP_PORT } from "../proto/dhcp.ts";
import { dhcpv6, SERVER_PORT as DHCPV6_PORT } from "../proto/dhcpv6.ts";
import { ndp } from "../proto/ndp.ts";

/** Bytes of the input area (upstream TAP_BUF_BYTES). */
export const TAP_BUF_BYTES = 8 * 1024 * 1024;
/** Largest frame we accept or send, without the passt length prefix. */
export const FRAME_MAX = 65535;
/** Frames per input batch. */
export const TAP_MSGS = 4096;
/** Sequences per pass (upstream TAP_SEQS). */
export const TAP_SEQS = 128;
/** Packets per sequence. */
export const SEQ_PACKETS = 128;
/** General-purpose output slots (ARP, DHCP, NDP, ICMP, UDP replies...). */
export const OUT_SLOTS = 64;
/** Size of an output slot: prefix headroom plus the largest frame, rounded. */
const SLOT_SIZE = 65536 + 64;
/** Frames queued towards the guest before a forced flush. */
export const OUT_QUEUE = 4096;

/** Handlers of the transport protocols, installed by the protocol modules. */
export interface L4Handlers {
  /**
   * Handles packets `start..pool.count-1` of a TCP sequence (same addresses
   * and ports); returns how many it consumed.
   */
  tcp(c: Ctx, v6: boolean, l3off: number, pool: Pool, start: number, now: number): number;
  /** Same, for UDP. */
  udp(c: Ctx, v6: boolean, l3off: number, pool: Pool, start: number, now: number): number;
  /** One ICMP (v6: ICMPv6, not NDP) packet at `l4off` of `l4len` bytes. */
  icmp(c: Ctx, v6: boolean, l3off: number, l4off: number, l4len: number, now: number): void;
}

function ignoreSeq(): number {
  return SEQ_PACKETS;
}

function ignoreIcmp(): void {}

/** Hook called when the guest's MAC or seen addresses change (templates refresh). */
export type GuestChange = () => void;

/** Sending side of the tap, implemented by pasta's tap device and passt's stream. */
export interface TapBackend {
  /** Writes `count` frames described at `descOff` ({offset, length} u32 pairs); returns frames written. */
  send(descOff: number, count: number): number;
}

const MALFORMED = new LimitedMessage("Dropping malformed frame from guest");

const DROPPED = new LimitedMessage("Output queue towards guest full, dropping frame");

/** The guest side: input batches, dispatch, and the output queue. */
export class Tap implements TapOut {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Offset and size of the input area. */
  readonly inOff: number;
  readonly inLen: number;
  /** Descriptor table written by the native batch read ({offset, length} u32 pairs). */
  readonly inDescOff: number;
  readonly inDesc: Uint32Array;
  /** Frames of the current input batch. */
  readonly frames: Pool;
  /** Per-family packet lists of the current batch (L3 offset and length). */
  readonly #pool4: Pool;
  readonly #pool6: Pool;
  /** Sequences: a pool each, plus their key. */
  readonly #seqs: Pool[] = [];
  readonly #seqProto = new Uint8Array(TAP_SEQS);
  readonly #seqSport = new Uint16Array(TAP_SEQS);
  readonly #seqDport = new Uint16Array(TAP_SEQS);
  /** IP header of the first packet of each sequence. */
  readonly seqL3 = new Uint32Array(TAP_SEQS);
  #nseq = 0;
  /** Output slots and queue. */
  readonly #slotsOff: number;
  #slotNext = 0;
  readonly #qOff: number;
  readonly #q: Uint32Array;
  #qCount = 0;
  handlers: L4Handlers = { tcp: ignoreSeq, udp: ignoreSeq, icmp: ignoreIcmp };
  backend: TapBackend | null = null;
  pcap: Pcap | null = null;
  onGuestChange: GuestChange | null = null;

  /** Reserves the tap's areas in `arena`. */
  constructor(readonly c: Ctx, readonly arena: Arena) {
    this.u8 = arena.u8;
    this.dv = arena.dv;
    const size = arena.u8.length;
    this.inOff = arena.alloc(TAP_BUF_BYTES + 64, 4096) + 64;
    this.inLen = TAP_BUF_BYTES;
    this.inDescOff = arena.alloc(TAP_MSGS * 8, 64);
    this.inDesc = new Uint32Array(
      arena.u8.buffer,
      arena.u8.byteOffset + this.inDescOff,
      TAP_MSGS * 2,
    );
    // The pools' descriptors, each pool a view of its part: one allocation
    // instead of 131 at start-up, and pages only the pools in use touch
    const desc = new Uint32Array(2 * (3 * TAP_MSGS + TAP_SEQS * SEQ_PACKETS));
    let at = 0;
    const pool = (capacity: number): Pool => {
      const p = new Pool(size, capacity, desc.subarray(at, at + 2 * capacity));
      at += 2 * capacity;
      return p;
    };
    this.frames = pool(TAP_MSGS);
    this.#pool4 = pool(TAP_MSGS);
    this.#pool6 = pool(TAP_MSGS);
    for (let i = 0; i < TAP_SEQS; i++) this.#seqs.push(pool(SEQ_PACKETS));
    this.#slotsOff = arena.alloc(OUT_SLOTS * SLOT_SIZE, 64);
    this.#qOff = arena.alloc(OUT_QUEUE * 8, 64);
    this.#q = new Uint32Array(arena.u8.buffer, arena.u8.byteOffset + this.#qOff, OUT_QUEUE * 2);
  }

  /** A free general-purpose output slot (64 bytes of headroom before it), or -1. */
  slot(): number {
    if (this.#slotNext >= OUT_SLOTS) {
      this.flush();
      if (this.#slotNext >= OUT_SLOTS) return -1;
    }
    return this.#slotsOff + this.#slotNext++ * SLOT_SIZE + 64;
  }

  /**
   * Queues a frame at `off` of `len` bytes, padded with zeros to the Ethernet
   * minimum as upstream does (every slot has room); flushes first when the
   * queue is full.
   */
  queue(off: number, len: number): void {
    if (this.#qCount >= OUT_QUEUE) this.flush();
    if (this.#qCount >= OUT_QUEUE || len > FRAME_MAX || len < eth.HEADER_LEN) {
      DROPPED.debug(performance.now());
      return;
    }
    if (len < eth.MIN_FRAME_LEN) {
      this.u8.fill(0, off + len, off + eth.MIN_FRAME_LEN);
      len = eth.MIN_FRAME_LEN;
    }
    const i = this.#qCount++ * 2;
    this.#q[i] = off;
    this.#q[i + 1] = len;
  }

  /** Frames queued and not yet sent. */
  get queued(): number {
    return this.#qCount;
  }

  /** Sends every queued frame in one batch and releases the output slots. */
  flush(): void {
    const n = this.#qCount;
    if (n === 0) {
      this.#slotNext = 0;
      return;
    }
    if (this.pcap) {
      for (let i = 0; i < n; i++) this.pcap.write(this.u8, this.#q[i * 2]!, this.#q[i * 2 + 1]!);
    }
    if (this.backend) this.backend.send(this.#qOff, n);
    this.#qCount = 0;
    this.#slotNext = 0;
  }

  /** Learns the guest's MAC address from the source of the frame at `off`. */
  #learnMac(off: number): void {
    const u8 = this.u8;
    const mac = this.c.macGuest;
    const src = off + 6;
    if (u8[src]! & 1) return;
    if (
      mac[0] === u8[src] && mac[1] === u8[src + 1] && mac[2] === u8[src + 2] &&
      mac[3] === u8[src + 3] && mac[4] === u8[src + 4] && mac[5] === u8[src + 5]
    ) return;
    for (let i = 0; i < 6; i++) mac[i] = u8[src + i]!;
    if (this.onGuestChange) this.onGuestChange();
  }

  /** Processes the frames in {@linkcode Tap.frames}, then empties it. */
  process(now: number): void {
    const frames = this.frames;
    const dv = this.dv;
    const u8 = this.u8;
    const c = this.c;
    this.#pool4.flush();
    this.#pool6.flush();
    if (this.pcap) {
      for (let i = 0; i < frames.count; i++) {
        this.pcap.write(u8, frames.offsetOf(i), frames.lenOf(i));
      }
    }
    for (let i = 0; i < frames.count; i++) {
      const len = frames.lenOf(i);
      const off = frames.get(i, 0, eth.HEADER_LEN);
      if (off < 0) {
        MALFORMED.debug(now);
        continue;
      }
      this.#learnMac(off);
      const type = eth.etherType(dv, off);
      if (type === eth.ETH_P_ARP) {
        if (!arp(c, this, u8, dv, off, len)) MALFORMED.debug(now);
      } else if (type === eth.ETH_P_IP) {
        if (c.conf.v4) this.#pool4.add(off, len);
      } else if (type === eth.ETH_P_IPV6) {
        if (c.conf.v6) this.#pool6.add(off, len);
      }
    }
    frames.flush();
    if (this.#pool4.count) this.#process(false, now);
    if (this.#pool6.count) this.#process(true, now);
  }

  /** Runs the frames of one family's pool through its handler, then the batched flows. */
  #process(v6: boolean, now: number): void {
    const pool = v6 ? this.#pool6 : this.#pool4;
    this.#nseq = 0;
    for (let i = 0; i < pool.count; i++) {
      const l2 = pool.offsetOf(i);
      const avail = pool.lenOf(i) - eth.HEADER_LEN;
      if (v6) this.#packet6(l2, avail, now);
      else this.#packet4(l2, avail, now);
    }
    this.#runSeqs(v6, now);
  }

  /** One IPv4 frame at `l2` with `avail` bytes past the Ethernet header. */
  #packet4(l2: number, avail: number, now: number): void {
    const dv = this.dv;
    const c = this.c;
    const l3 = l2 + eth.HEADER_LEN;
    const hlen = ipv4.validate(dv, l3, avail);
    if (hlen < 0 || ipv4.isFragment(dv, l3)) {
      MALFORMED.debug(now);
      return;
    }
    const total = ipv4.totalLen(dv, l3);
    const src = ipv4.src(dv, l3);
    if (src !== 0 && src !== c.ip4AddrSeen) {
      c.ip4AddrSeen = src;
      if (this.onGuestChange) this.onGuestChange();
    }
    const proto = ipv4.protocol(dv, l3);
    const l4 = l3 + hlen;
    const l4len = total - hlen;
    if (proto === ipv4.PROTO_ICMP) {
      if (!c.conf.noIcmp) this.handlers.icmp(c, false, l3, l4, l4len, now);
      return;
    }
    if (this.#isUdpTo(proto, l4, l4len, DHCP_PORT)) {
      dhcp(c, this, this.u8, dv, l2, eth.HEADER_LEN + total);
      return;
    }
    if (this.#forwarded(proto, l4len)) this.#addToSeq(false, proto, l3, l4, l4len, now);
  }

  /** One IPv6 frame at `l2` with `avail` bytes past the Ethernet header. */
  #packet6(l2: number, avail: number, now: number): void {
    const dv = this.dv;
    const u8 = this.u8;
    const c = this.c;
    const l3 = l2 + eth.HEADER_LEN;
    if (ipv6.validate(dv, l3, avail) < 0) {
      MALFORMED.debug(now);
      return;
    }
    const end = ipv6.packetEnd(dv, l3);
    const l4 = ipv6.l4Offset(dv, l3, end - l3);
    if (l4 < 0) {
      MALFORMED.debug(now);
      return;
    }
    const proto = ipv6.l4Proto();
    const l4len = end - l4;
    this.#seenV6(l3);
    if (proto === ipv4.PROTO_ICMPV6) {
      if (ndp(c, this, u8, dv, l2, end - l2, now)) return;
      if (!c.conf.noIcmp) this.handlers.icmp(c, true, l3, l4, l4len, now);
      return;
    }
    if (this.#isUdpTo(proto, l4, l4len, DHCPV6_PORT) && dhcpv6(c, this, u8, dv, l2, end - l2)) {
      return;
    }
    if (this.#forwarded(proto, l4len)) this.#addToSeq(true, proto, l3, l4, l4len, now);
  }

  /** Whether the L4 payload is a whole UDP header with destination `port`. */
  #isUdpTo(proto: number, l4: number, l4len: number, port: number): boolean {
    return proto === ipv4.PROTO_UDP && l4len >= udp.HEADER_LEN && udp.dstPort(this.dv, l4) === port;
  }

  /** Whether a TCP or UDP segment goes on to its flow: enabled, header complete. */
  #forwarded(proto: number, l4len: number): boolean {
    const conf = this.c.conf;
    if (proto === ipv4.PROTO_UDP) return !conf.noUdp && l4len >= udp.HEADER_LEN;
    if (proto === ipv4.PROTO_TCP) return !conf.noTcp && l4len >= tcp.MIN_HEADER_LEN;
    return false;
  }

  /** Records the guest's IPv6 source address (link-local or not) as seen. */
  #seenV6(l3: number): void {
    const dv = this.dv;
    const c = this.c;
    const srcOff = l3 + ipv6.SRC_OFF;
    if (ipv6.addrIsUnspecified(dv, srcOff) || ipv6.addrIsMulticast(dv, srcOff)) return;
    if (ipv6.addrIsLinkLocal(dv, srcOff)) {
      if (!ipv6.addrEqualsWords(dv, srcOff, c.ip6AddrLlSeen)) {
        ipv6.readSrc(dv, l3, c.ip6AddrLlSeen);
        if (this.onGuestChange) this.onGuestChange();
      }
      const s = c.ip6AddrSeen;
      if (ip6IsZero(s)) ipv6.readSrc(dv, l3, s);
    } else if (!ipv6.addrEqualsWords(dv, srcOff, c.ip6AddrSeen)) {
      ipv6.readSrc(dv, l3, c.ip6AddrSeen);
      if (this.onGuestChange) this.onGuestChange();
    }
  }

  /** Whether the IP addresses of packets at `a` and `b` (L3 offsets) are equal. */
  #sameAddrs(v6: boolean, a: number, b: number): boolean {
    const dv = this.dv;
    if (!v6) {
      return dv.getUint32(a + 12) === dv.getUint32(b + 12) &&
        dv.getUint32(a + 16) === dv.getUint32(b + 16);
    }
    for (let k = 8; k < 40; k += 4) {
      if (dv.getUint32(a + k) !== dv.getUint32(b + k)) return false;
    }
    return true;
  }

  #addToSeq(v6: boolean, proto: number, l3: number, l4: number, l4len: number, now: number): void {
    const dv = this.dv;
    const sport = dv.getUint16(l4);
    const dport = dv.getUint16(l4 + 2);
    let s = -1;
    for (let k = this.#nseq - 1; k >= 0; k--) {
      if (
        this.#seqProto[k] === proto && this.#seqSport[k] === sport &&
        this.#seqDport[k] === dport && this.#sameAddrs(v6, this.seqL3[k]!, l3)
      ) {
        s = k;
        break;
      }
    }
    if (s >= 0 && this.#seqs[s]!.count >= SEQ_PACKETS) {
      this.#runSeqs(v6, now);
      s = -1;
    }
    if (s < 0) {
      if (this.#nseq >= TAP_SEQS) this.#runSeqs(v6, now);
      s = this.#nseq++;
      this.#seqProto[s] = proto;
      this.#seqSport[s] = sport;
      this.#seqDport[s] = dport;
      this.seqL3[s] = l3;
      this.#seqs[s]!.flush();
    }
    this.#seqs[s]!.add(l4, l4len);
  }

  #runSeqs(v6: boolean, now: number): void {
    const c = this.c;
    for (let k = 0; k < this.#nseq; k++) {
      const pool = this.#seqs[k]!;
      const l3 = this.seqL3[k]!;
      const tcpSeq = this.#seqProto[k] === ipv4.PROTO_TCP;
      if (traceEnabled()) {
        traceMsg(`tap: ${tcpSeq ? "TCP" : "UDP"} sequence of ${pool.count} packets`);
      }
      let start = 0;
      while (start < pool.count) {
        const n = tcpSeq
          ? this.handlers.tcp(c, v6, l3, pool, start, now)
          : this.handlers.udp(c, v6, l3, pool, start, now);
        start += n > 0 ? n : pool.count;
      }
      pool.flush();
    }
    this.#nseq = 0;
  }
}
