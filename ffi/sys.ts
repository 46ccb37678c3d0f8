// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `sys.ts` - Linux constants and table layouts for the native library, the
 * argument encoders it takes, and {@linkcode SysError}.
 *
 * Theory of operation: `src/` calls the native functions directly, as
 * `lib().pf_*` (see `lib.ts` and `symbols.ts`). Every one returns what the C
 * function returns, a count, fd or 0 on success and `-errno` on failure, so
 * that hot paths can branch on `-EAGAIN` without exceptions or allocation.
 * Buffers are passed whole, with `u32` offsets; small tables in them are
 * native-endian `u32` words, laid out as the `*_WORDS` and index constants
 * below say. Set-up code turns a failure into an exception with
 * {@linkcode sysCheck}, whose message names the object:
 * `Cannot open tap device "tap0": EPERM (Operation not permitted)`. Strings
 * go to C through {@linkcode cstr} and {@linkcode argvBuf}, which allocate
 * and belong on cold paths only.
 *
 * @module
 */

import { errnoName, strerror } from "./errno.ts";

// Address families, socket types and protocols

/** Local (UNIX domain) sockets */
export const AF_UNIX = 1;
/** IPv4 */
export const AF_INET = 2;
/** IPv6 */
export const AF_INET6 = 10;
/** Netlink */
export const AF_NETLINK = 16;
/** Byte stream socket */
export const SOCK_STREAM = 1;
/** Datagram socket */
export const SOCK_DGRAM = 2;
/** Raw socket */
export const SOCK_RAW = 3;
/** Sequenced packet socket */
export const SOCK_SEQPACKET = 5;
/** Socket type flag: non-blocking */
export const SOCK_NONBLOCK = 0o4000;
/** Socket type flag: close on exec */
export const SOCK_CLOEXEC = 0o2000000;
/** ICMP (ping sockets with SOCK_DGRAM) */
export const IPPROTO_ICMP = 1;
/** TCP */
export const IPPROTO_TCP = 6;
/** IPv6 options level */
export const IPPROTO_IPV6 = 41;
/** ICMPv6 */
export const IPPROTO_ICMPV6 = 58;
/** Netlink protocol: routing */
export const NETLINK_ROUTE = 0;

// Socket options

/** Socket-level options */
export const SOL_SOCKET = 1;
/** IPv4-level options (same as IPPROTO_IP) */
export const SOL_IP = 0;
/** IPv6-level options (same as IPPROTO_IPV6) */
export const SOL_IPV6 = 41;
/** Allow reuse of local addresses */
export const SO_REUSEADDR = 2;
/** Socket type */
export const SO_TYPE = 3;
/** Pending socket error, cleared on read */
export const SO_ERROR = 4;
/** Send buffer size */
export const SO_SNDBUF = 7;
/** Receive buffer size */
export const SO_RCVBUF = 8;
/** Linger on close */
export const SO_LINGER = 13;
/** Bind to an interface by name */
export const SO_BINDTODEVICE = 25;
/** Disable Nagle's algorithm */
export const TCP_NODELAY = 1;
/** Maximum segment size */
export const TCP_MAXSEG = 2;
/** Bound on the advertised window */
export const TCP_WINDOW_CLAMP = 10;
/** Send ACKs immediately */
export const TCP_QUICKACK = 12;
/** Bind to non-local addresses */
export const IP_FREEBIND = 15;
/** Restrict an AF_INET6 socket to IPv6 */
export const IPV6_V6ONLY = 26;
/** Queue ICMP errors of an IPv4 socket on its error queue */
export const IP_RECVERR = 11;
/** Queue ICMPv6 errors of an IPv6 socket on its error queue */
export const IPV6_RECVERR = 25;
/** Bind IPv6 sockets to non-local addresses */
export const IPV6_FREEBIND = 78;

// Message flags and shutdown

