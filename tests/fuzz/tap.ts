// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tap.ts` - fuzz target "tap": `Tap.process` with mutated frames and the real handlers
 *
 * Theory of operation: each input is a batch of one to eight frames from `_gen.ts`
 * (Ethernet, ARP, IPv4 with options and fragments, IPv6 with extension-header chains,
 * ICMP, ICMPv6 and NDP, UDP, DHCP, DHCPv6, TCP with any flags and options), half of them
 * mutated, sometimes several packets of one flow so that the tap sorts them into sequences.
 * The batch goes through {@linkcode Rig.inject} into `Tap.process`, then the loop runs so that
 * host replies (UDP echo, TCP accepts, ICMP echo replies from the loopback) come back. Every
 * frame sent to the guest is checked by the rig. Every 500 inputs, and at the end, the rig
 * drains: the loop must first sleep for 25 ms with the flows open (no more than a bounded number of
 * wake-ups that send nothing), then host peers close, TCP timers fire, the fake clock passes the UDP and ICMP
 * timeouts; the TCP table and UDP flows must be empty and the process must hold exactly the
 * descriptors it held at the start.
 *
 * The configuration is one of the rig's variants, the seed modulo their number. A failure stores
 * it and every batch since the last drain, so that the replay rebuilds the state.
 *
 * @module
 */

import { genMutatedFrame } from "./_gen.ts";
import {
  defineTarget,
  FuzzFailure,
  packParts,
  Rng,
  type Run,
  type Stats,
  unpackParts,
} from "./_lib.ts";
import { HOST, type Rig, RigSession, VARIANTS } from "./_rig.ts";

const DRAIN_EVERY = 500;

function batch(rng: Rng, rig: Rig): Uint8Array[] {
  const n = rng.oneIn(3) ? rng.range(2, 8) : 1;
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    if (k > 0 && rng.oneIn(2)) {
      // Same flow again: a copy of an earlier frame, lightly changed.
      const f = rng.pick(out).slice();
      if (f.length > 60) f[f.length - 1 - rng.below(8)] = rng.u32() & 0xff;
      out.push(f);
    } else out.push(genMutatedFrame(rng, rig.c, HOST));
  }
  return out;
}

/** Runs batches, draining after each window; returns the frames sent to the guest. */
class Session extends RigSession {
  readonly rng = new Rng(0x7a9);
  window: Uint8Array[][] = [];

  feed(b: Uint8Array[]): void {
    this.window.push(b);
    try {
      this.rig.inject(b, this.rng);
      this.rig.pump(2);
      if (this.rng.oneIn(50)) this.rig.advance(this.rng.range(1, 200_000));
    } catch (e) {
      throw new FuzzFailure(`exception from the tap path: ${e}`, this.corpus(), e);
    }
  }

  drain(): void {
    try {
      // Flows are open (UDP, ICMP, TCP): the loop must sleep while nothing happens.
      this.checkIdle(25, "before draining");
      this.rig.drain(this.rng.oneIn(2));
    } catch (e) {
      throw new FuzzFailure(`${e}`, this.corpus(), e);
    }
    const leak = this.fdLeak();
    if (leak) throw new FuzzFailure(`descriptors: ${leak}`, this.corpus());
    this.window = [];
  }

  corpus(): Uint8Array {
    return packParts([Uint8Array.of(this.variant), ...this.window.map(packParts)]);
  }
}

/** The tap target. */
export const tap = defineTarget({
  name: "tap",
  needsNet: true,
  run({ opts, rng, progress }: Run): Stats {
    const s = new Session(opts.seed % VARIANTS.length);
    let frames = 0;
    try {
      for (let i = 1; i <= opts.inputs; i++) {
        const b = batch(rng, s.rig);
        frames += b.length;
        s.feed(b);
        if (i % DRAIN_EVERY === 0 || i === opts.inputs) s.drain();
        progress.tick(i);
      }
      const kinds: Record<string, number> = {};
      for (const [k, v] of Object.entries(s.rig.outKinds)) kinds[`out.${k}`] = v;
      return { inputs: opts.inputs, counters: { frames, ...s.counters(), ...kinds } };
    } finally {
      s.close();
    }
  },
  replay(input: Uint8Array): void {
    const [variant, ...batches] = unpackParts(input);
    const s = new Session(variant?.[0] ?? 0);
    try {
      for (const b of batches) s.feed(unpackParts(b));
      s.drain();
    } finally {
      s.close();
    }
  },
});
