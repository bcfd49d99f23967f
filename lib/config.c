/*
 * config.c - keyfleet.conf(5).
 *
 * sshd_config style: "Keyword value" or "Keyword=value", keywords
 * case-insensitive, '#' starts a comment line.  Every problem is an error
 * that names the file and line: a security tool that skips a line it does
 * not understand runs with a policy nobody wrote.
 */
#include "config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "keyfleet.h"
#include "config_file.h"
#include "log.h"
#include "sig.h"
#include "util.h"

#define KF_CONFIG_MAX_SIZE	(256 * 1024)
#define KF_CONFIG_MAX_LINE	4096
#define KF_URL_MAX		2048
#define KF_TOKEN_MAX		8192

#ifndef KF_CACHEDIR
#define KF_CACHEDIR "/var/cache/keyfleet"
#endif

struct parse_state {
	struct kf_ctx		*ctx;
	struct kf_config	*cfg;
	const char		*path;
	unsigned		 line;
	unsigned		 seen[32];	/* line each keyword was set on */
	unsigned		 url_lines[16];	/* line of each URL */
};

typedef int keyword_fn(struct parse_state *, const char *value);

static int
bad_value(struct parse_state *st, const char *keyword, const char *value,
    const char *expected)
{
	kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: %s: invalid value \"%.64s\"; "
	    "expected %s", st->path, st->line, keyword, value, expected);
	return KF_ERR_CONFIG;
}

static int
strlist_add(struct kf_strlist *l, const char *s)
{
	char **v;

	if (l->n >= 64)
		return KF_ERR_CONFIG;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return KF_ERR_NOMEM;
	l->v = v;
	if ((l->v[l->n] = strdup(s)) == NULL)
		return KF_ERR_NOMEM;
	l->n++;
	return 0;
}

static void
strlist_free(struct kf_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
set_string(char **dst, const char *value)
{
	char *s;

	if ((s = strdup(value)) == NULL)
		return KF_ERR_NOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int
set_path(struct parse_state *st, const char *kw, char **dst, const char *value)
{
	if (value[0] != '/' || strlen(value) >= PATH_MAX)
		return bad_value(st, kw, value, "an absolute path");
	return set_string(dst, value);
}

static int
parse_bool(const char *value, int *out)
{
	if (kf_strcaseeq(value, "yes"))
		*out = 1;
	else if (kf_strcaseeq(value, "no"))
		*out = 0;
	else
		return KF_ERR_INVAL;
	return 0;
}

/* Returns the host part of an http(s) URL as [start, end), or -1. */
static int
url_host(const char *url, const char **start, const char **end)
{
	const char *p, *h;

	if ((p = strstr(url, "://")) == NULL)
		return -1;
	h = p + 3;
	for (p = h; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++) {
		if (*p == '@')
			return -1;	/* credentials belong in BearerTokenFile */
	}
	*start = h;
	if (*h == '[') {
		if ((p = strchr(h, ']')) == NULL)
			return -1;
		*start = h + 1;
		*end = p;
		return 0;
	}
	for (p = h; *p != '\0' && *p != ':' && *p != '/' && *p != '?' &&
	    *p != '#'; p++)
		;
	*end = p;
	return *end > *start ? 0 : -1;
}

static int
check_url_template(const char *url, const char **why)
{
	const char *p, *hs, *he;
	int has_user = 0;

	if (strlen(url) > KF_URL_MAX) {
		*why = "URL too long";
		return -1;
	}
	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0) {
		*why = "URL must start with https://";
		return -1;
	}
	for (p = url; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			*why = "URL contains a blank or non-ASCII character";
			return -1;
		}
		if (*p == '%') {
			if (p[1] != 'u' && p[1] != 'H' && p[1] != '%') {
				*why = "unknown %-token (only %u, %H and %% exist)";
				return -1;
			}
			/* "%%u" is a literal "%u", not the user token. */
			has_user |= p[1] == 'u';
			p++;
		}
	}
	if (!has_user) {
		*why = "URL has no %u token";
		return -1;
	}
	if (url_host(url, &hs, &he) != 0) {
		*why = "URL has no host, or credentials in it";
		return -1;
	}
	return 0;
}

