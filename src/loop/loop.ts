// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `loop.ts` - the main loop: synchronous epoll, typed references, timers, signals
 *
 * Theory of operation: the JavaScript thread blocks in `epoll_wait` through a
 * synchronous FFI call, for at most {@linkcode EPOLL_EVENTS} events at a time
 * (as upstream, for fairness between sockets). Each registered descriptor
 * carries a 64-bit reference: the low word holds the descriptor kind
 * ({@linkcode EpollType}, 8 bits) and the fd (24 bits, so fds above
 * {@linkcode SOCKET_MAX} are refused), the high word a per-kind index (a
 * connection table slot, a target port...). Handlers are registered per kind
 * once, at start-up, and called as `handler(events, fd, index, now)`.
 *
 * The clock is read once per wake-up and passed down as `now` (milliseconds,
 * monotonic). After the events of one wake-up, deferred handlers run (they flush
 * frames queued towards the guest), then every periodic timer whose interval
 * elapsed. The wait timeout is the time to the next periodic timer.
 *
 * Work that may wait until set-up is complete (binding the native symbols
 * set-up did not use) runs in slices, one per wake-up
 * ({@linkcode Loop.background}); while a slice is left, waits don't block, so
 * events still come first and find the loop at most one slice late.
 *
 * After a wake-up that had events, the next wait first polls without
 * blocking, up to {@linkcode SPIN_WAITS} times, and blocks only if none of
 * those finds an event: a request just forwarded to a local server is often
 * answered within that time (10 to 20 microseconds on this machine), and a
 * thread that sleeps pays for its wake-up, on a virtual machine for the
 * halted virtual CPU's too. One round per wake-up with events, none while
 * idle (docs/performance.md, "Request/response").
 *
 * A listener whose `accept()` fails for lack of descriptors or memory keeps
 * its connection queued, so a level-triggered registration would wake us at
 * once, forever: such a listener rests ({@linkcode Loop.rest}) for
 * {@linkcode REST_MS}, then is polled again, and the queued connection is
 * accepted as soon as descriptors are free.
 *
 * Faults: an exception thrown by the handler of a flow's descriptor (a kind
 * registered with a closer, see {@linkcode Loop.on}) closes that flow, with
 * one error line, and the loop goes on; an exception anywhere else ends
 * {@linkcode Loop.run} with a {@linkcode LoopFault}, which `main.ts` prints as
 * one line: never a stack trace.
 *
 * Signals arrive through a pipe written by a native signal handler (whichever
 * runtime thread the kernel delivers them to), so SIGTERM, SIGINT and SIGCHLD
 * are handled here, synchronously, like any other event.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { debug, errRatelimit, RateLimit } from "../log.ts";
import {
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
  EPOLLIN,
  O_CLOEXEC,
  O_NONBLOCK,
} from "../../ffi/sys.ts";
import { EAGAIN, EINTR, EMFILE, ENFILE, ENOBUFS, ENOMEM, strerror } from "../../ffi/errno.ts";

/** Events per `epoll_wait` call (upstream EPOLL_EVENTS). */
export const EPOLL_EVENTS = 8;

/** Non-blocking waits tried before a blocking one, after a wake-up with events. */
export const SPIN_WAITS = 16;
/** Largest fd that fits the 24-bit fd field of a reference (upstream SOCKET_MAX). */
export const SOCKET_MAX = (1 << 24) - 1;

/** How long a listener rests after accept() ran out of resources, in milliseconds. */
export const REST_MS = 100;

/** Whether an accept() result (-errno) means "out of descriptors or memory": then rest. */
export function outOfResources(rc: number): boolean {
  return rc === -EMFILE || rc === -ENFILE || rc === -ENOBUFS || rc === -ENOMEM;
}

