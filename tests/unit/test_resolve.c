/*
 * test_resolve.c - name resolution within a deadline (lib/resolve.c):
 * which hosts need a resolver, a name the C library knows, and that a
 * deadline ends the lookup with nothing left behind: no child process,
 * no descriptor.  (Resolvers that hang, answer late or fail are played
 * by tests/api/dns.py in the fault matrix, in a network namespace.)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"
#include "resolve.h"

static int
open_fds(void)
{
	struct dirent *d;
	DIR *dp;
	int n = 0;

	assert_non_null(dp = opendir("/proc/self/fd"));
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* No child of ours is left, not even a zombie. */
static void
assert_no_child(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_literals_and_localhost_need_no_resolver(void **state)
{
	static const char *literal[] = {
		"127.0.0.1", "192.0.2.7", "[::1]", "[2001:db8::1]",
		"localhost", "LocalHost", "api.localhost", "",
	};
	static const char *names[] = {
		"api.example.com", "example", "localhost.example.com",
		"xlocalhost", "1.2.3", "127.0.0.1.example",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(literal) / sizeof(literal[0]); i++) {
		if (kf_host_needs_resolving(literal[i]))
			fail_msg("\"%s\" sent to a resolver", literal[i]);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!kf_host_needs_resolving(names[i]))
			fail_msg("\"%s\" not resolved", names[i]);
	}
}

/* /etc/hosts answers for localhost: no DNS is asked. */
static void
test_a_name_the_c_library_knows_resolves(void **state)
{
	char why[256], *addrs = NULL;
	int fds = open_fds();

	(void)state;
	assert_int_equal(kf_resolve("localhost", 5000, &addrs, why,
	    sizeof(why)), 0);
	assert_non_null(addrs);
	if (strstr(addrs, "127.0.0.1") == NULL && strstr(addrs, "[::1]") ==
	    NULL)
		fail_msg("localhost resolved to %s", addrs);
	free(addrs);
	assert_no_child();
	assert_int_equal(open_fds(), fds);
}

static void
test_a_spent_deadline_leaves_nothing_behind(void **state)
{
	char why[256], untouched[] = "untouched", *addrs = untouched;
	int fds = open_fds();

	(void)state;
	assert_int_equal(kf_resolve("localhost", 0, &addrs, why,
	    sizeof(why)), KF_ERR_TIMEOUT);
	assert_null(addrs);
	assert_non_null(strstr(why, "name resolution of localhost did not "
	    "finish within Timeout"));
	assert_no_child();
	assert_int_equal(open_fds(), fds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_and_localhost_need_no_resolver),
		cmocka_unit_test(test_a_name_the_c_library_knows_resolves),
		cmocka_unit_test(test_a_spent_deadline_leaves_nothing_behind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
