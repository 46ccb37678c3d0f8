// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `main.ts` - entry point: mode, configuration, daemon, run, exit status
 *
 * The launchers (`./passt`, `./pasta`, `./qrap`, one script selected by the name
 * it runs as) pass their name as the first argument; a name containing "pasta"
 * selects pasta, "qrap" the qrap wrapper, "passt" passt, and anything else is an
 * error (exit status 1), as upstream selects by `argv[0]`. This is the only
 * place that calls `Deno.exit`: errors become one line on stderr and status 1.
 *
 * Without `--foreground` (and unless pasta spawns a command, which keeps it in
 * the foreground), the process starts the daemon and returns only when the
 * daemon reports that set-up is complete, or failed (`src/daemon.ts`).
 *
 * @module
 */

import type { Conf, Mode } from "./src/context.ts";
import { ConfError, type ConfResult, formatConfSummary, parseConf } from "./src/conf/conf.ts";
import { discover } from "./src/conf/host_info.ts";
import {
  debug,
  debugEnabled,
  err,
  info,
  Level,
  openLogFile,
  setIdent,
  setLevel,
  setLogTargets,
  warn,
} from "./src/log.ts";
import { cstr, O_CLOEXEC, O_CREAT, O_RDWR, O_TRUNC, O_WRONLY } from "./ffi/sys.ts";
import { errorText, strerror } from "./ffi/errno.ts";
import { openSyslog } from "./src/syslog.ts";
import { BIND_DELAY_MS, BIND_SLICE, bindSome, lib, libPath, treeDir } from "./ffi/lib.ts";
import { VERSION } from "./src/conf/version.ts";
import { runLoop, setup, StartupError } from "./src/run.ts";
import { qrapMain } from "./src/passt/qrap.ts";
import { pestoMain } from "./src/pesto/pesto.ts";
import {
  attachSlirp,
  parseSlirpArgs,
  pastaArgs,
  slirpBanner,
  type SlirpOptions,
} from "./src/slirp4netns/slirp4netns.ts";
import { compactDenoCacheLater } from "./src/deno_cache.ts";
import { daemonFd, notifyParent, passListener, selfCommand, startDaemon } from "./src/daemon.ts";
import { listenUnix } from "./src/passt/tap_passt.ts";
import { PastaTapBackend } from "./src/tap/tap_pasta.ts";
import { checkNsTarget } from "./src/pasta/pasta.ts";
import { processIds, readSysFileOr } from "./src/sysfile.ts";
import {
  applySeccomp,
  beginIsolation,
  earlyMatches,
  execSandboxed,
  isolate,
  planSandbox,
  sandboxed as inSandbox,
  type SandboxPlan,
} from "./src/isolation.ts";

function modeOf(name: string): Mode | "qrap" | "pesto" | "slirp4netns" | null {
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (base.includes("pesto")) return "pesto";
  if (base.includes("slirp4netns")) return "slirp4netns";
  if (base.includes("pasta")) return "pasta";
  if (base.includes("qrap")) return "qrap";
  if (base.includes("passt")) return "passt";
  return null;
}

/**
 * Upstream's conf_mode(): `--vhost-user` (or an abbreviation getopt would take)
 * before `--` selects passt's vhost-user mode whatever name we run under.
 */
function vhostUserGiven(argv: string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a.length >= 4 && "--vhost-user".startsWith(a)) return true;
  }
  return false;
}

function write(out: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  out.writeSync(new TextEncoder().encode(text));
}

/** Points standard input, output and error, and the runtime's copies of them, at /dev/null. */
function detachStdio(): void {
  lib().pf_detach_stdio();
}

/** The one line to print for an error: its message, never a stack. */
function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n", 1)[0] || "Unexpected error";
}

