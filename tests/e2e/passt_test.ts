// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests for passt: a real Linux guest under QEMU (TCG) on the UNIX
 * domain socket, the same checks in a network namespace bridged to the socket
 * (when QEMU is missing, and as a quick second opinion), the same guest against
 * Debian's passt (to prove the test itself), reuse of the socket by a second
 * QEMU, --one-off, --fd (QEMU 10.1), libvirt's command line, a second client
 * while one is connected, and qrap with a stand-in QEMU.
 *
 * @module
 */

import assert from "node:assert/strict";
import { haveUpstream, UPSTREAM_PASST } from "../_helpers/upstream.ts";
import {
  exited,
  freePort,
  have,
  isRoot,
  PASST,
  prepareRootless,
  REPO,
  scratchDir,
  spawn,
} from "../_helpers/e2e.ts";
import { alive, exists, sha256, sleep, waitFor } from "../_helpers/e2e.ts";
import {
  bootGuest,
  type BootOptions,
  bridgeChecks,
  guestImage,
  type GuestResult,
  guestUnavailable,
  vuBridgeChecks,
} from "./qemu_guest.ts";

const PEER = `${REPO}/tests/e2e/passt_peer.py`;
const QRAP = `${REPO}/qrap`;
const DEBIAN_PASST = "/usr/bin/passt";
const BLOB_LEN = 16 << 20;
const FWD_LEN = 4 << 20;
/** Advertised when the host has no IPv4 resolver of its own (checked in the guest). */
const FALLBACK_DNS = "198.51.100.53";

const qemuMissing = guestUnavailable();
const noRoot = !isRoot() || !have("python3") || !have("unshare");
const noDebianPasst = (() => {
  try {
    Deno.statSync(DEBIAN_PASST);
    return false;
  } catch {
    return true;
  }
})();
const noPython = !have("python3");
const noUpstream = !haveUpstream();
/**
 * libvirt and QEMU start passt as the virtual machine's user: as root, the
 * daemon cases run as the unprivileged test user.
 */
const asVmUser = isRoot() && prepareRootless();

/** Deterministic bytes (xorshift32), so that a mismatch is reproducible. */
function pattern(len: number, seed: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(len);
  const w = new Uint32Array(b.buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    w[i] = x;
  }
  return b;
}

/** What the guest should be told: the host's address, router, DNS, and its IPv6 prefix. */
interface HostView {
  ip: string;
  router: string;
  dns: string;
  /** `-D` to pass when the host has no IPv4 resolver. */
  dnsArgs: string[];
  prefix6: string;
}

function ipJson(args: string[]): Array<Record<string, unknown>> {
  const out = new Deno.Command("ip", { args: ["-j", ...args], stdout: "piped" }).outputSync();
  return JSON.parse(new TextDecoder().decode(out.stdout) || "[]");
}

function expand6(a: string): string[] {
  const [head, tail] = a.includes("::") ? a.split("::") : [a, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const mid = tail === null ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...mid, ...t].map((x) => parseInt(x, 16).toString(16));
}

function hostView(): HostView {
  const r4 = ipJson(["-4", "route", "show", "default"])[0] ?? {};
  const dev = String(r4["dev"] ?? "");
  const a4 = ipJson(["-4", "addr", "show", "dev", dev])[0]?.["addr_info"] as
    | Array<{ local: string }>
    | undefined;
  const a6 =
    (ipJson(["-6", "addr", "show", "scope", "global"]).flatMap((l) =>
      (l["addr_info"] as Array<{ local: string }> | undefined) ?? []
    ))[0];
  const ns = Deno.readTextFileSync("/etc/resolv.conf").split("\n")
    .map((l) => l.match(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/)?.[1])
    .filter((x): x is string => !!x && !x.startsWith("127."));
  return {
    ip: a4?.[0]?.local ?? "",
    router: String(r4["gateway"] ?? ""),
    dns: ns[0] ?? FALLBACK_DNS,
    dnsArgs: ns.length ? [] : ["--dns", FALLBACK_DNS],
    prefix6: a6 ? expand6(a6.local).slice(0, 4).join(":") : "",
  };
}

/** Host side of the full checks: an HTTP server with the 16 MiB blob, a UDP echo server. */
class HostServers {
  readonly blob = pattern(BLOB_LEN, 0x5eed);
  readonly fwdData = pattern(FWD_LEN, 0xf0f0);
  readonly http = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly udpPort = freePort();
  readonly fwdPort = freePort();
  readonly udp = spawn([
    "python3",
    "-c",
    "import socket,sys\n" +
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n" +
    `s.bind(("127.0.0.1",${this.udpPort}))\n` +
    "while True:\n d,a=s.recvfrom(65535)\n s.sendto(b'echo:'+d,a)\n",
  ]);
  #serving = this.#serve();

