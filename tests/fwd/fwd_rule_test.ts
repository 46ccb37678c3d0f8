// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  checkRule,
  forEachPortRun,
  formatRule,
  type FwdCaps,
  type FwdOpt,
  type FwdRule,
  FwdRuleError,
  parseFwdSpec,
  parsePortRange,
  setEphemeralRange,
  type SpecChunk,
} from "../../src/fwd/fwd_rule.ts";

const PASTA: FwdCaps = { v4: true, v6: true, tcp: true, udp: true, scan: true };
const PASST: FwdCaps = { ...PASTA, scan: false };

setEphemeralRange(32768, 60999);

function rules(specs: [FwdOpt, string][], caps = PASTA): string[] {
  const t: FwdRule[] = [];
  for (const [o, s] of specs) parseFwdSpec(o, s, caps, t);
  return t.map(formatRule);
}

function fails(specs: [FwdOpt, string][], message: string, caps = PASTA): void {
  assert.throws(() => rules(specs, caps), (e: unknown) => {
    assert.ok(e instanceof FwdRuleError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

// Each row: options, then the rules upstream 2026 prints for them.
const CASES: [string, [FwdOpt, string][], string[]][] = [
  ["one port", [["t", "22"]], ["TCP [*]:22  =>  22 "]],
  ["list and range", [["t", "22,80-82"]], ["TCP [*]:22  =>  22 ", "TCP [*]:80-82  =>  80-82 "]],
  ["target range", [["t", "22-80:32-90"]], ["TCP [*]:22-80  =>  32-90 "]],
  ["exclusions cut a range", [["u", "5-25,~10-20"]], [
    "UDP [*]:5-9  =>  5-9 ",
    "UDP [*]:21-25  =>  21-25 ",
  ]],
  ["address", [["t", "192.0.2.1/5"]], ["TCP [192.0.2.1]:5  =>  5 "]],
  ["IPv6 address and interface", [["t", "2001:db8::1%eth0/5"]], [
    "TCP [2001:db8::1]%eth0:5  =>  5 ",
  ]],
  ["* address", [["t", "*/8080"]], ["TCP [*]:8080  =>  8080 "]],
  ["interface only", [["t", "%eth0/8080"]], ["TCP [*]%eth0:8080  =>  8080 "]],
  ["target address", [["t", "0.0.0.0/5000:192.0.2.5/6000"]], [
    "TCP [0.0.0.0]:5000  =>  192.0.2.5:6000 ",
  ]],
  ["target address, same port", [["t", "::/5000:2001:db8::5"]], [
    "TCP [::]:5000  =>  2001:db8::5:5000 ",
  ]],
  [
    "ADDR/all",
    [["t", "192.0.2.1/all"]],
    [
      "TCP [192.0.2.1]:1-32767  =>  1-32767  (best effort)",
      "TCP [192.0.2.1]:61000-65535  =>  61000-65535  (best effort)",
    ],
  ],
  [
    "%IF/all",
    [["u", "%eth0/all"]],
    [
      "UDP [*]%eth0:1-32767  =>  1-32767  (best effort)",
      "UDP [*]%eth0:61000-65535  =>  61000-65535  (best effort)",
    ],
  ],
  [
    "ADDR/all:TOADDR",
    [["t", "0.0.0.0/all:192.0.2.9"]],
    [
      "TCP [0.0.0.0]:1-32767  =>  192.0.2.9:1-32767  (best effort)",
      "TCP [0.0.0.0]:61000-65535  =>  192.0.2.9:61000-65535  (best effort)",
    ],
  ],
  [
    "exclusions only",
    [["t", "~22,~25"]],
    [
      "TCP [*]:1-21  =>  1-21  (best effort)",
      "TCP [*]:23-24  =>  23-24  (best effort)",
      "TCP [*]:26-32767  =>  26-32767  (best effort)",
      "TCP [*]:61000-65535  =>  61000-65535  (best effort)",
    ],
  ],
  ["PORTS,auto", [["t", "8000-8010,auto"]], ["TCP [*]:8000-8010  =>  8000-8010  (auto-scan)"]],
  [
    "ADDR/auto",
    [["t", "::1/auto"]],
    [
      "TCP [::1]:1-32767  =>  1-32767  (best effort) (auto-scan)",
      "TCP [::1]:61000-65535  =>  61000-65535  (best effort) (auto-scan)",
    ],
  ],
  ["-T binds the namespace's lo", [["T", "5432"]], ["TCP [*]%lo:5432  =>  5432 "]],
  ["-t none, then a port", [["t", "none"], ["t", "80"]], ["TCP [*]:80  =>  80 "]],
  ["none for UDP after TCP rules", [["t", "80"], ["u", "none"]], ["TCP [*]:80  =>  80 "]],
  ["brackets", [["t", "[::1]/80:[::2]/90"]], ["TCP [::1]:80  =>  ::2:90 "]],
];

for (const [name, specs, want] of CASES) {
  Deno.test(`fwd rule syntax: ${name}`, () => assert.deepEqual(rules(specs), want));
}

Deno.test("fwd rule syntax: all in passt and pasta alike", () => {
  assert.deepEqual(rules([["t", "all"]], PASST), rules([["t", "all"]], PASTA));
});

Deno.test("fwd rule syntax: bad input, upstream's messages", () => {
  fails([["t", "70000"]], "Invalid port specifier '70000'");
  fails([["t", "22-20"]], "Invalid port specifier '22-20'");
  fails([["t", "22-25:30-40"]], "Invalid port specifier '22-25:30-40'");
  fails([["t", "x"]], "Invalid port specifier 'x'");
  fails([["t", "22,"]], "Invalid port specifier '22,'");
  fails([["t", "%/22"]], "Invalid port specifier '%/22'");
  fails([["t", "%../22"]], "Invalid interface name: ..");
  fails([["t", "auto"]], "'auto' port forwarding is only allowed for pasta", PASST);
  fails([["t", "80"], ["t", "none"]], "-t none conflicts with previous options");
  fails([["U", "127.0.0.1/80"]], "Listening address not allowed for -U 127.0.0.1/80");
  fails(
    [["t", "80"], ["t", "79-81"]],
    "Unable to add rule TCP [*]:79-81  =>  79-81: Forwarding configuration conflict: " +
      "TCP [*]:79-81  =>  79-81  versus TCP [*]:80  =>  80 ",
  );
  fails(
    [["t", "5000:192.0.2.5/6000"]],
    "Unable to add rule TCP [*]:5000  =>  192.0.2.5:6000: Dual stack forward to IPv4 address " +
      "192.0.2.5 unsupported (did you mean 0.0.0.0/... instead?)",
  );
  fails(
    [["t", "::1/5000:192.0.2.5"]],
    "Unable to add rule TCP [::1]:5000  =>  192.0.2.5:5000: Forward from IPv6 (::1) to IPv4 " +
      "(192.0.2.5) unsupported",
  );
  fails(
    [["t", "0.0.0.0/80:224.0.0.1"]],
    "Unable to add rule TCP [0.0.0.0]:80  =>  224.0.0.1:80: Multicast target address 224.0.0.1 " +
      "for forwarding rule",
  );
  fails(
    [["u", "80"]],
    "Unable to add rule UDP [*]:80  =>  80: Can't add UDP forwarding rule, UDP not enabled",
    { ...PASTA, udp: false },
  );
  fails(
    [["t", "0"]],
    "Unable to add rule TCP [*]:0  =>  0: Forwarding rule attempts to map from port 0",
  );
});

Deno.test("fwd rule: same port on different addresses doesn't conflict, any does", () => {
  const t: FwdRule[] = [];
  parseFwdSpec("t", "127.0.0.1/80", PASTA, t);
  parseFwdSpec("t", "::1/80", PASTA, t);
  parseFwdSpec("u", "80", PASTA, t);
  assert.equal(t.length, 3);
  const any: FwdRule = { ...t[0]!, addr: new Uint32Array(4), flags: 1 };
  assert.match(checkRule(PASTA, t, any)!, /^Forwarding configuration conflict/);
});

Deno.test("fwd rule: ephemeral range from ip_local_port_range", () => {
  assert.deepEqual(parsePortRange("32768\t60999\n"), [32768, 60999]);
  assert.equal(parsePortRange("x"), null);
  assert.equal(parsePortRange("1\t70000\n"), null);
});

Deno.test("fwd_rule: port runs around random exclusions are exactly the ports left, in order", () => {
  let seed = 12345;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const chunk = (kind: SpecChunk<number>["kind"], first: number, last: number) => ({
    kind,
    first,
    last,
    taddr: 0,
    tfirst: first,
    tlast: last,
  });
  for (let round = 0; round < 200; round++) {
    const chunks: SpecChunk<number>[] = [];
    for (let k = rnd(6); k > 0; k--) {
      const a = 1 + rnd(65535);
      chunks.push(chunk("exclude", a, Math.min(65535, a + rnd(round % 2 ? 3 : 3000))));
    }
    const inc = round % 3 === 0 ? null : [1 + rnd(1000), 0] as [number, number];
    if (inc) {
      inc[1] = Math.min(65535, inc[0] + rnd(64000));
      chunks.push(chunk("include", inc[0], inc[1]));
    }
    const want: number[] = [];
    const excluded = new Set<number>();
    for (const c of chunks) {
      if (c.kind === "exclude") { for (let p = c.first; p <= c.last; p++) excluded.add(p); }
    }
    const [lo, hi] = inc ?? [1, 65535];
    for (let p = lo; p <= hi; p++) {
      if (!excluded.has(p) && (inc || p < 40000 || p > 50000)) want.push(p);
    }
    const got: number[] = [];
    let lastEnd = -1;
    assert.ok(
      forEachPortRun(chunks, false, 0, [40000, 50000], 0, (first, last, tfirst) => {
        if (lastEnd >= 0) assert.ok(first > lastEnd + 1, `runs are maximal: ${lastEnd}, ${first}`);
        assert.ok(first <= last, `run ${first}-${last}`);
        assert.equal(tfirst, first);
        for (let p = first; p <= last; p++) got.push(p);
        lastEnd = last;
      }),
    );
    assert.deepEqual(got, want, `round ${round}`);
  }
});
