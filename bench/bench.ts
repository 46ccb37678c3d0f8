// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `bench.ts` - side by side: our pasta and passt, upstream 2026's, Debian's, slirp4netns, veth
 *
 * Theory of operation: every case runs against each program in turn, case by case, so that
 * the ratios (ours ÷ reference) compare programs measured seconds apart, under the same load;
 * absolute figures on a shared machine move by tens of percent between runs, ratios much less. The whole bench runs in a
 * network namespace of its own (re-executed under `unshare --net`, with an interface
 * `bench0` (one end of a veth pair) holding 192.0.2.2/24 and 2001:db8::2/64 and default routes through .1 and ::1), so
 * that ports and addresses never collide with anything else on the machine. Programs run
 * rootless as user `tester`, as containers use them:
 *
 * - throughput: iperf3, one stream, `T` seconds, MTU 65520, IPv4 and IPv6: namespace→host
 *   and host→namespace through the tap (the gateway address maps to the host's loopback; the
 *   host's own address reaches forwarded ports from a non-loopback source), both spliced
 *   directions (`-t`/`-T` on loopback), UDP 8000-byte datagrams namespace→host;
 * - latency: TCP request/response and connect/request/close per second through the tap
 *   (`peers.py`, netperf is not packaged in Debian 12);
 * - scale: time to open 6000 concurrent connections namespace→host, and the private memory
 *   (RssAnon) of every process of the program, idle and with the 6000 connections open;
 * - start-up: `pasta -f --config-net -- true` (wall time), and the daemon's time to ready
 *   (`pasta --config-net PID` returns once the namespace is configured);
 * - passt mode: a synthetic guest (`peers.py passt-peer`, no QEMU) pushes UDP frames through
 *   the AF_UNIX socket to a sink on the host's loopback: frames/s (64-byte payload) and
 *   bytes/s (65000-byte payload) that arrive.
 *
 * References: upstream 2026 (`UPSTREAM`, default `/tmp/passt-upstream/upstream/pasta`, with
 * `passt` beside it; build it from upstream's 2026_07 release with `make`), Debian's
 * `/usr/bin/pasta` and `/usr/bin/passt`, `slirp4netns --mtu=65520`, and the kernel's veth
 * pair between two namespaces (the ceiling of any forwarder). For start-up, `deno` is the runtime
 * alone: the Deno our launcher runs, starting an empty module in the same loop (the floor under
 * any start of ours, printed beside upstream's). Each case has the target of
 * the performance issue (a reference and a ratio); the table prints values, ratios and
 * targets, `bench/out/results.json` keeps everything (per run, per process for memory), and
 * `bench/out/ratios.svg` draws ours relative to each case's reference.
 *
 * Usage (root): `deno task bench [--quick] [--only REGEX] [--repeat N] [--skip PROG,...]`
 * (`--skip vhost-user` leaves out passt's vhost-user table, `--only vhost-user` runs just it);
 * `T=seconds` per throughput case (default 4, `--quick` 2 and IPv4 only); `OURS` and `UPSTREAM`
 * override the programs. With `--repeat N` the table shows medians and each ratio's range.
 *
 * @module
 */

import { vhostUserBench } from "./vhost_user.ts";

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const REPO = HERE.replace(/\/bench$/, "");
const OUT = `${HERE}/out`;
const WORK = "/tmp/passt-bench";
const PEERS = `${WORK}/peers.py`;

type Prog = "ours" | "upstream" | "debian" | "slirp" | "veth" | "deno";
const PROGS: Prog[] = ["ours", "upstream", "debian", "slirp", "veth", "deno"];

interface Opts {
  t: number;
  quick: boolean;
  only: RegExp | null;
  repeat: number;
  skip: Set<string>;
}

interface CaseDef {
  id: string;
  what: string;
  unit: string;
  /** Whether a larger value is better. */
  higher: boolean;
  /** Target: ours ÷ ref ≥ ratio (higher) or ≤ ratio (lower); ref is the reference program. */
  ref: Prog;
  target: number | null;
  progs: Prog[];
}

const PASTAS: Prog[] = ["ours", "upstream", "debian"];
const TAPREFS: Prog[] = ["ours", "upstream", "debian", "slirp", "veth"];

function caseDefs(quick: boolean): CaseDef[] {
  const fams = quick ? ["4"] : ["4", "6"];
  const d: CaseDef[] = [];
  for (const f of fams) {
    d.push(
      {
        id: `tap_ns2host_tcp${f}`,
        what: `TCP namespace→host, tap path, IPv${f}`,
        unit: "Gbit/s",
        higher: true,
        ref: "veth",
        target: 0.5,
        progs: TAPREFS,
      },
      {
        id: `tap_host2ns_tcp${f}`,
        what: `TCP host→namespace, tap path, IPv${f}`,
        unit: "Gbit/s",
        higher: true,
        ref: "debian",
        target: 1.2,
        progs: ["ours", "upstream", "debian", "veth"],
      },
      {
        id: `splice_host2ns_tcp${f}`,
        what: `TCP host→namespace, spliced (-t), IPv${f}`,
        unit: "Gbit/s",
        higher: true,
        ref: "upstream",
        target: 1.0,
        progs: PASTAS,
      },
      {
        id: `splice_ns2host_tcp${f}`,
        what: `TCP namespace→host, spliced (-T), IPv${f}`,
        unit: "Gbit/s",
        higher: true,
        ref: "upstream",
        target: 1.0,
        progs: PASTAS,
      },
      {
        id: `tap_ns2host_udp${f}`,
        what: `UDP 8000 B namespace→host, tap path, IPv${f}`,
        unit: "Gbit/s",
        higher: true,
        ref: "debian",
        target: 1.2,
        progs: TAPREFS,
      },
    );
  }
  d.push(
    {
      id: "tap_slow_rcv",
      what: "256 MiB namespace→host to a slow receiver (256 KiB per 2 ms), tap path",
      unit: "s",
      higher: false,
      ref: "upstream",
      target: 1.0,
      progs: TAPREFS,
    },
    {
      id: "tap_rr",
      what: "TCP request/response, tap path",
      unit: "trans/s",
      higher: true,
      ref: "upstream",
      target: 1.0,
      progs: TAPREFS,
    },
    {
      id: "tap_crr",
      what: "TCP connect/request/close, tap path",
      unit: "conn/s",
      higher: true,
      ref: "upstream",
      target: 1.0,
      progs: TAPREFS,
    },
    {
      id: "conn6000",
      what: "6000 concurrent connections opened, tap path",
      unit: "s",
      higher: false,
      ref: "upstream",
      target: 1.25,
      progs: PASTAS,
    },
    {
      id: "mem_idle",
      what: "private memory (RssAnon, all processes), idle",
      unit: "MB",
      higher: false,
      ref: "upstream",
      target: 2.5,
      progs: PASTAS,
    },
    {
      id: "mem_6000",
      what: "private memory with 6000 connections",
      unit: "MB",
      higher: false,
      ref: "upstream",
      target: 2.5,
      progs: PASTAS,
    },
    {
      id: "startup",
      what: "pasta -f --config-net -- true (median)",
      unit: "s",
      higher: false,
      ref: "upstream",
      target: 1.5,
      progs: [...PASTAS, "deno"],
    },
    {
      id: "daemon_ready",
      what: "pasta --config-net PID until ready (median)",
      unit: "s",
      higher: false,
      ref: "upstream",
      target: 1.5,
      progs: [...PASTAS, "deno"],
    },
    {
      id: "passt_fps",
      what: "passt: 64 B UDP frames/s from a synthetic guest",
      unit: "kframe/s",
      higher: true,
      ref: "upstream",
      target: null,
      progs: PASTAS,
    },
    {
      id: "passt_bps",
      what: "passt: 65000 B UDP frames, bytes/s",
      unit: "Gbit/s",
      higher: true,
      ref: "upstream",
      target: null,
      progs: PASTAS,
    },
  );
  return d;
}

// ---- processes ---------------------------------------------------------------------------------

const dec = new TextDecoder();

/** Runs a bash script as root (in the bench namespace), killed after `timeoutS`; returns stdout. */
function sh(script: string, timeoutS = 60): string {
  const r = new Deno.Command("timeout", {
    args: ["-s", "KILL", String(timeoutS), "bash", "-c", script],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return dec.decode(r.stdout);
}

/** The same as user tester. */
function shT(script: string, timeoutS = 60): string {
  return sh(`su tester -s /bin/bash -c ${quote(`cd ${WORK}; ${script}`)}`, timeoutS);
}

/**
 * Starts a bash script in the background (as tester if `tester`); returns the child. Its output
 * is piped only if `piped` (a daemon that leaves the tree could hold the pipe open for ever).
 */
function bg(script: string, tester: boolean, timeoutS = 60, piped = false): Deno.ChildProcess {
  const s = tester ? `su tester -s /bin/bash -c ${quote(`cd ${WORK}; ${script}`)}` : script;
  return new Deno.Command("timeout", {
    args: ["-s", "KILL", String(timeoutS), "bash", "-c", s],
    stdout: piped ? "piped" : "null",
    stderr: "null",
  }).spawn();
}

/** Stops a background child and everything it started. */
async function stop(c: Deno.ChildProcess): Promise<void> {
  for (const p of descendants(c.pid).reverse()) {
    try {
      Deno.kill(p, "SIGKILL");
    } catch { /* gone already */ }
  }
  await c.status;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `pid` and all its descendants, parents first. */
function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const st = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const pp = Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
      if (!kids.has(pp)) kids.set(pp, []);
      kids.get(pp)!.push(Number(e.name));
    } catch { /* exited */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    for (const k of kids.get(p) ?? []) walk(k);
  };
  walk(pid);
  return out;
}

function ppid(pid: number): number {
  const st = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
}

function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

function comm(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "?";
  }
}

/** RssAnon of `pid` in kB (0 if gone). */
function rssAnon(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The program's processes around the command `cmdPid`: from the child of `timeout` down. */
function programProcs(cmdPid: number): number[] {
  let p = cmdPid;
  for (let k = 0; k < 20; k++) {
    const pp = ppid(p);
    if (comm(pp) === "timeout" || pp <= 1) break;
    p = pp;
  }
  const skip = new Set(descendants(cmdPid));
  return descendants(p).filter((q) => !skip.has(q));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFile(path: string, timeoutMs: number): Promise<string | null> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    try {
      return Deno.readTextFileSync(path);
    } catch { /* not yet */ }
    await sleep(50);
  }
  return null;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number(s.trim());
  return s.trim() !== "" && Number.isFinite(n) ? n : null;
}

const GBPS = `python3 -c 'import json,sys
d=json.load(sys.stdin); e=d["end"]; s=e.get("sum_received") or e.get("sum")
print(round(s["bits_per_second"]/1e9,3))' 2>/dev/null`;

// ---- the programs ------------------------------------------------------------------------------

interface Env {
  ours: string;
  oursPasst: string;
  upstream: string;
  upstreamPasst: string;
  /** Address of the host as the namespace sees it (tap path to the host's loopback). */
  gw: Record<string, string>;
  /** The host's own address (reaches forwarded ports from a non-loopback source). */
  self: Record<string, string>;
}

/** Shell command that runs program `p` (a pasta) with `args`. */
function pastaCmd(env: Env, p: Prog): string {
  return p === "ours" ? env.ours : p === "upstream" ? env.upstream : "/usr/bin/pasta";
}

const LO: Record<string, string> = { "4": "127.0.0.1", "6": "::1" };

/** The slow receiver: 256 MiB read 256 KiB at a time, 2 ms apart (at most 128 MiB/s). */
const SLOW_BYTES = 256 << 20;
const SLOW_CHUNK = 256 << 10;
const SLOW_PAUSE_MS = 2;

/** Throughput and latency of one pasta-like program (ours, upstream, Debian's). */
async function pastaCases(
  env: Env,
  p: Prog,
  ids: Set<string>,
  o: Opts,
): Promise<Record<string, number | null>> {
  const P = pastaCmd(env, p);
  const T = o.t;
  const r: Record<string, number | null> = {};
  const run = (args: string, cmd: string): string =>
    shT(`timeout -s KILL ${T + 20} ${P} -q -f --config-net ${args} -- sh -c ${quote(cmd)}`, T + 30);
  for (const f of ["4", "6"]) {
    if (ids.has(`tap_ns2host_tcp${f}`)) {
      r[`tap_ns2host_tcp${f}`] = num(
        run("", `iperf3 -J -c ${env.gw[f]} -p 5201 -t ${T} | ${GBPS}`),
      );
    }
    for (
      const [id, dst] of [[`tap_host2ns_tcp${f}`, env.self[f]], [`splice_host2ns_tcp${f}`, LO[f]]]
    ) {
      if (!ids.has(id!)) continue;
      r[id!] = await inbound(P, dst!, T);
    }
    if (ids.has(`splice_ns2host_tcp${f}`)) {
      r[`splice_ns2host_tcp${f}`] = num(
        run("-T 5201", `iperf3 -J -c ${LO[f]} -p 5201 -t ${T} | ${GBPS}`),
      );
    }
    if (ids.has(`tap_ns2host_udp${f}`)) {
      await sleep(500); // the iperf3 server answers "busy" right after a test
      r[`tap_ns2host_udp${f}`] = num(
        run("", `iperf3 -J -u -b 0 -l 8000 -c ${env.gw[f]} -p 5201 -t ${T} | ${GBPS}`),
      );
    }
  }
  if (ids.has("tap_slow_rcv")) {
    r.tap_slow_rcv = num(
      shT(
        `timeout -s KILL 120 ${P} -q -f --config-net -- python3 ${PEERS} send ${
          env.gw["4"]
        } 5601 ${SLOW_BYTES}`,
        130,
      ),
    );
  }
  if (ids.has("tap_rr") || ids.has("tap_crr")) {
    const v = run("", `python3 ${PEERS} rr-client ${env.gw["4"]} 5301 ${T / 2}`).trim().split(
      /\s+/,
    );
    r.tap_rr = num(v[0]);
    r.tap_crr = num(v[1]);
  }
  return r;
}

/**
 * host→namespace: an iperf3 server in the namespace behind `-t 5202`, a client on the host, once
 * the server listens and the namespace's addresses are past duplicate address detection (pasta
 * may reach the namespace from a link-local address).
 */
async function inbound(P: string, dst: string, T: number): Promise<number | null> {
  const ready = `${WORK}/ready`;
  try {
    Deno.removeSync(ready);
  } catch { /* none */ }
  const srv = bg(
    `timeout -s KILL ${T + 25} ${P} -q -f --config-net -t 5202 -- sh -c ${
      quote(
        `iperf3 -s -1 -p 5202 >/dev/null 2>&1 & while ! ss -Hltn 'sport = :5202' | grep -q . || ip -6 addr | grep -q tentative; do sleep 0.05; done; touch ${ready}; wait`,
      )
    }`,
    true,
    T + 30,
  );
  let v: number | null = null;
  if ((await waitFile(ready, 15000)) !== null) {
    await sleep(100);
    v = num(sh(`iperf3 -J -c ${dst} -p 5202 -t ${T} | ${GBPS}`, T + 20));
  }
  await Promise.race([srv.status, sleep(3000)]);
  await stop(srv);
  return v;
}

/**
 * Starts a process that holds new namespaces (`unshare` with `flags`, as tester if `tester`);
 * returns it and its PID, or null if it didn't report one.
 */
async function holdNs(
  name: string,
  flags: string,
  tester: boolean,
): Promise<{ ns: Deno.ChildProcess; pid: number } | null> {
  const pidf = `${WORK}/${name}_ns.pid`;
  try {
    Deno.removeSync(pidf);
  } catch { /* none */ }
  const ns = bg(`unshare ${flags} sh -c 'echo $$ > ${pidf}; exec sleep 600'`, tester, 600);
  const pid = num((await waitFile(pidf, 5000)) ?? undefined);
  return pid === null ? null : { ns, pid };
}

/**
 * The namespace→host cases from inside a namespace (`IN` enters it, `run` runs the command):
 * TCP and UDP towards `host` per family, then (IPv4) the slow receiver and request-response
 * latencies.
 */
async function nsToHostCases(
  ids: Set<string>,
  r: Record<string, number | null>,
  IN: string,
  host: Record<string, string>,
  T: number,
  run: (script: string, timeoutS?: number) => string,
): Promise<void> {
  for (const f of ["4", "6"]) {
    if (ids.has(`tap_ns2host_tcp${f}`)) {
      r[`tap_ns2host_tcp${f}`] = num(
        run(`${IN} iperf3 -J -c ${host[f]} -p 5201 -t ${T} | ${GBPS}`),
      );
    }
    if (ids.has(`tap_ns2host_udp${f}`)) {
      await sleep(500);
      r[`tap_ns2host_udp${f}`] = num(
        run(`${IN} iperf3 -J -u -b 0 -l 8000 -c ${host[f]} -p 5201 -t ${T} | ${GBPS}`),
      );
    }
  }
  if (ids.has("tap_slow_rcv")) {
    r.tap_slow_rcv = num(run(`${IN} python3 ${PEERS} send ${host["4"]} 5601 ${SLOW_BYTES}`, 120));
  }
  if (ids.has("tap_rr") || ids.has("tap_crr")) {
    const v = run(`${IN} python3 ${PEERS} rr-client ${host["4"]} 5301 ${T / 2}`).trim().split(
      /\s+/,
    );
    r.tap_rr = num(v[0]);
    r.tap_crr = num(v[1]);
  }
}

/** slirp4netns: the namespace→host cases and latency. */
async function slirpCases(ids: Set<string>, o: Opts): Promise<Record<string, number | null>> {
  const r: Record<string, number | null> = {};
  const held = await holdNs("slirp", "-rn", true);
  if (held === null) return r;
  const { ns, pid } = held;
  const sl = bg(
    `exec slirp4netns --configure --mtu=65520 --enable-ipv6 --ready-fd=3 ${pid} tap0 3>${WORK}/slirp_ready`,
    true,
    600,
  );
  for (let k = 0; k < 50; k++) {
    try {
      if (Deno.statSync(`${WORK}/slirp_ready`).size > 0) break;
    } catch { /* not yet */ }
    await sleep(100);
  }
  await sleep(1500); // IPv6 duplicate address detection in the namespace
  const IN = `nsenter -t ${pid} -U -n --preserve-credentials`;
  const host = { "4": "10.0.2.2", "6": "fd00::2" };
  await nsToHostCases(ids, r, IN, host, o.t, shT);
  await stop(sl);
  await stop(ns);
  return r;
}

/** The kernel's veth pair between the bench namespace and a child namespace. */
async function vethCases(ids: Set<string>, o: Opts): Promise<Record<string, number | null>> {
  const r: Record<string, number | null> = {};
  const T = o.t;
  const held = await holdNs("veth", "-n", false);
  if (held === null) return r;
  const { ns, pid } = held;
  sh(`ip link add vA mtu 65520 type veth peer name vB mtu 65520 netns ${pid}
ip addr add 10.199.0.1/24 dev vA; ip -6 addr add fd99::1/64 dev vA nodad; ip link set vA up
nsenter -t ${pid} -n sh -c 'ip link set lo up; ip addr add 10.199.0.2/24 dev vB; ip -6 addr add fd99::2/64 dev vB nodad; ip link set vB up'`);
  const IN = `nsenter -t ${pid} -n`;
  const peer: Record<string, string> = { "4": "10.199.0.2", "6": "fd99::2" };
  for (const f of ["4", "6"]) {
    if (ids.has(`tap_host2ns_tcp${f}`)) {
      const s = bg(`${IN} iperf3 -s -1 -p 5202`, false, T + 20);
      await sleep(300);
      r[`tap_host2ns_tcp${f}`] = num(sh(`iperf3 -J -c ${peer[f]} -p 5202 -t ${T} | ${GBPS}`));
      await stop(s);
    }
  }
  const host = { "4": "10.199.0.1", "6": "fd99::1" };
  await nsToHostCases(ids, r, IN, host, T, sh);
  sh("ip link del vA");
  await stop(ns);
  return r;
}

/** 6000 connections: time to open them, RssAnon of the program's processes idle and with them. */
async function connCases(
  env: Env,
  p: Prog,
  mem: Record<string, unknown>,
): Promise<Record<string, number | null>> {
  const r: Record<string, number | null> = { conn6000: null, mem_idle: null, mem_6000: null };
  const dir = `${WORK}/conn`;
  sh(`rm -rf ${dir}; mkdir -m 777 ${dir}`);
  const c = bg(
    `timeout -s KILL 90 ${pastaCmd(env, p)} -q -f --config-net -- python3 ${PEERS} conn-client ${
      env.gw["4"]
    } 5401 6000 ${dir}`,
    true,
    100,
  );
  const measure = (cmdPid: number): { total: number; procs: [number, string, number][] } => {
    const procs = programProcs(cmdPid).map((q): [number, string, number] => [
      q,
      comm(q),
      Math.round(rssAnon(q) / 102.4) / 10,
    ]);
    return { total: Math.round(procs.reduce((a, x) => a + x[2], 0) * 10) / 10, procs };
  };
  const idle = await waitFile(`${dir}/idle`, 20000);
  // The command's PID as the bench sees it (pasta may start it in a PID namespace of its own).
  const cmdPid = descendants(c.pid).find((q) =>
    comm(q).startsWith("python") && cmdline(q).includes("conn-client")
  );
  if (idle !== null && cmdPid !== undefined) {
    await sleep(1000);
    const m0 = measure(cmdPid);
    r.mem_idle = m0.total;
    Deno.writeTextFileSync(`${dir}/go`, "");
    const opened = await waitFile(`${dir}/opened`, 80000);
    r.conn6000 = num(opened ?? undefined);
    await sleep(500);
    const m1 = measure(cmdPid);
    if (r.conn6000 !== null) r.mem_6000 = m1.total;
    mem[p] = { idle: m0.procs, conn6000: m1.procs, note: opened };
    Deno.writeTextFileSync(`${dir}/done`, "");
  }
  await Promise.race([c.status, sleep(5000)]);
  await stop(c);
  return r;
}

/** Start-up to a configured namespace, and the daemon's time to ready (medians of `n`). */
function startCases(env: Env, p: Prog, n: number): Record<string, number | null> {
  // The runtime alone: an empty module, started the way the launcher starts Deno (its
  // PASST_DENO, else the one on the PATH), without a configuration file to look for
  const floor = p === "deno";
  if (floor) Deno.writeTextFileSync(`${WORK}/empty.js`, "");
  const P = floor
    ? `\${PASST_DENO:-deno} run --quiet --no-prompt --no-config ${WORK}/empty.js`
    : pastaCmd(env, p);
  const fgArgs = floor ? "" : "-q -f --config-net -- true";
  const dmArgs = floor ? "" : `-q --config-net -P ${WORK}/d.pid $ns`;
  const fg = shT(
    `for k in $(seq ${n}); do s=$(date +%s%N); ${P} ${fgArgs}; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done`,
    20 * n,
  ).trim().split("\n").map(Number).filter((x) => x > 0);
  const dm = shT(
    `for k in $(seq ${n}); do unshare -rn sleep 60 & ns=$!; sleep 0.2; rm -f d.pid
s=$(date +%s%N); ${P} ${dmArgs}; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
kill $(cat ${WORK}/d.pid 2>/dev/null) $ns; wait $ns 2>/dev/null; done`,
    20 * n,
  ).trim().split("\n").map(Number).filter((x) => x > 0);
  return {
    startup: fg.length ? Math.round(median(fg) / 1000) / 1000 : null,
    daemon_ready: dm.length ? Math.round(median(dm) / 1000) / 1000 : null,
  };
}

/** passt mode with a synthetic guest: frames/s and bytes/s that reach a UDP sink on the host. */
async function passtCases(env: Env, p: Prog, T: number): Promise<Record<string, number | null>> {
  const bin = p === "ours"
    ? env.oursPasst
    : p === "upstream"
    ? env.upstreamPasst
    : "/usr/bin/passt";
  const r: Record<string, number | null> = {};
  for (const [id, size] of [["passt_fps", 64], ["passt_bps", 65000]] as const) {
    const sock = `${WORK}/passt_${p}.sock`;
    sh(`rm -f ${sock}`);
    // Its own PID file, and no pipe of ours: our passt may run as a sandboxed copy of
    // itself that is no descendant of the command we started.
    const pidf = `${WORK}/passt_${p}.pid`;
    sh(`rm -f ${pidf}`);
    const d = bg(`exec ${bin} -q -f -s ${sock} -P ${pidf} >/dev/null 2>&1`, true, T + 30);
    for (let k = 0; k < 100; k++) {
      try {
        Deno.statSync(sock);
        break;
      } catch { /* not yet */ }
      await sleep(50);
    }
    const sink = bg(`exec python3 ${PEERS} udp-sink 5501 ${T}`, false, T + 40, true);
    for (let k = 0; k < 100 && !sh("ss -Hlun 'sport = :5501'").trim(); k++) await sleep(50);
    shT(
      `python3 ${PEERS} passt-peer ${sock} ${size} ${T} ${env.self["4"]} ${env.gw["4"]} 5501`,
      T + 20,
    );
    const out = dec.decode((await sink.output()).stdout).trim().split(/\s+/);
    const pid = num((await waitFile(pidf, 100)) ?? undefined);
    if (pid !== null && pid > 1) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await stop(d);
    const count = num(out[0]), bytes = num(out[1]), secs = num(out[2]);
    if (count === null || bytes === null || !secs || count < 2) r[id] = null;
    else if (id === "passt_fps") r[id] = Math.round(count / secs / 100) / 10;
    else r[id] = Math.round((bytes * 8) / secs / 1e6) / 1000;
  }
  return r;
}

// ---- the run -----------------------------------------------------------------------------------

/** One run of every selected case against every program; returns values[case][prog]. */
async function runOnce(
  env: Env,
  defs: CaseDef[],
  o: Opts,
  mem: Record<string, unknown>,
): Promise<Record<string, Partial<Record<Prog, number | null>>>> {
  const v: Record<string, Partial<Record<Prog, number | null>>> = {};
  for (const d of defs) v[d.id] = {};
  const want = (p: Prog): Set<string> =>
    new Set(defs.filter((d) => d.progs.includes(p)).map((d) => d.id));
  const put = (p: Prog, r: Record<string, number | null>): void => {
    for (const [k, x] of Object.entries(r)) if (v[k]) v[k]![p] = x;
  };
  const active = PROGS.filter((p) => !o.skip.has(p) && want(p).size > 0);
  const iperf = bg("exec iperf3 -s -p 5201", false, 3600);
  const rrs = bg(`exec python3 ${PEERS} rr-server 5301`, false, 3600);
  const cs = bg(`exec python3 ${PEERS} conn-server 5401`, false, 3600);
  const slow = bg(
    `exec python3 ${PEERS} slow-sink 5601 ${SLOW_CHUNK} ${SLOW_PAUSE_MS}`,
    false,
    3600,
  );
  for (let k = 0; k < 200; k++) {
    const l = sh("ss -Hltn");
    if ([5201, 5301, 5302, 5401, 5601].every((p) => l.includes(`:${p} `))) break;
    await sleep(50);
  }
  // Case by case, each program in turn: the programs of one case run seconds apart, so a
  // change of the machine's load between cases doesn't become a difference between programs.
  const groups: string[][] = [];
  for (const d of defs) {
    const g = /^(tap_c?rr)$/.test(d.id)
      ? "rr"
      : /^(conn6000|mem_)/.test(d.id)
      ? "conn"
      : /^(startup|daemon_ready)$/.test(d.id)
      ? "start"
      : /^passt_/.test(d.id)
      ? "passt"
      : d.id;
    const last = groups.find((x) => x[0] === g);
    if (last) last.push(d.id);
    else groups.push([g, d.id]);
  }
  try {
    for (const [g, ...gids] of groups) {
      const t0 = performance.now();
      for (const p of active) {
        const ids = new Set(gids.filter((id) => want(p).has(id)));
        if (!ids.size) continue;
        if (p === "slirp") put(p, await slirpCases(ids, o));
        else if (p === "veth") put(p, await vethCases(ids, o));
        else if (g === "conn") put(p, await connCases(env, p, mem));
        else if (g === "start") put(p, startCases(env, p, o.quick ? 3 : 5));
        else if (g === "passt") put(p, await passtCases(env, p, o.t));
        else put(p, await pastaCases(env, p, ids, o));
      }
      const got = gids.map((id) => {
        const progs = defs.find((d) => d.id === id)!.progs;
        return `${id}: ${
          active.filter((p) => progs.includes(p)).map((p) => `${p}=${v[id]![p] ?? "-"}`).join(" ")
        }`;
      }).join("; ");
      console.error(`  ${((performance.now() - t0) / 1000).toFixed(0)} s ${got}`);
    }
  } finally {
    await stop(iperf);
    await stop(rrs);
    await stop(cs);
    await stop(slow);
  }
  return v;
}

function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  return typeof a !== "number" || typeof b !== "number" || b === 0 || a === 0 ? null : a / b;
}

function fmtNum(x: number | null | undefined): string {
  if (typeof x !== "number") return "-";
  if (x >= 1000) return String(Math.round(x));
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A case's line of the table: its definition (but the programs), values and ratios. */
interface Row extends Omit<CaseDef, "progs"> {
  values: Partial<Record<Prog, number | null>>;
  /** ours ÷ ref per run. */
  ratios: (number | null)[];
  ratio: number | null;
  met: boolean | null;
}

function summarize(
  defs: CaseDef[],
  runs: Record<string, Partial<Record<Prog, number | null>>>[],
): Row[] {
  return defs.map((d) => {
    const values: Partial<Record<Prog, number | null>> = {};
    for (const p of d.progs) {
      const xs = runs.map((r) => r[d.id]?.[p]).filter((x): x is number => typeof x === "number");
      values[p] = xs.length ? median(xs) : null;
    }
    const ratios = runs.map((r) => ratioOf(r[d.id]?.ours, r[d.id]?.[d.ref]));
    const rs = ratios.filter((x): x is number => x !== null);
    const ratio = rs.length ? median(rs) : null;
    const met = ratio === null || d.target === null
      ? null
      : d.higher
      ? ratio >= d.target
      : ratio <= d.target;
    return {
      id: d.id,
      what: d.what,
      unit: d.unit,
      higher: d.higher,
      ref: d.ref,
      target: d.target,
      values,
      ratios,
      ratio,
      met,
    };
  });
}

function printTable(rows: Row[], active: Prog[]): void {
  const head = ["case", ...active, "unit", "ours÷ref", "range", "target", ""];
  const w = [22, ...active.map(() => 9), 9, 16, 12, 15, 4];
  const line = (c: string[]): string => c.map((s, i) => s.padEnd(w[i]!)).join(" ").trimEnd();
  console.log(line(head));
  for (const r of rows) {
    const rs = r.ratios.filter((x): x is number => x !== null);
    const range = rs.length > 1
      ? `${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}`
      : "";
    console.log(line([
      r.id,
      ...active.map((p) => (p in r.values ? fmtNum(r.values[p]) : "")),
      r.unit,
      r.ratio === null ? "-" : `${r.ratio.toFixed(2)}× ${r.ref}`,
      range,
      r.target === null ? "(reported)" : `${r.higher ? "≥" : "≤"} ${r.target}× ${r.ref}`,
      r.met === null ? "" : r.met ? "ok" : "MISS",
    ]));
  }
}

/** Bar chart of ours relative to each case's reference, oriented so that right is better. */
function svg(rows: Row[], meta: string): string {
  const shown = rows.filter((r) => r.ratio !== null);
  const left = 330, width = 520, top = 64, rowH = 24;
  const h = top + shown.length * rowH + 56;
  const lo = Math.log2(1 / 16), hi = Math.log2(4);
  const x = (v: number): number => {
    const l = Math.min(hi, Math.max(lo, Math.log2(v)));
    return left + ((l - lo) / (hi - lo)) * width;
  };
  const esc = (s: string): string =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      left + width + 200
    }" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">passt-deno relative to the reference of each case (right of 1× is better)</text>`,
    `<text x="10" y="38" fill="#555">${esc(meta)}</text>`,
    `<text x="10" y="54" fill="#555">bar: ours ÷ reference (inverted for times and memory, so that longer is better); tick: the target</text>`,
  );
  for (const t of [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4]) {
    const xx = x(t);
    o.push(
      `<line x1="${xx}" y1="${top - 4}" x2="${xx}" y2="${h - 40}" stroke="${
        t === 1 ? "#333" : "#ddd"
      }"/>`,
      `<text x="${xx}" y="${h - 26}" text-anchor="middle" fill="#555">${
        t >= 1 ? t : "1/" + 1 / t
      }×</text>`,
    );
  }
  shown.forEach((r, k) => {
    const y = top + k * rowH;
    const score = r.higher ? r.ratio! : 1 / r.ratio!;
    const tgt = r.target === null ? null : r.higher ? r.target : 1 / r.target;
    const color = r.met === null ? "#7a8fa6" : r.met ? "#3a9a4a" : "#d0763a";
    const x0 = x(1), x1 = x(score);
    o.push(
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${
        esc(r.id)
      } <tspan fill="#777">vs ${r.ref}</tspan></text>`,
      `<rect x="${Math.min(x0, x1)}" y="${y + 4}" width="${
        Math.max(1, Math.abs(x1 - x0))
      }" height="${rowH - 8}" fill="${color}"/>`,
      `<text x="${left + width + 8}" y="${y + 15}">${r.ratio!.toFixed(2)}×${
        r.target === null ? "" : ` (target ${r.higher ? "≥" : "≤"}${r.target})`
      }</text>`,
    );
    if (tgt !== null) {
      const tx = x(tgt);
      o.push(
        `<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${
          y + rowH - 1
        }" stroke="black" stroke-width="2"/>`,
      );
    }
  });
  o.push(
    `<text x="10" y="${
      h - 8
    }" fill="#555">green: target met, orange: not met, grey: no target (reported only)</text>`,
    `</svg>`,
  );
  return o.join("\n") + "\n";
}

