// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of the forwarding layer and the address-translation
 * options through pasta, with real clients: socat and ping in the namespace,
 * echo servers and a DNS-like responder on the host's loopback (started here,
 * as root), as root and as an unprivileged user.
 *
 * `E2E_PASTA` may name another pasta to test (upstream 2026's, to prove the
 * tests); without `E2E_PASTA_ROOT=1` only the rootless cases run then, since
 * upstream's pasta refuses to run as root in a container without a user
 * namespace of its own.
 *
 * Traffic goes only to loopback, the host's own address and the namespace:
 * the mapped addresses (198.51.100.2, 2001:db8::2, ...) never leave this host.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  freePort,
  GATEWAYS,
  have,
  isRoot,
  modeTest,
  PASTA,
  run,
  scratchDir,
  TESTER,
} from "../_helpers/e2e.ts";

let bin = PASTA;
let rootToo = true;
try {
  bin = Deno.env.get("E2E_PASTA") || PASTA;
  rootToo = bin === PASTA || Deno.env.get("E2E_PASTA_ROOT") === "1";
} catch {
  // no --allow-env: ours
}
const ours = bin === PASTA;

const ignore = !isRoot() || !have("socat") || !have("ip") || !have("python3");
const modes = rootToo ? [false, true] : [true];
const PY = "/usr/bin/python3";

const port = freePort;

/** Python: echo servers, "tcp ADDR PORT" / "udp ADDR PORT", printing each peer to stderr. */
const ECHO = `
import socket, sys, threading
def tcp(addr, port, tag):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    l = socket.socket(fam); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port)); l.listen(16)
    while True:
        c, a = l.accept()
        d = c.recv(1000)
        c.sendall(tag + d); c.close()
        print("peer", a[0], flush=True)
def udp(addr, port, tag):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((addr, port))
    while True:
        d, a = s.recvfrom(1000); s.sendto(tag + d, a)
        print("peer", a[0], flush=True)
for spec in sys.argv[1:]:
    kind, addr, p, tag = spec.split(",")
    threading.Thread(target=tcp if kind == "tcp" else udp, args=(addr, int(p), tag.encode()),
                     daemon=True).start()
threading.Event().wait()
`;

interface Outcome {
  code: number;
  /** What the namespace script printed. */
  ns: string;
  /** What the host-side servers and clients printed. */
  host: string;
  /** pasta's standard error. */
  err: string;
}

/**
 * Starts echo servers on the host (`servers`: "tcp|udp,ADDR,PORT,TAG" each),
 * then `pasta -f --config-net ARGS -- sh -c NS`, with `hostScript` run on the
 * host while the namespace script sleeps (`HOSTGO` file appears first).
 */
