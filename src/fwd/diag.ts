// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `fwd/diag.ts` - listening ports from NETLINK_SOCK_DIAG, for the `auto` rescan
 *
 * Theory of operation: `/proc/net/tcp` lists every TCP socket of the
 * namespace, and the kernel walks its whole established hash table to write
 * it, whatever the namespace holds: on a host with 11 000 sockets in
 * TIME_WAIT, reading `tcp` and `tcp6` takes 50 ms, once a second for each
 * side, and the loop waits meanwhile. A sock_diag dump asks only for the
 * states we want (TCP: LISTEN; UDP: unconnected, TCP_CLOSE as the kernel
 * keeps it) and the kernel then walks only the listening table: about 0.1 ms.
 *
 * One NETLINK_SOCK_DIAG socket per side, created in that side's namespace
 * at start-up (a netlink socket answers for the namespace it was created in).
 * Each request is one `SOCK_DIAG_BY_FAMILY` dump with a fresh sequence number
 * for one family and protocol; the replies (`inet_diag_msg`, local port at
 * a fixed offset) are read into one preallocated buffer until `NLMSG_DONE`,
 * skipping anything with another sequence number. A kernel without the diag
 * module for a protocol answers with an error: the caller then reads
 * `/proc/net` as before ({@linkcode DiagSocket.listening} returns `-errno`).
 * Nothing here allocates after construction.
 *
 * @see sock_diag(7); linux/inet_diag.h
 * @module
 */

// #syscalls:pasta sendto recvfrom

import { EPROTO } from "../../ffi/errno.ts";
import { lib } from "../../ffi/lib.ts";
import { AF_INET, AF_INET6, MSG_DONTWAIT } from "../../ffi/sys.ts";
import { NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR } from "../netlink.ts";
import { IPPROTO_TCP } from "./nat.ts";

/** Netlink protocol of sock_diag. */
export const NETLINK_SOCK_DIAG = 4;
/** Message type of a per-family dump request. */
const SOCK_DIAG_BY_FAMILY = 20;
/** Header, then struct inet_diag_req_v2 (family, protocol, ext, pad, states, inet_diag_sockid). */
const NLMSG_HDRLEN = 16;
const REQ_LEN = NLMSG_HDRLEN + 56;
/** Offset of idiag_sport (network order) in a reply: header, family, state, timer, retrans. */
const SPORT_OFF = NLMSG_HDRLEN + 4;
/** Shortest reply carrying a port. */
const MSG_MIN = SPORT_OFF + 2;
/** TCP_LISTEN and TCP_CLOSE (an unconnected UDP socket), as bits of idiag_states. */
const TCPF_LISTEN = 1 << 10;
const TCPF_CLOSE = 1 << 7;
/** Reads without a reply of ours before a dump is given up on (a dump never pauses). */
const MAX_READS = 4096;

/** A NETLINK_SOCK_DIAG socket that lists the local ports of listening sockets. */
export class DiagSocket {
  readonly #buf = new Uint8Array(32 * 1024);
  readonly #dv = new DataView(this.#buf.buffer);
  #seq = 0;

  /** Wraps `fd`, a NETLINK_SOCK_DIAG socket (owned: see {@linkcode close}). */
  constructor(readonly fd: number) {}

  /**
   * Sets, in the byte-addressed bitmap `out`, the local port of every listening TCP socket
   * (`proto` 6) or unconnected UDP socket (17), IPv4 and IPv6; returns how many it found, or
   * -errno if the kernel can't answer (then `out` may hold part of the answer).
   */
  listening(proto: number, out: Uint8Array): number {
    const states = proto === IPPROTO_TCP ? TCPF_LISTEN : TCPF_CLOSE;
    const a = this.#dump(AF_INET, proto, states, out);
    if (a < 0) return a;
    const b = this.#dump(AF_INET6, proto, states, out);
    return b < 0 ? b : a + b;
  }

  /** Closes the socket. */
  close(): void {
    lib().pf_close(this.fd);
  }

  #dump(family: number, proto: number, states: number, out: Uint8Array): number {
    const ffi = lib();
    const buf = this.#buf;
    const dv = this.#dv;
    const seq = this.#seq = (this.#seq + 1) >>> 0;
    buf.fill(0, 0, REQ_LEN);
    dv.setUint32(0, REQ_LEN, true);
    dv.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
    dv.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
    dv.setUint32(8, seq, true);
    buf[16] = family;
    buf[17] = proto;
    dv.setUint32(20, states, true);
    const sent = ffi.pf_send(this.fd, buf, 0, REQ_LEN, 0);
    if (sent < 0) return sent;
    let found = 0;
    for (let reads = 0; reads < MAX_READS; reads++) {
      const n = ffi.pf_recv(this.fd, buf, 0, buf.length, MSG_DONTWAIT);
      if (n < 0) return n;
      if (n === 0) return -EPROTO;
      for (let off = 0; off + NLMSG_HDRLEN <= n;) {
        const len = dv.getUint32(off, true);
        if (len < NLMSG_HDRLEN || off + len > n) return -EPROTO;
        if (dv.getUint32(off + 8, true) === seq) {
          const type = dv.getUint16(off + 4, true);
          if (type === NLMSG_DONE) return found;
          if (type === NLMSG_ERROR) {
            const err = len >= NLMSG_HDRLEN + 4 ? dv.getInt32(off + NLMSG_HDRLEN, true) : 0;
            return err < 0 ? err : -EPROTO;
          }
          if (type === SOCK_DIAG_BY_FAMILY && len >= MSG_MIN) {
            const port = dv.getUint16(off + SPORT_OFF, false);
            out[port >> 3] = out[port >> 3]! | (1 << (port & 7));
            found++;
          }
        }
        off += (len + 3) & ~3;
      }
    }
    return -EPROTO;
  }
}
