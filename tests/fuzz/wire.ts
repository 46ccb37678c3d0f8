// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `wire.ts` - fuzz target "wire": the header parsers and checksums of `src/wire/` with random
 * lengths
 *
 * Theory of operation: an input is a parser (selector), an offset, two small parameters, a
 * 32-bit parameter and a byte string, which is placed at the offset in a buffer that ends
 * exactly where the string ends (an `avail` equal to its length, so a `DataView` read past
 * it throws). The bytes are a mutated header of the right kind half of the time, random
 * otherwise, with lengths drawn from the edges of the formats. Each parser's answer is
 * checked against an independent reference written here from the RFCs (header lengths,
 * extension-header walks, TCP option walks, one's-complement sums, RFC 1624 updates,
 * sequence number comparisons, socket address round trips).
 *
 * @module
 */

import * as arp from "../../src/wire/arp.ts";
import * as csum from "../../src/wire/checksum.ts";
import * as icmp from "../../src/wire/icmp.ts";
import * as icmpv6 from "../../src/wire/icmpv6.ts";
import * as ipv4 from "../../src/wire/ipv4.ts";
import * as ipv6 from "../../src/wire/ipv6.ts";
import * as sa from "../../src/wire/sockaddr.ts";
import * as seq from "../../src/wire/seq.ts";
import * as tcp from "../../src/wire/tcp.ts";
import * as udp from "../../src/wire/udp.ts";
import {
  defineTarget,
  EDGE_LENGTHS,
  FuzzFailure,
  hex,
  mutate,
  Rng,
  type Run,
  type Stats,
} from "./_lib.ts";

/** One parser call. */
interface Input {
  sel: number;
  off: number;
  p1: number;
  p2: number;
  p3: number;
  data: Uint8Array;
}

function encode(i: Input): Uint8Array {
  const b = new Uint8Array(8 + i.data.length);
  b[0] = i.sel;
  b[1] = i.off;
  b[2] = i.p1;
  b[3] = i.p2;
  new DataView(b.buffer).setUint32(4, i.p3);
  b.set(i.data, 8);
  return b;
}

function decode(b: Uint8Array): Input {
  const h = new Uint8Array(8);
  h.set(b.subarray(0, 8));
  return {
    sel: h[0]!,
    off: h[1]!,
    p1: h[2]!,
    p2: h[3]!,
    p3: new DataView(h.buffer).getUint32(4),
    data: b.slice(8),
  };
}

// ---- references ------------------------------------------------------------------------------

