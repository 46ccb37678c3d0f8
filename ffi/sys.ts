// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later

/**
 * `sys.ts` - typed wrappers over the native library, Linux constants,
 * socket address helpers and {@linkcode SysError}.
 *
 * Theory of operation: every wrapper returns what the C function returns, a
 * count, fd or 0 on success and `-errno` on failure, so that hot paths can
 * branch on `-EAGAIN` without exceptions or allocation. Buffers are passed
 * whole, with `u32` offsets; small tables in them are native-endian `u32`
 * words, laid out as the `*_WORDS` and index constants below say. Set-up
 * code turns a failure into an exception with {@linkcode sysCheck}, or calls
 * one of the few wrappers documented as throwing ({@linkcode tapOpen},
 * {@linkcode nsTapOpen}), which name the object in
 * the message: `Cannot open tap device "tap0": EPERM (Operation not
 * permitted)`. Wrappers taking strings or building socket addresses
 * allocate, and belong on cold paths only.
 *
 * @module
 */

import { EINVAL, errnoName, strerror } from "./errno.ts";
import { lib } from "./lib.ts";

// Address families, socket types and protocols

/** Unspecified address family */
export const AF_UNSPEC = 0;
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
/** IP protocol number: IPv4 options level */
export const IPPROTO_IP = 0;
/** ICMP (ping sockets with SOCK_DGRAM) */
export const IPPROTO_ICMP = 1;
/** TCP */
export const IPPROTO_TCP = 6;
/** UDP */
export const IPPROTO_UDP = 17;
/** IPv6 options level */
export const IPPROTO_IPV6 = 41;
/** ICMPv6 */
export const IPPROTO_ICMPV6 = 58;
/** Raw IP */
export const IPPROTO_RAW = 255;
/** Netlink protocol: routing */
export const NETLINK_ROUTE = 0;

// Socket options

/** Socket-level options */
export const SOL_SOCKET = 1;
/** IPv4-level options (same as IPPROTO_IP) */
export const SOL_IP = 0;
/** IPv6-level options (same as IPPROTO_IPV6) */
export const SOL_IPV6 = 41;
/** TCP-level options (same as IPPROTO_TCP) */
export const SOL_TCP = 6;
/** Netlink-level options */
export const SOL_NETLINK = 270;
/** Allow reuse of local addresses */
export const SO_REUSEADDR = 2;
/** Socket type */
export const SO_TYPE = 3;
/** Pending socket error, cleared on read */
export const SO_ERROR = 4;
/** Permit broadcast */
export const SO_BROADCAST = 6;
/** Send buffer size */
export const SO_SNDBUF = 7;
/** Receive buffer size */
export const SO_RCVBUF = 8;
/** Keepalives */
export const SO_KEEPALIVE = 9;
/** Linger on close */
export const SO_LINGER = 13;
/** Allow several sockets on one port */
export const SO_REUSEPORT = 15;
/** Credentials of the peer of an AF_UNIX socket */
export const SO_PEERCRED = 17;
/** Receive low-water mark */
export const SO_RCVLOWAT = 18;
/** Bind to an interface by name */
export const SO_BINDTODEVICE = 25;
/** Send buffer size, ignoring wmem_max (needs CAP_NET_ADMIN) */
export const SO_SNDBUFFORCE = 32;
/** Receive buffer size, ignoring rmem_max (needs CAP_NET_ADMIN) */
export const SO_RCVBUFFORCE = 33;
/** Firewall mark */
export const SO_MARK = 36;
/** Disable Nagle's algorithm */
export const TCP_NODELAY = 1;
/** Maximum segment size */
export const TCP_MAXSEG = 2;
/** Cork: hold partial frames */
export const TCP_CORK = 3;
/** Bound on the advertised window */
export const TCP_WINDOW_CLAMP = 10;
/** Connection information, see {@linkcode tcpInfo} */
export const TCP_INFO = 11;
/** Send ACKs immediately */
export const TCP_QUICKACK = 12;
/** Congestion control algorithm */
export const TCP_CONGESTION = 13;
/** Time-out for unacknowledged data */
export const TCP_USER_TIMEOUT = 18;
/** IPv4 type of service */
export const IP_TOS = 1;
/** IPv4 time to live */
export const IP_TTL = 2;
/** Receive packet information */
export const IP_PKTINFO = 8;
/** Path MTU discovery mode */
export const IP_MTU_DISCOVER = 10;
/** Extended error reporting */
export const IP_RECVERR = 11;
/** Bind to non-local addresses */
export const IP_FREEBIND = 15;
/** IPv6 unicast hop limit */
export const IPV6_UNICAST_HOPS = 16;
/** IPv6 path MTU discovery mode */
export const IPV6_MTU_DISCOVER = 23;
/** IPv6 extended error reporting */
export const IPV6_RECVERR = 25;
/** Restrict an AF_INET6 socket to IPv6 */
export const IPV6_V6ONLY = 26;
/** Receive IPv6 packet information */
export const IPV6_RECVPKTINFO = 49;
/** IPv6 traffic class */
export const IPV6_TCLASS = 67;
/** Bind IPv6 sockets to non-local addresses */
export const IPV6_FREEBIND = 78;
/** Strict checking of netlink dump requests */
export const NETLINK_GET_STRICT_CHK = 12;

