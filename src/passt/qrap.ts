// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `qrap.ts` - qrap: connect to passt and start QEMU with the socket as a descriptor
 *
 * `qrap FDNUM QEMU_CMD [ARGS...]` is for QEMU versions without `-netdev stream`:
 * it connects to the first live passt at `/tmp/passt_N.socket` (N from 1), or
 * to `$PASST_SOCKET`, makes the connected socket descriptor FDNUM and execs
 * QEMU, which uses it with `-net socket,fd=FDNUM`. A candidate is live when it
 * answers a probe: an ARP request, length-prefixed as on the stream, answered
 * within half a second (a passt that already has a client accepts and closes
 * the connection at once). The answer is read off the socket before QEMU starts.
 *
 * @module
 */

import { lib } from "../../ffi/lib.ts";
import { sockaddrUn, UNIX_SOCK_MAX } from "./tap_passt.ts";
import { AF_UNIX, argvBuf, EPOLLIN, SOCK_STREAM } from "../../ffi/sys.ts";
import { ECONNRESET, EPIPE, strerror } from "../../ffi/errno.ts";
import * as arp from "../wire/arp.ts";
import * as eth from "../wire/ethernet.ts";
import { PREFIX_LEN, writePrefix } from "./framing.ts";

const PROBE_TIMEOUT_MS = 500;
const RETRIES = 50;
const RETRY_DELAY_MS = 50;

/** The usage text of qrap. */
export const QRAP_USAGE = "Usage: qrap FDNUM QEMU_CMD [QEMU_ARG]...\n" +
  "\n" +
  "Connect to the first available passt instance (or $PASST_SOCKET) and start\n" +
  "QEMU_CMD with the connected socket as descriptor FDNUM, for use with\n" +
  "-net socket,fd=FDNUM.\n";

/** Ethernet broadcast address. */
const BROADCAST_MAC = new Uint8Array(6).fill(0xff);
/** Locally administered MAC address of the probe. */
const PROBE_MAC = Uint8Array.of(0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55);
/** The address the probe asks for: 192.0.2.1 (TEST-NET-1). */
const PROBE_TARGET = 0xc0000201;

/** An ARP request for {@linkcode PROBE_TARGET} from {@linkcode PROBE_MAC}, with its length prefix. */
function probeFrame(): Uint8Array {
  const len = eth.HEADER_LEN + arp.HEADER_LEN;
  const f = new Uint8Array(PREFIX_LEN + len);
  const dv = new DataView(f.buffer);
  writePrefix(dv, PREFIX_LEN, len);
  eth.writeHeader(f, dv, PREFIX_LEN, BROADCAST_MAC, PROBE_MAC, eth.ETH_P_ARP);
  arp.push(
    f,
    dv,
    PREFIX_LEN + eth.HEADER_LEN,
    arp.OP_REQUEST,
    PROBE_MAC,
    0,
    new Uint8Array(eth.MAC_LEN),
    PROBE_TARGET,
  );
  return f;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** What one probe connection gave: passt's answer, a close by a busy passt, or neither. */
const ANSWERED = 1, CLOSED = 0, NOT_PASST = -1;

/**
 * Connects to `path` and checks that passt answers the probe; returns the fd or -1.
 * A passt that still has a client closes us at once: with our probe unread
 * (a reset), or, when it accepted us before the probe arrived, read or not (the
 * end of the stream, or a broken pipe on the send). Upstream retries only the
 * reset; each of these is retried the same way, {@linkcode RETRIES} times, so
 * that a client that is just going away (the previous QEMU, or a probe of our
 * own) doesn't make qrap skip a passt that would serve it.
 */
export function probe(path: string): number {
  const ffi = lib();
  const sa = sockaddrUn(path);
  const frame = probeFrame();
  const ev = new Uint8Array(12);
  const answer = new Uint8Array(65536 + 4);
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const fd = ffi.pf_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (ffi.pf_connect(fd, sa, sa.length) < 0) {
      ffi.pf_close(fd);
      return -1;
    }
    const r = exchange(fd, frame, ev, answer);
    if (r === ANSWERED) return fd;
    ffi.pf_close(fd);
    if (r !== CLOSED) return -1;
    sleep(RETRY_DELAY_MS);
  }
  return -1;
}

/**
 * Sends `frame` on the connected `fd` and reads the answer into `answer` (`ev`:
 * room for one epoll event); {@linkcode ANSWERED}, {@linkcode CLOSED} or
 * {@linkcode NOT_PASST}.
 */
function exchange(fd: number, frame: Uint8Array, ev: Uint8Array, answer: Uint8Array): number {
  const ffi = lib();
  const sent = ffi.pf_send(fd, frame, 0, frame.length, 0x4000 /* MSG_NOSIGNAL */);
  if (sent !== frame.length) return sent === -EPIPE || sent === -ECONNRESET ? CLOSED : NOT_PASST;
  const ep = ffi.pf_epoll_create();
  ffi.pf_epoll_ctl(ep, 1, fd, EPOLLIN, 0, 0);
  const n = ffi.pf_epoll_wait(ep, ev, 1, PROBE_TIMEOUT_MS);
  ffi.pf_close(ep);
  if (n !== 1) return NOT_PASST;
  const got = ffi.pf_recv(fd, answer, 0, 4, 0x100 /* MSG_WAITALL */);
  if (got === 4) {
    const len = new DataView(answer.buffer).getUint32(0);
    if (len <= 65535) ffi.pf_recv(fd, answer, 4, len, 0x100);
    return ANSWERED;
  }
  return got === 0 || got === -ECONNRESET ? CLOSED : NOT_PASST;
}

/** Runs qrap; returns an exit status only when it could not exec QEMU. */
export function qrapMain(argv: string[]): number {
  const stderr = (s: string): void => {
    Deno.stderr.writeSync(new TextEncoder().encode(s));
  };
  if (argv.length < 2 || !/^\d+$/.test(argv[0]!)) {
    stderr(QRAP_USAGE);
    return 1;
  }
  const fdnum = Number(argv[0]);
  const env = Deno.env.get("PASST_SOCKET");
  const paths = env
    ? [env]
    : Array.from({ length: UNIX_SOCK_MAX - 1 }, (_, i) => `/tmp/passt_${i + 1}.socket`);
  let fd = -1;
  for (const p of paths) {
    fd = probe(p);
    if (fd >= 0) break;
  }
  if (fd < 0) {
    stderr("Probe of passt instances failed: no passt listening\n");
    return 1;
  }
  const ffi = lib();
  if (fd !== fdnum && ffi.pf_dup2(fd, fdnum) < 0) {
    stderr(`Cannot use descriptor ${fdnum}\n`);
    return 1;
  }
  const buf = argvBuf(argv.slice(1));
  const rc = ffi.pf_execvp(buf);
  stderr(`Failed to start ${argv[1]}: ${strerror(-rc)}\n`);
  return 1;
}
