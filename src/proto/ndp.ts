// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `ndp.ts` - NDP responder: neighbour and router advertisements for the guest
 *
 * Theory of operation: the tap path offers us every ICMPv6 packet first; we
 * take types 133 to 136 and leave the rest (echo) to the ICMP handler. With
 * `--no-ndp` the NDP messages are consumed and nothing is sent.
 *
 * - Neighbour Solicitation: every address is behind us, so we answer for any
 *   target with a Neighbour Advertisement (flags R, S, O) carrying our MAC in a
 *   target link-layer address option. Ignored: DAD probes (unspecified
 *   source), multicast and unspecified targets, targets that are the guest's own addresses
 *   (the same reasoning as ARP), and messages with a hop limit other than 255
 *   or a non-zero code (RFC 4861 §7.1.1).
 * - Router Solicitation (unless `--no-ra`): a Router Advertisement with the M
 *   flag (addresses come from DHCPv6 too), hop limit 255, router lifetime
 *   9000 s, a /64 prefix from `ip6.addr` with L and A set and 3600 s lifetimes,
 *   the MTU option when `c.conf.mtu` is set, RDNSS (lifetime 60 s) with the
 *   resolvers when `dhcpDns` is on, DNSSL (lifetime 60 s) with the search list
 *   when `dhcpSearch` is on, and our link-layer address. Unlike upstream, DNSSL
 *   does not depend on RDNSS being present: RFC 8106 makes them independent.
 * - Router and Neighbour Advertisements from the guest are ignored.
 *
 * Replies come from `ip6.gw` when it is link-local, else from our link-local
 * address, and go to the solicitor's source address and MAC (an RS from the
 * unspecified address is answered to all-nodes, ff02::1). The solicitor's
 * address is recorded in `c.ip6AddrLlSeen` or `c.ip6AddrSeen`.
 *
 * {@linkcode ndpTimer} sends unsolicited RAs to all-nodes once the guest has
 * shown up (a link-local source was seen), every 10 to 30 s at random
 * (RFC 4861 §6.2.1 MinRtrAdvInterval/MaxRtrAdvInterval of 10 and 30 s).
 *
 * @see RFC 4861, RFC 8106
 * @module
 */

import type { Ctx } from "../context.ts";
import type { TapOut } from "../tap/tap_out.ts";
import { l4Checksum6 } from "../wire/checksum.ts";
import * as eth from "../wire/ethernet.ts";
import * as icmpv6 from "../wire/icmpv6.ts";
import * as ipv4 from "../wire/ipv4.ts";
import { ip6IsLinkLocal, ip6IsUnspecified } from "../wire/inany.ts";
import * as ipv6 from "../wire/ipv6.ts";
import { writeDomainName } from "../wire/dns_name.ts";

/** Router lifetime in RAs, seconds. */
export const RA_ROUTER_LIFETIME = 9000;
/** Valid and preferred lifetime of the advertised prefix, seconds. */
export const RA_PREFIX_LIFETIME = 3600;
/** Lifetime of RDNSS and DNSSL options, seconds. */
export const RA_DNS_LIFETIME = 60;
/** Shortest interval between unsolicited RAs, milliseconds. */
export const RA_INTERVAL_MIN_MS = 10_000;
/** Longest interval between unsolicited RAs, milliseconds. */
export const RA_INTERVAL_MAX_MS = 30_000;

/** Most resolvers in one RDNSS option (keeps the RA well under the minimum MTU). */
const RDNSS_MAX = 16;
/** Longest DNSSL option body (its 8-octet length field tops out at 255 units). */
const DNSSL_MAX = 255 * 8;

const ND_OPT_SOURCE_LL = 1;
const ND_OPT_TARGET_LL = 2;
const ND_OPT_PREFIX = 3;
const ND_OPT_MTU = 5;
const ND_OPT_RDNSS = 25;
const ND_OPT_DNSSL = 31;

const dstWords = new Uint32Array(4);
const dstMac = new Uint8Array(6);
const ALL_NODES = new Uint32Array([0xff020000, 0, 0, 1]);
const ALL_NODES_MAC = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);
const nextRa = new WeakMap<Ctx, number>();

/** Our source address for NDP: the gateway if link-local, else our link-local address. */
function routerAddr(c: Ctx): Uint32Array {
  return ip6IsLinkLocal(c.conf.ip6.gw) ? c.conf.ip6.gw : c.conf.ip6.addrLl;
}

/** Writes our link-layer address option of `type` at `p`; returns p + 8. */
function putLlOption(u8: Uint8Array, p: number, type: number, mac: Uint8Array): number {
  u8[p] = type;
  u8[p + 1] = 1;
  eth.writeMac(u8, p + 2, mac);
  return p + 8;
}