  get httpPort(): number {
    return (this.http.addr as Deno.NetAddr).port;
  }

  async #serve(): Promise<void> {
    for await (const conn of this.http) {
      (async () => {
        const buf = new Uint8Array(4096);
        let req = "";
        while (!req.includes("\r\n\r\n")) {
          const n = await conn.read(buf);
          if (n === null) break;
          req += new TextDecoder().decode(buf.subarray(0, n));
        }
        const hdr = `HTTP/1.0 200 OK\r\nContent-Length: ${BLOB_LEN}\r\n` +
          "Content-Type: application/octet-stream\r\n\r\n";
        try {
          await conn.write(new TextEncoder().encode(hdr));
          let off = 0;
          while (off < this.blob.length) off += await conn.write(this.blob.subarray(off));
        } catch {
          // the guest went away
        }
        conn.close();
      })();
    }
  }

  /** Sends the 4 MiB to the forwarded port (the guest listens behind it). */
  async sendForwarded(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: this.fwdPort });
        // Bounded: a stalled transfer shows up as a wrong checksum, not a hang.
        const t = setTimeout(() => c.close(), 60_000);
        let off = 0;
        while (off < this.fwdData.length) off += await c.write(this.fwdData.subarray(off));
        clearTimeout(t);
        c.close();
        return;
      } catch {
        await sleep(1000);
      }
    }
  }

  params(): Record<string, string> {
    return {
      checks: "full",
      http_port: String(this.httpPort),
      udp_port: String(this.udpPort),
      fwd_port: String(this.fwdPort),
    };
  }

  async close(): Promise<void> {
    this.http.close();
    await this.#serving.catch(() => {});
    this.udp.kill("SIGKILL");
    await this.udp.output();
  }
}

type Runner = (sock: string, opts: BootOptions) => Promise<GuestResult>;

async function qemuRunner(sock: string, opts: BootOptions): Promise<GuestResult> {
  return await bootGuest(await guestImage(), sock, opts);
}

/** A passt (ours or Debian's) in the foreground on `sock`; its output is collected. */
class Passt {
  readonly child: Deno.ChildProcess;
  readonly output: Promise<Deno.CommandOutput>;

  constructor(bin: string, readonly sock: string, args: string[]) {
    this.child = spawn([bin, "-f", "--socket", sock, ...args]);
    this.output = this.child.output();
  }

  async ready(): Promise<void> {
    const ok = await waitFor(() => exists(this.sock), 20_000);
    if (!ok) assert.fail(`passt did not bind ${this.sock}: ${await this.stop()}`);
  }

  /** Stops it (if still running) and returns its standard error. */
  async stop(): Promise<string> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const out = await this.output;
    return new TextDecoder().decode(out.stderr);
  }
}

function tmpSock(tag: string): { dir: string; sock: string } {
  // Debian's passt binds its socket after changing to nobody.
  const dir = scratchDir(`passt-${tag}-`);
  return { dir, sock: `${dir}/s` };
}

/**
 * Runs `fn` with `bin` in the foreground on a fresh socket (`tag` names its
 * directory) once it is bound; then stops it and returns its standard error.
 */
async function withPasst(
  bin: string,
  tag: string,
  args: string[],
  fn: (p: Passt) => Promise<void>,
): Promise<string> {
  const { dir, sock } = tmpSock(tag);
  const p = new Passt(bin, sock, args);
  let log = "";
  try {
    await p.ready();
    await fn(p);
  } finally {
    log = await p.stop();
    Deno.removeSync(dir, { recursive: true });
  }
  return log;
}

/** Asserts the checks of a short run: DHCP lease and ping to the router. */
function assertShort(r: GuestResult, hv: HostView, what: string): void {
  const ctx = `${what} (console follows)\n${r.console.slice(-4000)}`;
  assert.equal(r.checks.get("done"), "", `guest did not finish: ${ctx}`);
  const dhcp = r.checks.get("dhcp") ?? "";
  assert.match(dhcp, new RegExp(`\\bip=${hv.ip.replaceAll(".", "\\.")}\\b`), ctx);
  assert.match(dhcp, new RegExp(`\\brouter=${hv.router.replaceAll(".", "\\.")}\\b`), ctx);
  assert.match(dhcp, new RegExp(`\\bdns=${hv.dns.replaceAll(".", "\\.")}\\b`), ctx);
  assert.match(dhcp, /\bmtu=65520\b/, ctx);
  assert.equal(r.checks.get("ping"), "ok", ctx);
}

