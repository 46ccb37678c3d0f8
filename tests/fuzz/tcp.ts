// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp.ts` - fuzz target "tcp": a stateful TCP fuzzer, guest segments against host peers
 *
 * Theory of operation: an episode opens up to four connections, outbound (the guest sends
 * a SYN to the gateway, mapped to a host listener on loopback) or inbound (a host peer
 * connects to a forwarded port and the TCP module sends the guest a SYN), then runs a few
 * dozen steps. A step (one input) is either a guest segment, or a small batch of them, or a
 * host action. Guest segments follow a minimal model of the guest (next sequence number,
 * what it received) most of the time, and otherwise carry perturbed sequence and
 * acknowledgement numbers, any flags, windows of 0, 1 or 65535, random options and data
 * offsets, payloads up to a few kilobytes. Host actions write, read, half-close
 * (`shutdown(SHUT_WR)`), close or reset a peer. Every segment goes through `Tap.process`
 * into the real TCP module; time moves on the fake clock and TCP timers fire now and then.
 *
 * Invariants: no exception escapes; every frame sent to the guest is well-formed (the rig
 * checks it); while idle, the loop wakes up a bounded number of times per second (a
 * level-triggered event nobody consumes shows up as thousands); and at the end of every
 * episode, with the host peers closed and the guest silent, the timers drain the TCP table
 * and the process holds the descriptors it held at the start.
 *
 * The configuration is one of the rig's variants, the seed modulo their number. A failure stores
 * the episode's seed and the variant; the replay runs that episode again.
 *
 * @module
 */

import { ethernet, ipv4, ipv6, tcpOptions, tcpSeg } from "./_gen.ts";
import { defineTarget, FuzzFailure, Rng, type Run, type Stats } from "./_lib.ts";
import { FWD_PORT, FWD_TARGET, HOST, type Rig, RigSession, type Seg, VARIANTS } from "./_rig.ts";

const FIN = 1, SYN = 2, PSH = 8, ACK = 16;

/** Milliseconds of each idle measurement. */
const IDLE_MS = 25;

/** The guest's side of one connection. */
interface Conn {
  v6: boolean;
  /** Guest port, remote port. */
  gport: number;
  rport: number;
  sndNxt: number;
  rcvNxt: number;
  /** Whether we know the host's initial sequence number (its SYN came). */
  synSeen: boolean;
  finSent: boolean;
}

class Episode {
  readonly conns: Conn[] = [];
  steps = 0;
  segments = 0;
  hostActions = 0;

  constructor(readonly rig: Rig, readonly rng: Rng) {}

