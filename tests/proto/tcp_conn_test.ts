// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { ConnTable } from "../../src/proto/tcp_conn.ts";

const KEY = Uint32Array.of(11, 22, 33, 44);

Deno.test("tcp_conn: lookup finds entries by address and ports, and nothing else", () => {
  const t = new ConnTable(KEY, 64);
  const a = t.alloc(0, 0, 0xffff, 0xc0000201, 40000, 80);
  const b = t.alloc(0x20010db8, 0, 0, 1, 40000, 80);
  assert.equal(t.lookup(0, 0, 0xffff, 0xc0000201, 40000, 80), a);
  assert.equal(t.lookup(0x20010db8, 0, 0, 1, 40000, 80), b);
  assert.equal(t.lookup(0, 0, 0xffff, 0xc0000201, 40000, 81), -1);
  assert.equal(t.lookup(0, 0, 0xffff, 0xc0000202, 40000, 80), -1);
});

Deno.test("tcp_conn: freeing compacts the table and keeps every other entry reachable", () => {
  const t = new ConnTable(KEY, 1000);
  for (let i = 0; i < 1000; i++) {
    const k = t.alloc(0, 0, 0xffff, 0x0a000000 + (i % 7), 1000 + i, 80);
    t.sock[k] = 5000 + i;
  }
  assert.equal(t.alloc(0, 0, 0, 1, 1, 1), -1, "full");
  // Free every third entry, from the front: the last entry moves into each hole.
  for (let i = 0; i < 1000; i += 3) {
    const k = t.lookup(0, 0, 0xffff, 0x0a000000 + (i % 7), 1000 + i, 80);
    assert.ok(k >= 0);
    const moved = t.free(k);
    if (moved >= 0) assert.equal(moved, t.count, "the moved entry was the last one");
  }
  assert.equal(t.count, 1000 - 334);
  for (let i = 0; i < 1000; i++) {
    const k = t.lookup(0, 0, 0xffff, 0x0a000000 + (i % 7), 1000 + i, 80);
    if (i % 3 === 0) assert.equal(k, -1, `freed ${i}`);
    else {
      assert.ok(k >= 0 && k < t.count, `kept ${i}`);
      assert.equal(t.sock[k], 5000 + i, "fields moved with the entry");
    }
  }
});
