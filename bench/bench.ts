// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `bench.ts` - side-by-side throughput and latency: our pasta, Debian's pasta, slirp4netns
 *
 * Theory of operation: the cases of the reference scripts (`../shared/bench/anchors.sh`
 * and `slirp.sh`) run here, in one go, against each program, rootless as user `tester`,
 * with iperf3 (single stream, MTU 65520, T seconds). A latency case of our own adds
 * TCP request/response round trips per second over one connection and connections per
 * second, namespace to host through the tap path (a small Python client in the namespace,
 * a server on the host's loopback). Missing tools are installed with apt-get. Results are
 * printed as a table with our ratio to each reference and saved as JSON under `bench/out/`.
 *
 * Usage: `deno task bench` (root). Environment: `T` seconds per case (default 4), `OURS`
 * path of our launcher (default `./pasta` of this tree).
 *
 * @module
 */

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const T = Number(Deno.env.get("T") ?? "4");
const OURS = Deno.env.get("OURS") ?? `${REPO}/pasta`;

interface Row {
  case: string;
  ours: number | null;
  pasta: number | null;
  slirp: number | null;
  unit: string;
}

function sh(script: string, timeoutS = 120): string {
  const r = new Deno.Command("timeout", {
    args: ["-s", "KILL", String(timeoutS), "bash", "-c", script],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(r.stdout);
}

function have(cmd: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).outputSync()
    .success;
}

function ensureTools(): void {
  const missing = [["iperf3", "iperf3"], ["pasta", "passt"], ["slirp4netns", "slirp4netns"]]
    .filter(([c]) => !have(c!)).map(([, p]) => p!);
  if (missing.length) {
    console.error(`Installing ${missing.join(" ")}...`);
    sh(
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${
        missing.join(" ")
      }`,
      600,
    );
  }
  sh("chmod 666 /dev/net/tun; id tester >/dev/null 2>&1 || useradd -m tester");
}

/** The request/response and connect-rate client, run inside the namespace. */
const RR_CLIENT = `
import socket, sys, time
host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
c = socket.create_connection((host, port)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
n = 0; end = time.time() + secs
while time.time() < end:
    c.sendall(b"x"); c.recv(1); n += 1
c.close()
rr = n / secs
n = 0; end = time.time() + secs
while time.time() < end:
    s = socket.create_connection((host, port + 1)); s.recv(1); s.close(); n += 1
print(round(rr), round(n / secs))
`;

/** The matching server on the host's loopback. */
const RR_SERVER = `
import socket, sys, threading
port = int(sys.argv[1])
def rr():
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port)); l.listen(16)
    while True:
        c, _ = l.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = c.recv(1)
            if not d: break
            c.sendall(d)
        c.close()
def cr():
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port + 1)); l.listen(128)
    while True:
        c, _ = l.accept(); c.sendall(b"y"); c.close()
threading.Thread(target=rr, daemon=True).start(); cr()
`;

/** Cases of anchors.sh for one pasta command, plus latency; returns case -> value. */
function pastaCases(cmd: string): Record<string, number | null> {
  Deno.writeTextFileSync("/tmp/bench_rr_client.py", RR_CLIENT);
  Deno.writeTextFileSync("/tmp/bench_rr_server.py", RR_SERVER);
  const script = `
set -u
T=${T}
PASTA='${cmd}'
gbps() { python3 -c 'import json,sys; d=json.load(sys.stdin); e=d["end"]; s=e.get("sum_received") or e.get("sum"); print(round(s["bits_per_second"]/1e9,2))' 2>/dev/null || echo ERR; }
iperf3 -s -p 5201 >/dev/null 2>&1 & SRV=$!
python3 /tmp/bench_rr_server.py 5301 >/dev/null 2>&1 & RRS=$!
trap 'kill $SRV $RRS 2>/dev/null' EXIT
sleep 0.5
HOST4=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
run_pasta() { su tester -s /bin/bash -c "cd /tmp; timeout -s KILL $((T+15)) $PASTA -q -f --config-net $1 -- sh -c '$2'" 2>/dev/null; }
r=$(run_pasta "" "iperf3 -J -c 192.0.2.1 -p 5201 -t $T" | gbps); echo "ns_to_host_tap_tcp $r"
( sleep 2.5; iperf3 -J -c 127.0.0.1 -p 5202 -t $T | gbps > /tmp/bench_b ) & C=$!
run_pasta "-t 5202" "iperf3 -s -1 -p 5202 >/dev/null" ; wait $C; echo "host_to_ns_splice_tcp $(cat /tmp/bench_b)"
( sleep 2.5; iperf3 -J -c $HOST4 -p 5203 -t $T | gbps > /tmp/bench_c ) & C=$!
run_pasta "-t 5203" "iperf3 -s -1 -p 5203 >/dev/null" ; wait $C; echo "host_to_ns_tap_tcp $(cat /tmp/bench_c)"
r=$(run_pasta "-T 5201" "iperf3 -J -c 127.0.0.1 -p 5201 -t $T" | gbps); echo "ns_to_host_splice_tcp $r"
sleep 1  # let the iperf3 server finish the previous test, or it answers "busy"
r=$(run_pasta "" "iperf3 -J -u -b 0 -l 8000 -c 192.0.2.1 -p 5201 -t $T" | gbps); echo "ns_to_host_tap_udp $r"
r=$(run_pasta "" "python3 /tmp/bench_rr_client.py 192.0.2.1 5301 $T"); set -- $r; echo "ns_to_host_tap_rr \${1:-ERR}"; echo "ns_to_host_tap_crr \${2:-ERR}"
`;
  return parse(sh(script, 30 * (T + 20)));
}

/** Cases of slirp.sh. */
function slirpCases(): Record<string, number | null> {
  const script = `
set -u
T=${T}
gbps() { python3 -c 'import json,sys; d=json.load(sys.stdin); e=d["end"]; s=e.get("sum_received") or e.get("sum"); print(round(s["bits_per_second"]/1e9,2))' 2>/dev/null || echo ERR; }
iperf3 -s -p 5201 >/dev/null 2>&1 & SRV=$!
python3 /tmp/bench_rr_server.py 5301 >/dev/null 2>&1 & RRS=$!
rm -f /tmp/slirp.pid
su tester -s /bin/sh -c 'unshare -rn sh -c "echo \\$\\$ > /tmp/slirp.pid; exec sleep 300"' & NS=$!
sleep 0.5; P=$(cat /tmp/slirp.pid)
su tester -s /bin/sh -c "echo \\$\\$ > /tmp/slirp4.pid; exec slirp4netns --configure --mtu=65520 $P tap0 >/dev/null 2>&1" &
sleep 1
IN="nsenter -t $P -U -n --preserve-credentials"
echo "ns_to_host_tap_tcp $($IN iperf3 -J -c 10.0.2.2 -p 5201 -t $T | gbps)"
sleep 1
echo "ns_to_host_tap_udp $($IN iperf3 -J -u -b 0 -l 8000 -c 10.0.2.2 -p 5201 -t $T | gbps)"
r=$($IN python3 /tmp/bench_rr_client.py 10.0.2.2 5301 $T); set -- $r; echo "ns_to_host_tap_rr \${1:-ERR}"; echo "ns_to_host_tap_crr \${2:-ERR}"
kill $SRV $RRS $(cat /tmp/slirp4.pid) $P 2>/dev/null; wait 2>/dev/null
`;
  return parse(sh(script, 10 * (T + 20)));
}

function parse(out: string): Record<string, number | null> {
  const r: Record<string, number | null> = {};
  for (const line of out.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = Number(v);
    r[k] = Number.isFinite(n) ? n : null;
  }
  return r;
}

function fmt(v: number | null): string {
  return v === null ? "-" : String(v);
}

function ratio(a: number | null, b: number | null): string {
  return a === null || b === null || b === 0 ? "-" : (a / b).toFixed(2) + "x";
}

function main(): void {
  if (Deno.uid() !== 0) {
    console.error("bench: run as root (it creates the user tester and runs the cases as tester)");
    Deno.exit(1);
  }
  ensureTools();
  const ours = pastaCases(OURS);
  const pasta = pastaCases("pasta");
  const slirp = slirpCases();
  const cases = [
    "ns_to_host_tap_tcp",
    "host_to_ns_tap_tcp",
    "host_to_ns_splice_tcp",
    "ns_to_host_splice_tcp",
    "ns_to_host_tap_udp",
    "ns_to_host_tap_rr",
    "ns_to_host_tap_crr",
  ];
  const rows: Row[] = cases.map((k) => ({
    case: k,
    ours: ours[k] ?? null,
    pasta: pasta[k] ?? null,
    slirp: slirp[k] ?? null,
    unit: k.endsWith("_rr") ? "trans/s" : k.endsWith("_crr") ? "conn/s" : "Gbit/s",
  }));
  const w = [24, 10, 10, 10, 12, 12, 8];
  const line = (c: string[]): string => c.map((s, i) => s.padEnd(w[i]!)).join(" ");
  console.log(line(["case", "ours", "pasta", "slirp4netns", "ours/pasta", "ours/slirp", "unit"]));
  for (const r of rows) {
    console.log(line([
      r.case,
      fmt(r.ours),
      fmt(r.pasta),
      fmt(r.slirp),
      ratio(r.ours, r.pasta),
      ratio(r.ours, r.slirp),
      r.unit,
    ]));
  }
  Deno.mkdirSync(`${REPO}/bench/out`, { recursive: true });
  const file = `${REPO}/bench/out/results.json`;
  Deno.writeTextFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), seconds: T, ours: OURS, rows }, null, 2) +
      "\n",
  );
  console.log(`saved ${file}`);
}

if (import.meta.main) main();
