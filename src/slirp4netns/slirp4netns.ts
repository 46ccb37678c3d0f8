// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `slirp4netns.ts` - the `slirp4netns` front end: slirp4netns 1.2's command line on pasta
 *
 * Theory of operation: run under the name `slirp4netns`, we read its command
 * line (the options Podman 4 and RootlessKit 1 pass, `PID|PATH TAPNAME`),
 * with its messages and exit statuses, and turn it into a pasta
 * configuration with slirp4netns's network: the guest at network + 100 of
 * `--cidr` (10.0.2.0/24 by default), the gateway and host loopback at
 * network + 2, DNS at network + 3 forwarded to the host's resolver, no port
 * forwarded until the API socket asks; with `-6`, fd00::100/64, fd00::2 and
 * fd00::3. Without `-c` the tap device is created and left unconfigured, as
 * slirp4netns leaves it (RootlessKit configures it itself).
 *
 * pasta then runs in the foreground (never as a daemon: callers wait for its
 * PID). {@linkcode attachSlirp} adds what is slirp4netns's own once pasta is
 * set up: the API socket (`api.ts`), the exit descriptor (we exit when its
 * other end goes away, which is what slirp4netns polls for) and the ready
 * descriptor ("1" written, then closed, once everything including the API
 * socket is in place).
 *
 * @module
 */

import { Getopt, GetoptError, type LongOption } from "../conf/getopt.ts";
import { formatIp4, parseIp4, parseIp6, parseMac } from "../ip.ts";
import { lib } from "../../ffi/lib.ts";
import { EPOLLRDHUP } from "../../ffi/sys.ts";
import { EpollType, type Loop } from "../loop/loop.ts";
import { info } from "../log.ts";
import type { Forwarder } from "../fwd/fwd.ts";
import { bindApi, SlirpApi } from "./api.ts";

/** pasta forwards no port at all: slirp4netns forwards only what its API asks for. */
const NO_FORWARDS = ["-t", "none", "-u", "none", "-T", "none", "-U", "none"];

/** slirp4netns's defaults. */
export const DEFAULT_MTU = 1500;
/** Default network. */
export const DEFAULT_CIDR = "10.0.2.0/24";

/** What the command line asks for. */
export interface SlirpOptions {
  configure: boolean;
  exitFd: number;
  readyFd: number;
  mtu: number;
  ipv6: boolean;
  apiSocket: string | null;
  /** Network address and prefix length. */
  network: number;
  prefix: number;
  disableHostLoopback: boolean;
  netnsType: "pid" | "path";
  usernsPath: string | null;
  disableDns: boolean;
  outbound4: string | null;
  outbound6: string | null;
  macaddress: string | null;
  /** PID or namespace path. */
  target: string;
  tapname: string;
}

/** Outcome of parsing: options, or text to print and a status. */
export type SlirpParse =
  | { kind: "run"; opts: SlirpOptions; warnings: string[] }
  | { kind: "exit"; stdout: string; stderr: string; status: number };

const LONG: readonly LongOption[] = [
  { name: "configure", short: "c", arg: "none" },
  { name: "exit-fd", short: "e", arg: "required" },
  { name: "ready-fd", short: "r", arg: "required" },
  { name: "mtu", short: "m", arg: "required" },
  { name: "cidr", arg: "required" },
  { name: "disable-host-loopback", arg: "none" },
  { name: "no-host-loopback", arg: "none" },
  { name: "netns-type", arg: "required" },
  { name: "userns-path", arg: "required" },
  { name: "api-socket", short: "a", arg: "required" },
  { name: "enable-ipv6", short: "6", arg: "none" },
  { name: "enable-sandbox", arg: "none" },
  { name: "create-sandbox", arg: "none" },
  { name: "enable-seccomp", arg: "none" },
  { name: "help", short: "h", arg: "none" },
  { name: "version", short: "v", arg: "none" },
  { name: "outbound-addr", arg: "required" },
  { name: "outbound-addr6", arg: "required" },
  { name: "disable-dns", arg: "none" },
  { name: "macaddress", arg: "required" },
  { name: "target-type", arg: "required" },
];

