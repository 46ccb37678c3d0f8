/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* passt_ffi.h - native helpers reached from TypeScript through Deno.dlopen
 *
 * Every exported function returns an int32_t: a count, fd or 0 on success,
 * -errno on failure, with errno captured right after the failing syscall.
 * Parameters are 32-bit integers or buffers (uint8_t *); positions inside a
 * buffer ("arena") are uint32_t offsets. Little tables inside the arena
 * (iovecs, mmsg entries, frame descriptors, epoll events) are arrays of
 * native-endian uint32_t words.
 *
 * ffi/symbols.ts mirrors this header one to one; tests/ffi/symbols_test.ts
 * checks that the two agree.
 */

#ifndef PASST_FFI_H
#define PASST_FFI_H

#include <errno.h>
#include <stdint.h>

/* Words per entry of an mmsg table: buf_off, buf_len, name_off, name_len,
 * msg_len, msg_flags, gso_refused (first entry, pf_sendmmsg_gso()), reserved
 */
#define PF_MMSG_WORDS		8
/* Word of the first entry pf_sendmmsg_gso() sets when the path refused GSO */
#define PF_MMSG_GSO_REFUSED	6
/* Words per epoll event written by pf_epoll_wait(): events, ref_lo, ref_hi */
#define PF_EPOLL_WORDS		3
/* Words written by pf_tcp_info() */
#define PF_TCP_INFO_WORDS	14
/* Words written by pf_recv_err(): origin, type, code, info, family, address */
#define PF_RECVERR_WORDS	9
/* Upper bound for iovec and mmsg batches (UIO_MAXIOV) */
#define PF_BATCH_MAX		1024

/* sock.c */
int32_t pf_socket(int32_t domain, int32_t type, int32_t protocol);
int32_t pf_socketpair(int32_t domain, int32_t type, int32_t protocol,
		      uint8_t *out);
int32_t pf_bind(int32_t fd, uint8_t *sa, uint32_t salen);
int32_t pf_connect(int32_t fd, uint8_t *sa, uint32_t salen);
int32_t pf_listen(int32_t fd, int32_t backlog);
int32_t pf_accept4(int32_t fd, uint8_t *sa_out, int32_t flags);
int32_t pf_getsockname(int32_t fd, uint8_t *sa_out);
int32_t pf_setsockopt_int(int32_t fd, int32_t level, int32_t name,
			  int32_t value);
int32_t pf_getsockopt_int(int32_t fd, int32_t level, int32_t name);
int32_t pf_setsockopt_buf(int32_t fd, int32_t level, int32_t name,
			  uint8_t *buf, uint32_t len);
int32_t pf_tcp_info(int32_t fd, uint8_t *out, uint32_t off);
int32_t pf_close(int32_t fd);
int32_t pf_shutdown(int32_t fd, int32_t how);
int32_t pf_read(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len);
int32_t pf_write(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len);
int32_t pf_recv(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len,
		int32_t flags);
int32_t pf_send(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len,
		int32_t flags);
int32_t pf_recv_discard(int32_t fd, uint32_t len, int32_t flags);
int32_t pf_recvmsg(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		   uint32_t iovcnt, int32_t flags, uint32_t name_off,
		   uint32_t namelen);
int32_t pf_recv_err(int32_t fd, uint8_t *buf, uint32_t len, uint8_t *info);
int32_t pf_sendmsg(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		   uint32_t iovcnt, int32_t flags, uint32_t name_off,
		   uint32_t namelen);
int32_t pf_readv(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		 uint32_t iovcnt);
int32_t pf_writev(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		  uint32_t iovcnt);
int32_t pf_recvmmsg(int32_t fd, uint8_t *arena, uint32_t tab_off,
		    uint32_t vlen, int32_t flags);
int32_t pf_sendmmsg(int32_t fd, uint8_t *arena, uint32_t tab_off,
		    uint32_t vlen, int32_t flags);
int32_t pf_sendmmsg_gso(int32_t fd, uint8_t *arena, uint32_t tab_off,
			uint32_t vlen, int32_t flags);

/* tap.c */
int32_t pf_tap_open(uint8_t *name);
int32_t pf_tap_read_batch(int32_t fd, uint8_t *arena, uint32_t buf_off,
			  uint32_t buf_len, uint32_t desc_off,
			  uint32_t max_frames, uint32_t frame_max);
int32_t pf_tap_write_batch(int32_t fd, uint8_t *arena, uint32_t desc_off,
			   uint32_t count);
int32_t pf_ifindex(uint8_t *name);

/* epoll.c */
int32_t pf_epoll_create(void);
int32_t pf_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events,
		     uint32_t ref_lo, uint32_t ref_hi);
