/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* splice.c - pipes, splice() and fcntl() for spliced loopback connections */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "passt_ffi.h"

/**
 * pf_pipe2() - Create a pipe
 * @out:	Receives two native-endian int32_t: read end, write end
 * @flags:	O_NONBLOCK, O_CLOEXEC, O_DIRECT
 *
 * Return: 0, or -errno
 */
int32_t pf_pipe2(uint8_t *out, int32_t flags)
{
	int p[2];

	if (pipe2(p, flags))
		return -errno;

	memcpy(out, p, sizeof(p));
	return 0;
}

/**
 * pf_splice() - Move data between a socket and a pipe
 * @fd_in:	Source file descriptor
 * @fd_out:	Destination file descriptor
 * @len:	Maximum number of bytes, capped at INT32_MAX
 * @flags:	SPLICE_F_MOVE, SPLICE_F_NONBLOCK, SPLICE_F_MORE
 *
 * Return: bytes moved (0 at end of input), or -errno
 */
int32_t pf_splice(int32_t fd_in, int32_t fd_out, uint32_t len,
		  uint32_t flags)
{
	ssize_t n;

	if (len > INT32_MAX)
		len = INT32_MAX;

	n = splice(fd_in, NULL, fd_out, NULL, len, flags);
	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_fcntl() - fcntl() with an integer argument
 * @fd:		File descriptor
 * @cmd:	F_GETFL, F_SETFL, F_SETPIPE_SZ, F_GETPIPE_SZ etc.
 * @arg:	Argument, ignored by commands that take none
 *
 * Return: command result (non-negative), or -errno
 */
int32_t pf_fcntl(int32_t fd, int32_t cmd, int32_t arg)
{
	int rc = fcntl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}
