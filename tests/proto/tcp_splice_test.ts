// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import { Loop } from "../../src/loop/loop.ts";
import {
  A_IN_OFF,
  CLOSING,
  PIPE_POOL_SIZE,
  probePipeSize,
  TcpSplice,
} from "../../src/proto/tcp_splice.ts";
import { countFds } from "../_helpers/tcp_frames.ts";
import * as sa from "../../src/wire/sockaddr.ts";

const NB = 0o4000 | 0o2000000;
const ECONNRESET = 104;

/** A listening socket on 127.0.0.1 with a kernel-chosen port. */
function listener(): { fd: number; port: number } {
  const ffi = lib();
  const fd = ffi.pf_socket(sa.AF_INET, 1 | NB, 0);
  const b = new Uint8Array(sa.SOCKADDR_MAX);
  const dv = new DataView(b.buffer);
  ffi.pf_bind(fd, b, sa.writeIn4(dv, 0, 0x7f000001, 0));
  ffi.pf_listen(fd, 16);
  ffi.pf_getsockname(fd, b);
  return { fd, port: sa.port(dv, 0) };
}

/** Connects a blocking-style client (non-blocking, loopback completes at once) to `port`. */
function connect(port: number): number {
  const ffi = lib();
  const fd = ffi.pf_socket(sa.AF_INET, 1 | NB, 0);
  const b = new Uint8Array(sa.SOCKADDR_MAX);
  const rc = ffi.pf_connect(fd, b, sa.writeIn4(new DataView(b.buffer), 0, 0x7f000001, port));
  assert.ok(rc === 0 || rc === -115);
  return fd;
}

function accept(fd: number, loop: Loop): number {
  const b = new Uint8Array(sa.SOCKADDR_MAX);
  for (let i = 0; i < 200; i++) {
    const s = lib().pf_accept4(fd, b, NB);
    if (s >= 0) return s;
    loop.runOnce(5);
  }
  throw new Error("nothing to accept");
}

/** Reads from `fd` while running the loop until `n` bytes or EOF; returns the bytes. */
function readAll(
  fd: number,
  loop: Loop,
  n: number,
): { data: Uint8Array; eof: boolean; err: number } {
  const out = new Uint8Array(n);
  let got = 0;
  for (let i = 0; i < 2000 && got < n; i++) {
    const r = lib().pf_read(fd, out, got, n - got);
    if (r === 0) return { data: out.subarray(0, got), eof: true, err: 0 };
    if (r > 0) got += r;
    else if (r !== -11) return { data: out.subarray(0, got), eof: false, err: -r };
    else loop.runOnce(2);
  }
  return { data: out.subarray(0, got), eof: false, err: 0 };
}

/** A spliced pair in our own namespace: client -> front listener -> splice -> back server. */
function setup(nofile = 1 << 20): {
  loop: Loop;
  sp: TcpSplice;
  client: number;
  server: number;
  close: () => void;
} {
  const loop = new Loop();
  const sp = new TcpSplice(loop, { userns: -1, netns: -1 }, nofile, { capacity: 8 });
  const front = listener();
  const back = listener();
  const client = connect(front.port);
  const a = accept(front.fd, loop);
  // Flowsides: the peer on the host's loopback, and the target on loopback.
  const sides = Uint32Array.of(
    0,
    0,
    0xffff,
    0x7f000001,
    0,
    0,
    0xffff,
    0x7f000001,
    50000,
    1,
    0,
    0,
    0xffff,
    0x7f000001,
    0,
    0,
    0xffff,
    0,
    back.port,
    0,
  );
  assert.equal(sp.accept(a, back.port, false, false, sides, loop.now), true);
  assert.equal(sp.flows.count, sp.count, "connections are flows of the flow table");
  const server = sp.count ? accept(back.fd, loop) : -1;
  return {
    loop,
    sp,
    client,
    server,
    close: () => {
      sp.closeAll();
      for (const fd of [front.fd, back.fd, client, server, loop.epfd]) {
        if (fd >= 0) lib().pf_close(fd);
      }
    },
  };
}

Deno.test("tcp_splice: the probed pipe size is a power of two of at least 64 KiB, at most 8 MiB", () => {
  const s = probePipeSize();
  assert.ok(s === 0 || (s >= 65536 && s <= 8 << 20 && (s & (s - 1)) === 0), `${s}`);
});

Deno.test("tcp_splice: the pipes that took the probed size are the pool: none made twice, none left over", () => {
  const ffi = lib();
  const before = countFds();
  const loop = new Loop();
  const sp = new TcpSplice(loop, null, 1 << 20, { capacity: 8 });
  try {
    // Any Linux takes 64 KiB pipes (its default size)
    assert.ok(sp.pipeSize >= 65536, `${sp.pipeSize}`);
    // The loop's epoll descriptor, and the pool's pipes: two a pair, two descriptors each
    assert.equal(sp.fds, 4 * PIPE_POOL_SIZE);
    assert.equal(countFds() - before, 1 + 4 * PIPE_POOL_SIZE);
    // Full already: the first refill opens nothing
    sp.refill();
    assert.equal(sp.fds, 4 * PIPE_POOL_SIZE);
    assert.equal(countFds() - before, 1 + 4 * PIPE_POOL_SIZE);
  } finally {
    sp.closeAll();
    ffi.pf_close(loop.epfd);
  }
  assert.equal(countFds(), before, "closeAll() closes the pool's pipes");
});

