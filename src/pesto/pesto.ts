// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `pesto.ts` - the pesto client: show and change forwarding rules of a running passt or pasta
 *
 * Theory of operation, as upstream's pesto: options are read twice. The
 * first pass only notes whether anything changes (`-A`, `-D`, `-C`, `-t`,
 * `-u`, `-T`, `-U`), `-s`, `-d`, `--help`, `--version`, and finds the one
 * operand, the control socket's path (options and the operand may be mixed,
 * as glibc's getopt permutes them). Then we connect, read the server's hello
 * and tables, and either print them or replay the options in order over a
 * copy of the tables: `-t`/`-u` act on the HOST table, `-T`/`-U` on SPLICE,
 * without `-A` or `-D` the first such option clears the table it acts on
 * (replace), `-C PIF` clears one. Any error leaves before anything is sent,
 * so the server keeps its rules. Finally the new tables go to the server and
 * we shut the socket down.
 *
 * I/O is blocking and goes through the native library (this is a short-lived
 * client, not the data path). Output matches upstream's byte for byte.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { ENODATA, strerror } from "../../ffi/errno.ts";
import { AF_UNIX, SHUT_RDWR, SOCK_CLOEXEC, SOCK_STREAM } from "../../ffi/sys.ts";
import { Getopt, GetoptError, type LongOption } from "../conf/getopt.ts";
import { version } from "../conf/usage.ts";
import { readSysFileOr } from "../sysfile.ts";
import { RuleError, ruleFormat, ruleParse, type RuleTable, setEphemeral } from "./fwd_rule.ts";
import { encodeUpdate, type PifTable, StateParser, WireError } from "./wire.ts";

const LONG: readonly LongOption[] = [
  { name: "debug", short: "d", arg: "none" },
  { name: "help", short: "h", arg: "none" },
  { name: "version", arg: "none" },
  { name: "add", short: "A", arg: "none" },
  { name: "delete", short: "D", arg: "none" },
  { name: "clear", short: "C", arg: "required" },
  { name: "tcp-ports", short: "t", arg: "required" },
  { name: "udp-ports", short: "u", arg: "required" },
  { name: "tcp-ns", short: "T", arg: "required" },
  { name: "udp-ns", short: "U", arg: "required" },
  { name: "show", short: "s", arg: "none" },
];
const SHORT = "dhADC:t:u:T:U:s";

/** Short letter of an option as Getopt reports it. */
function letter(key: string): string {
  const o = LONG.find((l) => l.name === key);
  return o?.short ?? key;
}

/** The `--help` text, for program name `name`. */
export function pestoUsage(name: string): string {
  return `Usage: ${name} [OPTION]... PATH\n` +
    "\n" +
    "  -A, --add\t\tAdd following specifiers to forwards\n" +
    "  -D, --delete\t\tDelete following specifiers instead\n" +
    "  -C, --clear PIF\tClear forwarding table for given PIF\n" +
    "  -t, --tcp-ports SPEC\tTCP inbound port forwarding\n" +
    "    can be specified multiple times\n" +
    "    SPEC can be:\n" +
    "      'none': don't forward any ports\n" +
    "      [ADDR[%IFACE]/]PORTS: forward specific ports\n" +
    "        PORTS is either 'all' (forward all unbound, non-ephemeral\n" +
    "        ports), or a comma-separated list of ports, optionally\n" +
    "        ranged with '-' and optional target ports after ':'.\n" +
    "        Ranges can be reduced by excluding ports or ranges\n" +
    "        prefixed by '~'.\n" +
    "        The 'auto' keyword may be given to only forward\n" +
    "        ports which are bound in the target namespace\n" +
    "        Examples:\n" +
    "        -t all         Forward all ports\n" +
    "        -t 127.0.0.1/all Forward all ports from local address\n" +
    "                         127.0.0.1\n" +
    "        -t 22\t\tForward local port 22 to 22\n" +
    "        -t 22:23\tForward local port 22 to 23\n" +
    "        -t 22,25\tForward ports 22, 25 to ports 22, 25\n" +
    "        -t 22-80  \tForward ports 22 to 80\n" +
    "        -t 22-80:32-90\tForward ports 22 to 80 to\n" +
    "\t\t\tcorresponding port numbers plus 10\n" +
    "        -t 192.0.2.1/5\tBind port 5 of 192.0.2.1\n" +
    "        -t 5-25,~10-20\tForward ports 5 to 9, and 21 to 25\n" +
    "        -t ~25\t\tForward all ports except for 25\n" +
    "        -t auto\tForward all ports bound in namespace\n" +
    "        -t 192.0.2.2/auto Forward ports from 192.0.2.2 if\n" +
    "                          they are bound in the namespace\n" +
    "        -t 8000-8010,auto Forward ports 8000-8010 if they\n" +
    "                          are bound in the namespace\n" +
    "  -u, --udp-ports SPEC\tUDP inbound port forwarding\n" +
    "    SPEC is as described for TCP above\n" +
    "  -T, --tcp-ns SPEC\tTCP port forwarding to init namespace\n" +
    "    SPEC is as described above\n" +
    "  -U, --udp-ns SPEC\tUDP port forwarding to init namespace\n" +
    "    SPEC is as described above\n" +
    "  -s, --show\t\tShow configuration before and after\n" +
    "  -d, --debug\t\tPrint debugging messages\n" +
    "  -h, --help\t\tDisplay this help message and exit\n" +
    "  --version\t\tShow version and exit\n";
}

