// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `options.ts` - the command-line option table of passt and pasta
 *
 * Both modes share one option string and one long-option table, as upstream
 * does since 2025. An option of the other mode is recognised by getopt and
 * refused by the configuration code with upstream's wording
 * ({@linkcode modeMismatch}): `-s is for passt / vhost-user mode only`, `-T is
 * for pasta mode only`, `--netns is for pasta mode only`.
 *
 * A long option with the same short letter as an earlier one is an alias of
 * it (`--socket-path` of `--socket`): getopt reports it under the first name.
 *
 * @module
 */

import type { Mode } from "../context.ts";
import type { LongOption } from "./getopt.ts";

/** Modes an option is valid in. */
export type OptionMode = Mode | "both";

/** An entry of the option table. */
export interface OptionSpec extends LongOption {
  /** Modes the option is valid in. */
  mode: OptionMode;
  /** Name of the argument for help texts, if it takes one. */
  metavar?: string;
}

/** The getopt() option string of both modes, as upstream's (less what we lack). */
export const OPTSTRING = "+dqfel:hs:F:I:p:P:m:a:n:M:g:i:o:D:S:H:461t:u:T:U:";

/** The long-option table, shared by both modes. */
export const OPTIONS: readonly OptionSpec[] = [
  { name: "debug", short: "d", arg: "none", mode: "both" },
  { name: "quiet", short: "q", arg: "none", mode: "both" },
  { name: "foreground", short: "f", arg: "none", mode: "both" },
  { name: "stderr", short: "e", arg: "none", mode: "both" },
  { name: "log-file", short: "l", arg: "required", mode: "both", metavar: "PATH" },
  { name: "help", short: "h", arg: "none", mode: "both" },
  { name: "socket", short: "s", arg: "required", mode: "passt", metavar: "PATH" },
  { name: "socket-path", short: "s", arg: "required", mode: "passt", metavar: "PATH" },
  { name: "fd", short: "F", arg: "required", mode: "both", metavar: "FD" },
  { name: "ns-ifname", short: "I", arg: "required", mode: "pasta", metavar: "NAME" },
  { name: "pcap", short: "p", arg: "required", mode: "both", metavar: "FILE" },
  { name: "pid", short: "P", arg: "required", mode: "both", metavar: "FILE" },
  { name: "mtu", short: "m", arg: "required", mode: "both", metavar: "MTU" },
  { name: "address", short: "a", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "netmask", short: "n", arg: "required", mode: "both", metavar: "MASK" },
  { name: "mac-addr", short: "M", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "gateway", short: "g", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "interface", short: "i", arg: "required", mode: "both", metavar: "NAME" },
  { name: "outbound", short: "o", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "dns", short: "D", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "search", short: "S", arg: "required", mode: "both", metavar: "LIST" },
  { name: "hostname", short: "H", arg: "required", mode: "both", metavar: "NAME" },
  { name: "fqdn", arg: "required", mode: "both", metavar: "NAME" },
  { name: "no-tcp", arg: "none", mode: "both" },
  { name: "no-udp", arg: "none", mode: "both" },
  { name: "no-icmp", arg: "none", mode: "both" },
  { name: "no-dhcp", arg: "none", mode: "both" },
  { name: "no-dhcpv6", arg: "none", mode: "both" },
  { name: "no-ndp", arg: "none", mode: "both" },
  { name: "no-ra", arg: "none", mode: "both" },
  { name: "no-map-gw", arg: "none", mode: "both" },
  { name: "ipv4-only", short: "4", arg: "none", mode: "both" },
  { name: "ipv6-only", short: "6", arg: "none", mode: "both" },
  { name: "one-off", short: "1", arg: "none", mode: "passt" },
  { name: "tcp-ports", short: "t", arg: "required", mode: "both", metavar: "SPEC" },
  { name: "udp-ports", short: "u", arg: "required", mode: "both", metavar: "SPEC" },
  { name: "tcp-ns", short: "T", arg: "required", mode: "pasta", metavar: "SPEC" },
  { name: "udp-ns", short: "U", arg: "required", mode: "pasta", metavar: "SPEC" },
  { name: "userns", arg: "required", mode: "pasta", metavar: "NSPATH" },
  { name: "netns", arg: "required", mode: "pasta", metavar: "PATH|NAME" },
  { name: "ns-mac-addr", arg: "required", mode: "pasta", metavar: "ADDR" },
  { name: "dhcp-dns", arg: "none", mode: "pasta" },
  { name: "no-dhcp-dns", arg: "none", mode: "passt" },
  { name: "dhcp-search", arg: "none", mode: "pasta" },
  { name: "no-dhcp-search", arg: "none", mode: "passt" },
  { name: "dns-forward", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "no-netns-quit", arg: "none", mode: "pasta" },
  { name: "trace", arg: "none", mode: "both" },
  { name: "runas", arg: "required", mode: "both", metavar: "UID|UID:GID" },
  { name: "log-size", arg: "required", mode: "both", metavar: "SIZE" },
  { name: "version", arg: "none", mode: "both" },
  { name: "outbound-if4", arg: "required", mode: "both", metavar: "NAME" },
  { name: "outbound-if6", arg: "required", mode: "both", metavar: "NAME" },
  { name: "netns-only", arg: "none", mode: "pasta" },
  { name: "config-net", arg: "none", mode: "pasta" },
  { name: "no-copy-routes", arg: "none", mode: "pasta" },
  { name: "no-copy-addrs", arg: "none", mode: "pasta" },
  { name: "print-capabilities", arg: "none", mode: "both" },
  { name: "stats", arg: "required", mode: "both", metavar: "DELAY" },
  { name: "chroot-fallback", arg: "none", mode: "both" },
  { name: "vhost-user", arg: "none", mode: "passt" },
  { name: "repair-path", arg: "required", mode: "passt", metavar: "PATH" },
  { name: "migrate-exit", arg: "none", mode: "passt" },
  { name: "migrate-no-linger", arg: "none", mode: "passt" },
  { name: "map-host-loopback", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "map-guest-addr", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "dns-host", arg: "required", mode: "both", metavar: "ADDR" },
  { name: "host-lo-to-ns-lo", arg: "none", mode: "pasta" },
  { name: "no-splice", arg: "none", mode: "both" },
  { name: "splice-only", arg: "none", mode: "pasta" },
  { name: "freebind", arg: "none", mode: "both" },
];

/** The table entry of a long option name, if any. */
export function findOption(name: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.name === name);
}

/**
 * Upstream's message for an option given in the other mode, or null if the
 * option is valid in `mode`. Options with a short letter are named by it.
 */
export function modeMismatch(spec: OptionSpec, mode: Mode): string | null {
  if (spec.mode === "both" || spec.mode === mode) return null;
  // upstream names --one-off by its long name although it has -1
  const named = spec.short !== undefined && spec.name !== "one-off"
    ? `-${spec.short}`
    : `--${spec.name}`;
  const where = spec.mode === "passt" && spec.short === "s" ? "passt / vhost-user" : spec.mode;
  return `${named} is for ${where} mode only`;
}