/** Read without removing from the queue */
export const MSG_PEEK = 0x2;
/** Real length of a truncated datagram; discard for TCP */
export const MSG_TRUNC = 0x20;
/** Non-blocking for this call */
export const MSG_DONTWAIT = 0x40;
/** Wait for the full amount */
export const MSG_WAITALL = 0x100;
/** No SIGPIPE on a broken stream */
export const MSG_NOSIGNAL = 0x4000;
/** Shut down transmission */
export const SHUT_WR = 1;
/** Shut down both directions */
export const SHUT_RDWR = 2;

// epoll, timers, events, inotify

/** Readable */
export const EPOLLIN = 0x1;
/** Writable */
export const EPOLLOUT = 0x4;
/** Error condition */
export const EPOLLERR = 0x8;
/** Hang-up */
export const EPOLLHUP = 0x10;
/** Peer closed its writing half */
export const EPOLLRDHUP = 0x2000;
/** Edge-triggered */
export const EPOLLET = 0x80000000;
/** Add a file descriptor */
export const EPOLL_CTL_ADD = 1;
/** Remove a file descriptor */
export const EPOLL_CTL_DEL = 2;
/** Change events or reference */
export const EPOLL_CTL_MOD = 3;
/** Monotonic clock */
export const CLOCK_MONOTONIC = 1;
/** timerfd flag: non-blocking */
export const TFD_NONBLOCK = 0o4000;
/** timerfd flag: close on exec */
export const TFD_CLOEXEC = 0o2000000;
/** eventfd flag: non-blocking */
export const EFD_NONBLOCK = 0o4000;
/** eventfd flag: close on exec */
export const EFD_CLOEXEC = 0o2000000;
/** inotify flag: non-blocking */
export const IN_NONBLOCK = 0o4000;
/** inotify flag: close on exec */
export const IN_CLOEXEC = 0o2000000;
/** File moved out of the watched directory */
export const IN_MOVED_FROM = 0x40;
/** File deleted from the watched directory */
export const IN_DELETE = 0x200;

// Pipes, files

/** splice: move pages instead of copying */
export const SPLICE_F_MOVE = 1;
/** splice: don't block on the pipe */
export const SPLICE_F_NONBLOCK = 2;
/** splice: more data follows */
export const SPLICE_F_MORE = 4;
/** Set pipe capacity */
export const F_SETPIPE_SZ = 1031;
/** Get pipe capacity */
export const F_GETPIPE_SZ = 1032;
/** Open for reading */
export const O_RDONLY = 0;
/** Open for writing */
export const O_WRONLY = 1;
/** Open for reading and writing */
export const O_RDWR = 2;
/** Create if missing */
export const O_CREAT = 0o100;
/** Truncate */
export const O_TRUNC = 0o1000;
/** Non-blocking */
export const O_NONBLOCK = 0o4000;
/** Close on exec */
export const O_CLOEXEC = 0o2000000;
/** Seek from the start */
export const SEEK_SET = 0;
/** Longest interface name, terminating NUL included */
export const IFNAMSIZ = 16;

// Namespaces, processes, signals

/** New mount namespace */
export const CLONE_NEWNS = 0x00020000;
/** New UTS namespace */
export const CLONE_NEWUTS = 0x04000000;
/** New IPC namespace */
export const CLONE_NEWIPC = 0x08000000;
/** New user namespace */
export const CLONE_NEWUSER = 0x10000000;
/** New PID namespace */
export const CLONE_NEWPID = 0x20000000;
/** New network namespace */
export const CLONE_NEWNET = 0x40000000;
/** waitpid: don't block */
export const WNOHANG = 1;
/** Interrupt */
export const SIGINT = 2;
/** Quit */
export const SIGQUIT = 3;
/** Kill */
export const SIGKILL = 9;
/** User signal 1 */
export const SIGUSR1 = 10;
/** Termination */
export const SIGTERM = 15;
/** Child status changed */
export const SIGCHLD = 17;

