// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `conf.ts` - command line and host facts to a validated {@linkcode Conf}
 *
 * Theory of operation: as upstream's conf(), in passes.
 *
 * 1. General options, in command-line order, through the getopt clone:
 *    syntax errors, repeated options ("Multiple --X options given"), values
 *    and conflicts are reported as the first problem met, in order. `-h` and
 *    `--version` return at once. -t/-u/-T/-U are only collected.
 * 2. Cross-option checks (-4/-6, --socket/--fd), the UID/GID to run as, then
 *    host discovery, which needs -i, --outbound-if4/6, -4 and -6. A family
 *    without a usable host interface is disabled with a warning; with none
 *    left the answer is "External interface not usable". Addresses given with
 *    -a/-n/-g replace what the host has.
 * 3. -t/-u, then -T/-U, into the four forwarding maps (defaults: pasta
 *    `auto`, passt `none`), then the pasta target (PID, command or --netns)
 *    and DNS (resolv.conf unless -D; loopback resolvers become the gateway).
 *
 * Nothing here opens sockets or namespaces: the caller does that with the
 * returned Conf. Warnings come back as lines for the caller to log.
 *
 * @module
 */

import type { Conf, Ip4Conf, Ip6Conf, Mode } from "../context.ts";
import {
  formatIp4,
  formatIp6,
  formatMac,
  ip4IsBroadcast,
  ip4IsLoopback,
  ip4IsMulticast,
  ip4IsUnspecified,
  ip6IsLoopback,
  ip6IsMulticast,
  ip6IsUnspecified,
  ip6IsV4Compat,
  ip6IsV4Mapped,
  ip6IsZero,
  parseIp4,
  parseIp6,
  parseMac,
} from "../ip.ts";
import { ConfError } from "./conf_error.ts";
import { Getopt, GetoptError } from "./getopt.ts";
import type { HostDiscovery, HostInfo } from "./host_info.ts";
import { findOption, OPTIONS, SHORT_OPTIONS } from "./options.ts";
import { confFwdRules } from "./fwd_opts.ts";
import type { FwdOpt } from "../fwd/fwd_rule.ts";
import {
  addResolver4,
  addResolver6,
  natApply,
  natCheck,
  natOption,
  newNatOpts,
} from "./nat_opts.ts";
import { MAXDNSRCH, MAXNS, parseResolvConf, readResolvConf, RESOLV_CONF } from "./resolv.ts";
import { VERSION } from "./version.ts";

export { ConfError } from "./conf_error.ts";

/** Default MTU: 65535 minus the Ethernet header, rounded down to 32 bits. */
export const MTU_DEFAULT = 65520;
/** Smallest MTU accepted (ETH_MIN_MTU). */
export const MTU_MIN = 68;
/** Largest MTU accepted (ETH_MAX_MTU). */
export const MTU_MAX = 65535;
/** Default --log-size. */
export const LOG_SIZE_DEFAULT = 1024 * 1024;
/** Smallest --log-size: 5 * max(BUFSIZ, PAGE_SIZE). */
export const LOG_SIZE_MIN = 40960;
/** Default base directory for named network namespaces (--nsrun-dir). */
export const NETNS_RUN_DIR = "/run/netns";
/** MAC used when the host has none to copy (as upstream's later default). */
export const MAC_DEFAULT = Uint8Array.from([0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55]);
/** UID and GID of "nobody" when /etc/passwd has no such user. */
export const NOBODY = 65534;
/** Longest interface name (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;
/** Longest domain name (NS_MAXDNAME - 1). */
const DNAME_MAX = 1024;

/** Where parseConf() reads system facts; each can be replaced for tests. */
export interface ConfOptions {
  /** resolv.conf path (default /etc/resolv.conf). */
  resolvConf?: string;
  /** resolv.conf text, instead of reading a file. */
  resolvText?: string;
  /** /etc/passwd and /etc/group text, instead of reading the files. */
  passwd?: string;
  group?: string;
  /** Effective UID and GID, instead of /proc/self/status. */
  euid?: number;
  egid?: number;
  /** /proc/self/uid_map text, instead of reading the file. */
  uidMap?: string;
  /** /proc/sys/net/ipv4/ip_local_port_range text, instead of reading the file. */
  portRange?: string;
}

/** What the command line asked for. */
export type ConfResult =
  | { kind: "conf"; conf: Conf; warnings: string[] }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string };

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Parse a C integer as strtol(s, &end, 0) with nothing after it; null if not one. */
function parseCInt(s: string): number | null {
  let m: RegExpExecArray | null;
  if ((m = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(s)) !== null) {
    return (m[1] === "-" ? -1 : 1) * parseInt(m[2]!, 16);
  }
  if ((m = /^([+-]?)0([0-7]*)$/.exec(s)) !== null) {
    return (m[1] === "-" ? -1 : 1) * (m[2] === "" ? 0 : parseInt(m[2]!, 8));
  }
  if (/^[+-]?[1-9][0-9]*$/.test(s)) return Number(s);
  return null;
}

