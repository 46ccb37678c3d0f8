// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fake_tap.ts` - a {@linkcode TapOut} for tests that records queued frames
 *
 * The arena is a fresh `ArrayBuffer` split into `slots` slots of
 * {@linkcode SLOT_SIZE} bytes. {@linkcode FakeTap.slot} hands out the first slot
 * not yet queued; {@linkcode FakeTap.queue} records the frame so that tests can
 * parse it from {@linkcode FakeTap.u8}.
 *
 * @module
 */

import type { Ctx } from "../../src/context.ts";
import type { arp } from "../../src/proto/arp.ts";
import type { TapOut } from "../../src/tap/tap_out.ts";
import assert from "node:assert/strict";
import { GUEST_MAC, HOST_MAC, place, testCtx } from "./frames.ts";

/** Size of one frame slot. */
export const SLOT_SIZE = 65536;

/** One queued frame. */
export interface QueuedFrame {
  /** Offset of the Ethernet header in the arena. */
  off: number;
  /** Frame length in bytes. */
  len: number;
}

/** Frame sink over a private arena that records what was queued. */
export class FakeTap implements TapOut {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Frames queued so far, in order. */
  readonly frames: QueuedFrame[] = [];
  #slots: number;

  /** Creates a sink with `slots` free frame slots. */
  constructor(slots = 4) {
    this.#slots = slots;
    const buf = new ArrayBuffer(slots * SLOT_SIZE);
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
    // Garbage in unused slot bytes catches fields a handler forgets to write.
    this.u8.fill(0xa5);
  }

  /** Returns the next free slot, or -1 once every slot is queued. */
  slot(): number {
    return this.frames.length < this.#slots ? this.frames.length * SLOT_SIZE : -1;
  }

  /** Records a frame built at `off`. */
  queue(off: number, len: number): void {
    this.frames.push({ off, len });
  }

  /** Copy of the bytes of queued frame `i` (throws if there is none). */
  frame(i: number): Uint8Array {
    const f = this.frames[i];
    if (!f) throw new Error(`no frame ${i} queued (${this.frames.length} queued)`);
    return this.u8.slice(f.off, f.off + f.len);
  }

  /** Forgets queued frames and re-poisons the arena. */
  clear(): void {
    this.frames.length = 0;
    this.u8.fill(0xa5);
  }
}

/** A handler of frames from the guest that answers inline, as `arp()` (DHCP, DHCPv6, NDP). */
export type InlineHandler = typeof arp;

/** Runs `handler` on frame `f` (placed at offset 100) with a fresh {@linkcode FakeTap}. */
export function runInline(
  handler: InlineHandler,
  f: Uint8Array,
  c: Ctx = testCtx(),
): { tap: FakeTap; ret: boolean } {
  const tap = new FakeTap();
  const p = place(f);
  return { tap, ret: handler(c, tap, p.u8, p.dv, p.off, p.len) };
}

/**
 * The one frame queued on `tap`, checked to be Ethernet from us (`HOST_MAC`) to `dstMac`
 * (the guest's by default) with `ethertype`.
 */
export function onlyFrame(
  tap: FakeTap,
  ethertype: number,
  dstMac: Uint8Array = GUEST_MAC,
): { f: Uint8Array; dv: DataView } {
  assert.equal(tap.frames.length, 1);
  const f = tap.frame(0);
  const dv = new DataView(f.buffer);
  assert.deepEqual(f.subarray(0, 6), dstMac);
  assert.deepEqual(f.subarray(6, 12), HOST_MAC);
  assert.equal(dv.getUint16(12), ethertype);
  return { f, dv };
}
