// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/fwd.ts` - the forwarding rule tables and the listeners they own
 *
 * Theory of operation: a {@linkcode Forwarder} holds one rule table per
 * initiating interface: `host` (`-t`, `-u`: host sockets towards the guest)
 * and, in pasta, `splice` (`-T`, `-U`: namespace loopback towards the host).
 * Every installed rule owns its listening sockets, up to two per port (IPv4 or
 * dual-stack, and IPv6), opened through a {@linkcode ListenBackend} per
 * interface and protocol (the protocol modules decide what a listener is and
 * which epoll reference it carries). An installed rule also has a slot number,
 * stable for as long as the rule stays installed, that listeners carry in the
 * top byte of their epoll reference ({@linkcode LISTEN_SLOT_SHIFT}), so that
 * a protocol handler finds the rule of a new flow ({@linkcode Forwarder.ruleAt})
 * for its target address.
 *
 * Rules are replaced at run time with {@linkcode Forwarder.replace}: the new
 * table is validated as a whole, listeners of rules that stay are kept as
 * they are, listeners of removed rules are closed and those of new rules
 * opened; if any of them can't be opened, everything is put back as it was
 * and the error is thrown: all or nothing. Flows already set up are never
 * touched (they don't depend on the rule once created).
 *
 * `auto` rules ({@linkcode FWD_SCAN}) listen on a port only while the other
 * side listens on it: {@linkcode Forwarder.scanTimer}, every
 * {@linkcode FWD_SCAN_INTERVAL}, asks the {@linkcode Scanner} for the port
 * maps of both sides, takes out the ports our own listeners hold on the
 * other side (which would loop), and opens or closes listeners to match. It
 * never throws: a port that can't be bound (out of descriptors, say) is
 * logged, rate-limited, and tried again at the next scan.
 *
 * Nothing here mutates `Conf`: the initial rules are `conf.fwdRules`, copied.
 * Everything here runs at start-up, on a scan or on a control request, never
 * per packet: strings and small allocations are fine.
 *
 * @module
 */

import { strerror } from "../../ffi/errno.ts";
import { RateLimit, warn, warnRatelimit } from "../log.ts";
import * as nat from "./nat.ts";
import {
  checkRule,
  formatAddr,
  formatRule,
  FWD_DUAL_STACK_ANY,
  FWD_SCAN,
  FWD_WEAK,
  type FwdCaps,
  type FwdPif,
  type FwdRule,
  MAX_FWD_RULES,
  NUM_PORTS,
  ruleEqual,
  unableToAdd,
} from "./fwd_rule.ts";
import { MAP_BYTES, type Scanner } from "./scan.ts";

/** Interval of the `auto` rescan, milliseconds. */
export const FWD_SCAN_INTERVAL = 1000;
/** Bit position of the rule slot in a listener's epoll reference index (8 bits). */
export const LISTEN_SLOT_SHIFT = 24;

/** The rule slot carried by a listener's epoll reference `index`. */
export function listenSlot(index: number): number {
  return index >>> LISTEN_SLOT_SHIFT;
}

/** `index` (a listener reference without a slot) with rule slot `slot` set. */
export function withSlot(index: number, slot: number): number {
  return (index | (slot << LISTEN_SLOT_SHIFT)) >>> 0;
}

/** A forwarding error: one line, the process exits 1 at start-up; a control request fails. */
export class FwdError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "FwdError";
  }
}

/**
 * Opens and closes the listeners of one interface and protocol (implemented by
 * the protocol modules, `fwd/listen.ts`).
 */
export interface ListenBackend {
  /**
   * Opens the listener(s) for `port` of `rule`, whose slot is `slot`: writes the
   * IPv4 (or dual-stack) fd to `out[0]` and the IPv6-only one to `out[1]`, -1
   * where there is none. Returns 0, or -errno with nothing left open.
   */
  open(rule: FwdRule, slot: number, port: number, out: Int32Array): number;
  /** Closes listener `fd` of `port` of `rule` (`v6`: it was in `out[1]`). */
  close(rule: FwdRule, port: number, fd: number, v6: boolean): void;
}

/** The backends of one interface. */
export interface PifBackends {
  tcp: ListenBackend | null;
  udp: ListenBackend | null;
}

