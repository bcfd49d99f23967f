/*
 * record.c - parsing what the API sent.
 *
 * The response as a whole is either accepted or rejected: a wrong type for
 * a member keyfleet knows, a duplicate member, a NUL byte, invalid UTF-8 or
 * a record for somebody else all reject it, because each is a sign of a
 * broken or hostile server.  Single key entries that fail validation are
 * only dropped, so one bad key does not lock a user out.
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "log.h"
#include "record.h"
#include "util.h"

#define KF_TIME_MAX	((int64_t)253402300799)	/* 9999-12-31T23:59:59Z */

static int
add_key(struct kf_ctx *ctx, const struct kf_key_policy *policy,
    struct kf_record *rec, const char *user, const char *source, size_t idx,
    const char *text, const char *options, int64_t expires, time_t now)
{
	struct kf_authkey key;
	const char *why;
	int r;

	r = kf_authkey_build(policy, text, options, expires, now, &key, &why);
	if (r == KF_ERR_EXPIRED) {
		kf_log(ctx, KF_LOG_VERBOSE, "user %s: key %zu from %s skipped: "
		    "expired", user, idx + 1, source);
		return 0;
	}
	if (r == KF_ERR_KEY) {
		kf_log(ctx, (enum kf_log_level)ctx->key_drop_level,
		    "user %s: key %zu from %s dropped: %s", user, idx + 1,
		    source, why);
		return 0;
	}
	if (r != 0)
		return r;
	rec->keys[rec->nkeys++] = key;
	return 0;
}

/* Reads an integer member that must be a non-negative JSON integer. */
static int
get_time(json_t *obj, const char *name, int64_t *out, const char **why)
{
	json_t *v;

	*out = 0;
	if ((v = json_object_get(obj, name)) == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > KF_TIME_MAX) {
		*why = "a time member is not a non-negative integer";
		return KF_ERR_PARSE;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
parse_keys(struct kf_ctx *ctx, const struct kf_key_policy *policy,
    struct kf_record *rec, const char *user, const char *source,
    json_t *keys, time_t now, const char **why)
{
	json_t *entry, *k, *o;
	const char *text, *options;
	int64_t expires;
	size_t i;
	int r;

	if (!json_is_array(keys)) {
		*why = "\"keys\" is not an array";
		return KF_ERR_PARSE;
	}
	if (json_array_size(keys) > KF_RECORD_MAX_KEYS) {
		*why = "too many keys";
		return KF_ERR_PARSE;
	}
	if (json_array_size(keys) == 0)
		return 0;
	if ((rec->keys = calloc(json_array_size(keys),
	    sizeof(*rec->keys))) == NULL)
		return KF_ERR_NOMEM;
	json_array_foreach(keys, i, entry) {
		options = NULL;
		expires = 0;
		if (json_is_string(entry)) {
			text = json_string_value(entry);
		} else if (json_is_object(entry)) {
			k = json_object_get(entry, "key");
			o = json_object_get(entry, "options");
			if (!json_is_string(k) ||
			    (o != NULL && !json_is_string(o))) {
				*why = "a key object has no string \"key\" or "
				    "a non-string \"options\"";
				return KF_ERR_PARSE;
			}
			if ((r = get_time(entry, "expires", &expires,
			    why)) != 0)
				return r;
			text = json_string_value(k);
			options = o != NULL ? json_string_value(o) : NULL;
		} else {
			*why = "a key entry is neither a string nor an object";
			return KF_ERR_PARSE;
		}
		if ((r = add_key(ctx, policy, rec, user, source, i, text,
		    options, expires, now)) != 0)
			return r;
	}
	return 0;
}

static int
parse_env(struct kf_record *rec, json_t *env, const char **why)
{
	const char *name;
	json_t *v;

	if (!json_is_object(env)) {
		*why = "\"env\" is not an object";
		return KF_ERR_PARSE;
	}
	if (json_object_size(env) > KF_RECORD_MAX_ENV) {
		*why = "too many environment entries";
		return KF_ERR_PARSE;
	}
	if (json_object_size(env) == 0)
		return 0;
	if ((rec->env = calloc(json_object_size(env),
	    sizeof(*rec->env))) == NULL)
		return KF_ERR_NOMEM;
	json_object_foreach(env, name, v) {
		if (!json_is_string(v)) {
			*why = "an \"env\" value is not a string";
			return KF_ERR_PARSE;
		}
		rec->env[rec->nenv].name = strdup(name);
		rec->env[rec->nenv].value = strdup(json_string_value(v));
		rec->nenv++;
		if (rec->env[rec->nenv - 1].name == NULL ||
		    rec->env[rec->nenv - 1].value == NULL)
			return KF_ERR_NOMEM;
	}
	return 0;
}

void
kf_record_free(struct kf_record *rec)
{
	size_t i;

	if (rec == NULL)
		return;
	for (i = 0; i < rec->nkeys; i++)
		kf_authkey_clear(&rec->keys[i]);
	free(rec->keys);
	for (i = 0; i < rec->nenv; i++) {
		free(rec->env[i].name);
		free(rec->env[i].value);
	}
	free(rec->env);
	free(rec);
}

static int
aud_valid(json_t *aud)
{
	json_t *v;
	size_t i;

	if (json_is_string(aud))
		return 1;
	if (!json_is_array(aud))
		return 0;
	json_array_foreach(aud, i, v) {
		if (!json_is_string(v))
			return 0;
	}
	return 1;
}

/* Whether aud (a string or an array of strings) names audience. */
static int
aud_matches(json_t *aud, const char *audience)
{
	json_t *v;
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), audience) == 0;
	json_array_foreach(aud, i, v) {
		if (strcmp(json_string_value(v), audience) == 0)
			return 1;
	}
	return 0;
}

