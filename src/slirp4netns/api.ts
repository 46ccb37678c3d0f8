// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `api.ts` - slirp4netns's API socket: `add_hostfwd`, `list_hostfwd`, `remove_hostfwd`
 *
 * Theory of operation: a UNIX stream socket (`--api-socket PATH`) takes one
 * JSON request per connection, `{"execute": NAME, "arguments": {...}}`, and
 * answers with one JSON object, `{"return": ...}` or `{"error": {"desc":
 * ...}}`, with slirp4netns 1.2's exact texts, then closes. A port exposed
 * with `add_hostfwd` becomes a forwarding rule of the HOST table
 * (`Forwarder.replace`, so it is listening when the reply says so, and a
 * port that can't be bound changes nothing); ids count up from 1 and are
 * never reused, as slirp4netns's.
 *
 * slirp4netns reads a request with one `read()` and blocks its whole loop
 * meanwhile; here nothing blocks: each connection collects bytes until the
 * client shuts its side down (what Podman, RootlessKit and the man page
 * do) or the bytes so far already make a JSON value, and a request of 4096
 * bytes or more is refused ("too large message"). A client that sends
 * nothing is dropped after {@linkcode API_TIMEOUT} ms, and at most
 * {@linkcode API_CLIENTS} are served at once (more are closed at accept).
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { EAGAIN, EINTR, strerror } from "../../ffi/errno.ts";
import {
  AF_UNIX,
  EPOLLIN,
  EPOLLRDHUP,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SHUT_RDWR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
} from "../../ffi/sys.ts";
import { debug, warn } from "../log.ts";
import { EpollType, type Loop } from "../loop/loop.ts";
import { type Forwarder, FwdError } from "../fwd/fwd.ts";
import { type FwdRule, ruleEqual } from "../fwd/fwd_rule.ts";
import { formatIp4, parseIp4 } from "../ip.ts";

// The socket file is removed at exit, after the sandbox is in place:
// #syscalls:pasta statx newfstatat unlink unlinkat

/** Largest request + 1 (slirp4netns's buffer). */
export const API_BUFLEN = 4096;
/** Connections served at once. */
export const API_CLIENTS = 16;
/** A client idle for this long (ms) is dropped. */
export const API_TIMEOUT = 5000;

/** One exposed port. */
interface HostFwd {
  id: number;
  udp: boolean;
  hostAddr: number;
  hostPort: number;
  guestAddr: number;
  guestPort: number;
  rule: FwdRule;
}

interface Client {
  fd: number;
  buf: Uint8Array;
  len: number;
  since: number;
}

/** Binds and listens on `path` (a stale file is removed first, as slirp4netns does). */
export function bindApi(path: string): number {
  const ffi = lib();
  const raw = new TextEncoder().encode(path);
  if (raw.length >= 108) {
    throw new FwdError("the specified API socket path is too long (>= 108)");
  }
  try {
    Deno.removeSync(path);
  } catch {
    // not there
  }
  const sa = new Uint8Array(110);
  sa[0] = AF_UNIX;
  sa.set(raw, 2);
  const fd = ffi.pf_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new FwdError(`api_bindlisten: socket: ${strerror(-fd)}`);
  const rc = ffi.pf_bind(fd, sa, sa.length);
  if (rc < 0) {
    ffi.pf_close(fd);
    throw new FwdError(`api_bindlisten: bind: ${strerror(-rc)}`);
  }
  const rl = ffi.pf_listen(fd, 16);
  if (rl < 0) {
    ffi.pf_close(fd);
    throw new FwdError(`api_bindlisten: listen: ${strerror(-rl)}`);
  }
  return fd;
}

function error(desc: string): string {
  return JSON.stringify({ error: { desc } });
}

/** Whether `v` is a plain JSON object. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `json_object_dotget_number()`: the number at `arguments.NAME`, truncated as C's (int); 0 if none. */
function argNumber(args: unknown, name: string): number {
  if (!isObject(args)) return 0;
  const v = args[name];
  if (typeof v !== "number" || !Number.isFinite(v)) return 0;
  return Math.trunc(v);
}

function argString(args: unknown, name: string): string | null {
  if (!isObject(args)) return null;
  const v = args[name];
  return typeof v === "string" ? v : null;
}

/** The API's state and request handling, apart from the sockets (tested on its own). */
export class SlirpApiState {
  readonly fwds: HostFwd[] = [];
  #nextId = 1;

  /** Serves `fwd`'s HOST table; `guest` is the address `guest_addr` defaults to. */
  constructor(readonly fwd: Forwarder, readonly guest: number) {}

  /** Answers one request (its raw text); returns the reply. */
  handle(text: string): string {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return error("bad request: cannot parse JSON");
    }
    if (!isObject(v)) return error("bad request: json_object() failed");
    const execute = v["execute"];
    if (typeof execute !== "string") return error("bad request: no execute found");
    const args = v["arguments"];
    switch (execute) {
      case "add_hostfwd":
        return this.#add(args);
      case "list_hostfwd":
        return JSON.stringify({
          entries: this.fwds.map((f) => ({
            id: f.id,
            proto: f.udp ? "udp" : "tcp",
            host_addr: formatIp4(f.hostAddr),
            host_port: f.hostPort,
            guest_addr: formatIp4(f.guestAddr),
            guest_port: f.guestPort,
          })),
        });
      case "remove_hostfwd":
        return this.#remove(args);
      default:
        return error("bad request: unknown execute");
    }
  }

  #add(args: unknown): string {
    const bad = (what: string): string => error(`bad request: add_hostfwd: bad arguments.${what}`);
    const proto = argString(args, "proto");
    if (proto !== "tcp" && proto !== "udp") return bad("proto");
    let hostS = argString(args, "host_addr");
    if (hostS === null || hostS === "") hostS = "0.0.0.0";
    const hostAddr = parseIp4(hostS);
    if (hostAddr === null) return bad("host_addr");
    const hostPort = argNumber(args, "host_port");
    if (hostPort === 0) return bad("host_port");
    const guestS = argString(args, "guest_addr");
    const guestAddr = guestS === null || guestS === "" ? this.guest : parseIp4(guestS);
    if (guestAddr === null) return bad("guest_addr");
    const guestPort = argNumber(args, "guest_port");
    if (guestPort === 0) return bad("guest_port");
    const failed = error("bad request: add_hostfwd: slirp_add_hostfwd failed");
    if (hostPort < 0 || hostPort > 65535 || guestPort < 0 || guestPort > 65535) return failed;

    const v4 = (a: number): Uint32Array => Uint32Array.from([0, 0, 0xffff, a]);
    const rule: FwdRule = {
      proto: proto === "udp" ? 17 : 6,
      addr: v4(hostAddr),
      ifname: "",
      first: hostPort,
      last: hostPort,
      to: guestPort,
      taddr: guestAddr === this.guest ? new Uint32Array(4) : v4(guestAddr),
      flags: 0,
    };
    try {
      this.fwd.replace("host", [...this.fwd.rules("host"), rule]);
    } catch (e) {
      if (!(e instanceof FwdError)) throw e;
      debug(`add_hostfwd: ${e.message}`);
      return failed;
    }
    const id = this.#nextId++;
    this.fwds.push({ id, udp: proto === "udp", hostAddr, hostPort, guestAddr, guestPort, rule });
    return JSON.stringify({ return: { id } });
  }

  #remove(args: unknown): string {
    const id = argNumber(args, "id");
    const i = this.fwds.findIndex((f) => f.id === id);
    if (i < 0) return error("bad request: remove_hostfwd: bad arguments.id");
    const f = this.fwds[i]!;
    const rules = this.fwd.rules("host");
    const keep = rules.filter((r) => !ruleEqual(r, f.rule));
    try {
      // pesto may have removed it already: then there's nothing to close
      if (keep.length !== rules.length) this.fwd.replace("host", keep);
    } catch (e) {
      if (!(e instanceof FwdError)) throw e;
      return error("bad request: remove_hostfwd: slirp_remove_hostfwd failed");
    }
    this.fwds.splice(i, 1);
    return JSON.stringify({ return: {} });
  }
}

