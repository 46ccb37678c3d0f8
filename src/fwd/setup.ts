// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/setup.ts` - the forwarding layer of a running process
 *
 * Theory of operation: builds the {@linkcode Forwarder} for `run.ts` once the
 * protocol modules exist: the `host` table with the TCP and UDP listener
 * backends of host sockets, in pasta the `splice` table with those of the
 * namespace, the {@linkcode Scanner} of both sides for `auto` rules
 * (sock_diag, else `/proc/net`) with its first scan, and the 1 s rescan. The
 * rules of the configuration are installed as a first
 * {@linkcode Forwarder.replace}, so a rule that can't be installed at start-up
 * fails the same way as one sent later, with one line naming it.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { AF_NETLINK, O_CLOEXEC, O_NONBLOCK, SOCK_CLOEXEC, SOCK_RAW } from "../../ffi/sys.ts";
import type { Ctx } from "../context.ts";
import type { Loop } from "../loop/loop.ts";
import type { Tcp } from "../proto/tcp.ts";
import type { Udp } from "../proto/udp.ts";
import type { UdpSplice } from "../proto/udp_splice.ts";
import { Forwarder, FWD_SCAN_INTERVAL, type PifBackends } from "./fwd.ts";
import type { FwdCaps } from "./fwd_rule.ts";
import { type ListenNs, tcpHostBackend, tcpSpliceBackend } from "./listen.ts";
import { DiagSocket, NETLINK_SOCK_DIAG } from "./diag.ts";
import { type ProcNetFds, Scanner } from "./scan.ts";

/** What the forwarding layer plugs into. */
export interface FwdParts {
  tcp: Tcp | null;
  udp: Udp | null;
  udpSplice: UdpSplice | null;
  /** pasta: the namespace, and a way to open its files. */
  ns: ListenNs | null;
  nsOpen: ((path: string) => number) | null;
}

function openHost(path: string): number {
  const fd = lib().pf_open(new TextEncoder().encode(path + "\0"), O_CLOEXEC | O_NONBLOCK, 0);
  return fd < 0 ? -1 : fd;
}

const DIAG_TYPE = SOCK_RAW | SOCK_CLOEXEC;

/** A sock_diag socket over `fd`, or null if it couldn't be opened (`/proc/net` then). */
function diagSocket(fd: number): DiagSocket | null {
  return fd < 0 ? null : new DiagSocket(fd);
}

function procNet(open: (path: string) => number): ProcNetFds {
  const o = (p: string): number => {
    try {
      return open(p);
    } catch {
      return -1;
    }
  };
  return {
    tcp4: o("/proc/net/tcp"),
    tcp6: o("/proc/net/tcp6"),
    udp4: o("/proc/net/udp"),
    udp6: o("/proc/net/udp6"),
  };
}

/**
 * Creates the forwarder, installs the configured rules (throws FwdError, one
 * line, if one can't be) and starts the `auto` rescan.
 */
export function setupFwd(c: Ctx, loop: Loop, p: FwdParts): Forwarder {
  const conf = c.conf;
  const caps: FwdCaps = {
    v4: conf.v4,
    v6: conf.v6,
    tcp: !conf.noTcp,
    udp: !conf.noUdp,
    scan: conf.mode === "pasta",
  };
  const host: PifBackends = {
    tcp: p.tcp && !conf.noTcp ? tcpHostBackend(c, loop) : null,
    udp: p.udp && !conf.noUdp ? p.udp.listenBackend() : null,
  };
  const tables: ConstructorParameters<typeof Forwarder>[0] = { host: { caps, backends: host } };
  let scanner: Scanner | null = null;
  if (conf.mode === "pasta" && p.ns !== null && p.nsOpen !== null) {
    tables.splice = {
      caps,
      backends: {
        tcp: p.tcp && !conf.noTcp ? tcpSpliceBackend(c, loop, p.ns) : null,
        udp: p.udpSplice && !conf.noUdp ? p.udpSplice.listenBackend() : null,
      },
    };
    // Always there in pasta: rules replaced at run time may scan too. The
    // first scan asks sock_diag; the /proc/net files of a side it doesn't
    // answer for are opened now, before the sandbox (each file of the
    // namespace by a clone that joins it), and read instead
    const nsDiag = diagSocket(
      lib().pf_ns_socket(p.ns.userns, p.ns.netns, AF_NETLINK, DIAG_TYPE, NETLINK_SOCK_DIAG),
    );
    const hostDiag = diagSocket(lib().pf_socket(AF_NETLINK, DIAG_TYPE, NETLINK_SOCK_DIAG));
    scanner = new Scanner(null, null, nsDiag, hostDiag);
    scanner.scan();
    const nsFiles = scanner.needsFiles("ns"), hostFiles = scanner.needsFiles("host");
    if (nsFiles) scanner.useFiles("ns", procNet(p.nsOpen));
    if (hostFiles) scanner.useFiles("host", procNet(openHost));
    if (nsFiles || hostFiles) scanner.scan();
  }
  const fwd = new Forwarder(tables, scanner);
  if (p.tcp) p.tcp.ruleAt = (outbound, slot) => fwd.ruleAt(outbound ? "splice" : "host", slot);
  if (p.udp) p.udp.ruleAt = (slot) => fwd.ruleAt("host", slot);
  // One scan (the one above) for both tables: the second one's `auto` leaves
  // out the first one's new listeners by their count, not by a rescan
  const scanned = scanner !== null;
  fwd.replace("host", conf.fwd.host, scanned);
  if (fwd.has("splice")) fwd.replace("splice", conf.fwd.splice, scanned);
  if (scanner) loop.every(FWD_SCAN_INTERVAL, (now) => fwd.scanTimer(now));
  return fwd;
}
