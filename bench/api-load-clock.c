/*
 * api-load-clock.c - the simulated wall clock of bench/api-load, loaded
 * with LD_PRELOAD into keyfleet-authkeys and the PAM driver: while
 * KF_BENCH_NOW is set to Unix seconds, time(), gettimeofday() and
 * clock_gettime(CLOCK_REALTIME*) return that second (the sub-second part
 * stays real).  The monotonic clock, which keyfleet uses only for its
 * timeouts, is left alone.  So an hour of logins runs in minutes, and every
 * decision keyfleet takes from the clock (entry age against CacheTTL,
 * UnknownKeyRefresh, the fetch time it stores) is its own, unmodified.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static int
real_clock_gettime(clockid_t id, struct timespec *ts)
{
	static clock_gettime_fn next;

	if (next == NULL)
		next = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
	return next(id, ts);
}

/* The simulated second, or -1 when KF_BENCH_NOW is not set. */
static long long
fake_now(void)
{
	const char *s = getenv("KF_BENCH_NOW");
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	long long now;
	int r;

	r = real_clock_gettime(id, ts);
	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) &&
	    (now = fake_now()) > 0)
		ts->tv_sec = (time_t)now;
	return r;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
