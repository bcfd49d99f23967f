/*
 * fetch.c - one lookup's requests to the central API.
 *
 * Safe inside sshd's monitor: no signals (CURLOPT_NOSIGNAL, sshd's
 * LoginGraceTime alarm is live), no redirects, no protocol but https (http
 * only to loopback when AllowHTTP says so), a hard size cap and a hard
 * deadline for the whole lookup across every URL, and the easy handle is
 * cleaned up before returning so no socket outlives the call.
 *
 * The deadline covers name resolution too: a URL's host name is resolved
 * by lib/resolve.c within the time left and handed to libcurl with
 * CURLOPT_RESOLVE, so libcurl's own resolver thread, which neither a
 * timeout nor cleanup can stop, never runs.  For the same reason no proxy
 * is taken from the environment (its name would be resolved by libcurl);
 * under sshd the helper's environment has none anyway.
 */
#include "config.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "keyfleet.h"
#include "fetch.h"
#include "log.h"
#include "resolve.h"
#include "util.h"

#define KF_ETAG_MAX	256
#define KF_CTYPE_MAX	128

struct transfer {
	struct kf_response	*resp;
	int			 too_big;
	char			 error[CURL_ERROR_SIZE];	/* libcurl's details */
};

#ifndef KF_LIBCURL_SONAME
#define KF_LIBCURL_SONAME "libcurl.so.4"
#endif

/*
 * libcurl is loaded on the first fetch, not at program start: a cache hit,
 * the common case for sshd's several runs per login, never pays for
 * loading it and its TLS stack.  Loaded once per process and never
 * unloaded or cleaned up (PAM modules may be loaded and unloaded again).
 */
