// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { parseIp4, parseIp6 } from "../../src/ip.ts";
import * as inany from "../../src/wire/inany.ts";

function w(...x: number[]): Uint32Array {
  return Uint32Array.from(x);
}

Deno.test("ip6Equal() and ip6IsZero() compare words", () => {
  assert.ok(inany.ip6Equal(parseIp6("2001:db8::1")!, w(0x20010db8, 0, 0, 1)));
  assert.ok(!inany.ip6Equal(parseIp6("2001:db8::1")!, parseIp6("2001:db8::2")!));
  assert.ok(inany.ip6IsZero(new Uint32Array(4)));
  assert.ok(!inany.ip6IsZero(parseIp6("::1")!));
});

Deno.test("IPv4 classification", () => {
  const cases: [(a: number) => boolean, string[], string[]][] = [
    [inany.ip4IsLoopback, ["127.0.0.53"], ["128.0.0.1"]],
    [inany.ip4IsUnspecified, ["0.0.0.0"], ["0.0.0.1"]],
    [inany.ip4IsMulticast, ["224.0.0.1", "239.255.255.255"], ["240.0.0.1"]],
    [inany.ip4IsBroadcast, ["255.255.255.255"], ["255.255.255.254"]],
    [inany.ip4IsLinkLocal, ["169.254.1.1"], ["169.253.1.1"]],
  ];
  for (const [is, yes, no] of cases) {
    for (const s of yes) assert.ok(is(parseIp4(s)!), `${is.name}(${s})`);
    for (const s of no) assert.ok(!is(parseIp4(s)!), `!${is.name}(${s})`);
  }
});

Deno.test("IPv6 classification", () => {
  const cases: [(a: Uint32Array) => boolean, string[], string[]][] = [
    [inany.ip6IsLoopback, ["::1"], ["::2"]],
    [inany.ip6IsUnspecified, ["::"], ["::1"]],
    [inany.ip6IsMulticast, ["ff02::1"], ["fe02::1"]],
    [inany.ip6IsLinkLocal, ["fe80::1", "febf::1"], ["fec0::1"]],
    [inany.ip6IsV4Mapped, ["::ffff:10.0.0.1"], ["::10.0.0.1"]],
    [inany.ip6IsV4Compat, ["::10.0.0.1"], ["::1", "::", "::ffff:10.0.0.1"]],
  ];
  for (const [is, yes, no] of cases) {
    for (const s of yes) assert.ok(is(parseIp6(s)!), `${is.name}(${s})`);
    for (const s of no) assert.ok(!is(parseIp6(s)!), `!${is.name}(${s})`);
  }
});

Deno.test("inany classes at a word offset: IPv4-mapped and IPv6 alike", () => {
  const f = new Uint32Array(12);
  const at = (o: number, s: string): number => {
    const v4 = parseIp4(s);
    if (v4 !== null) inany.setV4(f, o, v4);
    else f.set(parseIp6(s)!, o);
    return o;
  };
  assert.ok(inany.isV4(f, at(4, "10.0.0.1")) && !inany.isV4(f, at(4, "::10.0.0.1")));
  for (
    const [s, lo, mc, un] of [
      ["127.1.2.3", true, false, false],
      ["::1", true, false, false],
      ["224.0.0.251", false, true, false],
      ["255.255.255.255", false, true, false],
      ["ff02::fb", false, true, false],
      ["0.0.0.0", false, false, true],
      ["::", false, false, true],
      ["192.0.2.1", false, false, false],
      ["2001:db8::1", false, false, false],
    ] as const
  ) {
    const o = at(8, s);
    assert.equal(inany.isLoopback(f, o), lo, `${s} loopback`);
    assert.equal(inany.isMulticast(f, o), mc, `${s} multicast`);
    assert.equal(inany.isUnspecified(f, o), un, `${s} unspecified`);
    assert.equal(inany.isUnicast(f, o), !mc && !un, `${s} unicast`);
  }
  assert.ok(inany.isLinkLocal6(f, at(0, "fe80::1")) && !inany.isLinkLocal6(f, at(0, "fec0::1")));
});
