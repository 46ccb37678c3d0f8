// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `seq.ts` - TCP sequence number arithmetic on u32 with wrap-around (RFC 1982 style)
 *
 * `a` is before `b` when the signed 32-bit difference `a - b` is negative, so
 * comparisons are correct across the 2^32 wrap as long as the numbers are
 * within 2^31 of each other.
 *
 * @module
 */

/** Signed 32-bit distance from `b` to `a` ((a - b) | 0). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** Whether `a` is before `b`. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Whether `a` is before or equal to `b`. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** Whether `a` is after `b`. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** Whether `a` is after or equal to `b`. */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** `a + n` as u32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
