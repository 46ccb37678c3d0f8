// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `e2e.ts` - helpers for end-to-end tests: run our launchers as root or as an
 * unprivileged user, with real clients in the namespaces the tests create.
 *
 * @module
 */

import assert from "node:assert/strict";

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

/**
 * Runs a command to completion, killing it after the timeout; collects its
 * output. The command runs in a process group of its own (`setsid`), and the
 * timeout kills the whole group: a grandchild that holds the output pipes
 * (a foreground pasta under a killed shell, say) can't make the test hang.
 */
export async function run(argv: string[], opts: RunOptions = {}): Promise<Result> {
  const child = spawn(["setsid", ...argv], opts);
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const timer = setTimeout(() => {
    // setsid made the child its group's leader: the group ID is its PID
    new Deno.Command("kill", { args: ["-KILL", "--", `-${child.pid}`], stderr: "null" })
      .outputSync();
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

/** The pasta under test: `$E2E_PASTA` (upstream's, say, to prove the tests), else ours. */
export const PASTA_UNDER_TEST = (() => {
  try {
    return Deno.env.get("E2E_PASTA") || PASTA;
  } catch {
    return PASTA; // no --allow-env: ours
  }
})();

/** Runs `pasta ARGS -- sh -c SCRIPT` in the foreground and returns what the script printed. */
export function pastaSh(args: string[], script: string, opts: RunOptions = {}): Promise<Result> {
  return run([PASTA, "-f", ...args, "--", "sh", "-c", script], opts);
}

/** The first port the kernel hands out for implicit binds (connect() without bind()). */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(
      Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").split(/\s+/)[0],
    ) || 32768;
  } catch {
    return 32768;
  }
})();

let nextFreePort = 10000 + Math.floor(Math.random() * Math.max(1, EPHEMERAL_LOW - 10000 - 4096));

