// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/listen.ts` - TCP listening sockets for forwarding rules
 *
 * Theory of operation: the {@linkcode ListenBackend}s of TCP. On the host
 * (`-t`), as upstream: a dual-stack rule gets one IPv6 socket accepting IPv4
 * too (IPV6_V6ONLY off) when both families are enabled, an address gets a
 * socket of its family (IPv6 ones IPV6_V6ONLY), `%IF` adds SO_BINDTODEVICE,
 * `--freebind` IP_FREEBIND / IPV6_FREEBIND; SO_REUSEADDR and a backlog of 128
 * always. In the namespace (`-T`, bound to its loopback interface), one socket
 * on 127.0.0.1 and one on ::1, created there by a native helper. The epoll
 * reference is `TCP_LISTEN` with the target port, {@linkcode LISTEN_OUTBOUND}
 * for namespace listeners and the rule's slot (`fwd/fwd.ts`); `tcp.ts`
 * accepts.
 *
 * UDP's listeners are also the sockets replies leave from, so `udp.ts` and
 * `udp_splice.ts` implement their own backends.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { EMFILE } from "../../ffi/errno.ts";
import {
  EPOLLIN,
  IP_FREEBIND,
  IPPROTO_IPV6,
  IPV6_FREEBIND,
  IPV6_V6ONLY,
  SO_BINDTODEVICE,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
} from "../../ffi/sys.ts";
import type { Ctx } from "../context.ts";
import type { Loop } from "../loop/loop.ts";
import { EpollType, SOCKET_MAX } from "../loop/loop.ts";
import * as sa from "../wire/sockaddr.ts";
import type { ListenBackend } from "./fwd.ts";
import { withSlot } from "./fwd.ts";
import { FWD_DUAL_STACK_ANY } from "./fwd_rule.ts";
import { targetPort } from "./nat.ts";
import * as inany from "../wire/inany.ts";

/** Backlog of listening sockets (upstream). */
export const LISTEN_BACKLOG = 128;
/** Flag in a TCP_LISTEN reference index: a namespace-side (-T) listener. */
export const LISTEN_OUTBOUND = 1 << 16;
/** Flag in a TCP_LISTEN reference index: the listener is IPv6 only. */
export const LISTEN_V6 = 1 << 17;

/** The namespace to create `-T` listeners in. */
export interface ListenNs {
  userns: number;
  netns: number;
}

/**
 * Opens a non-blocking TCP (or, `dgram`, UDP) socket bound to `addr` (inany
 * words, the family picked from it unless `dual`) at `port`, on `ifname` ("" for
 * none), listening if TCP. Returns the fd or -errno.
 */
export function listenSocket(
  addr: Uint32Array,
  dual: boolean,
  ifname: string,
  port: number,
  freebind: boolean,
  type = SOCK_STREAM,
): number {
  const ffi = lib();
  const v6 = dual || !inany.isV4(addr, 0);
  const fd = ffi.pf_socket(v6 ? sa.AF_INET6 : sa.AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  if (fd > SOCKET_MAX) {
    ffi.pf_close(fd);
    return -EMFILE;
  }
  ffi.pf_setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (v6) ffi.pf_setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual ? 0 : 1);
  if (freebind) {
    ffi.pf_setsockopt_int(fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND, 1);
  }
  if (ifname) {
    const name = new TextEncoder().encode(ifname + "\0");
    const rc = ffi.pf_setsockopt_buf(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    if (rc < 0) {
      ffi.pf_close(fd);
      return rc;
    }
  }
  const b = new Uint8Array(sa.SOCKADDR_MAX);
  const d = new DataView(b.buffer);
  const len = v6
    ? sa.writeIn6(d, 0, dual ? new Uint32Array(4) : addr, port)
    : sa.writeIn4(d, 0, addr[3]!, port);
  let rc = ffi.pf_bind(fd, b, len);
  if (rc === 0 && type === SOCK_STREAM) rc = ffi.pf_listen(fd, LISTEN_BACKLOG);
  if (rc < 0) {
    ffi.pf_close(fd);
    return rc;
  }
  return fd;
}

/** TCP listeners on the host, for `-t` rules. */
export function tcpHostBackend(c: Ctx, loop: Loop): ListenBackend {
  return {
    open(rule, slot, port, out): number {
      const conf = c.conf;
      const anyRule = (rule.flags & FWD_DUAL_STACK_ANY) !== 0;
      // Dual-stack: one socket for both families when both are enabled.
      const dual = anyRule && conf.v4 && conf.v6;
      let addr = rule.addr;
      if (anyRule && !dual) {
        addr = new Uint32Array(4);
        if (conf.v4) inany.setV4(addr, 0, 0);
      }
      const fd = listenSocket(addr, dual, rule.ifname, port, conf.freebind);
      if (fd < 0) return fd;
      const v6only = !dual && !inany.isV4(addr, 0);
      const index = withSlot(targetPort(rule, port) | (v6only ? LISTEN_V6 : 0), slot);
      const rc = loop.add(fd, EpollType.TCP_LISTEN, index, EPOLLIN);
      if (rc < 0) {
        lib().pf_close(fd);
        return rc;
      }
      out[v6only ? 1 : 0] = fd;
      return 0;
    },
    close(_rule, _port, fd): void {
      loop.del(fd);
      lib().pf_close(fd);
    },
  };
}

/** TCP listeners on the namespace's loopback (127.0.0.1 and ::1), for `-T` rules. */
export function tcpSpliceBackend(c: Ctx, loop: Loop, ns: ListenNs): ListenBackend {
  const b = new Uint8Array(sa.SOCKADDR_MAX);
  const d = new DataView(b.buffer);
  const lo6 = new Uint32Array([0, 0, 0, 1]);
  return {
    open(rule, slot, port, out): number {
      const conf = c.conf;
      const ffi = lib();
      const anyRule = (rule.flags & FWD_DUAL_STACK_ANY) !== 0;
      let err = 0;
      for (let f = 0; f < 2; f++) {
        const v6 = f === 1;
        if (v6 ? !conf.v6 : !conf.v4) continue;
        if (!anyRule && inany.isV4(rule.addr, 0) === v6) continue;
        const len = v6 ? sa.writeIn6(d, 0, lo6, port) : sa.writeIn4(d, 0, 0x7f000001, port);
        const fd = ffi.pf_ns_bind_socket(
          ns.userns,
          ns.netns,
          v6 ? sa.AF_INET6 : sa.AF_INET,
          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
          0,
          b,
          len,
          LISTEN_BACKLOG,
        );
        let rc = fd;
        if (fd >= 0) {
          const index = withSlot(targetPort(rule, port) | LISTEN_OUTBOUND, slot);
          rc = fd > SOCKET_MAX ? -EMFILE : loop.add(fd, EpollType.TCP_LISTEN, index, EPOLLIN);
          if (rc < 0) ffi.pf_close(fd);
        }
        if (rc < 0) {
          err = rc;
          continue;
        }
        out[f] = fd;
      }
      if (out[0]! < 0 && out[1]! < 0) return err || -97; // EAFNOSUPPORT: no family enabled
      return 0;
    },
    close(_rule, _port, fd): void {
      loop.del(fd);
      lib().pf_close(fd);
    },
  };
}
