// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { ip4, ip6 } from "../_helpers/frames.ts";
import {
  type Datagram,
  freeUdpPort,
  guestUdp4,
  guestUdp6,
  HostSock,
  sameWords,
  UdpBench,
  withEcho,
} from "../_helpers/udp_host.ts";
import { setUdpTimeout } from "../../src/proto/udp.ts";
import { FLOW_UDP } from "../../src/flow/flow.ts";
import * as nat from "../../src/fwd/nat.ts";
import * as inany from "../../src/wire/inany.ts";
import { type FwdRule, parseAddr } from "../../src/fwd/fwd_rule.ts";
import { Pool } from "../../src/tap/pool.ts";
import { l4Checksum6 } from "../../src/wire/checksum.ts";

/** Opens the `-u` listener of `port` forwarded to `target` on `addr`; its descriptors. */
function listenFds(b: UdpBench, port: number, target: number, addr: string): Int32Array {
  const rule: FwdRule = {
    proto: 17,
    addr: parseAddr(addr)!,
    ifname: "",
    first: port,
    last: port,
    to: target,
    taddr: new Uint32Array(4),
    flags: 0,
  };
  const out = Int32Array.of(-1, -1);
  b.udp.listenBackend().open(rule, 0, port, out);
  return out;
}

/** Opens the `-u` listener of `port` forwarded to `target` on `addr`; the sockets opened. */
function listenUdp(b: UdpBench, port: number, target: number, addr: string): number {
  const out = listenFds(b, port, target, addr);
  return (out[0]! >= 0 ? 1 : 0) + (out[1]! >= 0 ? 1 : 0);
}

/** The UDP flows of the bench's table: [flow index, ...]. */
function udpFlows(b: UdpBench): number[] {
  const r: number[] = [];
  for (let i = 0; i < b.flows.high; i++) if (b.flows.type[i] === FLOW_UDP) r.push(i);
  return r;
}

/** Descriptors open in this process. */
function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