function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  const ncpu = navigator.hardwareConcurrency;
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1] ?? 0);
  const kern = Deno.osRelease();
  const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  return `${cpu}, ${ncpu} CPUs, ${Math.round(memKb / 1048576)} GB, Linux ${kern}, load ${load}`;
}

function parseOpts(): Opts {
  const a = Deno.args;
  const o: Opts = { t: 4, quick: false, only: null, repeat: 1, skip: new Set() };
  for (let k = 0; k < a.length; k++) {
    const s = a[k]!;
    const val = (): string => {
      const eq = s.indexOf("=");
      if (eq > 0) return s.slice(eq + 1);
      const n = a[++k];
      if (n === undefined) usage(`option '${s}' requires an argument`);
      return n;
    };
    if (s === "--quick") o.quick = true;
    else if (s.startsWith("--only")) o.only = new RegExp(val());
    else if (s.startsWith("--repeat")) o.repeat = Math.max(1, Number(val()) | 0);
    else if (s.startsWith("--skip")) o.skip = new Set(val().split(","));
    else if (s === "-h" || s === "--help") {
      console.log("Usage: deno task bench [--quick] [--only REGEX] [--repeat N] [--skip PROG,...]");
      console.log(`Programs: ${PROGS.join(", ")}. Environment: T, OURS, UPSTREAM.`);
      Deno.exit(0);
    } else usage(`unrecognized option '${s}'`);
  }
  const t = Deno.env.get("T");
  o.t = t ? Number(t) : o.quick ? 2 : 4;
  return o;
}