int32_t pf_epoll_wait(int32_t epfd, uint8_t *out, uint32_t maxevents,
		      int32_t timeout_ms);
int32_t pf_timerfd_create(int32_t clockid, int32_t flags);
int32_t pf_timerfd_settime(int32_t fd, int32_t flags, uint32_t value_sec,
			   uint32_t value_nsec, uint32_t interval_sec,
			   uint32_t interval_nsec);
int32_t pf_timerfd_read(int32_t fd);
int32_t pf_eventfd(uint32_t initval, int32_t flags);
int32_t pf_signal_pipe(int32_t write_fd);
int32_t pf_inotify_init1(int32_t flags);
int32_t pf_inotify_add_watch(int32_t fd, uint8_t *path, uint32_t mask);

/* splice.c */
int32_t pf_pipe2(uint8_t *out, int32_t flags);
int32_t pf_splice(int32_t fd_in, int32_t fd_out, uint32_t len,
		  uint32_t flags);
int32_t pf_fcntl(int32_t fd, int32_t cmd, int32_t arg);

/* util.c */
int32_t pf_open(uint8_t *path, int32_t flags, uint32_t mode);
int32_t pf_lseek(int32_t fd, int32_t off, int32_t whence);
int32_t pf_ftruncate(int32_t fd, uint32_t len);
int32_t pf_getrandom(uint8_t *buf, uint32_t off, uint32_t len,
		     uint32_t flags);
int32_t pf_raise_nofile(void);
int32_t pf_malloc_trim(void);
int32_t pf_same_file(int32_t fd, uint8_t *path);
int32_t pf_kill(int32_t pid, int32_t sig);
int32_t pf_exit(int32_t status, int32_t keep_fd);
int32_t pf_waitpid(int32_t pid, uint8_t *status_out, int32_t options);
int32_t pf_strerror(int32_t errnum, uint8_t *out, uint32_t len);
int32_t pf_errno_name(int32_t errnum, uint8_t *out, uint32_t len);

/* netlink.c */
int32_t pf_netlink_open(void);

/* ns.c */
int32_t pf_ns_sockets(int32_t userns_fd, int32_t netns_fd, int32_t domain,
		      int32_t type, int32_t protocol, uint8_t *out,
		      int32_t count);
int32_t pf_ns_socket(int32_t userns_fd, int32_t netns_fd, int32_t domain,
		     int32_t type, int32_t protocol);
int32_t pf_ns_tap_open(int32_t userns_fd, int32_t netns_fd, uint8_t *name);
int32_t pf_ns_ifindex(int32_t userns_fd, int32_t netns_fd, uint8_t *name);
int32_t pf_ns_open(int32_t userns_fd, int32_t netns_fd, uint8_t *path,
		   int32_t flags);
int32_t pf_ns_write_file(int32_t userns_fd, int32_t netns_fd, uint8_t *path,
			 uint8_t *data, uint32_t len);
int32_t pf_ns_bind_socket(int32_t userns_fd, int32_t netns_fd,
			  int32_t domain, int32_t type, int32_t protocol,
			  uint8_t *sa, uint32_t salen, int32_t backlog);

/* ns_server.c */
int32_t pf_ns_server_start(uint8_t *helper, int32_t userns_fd, int32_t netns_fd,
			   uint32_t keep_caps, int32_t hold_fd);

/* spawn.c */
int32_t pf_spawn_ns(uint8_t *argv_buf, uint32_t clone_flags, int32_t sync_fd,
		    uint8_t *hostname);

/* proc.c: exec, process watching, IDs, stdio */
int32_t pf_execvp(uint8_t *argv_buf);
int32_t pf_dup2(int32_t oldfd, int32_t newfd);
int32_t pf_pidfd_open(int32_t pid);
int32_t pf_getids(uint8_t *out);
int32_t pf_detach_stdio(void);
int32_t pf_spawn_isolated(uint8_t *argv_buf, int32_t keep_fd,
			  int32_t userns_fd, int32_t uid, int32_t gid,
			  uint32_t flags, uint32_t keep_caps, uint8_t *err);
/* pf_isolate() flags: move the root to an empty tmpfs, with chroot() fallback */
#define PF_ISOLATE_PIVOT	1
#define PF_ISOLATE_CHROOT	2
int32_t pf_isolate_begin(void);
int32_t pf_isolate(int32_t pivot, uint32_t keep_caps);
int32_t pf_seccomp(int32_t pasta, int32_t install);

/* vhost_user.c: guest memory and virtqueues for passt --vhost-user */
int32_t pf_vu_reset(void);
int32_t pf_vu_set_features(uint32_t flags);
int32_t pf_vu_set_mem_table(uint8_t *buf, uint32_t off, uint32_t len,
			    uint32_t fds_off, uint32_t nfds);
