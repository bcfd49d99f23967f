/* test_config.c - keyfleet.conf(5): keywords, values, file safety, token. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "tu_sign.h"

#include "authkey.h"
#include "config_file.h"
#include "sig.h"
#include "util.h"

#ifndef KF_CACHEDIR
#define KF_CACHEDIR "/var/cache/keyfleet"
#endif

#define GOOD_URL	"URL https://api.example.com/v1/users/%u\n"
/* GOOD_URL inside a printf format. */
#define GOOD_URL_FMT	"URL https://api.example.com/v1/users/%%u\n"
#define PIN		"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN2		"sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="

/* Loads text as a config file and fails the test (showing the log) if it
 * is refused. */
static struct kf_config *
load_ok(struct tu_fixture *f, const char *text)
{
	struct kf_config *cfg = NULL;
	char *path = tu_write_config(text);
	int r;

	r = kf_config_load(f->ctx, path, tu_config_owner(), &cfg);
	if (r != 0) {
		tu_log_print(&f->log);
		fail_msg("config refused: %s", kf_strerror(r));
	}
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	free(path);
	return cfg;
}

/* Loads text, expects the refusal code, and returns the file's path. */
static char *
load_err(struct tu_fixture *f, const char *text, int want)
{
	struct kf_config *cfg = (struct kf_config *)&cfg;	/* poisoned */
	char *path = tu_write_config(text);
	int r;

	tu_log_reset(&f->log);
	r = kf_config_load(f->ctx, path, tu_config_owner(), &cfg);
	if (r != want) {
		tu_log_print(&f->log);
		fail_msg("config gave \"%s\", want \"%s\":\n%s",
		    kf_strerror(r), kf_strerror(want), text);
	}
	assert_null(cfg);
	assert_true(f->log.n > 0);	/* a refusal is never silent */
	return path;
}

/* Expects text to be refused as KF_ERR_CONFIG with "path:line:" logged. */
static void
assert_config_error_at(struct tu_fixture *f, const char *text,
    unsigned line, const char *needle)
{
	char *path = load_err(f, text, KF_ERR_CONFIG), *where;

	where = tu_printf("%s:%u:", path, line);
	assert_logged(&f->log, where);
	if (needle != NULL)
		assert_logged(&f->log, needle);
	free(where);
	free(path);
}

static int
list_has(const struct kf_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0)
			return 1;
	}
	return 0;
}

static void
test_defaults_apply_when_only_url_is_set(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = load_ok(f, GOOD_URL);
	char host[256];

	assert_int_equal(cfg->urls.n, 1);
	assert_string_equal(cfg->urls.v[0],
	    "https://api.example.com/v1/users/%u");
	assert_int_equal(cfg->format, KF_FORMAT_JSON);
	assert_null(cfg->bearer_token_file);
	assert_null(cfg->ca_file);
	assert_null(cfg->client_cert);
	assert_null(cfg->client_key);
	assert_null(cfg->pinned_pubkey);
	assert_int_equal(cfg->signing_keys.n, 0);
	assert_null(cfg->audience);
	assert_int_equal(cfg->connect_timeout_ms, 2000);
	assert_int_equal(cfg->timeout_ms, 8000);
	assert_int_equal(cfg->max_response_size, 1024 * 1024);
	assert_int_equal(cfg->allow_http, 0);
	assert_string_equal(cfg->cache_dir, KF_CACHEDIR);
	assert_int_equal(cfg->cache_ttl, 300);
	assert_int_equal(cfg->cache_max_stale, 86400);
	assert_int_equal(cfg->negative_ttl, 60);
	assert_int_equal(cfg->unknown_key_refresh, 30);
	assert_int_equal(cfg->key_policy.types, kf_keytypes_default());
	assert_int_equal(cfg->key_policy.options, kf_keyopts_default());
	assert_int_equal(cfg->key_policy.min_rsa_bits, 2048);
	assert_int_equal(cfg->env_allow.n, 0);
	assert_int_equal(cfg->env_deny.n, 0);
	assert_int_equal(cfg->unknown_user_deny, 0);
	assert_int_equal(cfg->log_level, KF_LOG_INFO);
	/* HostName defaults to gethostname(). */
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	assert_string_equal(cfg->hostname, host);
	assert_int_equal(f->log.n, 0);
	kf_config_free(cfg);
}

static void
test_default_key_types_and_options_follow_the_spec(void **state)
{
	uint32_t types = kf_keytypes_default(), opts = kf_keyopts_default();
	int i;

	(void)state;
	/* Every non-deprecated type, sk-* and ssh-rsa included; not ssh-dss. */
	for (i = 0; i < KF_KT_COUNT; i++) {
		if (i == KF_KT_DSA)
			assert_false(types & (1u << i));
		else
			assert_true(types & (1u << i));
	}
	assert_true(types & (1u << kf_keytype_from_name("ssh-rsa")));
	assert_true(types & (1u << kf_keytype_from_name(
	    "sk-ssh-ed25519@openssh.com")));
	/* Every option sshd knows except environment. */
	for (i = 0; i < KF_OPT_COUNT; i++) {
		if (i == KF_OPT_ENVIRONMENT)
			assert_false(opts & (1u << i));
		else
			assert_true(opts & (1u << i));
	}
}

