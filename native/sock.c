/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* sock.c - sockets, scatter-gather and batched socket calls, TCP_INFO
 *
 * Buffers come from TypeScript as the whole arena plus uint32_t offsets.
 * Scatter-gather calls describe their iovecs as tables of native-endian
 * uint32_t words inside that same arena; they are expanded here into static
 * arrays, so nothing is allocated on the packet path. The static arrays make
 * these functions non-reentrant: only the event loop thread may call them.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <linux/tcp.h>
#include <linux/errqueue.h>

#include "passt_ffi.h"

/* Size of the sockaddr buffers filled by accept4/getsockname */
#define SA_OUT_LEN	128

static struct iovec sg_iov[PF_BATCH_MAX];
static struct iovec mm_iov[PF_BATCH_MAX];
static struct mmsghdr mm_hdr[PF_BATCH_MAX];

#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

/* A UDP GSO send: at most this many datagrams, and this much payload (an
 * IPv4 or IPv6 datagram of 65535 bytes with room for the headers)
 */
#define GSO_SEGS_MAX	64
#define GSO_BYTES_MAX	65000

/* One UDP_SEGMENT control message per GSO send */
union gso_cmsg {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};

static struct mmsghdr gso_hdr[PF_BATCH_MAX];
static union gso_cmsg gso_ctl[PF_BATCH_MAX];
/* Table entries each GSO send covers */
static uint16_t gso_cnt[PF_BATCH_MAX];

/**
 * words() - Native-endian uint32_t view of a table in the arena
 * @arena:	Arena base
 * @off:	Byte offset of the table, 4-byte aligned
 *
 * Return: pointer to the first word
 */
static uint32_t *words(uint8_t *arena, uint32_t off)
{
	return (uint32_t *)(void *)(arena + off);
}

/**
 * pf_socket() - Create a socket
 * @domain:	Address family, AF_INET etc.
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol number, or 0
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_socket(int32_t domain, int32_t type, int32_t protocol)
{
	int fd = socket(domain, type, protocol);

	return fd < 0 ? -errno : fd;
}

/**
 * pf_socketpair() - Create a pair of connected sockets
 * @domain:	Address family, normally AF_UNIX
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol number, or 0
 * @out:	Two native-endian int32_t file descriptors, written on success
 *
 * Return: 0, or -errno
 */
int32_t pf_socketpair(int32_t domain, int32_t type, int32_t protocol,
		      uint8_t *out)
{
	int sv[2];

	if (socketpair(domain, type, protocol, sv))
		return -errno;

	memcpy(out, sv, sizeof(sv));
	return 0;
}

/**
 * pf_bind() - Bind a socket to an address
 * @fd:		Socket
 * @sa:		struct sockaddr bytes
 * @salen:	Length of @sa
 *
 * Return: 0, or -errno
 */
int32_t pf_bind(int32_t fd, uint8_t *sa, uint32_t salen)
{
	return zero_or_errno(bind(fd, (const struct sockaddr *)(void *)sa,
				  salen));
}

/**
 * pf_connect() - Connect a socket
 * @fd:		Socket
 * @sa:		struct sockaddr bytes
 * @salen:	Length of @sa
 *
 * Return: 0, or -errno (-EINPROGRESS for a non-blocking connection attempt)
 */
int32_t pf_connect(int32_t fd, uint8_t *sa, uint32_t salen)
{
	return zero_or_errno(connect(fd, (const struct sockaddr *)(void *)sa,
				     salen));
}

/**
 * pf_listen() - Mark a socket as listening
 * @fd:		Socket
 * @backlog:	Backlog length
 *
 * Return: 0, or -errno
 */
int32_t pf_listen(int32_t fd, int32_t backlog)
{
	return zero_or_errno(listen(fd, backlog));
}

/**
 * pf_accept4() - Accept a connection
 * @fd:		Listening socket
 * @sa_out:	128 bytes, receives the peer address (the family tells its size)
 * @flags:	SOCK_NONBLOCK, SOCK_CLOEXEC
 *
 * Return: new file descriptor, or -errno
 */
int32_t pf_accept4(int32_t fd, uint8_t *sa_out, int32_t flags)
{
	socklen_t sl = SA_OUT_LEN;
	int rc;

	memset(sa_out, 0, SA_OUT_LEN);
	rc = accept4(fd, (struct sockaddr *)(void *)sa_out, &sl, flags);
	return rc < 0 ? -errno : rc;
}

