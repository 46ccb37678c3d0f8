// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `control.ts` - the `-c, --conf-path` control socket: pesto's server side
 *
 * Theory of operation, as upstream's `conf_accept()`/`conf_handler()`: the
 * UNIX stream socket is bound at start-up (before the sandbox) and serves
 * one client at a time; others wait in the backlog until it is done. On
 * accept we send the hello and the current tables (HOST and, in pasta,
 * SPLICE) with their capabilities; a client that only looks closes, and we
 * close too. A client that changes rules sends the new tables, which
 * `wire.ts`'s {@linkcode RequestParser} reads as they arrive.
 *
 * Unlike upstream, nothing here blocks: the client socket is non-blocking,
 * bytes are fed to the parser as they come, and a client that stalls is
 * dropped after {@linkcode CONF_TIMEOUT} ms (upstream blocks its loop). A
 * malformed or truncated update closes the connection and changes nothing.
 * A complete update replaces the tables with {@linkcode Forwarder.replace},
 * table by table; if one fails the tables replaced before it are put back,
 * so a request is applied entirely or not at all. The error is logged as
 * upstream logs it; the client gets the connection closed.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { EAGAIN, EINTR, strerror } from "../../ffi/errno.ts";
import {
  AF_UNIX,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLRDHUP,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
} from "../../ffi/sys.ts";
import { debug, err, info, warn } from "../log.ts";
import { EpollType, type Loop } from "../loop/loop.ts";
import { type Forwarder, FwdError } from "../fwd/fwd.ts";
import { formatRule, type FwdPif, type FwdRule } from "../fwd/fwd_rule.ts";
import {
  capBits,
  encodeServerState,
  type FwdRule as WireRule,
  PIF_HOST,
  PIF_SPLICE,
  type PifTable,
  RequestParser,
  WireError,
} from "./wire.ts";

// The socket file is removed at exit, after the sandbox is in place:
// #syscalls statx newfstatat unlink unlinkat

/** A client that sends nothing for this long (ms) is dropped. */
export const CONF_TIMEOUT = 5000;

const PIFS: readonly [number, FwdPif, string][] = [
  [PIF_HOST, "host", "HOST"],
  [PIF_SPLICE, "splice", "SPLICE"],
];

/** Our rule from a wire rule (16 address bytes to four big-endian words). */
export function fromWire(r: WireRule): FwdRule {
  const words = (b: Uint8Array): Uint32Array => {
    const v = new DataView(b.buffer, b.byteOffset, 16);
    return Uint32Array.from([0, 1, 2, 3].map((i) => v.getUint32(i * 4)));
  };
  return {
    proto: r.proto,
    addr: words(r.addr),
    ifname: r.ifname,
    first: r.first,
    last: r.last,
    to: r.to,
    taddr: words(r.taddr),
    flags: r.flags,
  };
}

/** A wire rule from ours. */
export function toWire(r: FwdRule): WireRule {
  const bytes = (w: Uint32Array): Uint8Array => {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    for (let i = 0; i < 4; i++) v.setUint32(i * 4, w[i]!);
    return b;
  };
  return {
    addr: bytes(r.addr),
    taddr: bytes(r.taddr),
    ifname: r.ifname,
    first: r.first,
    last: r.last,
    to: r.to,
    proto: r.proto,
    flags: r.flags,
  };
}

/** The tables as the protocol shows them: pif id, name, capability bits, rules. */
export function currentTables(fwd: Forwarder): PifTable[] {
  const out: PifTable[] = [];
  for (const [pif, key, name] of PIFS) {
    if (!fwd.has(key)) continue;
    const caps = capBits(fwd.caps(key), true);
    out.push({ pif, name, caps, rules: fwd.rules(key).map(toWire) });
  }
  return out;
}

/**
 * Replaces the tables named in `update` (pif id to rules), all or nothing:
 * throws {@linkcode FwdError} with the rules of every table as before.
 */
export function applyTables(fwd: Forwarder, update: ReadonlyMap<number, readonly FwdRule[]>): void {
  const done: [FwdPif, FwdRule[]][] = [];
  try {
    for (const [pif, key] of PIFS) {
      const rules = update.get(pif);
      if (rules === undefined || !fwd.has(key)) continue;
      const before = fwd.rules(key);
      fwd.replace(key, rules);
      done.push([key, before]);
    }
  } catch (e) {
    for (const [key, before] of done.reverse()) {
      try {
        fwd.replace(key, before);
      } catch (e2) {
        err(`Couldn't restore forwarding rules: ${(e2 as Error).message}`);
      }
    }
    throw e;
  }
}

