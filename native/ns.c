/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* ns.c - work inside other namespaces, and spawning a command in new ones
 *
 * The Deno process is multithreaded, so it can neither setns() into a user
 * namespace nor move all its threads into a network namespace. Instead, each
 * operation runs in a short-lived child made with clone(CLONE_VM |
 * CLONE_VFORK | CLONE_FILES): the child shares our memory and file table,
 * joins the user and network namespaces given by file descriptor, performs
 * one call (socket, tap device, file open), stores the result in ns_req and
 * exits. A file descriptor it creates stays in our table, bound to the
 * namespace it was made in. CLONE_VFORK suspends the calling thread until
 * the child exits, so the child may use a static stack; a mutex keeps other
 * threads from sharing it.
 *
 * pf_spawn_ns() is different: it starts a command in new namespaces with a
 * fork-like clone() (no shared memory), waiting for one byte on a pipe
 * before exec so that the caller can first write the user namespace's ID
 * maps and configure the network namespace.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "passt_ffi.h"

#define NS_STACK_SIZE	(256 * 1024)
#define SPAWN_ARGS_MAX	4096

/* Operations run in a namespace */
enum ns_op {
	NS_SOCKET,
	NS_TAP_OPEN,
	NS_IFINDEX,
	NS_OPEN,
	NS_WRITE_FILE,
	NS_BIND_SOCKET,
};

/**
 * struct ns_req - Request for, and result of, one operation in a namespace
 * @op:		Operation
 * @userns_fd:	User namespace to join, or -1
 * @netns_fd:	Network namespace to join, or -1
 * @domain:	Socket domain
 * @type:	Socket type
 * @protocol:	Socket protocol
 * @flags:	open() flags
 * @backlog:	listen() backlog, negative for none
 * @path:	Path, or interface name for tap and ifindex
 * @data:	Data to write
 * @len:	Length of @data, or of @path's sockaddr for NS_BIND_SOCKET
 * @sa:		Socket address to bind
 * @rc:		Result: fd, index or 0, or -errno
 */
struct ns_req {
	enum ns_op op;
	int userns_fd;
	int netns_fd;
	int domain;
	int type;
	int protocol;
	int flags;
	int backlog;
	uint8_t *path;
	const uint8_t *data;
	uint32_t len;
	const uint8_t *sa;
	int32_t rc;
};

static char ns_stack[NS_STACK_SIZE] __attribute__((aligned(64)));
static struct ns_req ns_req;
static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;

static char *spawn_argv[SPAWN_ARGS_MAX + 1];

/**
 * same_userns() - Check if a namespace fd is our current user namespace
 * @fd:		User namespace file descriptor
 *
 * Return: 1 if it is, 0 otherwise
 */
static int same_userns(int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) || stat("/proc/self/ns/user", &b))
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/**
 * ns_join() - Join the requested user and network namespaces
 * @r:		Request
 *
 * Joining the user namespace we are already in is not an error.
 *
 * Return: 0, or -errno
 */
static int32_t ns_join(const struct ns_req *r)
{
	if (r->userns_fd >= 0 && setns(r->userns_fd, CLONE_NEWUSER)) {
		int32_t rc = -errno;

		if (rc != -EINVAL || !same_userns(r->userns_fd))
			return rc;
	}
	if (r->netns_fd >= 0 && setns(r->netns_fd, CLONE_NEWNET))
		return -errno;
	return 0;
}

/**
 * ns_socket() - Create a socket, preparing netlink ones like pf_netlink_open
 * @r:		Request
 *
 * Return: file descriptor, or -errno
 */
static int32_t ns_socket(const struct ns_req *r)
{
	int fd;

	fd = socket(r->domain, r->type, r->protocol);
	if (fd < 0)
		return -errno;

	if (r->domain == AF_NETLINK) {
		int32_t rc = netlink_setup(fd);

		if (rc) {
			close(fd);
			return rc;
		}
	}
	return fd;
}

/**
 * ns_bind_socket() - Create a socket with SO_REUSEADDR, bind, maybe listen
 * @r:		Request
 *
 * Return: file descriptor, or -errno
 */
