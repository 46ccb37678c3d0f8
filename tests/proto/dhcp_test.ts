// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import {
  dhcp,
  DHCPACK,
  DHCPDISCOVER,
  DHCPINFORM,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  encodeSearchList,
} from "../../src/proto/dhcp.ts";
import { encodeNameAsUpstream, writeDomainName } from "../../src/wire/dns_name.ts";
import { ipv4HeaderChecksum } from "../../src/wire/checksum.ts";
import { FakeTap, onlyFrame, runInline } from "../_helpers/fake_tap.ts";
import {
  ether,
  feedCorrupted,
  GUEST_MAC,
  ip4,
  ipv4Packet,
  testCtx,
  udp4,
} from "../_helpers/frames.ts";
import type { Ctx } from "../../src/context.ts";

const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const XID = 0x3903f326;

interface ReqOpts {
  ciaddr?: number;
  flags?: number;
  sname?: number[];
  file?: number[];
  op?: number;
}

/** A BOOTP request with `options` (raw bytes, end marker not added). */
function bootp(options: number[], o: ReqOpts = {}): Uint8Array {
  const b = new Uint8Array(240 + options.length);
  const dv = new DataView(b.buffer);
  b[0] = o.op ?? 1;
  b[1] = 1;
  b[2] = 6;
  dv.setUint32(4, XID);
  dv.setUint16(10, o.flags ?? 0);
  dv.setUint32(12, o.ciaddr ?? 0);
  b.set(GUEST_MAC, 28);
  if (o.sname) b.set(o.sname, 44);
  if (o.file) b.set(o.file, 108);
  dv.setUint32(236, 0x63825363);
  b.set(options, 240);
  return b;
}

/** A full frame from the guest (0.0.0.0:68 to 255.255.255.255:67 unless ciaddr). */
function frame(payload: Uint8Array, src = 0): Uint8Array {
  return ether(BCAST, GUEST_MAC, 0x0800, ipv4Packet(src, 0xffffffff, 17, udp4(68, 67, payload)));
}

function request(type: number, extra: number[] = [], o: ReqOpts = {}): Uint8Array {
  return frame(bootp([53, 1, type, ...extra, 255], o), o.ciaddr ?? 0);
}

function run(f: Uint8Array, c?: Ctx): { tap: FakeTap; ret: boolean } {
  return runInline(dhcp, f, c);
}

interface Reply {
  f: Uint8Array;
  dv: DataView;
  b: number;
  /** Option values, instances concatenated (RFC 3396). */
  opts: Map<number, number[]>;
  /** Option codes in order of appearance. */
  order: number[];
}

