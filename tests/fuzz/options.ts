// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `options.ts` - fuzz target "options": DHCP, DHCPv6, NDP (and ARP) option parsing
 *
 * Theory of operation: frames come from the DHCP, DHCPv6, NDP and ARP generators of
 * `_gen.ts` (zero-length, overlong, truncated and repeated options, overloaded sname/file,
 * client identifiers of 0 to 130 bytes, IA options nested in IA options), mutated half of
 * the time. Every frame goes to each of the four handlers three times: at the very end of a
 * buffer that holds nothing else after it (a `DataView` read past the frame throws), then
 * followed by two different poison patterns (bytes that are option codes we answer and
 * plausible lengths). The three runs must not throw and must give the same answer and the same
 * reply bytes: a difference means the handler read bytes beyond the frame. Bytes after the IP
 * packet (padding) are cut off first: they are outside the packet as well. Every reply must pass {@linkcode checkFrame}. The context the handlers update
 * (addresses seen) is restored before each run.
 *
 * @module
 */

import { arp } from "../../src/proto/arp.ts";
import { dhcp } from "../../src/proto/dhcp.ts";
import { dhcpv6 } from "../../src/proto/dhcpv6.ts";
import { ndp } from "../../src/proto/ndp.ts";
import type { Ctx } from "../../src/context.ts";
import { FakeTap, type InlineHandler } from "../_helpers/fake_tap.ts";
import { GUEST_MAC, testCtx } from "../_helpers/frames.ts";
import { arpFrame, dhcpFrame, dhcpv6Frame, icmpv6Frame } from "./_gen.ts";
import {
  checkFrame,
  defineTarget,
  FuzzFailure,
  hex,
  mutate,
  Rng,
  type Run,
  type Stats,
} from "./_lib.ts";

type Handler = InlineHandler;

const HANDLERS: [string, Handler][] = [
  ["arp", arp],
  ["dhcp", dhcp],
  ["dhcpv6", dhcpv6],
  ["ndp", (c, tap, u8, dv, off, len) => ndp(c, tap, u8, dv, off, len, 1000)],
];

const BEFORE = 64;
const AFTER = 256;

/** The handlers' sink and the context, with what they change saved and restored. */
class Rig {
  readonly c = testCtx();
  readonly out = new FakeTap(4);
  readonly #mac = new Uint8Array(6);
  readonly #seen6 = new Uint32Array(4);
  readonly #seenLl = new Uint32Array(4);
  #seen4 = 0;
  replies = 0;

  constructor() {
    this.c.macGuest.set(GUEST_MAC);
    this.c.ip4AddrSeen = this.c.conf.ip4.addr;
    this.#save();
  }

  #save(): void {
    this.#mac.set(this.c.macGuest);
    this.#seen6.set(this.c.ip6AddrSeen);
    this.#seenLl.set(this.c.ip6AddrLlSeen);
    this.#seen4 = this.c.ip4AddrSeen;
  }

  #restore(): void {
    this.c.macGuest.set(this.#mac);
    this.c.ip6AddrSeen.set(this.#seen6);
    this.c.ip6AddrLlSeen.set(this.#seenLl);
    this.c.ip4AddrSeen = this.#seen4;
  }

  /** One handler on `frame` with `after` bytes of `poison` behind it: answer and replies. */
  once(h: Handler, frame: Uint8Array, after: number, poison: number): string {
    this.#restore();
    this.out.clear();
    const u8 = new Uint8Array(BEFORE + frame.length + after);
    u8.fill(poison);
    u8.set(frame, BEFORE);
    const dv = new DataView(u8.buffer);
    const ok = h(this.c, this.out, u8, dv, BEFORE, frame.length);
    let s = ok ? "1" : "0";
    for (let i = 0; i < this.out.frames.length; i++) {
      const f = this.out.frames[i]!;
      const bad = checkFrame(this.out.u8, f.off, f.len);
      if (bad) throw new Error(`malformed reply: ${bad}`);
      s += ":" + hex(this.out.frame(i), 1 << 17);
    }
    return s;
  }

  check(whole: Uint8Array): void {
    // Bytes after the IP packet (Ethernet padding) are outside it too: cut them off.
    const frame = ipCut(whole);
    for (const [name, h] of HANDLERS) {
      let a: string, b: string, c: string;
      try {
        // Poison bytes that mean something: option codes we answer, plausible lengths.
        a = this.once(h, frame, 0, 0x00);
        b = this.once(h, frame, AFTER, 0x79);
        c = this.once(h, frame, AFTER, 0x1a);
      } catch (e) {
        throw new FuzzFailure(`${name}: ${e} (frame ${hex(frame)})`, frame, e);
      }
      if (a !== b || b !== c) {
        throw new FuzzFailure(
          `${name}: answer depends on bytes outside the frame (frame ${hex(frame)})`,
          frame,
        );
      }
      if (a.length > 1) this.replies++;
    }
  }
}

/** The frame up to the end of its IP packet, when the IP header says where that is. */
function ipCut(f: Uint8Array): Uint8Array {
  if (f.length < 14 + 20) return f;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const type = dv.getUint16(12);
  let end = f.length;
  if (type === 0x0800 && f[14]! >> 4 === 4) end = 14 + dv.getUint16(16);
  else if (type === 0x86dd && f.length >= 54 && f[14]! >> 4 === 6) end = 54 + dv.getUint16(18);
  return end >= 14 && end < f.length ? f.subarray(0, end) : f;
}

function gen(rng: Rng, c: Ctx): Uint8Array {
  const r = rng.below(4);
  const f = r === 0
    ? dhcpFrame(rng, c)
    : r === 1
    ? dhcpv6Frame(rng, c)
    : r === 2
    ? icmpv6Frame(rng, c)
    : arpFrame(rng, c);
  if (rng.oneIn(2)) return f;
  const cap = f.length + 512;
  const buf = new Uint8Array(cap);
  buf.set(f);
  return buf.slice(0, mutate(rng, buf, f.length, cap, rng.range(1, 3), f.length));
}

/** The options target. */
export const options = defineTarget({
  name: "options",
  needsNet: false,
  run({ opts, rng, progress }: Run): Stats {
    const rig = new Rig();
    for (let i = 1; i <= opts.inputs; i++) {
      rig.check(gen(rng, rig.c));
      progress.tick(i);
    }
    return { inputs: opts.inputs, counters: { replies: rig.replies } };
  },
  replay(input: Uint8Array): void {
    new Rig().check(input);
  },
});
