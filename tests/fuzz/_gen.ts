// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `_gen.ts` - structured guest frames for the fuzz targets: Ethernet, ARP, IPv4 (options,
 * fragments), IPv6 (extension-header chains), ICMP, ICMPv6/NDP, UDP, DHCP, DHCPv6, TCP
 *
 * Every generator builds a well-formed frame from the test context's addresses, with edge
 * values sprinkled into the fields that parsers check (lengths, option lengths, flags), and
 * valid checksums; {@linkcode genFrame} then lets {@linkcode mutate} damage it. Option lists
 * (DHCP, DHCPv6, NDP, TCP) get zero-length, overlong and truncated options on purpose.
 *
 * @module
 */

import type { Ctx } from "../../src/context.ts";
import { DUID_TIME } from "../../src/proto/dhcpv6.ts";
import { ipv4HeaderChecksum, l4Checksum4, l4Checksum6, sum16 } from "../../src/wire/checksum.ts";
import {
  concat,
  GUEST_MAC,
  ip4,
  ip6,
  ip6Bytes,
  type TcpFields,
  tcpSegment,
} from "../_helpers/frames.ts";
import { mutate, type Rng } from "./_lib.ts";

/** Host-side ports the rig listens on (TCP and UDP), so some flows reach something. */
export interface HostPorts {
  tcp: number;
  udp: number;
}

const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

function u16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** An option length: usually right, sometimes 0, 1, overlong or 255. */
function optLen(rng: Rng, right: number): number {
  const r = rng.below(10);
  if (r < 6) return right;
  if (r === 6) return 0;
  if (r === 7) return rng.below(right + 1);
  if (r === 8) return right + rng.pick([1, 1, 2, 3, rng.range(4, 40)]);
  return 255;
}

/** An Ethernet frame to us (or broadcast, or anywhere, sometimes) from the guest. */
export function ethernet(
  rng: Rng,
  c: Ctx,
  type: number,
  payload: Uint8Array,
  dst?: Uint8Array,
): Uint8Array {
  const d = dst ?? (rng.oneIn(8) ? BCAST : rng.oneIn(16) ? rng.bytes(6) : c.conf.mac);
  const s = rng.oneIn(16) ? rng.bytes(6) : GUEST_MAC;
  return concat(d, s, u16(type), payload);
}

// ---- addresses -------------------------------------------------------------------------------

/** An address of one family: the gateway most often, else a resolver, the guest's own or one of `odd`. */
function pickAddr<T>(rng: Rng, ip: { gw: T; dns: T[]; addr: T }, odd: T[]): T {
  return rng.pick([ip.gw, ip.gw, ip.gw, ip.dns[0]!, ip.addr, ...odd]);
}

function addr4(rng: Rng, c: Ctx): number {
  return pickAddr(rng, c.conf.ip4, [
    0,
    0xffffffff,
    0xe0000001,
    0x7f000001,
    ip4("192.0.2.255"),
    ip4("198.51.100.7"),
    rng.u32(),
  ]) >>> 0;
}

function src4(rng: Rng, c: Ctx): number {
  return rng.oneIn(6) ? rng.pick([0, rng.u32(), 0xffffffff, 0x7f000001]) >>> 0 : c.conf.ip4.addr;
}

function addr6(rng: Rng, c: Ctx): Uint32Array {
  return pickAddr(rng, c.conf.ip6, [
    ip6("::"),
    ip6("::1"),
    ip6("ff02::1"),
    ip6("ff02::2"),
    ip6("ff02::1:2"),
    ip6("ff02::1:ff00:1"),
    ip6("fe80::2"),
    ip6("2001:db8:1:2::99"),
    ip6("::ffff:127.0.0.1"),
    Uint32Array.of(rng.u32(), rng.u32(), rng.u32(), rng.u32()),
  ]);
}

function src6(rng: Rng, c: Ctx): Uint32Array {
  if (!rng.oneIn(5)) return rng.oneIn(2) ? c.conf.ip6.addr : c.conf.ip6.addrLl;
  return rng.pick([ip6("::"), ip6("ff02::1"), ip6("fe80::99"), ip6("::1"), c.conf.ip6.gw]);
}

// ---- IP --------------------------------------------------------------------------------------

