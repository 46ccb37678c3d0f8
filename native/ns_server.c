/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* ns_server.c - the namespace socket server, our side
 *
 * Why: pasta keeps opening sockets inside the namespace while it runs (the
 * namespace half of spliced connections and their socket pools, listeners
 * for -T and -U). Each of ns.c's per-call helpers joins the namespace for
 * that, which needs CAP_SYS_ADMIN in its user namespace; upstream, a single
 * thread, switches namespaces itself. Here the sandbox drops every capability
 * once set-up is over (isolation.c), and something else joins the namespace
 * once, on our behalf, and keeps serving: the socket server.
 *
 * What it is: the small passt-helper program (helper.c, "ns-server"), not a
 * copy of this multithreaded process. pf_ns_server_start() creates a
 * SOCK_SEQPACKET socketpair and execs passt-helper from a vfork()-like
 * child, handing it one end of the pair and the namespace descriptors. The
 * server then, before serving anything: closes every other descriptor,
 * joins the user and network namespaces and closes their descriptors,
 * pivots into an empty read-only root in mount, IPC and UTS namespaces of
 * its own, keeps no capability but, at most, CAP_NET_BIND_SERVICE (for low
 * ports in the namespace), sets no_new_privs
 * and a seccomp filter allowing the few system calls of its loop, socket()
 * only for TCP and UDP over IPv4 and IPv6.
 *
 * The protocol: one struct srv_msg (passt_ffi.h) per request, the same struct
 * back as the reply: SRV_OP_SOCKET (socket()) or SRV_OP_BIND (socket(),
 * SO_REUSEADDR, bind(), listen() unless the backlog is negative). The reply's
 * rc is 0 with the new descriptor attached (SCM_RIGHTS), or -errno.
 * SRV_OP_SOCKETS asks for up to SRV_BATCH_MAX plain sockets at once (the
 * spliced connections' pools: one round trip instead of one per socket);
 * its rc is the number attached, or -errno if none could be made. The server
 * checks every request itself before the filter would: another family, type
 * or protocol is answered with an error, never a crash. Requests are
 * synchronous, one at a time (ns.c's lock serialises them).
 *
 * Once started, ns.c routes socket requests for that network namespace here
 * (ns_server_serves(), ns_server_socket()); netlink sockets never come from
 * the server, as the kernel checks the capabilities of their opener, and
 * nothing else does (tap device, files: set-up only). When we exit, the
 * server reads end of file and exits too; if it dies, requests fail with
 * -EPIPE.
 *
 * It also holds a descriptor of pasta's tap device, which it never uses: the
 * kernel waits for an RCU grace period when the last descriptor of a tap
 * queue closes (tun_detach(), synchronize_net()), 10 to 20 ms here. The
 * server reads end of file only once our exit has closed all our
 * descriptors, the tap device's among them, so that last close happens in
 * the server's exit, after ours, instead of delaying the moment our parent
 * sees us exit (docs/performance.md). This is also why the server doesn't
 * die by PR_SET_PDEATHSIG: that fires as soon as our first thread exits.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "passt_ffi.h"

/* Stack of the child that only clears close-on-exec flags and execs */
#define SRV_STACK_SIZE	(64 * 1024)

static char srv_stack[SRV_STACK_SIZE] __attribute__((aligned(64)));
static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static int srv_fd = -1;
static int srv_netns = -1;

/**
 * struct srv_start - What the server's exec child needs, and its result
 * @path:	passt-helper program
 * @argv:	Its arguments
 * @sock:	Server end of the pair
 * @userns_fd:	User namespace to join, or -1
 * @netns_fd:	Network namespace to join
 * @hold_fd:	Descriptor the server keeps open until it exits, or -1
 * @rc:		Result: -errno if exec failed
 */
struct srv_start {
	const char *path;
	char *const *argv;
	int sock;
	int userns_fd;
	int netns_fd;
	int hold_fd;
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
	if (st->hold_fd >= 0)
		(void)fcntl(st->hold_fd, F_SETFD, 0);
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
 * @hold_fd:	Descriptor the server keeps open until it exits (the tap
 *		device), or -1
 *
 * The server is the small passt-helper program, not a copy of this process:
 * it sandboxes itself (empty root, seccomp, no new privileges) before it
 * serves, see helper.c.
 *
 * Return: 0, or -errno
 */
int32_t pf_ns_server_start(uint8_t *helper, int32_t userns_fd,
			   int32_t netns_fd, uint32_t keep_caps,
			   int32_t hold_fd)
{
	static char a_sock[12], a_user[12], a_net[12], a_caps[12], a_hold[12];
	static char *argv[] = { "passt-helper", "ns-server", a_sock, a_user,
				a_net, a_caps, a_hold, NULL };
	static struct srv_start st;
	sigset_t all, old;
	int sp[2], rc;
	pid_t pid;

	if (srv_fd >= 0)
		return -EALREADY;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return -errno;

	pthread_mutex_lock(&srv_lock);
	fmt_int(a_sock, sp[1]);
	fmt_int(a_user, userns_fd);
	fmt_int(a_net, netns_fd);
	fmt_int(a_caps, (int)keep_caps);
	fmt_int(a_hold, hold_fd);
	st.path = (const char *)helper;
	st.argv = argv;
	st.sock = sp[1];
	st.userns_fd = userns_fd;
	st.netns_fd = netns_fd;
	st.hold_fd = hold_fd;
	st.rc = 0;

	sigfillset(&all);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!rc) {
		pid = clone(srv_exec_child, srv_stack + sizeof(srv_stack),
			    CLONE_VM | CLONE_VFORK | SIGCHLD, &st);
		rc = pid < 0 ? -errno : st.rc;
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (pid > 0 && rc)
			(void)waitpid(pid, NULL, 0);
	} else {
		rc = -rc;
	}
	pthread_mutex_unlock(&srv_lock);
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
 * ns_server_serves() - Whether the socket server serves a network namespace
 * @netns_fd:	Network namespace descriptor of a request
 *
 * Return: 1 if socket requests for @netns_fd go to the server, 0 otherwise
 */
int ns_server_serves(int netns_fd)
{
	return srv_fd >= 0 && netns_fd == srv_netns;
}

/**
 * srv_call() - Send a request, then receive the reply and its descriptors
 * @m:		Request, replaced by the reply
 * @out:	Receives the descriptors (close-on-exec)
 * @max:	Room in @out, 1 to SRV_BATCH_MAX
 * @trunc:	Set if we had no room for them (MSG_CTRUNC: out of descriptors)
 *
 * The caller holds ns.c's lock: one request at a time.
 *
 * Return: number of descriptors received, or -EPIPE if the server is gone
 */
static int32_t srv_call(struct srv_msg *m, int32_t *out, int32_t max,
			int *trunc)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SRV_BATCH_MAX)] = { 0 };
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * max) };
	struct cmsghdr *cm;
	int32_t n = 0;
	ssize_t len;

	if (send(srv_fd, m, sizeof(*m), MSG_NOSIGNAL) != (ssize_t)sizeof(*m))
		return -EPIPE;
	do
		len = recvmsg(srv_fd, &mh, MSG_CMSG_CLOEXEC);
	while (len < 0 && errno == EINTR);
	if (len != (ssize_t)sizeof(*m))
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len >= CMSG_LEN(0)) {
		n = (int32_t)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (n > max)	/* never from our server: don't trust it */
			n = max;
		memcpy(out, CMSG_DATA(cm), sizeof(int) * (size_t)n);
	}
	*trunc = !!(mh.msg_flags & MSG_CTRUNC);
	return n;
}

