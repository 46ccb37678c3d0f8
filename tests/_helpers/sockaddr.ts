// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Socket addresses and C strings for tests that call the native library
 * directly: encode a `struct sockaddr_*` to pass to `pf_bind()` and friends,
 * decode one the kernel wrote. They allocate; the product builds addresses
 * in its arena with `src/wire/sockaddr.ts`.
 *
 * @module
 */

import { AF_INET, AF_INET6, AF_UNIX } from "../../ffi/sys.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decode a NUL-terminated string from the start of a buffer. */
export function fromCstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return decoder.decode(end < 0 ? b : b.subarray(0, end));
}

/** IPv4 socket address: `addr` as a host-order `u32` (127.0.0.1 is 0x7f000001). */
export interface SockaddrIn {
  family: typeof AF_INET;
  addr: number;
  port: number;
}

/** IPv6 socket address: `addr` as four `u32` words, most significant first. */
export interface SockaddrIn6 {
  family: typeof AF_INET6;
  addr: [number, number, number, number];
  port: number;
  scopeId: number;
}

/** UNIX domain socket address; an abstract name starts with `"\0"`. */
export interface SockaddrUn {
  family: typeof AF_UNIX;
  path: string;
}

/** A parsed socket address. */
export type Sockaddr = SockaddrIn | SockaddrIn6 | SockaddrUn;

/** Encode a `struct sockaddr_in` (16 bytes) from a `u32` address and a port. */
export function sockaddrIn(addr: number, port: number): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_INET, LITTLE_ENDIAN);
  dv.setUint16(2, port);
  dv.setUint32(4, addr >>> 0);
  return b;
}

/** Encode a `struct sockaddr_in6` (28 bytes) from four `u32` words, a port and a scope. */
export function sockaddrIn6(
  words: readonly number[],
  port: number,
  scopeId = 0,
): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_INET6, LITTLE_ENDIAN);
  dv.setUint16(2, port);
  for (let i = 0; i < 4; i++) dv.setUint32(8 + 4 * i, (words[i] ?? 0) >>> 0);
  dv.setUint32(24, scopeId >>> 0, LITTLE_ENDIAN);
  return b;
}

/**
 * Encode a `struct sockaddr_un` of exactly the length to pass to bind or
 * connect: a path gets its NUL, an abstract name (leading `"\0"`) doesn't.
 * Throws RangeError if the name doesn't fit in 108 bytes.
 */
export function sockaddrUn(path: string): Uint8Array {
  const name = encoder.encode(path);
  const abstract = name[0] === 0;
  const len = 2 + name.length + (abstract ? 0 : 1);
  if (len > 110) throw new RangeError(`UNIX socket path too long: ${path}`);
  const b = new Uint8Array(len);
  new DataView(b.buffer).setUint16(0, AF_UNIX, LITTLE_ENDIAN);
  b.set(name, 2);
  return b;
}

/**
 * Decode a socket address written by `pf_accept4()`,
 * `pf_getsockname()` or a receive call.
 *
 * @param buf Bytes starting at the address
 * @param len Length the kernel reported, if known (needed for abstract names)
 * @returns The address, or `null` for another family
 */
export function parseSockaddr(buf: Uint8Array, len = buf.length): Sockaddr | null {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const family = dv.getUint16(0, LITTLE_ENDIAN);
  if (family === AF_INET && buf.length >= 16) {
    return { family, addr: dv.getUint32(4), port: dv.getUint16(2) };
  }
  if (family === AF_INET6 && buf.length >= 28) {
    return {
      family,
      addr: [dv.getUint32(8), dv.getUint32(12), dv.getUint32(16), dv.getUint32(20)],
      port: dv.getUint16(2),
      scopeId: dv.getUint32(24, LITTLE_ENDIAN),
    };
  }
  if (family === AF_UNIX) {
    const name = buf.subarray(2, Math.min(len, buf.length, 110));
    if (name[0] === 0) return { family, path: decoder.decode(name) };
    return { family, path: fromCstr(name) };
  }
  return null;
}

/**
 * Exit status as a shell reports it: the exit code, or 128 plus the signal.
 *
 * @param status Status word from `pf_waitpid()`
 */
export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  return 128 + sig;
}
