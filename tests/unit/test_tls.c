/*
 * test_tls.c - the TLS identity settings of keyfleet.conf(5) (CAFile,
 * ClientCertificate with ClientKey, PinnedPublicKey) as kf_lookup() and
 * kf_lookup_revalidate() carry them out against a real TLS server:
 * tests/api/server.py on 127.0.0.1 with throwaway certificates from
 * tests/api/mkcerts.sh.
 *
 * A refusal is checked the way a user would notice it, and so that it
 * cannot pass for the wrong reason: the same server first answers a
 * configuration that is right, then with the wrong one no lookup gets an
 * answer, a warm cache entry stays byte for byte what it was, the server
 * logs no request, and keyfleet's log names the TLS failure for the URL
 * (where the server can see why, its stderr must say so too).
 *
 * That a ClientKey readable by others is a configuration error naming
 * file and line is tested in test_config.c,
 * test_client_key_readable_by_others_is_refused().
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "testutil.h"

#include "config_file.h"
#include "ctx.h"

#define TTL	300

/*
 * curl_easy_strerror()'s words for the failures below, which keyfleet
 * logs after "user NAME: URL: ".
 */
#define PEER_NOT_OK	"SSL peer certificate or SSH remote key was not OK"
#define PIN_MISMATCH	"SSL public key does not match pinned public key"
#define SEND_FAILED	"Failed sending data to the peer"
#define RECV_FAILED	"Failure when receiving data from the peer"

/* libcurl's summary, then its details (CURLOPT_ERRORBUFFER), which keyfleet
 * logs so that an administrator can tell these failures apart. */
static const char *const unknown_ca[] = {
	PEER_NOT_OK ": SSL certificate problem: unable to get local issuer "
	    "certificate", NULL
};
static const char *const wrong_host[] = {
	PEER_NOT_OK ": SSL: no alternative certificate subject name matches "
	    "target host name '127.0.0.1'", NULL
};
static const char *const pin_mismatch[] = { PIN_MISMATCH, NULL };
/*
 * A server that refuses the client's certificate does so after the client
 * has finished its side of a TLS 1.3 handshake: the client sees the alert
 * while sending its request or while reading the answer, as it happens.
 */
static const char *const refused_by_server[] = {
	SEND_FAILED, RECV_FAILED, NULL
};

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

