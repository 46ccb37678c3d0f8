// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of pasta's namespace set-up and guest-facing responders,
 * with real clients (ip, udhcpc, rdisc6, dhclient, ping) in namespaces that the
 * tests create, as root and as an unprivileged user.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  assertExits,
  have,
  isRoot,
  keyValues,
  label,
  PASTA,
  pastaSh,
  prepareRootless,
  REPO,
  run,
  spawn,
} from "../_helpers/e2e.ts";
import { formatIp6, parseIp6 } from "../../src/ip.ts";

interface HostNet {
  ifname: string;
  addr4: string;
  prefix4: number;
  gw4: string;
  addr6: string;
  gw6: string;
}

/** The host's template interface as `ip` sees it (first default route per family). */
async function hostNet(): Promise<HostNet | null> {
  const r4 = JSON.parse((await run(["ip", "-j", "-4", "route", "show", "default"])).stdout || "[]");
  const r6 = JSON.parse((await run(["ip", "-j", "-6", "route", "show", "default"])).stdout || "[]");
  if (!r4.length || !r6.length) return null;
  const ifname = r4[0].dev as string;
  const a = JSON.parse((await run(["ip", "-j", "addr", "show", "dev", ifname])).stdout)[0];
  const v4 = a.addr_info.find((x: { family: string }) => x.family === "inet");
  const v6 = a.addr_info.find((x: { family: string; scope: string }) =>
    x.family === "inet6" && x.scope === "global"
  );
  if (!v4 || !v6) return null;
  return {
    ifname,
    addr4: v4.local,
    prefix4: v4.prefixlen,
    gw4: r4[0].gateway,
    addr6: v6.local,
    gw6: r6[0].gateway,
  };
}

const host = await hostNet();
const canRun = isRoot() && host !== null && have("ip");
const ignore = !canRun;
const rootless = [false, true];

for (const rl of rootless) {
  Deno.test({
    name: `pasta --config-net gives the host's addresses, routes and MTU 65520 (${label(rl)})`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const h = host!;
      const r = await pastaSh(
        ["--config-net"],
        "ip -j addr show; echo ===; ip -j -4 route; echo ===; ip -j -6 route",
        { rootless: rl },
      );
      assert.equal(r.code, 0, r.stderr);
      const [addrs, r4, r6] = r.stdout.split("===\n").map((s) => JSON.parse(s));
      const tap = addrs.find((l: { ifname: string }) => l.ifname === h.ifname);
      assert.ok(tap, `interface ${h.ifname} exists in the namespace`);
      assert.equal(tap.mtu, 65520);
      assert.ok(tap.flags.includes("UP"));
      const lo = addrs.find((l: { ifname: string }) => l.ifname === "lo");
      assert.ok(lo.flags.includes("UP"), "loopback is up");
      const a4 = tap.addr_info.find((x: { family: string }) => x.family === "inet");
      assert.equal(a4.local, h.addr4);
      assert.equal(a4.prefixlen, h.prefix4);
      const a6 = tap.addr_info.find((x: { family: string; scope: string }) =>
        x.family === "inet6" && x.scope === "global"
      );
      assert.equal(a6.local, h.addr6);
      assert.equal(r4.find((x: { dst: string }) => x.dst === "default").gateway, h.gw4);
      assert.equal(r6.find((x: { dst: string }) => x.dst === "default").gateway, h.gw6);
    },
  });

  Deno.test({
    name: `ping to the gateway works in both families, neighbours resolve (${label(rl)})`,
    ignore: ignore || !have("ping") || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const h = host!;
      const r = await pastaSh(
        ["--config-net"],
        `ping -c 3 -i 0.2 -W 2 ${h.gw4} && ping -6 -c 3 -i 0.2 -W 2 ${h.gw6} && ` +
          "echo === && ip -j neigh show",
        { rootless: rl, timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 packets transmitted, 3 received/);
      const neigh = JSON.parse(r.stdout.split("===\n")[1]!);
      const n4 = neigh.find((n: { dst: string }) => n.dst === h.gw4);
      const n6 = neigh.find((n: { dst: string }) => n.dst === h.gw6);
      assert.ok(n4?.lladdr, "IPv4 gateway resolved through ARP");
      assert.ok(n6?.lladdr, "IPv6 gateway resolved through NDP");
    },
  });
}

