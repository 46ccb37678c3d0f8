// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `lib.ts` - loads `libpasst_ffi.so` once per process.
 *
 * The path is `$PASST_FFI_LIB` if set; else, in a program built with
 * `deno compile`, `libpasst_ffi.so` next to the executable; else
 * `native/build/libpasst_ffi.so` in this tree (found from this module's URL,
 * which in the bundled program, `native/build/passt.js`, is the bundle's).
 * The library stays loaded for the life of the process.
 *
 * Binding a symbol costs about 0.2 ms (Deno compiles a call trampoline for
 * each, the first one after setting its compiler up): all 82 at once is 15 ms
 * of every start. Every process therefore binds each symbol on first use (a
 * process that only parses options and starts another copy of us uses about
 * fifteen); once bound, a symbol is a plain property of the table and costs
 * what one bound with the rest does (about 4 ns a call, measured with 10
 * million calls of each kind).
 *
 * Set-up calls each of its thirty-odd symbols a few times: those
 * ({@linkcode SET_UP_SYMBOLS}) are bound all at once when the library is
 * loaded, without a trampoline (declared to return a 4-byte struct, which is
 * how an `int32_t` comes back on x86-64 and AArch64, and read back into a
 * number): in half the time, without setting the compiler up, and in one
 * `Deno.dlopen()` instead of one each (3 against 6–9 ms on this machine, and
 * a collection fewer), for a few microseconds more per call.
 *
 * The process that runs the loop then binds, with trampolines, the symbols
 * set-up bound that way and the ones it did not use, a few at a time
 * ({@linkcode bindSome}), once it has told its caller it is ready, in the
 * loop's idle moments, so that neither the caller's wait nor a packet pays
 * for them; from then on a symbol used first gets its trampoline at once.
 * That happens after the sandbox has taken the library's path away: binding
 * finds the library already loaded by that same path name, without opening a
 * file (the dynamic loader compares names first), and needs only memory for
 * each call trampoline.
 *
 * @module
 */

import { SYMBOLS } from "./symbols.ts";

/** Typed functions of the native library. */
export type NativeSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let loaded: NativeSymbols | null = null;

/** File name of the library next to a compiled executable. */
export const LIB_NAME = "libpasst_ffi.so";

/** File name of the bundled program `deno task build` writes beside the library. */
export const BUNDLE_NAME = "passt.js";

/**
 * The tree's root directory (where `main.ts` and `deno.json` are), with a
 * trailing slash, for this module's URL `url`: `ffi/lib.ts` in the sources,
 * or the bundle in `native/build/`, whose URL every bundled module shares.
 */
export function treeDir(url: string = import.meta.url): string {
  const up = url.endsWith(`/native/build/${BUNDLE_NAME}`) ? "../../" : "../";
  return new URL(up, url).pathname;
}

/** Where the library is when not overridden: next to a compiled `exe`, else in this tree. */
export function defaultLibPath(standalone: boolean, exe: string): string {
  if (standalone) return `${exe.slice(0, exe.lastIndexOf("/") + 1)}${LIB_NAME}`;
  return `${treeDir()}native/build/${LIB_NAME}`;
}

/** Path the library is loaded from: `$PASST_FFI_LIB`, or {@linkcode defaultLibPath}. */
export function libPath(): string {
  let env: string | undefined;
  try {
    env = Deno.env.get("PASST_FFI_LIB");
  } catch (e) {
    // Without --allow-env, the override is simply not available
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
  }
  if (env) return env;
  return defaultLibPath(Deno.build.standalone, Deno.build.standalone ? Deno.execPath() : "");
}

/** Path of the `passt-helper` program, built beside the library. */
export function helperPath(): string {
  const lib = libPath();
  return lib.slice(0, lib.lastIndexOf("/") + 1) + "passt-helper";
}

/**
 * What a start of pasta or passt calls before it tells its caller it is
 * ready, up to its exit (the foreground's command ending): bound together,
 * for set-up, when the library is loaded. Whatever else set-up needs (a mode's
 * or an option's own) is bound on first use, as the rest is later.
 */
export const SET_UP_SYMBOLS: readonly (keyof typeof SYMBOLS)[] = [
  // options, host discovery, the loop
  "pf_getids",
  "pf_open",
  "pf_read",
  "pf_write",
  "pf_close",
  "pf_fcntl",
  "pf_netlink_open",
  "pf_recv",
  "pf_send",
  "pf_isolate_begin",
  "pf_raise_nofile",
  "pf_epoll_create",
  "pf_epoll_ctl",
  "pf_epoll_wait",
  "pf_getrandom",
  "pf_pipe2",
  "pf_signal_pipe",
  "pf_waitpid",
  // sockets: TCP, UDP, forwarding; passt's listener
  "pf_socket",
  "pf_bind",
  "pf_listen",
  "pf_connect",
  "pf_setsockopt_int",
  "pf_getsockopt_int",
  // pasta: the namespace, its socket server and tap device; the daemon
  "pf_spawn_ns",
  "pf_same_file",
  "pf_pidfd_open",
  "pf_ns_tap_open",
  "pf_ns_server_start",
  "pf_ns_ifindex",
  "pf_ns_socket",
  "pf_ns_sockets",
  "pf_ns_bind_socket",
  "pf_detach_stdio",
  // the sandbox, and the exit
  "pf_isolate",
  "pf_seccomp",
  "pf_exit",
];

/** Whether symbols are still bound for set-up: until {@linkcode endSetUp} or {@linkcode bindSome}. */
let settingUp = true;
/** Symbols bound for set-up, without a trampoline, that {@linkcode bindSome} binds again. */
const setUpBound = new Set<string>();

/**
 * Symbols each {@linkcode bindSome} slice of the loop binds: about 1 ms, the
 * longest an event then waits (pasta's command ending, 2 ms sooner than
 * with 8 a slice).
 */
export const BIND_SLICE = 3;

/**
 * How long after its caller is told it is ready the loop starts binding:
 * the caller then goes on (a container engine, pasta's command) without our
 * 20 ms or so of binding in the way on this machine's two CPUs. Symbols used
 * meanwhile are bound, with trampolines, on first use.
 */
export const BIND_DELAY_MS = 50;

/** Ends set-up: symbols used first from now on are bound with their trampolines. */
export function endSetUp(): void {
  settingUp = false;
}

/**
 * Binds, in one call, up to `max` of the symbols not used so far; returns
 * whether any are left unbound.
 */
export function bindSome(max: number): boolean {
  const table = lib() as unknown as Record<string, unknown>;
  settingUp = false;
  // Not bound yet (still the accessor lazySymbols() put there), or bound for
  // set-up, without a trampoline
  const unbound = Object.keys(SYMBOLS).filter((n) =>
    Object.getOwnPropertyDescriptor(table, n)?.get || setUpBound.has(n)
  );
  const names = unbound.slice(0, max);
  if (names.length === 0) return false;
  const def: Record<string, unknown> = {};
  for (const name of names) def[name] = SYMBOLS[name as keyof typeof SYMBOLS];
  const fns = Deno.dlopen(libPath(), def as Partial<typeof SYMBOLS>).symbols as Record<
    string,
    unknown
  >;
  for (const name of names) {
    // (final: not configurable, unlike an accessor or a set-up binding)
    Object.defineProperty(table, name, { value: fns[name], configurable: false });
    setUpBound.delete(name);
  }
  return unbound.length > names.length;
}

/**
 * Binds `names` of the library at `path` in one call, without call
 * trampolines, for set-up, as properties of `table`.
 */
function bindForSetUp(
  path: string,
  names: readonly (keyof typeof SYMBOLS)[],
  table: Record<string, unknown>,
): void {
  // An int32_t result comes back in a register, as a 4-byte struct would
  const def: Record<string, unknown> = {};
  for (const name of names) def[name] = { ...SYMBOLS[name], result: { struct: ["i32"] } };
  const raw = Deno.dlopen(path, def as never).symbols as unknown as Record<
    string,
    (...args: unknown[]) => Uint8Array
  >;
  for (const name of names) {
    const fn = raw[name]!;
    const slow = (...args: unknown[]): number => {
      const r = fn(...args);
      return r[0]! | (r[1]! << 8) | (r[2]! << 16) | (r[3]! << 24);
    };
    Object.defineProperty(table, name, { value: slow, enumerable: true, configurable: true });
    setUpBound.add(name);
  }
}

/**
 * A table whose symbols are bound on first use, but for
 * {@linkcode SET_UP_SYMBOLS}, bound now (for set-up, while that lasts).
 */
function lazySymbols(path: string): NativeSymbols {
  const table: Record<string, unknown> = {};
  // Opens the library now, so that a missing one fails here as binding would
  if (settingUp) bindForSetUp(path, SET_UP_SYMBOLS, table);
  else Deno.dlopen(path, {});
  for (const name of Object.keys(SYMBOLS) as (keyof typeof SYMBOLS)[]) {
    if (setUpBound.has(name)) continue;
    Object.defineProperty(table, name, {
      configurable: true,
      enumerable: true,
      get(): unknown {
        if (settingUp) {
          bindForSetUp(path, [name], table);
          return table[name];
        }
        const def = { [name]: SYMBOLS[name] } as Pick<typeof SYMBOLS, typeof name>;
        const fn = Deno.dlopen(path, def).symbols[name];
        Object.defineProperty(table, name, { value: fn, configurable: false });
        return fn;
      },
    });
  }
  return table as NativeSymbols;
}

/** The native library's symbols, loading the library on first use. */
export function lib(): NativeSymbols {
  if (loaded) return loaded;

  const path = libPath();
  try {
    loaded = lazySymbols(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw e;
    }
    // Deno repeats "Could not open library: "; the loader's own words follow
    const reason = (e instanceof Error ? e.message : String(e))
      .replace(/^(Could not open library: )+/, "")
      .replace(`${path}: `, "");
    throw new Error(
      `Cannot load native library ${path}: ${reason}; build it with "deno task build"`,
      { cause: e },
    );
  }
  return loaded;
}
