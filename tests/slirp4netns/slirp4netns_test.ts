// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { parseSlirpArgs, pastaArgs, type SlirpOptions } from "../../src/slirp4netns/slirp4netns.ts";
import { SlirpApiState } from "../../src/slirp4netns/api.ts";
import { NO_FORWARDS } from "../_helpers/e2e.ts";
import { type Forwarder, FwdError } from "../../src/fwd/fwd.ts";
import type { FwdRule } from "../../src/fwd/fwd_rule.ts";

function opts(argv: string[]): SlirpOptions {
  const p = parseSlirpArgs("slirp4netns", argv, "0");
  if (p.kind !== "run") throw new Error(p.stderr);
  return p.opts;
}

Deno.test("slirp4netns: Podman 4.3.1's command line", () => {
  const o = opts([
    "--disable-host-loopback",
    "--mtu=65520",
    "--enable-sandbox",
    "--enable-seccomp",
    "--enable-ipv6",
    "-c",
    "-e",
    "3",
    "-r",
    "4",
    "--api-socket",
    "/run/user/1000/slirp.sock",
    "--cidr=10.0.3.0/24",
    "--netns-type=path",
    "/proc/self/ns/net",
    "tap0",
  ]);
  assert.equal(o.exitFd, 3);
  assert.equal(o.readyFd, 4);
  assert.deepEqual(pastaArgs(o), [
    "--foreground",
    "--ns-ifname",
    "tap0",
    "--mtu",
    "65520",
    "--address",
    "10.0.3.100",
    "--netmask",
    "24",
    "--gateway",
    "10.0.3.2",
    ...NO_FORWARDS,
    "--map-host-loopback",
    "none",
    "--dns-forward",
    "10.0.3.3",
    "--address",
    "fd00::100",
    "--gateway",
    "fd00::2",
    "--dns-forward",
    "fd00::3",
    "--config-net",
    "--netns",
    "/proc/self/ns/net",
  ]);
});

Deno.test("slirp4netns: RootlessKit 1.1.0's command line (no -c, PID operand)", () => {
  const a = pastaArgs(
    opts(["--mtu", "65520", "-r", "5", "--api-socket", "/tmp/s.sock", "1234", "tap0"]),
  );
  assert.ok(!a.includes("--config-net"));
  assert.ok(a.includes("--ipv4-only"));
  assert.deepEqual(
    a.slice(a.indexOf("--map-host-loopback"), a.indexOf("--map-host-loopback") + 4),
    [
      "--map-host-loopback",
      "10.0.2.2",
      "--dns-forward",
      "10.0.2.3",
    ],
  );
  assert.equal(a[a.length - 1], "1234");
});

Deno.test("slirp4netns: bad command lines exit 1 with slirp4netns's messages", () => {
  const bad = (argv: string[], msg: string): void => {
    const p = parseSlirpArgs("slirp4netns", argv, "0");
    assert.equal(p.kind, "exit");
    if (p.kind === "exit") {
      assert.equal(p.status, 1);
      assert.equal(p.stderr, msg);
      assert.match(p.stdout, /^Usage: slirp4netns /);
    }
  };
  bad(["1"], "");
  bad(["-e", "-1", "1", "tap0"], "exit-fd must be a non-negative integer\n");
  bad(["--mtu", "0", "1", "tap0"], "MTU must be a positive integer (< 65522)\n");
  bad(["--cidr", "10.0.2.0", "1", "tap0"], "invalid CIDR: 10.0.2.0\n");
  bad(
    ["--macaddress", "02:00:00:00:00:01", "1", "tap0"],
    "--macaddr cannot be specified when --configure or --target-type=bess is not specified\n",
  );
  bad(["--target-type=vde", "1", "tap0"], '--target-type must be either "netns" or "bess"\n');
  bad(["--bogus", "1", "tap0"], "slirp4netns: unrecognized option '--bogus'\n");
});

/** A Forwarder stand-in: one table, ports in `busy` can't be bound. */
function fakeForwarder(busy: Set<number>): Forwarder {
  let host: FwdRule[] = [];
  return {
    rules: () => [...host],
    replace: (_pif: string, rules: readonly FwdRule[]) => {
      for (const r of rules) if (busy.has(r.first)) throw new FwdError(`port ${r.first} busy`);
      host = [...rules];
    },
  } as unknown as Forwarder;
}

Deno.test("slirp4netns API: add, list, remove, ids never reused, errors change nothing", () => {
  const fwd = fakeForwarder(new Set([9999]));
  const api = new SlirpApiState(fwd, 0x0a000264);
  const add = (a: string): string =>
    api.handle(`{"execute":"add_hostfwd","arguments":{"proto":"tcp",${a}}}`);
  assert.equal(add(`"host_port":8080,"guest_port":80`), '{"return":{"id":1}}');
  assert.equal(
    add(`"host_port":9999,"guest_port":80`),
    '{"error":{"desc":"bad request: add_hostfwd: slirp_add_hostfwd failed"}}',
  );
  assert.equal(fwd.rules("host").length, 1);
  assert.equal(
    add(`"host_addr":"127.0.0.1","host_port":8081,"guest_addr":"10.0.2.5","guest_port":81`),
    '{"return":{"id":2}}',
  );
  assert.equal(
    api.handle('{"execute":"list_hostfwd"}'),
    '{"entries":[{"id":1,"proto":"tcp","host_addr":"0.0.0.0","host_port":8080,"guest_addr":"10.0.2.100","guest_port":80},' +
      '{"id":2,"proto":"tcp","host_addr":"127.0.0.1","host_port":8081,"guest_addr":"10.0.2.5","guest_port":81}]}',
  );
  const r2 = fwd.rules("host")[1]!;
  assert.deepEqual([...r2.addr], [0, 0, 0xffff, 0x7f000001]);
  assert.deepEqual([...r2.taddr], [0, 0, 0xffff, 0x0a000205]);
  assert.deepEqual([...fwd.rules("host")[0]!.taddr], [0, 0, 0, 0]);
  assert.equal(api.handle('{"execute":"remove_hostfwd","arguments":{"id":1}}'), '{"return":{}}');
  assert.equal(fwd.rules("host").length, 1);
  assert.equal(add(`"host_port":8080,"guest_port":80`), '{"return":{"id":3}}');
  for (
    const [req, desc] of [
      ["", "cannot parse JSON"],
      ["{", "cannot parse JSON"],
      ["42", "json_object() failed"],
      ['{"execute":1}', "no execute found"],
      ['{"execute":"add_hostfwd"}', "add_hostfwd: bad arguments.proto"],
      [
        '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_port":70000,"guest_port":1}}',
        "add_hostfwd: slirp_add_hostfwd failed",
      ],
      [
        '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_port":1,"guest_addr":"x","guest_port":1}}',
        "add_hostfwd: bad arguments.guest_addr",
      ],
      [
        '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_port":1}}',
        "add_hostfwd: bad arguments.guest_port",
      ],
      ['{"execute":"remove_hostfwd","arguments":{"id":"1"}}', "remove_hostfwd: bad arguments.id"],
      ['{"execute":"remove_hostfwd"}', "remove_hostfwd: bad arguments.id"],
    ]
  ) {
    assert.equal(api.handle(req!), `{"error":{"desc":"bad request: ${desc}"}}`, req);
  }
  assert.equal(fwd.rules("host").length, 2);
});
