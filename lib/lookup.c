/*
 * lookup.c - one lookup: a user name (and maybe the key the client
 * offered) in, an authoritative answer out, or no answer at all.
 *
 * The rules (SPEC section 4):
 *  1. A fresh cache entry answers without a request, unless the offered
 *     key is not in it and the entry is older than UnknownKeyRefresh.
 *  2. Otherwise ask the API; a 200, 304 or 404 is stored and used.
 *  3. When the API fails, a cached record younger than CacheMaxStale (and
 *     not past its exp) answers; else there is no answer: fail closed.
 *  4. Concurrent lookups of one user share one fetch: the others wait on
 *     the user's lock, bounded by Timeout, then read what it stored.
 *  5. A fetch that ran into Timeout (a resolver or API that does not
 *     answer) is not waited out again for KF_TIMEOUT_HOLDOFF seconds
 *     while rule 3 has a cached answer to give: sshd runs the helper at
 *     least twice per login and then the PAM account phase, and an outage
 *     must cost a login one Timeout, not three.  It never stands in for
 *     an answer that the cache cannot give: without one, the API is asked.
 * Nothing here grants what the API, or a still valid answer of it, did not.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyfleet.h"
#include "cache.h"
#include "config_file.h"
#include "fetch.h"
#include "log.h"
#include "record.h"
#include "response.h"

/* Rule 5: seconds a fetch that ran into Timeout is not tried again. */
#define KF_TIMEOUT_HOLDOFF	30

struct kf_answer {
	int			 status;	/* KF_USER_* */
	struct kf_record	*rec;		/* NULL for an unknown user */
};

/* What the cache holds for the user, judged against the rules. */
struct cached {
	struct kf_cache_entry	 entry;
	struct kf_record	*rec;		/* parsed, for a 200 entry */
	int			 usable;	/* valid now, if maybe stale */
	long			 age;
	int			 fresh;
	int			 has_key;	/* offered key listed, or none offered */
};

struct accept_state {
	struct kf_ctx		*ctx;
	const char		*user;
	struct kf_record	*rec;
};

/* Parses a 200 body; one that does not parse fails over to the next URL. */
static int
accept_body(void *arg, const struct kf_response *resp,
    char why[KF_FETCH_WHY_MAX])
{
	struct accept_state *st = arg;
	char rwhy[KF_WHY_MAX];
	int r;

	kf_record_free(st->rec);
	st->rec = NULL;
	if ((r = kf_response_judge(st->ctx, st->user, resp->url,
	    resp->content_type, resp->body.data, resp->body.len, &st->rec,
	    rwhy)) != 0)
		snprintf(why, KF_FETCH_WHY_MAX, "response rejected: %s", rwhy);
	return r;
}

static int
record_has_key(const struct kf_record *rec, const char *key_blob)
{
	size_t i;

	for (i = 0; i < rec->nkeys; i++) {
		if (strcmp(rec->keys[i].blob_b64, key_blob) == 0)
			return 1;
	}
	return 0;
}

static void
cached_clear(struct cached *c)
{
	kf_cache_entry_clear(&c->entry);
	kf_record_free(c->rec);
	memset(c, 0, sizeof(*c));
}

/*
 * Reads and judges the user's entry.  The stored body is validated again,
 * with today's configuration and clock: an entry that no longer passes is
 * not used at all.
 */
static void
cached_load(struct kf_ctx *ctx, struct kf_cache *cache, const char *user,
    const char *key_blob, struct cached *c)
{
	const struct kf_config *cfg = ctx->cfg;
	char why[KF_WHY_MAX];
	unsigned long ttl;
	int r;

	cached_clear(c);
	if (cache == NULL || kf_cache_read(cache, user, cfg->max_response_size,
	    &c->entry) != 0)
		return;
	c->age = (long)(ctx->now() - c->entry.fetched);
	if (c->entry.status == 404) {
		c->usable = 1;
		ttl = cfg->negative_ttl;
		c->has_key = key_blob == NULL;
	} else {
		ctx->key_drop_level = KF_LOG_VERBOSE;
		r = kf_response_parse(ctx, user, "cache", c->entry.body.data,
		    c->entry.body.len, &c->rec, why);
		ctx->key_drop_level = KF_LOG_INFO;
		if (r != 0) {
			kf_log(ctx, KF_LOG_INFO, "user %s: cached record no "
			    "longer usable: %s", user, why);
			kf_cache_entry_clear(&c->entry);
			return;
		}
		c->usable = 1;
		ttl = cfg->cache_ttl;
		if (c->rec->ttl >= 0 && (unsigned long)c->rec->ttl < ttl)
			ttl = (unsigned long)c->rec->ttl;
		/* A disabled user's entry lists no keys: once re-enabled
		 * centrally, their key works after UnknownKeyRefresh too. */
		c->has_key = key_blob == NULL || record_has_key(c->rec, key_blob);
	}
	/* A clock that went backwards makes an entry stale, not eternal. */
	c->fresh = c->age >= 0 && (unsigned long)c->age < ttl;
}

