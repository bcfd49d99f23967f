/*
 * test_jws.c - signed responses (SPEC section 3, "Signatures"): JWS
 * compact serializations made by openssl and Python's cryptography (see
 * tu_sign.h), verified by keyfleet against SigningKey, through the whole
 * lookup against a real HTTP API and cache.  Every refusal must grant
 * nothing and leave the cache entry byte for byte as it was.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "tu_sign.h"

#include "config_file.h"
#include "ctx.h"
#include "jws.h"
#include "sig.h"
#include "util.h"

#define TTL		300
#define EXP		(TU_NOW + 3600)

static time_t clock_now = TU_NOW;

static time_t
test_now(void)
{
	return clock_now;
}

struct jt {
	struct tu_fixture	*f;
	struct tu_api		 api;
	char			*base;
	char			*cache;
};

static unsigned serial;

/* Loads a config for the test's API and cache plus the lines in extra. */
static void
configure(struct jt *t, const char *extra)
{
	struct kf_config *cfg = NULL;
	char *text, *path;
	int r;

	text = tu_printf("URL http://127.0.0.1:%d/users/%%u\nAllowHTTP yes\n"
	    "CacheDirectory %s\nCacheTTL %d\nCacheMaxStale 86400\n"
	    "Timeout 5\nLogLevel debug\n%s", t->api.port, t->cache, TTL,
	    extra);
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
}

/* SigningKey lines for the Ed25519 key 0 and the P-256 key 0. */
static char *
both_keys(const char *more)
{
	return tu_printf("SigningKey %s\nSigningKey %s\n%s",
	    tu_sigkey(TU_SIG_ED25519, 0)->pub, tu_sigkey(TU_SIG_P256, 0)->pub,
	    more);
}

static void
configure_signed(struct jt *t, const char *more)
{
	char *extra = both_keys(more);

	configure(t, extra);
	free(extra);
}

static int
setup(void **state)
{
	struct jt *t = tu_xmalloc(sizeof(*t));
	void *inner = NULL;
	char *apidir;

	memset(t, 0, sizeof(*t));
	tu_setup(&inner);
	t->f = inner;
	t->f->ctx->now = test_now;
	clock_now = TU_NOW;
	t->base = tu_printf("%s/jws-%u", tu_tmpdir(), ++serial);
	t->cache = tu_printf("%s/cache", t->base);
	if (mkdir(t->base, 0700) != 0 || mkdir(t->cache, 0700) != 0)
		TU_FATAL("mkdir %s: %s", t->cache, strerror(errno));
	apidir = tu_printf("%s/api", t->base);
	tu_api_start(&t->api, apidir);
	free(apidir);
	configure_signed(t, "");
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct jt *t = *state;
	void *inner = t->f;

	tu_api_free(&t->api);
	tu_teardown(&inner);
	tu_remove_tree(t->base);
	free(t->base);
	free(t->cache);
	free(t);
	return 0;
}

/* ---------------------------------------------------------- helpers */

/* base64url without padding, built from testutil's independent base64. */
static char *
b64url(const char *s, size_t n)
{
	char *b = tu_b64(s, n), *p, *q;

	for (p = q = b; *p != '\0'; p++) {
		if (*p == '=')
			continue;
		*q++ = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	}
	*q = '\0';
	return b;
}

/* alice's record with her ed25519 key; extra adds members ("" for none). */
static char *
record(const char *user, const char *extra)
{
	return tu_printf("{\"user\": \"%s\", \"keys\": [\"%s\"]%s%s}", user,
	    tu_key(TU_ED25519)->line, *extra != '\0' ? ", " : "", extra);
}

/* A record with exp, signed by key (kind, n) under header. */
static char *
signed_record(enum tu_sigkind kind, int n, const char *header,
    const char *user, const char *extra)
{
	char *members, *rec, *jws;

	members = tu_printf("\"exp\": %lld%s%s", (long long)EXP,
	    *extra != '\0' ? ", " : "", extra);
	rec = record(user, members);
	jws = tu_jws_sign(tu_sigkey(kind, n)->priv, header, rec);
	free(members);
	free(rec);
	return jws;
}