/** An IPv4 packet: options and fragment bits sometimes, total length sometimes off. */
export function ipv4(
  rng: Rng,
  src: number,
  dst: number,
  proto: number,
  l4: Uint8Array,
  csumOff: number,
  noise = true,
): Uint8Array {
  const optWords = noise && rng.oneIn(10) ? rng.range(1, 10) : 0;
  const hl = 20 + 4 * optWords;
  const b = new Uint8Array(hl + l4.length);
  const dv = new DataView(b.buffer);
  b[0] = 0x40 | (hl >> 2);
  let tot = b.length;
  if (noise && rng.oneIn(20)) tot = rng.pick([0, 19, hl, tot - 1, tot + 1, 65535]);
  dv.setUint16(2, tot & 0xffff);
  dv.setUint16(4, rng.u32() & 0xffff);
  if (noise && rng.oneIn(20)) dv.setUint16(6, rng.pick([0x2000, 0x0001, 0x4000, 0x3fff]));
  else dv.setUint16(6, 0x4000);
  b[8] = noise && rng.oneIn(20) ? rng.below(2) : 64;
  b[9] = proto;
  dv.setUint32(12, src);
  dv.setUint32(16, dst);
  for (let i = 20; i < hl; i++) b[i] = rng.pick([0, 1, 7, 0x44, 0x94, rng.u32() & 0xff]);
  b.set(l4, hl);
  if (csumOff >= 0) {
    dv.setUint16(hl + csumOff, 0);
    const sum = proto === 1
      ? fold(sum16(b, hl, l4.length))
      : l4Checksum4(b, hl, l4.length, src, dst, proto);
    dv.setUint16(hl + csumOff, proto === 17 && sum === 0 ? 0xffff : sum);
  }
  dv.setUint16(10, ipv4HeaderChecksum(b, 0, hl));
  return b;
}

/** Extension headers before L4: hop-by-hop, routing, destination options, AH, fragment... */
function extChain(rng: Rng, finalNh: number, noise: boolean): { bytes: Uint8Array; first: number } {
  if (!noise || !rng.oneIn(4)) return { bytes: new Uint8Array(0), first: finalNh };
  const n = rng.range(1, 5);
  const types: number[] = [];
  for (let k = 0; k < n; k++) {
    types.push(rng.pick([0, 0, 43, 60, 60, 51, 44, 135, 139, 140, 253, 254, 59, 50]));
  }
  const hdrs: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const t = types[k]!;
    const nh = k + 1 < n ? types[k + 1]! : finalNh;
    const units = rng.oneIn(3) ? rng.range(0, 3) : 0;
    let len = t === 51 ? (units + 2) * 4 : t === 44 ? 8 : (units + 1) * 8;
    if (rng.oneIn(12)) len = rng.range(1, 12); // inconsistent with its own length field
    const h = new Uint8Array(len);
    h[0] = nh;
    if (len > 1) h[1] = t === 44 ? 0 : units;
    for (let i = 2; i < len; i++) h[i] = rng.oneIn(2) ? 0 : rng.u32() & 0xff;
    if (t === 0 || t === 60) {
      // PadN option filling the header, sometimes with a bad length.
      if (len >= 4) {
        h[2] = 1;
        h[3] = rng.oneIn(6) ? 255 : len - 4;
        h.fill(0, 4);
      }
    }
    hdrs.push(h);
  }
  return { bytes: concat(...hdrs), first: types[0]! };
}

/** An IPv6 packet with an extension-header chain sometimes; payload length sometimes off. */
export function ipv6(
  rng: Rng,
  src: Uint32Array,
  dst: Uint32Array,
  nh: number,
  l4: Uint8Array,
  csumOff: number,
  hopLimit = 64,
  noise = true,
): Uint8Array {
  const ext = extChain(rng, nh, noise);
  const pl = ext.bytes.length + l4.length;
  const b = new Uint8Array(40 + pl);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x60000000 | (rng.oneIn(4) ? rng.u32() & 0xfffff : 0));
  let plf = pl;
  if (noise && rng.oneIn(20)) plf = rng.pick([0, 1, pl - 1, pl + 1, 65535]);
  dv.setUint16(4, plf & 0xffff);
  b[6] = ext.first;
  b[7] = hopLimit;
  b.set(ip6Bytes(src), 8);
  b.set(ip6Bytes(dst), 24);
  b.set(ext.bytes, 40);
  const l4o = 40 + ext.bytes.length;
  b.set(l4, l4o);
  if (csumOff >= 0) {
    dv.setUint16(l4o + csumOff, 0);
    const sum = l4Checksum6(b, l4o, l4.length, 8, 24, nh);
    dv.setUint16(l4o + csumOff, nh === 17 && sum === 0 ? 0xffff : sum);
  }
  return b;
}

