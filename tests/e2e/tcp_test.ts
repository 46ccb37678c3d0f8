// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of TCP through pasta's tap path: socat and sha256sum in the
 * namespace and on the host, as root and as an unprivileged user. The host's
 * non-loopback address is discovered, never assumed. `E2E_PASTA` may name
 * another pasta launcher to test (default: ours).
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bash as hostBash,
  freePorts,
  GATEWAYS,
  have,
  isRoot,
  modeTest,
  PASTA_UNDER_TEST,
  scratch,
  scratchDir,
  TESTER,
} from "../_helpers/e2e.ts";

const bin = PASTA_UNDER_TEST;

const ignore = !isRoot() || !have("socat") || !have("ip") || !have("sha256sum");
const modes = [false, true];

/** The host's first global address of a family, or "" if none. */
function hostAddr(v6: boolean): string {
  const r = new Deno.Command("sh", {
    args: [
      "-c",
      `ip -${v6 ? 6 : 4} -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1`,
    ],
    stdout: "piped",
  }).outputSync();
  return new TextDecoder().decode(r.stdout).trim();
}

// Below the ephemeral range (32768 and up on Linux), which `auto` leaves out (upstream 2026).
const ports = freePorts;

function wrapRootless(cmd: string, rl: boolean): string {
  return rl ? `setpriv --reuid=${TESTER} --regid=${TESTER} --init-groups ${cmd}` : cmd;
}

/** Shell function: waits (up to 10 s) until every given TCP port has a listener. */
const WAIT_LISTEN = `waitlisten() {
  for i in $(seq 200); do
    ok=1; for p in "$@"; do ss -Hltn "sport = :$p" | grep -q . || ok=0; done
    [ $ok = 1 ] && return 0; sleep 0.05
  done
}
`;

/** Runs a host-side bash script with {@linkcode WAIT_LISTEN} defined. */
function bash(script: string, timeoutMs?: number): Promise<string> {
  return hostBash(WAIT_LISTEN + script, timeoutMs);
}

/** A test of a Python server on the host and a Python client in pasta's namespace. */
interface PythonPair {
  /** Backlog of the server's listening socket `l` (127.0.0.1, SO_REUSEADDR). */
  backlog: number;
  /**
   * Both may open 4096 descriptors, and the server, which serves on, is
   * killed once the client is done, not awaited.
   */
  many: boolean;
  /** The server's script, run once `l` listens. */
  srv: string;
  /** The client's script for the server's port; argv[1] is the gateway's IPv4 address. */
  cli: (port: number) => string;
  /** Asserts on what both printed. */
  check: (out: string) => void;
}

