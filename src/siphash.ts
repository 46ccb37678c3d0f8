// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `siphash.ts` - SipHash-2-4 with 64-bit output (Aumasson and Bernstein, 2012)
 *
 * Theory of operation: the 64-bit state words are kept as pairs of u32 halves
 * in a module-level `Uint32Array`, and each round works on them in local
 * variables, so a hash costs no allocation and no BigInt. (Plain module-level
 * `let` variables would not do: V8 keeps a number of 2^30 or more stored in
 * one as a heap object, so every assignment of a u32 allocated, about 9 KB of
 * garbage per hash of a flow key, on every frame.) The key is a
 * `Uint32Array(4)` holding the 16 key bytes as little-endian 32-bit words
 * (`key[0]` = bytes 0-3, ..., as `new Uint32Array(bytes.buffer)` gives on a
 * little-endian machine; {@linkcode sipKeyFromBytes} converts portably).
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

/** v0..v3 as high and low halves: v0h v0l v1h v1l v2h v2l v3h v3l, then the last hash's high half. */
const st = new Uint32Array(9);
const V0H = 0, V0L = 1, V1H = 2, V1L = 3, V2H = 4, V2L = 5, V3H = 6, V3L = 7, LAST_HI = 8;

/** `n` SipRounds over the state in {@linkcode st}. */
function sipRounds(n: number): void {
  let v0h = st[V0H]!, v0l = st[V0L]!, v1h = st[V1H]!, v1l = st[V1L]!;
  let v2h = st[V2H]!, v2l = st[V2L]!, v3h = st[V3H]!, v3l = st[V3L]!;
  let t = 0;
  for (let r = 0; r < n; r++) {
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
  st[V0H] = v0h;
  st[V0L] = v0l;
  st[V1H] = v1h;
  st[V1L] = v1l;
  st[V2H] = v2h;
  st[V2L] = v2l;
  st[V3H] = v3h;
  st[V3L] = v3l;
}

/** Little-endian u32 from 4 bytes at `p`. */
function le32(u8: Uint8Array, p: number): number {
  return (u8[p]! | (u8[p + 1]! << 8) | (u8[p + 2]! << 16) | (u8[p + 3]! << 24)) >>> 0;
}

/** Absorbs one 64-bit message word (halves `mh`, `ml`). */
function compress(mh: number, ml: number): void {
  st[V3H] = st[V3H]! ^ mh;
  st[V3L] = st[V3L]! ^ ml;
  sipRounds(2);
  st[V0H] = st[V0H]! ^ mh;
  st[V0L] = st[V0L]! ^ ml;
}

/**
 * SipHash-2-4 of `u8[off, off + len)` under `key`; returns the low 32 bits of the 64-bit hash
 * (u32), the high 32 bits are then available from {@linkcode sipHashHi}.
 */
export function sipHash24(key: Uint32Array, u8: Uint8Array, off: number, len: number): number {
  const k0l = key[0]! >>> 0, k0h = key[1]! >>> 0, k1l = key[2]! >>> 0, k1h = key[3]! >>> 0;
  // "somepseudorandomlygeneratedbytes"
  st[V0H] = k0h ^ 0x736f6d65;
  st[V0L] = k0l ^ 0x70736575;
  st[V1H] = k1h ^ 0x646f7261;
  st[V1L] = k1l ^ 0x6e646f6d;
  st[V2H] = k0h ^ 0x6c796765;
  st[V2L] = k0l ^ 0x6e657261;
  st[V3H] = k1h ^ 0x74656462;
  st[V3L] = k1l ^ 0x79746573;

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

  st[V2L] = st[V2L]! ^ 0xff;
  sipRounds(4);
  st[LAST_HI] = st[V0H]! ^ st[V1H]! ^ st[V2H]! ^ st[V3H]!;
  return (st[V0L]! ^ st[V1L]! ^ st[V2L]! ^ st[V3L]!) >>> 0;
}

/** High 32 bits of the hash computed by the last {@linkcode sipHash24} call. */
export function sipHashHi(): number {
  return st[LAST_HI]!;
}

/** Fills `out` (a `Uint32Array(4)`) with the key words for 16 key bytes at `off` in `bytes`. */
export function sipKeyFromBytes(bytes: Uint8Array, off: number, out: Uint32Array): void {
  for (let i = 0; i < 4; i++) out[i] = le32(bytes, off + 4 * i);
}
