// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `arp.ts` - proxy ARP responder for the guest
 *
 * Every address outside the guest lives behind us, so every ARP request is
 * answered with our own MAC (`c.conf.mac`), whatever the target, except:
 *
 * - gratuitous announcements (non-zero sender address equal to the target):
 *   answering would tell the guest its address is taken;
 * - requests for the guest's own assigned address, for the same reason.
 *
 * Probes (sender 0.0.0.0) for other addresses are answered: the guest must not
 * use an address that is ours to route.
 *
 * @see RFC 826, RFC 5227
 * @module
 */

import type { Ctx } from "../context.ts";
import type { TapOut } from "../tap/tap_out.ts";
import * as arpw from "../wire/arp.ts";
import * as eth from "../wire/ethernet.ts";

/** Length of an ARP reply frame (Ethernet header plus ARP for Ethernet/IPv4). */
const REPLY_LEN = eth.HEADER_LEN + arpw.HEADER_LEN;

/**
 * Answers an ARP request found in the Ethernet frame at `off` of `len` bytes.
 *
 * @returns true if the frame was a well-formed Ethernet/IPv4 ARP frame, answered
 *   or deliberately ignored; false if it was not ARP or was malformed
 */
export function arp(
  c: Ctx,
  tap: TapOut,
  u8: Uint8Array,
  dv: DataView,
  off: number,
  len: number,
): boolean {
  if (len < REPLY_LEN || eth.etherType(dv, off) !== eth.ETH_P_ARP) return false;
  const a = off + eth.HEADER_LEN;
  if (arpw.validate(dv, a, len - eth.HEADER_LEN) < 0) return false;
  if (
    arpw.htype(dv, a) !== arpw.HTYPE_ETHER || arpw.ptype(dv, a) !== eth.ETH_P_IP ||
    arpw.hlen(dv, a) !== 6 || arpw.plen(dv, a) !== 4
  ) {
    return false;
  }
  if (arpw.op(dv, a) !== arpw.OP_REQUEST) return true;
  const sip = arpw.senderIp(dv, a);
  const tip = arpw.targetIp(dv, a);
  if (sip !== 0 && sip === tip) return true;
  if (tip === c.conf.ip4.addr) return true;

  const o = tap.slot();
  if (o < 0) return true;
  const ou8 = tap.u8;
  const odv = tap.dv;
  const smac = arpw.senderMacOff(a);
  // Ethernet: to the requester's source MAC, from ours.
  for (let i = 0; i < 6; i++) ou8[o + i] = u8[off + eth.SRC_OFF + i]!;
  eth.writeMac(ou8, o + eth.SRC_OFF, c.conf.mac);
  eth.setEtherType(odv, o, eth.ETH_P_ARP);
  const r = o + eth.HEADER_LEN;
  odv.setUint16(r, arpw.HTYPE_ETHER);
  odv.setUint16(r + 2, eth.ETH_P_IP);
  odv.setUint8(r + 4, 6);
  odv.setUint8(r + 5, 4);
  odv.setUint16(r + 6, arpw.OP_REPLY);
  // Sender: our MAC, claiming the address asked for.
  eth.writeMac(ou8, arpw.senderMacOff(r), c.conf.mac);
  arpw.setSenderIp(odv, r, tip);
  // Target: the requester.
  const tmac = arpw.targetMacOff(r);
  for (let i = 0; i < 6; i++) ou8[tmac + i] = u8[smac + i]!;
  arpw.setTargetIp(odv, r, sip);
  tap.queue(o, REPLY_LEN);
  return true;
}
