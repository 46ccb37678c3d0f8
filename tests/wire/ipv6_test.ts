// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as ipv6 from "../../src/wire/ipv6.ts";
import { ICMP6_NS, MLD2_REPORT, place, TCP6_SYN, UDP4, UDP6 } from "./fixtures.ts";

const A1 = new Uint32Array([0x20010db8, 0, 0, 1]);
const A2 = new Uint32Array([0x20010db8, 0, 0, 2]);

Deno.test("ipv6 getters deconstruct a captured UDP packet", () => {
  const { dv } = place(UDP6);
  assert.equal(ipv6.validate(dv, 14, UDP6.length - 14), 40);
  assert.equal(ipv6.version(dv, 14), 6);
  assert.equal(ipv6.trafficClass(dv, 14), 0);
  assert.equal(ipv6.flowLabel(dv, 14), 0xdc3a4);
  assert.equal(ipv6.payloadLen(dv, 14), 14);
  assert.equal(ipv6.nextHeader(dv, 14), 17);
  assert.equal(ipv6.hopLimit(dv, 14), 64);
  const w = new Uint32Array(4);
  ipv6.readSrc(dv, 14, w);
  assert.deepEqual(w, A1);
  ipv6.readDst(dv, 14, w);
  assert.deepEqual(w, A2);
  assert.deepEqual([0, 1, 2, 3].map((i) => ipv6.srcWord(dv, 14, i)), [...A1]);
  assert.deepEqual([0, 1, 2, 3].map((i) => ipv6.dstWord(dv, 14, i)), [...A2]);
});

Deno.test("ipv6 address tests classify captured sources and destinations", () => {
  const { dv } = place(MLD2_REPORT);
  const src = 14 + ipv6.SRC_OFF, dst = 14 + ipv6.DST_OFF;
  assert.equal(ipv6.addrIsLinkLocal(dv, src), true);
  assert.equal(ipv6.addrIsMulticast(dv, src), false);
  assert.equal(ipv6.addrIsMulticast(dv, dst), true);
  assert.equal(ipv6.addrIsLinkLocal(dv, dst), false);
  assert.equal(ipv6.addrIsUnspecified(dv, src), false);
  const u = place(UDP6);
  assert.equal(ipv6.addrIsLinkLocal(u.dv, 14 + ipv6.SRC_OFF), false);
  assert.equal(ipv6.addrEqualsWords(u.dv, 14 + ipv6.SRC_OFF, A1), true);
  assert.equal(ipv6.addrEqualsWords(u.dv, 14 + ipv6.SRC_OFF, A2), false);
  const zero = place(new Uint8Array(16));
  assert.equal(ipv6.addrIsUnspecified(zero.dv, 0), true);
  zero.u8[15] = 1; // ::1
  assert.equal(ipv6.addrIsUnspecified(zero.dv, 0), false);
  zero.u8[0] = 0xfe;
  zero.u8[1] = 0xc0; // fec0::/10 is site-local, not link-local
  assert.equal(ipv6.addrIsLinkLocal(zero.dv, 0), false);
});

Deno.test("ipv6.validate() refuses short buffers, other versions and lying lengths", () => {
  const { u8, dv } = place(UDP6);
  const avail = UDP6.length - 14;
  assert.equal(ipv6.validate(dv, 14, avail - 1), -1, "payload length past the frame");
  assert.equal(ipv6.validate(dv, 14, 39), -1, "shorter than a header");
  assert.equal(ipv6.validate(dv, 14, avail + 6), 40, "Ethernet padding");
  ipv6.setPayloadLen(dv, 14, 0xffff);
  assert.equal(ipv6.validate(dv, 14, avail), -1, "payload length 65535");
  ipv6.setPayloadLen(dv, 14, 14);
  u8[14] = 0x45;
  assert.equal(ipv6.validate(dv, 14, avail), -1, "version 4");
});

Deno.test("ipv6.push() builds the captured header byte for byte", () => {
  const { u8, dv } = place(new Uint8Array(0), 0, 60);
  u8.fill(0xee);
  assert.equal(ipv6.push(u8, dv, 14, A1, A2, 17, 14, 64, 0xdc3a4), 54);
  assert.deepEqual(u8.slice(14, 54), UDP6.slice(14, 54));
  assert.equal(u8[54], 0xee);
});

Deno.test("ipv6.push() defaults to hop limit 255 and flow label 0", () => {
  const { u8, dv } = place(new Uint8Array(40));
  ipv6.push(u8, dv, 0, A2, A1, 58, 0);
  assert.equal(ipv6.hopLimit(dv, 0), 255);
  assert.equal(ipv6.flowLabel(dv, 0), 0);
  assert.equal(ipv6.version(dv, 0), 6);
  assert.equal(ipv6.validate(dv, 0, 40), 40);
});

Deno.test("ipv6 setters write the fields the getters read", () => {
  const { dv } = place(new Uint8Array(40));
  ipv6.setVersionClassFlow(dv, 0, 0xb8, 0xfffff);
  ipv6.setNextHeader(dv, 0, 6);
  ipv6.setHopLimit(dv, 0, 1);
  ipv6.writeSrc(dv, 0, A2);
  ipv6.writeDst(dv, 0, A1);
  assert.deepEqual(
    [ipv6.version(dv, 0), ipv6.trafficClass(dv, 0), ipv6.flowLabel(dv, 0)],
    [6, 0xb8, 0xfffff],
  );
  assert.equal(ipv6.nextHeader(dv, 0), 6);
  assert.equal(ipv6.hopLimit(dv, 0), 1);
  assert.equal(ipv6.srcWord(dv, 0, 3), 2);
  assert.equal(ipv6.dstWord(dv, 0, 3), 1);
});

