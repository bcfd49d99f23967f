/*
 * test_nss.c - libnss_keyfleet.so.2 as glibc calls it: the test build of
 * the module (tests/nss/libnss_keyfleet.so.2, serving
 * /run/keyfleet-nss-test/directory) loaded with dlopen(), its
 * _nss_keyfleet_* functions called with the NSS buffer protocol.
 *
 * Needs root, as the file it serves must be root-owned: exits 77 (skip)
 * otherwise, a failure under KF_REQUIRE_E2E=1.
 *
 *   test_nss             the tests
 *   test_nss --install   only writes the sample file (alice, bob, carol;
 *                        infra), for run-nss-tests.sh
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "dirfile.h"

#define TEST_DIR	"/run/keyfleet-nss-test"
#define TEST_FILE	TEST_DIR "/directory"

typedef enum nss_status pwnam_fn(const char *, struct passwd *, char *,
    size_t, int *);
typedef enum nss_status pwuid_fn(uid_t, struct passwd *, char *, size_t,
    int *);
typedef enum nss_status pwent_fn(struct passwd *, char *, size_t, int *);
typedef enum nss_status grgid_fn(gid_t, struct group *, char *, size_t,
    int *);
typedef enum nss_status grnam_fn(const char *, struct group *, char *,
    size_t, int *);
typedef enum nss_status set_fn(int);
typedef enum nss_status initgroups_fn(const char *, gid_t, long *, long *,
    gid_t **, long, int *);

static struct {
	pwnam_fn	*getpwnam_r;
	pwuid_fn	*getpwuid_r;
	set_fn		*setpwent;
	pwent_fn	*getpwent_r;
	grgid_fn	*getgrgid_r;
	grnam_fn	*getgrnam_r;
	initgroups_fn	*initgroups_dyn;
} m;

static const uint32_t alice_groups[] = { 200500, 27 };
static const char *const infra_members[] = { "alice", "bob" };

static void
install(size_t nusers)
{
	static const struct kf_dir_user_in base[] = {
		{ "alice", "Alice Liddell", "/home/alice", "/bin/bash",
		    200101, 200101, alice_groups, 2 },
		{ "bob", "", "/home/bob", "/bin/sh", 200102, 200500, NULL, 0 },
		{ "carol", "Carol", "/home/carol", "/bin/sh", 200103, 200103,
		    NULL, 0 },
	};
	static const struct kf_dir_group_in groups[] = {
		{ "infra", 200500, infra_members, 2 },
	};
	struct kf_dir_in in = { 1, base, nusers, groups, 1 };

	assert_int_equal(kf_dir_write(TEST_FILE, &in), 0);
}

static int
setup(void **state)
{
	void *h;
	char *path;

	(void)state;
	mkdir(TEST_DIR, 0755);
	path = tu_printf("%s/tests/nss/.libs/libnss_keyfleet.so.2",
	    getenv("KF_TOP_BUILDDIR") != NULL ? getenv("KF_TOP_BUILDDIR") :
	    ".");
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		TU_FATAL("dlopen %s: %s", path, dlerror());
	free(path);
#define SYM(f) if ((*(void **)&m.f = dlsym(h, "_nss_keyfleet_" #f)) == NULL) \
	TU_FATAL("no _nss_keyfleet_%s", #f)
	SYM(getpwnam_r);
	SYM(getpwuid_r);
	SYM(setpwent);
	SYM(getpwent_r);
	SYM(getgrgid_r);
	SYM(getgrnam_r);
	SYM(initgroups_dyn);
#undef SYM
	if (dlsym(h, "kf_dir_open") != NULL)
		TU_FATAL("the module exports more than _nss_keyfleet_*");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(TEST_FILE);
	rmdir(TEST_DIR);
	return 0;
}

static void
test_users_and_groups_are_served(void **state)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int e;

	(void)state;
	install(3);
	assert_int_equal(m.getpwnam_r("alice", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_int_equal(pw.pw_uid, 200101);
	assert_string_equal(pw.pw_passwd, "*");
	assert_string_equal(pw.pw_gecos, "Alice Liddell");
	assert_string_equal(pw.pw_dir, "/home/alice");
	assert_string_equal(pw.pw_shell, "/bin/bash");
	assert_int_equal(m.getpwuid_r(200102, &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, "bob");
	assert_int_equal(m.getpwnam_r("mallory", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(m.getgrgid_r(200500, &gr, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_name, "infra");
	assert_string_equal(gr.gr_mem[0], "alice");
	assert_string_equal(gr.gr_mem[1], "bob");
	assert_null(gr.gr_mem[2]);
	assert_int_equal(m.getgrnam_r("infra", &gr, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_int_equal(gr.gr_gid, 200500);
}

static void
test_a_small_buffer_is_erange_and_enumeration_resumes(void **state)
{
	struct passwd pw;
	struct group gr;
	char buf[1024];
	size_t len;
	int e, n = 0;

	(void)state;
	install(3);
	for (len = 0; len < 20; len++) {
		e = 0;
		assert_int_equal(m.getpwnam_r("alice", &pw, buf, len, &e),
		    NSS_STATUS_TRYAGAIN);
		assert_int_equal(e, ERANGE);
		assert_int_equal(m.getgrgid_r(200500, &gr, buf, len, &e),
		    NSS_STATUS_TRYAGAIN);
		assert_int_equal(e, ERANGE);
	}
	m.setpwent(0);
	assert_int_equal(m.getpwent_r(&pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, "alice");
	/* Too small for bob: the retry with room gets bob, not carol. */
	assert_int_equal(m.getpwent_r(&pw, buf, 8, &e), NSS_STATUS_TRYAGAIN);
	assert_int_equal(e, ERANGE);
	/* A lookup by name in between does not move the enumeration. */
	assert_int_equal(m.getpwnam_r("carol", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_int_equal(m.getpwent_r(&pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, "bob");
	while (m.getpwent_r(&pw, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS)
		n++;
	assert_int_equal(n, 1);	/* carol, then the end */
}

static void
test_initgroups_adds_the_supplementary_groups(void **state)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));
	int e;

	(void)state;
	install(3);
	groups[0] = 200101;
	assert_int_equal(m.initgroups_dyn("alice", 200101, &start, &size,
	    &groups, 0, &e), NSS_STATUS_SUCCESS);
	assert_int_equal(start, 3);
	assert_int_equal(groups[1], 200500);
	assert_int_equal(groups[2], 27);
	/* A limit is honoured. */
	start = 1;
	assert_int_equal(m.initgroups_dyn("alice", 200101, &start, &size,
	    &groups, 2, &e), NSS_STATUS_SUCCESS);
	assert_int_equal(start, 2);
	free(groups);
}

