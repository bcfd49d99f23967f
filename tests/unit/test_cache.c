/*
 * test_cache.c - the cache entry reader (SPEC 4: "a corrupt or
 * foreign-owned entry is a miss, logged, never a crash"): what
 * kf_cache_write() stores reads back byte for byte, and what it would
 * never store is refused, by kf_cache_entry_parse() and by kf_cache_read()
 * on a file.  Inputs named after a fuzz finding are also seeds in
 * fuzz/corpus/cache.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cache.h"
#include "ctx.h"

#define MAX_BODY	(1024 * 1024)

/* A cache directory of its own for each test, and the cache on it. */
struct ct {
	struct tu_fixture	*f;
	char			*dir;
	struct kf_cache		*cache;
};

static int
setup(void **state)
{
	static unsigned n;
	struct ct *t = tu_xmalloc(sizeof(*t));
	void *fs;

	tu_setup(&fs);
	t->f = fs;
	t->dir = tu_printf("%s/cache-%u", tu_tmpdir(), n++);
	if (mkdir(t->dir, 0700) != 0)
		TU_FATAL("mkdir %s", t->dir);
	assert_int_equal(kf_cache_open(t->f->ctx, t->dir, &t->cache), 0);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct ct *t = *state;
	void *fs = t->f;

	kf_cache_close(t->cache);
	tu_remove_tree(t->dir);
	free(t->dir);
	tu_teardown(&fs);
	free(t);
	return 0;
}

/* Writes bytes as alice's entry file, as if kf_cache_write() had. */
static void
put_entry(struct ct *t, const char *bytes, size_t len)
{
	char *name = tu_printf("cache-entry-%p", (void *)t), *tmp, *path;

	tmp = tu_write_file(name, bytes, len, 0600);
	path = tu_printf("%s/u-alice", t->dir);
	if (rename(tmp, path) != 0)
		TU_FATAL("rename %s %s", tmp, path);
	free(path);
	free(tmp);
	free(name);
}

static int
parse(const char *bytes, size_t len, size_t max_body,
    struct kf_cache_entry *e)
{
	memset(e, 0x5a, sizeof(*e));	/* whatever was there before */
	return kf_cache_entry_parse(bytes, len, max_body, e);
}

/* The reader refuses bytes: the entry comes back empty. */
static void
assert_refused(const char *what, const char *bytes, size_t len,
    size_t max_body)
{
	struct kf_cache_entry e;
	int r;

	if ((r = parse(bytes, len, max_body, &e)) != KF_ERR_PARSE)
		fail_msg("%s: got %s, want a corrupt entry", what,
		    kf_strerror(r));
	assert_null(e.etag);
	assert_null(e.body.data);
	assert_int_equal(e.body.len, 0);
}

static void
test_entry_reads_back_as_written(void **state)
{
	struct ct *t = *state;
	static const char body[] = "{\"user\":\"alice\"}\n\n\0 binary\n\n";
	struct kf_cache_entry in, out;
	char *path, *bytes;
	size_t len;

	memset(&in, 0, sizeof(in));
	in.status = 200;
	in.fetched = TU_NOW - 5;
	in.etag = tu_xstrdup("W/\"33a64df5 5142\"");
	kf_buf_init(&in.body, 0);
	assert_int_equal(kf_buf_append(&in.body, body, sizeof(body)), 0);
	assert_int_equal(kf_cache_write(t->cache, "alice", &in), 0);

	assert_int_equal(kf_cache_read(t->cache, "alice", MAX_BODY, &out), 0);
	assert_int_equal(out.status, 200);
	assert_int_equal(out.fetched, TU_NOW - 5);
	assert_string_equal(out.etag, in.etag);
	assert_int_equal(out.body.len, sizeof(body));
	assert_memory_equal(out.body.data, body, sizeof(body));
	kf_cache_entry_clear(&out);

	/* The same through the buffer entry point, from the file's bytes. */
	path = tu_printf("%s/u-alice", t->dir);
	bytes = tu_read_file(path, &len);
	assert_non_null(bytes);
	assert_int_equal(parse(bytes, len, MAX_BODY, &out), 0);
	assert_string_equal(out.etag, in.etag);
	assert_memory_equal(out.body.data, body, sizeof(body));
	kf_cache_entry_clear(&out);
	/* A body over max_body is refused, not cut short. */
	assert_refused("body over max_body", bytes, len, sizeof(body) - 1);

	free(bytes);
	free(path);
	kf_cache_entry_clear(&in);
}

