// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd_rule.ts` - forwarding rules as upstream 2026 specifies them: text form, checks, specs
 *
 * Theory of operation: a table is an ordered list of {@linkcode FwdRule}s
 * plus the capabilities of its pif. {@linkcode ruleAdd} validates a rule
 * against the capabilities and the rules already there (overlapping ranges of
 * one protocol on matching addresses conflict), {@linkcode ruleDel} removes
 * the rule that matches exactly, and {@linkcode ruleParse} turns one
 * `-t`/`-u`/`-T`/`-U` argument into rules the way upstream's
 * `fwd_rule_parse()` does: include ranges become one rule each, split around
 * excluded ports; a list of exclusions only (or `all`) covers every port but
 * the ephemeral ones, best effort; `auto` marks the rules for scanning.
 *
 * Errors throw {@linkcode RuleError}, whose message holds upstream's warning
 * and fatal lines, in order, as pesto prints them. {@linkcode ruleFormat}
 * prints a rule exactly as upstream's `fwd_rule_fmt()` (both pesto's listing
 * and the server's log use it).
 *
 * @module
 */

import { formatIp4, formatIp6, parseIp4, parseIp6 } from "../ip.ts";
import {
  FWD_CAP_IFNAME,
  FWD_CAP_IPV4,
  FWD_CAP_IPV6,
  FWD_CAP_SCAN,
  FWD_CAP_TCP,
  FWD_CAP_UDP,
  FWD_DUAL_STACK_ANY,
  FWD_SCAN,
  FWD_WEAK,
  type FwdRule,
  IFNAMSIZ,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MAX_FWD_RULES,
} from "./wire.ts";
import { forEachPortRun, parsePortRange, type SpecChunk } from "../fwd/fwd_rule.ts";

/** A rule that can't be added or deleted, or a spec that can't be parsed. */
export class RuleError extends Error {
  /** Creates the error; `message` may hold several lines. */
  constructor(message: string) {
    super(message);
    this.name = "RuleError";
  }
}

/** A forwarding table: its pif's capabilities and its rules. */
export interface RuleTable {
  caps: number;
  rules: FwdRule[];
}

/** Number of port numbers. */
const NUM_PORTS = 65536;
/** Most listening sockets per table (upstream MAX_LISTEN_SOCKS). */
const MAX_LISTEN_SOCKS = NUM_PORTS * 5;

/** Ephemeral port range (RFC 6335 unless probed). */
export const ephemeral = { min: 49152, max: 65535 };

/** Sets the ephemeral range from `/proc/sys/net/ipv4/ip_local_port_range` text; false if bad. */
export function setEphemeral(text: string): boolean {
  const r = parsePortRange(text);
  if (r === null) return false;
  [ephemeral.min, ephemeral.max] = r;
  return true;
}

// inany addresses: 16 bytes, IPv4 as ::ffff:a.b.c.d

/** `::` */
export const ANY6 = new Uint8Array(16);
/** `0.0.0.0` as v4-mapped. */
export const ANY4 = inanyFrom4(0);
/** `127.0.0.1` as v4-mapped. */
export const LOOPBACK4 = inanyFrom4(0x7f000001);
/** `::1` */
export const LOOPBACK6 = (() => {
  const a = new Uint8Array(16);
  a[15] = 1;
  return a;
})();

/** A v4-mapped inany address from an IPv4 number. */
export function inanyFrom4(a: number): Uint8Array {
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  new DataView(b.buffer).setUint32(12, a);
  return b;
}

/** The IPv4 address in `a`, or null if it isn't v4-mapped. */
export function inanyV4(a: Uint8Array): number | null {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return null;
  if (a[10] !== 0xff || a[11] !== 0xff) return null;
  return new DataView(a.buffer, a.byteOffset).getUint32(12);
}

