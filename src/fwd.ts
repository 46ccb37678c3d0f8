// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd.ts` - inbound TCP port forwarding: listeners for -t, and `auto` port scanning
 *
 * Theory of operation: for each forwarded port of `-t` (`c.conf.tcpIn`) a
 * listening socket is bound on the host, as upstream: one dual-stack IPv6
 * socket when both families are enabled and no address is given, else one
 * socket per family (or the family of the given address); `%IFNAME` adds
 * SO_BINDTODEVICE; every listener has SO_REUSEADDR and a backlog of 128. The
 * epoll reference of a listener carries the target port (port plus the
 * per-port delta), which `tcp.ts` uses when it accepts.
 *
 * In pasta's `auto` mode the namespace's `/proc/net/tcp` and `tcp6` are
 * scanned (through descriptors opened at start-up in the namespace: we never
 * enter it) for sockets in state LISTEN, every second, and host listeners are
 * bound or closed to match, leaving out ports excluded with `~` and ports
 * forwarded in the other direction (which would loop). The scanner,
 * {@linkcode scanProcNet}, is shared: UDP calls it with the UNCONN state.
 *
 * Everything here runs at start-up or once a second: strings and small
 * allocations are fine, errors are logged or thrown as configuration errors.
 *
 * @module
 */

import { lib } from "../ffi/lib.ts";
import type { Ctx, PortFwd } from "./context.ts";
import { parseIp4, parseIp6 } from "./ip.ts";
import { debug, warn } from "./log.ts";
import type { Loop } from "./loop/loop.ts";
import { EpollType, SOCKET_MAX } from "./loop/loop.ts";
import * as sa from "./wire/sockaddr.ts";
import {
  EPOLLIN,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  SEEK_SET,
  SO_BINDTODEVICE,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "../ffi/sys.ts";
import { EMFILE, ENFILE } from "../ffi/errno.ts";

/** /proc/net/tcp* state of a listening socket. */
export const STATE_TCP_LISTEN = 0x0a;
/** /proc/net/udp* state of an unconnected (bound) socket. */
export const STATE_UDP_UNCONN = 0x07;
/** Backlog of listening sockets (upstream). */
export const LISTEN_BACKLOG = 128;
/** Interval of the `auto` rescan, milliseconds. */
export const FWD_SCAN_INTERVAL = 1000;

/** Descriptors of `/proc/net/tcp` and `/proc/net/tcp6` in one namespace (-1: not open). */
export interface ProcNetFds {
  tcp4: number;
  tcp6: number;
}

/** Error binding forwarded ports (configuration level: printed by main.ts, exit 1). */
export class FwdError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "FwdError";
  }
}

const scanBuf = new Uint8Array(256 * 1024);

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
 * Reads the whole of an open `/proc/net/...` file from offset 0 (`pf_lseek` + `pf_read`) and
 * marks the ports in `state` in `out`; returns the number found, or -errno.
 */
export function scanProcNet(fd: number, state: number, out: Uint8Array): number {
  if (fd < 0) return 0;
  const ffi = lib();
  const rc = ffi.pf_lseek(fd, 0, SEEK_SET);
  if (rc < 0) return rc;
  let len = 0;
  let buf = scanBuf;
  for (;;) {
    if (len === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = ffi.pf_read(fd, buf, len, buf.length - len);
    if (n < 0) return n;
    if (n === 0) break;
    len += n;
  }
  // Cut at the last complete line so a short read never yields a half port.
  const last = buf.lastIndexOf(0x0a, len - 1);
  return parseProcNet(buf, last + 1, state, out);
}

/** Writes a socket address for `addr` (textual or null for any) into `b`; its length, or -1. */
function sockaddrFor(d: DataView, v6: boolean, addr: string | null, port: number): number {
  if (!v6) {
    const a = addr === null ? 0 : parseIp4(addr);
    if (a === null) return -1;
    return sa.writeIn4(d, 0, a, port);
  }
  const w = addr === null ? new Uint32Array(4) : parseIp6(addr);
  if (w === null) return -1;
  return sa.writeIn6(d, 0, w, port);
}

/**
 * Opens a non-blocking listening TCP socket on `port`: IPv6 (`v6`, dual-stack unless
 * `v6only`) or IPv4, bound to `addr` (null: any) and interface `ifname` (null: none).
 * Returns the fd, or -errno.
 */
export function tcpListenSocket(
  v6: boolean,
  v6only: boolean,
  addr: string | null,
  ifname: string | null,
  port: number,
): number {
  const ffi = lib();
  const fd = ffi.pf_socket(
    v6 ? sa.AF_INET6 : sa.AF_INET,
    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) return fd;
  if (fd > SOCKET_MAX) {
    ffi.pf_close(fd);
    return -EMFILE;
  }
  ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (v6) ffi.pf_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? 1 : 0);
  if (ifname) {
    const name = new TextEncoder().encode(ifname + "\0");
    const rc = ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    if (rc < 0) {
      ffi.pf_close(fd);
      return rc;
    }
  }
  const b = new Uint8Array(sa.SOCKADDR_MAX);
  const len = sockaddrFor(new DataView(b.buffer), v6, addr, port);
  if (len < 0) {
    ffi.pf_close(fd);
    return -22;
  }
  let rc = ffi.pf_bind(fd, b, len);
  if (rc === 0) rc = ffi.pf_listen(fd, LISTEN_BACKLOG);
  if (rc < 0) {
    ffi.pf_close(fd);
    return rc;
  }
  return fd;
}