static void
test_every_keyword_is_parsed(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;
	char *token, *ckey, *ca, *text;

	ca = tu_write_file("every-ca.pem", "CA\n", 3, 0644);
	token = tu_write_file("every.token", "tok\n", 4, 0600);
	ckey = tu_write_file("every.key", "KEY\n", 4, 0600);
	text = tu_printf(
	    "URL https://a.example.com/users/%%u?h=%%H\n"
	    "URL http://127.0.0.1:8080/users/%%u\n"
	    "Format keys\n"
	    "BearerTokenFile %s\n"
	    "CAFile %s\n"
	    "ClientCertificate /etc/keyfleet/client.pem\n"
	    "ClientKey %s\n"
	    "PinnedPublicKey " PIN ";" PIN2 "\n"
	    "HostName web-01.example.com\n"
	    "ConnectTimeout 0.25\n"
	    "Timeout 3.5\n"
	    "MaxResponseSize 64K\n"
	    "AllowHTTP yes\n"
	    "CacheDirectory /var/tmp/kf-cache\n"
	    "CacheTTL 120\n"
	    "CacheMaxStale 0\n"
	    "NegativeTTL 15\n"
	    "UnknownKeyRefresh no\n"
	    "KeyTypes ssh-ed25519,ssh-rsa,ssh-dss\n"
	    "MinRSABits 3072\n"
	    "KeyOptions no-pty,from,environment\n"
	    "EnvAllow PROJECT,TEAM_*\n"
	    "EnvDeny TEAM_SECRET*\n"
	    "UnknownUser deny\n"
	    "LogLevel debug\n", token, ca, ckey);
	cfg = load_ok(f, text);

	assert_int_equal(cfg->urls.n, 2);
	assert_string_equal(cfg->urls.v[0],
	    "https://a.example.com/users/%u?h=%H");
	assert_string_equal(cfg->urls.v[1], "http://127.0.0.1:8080/users/%u");
	assert_int_equal(cfg->format, KF_FORMAT_KEYS);
	assert_string_equal(cfg->bearer_token_file, token);
	assert_string_equal(cfg->ca_file, ca);
	assert_string_equal(cfg->client_cert, "/etc/keyfleet/client.pem");
	assert_string_equal(cfg->client_key, ckey);
	assert_string_equal(cfg->pinned_pubkey, PIN ";" PIN2);
	assert_string_equal(cfg->hostname, "web-01.example.com");
	assert_int_equal(cfg->connect_timeout_ms, 250);
	assert_int_equal(cfg->timeout_ms, 3500);
	assert_int_equal(cfg->max_response_size, 64 * 1024);
	assert_int_equal(cfg->allow_http, 1);
	assert_string_equal(cfg->cache_dir, "/var/tmp/kf-cache");
	assert_int_equal(cfg->cache_ttl, 120);
	assert_int_equal(cfg->cache_max_stale, 0);
	assert_int_equal(cfg->negative_ttl, 15);
	assert_int_equal(cfg->unknown_key_refresh, -1);
	assert_int_equal(cfg->key_policy.types, (1u << KF_KT_ED25519) |
	    (1u << KF_KT_RSA) | (1u << KF_KT_DSA));
	assert_int_equal(cfg->key_policy.min_rsa_bits, 3072);
	assert_int_equal(cfg->key_policy.options, (1u << KF_OPT_NO_PTY) |
	    (1u << KF_OPT_FROM) | (1u << KF_OPT_ENVIRONMENT));
	assert_int_equal(cfg->env_allow.n, 2);
	assert_true(list_has(&cfg->env_allow, "PROJECT"));
	assert_true(list_has(&cfg->env_allow, "TEAM_*"));
	assert_int_equal(cfg->env_deny.n, 1);
	assert_true(list_has(&cfg->env_deny, "TEAM_SECRET*"));
	assert_int_equal(cfg->unknown_user_deny, 1);
	assert_int_equal(cfg->log_level, KF_LOG_DEBUG);
	kf_config_free(cfg);
	free(text);
	free(token);
	free(ckey);
	free(ca);
}

/* Loads the good URL plus one more line. */
static struct kf_config *
load_line(struct tu_fixture *f, const char *line)
{
	struct kf_config *cfg;
	char *text = tu_printf("%s%s\n", GOOD_URL, line);

	cfg = load_ok(f, text);
	free(text);
	return cfg;
}

static void
test_typed_values_accept_their_whole_range(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;

	cfg = load_line(f, "MaxResponseSize 2M");
	assert_int_equal(cfg->max_response_size, 2 * 1024 * 1024);
	kf_config_free(cfg);
	cfg = load_line(f, "MaxResponseSize 1k");
	assert_int_equal(cfg->max_response_size, 1024);
	kf_config_free(cfg);
	cfg = load_line(f, "MaxResponseSize 256");
	assert_int_equal(cfg->max_response_size, 256);
	kf_config_free(cfg);
	cfg = load_line(f, "MaxResponseSize 64M");
	assert_int_equal(cfg->max_response_size, 64 * 1024 * 1024);
	kf_config_free(cfg);

	cfg = load_line(f, "ConnectTimeout 1");
	assert_int_equal(cfg->connect_timeout_ms, 1000);
	kf_config_free(cfg);
	cfg = load_line(f, "ConnectTimeout 0.001");
	assert_int_equal(cfg->connect_timeout_ms, 1);
	kf_config_free(cfg);
	cfg = load_line(f, "Timeout 600");
	assert_int_equal(cfg->timeout_ms, 600000);
	kf_config_free(cfg);
	cfg = load_line(f, "Timeout 1.5");
	assert_int_equal(cfg->timeout_ms, 1500);
	kf_config_free(cfg);

	cfg = load_line(f, "UnknownKeyRefresh 0");
	assert_int_equal(cfg->unknown_key_refresh, 0);
	kf_config_free(cfg);
	cfg = load_line(f, "UnknownKeyRefresh 86400");
	assert_int_equal(cfg->unknown_key_refresh, 86400);
	kf_config_free(cfg);
	cfg = load_line(f, "UnknownKeyRefresh NO");
	assert_int_equal(cfg->unknown_key_refresh, -1);
	kf_config_free(cfg);

	cfg = load_line(f, "MinRSABits 1024");
	assert_int_equal(cfg->key_policy.min_rsa_bits, 1024);
	kf_config_free(cfg);
	cfg = load_line(f, "MinRSABits 16384");
	assert_int_equal(cfg->key_policy.min_rsa_bits, 16384);
	kf_config_free(cfg);
}

