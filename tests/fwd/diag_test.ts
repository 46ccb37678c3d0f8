// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

import assert from "node:assert/strict";
import { lib } from "../../ffi/lib.ts";
import { AF_NETLINK, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_RAW } from "../../ffi/sys.ts";
import { DiagSocket, NETLINK_SOCK_DIAG } from "../../src/fwd/diag.ts";
import { listenSocket } from "../../src/fwd/listen.ts";
import { MAP_BYTES, type ProcNetFds, Scanner } from "../../src/fwd/scan.ts";

function isSet(map: Uint8Array, p: number): boolean {
  return (map[p >> 3]! & (1 << (p & 7))) !== 0;
}

function diag(): DiagSocket {
  const fd = lib().pf_socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  assert.ok(fd >= 0, `NETLINK_SOCK_DIAG socket: ${fd}`);
  return new DiagSocket(fd);
}

/** A UDP socket bound to a free port of 127.0.0.1 (`v6`: ::1): [fd, port]. */
function udpBound(v6: boolean): [number, number] {
  const addr = v6 ? new Uint32Array([0, 0, 0, 1]) : new Uint32Array([0, 0, 0xffff, 0x7f000001]);
  for (let port = 20000 + (Deno.pid % 20000);; port++) {
    const fd = listenSocket(addr, false, "", port, false, SOCK_DGRAM);
    if (fd >= 0) return [fd, port];
  }
}

function procFds(): ProcNetFds {
  const o = (p: string) => lib().pf_open(new TextEncoder().encode(p + "\0"), 0, 0);
  return {
    tcp4: o("/proc/net/tcp"),
    tcp6: o("/proc/net/tcp6"),
    udp4: o("/proc/net/udp"),
    udp6: o("/proc/net/udp6"),
  };
}

Deno.test("fwd diag: listening TCP and bound UDP ports, both families", () => {
  const tcp4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tcp6 = Deno.listen({ hostname: "::1", port: 0 });
  const udp4 = udpBound(false), udp6 = udpBound(true);
  const d = diag();
  try {
    const tcp = new Uint8Array(MAP_BYTES), udp = new Uint8Array(MAP_BYTES);
    assert.ok(d.listening(6, tcp) >= 2);
    assert.ok(d.listening(17, udp) >= 2);
    const tcpPorts = [tcp4, tcp6].map((l): [number, number] => [0, (l.addr as Deno.NetAddr).port]);
    for (const [, p] of tcpPorts) assert.ok(isSet(tcp, p), `TCP ${p} listening`);
    for (const [, p] of [udp4, udp6]) assert.ok(isSet(udp, p), `UDP ${p} bound`);
    // Sequence numbers: answers never mix, however many requests.
    for (let i = 0; i < 50; i++) {
      const again = new Uint8Array(MAP_BYTES);
      d.listening(i & 1 ? 17 : 6, again);
      for (const [, p] of i & 1 ? [udp4, udp6] : tcpPorts) assert.ok(isSet(again, p));
    }
  } finally {
    d.close();
    for (const l of [tcp4, tcp6]) l.close();
    for (const [fd] of [udp4, udp6]) lib().pf_close(fd);
  }
});

Deno.test("fwd diag: a scanner uses sock_diag, and /proc/net where the socket can't answer", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  // A pipe is no socket: the request can't even be sent.
  const pipe = new Int32Array(2);
  assert.equal(lib().pf_pipe2(new Uint8Array(pipe.buffer), 0o4000), 0);
  const broken = new DiagSocket(pipe[0]!);
  const s = new Scanner(procFds(), procFds(), diag(), broken);
  try {
    s.scan();
    assert.ok(s.usedDiag("ns", 6) && s.usedDiag("ns", 17));
    assert.ok(!s.usedDiag("host", 6) && !s.usedDiag("host", 17));
    assert.ok(isSet(s.nsTcp, port) && isSet(s.nsUdp, port), "TCP listener, UDP follows it");
    assert.ok(isSet(s.hostTcp, port) && isSet(s.hostUdp, port), "the same from /proc/net");
  } finally {
    s.close();
    lib().pf_close(pipe[1]!);
    l.close();
  }
});

Deno.test("fwd diag: without /proc/net files, a failed request keeps the last answer", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const d = diag();
  const s = new Scanner(null, null, d, null);
  const pipe = new Int32Array(2);
  assert.equal(lib().pf_pipe2(new Uint8Array(pipe.buffer), 0o4000), 0);
  try {
    s.scan();
    assert.ok(isSet(s.nsTcp, port));
    // The socket now fails every request (a pipe in its place): nothing is taken away
    assert.ok(lib().pf_dup2(pipe[0]!, d.fd) >= 0);
    s.scan();
    assert.ok(isSet(s.nsTcp, port) && isSet(s.nsUdp, port), "the last answer stays");
    assert.ok(s.usedDiag("ns", 6), "and sock_diag is asked again next time");
  } finally {
    s.close();
    lib().pf_close(pipe[0]!);
    lib().pf_close(pipe[1]!);
    l.close();
  }
});

Deno.test("fwd diag: a side whose sock_diag fails needs its /proc/net files, then reads them", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  // A pipe is no socket: the request can't even be sent.
  const pipe = new Int32Array(2);
  assert.equal(lib().pf_pipe2(new Uint8Array(pipe.buffer), 0o4000), 0);
  const s = new Scanner(null, null, diag(), new DiagSocket(pipe[0]!));
  const none = new Scanner(null, null, null, null);
  try {
    s.scan();
    assert.equal(s.needsFiles("ns"), false, "sock_diag answered");
    assert.equal(s.needsFiles("host"), true, "sock_diag failed, no files");
    assert.ok(isSet(s.nsTcp, port) && !isSet(s.hostTcp, port));
    s.useFiles("host", procFds());
    s.scan();
    assert.equal(s.needsFiles("host"), false);
    assert.ok(!s.usedDiag("host", 6), "the files from now on");
    assert.ok(isSet(s.hostTcp, port) && isSet(s.hostUdp, port), "read from /proc/net");
    none.scan();
    assert.ok(none.needsFiles("ns") && none.needsFiles("host"), "no sock_diag socket at all");
  } finally {
    s.close();
    none.close();
    lib().pf_close(pipe[1]!);
    l.close();
  }
});
