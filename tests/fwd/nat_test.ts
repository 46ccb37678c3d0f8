// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import type { Ctx } from "../../src/context.ts";
import * as nat from "../../src/fwd/nat.ts";
import * as inany from "../../src/wire/inany.ts";
import { formatIp4, formatIp6, parseIp4, parseIp6 } from "../../src/ip.ts";
import { ip4, ip6, testCtx } from "../_helpers/frames.ts";

// The test context: guest 192.0.2.10 / 2001:db8:1:2::10, gateway 192.0.2.1 /
// fe80::1 (also the default --map-host-loopback), our link-local fe80::1234.

const TCP = nat.IPPROTO_TCP, UDP = nat.IPPROTO_UDP;
const ICMP = nat.IPPROTO_ICMP, ICMP6 = nat.IPPROTO_ICMPV6;
const PROTOS = [["TCP", TCP], ["UDP", UDP], ["ICMP", ICMP]] as const;

function words(s: string): Uint32Array {
  const w = new Uint32Array(4);
  const a4 = parseIp4(s);
  if (a4 !== null) inany.setV4(w, 0, a4);
  else w.set(parseIp6(s)!);
  return w;
}

function fmt(w: Uint32Array, o: number): string {
  if (inany.isV4(w, o)) return formatIp4(w[o + 3]!);
  return formatIp6(w.subarray(o, o + 4));
}

/** A flowside as text: "eaddr:eport <- oaddr:oport". */
interface Side {
  e: string;
  ep: number;
  o: string;
  op: number;
}

function side(f: Uint32Array, o: number): Side {
  return {
    e: fmt(f, o + nat.EADDR),
    ep: f[o + nat.EPORT]!,
    o: fmt(f, o + nat.OADDR),
    op: f[o + nat.OPORT]!,
  };
}

function ini(s: Side): Uint32Array {
  const f = new Uint32Array(2 * nat.SIDE_WORDS).fill(0xdeadbeef);
  f.set(words(s.e), nat.EADDR);
  f.set(words(s.o), nat.OADDR);
  f[nat.EPORT] = s.ep;
  f[nat.OPORT] = s.op;
  return f;
}

type Patch = (c: Ctx) => void;
const none: Patch = () => {};
const noMapGw: Patch = (c) => {
  c.conf.ip4.mapHostLoopback = 0;
  c.conf.ip6.mapHostLoopback = new Uint32Array(4);
};
const mapHl: Patch = (c) => {
  c.conf.ip4.mapHostLoopback = ip4("192.0.2.2");
  c.conf.ip6.mapHostLoopback = ip6("2001:db8:1:2::2");
};
const mapGa: Patch = (c) => {
  c.conf.ip4.mapGuestAddr = ip4("192.0.2.3");
  c.conf.ip6.mapGuestAddr = ip6("2001:db8:1:2::3");
};
const dns: Patch = (c) => {
  c.conf.ip4.dnsMatch = ip4("192.0.2.53");
  c.conf.ip4.dnsHost = ip4("127.0.0.53");
  c.conf.ip6.dnsMatch = ip6("2001:db8:1:2::53");
  c.conf.ip6.dnsHost = ip6("::1");
};
const addrOut: Patch = (c) => {
  c.conf.ip4.addrOut = ip4("198.51.100.7");
  c.conf.ip6.addrOut = ip6("2001:db8:9::7");
};

function ctx(mode: "passt" | "pasta", ...patches: Patch[]): Ctx {
  const c = testCtx({ mode, noSplice: mode === "passt" });
  // As newCtx() at start-up: the guest is seen at its configured addresses.
  c.ip4AddrSeen = c.conf.ip4.addr;
  c.ip6AddrSeen.set(c.conf.ip6.addr);
  c.ip6AddrLlSeen.set(ip6("fe80::5"));
  for (const p of patches) p(c);
  return c;
}

// -- from the guest ----------------------------------------------------------

