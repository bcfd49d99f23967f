/*
 * timing.h - the clock and the statistics that the benchmark drivers
 * (spawn.c, scale-run.c, pam-drive.c) share.
 */
#ifndef KF_BENCH_TIMING_H
#define KF_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

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

#endif /* KF_BENCH_TIMING_H */
