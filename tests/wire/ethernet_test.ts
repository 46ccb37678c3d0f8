// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as eth from "../../src/wire/ethernet.ts";
import { ARP_REQUEST, MLD2_REPORT, place, UDP6 } from "./fixtures.ts";

const MAC1 = new Uint8Array([2, 0, 0, 0, 0, 1]);
const MAC2 = new Uint8Array([2, 0, 0, 0, 0, 2]);
const BCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

Deno.test("ethernet.etherType() reads ARP, IPv6 from captured frames", () => {
  assert.equal(eth.etherType(new DataView(ARP_REQUEST.buffer), 0), eth.ETH_P_ARP);
  assert.equal(eth.etherType(new DataView(UDP6.buffer), 0), eth.ETH_P_IPV6);
});

Deno.test("ethernet.etherType() honours a non-zero frame offset", () => {
  const { dv } = place(UDP6, 100);
  assert.equal(eth.etherType(dv, 100), 0x86dd);
});

Deno.test("ethernet.isBroadcast()/isMulticast() classify destination MACs", () => {
  assert.equal(eth.isBroadcast(ARP_REQUEST, eth.DST_OFF), true);
  assert.equal(eth.isMulticast(ARP_REQUEST, eth.DST_OFF), true);
  assert.equal(eth.isBroadcast(MLD2_REPORT, eth.DST_OFF), false);
  assert.equal(eth.isMulticast(MLD2_REPORT, eth.DST_OFF), true);
  assert.equal(eth.isBroadcast(UDP6, eth.DST_OFF), false);
  assert.equal(eth.isMulticast(UDP6, eth.DST_OFF), false);
  assert.equal(eth.isMulticast(UDP6, eth.SRC_OFF), false);
  const almost = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
  assert.equal(eth.isBroadcast(almost, 0), false);
});

Deno.test("ethernet.writeHeader() builds the captured headers byte for byte", () => {
  const { u8, dv } = place(new Uint8Array(0), 0, 40);
  assert.equal(eth.writeHeader(u8, dv, 3, BCAST, MAC1, eth.ETH_P_ARP), 17);
  assert.deepEqual(u8.slice(3, 17), ARP_REQUEST.slice(0, 14));
  eth.writeHeader(u8, dv, 20, MAC2, MAC1, eth.ETH_P_IPV6);
  assert.deepEqual(u8.slice(20, 34), UDP6.slice(0, 14));
  assert.equal(u8[2], 0);
  assert.equal(u8[17], 0);
});

Deno.test("ethernet.setEtherType() changes only bytes 12-13", () => {
  const { u8, dv } = place(UDP6);
  eth.setEtherType(dv, 0, eth.ETH_P_IP);
  assert.equal(eth.etherType(dv, 0), 0x0800);
  assert.deepEqual(u8.slice(0, 12), UDP6.slice(0, 12));
  assert.deepEqual(u8.slice(14), UDP6.slice(14));
});

Deno.test("ethernet MAC helpers copy and compare 6 bytes", () => {
  const u8 = new Uint8Array(20);
  eth.writeMac(u8, 0, MAC2);
  eth.copyMac(u8, 6, 0);
  assert.equal(eth.macEquals(u8, 6, MAC2), true);
  assert.equal(eth.macEquals(u8, 6, MAC1), false);
  assert.equal(u8[12], 0);
});