/**
 * srv_result() - What a request's caller gets: @n descriptors, or the error
 * @m:		Reply
 * @fds:	Descriptors received
 * @n:		How many, from srv_call()
 * @trunc:	From srv_call()
 * @type:	Socket type asked for: SOCK_NONBLOCK is applied here
 *
 * Return: @n, or -errno (the descriptors closed) if the reply is an error or
 *	   holds none
 */
static int32_t srv_result(const struct srv_msg *m, const int32_t *fds,
			  int32_t n, int trunc, int type)
{
	int32_t i;

	if (n < 0)
		return n;
	if (m->rc < 0 || !n) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		if (m->rc < 0)
			return m->rc;
		return trunc ? -EMFILE : -EIO;
	}
	for (i = 0; i < n && (type & SOCK_NONBLOCK); i++)
		(void)fcntl(fds[i], F_SETFL, O_NONBLOCK);
	return n;
}

/**
 * ns_server_socket() - Have the server create a (bound) socket
 * @domain:	Address family: AF_INET or AF_INET6
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol
 * @sa:		Address to bind, or NULL for a plain socket()
 * @salen:	Length of @sa
 * @backlog:	listen() backlog, or negative not to listen
 *
 * The caller holds ns.c's lock: one request at a time.
 *
 * Return: new descriptor (close-on-exec), or -errno
 */
int32_t ns_server_socket(int domain, int type, int protocol,
			 const uint8_t *sa, uint32_t salen, int backlog)
{
	struct srv_msg m = { .op = sa ? SRV_OP_BIND : SRV_OP_SOCKET,
			     .domain = domain, .type = type,
			     .protocol = protocol, .backlog = backlog,
			     .rc = -EIO };
	int32_t fd = -1, n;
	int trunc = 0;

	if (sa) {
		if (salen > sizeof(m.sa))
			return -EINVAL;
		memcpy(m.sa, sa, salen);
		m.len = salen;
	}
	n = srv_result(&m, &fd, srv_call(&m, &fd, 1, &trunc), trunc, type);
	return n < 0 ? n : fd;
}

/**
 * ns_server_sockets() - Have the server create up to @count plain sockets
 * @domain:	Address family: AF_INET or AF_INET6
 * @type:	Socket type, may include SOCK_NONBLOCK and SOCK_CLOEXEC
 * @protocol:	Protocol
 * @out:	Receives the descriptors (close-on-exec)
 * @count:	How many, 1 to SRV_BATCH_MAX
 *
 * The caller holds ns.c's lock: one request at a time.
 *
 * Return: number of descriptors in @out (fewer than @count if the server or
 *	   we ran out), or -errno if none
 */
int32_t ns_server_sockets(int domain, int type, int protocol, int32_t *out,
			  int32_t count)
{
	struct srv_msg m = { .op = SRV_OP_SOCKETS, .domain = domain,
			     .type = type, .protocol = protocol,
			     .backlog = count, .rc = -EIO };
	int trunc = 0;

	if (count < 1 || count > SRV_BATCH_MAX)
		return -EINVAL;
	return srv_result(&m, out, srv_call(&m, out, count, &trunc), trunc,
			  type);
}
