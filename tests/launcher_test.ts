// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * The launcher's own reading of the options (`early()` in the `passt`
 * script), which decides the sandbox before the runtime starts: run in `sh`
 * for each command line, it must either leave the decision to the runtime
 * (the long way) or pick exactly the sandbox the runtime plans for the same
 * options. Its option names must be the option table's, with the same
 * arguments.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Mode } from "../src/context.ts";
import { type ConfOptions, parseConf } from "../src/conf/conf.ts";
import { OPTIONS } from "../src/conf/options.ts";
import { earlyMatches, planSandbox } from "../src/isolation.ts";
import { podmanTail, ROOTLESSKIT_ARGS } from "./_helpers/callers.ts";
import { testHost } from "./_helpers/host.ts";

const LAUNCHER = Deno.readTextFileSync(new URL("../passt", import.meta.url));
/** The library, beside passt-helper, as the launcher finds them (deno task build). */
const LIB = new URL("../native/build/libpasst_ffi.so", import.meta.url).pathname;

/** The constants and the early() function of the launcher, as shell text. */
const EARLY = (() => {
  const consts = LAUNCHER.match(/^ns_base=.*$/m);
  const start = LAUNCHER.indexOf("early() {");
  const end = LAUNCHER.indexOf("\n}\n", start);
  assert.ok(consts && start >= 0 && end > start, "the launcher has early()");
  return `${consts[0]}\n${LAUNCHER.slice(start, end + 3)}`;
})();

/** The option patterns of early()'s `case $a in` and what each arm does. */
const ARMS = (() => {
  const body = EARLY.slice(EARLY.indexOf("case $a in") + 10, EARLY.indexOf("\t\tesac\n\tdone"));
  return body.replace(/\\\n/g, " ").split(";;").map((arm) => {
    const i = arm.indexOf(")");
    return {
      patterns: arm.slice(0, i).split("|").map((p) => p.trim()).filter((p) => p),
      action: arm.slice(i + 1).trim(),
    };
  }).filter((a) => a.patterns.length);
})();

type Decision =
  | { how: string; flags: number; join: string; target: string; pidfile: string }
  | "long";

/** What early() decides for `mode` with `args`, as user `euid`, with the library `lib`. */
function decide(mode: string, args: string[], euid = 1000, lib = LIB): Decision {
  const script = `name=$1 euid=$2 lib=$3 deno=/bin/sh; shift 3\n${EARLY}\n` +
    `if early "$@"; then printf '%s\\n' "$how" "$flags" "$join" "$target" "$pidfile"; ` +
    `else echo long; fi`;
  const out = new Deno.Command("sh", {
    args: ["-c", script, "sh", mode, String(euid), lib, ...args],
    stdout: "piped",
  }).outputSync();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  if (lines[0] === "long") return "long";
  return {
    how: lines[0]!,
    flags: Number(lines[1]),
    join: lines[2]!,
    target: lines[3]!,
    pidfile: lines[4]!,
  };
}

const SYS: ConfOptions = {
  resolvText: "nameserver 192.0.2.53\n",
  passwd: "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
  group: "root:x:0:\nnogroup:x:65534:\n",
  euid: 1000,
  egid: 1000,
  uidMap: "         0          0 4294967295\n",
  portRange: "32768\t60999\n",
};

/** Asserts that early()'s sandbox for `args` is the one the runtime plans. */
function assertPlanned(mode: Mode, args: string[], how: "sandbox" | "daemon"): void {
  const d = decide(mode, args);
  assert.notEqual(d, "long", `${mode} ${args.join(" ")}: the launcher's single start`);
  if (d === "long") return;
  assert.equal(d.how, how, `${mode} ${args.join(" ")}`);
  const r = parseConf(mode, args, testHost(), SYS);
  assert.equal(r.kind, "conf");
  if (r.kind !== "conf") return;
  const plan = planSandbox(r.conf, { euid: 1000, egid: 1000 });
  const early = {
    kind: "early" as const,
    flags: d.flags,
    caps: plan.keepCaps,
    userns: d.join || null,
  };
  assert.ok(
    earlyMatches(early, plan, how === "sandbox"),
    `${mode} ${args.join(" ")}: launcher ${JSON.stringify(d)} against ${JSON.stringify(plan)}`,
  );
  if (how === "daemon") {
    assert.equal(d.pidfile, r.conf.pidFile ?? "", "the PID file it writes");
    assert.equal(d.target, r.conf.netns ?? "", "the target it checks first");
  }
}

Deno.test("launcher: pasta spawning its command starts in the sandbox the runtime plans", () => {
  for (
    const args of [
      [],
      ["--config-net"],
      ["-q", "-f", "--config-net", "--", "true"],
      ["--config-net", "-t", "8080", "-u", "8080:80", "-P", "/tmp/p", "--", "sh", "-c", "x"],
      ["-t8080", "--tcp-ports=9000", "--mtu", "1500", "sh"],
      ["--config-net", "--", "123", "456"],
      ["-d", "--trace", "-I", "tap0", "--ns-mac-addr", "02:00:00:00:00:01", "ls", "-l"],
    ]
  ) {
    assertPlanned("pasta", args, "sandbox");
  }
});