/** Look a name up in passwd or group text: [id, gid-or-id], or null. */
function lookup(text: string, name: string): [number, number] | null {
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 3 || f[0] !== name) continue;
    const id = Number(f[2]);
    const gid = f.length > 3 ? Number(f[3]) : id;
    if (!Number.isInteger(id)) return null;
    return [id, Number.isInteger(gid) ? gid : id];
  }
  return null;
}

function effectiveIds(opts: ConfOptions): [number, number] {
  let euid = opts.euid;
  let egid = opts.egid;
  if (euid === undefined || egid === undefined) {
    const status = readText("/proc/self/status");
    const field = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+\\d+\\s+(\\d+)`, "m").exec(status);
      return m === null ? 0 : Number(m[1]);
    };
    euid ??= field("Uid");
    egid ??= field("Gid");
  }
  return [euid, egid];
}

/** Resolve --runas, or the default identity; pushes the "nobody" warning. */
function conf_ugid(runas: string | null, opts: ConfOptions, warnings: string[]): [number, number] {
  const passwd = (): string => opts.passwd ?? readText("/etc/passwd");
  if (runas !== null) {
    const bad = (): ConfError => new ConfError(`Invalid --runas option: ${runas}`);
    const colon = runas.indexOf(":");
    const u = colon < 0 ? runas : runas.slice(0, colon);
    const g = colon < 0 ? null : runas.slice(colon + 1);
    let uid: number;
    let gid: number;
    const n = /^\d+$/.test(u) ? Number(u) : null;
    if (n !== null) {
      uid = gid = n;
    } else {
      const pw = u === "" ? null : lookup(passwd(), u);
      if (pw === null || pw[0] === 0) throw bad();
      [uid, gid] = pw;
    }
    if (g !== null) {
      if (/^\d+$/.test(g)) {
        gid = Number(g);
      } else {
        const gr = g === "" ? null : lookup(opts.group ?? readText("/etc/group"), g);
        if (gr === null) throw bad();
        gid = gr[0];
      }
    }
    if (uid > 0xffffffff || gid > 0xffffffff) throw bad();
    return [uid, gid];
  }

  const [euid, egid] = effectiveIds(opts);
  if (euid !== 0) return [euid, egid];
  const map = (opts.uidMap ?? readText("/proc/self/uid_map")).trim().split(/\s+/);
  if (map.length !== 3 || map[0] !== "0" || map[1] !== "0" || map[2] !== "4294967295") {
    return [euid, egid];
  }
  warnings.push("Don't run as root. Changing to nobody...");
  const pw = lookup(passwd(), "nobody");
  return pw ?? [NOBODY, NOBODY];
}

/** Prefix length of a contiguous dotted netmask, or null. */
function maskToPrefix(mask: number): number | null {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return null;
  return Math.clz32(inv);
}

/** Classful prefix length of an IPv4 address (A, B, C, else /32). */
function classfulPrefix(addr: number): number {
  if (addr >>> 31 === 0) return 8;
  if (addr >>> 30 === 2) return 16;
  if (addr >>> 29 === 6) return 24;
  return 32;
}

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
  const warnings: string[] = [];
  const fail = (msg: string): never => {
    throw new ConfError(msg);
  };
  const once = (given: boolean, name: string): void => {
    if (given) fail(`Multiple --${name} options given`);
  };

  let debug = false;
  let trace = false;
  let quiet = false;
  let foreground = false;
  let stderr = false;
  let logFile: string | null = null;
  let logSize = 0;
  let runas: string | null = null;
  let socketPath = "";
  let fd = -1;
  let oneOff = false;
  let pcap: string | null = null;
  let pidFile: string | null = null;
  let confPath: string | null = null;
  let mtu: number | null = null;
  let addr4: number | null = null;
  let addr6: Uint32Array | null = null;
  let prefix4: number | null = null;
  let mac: Uint8Array | null = null;
  let gw4: number | null = null;
  let gw6: Uint32Array | null = null;
  let ifname: string | null = null;
  let addrOut4 = 0;
  let addrOut6: Uint32Array = new Uint32Array(4);
  let ifnameOut4 = "";
  let ifnameOut6 = "";
  const dns4: number[] = [];
  const dns6: Uint32Array[] = [];
  let noDns = false;
  const search: string[] = [];
  let noSearch = false;
  let dnsFwd4 = 0;
  let dnsFwd6: Uint32Array = new Uint32Array(4);
  let dhcpDns = mode === "passt";
  let dhcpSearch = mode === "passt";
  const flags = {
    noTcp: false,
    noUdp: false,
    noIcmp: false,
    noDhcp: false,
    noNdp: false,
    noDhcpv6: false,
    noRa: false,
  };
  const nat = newNatOpts();
  let v4Only = false;
  let v6Only = false;
  const ports: [FwdOpt, string][] = [];
  let nsIfname = "";
  let nsMac: Uint8Array | null = null;
  let userns: string | null = null;
  let netns: string | null = null;
  let netnsOnly = false;
  let nsrunDir: string | null = null;
  let noNetnsQuit = false;
  let configNet = false;

  const g = new Getopt(mode, argv, SHORT_OPTIONS[mode], OPTIONS);
  for (;;) {
    let item;
    try {
      item = g.next();
    } catch (e) {
      if (e instanceof GetoptError) throw new ConfError(e.message);
      throw e;
    }
    if (item === null) break;
    const name = item.key;
    const arg = item.arg ?? "";
    const spec = findOption(name);
    // Upstream refuses long options of the other mode with this wording (short
    // ones never get here: the per-mode option string rejects them).
    if (spec !== undefined && spec.mode !== "both" && spec.mode !== mode) {
      fail(`--${name} is for ${spec.mode} mode only`);
    }

    switch (name) {
      case "debug":
        once(debug && !trace, "debug");
        if (quiet) fail("Either --debug or --quiet");
        debug = true;
        break;
      case "trace":
        once(trace, "trace");
        if (quiet) fail("Either --trace or --quiet");
        trace = debug = true;
        break;
      case "quiet":
        once(quiet, "quiet");
        if (debug) fail("Either --debug or --quiet");
        quiet = true;
        break;
      case "foreground":
        once(foreground, "foreground");
        foreground = true;
        break;
      case "stderr":
        if (logFile !== null) fail("Can't log to both file and stderr");
        once(stderr, "stderr");
        stderr = true;
        break;
      case "log-file":
        if (stderr) fail("Can't log to both stderr and file");
        once(logFile !== null, "log-file");
        if (arg === "") fail(`Invalid log file: ${arg}`);
        logFile = arg;
        break;
      case "log-size": {
        once(logSize !== 0, "log-size");
        const n = parseCInt(arg);
        if (n === null || n < LOG_SIZE_MIN) fail(`Invalid --log-size: ${arg}`);
        logSize = n!;
        break;
      }
      case "runas":
        once(runas !== null, "runas");
        runas = arg;
        break;
      case "help":
        return { kind: "help", text: usage(mode) };
      case "version":
        return { kind: "version", text: version(mode) };
      case "socket":
        once(socketPath !== "", "socket");
        if (arg === "" || arg.length >= 108) fail(`Invalid socket path: ${arg}`);
        socketPath = arg;
        break;
      case "fd": {
        once(fd >= 0, "fd");
        const n = parseCInt(arg);
        if (n === null || n < 0 || n > 0x7fffffff) fail(`Invalid --fd: ${arg}`);
        fd = n!;
        oneOff = true;
        break;
      }
      case "one-off":
        if (oneOff && fd < 0) fail("Redundant --one-off option");
        oneOff = true;
        break;
      case "pcap":
        once(pcap !== null, "pcap");
        if (arg === "") fail(`Invalid pcap path: ${arg}`);
        pcap = arg;
        break;
      case "conf-path":
        if (arg === "" || new TextEncoder().encode(arg).length >= 108) {
          fail(`Invalid configuration path: ${arg}`);
        }
        confPath = arg;
        break;
      case "pid":
        once(pidFile !== null, "pid");
        if (arg === "") fail(`Invalid PID file: ${arg}`);
        pidFile = arg;
        break;
      case "mtu": {
        once(mtu !== null, "mtu");
        const n = parseCInt(arg);
        if (n === null || (n !== 0 && (n < MTU_MIN || n > MTU_MAX))) fail(`Invalid MTU: ${arg}`);
        mtu = n!;
        break;
      }
      case "address": {
        const a6: Uint32Array | null = addr6 === null ? parseIp6(arg) : null;
        if (
          a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6) && !ip6IsV4Mapped(a6) &&
          !ip6IsV4Compat(a6) && !ip6IsMulticast(a6)
        ) {
          addr6 = a6;
          break;
        }
        const a4: number | null = addr4 === null ? parseIp4(arg) : null;
        if (
          a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4) && !ip4IsLoopback(a4) &&
          !ip4IsMulticast(a4)
        ) {
          addr4 = a4;
          break;
        }
        fail(`Invalid address: ${arg}`);
        break;
      }
      case "netmask": {
        once(prefix4 !== null, "netmask");
        const dotted = parseIp4(arg);
        let p: number | null = dotted === null ? null : maskToPrefix(dotted);
        if (dotted === null) {
          const n = parseCInt(arg);
          if (n !== null && n > 0 && n <= 32) p = n;
        }
        if (p === null || p === 0) fail(`Invalid netmask: ${arg}`);
        prefix4 = p;
        break;
      }
      case "mac-addr":
        once(mac !== null, "mac-addr");
        mac = parseMac(arg);
        if (mac === null) fail(`Invalid MAC address: ${arg}`);
        break;
      case "ns-mac-addr":
        once(nsMac !== null, "ns-mac-addr");
        nsMac = parseMac(arg);
        if (nsMac === null) fail(`Invalid MAC address: ${arg}`);
        break;
      case "gateway": {
        const a6: Uint32Array | null = gw6 === null ? parseIp6(arg) : null;
        if (a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6)) {
          gw6 = a6;
          break;
        }
        const a4: number | null = gw4 === null ? parseIp4(arg) : null;
        if (a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4) && !ip4IsLoopback(a4)) {
          gw4 = a4;
          break;
        }
        fail(`Invalid gateway address: ${arg}`);
        break;
      }
      case "interface":
        if (ifname !== null) fail(`Redundant interface: ${arg}`);
        if (arg === "" || arg.length > IFNAME_MAX) fail(`Invalid interface name: ${arg}`);
        ifname = arg;
        break;
      case "outbound": {
        const a6: Uint32Array | null = ip6IsZero(addrOut6) ? parseIp6(arg) : null;
        if (
          a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6) && !ip6IsV4Mapped(a6) &&
          !ip6IsV4Compat(a6) && !ip6IsMulticast(a6)
        ) {
          addrOut6 = a6;
          break;
        }
        const a4: number | null = addrOut4 === 0 ? parseIp4(arg) : null;
        if (
          a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4) && !ip4IsLoopback(a4) &&
          !ip4IsMulticast(a4)
        ) {
          addrOut4 = a4;
          break;
        }
        fail(`Invalid or redundant outbound address: ${arg}`);
        break;
      }
      case "outbound-if4":
      case "outbound-if6": {
        const v4 = name === "outbound-if4";
        if ((v4 ? ifnameOut4 : ifnameOut6) !== "") fail(`Redundant outbound interface: ${arg}`);
        if (arg === "" || arg.length > IFNAME_MAX) fail(`Invalid interface name: ${arg}`);
        if (v4) ifnameOut4 = arg;
        else ifnameOut6 = arg;
        break;
      }
      case "dns": {
        if (arg === "none") {
          if (noDns) fail("Redundant DNS options");
          if (dns4.length > 0 || dns6.length > 0) fail("Conflicting DNS options");
          noDns = true;
          break;
        }
        if (noDns) fail("Conflicting DNS options");
        const a4 = parseIp4(arg);
        if (a4 !== null && dns4.length < MAXNS) {
          dns4.push(a4);
          break;
        }
        const a6 = parseIp6(arg);
        if (a6 !== null && dns6.length < MAXNS) {
          dns6.push(a6);
          break;
        }
        fail(`Cannot use DNS address ${arg}`);
        break;
      }
      case "search":
        if (arg === "none") {
          if (noSearch) fail("Redundant DNS search options");
          if (search.length > 0) fail("Conflicting DNS search options");
          noSearch = true;
          break;
        }
        if (noSearch) fail("Conflicting DNS search options");
        if (search.length >= MAXDNSRCH || arg === "" || arg.length > DNAME_MAX) {
          fail(`Cannot use DNS search domain ${arg}`);
        }
        search.push(arg);
        break;
      case "dns-forward": {
        const a6: Uint32Array | null = ip6IsZero(dnsFwd6) ? parseIp6(arg) : null;
        if (a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6)) {
          dnsFwd6 = a6;
          break;
        }
        const a4: number | null = dnsFwd4 === 0 ? parseIp4(arg) : null;
        if (a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4) && !ip4IsLoopback(a4)) {
          dnsFwd4 = a4;
          break;
        }
        fail(`Invalid DNS forwarding address: ${arg}`);
        break;
      }
      case "dhcp-dns":
        dhcpDns = true;
        break;
      case "no-dhcp-dns":
        dhcpDns = false;
        break;
      case "dhcp-search":
        dhcpSearch = true;
        break;
      case "no-dhcp-search":
        dhcpSearch = false;
        break;
      case "no-tcp":
        flags.noTcp = true;
        break;
      case "no-udp":
        flags.noUdp = true;
        break;
      case "no-icmp":
        flags.noIcmp = true;
        break;
      case "no-dhcp":
        flags.noDhcp = true;
        break;
      case "no-ndp":
        flags.noNdp = true;
        break;
      case "no-dhcpv6":
        flags.noDhcpv6 = true;
        break;
      case "no-ra":
        flags.noRa = true;
        break;
      case "no-map-gw":
      case "map-host-loopback":
      case "map-guest-addr":
      case "dns-host":
      case "host-lo-to-ns-lo":
      case "no-splice":
      case "splice-only":
      case "freebind":
        natOption(nat, name, arg);
        break;
      case "ipv4-only":
        v4Only = true;
        break;
      case "ipv6-only":
        v6Only = true;
        break;
      case "tcp-ports":
        ports.push(["t", arg]);
        break;
      case "udp-ports":
        ports.push(["u", arg]);
        break;
      case "tcp-ns":
        ports.push(["T", arg]);
        break;
      case "udp-ns":
        ports.push(["U", arg]);
        break;
      case "ns-ifname":
        once(nsIfname !== "", "ns-ifname");
        if (arg === "" || arg.length > IFNAME_MAX) fail(`Invalid interface name: ${arg}`);
        nsIfname = arg;
        break;
      case "userns":
        once(userns !== null, "userns");
        if (arg === "") fail(`Invalid userns: ${arg}`);
        userns = arg;
        break;
      case "netns":
        once(netns !== null, "netns");
        if (arg === "") fail(`Invalid netns: ${arg}`);
        netns = arg;
        break;
      case "netns-only":
        netnsOnly = true;
        break;
      case "nsrun-dir":
        once(nsrunDir !== null, "nsrun-dir");
        if (arg === "") fail(`Invalid nsrun-dir: ${arg}`);
        nsrunDir = arg;
        break;
      case "no-netns-quit":
        noNetnsQuit = true;
        break;
      case "config-net":
        configNet = true;
        break;
      default:
        fail(`${mode}: invalid option -- '${name}'`);
    }
  }
  const operands = argv.slice(g.optind);

  if (v4Only && v6Only) fail("Options ipv4-only and ipv6-only are mutually exclusive");
  if (socketPath !== "" && fd >= 0) fail("Options --socket and --fd are mutually exclusive");
  if (mode === "passt" && operands.length > 0) fail(`Extra non-option argument: ${operands[0]}`);
  if (natCheck(mode, nat)) {
    // --splice-only: no ICMP, no DNS (upstream).
    flags.noIcmp = true;
    noDns = true;
    noSearch = true;
  }

  const [uid, gid] = conf_ugid(runas, opts, warnings);

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
  const h4 = want4 ? info.v4 : null;
  const h6 = want6 ? info.v6 : null;
  if (want4 && h4 === null && (h6 !== null || !want6)) {
    warnings.push("IPv4: no usable external interface, IPv4 disabled");
  }
  if (want6 && h6 === null && (h4 !== null || !want4)) {
    warnings.push("IPv6: no usable external interface, IPv6 disabled");
  }
  if (h4 === null && h6 === null) fail("External interface not usable");

  const ip4 = emptyIp4();
  const ip6 = emptyIp6();
  if (h4 !== null) {
    ip4.addr = addr4 ?? h4.addr;
    ip4.gw = gw4 ?? h4.gw;
    const p = prefix4 ?? (addr4 === null ? h4.prefixLen : classfulPrefix(ip4.addr));
    ip4.prefixLen = widenPrefix(ip4.addr, p, ip4.gw);
  }
  if (h6 !== null) {
    ip6.addr = addr6 ?? h6.addr;
    ip6.gw = gw6 ?? h6.gw;
    ip6.addrLl = h6.addrLl;
  }
  ip4.addrOut = addrOut4;
  ip6.addrOut = addrOut6;
  ip4.ifnameOut = ifnameOut4;
  ip6.ifnameOut = ifnameOut6;
  ip4.dnsMatch = dnsFwd4;
  ip6.dnsMatch = dnsFwd6;
  natApply(nat, h4 !== null, h6 !== null, ip4, ip6);

  // Forwarding rules: -t/-u first, then -T/-U, as upstream's later passes.
  const fwd = confFwdRules(mode, ports, {
    v4: h4 !== null,
    v6: h6 !== null,
    tcp: !flags.noTcp,
    udp: !flags.noUdp,
    scan: mode === "pasta",
  }, opts.portRange);

  // pasta target: PID, command, or --netns.
  let targetPid = 0;
  let command: string[] = [];
  if (mode === "pasta") {
    if (netns !== null && operands.length > 0) fail("Both --netns and PID or command given");
    if (netnsOnly && userns !== null) fail("Both --userns and --netns-only given");
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
      if (!netns.includes("/")) netns = `${nsrunDir ?? NETNS_RUN_DIR}/${netns}`;
      if (userns === null) netnsOnly = true;
    }
    if (netns === null) {
      // Spawning a command (or the shell): upstream forces foreground, and
      // quiet unless debugging.
      foreground = true;
      if (!debug) quiet = true;
    }
  }

  if (configNet) flags.noRa = true;
  if (h4 === null) flags.noDhcp = true;
  if (h6 === null) {
    flags.noNdp = true;
    flags.noDhcpv6 = true;
  }

  // DNS: -D, else resolv.conf; loopback resolvers are reached through --map-host-loopback.
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
  if (h4 !== null) { for (const a of ns4) addResolver4(ip4, a); }
  if (h6 !== null) { for (const a of ns6) addResolver6(ip6, a); }
  if (!noDns && ns4.length === 0 && ns6.length === 0) {
    warnings.push("Couldn't get any nameserver address");
  }

  const ifname4 = h4?.ifname ?? "";
  const ifname6 = h6?.ifname ?? "";
  const conf: Conf = {
    mode,
    debug,
    trace,
    quiet,
    foreground,
    stderr,
    logFile,
    logSize: logSize || LOG_SIZE_DEFAULT,
    uid,
    gid,
    socketPath,
    fd,
    oneOff,
    pcap,
    pidFile,
    confPath,
    mtu: mtu ?? MTU_DEFAULT,
    mac: mac ?? h4?.mac ?? h6?.mac ?? MAC_DEFAULT.slice(),
    ifname4,
    ifname6,
    ifindex4: h4?.ifindex ?? 0,
    ifindex6: h6?.ifindex ?? 0,
    v4: h4 !== null,
    v6: h6 !== null,
    ip4,
    ip6,
    dnsSearch: noSearch ? [] : dnsSearch,
    dhcpDns,
    dhcpSearch,
    ...flags,
    noSplice: nat.noSplice,
    spliceOnly: nat.spliceOnly,
    hostLoToNsLo: nat.hostLoToNsLo,
    freebind: nat.freebind,
    fwd,
    nsIfname: nsIfname || ifname4 || ifname6 || "tap0",
    nsMac,
    userns,
    netns,
    netnsOnly,
    nsrunDir: nsrunDir ?? NETNS_RUN_DIR,
    noNetnsQuit,
    configNet,
    targetPid,
    command,
  };
  return { kind: "conf", conf, warnings };
}

/** Start-up summary lines, as upstream's conf_print() (printed unless --quiet). */
export function formatConfSummary(conf: Conf): string[] {
  const out: string[] = [];
  const tmpl: string[] = [];
  if (conf.v4) tmpl.push(`${conf.ifname4} (IPv4)`);
  if (conf.v6) tmpl.push(`${conf.ifname6} (IPv6)`);
  out.push(`Template interface: ${tmpl.join(", ")}`);
  const outIf: string[] = [];
  if (conf.ip4.ifnameOut) outIf.push(`${conf.ip4.ifnameOut} (IPv4)`);
  if (conf.ip6.ifnameOut) outIf.push(`${conf.ip6.ifnameOut} (IPv6)`);
  if (outIf.length > 0) out.push(`Outbound interface: ${outIf.join(", ")}`);
  if (conf.ip4.addrOut !== 0) out.push(`Outbound IPv4 address: ${formatIp4(conf.ip4.addrOut)}`);
  if (!ip6IsZero(conf.ip6.addrOut)) {
    out.push(`Outbound IPv6 address: ${formatIp6(conf.ip6.addrOut)}`);
  }
  if (conf.mode === "pasta") out.push(`Namespace interface: ${conf.nsIfname}`);
  out.push("MAC:", `    host: ${formatMac(conf.mac)}`);

  const dnsLines = (list: string[]): void => {
    if (list.length === 0) return;
    out.push("DNS:");
    for (const a of list) out.push(`    ${a}`);
  };
  const searchLines = (): void => {
    if (conf.dnsSearch.length === 0) return;
    out.push("DNS search list:");
    for (const d of conf.dnsSearch) out.push(`    ${d}`);
  };

  if (conf.v4) {
    if (!conf.noDhcp) {
      const mask = conf.ip4.prefixLen === 0 ? 0 : (0xffffffff << (32 - conf.ip4.prefixLen)) >>> 0;
      out.push(
        "DHCP:",
        `    assign: ${formatIp4(conf.ip4.addr)}`,
        `    mask: ${formatIp4(mask)}`,
        `    router: ${formatIp4(conf.ip4.gw)}`,
      );
    }
    dnsLines(conf.ip4.dns.map(formatIp4));
    searchLines();
  }
  if (conf.v6) {
    let head = "";
    if (!conf.noNdp && !conf.noDhcpv6) head = "NDP/DHCPv6:";
    else if (!conf.noNdp) head = "NDP:";
    else if (!conf.noDhcpv6) head = "DHCPv6:";
    if (head !== "") {
      out.push(
        head,
        `    assign: ${formatIp6(conf.ip6.addr)}`,
        `    router: ${formatIp6(conf.ip6.gw)}`,
        `    our link-local: ${formatIp6(conf.ip6.addrLl)}`,
      );
    }
    dnsLines(conf.ip6.dns.map(formatIp6));
    searchLines();
  }
  return out;
}

/** The `--version` text. */
export function version(mode: string): string {
  return `${mode} ${VERSION}\n` +
    "Copyright Red Hat\n" +
    "GNU General Public License, version 2 or later\n" +
    "  <https://www.gnu.org/licenses/old-licenses/gpl-2.0.html>\n" +
    "This is free software: you are free to change and redistribute it.\n" +
    "There is NO WARRANTY, to the extent permitted by law.\n";
}

/** The `--help` text for a mode (the caller exits with status 1 after printing it). */
export function usage(mode: Mode): string {
  const pasta = mode === "pasta";
  const l: string[] = [];
  if (pasta) {
    l.push(
      `Usage: ${mode} [OPTION]... [COMMAND] [ARGS]...`,
      `       ${mode} [OPTION]... PID`,
      `       ${mode} [OPTION]... --netns [PATH|NAME]`,
      "",
      "Without PID or --netns, run the given command or a default shell in a",
      "new network and user namespace, and connect it via pasta.",
    );
  } else {
    l.push(`Usage: ${mode} [OPTION]...`);
  }
  l.push(
    "",
    "  -d, --debug\t\tBe verbose",
    "      --trace\t\tBe extra verbose, implies --debug",
    "  -q, --quiet\t\tDon't print informational messages",
    "  -f, --foreground\tDon't run in background",
    "    default: run in background",
    "  -e, --stderr\t\tLog to stderr too",
    "    default: log to system logger only if started from a TTY",
    "  -l, --log-file PATH\tLog (only) to given file",
    "  --log-size BYTES\tMaximum size of log file",
    "    default: 1 MiB",
    "  --runas UID|UID:GID \tRun as given UID, GID, which can be",
    "    numeric, or login and group names",
    '    default: drop to user "nobody"',
    "  -c, --conf-path PATH\tConfiguration socket path",
    "  -h, --help\t\tDisplay this help message and exit",
    "  --version\t\tShow version and exit",
  );
  if (pasta) {
    l.push(
      "  -I, --ns-ifname NAME\tnamespace interface name",
      "    default: same interface name as external one",
    );
  } else {
    l.push(
      "  -s, --socket PATH\tUNIX domain socket path",
      "    default: probe free path starting from /tmp/passt_1.socket",
    );
  }
  l.push(
    "  -F, --fd FD\t\tUse FD as pre-opened connected socket",
    "  -p, --pcap FILE\tLog tap-facing traffic to pcap file",
    "  -P, --pid FILE\tWrite own PID to the given file",
    "  -m, --mtu MTU\tAssign MTU via DHCP/NDP",
    "    a zero value disables assignment",
    "    default: 65520: maximum 802.3 MTU minus 802.3 header",
    "                    length, rounded to 32 bits (IPv4 words)",
    "  -a, --address ADDR\tAssign IPv4 or IPv6 address ADDR",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: use addresses from interface with default route",
    "  -n, --netmask MASK\tAssign IPv4 MASK, dot-decimal or bits",
    "    default: netmask from matching address on the host",
    "  -M, --mac-addr ADDR\tUse source MAC address ADDR",
    "    default: MAC address from interface with default route",
    "  -g, --gateway ADDR\tPass IPv4 or IPv6 address as gateway",
    "    default: gateway from interface with default route",
    "  -i, --interface NAME\tInterface for addresses and routes",
    "    default: from --outbound-if4 and --outbound-if6, if given",
    "             otherwise interface with first default route",
    "  -o, --outbound ADDR\tBind to address as outbound source",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: use source address from routing tables",
    "  --outbound-if4 NAME\tBind to outbound interface for IPv4",
    "    default: use interface from default route",
    "  --outbound-if6 NAME\tBind to outbound interface for IPv6",
    "    default: use interface from default route",
    "  -D, --dns ADDR\tUse IPv4 or IPv6 address as DNS",
    "    can be specified multiple times",
    "    a single, empty option disables DNS information",
    pasta
      ? "    default: don't use any addresses"
      : "    default: use addresses from /etc/resolv.conf",
    "  -S, --search LIST\tSpace-separated list, search domains",
    "    a single, empty option disables the DNS search list",
    pasta
      ? "    default: don't use any search list"
      : "    default: use search list from /etc/resolv.conf",
  );
  if (pasta) {
    l.push(
      "  --dhcp-dns\t\tPass DNS list via DHCP/DHCPv6/NDP",
      "  --dhcp-search\t\tPass list via DHCP/DHCPv6/NDP",
    );
  } else {
    l.push(
      "  --no-dhcp-dns\t\tNo DNS list in DHCP/DHCPv6/NDP",
      "  --no-dhcp-search\tNo list in DHCP/DHCPv6/NDP",
    );
  }
  l.push(
    "  --map-host-loopback ADDR\tTranslate ADDR to refer to host",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: gateway address",
    "  --map-guest-addr ADDR\tTranslate ADDR to guest's address",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: none",
    "  --dns-forward ADDR\tForward DNS queries sent to ADDR",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: don't forward DNS queries",
    "  --dns-host ADDR\tHost nameserver to direct queries to",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: first nameserver from host's /etc/resolv.conf",
    "  --no-tcp\t\tDisable TCP protocol handler",
    "  --no-udp\t\tDisable UDP protocol handler",
    "  --no-icmp\t\tDisable ICMP/ICMPv6 protocol handler",
    "  --no-dhcp\t\tDisable DHCP server",
    "  --no-ndp\t\tDisable NDP responses",
    "  --no-dhcpv6\t\tDisable DHCPv6 server",
    "  --no-ra\t\tDisable router advertisements",
    "  --freebind\t\tBind to any address for forwarding",
    "  --no-map-gw\t\tDon't map gateway address to host",
    "  -4, --ipv4-only\tEnable IPv4 operation only",
    "  -6, --ipv6-only\tEnable IPv6 operation only",
  );
  if (!pasta) l.push("  -1, --one-off\tQuit after handling one single client");
  const where = pasta ? "namespace" : "guest";
  l.push(
    `  -t, --tcp-ports SPEC\tTCP port forwarding to ${where}`,
    "    can be specified multiple times",
    "    SPEC can be:",
    "      'none': don't forward any ports",
    pasta
      ? "      'auto': forward all ports currently bound in namespace"
      : "      'all': forward all unbound, non-ephemeral ports",
    "      a comma-separated list, optionally ranged with '-'",
    "        and optional target ports after ':', with optional",
    "        address specification suffixed by '/' and optional",
    "        interface prefixed by '%'. Ranges can be reduced by",
    "        excluding ports or ranges prefixed by '~'",
    "        Examples:",
    "        -t 22\t\tForward local port 22 to 22",
    "        -t 22:23\tForward local port 22 to 23",
    "        -t 22,25\tForward ports 22, 25 to ports 22, 25",
    "        -t 22-80  \tForward ports 22 to 80",
    "        -t 22-80:32-90\tForward ports 22 to 80 to",
    "\t\t\tcorresponding port numbers plus 10",
    "        -t 192.0.2.1/5\tBind port 5 of 192.0.2.1",
    "        -t 5-25,~10-20\tForward ports 5 to 9, and 21 to 25",
    "        -t ~25\t\tForward all ports except for 25",
    `    default: ${pasta ? "auto" : "none"}`,
    `  -u, --udp-ports SPEC\tUDP port forwarding to ${where}`,
    "    SPEC is as described for TCP above",
    `    default: ${pasta ? "auto" : "none"}`,
  );
  if (pasta) {
    l.push(
      "  -T, --tcp-ns SPEC\tTCP port forwarding to init namespace",
      "    SPEC is as described above",
      "    default: auto",
      "  -U, --udp-ns SPEC\tUDP port forwarding to init namespace",
      "    SPEC is as described above",
      "    default: auto",
      "  --host-lo-to-ns-lo\tTranslate host-loopback forwards to",
      "\t\t\tnamespace loopback",
      "  --userns NSPATH \tTarget user namespace to join",
      "  --netns PATH|NAME\tTarget network namespace to join",
      "  --netns-only\t\tDon't join existing user namespace",
      "    implied if PATH or NAME are given without --userns",
      "  --nsrun-dir DIR\tDirectory for named network namespaces",
      `    default: ${NETNS_RUN_DIR}`,
      "  --no-netns-quit\tDon't quit if filesystem-bound target",
      "  \t\t\tnetwork namespace is deleted",
      "  --config-net\t\tConfigure tap interface in namespace",
      "  --ns-mac-addr ADDR\tSet MAC address on tap interface",
      "  --no-splice\t\tDisable inbound socket splicing",
      "  --splice-only\tOnly enable loopback forwarding",
    );
  }
  return l.join("\n") + "\n";
}
