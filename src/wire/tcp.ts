// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp.ts` - TCP header (RFC 9293) and the MSS and window scale options
 *
 * Call {@linkcode validate} first; it returns the header length, options
 * included. Sequence and acknowledgement numbers are u32 (compare them with
 * `seq.ts`). The option walkers stop at the first malformed option (length 0
 * or 1, or running past the header), so they always end. Offsets are absolute.
 *
 * @module
 */

/** Length of a header without options. */
export const MIN_HEADER_LEN = 20;
/** FIN flag. */
export const FIN = 1;
/** SYN flag. */
export const SYN = 2;
/** RST flag. */
export const RST = 4;
/** PSH flag. */
export const PSH = 8;
/** ACK flag. */
export const ACK = 16;
/** URG flag. */
export const URG = 32;

/** Option kind: end of option list. */
export const OPT_EOL = 0;
/** Option kind: no operation. */
export const OPT_NOP = 1;
/** Option kind: maximum segment size (length 4). */
export const OPT_MSS = 2;
/** Option kind: window scale (length 3). */
export const OPT_WS = 3;
/** Option kind: SACK permitted (length 2). */
export const OPT_SACK_PERM = 4;
/** Option kind: timestamps (length 10). */
export const OPT_TS = 8;

/** Header length, or -1 unless 20 <= data offset <= `avail`. */
export function validate(dv: DataView, off: number, avail: number): number {
  if (avail < MIN_HEADER_LEN) return -1;
  const hl = (dv.getUint8(off + 12) >> 4) << 2;
  if (hl < MIN_HEADER_LEN || hl > avail) return -1;
  return hl;
}

// The ports open the header as in UDP
export { dstPort, setDstPort, setSrcPort, srcPort } from "./udp.ts";

/** Sequence number (u32). */
export function seq(dv: DataView, off: number): number {
  return dv.getUint32(off + 4) >>> 0;
}

/** Sets the sequence number. */
export function setSeq(dv: DataView, off: number, v: number): void {
  dv.setUint32(off + 4, v >>> 0);
}

/** Acknowledgement number (u32). */
export function ack(dv: DataView, off: number): number {
  return dv.getUint32(off + 8) >>> 0;
}

/** Sets the acknowledgement number. */
export function setAck(dv: DataView, off: number, v: number): void {
  dv.setUint32(off + 8, v >>> 0);
}

/** Header length in bytes (data offset * 4). */
export function dataOffset(dv: DataView, off: number): number {
  return (dv.getUint8(off + 12) >> 4) << 2;
}

/** Sets the header length in bytes (a multiple of 4, 20 to 60); clears the reserved bits. */
export function setDataOffset(dv: DataView, off: number, len: number): void {
  dv.setUint8(off + 12, (len >> 2) << 4);
}

/** Flags byte (FIN, SYN, RST, PSH, ACK, URG, and ECE/CWR in the top bits). */
export function flags(dv: DataView, off: number): number {
  return dv.getUint8(off + 13);
}

/** Sets the flags byte. */
export function setFlags(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 13, v);
}

/** Window (unscaled). */
export function window(dv: DataView, off: number): number {
  return dv.getUint16(off + 14);
}

/** Sets the window. */
export function setWindow(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 14, v);
}

/** Checksum as stored. */
export function checksum(dv: DataView, off: number): number {
  return dv.getUint16(off + 16);
}

/** Sets the checksum. */
export function setChecksum(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 16, v);
}

/** Urgent pointer. */
export function urgent(dv: DataView, off: number): number {
  return dv.getUint16(off + 18);
}

/** Sets the urgent pointer. */
export function setUrgent(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 18, v);
}

/**
 * Writes a header without options (checksum and urgent pointer zero); returns off + 20.
 */
export function push(
  dv: DataView,
  off: number,
  src: number,
  dst: number,
  seqValue: number,
  ackValue: number,
  flagBits: number,
  win: number,
): number {
  dv.setUint16(off, src);
  dv.setUint16(off + 2, dst);
  dv.setUint32(off + 4, seqValue >>> 0);
  dv.setUint32(off + 8, ackValue >>> 0);
  dv.setUint8(off + 12, (MIN_HEADER_LEN >> 2) << 4);
  dv.setUint8(off + 13, flagBits);
  dv.setUint16(off + 14, win);
  dv.setUint32(off + 16, 0);
  return off + MIN_HEADER_LEN;
}

/**
 * Absolute offset of the option of `kind` with exactly `wantLen` bytes in the header at `off`
 * of `hdrLen` bytes, or -1 if absent or the option list is malformed before it.
 */
export function findOption(
  dv: DataView,
  off: number,
  hdrLen: number,
  kind: number,
  wantLen: number,
): number {
  const end = off + hdrLen;
  let p = off + MIN_HEADER_LEN;
  while (p < end) {
    const k = dv.getUint8(p);
    if (k === OPT_EOL) return -1;
    if (k === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 2 > end) return -1;
    const len = dv.getUint8(p + 1);
    if (len < 2 || p + len > end) return -1;
    if (k === kind) return len === wantLen ? p : -1;
    p += len;
  }
  return -1;
}

/** MSS option value, or -1 if absent or malformed. */
export function optMss(dv: DataView, off: number, hdrLen: number): number {
  const p = findOption(dv, off, hdrLen, OPT_MSS, 4);
  return p < 0 ? -1 : dv.getUint16(p + 2);
}

/** Window scale option value (shift count as sent), or -1 if absent or malformed. */
export function optWscale(dv: DataView, off: number, hdrLen: number): number {
  const p = findOption(dv, off, hdrLen, OPT_WS, 3);
  return p < 0 ? -1 : dv.getUint8(p + 2);
}
