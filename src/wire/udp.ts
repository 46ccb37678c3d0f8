// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp.ts` - UDP header (RFC 768)
 *
 * Call {@linkcode validate} first; getters assume 8 bytes are present. Offsets
 * are absolute. Checksums are computed with `checksum.ts` (`l4Checksum4`/
 * `l4Checksum6` and `udpCsumFinal`, as a computed 0 is sent as 0xffff).
 *
 * @module
 */

/** Length of the UDP header. */
export const HEADER_LEN = 8;

/** Returns 8, or -1 unless 8 <= the length field <= `avail`. */
export function validate(dv: DataView, off: number, avail: number): number {
  if (avail < HEADER_LEN) return -1;
  const len = dv.getUint16(off + 4);
  if (len < HEADER_LEN || len > avail) return -1;
  return HEADER_LEN;
}

/** Source port. */
export function srcPort(dv: DataView, off: number): number {
  return dv.getUint16(off);
}

/** Sets the source port. */
export function setSrcPort(dv: DataView, off: number, v: number): void {
  dv.setUint16(off, v);
}

/** Destination port. */
export function dstPort(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/** Sets the destination port. */
export function setDstPort(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 2, v);
}

/** Length of header and payload. */
export function length(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/** Sets the length. */
export function setLength(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 4, v);
}

/** Checksum as stored (0: none, IPv4 only). */
export function checksum(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/** Sets the checksum. */
export function setChecksum(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 6, v);
}

/** Writes ports, length (8 + payloadLen) and a zero checksum; returns off + 8. */
export function push(
  dv: DataView,
  off: number,
  src: number,
  dst: number,
  payloadLen: number,
): number {
  dv.setUint16(off, src);
  dv.setUint16(off + 2, dst);
  dv.setUint16(off + 4, HEADER_LEN + payloadLen);
  dv.setUint16(off + 6, 0);
  return off + HEADER_LEN;
}