static void
test_key_options_none_strips_every_option(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = load_ok(f, GOOD_URL "KeyOptions none\n");

	assert_int_equal(cfg->key_policy.options, 0);
	kf_config_free(cfg);
}

static void
test_keywords_are_case_insensitive(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;

	cfg = load_ok(f, "url https://api.example.com/%u\n"
	    "FORMAT Keys\n"
	    "cachettl 42\n"
	    "cAcHeMaXsTaLe 43\n"
	    "allowhttp YES\n"
	    "LOGLEVEL Verbose\n"
	    "unknownuser DENY\n");
	assert_int_equal(cfg->urls.n, 1);
	assert_int_equal(cfg->format, KF_FORMAT_KEYS);
	assert_int_equal(cfg->cache_ttl, 42);
	assert_int_equal(cfg->cache_max_stale, 43);
	assert_int_equal(cfg->allow_http, 1);
	assert_int_equal(cfg->log_level, KF_LOG_VERBOSE);
	assert_int_equal(cfg->unknown_user_deny, 1);
	kf_config_free(cfg);
}

static void
test_keyword_equals_value_is_accepted(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;

	cfg = load_ok(f, "URL=https://api.example.com/%u\n"
	    "CacheTTL = 11\n"
	    "NegativeTTL= 12\n"
	    "CacheMaxStale =13\n"
	    "Format\t=\tkeys\n");
	assert_string_equal(cfg->urls.v[0], "https://api.example.com/%u");
	assert_int_equal(cfg->cache_ttl, 11);
	assert_int_equal(cfg->negative_ttl, 12);
	assert_int_equal(cfg->cache_max_stale, 13);
	assert_int_equal(cfg->format, KF_FORMAT_KEYS);
	kf_config_free(cfg);
}

static void
test_comments_blank_lines_and_crlf_are_ignored(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;

	cfg = load_ok(f, "# keyfleet.conf\n"
	    "\n"
	    "   \t\n"
	    "    # indented comment: Bogus keyword\n"
	    "URL https://api.example.com/%u\r\n"
	    "\r\n"
	    "  CacheTTL 77   \r\n"
	    "#CacheTTL 99\n"
	    "NegativeTTL \"5\"\n"
	    "LogLevel quiet");		/* no final newline */
	assert_int_equal(cfg->urls.n, 1);
	assert_string_equal(cfg->urls.v[0], "https://api.example.com/%u");
	assert_int_equal(cfg->cache_ttl, 77);
	assert_int_equal(cfg->negative_ttl, 5);
	assert_int_equal(cfg->log_level, KF_LOG_ERROR);
	kf_config_free(cfg);
}

static void
test_url_is_repeatable_and_kept_in_order(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;

	cfg = load_ok(f, "URL https://one.example.com/%u\n"
	    "URL https://two.example.com/%u\n"
	    "URL https://three.example.com/%u.keys\n");
	assert_int_equal(cfg->urls.n, 3);
	assert_string_equal(cfg->urls.v[0], "https://one.example.com/%u");
	assert_string_equal(cfg->urls.v[1], "https://two.example.com/%u");
	assert_string_equal(cfg->urls.v[2], "https://three.example.com/%u.keys");
	kf_config_free(cfg);
}

static void
test_unknown_keyword_names_file_and_line(void **state)
{
	struct tu_fixture *f = *state;

	assert_config_error_at(f, "# comment\n" GOOD_URL "\nCacheTTLs 5\n", 4,
	    "CacheTTLs");
	/* Close to a real one is still unknown: nothing is guessed. */
	assert_config_error_at(f, GOOD_URL "Cache-TTL 5\n", 2, "Cache-TTL");
}

