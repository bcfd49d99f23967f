/*
 * test_lookup.c - the lookup and cache rules of SPEC section 4, as
 * kf_lookup(), kf_lookup_revalidate() and kf_flush() carry them out
 * against a real HTTP API (tests/api/server.py on the loopback interface)
 * and a real cache directory.  Time moves through the context's injectable clock, never by
 * sleeping.  Each test asserts what a user of the library would notice:
 * the answer's status and key lines, how many requests the API saw, and
 * the bytes of the cache entry.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

#include "config_file.h"
#include "ctx.h"

/* The defaults of every test's keyfleet.conf, unless a test says else. */
#define TTL		300
#define MAX_STALE	3600
#define NEG_TTL		60
#define UKR		30

#define NOBODY		65534

/* The clock every lookup reads; tests move it with at(). */
static time_t clock_now = TU_NOW;

static time_t
test_now(void)
{
	return clock_now;
}

/* Sets the clock to TU_NOW + seconds. */
static void
at(long seconds)
{
	clock_now = TU_NOW + (time_t)seconds;
}

struct lk {
	struct tu_fixture	*f;
	struct tu_api		 api;
	char			*base;	/* this test's own directory */
	char			*cache;	/* CacheDirectory, 0700 */
	char			*elsewhere;	/* extra tree to remove, or NULL */
};

static unsigned serial;

static void
xmkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0)
		TU_FATAL("mkdir %s: %s", path, strerror(errno));
	if (chmod(path, mode) != 0)	/* exactly mode, whatever the umask */
		TU_FATAL("chmod %s: %s", path, strerror(errno));
}

/*
 * Loads a configuration for the test's API and cache: settings holds
 * "Keyword value" lines that replace the defaults below.
 */
static void
configure_dir(struct lk *t, const char *cache_dir, const char *settings)
{
	static const char *const defaults[][2] = {
		{ "CacheTTL", "300" },
		{ "CacheMaxStale", "3600" },
		{ "NegativeTTL", "60" },
		{ "UnknownKeyRefresh", "30" },
		{ "Timeout", "5" },
		{ "ConnectTimeout", "2" },
		{ "MaxResponseSize", "16K" },
		{ "LogLevel", "debug" },
	};
	struct kf_config *cfg = NULL;
	char *text, *next, *probe, *path;
	size_t i;
	int r;

	probe = tu_printf("\n%s", settings);
	text = tu_printf("URL http://127.0.0.1:%d/users/%%u\nAllowHTTP yes\n"
	    "CacheDirectory %s\n%s", t->api.port, cache_dir, settings);
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		char *kw = tu_printf("\n%s ", defaults[i][0]);

		if (strstr(probe, kw) == NULL) {
			next = tu_printf("%s%s %s\n", text, defaults[i][0],
			    defaults[i][1]);
			free(text);
			text = next;
		}
		free(kw);
	}
	path = tu_write_config(text);
	r = kf_config_load(t->f->ctx, path, tu_config_owner(), &cfg);
	if (r != 0) {
		tu_log_print(&t->f->log);
		fail_msg("config refused: %s\n%s", kf_strerror(r), text);
	}
	kf_config_free(t->f->ctx->cfg);
	t->f->ctx->cfg = cfg;
	free(path);
	free(text);
	free(probe);
}

static void
configure(struct lk *t, const char *settings)
{
	configure_dir(t, t->cache, settings);
}

static int
setup(void **state)
{
	struct lk *t = tu_xmalloc(sizeof(*t));
	char *apidir;
	void *inner = NULL;

	memset(t, 0, sizeof(*t));
	tu_setup(&inner);
	t->f = inner;
	t->f->ctx->now = test_now;
	at(0);
	t->base = tu_printf("%s/lookup-%u", tu_tmpdir(), ++serial);
	xmkdir(t->base, 0700);
	t->cache = tu_printf("%s/cache", t->base);
	xmkdir(t->cache, 0700);
	apidir = tu_printf("%s/api", t->base);
	tu_api_start(&t->api, apidir);
	free(apidir);
	configure(t, "");
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct lk *t = *state;
	void *inner = t->f;

	tu_api_free(&t->api);
	tu_teardown(&inner);
	if (t->elsewhere != NULL)
		tu_remove_tree(t->elsewhere);
	tu_remove_tree(t->base);
	free(t->elsewhere);
	free(t->base);
	free(t->cache);
	free(t);
	return 0;
}

/* ---------------------------------------------------------- helpers */

/* The ed25519 and ecdsa test keys: the record's keys "A" and "B". */
static const struct tu_key *
key_a(void)
{
	return tu_key(TU_ED25519);
}

static const struct tu_key *
key_b(void)
{
	return tu_key(TU_ECDSA256);
}

static const struct tu_key *
key_c(void)
{
	return tu_key(TU_ECDSA384);
}

/*
 * A JSON record for user listing the given key lines (NULL-terminated
 * after extra, which is more members such as "\"ttl\": 60" or "").
 */
static char *
record(const char *user, const char *extra, ...)
{
	char *keys = tu_xstrdup(""), *next, *out;
	const char *line;
	va_list ap;

	va_start(ap, extra);
	while ((line = va_arg(ap, const char *)) != NULL) {
		next = tu_printf("%s%s\"%s\"", keys, *keys != '\0' ? ", " : "",
		    line);
		free(keys);
		keys = next;
	}
	va_end(ap);
	out = tu_printf("{\"user\": \"%s\", \"keys\": [%s]%s%s}\n", user, keys,
	    *extra != '\0' ? ", " : "", extra);
	free(keys);
	return out;
}

/* Makes the API serve body as user's record (NULL: the user is unknown). */
static void
serve(struct lk *t, const char *user, char *body)
{
	char *name = tu_printf("%s.json", user);

	tu_api_put(&t->api, name, body);
	free(name);
	free(body);
}

/* Writes the API's control file _mode ("status 500", ...; NULL: normal). */
static void
api_mode(struct lk *t, const char *mode)
{
	tu_api_put(&t->api, "_mode", mode);
}

static size_t
requests(struct lk *t)
{
	return tu_api_requests(&t->api);
}

/* Fails unless the i-th request (0-based) had field (1-based) == want. */
static void
expect_request_field(struct lk *t, size_t i, int field, const char *want)
{
	char *got = tu_api_request_field(&t->api, i, field);

	if (got == NULL)
		fail_msg("request %zu: no field %d (%zu requests logged)", i,
		    field, requests(t));
	if (strcmp(got, want) != 0)
		fail_msg("request %zu field %d: \"%s\", expected \"%s\"", i,
		    field, got, want);
	free(got);
}

