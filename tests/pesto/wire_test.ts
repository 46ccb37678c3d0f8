// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  capBits,
  decodeHello,
  encodeRule,
  encodeServerState,
  encodeUpdate,
  type FwdRule,
  HELLO_SIZE,
  PIF_HOST,
  PIF_SPLICE,
  RequestParser,
  RULE_SIZE,
  StateParser,
  WireError,
} from "../../src/pesto/wire.ts";
import { SESSIONS } from "./fixtures.ts";

function hex(s: string): Uint8Array {
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

function parseState(b: Uint8Array): StateParser {
  const p = new StateParser();
  assert.equal(p.feed(b), "done");
  return p;
}

Deno.test("wire: upstream's hello decodes to magic, version 2, 128, 16", () => {
  const h = decodeHello(hex(SESSIONS[0]!.s2c));
  assert.deepEqual(h, { magicOk: true, version: 2, pifNameSize: 128, ifnamsiz: 16 });
});

Deno.test("wire: every server greeting upstream sent re-encodes to the same bytes", () => {
  for (const s of SESSIONS) {
    const b = hex(s.s2c);
    const p = parseState(b);
    assert.deepEqual(p.tables.map((t) => [t.pif, t.name]), [[1, "HOST"], [3, "SPLICE"]], s.name);
    assert.deepEqual(encodeServerState(p.tables), b, s.name);
  }
});

Deno.test("wire: the greeting parses the same fed one byte at a time", () => {
  const b = hex(SESSIONS[0]!.s2c);
  const p = new StateParser();
  for (let i = 0; i < b.length; i++) {
    assert.equal(p.feed(b.subarray(i, i + 1)), i === b.length - 1 ? "done" : "more");
  }
  assert.deepEqual(p.tables, parseState(b).tables);
  assert.equal(p.tables[0]!.caps, 0x3f);
  assert.equal(p.tables[0]!.rules.length, 7);
  const r = p.tables[0]!.rules[3]!;
  assert.deepEqual([r.first, r.last, r.to, r.proto, r.flags], [18200, 18200, 18300, 6, 0]);
  assert.equal(p.tables[1]!.rules[0]!.ifname, "lo");
});

Deno.test("wire: every update pesto sent parses and re-encodes to the same bytes", () => {
  let seen = 0;
  for (const s of SESSIONS) {
    if (s.c2s === "") continue;
    seen++;
    const b = hex(s.c2s);
    const p = new RequestParser([PIF_HOST, PIF_SPLICE]);
    assert.equal(p.feed(b), "done", s.name);
    const tables = [...p.tables].map(([pif, rules]) => ({ pif, rules }));
    assert.deepEqual(encodeUpdate(tables), b, s.name);
    // byte by byte, and every proper prefix is "more", never an error
    const q = new RequestParser([PIF_HOST, PIF_SPLICE]);
    for (let i = 0; i < b.length - 1; i++) assert.equal(q.feed(b.subarray(i, i + 1)), "more");
    assert.equal(q.feed(b.subarray(b.length - 1)), "done");
    assert.deepEqual(q.tables, p.tables);
  }
  assert.equal(seen, 4);
});

Deno.test("wire: the replace session carries exactly the new rules", () => {
  const s = SESSIONS.find((x) => x.name === "replace")!;
  const p = new RequestParser([PIF_HOST, PIF_SPLICE]);
  p.feed(hex(s.c2s));
  const host = p.tables.get(PIF_HOST)!;
  assert.deepEqual(host.map((r) => [r.proto, r.first, r.to, r.flags]), [[6, 18700, 18700, 1], [
    17,
    18701,
    18701,
    1,
  ]]);
  assert.deepEqual(p.tables.get(PIF_SPLICE)!.map((r) => [r.ifname, r.first]), [["lo", 17001]]);
});

function rejects(bytes: number[] | Uint8Array, msg: RegExp, known = [PIF_HOST, PIF_SPLICE]): void {
  const p = new RequestParser(known);
  assert.throws(() => p.feed(Uint8Array.from(bytes)), (e: unknown) => {
    assert.ok(e instanceof WireError);
    assert.match(e.message, msg);
    return true;
  });
}

Deno.test("wire: a bad update is refused as soon as the offending bytes arrive", () => {
  rejects([2], /non-existent table/); // TAP has no table
  rejects([0xff], /non-existent table/);
  rejects([3], /non-existent table/, [PIF_HOST]); // passt: no SPLICE
  rejects([1, 0, 0, 1, 0], /Received 256 rules \(maximum 255\)/);
  rejects([1, 0xff, 0xff, 0xff, 0xff], /Received 4294967295 rules/);
  rejects([0, 0], /Trailing data/);
  const rule = new Uint8Array(1 + 4 + RULE_SIZE);
  rule[0] = 1;
  rule[4] = 1;
  rule.fill(0x41, 5 + 32, 5 + 48); // ifname without its NUL
  rejects(rule, /not NULL terminated/);
});

Deno.test("wire: a table sent twice replaces the first copy", () => {
  const r: FwdRule = {
    addr: new Uint8Array(16),
    taddr: new Uint8Array(16),
    ifname: "",
    first: 80,
    last: 80,
    to: 80,
    proto: 6,
    flags: 1,
  };
  const b = encodeUpdate([{ pif: 1, rules: [r, { ...r, first: 81, last: 81, to: 81 }] }, {
    pif: 1,
    rules: [r],
  }]);
  const p = new RequestParser([1]);
  assert.equal(p.feed(b), "done");
  assert.equal(p.tables.get(1)!.length, 1);
});

Deno.test("wire: a rule encodes ports big-endian behind addresses and name", () => {
  const b = new Uint8Array(RULE_SIZE);
  const a = new Uint8Array(16);
  a[10] = 0xff;
  a[11] = 0xff;
  a.set([127, 0, 0, 1], 12);
  encodeRule(b, 0, {
    addr: a,
    taddr: new Uint8Array(16),
    ifname: "lo",
    first: 0x4674,
    last: 0x4676,
    to: 0x6dc4,
    proto: 6,
    flags: 0,
  });
  assert.deepEqual([...b.subarray(10, 16)], [0xff, 0xff, 127, 0, 0, 1]);
  assert.deepEqual([...b.subarray(32, 35)], [0x6c, 0x6f, 0]);
  assert.deepEqual([...b.subarray(48)], [0x46, 0x74, 0x46, 0x76, 0x6d, 0xc4, 6, 0]);
  assert.throws(() =>
    encodeRule(b, 0, {
      addr: a,
      taddr: a,
      ifname: "x".repeat(16),
      first: 1,
      last: 1,
      to: 1,
      proto: 6,
      flags: 0,
    }), WireError);
});

Deno.test("wire: pesto's checks of the server greeting, with upstream's messages", () => {
  const good = hex(SESSIONS[0]!.s2c);
  const bad = (patch: (b: Uint8Array) => void, msg: RegExp): void => {
    const b = good.slice();
    patch(b);
    assert.throws(() => new StateParser().feed(b), (e: Error) => msg.test(e.message));
  };
  bad((b) => (b[0] = 0x42), /^Bad magic number from server$/);
  bad((b) => (b[11] = 3), /^Unknown server protocol version 3 > 2$/);
  bad((b) => (b[11] = 0), /^Unsupported experimental server protocol$/);
  bad((b) => (b[15] = 64), /^Server has unexpected pif name size \(64 not 128\)$/);
  bad((b) => (b[19] = 32), /^Server has unexpected IFNAMSIZ \(32 not 16\)$/);
  bad((b) => (b[HELLO_SIZE + 1 + 135 - 8] = 0x41), /not NULL terminated/);
  bad((b) => (b[HELLO_SIZE + 1 + 128 + 6] = 1), /^Too many forwarding rules$/);
  // a second HOST table
  const dup = new Uint8Array(good.length + 137);
  dup.set(good.subarray(0, good.length - 1));
  dup.set(good.subarray(HELLO_SIZE, HELLO_SIZE + 137), good.length - 1);
  dup[dup.length - 137 + 1 + 128 + 7] = 0; // no rules
  assert.throws(() => new StateParser().feed(dup), /duplicate interface identifier/);
});

Deno.test("wire: capability bits as upstream's FWD_CAP_* (IPv4 1, IPv6 2, TCP 4, UDP 8, scan 16, ifname 32)", () => {
  const all = { v4: true, v6: true, tcp: true, udp: true, scan: true };
  assert.equal(capBits(all, true), 0x3f);
  assert.equal(capBits(all, false), 0x1f);
  assert.equal(capBits({ v4: true, v6: false, tcp: false, udp: true, scan: false }, true), 0x29);
  assert.equal(capBits({ v4: false, v6: true, tcp: true, udp: false, scan: false }, false), 0x06);
});
