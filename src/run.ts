// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `run.ts` - start-up order and the wiring of the parts, for both modes
 *
 * Theory of operation, in upstream's order: raise the open-file limit; allocate
 * the arena; create the loop, the tap side and the protocol handlers; pasta
 * creates or joins its namespaces, opens the tap device inside and configures it
 * over netlink, passt binds its UNIX domain socket; the port forwarding
 * listeners are bound; the start-up summary is printed; then a spawned command
 * is released and the loop runs until a signal, the end of the spawned command,
 * or the client's exit in one-off mode.
 *
 * @module
 */

import type { Conf, Ctx } from "./context.ts";
import { endSetUp, helperPath, lib } from "../ffi/lib.ts";
import { debug, err, info, setLevel, warn } from "./log.ts";
import { Level } from "./log.ts";
import { EpollType, Loop } from "./loop/loop.ts";
import { enableStats } from "./loop/stats.ts";
import { inheritedListener } from "./daemon.ts";
import { Arena } from "./tap/arena.ts";
import { Tap } from "./tap/tap.ts";
import { PastaTapBackend, tapHandlerPasta } from "./tap/tap_pasta.ts";
import { Pcap } from "./tap/pcap.ts";
import { Icmp } from "./proto/icmp.ts";
import { ndpTimer } from "./proto/ndp.ts";
import { AF_INET6, FdTransport, IFF_NOARP, IFF_UP, Netlink, NetlinkError } from "./netlink.ts";
import { EAFNOSUPPORT, EOPNOTSUPP, errorText, strerror } from "../ffi/errno.ts";
import { ip6IsZero } from "./wire/inany.ts";
import { joinNs, NsError, type NsTarget, reap, spawnNs } from "./pasta/pasta.ts";
import { listenUnix, logSocketHints, PasstStream, removeSocket } from "./passt/tap_passt.ts";
import { logVhostUserHints, VhostUser } from "./passt/vhost_user.ts";
import { watchTarget } from "./pasta/netns_quit.ts";
import { nsOpen } from "./pasta/pasta.ts";
import { setupTcp, type Tcp } from "./proto/tcp.ts";
import { setupUdp, type Udp } from "./proto/udp.ts";
import { type Forwarder, FwdError } from "./fwd/fwd.ts";
import { setupFwd } from "./fwd/setup.ts";
import { bindControl, ControlServer } from "./pesto/control.ts";
import { type FlowTable, newFlowTable } from "./flow/flow.ts";
import { setupTcpSplice } from "./proto/tcp_splice.ts";
import { setupUdpSplice } from "./proto/udp_splice.ts";
import {
  AF_NETLINK,
  cstr,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLRDHUP,
  NETLINK_ROUTE,
  SIGCHLD,
  SIGINT,
  SIGQUIT,
  SIGTERM,
  SOCK_CLOEXEC,
  SOCK_RAW,
} from "../ffi/sys.ts";

/** Bytes of the packet arena. */
export const ARENA_BYTES = 192 * 1024 * 1024;

/** Error during start-up, with the one line to print. */
export class StartupError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Bytes of a WebAssembly memory page. */
const WASM_PAGE = 65536;

/**
 * Allocates the arena once (the runtime allocates it: a native mapping would
 * need unscoped FFI permission). Only the pages the data path touches become
 * resident. No MADV_HUGEPAGE: it made the few pages touched at start-up cost
 * 2 MiB each (12 MiB of an idle pasta's 34 MiB), and gave no throughput
 * difference we could measure (docs/performance.md).
 *
 * A WebAssembly memory of a fixed size (never grown, so its buffer is never
 * detached), not an `ArrayBuffer` of that size: V8 counts the latter as
 * external memory, and 192 MiB of it made the next allocation run garbage
 * collections for "external memory pressure", 5 to 6 ms of every start.
 */
export function mapArena(size: number): Arena {
  const pages = Math.ceil(size / WASM_PAGE);
  // (not shared: a plain ArrayBuffer, though its type says either)
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  return new Arena(memory.buffer as ArrayBuffer);
}

/** Longest interval between two heap trims, in milliseconds. */
export const TRIM_MAX_MS = 60_000;

