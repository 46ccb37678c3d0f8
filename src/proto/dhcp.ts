// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `dhcp.ts` - minimal DHCPv4 server: one client, one address, infinite lease
 *
 * Theory of operation: the tap path hands us every UDP datagram to port 67.
 * We check the IPv4 and UDP lengths, the BOOTREQUEST op code and the magic
 * cookie, then walk the options (RFC 2132) into a few module-level fields:
 * message type (53), server identifier (54), parameter request list (55,
 * concatenated across instances as RFC 3396 says) and maximum message size (57).
 * Option overload (52) is honoured in the main options field only, so the
 * `file` and `sname` fields are walked at most once each: no loops. Every walk
 * moves forward by at least one byte per step and stops at its region's end.
 * An option whose length runs past its region drops the whole message; a
 * missing end marker is tolerated when the options fill their region exactly.
 *
 * Answers:
 *
 * - DISCOVER gets an OFFER and REQUEST an ACK, both for `c.conf.ip4.addr`
 *   (a REQUEST naming another server in option 54 is ignored; there is no NAK);
 * - INFORM gets an ACK without address or lease (RFC 2131 §4.3.5), sent to the
 *   client's `ciaddr`; upstream ignores INFORM, we answer it because it costs
 *   nothing and `dhcpcd --inform` expects it;
 * - DECLINE, RELEASE and anything else are ignored.
 *
 * The reply carries options 1 (netmask), 3 (router), 6 (resolvers), 12 (host
 * name, `-H`), 26 (MTU), 51 (lease 0xffffffff), 53, 54 (server id = gateway),
 * 81 (client FQDN, `--fqdn`: flags E, RCODEs 255, the name in upstream's label
 * encoding, see {@linkcode encodeNameAsUpstream}), 119 (search list, RFC
 * 3397 encoding with compression pointers, split into several instances past
 * 255 bytes as RFC 3396 allows) and 121 (RFC 3442 classless routes, only when
 * the gateway is outside the guest's subnet: a /32 to the gateway and a default
 * route through it). Options the client asked for in option 55 come first, in
 * its order, then the rest in ascending order, then the end marker; the options
 * field is padded to 60 bytes (300-byte BOOTP message). Options that would take
 * the reply past the client's maximum message size (option 57, at least 576)
 * are left out. The reply goes from gw:67 to yiaddr:68 (unicast, as upstream,
 * even when the broadcast flag is set), to the requester's source MAC, with UDP
 * checksum 0.
 *
 * @see RFC 2131, RFC 2132, RFC 3396, RFC 3397, RFC 3442
 * @module
 */

import type { Ctx } from "../context.ts";
import type { TapOut } from "../tap/tap_out.ts";
import * as eth from "../wire/ethernet.ts";
import * as ipv4 from "../wire/ipv4.ts";
import * as udp from "../wire/udp.ts";

/** DHCP message types (option 53). */
export const DHCPDISCOVER = 1;
/** DHCPOFFER. */
export const DHCPOFFER = 2;
/** DHCPREQUEST. */
export const DHCPREQUEST = 3;
/** DHCPDECLINE. */
export const DHCPDECLINE = 4;
/** DHCPACK. */
export const DHCPACK = 5;
/** DHCPNAK. */
export const DHCPNAK = 6;
/** DHCPRELEASE. */
export const DHCPRELEASE = 7;
/** DHCPINFORM. */
export const DHCPINFORM = 8;

/** BOOTP fixed part plus the magic cookie: options start here. */
export const OPTIONS_OFF = 240;
/** The magic cookie, RFC 2131 §3. */
export const MAGIC_COOKIE = 0x63825363;
/** Smallest BOOTP message we send (RFC 951: 64-byte vendor field, we pad options to 60). */
const BOOTP_MIN_LEN = 300;
/** Smallest "maximum DHCP message size" a client may announce (RFC 2132 §9.10). */
const MAX_MSG_MIN = 576;
/** IPv4 and UDP headers of our replies. */
const IP_UDP_LEN = ipv4.MIN_HEADER_LEN + udp.HEADER_LEN;
/** Options we can send, in ascending order. */
const SERVER_OPTIONS = [1, 3, 6, 12, 26, 51, 53, 54, 81, 119, 121] as const;
/** Largest option payload. */
const OPT_MAX = 255;
/** Option 81 flags: E (canonical wire format encoding), RFC 4702 §2.1. */
const FQDN_FLAG_E = 0x04;

