// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `conf.ts` - command line and host facts to a validated {@linkcode Conf}
 *
 * Theory of operation: as upstream's conf(), in passes.
 *
 * 1. The options, in command-line order (`args.ts`): the last of repeated or
 *    conflicting options wins; a value that can't be used stops with one
 *    line. `-h`, `--version` and `--print-capabilities` return at once.
 * 2. The UID/GID to run as (`runas.ts`), then host discovery, which needs
 *    -i, --outbound-if4/6, -4 and -6. A family without a template interface
 *    (no default route: an offline host, a CI sandbox) runs in upstream's
 *    local mode: IPv4 169.254.2.1/16 with gateway 169.254.2.2, IPv6 with
 *    link-local addresses only and gateway fe80::1, the gateway mapped to
 *    the host's loopback as usual. An outbound interface (--outbound-if4/6)
 *    that isn't usable is "External interface not usable". Addresses given
 *    with -a/-n/-g replace what the host has (upstream's local mode drops
 *    them; we keep what was asked for).
 * 3. -t/-u, then -T/-U, into the four forwarding maps (defaults: pasta
 *    `auto`, passt `none`), then the pasta target (PID, command or --netns)
 *    and DNS (resolv.conf unless -D; loopback resolvers become the
 *    --map-host-loopback address).
 *
 * Nothing here opens sockets or namespaces: the caller does that with the
 * returned Conf. Warnings come back as lines for the caller to log.
 *
 * @module
 */

import type { Conf, Ip4Conf, Ip6Conf, Mode } from "../context.ts";
import { ip6IsZero } from "../wire/inany.ts";
import {
  type Args,
  classfulPrefix,
  MTU_DEFAULT,
  MTU_MIN_IPV4,
  MTU_MIN_IPV6,
  parseArgs,
} from "./args.ts";
import { ConfError } from "./conf_error.ts";
import type { HostDiscovery, HostInfo } from "./host_info.ts";
import { confFwdRules } from "./fwd_opts.ts";
import { addResolver4, addResolver6, natApply, natCheck } from "./nat_opts.ts";
import { parseResolvConf, readResolvConf, RESOLV_CONF } from "./resolv.ts";
import { type IdSources, runasIds } from "./runas.ts";
import { usage, version } from "./usage.ts";

export { ConfError } from "./conf_error.ts";
export { formatConfSummary } from "./conf_print.ts";
export { LOG_SIZE_MIN, MTU_DEFAULT, MTU_MAX } from "./args.ts";
export { usage, version } from "./usage.ts";

/** Default --log-size. */
export const LOG_SIZE_DEFAULT = 1024 * 1024;
/** Base directory for named network namespaces (`--netns NAME`). */
export const NETNS_RUN_DIR = "/run/netns";
/** Our MAC towards the guest unless -M: locally administered, as upstream since 2024. */
export const MAC_DEFAULT = Uint8Array.from([0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55]);
/** Local mode (no template interface): the guest's IPv4 address, as upstream. */
export const LOCAL_ADDR4 = 0xa9fe0201; // 169.254.2.1
/** Local mode: our IPv4 address, the guest's gateway. */
export const LOCAL_GW4 = 0xa9fe0202; // 169.254.2.2
/** Local mode: IPv4 prefix length. */
export const LOCAL_PREFIX4 = 16;
/** Local mode: our IPv6 address, the guest's gateway, fe80::1. */
export const LOCAL_GW6 = Uint32Array.of(0xfe800000, 0, 0, 1);
/** What --print-capabilities prints (on standard error, as upstream's info()). */
export const CAPABILITIES = '{\n  "type": "net"\n}\n';

/** Where parseConf() reads system facts; each can be replaced for tests. */
export interface ConfOptions extends IdSources {
  /** resolv.conf path (default /etc/resolv.conf). */
  resolvConf?: string;
  /** resolv.conf text, instead of reading a file. */
  resolvText?: string;
  /** /proc/sys/net/ipv4/ip_local_port_range text, instead of reading the file. */
  portRange?: string;
}

