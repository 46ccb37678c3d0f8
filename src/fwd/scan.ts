// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/scan.ts` - which ports listen on each side: `/proc/net` for `auto`
 *
 * Theory of operation: `auto` rules (`FWD_SCAN`) listen on a port only while
 * something listens on it on the other side. {@linkcode Scanner.scan}
 * computes, in one pass, the four port maps: TCP and UDP in the namespace
 * (for `-t`/`-u` rules) and on the host (for `-T`/`-U`), from
 * `/proc/net/{tcp,tcp6,udp,udp6}` of each side, opened once at start-up (we
 * never enter the namespace to read them). As upstream, a UDP port counts as
 * listening when a UDP socket is bound to it or a TCP socket listens on it
 * (iperf3 and friends); our own listeners are taken out by the caller.
 *
 * Where the kernel answers sock_diag requests (`fwd/diag.ts`), a side's maps
 * come from its NETLINK_SOCK_DIAG socket instead, which costs the kernel a
 * walk of its listening sockets only, not of every socket it has. A side's
 * files are opened only if its socket didn't answer both protocols at
 * start-up (a kernel without a diag module), and read from then on for a
 * protocol whose request fails; a side without files keeps its last answer
 * when a request fails, and asks again at the next scan.
 *
 * Every file is read in pieces into one 64 KiB buffer, each piece's complete
 * lines parsed and the partial last line carried to the next read: memory
 * stays the same whatever the number of sockets on the host (a busy host's
 * `/proc/net/tcp` runs to megabytes: 20 000 sockets in TIME_WAIT after a
 * burst of short connections are 3 MB). The buffer grows only for a line
 * longer than itself, which the kernel does not write.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { SEEK_SET } from "../../ffi/sys.ts";
import type { DiagSocket } from "./diag.ts";
import { IPPROTO_TCP, IPPROTO_UDP } from "./nat.ts";

/** /proc/net/tcp* state of a listening socket. */
export const STATE_TCP_LISTEN = 0x0a;
/** /proc/net/udp* state of an unconnected (bound) socket. */
export const STATE_UDP_UNCONN = 0x07;
/** Bytes of a port bitmap (one bit per port, byte-addressed: port p is bit p & 7 of byte p >> 3). */
export const MAP_BYTES = 8192;

/** Read buffer of every scan (grown only for a line longer than itself). */
let scanBuf = new Uint8Array(64 * 1024);

/** Size of the scan buffer now (tests: it must not grow per scan). */
export function scanBufferSize(): number {
  return scanBuf.length;
}

