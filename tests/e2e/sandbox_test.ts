// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of the daemon and its sandbox: pasta joins a `--netns`
 * path target in daemon mode (as root, and rootless inside a user and mount
 * namespace of the unprivileged test user, which is where such a path
 * target lives for Podman), then every thread of the daemon is checked for
 * seccomp, no new privileges, no capabilities and an empty root, traffic is
 * checked through the sandboxed daemon, and the namespace's deletion ends it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  exited,
  freePort,
  have,
  isRoot,
  PASST,
  PASTA,
  prepareRootless,
  run,
  spawn,
  TESTER,
} from "../_helpers/e2e.ts";
import { alive } from "../_helpers/e2e.ts";

const canRun = isRoot() && have("ip") && have("unshare") && have("socat");

/** Per-thread sandbox state of a running process, from /proc/PID/task/STAR/status. */
function threadStates(pid: number): { tid: string; status: Record<string, string> }[] {
  const out = [];
  for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/status`);
    const status: Record<string, string> = {};
    for (const line of text.split("\n")) {
      const i = line.indexOf(":");
      if (i > 0) status[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    out.push({ tid: e.name, status });
  }
  return out;
}

function assertSandboxed(pid: number): void {
  const threads = threadStates(pid);
  assert.ok(threads.length > 2, "the runtime's threads are there");
  for (const { tid, status } of threads) {
    assert.equal(status["Seccomp"], "2", `thread ${tid} has the seccomp filter`);
    assert.equal(status["NoNewPrivs"], "1", `thread ${tid} has no_new_privs`);
    assert.equal(BigInt("0x" + status["CapEff"]), 0n, `thread ${tid} has no capabilities`);
    assert.equal(BigInt("0x" + status["CapBnd"]), 0n, `thread ${tid} has an empty bounding set`);
    assert.deepEqual(
      [...Deno.readDirSync(`/proc/${pid}/task/${tid}/root/`)],
      [],
      `thread ${tid} sees an empty root`,
    );
  }
}

/** PIDs of the children of `pid` (all its threads'). */
/**
 * Starts the echo server `server`, gives it `settleMs` to listen, sends `text`
 * through the client `client` and asserts that the same text comes back.
 */
async function assertEchoes(
  server: string[],
  settleMs: number,
  client: string[],
  text: string,
  what: string,
): Promise<void> {
  const srv = spawn(server);
  await new Promise((r) => setTimeout(r, settleMs));
  const r = await run(client, { stdin: text });
  await srv.output();
  assert.equal(r.stdout, text, what);
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/children`).trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/**
 * The namespace socket server of pasta `pid`: a small program of its own in
 * an empty root, with seccomp, no new privileges, at most
 * CAP_NET_BIND_SERVICE, and little memory (not a copy of the runtime).
 */
export function assertServerSandboxed(pid: number): void {
  const srv = children(pid).filter((c) =>
    Deno.readTextFileSync(`/proc/${c}/comm`).trim() === "passt-helper"
  );
  assert.equal(srv.length, 1, "one namespace socket server, the passt-helper program");
  const threads = threadStates(srv[0]!);
  assert.equal(threads.length, 1, "single-threaded");
  const st = threads[0]!.status;
  assert.equal(st["Seccomp"], "2", "server has a seccomp filter");
  assert.equal(st["NoNewPrivs"], "1", "server has no_new_privs");
  assert.ok((BigInt("0x" + st["CapEff"]) & ~(1n << 10n)) === 0n, "at most CAP_NET_BIND_SERVICE");
  assert.equal(BigInt("0x" + st["CapBnd"]), 0n, "empty bounding set");
  assert.deepEqual([...Deno.readDirSync(`/proc/${srv[0]}/root/`)], [], "server sees an empty root");
  const rss = Number(st["VmRSS"]!.split(/\s+/)[0]);
  assert.ok(rss < 4096, `server resident memory ${rss} kB`);
}

