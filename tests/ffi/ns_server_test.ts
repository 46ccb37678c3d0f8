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
