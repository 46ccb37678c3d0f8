// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `nat_opts.ts` - the address-translation and splicing options
 *
 * Theory of operation: `--map-host-loopback ADDR|none` (and `--no-map-gw`,
 * its older form of `none`), `--map-guest-addr ADDR|none`, `--dns-host ADDR`,
 * `--host-lo-to-ns-lo`, `--no-splice`, `--splice-only` and `--freebind` are
 * collected by {@linkcode natOption} while the command line is read, checked
 * against each other by {@linkcode natCheck} once it is over, and turned into
 * the addresses of `Conf` by {@linkcode natApply} and
 * {@linkcode addResolver} once the template addresses are known, with
 * upstream 2026's defaults: the host's loopback is reached at the gateway
 * address, nothing maps to the guest's address, the first resolver is the DNS
 * host. `src/fwd/nat.ts` applies them to packets.
 *
 * @module
 */

import type { Ip4Conf, Ip6Conf, Mode } from "../context.ts";
import { parseIp4, parseIp6 } from "../ip.ts";
import {
  ip4IsBroadcast,
  ip4IsLoopback,
  ip4IsMulticast,
  ip4IsUnspecified,
  ip6Equal,
  ip6IsLinkLocal,
  ip6IsLoopback,
  ip6IsMulticast,
  ip6IsUnspecified,
  ip6IsZero,
} from "../wire/inany.ts";
import { ConfError } from "./conf_error.ts";

/** What the options asked for (0 and all-zero words: not given). */
export interface NatOpts {
  /** --map-host-loopback addresses. */
  mapHl4: number;
  mapHl6: Uint32Array;
  /** --no-map-gw, or --map-host-loopback none. */
  noMapGw: boolean;
  /** --map-guest-addr addresses. */
  mapGa4: number;
  mapGa6: Uint32Array;
  /** --dns-host addresses. */
  dnsHost4: number;
  dnsHost6: Uint32Array;
  hostLoToNsLo: boolean;
  noSplice: boolean;
  spliceOnly: boolean;
  freebind: boolean;
}

/** Nothing asked for. */
export function newNatOpts(): NatOpts {
  return {
    mapHl4: 0,
    mapHl6: new Uint32Array(4),
    noMapGw: false,
    mapGa4: 0,
    mapGa6: new Uint32Array(4),
    dnsHost4: 0,
    dnsHost6: new Uint32Array(4),
    hostLoToNsLo: false,
    noSplice: false,
    spliceOnly: false,
    freebind: false,
  };
}

/** Parses a --map-* argument into `o` (upstream `conf_nat()`); true for `none`. */
function mapArg(arg: string, set4: (a: number) => void, set6: (a: Uint32Array) => void): boolean {
  if (arg === "none") {
    set4(0);
    set6(new Uint32Array(4));
    return true;
  }
  const a6 = parseIp6(arg);
  if (a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6) && !ip6IsMulticast(a6)) {
    set6(a6);
    return false;
  }
  const a4 = parseIp4(arg);
  if (a4 !== null && !ip4IsUnspecified(a4) && !ip4IsLoopback(a4) && !ip4IsMulticast(a4)) {
    set4(a4);
    return false;
  }
  throw new ConfError(`Invalid address to remap to host: ${arg}`);
}

/** Applies one of the options of this module (long name, argument). Throws ConfError. */
export function natOption(o: NatOpts, name: string, arg: string): void {
  switch (name) {
    case "no-map-gw":
      o.noMapGw = true;
      break;
    case "map-host-loopback":
      if (mapArg(arg, (a) => o.mapHl4 = a, (a) => o.mapHl6 = a)) o.noMapGw = true;
      break;
    case "map-guest-addr":
      mapArg(arg, (a) => o.mapGa4 = a, (a) => o.mapGa6 = a);
      break;
    case "dns-host": {
      const a6 = parseIp6(arg);
      if (a6 !== null && !ip6IsUnspecified(a6)) {
        o.dnsHost6 = a6;
        break;
      }
      const a4 = parseIp4(arg);
      if (a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4)) {
        o.dnsHost4 = a4;
        break;
      }
      throw new ConfError(`Invalid host nameserver address: ${arg}`);
    }
    case "host-lo-to-ns-lo":
      o.hostLoToNsLo = true;
      break;
    case "no-splice":
      o.noSplice = true;
      break;
    case "splice-only":
      o.spliceOnly = true;
      break;
    case "freebind":
      o.freebind = true;
      break;
  }
}

