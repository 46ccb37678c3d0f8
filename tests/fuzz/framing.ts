// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `framing.ts` - fuzz target "framing": passt's stream framing, alone and through the real
 * input path
 *
 * Theory of operation: an input is a byte stream of length-prefixed frames (prefixes drawn
 * from 0, 1, 13, 14, 65535, 65536, 0xFFFFFFFF and ordinary lengths, frames sometimes cut
 * off by the end of the stream, sometimes random bytes instead of a prefix), the positions
 * where the stream is cut into reads, and the capacity of the frame pool. A model says which
 * frames must come out, in order, and whether the stream is corrupt. Two consumers must
 * agree with it:
 *
 * - `splitFrames()` driven the way `tap_passt.ts` drives it (carry the cut tail, drain a
 *   full pool and call again), over a buffer that ends right after the data, so a read past
 *   the available bytes throws;
 * - the real {@linkcode PasstStream}: the stream is written into one end of a socketpair in
 *   pieces at the cut positions, the loop runs between pieces, and the frames that reach
 *   `Tap.process` are compared with the model. A corrupt stream must close the connection
 *   (and its descriptor). Replies (ARP, DHCP... for frames that happen to be valid) are read
 *   back from the stream and checked with {@linkcode checkFrame}.
 *
 * Short streams are cut at every position; longer ones at random positions, and (one input in
 * four) at every position from 0 to 5 bytes into each length prefix and one byte either side
 * of each frame's end.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from "../../ffi/sys.ts";
import { FRAME_LEN_MAX } from "../../src/passt/framing.ts";
import { PasstStream } from "../../src/passt/tap_passt.ts";
import { Loop } from "../../src/loop/loop.ts";
import { Arena } from "../../src/tap/arena.ts";
import { Tap } from "../../src/tap/tap.ts";
import { testCtx } from "../_helpers/frames.ts";
import { type Split, type SplitInput, splitStream } from "../_helpers/framing.ts";
import {
  checkFrame,
  countFds,
  defineTarget,
  FuzzFailure,
  hex,
  packParts,
  Rng,
  type Run,
  type Stats,
  unpackParts,
} from "./_lib.ts";

/** Prefix values the issue asks for, plus the smallest frame kept. */
const EDGE_PREFIXES = [0, 1, 13, 14, 65535, 65536, 0xffffffff];

function model(s: Uint8Array): Split {
  const dv = new DataView(s.buffer, s.byteOffset, s.byteLength);
  const frames: Uint8Array[] = [];
  let pos = 0;
  while (s.length - pos >= 4) {
    const len = dv.getUint32(pos);
    if (len === 0 || len > FRAME_LEN_MAX) return { frames, corrupt: true };
    if (s.length - pos - 4 < len) break;
    if (len >= 14) frames.push(s.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return { frames, corrupt: false };
}

function genStream(rng: Rng): Uint8Array {
  const parts: number[] = [];
  const n = rng.range(0, 6);
  const chunks: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    let len: number;
    const r = rng.below(10);
    if (r < 3) len = rng.pick(EDGE_PREFIXES);
    else if (r < 6) len = rng.range(14, 120);
    else if (r < 8) len = rng.range(0, 20);
    else len = rng.oneIn(4) ? rng.range(60000, 65535) : rng.range(100, 3000);
    const pre = new Uint8Array(4);
    new DataView(pre.buffer).setUint32(0, len >>> 0);
    if (rng.oneIn(12)) chunks.push(rng.bytes(rng.range(1, 6))); // garbage instead of a prefix
    else chunks.push(pre);
    // Body: the declared length (capped, for huge prefixes), sometimes cut short.
    let body = len > FRAME_LEN_MAX ? rng.range(0, 64) : len;
    if (k === n - 1 && rng.oneIn(3)) body = rng.below(body + 1);
    const b = new Uint8Array(body);
    for (let i = 0; i < body; i++) b[i] = (k * 37 + i) & 0xff;
    if (body >= 42 && rng.oneIn(4)) {
      // An ARP request for the gateway: its reply comes back through the stream.
      b.set([
        255,
        255,
        255,
        255,
        255,
        255,
        0x52,
        0x54,
        0,
        0x12,
        0x34,
        0x56,
        8,
        6,
        0,
        1,
        8,
        0,
        6,
        4,
      ]);
      b.set(
        [0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1],
        20,
      );
    } else if (body >= 14 && rng.oneIn(2)) {
      // A plausible Ethernet header, so some frames go deeper than the classifier.
      b[12] = rng.pick([0x08, 0x86, 0x08]);
      b[13] = b[12] === 0x86 ? 0xdd : rng.pick([0x00, 0x06]);
    }
    chunks.push(b);
    parts.push(len);
  }
  let total = 0;
  for (const c of chunks) total += c.length;
  const s = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    s.set(c, o);
    o += c.length;
  }
  return s;
}

