// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `args.ts` - the command line, first pass: options to {@linkcode Args}
 *
 * Theory of operation: {@linkcode parseArgs} walks the options in
 * command-line order with the getopt clone and records what each one asks
 * for, as upstream's first getopt_long() loop in conf() does. Nothing here
 * looks at the host: `conf.ts` combines the result with host discovery.
 *
 * Semantics are upstream's since mid-2024: a repeated or conflicting option
 * does not fail, the last one wins (`-d -q` is quiet, `-4 -6` is IPv6 only,
 * `--mtu 1500 --mtu 9000` is 9000, a second `-a` of a family replaces the
 * first, `-s` after `--fd` cancels the descriptor and the other way round).
 * `-D none` and `-S none` clear what came before; later addresses or domains
 * start a new list. What fails is a value that can't be used, or an option of
 * the other mode, with upstream's wording, and the first such problem met
 * stops parsing. `-h`, `--version` and `--print-capabilities` end parsing at
 * once: options after them are not looked at.
 *
 * `-t/-u/-T/-U` are only collected here (their specs are parsed once the
 * addresses are known), as upstream's second pass does.
 *
 * Adding an option: a row in `options.ts`, a field in {@linkcode Args} with
 * its default in {@linkcode defaultArgs}, a `case` below, and its use in
 * `conf.ts`.
 *
 * @module
 */

import {
  ALL_PROTOCOLS,
  type LogSwitches,
  type Mode,
  NO_NS_SWITCHES,
  type NsSwitches,
  type ProtoSwitches,
} from "../context.ts";
import { parseIp4, parseIp6, parseMac } from "../ip.ts";
import {
  ip4IsBroadcast,
  ip4IsLoopback,
  ip4IsMulticast,
  ip4IsUnspecified,
  ip6IsLoopback,
  ip6IsMulticast,
  ip6IsUnspecified,
  ip6IsV4Compat,
  ip6IsV4Mapped,
} from "../wire/inany.ts";
import { ConfError } from "./conf_error.ts";
import { Getopt, GetoptError } from "./getopt.ts";
import { findOption, modeMismatch, OPTIONS, OPTSTRING } from "./options.ts";
import type { FwdOpt } from "../fwd/fwd_rule.ts";
import { natOption, type NatOpts, newNatOpts } from "./nat_opts.ts";
import { MAXDNSRCH, MAXNS } from "./resolv.ts";

/** Default MTU: 65535 minus the Ethernet header, rounded down to 32 bits. */
export const MTU_DEFAULT = 65520;
/** Largest MTU: the largest frame (65535) minus the Ethernet header. */
export const MTU_MAX = 65521;
/** Smallest MTU IPv4 can work with (RFC 791); smaller ones give a warning. */
export const MTU_MIN_IPV4 = 68;
/** Smallest MTU IPv6 can work with (RFC 8200); smaller ones give a warning. */
export const MTU_MIN_IPV6 = 1280;
/** Smallest --log-size: 5 * max(BUFSIZ, PAGE_SIZE). */
export const LOG_SIZE_MIN = 40960;
/** Longest interface name (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;
/** Longest domain name in a search list (NS_MAXDNAME - 1). */
const DNAME_MAX = 1024;
/** Longest hostname or FQDN (RFC 1035: 253 characters), as upstream's PASST_MAXDNAME - 1. */
export const HOSTNAME_MAX = 253;
/** Longest path that fits in sockaddr_un (108 bytes with the terminator). */
const UNIX_PATH_MAX = 107;
/** Longest path for the PID file and capture file (PATH_MAX - 1). */
const PATH_MAX = 4095;

