// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `vhost_user.ts` - passt --vhost-user against upstream's, with the stream socket beside it
 *
 * Theory of operation: one front end for everybody, `tests/e2e/vu_frontend.py`
 * (guest memory in a memfd, the RX and TX virtqueues, what QEMU does), so the
 * numbers compare back ends, not front ends. Cases, each T seconds:
 *
 * - ARP round trips per second, one request in flight (latency of a kick,
 *   processing and a call);
 * - ARP frames per second, 32 requests in flight (per-frame cost);
 * - TCP bulk, namespace to host and host to namespace (iperf3, Mbit/s): a
 *   network namespace whose eth0 is a tap device bridged to the queues by the
 *   front end (`vu_frontend.py bridge`), iperf3 in it, the server on the
 *   host's loopback, reached through passt's gateway mapping.
 *
 * Each case runs on our passt and upstream's in vhost-user mode, and on both
 * in stream mode (`stream-flood`, `tap_bridge.py`: the same framing QEMU's
 * stream netdev uses). The Python front end is the bottleneck of the bulk
 * cases: compare columns, not absolute numbers. Results are printed as a
 * table and saved as JSON under `bench/out/`.
 *
 * Usage: `deno run --allow-all bench/vhost_user.ts` (root). Environment: `T`
 * seconds per case (default 4), `UPSTREAM_PASST` (default
 * `/tmp/passt-upstream/upstream/passt`).
 *
 * @module
 */

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const T = Number(Deno.env.get("T") ?? "4");
const OURS = `${REPO}/passt`;
const UPSTREAM = Deno.env.get("UPSTREAM_PASST") ?? "/tmp/passt-upstream/upstream/passt";
const FRONTEND = `${REPO}/tests/e2e/vu_frontend.py`;
const TAP_BRIDGE = `${REPO}/tests/e2e/tap_bridge.py`;
const TARGET = "10.0.2.2";

interface Column {
  name: string;
  bin: string;
  vhostUser: boolean;
}

const COLUMNS: Column[] = [
  { name: "ours vhost-user", bin: OURS, vhostUser: true },
  { name: "upstream vhost-user", bin: UPSTREAM, vhostUser: true },
  { name: "ours stream", bin: OURS, vhostUser: false },
  { name: "upstream stream", bin: UPSTREAM, vhostUser: false },
];

