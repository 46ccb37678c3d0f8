// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Tests of `src/netlink.ts`: requests and replies as bytes against a fake
 * transport, then discovery and the setters against real namespaces made with
 * `ip netns` (root and iproute2 needed, else those are ignored).
 *
 * The byte fixtures are written by hand from rtnetlink(7) and the kernel's
 * uapi headers, in little-endian host order (x86, aarch64).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AF_INET,
  AF_INET6,
  MAX_IDLE_READS,
  Netlink,
  NetlinkError,
  NLBUFSIZ,
  type NlTransport,
} from "../src/netlink.ts";
import { discoverHost, fixPrefix4 } from "../src/conf/host_info.ts";
import { concat as cat } from "./_helpers/frames.ts";

// ---------------------------------------------------------------------------
// Fixture helpers

const EAGAIN = 11;
const MSG_DONTWAIT = 0x40;

/** Little-endian u16. */
function le16(v: number): Uint8Array {
  return Uint8Array.of(v & 255, v >>> 8);
}

/** Little-endian u32. */
function le32(v: number): Uint8Array {
  return Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
}

/** Pads to a multiple of 4 bytes. */
function pad4(b: Uint8Array): Uint8Array {
  return cat(b, new Uint8Array((4 - (b.length & 3)) & 3));
}

/** An rtattr with `data`, padded. */
function rta(type: number, data: Uint8Array): Uint8Array {
  return pad4(cat(le16(4 + data.length), le16(type), data));
}

/** A netlink message: header with computed length, then `body`. */
function nlmsg(type: number, flags: number, seq: number, body: Uint8Array): Uint8Array {
  return cat(le32(16 + body.length), le16(type), le16(flags), le32(seq), le32(0), body);
}

/** NLMSG_DONE for `seq`. */
function done(seq: number): Uint8Array {
  return nlmsg(3, 2, seq, le32(0));
}

/** NLMSG_ERROR for `seq` with `error` (0: ACK), echoing a 16-byte header. */
function nlerr(seq: number, error: number): Uint8Array {
  return nlmsg(2, 0x100, seq, cat(le32(error >>> 0), new Uint8Array(16)));
}

/** rtmsg of a default route with attributes. */
function route(fam: number, dstLen: number, table: number, attrs: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(fam, dstLen, 0, 0, table, 3, 0, 1), le32(0), attrs);
}

/** ifaddrmsg with attributes. */
function ifaddr(fam: number, plen: number, scope: number, idx: number, a: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(fam, plen, 0, scope), le32(idx), a);
}

/** ifinfomsg with attributes. */
function ifinfo(idx: number, attrs: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(0, 0), le16(1), le32(idx), le32(0x1043), le32(0), attrs);
}

/** Parses "c0 00 02 01 ..." hex. */
function hex(s: string): Uint8Array {
  return Uint8Array.from(s.trim().split(/\s+/), (h) => parseInt(h, 16));
}

/** IPv6 text (full or with one ::) to 16 bytes, for fixtures only. */
function v6bytes(s: string): Uint8Array {
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 255;
  });
  return out;
}

/** IPv6 text to four big-endian words. */
function v6words(s: string): Uint32Array {
  const b = v6bytes(s);
  const dv = new DataView(b.buffer);
  return Uint32Array.from([0, 1, 2, 3], (i) => dv.getUint32(4 * i));
}

/** Replies to a request: datagrams, given the request's sequence number. */
type Responder = (req: Uint8Array, seq: number) => Uint8Array[];

/** A transport that answers requests from a script and records what was sent. */
class FakeTransport implements NlTransport {
  sent: Uint8Array[] = [];
  queue: Uint8Array[] = [];
  recvCalls = 0;
  closed = 0;
  constructor(public responders: Responder[]) {}

  send(buf: Uint8Array, off: number, len: number): number {
    const req = buf.slice(off, off + len);
    this.sent.push(req);
    const seq = new DataView(req.buffer).getUint32(8, true);
    const r = this.responders.shift();
    if (r) this.queue.push(...r(req, seq));
    return len;
  }

  recv(buf: Uint8Array, off: number, len: number, flags: number): number {
    this.recvCalls++;
    const d = this.queue.shift();
    if (!d) return -EAGAIN; // a real blocking socket would wait: fail instead
    if (flags & MSG_DONTWAIT && d.length === 0) return -EAGAIN;
    const n = Math.min(d.length, len);
    buf.set(d.subarray(0, n), off);
    return n;
  }