static void
test_bad_values_name_file_and_line(void **state)
{
	static const struct {
		const char	*line;
		const char	*needle;
	} cases[] = {
		{ "Format xml", "Format" },
		{ "ConnectTimeout 0", "ConnectTimeout" },
		{ "ConnectTimeout abc", "ConnectTimeout" },
		{ "ConnectTimeout -1", "ConnectTimeout" },
		{ "ConnectTimeout 2s", "ConnectTimeout" },
		{ "ConnectTimeout 1.", "ConnectTimeout" },
		{ "ConnectTimeout .5", "ConnectTimeout" },
		{ "ConnectTimeout 601", "ConnectTimeout" },
		{ "Timeout 0.0001", "Timeout" },
		{ "Timeout 99999999999999999999", "Timeout" },
		{ "MaxResponseSize 255", "MaxResponseSize" },
		{ "MaxResponseSize 65M", "MaxResponseSize" },
		{ "MaxResponseSize 1G", "MaxResponseSize" },
		{ "MaxResponseSize 10KB", "MaxResponseSize" },
		{ "MaxResponseSize K", "MaxResponseSize" },
		{ "MaxResponseSize -5", "MaxResponseSize" },
		{ "AllowHTTP true", "AllowHTTP" },
		{ "AllowHTTP 1", "AllowHTTP" },
		{ "CacheTTL -1", "CacheTTL" },
		{ "CacheTTL 1.5", "CacheTTL" },
		{ "CacheTTL 5m", "CacheTTL" },
		{ "CacheMaxStale forever", "CacheMaxStale" },
		{ "NegativeTTL 1e3", "NegativeTTL" },
		{ "UnknownKeyRefresh yes", "UnknownKeyRefresh" },
		{ "UnknownKeyRefresh 86401", "UnknownKeyRefresh" },
		{ "KeyTypes ssh-foo", "ssh-foo" },
		{ "KeyTypes ssh-ed25519,,ssh-rsa", "KeyTypes" },
		{ "KeyTypes ssh-ed25519,", "KeyTypes" },
		{ "KeyTypes ssh-ed25519-cert-v01@openssh.com", "KeyTypes" },
		{ "MinRSABits 1023", "MinRSABits" },
		{ "MinRSABits 16385", "MinRSABits" },
		{ "MinRSABits 2k", "MinRSABits" },
		{ "KeyOptions no-such-option", "no-such-option" },
		{ "KeyOptions none,no-pty", "KeyOptions" },
		{ "EnvAllow FOO=1", "FOO=1" },
		{ "EnvDeny A,,B", "EnvDeny" },
		{ "UnknownUser allow", "UnknownUser" },
		{ "LogLevel loud", "LogLevel" },
		{ "LogLevel 3", "LogLevel" },
		{ "HostName a/b", "HostName" },
		{ "HostName a b", "HostName" },
		{ "PinnedPublicKey sha1//AAAA", "PinnedPublicKey" },
		{ "PinnedPublicKey sha256//tooshort", "PinnedPublicKey" },
		{ "PinnedPublicKey " PIN ";", "PinnedPublicKey" },
		{ "CAFile ca.pem", "CAFile" },
		{ "CacheDirectory var/cache", "CacheDirectory" },
		{ "Timeout", "missing value" },
		{ "CacheTTL 5 6", "single value" },
	};
	struct tu_fixture *f = *state;
	size_t i;
	char *text;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The bad line is line 3, after a comment and the URL. */
		text = tu_printf("# test %zu\n%s%s\nCacheTTL 1\n", i, GOOD_URL,
		    cases[i].line);
		assert_config_error_at(f, text, 3, cases[i].needle);
		free(text);
	}
}

static void
test_missing_url_is_an_error(void **state)
{
	struct tu_fixture *f = *state;
	char *path;

	path = load_err(f, "Format json\nCacheTTL 5\n", KF_ERR_CONFIG);
	assert_logged(&f->log, path);
	assert_logged(&f->log, "no URL");
	free(path);
	free(load_err(f, "", KF_ERR_CONFIG));
	free(load_err(f, "# only a comment\n", KF_ERR_CONFIG));
}

static void
test_duplicate_single_value_keyword_is_an_error(void **state)
{
	struct tu_fixture *f = *state;

	assert_config_error_at(f, GOOD_URL "Timeout 3\nCacheTTL 4\ntimeout 4\n",
	    4, "already set on line 2");
	assert_config_error_at(f, GOOD_URL "LogLevel info\nLogLevel info\n", 3,
	    "LogLevel");
}

static void
test_url_without_user_token_is_refused(void **state)
{
	struct tu_fixture *f = *state;

	assert_config_error_at(f, "URL https://api.example.com/users\n", 1,
	    "%u");
	assert_config_error_at(f, "URL https://api.example.com/%H/%%u\n", 1,
	    "%u");
}

static void
test_url_with_unknown_percent_token_is_refused(void **state)
{
	static const char *urls[] = {
		"https://api.example.com/%u/%x",
		"https://api.example.com/%U",
		"https://api.example.com/%h/%u",
		"https://api.example.com/%u/%41",
		"https://api.example.com/%u%",
	};
	struct tu_fixture *f = *state;
	size_t i;
	char *text;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		text = tu_printf("URL %s\n", urls[i]);
		assert_config_error_at(f, text, 1, "%-token");
		free(text);
	}
	/* %% is the way to write a literal percent sign. */
	kf_config_free(load_ok(f, "URL https://api.example.com/%%41/%u\n"));
}

static void
test_url_must_be_https(void **state)
{
	static const char *urls[] = {
		"ftp://api.example.com/%u",
		"file:///etc/keyfleet/%u",
		"api.example.com/%u",
		"/users/%u",
		"https:/api.example.com/%u",
		"https:///%u",
	};
	struct tu_fixture *f = *state;
	size_t i;
	char *text;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		text = tu_printf("CacheTTL 5\nURL %s\n", urls[i]);
		assert_config_error_at(f, text, 2, "URL");
		free(text);
	}
	kf_config_free(load_ok(f, "URL HTTPS://api.example.com/%u\n"));
}

static void
test_http_url_needs_allow_http(void **state)
{
	struct tu_fixture *f = *state;

	/* The refusal points at the URL's line, wherever AllowHTTP would be. */
	assert_config_error_at(f, "URL https://api.example.com/%u\n"
	    "URL http://127.0.0.1:8080/%u\n", 2, "AllowHTTP");
	assert_config_error_at(f, "# x\nURL http://localhost/%u\nAllowHTTP no\n",
	    2, "AllowHTTP");
}

