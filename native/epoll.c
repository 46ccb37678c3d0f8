/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* epoll.c - epoll, timerfd, eventfd, the signal pipe and inotify
 *
 * Signals: the Deno runtime is multithreaded and its other threads don't
 * block signals, so a signalfd would miss most of them. Instead, a handler
 * writes the signal number as one byte into a pipe that the event loop
 * watches, and then chains to whatever handler was installed before (the
 * runtime may reap its own children on SIGCHLD).
 */

#include <errno.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>

#include "passt_ffi.h"

static struct epoll_event ev_buf[PF_BATCH_MAX];

/* Signals forwarded to the pipe, and the handlers they had before */
static const int sig_list[] = {
	SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1,
};
#define SIG_COUNT	(sizeof(sig_list) / sizeof(sig_list[0]))
static struct sigaction sig_old[SIG_COUNT];
static volatile sig_atomic_t sig_fd = -1;
static int sig_installed;
static int sig_pinned;

/**
 * pf_epoll_create() - Create an epoll instance with EPOLL_CLOEXEC
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_epoll_create(void)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/**
 * pf_epoll_ctl() - Add, modify or remove a file descriptor
 * @epfd:	epoll instance
 * @op:		EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL
 * @fd:		Watched file descriptor
 * @events:	EPOLLIN etc.
 * @ref_lo:	Low 32 bits of the reference returned with events
 * @ref_hi:	High 32 bits of the reference
 *
 * Return: 0, or -errno
 */
int32_t pf_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events,
		     uint32_t ref_lo, uint32_t ref_hi)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = (uint64_t)ref_hi << 32 | ref_lo;
	return zero_or_errno(epoll_ctl(epfd, op, fd, &ev));
}

/**
 * pf_epoll_wait() - Wait for events
 * @epfd:	epoll instance
 * @out:	Receives PF_EPOLL_WORDS native-endian uint32_t words per event:
 *		events, ref_lo, ref_hi
 * @maxevents:	Maximum number of events, at most 1024
 * @timeout_ms:	Timeout in milliseconds, -1 to wait forever
 *
 * Return: number of events, or -errno (-EINTR is left to the caller)
 */
int32_t pf_epoll_wait(int32_t epfd, uint8_t *out, uint32_t maxevents,
		      int32_t timeout_ms)
{
	uint32_t w[PF_EPOLL_WORDS];
	int i, n;

	if (!maxevents || maxevents > PF_BATCH_MAX)
		return -EINVAL;

	n = epoll_wait(epfd, ev_buf, (int)maxevents, timeout_ms);
	if (n < 0)
		return -errno;

	for (i = 0; i < n; i++) {
		w[0] = ev_buf[i].events;
		w[1] = (uint32_t)ev_buf[i].data.u64;
		w[2] = (uint32_t)(ev_buf[i].data.u64 >> 32);
		memcpy(out + (size_t)i * sizeof(w), w, sizeof(w));
	}
	return n;
}

/**
 * pf_timerfd_create() - Create a timer file descriptor
 * @clockid:	CLOCK_MONOTONIC etc.
 * @flags:	TFD_NONBLOCK, TFD_CLOEXEC
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_timerfd_create(int32_t clockid, int32_t flags)
{
	int fd = timerfd_create(clockid, flags);

	return fd < 0 ? -errno : fd;
}

/**
 * pf_timerfd_settime() - Arm or disarm a timer
 * @fd:		Timer file descriptor
 * @flags:	0 or TFD_TIMER_ABSTIME
 * @value_sec:	First expiration, seconds (zero value disarms)
 * @value_nsec:	First expiration, nanoseconds
 * @interval_sec:	Period, seconds
 * @interval_nsec:	Period, nanoseconds
 *
 * Return: 0, or -errno
 */