/* The rules a signed record must meet beyond an unsigned one's. */
static int
check_signed(json_t *root, const struct kf_record *rec, time_t now,
    const char *audience, const char **why)
{
	json_t *aud;

	if (rec->exp == 0) {
		*why = "signed record has no \"exp\"";
		return KF_ERR_PARSE;
	}
	if (rec->iat > (int64_t)now + KF_RECORD_MAX_SKEW) {
		*why = "signed record's \"iat\" is in the future";
		return KF_ERR_PARSE;
	}
	if (audience == NULL)
		return 0;
	if ((aud = json_object_get(root, "aud")) == NULL) {
		*why = "signed record has no \"aud\", but Audience is set";
		return KF_ERR_AUDIENCE;
	}
	if (!aud_matches(aud, audience)) {
		*why = "signed record's \"aud\" does not name this Audience";
		return KF_ERR_AUDIENCE;
	}
	return 0;
}

int
kf_record_parse_json(struct kf_ctx *ctx, const struct kf_key_policy *policy,
    const char *user, const char *source, const char *body, size_t len,
    time_t now, struct kf_record **recp, const char **why)
{
	return kf_record_parse_signed(ctx, policy, user, source, body, len,
	    now, 0, NULL, recp, why);
}

int
kf_record_parse_signed(struct kf_ctx *ctx, const struct kf_key_policy *policy,
    const char *user, const char *source, const char *body, size_t len,
    time_t now, int is_signed, const char *audience, struct kf_record **recp,
    const char **why)
{
	struct kf_record *rec = NULL;
	json_error_t jerr;
	json_t *root = NULL, *v;
	int r = KF_ERR_PARSE;

	*recp = NULL;
	*why = NULL;
	if (memchr(body, '\0', len) != NULL) {
		*why = "NUL byte in response";
		return KF_ERR_PARSE;
	}
	/* Duplicate names and \u0000 are refused; UTF-8 is always checked. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*why = "not valid JSON";
		return KF_ERR_PARSE;
	}
	if (!json_is_object(root)) {
		*why = "not a JSON object";
		goto out;
	}
	if ((rec = calloc(1, sizeof(*rec))) == NULL) {
		r = KF_ERR_NOMEM;
		goto out;
	}
	rec->active = 1;
	rec->ttl = -1;

	v = json_object_get(root, "user");
	if (!json_is_string(v)) {
		*why = "\"user\" missing or not a string";
		goto out;
	}
	if (strcmp(json_string_value(v), user) != 0) {
		*why = "record is for another user";
		r = KF_ERR_USER_MISMATCH;
		goto out;
	}
	if ((v = json_object_get(root, "active")) != NULL) {
		if (!json_is_boolean(v)) {
			*why = "\"active\" is not a boolean";
			goto out;
		}
		rec->active = json_is_true(v);
	}
	if ((v = json_object_get(root, "ttl")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			*why = "\"ttl\" is not a non-negative integer";
			goto out;
		}
		rec->ttl = json_integer_value(v) > 10L * 365 * 86400 ?
		    10L * 365 * 86400 : (long)json_integer_value(v);
	}
	if ((r = get_time(root, "iat", &rec->iat, why)) != 0 ||
	    (r = get_time(root, "exp", &rec->exp, why)) != 0)
		goto out;
	r = KF_ERR_PARSE;
	if ((v = json_object_get(root, "aud")) != NULL && !aud_valid(v)) {
		*why = "\"aud\" is neither a string nor an array of strings";
		goto out;
	}
	if (rec->exp != 0 && rec->exp <= (int64_t)now) {
		*why = "record is past its exp";
		r = KF_ERR_EXPIRED;
		goto out;
	}
	if (is_signed && (r = check_signed(root, rec, now, audience, why)) != 0)
		goto out;
	r = KF_ERR_PARSE;
	if ((v = json_object_get(root, "env")) != NULL &&
	    (r = parse_env(rec, v, why)) != 0)
		goto out;
	/* An inactive user's keys are never looked at, let alone served. */
	if ((v = json_object_get(root, "keys")) != NULL && rec->active &&
	    (r = parse_keys(ctx, policy, rec, user, source, v, now, why)) != 0)
		goto out;
	*recp = rec;
	rec = NULL;
	r = 0;
 out:
	kf_record_free(rec);
	json_decref(root);
	return r;
}

