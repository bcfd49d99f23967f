/*
 * test_check.c - kf_check(), behind keyfleet-authkeys --check, against a
 * real HTTP API (tests/api/server.py on the loopback interface): every URL
 * is asked, each answer is judged as a lookup judges it, what sshd and PAM
 * would get is reported, and nothing is written to the cache.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "config_file.h"
#include "ctx.h"

struct found {
	int	 kind[256];
	char	*msg[256];
	size_t	 n;
};

struct ct {
	struct tu_fixture	*f;
	struct tu_api		 api;
	struct tu_api		 dead;	/* started and stopped: refuses */
	char			*base;
	char			*cache;
	struct found		 found;
};

static unsigned serial;

static void
on_finding(void *arg, int kind, const char *message)
{
	struct found *fd = arg;

	if (fd->n == 256)
		TU_FATAL("too many findings");
	if (strchr(message, '\n') != NULL)
		TU_FATAL("a finding spans lines: %s", message);
	fd->kind[fd->n] = kind;
	fd->msg[fd->n++] = tu_xstrdup(message);
}

static void
found_clear(struct found *fd)
{
	size_t i;

	for (i = 0; i < fd->n; i++)
		free(fd->msg[i]);
	fd->n = 0;
}

static void
found_print(const struct found *fd)
{
	static const char *const names[] = { "ok", "info", "LOCAL", "API" };
	size_t i;

	for (i = 0; i < fd->n; i++)
		print_message("  %s: %s\n", names[fd->kind[i]], fd->msg[i]);
}

/* Fails unless a finding of kind contains every one of the needles. */
static void
assert_found_at(const struct found *fd, int kind, const char *a,
    const char *b, const char *file, int line)
{
	size_t i;

	for (i = 0; i < fd->n; i++) {
		if (fd->kind[i] == kind && strstr(fd->msg[i], a) != NULL &&
		    (b == NULL || strstr(fd->msg[i], b) != NULL))
			return;
	}
	found_print(fd);
	fail_msg("%s:%d: no finding of kind %d with \"%s\"%s%s%s", file, line,
	    kind, a, b != NULL ? " and \"" : "", b != NULL ? b : "",
	    b != NULL ? "\"" : "");
}
#define assert_found(fd, kind, a, b) \
	assert_found_at((fd), (kind), (a), (b), __FILE__, __LINE__)

static size_t
count_kind(const struct found *fd, int kind)
{
	size_t i, n = 0;

	for (i = 0; i < fd->n; i++)
		n += fd->kind[i] == kind;
	return n;
}

static void
xmkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 || chmod(path, mode) != 0)
		TU_FATAL("mkdir %s: %s", path, strerror(errno));
}

/* Loads a configuration: the URL lines, then settings. */
static void
configure(struct ct *t, const char *urls, const char *settings)
{
	struct kf_config *cfg = NULL;
	char *text, *path;
	int r;

	text = tu_printf("%sAllowHTTP yes\nCacheDirectory %s\nTimeout 5\n"
	    "LogLevel quiet\n%s", urls, t->cache, settings);
	path = tu_write_config(text);
	if ((r = kf_config_load(t->f->ctx, path, tu_config_owner(),
	    &cfg)) != 0) {
		tu_log_print(&t->f->log);
		fail_msg("config refused: %s\n%s", kf_strerror(r), text);
	}
	kf_config_free(t->f->ctx->cfg);
	t->f->ctx->cfg = cfg;
	free(path);
	free(text);
}

static char *
url_line(const struct tu_api *api)
{
	return tu_printf("URL http://127.0.0.1:%d/users/%%u\n", api->port);
}

static int
setup(void **state)
{
	struct ct *t = tu_xmalloc(sizeof(*t));
	void *inner = NULL;
	char *dir, *urls;

	memset(t, 0, sizeof(*t));
	tu_setup(&inner);
	t->f = inner;
	t->base = tu_printf("%s/check-%u", tu_tmpdir(), ++serial);
	xmkdir(t->base, 0700);
	t->cache = tu_printf("%s/cache", t->base);
	xmkdir(t->cache, 0700);
	dir = tu_printf("%s/api", t->base);
	tu_api_start(&t->api, dir);
	free(dir);
	dir = tu_printf("%s/dead", t->base);
	tu_api_start(&t->dead, dir);
	tu_api_stop(&t->dead);
	free(dir);
	urls = url_line(&t->api);
	configure(t, urls, "");
	free(urls);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct ct *t = *state;
	void *inner = t->f;

	found_clear(&t->found);
	tu_api_free(&t->api);
	tu_api_free(&t->dead);
	tu_teardown(&inner);
	tu_remove_tree(t->base);
	free(t->base);
	free(t->cache);
	free(t);
	return 0;
}

/* Runs kf_check() for user; returns what it returned. */
static int
check(struct ct *t, const char *user, const char *command_path)
{
	found_clear(&t->found);
	return kf_check(t->f->ctx, user, command_path, on_finding, &t->found);
}