/* alice's record with exactly the members given, signed by Ed25519 0. */
static char *
ed_signed_exactly(const char *members)
{
	char *rec = record("alice", members), *jws;

	jws = tu_jws_sign(tu_sigkey(TU_SIG_ED25519, 0)->priv,
	    "{\"alg\":\"EdDSA\"}", rec);
	free(rec);
	return jws;
}

static char *
ed_signed(const char *extra)
{
	return signed_record(TU_SIG_ED25519, 0, "{\"alg\":\"EdDSA\"}", "alice",
	    extra);
}

/* Serves body as alice.jws (application/jose); takes body. */
static void
serve(struct jt *t, char *body)
{
	tu_api_put(&t->api, "alice.jws", body);
	free(body);
}

static char *
entry_path(struct jt *t)
{
	return tu_cache_entry_path(t->cache, "alice");
}

/* The bytes of alice's cache entry, or NULL when there is none. */
static char *
entry(struct jt *t, size_t *len)
{
	return tu_cache_entry(t->cache, "alice", len);
}

/* A lookup that must give alice exactly her ed25519 key. */
static void
expect_alice(struct jt *t, int revalidate)
{
	struct kf_answer *a = NULL;
	int r;

	r = revalidate ? kf_lookup_revalidate(t->f->ctx, "alice", &a) :
	    kf_lookup(t->f->ctx, "alice", NULL, NULL, &a);
	if (r != 0 || a == NULL) {
		tu_log_print(&t->f->log);
		fail_msg("lookup of alice: %s", kf_strerror(r));
	}
	assert_int_equal(kf_answer_status(a), KF_USER_ACTIVE);
	assert_int_equal(kf_answer_key_count(a), 1);
	assert_string_equal(kf_answer_key_line(a, 0), tu_key(TU_ED25519)->line);
	kf_answer_free(a);
}

/* A lookup that must give no answer at all. */
static void
expect_refused(struct jt *t)
{
	struct kf_answer *a = (struct kf_answer *)&a;	/* poisoned */
	int r;

	r = kf_lookup(t->f->ctx, "alice", NULL, NULL, &a);
	if (r == 0) {
		tu_log_print(&t->f->log);
		fail_msg("lookup of alice answered (%d key(s))",
		    a != NULL ? (int)kf_answer_key_count(a) : -1);
	}
	assert_null(a);
}

/*
 * The refusal drill for one bad response, which must be rejected with a
 * logged reason containing why:
 *  - cold cache: no answer, and no entry is written;
 *  - warm cache (a good signed record fetched earlier): the API's bad
 *    answer is refused, the cached answer serves (stale-if-error), and
 *    the entry is byte-identical afterwards.
 */
static void
expect_rejected(struct jt *t, char *bad, const char *why)
{
	char *before, *after, *path;
	size_t before_len, after_len;

	/* Cold. */
	path = entry_path(t);
	unlink(path);
	free(path);
	tu_api_put(&t->api, "alice.jws", bad);
	tu_log_reset(&t->f->log);
	expect_refused(t);
	assert_logged(&t->f->log, "response rejected");
	assert_logged(&t->f->log, why);
	assert_null(entry(t, NULL));

	/* Warm. */
	serve(t, ed_signed(""));
	expect_alice(t, 0);
	before = entry(t, &before_len);
	assert_non_null(before);
	tu_api_put(&t->api, "alice.jws", bad);
	tu_log_reset(&t->f->log);
	expect_alice(t, 1);	/* revalidate: asks the API, gets bad */
	assert_logged(&t->f->log, why);
	assert_logged(&t->f->log, "serving the cached answer");
	after = entry(t, &after_len);
	assert_non_null(after);
	if (after_len != before_len || memcmp(before, after, after_len) != 0)
		fail_msg("cache entry changed:\n%s\n---\n%s", before, after);
	free(before);
	free(after);
	free(bad);
}

