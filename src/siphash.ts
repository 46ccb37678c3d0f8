// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `siphash.ts` - SipHash-2-4 with 64-bit output (Aumasson and Bernstein, 2012)
 *
 * Theory of operation: the 64-bit state words are kept as pairs of u32 halves
 * in module-level variables, so a hash costs no allocation and no BigInt. The
 * key is a `Uint32Array(4)` holding the 16 key bytes as little-endian 32-bit
 * words (`key[0]` = bytes 0-3, ..., as `new Uint32Array(bytes.buffer)` gives
 * on a little-endian machine; {@linkcode sipKeyFromBytes} converts portably).
 * {@linkcode sipHash24} returns the low 32 bits of the 64-bit hash and leaves
 * the high 32 bits for {@linkcode sipHashHi}, to be read right after the call.
 * The 64-bit hash, as a little-endian byte string, is the tag of the reference
 * implementation's test vectors.
 *
 * Used with the 128-bit secret for flow hash table keys and initial sequence
 * numbers (RFC 6528).
 *
 * @module
 */

let v0h = 0, v0l = 0, v1h = 0, v1l = 0, v2h = 0, v2l = 0, v3h = 0, v3l = 0;
let lastHi = 0;

/** One SipRound over the module-level state. */
function sipRound(): void {
  let t = 0;
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  t = (v0l + v1l) >>> 0;
  v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0;
  v0l = t;
  t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = t;
  v1l = (v1l ^ v0l) >>> 0;
  v1h = (v1h ^ v0h) >>> 0;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  t = (v2l + v3l) >>> 0;
  v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0;
  v2l = t;
  t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = t;
  v3l = (v3l ^ v2l) >>> 0;
  v3h = (v3h ^ v2h) >>> 0;
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  t = (v0l + v3l) >>> 0;
  v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0;
  v0l = t;
  t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = t;
  v3l = (v3l ^ v0l) >>> 0;
  v3h = (v3h ^ v0h) >>> 0;
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  t = (v2l + v1l) >>> 0;
  v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0;
  v2l = t;
  t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = t;
  v1l = (v1l ^ v2l) >>> 0;
  v1h = (v1h ^ v2h) >>> 0;
  t = v2h;
  v2h = v2l;
  v2l = t;
}

/** Little-endian u32 from 4 bytes at `p`. */
function le32(u8: Uint8Array, p: number): number {
  return (u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24)) >>> 0;
}

/** Absorbs one 64-bit message word (halves `mh`, `ml`). */
function compress(mh: number, ml: number): void {
  v3h = (v3h ^ mh) >>> 0;
  v3l = (v3l ^ ml) >>> 0;
  sipRound();
  sipRound();
  v0h = (v0h ^ mh) >>> 0;
  v0l = (v0l ^ ml) >>> 0;
}

/**
 * SipHash-2-4 of `u8[off, off + len)` under `key`; returns the low 32 bits of the 64-bit hash
 * (u32), the high 32 bits are then available from {@linkcode sipHashHi}.
 */
export function sipHash24(key: Uint32Array, u8: Uint8Array, off: number, len: number): number {
  const k0l = key[0]! >>> 0, k0h = key[1]! >>> 0, k1l = key[2]! >>> 0, k1h = key[3]! >>> 0;
  // "somepseudorandomlygeneratedbytes"
  v0h = (k0h ^ 0x736f6d65) >>> 0;
  v0l = (k0l ^ 0x70736575) >>> 0;
  v1h = (k1h ^ 0x646f7261) >>> 0;
  v1l = (k1l ^ 0x6e646f6d) >>> 0;
  v2h = (k0h ^ 0x6c796765) >>> 0;
  v2l = (k0l ^ 0x6e657261) >>> 0;
  v3h = (k1h ^ 0x74656462) >>> 0;
  v3l = (k1l ^ 0x79746573) >>> 0;

  const end = off + (len & ~7);
  let p = off;
  for (; p < end; p += 8) compress(le32(u8, p + 4), le32(u8, p));

  // Last block: remaining bytes, length mod 256 in the top byte.
  let ml = 0, mh = (len & 0xff) << 24;
  const rest = len & 7;
  for (let i = 0; i < rest; i++) {
    const b = u8[p + i]!;
    if (i < 4) ml |= b << (8 * i);
    else mh |= b << (8 * (i - 4));
  }
  compress(mh >>> 0, ml >>> 0);

  v2l = (v2l ^ 0xff) >>> 0;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  lastHi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/** High 32 bits of the hash computed by the last {@linkcode sipHash24} call. */
export function sipHashHi(): number {
  return lastHi;
}

/** Fills `out` (a `Uint32Array(4)`) with the key words for 16 key bytes at `off` in `bytes`. */
export function sipKeyFromBytes(bytes: Uint8Array, off: number, out: Uint32Array): void {
  for (let i = 0; i < 4; i++) out[i] = le32(bytes, off + 4 * i);
}
