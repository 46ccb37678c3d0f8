// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { parseIp4, parseIp6 } from "../../src/ip.ts";
import * as inany from "../../src/wire/inany.ts";

function w(...x: number[]): Uint32Array {
  return Uint32Array.from(x);
}

Deno.test("inany.ip6Equal() and inany.ip6IsZero() compare words", () => {
  assert.ok(inany.ip6Equal(parseIp6("2001:db8::1")!, w(0x20010db8, 0, 0, 1)));
  assert.ok(!inany.ip6Equal(parseIp6("2001:db8::1")!, parseIp6("2001:db8::2")!));
  assert.ok(inany.ip6IsZero(new Uint32Array(4)));
  assert.ok(!inany.ip6IsZero(parseIp6("::1")!));
});

Deno.test("IPv4 classification", () => {
  const a = (s: string): number => parseIp4(s)!;
  assert.ok(inany.ip4IsLoopback(a("127.0.0.53")));
  assert.ok(!inany.ip4IsLoopback(a("128.0.0.1")));
  assert.ok(inany.ip4IsUnspecified(a("0.0.0.0")));
  assert.ok(!inany.ip4IsUnspecified(a("0.0.0.1")));
  assert.ok(inany.ip4IsMulticast(a("224.0.0.1")));
  assert.ok(inany.ip4IsMulticast(a("239.255.255.255")));
  assert.ok(!inany.ip4IsMulticast(a("240.0.0.1")));
  assert.ok(inany.ip4IsBroadcast(a("255.255.255.255")));
  assert.ok(!inany.ip4IsBroadcast(a("255.255.255.254")));
  assert.ok(inany.ip4IsLinkLocal(a("169.254.1.1")));
  assert.ok(!inany.ip4IsLinkLocal(a("169.253.1.1")));
});

Deno.test("IPv6 classification", () => {
  const a = (s: string): Uint32Array => parseIp6(s)!;
  assert.ok(inany.ip6IsLoopback(a("::1")));
  assert.ok(!inany.ip6IsLoopback(a("::2")));
  assert.ok(inany.ip6IsUnspecified(a("::")));
  assert.ok(inany.ip6IsMulticast(a("ff02::1")));
  assert.ok(!inany.ip6IsMulticast(a("fe02::1")));
  assert.ok(inany.ip6IsLinkLocal(a("fe80::1")));
  assert.ok(inany.ip6IsLinkLocal(a("febf::1")));
  assert.ok(!inany.ip6IsLinkLocal(a("fec0::1")));
  assert.ok(inany.ip6IsV4Mapped(a("::ffff:10.0.0.1")));
  assert.ok(!inany.ip6IsV4Mapped(a("::10.0.0.1")));
  assert.ok(inany.ip6IsV4Compat(a("::10.0.0.1")));
  assert.ok(!inany.ip6IsV4Compat(a("::1")));
  assert.ok(!inany.ip6IsV4Compat(a("::")));
  assert.ok(!inany.ip6IsV4Compat(a("::ffff:10.0.0.1")));
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