/** One option in command-line order. */
interface Opt {
  key: string;
  arg: string | null;
}

/** Options and operands, with glibc's permutation (operands may come anywhere). */
function scan(prog: string, args: readonly string[]): { opts: Opt[]; operands: string[] } {
  const opts: Opt[] = [];
  const operands: string[] = [];
  let rest = args;
  for (;;) {
    const g = new Getopt(prog, rest, SHORT, LONG);
    for (let it = g.next(); it !== null; it = g.next()) {
      opts.push({ key: letter(it.key), arg: it.arg });
    }
    const stop = rest[g.optind];
    if (stop === undefined) break;
    if (rest[g.optind - 1] === "--" && g.optind > 0) {
      operands.push(...rest.slice(g.optind));
      break;
    }
    operands.push(stop);
    rest = rest.slice(g.optind + 1);
  }
  return { opts, operands };
}

/** Where pesto writes: stdout and stderr, collected so tests can call it in-process. */
export interface PestoIo {
  out(text: string): void;
  err(text: string): void;
}

class Die extends Error {}

/** Reads exactly `n` bytes from a blocking socket; errno (ENODATA at EOF) on failure. */
function readAll(fd: number, n: number): Uint8Array | number {
  const b = new Uint8Array(n);
  let have = 0;
  while (have < n) {
    const rc = lib().pf_read(fd, b, have, n - have);
    if (rc === -4) continue; // EINTR
    if (rc < 0) return -rc;
    if (rc === 0) return ENODATA;
    have += rc;
  }
  return b;
}

function writeAll(fd: number, b: Uint8Array): number {
  let done = 0;
  while (done < b.length) {
    const rc = lib().pf_write(fd, b, done, b.length - done);
    if (rc === -4) continue;
    if (rc < 0) return -rc;
    done += rc;
  }
  return 0;
}

function showConf(io: PestoIo, tables: readonly PifTable[]): void {
  for (const t of tables) {
    io.out(`  ${t.name}\n`);
    for (const r of t.rules) io.out(`    ${ruleFormat(r)}\n`);
  }
}