int32_t pf_vu_vring_num(uint32_t idx, uint32_t num);
int32_t pf_vu_vring_addr(uint8_t *buf, uint32_t off);
int32_t pf_vu_vring_base(uint32_t idx, uint32_t base);
int32_t pf_vu_vring_get_base(uint32_t idx);
int32_t pf_vu_vring_call(uint32_t idx, int32_t fd);
int32_t pf_vu_vring_active(uint32_t idx, uint32_t on);
int32_t pf_vu_dropped(void);
int32_t pf_vu_tx(uint8_t *arena, uint32_t in_off, uint32_t in_len,
		 uint32_t desc_off, uint32_t max);
int32_t pf_vu_rx(uint8_t *arena, uint32_t arena_len, uint32_t desc_off,
		 uint32_t count);
int32_t pf_vu_msg_recv(int32_t fd, uint8_t *buf, uint32_t off);

/* Internal helpers shared between files, not exported from the library */
#define PF_INTERNAL __attribute__((visibility("hidden")))

PF_INTERNAL int32_t netlink_setup(int fd);
PF_INTERNAL int32_t str_copy(char *dst, uint32_t size, const char *src);
PF_INTERNAL int32_t argv_unpack(uint8_t *buf, char **argv, uint32_t max);
PF_INTERNAL void spawn_prepare(const char *hostname, uint32_t flags);
PF_INTERNAL void dir_each_number(int dfd,
				 void (*fn)(int dfd, const char *name,
					    long num, void *arg),
				 void *arg);
PF_INTERNAL int caps_set(uint32_t mask);

/**
 * zero_or_errno() - Our result of a call that returns 0, or -1 setting errno
 * @rc:		What the call returned
 *
 * Return: 0, or -errno
 */
static inline int32_t zero_or_errno(int rc)
{
	return rc ? -errno : 0;
}

/**
 * struct iso_req - What the spawning child does, and what it reports
 * @userns_fd:	User namespace to join, or -1
 * @uid:	UID to switch to, or -1
 * @gid:	GID to switch to, or -1
 * @flags:	CLONE_NEW* flags to unshare (CLONE_NEWUSER first)
 * @keep_caps:	Capabilities (bits 0..31) kept across execve
 * @keep_fd:	Descriptor the daemon inherits (readiness pipe)
 * @keep_bounding: Leave the bounding set alone (foreground: the command we
 *		spawn keeps it; pf_isolate() empties ours later)
 * @pid:	Result: PID of the daemon, or -errno
 * @step:	Result: which step failed
 */
struct iso_req {
	int userns_fd;
	int uid;
	int gid;
	uint32_t flags;
	uint32_t keep_caps;
	int keep_fd;
	int keep_bounding;
	int32_t pid;
	const char *step;
};
PF_INTERNAL int sandbox_enter(const struct iso_req *r, const char **step);
PF_INTERNAL int32_t spawn_isolated(char **argv, int32_t keep_fd,
				   int32_t userns_fd, int32_t uid, int32_t gid,
				   uint32_t flags, uint32_t keep_caps);
PF_INTERNAL int pivot_empty_root(void);

PF_INTERNAL int ns_server_serves(int netns_fd);
PF_INTERNAL int32_t ns_server_socket(int domain, int type, int protocol,
				     const uint8_t *sa, uint32_t salen,
				     int backlog);
PF_INTERNAL int32_t ns_server_sockets(int domain, int type, int protocol,
				      int32_t *out, int32_t count);

/* Requests to the namespace socket server (ns_server.c, helper.c) */
#define SRV_OP_SOCKET	0
#define SRV_OP_BIND	1
#define SRV_OP_SOCKETS	2	/* @backlog sockets at once */
#define SRV_BATCH_MAX	32

/**
 * struct srv_msg - Request to, and reply from, the socket server
 * @op:		SRV_OP_SOCKET, SRV_OP_BIND or SRV_OP_SOCKETS
 * @domain:	Socket domain
 * @type:	Socket type
 * @protocol:	Socket protocol
 * @backlog:	listen() backlog, negative for none; for SRV_OP_SOCKETS, how
 *		many sockets (1 to SRV_BATCH_MAX)
 * @len:	Length of @sa
 * @rc:		Reply: 0 (descriptor attached), the number of descriptors
 *		attached for SRV_OP_SOCKETS, or -errno
 * @sa:		Address to bind
 */
struct srv_msg {
	int32_t op;
	int32_t domain;
	int32_t type;
	int32_t protocol;
	int32_t backlog;
	uint32_t len;
	int32_t rc;
	uint8_t sa[128];
};


#endif /* PASST_FFI_H */
