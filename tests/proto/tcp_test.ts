// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { sha256 } from "../_helpers/e2e.ts";
import { lib } from "../../ffi/lib.ts";
import { tcpIsn } from "../../src/proto/tcp.ts";
import { ACK_TIMEOUT, TCP_MAX_RETRANS } from "../../src/proto/tcp.ts";
import {
  ACK,
  countFds,
  FIN,
  GuestConn,
  HostConn,
  HostListener,
  mapped,
  openToGateway,
  PSH,
  RST,
  SYN,
  type TapSeg,
  TcpBench,
  withBench,
} from "../_helpers/tcp_frames.ts";
import { ip4 } from "../_helpers/frames.ts";

const GW4 = ip4("192.0.2.1");
const GUEST4 = ip4("192.0.2.10");

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
  return b;
}

/** The data segments among those the guest got since the last take. */
function dataSegs(b: TcpBench): TapSeg[] {
  return b.tap.take().filter((s) => s.payload.length);
}

/** The guest sends two pure duplicate ACKs in one batch; returns the data segments they bring. */
function dupAcks(b: TcpBench, g: GuestConn): TapSeg[] {
  const d = { seq: g.sndNxt, ack: g.rcvNxt, flags: ACK, wnd: g.wndField };
  g.feed([d, d]);
  return dataSegs(b);
}

/** The host side writes `text`; returns the one data segment that reaches the guest. */
function hostSends(b: TcpBench, h: HostConn, text: string): TapSeg {
  h.write(new TextEncoder().encode(text), 0);
  b.spin(200, () => b.tap.segs.length > 0);
  const segs = dataSegs(b);
  assert.equal(segs.length, 1);
  return segs[0]!;
}

Deno.test("tcp: guest SYN to the gateway reaches a loopback server, SYN-ACK only after connect", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    assert.equal(b.tcp.count, 1);
    g.rst();
    h.close();
  }));

Deno.test("tcp: SYN to a closed port gets RST from the gateway address", () => {
  const b = new TcpBench();
  const l = new HostListener(false);
  const port = l.port;
  l.close();
  try {
    const g = new GuestConn(b, false, mapped(GUEST4), 40001, mapped(GW4), port);
    g.syn();
    b.spin(1000, () => b.tap.segs.length > 0);
    const s = b.tap.take();
    assert.equal(s.length, 1);
    assert.ok(s[0]!.flags & RST);
    assert.equal(s[0]!.ack, g.sndNxt, "RST acknowledges the SYN");
    b.spin(5);
    assert.equal(b.tcp.count, 0, "connection reaped");
  } finally {
    b.close();
  }
});

function transfer(v6: boolean): Promise<void> {
  return withBench(v6, async (b, l) => {
    const { g, h } = openToGateway(b, v6, l);
    const up = randomBytes(1 << 20);
    const down = randomBytes(1 << 20);
    let upOff = 0, downOff = 0;
    const deadline = performance.now() + 20000;
    while (
      (h.readLen < up.length || g.receivedLen < down.length) && performance.now() < deadline
    ) {
      if (upOff < up.length) {
        const n = g.send(up.subarray(upOff));
        upOff += n;
      }
      if (downOff < down.length) downOff = h.write(down, downOff);
      b.loop.runOnce(1);
      const segs = g.absorb(b.tap.take());
      for (const s of segs) assert.ok(s.csumOk, "checksums verify");
      if (segs.some((s) => s.payload.length > 0)) g.ack();
      h.poll();
    }
    assert.equal(h.readLen, up.length, "guest to host complete");
    assert.equal(g.receivedLen, down.length, "host to guest complete");
    assert.equal(await sha256(h.data()), await sha256(up));
    assert.equal(await sha256(g.data()), await sha256(down));
    g.rst();
    h.close();
  });
}

Deno.test("tcp: 1 MiB both ways over IPv4, sha256 equal", () => transfer(false));
Deno.test("tcp: 1 MiB both ways over IPv6, sha256 equal", () => transfer(true));

