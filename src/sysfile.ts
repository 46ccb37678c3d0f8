// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `sysfile.ts` - /proc and /sys files, and process IDs, through the native library
 *
 * Deno asks for `--allow-all` before it opens anything under /proc, so reading
 * `/proc/net/tcp` or writing `/proc/PID/uid_map` goes through our library with
 * plain open/read/write, as does asking for our own user and group IDs (which
 * would otherwise need `--allow-sys`). Cold paths only.
 *
 * @module
 */

import { lib } from "../ffi/lib.ts";
import { EINTR, strerror } from "../ffi/errno.ts";
import { O_CLOEXEC, O_RDONLY, O_WRONLY } from "../ffi/sys.ts";

function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(s + "\0");
}

/** Error reading or writing a system file, with errno. */
export class SysFileError extends Error {
  /** Creates the error for `what` failing on `path` with `errno`. */
  constructor(what: string, path: string, readonly errno: number) {
    super(`Cannot ${what} ${path}: ${strerror(errno)}`);
    this.name = "SysFileError";
  }
}

/** Reads all of the already open `fd` from its current position. */
export function readFd(fd: number): string {
  const ffi = lib();
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = ffi.pf_read(fd, buf, 0, buf.length);
    if (n === -EINTR) continue;
    if (n <= 0) break;
    chunks.push(buf.slice(0, n));
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Reads a whole file (e.g. under /proc); throws {@linkcode SysFileError}. */
export function readSysFile(path: string): string {
  const ffi = lib();
  const fd = ffi.pf_open(cstr(path), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) throw new SysFileError("open", path, -fd);
  try {
    return readFd(fd);
  } finally {
    ffi.pf_close(fd);
  }
}

/** Reads a whole file, or returns "" if it can't be read. */
export function readSysFileOr(path: string): string {
  try {
    return readSysFile(path);
  } catch {
    return "";
  }
}

/** Writes `text` to a file in one call (e.g. /proc/PID/uid_map); throws on failure. */
export function writeSysFile(path: string, text: string): void {
  const ffi = lib();
  const fd = ffi.pf_open(cstr(path), O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) throw new SysFileError("open", path, -fd);
  try {
    const data = new TextEncoder().encode(text);
    const n = ffi.pf_write(fd, data, 0, data.length);
    if (n < 0) throw new SysFileError("write", path, -n);
  } finally {
    ffi.pf_close(fd);
  }
}

/** Real and effective IDs of this process. */
export interface Ids {
  uid: number;
  gid: number;
  euid: number;
  egid: number;
}

/** Our real and effective user and group IDs. */
export function processIds(): Ids {
  const w = new Uint32Array(4);
  lib().pf_getids(new Uint8Array(w.buffer));
  return { uid: w[0]!, gid: w[1]!, euid: w[2]!, egid: w[3]! };
}
