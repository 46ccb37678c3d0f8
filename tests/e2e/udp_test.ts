// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of UDP through pasta: socat in the namespace, echo servers
 * and clients on the host's loopback, as root and as an unprivileged user.
 * `E2E_PASTA` may name another pasta launcher to test (default: ours).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  have,
  isRoot,
  PASTA_UNDER_TEST,
  prepareRootless,
  type Result,
  run,
  scratchDir,
  spawn,
} from "../_helpers/e2e.ts";
import { GATEWAYS, label } from "../_helpers/e2e.ts";
import { freeUdpPort, HostSock } from "../_helpers/udp_host.ts";

const bin = PASTA_UNDER_TEST;

const ignore = !isRoot() || !have("socat") || !have("ip");
const modes = [false, true];

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `pasta ARGS -- sh -c SCRIPT`, calling `poll` every few milliseconds on
 * the host side until it exits (killed after `timeoutMs`).
 */
async function pastaPoll(
  args: string[],
  script: string,
  rootless: boolean,
  poll: () => void,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Result> {
  const child = spawn([bin, "-f", ...args, "--", "sh", "-c", script], { rootless, env });
  let done = false;
  const out = child.output().then((o) => {
    done = true;
    return o;
  });
  const end = performance.now() + timeoutMs;
  while (!done) {
    poll();
    if (performance.now() > end) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }
    await delay(2);
  }
  const o = await out;
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

for (const rl of modes) {
  Deno.test({
    name: `udp e2e: echo on the host's loopback via the gateway, IPv4 and IPv6 (${label(rl)})`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const e4 = new HostSock(false, "127.0.0.1");
      const e6 = new HostSock(true, "::1");
      try {
        const r = await pastaPoll(
          ["--config-net"],
          GATEWAYS +
            `echo hello4 | socat -t 3 - UDP4:$GW4:${e4.port}; ` +
            `echo hello6 | socat -t 3 - UDP6:[$GW6]:${e6.port}`,
          rl,
          () => {
            e4.echo();
            e6.echo();
          },
        );
        assert.equal(r.stdout, "hello4\nhello6\n", r.stderr);
      } finally {
        e4.close();
        e6.close();
      }
    },
  });

  Deno.test({
    name: `udp e2e: -u forwards host datagrams into the namespace, replies return (${label(rl)})`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const probe4 = new HostSock(false, "127.0.0.1");
      const p4 = probe4.port;
      probe4.close();
      const probe6 = new HostSock(true, "::1");
      const p6 = probe6.port;
      probe6.close();
      const c4 = new HostSock(false, "127.0.0.1");
      const c6 = new HostSock(true, "::1");
      const got: string[] = [];
      let sent = 0;
      try {
        const r = await pastaPoll(
          ["--config-net", "-u", `${p4}`, "-u", `${p6}:7777`],
          `socat -T 4 UDP4-LISTEN:${p4},fork EXEC:cat & ` +
            `socat -T 4 UDP6-LISTEN:7777,fork EXEC:cat & sleep 4`,
          rl,
          () => {
            // Keep knocking until the namespace side is listening.
            if (got.length < 2 && sent++ % 50 === 0) {
              c4.sendTo(new TextEncoder().encode("fwd4"), "127.0.0.1", p4);
              c6.sendTo(new TextEncoder().encode("fwd6"), "::1", p6);
            }
            for (const [s, port] of [[c4, p4], [c6, p6]] as const) {
              for (let d = s.recv(); d; d = s.recv()) {
                assert.equal(d.port, port, "reply comes from the forwarded port");
                const t = new TextDecoder().decode(d.data);
                if (!got.includes(t)) got.push(t);
              }
            }
          },
        );
        assert.deepEqual(got.sort(), ["fwd4", "fwd6"], r.stderr);
      } finally {
        c4.close();
        c6.close();
      }
    },
  });

  Deno.test({
    name: `udp e2e: pasta's default -u auto follows a socket bound in the namespace (${label(rl)})`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      // auto leaves out the ephemeral range (upstream 2026): a port below it.
      const port = 20000 + Math.floor(Math.random() * 10000);
      new HostSock(false, "127.0.0.1", port).close(); // free on the host
      const client = new HostSock(false, "127.0.0.1");
      let got = "";
      let n = 0;
      try {
        const r = await pastaPoll(
          ["--config-net"],
          `socat -T 5 UDP4-LISTEN:${port},fork EXEC:cat & sleep 5`,
          rl,
          () => {
            if (got === "" && n++ % 50 === 0) {
              client.sendTo(new TextEncoder().encode("auto"), "127.0.0.1", port);
            }
            const d = client.recv();
            if (d) got = new TextDecoder().decode(d.data);
          },
        );
        assert.equal(got, "auto", r.stderr);
      } finally {
        client.close();
      }
    },
  });

  Deno.test({
    name: `udp e2e: two namespace sockets on a port the host also uses both work (${label(rl)})`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const busy = new HostSock(false, "0.0.0.0");
      const port = busy.port;
      const eA = new HostSock(false, "127.0.0.1");
      const eB = new HostSock(true, "::1");
      try {
        // -U none: with the default (auto), pasta would bind the host's busy port
        // on the namespace's loopback too, as upstream does, taking it from socat.
        const r = await pastaPoll(
          ["--config-net", "-U", "none"],
          GATEWAYS +
            `(echo one | socat -t 3 - UDP4:$GW4:${eA.port},sourceport=${port} > /tmp/a.$$) & ` +
            `(echo two | socat -t 3 - UDP6:[$GW6]:${eB.port},sourceport=${port},ipv6-v6only=1 > /tmp/b.$$) & ` +
            `wait; cat /tmp/a.$$ /tmp/b.$$; rm -f /tmp/a.$$ /tmp/b.$$`,
          rl,
          () => {
            for (let d = eA.recv(); d; d = eA.recv()) eA.sendTo(d.data, d.addr, d.port);
            for (let d = eB.recv(); d; d = eB.recv()) eB.sendTo(d.data, d.addr, d.port);
          },
        );
        assert.equal(r.stdout, "one\ntwo\n", r.stderr);
      } finally {
        busy.close();
        eA.close();
        eB.close();
      }
    },
  });

  Deno.test({
    name: `udp e2e: the host port is released after the idle timeout (${label(rl)})`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const port = freeUdpPort("0.0.0.0");
      const echo = new HostSock(false, "127.0.0.1");
      let seen = -1;
      let heldWhileActive = false;
      let freeLater = false;
      try {
        await pastaPoll(
          ["--config-net"],
          GATEWAYS + `echo x | socat -t 1 - UDP4:$GW4:${echo.port},sourceport=${port}; sleep 5`,
          rl,
          () => {
            const d = echo.recv();
            if (d) {
              seen = performance.now();
              echo.sendTo(d.data, d.addr, d.port);
              try {
                new HostSock(false, "0.0.0.0", port).close();
              } catch {
                heldWhileActive = true;
              }
            }
            if (seen > 0 && !freeLater && performance.now() - seen > 3000) {
              try {
                new HostSock(false, "0.0.0.0", port).close();
                freeLater = true;
              } catch {
                // still held
              }
            }
          },
          { PASST_UDP_TIMEOUT_MS: "1000" },
        );
        assert.ok(seen > 0, "datagram reached the host");
        assert.ok(heldWhileActive, "the guest's port was bound on the host while in use");
        assert.ok(freeLater, "the binding was released after the idle timeout");
      } finally {
        echo.close();
      }
    },
  });

  Deno.test({
    name: `udp e2e: a closed port on the host answers port unreachable, IPv4 and IPv6 (${
      label(rl)
    })`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      const p4 = new HostSock(false, "127.0.0.1"), p6 = new HostSock(true, "::1");
      const closed4 = p4.port, closed6 = p6.port;
      p4.close();
      p6.close();
      // socat's connected socket reads the ICMP error as ECONNREFUSED and fails; without
      // the error it would wait out -t and succeed.
      const r = await pastaPoll(
        ["--config-net"],
        GATEWAYS +
          `echo x | socat -t 3 - UDP4:$GW4:${closed4} 2>/dev/null; echo "v4 $?"; ` +
          `echo x | socat -t 3 - UDP6:[$GW6]:${closed6} 2>/dev/null; echo "v6 $?"`,
        rl,
        () => {},
      );
      assert.equal(r.stdout, "v4 1\nv6 1\n", r.stderr);
    },
  });

  Deno.test({
    name: `udp e2e: --dns-forward reaches a resolver on 127.0.0.1:53, reply from the address (${
      label(rl)
    })`,
    ignore: ignore || (rl && !prepareRootless()),
    async fn(): Promise<void> {
      let resolver: HostSock;
      try {
        resolver = new HostSock(false, "127.0.0.1", 53);
      } catch {
        return; // port 53 on loopback is taken on this host: nothing to test against
      }
      try {
        const r = await pastaPoll(
          ["--config-net", "-D", "127.0.0.1", "--dns-forward", "192.0.2.53"],
          "echo query | socat -t 3 - UDP4:192.0.2.53:53",
          rl,
          () => resolver.echo(),
        );
        assert.equal(r.stdout, "query\n", r.stderr);
      } finally {
        resolver.close();
      }
    },
  });
}