/** Whether two inany addresses are equal. */
export function inanyEquals(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `a` is `::` or `0.0.0.0`. */
export function inanyIsUnspecified(a: Uint8Array): boolean {
  return inanyEquals(a, ANY6) || inanyEquals(a, ANY4);
}

function inanyIsMulticast(a: Uint8Array): boolean {
  const v4 = inanyV4(a);
  if (v4 !== null) return v4 >>> 28 === 0xe;
  return a[0] === 0xff;
}

/** Text form of an inany address (null: "*"), as inet_ntop. */
export function inanyNtop(a: Uint8Array | null): string {
  if (a === null) return "*";
  const v4 = inanyV4(a);
  if (v4 !== null) return formatIp4(v4);
  const w = new Uint32Array(4);
  const v = new DataView(a.buffer, a.byteOffset);
  for (let i = 0; i < 4; i++) w[i] = v.getUint32(i * 4);
  return formatIp6(w);
}

/** Whether `a` and `b` (null: any address) can match the same address. */
function inanyMatches(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return true;
  if (inanyIsUnspecified(a) || inanyIsUnspecified(b)) {
    return (inanyV4(a) !== null) === (inanyV4(b) !== null);
  }
  return inanyEquals(a, b);
}

/** Listening address of a rule, null for any. */
export function ruleAddr(r: FwdRule): Uint8Array | null {
  return r.flags & FWD_DUAL_STACK_ANY ? null : r.addr;
}

/** Name of an IP protocol, as upstream's `ipproto_name()`. */
export function ipprotoName(p: number): string {
  switch (p) {
    case 1:
      return "ICMP";
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    case 58:
      return "ICMPv6";
    default:
      return "<unknown protocol>";
  }
}

/** A rule in upstream's text form, e.g. `TCP [*]:22  =>  22 `. */
export function ruleFormat(r: FwdRule): string {
  const taddr = inanyIsUnspecified(r.taddr) ? "" : `${inanyNtop(r.taddr)}:`;
  const addr = inanyNtop(ruleAddr(r));
  const iface = r.ifname ? `%${r.ifname}` : "";
  const weak = r.flags & FWD_WEAK ? " (best effort)" : "";
  const scan = r.flags & FWD_SCAN ? " (auto-scan)" : "";
  const proto = ipprotoName(r.proto);
  if (r.first === r.last) {
    return `${proto} [${addr}]${iface}:${r.first}  =>  ${taddr}${r.to} ${weak}${scan}`;
  }
  const tolast = (r.last - r.first + r.to) & 0xffff;
  return `${proto} [${addr}]${iface}:${r.first}-${r.last}  =>  ${taddr}${r.to}-${tolast} ${weak}${scan}`;
}

/** Whether two rules claim some common (protocol, address, port). */
export function ruleConflicts(a: FwdRule, b: FwdRule): boolean {
  if (a.proto !== b.proto) return false;
  if (!inanyMatches(ruleAddr(a), ruleAddr(b))) return false;
  return !(a.last < b.first || b.last < a.first);
}

/** Whether two rules are identical, field by field (upstream compares the structs). */
export function ruleMatch(a: FwdRule, b: FwdRule): boolean {
  return inanyEquals(a.addr, b.addr) && inanyEquals(a.taddr, b.taddr) && a.ifname === b.ifname &&
    a.first === b.first && a.last === b.last && a.to === b.to && a.proto === b.proto &&
    a.flags === b.flags;
}

/** Listening sockets a table's rules need (one per port and rule). */
function sockCount(t: RuleTable): number {
  let n = 0;
  for (const r of t.rules) n += r.last - r.first + 1;
  return n;
}

/** Checks a rule on its own against the table's capabilities; throws RuleError. */
export function ruleValidate(t: RuleTable, r: FwdRule): void {
  const allowed = FWD_WEAK | FWD_SCAN | FWD_DUAL_STACK_ANY;
  if (r.first > r.last) throw new RuleError(`Rule has invalid port range ${r.first}-${r.last}`);
  if (r.first === 0) throw new RuleError("Forwarding rule attempts to map from port 0");
  if (r.to === 0 || ((r.to + r.last - r.first) & 0xffff) < r.to) {
    throw new RuleError("Forwarding rule attempts to map to port 0");
  }
  if (r.flags & ~allowed) {
    throw new RuleError(`Rule has invalid flags 0x${(r.flags & ~allowed).toString(16)}`);
  }
  if (r.flags & FWD_DUAL_STACK_ANY) {
    if (!inanyEquals(r.addr, ANY6)) {
      throw new RuleError(`Dual stack rule has non-wildcard address ${inanyNtop(r.addr)}`);
    }
    if (!(t.caps & FWD_CAP_IPV4)) throw new RuleError("Dual stack forward, but IPv4 not enabled");
    if (!(t.caps & FWD_CAP_IPV6)) throw new RuleError("Dual stack forward, but IPv6 not enabled");
  } else {
    const v4 = inanyV4(r.addr) !== null;
    if (v4 && !(t.caps & FWD_CAP_IPV4)) throw new RuleError("IPv4 forward, but IPv4 not enabled");
    if (!v4 && !(t.caps & FWD_CAP_IPV6)) {
      throw new RuleError("IPv6 forward, but IPv6 not enabled");
    }
  }
  if (r.proto === IPPROTO_TCP) {
    if (!(t.caps & FWD_CAP_TCP)) {
      throw new RuleError("Can't add TCP forwarding rule, TCP not enabled");
    }
  } else if (r.proto === IPPROTO_UDP) {
    if (!(t.caps & FWD_CAP_UDP)) {
      throw new RuleError("Can't add UDP forwarding rule, UDP not enabled");
    }
  } else {
    throw new RuleError(
      `Unsupported protocol 0x${r.proto.toString(16)} (${
        ipprotoName(r.proto)
      }) for forwarding rule`,
    );
  }
  if (!inanyIsUnspecified(r.taddr)) {
    const t4 = inanyV4(r.taddr) !== null;
    if (inanyIsMulticast(r.taddr)) {
      throw new RuleError(`Multicast target address ${inanyNtop(r.taddr)} for forwarding rule`);
    }
    if (r.flags & FWD_DUAL_STACK_ANY) {
      throw new RuleError(
        `Dual stack forward to ${t4 ? "IPv4" : "IPv6"} address ${
          inanyNtop(r.taddr)
        } unsupported\n` +
          `Did you mean ${t4 ? "0.0.0.0" : "[::]"}/... instead?`,
      );
    }
    const a4 = inanyV4(r.addr) !== null;
    if (a4 !== t4) {
      throw new RuleError(
        `Forward from ${a4 ? "IPv4" : "IPv6"} (${inanyNtop(r.addr)}) to ${t4 ? "IPv4" : "IPv6"} (${
          inanyNtop(r.taddr)
        }) unsupported`,
      );
    }
  }
}

/** Validates `r` and appends it to `t` (upstream `fwd_rule_add()`); throws RuleError. */
export function ruleAdd(t: RuleTable, r: FwdRule): void {
  ruleValidate(t, r);
  for (const old of t.rules) {
    if (ruleConflicts(r, old)) {
      throw new RuleError(
        `Forwarding configuration conflict: ${ruleFormat(r)} versus ${ruleFormat(old)}`,
      );
    }
  }
  if (t.rules.length >= MAX_FWD_RULES) {
    throw new RuleError(`Too many rules (maximum ${MAX_FWD_RULES})`);
  }
  if (sockCount(t) + r.last - r.first + 1 > MAX_LISTEN_SOCKS) {
    throw new RuleError(
      `Rules require too many listening sockets (maximum ${MAX_LISTEN_SOCKS})`,
    );
  }
  t.rules.push(r);
}

/** Removes the rule of `t` identical to `r` (upstream `fwd_rule_del()`); throws RuleError. */
export function ruleDel(t: RuleTable, r: FwdRule): void {
  for (let i = 0; i < t.rules.length; i++) {
    const old = t.rules[i]!;
    if (ruleMatch(r, old)) {
      t.rules.splice(i, 1);
      return;
    }
    if (ruleConflicts(r, old)) {
      throw new RuleError(
        `Specifier ${ruleFormat(r)} conflicts with rule ${
          ruleFormat(old)
        }, but doesn't match it, can't delete`,
      );
    }
  }
  throw new RuleError(`Couldn't find forwarding rule to delete: ${ruleFormat(r)}`);
}

// Port specifiers

/** A cursor over a spec string, as upstream's parse.c. */
class Cursor {
  constructor(readonly s: string, public p = 0) {}

  literal(lit: string): boolean {
    if (!this.s.startsWith(lit, this.p)) return false;
    this.p += lit.length;
    return true;
  }

  eoi(): boolean {
    return this.p >= this.s.length;
  }

  /** strtoul(base 10): optional space and sign as glibc takes them; null if no digits. */
  unsigned(): number | null {
    const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(this.s.slice(this.p));
    if (m === null) return null;
    let v = Number(m[2]);
    if (!Number.isSafeInteger(v) || v > 0xffffffffffffffff) return null;
    if (m[1] === "-") v = v === 0 ? 0 : Number.MAX_SAFE_INTEGER; // wraps: never a port
    this.p += m[0].length;
    return v;
  }

  portRange(): [number, number] | null {
    const save = this.p;
    const first = this.unsigned();
    if (first === null) return null;
    let last = first;
    if (this.literal("-")) {
      const l = this.unsigned();
      if (l === null) {
        this.p = save;
        return null;
      }
      last = l;
    }
    if (last < first || last >= NUM_PORTS) {
      this.p = save;
      return null;
    }
    return [first, last];
  }

  /** An IPv6 or IPv4 address, optionally in brackets (upstream `parse_inany()`). */
  inany(): Uint8Array | null {
    for (const v6 of [true, false]) {
      const save = this.p;
      const bracket = this.literal("[");
      let len: number;
      const rest = this.s.slice(this.p);
      if (bracket) {
        len = rest.indexOf("]");
        if (len < 0) len = rest.length;
      } else {
        const m = (v6 ? /^[0-9a-fA-F:.]*/ : /^[0-9.]*/).exec(rest)!;
        len = m[0].length;
      }
      const text = rest.slice(0, len);
      this.p += len;
      let addr: Uint8Array | null = null;
      if (v6) {
        const w = parseIp6(text);
        if (w !== null) {
          addr = new Uint8Array(16);
          const v = new DataView(addr.buffer);
          for (let i = 0; i < 4; i++) v.setUint32(i * 4, w[i]!);
        }
      } else {
        const a = parseIp4(text);
        if (a !== null) addr = inanyFrom4(a);
      }
      if (addr !== null && (!bracket || this.literal("]"))) return addr;
      this.p = save;
    }
    return null;
  }

  /** `%IFNAME`, or nothing (""); null if the name is empty or too long. */
  ifspec(): string | null {
    if (!this.literal("%")) return "";
    const m = /^[^/ \f\n\r\t\v]*/.exec(this.s.slice(this.p))!;
    const len = new TextEncoder().encode(m[0]).length;
    if (m[0].length === 0 || len >= IFNAMSIZ) {
      this.p--;
      return null;
    }
    this.p += m[0].length;
    return m[0];
  }
}

function parseChunk(c: Cursor): SpecChunk<Uint8Array> | null {
  const out: SpecChunk<Uint8Array> = {
    kind: "include",
    first: 0,
    last: 0,
    taddr: ANY6,
    tfirst: 0,
    tlast: 0,
  };
  if (c.literal("all")) {
    out.kind = "all";
    const save = c.p;
    let t: Uint8Array | null = null;
    if (c.literal(":") && (t = c.inany()) !== null) out.taddr = t;
    else c.p = save;
    return out;
  }
  if (c.literal("auto")) {
    out.kind = "auto";
    return out;
  }
  if (c.literal("~")) {
    const r = c.portRange();
    if (r === null) return null;
    out.kind = "exclude";
    [out.first, out.last] = r;
    return out;
  }
  const l = c.portRange();
  if (l === null) return null;
  [out.first, out.last] = l;
  [out.tfirst, out.tlast] = l;
  const save = c.p;
  let t: Uint8Array | null;
  let tr: [number, number] | null;
  if (c.literal(":") && (t = c.inany()) !== null && c.literal("/") && (tr = c.portRange())) {
    out.taddr = t;
    [out.tfirst, out.tlast] = tr;
    return out;
  }
  c.p = save;
  if (c.literal(":") && (t = c.inany()) !== null) {
    out.taddr = t;
    return out;
  }
  c.p = save;
  if (c.literal(":") && (tr = c.portRange())) {
    [out.tfirst, out.tlast] = tr;
    return out;
  }
  c.p = save;
  return out;
}

function parsePorts(
  t: RuleTable,
  del: boolean,
  proto: number,
  addr: Uint8Array | null,
  ifname: string,
  spec: string,
): void {
  const bad = (): RuleError => new RuleError(`Invalid port specifier '${spec}'`);
  const chunks: SpecChunk<Uint8Array>[] = [];
  let flags = 0;
  const c = new Cursor(spec);
  do {
    const ch = parseChunk(c);
    if (ch === null) throw bad();
    if (ch.kind === "auto") {
      if (!(t.caps & FWD_CAP_SCAN)) {
        throw new RuleError("'auto' port forwarding is only allowed for pasta");
      }
      flags |= FWD_SCAN;
    }
    chunks.push(ch);
  } while (c.literal(","));

  const ok = forEachPortRun(
    chunks,
    !c.eoi(),
    ANY6,
    [ephemeral.min, ephemeral.max],
    flags,
    (first, last, to, taddr, runFlags) => {
      const rule: FwdRule = {
        addr: addr ?? ANY6,
        taddr,
        ifname,
        first,
        last,
        to,
        proto,
        flags: runFlags | (addr === null ? FWD_DUAL_STACK_ANY : 0),
      };
      try {
        if (del) ruleDel(t, rule);
        else ruleAdd(t, rule);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        throw new RuleError(
          `${e.message}\nUnable to ${del ? "delete" : "add"} rule ${ruleFormat(rule)}`,
        );
      }
    },
  );
  if (!ok) throw bad();
}

/**
 * Applies one `-t`/`-u`/`-T`/`-U` argument to `t` (adding, or deleting with
 * `del`), as upstream's `fwd_rule_parse()`. Returns warnings to print; throws
 * RuleError.
 */
export function ruleParse(
  opt: "t" | "u" | "T" | "U",
  del: boolean,
  arg: string,
  t: RuleTable,
): string[] {
  const warnings: string[] = [];
  const proto = opt === "t" || opt === "T" ? IPPROTO_TCP : IPPROTO_UDP;
  const outbound = opt === "T" || opt === "U";

  if (arg === "none") {
    if (t.rules.some((r) => r.proto === proto)) {
      throw new RuleError(`-${opt} none conflicts with previous options`);
    }
    return warnings;
  }

  let addr: Uint8Array | null = null;
  let ifname = "";
  let rest = arg;
  {
    // ADDR[%IF]/ or [*][%IF]/
    let c = new Cursor(arg);
    let a: Uint8Array | null;
    let ifn: string | null;
    let matched = false;
    if ((a = c.inany()) !== null && (ifn = c.ifspec()) !== null && c.literal("/")) {
      addr = a;
      ifname = ifn;
      matched = true;
    } else {
      c = new Cursor(arg);
      c.literal("*");
      if ((ifn = c.ifspec()) !== null && c.literal("/")) {
        ifname = ifn;
        matched = true;
      }
    }
    if (matched) {
      if (outbound) throw new RuleError(`Listening address not allowed for -${opt} ${arg}`);
      if (ifname === "." || ifname === "..") {
        throw new RuleError(`Invalid interface name: ${ifname}`);
      }
      rest = arg.slice(c.p);
    }
  }

  if (outbound) {
    if (!(t.caps & FWD_CAP_IFNAME)) {
      warnings.push(
        `SO_BINDTODEVICE unavailable, forwarding only 127.0.0.1 and ::1 for '-${opt} ${arg}'`,
      );
      if (t.caps & FWD_CAP_IPV4) parsePorts(t, del, proto, LOOPBACK4, "", rest);
      if (t.caps & FWD_CAP_IPV6) parsePorts(t, del, proto, LOOPBACK6, "", rest);
      return warnings;
    }
    ifname = "lo";
  }

  if (addr === null && !(t.caps & FWD_CAP_IPV4)) addr = ANY6;
  else if (addr === null && !(t.caps & FWD_CAP_IPV6)) addr = ANY4;

  if (ifname && !(t.caps & FWD_CAP_IFNAME)) {
    throw new RuleError(`Device binding for '-${opt} ${arg}' unsupported (requires kernel 5.7+)`);
  }
  parsePorts(t, del, proto, addr, ifname, rest);
  return warnings;
}
