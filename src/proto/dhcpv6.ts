// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `dhcpv6.ts` - minimal stateful DHCPv6 server: one client, one address
 *
 * Theory of operation: the tap path offers us UDP datagrams to port 547. We
 * take those sent to a multicast address (All_DHCP_Relay_Agents_and_Servers)
 * with a consistent UDP length, walk the top-level options once (each step
 * moves forward by at least four bytes; an option running past the end drops
 * the message) and remember the first Client Identifier, Server Identifier and
 * IA_NA. The addresses inside every IA_NA and IA_TA are compared with ours.
 *
 * Answers (anything else, RELEASE and DECLINE included, is ignored):
 *
 * - SOLICIT (no Server Identifier allowed): ADVERTISE; no Rapid Commit;
 * - REQUEST and RENEW (our Server Identifier required): REPLY;
 * - REBIND: REPLY. RFC 8415 §16.9 forbids a Server Identifier here; upstream
 *   requires ours, we accept its absence (the RFC case) or ours;
 * - CONFIRM (no Server Identifier, at least one address): REPLY with a
 *   top-level Status Code, Success or NotOnLink;
 * - INFORMATION-REQUEST (Server Identifier optional but ours if present, no
 *   IA; the Client Identifier may be missing, RFC 8415 §18.2.6): REPLY without
 *   an IA.
 *
 * A REQUEST, RENEW or REBIND naming an address other than ours gets its IA_NA
 * back with T1 = T2 = 0 and a NotOnLink Status Code inside, so that the client
 * starts over. Otherwise the IA_NA (IAID copied) holds `ip6.addr` with
 * infinite lifetimes and T1 = T2 = infinite.
 *
 * Reply layout: Server Identifier (DUID-LLT: Ethernet, seconds since
 * 2000-01-01 at start-up, our MAC), the IA_NA or status, the copied Client
 * Identifier, then DNS servers (23) and the domain list (24, RFC 1035 names,
 * no compression) when enabled, then the Client FQDN (39, RFC 4704) with
 * `--fqdn`: flags 0, or O when the client's own option 39 set S (the server
 * won't do the DNS update the client asked for), and the name in upstream's
 * label encoding. It goes from `ip6.gw` if link-local, else our
 * link-local address, port 547, to the client's source address, port 546, and
 * its MAC; the flow label is the low 20 bits of the transaction id and the UDP
 * checksum is computed. After a reply, `c.ip6AddrSeen` is the assigned address.
 *
 * @see RFC 8415, RFC 3646
 * @module
 */

import type { Ctx } from "../context.ts";
import type { TapOut } from "../tap/tap_out.ts";
import { l4Checksum6 } from "../wire/checksum.ts";
import * as eth from "../wire/ethernet.ts";
import * as ipv4 from "../wire/ipv4.ts";
import { ip6IsLinkLocal } from "../wire/inany.ts";
import * as ipv6 from "../wire/ipv6.ts";
import * as udp from "../wire/udp.ts";
import { encodeNameAsUpstream, writeDomainName } from "../wire/dns_name.ts";

/** DHCPv6 message types. */
export const SOLICIT = 1;
/** ADVERTISE. */
export const ADVERTISE = 2;
/** REQUEST. */
export const REQUEST = 3;
/** CONFIRM. */
export const CONFIRM = 4;
/** RENEW. */
export const RENEW = 5;
/** REBIND. */
export const REBIND = 6;
/** REPLY. */
export const REPLY = 7;
/** RELEASE. */
export const RELEASE = 8;
/** DECLINE. */
export const DECLINE = 9;
/** INFORMATION-REQUEST. */
export const INFORMATION_REQUEST = 11;

/** Option codes. */
export const OPT_CLIENTID = 1;
/** Server Identifier. */
export const OPT_SERVERID = 2;
/** Identity Association for Non-temporary Addresses. */
export const OPT_IA_NA = 3;
/** Identity Association for Temporary Addresses. */
export const OPT_IA_TA = 4;
/** IA Address. */
export const OPT_IAADDR = 5;
/** Status Code. */
export const OPT_STATUS_CODE = 13;
/** DNS Recursive Name Server (RFC 3646). */
export const OPT_DNS_SERVERS = 23;
/** Domain Search List (RFC 3646). */
export const OPT_DOMAIN_LIST = 24;
/** Client FQDN (RFC 4704). */
export const OPT_CLIENT_FQDN = 39;
/** Client FQDN flags: S (server should do the AAAA update), O (server overrode S). */
const FQDN_FLAG_S = 0x01;
const FQDN_FLAG_O = 0x02;
/** Longest FQDN we encode (upstream's PASST_MAXDNAME - 1). */
const FQDN_MAX = 253;

