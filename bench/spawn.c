/*
 * spawn - times how long commands take to run, start to exit, as sshd
 * runs an AuthorizedKeysCommand: fork, exec, wait, stdout to a pipe that
 * is read to the end.
 *
 *   spawn RUNS BASELINE... -- COMMAND...
 *
 * Runs the two commands alternately RUNS times each (so both see the same
 * machine), then prints the median and 90th percentile of each and the
 * ratio of the medians.  Exits 1 if any run of COMMAND fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

int
main(int argc, char **argv)
{
	char **base, **cmd;
	double *tb, *tc, mb, mc;
	int runs, i, sep;

	if (argc < 5 || (runs = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: spawn RUNS BASELINE... -- COMMAND...\n");
		return 2;
	}
	for (sep = 2; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (sep >= argc - 1 || sep == 2) {
		fprintf(stderr, "usage: spawn RUNS BASELINE... -- COMMAND...\n");
		return 2;
	}
	argv[sep] = NULL;
	base = argv + 2;
	cmd = argv + sep + 1;
	tb = calloc((size_t)runs, sizeof(*tb));
	tc = calloc((size_t)runs, sizeof(*tc));
	if (tb == NULL || tc == NULL)
		return 1;
	/* Warm the page cache and the dynamic linker's caches first. */
	for (i = 0; i < 20; i++) {
		run_once(base, NULL, NULL, NULL);
		run_once(cmd, NULL, NULL, NULL);
	}
	for (i = 0; i < runs; i++) {
		if ((tb[i] = run_once(base, NULL, NULL, NULL)) < 0 ||
		    (tc[i] = run_once(cmd, NULL, NULL, NULL)) < 0) {
			fprintf(stderr, "spawn: a run failed\n");
			return 1;
		}
	}
	mb = percentile(tb, runs, 0.5);
	mc = percentile(tc, runs, 0.5);
	printf("baseline  median %8.1f us  p90 %8.1f us  (%s)\n", mb,
	    percentile(tb, runs, 0.9), base[0]);
	printf("command   median %8.1f us  p90 %8.1f us  (%s)\n", mc,
	    percentile(tc, runs, 0.9), cmd[0]);
	printf("ratio     %.2f\n", mc / mb);
	free(tb);
	free(tc);
	return 0;
}
