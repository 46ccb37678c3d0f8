/* SPDX-FileCopyrightText: 2026 passt-deno developers */
/* SPDX-License-Identifier: GPL-2.0-or-later */

/* helper.c - passt-helper: the single-threaded parts the runtime can't be
 *
 * A multithreaded process can't create or join a user namespace, and a copy
 * of it (fork) holds the whole runtime. Small jobs therefore run as this
 * separate program:
 *
 * passt-helper sandbox USERNS_FD UID GID FLAGS CAPS PROGRAM [ARG]...
 *	Enter the sandbox like the daemon's spawning child does (IDs, user
 *	namespace, mount, IPC, UTS and maybe PID namespaces, set-up
 *	capabilities as ambient ones; see sandbox_enter()), then exec PROGRAM.
 *	A run in the foreground execs us in place, so it keeps its PID, its
 *	terminal and its parent, and the runtime then starts inside. For the
 *	launcher's single start (PASST_SANDBOXED=early:...), a user namespace
 *	that can't be made execs PROGRAM as it is: the long way.
 *
 * passt-helper daemon USERNS_PATH NETNS_PATH FLAGS CAPS PID_FILE PROGRAM [ARG]...
 *	The launcher's start of a daemon whose sandbox it could tell from the
 *	options (pasta with a --netns, --userns or PID target, passt): this
 *	program is then the daemon's parent, as the runtime's first start is
 *	otherwise (main.ts, background()). It checks that pasta's target
 *	network namespace NETNS_PATH opens and opens the PID file (each if not
 *	""), starts PROGRAM in the sandbox (user namespace USERNS_PATH joined
 *	if not "", the namespaces in FLAGS, capabilities CAPS) with a
 *	readiness pipe in PASST_DAEMON_FD, waits for the report, and writes the
 *	daemon's PID, or prints the error and exits 1. Whatever fails before
 *	the daemon runs makes it exec PROGRAM as it is instead: the runtime
 *	then reads the options first and says what is wrong in its own words.
 *
 * passt-helper ns-server SOCK_FD USERNS_FD NETNS_FD CAPS HOLD_FD
 *	The namespace socket server (why, and its protocol: ns_server.c,
 *	which starts it and sends the requests): keep HOLD_FD (pasta's tap
 *	device, or -1) open and untouched until it exits, join the
 *	namespaces, then, before serving anything, its own sandbox: a new mount
 *	namespace whose root is an empty read-only tmpfs, only the capabilities
 *	CAPS (CAP_NET_BIND_SERVICE at most), no new privileges, and a seccomp
 *	filter that allows the few system calls of the loop below, socket()
 *	only for TCP and UDP over IPv4 and IPv6. Requests are checked the same
 *	way before the filter sees them. It serves until the other end of
 *	SOCK_FD is closed: by its parent's exit at the latest, however it
 *	ends, and only once the parent's descriptors are all closed (no
 *	PR_SET_PDEATHSIG, which fires when the parent's first thread exits,
 *	while its descriptors may still be open: HOLD_FD must close last).
 *
 * passt-helper spawn FD FLAGS HOSTNAME -- COMMAND [ARG]...
 *	pasta's command in its new namespaces FLAGS (spawn.c execs this from a
 *	vfork()-like child): a /proc and the hostname of its own
 *	(spawn_prepare()), wait for one byte on FD, then prepare and exec
 *	COMMAND (spawn_main()). The command's exec then replaces this small
 *	program rather than a copy of the runtime.
 *
 * Any failure is exit status 1 (the server has no terminal to print to),
 * 127 for a command that can't be run.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "passt_ffi.h"

#if defined(__x86_64__)
#define HELPER_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HELPER_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#else
#error "Unsupported architecture for the seccomp filter"
#endif

/**
 * num() - Parse a decimal argument, possibly negative
 * @s:		Text
 * @out:	Value
 *
 * Return: 0, or -1 if @s isn't a number
 */
static int num(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return (errno || !*s || *end) ? -1 : 0;
}

/**
 * sandbox_main() - passt-helper sandbox ...: enter the sandbox, exec
 * @argc:	Argument count, from "sandbox" on
 * @argv:	Arguments
 *
 * Return: 1 on failure (only returns on failure)
 */
