// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `wire.ts` - the pesto configuration protocol (upstream 2026, version 2), byte for byte
 *
 * Theory of operation: a client (pesto) connects to the UNIX stream socket
 * given to passt or pasta with `-c`. The server speaks first:
 *
 *   hello      "basil:s\0" magic, then big-endian u32 version (2), pif name
 *              size (128) and IFNAMSIZ (16): 20 bytes
 *   per table  u8 pif id (HOST 1, SPLICE 3), then the pif info (a 128-byte
 *              NUL-padded name, u32 capabilities, u32 rule count), then the
 *              rules, 56 bytes each
 *   end        u8 0 (PIF_NONE)
 *
 * The client then either closes (show only) or sends the new tables: per
 * table u8 pif id, u32 count and the rules, then u8 0. The server replaces
 * its tables with what it received and closes; there is no reply.
 *
 * A rule is upstream's `struct fwd_rule` as it lies in memory on x86-64, with
 * the three port fields swapped to network order: listening address and
 * target address (16 bytes each, IPv4 as v4-mapped IPv6), interface name (16
 * bytes, NUL-terminated), first, last and target port (u16 big-endian), the
 * IP protocol number and the flags (u8 each).
 *
 * {@linkcode RequestParser} reads a client's tables incrementally from a
 * non-blocking socket, so a client that stalls never blocks the data path;
 * every bound (pif id, rule count, name termination) is checked as soon as
 * the bytes arrive, so a hostile length never makes us wait for or allocate
 * more than one table's worth of rules.
 *
 * @module
 */

import type { FwdCaps } from "../fwd/fwd_rule.ts";

/** Server greeting magic, NUL included (upstream PESTO_SERVER_MAGIC). */
export const PESTO_MAGIC = new TextEncoder().encode("basil:s\0");
/** Protocol version spoken here. */
export const PESTO_PROTOCOL_VERSION = 2;
/** Size of a pif name field, NUL included. */
export const PIF_NAME_SIZE = 128;
/** Size of an interface name field, NUL included. */
export const IFNAMSIZ = 16;
/** Bytes of the server's hello. */
export const HELLO_SIZE = 20;
/** Bytes of a pif info record (name, caps, count). */
export const PIF_INFO_SIZE = PIF_NAME_SIZE + 8;
/** Bytes of one serialised rule. */
export const RULE_SIZE = 56;
/** Most rules in one table (upstream MAX_FWD_RULES, 8 bits of rule index). */
export const MAX_FWD_RULES = 255;

/** pif ids (upstream `enum pif_type`). */
export const PIF_NONE = 0;
/** Host side: inbound forwards (-t, -u). */
export const PIF_HOST = 1;
/** Guest side (no forwarding table). */
export const PIF_TAP = 2;
/** Namespace loopback: outbound forwards (-T, -U), pasta only. */
export const PIF_SPLICE = 3;

/** Names of the pif ids, as upstream's `pif_name()`. */
export function pifName(pif: number): string {
  return ["<none>", "HOST", "TAP", "SPLICE"][pif] ?? "?";
}

/** Capability bits of a table. */
export const FWD_CAP_IPV4 = 1 << 0;
/** IPv6 enabled. */
export const FWD_CAP_IPV6 = 1 << 1;
/** TCP enabled. */
export const FWD_CAP_TCP = 1 << 2;
/** UDP enabled. */
export const FWD_CAP_UDP = 1 << 3;
/** `auto` scanning available (pasta). */
export const FWD_CAP_SCAN = 1 << 4;
/** SO_BINDTODEVICE available. */
export const FWD_CAP_IFNAME = 1 << 5;

/** The capability bits of a table that can hold what `c` allows, and binds to devices if `ifname`. */
export function capBits(c: FwdCaps, ifname: boolean): number {
  return (c.v4 ? FWD_CAP_IPV4 : 0) | (c.v6 ? FWD_CAP_IPV6 : 0) | (c.tcp ? FWD_CAP_TCP : 0) |
    (c.udp ? FWD_CAP_UDP : 0) | (c.scan ? FWD_CAP_SCAN : 0) | (ifname ? FWD_CAP_IFNAME : 0);
}

