// SPDX-FileCopyrightText: 2026 passt-deno developers
// SPDX-License-Identifier: GPL-2.0-or-later
// deno-lint-ignore-file camelcase

/**
 * `symbols.ts` - the symbol table of `native/build/libpasst_ffi.so`.
 *
 * One entry per function declared in `native/passt_ffi.h`, keyed by its C
 * name; each parameter carries its C declaration as a comment. This is the
 * only file that names C types. Every function returns `int32_t`: a count,
 * fd or 0 on success, `-errno` on failure. `tests/ffi/symbols_test.ts` checks this table against the header.
 *
 * @module
 */

/** Signature `(fd, sa, salen)`: pf_bind and pf_connect. */
const SOCKADDR_CALL = {
  parameters: [
    "i32", // int32_t fd
    "buffer", // uint8_t *sa
    "u32", // uint32_t salen
  ],
  result: "i32",
} as const;

/** Signature `(fd, buf, off, len)`: pf_read and pf_write. */
const BUF_IO = {
  parameters: [
    "i32", // int32_t fd
    "buffer", // uint8_t *buf
    "u32", // uint32_t off
    "u32", // uint32_t len
  ],
  result: "i32",
} as const;

/** Signature `(fd, buf, off, len, flags)`: pf_recv and pf_send. */
const BUF_MSG_IO = {
  parameters: [
    "i32", // int32_t fd
    "buffer", // uint8_t *buf
    "u32", // uint32_t off
    "u32", // uint32_t len
    "i32", // int32_t flags
  ],
  result: "i32",
} as const;

/** Signature `(fd, arena, iov_tab_off, iovcnt, flags, name_off, namelen)`: pf_recvmsg and pf_sendmsg. */
const ARENA_MSG_IO = {
  parameters: [
    "i32", // int32_t fd
    "buffer", // uint8_t *arena
    "u32", // uint32_t iov_tab_off
    "u32", // uint32_t iovcnt
    "i32", // int32_t flags
    "u32", // uint32_t name_off
    "u32", // uint32_t namelen
  ],
  result: "i32",
} as const;

/** Signature `(fd, arena, iov_tab_off, iovcnt)`: pf_readv and pf_writev. */
const ARENA_IOV_IO = {
  parameters: [
    "i32", // int32_t fd
    "buffer", // uint8_t *arena
    "u32", // uint32_t iov_tab_off
    "u32", // uint32_t iovcnt
  ],
  result: "i32",
} as const;

/** Signature `(fd, arena, tab_off, vlen, flags)`: pf_recvmmsg, pf_sendmmsg, pf_sendmmsg_gso. */
const ARENA_MMSG_IO = {
  parameters: [
    "i32", // int32_t fd
    "buffer", // uint8_t *arena
    "u32", // uint32_t tab_off
    "u32", // uint32_t vlen
    "i32", // int32_t flags
  ],
  result: "i32",
} as const;

/** Signature `(errnum, out, len)`: pf_strerror and pf_errno_name. */
const ERRNO_TEXT = {
  parameters: [
    "i32", // int32_t errnum
    "buffer", // uint8_t *out
    "u32", // uint32_t len
  ],
  result: "i32",
} as const;

/** Signature `(userns_fd, netns_fd, name)`: pf_ns_tap_open and pf_ns_ifindex. */
const NS_IFNAME_CALL = {
  parameters: [
    "i32", // int32_t userns_fd
    "i32", // int32_t netns_fd
    "buffer", // uint8_t *name
  ],
  result: "i32",
} as const;

/** Parameters `(userns_fd, netns_fd, domain, type, protocol)`: pf_ns_socket, and how pf_ns_bind_socket starts. */
const NS_SOCKET_PARAMS = [
  "i32", // int32_t userns_fd
  "i32", // int32_t netns_fd
  "i32", // int32_t domain
  "i32", // int32_t type
  "i32", // int32_t protocol
] as const;

