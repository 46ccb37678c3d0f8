// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { ARENA_BYTES, mapArena } from "../src/run.ts";
import { importOf, runTs } from "./_helpers/subprocess.ts";

Deno.test("mapArena(): the whole arena, zeroed, writable end to end", () => {
  const arena = mapArena(ARENA_BYTES);
  assert.ok(arena.size >= ARENA_BYTES);
  assert.equal(arena.u8.length, arena.size);
  assert.equal(arena.u8[ARENA_BYTES - 1], 0);
  arena.u8[0] = 0xab;
  arena.dv.setUint32(ARENA_BYTES - 4, 0xdeadbeef);
  assert.equal(arena.u8[0], 0xab);
  assert.equal(arena.dv.getUint32(ARENA_BYTES - 4), 0xdeadbeef);
  // Odd sizes round up to whole pages of the memory behind it
  assert.ok(mapArena(100_000).size >= 100_000);
});

Deno.test("mapArena(): allocating the arena makes the runtime collect no garbage", async () => {
  // In a process of its own, with V8's trace of collections
  const code = `import { ARENA_BYTES, mapArena } from ${importOf("../src/run.ts", import.meta.url)};
const arena = mapArena(ARENA_BYTES);
const after = [];
for (let i = 0; i < 1000; i++) after.push(new Uint8Array(64));
console.log("done", arena.size + after.length);`;
  const out = await runTs(code, ["--v8-flags=--trace-gc"]);
  const text = out.stdout;
  assert.equal(out.code, 0, out.stderr);
  assert.match(text, /^done /m);
  assert.doesNotMatch(text, /external memory pressure/, text);
});