static void
test_allow_http_permits_loopback_only(void **state)
{
	static const char *accepted[] = {
		"http://127.0.0.1/%u",
		"http://127.0.0.1:8080/users/%u",
		"http://127.9.8.7/%u",
		"http://[::1]/%u",
		"http://[::1]:8443/users/%u",
		"http://localhost/%u",
		"http://LOCALHOST:80/%u",
	};
	static const char *refused[] = {
		"http://10.0.0.1/%u",
		"http://10.0.0.1:8080/%u",
		"http://example.com/%u",
		"http://localhost.example.com/%u",
		"http://127.0.0.1.example.com/%u",
		"http://127.1/%u",
		"http://0.0.0.0/%u",
		"http://[::2]/%u",
		"http://[::ffff:10.0.0.1]/%u",
		"http://%u.localhost/x",
		"http://%H/%u",
		"http://example.com#@127.0.0.1/%u",
	};
	struct tu_fixture *f = *state;
	struct kf_config *cfg;
	size_t i;
	char *text;

	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		/* AllowHTTP may come before or after the URL. */
		text = tu_printf(i % 2 ? "URL %s\nAllowHTTP yes\n" :
		    "AllowHTTP yes\nURL %s\n", accepted[i]);
		cfg = load_ok(f, text);
		assert_string_equal(cfg->urls.v[0], accepted[i]);
		kf_config_free(cfg);
		free(text);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		text = tu_printf("AllowHTTP yes\nURL %s\n", refused[i]);
		free(load_err(f, text, KF_ERR_CONFIG));
		free(text);
	}
}

static void
test_url_host_is_loopback(void **state)
{
	(void)state;
	assert_true(kf_url_host_is_loopback("http://127.0.0.1/alice"));
	assert_true(kf_url_host_is_loopback("http://127.0.0.1:1/alice"));
	assert_true(kf_url_host_is_loopback("http://[::1]:1/alice"));
	assert_true(kf_url_host_is_loopback("http://localhost/alice"));
	assert_false(kf_url_host_is_loopback("http://10.0.0.1/alice"));
	assert_false(kf_url_host_is_loopback("http://example.com/127.0.0.1"));
	assert_false(kf_url_host_is_loopback("http://127.0.0.1@example.com/"));
	assert_false(kf_url_host_is_loopback("http://example.com@127.0.0.1/"));
	assert_false(kf_url_host_is_loopback("http:///alice"));
	assert_false(kf_url_host_is_loopback("no scheme"));
}

static void
test_url_with_credentials_is_refused(void **state)
{
	static const char *urls[] = {
		"https://user:secret@api.example.com/%u",
		"https://user@api.example.com/%u",
		"https://api.example.com@evil.example.net/%u",
	};
	struct tu_fixture *f = *state;
	size_t i;
	char *text;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		text = tu_printf("URL %s\n", urls[i]);
		assert_config_error_at(f, text, 1, "credentials");
		free(text);
	}
	/* An '@' in the path or query is not in the authority. */
	kf_config_free(load_ok(f, "URL https://api.example.com/%u?x=a@b\n"));
}

static void
test_signing_keys_are_loaded(void **state)
{
	struct tu_fixture *f = *state;
	const struct tu_sigkey *ed = tu_sigkey(TU_SIG_ED25519, 0);
	const struct tu_sigkey *ec = tu_sigkey(TU_SIG_P256, 0);
	struct kf_config *cfg;
	char *both, *text, *pem1, *pem2;

	/* One file may hold several keys, for rotation. */
	pem1 = tu_read_file(ed->pub, NULL);
	pem2 = tu_read_file(tu_sigkey(TU_SIG_ED25519, 1)->pub, NULL);
	text = tu_printf("%s%s", pem1, pem2);
	both = tu_write_file("two-keys.pub", text, strlen(text), 0644);
	free(text);
	text = tu_printf(GOOD_URL_FMT "SigningKey %s\nsigningkey %s\n"
	    "SigningKey %s\nAudience fleet-eu\n", ed->pub, ec->pub, both);
	cfg = load_ok(f, text);
	assert_int_equal(cfg->signing_keys.n, 4);
	assert_int_equal(cfg->signing_keys.v[0].alg, KF_SIG_EDDSA);
	assert_string_equal(cfg->signing_keys.v[0].source, ed->pub);
	assert_int_equal(cfg->signing_keys.v[1].alg, KF_SIG_ES256);
	assert_int_equal(cfg->signing_keys.v[2].alg, KF_SIG_EDDSA);
	assert_int_equal(cfg->signing_keys.v[3].alg, KF_SIG_EDDSA);
	assert_non_null(strstr(cfg->signing_keys.v[3].source, "(key 2)"));
	assert_string_equal(cfg->audience, "fleet-eu");
	kf_config_free(cfg);
	free(text);
	free(both);
	free(pem1);
	free(pem2);
}

static void
test_unusable_signing_keys_are_refused(void **state)
{
	struct tu_fixture *f = *state;
	char *text, *path, *priv;
	size_t i;
	static const enum tu_sigkind wrong[] = { TU_SIG_P384, TU_SIG_RSA };

	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		text = tu_printf(GOOD_URL_FMT "SigningKey %s\n",
		    tu_sigkey(wrong[i], 0)->pub);
		assert_config_error_at(f, text, 2,
		    "not an Ed25519 or P-256 public key");
		free(text);
	}
	/* A private key is not what is asked for. */
	priv = tu_read_file(tu_sigkey(TU_SIG_ED25519, 0)->priv, NULL);
	path = tu_write_file("private.pem", priv, strlen(priv), 0600);
	text = tu_printf(GOOD_URL_FMT "SigningKey %s\n", path);
	assert_config_error_at(f, text, 2, "no PEM public key");
	free(text);
	free(path);
	free(priv);
	path = tu_write_file("junk.pem", "hello\n", 6, 0644);
	text = tu_printf(GOOD_URL_FMT "SigningKey %s\n", path);
	assert_config_error_at(f, text, 2, "no PEM public key");
	free(text);
	free(path);
	assert_config_error_at(f, GOOD_URL "SigningKey /nonexistent/key.pem\n",
	    2, "/nonexistent/key.pem");
}

