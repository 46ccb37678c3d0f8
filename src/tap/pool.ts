// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `pool.ts` - packet pools: bounds-checked (offset, length) descriptors over the arena
 *
 * Theory of operation: packets stored in the arena can be queued into a pool,
 * which has no storage of its own, and data can be retrieved by index in the
 * pool, giving an offset and a length inside the packet. Checks ensure that data
 * is never read outside the buffer or the packet, and that packets added to a
 * pool are within the buffer with valid offsets and lengths.
 *
 * A pool is one `Uint32Array` of `2 * capacity` words: `[off0, len0, off1,
 * len1, ...]`, plus a count; the many pools of the tap share one allocation,
 * each a view of its own part. {@linkcode Pool.add} refuses (returns false) a
 * packet that is not whole integers, starts before the buffer, ends past it, is
 * longer than 65535 bytes, or does not fit. {@linkcode Pool.get} re-checks the
 * descriptor against the buffer every time, so even a corrupted descriptor
 * cannot lead a reader out of bounds, and returns an absolute arena offset or
 * -1. Nothing here throws or allocates after construction.
 *
 * @module
 */

/** Largest packet a descriptor can describe. */
export const MAX_PACKET_LEN = 65535;

/** Whether `v` is a non-negative integer (false for NaN, fractions, infinities). */
function isIndex(v: number): boolean {
  return Number.isInteger(v) && v >= 0;
}

/** A pool of packet descriptors over a buffer of `bufferSize` bytes. */
export class Pool {
  /** Raw descriptors, `[off, len]` pairs: fill only through {@linkcode Pool.add}. */
  readonly desc: Uint32Array;
  /** Maximum number of packets. */
  readonly capacity: number;
  /** Size of the buffer that offsets refer to. */
  readonly bufferSize: number;
  /** Number of packets queued. */
  count = 0;

  /**
   * A pool of `capacity` packets over a buffer of `bufferSize` bytes, its descriptors in
   * `desc` (exactly `2 * capacity` words, shared with no other pool) or in an array of its own.
   */
  constructor(bufferSize: number, capacity: number, desc?: Uint32Array) {
    if (!isIndex(bufferSize) || !isIndex(capacity)) {
      throw new RangeError(`Cannot create pool of ${capacity} packets over ${bufferSize} bytes`);
    }
    if (desc !== undefined && desc.length !== 2 * capacity) {
      throw new RangeError(`Pool of ${capacity} packets needs ${2 * capacity} descriptor words`);
    }
    this.bufferSize = bufferSize;
    this.capacity = capacity;
    this.desc = desc ?? new Uint32Array(2 * capacity);
  }

  /** Queues the packet at `off` of `len` bytes; false (and nothing queued) if it is refused. */
  add(off: number, len: number): boolean {
    if (this.count >= this.capacity) return false;
    if (!isIndex(off) || !isIndex(len)) return false;
    if (len > MAX_PACKET_LEN || off > 0xffffffff || off + len > this.bufferSize) return false;
    const i = this.count << 1;
    this.desc[i] = off;
    this.desc[i + 1] = len;
    this.count++;
    return true;
  }

  /**
   * Absolute offset of bytes `[off, off + len)` of packet `i`, or -1 unless `i` < count, the
   * range lies inside the packet, `len` <= 65535, and the packet lies inside the buffer.
   */
  get(i: number, off: number, len: number): number {
    if (!isIndex(i) || i >= this.count || i >= this.capacity) return -1;
    if (!isIndex(off) || !isIndex(len) || len > MAX_PACKET_LEN) return -1;
    const base = this.desc[i << 1]!;
    const plen = this.desc[(i << 1) + 1]!;
    if (plen > MAX_PACKET_LEN || off + len > plen || base + off + len > this.bufferSize) return -1;
    return base + off;
  }

  /** Bytes of packet `i` after the range `[off, off + len)`, or -1 when {@linkcode Pool.get} would refuse it. */
  left(i: number, off: number, len: number): number {
    if (this.get(i, off, len) < 0) return -1;
    return this.desc[(i << 1) + 1]! - off - len;
  }

  /** Length of packet `i`, or -1 if `i` is not a queued packet or its descriptor is outside the buffer. */
  lenOf(i: number): number {
    if (!isIndex(i) || i >= this.count || i >= this.capacity) return -1;
    const plen = this.desc[(i << 1) + 1]!;
    if (plen > MAX_PACKET_LEN || this.desc[i << 1]! + plen > this.bufferSize) return -1;
    return plen;
  }

  /** Absolute offset of packet `i`, or -1 if `i` is not a queued packet or its descriptor is bad. */
  offsetOf(i: number): number {
    if (this.lenOf(i) < 0) return -1;
    return this.desc[i << 1]!;
  }

  /** Empties the pool. */
  flush(): void {
    this.count = 0;
  }
}
