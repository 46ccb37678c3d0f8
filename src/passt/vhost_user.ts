// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `vhost_user.ts` - passt --vhost-user: the vhost-user back end on the socket
 *
 * Theory of operation: QEMU (or libvirt's QEMU, or any vhost-user front end)
 * connects to the `--socket` path like the stream front end does, but then
 * speaks the vhost-user protocol: it negotiates features, shares the guest's
 * memory as file descriptors (SET_MEM_TABLE), and describes two split
 * virtqueues in that memory: queue 0 (RX) takes frames towards the guest,
 * queue 1 (TX) holds the frames the guest sends. Each queue has a kick
 * eventfd (the guest tells us there is something new) and a call eventfd (we
 * tell the guest).
 *
 * This file parses the protocol messages; the native library
 * (`native/vhost_user.c`) maps the guest memory, keeps the ring state and
 * moves frames: every guest address is translated and bounds-checked there,
 * and TypeScript never sees a pointer into guest memory, so the scoped
 * `--allow-ffi=<our library>` permission is enough.
 *
 * Frames from the guest: a kick on queue 1 makes `pf_vu_tx()` copy every
 * queued frame (without its 12-byte virtio-net header) into the tap's input
 * area, and the tap processes them as one batch, as for the stream socket.
 * Frames towards the guest: the tap's output queue is handed to
 * {@linkcode VhostUser.send}, which has `pf_vu_rx()` copy them into the
 * guest's receive buffers. When the guest has no free buffers, the rest is
 * copied into a pending area and sent when it posts more (a kick on queue
 * 0); when that area is full, frames are dropped, as a full socket would.
 *
 * One front end at a time; when it goes away (or the protocol is broken), the
 * memory is unmapped, every descriptor it gave us is closed, and the next one
 * is accepted; with `--one-off`, we exit instead.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { EAGAIN, EINTR, EIO, strerror } from "../../ffi/errno.ts";
import { debug, err, info, LimitedMessage, warn } from "../log.ts";
import { EpollType } from "../loop/loop.ts";
import { TAP_MSGS, type TapBackend } from "../tap/tap.ts";
import { SocketBackend, type SocketBackendArgs } from "./tap_passt.ts";
import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLRDHUP,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_NONBLOCK,
} from "../../ffi/sys.ts";

// Memory maps of the guest, eventfds, the control socket's descriptors.
// #syscalls:passt mmap munmap recvmsg sendto poll ppoll fstat newfstatat read write

/** Front end requests (vhost-user specification). */
export const VhostUserRequest = {
  GET_FEATURES: 1,
  SET_FEATURES: 2,
  SET_OWNER: 3,
  RESET_OWNER: 4,
  SET_MEM_TABLE: 5,
  SET_LOG_BASE: 6,
  SET_LOG_FD: 7,
  SET_VRING_NUM: 8,
  SET_VRING_ADDR: 9,
  SET_VRING_BASE: 10,
  GET_VRING_BASE: 11,
  SET_VRING_KICK: 12,
  SET_VRING_CALL: 13,
  SET_VRING_ERR: 14,
  GET_PROTOCOL_FEATURES: 15,
  SET_PROTOCOL_FEATURES: 16,
  GET_QUEUE_NUM: 17,
  SET_VRING_ENABLE: 18,
  SEND_RARP: 19,
} as const;

const R = VhostUserRequest;

/** Feature bits, low word: VIRTIO_NET_F_MRG_RXBUF (15), VIRTIO_RING_F_INDIRECT_DESC (28), VIRTIO_RING_F_EVENT_IDX (29), VHOST_USER_F_PROTOCOL_FEATURES (30). */
const F_MRG_RXBUF = 1 << 15;
const F_INDIRECT_DESC = 1 << 28;
const F_EVENT_IDX = 1 << 29;
const F_PROTOCOL_FEATURES = 1 << 30;
/** High word: VIRTIO_F_VERSION_1 (32). */
const F_HI_VERSION_1 = 1;
/** What we offer. */
export const FEATURES_LO = (F_MRG_RXBUF | F_INDIRECT_DESC | F_EVENT_IDX | F_PROTOCOL_FEATURES) >>>
  0;
export const FEATURES_HI = F_HI_VERSION_1;
/** Protocol features offered: VHOST_USER_PROTOCOL_F_REPLY_ACK (3). */
const PF_REPLY_ACK = 1 << 3;

const FLAG_VERSION = 0x1;
const FLAG_REPLY = 0x4;
const FLAG_NEED_REPLY = 0x8;
const VRING_NOFD = 0x100;
const QUEUES = 2;
const RX = 0;
const TX = 1;

