// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/fwd_rule.ts` - forwarding rules: what `-t`, `-u`, `-T` and `-U` say
 *
 * Theory of operation: a forwarding rule, as upstream 2026's `struct
 * fwd_rule`, says that connections or datagrams of one protocol reaching a
 * range of ports, on one listening address (or any, dual-stack) and
 * optionally one interface, go to a target range (and optionally a target
 * address). Flags: {@linkcode FWD_WEAK} (ports that can't be bound are
 * skipped: `all`, exclusion-only lists), {@linkcode FWD_SCAN} (a port is
 * only listened on while something listens on it on the other side: `auto`).
 *
 * The rules of one initiating interface (`host` for -t/-u, `splice` for
 * pasta's -T/-U) form a table; {@linkcode parseFwdSpec} turns one option
 * into rules with upstream's syntax and messages, {@linkcode checkRule}
 * validates a rule against a table as upstream's `fwd_rule_add()`, and
 * {@linkcode formatRule} prints one as upstream's `fwd_rule_fmt()`. Rules
 * are plain immutable values (addresses as "inany" words, see
 * `fwd/nat.ts`); `fwd/fwd.ts` owns the tables and their listeners.
 *
 * Port specification syntax (`SPEC`), as upstream 2026:
 *
 *     none | [PREFIX/]CHUNK[,CHUNK...]
 *     PREFIX: ADDR | ADDR%IF | %IF | * | *%IF
 *     CHUNK: all[:TADDR] | auto | ~FIRST[-LAST]
 *          | FIRST[-LAST][:TFIRST[-TLAST] | :TADDR | :TADDR/TFIRST[-TLAST]]
 *
 * Exclusions apply to every chunk of the option; a list of only exclusions,
 * `all` or `auto` covers every non-ephemeral port.
 *
 * Cold path only: strings and arrays are fine here.
 *
 * @module
 */

import { formatIp4, formatIp6, parseIp4, parseIp6 } from "../ip.ts";
import * as nat from "./nat.ts";
import * as inany from "../wire/inany.ts";

/** Rule flag: any address, IPv4 and IPv6 (the address is ::). */
export const FWD_DUAL_STACK_ANY = 1;
/** Rule flag: ports that can't be bound are skipped without an error. */
export const FWD_WEAK = 2;
/** Rule flag: listen on a port only while the other side listens on it. */
export const FWD_SCAN = 4;
/** Most rules per table (upstream MAX_FWD_RULES). */
export const MAX_FWD_RULES = 255;
/** Number of port numbers. */
export const NUM_PORTS = 65536;

/** Initiating interface of a rule table: host sockets (-t, -u) or the namespace (-T, -U). */
export type FwdPif = "host" | "splice";

/** A forwarding rule (upstream `struct fwd_rule`); treat as immutable. */
export interface FwdRule {
  /** IP protocol: {@linkcode nat.IPPROTO_TCP} or {@linkcode nat.IPPROTO_UDP}. */
  readonly proto: number;
  /** Listening address (inany words); all zero (::) with {@linkcode FWD_DUAL_STACK_ANY}. */
  readonly addr: Uint32Array;
  /** Listening interface (SO_BINDTODEVICE), "" for none. */
  readonly ifname: string;
  /** First and last port (inclusive). */
  readonly first: number;
  readonly last: number;
  /** Target port of `first`: port p goes to `to + (p - first)`. */
  readonly to: number;
  /** Target address (inany words), all zero for none (the guest, or the host's loopback). */
  readonly taddr: Uint32Array;
  /** {@linkcode FWD_DUAL_STACK_ANY}, {@linkcode FWD_WEAK}, {@linkcode FWD_SCAN}. */
  readonly flags: number;
}

/** What a table can hold (upstream `FWD_CAP_*`). */
export interface FwdCaps {
  v4: boolean;
  v6: boolean;
  tcp: boolean;
  udp: boolean;
  /** `auto` (pasta). */
  scan: boolean;
}

/** Error in a forwarding specification or rule: one line, the message upstream prints. */
export class FwdRuleError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "FwdRuleError";
  }
}

/** Ephemeral port range (RFC 6335 until {@linkcode setEphemeralRange}). */
let ephemeralMin = 49152;
let ephemeralMax = 65535;

/** Sets the host's ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`). */
export function setEphemeralRange(min: number, max: number): void {
  if (min > 0 && max < NUM_PORTS && min <= max) {
    ephemeralMin = min;
    ephemeralMax = max;
  }
}

