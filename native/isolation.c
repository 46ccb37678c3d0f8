/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* isolation.c - the daemon's sandbox: namespaces, root, capabilities, seccomp
 *
 * Theory of operation. The runtime is multithreaded, so the namespaces of the
 * sandbox are entered before it starts: pf_spawn_isolated() makes a child with
 * clone(CLONE_VM | CLONE_VFORK) on a static stack (the calling thread waits
 * for it), which changes its IDs (raw syscalls: glibc's setuid() would try to
 * signal our threads), joins or creates the user namespace, writes its own ID
 * maps, unshares mount, IPC, UTS and PID namespaces, narrows its capabilities
 * to the set needed for set-up (carried across execve as ambient ones), then
 * forks the daemon, which is the first process of the new PID namespace, and
 * execs. Every thread of the runtime is born inside these namespaces.
 *
 * Once set-up is complete, pf_isolate() moves the root of the (private) mount
 * namespace to an empty read-only tmpfs, which holds for every thread, and
 * drops capabilities in each thread: capabilities are per thread, so a signal
 * is sent to each task with a handler that clears its own sets, as glibc does
 * for setuid(). pf_seccomp() then sets PR_SET_NO_NEW_PRIVS and installs the
 * allow-list for all threads (SECCOMP_FILTER_FLAG_TSYNC): a system call
 * outside the list kills the process. The list comes from "#syscalls"
 * annotations in the sources, collected by seccomp.sh into
 * build/seccomp_list.h at build time.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "passt_ffi.h"
#include "build/seccomp_list.h"

/* #syscalls rt_sigreturn tgkill exit exit_group */

#define ISO_STACK_SIZE	(128 * 1024)
#define ISO_ARGS_MAX	4096
#define ISO_DROP_SIG	(SIGRTMIN + 6)

#if defined(__x86_64__)
#define ISO_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ISO_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#else
#error "Unsupported architecture for the seccomp filter"
#endif


static char iso_stack[ISO_STACK_SIZE] __attribute__((aligned(64)));
static struct iso_req iso_req;
static pthread_mutex_t iso_lock = PTHREAD_MUTEX_INITIALIZER;
static char *iso_argv[ISO_ARGS_MAX + 1];
/* What the daemon execs: iso_argv, or the helper's own arguments */
static char **iso_exec;

/**
 * fmt_u() - Format an unsigned number (no stdio in the child)
 * @p:		Output, at least 11 bytes
 * @v:		Value
 *
 * Return: pointer past the last digit
 */