/** The `--help` text, as slirp4netns 1.2 prints it (Podman and RootlessKit read features from it). */
export function slirpUsage(argv0: string): string {
  return `Usage: ${argv0} [OPTION]... PID|PATH [TAPNAME]\n` +
    "User-mode networking for unprivileged network namespaces.\n\n" +
    "-c, --configure          bring up the interface\n" +
    "-e, --exit-fd=FD         specify the FD for terminating slirp4netns\n" +
    "-r, --ready-fd=FD        specify the FD to write to when the network is configured\n" +
    `-m, --mtu=MTU            specify MTU (default=${DEFAULT_MTU}, max=65521)\n` +
    "-6, --enable-ipv6        enable IPv6 (experimental)\n" +
    "-a, --api-socket=PATH    specify API socket path\n" +
    `--cidr=CIDR              specify network address CIDR (default=${DEFAULT_CIDR})\n` +
    "--disable-host-loopback  prohibit connecting to 127.0.0.1:* on the host namespace\n" +
    "--netns-type=TYPE \t specify network namespace type ([path|pid], default=pid)\n" +
    "--userns-path=PATH\t specify user namespace path\n" +
    "--enable-sandbox         create a new mount namespace (and drop all caps except CAP_NET_BIND_SERVICE if running as the root)\n" +
    "--enable-seccomp         enable seccomp to limit syscalls (experimental)\n" +
    "--outbound-addr=IPv4     sets outbound ipv4 address to bound to (experimental)\n" +
    "--outbound-addr6=IPv6    sets outbound ipv6 address to bound to (experimental)\n" +
    "--disable-dns            disables 10.0.2.3 (or configured internal ip) to host dns redirect (experimental)\n" +
    "--macaddress=MAC         specify the MAC address of the TAP (only valid with -c)\n" +
    "--target-type=TYPE       specify the target type ([netns|bess], default=netns)\n" +
    "-h, --help               show this help and exit\n" +
    "-v, --version            show version and exit\n";
}

/** The `--version` text. */
export function slirpVersion(version: string): string {
  return "slirp4netns version 1.2.0\n" +
    `commit: passt-deno ${version}\n` +
    "libslirp: none (pasta data path)\n" +
    "SLIRP_CONFIG_VERSION_MAX: 4\n";
}

/** Parses a C `strtol(s, &e, 10)` that must take the whole string; null if it doesn't. */
function wholeInt(s: string): number | null {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(s)) return null;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : null;
}