static void
test_signing_key_file_must_not_be_writable_by_others(void **state)
{
	struct tu_fixture *f = *state;
	char *pem, *path, *text;

	pem = tu_read_file(tu_sigkey(TU_SIG_ED25519, 0)->pub, NULL);
	path = tu_write_file("open.pub", pem, strlen(pem), 0666);
	text = tu_printf(GOOD_URL_FMT "SigningKey %s\n", path);
	assert_config_error_at(f, text, 2, "open.pub");
	free(text);
	free(path);
	path = tu_write_file("group.pub", pem, strlen(pem), 0664);
	text = tu_printf(GOOD_URL_FMT "SigningKey %s\n", path);
	assert_config_error_at(f, text, 2, "group.pub");
	free(text);
	free(path);
	free(pem);
}

static void
test_trust_files_must_be_guarded(void **state)
{
	struct tu_fixture *f = *state;
	char *path, *text;

	path = tu_write_file("open-ca.pem", "CA\n", 3, 0664);
	text = tu_printf(GOOD_URL_FMT "CAFile %s\n", path);
	assert_config_error_at(f, text, 2, "open-ca.pem");
	free(text);
	free(path);
	assert_config_error_at(f, GOOD_URL "CAFile /nonexistent/ca.pem\n", 2,
	    "/nonexistent/ca.pem");
	assert_config_error_at(f, GOOD_URL "SigningKey keys/signing.pub\n", 2,
	    "an absolute path");
}

static void
test_audience_and_format_keys_need_the_right_company(void **state)
{
	struct tu_fixture *f = *state;
	char *text, *path;

	path = load_err(f, GOOD_URL "Audience fleet-eu\n", KF_ERR_CONFIG);
	assert_logged(&f->log, "Audience needs SigningKey");
	free(path);
	text = tu_printf(GOOD_URL_FMT "Format keys\nSigningKey %s\n",
	    tu_sigkey(TU_SIG_ED25519, 0)->pub);
	path = load_err(f, text, KF_ERR_CONFIG);
	assert_logged(&f->log, "SigningKey needs Format json");
	free(path);
	free(text);
	text = tu_printf(GOOD_URL_FMT "SigningKey %s\nAudience fleet\teu\n",
	    tu_sigkey(TU_SIG_ED25519, 0)->pub);
	assert_config_error_at(f, text, 3, "Audience");
	free(text);
}

static void
test_client_certificate_and_key_go_together(void **state)
{
	struct tu_fixture *f = *state;
	char *path;

	path = load_err(f, GOOD_URL "ClientCertificate /etc/keyfleet/c.pem\n",
	    KF_ERR_CONFIG);
	assert_logged(&f->log, "ClientKey");
	free(path);
}

static void
test_connect_timeout_is_capped_by_timeout(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;

	cfg = load_ok(f, GOOD_URL "ConnectTimeout 10\nTimeout 3\n");
	assert_int_equal(cfg->timeout_ms, 3000);
	assert_int_equal(cfg->connect_timeout_ms, 3000);
	kf_config_free(cfg);
}

static void
test_nul_byte_in_config_is_refused(void **state)
{
	static const char text[] = "URL https://api.example.com/%u\n"
	    "CacheTTL 5\0\nBogus line\n";
	struct tu_fixture *f = *state;
	struct kf_config *cfg = NULL;
	char *path;

	path = tu_write_file("nul.conf", text, sizeof(text) - 1, 0644);
	assert_int_equal(kf_config_load(f->ctx, path, tu_config_owner(), &cfg),
	    KF_ERR_CONFIG);
	assert_null(cfg);
	assert_logged(&f->log, "NUL");
	free(path);
}

/* Writes a good config with mode and expects it refused as unsafe. */
static void
assert_mode_refused(struct tu_fixture *f, mode_t mode, const char *why)
{
	struct kf_config *cfg = NULL;
	char *path;

	path = tu_write_file("mode.conf", GOOD_URL, strlen(GOOD_URL), mode);
	tu_log_reset(&f->log);
	assert_int_equal(kf_config_load(f->ctx, path, tu_config_owner(), &cfg),
	    KF_ERR_PERM);
	assert_null(cfg);
	assert_logged(&f->log, path);
	assert_logged(&f->log, why);
	free(path);
}

static void
test_world_writable_config_is_refused(void **state)
{
	assert_mode_refused(*state, 0666, "writable by group or others");
	assert_mode_refused(*state, 0602, "writable by group or others");
}

static void
test_group_writable_config_is_refused(void **state)
{
	assert_mode_refused(*state, 0664, "writable by group or others");
	assert_mode_refused(*state, 0620, "writable by group or others");
}

static void
test_private_and_read_only_configs_are_accepted(void **state)
{
	static const mode_t modes[] = { 0600, 0640, 0644, 0400, 0444 };
	struct tu_fixture *f = *state;
	struct kf_config *cfg;
	size_t i;
	char *path;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		path = tu_write_file("mode.conf", GOOD_URL, strlen(GOOD_URL),
		    modes[i]);
		cfg = NULL;
		assert_int_equal(kf_config_load(f->ctx, path, tu_config_owner(),
		    &cfg), 0);
		kf_config_free(cfg);
		free(path);
	}
}