int32_t pf_timerfd_settime(int32_t fd, int32_t flags, uint32_t value_sec,
			   uint32_t value_nsec, uint32_t interval_sec,
			   uint32_t interval_nsec)
{
	struct itimerspec its;

	its.it_value.tv_sec = value_sec;
	its.it_value.tv_nsec = value_nsec;
	its.it_interval.tv_sec = interval_sec;
	its.it_interval.tv_nsec = interval_nsec;
	return zero_or_errno(timerfd_settime(fd, flags, &its, NULL));
}

/**
 * pf_timerfd_read() - Read and reset the expiration count of a timer
 * @fd:		Timer file descriptor
 *
 * Return: expirations since the last read (capped at INT32_MAX), or -errno
 */
int32_t pf_timerfd_read(int32_t fd)
{
	uint64_t exp;
	ssize_t n = read(fd, &exp, sizeof(exp));

	if (n < 0)
		return -errno;
	if (n != sizeof(exp))
		return -EIO;
	return exp > INT32_MAX ? INT32_MAX : (int32_t)exp;
}

/**
 * pf_eventfd() - Create an event file descriptor
 * @initval:	Initial counter value
 * @flags:	EFD_NONBLOCK, EFD_CLOEXEC, EFD_SEMAPHORE
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_eventfd(uint32_t initval, int32_t flags)
{
	int fd = eventfd(initval, flags);

	return fd < 0 ? -errno : fd;
}

/**
 * sig_handler() - Write the signal number to the pipe, then chain
 * @sig:	Signal number
 * @info:	Signal information, passed on to a chained handler
 * @uc:		User context, passed on to a chained handler
 */
static void sig_handler(int sig, siginfo_t *info, void *uc)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	unsigned i;

	if (sig_fd >= 0) {
		/* If the pipe is full, the loop is awake anyway */
		ssize_t n = write(sig_fd, &b, 1);

		(void)n;
	}

	for (i = 0; i < SIG_COUNT; i++) {
		const struct sigaction *old = &sig_old[i];

		if (sig_list[i] != sig)
			continue;
		if (old->sa_flags & SA_SIGINFO) {
			if (old->sa_sigaction)
				old->sa_sigaction(sig, info, uc);
		} else if (old->sa_handler != SIG_DFL &&
			   old->sa_handler != SIG_IGN) {
			old->sa_handler(sig);
		}
	}

	errno = saved;
}

/**
 * pf_signal_pipe() - Forward SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD and
 *		      SIGUSR1 to a pipe, ignore SIGPIPE
 * @write_fd:	Non-blocking write end of a pipe; each signal becomes one
 *		byte holding its number
 *
 * Calling this again only changes the pipe.
 *
 * Return: 0, or -errno
 */
int32_t pf_signal_pipe(int32_t write_fd)
{
	struct sigaction sa;
	unsigned i;

	sig_fd = write_fd;
	if (sig_installed)
		return 0;

	/* The handlers live here: never let the library be unloaded under them */
	if (!sig_pinned) {
		Dl_info dli;

		if (dladdr((void *)sig_handler, &dli) && dli.dli_fname &&
		    dlopen(dli.dli_fname, RTLD_NOW | RTLD_NODELETE))
			sig_pinned = 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sig_handler;
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);

	for (i = 0; i < SIG_COUNT; i++) {
		if (sigaction(sig_list[i], &sa, &sig_old[i]))
			return -errno;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;

	sig_installed = 1;
	return 0;
}

/**
 * pf_inotify_init1() - Create an inotify instance
 * @flags:	IN_NONBLOCK, IN_CLOEXEC
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_inotify_init1(int32_t flags)
{
	int fd = inotify_init1(flags);

	return fd < 0 ? -errno : fd;
}

/**
 * pf_inotify_add_watch() - Watch a path
 * @fd:		inotify instance
 * @path:	NUL-terminated path
 * @mask:	IN_DELETE etc.
 *
 * Return: watch descriptor, or -errno
 */
int32_t pf_inotify_add_watch(int32_t fd, uint8_t *path, uint32_t mask)
{
	int wd = inotify_add_watch(fd, (const char *)path, mask);

	return wd < 0 ? -errno : wd;
}