// Message flags and shutdown

/** Out-of-band data */
export const MSG_OOB = 0x1;
/** Read without removing from the queue */
export const MSG_PEEK = 0x2;
/** Control data truncated (output) */
export const MSG_CTRUNC = 0x8;
/** Real length of a truncated datagram; discard for TCP */
export const MSG_TRUNC = 0x20;
/** Non-blocking for this call */
export const MSG_DONTWAIT = 0x40;
/** Wait for the full amount */
export const MSG_WAITALL = 0x100;
/** Read the error queue */
export const MSG_ERRQUEUE = 0x2000;
/** No SIGPIPE on a broken stream */
export const MSG_NOSIGNAL = 0x4000;
/** More data follows */
export const MSG_MORE = 0x8000;
/** recvmmsg: block for the first message only */
export const MSG_WAITFORONE = 0x10000;
/** Shut down reception */
export const SHUT_RD = 0;
/** Shut down transmission */
export const SHUT_WR = 1;
/** Shut down both directions */
export const SHUT_RDWR = 2;

// epoll, timers, events, inotify

/** Readable */
export const EPOLLIN = 0x1;
/** Urgent data */
export const EPOLLPRI = 0x2;
/** Writable */
export const EPOLLOUT = 0x4;
/** Error condition */
export const EPOLLERR = 0x8;
/** Hang-up */
export const EPOLLHUP = 0x10;
/** Peer closed its writing half */
export const EPOLLRDHUP = 0x2000;
/** Disable after one event */
export const EPOLLONESHOT = 0x40000000;
/** Edge-triggered */
export const EPOLLET = 0x80000000;
/** Add a file descriptor */
export const EPOLL_CTL_ADD = 1;
/** Remove a file descriptor */
export const EPOLL_CTL_DEL = 2;
/** Change events or reference */
export const EPOLL_CTL_MOD = 3;
/** Wall clock */
export const CLOCK_REALTIME = 0;
/** Monotonic clock */
export const CLOCK_MONOTONIC = 1;
/** Monotonic clock including suspend */
export const CLOCK_BOOTTIME = 7;
/** timerfd flag: non-blocking */
export const TFD_NONBLOCK = 0o4000;
/** timerfd flag: close on exec */
export const TFD_CLOEXEC = 0o2000000;
/** timerfd_settime flag: absolute time */
export const TFD_TIMER_ABSTIME = 1;
/** eventfd flag: semaphore semantics */
export const EFD_SEMAPHORE = 1;
/** eventfd flag: non-blocking */
export const EFD_NONBLOCK = 0o4000;
/** eventfd flag: close on exec */
export const EFD_CLOEXEC = 0o2000000;
/** inotify flag: non-blocking */
export const IN_NONBLOCK = 0o4000;
/** inotify flag: close on exec */
export const IN_CLOEXEC = 0o2000000;
/** File modified */
export const IN_MODIFY = 0x2;
/** Writable file closed */
export const IN_CLOSE_WRITE = 0x8;
/** File moved out of the watched directory */
export const IN_MOVED_FROM = 0x40;
/** File moved into the watched directory */
export const IN_MOVED_TO = 0x80;
/** File created in the watched directory */
export const IN_CREATE = 0x100;
/** File deleted from the watched directory */
export const IN_DELETE = 0x200;
/** Watched object deleted */
export const IN_DELETE_SELF = 0x400;