/** Status codes. */
export const STATUS_SUCCESS = 0;
/** NotOnLink. */
export const STATUS_NOTONLINK = 4;

/** Server port. */
export const SERVER_PORT = 547;
/** Client port. */
export const CLIENT_PORT = 546;

/** Length of our DUID-LLT (type, hardware type, time, MAC). */
export const DUID_LEN = 14;
/** DUID-LLT time: seconds since 2000-01-01T00:00:00Z when this module was loaded. */
export const DUID_TIME = (Math.floor(Date.now() / 1000) - 946684800) >>> 0;
/** Longest Client Identifier we accept (RFC 8415 §11.1: a DUID is at most 128 bytes). */
const CLIENTID_MAX = 128;
/** Most resolvers in option 23. */
const DNS_MAX = 16;
/** Most bytes of domain names in option 24. */
const DOMAIN_LIST_MAX = 1024;
const NOTONLINK_TEXT = "Prefix not appropriate for link.";

const duid = new Uint8Array(DUID_LEN);
const srcWords = new Uint32Array(4);
const dstWords = new Uint32Array(4);
const dstMac = new Uint8Array(6);

// Parse results for the current message.
let clientOff = -1;
let clientLen = -1;
let serverOff = -1;
let serverLen = -1;
let iaNaOff = -1;
let hasIa = false;
/** Flags of the client's first Client FQDN option, -1 if none. */
let clientFqdnFlags = -1;
// --fqdn in upstream's label encoding, once per string.
let fqdnSrc = "";
const fqdnBuf = new Uint8Array(FQDN_MAX + 2);
let fqdnLen = 0;
let hasAddr = false;
let foreign = false;

/** Fills {@linkcode duid} with our DUID-LLT. */
function buildDuid(mac: Uint8Array): void {
  duid[0] = 0;
  duid[1] = 1; // DUID-LLT
  duid[2] = 0;
  duid[3] = 1; // Ethernet
  duid[4] = DUID_TIME >>> 24;
  duid[5] = (DUID_TIME >>> 16) & 0xff;
  duid[6] = (DUID_TIME >>> 8) & 0xff;
  duid[7] = DUID_TIME & 0xff;
  for (let k = 0; k < 6; k++) duid[8 + k] = mac[k]!;
}

/**
 * Walks the options of the IA at `v` (IA_NA if `na`, else IA_TA) of `l` bytes,
 * noting IA Addresses and whether any is not ours.
 *
 * @returns 0, or -1 if the IA is malformed
 */
function parseIa(c: Ctx, dv: DataView, v: number, l: number, na: boolean): number {
  const fixed = na ? 12 : 4;
  if (l < fixed) return -1;
  const end = v + l;
  let i = v + fixed;
  while (i + 4 <= end) {
    const code = dv.getUint16(i);
    const ol = dv.getUint16(i + 2);
    if (i + 4 + ol > end) return -1;
    if (code === OPT_IAADDR) {
      if (ol < 24) return -1;
      hasAddr = true;
      if (!ipv6.addrEqualsWords(dv, i + 4, c.conf.ip6.addr)) foreign = true;
    }
    i += 4 + ol;
  }
  return i === end ? 0 : -1;
}

/**
 * Walks the top-level options in `[start, end)`.
 *
 * @returns 0, or -1 if the message is malformed
 */
function parseMessage(c: Ctx, dv: DataView, start: number, end: number): number {
  clientOff =
    clientLen =
    serverOff =
    serverLen =
    iaNaOff =
      -1;
  hasIa = hasAddr = foreign = false;
  clientFqdnFlags = -1;
  let i = start;
  while (i + 4 <= end) {
    const code = dv.getUint16(i);
    const l = dv.getUint16(i + 2);
    const v = i + 4;
    if (v + l > end) return -1;
    if (code === OPT_CLIENTID && clientOff < 0) {
      clientOff = v;
      clientLen = l;
    } else if (code === OPT_SERVERID && serverOff < 0) {
      serverOff = v;
      serverLen = l;
    } else if (code === OPT_CLIENT_FQDN && clientFqdnFlags < 0 && l >= 1) {
      clientFqdnFlags = dv.getUint8(v);
    } else if (code === OPT_IA_NA || code === OPT_IA_TA) {
      hasIa = true;
      if (parseIa(c, dv, v, l, code === OPT_IA_NA) < 0) return -1;
      if (code === OPT_IA_NA && iaNaOff < 0) iaNaOff = v;
    }
    i = v + l;
  }
  return i === end ? 0 : -1;
}

