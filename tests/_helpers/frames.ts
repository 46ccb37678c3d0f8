// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `frames.ts` - test-side builders for guest frames and a test context
 *
 * These run in tests only, so they allocate freely. Checksums are computed with
 * the production checksum module; tests verify replies with it as well.
 *
 * @module
 */

import { ALL_PROTOCOLS, type Conf, type Ctx, NO_NS_SWITCHES } from "../../src/context.ts";
import { ipv4HeaderChecksum, l4Checksum6 } from "../../src/wire/checksum.ts";

/** Our MAC in tests. */
export const HOST_MAC = Uint8Array.of(0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55);
/** The guest's MAC in tests. */
export const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
/** The guest's link-local address, derived from GUEST_MAC (EUI-64). */
export const GUEST_LL = ip6("fe80::5054:ff:fe12:3456");

/** Parses "a.b.c.d" into a u32. */
export function ip4(s: string): number {
  const p = s.split(".").map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

/** Parses an IPv6 address into four big-endian words. */
export function ip6(s: string): Uint32Array {
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) =>
    parseInt(g, 16)
  );
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return w;
}

/** 16 bytes of an address in words. */
export function ip6Bytes(w: Uint32Array): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) dv.setUint32(4 * i, w[i]!);
  return b;
}

/** A context like pasta's defaults for a guest at 192.0.2.10/24 and 2001:db8::10. */
export function testCtx(patch: Partial<Conf> = {}): Ctx {
  const conf: Conf = {
    mode: "pasta",
    debug: false,
    trace: false,
    quiet: true,
    foreground: true,
    logFile: null,
    logSize: 0,
    stats: 0,
    uid: 0,
    gid: 0,
    socketPath: "",
    fd: -1,
    oneOff: false,
    vhostUser: false,
    pcap: null,
    pidFile: null,
    confPath: null,
    mtu: 65520,
    mac: HOST_MAC,
    ifname4: "eth0",
    ifname6: "eth0",
    ifindex4: 2,
    ifindex6: 2,
    v4: true,
    v6: true,
    local4: false,
    local6: false,
    ip4: {
      addr: ip4("192.0.2.10"),
      prefixLen: 24,
      gw: ip4("192.0.2.1"),
      dns: [ip4("192.0.2.53"), ip4("198.51.100.53")],
      dnsMatch: 0,
      dnsHost: 0,
      addrOut: 0,
      mapHostLoopback: ip4("192.0.2.1"),
      mapGuestAddr: 0,
      ourTapAddr: ip4("192.0.2.1"),
      ifnameOut: "",
    },
    ip6: {
      addr: ip6("2001:db8:1:2::10"),
      addrLl: ip6("fe80::1234"),
      gw: ip6("fe80::1"),
      dns: [ip6("2001:db8::53"), ip6("2001:db8::5353")],
      dnsMatch: new Uint32Array(4),
      dnsHost: new Uint32Array(4),
      addrOut: new Uint32Array(4),
      mapHostLoopback: ip6("fe80::1"),
      mapGuestAddr: new Uint32Array(4),
      ourTapLl: ip6("fe80::1"),
      ifnameOut: "",
    },
    dnsSearch: ["example.com", "lab.example.com"],
    hostname: "",
    fqdn: "",
    dhcpDns: true,
    dhcpSearch: true,
    ...ALL_PROTOCOLS,
    noSplice: false,
    spliceOnly: false,
    hostLoToNsLo: false,
    freebind: false,
    fwd: { host: [], splice: [] },
    ...NO_NS_SWITCHES,
    nsIfname: "eth0",
    chrootFallback: false,
    targetPid: 0,
    command: [],
    ...patch,
  };
  return {
    conf,
    macGuest: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    ip4AddrSeen: 0,
    ip6AddrSeen: new Uint32Array(4),
    ip6AddrLlSeen: new Uint32Array(4),
  };
}

/** Concatenates byte arrays. */
export function concat(...parts: ArrayLike<number>[]): Uint8Array<ArrayBuffer> {
  return concatList(parts);
}

