// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// Namespace entry points of the native library: pf_spawn_ns() makes a user and network
// namespace with a process in it, the pf_ns_* functions create descriptors there.

import assert from "node:assert/strict";
import { EADDRINUSE, EAGAIN, ENODEV, strerror } from "../../ffi/errno.ts";
import { lib } from "../../ffi/lib.ts";
import * as sys from "../../ffi/sys.ts";
import {
  exitCodeOf,
  fromCstr,
  parseSockaddr,
  type SockaddrIn,
  sockaddrIn,
} from "../_helpers/sockaddr.ts";

const L = lib();

const NS_FLAGS = sys.CLONE_NEWUSER | sys.CLONE_NEWNET;

/** A process in new namespaces and descriptors for them. */
interface Sandbox {
  pid: number;
  userns: number;
  netns: number;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Start `argv` in new namespaces, map our IDs to root there, release it. */
function spawn(argv: string[], release = true): Sandbox | number {
  const p = new Int32Array(2);
  sys.sysCheck(L.pf_pipe2(p, sys.O_CLOEXEC), "create pipe");
  const pid = L.pf_spawn_ns(sys.argvBuf(argv), NS_FLAGS, p[0]!, null);
  L.pf_close(p[0]!);
  if (pid < 0) {
    L.pf_close(p[1]!);
    return pid;
  }
  try {
    Deno.writeTextFileSync(`/proc/${pid}/uid_map`, `0 ${Deno.uid()} 1`);
    Deno.writeTextFileSync(`/proc/${pid}/setgroups`, "deny");
    Deno.writeTextFileSync(`/proc/${pid}/gid_map`, `0 ${Deno.gid()} 1`);
  } catch {
    // Checked by the callers through what the process can do
  }
  const userns = L.pf_open(sys.cstr(`/proc/${pid}/ns/user`), sys.O_RDONLY | sys.O_CLOEXEC, 0);
  const netns = L.pf_open(sys.cstr(`/proc/${pid}/ns/net`), sys.O_RDONLY | sys.O_CLOEXEC, 0);
  if (release) L.pf_write(p[1]!, new Uint8Array(1), 0, 1);
  L.pf_close(p[1]!);
  return { pid, userns, netns };
}

/** Open a tap device in a sandbox's namespaces; throws SysError. */
function tapOpenIn(userns: number, netns: number, name: string): { fd: number; name: string } {
  const b = new Uint8Array(sys.IFNAMSIZ);
  b.set(sys.cstr(name));
  const rc = L.pf_ns_tap_open(userns, netns, b);
  const fd = sys.sysCheck(rc, `open tap device "${name}" in namespace`, "TUNSETIFF");
  return { fd, name: fromCstr(b) };
}

/** Reap a child, giving its shell-style exit code. */
function reap(pid: number): number {
  const st = new Int32Array(1);
  sys.sysCheck(L.pf_waitpid(pid, st, 0), `wait for ${pid}`);
  return exitCodeOf(st[0]!);
}

/** `sleep 30` in new namespaces, for the calls under test to act on. */
function sleeper(): Sandbox {
  const s = spawn(["sleep", "30"]);
  assert.ok(typeof s !== "number", `can't create namespaces: ${s}`);
  return s;
}

function stop(s: Sandbox): void {
  L.pf_kill(s.pid, sys.SIGKILL);
  reap(s.pid);
  L.pf_close(s.userns);
  L.pf_close(s.netns);
}

/** Wait until the child has exec'd `name`. */
function waitExec(pid: number, name: string): void {
  for (let i = 0; i < 400; i++) {
    if (Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === name) return;
    sleep(5);
  }
  assert.fail(`${pid} never became ${name}`);
}

/** Why namespace tests can't run here, or false if they can. */
function probeNamespaces(): string | false {
  const s = spawn(["true"]);
  if (typeof s === "number") return `can't create namespaces: ${strerror(-s)}`;
  const code = reap(s.pid);
  L.pf_close(s.userns);
  L.pf_close(s.netns);
  return code === 0 ? false : `"true" in new namespaces exited with ${code}`;
}

/** Why tap tests can't run here, or false if they can. */
function probeTap(): string | false {
  const s = spawn(["sleep", "10"]);
  if (typeof s === "number") return "no namespaces";
  try {
    L.pf_close(tapOpenIn(s.userns, s.netns, "").fd);
    return false;
  } catch (e) {
    return `no usable /dev/net/tun in a namespace: ${(e as Error).message}`;
  } finally {
    stop(s);
  }
}

const noNs = probeNamespaces();
const noTap = noNs || probeTap();

Deno.test({
  name: "pf_spawn_ns() holds the command until released, then execs it",
  ignore: noNs !== false,
  fn(): void {
    const s = spawn(["sleep", "30"], false);
    assert.ok(typeof s !== "number");
    // Unreleased: end of file on the start pipe makes the child exit with 1
    assert.equal(reap(s.pid), 1);
    L.pf_close(s.userns);
    L.pf_close(s.netns);

    const t = sleeper();
    try {
      waitExec(t.pid, "sleep");
      const fd = L.pf_ns_open(
        t.userns,
        t.netns,
        sys.cstr("/proc/sys/net/ipv4/ping_group_range"),
        0,
      );
      assert.ok(fd >= 0, `open ping_group_range: ${fd}`);
      const buf = new Uint8Array(64);
      const n = L.pf_read(fd, buf, 0, 64);
      L.pf_close(fd);
      // Group 0 in there is our group out here, and we read it from out here
      const gid = Deno.gid();
      assert.equal(new TextDecoder().decode(buf.subarray(0, n)).trim(), `${gid}\t${gid}`);
    } finally {
      stop(t);
    }
  },
});

Deno.test({
  name: "pf_spawn_ns() runs a login-shell argv[0] and reports exec failures as 127",
  ignore: noNs !== false,
  fn(): void {
    const s = spawn(["-sh", "-c", "exit 7"]);
    assert.ok(typeof s !== "number");
    assert.equal(reap(s.pid), 7);
    L.pf_close(s.userns);
    L.pf_close(s.netns);

    const f = spawn(["/nonexistent/command"]);
    assert.ok(typeof f !== "number");
    assert.equal(reap(f.pid), 127);
    L.pf_close(f.userns);
    L.pf_close(f.netns);

    assert.equal(L.pf_spawn_ns(sys.argvBuf([]), NS_FLAGS, 0, null), -22);
  },
});

Deno.test({
  name: "pf_ns_bind_socket() binds a port in the namespace that is taken on the host",
  ignore: noNs !== false,
  fn(): void {
    const host = L.pf_socket(sys.AF_INET, sys.SOCK_STREAM | sys.SOCK_CLOEXEC, 0);
    sys.sysCheck(L.pf_bind(host, sockaddrIn(0, 0), 16), "bind host socket");
    sys.sysCheck(L.pf_listen(host, 1), "listen");
    const sa = new Uint8Array(sys.SOCKADDR_MAX);
    L.pf_getsockname(host, sa);
    const port = (parseSockaddr(sa) as SockaddrIn).port;
    const s = sleeper();
    try {
      const any = sockaddrIn(0, port);
      const type = sys.SOCK_STREAM | sys.SOCK_NONBLOCK | sys.SOCK_CLOEXEC;
      assert.equal(
        L.pf_ns_bind_socket(-1, -1, sys.AF_INET, type, 0, any, any.length, 16),
        -EADDRINUSE,
      );
      const fd = L.pf_ns_bind_socket(s.userns, s.netns, sys.AF_INET, type, 0, any, any.length, 16);
      assert.ok(fd >= 0, `bind in namespace: ${fd}`);
      assert.equal(L.pf_getsockopt_int(fd, sys.SOL_SOCKET, sys.SO_REUSEADDR), 1);
      const peer = new Uint8Array(sys.SOCKADDR_MAX);
      assert.equal(L.pf_accept4(fd, peer, 0), -EAGAIN, "a listening socket");
      L.pf_close(fd);

      const udp = L.pf_ns_socket(
        s.userns,
        s.netns,
        sys.AF_INET,
        sys.SOCK_DGRAM | sys.SOCK_CLOEXEC,
        0,
      );
      assert.ok(udp >= 0);
      assert.equal(L.pf_bind(udp, sockaddrIn(0, port), 16), 0, "same port, other namespace");
      L.pf_close(udp);
    } finally {
      stop(s);
      L.pf_close(host);
    }
  },
});

Deno.test({
  name: "pf_ns_socket(AF_NETLINK) and pf_ns_ifindex() see the namespace's interfaces",
  ignore: noNs !== false,
  fn(): void {
    const s = sleeper();
    try {
      const nl = L.pf_ns_socket(
        s.userns,
        s.netns,
        sys.AF_NETLINK,
        sys.SOCK_RAW | sys.SOCK_CLOEXEC,
        0,
      );
      assert.ok(nl >= 0, `netlink socket: ${nl}`);
      const sa = new Uint8Array(sys.SOCKADDR_MAX);
      assert.equal(L.pf_getsockname(nl, sa), 12, "bound");
      L.pf_close(nl);
      assert.equal(L.pf_ns_ifindex(s.userns, s.netns, sys.cstr("lo")), 1);
      const hostOnly = [...Deno.readDirSync("/sys/class/net")].map((e) => e.name)
        .find((n) => n !== "lo");
      if (hostOnly) assert.equal(L.pf_ns_ifindex(s.userns, s.netns, sys.cstr(hostOnly)), -ENODEV);
    } finally {
      stop(s);
    }
  },
});

/** Send one netlink request and check its acknowledgement. */
function nlRequest(fd: number, msg: Uint8Array): void {
  assert.equal(L.pf_send(fd, msg, 0, msg.length, 0), msg.length);
  const buf = new Uint8Array(4096);
  const n = L.pf_recv(fd, buf, 0, buf.length, 0);
  const dv = new DataView(buf.buffer);
  assert.ok(n >= 20);
  assert.equal(dv.getUint16(4, true), 2, "NLMSG_ERROR");
  assert.equal(dv.getInt32(16, true), 0, "acknowledged without error");
}

/** RTM_NEWLINK setting IFF_UP, and RTM_NEWADDR for 10.0.0.1/24. */
function upWithAddress(nl: number, ifi: number): void {
  const link = new Uint8Array(32);
  const l = new DataView(link.buffer);
  l.setUint32(0, 32, true);
  l.setUint16(4, 16, true); // RTM_NEWLINK
  l.setUint16(6, 0x1 | 0x4, true); // NLM_F_REQUEST | NLM_F_ACK
  l.setUint32(8, 1, true);
  l.setInt32(20, ifi, true);
  l.setUint32(24, 1, true); // IFF_UP
  l.setUint32(28, 1, true);
  nlRequest(nl, link);

  const addr = new Uint8Array(40);
  const a = new DataView(addr.buffer);
  a.setUint32(0, 40, true);
  a.setUint16(4, 20, true); // RTM_NEWADDR
  a.setUint16(6, 0x1 | 0x4 | 0x400 | 0x200, true); // REQUEST, ACK, CREATE, EXCL
  a.setUint32(8, 2, true);
  addr[16] = sys.AF_INET;
  addr[17] = 24;
  a.setUint32(20, ifi, true);
  for (const [off, type] of [[24, 2], [32, 1]] as const) { // IFA_LOCAL, IFA_ADDRESS
    a.setUint16(off, 8, true);
    a.setUint16(off + 2, type, true);
    a.setUint32(off + 4, 0x0a000001);
  }
  nlRequest(nl, addr);
}

Deno.test({
  name: "a tap device in a namespace answers an ARP request through the batch calls",
  ignore: noTap !== false,
  fn(): void {
    const s = sleeper();
    const tap = tapOpenIn(s.userns, s.netns, "pftest%d");
    const nl = L.pf_ns_socket(
      s.userns,
      s.netns,
      sys.AF_NETLINK,
      sys.SOCK_RAW | sys.SOCK_CLOEXEC,
      0,
    );
    const ep = L.pf_epoll_create();
    try {
      assert.match(tap.name, /^pftest\d+$/);
      const ifi = L.pf_ns_ifindex(s.userns, s.netns, sys.cstr(tap.name));
      assert.ok(ifi > 1, `index of ${tap.name}: ${ifi}`);
      assert.equal(L.pf_ifindex(sys.cstr(tap.name)), -ENODEV, "not in our namespace");
      upWithAddress(nl, ifi);

      const arena = new Uint8Array(65536);
      const w = new Uint32Array(arena.buffer);
      const dv = new DataView(arena.buffer);
      const REQ = 1024;
      arena.fill(0xff, REQ, REQ + 6);
      arena.set([2, 0, 0, 0, 0, 2], REQ + 6);
      dv.setUint16(REQ + 12, 0x0806);
      arena.set([0, 1, 8, 0, 6, 4, 0, 1], REQ + 14);
      arena.set([2, 0, 0, 0, 0, 2, 10, 0, 0, 2], REQ + 22);
      arena.set([0, 0, 0, 0, 0, 0, 10, 0, 0, 1], REQ + 32);
      w.set([REQ, 42], 0);
      assert.equal(L.pf_tap_write_batch(tap.fd, arena, 0, 1), 1);

      L.pf_epoll_ctl(ep, sys.EPOLL_CTL_ADD, tap.fd, sys.EPOLLIN, 1, 0);
      const ev = new Uint8Array(64);
      const deadline = Date.now() + 3000;
      let reply = -1;
      while (reply < 0 && Date.now() < deadline) {
        L.pf_epoll_wait(ep, ev, 4, 100);
        const n = L.pf_tap_read_batch(tap.fd, arena, 8192, 32768, 64, 16, 1600);
        assert.ok(n >= 0, `tap read: ${n}`);
        for (let i = 0; i < n; i++) {
          const off = w[16 + 2 * i]!;
          const len = w[16 + 2 * i + 1]!;
          if (len >= 42 && dv.getUint16(off + 12) === 0x0806 && dv.getUint16(off + 20) === 2) {
            reply = off;
          }
        }
      }
      assert.ok(reply >= 0, "ARP reply read from the tap device");
      assert.deepEqual([...arena.subarray(reply, reply + 6)], [2, 0, 0, 0, 0, 2]);
      assert.equal(dv.getUint32(reply + 28), 0x0a000001, "sender is 10.0.0.1");
    } finally {
      L.pf_close(ep);
      L.pf_close(nl);
      L.pf_close(tap.fd);
      stop(s);
    }
  },
});