static int32_t ns_bind_socket(const struct ns_req *r)
{
	int one = 1, fd;

	fd = socket(r->domain, r->type, r->protocol);
	if (fd < 0)
		return -errno;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)(const void *)r->sa, r->len) ||
	    (r->backlog >= 0 && listen(fd, r->backlog))) {
		int32_t rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/**
 * ns_write_file() - Write a buffer to a file, /proc/sys entries in mind
 * @r:		Request
 *
 * Return: 0, or -errno (-EIO for a short write)
 */
static int32_t ns_write_file(const struct ns_req *r)
{
	int32_t rc = 0;
	ssize_t n;
	int fd;

	fd = open((const char *)r->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	n = write(fd, r->data, r->len);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != r->len)
		rc = -EIO;

	close(fd);
	return rc;
}

/**
 * ns_child() - Child side: join namespaces, run the operation, store result
 * @arg:	Request
 *
 * Return: 0, the exit status (unused)
 */
static int ns_child(void *arg)
{
	struct ns_req *r = (struct ns_req *)arg;
	int32_t rc = ns_join(r);

	if (rc) {
		r->rc = rc;
		_exit(0);
	}

	switch (r->op) {
	case NS_SOCKET:
		rc = ns_socket(r);
		break;
	case NS_TAP_OPEN:
		rc = pf_tap_open(r->path);
		break;
	case NS_IFINDEX:
		rc = pf_ifindex(r->path);
		break;
	case NS_OPEN:
		rc = open((const char *)r->path, r->flags | O_CLOEXEC);
		if (rc < 0)
			rc = -errno;
		break;
	case NS_WRITE_FILE:
		rc = ns_write_file(r);
		break;
	case NS_BIND_SOCKET:
		rc = ns_bind_socket(r);
		break;
	default:
		rc = -EINVAL;
	}

	r->rc = rc;
	_exit(0);
}

/**
 * ns_call() - Run the operation in ns_req in a vfork()-like child
 *
 * The caller holds ns_lock and has filled ns_req.
 *
 * Return: the operation's result, or -errno if clone() failed
 */
static int32_t ns_call(void)
{
	sigset_t all, old;
	int status, rc;
	pid_t pid;

	/* The child shares our memory and thread pointer: no handler may
	 * ever run on it, so it starts, and stays, with every signal blocked.
	 */
	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc)
		return -rc;
	ns_req.rc = -ECHILD;
	pid = clone(ns_child, ns_stack + sizeof(ns_stack),
		    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &ns_req);
	rc = pid < 0 ? -errno : 0;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return rc;

	/* Whoever reaps it first, the result is already in ns_req */
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;

	return ns_req.rc;
}

/**
 * ns_start() - Take the helper lock and start a request
 * @op:		Operation
 * @userns_fd:	User namespace to join, or -1
 * @netns_fd:	Network namespace to join, or -1
 */
static void ns_start(enum ns_op op, int32_t userns_fd, int32_t netns_fd)
{
	pthread_mutex_lock(&ns_lock);
	memset(&ns_req, 0, sizeof(ns_req));
	ns_req.op = op;
	ns_req.userns_fd = userns_fd;
	ns_req.netns_fd = netns_fd;
	ns_req.backlog = -1;
}

/**
 * ns_finish() - Run the started request and release the helper lock
 *
 * Return: the operation's result
 */
static int32_t srv_call(void);
static int srv_fd = -1;
static int srv_netns = -1;

static int32_t ns_finish(void)
{
	int32_t rc;

	/* Netlink checks the opener's capabilities: those sockets don't come
	 * from the (capability-less) server
	 */
	if (srv_fd >= 0 && ns_req.netns_fd == srv_netns &&
	    ns_req.domain != AF_NETLINK &&
	    (ns_req.op == NS_SOCKET || ns_req.op == NS_BIND_SOCKET))
		rc = srv_call();
	else
		rc = ns_call();

	pthread_mutex_unlock(&ns_lock);
	return rc;
}

/**
 * pf_ns_socket() - Create a socket inside a namespace
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @domain:	Address family; AF_NETLINK sockets are also bound and set up
 *		like pf_netlink_open() does
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_ns_socket(int32_t userns_fd, int32_t netns_fd, int32_t domain,
		     int32_t type, int32_t protocol)
{
	ns_start(NS_SOCKET, userns_fd, netns_fd);
	ns_req.domain = domain;
	ns_req.type = type;
	ns_req.protocol = protocol;
	return ns_finish();
}

/**
 * pf_ns_tap_open() - Open a tap device inside a namespace, see pf_tap_open()
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @name:	IFNAMSIZ bytes; in: requested name, out: actual name
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_ns_tap_open(int32_t userns_fd, int32_t netns_fd, uint8_t *name)
{
	ns_start(NS_TAP_OPEN, userns_fd, netns_fd);
	ns_req.path = name;
	return ns_finish();
}

/**
 * pf_ns_ifindex() - Look up an interface index inside a namespace
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @name:	NUL-terminated interface name
 *
 * Return: interface index, or -errno
 */