/** Kinds of descriptors in the loop; the number is stored in the reference. */
export const EpollType = {
  NONE: 0,
  SIGNAL: 1,
  TAP_PASTA: 2,
  TAP_PASST: 3,
  TAP_LISTEN: 4,
  NSQUIT_INOTIFY: 5,
  NSQUIT_PIDFD: 6,
  TCP: 7,
  TCP_SPLICE: 8,
  TCP_LISTEN: 9,
  TCP_TIMER: 10,
  UDP: 11,
  UDP_LISTEN: 12,
  ICMP: 13,
  ICMPV6: 14,
  VHOST_CMD: 15,
  VHOST_KICK: 16,
  CONF_LISTEN: 17,
  CONF: 18,
  S4N_API_LISTEN: 19,
  S4N_API: 20,
  EXIT_FD: 21,
  COUNT: 22,
} as const;

/** One of the {@linkcode EpollType} values. */
export type EpollType = typeof EpollType[keyof typeof EpollType];

/** Handler for events on a descriptor of one kind. */
export type EventHandler = (events: number, fd: number, index: number, now: number) => void;

/** Closes the flow that descriptor `fd` (reference index `index`) belongs to, after a fault. */
export type FlowCloser = (fd: number, index: number, now: number) => void;

/** A fault the loop can't contain: the process exits with this one line. */
export class LoopFault extends Error {
  /** Creates the fault from what was thrown, `where` naming the part. */
  constructor(where: string, cause: unknown) {
    super(`${where}: ${describe(cause)}`, { cause });
    this.name = "LoopFault";
  }
}

/** One line for anything thrown. */
export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.split("\n")[0]!;
  return String(e).split("\n")[0]!;
}

const KIND_NAMES = [
  "none",
  "signal",
  "tap device",
  "passt socket",
  "passt listener",
  "namespace watch",
  "namespace watch",
  "TCP",
  "spliced TCP",
  "TCP listener",
  "TCP timer",
  "UDP",
  "UDP listener",
  "ICMP",
  "ICMPv6",
  "ping timer",
];

const rlFault = new RateLimit(5, 1000);

/** Handler run after each batch of events, or periodically. */
export type TimeHandler = (now: number) => void;

/** Handler for one signal number. */
export type SignalHandler = (signo: number, now: number) => void;

interface Periodic {
  interval: number;
  last: number;
  fn: TimeHandler;
}

interface Resting {
  type: EpollType;
  index: number;
  events: number;
  until: number;
}

function noEvent(): void {}

/** The epoll main loop. */
export class Loop {
  readonly epfd: number;
  readonly #events = new Uint8Array(EPOLL_EVENTS * 12);
  readonly #ev = new Uint32Array(this.#events.buffer);
  readonly #handlers: EventHandler[] = new Array(EpollType.COUNT).fill(noEvent);
  /** Events dispatched so far, per kind (for --stats). */
  readonly eventCounts = new Float64Array(EpollType.COUNT);
  readonly #closers: (FlowCloser | null)[] = new Array(EpollType.COUNT).fill(null);
  readonly #deferred: TimeHandler[] = [];
  readonly #periodic: Periodic[] = [];
  readonly #background: (() => boolean)[] = [];
  /** When the first background slice may run (performance.now() time). */
  #backgroundFrom = 0;
  readonly #signals = new Map<number, SignalHandler>();
  readonly #resting = new Map<number, Resting>();
  readonly #sigbuf = new Uint8Array(64);
  #sigRead = -1;
  #running = false;
  #exitCode = 0;
  #now = 0;
  /** The last wait returned events: poll before blocking (SPIN_WAITS). */
  #busy = false;

  /** Creates the epoll instance. */
  constructor() {
    const fd = lib().pf_epoll_create();
    if (fd < 0) throw new Error(`Cannot create epoll instance: ${strerror(-fd)}`);
    this.epfd = fd;
    this.#now = performance.now();
  }

  /** The time read at the last wake-up, in milliseconds. */
  get now(): number {
    return this.#now;
  }

  /**
   * Registers the handler for one kind of descriptor; `close`, for the
   * descriptors of flows, closes the flow whose handler threw.
   */
  on(type: EpollType, handler: EventHandler, close: FlowCloser | null = null): void {
    this.#handlers[type] = handler;
    this.#closers[type] = close;
  }