struct tls {
	struct tu_fixture	*f;
	struct tu_api		 api;	/* the server a test is about */
	struct tu_api		 other;	/* a second server, when needed */
	char			*base;	/* this test's own directory */
	char			*cache;	/* CacheDirectory */
	char			*bytes;	/* alice's entry, once warm */
	size_t			 len;
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

static int
setup(void **state)
{
	struct tls *t = tu_xmalloc(sizeof(*t));
	void *inner = NULL;

	memset(t, 0, sizeof(*t));
	tu_setup(&inner);
	t->f = inner;
	t->f->ctx->now = test_now;
	at(0);
	(void)tu_certs_dir();	/* made once, by the first test */
	t->base = tu_printf("%s/tls-%u", tu_tmpdir(), ++serial);
	xmkdir(t->base, 0700);
	t->cache = tu_printf("%s/cache", t->base);
	xmkdir(t->cache, 0700);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tls *t = *state;
	void *inner = t->f;

	tu_api_free(&t->api);
	tu_api_free(&t->other);
	tu_teardown(&inner);
	tu_remove_tree(t->base);
	free(t->base);
	free(t->cache);
	free(t->bytes);
	free(t);
	return 0;
}

/* ---------------------------------------------------------- helpers */

/* The path of a file mkcerts.sh made: "ca.pem", "client.key", ... */
static char *
cert(const char *name)
{
	return tu_printf("%s/%s", tu_certs_dir(), name);
}

/*
 * Starts a TLS server presenting NAME.pem and NAME.key ("server" or
 * "wronghost"); client_ca, when not NULL, names the CA file whose
 * certificates it requires of clients.
 */
static void
start(struct tls *t, struct tu_api *api, const char *name,
    const char *client_ca)
{
	char *dir = tu_printf("%s/api-%s-%d", t->base, name,
	    api == &t->api ? 1 : 2);
	char *pem = tu_printf("%s.pem", name), *key = tu_printf("%s.key", name);
	char *pem_path = cert(pem), *key_path = cert(key);
	char *ca_path = client_ca != NULL ? cert(client_ca) : NULL;

	tu_api_start_tls(api, dir, pem_path, key_path, ca_path);
	free(ca_path);
	free(key_path);
	free(pem_path);
	free(key);
	free(pem);
	free(dir);
}

/*
 * The curl-style pin of the public key in certificate NAME, computed
 * with the openssl command line, independently of keyfleet and libcurl:
 * "sha256//" and the base64 SHA-256 of the DER SubjectPublicKeyInfo.
 */
static char *
pin_of(const char *name)
{
	char *path = cert(name), *cmd, line[128];
	FILE *p;
	size_t n;
	int status;

	cmd = tu_printf("openssl x509 -in '%s' -pubkey -noout | "
	    "openssl pkey -pubin -outform der | "
	    "openssl dgst -sha256 -binary | base64", path);
	if ((p = popen(cmd, "r")) == NULL)
		TU_FATAL("popen: %s", strerror(errno));
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	status = pclose(p);
	line[strcspn(line, "\n")] = '\0';
	n = strlen(line);
	/* 32 bytes of SHA-256 are 44 base64 characters, one '=' of padding. */
	if (status != 0 || n != 44 || line[43] != '=')
		TU_FATAL("cannot compute the pin of %s (status %d): \"%s\"",
		    path, status, line);
	free(cmd);
	free(path);
	return tu_printf("sha256//%s", line);
}

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

/* A JSON record for user with key a and, when not NULL, key b. */
static char *
record(const char *user, const struct tu_key *a, const struct tu_key *b)
{
	if (b == NULL)
		return tu_printf("{\"user\": \"%s\", \"keys\": [\"%s\"]}\n",
		    user, a->line);
	return tu_printf("{\"user\": \"%s\", \"keys\": [\"%s\", \"%s\"]}\n",
	    user, a->line, b->line);
}

/* Makes api serve body (consumed) as user's record. */
static void
serve(struct tu_api *api, const char *user, char *body)
{
	char *name = tu_printf("%s.json", user);

	tu_api_put(api, name, body);
	free(name);
	free(body);
}

/*
 * Loads a configuration asking api over https: settings holds the TLS
 * keywords, and may replace the defaults below.
 */
static void
configure(struct tls *t, const struct tu_api *api, const char *settings)
{
	static const char *const defaults[][2] = {
		{ "CacheTTL", "300" },
		{ "CacheMaxStale", "3600" },
		{ "Timeout", "5" },
		{ "ConnectTimeout", "2" },
		{ "MaxResponseSize", "16K" },
		{ "LogLevel", "debug" },
	};
	struct kf_config *cfg = NULL;
	char *text, *next, *probe, *path, *kw;
	size_t i;
	int r;

	probe = tu_printf("\n%s", settings);
	text = tu_printf("URL https://127.0.0.1:%d/users/%%u\n"
	    "CacheDirectory %s\n%s", api->port, t->cache, settings);
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		kw = tu_printf("\n%s ", defaults[i][0]);
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

/* Formats TLS settings from the names of mkcerts.sh's files. */
static char *
tls_settings(const char *ca, const char *client_cert, const char *client_key,
    const char *pin)
{
	char *s = tu_xstrdup(""), *next, *path;

	if (ca != NULL) {
		path = cert(ca);
		next = tu_printf("%sCAFile %s\n", s, path);
		free(path);
		free(s);
		s = next;
	}
	if (client_cert != NULL) {
		path = cert(client_cert);
		next = tu_printf("%sClientCertificate %s\n", s, path);
		free(path);
		free(s);
		s = next;
	}
	if (client_key != NULL) {
		path = cert(client_key);
		next = tu_printf("%sClientKey %s\n", s, path);
		free(path);
		free(s);
		s = next;
	}
	if (pin != NULL) {
		next = tu_printf("%sPinnedPublicKey %s\n", s, pin);
		free(s);
		s = next;
	}
	return s;
}

static int
lookup(struct tls *t, const char *user, int revalidate,
    struct kf_answer **ap)
{
	if (revalidate)
		return kf_lookup_revalidate(t->f->ctx, user, ap);
	return kf_lookup(t->f->ctx, user, NULL, NULL, ap);
}

/* A lookup that must answer user active with key a (and b if not NULL). */
static void
expect_keys(struct tls *t, const char *user, int revalidate,
    const struct tu_key *a, const struct tu_key *b)
{
	struct kf_answer *ans = NULL;
	int r;

	if ((r = lookup(t, user, revalidate, &ans)) != 0) {
		tu_log_print(&t->f->log);
		fail_msg("lookup of %s: %s", user, kf_strerror(r));
	}
	assert_non_null(ans);
	assert_int_equal(kf_answer_status(ans), KF_USER_ACTIVE);
	assert_int_equal(kf_answer_key_count(ans), b != NULL ? 2 : 1);
	assert_string_equal(kf_answer_key_line(ans, 0), a->line);
	if (b != NULL)
		assert_string_equal(kf_answer_key_line(ans, 1), b->line);
	kf_answer_free(ans);
}

/* A lookup that must fail as a TLS failure does, leaving no answer. */
static void
expect_no_answer(struct tls *t, const char *user, int revalidate)
{
	struct kf_answer *ans = (struct kf_answer *)&ans;	/* poisoned */
	int r;

	r = lookup(t, user, revalidate, &ans);
	if (r != KF_ERR_FETCH) {
		tu_log_print(&t->f->log);
		fail_msg("%s of %s: %d (%s), expected %d (%s)", revalidate ?
		    "kf_lookup_revalidate" : "kf_lookup", user, r,
		    kf_strerror(r), KF_ERR_FETCH, kf_strerror(KF_ERR_FETCH));
	}
	assert_null(ans);
}

/* Fails unless the i-th request api logged was for path, with status. */
static void
expect_request(const struct tu_api *api, size_t i, const char *path,
    const char *status)
{
	char *got_path = tu_api_request_field(api, i, 3);
	char *got_status = tu_api_request_field(api, i, 8);

	if (got_path == NULL || got_status == NULL)
		fail_msg("the server logged %zu request(s), expected a "
		    "request %zu", tu_api_requests(api), i);
	assert_string_equal(got_path, path);
	assert_string_equal(got_status, status);
	free(got_path);
	free(got_status);
}

/*
 * Fails unless keyfleet logged, for user's URL on api, one of the
 * NULL-terminated reasons.
 */
static void
expect_logged_failure(struct tls *t, const struct tu_api *api,
    const char *user, const char *const *why)
{
	char *needle;
	size_t i;

	for (i = 0; why[i] != NULL; i++) {
		/* The one line about the outcome names the URL and reason. */
		needle = tu_printf("user %s: no trustworthy answer "
		    "(https://127.0.0.1:%d/users/%s: %s", user, api->port, user,
		    why[i]);
		if (tu_log_find(&t->f->log, needle) != NULL) {
			free(needle);
			return;
		}
		free(needle);
	}
	tu_log_print(&t->f->log);
	fail_msg("no log message says why %s's fetch from port %d failed "
	    "(expected \"%s\"%s)", user, api->port, why[0],
	    why[1] != NULL ? " or another reason of its kind" : "");
}

/*
 * Waits up to 5 s for the server to write needle on its stderr: it
 * notices a failed handshake in its own thread, maybe after the client
 * has returned.
 */
static void
expect_server_said(const struct tu_api *api, const char *needle)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	char *text;
	int i;

	for (i = 0; i < 250; i++) {
		text = tu_api_stderr(api);
		if (strstr(text, needle) != NULL) {
			free(text);
			return;
		}
		free(text);
		nanosleep(&pause, NULL);
	}
	text = tu_api_stderr(api);
	fail_msg("the server never said \"%s\"; its stderr:\n%s", needle,
	    text);
}

/* The bytes of user's cache entry; NULL when there is none. */
static char *
entry(struct tls *t, const char *user, size_t *len)
{
	return tu_cache_entry(t->cache, user, len);
}

static void
expect_no_entry(struct tls *t, const char *user)
{
	char *bytes = entry(t, user, NULL);

	if (bytes != NULL)
		fail_msg("%s has a cache entry:\n%s", user, bytes);
}

/* Fails unless alice's entry is still what warm() saw. */
static void
expect_alice_unchanged(struct tls *t)
{
	size_t len;
	char *got = entry(t, "alice", &len);

	if (got == NULL)
		fail_msg("alice's cache entry is gone");
	if (len != t->len || memcmp(got, t->bytes, len) != 0)
		fail_msg("alice's cache entry changed:\n--- was (%zu bytes)\n"
		    "%s\n--- now (%zu bytes)\n%s", t->len, t->bytes, len, got);
	free(got);
}

/* Keeps alice's entry, which must hold body, as t->bytes. */
static void
remember_alice(struct tls *t, const char *body)
{
	free(t->bytes);
	t->bytes = entry(t, "alice", &t->len);
	if (t->bytes == NULL || strstr(t->bytes, body) == NULL)
		fail_msg("alice's cache entry does not hold what the API "
		    "sent:\n%s", t->bytes != NULL ? t->bytes : "(none)");
}

/*
 * Makes api's records differ from what was cached: alice gains key B,
 * and bob, never looked up, exists.  A fetch that got through would
 * change what either of them is answered.
 */
static void
serve_changed(struct tu_api *api)
{
	serve(api, "alice", record("alice", key_a(), key_b()));
	serve(api, "bob", record("bob", key_b(), NULL));
}

/*
 * The server api answers alice (key A) over the TLS settings good: her
 * entry is warm, and kept in t->bytes.  Then api's records change.
 */
static void
warm(struct tls *t, struct tu_api *api, const char *good)
{
	char *body = record("alice", key_a(), NULL);

	serve(api, "alice", tu_xstrdup(body));
	configure(t, api, good);
	expect_keys(t, "alice", 0, key_a(), NULL);
	assert_int_equal(tu_api_requests(api), 1);
	expect_request(api, 0, "/users/alice", "200");
	remember_alice(t, body);
	serve_changed(api);
	free(body);
}

/*
 * With the TLS settings bad (CacheMaxStale 0, so that a stale entry
 * cannot stand in) and the clock CacheTTL later, nobody is answered: not
 * alice, whose entry is stale now, by kf_lookup() or by
 * kf_lookup_revalidate(), and not bob, who has no entry.  Alice's entry
 * stays byte for byte, bob gets none, the server logs no request, and the
 * log gives one of the reasons why for each user's URL.
 */
static void
expect_refused(struct tls *t, struct tu_api *api, const char *bad,
    const char *const *why)
{
	char *text = tu_printf("CacheMaxStale 0\n%s", bad);
	size_t before = tu_api_requests(api);

	configure(t, api, text);
	at(clock_now - TU_NOW + TTL);
	tu_log_reset(&t->f->log);
	expect_no_answer(t, "alice", 0);
	expect_logged_failure(t, api, "alice", why);
	expect_no_answer(t, "alice", 1);
	expect_no_answer(t, "bob", 0);
	expect_logged_failure(t, api, "bob", why);
	assert_logged(&t->f->log, "user alice: no trustworthy answer");
	assert_logged(&t->f->log, "user bob: no trustworthy answer");
	expect_alice_unchanged(t);
	expect_no_entry(t, "bob");
	assert_int_equal(tu_api_requests(api), before);
	free(text);
}

/* ------------------------------------------------------------- CAFile */

static void
test_right_ca_is_trusted(void **state)
{
	struct tls *t = *state;
	char *good = tls_settings("ca.pem", NULL, NULL, NULL);

	start(t, &t->api, "server", NULL);
	warm(t, &t->api, good);

	/* Over TLS too, a revalidation is a conditional request. */
	serve(&t->api, "alice", record("alice", key_a(), NULL));
	expect_keys(t, "alice", 1, key_a(), NULL);
	assert_int_equal(tu_api_requests(&t->api), 2);
	expect_request(&t->api, 1, "/users/alice", "304");

	/* And a change reaches the user once the entry is stale. */
	serve_changed(&t->api);
	at(TTL);
	expect_keys(t, "alice", 0, key_a(), key_b());
	expect_keys(t, "bob", 0, key_b(), NULL);
	assert_int_equal(tu_api_requests(&t->api), 4);
	expect_request(&t->api, 2, "/users/alice", "200");
	expect_request(&t->api, 3, "/users/bob", "200");
	free(good);
}

static void
test_wrong_ca_is_refused(void **state)
{
	struct tls *t = *state;
	char *good = tls_settings("ca.pem", NULL, NULL, NULL);
	char *bad = tls_settings("other-ca.pem", NULL, NULL, NULL);

	start(t, &t->api, "server", NULL);
	warm(t, &t->api, good);
	expect_refused(t, &t->api, bad, unknown_ca);
	/* keyfleet hung up with an "unknown CA" alert. */
	expect_server_said(&t->api, "TLSV1_ALERT_UNKNOWN_CA");
	free(bad);
	free(good);
}

/* Without CAFile the system store applies, which lacks the test CA. */
static void
test_system_store_does_not_trust_the_test_ca(void **state)
{
	struct tls *t = *state;
	char *good = tls_settings("ca.pem", NULL, NULL, NULL);

	start(t, &t->api, "server", NULL);
	warm(t, &t->api, good);
	expect_refused(t, &t->api, "", unknown_ca);
	expect_server_said(&t->api, "TLSV1_ALERT_UNKNOWN_CA");
	free(good);
}

static void
test_hostname_mismatch_is_refused(void **state)
{
	struct tls *t = *state;
	char *ca = cert("ca.pem"), *pem = cert("wronghost.pem"), *cmd;
	char *good = tls_settings("ca.pem", NULL, NULL, NULL);

	/*
	 * wronghost.pem chains to ca.pem: its name, wrong.example, is the
	 * only thing wrong with it for https://127.0.0.1.
	 */
	cmd = tu_printf("openssl verify -CAfile '%s' '%s' >/dev/null", ca,
	    pem);
	if (system(cmd) != 0)
		fail_msg("openssl verify: %s does not chain to %s", pem, ca);

	start(t, &t->other, "server", NULL);
	start(t, &t->api, "wronghost", NULL);
	warm(t, &t->other, good);
	serve_changed(&t->api);
	expect_refused(t, &t->api, good, wrong_host);
	free(good);
	free(cmd);
	free(pem);
	free(ca);
}

/* -------------------------------------------------------- mutual TLS */

static void
test_mutual_tls_works_with_a_client_certificate(void **state)
{
	struct tls *t = *state;
	char *good = tls_settings("ca.pem", "client.pem", "client.key", NULL);

	start(t, &t->api, "server", "ca.pem");
	warm(t, &t->api, good);
	at(TTL);
	expect_keys(t, "alice", 0, key_a(), key_b());
	expect_keys(t, "bob", 1, key_b(), NULL);
	assert_int_equal(tu_api_requests(&t->api), 3);
	expect_request(&t->api, 2, "/users/bob", "200");
	free(good);
}

static void
test_mutual_tls_without_a_client_certificate_is_refused(void **state)
{
	struct tls *t = *state;
	char *good = tls_settings("ca.pem", "client.pem", "client.key", NULL);
	char *bad = tls_settings("ca.pem", NULL, NULL, NULL);

	start(t, &t->api, "server", "ca.pem");
	warm(t, &t->api, good);
	expect_refused(t, &t->api, bad, refused_by_server);
	expect_server_said(&t->api, "PEER_DID_NOT_RETURN_A_CERTIFICATE");
	free(bad);
	free(good);
}

static void
test_mutual_tls_with_a_certificate_of_another_ca_is_refused(void **state)
{
	struct tls *t = *state;
	char *good = tls_settings("ca.pem", "client.pem", "client.key", NULL);
	char *bad = tls_settings("ca.pem", "other-ca.pem", "other-ca.key", NULL);

	start(t, &t->api, "server", "ca.pem");
	warm(t, &t->api, good);
	expect_refused(t, &t->api, bad, refused_by_server);
	expect_server_said(&t->api, "CERTIFICATE_VERIFY_FAILED");
	free(bad);
	free(good);
}

/* ---------------------------------------------------- PinnedPublicKey */

static void
test_pinned_public_key_that_matches_works(void **state)
{
	struct tls *t = *state;
	char *pin = pin_of("server.pem");
	char *good = tls_settings("ca.pem", NULL, NULL, pin);

	start(t, &t->api, "server", NULL);
	warm(t, &t->api, good);
	at(TTL);
	expect_keys(t, "alice", 1, key_a(), key_b());
	free(good);
	free(pin);
}

static void
test_wrong_pin_is_refused(void **state)
{
	struct tls *t = *state;
	char *right = pin_of("server.pem"), *wrong = pin_of("wronghost.pem");
	char *good = tls_settings("ca.pem", NULL, NULL, right);
	char *bad = tls_settings("ca.pem", NULL, NULL, wrong);

	/* A real key's pin, of a certificate the same CA signed. */
	assert_string_not_equal(right, wrong);
	start(t, &t->api, "server", NULL);
	warm(t, &t->api, good);
	expect_refused(t, &t->api, bad, pin_mismatch);
	free(bad);
	free(good);
	free(wrong);
	free(right);
}

static void
test_pin_list_with_one_match_works(void **state)
{
	struct tls *t = *state;
	char *right = pin_of("server.pem"), *wrong = pin_of("wronghost.pem");
	char *other = pin_of("other-ca.pem"), *list, *good, *bad, *body;

	start(t, &t->api, "server", NULL);

	/* The match last... */
	list = tu_printf("%s;%s;%s", wrong, other, right);
	good = tls_settings("ca.pem", NULL, NULL, list);
	warm(t, &t->api, good);
	free(good);
	free(list);

	/* ...or first: any one entry will do. */
	list = tu_printf("%s;%s", right, wrong);
	good = tls_settings("ca.pem", NULL, NULL, list);
	configure(t, &t->api, good);
	at(TTL);
	expect_keys(t, "alice", 0, key_a(), key_b());
	assert_int_equal(tu_api_requests(&t->api), 2);
	free(good);
	free(list);

	/* Without the match, a list refuses. */
	body = record("alice", key_a(), key_b());
	remember_alice(t, body);
	serve(&t->api, "alice", record("alice", key_b(), NULL));
	list = tu_printf("%s;%s", wrong, other);
	bad = tls_settings("ca.pem", NULL, NULL, list);
	expect_refused(t, &t->api, bad, pin_mismatch);
	free(bad);
	free(list);
	free(body);
	free(other);
	free(wrong);
	free(right);
}

/* A pin is checked on top of the CA, never instead of it. */
static void
test_pin_does_not_replace_ca_verification(void **state)
{
	struct tls *t = *state;
	char *pin = pin_of("server.pem");
	char *good = tls_settings("ca.pem", NULL, NULL, pin);
	char *bad = tls_settings("other-ca.pem", NULL, NULL, pin);

	start(t, &t->api, "server", NULL);
	warm(t, &t->api, good);
	expect_refused(t, &t->api, bad, unknown_ca);
	expect_server_said(&t->api, "TLSV1_ALERT_UNKNOWN_CA");
	free(bad);
	free(good);
	free(pin);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_right_ca_is_trusted),
		T(test_wrong_ca_is_refused),
		T(test_system_store_does_not_trust_the_test_ca),
		T(test_hostname_mismatch_is_refused),
		T(test_mutual_tls_works_with_a_client_certificate),
		T(test_mutual_tls_without_a_client_certificate_is_refused),
		T(test_mutual_tls_with_a_certificate_of_another_ca_is_refused),
		T(test_pinned_public_key_that_matches_works),
		T(test_wrong_pin_is_refused),
		T(test_pin_list_with_one_match_works),
		T(test_pin_does_not_replace_ca_verification),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