// Request state, reset for each message (upstream keeps it between messages).
let msgType = 0;
let serverId = -1;
let maxMsgSize = 0;
let overload = 0;
const prl = new Uint8Array(256);
let prlLen = 0;
const emitted = new Uint8Array(256);
const reqMac = new Uint8Array(6);

// Options 12 and 81, encoded once per hostname and FQDN string.
let hostnameSrc = "";
const hostnameBuf = new Uint8Array(OPT_MAX);
let hostnameLen = 0;
let fqdnSrc = "";
const fqdnBuf = new Uint8Array(OPT_MAX + 2);
let fqdnLen = 0;

// Encoded search list for option 119, cached per dnsSearch array.
let searchSrc: readonly string[] | null = null;
const searchBuf = new Uint8Array(4096);
let searchLen = 0;
const labelStarts = new Int32Array(1024);

/**
 * Writes `name` in RFC 1035 label encoding (no compression) at `off`, without
 * passing `end`. A trailing dot is accepted.
 *
 * @returns the offset after the terminating zero, or -1 if the name is empty,
 *   has an empty or overlong label or an unusual character, exceeds 255 bytes,
 *   or does not fit
 */
export function writeDomainName(u8: Uint8Array, off: number, end: number, name: string): number {
  const n = name.length;
  let p = off;
  let i = 0;
  if (n === 0) return -1;
  while (i < n) {
    let j = i;
    while (j < n && name.charCodeAt(j) !== 0x2e) j++;
    const l = j - i;
    if (l === 0 || l > 63 || p + l + 2 > end || p + l + 2 - off > 255) return -1;
    u8[p++] = l;
    for (let k = i; k < j; k++) {
      const ch = name.charCodeAt(k);
      if (ch < 0x21 || ch > 0x7e) return -1;
      u8[p++] = ch;
    }
    i = j + 1;
  }
  u8[p++] = 0;
  return p;
}

/**
 * Writes `name` as upstream's encode_domain_name() does: each label's length
 * (the bytes up to the next dot) before it, a zero at the end, nothing
 * checked, so a trailing dot gives an empty label. Bytes beyond `end` are not
 * written.
 *
 * @returns the offset after the terminating zero, or -1 if it does not fit
 */
export function encodeNameAsUpstream(
  u8: Uint8Array,
  off: number,
  end: number,
  name: Uint8Array,
): number {
  if (off + name.length + 2 > end) return -1;
  const labelLen = (from: number): number => {
    let j = from;
    while (j < name.length && name[j] !== 0x2e) j++;
    return j - from;
  };
  u8[off] = labelLen(0);
  for (let i = 0; i < name.length; i++) {
    u8[off + 1 + i] = name[i] === 0x2e ? labelLen(i + 1) : name[i]!;
  }
  u8[off + 1 + name.length] = 0;
  return off + name.length + 2;
}

/** Refreshes the cached option 12 and 81 payloads if -H or --fqdn changed. */
function refreshNames(hostname: string, fqdn: string): void {
  if (hostname !== hostnameSrc) {
    hostnameSrc = hostname;
    const r = new TextEncoder().encodeInto(hostname, hostnameBuf);
    hostnameLen = r.read === hostname.length ? r.written : 0;
  }
  if (fqdn !== fqdnSrc) {
    fqdnSrc = fqdn;
    fqdnLen = 0;
    const raw = new TextEncoder().encode(fqdn);
    fqdnBuf[0] = FQDN_FLAG_E;
    fqdnBuf[1] = fqdnBuf[2] = 0xff; // RCODE1, RCODE2
    // As upstream: left out when flags and name don't fit in one option.
    const r = raw.length === 0 ? -1 : encodeNameAsUpstream(fqdnBuf, 3, OPT_MAX, raw);
    if (r > 0) fqdnLen = r;
  }
}

/** Writes option `code` with the first `len` bytes of `src` at `p`, if it fits before `lim`. */
function putBytes(
  u8: Uint8Array,
  p: number,
  lim: number,
  code: number,
  src: Uint8Array,
  len: number,
): number {
  if (len === 0 || p + 2 + len > lim) return p;
  u8[p] = code;
  u8[p + 1] = len;
  u8.set(src.subarray(0, len), p + 2);
  return p + 2 + len;
}

