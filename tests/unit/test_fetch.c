/*
 * test_fetch.c - URL templates, and what one fetch sends and makes of the
 * answers of a scripted HTTP server on the loopback interface.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "config_file.h"
#include "ctx.h"
#include "fetch.h"

#define TOKEN	"s3cr3t-T0ken"

/* ------------------------------------------------------ kf_url_expand */

static void
expect_expansion(const char *tmpl, const char *user, const char *host,
    const char *want)
{
	char *out = (char *)&out;	/* poisoned */
	int r;

	r = kf_url_expand(tmpl, user, host, &out);
	if (r != 0)
		fail_msg("\"%s\" with user \"%s\": %s", tmpl, user,
		    kf_strerror(r));
	assert_string_equal(out, want);
	free(out);
}

static void
test_user_is_percent_encoded(void **state)
{
	static const struct {
		const char	*user;
		const char	*want;
	} cases[] = {
		{ "alice", "alice" },
		{ "a+b@c.d", "a%2Bb%40c.d" },
		{ "first.last+tag@example.com", "first.last%2Btag%40example.com" },
		{ "AZaz09-._~", "AZaz09-._~" },	/* unreserved: as is */
		{ "a/b", "a%2Fb" },
		{ "../x", "..%2Fx" },
		{ "a b", "a%20b" },
		{ "a%b", "a%25b" },
		{ "a?b#c&d=e", "a%3Fb%23c%26d%3De" },
		{ "j\xc3\xbcrgen", "j%C3%BCrgen" },
		{ "\x01\x7f\xff", "%01%7F%FF" },
		{ "", "" },
	};
	char *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want = tu_printf("https://api.example.com/users/%s.json",
		    cases[i].want);
		expect_expansion("https://api.example.com/users/%u.json",
		    cases[i].user, "h", want);
		free(want);
	}
}

static void
test_host_and_percent_tokens_are_expanded(void **state)
{
	(void)state;
	expect_expansion("https://api.example.com/%H/%u", "alice",
	    "web-01.example.com", "https://api.example.com/web-01.example.com/alice");
	expect_expansion("https://api.example.com/%u?host=%H", "alice",
	    "odd host/1", "https://api.example.com/alice?host=odd%20host%2F1");
	expect_expansion("https://api.example.com/100%%/%u", "alice", "h",
	    "https://api.example.com/100%/alice");
	/* "%%u" is a literal "%u", not the user. */
	expect_expansion("https://api.example.com/%%u/%u", "alice", "h",
	    "https://api.example.com/%u/alice");
	expect_expansion("https://%u.example.com/%u", "alice", "h",
	    "https://alice.example.com/alice");
	expect_expansion("no tokens at all", "alice", "h", "no tokens at all");
}

static void
test_unknown_token_is_an_error(void **state)
{
	static const char *tmpls[] = {
		"https://api.example.com/%x/%u",
		"https://api.example.com/%U",
		"https://api.example.com/%u%",
		"%",
	};
	char *tmpl, *out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++) {
		/* Exactly sized on the heap: a read past the end is caught. */
		tmpl = tu_xstrdup(tmpls[i]);
		out = (char *)&out;
		assert_int_equal(kf_url_expand(tmpl, "alice", "h", &out),
		    KF_ERR_INVAL);
		assert_null(out);
		free(tmpl);
	}
}

static void
test_overlong_expansion_is_refused(void **state)
{
	char *path = tu_repeat('p', 9000), *tmpl, *out;

	(void)state;
	tmpl = tu_printf("https://api.example.com/%s/%%u", path);
	out = (char *)&out;
	assert_int_not_equal(kf_url_expand(tmpl, "alice", "h", &out), 0);
	assert_null(out);
	free(tmpl);
	free(path);
}

/* ---------------------------------------------------- a scripted server */

/*
 * A forked HTTP/1.1 server on 127.0.0.1 that answers the next n
 * connections with the given raw responses, in order, and appends each
 * request head it read to a file.
 */
struct server {
	pid_t	 pid;
	int	 port;
	char	*requests;	/* path of the request log */
};

