// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  csumFold,
  csumUpdate16,
  csumUpdate32,
  ipv4HeaderChecksum,
  l4Checksum4,
  l4Checksum6,
  plainChecksum,
  pseudo4,
  pseudo6,
  sum16,
  sum32,
  udpCsumFinal,
} from "../../src/wire/checksum.ts";
import { rng } from "../_helpers/frames.ts";
import { ICMP4_ECHO, ICMP6_ECHO, ICMP6_NS, TCP4_SYN, TCP6_SYN, UDP4, UDP6 } from "./fixtures.ts";

/** Straightforward reference: fold after every word, as RFC 1071 describes. */
function refChecksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return ~s & 0xffff;
}

/** Copy of `frame` with the 16-bit field at `at` zeroed. */
function zeroed(frame: Uint8Array, at: number): Uint8Array {
  const c = frame.slice();
  c[at] = 0;
  c[at + 1] = 0;
  return c;
}

Deno.test("sum16() and csumFold() reproduce the RFC 1071 section 3 example", () => {
  const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(sum16(b, 0, 8), 0x2ddf0);
  assert.equal(csumFold(sum16(b, 0, 8)), ~0xddf2 & 0xffff);
});

Deno.test("sum16() pads an odd trailing byte with zero", () => {
  const b = new Uint8Array([0x12, 0x34, 0xab, 0xcd]);
  assert.equal(sum16(b, 2, 1), 0xab00);
  assert.equal(sum16(b, 0, 3), 0x1234 + 0xab00);
  assert.equal(sum16(b, 1, 3), 0x34ab + 0xcd00);
  assert.equal(sum16(b, 0, 0, 7), 7);
});

Deno.test("sum16() partial sums over even splits add up to the whole", () => {
  const next = rng(42);
  const b = new Uint8Array(3001).map(() => next() & 0xff);
  const whole = csumFold(sum16(b, 0, 3001));
  assert.equal(csumFold(sum16(b, 1000, 2001, sum16(b, 0, 1000))), whole);
});

Deno.test("csumFold(sum16()) matches a fold-every-word reference on random buffers", () => {
  const next = rng(7);
  const b = new Uint8Array(70000);
  for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
  for (let t = 0; t < 200; t++) {
    const off = next() % 1000;
    const len = t === 0 ? 65535 : next() % 2000;
    assert.equal(csumFold(sum16(b, off, len)), refChecksum(b, off, len), `off ${off} len ${len}`);
  }
  b.fill(0xff);
  assert.equal(csumFold(sum16(b, 0, 65535)), refChecksum(b, 0, 65535));
});

Deno.test("sum16() keeps exact values when fed a huge accumulator", () => {
  const b = new Uint8Array([0x80, 0x01]);
  const big = 0xffff * 2 ** 30; // folds to 0xffff
  assert.equal(csumFold(sum16(b, 0, 2, big)), csumFold(0xffff + 0x8001));
  assert.equal(csumFold(2 ** 52), csumFold(16)); // 2^16 is 1 in one's complement
});

Deno.test("ipv4HeaderChecksum() reproduces the checksums of captured headers", () => {
  for (const [frame, want] of [[UDP4, 0x65b2], [ICMP4_ECHO, 0x8c0e], [TCP4_SYN, 0x078d]] as const) {
    assert.equal(ipv4HeaderChecksum(frame, 14, 20), want);
  }
});

Deno.test("ipv4HeaderChecksum() ignores whatever is in the checksum field", () => {
  const c = UDP4.slice();
  c[24] = 0x12;
  c[25] = 0x34;
  assert.equal(ipv4HeaderChecksum(c, 14, 20), 0x65b2);
});

Deno.test("pseudo4() sums source, destination, protocol and length words", () => {
  assert.equal(pseudo4(0x0a000001, 0x0a000002, 17, 14), 0x0a00 + 1 + 0x0a00 + 2 + 17 + 14);
  assert.equal(pseudo4(0xffffffff, 0, 6, 0), 0xffff * 2 + 6);
});

Deno.test("l4Checksum4() reproduces captured UDP and TCP checksums", () => {
  const src = 0x0a000001, dst = 0x0a000002;
  assert.equal(l4Checksum4(zeroed(UDP4, 40), 34, 14, src, dst, 17), 0xf5b4);
  assert.equal(l4Checksum4(zeroed(TCP4_SYN, 50), 34, 40, src, dst, 6), 0xff7c);
});

