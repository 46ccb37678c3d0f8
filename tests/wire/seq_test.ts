// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../src/wire/seq.ts";

Deno.test("seq comparisons hold across the 2^32 wrap", () => {
  const before = 0xfffffff0, after = 0x00000010;
  assert.equal(seqLt(before, after), true);
  assert.equal(seqGt(after, before), true);
  assert.equal(seqLt(after, before), false);
  assert.equal(seqGe(before, after), false);
  assert.equal(seqDiff(after, before), 0x20);
  assert.equal(seqDiff(before, after), -0x20);
});

Deno.test("seq comparisons on equal numbers", () => {
  for (const a of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    assert.equal(seqLt(a, a), false);
    assert.equal(seqLe(a, a), true);
    assert.equal(seqGt(a, a), false);
    assert.equal(seqGe(a, a), true);
    assert.equal(seqDiff(a, a), 0);
  }
});

Deno.test("seq comparisons without wrap and at the half-space boundary", () => {
  assert.equal(seqLt(1000, 2000), true);
  assert.equal(seqLe(1000, 2000), true);
  assert.equal(seqGt(1000, 2000), false);
  assert.equal(seqLt(0, 0x7fffffff), true);
  // 2^31 apart is ambiguous; the sign of the 32-bit difference decides, as in C.
  assert.equal(seqDiff(0x80000000, 0), -0x80000000);
  assert.equal(seqLt(0x80000000, 0), true);
});

Deno.test("seqAdd() wraps to u32", () => {
  assert.equal(seqAdd(0xffffffff, 1), 0);
  assert.equal(seqAdd(0xfffffff0, 0x20), 0x10);
  assert.equal(seqAdd(5, -6), 0xffffffff);
});