Deno.test("launcher: pasta with a target starts the daemon the runtime plans", () => {
  for (
    const args of [
      ["-q", "--config-net", "-P", "/tmp/d.pid", "1234"],
      ["--config-net", "--", "1234"],
      [...ROOTLESSKIT_ARGS, "--tcp-ports=auto", "--udp-ports=auto", "4321"],
      [...ROOTLESSKIT_ARGS, "--userns=/proc/77/ns/user", "--netns=/proc/77/ns/net"],
      ["--netns", "/proc/55/ns/net", "--pid", "/tmp/p"],
      ["--netns", "/run/user/1000/netns/netns-abc"],
      ["--netns", "podman-ns", "--userns", "/proc/9/ns/user"],
      // Podman's rootless-netns and per-container command lines (pasta_linux.go)
      [
        "--config-net",
        "--pid",
        "/run/user/1000/netns/pasta.pid",
        "-t",
        "none",
        ...podmanTail("/run/user/1000/netns/rootless-netns"),
      ],
      ["--config-net", "-t", "8080:80", ...podmanTail("/run/user/1000/netns/netns-abc")],
      ["--config-net", "-t", "8080-8082:9000-9002", "--netns", "/run/netns/x", "-c", "/tmp/s"],
    ]
  ) {
    assertPlanned("pasta", args, "daemon");
  }
});

Deno.test("launcher: passt starts in the sandbox or as the daemon the runtime plans", () => {
  assertPlanned("passt", [], "daemon");
  assertPlanned(
    "passt",
    ["--one-off", "--socket", "/tmp/s", "--pid", "/tmp/p", "-t", "22"],
    "daemon",
  );
  assertPlanned("passt", ["-f", "-s", "/tmp/s"], "sandbox");
  assertPlanned("passt", ["--vhost-user", "--socket-path=/tmp/vu", "-q"], "daemon");
});

Deno.test("launcher: what it can't tell for sure goes the long way", () => {
  for (
    const [mode, args] of [
      ["pasta", ["--runas", "1000", "--", "true"]],
      ["pasta", ["--netns-only", "--netns", "x"]],
      ["pasta", ["-h"]],
      ["pasta", ["--version"]],
      ["pasta", ["--print-capabilities"]],
      ["pasta", ["--config-ne", "--", "true"]], // abbreviated
      ["pasta", ["-qf", "--", "true"]], // a cluster
      ["pasta", ["-f", "1234"]], // a target in the foreground
      ["pasta", ["-f", "--netns", "x"]],
      ["pasta", ["0123"]],
      ["pasta", ["12345678901"]],
      ["pasta", [""]],
      ["pasta", ["--netns", "x", "1234"]],
      ["pasta", ["--netns", "x", "--netns", "y"]],
      ["pasta", ["-P", "a", "-P", "b", "--", "true"]],
      ["pasta", ["--userns", "/proc/1/ns/user", "--", "true"]],
      ["pasta", ["-t"]], // its argument is missing
      ["passt", ["extra"]],
      ["passt", ["--netns", "x"]],
      ["passt", ["--chroot-fallback"]],
      ["qrap", ["5", "qemu"]],
      ["slirp4netns", ["123", "tap0"]],
    ] as const
  ) {
    assert.equal(decide(mode, [...args]), "long", `${mode} ${args.join(" ")}`);
  }
  assert.equal(decide("pasta", ["--", "true"], 1000, "/nonexistent/lib.so"), "long", "no helper");
  // Root becomes nobody in the initial user namespace: only the runtime knows who nobody is
  if (
    Deno.readTextFileSync("/proc/self/uid_map").trim().split(/\s+/).join(" ") === "0 0 4294967295"
  ) {
    assert.equal(decide("pasta", ["--", "true"], 0), "long", "root");
  }
});

Deno.test("launcher: its option names are the table's, with the same arguments", () => {
  const seen = new Set<string>();
  const check = (name: string, arg: "none" | "required", pattern: string): void => {
    const spec = name.length === 1
      ? OPTIONS.find((o) => o.short === name)
      : OPTIONS.find((o) => o.name === name);
    assert.ok(spec, `${pattern}: no such option`);
    assert.equal(spec.arg, arg, `${pattern}: argument`);
    seen.add(spec.name);
  };
  for (const { patterns, action } of ARMS) {
    const takesArg = /^want=/.test(action);
    for (const p of patterns) {
      let m;
      if ((m = /^--([a-z0-9-]+)=\*$/.exec(p))) check(m[1]!, "required", p);
      else if ((m = /^--([a-z0-9-]+)$/.exec(p))) check(m[1]!, takesArg ? "required" : "none", p);
      else if ((m = /^-\[([A-Za-z0-9]+)\](\?\*)?$/.exec(p))) {
        for (const c of m[1]!) check(c, m[2] || takesArg ? "required" : "none", p);
      } else if ((m = /^-([A-Za-z0-9])(\?\*)?$/.exec(p))) {
        check(m[1]!, m[2] || takesArg ? "required" : "none", p);
      } else {
        assert.ok(["--", "-?*", "*"].includes(p), `unexpected pattern ${p}`);
      }
    }
  }
  // Every option is either read by the launcher or, knowingly, left to the runtime
  const longWay = [
    "runas",
    "netns-only",
    "chroot-fallback",
    "help",
    "version",
    "print-capabilities",
  ];
  for (const o of OPTIONS) {
    assert.ok(
      seen.has(o.name) !== longWay.includes(o.name),
      `--${o.name}: ${
        seen.has(o.name) ? "read by the launcher, yet listed" : "unknown to the launcher"
      }`,
    );
  }
});
