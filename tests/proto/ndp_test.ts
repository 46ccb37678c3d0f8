// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { ndp, ndpTimer } from "../../src/proto/ndp.ts";
import { l4Checksum6 } from "../../src/wire/checksum.ts";
import type { Ctx } from "../../src/context.ts";
import { FakeTap, onlyFrame, runInline } from "../_helpers/fake_tap.ts";
import {
  concat,
  ether,
  feedCorrupted,
  GUEST_LL,
  GUEST_MAC,
  guestMulticast6,
  HOST_MAC,
  ip6,
  ip6Bytes,
  ipv6Packet,
  testCtx,
} from "../_helpers/frames.ts";

const ALL_ROUTERS = ip6("ff02::2");
const LL_OPT = concat([1, 1], GUEST_MAC);

function rs(src = GUEST_LL, hop = 255): Uint8Array {
  const icmp = concat([133, 0, 0, 0, 0, 0, 0, 0], LL_OPT);
  return guestMulticast6(src, ALL_ROUTERS, 58, icmp, 2, hop);
}

function ns(target: Uint32Array, src = GUEST_LL): Uint8Array {
  const icmp = concat([135, 0, 0, 0, 0, 0, 0, 0], ip6Bytes(target), LL_OPT);
  const dst = ip6("ff02::1:ff00:1");
  return guestMulticast6(src, dst, 58, icmp, 2);
}

function run(f: Uint8Array, c?: Ctx): { tap: FakeTap; ret: boolean } {
  return runInline((c, tap, u8, dv, off, len) => ndp(c, tap, u8, dv, off, len, 0), f, c);
}

interface Icmp6 {
  f: Uint8Array;
  dv: DataView;
  /** Options by type (first instance) as [offset, length in bytes]. */
  opts: Map<number, [number, number]>;
}

/** Checks framing and checksum of a reply and indexes its ND options from `optStart`. */
function parse(tap: FakeTap, optStart: number, dstMac: Uint8Array, dst: Uint32Array): Icmp6 {
  const { f, dv } = onlyFrame(tap, 0x86dd, dstMac);
  assert.equal(f[14]! >> 4, 6);
  assert.equal(dv.getUint16(18), f.length - 54, "payload length");
  assert.equal(f[20], 58);
  assert.equal(f[21], 255, "hop limit");
  assert.deepEqual(f.subarray(22, 38), ip6Bytes(ip6("fe80::1")), "source = link-local gateway");
  assert.deepEqual(f.subarray(38, 54), ip6Bytes(dst));
  assert.equal(l4Checksum6(f, 54, f.length - 54, 22, 38, 58), 0, "ICMPv6 checksum");
  const opts = new Map<number, [number, number]>();
  for (let i = 54 + optStart; i < f.length;) {
    const l = f[i + 1]! * 8;
    assert.ok(l > 0 && i + l <= f.length, "option length");
    if (!opts.has(f[i]!)) opts.set(f[i]!, [i, l]);
    i += l;
  }
  return { f, dv, opts };
}

function names(f: Uint8Array, from: number, to: number): string[] {
  const out: string[] = [];
  let labels: string[] = [];
  for (let i = from; i < to;) {
    const l = f[i]!;
    if (l === 0) {
      if (labels.length) out.push(labels.join("."));
      labels = [];
      i++;
      continue;
    }
    labels.push(String.fromCharCode(...f.subarray(i + 1, i + 1 + l)));
    i += 1 + l;
  }
  return out;
}

Deno.test("ndp() answers RS with the RA rdisc6 shows: M flag, prefix, MTU, RDNSS, DNSSL", () => {
  const c = testCtx();
  const { tap, ret } = run(rs(), c);
  assert.equal(ret, true);
  const { f, dv, opts } = parse(tap, 16, GUEST_MAC, GUEST_LL);
  assert.equal(f[54], 134);
  assert.equal(f[55], 0);
  assert.equal(f[58], 255, "cur hop limit");
  assert.equal(f[59], 0x80, "M flag only");
  assert.equal(dv.getUint16(60), 9000, "router lifetime");
  assert.equal(dv.getUint32(62), 0);
  assert.equal(dv.getUint32(66), 0);

  const [pi, pl] = opts.get(3)!;
  assert.equal(pl, 32);
  assert.equal(f[pi + 2], 64);
  assert.equal(f[pi + 3], 0xc0, "L and A");
  assert.equal(dv.getUint32(pi + 4), 3600);
  assert.equal(dv.getUint32(pi + 8), 3600);
  assert.deepEqual(f.subarray(pi + 16, pi + 32), ip6Bytes(ip6("2001:db8:1:2::")));

  const [mi] = opts.get(5)!;
  assert.equal(dv.getUint32(mi + 4), 65520);

  const [ri, rl] = opts.get(25)!;
  assert.equal(rl, 8 + 32);
  assert.equal(dv.getUint32(ri + 4), 60);
  assert.deepEqual(f.subarray(ri + 8, ri + 24), ip6Bytes(ip6("2001:db8::53")));
  assert.deepEqual(f.subarray(ri + 24, ri + 40), ip6Bytes(ip6("2001:db8::5353")));

  const [di, dl] = opts.get(31)!;
  assert.equal(dl % 8, 0);
  assert.equal(dv.getUint32(di + 4), 60);
  assert.deepEqual(names(f, di + 8, di + dl), ["example.com", "lab.example.com"]);

  const [si] = opts.get(1)!;
  assert.deepEqual(f.subarray(si + 2, si + 8), HOST_MAC);
  assert.deepEqual(c.ip6AddrLlSeen, GUEST_LL, "solicitor recorded");
});

