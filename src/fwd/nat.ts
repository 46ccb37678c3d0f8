// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/nat.ts` - the one address translation of every protocol, in every direction
 *
 * Theory of operation: a flow has two sides (upstream's flowsides), each
 * described from our point of view on one interface (pif): the endpoint's
 * address and port (`eaddr`, `eport`: the guest, a host peer) and our own
 * address and port as that endpoint sees them (`oaddr`, `oport`). A flowside
 * is {@linkcode SIDE_WORDS} words of a `Uint32Array` at a word offset, so that
 * a flow table can keep all of them in one typed array:
 *
 *     [eaddr0..3, oaddr0..3, eport, oport]
 *
 * Addresses are "inany" (`wire/inany.ts`): IPv6 as four big-endian words,
 * IPv4 as the IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, words
 * `[0, 0, 0xffff, a]`).
 *
 * The initiating side of a new flow is filled from the packet or the accepted
 * socket; one of the `natFrom*` functions then fills the target side and says
 * on which interface it lives ({@linkcode PIF_HOST}, {@linkcode PIF_TAP},
 * {@linkcode PIF_SPLICE}, or {@linkcode PIF_NONE} to refuse the flow):
 *
 * - {@linkcode natFromTap}: from the guest. A DNS flow (TCP or UDP to port 53
 *   or 853) to the `--dns-forward` address goes to `--dns-host`; the
 *   `--map-host-loopback` address is the host's loopback, the
 *   `--map-guest-addr` address the host's own address (the guest's, copied);
 *   anything else goes where the guest sent it. The source is `-o` (or left to
 *   the kernel); TCP and ICMP let the kernel pick the source port, UDP keeps
 *   the guest's.
 * - {@linkcode natFromHost}: from a host socket matched by a forwarding rule.
 *   The target port is the rule's; the target address is the rule's, else the
 *   guest. Loopback peers of TCP and UDP in pasta are spliced (socket to socket,
 *   the namespace's own address as destination, or its loopback with
 *   `--host-lo-to-ns-lo`) unless `--no-splice`; with `--splice-only` nothing
 *   else is forwarded. Otherwise the peer's address is shown to the guest
 *   through {@linkcode natInbound}.
 * - {@linkcode natFromSplice}: from the namespace's loopback (`-T`, `-U`) to
 *   the host's loopback, addresses kept, the rule's target port.
 *
 * Replies never need translating: they follow the flow's sides swapped (a
 * DNS answer comes back from the `--dns-forward` address the guest asked,
 * since that is the flow's address on the tap).
 *
 * All functions are pure over `(Ctx, words)`: no allocation, no exceptions.
 *
 * @module
 */

import type { Ctx } from "../context.ts";
import {
  copyAddr,
  equals4,
  equals6,
  ip6IsZero,
  isLinkLocal6,
  isLoopback,
  isMulticast,
  isUnspecified,
  isV4,
  setV4,
  setV6,
} from "../wire/inany.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as ipv6 from "../wire/ipv6.ts";

/** Words of one flowside. */
export const SIDE_WORDS = 10;
/** Word offsets inside a flowside. */
export const EADDR = 0;
/** Our address, as the endpoint sees it. */
export const OADDR = 4;
/** The endpoint's port. */
export const EPORT = 8;
/** Our port, as the endpoint sees it. */
export const OPORT = 9;

/**
 * Writes the addresses of a packet from the guest into the tap side of flow
 * key `k`: its source as the endpoint, its destination as ours.
 */
export function keyFromGuest(k: Uint32Array, dv: DataView, l3: number, v6: boolean): void {
  if (v6) {
    for (let j = 0; j < 4; j++) {
      k[EADDR + j] = ipv6.srcWord(dv, l3, j);
      k[OADDR + j] = ipv6.dstWord(dv, l3, j);
    }
  } else {
    setV4(k, EADDR, ipv4.src(dv, l3));
    setV4(k, OADDR, ipv4.dst(dv, l3));
  }
}

/** Where a forwarding rule sends `port`: `to` plus its offset from `first`, in 16 bits. */
export function targetPort(
  rule: { readonly first: number; readonly to: number },
  port: number,
): number {
  return (rule.to + port - rule.first) & 0xffff;
}

/** No interface: the flow is refused. */
export const PIF_NONE = 0;
/** The guest's interface (tap device, passt's socket, vhost-user). */
export const PIF_TAP = 1;
/** Host sockets. */
export const PIF_HOST = 2;
/** Sockets in the namespace (pasta's loopback fast path). */
export const PIF_SPLICE = 3;
/** Names of the interfaces, as upstream's `pif_name()`. */
export const PIF_NAMES = ["<none>", "TAP", "HOST", "SPLICE"] as const;

/** IP protocol numbers, from wire/ipv4.ts under the names flow code uses. */
export {
  PROTO_ICMP as IPPROTO_ICMP,
  PROTO_ICMPV6 as IPPROTO_ICMPV6,
  PROTO_TCP as IPPROTO_TCP,
  PROTO_UDP as IPPROTO_UDP,
} from "../wire/ipv4.ts";

