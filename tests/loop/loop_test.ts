// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import {
  EPOLL_EVENTS,
  EpollType,
  Loop,
  LoopFault,
  REST_MS,
  SOCKET_MAX,
} from "../../src/loop/loop.ts";

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const O_NONBLOCK = 0o4000;
const EPOLLIN = 1;

function socketpair(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(
    lib().pf_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, new Uint8Array(fds.buffer)),
    0,
  );
  return [fds[0]!, fds[1]!];
}

function pipe(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(lib().pf_pipe2(new Uint8Array(fds.buffer), O_NONBLOCK), 0);
  return [fds[0]!, fds[1]!];
}

Deno.test("Loop moves data from a socketpair into a pipe through epoll handlers", () => {
  const ffi = lib();
  const loop = new Loop();
  const [a, b] = socketpair();
  const [pr, pw] = pipe();
  const buf = new Uint8Array(65536);
  const got: number[] = [];
  const seen: Array<[number, number]> = [];
  loop.on(EpollType.UDP, (_ev, fd, index) => {
    seen.push([fd, index]);
    const n = ffi.pf_read(fd, buf, 0, buf.length);
    if (n > 0) assert.equal(ffi.pf_write(pw, buf, 0, n), n);
  });
  loop.on(EpollType.ICMP, (_ev, fd, index) => {
    seen.push([fd, index]);
    const n = ffi.pf_read(fd, buf, 0, buf.length);
    for (let i = 0; i < n; i++) got.push(buf[i]!);
    if (got.length >= 3000) loop.stop(7);
  });
  assert.equal(loop.add(b, EpollType.UDP, 0xabcdef01, EPOLLIN), 0);
  assert.equal(loop.add(pr, EpollType.ICMP, 42, EPOLLIN), 0);
  const data = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
  assert.equal(ffi.pf_write(a, data, 0, data.length), data.length);
  let ticks = 0;
  loop.every(10, () => {
    if (++ticks > 200) loop.stop(1);
  });
  assert.equal(loop.run(), 7);
  assert.deepEqual(new Uint8Array(got), data);
  assert.deepEqual(seen[0], [b, 0xabcdef01], "fd and per-kind index come back from the reference");
  assert.ok(seen.some(([fd, i]) => fd === pr && i === 42));
  for (const fd of [a, b, pr, pw, loop.epfd]) ffi.pf_close(fd);
});

Deno.test("Loop runs deferred handlers after each wake-up and periodic timers on time", () => {
  const loop = new Loop();
  let deferred = 0;
  let periodic = 0;
  const start = performance.now();
  loop.defer(() => deferred++);
  loop.every(20, () => {
    if (++periodic === 5) loop.stop();
  });
  loop.run();
  const elapsed = performance.now() - start;
  assert.equal(periodic, 5);
  assert.ok(deferred >= 5, "deferred handlers ran at every wake-up");
  assert.ok(elapsed >= 95, `five 20 ms periods took ${elapsed} ms`);
  lib().pf_close(loop.epfd);
});

Deno.test("Loop.background() runs one slice per wake-up, after that wake-up's events, without blocking", () => {
  const ffi = lib();
  const loop = new Loop();
  const [pr, pw] = pipe();
  const buf = new Uint8Array(16);
  const order: string[] = [];
  let wakeups = 0;
  loop.on(EpollType.ICMP, (_ev, fd) => {
    ffi.pf_read(fd, buf, 0, buf.length);
    order.push("event");
  });
  assert.equal(loop.add(pr, EpollType.ICMP, 0, EPOLLIN), 0);
  assert.equal(ffi.pf_write(pw, buf, 0, 1), 1);
  loop.defer(() => wakeups++);
  // A blocking wait would sleep until this timer, which ends the loop
  loop.every(5000, () => {
    order.push("timer");
    loop.stop(1);
  });
  let slices = 0;
  loop.background(() => {
    order.push(`slice ${++slices}`);
    if (slices < 3) return true;
    loop.stop(0);
    return false;
  });
  assert.equal(loop.run(), 0, "the work ended the loop, not the timer");
  assert.deepEqual(order, ["event", "slice 1", "slice 2", "slice 3"]);
  assert.equal(wakeups, 3, "one slice per wake-up");
  for (const fd of [pr, pw, loop.epfd]) ffi.pf_close(fd);
});