/** Lower-cases an ASCII letter code. */
function lower(ch: number): number {
  return ch >= 0x41 && ch <= 0x5a ? ch | 0x20 : ch;
}

/**
 * Whether the uncompressed name at `a` equals the possibly compressed name at
 * `b` in `buf` (ASCII case-insensitive).
 */
function sameName(buf: Uint8Array, a: number, b: number): boolean {
  for (let guard = 0; guard < 256; guard++) {
    let lb = buf[b]!;
    while ((lb & 0xc0) === 0xc0) {
      b = ((lb & 0x3f) << 8) | buf[b + 1]!;
      lb = buf[b]!;
      if (++guard >= 256) return false;
    }
    const la = buf[a]!;
    if (la !== lb) return false;
    if (la === 0) return true;
    for (let k = 1; k <= la; k++) {
      if (lower(buf[a + k]!) !== lower(buf[b + k]!)) return false;
    }
    a += la + 1;
    b += lb + 1;
  }
  return false;
}

/**
 * Encodes a search list as RFC 3397 wants it for DHCP option 119: names one
 * after the other, each suffix seen before replaced by a compression pointer.
 * Invalid names and names that do not fit in `out` are skipped.
 *
 * @returns the encoded length
 */
export function encodeSearchList(names: readonly string[], out: Uint8Array): number {
  let p = 0;
  let nStarts = 0;
  for (const name of names) {
    const end = writeDomainName(out, p, out.length, name);
    if (end < 0) continue;
    // Find the first (longest) suffix already encoded.
    let q = p;
    let ptr = -1;
    while (out[q] !== 0 && ptr < 0) {
      for (let s = 0; s < nStarts; s++) {
        const e = labelStarts[s]!;
        if (sameName(out, q, e)) {
          ptr = e;
          break;
        }
      }
      if (ptr < 0) {
        if (nStarts < labelStarts.length && q < 0x4000) labelStarts[nStarts++] = q;
        q += out[q]! + 1;
      }
    }
    if (ptr >= 0) {
      out[q] = 0xc0 | (ptr >> 8);
      out[q + 1] = ptr & 0xff;
      p = q + 2;
    } else {
      p = end;
    }
  }
  return p;
}

/** Refreshes the cached option 119 payload if the search list changed. */
function refreshSearch(names: readonly string[]): void {
  if (names === searchSrc) return;
  searchSrc = names;
  searchLen = encodeSearchList(names, searchBuf);
}

/**
 * Walks the options in `[start, end)` of `u8`.
 *
 * @returns 0 on success, -1 if an option runs past `end` or is malformed
 */
function parseOptions(u8: Uint8Array, start: number, end: number, main: boolean): number {
  let i = start;
  while (i < end) {
    const code = u8[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) return 0;
    if (i + 2 > end) return -1;
    const l = u8[i + 1]!;
    const v = i + 2;
    if (v + l > end) return -1;
    switch (code) {
      case 52:
        if (!main || l !== 1 || u8[v]! < 1 || u8[v]! > 3) return -1;
        overload = u8[v]!;
        break;
      case 53:
        if (l !== 1) return -1;
        if (msgType === 0) msgType = u8[v]!;
        break;
      case 54:
        if (l !== 4) return -1;
        serverId = ((u8[v]! << 24) | (u8[v + 1]! << 16) | (u8[v + 2]! << 8) | u8[v + 3]!) >>> 0;
        break;
      case 55:
        for (let k = 0; k < l && prlLen < prl.length; k++) prl[prlLen++] = u8[v + k]!;
        break;
      case 57:
        if (l !== 2) return -1;
        maxMsgSize = (u8[v]! << 8) | u8[v + 1]!;
        break;
    }
    i = v + l;
  }
  return 0;
}

