/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* spawn.c - start pasta's command in new namespaces, held until released
 *
 * pasta without a target namespace runs a command (the user's shell by
 * default) in new user, network, UTS and IPC namespaces. pf_spawn_ns()
 * creates them with the child, which is born with every signal blocked and
 * first waits for one byte on a pipe, dying with us meanwhile
 * (PR_SET_PDEATHSIG), so that the caller can write the user namespace's ID
 * maps, bring up the network namespace's interfaces and open its tap device
 * before the command runs. Then it lets gid 0 open ping sockets, drops our
 * ambient capabilities, restores default signal handling and execs.
 *
 * The child waits as "passt-helper spawn" (helper.c), which it execs at once
 * from a vfork()-like clone (CLONE_VM | CLONE_VFORK, our memory, on a stack
 * of its own): we don't copy our page tables for it, and the command's exec
 * at release replaces a small program, not a copy of the runtime (about 5 ms
 * less until the command runs, which the caller of `pasta -- cmd` waits
 * for). Without passt-helper beside this library, the child is a fork-like
 * copy of us that waits itself: as a child of a multithreaded process, that
 * one makes only async-signal-safe calls, and none that allocate.
 */

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "passt_ffi.h"

#define SPAWN_ARGS_MAX	4096

static char *spawn_argv[SPAWN_ARGS_MAX + 1];

/* "passt-helper spawn FD FLAGS HOSTNAME --" and the command: what the child
 * execs
 */
#define SPAWN_HELPER_ARGS	6
static char *spawn_helper_argv[SPAWN_HELPER_ARGS + SPAWN_ARGS_MAX + 1];
static char spawn_helper_path[PATH_MAX];
static char spawn_fd_text[16];
static char spawn_flags_text[16];
static char spawn_hostname[256];
static uint32_t spawn_flags;
static char spawn_stack[16384] __attribute__((aligned(64)));
static int spawn_sync_fd;

/**
 * spawn_fail() - Report a failed exec on stderr and exit with status 127
 * @err:	errno from execvp()
 *
 * Only async-signal-safe calls: this runs in a child of a threaded process.
 */
static void __attribute__((noreturn)) spawn_fail(int err)
{
	static const char pfx[] = "Failed to start command: ";
	const char *msg = strerrordesc_np(err);

	if (!msg)
		msg = "Unknown error";

	if (write(STDERR_FILENO, pfx, sizeof(pfx) - 1) < 0 ||
	    write(STDERR_FILENO, msg, strlen(msg)) < 0 ||
	    write(STDERR_FILENO, "\n", 1) < 0)
		_exit(127);
	_exit(127);
}

/**
 * close_if_cloexec() - Close one descriptor of /proc/self/fd if close-on-exec
 * @dfd:	The /proc/self/fd directory itself (kept)
 * @name:	Entry name (unused)
 * @num:	Descriptor
 * @arg:	Descriptor to keep open
 */
static void close_if_cloexec(int dfd, const char *name, long num, void *arg)
{
	int fd = (int)num, keep = *(const int *)arg, fl;

	(void)name;
	if (fd <= STDERR_FILENO || fd == keep || fd == dfd)
		return;
	fl = fcntl(fd, F_GETFD);
	if (fl >= 0 && (fl & FD_CLOEXEC))
		close(fd);
}

/**
 * close_cloexec() - Close descriptors that exec would close anyway
 * @keep:	Descriptor to keep open (the start pipe)
 *
 * Our copy of the start pipe's write end, if the caller made it
 * close-on-exec, goes too, so that the child sees end of file if the caller
 * goes away without releasing it. Reads /proc/self/fd through
 * dir_each_number(), which doesn't allocate.
 */
static void close_cloexec(int keep)
{
	int dfd;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	dir_each_number(dfd, close_if_cloexec, &keep);
	close(dfd);
}

/**
 * spawn_child() - Child side of pf_spawn_ns(): wait, prepare, exec
 * @sync_fd:	Read end of the start pipe
 */
static void __attribute__((noreturn)) spawn_child(int sync_fd)
{
	static const char grp[] = "0 0";
	const char *file = spawn_argv[0];
	struct sigaction sa;
	sigset_t set;
	char b;
	int fd, sig;

	/* Don't outlive the caller while waiting for it */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	spawn_prepare(spawn_hostname, spawn_flags);
	close_cloexec(sync_fd);
	while (read(sync_fd, &b, 1) != 1) {
		if (errno != EINTR)
			_exit(1);
	}
	(void)prctl(PR_SET_PDEATHSIG, 0);

	/* Let gid 0 of the new user namespace open ping sockets */
	fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		/* Not fatal: ping sockets just won't work unprivileged */
		ssize_t n = write(fd, grp, sizeof(grp) - 1);

		(void)n;
		close(fd);
	}

	/* Our set-up capabilities are ambient ones (isolation.c): the command
	 * doesn't inherit them. Root in our user namespace, it gets all of
	 * that namespace's on exec anyway, as upstream's command does.
	 */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	/* Caught signals would otherwise run our handlers until exec */
	memset(&sa, 0, sizeof(sa));
	for (sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP ||
		    sigaction(sig, NULL, &old))
			continue;
		if (sig == SIGPIPE || sig == SIGCHLD ||
		    old.sa_handler != SIG_IGN)
			(void)sigaction(sig, &sa, NULL);
	}
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);

	if (file[0] == '-')
		file++;
	execvp(file, spawn_argv);
	spawn_fail(errno);
}

