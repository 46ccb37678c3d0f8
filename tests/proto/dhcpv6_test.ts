// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  ADVERTISE,
  CONFIRM,
  DECLINE,
  dhcpv6,
  DUID_TIME,
  INFORMATION_REQUEST,
  REBIND,
  RELEASE,
  RENEW,
  REPLY,
  REQUEST,
  SOLICIT,
} from "../../src/proto/dhcpv6.ts";
import { l4Checksum6 } from "../../src/wire/checksum.ts";
import type { Ctx } from "../../src/context.ts";
import { FakeTap, onlyFrame, runInline } from "../_helpers/fake_tap.ts";
import {
  concat,
  feedCorrupted,
  GUEST_LL,
  GUEST_MAC,
  guestMulticast6,
  HOST_MAC,
  ip6,
  ip6Bytes,
  testCtx,
} from "../_helpers/frames.ts";

const SERVERS = ip6("ff02::1:2");
const XID = [0xab, 0xcd, 0xef];
const ASSIGNED = ip6("2001:db8:1:2::10");

function opt(code: number, ...body: ArrayLike<number>[]): Uint8Array {
  const b = concat(...body);
  return concat([code >> 8, code & 0xff, b.length >> 8, b.length & 0xff], b);
}

function be32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

const CLIENT_ID = opt(1, [0, 3, 0, 1], GUEST_MAC);
const IAID = [0x0b, 0xad, 0xf0, 0x0d];
const IA_NA = opt(3, IAID, be32(3600), be32(5400));

function iaNaWith(addr: Uint32Array): Uint8Array {
  return opt(3, IAID, be32(0), be32(0), opt(5, ip6Bytes(addr), be32(0), be32(0)));
}

/** Our server identifier as a client would copy it from an ADVERTISE. */
function serverId(mac = HOST_MAC): Uint8Array {
  return opt(2, [0, 1, 0, 1], be32(DUID_TIME), mac);
}

function msg(type: number, ...opts: Uint8Array[]): Uint8Array {
  const m = concat([type, ...XID], ...opts);
  const u = concat([2, 34, 2, 35, (8 + m.length) >> 8, (8 + m.length) & 0xff, 0, 0], m);
  return guestMulticast6(GUEST_LL, SERVERS, 17, u, 6);
}

function run(f: Uint8Array, c?: Ctx): { tap: FakeTap; ret: boolean } {
  return runInline(dhcpv6, f, c);
}

interface Reply {
  type: number;
  /** Top-level options by code (first instance), as their bodies. */
  opts: Map<number, Uint8Array>;
  order: number[];
}