// Pipes, files

/** splice: move pages instead of copying */
export const SPLICE_F_MOVE = 1;
/** splice: don't block on the pipe */
export const SPLICE_F_NONBLOCK = 2;
/** splice: more data follows */
export const SPLICE_F_MORE = 4;
/** Get descriptor flags */
export const F_GETFD = 1;
/** Set descriptor flags */
export const F_SETFD = 2;
/** Get status flags */
export const F_GETFL = 3;
/** Set status flags */
export const F_SETFL = 4;
/** Duplicate with close-on-exec */
export const F_DUPFD_CLOEXEC = 1030;
/** Set pipe capacity */
export const F_SETPIPE_SZ = 1031;
/** Get pipe capacity */
export const F_GETPIPE_SZ = 1032;
/** Descriptor flag: close on exec */
export const FD_CLOEXEC = 1;
/** Open for reading */
export const O_RDONLY = 0;
/** Open for writing */
export const O_WRONLY = 1;
/** Open for reading and writing */
export const O_RDWR = 2;
/** Create if missing */
export const O_CREAT = 0o100;
/** Fail if it exists (with O_CREAT) */
export const O_EXCL = 0o200;
/** Don't become the controlling terminal */
export const O_NOCTTY = 0o400;
/** Truncate */
export const O_TRUNC = 0o1000;
/** Append */
export const O_APPEND = 0o2000;
/** Non-blocking */
export const O_NONBLOCK = 0o4000;
/** Packet mode pipe */
export const O_DIRECT = 0o40000;
/** Must be a directory */
export const O_DIRECTORY = 0o200000;
/** Don't follow a final symbolic link */
export const O_NOFOLLOW = 0o400000;
/** Close on exec */
export const O_CLOEXEC = 0o2000000;
/** Path-only descriptor */
export const O_PATH = 0o10000000;
/** Seek from the start */
export const SEEK_SET = 0;
/** Seek from the current position */
export const SEEK_CUR = 1;
/** Seek from the end */
export const SEEK_END = 2;
/** getrandom: don't block */
export const GRND_NONBLOCK = 1;
/** Longest interface name, terminating NUL included */
export const IFNAMSIZ = 16;

// Namespaces, processes, signals

/** New mount namespace */
export const CLONE_NEWNS = 0x00020000;
/** New cgroup namespace */
export const CLONE_NEWCGROUP = 0x02000000;
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
/** waitpid: wait for all children, clones included */
export const WALL = 0x40000000;
/** Hang-up */
export const SIGHUP = 1;
/** Interrupt */
export const SIGINT = 2;
/** Quit */
export const SIGQUIT = 3;
/** Kill */
export const SIGKILL = 9;
/** User signal 1 */
export const SIGUSR1 = 10;
/** User signal 2 */
export const SIGUSR2 = 12;
/** Broken pipe */
export const SIGPIPE = 13;
/** Termination */
export const SIGTERM = 15;
/** Child status changed */
export const SIGCHLD = 17;

// Table layouts shared with native/passt_ffi.h

