// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `port_spec.ts` - port forwarding specifiers of -t, -u, -T and -U
 *
 * Theory of operation: each option's argument is one of `none`, `auto`
 * (pasta), `all` (passt) or a list. The first option for a map picks its
 * mode; later ones may only add more lists ("Port forwarding mode ...
 * conflicts"). A list is an optional binding prefix (`ADDR/`, `ADDR%IF/`,
 * `%IF/`, -t and -u only) and comma-separated items: `PORT`, `FIRST-LAST`,
 * either optionally followed by `:TARGET` or `:TFIRST-TLAST` of the same
 * length, or `~PORT` / `~FIRST-LAST` to exclude ports. Exclusions are read
 * first, so their position doesn't matter; a list made only of exclusions
 * forwards every non-ephemeral port (0 to 49151) that isn't excluded. A port
 * forwarded twice, in one option or across repeated ones, is an error.
 *
 * Bitmaps are byte-addressed: port p is bit `p & 7` of byte `p >> 3`, so the
 * layout never depends on the host's byte order.
 *
 * @module
 */

import type { Mode, PortFwd } from "../context.ts";
import { parseIp4, parseIp6 } from "../ip.ts";
import { ConfError } from "./conf_error.ts";

/** Number of port numbers. */
export const NUM_PORTS = 65536;
/** First ephemeral port: `all` and exclusion-only lists stop below it. */
export const PORT_EPHEMERAL_MIN = 49152;
/** Longest interface name (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

/** Set bit `p` of a byte-addressed bitmap. */
export function bitmapSet(map: Uint8Array, p: number): void {
  map[p >> 3]! |= 1 << (p & 7);
}

/** Clear bit `p` of a byte-addressed bitmap. */
export function bitmapClear(map: Uint8Array, p: number): void {
  map[p >> 3]! &= ~(1 << (p & 7));
}

/** Whether bit `p` of a byte-addressed bitmap is set. */
export function bitmapIsSet(map: Uint8Array, p: number): boolean {
  return (map[p >> 3]! & (1 << (p & 7))) !== 0;
}

/** A fresh, empty forwarding map in mode `none`. */
export function newPortFwd(): PortFwd {
  return {
    mode: "none",
    map: new Uint8Array(NUM_PORTS / 8),
    delta: new Uint16Array(NUM_PORTS),
    excluded: new Uint8Array(NUM_PORTS / 8),
    bindAddr: null,
    bindIf: null,
    ranges: [],
  };
}

/** Option letter a spec belongs to. */
export type PortOpt = "t" | "u" | "T" | "U";

interface Item {
  exclude: boolean;
  first: number;
  last: number;
  target: number;
}

const RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function parseRange(s: string): [number, number] | null {
  const m = RANGE.exec(s);
  if (m === null) return null;
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  if (first > 65535 || last > 65535 || first > last) return null;
  return [first, last];
}

function parseItem(s: string): Item | null {
  const exclude = s.startsWith("~");
  const body = exclude ? s.slice(1) : s;
  const colon = body.indexOf(":");
  const src = parseRange(colon < 0 ? body : body.slice(0, colon));
  if (src === null) return null;
  let target = src[0];
  if (colon >= 0) {
    if (exclude) return null;
    const dst = parseRange(body.slice(colon + 1));
    if (dst === null || dst[1] - dst[0] !== src[1] - src[0]) return null;
    target = dst[0];
  }
  return { exclude, first: src[0], last: src[1], target };
}

function addRun(
  fwd: PortFwd,
  first: number,
  last: number,
  target: number,
  bindAddr: string | null,
  bindIf: string | null,
): void {
  fwd.ranges.push({ first, last, target, bindAddr, bindIf });
}

/**
 * Apply one -t/-u/-T/-U argument to `fwd`. `first` says whether this is the
 * first option for this map (it decides the mode). Throws ConfError.
 */
export function parsePortSpec(
  fwd: PortFwd,
  spec: string,
  opt: PortOpt,
  mode: Mode,
  first: boolean,
): void {
  const conflict = (): ConfError =>
    new ConfError(`Port forwarding mode '${spec}' conflicts with previous mode`);
  const invalid = (): ConfError => new ConfError(`Invalid port specifier ${spec}`);

  if (spec === "none") {
    if (!first) throw conflict();
    fwd.mode = "none";
    return;
  }
  if (spec === "auto") {
    if (mode !== "pasta") throw new ConfError("'auto' port forwarding is only allowed for pasta");
    if (!first) throw conflict();
    fwd.mode = "auto";
    return;
  }
  if (spec === "all") {
    if (mode !== "passt") throw new ConfError("'all' port forwarding is only allowed for passt");
    if (!first) throw conflict();
    fwd.mode = "all";
    for (let p = 0; p < PORT_EPHEMERAL_MIN; p++) bitmapSet(fwd.map, p);
    addRun(fwd, 0, PORT_EPHEMERAL_MIN - 1, 0, null, null);
    return;
  }
  if (!first && fwd.mode !== "spec") throw conflict();

  let list = spec;
  let bindAddr: string | null = null;
  let bindIf: string | null = null;
  const slash = spec.indexOf("/");
  if (slash >= 0) {
    if (opt === "T" || opt === "U") throw invalid();
    const prefix = spec.slice(0, slash);
    list = spec.slice(slash + 1);
    const pct = prefix.indexOf("%");
    const addr = pct < 0 ? prefix : prefix.slice(0, pct);
    if (pct >= 0) {
      bindIf = prefix.slice(pct + 1);
      if (bindIf === "" || bindIf.length > IFNAME_MAX || bindIf.includes("%")) throw invalid();
    }
    if (addr !== "") {
      if (parseIp4(addr) === null && parseIp6(addr) === null) throw invalid();
      bindAddr = addr;
    } else if (bindIf === null) {
      throw invalid();
    }
  }

  const items: Item[] = [];
  for (const s of list.split(",")) {
    const item = parseItem(s);
    if (item === null) throw invalid();
    items.push(item);
  }

  const exclude = new Uint8Array(NUM_PORTS / 8);
  for (const it of items) {
    if (!it.exclude) continue;
    for (let p = it.first; p <= it.last; p++) {
      bitmapSet(exclude, p);
      bitmapSet(fwd.excluded, p);
    }
  }

  const forwards = items.filter((it) => !it.exclude);
  if (forwards.length === 0) {
    forwards.push({ exclude: false, first: 0, last: PORT_EPHEMERAL_MIN - 1, target: 0 });
  }

  for (const it of forwards) {
    for (let p = it.first; p <= it.last; p++) {
      if (!bitmapIsSet(exclude, p) && bitmapIsSet(fwd.map, p)) {
        throw new ConfError(`Overlapping port specifier ${spec}`);
      }
    }
    const delta = (it.target - it.first) & 0xffff;
    let runStart = -1;
    for (let p = it.first; p <= it.last + 1; p++) {
      const take = p <= it.last && !bitmapIsSet(exclude, p);
      if (take) {
        bitmapSet(fwd.map, p);
        fwd.delta[p] = delta;
        if (runStart < 0) runStart = p;
      } else if (runStart >= 0) {
        addRun(fwd, runStart, p - 1, (runStart + delta) & 0xffff, bindAddr, bindIf);
        runStart = -1;
      }
    }
  }

  if (fwd.bindAddr === null && fwd.bindIf === null) {
    fwd.bindAddr = bindAddr;
    fwd.bindIf = bindIf;
  }
  fwd.mode = "spec";
}
