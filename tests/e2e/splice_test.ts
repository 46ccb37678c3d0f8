// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end tests of pasta's loopback fast paths: spliced TCP through `-t`
 * from 127.0.0.1 and ::1 and through `-T` from the namespace, 256 MiB each way
 * with sha256 compared, half-close and reset both ways, a low open-file limit,
 * and UDP echo through `-u` from loopback and through `-U`; root and rootless.
 * A small python3 peer (written to a scratch directory) moves and hashes the
 * data, much faster than socat. `E2E_PASTA` may name another pasta launcher.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  bash,
  freePort,
  have,
  isRoot,
  PASTA_UNDER_TEST,
  prepareRootless,
  scratch,
  TESTER,
} from "../_helpers/e2e.ts";

const bin = PASTA_UNDER_TEST;

const ignore = !isRoot() || !have("python3") || !have("sha256sum");
const SIZE = 256 << 20;

/**
 * The peer. Modes: `serve BIND PORT recv|send|rst|udp [FILE]` (one connection or an
 * echo loop), `conn HOST PORT send FILE|recv|rst|hold N|seq N|udp`. `recv` hashes
 * until EOF and sends the digest back (half-close); `send` sends FILE, shuts down
 * writing and prints the digest it then receives.
 */
const PEER = `
import hashlib, os, socket, struct, sys, time
def ready():
    # The namespace side is up: the host side starts (see pair())
    r = os.environ.get('SPLICE_READY')
    if r: open(r, 'w').close()
def fam(h): return socket.AF_INET6 if ':' in h else socket.AF_INET
def recv_all(s):
    h = hashlib.sha256()
    while True:
        b = s.recv(1 << 20)
        if not b: return h.hexdigest()
        h.update(b)
def send_file(s, f):
    with open(f, 'rb') as fh:
        while True:
            b = fh.read(1 << 20)
            if not b: break
            s.sendall(b)
    s.shutdown(socket.SHUT_WR)
    return s.recv(64).decode()
def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()
def expect_rst(s):
    try:
        b = s.recv(10)
        print('eof' if not b else 'data')
    except ConnectionResetError:
        print('reset')
mode, host, port, op = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
arg = sys.argv[5] if len(sys.argv) > 5 else ''
if op == 'udp':
    s = socket.socket(fam(host), socket.SOCK_DGRAM)
    if mode == 'serve':
        s.bind((host, port)); s.settimeout(3); ready()
        try:
            while True:
                d, a = s.recvfrom(65535); s.sendto(d, a)
        except socket.timeout: pass
    else:
        s.settimeout(2); out = []
        for i in range(3):
            for t in range(5):
                s.sendto(b'ping%d' % i, (host, port))
                try:
                    d, a = s.recvfrom(100); out.append(d.decode()); break
                except socket.timeout: pass
        print(' '.join(out))
    sys.exit(0)
if mode == 'serve':
    l = socket.socket(fam(host)); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port)); l.listen(64); ready()
    c, _ = l.accept()
    if op == 'recv':
        c.sendall(recv_all(c).encode()); c.close()
    elif op == 'send':
        print(send_file(c, arg))
    elif op == 'rst':
        time.sleep(0.3); rst(c)
    elif op == 'expect_rst':
        expect_rst(c)
    elif op == 'many':
        cs = [c]
        l.settimeout(3)
        try:
            while True:
                x, _ = l.accept(); cs.append(x)
        except socket.timeout: pass
    sys.exit(0)
def connect():
    for t in range(100):
        try:
            return socket.create_connection((host, port))
        except OSError:
            time.sleep(0.1)
    raise SystemExit('cannot connect')
if op == 'send':
    print(send_file(connect(), arg))
elif op == 'recv':
    s = connect(); d = recv_all(s); s.sendall(d.encode()); s.close(); print(d)
elif op == 'rst':
    s = connect(); time.sleep(0.3); rst(s)
elif op == 'expect_rst':
    expect_rst(connect())
elif op == 'hold':
    s = connect(); held = []; refused = 0
    for i in range(int(arg)):
        try:
            x = socket.create_connection((host, port), timeout=2); x.settimeout(0.5)
            x.sendall(b'x')
            try:
                if x.recv(1) == b'' : refused += 1
                else: held.append(x)
            except socket.timeout: held.append(x)
            except ConnectionResetError: refused += 1
        except OSError: refused += 1
    print(len(held), refused)
    for x in held: x.close()
elif op == 'seq':
    ok = 0
    for i in range(int(arg)):
        try:
            x = socket.create_connection((host, port), timeout=2)
            x.sendall(b'hello'); x.shutdown(socket.SHUT_WR)
            if x.recv(5) == b'hello': ok += 1
            x.close()
        except OSError: pass
    print(ok)
`;

