// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `e2e.ts` - helpers for end-to-end tests: run our launchers as root or as an
 * unprivileged user, with real clients in the namespaces the tests create.
 *
 * @module
 */

/** Top of the source tree. */
export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
/** The unprivileged user for rootless cases (created by .ci/run, or here when root). */
export const TESTER = "tester";

/** Whether we run as root. */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Whether `cmd` is on the PATH. */
export function have(cmd: string): boolean {
  try {
    const r = new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync();
    return r.success;
  } catch {
    return false;
  }
}

let testerReady: boolean | null = null;
let testerProblem = "";

/**
 * Makes sure the unprivileged user exists and can use /dev/net/tun and ping
 * sockets (the same preparation .ci/run and the README describe); false if we
 * can't (not root). Throws, for every caller, when that user can't read the tree.
 */
export function prepareRootless(): boolean {
  if (testerProblem) throw new Error(testerProblem);
  if (testerReady !== null) return testerReady;
  testerReady = false;
  if (!isRoot()) return false;
  const sh = (s: string): boolean =>
    new Deno.Command("sh", { args: ["-c", s], stdout: "null", stderr: "null" }).outputSync()
      .success;
  if (!sh(`id ${TESTER}`) && !sh(`useradd -m -s /bin/sh ${TESTER}`)) return false;
  sh("chmod 666 /dev/net/tun");
  sh("sysctl -qw net.ipv4.ping_group_range='0 2147483647'");
  testerReady = sh(`id ${TESTER}`);
  if (
    testerReady &&
    !sh(`setpriv --reuid=${TESTER} --regid=${TESTER} --init-groups test -r ${REPO}/main.ts`)
  ) {
    // A clone in a private directory (/root, mode 0700): every rootless case
    // would fail in its own confusing way, or wait for a launcher that never
    // starts. Fail each of them at once with what to do instead.
    testerProblem = `user ${TESTER} can't read ${REPO}: run the tests from a copy it can ` +
      `read (bash .ci/run does this by itself)`;
    throw new Error(testerProblem);
  }
  return testerReady;
}

/** Result of a finished command. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode run}. */
export interface RunOptions {
  /** Run as the unprivileged test user. */
  rootless?: boolean;
  /** Kill after this many milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Text for standard input. */
  stdin?: string;
  /** Extra environment. */
  env?: Record<string, string>;
}

function wrap(argv: string[], opts: RunOptions): string[] {
  if (!opts.rootless) return argv;
  return [
    "setpriv",
    `--reuid=${TESTER}`,
    `--regid=${TESTER}`,
    "--init-groups",
    "env",
    `HOME=/home/${TESTER}`,
    `USER=${TESTER}`,
    "SHELL=/bin/sh",
    ...argv,
  ];
}

/** Starts a command (our launchers are under {@linkcode REPO}); returns the child. */
export function spawn(argv: string[], opts: RunOptions = {}): Deno.ChildProcess {
  const full = wrap(argv, opts);
  return new Deno.Command(full[0]!, {
    args: full.slice(1),
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: opts.env ?? {},
  }).spawn();
}

/** Runs a command to completion, killing it after the timeout; collects its output. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<Result> {
  const child = spawn(argv, opts);
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, opts.timeoutMs ?? 60_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Path of our pasta launcher. */
export const PASTA = `${REPO}/pasta`;
/** Path of our passt launcher. */
export const PASST = `${REPO}/passt`;

/** Runs `pasta ARGS -- sh -c SCRIPT` in the foreground and returns what the script printed. */
export function pastaSh(args: string[], script: string, opts: RunOptions = {}): Promise<Result> {
  return run([PASTA, "-f", ...args, "--", "sh", "-c", script], opts);
}

/** A free TCP port on the host's loopback, chosen by the kernel. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