/** Table for `Deno.dlopen()`: every `pf_` function of the native library. */
export const SYMBOLS = {
  // sock.c
  pf_socket: {
    parameters: [
      "i32", // int32_t domain
      "i32", // int32_t type
      "i32", // int32_t protocol
    ],
    result: "i32",
  },
  pf_socketpair: {
    parameters: [
      "i32", // int32_t domain
      "i32", // int32_t type
      "i32", // int32_t protocol
      "buffer", // uint8_t *out
    ],
    result: "i32",
  },
  pf_bind: SOCKADDR_CALL,
  pf_connect: SOCKADDR_CALL,
  pf_listen: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t backlog
    ],
    result: "i32",
  },
  pf_accept4: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *sa_out
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_getsockname: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *sa_out
    ],
    result: "i32",
  },

  pf_setsockopt_int: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t level
      "i32", // int32_t name
      "i32", // int32_t value
    ],
    result: "i32",
  },
  pf_getsockopt_int: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t level
      "i32", // int32_t name
    ],
    result: "i32",
  },
  pf_setsockopt_buf: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t level
      "i32", // int32_t name
      "buffer", // uint8_t *buf
      "u32", // uint32_t len
    ],
    result: "i32",
  },
  pf_tcp_info: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *out
      "u32", // uint32_t off
    ],
    result: "i32",
  },
  pf_close: {
    parameters: [
      "i32", // int32_t fd
    ],
    result: "i32",
  },
  pf_shutdown: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t how
    ],
    result: "i32",
  },
  pf_read: BUF_IO,
  pf_write: BUF_IO,
  pf_recv: BUF_MSG_IO,
  pf_send: BUF_MSG_IO,
  pf_recv_discard: {
    parameters: [
      "i32", // int32_t fd
      "u32", // uint32_t len
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_recvmsg: ARENA_MSG_IO,
  pf_recv_err: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *buf
      "u32", // uint32_t len
      "buffer", // uint8_t *info
    ],
    result: "i32",
  },
  pf_sendmsg: ARENA_MSG_IO,
  pf_readv: ARENA_IOV_IO,
  pf_writev: ARENA_IOV_IO,
  pf_recvmmsg: ARENA_MMSG_IO,
  pf_sendmmsg: ARENA_MMSG_IO,
  pf_sendmmsg_gso: ARENA_MMSG_IO,

  // tap.c
  pf_tap_open: {
    parameters: [
      "buffer", // uint8_t *name
    ],
    result: "i32",
  },
  pf_tap_read_batch: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *arena
      "u32", // uint32_t buf_off
      "u32", // uint32_t buf_len
      "u32", // uint32_t desc_off
      "u32", // uint32_t max_frames
      "u32", // uint32_t frame_max
    ],
    result: "i32",
  },
  pf_tap_write_batch: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *arena
      "u32", // uint32_t desc_off
      "u32", // uint32_t count
    ],
    result: "i32",
  },
  pf_ifindex: {
    parameters: [
      "buffer", // uint8_t *name
    ],
    result: "i32",
  },

  // epoll.c
  pf_epoll_create: {
    parameters: [],
    result: "i32",
  },
  pf_epoll_ctl: {
    parameters: [
      "i32", // int32_t epfd
      "i32", // int32_t op
      "i32", // int32_t fd
      "u32", // uint32_t events
      "u32", // uint32_t ref_lo
      "u32", // uint32_t ref_hi
    ],
    result: "i32",
  },
  pf_epoll_wait: {
    parameters: [
      "i32", // int32_t epfd
      "buffer", // uint8_t *out
      "u32", // uint32_t maxevents
      "i32", // int32_t timeout_ms
    ],
    result: "i32",
  },
  pf_timerfd_create: {
    parameters: [
      "i32", // int32_t clockid
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_timerfd_settime: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t flags
      "u32", // uint32_t value_sec
      "u32", // uint32_t value_nsec
      "u32", // uint32_t interval_sec
      "u32", // uint32_t interval_nsec
    ],
    result: "i32",
  },
  pf_timerfd_read: {
    parameters: [
      "i32", // int32_t fd
    ],
    result: "i32",
  },
  pf_eventfd: {
    parameters: [
      "u32", // uint32_t initval
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_signal_pipe: {
    parameters: [
      "i32", // int32_t write_fd
    ],
    result: "i32",
  },
  pf_inotify_init1: {
    parameters: [
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_inotify_add_watch: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *path
      "u32", // uint32_t mask
    ],
    result: "i32",
  },

  // splice.c
  pf_pipe2: {
    parameters: [
      "buffer", // uint8_t *out
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_splice: {
    parameters: [
      "i32", // int32_t fd_in
      "i32", // int32_t fd_out
      "u32", // uint32_t len
      "u32", // uint32_t flags
    ],
    result: "i32",
  },
  pf_fcntl: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t cmd
      "i32", // int32_t arg
    ],
    result: "i32",
  },

  // util.c
  pf_open: {
    parameters: [
      "buffer", // uint8_t *path
      "i32", // int32_t flags
      "u32", // uint32_t mode
    ],
    result: "i32",
  },
  pf_lseek: {
    parameters: [
      "i32", // int32_t fd
      "i32", // int32_t off
      "i32", // int32_t whence
    ],
    result: "i32",
  },
  pf_ftruncate: {
    parameters: [
      "i32", // int32_t fd
      "u32", // uint32_t len
    ],
    result: "i32",
  },

  pf_getrandom: {
    parameters: [
      "buffer", // uint8_t *buf
      "u32", // uint32_t off
      "u32", // uint32_t len
      "u32", // uint32_t flags
    ],
    result: "i32",
  },
  pf_raise_nofile: {
    parameters: [],
    result: "i32",
  },
  pf_malloc_trim: {
    parameters: [],
    result: "i32",
  },
  pf_exit: {
    parameters: [
      "i32", // int32_t status
      "i32", // int32_t keep_fd
    ],
    result: "i32",
  },
  pf_same_file: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *path
    ],
    result: "i32",
  },
  pf_kill: {
    parameters: [
      "i32", // int32_t pid
      "i32", // int32_t sig
    ],
    result: "i32",
  },
  pf_waitpid: {
    parameters: [
      "i32", // int32_t pid
      "buffer", // uint8_t *status_out
      "i32", // int32_t options
    ],
    result: "i32",
  },
  pf_strerror: ERRNO_TEXT,
  pf_errno_name: ERRNO_TEXT,

  // netlink.c
  pf_netlink_open: {
    parameters: [],
    result: "i32",
  },

  // ns.c
  pf_ns_socket: {
    parameters: NS_SOCKET_PARAMS,
    result: "i32",
  },
  pf_ns_sockets: {
    parameters: [
      ...NS_SOCKET_PARAMS,
      "buffer", // uint8_t *out
      "i32", // int32_t count
    ],
    result: "i32",
  },
  pf_ns_tap_open: NS_IFNAME_CALL,
  pf_ns_ifindex: NS_IFNAME_CALL,
  pf_ns_open: {
    parameters: [
      "i32", // int32_t userns_fd
      "i32", // int32_t netns_fd
      "buffer", // uint8_t *path
      "i32", // int32_t flags
    ],
    result: "i32",
  },
  pf_ns_write_file: {
    parameters: [
      "i32", // int32_t userns_fd
      "i32", // int32_t netns_fd
      "buffer", // uint8_t *path
      "buffer", // uint8_t *data
      "u32", // uint32_t len
    ],
    result: "i32",
  },
  pf_ns_bind_socket: {
    parameters: [
      ...NS_SOCKET_PARAMS,
      "buffer", // uint8_t *sa
      "u32", // uint32_t salen
      "i32", // int32_t backlog
    ],
    result: "i32",
  },

  // ns_server.c
  pf_ns_server_start: {
    parameters: [
      "buffer", // uint8_t *helper
      "i32", // int32_t userns_fd
      "i32", // int32_t netns_fd
      "u32", // uint32_t keep_caps
      "i32", // int32_t hold_fd
    ],
    result: "i32",
  },

  // spawn.c
  pf_spawn_ns: {
    parameters: [
      "buffer", // uint8_t *argv_buf
      "u32", // uint32_t clone_flags
      "i32", // int32_t sync_fd
      "buffer", // uint8_t *hostname
    ],
    result: "i32",
  },
  pf_execvp: {
    parameters: [
      "buffer", // uint8_t *argv_buf
    ],
    result: "i32",
  },
  pf_dup2: {
    parameters: [
      "i32", // int32_t oldfd
      "i32", // int32_t newfd
    ],
    result: "i32",
  },
  pf_pidfd_open: {
    parameters: [
      "i32", // int32_t pid
    ],
    result: "i32",
  },
  pf_detach_stdio: {
    parameters: [],
    result: "i32",
  },
  pf_getids: {
    parameters: [
      "buffer", // uint8_t *out
    ],
    result: "i32",
  },
  pf_spawn_isolated: {
    parameters: [
      "buffer", // uint8_t *argv_buf
      "i32", // int32_t keep_fd
      "i32", // int32_t userns_fd
      "i32", // int32_t uid
      "i32", // int32_t gid
      "u32", // uint32_t flags
      "u32", // uint32_t keep_caps
      "buffer", // uint8_t *err
    ],
    result: "i32",
  },
  pf_isolate_begin: {
    parameters: [],
    result: "i32",
  },
  pf_isolate: {
    parameters: [
      "i32", // int32_t pivot
      "u32", // uint32_t keep_caps
    ],
    result: "i32",
  },
  pf_seccomp: {
    parameters: [
      "i32", // int32_t pasta
      "i32", // int32_t install
    ],
    result: "i32",
  },
  // vhost_user.c
  pf_vu_reset: { parameters: [], result: "i32" },
  pf_vu_set_features: {
    parameters: [
      "u32", // uint32_t flags
    ],
    result: "i32",
  },
  pf_vu_set_mem_table: {
    parameters: [
      "buffer", // uint8_t *buf
      "u32", // uint32_t off
      "u32", // uint32_t len
      "u32", // uint32_t fds_off
      "u32", // uint32_t nfds
    ],
    result: "i32",
  },
  pf_vu_vring_num: {
    parameters: [
      "u32", // uint32_t idx
      "u32", // uint32_t num
    ],
    result: "i32",
  },
  pf_vu_vring_addr: {
    parameters: [
      "buffer", // uint8_t *buf
      "u32", // uint32_t off
    ],
    result: "i32",
  },
  pf_vu_vring_base: {
    parameters: [
      "u32", // uint32_t idx
      "u32", // uint32_t base
    ],
    result: "i32",
  },
  pf_vu_vring_get_base: {
    parameters: [
      "u32", // uint32_t idx
    ],
    result: "i32",
  },
  pf_vu_vring_call: {
    parameters: [
      "u32", // uint32_t idx
      "i32", // int32_t fd
    ],
    result: "i32",
  },
  pf_vu_vring_active: {
    parameters: [
      "u32", // uint32_t idx
      "u32", // uint32_t on
    ],
    result: "i32",
  },
  pf_vu_dropped: { parameters: [], result: "i32" },
  pf_vu_tx: {
    parameters: [
      "buffer", // uint8_t *arena
      "u32", // uint32_t in_off
      "u32", // uint32_t in_len
      "u32", // uint32_t desc_off
      "u32", // uint32_t max
    ],
    result: "i32",
  },
  pf_vu_rx: {
    parameters: [
      "buffer", // uint8_t *arena
      "u32", // uint32_t arena_len
      "u32", // uint32_t desc_off
      "u32", // uint32_t count
    ],
    result: "i32",
  },
  pf_vu_msg_recv: {
    parameters: [
      "i32", // int32_t fd
      "buffer", // uint8_t *buf
      "u32", // uint32_t off
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;