/* The names in the cache directory, sorted into one string. */
static char *
cache_listing(const struct ct *t)
{
	char *out = tu_xstrdup(""), *next;
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir(t->cache)) == NULL)
		TU_FATAL("opendir %s: %s", t->cache, strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		next = tu_printf("%s %s", out, d->d_name);
		free(out);
		out = next;
	}
	closedir(dir);
	return out;
}

static void
put_alice(struct ct *t, const char *members)
{
	char *rec;

	rec = tu_printf("{\"user\":\"alice\",\"keys\":[\"%s\"]%s}",
	    tu_key(TU_ED25519)->line, members);
	tu_api_put(&t->api, "alice.json", rec);
	free(rec);
}

/* ------------------------------------------------------------ tests */

static void
test_every_url_is_asked_and_the_first_answer_counts(void **state)
{
	struct ct *t = *state;
	char *urls, *a, *d, *before, *after;

	a = url_line(&t->api);
	d = url_line(&t->dead);
	urls = tu_printf("%s%s", a, d);
	configure(t, urls, "");
	put_alice(t, ",\"env\":{\"TEAM\":\"infra\",\"LD_PRELOAD\":\"/x.so\","
	    "\"EVIL\":\"a\\nb\"}");
	before = cache_listing(t);
	assert_int_equal(check(t, "alice", NULL), 1);
	assert_found(&t->found, KF_CHECK_OK, "URL 1 http://127.0.0.1",
	    "HTTP 200");
	assert_found(&t->found, KF_CHECK_API_PROBLEM, "URL 2 http://127.0.0.1",
	    "/users/alice: ");
	assert_int_equal(count_kind(&t->found, KF_CHECK_API_PROBLEM), 1);
	assert_int_equal(count_kind(&t->found, KF_CHECK_LOCAL_PROBLEM), 0);
	assert_found(&t->found, KF_CHECK_INFO, "sshd: 1 authorized_keys",
	    "URL 1");
	assert_found(&t->found, KF_CHECK_INFO, "sshd:   ",
	    tu_key(TU_ED25519)->text);
	assert_found(&t->found, KF_CHECK_INFO, "account: PAM_SUCCESS", NULL);
	assert_found(&t->found, KF_CHECK_INFO, "pam_keyfleet:   TEAM=infra",
	    NULL);
	assert_found(&t->found, KF_CHECK_INFO, "not set: LD_PRELOAD",
	    "built-in deny list");
	/* Not even the reason for a refusal breaks the line. */
	assert_found(&t->found, KF_CHECK_INFO, "not set: EVIL",
	    "control character");
	after = cache_listing(t);
	assert_string_equal(before, after);	/* no entry, lock or note */
	assert_int_equal(tu_api_requests(&t->api), 1);
	free(a);
	free(d);
	free(urls);
	free(before);
	free(after);
}

static void
test_a_fresh_cache_entry_neither_answers_nor_changes(void **state)
{
	struct ct *t = *state;
	struct kf_answer *ans = NULL;
	char *entry, *again;
	size_t n, m;

	put_alice(t, "");
	assert_int_equal(kf_lookup(t->f->ctx, "alice", NULL, NULL, &ans), 0);
	kf_answer_free(ans);
	entry = tu_cache_entry(t->cache, "alice", &n);
	assert_non_null(entry);
	/* The API changed its mind; the check must see it, not the cache. */
	tu_api_put(&t->api, "alice.json",
	    "{\"user\":\"alice\",\"active\":false}");
	assert_int_equal(check(t, "alice", NULL), 0);
	assert_int_equal(tu_api_requests(&t->api), 2);
	assert_found(&t->found, KF_CHECK_INFO, "cache: an answer for alice",
	    "still fresh");
	assert_found(&t->found, KF_CHECK_INFO, "sshd: no keys for alice",
	    "disabled centrally");
	assert_found(&t->found, KF_CHECK_INFO, "PAM_PERM_DENIED", NULL);
	again = tu_cache_entry(t->cache, "alice", &m);
	assert_int_equal(n, m);
	assert_memory_equal(entry, again, n);
	free(entry);
	free(again);
}

static void
test_rejected_answers_are_problems_with_their_reason(void **state)
{
	struct ct *t = *state;

	put_alice(t, "");
	tu_api_put(&t->api, "_mode", "wrongtype");
	assert_int_equal(check(t, "alice", NULL), 1);
	assert_found(&t->found, KF_CHECK_API_PROBLEM, "response is rejected",
	    "is a web page");
	assert_found(&t->found, KF_CHECK_INFO, "PAM_AUTHINFO_UNAVAIL", NULL);
	tu_api_put(&t->api, "_mode", "status 500");
	assert_int_equal(check(t, "alice", NULL), 1);
	assert_found(&t->found, KF_CHECK_API_PROBLEM, "HTTP status 500",
	    NULL);
	tu_api_put(&t->api, "_mode", NULL);
	tu_api_put(&t->api, "alice.json", "{\"user\":\"bob\"}");
	assert_int_equal(check(t, "alice", NULL), 1);
	assert_found(&t->found, KF_CHECK_API_PROBLEM, "response is rejected",
	    NULL);
}

