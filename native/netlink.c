/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* netlink.c - NETLINK_ROUTE sockets
 *
 * Requests and replies are built and parsed in TypeScript; this file only
 * opens and prepares the socket, here or (through ns.c) in a namespace.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "passt_ffi.h"

/* Receive buffer asked for: dumps of many routes or addresses fit at once */
#define NL_RCVBUF	(1024 * 1024)

/**
 * netlink_setup() - Bind a netlink socket, enable strict checking, enlarge
 *		     its receive buffer
 * @fd:		Netlink socket
 *
 * NETLINK_GET_STRICT_CHK and the buffer size are best effort.
 *
 * Return: 0, or -errno if bind() failed
 */
int32_t netlink_setup(int fd)
{
	struct sockaddr_nl addr;
	int one = 1, sz = NL_RCVBUF;

	memset(&addr, 0, sizeof(addr));
	addr.nl_family = AF_NETLINK;
	if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)))
		return -errno;

	(void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK,
			 &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return 0;
}

/**
 * pf_netlink_open() - Open a bound NETLINK_ROUTE socket in this namespace
 *
 * Return: file descriptor (close-on-exec, blocking), or -errno
 */
int32_t pf_netlink_open(void)
{
	int32_t rc;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;

	rc = netlink_setup(fd);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}