/** Parses slirp4netns's command line (`argv` without the program name). */
export function parseSlirpArgs(
  argv0: string,
  argv: readonly string[],
  version: string,
): SlirpParse {
  const warnings: string[] = [];
  const fail = (msg: string | null): SlirpParse => ({
    kind: "exit",
    stdout: slirpUsage(argv0),
    stderr: msg === null ? "" : msg + "\n",
    status: 1,
  });
  const o: SlirpOptions = {
    configure: false,
    exitFd: -1,
    readyFd: -1,
    mtu: DEFAULT_MTU,
    ipv6: false,
    apiSocket: null,
    network: 0,
    prefix: 0,
    disableHostLoopback: false,
    netnsType: "pid",
    usernsPath: null,
    disableDns: false,
    outbound4: null,
    outbound6: null,
    macaddress: null,
    target: "",
    tapname: "",
  };
  let cidr = DEFAULT_CIDR;
  let targetType = "netns";
  // glibc permutes: options may follow the operands
  const operands: string[] = [];
  let rest = argv;
  try {
    for (;;) {
      const g = new Getopt(argv0, rest, "ce:r:m:a:6hv", LONG);
      for (let it = g.next(); it !== null; it = g.next()) {
        const arg = it.arg ?? "";
        switch (it.key) {
          case "configure":
            o.configure = true;
            break;
          case "exit-fd":
          case "ready-fd": {
            const n = wholeInt(arg);
            if (n === null || n < 0) return fail(`${it.key} must be a non-negative integer`);
            if (it.key === "exit-fd") o.exitFd = n;
            else o.readyFd = n;
            break;
          }
          case "mtu": {
            const n = wholeInt(arg);
            if (n === null || n <= 0 || n > 65521) {
              return fail("MTU must be a positive integer (< 65522)");
            }
            o.mtu = n;
            break;
          }
          case "cidr":
            cidr = arg;
            break;
          case "no-host-loopback":
            warnings.push(
              "WARNING: --no-host-loopback is deprecated and will be removed in future releases, please use --disable-host-loopback instead.",
            );
            o.disableHostLoopback = true;
            break;
          case "disable-host-loopback":
            o.disableHostLoopback = true;
            break;
          case "create-sandbox":
          case "enable-sandbox":
          case "enable-seccomp":
            // pasta always runs sandboxed, with seccomp
            break;
          case "netns-type":
            if (arg !== "pid" && arg !== "path") {
              return fail(`netns-type must be either "pid" or "path"`);
            }
            o.netnsType = arg;
            break;
          case "userns-path":
            try {
              Deno.statSync(arg);
            } catch {
              return fail(`userns path doesn't exist: ${arg}`);
            }
            o.usernsPath = arg;
            break;
          case "api-socket":
            o.apiSocket = arg;
            break;
          case "enable-ipv6":
            o.ipv6 = true;
            break;
          case "help":
            return { kind: "exit", stdout: slirpUsage(argv0), stderr: "", status: 0 };
          case "version":
            return { kind: "exit", stdout: slirpVersion(version), stderr: "", status: 0 };
          case "outbound-addr":
            o.outbound4 = arg;
            break;
          case "outbound-addr6":
            o.outbound6 = arg;
            break;
          case "disable-dns":
            o.disableDns = true;
            break;
          case "macaddress":
            o.macaddress = arg;
            break;
          case "target-type":
            targetType = arg;
            break;
        }
      }
      const stop = rest[g.optind];
      if (stop === undefined) break;
      if (g.optind > 0 && rest[g.optind - 1] === "--") {
        operands.push(...rest.slice(g.optind));
        break;
      }
      operands.push(stop);
      rest = rest.slice(g.optind + 1);
    }
  } catch (e) {
    if (e instanceof GetoptError) return fail(e.message);
    throw e;
  }

  if (o.macaddress !== null && !o.configure) {
    return fail(
      "--macaddr cannot be specified when --configure or --target-type=bess is not specified",
    );
  }
  if (targetType === "bess") return fail("--target-type=bess is not supported by this slirp4netns");
  if (targetType !== "netns") return fail(`--target-type must be either "netns" or "bess"`);
  if (operands.length < 1) return fail(null);
  if (o.netnsType === "pid") {
    const pid = wholeInt(operands[0]!);
    if (pid === null || pid <= 0) return fail("PID must be a positive integer");
  } else {
    try {
      Deno.statSync(operands[0]!);
    } catch (e) {
      return fail(`existing path expected when --netns-type=path: ${(e as Error).message}`);
    }
  }
  if (operands.length < 2) return fail(null);
  if (operands.length > 2) warnings.push("WARNING: too many arguments");
  o.target = operands[0]!;
  o.tapname = operands[1]!;

  // --cidr: NETWORK/PREFIX, a network address, prefix 1 to 25
  const m = /^([0-9.]+)\/([0-9]+)$/.exec(cidr);
  if (m === null) return fail(`invalid CIDR: ${cidr}`);
  const net = parseIp4(m[1]!);
  if (net === null) return fail(`invalid network address: ${m[1]}`);
  const prefix = Number(m[2]);
  if (prefix < 1 || prefix > 25) return fail("prefix length needs to be 1-25");
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  if (((net & mask) >>> 0) !== net) {
    return fail("CIDR needs to be a network address like 10.0.2.0/24, not like 10.0.2.100/24");
  }
  o.network = net;
  o.prefix = prefix;

  if (
    o.outbound4 !== null && parseIp4(o.outbound4) === null && !/^[^/\s]{1,15}$/.test(o.outbound4)
  ) {
    return fail("outbound-addr has to be valid ipv4 address or interface name.");
  }
  if (
    o.outbound6 !== null && parseIp6(o.outbound6) === null && !/^[^/\s]{1,15}$/.test(o.outbound6)
  ) {
    return fail("outbound-addr has to be valid ipv6 address or interface name.");
  }
  if (o.macaddress !== null && parseMac(o.macaddress) === null) {
    return fail(`"${o.macaddress}" is an invalid MAC address.`);
  }
  return { kind: "run", opts: o, warnings };
}

