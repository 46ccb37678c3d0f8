// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { splitFrames } from "../../src/passt/framing.ts";
import { Pool } from "../../src/tap/pool.ts";
import { type Split, splitStream } from "../_helpers/framing.ts";

/** Builds a stream of length-prefixed frames; frame i is filled with byte i. */
function stream(lengths: number[]): Uint8Array {
  const total = lengths.reduce((n, l) => n + 4 + l, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let o = 0;
  lengths.forEach((l, i) => {
    dv.setUint32(o, l);
    out.fill(i + 1, o + 4, o + 4 + l);
    o += 4 + l;
  });
  return out;
}

/** Feeds `data` in chunks cut at `cuts`, carrying leftovers as the reader does. */
function feed(data: Uint8Array, cuts: number[]): Split {
  return splitStream({ stream: data, cuts, capacity: 1024 });
}

const LENGTHS = [14, 60, 1514, 100, 65535, 15];

Deno.test("splitFrames() yields every frame whatever the cut position", () => {
  const data = stream(LENGTHS);
  for (let cut = 0; cut <= data.length; cut += cut < 200 ? 1 : 997) {
    const { frames, corrupt } = feed(data, [cut]);
    assert.equal(corrupt, false);
    assert.deepEqual(frames.map((f) => f.length), LENGTHS, `cut at ${cut}`);
    frames.forEach((f, i) => assert.ok(f.every((b) => b === i + 1), `frame ${i} cut ${cut}`));
  }
});

Deno.test("splitFrames() handles a stream cut in many small pieces", () => {
  const data = stream(LENGTHS);
  const cuts: number[] = [];
  for (let c = 3; c < data.length; c += 7) cuts.push(c);
  const { frames } = feed(data, cuts);
  assert.deepEqual(frames.map((f) => f.length), LENGTHS);
});

Deno.test("splitFrames() reports a zero length as corrupt", () => {
  const data = stream([60, 0, 60]);
  assert.equal(feed(data, []).corrupt, true);
});

Deno.test("splitFrames() reports a length over 65535 as corrupt", () => {
  const data = stream([60]);
  const bad = new Uint8Array(data.length + 8);
  bad.set(data);
  new DataView(bad.buffer).setUint32(data.length, 65536);
  const r = feed(bad, [data.length + 2]);
  assert.equal(r.corrupt, true);
  assert.equal(r.frames.length, 1, "frames before the corruption are delivered");
});

Deno.test("splitFrames() consumes and drops frames shorter than an Ethernet header", () => {
  const data = stream([60, 5, 13, 60]);
  const { frames, corrupt } = feed(data, []);
  assert.equal(corrupt, false);
  assert.deepEqual(frames.map((f) => f.length), [60, 60]);
  assert.ok(frames[1]!.every((b) => b === 4), "stream stays aligned after dropped frames");
});

Deno.test("splitFrames() stops without consuming when the pool is full", () => {
  const data = stream([20, 20, 20]);
  const buf = new Uint8Array(data);
  const pool = new Pool(buf.length, 2);
  const used = splitFrames(new DataView(buf.buffer), 0, buf.length, pool);
  assert.equal(pool.count, 2);
  assert.equal(used, 48);
});

Deno.test("splitFrames() never reads past the available bytes", () => {
  const data = stream([100]);
  const pool = new Pool(data.length, 4);
  const dv = new DataView(data.buffer);
  for (let avail = 0; avail < data.length; avail++) {
    pool.flush();
    assert.equal(splitFrames(dv, 0, avail, pool), 0);
    assert.equal(pool.count, 0);
  }
});
