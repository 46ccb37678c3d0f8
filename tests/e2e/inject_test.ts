// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * End-to-end: a hostile namespace floods pasta's tap with 200 000 random and
 * mutated frames (the fuzzers' generator, fixed seed), written through an
 * AF_PACKET socket on the namespace's interface. pasta must then still serve
 * through the tap both ways and hold exactly the descriptors it held before,
 * once the flows the frames opened have timed out.
 *
 * The frames name any destination, so pasta's "host" is a network namespace
 * of our own: loopback plus one end of a veth pair whose default gateway
 * never answers. Nothing leaves that namespace.
 *
 * @module
 */

import assert from "node:assert/strict";
import { have, isRoot, PASTA, run, scratchDir } from "../_helpers/e2e.ts";
import { testCtx } from "../_helpers/frames.ts";
import { genMutatedFrame } from "../fuzz/_gen.ts";
import { Rng } from "../fuzz/_lib.ts";

const FRAMES = 200_000;
const SEED = 0x5eed_f00d;

/**
 * Ports of our own namespace (nothing else listens there). No injected frame
 * carries the servers' ports anywhere in its bytes, so none reaches them and
 * leaves a connection open.
 */
const HOST_TCP = 47001; // unused: guest connections to it get a reset
const HOST_UDP = 47002; // unused: guest datagrams to it open a flow that times out
const FWD = 47003; // -t: host to guest through the tap
const BACK = 47004; // host's loopback server the guest reaches through the gateway

/** Whether `f` holds `port` as a big-endian 16-bit value at any offset. */
function mentions(f: Uint8Array, port: number): boolean {
  for (let i = 0; i + 1 < f.length; i++) {
    if (f[i] === port >>> 8 && f[i + 1] === (port & 0xff)) return true;
  }
  return false;
}

const ignore = !isRoot() || !have("unshare") || !have("ip") || !have("python3") || !have("socat");

/** Sends length-prefixed frames from a file on an interface; backs off when the tap queue drops. */
const INJECT = `
import os, socket, struct, sys, time
ifname, path, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, 'rb').read()
frames, off = [], 0
while off < len(data):
    n = struct.unpack_from('<I', data, off)[0]
    frames.append(data[off + 4:off + 4 + n]); off += 4 + n
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
def dropped():
    # /proc/net/dev is the namespace's own (/sys may show another namespace's)
    for line in open('/proc/net/dev'):
        name, _, rest = line.partition(':')
        if name.strip() == ifname: return int(rest.split()[11])
    return 0
sent = refused = 0; i = 0; pause = 0.0005
while sent < want:
    d0 = dropped(); batch = 0
    for _ in range(128):
        try: s.send(frames[i % len(frames)]); batch += 1
        except OSError: refused += 1
        i += 1
    lost = dropped() - d0
    sent += batch - lost
    if lost: pause = min(pause * 2, 0.05); time.sleep(pause)
    else: pause = max(pause / 2, 0.0005)
print('injected %d refused %d tried %d' % (sent, refused, i))
`;

Deno.test({
  name:
    `inject e2e: ${FRAMES} random and mutated frames into pasta's tap; it serves after, no descriptor leaked`,
  ignore,
  sanitizeResources: false,
  async fn(): Promise<void> {
    const dir = scratchDir("inject_e2e_"); // the command runs as the namespace's root, not root
    try {
      // The guest's addresses are the generator's context's: pasta copies them from out0.
      const rng = new Rng(SEED);
      const c = testCtx();
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < 20_000; i++) {
        const f = genMutatedFrame(rng, c, { tcp: HOST_TCP, udp: HOST_UDP });
        if (mentions(f, FWD) || mentions(f, BACK)) continue;
        const rec = new Uint8Array(4 + f.length);
        new DataView(rec.buffer).setUint32(0, f.length, true);
        rec.set(f, 4);
        parts.push(rec);
        total += rec.length;
      }
      const file = new Uint8Array(total);
      let off = 0;
      for (const p of parts) file.set(p, off), off += p.length;
      Deno.writeFileSync(`${dir}/frames`, file);
      Deno.writeTextFileSync(`${dir}/inject.py`, INJECT);

      // In pasta's namespace: a TCP echo server for -t, then the flood, then the
      // guest-to-host check once the host side's server runs.
      const inner = [
        `wait_for() { for i in $(seq 1200); do [ -e ${dir}/$1 ] && return 0; sleep 0.05; done; exit 1; }`,
        `socat TCP-LISTEN:${FWD},reuseaddr,fork EXEC:cat & E=$!`,
        `IF=$(ip -o link show | awk -F': ' '$2 != "lo" {print $2; exit}' | cut -d@ -f1)`,
        `while ! ss -Hltn | grep -q ':${FWD} '; do sleep 0.05; done`,
        `touch ${dir}/ready; wait_for go`,
        `python3 ${dir}/inject.py "$IF" ${dir}/frames ${FRAMES} > ${dir}/injected`,
        `touch ${dir}/flooded; wait_for back`,
        `echo out | socat -t 5 - TCP4:192.0.2.1:${BACK} > ${dir}/back.out`,
        `touch ${dir}/done; wait_for quit; kill $E`,
      ].join("\n");
      Deno.writeTextFileSync(`${dir}/inner.sh`, inner);
      const outer = [
        "set -e",
        "ip link set lo up",
        // A veth pair with one address: the gateway never answers neighbour
        // discovery, so whatever is routed out is dropped at once
        "ip link add out0 type veth peer name sink0",
        "ip link set sink0 up",
        "ip link set out0 up",
        "ip addr add 192.0.2.10/24 dev out0",
        "ip -6 addr add 2001:db8:1:2::10/64 dev out0 nodad",
        "ip route add default via 192.0.2.1",
        "ip -6 route add default via fe80::1 dev out0",
        // Connections pasta opens to nowhere end after one SYN retry (about 3 s), not 127 s
        "sysctl -qw net.ipv4.tcp_syn_retries=1",
        "set +e",
        `wait_for() { for i in $(seq 1200); do [ -e ${dir}/$1 ] && return 0; sleep 0.05; done; echo "no $1"; kill $P; exit 1; }`,
        `PASST_UDP_TIMEOUT_MS=1000 ${PASTA} -q -f --config-net -t ${FWD} -- sh ${dir}/inner.sh &`,
        "P=$!",
        "wait_for ready",
        "A=$(ls /proc/$P/fd | wc -l)",
        `touch ${dir}/go; wait_for flooded`,
        "kill -0 $P || { echo 'pasta died during the flood'; exit 1; }",
        // Connections to nowhere fail within the SYN retry, UDP flows time out after 1 s
        "sleep 8",
        "B=$(ls /proc/$P/fd | wc -l)",
        "echo fds:$A:$B",
        // The namespace speaks first: frames from it set the guest's MAC address
        // again, which the flood's source addresses changed (as upstream, pasta
        // sends to the address the guest last used)
        `socat -u TCP4-LISTEN:${BACK},bind=127.0.0.1,reuseaddr - > ${dir}/back.in & S=$!`,
        `while ! ss -Hltn | grep -q '127.0.0.1:${BACK} '; do sleep 0.05; done`,
        `touch ${dir}/back; wait_for done; wait $S; echo "back:$(cat ${dir}/back.in)"`,
        `echo in | socat -t 5 - TCP4:192.0.2.10:${FWD}; echo "fwd:$?"`,
        `cat ${dir}/injected; touch ${dir}/quit; wait $P; echo "pasta:$?"`,
      ].join("\n");
      const r = await run(["unshare", "-n", "sh", "-c", outer], { timeoutMs: 240_000 });
      const out = r.stdout + r.stderr;
      const inj = /injected (\d+)/.exec(out);
      assert.ok(inj && Number(inj[1]) >= FRAMES, `all frames reached pasta's tap: ${out}`);
      const fds = /fds:(\d+):(\d+)/.exec(out);
      assert.ok(fds, out);
      assert.equal(
        fds[2],
        fds[1],
        `pasta's descriptors after the flood, once its flows timed out: ${out}`,
      );
      assert.match(out, /^in$/m, `the host reached the namespace through -t and the tap: ${out}`);
      assert.match(
        out,
        /^back:out$/m,
        `the namespace reached the host's loopback through the tap: ${out}`,
      );
      assert.match(out, /^pasta:0$/m, `pasta exited cleanly with the namespace's command: ${out}`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