/** Whether the Server Identifier of the message is ours. */
function serverIsUs(u8: Uint8Array): boolean {
  if (serverLen !== DUID_LEN) return false;
  for (let k = 0; k < DUID_LEN; k++) if (u8[serverOff + k] !== duid[k]) return false;
  return true;
}

/** Writes a Status Code option at `p`; returns the offset after it. */
function putStatus(u8: Uint8Array, dv: DataView, p: number, status: number): number {
  const text = status === STATUS_NOTONLINK ? NOTONLINK_TEXT : "";
  dv.setUint16(p, OPT_STATUS_CODE);
  dv.setUint16(p + 2, 2 + text.length);
  dv.setUint16(p + 4, status);
  for (let k = 0; k < text.length; k++) u8[p + 6 + k] = text.charCodeAt(k);
  return p + 6 + text.length;
}

/**
 * Handles a frame carrying UDP to port 547: answers DHCPv6 clients.
 *
 * @returns true if the frame was a DHCPv6 message to a multicast address and
 *   DHCPv6 is enabled (answered or dropped), false otherwise
 */
export function dhcpv6(
  c: Ctx,
  tap: TapOut,
  u8: Uint8Array,
  dv: DataView,
  l2off: number,
  len: number,
): boolean {
  const conf = c.conf;
  if (conf.noDhcpv6 || !conf.v6) return false;
  const l4 = ipv6.frameL4(dv, l2off, len, ipv4.PROTO_UDP);
  if (l4 < 0) return false;
  const l3 = l2off + eth.HEADER_LEN;
  const end = ipv6.packetEnd(dv, l3);
  if (end - l4 < udp.HEADER_LEN || udp.dstPort(dv, l4) !== SERVER_PORT) return false;
  if (!ipv6.addrIsMulticast(dv, l3 + ipv6.DST_OFF)) return false;
  if (udp.length(dv, l4) !== end - l4) return true;

  const m = l4 + udp.HEADER_LEN;
  if (end - m < 4) return true;
  if (ipv6.addrIsUnspecified(dv, l3 + ipv6.SRC_OFF)) return true;
  if (parseMessage(c, dv, m + 4, end) < 0) return true;
  const type = u8[m]!;
  if (clientLen > CLIENTID_MAX || clientLen === 0) return true;
  if (clientLen < 0 && type !== INFORMATION_REQUEST) return true;
  if (serverLen >= 0 && serverLen !== DUID_LEN) return true;
  buildDuid(conf.mac);
  const ours = serverIsUs(u8);

  let reply = REPLY;
  let topStatus = -1;
  let withIa = iaNaOff >= 0;
  switch (type) {
    case SOLICIT:
      if (serverLen >= 0) return true;
      reply = ADVERTISE;
      break;
    case REQUEST:
    case RENEW:
      if (!ours) return true;
      break;
    case REBIND:
      if (serverLen >= 0 && !ours) return true;
      break;
    case CONFIRM:
      if (serverLen >= 0 || !hasAddr) return true;
      topStatus = foreign ? STATUS_NOTONLINK : STATUS_SUCCESS;
      withIa = false;
      break;
    case INFORMATION_REQUEST:
      if ((serverLen >= 0 && !ours) || hasIa) return true;
      withIa = false;
      break;
    default:
      return true;
  }

  const o = tap.slot();
  if (o < 0) return true;
  const ou8 = tap.u8;
  const odv = tap.dv;
  const ol3 = o + eth.HEADER_LEN;
  const ol4 = ol3 + ipv6.HEADER_LEN;
  const b = ol4 + udp.HEADER_LEN;
  ou8[b] = reply;
  ou8[b + 1] = u8[m + 1]!;
  ou8[b + 2] = u8[m + 2]!;
  ou8[b + 3] = u8[m + 3]!;
  let p = b + 4;

  odv.setUint16(p, OPT_SERVERID);
  odv.setUint16(p + 2, DUID_LEN);
  ou8.set(duid, p + 4);
  p += 4 + DUID_LEN;

  if (topStatus >= 0) p = putStatus(ou8, odv, p, topStatus);

  if (withIa) {
    const ia = p;
    odv.setUint16(p, OPT_IA_NA);
    for (let k = 0; k < 4; k++) ou8[p + 4 + k] = u8[iaNaOff + k]!; // IAID
    if (foreign && type !== SOLICIT) {
      odv.setUint32(p + 8, 0);
      odv.setUint32(p + 12, 0);
      p = putStatus(ou8, odv, p + 16, STATUS_NOTONLINK);
    } else {
      odv.setUint32(p + 8, 0xffffffff);
      odv.setUint32(p + 12, 0xffffffff);
      p += 16;
      odv.setUint16(p, OPT_IAADDR);
      odv.setUint16(p + 2, 24);
      ipv6.writeAddr(odv, p + 4, conf.ip6.addr);
      odv.setUint32(p + 20, 0xffffffff);
      odv.setUint32(p + 24, 0xffffffff);
      p += 28;
    }
    odv.setUint16(ia + 2, p - ia - 4);
  }

  if (clientLen > 0) {
    odv.setUint16(p, OPT_CLIENTID);
    odv.setUint16(p + 2, clientLen);
    for (let k = 0; k < clientLen; k++) ou8[p + 4 + k] = u8[clientOff + k]!;
    p += 4 + clientLen;
  }

  const dns = conf.ip6.dns;
  if (conf.dhcpDns && dns.length > 0) {
    const n = dns.length < DNS_MAX ? dns.length : DNS_MAX;
    odv.setUint16(p, OPT_DNS_SERVERS);
    odv.setUint16(p + 2, 16 * n);
    for (let k = 0; k < n; k++) ipv6.writeAddr(odv, p + 4 + 16 * k, dns[k]!);
    p += 4 + 16 * n;
  }

  if (conf.dhcpSearch && conf.dnsSearch.length > 0) {
    let q = p + 4;
    for (const name of conf.dnsSearch) {
      const r = writeDomainName(ou8, q, p + 4 + DOMAIN_LIST_MAX, name);
      if (r > 0) q = r;
    }
    if (q > p + 4) {
      odv.setUint16(p, OPT_DOMAIN_LIST);
      odv.setUint16(p + 2, q - p - 4);
      p = q;
    }
  }

  if (conf.fqdn !== "") {
    if (conf.fqdn !== fqdnSrc) {
      fqdnSrc = conf.fqdn;
      const raw = new TextEncoder().encode(conf.fqdn);
      const r = encodeNameAsUpstream(fqdnBuf, 0, fqdnBuf.length, raw);
      fqdnLen = r < 0 ? 0 : r;
    }
    if (fqdnLen > 0) {
      odv.setUint16(p, OPT_CLIENT_FQDN);
      odv.setUint16(p + 2, 1 + fqdnLen);
      ou8[p + 4] = clientFqdnFlags >= 0 && (clientFqdnFlags & FQDN_FLAG_S) ? FQDN_FLAG_O : 0;
      ou8.set(fqdnBuf.subarray(0, fqdnLen), p + 5);
      p += 5 + fqdnLen;
    }
  }

  const udpLen = p - ol4;
  ipv6.readSrc(dv, l3, dstWords);
  srcWords.set(ip6IsLinkLocal(conf.ip6.gw) ? conf.ip6.gw : conf.ip6.addrLl);
  for (let k = 0; k < 6; k++) dstMac[k] = u8[l2off + eth.SRC_OFF + k]!;
  eth.writeHeader(ou8, odv, o, dstMac, conf.mac, eth.ETH_P_IPV6);
  const xid = (u8[m + 1]! << 16) | (u8[m + 2]! << 8) | u8[m + 3]!;
  ipv6.push(ou8, odv, ol3, srcWords, dstWords, ipv4.PROTO_UDP, udpLen, 255, xid & 0xfffff);
  udp.push(odv, ol4, SERVER_PORT, CLIENT_PORT, udpLen - udp.HEADER_LEN);
  const sum = l4Checksum6(ou8, ol4, udpLen, ol3 + ipv6.SRC_OFF, ol3 + ipv6.DST_OFF, ipv4.PROTO_UDP);
  udp.setChecksum(odv, ol4, sum === 0 ? 0xffff : sum);
  tap.queue(o, p - o);
  c.ip6AddrSeen.set(conf.ip6.addr);
  return true;
}