Deno.test("tcp: data to the guest never exceeds its window or MSS", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    // Guest advertises 10000 bytes (scale 7: field 78 -> 9984), MSS was 65460.
    g.wndField = 78;
    g.mss = 1000;
    g.ack();
    const down = randomBytes(100000);
    h.write(down, 0);
    b.spin(100, () => b.tap.segs.length > 0);
    b.spin(20);
    const segs = g.absorb(b.tap.take());
    const bytes = segs.reduce((a, s) => a + s.payload.length, 0);
    assert.ok(bytes > 0, "some data sent");
    assert.ok(bytes <= 78 << 7, `at most the window: ${bytes}`);
    // The window fills: nothing more until the guest ACKs.
    b.spin(30);
    assert.equal(dataSegs(b).length, 0);
    g.ack();
    b.spin(50, () => b.tap.segs.length > 0);
    const more = g.absorb(b.tap.take());
    assert.ok(more.some((s) => s.payload.length > 0), "ACK opens the window again");
    g.rst();
    h.close();
  }));

Deno.test("tcp: guest RST resets the host socket", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    g.rst();
    b.spin(20);
    h.poll();
    assert.equal(h.error, -104, "ECONNRESET on the host side");
    assert.equal(b.tcp.count, 0);
    h.close();
  }));

Deno.test("tcp: host RST (SO_LINGER 0) becomes RST to the guest", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    h.reset();
    b.spin(500, () => b.tap.segs.length > 0);
    g.absorb(b.tap.take());
    assert.ok(g.rstRcvd);
    b.spin(5);
    assert.equal(b.tcp.count, 0);
  }));

Deno.test("tcp: half-close from the guest, then from the host", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    g.send(new TextEncoder().encode("request"), FIN);
    g.sndNxt = (g.sndNxt + 1) >>> 0;
    b.spin(200, () => {
      h.poll();
      return h.eof;
    });
    assert.ok(h.eof, "host sees EOF after the guest's FIN");
    assert.equal(new TextDecoder().decode(h.data()), "request");
    g.absorb(b.tap.take());
    assert.equal(g.sndUna, g.sndNxt, "guest's FIN acknowledged");
    // The other direction still works.
    h.write(new TextEncoder().encode("response"), 0);
    h.shutdownWrite();
    b.spin(500, () => {
      g.absorb(b.tap.take());
      return g.finRcvd;
    });
    assert.equal(new TextDecoder().decode(g.data()), "response");
    assert.ok(g.finRcvd, "FIN to the guest after the data");
    g.ack();
    b.spin(5);
    assert.equal(b.tcp.count, 0, "closed once both FINs are acknowledged");
    h.close();
  }));

Deno.test("tcp: half-close from the host first, guest keeps sending", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    h.write(new TextEncoder().encode("bye"), 0);
    h.shutdownWrite();
    b.spin(500, () => {
      g.absorb(b.tap.take());
      return g.finRcvd;
    });
    assert.ok(g.finRcvd);
    g.ack();
    g.send(new TextEncoder().encode("still here"));
    b.spin(200, () => {
      h.poll();
      return h.readLen === 10;
    });
    assert.equal(new TextDecoder().decode(h.data()), "still here");
    g.fin();
    b.spin(200, () => {
      h.poll();
      return h.eof;
    });
    assert.ok(h.eof);
    b.spin(5);
    assert.equal(b.tcp.count, 0);
    h.close();
  }));

Deno.test("tcp: unacknowledged data is retransmitted from the socket on timeout", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    const first = hostSends(b, h, "hello");
    // No ACK from the guest: after ACK_TIMEOUT the same bytes come again.
    const t0 = performance.now();
    b.spin(ACK_TIMEOUT + 1000, () => b.tap.segs.length > 0);
    const again = dataSegs(b);
    assert.ok(performance.now() - t0 >= ACK_TIMEOUT - 50);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.seq, first.seq);
    assert.deepEqual(again[0]!.payload, first.payload);
    assert.ok(TCP_MAX_RETRANS === 7);
    g.rst();
    h.close();
  }));

Deno.test("tcp: an ACK timer armed early still waits ACK_TIMEOUT after the latest data", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    g.absorb([hostSends(b, h, "one")]);
    g.ack();
    // The timer armed for "one" runs out first: it must not resend "two" early.
    b.spin(800);
    const second = hostSends(b, h, "two");
    const t0 = performance.now();
    b.spin(ACK_TIMEOUT + 1000, () => b.tap.segs.length > 0);
    const again = dataSegs(b);
    assert.ok(performance.now() - t0 >= ACK_TIMEOUT - 50, "not resent before its own timeout");
    assert.equal(again.length, 1, "resent once its timeout is over");
    assert.equal(again[0]!.seq, second.seq);
    assert.deepEqual(again[0]!.payload, second.payload);
    g.rst();
    h.close();
  }));

