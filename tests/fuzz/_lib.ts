// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `_lib.ts` - what every fuzz target shares: a seeded PRNG, byte mutators, a checker of
 * frames sent to the guest, descriptor counting, and the failure type
 *
 * Theory of operation: a target is a function of (seed, number of inputs) that generates
 * structured inputs from {@linkcode Rng}, mutates them with {@linkcode mutate}, feeds them to
 * the product code and checks invariants. A broken invariant or an exception that escapes the
 * product code becomes a {@linkcode FuzzFailure} carrying the input bytes, which the runner
 * stores as a corpus file; each target can replay such a file. Test code: allocates freely.
 *
 * @module
 */

import { l4Checksum4, l4Checksum6, sum16 } from "../../src/wire/checksum.ts";
import * as ipv6 from "../../src/wire/ipv6.ts";
import { lib } from "../../ffi/lib.ts";
import { padProblem } from "../_helpers/frames.ts";
import { type Level, setLevel } from "../../src/log.ts";

/** xoshiro128** (Blackman and Vigna), seeded through splitmix32: ours, no dependency. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator whose whole sequence is fixed by `seed`. */
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next() || 1;
  }

  /** Next 32-bit unsigned value. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.#b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#b << 9) >>> 0;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    this.#a >>>= 0;
    this.#b >>>= 0;
    this.#c >>>= 0;
    return r;
  }

  /** Uniform integer in [0, n) for n >= 1. */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  /** One element of `a`. */
  pick<T>(a: readonly T[]): T {
    return a[this.below(a.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Lengths that sit on the edges of the formats we parse. */
export const EDGE_LENGTHS = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  13,
  14,
  15,
  19,
  20,
  21,
  27,
  28,
  39,
  40,
  41,
  59,
  60,
  63,
  64,
  127,
  128,
  255,
  256,
  576,
  1280,
  1500,
  1514,
  4096,
  32767,
  65534,
  65535,
  65536,
];

const EDGE8 = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff];
const EDGE16 = [0, 1, 2, 8, 20, 40, 0x7fff, 0x8000, 0xfffe, 0xffff];
const EDGE32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/**
 * Mutates `len` bytes of `buf` in place (at most `cap` bytes may be used) with `n` random
 * edits, preferring the first `hot` bytes (headers); returns the new length.
 */
export function mutate(
  rng: Rng,
  buf: Uint8Array,
  len: number,
  cap: number,
  n = 1,
  hot = 64,
): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let k = 0; k < n; k++) {
    const span = len === 0 ? 0 : rng.oneIn(4) ? len : Math.min(len, hot);
    const at = span === 0 ? 0 : rng.below(span);
    switch (rng.below(11)) {
      case 0:
        if (len) buf[at] = buf[at]! ^ (1 << rng.below(8));
        break;
      case 1:
        if (len) buf[at] = rng.u32() & 0xff;
        break;
      case 2:
        if (len) buf[at] = rng.pick(EDGE8);
        break;
      case 3:
        if (at + 2 <= len) dv.setUint16(at, rng.pick(EDGE16));
        break;
      case 4:
        if (at + 4 <= len) dv.setUint32(at, rng.pick(EDGE32));
        break;
      case 5:
        len = rng.below(len + 1); // truncate
        break;
      case 6: {
        const add = Math.min(cap - len, rng.oneIn(8) ? rng.below(2048) : rng.below(16));
        for (let i = 0; i < add; i++) buf[len + i] = rng.u32() & 0xff;
        len += add;
        break;
      }
      case 7: {
        // Delete a chunk.
        if (!len) break;
        const l = Math.min(len - at, 1 + rng.below(16));
        buf.copyWithin(at, at + l, len);
        len -= l;
        break;
      }
      case 8: {
        // Duplicate a chunk in place (insert).
        if (!len) break;
        const l = Math.min(len - at, 1 + rng.below(16), cap - len);
        buf.copyWithin(at + l, at, len);
        len += l;
        break;
      }
      case 9:
        if (at + 2 <= len) dv.setUint16(at, rng.u32() & 0xffff);
        break;
      default:
        if (at + 2 <= len) dv.setUint16(at, (dv.getUint16(at) + rng.range(-3, 3)) & 0xffff);
    }
  }
  return len;
}

/** An input that broke an invariant, with the bytes to store as a corpus file. */
export class FuzzFailure extends Error {
  /** `input` is the (serialised) input; `cause` the exception, if one escaped. */
  constructor(message: string, readonly input: Uint8Array, override readonly cause?: unknown) {
    super(message);
    this.name = "FuzzFailure";
  }
}

