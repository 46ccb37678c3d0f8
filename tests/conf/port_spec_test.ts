// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import type { Mode, PortFwd } from "../../src/context.ts";
import { ConfError } from "../../src/conf/conf_error.ts";
import {
  bitmapClear,
  bitmapIsSet,
  bitmapSet,
  newPortFwd,
  parsePortSpec,
  PORT_EPHEMERAL_MIN,
  type PortOpt,
} from "../../src/conf/port_spec.ts";

/** Apply a list of specs for one option, as repeated options would. */
function apply(specs: string[], mode: Mode = "pasta", opt: PortOpt = "t"): PortFwd {
  const fwd = newPortFwd();
  specs.forEach((s, i) => parsePortSpec(fwd, s, opt, mode, i === 0));
  return fwd;
}

function ports(fwd: PortFwd): number[] {
  const out: number[] = [];
  for (let p = 0; p < 65536; p++) if (bitmapIsSet(fwd.map, p)) out.push(p);
  return out;
}

function target(fwd: PortFwd, p: number): number {
  return (p + fwd.delta[p]!) & 0xffff;
}

function fails(specs: string[], message: string, mode: Mode = "pasta", opt: PortOpt = "t"): void {
  assert.throws(() => apply(specs, mode, opt), (e: unknown) => {
    assert.ok(e instanceof ConfError);
    assert.equal(e.message, message);
    return true;
  }, specs.join(" "));
}

Deno.test("bitmap layout is byte-addressed, independent of host byte order", () => {
  const m = new Uint8Array(8192);
  bitmapSet(m, 0);
  assert.equal(m[0], 0b1);
  bitmapSet(m, 9);
  assert.equal(m[1], 0b10);
  bitmapSet(m, 65535);
  assert.equal(m[8191], 0x80);
  assert.ok(bitmapIsSet(m, 9));
  assert.ok(!bitmapIsSet(m, 8));
  bitmapClear(m, 9);
  assert.equal(m[1], 0);
  assert.ok(bitmapIsSet(m, 0));
});

Deno.test("none, auto and all", () => {
  assert.equal(apply(["none"]).mode, "none");
  assert.deepEqual(ports(apply(["none"])), []);
  assert.equal(apply(["auto"]).mode, "auto");
  const all = apply(["all"], "passt");
  assert.equal(all.mode, "all");
  assert.equal(ports(all).length, PORT_EPHEMERAL_MIN);
  assert.ok(bitmapIsSet(all.map, 0) && bitmapIsSet(all.map, 49151) && !bitmapIsSet(all.map, 49152));
});

Deno.test("inventory examples: single ports, lists, ranges and mappings", () => {
  let f = apply(["22"]);
  assert.deepEqual(ports(f), [22]);
  assert.equal(target(f, 22), 22);
  assert.equal(f.mode, "spec");

  f = apply(["22:23"]);
  assert.deepEqual(ports(f), [22]);
  assert.equal(target(f, 22), 23);

  assert.deepEqual(ports(apply(["22,25"])), [22, 25]);

  f = apply(["22-80"]);
  assert.equal(ports(f).length, 59);
  assert.equal(target(f, 80), 80);

  f = apply(["22-80:32-90"]);
  assert.equal(target(f, 22), 32);
  assert.equal(target(f, 80), 90);
  assert.deepEqual(f.ranges, [{ first: 22, last: 80, target: 32, bindAddr: null, bindIf: null }]);
});

Deno.test("inventory examples: binding prefixes", () => {
  let f = apply(["192.0.2.1/22"]);
  assert.deepEqual(ports(f), [22]);
  assert.equal(f.bindAddr, "192.0.2.1");
  assert.equal(f.bindIf, null);

  f = apply(["192.0.2.1%eth0/22"]);
  assert.equal(f.bindAddr, "192.0.2.1");
  assert.equal(f.bindIf, "eth0");

  f = apply(["%eth0/22"]);
  assert.equal(f.bindAddr, null);
  assert.equal(f.bindIf, "eth0");

  f = apply(["2001:db8::1/443"]);
  assert.equal(f.bindAddr, "2001:db8::1");

  f = apply(["192.0.2.1/20-30,~25"]);
  assert.deepEqual(ports(f), [20, 21, 22, 23, 24, 26, 27, 28, 29, 30]);
  assert.deepEqual(f.ranges, [
    { first: 20, last: 24, target: 20, bindAddr: "192.0.2.1", bindIf: null },
    { first: 26, last: 30, target: 26, bindAddr: "192.0.2.1", bindIf: null },
  ]);
});