static char *fmt_u(char *p, unsigned int v)
{
	char tmp[12];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/**
 * write_file() - Write a short string to a file
 * @path:	Path
 * @s:		Text
 * @len:	Its length
 *
 * Return: 0, or -errno
 */
static int write_file(const char *path, const char *s, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/**
 * write_map() - Map 0 in our new user namespace to an ID outside
 * @path:	/proc/self/uid_map or gid_map
 * @id:		Outer ID
 *
 * Return: 0, or -errno
 */
static int write_map(const char *path, unsigned int id)
{
	char buf[32] = "0 ", *p;

	p = fmt_u(buf + 2, id);
	*p++ = ' ';
	*p++ = '1';
	return write_file(path, buf, (size_t)(p - buf));
}

/**
 * caps_get() - Read the calling task's capability sets
 * @d:		Two data words (low and high 32 capabilities)
 *
 * Return: 0, or -errno
 */
static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

/**
 * caps_set() - Set effective, permitted and inheritable to one mask
 * @mask:	Capabilities 0..31 to keep (those not held are left out)
 *
 * Return: 0, or -errno
 */
int caps_set(uint32_t mask)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int rc = caps_get(d);

	if (rc)
		return rc;
	mask &= d[0].permitted;
	d[0].effective = d[0].permitted = d[0].inheritable = mask;
	d[1].effective = d[1].permitted = d[1].inheritable = 0;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/**
 * iso_fail() - Report a failed step of the spawning child, then exit
 * @r:		Request
 * @step:	What failed
 * @rc:		-errno
 */
static void __attribute__((noreturn)) iso_fail(struct iso_req *r,
					       const char *step, int rc)
{
	r->pid = rc;
	r->step = step;
	_exit(1);
}

/**
 * iso_daemon() - The daemon, before exec: session, stdio, signals
 * @r:		Request
 */
static void __attribute__((noreturn)) iso_daemon(const struct iso_req *r)
{
	struct sigaction sa;
	sigset_t set;
	int fd, sig;

	(void)setsid();
	/* stdout and stderr stay the caller's until set-up is done: the
	 * daemon prints its summary and errors there, then moves them to
	 * /dev/null itself before reporting ready.
	 */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		(void)dup2(fd, STDIN_FILENO);
	if (r->keep_fd >= 0)
		(void)fcntl(r->keep_fd, F_SETFD, 0);

	memset(&sa, 0, sizeof(sa));
	for (sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	}
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);

	execvp(iso_exec[0], iso_exec);
	_exit(127);
}

/**
 * sandbox_enter() - IDs, user namespace, other namespaces, capabilities
 * @r:		Request: IDs, user namespace to join, flags, capabilities
 * @step:	On failure, set to the name of the failed step
 *
 * Runs in a single-threaded task: the spawning child below, or the
 * passt-helper program before it execs the runtime in the foreground.
 *
 * Return: 0, or -errno
 */
int sandbox_enter(const struct iso_req *r, const char **step)
{
	unsigned int euid, egid;
	int c, rc;

	if (r->keep_caps && r->uid >= 0 && (unsigned int)r->uid != geteuid())
		(void)prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);

	/* IDs first, so that a user namespace we create belongs to them */
	if (r->uid >= 0 || r->gid >= 0) {
		*step = "setgroups";
		if (syscall(SYS_setgroups, 0, NULL) && errno != EPERM)
			return -errno;
		*step = "setgid";
		if (r->gid >= 0 && syscall(SYS_setresgid, r->gid, r->gid, r->gid))
			return -errno;
		*step = "setuid";
		if (r->uid >= 0 && syscall(SYS_setresuid, r->uid, r->uid, r->uid))
			return -errno;
		/* A change of IDs makes us non-dumpable, and /proc/self/uid_map
		 * root's: writing our own maps needs it back.
		 */
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	}
	/* Kept across setuid(), but not yet effective; CAP_SETPCAP is needed
	 * to shrink the bounding set below, and CAP_SETFCAP to map UID 0 of
	 * the parent namespace into a new one (since Linux 5.12): root of an
	 * outer user namespace (unshare -r) maps itself, as root does
	 */
	*step = "capset";
	if (r->keep_caps &&
	    (rc = caps_set(r->keep_caps | (1U << CAP_SETPCAP) |
			   (1U << CAP_SETFCAP))) && rc != -EPERM)
		return rc;

	*step = "setns";
	if (r->userns_fd >= 0 && setns(r->userns_fd, CLONE_NEWUSER)) {
		if (errno != EINVAL)
			return -errno;
	}

	euid = geteuid();
	egid = getegid();
	if (r->flags & CLONE_NEWUSER) {
		*step = "unshare(CLONE_NEWUSER)";
		if (unshare(CLONE_NEWUSER))
			return -errno;
		*step = "uid_map";
		if ((rc = write_map("/proc/self/uid_map", euid)))
			return rc;
		*step = "setgroups";
		if ((rc = write_file("/proc/self/setgroups", "deny", 4)))
			return rc;
		*step = "gid_map";
		if ((rc = write_map("/proc/self/gid_map", egid)))
			return rc;
	}
	*step = "unshare";
	if (unshare((int)(r->flags & ~(uint32_t)CLONE_NEWUSER)))
		return -errno;

	/* Capabilities for set-up only, carried across execve as ambient ones
	 * (so that they survive a non-zero UID); the bounding set goes
	 */
	for (c = 0; c <= 63 && !r->keep_bounding; c++) {
		if (c < 32 && (r->keep_caps & (1U << c)))
			continue;
		(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	}
	if (r->keep_caps) {
		(void)caps_set(r->keep_caps);
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		for (c = 0; c < 32; c++) {
			if (r->keep_caps & (1U << c))
				(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
					    c, 0, 0);
		}
	}
	return 0;
}

/**
 * iso_child() - Spawning child: enter the sandbox, then fork the daemon
 * @arg:	Request
 *
 * Return: 0 (unused: the child always calls _exit())
 */
static int iso_child(void *arg)
{
	struct iso_req *r = (struct iso_req *)arg;
	const char *step = "";
	long pid;
	int rc;

	rc = sandbox_enter(r, &step);
	if (rc)
		iso_fail(r, step, rc);

	/* Fork-like: the daemon gets a copy of this address space */
	pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
	if (pid < 0)
		iso_fail(r, "clone", -errno);
	if (pid == 0)
		iso_daemon(r);
	r->pid = (int32_t)pid;
	_exit(0);
}

/**
 * spawn_locked() - Start the daemon inside its sandbox, iso_lock held
 * @argv:	Program and arguments, NULL-terminated
 * @keep_fd, @userns_fd, @uid, @gid, @flags, @keep_caps, @err: see
 *		pf_spawn_isolated()
 *
 * Return: PID of the daemon as seen by the caller, or -errno
 */
static int32_t spawn_locked(char **argv, int32_t keep_fd, int32_t userns_fd,
			    int32_t uid, int32_t gid, uint32_t flags,
			    uint32_t keep_caps, uint8_t *err)
{
	sigset_t all, old;
	int rc, status;
	pid_t child;

	iso_exec = argv;
	memset(&iso_req, 0, sizeof(iso_req));
	iso_req.userns_fd = userns_fd;
	iso_req.uid = uid;
	iso_req.gid = gid;
	iso_req.flags = flags;
	iso_req.keep_caps = keep_caps;
	iso_req.keep_fd = keep_fd;
	iso_req.pid = -ECHILD;
	iso_req.step = "clone";

	/* No handler of ours may run on the child: it shares our memory */
	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc)
		return -rc;
	child = clone(iso_child, iso_stack + sizeof(iso_stack),
		      CLONE_VM | CLONE_VFORK | SIGCHLD, &iso_req);
	rc = child < 0 ? -errno : 0;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!rc) {
		while (waitpid(child, &status, __WALL) < 0 && errno == EINTR)
			;
		rc = iso_req.pid;
	}
	if (rc < 0 && err)
		(void)str_copy((char *)err, 64, iso_req.step);
	return rc;
}

