// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  Getopt,
  getoptAll,
  GetoptError,
  type LongOption,
  parseShortSpec,
} from "../../src/conf/getopt.ts";
import { findOption, modeMismatch, OPTIONS, OPTSTRING } from "../../src/conf/options.ts";

const LONG: LongOption[] = [
  { name: "debug", short: "d", arg: "none" },
  { name: "foreground", short: "f", arg: "none" },
  { name: "quiet", short: "q", arg: "none" },
  { name: "pcap", short: "p", arg: "required" },
  { name: "tcp-ports", short: "t", arg: "required" },
  { name: "color", arg: "optional" },
  { name: "no-tcp", arg: "none" },
  { name: "no-udp", arg: "none" },
  { name: "no-ra", arg: "none" },
  { name: "netns", arg: "required" },
  { name: "netns-only", arg: "none" },
];
const SPEC = "+dfqp:t:x::";

function run(args: string[]): { options: [string, string | null][]; operands: string[] } {
  const r = getoptAll("pasta", args, SPEC, LONG);
  return { options: r.options.map((o) => [o.key, o.arg]), operands: r.operands };
}

function fails(args: string[], message: string): void {
  assert.throws(() => getoptAll("pasta", args, SPEC, LONG), (e: unknown) => {
    assert.ok(e instanceof GetoptError);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("parseShortSpec() reads none, required and optional letters", () => {
  const m = parseShortSpec("+ab:c::d");
  assert.deepEqual([...m], [["a", "none"], ["b", "required"], ["c", "optional"], ["d", "none"]]);
});

Deno.test("getopt: short options alone, grouped, with attached and separate arguments", () => {
  assert.deepEqual(run(["-f", "-q"]).options, [["foreground", null], ["quiet", null]]);
  assert.deepEqual(run(["-fq"]).options, [["foreground", null], ["quiet", null]]);
  assert.deepEqual(run(["-t22"]).options, [["tcp-ports", "22"]]);
  assert.deepEqual(run(["-t", "22"]).options, [["tcp-ports", "22"]]);
  assert.deepEqual(run(["-ft22", "-dp", "x"]).options, [
    ["foreground", null],
    ["tcp-ports", "22"],
    ["debug", null],
    ["pcap", "x"],
  ]);
  assert.deepEqual(run(["-t", "-q"]).options, [["tcp-ports", "-q"]]);
});

Deno.test("getopt: a short letter without a long option is keyed by the letter", () => {
  assert.deepEqual(run(["-x"]).options, [["x", null]]);
  assert.deepEqual(run(["-xval"]).options, [["x", "val"]]);
  assert.deepEqual(run(["-x", "val"]), { options: [["x", null]], operands: ["val"] });
});

Deno.test("getopt: long options with = and with a separate argument", () => {
  assert.deepEqual(run(["--pcap=/tmp/a", "--pcap", "/tmp/b"]).options, [
    ["pcap", "/tmp/a"],
    ["pcap", "/tmp/b"],
  ]);
  assert.deepEqual(run(["--pcap="]).options, [["pcap", ""]]);
  assert.deepEqual(run(["--tcp-ports", "--debug"]).options, [["tcp-ports", "--debug"]]);
  assert.deepEqual(run(["--color=auto", "--color"]).options, [["color", "auto"], ["color", null]]);
  assert.deepEqual(run(["--color", "auto"]), { options: [["color", null]], operands: ["auto"] });
});

Deno.test("getopt: unambiguous prefixes and exact names win", () => {
  assert.deepEqual(run(["--foregr"]).options, [["foreground", null]]);
  assert.deepEqual(run(["--f"]).options, [["foreground", null]]);
  assert.deepEqual(run(["--netns", "x"]).options, [["netns", "x"]]);
  assert.deepEqual(run(["--netns-o"]).options, [["netns-only", null]]);
  assert.deepEqual(run(["--no-t"]).options, [["no-tcp", null]]);
});

Deno.test("getopt: stops at the first non-option, at -- and at a lone -", () => {
  assert.deepEqual(run(["-f", "sh", "-q"]), {
    options: [["foreground", null]],
    operands: ["sh", "-q"],
  });
  assert.deepEqual(run(["-f", "--", "-q"]), { options: [["foreground", null]], operands: ["-q"] });
  assert.deepEqual(run(["--", "--"]), { options: [], operands: ["--"] });
  assert.deepEqual(run(["-", "-f"]), { options: [], operands: ["-", "-f"] });
  assert.deepEqual(run([]), { options: [], operands: [] });
  assert.deepEqual(run(["1234"]), { options: [], operands: ["1234"] });
});

Deno.test("getopt: optind points at the first operand while scanning", () => {
  const g = new Getopt("pasta", ["-fq", "-t", "22", "cmd"], SPEC, LONG);
  assert.equal(g.next()?.key, "foreground");
  assert.equal(g.optind, 0);
  assert.equal(g.next()?.key, "quiet");
  assert.equal(g.optind, 1);
  assert.equal(g.next()?.arg, "22");
  assert.equal(g.optind, 3);
  assert.equal(g.next(), null);
  assert.equal(g.optind, 3);
  assert.equal(g.next(), null);
});

Deno.test("getopt: glibc's error messages", () => {
  fails(["--foo"], "pasta: unrecognized option '--foo'");
  fails(["--foo=bar"], "pasta: unrecognized option '--foo=bar'");
  fails(["--debugx"], "pasta: unrecognized option '--debugx'");
  fails(["--=x"], "pasta: unrecognized option '--=x'");
  fails(["-z"], "pasta: invalid option -- 'z'");
  fails(["-fz"], "pasta: invalid option -- 'z'");
  fails(["-:"], "pasta: invalid option -- ':'");
  fails(["-t"], "pasta: option requires an argument -- 't'");
  fails(["-ft"], "pasta: option requires an argument -- 't'");
  fails(["--pcap"], "pasta: option '--pcap' requires an argument");
  fails(["--pc"], "pasta: option '--pcap' requires an argument");
  fails(["--foreground=1"], "pasta: option '--foreground' doesn't allow an argument");
  fails(["--fore=1"], "pasta: option '--foreground' doesn't allow an argument");
  fails(
    ["--no"],
    "pasta: option '--no' is ambiguous; possibilities: '--no-tcp' '--no-udp' '--no-ra'",
  );
  fails(
    ["--net", "x"],
    "pasta: option '--net' is ambiguous; possibilities: '--netns' '--netns-only'",
  );
});

Deno.test("getopt: errors come in command-line order", () => {
  const g = new Getopt("passt", ["-f", "--bogus", "-z"], SPEC, LONG);
  assert.equal(g.next()?.key, "foreground");
  assert.throws(() => g.next(), /unrecognized option '--bogus'/);
  assert.throws(() => g.next(), /invalid option -- 'z'/);
});

Deno.test("option table: names are unique and short letters match the one option string", () => {
  const names = new Set<string>();
  for (const o of OPTIONS) {
    assert.ok(!names.has(o.name), o.name);
    names.add(o.name);
  }
  const spec = parseShortSpec(OPTSTRING);
  for (const o of OPTIONS) {
    if (o.short === undefined) continue;
    assert.equal(spec.get(o.short), o.arg, `-${o.short}`);
  }
});

Deno.test("option table: both modes scan every short option; aliases report the first name", () => {
  let r = getoptAll("pasta", ["-s", "/x", "-1", "-T", "22"], OPTSTRING, OPTIONS);
  assert.deepEqual(r.options.map((o) => o.key), ["socket", "one-off", "tcp-ns"]);
  r = getoptAll(
    "passt",
    ["--socket-path", "/x", "--sock=/y", "--socket-p", "/z"],
    OPTSTRING,
    OPTIONS,
  );
  assert.deepEqual(r.options.map((o) => [o.key, o.arg]), [
    ["socket", "/x"],
    ["socket", "/y"],
    ["socket", "/z"],
  ]);
  assert.throws(() => getoptAll("pasta", ["--foo"], OPTSTRING, OPTIONS), {
    message: "pasta: unrecognized option '--foo'",
  });
});

Deno.test("option table: the other mode's options get upstream's messages", () => {
  const msg = (name: string, mode: "passt" | "pasta"): string | null =>
    modeMismatch(findOption(name)!, mode);
  assert.equal(msg("socket", "pasta"), "-s is for passt / vhost-user mode only");
  assert.equal(msg("socket-path", "pasta"), "-s is for passt / vhost-user mode only");
  assert.equal(msg("tcp-ns", "passt"), "-T is for pasta mode only");
  assert.equal(msg("ns-ifname", "passt"), "-I is for pasta mode only");
  assert.equal(msg("one-off", "pasta"), "--one-off is for passt mode only");
  assert.equal(msg("netns", "passt"), "--netns is for pasta mode only");
  assert.equal(msg("netns", "pasta"), null);
  assert.equal(msg("mtu", "passt"), null);
});
