// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `arp.ts` - ARP packet for Ethernet and IPv4 (RFC 826)
 *
 * Call {@linkcode validate} first; getters assume 28 bytes are present.
 * {@linkcode validate} checks only the length: use {@linkcode isEthIpv4} to
 * check the hardware and protocol types and lengths. Offsets are absolute.
 *
 * @module
 */

/** Length of an Ethernet/IPv4 ARP packet. */
export const HEADER_LEN = 28;
/** ARP request. */
export const OP_REQUEST = 1;
/** ARP reply. */
export const OP_REPLY = 2;
/** Hardware type of Ethernet. */
export const HTYPE_ETHER = 1;

/** Returns 28, or -1 if fewer than 28 bytes are available. */
export function validate(_dv: DataView, _off: number, avail: number): number {
  return avail >= HEADER_LEN ? HEADER_LEN : -1;
}

/** Whether the packet is Ethernet (htype 1, hlen 6) over IPv4 (ptype 0x0800, plen 4). */
export function isEthIpv4(dv: DataView, off: number): boolean {
  return dv.getUint16(off) === HTYPE_ETHER && dv.getUint16(off + 2) === 0x0800 &&
    dv.getUint8(off + 4) === 6 && dv.getUint8(off + 5) === 4;
}

/** Hardware type. */
export function htype(dv: DataView, off: number): number {
  return dv.getUint16(off);
}

/** Protocol type. */
export function ptype(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/** Hardware address length. */
export function hlen(dv: DataView, off: number): number {
  return dv.getUint8(off + 4);
}

/** Protocol address length. */
export function plen(dv: DataView, off: number): number {
  return dv.getUint8(off + 5);
}

/** Operation (OP_REQUEST, OP_REPLY). */
export function op(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/** Sets the operation. */
export function setOp(dv: DataView, off: number, v: number): void {
  dv.setUint16(off + 6, v);
}

/** Absolute offset of the sender hardware address. */
export function senderMacOff(off: number): number {
  return off + 8;
}

/** Sender protocol address (u32). */
export function senderIp(dv: DataView, off: number): number {
  return dv.getUint32(off + 14) >>> 0;
}

/** Sets the sender protocol address. */
export function setSenderIp(dv: DataView, off: number, v: number): void {
  dv.setUint32(off + 14, v >>> 0);
}

/** Absolute offset of the target hardware address. */
export function targetMacOff(off: number): number {
  return off + 18;
}

/** Target protocol address (u32). */
export function targetIp(dv: DataView, off: number): number {
  return dv.getUint32(off + 24) >>> 0;
}

/** Sets the target protocol address. */
export function setTargetIp(dv: DataView, off: number, v: number): void {
  dv.setUint32(off + 24, v >>> 0);
}

/** Writes a complete Ethernet/IPv4 ARP packet at `off`; MACs are 6-byte arrays. Returns off + 28. */
export function push(
  u8: Uint8Array,
  dv: DataView,
  off: number,
  operation: number,
  senderMac: Uint8Array,
  senderAddr: number,
  targetMac: Uint8Array,
  targetAddr: number,
): number {
  dv.setUint16(off, HTYPE_ETHER);
  dv.setUint16(off + 2, 0x0800);
  dv.setUint8(off + 4, 6);
  dv.setUint8(off + 5, 4);
  dv.setUint16(off + 6, operation);
  for (let i = 0; i < 6; i++) {
    u8[off + 8 + i] = senderMac[i]!;
    u8[off + 18 + i] = targetMac[i]!;
  }
  dv.setUint32(off + 14, senderAddr >>> 0);
  dv.setUint32(off + 24, targetAddr >>> 0);
  return off + HEADER_LEN;
}
