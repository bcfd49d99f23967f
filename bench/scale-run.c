/*
 * scale-run - times a command as sshd runs an AuthorizedKeysCommand (fork,
 * exec, stdout to a pipe read to the end, wait) and measures its peak
 * memory, for bench/scale.
 *
 *   scale-run [-p PREPARE] RUNS COMMAND...
 *
 * Runs COMMAND WARMUP (3) times untimed, then RUNS times.  PREPARE, a
 * /bin/sh command, runs before every run of COMMAND, untimed (bench/scale
 * empties the cache with it).  Prints one line:
 *
 *   MEDIAN_US P90_US CPU_MEDIAN_US PEAK_RSS_KIB LINES
 *
 * the median and 90th percentile wall time, the median CPU time (user +
 * system, of the child alone: what it cost, however busy the machine), the
 * largest maximum resident set size of any run (both from the rusage that
 * wait4() reports), and how many lines the last run printed.  Exits 1 if PREPARE or any run of
 * COMMAND fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

#define WARMUP 3

int
main(int argc, char **argv)
{
	const char *prepare = NULL;
	double *t, *cpu;
	long rss, peak = 0, lines = 0;
	int runs, i, a = 1;

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		prepare = argv[2];
		a = 3;
	}
	if (argc - a < 2 || (runs = atoi(argv[a])) < 1) {
		fprintf(stderr, "usage: scale-run [-p PREPARE] RUNS COMMAND...\n");
		return 2;
	}
	argv += a + 1;
	t = calloc((size_t)runs, sizeof(*t));
	cpu = calloc((size_t)runs, sizeof(*cpu));
	if (t == NULL || cpu == NULL)
		return 1;
	for (i = -WARMUP; i < runs; i++) {
		if (prepare != NULL && system(prepare) != 0) {
			fprintf(stderr, "scale-run: %s failed\n", prepare);
			return 1;
		}
		if ((t[i < 0 ? 0 : i] = run_once(argv, &cpu[i < 0 ? 0 : i],
		    &rss, &lines)) < 0) {
			fprintf(stderr, "scale-run: a run of %s failed\n", argv[0]);
			return 1;
		}
		if (rss > peak)
			peak = rss;
	}
	printf("%.1f %.1f %.1f %ld %ld\n", percentile(t, runs, 0.5),
	    percentile(t, runs, 0.9), percentile(cpu, runs, 0.5), peak, lines);
	free(t);
	free(cpu);
	return 0;
}