static int
kw_url(struct parse_state *st, const char *value)
{
	const char *why;

	if (check_url_template(value, &why) != 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: URL: %s: \"%.80s\"",
		    st->path, st->line, why, value);
		return KF_ERR_CONFIG;
	}
	if (st->cfg->urls.n >= 16) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: URL: at most 16 URLs",
		    st->path, st->line);
		return KF_ERR_CONFIG;
	}
	st->url_lines[st->cfg->urls.n] = st->line;
	return strlist_add(&st->cfg->urls, value);
}

static int
kw_format(struct parse_state *st, const char *value)
{
	if (kf_strcaseeq(value, "json"))
		st->cfg->format = KF_FORMAT_JSON;
	else if (kf_strcaseeq(value, "keys"))
		st->cfg->format = KF_FORMAT_KEYS;
	else
		return bad_value(st, "Format", value, "json or keys");
	return 0;
}

/*
 * Opens a file the configuration names, guarded like this one: owned by
 * root or the caller, not writable by group or others, and when secret
 * not readable by others either.  Returns an fd, or KF_ERR_CONFIG after
 * logging why with the file and line.
 */
static int
open_guarded(struct parse_state *st, const char *kw, const char *path,
    int secret)
{
	const char *why;
	int fd;

	if ((fd = kf_open_checked(path, geteuid(), secret, &why)) < 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: %s: %s %s", st->path,
		    st->line, kw, path, why);
		return KF_ERR_CONFIG;
	}
	return fd;
}

/* open_guarded() for a file only checked here, used later. */
static int
check_guarded(struct parse_state *st, const char *kw, const char *path,
    int secret)
{
	int fd;

	if ((fd = open_guarded(st, kw, path, secret)) < 0)
		return fd;
	close(fd);
	return 0;
}

static int
kw_bearer_token_file(struct parse_state *st, const char *value)
{
	int r;

	if ((r = set_path(st, "BearerTokenFile", &st->cfg->bearer_token_file,
	    value)) != 0)
		return r;
	return check_guarded(st, "BearerTokenFile", value, 1);
}

static int
kw_ca_file(struct parse_state *st, const char *value)
{
	int r;

	if ((r = set_path(st, "CAFile", &st->cfg->ca_file, value)) != 0)
		return r;
	return check_guarded(st, "CAFile", value, 0);
}

static int
kw_client_cert(struct parse_state *st, const char *value)
{
	return set_path(st, "ClientCertificate", &st->cfg->client_cert, value);
}

static int
kw_client_key(struct parse_state *st, const char *value)
{
	int r;

	if ((r = set_path(st, "ClientKey", &st->cfg->client_key, value)) != 0)
		return r;
	return check_guarded(st, "ClientKey", value, 1);
}

static int
kw_pinned_pubkey(struct parse_state *st, const char *value)
{
	const char *p = value;

	/* sha256//BASE64[;sha256//BASE64...], as curl's --pinnedpubkey. */
	for (;;) {
		if (strncmp(p, "sha256//", 8) != 0)
			return bad_value(st, "PinnedPublicKey", value,
			    "sha256//BASE64[;sha256//BASE64...]");
		p += 8;
		if (strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != 44)
			return bad_value(st, "PinnedPublicKey", value,
			    "sha256// followed by 44 base64 characters");
		p += 44;
		if (*p == '\0')
			break;
		if (*p++ != ';')
			return bad_value(st, "PinnedPublicKey", value,
			    "pins separated by ';'");
	}
	return set_string(&st->cfg->pinned_pubkey, value);
}