static void
test_a_new_file_is_seen_and_a_bad_one_serves_nothing(void **state)
{
	struct passwd pw;
	char buf[1024];
	int e;

	(void)state;
	install(2);
	assert_int_equal(m.getpwnam_r("carol", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_NOTFOUND);
	install(3);
	assert_int_equal(m.getpwnam_r("carol", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_SUCCESS);
	/* Group-writable: nothing is served from it. */
	assert_int_equal(chmod(TEST_FILE, 0664), 0);
	assert_int_equal(m.getpwnam_r("carol", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_UNAVAIL);
	/* Corrupt (a new file, truncated): nothing either. */
	install(3);
	assert_int_equal(truncate(TEST_FILE, 80), 0);
	assert_int_equal(m.getpwnam_r("alice", &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_UNAVAIL);
	unlink(TEST_FILE);
	assert_int_equal(m.getpwuid_r(200101, &pw, buf, sizeof(buf), &e),
	    NSS_STATUS_UNAVAIL);
}

static void *
lookups(void *arg)
{
	struct passwd pw;
	char buf[512];
	int e, i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		if (m.getpwuid_r(200101 + (uid_t)(i % 3), &pw, buf, sizeof(buf),
		    &e) != NSS_STATUS_SUCCESS ||
		    pw.pw_uid != 200101 + (uid_t)(i % 3))
			return (void *)1;
	}
	return NULL;
}

static void
test_lookups_from_many_threads(void **state)
{
	pthread_t t[8];
	void *r;
	int i, bad = 0;

	(void)state;
	install(3);
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, lookups, NULL), 0);
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	assert_int_equal(bad, 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_users_and_groups_are_served),
		cmocka_unit_test(test_a_small_buffer_is_erange_and_enumeration_resumes),
		cmocka_unit_test(test_initgroups_adds_the_supplementary_groups),
		cmocka_unit_test(test_a_new_file_is_seen_and_a_bad_one_serves_nothing),
		cmocka_unit_test(test_lookups_from_many_threads),
	};

	if (argc == 2 && strcmp(argv[1], "--install") == 0) {
		mkdir(TEST_DIR, 0755);
		install(3);
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "test_nss: SKIP: needs root (the directory "
		    "file must be root-owned)\n");
		return getenv("KF_REQUIRE_E2E") != NULL &&
		    strcmp(getenv("KF_REQUIRE_E2E"), "1") == 0 ? 1 : 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