/**
 * pf_spawn_isolated() - Start the daemon inside its sandbox namespaces
 * @argv_buf:	Argument count, then the arguments, see argv_unpack()
 * @keep_fd:	Descriptor inherited by the daemon (readiness pipe), or -1
 * @userns_fd:	User namespace to join first, or -1
 * @uid:	UID to switch to before any namespace, or -1
 * @gid:	GID to switch to, or -1
 * @flags:	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUTS,
 *		CLONE_NEWPID to create (a new user namespace maps 0 to us)
 * @keep_caps:	Capabilities 0..31 the daemon keeps for its set-up
 * @err:	64 bytes: on failure, the name of the step that failed
 *
 * Return: PID of the daemon as seen by the caller, or -errno
 */
int32_t pf_spawn_isolated(uint8_t *argv_buf, int32_t keep_fd,
			  int32_t userns_fd, int32_t uid, int32_t gid,
			  uint32_t flags, uint32_t keep_caps, uint8_t *err)
{
	int32_t rc;

	pthread_mutex_lock(&iso_lock);
	rc = argv_unpack(argv_buf, iso_argv, ISO_ARGS_MAX);
	if (rc >= 0)
		rc = spawn_locked(iso_argv, keep_fd, userns_fd, uid, gid,
				  flags, keep_caps, err);
	pthread_mutex_unlock(&iso_lock);
	return rc;
}

/**
 * spawn_isolated() - pf_spawn_isolated() for an argv array (passt-helper)
 * @argv:	Program and arguments, NULL-terminated
 * @keep_fd, @userns_fd, @uid, @gid, @flags, @keep_caps: see
 *		pf_spawn_isolated()
 *
 * Return: PID of the daemon as seen by the caller, or -errno
 */
int32_t spawn_isolated(char **argv, int32_t keep_fd, int32_t userns_fd,
		       int32_t uid, int32_t gid, uint32_t flags,
		       uint32_t keep_caps)
{
	int32_t rc;

	pthread_mutex_lock(&iso_lock);
	rc = spawn_locked(argv, keep_fd, userns_fd, uid, gid, flags,
			  keep_caps, NULL);
	pthread_mutex_unlock(&iso_lock);
	return rc;
}

static volatile int iso_dropped;

/**
 * drop_handler() - Signal handler: drop this thread's capabilities
 * @sig:	Signal number (unused)
 */