/* Splits a JWS into its three segments (fails the test otherwise). */
static void
segments(const char *jws, char **h, char **p, char **s)
{
	const char *d1 = strchr(jws, '.'), *d2;

	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	*h = tu_printf("%.*s", (int)(d1 - jws), jws);
	*p = tu_printf("%.*s", (int)(d2 - d1 - 1), d1 + 1);
	*s = tu_xstrdup(d2 + 1);
}

/* ---------------------------------------------------------- decoding */

/*
 * RFC 8037 appendix A.4: the published Ed25519 JWS, checked with the
 * published public key (A.2), as PEM SubjectPublicKeyInfo.
 */
static void
test_rfc8037_example_verifies(void **state)
{
	static const char jws_text[] =
	    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
	    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5B"
	    "hVsPt9g7sVvpAr_MuM0KAg";
	/* 302a300506032b6570032100 || d75a9801...07511a, base64. */
	static const char pem[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
	    "-----END PUBLIC KEY-----\n";
	struct kf_sigkeys keys = { NULL, 0 };
	const struct kf_sigkey *key;
	struct kf_jws jws;
	const char *why = NULL;
	char *tampered;

	(void)state;
	assert_int_equal(kf_sigkeys_add_pem(&keys, pem, strlen(pem), "rfc8037",
	    &why), 0);
	assert_int_equal(keys.n, 1);
	assert_int_equal(keys.v[0].alg, KF_SIG_EDDSA);

	assert_int_equal(kf_jws_decode(jws_text, strlen(jws_text), &jws,
	    &why), 0);
	assert_int_equal(jws.alg, KF_SIG_EDDSA);
	assert_int_equal(jws.payload.len, strlen("Example of Ed25519 signing"));
	assert_memory_equal(jws.payload.data, "Example of Ed25519 signing",
	    jws.payload.len);
	assert_int_equal(kf_jws_verify(&jws, &keys, &key, &why), 0);
	assert_ptr_equal(key, &keys.v[0]);
	kf_jws_clear(&jws);

	/* One changed payload character ("E" -> "F" in "Example"). */
	tampered = tu_replace(jws_text, ".RXhh", ".RXhi");
	assert_int_equal(kf_jws_decode(tampered, strlen(tampered), &jws,
	    &why), 0);
	assert_int_equal(kf_jws_verify(&jws, &keys, &key, &why),
	    KF_ERR_SIGNATURE);
	assert_null(key);
	kf_jws_clear(&jws);
	free(tampered);
	kf_sigkeys_free(&keys);
}

static void
test_malformed_compact_serializations_are_refused(void **state)
{
	static const struct {
		const char	*text;
		const char	*why;
	} bad[] = {
		{ "eyJhbGciOiJFZERTQSJ9.e30", "fewer than three" },
		{ "eyJhbGciOiJFZERTQSJ9", "fewer than three" },
		{ "eyJhbGciOiJFZERTQSJ9.e30.AAAA.AAAA", "more than three" },
		{ "eyJhbGciOiJFZERTQSJ9.e30.AA.AA.AA", "more than three" },
		{ ".e30.AAAA", "header is empty" },
		{ "eyJhbGciOiJFZERTQSJ9..AAAA", "payload is empty" },
		{ "eyJhbGciOiJFZERTQSJ9.e30.", "signature is empty" },
		{ "eyJhbGciOiJFZERTQSJ9.e30=.AAAA", "padding" },
		{ "eyJhbGciOiJFZERTQSJ9.e3!0.AAAA", "not valid base64url" },
		{ "eyJhbGciOiJFZERTQSJ9.e30.AA+A", "not valid base64url" },
		{ "bm90IGpzb24.e30.AAAA", "not valid JSON" },
		{ "WzFd.e30.AAAA", "not a JSON object" },
		{ "e30.e30.AAAA", "no string \"alg\"" },
		{ "eyJhbGciOiJub25lIn0.e30.AAAA", "\"none\" is not accepted" },
		{ "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "\"HS256\" is not accepted" },
		{ "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", "\"RS256\" is not accepted" },
		/* {"alg":"EdDSA","crit":["exp"]} */
		{ "eyJhbGciOiJFZERTQSIsImNyaXQiOlsiZXhwIl19.e30.AAAA", "crit" },
		/* {"alg":"EdDSA","alg":"EdDSA"} */
		{ "eyJhbGciOiJFZERTQSIsImFsZyI6IkVkRFNBIn0.e30.AAAA",
		    "not valid JSON" },
		{ "eyJhbGciOiJFZERTQSJ9.e30.AAAA", "signature is 3 bytes" },
	};
	struct kf_jws jws;
	const char *why;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		r = kf_jws_decode(bad[i].text, strlen(bad[i].text), &jws, &why);
		if (r == 0 || why == NULL || strstr(why, bad[i].why) == NULL)
			fail_msg("\"%s\": %d, \"%s\"; expected a refusal "
			    "naming \"%s\"", bad[i].text, r,
			    why != NULL ? why : "(no reason)", bad[i].why);
	}
}