  close(): void {
    this.closed++;
  }
}

// ---------------------------------------------------------------------------
// Request building

/** Checks the request `call` sends first, answered by `reply`: its bytes are `want` (hex). */
function sends(
  reply: (seq: number) => Uint8Array,
  call: (nl: Netlink) => unknown,
  want: string,
): void {
  const t = new FakeTransport([(_r, seq) => [reply(seq)]]);
  call(new Netlink(t));
  assert.deepEqual(t.sent[0], hex(want));
}

Deno.test("addAddr4() sends RTM_NEWADDR with IFA_LOCAL and IFA_ADDRESS, CREATE|EXCL|ACK", () =>
  sends(
    (seq) => nlerr(seq, 0),
    (nl) => assert.equal(nl.addAddr4(3, 0xc0000202, 24), true),
    `
      28 00 00 00  14 00  05 06  01 00 00 00  00 00 00 00
      02 18 00 00  03 00 00 00
      08 00 02 00  c0 00 02 02
      08 00 01 00  c0 00 02 02`,
  ));

Deno.test("addAddr6() sends IFA_F_NODAD and a 16-byte IFA_ADDRESS", () =>
  sends(
    (seq) => nlerr(seq, 0),
    (nl) => nl.addAddr6(7, v6words("2001:db8::2"), 64),
    `
      2c 00 00 00  14 00  05 06  01 00 00 00  00 00 00 00
      0a 40 02 00  07 00 00 00
      14 00 01 00  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02`,
  ));

Deno.test("addDefaultRoute4() sends RTM_NEWROUTE in the main table, RTPROT_BOOT, OIF and gateway", () =>
  sends(
    (seq) => nlerr(seq, 0),
    (nl) => nl.addDefaultRoute4(3, 0xc0000201),
    `
      2c 00 00 00  18 00  05 06  01 00 00 00  00 00 00 00
      02 00 00 00 fe 03 00 01  00 00 00 00
      08 00 04 00  03 00 00 00
      08 00 05 00  c0 00 02 01`,
  ));

Deno.test("linkUp() sets IFF_UP in flags and change mask, with IFLA_MTU, ACK only", () =>
  sends(
    (seq) => nlerr(seq, 0),
    (nl) => nl.linkUp(5, 65520),
    `
      28 00 00 00  10 00  05 00  01 00 00 00  00 00 00 00
      00 00 00 00  05 00 00 00  01 00 00 00  01 00 00 00
      08 00 04 00  f0 ff 00 00`,
  ));

Deno.test("linkSetMac() sends IFLA_ADDRESS padded to 4 bytes", () =>
  sends(
    (seq) => nlerr(seq, 0),
    (nl) => nl.linkSetMac(5, hex("9a 55 9a 55 9a 55")),
    `
      2c 00 00 00  10 00  05 00  01 00 00 00  00 00 00 00
      00 00 00 00  05 00 00 00  00 00 00 00  00 00 00 00
      0a 00 01 00  9a 55 9a 55 9a 55 00 00`,
  ));

Deno.test("addresses() dumps with the family and ifindex filter set for strict checking", () =>
  sends(
    (seq) => done(seq),
    (nl) => nl.addresses(4, AF_INET6),
    `
      18 00 00 00  16 00  01 03  01 00 00 00  00 00 00 00
      0a 00 00 00  04 00 00 00`,
  ));

Deno.test("defaultGateway() dumps the main table with an RTA_OIF filter", () =>
  sends(
    (seq) => done(seq),
    (nl) => assert.equal(nl.defaultGateway(9, AF_INET), 0),
    `
      24 00 00 00  1a 00  01 03  01 00 00 00  00 00 00 00
      02 00 00 00 fe 00 00 00  00 00 00 00
      08 00 04 00  09 00 00 00`,
  ));

Deno.test("ifindexByName() sends IFLA_IFNAME NUL-terminated", () =>
  sends(
    (seq) => nlerr(seq, -19),
    (nl) => assert.equal(nl.ifindexByName("eth0"), 0),
    `
      2c 00 00 00  12 00  05 00  01 00 00 00  00 00 00 00
      00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00
      09 00 03 00  65 74 68 30 00 00 00 00`,
  ));

