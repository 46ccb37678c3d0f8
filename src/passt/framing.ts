// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `framing.ts` - QEMU's stream framing: a 4-byte big-endian length, then the frame
 *
 * Theory of operation: bytes read from the AF_UNIX stream land in the input area
 * behind whatever was left of the previous read (a frame cut at the end of the
 * buffer). {@linkcode splitFrames} walks the length-prefixed frames with bounds
 * checks, adds each complete one to the frame pool, and says how many bytes it
 * consumed, so the caller moves the cut tail to the front and completes it on the
 * next read. A zero length, or one over 65535, means the stream is corrupt: the
 * caller resets the connection. Frames shorter than an Ethernet header are
 * consumed and dropped, keeping the stream aligned.
 *
 * @module
 */

import type { Pool } from "../tap/pool.ts";

/** Length of the frame length prefix. */
export const PREFIX_LEN = 4;
/** Largest frame length accepted (the prefix's value). */
export const FRAME_LEN_MAX = 65535;
/** Smallest frame handed on: an Ethernet header. */
export const FRAME_LEN_MIN = 14;
/** Returned by {@linkcode splitFrames} for a corrupt stream. */
export const STREAM_CORRUPT = -1;

/**
 * Splits `avail` bytes at `off` into frames added to `pool` (offset of the
 * Ethernet header, frame length); returns the bytes consumed (complete frames
 * only, whether kept or dropped), or {@linkcode STREAM_CORRUPT}. Stops early,
 * without consuming, when the pool is full.
 */
export function splitFrames(dv: DataView, off: number, avail: number, pool: Pool): number {
  let pos = 0;
  while (avail - pos >= PREFIX_LEN) {
    const len = dv.getUint32(off + pos);
    if (len === 0 || len > FRAME_LEN_MAX) return STREAM_CORRUPT;
    if (avail - pos - PREFIX_LEN < len) break;
    if (len >= FRAME_LEN_MIN) {
      if (pool.count >= pool.capacity) break;
      pool.add(off + pos + PREFIX_LEN, len);
    }
    pos += PREFIX_LEN + len;
  }
  return pos;
}

/** Writes the length prefix of the frame at `off` (4 bytes before it). */
export function writePrefix(dv: DataView, off: number, len: number): void {
  dv.setUint32(off - PREFIX_LEN, len);
}