static int sandbox_main(int argc, char **argv)
{
	struct iso_req r = { 0 };
	const char *step = "arguments", *mark;
	long v[5];
	int i, rc = -EINVAL;

	if (argc < 7)
		goto fail;
	for (i = 0; i < 5; i++) {
		if (num(argv[i + 1], &v[i]))
			goto fail;
	}
	r.userns_fd = (int)v[0];
	r.uid = (int)v[1];
	r.gid = (int)v[2];
	r.flags = (uint32_t)v[3];
	r.keep_caps = (uint32_t)v[4];
	r.keep_fd = -1;
	r.keep_bounding = 1;

	rc = sandbox_enter(&r, &step);
	/* The launcher's single start, where no user namespace can be made
	 * (nothing changed yet): the runtime reads the options first, then
	 * says why in its own words, as it would have without the launcher
	 */
	mark = getenv("PASST_SANDBOXED");
	if (rc && !strcmp(step, "unshare(CLONE_NEWUSER)") && mark &&
	    !strncmp(mark, "early:", 6)) {
		(void)unsetenv("PASST_SANDBOXED");
		execvp(argv[6], argv + 6);
	}
	if (rc)
		goto fail;
	if (r.userns_fd >= 0)
		close(r.userns_fd);
	execvp(argv[6], argv + 6);
	rc = -errno;
	step = "exec";
fail:
	fprintf(stderr, "Couldn't enter sandbox (%s): %s\n", step,
		strerror(-rc));
	return 1;
}

/**
 * daemon_fallback() - Exec the program as it is, out of the launcher's way
 * @argv:	Program and arguments
 *
 * Return: 1 (only returns if the exec fails)
 */
static int daemon_fallback(char **argv)
{
	(void)unsetenv("PASST_SANDBOXED");
	(void)unsetenv("PASST_DAEMON_FD");
	execvp(argv[0], argv);
	fprintf(stderr, "Couldn't start %s: %s\n", argv[0], strerror(errno));
	return 1;
}

/**
 * daemon_main() - passt-helper daemon ...: start the daemon, wait for it
 * @argc:	Argument count, from "daemon" on
 * @argv:	Arguments
 *
 * Return: exit status: 0 once the daemon is ready, 1 if it isn't
 */
static int daemon_main(int argc, char **argv)
{
	int userns = -1, netns = -1, pid_fd = -1, pipe_fd[2];
	char msg[4096], num_buf[16];
	size_t got = 0;
	long flags, caps;
	int32_t pid;

	if (argc < 7 || num(argv[3], &flags) || num(argv[4], &caps)) {
		fprintf(stderr, "Usage: passt-helper daemon USERNS NETNS FLAGS CAPS "
			"PID_FILE PROGRAM [ARG]...\n");
		return 1;
	}
	if (*argv[1] && (userns = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0)
		return daemon_fallback(argv + 6);
	/* The target is checked before the PID file is made, as upstream */
	if (*argv[2] && (netns = open(argv[2], O_RDONLY | O_CLOEXEC)) < 0)
		return daemon_fallback(argv + 6);
	if (netns >= 0)
		close(netns);
	if (*argv[5] && (pid_fd = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC |
				       O_CLOEXEC, 0644)) < 0)
		return daemon_fallback(argv + 6);
	if (pipe2(pipe_fd, O_CLOEXEC))
		return daemon_fallback(argv + 6);
	(void)snprintf(num_buf, sizeof(num_buf), "%d", pipe_fd[1]);
	if (setenv("PASST_DAEMON_FD", num_buf, 1))
		return daemon_fallback(argv + 6);

	pid = spawn_isolated(argv + 6, pipe_fd[1], userns, -1, -1,
			     (uint32_t)flags, (uint32_t)caps);
	close(pipe_fd[1]);
	if (pid < 0) {
		close(pipe_fd[0]);
		return daemon_fallback(argv + 6);
	}

	while (got < sizeof(msg) - 1) {
		ssize_t n = read(pipe_fd[0], msg + got, sizeof(msg) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	msg[got] = '\0';
	if (got == 1 && msg[0] == '\0') {
		int len = snprintf(num_buf, sizeof(num_buf), "%d\n", pid);

		if (pid_fd >= 0 && write(pid_fd, num_buf, (size_t)len) != len)
			fprintf(stderr, "Couldn't write PID file %s: %s\n",
				argv[5], strerror(errno));
		return 0;
	}
	if (got)
		fprintf(stderr, "%s\n", msg);
	else
		fprintf(stderr, "Daemon exited during set-up\n");
	return 1;
}

/**
 * close_all_but() - Close every descriptor but the given ones
 * @keep:	Descriptors to keep, in any order, -1 for none (sorted here)
 * @n:		How many
 */
static void close_all_but(int *keep, int n)
{
	unsigned int from = 0;
	int i, j;

	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	}
	for (i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if ((unsigned int)keep[i] > from)
			(void)syscall(SYS_close_range, from, keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	(void)syscall(SYS_close_range, from, ~0U, 0);
}

/**
 * caps_keep() - Keep only some capabilities, effective and permitted
 * @mask:	Capabilities 0..31 to keep; none inheritable (the bounding set
 *		is empty by now, which forbids raising inheritable ones)
 *
 * Return: 0, or -errno
 */
static int caps_keep(uint32_t mask)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = mask;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* Jump offsets below are counted from the instruction after the jump */
#define ALLOW_NR(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

#define SOCK_TYPE_FLAGS	(SOCK_NONBLOCK | SOCK_CLOEXEC)

/**
 * srv_seccomp() - The server's filter: its loop's system calls, TCP and UDP
 *
 * Return: 0, or -errno
 */
static int srv_seccomp(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HELPER_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		ALLOW_NR(SYS_recvfrom),
		ALLOW_NR(SYS_sendmsg),
		ALLOW_NR(SYS_bind),
		ALLOW_NR(SYS_listen),
		ALLOW_NR(SYS_setsockopt),
		ALLOW_NR(SYS_close),
		ALLOW_NR(SYS_exit_group),
		ALLOW_NR(SYS_exit),
		ALLOW_NR(SYS_rt_sigreturn),
		ALLOW_NR(SYS_restart_syscall),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		/* socket(domain, type, protocol): low 32 bits of each */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 8),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[1])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~(uint32_t)SOCK_TYPE_FLAGS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_DGRAM, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(f) / sizeof(f[0])),
		.filter = f,
	};

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