/**
 * Finishes an ICMPv6 message of `l4len` bytes built at `o + 54` in the slot at
 * `o`: Ethernet and IPv6 headers, checksum, queue.
 */
function send(c: Ctx, tap: TapOut, o: number, dst: Uint32Array, l4len: number): void {
  const u8 = tap.u8;
  const dv = tap.dv;
  const l3 = eth.writeHeader(u8, dv, o, dstMac, c.conf.mac, eth.ETH_P_IPV6);
  const l4 = ipv6.push(u8, dv, l3, routerAddr(c), dst, ipv4.PROTO_ICMPV6, l4len, 255);
  icmpv6.setChecksum(dv, l4, 0);
  icmpv6.setChecksum(
    dv,
    l4,
    l4Checksum6(u8, l4, l4len, l3 + ipv6.SRC_OFF, l3 + ipv6.DST_OFF, ipv4.PROTO_ICMPV6),
  );
  tap.queue(o, l4 - o + l4len);
}

/** Builds and queues a Router Advertisement to `dst` (MAC already in `dstMac`). */
function sendRa(c: Ctx, tap: TapOut, dst: Uint32Array): void {
  const o = tap.slot();
  if (o < 0) return;
  const u8 = tap.u8;
  const dv = tap.dv;
  const conf = c.conf;
  const i = o + eth.HEADER_LEN + ipv6.HEADER_LEN;
  icmpv6.setType(dv, i, icmpv6.ROUTER_ADVERT);
  icmpv6.setCode(dv, i, 0);
  u8[i + 4] = 255; // Cur Hop Limit
  u8[i + 5] = 0x80; // M: addresses from DHCPv6
  dv.setUint16(i + 6, RA_ROUTER_LIFETIME);
  dv.setUint32(i + 8, 0); // Reachable Time: unspecified
  dv.setUint32(i + 12, 0); // Retrans Timer: unspecified
  let p = i + 16;

  const addr = conf.ip6.addr;
  if (!ip6IsUnspecified(addr)) {
    u8[p] = ND_OPT_PREFIX;
    u8[p + 1] = 4;
    u8[p + 2] = 64;
    u8[p + 3] = 0xc0; // L, A
    dv.setUint32(p + 4, RA_PREFIX_LIFETIME);
    dv.setUint32(p + 8, RA_PREFIX_LIFETIME);
    dv.setUint32(p + 12, 0);
    dv.setUint32(p + 16, addr[0]!);
    dv.setUint32(p + 20, addr[1]!);
    dv.setUint32(p + 24, 0);
    dv.setUint32(p + 28, 0);
    p += 32;
  }

  if (conf.mtu) {
    u8[p] = ND_OPT_MTU;
    u8[p + 1] = 1;
    dv.setUint16(p + 2, 0);
    dv.setUint32(p + 4, conf.mtu);
    p += 8;
  }

  const dns = conf.ip6.dns;
  if (conf.dhcpDns && dns.length > 0) {
    const n = dns.length < RDNSS_MAX ? dns.length : RDNSS_MAX;
    u8[p] = ND_OPT_RDNSS;
    u8[p + 1] = 1 + 2 * n;
    dv.setUint16(p + 2, 0);
    dv.setUint32(p + 4, RA_DNS_LIFETIME);
    for (let k = 0; k < n; k++) ipv6.writeAddr(dv, p + 8 + 16 * k, dns[k]!);
    p += 8 + 16 * n;
  }

  if (conf.dhcpSearch && conf.dnsSearch.length > 0) {
    const start = p + 8;
    let q = start;
    for (const name of conf.dnsSearch) {
      const r = writeDomainName(u8, q, p + DNSSL_MAX, name);
      if (r > 0) q = r;
    }
    if (q > start) {
      while ((q - p) & 7) u8[q++] = 0;
      u8[p] = ND_OPT_DNSSL;
      u8[p + 1] = (q - p) >> 3;
      dv.setUint16(p + 2, 0);
      dv.setUint32(p + 4, RA_DNS_LIFETIME);
      p = q;
    }
  }

  p = putLlOption(u8, p, ND_OPT_SOURCE_LL, conf.mac);
  send(c, tap, o, dst, p - i);
}

/**
 * Handles NDP messages (ICMPv6 types 133-136) in the Ethernet frame at `l2off`.
 *
 * @param now current time in milliseconds (unused: answers are immediate)
 * @returns true if the frame was an NDP message (answered, ignored or dropped),
 *   false if it is not NDP and should go to the ICMP handler
 */