Deno.test("tcp: request/response makes no epoll_ctl() per exchange, and closes cleanly after", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    const loop = b.loop as unknown as { mod: (...a: number[]) => number };
    const mod = loop.mod.bind(loop);
    let mods = 0;
    loop.mod = (...a: number[]) => (mods++, mod(...a));
    const enc = new TextEncoder();
    for (let n = 1; n <= 50; n++) {
      if (n === 11) mods = 0; // past the first exchanges
      g.send(enc.encode("q"));
      b.spin(200, () => (h.poll(), h.readLen === n));
      assert.equal(h.readLen, n, `request ${n} reached the host`);
      h.write(enc.encode("r"), 0);
      b.spin(200, () => (g.absorb(b.tap.take()), g.data().length === n));
      assert.equal(g.data().length, n, `response ${n} reached the guest`);
      b.spin(3); // the guest takes its time to answer
    }
    assert.ok(mods <= 2, `${mods} epoll_ctl() calls in 40 exchanges`);
    // The last response is in flight (unacknowledged) as the host closes: FIN follows the ACK.
    h.shutdownWrite();
    g.ack();
    b.spin(500, () => (g.absorb(b.tap.take()), g.finRcvd));
    assert.ok(g.finRcvd, "FIN to the guest");
    // The guest's last words and FIN; the host reads them only once the connection is gone
    g.send(enc.encode("bye"), FIN);
    g.sndNxt = (g.sndNxt + 1) >>> 0;
    b.spin(200, () => (g.absorb(b.tap.take()), g.sndUna === g.sndNxt));
    b.spin(200, () => b.tcp.count === 0);
    assert.equal(b.tcp.count, 0);
    // Closed cleanly: the responses the guest acknowledged were read away first (unread data
    // would have made the close a reset, and the host lose what it hadn't read)
    h.poll();
    assert.equal(h.error, 0, "no reset on the host's side");
    assert.ok(h.eof, "the host's side sees the guest's FIN");
    assert.equal(new TextDecoder().decode(h.data()).slice(-4), "qbye");
    h.close();
  }));

Deno.test("tcp: a retransmission after small acknowledged responses starts at the right byte", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    const enc = new TextEncoder();
    // Acknowledged one by one, fewer bytes than are read away at once: they stay in the socket.
    for (const word of ["one", "two", "six"]) {
      g.absorb([hostSends(b, h, word)]);
      g.ack();
    }
    const lost = hostSends(b, h, "lost");
    const again = dupAcks(b, g);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.seq, lost.seq);
    assert.deepEqual(again[0]!.payload, enc.encode("lost"));
    g.rst();
    h.close();
  }));

Deno.test("tcp: duplicate ACKs make data go again from the socket", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    const first = hostSends(b, h, "abcdef");
    // Two pure duplicate ACKs of the old sequence in one batch.
    const again = dupAcks(b, g);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.seq, first.seq);
    g.rst();
    h.close();
  }));

Deno.test("tcp: inbound connection from a forwarded port becomes a SYN from the gateway", () => {
  const b = new TcpBench();
  try {
    // A listener registered as a forwarded port with target 8080.
    const l = new HostListener(false);
    b.loop.add(l.fd, 9, /* TCP_LISTEN */ 8080, 1);
    const h = HostConn.connect(false, 0x7f000001, l.port);
    b.spin(1000, () => b.tap.segs.length > 0);
    const syn = b.tap.take();
    assert.equal(syn.length, 1);
    const s = syn[0]!;
    assert.equal(s.flags, SYN);
    assert.equal(s.dport, 8080);
    assert.deepEqual(s.src, mapped(GW4), "loopback source appears as the gateway");
    assert.deepEqual(s.dst, mapped(GUEST4));
    assert.ok(s.mss > 1000 && s.ws === 8);
    const g = new GuestConn(b, false, mapped(GUEST4), 8080, mapped(GW4), s.sport, 5000);
    g.rcvNxt = (s.seq + 1) >>> 0;
    g.feed([{ seq: g.sndNxt, ack: g.rcvNxt, flags: SYN | ACK, wnd: 65535, opts: g.synOpts() }]);
    g.sndNxt++;
    const acks = b.tap.take();
    assert.ok(acks.length >= 1 && acks[0]!.flags === ACK);
    g.peerWs = 8;
    g.absorb(acks);
    h.write(new TextEncoder().encode("ping"), 0);
    b.spin(500, () => {
      g.absorb(b.tap.take());
      return g.receivedLen === 4;
    });
    assert.equal(new TextDecoder().decode(g.data()), "ping");
    g.ack();
    g.send(new TextEncoder().encode("pong"), PSH);
    b.spin(200, () => {
      h.poll();
      return h.readLen === 4;
    });
    assert.equal(new TextDecoder().decode(h.data()), "pong");
    g.rst();
    h.close();
    l.close();
  } finally {
    b.close();
  }
});