/** Parses the text of `ip_local_port_range` ("MIN\tMAX\n"); null if malformed. */
export function parsePortRange(text: string): [number, number] | null {
  const m = /^(\d+)\t(\d+)\n?$/.exec(text);
  if (m === null) return null;
  const min = Number(m[1]), max = Number(m[2]);
  if (min >= NUM_PORTS || max >= NUM_PORTS) return null;
  return [min, max];
}

/** Whether two rules are the same rule (every field). */
export function ruleEqual(a: FwdRule, b: FwdRule): boolean {
  return a.proto === b.proto && a.first === b.first && a.last === b.last && a.to === b.to &&
    a.flags === b.flags && a.ifname === b.ifname && inany.ip6Equal(a.addr, b.addr) &&
    inany.ip6Equal(a.taddr, b.taddr);
}

/** Formats an inany address (IPv4-mapped as a dotted quad). */
export function formatAddr(a: Uint32Array): string {
  if (inany.isV4(a, 0)) return formatIp4(a[3]!);
  return formatIp6(a);
}

/** Parses an IPv4 or IPv6 address into inany words, brackets allowed; null if invalid. */
export function parseAddr(s: string): Uint32Array | null {
  const t = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  const a6 = parseIp6(t);
  if (a6 !== null) return a6;
  const a4 = parseIp4(t);
  if (a4 === null) return null;
  const w = new Uint32Array(4);
  inany.setV4(w, 0, a4);
  return w;
}

/** The address a rule matches: null for any (dual-stack). */
export function ruleAddr(r: FwdRule): Uint32Array | null {
  return r.flags & FWD_DUAL_STACK_ANY ? null : r.addr;
}

function protoName(p: number): string {
  return p === nat.IPPROTO_TCP ? "TCP" : p === nat.IPPROTO_UDP ? "UDP" : `proto ${p}`;
}

/** Formats a rule as upstream's `fwd_rule_fmt()`: `TCP [*]:80  =>  8080 `. */
export function formatRule(r: FwdRule): string {
  const a = ruleAddr(r);
  const addr = a === null ? "*" : formatAddr(a);
  const ifs = r.ifname ? `%${r.ifname}` : "";
  const taddr = inany.ip6IsZero(r.taddr) ? "" : `${formatAddr(r.taddr)}:`;
  const weak = r.flags & FWD_WEAK ? " (best effort)" : "";
  const scan = r.flags & FWD_SCAN ? " (auto-scan)" : "";
  const src = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
  const dst = r.first === r.last ? `${r.to}` : `${r.to}-${r.to + r.last - r.first}`;
  return `${protoName(r.proto)} [${addr}]${ifs}:${src}  =>  ${taddr}${dst} ${weak}${scan}`;
}

/** Whether an address a flow reached (`w[o]`) matches the rule's (upstream `inany_matches()`). */
export function addrMatches(r: FwdRule, w: Uint32Array, o: number): boolean {
  if (r.flags & FWD_DUAL_STACK_ANY) return true;
  const a = r.addr;
  if (inany.isUnspecified(a, 0)) {
    // 0.0.0.0 matches IPv4 addresses, :: every IPv6 one.
    return inany.isV4(a, 0) === inany.isV4(w, o);
  }
  return inany.equals6(w, o, a);
}

function conflicts(a: FwdRule, b: FwdRule): boolean {
  if (a.proto !== b.proto) return false;
  const aa = ruleAddr(a), ba = ruleAddr(b);
  if (aa !== null && ba !== null) {
    const au = inany.isUnspecified(aa, 0), bu = inany.isUnspecified(ba, 0);
    if (!au && !bu && !inany.ip6Equal(aa, ba)) return false;
    if (inany.isV4(aa, 0) !== inany.isV4(ba, 0)) return false;
  }
  return !(a.last < b.first || b.last < a.first);
}

/**
 * Checks `r` as upstream's `fwd_rule_add()` against the rules already in
 * `table` and the table's capabilities; returns the error text, or null if
 * it can be added.
 */
