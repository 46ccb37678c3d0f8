/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* util.c - arena mapping, limits, randomness, files, processes, errno text,
 * the exit
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

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
 * spawn_warn() - Print "@what: @err" on stderr, async-signal-safe
 * @what:	Message
 * @err:	errno value
 */
static void spawn_warn(const char *what, int err)
{
	const char *msg = strerrordesc_np(err);

	if (!msg)
		msg = "Unknown error";
	if (write(STDERR_FILENO, what, strlen(what)) < 0 ||
	    write(STDERR_FILENO, ": ", 2) < 0 ||
	    write(STDERR_FILENO, msg, strlen(msg)) < 0 ||
	    write(STDERR_FILENO, "\n", 1) < 0)
		return;
}

/**
 * spawn_prepare() - What pasta's command gets in its new namespaces, as upstream
 * @hostname:	Hostname to set, or "" for "pasta-" and ours
 * @flags:	The namespaces it was made with (CLONE_NEWNS etc.): only those
 *		of its own are touched
 *
 * A /proc of its own, if it is the first process of new mount and PID
 * namespaces, over mounts made slaves first so that nothing propagates to
 * ours, and the hostname of a new UTS namespace. Failures are warnings, as
 * upstream's. Only system calls: this may run in a child of a multithreaded
 * process.
 */
void spawn_prepare(const char *hostname, uint32_t flags)
{
	char name[HOST_NAME_MAX + 1] = "pasta-";
	const size_t pfx = sizeof("pasta-") - 1;

	if ((flags & CLONE_NEWNS) && (flags & CLONE_NEWPID)) {
		(void)mount("", "/", NULL, MS_SLAVE | MS_REC, NULL);
		if (mount("", "/proc", "proc", 0, NULL))
			spawn_warn("Couldn't mount /proc", errno);
	}
	if (!(flags & CLONE_NEWUTS))
		return;
	if (*hostname) {
		if (sethostname(hostname, strlen(hostname)))
			spawn_warn("Unable to set configured hostname", errno);
		return;
	}
	if (gethostname(name + pfx, sizeof(name) - pfx) && errno != ENAMETOOLONG)
		return;
	name[HOST_NAME_MAX] = '\0';
	if (sethostname(name, strlen(name)))
		spawn_warn("Unable to set pasta-prefixed hostname", errno);
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
 * pf_same_file() - Whether a descriptor and a path are the same file
 * @fd:		Open descriptor (a namespace file, say)
 * @path:	NUL-terminated path, followed like stat() does
 *
 * Return: 1 if they are (device and inode), 0 if not, or -errno
 */
int32_t pf_same_file(int32_t fd, uint8_t *path)
{
	struct stat a, b;

	if (fstat(fd, &a) || stat((const char *)path, &b))
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
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

/* The exit. Between our exit_group() and the moment our caller sees us
 * gone, the kernel frees what only we held: the address space (50 MB,
 * runtime and all), our mount namespace (emptied by the sandbox, it waits for
 * an RCU grace period) and, if ours is the last descriptor of pasta's tap
 * device, that device's queue (another grace period). Up to 10 ms of every
 * `pasta -- cmd`, which the caller waits for.
 *
 * pf_exit() first makes a copy of the process that shares the address space
 * (CLONE_VM) and the namespaces, and keeps a descriptor of the tap device
 * and one of our process (a pidfd), closing its copies of all the others.
 * Our exit then only drops references to those, and still closes every
 * socket itself (none outlives our exit, as with a plain one); the copy,
 * woken by the pidfd once our caller can see our exit, frees the rest. It
 * makes system calls only, on its own static stack, with every signal
 * blocked, and gives up waiting after 5 s (it then frees the rest itself,
 * early). If it can't be made, or doesn't answer within 0.1 s, we exit all
 * the same.
 */
/* #syscalls pidfd_open clone close_range futex ppoll exit exit_group */

static char exit_stack[16384] __attribute__((aligned(64)));
static int exit_holder_ready;
static int exit_keep[2];
static int exit_pidfd;

/**
 * close_all_but() - Close every descriptor but two
 * @a:		One to keep, or -1
 * @b:		Another one to keep, greater than @a
 */
static void close_all_but(int a, int b)
{
	unsigned int from = 0;
	int keep[2] = { a, b }, i;

	for (i = 0; i < 2; i++) {
		if (keep[i] < 0)
			continue;
		if ((unsigned int)keep[i] > from)
			syscall(SYS_close_range, from, keep[i] - 1U, 0U);
		from = keep[i] + 1U;
	}
	syscall(SYS_close_range, from, ~0U, 0U);
}

/**
 * exit_holder() - The copy of pf_exit(): hold on until our exit is seen
 * @arg:	Unused
 *
 * Return: never returns
 */
static int exit_holder(void *arg)
{
	struct pollfd pfd = { .fd = exit_pidfd, .events = POLLIN };
	/* Never for ever, whatever happens to the pidfd */
	struct timespec limit = { 5, 0 };

	(void)arg;
	close_all_but(exit_keep[0], exit_keep[1]);
	__atomic_store_n(&exit_holder_ready, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &exit_holder_ready, FUTEX_WAKE, 1, NULL, NULL, 0);
	while (syscall(SYS_ppoll, &pfd, 1, &limit, NULL, 0) < 0 &&
	       errno == EINTR)
		;
	syscall(SYS_exit, 0);
	return 0;
}

/**
 * pf_exit() - Exit with @status, leaving what our exit would free to a copy
 * @status:	Exit status
 * @keep_fd:	Descriptor the copy keeps open until we are gone (pasta's tap
 *		device), or -1
 *
 * Return: never returns
 */
int32_t pf_exit(int32_t status, int32_t keep_fd)
{
	struct timespec tick = { 0, 10000000L };	/* 10 ms */
	sigset_t all;
	long pidfd;

	/* What exit() would write out: the C library's buffered output */
	(void)fflush(NULL);
	/* No handler of ours may run in the copy, nor in us from now on */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	pidfd = syscall(SYS_pidfd_open, getpid(), 0U);
	if (pidfd < 0)
		syscall(SYS_exit_group, status);
	/* Kept in ascending order for close_all_but(); polled: the pidfd */
	exit_pidfd = (int)pidfd;
	exit_keep[0] = keep_fd < pidfd ? keep_fd : (int)pidfd;
	exit_keep[1] = keep_fd < pidfd ? (int)pidfd : keep_fd;
	if (clone(exit_holder, exit_stack + sizeof(exit_stack),
		  CLONE_VM | CLONE_UNTRACED, NULL) > 0) {
		int i;

		/* (not for ever: if it died meanwhile, we just exit) */
		for (i = 0; i < 10; i++) {
			if (__atomic_load_n(&exit_holder_ready,
					    __ATOMIC_ACQUIRE))
				break;
			syscall(SYS_futex, &exit_holder_ready, FUTEX_WAIT, 0,
				&tick, NULL, 0);
		}
	}
	syscall(SYS_exit_group, status);
	return status;
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