/** What the options asked for, before the host is looked at. */
export interface Args extends LogSwitches, NsSwitches {
  runas: string | null;
  /** --stats DELAY in seconds, 0 when not given. */
  stats: number;
  socketPath: string;
  fd: number;
  oneOff: boolean;
  /** --vhost-user: the socket speaks vhost-user instead of the length-prefixed stream. */
  vhostUser: boolean;
  /** --repair-path, null when not given. */
  repairPath: string | null;
  /** The first of --migrate-exit / --migrate-no-linger given, "" for neither. */
  migrateOpt: string;
  pcap: string | null;
  pidFile: string | null;
  /** -c, --conf-path: the pesto control socket. */
  confPath: string | null;
  /** --mtu, null when not given. */
  mtu: number | null;
  addr4: number | null;
  /** IPv4 prefix length from -a ADDR/LEN or -n, null when neither was given. */
  prefix4: number | null;
  addr6: Uint32Array | null;
  mac: Uint8Array | null;
  gw4: number | null;
  gw6: Uint32Array | null;
  ifname: string | null;
  /** -o per family, null when not given. */
  addrOut4: number | null;
  addrOut6: Uint32Array | null;
  ifnameOut4: string;
  ifnameOut6: string;
  dns4: number[];
  dns6: Uint32Array[];
  noDns: boolean;
  search: string[];
  noSearch: boolean;
  /** -H/--hostname and --fqdn for DHCP and DHCPv6 clients, "" when not given. */
  hostname: string;
  fqdn: string;
  dnsFwd4: number | null;
  dnsFwd6: Uint32Array | null;
  dhcpDns: boolean;
  dhcpSearch: boolean;
  flags: ProtoSwitches;
  v4Only: boolean;
  v6Only: boolean;
  /** -t/-u/-T/-U in command-line order, parsed later. */
  ports: [FwdOpt, string][];
  /** Address translation and splicing options (`nat_opts.ts`). */
  nat: NatOpts;
  /** Deprecated --no-copy-routes and --no-copy-addrs (pasta, need --config-net). */
  noCopyRoutes: boolean;
  noCopyAddrs: boolean;
  chrootFallback: boolean;
  /** Operands after the options (pasta: PID or command). */
  operands: string[];
  /** Warnings met while parsing, in order, to print even under --quiet. */
  warnings: string[];
}

/** What the command line asks for, as far as options go. */
export type ArgsResult =
  | { kind: "args"; args: Args }
  | { kind: "help" | "version" | "capabilities"; warnings: string[] };

/** Parse a C integer as strtoul(s, &end, 0) with nothing after it; null if not one. */
export function parseCInt(s: string): number | null {
  let m: RegExpExecArray | null;
  if ((m = /^\+?0[xX]([0-9a-fA-F]+)$/.exec(s)) !== null) return parseInt(m[1]!, 16);
  if ((m = /^\+?0([0-7]*)$/.exec(s)) !== null) return m[1] === "" ? 0 : parseInt(m[1]!, 8);
  if (/^\+?[1-9][0-9]*$/.test(s)) return Number(s);
  return null;
}

/** Prefix length of a contiguous dotted netmask, or null. */
function maskToPrefix(mask: number): number | null {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return null;
  return Math.clz32(inv);
}

/** Classful prefix length of an IPv4 address (A, B, C, else /32). */
export function classfulPrefix(addr: number): number {
  if (addr >>> 31 === 0) return 8;
  if (addr >>> 30 === 2) return 16;
  if (addr >>> 29 === 6) return 24;
  return 32;
}

/** IPv4 address from an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
/** What the protocol switches (`--no-tcp` ...) turn on. */
const PROTO_SWITCH = {
  "no-tcp": "noTcp",
  "no-udp": "noUdp",
  "no-icmp": "noIcmp",
  "no-dhcp": "noDhcp",
  "no-ndp": "noNdp",
  "no-dhcpv6": "noDhcpv6",
  "no-ra": "noRa",
} as const satisfies Record<string, keyof ProtoSwitches>;

/** The forwarding option letter of each long port option. */
const PORT_OPTION = {
  "tcp-ports": "t",
  "udp-ports": "u",
  "tcp-ns": "T",
  "udp-ns": "U",
} as const satisfies Record<string, FwdOpt>;

/**
 * The address of -g or --dns-forward: IPv6 or IPv4, neither unspecified nor
 * loopback (nor broadcast); null if it is none of these.
 */
function remoteAddr(arg: string): number | Uint32Array | null {
  const a6 = parseIp6(arg);
  if (a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6)) return a6;
  const a4 = parseIp4(arg);
  if (a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4) && !ip4IsLoopback(a4)) return a4;
  return null;
}

function v4OfMapped(a6: Uint32Array): number {
  return a6[3]! >>> 0;
}