interface Installed {
  rule: FwdRule;
  slot: number;
  /**
   * Two fds per port of the rule (IPv4 or dual, IPv6), each plus one: 0 if
   * none, so that the pages of a rule's unused ports are never touched.
   */
  socks: Int32Array;
  /** Bit per port (0..65535): the rule has a listener there. */
  bound: Uint8Array;
}

class Table {
  installed: Installed[] = [];
  readonly slots: (Installed | null)[] = new Array(MAX_FWD_RULES).fill(null);
  /** Listeners open per port, TCP and UDP (any rule): what `auto` on the other side leaves out. */
  readonly heldTcp = new Uint8Array(NUM_PORTS);
  readonly heldUdp = new Uint8Array(NUM_PORTS);
  /** Ports with a listener in this table (the sum of heldTcp and heldUdp). */
  held = 0;
  constructor(readonly pif: FwdPif, readonly caps: FwdCaps, readonly be: PifBackends) {}
}

const PIF_NAME: Record<FwdPif, string> = { host: "HOST", splice: "SPLICE" };
const rlScan = new RateLimit(1, 5000);

function isSet(map: Uint8Array, p: number): boolean {
  return (map[p >> 3]! & (1 << (p & 7))) !== 0;
}

/** Sets (`on`) or clears port `p`'s bit in `map`. */
function setBit(map: Uint8Array, p: number, on: boolean): void {
  if (on) map[p >> 3] = map[p >> 3]! | (1 << (p & 7));
  else map[p >> 3] = map[p >> 3]! & ~(1 << (p & 7));
}

/** The forwarding rule tables of both interfaces and their listeners. */
export class Forwarder {
  readonly #tables: Partial<Record<FwdPif, Table>> = {};
  readonly #scanner: Scanner | null;
  readonly #out = new Int32Array(2);
  readonly #want = new Uint8Array(MAP_BYTES);

  /**
   * Tables for `host` and (pasta) `splice` with their capabilities and
   * backends; `scanner` serves `auto` rules (null: they never listen).
   */
  constructor(
    tables: Partial<Record<FwdPif, { caps: FwdCaps; backends: PifBackends }>>,
    scanner: Scanner | null,
  ) {
    for (const pif of ["host", "splice"] as const) {
      const t = tables[pif];
      if (t) this.#tables[pif] = new Table(pif, t.caps, t.backends);
    }
    this.#scanner = scanner;
  }

  /** Whether the `pif` table exists (`splice`: pasta only). */
  has(pif: FwdPif): boolean {
    return this.#tables[pif] !== undefined;
  }

