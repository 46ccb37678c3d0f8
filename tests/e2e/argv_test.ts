// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * The native spawn and exec helpers get every argument, empty ones included:
 * a spawned command (`pasta -- cmd`) and a daemon started by
 * `pf_spawn_isolated` see exactly the argv they were given.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isRoot, PASTA, prepareRootless, run } from "../_helpers/e2e.ts";
import { spawnIsolated } from "../../src/isolation.ts";

/** Prints each argument in angle brackets: `<a><><b>`. */
const PRINT = `printf '<%s>' "$0" "$@"`;

for (const rl of [false, true]) {
  Deno.test({
    name: `argv: pasta -- cmd gets empty arguments and those after them (${
      rl ? "rootless" : "root"
    })`,
    ignore: !isRoot() || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const argv = [PASTA, "-f", "--", "sh", "-c", PRINT, "zero", "", "two", "", ""];
      const r = await run(argv, { rootless: rl });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "<zero><><two><><>");
    },
  });
}

Deno.test("argv: pf_spawn_isolated execs the exact argv, empty arguments included", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    // The daemon is a grandchild: it reports by renaming its output into place
    const script = `${PRINT} > ${dir}/tmp && mv ${dir}/tmp ${dir}/out`;
    spawnIsolated(["sh", "-c", script, "zero", "", "two", ""], -1, {
      usernsPath: null,
      uid: -1,
      gid: -1,
      flags: 0,
      keepCaps: 0,
    });
    let text: string | null = null;
    for (let i = 0; i < 200 && text === null; i++) {
      try {
        text = Deno.readTextFileSync(`${dir}/out`);
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    assert.equal(text, "<zero><><two><>");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