const CASES = [
  "ARP round trips/s (1 in flight)",
  "ARP frames/s (32 in flight)",
  "TCP ns->host Mbit/s",
  "TCP host->ns Mbit/s",
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

async function output(
  argv: string[],
  env: Record<string, string> = {},
  timeoutS = 60,
): Promise<string> {
  const out = await new Deno.Command("timeout", {
    args: ["-s", "KILL", String(timeoutS), ...argv],
    env,
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** The host's address and gateway, which passt gives the guest. */
function hostAddr(): { addr: string; prefix: number; gw: string } {
  const j = (args: string[]): Array<Record<string, unknown>> =>
    JSON.parse(
      new TextDecoder().decode(
        new Deno.Command("ip", { args: ["-j", ...args], stdout: "piped" }).outputSync().stdout,
      ) || "[]",
    );
  const r = j(["-4", "route", "show", "default"])[0] ?? {};
  const a = (j(["-4", "addr", "show", "dev", String(r["dev"])])[0]?.["addr_info"] as
    | Array<{ local: string; prefixlen: number }>
    | undefined)?.[0];
  return { addr: a?.local ?? "", prefix: a?.prefixlen ?? 24, gw: String(r["gateway"] ?? "") };
}

/** Starts `col`'s passt on a fresh socket; returns the socket and a stop function. */
async function start(col: Column): Promise<{ sock: string; stop: () => Promise<void> }> {
  const dir = Deno.makeTempDirSync({ prefix: "passt-vu-bench-" });
  Deno.chmodSync(dir, 0o777);
  const sock = `${dir}/s`;
  const child = new Deno.Command(col.bin, {
    args: ["-f", "-q", "-s", sock, ...(col.vhostUser ? ["--vhost-user"] : [])],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 400 && !exists(sock); i++) await sleep(50);
  return {
    sock,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.status;
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

function framesPerSecond(out: string): number | null {
  const m = out.match(/^frames (\d+) bytes \d+ seconds ([\d.]+)$/m);
  return m ? Number(m[1]) / Number(m[2]) : null;
}

async function flood(col: Column, sock: string, window: number): Promise<number | null> {
  const cmd = col.vhostUser ? "flood" : "stream-flood";
  const out = await output(["python3", FRONTEND, cmd, sock, TARGET, String(T)], {
    VU_WINDOW: String(window),
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  });
  return framesPerSecond(out);
}

async function bulk(col: Column, sock: string, reverse: boolean): Promise<number | null> {
  const h = hostAddr();
  const port = 5201 + Math.floor(Math.random() * 1000);
  const srv = new Deno.Command("iperf3", {
    args: ["-s", "-1", "-p", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await sleep(300);
  const script = [
    "ip link set lo up",
    "ip link set eth0 up mtu 65520",
    `ip addr add ${h.addr}/${h.prefix} dev eth0`,
    `ip route add default via ${h.gw}`,
    "sleep 1",
    `iperf3 -c ${h.gw} -p ${port} -t ${T} -J ${reverse ? "-R" : ""}`,
  ].join("; ");
  const bridge = col.vhostUser ? [FRONTEND, "bridge"] : [TAP_BRIDGE];
  const out = await output(
    ["unshare", "-n", "python3", ...bridge, sock, "sh", "-c", script],
    { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    T + 60,
  );
  try {
    srv.kill("SIGKILL");
  } catch {
    // done
  }
  await srv.status;
  try {
    const j = JSON.parse(out.slice(out.indexOf("{")));
    return j.end.sum_received.bits_per_second / 1e6;
  } catch {
    return null;
  }
}

function fmt(v: number | null): string {
  return v === null ? "-" : v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

async function main(): Promise<void> {
  const cols = COLUMNS.filter((c) => exists(c.bin));
  const table: Record<string, Record<string, number | null>> = {};
  for (const k of CASES) table[k] = {};
  for (const col of cols) {
    console.error(`${col.name}...`);
    for (
      const [k, run] of [
        [CASES[0]!, (s: string) => flood(col, s, 1)],
        [CASES[1]!, (s: string) => flood(col, s, 32)],
        [CASES[2]!, (s: string) => bulk(col, s, false)],
        [CASES[3]!, (s: string) => bulk(col, s, true)],
      ] as const
    ) {
      // A fresh passt per case: upstream exits when a flood overruns its queue
      const p = await start(col);
      try {
        table[k]![col.name] = await run(p.sock);
      } finally {
        await p.stop();
      }
    }
  }
  const w = Math.max(...CASES.map((c) => c.length)) + 2;
  console.log("case".padEnd(w) + cols.map((c) => c.name.padStart(22)).join(""));
  for (const k of CASES) {
    console.log(
      k.padEnd(w) + cols.map((c) => fmt(table[k]![c.name] ?? null).padStart(22)).join(""),
    );
  }
  const r = table[CASES[1]!]!;
  const ratio = (a: string, b: string): string => r[a] && r[b] ? (r[a]! / r[b]!).toFixed(2) : "-";
  console.log(
    `frames/s, ours/upstream over vhost-user: ${
      ratio("ours vhost-user", "upstream vhost-user")
    }; ` +
      `ours vhost-user/ours stream: ${ratio("ours vhost-user", "ours stream")}`,
  );
  Deno.mkdirSync(`${REPO}/bench/out`, { recursive: true });
  const file = `${REPO}/bench/out/vhost_user-${
    new Date().toISOString().replace(/[:.]/g, "-")
  }.json`;
  Deno.writeTextFileSync(file, JSON.stringify({ seconds: T, table }, null, 2) + "\n");
  console.error(`saved ${file}`);
}

if (import.meta.main) await main();