/** Words per iov table entry: offset, length */
export const IOV_WORDS = 2;
/** Words per frame descriptor of the tap batch calls: offset, length */
export const FRAME_WORDS = 2;
/** Most iovecs or messages in one call (UIO_MAXIOV) */
export const BATCH_MAX = 1024;
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
/** Words per event written by {@linkcode epollWait}: events, ref_lo, ref_hi */
export const EPOLL_WORDS = 3;
/** Words written by {@linkcode tcpInfo} */
export const TCPI_WORDS = 14;
/** tcpInfo word: TCP state */
export const TCPI_STATE = 0;
/** tcpInfo word: sending MSS */
export const TCPI_SND_MSS = 1;
/** tcpInfo word: receiving MSS */
export const TCPI_RCV_MSS = 2;
/** tcpInfo word: sending window scale */
export const TCPI_SND_WSCALE = 3;
/** tcpInfo word: receiving window scale */
export const TCPI_RCV_WSCALE = 4;
/** tcpInfo word: minimum RTT, microseconds */
export const TCPI_MIN_RTT = 5;
/** tcpInfo word: peer's advertised window */
export const TCPI_SND_WND = 6;
/** tcpInfo word: bytes acknowledged by the peer, low 32 bits */
export const TCPI_BYTES_ACKED_LO = 7;
/** tcpInfo word: bytes acknowledged by the peer, high 32 bits */
export const TCPI_BYTES_ACKED_HI = 8;
/** tcpInfo word: smoothed RTT, microseconds */
export const TCPI_RTT = 9;
/** tcpInfo word: congestion window, segments */
export const TCPI_SND_CWND = 10;
/** tcpInfo word: bytes received, low 32 bits */
export const TCPI_BYTES_RECEIVED_LO = 11;
/** tcpInfo word: bytes received, high 32 bits */
export const TCPI_BYTES_RECEIVED_HI = 12;
/** tcpInfo word: length of struct tcp_info the kernel filled */
export const TCPI_OPTLEN = 13;
/** Bytes {@linkcode accept4}, {@linkcode getsockname} and {@linkcode getpeername} may write */
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
 * Throw a {@linkcode SysError} if a wrapper returned `-errno`.
 *
 * @param rc Return value of a wrapper
 * @param what What was being done, for the message
 * @param syscall Name of the call, for {@linkcode SysError.syscall}
 * @returns `rc` if it is not negative
 */
export function sysCheck(rc: number, what: string, syscall = ""): number {
  if (rc < 0) throw new SysError(-rc, what, syscall);
  return rc;
}

// Strings and socket addresses (cold paths: these allocate)

const encoder = new TextEncoder();
const decoder = new TextDecoder();
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

/** Decode a NUL-terminated string from the start of a buffer. */
export function fromCstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return decoder.decode(end < 0 ? b : b.subarray(0, end));
}

/** IPv4 socket address: `addr` as a host-order `u32` (127.0.0.1 is 0x7f000001). */
export interface SockaddrIn {
  family: typeof AF_INET;
  addr: number;
  port: number;
}

/** IPv6 socket address: `addr` as four `u32` words, most significant first. */
export interface SockaddrIn6 {
  family: typeof AF_INET6;
  addr: [number, number, number, number];
  port: number;
  scopeId: number;
}

/** UNIX domain socket address; an abstract name starts with `"\0"`. */
export interface SockaddrUn {
  family: typeof AF_UNIX;
  path: string;
}

/** A parsed socket address. */
export type Sockaddr = SockaddrIn | SockaddrIn6 | SockaddrUn;

/** Encode a `struct sockaddr_in` (16 bytes) from a `u32` address and a port. */
export function sockaddrIn(addr: number, port: number): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_INET, LITTLE_ENDIAN);
  dv.setUint16(2, port);
  dv.setUint32(4, addr >>> 0);
  return b;
}

/** Encode a `struct sockaddr_in6` (28 bytes) from four `u32` words, a port and a scope. */
export function sockaddrIn6(
  words: readonly number[],
  port: number,
  scopeId = 0,
): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_INET6, LITTLE_ENDIAN);
  dv.setUint16(2, port);
  for (let i = 0; i < 4; i++) dv.setUint32(8 + 4 * i, (words[i] ?? 0) >>> 0);
  dv.setUint32(24, scopeId >>> 0, LITTLE_ENDIAN);
  return b;
}

/**
 * Encode a `struct sockaddr_un` of exactly the length to pass to bind or
 * connect: a path gets its NUL, an abstract name (leading `"\0"`) doesn't.
 * Throws RangeError if the name doesn't fit in 108 bytes.
 */
export function sockaddrUn(path: string): Uint8Array {
  const name = encoder.encode(path);
  const abstract = name[0] === 0;
  const len = 2 + name.length + (abstract ? 0 : 1);
  if (len > 110) throw new RangeError(`UNIX socket path too long: ${path}`);
  const b = new Uint8Array(len);
  new DataView(b.buffer).setUint16(0, AF_UNIX, LITTLE_ENDIAN);
  b.set(name, 2);
  return b;
}

/**
 * Decode a socket address written by {@linkcode accept4},
 * {@linkcode getsockname}, {@linkcode getpeername} or a receive call.
 *
 * @param buf Bytes starting at the address
 * @param len Length the kernel reported, if known (needed for abstract names)
 * @returns The address, or `null` for another family
 */