/** What the command line asked for. */
export type ConfResult =
  | { kind: "conf"; conf: Conf; warnings: string[]; notes: string[] }
  | { kind: "help" | "version" | "capabilities"; text: string; warnings: string[] };

/** Widen a prefix until `gw` is on the same subnet as `addr`. */
function widenPrefix(addr: number, prefixLen: number, gw: number): number {
  let p = prefixLen;
  while (p > 0 && ((addr ^ gw) >>> (32 - p)) !== 0) p--;
  return p;
}

function emptyIp4(): Ip4Conf {
  return {
    addr: 0,
    prefixLen: 0,
    gw: 0,
    dns: [],
    dnsMatch: 0,
    dnsHost: 0,
    addrOut: 0,
    mapHostLoopback: 0,
    mapGuestAddr: 0,
    ourTapAddr: 0,
    ifnameOut: "",
  };
}

function emptyIp6(): Ip6Conf {
  return {
    addr: new Uint32Array(4),
    addrLl: new Uint32Array(4),
    gw: new Uint32Array(4),
    dns: [],
    dnsMatch: new Uint32Array(4),
    dnsHost: new Uint32Array(4),
    addrOut: new Uint32Array(4),
    mapHostLoopback: new Uint32Array(4),
    mapGuestAddr: new Uint32Array(4),
    ourTapLl: new Uint32Array(4),
    ifnameOut: "",
  };
}

/**
 * Parse the command line (`argv` without the program name) for `mode`, with
 * host discovery given as its result or as a function of the template
 * interfaces asked for. Throws {@linkcode ConfError}.
 */
export function parseConf(
  mode: Mode,
  argv: readonly string[],
  host: HostInfo | HostDiscovery,
  opts: ConfOptions = {},
): ConfResult {
  const parsed = parseArgs(mode, argv);
  switch (parsed.kind) {
    case "help":
      return { kind: "help", text: usage(mode), warnings: parsed.warnings };
    case "version":
      return { kind: "version", text: version(mode), warnings: parsed.warnings };
    case "capabilities":
      return { kind: "capabilities", text: CAPABILITIES, warnings: parsed.warnings };
  }
  const warnings: string[] = [...parsed.args.warnings];
  try {
    return buildConf(mode, parsed.args, host, opts, warnings);
  } catch (e) {
    if (e instanceof ConfError) e.warnings = warnings;
    throw e;
  }
}

