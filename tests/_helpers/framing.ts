// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `framing.ts` - passt's stream framing driven the way the reader drives it,
 * for the unit tests and the framing fuzz target
 *
 * @module
 */

import { splitFrames, STREAM_CORRUPT } from "../../src/passt/framing.ts";
import { Pool } from "../../src/tap/pool.ts";

/** A stream of length-prefixed frames, where it is cut, and the pool's capacity. */
export interface SplitInput {
  stream: Uint8Array;
  cuts: number[];
  capacity: number;
}

/** The frames split out of a stream, and whether it ended as corrupt. */
export interface Split {
  frames: Uint8Array[];
  corrupt: boolean;
}

/**
 * `splitFrames()` as `PasstStream` drives it, over a buffer that ends after the
 * data: `inp.stream` arrives in pieces ending at `inp.cuts`, into a pool of
 * `inp.capacity` frames; leftovers carry over to the next piece. Throws if
 * `splitFrames()` consumes more than it was given or adds a frame outside it.
 */
export function splitStream(inp: SplitInput): Split {
  const { stream, cuts, capacity } = inp;
  const buf = new Uint8Array(stream.length);
  const dv = new DataView(buf.buffer);
  const pool = new Pool(buf.length, capacity);
  const frames: Uint8Array[] = [];
  let carry = 0;
  let pos = 0;
  for (const end of [...cuts, stream.length]) {
    buf.set(stream.subarray(pos, end), carry);
    let avail = carry + end - pos;
    pos = end;
    let start = 0;
    for (;;) {
      pool.flush();
      const used = splitFrames(dv, start, avail, pool);
      if (used === STREAM_CORRUPT) return { frames, corrupt: true };
      if (used < 0 || used > avail) throw new Error(`splitFrames() consumed ${used} of ${avail}`);
      for (let i = 0; i < pool.count; i++) {
        const o = pool.offsetOf(i);
        if (o < start || o + pool.lenOf(i) > start + used) {
          throw new Error("splitFrames() added a frame outside the consumed bytes");
        }
        frames.push(buf.slice(o, o + pool.lenOf(i)));
      }
      const full = pool.count >= pool.capacity;
      start += used;
      avail -= used;
      if (!full || used === 0) break;
    }
    buf.copyWithin(0, start, start + avail);
    carry = avail;
  }
  return { frames, corrupt: false };
}