export function parseSockaddr(buf: Uint8Array, len = buf.length): Sockaddr | null {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const family = dv.getUint16(0, LITTLE_ENDIAN);
  if (family === AF_INET && buf.length >= 16) {
    return { family, addr: dv.getUint32(4), port: dv.getUint16(2) };
  }
  if (family === AF_INET6 && buf.length >= 28) {
    return {
      family,
      addr: [dv.getUint32(8), dv.getUint32(12), dv.getUint32(16), dv.getUint32(20)],
      port: dv.getUint16(2),
      scopeId: dv.getUint32(24, LITTLE_ENDIAN),
    };
  }
  if (family === AF_UNIX) {
    const name = buf.subarray(2, Math.min(len, buf.length, 110));
    if (name[0] === 0) return { family, path: decoder.decode(name) };
    return { family, path: fromCstr(name) };
  }
  return null;
}

/**
 * Exit status as a shell reports it: the exit code, or 128 plus the signal.
 *
 * @param status Status word from {@linkcode waitpid}
 */
export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  return 128 + sig;
}

// Sockets

/** socket(2): fd or -errno. */
export function socket(domain: number, type: number, protocol = 0): number {
  return lib().pf_socket(domain, type, protocol);
}

/** socketpair(2) into `out[0]`, `out[1]`: 0 or -errno. */
export function socketpair(
  domain: number,
  type: number,
  protocol: number,
  out: Int32Array,
): number {
  return lib().pf_socketpair(domain, type, protocol, out);
}

/** bind(2) to an encoded socket address: 0 or -errno. */
export function bind(fd: number, sa: Uint8Array, salen: number = sa.length): number {
  return lib().pf_bind(fd, sa, salen);
}

/** connect(2) to an encoded socket address: 0 or -errno (-EINPROGRESS if non-blocking). */
export function connect(fd: number, sa: Uint8Array, salen: number = sa.length): number {
  return lib().pf_connect(fd, sa, salen);
}

/** listen(2): 0 or -errno. */
export function listen(fd: number, backlog: number): number {
  return lib().pf_listen(fd, backlog);
}

/** accept4(2), the peer address into `saOut` (128 bytes): fd or -errno. */
export function accept4(fd: number, saOut: Uint8Array, flags = 0): number {
  return lib().pf_accept4(fd, saOut, flags);
}

/** getsockname(2) into `saOut` (128 bytes): address length or -errno. */
export function getsockname(fd: number, saOut: Uint8Array): number {
  return lib().pf_getsockname(fd, saOut);
}

/** getpeername(2) into `saOut` (128 bytes): address length or -errno. */
export function getpeername(fd: number, saOut: Uint8Array): number {
  return lib().pf_getpeername(fd, saOut);
}

/** setsockopt(2) with an `int` value: 0 or -errno. */
export function setsockoptInt(fd: number, level: number, name: number, value: number): number {
  return lib().pf_setsockopt_int(fd, level, name, value | 0);
}

/** getsockopt(2) of an `int` option: its (non-negative) value or -errno. */
export function getsockoptInt(fd: number, level: number, name: number): number {
  return lib().pf_getsockopt_int(fd, level, name);
}

/** setsockopt(2) with a byte buffer (SO_BINDTODEVICE etc.): 0 or -errno. */
export function setsockoptBuf(
  fd: number,
  level: number,
  name: number,
  buf: Uint8Array,
  len: number = buf.length,
): number {
  return lib().pf_setsockopt_buf(fd, level, name, buf, len);
}

/** TCP_INFO as {@linkcode TCPI_WORDS} native-endian words at `out[off]`: 0 or -errno. */
export function tcpInfo(fd: number, out: Uint8Array, off: number): number {
  return lib().pf_tcp_info(fd, out, off);
}

/** close(2): 0 or -errno. */
export function close(fd: number): number {
  return lib().pf_close(fd);
}

/** shutdown(2): 0 or -errno. */
export function shutdown(fd: number, how: number): number {
  return lib().pf_shutdown(fd, how);
}

/** read(2) into `buf[off..off+len)`: bytes or -errno. */
export function read(fd: number, buf: Uint8Array, off: number, len: number): number {
  return lib().pf_read(fd, buf, off, len);
}