Deno.test("sequence numbers increase with every request", () => {
  const ack: Responder = (_r, seq) => [nlerr(seq, 0)];
  const t = new FakeTransport([ack, ack, ack]);
  const nl = new Netlink(t);
  nl.linkSetMtu(1, 1500);
  nl.linkSetMtu(1, 1400);
  nl.linkSetMtu(1, 1300);
  assert.deepEqual(t.sent.map((r) => new DataView(r.buffer).getUint32(8, true)), [1, 2, 3]);
});

// ---------------------------------------------------------------------------
// Reply parsing

const GW4 = rta(5, hex("c0 00 02 01"));

Deno.test("defaultRouteIf() picks the first main-table default route's OIF across datagrams", () => {
  const t = new FakeTransport([(_r, seq) => [
    cat(
      // 192.0.2.0/24 on 2: not a default route
      nlmsg(24, 2, seq, route(2, 24, 254, cat(rta(1, hex("c0 00 02 00")), rta(4, le32(2))))),
      // default route in table 100: ignored
      nlmsg(24, 2, seq, route(2, 0, 100, cat(rta(4, le32(5)), GW4))),
    ),
    cat(
      nlmsg(24, 2, seq, route(2, 0, 254, cat(rta(15, le32(254)), GW4, rta(4, le32(3))))),
      nlmsg(24, 2, seq, route(2, 0, 254, cat(GW4, rta(4, le32(4))))),
      done(seq),
    ),
  ]]);
  assert.equal(new Netlink(t).defaultRouteIf(AF_INET), 3);
  assert.equal(t.queue.length, 0, "whole dump consumed");
});

Deno.test("defaultRouteIf() returns 0 without a default route", () => {
  const t = new FakeTransport([(_r, seq) => [done(seq)]]);
  assert.equal(new Netlink(t).defaultRouteIf(AF_INET6), 0);
});

Deno.test("defaultRouteIf() and defaultGateway() read multipath nexthops", () => {
  const gw6 = v6bytes("fe80::1");
  const nh = (idx: number, g: Uint8Array): Uint8Array => {
    const attrs = rta(5, g);
    return cat(le16(8 + attrs.length), Uint8Array.of(0, 0), le32(idx), attrs);
  };
  const mp = rta(9, cat(nh(6, v6bytes("fe80::6")), nh(7, gw6)));
  const reply: Responder = (_r, seq) => [
    cat(nlmsg(24, 2, seq, route(10, 0, 254, mp)), done(seq)),
  ];
  const nl = new Netlink(new FakeTransport([reply, reply]));
  assert.equal(nl.defaultRouteIf(AF_INET6), 6);
  assert.deepEqual(nl.defaultGateway(7, AF_INET6), v6words("fe80::1"));
});

Deno.test("defaultGateway() skips routes via other interfaces", () => {
  const t = new FakeTransport([(_r, seq) => [cat(
    nlmsg(24, 2, seq, route(2, 0, 254, cat(rta(4, le32(2)), rta(5, hex("0a 00 00 01"))))),
    nlmsg(24, 2, seq, route(2, 0, 254, cat(rta(4, le32(3)), GW4))),
    done(seq),
  )]]);
  assert.equal(new Netlink(t).defaultGateway(3, AF_INET), 0xc0000201);
});

Deno.test("addresses() returns the first IPv4 address, preferring IFA_LOCAL", () => {
  const t = new FakeTransport([(_r, seq) => [cat(
    nlmsg(
      20,
      2,
      seq,
      ifaddr(2, 24, 0, 3, cat(rta(1, hex("c0 00 02 09")), rta(2, hex("c0 00 02 02")))),
    ),
    nlmsg(20, 2, seq, ifaddr(2, 16, 0, 3, rta(1, hex("c6 33 64 01")))),
    done(seq),
  )]]);
  assert.deepEqual(new Netlink(t).addresses(3, AF_INET), { addr: 0xc0000202, prefixLen: 24 });
});