/** A world-readable scratch directory with the peer and a random file; the file's sha256. */
function withPeer(size: number): { dir: string; peer: string; file: string; sum: string } {
  const s = scratch(size, "splice_e2e_", 0o755);
  const peer = `${s.dir}/peer.py`;
  Deno.writeTextFileSync(peer, PEER);
  Deno.chmodSync(peer, 0o644);
  return { ...s, peer };
}

const S = size();
function size(): { dir: string; peer: string; file: string; sum: string } | null {
  return ignore ? null : withPeer(SIZE);
}

function asUser(cmd: string, rl: boolean): string {
  return rl ? `setpriv --reuid=${TESTER} --regid=${TESTER} --init-groups ${cmd}` : cmd;
}

/** Pairs run so far: names each one's readiness file. */
let pairs = 0;

/**
 * Runs `nsScript` in pasta with `args` and `hostScript` on the host at the same time
 * (pasta runs as `rl`); returns both outputs. With `waitNs`, the host part starts once
 * the namespace's server is listening (the peer creates `$SPLICE_READY`); without, the
 * namespace's part starts once the host's server is: never after a fixed time, as a
 * loaded machine starts pasta or python slower than any guess, and a client that
 * comes first is refused and leaves the server waiting for ever.
 */
async function pair(
  rl: boolean,
  args: string,
  nsScript: string,
  hostScript: string,
  waitNs = true,
  prefix = "",
): Promise<{ ns: string; host: string; pasta: string }> {
  const d = S!.dir;
  const ready = `/tmp/splice_ready_${Deno.pid}_${++pairs}`;
  const waitReady = `for i in $(seq 600); do [ -e ${ready} ] && break; sleep 0.05; done`;
  // The side that serves announces itself; the other side waits for it.
  const hostPart = waitNs ? `${waitReady}; ${hostScript}` : `SPLICE_READY=${ready} ${hostScript}`;
  const nsPasta = waitNs ? `SPLICE_READY=${ready} ${bin}` : bin;
  const nsPart = waitNs ? nsScript : `${waitReady}; ${nsScript}`;
  const out = await bash(`
    cd ${d}
    rm -f ${ready}
    ( ${hostPart} ) > ${d}/host.out 2>&1 &
    H=$!
    ${prefix}${
    asUser(`env ${nsPasta} -q -f --config-net ${args} -- sh -c '${nsPart}'`, rl)
  } > ${d}/ns.out 2> ${d}/pasta.err
    echo "status $?" >> ${d}/ns.out
    wait $H
    rm -f ${ready}
    echo ===; cat ${d}/ns.out; echo ===; cat ${d}/host.out; echo ===; cat ${d}/pasta.err
  `);
  const [, ns, host, pasta] = out.split("===\n");
  return { ns: ns ?? "", host: host ?? "", pasta: pasta ?? "" };
}

const PY = "python3";

/**
 * One connection through pasta (as `rl`) on a fresh port: with `-t`/`-u` the namespace serves
 * and the host connects once the server listens; with `-T`/`-U` the other way round. `ns` and
 * `host` are what the peer script does on each side.
 */
function through(
  rl: boolean,
  opt: "-t" | "-u" | "-T" | "-U",
  lo: string,
  ns: string,
  host: string,
): Promise<{ ns: string; host: string; pasta: string }> {
  const p = freePort();
  const inbound = opt === "-t" || opt === "-u";
  const peer = (role: string, what: string): string =>
    `${PY} ${S!.peer} ${role} ${lo} ${p} ${what}`;
  return pair(
    rl,
    inbound ? `${opt} ${p} --host-lo-to-ns-lo` : `${opt} ${p}`,
    peer(inbound ? "serve" : "conn", ns),
    peer(inbound ? "conn" : "serve", host),
    inbound,
  );
}

