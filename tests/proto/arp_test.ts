// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { arp } from "../../src/proto/arp.ts";
import type { Ctx } from "../../src/context.ts";
import { FakeTap, onlyFrame, runInline } from "../_helpers/fake_tap.ts";
import {
  concat,
  ether,
  GUEST_MAC,
  HOST_MAC,
  ip4,
  place,
  rng,
  testCtx,
} from "../_helpers/frames.ts";

const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/** An Ethernet/IPv4 ARP packet. */
function arpPacket(
  op: number,
  sha: Uint8Array,
  spa: number,
  tha: Uint8Array,
  tpa: number,
): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 1);
  dv.setUint16(2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  dv.setUint16(6, op);
  b.set(sha, 8);
  dv.setUint32(14, spa);
  b.set(tha, 18);
  dv.setUint32(24, tpa);
  return b;
}

function request(spa: number, tpa: number): Uint8Array {
  return ether(BCAST, GUEST_MAC, 0x0806, arpPacket(1, GUEST_MAC, spa, new Uint8Array(6), tpa));
}

function run(f: Uint8Array, c?: Ctx): { tap: FakeTap; ret: boolean } {
  return runInline(arp, f, c);
}

Deno.test("arp() answers a request for the gateway with our MAC, addressed to the requester", () => {
  const { tap, ret } = run(request(ip4("192.0.2.10"), ip4("192.0.2.1")));
  assert.equal(ret, true);
  const { f, dv } = onlyFrame(tap, 0x0806);
  assert.equal(f.length, 42);
  assert.equal(dv.getUint16(14), 1); // Ethernet
  assert.equal(dv.getUint16(16), 0x0800);
  assert.equal(f[18], 6);
  assert.equal(f[19], 4);
  assert.equal(dv.getUint16(20), 2); // reply
  assert.deepEqual(f.subarray(22, 28), HOST_MAC); // sender MAC
  assert.equal(dv.getUint32(28), ip4("192.0.2.1")); // sender IP = asked-for address
  assert.deepEqual(f.subarray(32, 38), GUEST_MAC); // target MAC
  assert.equal(dv.getUint32(38), ip4("192.0.2.10")); // target IP = requester
});

Deno.test("arp() answers for any address (proxy ARP), and probes from 0.0.0.0", () => {
  const a = run(request(ip4("192.0.2.10"), ip4("203.0.113.7")));
  assert.equal(a.tap.frames.length, 1);
  assert.equal(new DataView(a.tap.frame(0).buffer).getUint32(28), ip4("203.0.113.7"));
  const probe = run(request(0, ip4("192.0.2.1")));
  assert.equal(probe.tap.frames.length, 1);
  assert.equal(new DataView(probe.tap.frame(0).buffer).getUint32(38), 0);
});

Deno.test("arp() ignores gratuitous announcements and requests for the guest's address", () => {
  const grat = run(request(ip4("192.0.2.10"), ip4("192.0.2.10")));
  assert.equal(grat.ret, true);
  assert.equal(grat.tap.frames.length, 0);
  const own = run(request(0, ip4("192.0.2.10")));
  assert.equal(own.ret, true);
  assert.equal(own.tap.frames.length, 0);
});

Deno.test("arp() ignores replies and consumes nothing that is not Ethernet/IPv4 ARP", () => {
  const reply = ether(
    HOST_MAC,
    GUEST_MAC,
    0x0806,
    arpPacket(2, GUEST_MAC, ip4("192.0.2.10"), HOST_MAC, ip4("192.0.2.1")),
  );
  const r = run(reply);
  assert.equal(r.ret, true);
  assert.equal(r.tap.frames.length, 0);

  const ipv6Ptype = request(ip4("192.0.2.10"), ip4("192.0.2.1"));
  ipv6Ptype[16] = 0x86;
  ipv6Ptype[17] = 0xdd;
  assert.equal(run(ipv6Ptype).ret, false);
  assert.equal(run(ipv6Ptype).tap.frames.length, 0);

  const notArp = request(ip4("192.0.2.10"), ip4("192.0.2.1"));
  notArp[13] = 0x00; // EtherType 0x0800
  assert.equal(run(notArp).ret, false);
});

Deno.test("arp() drops truncated requests", () => {
  const full = request(ip4("192.0.2.10"), ip4("192.0.2.1"));
  for (let len = 0; len < full.length; len++) {
    const { tap, ret } = run(full.subarray(0, len));
    assert.equal(ret, false, `length ${len}`);
    assert.equal(tap.frames.length, 0, `length ${len}`);
  }
});

Deno.test("arp() never throws on corrupted or padded frames", () => {
  const base = concat(request(ip4("192.0.2.10"), ip4("192.0.2.1")), new Uint8Array(18));
  for (let seed = 1; seed <= 2000; seed++) {
    const r = rng(seed);
    const f = base.slice(0, r() % (base.length + 1));
    const flips = 1 + (r() % 4);
    for (let k = 0; k < flips && f.length; k++) f[r() % f.length] = r() & 0xff;
    run(f);
  }
});

Deno.test("arp() drops the reply when no slot is free", () => {
  const tap = new FakeTap(0);
  const p = place(request(ip4("192.0.2.10"), ip4("192.0.2.1")));
  assert.equal(arp(testCtx(), tap, p.u8, p.dv, p.off, p.len), true);
  assert.equal(tap.frames.length, 0);
});
