// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `ipv6.ts` - IPv6 header (RFC 8200), extension header walk, address tests
 *
 * Call {@linkcode validate} first; getters assume 40 bytes are present.
 * Addresses are handled as four big-endian u32 words (word 0 holds the first
 * four bytes). Offsets passed as `off` are absolute header offsets; `addrOff`
 * arguments are absolute offsets of a 16-byte address (`off + SRC_OFF`).
 *
 * {@linkcode l4Offset} walks extension headers and leaves the final protocol in
 * a module-level scratch read back with {@linkcode l4Proto}, so that it needs
 * no allocation; read it right after the call. {@linkcode frameL4} does the
 * whole walk for a handler of one protocol, from the Ethernet frame.
 *
 * @module
 */

import * as eth from "./ethernet.ts";

/** Length of the fixed header. */
export const HEADER_LEN = 40;
/** Offset of the source address, relative to the header. */
export const SRC_OFF = 8;
/** Offset of the destination address, relative to the header. */
export const DST_OFF = 24;

/** Next-header value for "no next header". */
export const NH_NONE = 59;
/** Next-header value of the fragment header. */
export const NH_FRAGMENT = 44;

/** Returns 40, or -1 unless version is 6 and 40 + payload length <= `avail`. */
export function validate(dv: DataView, off: number, avail: number): number {
  if (avail < HEADER_LEN) return -1;
  if (dv.getUint8(off) >> 4 !== 6) return -1;
  if (HEADER_LEN + dv.getUint16(off + 4) > avail) return -1;
  return HEADER_LEN;
}

/** IP version (6). */
export function version(dv: DataView, off: number): number {
  return dv.getUint8(off) >> 4;
}

/** Traffic class (8 bits). */
export function trafficClass(dv: DataView, off: number): number {
  return (dv.getUint32(off) >>> 20) & 0xff;
}

/** Flow label (20 bits). */
export function flowLabel(dv: DataView, off: number): number {
  return dv.getUint32(off) & 0xfffff;
}

/** Sets version 6, traffic class and flow label. */
export function setVersionClassFlow(dv: DataView, off: number, tc: number, flow: number): void {
  dv.setUint32(off, (0x60000000 | ((tc & 0xff) << 20) | (flow & 0xfffff)) >>> 0);
}

/** Payload length (everything after the fixed header). */
export function payloadLen(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/** Sets the payload length. */
export function setPayloadLen(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 4, v);
}

/** Next header of the fixed header. */
export function nextHeader(dv: DataView, off: number): number {
  return dv.getUint8(off + 6);
}

/** Sets the next header. */
export function setNextHeader(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 6, v);
}

/** Hop limit. */
export function hopLimit(dv: DataView, off: number): number {
  return dv.getUint8(off + 7);
}

/** Sets the hop limit. */
export function setHopLimit(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 7, v);
}

/** Word `i` (0-3) of the source address, as u32. */
export function srcWord(dv: DataView, off: number, i: number): number {
  return dv.getUint32(off + SRC_OFF + 4 * i) >>> 0;
}

/** Word `i` (0-3) of the destination address, as u32. */
export function dstWord(dv: DataView, off: number, i: number): number {
  return dv.getUint32(off + DST_OFF + 4 * i) >>> 0;
}

/** Reads the source address into `out[0..3]`. */
export function readSrc(dv: DataView, off: number, out: Uint32Array): void {
  readAddr(dv, off + SRC_OFF, out);
}

/** Reads the destination address into `out[0..3]`. */
export function readDst(dv: DataView, off: number, out: Uint32Array): void {
  readAddr(dv, off + DST_OFF, out);
}

/** Writes the source address from `words[0..3]`. */
export function writeSrc(dv: DataView, off: number, words: Uint32Array): void {
  writeAddr(dv, off + SRC_OFF, words);
}

/** Writes the destination address from `words[0..3]`. */
export function writeDst(dv: DataView, off: number, words: Uint32Array): void {
  writeAddr(dv, off + DST_OFF, words);
}

/** Reads the 16-byte address at `addrOff` into `out[0..3]`. */
export function readAddr(dv: DataView, addrOff: number, out: Uint32Array): void {
  out[0] = dv.getUint32(addrOff);
  out[1] = dv.getUint32(addrOff + 4);
  out[2] = dv.getUint32(addrOff + 8);
  out[3] = dv.getUint32(addrOff + 12);
}

/** Writes `words[0..3]` as a 16-byte address at `addrOff`. */
export function writeAddr(dv: DataView, addrOff: number, words: Uint32Array): void {
  dv.setUint32(addrOff, words[0]!);
  dv.setUint32(addrOff + 4, words[1]!);
  dv.setUint32(addrOff + 8, words[2]!);
  dv.setUint32(addrOff + 12, words[3]!);
}

/** Whether the address at `addrOff` is link-local unicast (fe80::/10). */
export function addrIsLinkLocal(dv: DataView, addrOff: number): boolean {
  return (dv.getUint16(addrOff) & 0xffc0) === 0xfe80;
}