static void
server_child(int ls, const char *const *responses, size_t n,
    const char *reqpath)
{
	char buf[8192];
	size_t i, len;
	ssize_t got;
	FILE *log;
	int c;

	for (i = 0; i < n; i++) {
		if ((c = accept(ls, NULL, NULL)) == -1)
			_exit(2);
		len = 0;
		while (len < sizeof(buf) - 1) {
			got = read(c, buf + len, sizeof(buf) - 1 - len);
			if (got <= 0)
				break;
			len += (size_t)got;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		buf[len] = '\0';
		if ((log = fopen(reqpath, "a")) != NULL) {
			fprintf(log, "%s", buf);
			fclose(log);
		}
		if (write(c, responses[i], strlen(responses[i])) < 0)
			_exit(3);
		shutdown(c, SHUT_WR);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
	_exit(0);
}

static void
server_start(struct server *s, const char *const *responses, size_t n)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int ls, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(ls >= 0);
	assert_int_equal(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 8), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &slen), 0);
	s->port = ntohs(sin.sin_port);
	s->requests = tu_printf("%s/requests-%d", tu_tmpdir(), s->port);
	unlink(s->requests);
	fflush(NULL);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		server_child(ls, responses, n, s->requests);
	close(ls);
}

/* Stops the server and returns every request head it read. */
static char *
server_stop(struct server *s)
{
	char buf[65536];
	size_t n = 0;
	FILE *f;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if ((f = fopen(s->requests, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	free(s->requests);
	s->requests = NULL;
	return tu_xstrdup(buf);
}

/* A port nothing listens on (bound, then closed). */
static int
closed_port(void)
{
	struct server s;
	char *req;
	int port;

	server_start(&s, NULL, 0);
	port = s.port;
	req = server_stop(&s);
	free(req);
	return port;
}

struct accept_log {
	int	calls;
	int	verdicts[4];	/* what to answer, call by call */
};

static int
accept_cb(void *arg, const struct kf_response *resp,
    char why[KF_FETCH_WHY_MAX])
{
	struct accept_log *a = arg;

	snprintf(why, KF_FETCH_WHY_MAX, "refused by the test");
	assert_int_equal(resp->status, 200);
	assert_non_null(resp->body.data);
	return a->calls < 4 ? a->verdicts[a->calls++] : 0;
}

/* Loads a config (with a 0600 token file) into the fixture's context. */
static void
load_config(struct tu_fixture *f, const char *urls, const char *extra)
{
	struct kf_config *cfg = NULL;
	char *token, *text, *path;
	int r;

	token = tu_write_file("fetch.token", TOKEN "\n", strlen(TOKEN) + 1,
	    0600);
	text = tu_printf("AllowHTTP yes\n%sBearerTokenFile %s\n"
	    "HostName web-01.example.com\nTimeout 5\n%s", urls, token, extra);
	path = tu_write_config(text);
	r = kf_config_load(f->ctx, path, tu_config_owner(), &cfg);
	if (r != 0) {
		tu_log_print(&f->log);
		fail_msg("config refused: %s", kf_strerror(r));
	}
	kf_config_free(f->ctx->cfg);
	f->ctx->cfg = cfg;
	free(path);
	free(text);
	free(token);
}

static void
test_fetch_sends_the_documented_request(void **state)
{
	static const char *const responses[] = {
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"ETag: \"abc\"\r\nContent-Length: 5\r\nConnection: close\r\n"
		"\r\nhello",
	};
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	struct server s;
	char *urls, *req, *want;

	server_start(&s, responses, 1);
	urls = tu_printf("URL http://127.0.0.1:%d/users/%%u\n", s.port);
	load_config(f, urls, "");
	assert_int_equal(kf_fetch(f->ctx, "a+b@c.d", NULL, 5000, accept_cb, &a,
	    &resp, why), 0);
	req = server_stop(&s);

	assert_int_equal(a.calls, 1);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body.len, 5);
	assert_string_equal(resp.body.data, "hello");
	assert_string_equal(resp.content_type, "application/json");
	assert_string_equal(resp.etag, "\"abc\"");
	want = tu_printf("http://127.0.0.1:%d/users/a%%2Bb%%40c.d", s.port);
	assert_string_equal(resp.url, want);
	free(want);
	kf_response_clear(&resp);

	assert_non_null(strstr(req, "GET /users/a%2Bb%40c.d HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nAuthorization: Bearer " TOKEN "\r\n"));
	assert_non_null(strstr(req, "\r\nKeyfleet-Host: web-01.example.com\r\n"));
	assert_non_null(strstr(req, "\r\nAccept: application/jose, "
	    "application/json;q=0.9, text/plain;q=0.5\r\n"));
	assert_non_null(strstr(req, "\r\nUser-Agent: keyfleet/" PACKAGE_VERSION
	    "\r\n"));
	assert_null(strstr(req, "If-None-Match"));
	assert_not_logged(&f->log, TOKEN);
	free(req);
	free(urls);
}

static void
test_fetch_sends_if_none_match_with_an_etag(void **state)
{
	static const char *const responses[] = {
		"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n",
	};
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	struct server s;
	char *urls, *req;

	server_start(&s, responses, 1);
	urls = tu_printf("URL http://127.0.0.1:%d/users/%%u\n", s.port);
	load_config(f, urls, "");
	assert_int_equal(kf_fetch(f->ctx, "alice", "\"abc\"", 5000, accept_cb,
	    &a, &resp, why), 0);
	req = server_stop(&s);
	assert_int_equal(resp.status, 304);
	assert_int_equal(a.calls, 0);
	assert_non_null(strstr(req, "\r\nIf-None-Match: \"abc\"\r\n"));
	kf_response_clear(&resp);
	free(req);
	free(urls);
}

static void
test_fetch_404_is_an_answer(void **state)
{
	static const char *const responses[] = {
		"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n"
		"Connection: close\r\n\r\n{}",
	};
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	struct server s;
	char *urls;

	server_start(&s, responses, 1);
	urls = tu_printf("URL http://127.0.0.1:%d/users/%%u\n"
	    "URL http://127.0.0.1:1/never/%%u\n", s.port);
	load_config(f, urls, "");
	assert_int_equal(kf_fetch(f->ctx, "alice", NULL, 5000, accept_cb, &a,
	    &resp, why), 0);
	free(server_stop(&s));
	/* Authoritative: no failover, and no body judged. */
	assert_int_equal(resp.status, 404);
	assert_int_equal(a.calls, 0);
	assert_not_logged(&f->log, "/never/");
	kf_response_clear(&resp);
	free(urls);
}

static void
test_fetch_fails_over_to_the_next_url(void **state)
{
	static const char *const responses[] = {
		"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		"Connection: close\r\n\r\nbad",
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
		"Connection: close\r\n\r\ngood",
	};
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { KF_ERR_PARSE, 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	struct server s;
	char *urls, *req, *want;

	server_start(&s, responses, 3);
	urls = tu_printf("URL http://127.0.0.1:%d/one/%%u\n"
	    "URL http://127.0.0.1:%d/two/%%u\n"
	    "URL http://127.0.0.1:%d/three/%%u\n", s.port, s.port, s.port);
	load_config(f, urls, "");
	assert_int_equal(kf_fetch(f->ctx, "alice", NULL, 5000, accept_cb, &a,
	    &resp, why), 0);
	req = server_stop(&s);
	assert_int_equal(a.calls, 2);
	assert_string_equal(resp.body.data, "good");
	want = tu_printf("http://127.0.0.1:%d/three/alice", s.port);
	assert_string_equal(resp.url, want);
	free(want);
	assert_logged(&f->log, "/one/alice: HTTP status 500");
	assert_logged(&f->log, "user alice");
	assert_non_null(strstr(req, "GET /one/alice "));
	assert_non_null(strstr(req, "GET /two/alice "));
	assert_non_null(strstr(req, "GET /three/alice "));
	kf_response_clear(&resp);
	free(req);
	free(urls);
}

static void
test_fetch_does_not_follow_redirects(void **state)
{
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	const char *responses[2];
	struct server s;
	char *urls, *req, *redirect;

	/* To the same server, which would answer a followed redirect. */
	redirect = tu_xstrdup("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	responses[0] = redirect;
	responses[1] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
	    "Connection: close\r\n\r\nevil";
	server_start(&s, responses, 2);
	urls = tu_printf("URL http://127.0.0.1:%d/users/%%u\n", s.port);
	load_config(f, urls, "");
	assert_int_equal(kf_fetch(f->ctx, "alice", NULL, 5000, accept_cb, &a,
	    &resp, why), KF_ERR_HTTP);
	req = server_stop(&s);
	assert_int_equal(a.calls, 0);
	assert_null(strstr(req, "/elsewhere"));
	assert_non_null(strstr(why, "/users/alice: HTTP status 302"));
	free(req);
	free(urls);
	free(redirect);
}

static void
test_fetch_rejects_a_body_over_max_response_size(void **state)
{
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	const char *responses[2];
	struct server s;
	char *urls, *body, *chunked, *sized;

	/* Announced in Content-Length, and not announced (chunked). */
	body = tu_repeat('x', 2000);
	sized = tu_printf("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n"
	    "Connection: close\r\n\r\n%s", body);
	chunked = tu_printf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: close\r\n\r\n7d0\r\n%s\r\n0\r\n\r\n", body);
	responses[0] = sized;
	responses[1] = chunked;
	server_start(&s, responses, 2);
	urls = tu_printf("URL http://127.0.0.1:%d/a/%%u\n"
	    "URL http://127.0.0.1:%d/b/%%u\n", s.port, s.port);
	load_config(f, urls, "MaxResponseSize 1K\n");
	assert_int_equal(kf_fetch(f->ctx, "alice", NULL, 5000, accept_cb, &a,
	    &resp, why), KF_ERR_TOOBIG);
	free(server_stop(&s));
	assert_int_equal(a.calls, 0);	/* never truncated and judged */
	/* The first failure is logged as the next URL is tried; the last
	 * is the caller's to log. */
	assert_logged(&f->log, "/a/alice: response larger than MaxResponseSize");
	assert_non_null(strstr(why, "/b/alice: response larger than "
	    "MaxResponseSize"));
	free(urls);
	free(sized);
	free(chunked);
	free(body);
}

static void
test_fetch_failure_is_logged_without_the_token(void **state)
{
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	char *urls;
	int port = closed_port();

	urls = tu_printf("URL http://127.0.0.1:%d/users/%%u\n", port);
	load_config(f, urls, "LogLevel debug\n");
	assert_int_equal(kf_fetch(f->ctx, "alice", NULL, 5000, accept_cb, &a,
	    &resp, why), KF_ERR_FETCH);
	assert_int_equal(a.calls, 0);
	/* The reason, with its URL, is the caller's to log once. */
	assert_non_null(strstr(why, "/users/alice: "));
	assert_null(strstr(why, TOKEN));
	assert_not_logged(&f->log, TOKEN);
	assert_not_logged(&f->log, "Bearer");
	assert_null(resp.url);
	assert_null(resp.body.data);
	free(urls);
}

static void
test_fetch_with_an_unreadable_token_asks_nobody(void **state)
{
	struct tu_fixture *f = *state;
	struct accept_log a = { 0, { 0 } };
	struct kf_response resp;
	char why[KF_FETCH_WHY_MAX];
	struct server s;
	char *urls, *req;

	server_start(&s, NULL, 0);
	urls = tu_printf("URL http://127.0.0.1:%d/users/%%u\n", s.port);
	load_config(f, urls, "");
	/* The token file turns bad between loading and fetching. */
	assert_int_equal(chmod(f->ctx->cfg->bearer_token_file, 0644), 0);
	assert_int_not_equal(kf_fetch(f->ctx, "alice", NULL, 5000, accept_cb,
	    &a, &resp, why), 0);
	req = server_stop(&s);
	assert_string_equal(req, "");
	assert_logged(&f->log, "readable by others");
	free(req);
	free(urls);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup, tu_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_is_percent_encoded),
		cmocka_unit_test(test_host_and_percent_tokens_are_expanded),
		cmocka_unit_test(test_unknown_token_is_an_error),
		cmocka_unit_test(test_overlong_expansion_is_refused),
		T(test_fetch_sends_the_documented_request),
		T(test_fetch_sends_if_none_match_with_an_etag),
		T(test_fetch_404_is_an_answer),
		T(test_fetch_fails_over_to_the_next_url),
		T(test_fetch_does_not_follow_redirects),
		T(test_fetch_rejects_a_body_over_max_response_size),
		T(test_fetch_failure_is_logged_without_the_token),
		T(test_fetch_with_an_unreadable_token_asks_nobody),
	};

	/* A server child that outlives a failed test must not stop us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