/** Netmask of a prefix length, as u32. */
function maskOf(prefixLen: number): number {
  return prefixLen <= 0 ? 0 : prefixLen >= 32 ? 0xffffffff : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Writes a 4-byte option `code` with value `v` at `p` if it fits before `lim`. */
function putU32(
  u8: Uint8Array,
  dv: DataView,
  p: number,
  lim: number,
  code: number,
  v: number,
): number {
  if (p + 6 > lim) return p;
  u8[p] = code;
  u8[p + 1] = 4;
  dv.setUint32(p + 2, v >>> 0);
  return p + 6;
}

/** Writes server option `code` at `p` (nothing if we have no value or it doesn't fit). */
function putOption(
  c: Ctx,
  u8: Uint8Array,
  dv: DataView,
  p: number,
  lim: number,
  code: number,
  type: number,
  inform: boolean,
): number {
  const conf = c.conf;
  const ip4 = conf.ip4;
  switch (code) {
    case 1:
      return putU32(u8, dv, p, lim, 1, maskOf(ip4.prefixLen));
    case 3:
      return ip4.gw ? putU32(u8, dv, p, lim, 3, ip4.gw) : p;
    case 6: {
      if (!conf.dhcpDns || ip4.dns.length === 0) return p;
      const n = ip4.dns.length < 63 ? ip4.dns.length : 63;
      if (p + 2 + 4 * n > lim) return p;
      u8[p] = 6;
      u8[p + 1] = 4 * n;
      for (let k = 0; k < n; k++) dv.setUint32(p + 2 + 4 * k, ip4.dns[k]! >>> 0);
      return p + 2 + 4 * n;
    }
    case 12:
      refreshNames(conf.hostname, conf.fqdn);
      return putBytes(u8, p, lim, 12, hostnameBuf, hostnameLen);
    case 81:
      refreshNames(conf.hostname, conf.fqdn);
      return putBytes(u8, p, lim, 81, fqdnBuf, fqdnLen);
    case 26: {
      if (!conf.mtu || p + 4 > lim) return p;
      const mtu = conf.mtu < 68 ? 68 : conf.mtu > 65535 ? 65535 : conf.mtu;
      u8[p] = 26;
      u8[p + 1] = 2;
      dv.setUint16(p + 2, mtu);
      return p + 4;
    }
    case 51:
      return inform ? p : putU32(u8, dv, p, lim, 51, 0xffffffff);
    case 53:
      if (p + 3 > lim) return p;
      u8[p] = 53;
      u8[p + 1] = 1;
      u8[p + 2] = type;
      return p + 3;
    case 54:
      return putU32(u8, dv, p, lim, 54, ip4.gw);
    case 119: {
      if (!conf.dhcpSearch || conf.dnsSearch.length === 0) return p;
      refreshSearch(conf.dnsSearch);
      if (searchLen === 0) return p;
      const chunks = Math.ceil(searchLen / 255);
      if (p + 2 * chunks + searchLen > lim) return p;
      for (let s = 0; s < searchLen; s += 255) {
        const l = searchLen - s < 255 ? searchLen - s : 255;
        u8[p] = 119;
        u8[p + 1] = l;
        for (let k = 0; k < l; k++) u8[p + 2 + k] = searchBuf[s + k]!;
        p += 2 + l;
      }
      return p;
    }
    case 121: {
      const mask = maskOf(ip4.prefixLen);
      if (!ip4.gw || ((ip4.gw ^ ip4.addr) & mask) === 0 || p + 16 > lim) return p;
      u8[p] = 121;
      u8[p + 1] = 14;
      // gw/32 via 0.0.0.0 (on link), then 0.0.0.0/0 via gw.
      u8[p + 2] = 32;
      dv.setUint32(p + 3, ip4.gw >>> 0);
      dv.setUint32(p + 7, 0);
      u8[p + 11] = 0;
      dv.setUint32(p + 12, ip4.gw >>> 0);
      return p + 16;
    }
  }
  return p;
}

/**
 * Handles a frame carrying UDP to port 67: answers DISCOVER, REQUEST and INFORM.
 *
 * @returns true if the frame was IPv4/UDP to port 67 and DHCP is enabled (the
 *   message was answered or dropped), false otherwise
 */
export function dhcp(
  c: Ctx,
  tap: TapOut,
  u8: Uint8Array,
  dv: DataView,
  l2off: number,
  len: number,
): boolean {
  if (c.conf.noDhcp || len < eth.HEADER_LEN) return false;
  if (eth.etherType(dv, l2off) !== eth.ETH_P_IP) return false;
  const l3 = l2off + eth.HEADER_LEN;
  const hl = ipv4.validate(dv, l3, len - eth.HEADER_LEN);
  if (hl < 0 || ipv4.protocol(dv, l3) !== ipv4.PROTO_UDP) return false;
  const l4 = l3 + hl;
  const l4len = ipv4.totalLen(dv, l3) - hl;
  if (l4len < udp.HEADER_LEN || udp.dstPort(dv, l4) !== 67) return false;
  if (ipv4.isFragment(dv, l3) || udp.length(dv, l4) !== l4len) return true;

  const m = l4 + udp.HEADER_LEN;
  const mend = l4 + l4len;
  if (mend - m < OPTIONS_OFF || u8[m] !== 1 || dv.getUint32(m + 236) !== MAGIC_COOKIE) {
    return true;
  }

  msgType = 0;
  serverId = -1;
  maxMsgSize = 0;
  overload = 0;
  prlLen = 0;
  if (parseOptions(u8, m + OPTIONS_OFF, mend, true) < 0) return true;
  if ((overload & 1) && parseOptions(u8, m + 108, m + 236, false) < 0) return true;
  if ((overload & 2) && parseOptions(u8, m + 44, m + 108, false) < 0) return true;

  const conf = c.conf;
  let type: number;
  const inform = msgType === DHCPINFORM;
  if (msgType === DHCPDISCOVER) type = DHCPOFFER;
  else if (msgType === DHCPREQUEST || inform) type = DHCPACK;
  else return true;
  if (msgType === DHCPREQUEST && serverId >= 0 && serverId !== conf.ip4.gw) return true;
  const ciaddr = dv.getUint32(m + 12) >>> 0;
  if (inform && ciaddr === 0) return true;

  const o = tap.slot();
  if (o < 0) return true;
  const ou8 = tap.u8;
  const odv = tap.dv;
  for (let k = 0; k < 6; k++) reqMac[k] = u8[l2off + eth.SRC_OFF + k]!;
  const ol3 = eth.writeHeader(ou8, odv, o, reqMac, conf.mac, eth.ETH_P_IP);
  const ol4 = ol3 + ipv4.MIN_HEADER_LEN;
  const b = ol4 + udp.HEADER_LEN;

  ou8.fill(0, b, b + OPTIONS_OFF);
  ou8[b] = 2; // BOOTREPLY
  ou8[b + 1] = 1;
  ou8[b + 2] = 6;
  odv.setUint32(b + 4, dv.getUint32(m + 4)); // xid
  odv.setUint16(b + 10, dv.getUint16(m + 10)); // flags
  if (type === DHCPACK) odv.setUint32(b + 12, ciaddr);
  if (!inform) odv.setUint32(b + 16, conf.ip4.addr >>> 0);
  odv.setUint32(b + 24, dv.getUint32(m + 24)); // giaddr
  for (let k = 0; k < 16; k++) ou8[b + 28 + k] = u8[m + 28 + k]!; // chaddr
  odv.setUint32(b + 236, MAGIC_COOKIE);

  const maxMsg = maxMsgSize > MAX_MSG_MIN ? maxMsgSize : MAX_MSG_MIN;
  const lim = b + maxMsg - IP_UDP_LEN - 1; // one byte kept for the end marker
  let p = b + OPTIONS_OFF;
  emitted.fill(0);
  for (let k = 0; k < prlLen; k++) {
    const code = prl[k]!;
    if (emitted[code]) continue;
    emitted[code] = 1;
    p = putOption(c, ou8, odv, p, lim, code, type, inform);
  }
  for (const code of SERVER_OPTIONS) {
    if (!emitted[code]) p = putOption(c, ou8, odv, p, lim, code, type, inform);
  }
  ou8[p++] = 255;
  if (p < b + BOOTP_MIN_LEN) {
    ou8.fill(0, p, b + BOOTP_MIN_LEN);
    p = b + BOOTP_MIN_LEN;
  }

  const bootpLen = p - b;
  udp.push(odv, ol4, 67, 68, bootpLen);
  udp.setChecksum(odv, ol4, 0);
  ipv4.push(
    ou8,
    odv,
    ol3,
    conf.ip4.gw,
    inform ? ciaddr : conf.ip4.addr,
    ipv4.PROTO_UDP,
    udp.HEADER_LEN + bootpLen,
  );
  tap.queue(o, p - o);
  return true;
}