interface TapCase {
  name: string;
  patch: Patch;
  /** Guest source and destination. */
  src: string;
  dst: string;
  dport?: number;
  /** Expected host destination and source (unspecified: the kernel's choice). */
  to: string;
  from: string;
  protos?: readonly (readonly [string, number])[];
}

const TAP_CASES: TapCase[] = [
  {
    name: "any address goes as is",
    patch: none,
    src: "192.0.2.10",
    dst: "203.0.113.5",
    to: "203.0.113.5",
    from: "0.0.0.0",
  },
  {
    name: "gateway is the host's loopback",
    patch: none,
    src: "192.0.2.10",
    dst: "192.0.2.1",
    to: "127.0.0.1",
    from: "0.0.0.0",
  },
  { name: "gateway v6", patch: none, src: "fe80::5", dst: "fe80::1", to: "::1", from: "::" },
  {
    name: "--map-host-loopback none: gateway is the gateway",
    patch: noMapGw,
    src: "192.0.2.10",
    dst: "192.0.2.1",
    to: "192.0.2.1",
    from: "0.0.0.0",
  },
  {
    name: "--map-host-loopback none v6",
    patch: noMapGw,
    src: "fe80::5",
    dst: "fe80::1",
    to: "fe80::1",
    from: "::",
  },
  {
    name: "--map-host-loopback ADDR",
    patch: mapHl,
    src: "192.0.2.10",
    dst: "192.0.2.2",
    to: "127.0.0.1",
    from: "0.0.0.0",
  },
  {
    name: "--map-host-loopback ADDR: gateway no longer mapped",
    patch: mapHl,
    src: "192.0.2.10",
    dst: "192.0.2.1",
    to: "192.0.2.1",
    from: "0.0.0.0",
  },
  {
    name: "--map-host-loopback ADDR v6",
    patch: mapHl,
    src: "2001:db8:1:2::10",
    dst: "2001:db8:1:2::2",
    to: "::1",
    from: "::",
  },
  {
    name: "--map-guest-addr",
    patch: mapGa,
    src: "192.0.2.10",
    dst: "192.0.2.3",
    to: "192.0.2.10",
    from: "0.0.0.0",
  },
  {
    name: "--map-guest-addr v6",
    patch: mapGa,
    src: "2001:db8:1:2::10",
    dst: "2001:db8:1:2::3",
    to: "2001:db8:1:2::10",
    from: "::",
  },
  {
    name: "-o sets the source",
    patch: addrOut,
    src: "192.0.2.10",
    dst: "203.0.113.5",
    to: "203.0.113.5",
    from: "198.51.100.7",
  },
  {
    name: "-o v6",
    patch: addrOut,
    src: "2001:db8:1:2::10",
    dst: "2001:db8::5",
    to: "2001:db8::5",
    from: "2001:db8:9::7",
  },
  {
    name: "--dns-forward port 53 goes to --dns-host",
    patch: dns,
    src: "192.0.2.10",
    dst: "192.0.2.53",
    dport: 53,
    to: "127.0.0.53",
    from: "0.0.0.0",
    protos: [["TCP", TCP], ["UDP", UDP]],
  },
  {
    name: "--dns-forward port 853 too",
    patch: dns,
    src: "192.0.2.10",
    dst: "192.0.2.53",
    dport: 853,
    to: "127.0.0.53",
    from: "0.0.0.0",
    protos: [["TCP", TCP], ["UDP", UDP]],
  },
  {
    name: "--dns-forward v6",
    patch: dns,
    src: "2001:db8:1:2::10",
    dst: "2001:db8:1:2::53",
    dport: 53,
    to: "::1",
    from: "::",
    protos: [["TCP", TCP], ["UDP", UDP]],
  },
  {
    name: "--dns-forward address, other port: as is",
    patch: dns,
    src: "192.0.2.10",
    dst: "192.0.2.53",
    dport: 80,
    to: "192.0.2.53",
    from: "0.0.0.0",
  },
  {
    name: "--dns-forward address, ICMP: as is",
    patch: dns,
    src: "192.0.2.10",
    dst: "192.0.2.53",
    dport: 53,
    to: "192.0.2.53",
    from: "0.0.0.0",
    protos: [["ICMP", ICMP]],
  },
];

