// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tap_out.ts` - the interface protocol handlers use to send frames to the guest
 *
 * Handlers build a whole Ethernet frame in a slot of the arena and queue it.
 * The tap back-end (pasta's tap device, passt's AF_UNIX stream) owns the slots
 * and sends queued frames in batches at the end of each loop iteration; tests
 * use a fake that records the frames.
 *
 * @module
 */

/** Frame sink towards the guest or namespace. */
export interface TapOut {
  /** The arena bytes; frame slots are offsets into it. */
  readonly u8: Uint8Array;
  /** A DataView over the same arena. */
  readonly dv: DataView;
  /**
   * Offset of a free frame slot of at least 65536 bytes (the Ethernet header
   * starts there), or -1 when every slot is queued: the caller drops its frame.
   */
  slot(): number;
  /**
   * Queues the frame built at `off` (from {@linkcode TapOut.slot}) of `len`
   * bytes; a frame shorter than 60 bytes goes out padded with zeros.
   */
  queue(off: number, len: number): void;
}