/** The defaults of every option for `mode`. */
export function defaultArgs(mode: Mode): Args {
  return {
    debug: false,
    trace: false,
    quiet: false,
    foreground: false,
    logFile: null,
    logSize: 0,
    runas: null,
    stats: 0,
    socketPath: "",
    fd: -1,
    oneOff: false,
    vhostUser: false,
    repairPath: null,
    migrateOpt: "",
    pcap: null,
    pidFile: null,
    confPath: null,
    mtu: null,
    addr4: null,
    prefix4: null,
    addr6: null,
    mac: null,
    gw4: null,
    gw6: null,
    ifname: null,
    addrOut4: null,
    addrOut6: null,
    ifnameOut4: "",
    ifnameOut6: "",
    dns4: [],
    dns6: [],
    noDns: false,
    search: [],
    noSearch: false,
    hostname: "",
    fqdn: "",
    dnsFwd4: null,
    dnsFwd6: null,
    dhcpDns: mode === "passt",
    dhcpSearch: mode === "passt",
    flags: { ...ALL_PROTOCOLS },
    v4Only: false,
    v6Only: false,
    ports: [],
    nat: newNatOpts(),
    ...NO_NS_SWITCHES,
    noCopyRoutes: false,
    noCopyAddrs: false,
    chrootFallback: false,
    operands: [],
    warnings: [],
  };
}

/**
 * Parse the options of `argv` (without the program name) for `mode`, in
 * order; throws {@linkcode ConfError} with the first problem.
 */
export function parseArgs(mode: Mode, argv: readonly string[]): ArgsResult {
  const a = defaultArgs(mode);
  try {
    return scan(a, mode, argv);
  } catch (e) {
    if (e instanceof ConfError) e.warnings = [...a.warnings];
    throw e;
  }
}

