// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import * as icmp from "../../src/wire/icmp.ts";
import { csumUpdate16, plainChecksum } from "../../src/wire/checksum.ts";
import { ICMP4_ECHO, place } from "./fixtures.ts";

Deno.test("icmp getters deconstruct a captured echo request", () => {
  const { dv } = place(ICMP4_ECHO);
  assert.equal(icmp.validate(dv, 34, 64), 8);
  assert.equal(icmp.type(dv, 34), icmp.ECHO_REQUEST);
  assert.equal(icmp.code(dv, 34), 0);
  assert.equal(icmp.checksum(dv, 34), 0x14f5);
  assert.equal(icmp.id(dv, 34), 9511);
  assert.equal(icmp.seq(dv, 34), 0);
});

Deno.test("icmp.validate() needs 8 bytes", () => {
  const { dv } = place(ICMP4_ECHO);
  assert.equal(icmp.validate(dv, 34, 8), 8);
  assert.equal(icmp.validate(dv, 34, 7), -1);
  assert.equal(icmp.validate(dv, 34, 0), -1);
});

Deno.test("icmp setters turn the request into a reply with a valid checksum", () => {
  const { u8, dv } = place(ICMP4_ECHO);
  const old = dv.getUint16(34);
  icmp.setType(dv, 34, icmp.ECHO_REPLY);
  icmp.setChecksum(dv, 34, csumUpdate16(icmp.checksum(dv, 34), old, dv.getUint16(34)));
  const patched = icmp.checksum(dv, 34);
  icmp.setChecksum(dv, 34, 0);
  assert.equal(plainChecksum(u8, 34, 64), patched);
  icmp.setCode(dv, 34, 3);
  icmp.setId(dv, 34, 0xffff);
  icmp.setSeq(dv, 34, 513);
  assert.deepEqual(
    [icmp.type(dv, 34), icmp.code(dv, 34), icmp.id(dv, 34), icmp.seq(dv, 34)],
    [0, 3, 0xffff, 513],
  );
});