static int
lookup(struct lk *t, const char *user, const struct tu_key *offered,
    struct kf_answer **ap)
{
	return kf_lookup(t->f->ctx, user, NULL,
	    offered != NULL ? offered->b64 : NULL, ap);
}

/*
 * Fails unless a is an answer with status and exactly the given key lines
 * (NULL-terminated), in order.
 */
static void
expect_answer(struct lk *t, const struct kf_answer *a, int status, ...)
{
	const char *line;
	size_t i = 0, n;
	va_list ap;

	if (a == NULL) {
		tu_log_print(&t->f->log);
		fail_msg("no answer");
	}
	assert_int_equal(kf_answer_status(a), status);
	n = kf_answer_key_count(a);
	va_start(ap, status);
	while ((line = va_arg(ap, const char *)) != NULL) {
		if (i >= n)
			fail_msg("answer has %zu key(s); expected more, "
			    "next: %s", n, line);
		assert_string_equal(kf_answer_key_line(a, i), line);
		i++;
	}
	va_end(ap);
	assert_int_equal(n, i);
}

/* A lookup that must succeed with status and exactly the given keys. */
static void
expect_lookup(struct lk *t, const char *user, const struct tu_key *offered,
    int status, ...)
{
	struct kf_answer *a = NULL;
	const char *line;
	const char *lines[4] = { NULL, NULL, NULL, NULL };
	size_t n = 0;
	va_list ap;
	int r;

	va_start(ap, status);
	while ((line = va_arg(ap, const char *)) != NULL && n < 3)
		lines[n++] = line;
	va_end(ap);
	r = lookup(t, user, offered, &a);
	if (r != 0) {
		tu_log_print(&t->f->log);
		fail_msg("lookup of %s at +%lld: %s", user,
		    (long long)(clock_now - TU_NOW), kf_strerror(r));
	}
	expect_answer(t, a, status, lines[0], lines[1], lines[2], NULL);
	kf_answer_free(a);
}

/* A lookup that must fail with code, leaving no answer. */
static void
expect_no_answer(struct lk *t, const char *user, const struct tu_key *offered,
    int code)
{
	struct kf_answer *a = (struct kf_answer *)&a;	/* poisoned */
	int r;

	r = lookup(t, user, offered, &a);
	if (r != code) {
		tu_log_print(&t->f->log);
		fail_msg("lookup of %s at +%lld: %d (%s), expected %d (%s)",
		    user, (long long)(clock_now - TU_NOW), r, kf_strerror(r),
		    code, kf_strerror(code));
	}
	assert_null(a);
}

static char *
entry_path(struct lk *t, const char *user)
{
	return tu_cache_entry_path(t->cache, user);
}

/* The bytes of user's cache entry; NULL when there is none. */
static char *
entry(struct lk *t, const char *user, size_t *len)
{
	return tu_cache_entry(t->cache, user, len);
}

static void
expect_no_entry(struct lk *t, const char *user)
{
	char *path = entry_path(t, user);
	struct stat st;

	if (lstat(path, &st) == 0)
		fail_msg("%s exists", path);
	assert_int_equal(errno, ENOENT);
	free(path);
}

/* Fails unless user's entry holds exactly len bytes equal to want. */
static void
expect_entry_bytes(struct lk *t, const char *user, const char *want,
    size_t len)
{
	size_t got_len;
	char *got = entry(t, user, &got_len);

	if (got == NULL)
		fail_msg("no cache entry for %s", user);
	if (got_len != len || memcmp(got, want, len) != 0)
		fail_msg("cache entry for %s changed:\n--- was (%zu bytes)\n"
		    "%s\n--- now (%zu bytes)\n%s", user, len, want, got_len,
		    got);
	free(got);
}

/* A header line's value in an entry ("fetched", "etag", ...), or NULL. */
static char *
entry_header(const char *bytes, const char *name)
{
	const char *end = strstr(bytes, "\n\n"), *p;
	char *key = tu_printf("\n%s ", name), *out = NULL;

	if (end != NULL && (p = strstr(bytes, key)) != NULL && p < end) {
		p += strlen(key);
		out = tu_printf("%.*s", (int)strcspn(p, "\n"), p);
	}
	free(key);
	return out;
}

/* Fails unless user's entry is fetched at TU_NOW+fetched holding body. */
static void
expect_entry(struct lk *t, const char *user, long status, long fetched,
    const char *body)
{
	char *bytes = entry(t, user, NULL), *v, *want;

	if (bytes == NULL)
		fail_msg("no cache entry for %s", user);
	assert_memory_equal(bytes, "KEYFLEET-CACHE 1\n", 17);
	v = entry_header(bytes, "status");
	want = tu_printf("%ld", status);
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
	free(want);
	v = entry_header(bytes, "fetched");
	want = tu_printf("%lld", (long long)(TU_NOW + fetched));
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
	free(want);
	assert_string_equal(tu_cache_entry_body(bytes), body);
	v = entry_header(bytes, "length");
	want = tu_printf("%zu", strlen(body));
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
	free(want);
	free(bytes);
}

/* Writes an entry file by hand, with exactly mode. */
static void
put_entry(struct lk *t, const char *user, const void *bytes, size_t len,
    mode_t mode)
{
	char *path = entry_path(t, user);
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, bytes, len) != (ssize_t)len ||
	    fchmod(fd, mode) != 0 || close(fd) != 0)
		TU_FATAL("write %s: %s", path, strerror(errno));
	free(path);
}

/* Fails if a temporary file was left behind in the cache directory. */
static void
expect_no_temporary_files(struct lk *t)
{
	char *cmd = tu_printf("ls -A '%s' | grep -q '^\\.t-'", t->cache);

	if (system(cmd) == 0)
		fail_msg("a temporary file was left in %s", t->cache);
	free(cmd);
}

/* The If-None-Match value the API gave the body: "ETag" of the entry. */
static char *
entry_etag(struct lk *t, const char *user)
{
	char *bytes = entry(t, user, NULL), *etag;

	assert_non_null(bytes);
	etag = entry_header(bytes, "etag");
	assert_non_null(etag);
	free(bytes);
	return etag;
}

/* ---------------------------------------------------- rule 1: freshness */