/* ---------------------------------------------------- accepted records */

static void
test_ed25519_and_es256_records_are_served_and_cached_as_sent(void **state)
{
	struct jt *t = *state;
	char *jws, *bytes;

	jws = ed_signed("");
	tu_api_put(&t->api, "alice.jws", jws);
	expect_alice(t, 0);
	assert_logged(&t->f->log, "EdDSA signature verified");
	/* The cache keeps the signed bytes themselves. */
	bytes = entry(t, NULL);
	assert_non_null(bytes);
	assert_non_null(strstr(bytes, jws));
	free(bytes);
	free(jws);
	/* A cache hit verifies again (the entry might have been altered). */
	tu_log_reset(&t->f->log);
	expect_alice(t, 0);
	assert_int_equal(tu_api_requests(&t->api), 1);
	assert_logged(&t->f->log, "EdDSA signature verified");

	serve(t, signed_record(TU_SIG_P256, 0, "{\"alg\":\"ES256\"}", "alice",
	    ""));
	tu_log_reset(&t->f->log);
	expect_alice(t, 1);
	assert_logged(&t->f->log, "ES256 signature verified");
}

static void
test_rotation_header_extras_and_trailing_newline(void **state)
{
	struct jt *t = *state;
	char *extra, *jws, *nl;

	/* The second of two configured Ed25519 keys, and a kid and typ. */
	extra = both_keys("");
	nl = tu_printf("%sSigningKey %s\n", extra,
	    tu_sigkey(TU_SIG_ED25519, 1)->pub);
	configure(t, nl);
	free(extra);
	free(nl);
	serve(t, signed_record(TU_SIG_ED25519, 1,
	    "{\"alg\":\"EdDSA\",\"kid\":\"2026-11\",\"typ\":\"JWT\"}", "alice",
	    ""));
	expect_alice(t, 1);
	/* A static file ending in a newline, as editors and echo make it. */
	jws = ed_signed("");
	nl = tu_printf("%s\n", jws);
	serve(t, nl);
	expect_alice(t, 1);
	nl = tu_printf("%s\r\n", jws);
	serve(t, nl);
	expect_alice(t, 1);
	/* Nothing else trails: not a lone CR, not a space, not two lines. */
	nl = tu_printf("%s\r", jws);
	serve(t, nl);
	tu_log_reset(&t->f->log);
	expect_alice(t, 1);	/* the cached copy, after a refusal */
	assert_logged(&t->f->log, "signature is not valid base64url");
	nl = tu_printf("%s\n\n", jws);
	serve(t, nl);
	tu_log_reset(&t->f->log);
	expect_alice(t, 1);
	assert_logged(&t->f->log, "signature is not valid base64url");
	free(jws);
}

static void
test_audience_as_string_or_array(void **state)
{
	struct jt *t = *state;

	configure_signed(t, "Audience fleet-eu\n");
	serve(t, ed_signed("\"aud\": \"fleet-eu\""));
	expect_alice(t, 1);
	serve(t, ed_signed("\"aud\": [\"fleet-us\", \"fleet-eu\"]"));
	expect_alice(t, 1);
	/* iat a little ahead: clocks differ by a few seconds. */
	serve(t, ed_signed("\"aud\": \"fleet-eu\", \"iat\": 1790000030"));
	expect_alice(t, 1);
}