/** write(2) from `buf[off..off+len)`: bytes or -errno. */
export function write(fd: number, buf: Uint8Array, off: number, len: number): number {
  return lib().pf_write(fd, buf, off, len);
}

/** recv(2) into `buf[off..off+len)`: bytes or -errno. */
export function recv(fd: number, buf: Uint8Array, off: number, len: number, flags: number): number {
  return lib().pf_recv(fd, buf, off, len, flags);
}

/** send(2) from `buf[off..off+len)`: bytes or -errno. */
export function send(fd: number, buf: Uint8Array, off: number, len: number, flags: number): number {
  return lib().pf_send(fd, buf, off, len, flags);
}

/** Drop `len` bytes from a TCP receive queue (recv with MSG_TRUNC): bytes or -errno. */
export function recvDiscard(fd: number, len: number, flags: number): number {
  return lib().pf_recv_discard(fd, len, flags);
}

/** recvmsg(2) with an iov table in the arena; name at `nameOff` if `namelen`: bytes or -errno. */
export function recvmsg(
  fd: number,
  arena: Uint8Array,
  iovTabOff: number,
  iovcnt: number,
  flags: number,
  nameOff = 0,
  namelen = 0,
): number {
  return lib().pf_recvmsg(fd, arena, iovTabOff, iovcnt, flags, nameOff, namelen);
}

/** sendmsg(2) with an iov table in the arena; name at `nameOff` if `namelen`: bytes or -errno. */
export function sendmsg(
  fd: number,
  arena: Uint8Array,
  iovTabOff: number,
  iovcnt: number,
  flags: number,
  nameOff = 0,
  namelen = 0,
): number {
  return lib().pf_sendmsg(fd, arena, iovTabOff, iovcnt, flags, nameOff, namelen);
}

/** readv(2) with an iov table in the arena: bytes or -errno. */
export function readv(fd: number, arena: Uint8Array, iovTabOff: number, iovcnt: number): number {
  return lib().pf_readv(fd, arena, iovTabOff, iovcnt);
}

/** writev(2) with an iov table in the arena: bytes or -errno. */
export function writev(fd: number, arena: Uint8Array, iovTabOff: number, iovcnt: number): number {
  return lib().pf_writev(fd, arena, iovTabOff, iovcnt);
}

/** recvmmsg(2) over an mmsg table (see `MMSG_*`): messages or -errno. */
export function recvmmsg(
  fd: number,
  arena: Uint8Array,
  tabOff: number,
  vlen: number,
  flags: number,
): number {
  return lib().pf_recvmmsg(fd, arena, tabOff, vlen, flags);
}

/** sendmmsg(2) over an mmsg table (see `MMSG_*`): messages or -errno. */
export function sendmmsg(
  fd: number,
  arena: Uint8Array,
  tabOff: number,
  vlen: number,
  flags: number,
): number {
  return lib().pf_sendmmsg(fd, arena, tabOff, vlen, flags);
}

// Tap device and interfaces

/**
 * Open a tap device (IFF_TAP | IFF_NO_PI, non-blocking, close-on-exec).
 * Throws {@linkcode SysError} on failure.
 *
 * @param name Requested name, `""` for the kernel's choice
 * @returns The fd and the name the kernel gave
 */
export function tapOpen(name: string): { fd: number; name: string } {
  const b = ifnameBuf(name);
  const fd = sysCheck(lib().pf_tap_open(b), `open tap device "${name}"`, "TUNSETIFF");
  return { fd, name: fromCstr(b) };
}

/**
 * Open a tap device inside a namespace, as {@linkcode tapOpen} does.
 * Throws {@linkcode SysError} on failure.
 *
 * @param usernsFd User namespace to join first, or -1
 * @param netnsFd Network namespace, or -1
 * @param name Requested name, `""` for the kernel's choice
 * @returns The fd and the name the kernel gave
 */
export function nsTapOpen(
  usernsFd: number,
  netnsFd: number,
  name: string,
): { fd: number; name: string } {
  const b = ifnameBuf(name);
  const rc = lib().pf_ns_tap_open(usernsFd, netnsFd, b);
  const fd = sysCheck(rc, `open tap device "${name}" in namespace`, "TUNSETIFF");
  return { fd, name: fromCstr(b) };
}