/** Layout of the receive area: nfds, 8 fds, then the message. */
const MSG_FDS = 4;
const MSG_HDR = 36;
const MSG_PAYLOAD = MSG_HDR + 12;
const MSG_BYTES = MSG_PAYLOAD + 4096;
/** Messages handled per wake-up before yielding. */
const MSGS_PER_EVENT = 64;
/** Rounds of the TX queue per kick before yielding (then we kick ourselves). */
const TX_ROUNDS = 64;
/**
 * Frames kept while the guest has no receive buffers: room for a receive
 * window of a few MiB (Linux's default maximum is 6 MiB) of 1500-byte frames.
 */
const PENDING_FRAMES = 16384;
const PENDING_BYTES = 16 * 1024 * 1024;

const DROP = new LimitedMessage(
  "vhost-user: no receive buffers and pending area full, dropping frames",
);

const BAD = new LimitedMessage("vhost-user: dropped malformed descriptor chains from guest");

/** passt's vhost-user back end: listener, single front end, the two queues. */
export class VhostUser extends SocketBackend implements TapBackend {
  readonly #ffi = lib();
  readonly #kick = [-1, -1];
  readonly #started = [false, false];
  readonly #enabled = [false, false];
  readonly #active = [false, false];
  #protocol = false;
  #ack = false;
  readonly #msgOff: number;
  readonly #replyOff: number;
  readonly #scratchOff: number;
  readonly #pendOff: number;
  readonly #pendTabOff: number;
  readonly #pendTab: Uint32Array;
  #pendStart = 0;
  #pendCount = 0;
  #pendBytes = 0;

  /** Takes its buffers from `a.arena` and registers the listener (the front end connects there). */
  constructor(a: SocketBackendArgs) {
    super(a, "vhost-user: connection from front end");
    const { arena, loop, tap } = a;
    this.#msgOff = arena.alloc(MSG_BYTES, 64);
    this.#replyOff = arena.alloc(64, 64);
    this.#scratchOff = arena.alloc(64, 64);
    this.#pendOff = arena.alloc(PENDING_BYTES, 64);
    this.#pendTabOff = arena.alloc(PENDING_FRAMES * 8, 64);
    this.#pendTab = new Uint32Array(
      arena.u8.buffer,
      arena.u8.byteOffset + this.#pendTabOff,
      PENDING_FRAMES * 2,
    );
    loop.on(EpollType.VHOST_CMD, (ev, fd) => this.#command(ev, fd));
    loop.on(EpollType.VHOST_KICK, (ev, fd, idx, now) => this.#kicked(ev, fd, idx, now));
    tap.backend = this;
  }

  /** Adopts an already connected socket (`--fd`, or an accepted front end). */
  override adopt(fd: number): void {
    this.#ffi.pf_fcntl(fd, 4, /* F_SETFL */ SOCK_NONBLOCK);
    this.client = fd;
    this.loop.add(fd, EpollType.VHOST_CMD, 0, EPOLLIN | EPOLLRDHUP);
  }

  /** Forgets the device: queues, memory, every descriptor the front end gave us. */
  #resetDevice(): void {
    for (let i = 0; i < QUEUES; i++) {
      this.#dropKick(i);
      this.#started[i] = false;
      this.#enabled[i] = false;
      this.#active[i] = false;
    }
    this.#ffi.pf_vu_reset();
    this.#protocol = false;
    this.#ack = false;
    this.#pendStart = this.#pendCount = this.#pendBytes = 0;
  }

