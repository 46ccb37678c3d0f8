// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `netlink.ts` - rtnetlink client: link, address and route queries and changes
 *
 * Theory of operation: a {@linkcode Netlink} object owns one NETLINK_ROUTE
 * socket, in the init namespace ({@linkcode Netlink.open}) or in a target
 * namespace ({@linkcode Netlink.openNs}, created by a native helper that joins
 * the namespace in a short-lived clone). All traffic goes through a single
 * preallocated buffer of {@linkcode NLBUFSIZ} bytes: a request is built at its
 * start, sent, and the same buffer then receives the replies.
 *
 * Every request has a fresh sequence number from a monotonic counter. Before a
 * request is sent, whatever is still queued on the socket is drained without
 * blocking, and while replies are read any message carrying another sequence
 * number is skipped, so an abandoned dump can't be mistaken for an answer.
 * Dumps (NLM_F_DUMP) end with NLMSG_DONE; every other request carries NLM_F_ACK
 * and ends with NLMSG_ERROR, whose error field is 0 for an acknowledgement and
 * `-errno` otherwise. Queries read replies up to that end even when the answer
 * came earlier, so the socket is left clean.
 *
 * The socket has NETLINK_GET_STRICT_CHK set, so the kernel filters dumps by
 * the fields the request fills in: address dumps by `ifa_index`, route dumps by
 * `rtm_table` and the RTA_OIF attribute. Replies are still checked here, as
 * kernels without strict checking ignore those filters.
 *
 * Replies are parsed in place. A message or attribute whose length points
 * outside what was received is reported as a {@linkcode NetlinkError}, never
 * read; a peer that keeps sending nothing for us is given up on after
 * {@linkcode MAX_IDLE_READS} datagrams. This is start-up code: results are
 * small objects, and errors are exceptions that name the request.
 *
 * What the answers mean for the configuration (which interface is the
 * template, whether a family is usable) is `conf/host_info.ts`'s business;
 * pasta's set-up of the namespace's interface (`--config-net`) is `run.ts`'s.
 *
 * Addresses are numbers as in `context.ts`: IPv4 as a u32 (192.0.2.1 is
 * 0xc0000201), IPv6 as a `Uint32Array(4)` of big-endian words.
 *
 * @see RFC 3549, rtnetlink(7), netlink(7); upstream passt netlink.c
 * @module
 */

import { EEXIST, EINTR, EINVAL, ENODEV, EPROTO, errnoName, strerror } from "../ffi/errno.ts";
import { lib } from "../ffi/lib.ts";
import { formatIp4, formatIp6 } from "./ip.ts";
import { ip6IsZero } from "./wire/inany.ts";
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  MSG_DONTWAIT,
  NETLINK_ROUTE,
  SOCK_CLOEXEC,
  SOCK_RAW,
} from "../ffi/sys.ts";

/** Size of the request and reply buffer (upstream: 8192 netlink headers). */
export const NLBUFSIZ = 8192 * 16;
/** Datagrams without a message for the current request before giving up. */
export const MAX_IDLE_READS = 64;

/** Address families, as ffi/sys.ts has them. */
export { AF_INET, AF_INET6 };
/** IPv4 or IPv6. */
export type Family = typeof AF_INET | typeof AF_INET6;

// netlink(7)
const NLMSG_HDRLEN = 16;
/** Message types common to all netlink families. */
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
/** Message flags. */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_REPLACE = 0x100;

// rtnetlink(7)
/** Route netlink message types. */
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;

const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const RTMSG_LEN = 12;
const RTATTR_HDRLEN = 4;
const RTNEXTHOP_LEN = 8;

/** Link attributes (IFLA_*). */
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
/** Address attributes (IFA_*) and flags (IFA_F_*). */
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_FLAGS = 8;
export const IFA_F_NODAD = 0x02;
export const IFA_F_DADFAILED = 0x08;
/** Route attributes (RTA_*). */
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_MULTIPATH = 9;
export const RTA_TABLE = 15;
/** Route table, protocol, scope and type values. */
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RTN_UNICAST = 1;
/** Interface flag: administratively up. */
export const IFF_UP = 0x1;
/** No ARP or neighbour discovery (also no duplicate address detection). */
export const IFF_NOARP = 0x80;
/** Index of the loopback interface in every network namespace. */
export const LOOPBACK_IFINDEX = 1;

