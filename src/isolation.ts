// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `isolation.ts` - the sandbox: namespaces, IDs, root, capabilities, seccomp
 *
 * Theory of operation, in upstream's order, adapted to a multithreaded
 * runtime (docs/design.md §1):
 *
 * 1. {@linkcode planSandbox}: in the foreground process, decide how the daemon
 *    starts. IDs change first (`--runas`, or `nobody` for root in the initial
 *    user namespace), then the user namespace: pasta joins its target's
 *    (`--userns`, a PID target's), or, with `--netns` alone (which implies
 *    `--netns-only`), stays in ours, since it must be able to enter a network
 *    namespace owned by it; passt and every other case create a new one that
 *    maps 0 to our UID. Then new mount, IPC, UTS and PID namespaces (not PID
 *    for a PID target, which is watched by its number). The
 *    capabilities needed for set-up (CAP_SYS_ADMIN to enter namespaces and
 *    to pivot_root, CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, CAP_SYS_PTRACE for
 *    other users' /proc/PID/ns files) survive the change of UID as ambient
 *    ones; the bounding set loses the rest.
 * 2. `pf_spawn_isolated` starts the daemon inside all of that, so that every
 *    runtime thread is born there.
 * 3. {@linkcode isolate}: after set-up, with every file, socket and namespace
 *    descriptor open, the root of our private mount namespace becomes an
 *    empty read-only tmpfs, and every thread drops its capabilities (pasta's
 *    sockets in the namespace at run time come from the namespace socket
 *    server, `native/ns_server.c`, which keeps at most CAP_NET_BIND_SERVICE).
 * 4. {@linkcode applySeccomp}: PR_SET_NO_NEW_PRIVS, not dumpable, and the
 *    allow-list for all threads (SECCOMP_FILTER_FLAG_TSYNC), just before the
 *    main loop. Anything else kills the process. The list is generated at
 *    build time from `#syscalls` annotations beside the code needing them.
 *
 * In the foreground (pasta running a command, or `--foreground`) the same
 * sandbox applies, as upstream's: the process execs itself in place through
 * `passt-helper sandbox` ({@linkcode execSandboxed}), a small single-threaded
 * program that does step 2's work and execs the runtime again, which keeps
 * the PID, the terminal and the parent. Without a new PID namespace: the
 * process stays where its caller sees it, and the children it makes at run
 * time (namespace helpers) mustn't be the init of an empty PID namespace.
 *
 * Allow-lists: the annotations below were found by tracing the end-to-end
 * tests (`strace -f`, system calls made after the filter is installed), and
 * say which part needs them.
 *
 * The runtime (V8 platform workers, tokio, the allocator), idle and under load:
 * #syscalls futex mmap munmap mprotect madvise mremap brk sched_yield
 * #syscalls clone clone3 set_robust_list rseq prctl sched_getaffinity sigaltstack
 * #syscalls rt_sigprocmask rt_sigreturn gettid getpid tgkill getrandom
 * #syscalls clock_gettime clock_nanosleep nanosleep exit exit_group restart_syscall
 * #syscalls sched_getparam sched_getscheduler openat
 * The main loop (src/loop/loop.ts, native/epoll.c), signal pipe, timers, log:
 * #syscalls epoll_wait epoll_pwait epoll_ctl read write writev close
 * #syscalls timerfd_create timerfd_settime timerfd_gettime lseek ftruncate fallocate
 * Sockets for TCP, UDP, ICMP and the passt socket (src/proto/, src/passt/):
 * #syscalls socket bind connect listen accept4 shutdown getsockopt setsockopt
 * #syscalls getsockname recvfrom recvmsg recvmmsg sendto sendmsg sendmmsg fcntl
 * pasta: /proc/net rescans, the namespace helper at run time (clone, setns, reaping),
 * a spawned command's exit, splice:
 * #syscalls:pasta setns wait4 waitid pipe2 splice ioctl
 * @module
 */

import type { Conf } from "./context.ts";
import { helperPath, lib, libPath } from "../ffi/lib.ts";
import { debug, info } from "./log.ts";
import {
  argvBuf,
  CLONE_NEWIPC,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  cstr,
  O_CLOEXEC,
  O_RDONLY,
} from "../ffi/sys.ts";
import { strerror } from "../ffi/errno.ts";

const CAP_SETPCAP = 8;
const CAP_NET_BIND_SERVICE = 10;
const CAP_NET_ADMIN = 12;
const CAP_SYS_CHROOT = 18;
const CAP_SYS_PTRACE = 19;
const CAP_SYS_ADMIN = 21;

/** pf_isolate() flags (native/passt_ffi.h). */
const ISOLATE_PIVOT = 1;
const ISOLATE_CHROOT = 2;

/** Capabilities the daemon keeps until set-up is complete. */
export const SETUP_CAPS = (1 << CAP_SYS_ADMIN) | (1 << CAP_NET_ADMIN) |
  (1 << CAP_NET_BIND_SERVICE) | (1 << CAP_SYS_PTRACE) | (1 << CAP_SETPCAP);

/** How the daemon is started. */
export interface SandboxPlan {
  /** User namespace file to join, or null. */
  usernsPath: string | null;
  /** UID to switch to, -1 to keep ours. */
  uid: number;
  /** GID to switch to, -1 to keep ours. */
  gid: number;
  /** CLONE_NEW* flags: namespaces to create. */
  flags: number;
  /** Capabilities (bits 0..31) kept for set-up. */
  keepCaps: number;
}

/** Our effective IDs, for {@linkcode planSandbox}. */
export interface Ids {
  euid: number;
  egid: number;
}

/** Decides namespaces, IDs and capabilities of the daemon for `conf`. */
export function planSandbox(conf: Conf, ids: Ids): SandboxPlan {
  const uid = conf.uid !== ids.euid ? conf.uid : -1;
  const gid = conf.gid !== ids.egid ? conf.gid : -1;
  let usernsPath: string | null = null;
  let newUser = true;
  if (conf.mode === "pasta") {
    if (conf.netnsOnly || (conf.netns && !conf.userns)) newUser = false;
    else if (conf.userns) usernsPath = conf.userns;
    else if (conf.targetPid) usernsPath = `/proc/${conf.targetPid}/ns/user`;
    if (usernsPath) newUser = false;
  }
  // A PID target is watched through a pidfd opened by PID: keep our PID namespace
  // (so is a /proc/PID/ns/net path: its process is watched the same way)
  const procTarget = conf.netns !== null && /^\/proc\/\d+\//.test(conf.netns);
  const pidns = conf.mode === "pasta" && (conf.targetPid || procTarget) ? 0 : CLONE_NEWPID;
  const flags = (newUser ? CLONE_NEWUSER : 0) | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | pidns;
  // --chroot-fallback needs CAP_SYS_CHROOT until the root is moved, as upstream keeps it
  const keepCaps = SETUP_CAPS | (conf.chrootFallback ? 1 << CAP_SYS_CHROOT : 0);
  return { usernsPath, uid, gid, flags, keepCaps };
}

/**
 * Starts the daemon `argv` in its sandbox with the readiness pipe `keepFd`;
 * returns its PID, or throws an Error naming the step that failed.
 */
export function spawnIsolated(argv: string[], keepFd: number, plan: SandboxPlan): number {
  const ffi = lib();
  const buf = argvBuf(argv);
  let userns = -1;
  if (plan.usernsPath) {
    userns = ffi.pf_open(cstr(plan.usernsPath), O_RDONLY | O_CLOEXEC, 0);
    if (userns < 0) {
      throw new Error(`Couldn't open user namespace ${plan.usernsPath}: ${strerror(-userns)}`);
    }
  }
  const err = new Uint8Array(64);
  const pid = ffi.pf_spawn_isolated(
    buf,
    keepFd,
    userns,
    plan.uid,
    plan.gid,
    plan.flags,
    plan.keepCaps,
    err,
  );
  if (userns >= 0) ffi.pf_close(userns);
  if (pid < 0) {
    const end = err.indexOf(0);
    const step = new TextDecoder().decode(err.subarray(0, end < 0 ? err.length : end));
    throw new Error(`Couldn't start sandboxed daemon (${step}): ${strerror(-pid)}`);
  }
  return pid;
}

/**
 * Environment variable that tells the runtime it was started inside its
 * sandbox: `1` when the foreground exec'd itself there, or
 * `early:FLAGS:CAPS:USERNS` when the launcher entered it (or started the
 * daemon in it) before the runtime's first start.
 */
export const SANDBOXED_ENV = "PASST_SANDBOXED";

/** The sandbox the launcher entered: namespaces, capabilities, user namespace joined. */
export interface EarlySandbox {
  kind: "early";
  flags: number;
  caps: number;
  userns: string | null;
}

/**
 * How this process came to run in its sandbox: `again` (the foreground's
 * second start), `early` (the launcher's single start), or null (not yet
 * sandboxed, or a daemon the runtime started).
 */
export type SandboxStart = { kind: "again" } | EarlySandbox | null;

/** Whether, and how, this process runs inside its sandbox already (reads and clears the mark). */
export function sandboxed(): SandboxStart {
  const v = Deno.env.get(SANDBOXED_ENV);
  if (v === undefined) return null;
  Deno.env.delete(SANDBOXED_ENV);
  if (v === "1") return { kind: "again" };
  const m = /^early:(\d+):(\d+):(.*)$/s.exec(v);
  if (m === null) return null;
  return { kind: "early", flags: Number(m[1]), caps: Number(m[2]), userns: m[3] || null };
}

/**
 * Whether the sandbox the launcher entered (`early`) is the one `plan` asks
 * for, in the foreground (which has no PID namespace of its own, as
 * {@linkcode execSandboxed}) or as a daemon.
 */
export function earlyMatches(early: EarlySandbox, plan: SandboxPlan, foreground: boolean): boolean {
  const flags = foreground ? plan.flags & ~CLONE_NEWPID : plan.flags;
  return plan.usernsPath === early.userns && plan.uid < 0 && plan.gid < 0 &&
    flags >>> 0 === early.flags && plan.keepCaps >>> 0 === early.caps;
}

/**
 * In the foreground: execs `argv` in place inside the sandbox of `plan`
 * through `passt-helper sandbox` (without a PID namespace). Returns only on
 * failure, with the message to print.
 */
export function execSandboxed(argv: string[], plan: SandboxPlan): string {
  const ffi = lib();
  let userns = -1;
  if (plan.usernsPath) {
    // Inherited by the helper, which joins it and closes it
    userns = ffi.pf_open(cstr(plan.usernsPath), O_RDONLY, 0);
    if (userns < 0) return `Cannot open ${plan.usernsPath}: ${strerror(-userns)}`;
  }
  const flags = plan.flags & ~CLONE_NEWPID;
  const args = [
    helperPath(),
    "sandbox",
    String(userns),
    String(plan.uid),
    String(plan.gid),
    String(flags >>> 0),
    String(plan.keepCaps >>> 0),
    ...argv,
  ];
  Deno.env.set(SANDBOXED_ENV, "1");
  // The launcher skips its build check for a given library: it ran already
  const given = Deno.env.get("PASST_FFI_LIB");
  if (given === undefined) Deno.env.set("PASST_FFI_LIB", libPath());
  const rc = ffi.pf_execvp(argvBuf(args));
  if (given === undefined) Deno.env.delete("PASST_FFI_LIB");
  Deno.env.delete(SANDBOXED_ENV);
  if (userns >= 0) ffi.pf_close(userns);
  return `Couldn't start ${args[0]}: ${strerror(-rc)}`;
}

/**
 * After set-up, in the daemon: empty read-only root (when `pivot`, i.e. in
 * our own mount namespace; with `chrootFallback`, by chroot() where
 * pivot_root() fails) and capabilities dropped in every thread.
 */
/**
 * Has every other thread of the runtime drop its capabilities now, without
 * waiting: only the caller's thread needs them, for set-up, and
 * {@linkcode isolate} then finds the others done.
 */
export function beginIsolation(): void {
  const rc = lib().pf_isolate_begin();
  if (rc < 0) throw new Error(`Failed to sandbox process: ${strerror(-rc)}`);
}

export function isolate(pivot: boolean, chrootFallback = false): void {
  const how = pivot ? ISOLATE_PIVOT | (chrootFallback ? ISOLATE_CHROOT : 0) : 0;
  const rc = lib().pf_isolate(how, 0);
  if (rc < 0) throw new Error(`Failed to sandbox process: ${strerror(-rc)}`);
  if (rc === 1) info("Failed to pivot_root(), fallback to chroot()...");
}

/** Number of system calls the allow-list for `mode` holds. */
export function seccompSize(mode: "passt" | "pasta"): number {
  return lib().pf_seccomp(mode === "pasta" ? 1 : 0, 0);
}

/** Installs the seccomp allow-list for all threads, just before the main loop. */
export function applySeccomp(mode: "passt" | "pasta"): void {
  const n = lib().pf_seccomp(mode === "pasta" ? 1 : 0, 1);
  if (n < 0) throw new Error(`Failed to install seccomp filter: ${strerror(-n)}`);
  debug(`Seccomp filter installed: ${n} system calls allowed (${mode})`);
}