/** Addresses of slirp4netns's network for `o`. */
export function slirpAddresses(o: SlirpOptions): { guest: number; gw: number; dns: number } {
  return { guest: (o.network + 100) >>> 0, gw: (o.network + 2) >>> 0, dns: (o.network + 3) >>> 0 };
}

/** The pasta command line that gives slirp4netns's network for `o`. */
export function pastaArgs(o: SlirpOptions): string[] {
  const a = slirpAddresses(o);
  const args = [
    "--foreground",
    "--ns-ifname",
    o.tapname,
    "--mtu",
    String(o.mtu),
    "--address",
    formatIp4(a.guest),
    "--netmask",
    String(o.prefix),
    "--gateway",
    formatIp4(a.gw),
    ...NO_FORWARDS,
    "--map-host-loopback",
    o.disableHostLoopback ? "none" : formatIp4(a.gw),
  ];
  if (!o.disableDns) args.push("--dns-forward", formatIp4(a.dns));
  if (o.ipv6) {
    args.push("--address", "fd00::100", "--gateway", "fd00::2");
    if (!o.disableDns) args.push("--dns-forward", "fd00::3");
  } else {
    args.push("--ipv4-only");
  }
  if (o.configure) args.push("--config-net");
  if (o.macaddress !== null) args.push("--ns-mac-addr", o.macaddress);
  if (o.outbound4 !== null) {
    if (parseIp4(o.outbound4) !== null) args.push("--outbound", o.outbound4);
    else args.push("--outbound-if4", o.outbound4);
  }
  if (o.outbound6 !== null) {
    if (parseIp6(o.outbound6) !== null) args.push("--outbound", o.outbound6);
    else args.push("--outbound-if6", o.outbound6);
  }
  if (o.usernsPath !== null) args.push("--userns", o.usernsPath);
  if (o.netnsType === "path") args.push("--netns", o.target);
  else args.push(o.target);
  return args;
}

/** The start-up lines slirp4netns prints on standard output. */
export function slirpBanner(o: SlirpOptions): string {
  const a = slirpAddresses(o);
  const mask = (0xffffffff << (32 - o.prefix)) >>> 0;
  let s = "Starting slirp\n" +
    `* MTU:             ${o.mtu}\n` +
    `* Network:         ${formatIp4(o.network)}\n` +
    `* Netmask:         ${formatIp4(mask)}\n` +
    `* Gateway:         ${formatIp4(a.gw)}\n` +
    `* DNS:             ${formatIp4(a.dns)}\n` +
    `* Recommended IP:  ${formatIp4(a.guest)}\n`;
  if (o.apiSocket !== null) s += `* API Socket:      ${o.apiSocket}\n`;
  if (!o.disableHostLoopback) {
    s += `WARNING: 127.0.0.1:* on the host is accessible as ${
      formatIp4(a.gw)
    } (set --disable-host-loopback to prohibit connecting to 127.0.0.1:*)\n`;
  }
  return s;
}

/**
 * Adds slirp4netns's own parts to a set-up pasta: the API socket, the exit
 * descriptor; then reports readiness on the ready descriptor. Returns a
 * function that removes the API socket file (for exit).
 */
export function attachSlirp(loop: Loop, fwd: Forwarder, o: SlirpOptions): () => void {
  let cleanup = (): void => {};
  if (o.apiSocket !== null) {
    const path = o.apiSocket;
    new SlirpApi(loop, bindApi(path), fwd, slirpAddresses(o).guest);
    cleanup = () => {
      try {
        Deno.removeSync(path);
      } catch {
        // gone already
      }
    };
  }
  if (o.exitFd >= 0) {
    loop.on(EpollType.EXIT_FD, () => {
      info("exitfd event");
      loop.stop(0);
    });
    if (loop.add(o.exitFd, EpollType.EXIT_FD, 0, EPOLLRDHUP) < 0) {
      throw new Error(`Cannot watch exit-fd ${o.exitFd}`);
    }
  }
  if (o.readyFd >= 0) {
    const ffi = lib();
    const one = new Uint8Array([0x31]);
    let rc: number;
    do rc = ffi.pf_write(o.readyFd, one, 0, 1); while (rc === -4);
    ffi.pf_close(o.readyFd);
    if (rc !== 1) throw new Error(`Cannot write to ready-fd ${o.readyFd}`);
  }
  return cleanup;
}