/** Concatenates a list of byte arrays (one of any length: no spread arguments). */
export function concatList(parts: readonly ArrayLike<number>[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An Ethernet frame. */
export function ether(
  dst: Uint8Array,
  src: Uint8Array,
  type: number,
  payload: Uint8Array,
): Uint8Array {
  return concat(dst, src, [type >> 8, type & 0xff], payload);
}

/** An IPv4 packet (20-byte header, valid checksum). */
export function ipv4Packet(
  src: number,
  dst: number,
  proto: number,
  payload: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(20 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, 0x45);
  dv.setUint16(2, b.length);
  dv.setUint8(8, 64);
  dv.setUint8(9, proto);
  dv.setUint32(12, src);
  dv.setUint32(16, dst);
  dv.setUint16(10, ipv4HeaderChecksum(b, 0, 20));
  b.set(payload, 20);
  return b;
}

/** A UDP header plus payload (checksum 0: allowed over IPv4). */
export function udp4(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint16(4, b.length);
  b.set(payload, 8);
  return b;
}

/** The fixed fields of a TCP header that tests build or check. */
export interface TcpFields {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  wnd: number;
}

/** The fixed fields of the TCP header at `l4`. */
export function readTcpFields(dv: DataView, l4: number): TcpFields {
  return {
    sport: dv.getUint16(l4),
    dport: dv.getUint16(l4 + 2),
    seq: dv.getUint32(l4 + 4),
    ack: dv.getUint32(l4 + 8),
    flags: dv.getUint8(l4 + 13),
    wnd: dv.getUint16(l4 + 14),
  };
}

/** The MSS and window scale options of the TCP header at `l4`, -1 where absent. */
export function tcpOptionValues(u8: Uint8Array, l4: number): { mss: number; ws: number } {
  const hl = (u8[l4 + 12]! >> 4) * 4;
  let mss = -1, ws = -1;
  for (let p = l4 + 20; p < l4 + hl;) {
    const kind = u8[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (kind === 2) mss = (u8[p + 2]! << 8) | u8[p + 3]!;
    if (kind === 3) ws = u8[p + 2]!;
    p += Math.max(2, u8[p + 1]!);
  }
  return { mss, ws };
}

/**
 * A TCP header `h` with options `opts`, then `payload`; checksum 0. The data
 * offset field is the header's length unless `doff` (32-bit words) says otherwise.
 */
export function tcpSegment(
  h: TcpFields,
  opts: Uint8Array,
  payload: Uint8Array,
  doff = (20 + opts.length) >> 2,
): Uint8Array {
  const hlen = 20 + opts.length;
  const b = new Uint8Array(hlen + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, h.sport);
  dv.setUint16(2, h.dport);
  dv.setUint32(4, h.seq >>> 0);
  dv.setUint32(8, h.ack >>> 0);
  b[12] = doff << 4;
  b[13] = h.flags;
  dv.setUint16(14, h.wnd);
  b.set(opts, 20);
  b.set(payload, hlen);
  return b;
}

/**
 * An IPv6 packet whose L4 (ICMPv6 or UDP) checksum at `csumOff` of the
 * payload is filled in (pass -1 for none).
 */
export function ipv6Packet(
  src: Uint32Array,
  dst: Uint32Array,
  nh: number,
  payload: Uint8Array,
  csumOff: number,
  hopLimit = 255,
): Uint8Array {
  const b = new Uint8Array(40 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x60000000);
  dv.setUint16(4, payload.length);
  dv.setUint8(6, nh);
  dv.setUint8(7, hopLimit);
  b.set(ip6Bytes(src), 8);
  b.set(ip6Bytes(dst), 24);
  b.set(payload, 40);
  if (csumOff >= 0) {
    dv.setUint16(40 + csumOff, 0);
    dv.setUint16(40 + csumOff, l4Checksum6(b, 40, payload.length, 8, 24, nh));
  }
  return b;
}

/** The guest's IPv6 packet `src` → multicast `group`, framed to the group's 33:33 MAC (RFC 2464 §7). */
export function guestMulticast6(
  src: Uint32Array,
  group: Uint32Array,
  nh: number,
  payload: Uint8Array,
  csumOff: number,
  hopLimit = 255,
): Uint8Array {
  const w = group[3]!;
  const mac = Uint8Array.of(0x33, 0x33, w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
  return ether(mac, GUEST_MAC, 0x86dd, ipv6Packet(src, group, nh, payload, csumOff, hopLimit));
}

/** A frame placed at `at` in a larger zeroed buffer, as the tap path would hand it over. */
export interface Placed {
  u8: Uint8Array;
  dv: DataView;
  off: number;
  len: number;
}

/**
 * Copies `frame` into a fresh buffer at offset `at`, with nothing after it, so
 * that a handler reading past the frame's end throws a RangeError.
 */
export function place(frame: Uint8Array, at = 100): Placed {
  const u8 = new Uint8Array(at + frame.length);
  u8.set(frame, at);
  return { u8, dv: new DataView(u8.buffer), off: at, len: frame.length };
}

/** Deterministic pseudo-random generator (xorshift32) for fuzz loops. */
export function rng(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Where to write a random byte in a frame of `len` bytes, drawing from `r`. */
export type FlipAt = (r: () => number, len: number) => number;

/**
 * Hands `feed` every prefix of `base`, then `seeds` corrupted copies of it: each
 * with 1 to `maxFlips` random bytes written where `at` says, less its last 0 to
 * `maxCut - 1` bytes. For "never throws" tests of a parser.
 */
export function feedCorrupted(
  base: Uint8Array,
  seeds: number,
  maxFlips: number,
  maxCut: number,
  at: FlipAt,
  feed: (f: Uint8Array) => void,
): void {
  for (let len = 0; len <= base.length; len++) feed(base.subarray(0, len));
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const f = base.slice();
    const flips = 1 + (r() % maxFlips);
    for (let k = 0; k < flips; k++) f[at(r, f.length)] = r() & 0xff;
    feed(f.subarray(0, f.length - (r() % maxCut)));
  }
}

/** Shortest frame we send (ETH_ZLEN): shorter ones are padded with zeros, as upstream's. */
export const MIN_FRAME = 60;

/**
 * What is wrong with the length of the frame of `len` bytes at `off` whose
 * headers say `l2len` bytes: it must be exactly that (as a protocol handler
 * queues it) or, if shorter than 60 bytes, 60 with zeros past it (as the tap
 * sends it). Null when right.
 */
export function padProblem(u8: Uint8Array, off: number, len: number, l2len: number): string | null {
  if (len === l2len) return null;
  if (len !== MIN_FRAME || l2len >= MIN_FRAME) {
    return `${len}-byte frame for ${l2len} bytes of headers`;
  }
  for (let i = l2len; i < len; i++) if (u8[off + i] !== 0) return `padding byte ${i} is not zero`;
  return null;
}