// Table layouts shared with native/passt_ffi.h

/** Words per mmsg table entry */
export const MMSG_WORDS = 8;
/** mmsg entry word: offset of the data buffer */
export const MMSG_BUF_OFF = 0;
/** mmsg entry word: length of the data buffer */
export const MMSG_BUF_LEN = 1;
/** mmsg entry word: offset of the socket address, if any */
export const MMSG_NAME_OFF = 2;
/** mmsg entry word: in, room for the address (0: none); out, its length */
export const MMSG_NAME_LEN = 3;
/** mmsg entry word: bytes received or sent (out) */
export const MMSG_MSG_LEN = 4;
/** mmsg entry word: message flags (out, receive only) */
export const MMSG_MSG_FLAGS = 5;
/** mmsg word of the first entry: 1 once `pf_sendmmsg_gso()` found the path refuses GSO (out) */
export const MMSG_GSO_REFUSED = 6;
/** Words per event written by `pf_epoll_wait()`: events, ref_lo, ref_hi */
export const EPOLL_WORDS = 3;
/** Words written by `pf_tcp_info()` */
export const TCPI_WORDS = 14;
/** Words written by `pf_recv_err()`: origin, ICMP type, code, info, family, address (4 words) */
export const RECVERR_WORDS = 9;
/** tcpInfo word: TCP state */
export const TCPI_STATE = 0;
/** tcpInfo word: sending MSS */
export const TCPI_SND_MSS = 1;
/** tcpInfo word: bytes received, low 32 bits */
export const TCPI_BYTES_RECEIVED_LO = 11;
/** tcpInfo word: bytes received, high 32 bits */
export const TCPI_BYTES_RECEIVED_HI = 12;
/** tcpInfo word: length of struct tcp_info the kernel filled */
export const TCPI_OPTLEN = 13;
/** Bytes `pf_accept4()` and `pf_getsockname()` may write */
export const SOCKADDR_MAX = 128;

// Errors

/** A failed system call during set-up, naming the object it was about. */
export class SysError extends Error {
  /** Positive errno */
  readonly errno: number;
  /** Symbolic errno, such as `"EPERM"` */
  readonly code: string;
  /** The call that failed, such as `"bind"`, or `""` if not given */
  readonly syscall: string;

  /**
   * Build `Cannot <what>: <CODE> (<strerror>)`.
   *
   * @param errno Error number, either sign
   * @param what What was being done, such as `open tap device "tap0"`
   * @param syscall Name of the failed call
   */
  constructor(errno: number, what: string, syscall = "") {
    const e = Math.abs(errno);
    super(`Cannot ${what}: ${errnoName(e)} (${strerror(e)})`);
    this.name = "SysError";
    this.errno = e;
    this.code = errnoName(e);
    this.syscall = syscall;
  }
}

/**
 * Throw a {@linkcode SysError} if a native function returned `-errno`.
 *
 * @param rc Return value of a native function
 * @param what What was being done, for the message
 * @param syscall Name of the call, for {@linkcode SysError.syscall}
 * @returns `rc` if it is not negative
 */
export function sysCheck(rc: number, what: string, syscall = ""): number {
  if (rc < 0) throw new SysError(-rc, what, syscall);
  return rc;
}

// Strings (cold paths: these allocate)

const encoder = new TextEncoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Encode a string as UTF-8 with a terminating NUL. */
export function cstr(s: string): Uint8Array {
  const b = new Uint8Array(encoder.encode(s).length + 1);
  encoder.encodeInto(s, b);
  return b;
}

/**
 * Arguments as the native spawn and exec helpers take them: the count (32
 * bits, host order), then each argument NUL-terminated; empty ones too.
 */
export function argvBuf(args: readonly string[]): Uint8Array {
  const parts = args.map(cstr);
  const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 4));
  new DataView(buf.buffer).setUint32(0, args.length, LITTLE_ENDIAN);
  let off = 4;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return buf;
}