/** Rule flag: match any IPv4 or IPv6 address (addr is ::). */
export const FWD_DUAL_STACK_ANY = 1 << 0;
/** Rule flag: failing binds are not errors. */
export const FWD_WEAK = 1 << 1;
/** Rule flag: forward a port only while the target side listens on it. */
export const FWD_SCAN = 1 << 2;

/** IP protocol numbers used in rules. */
export const IPPROTO_TCP = 6;
/** UDP. */
export const IPPROTO_UDP = 17;

/** One forwarding rule, as on the wire (addresses as 16 raw inany bytes). */
export interface FwdRule {
  /** Listening address: IPv6, or IPv4 as ::ffff:a.b.c.d; :: with FWD_DUAL_STACK_ANY. */
  addr: Uint8Array;
  /** Target address, :: (all zero) for the default target. */
  taddr: Uint8Array;
  /** Interface to bind to, "" for none. */
  ifname: string;
  first: number;
  last: number;
  /** Target port of `first`. */
  to: number;
  proto: number;
  flags: number;
}

/** One pif's table: id, name, capabilities, rules. */
export interface PifTable {
  pif: number;
  name: string;
  caps: number;
  rules: FwdRule[];
}

/** A protocol violation by the peer: the message says what, the connection is to be closed. */
export class WireError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Writes `s` NUL-padded into `size` bytes at `off`; throws if it doesn't fit with its NUL. */
function putName(b: Uint8Array, off: number, size: number, s: string): void {
  const raw = enc.encode(s);
  if (raw.length >= size) throw new WireError(`Name too long: ${s}`);
  b.fill(0, off, off + size);
  b.set(raw, off);
}

