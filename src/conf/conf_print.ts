// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `conf_print.ts` - the start-up summary, as upstream's conf_print()
 *
 * @module
 */

import type { Conf } from "../context.ts";
import { formatIp4, formatIp6, formatMac } from "../ip.ts";
import { ip6IsZero } from "../wire/inany.ts";

/** Start-up summary lines, as upstream's conf_print() (printed unless --quiet). */
export function formatConfSummary(conf: Conf): string[] {
  const out: string[] = [];
  const tmpl: string[] = [];
  if (conf.v4) tmpl.push(`${conf.ifname4} (IPv4)`);
  if (conf.v6) tmpl.push(`${conf.ifname6} (IPv6)`);
  out.push(`Template interface: ${tmpl.join(", ")}`);
  const outIf: string[] = [];
  if (conf.ip4.ifnameOut) outIf.push(`${conf.ip4.ifnameOut} (IPv4)`);
  if (conf.ip6.ifnameOut) outIf.push(`${conf.ip6.ifnameOut} (IPv6)`);
  if (outIf.length > 0) out.push(`Outbound interface: ${outIf.join(", ")}`);
  if (conf.ip4.addrOut !== 0) out.push(`Outbound IPv4 address: ${formatIp4(conf.ip4.addrOut)}`);
  if (!ip6IsZero(conf.ip6.addrOut)) {
    out.push(`Outbound IPv6 address: ${formatIp6(conf.ip6.addrOut)}`);
  }
  if (conf.mode === "pasta" && !conf.spliceOnly) {
    out.push(`Namespace interface: ${conf.nsIfname}`);
  }
  out.push("MAC:", `    host: ${formatMac(conf.mac)}`);

  const dnsLines = (list: string[]): void => {
    if (list.length === 0) return;
    out.push("DNS:");
    for (const a of list) out.push(`    ${a}`);
  };
  const searchLines = (): void => {
    if (conf.dnsSearch.length === 0) return;
    out.push("DNS search list:");
    for (const d of conf.dnsSearch) out.push(`    ${d}`);
  };

  if (conf.v4) {
    if (!conf.noDhcp) {
      const mask = conf.ip4.prefixLen === 0 ? 0 : (0xffffffff << (32 - conf.ip4.prefixLen)) >>> 0;
      out.push(
        "DHCP:",
        `    assign: ${formatIp4(conf.ip4.addr)}`,
        `    mask: ${formatIp4(mask)}`,
        `    router: ${formatIp4(conf.ip4.gw)}`,
      );
    }
    dnsLines(conf.ip4.dns.map(formatIp4));
    searchLines();
  }
  if (conf.v6) {
    let head = "";
    if (!conf.noNdp && !conf.noDhcpv6) head = "NDP/DHCPv6:";
    else if (!conf.noNdp) head = "NDP:";
    else if (!conf.noDhcpv6) head = "DHCPv6:";
    if (head !== "") {
      out.push(
        head,
        `    assign: ${formatIp6(conf.ip6.addr)}`,
        `    router: ${formatIp6(conf.ip6.gw)}`,
        `    our link-local: ${formatIp6(conf.ip6.addrLl)}`,
      );
    }
    dnsLines(conf.ip6.dns.map(formatIp6));
    searchLines();
  }
  return out;
}
