// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * The native vhost-user helpers on their own: what they refuse before any
 * guest memory is mapped, the control message reader, and the receive queue
 * running out of buffers (a file as the guest's memory, the rings written and
 * read through it). The rest of the rings and chains against real shared
 * memory is tested end to end (`tests/e2e/vhost_user_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { EBADF, EINVAL, EMSGSIZE, ENOTCONN } from "../../ffi/errno.ts";
import { lib } from "../../ffi/lib.ts";
import * as sys from "../../ffi/sys.ts";

function pair(): [number, number] {
  const fds = new Int32Array(2);
  sys.sysCheck(
    lib().pf_socketpair(
      sys.AF_UNIX,
      sys.SOCK_STREAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC,
      0,
      fds,
    ),
    "create socket pair",
  );
  return [fds[0]!, fds[1]!];
}

function send(fd: number, bytes: number[]): void {
  const b = new Uint8Array(bytes);
  assert.equal(lib().pf_send(fd, b, 0, b.length, sys.MSG_NOSIGNAL), b.length);
}

function header(req: number, flags: number, size: number): number[] {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, req, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, size, true);
  return [...b];
}

Deno.test("vhost-user native: queue parameters are checked, nothing runs without memory", () => {
  const ffi = lib();
  assert.equal(ffi.pf_vu_reset(), 0);
  assert.equal(ffi.pf_vu_vring_num(0, 256), 0);
  assert.equal(ffi.pf_vu_vring_num(1, 32768), 0);
  for (const [q, n] of [[0, 0], [0, 300], [0, 65536], [2, 256]] as const) {
    assert.equal(ffi.pf_vu_vring_num(q, n), -EINVAL, `queue ${q} size ${n}`);
  }
  assert.equal(ffi.pf_vu_vring_base(2, 0), -EINVAL);
  assert.equal(ffi.pf_vu_vring_get_base(7), -EINVAL);
  // Ring addresses that no region holds: refused, and the queue can't start
  const addr = new Uint8Array(40);
  new DataView(addr.buffer).setBigUint64(8, 0x7f0000000000n, true);
  assert.equal(ffi.pf_vu_vring_addr(addr, 0), -EINVAL);
  assert.equal(ffi.pf_vu_vring_active(0, 1), 0);
  assert.equal(ffi.pf_vu_vring_active(1, 1), 0);
  const arena = new Uint8Array(1 << 20);
  assert.equal(ffi.pf_vu_tx(arena, 4096, 65536, 0, 64), -ENOTCONN);
  assert.equal(ffi.pf_vu_rx(arena, arena.length, 0, 1), -ENOTCONN);
  assert.equal(ffi.pf_vu_set_features(0b101), 12);
  assert.equal(ffi.pf_vu_set_features(0), 10);
  assert.equal(ffi.pf_vu_reset(), 0);
});

Deno.test("vhost-user native: memory tables are refused unless every region is a long enough file", () => {
  const ffi = lib();
  const buf = new Uint8Array(512);
  const dv = new DataView(buf.buffer);
  const table = (n: number, size: bigint): void => {
    dv.setUint32(0, n, true);
    for (let i = 0; i < n; i++) {
      dv.setBigUint64(8 + 32 * i, 0x100000000n, true);
      dv.setBigUint64(16 + 32 * i, size, true);
      dv.setBigUint64(24 + 32 * i, 0x7f0000000000n, true);
      dv.setBigUint64(32 + 32 * i, 0n, true);
    }
  };
  // A socket is no memory: refused, and the descriptor is closed either way
  const [a, b] = pair();
  dv.setInt32(400, a, true);
  table(1, 4096n);
  assert.equal(ffi.pf_vu_set_mem_table(buf, 0, 40, 400, 1), -EINVAL);
  assert.equal(ffi.pf_close(a), -EBADF);
  // Regions and descriptors don't match in number
  const [c, d] = pair();
  dv.setInt32(400, c, true);
  table(2, 4096n);
  assert.equal(ffi.pf_vu_set_mem_table(buf, 0, 72, 400, 1), -EINVAL);
  assert.equal(ffi.pf_close(c), -EBADF);
  // A payload too short for its region count, and an empty region
  const [e, f] = pair();
  dv.setInt32(400, e, true);
  table(1, 0n);
  assert.equal(ffi.pf_vu_set_mem_table(buf, 0, 40, 400, 1), -EINVAL);
  assert.equal(ffi.pf_close(e), -EBADF);
  table(1, 4096n);
  assert.equal(ffi.pf_vu_set_mem_table(buf, 0, 16, 400, 0), -EINVAL);
  for (const fd of [b, d, f]) ffi.pf_close(fd);
});

Deno.test("vhost-user native: message reader: header, payload, oversized payloads, end of stream", () => {
  const ffi = lib();
  const [us, them] = pair();
  const buf = new Uint8Array(8192);
  const dv = new DataView(buf.buffer);
  try {
    assert.equal(ffi.pf_vu_msg_recv(us, buf, 64) < 0, true, "nothing there yet");
    // GET_FEATURES written in two pieces, then SET_FEATURES with its payload
    const h = header(1, 1, 0);
    send(them, h.slice(0, 5));
    send(them, h.slice(5));
    assert.equal(ffi.pf_vu_msg_recv(us, buf, 64), 12);
    assert.equal(dv.getInt32(64, true), 0, "no descriptors");
    assert.equal(dv.getUint32(64 + 36, true), 1);
    send(them, [...header(2, 1, 8), 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(ffi.pf_vu_msg_recv(us, buf, 64), 20);
    assert.equal(dv.getUint32(64 + 48, true), 0x04030201);
    send(them, header(5, 1, 1 << 20));
    assert.equal(ffi.pf_vu_msg_recv(us, buf, 64), -EMSGSIZE);
    ffi.pf_close(them);
    assert.equal(ffi.pf_vu_msg_recv(us, buf, 64), 0, "end of stream");
  } finally {
    ffi.pf_close(us);
  }
});

/** Guest memory for the receive queue tests: a file, mapped by the native side. */
const GPA = 0x100000000n;
const QVA = 0x7f0000000000n;
const QSIZE = 16;
const DESC = 0;
const AVAIL = 256;
const USED = 4096;
/** used->avail_event: where the back end says which avail index it wants a kick for. */
const AVAIL_EVENT = USED + 4 + 8 * QSIZE;
/** Unused by the rings. */
const SCRATCH = 2048;
const BUFS = 8192;
const BUF_LEN = 4096;
const MEM = BUFS + QSIZE * BUF_LEN;
/** VRING_DESC_F_WRITE: a buffer the device writes. */
const DESC_F_WRITE = 2;

/** The receive queue (0) of a device on `path` with `features` (`pf_vu_set_features`). */
class GuestRx {
  readonly file: Deno.FsFile;
  /** The next avail index to publish. */
  idx: number;

  constructor(readonly path: string, features: number, base = 0) {
    const ffi = lib();
    this.file = Deno.openSync(path, { read: true, write: true });
    this.file.truncateSync(MEM);
    ffi.pf_vu_reset();
    ffi.pf_vu_set_features(features);
    const msg = new Uint8Array(64);
    const dv = new DataView(msg.buffer);
    dv.setUint32(0, 1, true);
    dv.setBigUint64(8, GPA, true);
    dv.setBigUint64(16, BigInt(MEM), true);
    dv.setBigUint64(24, QVA, true);
    dv.setBigUint64(32, 0n, true);
    dv.setInt32(48, ffi.pf_open(sys.cstr(path), sys.O_RDWR | sys.O_CLOEXEC, 0), true);
    assert.equal(ffi.pf_vu_set_mem_table(msg, 0, 40, 48, 1), 1);
    assert.equal(ffi.pf_vu_vring_num(0, QSIZE), 0);
    assert.equal(ffi.pf_vu_vring_base(0, base), 0);
    msg.fill(0);
    dv.setBigUint64(8, QVA + BigInt(DESC), true);
    dv.setBigUint64(16, QVA + BigInt(USED), true);
    dv.setBigUint64(24, QVA + BigInt(AVAIL), true);
    assert.equal(ffi.pf_vu_vring_addr(msg, 0), 0);
    assert.equal(ffi.pf_vu_vring_active(0, 1), 1);
    for (let i = 0; i < QSIZE; i++) {
      const d = new DataView(new ArrayBuffer(16));
      d.setBigUint64(0, GPA + BigInt(BUFS + i * BUF_LEN), true);
      d.setUint32(8, BUF_LEN, true);
      d.setUint16(12, DESC_F_WRITE, true);
      this.write(DESC + 16 * i, new Uint8Array(d.buffer));
    }
    this.idx = base;
  }

  write(off: number, b: Uint8Array): void {
    this.file.seekSync(off, Deno.SeekMode.Start);
    assert.equal(this.file.writeSync(b), b.length);
  }

  read(off: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    this.file.seekSync(off, Deno.SeekMode.Start);
    assert.equal(this.file.readSync(b), len);
    return b;
  }

  u16(off: number): number {
    return new DataView(this.read(off, 2).buffer).getUint16(0, true);
  }

  set16(off: number, v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    this.write(off, b);
  }

  /** Makes buffer `head` available; true if the guest must kick (event index rule). */
  post(head: number): boolean {
    const old = this.idx;
    this.set16(AVAIL + 4 + 2 * (this.idx % QSIZE), head);
    this.idx = (this.idx + 1) & 0xffff;
    this.set16(AVAIL + 2, this.idx);
    const ev = this.u16(AVAIL_EVENT);
    return ((this.idx - ev - 1) & 0xffff) < ((this.idx - old) & 0xffff);
  }

  /** Used element `i`: head and length. */
  used(i: number): [number, number] {
    const dv = new DataView(this.read(USED + 4 + 8 * (i % QSIZE), 8).buffer);
    return [dv.getUint32(0, true), dv.getUint32(4, true)];
  }

  close(): void {
    lib().pf_vu_reset();
    this.file.close();
  }
}

/** An arena holding `frames` (at 4096 and on) behind their table (at 0). */
function rxFrames(frames: Uint8Array[]): Uint8Array {
  const arena = new Uint8Array(1 << 17);
  const dv = new DataView(arena.buffer);
  let off = 4096;
  frames.forEach((f, i) => {
    arena.set(f, off);
    dv.setUint32(i * 8, off, true);
    dv.setUint32(i * 8 + 4, f.length, true);
    off += f.length;
  });
  return arena;
}

Deno.test("vhost-user native: RX with too few mergeable buffers asks for a kick on the guest's next buffer", () => {
  const path = Deno.makeTempFileSync();
  // Event index, mergeable buffers, version 1 (12-byte header)
  const g = new GuestRx(path, 0b111);
  try {
    const frame = new Uint8Array(10000).map((_, i) => i * 7);
    const arena = rxFrames([frame]);
    // Two buffers of 4096 bytes, and the frame needs three
    g.post(0);
    g.post(1);
    assert.equal(lib().pf_vu_rx(arena, arena.length, 0, 1), 0);
    assert.equal(g.u16(USED + 2), 0, "nothing used");
    // The kick must come when the guest adds a buffer to the two it gave
    assert.equal(g.u16(AVAIL_EVENT), 2, "event index: the avail index we saw");
    assert.ok(g.post(2), "the guest's third buffer is worth a kick");
    assert.equal(lib().pf_vu_rx(arena, arena.length, 0, 1), 1);
    assert.equal(g.u16(USED + 2), 3);
    assert.deepEqual([g.used(0), g.used(1), g.used(2)], [[0, 4096], [1, 4096], [2, 1820]]);
    assert.equal(g.read(BUFS + 10, 1)[0], 3, "num_buffers");
    const got = new Uint8Array(10000);
    got.set(g.read(BUFS + 12, 4084), 0);
    got.set(g.read(BUFS + BUF_LEN, 4096), 4084);
    got.set(g.read(BUFS + 2 * BUF_LEN, 1820), 8180);
    assert.deepEqual(got, frame);
  } finally {
    g.close();
    Deno.removeSync(path);
  }
});

Deno.test("vhost-user native: RX goes on with buffers posted between running out and the event index", () => {
  const path = Deno.makeTempFileSync();
  // Event index, one buffer per frame; the avail index wraps to 0 with the first buffer
  const g = new GuestRx(path, 0b101, 0xffff);
  const ffi = lib();
  try {
    // The call descriptor is the guest's memory, at the avail index: the
    // notification for the first frame (eventfd value 1, little-endian u64)
    // sets the index to 1 and ring[0] (buffer 0) while the back end is out of
    // buffers: the guest, called, gives the buffer back before the back end
    // publishes its event index, as a guest on another CPU does. (Setting it
    // notifies once too: that goes to an unused part of the memory.)
    const call = ffi.pf_open(sys.cstr(path), sys.O_WRONLY | sys.O_CLOEXEC, 0);
    assert.ok(call >= 0);
    assert.equal(ffi.pf_lseek(call, SCRATCH, sys.SEEK_SET), SCRATCH);
    assert.equal(ffi.pf_vu_vring_call(0, call), 0);
    assert.equal(ffi.pf_lseek(call, AVAIL + 2, sys.SEEK_SET), AVAIL + 2);
    // A stale event index, from an earlier wait: the guest's next buffer is no reason to kick
    g.set16(AVAIL_EVENT, 0xfff0);
    assert.equal(g.post(0), false);
    const f = (b: number): Uint8Array => new Uint8Array(100).fill(b);
    const arena = rxFrames([f(1), f(2)]);
    assert.equal(
      ffi.pf_vu_rx(arena, arena.length, 0, 2),
      2,
      "the second frame waited for a kick that won't come",
    );
    assert.equal(g.u16(AVAIL + 2), 1, "the guest gave buffer 0 back during the call");
    assert.equal(g.u16(USED + 2), 2);
    assert.deepEqual([g.used(0), g.used(1)], [[0, 112], [0, 112]]);
    assert.deepEqual(g.read(BUFS + 12, 100), f(2));
  } finally {
    g.close();
    Deno.removeSync(path);
  }
});