Deno.test("tcp_splice: data crosses both ways, then half-closes propagate and the slot is freed", () => {
  const t = setup();
  const ffi = lib();
  try {
    assert.equal(t.sp.count, 1);
    const up = crypto.getRandomValues(new Uint8Array(60000));
    assert.equal(ffi.pf_write(t.client, up, 0, up.length), up.length);
    assert.deepEqual(readAll(t.server, t.loop, up.length).data, up);
    const down = crypto.getRandomValues(new Uint8Array(50000));
    assert.equal(ffi.pf_write(t.server, down, 0, down.length), down.length);
    assert.deepEqual(readAll(t.client, t.loop, down.length).data, down);
    // Client's FIN reaches the server; the server can still answer.
    ffi.pf_shutdown(t.client, 1);
    assert.equal(readAll(t.server, t.loop, 10).eof, true);
    const late = new Uint8Array([1, 2, 3]);
    ffi.pf_write(t.server, late, 0, 3);
    assert.deepEqual(readAll(t.client, t.loop, 3).data, late);
    ffi.pf_shutdown(t.server, 1);
    assert.equal(readAll(t.client, t.loop, 10).eof, true);
    for (let i = 0; i < 20 && !(t.sp.ev[0]! & CLOSING); i++) t.loop.runOnce(2);
    assert.ok(t.sp.ev[0]! & CLOSING, "both FINs forwarded: CLOSING");
    t.sp.timer(t.loop.now);
    assert.equal(t.sp.count, 0, "the timer closed it");
  } finally {
    t.close();
  }
});

Deno.test("tcp_splice: both sockets of a connection send without Nagle's delay, as upstream's", () => {
  const t = setup();
  const IPPROTO_TCP = 6, TCP_NODELAY = 1;
  try {
    assert.equal(t.sp.count, 1);
    for (const side of [0, 1]) {
      const fd = t.sp.sock[side]!;
      assert.equal(lib().pf_getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 1, `side ${side}`);
    }
  } finally {
    t.close();
  }
});

Deno.test("tcp_splice: a full destination stops reading the source until it drains, then all data and the FIN arrive", () => {
  const t = setup();
  const ffi = lib();
  const chunk = new Uint8Array(1 << 16);
  const pattern = (off: number, buf: Uint8Array, n: number) => {
    for (let j = 0; j < n; j++) buf[j] = (off + j) % 251;
  };
  try {
    // The server reads nothing: write until the client's socket, the pipe and
    // both buffers on the way are full.
    let sent = 0;
    for (let round = 0; round < 4000 && !(t.sp.ev[0]! & A_IN_OFF); round++) {
      pattern(sent, chunk, chunk.length);
      const w = ffi.pf_write(t.client, chunk, 0, chunk.length);
      if (w > 0) sent += w;
      t.loop.runOnce(0);
    }
    assert.ok(t.sp.ev[0]! & A_IN_OFF, `input from the client not polled while stalled (${sent} B)`);
    // Fill the client's buffer as well, then close it: data and FIN wait.
    for (let w = 1; w > 0;) {
      pattern(sent, chunk, chunk.length);
      w = ffi.pf_write(t.client, chunk, 0, chunk.length);
      if (w > 0) sent += w;
    }
    ffi.pf_shutdown(t.client, 1);
    for (let k = 0; k < 5; k++) t.loop.runOnce(2);
    // Drain at the server: every byte in order, then end of file.
    const got = new Uint8Array(1 << 16);
    const want = new Uint8Array(1 << 16);
    let recvd = 0;
    let eof = false;
    for (let k = 0; k < 200000 && !eof; k++) {
      const r = ffi.pf_read(t.server, got, 0, got.length);
      if (r === 0) eof = true;
      else if (r > 0) {
        pattern(recvd, want, r);
        assert.deepEqual(got.subarray(0, r), want.subarray(0, r), `bytes at ${recvd}`);
        recvd += r;
      } else {
        assert.equal(r, -11);
        t.loop.runOnce(2);
      }
    }
    assert.equal(recvd, sent);
    assert.ok(eof, "the client's FIN followed its data");
    assert.equal(t.sp.ev[0]! & A_IN_OFF, 0, "input polled again once drained");
  } finally {
    t.close();
  }
});

Deno.test("tcp_splice: a reset on one side resets the other", () => {
  const t = setup();
  const ffi = lib();
  try {
    const l = new Uint8Array(8);
    new DataView(l.buffer).setInt32(0, 1, sa.HOST_LE);
    ffi.pf_setsockopt_buf(t.server, 1, 13, l, 8);
    ffi.pf_close(t.server);
    t.server = -1;
    const r = readAll(t.client, t.loop, 10);
    assert.equal(r.err, ECONNRESET);
    assert.equal(t.sp.count, 0);
  } finally {
    t.close();
  }
});

Deno.test("tcp_splice: connections on descriptors near the open-file limit are refused with a reset", () => {
  const t = setup(20);
  try {
    assert.equal(t.sp.count, 0, "not spliced");
    assert.equal(readAll(t.client, t.loop, 10).err, ECONNRESET);
  } finally {
    t.close();
  }
});
