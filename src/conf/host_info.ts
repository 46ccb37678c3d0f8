// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `host_info.ts` - host discovery: the template interfaces, their addresses, gateways, MAC, MTU
 *
 * Theory of operation: as upstream's `conf_ip4()` and `conf_ip6()`, a family's
 * template interface is the one named by `-i`/`--outbound-if4`/`6`, else the
 * interface of its default route. From it come the first address (IPv4: with
 * the prefix shortened until the gateway is on-link; IPv6: the global and the
 * link-local address), the default gateway, the MAC address and the MTU. A
 * family lacking any of these is not usable (`null`), and the configuration
 * falls back to local mode for it. The questions go over rtnetlink
 * (`../netlink.ts`), which knows the protocol but not what the answers mean.
 *
 * `parseConf()` (`conf.ts`) asks through a {@linkcode HostDiscovery} function
 * once the options that steer it are known: `main.ts` hands it
 * {@linkcode discover}, tests hand it made-up host facts. Addresses follow
 * `src/context.ts`: IPv4 as an unsigned 32-bit number (192.0.2.1 is
 * 0xc0000201), IPv6 as a `Uint32Array(4)` of big-endian words.
 *
 * @module
 */

import * as log from "../log.ts";
import {
  AF_INET,
  AF_INET6,
  type Family,
  famName,
  IFF_UP,
  LOOPBACK_IFINDEX,
  Netlink,
  NetlinkError,
} from "../netlink.ts";
import { ip6IsZero } from "../wire/inany.ts";

/** IPv4 facts about the template interface. */
export interface HostInfo4 {
  /** Interface name, such as "eth0". */
  ifname: string;
  /** Interface index. */
  ifindex: number;
  /** First IPv4 address of the interface. */
  addr: number;
  /** Prefix length, shortened until the gateway is on-link. */
  prefixLen: number;
  /** Default gateway. */
  gw: number;
  /** MAC address of the interface (6 bytes). */
  mac: Uint8Array;
  /** MTU of the interface. */
  mtu: number;
}

/** IPv6 facts about the template interface. */
export interface HostInfo6 {
  /** Interface name, such as "eth0". */
  ifname: string;
  /** Interface index. */
  ifindex: number;
  /** Global (universe scope) address. */
  addr: Uint32Array;
  /** Prefix length of the global address. */
  prefixLen: number;
  /** Link-local address. */
  addrLl: Uint32Array;
  /** Default gateway (often link-local). */
  gw: Uint32Array;
  /** MTU of the interface. */
  mtu: number;
  /** MAC address of the interface, if known (used when IPv4 is disabled). */
  mac?: Uint8Array;
}

/** Result of host discovery, per family. */
export interface HostInfo {
  v4: HostInfo4 | null;
  v6: HostInfo6 | null;
  /** Informational lines about what was not found, such as "No interfaces with usable IPv4 routes". */
  notes?: string[];
  /** A template interface asked for by name that doesn't exist. */
  noSuchIf?: string;
  /** Whether the loopback interface is up (local mode maps the gateway to it); unknown if absent. */
  loopbackUp?: boolean;
}

/** What the configuration asks host discovery for. */
export interface HostRequest {
  /** Template interface for IPv4 (-i or --outbound-if4), else the default route's. */
  ifname4?: string;
  /** Template interface for IPv6 (-i or --outbound-if6), else the default route's. */
  ifname6?: string;
  /** Whether IPv4 is wanted at all (not -6). */
  v4: boolean;
  /** Whether IPv6 is wanted at all (not -4). */
  v6: boolean;
}

/** Host discovery, called once the options that steer it are known. */
export type HostDiscovery = (req: HostRequest) => HostInfo;

/**
 * Shortens an IPv4 prefix until `gw` is on the same subnet as `addr`.
 * A prefix of 0 is first replaced by the classful default (A: 8, B: 16, C: 24).
 */
export function fixPrefix4(addr: number, prefixLen: number, gw: number): number {
  let p = prefixLen;
  if (!p) {
    if (addr >>> 31 === 0) p = 8;
    else if (addr >>> 30 === 2) p = 16;
    else if (addr >>> 29 === 6) p = 24;
    else p = 32;
  }
  while (p > 0 && ((addr ^ gw) >>> (32 - p)) !== 0) p--;
  return p;
}