export function checkRule(caps: FwdCaps, table: readonly FwdRule[], r: FwdRule): string | null {
  if (r.first > r.last) return `Rule has invalid port range ${r.first}-${r.last}`;
  if (r.first === 0) return "Forwarding rule attempts to map from port 0";
  if (r.to === 0 || r.to + r.last - r.first > 65535) {
    return "Forwarding rule attempts to map to port 0";
  }
  if (r.flags & ~(FWD_WEAK | FWD_SCAN | FWD_DUAL_STACK_ANY)) {
    return `Rule has invalid flags 0x${(r.flags & ~7).toString(16)}`;
  }
  if (r.flags & FWD_DUAL_STACK_ANY) {
    if (!inany.ip6IsZero(r.addr)) {
      return `Dual stack rule has non-wildcard address ${formatAddr(r.addr)}`;
    }
    if (!caps.v4) return "Dual stack forward, but IPv4 not enabled";
    if (!caps.v6) return "Dual stack forward, but IPv6 not enabled";
  } else if (inany.isV4(r.addr, 0) && !caps.v4) {
    return "IPv4 forward, but IPv4 not enabled";
  } else if (!inany.isV4(r.addr, 0) && !caps.v6) {
    return "IPv6 forward, but IPv6 not enabled";
  }
  if (r.proto === nat.IPPROTO_TCP) {
    if (!caps.tcp) return "Can't add TCP forwarding rule, TCP not enabled";
  } else if (r.proto === nat.IPPROTO_UDP) {
    if (!caps.udp) return "Can't add UDP forwarding rule, UDP not enabled";
  } else {
    return `Unsupported protocol 0x${r.proto.toString(16)} for forwarding rule`;
  }
  if (r.flags & FWD_SCAN && !caps.scan) return "'auto' port forwarding is only allowed for pasta";
  if (r.ifname.length > 15 || r.ifname.includes("/")) {
    return `Invalid interface name: ${r.ifname}`;
  }
  if (!inany.ip6IsZero(r.taddr)) {
    const t = formatAddr(r.taddr);
    if (inany.isMulticast(r.taddr, 0)) return `Multicast target address ${t} for forwarding rule`;
    if (r.flags & FWD_DUAL_STACK_ANY) {
      const v4 = inany.isV4(r.taddr, 0);
      return `Dual stack forward to ${v4 ? "IPv4" : "IPv6"} address ${t} unsupported` +
        ` (did you mean ${v4 ? "0.0.0.0" : "[::]"}/... instead?)`;
    }
    if (inany.isV4(r.addr, 0) !== inany.isV4(r.taddr, 0)) {
      const fam = (a: Uint32Array): string => inany.isV4(a, 0) ? "IPv4" : "IPv6";
      return `Forward from ${fam(r.addr)} (${formatAddr(r.addr)}) to ${fam(r.taddr)} (${t})` +
        " unsupported";
    }
  }
  for (const o of table) {
    if (conflicts(r, o)) {
      return `Forwarding configuration conflict: ${formatRule(r)} versus ${formatRule(o)}`;
    }
  }
  if (table.length >= MAX_FWD_RULES) return `Too many rules (maximum ${MAX_FWD_RULES})`;
  return null;
}

/**
 * One chunk of a port specification as upstream's `parse_port_chunk()` reads
 * it: `all[:TADDR]`, `auto`, `~FIRST[-LAST]` or an include range with its
 * target. `A` is the address form of the reader (inany words here, bytes in
 * pesto); `taddr` is all zero for none.
 */
export interface SpecChunk<A> {
  kind: "all" | "auto" | "exclude" | "include";
  first: number;
  last: number;
  taddr: A;
  tfirst: number;
  tlast: number;
}

/** What {@linkcode forEachPortRun} does with one run of ports. */
export type PortRunSink<A> = (
  first: number,
  last: number,
  to: number,
  taddr: A,
  flags: number,
) => void;

