// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tap_bench.ts` - a real {@linkcode Tap} driven by a test: frames from the
 * guest written into its input area and processed as one batch, frames to
 * the guest copied out as the backend would send them.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import type { Ctx } from "../../src/context.ts";
import type { FlowTable } from "../../src/flow/flow.ts";
import { Loop } from "../../src/loop/loop.ts";
import { Arena } from "../../src/tap/arena.ts";
import { Tap } from "../../src/tap/tap.ts";

/** Makes `tap` send to `out`: each frame it flushes is copied and appended. */
export function recordGuestFrames(tap: Tap, out: Uint8Array[]): void {
  const u8 = tap.u8;
  tap.backend = {
    send: (descOff: number, count: number): number => {
      const d = new Uint32Array(u8.buffer, u8.byteOffset + descOff, 2 * count);
      for (let i = 0; i < count; i++) out.push(u8.slice(d[2 * i]!, d[2 * i]! + d[2 * i + 1]!));
      return count;
    },
  };
}

/** Feeds `frames` from the guest through the tap path as one batch, then flushes. */
export function feedGuestFrames(tap: Tap, frames: Uint8Array[], now: number): void {
  let next = 0;
  for (const f of frames) {
    const off = tap.inOff + next;
    tap.u8.set(f, off);
    tap.frames.add(off, f.length);
    next += (f.length + 63) & ~63;
  }
  tap.process(now);
  tap.flush();
}

/**
 * A real Tap and Loop over one arena and flow table for a protocol module's
 * tests, frames to the guest recorded in {@linkcode out}; subclasses add the
 * module and install its tap handler.
 */
export class TapBench {
  readonly arena = new Arena(new ArrayBuffer(48 * 1024 * 1024));
  readonly tap: Tap;
  readonly loop = new Loop();
  /** Frames sent to the guest (copies), in order. */
  readonly out: Uint8Array[] = [];

  /** Builds the tap for `c`; the module's flows go in `flows`. */
  constructor(readonly c: Ctx, readonly flows: FlowTable) {
    this.tap = new Tap(c, this.arena);
    recordGuestFrames(this.tap, this.out);
    this.loop.defer(() => this.tap.flush());
  }

  /** Feeds frames from the guest through the tap path, as one batch. */
  fromGuest(frames: Uint8Array[], now = performance.now()): void {
    feedGuestFrames(this.tap, frames, now);
  }

  /** Closes the epoll instance (subclasses close their module's sockets first). */
  close(): void {
    lib().pf_close(this.loop.epfd);
  }

  /** Closes the bench (as its subclass does) at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.close();
  }
}