static struct {
	int		  loaded;
	CURLcode	(*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	void		(*easy_cleanup)(CURL *);
	void		(*easy_reset)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
	CURLU		*(*url)(void);
	CURLUcode	(*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode	(*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	void		(*url_cleanup)(CURLU *);
	void		(*free)(void *);
} kc;

static int
curl_load(struct kf_ctx *ctx)
{
	void *h;

	if (kc.loaded)
		return 0;
	h = dlopen(KF_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (h == NULL) {
		kf_log(ctx, KF_LOG_ERROR, "cannot load %s: %s",
		    KF_LIBCURL_SONAME, dlerror());
		return KF_ERR_FETCH;
	}
#define LOAD(field, sym) \
	if ((*(void **)&kc.field = dlsym(h, sym)) == NULL) goto missing
	LOAD(global_init, "curl_global_init");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_perform, "curl_easy_perform");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(easy_reset, "curl_easy_reset");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(slist_append, "curl_slist_append");
	LOAD(slist_free_all, "curl_slist_free_all");
	LOAD(url, "curl_url");
	LOAD(url_set, "curl_url_set");
	LOAD(url_get, "curl_url_get");
	LOAD(url_cleanup, "curl_url_cleanup");
	LOAD(free, "curl_free");
#undef LOAD
	if (kc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		kf_log(ctx, KF_LOG_ERROR, "libcurl failed to initialize");
		return KF_ERR_FETCH;
	}
	kc.loaded = 1;
	return 0;
 missing:
	kf_log(ctx, KF_LOG_ERROR, "%s lacks a function keyfleet needs: %s",
	    KF_LIBCURL_SONAME, dlerror());
	return KF_ERR_FETCH;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	if (kf_buf_append(&t->resp->body, data, n) != 0) {
		t->too_big = t->resp->body.max != 0 &&
		    t->resp->body.len + n > t->resp->body.max;
		return 0;	/* aborts the transfer: reject, never truncate */
	}
	return n;
}

/* Keeps a header value only when it is short, visible ASCII. */
static char *
header_value(const char *v, size_t n, size_t max)
{
	char *s;
	size_t i;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0 || n > max)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return NULL;
	}
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	if (n > 5 && strncasecmp(data, "ETag:", 5) == 0) {
		free(t->resp->etag);
		t->resp->etag = header_value(data + 5, n - 5, KF_ETAG_MAX);
	} else if (n > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
		free(t->resp->content_type);
		t->resp->content_type = header_value(data + 13, n - 13,
		    KF_CTYPE_MAX);
	}
	return n;
}

static void
response_reset(struct kf_response *resp, size_t max)
{
	kf_response_clear(resp);
	kf_buf_init(&resp->body, max);
}

/* Wipes what libcurl was given of the token before the list is freed. */
static void
free_headers(struct curl_slist *headers)
{
	struct curl_slist *h;

	for (h = headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	kc.slist_free_all(headers);
}

static int
build_headers(const struct kf_config *cfg, const char *token,
    const char *etag, struct curl_slist **out)
{
	struct curl_slist *h = NULL, *n;
	struct kf_buf line;
	int r = KF_ERR_NOMEM;

	kf_buf_init(&line, 0);
	*out = NULL;
	if ((h = kc.slist_append(h, "Accept: application/jose, "
	    "application/json;q=0.9, text/plain;q=0.5")) == NULL)
		goto out;
	line.len = 0;
	if (kf_buf_puts(&line, "Keyfleet-Host: ") != 0 ||
	    kf_buf_puts(&line, cfg->hostname) != 0 ||
	    (n = kc.slist_append(h, line.data)) == NULL)
		goto out;
	h = n;
	if (etag != NULL) {
		line.len = 0;
		if (kf_buf_puts(&line, "If-None-Match: ") != 0 ||
		    kf_buf_puts(&line, etag) != 0 ||
		    (n = kc.slist_append(h, line.data)) == NULL)
			goto out;
		h = n;
	}
	if (token != NULL) {
		line.len = 0;
		if (kf_buf_puts(&line, "Authorization: Bearer ") != 0 ||
		    kf_buf_puts(&line, token) != 0 ||
		    (n = kc.slist_append(h, line.data)) == NULL)
			goto out;
		h = n;
	}
	*out = h;
	h = NULL;
	r = 0;
 out:
	kf_buf_free(&line);	/* wipes the token copy */
	free_headers(h);
	return r;
}

/*
 * Resolves url's host name within budget_ms and returns the addresses as
 * a CURLOPT_RESOLVE list for it (*out stays NULL for an address literal
 * or localhost, which libcurl takes without a resolver).
 */
static int
pin_addresses(const char *url, long budget_ms,
    struct curl_slist **out, char why[KF_FETCH_WHY_MAX])
{
	char *host = NULL, *port = NULL, *addrs = NULL;
	struct kf_buf entry;
	CURLU *u;
	int r = KF_ERR_NOMEM;

	*out = NULL;
	kf_buf_init(&entry, 0);
	if ((u = kc.url()) == NULL)
		goto out;
	if (kc.url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    kc.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    kc.url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		snprintf(why, KF_FETCH_WHY_MAX, "not a URL libcurl can use");
		r = KF_ERR_FETCH;
		goto out;
	}
	if (!kf_host_needs_resolving(host)) {
		r = 0;
		goto out;
	}
	if ((r = kf_resolve(host, budget_ms, &addrs, why,
	    KF_FETCH_WHY_MAX)) != 0)
		goto out;
	r = KF_ERR_NOMEM;
	if (kf_buf_puts(&entry, host) != 0 || kf_buf_putc(&entry, ':') != 0 ||
	    kf_buf_puts(&entry, port) != 0 || kf_buf_putc(&entry, ':') != 0 ||
	    kf_buf_puts(&entry, addrs) != 0 ||
	    (*out = kc.slist_append(NULL, entry.data)) == NULL)
		goto out;
	r = 0;
 out:
	kf_buf_free(&entry);
	free(addrs);
	kc.free(host);
	kc.free(port);
	if (u != NULL)
		kc.url_cleanup(u);
	return r;
}

static int
setup_handle(CURL *c, const struct kf_config *cfg, const char *url,
    struct curl_slist *headers, struct curl_slist *resolve,
    struct transfer *t, long remaining_ms)
{
	const char *protocols = "https";
	CURLcode e = CURLE_OK;

	if (strncasecmp(url, "http://", 7) == 0)
		protocols = "http";
#define SET(opt, val) do { if (e == CURLE_OK) e = kc.easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, protocols);
#else
	SET(CURLOPT_PROTOCOLS, strcmp(protocols, "http") == 0 ?
	    CURLPROTO_HTTP : CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_NOPROGRESS, 1L);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTPGET, 1L);
	SET(CURLOPT_USERAGENT, "keyfleet/" PACKAGE_VERSION);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_PROXY, "");		/* none from the environment */
	if (resolve != NULL)
		SET(CURLOPT_RESOLVE, resolve);
	SET(CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms < remaining_ms ?
	    cfg->connect_timeout_ms : remaining_ms);
	SET(CURLOPT_TIMEOUT_MS, remaining_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_response_size);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
	SET(CURLOPT_ERRORBUFFER, t->error);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->ca_file != NULL) {
		/* CAFile replaces the system store; it does not add to it. */
		SET(CURLOPT_CAINFO, cfg->ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	if (cfg->client_cert != NULL) {
		SET(CURLOPT_SSLCERT, cfg->client_cert);
		SET(CURLOPT_SSLKEY, cfg->client_key);
	}
	if (cfg->pinned_pubkey != NULL)
		SET(CURLOPT_PINNEDPUBLICKEY, cfg->pinned_pubkey);
#undef SET
	return e == CURLE_OK ? 0 : KF_ERR_FETCH;
}

/*
 * One GET of url on c, within remaining_ms.  Returns 0 with resp->status
 * set, whatever the status, or a negative code with why saying what
 * failed: KF_ERR_TOOBIG, KF_ERR_TIMEOUT, KF_ERR_FETCH (with libcurl's
 * details, which say which certificate check failed) or KF_ERR_INVAL when
 * libcurl refused an option.
 */
static int
get_once(CURL *c, const struct kf_config *cfg, const char *url,
    struct curl_slist *headers, long remaining_ms, struct kf_response *resp,
    char why[KF_FETCH_WHY_MAX])
{
	struct curl_slist *resolve = NULL;
	struct transfer t;
	long status = 0, t0;
	CURLcode e;
	int r;

	why[0] = '\0';
	response_reset(resp, cfg->max_response_size);
	memset(&t, 0, sizeof(t));
	t.resp = resp;
	t0 = kf_monotonic_ms();
	if ((r = pin_addresses(url, remaining_ms, &resolve, why)) != 0)
		return r;
	if ((remaining_ms -= kf_monotonic_ms() - t0) <= 0) {
		snprintf(why, KF_FETCH_WHY_MAX, "timed out: name resolution "
		    "took all the time Timeout left");
		r = KF_ERR_TIMEOUT;
		goto out;
	}
	if (setup_handle(c, cfg, url, headers, resolve, &t,
	    remaining_ms) != 0) {
		snprintf(why, KF_FETCH_WHY_MAX, "libcurl refused an option");
		r = KF_ERR_INVAL;
		goto out;
	}
	e = kc.easy_perform(c);
	if (e == CURLE_FILESIZE_EXCEEDED || t.too_big) {
		snprintf(why, KF_FETCH_WHY_MAX, "response larger than "
		    "MaxResponseSize (%zu bytes), rejected",
		    cfg->max_response_size);
		r = KF_ERR_TOOBIG;
	} else if (e == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, KF_FETCH_WHY_MAX, "timed out%s%s",
		    t.error[0] != '\0' ? ": " : "", t.error);
		r = KF_ERR_TIMEOUT;
	} else if (e != CURLE_OK) {
		snprintf(why, KF_FETCH_WHY_MAX, "%s%s%s", kc.easy_strerror(e),
		    t.error[0] != '\0' ? ": " : "", t.error);
		r = KF_ERR_FETCH;
	} else {
		kc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		resp->status = status;
		r = 0;
	}
 out:
	/*
	 * The handle keeps pointers to the resolve list and to t: reset, it
	 * keeps neither, and the next get_once() starts from a clean handle.
	 */
	kc.easy_reset(c);
	if (resolve != NULL)
		kc.slist_free_all(resolve);
	return r;
}