static void drop_handler(int sig)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int saved = errno, c;

	(void)sig;
	for (c = 0; c <= 63; c++)
		(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	(void)syscall(SYS_capset, &h, d);
	__atomic_add_fetch(&iso_dropped, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

/**
 * inner_tid() - Thread ID in our PID namespace, from its status file
 * @dfd:	Open /proc/self/task directory (maybe of an outer namespace)
 * @name:	Entry name
 * @tid:	Its number, returned if there's no NSpid line
 *
 * Return: the last number of the NSpid line (the innermost namespace)
 */
static pid_t inner_tid(int dfd, const char *name, pid_t tid)
{
	char path[32], buf[2048];
	const char *p, *e;
	ssize_t n;
	int fd;

	p = name;
	for (n = 0; *p && n < 20; n++)
		path[n] = *p++;
	memcpy(path + n, "/status", 8);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return tid;
	buf[n] = 0;
	p = strstr(buf, "NSpid:");
	if (!p)
		return tid;
	e = strchr(p, '\n');
	if (!e)
		e = buf + n;
	while (e > p && (e[-1] < '0' || e[-1] > '9'))
		e--;
	while (e > p && e[-1] >= '0' && e[-1] <= '9')
		e--;
	for (tid = 0; *e >= '0' && *e <= '9'; e++)
		tid = tid * 10 + (*e - '0');
	return tid;
}

/**
 * struct drop_pass - State of drop_all_threads() across its passes
 * @self:	Our thread, which drops its own capabilities
 * @tgid:	Our process
 * @ndone:	Threads signalled so far, in drop_done
 * @sent:	Signals sent
 * @fresh:	Whether this pass found a thread not signalled before
 */
struct drop_pass {
	pid_t self;
	pid_t tgid;
	unsigned int ndone;
	int sent;
	int fresh;
};

#define DROP_MAX	1024
static pid_t drop_done[DROP_MAX];

/**
 * drop_one() - Signal one thread of /proc/self/task, once
 * @dfd:	The task directory
 * @name:	Entry name
 * @num:	Its number (the thread ID as seen from the /proc mount)
 * @arg:	struct drop_pass
 */
static void drop_one(int dfd, const char *name, long num, void *arg)
{
	struct drop_pass *p = arg;
	pid_t tid = inner_tid(dfd, name, (pid_t)num);
	unsigned int i;

	if (tid == p->self)
		return;
	for (i = 0; i < p->ndone && drop_done[i] != tid; i++)
		;
	if (i < p->ndone || p->ndone == DROP_MAX)
		return;
	drop_done[p->ndone++] = tid;
	if (!syscall(SYS_tgkill, p->tgid, tid, ISO_DROP_SIG)) {
		p->sent++;
		p->fresh = 1;
	}
}

/* /proc/self/task, opened when the library loads (iso_reserve()) */
static int iso_task_dfd = -1;

/* The state of the drop across pf_isolate_begin() and pf_isolate() */
static struct drop_pass drop_state;
static struct sigaction drop_old;
static int drop_armed;

/**
 * drop_arm() - Install the drop's signal handler, once, for our thread
 *
 * Return: 0, or -errno
 */
static int drop_arm(void)
{
	struct sigaction sa;

	if (drop_armed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = drop_handler;
	sa.sa_flags = SA_RESTART;
	if (sigaction(ISO_DROP_SIG, &sa, &drop_old))
		return -errno;
	drop_state.self = (pid_t)syscall(SYS_gettid);
	drop_state.tgid = getpid();
	drop_armed = 1;
	return 0;
}

/**
 * drop_signal_pass() - Signal the threads of /proc/self/task not signalled yet
 * @dfd:	Open /proc/self/task directory
 *
 * Return: whether this pass signalled any
 */
static int drop_signal_pass(int dfd)
{
	drop_state.fresh = 0;
	if (lseek(dfd, 0, SEEK_SET) < 0)
		return 0;
	dir_each_number(dfd, drop_one, &drop_state);
	return drop_state.fresh;
}

/**
 * drop_all_threads() - Drop capabilities in every other thread of ours
 * @dfd:	Open /proc/self/task directory
 *
 * Each thread gets the signal once (the ones pf_isolate_begin() signalled
 * are done by now); new threads inherit the sets of the thread that creates
 * them, so passes repeat until one finds no new task.
 *
 * Return: 0, or -errno
 */
static int drop_all_threads(int dfd)
{
	unsigned int i;
	int fresh, rc;

	rc = drop_arm();
	if (rc)
		return rc;
	do {
		fresh = drop_signal_pass(dfd);
		/* Wait up to a second for the threads signalled so far */
		for (i = 0; i < 100000 && __atomic_load_n(&iso_dropped,
					__ATOMIC_SEQ_CST) < drop_state.sent;
		     i++) {
			struct timespec ts = { 0, 10000 };	/* 10 us */

			nanosleep(&ts, NULL);
		}
	} while (fresh);

	(void)sigaction(ISO_DROP_SIG, &drop_old, NULL);
	drop_armed = 0;
	return __atomic_load_n(&iso_dropped, __ATOMIC_SEQ_CST) <
	       drop_state.sent ? -ETIMEDOUT : 0;
}

/**
 * pf_isolate_begin() - Have every other thread drop its capabilities now
 *
 * The runtime's other threads never need our capabilities: only the thread
 * that calls us does, for set-up. Called when set-up starts, this signals
 * each of them once and doesn't wait: by the time pf_isolate() checks, they
 * are done, and it only has threads started since to deal with (about 5 ms
 * less in the caller's wait, more when a thread is slow to be scheduled).
 *
 * Return: 0, or -errno
 */
int32_t pf_isolate_begin(void)
{
	int rc;

	if (iso_task_dfd < 0)
		return -EBADF;
	rc = drop_arm();
	if (!rc)
		(void)drop_signal_pass(iso_task_dfd);
	return rc;
}

/**
 * move_root() - Empty tmpfs on /tmp (the working directory) as root, by chroot()
 *
 * For roots pivot_root() refuses (rootfs, an initramfs): the tmpfs is moved
 * over / and becomes the root with chroot(), as upstream's --chroot-fallback.
 *
 * Return: 0, or -errno
 */
static int move_root(void)
{
	if (mount("/tmp", "/", "", MS_MOVE, NULL) || chroot(".") || chdir("/"))
		return -errno;
	return 0;
}

/**
 * enter_tmp_root() - Make the working directory (an empty tmpfs) our root
 * @chroot_fallback:	Use move_root() if pivot_root() fails
 * @fallback:		Set to 1 if move_root() was used
 *
 * Return: 0, or -errno
 */
static int enter_tmp_root(int chroot_fallback, int *fallback)
{
	int rc;

	if (!syscall(SYS_pivot_root, ".", "."))
		return umount2(".", MNT_DETACH) ? -errno : 0;
	if (!chroot_fallback)
		return -errno;
	rc = move_root();
	*fallback = !rc;
	return rc;
}

/**
 * pivot_empty_root() - Make an empty read-only tmpfs our root directory
 *
 * Needs our own mount namespace: every task sharing it gets the new root.
 * For passt-helper's namespace socket server.
 *
 * Return: 0, or -errno
 */
int pivot_empty_root(void)
{
	int fallback = 0;

	if (mount("", "/", "", MS_UNBINDABLE | MS_REC, NULL) ||
	    mount("", "/tmp", "tmpfs",
		  MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RDONLY,
		  "nr_inodes=2,nr_blocks=0") ||
	    chdir("/tmp"))
		return -errno;
	return enter_tmp_root(0, &fallback);
}

/**
 * iso_reserve() - Open /proc/self/task when the library loads
 *
 * pf_isolate() needs it once set-up is done, when a guest or the namespace
 * may have used up our descriptors: then isolating would fail, and the
 * process would have to exit.
 */
static void __attribute__((constructor)) iso_reserve(void)
{
	iso_task_dfd = open("/proc/self/task",
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/**
 * pf_isolate() - Empty read-only root, then capabilities dropped everywhere
 * @pivot:	PF_ISOLATE_PIVOT to move the root (needs our own mount
 *		namespace), plus PF_ISOLATE_CHROOT to fall back to chroot()
 *		where pivot_root() fails
 * @keep_caps:	Capabilities 0..31 this thread keeps (effective, permitted)
 *
 * Return: 0, 1 if the chroot() fallback was used, or -errno of the first
 * failed step
 */
int32_t pf_isolate(int32_t pivot, uint32_t keep_caps)
{
	int dfd = iso_task_dfd, rc = 0, fallback = 0;

	iso_task_dfd = -1;
	if (dfd < 0)
		dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;

	if (pivot & PF_ISOLATE_PIVOT) {
		if (mount("", "/", "", MS_UNBINDABLE | MS_REC, NULL) ||
		    mount("", "/tmp", "tmpfs",
			  MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RDONLY,
			  "nr_inodes=2,nr_blocks=0") ||
		    chdir("/tmp"))
			rc = -errno;
		else
			rc = enter_tmp_root(pivot & PF_ISOLATE_CHROOT, &fallback);
		if (rc) {
			close(dfd);
			return rc;
		}
	}

	rc = drop_all_threads(dfd);
	close(dfd);
	for (int c = 0; c <= 63; c++)
		(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	{
		struct __user_cap_header_struct h = {
			_LINUX_CAPABILITY_VERSION_3, 0
		};
		struct __user_cap_data_struct d[2];

		if (!caps_get(d)) {
			d[0].effective = d[0].permitted = d[0].permitted &
							  keep_caps;
			d[0].inheritable = 0;
			d[1].effective = d[1].permitted = d[1].inheritable = 0;
			if (syscall(SYS_capset, &h, d) && !rc)
				rc = -errno;
		}
	}
	return rc ? rc : fallback;
}

/**
 * cmp_nr() - Compare two system call numbers for qsort()
 * @a:		First
 * @b:		Second
 *
 * Return: <0, 0, >0
 */
static int cmp_nr(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

#define ISO_NR_MAX	512
#define ISO_PROG_MAX	(ISO_NR_MAX * 2 + 8)

static struct sock_filter iso_prog[ISO_PROG_MAX];
static long iso_nrs[ISO_NR_MAX];

/**
 * bst() - Emit a binary search over sorted numbers, leaves jump to verdicts
 * @lo:		First index
 * @hi:		One past the last index
 * @pos:	Next free instruction, updated
 * @allow:	Index of the ALLOW instruction
 * @kill:	Index of the KILL instruction
 *
 * Instructions are laid out in order, so every jump goes forward.
 */
static void bst(unsigned int lo, unsigned int hi, unsigned int *pos,
		unsigned int allow, unsigned int kill)
{
	unsigned int mid, here;

	if (hi - lo == 1) {
		here = (*pos)++;
		iso_prog[here] = (struct sock_filter)
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				 (uint32_t)iso_nrs[lo],
				 (uint8_t)(allow - here - 1),
				 (uint8_t)(kill - here - 1));
		return;
	}
	mid = lo + (hi - lo) / 2;
	here = (*pos)++;
	bst(lo, mid, pos, allow, kill);
	/* if nr >= nrs[mid], skip the left subtree */
	iso_prog[here] = (struct sock_filter)
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)iso_nrs[mid],
			 (uint8_t)(*pos - here - 1), 0);
	bst(mid, hi, pos, allow, kill);
}

/**
 * pf_seccomp() - No new privileges, then the allow-list for every thread
 * @pasta:	Non-zero for pasta's list, zero for passt's
 * @install:	Zero to only count the entries
 *
 * Return: number of allowed system calls, or -errno
 */
int32_t pf_seccomp(int32_t pasta, int32_t install)
{
	const long *list = pasta ? seccomp_list_pasta : seccomp_list_passt;
	unsigned int n = pasta ? sizeof(seccomp_list_pasta) / sizeof(long) :
				 sizeof(seccomp_list_passt) / sizeof(long);
	unsigned int i, m = 0, pos = 0, allow, kill, len;
	struct sock_fprog prog;

	for (i = 0; i < n && m < ISO_NR_MAX; i++)
		iso_nrs[m++] = list[i];
	qsort(iso_nrs, m, sizeof(long), cmp_nr);
	for (i = 1, n = m ? 1 : 0; i < m; i++) {
		if (iso_nrs[i] != iso_nrs[n - 1])
			iso_nrs[n++] = iso_nrs[i];
	}
	if (!install || !n)
		return (int32_t)n;

	/* Instructions: 3 (arch check) + 2n - 1 (tree) + ALLOW + KILL; the
	 * conditional jumps within the tree must fit in 8 bits
	 */
	if (2 * n + 4 > 255 + 3)
		return -E2BIG;
	len = 3 + (2 * n - 1) + 2;
	allow = len - 2;
	kill = len - 1;
	iso_prog[pos++] = (struct sock_filter)
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch));
	iso_prog[pos] = (struct sock_filter)
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ISO_AUDIT_ARCH, 0,
			 (uint8_t)(kill - pos - 1));
	pos++;
	iso_prog[pos++] = (struct sock_filter)
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr));
	bst(0, n, &pos, allow, kill);
	iso_prog[allow] = (struct sock_filter)
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	iso_prog[kill] = (struct sock_filter)
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);

	prog.len = (unsigned short)len;
	prog.filter = iso_prog;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, &prog))
		return -errno;
	return (int32_t)n;
}