/* --------------------------------------------------------- rejections */

static void
test_bad_signature_is_refused(void **state)
{
	struct jt *t = *state;
	char *jws = ed_signed(""), *h, *p, *s, *bad;

	segments(jws, &h, &p, &s);
	s[0] = s[0] == 'A' ? 'B' : 'A';	/* another valid signature value */
	bad = tu_printf("%s.%s.%s", h, p, s);
	expect_rejected(t, bad, "does not verify with any SigningKey");
	free(h);
	free(p);
	free(s);
	free(jws);
}

static void
test_tampered_payload_is_refused(void **state)
{
	struct jt *t = *state;
	char *jws = ed_signed(""), *h, *p, *s, *rec, *bad, *p2;

	/* The same signature over a payload granting another key. */
	segments(jws, &h, &p, &s);
	rec = tu_printf("{\"user\": \"alice\", \"keys\": [\"%s\", \"%s\"], "
	    "\"exp\": %lld}", tu_key(TU_ED25519)->line,
	    tu_key(TU_ECDSA256)->line, (long long)EXP);
	p2 = b64url(rec, strlen(rec));
	bad = tu_printf("%s.%s.%s", h, p2, s);
	expect_rejected(t, bad, "does not verify");
	free(h);
	free(p);
	free(p2);
	free(s);
	free(rec);
	free(jws);
}

static void
test_signature_by_an_unconfigured_key_is_refused(void **state)
{
	struct jt *t = *state;

	expect_rejected(t, signed_record(TU_SIG_ED25519, 2,
	    "{\"alg\":\"EdDSA\"}", "alice", ""),
	    "does not verify with any SigningKey");
	expect_rejected(t, signed_record(TU_SIG_P256, 2,
	    "{\"alg\":\"ES256\"}", "alice", ""),
	    "does not verify with any SigningKey");
}

static void
test_alg_none_is_refused(void **state)
{
	struct jt *t = *state;
	char *rec, *h, *p, *hdr;

	rec = record("alice", "\"exp\": 1790003600");
	hdr = tu_xstrdup("{\"alg\":\"none\"}");
	h = b64url(hdr, strlen(hdr));
	p = b64url(rec, strlen(rec));
	expect_rejected(t, tu_printf("%s.%s.", h, p),
	    "JWS alg \"none\" is not accepted");
	free(rec);
	free(hdr);
	free(h);
	free(p);
}

static void
test_hs256_with_the_public_key_as_secret_is_refused(void **state)
{
	struct jt *t = *state;
	char *rec, *bad;

	rec = record("alice", "\"exp\": 1790003600");
	bad = tu_jws_sign(tu_sigkey(TU_SIG_ED25519, 0)->pub,
	    "{\"alg\":\"HS256\"}", rec);
	expect_rejected(t, bad, "JWS alg \"HS256\" is not accepted");
	free(rec);
}

static void
test_alg_and_key_type_must_match(void **state)
{
	struct jt *t = *state;
	char *extra;

	/* Signed by the P-256 key under an EdDSA header: no Ed25519 key
	 * verifies it, and the P-256 key is never tried. */
	expect_rejected(t, signed_record(TU_SIG_P256, 0, "{\"alg\":\"EdDSA\"}",
	    "alice", ""), "does not verify with any SigningKey");
	expect_rejected(t, signed_record(TU_SIG_ED25519, 0,
	    "{\"alg\":\"ES256\"}", "alice", ""),
	    "does not verify with any SigningKey");
	/* Only an Ed25519 key configured: an ES256 JWS has nothing to match. */
	extra = tu_printf("SigningKey %s\n", tu_sigkey(TU_SIG_ED25519, 0)->pub);
	configure(t, extra);
	free(extra);
	expect_rejected(t, signed_record(TU_SIG_P256, 0, "{\"alg\":\"ES256\"}",
	    "alice", ""), "JWS alg ES256, but no SigningKey is a P-256 key");
}