/** Runs pesto with `argv` (program name first); returns the exit status. */
export function pestoMain(argv: readonly string[], io: PestoIo): number {
  const prog = argv[0] ?? "pesto";
  let debugOn = false;
  const debug = (s: string): void => {
    if (debugOn) io.err(s + "\n");
  };
  const die = (s: string): never => {
    io.err(s + "\n");
    throw new Die();
  };
  let fd = -1;
  try {
    const range = readSysFileOr("/proc/sys/net/ipv4/ip_local_port_range");
    if (range === "") io.err("Unable to open /proc/sys/net/ipv4/ip_local_port_range\n");
    else if (!setEphemeral(range)) {
      io.err("Unable to parse /proc/sys/net/ipv4/ip_local_port_range\n");
    }

    let scanned;
    try {
      scanned = scan(prog, argv.slice(1));
    } catch (e) {
      if (!(e instanceof GetoptError)) throw e;
      io.err(e.message + "\n" + pestoUsage(prog));
      return 1;
    }
    const { opts, operands } = scanned;
    let update = false;
    let show = false;
    for (const o of opts) {
      switch (o.key) {
        case "C":
        case "t":
        case "u":
        case "T":
        case "U":
        case "A":
        case "D":
          update = true;
          break;
        case "s":
          show = true;
          break;
        case "h":
          io.out(pestoUsage(prog));
          return 0;
        case "d":
          debugOn = true;
          break;
        case "version":
          io.out(version("pesto"));
          return 0;
      }
    }
    if (operands.length !== 1) {
      io.err(pestoUsage(prog));
      return 1;
    }
    const path = operands[0]!;
    debug(`debug_flag=1, path="${path}"`);

    const ffi = lib();
    fd = ffi.pf_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die(`Failed to create AF_UNIX socket: ${strerror(-fd)}`);
    const raw = new TextEncoder().encode(path);
    if (raw.length === 0 || raw.length >= 108) die(`Invalid socket path "${path}"`);
    const sa = new Uint8Array(110);
    sa[0] = AF_UNIX;
    sa.set(raw, 2);
    const rc = ffi.pf_connect(fd, sa, sa.length);
    if (rc < 0) die(`Failed to connect to ${path}: ${strerror(-rc)}`);
    debug("Connected to passt/pasta control socket");

    const parser = new StateParser();
    let first = true;
    while (parser.want > 0) {
      const got = readAll(fd, parser.want);
      if (typeof got === "number") {
        die(
          first
            ? `Couldn't read server greeting: ${strerror(got)}`
            : "Error reading from control socket",
        );
      }
      first = false;
      try {
        parser.feed(got as Uint8Array);
      } catch (e) {
        if (e instanceof WireError) die(e.message);
        throw e;
      }
    }
    const tables = parser.tables;
    for (const t of tables) {
      debug(`Receiving config for PIF ${t.pif}`);
      debug(
        `PIF ${t.pif}: ${t.name}, ${t.rules.length} rules, capabilities 0x${t.caps.toString(16)}`,
      );
    }

    if (!update) {
      io.out(`passt/pasta configuration (${path})\n`);
      showConf(io, tables);
    } else {
      if (show) {
        io.out(`Previous configuration (${path})\n`);
        showConf(io, tables);
      }
      const inbound = tables.find((t) => t.name === "HOST");
      const outbound = tables.find((t) => t.name === "SPLICE");
      let mode: "clear" | "add" | "del" = "clear";
      let inCleared = false;
      let outCleared = false;
      for (const o of opts) {
        switch (o.key) {
          case "A":
            mode = "add";
            break;
          case "D":
            mode = "del";
            break;
          case "C": {
            const t = tables.find((x) => x.name === o.arg);
            if (t === undefined) die(`Unsupported pif name ${o.arg}`);
            t!.rules = [];
            if (o.arg === "HOST") inCleared = true;
            else if (o.arg === "SPLICE") outCleared = true;
            break;
          }
          case "t":
          case "u":
          case "T":
          case "U": {
            const isIn = o.key === "t" || o.key === "u";
            const t = isIn ? inbound : outbound;
            if (t === undefined) {
              die(`Can't use -${o.key}, no ${isIn ? "inbound" : "outbound"} interface`);
            }
            if (mode === "clear" && !(isIn ? inCleared : outCleared)) {
              t!.rules = [];
              if (isIn) inCleared = true;
              else outCleared = true;
            }
            try {
              for (const w of ruleParse(o.key, mode === "del", o.arg!, t as RuleTable)) {
                io.err(w + "\n");
              }
            } catch (e) {
              if (e instanceof RuleError) die(e.message);
              throw e;
            }
            break;
          }
        }
      }
      if (show) {
        io.out(`Updated configuration (${path})\n`);
        showConf(io, tables);
      }
      const err = writeAll(fd, encodeUpdate(tables));
      if (err) die(`Error writing to control socket: ${strerror(err)}`);
    }
    if (ffi.pf_shutdown(fd, SHUT_RDWR) < 0 || ffi.pf_close(fd) < 0) {
      fd = -1;
      die("Error shutting down control socket");
    }
    fd = -1;
    return 0;
  } catch (e) {
    if (e instanceof Die) return 1;
    throw e;
  } finally {
    if (fd >= 0) lib().pf_close(fd);
  }
}