/**
 * spawn_helper() - Path of passt-helper beside this library, if it runs
 *
 * Return: the path, or NULL
 */
static const char *spawn_helper(void)
{
	const char *slash;
	Dl_info info;
	size_t dir;

	if (!dladdr((void *)pf_spawn_ns, &info) || !info.dli_fname)
		return NULL;
	slash = strrchr(info.dli_fname, '/');
	if (!slash)
		return NULL;
	dir = (size_t)(slash - info.dli_fname) + 1;
	if (dir + sizeof("passt-helper") > sizeof(spawn_helper_path))
		return NULL;
	memcpy(spawn_helper_path, info.dli_fname, dir);
	memcpy(spawn_helper_path + dir, "passt-helper", sizeof("passt-helper"));
	return access(spawn_helper_path, X_OK) ? NULL : spawn_helper_path;
}

/**
 * spawn_exec_helper() - Child side of pf_spawn_ns(): become "passt-helper spawn"
 * @arg:	Unused
 *
 * Runs in our memory until its exec (we wait meanwhile, CLONE_VFORK).
 *
 * Return: 127 if the exec fails
 */
static int spawn_exec_helper(void *arg)
{
	(void)arg;
	/* Don't outlive the caller while waiting for it (kept by the exec) */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fcntl(spawn_sync_fd, F_SETFD, 0))
		return 127;
	execv(spawn_helper_path, spawn_helper_argv);
	return 127;
}

/**
 * pf_spawn_ns() - Start a command in new namespaces, held until released
 * @argv_buf:	Argument count, then the arguments (see argv_unpack());
 *		an argv[0] of "-name" runs "name" as a login shell
 * @clone_flags:	CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC,
 *		CLONE_NEWPID etc.
 * @sync_fd:	Read end of a pipe: the child execs after reading one byte,
 *		and exits with status 1 on end of file. Make the write end
 *		close-on-exec: the child closes such descriptors at once
 *
 * Before releasing the child, the caller may write /proc/PID/uid_map and
 * gid_map and configure the namespaces. The child then writes "0 0" to
 * ping_group_range, restores default signal handling and execs; if that
 * fails it prints "Failed to start command: <error>" and exits with 127.
 *
 * Return: child's process ID, or -errno (-E2BIG for more than 4096
 *	   arguments, -EINVAL for none)
 */
int32_t pf_spawn_ns(uint8_t *argv_buf, uint32_t clone_flags, int32_t sync_fd,
		    uint8_t *hostname)
{
	sigset_t all, old;
	int argc, rc;
	long pid;

	argc = argv_unpack(argv_buf, spawn_argv, SPAWN_ARGS_MAX);
	if (argc < 0)
		return argc;
	if (str_copy(spawn_hostname, sizeof(spawn_hostname),
		     hostname ? (const char *)hostname : "") ==
	    (int32_t)sizeof(spawn_hostname) - 1)
		return -ENAMETOOLONG;
	spawn_flags = clone_flags;

	/* The child starts with all signals blocked, until it's ready */
	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc)
		return -rc;

	if (spawn_helper() &&
	    snprintf(spawn_fd_text, sizeof(spawn_fd_text), "%d", sync_fd) > 0 &&
	    snprintf(spawn_flags_text, sizeof(spawn_flags_text), "%u",
		     clone_flags) > 0) {
		spawn_helper_argv[0] = spawn_helper_path;
		spawn_helper_argv[1] = "spawn";
		spawn_helper_argv[2] = spawn_fd_text;
		spawn_helper_argv[3] = spawn_flags_text;
		spawn_helper_argv[4] = spawn_hostname;
		spawn_helper_argv[5] = "--";
		memcpy(spawn_helper_argv + SPAWN_HELPER_ARGS, spawn_argv,
		       sizeof(char *) * ((size_t)argc + 1));
		spawn_sync_fd = sync_fd;
		pid = clone(spawn_exec_helper, spawn_stack + sizeof(spawn_stack),
			    (int)clone_flags | CLONE_VM | CLONE_VFORK | SIGCHLD,
			    NULL);
	} else {
		pid = syscall(SYS_clone, (unsigned long)clone_flags | SIGCHLD,
			      NULL, NULL, NULL, 0UL);
		if (pid == 0)
			spawn_child(sync_fd);
	}
	rc = pid < 0 ? -errno : 0;

	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc ? rc : (int32_t)pid;
}
