/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* ns.c - one call inside another namespace: socket, tap device, file
 *
 * The Deno process is multithreaded, so it can neither setns() into a user
 * namespace nor move all its threads into a network namespace. Instead, each
 * operation runs in a short-lived child made with clone(CLONE_VM |
 * CLONE_VFORK | CLONE_FILES): the child shares our memory and file table,
 * joins the user and network namespaces given by file descriptor, performs
 * one call (socket, bound socket, tap device, interface index, file open or
 * write), stores the result in ns_req and exits. A file descriptor it creates
 * stays in our table, bound to the namespace it was made in. CLONE_VFORK
 * suspends the calling thread until the child exits, so the child may use a
 * static stack; a mutex keeps other threads from sharing it. The child shares
 * our thread pointer too, so it runs with every signal blocked: no handler of
 * ours may ever run on it.
 *
 * Joining a namespace needs capabilities in it. Once pasta has set up, the
 * sockets it keeps opening in the namespace at run time (spliced connections,
 * -T and -U listeners) come from the namespace socket server instead, which
 * joined once (ns_server.c); netlink sockets never do, as the kernel checks
 * the capabilities of their opener. Starting a command in new namespaces is
 * spawn.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "passt_ffi.h"

#define NS_STACK_SIZE	(256 * 1024)

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
static int32_t ns_finish(void)
{
	const struct ns_req *r = &ns_req;
	int32_t rc;

	if ((r->op == NS_SOCKET || r->op == NS_BIND_SOCKET) &&
	    r->domain != AF_NETLINK && ns_server_serves(r->netns_fd))
		rc = ns_server_socket(r->domain, r->type, r->protocol,
				      r->op == NS_BIND_SOCKET ? r->sa : NULL,
				      r->len, r->backlog);
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
 * pf_ns_sockets() - Create up to @count sockets inside a namespace at once
 * @userns_fd:	User namespace to join first, or -1
 * @netns_fd:	Network namespace, or -1
 * @domain:	Address family (AF_INET or AF_INET6)
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol
 * @out:	Receives the descriptors, native-endian int32_t each
 * @count:	How many, 1 to SRV_BATCH_MAX
 *
 * One request to the namespace's socket server where it serves that
 * namespace, else one call per socket.
 *
 * Return: number of descriptors written to @out (fewer than @count if
 *	   descriptors ran out), or -errno if none
 */
int32_t pf_ns_sockets(int32_t userns_fd, int32_t netns_fd, int32_t domain,
		      int32_t type, int32_t protocol, uint8_t *out,
		      int32_t count)
{
	int32_t fds[SRV_BATCH_MAX], n, rc = -EINVAL;

	if (count < 1 || count > SRV_BATCH_MAX)
		return -EINVAL;
	pthread_mutex_lock(&ns_lock);
	if (domain != AF_NETLINK && ns_server_serves(netns_fd)) {
		n = ns_server_sockets(domain, type, protocol, fds, count);
		pthread_mutex_unlock(&ns_lock);
	} else {
		pthread_mutex_unlock(&ns_lock);
		for (n = 0; n < count; n++) {
			rc = pf_ns_socket(userns_fd, netns_fd, domain, type,
					  protocol);
			if (rc < 0)
				break;
			fds[n] = rc;
		}
		if (!n)
			n = rc;
	}
	if (n > 0)
		memcpy(out, fds, sizeof(int32_t) * (size_t)n);
	return n;
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