// ---- L4 --------------------------------------------------------------------------------------

/** TCP options: MSS, window scale, SACK permitted, timestamps, NOP, EOL, garbage. */
export function tcpOptions(rng: Rng): Uint8Array {
  const o: number[] = [];
  const n = rng.range(0, 5);
  for (let k = 0; k < n; k++) {
    switch (rng.below(8)) {
      case 0:
        o.push(2, optLen(rng, 4), ...u16(rng.pick([0, 1, 536, 1460, 65495, 65535])));
        break;
      case 1:
        o.push(3, optLen(rng, 3), rng.pick([0, 7, 8, 14, 15, 255]));
        break;
      case 2:
        o.push(4, optLen(rng, 2));
        break;
      case 3:
        o.push(8, optLen(rng, 10), ...u32(rng.u32()), ...u32(rng.u32()));
        break;
      case 4:
        o.push(1);
        break;
      case 5:
        o.push(0);
        break;
      case 6:
        o.push(rng.u32() & 0xff, rng.u32() & 0xff);
        break;
      default:
        o.push(2, 4, ...u16(rng.range(1, 65535)), 1, 3, 3, rng.range(0, 14));
    }
  }
  while (o.length % 4) o.push(rng.oneIn(4) ? 0 : 1);
  return Uint8Array.from(o.slice(0, 40));
}

/** A TCP segment: any flags, sequence and acknowledgement numbers, window and data offset. */
export function tcpSeg(rng: Rng, h: TcpFields, opts: Uint8Array, payload: Uint8Array): Uint8Array {
  return tcpSegment(h, opts, payload, rng.oneIn(16) ? rng.range(0, 15) : undefined);
}

function randomFlags(rng: Rng): number {
  const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16;
  return rng.pick([SYN, SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST, RST | ACK, FIN, 0]) |
    (rng.oneIn(10) ? rng.u32() & 0xff : 0);
}

function payload(rng: Rng): Uint8Array {
  const r = rng.below(10);
  const n = r < 5
    ? 0
    : r < 8
    ? rng.range(1, 64)
    : rng.oneIn(4)
    ? rng.range(1400, 9000)
    : rng.range(64, 1500);
  return rng.bytes(n);
}

function port(rng: Rng, host: HostPorts, tcp: boolean): number {
  return rng.pick([
    tcp ? host.tcp : host.udp,
    tcp ? host.tcp : host.udp,
    0,
    1,
    53,
    7,
    65535,
    rng.range(1024, 65535),
  ]);
}

function udpDgram(sport: number, dport: number, data: Uint8Array, lenField?: number): Uint8Array {
  return concat(u16(sport), u16(dport), u16((lenField ?? data.length + 8) & 0xffff), [0, 0], data);
}

// ---- DHCP ------------------------------------------------------------------------------------

function dhcpOptions(rng: Rng, room: number): number[] {
  const o: number[] = [];
  const n = rng.range(0, 10);
  for (let k = 0; k < n && o.length < room; k++) {
    const code = rng.pick([53, 53, 55, 57, 54, 50, 52, 61, 12, 0, 255, 119, rng.u32() & 0xff]);
    if (code === 0 || (code === 255 && rng.oneIn(2))) {
      o.push(code);
      continue;
    }
    let v: number[];
    switch (code) {
      case 53:
        v = [rng.pick([1, 3, 8, 1, 3, 2, 4, 7, 0, 9, 255])];
        break;
      case 55:
        v = Array.from(
          { length: rng.range(0, 40) },
          () => rng.pick([1, 3, 6, 15, 26, 51, 53, 54, 119, 121, 0, 255, rng.u32() & 0xff]),
        );
        break;
      case 57:
        v = u16(rng.pick([0, 1, 575, 576, 577, 1500, 65535]));
        break;
      case 54:
      case 50:
        v = u32(rng.oneIn(2) ? ip4("192.0.2.1") : rng.u32());
        break;
      case 52:
        v = [rng.range(0, 4)];
        break;
      default:
        v = Array.from(rng.bytes(rng.range(0, 20)));
    }
    const l = optLen(rng, v.length);
    o.push(code, l & 0xff, ...v.slice(0, Math.min(v.length, l)));
  }
  if (rng.oneIn(4)) {
    // A last option cut short by the end of the message: one to three bytes missing.
    const code = rng.pick([55, 55, 57, 53, 61, 12, 54]);
    const l = rng.range(1, 12);
    o.push(code, l, ...Array.from(rng.bytes(Math.max(0, l - rng.range(1, 3)))));
    return o;
  }
  if (rng.oneIn(2)) o.push(255);
  return o;
}

