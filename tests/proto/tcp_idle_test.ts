// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Regression tests for what the tcp fuzz target found (tests/fuzz/corpus/tcp/).

import assert from "node:assert/strict";
import { EpollType } from "../../src/loop/loop.ts";
import { INACTIVITY_INTERVAL } from "../../src/proto/tcp.ts";
import { countFds, FIN, openToGateway, TcpBench, withBench } from "../_helpers/tcp_frames.ts";

/** Socket events handled per second over `ms` of real time, the loop blocking as in production. */
function idleRate(b: TcpBench, ms: number): number {
  let n = 0;
  b.loop.on(EpollType.TCP, (e, f, i, now) => {
    n++;
    b.tcp.sockHandler(e, f, i, now);
  });
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    b.loop.runOnce(Math.max(1, Math.ceil(ms - (performance.now() - t0))));
  }
  return n / ((performance.now() - t0) / 1000);
}

Deno.test("tcp: with all host data sent to the guest and not yet acknowledged, the loop sleeps", async () => {
  await withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    h.write(new Uint8Array(3000).fill(7), 0);
    b.spin(2000, () => {
      g.absorb(b.tap.take());
      return g.receivedLen === 3000;
    });
    assert.equal(g.receivedLen, 3000, "the data reached the guest");
    // The guest doesn't acknowledge: the data stays in the socket, readable.
    const rate = idleRate(b, 300);
    assert.ok(
      rate < 100,
      `${Math.round(rate)} socket wake-ups per second while waiting for the ACK`,
    );
    g.ack();
    b.spin(20);
    g.rst();
    h.close();
  });
});

Deno.test("tcp: a connection idle on both sides for a whole inactivity interval is reset, an active one is kept", async () => {
  const fds = countFds();
  await withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    // The host half-closes; the guest acknowledges our FIN, then forgets the connection.
    h.shutdownWrite();
    b.spin(2000, () => {
      g.absorb(b.tap.take());
      return g.finRcvd;
    });
    assert.ok(g.finRcvd, "FIN reached the guest");
    g.ack();
    b.spin(20);
    assert.equal(b.tcp.count, 1);
    const t0 = 1_000_000;
    b.tcp.timer(t0);
    b.tcp.timer(t0 + INACTIVITY_INTERVAL);
    g.ack(); // activity: kept through the next scan
    b.tcp.timer(t0 + 2 * INACTIVITY_INTERVAL);
    assert.equal(b.tcp.count, 1, "an active connection stays");
    b.tcp.timer(t0 + 3 * INACTIVITY_INTERVAL);
    assert.equal(b.tcp.count, 0, "reset after a whole interval without activity");
    const rst = b.tap.take().filter((s) => s.flags & 4);
    assert.equal(rst.length, 1, "the guest gets a RST");
    assert.equal(rst[0]!.flags & FIN, 0);
    b.spin(50, () => {
      h.poll();
      return h.error !== 0 || h.eof;
    });
    assert.equal(h.error, -104, "the host peer sees the reset (ECONNRESET)");
    h.close();
  });
  assert.equal(countFds(), fds);
});
