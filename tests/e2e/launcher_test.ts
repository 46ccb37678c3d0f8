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
import { have, isRoot, PASTA, prepareRootless, run, scratchDir, spawn } from "../_helpers/e2e.ts";

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
