// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as icmpv6 from "../../src/wire/icmpv6.ts";
import * as ipv6 from "../../src/wire/ipv6.ts";
import { l4Checksum6 } from "../../src/wire/checksum.ts";
import { ICMP6_ECHO, ICMP6_NS, ICMP6_RS, place } from "./fixtures.ts";

Deno.test("icmpv6 getters deconstruct a captured neighbour solicitation", () => {
  const { u8, dv } = place(ICMP6_NS);
  assert.equal(icmpv6.validate(dv, 54, 32), 8);
  assert.equal(icmpv6.type(dv, 54), icmpv6.NEIGHBOUR_SOLICIT);
  assert.equal(icmpv6.code(dv, 54), 0);
  assert.equal(icmpv6.checksum(dv, 54), 0x1c25);
  // Target address follows the 4 reserved bytes.
  assert.equal(ipv6.addrEqualsWords(dv, 62, new Uint32Array([0x20010db8, 0, 0, 3])), true);
  // Source link-layer address option: type 1, length 1 (8 bytes), the sender's MAC.
  assert.deepEqual([...u8.slice(78, 86)], [1, 1, 2, 0, 0, 0, 0, 1]);
  icmpv6.setChecksum(dv, 54, 0);
  assert.equal(l4Checksum6(u8, 54, 32, 22, 38, 58), 0x1c25);
});

Deno.test("icmpv6 getters deconstruct a captured echo request and router solicitation", () => {
  const e = place(ICMP6_ECHO);
  assert.equal(icmpv6.type(e.dv, 54), icmpv6.ECHO_REQUEST);
  assert.equal(icmpv6.id(e.dv, 54), 9708);
  assert.equal(icmpv6.seq(e.dv, 54), 0);
  const r = place(ICMP6_RS);
  assert.equal(icmpv6.type(r.dv, 54), icmpv6.ROUTER_SOLICIT);
  assert.equal(icmpv6.validate(r.dv, 54, 16), 8);
});

Deno.test("icmpv6.validate() needs 8 bytes", () => {
  const { dv } = place(ICMP6_RS);
  assert.equal(icmpv6.validate(dv, 54, 8), 8);
  assert.equal(icmpv6.validate(dv, 54, 7), -1);
});

Deno.test("icmpv6 type numbers follow RFC 4443 and RFC 4861", () => {
  assert.deepEqual(
    [icmpv6.ECHO_REQUEST, icmpv6.ECHO_REPLY, icmpv6.ROUTER_SOLICIT, icmpv6.ROUTER_ADVERT],
    [128, 129, 133, 134],
  );
  assert.deepEqual([icmpv6.NEIGHBOUR_SOLICIT, icmpv6.NEIGHBOUR_ADVERT, icmpv6.REDIRECT], [
    135,
    136,
    137,
  ]);
});

Deno.test("icmpv6 setters turn the echo request into a reply with a valid checksum", () => {
  const { u8, dv } = place(ICMP6_ECHO);
  icmpv6.setType(dv, 54, icmpv6.ECHO_REPLY);
  icmpv6.setCode(dv, 54, 0);
  icmpv6.setId(dv, 54, 1);
  icmpv6.setSeq(dv, 54, 2);
  icmpv6.setChecksum(dv, 54, 0);
  icmpv6.setChecksum(dv, 54, l4Checksum6(u8, 54, 64, 22, 38, 58));
  assert.deepEqual([icmpv6.type(dv, 54), icmpv6.id(dv, 54), icmpv6.seq(dv, 54)], [129, 1, 2]);
  assert.notEqual(icmpv6.checksum(dv, 54), 0xd686);
});
