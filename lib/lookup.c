/*
 * lookup.c - one lookup: a user name in, an authoritative answer out, or
 * no answer at all.  Nothing here grants what the API did not.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "config_file.h"
#include "fetch.h"
#include "log.h"
#include "record.h"

struct kf_answer {
	int			 status;	/* KF_USER_* */
	struct kf_record	*rec;		/* NULL for an unknown user */
};

struct accept_state {
	struct kf_ctx		*ctx;
	const char		*user;
	struct kf_record	*rec;
};

/* Parses a 200 body; a body that does not parse fails over to the next URL. */
static int
accept_body(void *arg, const struct kf_response *resp)
{
	struct accept_state *st = arg;
	const struct kf_config *cfg = st->ctx->cfg;
	const char *why = NULL;
	int r;

	if (cfg->format == KF_FORMAT_KEYS)
		r = kf_record_parse_keys(st->ctx, &cfg->key_policy, st->user,
		    resp->url, resp->body.data, resp->body.len, st->ctx->now(),
		    &st->rec, &why);
	else
		r = kf_record_parse_json(st->ctx, &cfg->key_policy, st->user,
		    resp->url, resp->body.data, resp->body.len, st->ctx->now(),
		    &st->rec, &why);
	if (r != 0)
		kf_log(st->ctx, KF_LOG_INFO, "user %s: %s: response rejected: "
		    "%s", st->user, resp->url, why != NULL ? why :
		    kf_strerror(r));
	return r;
}

int
kf_lookup(struct kf_ctx *ctx, const char *user, const char *fingerprint,
    const char *key_blob, struct kf_answer **answerp)
{
	struct accept_state st;
	struct kf_response resp;
	struct kf_answer *a;
	int r;

	if (answerp == NULL)
		return KF_ERR_INVAL;
	*answerp = NULL;
	if (ctx == NULL || user == NULL)
		return KF_ERR_INVAL;
	if (ctx->cfg == NULL)
		return KF_ERR_CONFIG;
	if (!kf_username_valid(user)) {
		kf_log(ctx, KF_LOG_INFO, "refused user name \"%.64s\": not a "
		    "name keyfleet asks the API about", user);
		return KF_ERR_USERNAME;
	}
	(void)fingerprint;
	(void)key_blob;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.user = user;
	if ((r = kf_fetch(ctx, user, NULL, accept_body, &st, &resp)) != 0) {
		kf_record_free(st.rec);
		kf_log(ctx, KF_LOG_INFO, "user %s: no trustworthy answer from "
		    "any URL (%s)", user, kf_strerror(r));
		return r;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		kf_record_free(st.rec);
		kf_response_clear(&resp);
		return KF_ERR_NOMEM;
	}
	if (resp.status == 404) {
		a->status = KF_USER_UNKNOWN;
		kf_log(ctx, KF_LOG_VERBOSE, "user %s: unknown to the API",
		    user);
	} else {
		a->rec = st.rec;
		a->status = st.rec->active ? KF_USER_ACTIVE : KF_USER_INACTIVE;
		kf_log(ctx, KF_LOG_VERBOSE, "user %s: %s, %zu usable key(s) "
		    "from %s", user, st.rec->active ? "active" : "inactive",
		    st.rec->nkeys, resp.url);
	}
	kf_response_clear(&resp);
	*answerp = a;
	return 0;
}

int
kf_answer_status(const struct kf_answer *a)
{
	return a->status;
}

size_t
kf_answer_key_count(const struct kf_answer *a)
{
	if (a->status != KF_USER_ACTIVE || a->rec == NULL)
		return 0;
	return a->rec->nkeys;
}

const char *
kf_answer_key_line(const struct kf_answer *a, size_t i)
{
	if (i >= kf_answer_key_count(a))
		return NULL;
	return a->rec->keys[i].line;
}

size_t
kf_answer_env_count(const struct kf_answer *a)
{
	if (a->status != KF_USER_ACTIVE || a->rec == NULL)
		return 0;
	return a->rec->nenv;
}

int
kf_answer_env(const struct kf_answer *a, size_t i, const char **name,
    const char **value)
{
	if (i >= kf_answer_env_count(a))
		return KF_ERR_INVAL;
	*name = a->rec->env[i].name;
	*value = a->rec->env[i].value;
	return 0;
}

void
kf_answer_free(struct kf_answer *a)
{
	if (a == NULL)
		return;
	kf_record_free(a->rec);
	free(a);
}