/** A DHCP message from the guest (DISCOVER, REQUEST, INFORM and friends). */
export function dhcpFrame(rng: Rng, c: Ctx): Uint8Array {
  const m = new Uint8Array(240);
  const dv = new DataView(m.buffer);
  m[0] = rng.oneIn(10) ? 2 : 1;
  m[1] = 1;
  m[2] = 6;
  dv.setUint32(4, rng.u32());
  dv.setUint16(10, rng.oneIn(2) ? 0x8000 : 0);
  if (rng.oneIn(4)) dv.setUint32(12, rng.oneIn(2) ? c.conf.ip4.addr : rng.u32());
  m.set(GUEST_MAC, 28);
  dv.setUint32(236, rng.oneIn(12) ? rng.u32() : 0x63825363);
  // Options overloaded into sname (44..108) and file (108..236) sometimes.
  if (rng.oneIn(6)) m.set(dhcpOptions(rng, 60).slice(0, 64), 44);
  if (rng.oneIn(6)) m.set(dhcpOptions(rng, 120).slice(0, 128), 108);
  let body = concat(m, dhcpOptions(rng, 400));
  if (rng.oneIn(10)) body = body.slice(0, rng.below(body.length + 1));
  const lenField = rng.oneIn(12)
    ? rng.pick([0, 7, 8, body.length + 7, body.length + 9])
    : undefined;
  const u = udpDgram(68, 67, body, lenField);
  const dst = rng.oneIn(6) ? c.conf.ip4.gw : 0xffffffff;
  return ethernet(
    rng,
    c,
    0x0800,
    ipv4(rng, rng.oneIn(3) ? 0 : c.conf.ip4.addr, dst, 17, u, 6),
    BCAST,
  );
}

// ---- DHCPv6 ----------------------------------------------------------------------------------

function v6opt(rng: Rng, code: number, v: ArrayLike<number>): number[] {
  const l = optLen(rng, v.length);
  return [...u16(code), ...u16(l), ...Array.from(v).slice(0, Math.min(v.length, l))];
}

/** Our server DUID (DUID-LLT of the test MAC), for messages addressed to us. */
function ourDuid(c: Ctx): number[] {
  return [0, 1, 0, 1, ...u32(DUID_TIME), ...c.conf.mac];
}

function iaOptions(rng: Rng, c: Ctx): number[] {
  const o: number[] = [];
  const n = rng.range(0, 3);
  for (let k = 0; k < n; k++) {
    const addr = rng.oneIn(2) ? Array.from(ip6Bytes(c.conf.ip6.addr)) : Array.from(rng.bytes(16));
    o.push(...v6opt(rng, rng.oneIn(6) ? 13 : 5, [...addr, ...u32(rng.u32()), ...u32(rng.u32())]));
  }
  return o;
}

/** A DHCPv6 message from the guest to All_DHCP_Relay_Agents_and_Servers. */
export function dhcpv6Frame(rng: Rng, c: Ctx): Uint8Array {
  const type = rng.pick([1, 3, 4, 5, 6, 11, 1, 3, 8, 9, 7, 0, 255]);
  const o: number[] = [type, ...u32(rng.u32()).slice(1)];
  const n = rng.range(0, 7);
  for (let k = 0; k < n; k++) {
    switch (rng.below(9)) {
      case 0:
      case 1:
        o.push(...v6opt(rng, 1, rng.bytes(rng.pick([0, 1, 10, 14, 18, 128, 129, 130]))));
        break;
      case 2:
        o.push(...v6opt(rng, 2, rng.oneIn(3) ? rng.bytes(14) : ourDuid(c)));
        break;
      case 3:
      case 4:
        o.push(...v6opt(rng, 3, [...u32(rng.u32()), ...u32(0), ...u32(0), ...iaOptions(rng, c)]));
        break;
      case 5:
        o.push(...v6opt(rng, 4, [...u32(rng.u32()), ...iaOptions(rng, c)]));
        break;
      case 6:
        o.push(...v6opt(rng, 6, [0, 23, 0, 24]));
        break;
      case 7:
        o.push(...v6opt(rng, 8, [0, 0]));
        break;
      default:
        o.push(...v6opt(rng, rng.u32() & 0xffff, rng.bytes(rng.range(0, 24))));
    }
  }
  if (rng.oneIn(4)) {
    // A last option cut short by the end of the message.
    const l = rng.range(1, 30);
    o.push(
      ...u16(rng.pick([1, 2, 3, 4, 5, 6, 23])),
      ...u16(l),
      ...rng.bytes(Math.max(0, l - rng.range(1, 3))),
    );
  }
  const lenField = rng.oneIn(12) ? rng.pick([0, 7, 8, o.length + 7, o.length + 9]) : undefined;
  const u = udpDgram(546, 547, Uint8Array.from(o), lenField);
  const dst = rng.oneIn(8) ? addr6(rng, c) : ip6("ff02::1:2");
  const mac = Uint8Array.of(0x33, 0x33, 0, 1, 0, 2);
  return ethernet(rng, c, 0x86dd, ipv6(rng, src6(rng, c), dst, 17, u, 6), mac);
}