/** Asserts the full checks: the short ones, then data both ways, UDP and IPv6. */
async function assertFull(
  r: GuestResult,
  hv: HostView,
  srv: HostServers,
  what: string,
): Promise<void> {
  assertShort(r, hv, what);
  const ctx = `${what}\n${r.console.slice(-4000)}`;
  assert.equal(r.checks.get("http"), await sha256(srv.blob), `16 MiB download: ${ctx}`);
  // Debian's passt (2023) stalls forwarding into a TCG guest after the first
  // 64 KiB (seen here, every run): for it, the forwarded data must only start
  // arriving intact; ours must deliver all of it.
  const fwd = r.checks.get("fwd") ?? "";
  if (what.includes("Debian")) assert.match(fwd, /^[1-9]\d* /, `-t forwarding: ${ctx}`);
  else if (what.includes("upstream's passt")) {
    // Upstream's passt --vhost-user ended this stream early in 2 of about 8
    // runs of the day (4082661 of 4194304 bytes, then FIN): what arrived must
    // be the stream's start, intact, which is what proves our front end.
    const [len, sum] = fwd.split(" ");
    const n = Number(len);
    assert.ok(n > 0 && n <= FWD_LEN, `-t forwarding: ${ctx}`);
    assert.equal(sum, await sha256(srv.fwdData.subarray(0, n)), `-t data intact: ${ctx}`);
  } else {
    assert.equal(fwd, `${FWD_LEN} ${await sha256(srv.fwdData)}`, `4 MiB through -t: ${ctx}`);
  }
  assert.equal(r.checks.get("udp"), "echo:udp-echo-check", `UDP echo: ${ctx}`);
  const a6 = r.checks.get("ipv6") ?? "none";
  assert.notEqual(a6, "none", `no IPv6 address from the router advertisement: ${ctx}`);
  if (hv.prefix6) {
    assert.equal(expand6(a6.split("/")[0]!).slice(0, 4).join(":"), hv.prefix6, ctx);
  }
  assert.equal(r.checks.get("ping6"), "ok", `ping to the IPv6 router: ${ctx}`);
}

/** Runs the full checks through `run` against `bin` (ours or Debian's passt). */
async function fullRun(
  bin: string,
  run: Runner,
  what: string,
  extra: string[] = [],
): Promise<void> {
  const hv = hostView();
  const srv = new HostServers();
  try {
    const args = ["-t", String(srv.fwdPort), ...hv.dnsArgs, ...extra];
    const log = await withPasst(bin, "full", args, async ({ sock }) => {
      const t0 = performance.now();
      const r = await run(sock, {
        params: srv.params(),
        timeoutMs: 180_000,
        onCheck: async (name) => {
          if (name === "listening") await srv.sendForwarded();
        },
      });
      console.log(`${what}: guest done in ${Math.round(performance.now() - t0)} ms`);
      await assertFull(r, hv, srv, what);
      if (bin === PASST) {
        // Without --one-off, passt waits for the next QEMU on the same socket.
        const again = await run(sock, { params: { checks: "short" }, timeoutMs: 120_000 });
        assertShort(again, hv, `${what}, second guest on the same socket`);
      }
    });
    if (bin === PASST) assert.match(log, /UNIX domain socket bound at /);
  } finally {
    await srv.close();
  }
}

async function qemuVhostUser(sock: string, opts: BootOptions): Promise<GuestResult> {
  return await bootGuest(await guestImage(), sock, { ...opts, vhostUser: true });
}

Deno.test({
  name: "passt e2e: QEMU guest (TCG) over vhost-user on upstream's passt (proves the test)",
  ignore: qemuMissing !== null || noUpstream,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    fullRun(UPSTREAM_PASST, qemuVhostUser, "QEMU vhost-user guest on upstream's passt", [
      "--vhost-user",
    ]),
});

Deno.test({
  name: "passt e2e: QEMU guest (TCG) over vhost-user: DHCP, ping, 16 MiB, 4 MiB via -t, UDP, SLAAC",
  ignore: qemuMissing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => fullRun(PASST, qemuVhostUser, "QEMU vhost-user guest on our passt", ["--vhost-user"]),
});

const vuBridge = (flags: string[]): Runner => (sock, opts) => vuBridgeChecks(sock, opts, flags);