static void
test_negative_entry_has_no_body(void **state)
{
	static const char neg[] = "KEYFLEET-CACHE 1\nstatus 404\n"
	    "fetched 1790000000\nlength 0\n\n";
	static const char neg_body[] = "KEYFLEET-CACHE 1\nstatus 404\n"
	    "fetched 1790000000\nlength 2\n\n{}";
	struct kf_cache_entry e;

	(void)state;
	assert_int_equal(parse(neg, sizeof(neg) - 1, MAX_BODY, &e), 0);
	assert_int_equal(e.status, 404);
	assert_null(e.etag);
	assert_int_equal(e.body.len, 0);
	kf_cache_entry_clear(&e);
	assert_refused("a 404 with a body", neg_body, sizeof(neg_body) - 1,
	    MAX_BODY);
}

static void
test_malformed_headers_are_refused(void **state)
{
	static const struct {
		const char	*what;
		const char	*bytes;
	} cases[] = {
		{ "empty", "" },
		{ "magic only", "KEYFLEET-CACHE 1\n" },
		{ "other version", "KEYFLEET-CACHE 2\nstatus 200\n"
		    "fetched 1\nlength 0\n\n" },
		{ "no empty line", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1\nlength 0\n" },
		{ "status 304", "KEYFLEET-CACHE 1\nstatus 304\n"
		    "fetched 1\nlength 0\n\n" },
		{ "fetched 0", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 0\nlength 0\n\n" },
		{ "signed length", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1\nlength -0\n\n" },
		{ "longer length", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1\nlength 3\n\nab" },
		{ "shorter length", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1\nlength 1\n\nab" },
		{ "fields out of order", "KEYFLEET-CACHE 1\nfetched 1\n"
		    "status 200\nlength 0\n\n" },
		{ "unknown field", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1\nvary x\nlength 0\n\n" },
		{ "empty etag", "KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1\netag \nlength 0\n\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused(cases[i].what, cases[i].bytes,
		    strlen(cases[i].bytes), MAX_BODY);
}

/*
 * Fuzz finding (fuzz/corpus/cache/regress-etag-*): the reader took any
 * ETag but a newline, although lib/fetch.c only ever stores printable
 * ASCII, and the ETag goes back to the API in If-None-Match.  A CR in the
 * file would have reached the request.
 */
static void
test_etag_that_fetch_would_not_store_is_refused(void **state)
{
	struct ct *t = *state;
	static const char *etags[] = {
		"\"a\"\rX-Injected: 1",	/* CR: request splitting */
		"\xff",			/* the fuzzer's: not ASCII */
		"\"a\tb\"",
		"\"\x7f\"",
	};
	struct kf_cache_entry e;
	char *bytes, *big;
	size_t i;

	for (i = 0; i < sizeof(etags) / sizeof(etags[0]); i++) {
		bytes = tu_printf("KEYFLEET-CACHE 1\nstatus 200\n"
		    "fetched 1790000000\netag %s\nlength 2\n\n{}", etags[i]);
		assert_refused(etags[i], bytes, strlen(bytes), MAX_BODY);
		/* From a file: a logged miss. */
		put_entry(t, bytes, strlen(bytes));
		tu_log_reset(&t->f->log);
		assert_int_equal(kf_cache_read(t->cache, "alice", MAX_BODY,
		    &e), KF_ERR_PARSE);
		assert_null(e.etag);
		assert_logged(&t->f->log, "is corrupt; ignored");
		free(bytes);
	}

	/* 256 characters, lib/fetch.c's limit, are an ETag; 257 are not. */
	big = tu_repeat('e', 256);
	bytes = tu_printf("KEYFLEET-CACHE 1\nstatus 200\nfetched 1\n"
	    "etag %s\nlength 0\n\n", big);
	assert_int_equal(parse(bytes, strlen(bytes), MAX_BODY, &e), 0);
	assert_string_equal(e.etag, big);
	kf_cache_entry_clear(&e);
	free(bytes);
	free(big);
	big = tu_repeat('e', 257);
	bytes = tu_printf("KEYFLEET-CACHE 1\nstatus 200\nfetched 1\n"
	    "etag %s\nlength 0\n\n", big);
	assert_refused("a 257-character ETag", bytes, strlen(bytes),
	    MAX_BODY);
	free(bytes);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_entry_reads_back_as_written, setup, teardown),
		cmocka_unit_test(test_negative_entry_has_no_body),
		cmocka_unit_test(test_malformed_headers_are_refused),
		cmocka_unit_test_setup_teardown(
		    test_etag_that_fetch_would_not_store_is_refused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
