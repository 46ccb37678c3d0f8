// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { Arena } from "../../src/tap/arena.ts";
import { Tap } from "../../src/tap/tap.ts";
import { ether, GUEST_MAC, HOST_MAC, ip4, testCtx } from "../_helpers/frames.ts";
import { feedGuestFrames, recordGuestFrames } from "../_helpers/tap_bench.ts";

/** A real tap whose sent frames land in the returned list. */
function tapWithRecord(): { tap: Tap; out: Uint8Array[] } {
  const tap = new Tap(testCtx(), new Arena(new ArrayBuffer(16 * 1024 * 1024)));
  const out: Uint8Array[] = [];
  recordGuestFrames(tap, out);
  return { tap, out };
}

/** The guest's ARP request for `tpa`. */
function arpRequest(tpa: number): Uint8Array {
  const a = new Uint8Array(28);
  const dv = new DataView(a.buffer);
  dv.setUint32(0, 0x00010800);
  dv.setUint16(4, 0x0604);
  dv.setUint16(6, 1);
  a.set(GUEST_MAC, 8);
  dv.setUint32(14, ip4("192.0.2.10"));
  dv.setUint32(24, tpa);
  return ether(Uint8Array.of(255, 255, 255, 255, 255, 255), GUEST_MAC, 0x0806, a);
}

Deno.test("tap: a frame shorter than 60 bytes goes to the guest padded with zeros (ETH_ZLEN)", () => {
  const { tap, out } = tapWithRecord();
  // Garbage where the padding goes: the tap must clear it, not send it.
  tap.u8.fill(0xa5);
  feedGuestFrames(tap, [arpRequest(ip4("192.0.2.1"))], performance.now());
  assert.equal(out.length, 1);
  const f = out[0]!;
  assert.equal(f.length, 60);
  assert.deepEqual([...f.subarray(0, 6)], [...GUEST_MAC]);
  assert.deepEqual([...f.subarray(6, 12)], [...HOST_MAC]);
  assert.equal(new DataView(f.buffer).getUint16(20), 2, "an ARP reply");
  assert.deepEqual([...f.subarray(42)], new Array(18).fill(0));
});

Deno.test("tap: frames of 60 bytes and more go out as queued", () => {
  const { tap, out } = tapWithRecord();
  for (const len of [60, 61, 1514]) {
    const off = tap.slot();
    tap.u8.fill(7, off, off + len + 8);
    tap.queue(off, len);
  }
  tap.flush();
  assert.deepEqual(out.map((f) => f.length), [60, 61, 1514]);
  assert.ok(out.every((f) => f.every((b) => b === 7)));
});
