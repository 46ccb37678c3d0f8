// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { MAX_PACKET_LEN, Pool } from "../../src/tap/pool.ts";

const BUF = 1 << 20;

Deno.test("Pool.add() queues packets and get() returns their absolute offsets", () => {
  const p = new Pool(BUF, 4);
  assert.equal(p.add(100, 60), true);
  assert.equal(p.add(4096, 1514), true);
  assert.equal(p.count, 2);
  assert.equal(p.get(0, 0, 60), 100);
  assert.equal(p.get(0, 14, 20), 114);
  assert.equal(p.get(1, 1500, 14), 5596);
  assert.equal(p.lenOf(1), 1514);
  assert.equal(p.offsetOf(1), 4096);
  assert.equal(p.left(1, 14, 20), 1480);
});

Deno.test("Pool.add() refuses a full pool, and accepts again after flush()", () => {
  const p = new Pool(BUF, 2);
  assert.equal(p.add(0, 1), true);
  assert.equal(p.add(1, 1), true);
  assert.equal(p.add(2, 1), false);
  assert.equal(p.count, 2);
  p.flush();
  assert.equal(p.count, 0);
  assert.equal(p.get(0, 0, 1), -1, "flushed packets are gone");
  assert.equal(p.add(2, 1), true);
  assert.equal(p.get(0, 0, 1), 2);
});

Deno.test("Pool.add() checks the buffer end: exact end allowed, one past refused", () => {
  const p = new Pool(1000, 8);
  assert.equal(p.add(900, 100), true);
  assert.equal(p.add(901, 100), false);
  assert.equal(p.add(1000, 0), true);
  assert.equal(p.add(1001, 0), false);
  assert.equal(p.count, 2);
});

Deno.test("Pool.add() checks the length limit: 65535 allowed, 65536 refused", () => {
  const p = new Pool(BUF, 8);
  assert.equal(p.add(0, MAX_PACKET_LEN), true);
  assert.equal(p.add(0, MAX_PACKET_LEN + 1), false);
  assert.equal(p.lenOf(0), 65535);
});

Deno.test("Pool.add() refuses negative, NaN, fractional and infinite inputs", () => {
  const p = new Pool(BUF, 8);
  for (
    const [off, len] of [[-1, 10], [0, -1], [NaN, 1], [0, NaN], [1.5, 1], [0, 0.5], [Infinity, 1], [
      0,
      Infinity,
    ]]
  ) {
    assert.equal(p.add(off!, len!), false, `${off}, ${len}`);
  }
  assert.equal(p.count, 0);
});

Deno.test("Pool.add() refuses offsets beyond 2^32 even in a larger buffer", () => {
  const p = new Pool(2 ** 33, 2);
  assert.equal(p.add(2 ** 32, 1), false);
  assert.equal(p.add(2 ** 32 - 1, 1), true);
});

Deno.test("Pool.get() checks the range inside the packet: exact end allowed, one past refused", () => {
  const p = new Pool(BUF, 2);
  p.add(100, 60);
  assert.equal(p.get(0, 0, 60), 100);
  assert.equal(p.get(0, 60, 0), 160);
  assert.equal(p.get(0, 59, 1), 159);
  assert.equal(p.get(0, 0, 61), -1);
  assert.equal(p.get(0, 60, 1), -1);
  assert.equal(p.get(0, 61, 0), -1);
  assert.equal(p.left(0, 40, 20), 0);
  assert.equal(p.left(0, 40, 21), -1);
});

Deno.test("Pool.get() refuses index == count, indices past capacity and bad numbers", () => {
  const p = new Pool(BUF, 2);
  p.add(0, 10);
  assert.equal(p.get(1, 0, 1), -1, "index == count");
  assert.equal(p.get(2, 0, 1), -1, "index == capacity");
  for (const i of [-1, NaN, 0.5, Infinity]) assert.equal(p.get(i, 0, 1), -1, `index ${i}`);
  for (const o of [-1, NaN, 0.5]) assert.equal(p.get(0, o, 1), -1, `offset ${o}`);
  for (const l of [-1, NaN, 0.5, 65536]) assert.equal(p.get(0, 0, l), -1, `length ${l}`);
  assert.equal(p.lenOf(1), -1);
  assert.equal(p.lenOf(-1), -1);
  assert.equal(p.offsetOf(1), -1);
  assert.equal(p.left(1, 0, 0), -1);
});

Deno.test("Pool.get() reaches the last byte of a 65535-byte packet and no further", () => {
  const p = new Pool(BUF, 1);
  p.add(0, 65535);
  assert.equal(p.get(0, 65534, 1), 65534);
  assert.equal(p.get(0, 65535, 1), -1);
});

Deno.test("Pool.get() re-checks corrupted descriptors against the buffer", () => {
  const p = new Pool(1000, 4);
  p.add(900, 100);
  p.add(0, 10);
  p.desc[1] = 200; // length now runs past the buffer end
  assert.equal(p.get(0, 0, 100), 1000 - 100, "still inside the buffer");
  assert.equal(p.get(0, 0, 101), -1, "past the buffer end");
  assert.equal(p.lenOf(0), -1);
  assert.equal(p.offsetOf(0), -1);
  p.desc[2] = 0xffffffff; // offset far outside
  assert.equal(p.get(1, 0, 1), -1);
  assert.equal(p.get(1, 0, 0), -1);
  p.desc[3] = 70000; // longer than any packet
  p.desc[2] = 0;
  assert.equal(p.get(1, 0, 1), -1);
  assert.equal(p.lenOf(1), -1);
});

Deno.test("Pool constructor rejects impossible sizes", () => {
  assert.throws(() => new Pool(-1, 1), RangeError);
  assert.throws(() => new Pool(10, 1.5), RangeError);
  const empty = new Pool(10, 0);
  assert.equal(empty.add(0, 1), false);
});

Deno.test("Pools over parts of one descriptor array keep to their own part", () => {
  const words = new Uint32Array(2 * (2 + 3));
  const a = new Pool(BUF, 2, words.subarray(0, 4));
  const b = new Pool(BUF, 3, words.subarray(4, 10));
  assert.ok(a.add(10, 20) && a.add(30, 40));
  assert.equal(a.add(50, 60), false, "a is full at its capacity, not at the array's");
  assert.ok(b.add(100, 1) && b.add(200, 2) && b.add(300, 3));
  assert.deepEqual([a.offsetOf(0), a.lenOf(1)], [10, 40], "b's packets left a's alone");
  assert.deepEqual([b.offsetOf(0), b.offsetOf(2), b.lenOf(2)], [100, 300, 3]);
  assert.deepEqual([...words], [10, 20, 30, 40, 100, 1, 200, 2, 300, 3]);
  assert.throws(() => new Pool(BUF, 3, words.subarray(0, 4)), RangeError, "too few words");
  assert.throws(() => new Pool(BUF, 1, words.subarray(0, 4)), RangeError, "more than its own");
});