Deno.test("addresses() returns IPv6 global and link-local, skipping DAD failures and other links", () => {
  const t = new FakeTransport([(_r, seq) => [cat(
    nlmsg(20, 2, seq, ifaddr(10, 64, 0, 9, rta(1, v6bytes("2001:db8:9::1")))),
    nlmsg(20, 2, seq, ifaddr(10, 64, 0, 3, cat(rta(1, v6bytes("2001:db8::bad")), rta(8, le32(8))))),
    nlmsg(20, 2, seq, ifaddr(10, 64, 253, 3, rta(1, v6bytes("fe80::5")))),
    nlmsg(20, 2, seq, ifaddr(10, 56, 0, 3, rta(1, v6bytes("2001:db8::2")))),
    nlmsg(20, 2, seq, ifaddr(10, 64, 0, 3, rta(1, v6bytes("2001:db8::3")))),
    done(seq),
  )]]);
  const a = new Netlink(t).addresses(3, AF_INET6);
  assert.deepEqual(a.addr, v6words("2001:db8::2"));
  assert.equal(a.prefixLen, 56);
  assert.deepEqual(a.addrLl, v6words("fe80::5"));
});

Deno.test("link() reads name, MAC and MTU; ACK ends the reply", () => {
  const t = new FakeTransport([(_r, seq) => [
    nlmsg(
      16,
      0,
      seq,
      ifinfo(
        3,
        cat(
          rta(3, new TextEncoder().encode("eth0\0")),
          rta(4, le32(1500)),
          rta(1, hex("02 00 5e 00 53 01")),
          rta(2, hex("ff ff ff ff ff ff")),
        ),
      ),
    ),
    nlerr(seq, 0),
  ]]);
  const l = new Netlink(t).link(3);
  assert.deepEqual(l, {
    ifindex: 3,
    name: "eth0",
    mac: hex("02 00 5e 00 53 01"),
    mtu: 1500,
    flags: l.flags,
  });
});

Deno.test("replies with another sequence number are skipped, and stale ones drained first", () => {
  const t = new FakeTransport([(_r, seq) => [
    cat(nlmsg(24, 2, seq + 7, route(2, 0, 254, rta(4, le32(8)))), done(seq + 7)),
    cat(nlmsg(24, 2, seq, route(2, 0, 254, rta(4, le32(2)))), done(seq)),
  ]]);
  // Something left over from an earlier request: drained before sending.
  t.queue.push(cat(nlmsg(24, 2, 99, route(2, 0, 254, rta(4, le32(9)))), done(99)));
  assert.equal(new Netlink(t).defaultRouteIf(AF_INET), 2);
});

Deno.test("an NLMSG_ERROR reply throws NetlinkError naming the request and errno", () => {
  const t = new FakeTransport([(_r, seq) => [nlerr(seq, -1)]]);
  assert.throws(() => new Netlink(t).linkSetMtu(4, 9000), (e: unknown) => {
    assert.ok(e instanceof NetlinkError);
    assert.equal(e.errno, 1);
    assert.equal(e.code, "EPERM");
    assert.equal(e.message, "Cannot set MTU of link 4: EPERM (Operation not permitted)");
    return true;
  });
});

Deno.test("EEXIST on adding an address or a route is tolerated and reported as false", () => {
  const exists: Responder = (_r, seq) => [nlerr(seq, -17)];
  const nl = new Netlink(new FakeTransport([exists, exists]));
  assert.equal(nl.addAddr4(3, 0xc0000202, 24), false);
  assert.equal(nl.addDefaultRoute6(3, v6words("fe80::1")), false);
});

Deno.test("a failed dump (error in NLMSG_DONE) throws", () => {
  const t = new FakeTransport([(_r, seq) => [nlmsg(3, 2, seq, le32(-4 >>> 0))]]);
  assert.throws(() => new Netlink(t).defaultRouteIf(AF_INET), /EINTR/);
});

Deno.test("setters check their arguments", () => {
  const nl = new Netlink(new FakeTransport([]));
  assert.throws(() => nl.addAddr4(1, 0xc0000202, 33), RangeError);
  assert.throws(() => nl.addAddr6(1, v6words("2001:db8::1"), 129), RangeError);
  assert.throws(() => nl.linkSetMac(1, new Uint8Array(5)), RangeError);
});

Deno.test("close() closes the transport, also through using", () => {
  const t = new FakeTransport([]);
  {
    using _nl = new Netlink(t);
  }
  assert.equal(t.closed, 1);
});

// ---------------------------------------------------------------------------
// Robustness: truncated and corrupted replies

