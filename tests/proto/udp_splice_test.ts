// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { HostSock } from "../_helpers/udp_host.ts";
import { testCtx } from "../_helpers/frames.ts";
import { Loop } from "../../src/loop/loop.ts";
import { Arena } from "../../src/tap/arena.ts";
import { KIND_NS_LISTEN, UDP_SPLICE_REF, UdpSplice } from "../../src/proto/udp_splice.ts";
import { EPOLLIN } from "../../ffi/sys.ts";

const enc = new TextEncoder();

Deno.test("udp_splice: a reply socket forgets a listener that is closed (no stale descriptor)", () => {
  const c = testCtx();
  const loop = new Loop();
  const us = new UdpSplice(c, loop, new Arena(new ArrayBuffer(1 << 20)), { userns: -1, netns: -1 });
  // Stand-ins: a "-U listener" socket, a client that sends to it, a host server.
  const listener = new HostSock(false, "127.0.0.1");
  const client = new HostSock(false, "127.0.0.1");
  const server = new HostSock(false, "127.0.0.1");
  try {
    client.sendTo(enc.encode("hello"), "127.0.0.1", listener.port);
    const index = UDP_SPLICE_REF | (KIND_NS_LISTEN << 17) | server.port;
    us.sockHandler(EPOLLIN, listener.fd, index, loop.now);
    const d = server.recv();
    assert.ok(d, "forwarded to the host");
    assert.equal(us.tracked, 1);
    const key = (1 << 17) | client.port; // KIND_HOST_REPLY, IPv4, the client's port
    assert.equal(us.ret[key], listener.fd, "replies go back through the listener");
    us.forget(listener.fd);
    assert.equal(us.ret[key], -1, "forgotten once the listener closes");
    // A late reply finds no way back instead of a reused descriptor.
    server.sendTo(enc.encode("late"), "127.0.0.1", d.port);
    us.sockHandler(EPOLLIN, us.sock[key]!, UDP_SPLICE_REF | key, loop.now);
    assert.equal(client.recv(), null);
  } finally {
    us.close();
    listener.close();
    client.close();
    server.close();
  }
});