static void
test_symlinked_config_is_refused(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = NULL;
	char *target, *link;

	target = tu_write_config(GOOD_URL);
	link = tu_printf("%s/link.conf", tu_tmpdir());
	unlink(link);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(kf_config_load(f->ctx, link, tu_config_owner(), &cfg),
	    KF_ERR_PERM);
	assert_null(cfg);
	assert_logged(&f->log, "symbolic link");
	free(target);
	free(link);
}

static void
test_config_owned_by_another_user_is_refused(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = NULL;
	char *path;

	if (geteuid() != 0)
		skip();		/* only root can give a file away */
	path = tu_write_config(GOOD_URL);
	assert_int_equal(chown(path, 4321, 4321), 0);
	assert_int_equal(kf_config_load(f->ctx, path, 0, &cfg), KF_ERR_PERM);
	assert_null(cfg);
	assert_logged(&f->log, "unsafe owner");
	/* Its owner (the invoking user of a test rig) may use it. */
	assert_int_equal(kf_config_load(f->ctx, path, 4321, &cfg), 0);
	kf_config_free(cfg);
	free(path);
}

static void
test_config_that_is_not_a_regular_file_is_refused(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = NULL;
	char *fifo;

	assert_int_equal(kf_config_load(f->ctx, tu_tmpdir(), tu_config_owner(),
	    &cfg), KF_ERR_PERM);
	assert_logged(&f->log, "not a regular file");

	/* A FIFO must be refused at once, not wait for a writer. */
	fifo = tu_printf("%s/fifo.conf", tu_tmpdir());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	tu_log_reset(&f->log);
	alarm(10);
	assert_int_equal(kf_config_load(f->ctx, fifo, tu_config_owner(), &cfg),
	    KF_ERR_PERM);
	alarm(0);
	assert_null(cfg);
	assert_logged(&f->log, "not a regular file");
	free(fifo);
}

static void
test_missing_config_is_an_io_error(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = NULL;
	char *path = tu_printf("%s/does-not-exist.conf", tu_tmpdir());

	assert_int_equal(kf_config_load(f->ctx, path, tu_config_owner(), &cfg),
	    KF_ERR_IO);
	assert_null(cfg);
	assert_logged(&f->log, path);
	free(path);
}

static void
test_ctx_load_config_requires_root_owned_file(void **state)
{
	struct tu_fixture *f = *state;
	char *path = tu_write_config(GOOD_URL "Timeout 4\n");

	if (geteuid() == 0) {
		assert_int_equal(kf_ctx_load_config(f->ctx, path), 0);
		assert_int_equal(kf_ctx_timeout_ms(f->ctx), 4000);
		assert_string_equal(kf_ctx_config_path(f->ctx), path);
	} else {
		/* The file belongs to the invoking user, not root. */
		assert_int_equal(kf_ctx_load_config(f->ctx, path), KF_ERR_PERM);
		assert_logged(&f->log, "unsafe owner");
	}
	free(path);
	/* A failed load leaves the context without a configuration. */
	path = tu_write_config("URL https://api.example.com/nouser\n");
	assert_int_not_equal(kf_ctx_load_config(f->ctx, path), 0);
	assert_int_equal(kf_ctx_timeout_ms(f->ctx), 0);
	free(path);
}

static void
test_bearer_token_file_readable_by_others_is_refused(void **state)
{
	struct tu_fixture *f = *state;
	char *token, *text, *path;

	token = tu_write_file("open.token", "s3cr3t-T0ken\n", 13, 0644);
	text = tu_printf("%sBearerTokenFile %s\n", GOOD_URL, token);
	path = load_err(f, text, KF_ERR_CONFIG);
	assert_logged(&f->log, "readable by others");
	assert_logged(&f->log, token);
	assert_not_logged(&f->log, "s3cr3t");
	free(path);
	free(text);

	/* Readable by its group (a keyfleet group, say) is fine. */
	assert_int_equal(chmod(token, 0640), 0);
	text = tu_printf("%sBearerTokenFile %s\n", GOOD_URL, token);
	kf_config_free(load_ok(f, text));
	free(text);

	/* A missing token file is an error at load time, not at login. */
	assert_int_equal(unlink(token), 0);
	text = tu_printf("%sBearerTokenFile %s\n", GOOD_URL, token);
	assert_config_error_at(f, text, 2, "BearerTokenFile");
	free(text);
	free(token);
}

static void
test_client_key_readable_by_others_is_refused(void **state)
{
	struct tu_fixture *f = *state;
	char *key, *text;

	key = tu_write_file("open.key", "PRIVATE\n", 8, 0604);
	text = tu_printf("%sClientCertificate /etc/c.pem\n"
	    "ClientKey %s\n", GOOD_URL, key);
	assert_config_error_at(f, text, 3, "readable by others");
	free(text);
	free(key);
}

/* Loads a config naming a token file with the given content. */
static struct kf_config *
load_with_token(struct tu_fixture *f, const char *content, size_t len)
{
	struct kf_config *cfg;
	char *token, *text;

	token = tu_write_file("bearer.token", content, len, 0600);
	text = tu_printf("%sBearerTokenFile %s\n", GOOD_URL, token);
	cfg = load_ok(f, text);
	free(text);
	free(token);
	return cfg;
}

