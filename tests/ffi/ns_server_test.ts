// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

// The namespace socket server (passt-helper ns-server): sockets for TCP and
// UDP come from inside the namespace; anything else is refused.

import assert from "node:assert/strict";
import { helperPath, lib } from "../../ffi/lib.ts";
import * as sys from "../../ffi/sys.ts";
import { sockaddrIn } from "../_helpers/sockaddr.ts";

const AF_PACKET = 17;
const EAFNOSUPPORT = 97;
const EPROTOTYPE = 91;
const EPROTONOSUPPORT = 93;
const IPPROTO_ICMP = 1;
const EINVAL = 22;
const EADDRINUSE = 98;
const SO_DOMAIN = 39;
/** Most sockets one batch request may ask for (native/passt_ffi.h). */
const SRV_BATCH_MAX = 32;

Deno.test({
  name: "ns server: TCP and UDP sockets in the namespace, nothing else",
  ignore: Deno.uid() !== 0,
  fn(): void {
    const ffi = lib();
    const p = new Int32Array(2);
    sys.sysCheck(ffi.pf_pipe2(p, sys.O_CLOEXEC), "create pipe");
    const pid = ffi.pf_spawn_ns(
      sys.argvBuf(["sleep", "30"]),
      sys.CLONE_NEWUSER | sys.CLONE_NEWNET,
      p[0]!,
      null,
    );
    ffi.pf_close(p[0]!);
    assert.ok(pid > 0);
    Deno.writeTextFileSync(`/proc/${pid}/uid_map`, `0 ${Deno.uid()} 1`);
    Deno.writeTextFileSync(`/proc/${pid}/setgroups`, "deny");
    Deno.writeTextFileSync(`/proc/${pid}/gid_map`, `0 ${Deno.gid()} 1`);
    ffi.pf_write(p[1]!, new Uint8Array(1), 0, 1);
    ffi.pf_close(p[1]!);
    const userns = ffi.pf_open(sys.cstr(`/proc/${pid}/ns/user`), sys.O_RDONLY | sys.O_CLOEXEC, 0);
    const netns = ffi.pf_open(sys.cstr(`/proc/${pid}/ns/net`), sys.O_RDONLY | sys.O_CLOEXEC, 0);
    try {
      // Before the server: a batch is one call per socket into the namespace
      const early = new Int32Array(2);
      const stream0 = sys.SOCK_STREAM | sys.SOCK_CLOEXEC;
      assert.equal(
        ffi.pf_ns_sockets(userns, netns, sys.AF_INET6, stream0, 0, new Uint8Array(early.buffer), 2),
        2,
      );
      for (const fd of early) {
        assert.equal(ffi.pf_getsockopt_int(fd, sys.SOL_SOCKET, SO_DOMAIN), sys.AF_INET6);
        ffi.pf_close(fd);
      }
      assert.equal(ffi.pf_ns_server_start(sys.cstr(helperPath()), userns, netns, 1 << 10, -1), 0);
      // A port below 1024 in the namespace: CAP_NET_BIND_SERVICE is kept
      const sa = sockaddrIn(0x7f000001, 80);
      const fd = ffi.pf_ns_bind_socket(
        userns,
        netns,
        sys.AF_INET,
        sys.SOCK_STREAM | sys.SOCK_CLOEXEC,
        0,
        sa,
        sa.length,
        1,
      );
      assert.ok(fd >= 0, `bound port 80 in the namespace: ${fd}`);
      ffi.pf_close(fd);
      const udp = ffi.pf_ns_socket(userns, netns, sys.AF_INET6, sys.SOCK_DGRAM, 0);
      assert.ok(udp >= 0);
      ffi.pf_close(udp);
      // Refused by the server before its seccomp filter sees them
      assert.equal(ffi.pf_ns_socket(userns, netns, AF_PACKET, sys.SOCK_RAW, 0), -EAFNOSUPPORT);
      assert.equal(ffi.pf_ns_socket(userns, netns, sys.AF_INET, sys.SOCK_RAW, 1), -EPROTOTYPE);
      assert.equal(
        ffi.pf_ns_socket(userns, netns, sys.AF_INET, sys.SOCK_DGRAM, IPPROTO_ICMP),
        -EPROTONOSUPPORT,
      );
      // A batch, as the spliced connections' pools ask: the full count, each
      // one a socket of the namespace (where one is bound, a socket made
      // there can't bind the same address, one of ours can)
      const out = new Int32Array(SRV_BATCH_MAX);
      const out8 = new Uint8Array(out.buffer);
      const stream = sys.SOCK_STREAM | sys.SOCK_CLOEXEC;
      const n = ffi.pf_ns_sockets(userns, netns, sys.AF_INET, stream, 0, out8, SRV_BATCH_MAX);
      assert.equal(n, SRV_BATCH_MAX, `one request, every socket: ${n}`);
      const fds = [...out];
      assert.equal(new Set(fds).size, SRV_BATCH_MAX);
      try {
        for (const fd of fds) {
          assert.equal(ffi.pf_getsockopt_int(fd, sys.SOL_SOCKET, SO_DOMAIN), sys.AF_INET);
        }
        const at = sockaddrIn(0x7f000001, 4099);
        assert.equal(ffi.pf_bind(fds[SRV_BATCH_MAX - 1]!, at, at.length), 0);
        const inside = ffi.pf_ns_socket(userns, netns, sys.AF_INET, stream, 0);
        assert.equal(ffi.pf_bind(inside, at, at.length), -EADDRINUSE, "in the namespace");
        ffi.pf_close(inside);
        const outside = ffi.pf_socket(sys.AF_INET, stream, 0);
        assert.equal(ffi.pf_bind(outside, at, at.length), 0, "not in ours");
        ffi.pf_close(outside);
      } finally {
        for (const fd of fds) ffi.pf_close(fd);
      }
      // Counts out of range, and what the server refuses, in a batch too
      for (const count of [0, SRV_BATCH_MAX + 1]) {
        assert.equal(
          ffi.pf_ns_sockets(userns, netns, sys.AF_INET, stream, 0, out8, count),
          -EINVAL,
        );
      }
      assert.equal(
        ffi.pf_ns_sockets(userns, netns, AF_PACKET, sys.SOCK_RAW, 0, out8, 2),
        -EAFNOSUPPORT,
      );
      // And the server still serves
      const again = ffi.pf_ns_socket(userns, netns, sys.AF_INET, sys.SOCK_STREAM, 0);
      assert.ok(again >= 0);
      ffi.pf_close(again);
    } finally {
      ffi.pf_kill(pid, sys.SIGKILL);
      ffi.pf_waitpid(pid, new Int32Array(1), 0);
      ffi.pf_close(userns);
      ffi.pf_close(netns);
    }
  },
});