Deno.test({
  name: "passt e2e: vhost-user front end bridged to upstream's passt --vhost-user (proves it)",
  ignore: noRoot || noUpstream,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    fullRun(UPSTREAM_PASST, vuBridge([]), "vhost-user bridge on upstream's passt", [
      "--vhost-user",
    ]),
});

Deno.test({
  name: "passt e2e: vhost-user: namespace bridged over the virtqueues, same checks as the guest",
  ignore: noRoot,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => fullRun(PASST, vuBridge([]), "vhost-user bridge on our passt", ["--vhost-user"]),
});

Deno.test({
  name: "passt e2e: vhost-user: indirect split chains, no event index, one buffer per frame",
  ignore: noRoot,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    fullRun(
      PASST,
      vuBridge(["--indirect", "--split", "--no-event-idx", "--no-mrg"]),
      "vhost-user bridge (indirect, split, no event index, no mergeable buffers) on our passt",
      ["--vhost-user"],
    ),
});

/** With --one-off, passt exits 0 once its guest has gone. */
async function oneOffRun(run: Runner): Promise<void> {
  const hv = hostView();
  await withPasst(PASST, "oneoff", ["--one-off", ...hv.dnsArgs], async (p) => {
    const r = await run(p.sock, { params: { checks: "short" }, timeoutMs: 120_000 });
    assertShort(r, hv, "--one-off guest");
    const status = await Promise.race([p.child.status, sleep(10_000).then(() => null)]);
    assert.ok(status, "passt --one-off still running after its guest exited");
    assert.equal(status.code, 0);
  });
}

Deno.test({
  name: "passt e2e: QEMU guest (TCG): DHCP, ping, 16 MiB download, 4 MiB via -t, UDP, SLAAC",
  ignore: qemuMissing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => fullRun(PASST, qemuRunner, "QEMU guest on our passt"),
});

Deno.test({
  name: "passt e2e: QEMU guest on Debian's passt (proves the test)",
  ignore: qemuMissing !== null || noDebianPasst,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => fullRun(DEBIAN_PASST, qemuRunner, "QEMU guest on Debian's passt"),
});

Deno.test({
  name: "passt e2e: --one-off exits after its QEMU guest",
  ignore: qemuMissing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => oneOffRun(qemuRunner),
});

Deno.test({
  name: "passt e2e: namespace bridged to the socket: same checks as the guest",
  ignore: noRoot,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => fullRun(PASST, bridgeChecks, "bridged namespace on our passt"),
});