const GUEST4 = ip4("192.0.2.10");
const GW4 = ip4("192.0.2.1");
const GUEST6_LL = ip6("fe80::10");
const GW6 = ip6("fe80::1");
const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("udp: IPv4 datagram to the gateway reaches 127.0.0.1, reply comes from the gateway", () =>
  withEcho(false, "127.0.0.1", (b, echo) => {
    b.fromGuest([guestUdp4(GUEST4, GW4, 40001, echo.port, enc.encode("hello v4"))]);
    let seenBy: number | null = null;
    const ok = b.pump(2000, () => b.parsed().length > 0, () => {
      const d = echo.recv();
      if (d) {
        seenBy = d.port;
        echo.sendTo(d.data, d.addr, d.port);
      }
    });
    assert.ok(ok, "no reply reached the guest");
    assert.equal(seenBy, 40001, "host socket should use the guest's source port");
    const f = b.parsed()[0]!;
    assert.equal(f.v6, false);
    assert.equal(f.src4, GW4);
    assert.equal(f.dst4, GUEST4);
    assert.equal(f.sport, echo.port);
    assert.equal(f.dport, 40001);
    assert.equal(dec.decode(f.payload), "hello v4");
    assert.ok(f.checksumsOk, "IPv4 header checksum and lengths");
    assert.equal(f.csum, 0, "IPv4 UDP checksum is not computed, as upstream");
    assert.deepEqual([...f.dstMac], [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    assert.deepEqual(f.srcMac, b.c.conf.mac, "from our MAC address");
    // One flow: the guest's side on the tap, the host's on 127.0.0.1 from the guest's port.
    const flows = udpFlows(b);
    assert.equal(flows.length, 1);
    const i = flows[0]!;
    const s = b.flows.side;
    const tgt = b.flows.sideOff(2 * i + 1);
    assert.equal(b.flows.pif[2 * i], nat.PIF_TAP);
    assert.equal(b.flows.pif[2 * i + 1], nat.PIF_HOST);
    assert.ok(inany.equals4(s, tgt + nat.EADDR, 0x7f000001));
    assert.equal(s[tgt + nat.EPORT], echo.port);
    assert.equal(s[tgt + nat.OPORT], 40001);
  }));

Deno.test("udp: a batch of equal datagrams from the guest (sent as UDP GSO) reaches the host one by one", () =>
  withEcho(false, "127.0.0.1", (b, echo) => {
    const sizes = [1000, 1000, 1000, 1000, 1000, 300, 1000, 1000];
    const payload = (k: number, n: number) => new Uint8Array(n).fill(0x30 + k);
    b.fromGuest(sizes.map((n, k) => guestUdp4(GUEST4, GW4, 40003, echo.port, payload(k, n))));
    const got: Uint8Array[] = [];
    b.pump(2000, () => got.length === sizes.length, () => {
      for (let d = echo.recv(); d; d = echo.recv()) got.push(d.data);
    });
    assert.deepEqual(got.map((d) => d.length), sizes);
    for (const [k, d] of got.entries()) assert.deepEqual(d, payload(k, sizes[k]!), `datagram ${k}`);
  }));

Deno.test("udp: IPv6 datagram to the link-local gateway reaches ::1, reply from the gateway", () =>
  withEcho(true, "::1", (b, echo) => {
    // Odd payload lengths exercise the checksum's tail handling.
    const payloads = ["a", "hello v6", "0123456789abc"];
    b.fromGuest(payloads.map((p) => guestUdp6(GUEST6_LL, GW6, 40002, echo.port, enc.encode(p))));
    const ok = b.pump(2000, () => b.parsed().length === 3, () => echo.echo());
    assert.ok(ok, `expected 3 replies, got ${b.parsed().length}`);
    for (const [i, f] of b.parsed().entries()) {
      assert.equal(f.v6, true);
      assert.ok(sameWords(f.src6, GW6), "source is the gateway");
      assert.ok(sameWords(f.dst6, GUEST6_LL), "destination is the guest's link-local address");
      assert.equal(f.sport, echo.port);
      assert.equal(f.dport, 40002);
      assert.equal(dec.decode(f.payload), payloads[i]);
      assert.ok(f.checksumsOk, "UDP checksum over IPv6 verifies");
      assert.deepEqual(f.srcMac, b.c.conf.mac, "from our MAC address");
    }
  }));

Deno.test("udp: guest port also used by a host socket: two flows (v4 and v6) still get replies", () => {
  const b = new UdpBench();
  // The host already uses this port on both families.
  const busy4 = new HostSock(false, "0.0.0.0");
  const port = busy4.port;
  let busy6: HostSock | null = null;
  try {
    busy6 = new HostSock(true, "::", port);
  } catch {
    // Port free on IPv4 only: the IPv4 case still shows the point.
  }
  const echoA = new HostSock(false, "127.0.0.1");
  const echoB = new HostSock(false, "127.0.0.1");
  const echo6 = new HostSock(true, "::1");
  try {
    b.fromGuest([
      guestUdp4(GUEST4, GW4, port, echoA.port, enc.encode("to A")),
      guestUdp4(GUEST4, GW4, port, echoB.port, enc.encode("to B")),
      guestUdp6(GUEST6_LL, GW6, port, echo6.port, enc.encode("to 6")),
    ]);
    const ok = b.pump(2000, () => b.parsed().length === 3, () => {
      echoA.echo();
      echoB.echo();
      echo6.echo();
    });
    assert.ok(ok, `expected 3 replies, got ${b.parsed().length}`);
    const got = b.parsed().map((f) => `${dec.decode(f.payload)}>${f.dport}`).sort();
    assert.deepEqual(got, [`to 6>${port}`, `to A>${port}`, `to B>${port}`]);
    // The host's own socket is untouched and still receives its traffic.
    const probe = new HostSock(false, "127.0.0.1");
    probe.sendTo(enc.encode("mine"), "127.0.0.1", port);
    let d = null;
    for (let i = 0; i < 100 && d === null; i++) d = busy4.recv();
    probe.close();
    assert.equal(d && dec.decode(d.data), "mine");
  } finally {
    busy4.close();
    busy6?.close();
    echoA.close();
    echoB.close();
    echo6.close();
    b.close();
  }
});

Deno.test("udp: binding is released after the idle timeout", () => {
  using b = new UdpBench();
  using echo = new HostSock(false, "127.0.0.1");
  const port = freeUdpPort(); // a port the kernel considers free, for the guest to use
  setUdpTimeout(50);
  try {
    b.fromGuest([guestUdp4(GUEST4, GW4, port, echo.port, enc.encode("x"))]);
    assert.ok(b.pump(2000, () => echo.recv() !== null));
    assert.equal(b.udp.tracked, 1);
    assert.throws(() => new HostSock(false, "0.0.0.0", port), "port is held by our socket");
    const t0 = performance.now();
    b.udp.timer(t0);
    assert.equal(b.udp.tracked, 1, "not yet idle");
    b.udp.timer(t0 + 100);
    assert.equal(b.udp.tracked, 0);
    const again = new HostSock(false, "0.0.0.0", port);
    again.close();
    // And the guest port works again afterwards, with a new socket.
    b.fromGuest([guestUdp4(GUEST4, GW4, port, echo.port, enc.encode("y"))]);
    assert.ok(b.pump(2000, () => echo.recv() !== null));
    assert.equal(b.udp.tracked, 1);
  } finally {
    setUdpTimeout(-1);
  }
});

Deno.test("udp: -u forwarding: host datagram reaches the guest's target port, reply returns", () => {
  using b = new UdpBench({ noSplice: true });
  const hostPort = freeUdpPort();
  using client = new HostSock(false, "127.0.0.1");
  assert.equal(listenUdp(b, hostPort, 5353, "127.0.0.1"), 1);
  client.sendTo(enc.encode("query"), "127.0.0.1", hostPort);
  assert.ok(b.pump(2000, () => b.parsed().length === 1));
  const f = b.parsed()[0]!;
  assert.equal(f.dport, 5353, "target port after mapping");
  assert.equal(f.sport, client.port);
  assert.equal(f.src4, GW4, "loopback source shows as the gateway");
  assert.equal(dec.decode(f.payload), "query");
  // The guest answers from its port 5353 to the gateway at the client's port.
  b.fromGuest([guestUdp4(GUEST4, GW4, 5353, client.port, enc.encode("answer"))]);
  let d: Datagram | null = null;
  b.pump(2000, () => d !== null, () => d ??= client.recv());
  assert.ok(d, "client got the reply");
  const r = d as Datagram;
  assert.equal(dec.decode(r.data), "answer");
  assert.equal(r.port, hostPort, "reply comes from the forwarded port");
  assert.equal(r.addr, "127.0.0.1");
});

Deno.test("udp: --dns-forward rewrites to the resolver and back (port 53: root only)", () => {
  if (Deno.uid() !== 0) return;
  const b = new UdpBench();
  const c = b.c;
  c.conf.ip4.dnsMatch = ip4("192.0.2.53");
  c.conf.ip4.dnsHost = ip4("127.0.0.1");
  c.conf.ip6.dnsMatch = ip6("2001:db8::53");
  c.conf.ip6.dnsHost = ip6("::1");
  let r4: HostSock | null = null;
  let r6: HostSock | null = null;
  try {
    r4 = new HostSock(false, "127.0.0.1", 53);
    r6 = new HostSock(true, "::1", 53);
  } catch {
    // Something on the host owns port 53 on loopback already: nothing to test against.
    r4?.close();
    b.close();
    return;
  }
  try {
    b.fromGuest([
      guestUdp4(GUEST4, ip4("192.0.2.53"), 41000, 53, enc.encode("q4")),
      guestUdp6(ip6("2001:db8:1:2::10"), ip6("2001:db8::53"), 41000, 53, enc.encode("q6")),
    ]);
    const ok = b.pump(2000, () => b.parsed().length === 2, () => {
      r4!.echo();
      r6!.echo();
    });
    assert.ok(ok, `expected 2 replies, got ${b.parsed().length}`);
    const f4 = b.parsed().find((f) => !f.v6)!;
    const f6 = b.parsed().find((f) => f.v6)!;
    assert.equal(f4.src4, ip4("192.0.2.53"));
    assert.equal(f4.sport, 53);
    assert.equal(dec.decode(f4.payload), "q4");
    assert.ok(sameWords(f6.src6, ip6("2001:db8::53")));
    assert.ok(sameWords(f6.dst6, ip6("2001:db8:1:2::10")));
    assert.equal(f6.sport, 53);
    assert.ok(f6.checksumsOk);
    // One flow per family, each towards the resolver.
    assert.equal(udpFlows(b).length, 2);
  } finally {
    r4.close();
    r6.close();
    b.close();
  }
});

Deno.test("udp: --no-map-gw sends datagrams for the gateway to the gateway itself", () => {
  using b = new UdpBench();
  b.c.conf.ip4.mapHostLoopback = 0; // --map-host-loopback none
  b.c.conf.ip4.gw = ip4("127.0.0.2"); // a gateway address the host can reach on loopback
  using echo = new HostSock(false, "127.0.0.2");
  using decoy = new HostSock(false, "127.0.0.1", echo.port);
  b.fromGuest([guestUdp4(GUEST4, ip4("127.0.0.2"), 40003, echo.port, enc.encode("gw"))]);
  let d: Datagram | null = null;
  b.pump(1000, () => d !== null, () => d ??= echo.recv());
  assert.ok(d, "datagram reached the gateway address");
  assert.equal(decoy.recv(), null, "nothing went to 127.0.0.1");
});

Deno.test("udp: 10000 datagrams of 1400 bytes each way with at most 1% loss", () =>
  withEcho(false, "127.0.0.1", (b, echo) => {
    const N = 10000;
    const BATCH = 50;
    let atHost = 0;
    const payload = new Uint8Array(1400);
    for (let sent = 0; sent < N; sent += BATCH) {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < BATCH; i++) {
        new DataView(payload.buffer).setUint32(0, sent + i);
        frames.push(guestUdp4(GUEST4, GW4, 40004, echo.port, payload));
      }
      b.fromGuest(frames);
      b.pump(5, () => false, () => atHost += echo.echo());
    }
    b.pump(1000, () => b.parsed().length >= N, () => atHost += echo.echo());
    const back = b.parsed();
    assert.ok(atHost >= N * 0.99, `host received ${atHost} of ${N}`);
    assert.ok(back.length >= N * 0.99, `guest received ${back.length} of ${N}`);
    assert.ok(back.every((f) => f.payload.length === 1400 && f.dport === 40004));
  }));

Deno.test("udp: malformed datagrams from the guest are dropped, valid ones still pass", () =>
  withEcho(false, "127.0.0.1", (b, echo) => {
    const good = guestUdp4(GUEST4, GW4, 40005, echo.port, enc.encode("good"));
    const longLen = good.slice();
    new DataView(longLen.buffer).setUint16(34 + 4, 200); // UDP length past the packet
    const shortLen = good.slice();
    new DataView(shortLen.buffer).setUint16(34 + 4, 7); // shorter than the header
    const truncated = good.slice(0, 38); // IP total length says more than we have
    const noHeader = guestUdp4(GUEST4, GW4, 40005, echo.port, new Uint8Array(0)).slice(0, 36);
    const v6bad = guestUdp6(GUEST6_LL, GW6, 40005, echo.port, enc.encode("bad6"));
    new DataView(v6bad.buffer).setUint16(54 + 4, 3);
    b.fromGuest([longLen, shortLen, truncated, noHeader, v6bad, good]);
    const got: string[] = [];
    b.pump(500, () => false, () => {
      for (let d = echo.recv(); d; d = echo.recv()) got.push(dec.decode(d.data));
    });
    assert.deepEqual(got, ["good"]);

    // Descriptors shorter than a UDP header handed straight to the handler.
    const pool = new Pool(b.arena.size, 4);
    pool.add(b.tap.inOff, 4);
    pool.add(b.tap.inOff, 0);
    let consumed = 0;
    while (consumed < pool.count) {
      consumed += b.udp.tapHandler(b.c, false, b.tap.inOff, pool, consumed, performance.now());
    }
    assert.equal(consumed, 2);
  }));

Deno.test("udp: EPOLLERR alone does not consume a waiting datagram", () => {
  using b = new UdpBench({ noSplice: true });
  using client = new HostSock(false, "127.0.0.1");
  const hostPort = freeUdpPort();
  const fd = listenFds(b, hostPort, 7000, "127.0.0.1")[0]!;
  assert.ok(fd >= 0);
  client.sendTo(enc.encode("later"), "127.0.0.1", hostPort);
  const EPOLLERR = 8;
  b.udp.listenHandler(EPOLLERR, fd, 7000, performance.now());
  b.tap.flush();
  assert.equal(b.parsed().length, 0);
  assert.ok(b.pump(1000, () => b.parsed().length === 1), "datagram delivered on EPOLLIN");
  assert.equal(dec.decode(b.parsed()[0]!.payload), "later");
});

Deno.test("udp: a datagram from a non-unicast source or to 0.0.0.0 is dropped", () =>
  withEcho(false, "127.0.0.1", (b, echo) => {
    b.fromGuest([
      guestUdp4(0xffffffff, GW4, 40010, echo.port, enc.encode("bcast src")),
      guestUdp4(ip4("224.0.0.5"), GW4, 40011, echo.port, enc.encode("mcast src")),
      guestUdp4(GUEST4, 0, 40012, echo.port, enc.encode("to 0.0.0.0")),
      guestUdp4(GUEST4, GW4, 40013, echo.port, enc.encode("valid")),
    ]);
    const got: string[] = [];
    b.pump(500, () => got.length > 1, () => {
      const d = echo.recv();
      if (d) got.push(dec.decode(d.data));
    });
    assert.deepEqual(got, ["valid"]);
  }));

Deno.test("udp: a flow is created by the first datagram and reused, each way; one per peer", () => {
  using b = new UdpBench();
  using echoA = new HostSock(false, "127.0.0.1");
  using echoB = new HostSock(false, "127.0.0.1");
  for (let round = 0; round < 3; round++) {
    b.fromGuest([guestUdp4(GUEST4, GW4, 40020, echoA.port, enc.encode(`a${round}`))]);
    assert.ok(b.pump(2000, () => b.parsed().length === round + 1, () => echoA.echo()));
    assert.equal(udpFlows(b).length, 1, "replies and later datagrams use the same flow");
  }
  // Another peer from the same guest port: a second flow, sharing the host port.
  b.fromGuest([guestUdp4(GUEST4, GW4, 40020, echoB.port, enc.encode("b"))]);
  let seenBy = -1;
  assert.ok(b.pump(2000, () => b.parsed().length === 4, () => {
    const d = echoB.recv();
    if (d) {
      seenBy = d.port;
      echoB.sendTo(d.data, d.addr, d.port);
    }
  }));
  assert.equal(seenBy, 40020, "both flows' sockets use the guest's port");
  assert.equal(udpFlows(b).length, 2);
  const last = b.parsed()[3]!;
  assert.equal(last.sport, echoB.port);
  assert.equal(dec.decode(last.payload), "b");
  // A stranger sending to that host port reaches no flow: the sockets are connected.
  const stranger = new HostSock(false, "127.0.0.1");
  stranger.sendTo(enc.encode("spoof"), "127.0.0.1", 40020);
  b.pump(100, () => false);
  stranger.close();
  assert.equal(b.parsed().length, 4, "nothing from a peer without a flow");
});

Deno.test("udp: idle flows are aged out with their sockets, active ones stay", () => {
  using b = new UdpBench();
  using echo = new HostSock(false, "127.0.0.1");
  setUdpTimeout(1000);
  const fds0 = openFds();
  try {
    const t0 = performance.now();
    b.fromGuest([
      guestUdp4(GUEST4, GW4, 40030, echo.port, enc.encode("x")),
      guestUdp4(GUEST4, GW4, 40031, echo.port, enc.encode("y")),
      guestUdp6(GUEST6_LL, GW6, 40032, echo.port, enc.encode("z")),
    ], t0);
    assert.equal(udpFlows(b).length, 3);
    assert.equal(openFds(), fds0 + 3, "one socket per flow");
    // Only the first flow stays active.
    b.fromGuest([guestUdp4(GUEST4, GW4, 40030, echo.port, enc.encode("x2"))], t0 + 800);
    b.udp.timer(t0 + 900);
    assert.equal(b.udp.tracked, 3, "not idle yet");
    b.udp.timer(t0 + 1500);
    assert.equal(b.udp.tracked, 1);
    assert.equal(openFds(), fds0 + 1, "aged flows closed their sockets");
    const i = udpFlows(b)[0]!;
    assert.equal(b.flows.side[b.flows.sideOff(2 * i) + nat.EPORT], 40030);
    b.udp.timer(t0 + 2000);
    assert.equal(b.udp.tracked, 0);
    assert.equal(b.flows.count, 0, "flows are back in the table's free list");
    assert.equal(openFds(), fds0);
  } finally {
    setUdpTimeout(-1);
  }
});

Deno.test("udp: a full flow table refuses new flows, existing ones go on", () => {
  using b = new UdpBench({}, 2);
  using echo = new HostSock(false, "127.0.0.1");
  const fds0 = openFds();
  const got = (): string[] => b.parsed().map((f) => dec.decode(f.payload)).sort();
  b.fromGuest([
    guestUdp4(GUEST4, GW4, 40040, echo.port, enc.encode("one")),
    guestUdp4(GUEST4, GW4, 40041, echo.port, enc.encode("two")),
    guestUdp4(GUEST4, GW4, 40042, echo.port, enc.encode("three")),
  ]);
  b.pump(300, () => false, () => echo.echo());
  assert.deepEqual(got(), ["one", "two"], "the third flow is refused");
  assert.equal(b.udp.tracked, 2);
  assert.equal(openFds(), fds0 + 2, "no socket for the refused flow");
  b.fromGuest([guestUdp4(GUEST4, GW4, 40041, echo.port, enc.encode("two again"))]);
  assert.ok(b.pump(2000, () => b.parsed().length === 3, () => echo.echo()));
  assert.deepEqual(got(), ["one", "two", "two again"]);
});

Deno.test("udp: -u: a client's later datagrams and the guest's replies use the flow's own socket", () => {
  using b = new UdpBench({ noSplice: true });
  const hostPort = freeUdpPort();
  using client = new HostSock(false, "127.0.0.1");
  using other = new HostSock(false, "127.0.0.1");
  const fd = listenFds(b, hostPort, 5353, "127.0.0.1")[0]!;
  client.sendTo(enc.encode("q1"), "127.0.0.1", hostPort);
  assert.ok(b.pump(2000, () => b.parsed().length === 1));
  assert.equal(udpFlows(b).length, 1);
  const i = udpFlows(b)[0]!;
  assert.equal(b.flows.pif[2 * i], nat.PIF_HOST, "initiated on the host");
  assert.equal(b.flows.pif[2 * i + 1], nat.PIF_TAP);
  const own = b.udp.sock[2 * i]!;
  assert.ok(own >= 0 && own !== fd, "a socket of its own, beside the listener");
  client.sendTo(enc.encode("q2"), "127.0.0.1", hostPort);
  other.sendTo(enc.encode("q3"), "127.0.0.1", hostPort);
  assert.ok(b.pump(2000, () => b.parsed().length === 3));
  assert.equal(udpFlows(b).length, 2, "another client, another flow");
  const bySport = b.parsed().map((f) => `${dec.decode(f.payload)}<${f.sport === client.port}`);
  assert.deepEqual(bySport.sort(), ["q1<true", "q2<true", "q3<false"]);
  // The listener goes away (a rule removed): the flow and its replies go on.
  b.udp.closeListener(fd);
  b.fromGuest([guestUdp4(GUEST4, GW4, 5353, client.port, enc.encode("a1"))]);
  let d: Datagram | null = null;
  b.pump(2000, () => d !== null, () => d ??= client.recv());
  assert.ok(d, "the reply reached the client");
  assert.equal((d as Datagram).port, hostPort);
  assert.equal(dec.decode((d as Datagram).data), "a1");
});

Deno.test("udp: a query and its answer age out after the short timeout, a stream after the long one", () => {
  setUdpTimeout(-1);
  using b = new UdpBench();
  using echo = new HostSock(false, "127.0.0.1");
  const short = b.udp.timeoutMs, long = b.udp.streamTimeoutMs;
  assert.ok(short > 0 && long > short, `timeouts ${short} and ${long} ms`);
  // One query, one answer: port 40050. Two queries and their answers: port 40051.
  b.fromGuest([guestUdp4(GUEST4, GW4, 40050, echo.port, enc.encode("q"))]);
  b.fromGuest([guestUdp4(GUEST4, GW4, 40051, echo.port, enc.encode("s1"))]);
  assert.ok(b.pump(2000, () => b.parsed().length === 2, () => echo.echo()));
  b.fromGuest([guestUdp4(GUEST4, GW4, 40051, echo.port, enc.encode("s2"))]);
  assert.ok(b.pump(2000, () => b.parsed().length === 3, () => echo.echo()));
  const last = performance.now();
  assert.equal(b.udp.tracked, 2);
  b.udp.timer(last + short + 10);
  assert.deepEqual(
    udpFlows(b).map((i) => b.flows.side[b.flows.sideOff(2 * i) + nat.EPORT]),
    [40051],
    "the one-off exchange is gone, the stream stays",
  );
  b.udp.timer(last + long - 1000);
  assert.equal(b.udp.tracked, 1);
  b.udp.timer(last + long + 10);
  assert.equal(b.udp.tracked, 0);
});

Deno.test("udp: an ICMP port unreachable from the host reaches the guest, quoting its datagram", () => {
  const b = new UdpBench();
  // Ports with nothing bound on the host's loopback.
  const p4 = new HostSock(false, "127.0.0.1"), p6 = new HostSock(true, "::1");
  const closed4 = p4.port, closed6 = p6.port;
  p4.close();
  p6.close();
  try {
    b.fromGuest([guestUdp4(GUEST4, GW4, 40070, closed4, enc.encode("anyone?"))]);
    b.fromGuest([guestUdp6(GUEST6_LL, GW6, 40071, closed6, enc.encode("anyone6?"))]);
    const icmps = (): DataView[] =>
      b.out.map((f) => new DataView(f.buffer, f.byteOffset, f.length)).filter((d) =>
        (d.getUint16(12) === 0x0800 && d.getUint8(23) === 1) ||
        (d.getUint16(12) === 0x86dd && d.getUint8(20) === 58)
      );
    assert.ok(b.pump(2000, () => icmps().length === 2), `got ${icmps().length} ICMP errors`);
    const d4 = icmps().find((d) => d.getUint16(12) === 0x0800)!;
    assert.equal(d4.getUint32(26), GW4, "from the address the guest sent to");
    assert.equal(d4.getUint32(30), GUEST4);
    assert.deepEqual([d4.getUint8(34), d4.getUint8(35)], [3, 3], "port unreachable");
    let sum = 0;
    const end4 = 14 + d4.getUint16(16);
    for (let i = 34; i < end4; i += 2) sum += i + 1 < end4 ? d4.getUint16(i) : d4.getUint8(i) << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    assert.equal(sum, 0xffff, "ICMP checksum");
    // The quoted datagram: the guest's own addresses and ports.
    assert.equal(d4.getUint32(42 + 12), GUEST4);
    assert.equal(d4.getUint32(42 + 16), GW4);
    assert.equal(d4.getUint16(62), 40070);
    assert.equal(d4.getUint16(64), closed4);
    assert.equal(
      dec.decode(new Uint8Array(d4.buffer, d4.byteOffset + 70, 7)),
      "anyone?".slice(0, 7),
    );
    const d6 = icmps().find((d) => d.getUint16(12) === 0x86dd)!;
    const words = (o: number) => Uint32Array.from([0, 1, 2, 3], (j) => d6.getUint32(o + 4 * j));
    assert.ok(sameWords(words(22), GW6), "from the gateway");
    assert.ok(sameWords(words(38), GUEST6_LL));
    assert.deepEqual([d6.getUint8(54), d6.getUint8(55)], [1, 4], "ICMPv6 port unreachable");
    const f6 = new Uint8Array(d6.buffer, d6.byteOffset, d6.byteLength).slice();
    const stored = d6.getUint16(56);
    new DataView(f6.buffer).setUint16(56, 0);
    assert.equal(l4Checksum6(f6, 54, d6.getUint16(18), 22, 38, 58), stored, "ICMPv6 checksum");
    assert.ok(sameWords(words(62 + 8), GUEST6_LL), "quoted source: the guest");
    assert.equal(d6.getUint16(102), 40071);
    assert.equal(d6.getUint16(104), closed6);
    assert.equal(dec.decode(new Uint8Array(d6.buffer, d6.byteOffset + 110, 8)), "anyone6?");
    // The flows stay, and the error is cleared: the loop doesn't spin on EPOLLERR.
    assert.equal(b.udp.tracked, 2);
    const before = b.loop.eventCounts.reduce((x, y) => x + y, 0);
    b.pump(100, () => false);
    assert.equal(b.loop.eventCounts.reduce((x, y) => x + y, 0), before, "no events while idle");
  } finally {
    b.close();
  }
});