/** Whether the address at `addrOff` is multicast (ff00::/8). */
export function addrIsMulticast(dv: DataView, addrOff: number): boolean {
  return dv.getUint8(addrOff) === 0xff;
}

/** Whether the address at `addrOff` is the unspecified address (::). */
export function addrIsUnspecified(dv: DataView, addrOff: number): boolean {
  return dv.getUint32(addrOff) === 0 && dv.getUint32(addrOff + 4) === 0 &&
    dv.getUint32(addrOff + 8) === 0 && dv.getUint32(addrOff + 12) === 0;
}

/** Whether the address at `addrOff` equals `words[0..3]`. */
export function addrEqualsWords(dv: DataView, addrOff: number, words: Uint32Array): boolean {
  return dv.getUint32(addrOff) === words[0] && dv.getUint32(addrOff + 4) === words[1] &&
    dv.getUint32(addrOff + 8) === words[2] && dv.getUint32(addrOff + 12) === words[3];
}

/**
 * Writes a fixed header (traffic class 0) with addresses from `srcWords`/`dstWords`; returns off + 40.
 *
 * @example
 * ```ts
 * const u8 = new Uint8Array(64), dv = new DataView(u8.buffer);
 * const a = new Uint32Array([0xfe800000, 0, 0, 1]);
 * push(u8, dv, 0, a, a, 58, 8); // next: 40
 * ```
 */
export function push(
  _u8: Uint8Array,
  dv: DataView,
  off: number,
  srcWords: Uint32Array,
  dstWords: Uint32Array,
  nh: number,
  payloadLength: number,
  hopLimitValue = 255,
  flow = 0,
): number {
  dv.setUint32(off, (0x60000000 | (flow & 0xfffff)) >>> 0);
  dv.setUint16(off + 4, payloadLength);
  dv.setUint8(off + 6, nh);
  dv.setUint8(off + 7, hopLimitValue);
  writeAddr(dv, off + SRC_OFF, srcWords);
  writeAddr(dv, off + DST_OFF, dstWords);
  return off + HEADER_LEN;
}

let lastProto = -1;

/** Final protocol found by the last {@linkcode l4Offset} call (-1 if it failed). */
export function l4Proto(): number {
  return lastProto;
}

/**
 * Absolute offset of the L4 header in the Ethernet frame of `len` bytes at
 * `l2off` if it carries a valid IPv6 packet ({@linkcode validate}) whose
 * extension headers ({@linkcode l4Offset}) lead to protocol `proto`, else -1.
 * The packet ends at {@linkcode packetEnd}.
 */
export function frameL4(dv: DataView, l2off: number, len: number, proto: number): number {
  if (len < eth.HEADER_LEN + HEADER_LEN) return -1;
  if (eth.etherType(dv, l2off) !== eth.ETH_P_IPV6) return -1;
  const l3 = l2off + eth.HEADER_LEN;
  const avail = len - eth.HEADER_LEN;
  if (validate(dv, l3, avail) < 0) return -1;
  const l4 = l4Offset(dv, l3, avail);
  return l4 < 0 || lastProto !== proto ? -1 : l4;
}

/** End of the packet at `off`, by its payload length (after {@linkcode validate}). */
export function packetEnd(dv: DataView, off: number): number {
  return off + HEADER_LEN + payloadLen(dv, off);
}

/** Whether `nh` is an extension header that {@linkcode l4Offset} skips by its length field. */
function isSkippable(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 51 || nh === 60 || nh === 135 || nh === 139 ||
    nh === 140 || nh === 253 || nh === 254;
}

/**
 * Absolute offset of the L4 header of the packet at `off`, skipping extension headers
 * (hop-by-hop, routing, AH, destination options, mobility, HIP, shim6, experimental), or -1
 * if a header is truncated, the packet is a fragment (44), ends in "no next header" (59), or
 * carries ESP (50, whose payload is opaque). The walk ends at 40 + payload length or `avail`,
 * whichever is smaller; the protocol is left for {@linkcode l4Proto}.
 */
export function l4Offset(dv: DataView, off: number, avail: number): number {
  lastProto = -1;
  if (avail < HEADER_LEN) return -1;
  let end = HEADER_LEN + dv.getUint16(off + 4);
  if (end > avail) end = avail;
  end += off;
  let nh = dv.getUint8(off + 6);
  let p = off + HEADER_LEN;
  // Each header is at least 8 bytes long, so the walk always advances and ends.
  while (isSkippable(nh)) {
    if (p + 2 > end) return -1;
    const len = nh === 51 ? (dv.getUint8(p + 1) + 2) << 2 : (dv.getUint8(p + 1) + 1) << 3;
    if (p + len > end) return -1;
    nh = dv.getUint8(p);
    p += len;
  }
  if (nh === NH_FRAGMENT || nh === NH_NONE || nh === 50) return -1;
  lastProto = nh;
  return p;
}