/**
 * srv_allowed() - Whether a request is for a socket the data path uses
 * @m:		Request
 *
 * Return: 0, or -errno for the reply
 */
static int32_t srv_allowed(const struct srv_msg *m)
{
	int type = m->type & ~SOCK_TYPE_FLAGS;

	if (m->domain != AF_INET && m->domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return -EPROTOTYPE;
	if (m->protocol != 0 && m->protocol != IPPROTO_TCP &&
	    m->protocol != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (m->op != SRV_OP_SOCKET && m->op != SRV_OP_BIND &&
	    m->op != SRV_OP_SOCKETS)
		return -EINVAL;
	if (m->op == SRV_OP_SOCKETS &&
	    (m->backlog < 1 || m->backlog > SRV_BATCH_MAX))
		return -EINVAL;
	if (m->len > sizeof(m->sa))
		return -EINVAL;
	return 0;
}

/**
 * srv_open() - Create the socket a request asks for
 * @m:		Request
 *
 * Return: descriptor, or -errno
 */
static int32_t srv_open(const struct srv_msg *m)
{
	int one = 1, fd;

	fd = socket(m->domain, m->type, m->protocol);
	if (fd < 0)
		return -errno;
	if (m->op == SRV_OP_BIND &&
	    (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	     bind(fd, (const struct sockaddr *)(const void *)m->sa, m->len) ||
	     (m->backlog >= 0 && listen(fd, m->backlog)))) {
		int32_t rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/**
 * srv_reply() - Send a reply, with @n descriptors
 * @sock:	Our end of the pair
 * @m:		Message, @m->rc set
 * @fds:	Descriptors to pass
 * @n:		How many, 0 to SRV_BATCH_MAX
 */
static void srv_reply(int sock, struct srv_msg *m, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SRV_BATCH_MAX)];
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n > 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	(void)sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/**
 * srv_serve() - Answer one checked request
 * @sock:	Our end of the pair
 * @m:		Request, becomes the reply
 */
static void srv_serve(int sock, struct srv_msg *m)
{
	int fds[SRV_BATCH_MAX], n = 0, i;
	int32_t rc = srv_allowed(m);

	if (!rc && m->op == SRV_OP_SOCKETS) {
		/* As many as the kernel gives, up to the count asked for */
		for (n = 0; n < m->backlog; n++) {
			fds[n] = socket(m->domain, m->type, m->protocol);
			if (fds[n] < 0) {
				rc = -errno;
				break;
			}
		}
		m->rc = n ? n : rc;
	} else if (!rc) {
		rc = srv_open(m);
		if (rc >= 0)
			fds[n++] = rc;
		m->rc = rc < 0 ? rc : 0;
	} else {
		m->rc = rc;
	}
	srv_reply(sock, m, fds, n);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/**
 * ns_server_main() - passt-helper ns-server ...: sandbox, then serve
 * @argc:	Argument count, from "ns-server" on
 * @argv:	Arguments
 *
 * Return: exit status (0 when the parent closed its end)
 */
static int ns_server_main(int argc, char **argv)
{
	int keep[4], sock, userns, netns, c;
	struct srv_msg m;
	long v[5];

	if (argc != 6)
		return 1;
	for (c = 0; c < 5; c++) {
		if (num(argv[c + 1], &v[c]))
			return 1;
	}
	sock = (int)v[0];
	userns = (int)v[1];
	netns = (int)v[2];

	keep[0] = sock;
	keep[1] = userns;
	keep[2] = netns;
	keep[3] = (int)v[4];
	close_all_but(keep, 4);

	if (userns >= 0 && setns(userns, CLONE_NEWUSER) && errno != EINVAL)
		return 1;
	if (setns(netns, CLONE_NEWNET))
		return 1;
	if (userns >= 0)
		close(userns);
	close(netns);

	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) ||
	    pivot_empty_root())
		return 1;
	for (c = 0; c <= 63; c++)
		(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (caps_keep((uint32_t)v[3] & (1U << CAP_NET_BIND_SERVICE)))
		return 1;
	if (srv_seccomp())
		return 1;

	for (;;) {
		ssize_t n = recv(sock, &m, sizeof(m), 0);

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (n != (ssize_t)sizeof(m)) {
			m.rc = -EINVAL;
			srv_reply(sock, &m, NULL, 0);
			continue;
		}
		srv_serve(sock, &m);
	}
}

/**
 * ping_group_zero() - Let group 0 of our user namespace open ping sockets
 *
 * Return: 0 on success, -1 if ping_group_range couldn't be written (not
 *	   fatal: ping sockets just won't work unprivileged)
 */
static int ping_group_zero(void)
{
	static const char grp[] = "0 0";
	ssize_t n = -1;
	int g;

	g = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (g >= 0) {
		n = write(g, grp, sizeof(grp) - 1);
		close(g);
	}
	return n == (ssize_t)sizeof(grp) - 1 ? 0 : -1;
}

/**
 * spawn_main() - passt-helper spawn FD FLAGS HOSTNAME -- COMMAND...: the command
 * @argc:	Argument count, from "spawn" on
 * @argv:	Arguments: the start pipe's read end, the namespaces it was made
 *		with, the hostname ("" for "pasta-" and ours), "--", the command
 *		(an argv[0] of "-name" runs "name" as a login shell)
 *
 * What pf_spawn_ns() (spawn.c) starts in the new namespaces, with every
 * signal blocked and PR_SET_PDEATHSIG set: lets gid 0 open ping sockets,
 * waits for one byte on FD (end of file: exit 1), then drops the ambient
 * capabilities, restores default handling of SIGPIPE and SIGCHLD (which the
 * runtime ignores) and of every signal, and execs the command.
 *
 * Return: 1 if never released, 127 if the command can't be run
 */
static int spawn_main(int argc, char **argv)
{
	sigset_t none;
	const char *file;
	long fd, flags;
	int pinged;
	char b;

	if (argc < 6 || num(argv[1], &fd) || num(argv[2], &flags) ||
	    strcmp(argv[4], "--") != 0)
		return 1;
	spawn_prepare(argv[3], (uint32_t)flags);

	/* Before the wait, as upstream, if group 0 is mapped already (pasta's
	 * own user namespace); else once released
	 */
	pinged = !ping_group_zero();
	while (read((int)fd, &b, 1) != 1) {
		if (errno != EINTR)
			return 1;
	}
	close((int)fd);
	(void)prctl(PR_SET_PDEATHSIG, 0);
	if (!pinged)
		(void)ping_group_zero();
	/* Root in our user namespace, the command gets all of that
	 * namespace's capabilities on exec anyway, as upstream's does
	 */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	file = argv[5];
	if (file[0] == '-')
		file++;
	execvp(file, argv + 5);
	fprintf(stderr, "Failed to start command: %s\n", strerror(errno));
	return 127;
}

/**
 * main() - Select the job by the first argument
 * @argc:	Argument count
 * @argv:	Arguments
 *
 * Return: exit status
 */
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sandbox"))
		return sandbox_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "daemon"))
		return daemon_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "ns-server"))
		return ns_server_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "spawn"))
		return spawn_main(argc - 1, argv + 1);
	fprintf(stderr, "Usage: %s sandbox|daemon|ns-server|spawn ARGUMENTS\n",
		argv[0]);
	return 1;
}
