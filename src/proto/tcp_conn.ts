// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp_conn.ts` - the TCP connection table: structure of arrays, keyed hash, compaction
 *
 * Theory of operation: a connection is an index into parallel typed arrays
 * (one column per field, as upstream's `struct tcp_tap_conn` bit-fields), sized
 * for {@linkcode TCP_MAX_CONNS} entries. Indices `0..count-1` are in use: a new
 * connection takes index `count`, and freeing one moves the last entry into the
 * hole ({@linkcode ConnTable.free} returns the index that moved, so the caller
 * can update the epoll references that carry it).
 *
 * Lookup is by the guest-facing remote address (IPv4 as an IPv4-mapped IPv6
 * address, four big-endian words), the guest's port and the socket-side port,
 * hashed with SipHash-2-4 under a random 128-bit secret into
 * {@linkcode TCP_HASH_TABLE_SIZE} buckets chained through `next`. Nothing here
 * allocates after construction.
 *
 * @module
 */

import { sipHash24 } from "../siphash.ts";

/** Most connections at a time (upstream TCP_MAX_CONNS, 2^17 - 1). */
export const TCP_MAX_CONNS = (1 << 17) - 1;
/** Hash buckets: 70 % load at most (upstream TCP_HASH_TABLE_SIZE). */
export const TCP_HASH_TABLE_SIZE = Math.floor(TCP_MAX_CONNS * 100 / 70);

/** Events: the state is implied by the set of events, as upstream. */
export const SOCK_ACCEPTED = 1 << 0;
/** SYN from the guest, host socket connecting. */
export const TAP_SYN_RCVD = 1 << 1;
/** Handshake complete on both sides. */
export const ESTABLISHED = 1 << 2;
/** SYN-ACK sent to the guest (only together with TAP_SYN_RCVD). */
export const TAP_SYN_ACK_SENT = 1 << 3;
/** FIN (EPOLLRDHUP) from the socket (only after ESTABLISHED). */
export const SOCK_FIN_RCVD = 1 << 3;
/** shutdown(SHUT_WR) done on the socket. */
export const SOCK_FIN_SENT = 1 << 4;
/** FIN from the guest. */
export const TAP_FIN_RCVD = 1 << 5;
/** FIN sent to the guest. */
export const TAP_FIN_SENT = 1 << 6;
/** The guest acknowledged our FIN. */
export const TAP_FIN_ACKED = 1 << 7;

/** Flags. */
export const STALLED = 1 << 0;
/** Peer is on this host: ACK guest data as soon as it is written. */
export const LOCAL = 1 << 1;
/** TCP_WINDOW_CLAMP was set on the socket. */
export const WND_CLAMPED = 1 << 2;
/** The guest closed first. */
export const ACTIVE_CLOSE = 1 << 3;
/** An ACK to the guest is pending (coalesced for ACK_INTERVAL). */
export const ACK_TO_TAP_DUE = 1 << 4;
/** We wait for the guest to acknowledge something. */
export const ACK_FROM_TAP_DUE = 1 << 5;
/** The connection is closed and waits to be reaped. */
export const CLOSED = 1 << 6;
/** The connection is IPv6 (towards the guest). */
export const V6 = 1 << 7;
/** A write to the socket was short: wait for EPOLLOUT, then make the guest resend. */
export const SOCK_OUT_WAIT = 1 << 8;
/** The window towards the guest of a local connection was cut by queued data: wait for EPOLLOUT. */
export const WND_WAIT = 1 << 9;
/** A local connection's window, cut by queued data, can't take one full segment: retry it. */
export const WND_SHORT = 1 << 10;

/** Names of the event bits, for logs. */
export const EVENT_NAMES = [
  "SOCK_ACCEPTED",
  "TAP_SYN_RCVD",
  "ESTABLISHED",
  "TAP_SYN_ACK_SENT/SOCK_FIN_RCVD",
  "SOCK_FIN_SENT",
  "TAP_FIN_RCVD",
  "TAP_FIN_SENT",
  "TAP_FIN_ACKED",
];

/** The connection table. */
export class ConnTable {
  /** Entries in use (indices `0..count-1`). */
  count = 0;
  readonly capacity: number;
  /** Host socket, timerfd (-1 if none), next index in the hash chain (-1 ends it). */
  readonly sock: Int32Array;
  readonly timer: Int32Array;
  readonly next: Int32Array;
  /** Events and flags (see the constants). */
  readonly events: Uint8Array;
  readonly flags: Uint16Array;
  /** Retransmissions so far, and the low byte of seq_from_tap at the last duplicate ACK. */
  readonly retrans: Uint8Array;
  readonly dupAck: Uint8Array;
  /** Window scale from and to the guest. */
  readonly wsFromTap: Uint8Array;
  readonly wsToTap: Uint8Array;
  /** Guest's MSS, guest-side port, socket-side port. */
  readonly tapMss: Uint16Array;
  readonly tapPort: Uint16Array;
  readonly sockPort: Uint16Array;
  /** Guest-facing remote address (IPv4-mapped for IPv4), four words per entry. */
  readonly addr: Uint32Array;
  /** SO_SNDBUF of the socket. */
  readonly sndbuf: Uint32Array;
  /** Guest's window (scaled, bytes) and the window last sent to it (bytes). */
  readonly wndFromTap: Uint32Array;
  readonly wndToTap: Uint32Array;
  /** Sequence state, as upstream. */
  readonly seqToTap: Uint32Array;
  readonly seqAckFromTap: Uint32Array;
  readonly seqFromTap: Uint32Array;
  readonly seqAckToTap: Uint32Array;
  readonly seqInitFromTap: Uint32Array;
  /** epoll events currently registered for the socket (0: not registered). */
  readonly epollMask: Uint32Array;
  /** Timeout the timerfd is armed with, in milliseconds (0: disarmed). */
  readonly timerMs: Uint32Array;
  /** Value of TCP_WINDOW_CLAMP last set. */
  readonly clamp: Uint32Array;
  /** 1 if nothing happened on either side since the last inactivity scan. */
  readonly inactive: Uint8Array;
  readonly #buckets: Int32Array;
  readonly #key: Uint32Array;
  readonly #hbuf = new Uint8Array(20);
  readonly #hdv = new DataView(this.#hbuf.buffer);

  /** A table for `capacity` connections, hashed under the 128-bit `key` (four u32). */
  constructor(key: Uint32Array, capacity = TCP_MAX_CONNS) {
    this.capacity = capacity;
    this.#key = new Uint32Array(key);
    this.sock = new Int32Array(capacity);
    this.timer = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.events = new Uint8Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.retrans = new Uint8Array(capacity);
    this.dupAck = new Uint8Array(capacity);
    this.wsFromTap = new Uint8Array(capacity);
    this.wsToTap = new Uint8Array(capacity);
    this.tapMss = new Uint16Array(capacity);
    this.tapPort = new Uint16Array(capacity);
    this.sockPort = new Uint16Array(capacity);
    this.addr = new Uint32Array(capacity * 4);
    this.sndbuf = new Uint32Array(capacity);
    this.wndFromTap = new Uint32Array(capacity);
    this.wndToTap = new Uint32Array(capacity);
    this.seqToTap = new Uint32Array(capacity);
    this.seqAckFromTap = new Uint32Array(capacity);
    this.seqFromTap = new Uint32Array(capacity);
    this.seqAckToTap = new Uint32Array(capacity);
    this.seqInitFromTap = new Uint32Array(capacity);
    this.epollMask = new Uint32Array(capacity);
    this.timerMs = new Uint32Array(capacity);
    this.clamp = new Uint32Array(capacity);
    this.inactive = new Uint8Array(capacity);
    this.#buckets = new Int32Array(Math.max(1, Math.floor(capacity * 100 / 70))).fill(-1);
  }

  /** Bucket of (a0..a3, tapPort, sockPort). */
  #bucket(
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    tapPort: number,
    sockPort: number,
  ): number {
    const d = this.#hdv;
    d.setUint32(0, a0);
    d.setUint32(4, a1);
    d.setUint32(8, a2);
    d.setUint32(12, a3);
    d.setUint16(16, tapPort);
    d.setUint16(18, sockPort);
    return sipHash24(this.#key, this.#hbuf, 0, 20) % this.#buckets.length;
  }

  /** Index of the connection with this address and ports, or -1. */
  lookup(
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    tapPort: number,
    sockPort: number,
  ): number {
    let i = this.#buckets[this.#bucket(a0, a1, a2, a3, tapPort, sockPort)]!;
    const addr = this.addr;
    while (i >= 0) {
      const k = i << 2;
      if (
        this.tapPort[i] === tapPort && this.sockPort[i] === sockPort && addr[k] === a0 &&
        addr[k + 1] === a1 && addr[k + 2] === a2 && addr[k + 3] === a3
      ) return i;
      i = this.next[i]!;
    }
    return -1;
  }

  /**
   * Takes a fresh entry for (address words, ports), zeroed and hashed; returns its
   * index, or -1 when the table is full.
   */
  alloc(a0: number, a1: number, a2: number, a3: number, tapPort: number, sockPort: number): number {
    if (this.count >= this.capacity) return -1;
    const i = this.count++;
    const k = i << 2;
    this.addr[k] = a0;
    this.addr[k + 1] = a1;
    this.addr[k + 2] = a2;
    this.addr[k + 3] = a3;
    this.tapPort[i] = tapPort;
    this.sockPort[i] = sockPort;
    this.sock[i] = -1;
    this.timer[i] = -1;
    this.events[i] = 0;
    this.flags[i] = 0;
    this.retrans[i] = 0;
    this.dupAck[i] = 0;
    this.wsFromTap[i] = 0;
    this.wsToTap[i] = 0;
    this.tapMss[i] = 0;
    this.sndbuf[i] = 0;
    this.wndFromTap[i] = 0;
    this.wndToTap[i] = 0;
    this.seqToTap[i] = 0;
    this.seqAckFromTap[i] = 0;
    this.seqFromTap[i] = 0;
    this.seqAckToTap[i] = 0;
    this.seqInitFromTap[i] = 0;
    this.epollMask[i] = 0;
    this.timerMs[i] = 0;
    this.clamp[i] = 0;
    this.inactive[i] = 0;
    const b = this.#bucket(a0, a1, a2, a3, tapPort, sockPort);
    this.next[i] = this.#buckets[b]!;
    this.#buckets[b] = i;
    return i;
  }

  /** Removes entry `i` from its hash chain. */
  #unhash(i: number): void {
    const k = i << 2;
    const a = this.addr;
    const b = this.#bucket(
      a[k]!,
      a[k + 1]!,
      a[k + 2]!,
      a[k + 3]!,
      this.tapPort[i]!,
      this.sockPort[i]!,
    );
    let p = this.#buckets[b]!;
    if (p === i) {
      this.#buckets[b] = this.next[i]!;
      return;
    }
    while (p >= 0) {
      const n = this.next[p]!;
      if (n === i) {
        this.next[p] = this.next[i]!;
        return;
      }
      p = n;
    }
  }

  /** Replaces the chain link that points at `from` by `to` (same bucket). */
  #relink(from: number, to: number): void {
    const k = from << 2;
    const a = this.addr;
    const b = this.#bucket(
      a[k]!,
      a[k + 1]!,
      a[k + 2]!,
      a[k + 3]!,
      this.tapPort[from]!,
      this.sockPort[from]!,
    );
    if (this.#buckets[b] === from) {
      this.#buckets[b] = to;
      return;
    }
    let p = this.#buckets[b]!;
    while (p >= 0) {
      if (this.next[p] === from) {
        this.next[p] = to;
        return;
      }
      p = this.next[p]!;
    }
  }

  /**
   * Frees entry `i`: unhashes it and moves the last entry into its place. Returns the
   * old index of the moved entry (now at `i`), or -1 if nothing moved.
   */
  free(i: number): number {
    this.#unhash(i);
    const last = --this.count;
    if (last === i) return -1;
    this.#relink(last, i);
    this.next[i] = this.next[last]!;
    this.sock[i] = this.sock[last]!;
    this.timer[i] = this.timer[last]!;
    this.events[i] = this.events[last]!;
    this.flags[i] = this.flags[last]!;
    this.retrans[i] = this.retrans[last]!;
    this.dupAck[i] = this.dupAck[last]!;
    this.wsFromTap[i] = this.wsFromTap[last]!;
    this.wsToTap[i] = this.wsToTap[last]!;
    this.tapMss[i] = this.tapMss[last]!;
    this.tapPort[i] = this.tapPort[last]!;
    this.sockPort[i] = this.sockPort[last]!;
    this.addr.copyWithin(i << 2, last << 2, (last << 2) + 4);
    this.sndbuf[i] = this.sndbuf[last]!;
    this.wndFromTap[i] = this.wndFromTap[last]!;
    this.wndToTap[i] = this.wndToTap[last]!;
    this.seqToTap[i] = this.seqToTap[last]!;
    this.seqAckFromTap[i] = this.seqAckFromTap[last]!;
    this.seqFromTap[i] = this.seqFromTap[last]!;
    this.seqAckToTap[i] = this.seqAckToTap[last]!;
    this.seqInitFromTap[i] = this.seqInitFromTap[last]!;
    this.epollMask[i] = this.epollMask[last]!;
    this.timerMs[i] = this.timerMs[last]!;
    this.clamp[i] = this.clamp[last]!;
    this.inactive[i] = this.inactive[last]!;
    return last;
  }
}