/**
 * The port runs the chunks of one specification forward, as upstream's
 * `fwd_rule_parse_ports()` and `fwd_rule_range_except()`: each include range
 * split around every exclusion, then, if the list holds no include, ports 1
 * to 65535 but the excluded and the `ephemeral` ones, best effort, to the
 * target address of the last `all` (else `none`). `sink` gets each run in
 * order. Returns false where upstream rejects the specifier: at an include
 * whose target range differs in length (stopping there), or, once the
 * includes are in, if `trailing` says text follows the last chunk.
 */
export function forEachPortRun<A>(
  chunks: readonly SpecChunk<A>[],
  trailing: boolean,
  none: A,
  ephemeral: readonly [number, number],
  flags: number,
  sink: PortRunSink<A>,
): boolean {
  const exclude = new Uint8Array(NUM_PORTS);
  for (const c of chunks) if (c.kind === "exclude") exclude.fill(1, c.first, c.last + 1);
  let allTaddr = none;
  let excludeOnly = true;
  for (const c of chunks) {
    if (c.kind === "all") allTaddr = c.taddr;
    if (c.kind !== "include") continue;
    excludeOnly = false;
    if (c.tlast - c.tfirst !== c.last - c.first) return false;
    runsExcept(c.first, c.last, exclude, c.tfirst - c.first, c.taddr, flags, sink);
  }
  if (trailing) return false;
  if (excludeOnly) {
    exclude.fill(1, ephemeral[0], ephemeral[1] + 1);
    runsExcept(1, NUM_PORTS - 1, exclude, 0, allTaddr, flags | FWD_WEAK, sink);
  }
  return true;
}

/**
 * Hands `sink` the runs of `first`..`last` without a port set in `exclude`.
 * The runs' ends are found with `indexOf()`, which the runtime does natively:
 * a port-by-port loop over 65 535 ports for each `auto` rule was about 5 ms of
 * every start, in code not yet compiled then.
 */
function runsExcept<A>(
  first: number,
  last: number,
  exclude: Uint8Array,
  delta: number,
  taddr: A,
  flags: number,
  sink: PortRunSink<A>,
): void {
  let base = first;
  while (base <= last) {
    base = exclude.indexOf(0, base);
    if (base < 0 || base > last) return;
    let end = exclude.indexOf(1, base);
    if (end < 0 || end > last + 1) end = last + 1;
    sink(base, end - 1, base + delta, taddr, flags);
    base = end;
  }
}

const RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function range(s: string): [number, number] | null {
  const m = RANGE.exec(s);
  if (m === null) return null;
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (last < first || last >= NUM_PORTS) return null;
  return [first, last];
}

function chunk(s: string): SpecChunk<Uint32Array> | null {
  const any = new Uint32Array(4);
  if (s === "auto") return { kind: "auto", first: 0, last: 0, taddr: any, tfirst: 0, tlast: 0 };
  if (s === "all" || s.startsWith("all:")) {
    const t = s === "all" ? any : parseAddr(s.slice(4));
    if (t === null) return null;
    return { kind: "all", first: 0, last: 0, taddr: t, tfirst: 0, tlast: 0 };
  }
  if (s.startsWith("~")) {
    const r = range(s.slice(1));
    if (r === null) return null;
    return { kind: "exclude", first: r[0], last: r[1], taddr: any, tfirst: 0, tlast: 0 };
  }
  const colon = s.indexOf(":");
  const l = range(colon < 0 ? s : s.slice(0, colon));
  if (l === null) return null;
  const c: SpecChunk<Uint32Array> = {
    kind: "include",
    first: l[0],
    last: l[1],
    taddr: any,
    tfirst: l[0],
    tlast: l[1],
  };
  if (colon < 0) return c;
  const tgt = s.slice(colon + 1);
  // TADDR/TRANGE, TADDR, or TRANGE (a bare number is a port, as upstream).
  const slash = tgt.lastIndexOf("/");
  if (slash > 0) {
    const a = parseAddr(tgt.slice(0, slash));
    const t = range(tgt.slice(slash + 1));
    if (a === null || t === null) return null;
    c.taddr = a;
    [c.tfirst, c.tlast] = t;
    return c;
  }
  const t = range(tgt);
  if (t !== null) {
    [c.tfirst, c.tlast] = t;
    return c;
  }
  const a = parseAddr(tgt);
  if (a === null) return null;
  c.taddr = a;
  return c;
}

