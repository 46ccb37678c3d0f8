// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fuzz.ts` - `deno task fuzz [TARGET...] [--inputs N] [--seed S] [--nofile N] [--replay FILE]`
 *
 * Theory of operation: runs each named target (all by default) for N inputs from seed S and
 * prints its figures (inputs, time, counters). A broken invariant is stored as a corpus file,
 * `tests/fuzz/corpus/TARGET/<hash>.bin`, replayed from then on by `fuzz_test.ts`, and the run
 * exits with status 1. Targets that open sockets run in a fresh network namespace with only
 * a loopback interface (the runner re-executes itself under `unshare`), so that whatever the
 * mutated frames address, nothing leaves the machine. `--nofile N` runs the targets with at most N
 * open descriptors, so that the error paths of descriptor exhaustion are fuzzed too.
 *
 * @module
 */

import type { Target } from "./_lib.ts";
import { FuzzFailure } from "./_lib.ts";
import { framing } from "./framing.ts";
import { options } from "./options.ts";
import { tap } from "./tap.ts";
import { tcp } from "./tcp.ts";
import { wire } from "./wire.ts";

/** Every target, in the order of the issue. */
export const TARGETS: Target[] = [framing, tap, tcp, options, wire];

/** Directory of the corpus files. */
export const CORPUS = new URL("./corpus/", import.meta.url).pathname;

const USAGE = "Usage: deno task fuzz [framing|tap|tcp|options|wire]... [--inputs N] [--seed S] " +
  "[--nofile N] [--replay FILE]";

/** Whether this process sees no network interface but loopback. */
export function isolated(): boolean {
  const dev = Deno.readTextFileSync("/proc/self/net/dev");
  for (const line of dev.split("\n").slice(2)) {
    const name = line.split(":")[0]!.trim();
    if (name && name !== "lo") return false;
  }
  return true;
}

/**
 * Command line that runs `fuzz.ts ARGS` in a new network namespace (a user namespace too when
 * not root) with loopback up and ping sockets allowed, and at most `nofile` descriptors if
 * given.
 */
export function isolatedCommand(args: string[], nofile = 0): string[] {
  const root = Deno.uid() === 0;
  const script = (nofile ? `ulimit -n ${nofile} && ` : "") + "ip link set lo up && " +
    "{ sysctl -qw net.ipv4.ping_group_range='0 2147483647' 2>/dev/null || :; } && " +
    'exec "$0" "$@"';
  return [
    "unshare",
    "--net",
    ...(root ? [] : ["--user", "--map-root-user"]),
    "--",
    "sh",
    "-c",
    script,
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-prompt",
    new URL(import.meta.url).pathname,
    ...args,
  ];
}

async function sha(b: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(h.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join("");
}

async function store(target: string, f: FuzzFailure): Promise<string> {
  const dir = `${CORPUS}${target}`;
  Deno.mkdirSync(dir, { recursive: true });
  const path = `${dir}/${await sha(f.input)}.bin`;
  Deno.writeFileSync(path, f.input);
  return path;
}

function fail(msg: string): never {
  console.error(`fuzz: ${msg}`);
  console.error(USAGE);
  Deno.exit(1);
}

async function main(argv: string[]): Promise<number> {
  const names: string[] = [];
  let inputs = 100_000;
  let seed = 1;
  let replay = "";
  let nofile = 0;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => argv[++i] ?? fail(`option '${a}' requires an argument`);
    if (a === "--nofile") {
      nofile = Number(val());
      continue;
    }
    rest.push(a);
    if (a === "--inputs") rest.push(String(inputs = Number(val())));
    else if (a === "--seed") rest.push(String(seed = Number(val())));
    else if (a === "--replay") rest.push(replay = val());
    else if (a.startsWith("-")) fail(`unrecognized option '${a}'`);
    else names.push(a);
  }
  if (!Number.isInteger(nofile) || nofile < 0) fail("--nofile takes a positive integer");
  if (!Number.isInteger(inputs) || inputs < 1) fail("--inputs takes a positive integer");
  if (!Number.isInteger(seed) || seed < 0) fail("--seed takes a non-negative integer");
  const targets = names.length ? names.map((n) => TARGETS.find((t) => t.name === n)) : TARGETS;
  if (targets.includes(undefined)) fail(`unknown target in ${names.join(" ")}`);
  const list = targets as Target[];
  if (nofile || (list.some((t) => t.needsNet) && !isolated())) {
    const cmd = isolatedCommand(rest, nofile);
    const st = await new Deno.Command(cmd[0]!, { args: cmd.slice(1) }).spawn().status;
    return st.code;
  }
  if (replay) {
    const t = list[0]!;
    try {
      t.replay(Deno.readFileSync(replay));
    } catch (e) {
      if (!(e instanceof FuzzFailure)) throw e;
      console.log(`${t.name}: ${replay} fails: ${e.message}`);
      return 1;
    }
    console.log(`${t.name}: ${replay} passes`);
    return 0;
  }
  for (const t of list) {
    const t0 = performance.now();
    try {
      const st = t.run({
        seed,
        inputs,
        progress: (l) => console.error(`  ${l}`),
      });
      const ms = performance.now() - t0;
      const extra = Object.entries(st.counters).map(([k, v]) => `${k} ${v}`).join(", ");
      console.log(
        `${t.name}: ${st.inputs} inputs from seed ${seed} in ${(ms / 1000).toFixed(1)} s ` +
          `(${Math.round(st.inputs / (ms / 1000))}/s), nothing found${extra ? `; ${extra}` : ""}`,
      );
    } catch (e) {
      if (!(e instanceof FuzzFailure)) throw e;
      const path = await store(t.name, e);
      console.log(
        `${t.name}: FOUND after ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
          e.message,
      );
      if (e.cause instanceof Error && e.cause.stack) console.log(e.cause.stack);
      console.log(`${t.name}: input stored as ${path}`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