/** The API socket: accepts, collects requests, answers. */
export class SlirpApi {
  readonly state: SlirpApiState;
  readonly #clients = new Map<number, Client>();
  readonly #sa = new Uint8Array(128);
  readonly #ffi = lib();
  readonly #dec = new TextDecoder();
  readonly #enc = new TextEncoder();

  /** Serves the bound socket `listenFd`. */
  constructor(readonly loop: Loop, readonly listenFd: number, fwd: Forwarder, guest: number) {
    this.state = new SlirpApiState(fwd, guest);
    loop.on(EpollType.S4N_API_LISTEN, () => this.#accept());
    loop.on(EpollType.S4N_API, (_ev, fd) => this.#read(fd));
    loop.add(listenFd, EpollType.S4N_API_LISTEN, 0, EPOLLIN);
    loop.every(1000, (now) => this.#timer(now));
  }

  #accept(): void {
    for (;;) {
      const fd = this.#ffi.pf_accept4(this.listenFd, this.#sa, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (fd !== -EAGAIN && fd !== -EINTR) warn(`api_handler: accept: ${strerror(-fd)}`);
        return;
      }
      if (
        this.#clients.size >= API_CLIENTS ||
        this.loop.add(fd, EpollType.S4N_API, 0, EPOLLIN | EPOLLRDHUP) < 0
      ) {
        this.#ffi.pf_close(fd);
        continue;
      }
      this.#clients.set(fd, { fd, buf: new Uint8Array(API_BUFLEN), len: 0, since: this.loop.now });
    }
  }

  #finish(c: Client, reply: string | null): void {
    if (reply !== null) {
      const b = this.#enc.encode(reply);
      this.#ffi.pf_send(c.fd, b, 0, b.length, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    this.loop.del(c.fd);
    this.#ffi.pf_shutdown(c.fd, SHUT_RDWR);
    this.#ffi.pf_close(c.fd);
    this.#clients.delete(c.fd);
  }

  #read(fd: number): void {
    const c = this.#clients.get(fd);
    if (c === undefined) return;
    for (;;) {
      const room = API_BUFLEN - c.len;
      const n = this.#ffi.pf_recv(fd, c.buf, c.len, room, MSG_DONTWAIT);
      if (n === -EAGAIN) break;
      if (n === -EINTR) continue;
      if (n < 0) {
        this.#finish(c, null);
        return;
      }
      if (n === 0) {
        // end of the request
        this.#finish(c, c.len === 0 ? null : this.#answer(c));
        return;
      }
      c.len += n;
      c.since = this.loop.now;
      if (c.len >= API_BUFLEN) {
        warn(`api_handler: too large message (>= ${c.len} bytes)`);
        this.#finish(c, error("bad request: too large message"));
        return;
      }
    }
    // Clients that don't shut their side down: answer once the request is whole
    if (c.len > 0 && this.#complete(c)) this.#finish(c, this.#answer(c));
  }

  #complete(c: Client): boolean {
    try {
      JSON.parse(this.#dec.decode(c.buf.subarray(0, c.len)));
      return true;
    } catch {
      return false;
    }
  }

  #answer(c: Client): string {
    const text = this.#dec.decode(c.buf.subarray(0, c.len));
    debug(`api_handler: got request: ${text}`);
    return this.state.handle(text);
  }

  #timer(now: number): void {
    for (const c of [...this.#clients.values()]) {
      if (now - c.since > API_TIMEOUT) this.#finish(c, null);
    }
  }
}
