// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `tcp_conn.ts` - the TCP connection table: structure of arrays, keyed hash, compaction
 *
 * Theory of operation: a connection is a flow of the flow table
 * (`flow/flow.ts`, type `FLOW_TCP`) plus the TCP columns here, indexed by the
 * same flow index (one column per field, as upstream's `struct tcp_tap_conn`
 * bit-fields). Indices are stable while a connection lives, so epoll references
 * carry them.
 *
 * Lookup is by the flow's tap side: the guest's address, the guest-facing remote
 * address (IPv4 as an IPv4-mapped IPv6 address, four big-endian words), the
 * guest's port and the remote port, through the flow table's hash. Nothing here
 * allocates after construction.
 *
 * @module
 */

import { FLOW_TCP, FlowTable } from "../flow/flow.ts";
import { copyAddr } from "../wire/inany.ts";
import {
  EADDR,
  EPORT,
  IPPROTO_TCP,
  OADDR,
  OPORT,
  PIF_HOST,
  PIF_TAP,
  SIDE_WORDS,
} from "../fwd/nat.ts";

/** Most connections at a time (upstream TCP_MAX_CONNS, 2^17 - 1). */
export const TCP_MAX_CONNS = (1 << 17) - 1;

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
/**
 * The last look at the socket found nothing past what the guest has, and no FIN: only new data
 * can change that, and new data raises an event. Until then an ACK from the guest has nothing to
 * send, and the connection stays STALLED (edge-triggered) without a round of epoll_ctl() calls.
 */
export const SOCK_DRAINED = 1 << 11;

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

/** The TCP columns of the flow table. */
export class ConnTable {
  /** The flow table the connections live in (shared with other protocols in a process). */
  readonly flows: FlowTable;
  /** TCP connections in use. */
  count = 0;
  /** Most TCP connections at a time (at most the flow table's capacity). */
  readonly capacity: number;
  /** Host socket, timerfd (-1 if none). */
  readonly sock: Int32Array;
  readonly timer: Int32Array;
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
  /** The guest's address of the connection (IPv4-mapped for IPv4), four words per entry. */
  readonly guest: Uint32Array;
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
  /** When the timerfd runs out, on the loop's clock (0: not armed). */
  readonly timerAt: Float64Array;
  /** When the timed flag it was last armed for is due (later than timerAt when re-armed lazily). */
  readonly dueAt: Float64Array;
  /** Value of TCP_WINDOW_CLAMP last set. */
  readonly clamp: Uint32Array;
  /** 1 if nothing happened on either side since the last inactivity scan. */
  readonly inactive: Uint8Array;
  /**
   * Bytes the guest acknowledged that are still in the socket, at the head of its queue: read
   * away (MSG_TRUNC) once there are DISCARD_BATCH of them, and before the socket is closed.
   */
  readonly unread: Uint32Array;
  /** tcpi_bytes_acked (low 32 bits) at the last TCP_INFO: what the peer had taken then. */
  readonly peerAcked: Uint32Array;
  /** Scratch tap-side flowside for lookups. */
  readonly #key = new Uint32Array(SIDE_WORDS);

  /**
   * TCP columns over `flows` (a table of its own for `capacity` flows, hashed
   * under `key`, when not given); at most `capacity` connections.
   */
  constructor(key: Uint32Array, capacity = TCP_MAX_CONNS, flows?: FlowTable) {
    this.flows = flows ?? new FlowTable(key, capacity);
    this.capacity = Math.min(capacity, this.flows.capacity);
    const n = this.flows.capacity;
    // Columns are set when a connection is allocated: no initialisation here.
    this.sock = new Int32Array(n);
    this.timer = new Int32Array(n);
    this.events = new Uint8Array(n);
    this.flags = new Uint16Array(n);
    this.retrans = new Uint8Array(n);
    this.dupAck = new Uint8Array(n);
    this.wsFromTap = new Uint8Array(n);
    this.wsToTap = new Uint8Array(n);
    this.tapMss = new Uint16Array(n);
    this.tapPort = new Uint16Array(n);
    this.sockPort = new Uint16Array(n);
    this.addr = new Uint32Array(n * 4);
    this.guest = new Uint32Array(n * 4);
    this.sndbuf = new Uint32Array(n);
    this.wndFromTap = new Uint32Array(n);
    this.wndToTap = new Uint32Array(n);
    this.seqToTap = new Uint32Array(n);
    this.seqAckFromTap = new Uint32Array(n);
    this.seqFromTap = new Uint32Array(n);
    this.seqAckToTap = new Uint32Array(n);
    this.seqInitFromTap = new Uint32Array(n);
    this.epollMask = new Uint32Array(n);
    this.timerAt = new Float64Array(n);
    this.dueAt = new Float64Array(n);
    this.clamp = new Uint32Array(n);
    this.inactive = new Uint8Array(n);
    this.unread = new Uint32Array(n);
    this.peerAcked = new Uint32Array(n);
  }

  /** One more than the highest flow index in use: iterate `[0, high)` and check {@linkcode inUse}. */
  get high(): number {
    return this.flows.high;
  }

  /** Whether `i` is a TCP connection of ours. */
  inUse(i: number): boolean {
    return i >= 0 && i < this.flows.capacity && this.flows.type[i] === FLOW_TCP;
  }

  /**
   * Sets the tap-side key that {@linkcode lookup} and {@linkcode alloc} act on:
   * guest address `guest[go]` (inany words), remote address `remote[ro]`, and
   * the guest's and our ports; returns this table.
   */
  key(
    guest: Uint32Array,
    go: number,
    remote: Uint32Array,
    ro: number,
    tapPort: number,
    sockPort: number,
  ): this {
    const k = this.#key;
    copyAddr(k, EADDR, guest, go);
    copyAddr(k, OADDR, remote, ro);
    k[EPORT] = tapPort;
    k[OPORT] = sockPort;
    return this;
  }

  /** Index of the connection with the key set by {@linkcode key}, or -1. */
  lookup(): number {
    const sidx = this.flows.lookup(IPPROTO_TCP, PIF_TAP, this.#key, 0);
    return sidx >= 0 && this.flows.type[sidx >> 1] === FLOW_TCP ? sidx >> 1 : -1;
  }

  /**
   * Takes a fresh flow with the key set by {@linkcode key}, zeroed and hashed by
   * its tap side; returns its index, or -1 when the table (or the TCP share of
   * it) is full.
   */
  alloc(): number {
    if (this.count >= this.capacity) return -1;
    const ft = this.flows;
    const i = ft.alloc(FLOW_TCP, IPPROTO_TCP);
    if (i < 0) return -1;
    this.count++;
    const key = this.#key;
    ft.side.set(key, ft.sideOff(2 * i));
    ft.pif[2 * i] = PIF_TAP;
    ft.pif[2 * i + 1] = PIF_HOST;
    ft.hashInsert(2 * i);
    const k = i << 2;
    copyAddr(this.addr, k, key, OADDR);
    copyAddr(this.guest, k, key, EADDR);
    this.tapPort[i] = key[EPORT]!;
    this.sockPort[i] = key[OPORT]!;
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
    this.timerAt[i] = 0;
    this.dueAt[i] = 0;
    this.clamp[i] = 0;
    this.inactive[i] = 0;
    this.unread[i] = 0;
    this.peerAcked[i] = 0;
    return i;
  }

  /** Frees connection `i` (its flow goes back to the table; indices never move). */
  free(i: number): void {
    if (!this.inUse(i)) return;
    this.flows.free(i);
    this.sock[i] = -1;
    this.timer[i] = -1;
    this.count--;
  }
}
