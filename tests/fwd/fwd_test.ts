// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import { EMFILE } from "../../ffi/errno.ts";
import { Forwarder, FwdError, type ListenBackend, listenSlot } from "../../src/fwd/fwd.ts";
import {
  type FwdCaps,
  type FwdRule,
  parseFwdSpec,
  setEphemeralRange,
} from "../../src/fwd/fwd_rule.ts";
import { tcpHostBackend } from "../../src/fwd/listen.ts";
import {
  parseProcNet,
  scanBufferSize,
  Scanner,
  scanProcNet,
  STATE_TCP_LISTEN,
  STATE_UDP_UNCONN,
} from "../../src/fwd/scan.ts";
import { EpollType, Loop } from "../../src/loop/loop.ts";
import { testCtx } from "../_helpers/frames.ts";
import type { Ctx } from "../../src/context.ts";
import { freePort } from "../_helpers/e2e.ts";

const enc = new TextEncoder();
const CAPS: FwdCaps = { v4: true, v6: true, tcp: true, udp: true, scan: true };

function isSet(map: Uint8Array, p: number): boolean {
  return (map[p >> 3]! & (1 << (p & 7))) !== 0;
}

/** A /proc/net/{udp,tcp} style table with one socket per [port, state]. */
function procNet(entries: [number, number][]): string {
  const head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt" +
    "   uid  timeout inode ref pointer drops\n";
  return head +
    entries.map(([port, st], i) =>
      `  ${i}: 0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 ` +
      `${st.toString(16).toUpperCase().padStart(2, "0")} 00000000:00000000 00:00000000 ` +
      `00000000     0        0 ${1000 + i} 2 0000000000000000 0\n`
    ).join("");
}

function openRo(path: string): number {
  const fd = lib().pf_open(enc.encode(path + "\0"), 0o2000000, 0);
  if (fd < 0) throw new Error(`open ${path}: ${-fd}`);
  return fd;
}

function specRules(opt: "t" | "u" | "T" | "U", ...specs: string[]): FwdRule[] {
  const t: FwdRule[] = [];
  for (const s of specs) parseFwdSpec(opt, s, CAPS, t);
  return t;
}

function canConnect(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  return Deno.connect({ hostname, port }).then((c) => {
    c.close();
    return true;
  }, () => false);
}

Deno.test("scan: /proc/net text gives the ports of sockets in the wanted state", () => {
  const b = enc.encode(
    procNet([[0xdddd, 0x0a], [0x07e8, 0x0a], [0xaf3d, 0x06], [53, 0x07]]) + "garbage\n",
  );
  const map = new Uint8Array(8192);
  assert.equal(parseProcNet(b, b.length, STATE_TCP_LISTEN, map), 2);
  assert.ok(isSet(map, 0xdddd) && isSet(map, 0x07e8));
  assert.ok(!isSet(map, 0xaf3d), "TIME_WAIT is not listening");
  const u = new Uint8Array(8192);
  assert.equal(parseProcNet(b, b.length, STATE_UDP_UNCONN, u), 1);
  assert.ok(isSet(u, 53));
});

