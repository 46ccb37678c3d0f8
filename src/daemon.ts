// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `daemon.ts` - going to the background only once set-up is complete
 *
 * Theory of operation: `fork()` is not an option in a multithreaded runtime, so
 * the foreground process (the parent) starts a fresh copy of itself, the
 * daemon, through a native helper (new session, standard descriptors on
 * /dev/null), with the write end of a readiness pipe whose number is in
 * `PASST_DAEMON_FD`. The daemon does the whole set-up (ports bound, namespace
 * joined and configured, socket listening), and then reports on the pipe: an
 * empty message means ready, anything else is the error to print. The parent waits for that, writes the daemon's PID to the PID
 * file, opened before (the daemon may run in a PID namespace of its own, where it can't know
 * that number), prints the error if there is one, and exits 0 or 1, which
 * is what Podman, RootlessKit, libvirt and QEMU wait for.
 *
 * What needs the caller's privileges is done by the parent, before the daemon
 * changes user: the PID file, the log file (created for that user), and
 * passt's listening socket (a path in a root-owned directory works, as
 * upstream), passed on as an inherited descriptor named in `PASST_LISTEN_FD`.
 *
 * @module
 */

import { lib } from "../ffi/lib.ts";
import { type SandboxPlan, spawnIsolated } from "./isolation.ts";
import { O_CLOEXEC } from "../ffi/sys.ts";

/** Environment variable carrying the readiness pipe to the daemon. */
export const DAEMON_FD_ENV = "PASST_DAEMON_FD";
/**
 * Environment variable carrying passt's listening socket, bound by the parent
 * before the daemon changes user (as upstream's conf_open_files()), as
 * `FD:PATH`.
 */
export const LISTEN_FD_ENV = "PASST_LISTEN_FD";

/** In the daemon: passt's listening socket bound by the parent, or null. */
export function inheritedListener(): { fd: number; path: string } | null {
  const v = Deno.env.get(LISTEN_FD_ENV);
  if (v === undefined) return null;
  Deno.env.delete(LISTEN_FD_ENV);
  const m = /^(\d+):(.+)$/s.exec(v);
  if (m === null) return null;
  const fd = Number(m[1]);
  lib().pf_fcntl(fd, 2, /* F_SETFD */ 1 /* FD_CLOEXEC */);
  return { fd, path: m[2]! };
}

/** In the parent: hands the listening socket `fd` bound at `path` to the daemon to come. */
export function passListener(fd: number, path: string): void {
  lib().pf_fcntl(fd, 2, /* F_SETFD */ 0);
  Deno.env.set(LISTEN_FD_ENV, `${fd}:${path}`);
}

/**
 * The command that starts a copy of this program as `mode`: Deno (`exe`) on
 * `entry`, the program this process runs (the tree's `main.ts` or its bundle),
 * with the tree's `deno.json` at `treeDir`, the launcher's own flags and
 * library `lib` (not the launcher script again: its shell start costs a few
 * processes), or, in a program built with `deno compile`, the executable
 * itself, whose mode is its first embedded argument.
 */
export function selfCommand(
  mode: string,
  standalone: boolean,
  exe: string,
  treeDir: string,
  lib: string,
  entry: string,
): string[] {
  if (standalone) return [exe];
  return [
    exe,
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    `${treeDir}deno.json`,
    `--allow-ffi=${lib}`,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    entry,
    mode,
  ];
}

/** In the daemon: the readiness pipe's fd, or -1 when running in the foreground. */
export function daemonFd(): number {
  const v = Deno.env.get(DAEMON_FD_ENV);
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  Deno.env.delete(DAEMON_FD_ENV);
  const fd = Number(v);
  lib().pf_fcntl(fd, 2, /* F_SETFD */ 1 /* FD_CLOEXEC */);
  return fd;
}

/** In the daemon: reports readiness (empty `error`) or a set-up failure to the parent. */
export function notifyParent(fd: number, error = ""): void {
  if (fd < 0) return;
  const ffi = lib();
  const msg = new TextEncoder().encode(error || "\0");
  let off = 0;
  while (off < msg.length) {
    const n = ffi.pf_write(fd, msg, off, msg.length - off);
    if (n <= 0) break;
    off += n;
  }
  ffi.pf_close(fd);
}

/**
 * In the parent: starts the daemon as `command... args...` and waits for its
 * report; returns the daemon's PID once it is ready, or -1 having printed
 * why not.
 */
export function startDaemon(command: string[], args: string[], plan: SandboxPlan): number {
  const ffi = lib();
  const fds = new Int32Array(2);
  const enc = new TextEncoder();
  if (ffi.pf_pipe2(new Uint8Array(fds.buffer), O_CLOEXEC) < 0) {
    Deno.stderr.writeSync(enc.encode("Cannot create pipe for daemon\n"));
    return -1;
  }
  const [rd, wr] = [fds[0]!, fds[1]!];
  Deno.env.set(DAEMON_FD_ENV, String(wr));
  let pid: number;
  try {
    pid = spawnIsolated([...command, ...args], wr, plan);
  } catch (e) {
    ffi.pf_close(rd);
    Deno.stderr.writeSync(enc.encode(`${(e as Error).message}\n`));
    return -1;
  } finally {
    Deno.env.delete(DAEMON_FD_ENV);
    Deno.env.delete(LISTEN_FD_ENV);
    ffi.pf_close(wr);
  }
  const buf = new Uint8Array(4096);
  let got = 0;
  for (;;) {
    const n = ffi.pf_read(rd, buf, got, buf.length - got);
    if (n === -4) continue;
    if (n <= 0) break;
    got += n;
    if (got === buf.length) break;
  }
  ffi.pf_close(rd);
  if (got === 1 && buf[0] === 0) return pid;
  const text = new TextDecoder().decode(buf.subarray(0, got)).replace(/\0/g, "");
  Deno.stderr.writeSync(enc.encode(text ? `${text}\n` : "Daemon exited during set-up\n"));
  return -1;
}