Deno.test({
  name: "pasta exits with the spawned command's status, and 128+signal when it is killed",
  ignore,
  async fn(): Promise<void> {
    assert.equal((await pastaSh([], "exit 42")).code, 42);
    // The command is PID 1 of its PID namespace: only a signal from outside kills it.
    const child = spawn([PASTA, "-f", "--", "sleep", "60"]);
    let sleeper = 0;
    for (let i = 0; i < 100 && !sleeper; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sleeper = descendant(child.pid, "sleep");
    }
    assert.ok(sleeper > 0, "found the spawned command");
    Deno.kill(sleeper, "SIGKILL");
    assert.equal((await child.output()).code, 137);
    assert.equal((await pastaSh([], "true")).code, 0);
  },
});

for (const rl of rootless) {
  Deno.test({
    name: `the command sees its own /proc and a pasta- hostname, or -H's (${label(rl)})`,
    ignore,
    async fn(): Promise<void> {
      const ours = Deno.hostname();
      const show = "hostname; cat /proc/1/comm; ls -d /proc/[0-9]* | wc -l";
      const r = await pastaSh([], show, { rootless: rl });
      assert.equal(r.code, 0, r.stderr);
      const [name, init, procs] = r.stdout.trim().split("\n");
      assert.equal(name, `pasta-${ours}`.slice(0, 64), "upstream's default hostname");
      assert.equal(init, "sh", "PID 1 of the /proc it sees is the command");
      assert.ok(Number(procs) <= 4, `only its own processes: ${procs}`);
      // (root's notice that it changes to nobody, as upstream's, and nothing else)
      assert.equal(r.stderr.replace(/^.*change to nobody.*\n/m, ""), "", "no warning");
      const h = await pastaSh(["-H", "guest-name"], "hostname", { rootless: rl });
      assert.equal(h.stdout.trim(), "guest-name", "-H names the namespace too");
      assert.equal(ours, Deno.hostname(), "ours is untouched");
    },
  });

  Deno.test({
    name: `udhcpc gets address, router, DNS, search list, MTU, hostname from our DHCP server (${
      label(rl)
    })`,
    ignore: ignore || !have("busybox") || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const h = host!;
      const script = `ip link set ${h.ifname} up; busybox udhcpc -i ${h.ifname} -n -q -f ` +
        `-O search -O mtu -s ${REPO}/tests/e2e/udhcpc_env.sh`;
      for (const mtu of [null, 1500]) {
        const args = ["-D", "192.0.2.53", "-S", "example.org", "--dhcp-dns", "--dhcp-search"];
        if (mtu) args.push("-m", String(mtu), "-H", "box");
        const r = await pastaSh(args, script, { timeoutMs: 30_000, rootless: rl });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const env = keyValues(r.stdout);
        assert.equal(env.ip, h.addr4);
        assert.equal(env.router, h.gw4);
        assert.equal(env.dns, "192.0.2.53");
        assert.equal(env.search, "example.org");
        assert.equal(env.mtu, String(mtu ?? 65520));
        assert.equal(env.hostname, mtu ? "box" : "", "option 12 from -H");
        assert.equal(Number(env.mask), h.prefix4);
      }
    },
  });

  Deno.test({
    name: `rdisc6 sees the prefix, MTU, RDNSS and DNSSL; dhclient -6 gets the host's address (${
      label(rl)
    })`,
    ignore: ignore || !have("rdisc6") || !have("dhclient") || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const h = host!;
      const w = parseIp6(h.addr6)!;
      const prefix = formatIp6(new Uint32Array([w[0]!, w[1]!, 0, 0]));
      const script = `ip link set ${h.ifname} up; sleep 2.5; rdisc6 -1 ${h.ifname}; ` +
        `dhclient -6 -1 -v -sf ${REPO}/tests/e2e/dhclient_script.sh -lf /dev/null ` +
        `-pf /tmp/dhclient6.$$.pid ${h.ifname} 2>/dev/null; ` +
        `kill $(cat /tmp/dhclient6.$$.pid) 2>/dev/null; ip -j -6 addr show dev ${h.ifname}`;
      const r = await pastaSh(
        ["-D", "2001:db8::53", "-S", "example.org", "--dhcp-dns", "--dhcp-search"],
        script,
        { timeoutMs: 60_000, rootless: rl },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Stateful address conf\.\s*:\s*Yes/);
      assert.ok(
        r.stdout.includes(`Prefix                   : ${prefix.replace(/:0+/g, ":")}`) ||
          r.stdout.includes(`Prefix                   : ${prefix}`),
      );
      assert.match(r.stdout, /MTU\s*:\s*65520 bytes/);
      assert.match(r.stdout, /Recursive DNS server\s*:\s*2001:db8::53/);
      assert.match(r.stdout, /DNS search list\s*:\s*example\.org/);
      const addrs = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf("\n[")));
      const got = addrs[0].addr_info.map((a: { local: string; prefixlen: number }) =>
        `${a.local}/${a.prefixlen}`
      );
      assert.ok(got.includes(`${h.addr6}/128`), `DHCPv6 address in ${got}`);
    },
  });
}

