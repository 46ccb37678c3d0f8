// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `pasta.ts` - pasta's namespaces: spawn a command, or join a PID or a path
 *
 * Theory of operation: this process is multithreaded, so it never enters a
 * namespace itself. To spawn a command, the native helper clones a child into
 * new network, UTS, IPC, PID and mount namespaces; as upstream's, it shares
 * our user namespace (the sandbox's, where 0 is the user we run as). The
 * child waits on a pipe while we open its namespace files, and only execs
 * the command once our set-up is complete ({@linkcode NsTarget.release}). To join a PID, its `/proc/PID/ns/{user,net}`
 * files are opened; `--netns` and `--userns` give the paths directly, and
 * `--netns-only` joins no user namespace.
 *
 * Everything inside the namespace (tap device, sockets, netlink, files) is then
 * done by native helpers that join the namespaces by these fds.
 *
 * @module
 */

import type { Conf } from "../context.ts";
import { NETNS_RUN_DIR } from "../conf/conf.ts";
import { lib } from "../../ffi/lib.ts";
import { info } from "../log.ts";
import {
  argvBuf,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  cstr,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  WNOHANG,
} from "../../ffi/sys.ts";
import { strerror } from "../../ffi/errno.ts";

/** Error in pasta's namespace set-up, with the message to print. */
export class NsError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "NsError";
  }
}

function openNs(path: string, kind: "network" | "user"): number {
  const fd = lib().pf_open(cstr(path), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    throw new NsError(`Couldn't open ${kind} namespace ${path}: ${strerror(-fd)}`);
  }
  return fd;
}

/** The namespaces pasta works in. */
export interface NsTarget {
  /** User namespace fd, -1 to join none. */
  userns: number;
  /** Network namespace fd. */
  netns: number;
  /** PID of the spawned command or of the PID target, 0 for a path target. */
  pid: number;
  /** Whether we spawned the command (its exit status becomes ours). */
  spawned: boolean;
  /** Path of a filesystem-bound netns target (for quitting when it is deleted), or "". */
  netnsPath: string;
  /** Lets the spawned command run: call once set-up is complete. */
  release(): void;
}

/**
 * The command to spawn: the given one, or `$SHELL` (else /bin/sh) as a login
 * shell, written `-PATH`: the native helper execs PATH with `-PATH` as argv[0].
 */
export function commandLine(conf: Conf): string[] {
  if (conf.command.length) return conf.command;
  return ["-" + (Deno.env.get("SHELL") || "/bin/sh")];
}

/** Spawns the command in new namespaces, stopped until {@linkcode NsTarget.release}. */
export function spawnNs(conf: Conf): NsTarget {
  const ffi = lib();
  const args = commandLine(conf);
  const fds = new Int32Array(2);
  const rc = ffi.pf_pipe2(new Uint8Array(fds.buffer), O_CLOEXEC);
  if (rc < 0) throw new NsError(`Cannot create pipe: ${strerror(-rc)}`);
  const [rd, wr] = [fds[0]!, fds[1]!];
  const buf = argvBuf(args);
  // As upstream's, the command shares our user namespace (made for the sandbox,
  // where 0 is the user we run as, see isolation.ts) and gets a mount
  // namespace of its own: ours becomes an empty root once set-up is done, and
  // pivot_root() would take the command along
  const flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS;
  // As upstream's, the command gets a /proc of its own (new PID namespace)
  // and the hostname given, else "pasta-" and ours
  const pid = ffi.pf_spawn_ns(buf, flags, rd, cstr(conf.hostname));
  ffi.pf_close(rd);
  if (pid < 0) {
    ffi.pf_close(wr);
    throw new NsError(`Cannot create namespaces for ${args[0]}: ${strerror(-pid)}`);
  }
  const userns = -1;
  const netns = openNs(`/proc/${pid}/ns/net`, "network");
  let released = false;
  return {
    userns,
    netns,
    pid,
    spawned: true,
    netnsPath: "",
    release(): void {
      if (released) return;
      released = true;
      ffi.pf_write(wr, new Uint8Array([1]), 0, 1);
      ffi.pf_close(wr);
    },
  };
}

/** The network and user namespace files a PID or `--netns`/`--userns` target names. */
function targetPaths(conf: Conf): { netnsPath: string; usernsPath: string | null } {
  let netnsPath = "";
  let usernsPath: string | null = conf.userns;
  if (conf.targetPid) {
    netnsPath = `/proc/${conf.targetPid}/ns/net`;
    if (!usernsPath && !conf.netnsOnly) usernsPath = `/proc/${conf.targetPid}/ns/user`;
  } else if (conf.netns) {
    netnsPath = conf.netns.includes("/") ? conf.netns : `${NETNS_RUN_DIR}/${conf.netns}`;
  }
  return { netnsPath, usernsPath: conf.netnsOnly ? null : usernsPath };
}

/**
 * Checks that the namespaces of a PID or `--netns`/`--userns` target can be
 * opened, as upstream opens them before going to the background; throws
 * {@linkcode NsError} with upstream's message if not. Nothing to check for a
 * command to spawn.
 */
export function checkNsTarget(conf: Conf): void {
  if (!conf.targetPid && !conf.netns) return;
  const { netnsPath, usernsPath } = targetPaths(conf);
  const ffi = lib();
  if (usernsPath) ffi.pf_close(openNs(usernsPath, "user"));
  ffi.pf_close(openNs(netnsPath, "network"));
}

/** Opens the namespaces of a PID, `--netns`/`--userns` paths, or `--netns-only`. */
export function joinNs(conf: Conf): NsTarget {
  const { netnsPath, usernsPath } = targetPaths(conf);
  const netns = openNs(netnsPath, "network");
  let userns = -1;
  if (usernsPath) userns = openNs(usernsPath, "user");
  // Joining our own user namespace is refused by the kernel: skip it then.
  if (userns >= 0 && lib().pf_same_file(userns, cstr("/proc/self/ns/user")) === 1) {
    lib().pf_close(userns);
    userns = -1;
  }
  return {
    userns,
    netns,
    pid: conf.targetPid,
    spawned: false,
    netnsPath: conf.targetPid ? "" : netnsPath,
    release(): void {},
  };
}

/** Whether the spawned or target process `pid` exited; returns its exit status or -1. */
export function reap(pid: number): number {
  const status = new Int32Array(1);
  const rc = lib().pf_waitpid(pid, new Uint8Array(status.buffer), WNOHANG);
  if (rc !== pid) return -1;
  const st = status[0]!;
  const sig = st & 0x7f;
  if (sig === 0) return (st >> 8) & 0xff;
  info(`Command terminated by signal ${sig}`);
  return 128 + sig;
}

/** Opens a file inside the target's network namespace (e.g. /proc/net/tcp6). */
export function nsOpen(t: NsTarget, path: string): number {
  const fd = lib().pf_ns_open(t.userns, t.netns, cstr(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw new NsError(`Cannot open ${path} in namespace: ${strerror(-fd)}`);
  return fd;
}