/** The one-line message of a rule that can't be added: upstream's last line, then why. */
export function unableToAdd(r: FwdRule, why: string): string {
  return `Unable to add rule ${formatRule(r).trimEnd()}: ${why}`;
}

/** Option letter of a forwarding option. */
export type FwdOpt = "t" | "u" | "T" | "U";

/**
 * Turns one `-t`/`-u`/`-T`/`-U` argument into rules added to `table`, as
 * upstream's `fwd_rule_parse()`; `none` adds nothing (and is refused after
 * rules of the same protocol). Throws {@linkcode FwdRuleError} with
 * upstream's message.
 */
export function parseFwdSpec(opt: FwdOpt, spec: string, caps: FwdCaps, table: FwdRule[]): void {
  const proto = opt === "t" || opt === "T" ? nat.IPPROTO_TCP : nat.IPPROTO_UDP;
  if (spec === "none") {
    if (table.some((r) => r.proto === proto)) {
      throw new FwdRuleError(`-${opt} none conflicts with previous options`);
    }
    return;
  }
  const bad = (): FwdRuleError => new FwdRuleError(`Invalid port specifier '${spec}'`);
  let addr: Uint32Array | null = null;
  let ifname = "";
  let list = spec;
  const slash = prefixEnd(spec);
  if (slash >= 0) {
    const prefix = spec.slice(0, slash);
    list = spec.slice(slash + 1);
    if (opt === "T" || opt === "U") {
      throw new FwdRuleError(`Listening address not allowed for -${opt} ${spec}`);
    }
    const pct = prefix.indexOf("%");
    const a = pct < 0 ? prefix : prefix.slice(0, pct);
    if (pct >= 0) {
      ifname = prefix.slice(pct + 1);
      if (ifname === "" || ifname.length > 15 || /[\s/]/.test(ifname)) throw bad();
      if (ifname === "." || ifname === "..") {
        throw new FwdRuleError(`Invalid interface name: ${ifname}`);
      }
    }
    if (a !== "" && a !== "*") {
      addr = parseAddr(a);
      if (addr === null) throw bad();
    }
  }
  if (opt === "T" || opt === "U") ifname = "lo";
  if (addr === null && !caps.v4) addr = new Uint32Array(4);
  else if (addr === null && !caps.v6) {
    addr = new Uint32Array(4);
    inany.setV4(addr, 0, 0);
  }

  const chunks: SpecChunk<Uint32Array>[] = [];
  for (const s of list.split(",")) {
    const c = chunk(s);
    if (c === null) throw bad();
    chunks.push(c);
  }
  let flags = 0;
  if (chunks.some((c) => c.kind === "auto")) {
    if (!caps.scan) throw new FwdRuleError("'auto' port forwarding is only allowed for pasta");
    flags = FWD_SCAN;
  }
  const ok = forEachPortRun(
    chunks,
    false,
    new Uint32Array(4),
    [ephemeralMin, ephemeralMax],
    flags,
    (first, last, to, taddr, runFlags) => {
      const rule: FwdRule = {
        proto,
        addr: addr ?? new Uint32Array(4),
        ifname,
        first,
        last,
        to,
        taddr,
        flags: runFlags | (addr === null ? FWD_DUAL_STACK_ANY : 0),
      };
      const err = checkRule(caps, table, rule);
      if (err !== null) throw new FwdRuleError(unableToAdd(rule, err));
      table.push(rule);
    },
  );
  if (!ok) throw bad();
}

/** End of an `ADDR[%IF]/`, `*[%IF]/` or `%IF/` prefix (the `/`), or -1. */
function prefixEnd(spec: string): number {
  const slash = spec.indexOf("/");
  if (slash < 0) return -1;
  const prefix = spec.slice(0, slash);
  // A target `PORT:ADDR/PORT` is not a prefix: a prefix has no ',' and its
  // address part parses (or is empty or '*').
  if (prefix.includes(",")) return -1;
  const pct = prefix.indexOf("%");
  const a = pct < 0 ? prefix : prefix.slice(0, pct);
  if (a === "" || a === "*") return pct >= 0 || a === "*" ? slash : -1;
  return parseAddr(a) !== null ? slash : -1;
}