// ---- NDP and ICMPv6 --------------------------------------------------------------------------

function ndOptions(rng: Rng): number[] {
  const o: number[] = [];
  const n = rng.range(0, 5);
  for (let k = 0; k < n; k++) {
    const type = rng.pick([1, 2, 3, 5, 25, 31, rng.u32() & 0xff]);
    const units = type === 3 ? 4 : type === 25 ? 3 : 1;
    let len = units;
    const r = rng.below(8);
    if (r === 0) len = 0;
    else if (r === 1) len = rng.range(units + 1, 255);
    o.push(type, len, ...rng.bytes(Math.max(0, Math.min(units, len) * 8 - 2)));
  }
  if (rng.oneIn(4)) {
    o.push(rng.pick([1, 2, 3, 5, 25, 31]), rng.range(1, 4), ...rng.bytes(rng.range(0, 7)));
  }
  return o;
}

/** An NDP message (RS, NS, NA, RA, redirect) or an ICMPv6 echo or error. */
export function icmpv6Frame(rng: Rng, c: Ctx): Uint8Array {
  const type = rng.pick([133, 133, 135, 135, 136, 134, 137, 128, 128, 129, 1, 2, 3, 4, 255]);
  let body: number[];
  if (type === 135 || type === 136) {
    const target = rng.pick([
      c.conf.ip6.gw,
      c.conf.ip6.addr,
      ip6("fe80::2"),
      ip6("ff02::1"),
      ip6("::"),
    ]);
    body = [type, 0, 0, 0, ...u32(rng.u32()), ...ip6Bytes(target), ...ndOptions(rng)];
  } else if (type === 137) {
    body = [type, 0, 0, 0, 0, 0, 0, 0, ...rng.bytes(32), ...ndOptions(rng)];
  } else if (type === 128 || type === 129) {
    body = [
      type,
      0,
      0,
      0,
      ...u16(rng.pick([0, 1, rng.u32() & 0xffff])),
      ...u16(rng.below(4)),
      ...rng.bytes(rng.range(0, 64)),
    ];
  } else {
    body = [type, 0, 0, 0, ...u32(0), ...ndOptions(rng)];
  }
  if (rng.oneIn(12)) body[1] = rng.range(1, 255);
  if (rng.oneIn(12)) body = body.slice(0, rng.below(body.length + 1));
  const hop = rng.oneIn(8) ? rng.pick([0, 1, 64, 254]) : 255;
  const dst = rng.oneIn(3)
    ? addr6(rng, c)
    : rng.pick([ip6("ff02::2"), ip6("ff02::1:ff00:1"), c.conf.ip6.gw]);
  const mac = Uint8Array.of(0x33, 0x33, 0, 0, 0, 2);
  const csum = body.length >= 4 ? 2 : -1;
  return ethernet(
    rng,
    c,
    0x86dd,
    ipv6(rng, src6(rng, c), dst, 58, Uint8Array.from(body), csum, hop),
    mac,
  );
}

// ---- the rest --------------------------------------------------------------------------------