static void
test_cold_cache_fetches_and_stores_the_entry(void **state)
{
	struct lk *t = *state;
	char *body = record("alice", "", key_a()->line, NULL);
	char *path, *etag;
	struct stat st;

	serve(t, "alice", tu_xstrdup(body));
	expect_no_entry(t, "alice");
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);

	assert_int_equal(requests(t), 1);
	expect_request_field(t, 0, 3, "/users/alice");
	expect_request_field(t, 0, 4, "-");	/* nothing to revalidate */
	expect_request_field(t, 0, 8, "200");

	path = entry_path(t, "alice");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* What the API sent, byte for byte, stamped with the clock. */
	expect_entry(t, "alice", 200, 0, body);
	etag = entry_etag(t, "alice");
	assert_int_equal(strlen(etag), 18);	/* '"' + 16 hex + '"' */
	assert_int_equal(etag[0], '"');
	expect_no_temporary_files(t);
	free(etag);
	free(path);
	free(body);
}

static void
test_fresh_entry_answers_without_a_request(void **state)
{
	struct lk *t = *state;
	char *old = record("alice", "", key_a()->line, NULL), *bytes, *etag;
	char *new = record("alice", "", key_a()->line, key_b()->line, NULL);
	size_t len;

	serve(t, "alice", tu_xstrdup(old));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	bytes = entry(t, "alice", &len);
	etag = entry_etag(t, "alice");

	/* The API changes; within CacheTTL nobody asks it. */
	serve(t, "alice", tu_xstrdup(new));
	at(1);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	at(TTL - 1);
	expect_lookup(t, "alice", key_a(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	assert_int_equal(requests(t), 1);
	expect_entry_bytes(t, "alice", bytes, len);

	/* At CacheTTL: a conditional request, and the changed record. */
	at(TTL);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 4, etag);
	expect_request_field(t, 1, 8, "200");
	expect_entry(t, "alice", 200, TTL, new);
	free(etag);
	free(bytes);
	free(old);
	free(new);
}

static void
test_record_ttl_shortens_freshness(void **state)
{
	struct lk *t = *state;

	serve(t, "alice", record("alice", "\"ttl\": 60", key_a()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	at(59);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 1);
	at(60);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 8, "304");

	/* "ttl": 0 is never fresh. */
	serve(t, "bob", record("bob", "\"ttl\": 0", key_b()->line, NULL));
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	assert_int_equal(requests(t), 4);
}

static void
test_record_ttl_does_not_lengthen_freshness(void **state)
{
	struct lk *t = *state;

	serve(t, "alice", record("alice", "\"ttl\": 100000", key_a()->line,
	    NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	at(TTL - 1);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 1);
	at(TTL);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 2);
}

/* ------------------------------------------- rule 2: 304 renews an entry */

static void
test_stale_entry_is_renewed_by_304(void **state)
{
	struct lk *t = *state;
	char *body = record("alice", "", key_a()->line, NULL), *etag, *bytes;
	size_t len;

	serve(t, "alice", tu_xstrdup(body));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	etag = entry_etag(t, "alice");

	at(TTL + 100);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 3, "/users/alice");
	expect_request_field(t, 1, 4, etag);
	expect_request_field(t, 1, 8, "304");
	/* Same body and ETag, vouched for again now. */
	expect_entry(t, "alice", 200, TTL + 100, body);
	free(etag);
	etag = entry_etag(t, "alice");
	expect_request_field(t, 1, 4, etag);
	bytes = entry(t, "alice", &len);

	/* Fresh again for a whole CacheTTL from the renewal. */
	at(TTL + 100 + TTL - 1);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 2);
	expect_entry_bytes(t, "alice", bytes, len);
	at(TTL + 100 + TTL);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 3);
	expect_request_field(t, 2, 8, "304");
	free(bytes);
	free(etag);
	free(body);
}

/* ------------------------------------- rule 3: a failing API, stale data */