/**
 * Gives the C library's freed heap back to the kernel about a second after
 * start, then 2, 4, 8 ... seconds apart, up to every {@linkcode TRIM_MAX_MS}
 * ({@linkcode runLoop} trims once more before the first wait): the runtime's
 * compiler threads leave megabytes free in their malloc arenas while our code
 * warms up, and so do bursts of connections, which glibc never returns by
 * itself (about 8 MB of an idle pasta's 30 MB RssAnon, docs/performance.md).
 */
function trimHeap(loop: Loop): void {
  let interval = 1000;
  let last = -Infinity;
  loop.every(1000, (now) => {
    if (now - last < interval) return;
    last = now;
    interval = Math.min(interval * 2, TRIM_MAX_MS);
    lib().pf_malloc_trim();
  });
}

/** Creates the execution context for `conf`. */
export function newCtx(conf: Conf): Ctx {
  return {
    conf,
    macGuest: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ip4AddrSeen: conf.ip4.addr,
    ip6AddrSeen: new Uint32Array(conf.ip6.addr),
    ip6AddrLlSeen: new Uint32Array(conf.ip6.addrLl),
  };
}

/** Parts created at start-up that later issues plug into. */
export interface Runtime {
  c: Ctx;
  loop: Loop;
  arena: Arena;
  tap: Tap;
  ns: NsTarget | null;
  tcp: Tcp | null;
  /** The flow table (TCP, spliced TCP, UDP and ICMP echo flows). */
  flows: FlowTable | null;
  /** The forwarding rules and their listeners (runtime changes go through it). */
  fwd: Forwarder | null;
  udp: Udp | null;
  /** Code run at exit (pcap flush, socket file removal...). */
  atExit: (() => void)[];
}

function ifname(s: string): Uint8Array {
  const b = new Uint8Array(16);
  b.set(new TextEncoder().encode(s).subarray(0, 15));
  return b;
}

/** Configures the namespace's interfaces over netlink (pasta_ns_conf). */
function nsConf(c: Ctx, ns: NsTarget, ifindex: number): void {
  const ffi = lib();
  const fd = ffi.pf_ns_socket(
    ns.userns,
    ns.netns,
    AF_NETLINK,
    SOCK_RAW | SOCK_CLOEXEC,
    NETLINK_ROUTE,
  );
  if (fd < 0) throw new StartupError(`Cannot open netlink socket in namespace: ${strerror(-fd)}`);
  const nl = new Netlink(new FdTransport(fd));
  try {
    const lo = nl.ifindexByName("lo");
    if (lo > 0) nl.linkUp(lo);
    const conf = c.conf;
    if (!conf.configNet || conf.spliceOnly) return;
    if (conf.nsMac) nl.linkSetMac(ifindex, conf.nsMac);
    // IPv6: up without neighbour discovery, so that the link-local address
    // skips duplicate address detection (usable at once: it is the only one
    // in local mode), then marked nodad and neighbour discovery enabled, as
    // upstream's pasta_ns_conf().
    const noarp = conf.v6 ? IFF_NOARP : 0;
    nl.linkSetFlags(ifindex, IFF_UP | noarp, IFF_UP | noarp, conf.mtu || undefined);
    if (conf.v6) {
      const { addrLl } = nl.addresses(ifindex, AF_INET6);
      try {
        if (!ip6IsZero(addrLl)) nl.setLinkLocalNodad(ifindex, addrLl);
      } catch (e) {
        if (!(e instanceof NetlinkError)) throw e;
        warn(`Can't set nodad for LL in namespace: ${e.message}`);
      }
      nl.linkSetFlags(ifindex, 0, IFF_NOARP);
    }
    // In local mode a family the namespace's kernel lacks is disabled, as upstream.
    const unsupported = (local: boolean, fam: string, e: unknown): boolean => {
      if (!local || !(e instanceof NetlinkError)) return false;
      if (e.errno !== EOPNOTSUPP && e.errno !== EAFNOSUPPORT) return false;
      warn(`${fam} not supported, disabling`);
      return true;
    };
    if (conf.v4) {
      try {
        nl.addAddr4(ifindex, conf.ip4.addr, conf.ip4.prefixLen);
        nl.addDefaultRoute4(ifindex, conf.ip4.gw);
      } catch (e) {
        if (!unsupported(conf.local4, "IPv4", e)) throw e;
        conf.v4 = false;
        conf.noDhcp = true;
      }
    }
    if (conf.v6) {
      try {
        // Local mode: link-local only, no global address
        if (!ip6IsZero(conf.ip6.addr)) nl.addAddr6(ifindex, conf.ip6.addr, 64);
        nl.addDefaultRoute6(ifindex, conf.ip6.gw);
      } catch (e) {
        if (!unsupported(conf.local6, "IPv6", e)) throw e;
        conf.v6 = false;
        conf.noNdp = conf.noDhcpv6 = true;
      }
    }
  } finally {
    nl.close();
  }
}

