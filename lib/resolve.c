/*
 * resolve.c - name resolution that ends at the deadline, leaving nothing
 * behind.
 *
 * The C library's getaddrinfo() cannot be interrupted: with a resolver
 * that never answers it waits out resolv.conf's timeouts (5 s, twice, for
 * each nameserver by default).  libcurl's threaded resolver inherits that:
 * at the end of a timed-out transfer it joins the resolver thread, which
 * blocks until getaddrinfo() gives up, far past Timeout; told not to wait
 * (CURLOPT_QUICK_EXIT) it leaves the thread running, which inside sshd's
 * monitor means a thread behind every PAM call that returned.
 *
 * So a host name is resolved here, in a child process made for that one
 * name: the parent waits on a pipe for at most the time left, then kills
 * the child (SIGKILL) and reaps it.  When kf_resolve() returns there is no
 * thread, no child and no descriptor of it left.  The addresses go to
 * libcurl with CURLOPT_RESOLVE, so libcurl never resolves anything itself.
 *
 * The child only calls getaddrinfo(), writes to the pipe and _exit()s:
 * keyfleet-authkeys and sshd's monitor are single-threaded, so that is
 * safe.  In a multi-threaded program a lock held by another thread at the
 * fork could stall the child; the deadline then ends it like any other
 * resolver that does not answer, and the lookup fails closed in time.
 * SIGCHLD is at its default while the child lives (as pam_unix does for
 * its helper), so the program's own handler never sees our child.
 *
 * The pipe carries one message: "A" and the addresses, comma-separated, or
 * "E" and getaddrinfo()'s error code (and errno for EAI_SYSTEM).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keyfleet.h"
#include "resolve.h"
#include "util.h"

#define RESOLVE_MAX_ADDRS	16
#define RESOLVE_MSG_MAX		(2 + RESOLVE_MAX_ADDRS * (INET6_ADDRSTRLEN + 3))

/* In the child: the whole answer as one message, then _exit. */
static void
resolve_child(const char *host, int fd)
{
	char msg[RESOLVE_MSG_MAX], addr[INET6_ADDRSTRLEN];
	struct addrinfo hints, *res = NULL, *ai;
	const void *p;
	size_t len = 1;
	int e, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	msg[0] = 'A';
	if ((e = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		len = (size_t)snprintf(msg, sizeof(msg), "E%d %d", e,
		    e == EAI_SYSTEM ? errno : 0);
		goto send;
	}
	for (ai = res; ai != NULL && n < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			p = &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			p = &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(ai->ai_family, p, addr, sizeof(addr)) == NULL)
			continue;
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
		    ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
		    n > 0 ? "," : "", addr);
		n++;
	}
	if (n == 0)
		len = (size_t)snprintf(msg, sizeof(msg), "E%d 0", EAI_NONAME);
 send:
	/* Far below PIPE_BUF: one write, never blocking. */
	_exit(write(fd, msg, len) == (ssize_t)len ? 0 : 1);
}

/* Reads the child's message until EOF or the deadline. */
static int
read_answer(int fd, long deadline, char *msg, size_t max, size_t *lenp)
{
	struct pollfd pfd;
	long left;
	ssize_t n;
	int r;

	*lenp = 0;
	for (;;) {
		if ((left = deadline - kf_monotonic_ms()) <= 0)
			return KF_ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, (int)left)) == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return KF_ERR_IO;
		if (r == 0)
			return KF_ERR_TIMEOUT;
		n = read(fd, msg + *lenp, max - *lenp);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return KF_ERR_IO;
		if (n == 0)
			return 0;
		*lenp += (size_t)n;
		if (*lenp == max)
			return KF_ERR_IO;	/* longer than any answer */
	}
}

static void
reap(pid_t pid, int kill_it)
{
	if (kill_it)
		(void)kill(pid, SIGKILL);
	/* ECHILD: the program reaped it already (SIGCHLD ignored). */
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* The child's message, as the caller's result. */
static int
take_answer(const char *host, char *msg, size_t len, char **addrs,
    char *why, size_t whylen)
{
	int e = 0, err = 0;

	msg[len] = '\0';
	if (len > 1 && msg[0] == 'A') {
		if ((*addrs = strdup(msg + 1)) == NULL)
			return KF_ERR_NOMEM;
		return 0;
	}
	if (len > 1 && msg[0] == 'E' && sscanf(msg + 1, "%d %d", &e, &err) ==
	    2 && e != 0) {
		if (e == EAI_SYSTEM)
			snprintf(why, whylen, "name resolution of %s failed: %s",
			    host, strerror(err));
		else
			snprintf(why, whylen, "name resolution of %s failed: %s",
			    host, gai_strerror(e));
		return KF_ERR_FETCH;
	}
	snprintf(why, whylen, "name resolution of %s failed: the resolver "
	    "process ended without an answer", host);
	return KF_ERR_FETCH;
}

int
kf_host_needs_resolving(const char *host)
{
	struct in_addr a4;
	size_t n = strlen(host);

	if (n == 0 || host[0] == '[' || inet_pton(AF_INET, host, &a4) == 1)
		return 0;
	/* RFC 6761: localhost is loopback, without asking anyone. */
	if (kf_strcaseeq(host, "localhost") ||
	    (n > 10 && kf_strcaseeq(host + n - 10, ".localhost")))
		return 0;
	return 1;
}

int
kf_resolve(const char *host, long budget_ms, char **addrs, char *why,
    size_t whylen)
{
	char msg[RESOLVE_MSG_MAX + 1];
	struct sigaction dfl, saved;
	long start, deadline;
	size_t len = 0;
	pid_t pid;
	int fds[2], r;

	*addrs = NULL;
	why[0] = '\0';
	start = kf_monotonic_ms();
	deadline = start + (budget_ms > 0 ? budget_ms : 0);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "name resolution of %s: pipe: %s", host,
		    strerror(errno));
		return KF_ERR_IO;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	(void)sigaction(SIGCHLD, &dfl, &saved);
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "name resolution of %s: fork: %s", host,
		    strerror(errno));
		r = KF_ERR_IO;
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		resolve_child(host, fds[1]);
	}
	close(fds[1]);
	r = read_answer(fds[0], deadline, msg, RESOLVE_MSG_MAX, &len);
	close(fds[0]);
	reap(pid, r != 0);
	if (r == KF_ERR_TIMEOUT)
		snprintf(why, whylen, "name resolution of %s did not finish "
		    "within Timeout: no answer from the resolver in %.1f s",
		    host, (double)(kf_monotonic_ms() - start) / 1000.0);
	else if (r != 0)
		snprintf(why, whylen, "name resolution of %s: reading the "
		    "answer failed", host);
	else
		r = take_answer(host, msg, len, addrs, why, whylen);
 out:
	(void)sigaction(SIGCHLD, &saved, NULL);
	return r;
}