Deno.test({
  name: "pasta joins a PID target and a --netns path target",
  ignore: ignore || !have("unshare"),
  async fn(): Promise<void> {
    const h = host!;
    // PID target: a process in its own user and network namespace; pasta
    // returns once the namespace is configured, and exits with the process.
    const holder = new Deno.Command("unshare", {
      args: ["-Urn", "sh", "-c", "echo $$; exec sleep 60"],
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    const pid = Number(new TextDecoder().decode((await reader.read()).value).trim());
    reader.releaseLock();
    const pidFile0 = await Deno.makeTempFile();
    try {
      const r = await run([PASTA, "--config-net", "--pid", pidFile0, String(pid)]);
      assert.equal(r.code, 0, r.stderr);
      const n = await run([
        "nsenter",
        "-t",
        String(pid),
        "-U",
        "-n",
        "--preserve-credentials",
        "ip",
        "-j",
        "addr",
        "show",
        "dev",
        h.ifname,
      ]);
      assert.ok(n.stdout.includes(h.addr4), n.stdout + n.stderr);
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel();
      const daemon = Number(Deno.readTextFileSync(pidFile0).trim() || "0");
      if (daemon > 0) {
        await assertExits(daemon, 5000, "daemon exits once its target process is gone");
      }
      Deno.removeSync(pidFile0);
    }
    // --netns path target, daemon mode.
    const name = `pastatest${Deno.pid}`;
    await run(["ip", "netns", "add", name]);
    const pidFile = await Deno.makeTempFile();
    try {
      const r = await run([PASTA, "--config-net", "--netns", name, "--pid", pidFile]);
      assert.equal(r.code, 0, r.stderr);
      const a = await run(["ip", "-n", name, "-j", "addr", "show", "dev", h.ifname]);
      assert.ok(a.stdout.includes(h.addr4), a.stdout);
      const p = await run(["ip", "netns", "exec", name, "ping", "-c", "1", "-W", "2", h.gw4]);
      assert.equal(p.code, 0, p.stdout);
    } finally {
      const daemon = Number(Deno.readTextFileSync(pidFile).trim() || "0");
      await run(["ip", "netns", "del", name]);
      if (daemon > 0) await assertExits(daemon, 5000, "daemon exits once its namespace is deleted");
      Deno.removeSync(pidFile);
    }
  },
});

/** PID of a descendant of `pid` whose command name is `comm`, or 0. */
function descendant(pid: number, comm: string): number {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const st = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const m = /^(\d+) \((.*)\) \S+ (\d+)/.exec(st);
      if (m) {
        parent.set(Number(m[1]), Number(m[3]));
        names.set(Number(m[1]), m[2]!);
      }
    } catch {
      // gone
    }
  }
  for (const [p, n] of names) {
    if (n !== comm) continue;
    for (let q = parent.get(p); q; q = parent.get(q)) if (q === pid) return p;
  }
  return 0;
}

Deno.test({
  name: "malformed frames injected into the tap device are dropped without a crash",
  ignore: ignore || !have("python3"),
  async fn(): Promise<void> {
    const h = host!;
    const r = await pastaSh(
      ["--config-net"],
      `python3 ${REPO}/tests/e2e/inject_frames.py ${h.ifname} && sleep 0.5 && ` +
        `ping -c 1 -W 2 ${h.gw4} && ping -6 -c 1 -W 2 ${h.gw6}`,
      { timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /sent 520/);
    assert.match(r.stdout, /1 packets transmitted, 1 received/);
  },
});