for (const tc of TAP_CASES) {
  for (const [pname, proto0] of tc.protos ?? PROTOS) {
    const v6 = parseIp4(tc.dst) === null;
    const proto = proto0 === ICMP && v6 ? ICMP6 : proto0;
    Deno.test(`nat from tap (${pname}, ${v6 ? "v6" : "v4"}): ${tc.name}`, () => {
      const c = ctx("pasta", tc.patch);
      const dport = tc.dport ?? 8080;
      const f = ini({ e: tc.src, ep: 40000, o: tc.dst, op: dport });
      const pif = nat.natFromTap(c, proto, f, 0, f, nat.SIDE_WORDS);
      assert.equal(pif, nat.PIF_HOST);
      // UDP keeps the guest's source port; TCP and ICMP leave it to the kernel.
      assert.deepEqual(side(f, nat.SIDE_WORDS), {
        e: tc.to,
        ep: dport,
        o: tc.from,
        op: proto === UDP ? 40000 : 0,
      });
    });
  }
}

// -- from the host -----------------------------------------------------------

interface HostCase {
  name: string;
  mode: "passt" | "pasta";
  patch: Patch;
  flags?: Partial<{ noSplice: boolean; spliceOnly: boolean; hostLoToNsLo: boolean }>;
  /** Peer address (and the address it reached, for loopback). */
  peer: string;
  local: string;
  taddr?: string;
  pif: number;
  /** Expected guest-side destination and source. */
  to?: string;
  from?: string;
  protos?: readonly (readonly [string, number])[];
}

