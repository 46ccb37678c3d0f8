// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { sipHash24, sipHashHi, sipKeyFromBytes } from "../src/siphash.ts";

/**
 * SipHash-2-4 64-bit tags from the authors' reference `vectors.h` (vectors_sip64): key
 * 00 01 .. 0f, message of length i made of the bytes 00 01 .. (i - 1); each tag's 8 bytes
 * are the little-endian hash value.
 */
const VECTORS = [
  "310e0edd47db6f72",
  "fd67dc93c539f874",
  "5a4fa9d909806c0d",
  "2d7efbd796666785",
  "b7877127e09427cf",
  "8da699cd64557618",
  "cee3fe586e46c9cb",
  "37d1018bf50002ab",
  "6224939a79f5f593",
  "b0e4a90bdf82009e",
  "f3b9dd94c5bb5d7a",
  "a7ad6b22462fb3f4",
  "fbe50e86bc8f1e75",
  "903d84c02756ea14",
  "eef27a8e90ca23f7",
  "e545be4961ca29a1",
  "db9bc2577fcc2a3f",
  "9447be2cf5e99a69",
  "9cd38d96f0b3c14b",
  "bd6179a71dc96dbb",
  "98eea21af25cd6be",
  "c7673b2eb0cbf2d0",
  "883ea3e395675393",
  "c8ce5ccd8c030ca8",
  "94af49f6c650adb8",
  "eab8858ade92e1bc",
  "f315bb5bb835d817",
  "adcf6b0763612e2f",
  "a5c91da7acaa4dde",
  "716595876650a2a6",
  "28ef495c53a387ad",
  "42c341d8fa92d832",
  "ce7cf2722f512771",
  "e37859f94623f3a7",
  "381205bb1ab0e012",
  "ae97a10fd434e015",
  "b4a31508beff4d31",
  "81396229f0907902",
  "4d0cf49ee5d4dcca",
  "5c73336a76d8bf9a",
  "d0a704536ba93e0e",
  "925958fcd6420cad",
  "a915c29bc8067318",
  "952b79f3bc0aa6d4",
  "f21df2e41d4535f9",
  "87577519048f53a9",
  "10a56cf5dfcd9adb",
  "eb75095ccd986cd0",
  "51a9cb9ecba312e6",
  "96afadfc2ce666c7",
  "72fe52975a4364ee",
  "5a1645b276d592a1",
  "b274cb8ebf87870a",
  "6f9bb4203de7b381",
  "eaecb2a30b22a87f",
  "9924a43cc1315724",
  "bd838d3aafbf8db7",
  "0b1a2a3265d51aea",
  "135079a3231ce660",
  "932b2846e4d70666",
  "e1915f5cb1eca46c",
  "f325965ca16d629f",
  "575ff28e60381be5",
  "724506eb4c328a95",
];

/** The tag bytes of the last hash, as the vectors print them. */
function tagHex(lo: number): string {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, lo, true);
  dv.setUint32(4, sipHashHi(), true);
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

const KEY_BYTES = Uint8Array.from({ length: 16 }, (_, i) => i);
const MSG = Uint8Array.from({ length: 64 }, (_, i) => i);

Deno.test("sipHash24() matches all 64 reference vectors", () => {
  const key = new Uint32Array(4);
  sipKeyFromBytes(KEY_BYTES, 0, key);
  for (let len = 0; len < 64; len++) {
    assert.equal(tagHex(sipHash24(key, MSG, 0, len)), VECTORS[len], `length ${len}`);
  }
});

Deno.test("sipHash24() reads from an offset in a larger buffer", () => {
  const key = new Uint32Array(4);
  sipKeyFromBytes(KEY_BYTES, 0, key);
  const big = new Uint8Array(200).fill(0xaa);
  big.set(MSG.subarray(0, 36), 77);
  assert.equal(tagHex(sipHash24(key, big, 77, 36)), VECTORS[36]);
  assert.equal(tagHex(sipHash24(key, big, 77, 20)), VECTORS[20]);
});

Deno.test("sipKeyFromBytes() builds little-endian words from a key offset", () => {
  const buf = new Uint8Array(20);
  buf.set(KEY_BYTES, 3);
  const key = new Uint32Array(4);
  sipKeyFromBytes(buf, 3, key);
  assert.deepEqual([...key], [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
});

Deno.test("sipHash24() depends on every key bit and returns u32 halves", () => {
  const key = new Uint32Array([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
  const lo = sipHash24(key, MSG, 0, 20);
  const hi = sipHashHi();
  for (let bit = 0; bit < 128; bit++) {
    const k = key.slice();
    k[bit >> 5] = k[bit >> 5]! ^ (1 << (bit & 31));
    const lo2 = sipHash24(k, MSG, 0, 20);
    assert.ok(lo2 !== lo || sipHashHi() !== hi, `bit ${bit}`);
    assert.ok(lo2 >= 0 && lo2 <= 0xffffffff && Number.isInteger(lo2));
  }
});

Deno.test("sipHash24() allocates nothing once optimised (it runs on every frame's flow lookup)", () => {
  const key = new Uint32Array([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
  let acc = 0;
  // Heap growth over 50 hashes, five times: the median is robust to a garbage
  // collection falling inside one measurement. A u32 kept in a module-level
  // `let` costs a heap number per assignment: about 9 KB per 36-byte hash, so
  // every median of an allocating build is hundreds of kilobytes. V8 optimises
  // on a background thread, later on a loaded machine: warm up again and
  // measure again, up to ten times, before calling the growth real.
  let growth: number[] = [];
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 20_000; i++) acc ^= sipHash24(key, MSG, 0, 36);
    growth = [];
    for (let k = 0; k < 5; k++) {
      const before = Deno.memoryUsage().heapUsed;
      for (let i = 0; i < 50; i++) acc ^= sipHash24(key, MSG, 0, 36);
      growth.push(Deno.memoryUsage().heapUsed - before);
    }
    growth.sort((a, b) => a - b);
    if (growth[2]! < 32 * 1024) break;
  }
  assert.ok(growth[2]! < 32 * 1024, `heap grew by ${growth.join(", ")} bytes over 50 hashes`);
  assert.ok(acc >= 0);
});