/**
 * Index of the template interface for `family`: `name` if given, else the
 * default route's; 0 if there is none (noted in `info`).
 */
function templateIf(nl: Netlink, family: Family, name: string | undefined, info: HostInfo): number {
  if (name) {
    const ifindex = nl.ifindexByName(name);
    if (!ifindex) info.noSuchIf = name;
    return ifindex;
  }
  const ifindex = nl.defaultRouteIf(family);
  if (!ifindex) (info.notes ??= []).push(`No interfaces with usable ${famName(family)} routes`);
  return ifindex;
}

/** IPv4 facts of the template interface, or null if IPv4 isn't usable. */
function discover4(nl: Netlink, name: string | undefined, info: HostInfo): HostInfo4 | null {
  const ifindex = templateIf(nl, AF_INET, name, info);
  if (!ifindex) return null;
  const gw = nl.defaultGateway(ifindex, AF_INET);
  const { addr, prefixLen } = nl.addresses(ifindex, AF_INET);
  const link = nl.link(ifindex);
  if (!gw || !addr || isZeroMac(link.mac)) {
    log.debug(`IPv4: interface ${link.name} lacks a gateway, an address or a MAC address`);
    return null;
  }
  const p = fixPrefix4(addr, prefixLen, gw);
  return { ifname: link.name, ifindex, addr, prefixLen: p, gw, mac: link.mac, mtu: link.mtu };
}

/** IPv6 facts of the template interface, or null if IPv6 isn't usable. */
function discover6(nl: Netlink, name: string | undefined, host: HostInfo): HostInfo6 | null {
  const ifindex = templateIf(nl, AF_INET6, name, host);
  if (!ifindex) return null;
  const gw = nl.defaultGateway(ifindex, AF_INET6);
  const { addr, prefixLen, addrLl } = nl.addresses(ifindex, AF_INET6);
  const link = nl.link(ifindex);
  if (ip6IsZero(gw) || ip6IsZero(addr) || ip6IsZero(addrLl)) {
    log.debug(`IPv6: interface ${link.name} lacks a gateway, a global or a link-local address`);
    return null;
  }
  const info: HostInfo6 = {
    ifname: link.name,
    ifindex,
    addr,
    prefixLen,
    addrLl,
    gw,
    mtu: link.mtu,
  };
  if (!isZeroMac(link.mac)) info.mac = link.mac;
  return info;
}

/**
 * Discovers the template interfaces and their addresses, gateways, MAC and MTU,
 * as upstream's conf_ip4() and conf_ip6(): a family is null when not wanted or
 * when its address, gateway and MAC (IPv4) or link-local address (IPv6) aren't
 * all found.
 */
export function discoverHost(nl: Netlink, opts: HostRequest): HostInfo {
  const info: HostInfo = { v4: null, v6: null, notes: [] };
  // A kernel without the family, or a namespace without a routing table yet
  // (lo down: ENOENT), is a family without template, not an error.
  const tryFamily = <T>(fam: string, fn: () => T | null): T | null => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof NetlinkError)) throw e;
      (info.notes ??= []).push(`No interfaces with usable ${fam} routes`);
      log.debug(e.message);
      return null;
    }
  };
  if (opts.v4) info.v4 = tryFamily("IPv4", () => discover4(nl, opts.ifname4, info));
  if (opts.v6) info.v6 = tryFamily("IPv6", () => discover6(nl, opts.ifname6, info));
  try {
    info.loopbackUp = (nl.link(LOOPBACK_IFINDEX).flags & IFF_UP) !== 0;
  } catch (e) {
    if (!(e instanceof NetlinkError)) throw e;
  }
  return info;
}

/**
 * {@linkcode HostDiscovery} over a netlink socket of its own in the current
 * namespace; without one (no netlink in a sandbox), no family is usable.
 */
export function discover(req: HostRequest): HostInfo {
  let nl: Netlink;
  try {
    nl = Netlink.open();
  } catch {
    return { v4: null, v6: null };
  }
  try {
    return discoverHost(nl, req);
  } finally {
    nl.close();
  }
}

/** Whether all bytes of a MAC address are zero. */
function isZeroMac(mac: Uint8Array): boolean {
  for (const b of mac) if (b !== 0) return false;
  return true;
}