Deno.test("scan: a table of megabytes is read in pieces through a 64 KiB buffer, no line lost", () => {
  const dir = Deno.makeTempDirSync();
  try {
    // 20 000 sockets, as a busy host's TIME_WAIT after a burst: about 3 MB of text,
    // with every fourth one listening so that lines cut at a read's end count too
    const entries: [number, number][] = [];
    for (let p = 1000; p < 21000; p++) entries.push([p, p % 4 === 0 ? 0x0a : 0x06]);
    Deno.writeTextFileSync(`${dir}/tcp`, procNet(entries));
    assert.ok(Deno.statSync(`${dir}/tcp`).size > 2_000_000);
    const fd = openRo(`${dir}/tcp`);
    try {
      for (let i = 0; i < 3; i++) {
        const map = new Uint8Array(8192);
        assert.equal(scanProcNet(fd, STATE_TCP_LISTEN, map), 5000);
        for (let p = 1000; p < 21000; p++) assert.equal(isSet(map, p), p % 4 === 0, `port ${p}`);
      }
      assert.equal(scanBufferSize(), 64 * 1024, "the buffer did not grow");
    } finally {
      lib().pf_close(fd);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A forwarder with TCP listeners on the host table only (no scanner). */
function tcpForwarder(c: Ctx, loop: Loop): Forwarder {
  return new Forwarder(
    { host: { caps: CAPS, backends: { tcp: tcpHostBackend(c, loop), udp: null } } },
    null,
  );
}

Deno.test("forwarder: replace keeps listeners of unchanged rules, opens new, closes removed", async () => {
  const c = testCtx();
  const loop = new Loop();
  const fwd = tcpForwarder(c, loop);
  const [a, b, d] = [freePort(), freePort(), freePort()];
  try {
    fwd.replace("host", specRules("t", `127.0.0.1/${a}`, `127.0.0.1/${b}`));
    assert.equal(fwd.listeners("host"), 2);
    assert.ok(await canConnect(a) && await canConnect(b));
    const before = fwd.rules("host")[0]!;
    fwd.replace("host", specRules("t", `127.0.0.1/${a}`, `127.0.0.1/${d}`));
    assert.deepEqual(fwd.rules("host")[0], before);
    assert.ok(await canConnect(a), "kept");
    assert.ok(!(await canConnect(b)), "removed");
    assert.ok(await canConnect(d), "added");
    assert.equal(fwd.listeners("host"), 2);
  } finally {
    fwd.closeAll();
  }
  assert.equal(fwd.listeners("host"), 0);
});

Deno.test("forwarder: a rule that can't be bound changes nothing, one line names it", async () => {
  const c = testCtx();
  const loop = new Loop();
  const fwd = tcpForwarder(c, loop);
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const bp = (busy.addr as Deno.NetAddr).port;
  const a = freePort(), n = freePort();
  try {
    fwd.replace("host", specRules("t", `127.0.0.1/${a}`));
    assert.throws(
      () => fwd.replace("host", specRules("t", `127.0.0.1/${n}`, `127.0.0.1/${bp}`)),
      (e: unknown) => {
        assert.ok(e instanceof FwdError);
        assert.equal(
          e.message,
          `Listen failed for HOST TCP port 127.0.0.1/${bp}: Address already in use`,
        );
        return true;
      },
    );
    assert.equal(fwd.rules("host").length, 1);
    assert.ok(await canConnect(a), "old rule still listening");
    assert.ok(!(await canConnect(n)), "new rule rolled back");
    assert.throws(
      () => fwd.replace("host", specRules("t", "192.0.2.99/1234")),
      {
        name: "FwdError",
        message: "Listen failed for HOST TCP port 192.0.2.99/1234: Cannot assign requested address",
      },
    );
    assert.ok(await canConnect(a));
  } finally {
    busy.close();
    fwd.closeAll();
  }
});

Deno.test("forwarder: the listener reference carries the rule's slot and the target port", () => {
  const c = testCtx();
  const loop = new Loop();
  const seen: number[] = [];
  loop.on(EpollType.TCP_LISTEN, (_ev, _fd, index) => seen.push(index));
  const fwd = tcpForwarder(c, loop);
  const p = freePort();
  try {
    fwd.replace("host", specRules("t", `127.0.0.1/${p}:127.0.0.1/9999`));
    const conn = Deno.connect({ hostname: "127.0.0.1", port: p });
    for (let i = 0; i < 50 && seen.length === 0; i++) loop.runOnce(20);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]! & 0xffff, 9999);
    const rule = fwd.ruleAt("host", listenSlot(seen[0]!))!;
    assert.equal(rule.first, p);
    assert.equal(rule.taddr[3], 0x7f000001);
    conn.then((s) => s.close(), () => {});
  } finally {
    fwd.closeAll();
  }
});

/** A backend that records what is open, failing ports in `fail` with `err`. */
class FakeBackend implements ListenBackend {
  readonly open_ = new Set<number>();
  fail = new Set<number>();
  err = -EMFILE;
  open(_rule: FwdRule, _slot: number, port: number, out: Int32Array): number {
    if (this.fail.has(port)) return this.err;
    out[0] = lib().pf_open(enc.encode("/dev/null\0"), 0o2000000, 0);
    this.open_.add(port);
    return 0;
  }
  close(_rule: FwdRule, port: number, fd: number): void {
    lib().pf_close(fd);
    this.open_.delete(port);
  }
}

Deno.test("forwarder: auto follows the other side, leaves out our own listeners, survives EMFILE", () => {
  setEphemeralRange(61000, 65535);
  const dir = Deno.makeTempDirSync();
  const w = (name: string, e: [number, number][]): void =>
    Deno.writeTextFileSync(`${dir}/${name}`, procNet(e));
  // Namespace: UDP bound on 2001, TCP listening on 2002 (UDP follows it), a
  // connected UDP socket on 2003, our own -U listener's port 2004.
  w("ns_udp", [[2001, 7], [2003, 1], [2004, 7]]);
  w("ns_tcp", [[2002, 0x0a]]);
  w("host_udp", [[2004, 7]]);
  w("host_tcp", []);
  const fds = (t: string, u: string) => ({
    tcp4: openRo(`${dir}/${t}`),
    tcp6: -1,
    udp4: openRo(`${dir}/${u}`),
    udp6: -1,
  });
  const scanner = new Scanner(fds("ns_tcp", "ns_udp"), fds("host_tcp", "host_udp"));
  const hostUdp = new FakeBackend(), spliceUdp = new FakeBackend();
  const fwd = new Forwarder({
    host: { caps: CAPS, backends: { tcp: null, udp: hostUdp } },
    splice: { caps: CAPS, backends: { tcp: null, udp: spliceUdp } },
  }, scanner);
  try {
    fwd.replace("splice", specRules("U", "2004"));
    fwd.replace("host", specRules("u", "~2005,auto"));
    assert.deepEqual([...spliceUdp.open_], [2004]);
    assert.deepEqual([...hostUdp.open_].sort(), [2001, 2002]);
    // The namespace closes 2001 and binds 2005 (excluded) and 2006, which we
    // can't bind for lack of descriptors: logged, no exception, tried again.
    w("ns_udp", [[2005, 7], [2006, 7]]);
    hostUdp.fail.add(2006);
    fwd.scanTimer(0);
    assert.deepEqual([...hostUdp.open_].sort(), [2002]);
    hostUdp.fail.clear();
    fwd.scanTimer(1000);
    assert.deepEqual([...hostUdp.open_].sort(), [2002, 2006]);
  } finally {
    fwd.closeAll();
    scanner.close();
    Deno.removeSync(dir, { recursive: true });
    setEphemeralRange(32768, 60999);
  }
  assert.equal(hostUdp.open_.size + spliceUdp.open_.size, 0);
});