/** Host listeners for -t, and the `auto` rescan. */
export class TcpFwd {
  /** Listener per bound port: IPv4 (or the only one), and IPv6 (or dual-stack). */
  readonly sock4 = new Int32Array(65536).fill(-1);
  readonly sock6 = new Int32Array(65536).fill(-1);
  readonly #c: Ctx;
  readonly #loop: Loop;
  #ns: ProcNetFds | null = null;
  readonly #scan = new Uint8Array(8192);
  #count = 0;

  /** Listeners are registered in `loop` as TCP_LISTEN (accepts are handled by `tcp.ts`). */
  constructor(c: Ctx, loop: Loop) {
    this.#c = c;
    this.#loop = loop;
  }

  /** Number of listening sockets open. */
  get count(): number {
    return this.#count;
  }

  #register(fd: number, target: number): boolean {
    if (this.#loop.add(fd, EpollType.TCP_LISTEN, target, EPOLLIN) < 0) {
      lib().pf_close(fd);
      return false;
    }
    this.#count++;
    return true;
  }

  /**
   * Binds listeners for `port` forwarded to `target`, with an optional address and interface;
   * returns how many sockets were bound, or -errno of the last failure when none was.
   */
  bindPort(port: number, target: number, addr: string | null, ifname: string | null): number {
    const conf = this.#c.conf;
    let v4 = conf.v4, v6 = conf.v6;
    if (addr !== null) {
      const is4 = parseIp4(addr) !== null;
      v4 = v4 && is4;
      v6 = v6 && !is4;
    }
    let bound = 0;
    let err = 0;
    if (v4 && v6 && addr === null && this.sock6[port]! < 0 && this.sock4[port]! < 0) {
      const fd = tcpListenSocket(true, false, null, ifname, port);
      if (fd >= 0) {
        if (this.#register(fd, target)) {
          this.sock6[port] = fd;
          return 1;
        }
      } else err = fd;
    }
    if (v4 && this.sock4[port]! < 0) {
      const fd = tcpListenSocket(false, false, addr, ifname, port);
      if (fd >= 0 && this.#register(fd, target)) {
        this.sock4[port] = fd;
        bound++;
      } else if (fd < 0) err = fd;
    }
    if (v6 && this.sock6[port]! < 0) {
      const fd = tcpListenSocket(true, true, addr, ifname, port);
      if (fd >= 0 && this.#register(fd, target)) {
        this.sock6[port] = fd;
        bound++;
      } else if (fd < 0) err = fd;
    }
    return bound > 0 ? bound : err;
  }

  /** Closes the listeners of `port`. */
  closePort(port: number): void {
    const ffi = lib();
    for (const tab of [this.sock4, this.sock6]) {
      const fd = tab[port]!;
      if (fd < 0) continue;
      this.#loop.del(fd);
      ffi.pf_close(fd);
      tab[port] = -1;
      this.#count--;
    }
  }

  /**
   * Binds every port of `c.conf.tcpIn` in modes `spec` and `all`. Throws
   * {@linkcode FwdError} when no port could be bound or we ran out of descriptors.
   */
  bindInbound(): number {
    const fwd = this.#c.conf.tcpIn;
    if (fwd.mode !== "spec" && fwd.mode !== "all") return 0;
    let bound = 0;
    let tried = 0;
    let lastErr = 0;
    const one = (p: number, addr: string | null, ifname: string | null): void => {
      if (p === 0) return;
      tried++;
      const r = this.bindPort(p, (p + fwd.delta[p]!) & 0xffff, addr, ifname);
      if (r > 0) bound++;
      else {
        lastErr = r;
        if (r === -EMFILE || r === -ENFILE) throw new FwdError("Can't open enough sockets");
        if (fwd.mode === "spec") debug(`Failed to bind TCP port ${p}: errno ${-r}`);
      }
    };
    if (fwd.ranges.length > 0) {
      for (const r of fwd.ranges) {
        for (let p = r.first; p <= r.last; p++) {
          if (fwd.map[p >> 3]! & (1 << (p & 7))) one(p, r.bindAddr, r.bindIf);
        }
      }
    } else {
      for (let p = 0; p < 65536; p++) {
        if (fwd.map[p >> 3]! & (1 << (p & 7))) one(p, fwd.bindAddr, fwd.bindIf);
      }
    }
    if (tried > 0 && bound === 0) {
      throw new FwdError(`Failed to bind any port for '-t'${lastErr ? `: errno ${-lastErr}` : ""}`);
    }
    return bound;
  }

  /**
   * Starts `auto` mode for -t: `ns` are the namespace's /proc/net/tcp{,6} descriptors,
   * opened once at start-up. Binds listeners for what listens there now.
   */
  startAuto(ns: ProcNetFds): void {
    this.#ns = ns;
    this.rescan();
  }

  /** Rescans the namespace (auto mode) and binds or closes listeners to match. */
  rescan(): void {
    const ns = this.#ns;
    if (!ns) return;
    const fwd = this.#c.conf.tcpIn;
    const map = this.#scan;
    map.fill(0);
    scanProcNet(ns.tcp4, STATE_TCP_LISTEN, map);
    scanProcNet(ns.tcp6, STATE_TCP_LISTEN, map);
    const other: PortFwd = this.#c.conf.tcpOut;
    for (let b = 0; b < 8192; b++) {
      map[b] = map[b]! & ~fwd.excluded[b]! & ~other.map[b]!;
    }
    for (let p = 0; p < 65536; p++) {
      const want = (map[p >> 3]! & (1 << (p & 7))) !== 0;
      const have = (fwd.map[p >> 3]! & (1 << (p & 7))) !== 0;
      if (want === have) continue;
      if (want) {
        const r = this.bindPort(p, p, fwd.bindAddr, fwd.bindIf);
        if (r > 0) fwd.map[p >> 3] = fwd.map[p >> 3]! | (1 << (p & 7));
        else if (r !== -98) warn(`Cannot bind TCP port ${p} for auto forwarding: errno ${-r}`);
      } else {
        this.closePort(p);
        fwd.map[p >> 3] = fwd.map[p >> 3]! & ~(1 << (p & 7));
      }
    }
  }

  /** Periodic work: the `auto` rescan. */
  timer(_now: number): void {
    if (this.#ns) this.rescan();
  }

  /** Closes every listener. */
  closeAll(): void {
    for (let p = 0; p < 65536; p++) {
      if (this.sock4[p]! >= 0 || this.sock6[p]! >= 0) this.closePort(p);
    }
  }
}

/**
 * Wires inbound TCP forwarding: binds -t listeners, and in `auto` mode scans the namespace
 * through `ns` every second. Throws {@linkcode FwdError} as upstream's fatal bind errors.
 */
export function setupTcpFwd(c: Ctx, loop: Loop, ns: ProcNetFds | null): TcpFwd {
  const fwd = new TcpFwd(c, loop);
  if (c.conf.noTcp) return fwd;
  if (c.conf.tcpIn.mode === "auto") {
    if (ns) {
      fwd.startAuto(ns);
      loop.every(FWD_SCAN_INTERVAL, (now) => fwd.timer(now));
    }
  } else {
    fwd.bindInbound();
  }
  return fwd;
}