/** An ARP frame: requests for the gateway, the guest itself, anything. */
export function arpFrame(rng: Rng, c: Ctx): Uint8Array {
  const sip = rng.oneIn(5) ? rng.pick([0, c.conf.ip4.gw, rng.u32()]) : c.conf.ip4.addr;
  const tip = rng.oneIn(4) ? rng.pick([c.conf.ip4.addr, sip, rng.u32(), 0]) : c.conf.ip4.gw;
  const a = [
    ...u16(rng.oneIn(10) ? rng.below(4) : 1),
    ...u16(rng.oneIn(10) ? 0x86dd : 0x0800),
    rng.oneIn(10) ? rng.below(10) : 6,
    rng.oneIn(10) ? rng.below(10) : 4,
    ...u16(rng.oneIn(8) ? rng.below(5) : 1),
    ...GUEST_MAC,
    ...u32(sip),
    0,
    0,
    0,
    0,
    0,
    0,
    ...u32(tip),
  ];
  let p: Uint8Array = Uint8Array.from(a);
  if (rng.oneIn(8)) p = p.slice(0, rng.below(p.length + 1));
  if (rng.oneIn(4)) p = concat(p, new Uint8Array(rng.range(1, 18)));
  return ethernet(rng, c, 0x0806, p, rng.oneIn(2) ? BCAST : undefined);
}

/** Any frame, before mutation. */
export function genFrame(rng: Rng, c: Ctx, host: HostPorts): Uint8Array {
  const r = rng.below(100);
  if (r < 8) return arpFrame(rng, c);
  if (r < 13) return dhcpFrame(rng, c);
  if (r < 18) return dhcpv6Frame(rng, c);
  if (r < 30) return icmpv6Frame(rng, c);
  if (r < 33) {
    return ethernet(
      rng,
      c,
      rng.pick([0x88cc, 0x8100, 0x0801, rng.u32() & 0xffff]),
      rng.bytes(rng.range(0, 80)),
    );
  }
  const v6 = rng.oneIn(2);
  const proto = rng.pick([6, 6, 6, 17, 17, 17, 1, rng.pick([0, 2, 41, 47, 50, 132, 255])]);
  let l4: Uint8Array;
  let csum = -1;
  if (proto === 6) {
    const seq = rng.oneIn(2) ? rng.u32() : rng.pick([0, 1, 0x7fffffff, 0xffffffff]);
    const h = {
      sport: port(rng, host, true),
      dport: port(rng, host, true),
      seq,
      ack: rng.u32(),
      flags: randomFlags(rng),
      wnd: rng.pick([0, 1, 512, 65535, rng.u32() & 0xffff]),
    };
    l4 = tcpSeg(rng, h, tcpOptions(rng), payload(rng));
    csum = 16;
  } else if (proto === 17) {
    const lenField = rng.oneIn(12) ? rng.pick([0, 7, 8, 9, 65535]) : undefined;
    l4 = udpDgram(
      rng.oneIn(8) ? rng.pick([0, 53, 67, 546]) : rng.range(1, 65535),
      port(rng, host, false),
      payload(rng),
      lenField,
    );
    csum = rng.oneIn(4) && !v6 ? -1 : 6;
  } else if (proto === 1 && !v6) {
    l4 = Uint8Array.from([
      rng.pick([8, 8, 0, 3, 11, 13, 255]),
      0,
      0,
      0,
      ...u16(rng.pick([0, 1, rng.u32() & 0xffff])),
      ...u16(rng.below(4)),
      ...rng.bytes(rng.range(0, 64)),
    ]);
    if (rng.oneIn(10)) l4 = l4.slice(0, rng.below(8));
    csum = l4.length >= 4 ? 2 : -1;
  } else if (proto === 1) {
    return icmpv6Frame(rng, c);
  } else {
    l4 = rng.bytes(rng.range(0, 64));
  }
  const pkt = v6
    ? ipv6(rng, src6(rng, c), addr6(rng, c), proto, l4, csum)
    : ipv4(rng, src4(rng, c), addr4(rng, c), proto, l4, csum);
  return ethernet(rng, c, v6 ? 0x86dd : 0x0800, pkt);
}

/** A frame, mutated about half of the time (headers first). */
export function genMutatedFrame(rng: Rng, c: Ctx, host: HostPorts): Uint8Array {
  const f = genFrame(rng, c, host);
  if (rng.oneIn(2)) return f;
  const cap = Math.min(65535, f.length + 2048);
  const buf = new Uint8Array(cap);
  buf.set(f);
  const len = mutate(rng, buf, f.length, cap, rng.range(1, 4), 14 + 60 + 60);
  return buf.slice(0, len);
}