Deno.test("inventory examples: exclusions anywhere, and exclusion-only lists", () => {
  let f = apply(["2000-5000,~3000-3010"]);
  assert.equal(ports(f).length, 3001 - 11);
  assert.ok(bitmapIsSet(f.map, 2999) && !bitmapIsSet(f.map, 3000) && !bitmapIsSet(f.map, 3010));
  assert.ok(bitmapIsSet(f.map, 3011));
  assert.ok(bitmapIsSet(f.excluded, 3005));
  assert.deepEqual(ports(apply(["~3000-3010,2000-5000"])), ports(f));

  f = apply(["~20000-20010"]);
  assert.equal(ports(f).length, PORT_EPHEMERAL_MIN - 11);
  assert.ok(bitmapIsSet(f.map, 0) && bitmapIsSet(f.map, 19999) && !bitmapIsSet(f.map, 20005));
  assert.ok(!bitmapIsSet(f.map, 49152));
});

Deno.test("repeated options accumulate into one map, each range with its own binding", () => {
  const f = apply(["127.0.0.1/8080-8080:80-80", "::1/8443:443", "53"]);
  assert.deepEqual(ports(f), [53, 8080, 8443]);
  assert.equal(target(f, 8080), 80);
  assert.equal(target(f, 8443), 443);
  assert.equal(f.bindAddr, "127.0.0.1");
  assert.deepEqual(f.ranges.map((r) => r.bindAddr), ["127.0.0.1", "::1", null]);
});

Deno.test("mappings wrap modulo 65536", () => {
  const f = apply(["65535:0", "0:65535"]);
  assert.equal(target(f, 65535), 0);
  assert.equal(target(f, 0), 65535);
  assert.equal(apply(["80-80:80-80"]).delta[80], 0);
});

Deno.test("overlaps are fatal, within one option and across options", () => {
  fails(["22,22"], "Overlapping port specifier 22,22");
  fails(["20-30,25"], "Overlapping port specifier 20-30,25");
  fails(["22", "10-30"], "Overlapping port specifier 10-30");
  fails(["80", "~22"], "Overlapping port specifier ~22");
  assert.deepEqual(ports(apply(["20-30,~25", "25"])), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
});

Deno.test("mode conflicts and mode restrictions", () => {
  fails(["none", "22"], "Port forwarding mode '22' conflicts with previous mode");
  fails(["22", "none"], "Port forwarding mode 'none' conflicts with previous mode");
  fails(["none", "none"], "Port forwarding mode 'none' conflicts with previous mode");
  fails(["auto", "22"], "Port forwarding mode '22' conflicts with previous mode");
  fails(["22", "auto"], "Port forwarding mode 'auto' conflicts with previous mode");
  fails(["all", "22"], "Port forwarding mode '22' conflicts with previous mode", "passt");
  fails(["auto"], "'auto' port forwarding is only allowed for pasta", "passt");
  fails(["all"], "'all' port forwarding is only allowed for passt", "pasta");
});

Deno.test("malformed specifiers", () => {
  for (
    const s of [
      "70000",
      "65536",
      "10-5",
      "10-20:30-35",
      "22-25:30",
      "22:30-33",
      ":80",
      "80:",
      "1,,2",
      ",1",
      "1,",
      "abc",
      "",
      "-22",
      "22-",
      "1-2-3",
      "22:23:24",
      "~22:23",
      "~",
      "22 ",
      "+22",
      "0x16",
      "/22",
      "300.1.1.1/22",
      "%/22",
      "%averyveryverylongname/22",
      "192.0.2.1/",
      "192.0.2.1/22/23",
      "fe80::1%eth0%x/22",
    ]
  ) {
    fails([s], `Invalid port specifier ${s}`);
  }
});

Deno.test("-T and -U take no binding prefix", () => {
  fails(["127.0.0.1/80"], "Invalid port specifier 127.0.0.1/80", "pasta", "T");
  fails(["%lo/80"], "Invalid port specifier %lo/80", "pasta", "U");
  assert.deepEqual(ports(apply(["80,~81"], "pasta", "T")), [80]);
});