/** Parses and checks the framing of the one reply a client would receive. */
function reply(tap: FakeTap): Reply {
  const { f, dv } = onlyFrame(tap, 0x0800);
  assert.equal(f[14], 0x45);
  assert.equal(dv.getUint16(16), f.length - 14, "IPv4 total length");
  assert.equal(f[23], 17);
  assert.equal(ipv4HeaderChecksum(f, 14, 20), dv.getUint16(24), "IPv4 header checksum");
  assert.equal(dv.getUint16(34), 67);
  assert.equal(dv.getUint16(36), 68);
  assert.equal(dv.getUint16(38), f.length - 34, "UDP length");
  assert.equal(dv.getUint16(40), 0, "UDP checksum");
  const b = 42;
  assert.ok(f.length - b >= 300, "BOOTP message at least 300 bytes");
  assert.equal(f[b], 2);
  assert.equal(dv.getUint32(b + 4), XID);
  assert.deepEqual(f.subarray(b + 28, b + 34), GUEST_MAC);
  assert.equal(dv.getUint32(b + 236), 0x63825363);
  const opts = new Map<number, number[]>();
  const order: number[] = [];
  let i = b + 240;
  for (;;) {
    assert.ok(i < f.length, "end marker present");
    const code = f[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    const l = f[i + 1]!;
    assert.ok(i + 2 + l <= f.length);
    if (!opts.has(code)) order.push(code);
    opts.set(code, [...(opts.get(code) ?? []), ...f.subarray(i + 2, i + 2 + l)]);
    i += 2 + l;
  }
  return { f, dv, b, opts, order };
}

function u32s(v: number[] | undefined): number[] {
  assert.ok(v);
  assert.equal(v.length % 4, 0);
  const out = [];
  for (let i = 0; i < v.length; i += 4) {
    out.push(((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0);
  }
  return out;
}

/** Decodes an RFC 1035 name list with compression pointers. */
function decodeNames(v: number[]): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < v.length) {
    const labels: string[] = [];
    let p = i;
    let jumped = false;
    for (let guard = 0; guard < 100; guard++) {
      const l = v[p]!;
      if ((l & 0xc0) === 0xc0) {
        if (!jumped) i = p + 2;
        jumped = true;
        p = ((l & 0x3f) << 8) | v[p + 1]!;
        continue;
      }
      if (l === 0) {
        if (!jumped) i = p + 1;
        break;
      }
      labels.push(String.fromCharCode(...v.slice(p + 1, p + 1 + l)));
      p += 1 + l;
    }
    names.push(labels.join("."));
  }
  return names;
}

Deno.test("dhcp() answers DISCOVER with an OFFER carrying what udhcpc configures", () => {
  const c = testCtx();
  const { tap, ret } = run(request(DHCPDISCOVER, [55, 4, 1, 3, 6, 15]), c);
  assert.equal(ret, true);
  const r = reply(tap);
  assert.equal(r.dv.getUint32(14 + 12), ip4("192.0.2.1"), "IP source = gateway");
  assert.equal(r.dv.getUint32(14 + 16), ip4("192.0.2.10"), "IP destination = yiaddr");
  assert.equal(r.dv.getUint32(r.b + 12), 0, "ciaddr");
  assert.equal(r.dv.getUint32(r.b + 16), ip4("192.0.2.10"), "yiaddr");
  assert.deepEqual(r.opts.get(53), [DHCPOFFER]);
  assert.deepEqual(u32s(r.opts.get(1)), [ip4("255.255.255.0")]);
  assert.deepEqual(u32s(r.opts.get(3)), [ip4("192.0.2.1")]);
  assert.deepEqual(u32s(r.opts.get(54)), [ip4("192.0.2.1")]);
  assert.deepEqual(u32s(r.opts.get(51)), [0xffffffff]);
  assert.deepEqual(u32s(r.opts.get(6)), [ip4("192.0.2.53"), ip4("198.51.100.53")]);
  assert.deepEqual(r.opts.get(26), [65520 >> 8, 65520 & 0xff]);
  assert.deepEqual(decodeNames(r.opts.get(119)!), ["example.com", "lab.example.com"]);
  assert.equal(r.opts.has(121), false, "gateway on link: no classless routes");
  // Requested options first, in the client's order, then the rest ascending.
  assert.deepEqual(r.order, [1, 3, 6, 26, 51, 53, 54, 119]);
});

Deno.test("dhcp() follows the parameter request list order", () => {
  const { tap } = run(request(DHCPDISCOVER, [55, 5, 119, 54, 6, 3, 42]));
  assert.deepEqual(reply(tap).order, [119, 54, 6, 3, 1, 26, 51, 53]);
});

Deno.test("dhcp() acknowledges REQUEST, copying ciaddr and flags", () => {
  const { tap } = run(
    request(DHCPREQUEST, [50, 4, 192, 0, 2, 10, 54, 4, 192, 0, 2, 1], {
      flags: 0x8000,
      ciaddr: ip4("192.0.2.10"),
    }),
  );
  const r = reply(tap);
  assert.deepEqual(r.opts.get(53), [DHCPACK]);
  assert.equal(r.dv.getUint32(r.b + 16), ip4("192.0.2.10"));
  assert.equal(r.dv.getUint32(r.b + 12), ip4("192.0.2.10"));
  assert.equal(r.dv.getUint16(r.b + 10), 0x8000);
});

Deno.test("dhcp() ignores a REQUEST for another server and DECLINE/RELEASE", () => {
  assert.equal(run(request(DHCPREQUEST, [54, 4, 10, 0, 0, 1])).tap.frames.length, 0);
  assert.equal(run(request(DHCPRELEASE)).tap.frames.length, 0);
  assert.equal(run(request(4)).tap.frames.length, 0);
  assert.equal(run(frame(bootp([255]))).tap.frames.length, 0, "no message type");
});

Deno.test("dhcp() answers INFORM without address or lease, to ciaddr", () => {
  const { tap } = run(request(DHCPINFORM, [], { ciaddr: ip4("192.0.2.77") }));
  const r = reply(tap);
  assert.deepEqual(r.opts.get(53), [DHCPACK]);
  assert.equal(r.dv.getUint32(r.b + 16), 0);
  assert.equal(r.opts.has(51), false);
  assert.equal(r.dv.getUint32(14 + 16), ip4("192.0.2.77"));
  assert.equal(run(request(DHCPINFORM)).tap.frames.length, 0, "INFORM without ciaddr");
});

Deno.test("dhcp() adds classless routes when the gateway is outside the subnet", () => {
  const c = testCtx();
  c.conf.ip4.gw = ip4("198.51.100.1");
  const r = reply(run(request(DHCPDISCOVER), c).tap);
  assert.deepEqual(r.opts.get(121), [32, 198, 51, 100, 1, 0, 0, 0, 0, 0, 198, 51, 100, 1]);
  assert.deepEqual(u32s(r.opts.get(3)), [ip4("198.51.100.1")]);
});

Deno.test("dhcp() leaves out MTU, DNS and search list when disabled", () => {
  const c = testCtx();
  c.conf.mtu = 0;
  c.conf.dhcpDns = false;
  c.conf.dhcpSearch = false;
  const r = reply(run(request(DHCPDISCOVER, [55, 3, 6, 26, 119]), c).tap);
  assert.equal(r.opts.has(26), false);
  assert.equal(r.opts.has(6), false);
  assert.equal(r.opts.has(119), false);
  assert.deepEqual(r.order, [1, 3, 51, 53, 54]);
  const none = testCtx();
  none.conf.ip4.dns = [];
  none.conf.dnsSearch = [];
  const r2 = reply(run(request(DHCPDISCOVER), none).tap);
  assert.equal(r2.opts.has(6), false);
  assert.equal(r2.opts.has(119), false);
});

Deno.test("dhcp() pads the options field so the message is exactly 300 bytes when short", () => {
  const c = testCtx();
  c.conf.dnsSearch = [];
  const r = reply(run(request(DHCPDISCOVER), c).tap);
  assert.equal(r.f.length - r.b, 300);
});

Deno.test("dhcp() splits a long search list over several option 119 instances", () => {
  const c = testCtx();
  c.conf.dnsSearch = Array.from({ length: 12 }, (_, i) => `zone${i}-${"x".repeat(20)}.example.org`);
  const r = reply(run(request(DHCPDISCOVER, [57, 2, 0x05, 0xdc]), c).tap);
  let count = 0;
  for (let i = r.b + 240; r.f[i] !== 255; i += r.f[i] === 0 ? 1 : 2 + r.f[i + 1]!) {
    if (r.f[i] === 119) count++;
  }
  assert.ok(count >= 2, `${count} instances`);
  assert.deepEqual(decodeNames(r.opts.get(119)!), c.conf.dnsSearch);
  // Without a larger maximum message size the list doesn't fit in 576 bytes.
  const small = reply(run(request(DHCPDISCOVER), c).tap);
  assert.equal(small.opts.has(119), false);
  assert.ok(small.f.length - 14 <= 576);
});

Deno.test("dhcp() reads options from sname and file with option overload", () => {
  const { tap } = run(
    frame(bootp([52, 1, 3, 255], { file: [53, 1, DHCPDISCOVER, 255], sname: [55, 1, 54, 255] })),
  );
  const r = reply(tap);
  assert.deepEqual(r.opts.get(53), [DHCPOFFER]);
  assert.equal(r.order[0], 54);
});

Deno.test("dhcp() drops bogus options", () => {
  const cases: [string, Uint8Array][] = [
    ["length past the end", frame(bootp([53, 1, 1, 55, 200, 1, 3]))],
    ["length byte missing", frame(bootp([53, 1, 1, 55]))],
    ["bad message type length", frame(bootp([53, 2, 1, 1, 255]))],
    [
      "overload pointing at garbage",
      frame(bootp([53, 1, 1, 52, 1, 1, 255], { file: [1, 250, 9] })),
    ],
    [
      "overload inside the overloaded field (a loop)",
      frame(bootp([53, 1, 1, 52, 1, 1, 255], { file: [52, 1, 1, 255] })),
    ],
    ["bad overload value", frame(bootp([53, 1, 1, 52, 1, 7, 255]))],
    [
      "bad magic",
      (() => {
        const f = request(DHCPDISCOVER);
        f[42 + 236] = 0;
        return f;
      })(),
    ],
    ["BOOTREPLY", request(DHCPDISCOVER, [], { op: 2 })],
  ];
  for (const [name, f] of cases) {
    const { tap, ret } = run(f);
    assert.equal(ret, true, name);
    assert.equal(tap.frames.length, 0, name);
  }
});

Deno.test("dhcp() tolerates pad options, zero-length options and a missing end marker", () => {
  const r = run(frame(bootp([0, 0, 12, 0, 53, 1, DHCPDISCOVER, 0, 0])));
  assert.deepEqual(reply(r.tap).opts.get(53), [DHCPOFFER]);
});

Deno.test("dhcp() checks IPv4 and UDP framing", () => {
  const good = request(DHCPDISCOVER);
  const badUdpLen = good.slice();
  new DataView(badUdpLen.buffer).setUint16(34 + 4, 100);
  assert.equal(run(badUdpLen).tap.frames.length, 0);
  const otherPort = good.slice();
  otherPort[37] = 68;
  assert.equal(run(otherPort).ret, false);
  const c = testCtx();
  c.conf.noDhcp = true;
  assert.equal(run(good, c).ret, false);
  assert.equal(run(good, c).tap.frames.length, 0);
});

Deno.test("dhcp() never throws on truncated or corrupted requests", () => {
  const base = request(DHCPREQUEST, [55, 4, 1, 3, 6, 119, 57, 2, 2, 64, 52, 1, 3]);
  // Aim most flips at the options and the overloaded fields.
  const at = (r: () => number, len: number): number =>
    r() % 2 ? 42 + 236 + (r() % (len - 42 - 236)) : r() % len;
  feedCorrupted(base, 3000, 8, 8, at, (f) => run(f));
});

Deno.test("writeDomainName() encodes labels and rejects bad names", () => {
  const out = new Uint8Array(64);
  assert.equal(writeDomainName(out, 0, 64, "a.bc."), 6);
  assert.deepEqual([...out.subarray(0, 6)], [1, 97, 2, 98, 99, 0]);
  for (const bad of ["", ".", "a..b", ".a", "x".repeat(64) + ".com", "sp ace.com"]) {
    assert.equal(writeDomainName(out, 0, 64, bad), -1, JSON.stringify(bad));
  }
  assert.equal(writeDomainName(out, 0, 5, "abc.de"), -1, "does not fit");
});

Deno.test("encodeSearchList() compresses repeated suffixes", () => {
  const out = new Uint8Array(256);
  const n = encodeSearchList(["example.com", "lab.example.com", "EXAMPLE.com", "bad..name"], out);
  // 13 bytes for example.com, 4 + 2 for lab.<ptr>, 2 for a pointer to example.com.
  assert.equal(n, 13 + 6 + 2);
  assert.deepEqual([...out.subarray(13, 21)], [3, 108, 97, 98, 0xc0, 0, 0xc0, 0]);
  assert.deepEqual(decodeNames([...out.subarray(0, n)]), [
    "example.com",
    "lab.example.com",
    "example.com",
  ]);
});

Deno.test("dhcp() sends -H as option 12 and --fqdn as option 81, as upstream", () => {
  const c = testCtx({ hostname: "box", fqdn: "box.example.com" });
  const r = reply(run(request(DHCPDISCOVER, [55, 2, 81, 12]), c).tap);
  assert.deepEqual(r.opts.get(12), [...new TextEncoder().encode("box")]);
  const o81 = r.opts.get(81)!;
  assert.deepEqual(o81.slice(0, 3), [0x04, 0xff, 0xff], "flags E, RCODE1, RCODE2");
  assert.deepEqual(decodeNames(o81.slice(3)), ["box.example.com"]);
  assert.deepEqual(r.order.slice(0, 2), [81, 12], "requested first");
  // Not requested: sent all the same, in ascending order
  const r2 = reply(run(request(DHCPDISCOVER), c).tap);
  assert.deepEqual(r2.order, [1, 3, 6, 12, 26, 51, 53, 54, 81, 119]);
  // Without -H and --fqdn: neither option
  const r3 = reply(run(request(DHCPDISCOVER)).tap);
  assert.equal(r3.opts.has(12) || r3.opts.has(81), false);
  // A name that leaves no room for the flags is left out, as upstream
  const long = testCtx({ fqdn: "a".repeat(251) });
  assert.equal(reply(run(request(DHCPDISCOVER), long).tap).opts.has(81), false);
  const fits = testCtx({ fqdn: "a".repeat(250) });
  assert.equal(reply(run(request(DHCPDISCOVER), fits).tap).opts.get(81)!.length, 255);
});

Deno.test("encodeNameAsUpstream() writes label lengths in place of dots, unchecked", () => {
  const out = new Uint8Array(32);
  const enc = (s: string): number[] => {
    const n = encodeNameAsUpstream(out, 0, out.length, new TextEncoder().encode(s));
    return n < 0 ? [] : [...out.subarray(0, n)];
  };
  assert.deepEqual(enc("a.bc"), [1, 97, 2, 98, 99, 0]);
  assert.deepEqual(enc("a."), [1, 97, 0, 0]);
  assert.deepEqual(enc("x"), [1, 120, 0]);
  assert.equal(encodeNameAsUpstream(out, 0, 4, new TextEncoder().encode("abc")), -1);
});