/**
 * pf_getsockname() - Get the local address of a socket
 * @fd:		Socket
 * @sa_out:	128 bytes, receives the address
 *
 * Return: address length, or -errno
 */
int32_t pf_getsockname(int32_t fd, uint8_t *sa_out)
{
	socklen_t sl = SA_OUT_LEN;

	memset(sa_out, 0, SA_OUT_LEN);
	if (getsockname(fd, (struct sockaddr *)(void *)sa_out, &sl))
		return -errno;
	return (int32_t)sl;
}

/**
 * pf_setsockopt_int() - Set an integer socket option
 * @fd:		Socket
 * @level:	Option level, SOL_SOCKET etc.
 * @name:	Option name
 * @value:	Value
 *
 * Return: 0, or -errno
 */
int32_t pf_setsockopt_int(int32_t fd, int32_t level, int32_t name,
			  int32_t value)
{
	int v = value;

	return zero_or_errno(setsockopt(fd, level, name, &v, sizeof(v)));
}

/**
 * pf_getsockopt_int() - Read an integer socket option
 * @fd:		Socket
 * @level:	Option level
 * @name:	Option name
 *
 * Return: option value (non-negative values only), or -errno
 */
int32_t pf_getsockopt_int(int32_t fd, int32_t level, int32_t name)
{
	socklen_t sl = sizeof(int);
	int v = 0;

	if (getsockopt(fd, level, name, &v, &sl))
		return -errno;
	return v;
}

/**
 * pf_setsockopt_buf() - Set a socket option from a byte buffer
 * @fd:		Socket
 * @level:	Option level
 * @name:	Option name, SO_BINDTODEVICE etc.
 * @buf:	Option value
 * @len:	Length of @buf
 *
 * Return: 0, or -errno
 */
int32_t pf_setsockopt_buf(int32_t fd, int32_t level, int32_t name,
			  uint8_t *buf, uint32_t len)
{
	return zero_or_errno(setsockopt(fd, level, name, buf, len));
}

/**
 * pf_tcp_info() - Read selected TCP_INFO fields as uint32_t words
 * @fd:		TCP socket
 * @out:	Arena
 * @off:	Offset of PF_TCP_INFO_WORDS native-endian words: state, snd_mss,
 *		rcv_mss, snd_wscale, rcv_wscale, min_rtt, snd_wnd, bytes_acked
 *		(low, high), rtt, snd_cwnd, bytes_received (low, high) and the
 *		option length the kernel returned
 *
 * Fields beyond the returned option length read as zero.
 *
 * Return: 0, or -errno
 */
int32_t pf_tcp_info(int32_t fd, uint8_t *out, uint32_t off)
{
	uint32_t w[PF_TCP_INFO_WORDS];
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl))
		return -errno;

	w[0] = ti.tcpi_state;
	w[1] = ti.tcpi_snd_mss;
	w[2] = ti.tcpi_rcv_mss;
	w[3] = ti.tcpi_snd_wscale;
	w[4] = ti.tcpi_rcv_wscale;
	w[5] = ti.tcpi_min_rtt;
	w[6] = ti.tcpi_snd_wnd;
	w[7] = (uint32_t)ti.tcpi_bytes_acked;
	w[8] = (uint32_t)(ti.tcpi_bytes_acked >> 32);
	w[9] = ti.tcpi_rtt;
	w[10] = ti.tcpi_snd_cwnd;
	w[11] = (uint32_t)ti.tcpi_bytes_received;
	w[12] = (uint32_t)(ti.tcpi_bytes_received >> 32);
	w[13] = sl;
	memcpy(out + off, w, sizeof(w));
	return 0;
}

/**
 * pf_close() - Close a file descriptor
 * @fd:		File descriptor
 *
 * Return: 0, or -errno
 */
int32_t pf_close(int32_t fd)
{
	return zero_or_errno(close(fd));
}

/**
 * pf_shutdown() - Shut down one or both directions of a socket
 * @fd:		Socket
 * @how:	SHUT_RD, SHUT_WR or SHUT_RDWR
 *
 * Return: 0, or -errno
 */
int32_t pf_shutdown(int32_t fd, int32_t how)
{
	return zero_or_errno(shutdown(fd, how));
}

/**
 * pf_read() - Read into the arena
 * @fd:		File descriptor
 * @buf:	Arena
 * @off:	Offset in @buf
 * @len:	Maximum number of bytes
 *
 * Return: bytes read, or -errno
 */