static int
kw_signing_key(struct parse_state *st, const char *value)
{
	struct kf_buf pem;
	const char *why;
	int fd, r;

	if (value[0] != '/')
		return bad_value(st, "SigningKey", value, "an absolute path");
	if ((fd = open_guarded(st, "SigningKey", value, 0)) < 0)
		return fd;
	kf_buf_init(&pem, 64 * 1024);
	r = kf_read_fd(fd, &pem, 64 * 1024);
	close(fd);
	if (r == 0)
		r = kf_sigkeys_add_pem(&st->cfg->signing_keys, pem.data,
		    pem.len, value, &why);
	else
		why = r == KF_ERR_TOOBIG ? "is too large for a public key" :
		    "cannot be read";
	kf_buf_free(&pem);
	if (r == KF_ERR_NOMEM)
		return r;
	if (r != 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: SigningKey: %s: %s",
		    st->path, st->line, value, why);
		return KF_ERR_CONFIG;
	}
	return 0;
}

static int
kw_audience(struct parse_state *st, const char *value)
{
	const char *p;

	if (strlen(value) > 256)
		return bad_value(st, "Audience", value,
		    "at most 256 characters");
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad_value(st, "Audience", value,
			    "printable characters");
	}
	return set_string(&st->cfg->audience, value);
}

static int
valid_hostname(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") == n;
}

static int
kw_hostname(struct parse_state *st, const char *value)
{
	if (!valid_hostname(value))
		return bad_value(st, "HostName", value,
		    "a host name of letters, digits, '.', '-' and '_'");
	return set_string(&st->cfg->hostname, value);
}

static int
kw_connect_timeout(struct parse_state *st, const char *value)
{
	if (kf_parse_seconds_ms(value, 1, 600000,
	    &st->cfg->connect_timeout_ms) != 0)
		return bad_value(st, "ConnectTimeout", value,
		    "seconds between 0.001 and 600");
	return 0;
}

static int
kw_timeout(struct parse_state *st, const char *value)
{
	if (kf_parse_seconds_ms(value, 1, 600000, &st->cfg->timeout_ms) != 0)
		return bad_value(st, "Timeout", value,
		    "seconds between 0.001 and 600");
	return 0;
}

static int
kw_max_response_size(struct parse_state *st, const char *value)
{
	if (kf_parse_size(value, 256, 64 * 1024 * 1024,
	    &st->cfg->max_response_size) != 0)
		return bad_value(st, "MaxResponseSize", value,
		    "bytes with optional K or M suffix, between 256 and 64M");
	return 0;
}

static int
kw_allow_http(struct parse_state *st, const char *value)
{
	if (parse_bool(value, &st->cfg->allow_http) != 0)
		return bad_value(st, "AllowHTTP", value, "yes or no");
	return 0;
}

static int
kw_cache_directory(struct parse_state *st, const char *value)
{
	return set_path(st, "CacheDirectory", &st->cfg->cache_dir, value);
}

static int
parse_secs(struct parse_state *st, const char *kw, const char *value,
    unsigned long *out)
{
	if (kf_parse_ulong(value, 0, 10L * 365 * 86400, out) != 0)
		return bad_value(st, kw, value, "whole seconds");
	return 0;
}

static int
kw_cache_ttl(struct parse_state *st, const char *value)
{
	return parse_secs(st, "CacheTTL", value, &st->cfg->cache_ttl);
}

static int
kw_cache_max_stale(struct parse_state *st, const char *value)
{
	return parse_secs(st, "CacheMaxStale", value,
	    &st->cfg->cache_max_stale);
}

static int
kw_negative_ttl(struct parse_state *st, const char *value)
{
	return parse_secs(st, "NegativeTTL", value, &st->cfg->negative_ttl);
}

static int
kw_unknown_key_refresh(struct parse_state *st, const char *value)
{
	unsigned long v;

	if (kf_strcaseeq(value, "no")) {
		st->cfg->unknown_key_refresh = -1;
		return 0;
	}
	if (kf_parse_ulong(value, 0, 86400, &v) != 0)
		return bad_value(st, "UnknownKeyRefresh", value,
		    "whole seconds (at most 86400) or no");
	st->cfg->unknown_key_refresh = (long)v;
	return 0;
}

