// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as udp from "../../src/wire/udp.ts";
import * as ipv4 from "../../src/wire/ipv4.ts";
import * as ipv6 from "../../src/wire/ipv6.ts";
import { udpChecksum4, udpChecksum6 } from "../../src/wire/checksum.ts";
import { assertFields, DHCP_DISCOVER, place, UDP4, UDP6 } from "./fixtures.ts";

Deno.test("udp getters deconstruct captured IPv4 and IPv6 datagrams", () => {
  const a = place(UDP4);
  assert.equal(udp.validate(a.dv, 34, 14), 8);
  assert.deepEqual(
    [udp.srcPort(a.dv, 34), udp.dstPort(a.dv, 34), udp.length(a.dv, 34), udp.checksum(a.dv, 34)],
    [40277, 5353, 14, 0xf5b4],
  );
  const b = place(UDP6);
  assert.deepEqual(
    [udp.srcPort(b.dv, 54), udp.dstPort(b.dv, 54), udp.length(b.dv, 54), udp.checksum(b.dv, 54)],
    [33830, 5353, 14, 0xc771],
  );
  const d = place(DHCP_DISCOVER);
  assert.deepEqual([udp.srcPort(d.dv, 34), udp.dstPort(d.dv, 34)], [68, 67]);
  assert.equal(udp.validate(d.dv, 34, DHCP_DISCOVER.length - 34), 8);
});

Deno.test("udp.validate() needs 8 <= length <= available bytes", () => {
  const { dv } = place(UDP4, 0, 64);
  assert.equal(udp.validate(dv, 34, 14), 8, "exact");
  assert.equal(udp.validate(dv, 34, 30), 8, "padding after the datagram");
  assert.equal(udp.validate(dv, 34, 13), -1, "length past the end");
  assert.equal(udp.validate(dv, 34, 7), -1, "shorter than a header");
  for (const len of [0, 7]) {
    udp.setLength(dv, 34, len);
    assert.equal(udp.validate(dv, 34, 14), -1, `length ${len}`);
  }
  udp.setLength(dv, 34, 8);
  assert.equal(udp.validate(dv, 34, 8), 8, "empty payload");
});

Deno.test("udp.push() plus checksum builds the captured IPv4 datagram", () => {
  const { u8, dv } = place(UDP4.slice(0, 34), 0, UDP4.length);
  u8.set(UDP4.subarray(42), 42); // payload
  assert.equal(udp.push(dv, 34, 40277, 5353, 6), 42);
  assert.equal(udp.checksum(dv, 34), 0);
  udp.setChecksum(dv, 34, udpChecksum4(u8, 34, 14, 0x0a000001, 0x0a000002));
  assert.deepEqual(u8, UDP4);
});

Deno.test("udp.push() plus checksum builds the captured IPv6 datagram", () => {
  const { u8, dv } = place(UDP6.slice(0, 54), 0, UDP6.length);
  u8.set(UDP6.subarray(62), 62);
  udp.push(dv, 54, 33830, 5353, 6);
  udp.setChecksum(dv, 54, udpChecksum6(u8, 54, 14, 14 + ipv6.SRC_OFF, 14 + ipv6.DST_OFF));
  assert.deepEqual(u8, UDP6);
});

Deno.test("udp setters write the fields the getters read", () => {
  assertFields(8, [
    [udp.setSrcPort, udp.srcPort, 65535],
    [udp.setDstPort, udp.dstPort, 1],
    [udp.setLength, udp.length, 1472],
    [udp.setChecksum, udp.checksum, 0xffff],
  ]);
  assert.equal(ipv4.PROTO_UDP, 17);
});

Deno.test("udpChecksum4() sends a computed zero as 0xffff", () => {
  const { u8, dv } = place(new Uint8Array(10));
  udp.push(dv, 0, 0, 0, 2);
  // Pseudo-header (addresses 0, protocol 17, length 10) and header (length 10) sum to 37,
  // so a payload word of 0xffff - 37 makes the whole sum 0xffff: a plain checksum of 0.
  dv.setUint16(8, 0xffff - 37);
  assert.equal(udpChecksum4(u8, 0, 10, 0, 0), 0xffff);
  dv.setUint16(8, 0xffff - 38);
  assert.equal(udpChecksum4(u8, 0, 10, 0, 0), 1);
});
