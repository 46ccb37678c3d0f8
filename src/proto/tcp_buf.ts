// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp_buf.ts` - frame slots for TCP towards the guest, header writer, fast checksum
 *
 * Theory of operation: {@linkcode TcpBufs} reserves, at start-up, two kinds of
 * slots in the arena: {@linkcode TCP_FRAMES} data slots, each with a fixed
 * payload offset (64-byte aligned, so socket data is received straight into it
 * with one `recvmsg()` whose iovec entries point at the payload areas) and room
 * for the largest header chain in front of it, and {@linkcode FLAGS_FRAMES}
 * small slots for segments without payload (SYN, ACK, FIN, RST). An IPv4 frame
 * starts 54 bytes before the payload, an IPv6 one 74 bytes before, so both
 * families share the slots; every slot has at least four free bytes before the
 * frame for passt's length prefix.
 *
 * Slots are handed out in order and become free again once the tap has flushed
 * the queue: {@linkcode TcpBufs.reset} is called right after each flush.
 *
 * {@linkcode writeHeaders} fills the Ethernet, IP and TCP headers of a frame
 * whose payload is already in place, computing both checksums. The payload
 * checksum is the hot spot of the whole socket-to-guest path: it is summed as
 * 32-bit words (`sum32` of `wire/checksum.ts`).
 *
 * @module
 */

import type { Arena } from "../tap/arena.ts";
import { csumFold, sum16, sum32 } from "../wire/checksum.ts";

/** Data frames per batch (upstream TCP_FRAMES in passt). */
export const TCP_FRAMES = 128;
/** Frames without payload per batch. */
export const FLAGS_FRAMES = 256;
/** Offset of the payload inside a data slot. */
export const PAYLOAD_OFF = 128;
/** Size of a data slot. */
export const DATA_SLOT = 65536 + PAYLOAD_OFF;
/** Size of a flags slot. */
export const FLAGS_SLOT = 192;
/** Offset of the frame (Ethernet header) inside a flags slot. */
export const FLAGS_FRAME_OFF = 64;
/** Ethernet + IPv4 + TCP header bytes. */
export const HDR4 = 14 + 20 + 20;
/** Ethernet + IPv6 + TCP header bytes. */
export const HDR6 = 14 + 40 + 20;
/** Largest payload of an IPv4 frame (65535-byte frames, multiple of 4). */
export const MSS4 = (65535 - HDR4) & ~3;
/** Largest payload of an IPv6 frame. */
export const MSS6 = (65535 - HDR6) & ~3;
/** Arena bytes the TCP module reserves ({@linkcode TcpBufs} plus scratch). */
export const TCP_ARENA_BYTES = TCP_FRAMES * DATA_SLOT + FLAGS_FRAMES * FLAGS_SLOT + 65536 +
  16384 + 4096;

/** The TCP frame slots in the arena. */
export class TcpBufs {
  readonly dataOff: number;
  readonly flagsOff: number;
  /** Next free data and flags slot. */
  dataNext = 0;
  flagsNext = 0;

  /** Reserves the slots in `arena`. */
  constructor(arena: Arena) {
    this.dataOff = arena.alloc(TCP_FRAMES * DATA_SLOT, 4096);
    this.flagsOff = arena.alloc(FLAGS_FRAMES * FLAGS_SLOT, 64);
  }

  /** Payload offset of data slot `k`. */
  payload(k: number): number {
    return this.dataOff + k * DATA_SLOT + PAYLOAD_OFF;
  }

  /** Frame offset of the next flags slot, or -1 if all are taken. */
  takeFlags(): number {
    if (this.flagsNext >= FLAGS_FRAMES) return -1;
    return this.flagsOff + this.flagsNext++ * FLAGS_SLOT + FLAGS_FRAME_OFF;
  }

  /** Marks every slot free (after the tap flushed its queue). */
  reset(): void {
    this.dataNext = 0;
    this.flagsNext = 0;
  }
}

/**
 * Writes Ethernet, IP and TCP headers (with `optLen` option bytes already at
 * `l2 + hdr`, hdr 54 or 74) for a payload of `plen` bytes already in place, and both
 * checksums; the IPv6 addresses come from `src6`/`dst6` words. Returns the frame length.
 */
export function writeHeaders(
  u8: Uint8Array,
  u32: Uint32Array,
  dv: DataView,
  l2: number,
  v6: boolean,
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  src4: number,
  dst4: number,
  src6: Uint32Array,
  dst6: Uint32Array,
  flow: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  wnd: number,
  optLen: number,
  plen: number,
): number {
  for (let j = 0; j < 6; j++) {
    u8[l2 + j] = dstMac[j]!;
    u8[l2 + 6 + j] = srcMac[j]!;
  }
  const l4len = 20 + optLen + plen;
  let l4: number;
  let acc: number;
  if (!v6) {
    dv.setUint16(l2 + 12, 0x0800);
    const l3 = l2 + 14;
    dv.setUint32(l3, 0x45000000 | (20 + l4len));
    dv.setUint32(l3 + 4, 0x00004000); // id 0, DF
    dv.setUint32(l3 + 8, 0xff060000); // TTL 255, TCP, checksum 0
    dv.setUint32(l3 + 12, src4 >>> 0);
    dv.setUint32(l3 + 16, dst4 >>> 0);
    let h = 0x4500 + 20 + l4len + 0x4000 + 0xff06;
    h += (src4 >>> 16) + (src4 & 0xffff) + (dst4 >>> 16) + (dst4 & 0xffff);
    dv.setUint16(l3 + 10, csumFold(h));
    l4 = l3 + 20;
    acc = (src4 >>> 16) + (src4 & 0xffff) + (dst4 >>> 16) + (dst4 & 0xffff) + 6 + l4len;
  } else {
    dv.setUint16(l2 + 12, 0x86dd);
    const l3 = l2 + 14;
    dv.setUint32(l3, (0x60000000 | (flow & 0xfffff)) >>> 0);
    dv.setUint32(l3 + 4, ((l4len << 16) | 0x06ff) >>> 0); // payload length, TCP, hop limit 255
    acc = 6 + l4len;
    for (let j = 0; j < 4; j++) {
      const s = src6[j]!, d = dst6[j]!;
      dv.setUint32(l3 + 8 + j * 4, s);
      dv.setUint32(l3 + 24 + j * 4, d);
      acc += (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff);
    }
    l4 = l3 + 40;
  }
  dv.setUint16(l4, sport);
  dv.setUint16(l4 + 2, dport);
  dv.setUint32(l4 + 4, seq >>> 0);
  dv.setUint32(l4 + 8, ack >>> 0);
  dv.setUint16(l4 + 12, (((20 + optLen) >> 2) << 12) | flags);
  dv.setUint16(l4 + 14, wnd);
  dv.setUint32(l4 + 16, 0);
  acc = sum16(u8, l4, 20 + optLen, acc);
  if (plen) acc = sum32(u8, u32, l4 + 20 + optLen, plen, acc);
  dv.setUint16(l4 + 16, csumFold(acc));
  return (v6 ? 54 : 34) + l4len;
}
