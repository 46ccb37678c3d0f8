// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `callers.ts` - command lines that real programs hand to pasta, shared by the
 * option parser's unit tests, the compatibility probes and the end-to-end runs.
 *
 * @module
 */

/**
 * RootlessKit v2/v3's network driver options (rootless-containers/rootlesskit
 * pkg/network/pasta/pasta.go), before its port options and the target; it
 * probes them with `--version` first.
 */
export const ROOTLESSKIT_ARGS = [
  "--stderr",
  "--ns-ifname=tap0",
  "--mtu=65520",
  "--config-net",
  "--address=10.0.2.100",
  "--netmask=24",
  "--gateway=10.0.2.2",
  "--dns-forward=10.0.2.3",
  "--ipv4-only",
];

/** What Podman 5.3+ appends after its port options (pasta_linux.go). */
export function podmanTail(ns: string): string[] {
  return [
    "--dns-forward",
    "169.254.1.1",
    "-u",
    "none",
    "-T",
    "none",
    "-U",
    "none",
    "--no-map-gw",
    "--quiet",
    "--netns",
    ns,
    "--map-guest-addr",
    "169.254.1.2",
  ];
}
