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

import type { Mode } from "./src/context.ts";
import { ConfError, type ConfResult, formatConfSummary, parseConf } from "./src/conf/conf.ts";
import type { HostInfo, HostRequest } from "./src/conf/host_info.ts";
import { discoverHost, Netlink } from "./src/netlink.ts";
import {
  debug,
  err,
  info,
  Level,
  openLogFile,
  setIdent,
  setLevel,
  setLogTargets,
  warn,
} from "./src/log.ts";
import { describe, LoopFault } from "./src/loop/loop.ts";
import { openSyslog } from "./src/syslog.ts";
import { lib } from "./ffi/lib.ts";
import { VERSION } from "./src/conf/version.ts";
import { runLoop, setup, StartupError } from "./src/run.ts";
import { qrapMain } from "./src/passt/qrap.ts";
import { daemonFd, notifyParent, startDaemon } from "./src/daemon.ts";
import { processIds, readSysFileOr } from "./src/sysfile.ts";
import {
  applySeccomp,
  execSandboxed,
  isolate,
  planSandbox,
  sandboxed as inSandbox,
} from "./src/isolation.ts";

function modeOf(name: string): Mode | "qrap" | null {
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (base.includes("pasta")) return "pasta";
  if (base.includes("qrap")) return "qrap";
  if (base.includes("passt")) return "passt";
  return null;
}

function write(out: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  out.writeSync(new TextEncoder().encode(text));
}

function discover(req: HostRequest): HostInfo {
  let nl: Netlink;
  try {
    nl = Netlink.open();
  } catch {
    return { v4: null, v6: null };
  }
  try {
    return discoverHost(nl, req);
  } finally {
    nl.close();
  }
}

/** Points standard input, output and error, and the runtime's copies of them, at /dev/null. */
function detachStdio(): void {
  lib().pf_detach_stdio();
}

function writePidFile(path: string | null): void {
  if (!path) return;
  Deno.writeTextFileSync(path, `${Deno.pid}\n`);
}

function main(args: string[]): number {
  const [name = "", ...argv] = args;
  const mode = modeOf(name);
  if (mode === null) {
    write(Deno.stderr, `Unknown mode for ${name}: run as passt, pasta or qrap\n`);
    return 1;
  }
  if (mode === "qrap") return qrapMain(argv);
  setIdent(mode);

  let readyFd = daemonFd();
  let setupDone = false;
  let result: ConfResult;
  try {
    const ids = processIds();
    result = parseConf(mode, argv, discover, {
      euid: ids.euid,
      egid: ids.egid,
      uidMap: readSysFileOr("/proc/self/uid_map"),
    });
  } catch (e) {
    if (e instanceof ConfError) {
      if (readyFd >= 0) notifyParent(readyFd, e.message);
      else write(Deno.stderr, e.message + "\n");
      return 1;
    }
    throw e;
  }
  if (result.kind === "help") {
    write(Deno.stdout, result.text);
    return 1;
  }
  if (result.kind === "version") {
    write(Deno.stdout, result.text);
    return 0;
  }
  const conf = result.conf;
  const spawns = mode === "pasta" && !conf.targetPid && !conf.netns;
  if (spawns) {
    // pasta runs the command in the foreground and stays quiet unless debugging.
    conf.foreground = true;
    if (!conf.debug) conf.quiet = true;
  }
  const here = new URL(".", import.meta.url).pathname;
  if (!conf.foreground && readyFd < 0) {
    const plan = planSandbox(conf, processIds());
    return startDaemon(`${here}${mode}`, argv, conf.pidFile, plan);
  }

  setLevel(conf.debug ? Level.DEBUG : conf.quiet ? Level.ERR : Level.INFO, conf.trace);
  const sandboxed = readyFd >= 0 || inSandbox();
  if (!sandboxed) {
    // In the foreground, the same sandbox as the daemon's, entered by
    // exec'ing ourselves in place: warnings and the PID file now, as the
    // files and IDs we have now may be gone then
    for (const w of result.warnings) warn(w);
    writePidFile(conf.pidFile);
    const msg = execSandboxed([`${here}${mode}`, ...argv], planSandbox(conf, processIds()));
    write(Deno.stderr, msg + "\n");
    return 1;
  }
  if (conf.logFile) {
    try {
      openLogFile(conf.logFile, conf.logSize, Deno.execPath(), VERSION);
    } catch (e) {
      const msg = `Couldn't open log file ${conf.logFile}: ${(e as Error).message}`;
      if (readyFd >= 0) notifyParent(readyFd, msg);
      else write(Deno.stderr, msg + "\n");
      return 1;
    }
  }
  if (readyFd >= 0) { for (const w of result.warnings) warn(w); }
  try {
    const rt = setup(conf);
    if (!conf.quiet) { for (const line of formatConfSummary(conf)) info(line); }
    if (readyFd >= 0) {
      // Messages so far reached the caller's terminal; from now on, syslog (or
      // the log file), and our standard descriptors no longer hold the
      // caller's pipes open (Podman waits for their end).
      const syslog = conf.logFile ? null : openSyslog();
      detachStdio();
      setLogTargets({ stderr: false, syslog });
    }
    // Started in our own mount namespace (daemon, or foreground through
    // passt-helper): empty root, no capabilities
    isolate(mode, true);
    applySeccomp(mode);
    notifyParent(readyFd);
    readyFd = -1;
    setupDone = true;
    return runLoop(rt);
  } catch (e) {
    // One line, never a stack trace (with --debug, the trace as a debug message)
    const expected = e instanceof StartupError || e instanceof ConfError ||
      e instanceof LoopFault;
    const msg = expected ? (e as Error).message : describe(e);
    if (readyFd >= 0) notifyParent(readyFd, msg);
    else if (!setupDone) write(Deno.stderr, msg + "\n");
    else err(msg);
    if (!expected && e instanceof Error && e.stack) debug(e.stack);
    return 1;
  }
}

/** Runs main(): whatever escapes it is still one line and status 1. */
function guarded(args: string[]): number {
  try {
    return main(args);
  } catch (e) {
    write(Deno.stderr, describe(e) + "\n");
    return 1;
  }
}

Deno.exit(guarded(Deno.args));
