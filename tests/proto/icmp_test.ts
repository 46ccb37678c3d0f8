// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// proto/icmp.ts over a real tap path and loop: the guest pings the gateway,
// which stands for the host's loopback, through real ping sockets, and the
// replies come back to it from the address it pinged, with its identifier.

import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import { newFlowTable } from "../../src/flow/flow.ts";
import { Icmp, ICMP_ECHO_TIMEOUT } from "../../src/proto/icmp.ts";
import { csumFold, l4Checksum6, sum16 } from "../../src/wire/checksum.ts";
import * as icmp from "../../src/wire/icmp.ts";
import * as icmpv6 from "../../src/wire/icmpv6.ts";
import {
  ether,
  GUEST_MAC,
  HOST_MAC,
  ip4,
  ip6,
  ipv4Packet,
  ipv6Packet,
  testCtx,
} from "../_helpers/frames.ts";
import { TapBench } from "../_helpers/tap_bench.ts";

const GUEST4 = ip4("192.0.2.10"), GW4 = ip4("192.0.2.1");
const GUEST6 = ip6("2001:db8:1:2::10"), GW6 = ip6("fe80::1");

/** Whether this host lets us open ping sockets (net.ipv4.ping_group_range). */
function canPing(): boolean {
  const fd = lib().pf_socket(2, 2 | 0o2000000, 1);
  if (fd < 0) return false;
  lib().pf_close(fd);
  return true;
}

/** An ICMP or ICMPv6 message: type, code 0, checksum, id, seq, payload. */
function echo(v6: boolean, type: number, id: number, seq: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  const dv = new DataView(b.buffer);
  icmp.setType(dv, 0, type);
  icmp.setId(dv, 0, id);
  icmp.setSeq(dv, 0, seq);
  b.set(payload, 8);
  if (!v6) icmp.setChecksum(dv, 0, csumFold(sum16(b, 0, b.length, 0)));
  return b;
}

/** An echo request frame from the guest to its gateway. */
function request(v6: boolean, id: number, seq: number, payload: Uint8Array, type = -1): Uint8Array {
  if (v6) {
    const m = echo(true, type < 0 ? icmpv6.ECHO_REQUEST : type, id, seq, payload);
    return ether(HOST_MAC, GUEST_MAC, 0x86dd, ipv6Packet(GUEST6, GW6, 58, m, 2, 64));
  }
  const m = echo(false, type < 0 ? icmp.ECHO_REQUEST : type, id, seq, payload);
  return ether(HOST_MAC, GUEST_MAC, 0x0800, ipv4Packet(GUEST4, GW4, 1, m));
}

/** A reply the guest got, parsed and its checksums checked. */
interface Reply {
  v6: boolean;
  src: string;
  dst: string;
  type: number;
  id: number;
  seq: number;
  payload: Uint8Array;
  checksumOk: boolean;
}

function words(dv: DataView, off: number): string {
  return [0, 1, 2, 3].map((i) => dv.getUint32(off + 4 * i).toString(16)).join(":");
}

function hex6(w: Uint32Array): string {
  return [...w].map((x) => x.toString(16)).join(":");
}

function parseReply(f: Uint8Array): Reply | null {
  const dv = new DataView(f.buffer, f.byteOffset, f.length);
  const et = dv.getUint16(12);
  if (et === 0x0800 && dv.getUint8(23) === 1) {
    const l4 = 34, len = dv.getUint16(16) - 20;
    return {
      v6: false,
      src: dv.getUint32(26).toString(16),
      dst: dv.getUint32(30).toString(16),
      type: icmp.type(dv, l4),
      id: icmp.id(dv, l4),
      seq: icmp.seq(dv, l4),
      payload: f.slice(l4 + 8, l4 + len),
      checksumOk: csumFold(sum16(f, l4, len, 0)) === 0,
    };
  }
  if (et === 0x86dd && dv.getUint8(20) === 58) {
    const l4 = 54, len = dv.getUint16(18);
    return {
      v6: true,
      src: words(dv, 22),
      dst: words(dv, 38),
      type: icmpv6.type(dv, l4),
      id: icmpv6.id(dv, l4),
      seq: icmpv6.seq(dv, l4),
      payload: f.slice(l4 + 8, l4 + len),
      checksumOk: l4Checksum6(f, l4, len, 22, 38, 58) === 0,
    };
  }
  return null;
}

/** Tap + loop + ICMP over one arena and flow table, frames to the guest recorded. */
class Bench extends TapBench {
  readonly icmp: Icmp;

  constructor() {
    super(testCtx(), newFlowTable(1024));
    this.icmp = new Icmp(this.c, this.loop, this.tap, this.arena, this.flows);
    this.tap.handlers.icmp = (c, v6, l3, l4, len, now) =>
      this.icmp.tapHandler(c, v6, l3, l4, len, now);
  }

