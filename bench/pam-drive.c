/*
 * pam-drive - times PAM transactions the way sshd runs them after a
 * publickey login: pam_acct_mgmt, then pam_open_session, through the real
 * libpam reading service files in /etc/pam.d.
 *
 *   pam-drive loop|fork ROUNDS USER [LABEL=]SERVICE...
 *
 * Each round runs one transaction per SERVICE, in turn, so every service
 * sees the same machine.
 *   loop  one process: pam_start, then the timed pair (account, open
 *         session), then pam_close_session and pam_end untimed.  After the
 *         first round the modules are loaded: the marginal cost of a login.
 *   fork  every transaction in a fresh child process (fork, no exec),
 *         timed from pam_start to pam_end: loading the modules, and
 *         whatever they load on first use, as sshd's per-connection
 *         monitor process pays it.
 * Prints the median and 90th percentile per service (named by its LABEL
 * when given) in microseconds and each median's ratio to the first
 * service's.  Exits 1 if any phase of any
 * transaction does not return PAM_SUCCESS, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "timing.h"

#define WARMUP 3

/* The modules under test never converse; anything that asks gets an error. */
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

/*
 * One transaction.  With whole, the time from pam_start to pam_end, else
 * the account and open-session pair only.  Returns microseconds, or -1
 * when a phase fails (reported on stderr).
 */
static double
transaction(const char *service, const char *user, int whole)
{
	const struct pam_conv conv = { no_conversation, NULL };
	pam_handle_t *pamh = NULL;
	double t0, t1, tp0;
	int r;

	t0 = now_us();
	if ((r = pam_start(service, user, &conv, &pamh)) != PAM_SUCCESS) {
		fprintf(stderr, "pam-drive: %s: pam_start: %s\n", service,
		    pam_strerror(NULL, r));
		return -1;
	}
	tp0 = now_us();
	if ((r = pam_acct_mgmt(pamh, 0)) != PAM_SUCCESS) {
		fprintf(stderr, "pam-drive: %s: account: %s\n", service,
		    pam_strerror(pamh, r));
		pam_end(pamh, r);
		return -1;
	}
	if ((r = pam_open_session(pamh, 0)) != PAM_SUCCESS) {
		fprintf(stderr, "pam-drive: %s: open_session: %s\n", service,
		    pam_strerror(pamh, r));
		pam_end(pamh, r);
		return -1;
	}
	t1 = now_us();
	r = pam_close_session(pamh, 0);
	pam_end(pamh, r);
	return whole ? now_us() - t0 : t1 - tp0;
}

/* One transaction in a child process; its own measurement, or -1. */
static double
transaction_in_child(const char *service, const char *user)
{
	double t = -1;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		t = transaction(service, user, 1);
		if (write(fds[1], &t, sizeof(t)) != (ssize_t)sizeof(t))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &t, sizeof(t)) != (ssize_t)sizeof(t))
		t = -1;
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return t;
}

int
main(int argc, char **argv)
{
	const char *user;
	char *eq;
	char **services, **labels;
	double **t, t1, median0 = 0, m;
	int fork_mode, rounds, nserv, i, s;

	if (argc < 5 || (strcmp(argv[1], "loop") != 0 &&
	    strcmp(argv[1], "fork") != 0) || (rounds = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: pam-drive loop|fork ROUNDS USER "
		    "[LABEL=]SERVICE...\n");
		return 2;
	}
	fork_mode = strcmp(argv[1], "fork") == 0;
	user = argv[3];
	services = argv + 4;
	nserv = argc - 4;
	if ((t = calloc((size_t)nserv, sizeof(*t))) == NULL ||
	    (labels = calloc((size_t)nserv, sizeof(*labels))) == NULL)
		return 1;
	for (s = 0; s < nserv; s++) {
		labels[s] = services[s];
		if ((eq = strchr(services[s], '=')) != NULL) {
			services[s] = eq + 1;
			*eq = '\0';
		}
	}
	for (s = 0; s < nserv; s++)
		if ((t[s] = calloc((size_t)rounds, sizeof(**t))) == NULL)
			return 1;
	for (i = -WARMUP; i < rounds; i++) {
		for (s = 0; s < nserv; s++) {
			t1 = fork_mode ?
			    transaction_in_child(services[s], user) :
			    transaction(services[s], user, 0);
			if (t1 < 0) {
				fprintf(stderr, "pam-drive: a transaction "
				    "with %s failed\n", services[s]);
				return 1;
			}
			if (i >= 0)
				t[s][i] = t1;
		}
	}
	for (s = 0; s < nserv; s++) {
		m = percentile(t[s], rounds, 0.5);
		if (s == 0)
			median0 = m;
		printf("%-24s median %9.1f us  p90 %9.1f us  ratio %.2f\n",
		    labels[s], m, percentile(t[s], rounds, 0.9),
		    m / median0);
		free(t[s]);
	}
	free(t);
	free(labels);
	return 0;
}