async function scenario(
  rl: boolean,
  args: string,
  servers: string[],
  ns: string,
  hostScript = "",
): Promise<Outcome> {
  const dir = scratchDir("fwd_e2e_");
  Deno.writeTextFileSync(`${dir}/echo.py`, ECHO);
  const as = rl ? `setpriv --reuid=${TESTER} --regid=${TESTER} --init-groups ` : "";
  try {
    const script = `
      cd ${dir}
      ${servers.length ? `${PY} echo.py ${servers.join(" ")} > host.out 2>&1 & S=$!` : "S="}
      sleep 0.5
      ( for i in $(seq 100); do [ -e ${dir}/go ] && break; sleep 0.1; done
        ${hostScript} ) >> host2.out 2>&1 &
      H=$!
      ${as}${bin} -q -f --config-net ${args} -- sh -c '${GATEWAYS} touch ${dir}/go; ${ns}' \
        > ns.out 2> err.out
      echo "status $?" >> ns.out
      wait $H
      [ -n "$S" ] && kill $S
      echo ===; cat ns.out; echo ===; cat host.out host2.out 2>/dev/null; echo ===; cat err.out`;
    const r = await run(["bash", "-c", script], { timeoutMs: 60_000 });
    const [, n, h, e] = r.stdout.split("===\n");
    const status = /status (\d+)/.exec(n ?? "");
    return {
      code: status ? Number(status[1]) : -1,
      ns: n ?? "",
      host: h ?? "",
      err: (e ?? "") + r.stderr,
    };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

// The namespace's servers are `socat TCP-LISTEN SYSTEM:"echo …; cat >/dev/null"`:
// the command reads the client's request to its end. With `echo …` alone, a
// request that arrived after the command had exited made socat fail writing
// it (EPIPE) and close without sending the reply (seen once under load).

/** pasta's error lines, without the warning about dropping root privileges. */
function errLines(o: Outcome): string[] {
  return o.err.split("\n").filter((l) => l !== "" && !l.startsWith("Started as root"));
}

function ctx(o: Outcome): string {
  return `\n--- ns:\n${o.ns}--- host:\n${o.host}--- pasta:\n${o.err}`;
}

/** socat one-shot query from the namespace: prints the reply, or nothing. */
function q(kind: "TCP4" | "TCP6" | "UDP4" | "UDP6", addr: string, p: number, msg: string): string {
  const a = kind.endsWith("6") ? `[${addr}]` : addr;
  return `echo ${msg} | timeout 5 socat -t 2 - ${kind}:${a}:${p} 2>/dev/null; echo; `;
}

for (const rl of modes) {
  modeTest(
    rl,
    `fwd e2e: --map-host-loopback ADDR: TCP, UDP and ping reach the host's loopback`,
    ignore || !have("ping"),
    async () => {
      const p = port();
      const o = await scenario(
        rl,
        "--map-host-loopback 198.51.100.2 --map-host-loopback 2001:db8::2",
        [
          `tcp,127.0.0.1,${p},t4:`,
          `udp,127.0.0.1,${p},u4:`,
          `tcp,::1,${p},t6:`,
          `udp,::1,${p},u6:`,
        ],
        q("TCP4", "198.51.100.2", p, "a") + q("UDP4", "198.51.100.2", p, "b") +
          q("TCP6", "2001:db8::2", p, "c") + q("UDP6", "2001:db8::2", p, "d") +
          "ping -c1 -W3 198.51.100.2 >/dev/null && echo ping4 ok; " +
          "ping -6 -c1 -W3 2001:db8::2 >/dev/null && echo ping6 ok; ",
      );
      for (const want of ["t4:a", "u4:b", "t6:c", "u6:d", "ping4 ok", "ping6 ok"]) {
        assert.match(o.ns, new RegExp(`^${want}$`, "m"), `${want}${ctx(o)}`);
      }
      assert.equal(o.code, 0, ctx(o));
    },
  );

  modeTest(
    rl,
    `fwd e2e: --map-guest-addr ADDR reaches the host's own address, and shows it`,
    ignore,
    async () => {
      const p = port(), p2 = port();
      const o = await scenario(
        rl,
        `--map-guest-addr 198.51.100.3 -t ${p2}`,
        [`tcp,0.0.0.0,${p},h:`],
        // Out: to ADDR, which is the host's own address. In: from the host's
        // own address through -t, seen in the namespace as ADDR.
        q("TCP4", "198.51.100.3", p, "out") +
          `timeout 8 socat -T 5 TCP4-LISTEN:${p2},reuseaddr SYSTEM:"echo from \\$SOCAT_PEERADDR; cat >/dev/null" ; `,
        `sleep 1; HA=$(ip -4 -o addr show scope global | head -1 | sed 's/.*inet \\([^/]*\\).*/\\1/')
         echo x | timeout 5 socat -t 2 - TCP4:$HA:${p2},bind=$HA`,
      );
      assert.match(o.ns, /^h:out$/m, ctx(o));
      assert.match(o.host, /^from 198\.51\.100\.3$/m, `shown as the mapped address${ctx(o)}`);
    },
  );

  modeTest(
    rl,
    `fwd e2e: --dns-forward to a --dns-host responder on 127.0.0.2, UDP and TCP 53, TCP 853`,
    ignore,
    async () => {
      const o = await scenario(
        rl,
        "--dns-forward 198.51.100.53 --dns-host 127.0.0.2",
        ["udp,127.0.0.2,53,dns-u:", "tcp,127.0.0.2,53,dns-t:", "tcp,127.0.0.2,853,dot:"],
        q("UDP4", "198.51.100.53", 53, "q1") + q("TCP4", "198.51.100.53", 53, "q2") +
          q("TCP4", "198.51.100.53", 853, "q3"),
      );
      assert.match(o.ns, /^dns-u:q1$/m, ctx(o));
      assert.match(o.ns, /^dns-t:q2$/m, ctx(o));
      assert.match(o.ns, /^dot:q3$/m, ctx(o));
    },
  );

  modeTest(
    rl,
    `fwd e2e: -t from the host's loopback: the namespace's address, or its loopback with --host-lo-to-ns-lo`,
    ignore,
    async () => {
      for (const lo of [false, true]) {
        const p = port();
        const o = await scenario(
          rl,
          `-t ${p}${lo ? " --host-lo-to-ns-lo" : ""}`,
          [],
          // Two servers: one on the namespace's loopback only, one on its address.
          `(timeout 6 socat -T 4 TCP4-LISTEN:${p},bind=127.0.0.1,reuseaddr SYSTEM:"echo lo; cat >/dev/null" &) ; ` +
            `(timeout 6 socat -T 4 TCP4-LISTEN:${p},bind=$ADDR4,reuseaddr SYSTEM:"echo addr; cat >/dev/null" &) ; ` +
            "sleep 5",
          `sleep 1; echo x | timeout 3 socat -t 2 - TCP4:127.0.0.1:${p}`,
        );
        assert.match(o.host, new RegExp(`^${lo ? "lo" : "addr"}$`, "m"), ctx(o));
        assert.doesNotMatch(o.host, new RegExp(`^${lo ? "addr" : "lo"}$`, "m"), ctx(o));
      }
    },
  );

  modeTest(
    rl,
    `fwd e2e: --no-splice sends host loopback connections through the tap`,
    ignore,
    async () => {
      const p = port();
      const o = await scenario(
        rl,
        `-t ${p} --no-splice`,
        [],
        `timeout 6 socat -T 4 TCP4-LISTEN:${p},reuseaddr SYSTEM:"echo peer \\$SOCAT_PEERADDR gw $GW4; cat >/dev/null"`,
        `sleep 1; echo x | timeout 3 socat -t 2 - TCP4:127.0.0.1:${p}`,
      );
      // Through the tap, the host's loopback is shown as the host-loopback address: the gateway.
      const m = /^peer (\S+) gw (\S+)$/m.exec(o.host);
      assert.ok(m, ctx(o));
      assert.equal(m[1], m[2], ctx(o));
    },
  );

  modeTest(rl, `fwd e2e: --splice-only forwards from loopback only`, ignore, async () => {
    const p = port();
    const o = await scenario(
      rl,
      `-t ${p} --splice-only`,
      [],
      `echo "interfaces: $(ip -o link show | cut -d: -f2 | tr -d " \n")"; ` +
        `timeout 8 socat -T 6 TCP4-LISTEN:${p},reuseaddr,fork SYSTEM:"echo served; cat >/dev/null"`,
      `sleep 1; echo x | timeout 3 socat -t 2 - TCP4:127.0.0.1:${p}; echo sep;
         HA=$(ip -4 -o addr show scope global | head -1 | sed 's/.*inet \\([^/]*\\).*/\\1/')
         echo x | timeout 3 socat -t 2 - TCP4:$HA:${p}`,
    );
    assert.match(o.host, /^served\nsep$/m, `from loopback: served${ctx(o)}`);
    assert.doesNotMatch(o.host, /^sep\nserved$/m, `from the host's address: not${ctx(o)}`);
    assert.match(o.ns, /^interfaces: lo$/m, `no tap device, as upstream${ctx(o)}`);
  });

  modeTest(
    rl,
    `fwd e2e: port specs: -t none -t P, PORTS,auto, */P, a target address`,
    ignore,
    async () => {
      const [a, b, c, d, t] = [port(), port(), port(), port(), port()];
      const o = await scenario(
        rl,
        `-t none -t ${a} -t ${b},${c},auto -t */${d} -t 127.0.0.1/${t}:192.0.2.77/${t + 1}`,
        [],
        "ip addr add 192.0.2.77/32 dev $(ip -o link show | grep -v LOOPBACK | " +
          'head -1 | cut -d: -f2 | tr -d " ") 2>/dev/null; ' +
          `for x in ${a} ${b} ${d}; do (timeout 9 socat -T 7 TCP4-LISTEN:$x,reuseaddr ` +
          `SYSTEM:"echo port $x; cat >/dev/null" &); done; ` +
          `(timeout 9 socat -T 7 TCP4-LISTEN:${t + 1},bind=192.0.2.77,reuseaddr ` +
          `SYSTEM:"echo target; cat >/dev/null" &); sleep 8`,
        // auto: wait (up to 6 s) for the 1 s scan to pick up b (listening; its server
        // takes one connection), then c (nothing there) must still be refused.
        `sleep 1; for i in $(seq 30); do
           r=$(echo x | timeout 2 socat -t 1 - TCP4:127.0.0.1:${b} 2>/dev/null); [ -n "$r" ] && break
           sleep 0.2; done
         echo "to ${b}: $r"
         for x in ${a} ${c} ${d} ${t}; do
           echo "to $x: $(echo x | timeout 3 socat -t 2 - TCP4:127.0.0.1:$x 2>/dev/null)"; done`,
      );
      assert.match(o.host, new RegExp(`^to ${a}: port ${a}$`, "m"), ctx(o));
      assert.match(o.host, new RegExp(`^to ${b}: port ${b}$`, "m"), `auto, listening${ctx(o)}`);
      assert.match(o.host, new RegExp(`^to ${c}: $`, "m"), `auto, nothing there${ctx(o)}`);
      assert.match(o.host, new RegExp(`^to ${d}: port ${d}$`, "m"), `*/PORT${ctx(o)}`);
      assert.match(o.host, new RegExp(`^to ${t}: target$`, "m"), `target address${ctx(o)}`);
    },
  );

  modeTest(
    rl,
    `fwd e2e: a rule that can't be installed fails start-up with one line naming it`,
    ignore,
    async () => {
      const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const bp = (busy.addr as Deno.NetAddr).port;
      try {
        let o = await scenario(rl, `-t 127.0.0.1/${bp}`, [], "echo ran");
        assert.equal(o.code, 1, ctx(o));
        assert.doesNotMatch(o.ns, /^ran$/m);
        const inUse = `Listen failed for HOST TCP port 127.0.0.1/${bp}: Address already in use`;
        assert.match(o.err, new RegExp(`^${inUse}$`, "m"), ctx(o));
        if (ours) assert.deepEqual(errLines(o), [inUse], "one line");

        const p = port();
        o = await scenario(rl, `-t 198.51.100.77/${p}`, [], "echo ran");
        assert.equal(o.code, 1, ctx(o));
        const notLocal = `Listen failed for HOST TCP port 198.51.100.77/${p}: ` +
          "Cannot assign requested address";
        assert.match(o.err, new RegExp(`^${notLocal}$`, "m"), ctx(o));
        if (ours) assert.deepEqual(errLines(o), [notLocal], "one line");

        // --freebind: the address needn't be there yet.
        o = await scenario(rl, `-t 198.51.100.77/${p} --freebind`, [], "echo ran");
        assert.equal(o.code, 0, ctx(o));
        assert.match(o.ns, /^ran$/m);
      } finally {
        busy.close();
      }
    },
  );
}