Deno.test("ndp() leaves out disabled RA options; DNSSL does not need RDNSS", () => {
  const c = testCtx();
  c.conf.mtu = 0;
  c.conf.dhcpDns = false;
  const { opts } = parse(run(rs(), c).tap, 16, GUEST_MAC, GUEST_LL);
  assert.equal(opts.has(5), false);
  assert.equal(opts.has(25), false);
  assert.equal(opts.has(31), true);
  c.conf.dhcpSearch = false;
  assert.equal(parse(run(rs(), c).tap, 16, GUEST_MAC, GUEST_LL).opts.has(31), false);
});

Deno.test("ndp() uses our link-local address when the gateway is global", () => {
  const c = testCtx();
  c.conf.ip6.gw = ip6("2001:db8:1:2::1");
  c.conf.ip6.addrLl = ip6("fe80::1"); // what parse() expects as source
  parse(run(rs(), c).tap, 16, GUEST_MAC, GUEST_LL);
});

Deno.test("ndp() answers an RS from :: to all-nodes", () => {
  const c = testCtx();
  parse(run(rs(ip6("::")), c).tap, 16, Uint8Array.of(0x33, 0x33, 0, 0, 0, 1), ip6("ff02::1"));
  assert.deepEqual(c.ip6AddrLlSeen, new Uint32Array(4));
});

Deno.test("ndp() answers NS with an NA (R, S, O) carrying our MAC", () => {
  const target = ip6("fe80::1");
  const { tap, ret } = run(ns(target));
  assert.equal(ret, true);
  const { f, opts } = parse(tap, 24, GUEST_MAC, GUEST_LL);
  assert.equal(f[54], 136);
  assert.equal(f[58], 0xe0);
  assert.deepEqual(f.subarray(62, 78), ip6Bytes(target));
  const [ti] = opts.get(2)!;
  assert.deepEqual(f.subarray(ti + 2, ti + 8), HOST_MAC);
  const global = run(ns(ip6("2001:db8::99"), ip6("2001:db8:1:2::10")));
  assert.equal(global.tap.frames.length, 1);
});

Deno.test("ndp() ignores DAD, NS for the guest's address, RA/NA and bad hop limits", () => {
  const c = testCtx();
  for (
    const [name, f] of [
      ["DAD", ns(ip6("fe80::1"), ip6("::"))],
      ["own global address", ns(ip6("2001:db8:1:2::10"))],
      ["own link-local address", ns(GUEST_LL)],
      ["multicast target", ns(ip6("ff02::1"))],
      ["hop limit 64", rs(GUEST_LL, 64)],
      [
        "RA",
        ether(
          HOST_MAC,
          GUEST_MAC,
          0x86dd,
          ipv6Packet(
            GUEST_LL,
            ALL_ROUTERS,
            58,
            Uint8Array.of(134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0),
            2,
          ),
        ),
      ],
    ] as [string, Uint8Array][]
  ) {
    const r = run(f, c);
    assert.equal(r.ret, true, name);
    assert.equal(r.tap.frames.length, 0, name);
  }
});

Deno.test("ndp() passes echo requests on and swallows NDP with --no-ndp or --no-ra", () => {
  const echo = ether(
    HOST_MAC,
    GUEST_MAC,
    0x86dd,
    ipv6Packet(GUEST_LL, ip6("fe80::1"), 58, Uint8Array.of(128, 0, 0, 0, 0, 1, 0, 1), 2),
  );
  assert.equal(run(echo).ret, false);
  const noNdp = testCtx({ noNdp: true });
  assert.equal(run(rs(), noNdp).ret, true);
  assert.equal(run(rs(), noNdp).tap.frames.length, 0);
  assert.equal(run(ns(ip6("fe80::1")), noNdp).tap.frames.length, 0);
  const noRa = testCtx({ noRa: true });
  assert.equal(run(rs(), noRa).tap.frames.length, 0);
  assert.equal(run(ns(ip6("fe80::1")), noRa).tap.frames.length, 1);
});

Deno.test("ndpTimer() sends unsolicited RAs to all-nodes every 10 to 30 s once the guest is seen", () => {
  const c = testCtx();
  const tap = new FakeTap(8);
  assert.ok(ndpTimer(c, tap, 1000) > 1000);
  assert.equal(tap.frames.length, 0, "no guest yet");
  c.ip6AddrLlSeen.set(GUEST_LL);
  const next = ndpTimer(c, tap, 5000);
  assert.equal(tap.frames.length, 1);
  assert.ok(next >= 15000 && next <= 35000, `next ${next}`);
  const f = tap.frame(0);
  assert.deepEqual(f.subarray(0, 6), Uint8Array.of(0x33, 0x33, 0, 0, 0, 1));
  assert.deepEqual(f.subarray(38, 54), ip6Bytes(ip6("ff02::1")));
  assert.equal(f[54], 134);
  assert.equal(l4Checksum6(f, 54, f.length - 54, 22, 38, 58), 0);
  assert.equal(ndpTimer(c, tap, next - 1), next);
  assert.equal(tap.frames.length, 1, "not due yet");
  ndpTimer(c, tap, next);
  assert.equal(tap.frames.length, 2);
  assert.equal(ndpTimer(testCtx({ noRa: true }), tap, 0), -1);
});

Deno.test("ndp() never throws on truncated or corrupted solicitations", () => {
  for (const base of [rs(), ns(ip6("fe80::1"))]) {
    feedCorrupted(base, 1500, 6, 4, (r, len) => 14 + (r() % (len - 14)), (f) => run(f));
  }
});
