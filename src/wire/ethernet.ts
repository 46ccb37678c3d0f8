// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `ethernet.ts` - Ethernet II header
 *
 * Functions take the arena's `DataView`/`Uint8Array` and the header's absolute
 * offset. The tap path checks that at least {@linkcode HEADER_LEN} bytes are
 * available before calling any getter. Nothing here allocates.
 *
 * @module
 */

/** Length of the Ethernet II header (no VLAN tag). */
export const HEADER_LEN = 14;
/** Shortest frame on the wire without its FCS (ETH_ZLEN): shorter ones are padded with zeros. */
export const MIN_FRAME_LEN = 60;
/** Offset of the destination MAC, relative to the header. */
export const DST_OFF = 0;
/** Offset of the source MAC, relative to the header. */
export const SRC_OFF = 6;
/** Offset of the EtherType, relative to the header. */
const TYPE_OFF = 12;

/** EtherType of IPv4. */
export const ETH_P_IP = 0x0800;
/** EtherType of ARP. */
export const ETH_P_ARP = 0x0806;
/** EtherType of IPv6. */
export const ETH_P_IPV6 = 0x86dd;

/** Length of a MAC address. */
export const MAC_LEN = 6;

/** EtherType of the frame at `off`. */
export function etherType(dv: DataView, off: number): number {
  return dv.getUint16(off + TYPE_OFF);
}

/** Sets the EtherType of the frame at `off`. */
export function setEtherType(dv: DataView, off: number, t: number): void {
  dv.setUint16(off + TYPE_OFF, t);
}

/** Writes a complete header: destination and source MACs (6-byte arrays) and EtherType; returns off + 14. */
export function writeHeader(
  u8: Uint8Array,
  dv: DataView,
  off: number,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  type: number,
): number {
  for (let i = 0; i < MAC_LEN; i++) {
    u8[off + DST_OFF + i] = dstMac[i]!;
    u8[off + SRC_OFF + i] = srcMac[i]!;
  }
  dv.setUint16(off + TYPE_OFF, type);
  return off + HEADER_LEN;
}

/** Copies a 6-byte MAC from `from` in `u8` to `to` in `u8`. */
export function copyMac(u8: Uint8Array, to: number, from: number): void {
  for (let i = 0; i < MAC_LEN; i++) u8[to + i] = u8[from + i]!;
}

/** Copies a 6-byte MAC array into `u8` at `to`. */
export function writeMac(u8: Uint8Array, to: number, mac: Uint8Array): void {
  for (let i = 0; i < MAC_LEN; i++) u8[to + i] = mac[i]!;
}

/** Whether the MAC at `macOff` in `u8` equals the 6-byte array `mac`. */
export function macEquals(u8: Uint8Array, macOff: number, mac: Uint8Array): boolean {
  for (let i = 0; i < MAC_LEN; i++) if (u8[macOff + i] !== mac[i]) return false;
  return true;
}

/** Whether the MAC at `macOff` is ff:ff:ff:ff:ff:ff. */
export function isBroadcast(u8: Uint8Array, macOff: number): boolean {
  for (let i = 0; i < MAC_LEN; i++) if (u8[macOff + i] !== 0xff) return false;
  return true;
}

/** Whether the MAC at `macOff` is a group address (I/G bit set; broadcast included). */
export function isMulticast(u8: Uint8Array, macOff: number): boolean {
  return (u8[macOff]! & 1) !== 0;
}