function hexVal(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/**
 * Parses `/proc/net/{tcp,udp}{,6}` text in `buf[0, len)` and sets, in the byte-addressed
 * bitmap `out`, the local port of every socket in `state`; returns the number of such
 * sockets. Header lines and malformed lines are skipped.
 */
export function parseProcNet(buf: Uint8Array, len: number, state: number, out: Uint8Array): number {
  let found = 0;
  let p = 0;
  while (p < len) {
    let eol = buf.indexOf(0x0a, p);
    if (eol < 0 || eol > len) eol = len;
    // Fields: sl local_address rem_address st ...
    let f = 0;
    let q = p;
    let port = -1;
    let st = -1;
    while (q < eol && f < 4) {
      while (q < eol && buf[q] === 0x20) q++;
      const s = q;
      while (q < eol && buf[q] !== 0x20) q++;
      if (f === 1) {
        const colon = buf.lastIndexOf(0x3a, q - 1);
        if (colon > s && q - colon === 5) {
          port = 0;
          for (let k = colon + 1; k < q; k++) {
            const v = hexVal(buf[k]!);
            if (v < 0) {
              port = -1;
              break;
            }
            port = port * 16 + v;
          }
        }
      } else if (f === 3 && q - s === 2) {
        const h = hexVal(buf[s]!), l = hexVal(buf[s + 1]!);
        if (h >= 0 && l >= 0) st = h * 16 + l;
      }
      f++;
    }
    if (port >= 0 && st === state) {
      out[port >> 3]! |= 1 << (port & 7);
      found++;
    }
    p = eol + 1;
  }
  return found;
}

/**
 * Reads an open `/proc/net/...` file from offset 0, a buffer at a time, and
 * marks the ports in `state` in `out`; returns the number found, or -errno.
 */
export function scanProcNet(fd: number, state: number, out: Uint8Array): number {
  if (fd < 0) return 0;
  const ffi = lib();
  const rc = ffi.pf_lseek(fd, 0, SEEK_SET);
  if (rc < 0) return rc;
  let found = 0;
  // Bytes in the buffer: the carried partial line, then what the last read added
  let len = 0;
  for (;;) {
    if (len === scanBuf.length) {
      const bigger = new Uint8Array(scanBuf.length * 2);
      bigger.set(scanBuf);
      scanBuf = bigger;
    }
    const n = ffi.pf_read(fd, scanBuf, len, scanBuf.length - len);
    if (n < 0) return n;
    // At the end, a last line without its newline is a short read's: dropped
    if (n === 0) break;
    len += n;
    const lines = scanBuf.lastIndexOf(0x0a, len - 1) + 1;
    if (lines === 0) continue;
    found += parseProcNet(scanBuf, lines, state, out);
    scanBuf.copyWithin(0, lines, len);
    len -= lines;
  }
  return found;
}

/** Descriptors of one side's `/proc/net` files (-1: not open). */
export interface ProcNetFds {
  tcp4: number;
  tcp6: number;
  udp4: number;
  udp6: number;
}

/** The four port maps of one scan. */
export class Scanner {
  /** Listening TCP ports in the namespace, bound UDP (or listening TCP) ports there. */
  readonly nsTcp = new Uint8Array(MAP_BYTES);
  readonly nsUdp = new Uint8Array(MAP_BYTES);
  /** The same on the host. */
  readonly hostTcp = new Uint8Array(MAP_BYTES);
  readonly hostUdp = new Uint8Array(MAP_BYTES);

  /**
   * Scans through `ns` (the namespace's files) and `host` (ours), either may be null, or
   * through each side's sock_diag socket where given and answering.
   */
  constructor(
    readonly ns: ProcNetFds | null,
    readonly host: ProcNetFds | null,
    nsDiag: DiagSocket | null = null,
    hostDiag: DiagSocket | null = null,
  ) {
    this.#ns = new Side(ns, nsDiag);
    this.#host = new Side(host, hostDiag);
  }

  readonly #ns: Side;
  readonly #host: Side;

  /** Recomputes the maps of the sides that are open, in one pass. */
  scan(): void {
    this.#ns.scan(this.nsTcp, this.nsUdp);
    this.#host.scan(this.hostTcp, this.hostUdp);
  }

  /**
   * Whether `side` has no `/proc/net` files and sock_diag did not answer its
   * last scan (or it has no sock_diag socket): it then needs
   * {@linkcode Scanner.useFiles}, before the sandbox takes `/proc` away.
   */
  needsFiles(side: "ns" | "host"): boolean {
    return (side === "ns" ? this.#ns : this.#host).needsFiles;
  }

  /** Gives `side` its `/proc/net` files, read from its next scan on where sock_diag fails. */
  useFiles(side: "ns" | "host", files: ProcNetFds): void {
    (side === "ns" ? this.#ns : this.#host).files = files;
  }

  /** Whether a side's last scan of `proto` (6, 17) came from sock_diag (tests). */
  usedDiag(side: "ns" | "host", proto: number): boolean {
    const s = side === "ns" ? this.#ns : this.#host;
    return proto === IPPROTO_TCP ? s.tcpDiag : s.udpDiag;
  }

  /** Closes the descriptors. */
  close(): void {
    this.#ns.close();
    this.#host.close();
  }
}

/** One side's sources: its `/proc/net` files, and its sock_diag socket while it answers. */
class Side {
  /** sock_diag answers for TCP, for UDP (false once it failed: `/proc/net` from then on). */
  tcpDiag: boolean;
  udpDiag: boolean;
  /** sock_diag's answer, copied to the map only when complete. */
  readonly #answer: Uint8Array;
  /** Whether a sock_diag request of the last scan failed. */
  #failed = false;

  constructor(public files: ProcNetFds | null, readonly diag: DiagSocket | null) {
    this.tcpDiag = this.udpDiag = diag !== null;
    this.#answer = new Uint8Array(diag === null ? 0 : MAP_BYTES);
  }

  /** No files, and no sock_diag that answered the last scan for both protocols. */
  get needsFiles(): boolean {
    return this.files === null && (this.diag === null || this.#failed);
  }

  scan(tcp: Uint8Array, udp: Uint8Array): void {
    const s = this.files;
    this.#failed = false;
    this.tcpDiag = this.#one(this.tcpDiag, IPPROTO_TCP, tcp, s?.tcp4, s?.tcp6, STATE_TCP_LISTEN);
    this.udpDiag = this.#one(this.udpDiag, IPPROTO_UDP, udp, s?.udp4, s?.udp6, STATE_UDP_UNCONN);
    for (let b = 0; b < MAP_BYTES; b++) udp[b] = udp[b]! | tcp[b]!;
  }

  /**
   * Fills `map` for `proto` from sock_diag if `diag` (still) works, else from the two files;
   * returns whether sock_diag is to be asked next time. Without files, a failed request leaves
   * `map` as the last answer had it (nothing closes on a passing error) and is tried again.
   */
  #one(
    diag: boolean,
    proto: number,
    map: Uint8Array,
    fd4 = -1,
    fd6 = -1,
    state: number,
  ): boolean {
    if (diag) {
      const a = this.#answer;
      a.fill(0);
      if (this.diag!.listening(proto, a) >= 0) {
        map.set(a);
        return true;
      }
      this.#failed = true;
      if (fd4 < 0 && fd6 < 0) return true;
    }
    map.fill(0);
    scanProcNet(fd4, state, map);
    scanProcNet(fd6, state, map);
    return false;
  }

  close(): void {
    this.diag?.close();
    const s = this.files;
    if (s === null) return;
    for (const fd of [s.tcp4, s.tcp6, s.udp4, s.udp6]) if (fd >= 0) lib().pf_close(fd);
  }
}