/* Stale entry, API failing (down or status 500): CacheMaxStale decides. */
static void
stale_while_failing(struct lk *t, int down)
{
	char *bytes;
	size_t len, n;
	int code = down ? KF_ERR_FETCH : KF_ERR_HTTP;

	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	bytes = entry(t, "alice", &len);
	if (down)
		tu_api_stop(&t->api);	/* connections are refused */
	else
		api_mode(t, "status 500");

	at(TTL);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_logged(&t->f->log, "serving the cached answer from 300 s ago");
	at(MAX_STALE - 1);
	expect_lookup(t, "alice", key_a(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	expect_entry_bytes(t, "alice", bytes, len);

	/* At and after CacheMaxStale: fail closed. */
	tu_log_reset(&t->f->log);
	at(MAX_STALE);
	expect_no_answer(t, "alice", NULL, code);
	assert_logged(&t->f->log, "no trustworthy answer");
	assert_logged(&t->f->log, "older than CacheMaxStale");
	at(MAX_STALE * 10);
	expect_no_answer(t, "alice", key_a(), code);
	expect_entry_bytes(t, "alice", bytes, len);

	n = requests(t);
	if (down) {
		assert_int_equal(n, 1);
	} else {
		/* Every lookup past CacheTTL asked, and was refused. */
		assert_int_equal(n, 5);
		expect_request_field(t, 4, 8, "500");
		expect_request_field(t, 1, 8, "500");
	}
	free(bytes);
}

static void
test_stale_entry_serves_while_the_api_is_down(void **state)
{
	stale_while_failing(*state, 1);
}

static void
test_stale_entry_serves_while_the_api_answers_500(void **state)
{
	stale_while_failing(*state, 0);
}

/*
 * Rule 5: a fetch that ran into Timeout is not waited out again for 30 s
 * while the entry may stand in; a quick failure is, and so is a lookup
 * with nothing cached.
 */
static void
test_a_timed_out_fetch_is_not_waited_out_again(void **state)
{
	struct lk *t = *state;
	long t0;

	configure(t, "Timeout 0.4\n");
	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	serve(t, "bob", record("bob", "", key_b()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	api_mode(t, "hang");

	at(TTL);
	t0 = kf_monotonic_ms();
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_true(kf_monotonic_ms() - t0 >= 350);
	assert_int_equal(requests(t), 2);

	/* Within 30 s: the cached answer at once, the API not asked. */
	tu_log_reset(&t->f->log);
	at(TTL + 29);
	t0 = kf_monotonic_ms();
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_true(kf_monotonic_ms() - t0 < 300);
	assert_int_equal(requests(t), 2);
	assert_logged(&t->f->log, "a fetch ran into Timeout less than 30 s "
	    "ago");
	assert_logged(&t->f->log, "serving the cached answer");

	/* Nothing cached for bob: the hold-off never stands in for him. */
	expect_no_answer(t, "bob", NULL, KF_ERR_TIMEOUT);
	assert_int_equal(requests(t), 3);

	/* After 30 s the API is asked again, and its answer counts. */
	api_mode(t, "normal");
	at(TTL + 31);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 4);

	/* A quick failure (HTTP 500) is not held off: the next asks. */
	api_mode(t, "status 500");
	at(2 * TTL + 40);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 6);
}

static void
test_cache_max_stale_zero_never_serves_stale(void **state)
{
	struct lk *t = *state;

	configure(t, "CacheMaxStale 0\n");
	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	api_mode(t, "status 500");
	/* Fresh still answers... */
	at(TTL - 1);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 1);
	/* ...but not one second of staleness is served. */
	at(TTL);
	expect_no_answer(t, "alice", NULL, KF_ERR_HTTP);
	at(TTL + 1);
	expect_no_answer(t, "alice", NULL, KF_ERR_HTTP);
	assert_int_equal(requests(t), 3);
	assert_not_logged(&t->f->log, "serving the cached answer");
}

/* ------------------------------------------------- a record past its exp */

static void
test_record_past_exp_is_never_served(void **state)
{
	struct lk *t = *state;
	char *exp = tu_printf("\"exp\": %lld", (long long)TU_NOW + 100);
	char *exp_later = tu_printf("\"exp\": %lld", (long long)TU_NOW + 500);
	char *renewed = tu_printf("\"exp\": %lld", (long long)TU_NOW + 10000);

	/* Fresh by CacheTTL, but past exp: not served, not even stale. */
	serve(t, "alice", record("alice", exp, key_a()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	at(99);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 1);
	at(100);
	/* The API still sends the same, now expired, record: no answer. */
	expect_no_answer(t, "alice", NULL, KF_ERR_EXPIRED);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 4, "-");	/* nothing usable to revalidate */
	api_mode(t, "status 500");
	expect_no_answer(t, "alice", NULL, KF_ERR_HTTP);
	assert_int_equal(requests(t), 3);
	assert_not_logged(&t->f->log, "serving the cached answer");
	/* A renewed record is fetched and used. */
	api_mode(t, NULL);
	serve(t, "alice", record("alice", renewed, key_b()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	assert_int_equal(requests(t), 4);

	/* Stale and within CacheMaxStale, but past exp: not served. */
	at(0);
	serve(t, "bob", record("bob", exp_later, key_a()->line, NULL));
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	api_mode(t, "status 500");
	at(TTL + 1);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	at(499);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	tu_log_reset(&t->f->log);
	at(500);
	expect_no_answer(t, "bob", NULL, KF_ERR_HTTP);
	assert_logged(&t->f->log, "cached record no longer usable: record is "
	    "past its exp");
	assert_not_logged(&t->f->log, "serving the cached answer");
	free(exp);
	free(exp_later);
	free(renewed);
}

/* ------------------------------------------------------ negative caching */

static void
test_404_is_remembered_for_negative_ttl(void **state)
{
	struct lk *t = *state;

	expect_lookup(t, "bob", NULL, KF_USER_UNKNOWN, NULL);
	assert_int_equal(requests(t), 1);
	expect_request_field(t, 0, 8, "404");
	expect_entry(t, "bob", 404, 0, "");

	/* Created centrally now: still unknown until NegativeTTL. */
	serve(t, "bob", record("bob", "", key_b()->line, NULL));
	at(UKR - 1);	/* below the floor, a key offered does not refetch */
	expect_lookup(t, "bob", key_b(), KF_USER_UNKNOWN, NULL);
	at(NEG_TTL - 1);
	expect_lookup(t, "bob", NULL, KF_USER_UNKNOWN, NULL);
	assert_int_equal(requests(t), 1);
	expect_entry(t, "bob", 404, 0, "");
	at(NEG_TTL);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 4, "-");	/* a 404 has no ETag */
	expect_request_field(t, 1, 8, "200");

	/*
	 * An offered key is not in a remembered 404 either: like any entry
	 * not listing it, asked again once older than UnknownKeyRefresh.
	 */
	expect_lookup(t, "dave", key_a(), KF_USER_UNKNOWN, NULL);
	serve(t, "dave", record("dave", "", key_a()->line, NULL));
	at(NEG_TTL + UKR - 1);
	expect_lookup(t, "dave", key_a(), KF_USER_UNKNOWN, NULL);
	assert_int_equal(requests(t), 3);
	at(NEG_TTL + UKR);
	expect_lookup(t, "dave", key_a(), KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 4);
}

static void
test_refused_user_name_asks_nobody(void **state)
{
	struct lk *t = *state;
	static const char *const names[] = {
		"../cache", "a/b", "", "-rf", "bob smith", "\xff",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		expect_no_answer(t, names[i], NULL, KF_ERR_USERNAME);
	assert_int_equal(requests(t), 0);
	/* Nothing at all was written to the cache. */
	assert_int_equal(rmdir(t->cache), 0);
	xmkdir(t->cache, 0700);
}

static void
test_500_is_never_stored_as_negative(void **state)
{
	struct lk *t = *state;

	api_mode(t, "status 500");
	expect_no_answer(t, "bob", NULL, KF_ERR_HTTP);
	expect_no_entry(t, "bob");
	api_mode(t, "status 503");
	expect_no_answer(t, "bob", NULL, KF_ERR_HTTP);
	expect_no_entry(t, "bob");
	assert_int_equal(requests(t), 2);

	/* The next lookup asks again, at the very same time. */
	api_mode(t, NULL);
	serve(t, "bob", record("bob", "", key_b()->line, NULL));
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	assert_int_equal(requests(t), 3);

	/* A failing API in front of a stale negative entry keeps it. */
	expect_lookup(t, "carol", NULL, KF_USER_UNKNOWN, NULL);
	api_mode(t, "status 500");
	at(NEG_TTL);
	expect_lookup(t, "carol", NULL, KF_USER_UNKNOWN, NULL);
	assert_int_equal(requests(t), 5);
	expect_entry(t, "carol", 404, 0, "");
}

/* ------------------------------------------------- offered unknown keys */

static void
test_unknown_key_refetches_only_after_the_floor(void **state)
{
	struct lk *t = *state;
	char *etag;

	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	expect_lookup(t, "alice", key_a(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	etag = entry_etag(t, "alice");

	/* Key B added centrally; offered below the floor: no request. */
	serve(t, "alice", record("alice", "", key_a()->line, key_b()->line,
	    NULL));
	at(1);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	at(UKR - 1);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	assert_int_equal(requests(t), 1);

	/* At UnknownKeyRefresh: refetched, and B is there. */
	at(UKR);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 4, etag);
	expect_request_field(t, 1, 8, "200");

	/* The floor counts from the refetch: key C (listed nowhere). */
	at(UKR + UKR - 1);
	expect_lookup(t, "alice", key_c(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	assert_int_equal(requests(t), 2);
	at(UKR + UKR);
	expect_lookup(t, "alice", key_c(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	assert_int_equal(requests(t), 3);
	expect_request_field(t, 2, 8, "304");
	free(etag);
}

static void
test_unknown_key_refresh_no_never_refetches(void **state)
{
	struct lk *t = *state;

	configure(t, "UnknownKeyRefresh no\n");
	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	serve(t, "alice", record("alice", "", key_a()->line, key_b()->line,
	    NULL));
	at(UKR);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	at(TTL - 1);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	assert_int_equal(requests(t), 1);
	/* CacheTTL still applies. */
	at(TTL);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	assert_int_equal(requests(t), 2);
}

static void
test_listed_key_never_refetches(void **state)
{
	struct lk *t = *state;

	serve(t, "alice", record("alice", "", key_a()->line, key_b()->line,
	    NULL));
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	at(UKR);
	expect_lookup(t, "alice", key_a(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	at(TTL - 1);
	expect_lookup(t, "alice", key_b(), KF_USER_ACTIVE, key_a()->line,
	    key_b()->line, NULL);
	assert_int_equal(requests(t), 1);
}

static void
test_disabled_user_is_asked_again_after_the_floor(void **state)
{
	struct lk *t = *state;

	serve(t, "alice", record("alice", "\"active\": false", key_a()->line,
	    NULL));
	expect_lookup(t, "alice", key_a(), KF_USER_INACTIVE, NULL);
	/* Enabled again centrally. */
	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	at(UKR - 1);
	expect_lookup(t, "alice", key_a(), KF_USER_INACTIVE, NULL);
	at(TTL - 1);
	expect_lookup(t, "alice", NULL, KF_USER_INACTIVE, NULL);
	assert_int_equal(requests(t), 1);
	/* Offering a key, past the floor: the API is asked. */
	at(UKR);
	expect_lookup(t, "alice", key_a(), KF_USER_ACTIVE, key_a()->line,
	    NULL);
	assert_int_equal(requests(t), 2);
}

/* ------------------------------------------------ kf_lookup_revalidate */

static void
test_revalidate_asks_every_time_and_falls_back(void **state)
{
	struct lk *t = *state;
	struct kf_answer *a = NULL;
	char *etag, *off;

	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	etag = entry_etag(t, "alice");

	/* Fresh, yet asked: conditionally, and a 304 answers. */
	at(1);
	assert_int_equal(kf_lookup_revalidate(t->f->ctx, "alice", &a), 0);
	expect_answer(t, a, KF_USER_ACTIVE, key_a()->line, NULL);
	kf_answer_free(a);
	assert_int_equal(requests(t), 2);
	expect_request_field(t, 1, 4, etag);
	expect_request_field(t, 1, 8, "304");

	/* Disabled centrally: kf_lookup still has a fresh entry... */
	off = record("alice", "\"active\": false", key_a()->line, NULL);
	serve(t, "alice", tu_xstrdup(off));
	at(2);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), 2);
	/* ...the account check is refused at once, and stores it. */
	assert_int_equal(kf_lookup_revalidate(t->f->ctx, "alice", &a), 0);
	expect_answer(t, a, KF_USER_INACTIVE, NULL);
	kf_answer_free(a);
	assert_int_equal(requests(t), 3);
	expect_entry(t, "alice", 200, 2, off);
	expect_lookup(t, "alice", NULL, KF_USER_INACTIVE, NULL);

	/* The API failing: the cache stands in, until CacheMaxStale. */
	api_mode(t, "status 500");
	at(3);
	a = NULL;
	assert_int_equal(kf_lookup_revalidate(t->f->ctx, "alice", &a), 0);
	expect_answer(t, a, KF_USER_INACTIVE, NULL);
	kf_answer_free(a);
	at(2 + MAX_STALE);
	a = (struct kf_answer *)&a;
	assert_int_equal(kf_lookup_revalidate(t->f->ctx, "alice", &a),
	    KF_ERR_HTTP);
	assert_null(a);
	assert_int_equal(requests(t), 5);
	expect_entry(t, "alice", 200, 2, off);
	free(off);
	free(etag);
}

/* ------------------------------------------- failed fetches change nothing */

static void
test_failed_fetch_leaves_the_entry_intact(void **state)
{
	struct lk *t = *state;
	char *good = record("alice", "", key_a()->line, NULL), *bytes;
	char *expired = tu_printf("\"exp\": %lld", (long long)TU_NOW);
	size_t len, i;
	static const struct {
		const char	*mode;	/* the API's _mode */
		int		 body;	/* what alice.json holds */
		const char	*why;	/* the logged reason, with its URL */
	} cases[] = {
		{ "status 500", 0, "/users/alice: HTTP status 500" },
		{ "status 403", 0, "/users/alice: HTTP status 403" },
		{ "garbage 600", 0, "/users/alice: response rejected" },
		{ "nul", 0, "/users/alice: response rejected" },
		{ "oversized 100000", 0, "/users/alice: response larger than "
		    "MaxResponseSize" },
		{ NULL, 1, "/users/alice: response rejected" },	/* mallory's */
		{ NULL, 2, "/users/alice: response rejected" },	/* not JSON */
		{ NULL, 3, "/users/alice: response rejected" },	/* past exp */
		{ "close", 0, "/users/alice: Server returned nothing" },
		{ "wrongtype", 4, "is a web page" },
	};

	serve(t, "alice", tu_xstrdup(good));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	bytes = entry(t, "alice", &len);
	assert_non_null(bytes);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		api_mode(t, cases[i].mode);
		switch (cases[i].body) {
		case 1:
			serve(t, "alice", record("mallory", "", key_b()->line,
			    NULL));
			break;
		case 2:
			serve(t, "alice", tu_xstrdup("{\"user\": \"alice\", "));
			break;
		case 3:
			serve(t, "alice", record("alice", expired,
			    key_b()->line, NULL));
			break;
		case 4:	/* new, so that the ETag does not match */
			serve(t, "alice", record("alice", "", key_b()->line,
			    NULL));
			break;
		default:
			serve(t, "alice", tu_xstrdup(good));
			break;
		}
		/* Stale, so it asks; the failure leaves the old answer. */
		at(TTL + (long)i);
		tu_log_reset(&t->f->log);
		expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line,
		    NULL);
		assert_int_equal(requests(t), 2 + i);
		assert_logged(&t->f->log, "user alice: API failing (http://");
		assert_logged(&t->f->log, cases[i].why);
		expect_entry_bytes(t, "alice", bytes, len);
		expect_no_temporary_files(t);
	}
	free(expired);
	free(bytes);
	free(good);
}

/* ----------------------------------------- entries that are not believed */

static void
test_corrupt_entry_is_a_logged_miss(void **state)
{
	struct lk *t = *state;
	char *good = record("alice", "", key_a()->line, NULL), *bytes, *bad;
	char *p, *garbage;
	size_t len, i, n;
	struct {
		const char	*what;
		char		*bytes;
		size_t		 len;
	} cases[8];

	serve(t, "alice", tu_xstrdup(good));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	bytes = entry(t, "alice", &len);
	assert_non_null(bytes);

	n = 0;
	cases[n].what = "truncated in the body";
	cases[n].bytes = tu_xstrdup(bytes);
	cases[n++].len = len - 5;
	cases[n].what = "truncated in the header";
	cases[n].bytes = tu_xstrdup(bytes);
	cases[n++].len = 30;
	cases[n].what = "bad magic";
	cases[n].bytes = tu_replace(bytes, "KEYFLEET-CACHE 1", "KEYFLEET-CACHE 2");
	cases[n].len = strlen(cases[n].bytes);
	n++;
	cases[n].what = "a longer length";
	p = tu_printf("\nlength %zu\n", strlen(good));
	bad = tu_printf("\nlength %zu\n", strlen(good) + 1);
	cases[n].bytes = tu_replace(bytes, p, bad);
	cases[n].len = strlen(cases[n].bytes);
	n++;
	free(bad);
	cases[n].what = "a shorter length";
	bad = tu_printf("\nlength %zu\n", strlen(good) - 1);
	cases[n].bytes = tu_replace(bytes, p, bad);
	cases[n].len = strlen(cases[n].bytes);
	n++;
	free(bad);
	free(p);
	cases[n].what = "garbage";
	garbage = tu_xmalloc(700);
	for (i = 0; i < 700; i++)
		garbage[i] = (char)((i * 7919 + 13) & 0xff);
	cases[n].bytes = garbage;
	cases[n++].len = 700;
	cases[n].what = "empty";
	cases[n].bytes = tu_xstrdup("");
	cases[n++].len = 0;
	cases[n].what = "a 404 with a body";
	cases[n].bytes = tu_replace(bytes, "status 200", "status 404");
	cases[n].len = strlen(cases[n].bytes);
	n++;

	for (i = 0; i < n; i++) {
		/* API up: a miss, fetched again, the entry rewritten. */
		print_message("  corrupt entry: %s\n", cases[i].what);
		put_entry(t, "alice", cases[i].bytes, cases[i].len, 0600);
		tu_log_reset(&t->f->log);
		expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line,
		    NULL);
		assert_int_equal(requests(t), 2 + i);
		expect_request_field(t, 1 + i, 4, "-");
		assert_logged(&t->f->log, "is corrupt; ignored");
		expect_entry(t, "alice", 200, 0, good);
	}

	/* API failing: a corrupt entry is no answer, and no crash. */
	api_mode(t, "status 500");
	for (i = 0; i < n; i++) {
		put_entry(t, "alice", cases[i].bytes, cases[i].len, 0600);
		tu_log_reset(&t->f->log);
		expect_no_answer(t, "alice", NULL, KF_ERR_HTTP);
		assert_logged(&t->f->log, "is corrupt; ignored");
		expect_entry_bytes(t, "alice", cases[i].bytes, cases[i].len);
	}
	for (i = 0; i < n; i++)
		free(cases[i].bytes);
	free(bytes);
	free(good);
}

/*
 * An entry that must not be believed (set up by spoil) is ignored and
 * logged with why: no answer while the API fails, a fetch when it works.
 */
static void
unsafe_entry(struct lk *t, const char *why,
    void (*spoil)(struct lk *, const char *, size_t))
{
	char *good = record("alice", "", key_a()->line, NULL), *bytes, *path;
	struct stat st;
	size_t len, n;

	serve(t, "alice", tu_xstrdup(good));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	bytes = entry(t, "alice", &len);
	assert_non_null(bytes);
	n = requests(t);

	/* Fresh and well-formed, but not to be believed. */
	spoil(t, bytes, len);
	api_mode(t, "status 500");
	tu_log_reset(&t->f->log);
	expect_no_answer(t, "alice", NULL, KF_ERR_HTTP);
	assert_logged(&t->f->log, why);
	assert_logged(&t->f->log, "ignored");
	assert_int_equal(requests(t), n + 1);

	/* The API answers: replaced by a good entry. */
	api_mode(t, NULL);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	assert_int_equal(requests(t), n + 2);
	path = entry_path(t, "alice");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	expect_entry(t, "alice", 200, 0, good);
	free(path);
	free(bytes);
	free(good);
}

static void
spoil_group_writable(struct lk *t, const char *bytes, size_t len)
{
	put_entry(t, "alice", bytes, len, 0620);
}

static void
spoil_world_writable(struct lk *t, const char *bytes, size_t len)
{
	put_entry(t, "alice", bytes, len, 0602);
}

static void
spoil_foreign_owner(struct lk *t, const char *bytes, size_t len)
{
	char *path = entry_path(t, "alice");

	put_entry(t, "alice", bytes, len, 0600);
	if (chown(path, NOBODY, NOBODY) != 0)
		TU_FATAL("chown %s: %s", path, strerror(errno));
	free(path);
}

/* The link's target: a valid entry, but one listing key B instead. */
static char *symlink_target, *symlink_bytes;

static void
spoil_symlink(struct lk *t, const char *bytes, size_t len)
{
	char *path = entry_path(t, "alice"), *body;
	int fd;

	(void)bytes;
	(void)len;
	body = record("alice", "", key_b()->line, NULL);
	free(symlink_bytes);
	symlink_bytes = tu_printf("KEYFLEET-CACHE 1\nstatus 200\nfetched %lld\n"
	    "length %zu\n\n%s", (long long)TU_NOW, strlen(body), body);
	free(body);
	free(symlink_target);
	symlink_target = tu_printf("%s/elsewhere-u-alice", t->base);
	fd = open(symlink_target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1 || write(fd, symlink_bytes, strlen(symlink_bytes)) !=
	    (ssize_t)strlen(symlink_bytes) || close(fd) != 0)
		TU_FATAL("write %s: %s", symlink_target, strerror(errno));
	unlink(path);
	if (symlink(symlink_target, path) != 0)
		TU_FATAL("symlink %s: %s", path, strerror(errno));
	free(path);
}

static void
test_group_or_world_writable_entry_is_ignored(void **state)
{
	unsafe_entry(*state, "is writable by group or others",
	    spoil_group_writable);
	unsafe_entry(*state, "is writable by group or others",
	    spoil_world_writable);
}

static void
test_foreign_owned_entry_is_ignored(void **state)
{
	if (geteuid() != 0) {
		print_message("  skipped: only root can give an entry to "
		    "another uid\n");
		skip();
	}
	unsafe_entry(*state, "is not owned by the cache directory's owner",
	    spoil_foreign_owner);
}

static void
test_symlink_entry_is_ignored(void **state)
{
	struct lk *t = *state;
	char *target;
	size_t len;

	/* Key B is never served from the link's target... */
	unsafe_entry(t, "a symbolic link", spoil_symlink);
	/* ...and the new entry replaced the link, not written through it. */
	assert_non_null(symlink_target);
	target = tu_read_file(symlink_target, &len);
	assert_non_null(target);
	assert_int_equal(len, strlen(symlink_bytes));
	assert_memory_equal(target, symlink_bytes, len);
	free(target);
	free(symlink_target);
	free(symlink_bytes);
	symlink_target = symlink_bytes = NULL;
}

/* ------------------------------------------- a cache that cannot be written */

/* What a lookup in a child that cannot write the cache reports. */
struct ro_result {
	int	r;
	int	status;
	int	nkeys;
	int	cannot_write;	/* logged that the entry was not written */
	char	line[1024];
};

static void
ro_lookup(struct lk *t, struct ro_result *res)
{
	struct kf_answer *a = NULL;
	const char *line;

	memset(res, 0, sizeof(*res));
	tu_log_reset(&t->f->log);
	res->r = lookup(t, "alice", NULL, &a);
	if (a != NULL) {
		res->status = kf_answer_status(a);
		res->nkeys = (int)kf_answer_key_count(a);
		if ((line = kf_answer_key_line(a, 0)) != NULL)
			snprintf(res->line, sizeof(res->line), "%s", line);
	}
	res->cannot_write = tu_log_find(&t->f->log, "cannot write an entry") !=
	    NULL;
	kf_answer_free(a);
}

static void
expect_ro_result(struct lk *t, const struct ro_result *res)
{
	if (res->r != 0)
		fail_msg("lookup with a read-only cache: %s",
		    kf_strerror(res->r));
	assert_int_equal(res->status, KF_USER_ACTIVE);
	assert_int_equal(res->nkeys, 1);
	assert_string_equal(res->line, key_a()->line);
	assert_true(res->cannot_write);
}

static void
test_read_only_cache_directory_still_answers(void **state)
{
	struct lk *t = *state;
	struct ro_result res[2];
	char *dir, *path, *tmpl;
	struct stat st;
	ssize_t got;
	pid_t pid;
	int pfd[2], status, i;

	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	if (geteuid() != 0) {
		assert_int_equal(chmod(t->cache, 0500), 0);
		ro_lookup(t, &res[0]);
		ro_lookup(t, &res[1]);
		assert_int_equal(chmod(t->cache, 0700), 0);
		dir = tu_xstrdup(t->cache);
	} else {
		/*
		 * Root writes anywhere: the lookups run in a child that
		 * gives up root for nobody, whose own cache directory is
		 * read-only (0500) under a directory nobody can traverse.
		 */
		/* In /tmp: $TMPDIR may be closed to nobody. */
		tmpl = tu_xstrdup("/tmp/kf-ro-XXXXXX");
		if (mkdtemp(tmpl) == NULL)
			TU_FATAL("mkdtemp %s: %s", tmpl, strerror(errno));
		t->elsewhere = tmpl;
		assert_int_equal(chmod(t->elsewhere, 0711), 0);
		dir = tu_printf("%s/cache", t->elsewhere);
		xmkdir(dir, 0500);
		assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
		configure_dir(t, dir, "");
		assert_int_equal(pipe(pfd), 0);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			if (setgroups(0, NULL) != 0 ||
			    setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
			    setresuid(NOBODY, NOBODY, NOBODY) != 0)
				_exit(3);
			ro_lookup(t, &res[0]);
			ro_lookup(t, &res[1]);
			if (write(pfd[1], res, sizeof(res)) !=
			    (ssize_t)sizeof(res))
				_exit(4);
			_exit(0);
		}
		close(pfd[1]);
		got = read(pfd[0], res, sizeof(res));
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
			print_message("  skipped: cannot drop root to uid %d "
			    "to get a cache directory this process cannot "
			    "write\n", NOBODY);
			free(dir);
			skip();
		}
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_int_equal(got, (ssize_t)sizeof(res));
	}
	/* Both answered from the API; nothing could be cached. */
	for (i = 0; i < 2; i++)
		expect_ro_result(t, &res[i]);
	assert_int_equal(requests(t), 2);
	path = tu_printf("%s/u-alice", dir);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	free(path);
	free(dir);
}

/* -------------------------------------------------------------- kf_flush */

static void
test_flush_one_user_and_all(void **state)
{
	struct lk *t = *state;
	char *bob, *cmd;
	size_t bob_len;

	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	serve(t, "bob", record("bob", "", key_b()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_a()->line, NULL);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	expect_lookup(t, "nobody-here", NULL, KF_USER_UNKNOWN, NULL);
	assert_int_equal(requests(t), 3);
	bob = entry(t, "bob", &bob_len);
	assert_non_null(bob);

	/* One user: only that entry goes, and only that user is asked. */
	assert_int_equal(kf_flush(t->f->ctx, "alice"), 1);
	expect_no_entry(t, "alice");
	expect_entry_bytes(t, "bob", bob, bob_len);
	assert_int_equal(kf_flush(t->f->ctx, "alice"), 0);
	serve(t, "alice", record("alice", "", key_c()->line, NULL));
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_c()->line, NULL);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	assert_int_equal(requests(t), 4);
	expect_request_field(t, 3, 3, "/users/alice");
	expect_request_field(t, 3, 4, "-");	/* not even conditional */

	/* Everyone, the negative entry included. */
	assert_int_equal(kf_flush(t->f->ctx, NULL), 3);
	expect_no_entry(t, "alice");
	expect_no_entry(t, "bob");
	expect_no_entry(t, "nobody-here");
	cmd = tu_printf("ls -A '%s' | grep -q '^[uf.]'", t->cache);
	if (system(cmd) == 0)
		fail_msg("kf_flush(NULL) left entries in %s", t->cache);
	free(cmd);
	assert_int_equal(kf_flush(t->f->ctx, NULL), 0);
	expect_lookup(t, "alice", NULL, KF_USER_ACTIVE, key_c()->line, NULL);
	expect_lookup(t, "bob", NULL, KF_USER_ACTIVE, key_b()->line, NULL);
	assert_int_equal(requests(t), 6);

	/* A name keyfleet never asks about is refused, nothing removed. */
	assert_int_equal(kf_flush(t->f->ctx, "../cache"), KF_ERR_USERNAME);
	assert_int_equal(kf_flush(t->f->ctx, ""), KF_ERR_USERNAME);
	expect_entry_bytes(t, "bob", bob, bob_len);
	free(bob);
}

/* ------------------------------------------------------------ coalescing */

#define CHILDREN	10

/* How a child's lookup ended (its exit code). */
enum outcome {
	GOT_KEY = 0,		/* alice, active, key A */
	GOT_HTTP_ERROR,		/* no answer: KF_ERR_HTTP (the fetch) */
	GOT_UNAVAILABLE,	/* no answer: KF_ERR_UNAVAILABLE (a waiter) */
	OUTCOMES
};

static int
child_lookup(struct lk *t, int go)
{
	struct kf_answer *a = NULL;
	char c;
	int r;

	if (read(go, &c, 1) != 0)
		return 20;
	r = lookup(t, "alice", NULL, &a);
	if (r == 0 && a != NULL && kf_answer_status(a) == KF_USER_ACTIVE &&
	    kf_answer_key_count(a) == 1 &&
	    strcmp(kf_answer_key_line(a, 0), key_a()->line) == 0)
		return GOT_KEY;
	if (r == KF_ERR_HTTP && a == NULL)
		return GOT_HTTP_ERROR;
	if (r == KF_ERR_UNAVAILABLE && a == NULL)
		return GOT_UNAVAILABLE;
	return 30 + (r < 0 ? -r : r);
}

/*
 * CHILDREN processes look alice up at the same moment, cold cache, and
 * count[] tells how their lookups ended; any other end fails the test.
 */
static void
concurrent_lookups(struct lk *t, int count[OUTCOMES])
{
	pid_t pids[CHILDREN];
	int go[2], i, status, bad = 0;

	memset(count, 0, OUTCOMES * sizeof(count[0]));
	(void)key_a();	/* made once, before the fork */
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	for (i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(go[1]);
			_exit(child_lookup(t, go[0]));
		}
	}
	close(go[0]);
	close(go[1]);	/* end of file: everyone starts now */
	for (i = 0; i < CHILDREN; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) < OUTCOMES) {
			count[WEXITSTATUS(status)]++;
			continue;
		}
		bad++;
		if (WIFEXITED(status))
			print_error("child %d exited %d\n", i,
			    WEXITSTATUS(status));
		else
			print_error("child %d killed by signal %d\n", i,
			    WTERMSIG(status));
	}
	assert_int_equal(bad, 0);
}

