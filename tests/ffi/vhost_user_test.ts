// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * The native vhost-user helpers on their own: what they refuse before any
 * guest memory is mapped, and the control message reader. Rings and chains
 * against real shared memory are tested end to end (`tests/e2e/vhost_user_test.ts`).
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
    sys.socketpair(sys.AF_UNIX, sys.SOCK_STREAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC, 0, fds),
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
