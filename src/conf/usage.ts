// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `usage.ts` - the `--help` and `--version` texts
 *
 * The help text follows upstream's usage() (2026): the same order, wording
 * and tab layout, and only the options this program has. `-h` prints it on
 * standard output and exits 0, as upstream does since 2023.
 *
 * @module
 */

import type { Mode } from "../context.ts";
import { VERSION } from "./version.ts";

/** The `--version` text. */
export function version(mode: Mode): string {
  return `${mode} ${VERSION}\n` +
    "Copyright Red Hat\n" +
    "GNU General Public License, version 2 or later\n" +
    "  <https://www.gnu.org/licenses/old-licenses/gpl-2.0.html>\n" +
    "This is free software: you are free to change and redistribute it.\n" +
    "There is NO WARRANTY, to the extent permitted by law.\n";
}

/** The `--help` text for a mode, as invoked by `name` (default: the mode). */
export function usage(mode: Mode, name: string = mode): string {
  const pasta = mode === "pasta";
  const guest = pasta ? "namespace" : "guest";
  const fwdDefault = pasta ? "auto" : "none";
  const l: string[] = [];
  if (pasta) {
    l.push(
      `Usage: ${name} [OPTION]... [COMMAND] [ARGS]...`,
      `       ${name} [OPTION]... PID`,
      `       ${name} [OPTION]... --netns [PATH|NAME]`,
      "",
      "Without PID or --netns, run the given command or a",
      "default shell in a new network and user namespace, and",
      "connect it via pasta.",
    );
  } else {
    l.push(`Usage: ${name} [OPTION]...`);
  }
  l.push(
    "",
    "  -d, --debug\t\tBe verbose",
    "      --trace\t\tBe extra verbose, implies --debug",
    "  --stats DELAY  \tDisplay events statistics",
    "    minimum DELAY seconds between updates",
    "  -q, --quiet\t\tDon't print informational messages",
    "  -f, --foreground\tDon't run in background",
    "    default: run in background",
    "  -e, --stderr\t\tDEPRECATED: no effect",
    "  -l, --log-file PATH\tLog (only) to given file",
    "  --log-size BYTES\tMaximum size of log file",
    "    default: 1 MiB",
    "  --runas UID|UID:GID \tRun as given UID, GID, which can be",
    "    numeric, or login and group names",
    '    default: drop to user "nobody"',
    "  -h, --help\t\tDisplay this help message and exit",
    "  --version\t\tShow version and exit",
  );
  if (pasta) {
    l.push(
      "  -I, --ns-ifname NAME\tnamespace interface name",
      "    default: same interface name as external one",
    );
  } else {
    l.push(
      "  -s, --socket, --socket-path PATH\tUNIX domain socket path",
      "    default: probe free path starting from /tmp/passt_1.socket",
      "  --vhost-user\t\tEnable vhost-user mode",
      "    UNIX domain socket is provided by -s option",
      "  --repair-path PATH\tpath for passt-repair(1)",
      "    default: append '.repair' to UNIX domain path",
      "  --migrate-exit\tDEPRECATED:",
      "\t\t\tsource quits after migration",
      "    default: source keeps running after migration",
      "  --migrate-no-linger\tDEPRECATED:",
      "\t\t\tclose sockets on migration",
      "    default: keep sockets open, ignore events",
    );
  }
  l.push(
    "  --print-capabilities\tprint back-end capabilities in JSON format,",
    "    only meaningful for vhost-user mode",
    "  -F, --fd FD\t\tUse FD as pre-opened connected socket",
    "  -p, --pcap FILE\tLog tap-facing traffic to pcap file",
    "  -P, --pid FILE\tWrite own PID to the given file",
    "  -m, --mtu MTU\tAssign MTU via DHCP/NDP",
    "    a zero value disables assignment",
    "    default: 65520: maximum 802.3 MTU minus 802.3 header",
    "                    length, rounded to 32 bits (IPv4 words)",
    "  -a, --address ADDR\tAssign IPv4 or IPv6 address ADDR[/PREFIXLEN]",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: use addresses from interface with default route",
    "  -n, --netmask MASK\tAssign IPv4 MASK, dot-decimal or bits",
    "    default: netmask from matching address on the host",
    "  -M, --mac-addr ADDR\tUse source MAC address ADDR",
    "    default: 9a:55:9a:55:9a:55 (locally administered)",
    "  -g, --gateway ADDR\tPass IPv4 or IPv6 address as gateway",
    "    default: gateway from interface with default route",
    "  -i, --interface NAME\tInterface for addresses and routes",
    "    default: from --outbound-if4 and --outbound-if6, if any",
    "             otherwise interface with first default route",
    "  -o, --outbound ADDR\tBind to address as outbound source",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: use source address from routing tables",
    "  --outbound-if4 NAME\tBind to outbound interface for IPv4",
    "    default: use interface from default route",
    "  --outbound-if6 NAME\tBind to outbound interface for IPv6",
    "    default: use interface from default route",
    "  -D, --dns ADDR\tUse IPv4 or IPv6 address as DNS",
    "    can be specified multiple times",
    "    a single, empty option disables DNS information",
    pasta
      ? "    default: don't use any addresses"
      : "    default: use addresses from /etc/resolv.conf",
    "  -S, --search LIST\tSpace-separated list, search domains",
    "    a single, empty option disables the DNS search list",
    "  -H, --hostname NAME \tHostname to configure client with",
    "  --fqdn NAME\t\tFQDN to configure client with",
    pasta
      ? "    default: don't use any search list"
      : "    default: use search list from /etc/resolv.conf",
    pasta
      ? "  --dhcp-dns\t\tPass DNS list via DHCP/DHCPv6/NDP"
      : "  --no-dhcp-dns\tNo DNS list in DHCP/DHCPv6/NDP",
    pasta
      ? "  --dhcp-search\tPass list via DHCP/DHCPv6/NDP"
      : "  --no-dhcp-search\tNo list in DHCP/DHCPv6/NDP",
    "  --map-host-loopback ADDR\tTranslate ADDR to refer to host",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: gateway address",
    "  --map-guest-addr ADDR\tTranslate ADDR to guest's address",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: none",
    "  --dns-forward ADDR\tForward DNS queries sent to ADDR",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: don't forward DNS queries",
    "  --dns-host ADDR\tHost nameserver to direct queries to",
    "    can be specified zero to two times (for IPv4 and IPv6)",
    "    default: first nameserver from host's /etc/resolv.conf",
    "  --no-tcp\t\tDisable TCP protocol handler",
    "  --no-udp\t\tDisable UDP protocol handler",
    "  --no-icmp\t\tDisable ICMP/ICMPv6 protocol handler",
    "  --no-dhcp\t\tDisable DHCP server",
    "  --no-ndp\t\tDisable NDP responses",
    "  --no-dhcpv6\t\tDisable DHCPv6 server",
    "  --no-ra\t\tDisable router advertisements",
    "  --freebind\t\tBind to any address for forwarding",
    "  --no-map-gw\t\tDon't map gateway address to host",
    "  --chroot-fallback\tUse chroot() if pivot_root() fails",
    "  -4, --ipv4-only\tEnable IPv4 operation only",
    "  -6, --ipv6-only\tEnable IPv6 operation only",
    `  -t, --tcp-ports SPEC\tTCP port forwarding to ${guest}`,
    "    can be specified multiple times",
    "    SPEC can be:",
    "      'none': don't forward any ports",
    "      [ADDR[%IFACE]/]PORTS: forward specific ports",
    "        PORTS is a comma-separated list of ports or port",
    "         ranges.  'all' indicates all unbound non-ephemeral",
    "         ports.  Ranges can be reduced by excluding ports or",
    "         ranges prefixed by '~'.",
    ...(pasta
      ? [
        "        The 'auto' keyword may be given to only forward",
        "        ports which are bound in the target namespace",
      ]
      : []),
    "        Examples:",
    "        -t all\t\tForward all ports",
    "        -t ::1/all\tForward all ports from local address ::1",
    `        -t 22\t\tForward local port 22 to 22 on ${guest}`,
    `        -t 22:23\tForward local port 22 to 23 on ${guest}`,
    "        -t 22,25\tForward ports 22, 25 to ports 22, 25",
    "        -t 22-80  \tForward ports 22 to 80",
    "        -t 22-80:32-90\tForward ports 22 to 80 to",
    "\t\t\tcorresponding port numbers plus 10",
    `        -t 192.0.2.1/5\tBind port 5 of 192.0.2.1 to ${guest}`,
    "        -t 5-25,~10-20\tForward ports 5 to 9, and 21 to 25",
    "        -t ~25\t\tForward all ports except for 25",
    ...(pasta
      ? [
        "        -t auto\t\tForward all ports bound in namespace",
        "        -t ::1/auto\tForward ports from ::1 if they are",
        "        \t\tbound in the namespace",
        "        -t 80-82,auto\tForward ports 80-82 if they are bound",
        "        \t\tin the namespace",
      ]
      : []),
    `    default: ${fwdDefault}`,
    `  -u, --udp-ports SPEC\tUDP port forwarding to ${guest}`,
    "    SPEC is as described for TCP above",
    `    default: ${fwdDefault}`,
  );
  if (!pasta) {
    l.push("  -1, --one-off\tQuit after handling one single client");
    return l.join("\n") + "\n";
  }
  l.push(
    "  -T, --tcp-ns SPEC\tTCP port forwarding to init namespace",
    "    SPEC is as described above",
    "    default: auto",
    "  -U, --udp-ns SPEC\tUDP port forwarding to init namespace",
    "    SPEC is as described above",
    "    default: auto",
    "  --host-lo-to-ns-lo\tTranslate host-loopback forwards to",
    "\t\t\tnamespace loopback",
    "  --userns NSPATH \tTarget user namespace to join",
    "  --netns PATH|NAME\tTarget network namespace to join",
    "  --netns-only\t\tDon't join existing user namespace",
    "    implied if PATH or NAME are given without --userns",
    "  --no-netns-quit\tDon't quit if filesystem-bound target",
    "  \t\t\tnetwork namespace is deleted",
    "  --config-net\t\tConfigure tap interface in namespace",
    "  --no-copy-routes\tDEPRECATED:",
    "\t\t\tDon't copy all routes to namespace",
    "  --no-copy-addrs\tDEPRECATED:",
    "\t\t\tDon't copy all addresses to namespace",
    "  --ns-mac-addr ADDR\tSet MAC address on tap interface",
    "  --no-splice\t\tDisable inbound socket splicing",
    "  --splice-only\tOnly enable loopback forwarding",
  );
  return l.join("\n") + "\n";
}