/** Netlink fields are in host byte order. */
const LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Failure of a netlink request: `errno` is positive, `EPROTO` for malformed replies. */
export class NetlinkError extends Error {
  /** Positive errno value. */
  readonly errno: number;
  /** Symbolic errno name, such as "EEXIST". */
  readonly code: string;

  /** Builds "Cannot <what>: CODE (text)" or, with `detail`, "Cannot <what>: <detail>". */
  constructor(what: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    super(`Cannot ${what}: ${detail ?? `${code} (${strerror(errno)})`}`);
    this.name = "NetlinkError";
    this.errno = errno;
    this.code = code;
  }
}

/** Datagram transport under a {@linkcode Netlink}: returns byte counts or -errno. */
export interface NlTransport {
  /** Sends `len` bytes of `buf` from `off`. */
  send(buf: Uint8Array, off: number, len: number): number;
  /** Receives one datagram into `buf` at `off`, at most `len` bytes; `flags` as recv(2). */
  recv(buf: Uint8Array, off: number, len: number, flags: number): number;
  /** Closes the socket. */
  close(): void;
}

/** {@linkcode NlTransport} over a socket fd, through the native library. */
export class FdTransport implements NlTransport {
  /** The socket's file descriptor. */
  readonly fd: number;
  #closed = false;

  /** Wraps an open NETLINK_ROUTE socket. */
  constructor(fd: number) {
    this.fd = fd;
  }

  /** Sends with pf_send(). */
  send(buf: Uint8Array, off: number, len: number): number {
    return lib().pf_send(this.fd, buf, off, len, 0);
  }

  /** Receives with pf_recv(). */
  recv(buf: Uint8Array, off: number, len: number, flags: number): number {
    return lib().pf_recv(this.fd, buf, off, len, flags);
  }

  /** Closes the fd once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    lib().pf_close(this.fd);
  }
}

/** First IPv4 address and its prefix length; zeroes when there is none. */
export interface Addr4 {
  addr: number;
  prefixLen: number;
}

/** IPv6 global address, its prefix length and the link-local address; zeroes when missing. */
export interface Addr6 {
  addr: Uint32Array;
  prefixLen: number;
  addrLl: Uint32Array;
}

/** Link facts: index, name, MAC (zeroes without an Ethernet address), MTU. */
export interface LinkInfo {
  ifindex: number;
  name: string;
  mac: Uint8Array;
  mtu: number;
  /** Interface flags (IFF_UP...). */
  flags: number;
}

/** Rounds up to the 4-byte alignment of netlink messages and attributes. */
function align4(n: number): number {
  return (n + 3) & ~3;
}

/** An rtnetlink socket with request building and reply parsing over one buffer. */
export class Netlink {
  readonly #t: NlTransport;
  readonly #buf = new Uint8Array(NLBUFSIZ);
  readonly #dv = new DataView(this.#buf.buffer);
  #seq = 0;
  /** Length of the request being built. */
  #txLen = 0;
  /** Sequence number of the request in flight. */
  #reqSeq = 0;
  /** Read position and end of received data. */
  #rxOff = 0;
  #rxEnd = 0;
  /** Whether the request in flight reached its end. */
  #done = true;
  /** 0, or -errno from the NLMSG_ERROR that ended the request. */
  #error = 0;
  /** What the request in flight does, for error messages. */
  #what = "";

  /** Uses `transport` for all requests (see {@linkcode Netlink.open} for real sockets). */
  constructor(transport: NlTransport) {
    this.#t = transport;
  }

  /** Opens a NETLINK_ROUTE socket in the init (current) network namespace. */
  static open(): Netlink {
    const fd = lib().pf_netlink_open();
    if (fd < 0) throw new NetlinkError("open netlink socket", -fd);
    return new Netlink(new FdTransport(fd));
  }

  /** Opens a NETLINK_ROUTE socket in the namespaces given by fd (`usernsFd` -1: keep ours). */
  static openNs(usernsFd: number, netnsFd: number): Netlink {
    const fd = lib().pf_ns_socket(
      usernsFd,
      netnsFd,
      AF_NETLINK,
      SOCK_RAW | SOCK_CLOEXEC,
      NETLINK_ROUTE,
    );
    if (fd < 0) throw new NetlinkError("open netlink socket in namespace", -fd);
    return new Netlink(new FdTransport(fd));
  }