/**
 * Starts pasta as a daemon for a named network namespace of its own
 * (`--config-net --netns NAME --pid FILE`, then `args`), runs `body` with its
 * PID and the namespace's name, then cleans up: the daemon if it still runs,
 * the namespace, the PID file.
 */
async function withDaemon(
  prefix: string,
  args: string[],
  body: (daemon: number, name: string) => Promise<void>,
): Promise<void> {
  const name = `${prefix}${Deno.pid}`;
  await run(["ip", "netns", "add", name]);
  const pidFile = await Deno.makeTempFile();
  let daemon = 0;
  try {
    const r = await run([PASTA, "--config-net", "--netns", name, "--pid", pidFile, ...args]);
    assert.equal(r.code, 0, r.stderr);
    daemon = Number(Deno.readTextFileSync(pidFile).trim());
    await body(daemon, name);
  } finally {
    if (daemon && alive(daemon)) Deno.kill(daemon, "SIGKILL");
    await run(["ip", "netns", "del", name]);
    Deno.removeSync(pidFile);
  }
}

Deno.test({
  name:
    "sandbox: pasta --netns daemon (root) is isolated, forwards traffic, quits with its namespace",
  ignore: !canRun,
  async fn(): Promise<void> {
    const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (server.addr as Deno.NetAddr).port;
    const fwdIn = freePort();
    const fwdOut = freePort();
    // -t from the host's loopback reaches the namespace's loopback (upstream
    // 2026 targets the namespace's address unless asked)
    const args = ["-d", "-t", String(fwdIn), "-T", String(fwdOut), "--host-lo-to-ns-lo"];
    await withDaemon("sbx", args, async (daemon, name) => {
      assert.ok(alive(daemon), "the PID file holds a live daemon");
      assertSandboxed(daemon);
      const uid = threadStates(daemon)[0]!.status["Uid"]!.split(/\s+/)[1];
      assert.equal(uid, "65534", "root becomes nobody");

      const route = await run([
        "ip",
        "netns",
        "exec",
        name,
        "ip",
        "-4",
        "route",
        "show",
        "default",
      ]);
      const gw = route.stdout.split(/\s+/)[2]!;
      assert.match(gw, /^\d+\.\d+\.\d+\.\d+$/, "the namespace has a default route");
      // ICMP
      const ping = await run(["ip", "netns", "exec", name, "ping", "-c", "1", "-W", "2", gw]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      // TCP to a host loopback server through the gateway
      const accepted = (async () => {
        const c = await server.accept();
        const buf = new Uint8Array(16);
        const n = await c.read(buf);
        await c.write(new TextEncoder().encode("pong"));
        c.close();
        return new TextDecoder().decode(buf.subarray(0, n ?? 0));
      })();
      const tcp = await run(
        ["ip", "netns", "exec", name, "socat", "-t", "2", "-", `TCP:${gw}:${port}`],
        { stdin: "ping" },
      );
      assert.equal(tcp.stdout, "pong", "TCP reply comes back");
      assert.equal(await accepted, "ping", "TCP data reaches the host");
      // UDP echo through the gateway
      const uport = freePort();
      await assertEchoes(
        ["socat", "-T", "5", `UDP4-RECVFROM:${uport},bind=127.0.0.1`, "EXEC:cat"],
        200,
        ["ip", "netns", "exec", name, "socat", "-t", "2", "-", `UDP:${gw}:${uport}`],
        "hello",
        "UDP echo comes back",
      );

      // Spliced TCP, both ways: 127.0.0.1 -> -t port -> the namespace's loopback
      // (a socket the daemon gets from its namespace helper), and -T back.
      const listen = (port: number): string[] => [
        "socat",
        "-T",
        "5",
        `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
        "EXEC:cat",
      ];
      const inNs = ["ip", "netns", "exec", name];
      await assertEchoes(
        ["timeout", "10", ...inNs, ...listen(fwdIn)],
        300,
        ["socat", "-t", "2", "-", `TCP:127.0.0.1:${fwdIn}`],
        "spliced-in",
        "spliced -t connection echoes",
      );
      await assertEchoes(
        ["timeout", "10", ...listen(fwdOut)],
        300,
        [...inNs, "socat", "-t", "2", "-", `TCP:127.0.0.1:${fwdOut}`],
        "spliced-out",
        "spliced -T connection echoes",
      );

      assert.ok(alive(daemon), "still running after traffic");
      assertSandboxed(daemon);
      assertServerSandboxed(daemon);
      await run(["ip", "netns", "del", name]);
      assert.ok(await exited(daemon, 2000), "daemon exits within 2 s of the deletion");
    }).finally(() => server.close());
  },
});

Deno.test({
  name: "sandbox: --no-netns-quit keeps running until SIGTERM; --runas sets the uid",
  ignore: !canRun,
  async fn(): Promise<void> {
    await withDaemon("sbq", ["--no-netns-quit", "--runas", "12345:12345"], async (daemon, name) => {
      assertSandboxed(daemon);
      const ids = threadStates(daemon)[0]!.status;
      assert.equal(ids["Uid"]!.split(/\s+/)[1], "12345");
      assert.equal(ids["Gid"]!.split(/\s+/)[1], "12345");
      await run(["ip", "netns", "del", name]);
      assert.equal(await exited(daemon, 1500), false, "still running without its namespace");
      Deno.kill(daemon, "SIGTERM");
      assert.ok(await exited(daemon, 2000), "SIGTERM ends it");
    });
  },
});

Deno.test({
  name: "sandbox: rootless pasta --netns daemon inside the user's namespaces",
  ignore: !canRun || !prepareRootless(),
  async fn(): Promise<void> {
    const pidFile = `/tmp/sbx-rootless-${Deno.pid}.pid`;
    // The user's own user and mount namespace holds the netns file, as with
    // Podman; the script reports the daemon's PID, then waits for a line.
    const script = [
      "set -e",
      "mount -t tmpfs tmpfs /run",
      "unshare -n sleep 100 & sleeper=$!",
      "sleep 0.3",
      "touch /run/t",
      "mount --bind /proc/$sleeper/ns/net /run/t",
      `${PASTA} --config-net --netns /run/t --pid ${pidFile}`,
      `echo daemon $(cat ${pidFile})`,
      "gw=$(nsenter --net=/run/t ip -4 route show default | cut -d' ' -f3)",
      "nsenter --net=/run/t ping -c 1 -W 2 $gw >/dev/null && echo ping ok",
      "read line",
      "umount /run/t",
      "rm /run/t",
      "kill $sleeper",
      "sleep 3",
    ].join("\n");
    const child = new Deno.Command("setpriv", {
      args: [
        `--reuid=${TESTER}`,
        `--regid=${TESTER}`,
        "--init-groups",
        "unshare",
        "-rm",
        "sh",
        "-c",
        script,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { HOME: "/tmp", PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    }).spawn();
    const reader = child.stdout.getReader();
    let text = "";
    let daemon = 0;
    try {
      while (!text.includes("ping") && !text.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        const m = text.match(/daemon (\d+)/);
        if (m) daemon = Number(m[1]);
      }
      assert.ok(daemon > 0, `daemon started: ${text}`);
      assert.match(text, /ping ok/);
      assertSandboxed(daemon);
      assertServerSandboxed(daemon);
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode("\n"));
      await w.close();
      assert.ok(await exited(daemon, 2500), "daemon exits when its namespace is deleted");
      daemon = 0;
    } finally {
      if (daemon && alive(daemon)) Deno.kill(daemon, "SIGKILL");
      reader.releaseLock();
      await child.stdout.cancel();
      const out = await child.output().catch(() => null);
      void out;
    }
  },
});

/** Starts `argv`; resolves once its standard output has printed `marker`. */
async function startUntil(
  argv: string[],
  marker: string,
  rootless: boolean,
): Promise<{ child: Deno.ChildProcess; text: () => string }> {
  const child = spawn(argv, { rootless, stdin: "" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { child, text: () => text };
}

/**
 * Ends a pasta started by {@linkcode startUntil}: its input first, as the
 * command outlives a killed pasta while that is open, then pasta itself.
 */
async function endChild(child: Deno.ChildProcess): Promise<void> {
  await child.stdin.close().catch(() => null);
  try {
    child.kill("SIGKILL");
  } catch {
    // exited
  }
  await child.output().catch(() => null);
}

for (const rl of [false, true]) {
  const label = rl ? "rootless" : "root";
  Deno.test({
    name: `sandbox: pasta -- cmd in the foreground is isolated like the daemon (${label})`,
    ignore: !canRun || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      // The command runs once set-up and isolation are done; it waits for
      // its standard input (pasta's, a pipe of ours) to end
      const { child, text } = await startUntil(
        [PASTA, "--config-net", "--", "sh", "-c", "ip -br link; echo ready; read x; exit 3"],
        "ready",
        rl,
      );
      try {
        assert.match(text(), /ready/, "the command runs");
        const pid = child.pid;
        assertSandboxed(pid);
        assertServerSandboxed(pid);
        const st = threadStates(pid)[0]!.status;
        const uid = st["Uid"]!.split(/\s+/)[1];
        if (!rl) assert.equal(uid, "65534", "root becomes nobody in the foreground too");
        assert.notEqual(
          Deno.readLinkSync(`/proc/${pid}/ns/mnt`),
          Deno.readLinkSync("/proc/self/ns/mnt"),
          "a mount namespace of its own",
        );
        await child.stdin.close();
        const out = await child.output();
        assert.equal(out.code, 3, "pasta exits with the command's status");
        // Upstream's warning for root, and nothing else
        const err = new TextDecoder().decode(out.stderr).replace(/^.*change to nobody.*\n/m, "");
        assert.equal(err, "", "nothing else on stderr");
      } finally {
        await endChild(child);
      }
    },
  });

  Deno.test({
    name:
      `sandbox: pasta's socket server holds the tap device and ends with pasta, killed (${label})`,
    ignore: !canRun || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const { child } = await startUntil(
        [PASTA, "--config-net", "--", "sh", "-c", "echo ready; read x"],
        "ready",
        rl,
      );
      try {
        const srv = children(child.pid).find((c) =>
          Deno.readTextFileSync(`/proc/${c}/comm`).trim() === "passt-helper"
        );
        assert.ok(srv !== undefined, "the namespace socket server runs");
        const files = [...Deno.readDirSync(`/proc/${srv}/fd`)].map((e) =>
          Deno.readLinkSync(`/proc/${srv}/fd/${e.name}`)
        );
        // Its exit, not ours, then pays for the tap device's last close
        assert.ok(files.includes("/dev/net/tun"), `server descriptors: ${files.join(" ")}`);
        // No PR_SET_PDEATHSIG: end of file on its socket ends it, however pasta ends
        child.kill("SIGKILL");
        for (let t = 0; t < 250 && alive(srv); t++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(!alive(srv), "the server ends with pasta");
      } finally {
        await endChild(child);
      }
    },
  });

  Deno.test({
    name: `sandbox: passt -f is isolated like the daemon (${label})`,
    ignore: !canRun || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const dir = `/tmp/passt-fg-${Deno.pid}-${label}`;
      Deno.mkdirSync(dir, { recursive: true });
      Deno.chmodSync(dir, 0o777);
      const child = spawn([PASST, "-f", "-s", `${dir}/s`], { rootless: rl });
      try {
        // Ready once the socket accepts connections and the loop runs
        for (let t = 0; t < 200; t++) {
          try {
            (await Deno.connect({ transport: "unix", path: `${dir}/s` })).close();
            if (threadStates(child.pid)[0]!.status["Seccomp"] === "2") break;
          } catch {
            // not yet
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        assertSandboxed(child.pid);
        const uid = threadStates(child.pid)[0]!.status["Uid"]!.split(/\s+/)[1];
        if (!rl) assert.equal(uid, "65534", "root becomes nobody in the foreground too");
      } finally {
        child.kill("SIGKILL");
        await child.output().catch(() => null);
        Deno.removeSync(dir, { recursive: true });
      }
    },
  });
}