function ifnameBuf(name: string): Uint8Array {
  const b = new Uint8Array(IFNAMSIZ);
  const n = encoder.encodeInto(name, b).written;
  if (n >= IFNAMSIZ) throw new RangeError(`Interface name too long: ${name}`);
  return b;
}

/** Read up to `maxFrames` tap frames into `arena[bufOff..bufOff+bufLen)`, {offset, length} pairs at `descOff`: frames or -errno. */
export function tapReadBatch(
  fd: number,
  arena: Uint8Array,
  bufOff: number,
  bufLen: number,
  descOff: number,
  maxFrames: number,
  frameMax: number,
): number {
  return lib().pf_tap_read_batch(fd, arena, bufOff, bufLen, descOff, maxFrames, frameMax);
}

/** Write `count` frames described by {offset, length} pairs at `descOff`: frames written or -errno. */
export function tapWriteBatch(
  fd: number,
  arena: Uint8Array,
  descOff: number,
  count: number,
): number {
  return lib().pf_tap_write_batch(fd, arena, descOff, count);
}

/** Interface index by name in our namespace: index or -errno. */
export function ifindex(name: string): number {
  return lib().pf_ifindex(cstr(name));
}

// Event loop

/** epoll_create1(EPOLL_CLOEXEC): fd or -errno. */
export function epollCreate(): number {
  return lib().pf_epoll_create();
}

/** epoll_ctl(2) with a 64-bit reference as two `u32` halves: 0 or -errno. */
export function epollCtl(
  epfd: number,
  op: number,
  fd: number,
  events: number,
  refLo: number,
  refHi = 0,
): number {
  return lib().pf_epoll_ctl(epfd, op, fd, events >>> 0, refLo >>> 0, refHi >>> 0);
}

/** epoll_wait(2), {events, ref_lo, ref_hi} words into `out`: events or -errno (-EINTR included). */
export function epollWait(
  epfd: number,
  out: Uint8Array,
  maxEvents: number,
  timeoutMs: number,
): number {
  return lib().pf_epoll_wait(epfd, out, maxEvents, timeoutMs | 0);
}

/** timerfd_create(2): fd or -errno. */
export function timerfdCreate(clockid: number, flags: number): number {
  return lib().pf_timerfd_create(clockid, flags);
}

/** timerfd_settime(2); an all-zero first expiry disarms: 0 or -errno. */
export function timerfdSettime(
  fd: number,
  flags: number,
  valueSec: number,
  valueNsec: number,
  intervalSec = 0,
  intervalNsec = 0,
): number {
  return lib().pf_timerfd_settime(fd, flags, valueSec, valueNsec, intervalSec, intervalNsec);
}

/** Read a timerfd: expirations (capped at 2^31-1) or -errno. */
export function timerfdRead(fd: number): number {
  return lib().pf_timerfd_read(fd);
}

/** eventfd(2): fd or -errno. */
export function eventfd(initval: number, flags: number): number {
  return lib().pf_eventfd(initval, flags);
}

/** Forward SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1 as one byte each to `writeFd`; ignore SIGPIPE: 0 or -errno. */
export function signalPipe(writeFd: number): number {
  return lib().pf_signal_pipe(writeFd);
}

/** inotify_init1(2): fd or -errno. */
export function inotifyInit1(flags: number): number {
  return lib().pf_inotify_init1(flags);
}

/** inotify_add_watch(2): watch descriptor or -errno. */
export function inotifyAddWatch(fd: number, path: string, mask: number): number {
  return lib().pf_inotify_add_watch(fd, cstr(path), mask >>> 0);
}

// Pipes and splicing

/** pipe2(2) into `out[0]` (read end), `out[1]` (write end): 0 or -errno. */
export function pipe2(out: Int32Array, flags: number): number {
  return lib().pf_pipe2(out, flags);
}

/** splice(2) without offsets: bytes moved (0 at end of input) or -errno. */
export function splice(fdIn: number, fdOut: number, len: number, flags: number): number {
  return lib().pf_splice(fdIn, fdOut, len, flags);
}

/** fcntl(2) with an `int` argument: result or -errno. */
export function fcntl(fd: number, cmd: number, arg = 0): number {
  return lib().pf_fcntl(fd, cmd, arg | 0);
}