/** Opens the PID file for writing, as upstream's conf_open_files(); returns the fd. */
function openPidFile(path: string): number {
  const fd = lib().pf_open(cstr(path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644);
  if (fd < 0) throw new ConfError(`Couldn't open PID file ${path}: ${strerror(-fd)}`);
  return fd;
}

/**
 * Creates (or truncates) the log file for a daemon that will run as
 * `uid`:`gid` (-1: same) and gives it to that user, as upstream opens it
 * before changing user: the daemon then opens it by its path.
 */
function createLogFile(path: string, uid: number, gid: number): void {
  const fd = lib().pf_open(cstr(path), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600);
  if (fd < 0) throw new ConfError(`Couldn't open log file ${path}: ${strerror(-fd)}`);
  lib().pf_close(fd);
  try {
    Deno.chownSync(path, uid >= 0 ? uid : null, gid >= 0 ? gid : null);
  } catch (e) {
    throw new ConfError(`Couldn't open log file ${path}: ${errorText(e)}`);
  }
}

/** Writes `pid` to the open PID file `fd` and closes it. */
function writePid(fd: number, pid: number): void {
  const text = new TextEncoder().encode(`${pid}\n`);
  lib().pf_write(fd, text, 0, text.length);
  lib().pf_close(fd);
}

/**
 * Runs passt, pasta or qrap; returns the exit status. Every failure, expected
 * or not, ends as one line (on stderr, to the parent of a daemon, or to the
 * log once the daemon is detached) and status 1: no stack trace.
 */
function main(args: string[]): number {
  const readyFd = daemonFd();
  const state = { detached: false, notified: false };
  try {
    return run(args, readyFd, state);
  } catch (e) {
    const line = errorLine(e);
    // what the configuration warned about before failing, as upstream prints it
    if (e instanceof ConfError && !state.detached) {
      for (const w of e.warnings) write(Deno.stderr, `${w}\n`);
    }
    // The trace is for developers: with --debug only, as a debug message
    // Only when asked: formatting a trace reads source maps, and out of
    // descriptors the runtime panics doing that (stacker can't read /proc)
    if (debugEnabled() && e instanceof Error && e.stack) debug(e.stack);
    if (state.detached) err(line);
    else if (readyFd >= 0 && !state.notified) notifyParent(readyFd, line);
    else write(Deno.stderr, line + "\n");
    return 1;
  }
}

function run(
  args: string[],
  readyFd: number,
  state: { detached: boolean; notified: boolean },
): number {
  const [name = "", ...cmdline] = args;
  let argv = cmdline;
  const named = modeOf(name);
  if (named === null) {
    write(
      Deno.stderr,
      `Unknown mode for ${name}: run as passt, pasta, pesto, slirp4netns or qrap\n`,
    );
    return 1;
  }
  if (named === "qrap") return qrapMain(argv);
  if (named === "pesto") {
    return pestoMain([name, ...argv], {
      out: (t) => write(Deno.stdout, t),
      err: (t) => write(Deno.stderr, t),
    });
  }
  // Whether this process starts inside its sandbox: the foreground's second
  // start, or the launcher's single one (read once: the marker is removed
  // from the environment as it is read)
  const started = inSandbox();
  const resandboxed = started?.kind === "again";
  // slirp4netns: its command line becomes pasta's, in the foreground
  let slirp: SlirpOptions | null = null;
  if (named === "slirp4netns") {
    const p = parseSlirpArgs(name, argv, VERSION);
    if (p.kind === "exit") {
      write(Deno.stdout, p.stdout);
      write(Deno.stderr, p.stderr);
      return p.status;
    }
    // (said once: not again after the exec into the sandbox)
    if (!resandboxed) { for (const w of p.warnings) write(Deno.stdout, w + "\n"); }
    slirp = p.opts;
    argv = pastaArgs(slirp);
  }
  // pasta --vhost-user is passt's vhost-user mode, as upstream's conf_mode()
  const mode: Mode = named === "slirp4netns"
    ? "pasta"
    : named === "pasta" && vhostUserGiven(argv)
    ? "passt"
    : named;
  setIdent(mode);

  const ids = processIds();
  const result: ConfResult = parseConf(mode, argv, discover, {
    euid: ids.euid,
    egid: ids.egid,
    uidMap: readSysFileOr("/proc/self/uid_map"),
  });
  if (result.kind !== "conf") {
    // Warnings met before -h, --version or --print-capabilities (RootlessKit
    // probes with `--FLAG --version`): printed at once, as upstream does
    for (const w of result.warnings) write(Deno.stderr, `${w}\n`);
    // upstream prints the capabilities with info() before logging is set up: on stderr
    write(result.kind === "capabilities" ? Deno.stderr : Deno.stdout, result.text);
    return 0;
  }
  const conf = result.conf;
  const spawns = mode === "pasta" && !conf.targetPid && !conf.netns;
  if (spawns) {
    // pasta runs the command in the foreground and stays quiet unless debugging.
    conf.foreground = true;
    if (!conf.debug) conf.quiet = true;
  }
  if (started?.kind === "early") {
    // Started inside the sandbox by the launcher, which does so only where
    // the options leave no doubt about it (pasta spawning its command, a
    // --netns, --userns or PID target; passt; not --runas): checked all the
    // same, before anything depends on it
    const foreground = readyFd < 0;
    if (
      foreground !== conf.foreground ||
      !earlyMatches(started, planSandbox(conf, processIds()), foreground)
    ) {
      throw new StartupError("The launcher entered the wrong sandbox for these options");
    }
    // What the runtime's first start does otherwise: passt-helper, the
    // parent of a daemon, writes its PID
    if (readyFd < 0 && conf.pidFile) writePid(openPidFile(conf.pidFile), Deno.pid);
    if (readyFd >= 0 && mode === "pasta") checkNsTarget(conf);
  }
  if (!conf.foreground && readyFd < 0) return background(mode, argv, conf);

  setLevel(conf.debug ? Level.DEBUG : conf.quiet ? Level.WARN : Level.INFO, conf.trace);
  // The foreground enters the daemon's sandbox too, by exec'ing itself in
  // place, unless the launcher started it there
  const reexec = readyFd < 0 && started !== null;
  if (readyFd < 0 && !reexec) {
    // slirp4netns comes back as itself: its descriptors and API socket are
    // set up from its own command line, after the exec
    const again = slirp !== null ? { name: "slirp4netns", argv: cmdline } : { name: mode, argv };
    return foreground(mode, again, conf, result);
  }
  // Inside the sandbox from here on: the runtime's other threads drop their
  // capabilities while we set up
  beginIsolation();
  if (conf.logFile) {
    try {
      openLogFile(conf.logFile, conf.logSize, Deno.execPath(), VERSION);
    } catch (e) {
      throw new ConfError(`Couldn't open log file ${conf.logFile}: ${errorText(e)}`);
    }
  }
  if (!resandboxed) {
    for (const w of result.warnings) warn(w);
    for (const n of result.notes) info(n);
  }
  const rt = setup(conf);
  if (slirp !== null) {
    write(Deno.stdout, slirpBanner(slirp));
    rt.atExit.push(attachSlirp(rt.loop, rt.fwd!, slirp));
  }
  if (!conf.quiet) { for (const line of formatConfSummary(conf)) info(line); }
  if (readyFd >= 0) {
    // Messages so far reached the caller's terminal; from now on, syslog (or
    // the log file), and our standard descriptors no longer hold the
    // caller's pipes open (Podman waits for their end).
    const syslog = conf.logFile ? null : openSyslog();
    detachStdio();
    setLogTargets({ stderr: false, syslog });
  }
  // Started in our own mount namespace (the daemon, or the foreground through
  // passt-helper): empty root, no capabilities
  isolate(true, conf.chrootFallback);
  applySeccomp(mode);
  sandboxed = true;
  if (rt.tap.backend instanceof PastaTapBackend) exitKeepFd = rt.tap.backend.fd;
  notifyParent(readyFd);
  state.notified = true;
  state.detached = readyFd >= 0;
  // The symbols set-up didn't use, and those it bound without trampolines,
  // once the caller has gone on
  rt.loop.background(() => bindSome(BIND_SLICE), BIND_DELAY_MS);
  return runLoop(rt);
}

/**
 * In the foreground, before the sandbox: what needs the caller's privileges
 * (PID file, with our PID, which the exec keeps; log file; passt's socket),
 * the warnings, then the exec in place through passt-helper. Returns only on
 * failure.
 */
function foreground(
  mode: Mode,
  again: { name: string; argv: string[] },
  conf: Conf,
  result: ConfResult,
): number {
  const plan = planSandbox(conf, processIds());
  if (result.kind === "conf") {
    for (const w of result.warnings) warn(w);
    for (const n of result.notes) info(n);
  }
  if (conf.pidFile) writePid(openPidFile(conf.pidFile), Deno.pid);
  const listener = openAsCaller(mode, conf, plan);
  const msg = execSandboxed([...selfCommandFor(again.name), ...again.argv], plan);
  if (listener >= 0) lib().pf_close(listener);
  write(Deno.stderr, msg + "\n");
  return 1;
}

/**
 * What the sandboxed process, as another user, may not be able to create,
 * done now as upstream does: the log file, and passt's bound socket (handed
 * over through the environment). Returns that socket's fd, or -1.
 */
function openAsCaller(mode: Mode, conf: Conf, plan: SandboxPlan): number {
  const changesUser = plan.uid >= 0 || plan.gid >= 0;
  if (conf.logFile && changesUser) createLogFile(conf.logFile, plan.uid, plan.gid);
  if (mode !== "passt" || conf.fd >= 0 || !changesUser) return -1;
  const listener = listenUnix(conf.socketPath);
  passListener(listener.fd, listener.path);
  return listener.fd;
}

/** The command that starts us again as `name` (Deno on this program, or the compiled binary). */
function selfCommandFor(name: string): string[] {
  const entry = new URL(Deno.mainModule).pathname;
  return selfCommand(name, Deno.build.standalone, Deno.execPath(), treeDir(), libPath(), entry);
}

/**
 * The parent of a daemon: opens what needs the caller's privileges (PID file,
 * passt's socket when the daemon changes user), starts the daemon and waits
 * for its report.
 */
function background(mode: Mode, argv: string[], conf: Conf): number {
  const plan = planSandbox(conf, processIds());
  if (mode === "pasta") checkNsTarget(conf);
  const pidFd = conf.pidFile ? openPidFile(conf.pidFile) : -1;
  let listener = -1;
  try {
    listener = openAsCaller(mode, conf, plan);
    const pid = startDaemon(selfCommandFor(mode), argv, plan);
    if (pid < 0) return 1;
    if (pidFd >= 0) writePid(pidFd, pid);
    return 0;
  } finally {
    if (listener >= 0) lib().pf_close(listener);
    if (pidFd >= 0) lib().pf_close(pidFd);
  }
}

/**
 * The name the launcher loads the bundle with, once per user and build, to
 * fill the user's Deno cache: Deno stores a module's compiled code only after
 * its evaluation ends, and ours otherwise ends only in `Deno.exit()`. Every
 * later start loads the compiled bundle instead of compiling it again (about
 * 20 ms of each start here). The launcher gives the cache's directory, whose
 * databases' logs are then emptied (`src/deno_cache.ts`).
 */
const WARM_UP = "warm-up";

/**
 * Whether the sandbox is complete (set-up done): the exit then leaves what
 * only we hold (memory, the emptied mount namespace, the tap device) to a copy
 * of the process, freed after our caller has seen us exit (`pf_exit()`, up
 * to 10 ms of `pasta -- cmd` here).
 */
let sandboxed = false;
/** pasta's tap device, which that copy keeps until then, or -1. */
let exitKeepFd = -1;

/** Exits with `status`, the quick way once sandboxed. */
function exit(status: number): never {
  if (sandboxed) lib().pf_exit(status, exitKeepFd);
  Deno.exit(status);
}

if (Deno.args[0] !== WARM_UP) exit(main(Deno.args));
else if (Deno.args[1]) compactDenoCacheLater(Deno.args[1]);