Deno.test("l4Checksum6() reproduces captured UDP, TCP, ICMPv6 echo and NS checksums", () => {
  assert.equal(l4Checksum6(zeroed(UDP6, 60), 54, 14, 22, 38, 17), 0xc771);
  assert.equal(l4Checksum6(zeroed(TCP6_SYN, 70), 54, 40, 22, 38, 6), 0xcd96);
  assert.equal(l4Checksum6(zeroed(ICMP6_ECHO, 56), 54, 64, 22, 38, 58), 0xd686);
  assert.equal(l4Checksum6(zeroed(ICMP6_NS, 56), 54, 32, 22, 38, 58), 0x1c25);
});

Deno.test("pseudo6() plus a verified segment folds to zero", () => {
  // A correct checksum makes the whole sum, field included, 0xffff: fold gives 0.
  assert.equal(csumFold(sum16(UDP6, 54, 14, pseudo6(UDP6, 22, 38, 17, 14))), 0);
  assert.notEqual(csumFold(sum16(UDP6, 54, 14, pseudo6(UDP6, 22, 38, 6, 14))), 0);
});

Deno.test("plainChecksum() reproduces a captured ICMP echo checksum", () => {
  assert.equal(plainChecksum(zeroed(ICMP4_ECHO, 36), 34, 64), 0x14f5);
});

Deno.test("udpCsumFinal() sends a computed zero as 0xffff and leaves others alone", () => {
  assert.equal(csumFold(0xffff), 0);
  assert.equal(udpCsumFinal(0xffff), 0xffff);
  assert.equal(udpCsumFinal(0x1234), ~0x1234 & 0xffff);
});

Deno.test("csumUpdate16() equals recomputation over random headers and words", () => {
  const next = rng(99);
  const b = new Uint8Array(40);
  for (let t = 0; t < 2000; t++) {
    for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
    b[0] = b[0]! | 1; // never all zero, whose checksum has two representations
    b[10] = b[11] = 0;
    const before = csumFold(sum16(b, 0, 40));
    const at = 2 * ((next() % 19) + 1);
    if (at === 10) continue;
    const oldWord = (b[at]! << 8) | b[at + 1]!;
    const newWord = t % 50 === 0 ? 0xffff : next() & 0xffff;
    b[at] = newWord >> 8;
    b[at + 1] = newWord & 0xff;
    assert.equal(csumUpdate16(before, oldWord, newWord), csumFold(sum16(b, 0, 40)), `t ${t}`);
  }
});

Deno.test("csumUpdate32() equals recomputation when an IPv4 address changes", () => {
  const next = rng(5);
  const h = UDP4.slice(14, 34);
  const dv = new DataView(h.buffer);
  for (let t = 0; t < 1000; t++) {
    const stored = dv.getUint16(10);
    const oldAddr = dv.getUint32(16);
    const newAddr = next();
    dv.setUint32(16, newAddr);
    const want = ipv4HeaderChecksum(h, 0, 20);
    assert.equal(csumUpdate32(stored, oldAddr, newAddr), want);
    dv.setUint16(10, want);
  }
});

Deno.test("sum32: the 32-bit word loop agrees with the byte-wise sum", () => {
  const buf = new ArrayBuffer(70008);
  const u8 = new Uint8Array(buf);
  const next = rng(11);
  for (let i = 0; i < u8.length; i++) u8[i] = next() & 0xff;
  const u32 = new Uint32Array(buf);
  // Aligned, unaligned, short (byte-wise path), odd tails, a whole 64 KiB segment.
  const cases = [[0, 65480], [64, 1], [128, 63], [256, 64], [4, 1001], [6, 4099], [72, 65507]];
  for (const [off, len] of cases) {
    const ref = csumFold(sum16(u8, off!, len!, 0x1234));
    assert.equal(csumFold(sum32(u8, u32, off!, len!, 0x1234)), ref, `off ${off} len ${len}`);
  }
  // Views at other byte offsets of the same buffer.
  const u8at = new Uint8Array(buf, 8);
  assert.equal(csumFold(sum32(u8at, u32, 0, 4000)), csumFold(sum16(u8at, 0, 4000)));
  assert.equal(csumFold(sum32(u8, new Uint32Array(buf, 4), 4, 4000)), csumFold(sum16(u8, 4, 4000)));
  // All ones: every addition carries.
  u8.fill(0xff, 0, 65536);
  assert.equal(csumFold(sum32(u8, u32, 0, 65536)), csumFold(sum16(u8, 0, 65536)));
  assert.equal(csumFold(sum32(u8, u32, 8, 999) + 0x1234), csumFold(sum16(u8, 8, 999, 0x1234)));
});