  /** Runs the loop until `n` replies reached the guest or 5 s passed; the replies. */
  replies(n: number): Reply[] {
    const end = performance.now() + 5000;
    let r: Reply[] = [];
    while (performance.now() < end) {
      this.loop.runOnce(10);
      r = this.out.map(parseReply).filter((x): x is Reply => x !== null);
      if (r.length >= n) break;
    }
    return r;
  }

  override close(): void {
    this.icmp.closeAll();
    super.close();
  }
}

const ignore = !canPing();
const PAYLOAD = new TextEncoder().encode("passt-deno ping payload 0123456789");

for (const v6 of [false, true]) {
  const fam = v6 ? "IPv6" : "IPv4";
  Deno.test({
    name: `icmp: ${fam} echo request to the gateway gets a reply from it, with the guest's id`,
    ignore,
    fn(): void {
      const b = new Bench();
      try {
        b.fromGuest([request(v6, 0x1234, 1, PAYLOAD), request(v6, 0x1234, 2, PAYLOAD)]);
        assert.equal(b.icmp.count, 1, "one flow for one identifier");
        const r = b.replies(2);
        assert.equal(r.length, 2);
        for (const [n, x] of r.entries()) {
          assert.equal(x.v6, v6);
          assert.equal(x.type, v6 ? icmpv6.ECHO_REPLY : icmp.ECHO_REPLY);
          assert.equal(x.id, 0x1234, "identifier restored from the flow");
          assert.equal(x.seq, n + 1);
          assert.deepEqual(x.payload, PAYLOAD);
          assert.ok(x.checksumOk, "checksum verifies");
          if (v6) {
            assert.equal(x.src, hex6(GW6), "from the address the guest pinged");
            assert.equal(x.dst, hex6(GUEST6));
          } else {
            assert.equal(x.src, GW4.toString(16), "from the address the guest pinged");
            assert.equal(x.dst, GUEST4.toString(16));
          }
        }
      } finally {
        b.close();
      }
    },
  });

  Deno.test({
    name: `icmp: ${fam} identifiers map to flows of their own, which time out`,
    ignore,
    fn(): void {
      const b = new Bench();
      try {
        const now = performance.now();
        b.fromGuest([request(v6, 7, 1, PAYLOAD), request(v6, 8, 1, PAYLOAD)], now);
        assert.equal(b.icmp.count, 2);
        const ids = b.replies(2).map((x) => x.id).sort((x, y) => x - y);
        assert.deepEqual(ids, [7, 8]);
        // A reply also counts as use: the loop handled them on the real clock, after `now`
        const used = performance.now();

        b.icmp.timer(now + ICMP_ECHO_TIMEOUT * 1000 - 1);
        assert.equal(b.icmp.count, 2, "not before the timeout");
        b.fromGuest([request(v6, 7, 2, PAYLOAD)], used + 30_000);
        b.icmp.timer(used + ICMP_ECHO_TIMEOUT * 1000 + 1);
        assert.equal(b.icmp.count, 1, "the idle one is closed, the used one kept");
        b.icmp.timer(used + 30_000 + ICMP_ECHO_TIMEOUT * 1000 + 1);
        assert.equal(b.icmp.count, 0);
      } finally {
        b.close();
      }
    },
  });

  Deno.test({
    name: `icmp: ${fam} messages other than echo requests, and short ones, open nothing`,
    ignore,
    fn(): void {
      const b = new Bench();
      try {
        const reply = v6 ? icmpv6.ECHO_REPLY : icmp.ECHO_REPLY;
        const unreach = v6 ? icmpv6.DEST_UNREACH : icmp.DEST_UNREACH;
        b.fromGuest([request(v6, 9, 1, PAYLOAD, reply), request(v6, 9, 1, PAYLOAD, unreach)]);
        // Four bytes: type, code and checksum of an echo request, no identifier
        const short = v6
          ? ether(
            HOST_MAC,
            GUEST_MAC,
            0x86dd,
            ipv6Packet(GUEST6, GW6, 58, Uint8Array.of(128, 0, 0, 0), -1),
          )
          : ether(
            HOST_MAC,
            GUEST_MAC,
            0x0800,
            ipv4Packet(GUEST4, GW4, 1, Uint8Array.of(8, 0, 0, 0)),
          );
        b.fromGuest([short]);
        assert.equal(b.icmp.count, 0);
        b.loop.runOnce(50);
        assert.equal(b.out.map(parseReply).filter((x) => x !== null).length, 0);
      } finally {
        b.close();
      }
    },
  });
}