  #close(why: string): void {
    if (this.client < 0) return;
    this.loop.del(this.client);
    this.#ffi.pf_close(this.client);
    this.client = -1;
    this.#resetDevice();
    info(`vhost-user: ${why}` + (this.oneOff ? ", exiting" : ""));
    if (this.oneOff) this.onGone();
  }

  #dropKick(i: number): void {
    const fd = this.#kick[i]!;
    if (fd < 0) return;
    this.loop.del(fd);
    this.#ffi.pf_close(fd);
    this.#kick[i] = -1;
  }

  #closeFds(n: number): void {
    const dv = this.tap.dv;
    for (let i = 0; i < n; i++) {
      this.#ffi.pf_close(dv.getInt32(this.#msgOff + MSG_FDS + 4 * i, true));
    }
  }

  #command(events: number, fd: number): void {
    if (fd !== this.client) return;
    if (events & EPOLLIN) {
      for (let i = 0; i < MSGS_PER_EVENT && this.client >= 0; i++) {
        const n = this.#ffi.pf_vu_msg_recv(this.client, this.tap.u8, this.#msgOff);
        if (n === -EAGAIN || n === -EINTR) return;
        if (n <= 0) {
          this.#close(n === 0 ? "front end closed the connection" : `receive error ${-n}`);
          return;
        }
        this.#message(n - 12);
      }
      return;
    }
    if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) this.#close("front end hung up");
  }

  /** Handles the message in the receive area; `size` bytes of payload. */
  #message(size: number): void {
    const dv = this.tap.dv;
    const m = this.#msgOff;
    const nfds = dv.getInt32(m, true);
    const req = dv.getUint32(m + MSG_HDR, true);
    const flags = dv.getUint32(m + MSG_HDR + 4, true);
    const p = m + MSG_PAYLOAD;
    const ffi = this.#ffi;
    const needs = (bytes: number): boolean => {
      if (size >= bytes) return true;
      this.#closeFds(nfds);
      this.#close(`request ${req}: payload of ${size} bytes, expected ${bytes}`);
      return false;
    };
    let rc = 0;
    let fdsTaken = false;
    switch (req) {
      case R.GET_FEATURES:
        this.#replyU64(req, FEATURES_LO, FEATURES_HI);
        break;
      case R.SET_FEATURES: {
        if (!needs(8)) return;
        const lo = dv.getUint32(p, true);
        const hi = dv.getUint32(p + 4, true);
        if (!(hi & F_HI_VERSION_1)) {
          this.#closeFds(nfds);
          this.#close("virtio legacy devices aren't supported");
          return;
        }
        this.#protocol = (lo & F_PROTOCOL_FEATURES) !== 0;
        ffi.pf_vu_set_features(
          ((lo & F_EVENT_IDX) ? 1 : 0) | ((lo & F_MRG_RXBUF) ? 2 : 0) | 4,
        );
        if (!this.#protocol) { for (let i = 0; i < QUEUES; i++) this.#enabled[i] = true; }
        this.#update();
        break;
      }
      case R.SET_OWNER:
      case R.SEND_RARP:
        break;
      case R.RESET_OWNER:
        this.#resetDevice();
        break;
      case R.SET_MEM_TABLE:
        fdsTaken = true;
        rc = ffi.pf_vu_set_mem_table(this.tap.u8, p, size, m + MSG_FDS, nfds);
        if (rc < 0) warn(`vhost-user: memory table refused: ${strerror(-rc)}`);
        else debug(`vhost-user: ${rc} memory regions mapped`);
        for (let i = 0; i < QUEUES; i++) this.#update();
        break;
      case R.SET_VRING_NUM:
        if (!needs(8)) return;
        rc = ffi.pf_vu_vring_num(dv.getUint32(p, true), dv.getUint32(p + 4, true));
        break;
      case R.SET_VRING_ADDR:
        if (!needs(40)) return;
        rc = ffi.pf_vu_vring_addr(this.tap.u8, p);
        if (rc < 0) debug("vhost-user: ring addresses outside the memory table");
        rc = dv.getUint32(p, true) < QUEUES ? 0 : rc;
        this.#update();
        break;
      case R.SET_VRING_BASE:
        if (!needs(8)) return;
        rc = ffi.pf_vu_vring_base(dv.getUint32(p, true), dv.getUint32(p + 4, true));
        break;
      case R.GET_VRING_BASE: {
        if (!needs(8)) return;
        const idx = dv.getUint32(p, true);
        const base = ffi.pf_vu_vring_get_base(idx);
        if (base < 0) {
          this.#closeFds(nfds);
          this.#close(`GET_VRING_BASE for queue ${idx}`);
          return;
        }
        this.#started[idx] = false;
        this.#dropKick(idx);
        this.#update();
        this.#reply(req, 8, idx, base);
        break;
      }
      case R.SET_VRING_KICK:
      case R.SET_VRING_CALL:
      case R.SET_VRING_ERR: {
        if (!needs(8)) return;
        const v = dv.getUint32(p, true);
        const idx = v & 0xff;
        const fd = v & VRING_NOFD ? -1 : nfds === 1 ? dv.getInt32(m + MSG_FDS, true) : -2;
        if (idx >= QUEUES || fd === -2) {
          this.#closeFds(nfds);
          this.#close(`request ${req}: bad queue ${idx} or ${nfds} descriptors`);
          return;
        }
        if (fd === -1) this.#closeFds(nfds);
        fdsTaken = true;
        if (req === R.SET_VRING_ERR) {
          if (fd >= 0) ffi.pf_close(fd);
        } else if (req === R.SET_VRING_CALL) {
          ffi.pf_vu_vring_call(idx, fd);
        } else {
          this.#dropKick(idx);
          this.#kick[idx] = fd;
          this.#started[idx] = true;
          if (fd >= 0) this.loop.add(fd, EpollType.VHOST_KICK, idx, EPOLLIN);
          this.#update();
        }
        break;
      }
      case R.GET_PROTOCOL_FEATURES:
        this.#replyU64(req, PF_REPLY_ACK, 0);
        break;
      case R.SET_PROTOCOL_FEATURES:
        if (!needs(8)) return;
        this.#ack = (dv.getUint32(p, true) & PF_REPLY_ACK) !== 0;
        break;
      case R.GET_QUEUE_NUM:
        this.#replyU64(req, 1, 0);
        break;
      case R.SET_VRING_ENABLE: {
        if (!needs(8)) return;
        const idx = dv.getUint32(p, true);
        if (idx >= QUEUES) {
          rc = -1;
          break;
        }
        this.#enabled[idx] = dv.getUint32(p + 4, true) !== 0;
        this.#update();
        break;
      }
      default:
        // Whatever else the front end sends, it offered without us asking
        // (we advertise no logging, no configuration space, no migration).
        this.#closeFds(nfds);
        this.#close(`unsupported request ${req}`);
        return;
    }
    if (!fdsTaken) this.#closeFds(nfds);
    if (this.client >= 0 && this.#ack && flags & FLAG_NEED_REPLY && !isReplying(req)) {
      this.#replyU64(req, rc < 0 ? 1 : 0, 0);
    } else if (rc < 0 && !(this.#ack && flags & FLAG_NEED_REPLY) && req === R.SET_MEM_TABLE) {
      this.#close("bad memory table");
    }
  }

  #replyU64(req: number, lo: number, hi: number): void {
    this.#reply(req, 8, lo, hi);
  }

  /** Sends a reply of `size` (8) bytes: two u32 words. */
  #reply(req: number, size: number, w0: number, w1: number): void {
    const dv = this.tap.dv;
    const r = this.#replyOff;
    dv.setUint32(r, req, true);
    dv.setUint32(r + 4, FLAG_VERSION | FLAG_REPLY, true);
    dv.setUint32(r + 8, size, true);
    dv.setUint32(r + 12, w0 >>> 0, true);
    dv.setUint32(r + 16, w1 >>> 0, true);
    const n = this.#ffi.pf_send(
      this.client,
      this.tap.u8,
      r,
      12 + size,
      MSG_DONTWAIT | MSG_NOSIGNAL,
    );
    if (n !== 12 + size) this.#close(`reply to request ${req} failed`);
  }

  /** Starts or stops each queue: started (kick set) and enabled, with usable rings. */
  #update(): void {
    for (let i = 0; i < QUEUES; i++) {
      const want = this.#started[i]! && this.#enabled[i]!;
      const was = this.#active[i]!;
      this.#active[i] = this.#ffi.pf_vu_vring_active(i, want ? 1 : 0) === 1;
      if (this.#active[i] && !was) {
        debug(`vhost-user: queue ${i} running`);
        // The guest may have queued frames before we started
        if (i === TX) this.#drainTx(this.loop.now);
        else this.#flushPending();
      }
    }
  }

  #kicked(events: number, fd: number, idx: number, now: number): void {
    if (fd !== this.#kick[idx]) return;
    const n = this.#ffi.pf_read(fd, this.tap.u8, this.#scratchOff, 8);
    if (events & (EPOLLHUP | EPOLLERR) || (n <= 0 && n !== -EAGAIN && n !== -EINTR)) {
      // Not an eventfd, or a dead one: it would wake us forever
      warn(`vhost-user: kick descriptor of queue ${idx} unusable, dropped`);
      this.#dropKick(idx);
      return;
    }
    if (idx === TX) this.#drainTx(now);
    else this.#flushPending();
  }

  /** Moves the guest's frames into the tap's input area and processes them, batch by batch. */
  #drainTx(now: number): void {
    if (!this.#active[TX]) return;
    const tap = this.tap;
    const desc = tap.inDesc;
    for (let round = 0; round < TX_ROUNDS; round++) {
      const n = this.#ffi.pf_vu_tx(tap.u8, tap.inOff, tap.inLen, tap.inDescOff, TAP_MSGS);
      this.#checkDropped(now);
      if (n === -EIO) {
        err("vhost-user: TX queue broken by the guest, stopped until it is set up again");
        return;
      }
      if (n <= 0) return;
      for (let i = 0; i < n; i++) tap.frames.add(desc[i * 2]!, desc[i * 2 + 1]!);
      tap.process(now);
    }
    // More to do: come back after the other descriptors had their turn.
    const dv = tap.dv;
    dv.setUint32(this.#scratchOff, 1, true);
    dv.setUint32(this.#scratchOff + 4, 0, true);
    if (this.#kick[TX]! >= 0) this.#ffi.pf_write(this.#kick[TX]!, tap.u8, this.#scratchOff, 8);
  }

  #checkDropped(now: number): void {
    if (this.#ffi.pf_vu_dropped() > 0) BAD.debug(now);
  }

  /** Writes `count` frames described at `descOff` to the guest; the rest waits or is dropped. */
  send(descOff: number, count: number): number {
    if (this.client < 0 || !this.#active[RX]) return 0;
    if (this.#pendCount) this.#flushPending();
    let done = 0;
    if (!this.#pendCount) {
      const n = this.#ffi.pf_vu_rx(this.tap.u8, this.tap.u8.length, descOff, count);
      if (n < 0) {
        if (n === -EIO) err("vhost-user: RX queue broken by the guest");
        return 0;
      }
      done = n;
    }
    if (done < count) this.#stash(descOff, done, count);
    return count;
  }

  /** Copies frames `from..count-1` of the table at `descOff` into the pending area. */
  #stash(descOff: number, from: number, count: number): void {
    const u8 = this.tap.u8;
    const q = new Uint32Array(u8.buffer, u8.byteOffset + descOff, count * 2);
    const t = this.#pendTab;
    for (let i = from; i < count; i++) {
      const off = q[i * 2]!;
      const len = q[i * 2 + 1]!;
      if (
        this.#pendStart + this.#pendCount >= PENDING_FRAMES ||
        this.#pendBytes + len > PENDING_BYTES
      ) this.#compact();
      const slot = this.#pendStart + this.#pendCount;
      if (slot >= PENDING_FRAMES || this.#pendBytes + len > PENDING_BYTES) {
        DROP.debug(performance.now());
        return;
      }
      const dst = this.#pendOff + this.#pendBytes;
      u8.copyWithin(dst, off, off + len);
      t[slot * 2] = dst;
      t[slot * 2 + 1] = len;
      this.#pendCount++;
      this.#pendBytes += len;
    }
  }

  /** Moves the frames still pending (and their table entries) to the start of the area. */
  #compact(): void {
    if (!this.#pendStart) return;
    const t = this.#pendTab;
    const n = this.#pendCount;
    if (!n) {
      this.#pendStart = this.#pendBytes = 0;
      return;
    }
    const first = t[this.#pendStart * 2]!;
    const shift = first - this.#pendOff;
    const end = this.#pendOff + this.#pendBytes;
    this.tap.u8.copyWithin(this.#pendOff, first, end);
    for (let k = 0; k < n; k++) {
      t[k * 2] = t[(this.#pendStart + k) * 2]! - shift;
      t[k * 2 + 1] = t[(this.#pendStart + k) * 2 + 1]!;
    }
    this.#pendStart = 0;
    this.#pendBytes = end - first;
  }

  /** Sends what waited for receive buffers. */
  #flushPending(): void {
    if (!this.#pendCount || !this.#active[RX]) return;
    const n = this.#ffi.pf_vu_rx(
      this.tap.u8,
      this.tap.u8.length,
      this.#pendTabOff + this.#pendStart * 8,
      this.#pendCount,
    );
    if (n < 0) return;
    this.#pendStart += n;
    this.#pendCount -= n;
    if (!this.#pendCount) this.#pendStart = this.#pendBytes = 0;
  }
}

function isReplying(req: number): boolean {
  return req === R.GET_FEATURES || req === R.GET_PROTOCOL_FEATURES || req === R.GET_QUEUE_NUM ||
    req === R.GET_VRING_BASE;
}

/** Logs where QEMU should connect, as upstream does in vhost-user mode. */
export function logVhostUserHints(path: string): void {
  info(`UNIX domain socket bound at ${path}`);
  info("");
  info("You can start qemu with:");
  info(
    `    kvm ... -chardev socket,id=chr0,path=${path} -netdev vhost-user,id=netdev0,chardev=chr0 -device virtio-net,netdev=netdev0 -object memory-backend-memfd,id=memfd0,share=on,size=$RAMSIZE -numa node,memdev=memfd0\n`,
  );
}