Deno.test("tcp: no descriptor leak after connections close", () =>
  withBench(false, (b, l) => {
    const before = countFds();
    for (let k = 0; k < 20; k++) {
      const { g, h } = openToGateway(b, false, l, 41000 + k);
      g.send(new TextEncoder().encode("x"));
      b.spin(20);
      g.absorb(b.tap.take());
      g.fin();
      b.spin(50, () => {
        h.poll();
        return h.eof;
      });
      h.close();
      b.spin(200, () => {
        g.absorb(b.tap.take());
        return g.finRcvd;
      });
      g.ack();
      b.spin(5);
    }
    assert.equal(b.tcp.count, 0);
    assert.equal(countFds(), before);
  }));

Deno.test("tcp: ISN differs per tuple and grows with time", () => {
  const key = Uint32Array.of(0x01234567, 0x89abcdef, 0x02468ace, 0x13579bdf);
  const a = new Uint8Array(36);
  a[15] = 1;
  const b2 = a.slice();
  b2[35] = 1;
  const i1 = tcpIsn(key, a, 0, 1000);
  const i2 = tcpIsn(key, b2, 0, 1000);
  assert.notEqual(i1, i2);
  const later = tcpIsn(key, a, 0, 1001);
  assert.equal((later - i1) >>> 0, 31250, "1 ms is 31250 ticks of 32 ns");
  const otherKey = tcpIsn(Uint32Array.of(1, 2, 3, 4), a, 0, 1000);
  assert.notEqual(otherKey, i1);
  assert.ok(lib());
});

Deno.test("tcp: guest data carrying an ACK that opens the window reaches the host intact", () =>
  withBench(false, (b, l) => {
    const { g, h } = openToGateway(b, false, l);
    h.write(new TextEncoder().encode("abc"), 0);
    b.spin(200, () => b.tap.segs.length > 0);
    g.absorb(b.tap.take());
    assert.equal(g.receivedLen, 3);
    // One segment: new data plus the ACK of "abc".
    g.send(new TextEncoder().encode("xyz"));
    b.spin(200, () => {
      h.poll();
      return h.readLen >= 3;
    });
    assert.equal(new TextDecoder().decode(h.data()), "xyz");
    g.rst();
    h.close();
  }));

Deno.test("tcp: a SYN to 0.0.0.0, broadcast or multicast, or from one, reaches nothing", () =>
  withBench(false, (b, l) => {
    const cases: [number, number][] = [
      [GUEST4, 0], // connect(0.0.0.0) would reach the host's loopback listener
      [GUEST4, 0xffffffff],
      [GUEST4, ip4("224.0.0.1")],
      [0xffffffff, GW4],
      [0, GW4],
      [ip4("239.1.2.3"), GW4],
    ];
    let port = 40100;
    for (const [src, dst] of cases) {
      const g = new GuestConn(b, false, mapped(src), port++, mapped(dst), l.port);
      g.syn();
    }
    b.spin(300);
    assert.equal(l.accept(), null, "nothing connected to the host listener");
    assert.equal(b.tap.take().length, 0, "dropped, as upstream: no SYN-ACK, no RST");
    assert.equal(b.tcp.count, 0);
    // The same SYN to the gateway does connect.
    const g = new GuestConn(b, false, mapped(GUEST4), port, mapped(GW4), l.port);
    g.syn();
    let h: HostConn | null = null;
    b.spin(2000, () => (h ??= l.accept()) !== null);
    assert.ok(h, "a unicast SYN still gets through");
  }));
