/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* proc.c - processes: qrap's exec, watching a target process, IDs, stdio
 *
 * The daemon itself is started by pf_spawn_isolated() (isolation.c), inside
 * its sandbox namespaces.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "passt_ffi.h"

#define PROC_ARGS_MAX	4096

static char *proc_argv[PROC_ARGS_MAX + 1];

/**
 * pf_execvp() - Replace this process with a command (qrap)
 * @argv_buf:	Argument count, then the arguments, see argv_unpack()
 *
 * Return: -errno (only on failure)
 */
int32_t pf_execvp(uint8_t *argv_buf)
{
	int32_t rc = argv_unpack(argv_buf, proc_argv, PROC_ARGS_MAX);

	if (rc < 0)
		return rc;
	execvp(proc_argv[0], proc_argv);
	return -errno;
}

/**
 * pf_dup2() - Duplicate a descriptor onto a given number (close-on-exec off)
 * @oldfd:	Descriptor to duplicate
 * @newfd:	Number to use
 *
 * Return: @newfd, or -errno
 */
int32_t pf_dup2(int32_t oldfd, int32_t newfd)
{
	int rc = dup2(oldfd, newfd);

	return rc < 0 ? -errno : rc;
}

/**
 * pf_pidfd_open() - Descriptor that becomes readable when a process exits
 * @pid:	Process ID
 *
 * Return: file descriptor (close-on-exec), or -errno
 */
int32_t pf_pidfd_open(int32_t pid)
{
	long rc = syscall(SYS_pidfd_open, pid, 0);

	return rc < 0 ? -errno : (int32_t)rc;
}

/**
 * pf_getids() - Real and effective user and group IDs
 * @out:	Four uint32_t words: uid, gid, euid, egid
 *
 * Return: 0
 */
int32_t pf_getids(uint8_t *out)
{
	uint32_t ids[4] = { getuid(), getgid(), geteuid(), getegid() };

	memcpy(out, ids, sizeof(ids));
	return 0;
}

/**
 * struct stdio_copies - What detach_one() compares with, and counts
 * @std:	The standard descriptors' files, st_ino 0 where one is closed
 * @null:	Descriptor of /dev/null
 * @n:		Descriptors replaced so far
 */
struct stdio_copies {
	struct stat std[3];
	int null;
	int32_t n;
};

/**
 * detach_one() - Point one descriptor at /dev/null if it is a standard one
 * @fd:		Descriptor
 * @c:		Standard descriptors, /dev/null, count
 */
static void detach_one(int fd, struct stdio_copies *c)
{
	struct stat st;
	int i;

	if (fd == c->null || fstat(fd, &st))
		return;
	for (i = 0; i < 3; i++) {
		if (!c->std[i].st_ino || st.st_dev != c->std[i].st_dev ||
		    st.st_ino != c->std[i].st_ino || S_ISCHR(st.st_mode))
			continue;
		if (dup3(c->null, fd, fd > 2 ? O_CLOEXEC : 0) == fd)
			c->n++;
		return;
	}
}

/**
 * detach_entry() - dir_each_number() callback for an entry of /proc/self/fd
 * @dfd:	The directory's own descriptor, skipped
 * @name:	Entry name (unused)
 * @num:	Descriptor number
 * @arg:	struct stdio_copies
 */
static void detach_entry(int dfd, const char *name, long num, void *arg)
{
	(void)name;
	if (num != dfd && num <= 0x7fffffff)
		detach_one((int)num, (struct stdio_copies *)arg);
}

/**
 * pf_detach_stdio() - Point standard descriptors, and every copy of them, at
 *		       /dev/null
 *
 * The runtime keeps duplicates of the standard descriptors it started with:
 * a daemon must replace those too, or a caller waiting for the end of our
 * output (Podman reads it to the end) never sees it. The open descriptors are
 * listed from /proc/self/fd: trying each of the first 4096 numbers costs 4 ms
 * of system calls here, in the daemon's time to ready. Without /proc, they
 * are tried one by one.
 *
 * Return: number of descriptors replaced, or -errno
 */
int32_t pf_detach_stdio(void)
{
	struct stdio_copies c = { 0 };
	int i, dfd;

	for (i = 0; i < 3; i++) {
		if (fstat(i, &c.std[i]))
			memset(&c.std[i], 0, sizeof(c.std[i]));
	}
	c.null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c.null < 0)
		return -errno;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		dir_each_number(dfd, detach_entry, &c);
		close(dfd);
	} else {
		int fd;

		for (fd = 0; fd < 4096; fd++)
			detach_one(fd, &c);
	}
	close(c.null);
	return c.n;
}
