/* record.h - a user's record as the API sent it, parsed and validated. */
#ifndef KF_RECORD_H
#define KF_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "authkey.h"
#include "ctx.h"

#define KF_RECORD_MAX_KEYS	10000
#define KF_RECORD_MAX_ENV	256

struct kf_env {
	char	*name;
	char	*value;
};

struct kf_record {
	int			 active;
	struct kf_authkey	*keys;	/* only usable keys */
	size_t			 nkeys;
	struct kf_env		*env;
	size_t			 nenv;
	long			 ttl;	/* -1 when the record has none */
	int64_t			 iat;	/* 0 when absent */
	int64_t			 exp;	/* 0 when absent */
};

/*
 * Parses a JSON record (SPEC section 3) for user.  The whole response is
 * rejected (KF_ERR_PARSE, KF_ERR_USER_MISMATCH, KF_ERR_EXPIRED) with *why
 * set when it is malformed, names another user or is past its exp; single
 * invalid key entries are dropped and logged with source (the URL).
 */
int	kf_record_parse_json(struct kf_ctx *ctx,
	    const struct kf_key_policy *policy, const char *user,
	    const char *source, const char *body, size_t len, time_t now,
	    struct kf_record **recp, const char **why);

/* How far in the future a signed record's iat may be: clock skew. */
#define KF_RECORD_MAX_SKEW	60

/*
 * kf_record_parse_json() for the payload of a verified JWS when is_signed:
 * exp is then required and iat may not be more than KF_RECORD_MAX_SKEW
 * seconds ahead, and, when audience is not NULL, aud (a string or an array
 * of strings) must name it.
 */
int	kf_record_parse_signed(struct kf_ctx *ctx,
	    const struct kf_key_policy *policy, const char *user,
	    const char *source, const char *body, size_t len, time_t now,
	    int is_signed, const char *audience, struct kf_record **recp,
	    const char **why);

/*
 * Parses a "Format keys" body: authorized_keys lines as GitHub serves them.
 * The user counts as active when at least one key is usable.
 */
int	kf_record_parse_keys(struct kf_ctx *ctx,
	    const struct kf_key_policy *policy, const char *user,
	    const char *source, const char *body, size_t len, time_t now,
	    struct kf_record **recp, const char **why);

void	kf_record_free(struct kf_record *rec);

#endif /* KF_RECORD_H */