function usage(msg: string): never {
  console.error(`bench: ${msg}`);
  Deno.exit(1);
}

/** Prepares the bench namespace, user tester and tools; returns the environment. */
function setup(): Env {
  const up = Deno.env.get("UPSTREAM") ?? "/tmp/passt-upstream/upstream/pasta";
  sh(`ip link set lo up
ip link add bench0 mtu 65520 type veth peer name bench1 mtu 65520
ip link set bench1 up; ip link set bench0 up
ip addr add 192.0.2.2/24 dev bench0; ip route add default via 192.0.2.1
ip -6 addr add 2001:db8::2/64 dev bench0 nodad; ip -6 route add default via 2001:db8::1
chmod 666 /dev/net/tun; id tester >/dev/null 2>&1 || useradd -m -s /bin/sh tester`);
  Deno.mkdirSync(WORK, { recursive: true });
  Deno.chmodSync(WORK, 0o777);
  Deno.copyFileSync(`${HERE}/peers.py`, PEERS);
  Deno.chmodSync(PEERS, 0o644);
  return {
    ours: Deno.env.get("OURS") ?? `${REPO}/pasta`,
    oursPasst: (Deno.env.get("OURS") ?? `${REPO}/pasta`).replace(/pasta$/, "passt"),
    upstream: up,
    upstreamPasst: up.replace(/pasta$/, "passt"),
    gw: { "4": "192.0.2.1", "6": "2001:db8::1" },
    self: { "4": "192.0.2.2", "6": "2001:db8::2" },
  };
}