const TP = [["TCP", TCP], ["UDP", UDP]] as const;
/** A loopback peer not spliced reaches the guest's address from the gateway. */
const LOOPBACK_VIA_TAP = {
  peer: "127.0.0.1",
  local: "127.0.0.1",
  pif: nat.PIF_TAP,
  to: "192.0.2.10",
  from: "192.0.2.1",
} as const;
/** With --host-lo-to-ns-lo, a loopback peer is spliced to the namespace's loopback. */
const LOOPBACK_TO_NS_LO = {
  peer: "127.0.0.1",
  local: "127.0.0.1",
  pif: nat.PIF_SPLICE,
  to: "127.0.0.1",
  from: "0.0.0.0",
  protos: TP,
} as const;
const HOST_CASES: HostCase[] = [
  {
    name: "remote peer: as is, to the guest",
    mode: "passt",
    patch: none,
    peer: "203.0.113.5",
    local: "192.0.2.10",
    pif: nat.PIF_TAP,
    to: "192.0.2.10",
    from: "203.0.113.5",
  },
  {
    name: "remote peer v6",
    mode: "passt",
    patch: none,
    peer: "2001:db8::5",
    local: "2001:db8:1:2::10",
    pif: nat.PIF_TAP,
    to: "2001:db8:1:2::10",
    from: "2001:db8::5",
  },
  {
    name: "loopback peer in passt: from the gateway",
    mode: "passt",
    patch: none,
    ...LOOPBACK_VIA_TAP,
  },
  {
    name: "loopback peer v6 in passt: from the gateway",
    mode: "passt",
    patch: none,
    peer: "::1",
    local: "::1",
    pif: nat.PIF_TAP,
    to: "fe80::5",
    from: "fe80::1",
  },
  {
    name: "127.0.0.2 isn't 127.0.0.1: from our tap address",
    mode: "passt",
    patch: mapHl,
    peer: "127.0.0.2",
    local: "127.0.0.2",
    pif: nat.PIF_TAP,
    to: "192.0.2.10",
    from: "192.0.2.1",
  },
  {
    name: "--map-host-loopback ADDR: loopback shown as ADDR",
    mode: "passt",
    patch: mapHl,
    peer: "127.0.0.1",
    local: "127.0.0.1",
    pif: nat.PIF_TAP,
    to: "192.0.2.10",
    from: "192.0.2.2",
  },
  {
    name: "--map-host-loopback ADDR v6",
    mode: "passt",
    patch: mapHl,
    peer: "::1",
    local: "::1",
    pif: nat.PIF_TAP,
    to: "2001:db8:1:2::10",
    from: "2001:db8:1:2::2",
  },
  {
    name: "--map-host-loopback none: loopback from our tap address",
    mode: "passt",
    patch: noMapGw,
    ...LOOPBACK_VIA_TAP,
  },
  {
    name: "--map-host-loopback none v6: from our link-local",
    mode: "passt",
    patch: noMapGw,
    peer: "::1",
    local: "::1",
    pif: nat.PIF_TAP,
    to: "fe80::5",
    from: "fe80::1",
  },
  {
    name: "the host's own address (the guest's): from our tap address",
    mode: "passt",
    patch: none,
    peer: "192.0.2.10",
    local: "192.0.2.10",
    pif: nat.PIF_TAP,
    to: "192.0.2.10",
    from: "192.0.2.1",
  },
  {
    name: "--map-guest-addr: the host's own address shown as ADDR",
    mode: "passt",
    patch: mapGa,
    peer: "192.0.2.10",
    local: "192.0.2.10",
    pif: nat.PIF_TAP,
    to: "192.0.2.10",
    from: "192.0.2.3",
  },
  {
    name: "--map-guest-addr v6",
    mode: "passt",
    patch: mapGa,
    peer: "2001:db8:1:2::10",
    local: "2001:db8:1:2::10",
    pif: nat.PIF_TAP,
    to: "2001:db8:1:2::10",
    from: "2001:db8:1:2::3",
  },
  {
    name: "target address of the rule",
    mode: "passt",
    patch: none,
    peer: "203.0.113.5",
    local: "192.0.2.10",
    taddr: "192.0.2.77",
    pif: nat.PIF_TAP,
    to: "192.0.2.77",
    from: "203.0.113.5",
  },
  {
    name: "pasta, loopback peer: spliced to the namespace's address",
    mode: "pasta",
    patch: none,
    peer: "127.0.0.1",
    local: "127.0.0.1",
    pif: nat.PIF_SPLICE,
    to: "192.0.2.10",
    from: "0.0.0.0",
    protos: TP,
  },
  {
    name: "pasta, loopback peer v6: spliced",
    mode: "pasta",
    patch: none,
    peer: "::1",
    local: "::1",
    pif: nat.PIF_SPLICE,
    to: "2001:db8:1:2::10",
    from: "::",
    protos: TP,
  },
  {
    name: "pasta --host-lo-to-ns-lo: spliced to the namespace's loopback",
    mode: "pasta",
    patch: none,
    flags: { hostLoToNsLo: true },
    ...LOOPBACK_TO_NS_LO,
  },
  {
    name: "pasta --host-lo-to-ns-lo v6",
    mode: "pasta",
    patch: none,
    flags: { hostLoToNsLo: true },
    peer: "::1",
    local: "::1",
    pif: nat.PIF_SPLICE,
    to: "::1",
    from: "::",
    protos: TP,
  },
  {
    name: "pasta --no-splice: loopback peer through the tap",
    mode: "pasta",
    patch: none,
    flags: { noSplice: true },
    ...LOOPBACK_VIA_TAP,
  },
  {
    name: "pasta --splice-only: remote peer refused",
    mode: "pasta",
    patch: none,
    flags: { spliceOnly: true, hostLoToNsLo: true },
    peer: "203.0.113.5",
    local: "192.0.2.10",
    pif: nat.PIF_NONE,
  },
  {
    name: "pasta --splice-only: loopback peer spliced",
    mode: "pasta",
    patch: none,
    flags: { spliceOnly: true, hostLoToNsLo: true },
    ...LOOPBACK_TO_NS_LO,
  },
  {
    name: "pasta, ICMP from loopback: never spliced",
    mode: "pasta",
    patch: none,
    ...LOOPBACK_VIA_TAP,
    protos: [["ICMP", ICMP]],
  },
  {
    name: "pasta, target address: not spliced",
    mode: "pasta",
    patch: none,
    peer: "127.0.0.1",
    local: "127.0.0.1",
    taddr: "192.0.2.77",
    pif: nat.PIF_TAP,
    to: "192.0.2.77",
    from: "192.0.2.1",
  },
];