  /**
   * Adds `fd` with `events`, kind `type` and per-kind `index`; returns 0 or
   * -errno, and -EBADF... for fds that don't fit the reference (-EMFILE).
   */
  add(fd: number, type: EpollType, index: number, events: number): number {
    return this.#ctl(EPOLL_CTL_ADD, fd, type, index, events);
  }

  /**
   * Closer for flows with a socket of their own that their table ages out
   * (UDP, ICMP): stop polling it; the table closes it at its timeout.
   */
  readonly dropFd: FlowCloser = (fd) => {
    this.del(fd);
  };

  /** Changes the events, kind or index of a registered `fd`; 0 or -errno. */
  mod(fd: number, type: EpollType, index: number, events: number): number {
    return this.#ctl(EPOLL_CTL_MOD, fd, type, index, events);
  }

  /**
   * Forgets `fd`, which the caller closes right away, without a system call: closing the last
   * descriptor of a file takes it out of the epoll set (only for descriptors never duplicated).
   */
  forget(fd: number): void {
    this.#resting.delete(fd);
  }

  /** Removes `fd` from the loop; 0 or -errno. */
  del(fd: number): number {
    this.forget(fd);
    return lib().pf_epoll_ctl(this.epfd, EPOLL_CTL_DEL, fd, 0, 0, 0);
  }