/** The part of a forwarding rule the translation needs. */
export interface NatRule {
  /** First port of the rule's range. */
  readonly first: number;
  /** Target port of `first`; port p goes to `to + (p - first)`. */
  readonly to: number;
  /** Target address (inany words), all zero: unspecified (the guest, or the kernel's choice). */
  readonly taddr: Uint32Array;
}

/** Whether `proto` to `port` is DNS (TCP or UDP, port 53 or 853), as upstream's `is_dns_flow()`. */
export function isDnsFlow(proto: number, port: number): boolean {
  return (proto === ipv4.PROTO_TCP || proto === ipv4.PROTO_UDP) && (port === 53 || port === 853);
}

// -- translations ------------------------------------------------------------

/**
 * Address-only translation from the guest towards the host (upstream
 * `nat_outbound()`): `s[so]` as the guest addressed it, written to `w[o]`.
 */
export function natOutbound(c: Ctx, s: Uint32Array, so: number, w: Uint32Array, o: number): void {
  const ip4 = c.conf.ip4, ip6 = c.conf.ip6;
  if (ip4.mapHostLoopback !== 0 && equals4(s, so, ip4.mapHostLoopback)) {
    setV4(w, o, 0x7f000001);
  } else if (!ip6IsZero(ip6.mapHostLoopback) && equals6(s, so, ip6.mapHostLoopback)) {
    w[o] = 0, w[o + 1] = 0, w[o + 2] = 0, w[o + 3] = 1;
  } else if (ip4.mapGuestAddr !== 0 && equals4(s, so, ip4.mapGuestAddr)) {
    setV4(w, o, ip4.addr);
  } else if (!ip6IsZero(ip6.mapGuestAddr) && equals6(s, so, ip6.mapGuestAddr)) {
    setV6(w, o, ip6.addr);
  } else if (s !== w || so !== o) {
    copyAddr(w, o, s, so);
  }
}

/**
 * Whether a host address reaches the guest untranslated (upstream
 * `fwd_guest_accessible()`): not loopback, not unspecified, not the guest's
 * own address (which the host has too).
 */
export function guestAccessible(c: Ctx, w: Uint32Array, o: number): boolean {
  if (isLoopback(w, o) || isUnspecified(w, o)) return false;
  if (isV4(w, o)) {
    const a = w[o + 3]!;
    return a !== c.conf.ip4.addr && a !== c.ip4AddrSeen;
  }
  if (equals6(w, o, c.conf.ip6.addr)) return false;
  if (!ip6IsZero(c.ip6AddrSeen) && equals6(w, o, c.ip6AddrSeen)) return false;
  return true;
}

/**
 * Address-only translation from the host towards the guest (upstream
 * `nat_inbound()`): `s[so]` as the host sees it, written to `w[o]` as the guest
 * will see it. False if it can't be shown as is (the caller then uses our own
 * address on the tap: {@linkcode ourTapAddr}).
 */
export function natInbound(c: Ctx, s: Uint32Array, so: number, w: Uint32Array, o: number): boolean {
  const ip4 = c.conf.ip4, ip6 = c.conf.ip6;
  if (ip4.mapHostLoopback !== 0 && equals4(s, so, 0x7f000001)) {
    // Specifically 127.0.0.1, not 127.0.0.0/8.
    setV4(w, o, ip4.mapHostLoopback);
  } else if (
    !ip6IsZero(ip6.mapHostLoopback) && (s[so]! | s[so + 1]! | s[so + 2]!) === 0 && s[so + 3] === 1
  ) {
    setV6(w, o, ip6.mapHostLoopback);
  } else if (ip4.mapGuestAddr !== 0 && equals4(s, so, ip4.addr)) {
    setV4(w, o, ip4.mapGuestAddr);
  } else if (!ip6IsZero(ip6.mapGuestAddr) && equals6(s, so, ip6.addr)) {
    setV6(w, o, ip6.mapGuestAddr);
  } else if (guestAccessible(c, s, so)) {
    if (s !== w || so !== o) copyAddr(w, o, s, so);
  } else {
    return false;
  }
  return true;
}

/**
 * Writes our own address on the tap for the family of `v4` at `w[o]`: the
 * gateway for IPv4, our link-local address for IPv6 (upstream
 * `our_tap_addr`, `our_tap_ll`). False if IPv4 has none.
 */
export function ourTapAddr(c: Ctx, v4: boolean, w: Uint32Array, o: number): boolean {
  if (v4) {
    if (c.conf.ip4.ourTapAddr === 0) return false;
    setV4(w, o, c.conf.ip4.ourTapAddr);
    return true;
  }
  setV6(w, o, c.conf.ip6.ourTapLl);
  return true;
}

/**
 * Writes at `w[o]` the guest address to send to, matching the family and scope
 * of the address at `t[to]` (upstream `fwd_default_guest_addr()`).
 */
export function defaultGuestAddr(
  c: Ctx,
  t: Uint32Array,
  to: number,
  w: Uint32Array,
  o: number,
): void {
  if (isV4(t, to)) setV4(w, o, c.ip4AddrSeen);
  else if (isLinkLocal6(t, to)) setV6(w, o, c.ip6AddrLlSeen);
  else setV6(w, o, c.ip6AddrSeen);
}