  /** Closes the socket. */
  close(): void {
    this.#t.close();
  }

  /** Closes the socket (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  // Request building

  /** Starts a request; returns the offset of the zeroed family header. */
  #begin(type: number, flags: number, famLen: number, what: string): number {
    this.#buf.fill(0, 0, NLMSG_HDRLEN + famLen);
    this.#dv.setUint16(4, type, LE);
    this.#dv.setUint16(6, NLM_F_REQUEST | flags, LE);
    this.#txLen = NLMSG_HDRLEN + famLen;
    this.#what = what;
    return NLMSG_HDRLEN;
  }

  /** Appends an attribute header for `len` payload bytes; returns the payload offset. */
  #attr(type: number, len: number): number {
    const a = this.#txLen;
    const end = a + align4(RTATTR_HDRLEN + len);
    this.#buf.fill(0, a, end);
    this.#dv.setUint16(a, RTATTR_HDRLEN + len, LE);
    this.#dv.setUint16(a + 2, type, LE);
    this.#txLen = end;
    return a + RTATTR_HDRLEN;
  }

  /** Appends a host-order u32 attribute. */
  #attrU32(type: number, v: number): void {
    this.#dv.setUint32(this.#attr(type, 4), v >>> 0, LE);
  }

  /** Appends an IPv4 address attribute (network order). */
  #attrAddr4(type: number, addr: number): void {
    this.#dv.setUint32(this.#attr(type, 4), addr >>> 0, false);
  }

  /** Appends an IPv6 address attribute (network order). */
  #attrAddr6(type: number, addr: Uint32Array): void {
    const p = this.#attr(type, 16);
    for (let i = 0; i < 4; i++) this.#dv.setUint32(p + 4 * i, addr[i]! >>> 0, false);
  }

  /** Appends a raw bytes attribute. */
  #attrBytes(type: number, bytes: Uint8Array): void {
    this.#buf.set(bytes, this.#attr(type, bytes.length));
  }

  /** Appends a NUL-terminated string attribute. */
  #attrString(type: number, s: string): void {
    const bytes = new TextEncoder().encode(s);
    if (bytes.length >= 256) throw new NetlinkError(this.#what, EINVAL, "name too long");
    this.#buf.set(bytes, this.#attr(type, bytes.length + 1));
  }

  /** Drains stale replies, stamps length and sequence number, sends the request. */
  #send(): void {
    for (let i = 0; i < MAX_IDLE_READS; i++) {
      const n = this.#t.recv(this.#buf, this.#txLen, NLBUFSIZ - this.#txLen, MSG_DONTWAIT);
      if (n <= 0 && n !== -EINTR) break;
    }
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1;
    this.#reqSeq = this.#seq;
    this.#dv.setUint32(0, this.#txLen, LE);
    this.#dv.setUint32(8, this.#reqSeq, LE);
    let n: number;
    do n = this.#t.send(this.#buf, 0, this.#txLen); while (n === -EINTR);
    if (n < 0) throw new NetlinkError(this.#what, -n);
    if (n !== this.#txLen) throw new NetlinkError(this.#what, EPROTO, "short send");
    this.#rxOff = 0;
    this.#rxEnd = 0;
    this.#done = false;
    this.#error = 0;
  }

  /** Throws a clean error for a malformed reply. */
  #malformed(detail: string): never {
    this.#done = true;
    throw new NetlinkError(this.#what, EPROTO, `malformed reply (${detail})`);
  }

  /**
   * Next reply message of the request in flight.
   * @returns offset of the message, or -1 at the end (then see #error)
   */
  #next(): number {
    let idle = 0;
    for (;;) {
      if (this.#done) return -1;
      if (this.#rxOff >= this.#rxEnd) {
        if (idle++ >= MAX_IDLE_READS) this.#malformed("no reply for this request");
        let n: number;
        do n = this.#t.recv(this.#buf, 0, NLBUFSIZ, 0); while (n === -EINTR);
        if (n < 0) {
          this.#done = true;
          throw new NetlinkError(this.#what, -n);
        }
        if (n === 0) this.#malformed("empty datagram");
        this.#rxOff = 0;
        this.#rxEnd = Math.min(n, NLBUFSIZ);
      }
      const off = this.#rxOff;
      const avail = this.#rxEnd - off;
      if (avail < NLMSG_HDRLEN) this.#malformed("truncated header");
      const len = this.#dv.getUint32(off, LE);
      if (len < NLMSG_HDRLEN || len > avail) this.#malformed("bad message length");
      this.#rxOff = off + align4(len);
      if (this.#dv.getUint32(off + 8, LE) !== this.#reqSeq) continue;
      idle = 0;
      const type = this.#dv.getUint16(off + 4, LE);
      if (type === NLMSG_NOOP) continue;
      if (type === NLMSG_DONE || type === NLMSG_ERROR) {
        this.#done = true;
        // NLMSG_DONE may carry an int error (dump interrupted or failed).
        if (len >= NLMSG_HDRLEN + 4) this.#error = this.#dv.getInt32(off + NLMSG_HDRLEN, LE);
        else if (type === NLMSG_ERROR) this.#malformed("truncated error message");
        if (this.#error > 0) this.#malformed("positive error code");
        return -1;
      }
      if (type === NLMSG_OVERRUN) this.#malformed("overrun");
      return off;
    }
  }

  /** Throws if the request in flight ended with an error. */
  #check(): void {
    if (this.#error < 0) throw new NetlinkError(this.#what, -this.#error);
  }

  /** Sends the built request and waits for its acknowledgement: 0 or -errno. */
  #ack(): number {
    this.#send();
    while (this.#next() >= 0) { /* unexpected payload: skip */ }
    return this.#error;
  }

  /** Checks a reply message's family header fits; returns the end of the message. */
  #body(m: number, famLen: number): number {
    const len = this.#dv.getUint32(m, LE);
    if (len < NLMSG_HDRLEN + famLen) this.#malformed("truncated family header");
    return m + len;
  }

  /** Validates the attribute at `a` before `end`; returns its length, or -1 past the end. */
  #rta(a: number, end: number): number {
    if (a + RTATTR_HDRLEN > end) return -1;
    const len = this.#dv.getUint16(a, LE);
    if (len < RTATTR_HDRLEN || a + len > end) this.#malformed("bad attribute length");
    return len;
  }

  /** Type of the attribute at `a`, without the nested and byte-order flags. */
  #rtaType(a: number): number {
    return this.#dv.getUint16(a + 2, LE) & 0x3fff;
  }

  /** Reads a u32 attribute payload (host order); `len` is the attribute length. */
  #rtaU32(a: number, len: number): number {
    if (len < RTATTR_HDRLEN + 4) this.#malformed("short u32 attribute");
    return this.#dv.getUint32(a + RTATTR_HDRLEN, LE);
  }

  /** Reads an IPv4 address attribute. */
  #rtaAddr4(a: number, len: number): number {
    if (len < RTATTR_HDRLEN + 4) this.#malformed("short IPv4 address");
    return this.#dv.getUint32(a + RTATTR_HDRLEN, false);
  }

  /** Reads an IPv6 address attribute into `out`. */
  #rtaAddr6(a: number, len: number, out: Uint32Array): void {
    if (len < RTATTR_HDRLEN + 16) this.#malformed("short IPv6 address");
    for (let i = 0; i < 4; i++) out[i] = this.#dv.getUint32(a + RTATTR_HDRLEN + 4 * i, false);
  }

  // Queries

  /** Starts a route dump of the main table, filtered by output interface if `ifindex`. */
  #routeDump(family: Family, ifindex: number, what: string): void {
    const r = this.#begin(RTM_GETROUTE, NLM_F_DUMP, RTMSG_LEN, what);
    this.#buf[r] = family;
    this.#buf[r + 4] = RT_TABLE_MAIN;
    if (ifindex) this.#attrU32(RTA_OIF, ifindex);
    this.#send();
  }

  /**
   * Looks at a route message: whether it's a default route of the main table
   * for `family`. Returns the offset of its first attribute, or -1.
   */
  #defaultRoute(m: number, family: Family): number {
    const end = this.#body(m, RTMSG_LEN);
    if (this.#dv.getUint16(m + 4, LE) !== RTM_NEWROUTE) return -1;
    const r = m + NLMSG_HDRLEN;
    if (this.#buf[r] !== family || this.#buf[r + 1] !== 0) return -1;
    let table = this.#buf[r + 4]!;
    for (let a = r + RTMSG_LEN, l; (l = this.#rta(a, end)) >= 0; a += align4(l)) {
      if (this.#rtaType(a) === RTA_TABLE) table = this.#rtaU32(a, l);
    }
    return table === RT_TABLE_MAIN ? r + RTMSG_LEN : -1;
  }

  /**
   * Walks the nexthops of an RTA_MULTIPATH attribute: the first one on
   * `ifindex` (any if 0): [its ifindex, start, end of its attributes], or null.
   */
  #nexthop(a: number, len: number, ifindex: number): [number, number, number] | null {
    const end = a + len;
    for (let h = a + RTATTR_HDRLEN; h + RTNEXTHOP_LEN <= end;) {
      const hl = this.#dv.getUint16(h, LE);
      if (hl < RTNEXTHOP_LEN || h + hl > end) this.#malformed("bad nexthop length");
      const oif = this.#dv.getInt32(h + 4, LE);
      if (!ifindex || oif === ifindex) return [oif, h + RTNEXTHOP_LEN, h + hl];
      h += align4(hl);
    }
    return null;
  }

  /** Output interface of the first default route (main table) for `family`, 0 if none. */
  defaultRouteIf(family: Family): number {
    this.#routeDump(family, 0, `get default route for ${famName(family)}`);
    let found = 0;
    for (let m; (m = this.#next()) >= 0;) {
      if (found) continue;
      const first = this.#defaultRoute(m, family);
      if (first < 0) continue;
      const end = m + this.#dv.getUint32(m, LE);
      for (let a = first, l; (l = this.#rta(a, end)) >= 0; a += align4(l)) {
        const t = this.#rtaType(a);
        if (t === RTA_OIF) found = this.#rtaU32(a, l);
        else if (t === RTA_MULTIPATH && !found) found = this.#nexthop(a, l, 0)?.[0] ?? 0;
        if (found) break;
      }
    }
    this.#check();
    return found;
  }

  /** Gateway of the default route via `ifindex`: 0 or all-zero when there is none. */
  defaultGateway(ifindex: number, family: typeof AF_INET): number;
  /** Gateway of the default route via `ifindex`: 0 or all-zero when there is none. */
  defaultGateway(ifindex: number, family: typeof AF_INET6): Uint32Array;
  /** Gateway of the default route via `ifindex`: 0 or all-zero when there is none. */
  defaultGateway(ifindex: number, family: Family): number | Uint32Array {
    this.#routeDump(family, ifindex, `get default gateway for ${famName(family)}`);
    const gw6 = new Uint32Array(4);
    let gw4 = 0;
    let found = false;
    for (let m; (m = this.#next()) >= 0;) {
      if (found) continue;
      const first = this.#defaultRoute(m, family);
      if (first < 0) continue;
      const end = m + this.#dv.getUint32(m, LE);
      let oif = 0;
      let gwAt = -1;
      let gwLen = 0;
      for (let a = first, l; (l = this.#rta(a, end)) >= 0; a += align4(l)) {
        const t = this.#rtaType(a);
        if (t === RTA_OIF) oif = this.#rtaU32(a, l);
        else if (t === RTA_GATEWAY) {
          gwAt = a;
          gwLen = l;
        } else if (t === RTA_MULTIPATH && gwAt < 0) {
          const nh = this.#nexthop(a, l, ifindex);
          if (!nh) continue;
          for (let b = nh[1], bl; (bl = this.#rta(b, nh[2])) >= 0; b += align4(bl)) {
            if (this.#rtaType(b) !== RTA_GATEWAY) continue;
            gwAt = b;
            gwLen = bl;
            oif = nh[0];
          }
        }
      }
      if (gwAt < 0 || (oif && oif !== ifindex)) continue;
      if (family === AF_INET) gw4 = this.#rtaAddr4(gwAt, gwLen);
      else this.#rtaAddr6(gwAt, gwLen, gw6);
      found = true;
    }
    this.#check();
    return family === AF_INET ? gw4 : gw6;
  }

  /** IPv4 address (first) and prefix length of `ifindex`; zeroes if none. */
  addresses(ifindex: number, family: typeof AF_INET): Addr4;
  /** IPv6 global (universe scope) address, prefix and link-local address of `ifindex`. */
  addresses(ifindex: number, family: typeof AF_INET6): Addr6;
  /** Addresses of `ifindex` for `family`. */
  addresses(ifindex: number, family: Family): Addr4 | Addr6 {
    const what = `get ${famName(family)} addresses of interface ${ifindex}`;
    const h = this.#begin(RTM_GETADDR, NLM_F_DUMP, IFADDRMSG_LEN, what);
    this.#buf[h] = family;
    this.#dv.setUint32(h + 4, ifindex, LE);
    this.#send();
    const a4: Addr4 = { addr: 0, prefixLen: 0 };
    const a6: Addr6 = { addr: new Uint32Array(4), prefixLen: 0, addrLl: new Uint32Array(4) };
    let haveLl = false;
    for (let m; (m = this.#next()) >= 0;) {
      const end = this.#body(m, IFADDRMSG_LEN);
      if (this.#dv.getUint16(m + 4, LE) !== RTM_NEWADDR) continue;
      const i = m + NLMSG_HDRLEN;
      if (this.#buf[i] !== family || this.#dv.getUint32(i + 4, LE) !== ifindex) continue;
      const prefixLen = this.#buf[i + 1]!;
      const scope = this.#buf[i + 3]!;
      let flags = this.#buf[i + 2]!;
      let addrAt = -1;
      let addrLen = 0;
      let localAt = -1;
      let localLen = 0;
      for (let a = i + IFADDRMSG_LEN, l; (l = this.#rta(a, end)) >= 0; a += align4(l)) {
        const t = this.#rtaType(a);
        if (t === IFA_ADDRESS) {
          addrAt = a;
          addrLen = l;
        } else if (t === IFA_LOCAL) {
          localAt = a;
          localLen = l;
        } else if (t === IFA_FLAGS) {
          flags = this.#rtaU32(a, l);
        }
      }
      if (family === AF_INET) {
        // IFA_LOCAL is our side of a point-to-point link, else equal to IFA_ADDRESS.
        if (localAt >= 0) {
          addrAt = localAt;
          addrLen = localLen;
        }
        if (addrAt < 0 || a4.addr) continue;
        a4.addr = this.#rtaAddr4(addrAt, addrLen);
        a4.prefixLen = prefixLen;
        continue;
      }
      if (addrAt < 0 || flags & IFA_F_DADFAILED) continue;
      if (scope === RT_SCOPE_LINK && !haveLl) {
        this.#rtaAddr6(addrAt, addrLen, a6.addrLl);
        haveLl = true;
      } else if (scope === RT_SCOPE_UNIVERSE && !a6.prefixLen && ip6IsZero(a6.addr)) {
        this.#rtaAddr6(addrAt, addrLen, a6.addr);
        a6.prefixLen = prefixLen;
      }
    }
    this.#check();
    return family === AF_INET ? a4 : a6;
  }

  /** Name, MAC address and MTU of `ifindex`; throws ENODEV if there is no such link. */
  link(ifindex: number): LinkInfo {
    const i = this.#begin(RTM_GETLINK, NLM_F_ACK, IFINFOMSG_LEN, `get link ${ifindex}`);
    this.#dv.setInt32(i + 4, ifindex, LE);
    this.#send();
    return this.#linkReply(ifindex);
  }

  /** Reads the RTM_NEWLINK reply of a link query; `ifindex` 0 accepts any. */
  #linkReply(ifindex: number): LinkInfo {
    const info: LinkInfo = { ifindex: 0, name: "", mac: new Uint8Array(6), mtu: 0, flags: 0 };
    for (let m; (m = this.#next()) >= 0;) {
      const end = this.#body(m, IFINFOMSG_LEN);
      if (this.#dv.getUint16(m + 4, LE) !== RTM_NEWLINK || info.ifindex) continue;
      const i = m + NLMSG_HDRLEN;
      const index = this.#dv.getInt32(i + 4, LE);
      if (index <= 0 || (ifindex && index !== ifindex)) continue;
      info.ifindex = index;
      info.flags = this.#dv.getUint32(i + 8, LE);
      for (let a = i + IFINFOMSG_LEN, l; (l = this.#rta(a, end)) >= 0; a += align4(l)) {
        const t = this.#rtaType(a);
        const n = l - RTATTR_HDRLEN;
        if (t === IFLA_ADDRESS && n === 6) {
          info.mac.set(this.#buf.subarray(a + RTATTR_HDRLEN, a + l));
        } else if (t === IFLA_MTU) {
          info.mtu = this.#rtaU32(a, l);
        } else if (t === IFLA_IFNAME) {
          const s = this.#buf.subarray(a + RTATTR_HDRLEN, a + l);
          const nul = s.indexOf(0);
          info.name = new TextDecoder().decode(nul < 0 ? s : s.subarray(0, nul));
        }
      }
    }
    this.#check();
    if (!info.ifindex) this.#malformed("no link in reply");
    return info;
  }

  /** Index of the interface called `name`, 0 if there is none. */
  ifindexByName(name: string): number {
    this.#begin(RTM_GETLINK, NLM_F_ACK, IFINFOMSG_LEN, `get link "${name}"`);
    this.#attrString(IFLA_IFNAME, name);
    this.#send();
    try {
      return this.#linkReply(0).ifindex;
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ENODEV) return 0;
      throw e;
    }
  }

  /** MAC address of `ifindex` (zeroes if it has none). */
  linkGetMac(ifindex: number): Uint8Array {
    return this.link(ifindex).mac;
  }

  // Setters (pasta --config-net)

  /** Starts an RTM_NEWLINK request changing `ifindex`; returns the ifinfomsg offset. */
  #linkReq(ifindex: number, what: string): number {
    const i = this.#begin(RTM_NEWLINK, NLM_F_ACK, IFINFOMSG_LEN, what);
    this.#dv.setInt32(i + 4, ifindex, LE);
    return i;
  }

  /** Brings `ifindex` up, setting its MTU first if `mtu` is given and non-zero. */
  linkUp(ifindex: number, mtu?: number): void {
    const i = this.#linkReq(ifindex, `bring up link ${ifindex}`);
    this.#dv.setUint32(i + 8, IFF_UP, LE);
    this.#dv.setUint32(i + 12, IFF_UP, LE);
    if (mtu) this.#attrU32(IFLA_MTU, mtu);
    const rc = this.#ack();
    if (rc < 0) throw new NetlinkError(this.#what, -rc);
  }

  /** Sets the interface flags in `change` to those in `flags` (IFF_UP, IFF_NOARP...), and the MTU. */
  linkSetFlags(ifindex: number, flags: number, change: number, mtu?: number): void {
    const i = this.#linkReq(ifindex, `set flags of link ${ifindex}`);
    this.#dv.setUint32(i + 8, flags, LE);
    this.#dv.setUint32(i + 12, change, LE);
    if (mtu) this.#attrU32(IFLA_MTU, mtu);
    const rc = this.#ack();
    if (rc < 0) throw new NetlinkError(this.#what, -rc);
  }

  /** Sets the MAC address of `ifindex`. */
  linkSetMac(ifindex: number, mac: Uint8Array): void {
    if (mac.length !== 6) throw new RangeError("MAC address must be 6 bytes");
    this.#linkReq(ifindex, `set MAC address of link ${ifindex}`);
    this.#attrBytes(IFLA_ADDRESS, mac);
    const rc = this.#ack();
    if (rc < 0) throw new NetlinkError(this.#what, -rc);
  }

  /** Sets the MTU of `ifindex`. */
  linkSetMtu(ifindex: number, mtu: number): void {
    this.#linkReq(ifindex, `set MTU of link ${ifindex}`);
    this.#attrU32(IFLA_MTU, mtu);
    const rc = this.#ack();
    if (rc < 0) throw new NetlinkError(this.#what, -rc);
  }

  /** Sends a create request; false if the object already existed (EEXIST). */
  #create(): boolean {
    const rc = this.#ack();
    if (rc === -EEXIST) return false;
    if (rc < 0) throw new NetlinkError(this.#what, -rc);
    return true;
  }

  /** Adds `addr`/`prefixLen` to `ifindex`; false if it was already there. */
  addAddr4(ifindex: number, addr: number, prefixLen: number): boolean {
    checkPrefix(prefixLen, 32);
    const what = `add IPv4 address ${formatIp4(addr)}/${prefixLen} to link ${ifindex}`;
    const i = this.#begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, IFADDRMSG_LEN, what);
    this.#buf[i] = AF_INET;
    this.#buf[i + 1] = prefixLen;
    this.#buf[i + 3] = RT_SCOPE_UNIVERSE;
    this.#dv.setUint32(i + 4, ifindex, LE);
    this.#attrAddr4(IFA_LOCAL, addr);
    this.#attrAddr4(IFA_ADDRESS, addr);
    return this.#create();
  }

  /** Adds `addr`/`prefixLen` to `ifindex` without duplicate address detection. */
  addAddr6(ifindex: number, addr: Uint32Array, prefixLen: number): boolean {
    checkPrefix(prefixLen, 128);
    const what = `add IPv6 address ${formatIp6(addr)}/${prefixLen} to link ${ifindex}`;
    const i = this.#begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, IFADDRMSG_LEN, what);
    this.#buf[i] = AF_INET6;
    this.#buf[i + 1] = prefixLen;
    this.#buf[i + 2] = IFA_F_NODAD;
    this.#buf[i + 3] = RT_SCOPE_UNIVERSE;
    this.#dv.setUint32(i + 4, ifindex, LE);
    this.#attrAddr6(IFA_ADDRESS, addr);
    return this.#create();
  }

  /**
   * Marks the link-local address `addr` of `ifindex` as not needing duplicate
   * address detection (replacing it with IFA_F_NODAD), as upstream's
   * nl_addr_set_ll_nodad(): it is usable at once and stays so.
   */
  setLinkLocalNodad(ifindex: number, addr: Uint32Array): void {
    const what = `set nodad on ${formatIp6(addr)} of link ${ifindex}`;
    const i = this.#begin(RTM_NEWADDR, NLM_F_REPLACE | NLM_F_ACK, IFADDRMSG_LEN, what);
    this.#buf[i] = AF_INET6;
    this.#buf[i + 1] = 64;
    this.#buf[i + 2] = IFA_F_NODAD;
    this.#buf[i + 3] = RT_SCOPE_LINK;
    this.#dv.setUint32(i + 4, ifindex, LE);
    this.#attrAddr6(IFA_ADDRESS, addr);
    const rc = this.#ack();
    if (rc < 0) throw new NetlinkError(this.#what, -rc);
  }

  /** Starts an RTM_NEWROUTE request for a default route via `ifindex`. */
  #routeReq(family: Family, ifindex: number, what: string): void {
    const r = this.#begin(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, RTMSG_LEN, what);
    this.#buf[r] = family;
    this.#buf[r + 4] = RT_TABLE_MAIN;
    this.#buf[r + 5] = RTPROT_BOOT;
    this.#buf[r + 6] = RT_SCOPE_UNIVERSE;
    this.#buf[r + 7] = RTN_UNICAST;
    this.#attrU32(RTA_OIF, ifindex);
  }

  /** Adds an IPv4 default route via `gw` on `ifindex`; false if one already existed. */
  addDefaultRoute4(ifindex: number, gw: number): boolean {
    this.#routeReq(AF_INET, ifindex, `add IPv4 default route via ${formatIp4(gw)}`);
    this.#attrAddr4(RTA_GATEWAY, gw);
    return this.#create();
  }

  /** Adds an IPv6 default route via `gw` on `ifindex`; false if one already existed. */
  addDefaultRoute6(ifindex: number, gw: Uint32Array): boolean {
    this.#routeReq(AF_INET6, ifindex, `add IPv6 default route via ${formatIp6(gw)}`);
    this.#attrAddr6(RTA_GATEWAY, gw);
    return this.#create();
  }
}

/** Throws RangeError unless `p` is a prefix length in 0..`max`. */
function checkPrefix(p: number, max: number): void {
  if (!Number.isInteger(p) || p < 0 || p > max) {
    throw new RangeError(`Prefix length ${p} out of range 0-${max}`);
  }
}

/** "IPv4" or "IPv6". */
export function famName(family: Family): string {
  return family === AF_INET ? "IPv4" : "IPv6";
}