  /** Sends `segs` (guest side of `k`) as one batch through the tap. */
  #send(
    k: Conn,
    segs: { seq: number; ack: number; flags: number; wnd: number; data: number }[],
  ): void {
    const rng = this.rng;
    const c = this.rig.c;
    const frames: Uint8Array[] = [];
    for (const s of segs) {
      const opts = (s.flags & SYN) || rng.oneIn(8) ? tcpOptions(rng) : new Uint8Array(0);
      const l4 = tcpSeg(rng, { sport: k.gport, dport: k.rport, ...s }, opts, rng.bytes(s.data));
      const noise = rng.oneIn(10);
      const pkt = k.v6
        ? ipv6(rng, c.conf.ip6.addr, c.conf.ip6.gw, 6, l4, 16, 64, noise)
        : ipv4(rng, c.conf.ip4.addr, c.conf.ip4.gw, 6, l4, 16, noise);
      frames.push(ethernet(rng, c, k.v6 ? 0x86dd : 0x0800, pkt, c.conf.mac));
      this.segments++;
    }
    this.rig.inject(frames, rng);
    this.rig.pump(2);
    this.#absorb();
  }

  /** Updates the guest model from what the TCP module sent. */
  #absorb(): void {
    for (const s of this.rig.segs) this.#seg(s);
    this.rig.segs.length = 0;
  }

  #seg(s: Seg): void {
    let k = this.conns.find((x) => x.v6 === s.v6 && x.gport === s.dport && x.rport === s.sport);
    if (!k && (s.flags & (SYN | ACK)) === SYN && s.dport === FWD_TARGET) {
      // An inbound connection: the host peer connected to the forwarded port.
      k = {
        v6: s.v6,
        gport: s.dport,
        rport: s.sport,
        sndNxt: this.rng.u32(),
        rcvNxt: 0,
        synSeen: false,
        finSent: false,
      };
      this.conns.push(k);
    }
    if (!k) return;
    if (s.flags & SYN) {
      k.rcvNxt = (s.seq + 1) >>> 0;
      k.synSeen = true;
    }
    if (s.plen && s.seq === k.rcvNxt) k.rcvNxt = (k.rcvNxt + s.plen) >>> 0;
    if ((s.flags & FIN) && ((s.seq + s.plen) >>> 0) === k.rcvNxt) k.rcvNxt = (k.rcvNxt + 1) >>> 0;
  }

  /** Opens an outbound connection (guest SYN) or an inbound one (host connect). */
  open(): void {
    const rng = this.rng;
    const v6 = rng.oneIn(2);
    if (rng.oneIn(3)) {
      this.rig.connectFwd(v6);
      this.hostActions++;
      this.rig.pump(3);
      this.#absorb();
      return;
    }
    const k: Conn = {
      v6,
      gport: rng.range(1024, 65535),
      rport: rng.oneIn(10) ? rng.pick([1, 9, FWD_PORT]) : HOST.tcp,
      sndNxt: rng.u32(),
      rcvNxt: 0,
      synSeen: false,
      finSent: false,
    };
    this.conns.push(k);
    this.#send(k, [{
      seq: k.sndNxt,
      ack: 0,
      flags: SYN,
      wnd: rng.pick([0, 1, 512, 65535]),
      data: 0,
    }]);
    k.sndNxt = (k.sndNxt + 1) >>> 0;
  }

  /** A guest segment (or a small batch) on a random connection. */
  guest(): void {
    const rng = this.rng;
    const k = rng.pick(this.conns);
    const n = rng.oneIn(5) ? rng.range(2, 6) : 1;
    const segs = [];
    for (let j = 0; j < n; j++) {
      const sensible = !rng.oneIn(3);
      let flags: number;
      let data = 0;
      if (!k.synSeen) flags = rng.oneIn(2) ? SYN : ACK;
      else if (sensible) {
        flags = rng.pick([
          ACK,
          ACK,
          ACK | PSH,
          ACK | PSH,
          FIN | ACK,
          k.gport === FWD_TARGET ? SYN | ACK : ACK,
        ]);
        if (flags & PSH) data = rng.oneIn(4) ? rng.range(1000, 4000) : rng.range(1, 200);
      } else {
        flags = rng.u32() & 0x3f;
        if (rng.oneIn(2)) data = rng.range(1, 3000);
      }
      if (k.finSent && sensible) flags &= ~FIN;
      const delta = (): number =>
        sensible
          ? 0
          : rng.pick([0, 1, -1, 1000, -1000, 65536, -70000, 0x40000000, 0x80000000, rng.u32()]);
      let seq = (k.sndNxt + delta()) >>> 0;
      if (flags & SYN && k.gport === FWD_TARGET && sensible) seq = (k.sndNxt - 1) >>> 0;
      const ack = (k.rcvNxt + delta()) >>> 0;
      const wnd = sensible
        ? (rng.oneIn(10) ? 0 : 65535)
        : rng.pick([0, 1, 2, 512, 65535, rng.u32() & 0xffff]);
      segs.push({ seq, ack, flags, wnd, data });
      if (sensible) {
        if (flags & SYN && k.gport === FWD_TARGET) k.sndNxt = (seq + 1) >>> 0;
        k.sndNxt = (k.sndNxt + data) >>> 0;
        if (flags & FIN) {
          k.sndNxt = (k.sndNxt + 1) >>> 0;
          k.finSent = true;
        }
      }
    }
    if (n > 2 && rng.oneIn(2)) segs.reverse();
    this.#send(k, segs);
  }

  /** A host action on a random peer: write, read, half-close, close, reset. */
  host(): void {
    const rig = this.rig;
    const rng = this.rng;
    this.hostActions++;
    if (!rig.peers.length) {
      rig.pump(1);
      return;
    }
    const fd = rng.pick(rig.peers);
    const r = rng.below(10);
    if (r < 4) rig.peerWrite(fd, rng.oneIn(3) ? rng.range(10000, 65536) : rng.range(1, 2000));
    else if (r < 6) rig.peerRead(fd);
    else if (r < 8) rig.peerShutdown(fd);
    else rig.peerClose(fd, r === 9);
    rig.pump(2);
    this.#absorb();
  }

  /** One step of the episode. */
  step(): void {
    const rng = this.rng;
    this.steps++;
    const r = rng.below(20);
    if (this.conns.length === 0 || (r === 0 && this.conns.length < 4)) this.open();
    else if (r < 12) this.guest();
    else if (r < 18) this.host();
    else if (r === 18) {
      this.rig.fireTcpTimers();
      this.rig.pump(1);
      this.#absorb();
    } else {
      this.rig.advance(rng.range(1, 5000));
      this.rig.pump(1);
      this.#absorb();
    }
  }
}

