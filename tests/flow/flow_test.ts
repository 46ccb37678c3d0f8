// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { FLOW_NONE, FLOW_PING4, FLOW_TCP, FlowTable, SIDE_WORDS } from "../../src/flow/flow.ts";
import { PIF_HOST, PIF_TAP } from "../../src/fwd/nat.ts";

const KEY = Uint32Array.of(1, 2, 3, 4);

function side(seed: number): Uint32Array {
  const s = new Uint32Array(SIDE_WORDS);
  s[2] = 0xffff;
  s[3] = 0x0a000000 + seed;
  s[6] = 0xffff;
  s[7] = 0xc0000201;
  s[8] = 1000 + (seed & 0xfff);
  s[9] = 80;
  return s;
}

function put(ft: FlowTable, i: number, sidx: number, pif: number, s: Uint32Array): void {
  ft.side.set(s, ft.sideOff(sidx));
  ft.pif[sidx] = pif;
  ft.hashInsert(sidx);
  assert.equal(sidx >> 1, i);
}

Deno.test("flow table: lookup by either side, exact match on protocol, interface and side", () => {
  const ft = new FlowTable(KEY, 16);
  const i = ft.alloc(FLOW_TCP, 6);
  put(ft, i, 2 * i, PIF_TAP, side(1));
  put(ft, i, 2 * i + 1, PIF_HOST, side(2));
  assert.equal(ft.lookup(6, PIF_TAP, side(1), 0), 2 * i);
  assert.equal(ft.lookup(6, PIF_HOST, side(2), 0), 2 * i + 1);
  assert.equal(ft.lookup(17, PIF_TAP, side(1), 0), -1, "other protocol");
  assert.equal(ft.lookup(6, PIF_HOST, side(1), 0), -1, "other interface");
  assert.equal(ft.lookup(6, PIF_TAP, side(3), 0), -1);
  ft.free(i);
  assert.equal(ft.type[i], FLOW_NONE);
  assert.equal(ft.lookup(6, PIF_TAP, side(1), 0), -1, "freed flows leave the hash");
  assert.equal(ft.lookup(6, PIF_HOST, side(2), 0), -1);
});

Deno.test("flow table: bounded, free list reuse, and the hash survives heavy churn", () => {
  const ft = new FlowTable(KEY, 4096);
  const live = new Map<number, number>();
  let seed = 0;
  let rnd = 12345;
  const next = (): number => (rnd = (rnd * 1103515245 + 12345) >>> 0);
  for (let round = 0; round < 40000; round++) {
    if (live.size < 4096 && (next() & 3) !== 0) {
      const i = ft.alloc(FLOW_PING4, 1);
      assert.ok(i >= 0);
      const s = ++seed;
      put(ft, i, 2 * i, PIF_TAP, side(s));
      live.set(s, i);
    } else if (live.size > 0) {
      const keys = [...live.keys()];
      const s = keys[next() % keys.length]!;
      ft.free(live.get(s)!);
      live.delete(s);
    }
  }
  for (const [s, i] of live) assert.equal(ft.lookup(1, PIF_TAP, side(s), 0), 2 * i, `seed ${s}`);
  assert.equal(ft.count, live.size);
  while (ft.alloc(FLOW_PING4, 1) >= 0);
  assert.equal(ft.count, 4096, "at the limit, alloc refuses");
  assert.equal(ft.alloc(FLOW_TCP, 6), -1);
});
