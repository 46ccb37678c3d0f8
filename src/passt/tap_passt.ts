// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tap_passt.ts` - passt's guest side: the AF_UNIX stream socket QEMU connects to
 *
 * Theory of operation: the listening socket is bound once, before any
 * sandboxing, at `--socket PATH` or at the first free `/tmp/passt_N.socket`
 * (N from 1 to 99: a path is taken when something accepts connections there).
 * One client at a time: while one is connected, further clients are accepted
 * and closed at once, and the listening socket stays open for the next QEMU.
 * With `--one-off` (or `--fd`, an inherited connected socket) we exit when the
 * client goes away.
 *
 * Receiving: each read takes as much as is available, behind the cut tail of
 * the previous read; `framing.ts` splits the length-prefixed frames into the
 * tap's frame pool and they are processed as one batch.
 *
 * Sending: the four bytes in front of every queued frame take its big-endian
 * length, and frames go out with one `sendmsg()` of up to 1024 iovecs. When the
 * socket takes only part of a batch, the rest (from the middle of a frame on) is
 * copied into a pending area, sent first when the socket is writable again
 * (EPOLLOUT), so frames are never reordered or cut; when the pending area is
 * full, whole frames are dropped.
 *
 * @module
 */

import type { Ctx } from "../context.ts";
import { lib } from "../../ffi/lib.ts";
import { EAGAIN, ECONNREFUSED, EINTR, ENOENT, strerror } from "../../ffi/errno.ts";
import { debug, err, info, LimitedMessage } from "../log.ts";
import { EpollType, type Loop, outOfResources } from "../loop/loop.ts";
import type { Arena } from "../tap/arena.ts";
import type { Tap, TapBackend } from "../tap/tap.ts";
import { splitFrames, STREAM_CORRUPT, writePrefix } from "./framing.ts";
import {
  AF_UNIX,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "../../ffi/sys.ts";

const UIO_MAXIOV = 1024;
/** Upstream UNIX_SOCK_MAX: paths /tmp/passt_1.socket to /tmp/passt_99.socket. */
export const UNIX_SOCK_MAX = 100;
/** Room for frames the socket could not take yet. */
const PENDING_BYTES = 8 * 1024 * 1024;
/** Reads per wake-up before yielding to other descriptors. */
const READS_PER_EVENT = 8;

const ACCEPT = new LimitedMessage(
  "Can't accept guest connection: out of descriptors, retrying",
  1,
  10_000,
);

/** The peer's address from accept4(), unused. */
const ACCEPT_SA = new Uint8Array(128);
const DROP = new LimitedMessage("passt: socket send buffer and pending area full, dropping frames");

/**
 * Accepts a connection on passt's listening socket `listenFd` (the stream socket, or
 * vhost-user's): the new descriptor, or -1. A second client while one is `connected` is
 * closed at once, as upstream's; out of descriptors or memory, the listener rests
 * (`Loop.rest`) instead of waking the loop at once, forever.
 */
export function acceptClient(loop: Loop, listenFd: number, connected: boolean): number {
  const ffi = lib();
  const fd = ffi.pf_accept4(listenFd, ACCEPT_SA, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    if (outOfResources(fd)) {
      ACCEPT.warn(performance.now());
      loop.rest(listenFd, EpollType.TAP_LISTEN, 0, EPOLLIN);
    }
    return -1;
  }
  if (connected) {
    info("Another client is already connected: closing the new one");
    ffi.pf_close(fd);
    return -1;
  }
  return fd;
}

/** Builds a `struct sockaddr_un` for `path`. */
export function sockaddrUn(path: string): Uint8Array {
  const p = new TextEncoder().encode(path);
  if (p.length > 107) throw new Error(`UNIX domain socket path "${path}" is too long`);
  const sa = new Uint8Array(2 + p.length + 1);
  new DataView(sa.buffer).setUint16(0, AF_UNIX, true);
  sa.set(p, 2);
  return sa;
}

/** Binds and listens on `path`, or on the first free /tmp/passt_N.socket; returns fd and path. */
export function listenUnix(path: string): { fd: number; path: string } {
  const ffi = lib();
  const candidates = path ? [path] : Array.from(
    { length: UNIX_SOCK_MAX - 1 },
    (_, i) => `/tmp/passt_${i + 1}.socket`,
  );
  let lastErr = 0;
  for (const p of candidates) {
    const sa = sockaddrUn(p);
    if (!path) {
      const probe = ffi.pf_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (probe < 0) throw new Error(`Cannot create UNIX domain socket: ${strerror(-probe)}`);
      const rc = ffi.pf_connect(probe, sa, sa.length);
      ffi.pf_close(probe);
      if (rc === 0 || (rc !== -ENOENT && rc !== -ECONNREFUSED)) continue;
    }
    try {
      Deno.removeSync(p);
    } catch {
      // not there
    }
    const fd = ffi.pf_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`Cannot create UNIX domain socket: ${strerror(-fd)}`);
    let rc = ffi.pf_bind(fd, sa, sa.length);
    if (rc === 0) rc = ffi.pf_listen(fd, 0);
    if (rc === 0) return { fd, path: p };
    lastErr = -rc;
    ffi.pf_close(fd);
    if (path) break;
  }
  throw new Error(
    path
      ? `Cannot bind UNIX domain socket at ${path}: ${strerror(lastErr)}`
      : "UNIX domain socket path probing failed: no free /tmp/passt_N.socket",
  );
}