/** The options of `argv` into `a`, in order. */
function scan(a: Args, mode: Mode, argv: readonly string[]): ArgsResult {
  const fail = (msg: string): never => {
    throw new ConfError(msg);
  };
  const pathArg = (arg: string, max: number, what: string): string => {
    if (arg === "" || arg.length > max) fail(`${what}: ${arg}`);
    return arg;
  };
  const ifnameArg = (arg: string): string => pathArg(arg, IFNAME_MAX, "Invalid interface name");
  /** Prefix length given by -n, as upstream's opt_n (null: none). */
  let optN: number | null = null;
  /** Whether the last -a carried its own prefix length. */
  let aIsPrefix = false;

  const g = new Getopt(mode, argv, OPTSTRING, OPTIONS);
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
    if (spec !== undefined) {
      const wrong = modeMismatch(spec, mode);
      if (wrong !== null) fail(wrong);
    }

    switch (name) {
      case "debug":
        a.debug = true;
        a.quiet = false;
        break;
      case "trace":
        a.trace = a.debug = true;
        a.quiet = false;
        break;
      case "quiet":
        a.quiet = true;
        a.debug = a.trace = false;
        break;
      case "foreground":
        a.foreground = true;
        break;
      case "stderr":
        a.warnings.push("--stderr will be dropped soon");
        break;
      case "log-file":
        a.logFile = pathArg(arg, PATH_MAX, "Invalid log file");
        break;
      case "log-size": {
        const n = parseCInt(arg);
        if (n === null || n < LOG_SIZE_MIN) fail(`Invalid --log-size: ${arg}`);
        a.logSize = n!;
        break;
      }
      case "runas":
        a.runas = arg;
        break;
      case "stats": {
        if (!a.foreground) fail("Can't display statistics if not running in foreground");
        // strtol(optarg, NULL, 0), as upstream: what doesn't parse is 0, no statistics.
        const m = /^\s*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(arg);
        a.stats = m === null ? 0 : (parseCInt(m[1]!) ?? 0);
        break;
      }
      case "help":
        return { kind: "help", warnings: a.warnings };
      case "version":
        return { kind: "version", warnings: a.warnings };
      case "print-capabilities":
        return { kind: "capabilities", warnings: a.warnings };
      case "socket":
        a.socketPath = pathArg(arg, UNIX_PATH_MAX, "Invalid socket path");
        a.fd = -1;
        break;
      case "fd": {
        const n = parseCInt(arg);
        if (n === null || n > 0x7fffffff) fail(`Invalid --fd: ${arg}`);
        a.fd = n!;
        a.oneOff = true;
        a.socketPath = "";
        break;
      }
      case "one-off":
        a.oneOff = true;
        break;
      case "vhost-user":
        a.vhostUser = true;
        break;
      case "repair-path":
        a.repairPath = pathArg(arg, UNIX_PATH_MAX, "Invalid passt-repair path");
        break;
      case "migrate-exit":
      case "migrate-no-linger":
        a.migrateOpt ||= name;
        break;
      case "pcap":
        a.pcap = pathArg(arg, PATH_MAX, "Invalid pcap path");
        break;
      case "pid":
        a.pidFile = pathArg(arg, PATH_MAX, "Invalid PID file");
        break;
      case "conf-path":
        a.confPath = pathArg(arg, UNIX_PATH_MAX, "Invalid configuration path");
        break;
      case "mtu": {
        const n = parseCInt(arg);
        if (n === null) fail(`Invalid MTU: ${arg}`);
        if (n! > MTU_MAX) fail(`MTU ${n} too large (max ${MTU_MAX})`);
        a.mtu = n!;
        break;
      }
      case "address":
        aIsPrefix = parseAddress(a, arg, optN);
        break;
      case "netmask": {
        if (aIsPrefix) fail("Redundant prefix length specification");
        const dotted = parseIp4(arg);
        let p: number | null = dotted === null ? null : maskToPrefix(dotted);
        if (dotted === null) {
          const n = parseCInt(arg);
          if (n !== null && n <= 32) p = n;
        }
        if (p === null) fail(`Invalid prefix length: ${arg}`);
        a.prefix4 = optN = p;
        break;
      }
      case "mac-addr":
        a.mac = parseMac(arg) ?? fail(`Invalid MAC address: ${arg}`);
        break;
      case "ns-mac-addr":
        a.nsMac = parseMac(arg) ?? fail(`Invalid MAC address: ${arg}`);
        break;
      case "gateway": {
        const r = remoteAddr(arg) ?? fail(`Invalid gateway address: ${arg}`);
        if (typeof r === "number") a.gw4 = r;
        else a.gw6 = r;
        break;
      }
      case "interface":
        a.ifname = ifnameArg(arg);
        break;
      case "outbound": {
        const a6 = parseIp6(arg);
        if (
          a6 !== null && !ip6IsUnspecified(a6) && !ip6IsLoopback(a6) && !ip6IsV4Mapped(a6) &&
          !ip6IsV4Compat(a6) && !ip6IsMulticast(a6)
        ) {
          a.addrOut6 = a6;
          break;
        }
        const a4 = parseIp4(arg);
        if (a4 !== null && !ip4IsUnspecified(a4) && !ip4IsBroadcast(a4) && !ip4IsMulticast(a4)) {
          a.addrOut4 = a4;
          break;
        }
        fail(`Invalid or redundant outbound address: ${arg}`);
        break;
      }
      case "outbound-if4":
        a.ifnameOut4 = ifnameArg(arg);
        break;
      case "outbound-if6":
        a.ifnameOut6 = ifnameArg(arg);
        break;
      case "dns": {
        if (arg === "none") {
          a.noDns = true;
          a.dns4 = [];
          a.dns6 = [];
          a.dnsFwd4 = a.dnsFwd6 = null;
          break;
        }
        a.noDns = false;
        const a4 = parseIp4(arg);
        const a6 = a4 === null ? parseIp6(arg) : null;
        if (a4 === null && a6 === null) fail(`Cannot use DNS address ${arg}`);
        // Beyond MAXNS per family, upstream drops the address without a word.
        if (a4 !== null && a.dns4.length < MAXNS) a.dns4.push(a4);
        if (a6 !== null && a.dns6.length < MAXNS) a.dns6.push(a6);
        break;
      }
      case "search":
        if (arg === "none") {
          a.noSearch = true;
          a.search = [];
          break;
        }
        a.noSearch = false;
        if (a.search.length >= MAXDNSRCH || arg === "" || arg.length > DNAME_MAX) {
          fail(`Cannot use DNS search domain ${arg}`);
        }
        a.search.push(arg);
        break;
      case "hostname":
        if (arg.length > HOSTNAME_MAX) fail(`Invalid hostname: ${arg}`);
        a.hostname = arg;
        break;
      case "fqdn":
        if (arg.length > HOSTNAME_MAX) fail(`Invalid FQDN: ${arg}`);
        a.fqdn = arg;
        break;
      case "dns-forward": {
        const r = remoteAddr(arg) ?? fail(`Invalid DNS forwarding address: ${arg}`);
        if (typeof r === "number") a.dnsFwd4 = r;
        else a.dnsFwd6 = r;
        break;
      }
      case "dhcp-dns":
        a.dhcpDns = true;
        break;
      case "no-dhcp-dns":
        a.dhcpDns = false;
        break;
      case "dhcp-search":
        a.dhcpSearch = true;
        break;
      case "no-dhcp-search":
        a.dhcpSearch = false;
        break;
      case "no-tcp":
      case "no-udp":
      case "no-icmp":
      case "no-dhcp":
      case "no-ndp":
      case "no-dhcpv6":
      case "no-ra":
        a.flags[PROTO_SWITCH[name]] = true;
        break;
      case "no-map-gw":
      case "map-host-loopback":
      case "map-guest-addr":
      case "dns-host":
      case "host-lo-to-ns-lo":
      case "no-splice":
      case "splice-only":
      case "freebind":
        natOption(a.nat, name, arg);
        break;
      case "chroot-fallback":
        a.chrootFallback = true;
        break;
      case "ipv4-only":
        a.v4Only = true;
        a.v6Only = false;
        break;
      case "ipv6-only":
        a.v6Only = true;
        a.v4Only = false;
        break;
      case "tcp-ports":
      case "udp-ports":
      case "tcp-ns":
      case "udp-ns":
        a.ports.push([PORT_OPTION[name], arg]);
        break;
      case "ns-ifname":
        a.nsIfname = ifnameArg(arg);
        break;
      case "userns":
        a.userns = pathArg(arg, PATH_MAX, "Invalid userns");
        a.netnsOnly = false;
        break;
      case "netns":
        if (arg === "") fail(`Invalid netns: ${arg}`);
        if (arg.length > PATH_MAX) fail(`Network namespace name/path ${arg} too long`);
        a.netns = arg;
        break;
      case "netns-only":
        a.netnsOnly = true;
        a.userns = null;
        break;
      case "no-netns-quit":
        a.noNetnsQuit = true;
        break;
      case "config-net":
        a.configNet = true;
        break;
      case "no-copy-routes":
        a.warnings.push("--no-copy-routes will be dropped soon");
        a.noCopyRoutes = true;
        break;
      case "no-copy-addrs":
        a.warnings.push("--no-copy-addrs will be dropped soon");
        a.noCopyAddrs = true;
        break;
      default:
        // An option in the table without a case here: a programming error,
        // reported the way getopt reports an unknown option.
        fail(`${mode}: invalid option -- '${name}'`);
    }
  }
  a.operands = argv.slice(g.optind);

  if (mode === "pasta" && !a.configNet) {
    if (a.noCopyRoutes) fail("--no-copy-routes needs --config-net");
    if (a.noCopyAddrs) fail("--no-copy-addrs needs --config-net");
  }
  if (mode === "passt" && a.operands.length > 0) {
    fail(`Extra non-option argument: ${a.operands[0]}`);
  }
  // Upstream knows the mode (--vhost-user) before it parses the rest.
  if (!a.vhostUser && a.repairPath !== null && a.repairPath !== "none") {
    fail("--repair-path is for vhost-user mode only");
  }
  if (!a.vhostUser && a.migrateOpt) fail(`--${a.migrateOpt} is for vhost-user mode only`);
  if (a.vhostUser && a.repairPath !== null && a.repairPath !== "none") {
    a.warnings.push(`No live migration support: no passt-repair socket at ${a.repairPath}`);
  }
  return { kind: "args", args: a };
}

