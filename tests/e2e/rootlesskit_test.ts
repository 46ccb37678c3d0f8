// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Debian's RootlessKit 1.1.0, rootless, with --net=slirp4netns and
// --port-driver=slirp4netns, driving our slirp4netns front end and, as the
// reference, Debian's slirp4netns: the child's address, MTU and route, a
// download from a host loopback server via 10.0.2.2, and a --publish forward
// (RootlessKit adds it through the API socket).

import assert from "node:assert/strict";
import {
  ensureSubids,
  freePort,
  have,
  isRoot,
  keyValues,
  prepareRootless,
  run,
  scratchDir,
  serveText,
  SLIRP4NETNS_IMPLS,
} from "../_helpers/e2e.ts";

const ignore = !isRoot() || !have("rootlesskit") || !have("socat") || !have("newuidmap") ||
  !prepareRootless() || !ensureSubids();

function script(bin: string, dir: string, hostPort: number, pubPort: number): string {
  const inner = `exec >${dir}/inner 2>&1
echo "ADDR=$(ip -o -4 addr show tap0 | awk '{print $4}')"
echo "MTU=$(ip -o link show tap0 | sed 's/.* mtu \\([0-9]*\\).*/\\1/')"
echo "ROUTE=$(ip -4 route show default)"
echo "HOSTLO=$(socat -T3 - TCP:10.0.2.2:${hostPort},connect-timeout=3 </dev/null 2>/dev/null)"
socat TCP-LISTEN:80,reuseaddr,fork SYSTEM:'echo from-child' &
sleep 0.5
touch ${dir}/up
for i in $(seq 1 100); do [ -e ${dir}/done ] && break; sleep 0.1; done
kill $!`;
  Deno.writeTextFileSync(`${dir}/inner.sh`, inner);
  return `
exec >${dir}/result 2>${dir}/trace
rootlesskit --state-dir=${dir}/state --net=slirp4netns --slirp4netns-binary=${bin} \
  --mtu=65520 --port-driver=slirp4netns --publish 127.0.0.1:${pubPort}:80/tcp \
  sh ${dir}/inner.sh >${dir}/rk.out 2>&1 &
RK=$!
for i in $(seq 1 300); do [ -e ${dir}/up ] && break; sleep 0.1; done
echo "PUB=$(socat -T3 - TCP:127.0.0.1:${pubPort} </dev/null 2>/dev/null)"
touch ${dir}/done
wait $RK
echo "RKSTATUS=$?"
`;
}

for (const [who, bin] of SLIRP4NETNS_IMPLS) {
  Deno.test({
    name: `rootlesskit with slirp4netns (${who}): child network, host loopback, --publish`,
    ignore,
    async fn(): Promise<void> {
      const dir = scratchDir();
      const hostPort = freePort();
      const pubPort = freePort();
      const server = serveText(hostPort, "from-host");
      try {
        await run(["sh", "-c", script(bin, dir, hostPort, pubPort)], {
          rootless: true,
          timeoutMs: 90_000,
          env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", XDG_RUNTIME_DIR: dir },
        });
        const text = Deno.readTextFileSync(`${dir}/result`) +
          Deno.readTextFileSync(`${dir}/inner`);
        const r = keyValues(text);
        const log = (): string => {
          try {
            return Deno.readTextFileSync(`${dir}/rk.out`);
          } catch {
            return "";
          }
        };
        assert.equal(r.ADDR, "10.0.2.100/24", log());
        assert.equal(r.MTU, "65520");
        assert.match(r.ROUTE ?? "", /^default via 10\.0\.2\.2 dev tap0/);
        assert.equal(r.HOSTLO, "from-host");
        assert.equal(r.PUB, "from-child", log());
        assert.equal(r.RKSTATUS, "0", log());
      } finally {
        server.kill();
        await server.status;
        Deno.removeSync(dir, { recursive: true });
      }
    },
  });
}