/** Figures of one run of a target. */
export interface Stats {
  inputs: number;
  /** Extra counters a target wants reported (replies checked, connections...). */
  counters: Record<string, number>;
}

/** Options of a run. */
export interface RunOptions {
  seed: number;
  inputs: number;
  /** Progress lines (long runs); default: silent. */
  progress?: (line: string) => void;
}

/** A fuzz target: a run over generated inputs, and the replay of one stored input. */
export interface Target {
  name: string;
  run(opts: RunOptions): Stats;
  replay(input: Uint8Array): void;
  /** Whether the target opens sockets (the runner isolates it in a network namespace). */
  needsNet: boolean;
}

/** Reports a run's progress about twenty times over, with the milliseconds since it began. */
export class Progress {
  readonly #t0 = performance.now();
  readonly #step: number;
  #next: number;

  constructor(readonly opts: RunOptions, readonly name: string) {
    this.#step = Math.max(1, Math.floor(opts.inputs / 20));
    this.#next = this.#step;
  }

  /** Reports once `done` passes the next twentieth; `detail` says what is done (default: inputs). */
  tick(done: number, detail?: () => string): void {
    if (!this.opts.progress || done < this.#next) return;
    while (this.#next <= done) this.#next += this.#step;
    const ms = Math.round(performance.now() - this.#t0);
    this.opts.progress(`${this.name}: ${detail ? detail() : `${done} inputs`}, ${ms} ms`);
  }
}

/** Silences the product's log (a fuzz run triggers every error message by design). */
export function quiet(): void {
  setLevel(0 as Level);
}

/** What a target's run is handed: its options, a generator seeded by them, a progress reporter. */
export interface Run {
  opts: RunOptions;
  rng: Rng;
  progress: Progress;
}

/** A target's own parts, for {@linkcode defineTarget}. */
export interface TargetSpec {
  name: string;
  needsNet: boolean;
  run(r: Run): Stats;
  replay(input: Uint8Array): void;
}

/** A target from its parts: the product's log silenced, `run` handed its seeded generator and progress. */
export function defineTarget(spec: TargetSpec): Target {
  return {
    name: spec.name,
    needsNet: spec.needsNet,
    run(opts: RunOptions): Stats {
      quiet();
      return spec.run({ opts, rng: new Rng(opts.seed), progress: new Progress(opts, spec.name) });
    },
    replay(input: Uint8Array): void {
      quiet();
      spec.replay(input);
    },
  };
}

/** Open descriptors of this process and what they are (`socket:[...]`, `anon_inode:...`). */
export function listFds(): Map<number, string> {
  const m = new Map<number, string>();
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      m.set(Number(e.name), Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch {
      // the directory's own descriptor, gone already
    }
  }
  return m;
}

/** The descriptors in `now` that were not in `before`, described. */
export function newFds(before: Map<number, string>, now = listFds()): string {
  const out: string[] = [];
  for (const [fd, what] of now) {
    if (before.get(fd) !== what) out.push(`${fd} ${what}${socketInfo(what, fd)}`);
  }
  return out.join(", ");
}

/** For `socket:[INODE]`: its line of /proc/net/{tcp,udp,icmp}[6] (local, remote, state). */
function socketInfo(what: string, fd: number): string {
  const m = /^socket:\[(\d+)\]$/.exec(what);
  if (!m) return "";
  const ffi = lib();
  const kind =
    ` domain ${ffi.pf_getsockopt_int(fd, 1, 39)} type ${ffi.pf_getsockopt_int(fd, 1, 3)}` +
    ` protocol ${ffi.pf_getsockopt_int(fd, 1, 38)}`;
  for (const t of ["tcp", "tcp6", "udp", "udp6", "icmp", "icmp6", "raw", "raw6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(`/proc/self/net/${t}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[9] === m[1]) return ` (${t} ${f[1]} -> ${f[2]} state ${f[3]}${kind})`;
    }
  }
  return ` (${kind.trim()})`;
}

/** Number of open file descriptors of this process. */
export function countFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/**
 * Checks the UDP, TCP or ICMP(v6) part of a frame, `l4len` bytes at `l4` of
 * protocol `proto`, of IPv6 if `v6`; `pseudo(p)` is its checksum with the
 * family's pseudo-header for protocol `p` (0 when right). Null, or what is wrong.
 */
function checkL4(
  u8: Uint8Array,
  dv: DataView,
  l4: number,
  l4len: number,
  proto: number,
  v6: boolean,
  pseudo: (p: number) => number,
): string | null {
  const fam = v6 ? "IPv6" : "IPv4";
  if (proto === 17) {
    if (l4len < 8 || dv.getUint16(l4 + 4) !== l4len) {
      return v6 ? "bad UDP length (IPv6)" : "bad UDP length";
    }
    // A zero UDP checksum means none over IPv4, and is wrong over IPv6.
    if (dv.getUint16(l4 + 6) === 0) return v6 ? "UDP checksum 0 over IPv6" : null;
    return pseudo(17) !== 0 ? `bad UDP checksum (${fam})` : null;
  }
  if (proto === 6) {
    const doff = u8[l4 + 12]! >> 4;
    if (l4len < 20 || doff * 4 > l4len || doff < 5) return `bad TCP header length (${fam})`;
    return pseudo(6) !== 0 ? `bad TCP checksum (${fam})` : null;
  }
  if (!v6 && proto === 1) {
    if (l4len < 8) return "short ICMP";
    return fold(sum16(u8, l4, l4len)) !== 0xffff ? "bad ICMP checksum" : null;
  }
  if (v6 && proto === 58) {
    if (l4len < 8) return "short ICMPv6";
    return pseudo(58) !== 0 ? "bad ICMPv6 checksum" : null;
  }
  return v6 ? `IPv6 next header ${proto}` : `IPv4 protocol ${proto}`;
}

/**
 * Checks a frame we send to the guest: Ethernet, then ARP for Ethernet/IPv4, or IPv4/IPv6
 * with consistent lengths and valid checksums (IP header, TCP, UDP, ICMP, ICMPv6). Returns
 * null, or what is wrong.
 */
export function checkFrame(u8: Uint8Array, off: number, len: number): string | null {
  if (len < 14 || len > 65535) return `frame length ${len}`;
  if (off + len > u8.length) return "frame past the end of the arena";
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const type = dv.getUint16(off + 12);
  const l3 = off + 14;
  const avail = len - 14;
  if (type === 0x0806) {
    if (avail < 28) return "short ARP";
    if (dv.getUint32(l3) !== 0x00010800 || dv.getUint16(l3 + 4) !== 0x0604) return "bad ARP";
    return padProblem(u8, off, len, 14 + 28);
  }
  if (type === 0x0800) {
    if (avail < 20) return "short IPv4";
    const vihl = u8[l3]!;
    const hl = (vihl & 0xf) * 4;
    if (vihl >> 4 !== 4 || hl < 20 || hl > avail) return "bad IPv4 header length";
    if (fold(sum16(u8, l3, hl)) !== 0xffff) return "bad IPv4 header checksum";
    const tot = dv.getUint16(l3 + 2);
    const pad = padProblem(u8, off, len, 14 + tot);
    if (pad) return `IPv4 total length ${tot}: ${pad}`;
    const l4 = l3 + hl;
    const l4len = tot - hl;
    const proto = u8[l3 + 9]!;
    const src = dv.getUint32(l3 + 12), dst = dv.getUint32(l3 + 16);
    return checkL4(u8, dv, l4, l4len, proto, false, (p) => l4Checksum4(u8, l4, l4len, src, dst, p));
  }
  if (type === 0x86dd) {
    if (avail < 40 || u8[l3]! >> 4 !== 6) return "bad IPv6 header";
    const pl = dv.getUint16(l3 + 4);
    const pad = padProblem(u8, off, len, 54 + pl);
    if (pad) return `IPv6 payload length ${pl}: ${pad}`;
    const l4 = ipv6.l4Offset(dv, l3, 40 + pl);
    if (l4 < 0) return "IPv6 extension headers";
    const proto = ipv6.l4Proto();
    const l4len = l3 + 40 + pl - l4;
    const s = l3 + 8, d = l3 + 24;
    return checkL4(u8, dv, l4, l4len, proto, true, (p) => l4Checksum6(u8, l4, l4len, s, d, p));
  }
  return `EtherType ${type.toString(16)}`;
}

/** Hex of a short byte string (failure messages). */
export function hex(b: Uint8Array, max = 96): string {
  return Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join("") +
    (b.length > max ? "..." : "");
}

/** Length-prefixed concatenation of byte strings (how multi-part inputs are stored). */
export function packParts(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const p of parts) {
    dv.setUint32(o, p.length);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

/** Inverse of {@linkcode packParts} (a truncated tail is dropped). */
export function unpackParts(b: Uint8Array): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Uint8Array[] = [];
  let o = 0;
  while (o + 4 <= b.length) {
    const l = dv.getUint32(o);
    if (o + 4 + l > b.length) break;
    out.push(b.slice(o + 4, o + 4 + l));
    o += 4 + l;
  }
  return out;
}