static void
test_truncated_and_extra_segments_are_refused(void **state)
{
	struct jt *t = *state;
	char *jws = ed_signed(""), *h, *p, *s;

	segments(jws, &h, &p, &s);
	expect_rejected(t, tu_printf("%s.%s", h, p), "fewer than three");
	expect_rejected(t, tu_printf("%s.%s.%.40s", h, p, s),
	    "signature is 30 bytes");
	expect_rejected(t, tu_printf("%s.%s.%s.%s", h, p, s, s),
	    "more than three");
	expect_rejected(t, tu_printf("%s.%s.%s.", h, p, s), "more than three");
	free(h);
	free(p);
	free(s);
	free(jws);
}

static void
test_base64_padding_is_refused(void **state)
{
	struct jt *t = *state;
	char *jws, *h, *p, *s, *rec;

	/* A payload whose length is not a multiple of 3 needs padding. */
	rec = record("alice", "\"exp\": 1790003600, \"x\": 1");
	if (strlen(rec) % 3 == 0) {
		free(rec);
		rec = record("alice", "\"exp\": 1790003600, \"x\": 12");
	}
	jws = tu_jws_sign(tu_sigkey(TU_SIG_ED25519, 0)->priv,
	    "{\"alg\":\"EdDSA\"}", rec);
	segments(jws, &h, &p, &s);
	expect_rejected(t, tu_printf("%s.%s%s.%s", h, p,
	    strlen(rec) % 3 == 1 ? "==" : "=", s), "padding");
	free(h);
	free(p);
	free(s);
	free(jws);
	free(rec);
}

static void
test_exp_is_required_and_honoured(void **state)
{
	struct jt *t = *state;

	expect_rejected(t, ed_signed_exactly("\"exp\": 1789999999"),
	    "past its exp");
	expect_rejected(t, ed_signed_exactly("\"exp\": 1790000000"),
	    "past its exp");
	expect_rejected(t, ed_signed_exactly(""),
	    "signed record has no \"exp\"");
	expect_rejected(t, ed_signed_exactly("\"exp\": \"tomorrow\""),
	    "not a non-negative integer");
}

static void
test_iat_in_the_future_is_refused(void **state)
{
	struct jt *t = *state;

	expect_rejected(t, ed_signed("\"iat\": 1790000600"),
	    "\"iat\" is in the future");
}

static void
test_audience_mismatch_is_refused(void **state)
{
	struct jt *t = *state;
	struct kf_answer *a = NULL;

	configure_signed(t, "Audience fleet-eu\n");
	/* expect_rejected warms the cache with a record that has no aud,
	 * which this Audience refuses: warm it by hand instead. */
	serve(t, ed_signed("\"aud\": \"fleet-us\""));
	tu_log_reset(&t->f->log);
	assert_int_equal(kf_lookup(t->f->ctx, "alice", NULL, NULL, &a),
	    KF_ERR_AUDIENCE);
	assert_null(a);
	assert_logged(&t->f->log, "no trustworthy answer (http://");
	assert_logged(&t->f->log, "does not name this Audience");
	assert_null(entry(t, NULL));
	serve(t, ed_signed("\"aud\": [\"fleet-us\"]"));
	tu_log_reset(&t->f->log);
	expect_refused(t);
	assert_logged(&t->f->log, "does not name this Audience");
	serve(t, ed_signed("\"aud\": [\"fleet-us\", 7, \"fleet-eu\"]"));
	tu_log_reset(&t->f->log);
	expect_refused(t);
	assert_logged(&t->f->log, "neither a string nor an array of strings");
	serve(t, ed_signed(""));
	tu_log_reset(&t->f->log);
	expect_refused(t);
	assert_logged(&t->f->log, "has no \"aud\", but Audience is set");
	assert_null(entry(t, NULL));
}

static void
test_valid_signature_for_another_user_is_refused(void **state)
{
	struct jt *t = *state;

	expect_rejected(t, signed_record(TU_SIG_ED25519, 0,
	    "{\"alg\":\"EdDSA\"}", "bob", ""), "record is for another user");
}

static void
test_unsigned_record_is_refused_when_signing_is_on(void **state)
{
	struct jt *t = *state;

	tu_api_put(&t->api, "alice.json", NULL);
	expect_rejected(t, record("alice", "\"exp\": 1790003600"),
	    "unsigned response, but SigningKey requires a signed one");
}

