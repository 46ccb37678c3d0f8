// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `host_info.ts` - what host discovery learned about the template interfaces
 *
 * Filled by `discoverHost()` in `src/netlink.ts` and consumed by the
 * configuration code. Addresses follow `src/context.ts`: IPv4 as an unsigned
 * 32-bit number (192.0.2.1 is 0xc0000201), IPv6 as a `Uint32Array(4)` of
 * big-endian words. A family is `null` when it is not usable on the host.
 *
 * @module
 */

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

/** What the configuration asks host discovery for (as netlink.ts `DiscoverOpts`). */
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
