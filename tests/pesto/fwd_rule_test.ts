// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  ephemeral,
  ruleAdd,
  ruleDel,
  RuleError,
  ruleFormat,
  ruleParse,
  type RuleTable,
  setEphemeral,
} from "../../src/pesto/fwd_rule.ts";
import { FWD_CAP_IFNAME, FWD_CAP_IPV6, FWD_CAP_SCAN, StateParser } from "../../src/pesto/wire.ts";
import { SESSIONS } from "./fixtures.ts";

const ALL = 0x3f;

function table(caps = ALL): RuleTable {
  return { caps, rules: [] };
}

function lines(t: RuleTable): string[] {
  return t.rules.map(ruleFormat);
}

function hex(s: string): Uint8Array {
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

Deno.test("fwd_rule: rules print exactly as upstream's pesto listed them", () => {
  const s = SESSIONS[0]!;
  const p = new StateParser();
  p.feed(hex(s.s2c));
  const text = p.tables.map((t) =>
    `  ${t.name}\n` + t.rules.map((r) => `    ${ruleFormat(r)}\n`).join("")
  )
    .join("");
  assert.equal(`passt/pasta configuration (SOCK)\n${text}`, s.stdout);
});

Deno.test("fwd_rule: specs become upstream's rules", () => {
  setEphemeral("32768\t60999\n");
  const t = table();
  ruleParse("t", false, "5-25,~10-20", t);
  ruleParse("t", false, "192.0.2.1/6000", t);
  ruleParse("u", false, "[2001:db8::1]%eth0/53:5353", t);
  ruleParse("t", false, "0.0.0.0/80:127.0.0.1/8080", t);
  assert.deepEqual(lines(t), [
    "TCP [*]:5-9  =>  5-9 ",
    "TCP [*]:21-25  =>  21-25 ",
    "TCP [192.0.2.1]:6000  =>  6000 ",
    "UDP [2001:db8::1]%eth0:53  =>  5353 ",
    "TCP [0.0.0.0]:80  =>  127.0.0.1:8080 ",
  ]);
  const all = table();
  ruleParse("t", false, "~25", all);
  assert.deepEqual(lines(all), [
    "TCP [*]:1-24  =>  1-24  (best effort)",
    "TCP [*]:26-32767  =>  26-32767  (best effort)",
    "TCP [*]:61000-65535  =>  61000-65535  (best effort)",
  ]);
  const auto = table();
  ruleParse("T", false, "8000-8010,auto", auto);
  assert.deepEqual(lines(auto), ["TCP [*]%lo:8000-8010  =>  8000-8010  (auto-scan)"]);
  assert.equal(ephemeral.min, 32768);
  setEphemeral("49152\t65535\n");
});

Deno.test("fwd_rule: capabilities decide the address family and what is allowed", () => {
  const v6 = table(ALL & ~1);
  ruleParse("t", false, "22", v6);
  assert.deepEqual(lines(v6), ["TCP [::]:22  =>  22 "]);
  const noScan = table(ALL & ~FWD_CAP_SCAN);
  assert.throws(() => ruleParse("t", false, "auto", noScan), /only allowed for pasta/);
  const noIf = table(ALL & ~FWD_CAP_IFNAME);
  assert.throws(() => ruleParse("t", false, "%eth0/22", noIf), /Device binding .* unsupported/);
  const w = ruleParse("T", false, "22", noIf);
  assert.match(w[0]!, /SO_BINDTODEVICE unavailable/);
  assert.deepEqual(lines(noIf), ["TCP [127.0.0.1]:22  =>  22 ", "TCP [::1]:22  =>  22 "]);
  assert.throws(
    () => ruleParse("t", false, "::1/22", table(ALL & ~FWD_CAP_IPV6)),
    /IPv6 forward, but IPv6 not enabled/,
  );
  assert.throws(
    () => ruleParse("T", false, "127.0.0.1/22", table()),
    /Listening address not allowed/,
  );
});

Deno.test("fwd_rule: bad specs, conflicts and deletes fail with upstream's lines", () => {
  const t = table();
  for (const bad of ["", "x", "22-", "70000", "22:23-24", "22,", "1.2.3.4/", "22 ", "%/22"]) {
    assert.throws(() => ruleParse("t", false, bad, table()), RuleError, bad);
  }
  ruleParse("t", false, "22", t);
  assert.throws(
    () => ruleParse("t", false, "20-30", t),
    (e: Error) =>
      e.message ===
        "Forwarding configuration conflict: TCP [*]:20-30  =>  20-30  versus TCP [*]:22  =>  22 \n" +
          "Unable to add rule TCP [*]:20-30  =>  20-30 ",
  );
  assert.throws(() => ruleParse("t", false, "none", t), /-t none conflicts with previous options/);
  assert.throws(() => ruleParse("t", true, "22:23", t), /conflicts with rule .* can't delete/);
  ruleParse("t", true, "22", t);
  assert.equal(t.rules.length, 0);
  assert.throws(() => ruleParse("t", true, "22", t), /Couldn't find forwarding rule to delete/);
  const r = { ...table(), rules: [] } as RuleTable;
  const rule = {
    addr: new Uint8Array(16),
    taddr: new Uint8Array(16),
    ifname: "",
    first: 10,
    last: 5,
    to: 10,
    proto: 6,
    flags: 1,
  };
  assert.throws(() => ruleAdd(r, rule), /invalid port range 10-5/);
  assert.throws(() => ruleAdd(r, { ...rule, first: 0, last: 0 }), /map from port 0/);
  assert.throws(() => ruleAdd(r, { ...rule, last: 10, to: 0 }), /map to port 0/);
  assert.throws(() => ruleAdd(r, { ...rule, last: 10, flags: 0x81 }), /invalid flags 0x80/);
  assert.throws(
    () => ruleAdd(r, { ...rule, last: 10, proto: 1 }),
    /Unsupported protocol 0x1 \(ICMP\)/,
  );
  assert.throws(() => ruleDel(r, { ...rule, last: 10 }), /Couldn't find/);
  for (let i = 1; i <= 255; i++) ruleAdd(r, { ...rule, first: i, last: i, to: i });
  assert.throws(
    () => ruleAdd(r, { ...rule, first: 300, last: 300, to: 300 }),
    /Too many rules \(maximum 255\)/,
  );
});