/** Local ports of every TCP and UDP socket on the host, either family, in any state. */
function portsInUse(): Set<number> {
  const used = new Set<number>();
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(`/proc/net/${table}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) used.add(parseInt(local.slice(local.lastIndexOf(":") + 1), 16));
    }
  }
  return used;
}

/**
 * A port free on the host for TCP and UDP, both families. Ports come in order
 * from a random start below the ephemeral range: a port the kernel picked
 * (port 0) would be one it may hand to any outgoing connection a moment later,
 * which once made a forwarding test fail with "Address already in use".
 */
export function freePort(): number {
  const used = portsInUse();
  for (let tries = 0; tries < 1000; tries++) {
    if (nextFreePort >= EPHEMERAL_LOW) nextFreePort = 10000;
    const port = nextFreePort++;
    if (!used.has(port)) return port;
  }
  throw new Error("no free port below the ephemeral range");
}

/** `n` consecutive ports, each as {@linkcode freePort} gives them (for ranges like `-t A-B`). */
export function freePorts(n: number): number[] {
  for (let tries = 0; tries < 1000; tries++) {
    const run = [freePort()];
    while (run.length < n && freePort() === run[0]! + run.length) run.push(run[0]! + run.length);
    if (run.length === n) return run;
  }
  throw new Error(`no ${n} consecutive free ports below the ephemeral range`);
}

/** pasta options for no port forwarding at all (a spawned command gets `auto` otherwise). */
export const NO_FORWARDS = ["-t", "none", "-u", "none", "-T", "none", "-U", "none"];

/** How a case runs, for test names: `"root"`, or `"rootless"` (as {@linkcode TESTER}). */
export function label(rootless: boolean): string {
  return rootless ? "rootless" : "root";
}

/**
 * Registers the test `name (root)`, or `name (rootless)` run as
 * {@linkcode TESTER}; skipped when `skip`, or when rootless runs can't be set up.
 */
export function modeTest(
  rootless: boolean,
  name: string,
  skip: boolean,
  fn: () => Promise<void>,
): void {
  Deno.test({
    name: `${name} (${label(rootless)})`,
    ignore: skip || (rootless && !prepareRootless()),
    fn,
  });
}

/**
 * Whether `pid` runs; a zombie waiting for its reaper counts as exited. The
 * command name in `/proc/PID/stat` may itself hold `") "`, so the state is
 * read after the last `")"`.
 */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** SHA-256 of `data` in lower-case hex, as `sha256sum` prints it. */
export async function sha256(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs a host-side bash script with a timeout; returns stdout (throws with stderr on failure). */
export async function bash(script: string, timeoutMs = 120_000): Promise<string> {
  const r = await run(["bash", "-c", script], { timeoutMs });
  if (r.code !== 0) throw new Error(`script failed (${r.code}): ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/**
 * Shell lines setting GW4 and GW6 to the namespace's default gateways, and
 * ADDR4 to its first global IPv4 address.
 */
export const GATEWAYS = "set -- $(ip -4 route show default); GW4=$3; " +
  "set -- $(ip -6 route show default); GW6=$3; " +
  'ADDR4=$(ip -4 -o addr show scope global | awk "{print \\$4}" | cut -d/ -f1 | head -1); ';

/**
 * An empty scratch directory of `mode`: world-writable by default, so that the
 * test user, `nobody` or a namespace's root can write there.
 */
export function scratchDir(prefix = "", mode = 0o777): string {
  const dir = Deno.makeTempDirSync({ prefix });
  Deno.chmodSync(dir, mode);
  return dir;
}

/**
 * A scratch directory (`mode`, world-writable by default so that the test
 * user can write there) holding a world-readable random file of `size`
 * bytes; its SHA-256.
 */
export function scratch(
  size: number,
  prefix: string,
  mode = 0o777,
): { dir: string; file: string; sum: string } {
  const dir = scratchDir(prefix, mode);
  const file = `${dir}/data`;
  const r = new Deno.Command("sh", {
    args: [
      "-c",
      `head -c ${size} /dev/urandom > ${file}; chmod 644 ${file}; sha256sum < ${file} | cut -d' ' -f1`,
    ],
    stdout: "piped",
  }).outputSync();
  return { dir, file, sum: new TextDecoder().decode(r.stdout).trim() };
}

/** The `KEY=value` lines of a script's output, by key (a later line wins). */
export function keyValues(text: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of text.split("\n")) {
    const i = l.indexOf("=");
    if (i > 0) r[l.slice(0, i)] = l.slice(i + 1);
  }
  return r;
}

/** A socat server on 127.0.0.1:`port` that sends `text` to every connection; kill it when done. */
export function serveText(port: number, text: string): Deno.ChildProcess {
  return new Deno.Command("socat", {
    args: [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `SYSTEM:echo ${text}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Whether a path exists (a dangling link does not). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` every 50 ms for up to `ms`; whether it became true. */
export async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(50);
  }
  return pred();
}

/** Polls for up to `ms` until `pid` has exited; whether it has. */
export function exited(pid: number, ms: number): Promise<boolean> {
  return waitFor(() => !alive(pid), ms);
}

/** Waits up to `ms` for `pid` to exit; if it still runs, ends it (SIGTERM) and fails with `message`. */
export async function assertExits(pid: number, ms: number, message: string): Promise<void> {
  const gone = await exited(pid, ms);
  if (!gone) Deno.kill(pid, "SIGTERM");
  assert.ok(gone, message);
}

/** slirp4netns implementations to run a case on: ours, and Debian's where installed. */
export const SLIRP4NETNS_IMPLS: [string, string][] = [["ours", `${REPO}/slirp4netns`]];
if (have("slirp4netns")) SLIRP4NETNS_IMPLS.push(["debian", "/usr/bin/slirp4netns"]);

function hasSubids(): boolean {
  try {
    return new RegExp(`^${TESTER}:`, "m").test(Deno.readTextFileSync("/etc/subuid")) &&
      new RegExp(`^${TESTER}:`, "m").test(Deno.readTextFileSync("/etc/subgid"));
  } catch {
    return false;
  }
}

/**
 * Gives the test user subordinate IDs (rootless Podman and RootlessKit map
 * users into them), if it has none; false if it can't (not root).
 */
export function ensureSubids(): boolean {
  if (hasSubids()) return true;
  if (!isRoot()) return false;
  for (const f of ["/etc/subuid", "/etc/subgid"]) {
    Deno.writeTextFileSync(f, `${TESTER}:100000:65536\n`, { append: true });
  }
  return hasSubids();
}