/**
 * Fills the target side `tgt[to]` of a flow initiated by the guest, side
 * `ini[io]`, for protocol `proto` (upstream `fwd_nat_from_tap()`); returns the
 * target interface ({@linkcode PIF_HOST}).
 */
export function natFromTap(
  c: Ctx,
  proto: number,
  ini: Uint32Array,
  io: number,
  tgt: Uint32Array,
  to: number,
): number {
  const ip4 = c.conf.ip4, ip6 = c.conf.ip6;
  const oport = ini[io + OPORT]!;
  if (isDnsFlow(proto, oport) && ip4.dnsMatch !== 0 && equals4(ini, io + OADDR, ip4.dnsMatch)) {
    setV4(tgt, to + EADDR, ip4.dnsHost);
  } else if (
    isDnsFlow(proto, oport) && !ip6IsZero(ip6.dnsMatch) && equals6(ini, io + OADDR, ip6.dnsMatch)
  ) {
    setV6(tgt, to + EADDR, ip6.dnsHost);
  } else {
    natOutbound(c, ini, io + OADDR, tgt, to + EADDR);
  }
  tgt[to + EPORT] = oport;
  if (isV4(tgt, to + EADDR)) setV4(tgt, to + OADDR, ip4.addrOut);
  else setV6(tgt, to + OADDR, ip6.addrOut);
  tgt[to + OPORT] = proto === ipv4.PROTO_UDP ? ini[io + EPORT]! : 0;
  return PIF_HOST;
}

/**
 * Fills the target side `tgt[to]` of a flow from the namespace's loopback on a
 * `-T`/`-U` rule (upstream `fwd_nat_from_splice()`); {@linkcode PIF_HOST}, or
 * {@linkcode PIF_NONE} if either address of `ini` isn't loopback.
 */
export function natFromSplice(
  rule: NatRule,
  proto: number,
  ini: Uint32Array,
  io: number,
  tgt: Uint32Array,
  to: number,
): number {
  if (!isLoopback(ini, io + EADDR) || !isLoopback(ini, io + OADDR)) return PIF_NONE;
  copyAddr(tgt, to + OADDR, ini, io + EADDR);
  copyAddr(tgt, to + EADDR, ini, io + OADDR);
  tgt[to + OPORT] = proto === ipv4.PROTO_UDP ? ini[io + EPORT]! : 0;
  tgt[to + EPORT] = targetPort(rule, ini[io + OPORT]!);
  return PIF_HOST;
}

/**
 * Fills the target side `tgt[to]` of a flow from a host socket on a `-t`/`-u`
 * rule (upstream `fwd_nat_from_host()`); returns {@linkcode PIF_SPLICE},
 * {@linkcode PIF_TAP} or {@linkcode PIF_NONE}.
 */
export function natFromHost(
  c: Ctx,
  rule: NatRule,
  proto: number,
  ini: Uint32Array,
  io: number,
  tgt: Uint32Array,
  to: number,
): number {
  const conf = c.conf;
  tgt[to + EPORT] = targetPort(rule, ini[io + OPORT]!);
  const taddrSet = !ip6IsZero(rule.taddr);
  if (taddrSet) {
    setV6(tgt, to + EADDR, rule.taddr);
  } else if (
    isMulticast(ini, io + OADDR) || (conf.hostLoToNsLo && isLoopback(ini, io + OADDR))
  ) {
    copyAddr(tgt, to + EADDR, ini, io + OADDR);
  } else {
    tgt.fill(0, to + EADDR, to + EADDR + 4);
  }

  if (
    !conf.noSplice && !taddrSet && isLoopback(ini, io + EADDR) &&
    (proto === ipv4.PROTO_TCP || proto === ipv4.PROTO_UDP)
  ) {
    // Spliced: the kernel picks the source to match; by default the guest's
    // own address is the destination, so services bound to its loopback only
    // stay private (--host-lo-to-ns-lo changes that, above).
    if (isV4(ini, io + EADDR)) setV4(tgt, to + OADDR, 0);
    else tgt.fill(0, to + OADDR, to + OADDR + 4);
    tgt[to + OPORT] = proto === ipv4.PROTO_UDP ? ini[io + EPORT]! : 0;
    if (isUnspecified(tgt, to + EADDR)) {
      defaultGuestAddr(c, tgt, to + OADDR, tgt, to + EADDR);
    }
    return PIF_SPLICE;
  }
  if (conf.spliceOnly) return PIF_NONE;

  if (!natInbound(c, ini, io + EADDR, tgt, to + OADDR)) {
    if (!ourTapAddr(c, isV4(ini, io + EADDR), tgt, to + OADDR)) return PIF_NONE;
  }
  tgt[to + OPORT] = ini[io + EPORT]!;
  if (isUnspecified(tgt, to + EADDR)) defaultGuestAddr(c, tgt, to + OADDR, tgt, to + EADDR);
  return PIF_TAP;
}