export function ndp(
  c: Ctx,
  tap: TapOut,
  u8: Uint8Array,
  dv: DataView,
  l2off: number,
  len: number,
  _now: number,
): boolean {
  const i = ipv6.frameL4(dv, l2off, len, ipv4.PROTO_ICMPV6);
  if (i < 0) return false;
  const l3 = l2off + eth.HEADER_LEN;
  const end = ipv6.packetEnd(dv, l3);
  if (end - i < icmpv6.HEADER_LEN) return false;
  const type = icmpv6.type(dv, i);
  if (type < icmpv6.ROUTER_SOLICIT || type > icmpv6.NEIGHBOUR_ADVERT) return false;

  const conf = c.conf;
  if (conf.noNdp || !conf.v6) return true;
  if (type !== icmpv6.ROUTER_SOLICIT && type !== icmpv6.NEIGHBOUR_SOLICIT) return true;
  if (icmpv6.code(dv, i) !== 0 || ipv6.hopLimit(dv, l3) !== 255) return true;

  const srcOff = l3 + ipv6.SRC_OFF;
  const unspecified = ipv6.addrIsUnspecified(dv, srcOff);
  if (ipv6.addrIsMulticast(dv, srcOff)) return true;

  if (type === icmpv6.NEIGHBOUR_SOLICIT) {
    const t = i + 8;
    if (end - i < 24 || unspecified) return true;
    if (
      ipv6.addrIsMulticast(dv, t) || ipv6.addrIsUnspecified(dv, t) ||
      ipv6.addrEqualsWords(dv, t, conf.ip6.addr) ||
      ipv6.addrEqualsWords(dv, t, c.ip6AddrLlSeen) || sameAddr(u8, t, srcOff)
    ) {
      return true;
    }
    recordSeen(c, dv, l3);
    const o = tap.slot();
    if (o < 0) return true;
    const ou8 = tap.u8;
    const odv = tap.dv;
    const na = o + eth.HEADER_LEN + ipv6.HEADER_LEN;
    icmpv6.setType(odv, na, icmpv6.NEIGHBOUR_ADVERT);
    icmpv6.setCode(odv, na, 0);
    odv.setUint32(na + 4, 0xe0000000); // R, S, O
    for (let k = 0; k < 16; k++) ou8[na + 8 + k] = u8[t + k]!;
    putLlOption(ou8, na + 24, ND_OPT_TARGET_LL, conf.mac);
    ipv6.readSrc(dv, l3, dstWords);
    for (let k = 0; k < 6; k++) dstMac[k] = u8[l2off + eth.SRC_OFF + k]!;
    send(c, tap, o, dstWords, 32);
    return true;
  }

  // Router Solicitation.
  if (conf.noRa) return true;
  if (unspecified) {
    dstWords.set(ALL_NODES);
    dstMac.set(ALL_NODES_MAC);
  } else {
    recordSeen(c, dv, l3);
    ipv6.readSrc(dv, l3, dstWords);
    for (let k = 0; k < 6; k++) dstMac[k] = u8[l2off + eth.SRC_OFF + k]!;
  }
  sendRa(c, tap, dstWords);
  return true;
}

/** Whether the 16-byte addresses at `a` and `b` are equal. */
function sameAddr(u8: Uint8Array, a: number, b: number): boolean {
  for (let k = 0; k < 16; k++) if (u8[a + k] !== u8[b + k]) return false;
  return true;
}

/** Records the (specified) source of the packet at `l3` as the guest's address. */
function recordSeen(c: Ctx, dv: DataView, l3: number): void {
  if (ipv6.addrIsLinkLocal(dv, l3 + ipv6.SRC_OFF)) ipv6.readSrc(dv, l3, c.ip6AddrLlSeen);
  else ipv6.readSrc(dv, l3, c.ip6AddrSeen);
}

/**
 * Sends an unsolicited Router Advertisement to all-nodes when one is due.
 *
 * @param now current time in milliseconds
 * @returns when the next one is due (milliseconds), or -1 if RAs are disabled
 */
export function ndpTimer(c: Ctx, tap: TapOut, now: number): number {
  const conf = c.conf;
  if (conf.noNdp || conf.noRa || !conf.v6) return -1;
  let next = nextRa.get(c) ?? 0;
  if (ip6IsUnspecified(c.ip6AddrLlSeen)) return now + RA_INTERVAL_MIN_MS;
  if (now < next) return next;
  dstMac.set(ALL_NODES_MAC);
  sendRa(c, tap, ALL_NODES);
  next = now + RA_INTERVAL_MIN_MS +
    Math.floor(Math.random() * (RA_INTERVAL_MAX_MS - RA_INTERVAL_MIN_MS));
  nextRa.set(c, next);
  return next;
}
