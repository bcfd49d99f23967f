/*
 * pam-drive.c - one PAM transaction as sshd runs it, for the fault matrix
 * (tests/faults/run-faults.sh): the real libpam reads the service file
 * from /etc/pam.d, loads pam_keyfleet.so, and this program reports what
 * the account phase, and then the session phase, returned.
 *
 *   pam-drive SERVICE USER [session]
 *
 * Prints one line per phase, "PHASE RESULT MILLISECONDS", where RESULT is
 * the PAM code's name (PAM_NO_MODULE_DATA, the answer of the service's
 * pam_debug.so sentinel, is printed as PAM_IGNORE: see run-faults.sh); the
 * session line follows only with "session" and an account PAM_SUCCESS, and
 * is followed by the PAM environment the session got, one "env NAME=VALUE"
 * line each.  After each phase a line "left PHASE THREADS CHILDREN
 * SOCKETS" says what the module left running in this process when the
 * call returned: threads (1 is this one), child processes (zombies too)
 * and open IPv4/IPv6 sockets; sshd's monitor forks the user's session
 * after these calls, so anything but "1 0 0" is a defect.  Exits 0 once
 * the phases ran, whatever they returned; 2 on a usage error or when the
 * transaction cannot be started.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static const char *
pam_name(int code)
{
	static char other[32];

	switch (code) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	case PAM_IGNORE:
	case PAM_NO_MODULE_DATA:
		return "PAM_IGNORE";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SESSION_ERR:
		return "PAM_SESSION_ERR";
	case PAM_SERVICE_ERR:
		return "PAM_SERVICE_ERR";
	case PAM_BUF_ERR:
		return "PAM_BUF_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_ABORT:
		return "PAM_ABORT";
	default:
		snprintf(other, sizeof(other), "PAM_CODE_%d", code);
		return other;
	}
}

/* pam_keyfleet never converses; anything that asks gets an error. */
static int
no_conversation(int n, const struct pam_message **msg,
    struct pam_response **resp, void *arg)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)arg;
	return PAM_CONV_ERR;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The value as one visible line: whatever the module set stays on it. */
static void
print_visible(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?');
}

/* Entries of a /proc directory, or the numbers listed in a /proc file. */
static int
count_proc(const char *path, int dir)
{
	struct dirent *d;
	DIR *dp;
	FILE *f;
	long v;
	int n = 0;

	if (dir) {
		if ((dp = opendir(path)) == NULL)
			return -1;
		while ((d = readdir(dp)) != NULL)
			n += d->d_name[0] != '.';
		closedir(dp);
		return n;
	}
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fscanf(f, "%ld", &v) == 1)
		n++;
	fclose(f);
	return n;
}

/* Open sockets of the Internet families (not syslog's unix socket). */
static int
count_inet_sockets(void)
{
	struct dirent *d;
	socklen_t len;
	int n = 0, fd, domain;
	DIR *dp;

	if ((dp = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		fd = atoi(d->d_name);
		len = sizeof(domain);
		if (fd != dirfd(dp) && getsockopt(fd, SOL_SOCKET, SO_DOMAIN,
		    &domain, &len) == 0 &&
		    (domain == AF_INET || domain == AF_INET6))
			n++;
	}
	closedir(dp);
	return n;
}

static void
print_left(const char *phase)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)getpid());
	printf("left %s %d %d %d\n", phase, count_proc("/proc/self/task", 1),
	    count_proc(path, 0), count_inet_sockets());
}

int
main(int argc, char **argv)
{
	const struct pam_conv conv = { no_conversation, NULL };
	pam_handle_t *pamh = NULL;
	struct timespec t0;
	char **envlist, **e;
	int r, session;

	if (argc < 3 || argc > 4 ||
	    (argc == 4 && strcmp(argv[3], "session") != 0)) {
		fprintf(stderr, "usage: pam-drive SERVICE USER [session]\n");
		return 2;
	}
	session = argc == 4;
	if ((r = pam_start(argv[1], argv[2], &conv, &pamh)) != PAM_SUCCESS) {
		fprintf(stderr, "pam-drive: pam_start: %s\n", pam_name(r));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pam_acct_mgmt(pamh, 0);
	printf("account %s %ld\n", pam_name(r), ms_since(&t0));
	print_left("account");
	if (session && r == PAM_SUCCESS) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = pam_open_session(pamh, 0);
		printf("session %s %ld\n", pam_name(r), ms_since(&t0));
		print_left("session");
		if ((envlist = pam_getenvlist(pamh)) != NULL) {
			for (e = envlist; *e != NULL; e++) {
				printf("env ");
				print_visible(*e);
				putchar('\n');
				free(*e);
			}
			free(envlist);
		}
		if (r == PAM_SUCCESS)
			(void)pam_close_session(pamh, 0);
	}
	pam_end(pamh, r);
	fflush(stdout);
	return 0;
}