/** pasta: namespaces, tap device, configuration. */
function setupPasta(rt: Runtime): void {
  const { c, loop } = rt;
  const conf = c.conf;
  const ns = conf.command.length || (!conf.targetPid && !conf.netns) ? spawnNs(conf) : joinNs(conf);
  // As upstream, --splice-only makes no tap device: the namespace's loopback
  // is brought up and forwarding is loopback to loopback only
  const tapFd = conf.spliceOnly ? -1 : openTap(conf, ns);
  // Sockets in the namespace at run time (spliced connections, their pools)
  // come from a helper that joined it once: we keep no capabilities for that.
  // It holds the tap device too, so that its slow last close is not ours.
  const CAP_NET_BIND_SERVICE = 10;
  const srv = lib().pf_ns_server_start(
    cstr(helperPath()),
    ns.userns,
    ns.netns,
    1 << CAP_NET_BIND_SERVICE,
    tapFd,
  );
  if (srv < 0) throw new StartupError(`Cannot start namespace socket helper: ${strerror(-srv)}`);
  rt.ns = ns;
  if (tapFd < 0) nsConf(c, ns, 0);
  else setupPastaTap(rt, ns, tapFd);
  if (ns.spawned) {
    loop.onSignal(SIGCHLD, () => {
      const status = reap(ns.pid);
      if (status >= 0) loop.stop(status);
    });
  } else if (!conf.noNetnsQuit) {
    watchTarget(loop, ns.netnsPath, ns.pid, () => loop.stop(0));
  }
}

/** pasta: opens the tap device in the namespace; returns its descriptor. */
function openTap(conf: Conf, ns: NsTarget): number {
  const fd = lib().pf_ns_tap_open(ns.userns, ns.netns, ifname(conf.nsIfname));
  if (fd < 0) {
    throw new StartupError(`Failed to open tap device in namespace: ${strerror(-fd)}`);
  }
  return fd;
}

/** pasta: the tap device `fd`, configured, and its reader on the loop. */
function setupPastaTap(rt: Runtime, ns: NsTarget, fd: number): void {
  const { c, loop, tap } = rt;
  const conf = c.conf;
  const ffi = lib();
  const name = ifname(conf.nsIfname);
  const ifindex = ffi.pf_ns_ifindex(ns.userns, ns.netns, name);
  if (ifindex <= 0) throw new StartupError(`Cannot find tap device ${conf.nsIfname} in namespace`);
  nsConf(c, ns, ifindex);
  tap.backend = new PastaTapBackend(fd, tap.u8);
  loop.on(EpollType.TAP_PASTA, (events, tfd, _i, now) => {
    if (events & EPOLLIN) tapHandlerPasta(tap, tfd, now);
    if (events & (EPOLLHUP | EPOLLERR)) {
      info("Tap device closed, exiting");
      loop.stop(0);
    }
  });
  loop.add(fd, EpollType.TAP_PASTA, 0, EPOLLIN | EPOLLRDHUP);
}