Deno.test("Loop.background() with a delay: nothing before it, and the wait sleeps until then", () => {
  const ffi = lib();
  const loop = new Loop();
  let wakeups = 0;
  loop.defer(() => wakeups++);
  loop.every(5000, () => loop.stop(1));
  const start = performance.now();
  let first = -1;
  let slices = 0;
  loop.background(() => {
    if (first < 0) first = performance.now() - start;
    if (++slices < 2) return true;
    loop.stop(0);
    return false;
  }, 60);
  assert.equal(loop.run(), 0, "the work ended the loop, not the timer");
  assert.ok(first >= 59, `the first slice ran ${first} ms after`);
  assert.ok(wakeups <= 4, `slept until it was due: ${wakeups} wake-ups`);
  ffi.pf_close(loop.epfd);
});

Deno.test("Loop refuses descriptors that don't fit the reference", () => {
  const loop = new Loop();
  assert.equal(loop.add(SOCKET_MAX + 1, EpollType.TCP, 0, EPOLLIN), -24);
  assert.equal(loop.add(-1, EpollType.TCP, 0, EPOLLIN), -24);
  assert.equal(EPOLL_EVENTS, 8);
  lib().pf_close(loop.epfd);
});

Deno.test("Loop delivers SIGUSR1 sent to ourselves as a signal event", () => {
  const loop = new Loop();
  let got = 0;
  loop.onSignal(10, (signo) => {
    got = signo;
    loop.stop();
  });
  loop.every(2000, () => loop.stop());
  lib().pf_kill(Deno.pid, 10);
  loop.run();
  assert.equal(got, 10);
});

Deno.test("Loop.rest() silences a ready descriptor for REST_MS, then reports it again", () => {
  const ffi = lib();
  const loop = new Loop();
  const [a, b] = socketpair();
  let calls = 0;
  let restAt = 0;
  let backAt = 0;
  loop.on(EpollType.TCP_LISTEN, (_ev, fd, index, now) => {
    // Stays readable, like a listener whose accept() fails with EMFILE
    calls++;
    if (calls === 1) {
      restAt = now;
      loop.rest(fd, EpollType.TCP_LISTEN, index, EPOLLIN);
    } else {
      backAt = now;
      loop.stop(0);
    }
  });
  assert.equal(loop.add(b, EpollType.TCP_LISTEN, 5, EPOLLIN), 0);
  assert.equal(ffi.pf_write(a, new Uint8Array(1), 0, 1), 1);
  loop.every(1000, () => loop.stop(1));
  assert.equal(loop.run(), 0);
  assert.equal(calls, 2, "one call before resting, one after: no spinning in between");
  assert.ok(backAt - restAt >= REST_MS - 1, `back after ${backAt - restAt} ms`);
  // del() forgets a resting descriptor: its number may be reused at once, and
  // the end of the rest mustn't turn the new registration into the old one
  loop.rest(b, EpollType.TCP_LISTEN, 5, EPOLLIN);
  assert.equal(loop.del(b), 0);
  const t0 = loop.now;
  loop.on(EpollType.UDP, (_ev, _fd, index, now) => {
    assert.equal(index, 9);
    if (now - t0 > REST_MS + 20) loop.stop(0);
  });
  assert.equal(loop.add(b, EpollType.UDP, 9, EPOLLIN), 0);
  assert.equal(loop.run(), 0);
  assert.equal(calls, 2);
  for (const fd of [a, b, loop.epfd]) ffi.pf_close(fd);
});