Deno.test({
  name: "udp e2e: bursts of equal datagrams bigger than the host path's MTU arrive whole (root)",
  ignore: ignore || !have("unshare") || !have("python3"),
  async fn(): Promise<void> {
    // A network namespace of our own stands in for the host, its loopback's MTU
    // cut to 1500: 4000-byte datagrams to the gateway (the host's loopback) must
    // be fragmented there, which UDP GSO sends can't do. pasta sends the guest's
    // runs of equal datagrams as GSO sends and must fall back to plain ones.
    const N = 40;
    const receiver = `
import select, socket, sys, time
socks = []
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE
    s.bind((addr, 5300))
    socks.append(s)
open(sys.argv[1], "w").close()
got = [[], []]
end = time.time() + 15
while time.time() < end and min(len(g) for g in got) < ${N}:
    for s in select.select(socks, [], [], 0.2)[0]:
        n = len(s.recv(65536))
        if n > 1:
            got[socks.index(s)].append(n)
print(len(got[0]), len(got[1]), sorted(set(got[0] + got[1])))
`;
    const sender = `
import socket, sys, time
for fam, gw in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((gw, 5300))
    s.send(b"!")  # the gateway's MAC address first: the kernel queues few frames for it
    time.sleep(0.5)
    for i in range(${N}):
        s.send(bytes([i]) * 4000)
`;
    const dir = scratchDir("udp-gso-");
    try {
      Deno.writeTextFileSync(`${dir}/rx.py`, receiver, { mode: 0o644 });
      Deno.writeTextFileSync(`${dir}/tx.py`, sender, { mode: 0o644 });
      const script = `
ip link set lo up; ip link set lo mtu 1500
ip link add h0 type veth peer name h1; ip link set h1 up; ip link set h0 up
ip addr add 192.0.2.2/24 dev h0; ip route add default via 192.0.2.1
ip -6 addr add 2001:db8::2/64 dev h0 nodad; ip -6 route add default via 2001:db8::1
python3 ${dir}/rx.py ${dir}/ready & rx=$!
while [ ! -e ${dir}/ready ]; do sleep 0.05; done
${bin} -q -f --config-net -- sh -c '${GATEWAYS} python3 ${dir}/tx.py $GW4 $GW6' || echo "pasta: $?"
wait $rx`;
      const r = await run(["unshare", "-n", "sh", "-c", script], { timeoutMs: 40_000 });
      assert.equal(r.stdout.trim(), `${N} ${N} [4000]`, r.stderr);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