static void
test_dropped_keys_are_problems_even_with_loglevel_quiet(void **state)
{
	struct ct *t = *state;
	char *rec;

	rec = tu_printf("{\"user\":\"alice\",\"keys\":[\"%s\",\"%s\"]}",
	    tu_key(TU_ED25519)->line, tu_key(TU_RSA1024)->line);
	tu_api_put(&t->api, "alice.json", rec);
	assert_int_equal(check(t, "alice", NULL), 1);
	assert_found(&t->found, KF_CHECK_API_PROBLEM, "URL 1: ",
	    "key 2 from");
	assert_found(&t->found, KF_CHECK_INFO, "sshd: 1 authorized_keys",
	    NULL);
	free(rec);
}

static void
test_unknown_user_follows_unknownuser(void **state)
{
	struct ct *t = *state;
	char *urls = url_line(&t->api);

	assert_int_equal(check(t, "carol", NULL), 0);
	assert_found(&t->found, KF_CHECK_OK, "HTTP 404", "unknown to the API");
	assert_found(&t->found, KF_CHECK_INFO, "account: PAM_IGNORE", NULL);
	configure(t, urls, "UnknownUser deny\n");
	assert_int_equal(check(t, "carol", NULL), 0);
	assert_found(&t->found, KF_CHECK_INFO, "account: PAM_USER_UNKNOWN",
	    NULL);
	/* Without a user, a made-up name is asked, and 404 is right. */
	assert_int_equal(check(t, NULL, NULL), 0);
	assert_found(&t->found, KF_CHECK_OK, "/users/keyfleet-check-probe",
	    "as expected");
	/* A name refused locally is never sent. */
	assert_int_equal(check(t, "-rf", NULL), 1);
	assert_found(&t->found, KF_CHECK_LOCAL_PROBLEM, "refused locally",
	    NULL);
	free(urls);
}

static void
test_signing_key_off_the_curve_is_a_local_problem(void **state)
{
	struct ct *t = *state;
	/* SubjectPublicKeyInfo of P-256, then the point (1, 1). */
	static const unsigned char prefix[] = {
		0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
	};
	unsigned char der[sizeof(prefix) + 64];
	char *b64, *pem, *path, *setting, *urls = url_line(&t->api);

	memset(der, 0, sizeof(der));
	memcpy(der, prefix, sizeof(prefix));
	der[sizeof(prefix) + 31] = 1;
	der[sizeof(prefix) + 63] = 1;
	b64 = tu_b64(der, sizeof(der));
	pem = tu_printf("-----BEGIN PUBLIC KEY-----\n%s\n"
	    "-----END PUBLIC KEY-----\n", b64);
	path = tu_write_file("check-offcurve.pub", pem, strlen(pem), 0644);
	setting = tu_printf("SigningKey %s\n", path);
	configure(t, urls, setting);
	assert_int_equal(check(t, NULL, NULL), 1);
	assert_found(&t->found, KF_CHECK_LOCAL_PROBLEM, path,
	    "libcrypto refuses this P-256 key");
	free(b64);
	free(pem);
	free(path);
	free(setting);
	free(urls);
}

static void
test_command_path_by_sshds_rules(void **state)
{
	struct ct *t = *state;
	char *prog;

	assert_int_equal(check(t, NULL, "/bin/sh"), 0);
	assert_found(&t->found, KF_CHECK_OK, "program /", "owned by root");
	/* The scratch directory lives under /tmp, writable by others. */
	prog = tu_write_file("check-prog", "#!/bin/sh\n", 10, 0755);
	assert_int_equal(check(t, NULL, prog), 1);
	assert_found(&t->found, KF_CHECK_LOCAL_PROBLEM, prog,
	    "sshd refuses to run it");
	free(prog);
}

static void
test_missing_cache_directory_and_no_configuration(void **state)
{
	struct ct *t = *state;
	struct kf_ctx *bare = NULL;

	assert_int_equal(rmdir(t->cache), 0);
	assert_int_equal(check(t, NULL, NULL), 1);
	assert_found(&t->found, KF_CHECK_LOCAL_PROBLEM, "CacheDirectory",
	    "works without a cache");
	assert_int_equal(kf_ctx_new(&bare), 0);
	assert_int_equal(kf_check(bare, NULL, NULL, on_finding, &t->found),
	    KF_ERR_CONFIG);
	kf_ctx_free(bare);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_url_is_asked_and_the_first_answer_counts),
		T(test_a_fresh_cache_entry_neither_answers_nor_changes),
		T(test_rejected_answers_are_problems_with_their_reason),
		T(test_dropped_keys_are_problems_even_with_loglevel_quiet),
		T(test_unknown_user_follows_unknownuser),
		T(test_signing_key_off_the_curve_is_a_local_problem),
		T(test_command_path_by_sshds_rules),
		T(test_missing_cache_directory_and_no_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
