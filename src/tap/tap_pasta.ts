// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tap_pasta.ts` - pasta's tap device: batched reads and writes of whole frames
 *
 * A tap device gives one frame per `read()` and takes one per `write()`; the
 * native batch calls make many of them in one FFI call, into consecutive space
 * of the input area, and from the queue of frames towards the namespace.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { debugRatelimit, RateLimit } from "../log.ts";
import { FRAME_MAX, type Tap, TAP_MSGS, type TapBackend } from "./tap.ts";
import { EAGAIN, EINTR } from "../../ffi/errno.ts";

const rlWrite = new RateLimit();

function msgWrite(): string {
  return "tap: write to device failed, dropping frames";
}

/** Sends queued frames to the tap device, retrying briefly when its queue is full. */
export class PastaTapBackend implements TapBackend {
  /** Wraps the tap device `fd`; `u8` is the arena. */
  constructor(readonly fd: number, readonly u8: Uint8Array) {}

  /** Writes `count` frames described at `descOff`; returns frames written. */
  send(descOff: number, count: number): number {
    const ffi = lib();
    let done = 0;
    let retries = 0;
    while (done < count) {
      const n = ffi.pf_tap_write_batch(this.fd, this.u8, descOff + done * 8, count - done);
      if (n > 0) {
        done += n;
        continue;
      }
      if ((n === 0 || n === -EAGAIN || n === -EINTR) && retries++ < 16) continue;
      debugRatelimit(rlWrite, performance.now(), msgWrite);
      break;
    }
    return done;
  }
}

/** Reads every frame available on the tap device and processes them in batches. */
export function tapHandlerPasta(tap: Tap, fd: number, now: number): number {
  const ffi = lib();
  const desc = tap.inDesc;
  let total = 0;
  for (;;) {
    const n = ffi.pf_tap_read_batch(
      fd,
      tap.u8,
      tap.inOff,
      tap.inLen,
      tap.inDescOff,
      TAP_MSGS,
      FRAME_MAX,
    );
    if (n <= 0) return n < 0 && n !== -EAGAIN && n !== -EINTR ? n : total;
    for (let i = 0; i < n; i++) tap.frames.add(desc[i * 2]!, desc[i * 2 + 1]!);
    tap.process(now);
    total += n;
    if (n < TAP_MSGS && tap.inLen - (desc[(n - 1) * 2]! - tap.inOff) > FRAME_MAX * 2) {
      return total;
    }
  }
}
