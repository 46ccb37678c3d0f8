// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as tcp from "../../src/wire/tcp.ts";
import { l4Checksum4, l4Checksum6 } from "../../src/wire/checksum.ts";
import { assertFields, place, TCP4_SYN, TCP6_SYN } from "./fixtures.ts";

Deno.test("tcp getters deconstruct a captured SYN with options", () => {
  const { dv } = place(TCP4_SYN);
  const off = 34;
  assert.equal(tcp.validate(dv, off, 40), 40);
  assert.equal(tcp.srcPort(dv, off), 60718);
  assert.equal(tcp.dstPort(dv, off), 80);
  assert.equal(tcp.seq(dv, off), 4218275254);
  assert.equal(tcp.ack(dv, off), 0);
  assert.equal(tcp.dataOffset(dv, off), 40);
  assert.equal(tcp.flags(dv, off), tcp.SYN);
  assert.equal(tcp.window(dv, off), 64240);
  assert.equal(tcp.checksum(dv, off), 0xff7c);
  assert.equal(tcp.urgent(dv, off), 0);
  assert.equal(tcp.optMss(dv, off, 40), 1460);
  assert.equal(tcp.optWscale(dv, off, 40), 10);
  assert.equal(tcp.findOption(dv, off, 40, tcp.OPT_SACK_PERM, 2), off + 24);
  assert.equal(tcp.findOption(dv, off, 40, tcp.OPT_TS, 10), off + 26);
});

Deno.test("tcp getters deconstruct a captured IPv6 SYN", () => {
  const { dv } = place(TCP6_SYN);
  assert.equal(tcp.validate(dv, 54, 40), 40);
  assert.equal(tcp.seq(dv, 54), 2144517914);
  assert.equal(tcp.window(dv, 54), 64800);
  assert.equal(tcp.optMss(dv, 54, 40), 1440);
  assert.equal(tcp.optWscale(dv, 54, 40), 10);
});

Deno.test("tcp.validate() refuses short headers and data offsets out of range", () => {
  const { u8, dv } = place(TCP4_SYN);
  assert.equal(tcp.validate(dv, 34, 39), -1, "options past the end");
  assert.equal(tcp.validate(dv, 34, 19), -1, "shorter than a header");
  for (const d of [0, 1, 4]) {
    u8[34 + 12] = d << 4;
    assert.equal(tcp.validate(dv, 34, 40), -1, `data offset ${d * 4}`);
  }
  u8[34 + 12] = 5 << 4;
  assert.equal(tcp.validate(dv, 34, 20), 20, "data offset 20");
  u8[34 + 12] = 15 << 4;
  assert.equal(tcp.validate(dv, 34, 40), -1, "data offset 60 past 40 bytes");
  assert.equal(tcp.validate(dv, 34, 60), 60, "data offset 60 with 60 bytes");
});

/** A header of 20 bytes plus `opts` (padded with EOL to a multiple of 4). */
function withOptions(opts: number[]): { dv: DataView; hl: number } {
  const hl = 20 + Math.ceil(opts.length / 4) * 4;
  const { u8, dv } = place(new Uint8Array(0), 0, hl);
  tcp.push(dv, 0, 1, 2, 3, 4, tcp.SYN, 5);
  tcp.setDataOffset(dv, 0, hl);
  u8.set(opts, 20);
  return { dv, hl };
}

Deno.test("tcp.optMss()/optWscale() walk option lists, stopping at malformed ones", () => {
  const cases: [string, number[], number, number][] = [
    // name, options, MSS, window scale
    ["none", [], -1, -1],
    ["MSS only", [2, 4, 0x05, 0xb4], 1460, -1],
    ["NOPs first", [1, 1, 1, 3, 3, 7], -1, 7],
    ["unknown option skipped", [30, 4, 0, 0, 2, 4, 0x02, 0x18], 536, -1],
    ["EOL ends the list", [0, 0, 2, 4, 0x05, 0xb4, 0, 0], -1, -1],
    ["zero length", [30, 0, 2, 4, 0x05, 0xb4, 0, 0], -1, -1],
    ["length 1", [30, 1, 2, 4, 0x05, 0xb4, 0, 0], -1, -1],
    ["length past the header", [30, 40, 2, 4, 0x05, 0xb4, 0, 0], -1, -1],
    ["kind at the last byte", [1, 1, 1, 2], -1, -1],
    ["MSS with length 3 (skipped as any option)", [2, 3, 0x05, 1, 3, 3, 9, 0], -1, 9],
    ["window scale with length 4", [3, 4, 9, 0], -1, -1],
    ["both, as Linux sends them", [2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 14, 0, 0], 1460, 14],
  ];
  for (const [name, opts, mss, ws] of cases) {
    const { dv, hl } = withOptions(opts);
    assert.equal(tcp.optMss(dv, 0, hl), mss, name);
    assert.equal(tcp.optWscale(dv, 0, hl), ws, name);
  }
});

Deno.test("tcp option walkers never read past the header length they are given", () => {
  const { dv } = withOptions([1, 1, 1, 1, 2, 4, 0x05, 0xb4]);
  assert.equal(tcp.optMss(dv, 0, 28), 1460);
  assert.equal(tcp.optMss(dv, 0, 27), -1);
  assert.equal(tcp.optMss(dv, 0, 20), -1);
});

Deno.test("tcp.push() plus options and checksum builds the captured SYN", () => {
  const { u8, dv } = place(TCP4_SYN.slice(0, 34), 0, TCP4_SYN.length);
  assert.equal(tcp.push(dv, 34, 60718, 80, 4218275254, 0, tcp.SYN, 64240), 54);
  tcp.setDataOffset(dv, 34, 40);
  u8.set(TCP4_SYN.subarray(54), 54);
  tcp.setChecksum(dv, 34, l4Checksum4(u8, 34, 40, 0x0a000001, 0x0a000002, 6));
  assert.deepEqual(u8, TCP4_SYN);
});

Deno.test("tcp checksum over IPv6 matches the captured SYN", () => {
  const { u8, dv } = place(TCP6_SYN);
  tcp.setChecksum(dv, 54, 0);
  assert.equal(l4Checksum6(u8, 54, 40, 22, 38, 6), 0xcd96);
});

Deno.test("tcp setters write the fields the getters read, sequence numbers unsigned", () => {
  assertFields(20, [
    [tcp.setSrcPort, tcp.srcPort, 1],
    [tcp.setDstPort, tcp.dstPort, 65535],
    [tcp.setSeq, tcp.seq, -1, 0xffffffff],
    [tcp.setAck, tcp.ack, 0x80000000],
    [tcp.setDataOffset, tcp.dataOffset, 60],
    [tcp.setFlags, tcp.flags, tcp.FIN | tcp.ACK | tcp.PSH, 25],
    [tcp.setWindow, tcp.window, 29200],
    [tcp.setChecksum, tcp.checksum, 0xbeef],
    [tcp.setUrgent, tcp.urgent, 7],
  ]);
  assert.deepEqual([tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG], [1, 2, 4, 8, 16, 32]);
});