/** Registers the test `t` (rootless with `rl`), which needs python3. */
function pythonPairTest(rl: boolean, name: string, t: PythonPair): void {
  modeTest(rl, name, ignore || !have("python3"), async () => {
    const [port] = ports(1);
    const dir = scratchDir("tcp_e2e_");
    Deno.writeTextFileSync(
      `${dir}/srv.py`,
      `import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", ${port})); l.listen(${t.backlog})
` + t.srv,
    );
    Deno.writeTextFileSync(`${dir}/cli.py`, t.cli(port!));
    const fds = t.many ? "ulimit -n 4096; " : "";
    try {
      t.check(
        await bash(
          `
          ${fds}python3 ${dir}/srv.py & S=$!
          sleep 1
          ${
            wrapRootless(bin, rl)
          } -q -f --config-net -- sh -c '${fds}${GATEWAYS} python3 ${dir}/cli.py $GW4'
          ${t.many ? "kill" : "wait"} $S; true`,
          t.many ? 180_000 : undefined,
        ),
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

for (const rl of modes) {
  for (const size of [1 << 20, 256 << 20]) {
    const mib = size >> 20;
    modeTest(
      rl,
      `tcp e2e: ${mib} MiB both ways to the gateway (host loopback), IPv4 and IPv6`,
      ignore,
      async () => {
        const s = scratch(size, "tcp_e2e_");
        const [p1, p2, p3, p4] = ports(4);
        // Uploads wait for the host to close (bidirectional socat): pasta exits with the
        // command, and data still queued in the namespace would be lost with it.
        // Each step's end goes to stderr with the time, and a watchdog shows the host's
        // sockets shortly before the script's timeout: a stall says where it happened.
        const mark = (step: string): string => `echo "${step} done $(date +%T.%N)" >&2`;
        const ns = GATEWAYS +
          `socat -t 30 - TCP4:$GW4:${p1} < ${s.file} > /dev/null; ${mark("up4")}; ` +
          `socat -u TCP4:$GW4:${p2} - | sha256sum > ${s.dir}/down4; ${mark("down4")}; ` +
          `socat -t 30 - TCP6:[$GW6]:${p3} < ${s.file} > /dev/null; ${mark("up6")}; ` +
          `socat -u TCP6:[$GW6]:${p4} - | sha256sum > ${s.dir}/down6; ${mark("down6")}`;
        const sockets = [p1, p2, p3, p4].map((p) => `sport = :${p} or dport = :${p}`)
          .join(" or ");
        try {
          await bash(`
            socat -u TCP4-LISTEN:${p1},bind=127.0.0.1,reuseaddr SYSTEM:'sha256sum > ${s.dir}/up4' &
            socat -u FILE:${s.file} TCP4-LISTEN:${p2},bind=127.0.0.1,reuseaddr &
            socat -u TCP6-LISTEN:${p3},bind=[::1],reuseaddr SYSTEM:'sha256sum > ${s.dir}/up6' &
            socat -u FILE:${s.file} TCP6-LISTEN:${p4},bind=[::1],reuseaddr &
            waitlisten ${p1} ${p2} ${p3} ${p4}
            (sleep 110 & w=$!; trap "kill $w; exit" TERM; wait $w
             echo "stalled at $(date +%T.%N); host sockets:" >&2; ss -tanoi "( ${sockets} )" >&2) &
            ${wrapRootless(bin, rl)} -q -f --config-net -- sh -c '${ns}'
            sleep 0.5; kill %1 %2 %3 %4 %5 2>/dev/null; true`);
          for (const f of ["up4", "down4", "up6", "down6"]) {
            assert.equal(Deno.readTextFileSync(`${s.dir}/${f}`).split(" ")[0]!.trim(), s.sum, f);
          }
        } finally {
          Deno.removeSync(s.dir, { recursive: true });
        }
      },
    );

    modeTest(
      rl,
      `tcp e2e: ${mib} MiB both ways through -t from a non-loopback host address`,
      ignore || hostAddr(false) === "",
      async () => {
        const s = scratch(size, "tcp_e2e_");
        const h4 = hostAddr(false);
        const [p1, p2] = ports(2);
        const ns = `socat -u TCP4-LISTEN:${p1} SYSTEM:"sha256sum > ${s.dir}/up" & ` +
          `socat -u FILE:${s.file} TCP4-LISTEN:${p2} & wait`;
        try {
          await bash(`
            ${wrapRootless(bin, rl)} -q -f --config-net -t ${p1},${p2} -- sh -c '${ns}' &
            P=$!
            for i in $(seq 50); do sleep 0.1; socat -u TCP4:${h4}:${p2},connect-timeout=1 - > ${s.dir}/dl 2>/dev/null; [ -s ${s.dir}/dl ] && break; done
            sha256sum < ${s.dir}/dl > ${s.dir}/down
            sleep 0.3
            socat -u FILE:${s.file} TCP4:${h4}:${p1}
            wait $P
            true`);
          assert.equal(
            Deno.readTextFileSync(`${s.dir}/up`).split(" ")[0]!.trim(),
            s.sum,
            "host to namespace",
          );
          assert.equal(
            Deno.readTextFileSync(`${s.dir}/down`).split(" ")[0]!.trim(),
            s.sum,
            "namespace to host",
          );
        } finally {
          Deno.removeSync(s.dir, { recursive: true });
        }
      },
    );
  }

  modeTest(
    rl,
    `tcp e2e: port specs: range, mapping, address-bound, exclusion`,
    ignore,
    async () => {
      const [a, b, c, d, m] = ports(5);
      const srv = (p: number | undefined): string =>
        `socat TCP4-LISTEN:${p},fork SYSTEM:"echo ${p}" &`;
      // a-c forwarded except b; d mapped to m in the namespace; bound to 127.0.0.1 only.
      const ns = `${srv(a)} ${srv(b)} ${srv(c)} ${srv(m)} sleep 6`;
      const out = await bash(`
        ${
        wrapRootless(bin, rl)
      } -q -f --config-net -t ${a}-${c},~${b} -t 127.0.0.1/${d}:${m} -- sh -c '${ns}' &
        sleep 3
        for p in ${a} ${b} ${c} ${d}; do echo "$p:$(socat -u TCP4:127.0.0.1:$p - 2>/dev/null)"; done
        H=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
        [ -n "$H" ] && echo "bound:$(socat -u TCP4:$H:${d} - 2>/dev/null)"
        wait; true`);
      assert.match(out, new RegExp(`^${a}:${a}$`, "m"), "first port of the range");
      assert.match(out, new RegExp(`^${c}:${c}$`, "m"), "last port of the range");
      assert.match(out, new RegExp(`^${b}:$`, "m"), "excluded port not forwarded");
      assert.match(out, new RegExp(`^${d}:${m}$`, "m"), "mapped port reaches the target");
      if (out.includes("bound:")) assert.match(out, /^bound:$/m, "address-bound: not on others");
    },
  );

  modeTest(rl, `tcp e2e: -t auto follows a listener started after pasta`, ignore, async () => {
    const [p] = ports(1);
    // The namespace listens a second after pasta starts; pasta rescans once a second.
    // Asked until it answers (at most 8 s: a loaded machine starts pasta slowly); the
    // command ends when told to.
    const dir = scratchDir("tcp_auto_");
    const ns = `sleep 1; socat TCP4-LISTEN:${p},fork SYSTEM:"echo auto" & S=$!; ` +
      `while [ ! -e ${dir}/done ]; do sleep 0.1; done; kill $S`;
    let out: string;
    try {
      out = await bash(`
        ${wrapRootless(bin, rl)} -q -f --config-net -t auto -- sh -c '${ns}' & P=$!
        sleep 2
        for i in $(seq 16); do
          got=$(socat -u TCP4:127.0.0.1:${p} - 2>/dev/null); [ -n "$got" ] && break; sleep 0.5
        done
        echo "got:$got"
        touch ${dir}/done; wait $P; true`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
    assert.match(out, /^got:auto$/m);
  });

  pythonPairTest(rl, `tcp e2e: 1000 concurrent connections each move data without loss`, {
    backlog: 1024,
    many: true,
    srv: `import threading
def h(c):
    d = b""
    while len(d) < 10000:
        x = c.recv(65536)
        if not x: break
        d += x
    c.sendall(d[::-1]); c.close()
while True:
    c, _ = l.accept(); threading.Thread(target=h, args=(c,), daemon=True).start()
`,
    cli: (p) =>
      `import socket, sys, selectors, os
gw = sys.argv[1]; n = 1000; ok = 0
socks = []
for i in range(n):
    s = socket.create_connection((gw, ${p})); socks.append(s)
for i, s in enumerate(socks):
    s.sendall(bytes([i % 256]) * 5000 + os.urandom(5000))
for i, s in enumerate(socks):
    d = b""
    while len(d) < 10000:
        x = s.recv(65536)
        if not x: break
        d += x
    if len(d) == 10000 and d[-1] == i % 256: ok += 1
    s.close()
print("ok", ok)
`,
    check: (out) => assert.match(out, /^ok 1000$/m),
  });

  pythonPairTest(rl, `tcp e2e: half-close and RST from either side reach the other side`, {
    backlog: 4,
    many: false,
    srv: `import struct
c, _ = l.accept()          # 1: client half-closes, we answer after EOF
d = c.recv(100); e = c.recv(100)
c.sendall(b"eof" if d == b"req" and e == b"" else b"bad"); c.close()
c, _ = l.accept()          # 2: we reset
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
c, _ = l.accept()          # 3: client resets
try:
    x = c.recv(100); print("srv3", "eof" if x == b"" else "data", flush=True)
except ConnectionResetError:
    print("srv3 reset", flush=True)
`,
    cli: (p) =>
      `import socket, struct, sys, time
gw = sys.argv[1]
s = socket.create_connection((gw, ${p})); s.sendall(b"req"); s.shutdown(socket.SHUT_WR)
print("cli1", s.recv(100).decode(), s.recv(100) == b"", flush=True); s.close()
try:
    # The host's RST may come before or after our SYN-ACK: refused or reset.
    s = socket.create_connection((gw, ${p}))
    x = s.recv(100); print("cli2", "eof" if x == b"" else "data", flush=True)
except (ConnectionResetError, ConnectionRefusedError):
    print("cli2 reset", flush=True)
s = socket.create_connection((gw, ${p})); time.sleep(0.3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close(); time.sleep(0.5)
`,
    check: (out) => {
      assert.match(
        out,
        /^cli1 eof True$/m,
        "guest half-close: host sees EOF, answer and FIN come back",
      );
      assert.match(out, /^cli2 (reset|eof)$/m, "host RST ends the guest's connection");
      assert.match(out, /^srv3 (reset|eof)$/m, "guest RST ends the host's connection");
    },
  });
}

Deno.test({
  name: "tcp e2e: no descriptor leak in pasta after connections close",
  ignore,
  async fn(): Promise<void> {
    const [p] = ports(1);
    const dir = scratchDir("tcp_e2e_");
    try {
      const out = await bash(`
        socat TCP4-LISTEN:${p},bind=127.0.0.1,reuseaddr,fork SYSTEM:"echo hi" & S=$!
        waitlisten ${p}
        ${bin} -q -f --config-net -T none -U none -- sh -c '${GATEWAYS} sleep 1; touch ${dir}/r1; sleep 1;
          for i in $(seq 20); do socat -u TCP4:$GW4:${p} - >/dev/null; done;
          touch ${dir}/r2; sleep 3' &
        P=$!
        while [ ! -e ${dir}/r1 ]; do sleep 0.1; done
        A=$(ls /proc/$P/fd | wc -l)
        while [ ! -e ${dir}/r2 ]; do sleep 0.1; done
        sleep 2
        B=$(ls /proc/$P/fd | wc -l)
        wait $P
        echo "fds:$A:$B"
        kill $S; true`);
      const m = /fds:(\d+):(\d+)/.exec(out);
      assert.ok(m, out);
      assert.equal(m[2], m[1], "same descriptor count after 20 connections closed");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
