// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Every way to fail ends the same: one line on standard error in upstream's
 * style, status 1, and never a stack trace. These tests walk the failure
 * paths a user or a caller can hit (options, the native library, files,
 * permissions, namespaces, netlink, the daemon's set-up), as root and as an
 * unprivileged user, and check the exact line and that nothing else printed
 * looks like a stack frame.
 *
 * @module
 */

import assert from "node:assert/strict";
import { have, isRoot, PASST, PASTA, prepareRootless, run } from "../_helpers/e2e.ts";

const canRun = isRoot() && have("unshare") && have("ip");

/** Lines a runtime prints for an uncaught error, which must never reach the user. */
const STACK = [/^\s+at /, /Uncaught/, /Stack backtrace/, /^\s*\d+: <unknown>/, /\.ts:\d+:\d+/];

/** Lines ours may print before the error, as upstream does. */
const BENIGN = [/^Started as root, will change to nobody\.$/];

interface Case {
  what: string;
  argv: string[];
  line: string | RegExp;
  rootless?: boolean;
  env?: Record<string, string>;
}

async function check(c: Case): Promise<void> {
  const r = await run(c.argv, {
    rootless: c.rootless ?? false,
    timeoutMs: 60_000,
    ...(c.env ? { env: c.env } : {}),
  });
  const out = (r.stdout + r.stderr).split("\n").filter((l) => l !== "");
  for (const l of out) {
    for (const re of STACK) assert.doesNotMatch(l, re, `${c.what}: stack frame printed`);
  }
  assert.equal(r.code, 1, `${c.what}: ${r.stderr}`);
  const lines = out.filter((l) => !BENIGN.some((re) => re.test(l)));
  assert.equal(lines.length, 1, `${c.what}: one line, got ${JSON.stringify(out)}`);
  if (typeof c.line === "string") assert.equal(lines[0], c.line, c.what);
  else assert.match(lines[0]!, c.line, c.what);
}

function cases(rootless: boolean): Case[] {
  const list: Case[] = [
    {
      what: "option",
      argv: [PASTA, "--foo"],
      line: "pasta: unrecognized option '--foo'",
    },
    {
      what: "option of the other mode",
      argv: [PASST, "-T", "22"],
      line: "-T is for pasta mode only",
    },
    {
      what: "native library",
      argv: [PASTA, "--config-net", "--", "true"],
      env: { PASST_FFI_LIB: "/nonexistent/libpasst_ffi.so" },
      line: "Cannot load native library /nonexistent/libpasst_ffi.so: " +
        'cannot open shared object file: No such file or directory; build it with "deno task build"',
    },
    {
      what: "PID file",
      argv: [PASST, "-P", "/nonexistent/pid"],
      line: "Couldn't open PID file /nonexistent/pid: No such file or directory",
    },
    {
      what: "PID file, pasta spawning a command",
      argv: [PASTA, "-P", "/nonexistent/pid", "--config-net", "--", "true"],
      line: "Couldn't open PID file /nonexistent/pid: No such file or directory",
    },
    {
      what: "log file",
      argv: [PASST, "-f", "-l", "/nonexistent/log"],
      line: "Couldn't open log file /nonexistent/log: No such file or directory",
    },
    {
      what: "namespace",
      argv: [PASTA, "--netns", "/nonexistent/ns"],
      line: "Couldn't open network namespace /nonexistent/ns: No such file or directory",
    },
    {
      what: "socket directory",
      argv: [PASST, "-s", "/nonexistent/passt.socket"],
      line:
        "Cannot bind UNIX domain socket at /nonexistent/passt.socket: No such file or directory",
    },
    {
      what: "netlink: local mode with lo down",
      argv: ["unshare", rootless ? "-rn" : "-n", PASTA, "--config-net", "--", "true"],
      line: 'Loopback interface is down, local mode needs it: try "ip link set lo up"',
    },
    {
      what: "interface",
      argv: [PASST, "-i", "nosuch0"],
      line: "Invalid interface name nosuch0: No such device",
    },
  ];
  if (rootless) {
    list.push(
      {
        what: "permissions: socket in root's directory",
        argv: [PASST, "-s", "/root/passt.socket"],
        line: "Cannot bind UNIX domain socket at /root/passt.socket: Permission denied",
      },
      {
        what: "permissions: another user's namespaces",
        argv: [PASTA, "--userns", "/proc/1/ns/user", "--netns", "/proc/1/ns/net"],
        line: "Couldn't open user namespace /proc/1/ns/user: Permission denied",
      },
      {
        what: "permissions: another user's network namespace",
        argv: [PASTA, "--netns-only", "--netns", "/proc/1/ns/net"],
        line: "Couldn't open network namespace /proc/1/ns/net: Permission denied",
      },
    );
  }
  return list.map((c) => ({ ...c, rootless }));
}

for (const rootless of [false, true]) {
  Deno.test({
    name: `failures (${rootless ? "rootless" : "root"}): one line, status 1, no stack trace`,
    ignore: !canRun || (rootless && !prepareRootless()),
    async fn(): Promise<void> {
      for (const c of cases(rootless)) await check(c);
    },
  });
}

Deno.test({
  name: "failures (rootless): a sandbox the kernel refuses is one line too",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    // root's named namespace: readable, but an unprivileged daemon can't
    // create its mount namespace to stay in the caller's user namespace
    const name = `flrs${Deno.pid}`;
    await run(["ip", "netns", "add", name]);
    try {
      await check({
        what: "sandbox",
        argv: [PASTA, "--netns", name],
        rootless: true,
        line: /^Couldn't start sandboxed daemon \(unshare\): Operation not permitted$/,
      });
    } finally {
      await run(["ip", "netns", "del", name]);
    }
  },
});

Deno.test({
  name: "failures: the daemon's set-up error (port in use) reaches the caller as one line",
  ignore: !canRun,
  async fn(): Promise<void> {
    const name = `flr${Deno.pid}`;
    await run(["ip", "netns", "add", name]);
    const busy = Deno.listen({ hostname: "::", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    try {
      await check({
        what: "port in use",
        argv: [PASTA, "--config-net", "--netns", name, "-t", String(port)],
        line: new RegExp(`^Listen failed for HOST TCP port \\*/${port}: Address already in use$`),
      });
    } finally {
      busy.close();
      await run(["ip", "netns", "del", name]);
    }
  },
});
