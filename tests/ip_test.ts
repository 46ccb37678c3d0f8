// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { formatIp4, formatIp6, formatMac, parseIp4, parseIp6, parseMac } from "../src/ip.ts";

function w(...x: number[]): Uint32Array {
  return Uint32Array.from(x);
}

/** Asserts that `parse` returns null for each of `inputs`. */
function rejectsAll(parse: (s: string) => unknown, inputs: string[]): void {
  for (const s of inputs) assert.equal(parse(s), null, s);
}

Deno.test("parseIp4() reads dotted quads into host-order numbers", () => {
  assert.equal(parseIp4("192.0.2.1"), 0xc0000201);
  assert.equal(parseIp4("0.0.0.0"), 0);
  assert.equal(parseIp4("255.255.255.255"), 0xffffffff);
  assert.equal(parseIp4("10.0.2.100"), 0x0a000264);
});

Deno.test("parseIp4() rejects everything that is not exactly a dotted quad", () => {
  rejectsAll(parseIp4, [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.04",
    "1..2.3",
    "1.2.3.4 ",
    " 1.2.3.4",
    "a.b.c.d",
    "1.2.3.-4",
    "0x1.2.3.4",
    "1.2.3.4/24",
    "::1",
  ]);
});

Deno.test("formatIp4() round-trips", () => {
  for (const s of ["0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.2.3"]) {
    assert.equal(formatIp4(parseIp4(s)!), s);
  }
});

Deno.test("parseIp6() reads the RFC 4291 textual forms", () => {
  const cases: [string, number[]][] = [
    ["2001:db8::1", [0x20010db8, 0, 0, 1]],
    ["::", [0, 0, 0, 0]],
    ["::1", [0, 0, 0, 1]],
    ["fe80::", [0xfe800000, 0, 0, 0]],
    ["2001:DB8:0:0:8:800:200C:417A", [0x20010db8, 0, 0x00080800, 0x200c417a]],
    ["1:2:3:4:5:6:7:8", [0x00010002, 0x00030004, 0x00050006, 0x00070008]],
    ["1::8", [0x00010000, 0, 0, 8]],
    ["1:2:3:4:5:6:7::", [0x00010002, 0x00030004, 0x00050006, 0x00070000]],
    ["::2:3:4:5:6:7:8", [0x00000002, 0x00030004, 0x00050006, 0x00070008]],
    ["::ffff:192.0.2.1", [0, 0, 0xffff, 0xc0000201]],
    ["::13.1.68.3", [0, 0, 0, 0x0d014403]],
    ["64:ff9b::192.0.2.33", [0x0064ff9b, 0, 0, 0xc0000221]],
    ["1:2:3:4:5:6:1.2.3.4", [0x00010002, 0x00030004, 0x00050006, 0x01020304]],
  ];
  for (const [s, words] of cases) assert.deepEqual(parseIp6(s), w(...words), s);
});

Deno.test("parseIp6() rejects junk, scope suffixes and malformed compression", () => {
  rejectsAll(parseIp6, [
    "",
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::2",
    "1::2:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "12345::",
    "g::1",
    "fe80::1%eth0",
    "::1.2.3",
    "::1.2.3.4:5",
    "::256.0.0.1",
    "1:2:3:4:5:6:7:1.2.3.4",
    "192.0.2.1",
    " ::1",
    "2001:db8::/32",
  ]);
});

Deno.test("formatIp6() gives the RFC 5952 canonical form", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["fe80:0:0:0:0:0:0:0", "fe80::"],
    ["FE80::ABCD", "fe80::abcd"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["::ffff:c000:201", "::ffff:192.0.2.1"],
    ["::1.2.3.4", "::1.2.3.4"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
    ["1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"],
  ];
  for (const [inp, out] of cases) assert.equal(formatIp6(parseIp6(inp)!), out, inp);
});

Deno.test("parseMac() and formatMac()", () => {
  assert.deepEqual(parseMac("52:54:00:f8:03:A6"), Uint8Array.from([0x52, 0x54, 0, 0xf8, 3, 0xa6]));
  assert.equal(formatMac(parseMac("52:54:00:F8:03:a6")!), "52:54:00:f8:03:a6");
  for (
    const s of [
      "",
      "52:54:00:f8:03",
      "52:54:00:f8:03:a6:01",
      "5:54:00:f8:03:a6",
      "52-54-00-f8-03-a6",
      "zz:54:00:f8:03:a6",
      "52:54:00:f8:03:a6 ",
    ]
  ) {
    assert.equal(parseMac(s), null, s);
  }
});