/** passt: the UNIX domain socket (or an inherited one with --fd). */
function setupPasst(rt: Runtime): void {
  const { c, loop, tap, arena } = rt;
  const conf = c.conf;
  let listenFd = -1;
  let path = "";
  if (conf.fd < 0) {
    let l: { fd: number; path: string };
    try {
      // bound by the parent if it changed user for us (daemon.ts)
      l = inheritedListener() ?? listenUnix(conf.socketPath);
    } catch (e) {
      throw new StartupError((e as Error).message);
    }
    listenFd = l.fd;
    path = l.path;
    rt.atExit.push(() => removeSocket(path));
  }
  const Backend = conf.vhostUser ? VhostUser : PasstStream;
  const front = new Backend({
    c,
    loop,
    tap,
    arena,
    listenFd,
    oneOff: conf.oneOff,
    onGone: () => loop.stop(0),
  });
  if (conf.fd >= 0) front.adopt(conf.fd);
  else if (conf.vhostUser) logVhostUserHints(path);
  else logSocketHints(path);
}

/** Builds everything; the caller runs the loop. */
export function setup(conf: Conf): Runtime {
  setLevel(conf.debug ? Level.DEBUG : conf.quiet ? Level.WARN : Level.INFO, conf.trace);
  const ffi = lib();
  const nofile = ffi.pf_raise_nofile();
  if (nofile < 0) warn("Cannot raise the open file limit");
  const arena = mapArena(ARENA_BYTES);
  const c = newCtx(conf);
  const loop = new Loop();
  const tap = new Tap(c, arena);
  const rt: Runtime = {
    c,
    loop,
    arena,
    tap,
    ns: null,
    tcp: null,
    fwd: null,
    flows: null,
    udp: null,
    atExit: [],
  };
  if (conf.pcap) {
    // as upstream: a capture file that can't be opened is an error, not fatal
    try {
      const pcap = Pcap.open(conf.pcap);
      tap.pcap = pcap;
      rt.atExit.push(() => pcap.close());
    } catch (e) {
      err(`Couldn't open pcap file ${conf.pcap}: ${errorText(e)}`);
    }
  }
  const flows = newFlowTable();
  rt.flows = flows;
  const icmp = new Icmp(c, loop, tap, arena, flows);
  tap.handlers.icmp = (cc, v6, l3, l4, len, now) => icmp.tapHandler(cc, v6, l3, l4, len, now);
  loop.every(1000, (now) => icmp.timer(now));
  trimHeap(loop);
  loop.defer(() => tap.flush());
  if (conf.stats > 0) {
    const enc = new TextEncoder();
    enableStats(loop, conf.stats, (text) => Deno.stderr.writeSync(enc.encode(text)));
  }
  if (conf.v6 && !conf.noNdp && !conf.noRa) loop.every(1000, (now) => ndpTimer(c, tap, now));
  const quit = (): void => loop.stop(0);
  loop.onSignal(SIGTERM, quit);
  loop.onSignal(SIGINT, quit);
  loop.onSignal(SIGQUIT, quit);
  try {
    if (conf.mode === "pasta") setupPasta(rt);
    else setupPasst(rt);
    rt.tcp = setupTcp(c, loop, tap, arena, flows);
    rt.udp = setupUdp(c, loop, tap, arena, flows);
    const ns = rt.ns;
    if (ns) setupTcpSplice(c, loop, rt.tcp, ns, nofile, flows);
    const us = ns ? setupUdpSplice(c, rt.udp, ns) : null;
    rt.fwd = setupFwd(c, loop, {
      tcp: rt.tcp,
      udp: rt.udp,
      udpSplice: us,
      ns,
      nsOpen: ns ? (path) => nsOpen(ns, path) : null,
    });
    if (conf.confPath !== null) {
      const path = conf.confPath;
      new ControlServer(loop, bindControl(path), rt.fwd);
      rt.atExit.push(() => removeSocket(path));
    }
  } catch (e) {
    if (e instanceof NsError || e instanceof FwdError) throw new StartupError(e.message);
    throw e;
  }
  debug("Set-up complete");
  return rt;
}

/** Runs the loop until it stops; returns the exit status. */
export function runLoop(rt: Runtime): number {
  rt.ns?.release();
  // What set-up freed goes back before the first wait; trimHeap() does the rest
  lib().pf_malloc_trim();
  // Set-up is over, and with the command released, binding a symbol with its
  // trampoline (the first one sets Deno's compiler up) no longer delays it
  endSetUp();
  try {
    return rt.loop.run();
  } finally {
    for (const fn of rt.atExit) fn();
  }
}
