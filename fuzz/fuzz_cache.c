/*
 * fuzz_cache.c - the bytes of a cache entry file through
 * kf_cache_entry_parse(), the reader behind kf_cache_read(); what it
 * accepts must come back the same when written in kf_cache_write()'s
 * format and read again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "cache.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY	(1024 * 1024)

static void
check_entry(const struct kf_cache_entry *e, size_t max_body)
{
	const char *p;

	FUZZ_CHECK(e->status == 200 || e->status == 404);
	FUZZ_CHECK(e->fetched >= 1);
	FUZZ_CHECK(e->body.data != NULL && e->body.len <= max_body &&
	    e->body.data[e->body.len] == '\0');
	FUZZ_CHECK(e->status == 200 || e->body.len == 0);
	/* It goes back to the API in If-None-Match: a header value. */
	if (e->etag != NULL) {
		FUZZ_CHECK(e->etag[0] != '\0' && strlen(e->etag) <= 256);
		for (p = e->etag; *p != '\0'; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 &&
			    (unsigned char)*p <= 0x7e);
	}
}

/* The entry in kf_cache_write()'s format, read again. */
static void
round_trip(const struct kf_cache_entry *e)
{
	struct kf_cache_entry again;
	char *buf;
	size_t len;
	int n;

	if ((buf = malloc(1024 + e->body.len)) == NULL)
		return;
	n = snprintf(buf, 1024, "KEYFLEET-CACHE 1\nstatus %ld\nfetched "
	    "%lld\n%s%s%slength %zu\n\n", e->status, (long long)e->fetched,
	    e->etag != NULL ? "etag " : "", e->etag != NULL ? e->etag : "",
	    e->etag != NULL ? "\n" : "", e->body.len);
	FUZZ_CHECK(n > 0 && n < 1024);
	memcpy(buf + n, e->body.data, e->body.len);
	len = (size_t)n + e->body.len;
	FUZZ_CHECK(kf_cache_entry_parse(buf, len, MAX_BODY, &again) == 0);
	FUZZ_CHECK(again.status == e->status && again.fetched == e->fetched);
	FUZZ_CHECK((again.etag == NULL) == (e->etag == NULL));
	FUZZ_CHECK(e->etag == NULL || strcmp(again.etag, e->etag) == 0);
	FUZZ_CHECK(again.body.len == e->body.len &&
	    memcmp(again.body.data, e->body.data, e->body.len) == 0);
	kf_cache_entry_clear(&again);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { MAX_BODY, 256 };
	struct kf_cache_entry e;
	size_t i;
	int r;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		r = kf_cache_entry_parse((const char *)data, size, limits[i],
		    &e);
		if (r != 0) {
			FUZZ_CHECK(r == KF_ERR_PARSE || r == KF_ERR_NOMEM);
			FUZZ_CHECK(e.etag == NULL && e.body.data == NULL);
			continue;
		}
		check_entry(&e, limits[i]);
		round_trip(&e);
		kf_cache_entry_clear(&e);
	}
	return 0;
}
