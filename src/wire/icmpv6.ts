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

// The first eight bytes, type to sequence, are laid out as ICMP's
export {
  checksum,
  code,
  id,
  seq,
  setChecksum,
  setCode,
  setId,
  setSeq,
  setType,
  type,
  validate,
} from "./icmp.ts";
