// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `sockaddr.ts` - socket addresses in the arena, for hot-path system calls
 *
 * `struct sockaddr_in` and `struct sockaddr_in6` written and read in place, so
 * that `sendmsg`/`recvmmsg` names need no allocation. The family and scope id
 * are in host byte order, ports and addresses in network order.
 *
 * @module
 */

/** Whether the host is little-endian (family and scope fields use host order). */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const AF_INET = 2;
export const AF_INET6 = 10;
/** sizeof(struct sockaddr_in). */
export const SIN_LEN = 16;
/** sizeof(struct sockaddr_in6). */
export const SIN6_LEN = 28;
/** Room for any socket address we use. */
export const SOCKADDR_MAX = 128;

/** Writes a `sockaddr_in` at `off`; returns its length. */
export function writeIn4(dv: DataView, off: number, addr: number, port: number): number {
  dv.setUint16(off, AF_INET, HOST_LE);
  dv.setUint16(off + 2, port);
  dv.setUint32(off + 4, addr >>> 0);
  dv.setUint32(off + 8, 0);
  dv.setUint32(off + 12, 0);
  return SIN_LEN;
}

/** Writes a `sockaddr_in6` at `off` from four address words; returns its length. */
export function writeIn6(
  dv: DataView,
  off: number,
  words: Uint32Array,
  port: number,
  scopeId = 0,
): number {
  in6Fields(dv, off, port, scopeId);
  for (let i = 0; i < 4; i++) dv.setUint32(off + 8 + i * 4, words[i]!);
  return SIN6_LEN;
}

/** Writes the family, port, flow information and scope of a `sockaddr_in6` at `off`. */
function in6Fields(dv: DataView, off: number, port: number, scopeId: number): void {
  dv.setUint16(off, AF_INET6, HOST_LE);
  dv.setUint16(off + 2, port);
  dv.setUint32(off + 4, 0);
  dv.setUint32(off + 24, scopeId, HOST_LE);
}

/** Family of the socket address at `off`. */
export function family(dv: DataView, off: number): number {
  return dv.getUint16(off, HOST_LE);
}

/** Port of the `sockaddr_in` or `sockaddr_in6` at `off`. */
export function port(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/** IPv4 address of the `sockaddr_in` at `off`. */
export function addr4(dv: DataView, off: number): number {
  return dv.getUint32(off + 4);
}

/** Offset of the 16-byte address inside the `sockaddr_in6` at `off`. */
export function addr6Off(off: number): number {
  return off + 8;
}

/** Scope id of the `sockaddr_in6` at `off`. */
export function scopeId(dv: DataView, off: number): number {
  return dv.getUint32(off + 24, HOST_LE);
}

/** Copies the IPv6 address of the `sockaddr_in6` at `off` into `out`. */
export function readAddr6(dv: DataView, off: number, out: Uint32Array): void {
  for (let i = 0; i < 4; i++) out[i] = dv.getUint32(off + 8 + i * 4);
}