// Files, processes, memory

/** open(2): fd or -errno. */
export function open(path: string, flags: number, mode = 0): number {
  return lib().pf_open(cstr(path), flags, mode);
}

/** lseek(2) within the first 2 GiB: new offset or -errno. */
export function lseek(fd: number, off: number, whence: number): number {
  return lib().pf_lseek(fd, off | 0, whence);
}

/** ftruncate(2): 0 or -errno. */
export function ftruncate(fd: number, len: number): number {
  return lib().pf_ftruncate(fd, len);
}

/** fallocate(2) with FALLOC_FL_COLLAPSE_RANGE: 0 or -errno. */
export function fallocateCollapse(fd: number, off: number, len: number): number {
  return lib().pf_fallocate_collapse(fd, off, len);
}

/** getrandom(2) into `buf[off..off+len)`: bytes or -errno. */
export function getrandom(buf: Uint8Array, off: number, len: number, flags = 0): number {
  return lib().pf_getrandom(buf, off, len, flags);
}

/** Raise the soft RLIMIT_NOFILE to the hard limit: new limit or -errno. */
export function raiseNofile(): number {
  return lib().pf_raise_nofile();
}

/** kill(2): 0 or -errno. */
export function kill(pid: number, sig: number): number {
  return lib().pf_kill(pid, sig);
}

/** waitpid(2), the status into `status[0]`: pid, 0 (WNOHANG) or -errno. */
export function waitpid(pid: number, status: Int32Array, options = 0): number {
  return lib().pf_waitpid(pid, status, options);
}

// Netlink and namespaces

/** A bound NETLINK_ROUTE socket in our namespace: fd or -errno. */
export function netlinkOpen(): number {
  return lib().pf_netlink_open();
}

/** socket(2) inside a namespace (AF_NETLINK ones set up as {@linkcode netlinkOpen}): fd or -errno. */
export function nsSocket(
  usernsFd: number,
  netnsFd: number,
  domain: number,
  type: number,
  protocol = 0,
): number {
  return lib().pf_ns_socket(usernsFd, netnsFd, domain, type, protocol);
}

/** Interface index by name inside a namespace: index or -errno. */
export function nsIfindex(usernsFd: number, netnsFd: number, name: string): number {
  return lib().pf_ns_ifindex(usernsFd, netnsFd, cstr(name));
}

/** open(2) from inside a namespace (O_CLOEXEC added): fd or -errno. */
export function nsOpen(usernsFd: number, netnsFd: number, path: string, flags: number): number {
  return lib().pf_ns_open(usernsFd, netnsFd, cstr(path), flags);
}

/** Write a whole file (a /proc/sys entry, say) from inside a namespace: 0 or -errno. */
export function nsWriteFile(
  usernsFd: number,
  netnsFd: number,
  path: string,
  data: string | Uint8Array,
): number {
  const b = typeof data === "string" ? encoder.encode(data) : data;
  return lib().pf_ns_write_file(usernsFd, netnsFd, cstr(path), b, b.length);
}

/** Socket with SO_REUSEADDR, bound (and listening if `backlog >= 0`) inside a namespace: fd or -errno. */
export function nsBindSocket(
  usernsFd: number,
  netnsFd: number,
  domain: number,
  type: number,
  protocol: number,
  sa: Uint8Array,
  backlog: number,
): number {
  return lib().pf_ns_bind_socket(usernsFd, netnsFd, domain, type, protocol, sa, sa.length, backlog);
}

/**
 * Start a command in new namespaces; it waits for one byte on `syncFd`
 * before exec (exit status 1 on end of file, 127 if exec fails).
 *
 * @param argv Command and arguments (empty ones too); `"-sh"` as argv[0] runs `sh` as a login shell
 * @param cloneFlags `CLONE_NEW*` flags
 * @param syncFd Read end of the start pipe
 * @returns The child's pid, or -errno (-EINVAL for no argument or a NUL in one)
 */
export function spawnNs(argv: readonly string[], cloneFlags: number, syncFd: number): number {
  // A NUL can't be part of an argument: execve() would cut it there
  if (argv.some((a) => a.includes("\0"))) return -EINVAL;
  return lib().pf_spawn_ns(argvBuf(argv), cloneFlags >>> 0, syncFd);
}
