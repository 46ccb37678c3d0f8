// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `flow/flow.ts` - the flow table: every connection and echo flow, two sides each
 *
 * Theory of operation, as upstream's `flow.c`: a flow is an index into
 * parallel typed arrays, bounded at {@linkcode FLOW_MAX} entries. Each flow
 * has a type ({@linkcode FLOW_TCP}, {@linkcode FLOW_PING4}, ...), a state
 * byte its protocol module uses as it likes, a timer deadline, and two sides
 * (upstream's flowsides): side 0 is the initiating one, side 1 the target,
 * each with the interface it lives on (`fwd/nat.ts`'s `PIF_*`) and its
 * addresses and ports (`fwd/nat.ts`'s flowside layout, {@linkcode SIDE_WORDS}
 * words in {@linkcode FlowTable.side}). A flow side is addressed by its
 * "sidx", `flow * 2 + side`.
 *
 * Indices are stable for the life of a flow (a free list, no compaction), so
 * epoll references can carry them. Protocol modules keep their own columns
 * indexed by the same flow index (TCP's sequence numbers, a ping flow's
 * socket), sized to the table's capacity, instead of per-flow objects.
 *
 * Lookup is by either side: {@linkcode FlowTable.hashInsert} puts a side in an
 * open-addressing hash (linear probing, at most 50 % full, deletions by
 * backward shift) keyed by protocol, interface, both addresses and both
 * ports, hashed with SipHash-2-4 under a random secret; so a frame from the
 * guest and a datagram on a socket both find their flow in one probe
 * sequence.
 *
 * At the limit {@linkcode FlowTable.alloc} returns -1 and the protocol refuses
 * the new flow as upstream does (TCP: the SYN is dropped, an accepted socket
 * closed; ping: the request dropped); existing flows go on. Nothing here
 * allocates after construction.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { sipHash24 } from "../siphash.ts";
import { SIDE_WORDS } from "../fwd/nat.ts";
import { strerror } from "../../ffi/errno.ts";

export { SIDE_WORDS };

/** Most flows at a time (upstream FLOW_MAX is 128k). */
export const FLOW_MAX = 1 << 17;

/** Free entry. */
export const FLOW_NONE = 0;
/** A TCP connection between the guest and a host socket. */
export const FLOW_TCP = 1;
/** A spliced TCP connection (pasta, socket to socket). */
export const FLOW_TCP_SPLICE = 2;
/** An ICMP echo flow. */
export const FLOW_PING4 = 3;
/** An ICMPv6 echo flow. */
export const FLOW_PING6 = 4;
/** A UDP flow. */
export const FLOW_UDP = 5;
/** Names of the types, for logs. */
export const FLOW_TYPE_NAMES = ["<none>", "TCP", "TCP (spliced)", "ICMP", "ICMPv6", "UDP"];

/** Initiating side. */
export const INISIDE = 0;
/** Target side. */
export const TGTSIDE = 1;

/** The flow table. */
export class FlowTable {
  /** Most flows at a time. */
  readonly capacity: number;
  /** Flow type per flow ({@linkcode FLOW_NONE} when free). */
  readonly type: Uint8Array;
  /** Protocol-specific state per flow. */
  readonly state: Uint8Array;
  /** IP protocol per flow (the hash key). */
  readonly proto: Uint8Array;
  /** Interface per side (sidx). */
  readonly pif: Uint8Array;
  /** Flowsides: {@linkcode SIDE_WORDS} words per sidx. */
  readonly side: Uint32Array;
  /** Timer deadline per flow, milliseconds on the loop's clock (0: none). */
  readonly deadline: Float64Array;
  /** Whether a side is in the hash, per sidx. */
  readonly #hashed: Uint8Array;
  /** Free list (a stack of freed flow indices); indices never used start at `#fresh`. */
  readonly #free: Int32Array;
  #nfree = 0;
  #fresh = 0;
  #count = 0;
  #high = 0;
  /** Hash slots: sidx + 1, 0 when empty (so the table needs no initialisation). */
  readonly #hash: Int32Array;
  readonly #mask: number;
  readonly #key: Uint32Array;
  readonly #hbuf = new Uint8Array(2 + 4 * SIDE_WORDS);
  readonly #hdv = new DataView(this.#hbuf.buffer);

  /** A table for `capacity` flows, hashed under the 128-bit `key` (four u32). */
  constructor(key: Uint32Array, capacity = FLOW_MAX) {
    this.capacity = capacity;
    this.#key = new Uint32Array(key);
    this.type = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.pif = new Uint8Array(2 * capacity);
    this.side = new Uint32Array(2 * capacity * SIDE_WORDS);
    this.deadline = new Float64Array(capacity);
    this.#hashed = new Uint8Array(2 * capacity);
    this.#free = new Int32Array(capacity);
    let size = 1;
    while (size < 4 * capacity) size <<= 1;
    this.#hash = new Int32Array(size);
    this.#mask = size - 1;
  }

  /** Flows in use. */
  get count(): number {
    return this.#count;
  }

  /** One more than the highest index ever used: iterate `[0, high)` and check the type. */
  get high(): number {
    return this.#high;
  }

  /**
   * Takes a free flow of `type` for protocol `proto`, sides zeroed and not
   * hashed; returns its index, or -1 when the table is full.
   */
  alloc(type: number, proto: number): number {
    let i: number;
    if (this.#nfree > 0) i = this.#free[--this.#nfree]!;
    else if (this.#fresh < this.capacity) i = this.#fresh++;
    else return -1;
    this.#count++;
    if (i >= this.#high) this.#high = i + 1;
    this.type[i] = type;
    this.proto[i] = proto;
    this.state[i] = 0;
    this.deadline[i] = 0;
    this.pif[2 * i] = 0;
    this.pif[2 * i + 1] = 0;
    this.side.fill(0, 2 * i * SIDE_WORDS, (2 * i + 2) * SIDE_WORDS);
    return i;
  }

  /** Frees flow `i`, taking its sides out of the hash. */
  free(i: number): void {
    if (this.type[i] === FLOW_NONE) return;
    if (this.#hashed[2 * i]) this.hashRemove(2 * i);
    if (this.#hashed[2 * i + 1]) this.hashRemove(2 * i + 1);
    this.type[i] = FLOW_NONE;
    this.#free[this.#nfree++] = i;
    this.#count--;
    while (this.#high > 0 && this.type[this.#high - 1] === FLOW_NONE) this.#high--;
  }

  /** Word offset of side `sidx` in {@linkcode FlowTable.side}. */
  sideOff(sidx: number): number {
    return sidx * SIDE_WORDS;
  }

  #slot(proto: number, pif: number, w: Uint32Array, o: number): number {
    const d = this.#hdv;
    d.setUint8(0, proto);
    d.setUint8(1, pif);
    for (let j = 0; j < SIDE_WORDS; j++) d.setUint32(2 + 4 * j, w[o + j]!);
    return sipHash24(this.#key, this.#hbuf, 0, this.#hbuf.length) & this.#mask;
  }

  #matches(sidx: number, proto: number, pif: number, w: Uint32Array, o: number): boolean {
    const f = sidx >> 1;
    if (this.proto[f] !== proto || this.pif[sidx] !== pif) return false;
    const s = this.side;
    const b = sidx * SIDE_WORDS;
    for (let j = 0; j < SIDE_WORDS; j++) if (s[b + j] !== w[o + j]) return false;
    return true;
  }

  /** Puts side `sidx` (its pif and flowside already set) in the hash. */
  hashInsert(sidx: number): void {
    const f = sidx >> 1;
    let h = this.#slot(this.proto[f]!, this.pif[sidx]!, this.side, sidx * SIDE_WORDS);
    while (this.#hash[h] !== 0) h = (h + 1) & this.#mask;
    this.#hash[h] = sidx + 1;
    this.#hashed[sidx] = 1;
  }

  /** Takes side `sidx` out of the hash (backward-shift deletion). */
  hashRemove(sidx: number): void {
    const f = sidx >> 1;
    const mask = this.#mask;
    const tab = this.#hash;
    let h = this.#slot(this.proto[f]!, this.pif[sidx]!, this.side, sidx * SIDE_WORDS);
    while (tab[h] !== sidx + 1) {
      if (tab[h] === 0) return;
      h = (h + 1) & mask;
    }
    this.#hashed[sidx] = 0;
    // Knuth's algorithm R: move later entries of the run back into the hole.
    let hole = h;
    let j = h;
    for (;;) {
      j = (j + 1) & mask;
      const e = tab[j]! - 1;
      if (e < 0) break;
      const home = this.#slot(this.proto[e >> 1]!, this.pif[e]!, this.side, e * SIDE_WORDS);
      // Move e unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        tab[hole] = e + 1;
        hole = j;
      }
    }
    tab[hole] = 0;
  }

  /**
   * The side matching protocol `proto`, interface `pif` and the flowside at
   * `w[o]` exactly, or -1.
   */
  lookup(proto: number, pif: number, w: Uint32Array, o: number): number {
    let h = this.#slot(proto, pif, w, o);
    for (;;) {
      const e = this.#hash[h]! - 1;
      if (e < 0) return -1;
      if (this.#matches(e, proto, pif, w, o)) return e;
      h = (h + 1) & this.#mask;
    }
  }
}

/** A flow table of `capacity` flows hashed under a fresh random key. */
export function newFlowTable(capacity = FLOW_MAX): FlowTable {
  const b = new Uint8Array(16);
  const rc = lib().pf_getrandom(b, 0, 16, 0);
  if (rc !== 16) throw new Error(`Cannot get random bytes for the flow table: ${strerror(-rc)}`);
  return new FlowTable(new Uint32Array(b.buffer), capacity);
}
