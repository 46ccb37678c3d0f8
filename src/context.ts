// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `context.ts` - the configuration and the execution context
 *
 * Theory of operation: {@linkcode Conf} is what the command line and host
 * discovery decided, fixed once start-up is over. {@linkcode Ctx} is the single
 * execution context passed as first argument to handlers, as upstream's
 * `struct ctx`: it holds the configuration plus the state learned at run time
 * (the guest's MAC and the addresses it actually uses).
 *
 * Addresses are numbers: IPv4 as an unsigned 32-bit value in host order of the
 * dotted quad (192.0.2.1 is 0xc0000201), IPv6 as a `Uint32Array(4)` of
 * big-endian words (2001:db8::1 is [0x20010db8, 0, 0, 1]). An unset IPv4
 * address is 0, an unset IPv6 address is all zeroes.
 *
 * @module
 */

import type { FwdRules } from "./conf/fwd_opts.ts";

/** Mode of operation, from the program name or the first argument. */
export type Mode = "passt" | "pasta";

/** IPv4 configuration. */
export interface Ip4Conf {
  /** Address assigned to the guest. */
  addr: number;
  /** Prefix length of the guest's subnet. */
  prefixLen: number;
  /** Default gateway, also the address mapped to the host's loopback. */
  gw: number;
  /** Resolvers advertised via DHCP (after loopback ones were replaced by gw). */
  dns: number[];
  /** Guest-facing address of a resolver mapped to dnsHost (--dns-forward), 0 if none. */
  dnsMatch: number;
  /** First resolver of this family: target of --dns-forward, 0 if none. */
  dnsHost: number;
  /** Source address for outbound sockets (-o), 0 if none. */
  addrOut: number;
  /** Guest-side address meaning the host's loopback (--map-host-loopback, default gw), 0 if none. */
  mapHostLoopback: number;
  /** Guest-side address meaning the host's own address (--map-guest-addr), 0 if none. */
  mapGuestAddr: number;
  /** Our address on the tap for peers the guest can't see as they are (the gateway), 0 if none. */
  ourTapAddr: number;
  /** Outbound interface (--outbound-if4), "" if none. */
  ifnameOut: string;
}

/** IPv6 configuration. */
export interface Ip6Conf {
  /** Address assigned to the guest (global). */
  addr: Uint32Array;
  /** Host's link-local address on the template interface. */
  addrLl: Uint32Array;
  /** Default gateway (often link-local). */
  gw: Uint32Array;
  /** Resolvers advertised via NDP RDNSS and DHCPv6. */
  dns: Uint32Array[];
  /** Guest-facing address of a resolver mapped to dnsHost (--dns-forward), zero if none. */
  dnsMatch: Uint32Array;
  /** First resolver of this family: target of --dns-forward, zero if none. */
  dnsHost: Uint32Array;
  /** Source address for outbound sockets (-o), zero if none. */
  addrOut: Uint32Array;
  /** Guest-side address meaning the host's loopback (--map-host-loopback, default gw), zero if none. */
  mapHostLoopback: Uint32Array;
  /** Guest-side address meaning the host's own address (--map-guest-addr), zero if none. */
  mapGuestAddr: Uint32Array;
  /** Our link-local address on the tap: the gateway if link-local, else the host's. */
  ourTapLl: Uint32Array;
  /** Outbound interface (--outbound-if6), "" if none. */
  ifnameOut: string;
}

/** The protocol switches (`--no-tcp` ...), all off by default. */
export interface ProtoSwitches {
  noTcp: boolean;
  noUdp: boolean;
  noIcmp: boolean;
  noDhcp: boolean;
  noNdp: boolean;
  noDhcpv6: boolean;
  noRa: boolean;
}

/** No protocol switched off: the default. */
export const ALL_PROTOCOLS: Readonly<ProtoSwitches> = {
  noTcp: false,
  noUdp: false,
  noIcmp: false,
  noDhcp: false,
  noNdp: false,
  noDhcpv6: false,
  noRa: false,
};

/** How we log and whether we stay in the foreground: as the options say, in `Args` and `Conf` alike. */
export interface LogSwitches {
  debug: boolean;
  trace: boolean;
  quiet: boolean;
  foreground: boolean;
  logFile: string | null;
  /** --log-size, 0 when not given. */
  logSize: number;
}

/** pasta's namespace options: as the options say, in `Args` and `Conf` alike. */
export interface NsSwitches {
  /** pasta: tap interface name in the namespace. */
  nsIfname: string;
  /** pasta: MAC for the namespace interface, null to keep the kernel's. */
  nsMac: Uint8Array | null;
  /** pasta: namespace targets. */
  userns: string | null;
  netns: string | null;
  netnsOnly: boolean;
  noNetnsQuit: boolean;
  configNet: boolean;
}

/** No namespace option given: the default. */
export const NO_NS_SWITCHES: Readonly<NsSwitches> = {
  nsIfname: "",
  nsMac: null,
  userns: null,
  netns: null,
  netnsOnly: false,
  noNetnsQuit: false,
  configNet: false,
};

/** Everything decided at start-up by the command line and host discovery. */
export interface Conf extends ProtoSwitches, LogSwitches, NsSwitches {
  mode: Mode;
  /** --stats: seconds between statistics lines in the foreground, 0 for none. */
  stats: number;
  /** Target user and group (--runas), resolved to numbers. */
  uid: number;
  gid: number;
  /** passt: AF_UNIX socket path ("" = probe /tmp/passt_N.socket). */
  socketPath: string;
  /** Inherited tap/socket fd (--fd), -1 if none. */
  fd: number;
  oneOff: boolean;
  /** passt: vhost-user back end on the socket instead of the stream framing. */
  vhostUser: boolean;
  pcap: string | null;
  pidFile: string | null;
  /** Control socket for pesto (-c), null if none. */
  confPath: string | null;
  /** MTU advertised (DHCP option 26, NDP option 5); 0 = don't advertise. */
  mtu: number;
  /** Our MAC, the source towards the guest (6 bytes; -M, default 9a:55:9a:55:9a:55). */
  mac: Uint8Array;
  /** Template interface names per family ("" if the family is disabled). */
  ifname4: string;
  ifname6: string;
  /** Template interface indices per family (0 if the family is disabled). */
  ifindex4: number;
  ifindex6: number;
  v4: boolean;
  v6: boolean;
  /** Local mode per family: no template interface, link-local addresses (upstream's ifi = -1). */
  local4: boolean;
  local6: boolean;
  ip4: Ip4Conf;
  ip6: Ip6Conf;
  /** Search domains (dotted names). */
  dnsSearch: string[];
  /** Hostname (DHCP option 12) and FQDN (DHCP option 81, DHCPv6 option 39), "" for none. */
  hostname: string;
  fqdn: string;
  /** Whether DHCP/NDP/DHCPv6 advertise resolvers and search domains. */
  dhcpDns: boolean;
  dhcpSearch: boolean;
  /** No loopback fast path (--no-splice; always in passt). */
  noSplice: boolean;
  /** pasta: only the loopback fast path (--splice-only). */
  spliceOnly: boolean;
  /** pasta: host loopback forwards go to the namespace's loopback (--host-lo-to-ns-lo). */
  hostLoToNsLo: boolean;
  /** Listeners bind with IP_FREEBIND / IPV6_FREEBIND (--freebind). */
  freebind: boolean;
  /**
   * Forwarding rules at start-up: -t and -u (`host`: host to guest) and -T and
   * -U (`splice`, pasta: namespace to host). The running rules are
   * `fwd/fwd.ts`'s; this never changes.
   */
  fwd: FwdRules;
  /** --chroot-fallback: chroot() into the empty root if pivot_root() fails. */
  chrootFallback: boolean;
  /** pasta: PID target, 0 if none. */
  targetPid: number;
  /** pasta: command to spawn (empty: none; a PID or --netns target is used instead). */
  command: string[];
}

/** Execution context: configuration plus what is learned at run time. */
export interface Ctx {
  conf: Conf;
  /** Guest MAC, learned from frames (broadcast until then). */
  macGuest: Uint8Array;
  /** IPv4 source address seen from the guest. */
  ip4AddrSeen: number;
  /** IPv6 global and link-local source addresses seen from the guest. */
  ip6AddrSeen: Uint32Array;
  ip6AddrLlSeen: Uint32Array;
}