/* Calls fn on each element of a comma-separated list; empty ones fail. */
static int
each_item(struct parse_state *st, const char *kw, const char *value,
    int (*fn)(struct parse_state *, const char *, void *), void *arg)
{
	char item[256];
	const char *p = value, *e;
	size_t n;
	int r;

	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n >= sizeof(item))
			return bad_value(st, kw, value,
			    "a comma-separated list without empty items");
		memcpy(item, p, n);
		item[n] = '\0';
		if ((r = fn(st, item, arg)) != 0)
			return r;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static int
add_keytype(struct parse_state *st, const char *item, void *arg)
{
	int t;

	if ((t = kf_keytype_from_name(item)) < 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: KeyTypes: unknown key "
		    "type \"%.64s\"", st->path, st->line, item);
		return KF_ERR_CONFIG;
	}
	*(uint32_t *)arg |= 1u << t;
	return 0;
}

static int
kw_key_types(struct parse_state *st, const char *value)
{
	uint32_t mask = 0;
	int r;

	if ((r = each_item(st, "KeyTypes", value, add_keytype, &mask)) != 0)
		return r;
	st->cfg->key_policy.types = mask;
	return 0;
}

static int
kw_min_rsa_bits(struct parse_state *st, const char *value)
{
	if (kf_parse_ulong(value, 1024, 16384,
	    &st->cfg->key_policy.min_rsa_bits) != 0)
		return bad_value(st, "MinRSABits", value,
		    "a number between 1024 and 16384");
	return 0;
}

static int
add_keyopt(struct parse_state *st, const char *item, void *arg)
{
	int o;

	if ((o = kf_keyopt_from_name(item)) < 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: KeyOptions: unknown "
		    "option \"%.64s\"", st->path, st->line, item);
		return KF_ERR_CONFIG;
	}
	*(uint32_t *)arg |= 1u << o;
	return 0;
}

static int
kw_key_options(struct parse_state *st, const char *value)
{
	uint32_t mask = 0;
	int r;

	if (!kf_strcaseeq(value, "none") &&
	    (r = each_item(st, "KeyOptions", value, add_keyopt, &mask)) != 0)
		return r;
	st->cfg->key_policy.options = mask;
	return 0;
}

static int
add_pattern(struct parse_state *st, const char *item, void *arg)
{
	if (strspn(item, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_*?[]!-") != strlen(item)) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: invalid environment name "
		    "pattern \"%.64s\"", st->path, st->line, item);
		return KF_ERR_CONFIG;
	}
	return strlist_add(arg, item);
}

static int
kw_env_allow(struct parse_state *st, const char *value)
{
	strlist_free(&st->cfg->env_allow);
	return each_item(st, "EnvAllow", value, add_pattern,
	    &st->cfg->env_allow);
}

static int
kw_env_deny(struct parse_state *st, const char *value)
{
	strlist_free(&st->cfg->env_deny);
	return each_item(st, "EnvDeny", value, add_pattern,
	    &st->cfg->env_deny);
}

static int
kw_unknown_user(struct parse_state *st, const char *value)
{
	if (kf_strcaseeq(value, "ignore"))
		st->cfg->unknown_user_deny = 0;
	else if (kf_strcaseeq(value, "deny"))
		st->cfg->unknown_user_deny = 1;
	else
		return bad_value(st, "UnknownUser", value, "ignore or deny");
	return 0;
}

static int
kw_log_level(struct parse_state *st, const char *value)
{
	static const char *names[] = { "quiet", "info", "verbose", "debug" };
	int i;

	for (i = 0; i < 4; i++) {
		if (kf_strcaseeq(value, names[i])) {
			st->cfg->log_level = (enum kf_log_level)i;
			return 0;
		}
	}
	return bad_value(st, "LogLevel", value,
	    "quiet, info, verbose or debug");
}

