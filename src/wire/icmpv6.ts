// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `icmpv6.ts` - ICMPv6 header (RFC 4443), echo fields, NDP types (RFC 4861)
 *
 * Call {@linkcode validate} first; getters assume 8 bytes are present. The
 * checksum covers the IPv6 pseudo-header and the whole message
 * (`checksum.ts` `l4Checksum6`). Offsets are absolute.
 *
 * @module
 */

/** Length of the header including the echo identifier and sequence. */
export const HEADER_LEN = 8;
/** Destination unreachable type. */
export const DEST_UNREACH = 1;
/** Packet too big type. */
export const PACKET_TOO_BIG = 2;
/** Time exceeded type. */
export const TIME_EXCEEDED = 3;
/** Parameter problem type. */
export const PARAM_PROBLEM = 4;
/** Echo request type. */
export const ECHO_REQUEST = 128;
/** Echo reply type. */
export const ECHO_REPLY = 129;
/** NDP router solicitation type. */
export const ROUTER_SOLICIT = 133;
/** NDP router advertisement type. */
export const ROUTER_ADVERT = 134;
/** NDP neighbour solicitation type. */
export const NEIGHBOUR_SOLICIT = 135;
/** NDP neighbour advertisement type. */
export const NEIGHBOUR_ADVERT = 136;
/** NDP redirect type. */
export const REDIRECT = 137;

/** Returns 8, or -1 if fewer than 8 bytes are available. */
export function validate(_dv: DataView, _off: number, avail: number): number {
  return avail >= HEADER_LEN ? HEADER_LEN : -1;
}

/** Message type. */
export function type(dv: DataView, off: number): number {
  return dv.getUint8(off);
}

/** Sets the message type. */
export function setType(dv: DataView, off: number, v: number): void {
  dv.setUint8(off, v);
}

/** Message code. */
export function code(dv: DataView, off: number): number {
  return dv.getUint8(off + 1);
}

/** Sets the message code. */
export function setCode(dv: DataView, off: number, v: number): void {
  dv.setUint8(off + 1, v);
}

/** Checksum as stored. */
export function checksum(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/** Sets the checksum. */
export function setChecksum(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 2, v);
}

/** Echo identifier. */
export function id(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/** Sets the echo identifier. */
export function setId(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 4, v);
}

/** Echo sequence number. */
export function seq(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/** Sets the echo sequence number. */
export function setSeq(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 6, v);
}