/** What a guest-facing back end (passt stream, vhost-user) is built from. */
export interface SocketBackendArgs {
  c: Ctx;
  loop: Loop;
  tap: Tap;
  arena: Arena;
  /** The listening socket, -1 with `--fd`. */
  listenFd: number;
  /** --one-off: exit when the client goes away. */
  oneOff: boolean;
  /** Runs when the client goes away and we should exit (one-off). */
  onGone: () => void;
}

/**
 * What the passt stream and the vhost-user back end share: the listening
 * socket (-1 with `--fd`), one client at a time, and how a new one is taken.
 */
export abstract class SocketBackend {
  client = -1;
  readonly c: Ctx;
  readonly loop: Loop;
  readonly tap: Tap;
  readonly listenFd: number;
  readonly oneOff: boolean;
  readonly onGone: () => void;

  /** Registers `a.listenFd` in the loop; `connectedMsg` is logged when a client connects. */
  constructor(a: SocketBackendArgs, readonly connectedMsg: string) {
    this.c = a.c;
    this.loop = a.loop;
    this.tap = a.tap;
    this.listenFd = a.listenFd;
    this.oneOff = a.oneOff;
    this.onGone = a.onGone;
    a.loop.on(EpollType.TAP_LISTEN, () => this.#accept());
    if (a.listenFd >= 0) a.loop.add(a.listenFd, EpollType.TAP_LISTEN, 0, EPOLLIN);
  }

  /** Adopts an already connected socket (`--fd`, or an accepted client). */
  abstract adopt(fd: number): void;

  #accept(): void {
    const fd = acceptClient(this.loop, this.listenFd, this.client >= 0);
    if (fd < 0) return;
    info(this.connectedMsg);
    this.adopt(fd);
  }
}

/** passt's stream to QEMU: listener, single client, framing both ways. */
export class PasstStream extends SocketBackend implements TapBackend {
  #carry = 0;
  readonly #iovOff: number;
  readonly #iov: Uint32Array;
  readonly #pendingOff: number;
  #pendingStart = 0;
  #pendingLen = 0;
  readonly #ffi = lib();
  #qView: Uint32Array | null = null;
  #qViewOff = -1;

  /** Takes its buffers from `a.arena` and registers the listener. */
  constructor(a: SocketBackendArgs) {
    super(a, "passt: connection from guest");
    const { arena, loop, tap } = a;
    this.#iovOff = arena.alloc(UIO_MAXIOV * 8, 64);
    this.#iov = new Uint32Array(
      arena.u8.buffer,
      arena.u8.byteOffset + this.#iovOff,
      UIO_MAXIOV * 2,
    );
    this.#pendingOff = arena.alloc(PENDING_BYTES, 64);
    loop.on(EpollType.TAP_PASST, (ev, fd, _i, now) => this.#event(ev, fd, now));
    tap.backend = this;
  }