/** Reads a NUL-terminated name of `size` bytes; null if the last byte isn't NUL. */
function getName(b: Uint8Array, off: number, size: number): string | null {
  if (b[off + size - 1] !== 0) return null;
  let end = off;
  while (b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

/** Writes the server's hello into `b` at `off`. */
export function encodeHello(b: Uint8Array, off = 0): void {
  const v = new DataView(b.buffer, b.byteOffset);
  b.set(PESTO_MAGIC, off);
  v.setUint32(off + 8, PESTO_PROTOCOL_VERSION);
  v.setUint32(off + 12, PIF_NAME_SIZE);
  v.setUint32(off + 16, IFNAMSIZ);
}

/** The fields of a received hello. */
export interface Hello {
  magicOk: boolean;
  version: number;
  pifNameSize: number;
  ifnamsiz: number;
}

/** Reads a hello (20 bytes at `off`). */
export function decodeHello(b: Uint8Array, off = 0): Hello {
  const v = new DataView(b.buffer, b.byteOffset);
  let magicOk = true;
  for (let i = 0; i < PESTO_MAGIC.length; i++) {
    if (b[off + i] !== PESTO_MAGIC[i]) magicOk = false;
  }
  return {
    magicOk,
    version: v.getUint32(off + 8),
    pifNameSize: v.getUint32(off + 12),
    ifnamsiz: v.getUint32(off + 16),
  };
}

/** Serialises `r` into `b` at `off` (56 bytes). */
export function encodeRule(b: Uint8Array, off: number, r: FwdRule): void {
  const v = new DataView(b.buffer, b.byteOffset);
  b.set(r.addr.subarray(0, 16), off);
  b.set(r.taddr.subarray(0, 16), off + 16);
  putName(b, off + 32, IFNAMSIZ, r.ifname);
  v.setUint16(off + 48, r.first);
  v.setUint16(off + 50, r.last);
  v.setUint16(off + 52, r.to);
  b[off + 54] = r.proto;
  b[off + 55] = r.flags;
}

/** Reads a rule at `off`; the interface name comes back as null if it isn't NUL-terminated. */
export function decodeRule(
  b: Uint8Array,
  off: number,
): Omit<FwdRule, "ifname"> & { ifname: string | null } {
  const v = new DataView(b.buffer, b.byteOffset);
  return {
    addr: b.slice(off, off + 16),
    taddr: b.slice(off + 16, off + 32),
    ifname: getName(b, off + 32, IFNAMSIZ),
    first: v.getUint16(off + 48),
    last: v.getUint16(off + 50),
    to: v.getUint16(off + 52),
    proto: b[off + 54]!,
    flags: b[off + 55]!,
  };
}

/** The server's whole greeting: hello, every table with its rules, PIF_NONE. */
export function encodeServerState(tables: readonly PifTable[]): Uint8Array {
  let size = HELLO_SIZE + 1;
  for (const t of tables) size += 1 + PIF_INFO_SIZE + t.rules.length * RULE_SIZE;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  encodeHello(b, 0);
  let off = HELLO_SIZE;
  for (const t of tables) {
    b[off++] = t.pif;
    putName(b, off, PIF_NAME_SIZE, t.name);
    v.setUint32(off + PIF_NAME_SIZE, t.caps);
    v.setUint32(off + PIF_NAME_SIZE + 4, t.rules.length);
    off += PIF_INFO_SIZE;
    for (const r of t.rules) {
      encodeRule(b, off, r);
      off += RULE_SIZE;
    }
  }
  b[off] = PIF_NONE;
  return b;
}

/** A client's update: per table pif id, count and rules, then PIF_NONE. */
export function encodeUpdate(
  tables: readonly { pif: number; rules: readonly FwdRule[] }[],
): Uint8Array {
  let size = 1;
  for (const t of tables) size += 5 + t.rules.length * RULE_SIZE;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  let off = 0;
  for (const t of tables) {
    b[off] = t.pif;
    v.setUint32(off + 1, t.rules.length);
    off += 5;
    for (const r of t.rules) {
      encodeRule(b, off, r);
      off += RULE_SIZE;
    }
  }
  b[off] = PIF_NONE;
  return b;
}

/** Outcome of feeding bytes to a {@linkcode RequestParser}. */
export type ParseState = "more" | "done";

/**
 * Incremental parser of a client's update (server side). Feed it whatever
 * arrived; it returns "more" until the terminating PIF_NONE, then "done" with
 * {@linkcode tables} filled, and throws {@linkcode WireError} on anything
 * upstream's server would reject (unknown table, too many rules, interface
 * name not terminated). Bytes after the end are an error too.
 */
export class RequestParser {
  /** Tables received so far, by pif id (only ids in `known`). */
  readonly tables = new Map<number, FwdRule[]>();
  readonly #known: ReadonlySet<number>;
  readonly #buf = new Uint8Array(RULE_SIZE);
  #have = 0;
  #state: "pif" | "count" | "rule" | "done" = "pif";
  #pif = 0;
  #left = 0;

  /** Accepts tables for the pif ids in `known`. */
  constructor(known: Iterable<number>) {
    this.#known = new Set(known);
  }

  #need(): number {
    switch (this.#state) {
      case "pif":
        return 1;
      case "count":
        return 4;
      default:
        return RULE_SIZE;
    }
  }

  /** Consumes `data`; returns "done" once the whole update is in. */
  feed(data: Uint8Array): ParseState {
    let i = 0;
    while (i < data.length) {
      if (this.#state === "done") throw new WireError("Trailing data after configuration");
      const need = this.#need();
      const take = Math.min(need - this.#have, data.length - i);
      this.#buf.set(data.subarray(i, i + take), this.#have);
      this.#have += take;
      i += take;
      if (this.#have < need) break;
      this.#have = 0;
      this.#step();
    }
    return this.#state === "done" ? "done" : "more";
  }

  #step(): void {
    const b = this.#buf;
    switch (this.#state) {
      case "pif": {
        const pif = b[0]!;
        if (pif === PIF_NONE) {
          this.#state = "done";
          return;
        }
        if (!this.#known.has(pif)) throw new WireError("Received rules for non-existent table");
        this.#pif = pif;
        this.#state = "count";
        return;
      }
      case "count": {
        const count = new DataView(b.buffer).getUint32(0);
        if (count > MAX_FWD_RULES) {
          throw new WireError(`Received ${count} rules (maximum ${MAX_FWD_RULES})`);
        }
        // A table sent twice replaces the earlier copy, as upstream's
        // clear-then-add of the pending table.
        this.tables.set(this.#pif, []);
        this.#left = count;
        this.#state = count > 0 ? "rule" : "pif";
        return;
      }
      case "rule": {
        const r = decodeRule(b, 0);
        if (r.ifname === null) throw new WireError("Interface name was not NULL terminated");
        this.tables.get(this.#pif)!.push({ ...r, ifname: r.ifname });
        if (--this.#left === 0) this.#state = "pif";
        return;
      }
      case "done":
        return;
    }
  }
}

/**
 * Parser of the server's greeting (client side): feed bytes until it returns
 * "done"; {@linkcode hello} and {@linkcode tables} are then complete. Throws
 * {@linkcode WireError} with upstream pesto's messages.
 */
export class StateParser {
  hello: Hello | null = null;
  readonly tables: PifTable[] = [];
  #buf = new Uint8Array(0);
  #state: "hello" | "pif" | "info" | "rule" | "done" = "hello";
  #cur: PifTable | null = null;
  #left = 0;

  #need(): number {
    switch (this.#state) {
      case "hello":
        return HELLO_SIZE;
      case "pif":
        return 1;
      case "info":
        return PIF_INFO_SIZE;
      default:
        return RULE_SIZE;
    }
  }

  /** Bytes wanted next (to read exactly that much from a blocking socket). */
  get want(): number {
    return this.#state === "done" ? 0 : this.#need() - this.#buf.length;
  }

  /** Consumes `data`; returns "done" once the whole state is in. */
  feed(data: Uint8Array): ParseState {
    let i = 0;
    while (i < data.length && this.#state !== "done") {
      const need = this.#need();
      const take = Math.min(need - this.#buf.length, data.length - i);
      const nb = new Uint8Array(this.#buf.length + take);
      nb.set(this.#buf);
      nb.set(data.subarray(i, i + take), this.#buf.length);
      this.#buf = nb;
      i += take;
      if (this.#buf.length < need) break;
      const b = this.#buf;
      this.#buf = new Uint8Array(0);
      this.#step(b);
    }
    return this.#state === "done" ? "done" : "more";
  }

  #step(b: Uint8Array): void {
    switch (this.#state) {
      case "hello": {
        const h = decodeHello(b);
        if (!h.magicOk) throw new WireError("Bad magic number from server");
        if (h.version > PESTO_PROTOCOL_VERSION) {
          throw new WireError(
            `Unknown server protocol version ${h.version} > ${PESTO_PROTOCOL_VERSION}`,
          );
        }
        if (h.version === 0) throw new WireError("Unsupported experimental server protocol");
        if (h.pifNameSize !== PIF_NAME_SIZE) {
          throw new WireError(
            `Server has unexpected pif name size (${h.pifNameSize} not ${PIF_NAME_SIZE})`,
          );
        }
        if (h.ifnamsiz !== IFNAMSIZ) {
          throw new WireError(`Server has unexpected IFNAMSIZ (${h.ifnamsiz} not ${IFNAMSIZ})`);
        }
        this.hello = h;
        this.#state = "pif";
        return;
      }
      case "pif": {
        if (b[0] === PIF_NONE) {
          this.#state = "done";
          return;
        }
        if (this.tables.length >= 3) {
          throw new WireError("passt has more pifs than pesto can manage (max 3)");
        }
        this.#cur = { pif: b[0]!, name: "", caps: 0, rules: [] };
        this.#state = "info";
        return;
      }
      case "info": {
        const cur = this.#cur!;
        const name = getName(b, 0, PIF_NAME_SIZE);
        if (name === null) throw new WireError("Interface name was not NULL terminated");
        const v = new DataView(b.buffer, b.byteOffset);
        cur.name = name;
        cur.caps = v.getUint32(PIF_NAME_SIZE);
        this.#left = v.getUint32(PIF_NAME_SIZE + 4);
        if (this.#left > MAX_FWD_RULES) throw new WireError("Too many forwarding rules");
        if (this.tables.some((t) => t.pif === cur.pif)) {
          throw new WireError("Received duplicate interface identifier");
        }
        if (this.tables.some((t) => t.name === cur.name)) {
          throw new WireError("Received duplicate interface name");
        }
        this.tables.push(cur);
        this.#state = this.#left > 0 ? "rule" : "pif";
        return;
      }
      case "rule": {
        const r = decodeRule(b, 0);
        // Shown as received, as upstream does, even if the server sent nonsense
        this.#cur!.rules.push({ ...r, ifname: r.ifname ?? "" });
        if (--this.#left === 0) this.#state = "pif";
        return;
      }
      case "done":
        return;
    }
  }
}
