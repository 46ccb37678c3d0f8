// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `resolv.ts` - resolvers and search domains from resolv.conf text
 *
 * As upstream's get_dns(): `nameserver` lines give up to {@linkcode MAXNS}
 * addresses per family, with any `%scope` suffix stripped; the first `search`
 * line gives up to {@linkcode MAXDNSRCH} domains. Without a `search` line, a
 * `domain` line gives the single search domain, as in glibc. Lines starting
 * with `#` or `;` are comments; anything unparsable is skipped.
 *
 * @module
 */

import { parseIp4, parseIp6 } from "../ip.ts";
import { readSysFileOr } from "../sysfile.ts";

/** Most resolvers kept per family. */
export const MAXNS = 3;
/** Most search domains kept. */
export const MAXDNSRCH = 6;
/** Default path of the resolver configuration. */
export const RESOLV_CONF = "/etc/resolv.conf";

/** What resolv.conf says. */
export interface ResolvConf {
  ns4: number[];
  ns6: Uint32Array[];
  search: string[];
}

/** Parse the text of a resolv.conf file. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { ns4: [], ns6: [], search: [] };
  let sawSearch = false;
  let domain: string | null = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const words = line.split(/[ \t]+/);
    const key = words[0];
    if (key === "nameserver" && words.length >= 2) {
      const addr = words[1]!.split("%")[0]!;
      const v4 = parseIp4(addr);
      if (v4 !== null) {
        if (out.ns4.length < MAXNS) out.ns4.push(v4);
        continue;
      }
      const v6 = parseIp6(addr);
      if (v6 !== null && out.ns6.length < MAXNS) out.ns6.push(v6);
    } else if (key === "search" && !sawSearch) {
      sawSearch = true;
      for (const d of words.slice(1)) {
        if (d.startsWith("#") || d.startsWith(";")) break;
        if (out.search.length < MAXDNSRCH) out.search.push(d);
      }
    } else if (key === "domain" && words.length >= 2 && domain === null) {
      domain = words[1]!;
    }
  }
  if (!sawSearch && domain !== null) out.search.push(domain);
  return out;
}

/**
 * Read and parse a resolv.conf file; a missing or unreadable file gives empty
 * lists. (Read through the native library: the runtime's own file API loads
 * its code on first use, milliseconds of every start.)
 */
export function readResolvConf(path: string = RESOLV_CONF): ResolvConf {
  return parseResolvConf(readSysFileOr(path));
}
