/*
 * response.c - a body from the API (or the cache's copy of one) judged
 * under today's configuration: every use re-applies signature, expiry and
 * key validation, so a cached copy is never trusted more than a new one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keyfleet.h"
#include "config_file.h"
#include "jws.h"
#include "log.h"
#include "response.h"

static void
set_why(char why[KF_WHY_MAX], const char *text, int r)
{
	snprintf(why, KF_WHY_MAX, "%s", text != NULL ? text : kf_strerror(r));
}

static int
parse_jws(struct kf_ctx *ctx, const char *user, const char *source,
    const char *body, size_t len, struct kf_record **recp,
    char why[KF_WHY_MAX])
{
	const struct kf_config *cfg = ctx->cfg;
	const struct kf_sigkey *key = NULL;
	const char *w = NULL;
	struct kf_jws jws;
	int r;

	if ((r = kf_jws_decode(body, len, &jws, &w)) != 0) {
		set_why(why, w, r);
		return r;
	}
	if (cfg->signing_keys.n == 0) {
		kf_log(ctx, KF_LOG_DEBUG, "user %s: %s: signature not checked: "
		    "no SigningKey configured", user, source);
	} else if ((r = kf_jws_verify(&jws, &cfg->signing_keys, &key,
	    &w)) != 0) {
		set_why(why, w, r);
		kf_jws_clear(&jws);
		return r;
	} else {
		kf_log(ctx, KF_LOG_DEBUG, "user %s: %s: %s signature verified "
		    "with %s", user, source, kf_sigalg_name(jws.alg),
		    key->source);
	}
	r = kf_record_parse_signed(ctx, &cfg->key_policy, user, source,
	    jws.payload.data, jws.payload.len, ctx->now(), key != NULL,
	    cfg->audience, recp, &w);
	if (r != 0)
		set_why(why, w, r);
	kf_jws_clear(&jws);
	return r;
}

int
kf_response_parse(struct kf_ctx *ctx, const char *user, const char *source,
    const char *body, size_t len, struct kf_record **recp,
    char why[KF_WHY_MAX])
{
	const struct kf_config *cfg = ctx->cfg;
	const char *w = NULL;
	int r;

	*recp = NULL;
	why[0] = '\0';
	if (cfg->format == KF_FORMAT_KEYS) {
		r = kf_record_parse_keys(ctx, &cfg->key_policy, user, source,
		    body, len, ctx->now(), recp, &w);
	} else if (kf_jws_is_compact(body, len)) {
		return parse_jws(ctx, user, source, body, len, recp, why);
	} else if (cfg->signing_keys.n > 0) {
		w = "unsigned response, but SigningKey requires a signed one "
		    "(JWS)";
		r = KF_ERR_SIGNATURE;
	} else {
		r = kf_record_parse_json(ctx, &cfg->key_policy, user, source,
		    body, len, ctx->now(), recp, &w);
	}
	if (r != 0)
		set_why(why, w, r);
	return r;
}

int
kf_response_judge(struct kf_ctx *ctx, const char *user, const char *url,
    const char *content_type, const char *body, size_t len,
    struct kf_record **recp, char why[KF_WHY_MAX])
{
	/*
	 * Any type may carry a record (a static host may call alice.jws
	 * application/octet-stream), but a web page never does.
	 */
	*recp = NULL;
	if (content_type != NULL &&
	    (strncasecmp(content_type, "text/html", 9) == 0 ||
	    strncasecmp(content_type, "application/xhtml", 17) == 0)) {
		snprintf(why, KF_WHY_MAX, "Content-Type %s is a web page, not "
		    "a record", content_type);
		return KF_ERR_PARSE;
	}
	return kf_response_parse(ctx, user, url, body, len, recp, why);
}
