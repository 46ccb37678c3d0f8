// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as ipv4 from "../../src/wire/ipv4.ts";
import { csumFold, sum16 } from "../../src/wire/checksum.ts";
import { assertFields, DHCP_DISCOVER, ICMP4_ECHO, place, TCP4_SYN, UDP4 } from "./fixtures.ts";

Deno.test("ipv4 getters deconstruct a captured UDP packet", () => {
  const { dv } = place(UDP4);
  assert.equal(ipv4.validate(dv, 14, UDP4.length - 14), 20);
  assert.equal(ipv4.version(dv, 14), 4);
  assert.equal(ipv4.hdrLen(dv, 14), 20);
  assert.equal(ipv4.ihl(dv, 14), 20);
  assert.equal(ipv4.tos(dv, 14), 0);
  assert.equal(ipv4.totalLen(dv, 14), 34);
  assert.equal(ipv4.id(dv, 14), 0xc116);
  assert.equal(ipv4.flagsFrag(dv, 14), ipv4.FLAG_DF);
  assert.equal(ipv4.isFragment(dv, 14), false);
  assert.equal(ipv4.ttl(dv, 14), 64);
  assert.equal(ipv4.protocol(dv, 14), ipv4.PROTO_UDP);
  assert.equal(ipv4.checksum(dv, 14), 0x65b2);
  assert.equal(ipv4.src(dv, 14), 0x0a000001);
  assert.equal(ipv4.dst(dv, 14), 0x0a000002);
});

Deno.test("ipv4 getters read broadcast addresses as unsigned numbers", () => {
  const { dv } = place(DHCP_DISCOVER);
  assert.equal(ipv4.src(dv, 14), 0);
  assert.equal(ipv4.dst(dv, 14), 0xffffffff);
  assert.equal(ipv4.protocol(dv, 14), 17);
  assert.equal(ipv4.protocol(new DataView(ICMP4_ECHO.buffer), 14), ipv4.PROTO_ICMP);
  assert.equal(ipv4.protocol(new DataView(TCP4_SYN.buffer), 14), ipv4.PROTO_TCP);
});

Deno.test("ipv4.validate() accepts the exact length and trailing Ethernet padding", () => {
  const { dv } = place(UDP4, 0, 60); // padded to the Ethernet minimum
  assert.equal(ipv4.validate(dv, 14, 34), 20);
  assert.equal(ipv4.validate(dv, 14, 46), 20);
  assert.equal(ipv4.totalLen(dv, 14), 34);
});

Deno.test("ipv4.validate() refuses truncated and corrupted headers", () => {
  const cases: [string, number, number, number][] = [
    // name, byte offset in the IP header, value, avail
    ["total length past the frame", -1, 0, 33],
    ["shorter than a header", -1, 0, 19],
    ["version 6", 0, 0x65, 34],
    ["version 0", 0, 0x05, 34],
    ["IHL 4", 0, 0x44, 34],
    ["IHL 0", 0, 0x40, 34],
    ["IHL 15 past the frame", 0, 0x4f, 34],
    ["IHL 6 past total length", 0, 0x46, 22],
    ["total length 19", 3, 19, 34],
    ["total length 0", 3, 0, 34],
  ];
  for (const [name, at, v, avail] of cases) {
    const { u8, dv } = place(UDP4, 0, 14 + 60);
    if (at >= 0) u8[14 + at] = v;
    assert.equal(ipv4.validate(dv, 14, avail), -1, name);
  }
});

Deno.test("ipv4.validate() returns the length of a header with options", () => {
  const { u8, dv } = place(new Uint8Array(0), 0, 64);
  ipv4.push(u8, dv, 0, 1, 2, 17, 8);
  ipv4.setHdrLen(dv, 0, 24);
  ipv4.setTotalLen(dv, 0, 32);
  assert.equal(ipv4.validate(dv, 0, 32), 24);
  assert.equal(ipv4.validate(dv, 0, 31), -1);
  assert.equal(ipv4.version(dv, 0), 4);
});

Deno.test("ipv4.isFragment() is true for MF or a non-zero offset, not DF", () => {
  const { dv } = place(UDP4);
  for (
    const [v, want] of [[0x4000, false], [0, false], [0x2000, true], [0x0001, true], [
      0x1fff,
      true,
    ]] as const
  ) {
    ipv4.setFlagsFrag(dv, 14, v);
    assert.equal(ipv4.isFragment(dv, 14), want, v.toString(16));
  }
});

Deno.test("ipv4.push() builds the captured header byte for byte (with DF added)", () => {
  const { u8, dv } = place(new Uint8Array(0), 0, 60);
  const next = ipv4.push(u8, dv, 14, 0x0a000001, 0x0a000002, ipv4.PROTO_UDP, 14, 64, 0xc116);
  assert.equal(next, 34);
  assert.equal(ipv4.flagsFrag(dv, 14), 0); // upstream sends without DF
  assert.equal(csumFold(sum16(u8, 14, 20)), 0, "checksum valid as pushed");
  ipv4.setFlagsFrag(dv, 14, ipv4.FLAG_DF);
  ipv4.fillChecksum(u8, dv, 14);
  assert.deepEqual(u8.slice(14, 34), UDP4.slice(14, 34));
});

Deno.test("ipv4.push() defaults to TTL 255 and ID 0", () => {
  const { u8, dv } = place(new Uint8Array(0), 0, 20);
  ipv4.push(u8, dv, 0, 0xc0a80001, 0xffffffff, ipv4.PROTO_ICMP, 0);
  assert.equal(ipv4.ttl(dv, 0), 255);
  assert.equal(ipv4.id(dv, 0), 0);
  assert.equal(ipv4.totalLen(dv, 0), 20);
  assert.equal(ipv4.dst(dv, 0), 0xffffffff);
  assert.equal(ipv4.validate(dv, 0, 20), 20);
});

Deno.test("ipv4 setters write the fields the getters read", () => {
  const dv = assertFields(20, [
    [ipv4.setHdrLen, ipv4.hdrLen, 20],
    [ipv4.setTos, ipv4.tos, 0xb8],
    [ipv4.setTotalLen, ipv4.totalLen, 1500],
    [ipv4.setId, ipv4.id, 0xbeef],
    [ipv4.setTtl, ipv4.ttl, 1],
    [ipv4.setProtocol, ipv4.protocol, 6],
    [ipv4.setChecksum, ipv4.checksum, 0xabcd],
    [ipv4.setSrc, ipv4.src, 0xc0000201],
    [ipv4.setDst, ipv4.dst, 0x7f000001],
  ]);
  assert.equal(ipv4.version(dv, 0), 4);
});
