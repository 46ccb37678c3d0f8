// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `checksum.ts` - Internet checksum (RFC 1071), pseudo-headers, incremental update (RFC 1624)
 *
 * Theory of operation: a checksum is built from partial sums. {@linkcode sum16}
 * adds big-endian 16-bit words to an accumulator that is a plain (non-negative,
 * safe-integer) number; carries are not folded while summing, so partial sums of
 * separate regions, such as a pseudo-header from {@linkcode pseudo4} or
 * {@linkcode pseudo6} and the L4 payload, are simply passed on as the `acc`
 * argument. {@linkcode csumFold} folds the carries and complements, giving the
 * value to store in the header.
 *
 * The checksum field inside the region being summed must be zero when the sum is
 * taken: callers zero it first (the IPv4 header helper skips it by itself).
 *
 * {@linkcode sum32} is the same sum for large payloads, the hot spot of the
 * socket-to-guest paths: the one's-complement sum does not depend on byte order
 * (RFC 1071, section 2(B)), so summing the region as native 32-bit words
 * through a `Uint32Array` view and folding gives the big-endian 16-bit sum with
 * its two bytes swapped on a little-endian host.
 *
 * UDP transmits a computed checksum of 0 as 0xffff (RFC 768): use
 * {@linkcode udpCsumFinal} there. TCP and ICMP store the plain value.
 *
 * Nothing here allocates.
 *
 * @module
 */

import { HOST_LE } from "./sockaddr.ts";

/** Accumulators above this are folded once so that additions stay exact. */
const FOLD_AT = 0x100000000000; // 2^44
/** Regions shorter than this are summed by {@linkcode sum16}: the word loop does not pay off. */
const SUM32_MIN = 64;
/** 32-bit words summed between folds: 2^20 words of at most 2^32 stay far below 2^53. */
const SUM32_CHUNK = 0x100000;

/**
 * Adds the 16-bit big-endian words of `u8[off, off + len)` to `acc`; an odd trailing byte is padded with zero.
 *
 * @example
 * ```ts
 * const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03]);
 * sum16(b, 0, 4); // 0xf204
 * ```
 */
export function sum16(u8: Uint8Array, off: number, len: number, acc = 0): number {
  if (acc >= FOLD_AT) acc = fold32(acc);
  let s = 0;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) {
    s += (u8[i]! << 8) | u8[i + 1]!;
  }
  if (len & 1) s += u8[off + len - 1]! << 8;
  return acc + s;
}

/**
 * Same sum as {@linkcode sum16} (added to `acc`), read as native 32-bit words where it can:
 * `u32` views the same `ArrayBuffer` as `u8` (any byte offsets); a region that doesn't
 * start on a 4-byte boundary of the buffer, a short one, or a big-endian host takes
 * {@linkcode sum16}.
 */
export function sum32(
  u8: Uint8Array,
  u32: Uint32Array,
  off: number,
  len: number,
  acc = 0,
): number {
  const start = off + u8.byteOffset - u32.byteOffset;
  if (!HOST_LE || (start & 3) !== 0 || len < SUM32_MIN) return sum16(u8, off, len, acc);
  const words = len >>> 2;
  let i = start >>> 2;
  const end = i + words;
  let s = 0;
  while (i < end) {
    const stop = Math.min(end, i + SUM32_CHUNK);
    for (; i < stop; i++) s += u32[i]!;
    s = fold16(s);
  }
  // The folded little-endian word sum, bytes swapped, is the big-endian one.
  s = ((s & 0xff) << 8) | (s >>> 8);
  const rest = len & 3;
  if (rest) s = sum16(u8, off + (words << 2), rest, s);
  return acc + s;
}

