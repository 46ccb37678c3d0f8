// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { Arena } from "../../src/tap/arena.ts";

Deno.test("Arena views cover the whole buffer the caller passed", () => {
  const buf = new ArrayBuffer(4096);
  const a = new Arena(buf);
  assert.equal(a.size, 4096);
  assert.equal(a.u8.buffer, buf);
  assert.equal(a.dv.buffer, buf);
  assert.equal(a.u8.length, 4096);
  a.dv.setUint16(10, 0xabcd);
  assert.equal(a.u8[10], 0xab);
});

Deno.test("Arena.alloc() hands out aligned, non-overlapping regions", () => {
  const a = new Arena(new ArrayBuffer(1024));
  assert.equal(a.alloc(10), 0);
  assert.equal(a.alloc(10), 64);
  assert.equal(a.alloc(1, 1), 74);
  assert.equal(a.alloc(8, 8), 80);
  assert.equal(a.alloc(0, 256), 256);
  assert.equal(a.alloc(100, 4), 256);
  assert.equal(a.free, 1024 - 356);
});

Deno.test("Arena.alloc() allows filling the arena exactly, then throws RangeError", () => {
  const a = new Arena(new ArrayBuffer(256));
  assert.equal(a.alloc(192), 0);
  assert.equal(a.alloc(64), 192);
  assert.equal(a.free, 0);
  assert.throws(() => a.alloc(1), RangeError);
  const b = new Arena(new ArrayBuffer(256));
  b.alloc(1);
  assert.throws(() => b.alloc(193), /Cannot allocate 193 bytes/);
  assert.equal(b.alloc(192), 64, "a refused allocation takes nothing");
});

Deno.test("Arena.alloc() rejects bad lengths and alignments", () => {
  const a = new Arena(new ArrayBuffer(256));
  for (const len of [-1, 1.5, NaN, Infinity]) assert.throws(() => a.alloc(len), RangeError);
  for (const align of [0, 3, 48, -64, 1.5]) assert.throws(() => a.alloc(8, align), RangeError);
  assert.equal(a.alloc(8), 0);
});
