// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `dns_name.ts` - domain names in RFC 1035 label encoding, as DHCP (options
 * 81 and 119), DHCPv6 (options 24 and 39) and NDP (DNSSL) carry them.
 *
 * Both encoders write into a caller's buffer and never
 * pass `end`: {@linkcode writeDomainName} checks the name,
 * {@linkcode encodeNameAsUpstream} copies upstream's unchecked encoding.
 *
 * @module
 */

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
