// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `udp_splice.ts` - pasta's loopback fast path for UDP: the namespace's side
 *
 * Theory of operation: datagrams between the host's loopback and the
 * namespace's loopback on forwarded ports never go through the tap device.
 * They are UDP flows of the flow table like any other (`udp.ts`), whose two
 * sides are both sockets: one on the host (`PIF_HOST`) and one
 * in the namespace (`PIF_SPLICE`), each bound and connected, the
 * datagrams going from one to the other with `recvmmsg()` and `sendmmsg()`.
 *
 * - Inbound (`-u`): a datagram from a loopback peer on a host listener is
 *   spliced by `fwd/nat.ts` (`natFromHost`, unless `--no-splice`): the
 *   namespace's socket is bound to the client's port (an ephemeral port if
 *   that one is taken) and connected to the namespace's address (or its
 *   loopback with `--host-lo-to-ns-lo`) at the target port.
 * - Outbound (`-U`): the listeners here, on the namespace's 127.0.0.1 and ::1,
 *   create flows through `natFromSplice`: a host socket bound to loopback at
 *   the client's port, connected to the host's loopback at the target port.
 *
 * Sockets in the namespace come from the native helper (`pf_ns_bind_socket`,
 * `SO_REUSEADDR` set), given the namespace descriptors ({@linkcode UdpNs}).
 * The `-U` listeners belong to the forwarding rules (`fwd/fwd.ts`): this
 * module opens and closes them through {@linkcode UdpSplice.listenBackend};
 * their epoll reference is `udp.ts`'s listener reference with
 * {@linkcode UDP_LISTEN_SPLICE} set.
 *
 * @module
 */

// #syscalls:pasta recvmmsg sendmmsg socket bind connect getsockname close getsockopt
// #syscalls:pasta clone setns wait4 rt_sigprocmask exit lseek read openat

import { lib } from "../../ffi/lib.ts";
import type { Ctx } from "../context.ts";
import type { ListenBackend } from "../fwd/fwd.ts";
import type { FwdRule } from "../fwd/fwd_rule.ts";
import * as sa from "../wire/sockaddr.ts";
import { type Udp, UDP_LISTEN_SPLICE, type UdpNs } from "./udp.ts";
import { SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "../../ffi/sys.ts";

export type { UdpNs as UdpSpliceNs };

const LOOPBACK4 = 0x7f000001;

/** The `-U` listeners in the namespace; the flows themselves are `udp.ts`'s. */
export class UdpSplice {
  readonly #c: Ctx;
  readonly #udp: Udp;
  readonly #ns: UdpNs;
  readonly #bindU8 = new Uint8Array(sa.SOCKADDR_MAX);
  readonly #bindDv = new DataView(this.#bindU8.buffer);
  readonly #lo6 = new Uint32Array([0, 0, 0, 1]);

  /** Splices `udp`'s flows through the namespace of `ns`. */
  constructor(c: Ctx, udp: Udp, ns: UdpNs) {
    this.#c = c;
    this.#udp = udp;
    this.#ns = ns;
    udp.ns = ns;
  }

  /**
   * The listeners of `-U` rules (`fwd/fwd.ts`): one socket on the namespace's
   * 127.0.0.1 and one on ::1 at `port`, forwarding to the host's loopback at
   * the target port.
   */
  listenBackend(): ListenBackend {
    return {
      open: (rule, slot, port, out) => this.#listenOpen(rule, slot, port, out),
      close: (_rule, _port, fd) => this.#udp.closeListener(fd),
    };
  }

  #listenOpen(rule: FwdRule, slot: number, port: number, out: Int32Array): number {
    return this.#udp.listenEachFamily(rule, slot, port, out, UDP_LISTEN_SPLICE, (v6) => {
      const len = v6
        ? sa.writeIn6(this.#bindDv, 0, this.#lo6, port)
        : sa.writeIn4(this.#bindDv, 0, LOOPBACK4, port);
      return lib().pf_ns_bind_socket(
        this.#ns.userns,
        this.#ns.netns,
        v6 ? sa.AF_INET6 : sa.AF_INET,
        SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        0,
        this.#bindU8,
        len,
        -1,
      );
    });
  }
}

/**
 * Wires spliced UDP for pasta: `udp`'s sockets in the namespace of `ns`, and
 * the `-U` listeners (from the forwarding rules, `fwd/fwd.ts`, through
 * {@linkcode UdpSplice.listenBackend}).
 */
export function setupUdpSplice(c: Ctx, udp: Udp, ns: UdpNs): UdpSplice {
  return new UdpSplice(c, udp, ns);
}