/**
 * Checks the options against each other once the command line is read, as
 * upstream: passt never splices; `--splice-only` implies
 * `--host-lo-to-ns-lo`, `--no-icmp` and no DNS. Returns whether ICMP and DNS
 * are to be turned off. Throws ConfError.
 */
export function natCheck(mode: Mode, o: NatOpts): boolean {
  if (mode !== "pasta") {
    o.noSplice = true;
    if (o.spliceOnly) throw new ConfError("--splice-only is for pasta mode only");
  }
  if (o.noSplice && o.hostLoToNsLo) {
    throw new ConfError("--host-lo-to-ns-lo is incompatible with --no-splice");
  }
  if (mode === "pasta" && o.spliceOnly) {
    if (o.noSplice) throw new ConfError("--splice-only is incompatible with --no-splice");
    o.hostLoToNsLo = true;
    return true;
  }
  return false;
}

/**
 * Fills the translation addresses of `ip4` and `ip6` (enabled families as
 * given) from the options, once addresses and gateways are known.
 */
export function natApply(o: NatOpts, v4: boolean, v6: boolean, ip4: Ip4Conf, ip6: Ip6Conf): void {
  if (v4) {
    ip4.mapHostLoopback = o.mapHl4 || (o.noMapGw ? 0 : ip4.gw);
    ip4.mapGuestAddr = o.mapGa4;
    ip4.ourTapAddr = ip4.gw;
    ip4.dnsHost = o.dnsHost4;
  }
  if (v6) {
    ip6.mapHostLoopback = !ip6IsZero(o.mapHl6)
      ? o.mapHl6
      : o.noMapGw
      ? new Uint32Array(4)
      : new Uint32Array(ip6.gw);
    ip6.mapGuestAddr = o.mapGa6;
    ip6.ourTapLl = new Uint32Array(ip6IsLinkLocal(ip6.gw) ? ip6.gw : ip6.addrLl);
    ip6.dnsHost = o.dnsHost6;
  }
}

/**
 * Adds resolver `a` to the IPv4 list, as upstream's `add_dns_resolv4()`: the
 * first one becomes the DNS host unless `--dns-host` was given; a loopback one
 * (or the host-loopback address) is advertised as the `--dns-forward` address,
 * else as the host-loopback address (which then becomes the DNS match), and
 * dropped when neither exists.
 */
export function addResolver4(ip4: Ip4Conf, a: number): void {
  if (ip4.dnsHost === 0) ip4.dnsHost = a;
  let ns = a;
  if (ip4IsLoopback(a) || (ip4.mapHostLoopback !== 0 && a === ip4.mapHostLoopback)) {
    if (ip4.dnsMatch === 0) {
      if (ip4.mapHostLoopback === 0) return;
      ns = ip4.mapHostLoopback;
      ip4.dnsMatch = ip4.mapHostLoopback;
    } else {
      ns = ip4.dnsMatch;
    }
  }
  ip4.dns.push(ns);
}

/** Adds IPv6 resolver `a`, as {@linkcode addResolver4} (upstream `add_dns_resolv6()`). */
export function addResolver6(ip6: Ip6Conf, a: Uint32Array): void {
  if (ip6IsZero(ip6.dnsHost)) ip6.dnsHost = a;
  let ns = a;
  const hl = ip6.mapHostLoopback;
  if (ip6IsLoopback(a) || (!ip6IsZero(hl) && ip6Equal(a, hl))) {
    if (ip6IsZero(ip6.dnsMatch)) {
      if (ip6IsZero(hl)) return;
      ns = new Uint32Array(hl);
      ip6.dnsMatch = new Uint32Array(hl);
    } else {
      ns = ip6.dnsMatch;
    }
  }
  ip6.dns.push(ns);
}