/* Whether the entry answers without asking the API (rule 1). */
static int
cached_answers(const struct kf_config *cfg, const struct cached *c)
{
	if (!c->usable || !c->fresh)
		return 0;
	if (c->has_key)
		return 1;
	return cfg->unknown_key_refresh < 0 ||
	    c->age < cfg->unknown_key_refresh;
}

/* Whether the entry may stand in for a failing API (rule 3). */
static int
cached_serves_stale(const struct kf_config *cfg, const struct cached *c)
{
	return c->usable && cfg->cache_max_stale > 0 &&
	    (c->age < 0 || (unsigned long)c->age < cfg->cache_max_stale);
}

static int
answer_new(int status, struct kf_record **recp, struct kf_answer **answerp)
{
	struct kf_answer *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return KF_ERR_NOMEM;
	a->status = status;
	if (recp != NULL) {
		a->rec = *recp;
		*recp = NULL;
		a->status = a->rec->active ? KF_USER_ACTIVE : KF_USER_INACTIVE;
	}
	*answerp = a;
	return 0;
}

static int
answer_from_cache(struct cached *c, struct kf_answer **answerp)
{
	if (c->entry.status == 404)
		return answer_new(KF_USER_UNKNOWN, NULL, answerp);
	return answer_new(0, &c->rec, answerp);
}

/* Stores what the API answered; a failed write loses nothing. */
static void
store(struct kf_ctx *ctx, struct kf_cache *cache, const char *user,
    struct kf_response *resp, struct cached *c)
{
	struct kf_cache_entry e;