int
kf_record_parse_keys(struct kf_ctx *ctx, const struct kf_key_policy *policy,
    const char *user, const char *source, const char *body, size_t len,
    time_t now, struct kf_record **recp, const char **why)
{
	struct kf_record *rec;
	struct kf_buf line;
	const char *p, *end = body + len, *nl, *s;
	size_t nlines = 0, n;
	int r = 0;

	*recp = NULL;
	*why = NULL;
	if (memchr(body, '\0', len) != NULL) {
		*why = "NUL byte in response";
		return KF_ERR_PARSE;
	}
	for (p = body; p < end; p++) {
		if (*p == '\n')
			nlines++;
	}
	if (nlines + 1 > KF_RECORD_MAX_KEYS) {
		*why = "too many lines";
		return KF_ERR_PARSE;
	}
	if ((rec = calloc(1, sizeof(*rec))) == NULL ||
	    (rec->keys = calloc(nlines + 1, sizeof(*rec->keys))) == NULL) {
		free(rec);
		return KF_ERR_NOMEM;
	}
	rec->ttl = -1;
	kf_buf_init(&line, 0);
	for (p = body, n = 0; p < end && r == 0; p = nl + 1, n++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line.len = 0;
		if ((r = kf_buf_append(&line, p, (size_t)(nl - p))) != 0)
			break;
		if (line.len > 0 && line.data[line.len - 1] == '\r')
			line.data[--line.len] = '\0';
		s = line.data + strspn(line.data, " \t");
		if (*s == '\0' || *s == '#')
			continue;
		r = add_key(ctx, policy, rec, user, source, n, s, NULL, 0, now);
	}
	kf_buf_free(&line);
	if (r != 0) {
		kf_record_free(rec);
		return r;
	}
	rec->active = rec->nkeys > 0;
	*recp = rec;
	return 0;
}