void
kf_response_clear(struct kf_response *resp)
{
	kf_buf_free(&resp->body);
	free(resp->etag);
	free(resp->content_type);
	free(resp->url);
	memset(resp, 0, sizeof(*resp));
}

int
kf_url_expand(const char *tmpl, const char *user, const char *host,
    char **out)
{
	struct kf_buf b;
	const char *p;
	int r = 0;

	*out = NULL;
	kf_buf_init(&b, 8192);
	/* r first: after a trailing '%' p is past the terminator. */
	for (p = tmpl; r == 0 && *p != '\0'; p++) {
		if (*p != '%') {
			r = kf_buf_putc(&b, *p);
			continue;
		}
		switch (*++p) {
		case 'u':
			r = kf_percent_encode(&b, user);
			break;
		case 'H':
			r = kf_percent_encode(&b, host);
			break;
		case '%':
			r = kf_buf_putc(&b, '%');
			break;
		default:
			r = KF_ERR_INVAL;	/* the config parser forbids it */
			break;
		}
	}
	if (r == 0 && (*out = kf_buf_take(&b)) == NULL)
		r = KF_ERR_NOMEM;
	kf_buf_free(&b);
	return r;
}

/*
 * A URL gave no answer: said at once when another URL comes after it;
 * for the last one, why carries it to the caller's final word, so that a
 * refusal is logged once, with its URL and reason.
 */