function genCuts(rng: Rng, len: number): number[] {
  const cuts: number[] = [];
  const n = rng.range(0, 5);
  for (let k = 0; k < n; k++) cuts.push(rng.below(len + 1));
  return cuts.sort((a, b) => a - b);
}

function encode(inp: SplitInput): Uint8Array {
  const c = new Uint8Array(4 * inp.cuts.length + 1);
  const dv = new DataView(c.buffer);
  inp.cuts.forEach((x, i) => dv.setUint32(4 * i, x));
  c[c.length - 1] = inp.capacity;
  return packParts([inp.stream, c]);
}

function decode(b: Uint8Array): SplitInput {
  const [stream = new Uint8Array(0), c = new Uint8Array(1)] = unpackParts(b);
  const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
  const cuts: number[] = [];
  for (let o = 0; o + 4 < c.length; o += 4) cuts.push(Math.min(dv.getUint32(o), stream.length));
  return { stream, cuts: cuts.sort((a, b) => a - b), capacity: Math.max(1, c[c.length - 1] ?? 1) };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function compare(got: Split, want: Split, what: string, inp: SplitInput): void {
  const fail = (m: string): never => {
    throw new FuzzFailure(`${what}: ${m} (stream ${hex(inp.stream)})`, encode(inp));
  };
  if (got.corrupt !== want.corrupt) fail(`corrupt ${got.corrupt}, expected ${want.corrupt}`);
  // Frames read in the same batch as a corrupt prefix are dropped with the connection (as
  // upstream does): then the frames that came out are a prefix of the expected ones.
  if (
    want.corrupt ? got.frames.length > want.frames.length : got.frames.length !== want.frames.length
  ) {
    fail(`${got.frames.length} frames, expected ${want.frames.length}`);
  }
  for (let i = 0; i < got.frames.length; i++) {
    if (!same(got.frames[i]!, want.frames[i]!)) fail(`frame ${i} differs`);
  }
}

/** The real passt input path over a socketpair. */
class Stream {
  readonly c = testCtx({ mode: "passt" });
  readonly arena = new Arena(new ArrayBuffer(40 * 1024 * 1024));
  readonly loop = new Loop();
  readonly tap = new Tap(this.c, this.arena);
  readonly ps: PasstStream;
  readonly got: Uint8Array[] = [];
  readonly rx = new Uint8Array(1 << 20);
  replies = 0;
  #peer = -1;

  constructor() {
    this.ps = new PasstStream({
      c: this.c,
      loop: this.loop,
      tap: this.tap,
      arena: this.arena,
      listenFd: -1,
      oneOff: false,
      onGone: () => {},
    });
    const tap = this.tap;
    const process = tap.process.bind(tap);
    tap.process = (now: number): void => {
      const f = tap.frames;
      for (let i = 0; i < f.count; i++) {
        const o = f.offsetOf(i);
        this.got.push(tap.u8.slice(o, o + f.lenOf(i)));
      }
      process(now);
    };
  }

  /** Feeds one input; returns what reached `Tap.process` and whether the stream was reset. */
  feed(inp: SplitInput): Split {
    const ffi = lib();
    this.got.length = 0;
    const sv = new Int32Array(2);
    const rc = ffi.pf_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
    if (rc < 0) throw new Error(`socketpair: ${rc}`);
    this.#peer = sv[1]!;
    this.ps.adopt(sv[0]!);
    let pos = 0;
    for (const end of [...inp.cuts, inp.stream.length]) {
      for (let stuck = 0; pos < end && stuck < 100;) {
        const n = ffi.pf_send(this.#peer, inp.stream, pos, end - pos, 0x4040);
        if (n > 0) {
          pos += n;
          stuck = 0;
          continue;
        }
        // The socket buffer is full: let the reader take some.
        this.#spin();
        if (this.ps.client < 0) break;
        stuck++;
      }
      this.#spin();
      if (this.ps.client < 0) break;
    }
    const corrupt = this.ps.client < 0;
    // Tear down: the guest goes away (the stream notices the end of file and closes).
    ffi.pf_close(this.#peer);
    this.#peer = -1;
    for (let k = 0; k < 4 && this.ps.client >= 0; k++) this.loop.runOnce(0);
    if (this.ps.client >= 0) throw new Error("passt stream kept the client after it hung up");
    return { frames: this.got.slice(), corrupt };
  }

  #spin(): void {
    for (let k = 0; k < 3; k++) {
      this.loop.runOnce(0);
      this.tap.flush();
      this.#drainReplies();
    }
  }

  /** Reads replies from our end of the stream and checks their framing and contents. */
  #drainReplies(): void {
    if (this.#peer < 0) return;
    const n = lib().pf_recv(this.#peer, this.rx, 0, this.rx.length, 0x40);
    if (n <= 0) return;
    const dv = new DataView(this.rx.buffer);
    for (let o = 0; o + 4 <= n;) {
      const l = dv.getUint32(o);
      if (o + 4 + l > n) throw new Error(`reply frame of ${l} bytes cut at ${n - o - 4}`);
      const bad = checkFrame(this.rx, o + 4, l);
      if (bad) throw new Error(`malformed reply: ${bad}`);
      this.replies++;
      o += 4 + l;
    }
  }

  close(): void {
    lib().pf_close(this.loop.epfd);
  }
}

/** Positions 0 to 5 bytes after each length prefix starts, and 1 byte either side of its end. */
function edges(s: Uint8Array): number[] {
  const dv = new DataView(s.buffer, s.byteOffset, s.byteLength);
  const out = new Set<number>();
  let pos = 0;
  while (pos <= s.length && out.size < 96) {
    for (let d = 0; d <= 5; d++) if (pos + d <= s.length) out.add(pos + d);
    if (s.length - pos < 4) break;
    const len = dv.getUint32(pos);
    if (len === 0 || len > 65535) break;
    const end = pos + 4 + len;
    for (const e of [end - 1, end + 1]) if (e >= 0 && e <= s.length) out.add(e);
    pos = end;
  }
  // Long streams: a few of them, the copy per cut costs the stream's length.
  const all = [...out];
  return s.length > 20000 ? all.filter((_, i) => i % 8 === 0) : all;
}

function check(inp: SplitInput, st: Stream | null, sweep = true): void {
  const want = model(inp.stream);
  let got: Split;
  try {
    got = splitStream(inp);
  } catch (e) {
    throw new FuzzFailure(`splitFrames: ${e}`, encode(inp), e);
  }
  compare(got, want, "splitFrames", inp);
  // Every cut position relative to the structure: at and around each prefix and frame end.
  for (const cut of sweep ? edges(inp.stream) : []) {
    const one = { stream: inp.stream, cuts: [cut], capacity: inp.capacity };
    try {
      got = splitStream(one);
    } catch (e) {
      throw new FuzzFailure(`splitFrames: ${e}`, encode(one), e);
    }
    compare(got, want, "splitFrames", one);
  }
  if (!st) return;
  try {
    got = st.feed(inp);
  } catch (e) {
    throw new FuzzFailure(`PasstStream: ${e}`, encode(inp), e);
  }
  // The real path may see the corruption before the last cut: frames after it never come.
  compare(got, want, "PasstStream", inp);
}

function gen(rng: Rng): SplitInput[] {
  const stream = genStream(rng);
  const capacity = rng.oneIn(3) ? rng.range(1, 3) : 255;
  if (stream.length <= 48 && rng.oneIn(2)) {
    // Every single cut position.
    const out: SplitInput[] = [];
    for (let c = 0; c <= stream.length; c++) out.push({ stream, cuts: [c], capacity });
    return out;
  }
  return [{ stream, cuts: genCuts(rng, stream.length), capacity }];
}

/** The framing target. */
export const framing = defineTarget({
  name: "framing",
  needsNet: false,
  run({ opts, rng, progress }: Run): Stats {
    const st = new Stream();
    const fds = countFds();
    let inputs = 0, real = 0;
    try {
      while (inputs < opts.inputs) {
        for (const inp of gen(rng)) {
          // The socket path costs a few system calls: one input in 8 goes through it.
          const viaSocket = (inputs & 7) === 0;
          check(inp, viaSocket ? st : null, (inputs & 3) === 1);
          if (viaSocket) real++;
          inputs++;
          progress.tick(inputs);
        }
      }
      if (countFds() !== fds) {
        throw new FuzzFailure(`descriptors: ${countFds()} open, ${fds} before`, new Uint8Array(0));
      }
      return { inputs, counters: { viaSocket: real, replies: st.replies } };
    } finally {
      st.close();
    }
  },
  replay(input: Uint8Array): void {
    const st = new Stream();
    try {
      check(decode(input), st);
    } finally {
      st.close();
    }
  },
});