	if (cache == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.fetched = ctx->now();
	if (resp->status == 304) {
		/* Same body, vouched for again. */
		e.status = c->entry.status;
		e.etag = resp->etag != NULL ? resp->etag : c->entry.etag;
		e.body = c->entry.body;
	} else {
		e.status = resp->status;
		e.etag = resp->status == 200 ? resp->etag : NULL;
		if (resp->status == 200)
			e.body = resp->body;
	}
	(void)kf_cache_write(cache, user, &e);
}

/*
 * One lookup.  revalidate skips rule 1: the PAM account phase asks the API
 * on every login, so a user disabled centrally is refused at once, and
 * falls back to the cache only when the API fails.
 */
static int
lookup(struct kf_ctx *ctx, const char *user, const char *key_blob,
    int revalidate, struct kf_answer **answerp)
{
	const struct kf_config *cfg;
	struct kf_cache *cache = NULL;
	struct accept_state st;
	struct kf_response resp;
	struct cached c;
	char why[KF_FETCH_WHY_MAX];
	long t0;
	time_t started;
	int r, lockfd = -1, waited = 0;

	if (answerp == NULL)
		return KF_ERR_INVAL;
	*answerp = NULL;
	if (ctx == NULL || user == NULL)
		return KF_ERR_INVAL;
	if ((cfg = ctx->cfg) == NULL)
		return KF_ERR_CONFIG;
	if (!kf_username_valid(user)) {
		kf_log(ctx, KF_LOG_INFO, "refused user name \"%.64s\": not a "
		    "name keyfleet asks the API about", user);
		return KF_ERR_USERNAME;
	}
	if (key_blob != NULL && *key_blob == '\0')
		key_blob = NULL;

	t0 = kf_monotonic_ms();
	started = ctx->now();
	why[0] = '\0';
	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	memset(&resp, 0, sizeof(resp));
	(void)kf_cache_open(ctx, cfg->cache_dir, &cache);

	cached_load(ctx, cache, user, key_blob, &c);
	if (!revalidate && cached_answers(cfg, &c)) {
		kf_log(ctx, KF_LOG_DEBUG, "user %s: fresh cache entry (age "
		    "%lds)", user, c.age);
		r = answer_from_cache(&c, answerp);
		goto out;
	}

	/* Rule 4: one fetch per user at a time; the others wait for it. */
	if (cache != NULL) {
		lockfd = kf_cache_lock(cache, user, cfg->timeout_ms, &waited);
		if (lockfd == KF_ERR_TIMEOUT) {
			snprintf(why, sizeof(why), "waited Timeout for a "
			    "concurrent lookup");
			r = KF_ERR_TIMEOUT;
			goto failed;
		}
		/*
		 * Read again even when the lock was free: another process may
		 * have finished its whole fetch between our first read and
		 * taking the lock.
		 */
		if (lockfd >= 0) {
			cached_load(ctx, cache, user, key_blob, &c);
			if ((waited || !revalidate) && cached_answers(cfg, &c) &&
			    c.entry.fetched >= started) {
				kf_log(ctx, KF_LOG_DEBUG, "user %s: answered "
				    "by a concurrent lookup", user);
				r = answer_from_cache(&c, answerp);
				goto out;
			}
			/* Only a fetch we waited for counts as ours to share. */
			if (waited &&
			    kf_cache_failed_since(cache, user, started, 0)) {
				r = KF_ERR_UNAVAILABLE;
				goto failed;
			}
		}
		/* Rule 5. */
		if (cached_serves_stale(cfg, &c) && kf_cache_failed_since(cache,
		    user, started - KF_TIMEOUT_HOLDOFF, 1)) {
			snprintf(why, sizeof(why), "a fetch ran into Timeout "
			    "less than %d s ago; not waiting for the API again "
			    "yet", KF_TIMEOUT_HOLDOFF);
			r = KF_ERR_TIMEOUT;
			goto failed;
		}
	}

	st.ctx = ctx;
	st.user = user;
	r = kf_fetch(ctx, user, c.usable && c.entry.status == 200 ?
	    c.entry.etag : NULL, cfg->timeout_ms - (kf_monotonic_ms() - t0),
	    accept_body, &st, &resp, why);
	if (r != 0) {
		if (cache != NULL)
			kf_cache_note_failure(cache, user,
			    r == KF_ERR_TIMEOUT);
		goto failed;
	}
	store(ctx, cache, user, &resp, &c);
	if (resp.status == 304) {
		kf_log(ctx, KF_LOG_VERBOSE, "user %s: not modified (%s)", user,
		    resp.url);
		r = answer_from_cache(&c, answerp);
	} else if (resp.status == 404) {
		kf_log(ctx, KF_LOG_VERBOSE, "user %s: unknown to the API (%s)",
		    user, resp.url);
		r = answer_new(KF_USER_UNKNOWN, NULL, answerp);
	} else {
		kf_log(ctx, KF_LOG_VERBOSE, "user %s: %s, %zu usable key(s) "
		    "from %s", user, st.rec->active ? "active" : "inactive",
		    st.rec->nkeys, resp.url);
		r = answer_new(0, &st.rec, answerp);
	}
	goto out;

 failed:
	/* The one line about the outcome: the reason and its URL in it. */
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "%s", kf_strerror(r));
	if (cached_serves_stale(cfg, &c)) {
		kf_log(ctx, KF_LOG_INFO, "user %s: API failing (%s); serving "
		    "the cached answer from %ld s ago", user, why, c.age);
		r = answer_from_cache(&c, answerp);
	} else {
		kf_log(ctx, KF_LOG_INFO, "user %s: no trustworthy answer "
		    "(%s)%s", user, why, c.usable ?
		    "; the cached answer is older than CacheMaxStale" : "");
	}
 out:
	kf_cache_unlock(lockfd);
	kf_cache_close(cache);
	kf_record_free(st.rec);
	kf_response_clear(&resp);
	cached_clear(&c);
	return r;
}

int
kf_lookup(struct kf_ctx *ctx, const char *user, const char *fingerprint,
    const char *key_blob, struct kf_answer **answerp)
{
	(void)fingerprint;	/* matching uses the blob (%k) */
	return lookup(ctx, user, key_blob, 0, answerp);
}

int
kf_lookup_revalidate(struct kf_ctx *ctx, const char *user,
    struct kf_answer **answerp)
{
	return lookup(ctx, user, NULL, 1, answerp);
}

int
kf_flush(struct kf_ctx *ctx, const char *user)
{
	struct kf_cache *cache;
	int r;

	if (ctx == NULL || ctx->cfg == NULL)
		return KF_ERR_CONFIG;
	if (user != NULL && !kf_username_valid(user))
		return KF_ERR_USERNAME;
	if ((r = kf_cache_open(ctx, ctx->cfg->cache_dir, &cache)) != 0)
		return r;
	r = kf_cache_flush(cache, user);
	kf_cache_close(cache);
	return r;
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
