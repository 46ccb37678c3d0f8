// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `ip.ts` - textual forms of IPv4, IPv6 and MAC addresses
 *
 * Cold path only: the parsers and formatters build strings and arrays. The
 * numeric forms are those of `context.ts`: IPv4 is an unsigned 32-bit number
 * of the dotted quad (192.0.2.1 is 0xc0000201), IPv6 a `Uint32Array(4)` of
 * big-endian words (2001:db8::1 is [0x20010db8, 0, 0, 1]). Comparisons and
 * address classes are in `wire/inany.ts`.
 *
 * The parsers are strict, as glibc's `inet_pton()`: IPv4 is exactly four
 * decimal octets without leading zeroes; IPv6 follows RFC 4291 section 2.2,
 * with at most one `::` standing for at least one group and an optional
 * trailing dotted quad. A `%scope` suffix is not an address and is rejected.
 *
 * @module
 */

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const HEX_BYTE = /^[0-9a-fA-F]{2}$/;

/** Parse a dotted quad such as "192.0.2.1"; null if it is not exactly one. */
export function parseIp4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!DEC_OCTET.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** Format an IPv4 address as a dotted quad. */
export function formatIp4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Parse an RFC 4291 textual IPv6 address into four big-endian words; null if invalid. */
export function parseIp6(s: string): Uint32Array | null {
  if (s.length === 0 || s.length > 45) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1]!.split(":")) : null;

  const groups: number[] = [];
  const last = tail ?? head;
  const pushGroups = (list: string[], isLast: boolean): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (isLast && i === list.length - 1 && g.includes(".")) {
        const v4 = parseIp4(g);
        if (v4 === null) return false;
        groups.push(v4 >>> 16, v4 & 0xffff);
        continue;
      }
      if (!HEX_GROUP.test(g)) return false;
      groups.push(parseInt(g, 16));
    }
    return true;
  };

  if (!pushGroups(head, last === head)) return null;
  const headLen = groups.length;
  if (tail !== null && !pushGroups(tail, true)) return null;
  const tailLen = groups.length - headLen;

  let words16: number[];
  if (tail === null) {
    if (groups.length !== 8) return null;
    words16 = groups;
  } else {
    if (headLen + tailLen > 7) return null;
    words16 = [
      ...groups.slice(0, headLen),
      ...new Array<number>(8 - headLen - tailLen).fill(0),
      ...groups.slice(headLen),
    ];
  }
  const out = new Uint32Array(4);
  for (let i = 0; i < 4; i++) out[i] = ((words16[2 * i]! << 16) | words16[2 * i + 1]!) >>> 0;
  return out;
}

/**
 * Format an IPv6 address in RFC 5952 canonical form: lower case, no leading
 * zeroes, the longest (first on ties) run of two or more zero groups as `::`.
 * Like glibc's `inet_ntop()`, v4-mapped and v4-compatible addresses end in a
 * dotted quad.
 */
export function formatIp6(w: Uint32Array): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push((w[i]! >>> 16) & 0xffff, w[i]! & 0xffff);
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestAt = -1;

  const dotted = bestAt === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff));
  const n = dotted ? 6 : 8;
  let out = "";
  for (let i = 0; i < n; i++) {
    if (i === bestAt) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += g[i]!.toString(16);
  }
  if (dotted) {
    if (!out.endsWith(":")) out += ":";
    out += formatIp4(w[3]!);
  }
  return out;
}

/** Parse a MAC address "xx:xx:xx:xx:xx:xx" (two hex digits per byte); null if invalid. */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(":");
  if (parts.length !== 6) return null;
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!HEX_BYTE.test(p)) return null;
    mac[i] = parseInt(p, 16);
  }
  return mac;
}

/** Format a MAC address as lower-case "xx:xx:xx:xx:xx:xx". */
export function formatMac(mac: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push((mac[i] ?? 0).toString(16).padStart(2, "0"));
  return out.join(":");
}