static void
url_failed(struct kf_ctx *ctx, const char *user, const char *url,
    const char *reason, int more, char why[KF_FETCH_WHY_MAX])
{
	if (more)
		kf_log(ctx, KF_LOG_INFO, "user %s: %s: %s; trying the next URL",
		    user, url, reason);
	/* A cut reason still says what happened: mark the cut. */
	if (snprintf(why, KF_FETCH_WHY_MAX, "%s: %s", url, reason) >=
	    KF_FETCH_WHY_MAX)
		memcpy(why + KF_FETCH_WHY_MAX - 4, "...", 4);
}

int
kf_fetch(struct kf_ctx *ctx, const char *user, const char *etag,
    long budget_ms, kf_fetch_accept_fn *accept, void *arg,
    struct kf_response *resp, char why[KF_FETCH_WHY_MAX])
{
	const struct kf_config *cfg = ctx->cfg;
	struct curl_slist *headers = NULL;
	char *token = NULL, *url = NULL, reason[KF_FETCH_WHY_MAX];
	long start, remaining, status;
	CURL *c = NULL;
	size_t i;
	int r, more, timed_out = 0, last = KF_ERR_UNAVAILABLE;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	start = kf_monotonic_ms();
	if ((r = curl_load(ctx)) != 0)
		return r;
	if ((r = kf_config_read_token(ctx, cfg, &token)) != 0)
		return r;
	r = build_headers(cfg, token, etag, &headers);
	kf_free_secret(token);
	if (r != 0)
		return r;
	if ((c = kc.easy_init()) == NULL) {
		last = KF_ERR_NOMEM;
		goto out;
	}