/** Sub-options of an option body starting at `from`. */
function walk(b: Uint8Array, from: number): { opts: Map<number, Uint8Array>; order: number[] } {
  const opts = new Map<number, Uint8Array>();
  const order: number[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = from;
  while (i < b.length) {
    assert.ok(i + 4 <= b.length);
    const code = dv.getUint16(i);
    const l = dv.getUint16(i + 2);
    assert.ok(i + 4 + l <= b.length, "option within message");
    if (!opts.has(code)) opts.set(code, b.subarray(i + 4, i + 4 + l));
    order.push(code);
    i += 4 + l;
  }
  assert.equal(i, b.length);
  return { opts, order };
}

function reply(tap: FakeTap): Reply {
  const { f, dv } = onlyFrame(tap, 0x86dd);
  assert.equal(dv.getUint32(14) >>> 0, (0x60000000 | (0xabcdef & 0xfffff)) >>> 0, "flow label");
  assert.equal(dv.getUint16(18), f.length - 54);
  assert.equal(f[20], 17);
  assert.deepEqual(f.subarray(22, 38), ip6Bytes(ip6("fe80::1")));
  assert.deepEqual(f.subarray(38, 54), ip6Bytes(GUEST_LL));
  assert.equal(dv.getUint16(54), 547);
  assert.equal(dv.getUint16(56), 546);
  assert.equal(dv.getUint16(58), f.length - 54);
  assert.notEqual(dv.getUint16(60), 0, "UDP checksum present");
  assert.equal(l4Checksum6(f, 54, f.length - 54, 22, 38, 17), 0, "UDP checksum");
  assert.deepEqual([...f.subarray(63, 66)], XID);
  return { type: f[62]!, ...walk(f.subarray(62), 4) };
}

function assertAssigned(r: Reply): void {
  const ia = r.opts.get(3)!;
  assert.ok(ia, "IA_NA present");
  const dv = new DataView(ia.buffer, ia.byteOffset);
  assert.deepEqual([...ia.subarray(0, 4)], IAID);
  assert.equal(dv.getUint32(4), 0xffffffff);
  assert.equal(dv.getUint32(8), 0xffffffff);
  const addr = walk(ia, 12).opts.get(5)!;
  assert.deepEqual(addr.subarray(0, 16), ip6Bytes(ASSIGNED));
  const adv = new DataView(addr.buffer, addr.byteOffset);
  assert.equal(adv.getUint32(16), 0xffffffff);
  assert.equal(adv.getUint32(20), 0xffffffff);
}

function names(b: Uint8Array): string[] {
  const out: string[] = [];
  let labels: string[] = [];
  for (let i = 0; i < b.length;) {
    const l = b[i]!;
    if (l === 0) {
      out.push(labels.join("."));
      labels = [];
      i++;
    } else {
      labels.push(String.fromCharCode(...b.subarray(i + 1, i + 1 + l)));
      i += 1 + l;
    }
  }
  return out;
}

Deno.test("dhcpv6() answers SOLICIT with an ADVERTISE dhclient -6 accepts", () => {
  const c = testCtx();
  const { tap, ret } = run(
    msg(SOLICIT, CLIENT_ID, opt(8, [0, 0]), IA_NA, opt(6, [0, 23, 0, 24])),
    c,
  );
  assert.equal(ret, true);
  const r = reply(tap);
  assert.equal(r.type, ADVERTISE);
  assert.deepEqual(r.order, [2, 3, 1, 23, 24]);
  assert.deepEqual(r.opts.get(2), serverId().subarray(4));
  assertAssigned(r);
  assert.deepEqual(r.opts.get(1), CLIENT_ID.subarray(4));
  assert.deepEqual(
    r.opts.get(23),
    concat(ip6Bytes(ip6("2001:db8::53")), ip6Bytes(ip6("2001:db8::5353"))),
  );
  assert.deepEqual(names(r.opts.get(24)!), ["example.com", "lab.example.com"]);
  assert.deepEqual(c.ip6AddrSeen, ASSIGNED);
});

Deno.test("dhcpv6() answers REQUEST, RENEW and REBIND with a REPLY", () => {
  for (
    const m of [
      msg(REQUEST, CLIENT_ID, serverId(), IA_NA),
      msg(RENEW, CLIENT_ID, serverId(), iaNaWith(ASSIGNED)),
      msg(REBIND, CLIENT_ID, iaNaWith(ASSIGNED)),
    ]
  ) {
    const r = reply(run(m).tap);
    assert.equal(r.type, REPLY);
    assertAssigned(r);
  }
});

Deno.test("dhcpv6() ignores messages with the wrong server identifier", () => {
  const other = serverId(Uint8Array.of(2, 0, 0, 0, 0, 1));
  for (
    const m of [
      msg(REQUEST, CLIENT_ID, other, IA_NA),
      msg(REQUEST, CLIENT_ID, IA_NA),
      msg(RENEW, CLIENT_ID, other, IA_NA),
      msg(REBIND, CLIENT_ID, other, IA_NA),
      msg(SOLICIT, CLIENT_ID, serverId(), IA_NA),
      msg(INFORMATION_REQUEST, CLIENT_ID, other),
      msg(REQUEST, CLIENT_ID, opt(2, [0, 1]), IA_NA),
    ]
  ) {
    const { tap, ret } = run(m);
    assert.equal(ret, true);
    assert.equal(tap.frames.length, 0);
  }
});

Deno.test("dhcpv6() answers NotOnLink for foreign addresses", () => {
  const foreign = ip6("2001:db8:ffff::1");
  const r = reply(run(msg(REQUEST, CLIENT_ID, serverId(), iaNaWith(foreign))).tap);
  assert.equal(r.type, REPLY);
  const ia = r.opts.get(3)!;
  assert.deepEqual([...ia.subarray(0, 4)], IAID);
  const status = walk(ia, 12).opts.get(13)!;
  assert.equal(new DataView(status.buffer, status.byteOffset).getUint16(0), 4);
  assert.equal(String.fromCharCode(...status.subarray(2)), "Prefix not appropriate for link.");
  assert.equal(walk(ia, 12).opts.has(5), false);

  const confirmBad = reply(run(msg(CONFIRM, CLIENT_ID, iaNaWith(foreign))).tap);
  const top = confirmBad.opts.get(13)!;
  assert.equal(top[1], 4);
  assert.equal(confirmBad.opts.has(3), false);
  const confirmGood = reply(run(msg(CONFIRM, CLIENT_ID, iaNaWith(ASSIGNED))).tap);
  assert.equal(confirmGood.opts.get(13)![1], 0);
  assert.equal(run(msg(CONFIRM, CLIENT_ID, IA_NA)).tap.frames.length, 0, "nothing to confirm");
});

Deno.test("dhcpv6() answers INFORMATION-REQUEST with resolvers and no address", () => {
  const r = reply(run(msg(INFORMATION_REQUEST, CLIENT_ID, opt(6, [0, 23]))).tap);
  assert.equal(r.type, REPLY);
  assert.deepEqual(r.order, [2, 1, 23, 24]);
  const anon = reply(run(msg(INFORMATION_REQUEST)).tap);
  assert.deepEqual(anon.order, [2, 23, 24]);
  assert.equal(run(msg(INFORMATION_REQUEST, CLIENT_ID, IA_NA)).tap.frames.length, 0);
});

Deno.test("dhcpv6() ignores RELEASE, DECLINE, and messages without a client identifier", () => {
  assert.equal(run(msg(RELEASE, CLIENT_ID, serverId(), IA_NA)).tap.frames.length, 0);
  assert.equal(run(msg(DECLINE, CLIENT_ID, serverId(), IA_NA)).tap.frames.length, 0);
  assert.equal(run(msg(SOLICIT, IA_NA)).tap.frames.length, 0);
  assert.equal(run(msg(SOLICIT, opt(1, new Uint8Array(129)), IA_NA)).tap.frames.length, 0);
});

Deno.test("dhcpv6() leaves out DNS options when disabled and skips unicast or --no-dhcpv6", () => {
  const c = testCtx({ dhcpDns: false, dhcpSearch: false });
  const r = reply(run(msg(SOLICIT, CLIENT_ID, IA_NA), c).tap);
  assert.deepEqual(r.order, [2, 3, 1]);
  const uni = msg(SOLICIT, CLIENT_ID, IA_NA);
  uni.set(ip6Bytes(ip6("fe80::1")), 38); // checksum now wrong, but the destination decides first
  assert.equal(run(uni).ret, false);
  assert.equal(run(msg(SOLICIT, CLIENT_ID, IA_NA), testCtx({ noDhcpv6: true })).ret, false);
});

Deno.test("dhcpv6() drops malformed options", () => {
  for (
    const m of [
      msg(SOLICIT, CLIENT_ID, IA_NA, Uint8Array.of(0, 8, 0, 9, 0)),
      msg(SOLICIT, CLIENT_ID, IA_NA, Uint8Array.of(0, 8)),
      msg(SOLICIT, CLIENT_ID, opt(3, [1, 2, 3])),
      msg(SOLICIT, CLIENT_ID, opt(3, IAID, be32(0), be32(0), opt(5, [1, 2]))),
      msg(SOLICIT, CLIENT_ID, opt(3, IAID, be32(0), be32(0), [0, 5, 0, 99])),
    ]
  ) {
    const { tap, ret } = run(m);
    assert.equal(ret, true);
    assert.equal(tap.frames.length, 0);
  }
});

Deno.test("dhcpv6() never throws on truncated or corrupted messages", () => {
  const bases = [
    msg(SOLICIT, CLIENT_ID, opt(8, [0, 0]), IA_NA, opt(6, [0, 23, 0, 24])),
    msg(RENEW, CLIENT_ID, serverId(), iaNaWith(ASSIGNED)),
  ];
  for (const base of bases) {
    feedCorrupted(
      base,
      1500,
      6,
      4,
      (r, len) => r() % 2 ? 62 + (r() % (len - 62)) : r() % len,
      (f) => run(f),
    );
  }
});

Deno.test("dhcpv6() sends --fqdn as option 39, with O when the client asked for S", () => {
  const c = testCtx({ fqdn: "box.example.com" });
  let r = reply(run(msg(SOLICIT, CLIENT_ID, IA_NA), c).tap);
  assert.deepEqual(r.order, [2, 3, 1, 23, 24, 39]);
  assert.equal(r.opts.get(39)![0], 0, "flags");
  assert.deepEqual(names(r.opts.get(39)!.subarray(1)), ["box.example.com"]);
  const clientFqdn = opt(39, [0x01], [3, 98, 111, 120, 0]);
  r = reply(run(msg(SOLICIT, CLIENT_ID, IA_NA, clientFqdn), c).tap);
  assert.equal(r.opts.get(39)![0], 0x02, "O: the server overrides the client's S");
  r = reply(run(msg(SOLICIT, CLIENT_ID, IA_NA, opt(39, [0x00], [0])), c).tap);
  assert.equal(r.opts.get(39)![0], 0);
  r = reply(run(msg(SOLICIT, CLIENT_ID, IA_NA)).tap);
  assert.equal(r.opts.has(39), false, "no --fqdn, no option 39");
  // -H alone is DHCPv4 only
  r = reply(run(msg(SOLICIT, CLIENT_ID, IA_NA), testCtx({ hostname: "box" })).tap);
  assert.equal(r.opts.has(39), false);
});