/** Passes 2 and 3: identity, host discovery, forwarding, targets and DNS. */
function buildConf(
  mode: Mode,
  a: Args,
  host: HostInfo | HostDiscovery,
  opts: ConfOptions,
  warnings: string[],
): ConfResult {
  const fail = (msg: string): never => {
    throw new ConfError(msg);
  };
  const { ifname, ifnameOut4, ifnameOut6, v4Only, v6Only, operands, flags } = a;
  let { foreground, quiet, userns, netns, netnsOnly } = a;
  const [uid, gid] = runasIds(a.runas, opts, warnings);
  const nat = a.nat;
  // --splice-only: no ICMP, no DNS (upstream).
  const spliceOnly = natCheck(mode, nat);
  // No tap device with --splice-only (upstream): nothing to answer or advertise to
  if (spliceOnly) {
    flags.noIcmp = true;
    flags.noNdp = true;
    flags.noRa = true;
    flags.noDhcp = true;
    flags.noDhcpv6 = true;
  }

  // Host discovery, steered by -i, --outbound-if4/6, -4 and -6.
  const want4 = !v6Only;
  const want6 = !v4Only;
  let info: HostInfo;
  if (typeof host === "function") {
    const req: Parameters<HostDiscovery>[0] = { v4: want4, v6: want6 };
    const t4 = ifname ?? (ifnameOut4 || null);
    const t6 = ifname ?? (ifnameOut6 || null);
    if (t4 !== null) req.ifname4 = t4;
    if (t6 !== null) req.ifname6 = t6;
    info = host(req);
  } else {
    info = host;
  }
  const notes = [...(info.notes ?? [])];
  if (info.noSuchIf !== undefined && info.noSuchIf === ifname) {
    fail(`Invalid interface name ${ifname}: No such device`);
  }
  const h4 = want4 ? info.v4 : null;
  const h6 = want6 ? info.v6 : null;
  // An outbound interface given for a family must be its template, as upstream.
  if ((want4 && ifnameOut4 && h4 === null) || (want6 && ifnameOut6 && h6 === null)) {
    fail("External interface not usable");
  }
  // Local mode: a wanted family without a template interface still works,
  // with link-local addresses and the gateway mapped to the host's loopback.
  const local4 = want4 && h4 === null;
  const local6 = want6 && h6 === null;
  // --splice-only has no tap device: no template needed, nothing to say (upstream)
  if (local4 && !spliceOnly) notes.push("IPv4: no external interface as template, use local mode");
  if (local6 && !spliceOnly) notes.push("IPv6: no external interface as template, use local mode");
  // Local mode reaches the host only through its loopback: fail early, not with a guest that can't.
  if ((local4 || local6) && !spliceOnly && !nat.noMapGw && info.loopbackUp === false) {
    fail('Loopback interface is down, local mode needs it: try "ip link set lo up"');
  }
  const mtu = a.mtu ?? MTU_DEFAULT;
  if (want4 && mtu < MTU_MIN_IPV4) {
    warnings.push(`MTU ${mtu} is too small for IPv4 (minimum ${MTU_MIN_IPV4})`);
  }
  if (want6 && mtu < MTU_MIN_IPV6) {
    warnings.push(`MTU ${mtu} is too small for IPv6 (minimum ${MTU_MIN_IPV6})`);
  }

  const ip4 = emptyIp4();
  const ip6 = emptyIp6();
  if (want4) {
    const hostAddr = h4?.addr ?? LOCAL_ADDR4;
    ip4.addr = a.addr4 ?? hostAddr;
    ip4.gw = a.gw4 ?? h4?.gw ?? LOCAL_GW4;
    const hostPrefix = h4?.prefixLen ?? LOCAL_PREFIX4;
    const p = a.prefix4 || (a.addr4 === null ? hostPrefix : classfulPrefix(ip4.addr));
    ip4.prefixLen = widenPrefix(ip4.addr, p, ip4.gw);
  }
  if (want6) {
    // In local mode the guest has no global address (no DHCPv6): link-local only.
    ip6.addr = a.addr6 ?? h6?.addr ?? new Uint32Array(4);
    ip6.gw = a.gw6 ?? h6?.gw ?? LOCAL_GW6.slice();
    ip6.addrLl = h6?.addrLl ?? LOCAL_GW6.slice();
  }
  ip4.addrOut = a.addrOut4 ?? 0;
  ip6.addrOut = a.addrOut6 ?? new Uint32Array(4);
  ip4.ifnameOut = ifnameOut4;
  ip6.ifnameOut = ifnameOut6;
  ip4.dnsMatch = a.dnsFwd4 ?? 0;
  ip6.dnsMatch = a.dnsFwd6 ?? new Uint32Array(4);
  natApply(nat, want4, want6, ip4, ip6);

  // Forwarding rules: -t/-u first, then -T/-U, as upstream's later passes.
  const fwd = confFwdRules(mode, a.ports, {
    v4: want4,
    v6: want6,
    tcp: !flags.noTcp,
    udp: !flags.noUdp,
    scan: mode === "pasta",
  }, opts.portRange);

  // pasta target: PID, command, or --netns.
  let targetPid = 0;
  let command: string[] = [];
  if (mode === "pasta") {
    if (netns !== null && operands.length > 0) fail("Both --netns and PID or command given");
    if (operands.length === 1 && /^\d+$/.test(operands[0]!)) {
      const pid = Number(operands[0]);
      if (pid <= 0 || pid > 0x7fffffff) fail(`Invalid PID ${operands[0]}`);
      targetPid = pid;
      netns = `/proc/${pid}/ns/net`;
      if (userns === null && !netnsOnly) userns = `/proc/${pid}/ns/user`;
    } else if (operands.length > 0) {
      command = [...operands];
    }
    if (userns !== null && netns === null) fail("--userns requires --netns or PID");
    if (netns !== null && targetPid === 0) {
      if (!netns.includes("/")) netns = `${NETNS_RUN_DIR}/${netns}`;
      if (userns === null) netnsOnly = true;
    }
    if (netns === null) {
      // Spawning a command (or the shell): upstream forces foreground, and
      // quiet unless debugging.
      foreground = true;
      if (!a.debug) quiet = true;
    }
  }

  if (a.configNet) flags.noRa = true;
  if (!want4) flags.noDhcp = true;
  if (!want6) {
    flags.noNdp = true;
    flags.noDhcpv6 = true;
  } else if (ip6IsZero(ip6.addr)) {
    flags.noDhcpv6 = true;
  }

  // DNS: -D, else resolv.conf; loopback resolvers are reached through --map-host-loopback.
  const { dns4, dns6, search } = a;
  const noDns = a.noDns || spliceOnly;
  const noSearch = a.noSearch || spliceOnly;
  let ns4: number[] = dns4;
  let ns6: Uint32Array[] = dns6;
  let dnsSearch: string[] = search;
  if ((!noDns && dns4.length === 0 && dns6.length === 0) || (!noSearch && search.length === 0)) {
    const rc = opts.resolvText !== undefined
      ? parseResolvConf(opts.resolvText)
      : readResolvConf(opts.resolvConf ?? RESOLV_CONF);
    if (!noDns && dns4.length === 0 && dns6.length === 0) {
      ns4 = rc.ns4;
      ns6 = rc.ns6;
    }
    if (!noSearch && search.length === 0) dnsSearch = rc.search;
  }
  if (want4 && !noDns) { for (const a of ns4) addResolver4(ip4, a); }
  if (want6 && !noDns) { for (const a of ns6) addResolver6(ip6, a); }
  if (!noDns && ns4.length === 0 && ns6.length === 0) {
    warnings.push("Couldn't get any nameserver address");
  }

  const ifname4 = h4?.ifname ?? "";
  const ifname6 = h6?.ifname ?? "";
  const conf: Conf = {
    mode,
    debug: a.debug,
    trace: a.trace,
    quiet,
    foreground,
    logFile: a.logFile,
    logSize: a.logSize || LOG_SIZE_DEFAULT,
    stats: a.stats,
    uid,
    gid,
    socketPath: a.socketPath,
    fd: a.fd,
    oneOff: a.oneOff,
    vhostUser: a.vhostUser,
    pcap: a.pcap,
    pidFile: a.pidFile,
    confPath: a.confPath,
    mtu,
    mac: a.mac ?? MAC_DEFAULT.slice(),
    ifname4,
    ifname6,
    ifindex4: h4?.ifindex ?? 0,
    ifindex6: h6?.ifindex ?? 0,
    v4: want4,
    v6: want6,
    local4,
    local6,
    ip4,
    ip6,
    dnsSearch: noSearch ? [] : dnsSearch,
    hostname: a.hostname,
    fqdn: a.fqdn,
    dhcpDns: a.dhcpDns,
    dhcpSearch: a.dhcpSearch,
    ...flags,
    noSplice: nat.noSplice,
    spliceOnly: nat.spliceOnly,
    hostLoToNsLo: nat.hostLoToNsLo,
    freebind: nat.freebind,
    fwd,
    nsIfname: a.nsIfname || ifname4 || ifname6 || "tap0",
    nsMac: a.nsMac,
    userns,
    netns,
    netnsOnly,
    noNetnsQuit: a.noNetnsQuit,
    configNet: a.configNet,
    chrootFallback: a.chrootFallback,
    targetPid,
    command,
  };
  return { kind: "conf", conf, warnings, notes };
}