function have(cmd: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).outputSync()
    .success;
}

function ensureTools(o: Opts): void {
  const need: [string, string][] = [["iperf3", "iperf3"], ["python3", "python3"], [
    "ss",
    "iproute2",
  ]];
  if (!o.skip.has("debian")) need.push(["/usr/bin/pasta", "passt"]);
  if (!o.skip.has("slirp")) need.push(["slirp4netns", "slirp4netns"]);
  need.push(["rsvg-convert", "librsvg2-bin"]);
  const missing = need.filter(([c]) => !have(c)).map(([, p]) => p);
  if (missing.length) {
    console.error(`bench: installing ${missing.join(" ")}`);
    sh(
      `apt-get install -y -qq ${
        missing.join(" ")
      } >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq ${missing.join(" ")})`,
      900,
    );
  }
}

async function main(): Promise<void> {
  const o = parseOpts();
  if (Deno.uid() !== 0) usage("run as root (it runs the programs as the user tester)");
  if (!Deno.env.get("PASST_BENCH_NETNS")) {
    ensureTools(o);
    // Again, in a network namespace of our own.
    const r = await new Deno.Command("unshare", {
      args: [
        "--net",
        "--",
        Deno.execPath(),
        "run",
        "--allow-all",
        import.meta.url.replace("file://", ""),
        ...Deno.args,
      ],
      env: { PASST_BENCH_NETNS: "1" },
    }).spawn().status;
    Deno.exit(r.code);
  }
  const env = setup();
  if (!o.skip.has("upstream") && !have(env.upstream)) {
    console.error(`bench: no upstream pasta at ${env.upstream} (set UPSTREAM, or --skip upstream)`);
    o.skip.add("upstream");
  }
  // Builds the native library once, so that start-up is not charged with the first build.
  sh(`make -s -C ${REPO}/native`, 300);
  const defs = caseDefs(o.quick).filter((d) => !o.only || o.only.test(d.id));
  const active = PROGS.filter((p) => !o.skip.has(p) && defs.some((d) => d.progs.includes(p)));
  const meta = `${
    new Date().toISOString().slice(0, 16)
  }Z, ${machine()}, T=${o.t} s, ${o.repeat} run(s)`;
  console.error(`bench: ${defs.length} cases, ${active.join(", ")}; ${meta}`);
  const runs = [];
  const mem: Record<string, unknown>[] = [];
  for (let k = 0; k < o.repeat; k++) {
    console.error(`run ${k + 1}/${o.repeat}`);
    const m: Record<string, unknown> = {};
    runs.push(await runOnce(env, defs, o, m));
    mem.push(m);
  }
  const rows = summarize(defs, runs);
  printTable(rows, active);
  const floor = rows.filter((r) => r.values.deno !== undefined).map((r) => {
    const f = ratioOf(r.values.deno, r.values.upstream);
    return `${r.id} ${f === null ? "-" : `${f.toFixed(2)}×`}`;
  });
  if (floor.length) {
    console.log(`deno (the runtime alone, an empty module) ÷ upstream: ${floor.join(", ")}`);
  }
  // passt --vhost-user against upstream's, with the stream socket beside it
  // (the same Python front end for every program: see bench/vhost_user.ts)
  let vhostUser: Record<string, Record<string, number | null>> | null = null;
  if (!o.skip.has("vhost-user") && (!o.only || o.only.test("vhost-user"))) {
    vhostUser = await vhostUserBench();
  }
  Deno.mkdirSync(OUT, { recursive: true });
  const json = `${OUT}/results.json`;
  Deno.writeTextFileSync(
    json,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: machine(),
        seconds: o.t,
        programs: { ...env, active },
        rows,
        runs,
        memory: mem,
        vhostUser,
      },
      null,
      1,
    ) + "\n",
  );
  const chart = `${OUT}/ratios.svg`;
  Deno.writeTextFileSync(chart, svg(rows, meta));
  console.log(`saved ${json} and ${chart}`);
}

if (import.meta.main) await main();