static void
test_read_token_takes_the_first_line_only(void **state)
{
	static const struct {
		const char	*content;
		const char	*want;
	} cases[] = {
		{ "s3cr3t-T0ken", "s3cr3t-T0ken" },
		{ "s3cr3t-T0ken\n", "s3cr3t-T0ken" },
		{ "s3cr3t-T0ken\r\n", "s3cr3t-T0ken" },
		{ "s3cr3t-T0ken\nsecond line\n", "s3cr3t-T0ken" },
		{ "a.b_c~d+e/f=\n", "a.b_c~d+e/f=" },
		/* A lone CR ends the line too: nothing can follow the token. */
		{ "s3cr3t-T0ken\rX-Evil: 1\n", "s3cr3t-T0ken" },
	};
	struct tu_fixture *f = *state;
	struct kf_config *cfg;
	char *token;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = load_with_token(f, cases[i].content,
		    strlen(cases[i].content));
		token = NULL;
		assert_int_equal(kf_config_read_token(f->ctx, cfg, &token), 0);
		assert_non_null(token);
		assert_string_equal(token, cases[i].want);
		kf_free_secret(token);
		kf_config_free(cfg);
	}
	assert_not_logged(&f->log, "s3cr3t");
}

static void
test_read_token_refuses_blanks_and_control_characters(void **state)
{
	static const struct {
		const char	*content;
		size_t		 len;
	} cases[] = {
		{ "s3cr3t T0ken\n", 13 },
		{ "s3cr3t\tT0ken\n", 13 },
		{ " s3cr3t-T0ken\n", 14 },
		{ "s3cr3t-T0ken \n", 14 },
		{ "s3cr3t\x01T0ken\n", 13 },
		{ "s3cr3t\x1b[0mT0ken\n", 17 },
		{ "s3cr3t\x7fT0ken\n", 13 },
		{ "s3cr3t\xc3\xa9T0ken\n", 14 },
		{ "s3cr3t:T0ken\n", 13 },
		{ "s3cr3t\0T0ken\n", 13 },
		{ "\ns3cr3t-T0ken\n", 14 },
		{ "", 0 },
	};
	struct tu_fixture *f = *state;
	struct kf_config *cfg;
	char *token;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = load_with_token(f, cases[i].content, cases[i].len);
		tu_log_reset(&f->log);
		token = (char *)&token;		/* poisoned */
		assert_int_equal(kf_config_read_token(f->ctx, cfg, &token),
		    KF_ERR_CONFIG);
		assert_null(token);
		assert_logged(&f->log, "BearerTokenFile");
		/* The token, or a part of it, never reaches the log. */
		assert_not_logged(&f->log, "s3cr3t");
		assert_not_logged(&f->log, "T0ken");
		kf_config_free(cfg);
	}
}

static void
test_read_token_rechecks_the_file_mode(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg;
	char *token;

	cfg = load_with_token(f, "s3cr3t-T0ken\n", 13);
	/* Opened up after the configuration was loaded. */
	assert_int_equal(chmod(cfg->bearer_token_file, 0604), 0);
	token = (char *)&token;
	assert_int_equal(kf_config_read_token(f->ctx, cfg, &token),
	    KF_ERR_PERM);
	assert_null(token);
	assert_logged(&f->log, "readable by others");
	assert_not_logged(&f->log, "s3cr3t");
	kf_config_free(cfg);
}

static void
test_read_token_without_bearer_token_file_gives_none(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_config *cfg = load_ok(f, GOOD_URL);
	char *token = (char *)&token;

	assert_int_equal(kf_config_read_token(f->ctx, cfg, &token), 0);
	assert_null(token);
	kf_config_free(cfg);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup, tu_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults_apply_when_only_url_is_set),
		T(test_default_key_types_and_options_follow_the_spec),
		T(test_every_keyword_is_parsed),
		T(test_typed_values_accept_their_whole_range),
		T(test_key_options_none_strips_every_option),
		T(test_keywords_are_case_insensitive),
		T(test_keyword_equals_value_is_accepted),
		T(test_comments_blank_lines_and_crlf_are_ignored),
		T(test_url_is_repeatable_and_kept_in_order),
		T(test_unknown_keyword_names_file_and_line),
		T(test_bad_values_name_file_and_line),
		T(test_missing_url_is_an_error),
		T(test_duplicate_single_value_keyword_is_an_error),
		T(test_url_without_user_token_is_refused),
		T(test_url_with_unknown_percent_token_is_refused),
		T(test_url_must_be_https),
		T(test_http_url_needs_allow_http),
		T(test_allow_http_permits_loopback_only),
		T(test_url_host_is_loopback),
		T(test_url_with_credentials_is_refused),
		T(test_signing_keys_are_loaded),
		T(test_unusable_signing_keys_are_refused),
		T(test_signing_key_file_must_not_be_writable_by_others),
		T(test_audience_and_format_keys_need_the_right_company),
		T(test_trust_files_must_be_guarded),
		T(test_client_certificate_and_key_go_together),
		T(test_connect_timeout_is_capped_by_timeout),
		T(test_nul_byte_in_config_is_refused),
		T(test_world_writable_config_is_refused),
		T(test_group_writable_config_is_refused),
		T(test_private_and_read_only_configs_are_accepted),
		T(test_symlinked_config_is_refused),
		T(test_config_owned_by_another_user_is_refused),
		T(test_config_that_is_not_a_regular_file_is_refused),
		T(test_missing_config_is_an_io_error),
		T(test_ctx_load_config_requires_root_owned_file),
		T(test_bearer_token_file_readable_by_others_is_refused),
		T(test_client_key_readable_by_others_is_refused),
		T(test_read_token_takes_the_first_line_only),
		T(test_read_token_refuses_blanks_and_control_characters),
		T(test_read_token_rechecks_the_file_mode),
		T(test_read_token_without_bearer_token_file_gives_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