/**
 * -a ADDR[/LEN], as upstream's conf_addr(): the address replaces the one of
 * its family; returns whether it carried a prefix length.
 */
function parseAddress(a: Args, arg: string, optN: number | null): boolean {
  const bad = (): never => {
    throw new ConfError(`Invalid guest address: ${arg}`);
  };
  const slash = arg.indexOf("/");
  const text = slash < 0 ? arg : arg.slice(0, slash);
  let prefix: number | null = null;
  const a6 = parseIp6(text);
  const a4v = a6 === null ? parseIp4(text) : null;
  if (a6 === null && a4v === null) bad();
  if (slash >= 0) {
    const lenText = arg.slice(slash + 1);
    if (!/^[0-9]+$/.test(lenText)) bad();
    if (optN !== null) throw new ConfError("Redundant prefix length specification");
    prefix = Number(lenText);
    if (prefix > (a4v !== null ? 32 : 128)) {
      throw new ConfError(`Invalid prefix length: ${arg}`);
    }
  }
  // An IPv4-mapped IPv6 address stands for its IPv4 address, as upstream's inany.
  const a4 = a4v ?? (a6 !== null && ip6IsV4Mapped(a6) ? v4OfMapped(a6) : null);
  if (a4 !== null) {
    if (ip4IsUnspecified(a4) || ip4IsMulticast(a4) || ip4IsBroadcast(a4) || ip4IsLoopback(a4)) {
      bad();
    }
    if (a4v === null && prefix !== null) prefix = prefix >= 96 ? prefix - 96 : 0;
    a.addr4 = a4;
    a.prefix4 = prefix ?? optN ?? classfulPrefix(a4);
  } else {
    if (ip6IsUnspecified(a6!) || ip6IsMulticast(a6!) || ip6IsLoopback(a6!)) bad();
    a.addr6 = a6;
  }
  return prefix !== null;
}