Deno.test("ipv6.l4Offset() finds L4 right after a plain header", () => {
  for (const [frame, proto] of [[UDP6, 17], [TCP6_SYN, 6], [ICMP6_NS, 58]] as const) {
    const { dv } = place(frame, 4);
    assert.equal(ipv6.l4Offset(dv, 18, frame.length - 14), 58);
    assert.equal(ipv6.l4Proto(), proto);
  }
});

Deno.test("ipv6.l4Offset() skips the Hop-by-Hop header of a captured MLDv2 report", () => {
  const { dv } = place(MLD2_REPORT);
  assert.equal(ipv6.nextHeader(dv, 14), 0);
  assert.equal(ipv6.l4Offset(dv, 14, MLD2_REPORT.length - 14), 14 + 48);
  assert.equal(ipv6.l4Proto(), 58);
});

/** A packet with the given chain of extension headers ([type, length in bytes]) then UDP. */
function chain(headers: [number, number][], payload = 8): { u8: Uint8Array; dv: DataView } {
  const extLen = headers.reduce((a, [, l]) => a + l, 0);
  const { u8, dv } = place(new Uint8Array(0), 0, 40 + extLen + payload);
  const first = headers.length ? headers[0]![0] : 17;
  ipv6.push(u8, dv, 0, A1, A2, first, extLen + payload);
  let p = 40;
  headers.forEach(([type, len], i) => {
    u8[p] = i + 1 < headers.length ? headers[i + 1]![0] : 17;
    u8[p + 1] = type === 51 ? len / 4 - 2 : len / 8 - 1;
    p += len;
  });
  return { u8, dv };
}

Deno.test("ipv6.l4Offset() walks a chain of extension headers, AH in 4-byte units", () => {
  const { u8, dv } = chain([[0, 8], [60, 16], [43, 24], [51, 12], [60, 8]]);
  assert.equal(ipv6.l4Offset(dv, 0, u8.length), 40 + 68);
  assert.equal(ipv6.l4Proto(), 17);
});

Deno.test("ipv6.l4Offset() refuses fragments, ESP and no-next-header", () => {
  for (const nh of [44, 50, 59]) {
    const { u8, dv } = chain([[0, 8]]);
    u8[40] = nh;
    assert.equal(ipv6.l4Offset(dv, 0, u8.length), -1, `next header ${nh}`);
    assert.equal(ipv6.l4Proto(), -1);
    ipv6.setNextHeader(dv, 0, nh);
    assert.equal(ipv6.l4Offset(dv, 0, u8.length), -1, `first header ${nh}`);
  }
});

Deno.test("ipv6.l4Offset() refuses truncated extension headers", () => {
  const { u8, dv } = chain([[0, 8], [60, 16]], 0);
  assert.equal(ipv6.l4Offset(dv, 0, u8.length), 64, "whole chain, no payload");
  assert.equal(ipv6.l4Offset(dv, 0, u8.length - 1), -1, "last header cut short");
  assert.equal(ipv6.l4Offset(dv, 0, 41), -1, "length byte missing");
  assert.equal(ipv6.l4Offset(dv, 0, 39), -1, "fixed header cut short");
  u8[41] = 200; // Hop-by-Hop claims 1608 bytes
  assert.equal(ipv6.l4Offset(dv, 0, u8.length), -1, "length past the end");
});

Deno.test("ipv6.l4Offset() stops at the payload length even when more bytes follow", () => {
  const { u8, dv } = chain([[0, 8], [60, 16]], 8);
  ipv6.setPayloadLen(dv, 0, 20); // lies: the chain alone is 24 bytes
  assert.equal(ipv6.l4Offset(dv, 0, u8.length), -1);
});

Deno.test("ipv6.l4Offset() ends on a maximal chain of empty Hop-by-Hop headers", () => {
  // Every zero byte pair reads as "Hop-by-Hop, 8 bytes, next: Hop-by-Hop".
  const { dv } = place(new Uint8Array(0), 0, 40 + 65535);
  ipv6.push(new Uint8Array(dv.buffer), dv, 0, A1, A2, 0, 65535);
  assert.equal(ipv6.l4Offset(dv, 0, 40 + 65535), -1);
});

Deno.test("ipv6.frameL4() finds the L4 header of one protocol in an Ethernet frame", () => {
  const { dv } = place(UDP6, 4);
  assert.equal(ipv6.frameL4(dv, 4, UDP6.length, 17), 4 + 14 + 40);
  assert.equal(ipv6.packetEnd(dv, 4 + 14), 4 + UDP6.length);
  assert.equal(ipv6.frameL4(dv, 4, UDP6.length, 58), -1, "another protocol");
  assert.equal(ipv6.frameL4(dv, 4, 14 + 39, 17), -1, "header cut short");
  assert.equal(ipv6.frameL4(dv, 4, UDP6.length - 1, 17), -1, "payload cut short");
  const v4 = place(UDP4);
  assert.equal(ipv6.frameL4(v4.dv, 0, UDP4.length, 17), -1, "IPv4");
  const { dv: mld } = place(MLD2_REPORT);
  assert.equal(ipv6.frameL4(mld, 0, MLD2_REPORT.length, 58), 14 + 48, "after Hop-by-Hop");
});
