/* fetch.h - asking the central API, over HTTPS with libcurl. */
#ifndef KF_FETCH_H
#define KF_FETCH_H

#include "config_file.h"
#include "ctx.h"
#include "util.h"

struct kf_response {
	long		 status;	/* 200, 304 or 404 */
	struct kf_buf	 body;
	char		*etag;		/* NULL when the server sent none */
	char		*content_type;	/* NULL when the server sent none */
	char		*url;		/* the expanded URL that answered */
};

/* Room for a failed request's reason, libcurl's details included. */
#define KF_FETCH_WHY_MAX	512

/*
 * Judges a 200 response before it is taken: returns 0 to take it, or a
 * negative code with why saying, for a person, what is wrong with it, to
 * fail over to the next URL.
 */
typedef int kf_fetch_accept_fn(void *arg, const struct kf_response *resp,
    char why[KF_FETCH_WHY_MAX]);

/*
 * Asks each configured URL in turn until one gives an answer that counts:
 * a 200 that accept() takes, a 304 (only when etag was sent) or a 404.
 * Name resolution, connection and TLS errors, other statuses and rejected
 * bodies fail over to the next URL; all of it within budget_ms.  A URL
 * that fails with another after it is logged at once, with the user, the
 * URL and the reason; the last failure is left in why ("URL: reason") for
 * the caller's one log line about the outcome.  Returns 0 with *resp
 * filled (release it with kf_response_clear()), KF_ERR_TIMEOUT when any
 * URL ran into its deadline, or else the last failure.
 */
int	kf_fetch(struct kf_ctx *ctx, const char *user, const char *etag,
	    long budget_ms, kf_fetch_accept_fn *accept, void *arg,
	    struct kf_response *resp, char why[KF_FETCH_WHY_MAX]);
void	kf_response_clear(struct kf_response *resp);

/*
 * One GET of one expanded URL, as kf_fetch() makes it (same headers, TLS
 * settings and limits) but without If-None-Match, without failover and
 * without logging the outcome: for keyfleet-authkeys --check, which asks
 * every URL.  Returns 0 with resp filled whatever the HTTP status, or a
 * negative code with why saying what failed.
 */
int	kf_fetch_url(struct kf_ctx *ctx, const char *url, long budget_ms,
	    struct kf_response *resp, char why[KF_FETCH_WHY_MAX]);

/* Expands %u, %H and %% in a URL template. */
int	kf_url_expand(const char *tmpl, const char *user, const char *host,
	    char **out);

#endif /* KF_FETCH_H */