/** A full, valid reply to an address dump, as one datagram. */
function goodAddrReply(seq: number): Uint8Array {
  return cat(
    nlmsg(20, 2, seq, ifaddr(10, 64, 253, 3, rta(1, v6bytes("fe80::5")))),
    nlmsg(20, 2, seq, ifaddr(10, 64, 0, 3, cat(rta(1, v6bytes("2001:db8::2")), rta(8, le32(0))))),
    done(seq),
  );
}

Deno.test("truncated replies at every length give NetlinkError, never a hang", () => {
  const full = goodAddrReply(1);
  for (let n = 0; n < full.length; n++) {
    const t = new FakeTransport([(_r, seq) => [goodAddrReply(seq).subarray(0, n)]]);
    try {
      new Netlink(t).addresses(3, AF_INET6);
    } catch (e) {
      assert.ok(e instanceof NetlinkError, `length ${n}: ${e}`);
      continue;
    }
    assert.fail(`length ${n}: truncated reply accepted`);
  }
});

Deno.test("corrupted replies give a result or NetlinkError, never another exception", () => {
  let state = 0x12345678;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let i = 0; i < 2000; i++) {
    const flips = 1 + (rand() % 4);
    const t = new FakeTransport([(_r, seq) => {
      const d = goodAddrReply(seq);
      for (let f = 0; f < flips; f++) d[rand() % d.length] = rand() & 255;
      return [d];
    }]);
    try {
      new Netlink(t).addresses(3, AF_INET6);
    } catch (e) {
      assert.ok(e instanceof NetlinkError, `case ${i}: ${e}`);
    }
    assert.ok(t.recvCalls < MAX_IDLE_READS * 2 + 4, `case ${i}: ${t.recvCalls} reads`);
  }
});

Deno.test("a peer sending only foreign messages is given up on", () => {
  const t = new FakeTransport([
    (_r, seq) => Array.from({ length: 10 * MAX_IDLE_READS }, () => done(seq + 1)),
  ]);
  assert.throws(() => new Netlink(t).defaultRouteIf(AF_INET), /no reply for this request/);
});

Deno.test("a datagram larger than NLBUFSIZ is cut and reported as malformed", () => {
  const t = new FakeTransport([(_r, seq) => {
    const big = new Uint8Array(NLBUFSIZ + 64);
    big.set(nlmsg(20, 2, seq, new Uint8Array(NLBUFSIZ + 32)));
    return [big];
  }]);
  assert.throws(() => new Netlink(t).addresses(1, AF_INET), NetlinkError);
});

// ---------------------------------------------------------------------------
// Discovery over a fake

Deno.test("fixPrefix4() shortens the prefix until the gateway is on-link", () => {
  assert.equal(fixPrefix4(0xc0000202, 24, 0xc0000201), 24);
  assert.equal(fixPrefix4(0x0a000005, 32, 0x0a000001), 29);
  assert.equal(fixPrefix4(0xc0000282, 25, 0xc0000201), 24);
  assert.equal(fixPrefix4(0x0a000005, 0, 0x0a010101), 8); // class A default
  assert.equal(fixPrefix4(0xac100005, 0, 0xac100001), 16); // class B default
  assert.equal(fixPrefix4(0xc0000202, 0, 0xc0000201), 24); // class C default
  assert.equal(fixPrefix4(0x0a000001, 24, 0x8a000001), 0);
});

Deno.test("discoverHost() disables IPv4 when the interface has no MAC address", () => {
  const t = new FakeTransport([
    (_r, seq) => [cat(nlmsg(24, 2, seq, route(2, 0, 254, cat(rta(4, le32(3)), GW4))), done(seq))],
    (_r, seq) => [cat(nlmsg(24, 2, seq, route(2, 0, 254, cat(rta(4, le32(3)), GW4))), done(seq))],
    (_r, seq) => [
      cat(nlmsg(20, 2, seq, ifaddr(2, 24, 0, 3, rta(1, hex("c0 00 02 02")))), done(seq)),
    ],
    (_r, seq) => [
      nlmsg(16, 0, seq, ifinfo(3, cat(rta(3, new TextEncoder().encode("tun0\0"))))),
      nlerr(seq, 0),
    ],
  ]);
  const info = discoverHost(new Netlink(t), { v4: true, v6: false });
  assert.deepEqual([info.v4, info.v6], [null, null]);
});

// ---------------------------------------------------------------------------
// Real namespaces