for (const rl of [false, true]) {
  const label = rl ? "rootless" : "root";
  for (const v6 of [false, true]) {
    const lo = v6 ? "::1" : "127.0.0.1";
    const fam = v6 ? "IPv6" : "IPv4";

    Deno.test({
      name: `splice e2e (${label}, ${fam}): 256 MiB both ways through -t from ${lo}`,
      ignore: ignore || (rl && !prepareRootless()),
      sanitizeResources: false,
      async fn(): Promise<void> {
        const s = S!;
        // Host to namespace: the namespace hashes and sends the digest back.
        let r = await through(rl, "-t", lo, "recv", `send ${s.file}`);
        assert.equal(r.host.trim(), s.sum, `host -> ns: ${r.pasta}`);
        // Namespace to host.
        r = await through(rl, "-t", lo, `send ${s.file}`, "recv");
        assert.equal(r.host.trim(), s.sum, `ns -> host, client side: ${r.pasta}`);
        assert.match(r.ns, new RegExp(`^${s.sum}$`, "m"), "the digest came back after our FIN");
      },
    });

    Deno.test({
      name: `splice e2e (${label}, ${fam}): 256 MiB both ways through -T from the namespace`,
      ignore: ignore || (rl && !prepareRootless()),
      sanitizeResources: false,
      async fn(): Promise<void> {
        const s = S!;
        let r = await through(rl, "-T", lo, `send ${s.file}`, "recv");
        assert.match(r.ns, new RegExp(`^${s.sum}$`, "m"), `ns -> host: ${r.pasta}`);
        r = await through(rl, "-T", lo, "recv", `send ${s.file}`);
        assert.match(r.ns, new RegExp(`^${s.sum}$`, "m"), `host -> ns: ${r.pasta}`);
        assert.equal(r.host.trim(), s.sum, "the digest came back after our FIN");
      },
    });

    Deno.test({
      name: `splice e2e (${label}, ${fam}): resets propagate both ways`,
      ignore: ignore || (rl && !prepareRootless()),
      sanitizeResources: false,
      async fn(): Promise<void> {
        let r = await through(rl, "-t", lo, "rst", "expect_rst");
        assert.equal(r.host.trim(), "reset", "namespace reset reaches the host client");
        r = await through(rl, "-t", lo, "expect_rst", "rst");
        assert.match(r.ns, /^reset$/m, "host reset reaches the namespace server");
        r = await through(rl, "-T", lo, "expect_rst", "rst");
        assert.match(r.ns, /^reset$/m, "host reset reaches the namespace client (-T)");
      },
    });

    Deno.test({
      name: `splice e2e (${label}, ${fam}): UDP echo through -u from ${lo} and through -U`,
      ignore: ignore || (rl && !prepareRootless()),
      sanitizeResources: false,
      async fn(): Promise<void> {
        let r = await through(rl, "-u", lo, "udp", "udp");
        assert.equal(r.host.trim(), "ping0 ping1 ping2", `-u: ${r.pasta}`);
        r = await through(rl, "-U", lo, "udp", "udp");
        assert.match(r.ns, /^ping0 ping1 ping2$/m, `-U: ${r.pasta}`);
      },
    });
  }

  Deno.test({
    name: `splice e2e (${label}): low open-file limit: excess connections refused, early close`,
    ignore: ignore || (rl && !prepareRootless()),
    sanitizeResources: false,
    async fn(): Promise<void> {
      const s = S!;
      const p = freePort();
      // An echo server in the namespace (socat would fork; a shell loop is enough here).
      const ns = `${PY} -c "
import socket, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((\\"127.0.0.1\\", ${p})); l.listen(256)
import os; open(os.environ[\\"SPLICE_READY\\"], \\"w\\").close()
def h(c):
    while True:
        b = c.recv(100)
        if not b: break
        c.sendall(b)
    c.close()
while True:
    c, _ = l.accept(); threading.Thread(target=h, args=(c,), daemon=True).start()
" & sleep 9; kill $!`;
      const host = `${PY} ${s.peer} conn 127.0.0.1 ${p} hold 60; ` +
        `${PY} ${s.peer} conn 127.0.0.1 ${p} seq 300; ` +
        `ls /proc/$(pgrep -n -f "deno.*-t ${p}")/fd | wc -l; sleep 1.5; ` +
        `ls /proc/$(pgrep -n -f "deno.*-t ${p}")/fd | wc -l`;
      const r = await pair(
        rl,
        `-t ${p} --host-lo-to-ns-lo -T none -U none`,
        ns,
        host,
        true,
        "ulimit -n 192; ",
      );
      const [hold, seq, fds1, fds2] = r.host.trim().split("\n");
      const [held, refused] = hold!.split(" ").map(Number);
      assert.ok(held! > 5, `some connections held: ${r.host} ${r.pasta}`);
      assert.ok(refused! > 0, `excess connections refused: ${r.host}`);
      assert.equal(Number(seq), 300, "300 sequential connections after the burst all work");
      assert.ok(Number(fds2) <= Number(fds1), `no descriptor leak: ${fds1} -> ${fds2}`);
      assert.match(r.ns, /status 0/, `pasta survived: ${r.pasta}`);
    },
  });
}