/* ------------------------------------------------------------- cache */

static void
test_cached_copy_past_exp_is_never_served(void **state)
{
	struct jt *t = *state;
	struct kf_answer *a = NULL;

	serve(t, ed_signed_exactly("\"exp\": 1790000100, \"ttl\": 30"));
	expect_alice(t, 0);
	tu_api_put(&t->api, "_mode", "status 500");
	clock_now = TU_NOW + 60;	/* stale, exp ahead: served */
	expect_alice(t, 0);
	clock_now = TU_NOW + 101;	/* past exp: never */
	tu_log_reset(&t->f->log);
	assert_int_not_equal(kf_lookup(t->f->ctx, "alice", NULL, NULL, &a), 0);
	assert_null(a);
	assert_logged(&t->f->log, "past its exp");
	/* Fresh by CacheTTL, but past exp: not served either. */
	tu_api_put(&t->api, "_mode", NULL);
	serve(t, ed_signed_exactly("\"exp\": 1790000200"));
	clock_now = TU_NOW + 150;
	expect_alice(t, 0);
	tu_api_put(&t->api, "_mode", "status 500");
	clock_now = TU_NOW + 201;
	tu_log_reset(&t->f->log);
	assert_int_not_equal(kf_lookup(t->f->ctx, "alice", NULL, NULL, &a), 0);
	assert_null(a);
}

static void
test_altered_cache_entry_is_not_trusted(void **state)
{
	struct jt *t = *state;
	char *bytes, *jws, *h, *p, *s, *p2, *rec, *forged, *path, *fixed;
	char *len_old, *len_new, *target;
	struct kf_answer *a = NULL;

	jws = ed_signed("");
	tu_api_put(&t->api, "alice.jws", jws);
	expect_alice(t, 0);
	/* Whoever can write the cache swaps in a payload with their key. */
	segments(jws, &h, &p, &s);
	rec = tu_printf("{\"user\": \"alice\", \"keys\": [\"%s\"], "
	    "\"exp\": %lld}", tu_key(TU_ECDSA256)->line, (long long)EXP);
	p2 = b64url(rec, strlen(rec));
	bytes = entry(t, NULL);
	forged = tu_replace(bytes, p, p2);
	/* ...and fixes up the entry's length, so that only the signature
	 * stands in the way. */
	len_old = tu_printf("\nlength %zu\n",
	    strlen(tu_cache_entry_body(bytes)));
	len_new = tu_printf("\nlength %zu\n",
	    strlen(tu_cache_entry_body(forged)));
	fixed = tu_replace(forged, len_old, len_new);
	free(forged);
	forged = fixed;
	path = tu_write_file("forged-entry", forged, strlen(forged), 0600);
	target = entry_path(t);
	if (rename(path, target) != 0)
		TU_FATAL("rename: %s", strerror(errno));
	free(target);
	tu_api_put(&t->api, "_mode", "status 503");
	tu_log_reset(&t->f->log);
	assert_int_not_equal(kf_lookup(t->f->ctx, "alice", NULL,
	    tu_key(TU_ECDSA256)->b64, &a), 0);
	assert_null(a);
	assert_logged(&t->f->log, "cached record no longer usable");
	assert_logged(&t->f->log, "does not verify");
	free(bytes);
	free(forged);
	free(len_old);
	free(len_new);
	free(path);
	free(jws);
	free(h);
	free(p);
	free(p2);
	free(s);
	free(rec);
}

static void
test_unsigned_cache_entry_is_dropped_when_signing_is_turned_on(void **state)
{
	struct jt *t = *state;
	char *rec;

	configure(t, "");
	rec = record("alice", "");
	tu_api_put(&t->api, "alice.json", rec);
	free(rec);
	expect_alice(t, 0);
	configure_signed(t, "");
	tu_api_put(&t->api, "_mode", "status 500");
	tu_log_reset(&t->f->log);
	expect_refused(t);
	assert_logged(&t->f->log, "unsigned response, but SigningKey");
}