int32_t pf_ns_ifindex(int32_t userns_fd, int32_t netns_fd, uint8_t *name)
{
	ns_start(NS_IFINDEX, userns_fd, netns_fd);
	ns_req.path = name;
	return ns_finish();
}

/**
 * pf_ns_open() - Open a file from inside a namespace
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @path:	NUL-terminated path, /proc/self/net/tcp6 etc.
 * @flags:	open() flags; O_CLOEXEC is always added
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_ns_open(int32_t userns_fd, int32_t netns_fd, uint8_t *path,
		   int32_t flags)
{
	ns_start(NS_OPEN, userns_fd, netns_fd);
	ns_req.path = path;
	ns_req.flags = flags;
	return ns_finish();
}

/**
 * pf_ns_write_file() - Write a file from inside a namespace
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @path:	NUL-terminated path, /proc/sys/... etc.
 * @data:	Bytes to write
 * @len:	Length of @data
 *
 * Return: 0, or -errno
 */
int32_t pf_ns_write_file(int32_t userns_fd, int32_t netns_fd, uint8_t *path,
			 uint8_t *data, uint32_t len)
{
	ns_start(NS_WRITE_FILE, userns_fd, netns_fd);
	ns_req.path = path;
	ns_req.data = data;
	ns_req.len = len;
	return ns_finish();
}

/**
 * pf_ns_bind_socket() - Create a bound (and listening) socket in a namespace
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @domain:	Address family
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol
 * @sa:		Address to bind
 * @salen:	Length of @sa
 * @backlog:	listen() backlog, or negative not to listen
 *
 * SO_REUSEADDR is set before binding.
 *
 * Return: file descriptor, or -errno
 */
int32_t pf_ns_bind_socket(int32_t userns_fd, int32_t netns_fd,
			  int32_t domain, int32_t type, int32_t protocol,
			  uint8_t *sa, uint32_t salen, int32_t backlog)
{
	ns_start(NS_BIND_SOCKET, userns_fd, netns_fd);
	ns_req.domain = domain;
	ns_req.type = type;
	ns_req.protocol = protocol;
	ns_req.sa = sa;
	ns_req.len = salen;
	ns_req.backlog = backlog;
	return ns_finish();
}

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
 * close_cloexec() - Close descriptors that exec would close anyway
 * @keep:	Descriptor to keep open (the start pipe)
 *
 * Our copy of the start pipe's write end, if the caller made it
 * close-on-exec, goes too, so that the child sees end of file if the caller
 * goes away without releasing it. Uses getdents64 on /proc/self/fd directly:
 * opendir() would allocate.
 */
static void close_cloexec(int keep)
{
	char buf[4096] __attribute__((aligned(8)));
	long n;
	int dfd;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;

	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			const struct dirent64 *d;
			const char *c;
			int fd = 0, fl;

			d = (const struct dirent64 *)(const void *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			for (c = d->d_name; *c >= '0' && *c <= '9'; c++)
				fd = fd * 10 + (*c - '0');

			if (fd <= STDERR_FILENO || fd == keep || fd == dfd)
				continue;
			fl = fcntl(fd, F_GETFD);
			if (fl >= 0 && (fl & FD_CLOEXEC))
				close(fd);
		}
	}
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
int32_t pf_spawn_ns(uint8_t *argv_buf, uint32_t clone_flags, int32_t sync_fd)
{
	sigset_t all, old;
	long pid;
	int rc;

	rc = argv_unpack(argv_buf, spawn_argv, SPAWN_ARGS_MAX);
	if (rc < 0)
		return rc;

	/* The child starts with all signals blocked, until it's ready */
	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc)
		return -rc;

	pid = syscall(SYS_clone, (unsigned long)clone_flags | SIGCHLD,
		      NULL, NULL, NULL, 0UL);
	if (pid == 0)
		spawn_child(sync_fd);
	rc = pid < 0 ? -errno : 0;

	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc ? rc : (int32_t)pid;
}

/* The socket server: after set-up, sockets inside the namespace come from a
 * small child process that joined it once and then dropped its capabilities,
 * so that we need none to enter namespaces at run time. Requests and replies
 * go over a SOCK_SEQPACKET pair; new descriptors come back with SCM_RIGHTS.
 */

/**
 * struct srv_start - What the server's exec child needs, and its result
 * @path:	passt-helper program
 * @argv:	Its arguments
 * @sock:	Server end of the pair
 * @userns_fd:	User namespace to join, or -1
 * @netns_fd:	Network namespace to join
 * @rc:		Result: -errno if exec failed
 */