  #ctl(op: number, fd: number, type: EpollType, index: number, events: number): number {
    if (fd < 0 || fd > SOCKET_MAX) return -24; /* EMFILE */
    const lo = ((fd << 8) | type) >>> 0;
    return lib().pf_epoll_ctl(this.epfd, op, fd, events >>> 0, lo, index >>> 0);
  }

  /**
   * Stops reporting `fd` for {@linkcode REST_MS}, then restores `events`
   * (kind `type`, index `index`): for a listener out of descriptors.
   */
  rest(fd: number, type: EpollType, index: number, events: number): void {
    if (this.#resting.has(fd)) return;
    if (this.#ctl(EPOLL_CTL_MOD, fd, type, index, 0) < 0) return;
    this.#resting.set(fd, { type, index, events, until: this.#now + REST_MS });
  }

  #wake(now: number): void {
    for (const [fd, r] of this.#resting) {
      if (now < r.until) continue;
      this.#resting.delete(fd);
      this.#ctl(EPOLL_CTL_MOD, fd, r.type, r.index, r.events);
    }
  }

  /** Adds a handler run after every batch of events (e.g. flushing frames to the tap). */
  defer(fn: TimeHandler): void {
    this.#deferred.push(fn);
  }

  /**
   * Adds work run in slices, one per wake-up, until `slice` returns false
   * (nothing left), starting `delayMs` from now; waits don't block while a
   * slice is due.
   */
  background(slice: () => boolean, delayMs = 0): void {
    if (!this.#background.length) this.#backgroundFrom = performance.now() + delayMs;
    this.#background.push(slice);
  }

  /** Whether a background slice is due at `now`. */
  #backgroundDue(now: number): boolean {
    return this.#background.length > 0 && now >= this.#backgroundFrom;
  }

  /** Adds a handler run every `intervalMs` milliseconds (checked at each wake-up). */
  every(intervalMs: number, fn: TimeHandler): void {
    this.#periodic.push({ interval: intervalMs, last: this.#now, fn });
  }

  /** Handles `signo` in the loop; installs the native forwarding on first use. */
  onSignal(signo: number, fn: SignalHandler): void {
    if (this.#sigRead < 0) this.#setupSignals();
    this.#signals.set(signo, fn);
  }

  #setupSignals(): void {
    const fds = new Int32Array(2);
    const rc = lib().pf_pipe2(new Uint8Array(fds.buffer), O_NONBLOCK | O_CLOEXEC);
    if (rc < 0) throw new Error(`Cannot create signal pipe: ${strerror(-rc)}`);
    this.#sigRead = fds[0]!;
    const wr = fds[1]!;
    const r = lib().pf_signal_pipe(wr);
    if (r < 0) throw new Error(`Cannot install signal handlers: ${strerror(-r)}`);
    this.on(EpollType.SIGNAL, (_ev, fd, _i, now) => this.#readSignals(fd, now));
    this.add(this.#sigRead, EpollType.SIGNAL, 0, EPOLLIN);
  }

  #readSignals(fd: number, now: number): void {
    for (;;) {
      const n = lib().pf_read(fd, this.#sigbuf, 0, this.#sigbuf.length);
      if (n <= 0) return;
      for (let i = 0; i < n; i++) {
        const signo = this.#sigbuf[i]!;
        const fn = this.#signals.get(signo);
        if (fn) fn(signo, now);
        else debug(`Ignoring signal ${signo}`);
      }
    }
  }

  /** Ends {@linkcode Loop.run} after the current iteration, with `code` as its result. */
  stop(code = 0): void {
    this.#running = false;
    this.#exitCode = code;
  }

  /** Whether the loop is running. */
  get running(): boolean {
    return this.#running;
  }

  #timeout(): number {
    let t = this.#background.length ? Math.max(0, Math.ceil(this.#backgroundFrom - this.#now)) : -1;
    for (const p of this.#periodic) {
      const left = Math.max(0, Math.ceil(p.last + p.interval - this.#now));
      if (t < 0 || left < t) t = left;
    }
    // (a Map iterator is an object: none made on a wake-up with nothing resting)
    if (this.#resting.size === 0) return t;
    for (const r of this.#resting.values()) {
      const left = Math.max(0, Math.ceil(r.until - this.#now));
      if (t < 0 || left < t) t = left;
    }
    return t;
  }

  /** Runs one wake-up: wait, dispatch, deferred handlers, due timers. */
  runOnce(timeoutMs?: number): void {
    const ffi = lib();
    const wait = this.#backgroundDue(this.#now) ? 0 : timeoutMs ?? this.#timeout();
    let n = 0;
    if (this.#busy && wait !== 0) {
      for (let k = 0; k < SPIN_WAITS && n === 0; k++) {
        n = ffi.pf_epoll_wait(this.epfd, this.#events, EPOLL_EVENTS, 0);
      }
    }
    if (n === 0) n = ffi.pf_epoll_wait(this.epfd, this.#events, EPOLL_EVENTS, wait);
    this.#busy = n > 0;
    const now = this.#now = performance.now();
    if (n < 0 && n !== -EINTR && n !== -EAGAIN) {
      throw new Error(`epoll_wait failed: ${strerror(-n)}`);
    }
    const ev = this.#ev;
    for (let i = 0; i < n; i++) {
      const events = ev[i * 3]!;
      const lo = ev[i * 3 + 1]!;
      const index = ev[i * 3 + 2]!;
      this.eventCounts[lo & 0xff]!++;
      try {
        this.#handlers[lo & 0xff]!(events, lo >>> 8, index, now);
      } catch (e) {
        this.#fault(lo & 0xff, lo >>> 8, index, now, e);
      }
    }
    try {
      for (let i = 0; i < this.#deferred.length; i++) this.#deferred[i]!(now);
      for (let i = 0; i < this.#periodic.length; i++) {
        const p = this.#periodic[i]!;
        if (now - p.last >= p.interval) {
          p.last = now;
          p.fn(now);
        }
      }
      if (this.#backgroundDue(now) && !this.#background[0]!()) this.#background.shift();
    } catch (e) {
      throw e instanceof LoopFault ? e : new LoopFault("timer", e);
    }
    if (this.#resting.size) this.#wake(now);
  }

  /** A handler threw: close its flow and go on, or end the loop. */
  #fault(type: number, fd: number, index: number, now: number, e: unknown): void {
    const where = KIND_NAMES[type] ?? `kind ${type}`;
    const close = this.#closers[type];
    if (!close || e instanceof LoopFault) {
      throw e instanceof LoopFault ? e : new LoopFault(where, e);
    }
    errRatelimit(rlFault, now, () => `${where}: ${describe(e)}: closing flow`);
    try {
      close(fd, index, now);
    } catch (e2) {
      throw new LoopFault(`${where}, closing a flow after a fault`, e2);
    }
  }

  /** Runs until {@linkcode Loop.stop}; returns the code given to it. */
  run(): number {
    this.#running = true;
    while (this.#running) this.runOnce();
    return this.#exitCode;
  }
}