static void
test_without_signing_key_a_jws_is_read_but_alg_still_checked(void **state)
{
	struct jt *t = *state;
	char *rec, *h, *p, *hdr;

	configure(t, "");
	serve(t, ed_signed(""));
	expect_alice(t, 1);
	assert_logged(&t->f->log, "signature not checked");
	rec = record("alice", "");
	hdr = tu_xstrdup("{\"alg\":\"none\"}");
	h = b64url(hdr, strlen(hdr));
	p = b64url(rec, strlen(rec));
	serve(t, tu_printf("%s.%s.", h, p));
	tu_log_reset(&t->f->log);
	expect_alice(t, 1);	/* stale copy serves; none is refused */
	assert_logged(&t->f->log, "\"none\" is not accepted");
	free(rec);
	free(hdr);
	free(h);
	free(p);
}

/* A P-256 "key" whose point is not on the curve verifies nothing. */
static void
test_signing_key_off_the_curve_is_refused(void **state)
{
	struct jt *t = *state;
	char *pem, *b64, *p, *bad_pem, *path, *extra;
	unsigned char *der;
	size_t n;

	pem = tu_read_file(tu_sigkey(TU_SIG_P256, 0)->pub, NULL);
	b64 = tu_replace(pem, "-----BEGIN PUBLIC KEY-----", "");
	p = tu_replace(b64, "-----END PUBLIC KEY-----", "");
	free(b64);
	b64 = tu_replace(p, "\n", "");
	der = tu_unb64(b64, &n);
	assert_int_equal(n, 91);
	der[90] ^= 1;	/* the last byte of Y */
	free(b64);
	b64 = tu_b64(der, n);
	bad_pem = tu_printf("-----BEGIN PUBLIC KEY-----\n%s\n"
	    "-----END PUBLIC KEY-----\n", b64);
	path = tu_write_file("off-curve.pub", bad_pem, strlen(bad_pem), 0644);
	extra = tu_printf("SigningKey %s\n", path);
	configure(t, extra);
	serve(t, signed_record(TU_SIG_P256, 0, "{\"alg\":\"ES256\"}", "alice",
	    ""));
	tu_log_reset(&t->f->log);
	expect_refused(t);
	assert_logged(&t->f->log, "libcrypto refuses");
	assert_logged(&t->f->log, "off-curve.pub");
	/* A broken key does not stop the next one: rotation keeps working. */
	free(extra);
	extra = tu_printf("SigningKey %s\nSigningKey %s\n", path,
	    tu_sigkey(TU_SIG_P256, 0)->pub);
	configure(t, extra);
	expect_alice(t, 1);
	free(pem);
	free(p);
	free(der);
	free(b64);
	free(bad_pem);
	free(path);
	free(extra);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8037_example_verifies),
		cmocka_unit_test(test_malformed_compact_serializations_are_refused),
		T(test_ed25519_and_es256_records_are_served_and_cached_as_sent),
		T(test_rotation_header_extras_and_trailing_newline),
		T(test_audience_as_string_or_array),
		T(test_bad_signature_is_refused),
		T(test_tampered_payload_is_refused),
		T(test_signature_by_an_unconfigured_key_is_refused),
		T(test_alg_none_is_refused),
		T(test_hs256_with_the_public_key_as_secret_is_refused),
		T(test_alg_and_key_type_must_match),
		T(test_signing_key_off_the_curve_is_refused),
		T(test_truncated_and_extra_segments_are_refused),
		T(test_base64_padding_is_refused),
		T(test_exp_is_required_and_honoured),
		T(test_iat_in_the_future_is_refused),
		T(test_audience_mismatch_is_refused),
		T(test_valid_signature_for_another_user_is_refused),
		T(test_unsigned_record_is_refused_when_signing_is_on),
		T(test_cached_copy_past_exp_is_never_served),
		T(test_altered_cache_entry_is_not_trusted),
		T(test_unsigned_cache_entry_is_dropped_when_signing_is_turned_on),
		T(test_without_signing_key_a_jws_is_read_but_alg_still_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
