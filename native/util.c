/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* util.c - arena mapping, limits, randomness, files, processes, errno text */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "passt_ffi.h"

/**
 * str_copy() - Copy a NUL-terminated string, truncating and terminating
 * @dst:	Destination
 * @size:	Size of @dst, non-zero
 * @src:	Source string
 *
 * Return: length of the copied string
 */
int32_t str_copy(char *dst, uint32_t size, const char *src)
{
	uint32_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = src[i];
	dst[i] = '\0';
	return (int32_t)i;
}

/**
 * argv_unpack() - Point an argv array at packed arguments
 * @buf:	Argument count (32 bits, host order), then that many
 *		NUL-terminated strings (empty ones too)
 * @argv:	Output, @max + 1 entries, NULL-terminated
 * @max:	Most arguments accepted
 *
 * The count, not an empty string, ends the list: "" is a valid argument.
 *
 * Return: number of arguments, or -E2BIG, -EINVAL for none
 */
int32_t argv_unpack(uint8_t *buf, char **argv, uint32_t max)
{
	char *p = (char *)buf + sizeof(uint32_t);
	uint32_t n, i;

	memcpy(&n, buf, sizeof(n));
	if (!n)
		return -EINVAL;
	if (n > max)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		argv[i] = p;
		p += strlen(p) + 1;
	}
	argv[n] = NULL;
	return (int32_t)n;
}

/**
 * dir_each_number() - Call a function for each numeric entry of a directory
 * @dfd:	Open directory, read on from its current position
 * @fn:		Called with @dfd, the entry's name, its number and @arg
 * @arg:	Passed to @fn
 *
 * For /proc/self/fd and /proc/self/task. Uses getdents64 directly: opendir()
 * would allocate, which a child after clone() or a thread stopping the
 * others mustn't do.
 */
void dir_each_number(int dfd,
		     void (*fn)(int dfd, const char *name, long num, void *arg),
		     void *arg)
{
	char buf[4096] __attribute__((aligned(8)));
	long n;

	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			const struct dirent64 *d;
			const char *c;
			long num = 0;

			d = (const struct dirent64 *)(const void *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			for (c = d->d_name; *c >= '0' && *c <= '9'; c++)
				num = num * 10 + (*c - '0');
			fn(dfd, d->d_name, num, arg);
		}
	}
}

/**
 * pf_open() - Open a file
 * @path:	NUL-terminated path
 * @flags:	O_RDONLY etc.
 * @mode:	Permissions for a created file
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_open(uint8_t *path, int32_t flags, uint32_t mode)
{
	int fd = open((const char *)path, flags, (mode_t)mode);

	return fd < 0 ? -errno : fd;
}

/**
 * pf_lseek() - Reposition a file offset
 * @fd:		File descriptor
 * @off:	Offset
 * @whence:	SEEK_SET, SEEK_CUR or SEEK_END
 *
 * Return: new offset, -EOVERFLOW beyond INT32_MAX, or -errno
 */
int32_t pf_lseek(int32_t fd, int32_t off, int32_t whence)
{
	off_t pos = lseek(fd, off, whence);

	if (pos < 0)
		return -errno;
	return pos > INT32_MAX ? -EOVERFLOW : (int32_t)pos;
}

/**
 * pf_ftruncate() - Set the length of a file
 * @fd:		File descriptor
 * @len:	New length
 *
 * Return: 0, or -errno
 */
int32_t pf_ftruncate(int32_t fd, uint32_t len)
{
	return zero_or_errno(ftruncate(fd, (off_t)len));
}

/**
 * pf_getrandom() - Fill part of a buffer with random bytes
 * @buf:	Buffer
 * @off:	Offset in @buf
 * @len:	Number of bytes
 * @flags:	GRND_NONBLOCK, GRND_RANDOM
 *
 * Return: bytes written, or -errno
 */
int32_t pf_getrandom(uint8_t *buf, uint32_t off, uint32_t len,
		     uint32_t flags)
{
	ssize_t n = getrandom(buf + off, len, flags);

	return n < 0 ? -errno : (int32_t)n;
}

/**
 * pf_raise_nofile() - Raise the soft RLIMIT_NOFILE to the hard limit
 *
 * Return: new soft limit (capped at INT32_MAX), or -errno
 */
int32_t pf_raise_nofile(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim))
		return -errno;

	lim.rlim_cur = lim.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &lim))
		return -errno;

	if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > INT32_MAX)
		return INT32_MAX;
	return (int32_t)lim.rlim_cur;
}

/**
 * malloc_fixed_threshold() - Large allocations as mappings of their own
 *
 * glibc raises its mmap threshold to the size of any mapped block freed
 * (up to 32 MiB): after the runtime's start frees a few, the typed arrays of
 * our tables (a few MiB each column set, mostly never touched) come from the
 * heap instead, where calloc() must clear them, page by page. Measured on the
 * TCP connection table: 6 ms and 1.6 MiB resident against 2 ms and 0.4 MiB,
 * about 4 MiB less resident for a whole pasta. A fixed threshold (the
 * default, 128 KiB) keeps them mapped, and untouched pages cost nothing.
 */
static void __attribute__((constructor)) malloc_fixed_threshold(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

/**
 * pf_malloc_trim() - Give the C library's free heap memory back to the kernel
 *
 * Start-up (the runtime loading and compiling our program on its threads)
 * leaves megabytes free in the malloc arenas; malloc_trim() releases every
 * free page of every arena, not only the top of the main heap.
 *
 * Return: 1 if memory was released, 0 if there was none to release
 */
int32_t pf_malloc_trim(void)
{
	return malloc_trim(0);
}

/**
 * pf_kill() - Send a signal
 * @pid:	Process ID
 * @sig:	Signal number, 0 to check for existence
 *
 * Return: 0, or -errno
 */
int32_t pf_kill(int32_t pid, int32_t sig)
{
	return zero_or_errno(kill(pid, sig));
}

/**
 * pf_waitpid() - Wait for a child to change state
 * @pid:	Process ID, or -1 for any child
 * @status_out:	Receives the status as a native-endian int32_t
 * @options:	WNOHANG etc.
 *
 * Return: process ID, 0 with WNOHANG if nothing changed, or -errno
 */
int32_t pf_waitpid(int32_t pid, uint8_t *status_out, int32_t options)
{
	int status = 0;
	pid_t rc = waitpid(pid, &status, options);

	if (rc < 0)
		return -errno;

	memcpy(status_out, &status, sizeof(status));
	return rc;
}

/**
 * pf_strerror() - Copy the C library's (untranslated) text for an errno
 * @errnum:	Error number
 * @out:	Receives a NUL-terminated string
 * @len:	Size of @out, non-zero
 *
 * Return: string length, or -EINVAL for an unknown error number
 */
int32_t pf_strerror(int32_t errnum, uint8_t *out, uint32_t len)
{
	const char *s = strerrordesc_np(errnum);

	if (!s || !len)
		return -EINVAL;
	return str_copy((char *)out, len, s);
}

/**
 * pf_errno_name() - Copy the C library's name for an errno, "EPERM" etc.
 * @errnum:	Error number
 * @out:	Receives a NUL-terminated string
 * @len:	Size of @out, non-zero
 *
 * Return: string length, or -EINVAL for an unknown error number
 */
int32_t pf_errno_name(int32_t errnum, uint8_t *out, uint32_t len)
{
	const char *s = strerrorname_np(errnum);

	if (!s || !len)
		return -EINVAL;
	return str_copy((char *)out, len, s);
}