/** Runs episodes; counters for the report. */
class Session extends RigSession {
  steps = 0;
  segments = 0;
  hostActions = 0;
  episodes = 0;
  idleChecks = 0;

  /** Runs the episode of `seed` for `steps` steps; throws a FuzzFailure with the seed. */
  episode(seed: number, steps: number, idleEvery: number): void {
    const rng = new Rng(seed);
    const e = new Episode(this.rig, rng);
    const input = new Uint8Array(16);
    const idv = new DataView(input.buffer);
    idv.setUint32(0, seed);
    idv.setUint32(4, steps);
    idv.setUint32(8, idleEvery);
    idv.setUint32(12, this.variant);
    try {
      for (let s = 0; s < steps; s++) {
        e.step();
        if (idleEvery && rng.oneIn(idleEvery)) {
          this.idleChecks++;
          this.checkIdle(IDLE_MS, `while idle (step ${s + 1})`);
        }
      }
      this.rig.drain(rng.oneIn(2));
    } catch (err) {
      throw new FuzzFailure(`episode ${seed}: ${err}`, input, err);
    } finally {
      this.steps += e.steps;
      this.segments += e.segments;
      this.hostActions += e.hostActions;
      this.episodes++;
    }
    const leak = this.fdLeak();
    if (leak) throw new FuzzFailure(`episode ${seed}: ${leak}`, input);
  }
}

/** The stateful TCP target; an input is one step of an episode. */
export const tcp = defineTarget({
  name: "tcp",
  needsNet: true,
  run({ opts, rng, progress }: Run): Stats {
    const s = new Session(opts.seed % VARIANTS.length);
    // Idle measurements cost real time: about one per episode in long runs, more in short ones.
    const idleEvery = opts.inputs > 100_000 ? 60 : 15;
    try {
      while (s.steps < opts.inputs) {
        const steps = Math.min(rng.range(10, 80), opts.inputs - s.steps);
        s.episode(rng.u32(), steps, idleEvery);
        progress.tick(s.steps, () => `${s.steps} steps, ${s.episodes} episodes`);
      }
      return {
        inputs: s.steps,
        counters: {
          episodes: s.episodes,
          guestSegments: s.segments,
          hostActions: s.hostActions,
          idleChecks: s.idleChecks,
          ...s.counters(),
        },
      };
    } finally {
      s.close();
    }
  },
  replay(input: Uint8Array): void {
    const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
    const s = new Session(input.length >= 16 ? dv.getUint32(12) : 0);
    try {
      s.episode(dv.getUint32(0), dv.getUint32(4), dv.getUint32(8));
    } finally {
      s.close();
    }
  },
});