static const struct keyword {
	const char	*name;
	keyword_fn	*fn;
	int		 repeatable;
} keywords[] = {
	{ "URL", kw_url, 1 },
	{ "Format", kw_format, 0 },
	{ "BearerTokenFile", kw_bearer_token_file, 0 },
	{ "CAFile", kw_ca_file, 0 },
	{ "ClientCertificate", kw_client_cert, 0 },
	{ "ClientKey", kw_client_key, 0 },
	{ "PinnedPublicKey", kw_pinned_pubkey, 0 },
	{ "SigningKey", kw_signing_key, 1 },
	{ "Audience", kw_audience, 0 },
	{ "HostName", kw_hostname, 0 },
	{ "ConnectTimeout", kw_connect_timeout, 0 },
	{ "Timeout", kw_timeout, 0 },
	{ "MaxResponseSize", kw_max_response_size, 0 },
	{ "AllowHTTP", kw_allow_http, 0 },
	{ "CacheDirectory", kw_cache_directory, 0 },
	{ "CacheTTL", kw_cache_ttl, 0 },
	{ "CacheMaxStale", kw_cache_max_stale, 0 },
	{ "NegativeTTL", kw_negative_ttl, 0 },
	{ "UnknownKeyRefresh", kw_unknown_key_refresh, 0 },
	{ "KeyTypes", kw_key_types, 0 },
	{ "MinRSABits", kw_min_rsa_bits, 0 },
	{ "KeyOptions", kw_key_options, 0 },
	{ "EnvAllow", kw_env_allow, 0 },
	{ "EnvDeny", kw_env_deny, 0 },
	{ "UnknownUser", kw_unknown_user, 0 },
	{ "LogLevel", kw_log_level, 0 },
};

static int
parse_line(struct parse_state *st, char *line)
{
	char *kw, *value, *p;
	size_t i, n;
	int sep_eq;

	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;
	kw = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '=')
		p++;
	/* The separator is blanks, '=', or '=' between blanks. */
	sep_eq = *p == '=';
	if (*p != '\0')
		*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (!sep_eq && *p == '=') {
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
	}
	value = p;
	n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		value[--n] = '\0';
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value[n - 1] = '\0';
		value++;
		n -= 2;
	}

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (kf_strcaseeq(kw, keywords[i].name))
			break;
	}
	if (i == sizeof(keywords) / sizeof(keywords[0])) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: unknown keyword \"%.64s\"",
		    st->path, st->line, kw);
		return KF_ERR_CONFIG;
	}
	if (n == 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: %s: missing value",
		    st->path, st->line, keywords[i].name);
		return KF_ERR_CONFIG;
	}
	if (strpbrk(value, " \t\"") != NULL) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: %s: expected a single "
		    "value, got \"%.64s\"", st->path, st->line,
		    keywords[i].name, value);
		return KF_ERR_CONFIG;
	}
	if (!keywords[i].repeatable && st->seen[i] != 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: %s: already set on line "
		    "%u", st->path, st->line, keywords[i].name, st->seen[i]);
		return KF_ERR_CONFIG;
	}
	st->seen[i] = st->line;
	return keywords[i].fn(st, value);
}

static int
parse_text(struct parse_state *st, char *text, size_t len)
{
	char *line = text, *nl;
	int r;

	if (memchr(text, '\0', len) != NULL) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s: contains a NUL byte",
		    st->path);
		return KF_ERR_CONFIG;
	}
	for (st->line = 1; *line != '\0'; st->line++) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (nl != NULL && nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strlen(line) > KF_CONFIG_MAX_LINE) {
			kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: line too long",
			    st->path, st->line);
			return KF_ERR_CONFIG;
		}
		if ((r = parse_line(st, line)) != 0)
			return r == KF_ERR_NOMEM ? r : KF_ERR_CONFIG;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return 0;
}

