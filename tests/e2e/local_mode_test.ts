// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Upstream's local mode, end to end: in a network namespace with only `lo` up
 * and no route at all (an offline host, a CI sandbox), `pasta --config-net`
 * still gives the command a working namespace, 169.254.2.1/16 with gateway
 * 169.254.2.2 and IPv6 link-local with gateway fe80::1, and the gateway
 * reaches the host's loopback. The same script runs against upstream 2026's
 * pasta when it is built (see `tests/_helpers/upstream.ts`). With `lo` down,
 * ours says so in one line and exits 1 (upstream starts, and the gateway
 * mapping then can't work).
 *
 * @module
 */

import assert from "node:assert/strict";
import { freePort, have, isRoot, PASTA, prepareRootless, run } from "../_helpers/e2e.ts";
import { haveUpstream, UPSTREAM_PASTA, withoutBuildNoise } from "../_helpers/upstream.ts";

const canRun = isRoot() && have("unshare") && have("socat") && have("ip");

/** Shell words, single-quoted. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

/** A script for a fresh network namespace: loopback servers, then `pasta` running a client. */
function script(pasta: string[], p4: number, p6: number, loUp = true): string {
  // The link-local address is tentative until duplicate address detection
  // ends: connecting from it before then fails with EADDRNOTAVAIL.
  const dad = 'for i in $(seq 100); do [ -z "$(ip -6 addr show dev tap0 tentative)" ] && ' +
    "break; sleep 0.05; done";
  const client = `socat -u TCP:169.254.2.2:${p4} - && ${dad} && ` +
    `socat -u TCP:[fe80::1%tap0]:${p6} - && ` +
    "ip -o -4 addr show dev tap0 && ip -4 route show default";
  const wait = (port: number): string =>
    `for i in $(seq 100); do ss -Hltn "sport = :${port}" | grep -q . && break; sleep 0.05; done`;
  // The servers send their line and close at the end of their input. (They
  // were `socat -u TCP-LISTEN SYSTEM:'echo …'`, which closes only when
  // SIGCHLD interrupts its pselect(): socat 1.7.4 can miss a signal that
  // comes just before the call, and the case then hung until its timeout.)
  return [
    loUp ? "ip link set lo up" : "true",
    `echo reached-v4 | socat -u - TCP4-LISTEN:${p4},bind=127.0.0.1 &`,
    `echo reached-v6 | socat -u - TCP6-LISTEN:${p6},bind=[::1] &`,
    loUp ? `${wait(p4)}; ${wait(p6)}` : "true",
    `${pasta.map(q).join(" ")} --config-net -- sh -c ${q(client)}`,
    "rc=$?; kill %1 %2 2>/dev/null; exit $rc",
  ].join("\n");
}

const programs: [string, string[], boolean][] = [
  ["ours", [PASTA], true],
  // as root, upstream keeps root only with --runas 0 (as nobody it can't map IDs)
  ["upstream", [UPSTREAM_PASTA], haveUpstream()],
];

for (const [name, pasta, present] of programs) {
  for (const rootless of [false, true]) {
    const who = rootless ? "rootless" : "root";
    Deno.test({
      name:
        `local mode (${name}, ${who}): only lo up, no route: the command reaches the host's loopback`,
      ignore: !canRun || !present || (rootless && !prepareRootless()),
      async fn(): Promise<void> {
        const argv = name === "upstream" && !rootless ? [...pasta, "--runas", "0"] : pasta;
        const s = script(argv, freePort(), freePort());
        const cmd = rootless ? ["unshare", "-rn", "sh", "-c", s] : ["unshare", "-n", "sh", "-c", s];
        const r = await run(cmd, { rootless, timeoutMs: 60_000 });
        assert.equal(r.code, 0, withoutBuildNoise(r.stderr));
        assert.match(r.stdout, /reached-v4/);
        assert.match(r.stdout, /reached-v6/);
        assert.match(r.stdout, /inet 169\.254\.2\.1\/16 /);
        assert.match(r.stdout, /default via 169\.254\.2\.2 dev tap0/);
      },
    });
  }
}

Deno.test({
  name: "local mode: true exits 0 in a namespace with only lo up (ours and upstream, rootless)",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    for (const [name, pasta, present] of programs) {
      if (!present) continue;
      const s = `ip link set lo up; ${q(pasta[0]!)} --config-net -- true`;
      const r = await run(["unshare", "-rn", "sh", "-c", s], { rootless: true });
      assert.equal(r.code, 0, `${name}: ${withoutBuildNoise(r.stderr)}`);
    }
  },
});

Deno.test({
  name: "local mode with lo down: one line and exit 1 (ours; upstream starts anyway)",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    const r = await run(["unshare", "-rn", PASTA, "--config-net", "--", "true"], {
      rootless: true,
    });
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      'Loopback interface is down, local mode needs it: try "ip link set lo up"',
    ]);
    if (haveUpstream()) {
      const u = await run(["unshare", "-rn", UPSTREAM_PASTA, "--config-net", "--", "true"], {
        rootless: true,
      });
      assert.equal(u.code, 0, "upstream doesn't check: documented difference");
    }
  },
});
