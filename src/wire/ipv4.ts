// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `ipv4.ts` - IPv4 header (RFC 791)
 *
 * Call {@linkcode validate} first: it returns the header length, and after it
 * succeeds {@linkcode totalLen} is the packet length (anything after it in the
 * frame is Ethernet padding). Addresses are u32 numbers. Offsets are absolute.
 *
 * @module
 */

import { ipv4HeaderChecksum } from "./checksum.ts";

/** Length of a header without options. */
export const MIN_HEADER_LEN = 20;
/** ICMP protocol number. */
export const PROTO_ICMP = 1;
/** TCP protocol number. */
export const PROTO_TCP = 6;
/** UDP protocol number. */
export const PROTO_UDP = 17;
/** ICMPv6 protocol (next header) number. */
export const PROTO_ICMPV6 = 58;
/** "Don't fragment" flag in {@linkcode flagsFrag}. */
export const FLAG_DF = 0x4000;
/** "More fragments" flag in {@linkcode flagsFrag}. */
export const FLAG_MF = 0x2000;

/**
 * Header length, or -1 unless: version 4, IHL >= 5, the header fits in `avail`,
 * and header length <= total length <= `avail`.
 */
export function validate(dv: DataView, off: number, avail: number): number {
  if (avail < MIN_HEADER_LEN) return -1;
  const b = dv.getUint8(off);
  if (b >> 4 !== 4) return -1;
  const hl = (b & 0xf) << 2;
  if (hl < MIN_HEADER_LEN || hl > avail) return -1;
  const tl = dv.getUint16(off + 2);
  if (tl < hl || tl > avail) return -1;
  return hl;
}

/** IP version (4). */
export function version(dv: DataView, off: number): number {
  return dv.getUint8(off) >> 4;
}

/** Header length in bytes (IHL * 4). */
export function hdrLen(dv: DataView, off: number): number {
  return (dv.getUint8(off) & 0xf) << 2;
}

/** Alias of {@linkcode hdrLen}. */
export const ihl = hdrLen;

/** Sets version 4 and the header length in bytes (a multiple of 4, 20 to 60). */
export function setHdrLen(dv: DataView, off: number, len: number): void {
  dv.setUint8(off, 0x40 | (len >> 2));
}

/** Type of service (DSCP and ECN). */
export function tos(dv: DataView, off: number): number {
  return dv.getUint8(off + 1);
}

/** Sets the type of service. */
export function setTos(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 1, v);
}

/** Total length of the packet, header included. */
export function totalLen(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/** Sets the total length. */
export function setTotalLen(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 2, v);
}

/** Identification. */
export function id(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/** Sets the identification. */
export function setId(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 4, v);
}

/** Flags (DF, MF) and fragment offset, as one 16-bit word. */
export function flagsFrag(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/** Sets flags and fragment offset. */
export function setFlagsFrag(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 6, v);
}

/** Whether the packet is a fragment: MF set or a non-zero fragment offset. */
export function isFragment(dv: DataView, off: number): boolean {
  return (dv.getUint16(off + 6) & 0x3fff) !== 0;
}

/** Time to live. */
export function ttl(dv: DataView, off: number): number {
  return dv.getUint8(off + 8);
}

/** Sets the time to live. */
export function setTtl(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 8, v);
}

/** Protocol of the payload. */
export function protocol(dv: DataView, off: number): number {
  return dv.getUint8(off + 9);
}

/** Sets the protocol. */
export function setProtocol(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 9, v);
}

/** Header checksum as stored. */
export function checksum(dv: DataView, off: number): number {
  return dv.getUint16(off + 10);
}

/** Sets the header checksum. */
export function setChecksum(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 10, v);
}

/** Recomputes and stores the header checksum over the header length in the header. */
export function fillChecksum(u8: Uint8Array, dv: DataView, off: number): void {
  dv.setUint16(off + 10, ipv4HeaderChecksum(u8, off, hdrLen(dv, off)));
}

/** Source address (u32). */
export function src(dv: DataView, off: number): number {
  return dv.getUint32(off + 12) >>> 0;
}

/** Sets the source address. */
export function setSrc(dv: DataView, off: number, v: number): void {
  dv.setUint32(off + 12, v >>> 0);
}

/** Destination address (u32). */
export function dst(dv: DataView, off: number): number {
  return dv.getUint32(off + 16) >>> 0;
}

/** Sets the destination address. */
export function setDst(dv: DataView, off: number, v: number): void {
  dv.setUint32(off + 16, v >>> 0);
}

/**
 * Writes a 20-byte header (no options, TOS 0, no flags) with its checksum; returns off + 20.
 *
 * @example
 * ```ts
 * const u8 = new Uint8Array(64), dv = new DataView(u8.buffer);
 * push(u8, dv, 0, 0x0a000001, 0x0a000002, PROTO_UDP, 8); // next: 20
 * ```
 */
export function push(
  u8: Uint8Array,
  dv: DataView,
  off: number,
  srcAddr: number,
  dstAddr: number,
  proto: number,
  payloadLen: number,
  ttlValue = 255,
  idValue = 0,
): number {
  dv.setUint8(off, 0x45);
  dv.setUint8(off + 1, 0);
  dv.setUint16(off + 2, MIN_HEADER_LEN + payloadLen);
  dv.setUint16(off + 4, idValue);
  dv.setUint16(off + 6, 0);
  dv.setUint8(off + 8, ttlValue);
  dv.setUint8(off + 9, proto);
  dv.setUint16(off + 10, 0);
  dv.setUint32(off + 12, srcAddr >>> 0);
  dv.setUint32(off + 16, dstAddr >>> 0);
  dv.setUint16(off + 10, ipv4HeaderChecksum(u8, off, MIN_HEADER_LEN));
  return off + MIN_HEADER_LEN;
}
