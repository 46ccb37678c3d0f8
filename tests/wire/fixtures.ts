// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fixtures.ts` - real Ethernet frames for the wire tests
 *
 * Captured with an AF_PACKET socket on the peer of a veth pair in a user and
 * network namespace created for the purpose (`unshare -rn`), while Linux
 * 6.x, socat, busybox ping and udhcpc sent traffic from 02:00:00:00:00:01
 * (10.0.0.1, 2001:db8::1, fe80::ff:fe00:1) towards 02:00:00:00:00:02 (10.0.0.2,
 * 2001:db8::2). Each constant is one whole frame as hex.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Decodes a hex string (whitespace ignored) into bytes. */
export function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A frame copied into a fresh buffer at offset `at`, with views over the whole buffer. */
export function place(
  frame: Uint8Array,
  at = 0,
  size = at + frame.length,
): { u8: Uint8Array; dv: DataView } {
  const u8 = new Uint8Array(size);
  u8.set(frame, at);
  return { u8, dv: new DataView(u8.buffer) };
}

/** A header field: its setter, its getter, a value to write, and what the getter reads back if not that. */
export type Field = readonly [
  set: (dv: DataView, off: number, value: number) => void,
  get: (dv: DataView, off: number) => number,
  value: number,
  readBack?: number,
];

/**
 * Writes every field into a zeroed `len`-byte header, then reads each back, so
 * that no setter clobbers another's field; returns the header for more checks.
 */
export function assertFields(len: number, fields: readonly Field[]): DataView {
  const { dv } = place(new Uint8Array(len));
  for (const [set, , value] of fields) set(dv, 0, value);
  assert.deepEqual(
    fields.map(([, get]) => get(dv, 0)),
    fields.map(([, , value, readBack = value]) => readBack),
  );
  return dv;
}

/** ARP request who-has 10.0.0.2 tell 10.0.0.1 (no Ethernet padding). */
export const ARP_REQUEST = hex(
  "ffffffffffff020000000001080600010800060400010200000000010a000001" +
    "0000000000000a000002",
);

/** ICMP echo request 10.0.0.1 > 10.0.0.2, id 9511, seq 0, 56 bytes of data (busybox ping). */
export const ICMP4_ECHO = hex(
  "0200000000020200000000010800450000549a98400040018c0e0a0000010a00" +
    "0002080014f525270000b9bc0427000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "0000",
);

/** UDP 10.0.0.1.40277 > 10.0.0.2.5353, payload "hello\n" (socat); checksum 0xf5b4 as verified by tcpdump -vv (veth TX offload had left a partial sum). */
export const UDP4 = hex(
  "020000000002020000000001080045000022c1164000401165b20a0000010a00" +
    "00029d5514e9000ef5b468656c6c6f0a",
);

/** TCP SYN 10.0.0.1.60718 > 10.0.0.2.80, options mss 1460, sackOK, TS, nop, wscale 10; checksum 0xff7c as verified by tcpdump -vv (veth TX offload had left a partial sum). */
export const TCP4_SYN = hex(
  "02000000000202000000000108004500003c1f2d40004006078d0a0000010a00" +
    "0002ed2e0050fb6dc5b600000000a002faf0ff7c0000020405b40402080a80b1" +
    "0a38000000000103030a",
);

/** DHCPDISCOVER 0.0.0.0.68 > 255.255.255.255.67 from 02:00:00:00:00:01 (busybox udhcpc). */
export const DHCP_DISCOVER = hex(
  "ffffffffffff02000000000108004500014800000000401179a600000000ffff" +
    "ffff004400430134215a010106006442b0370000000000000000000000000000" +
    "0000000000000200000000010000000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000000000000000000000000" +
    "0000000000000000000000000000000000000000000063825363350101390202" +
    "4037070103060c0f1c2a3c0c756468637020312e33352e303d07010200000000" +
    "01ff0000000000000000000000000000000000000000",
);

/** MLDv2 report fe80::ff:fe00:1 > ff02::16 with a Hop-by-Hop options header (router alert). */
export const MLD2_REPORT = hex(
  "33330000001602000000000186dd6000000000240001fe800000000000000000" +
    "00fffe000001ff0200000000000000000000000000163a000502000001008f00" +
    "72070000000104000000ff0200000000000000000001ff000001",
);

/** router solicitation fe80::ff:fe00:1 > ff02::2. */
export const ICMP6_RS = hex(
  "33330000000202000000000186dd6000000000103afffe800000000000000000" +
    "00fffe000001ff02000000000000000000000000000285007b2c000000000101" +
    "020000000001",
);

/** neighbour solicitation 2001:db8::1 > ff02::1:ff00:3, who has 2001:db8::3, source link-layer option. */
export const ICMP6_NS = hex(
  "3333ff00000302000000000186dd6000000000203aff20010db8000000000000" +
    "000000000001ff0200000000000000000001ff00000387001c25000000002001" +
    "0db80000000000000000000000030101020000000001",
);

/** UDP 2001:db8::1.33830 > 2001:db8::2.5353, payload "hello\n" (socat); checksum 0xc771 as verified by tcpdump -vv (veth TX offload had left a partial sum). */
export const UDP6 = hex(
  "02000000000202000000000186dd600dc3a4000e114020010db8000000000000" +
    "00000000000120010db8000000000000000000000002842614e9000ec7716865" +
    "6c6c6f0a",
);

/** TCP SYN 2001:db8::1.37068 > 2001:db8::2.80, options mss 1440, sackOK, TS, nop, wscale 10; checksum 0xcd96 as verified by tcpdump -vv (veth TX offload had left a partial sum). */
export const TCP6_SYN = hex(
  "02000000000202000000000186dd600240180028064020010db8000000000000" +
    "00000000000120010db800000000000000000000000290cc00507fd2bf1a0000" +
    "0000a002fd20cd960000020405a00402080af0fe60dc000000000103030a",
);

/** ICMPv6 echo request 2001:db8::1 > 2001:db8::2, id 9708, seq 0, 56 bytes of data (busybox ping). */
export const ICMP6_ECHO = hex(
  "02000000000202000000000186dd600c88e300403a4020010db8000000000000" +
    "00000000000120010db80000000000000000000000028000d68625ec0000bf75" +
    "6827000000000000000000000000000000000000000000000000000000000000" +
    "00000000000000000000000000000000000000000000",
);
