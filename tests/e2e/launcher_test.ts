// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of the launcher's single start: pasta spawning a command,
 * as an unprivileged user, with options that can't ask for another sandbox,
 * is started by the launcher inside its sandbox, and the runtime starts once.
 * What the user sees must not differ from the long way (the runtime reads the
 * options, then starts again in the sandbox), which an abbreviated option name
 * takes: same output, same PID file, same errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  alive,
  exists,
  exited,
  have,
  isRoot,
  PASST,
  PASTA,
  prepareRootless,
  REPO,
  run,
  scratchDir,
  spawn,
} from "../_helpers/e2e.ts";

const canRun = isRoot() && have("ip") && have("setpriv");

/** What the command prints of its namespace: user mapping, addresses, routes. */
const SCRIPT = "cat /proc/self/uid_map; ip -4 -br addr show; ip -4 route show; hostname -I";

Deno.test({
  name: "launcher: pasta spawning a command starts inside its sandbox, as the long way does",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    const dir = scratchDir("launcher-");
    try {
      const outs = [];
      for (const [way, opt] of [["single", "--config-net"], ["long", "--config-ne"]]) {
        const pidFile = `${dir}/${way}.pid`;
        const child = spawn(
          [
            PASTA,
            "-q",
            opt!,
            "-P",
            pidFile,
            "--",
            "sh",
            "-c",
            `${SCRIPT}; echo ready; read x || true`,
          ],
          { rootless: true, stdin: "" },
        );
        const reader = child.stdout.getReader();
        let text = "";
        while (!text.includes("ready")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        reader.releaseLock();
        // The start the launcher made, read from the environment pasta was
        // exec'd with (the runtime clears the mark it reads)
        const env = Deno.readTextFileSync(`/proc/${child.pid}/environ`).split("\0");
        const mark = env.find((e) => e.startsWith("PASST_SANDBOXED=")) ?? "";
        await child.stdin.close();
        const out = await child.output();
        const pid = Deno.readTextFileSync(pidFile).trim();
        outs.push({ way, mark, text, code: out.code, pid, child: String(child.pid) });
        assert.equal(out.code, 0, `${way}: ${new TextDecoder().decode(out.stderr)}`);
      }
      const [single, long] = outs;
      assert.match(single!.mark, /^PASST_SANDBOXED=early:\d+:\d+:$/, "the launcher's single start");
      assert.equal(long!.mark, "PASST_SANDBOXED=1", "the runtime's exec into the sandbox");
      assert.equal(single!.text, long!.text, "the command sees the same namespace");
      assert.match(single!.text, /^\s+0\s+\d+\s+1$/m, "0 is the user inside");
      assert.match(single!.text, /eth0\s+UNKNOWN\s+\d+\.\d+\.\d+\.\d+\/\d+/, "an address");
      for (const o of outs) assert.equal(o.pid, o.child, `${o.way}: PID file holds pasta's PID`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "launcher: an option error is the same one line either way",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    for (
      const [single, long] of [
        [["--mtu", "70000"], ["--mt", "70000"]],
        [["-t", "70000"], ["--tcp-p", "70000"]],
        [["--config-net", "-a", "999.1.1.1"], ["--config-n", "-a", "999.1.1.1"]],
      ]
    ) {
      const a = await run([PASTA, ...single!, "--", "true"], { rootless: true });
      const b = await run([PASTA, ...long!, "--", "true"], { rootless: true });
      assert.equal(a.code, 1, a.stderr);
      assert.equal(a.stderr.split("\n").filter((l) => l).length, 1, a.stderr);
      assert.deepEqual(
        { code: a.code, stdout: a.stdout, stderr: a.stderr },
        { code: b.code, stdout: b.stdout, stderr: b.stderr },
        `${single!.join(" ")} against ${long!.join(" ")}`,
      );
    }
  },
});

Deno.test({
  name: "launcher: a daemon started by passt-helper is the runtime's, with its PID in the PID file",
  ignore: !canRun || !have("unshare") || !have("nsenter") || !prepareRootless(),
  async fn(): Promise<void> {
    const dir = scratchDir("launcher-d-");
    // The target: a user and network namespace of the unprivileged user
    const target = spawn(["unshare", "-rn", "sleep", "60"], { rootless: true });
    const daemons: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 300));
      const seen = [];
      for (const [way, opt] of [["single", "--config-net"], ["long", "--config-ne"]]) {
        const pidFile = `${dir}/${way}.pid`;
        const r = await run([PASTA, "-q", opt!, "-P", pidFile, String(target.pid)], {
          rootless: true,
        });
        assert.equal(r.code, 0, `${way}: ${r.stderr}`);
        assert.equal(r.stdout + r.stderr, "", `${way}: nothing printed`);
        const pid = Number(Deno.readTextFileSync(pidFile).trim());
        daemons.push(pid);
        assert.ok(pid > 0 && alive(pid), `${way}: the PID file names a running daemon`);
        const env = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
        seen.push({ way, early: env.some((e) => e.startsWith("PASST_SANDBOXED=early:")) });
        const addr = await run([
          "nsenter",
          "-t",
          String(target.pid),
          "-U",
          "-n",
          "--preserve-credentials",
          "ip",
          "-4",
          "-br",
          "addr",
          "show",
        ], { rootless: true });
        assert.match(addr.stdout, /\d+\.\d+\.\d+\.\d+\/\d+/, `${way}: the namespace is configured`);
        Deno.kill(pid, "SIGTERM");
        assert.ok(await exited(pid, 2500), `${way}: the daemon ends on SIGTERM`);
      }
      assert.deepEqual(seen, [{ way: "single", early: true }, { way: "long", early: false }]);
      // A target that can't be joined: the same one line and status either way
      // (checked before the PID file is made, as upstream: none is left behind)
      const bad = [];
      for (const opt of ["--config-net", "--config-ne"]) {
        const pidFile = `${dir}/bad${opt}.pid`;
        bad.push(
          await run([PASTA, "-q", opt, "-P", pidFile, "--netns", `${dir}/none`], {
            rootless: true,
          }),
        );
        assert.equal(exists(pidFile), false, `${opt}: no PID file for a target that can't open`);
      }
      assert.equal(bad[0]!.code, 1);
      assert.match(bad[0]!.stderr, /^[^\n]+\n$/, bad[0]!.stderr);
      assert.deepEqual(bad[0], bad[1]);
      // passt as a daemon: its socket, and the PID file written by its parent
      const sock = `${dir}/passt.sock`;
      const r = await run([PASST, "-q", "-P", `${dir}/passt.pid`, "-s", sock], { rootless: true });
      assert.equal(r.code, 0, r.stderr);
      const pid = Number(Deno.readTextFileSync(`${dir}/passt.pid`).trim());
      daemons.push(pid);
      (await Deno.connect({ transport: "unix", path: sock })).close();
      Deno.kill(pid, "SIGTERM");
      assert.ok(await exited(pid, 2500), "passt ends on SIGTERM");
    } finally {
      for (const pid of daemons) if (alive(pid)) Deno.kill(pid, "SIGKILL");
      target.kill("SIGKILL");
      await target.output().catch(() => null);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "launcher: a user's first start fills their Deno cache with the compiled bundle, once",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    const cache = scratchDir("launcher-cache-");
    const bundle = `${Deno.realPathSync(REPO)}/native/build/passt.js`;
    const stamp = `${cache}/passt-deno${bundle}.warm`;
    const cached = (): string[] => {
      const db = new DatabaseSync(`${cache}/v8_code_cache_v2`, { readOnly: true });
      try {
        return db.prepare("SELECT specifier FROM codecache WHERE length(data) > 0").all()
          .map((r) => String(r.specifier));
      } finally {
        db.close();
      }
    };
    try {
      const first = await run([PASTA, "--version"], { rootless: true, env: { DENO_DIR: cache } });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^pasta /, "the start itself is unchanged");
      assert.ok(exists(stamp), "the launcher notes that this build is in the cache");
      assert.ok(
        cached().includes(`file://${bundle}`),
        `the bundle's compiled code is in the user's cache: ${cached().join(" ")}`,
      );
      // and the databases' logs, which each later start reads again, emptied:
      // without that the compiled bundle alone (200 KB) would be in one (a
      // new database's statistics, which Deno writes as it ends, may follow)
      const logs = (): Record<string, number> =>
        Object.fromEntries(
          [...Deno.readDirSync(cache)].filter((e) => e.name.endsWith("-wal"))
            .map((e) => [e.name, Deno.statSync(`${cache}/${e.name}`).size]),
        );
      const after = logs();
      assert.ok(Object.keys(after).length > 0, "Deno's databases are in write-ahead-log mode");
      for (const [name, size] of Object.entries(after)) {
        assert.ok(size <= 16 * 4120, `${name}: ${size} bytes left`);
      }
      const mtime = Deno.statSync(stamp).mtime!.getTime();
      await new Promise((r) => setTimeout(r, 20));
      const again = await run([PASTA, "--version"], { rootless: true, env: { DENO_DIR: cache } });
      assert.equal(again.stdout, first.stdout);
      assert.equal(Deno.statSync(stamp).mtime!.getTime(), mtime, "not filled again");
      assert.deepEqual(logs(), after, "a start writes nothing there");
      // Another Deno (an upgrade empties its cache): filled again, by that Deno
      for (const f of [...Deno.readDirSync(cache)]) {
        if (f.name.startsWith("v8_code_cache_v2")) Deno.removeSync(`${cache}/${f.name}`);
      }
      const bin = scratchDir("launcher-deno-", 0o755);
      const upgraded = `${bin}/deno`;
      Deno.writeTextFileSync(upgraded, `#!/bin/sh\nexec ${Deno.execPath()} "$@"\n`, {
        mode: 0o755,
      });
      const third = await run([PASTA, "--version"], {
        rootless: true,
        env: { DENO_DIR: cache, PASST_DENO: upgraded },
      });
      assert.equal(third.stdout, first.stdout, third.stderr);
      assert.ok(Deno.statSync(stamp).mtime!.getTime() > mtime, "the stamp is renewed");
      assert.ok(cached().includes(`file://${bundle}`), "the new Deno's cache holds the bundle");
      Deno.removeSync(bin, { recursive: true });
      // A cache the user can't write: no attempt, and the start works as before
      const locked = scratchDir("launcher-cache-ro-", 0o755);
      const ro = await run([PASTA, "--version"], { rootless: true, env: { DENO_DIR: locked } });
      assert.equal(ro.code, 0, ro.stderr);
      assert.equal(ro.stdout, first.stdout);
      assert.deepEqual([...Deno.readDirSync(locked)], [], "nothing written there");
      Deno.removeSync(locked, { recursive: true });
    } finally {
      Deno.removeSync(cache, { recursive: true });
    }
  },
});
