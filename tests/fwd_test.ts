// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib } from "../ffi/lib.ts";
import { parsePortSpec } from "../src/conf/port_spec.ts";
import {
  parseProcNet,
  scanProcNet,
  STATE_TCP_LISTEN,
  STATE_UDP_UNCONN,
  TcpFwd,
} from "../src/fwd.ts";
import { Loop } from "../src/loop/loop.ts";
import { testCtx } from "./_helpers/frames.ts";
import { freePort } from "./_helpers/e2e.ts";

const enc = new TextEncoder();

function isSet(map: Uint8Array, p: number): boolean {
  return (map[p >> 3]! & (1 << (p & 7))) !== 0;
}

const FIXTURE = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid",
  "   0: 0100007F:DDDD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0",
  "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0",
  "   2: 0100007F:AF3D 0100007F:C202 06 00000000:00000000 03:0000114C 00000000     0",
  "   3: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0",
  "   4: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0",
  "garbage line",
  "",
].join("\n");

Deno.test("fwd: /proc/net text gives the ports of sockets in the wanted state", () => {
  const b = enc.encode(FIXTURE);
  const map = new Uint8Array(8192);
  assert.equal(parseProcNet(b, b.length, STATE_TCP_LISTEN, map), 3);
  assert.ok(isSet(map, 0xdddd));
  assert.ok(isSet(map, 0x07e8));
  assert.ok(isSet(map, 22), "IPv6 line");
  assert.ok(!isSet(map, 0xaf3d), "TIME_WAIT is not listening");
  assert.ok(!isSet(map, 53), "UDP state is not TCP LISTEN");
  const u = new Uint8Array(8192);
  assert.equal(parseProcNet(b, b.length, STATE_UDP_UNCONN, u), 1);
  assert.ok(isSet(u, 53));
});

Deno.test("fwd: scanning the real /proc/net/tcp finds a listener of ours", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const fd = lib().pf_open(enc.encode("/proc/net/tcp\0"), 0o2000000, 0);
  assert.ok(fd >= 0);
  try {
    const map = new Uint8Array(8192);
    assert.ok(scanProcNet(fd, STATE_TCP_LISTEN, map) >= 1);
    assert.ok(isSet(map, port));
    // Read again from the same descriptor (rewinds).
    l.close();
    const again = new Uint8Array(8192);
    scanProcNet(fd, STATE_TCP_LISTEN, again);
    assert.ok(!isSet(again, port), "closed listener gone on rescan");
  } finally {
    lib().pf_close(fd);
  }
});

function canConnect(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  return Deno.connect({ hostname, port }).then((c) => {
    c.close();
    return true;
  }, () => false);
}

Deno.test("fwd: -t with a mapping binds one dual-stack listener serving IPv4 and IPv6", async () => {
  const c = testCtx();
  const p = freePort();
  parsePortSpec(c.conf.tcpIn, `${p}:${p + 1000 > 65535 ? p - 1000 : p + 1000}`, "t", "pasta", true);
  const loop = new Loop();
  const f = new TcpFwd(c, loop);
  try {
    assert.equal(f.bindInbound(), 1);
    assert.equal(f.count, 1, "one dual-stack socket");
    assert.ok(await canConnect(p, "127.0.0.1"), "IPv4 reaches the IPv6 listener");
    assert.ok(await canConnect(p, "::1"));
  } finally {
    f.closeAll();
    assert.equal(f.count, 0);
    lib().pf_close(loop.epfd);
  }
  assert.ok(!(await canConnect(p)), "closed");
});

Deno.test("fwd: address-bound spec binds only that address; exclusions are skipped", async () => {
  const c = testCtx();
  const p = freePort();
  parsePortSpec(c.conf.tcpIn, `127.0.0.1/${p}-${p + 2},~${p + 1}`, "t", "pasta", true);
  const loop = new Loop();
  const f = new TcpFwd(c, loop);
  try {
    const n = f.bindInbound();
    assert.ok(n >= 1);
    assert.ok(f.sock4[p]! >= 0 && f.sock6[p]! < 0, "IPv4 only for an IPv4 address");
    assert.equal(f.sock4[p + 1], -1, "excluded port");
    assert.ok(await canConnect(p, "127.0.0.1"));
    assert.ok(!(await canConnect(p, "::1")));
  } finally {
    f.closeAll();
    lib().pf_close(loop.epfd);
  }
});

Deno.test("fwd: no port bound is an error", () => {
  const c = testCtx();
  const l = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  c.conf.v6 = false;
  parsePortSpec(c.conf.tcpIn, `${p}`, "t", "pasta", true);
  const loop = new Loop();
  const f = new TcpFwd(c, loop);
  try {
    assert.throws(() => f.bindInbound(), /Failed to bind any port/);
  } finally {
    l.close();
    lib().pf_close(loop.epfd);
  }
});

Deno.test("fwd: auto mode follows the namespace's listening ports on rescan", async () => {
  const c = testCtx();
  c.conf.tcpIn.mode = "auto";
  const p = freePort();
  const q = freePort();
  c.conf.tcpOut.map[q >> 3]! |= 1 << (q & 7); // forwarded the other way: never bound here
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/tcp`;
  const line = (port: number): string =>
    `   0: 0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A 0`;
  Deno.writeTextFileSync(path, "  sl  local_address rem_address   st\n");
  const fd = lib().pf_open(enc.encode(path + "\0"), 0o2000000, 0);
  const loop = new Loop();
  const f = new TcpFwd(c, loop);
  try {
    f.startAuto({ tcp4: fd, tcp6: -1 });
    assert.equal(f.count, 0);
    Deno.writeTextFileSync(path, `  sl  local_address rem_address   st\n${line(p)}\n${line(q)}\n`);
    f.rescan();
    assert.ok(f.sock6[p]! >= 0 || f.sock4[p]! >= 0, "listener appears");
    assert.equal(f.sock4[q], -1);
    assert.equal(f.sock6[q], -1);
    assert.ok(await canConnect(p));
    Deno.writeTextFileSync(path, "  sl  local_address rem_address   st\n");
    f.rescan();
    assert.equal(f.count, 0, "listener closed when the namespace stops listening");
    assert.ok(!(await canConnect(p)));
  } finally {
    f.closeAll();
    lib().pf_close(fd);
    lib().pf_close(loop.epfd);
    Deno.removeSync(dir, { recursive: true });
  }
});