/** Binds the control socket at `path` (an existing socket file is replaced); returns the fd. */
export function bindControl(path: string): number {
  const ffi = lib();
  const raw = new TextEncoder().encode(path);
  const sa = new Uint8Array(110);
  sa[0] = AF_UNIX;
  sa.set(raw, 2);
  try {
    Deno.removeSync(path);
  } catch {
    // not there
  }
  const fd = ffi.pf_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new FwdError(`Couldn't open control socket ${path}: ${strerror(-fd)}`);
  let rc = ffi.pf_bind(fd, sa, sa.length);
  if (rc === 0) rc = ffi.pf_listen(fd, 0);
  if (rc < 0) {
    ffi.pf_close(fd);
    throw new FwdError(`Couldn't open control socket ${path}: ${strerror(-rc)}`);
  }
  return fd;
}

/** The control socket server: one client at a time, never blocking. */
export class ControlServer {
  #client = -1;
  #parser: RequestParser | null = null;
  #got = 0;
  #since = 0;
  readonly #buf = new Uint8Array(16384);
  /** Peer address out-parameter of accept4 (the native side writes up to 128 bytes). */
  readonly #sa = new Uint8Array(128);
  readonly #ffi = lib();

  /** Serves the bound socket `listenFd` for `fwd` in `loop`. */
  constructor(readonly loop: Loop, readonly listenFd: number, readonly fwd: Forwarder) {
    loop.on(EpollType.CONF_LISTEN, () => this.#accept());
    loop.on(EpollType.CONF, (ev) => this.#event(ev));
    loop.add(listenFd, EpollType.CONF_LISTEN, 0, EPOLLIN);
    loop.every(1000, (now) => this.#timer(now));
  }

  #accept(): void {
    while (this.#client < 0) {
      const fd = this.#ffi.pf_accept4(this.listenFd, this.#sa, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (fd !== -EAGAIN && fd !== -EINTR) {
          warn(`accept4() on configuration socket: ${strerror(-fd)}`);
        }
        return;
      }
      const state = encodeServerState(currentTables(this.fwd));
      const rc = this.#ffi.pf_send(fd, state, 0, state.length, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (rc !== state.length) {
        warn("Error writing configuration protocol hello");
        this.#ffi.pf_close(fd);
        continue;
      }
      info("Accepted configuration client");
      this.#client = fd;
      this.#parser = new RequestParser(PIFS.filter(([, k]) => this.fwd.has(k)).map(([p]) => p));
      this.#got = 0;
      this.#since = this.loop.now;
      this.loop.add(fd, EpollType.CONF, 0, EPOLLIN | EPOLLRDHUP);
    }
  }

  #close(): void {
    if (this.#client < 0) return;
    debug("Closing configuration socket");
    this.loop.del(this.#client);
    this.#ffi.pf_close(this.#client);
    this.#client = -1;
    this.#parser = null;
    // Serve whoever waits in the backlog
    this.#accept();
  }

  #event(ev: number): void {
    if (this.#client < 0 || this.#parser === null) return;
    for (;;) {
      const n = this.#ffi.pf_recv(this.#client, this.#buf, 0, this.#buf.length, MSG_DONTWAIT);
      if (n === -EAGAIN) break;
      if (n === -EINTR) continue;
      if (n <= 0) {
        if (n < 0) warn(`Configuration socket: ${strerror(-n)}`);
        else if (this.#got > 0) err("Configuration client closed before the end of its rules");
        else debug("Configuration client hangup");
        this.#close();
        return;
      }
      this.#got += n;
      this.#since = this.loop.now;
      let state;
      try {
        state = this.#parser.feed(this.#buf.subarray(0, n));
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        err(e.message);
        this.#close();
        return;
      }
      if (state === "done") {
        this.#apply(this.#parser);
        this.#close();
        return;
      }
    }
    if (ev & (EPOLLHUP | EPOLLERR)) this.#close();
  }

  #apply(p: RequestParser): void {
    const update = new Map<number, FwdRule[]>();
    for (const [pif, rules] of p.tables) update.set(pif, rules.map(fromWire));
    try {
      applyTables(this.fwd, update);
    } catch (e) {
      if (!(e instanceof FwdError)) throw e;
      err(e.message);
      err("Error switching to new forwarding rules");
      return;
    }
    for (const [pif, key, name] of PIFS) {
      if (!update.has(pif) || !this.fwd.has(key)) continue;
      info(`New forwarding rules for ${name}:`);
      for (const r of this.fwd.rules(key)) info(`    ${formatRule(r)}`);
    }
  }

  #timer(now: number): void {
    if (this.#client >= 0 && now - this.#since > CONF_TIMEOUT) {
      warn("Configuration client stalled, closing");
      this.#close();
    }
  }
}