Deno.test({
  name: "passt e2e: namespace bridged to Debian's passt (proves the checks)",
  // Short checks pass; the full run stalls in the bridge with Debian's passt
  // (under investigation), so it runs only on request.
  ignore: noRoot || noDebianPasst || !Deno.env.get("PASST_E2E_DEBIAN_BRIDGE"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => fullRun(DEBIAN_PASST, bridgeChecks, "bridged namespace on Debian's passt"),
});

Deno.test({
  name: "passt e2e: --one-off exits after its bridged client",
  ignore: noRoot,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => oneOffRun(bridgeChecks),
});

/** Runs the frame peer; returns its output lines and status. */
async function peer(args: string[], rootless = false): Promise<{
  code: number;
  out: string;
  err: string;
}> {
  const c = spawn(["python3", PEER, ...args], { rootless });
  const timer = setTimeout(() => c.kill("SIGKILL"), 60_000);
  const o = await c.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

const ARP_REPLY = /^arp-reply ([0-9a-f:]{17}) (\S+)$/m;

/**
 * A test with the python peer (skipped without python3), given the host's view of
 * the network; it leaves the ops and resources of the children it spawns alone.
 */
function peerTest(name: string, fn: (hv: HostView) => Promise<void>): void {
  Deno.test({
    name,
    ignore: noPython,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => fn(hostView()),
  });
}

peerTest(
  "passt e2e: a second client is accepted and closed while the first stays connected",
  async (hv) => {
    const log = await withPasst(PASST, "second", [], async ({ sock }) => {
      const r = await peer(["second", sock, hv.router]);
      assert.equal(r.code, 0, r.out + r.err);
      const lines = r.out.trim().split("\n");
      assert.equal(lines.length, 3, r.out);
      assert.match(lines[0]!, ARP_REPLY);
      assert.equal(lines[1], "second closed");
      assert.match(lines[2]!, ARP_REPLY);
      // And the listening socket still takes the next client.
      const again = await peer(["connect", sock, hv.router]);
      assert.match(again.out, ARP_REPLY);
    });
    assert.match(log, /already connected/);
  },
);

peerTest(
  "passt e2e: --fd 3 with an inherited socketpair end (QEMU 10.1), daemon with --pid",
  async (hv) => {
    const dir = scratchDir("passt-fd-");
    try {
      const pidFile = `${dir}/pid`;
      const r = await peer(
        ["spawn", hv.router, PASST, "--quiet", "--pid", pidFile, "--fd", "3"],
        asVmUser,
      );
      assert.match(r.out, ARP_REPLY, r.out + r.err);
      // The launcher (the parent) returned 0 once the daemon was ready.
      assert.match(r.out, /^exit 0$/m, r.out + r.err);
      const pid = Number(Deno.readTextFileSync(pidFile).trim());
      assert.ok(pid > 1);
      // --fd implies --one-off: the daemon goes when we close our end.
      assert.ok(await exited(pid, 10_000), "passt --fd still running");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

peerTest("passt e2e: --fd 3 in the foreground exits 0 when the peer closes", async (hv) => {
  const r = await peer(["spawn", hv.router, PASST, "-f", "--quiet", "--fd", "3"]);
  assert.match(r.out, ARP_REPLY, r.out + r.err);
  assert.match(r.out, /^exit 0$/m, r.out + r.err);
});

peerTest("passt e2e: libvirt's command line (--one-off --socket --mac-addr --pid)", async (hv) => {
  const { dir, sock } = tmpSock("libvirt");
  try {
    const pidFile = `${dir}/pid`;
    const args = ["--one-off", "--socket", sock, "--mac-addr", "52:54:00:f8:03:a6"];
    const start = spawn([PASST, ...args, "--pid", pidFile], { rootless: asVmUser });
    const st = await start.output();
    const errText = new TextDecoder().decode(st.stderr);
    assert.equal(st.code, 0, errText);
    assert.ok(exists(sock), "socket not there when the parent returned");
    const pid = Number(Deno.readTextFileSync(pidFile).trim());
    assert.ok(alive(pid), "daemon not running");
    // The peer checks that the reply is addressed to 52:54:00:f8:03:a6.
    const r = await peer(["connect", sock, hv.router]);
    assert.match(r.out, ARP_REPLY, r.out + r.err);
    assert.ok(await exited(pid, 10_000), "--one-off daemon still running");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

peerTest(
  "qrap: probes passt, gives a stand-in QEMU the socket as fd 5, frames flow",
  async (hv) => {
    await withPasst(PASST, "qrap", [], async ({ sock }) => {
      const c = spawn([QRAP, "5", "python3", PEER, "fd", "5", hv.router], {
        env: { PASST_SOCKET: sock },
      });
      const o = await c.output();
      const out = new TextDecoder().decode(o.stdout);
      assert.equal(o.code, 0, out + new TextDecoder().decode(o.stderr));
      assert.match(out, ARP_REPLY);
      assert.equal(out.match(ARP_REPLY)![2], hv.router);
    });
  },
);

/** Whether a listener accepts a connection at the UNIX socket `path` (closed at once). */
async function accepts(path: string): Promise<boolean> {
  try {
    (await Deno.connect({ transport: "unix", path })).close();
    return true;
  } catch {
    return false;
  }
}

peerTest(
  "qrap: finds passt at the default /tmp/passt_N.socket; fails cleanly with none",
  async (hv) => {
    const c = spawn([PASST, "-f"]);
    const output = c.output();
    try {
      // The first default path that accepts a connection: a file alone may be
      // a stale socket of an earlier run, which qrap would skip as refused
      let path = "";
      const end = Date.now() + 20_000;
      while (!path && Date.now() < end) {
        await sleep(100);
        for (let n = 1; n < 100 && !path; n++) {
          const cand = `/tmp/passt_${n}.socket`;
          if (exists(cand) && await accepts(cand)) path = cand;
        }
      }
      assert.ok(path, "passt bound no /tmp/passt_N.socket");
      const q = spawn([QRAP, "5", "python3", PEER, "fd", "5", hv.router]);
      const o = await q.output();
      const out = new TextDecoder().decode(o.stdout);
      assert.equal(o.code, 0, out + new TextDecoder().decode(o.stderr));
      assert.match(out, ARP_REPLY);
    } finally {
      c.kill("SIGTERM");
      await output;
    }
    const none = spawn([QRAP, "5", "true"], { env: { PASST_SOCKET: "/nonexistent/sock" } });
    const o = await none.output();
    assert.equal(o.code, 1);
    assert.match(new TextDecoder().decode(o.stderr), /Probe of passt instances failed/);
  },
);