static void
test_concurrent_lookups_share_one_fetch(void **state)
{
	struct lk *t = *state;
	char *body = record("alice", "", key_a()->line, NULL);
	int count[OUTCOMES];

	serve(t, "alice", tu_xstrdup(body));
	tu_api_put(&t->api, "_latency_ms", "300");
	concurrent_lookups(t, count);
	assert_int_equal(count[GOT_KEY], CHILDREN);
	assert_int_equal(requests(t), 1);
	expect_request_field(t, 0, 8, "200");
	expect_entry(t, "alice", 200, 0, body);
	free(body);
}

static void
test_concurrent_lookups_share_one_failure(void **state)
{
	struct lk *t = *state;
	int count[OUTCOMES];

	serve(t, "alice", record("alice", "", key_a()->line, NULL));
	api_mode(t, "status 500");
	tu_api_put(&t->api, "_latency_ms", "300");
	concurrent_lookups(t, count);
	/* One fetch failed; the waiters did not repeat it. */
	assert_int_equal(count[GOT_HTTP_ERROR], 1);
	assert_int_equal(count[GOT_UNAVAILABLE], CHILDREN - 1);
	assert_int_equal(requests(t), 1);
	expect_no_entry(t, "alice");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cold_cache_fetches_and_stores_the_entry),
		T(test_fresh_entry_answers_without_a_request),
		T(test_record_ttl_shortens_freshness),
		T(test_record_ttl_does_not_lengthen_freshness),
		T(test_stale_entry_is_renewed_by_304),
		T(test_stale_entry_serves_while_the_api_is_down),
		T(test_stale_entry_serves_while_the_api_answers_500),
		T(test_a_timed_out_fetch_is_not_waited_out_again),
		T(test_cache_max_stale_zero_never_serves_stale),
		T(test_record_past_exp_is_never_served),
		T(test_404_is_remembered_for_negative_ttl),
		T(test_500_is_never_stored_as_negative),
		T(test_refused_user_name_asks_nobody),
		T(test_unknown_key_refetches_only_after_the_floor),
		T(test_unknown_key_refresh_no_never_refetches),
		T(test_listed_key_never_refetches),
		T(test_disabled_user_is_asked_again_after_the_floor),
		T(test_revalidate_asks_every_time_and_falls_back),
		T(test_failed_fetch_leaves_the_entry_intact),
		T(test_corrupt_entry_is_a_logged_miss),
		T(test_group_or_world_writable_entry_is_ignored),
		T(test_foreign_owned_entry_is_ignored),
		T(test_symlink_entry_is_ignored),
		T(test_read_only_cache_directory_still_answers),
		T(test_flush_one_user_and_all),
		T(test_concurrent_lookups_share_one_fetch),
		T(test_concurrent_lookups_share_one_failure),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
