// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * Today's callers, first try, no retry: the exact command lines of Podman
 * 5.3+ (one pasta per container, and rootless-netns), Podman 4.4,
 * RootlessKit v2/v3 (its feature probe, then its network driver), libvirt
 * 9/10/11.1 (without vhost-user), QEMU 10.1 (`-netdev passt`) and muvm, each
 * run for real against ours and against upstream 2026's programs (when built,
 * see `tests/_helpers/upstream.ts`), checking what each caller relies on:
 * status 0 once ready, the namespace configured or the socket answering, the
 * PID file, port forwarding, and the end when the caller tears down.
 *
 * Vectors carrying options that our tree doesn't have yet (the address
 * translation options) are skipped for ours, by the option table, until they
 * exist; they always run against upstream.
 *
 * Placeholders (ports, paths, the host's interface) are filled at run time;
 * everything else is as the callers' sources build it (cited per vector).
 *
 * @module
 */

import assert from "node:assert/strict";
import { podmanTail, ROOTLESSKIT_ARGS } from "../_helpers/callers.ts";
import {
  freePort,
  have,
  isRoot,
  NO_FORWARDS,
  PASST,
  PASTA,
  prepareRootless,
  REPO,
  run,
} from "../_helpers/e2e.ts";
import {
  haveUpstream,
  UPSTREAM_PASST,
  UPSTREAM_PASTA,
  withoutBuildNoise,
} from "../_helpers/upstream.ts";
import { findOption } from "../../src/conf/options.ts";

const PEER = `${REPO}/tests/e2e/passt_peer.py`;
const canRun = isRoot() && have("unshare") && have("nsenter") && have("socat") &&
  have("python3") && have("ip") && prepareRootless();

/** The host's template interface, its IPv4 address and gateway (the default route's). */
function hostRoute(): { dev: string; addr: string; gw: string } | null {
  const r = new Deno.Command("ip", { args: ["-o", "-4", "route", "show", "default"] })
    .outputSync();
  const m = /default via (\S+) dev (\S+)/.exec(new TextDecoder().decode(r.stdout));
  if (m === null) return null;
  const a = new Deno.Command("ip", { args: ["-o", "-4", "addr", "show", "dev", m[2]!] })
    .outputSync();
  const am = /inet (\S+)\//.exec(new TextDecoder().decode(a.stdout));
  return am === null ? null : { gw: m[1]!, dev: m[2]!, addr: am[1]! };
}
const HOST = hostRoute();

/** Options in `argv` that our option table lacks (still to come in this tree). */
function missing(argv: string[]): string[] {
  return argv.filter((a) => /^--[a-z]/.test(a)).map((a) => a.slice(2).split("=")[0]!)
    .filter((n) => findOption(n) === undefined);
}

/** Shell words, single-quoted. */
function q(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

function cmdline(argv: string[]): string {
  return argv.map(q).join(" ");
}

/** PIDs of processes whose command line contains `marker` (daemons we started). */
function procsWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(marker) && !cmd.includes("sh -c")) out.push(Number(e.name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Kills what is left of our daemons (a failed test must not leak them). */
function reap(marker: string): void {
  for (const pid of procsWith(marker)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

interface Program {
  name: "ours" | "upstream";
  pasta: string;
  passt: string;
  present: boolean;
}

const PROGRAMS: Program[] = [
  { name: "ours", pasta: PASTA, passt: PASST, present: true },
  { name: "upstream", pasta: UPSTREAM_PASTA, passt: UPSTREAM_PASST, present: haveUpstream() },
];

/** Registers one caller's vector for both programs. */
function vector(
  caller: string,
  sample: string[],
  fn: (p: Program, id: string) => Promise<void>,
): void {
  for (const p of PROGRAMS) {
    const lacks = p.name === "ours" ? missing(sample) : [];
    Deno.test({
      name: `${caller} (${p.name})${lacks.length ? ` [needs --${lacks.join(", --")}]` : ""}`,
      ignore: !canRun || !p.present || lacks.length > 0,
      async fn(): Promise<void> {
        const id = `c14${Deno.pid}${Math.floor(Math.random() * 1e6)}`;
        try {
          await fn(p, id);
        } finally {
          reap(id);
        }
      },
    });
  }
}

/** Waits until no process has `marker` in its command line; false if one still does. */
async function gone(marker: string, ms = 5000): Promise<boolean> {
  for (let t = 0; t < ms; t += 50) {
    if (procsWith(marker).length === 0) return true;
    await new Promise((res) => setTimeout(res, 50));
  }
  return procsWith(marker).length === 0;
}

// ---------------------------------------------------------------------------
// Podman: pasta joins a network namespace file Podman made in its own
// rootless user and mount namespace (`podman unshare`).

/**
 * Runs, as the unprivileged user inside a user and mount namespace of its
 * own, `pasta ARGS` where ARGS name a fresh network namespace file `ns`, then
 * `checks` (shell, with $ns set), then deletes the namespace as Podman does.
 */
async function inPodmanNs(
  pasta: string,
  args: (ns: string) => string[],
  checks: string,
  id: string,
): Promise<string> {
  const ns = `/run/${id}`;
  const script = [
    "mount -t tmpfs tmpfs /run",
    "unshare -n sleep 100 & sleeper=$!",
    'while [ "$(readlink /proc/$sleeper/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.02; done',
    `touch ${ns} && mount --bind /proc/$sleeper/ns/net ${ns}`,
    cmdline([pasta, ...args(ns)]),
    "echo rc=$?",
    `ns=${ns}`,
    checks,
    // as Podman (containers/common pkg/netns): lazy unmount, then remove
    `umount -l ${ns}; rm ${ns}; kill $sleeper`,
  ].join("\n");
  const r = await run(["unshare", "-rm", "sh", "-c", script], { rootless: true });
  return r.stdout + withoutBuildNoise(r.stderr);
}

// podman-container-tools/container-libs common/libnetwork/pasta/pasta_linux.go:
// --config-net [pasta_options] [-t|-u ...] --dns-forward 169.254.1.1 [-t none]
// [-u none] [-T none] [-U none] [--no-map-gw] [--quiet] --netns NETNS
// --map-guest-addr 169.254.1.2
vector(
  "Podman 5.3+ pasta, -p HP:80/tcp: forwards, configures, ends with the namespace",
  ["--config-net", "-t", "1-1:80-80", ...podmanTail("/x")],
  async (p, id) => {
    assert.ok(HOST, "the host has a default route");
    const hp = freePort();
    const out = await inPodmanNs(
      p.pasta,
      (ns) => ["--config-net", "-t", `${hp}-${hp}:80-80`, ...podmanTail(ns)],
      [
        "nsenter --net=$ns ip -o -4 addr show | grep -v ' lo ' | head -1",
        "echo forwarded | nsenter --net=$ns socat -u - TCP4-LISTEN:80,reuseaddr &",
        "for i in $(seq 100); do nsenter --net=$ns ss -Hltn 'sport = :80' | grep -q . && break; sleep 0.05; done",
        `socat -u TCP:127.0.0.1:${hp} - || echo connect-failed`,
      ].join("\n"),
      id,
    );
    assert.match(out, /^rc=0$/m, out);
    assert.ok(out.includes(`inet ${HOST.addr}/`), `host's address copied: ${out}`);
    assert.match(out, /^forwarded$/m, out);
    assert.ok(await gone(`--netns /run/${id}`), "pasta ends with its namespace");
  },
);

// common/libnetwork/internal/rootlessnetns/netns_linux.go
vector(
  "Podman 5.3+ rootless-netns: PID file, SIGTERM ends it",
  ["--config-net", "--pid", "/p", "-t", "none", ...podmanTail("/x")],
  async (p, id) => {
    const out = await inPodmanNs(
      p.pasta,
      (ns) => [
        "--config-net",
        "--pid",
        `/run/${id}.pid`,
        "--dns-forward",
        "169.254.1.1",
        "-t",
        "none",
        ...podmanTail(ns).slice(2),
      ],
      [
        `pid=$(cat /run/${id}.pid); kill -0 $pid && echo pid-alive`,
        "nsenter --net=$ns ip -o link show | grep -v ': lo:' | grep -q UP && echo link-up",
        "kill -TERM $pid",
        "for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done",
        "kill -0 $pid 2>/dev/null && echo term-ignored || echo term-ok",
      ].join("\n"),
      id,
    );
    assert.match(out, /^rc=0$/m, out);
    assert.match(out, /pid-alive/, out);
    assert.match(out, /link-up/, out);
    assert.match(out, /term-ok/, out);
  },
);

// libpod/networking_pasta_linux.go (Podman 4.4)
vector(
  "Podman 4.4 pasta: configures, ends with the namespace",
  ["--config-net", "-t", "none", "-u", "none", "-T", "none", "-U", "none", "--no-map-gw"],
  async (p, id) => {
    assert.ok(HOST, "the host has a default route");
    const out = await inPodmanNs(
      p.pasta,
      (ns) => [
        "--config-net",
        ...NO_FORWARDS,
        "--no-map-gw",
        "--netns",
        ns,
      ],
      "nsenter --net=$ns ip -o -4 addr show | grep -v ' lo ' | head -1",
      id,
    );
    assert.match(out, /^rc=0$/m, out);
    assert.ok(out.includes(`inet ${HOST.addr}/`), out);
    assert.ok(await gone(`--netns /run/${id}`), "pasta ends with its namespace");
  },
);

// ---------------------------------------------------------------------------
// RootlessKit v2/v3 (rootless-containers/rootlesskit pkg/network/pasta/pasta.go):
// probe, then the network driver with the child's PID or its namespace paths.

function rootlesskitArgs(hostLo: boolean, target: string[]): string[] {
  return [
    ...ROOTLESSKIT_ARGS,
    "--tcp-ports=auto",
    "--udp-ports=auto",
    ...(hostLo ? ["--host-lo-to-ns-lo"] : []),
    ...target,
  ];
}

async function rootlesskit(p: Program, detach: boolean): Promise<void> {
  // The probe decides --host-lo-to-ns-lo, as RootlessKit does
  const v = await run([p.pasta, "--version"], { rootless: true });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^pasta /);
  const probe = await run([p.pasta, "--host-lo-to-ns-lo", "--version"], { rootless: true });
  const hostLo = probe.code === 0;
  if (p.name === "upstream") assert.ok(hostLo, "upstream 2026 has --host-lo-to-ns-lo");
  const target = detach
    ? ["--userns=/proc/CHILD/ns/user", "--netns=/proc/CHILD/ns/net"]
    : ["CHILD"];
  const words = rootlesskitArgs(hostLo, target).map((a) =>
    a.includes("CHILD") ? `"${a.replace("CHILD", "$child")}"` : q(a)
  );
  const script = [
    "unshare -rn sleep 100 & child=$!",
    'while [ "$(readlink /proc/$child/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.02; done',
    "echo child=$child",
    `${q(p.pasta)} ${words.join(" ")}`,
    "echo rc=$?",
    "nsenter --preserve-credentials -U -n -t $child ip -o -4 addr show dev tap0",
    "nsenter --preserve-credentials -U -n -t $child ip -4 route show default",
    "kill $child",
  ].join("\n");
  const r = await run(["sh", "-c", script], { rootless: true });
  const out = r.stdout + withoutBuildNoise(r.stderr);
  const child = /^child=(\d+)$/m.exec(out)?.[1] ?? "none";
  const marker = detach ? `/proc/${child}/ns/net` : `--udp-ports=auto ${child}`;
  try {
    assert.match(out, /^rc=0$/m, out);
    assert.match(out, /inet 10\.0\.2\.100\/24 /, out);
    assert.match(out, /default via 10\.0\.2\.2 dev tap0/, out);
    assert.doesNotMatch(out, /^\s+at /m, "no stack trace");
    // RootlessKit relies on pasta ending with the child
    assert.ok(await gone(marker), "pasta ends with the child");
  } finally {
    reap(marker);
  }
}

vector(
  "RootlessKit v2/v3: probe, then the network driver with the child's PID",
  rootlesskitArgs(false, ["1"]),
  (p) => rootlesskit(p, false),
);
vector(
  "RootlessKit v2/v3: probe, then --userns/--netns paths (detach-netns)",
  rootlesskitArgs(false, ["--userns=/x", "--netns=/x"]),
  (p) => rootlesskit(p, true),
);

// ---------------------------------------------------------------------------
// libvirt (src/qemu/qemu_passt.c): passt daemonizes with a socket QEMU
// connects to right after, a PID file for the cgroup, and --one-off.

/** What a vector adds to the options libvirt always passes (qemuPasstBuildCommand). */
interface LibvirtNet {
  mac?: string;
  mtu?: string;
  /** --address 10.0.2.15 --netmask 24 */
  address?: boolean;
  /** After the addresses: --hostname, --fqdn, the port forwards. */
  rest?: string[];
}

/** libvirt's passt command line, in qemuPasstBuildCommand's order. */
function libvirtArgs(dir: string, sock: string, pid: string, net: LibvirtNet): string[] {
  return [
    "--one-off",
    "--socket",
    sock,
    ...(net.mac ? ["--mac-addr", net.mac] : []),
    "--pid",
    pid,
    ...(net.mtu ? ["--mtu", net.mtu] : []),
    "--interface",
    HOST!.dev,
    "--log-file",
    `${dir}/passt.log`,
    ...(net.address ? ["--address", "10.0.2.15", "--netmask", "24"] : []),
    ...(net.rest ?? []),
  ];
}

/** Runs libvirt's passt command line for `net`, then QEMU's connection to its socket. */
async function libvirt(p: Program, id: string, rootless: boolean, net: LibvirtNet): Promise<void> {
  const dir = `/tmp/${id}`;
  Deno.mkdirSync(dir, { mode: 0o755 });
  if (rootless) await run(["chown", "tester", dir]);
  try {
    const sock = `${dir}/passt.sock`;
    const pidFile = `${dir}/passt.pid`;
    const r = await run([p.passt, ...libvirtArgs(dir, sock, pidFile, net)], { rootless });
    assert.equal(r.code, 0, withoutBuildNoise(r.stderr));
    const daemon = Number(Deno.readTextFileSync(pidFile).trim());
    assert.ok(daemon > 0, "PID file written");
    Deno.kill(daemon, "SIGCONT"); // throws if there is no such process
    // QEMU connects (server=off) at once: the guest's ARP for its gateway is answered
    const peer = await run(["python3", PEER, "connect", sock, HOST!.gw], { rootless });
    assert.equal(peer.code, 0, peer.stdout + peer.stderr);
    assert.match(peer.stdout, /^arp-reply /m);
    assert.ok(await gone(sock), "--one-off: the daemon ends when QEMU disconnects");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

for (const rootless of [false, true]) {
  const who = rootless ? "rootless" : "root";
  // As logged by libvirt 9.x (kubevirt#11471)
  vector(
    `libvirt 9 (${who}): --one-off --socket --mac-addr --pid --interface --log-file --tcp-ports`,
    ["--one-off", "--socket", "/s", "--mac-addr", "52:54:00:f8:03:a6", "--log-file", "/l"],
    (p, id) =>
      libvirt(p, id, rootless, {
        mac: "52:54:00:f8:03:a6",
        rest: ["--tcp-ports", String(freePort())],
      }),
  );
  // libvirt >= 10 qemuPasstBuildCommand: addresses, MTU, port forwards with address and device
  vector(
    `libvirt 10 (${who}): --mtu --interface --log-file --address --netmask, forwards`,
    ["--one-off", "--socket", "/s", "--mtu", "1500", "--address", "10.0.2.15", "--netmask", "24"],
    (p, id) => {
      const [a, b] = [freePort(), freePort()];
      return libvirt(p, id, rootless, {
        mtu: "1500",
        address: true,
        rest: [
          "--tcp-ports",
          `${a}:22`,
          "--tcp-ports",
          `${HOST!.addr}%${HOST!.dev}/${b}:80`,
          "--udp-ports",
          `${a}:53`,
        ],
      });
    },
  );
  // libvirt >= 11.1 without vhost-user: --hostname and --fqdn too
  vector(
    `libvirt 11.1 (${who}): --hostname --fqdn, without vhost-user`,
    ["--one-off", "--socket", "/s", "--hostname", "vm1", "--fqdn", "vm1.example.org"],
    (p, id) =>
      libvirt(p, id, rootless, {
        address: true,
        rest: ["--hostname", "vm1", "--fqdn", "vm1.example.org"],
      }),
  );
}

// ---------------------------------------------------------------------------
// QEMU 10.1 -netdev passt (net/passt.c): a connected socketpair as fd 3,
// --quiet first, the netdev's options, PARAMs, then --pid and --fd 3; QEMU
// waits for passt's parent to exit 0 and reads the PID file. muvm
// (crates/muvm/src/net.rs): -q -f --fd N and its forwards, in the foreground.

/** Runs `passt ARGS` with a socketpair end as fd 3 and checks the ARP reply for `gw`. */
async function onFd3(p: Program, args: string[], gw: string, foreground: boolean): Promise<void> {
  const peer = await run(["python3", PEER, "spawn", gw, p.passt, ...args], { rootless: true });
  const out = peer.stdout + withoutBuildNoise(peer.stderr);
  assert.equal(peer.code, 0, out);
  assert.match(out, /^arp-reply /m, out);
  // QEMU: the parent exits 0 once ready; muvm (-f): passt ends with the socket, status 0
  assert.match(out, /^exit 0$/m, out);
  assert.doesNotMatch(out, /^\s+at /m, "no stack trace");
  if (!foreground) assert.ok(await gone(args.join(" ")), "the daemon ends when QEMU closes");
}

const QEMU_FULL = (pid: string, t: number, u: number): string[] => [
  "--quiet",
  "--mtu",
  "1500",
  "--address",
  "10.0.2.15",
  "--netmask",
  "255.255.255.0",
  "--mac-addr",
  "52:54:00:12:34:56",
  "--gateway",
  "10.0.2.2",
  "--interface",
  HOST?.dev ?? "lo",
  "--outbound",
  HOST?.addr ?? "127.0.0.1",
  "--outbound-if4",
  HOST?.dev ?? "lo",
  "--dns",
  "10.0.2.3",
  "--fqdn",
  "vm.example.org",
  "--no-dhcp-dns",
  "--no-dhcp-search",
  "--dns-forward",
  "10.0.2.3",
  "--no-ndp",
  "--no-dhcpv6",
  "--no-ra",
  "--ipv4-only",
  "--search",
  "example.org example.com",
  "--tcp-ports",
  `${t},${t + 1}`,
  "--udp-ports",
  `${u}`,
  "--pid",
  pid,
  "--fd",
  "3",
];

vector("QEMU 10.1 -netdev passt: --quiet --pid F --fd 3", ["--quiet"], (p, id) => {
  assert.ok(HOST, "the host has a default route");
  return onFd3(p, ["--quiet", "--pid", `/tmp/${id}.pid`, "--fd", "3"], HOST.gw, false);
});
vector(
  "QEMU 10.1 -netdev passt,param=--debug: the last of --quiet and --debug wins",
  ["--quiet", "--debug"],
  (p, id) => {
    assert.ok(HOST, "the host has a default route");
    const args = ["--quiet", "--debug", "--pid", `/tmp/${id}.pid`, "--fd", "3"];
    return onFd3(p, args, HOST.gw, false);
  },
);
vector(
  "QEMU 10.1 -netdev passt with its optional parameters (2023-era ones, --fqdn)",
  QEMU_FULL("/p", 1, 1),
  (p, id) => onFd3(p, QEMU_FULL(`/tmp/${id}.pid`, freePort(), freePort()), "10.0.2.2", false),
);
const QEMU_NAT = (pid: string): string[] => {
  const full = QEMU_FULL(pid, freePort(), freePort());
  const at = full.indexOf("--dns-forward");
  full.splice(
    at,
    0,
    "--map-host-loopback",
    "10.0.2.2",
    "--map-guest-addr",
    "10.0.2.4",
  );
  full.splice(full.indexOf("--no-ndp"), 0, "--dns-host", "192.0.2.53");
  full.splice(full.indexOf("--ipv4-only"), 0, "--freebind");
  return full;
};
vector(
  "QEMU 10.1 -netdev passt with the translation options (map-host-loopback, map-guest-addr, dns-host, freebind)",
  QEMU_NAT("/p"),
  (p, id) => onFd3(p, QEMU_NAT(`/tmp/${id}.pid`), "10.0.2.2", false),
);

vector("muvm: -q -f --fd N with its port forwards", ["-q", "-f"], (p) => {
  assert.ok(HOST, "the host has a default route");
  const [t, u] = [freePort(), freePort()];
  const args = ["-q", "-f", "--fd", "3", "-t", `${t}-${t}:80-80`, "-u", `${u}-${u}:53-53`];
  return onFd3(p, args, HOST.gw, true);
});
