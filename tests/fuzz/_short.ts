// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `_short.ts` - registers the short fixed-seed run of fuzz targets, and the replay of each of
 * their corpus files (each one an input that once broke an invariant), as Deno tests. Targets
 * that open sockets run in a network namespace of their own, through the same runner as
 * `deno task fuzz`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { have } from "../_helpers/e2e.ts";
import { CORPUS, isolatedCommand, TARGETS } from "./fuzz.ts";
import type { Target } from "./_lib.ts";

/** Inputs of the short runs: a few seconds each on a loaded machine. */
const SHORT: Record<string, number> = {
  framing: 3000,
  tap: 4000,
  tcp: 1500,
  options: 20000,
  wire: 100000,
};

/** Whether this process may create a network namespace (root, or user namespaces allowed). */
function probeIsolation(): boolean {
  if (!have("unshare") || !have("ip")) return false;
  const args = Deno.uid() === 0
    ? ["--net", "true"]
    : ["--net", "--user", "--map-root-user", "true"];
  try {
    return new Deno.Command("unshare", { args, stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

const canIsolate = probeIsolation();

/** Descriptor limit of the runs that exhaust descriptors: a dozen above what the rig holds. */
const NOFILE = 40;

async function isolated(args: string[], nofile = 0): Promise<void> {
  const cmd = isolatedCommand(args, nofile);
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
}

/** Registers the tests of the targets that open sockets (`net`) or of the others. */
export function registerShortRuns(net: boolean): void {
  for (const t of TARGETS.filter((x) => x.needsNet === net)) registerTarget(t);
}

function registerTarget(t: Target): void {
  Deno.test({
    name: `fuzz: ${t.name}, ${SHORT[t.name]} inputs from seed 1`,
    ignore: t.needsNet && !canIsolate,
    fn: async () => {
      if (t.needsNet) {
        await isolated([t.name, "--inputs", String(SHORT[t.name]), "--seed", "1"]);
        return;
      }
      const st = t.run({ seed: 1, inputs: SHORT[t.name]! });
      assert.ok(st.inputs >= SHORT[t.name]!);
    },
  });

  if (t.needsNet) {
    Deno.test({
      name: `fuzz: ${t.name}, ${
        SHORT[t.name]
      } inputs from seed 2 with ${NOFILE} descriptors at most`,
      ignore: !canIsolate,
      fn: () => isolated([t.name, "--inputs", String(SHORT[t.name]), "--seed", "2"], NOFILE),
    });
  }

  let files: string[] = [];
  try {
    files = [...Deno.readDirSync(`${CORPUS}${t.name}`)].filter((e) => e.name.endsWith(".bin"))
      .map((e) => e.name).sort();
  } catch {
    // no corpus for this target
  }
  for (const f of files) {
    const path = `${CORPUS}${t.name}/${f}`;
    Deno.test({
      name: `fuzz: ${t.name} corpus ${f} replays without failure`,
      ignore: t.needsNet && !canIsolate,
      fn: async () => {
        if (t.needsNet) await isolated([t.name, "--replay", path]);
        else t.replay(Deno.readFileSync(path));
      },
    });
  }
}
