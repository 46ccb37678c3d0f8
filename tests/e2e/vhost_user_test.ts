// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * passt --vhost-user against our own front end (`vu_frontend.py`: guest memory
 * in a memfd, the RX and TX virtqueues, kick and call eventfds): ARP through
 * the queues on upstream's passt (which proves the front end) and on ours,
 * in the background with --pid and its sandbox, rootless; malformed descriptor
 * chains, a bad memory table and abrupt disconnects, after which the back end
 * must still answer; --one-off. The full checks (DHCP, TCP both ways with
 * sha256, UDP, IPv6) over vhost-user are in `passt_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { haveUpstream, UPSTREAM_PASST } from "../_helpers/upstream.ts";
import {
  have,
  isRoot,
  PASST,
  prepareRootless,
  REPO,
  run,
  scratchDir,
  spawn,
} from "../_helpers/e2e.ts";
import { exists, sleep, waitFor } from "../_helpers/e2e.ts";

const FRONTEND = `${REPO}/tests/e2e/vu_frontend.py`;
/** passt answers ARP for any address but the guest's: its default gateway stand-in. */
const TARGET = "10.0.2.2";
const ARP_REPLY = /^arp-reply ([0-9a-f:]{17}) 10\.0\.2\.2$/m;

const noPython = !have("python3");
const noUpstream = !haveUpstream();

function tmpDir(): string {
  const dir = scratchDir("passt-vu-");
  return dir;
}

/** A passt in the foreground in vhost-user mode on `sock`. */
async function startPasst(
  bin: string,
  sock: string,
  args: string[] = [],
): Promise<{ child: Deno.ChildProcess; stop: () => Promise<string> }> {
  const child = spawn([bin, "-f", "--vhost-user", "-s", sock, ...args]);
  const output = child.output();
  const stop = async (): Promise<string> => {
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    return new TextDecoder().decode((await output).stderr);
  };
  if (!(await waitFor(() => exists(sock), 20_000))) {
    assert.fail(`passt did not bind ${sock}: ${await stop()}`);
  }
  return { child, stop };
}

/**
 * Runs `body` against a passt (`bin`, `args`) in vhost-user mode on a fresh socket; returns
 * passt's log, once it stopped and its directory is gone.
 */
async function withPasst(
  bin: string,
  args: string[],
  body: (sock: string, child: Deno.ChildProcess) => Promise<void>,
): Promise<string> {
  const dir = tmpDir();
  const sock = `${dir}/s`;
  const p = await startPasst(bin, sock, args);
  let log = "";
  try {
    await body(sock, p.child);
  } finally {
    log = await p.stop();
    Deno.removeSync(dir, { recursive: true });
  }
  return log;
}

/** Runs the front end with `args`; returns its status and output. */
async function frontend(
  args: string[],
  rootless = false,
): Promise<{ code: number; stdout: string; out: string }> {
  const r = await run(["python3", FRONTEND, ...args], { rootless, timeoutMs: 60_000 });
  return { ...r, out: r.stdout + r.stderr };
}

for (const [who, bin] of [["upstream's", UPSTREAM_PASST], ["our", PASST]] as const) {
  Deno.test({
    name:
      `vhost-user: ARP through the virtqueues on ${who} passt, with and without indirect chains`,
    ignore: noPython || (bin === UPSTREAM_PASST && noUpstream),
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(): Promise<void> {
      const log = await withPasst(bin, [], async (sock) => {
        for (const flags of [[], ["--indirect", "--split"], ["--no-event-idx", "--no-mrg"]]) {
          const r = await frontend([...flags, "arp", sock, TARGET]);
          assert.equal(r.code, 0, `${flags.join(" ")}: ${r.out}`);
          assert.match(r.stdout, ARP_REPLY);
        }
      });
      if (bin === PASST) assert.match(log, /-netdev vhost-user,id=netdev0,chardev=chr0/);
    },
  });
}

Deno.test({
  name: "vhost-user: malformed chains, a broken ring and abrupt disconnects are survived",
  ignore: noPython,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(): Promise<void> {
    const log = await withPasst(PASST, ["-d"], async (sock, child) => {
      const r = await frontend(["malformed", sock, TARGET]);
      assert.equal(r.code, 0, r.out);
      // Two bad receive buffers came back empty, the next one held the reply
      assert.match(r.stdout, /^rx-dropped 2$/m);
      assert.match(r.stdout, /^survived$/m);
      assert.equal(child.pid > 0 && exists(`/proc/${child.pid}`), true, "passt died");
    });
    assert.match(log, /dropped malformed descriptor chains/);
    assert.match(log, /TX queue broken by the guest/);
    assert.match(log, /kick descriptor of queue 1 unusable, dropped/);
  },
});

Deno.test({
  name: "vhost-user: memory tables larger than their file or short of descriptors are refused",
  ignore: noPython,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(): Promise<void> {
    const log = await withPasst(PASST, [], async (sock) => {
      const r = await frontend(["badmem", sock, TARGET]);
      assert.equal(r.code, 0, r.out);
      assert.equal(r.stdout.match(/^refused /gm)?.length, 2, r.out);
      assert.match(r.stdout, ARP_REPLY);
    });
    assert.match(log, /memory table refused/);
  },
});

Deno.test({
  name: "vhost-user: --one-off exits 0 when the front end goes away",
  ignore: noPython,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(): Promise<void> {
    await withPasst(PASST, ["--one-off"], async (sock, child) => {
      const r = await frontend(["arp", sock, TARGET]);
      assert.equal(r.code, 0, r.out);
      const status = await Promise.race([child.status, sleep(10_000).then(() => null)]);
      assert.ok(status, "passt --one-off still running after its front end left");
      assert.equal(status.code, 0);
    });
  },
});

Deno.test({
  name: "vhost-user: pasta --vhost-user is passt's vhost-user mode, as upstream's conf_mode()",
  ignore: noPython,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(): Promise<void> {
    await withPasst(`${REPO}/pasta`, ["--one-off"], async (sock) => {
      const r = await frontend(["arp", sock, TARGET]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.stdout, ARP_REPLY);
    });
  },
});

Deno.test({
  name: "vhost-user: in the background with --pid, rootless, sandboxed in every thread",
  ignore: noPython || !isRoot() || !prepareRootless(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(): Promise<void> {
    const dir = tmpDir();
    const sock = `${dir}/s`;
    const pidFile = `${dir}/pid`;
    const start = await run([PASST, "--vhost-user", "-s", sock, "-P", pidFile], {
      rootless: true,
    });
    assert.equal(start.code, 0, start.stderr);
    const pid = Number(Deno.readTextFileSync(pidFile).trim());
    try {
      for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
        const st = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/status`);
        assert.match(st, /^Seccomp:\s+2$/m, `thread ${t.name}`);
      }
      const r = await frontend(["arp", sock, TARGET], true);
      assert.equal(r.code, 0, r.out);
      assert.match(r.stdout, ARP_REPLY);
      // and again: the daemon accepts the next front end
      const again = await frontend(["--indirect", "arp", sock, TARGET], true);
      assert.equal(again.code, 0, again.out);
    } finally {
      Deno.kill(pid, "SIGTERM");
      await waitFor(() => !exists(`/proc/${pid}`), 5000);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