int32_t pf_read(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len)
{
	ssize_t n = read(fd, buf + off, len);

	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_write() - Write from the arena
 * @fd:		File descriptor
 * @buf:	Arena
 * @off:	Offset in @buf
 * @len:	Number of bytes
 *
 * Return: bytes written, or -errno
 */
int32_t pf_write(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len)
{
	ssize_t n = write(fd, buf + off, len);

	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_recv() - Receive from a socket into the arena
 * @fd:		Socket
 * @buf:	Arena
 * @off:	Offset in @buf
 * @len:	Maximum number of bytes
 * @flags:	MSG_PEEK, MSG_DONTWAIT etc.
 *
 * Return: bytes received, or -errno
 */
int32_t pf_recv(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len,
		int32_t flags)
{
	ssize_t n = recv(fd, buf + off, len, flags);

	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_send() - Send from the arena
 * @fd:		Socket
 * @buf:	Arena
 * @off:	Offset in @buf
 * @len:	Number of bytes
 * @flags:	MSG_NOSIGNAL, MSG_MORE etc.
 *
 * Return: bytes sent, or -errno
 */
int32_t pf_send(int32_t fd, uint8_t *buf, uint32_t off, uint32_t len,
		int32_t flags)
{
	ssize_t n = send(fd, buf + off, len, flags);

	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_recv_discard() - Drop bytes from the head of a socket's receive queue
 * @fd:		TCP socket
 * @len:	Number of bytes to drop
 * @flags:	Extra flags, MSG_DONTWAIT etc.; MSG_TRUNC is always added
 *
 * Return: bytes dropped, or -errno
 */
int32_t pf_recv_discard(int32_t fd, uint32_t len, int32_t flags)
{
	ssize_t n = recv(fd, NULL, len, flags | MSG_TRUNC);

	return n < 0 ? -errno : (int32_t)n;
}

/**
 * iov_load() - Expand an iov table from the arena into an iovec array
 * @arena:	Arena
 * @tab_off:	Offset of @cnt {offset, length} pairs of uint32_t
 * @cnt:	Number of entries, at most PF_BATCH_MAX
 * @iov:	Destination array
 *
 * Return: 0, or -EINVAL if @cnt is too large
 */
static int32_t iov_load(uint8_t *arena, uint32_t tab_off, uint32_t cnt,
			struct iovec *iov)
{
	const uint32_t *t = words(arena, tab_off);
	uint32_t i;

	if (cnt > PF_BATCH_MAX)
		return -EINVAL;

	for (i = 0; i < cnt; i++, t += 2) {
		iov[i].iov_base = arena + t[0];
		iov[i].iov_len = t[1];
	}
	return 0;
}

/**
 * msg_load() - Fill a msghdr from an iov table and an optional name
 * @mh:		Header to fill
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table
 * @iovcnt:	Number of iov entries
 * @name_off:	Offset of the socket address, or 0
 * @namelen:	Length of the socket address, or 0 for none
 *
 * Return: 0, or -EINVAL
 */
static int32_t msg_load(struct msghdr *mh, uint8_t *arena,
			uint32_t iov_tab_off, uint32_t iovcnt,
			uint32_t name_off, uint32_t namelen)
{
	int32_t rc = iov_load(arena, iov_tab_off, iovcnt, sg_iov);

	if (rc)
		return rc;

	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = sg_iov;
	mh->msg_iovlen = iovcnt;
	if (namelen) {
		mh->msg_name = arena + name_off;
		mh->msg_namelen = namelen;
	}
	return 0;
}

/**
 * msg_io() - Load a message from the arena and receive or send it
 * @send:	Send with sendmsg(2) if set, receive with recvmsg(2) otherwise
 * @fd:		Socket
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table
 * @iovcnt:	Number of iov entries, at most 1024
 * @flags:	Flags for recvmsg(2) or sendmsg(2)
 * @name_off:	Offset of the address, or 0
 * @namelen:	Length of (room for) the address, or 0 for none
 *
 * Return: bytes transferred, or -errno
 */
static int32_t msg_io(int send, int32_t fd, uint8_t *arena,
		      uint32_t iov_tab_off, uint32_t iovcnt, int32_t flags,
		      uint32_t name_off, uint32_t namelen)
{
	struct msghdr mh;
	int32_t rc;
	ssize_t n;

	rc = msg_load(&mh, arena, iov_tab_off, iovcnt, name_off, namelen);
	if (rc)
		return rc;

	n = send ? sendmsg(fd, &mh, flags) : recvmsg(fd, &mh, flags);
	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_recvmsg() - Scatter-read a message into the arena
 * @fd:		Socket
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table ({offset, length} uint32_t pairs)
 * @iovcnt:	Number of iov entries, at most 1024
 * @flags:	MSG_PEEK, MSG_DONTWAIT etc.
 * @name_off:	Offset receiving the source address, or 0
 * @namelen:	Room for the source address, or 0 for none
 *
 * Return: bytes received, or -errno
 */
int32_t pf_recvmsg(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		   uint32_t iovcnt, int32_t flags, uint32_t name_off,
		   uint32_t namelen)
{
	return msg_io(0, fd, arena, iov_tab_off, iovcnt, flags, name_off,
		      namelen);
}

/**
 * pf_recv_err() - Read one error from a socket's error queue (IP_RECVERR)
 * @fd:		Socket with IP_RECVERR or IPV6_RECVERR set
 * @buf:	Receives the start of the datagram the error is about
 * @len:	Room in @buf
 * @info:	PF_RECVERR_WORDS uint32_t words out: origin, ICMP type, code,
 *		info (MTU), offender's family, then its address (IPv4 in the
 *		first word, IPv6 in four, network byte order as received)
 *
 * Return: bytes of the datagram in @buf, -EAGAIN if the queue is empty,
 *	   -ENOMSG if the error carries no extended error, or -errno
 */
int32_t pf_recv_err(int32_t fd, uint8_t *buf, uint32_t len, uint8_t *info)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in6 from;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	const struct sock_extended_err *ee;
	const struct sockaddr *off;
	struct cmsghdr *h;
	uint32_t w[PF_RECVERR_WORDS] = { 0 };
	ssize_t n;

	n = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (n < 0)
		return -errno;

	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		if ((h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_RECVERR) ||
		    (h->cmsg_level == IPPROTO_IPV6 &&
		     h->cmsg_type == IPV6_RECVERR))
			break;
	}
	if (!h)
		return -ENOMSG;

	ee = (const struct sock_extended_err *)(const void *)CMSG_DATA(h);
	off = SO_EE_OFFENDER(ee);
	w[0] = ee->ee_origin;
	w[1] = ee->ee_type;
	w[2] = ee->ee_code;
	w[3] = ee->ee_info;
	w[4] = off->sa_family;
	if (off->sa_family == AF_INET)
		memcpy(&w[5], &((const struct sockaddr_in *)(const void *)off)
				       ->sin_addr, 4);
	else if (off->sa_family == AF_INET6)
		memcpy(&w[5], &((const struct sockaddr_in6 *)(const void *)off)
				       ->sin6_addr, 16);
	memcpy(info, w, sizeof(w));
	return (int32_t)n;
}

/**
 * pf_sendmsg() - Gather-write a message from the arena
 * @fd:		Socket
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table
 * @iovcnt:	Number of iov entries, at most 1024
 * @flags:	MSG_NOSIGNAL, MSG_MORE etc.
 * @name_off:	Offset of the destination address, or 0
 * @namelen:	Length of the destination address, or 0 for none
 *
 * Return: bytes sent, or -errno
 */
int32_t pf_sendmsg(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		   uint32_t iovcnt, int32_t flags, uint32_t name_off,
		   uint32_t namelen)
{
	return msg_io(1, fd, arena, iov_tab_off, iovcnt, flags, name_off,
		      namelen);
}

/**
 * iov_io() - Load the iov table and run readv(2) or writev(2) on it
 * @io:		readv or writev
 * @fd:		File descriptor
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table
 * @iovcnt:	Number of iov entries, at most 1024
 *
 * Return: bytes transferred, or -errno
 */
static int32_t iov_io(ssize_t (*io)(int, const struct iovec *, int),
		      int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		      uint32_t iovcnt)
{
	int32_t rc = iov_load(arena, iov_tab_off, iovcnt, sg_iov);
	ssize_t n;

	if (rc)
		return rc;

	n = io(fd, sg_iov, (int)iovcnt);
	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_readv() - Scatter-read into the arena
 * @fd:		File descriptor
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table
 * @iovcnt:	Number of iov entries, at most 1024
 *
 * Return: bytes read, or -errno
 */
int32_t pf_readv(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		 uint32_t iovcnt)
{
	return iov_io(readv, fd, arena, iov_tab_off, iovcnt);
}

/**
 * pf_writev() - Gather-write from the arena
 * @fd:		File descriptor
 * @arena:	Arena
 * @iov_tab_off:	Offset of the iov table
 * @iovcnt:	Number of iov entries, at most 1024
 *
 * Return: bytes written, or -errno
 */
int32_t pf_writev(int32_t fd, uint8_t *arena, uint32_t iov_tab_off,
		  uint32_t iovcnt)
{
	return iov_io(writev, fd, arena, iov_tab_off, iovcnt);
}

/**
 * mmsg_load() - Fill the static mmsghdr array from an mmsg table
 * @arena:	Arena
 * @tab_off:	Offset of @vlen entries of PF_MMSG_WORDS uint32_t words
 * @vlen:	Number of entries, at most PF_BATCH_MAX
 *
 * Return: 0, or -EINVAL if @vlen is too large
 */
static int32_t mmsg_load(uint8_t *arena, uint32_t tab_off, uint32_t vlen)
{
	const uint32_t *t = words(arena, tab_off);
	uint32_t i;

	if (vlen > PF_BATCH_MAX)
		return -EINVAL;

	for (i = 0; i < vlen; i++, t += PF_MMSG_WORDS) {
		struct msghdr *mh = &mm_hdr[i].msg_hdr;

		mm_iov[i].iov_base = arena + t[0];
		mm_iov[i].iov_len = t[1];
		memset(mh, 0, sizeof(*mh));
		mh->msg_iov = &mm_iov[i];
		mh->msg_iovlen = 1;
		if (t[3]) {
			mh->msg_name = arena + t[2];
			mh->msg_namelen = t[3];
		}
		mm_hdr[i].msg_len = 0;
	}
	return 0;
}

/**
 * mmsg_store() - Copy results of a batch back into the mmsg table
 * @arena:	Arena
 * @tab_off:	Offset of the table
 * @n:		Number of messages transferred
 * @names:	Also store the returned name length and message flags
 */
static void mmsg_store(uint8_t *arena, uint32_t tab_off, int n, int names)
{
	uint32_t *t = words(arena, tab_off);
	int i;

	for (i = 0; i < n; i++, t += PF_MMSG_WORDS) {
		t[4] = mm_hdr[i].msg_len;
		if (!names)
			continue;
		if (t[3])
			t[3] = mm_hdr[i].msg_hdr.msg_namelen;
		t[5] = (uint32_t)mm_hdr[i].msg_hdr.msg_flags;
	}
}

/**
 * mmsg_io() - Receive or send a batch described by an mmsg table
 * @send:	Send with sendmmsg(2) if set, receive with recvmmsg(2) otherwise
 * @fd:		Socket
 * @arena:	Arena
 * @tab_off:	Offset of the mmsg table
 * @vlen:	Number of entries, at most 1024
 * @flags:	Flags for recvmmsg(2) or sendmmsg(2)
 *
 * Return: number of messages transferred, or -errno
 */
static int32_t mmsg_io(int send, int32_t fd, uint8_t *arena, uint32_t tab_off,
		       uint32_t vlen, int32_t flags)
{
	int32_t rc = mmsg_load(arena, tab_off, vlen);
	int n;

	if (rc)
		return rc;

	if (send)
		n = sendmmsg(fd, mm_hdr, vlen, flags);
	else
		n = recvmmsg(fd, mm_hdr, vlen, flags, NULL);
	if (n < 0)
		return -errno;

	/* received names and flags go back; a send leaves them */
	mmsg_store(arena, tab_off, n, !send);
	return n;
}

/**
 * pf_recvmmsg() - Receive a batch of datagrams into the arena
 * @fd:		Socket
 * @arena:	Arena
 * @tab_off:	Offset of the mmsg table: per message buf_off, buf_len,
 *		name_off, name_len (in: room, out: length), msg_len (out),
 *		msg_flags (out) and two reserved words
 * @vlen:	Number of entries, at most 1024
 * @flags:	MSG_DONTWAIT etc.
 *
 * Return: number of messages received, or -errno
 */
int32_t pf_recvmmsg(int32_t fd, uint8_t *arena, uint32_t tab_off,
		    uint32_t vlen, int32_t flags)
{
	return mmsg_io(0, fd, arena, tab_off, vlen, flags);
}

/**
 * pf_sendmmsg() - Send a batch of datagrams from the arena
 * @fd:		Socket
 * @arena:	Arena
 * @tab_off:	Offset of the mmsg table; msg_len is filled in
 * @vlen:	Number of entries, at most 1024
 * @flags:	MSG_NOSIGNAL etc.
 *
 * Return: number of messages sent, or -errno
 */
int32_t pf_sendmmsg(int32_t fd, uint8_t *arena, uint32_t tab_off,
		    uint32_t vlen, int32_t flags)
{
	return mmsg_io(1, fd, arena, tab_off, vlen, flags);
}

/**
 * gso_group() - Describe the next run of datagrams as one UDP GSO send
 * @i:		First table entry of the run (already in mm_iov)
 * @vlen:	Number of table entries
 * @g:		Index of the GSO message to fill
 *
 * A run is two or more datagrams of one size, the last one possibly
 * shorter, up to GSO_SEGS_MAX datagrams and GSO_BYTES_MAX bytes, none with a
 * destination address of its own; any other datagram goes as it is.
 *
 * Return: number of table entries the message covers
 */
static uint32_t gso_group(uint32_t i, uint32_t vlen, uint32_t g)
{
	const struct msghdr *first = &mm_hdr[i].msg_hdr;
	struct msghdr *mh = &gso_hdr[g].msg_hdr;
	size_t seg = mm_iov[i].iov_len, total = seg;
	uint32_t n = 1;

	while (seg && !first->msg_namelen && i + n < vlen && n < GSO_SEGS_MAX &&
	       !mm_hdr[i + n].msg_hdr.msg_namelen &&
	       mm_iov[i + n].iov_len && mm_iov[i + n].iov_len <= seg &&
	       total + mm_iov[i + n].iov_len <= GSO_BYTES_MAX) {
		total += mm_iov[i + n].iov_len;
		if (mm_iov[i + n++].iov_len < seg)
			break;
	}

	*mh = *first;
	mh->msg_iovlen = n;
	if (n > 1) {
		struct cmsghdr *cm;

		mh->msg_control = gso_ctl[g].buf;
		mh->msg_controllen = sizeof(gso_ctl[g].buf);
		cm = CMSG_FIRSTHDR(mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(cm), &(uint16_t){ (uint16_t)seg },
		       sizeof(uint16_t));
	}
	gso_hdr[g].msg_len = 0;
	gso_cnt[g] = (uint16_t)n;
	return n;
}

/**
 * pf_sendmmsg_gso() - Send a batch of datagrams on a connected UDP socket,
 *		       runs of one size as UDP GSO sends
 * @fd:		Connected UDP socket
 * @arena:	Arena
 * @tab_off:	Offset of the mmsg table, as for pf_sendmmsg(); names unused
 * @vlen:	Number of entries, at most 1024
 * @flags:	MSG_NOSIGNAL etc.
 *
 * The kernel splits a GSO send into datagrams of the given size as late as
 * it can: one trip through the IP layer for a run of datagrams instead of one
 * each. A path that can't take it (a datagram bigger than the route's MTU is
 * fragmented, which GSO can't do; a kernel without UDP_SEGMENT) makes a GSO
 * send fail: the rest of the batch then goes as plain datagrams, and if that
 * works, the first entry's PF_MMSG_GSO_REFUSED word is set to 1, so that
 * the caller sends that flow's datagrams with pf_sendmmsg() from then on.
 *
 * Return: number of datagrams (table entries) sent, or -errno
 */
int32_t pf_sendmmsg_gso(int32_t fd, uint8_t *arena, uint32_t tab_off,
			uint32_t vlen, int32_t flags)
{
	uint32_t i, g, sent = 0;
	int32_t rc = mmsg_load(arena, tab_off, vlen);
	int done, k;

	if (rc)
		return rc;

	for (i = 0, g = 0; i < vlen; g++)
		i += gso_group(i, vlen, g);
	if (g == vlen)		/* no run: nothing to gain */
		goto plain;

	done = sendmmsg(fd, gso_hdr, g, flags);
	if (done < 0) {
		if (errno != EINVAL && errno != EIO && errno != EMSGSIZE &&
		    errno != ENOPROTOOPT && errno != EOPNOTSUPP)
			return -errno;
		goto plain;
	}
	for (k = 0; k < done; k++)
		sent += gso_cnt[k];
	if ((uint32_t)done == g)
		return (int32_t)sent;

plain:
	/* from the first datagram not sent: a GSO send the path refused goes
	 * as plain datagrams; after any other error this fails again, at once
	 */
	rc = sendmmsg(fd, mm_hdr + sent, vlen - sent, flags);
	if (rc < 0)
		return sent ? (int32_t)sent : -errno;
	if (rc > 0 && g < vlen)
		words(arena, tab_off)[PF_MMSG_GSO_REFUSED] = 1;
	return (int32_t)(sent + (uint32_t)rc);
}