/* Checks what only the whole file can tell. */
static int
check_config(struct parse_state *st)
{
	struct kf_config *cfg = st->cfg;
	const char *hs, *he;
	size_t i;

	if (cfg->urls.n == 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s: no URL configured",
		    st->path);
		return KF_ERR_CONFIG;
	}
	for (i = 0; i < cfg->urls.n; i++) {
		if (strncasecmp(cfg->urls.v[i], "https://", 8) == 0)
			continue;
		if (!cfg->allow_http) {
			kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: URL %s: http:// "
			    "needs AllowHTTP yes (loopback addresses only)",
			    st->path, st->url_lines[i], cfg->urls.v[i]);
			return KF_ERR_CONFIG;
		}
		if (url_host(cfg->urls.v[i], &hs, &he) != 0 ||
		    !kf_url_host_is_loopback(cfg->urls.v[i])) {
			kf_log(st->ctx, KF_LOG_ERROR, "%s:%u: URL %s: http:// "
			    "is allowed to loopback addresses only", st->path,
			    st->url_lines[i], cfg->urls.v[i]);
			return KF_ERR_CONFIG;
		}
	}
	if ((cfg->client_cert == NULL) != (cfg->client_key == NULL)) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s: ClientCertificate and "
		    "ClientKey go together", st->path);
		return KF_ERR_CONFIG;
	}
	if (cfg->audience != NULL && cfg->signing_keys.n == 0) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s: Audience needs SigningKey: "
		    "only a signed record's aud can be trusted", st->path);
		return KF_ERR_CONFIG;
	}
	if (cfg->signing_keys.n > 0 && cfg->format == KF_FORMAT_KEYS) {
		kf_log(st->ctx, KF_LOG_ERROR, "%s: SigningKey needs Format "
		    "json: plain authorized_keys text cannot be signed",
		    st->path);
		return KF_ERR_CONFIG;
	}
	if (cfg->connect_timeout_ms > cfg->timeout_ms)
		cfg->connect_timeout_ms = cfg->timeout_ms;
	return 0;
}

static int
config_defaults(struct kf_config *cfg)
{
	char host[256];

	cfg->format = KF_FORMAT_JSON;
	cfg->connect_timeout_ms = 2000;
	cfg->timeout_ms = 8000;
	cfg->max_response_size = 1024 * 1024;
	cfg->cache_ttl = 300;
	cfg->cache_max_stale = 86400;
	cfg->negative_ttl = 60;
	cfg->unknown_key_refresh = 30;
	cfg->key_policy = kf_key_policy_default();
	cfg->log_level = KF_LOG_INFO;
	if ((cfg->cache_dir = strdup(KF_CACHEDIR)) == NULL)
		return KF_ERR_NOMEM;
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (valid_hostname(host) &&
		    (cfg->hostname = strdup(host)) == NULL)
			return KF_ERR_NOMEM;
	}
	if (cfg->hostname == NULL && (cfg->hostname = strdup("localhost")) == NULL)
		return KF_ERR_NOMEM;
	return 0;
}

/* Parses text (modified in place) as the file name. */
static int
config_parse_text(struct kf_ctx *ctx, const char *name, struct kf_buf *text,
    struct kf_config **cfgp)
{
	struct parse_state st;
	int r;

	*cfgp = NULL;
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.path = name;
	if ((st.cfg = calloc(1, sizeof(*st.cfg))) == NULL)
		return KF_ERR_NOMEM;
	if ((r = config_defaults(st.cfg)) != 0 ||
	    (r = set_string(&st.cfg->path, name)) != 0)
		goto out;
	if ((r = parse_text(&st, text->data, text->len)) != 0 ||
	    (r = check_config(&st)) != 0)
		goto out;
	*cfgp = st.cfg;
	st.cfg = NULL;
 out:
	kf_config_free(st.cfg);
	return r;
}

int
kf_url_host_is_loopback(const char *url)
{
	const char *hs, *he;
	char host[64];
	struct in_addr a4;
	size_t n;

	if (url_host(url, &hs, &he) != 0 || (n = (size_t)(he - hs)) == 0 ||
	    n >= sizeof(host))
		return 0;
	memcpy(host, hs, n);
	host[n] = '\0';
	if (kf_strcaseeq(host, "localhost") || strcmp(host, "::1") == 0)
		return 1;
	/* inet_pton accepts only the full dotted quad: no "127.1" tricks. */
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return 0;
}