const isRoot = Deno.uid() === 0;
const haveIp = (() => {
  try {
    return new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
const haveLib = (() => {
  try {
    return Deno.statSync(new URL("../native/build/libpasst_ffi.so", import.meta.url)).isFile;
  } catch {
    return false;
  }
})();
const nsIgnore = !isRoot || !haveIp || !haveLib;

/** Runs `ip ARGS`, throwing with its stderr on failure; returns stdout. */
function ip(...args: string[]): string {
  const out = new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`ip ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

/** Creates a namespace with a unique name. */
function makeNs(tag: string): string {
  const name = `nltest-${tag}-${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
  ip("netns", "add", name);
  return name;
}

/** Opens a Netlink socket in the namespace `name`. */
async function nsNetlink(name: string): Promise<Netlink> {
  const { lib } = await import("../ffi/lib.ts");
  const path = new TextEncoder().encode(`/var/run/netns/${name}\0`);
  const O_RDONLY_CLOEXEC = 0o2000000;
  const fd: number = lib().pf_open(path, O_RDONLY_CLOEXEC, 0);
  assert.ok(fd >= 0, `open netns ${name}: ${fd}`);
  try {
    return Netlink.openNs(-1, fd);
  } finally {
    lib().pf_close(fd);
  }
}

/**
 * A test in a network namespace of its own (tagged `tag`), deleted afterwards; `n` is
 * `ip`'s option to work in it.
 */
function nsTest(name: string, tag: string, fn: (ns: string, n: string[]) => Promise<void>): void {
  Deno.test({
    name,
    ignore: nsIgnore,
    async fn(): Promise<void> {
      const ns = makeNs(tag);
      try {
        await fn(ns, ["-n", ns]);
      } finally {
        ip("netns", "delete", ns);
      }
    },
  });
}

/** Default routes from `ip -d -j route show default`: gateway, device, protocol. */
function defaultRoutes(json: string): string[][] {
  return JSON.parse(json).map((r: { gateway: string; dev: string; protocol: string }) => [
    r.gateway,
    r.dev,
    r.protocol,
  ]);
}

Deno.test({
  name: "Netlink.open() queries the init namespace: lo is interface 1",
  ignore: !haveLib,
  fn(): void {
    using nl = Netlink.open();
    const lo = nl.link(1);
    assert.equal(lo.name, "lo");
    assert.equal(nl.ifindexByName("lo"), 1);
    assert.deepEqual(lo.mac, new Uint8Array(6));
  },
});

nsTest(
  "discoverHost() finds address, prefix, gateway, MAC and MTU in a namespace",
  "disc",
  async (ns, n) => {
    ip(...n, ..."link add other0 type veth peer name otherpeer0".split(" "));
    ip(...n, ..."link add ext0 address 02:00:5e:00:53:07 mtu 1400 type veth".split(" "), "peer");
    ip(...n, "link", "set", "veth0", "name", "extpeer0");
    for (const dev of ["other0", "otherpeer0", "ext0", "extpeer0"]) {
      ip(...n, "link", "set", dev, "up");
    }
    ip(...n, "addr", "add", "192.0.2.2/24", "dev", "ext0");
    ip(...n, "addr", "add", "198.51.100.9/24", "dev", "other0");
    ip(...n, "-6", "addr", "add", "2001:db8::2/64", "dev", "ext0", "nodad");
    ip(...n, "-6", "addr", "add", "fe80::99/64", "dev", "ext0", "nodad");
    ip(...n, "route", "add", "default", "via", "192.0.2.1", "dev", "ext0");
    ip(...n, "-6", "route", "add", "default", "via", "fe80::1", "dev", "ext0");
    const ifindex = Number(JSON.parse(ip(...n, "-j", "link", "show", "ext0"))[0].ifindex);
    // The kernel's own link-local address comes first; take what it reports.
    const ll = (JSON.parse(ip(...n, "-j", "-6", "addr", "show", "dev", "ext0"))[0]
      .addr_info as { local?: string; scope?: string }[])
      .find((a) => a.scope === "link")?.local ?? "";

    using nl = await nsNetlink(ns);
    assert.equal(nl.ifindexByName("ext0"), ifindex);
    assert.equal(nl.ifindexByName("nonexistent0"), 0);
    const host = discoverHost(nl, { v4: true, v6: true });
    assert.deepEqual(host.v4, {
      ifname: "ext0",
      ifindex,
      addr: 0xc0000202,
      prefixLen: 24,
      gw: 0xc0000201,
      mac: hex("02 00 5e 00 53 07"),
      mtu: 1400,
    });
    assert.deepEqual(host.v6, {
      ifname: "ext0",
      ifindex,
      addr: v6words("2001:db8::2"),
      prefixLen: 64,
      addrLl: v6words(ll),
      gw: v6words("fe80::1"),
      mtu: 1400,
      mac: hex("02 00 5e 00 53 07"),
    });

    // An explicit template interface without a default route isn't usable.
    const other = discoverHost(nl, { ifname4: "other0", v4: true, v6: false });
    assert.equal(other.v4, null);
  },
);

nsTest(
  "discoverHost() shortens a /32 prefix until the gateway is on-link",
  "p32",
  async (ns, n) => {
    ip(...n, "link", "add", "ext0", "type", "veth", "peer", "name", "extpeer0");
    ip(...n, "link", "set", "ext0", "up");
    ip(...n, "link", "set", "extpeer0", "up");
    ip(...n, "addr", "add", "192.0.2.130/32", "dev", "ext0");
    ip(...n, "route", "add", "192.0.2.1", "dev", "ext0");
    ip(...n, "route", "add", "default", "via", "192.0.2.1", "dev", "ext0");
    using nl = await nsNetlink(ns);
    const host = discoverHost(nl, { v4: true, v6: true });
    assert.equal(host.v4?.addr, 0xc0000282);
    assert.equal(host.v4?.prefixLen, 24);
    assert.equal(host.v6, null, "no IPv6 default route");
  },
);

nsTest(
  "setters configure a namespace interface as pasta --config-net does",
  "set",
  async (ns, n) => {
    ip(...n, "tuntap", "add", "dev", "tap0", "mode", "tap");
    const ifindex = Number(JSON.parse(ip(...n, "-j", "link", "show", "tap0"))[0].ifindex);

    using nl = await nsNetlink(ns);
    nl.linkSetMac(ifindex, hex("9a 55 9a 55 9a 55"));
    nl.linkSetMtu(ifindex, 1280);
    nl.linkUp(ifindex, 65520);
    assert.equal(nl.addAddr4(ifindex, 0xc0000202, 24), true);
    assert.equal(nl.addAddr6(ifindex, v6words("2001:db8::2"), 64), true);
    assert.equal(nl.addDefaultRoute4(ifindex, 0xc0000201), true);
    assert.equal(nl.addDefaultRoute6(ifindex, v6words("2001:db8::1")), true);
    // Again: already there.
    assert.equal(nl.addAddr4(ifindex, 0xc0000202, 24), false);
    assert.equal(nl.addDefaultRoute4(ifindex, 0xc0000201), false);
    assert.deepEqual(nl.linkGetMac(ifindex), hex("9a 55 9a 55 9a 55"));

    const link = JSON.parse(ip(...n, "-j", "link", "show", "tap0"))[0];
    assert.equal(link.address, "9a:55:9a:55:9a:55");
    assert.equal(link.mtu, 65520);
    assert.ok(link.flags.includes("UP"));

    const addrs = JSON.parse(ip(...n, "-j", "addr", "show", "tap0"))[0].addr_info
      .map((a: { local: string; prefixlen: number; family: string; scope: string }) =>
        `${a.family} ${a.local}/${a.prefixlen} ${a.scope}`
      );
    assert.ok(addrs.includes("inet 192.0.2.2/24 global"), addrs.join(", "));
    assert.ok(addrs.includes("inet6 2001:db8::2/64 global"), addrs.join(", "));
    const a6 = JSON.parse(ip(...n, "-j", "-6", "addr", "show", "tap0", "scope", "global"))[0]
      .addr_info[0];
    assert.equal(a6.tentative, undefined, "no DAD (nodad)");

    assert.deepEqual(defaultRoutes(ip(...n, "-d", "-j", "route", "show", "default")), [
      ["192.0.2.1", "tap0", "boot"],
    ]);
    assert.deepEqual(defaultRoutes(ip(...n, "-d", "-j", "-6", "route", "show", "default")), [
      ["2001:db8::1", "tap0", "boot"],
    ]);

    // Errors name the request and the errno.
    assert.throws(() => nl.linkSetMtu(9999, 1500), /Cannot set MTU of link 9999: ENODEV/);
  },
);
