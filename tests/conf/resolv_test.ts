// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { formatIp4, formatIp6 } from "../../src/ip.ts";
import { parseResolvConf, readResolvConf } from "../../src/conf/resolv.ts";

function show(text: string): { ns4: string[]; ns6: string[]; search: string[] } {
  const r = parseResolvConf(text);
  return { ns4: r.ns4.map(formatIp4), ns6: r.ns6.map(formatIp6), search: r.search };
}

Deno.test("parseResolvConf(): no servers, no search", () => {
  assert.deepEqual(show(""), { ns4: [], ns6: [], search: [] });
  assert.deepEqual(show("# just a comment\noptions edns0\n"), { ns4: [], ns6: [], search: [] });
});

Deno.test("parseResolvConf(): systemd-resolved stub", () => {
  const text = "# This is /run/systemd/resolve/stub-resolv.conf\n" +
    "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.com lan\n";
  assert.deepEqual(show(text), { ns4: ["127.0.0.53"], ns6: [], search: ["example.com", "lan"] });
});

Deno.test("parseResolvConf(): both families, scopes stripped, at most three each", () => {
  const text = [
    "nameserver 192.0.2.1",
    "nameserver\t2001:db8::53",
    "nameserver fe80::1%eth0",
    "nameserver 192.0.2.2",
    "nameserver 192.0.2.3",
    "nameserver 192.0.2.4",
    "nameserver ::1",
    "nameserver 2001:db8::54",
    "nameserver bogus",
    "nameserver",
    "  nameserver 192.0.2.9",
  ].join("\n");
  assert.deepEqual(show(text), {
    ns4: ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
    ns6: ["2001:db8::53", "fe80::1", "::1"],
    search: [],
  });
});

Deno.test("parseResolvConf(): comments are skipped", () => {
  const text = "#nameserver 192.0.2.1\n;nameserver 192.0.2.2\nnameserver 192.0.2.3\n";
  assert.deepEqual(show(text).ns4, ["192.0.2.3"]);
});

Deno.test("parseResolvConf(): first search line only, six domains at most", () => {
  const text = "search a b c d e f g\nsearch other\n";
  assert.deepEqual(show(text).search, ["a", "b", "c", "d", "e", "f"]);
});

Deno.test("parseResolvConf(): domain is used only without search", () => {
  assert.deepEqual(show("domain example.org\n").search, ["example.org"]);
  assert.deepEqual(show("domain example.org\nsearch a\n").search, ["a"]);
  assert.deepEqual(show("search a\ndomain example.org\n").search, ["a"]);
});

Deno.test("readResolvConf(): a missing file gives empty lists", () => {
  assert.deepEqual(readResolvConf("/nonexistent/resolv.conf"), { ns4: [], ns6: [], search: [] });
});
