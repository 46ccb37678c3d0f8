// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { EpollType } from "../../src/loop/loop.ts";
import { statsHeader, statsLine } from "../../src/loop/stats.ts";

Deno.test("--stats header: one kind per line, a bar over each earlier column", () => {
  const h = statsHeader(4);
  assert.deepEqual(h, [
    "       signal pipe",
    "       |      /dev/net/tun device",
    "       |      |      connected qemu socket",
  ]);
  assert.equal(statsHeader(EpollType.COUNT).length, EpollType.COUNT - 1);
});

Deno.test("--stats line: running totals right-aligned under their columns", () => {
  const counts = new Float64Array([9, 1, 22, 333333]);
  assert.equal(statsLine(counts), "       1     22 333333");
  // each count ends where its header's bar would be
  const line = statsLine(counts);
  assert.equal(line.length, 1 + 3 * 7);
});
