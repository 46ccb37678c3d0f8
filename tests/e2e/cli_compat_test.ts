// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * The command line, side by side with upstream 2026: for each case, our
 * program and upstream's get the same arguments (as the unprivileged user,
 * so no "started as root" line), and must agree on the exit status and on
 * the first line of standard error, or of standard output for -h. Accepted
 * command lines end in `--version`, which exits once everything before it is
 * parsed, as RootlessKit's probes rely on.
 *
 * Known, deliberate differences, normalised here: upstream prefixes getopt's
 * messages with its full argv[0] (ours with the program name), prints its
 * usage after a getopt error (ours: the one line), and says which AVX2 build
 * it runs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOTLESSKIT_ARGS } from "../_helpers/callers.ts";
import { isRoot, PASST, PASTA, prepareRootless, run } from "../_helpers/e2e.ts";
import {
  haveUpstream,
  UPSTREAM_PASST,
  UPSTREAM_PASTA,
  withoutBuildNoise,
} from "../_helpers/upstream.ts";

const canRun = isRoot() && haveUpstream() && prepareRootless();

type Mode = "passt" | "pasta";
const LONG = "h".repeat(254);

/** [mode, arguments, expected status] */
const CASES: [Mode, string[], number][] = [
  // -h on stdout, status 0
  ["pasta", ["-h"], 0],
  ["passt", ["--help"], 0],
  ["passt", ["--print-capabilities"], 0],
  // the other mode's options, with one option string for both
  ["pasta", ["-s", "/x"], 1],
  ["pasta", ["--socket-path", "/x"], 1],
  ["passt", ["-T", "22"], 1],
  ["passt", ["-U", "22"], 1],
  ["passt", ["-I", "tap0"], 1],
  ["pasta", ["-1"], 1],
  ["pasta", ["--one-off"], 1],
  ["passt", ["--netns", "x"], 1],
  ["passt", ["--config-net"], 1],
  ["passt", ["--no-copy-routes"], 1],
  ["pasta", ["--no-dhcp-dns"], 1],
  // removed and unknown options
  ["pasta", ["--nsrun-dir", "/x"], 1],
  ["pasta", ["--foo"], 1],
  ["passt", ["-z"], 1],
  // values
  ["passt", ["-m", "70000"], 1],
  ["passt", ["-m", "x"], 1],
  ["passt", ["-a", "10.0.2.100/33"], 1],
  ["passt", ["-a", "127.0.0.1"], 1],
  ["passt", ["-a", "10.0.2.100/24", "-n", "24"], 1],
  ["passt", ["-n", "24", "-a", "10.0.2.100/24"], 1],
  ["passt", ["-n", "33"], 1],
  ["passt", ["-M", "52:54:00"], 1],
  ["passt", ["-g", "127.0.0.1"], 1],
  ["passt", ["--dns-forward", "127.0.0.1"], 1],
  ["passt", ["-D", "bogus"], 1],
  ["passt", ["-H", LONG], 1],
  ["passt", ["--fqdn", LONG], 1],
  ["passt", ["--stats", "1"], 1],
  ["passt", ["--log-size", "100"], 1],
  ["passt", ["-F", "x"], 1],
  ["pasta", ["--no-copy-addrs"], 1],
  ["pasta", ["--config-net", "--no-copy-routes", "--no-copy-addrs", "--version"], 0],
  // repeated and conflicting: the last one wins, and --stderr only warns
  ["pasta", ["-e", "--version"], 0],
  ["pasta", ["-d", "-q", "-d", "--trace", "-q", "--version"], 0],
  ["pasta", ["--mtu", "1500", "--mtu", "9000", "-m", "60", "--version"], 0],
  ["pasta", ["-4", "-6", "-4", "--version"], 0],
  ["passt", ["-P", "/a", "-P", "/b", "-l", "/a", "-l", "/b", "--version"], 0],
  ["passt", ["-a", "10.0.2.1", "-a", "10.0.2.2/24", "-a", "2001:db8::1/64", "--version"], 0],
  ["passt", ["-s", "/a", "-F", "3", "-s", "/b", "--socket-path=/c", "--version"], 0],
  ["passt", ["-D", "none", "-D", "192.0.2.1", "-S", "none", "-S", "a.example", "--version"], 0],
  ["passt", ["-H", "box", "--fqdn", "box.example.org", "--chroot-fallback", "--version"], 0],
  ["passt", ["-f", "--stats", "5", "--version"], 0],
  ["pasta", ["--userns", "/u", "--netns-only", "--version"], 0],
  // the translation options' probes (Podman's and RootlessKit's)
  ["pasta", ["--map-guest-addr", "169.254.1.2", "--map-host-loopback", "none", "--version"], 0],
  ["pasta", ["--host-lo-to-ns-lo", "--version"], 0],
  ["passt", ["--host-lo-to-ns-lo"], 1],
  // RootlessKit's network-driver options, probed with --version
  [
    "pasta",
    [
      ...ROOTLESSKIT_ARGS,
      "--version",
    ],
    0,
  ],
];

/** What a run says, made comparable: status, and the first line that matters. */
async function say(
  prog: string,
  args: string[],
): Promise<{ code: number; line: string; out: string }> {
  const r = await run([prog, ...args], { rootless: true });
  const err = withoutBuildNoise(r.stderr).split("\n").filter((l) => l !== "");
  // getopt's prefix is argv[0]: upstream's full path, our program name
  const line = (err[0] ?? "").replace(/^\/\S*\/(pasta|passt): /, "$1: ");
  return { code: r.code, line, out: r.stdout.split("\n")[0] ?? "" };
}

Deno.test({
  name: "command line: ours and upstream 2026 agree on status and message, case by case",
  ignore: !canRun,
  async fn(): Promise<void> {
    for (const [mode, args, code] of CASES) {
      const what = `${mode} ${args.join(" ").slice(0, 80)}`;
      const ours = await say(mode === "pasta" ? PASTA : PASST, args);
      const theirs = await say(mode === "pasta" ? UPSTREAM_PASTA : UPSTREAM_PASST, args);
      assert.equal(theirs.code, code, `upstream: ${what}: ${theirs.line}`);
      assert.equal(ours.code, code, `ours: ${what}: ${ours.line}`);
      assert.equal(ours.line, theirs.line, what);
      if (args.includes("-h") || args.includes("--help")) {
        assert.equal(ours.out, theirs.out.replace(/^Usage: \/\S*\//, "Usage: "), what);
      }
    }
  },
});
