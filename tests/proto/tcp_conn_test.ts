// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { ConnTable } from "../../src/proto/tcp_conn.ts";
import { FLOW_PING4, FlowTable } from "../../src/flow/flow.ts";

const KEY = Uint32Array.of(11, 22, 33, 44);
const G4 = Uint32Array.of(0, 0, 0xffff, 0xc0000210);
const G6 = Uint32Array.of(0x20010db8, 0, 0, 0x10);
/** A remote address from its four words. */
const R = (...w: number[]): Uint32Array => Uint32Array.from(w);

Deno.test("tcp_conn: lookup finds entries by guest, remote address and ports, nothing else", () => {
  const t = new ConnTable(KEY, 64);
  const a = t.key(G4, 0, R(0, 0, 0xffff, 0xc0000201), 0, 40000, 80).alloc();
  const b = t.key(G6, 0, R(0x20010db8, 0, 0, 1), 0, 40000, 80).alloc();
  assert.equal(t.key(G4, 0, R(0, 0, 0xffff, 0xc0000201), 0, 40000, 80).lookup(), a);
  assert.equal(t.key(G6, 0, R(0x20010db8, 0, 0, 1), 0, 40000, 80).lookup(), b);
  assert.equal(t.key(G4, 0, R(0, 0, 0xffff, 0xc0000201), 0, 40000, 81).lookup(), -1);
  assert.equal(t.key(G4, 0, R(0, 0, 0xffff, 0xc0000202), 0, 40000, 80).lookup(), -1);
  assert.equal(
    t.key(G6, 0, R(0, 0, 0xffff, 0xc0000201), 0, 40000, 80).lookup(),
    -1,
    "other guest address",
  );
  assert.deepEqual([...t.guest.subarray(a * 4, a * 4 + 4)], [...G4]);
});

Deno.test("tcp_conn: indices stay put when others are freed; full table refuses", () => {
  const t = new ConnTable(KEY, 1000);
  const idx: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const k = t.key(G4, 0, R(0, 0, 0xffff, 0x0a000000 + (i % 7)), 0, 1000 + i, 80).alloc();
    t.sock[k] = 5000 + i;
    idx.push(k);
  }
  assert.equal(t.key(G4, 0, R(0, 0, 0, 1), 0, 1, 1).alloc(), -1, "full");
  for (let i = 0; i < 1000; i += 3) t.free(idx[i]!);
  assert.equal(t.count, 1000 - 334);
  for (let i = 0; i < 1000; i++) {
    const k = t.key(G4, 0, R(0, 0, 0xffff, 0x0a000000 + (i % 7)), 0, 1000 + i, 80).lookup();
    if (i % 3 === 0) assert.equal(k, -1, `freed ${i}`);
    else {
      assert.equal(k, idx[i], `kept ${i} at its index`);
      assert.equal(t.sock[k], 5000 + i);
    }
  }
  // Freed flows are reused.
  assert.ok(t.key(G4, 0, R(0, 0, 0, 1), 0, 1, 1).alloc() >= 0);
});

Deno.test("tcp_conn: TCP shares the flow table with other protocols, bounded by it", () => {
  const ft = new FlowTable(KEY, 8);
  const t = new ConnTable(KEY, 100, ft);
  assert.equal(t.capacity, 8);
  for (let i = 0; i < 4; i++) assert.ok(ft.alloc(FLOW_PING4, 1) >= 0);
  for (let i = 0; i < 4; i++) {
    assert.ok(t.key(G4, 0, R(0, 0, 0xffff, 1), 0, 1000 + i, 80).alloc() >= 0);
  }
  assert.equal(t.key(G4, 0, R(0, 0, 0xffff, 1), 0, 2000, 80).alloc(), -1, "flow table full");
  assert.equal(ft.count, 8);
  assert.ok(!t.inUse(0), "a ping flow is not a TCP connection");
});
