/*
 * timing.h - the clock, the statistics and the timed run of a command
 * that the benchmark drivers (spawn.c, scale-run.c, pam-drive.c) share.
 */
#ifndef KF_BENCH_TIMING_H
#define KF_BENCH_TIMING_H

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Microseconds on CLOCK_MONOTONIC. */
static inline double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..1) of v[0..n-1]; sorts v. */
static inline double
percentile(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(int)((n - 1) * p + 0.5)];
}

/*
 * Runs argv once as sshd runs a command (fork, exec, stdout read to EOF,
 * wait); returns its wall time in microseconds, or -1 if it failed.  Sets
 * *cpu_us to its CPU time, *rss_kib to its peak resident set size and
 * *lines to the lines it printed, each unless NULL.
 */
static inline double
run_once(char **argv, double *cpu_us, long *rss_kib, long *lines)
{
	char buf[65536];
	struct rusage ru;
	double t0, t1;
	ssize_t n, i;
	long nl = 0;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	t0 = now_us();
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR)) {
		for (i = 0; lines != NULL && i < n; i++)
			nl += buf[i] == '\n';
	}
	close(fds[0]);
	while (wait4(pid, &status, 0, &ru) == -1 && errno == EINTR)
		;
	t1 = now_us();
	if (lines != NULL)
		*lines = nl;
	if (rss_kib != NULL)
		*rss_kib = ru.ru_maxrss;
	if (cpu_us != NULL)
		*cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		    1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return t1 - t0;
}

#endif /* KF_BENCH_TIMING_H */