  /** Capabilities of the `pif` table (what a rule may ask for). */
  caps(pif: FwdPif): FwdCaps {
    return { ...this.#table(pif).caps };
  }

  /** The rules installed for `pif`, in order. */
  rules(pif: FwdPif): FwdRule[] {
    return this.#table(pif).installed.map((i) => i.rule);
  }

  /** The rule in `slot` of `pif` (from a listener's reference), or null. */
  ruleAt(pif: FwdPif, slot: number): FwdRule | null {
    const t = this.#tables[pif];
    return t?.slots[slot]?.rule ?? null;
  }

  /** Number of listening sockets open for `pif`. */
  listeners(pif: FwdPif): number {
    let n = 0;
    for (const i of this.#table(pif).installed) for (const fd1 of i.socks) if (fd1 > 0) n++;
    return n;
  }

  /** Whether a listener of `pif` is open for `proto` at `port` (any rule). */
  listening(pif: FwdPif, proto: number, port: number): boolean {
    for (const i of this.#table(pif).installed) {
      const r = i.rule;
      if (r.proto !== proto || port < r.first || port > r.last) continue;
      const k = 2 * (port - r.first);
      if (i.socks[k]! > 0 || i.socks[k + 1]! > 0) return true;
    }
    return false;
  }

  #table(pif: FwdPif): Table {
    const t = this.#tables[pif];
    if (!t) throw new FwdError(`No ${PIF_NAME[pif]} forwarding table in this mode`);
    return t;
  }

  /**
   * Replaces the rules of `pif` by `rules`, all or nothing: validates them as a
   * table (upstream's checks and messages), keeps the listeners of rules that
   * stay, closes those of removed rules and opens those of new ones. On any
   * error the previous rules and listeners are back in place and a
   * {@linkcode FwdError} is thrown whose message is one line naming the rule.
   * `scanned`: the caller has just scanned (start-up, both tables in a row).
   */
  replace(pif: FwdPif, rules: readonly FwdRule[], scanned = false): void {
    const t = this.#table(pif);
    const acc: FwdRule[] = [];
    for (const r of rules) {
      const err = checkRule(t.caps, acc, r);
      if (err !== null) throw new FwdError(unableToAdd(r, err));
      acc.push(r);
    }
    if (this.#scanner && !scanned && rules.some((r) => r.flags & FWD_SCAN)) this.#scanner.scan();
    // Rules that stay keep their listeners and slots.
    const old = t.installed;
    const taken = new Set<Installed>();
    const next: (Installed | null)[] = rules.map((r) => {
      const keep = old.find((i) => !taken.has(i) && ruleEqual(i.rule, r));
      if (keep) taken.add(keep);
      return keep ?? null;
    });
    const removed = old.filter((i) => !taken.has(i));
    const used = new Set(next.filter((i) => i !== null).map((i) => i!.slot));
    for (const i of removed) this.#closeAll(t, i);
    const opened: Installed[] = [];
    let slot = 0;
    try {
      for (let k = 0; k < rules.length; k++) {
        if (next[k] !== null) continue;
        while (used.has(slot)) slot++;
        const r = rules[k]!;
        const inst: Installed = {
          rule: r,
          slot,
          socks: new Int32Array(2 * (r.last - r.first + 1)),
          bound: new Uint8Array(MAP_BYTES),
        };
        used.add(slot);
        opened.push(inst);
        next[k] = inst;
        const err = this.#sync(t, inst, true);
        if (err !== null) throw new FwdError(err);
      }
    } catch (e) {
      for (const i of opened) this.#closeAll(t, i);
      for (const i of removed) this.#sync(t, i, false);
      throw e;
    }
    t.installed = next as Installed[];
    t.slots.fill(null);
    for (const i of t.installed) t.slots[i.slot] = i;
  }

  /** Closes every listener of every table (shutdown). */
  closeAll(): void {
    for (const t of Object.values(this.#tables)) {
      for (const i of t.installed) this.#closeAll(t, i);
      t.installed = [];
      t.slots.fill(null);
    }
  }

  /**
   * The `auto` rescan (every {@linkcode FWD_SCAN_INTERVAL}): scans both sides
   * and opens or closes listeners of scanning rules. Never throws.
   */
  scanTimer(_now: number): void {
    const s = this.#scanner;
    if (!s) return;
    let any = false;
    for (const t of Object.values(this.#tables)) {
      if (t.installed.some((i) => i.rule.flags & FWD_SCAN)) any = true;
    }
    if (!any) return;
    s.scan();
    for (const t of Object.values(this.#tables)) {
      for (const i of t.installed) if (i.rule.flags & FWD_SCAN) this.#sync(t, i, false);
    }
  }

  /** The ports `auto` wants for `proto` on `t` now: the other side's, minus our own there. */
  #scanMap(t: Table, proto: number): Uint8Array {
    const s = this.#scanner!;
    const tcp = proto === nat.IPPROTO_TCP;
    const other: FwdPif = t.pif === "host" ? "splice" : "host";
    const src = t.pif === "host" ? (tcp ? s.nsTcp : s.nsUdp) : (tcp ? s.hostTcp : s.hostUdp);
    const ot = this.#tables[other];
    const w = this.#want;
    w.set(src);
    if (ot && ot.held > 0) {
      // UDP follows TCP too (see scan.ts), so our TCP listeners there are not theirs either.
      const ht = ot.heldTcp, hu = ot.heldUdp;
      for (let p = 0; p < NUM_PORTS; p++) {
        if (ht[p] || (!tcp && hu[p])) w[p >> 3]! &= ~(1 << (p & 7));
      }
    }
    return w;
  }

  /**
   * Opens the listeners `inst` should have and closes those it shouldn't
   * (`auto`). Returns the error of a rule that must bind (not weak, not
   * `auto`, `strict`) and couldn't, else null.
   */
  #sync(t: Table, inst: Installed, strict: boolean): string | null {
    const r = inst.rule;
    const be = r.proto === nat.IPPROTO_TCP ? t.be.tcp : t.be.udp;
    if (!be) return null;
    const scan = (r.flags & FWD_SCAN) !== 0;
    const map = scan ? (this.#scanner ? this.#scanMap(t, r.proto) : null) : null;
    const out = this.#out;
    let boundOne = false;
    for (let p = r.first; p <= r.last; p++) {
      // `auto` visits only ports it wants or has: a whole byte of the maps at a
      // time otherwise (a rescan of 1-65535 is then a few hundred steps)
      if (
        scan && (p & 7) === 0 && ((map === null ? 0 : map[p >> 3]!) | inst.bound[p >> 3]!) === 0
      ) {
        p += 7;
        continue;
      }
      const k = 2 * (p - r.first);
      const have = inst.socks[k]! > 0 || inst.socks[k + 1]! > 0;
      if (scan && (map === null || !isSet(map, p))) {
        if (have) this.#closePort(t, be, inst, p);
        continue;
      }
      if (have) {
        boundOne = true;
        continue;
      }
      out[0] = -1;
      out[1] = -1;
      const rc = be.open(r, inst.slot, p, out);
      if (rc < 0) {
        const msg = `Listen failed for ${PIF_NAME[t.pif]} ${
          r.proto === nat.IPPROTO_TCP ? "TCP" : "UDP"
        } port ${listenName(r)}/${p}: ${strerror(-rc)}`;
        if (scan) {
          // Retried at the next scan; never fatal.
          warnRatelimit(rlScan, performance.now(), () => msg);
          continue;
        }
        if (!(r.flags & FWD_WEAK) && strict) {
          this.#closeAll(t, inst);
          return msg;
        }
        continue;
      }
      inst.socks[k] = out[0]! + 1;
      inst.socks[k + 1] = out[1]! + 1;
      setBit(inst.bound, p, true);
      (r.proto === nat.IPPROTO_TCP ? t.heldTcp : t.heldUdp)[p]!++;
      t.held++;
      boundOne = true;
    }
    if (!boundOne && !scan && strict) {
      return `All listens failed for ${PIF_NAME[t.pif]} ${
        r.proto === nat.IPPROTO_TCP ? "TCP" : "UDP"
      } ${listenName(r)}/${r.first}-${r.last}`;
    }
    return null;
  }

  #closePort(t: Table, be: ListenBackend, inst: Installed, p: number): void {
    const k = 2 * (p - inst.rule.first);
    if (inst.socks[k]! > 0 || inst.socks[k + 1]! > 0) {
      (inst.rule.proto === nat.IPPROTO_TCP ? t.heldTcp : t.heldUdp)[p]!--;
      t.held--;
      setBit(inst.bound, p, false);
    }
    for (let j = 0; j < 2; j++) {
      const fd = inst.socks[k + j]! - 1;
      if (fd < 0) continue;
      be.close(inst.rule, p, fd, j === 1);
      inst.socks[k + j] = 0;
    }
  }

  #closeAll(t: Table, inst: Installed): void {
    const r = inst.rule;
    const be = r.proto === nat.IPPROTO_TCP ? t.be.tcp : t.be.udp;
    if (!be) return;
    for (let p = r.first; p <= r.last; p++) {
      if ((p & 7) === 0 && inst.bound[p >> 3] === 0) p += 7;
      else this.#closePort(t, be, inst, p);
    }
  }
}

/** `ADDR%IF` or `*%IF` of a rule, as upstream's listen error messages write it. */
function listenName(r: FwdRule): string {
  const a = r.flags & FWD_DUAL_STACK_ANY ? "*" : formatAddr(r.addr);
  return r.ifname ? `${a}%${r.ifname}` : a;
}

/** Logs the rules of a table at start-up (debug aid, as upstream's `fwd_rules_dump`). */
export function dumpRules(fwd: Forwarder, pif: FwdPif, log: (s: string) => void = warn): void {
  for (const r of fwd.rules(pif)) log(`    ${formatRule(r)}`);
}