  /** Adopts an already connected socket (`--fd`, or an accepted client). */
  override adopt(fd: number): void {
    const ffi = this.#ffi;
    ffi.pf_fcntl(fd, 4, /* F_SETFL */ SOCK_NONBLOCK);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 0x3fffffff);
    ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 0x3fffffff);
    this.client = fd;
    this.#carry = 0;
    this.#pendingLen = 0;
    this.#pendingStart = 0;
    this.loop.add(fd, EpollType.TAP_PASST, 0, EPOLLIN | EPOLLRDHUP);
  }

  #close(): void {
    if (this.client < 0) return;
    this.loop.del(this.client);
    this.#ffi.pf_close(this.client);
    this.client = -1;
    this.#carry = 0;
    this.#pendingLen = 0;
    info("Client connection closed" + (this.oneOff ? ", exiting" : ""));
    if (this.oneOff) this.onGone();
  }

  #event(events: number, fd: number, now: number): void {
    if (fd !== this.client) return;
    if (events & EPOLLOUT) this.#writePending();
    if (events & EPOLLIN) this.#read(now);
    if (this.client >= 0 && events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP) && !(events & EPOLLIN)) {
      this.#close();
    }
  }

  #read(now: number): void {
    const ffi = this.#ffi;
    const tap = this.tap;
    const base = tap.inOff;
    for (let r = 0; r < READS_PER_EVENT && this.client >= 0; r++) {
      const room = tap.inLen - this.#carry;
      const n = ffi.pf_recv(this.client, tap.u8, base + this.#carry, room, MSG_DONTWAIT);
      if (n === 0) {
        this.#close();
        return;
      }
      if (n < 0) {
        if (n === -EAGAIN || n === -EINTR) return;
        debug(`passt: receive error ${-n}`);
        this.#close();
        return;
      }
      let avail = this.#carry + n;
      let start = 0;
      for (;;) {
        const used = splitFrames(tap.dv, base + start, avail, tap.frames);
        if (used === STREAM_CORRUPT) {
          err("passt: invalid frame length from guest, resetting connection");
          tap.frames.flush();
          this.#close();
          return;
        }
        const full = tap.frames.count >= tap.frames.capacity;
        tap.process(now);
        start += used;
        avail -= used;
        if (!full || used === 0) break;
      }
      if (avail) tap.u8.copyWithin(base, base + start, base + start + avail);
      this.#carry = avail;
      if (n < room) return;
    }
  }

  /** Sends the frames of the tap's queue (table of {offset, length} at `descOff`). */
  send(descOff: number, count: number): number {
    if (this.client < 0) return 0;
    const dv = this.tap.dv;
    if (this.#qViewOff !== descOff) {
      const u8 = this.tap.u8;
      this.#qView = new Uint32Array(u8.buffer, u8.byteOffset + descOff, (u8.length - descOff) >> 3);
      this.#qViewOff = descOff;
    }
    const q = this.#qView!;
    for (let i = 0; i < count; i++) writePrefix(dv, q[i * 2]!, q[i * 2 + 1]!);
    if (this.#pendingLen) this.#writePending();
    let i = 0;
    while (i < count && this.#pendingLen === 0) {
      const n = Math.min(count - i, UIO_MAXIOV);
      let bytes = 0;
      for (let k = 0; k < n; k++) {
        this.#iov[k * 2] = q[(i + k) * 2]! - 4;
        this.#iov[k * 2 + 1] = q[(i + k) * 2 + 1]! + 4;
        bytes += q[(i + k) * 2 + 1]! + 4;
      }
      const sent = this.#ffi.pf_sendmsg(
        this.client,
        this.tap.u8,
        this.#iovOff,
        n,
        MSG_DONTWAIT | MSG_NOSIGNAL,
        0,
        0,
      );
      if (sent === bytes) {
        i += n;
        continue;
      }
      if (sent < 0 && sent !== -EAGAIN && sent !== -EINTR) {
        debug(`passt: send error ${-sent}`);
        this.#close();
        return i;
      }
      // Partial: keep the rest of the cut frame, then the following ones.
      let done = Math.max(sent, 0);
      let k = 0;
      while (done >= this.#iov[k * 2 + 1]!) done -= this.#iov[k++ * 2 + 1]!;
      this.#stash(this.#iov[k * 2]! + done, this.#iov[k * 2 + 1]! - done);
      i += k + 1;
      break;
    }
    for (; i < count; i++) this.#stash(q[i * 2]! - 4, q[i * 2 + 1]! + 4);
    return count;
  }

  /** Appends `len` bytes at `off` to the pending area, or drops them (whole frames only). */
  #stash(off: number, len: number): void {
    if (this.#pendingStart + this.#pendingLen + len > PENDING_BYTES && this.#pendingStart) {
      const p = this.#pendingOff;
      this.tap.u8.copyWithin(p, p + this.#pendingStart, p + this.#pendingStart + this.#pendingLen);
      this.#pendingStart = 0;
    }
    if (this.#pendingLen + len > PENDING_BYTES) {
      DROP.debug(performance.now());
      return;
    }
    const dst = this.#pendingOff + this.#pendingStart + this.#pendingLen;
    this.tap.u8.copyWithin(dst, off, off + len);
    if (this.#pendingLen === 0) {
      this.loop.mod(this.client, EpollType.TAP_PASST, 0, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
    }
    this.#pendingLen += len;
  }

  #writePending(): void {
    while (this.#pendingLen > 0) {
      const n = this.#ffi.pf_send(
        this.client,
        this.tap.u8,
        this.#pendingOff + this.#pendingStart,
        this.#pendingLen,
        MSG_DONTWAIT | MSG_NOSIGNAL,
      );
      if (n <= 0) {
        if (n === -EAGAIN || n === -EINTR || n === 0) return;
        this.#close();
        return;
      }
      this.#pendingStart += n;
      this.#pendingLen -= n;
    }
    this.#pendingStart = 0;
    this.loop.mod(this.client, EpollType.TAP_PASST, 0, EPOLLIN | EPOLLRDHUP);
  }
}

// Removing the socket file at exit (Deno looks at the path first).
// #syscalls:passt statx newfstatat unlink unlinkat

/** Removes the socket file at exit; it may be gone already, or out of reach in the sandbox. */
export function removeSocket(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // gone, or the filesystem is out of reach after isolation
  }
}

/** Logs where QEMU should connect, as upstream does. */
export function logSocketHints(path: string): void {
  info(`UNIX domain socket bound at ${path}`);
  info("");
  info("You can now start qemu (>= 7.2, with commit 13c6be96618c):");
  info(
    `    kvm ... -device virtio-net-pci,netdev=s -netdev stream,id=s,server=off,addr.type=unix,addr.path=${path}`,
  );
  info("or qrap, for earlier qemu versions:");
  info("    ./qrap 5 kvm ... -net socket,fd=5 -net nic,model=virtio");
}