/** One's-complement sum of 16-bit big-endian words, byte by byte, folded to 16 bits. */
function refSum(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  for (let i = 0; i < len; i++) {
    s += (i & 1) ? b[off + i]! : b[off + i]! << 8;
    s = (s & 0xffff) + (s >>> 16);
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/** Equal as one's-complement numbers (0 and 0xffff are both zero). */
function onesEq(a: number, b: number): boolean {
  return a === b || (a % 0xffff) === (b % 0xffff);
}

function refIpv4Validate(b: Uint8Array, o: number, avail: number): number {
  if (avail < 20 || b[o]! >> 4 !== 4) return -1;
  const hl = (b[o]! & 15) * 4;
  const tl = (b[o + 2]! << 8) | b[o + 3]!;
  return hl >= 20 && hl <= avail && tl >= hl && tl <= avail ? hl : -1;
}

function refIpv6Validate(b: Uint8Array, o: number, avail: number): number {
  if (avail < 40 || b[o]! >> 4 !== 6) return -1;
  return 40 + ((b[o + 4]! << 8) | b[o + 5]!) <= avail ? 40 : -1;
}

const EXT_8 = new Set([0, 43, 60, 135, 139, 140, 253, 254]);

/** RFC 8200 §4 walk: [offset, protocol] or [-1, -1]. */
function refL4(b: Uint8Array, o: number, avail: number): [number, number] {
  if (avail < 40) return [-1, -1];
  const end = o + Math.min(40 + ((b[o + 4]! << 8) | b[o + 5]!), avail);
  let nh = b[o + 6]!;
  let p = o + 40;
  for (;;) {
    if (EXT_8.has(nh) || nh === 51) {
      if (p + 2 > end) return [-1, -1];
      const len = nh === 51 ? 4 * (b[p + 1]! + 2) : 8 * (b[p + 1]! + 1);
      if (p + len > end) return [-1, -1];
      nh = b[p]!;
      p += len;
      continue;
    }
    if (nh === 44 || nh === 59 || nh === 50) return [-1, -1];
    return [p, nh];
  }
}

/** RFC 9293 §3.1 option walk for `kind` of exactly `want` bytes. */
function refOption(b: Uint8Array, o: number, hl: number, kind: number, want: number): number {
  let p = o + 20;
  const end = o + hl;
  while (p < end) {
    const k = b[p]!;
    if (k === 0) return -1;
    if (k === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) return -1;
    const l = b[p + 1]!;
    if (l < 2 || p + l > end) return -1;
    if (k === kind) return l === want ? p : -1;
    p += l;
  }
  return -1;
}

// ---- generation ------------------------------------------------------------------------------

const SELECTORS = 12;

function header(rng: Rng, sel: number): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  switch (sel) {
    case 0: // IPv4
      b[0] = 0x40 | rng.range(4, 15);
      dv.setUint16(2, rng.pick([20, 24, 40, 60, 64, 128, rng.below(65536)]));
      return b.slice(0, rng.pick([20, 24, 40, 60, 64, 128]));
    case 1: // IPv6 with extension headers
    case 2: {
      b[0] = 0x60;
      dv.setUint16(4, rng.pick([0, 8, 16, 24, 40, 88, rng.below(65536)]));
      b[6] = rng.pick([0, 43, 60, 51, 44, 59, 50, 6, 17, 58, 135, 253]);
      for (let p = 40; p + 8 <= 128; p += 8) {
        b[p] = rng.pick([0, 43, 60, 51, 44, 59, 6, 17, 58]);
        b[p + 1] = rng.pick([0, 0, 1, 2, 255]);
      }
      return b.slice(0, rng.pick([40, 48, 56, 64, 88, 128]));
    }
    case 3: // TCP with options
    case 4: {
      b[12] = rng.range(0, 15) << 4;
      let p = 20;
      while (p < 60) {
        const k = rng.pick([0, 1, 2, 3, 4, 8, 1, 1, 255]);
        b[p++] = k;
        if (k > 1) {
          const l = rng.pick([0, 1, 2, 3, 4, 10, 40, 255]);
          b[p++] = l;
          p += Math.max(0, Math.min(l, 8) - 2);
        }
      }
      return b.slice(0, rng.pick([20, 24, 28, 40, 60, 64]));
    }
    default:
      return rng.bytes(rng.pick([0, 1, 7, 8, 20, 28, 40, 64]));
  }
}

function gen(rng: Rng): Input {
  const sel = rng.below(SELECTORS);
  let data: Uint8Array;
  if (rng.oneIn(2)) {
    const h = header(rng, sel);
    const cap = h.length + 64;
    const buf = new Uint8Array(cap);
    buf.set(h);
    data = buf.slice(0, mutate(rng, buf, h.length, cap, rng.range(0, 3), h.length));
  } else {
    const n = rng.oneIn(2) ? rng.pick(EDGE_LENGTHS) : rng.below(200);
    data = rng.bytes(Math.min(n, 4096));
  }
  return {
    sel,
    off: rng.below(8),
    p1: rng.u32() & 0xff,
    p2: rng.u32() & 0xff,
    p3: rng.u32(),
    data,
  };
}

// ---- the checks ------------------------------------------------------------------------------

function check(inp: Input): void {
  const { sel, off, p1, p2, p3 } = inp;
  const n = inp.data.length;
  const b = new Uint8Array(off + n);
  b.set(inp.data, off);
  const dv = new DataView(b.buffer);
  const want = (what: string, got: unknown, ref: unknown): void => {
    if (got !== ref) throw new Error(`${what}: ${got}, reference ${ref}`);
  };
  switch (sel) {
    case 0: {
      const hl = ipv4.validate(dv, off, n);
      want("ipv4.validate", hl, refIpv4Validate(b, off, n));
      if (hl > 0) {
        want("ipv4.hdrLen", ipv4.hdrLen(dv, off), hl);
        ipv4.isFragment(dv, off);
        ipv4.src(dv, off);
        ipv4.dst(dv, off);
        const c = csum.ipv4HeaderChecksum(b, off, hl);
        dv.setUint16(off + 10, c);
        want("IPv4 header checksum", refSum(b, off, hl), 0xffff);
      }
      break;
    }
    case 1:
    case 2: {
      want("ipv6.validate", ipv6.validate(dv, off, n), refIpv6Validate(b, off, n));
      const avail = sel === 1 ? n : Math.min(n, (p1 << 8) | p2);
      const l4 = ipv6.l4Offset(dv, off, avail);
      const [rl4, rproto] = refL4(b, off, avail);
      want("ipv6.l4Offset", l4, rl4);
      want("ipv6.l4Proto", ipv6.l4Proto(), rproto);
      break;
    }
    case 3:
    case 4: {
      const hl = tcp.validate(dv, off, n);
      const rhl = n >= 20 && (b[off + 12]! >> 4) * 4 >= 20 && (b[off + 12]! >> 4) * 4 <= n
        ? (b[off + 12]! >> 4) * 4
        : -1;
      want("tcp.validate", hl, rhl);
      if (hl < 0) break;
      const kind = sel === 3 ? p1 % 10 : p1;
      const wl = sel === 3 ? p2 % 12 : p2;
      want(
        "tcp.findOption",
        tcp.findOption(dv, off, hl, kind, wl),
        refOption(b, off, hl, kind, wl),
      );
      const m = refOption(b, off, hl, 2, 4);
      want("tcp.optMss", tcp.optMss(dv, off, hl), m < 0 ? -1 : (b[m + 2]! << 8) | b[m + 3]!);
      const w = refOption(b, off, hl, 3, 3);
      want("tcp.optWscale", tcp.optWscale(dv, off, hl), w < 0 ? -1 : b[w + 2]!);
      break;
    }
    case 5: {
      const l = n >= 8 ? (b[off + 4]! << 8) | b[off + 5]! : 0;
      want("udp.validate", udp.validate(dv, off, n), n >= 8 && l >= 8 && l <= n ? 8 : -1);
      want("arp.validate", arp.validate(dv, off, n), n >= 28 ? 28 : -1);
      want("icmp.validate", icmp.validate(dv, off, n), n >= 8 ? 8 : -1);
      want("icmpv6.validate", icmpv6.validate(dv, off, n), n >= 8 ? 8 : -1);
      break;
    }
    case 6: {
      // Sums over random lengths, with an accumulator carried in.
      const acc = p3 % 0x1000000;
      want("sum16", fold(csum.sum16(b, off, n, acc)), refSum(b, off, n, fold(acc)));
      want("plainChecksum", csum.plainChecksum(b, off, n), ~refSum(b, off, n) & 0xffff);
      break;
    }
    case 7: {
      // L4 checksum over IPv4: stored in the first two bytes, the whole sums to zero.
      if (n < 2) break;
      b[off] = b[off + 1] = 0;
      const src = p3, dst = (p3 * 2654435761) >>> 0;
      const c = csum.l4Checksum4(b, off, n, src, dst, p1);
      dv.setUint16(off, c);
      const ps = refSum(Uint8Array.of(...u32b(src), ...u32b(dst), 0, p1, n >> 8, n & 0xff), 0, 12);
      want("l4Checksum4 verifies", refSum(b, off, n, ps), 0xffff);
      break;
    }
    case 8: {
      // L4 checksum over IPv6: addresses taken from the data itself when it is long enough.
      if (n < 34) break;
      const l4 = off + 32, l4len = n - 32;
      b[l4] = b[l4 + 1] = 0;
      const c = csum.l4Checksum6(b, l4, l4len, off, off + 16, p1);
      dv.setUint16(l4, c);
      const ps = refSum(
        Uint8Array.of(...b.subarray(off, off + 32), ...u32b(l4len), 0, 0, 0, p1),
        0,
        40,
      );
      want("l4Checksum6 verifies", refSum(b, l4, l4len, ps), 0xffff);
      break;
    }
    case 9: {
      // RFC 1624 updates against recomputation.
      if (n < 4) break;
      const at = off + (p1 % (n - 3) & ~1);
      const c0 = csum.plainChecksum(b, off, n);
      const old16 = dv.getUint16(at), old32 = dv.getUint32(at);
      dv.setUint16(at, p3 & 0xffff);
      const u16c = csum.csumUpdate16(c0, old16, p3 & 0xffff);
      if (!onesEq(u16c, csum.plainChecksum(b, off, n))) {
        throw new Error(`csumUpdate16: ${u16c}, recomputed ${csum.plainChecksum(b, off, n)}`);
      }
      dv.setUint32(at, old32);
      dv.setUint32(at, p3);
      const u32c = csum.csumUpdate32(c0, old32, p3);
      if (!onesEq(u32c, csum.plainChecksum(b, off, n))) {
        throw new Error(`csumUpdate32: ${u32c}, recomputed ${csum.plainChecksum(b, off, n)}`);
      }
      break;
    }
    case 10: {
      const a = p3, c = n >= 4 ? dv.getUint32(off) : (p3 ^ (p1 << 24)) >>> 0;
      const d = ((a - c) % 0x100000000 + 0x100000000) % 0x100000000;
      const lt = d >= 0x80000000; // a is before c
      want("seqLt", seq.seqLt(a, c), lt);
      want("seqGe", seq.seqGe(a, c), !lt);
      want("seqGt", seq.seqGt(a, c), !lt && d !== 0);
      want("seqLe", seq.seqLe(a, c), lt || d === 0);
      want("seqAdd", seq.seqAdd(a, p1), (a + p1) % 0x100000000);
      break;
    }
    default: {
      // Socket addresses: write, read back.
      const buf = new DataView(new ArrayBuffer(off + 28));
      const port = (p1 << 8) | p2;
      sa.writeIn4(buf, off, p3, port);
      want("sockaddr_in family", sa.family(buf, off), sa.AF_INET);
      want("sockaddr_in port", sa.port(buf, off), port);
      want("sockaddr_in addr", sa.addr4(buf, off), p3 >>> 0);
      const w = Uint32Array.of(p3, ~p3 >>> 0, p1, p2);
      sa.writeIn6(buf, off, w, port, p3);
      const r = new Uint32Array(4);
      sa.readAddr6(buf, off, r);
      want("sockaddr_in6 addr", r.join(), w.join());
      want("sockaddr_in6 scope", sa.scopeId(buf, off), p3 >>> 0);
      want("sockaddr_in6 port", sa.port(buf, off), port);
    }
  }
}

function u32b(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function checked(inp: Input): void {
  try {
    check(inp);
  } catch (e) {
    throw new FuzzFailure(
      `selector ${inp.sel}, offset ${inp.off}, ${inp.data.length} bytes ${hex(inp.data)}: ${e}`,
      encode(inp),
      e,
    );
  }
}

/** The wire target. */
export const wire = defineTarget({
  name: "wire",
  needsNet: false,
  run({ opts, rng, progress }: Run): Stats {
    for (let i = 1; i <= opts.inputs; i++) {
      checked(gen(rng));
      progress.tick(i);
    }
    return { inputs: opts.inputs, counters: {} };
  },
  replay(input: Uint8Array): void {
    checked(decode(input));
  },
});
