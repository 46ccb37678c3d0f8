// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `arena.ts` - the one shared packet buffer and its start-up allocator
 *
 * Theory of operation: every frame, header template and socket buffer lives in
 * a single fixed-size `ArrayBuffer`, the arena, seen through one `Uint8Array`
 * and one `DataView`. In production the buffer is a fixed-size WebAssembly
 * memory (`mapArena()` in `run.ts`: no garbage collection for its size), and
 * native calls take the arena plus `u32` offsets; tests pass a plain
 * `new ArrayBuffer`. Regions are carved out at start-up with
 * {@linkcode Arena.alloc}, a bump allocator that never frees: a region is an
 * offset, valid for the life of the process. Allocation is aligned (64 bytes
 * by default, a cache line and enough for vectorised checksums), and running
 * out of space is a start-up error (`RangeError`), never a packet-path one.
 *
 * @module
 */

/** The shared packet buffer with a start-up bump allocator. */
export class Arena {
  /** Bytes of the whole arena. */
  readonly u8: Uint8Array;
  /** DataView over the whole arena. */
  readonly dv: DataView;
  /** Size of the arena in bytes. */
  readonly size: number;
  #next = 0;

  /** Wraps `buffer`, which the caller owns (native mapping or `new ArrayBuffer`). */
  constructor(buffer: ArrayBuffer) {
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
    this.size = buffer.byteLength;
  }

  /** Bytes not yet allocated (ignoring alignment padding of the next allocation). */
  get free(): number {
    return this.size - this.#next;
  }

  /**
   * Reserves `len` bytes aligned to `align` (a power of two) and returns their offset.
   * Throws `RangeError` for a bad length or alignment, or when the arena is full.
   */
  alloc(len: number, align = 64): number {
    if (!Number.isInteger(len) || len < 0) {
      throw new RangeError(`Cannot allocate ${len} bytes: length must be a non-negative integer`);
    }
    if (!Number.isInteger(align) || align < 1 || (align & (align - 1)) !== 0) {
      throw new RangeError(`Cannot allocate with alignment ${align}: not a power of two`);
    }
    const off = Math.ceil(this.#next / align) * align;
    if (off + len > this.size) {
      throw new RangeError(
        `Cannot allocate ${len} bytes: arena of ${this.size} bytes has ${this.size - off} left`,
      );
    }
    this.#next = off + len;
    return off;
  }
}
