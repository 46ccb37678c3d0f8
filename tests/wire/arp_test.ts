// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as arp from "../../src/wire/arp.ts";
import { ARP_REQUEST, place } from "./fixtures.ts";

const MAC1 = new Uint8Array([2, 0, 0, 0, 0, 1]);
const ZERO = new Uint8Array(6);

Deno.test("arp getters deconstruct a captured request", () => {
  const { u8, dv } = place(ARP_REQUEST, 8);
  const off = 8 + 14;
  assert.equal(arp.validate(dv, off, 28), 28);
  assert.equal(arp.htype(dv, off), 1);
  assert.equal(arp.ptype(dv, off), 0x0800);
  assert.equal(arp.hlen(dv, off), 6);
  assert.equal(arp.plen(dv, off), 4);
  assert.equal(arp.op(dv, off), arp.OP_REQUEST);
  assert.equal(arp.isEthIpv4(dv, off), true);
  assert.deepEqual(u8.slice(arp.senderMacOff(off), arp.senderMacOff(off) + 6), MAC1);
  assert.equal(arp.senderIp(dv, off), 0x0a000001);
  assert.deepEqual(u8.slice(arp.targetMacOff(off), arp.targetMacOff(off) + 6), ZERO);
  assert.equal(arp.targetIp(dv, off), 0x0a000002);
});

Deno.test("arp.validate() needs 28 bytes and accepts Ethernet padding", () => {
  const { dv } = place(ARP_REQUEST, 0, 60);
  assert.equal(arp.validate(dv, 14, 46), 28);
  assert.equal(arp.validate(dv, 14, 28), 28);
  assert.equal(arp.validate(dv, 14, 27), -1);
  assert.equal(arp.validate(dv, 14, 0), -1);
});

Deno.test("arp.isEthIpv4() rejects other hardware, protocols and lengths", () => {
  for (const [at, v] of [[0, 6], [2, 0x86], [4, 8], [5, 16]] as const) {
    const { dv, u8 } = place(ARP_REQUEST);
    u8[14 + at] = v;
    assert.equal(arp.isEthIpv4(dv, 14), false, `byte ${at}`);
  }
});

Deno.test("arp.push() builds the captured request byte for byte", () => {
  const { u8, dv } = place(new Uint8Array(0), 0, 50);
  u8.fill(0xee);
  assert.equal(arp.push(u8, dv, 14, arp.OP_REQUEST, MAC1, 0x0a000001, ZERO, 0x0a000002), 42);
  assert.deepEqual(u8.slice(14, 42), ARP_REQUEST.slice(14, 42));
  assert.equal(u8[42], 0xee);
});

Deno.test("arp setters turn a request into a reply", () => {
  const { dv } = place(ARP_REQUEST);
  arp.setOp(dv, 14, arp.OP_REPLY);
  arp.setSenderIp(dv, 14, 0x0a000002);
  arp.setTargetIp(dv, 14, 0xc0a80001);
  assert.equal(arp.op(dv, 14), 2);
  assert.equal(arp.senderIp(dv, 14), 0x0a000002);
  assert.equal(arp.targetIp(dv, 14), 0xc0a80001);
});