for (const hc of HOST_CASES) {
  for (const [pname, proto] of hc.protos ?? PROTOS) {
    const v6 = parseIp4(hc.peer) === null;
    Deno.test(`nat from host (${hc.mode}, ${pname}, ${v6 ? "v6" : "v4"}): ${hc.name}`, () => {
      const c = ctx(hc.mode, hc.patch);
      Object.assign(c.conf, hc.flags ?? {});
      const rule: nat.NatRule = {
        first: 8000,
        to: 9000,
        taddr: hc.taddr ? words(hc.taddr) : new Uint32Array(4),
      };
      const f = ini({ e: hc.peer, ep: 50000, o: hc.local, op: 8005 });
      const pif = nat.natFromHost(c, rule, proto, f, 0, f, nat.SIDE_WORDS);
      assert.equal(pif, hc.pif, nat.PIF_NAMES[pif]);
      if (pif === nat.PIF_NONE) return;
      const t = side(f, nat.SIDE_WORDS);
      assert.equal(t.e, hc.to);
      assert.equal(t.ep, 9005, "target port: the rule's");
      assert.equal(t.o, hc.from);
      const keep = pif === nat.PIF_TAP || proto === UDP;
      assert.equal(t.op, keep ? 50000 : 0);
    });
  }
}

// -- from the namespace (splice) ---------------------------------------------

Deno.test("nat from splice: loopback to loopback, the rule's port, TCP picks its source port", () => {
  const rule: nat.NatRule = { first: 5000, to: 6000, taddr: new Uint32Array(4) };
  for (const lo of ["127.0.0.1", "::1"]) {
    for (const proto of [TCP, UDP]) {
      const f = ini({ e: lo, ep: 41000, o: lo, op: 5002 });
      assert.equal(nat.natFromSplice(rule, proto, f, 0, f, nat.SIDE_WORDS), nat.PIF_HOST);
      assert.deepEqual(side(f, nat.SIDE_WORDS), {
        e: lo,
        ep: 6002,
        o: lo,
        op: proto === UDP ? 41000 : 0,
      });
    }
  }
  const f = ini({ e: "192.0.2.10", ep: 41000, o: "127.0.0.1", op: 5002 });
  assert.equal(nat.natFromSplice(rule, TCP, f, 0, f, nat.SIDE_WORDS), nat.PIF_NONE);
});

Deno.test("nat inbound: 127.0.0.1 only, guest's own address only with --map-guest-addr", () => {
  const c = ctx("passt", mapGa);
  const out = new Uint32Array(4);
  assert.ok(nat.natInbound(c, words("127.0.0.1"), 0, out, 0));
  assert.equal(fmt(out, 0), "192.0.2.1");
  assert.equal(nat.natInbound(c, words("127.0.0.2"), 0, out, 0), false);
  assert.equal(nat.natInbound(c, words("0.0.0.0"), 0, out, 0), false);
  assert.ok(nat.natInbound(c, words("192.0.2.10"), 0, out, 0));
  assert.equal(fmt(out, 0), "192.0.2.3");
  assert.ok(nat.natInbound(c, words("198.51.100.1"), 0, out, 0));
  assert.equal(fmt(out, 0), "198.51.100.1");
});

Deno.test("unicast: unspecified, broadcast and multicast are not", () => {
  for (const a of ["0.0.0.0", "255.255.255.255", "224.0.0.1", "239.1.2.3", "::", "ff02::1"]) {
    assert.equal(inany.isUnicast(words(a), 0), false, a);
  }
  for (const a of ["192.0.2.1", "127.0.0.1", "10.255.255.255", "::1", "fe80::1", "2001:db8::1"]) {
    assert.equal(inany.isUnicast(words(a), 0), true, a);
  }
});
