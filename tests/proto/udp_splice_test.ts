// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Spliced UDP flows with this process's own network namespace standing in for
// pasta's (namespace descriptors -1: the helper creates its sockets here).

import assert from "node:assert/strict";
import { type Datagram, HostSock, UdpBench } from "../_helpers/udp_host.ts";
import { UdpSplice } from "../../src/proto/udp_splice.ts";
import { FLOW_UDP } from "../../src/flow/flow.ts";
import { type FwdRule, parseAddr } from "../../src/fwd/fwd_rule.ts";
import * as nat from "../../src/fwd/nat.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function rule(port: number, to: number): FwdRule {
  return {
    proto: 17,
    addr: parseAddr("127.0.0.1")!,
    ifname: "",
    first: port,
    last: port,
    to,
    taddr: new Uint32Array(4),
    flags: 0,
  };
}

/** A free UDP port on 127.0.0.1. */
function freePort(): number {
  const s = new HostSock(false, "127.0.0.1");
  const p = s.port;
  s.close();
  return p;
}

function recvWithin(b: UdpBench, s: HostSock, ms = 2000): Datagram | null {
  let d: Datagram | null = null;
  b.pump(ms, () => d !== null, () => d ??= s.recv());
  return d;
}

/** The UDP flows of the bench, as [initiating pif, target pif]. */
function pifs(b: UdpBench): number[][] {
  const r: number[][] = [];
  for (let i = 0; i < b.flows.high; i++) {
    if (b.flows.type[i] === FLOW_UDP) r.push([b.flows.pif[2 * i]!, b.flows.pif[2 * i + 1]!]);
  }
  return r;
}

/**
 * Sends `text` from `client` to the forwarded `port`; asserts that it reaches
 * `server` from another port (the client holds its own here, one namespace in
 * these tests, so an ephemeral one is used) on one flow between `pair`'s pifs.
 */
function firstThrough(
  b: UdpBench,
  client: HostSock,
  server: HostSock,
  port: number,
  text: string,
  pair: number[],
): Datagram {
  client.sendTo(enc.encode(text), "127.0.0.1", port);
  const d = recvWithin(b, server);
  assert.ok(d, `"${text}" reached the service`);
  assert.equal(dec.decode(d.data), text);
  assert.notEqual(d.port, client.port);
  assert.deepEqual(pifs(b), [pair]);
  return d;
}

Deno.test("udp_splice: -u from loopback is one flow of two sockets, both ways, no tap", () => {
  using b = new UdpBench({ hostLoToNsLo: true });
  new UdpSplice(b.c, b.udp, { userns: -1, netns: -1 });
  const port = freePort();
  using server = new HostSock(false, "127.0.0.1"); // the namespace's service
  using client = new HostSock(false, "127.0.0.1"); // the host's client
  const out = Int32Array.of(-1, -1);
  assert.equal(b.udp.listenBackend().open(rule(port, server.port), 0, port, out), 0);
  const d = firstThrough(b, client, server, port, "ping", [nat.PIF_HOST, nat.PIF_SPLICE]);
  server.sendTo(enc.encode("pong"), d.addr, d.port);
  const r = recvWithin(b, client);
  assert.ok(r, "reply back to the client");
  assert.equal(dec.decode(r.data), "pong");
  assert.equal(r.port, port, "from the forwarded port");
  // Again, through the same flow.
  client.sendTo(enc.encode("ping2"), "127.0.0.1", port);
  assert.equal(dec.decode(recvWithin(b, server)!.data), "ping2");
  assert.equal(pifs(b).length, 1);
  assert.equal(b.out.length, 0, "nothing went to the tap");
});

Deno.test("udp_splice: -U from the namespace's loopback reaches the host and back; aged out", () => {
  using b = new UdpBench();
  const us = new UdpSplice(b.c, b.udp, { userns: -1, netns: -1 });
  const port = freePort();
  using server = new HostSock(false, "127.0.0.1"); // the host's service
  using client = new HostSock(false, "127.0.0.1"); // the namespace's client
  const out = Int32Array.of(-1, -1);
  assert.equal(us.listenBackend().open(rule(port, server.port), 0, port, out), 0);
  assert.ok(out[0]! >= 0);
  const d = firstThrough(b, client, server, port, "hello", [nat.PIF_SPLICE, nat.PIF_HOST]);
  for (let i = 0; i < 3; i++) server.sendTo(enc.encode(`r${i}`), d.addr, d.port);
  const got: string[] = [];
  b.pump(2000, () => got.length === 3, () => {
    for (let r = client.recv(); r; r = client.recv()) {
      assert.equal(r.port, port, "replies come from the -U port");
      got.push(dec.decode(r.data));
    }
  });
  assert.deepEqual(got, ["r0", "r1", "r2"]);
  // The listener closes (rule removed): the flow still carries datagrams, until it ages.
  us.listenBackend().close(rule(port, server.port), port, out[0]!, false);
  client.sendTo(enc.encode("again"), "127.0.0.1", port);
  assert.equal(dec.decode(recvWithin(b, server)!.data), "again");
  b.udp.timer(performance.now() + 200_000);
  assert.equal(b.udp.tracked, 0);
  client.sendTo(enc.encode("gone"), "127.0.0.1", port);
  assert.equal(recvWithin(b, server, 200), null, "no flow, no listener: nothing forwarded");
});