	for (i = 0; i < cfg->urls.n; i++) {
		free(url);
		url = NULL;
		more = i + 1 < cfg->urls.n;
		if ((remaining = budget_ms - (kf_monotonic_ms() - start)) <= 0) {
			snprintf(why, KF_FETCH_WHY_MAX, "%s: not tried: "
			    "Timeout ran out before it", cfg->urls.v[i]);
			last = KF_ERR_TIMEOUT;
			break;
		}
		if ((r = kf_url_expand(cfg->urls.v[i], user, cfg->hostname,
		    &url)) != 0) {
			last = r;
			goto out;
		}
		if (strncasecmp(url, "https://", 8) != 0 &&
		    !kf_url_host_is_loopback(url)) {
			kf_log(ctx, KF_LOG_ERROR, "user %s: %s: refusing "
			    "http:// to a host that is not loopback", user, url);
			last = KF_ERR_CONFIG;
			continue;
		}
		/*
		 * A server that accepts and then hangs must not eat the time
		 * of the URLs after it: each but the last gets an equal share
		 * of what is left.
		 */
		if (more)
			remaining /= (long)(cfg->urls.n - i);
		kf_log(ctx, KF_LOG_DEBUG, "user %s: GET %s%s", user, url,
		    etag != NULL ? " (conditional)" : "");
		if ((r = get_once(c, cfg, url, headers, remaining, resp,
		    reason)) != 0) {
			if (r == KF_ERR_INVAL)
				kf_log(ctx, KF_LOG_ERROR, "user %s: %s: %s",
				    user, url, reason);
			url_failed(ctx, user, url, reason, more, why);
			timed_out |= r == KF_ERR_TIMEOUT;
			last = r == KF_ERR_INVAL ? KF_ERR_FETCH : r;
			continue;
		}
		status = resp->status;
		resp->url = url;
		url = NULL;
		if (status == 404 || (status == 304 && etag != NULL)) {
			kf_log(ctx, KF_LOG_DEBUG, "user %s: %s: HTTP %ld", user,
			    resp->url, status);
			last = 0;
			break;
		}
		if (status != 200) {
			snprintf(reason, sizeof(reason), "HTTP status %ld",
			    status);
			url_failed(ctx, user, resp->url, reason, more, why);
			last = KF_ERR_HTTP;
			continue;
		}
		if (resp->body.data == NULL &&
		    (r = kf_buf_append(&resp->body, "", 0)) != 0) {
			last = r;
			goto out;
		}
		if ((r = accept(arg, resp, reason)) == 0) {
			last = 0;
			break;
		}
		url_failed(ctx, user, resp->url, reason, more, why);
		last = r;
	}
	/* A deadline hit anywhere is what the lookup remembers (rule 5). */
	if (last != 0 && timed_out)
		last = KF_ERR_TIMEOUT;
 out:
	free(url);
	if (c != NULL)
		kc.easy_cleanup(c);
	free_headers(headers);
	if (last != 0)
		kf_response_clear(resp);
	return last;
}

int
kf_fetch_url(struct kf_ctx *ctx, const char *url, long budget_ms,
    struct kf_response *resp, char why[KF_FETCH_WHY_MAX])
{
	const struct kf_config *cfg = ctx->cfg;
	struct curl_slist *headers = NULL;
	char *token = NULL;
	CURL *c = NULL;
	int r;

	memset(resp, 0, sizeof(*resp));
	why[0] = '\0';
	if (strncasecmp(url, "https://", 8) != 0 &&
	    !kf_url_host_is_loopback(url)) {
		snprintf(why, KF_FETCH_WHY_MAX, "refusing http:// to a host "
		    "that is not loopback");
		return KF_ERR_CONFIG;
	}
	if ((r = curl_load(ctx)) != 0) {
		snprintf(why, KF_FETCH_WHY_MAX, "cannot load %s",
		    KF_LIBCURL_SONAME);
		return r;
	}
	if ((r = kf_config_read_token(ctx, cfg, &token)) != 0) {
		snprintf(why, KF_FETCH_WHY_MAX, "cannot use BearerTokenFile "
		    "%s", cfg->bearer_token_file);
		return r;
	}
	r = build_headers(cfg, token, NULL, &headers);
	kf_free_secret(token);
	if (r != 0)
		return r;
	if ((c = kc.easy_init()) == NULL)
		r = KF_ERR_NOMEM;
	else if ((r = get_once(c, cfg, url, headers, budget_ms, resp,
	    why)) == KF_ERR_INVAL)
		r = KF_ERR_FETCH;
	if (r == 0 && resp->status == 200 && resp->body.data == NULL)
		r = kf_buf_append(&resp->body, "", 0);
	if (r == 0 && (resp->url = strdup(url)) == NULL)
		r = KF_ERR_NOMEM;
	if (c != NULL)
		kc.easy_cleanup(c);
	free_headers(headers);
	if (r != 0)
		kf_response_clear(resp);
	return r;
}