/** Folds a non-negative sum (< 2^53) to 16 bits, keeping its one's-complement value. */
function fold16(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** Folds an accumulator to at most 32 bits, preserving its one's-complement value. */
function fold32(acc: number): number {
  return (acc % 0x10000) + Math.floor(acc / 0x10000);
}

/** Folds carries of an accumulator and returns the one's-complement 16-bit checksum to store. */
export function csumFold(acc: number): number {
  return ~fold16(acc) & 0xffff;
}

/** Like {@linkcode csumFold}, but maps 0 to 0xffff, as UDP requires (RFC 768). */
export function udpCsumFinal(acc: number): number {
  const c = csumFold(acc);
  return c === 0 ? 0xffff : c;
}

/** Partial sum of the IPv4 pseudo-header: source, destination (u32), protocol, L4 length. */
export function pseudo4(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}

/** Partial sum of the IPv6 pseudo-header; `srcOff`/`dstOff` point at 16-byte addresses in `u8`. */
export function pseudo6(
  u8: Uint8Array,
  srcOff: number,
  dstOff: number,
  proto: number,
  l4len: number,
): number {
  const a = sum16(u8, srcOff, 16, 0);
  return sum16(u8, dstOff, 16, a) + (l4len >>> 16) + (l4len & 0xffff) + proto;
}

/** IPv4 header checksum to store, computed as if the checksum field (bytes 10-11) were zero. */
export function ipv4HeaderChecksum(u8: Uint8Array, off: number, hdrLen: number): number {
  const a = sum16(u8, off, 10, 0);
  return csumFold(sum16(u8, off + 12, hdrLen - 12, a));
}

/**
 * Complete checksum to store for an L4 segment over IPv4 (TCP, UDP: see {@linkcode udpCsumFinal}).
 * The checksum field inside the L4 header must be zero when this is called.
 */
export function l4Checksum4(
  u8: Uint8Array,
  l4off: number,
  l4len: number,
  src: number,
  dst: number,
  proto: number,
): number {
  return csumFold(sum16(u8, l4off, l4len, pseudo4(src, dst, proto, l4len)));
}

/**
 * Complete checksum to store for an L4 segment over IPv6 (TCP, UDP, ICMPv6); addresses read at
 * `srcOff`/`dstOff`. The checksum field inside the L4 header must be zero when this is called.
 */
export function l4Checksum6(
  u8: Uint8Array,
  l4off: number,
  l4len: number,
  srcOff: number,
  dstOff: number,
  proto: number,
): number {
  return csumFold(sum16(u8, l4off, l4len, pseudo6(u8, srcOff, dstOff, proto, l4len)));
}

/** Checksum of a plain region with no pseudo-header (ICMPv4), with its checksum field zeroed. */
export function plainChecksum(u8: Uint8Array, off: number, len: number): number {
  return csumFold(sum16(u8, off, len, 0));
}

/** RFC 1624 (eqn. 3) update of a stored checksum when one 16-bit word changes from `oldWord` to `newWord`. */
export function csumUpdate16(csum: number, oldWord: number, newWord: number): number {
  let s = (~csum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** RFC 1624 update of a stored checksum when a 32-bit field (e.g. an IPv4 address) changes. */
export function csumUpdate32(csum: number, oldValue: number, newValue: number): number {
  let s = (~csum & 0xffff) + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) +
    (newValue >>> 16) + (newValue & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** UDP-over-IPv4 checksum to store (a computed 0 becomes 0xffff); the checksum field must be zero. */
export function udpChecksum4(
  u8: Uint8Array,
  l4off: number,
  l4len: number,
  src: number,
  dst: number,
): number {
  return udpCsumFinal(sum16(u8, l4off, l4len, pseudo4(src, dst, 17, l4len)));
}

/** UDP-over-IPv6 checksum to store (a computed 0 becomes 0xffff); the checksum field must be zero. */
export function udpChecksum6(
  u8: Uint8Array,
  l4off: number,
  l4len: number,
  srcOff: number,
  dstOff: number,
): number {
  return udpCsumFinal(sum16(u8, l4off, l4len, pseudo6(u8, srcOff, dstOff, 17, l4len)));
}