Deno.test("Loop: a throwing flow handler closes that flow and the loop goes on", () => {
  const ffi = lib();
  const loop = new Loop();
  const [a, b] = socketpair();
  const [c, d] = socketpair();
  const closed: Array<[number, number]> = [];
  let good = 0;
  loop.on(EpollType.TCP, (_ev, fd) => {
    if (fd === b) throw new RangeError("offset out of bounds");
    good++;
    ffi.pf_read(fd, new Uint8Array(8), 0, 8);
    if (good === 2) loop.stop(0);
  }, (fd, index) => {
    closed.push([fd, index]);
    loop.del(fd);
  });
  assert.equal(loop.add(b, EpollType.TCP, 3, EPOLLIN), 0);
  assert.equal(loop.add(d, EpollType.TCP, 4, EPOLLIN), 0);
  assert.equal(ffi.pf_write(a, new Uint8Array(1), 0, 1), 1);
  assert.equal(ffi.pf_write(c, new Uint8Array(1), 0, 1), 1);
  loop.every(50, () => {
    if (good === 1) assert.equal(ffi.pf_write(c, new Uint8Array(1), 0, 1), 1);
  });
  assert.equal(loop.run(), 0);
  assert.deepEqual(closed, [[b, 3]], "the faulty flow was closed, once");
  for (const fd of [a, b, c, d, loop.epfd]) ffi.pf_close(fd);
});

Deno.test("Loop: a throw outside a flow ends run() with a one-line LoopFault", () => {
  const ffi = lib();
  const loop = new Loop();
  const [a, b] = socketpair();
  loop.on(EpollType.TAP_PASST, () => {
    throw new TypeError("x is undefined\n    at somewhere (file.ts:1:1)");
  });
  assert.equal(loop.add(b, EpollType.TAP_PASST, 0, EPOLLIN), 0);
  assert.equal(ffi.pf_write(a, new Uint8Array(1), 0, 1), 1);
  assert.throws(() => loop.run(), (e: unknown) => {
    assert.ok(e instanceof LoopFault);
    assert.equal(e.message, "passt socket: TypeError: x is undefined");
    return true;
  });
  // A closer that throws too is not contained either
  const loop2 = new Loop();
  loop2.on(EpollType.UDP, () => {
    throw new Error("first");
  }, () => {
    throw new Error("second");
  });
  assert.equal(loop2.add(b, EpollType.UDP, 0, EPOLLIN), 0);
  assert.throws(() => loop2.run(), /UDP, closing a flow after a fault: Error: second/);
  // And a timer
  const loop3 = new Loop();
  loop3.every(1, () => {
    throw new Error("tick");
  });
  assert.throws(() => loop3.run(), /^LoopFault: timer: Error: tick$/);
  for (const fd of [a, b, loop.epfd, loop2.epfd, loop3.epfd]) ffi.pf_close(fd);
});

/** CPU time (user + system) of this process so far, in clock ticks. */
function cpuTicks(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

Deno.test("Loop polls briefly after a wake-up with events, then sleeps: an idle wait costs no CPU", () => {
  const ffi = lib();
  const loop = new Loop();
  const [a, b] = socketpair();
  let reads = 0;
  const buf = new Uint8Array(16);
  loop.on(EpollType.TCP, (_ev, fd) => {
    while (ffi.pf_read(fd, buf, 0, buf.length) > 0) reads++;
  });
  assert.equal(loop.add(b, EpollType.TCP, 0, EPOLLIN), 0);
  // A wake-up with an event: the next wait polls first, then blocks
  assert.equal(ffi.pf_write(a, new Uint8Array(1), 0, 1), 1);
  loop.runOnce(1000);
  assert.equal(reads, 1);
  const before = cpuTicks();
  const t0 = performance.now();
  loop.runOnce(300);
  const slept = performance.now() - t0;
  const used = cpuTicks() - before;
  assert.ok(slept >= 250, `the wait blocked: ${slept} ms`);
  assert.ok(used <= 5, `${used * 10} ms of CPU in a 300 ms idle wait`);
  // Data that arrives while the loop polls or sleeps is handled all the same
  assert.equal(ffi.pf_write(a, new Uint8Array(1), 0, 1), 1);
  loop.runOnce(1000);
  assert.equal(reads, 2);
  ffi.pf_close(a);
  ffi.pf_close(b);
  ffi.pf_close(loop.epfd);
});