struct srv_start {
	const char *path;
	char *const *argv;
	int sock;
	int userns_fd;
	int netns_fd;
	int rc;
};

/**
 * srv_exec_child() - Child that execs the server with our descriptors
 * @arg:	struct srv_start
 *
 * Shares our memory (CLONE_VM), not our descriptor table: clearing
 * close-on-exec here touches only the child's copies.
 *
 * Return: 0 (unused: exec, or _exit())
 */
static int srv_exec_child(void *arg)
{
	struct srv_start *st = (struct srv_start *)arg;
	char *const envp[] = { NULL };

	(void)fcntl(st->sock, F_SETFD, 0);
	(void)fcntl(st->netns_fd, F_SETFD, 0);
	if (st->userns_fd >= 0)
		(void)fcntl(st->userns_fd, F_SETFD, 0);
	execve(st->path, st->argv, envp);
	st->rc = -errno;
	_exit(127);
}

/**
 * fmt_int() - Format an int into a small buffer (no stdio in the child)
 * @buf:	At least 12 bytes
 * @v:		Value, may be negative
 */
static void fmt_int(char *buf, int v)
{
	(void)snprintf(buf, 12, "%d", v);
}

/**
 * pf_ns_server_start() - Start the socket server for a namespace
 * @helper:	NUL-terminated path of the passt-helper program
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace; later pf_ns_socket() and
 *		pf_ns_bind_socket() calls with this descriptor use the server
 * @keep_caps:	Capabilities the server keeps (bit mask): at most
 *		CAP_NET_BIND_SERVICE, for low ports in the namespace
 *
 * The server is the small passt-helper program, not a copy of this process:
 * it sandboxes itself (empty root, seccomp, no new privileges) before it
 * serves, see helper.c.
 *
 * Return: 0, or -errno
 */
int32_t pf_ns_server_start(uint8_t *helper, int32_t userns_fd,
			   int32_t netns_fd, uint32_t keep_caps)
{
	static char a_sock[12], a_user[12], a_net[12], a_caps[12];
	static char *argv[] = { "passt-helper", "ns-server", a_sock, a_user,
				a_net, a_caps, NULL };
	static struct srv_start st;
	sigset_t all, old;
	int sp[2], rc;
	pid_t pid;

	if (srv_fd >= 0)
		return -EALREADY;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return -errno;

	pthread_mutex_lock(&ns_lock);
	fmt_int(a_sock, sp[1]);
	fmt_int(a_user, userns_fd);
	fmt_int(a_net, netns_fd);
	fmt_int(a_caps, (int)keep_caps);
	st.path = (const char *)helper;
	st.argv = argv;
	st.sock = sp[1];
	st.userns_fd = userns_fd;
	st.netns_fd = netns_fd;
	st.rc = 0;

	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!rc) {
		pid = clone(srv_exec_child, ns_stack + sizeof(ns_stack),
			    CLONE_VM | CLONE_VFORK | SIGCHLD, &st);
		rc = pid < 0 ? -errno : st.rc;
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (pid > 0 && rc)
			(void)waitpid(pid, NULL, 0);
	} else {
		rc = -rc;
	}
	pthread_mutex_unlock(&ns_lock);
	close(sp[1]);
	if (rc) {
		close(sp[0]);
		return rc;
	}
	srv_fd = sp[0];
	srv_netns = netns_fd;
	return 0;
}

/**
 * srv_call() - Run the socket request in ns_req through the server
 *
 * The caller holds ns_lock.
 *
 * Return: new descriptor, or -errno
 */
static int32_t srv_call(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct srv_msg m = { .op = ns_req.op == NS_BIND_SOCKET ? SRV_OP_BIND :
				   SRV_OP_SOCKET,
			     .domain = ns_req.domain,
			     .type = ns_req.type, .protocol = ns_req.protocol,
			     .backlog = ns_req.backlog, .rc = -EIO };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd = -1;
	ssize_t n;

	if (ns_req.op == NS_BIND_SOCKET) {
		if (ns_req.len > sizeof(m.sa))
			return -EINVAL;
		memcpy(m.sa, ns_req.sa, ns_req.len);
		m.len = ns_req.len;
	}
	if (send(srv_fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return -EPIPE;
	do
		n = recvmsg(srv_fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (m.rc < 0) {
		if (fd >= 0)
			close(fd);
		return m.rc;
	}
	if (fd < 0)	/* MSG_CTRUNC: no descriptor left for it here */
		return (mh.msg_flags & MSG_CTRUNC) ? -EMFILE : -EIO;
	if (ns_req.type & SOCK_NONBLOCK)
		(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}