void
kf_config_free(struct kf_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	strlist_free(&cfg->urls);
	free(cfg->bearer_token_file);
	free(cfg->ca_file);
	free(cfg->client_cert);
	free(cfg->client_key);
	free(cfg->pinned_pubkey);
	kf_sigkeys_free(&cfg->signing_keys);
	free(cfg->audience);
	free(cfg->hostname);
	free(cfg->cache_dir);
	strlist_free(&cfg->env_allow);
	strlist_free(&cfg->env_deny);
	free(cfg);
}

int
kf_config_parse(struct kf_ctx *ctx, const char *name, const char *text,
    size_t len, struct kf_config **cfgp)
{
	struct kf_buf copy;
	int r;

	*cfgp = NULL;
	kf_buf_init(&copy, KF_CONFIG_MAX_SIZE);
	if ((r = kf_buf_append(&copy, text, len)) != 0) {
		if (r == KF_ERR_TOOBIG) {
			kf_log(ctx, KF_LOG_ERROR, "%s: file too large", name);
			r = KF_ERR_CONFIG;
		}
		goto out;
	}
	r = config_parse_text(ctx, name, &copy, cfgp);
 out:
	kf_buf_free(&copy);
	return r;
}

int
kf_config_load(struct kf_ctx *ctx, const char *path, uid_t owner,
    struct kf_config **cfgp)
{
	struct kf_buf text;
	const char *why;
	int fd, r;

	*cfgp = NULL;
	kf_buf_init(&text, 0);
	if ((fd = kf_open_checked(path, owner, 0, &why)) < 0) {
		kf_log(ctx, KF_LOG_ERROR, "%s: %s", path, why);
		return fd;
	}
	r = kf_read_fd(fd, &text, KF_CONFIG_MAX_SIZE);
	close(fd);
	if (r != 0) {
		kf_log(ctx, KF_LOG_ERROR, "%s: %s", path,
		    r == KF_ERR_TOOBIG ? "file too large" : "read error");
		r = r == KF_ERR_TOOBIG ? KF_ERR_CONFIG : r;
		goto out;
	}
	r = config_parse_text(ctx, path, &text, cfgp);
 out:
	kf_buf_free(&text);
	return r;
}

int
kf_config_read_token(struct kf_ctx *ctx, const struct kf_config *cfg,
    char **tokenp)
{
	struct kf_buf b;
	const char *why;
	size_t n;
	int fd, r;

	*tokenp = NULL;
	if (cfg->bearer_token_file == NULL)
		return 0;
	kf_buf_init(&b, 0);
	if ((fd = kf_open_checked(cfg->bearer_token_file, geteuid(), 1,
	    &why)) < 0) {
		kf_log(ctx, KF_LOG_ERROR, "BearerTokenFile %s %s",
		    cfg->bearer_token_file, why);
		return fd;
	}
	r = kf_read_fd(fd, &b, KF_TOKEN_MAX);
	close(fd);
	if (r != 0) {
		kf_log(ctx, KF_LOG_ERROR, "BearerTokenFile %s: %s",
		    cfg->bearer_token_file,
		    r == KF_ERR_TOOBIG ? "file too large" : "read error");
		kf_buf_free(&b);
		return r;
	}
	/* The first line, measured in bytes: a NUL in it is refused below. */
	for (n = 0; n < b.len && b.data[n] != '\r' && b.data[n] != '\n'; n++)
		;
	/* Whatever follows the first line is no longer needed. */
	explicit_bzero(b.data + n, b.len - n);
	b.len = n;
	/* A header value: visible ASCII only, so it cannot split the header. */
	if (n == 0 || strspn(b.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789-._~+/=") != n) {
		kf_log(ctx, KF_LOG_ERROR, "BearerTokenFile %s: the first line "
		    "is not a bearer token (RFC 6750 characters only)",
		    cfg->bearer_token_file);
		kf_buf_free(&b);
		return KF_ERR_CONFIG;
	}
	*tokenp = kf_buf_take(&b);
	return *tokenp != NULL ? 0 : KF_ERR_NOMEM;
}
