// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp_csum.ts` - word-at-a-time Internet checksum over the arena
 *
 * {@linkcode sum16} in `wire/checksum.ts` reads two bytes per step, which is
 * the cost that dominates large UDP datagrams. The one's-complement sum does
 * not depend on byte order (RFC 1071, section 2(B)): summing the region as
 * native 32-bit words and folding gives the big-endian 16-bit sum with its two
 * bytes swapped on a little-endian host. {@linkcode sumWords} does that over a
 * `Uint32Array` view of the arena and returns a partial sum that can be added
 * to the others of `checksum.ts` (pseudo-headers) before `csumFold`.
 *
 * The region must start at a multiple of four; its length may be anything.
 * Nothing here allocates.
 *
 * @module
 */

import { HOST_LE } from "../wire/sockaddr.ts";

/** Folds a non-negative sum (< 2^53) to 16 bits, keeping its one's-complement value. */
function fold16(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/**
 * Partial checksum (big-endian word sum, folded to 16 bits) of `u8[off, off + len)`;
 * `u32` is a native-endian view of the same buffer and `off` must be a multiple of 4.
 */
export function sumWords(u8: Uint8Array, u32: Uint32Array, off: number, len: number): number {
  let s = 0;
  const words = len >>> 2;
  const base = off >>> 2;
  // 2^21 words of at most 2^32 stay below 2^53: fold every 2^20 words to be safe.
  let i = 0;
  while (i < words) {
    const end = Math.min(words, i + 0x100000);
    for (; i < end; i++) s += u32[base + i]!;
    s = fold16(s);
  }
  s = fold16(s);
  if (HOST_LE) s = ((s & 0xff) << 8) | (s >>> 8);
  const tail = off + (words << 2);
  const rest = len & 3;
  if (rest >= 2) s += (u8[tail]! << 8) | u8[tail + 1]!;
  if (rest & 1) s += u8[tail + rest - 1]! << 8;
  return s;
}
