/*
 * check.c - keyfleet-authkeys --check: the whole setup judged the way a
 * lookup, sshd and the PAM module judge it, as findings a person reads.
 *
 * It writes nothing: every URL is asked afresh, never through the cache,
 * and no lock or note of a failed fetch is left, so it is safe to run on a
 * live host.  What it says about an answer comes from the code a lookup
 * runs (kf_fetch_url, kf_response_judge, kf_env_refused); only the words
 * are its own.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "keyfleet.h"
#include "cache.h"
#include "config_file.h"
#include "ctx.h"
#include "envfilter.h"
#include "fetch.h"
#include "jws.h"
#include "log.h"
#include "record.h"
#include "response.h"
#include "sig.h"

/* Asked about when no user is given: a name no API should know. */
#define CHECK_PROBE_USER	"keyfleet-check-probe"

#define CHECK_MSG_MAX		16384	/* room for a long key line */
#define CHECK_NOTES_MAX		16
#define CHECK_NOTE_LEN		512

struct check {
	struct kf_ctx	*ctx;
	kf_check_fn	*fn;
	void		*arg;
	int		 problems;
	/*
	 * Who must be able to read the files when we run as root: the
	 * cache directory's owner, taken to be the AuthorizedKeysCommandUser.
	 */
	int		 have_reader;
	uid_t		 reader;
	gid_t		 reader_gid;
	char		 reader_name[64];
	/* Library log lines caught while a step runs, reported after it. */
	kf_log_fn	*saved_log_fn;
	void		*saved_log_arg;
	int		 saved_verbosity;
	int		 saved_max;	/* highest level the caller logs */
	int		 problem_kind;	/* what a caught warning counts as */
	char		 notes[CHECK_NOTES_MAX][CHECK_NOTE_LEN];
	int		 note_kinds[CHECK_NOTES_MAX];
	size_t		 nnotes;
};

/* The first answer that counts, in URL order, as a lookup would take it. */
struct answer {
	size_t			 url_no;	/* 0: none */
	long			 status;	/* 200 or 404 */
	struct kf_record	*rec;
	int			 signed_checked;
};

static void
finding(struct check *ck, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
finding(struct check *ck, int kind, const char *fmt, ...)
{
	char msg[CHECK_MSG_MAX], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Names, values and reasons from outside stay on one line. */
	for (p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	if (kind == KF_CHECK_LOCAL_PROBLEM || kind == KF_CHECK_API_PROBLEM)
		ck->problems++;
	ck->fn(ck->arg, kind, msg);
}

/* ------------------------------------------------ library log lines */

static int
priority_level(int priority)
{
	switch (priority) {
	case LOG_ERR:
		return KF_LOG_ERROR;
	case LOG_NOTICE:
		return KF_LOG_INFO;
	case LOG_INFO:
		return KF_LOG_VERBOSE;
	default:
		return KF_LOG_DEBUG;
	}
}

/*
 * Passes a library message on as the caller asked, and keeps errors and
 * warnings (dropped keys, an unreadable token) as problems of the step
 * that runs, verbose ones (a skipped expired key) as notes.
 */
static void
catch_log(void *arg, int priority, const char *message)
{
	struct check *ck = arg;
	int level = priority_level(priority);

	if (level <= ck->saved_max) {
		if (ck->saved_log_fn != NULL)
			ck->saved_log_fn(ck->saved_log_arg, priority, message);
		else
			syslog(LOG_AUTHPRIV | priority, "%s", message);
	}
	if (level > KF_LOG_VERBOSE || ck->nnotes == CHECK_NOTES_MAX)
		return;
	snprintf(ck->notes[ck->nnotes], CHECK_NOTE_LEN, "%s", message);
	ck->note_kinds[ck->nnotes++] = level <= KF_LOG_INFO ?
	    ck->problem_kind : KF_CHECK_INFO;
}

/* Catches library messages whatever LogLevel says, until catch_end(). */
static void
catch_begin(struct check *ck, int problem_kind)
{
	struct kf_ctx *ctx = ck->ctx;
	int max = (int)ctx->cfg->log_level;

	if (max < KF_LOG_VERBOSE && ctx->verbosity >= 1)
		max = KF_LOG_VERBOSE;
	if (ctx->verbosity >= 2)
		max = KF_LOG_DEBUG;
	ck->saved_max = max;
	ck->saved_log_fn = ctx->log_fn;
	ck->saved_log_arg = ctx->log_arg;
	ck->saved_verbosity = ctx->verbosity;
	ck->problem_kind = problem_kind;
	ck->nnotes = 0;
	ctx->log_fn = catch_log;
	ctx->log_arg = ck;
	if (ctx->verbosity < 1)
		ctx->verbosity = 1;
}

static void
catch_end(struct check *ck)
{
	ck->ctx->log_fn = ck->saved_log_fn;
	ck->ctx->log_arg = ck->saved_log_arg;
	ck->ctx->verbosity = ck->saved_verbosity;
}

/* Reports what catch_log() kept, each line prefixed with prefix. */
static void
notes_report(struct check *ck, const char *prefix)
{
	size_t i;

	for (i = 0; i < ck->nnotes; i++)
		finding(ck, ck->note_kinds[i], "%s%s%s",
		    ck->note_kinds[i] == KF_CHECK_INFO ? "note: " : "",
		    prefix, ck->notes[i]);
	ck->nnotes = 0;
}

/* -------------------------------------------------- files and modes */

static const char *
uid_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
	return buf;
}

/* Whether the reader may do want (4 read, 1 search) to st, by its mode. */
static int
reader_may(const struct check *ck, const struct stat *st, unsigned want)
{
	gid_t groups[256];
	int i, n = 256, in_group;

	if (st->st_uid == ck->reader)
		return ((st->st_mode >> 6) & want) == want;
	in_group = st->st_gid == ck->reader_gid;
	if (!in_group && getgrouplist(ck->reader_name, ck->reader_gid, groups,
	    &n) != -1) {
		for (i = 0; i < n && !in_group; i++)
			in_group = groups[i] == st->st_gid;
	}
	if (in_group)
		return ((st->st_mode >> 3) & want) == want;
	return (st->st_mode & want) == want;
}

/*
 * Whether the reader can reach and read path, by the modes of the file
 * and of every directory above it (ACLs are not looked at).
 */
static int
reader_can_read(const struct check *ck, const char *path, char *why,
    size_t len)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t i, n = strlen(path);

	if (n >= sizeof(dir))
		return 1;	/* cannot tell: say nothing */
	for (i = 1; i < n; i++) {
		if (path[i] != '/')
			continue;
		memcpy(dir, path, i);
		dir[i] = '\0';
		if (stat(dir, &st) == 0 && !reader_may(ck, &st, 1)) {
			snprintf(why, len, "the directory %s is closed to %s",
			    dir, ck->reader_name);
			return 0;
		}
	}
	if (stat(path, &st) == 0 && !reader_may(ck, &st, 4)) {
		snprintf(why, len, "%s cannot read it", ck->reader_name);
		return 0;
	}
	return 1;
}

/*
 * Checks a file as the library opens it (regular, safely owned, not
 * writable by group or others, not readable by others when secret) and
 * whether the AuthorizedKeysCommandUser can read it.
 */
static int
check_file(struct check *ck, const char *what, const char *path,
    uid_t owner, int secret, const char *more)
{
	char who[64], why[2 * PATH_MAX];
	const char *bad;
	struct stat st;
	int fd;

	if ((fd = kf_open_checked(path, owner, secret, &bad)) < 0) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "%s %s %s", what, path,
		    bad);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "%s %s: %s", what, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (ck->have_reader && !reader_can_read(ck, path, why, sizeof(why))) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "%s %s: %s, and %s runs "
		    "keyfleet-authkeys for sshd (it owns the cache directory)",
		    what, path, why, ck->reader_name);
		return -1;
	}
	finding(ck, KF_CHECK_OK, "%s %s: %s%sowned by %s, mode %04o%s", what,
	    path, more != NULL ? more : "", more != NULL ? ", " : "",
	    uid_name(st.st_uid, who, sizeof(who)),
	    (unsigned)(st.st_mode & 07777),
	    secret ? ", not readable by others" : "");
	return 0;
}

/* The AuthorizedKeysCommandUser as far as it can be told: see struct check. */
static void
find_reader(struct check *ck)
{
	struct passwd *pw;
	struct stat st;

	if (geteuid() != 0 || stat(ck->ctx->cfg->cache_dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid == 0)
		return;	/* not root: every open above is the real test */
	ck->have_reader = 1;
	ck->reader = st.st_uid;
	ck->reader_gid = st.st_gid;
	if ((pw = getpwuid(st.st_uid)) != NULL)
		ck->reader_gid = pw->pw_gid;
	uid_name(st.st_uid, ck->reader_name, sizeof(ck->reader_name));
}

static void
check_token(struct check *ck)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	char *token = NULL;

	if (cfg->bearer_token_file == NULL)
		return;
	if (check_file(ck, "BearerTokenFile", cfg->bearer_token_file,
	    geteuid(), 1, NULL) != 0)
		return;
	/* Its first line, judged as a lookup judges it. */
	catch_begin(ck, KF_CHECK_LOCAL_PROBLEM);
	(void)kf_config_read_token(ck->ctx, cfg, &token);
	catch_end(ck);
	kf_free_secret(token);
	notes_report(ck, "");
}

static void
check_signing_keys(struct check *ck)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	const struct kf_sigkey *k;
	size_t i;
	int r;

	for (i = 0; i < cfg->signing_keys.n; i++) {
		k = &cfg->signing_keys.v[i];
		/* "FILE (key 2)" is a second key of a file checked already. */
		if (strstr(k->source, " (key ") == NULL)
			(void)check_file(ck, "SigningKey", k->source,
			    geteuid(), 0, NULL);
		if ((r = kf_sigkey_check(k)) == 0)
			finding(ck, KF_CHECK_OK, "SigningKey %s: %s key, "
			    "accepted by libcrypto (verifies JWS alg %s)",
			    k->source, k->alg == KF_SIG_EDDSA ? "Ed25519" :
			    "P-256", kf_sigalg_name(k->alg));
		else if (r == KF_ERR_CONFIG)
			finding(ck, KF_CHECK_LOCAL_PROBLEM, "SigningKey %s: "
			    "libcrypto refuses this %s: no signature will "
			    "ever verify with it", k->source,
			    k->alg == KF_SIG_EDDSA ? "Ed25519 key" :
			    "P-256 key (its point is not on the curve)");
		else
			finding(ck, KF_CHECK_LOCAL_PROBLEM, "SigningKey %s: "
			    "libcrypto cannot be loaded to check it",
			    k->source);
	}
}

static void
check_cache_dir(struct check *ck)
{
	const char *dir = ck->ctx->cfg->cache_dir;
	char who[64], me[64];
	struct stat st;

	if (lstat(dir, &st) != 0) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "CacheDirectory %s: %s: "
		    "keyfleet works without a cache, so every login asks the "
		    "API and an outage refuses everyone; create it, owned by "
		    "sshd's AuthorizedKeysCommandUser, mode 0700", dir,
		    strerror(errno));
		return;
	}
	uid_name(st.st_uid, who, sizeof(who));
	if (!S_ISDIR(st.st_mode)) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "CacheDirectory %s is not "
		    "a directory%s: keyfleet works without a cache", dir,
		    S_ISLNK(st.st_mode) ? " but a symbolic link" : "");
	} else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "CacheDirectory %s is "
		    "writable by group or others (mode %04o): keyfleet "
		    "refuses to use it", dir, (unsigned)(st.st_mode & 07777));
	} else if ((st.st_mode & S_IRWXU) != S_IRWXU) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "CacheDirectory %s: its "
		    "owner %s cannot read, write and search it (mode %04o)",
		    dir, who, (unsigned)(st.st_mode & 07777));
	} else if (geteuid() != 0 && st.st_uid != geteuid()) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "CacheDirectory %s is "
		    "owned by %s: keyfleet-authkeys running as %s cannot "
		    "write it", dir, who, uid_name(geteuid(), me, sizeof(me)));
	} else if (st.st_uid == 0) {
		finding(ck, KF_CHECK_OK, "CacheDirectory %s: owned by root, "
		    "mode %04o", dir, (unsigned)(st.st_mode & 07777));
		finding(ck, KF_CHECK_INFO, "note: only a keyfleet-authkeys "
		    "running as root can use CacheDirectory %s; give it to "
		    "sshd's AuthorizedKeysCommandUser", dir);
	} else {
		finding(ck, KF_CHECK_OK, "CacheDirectory %s: owned by %s, mode "
		    "%04o; %s must be sshd's AuthorizedKeysCommandUser", dir,
		    who, (unsigned)(st.st_mode & 07777), who);
	}
}

/*
 * sshd's safe_path() for an AuthorizedKeysCommand: the program, after
 * symbolic links are resolved, and every directory above it up to / owned
 * by root and not writable by group or others.
 */
static void
check_command_path(struct check *ck, const char *path)
{
	char *real, *prog = NULL, *p;
	const char *what = "the program";
	struct stat st;

	if ((real = realpath(path, NULL)) == NULL ||
	    (prog = strdup(real)) == NULL) {
		finding(ck, KF_CHECK_LOCAL_PROBLEM, "program %s: %s", path,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		if (stat(real, &st) != 0) {
			finding(ck, KF_CHECK_LOCAL_PROBLEM, "program %s: %s: %s",
			    prog, real, strerror(errno));
			goto out;
		}
		if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
			finding(ck, KF_CHECK_LOCAL_PROBLEM, "program %s: sshd "
			    "refuses to run it as AuthorizedKeysCommand: %s %s "
			    "is %s (the program and every directory above it "
			    "must be owned by root and not writable by group "
			    "or others)", prog, what, real, st.st_uid != 0 ?
			    "not owned by root" : "writable by group or others");
			goto out;
		}
		if (strcmp(real, "/") == 0)
			break;
		p = strrchr(real, '/');
		p[p == real] = '\0';	/* "/usr" becomes "/" */
		what = "the directory";
	}
	finding(ck, KF_CHECK_OK, "program %s: it and every directory above it "
	    "are owned by root and not writable by group or others, as sshd "
	    "requires of an AuthorizedKeysCommand", prog);
 out:
	free(real);
	free(prog);
}

/* ------------------------------------------------------------- URLs */

static void
duration(char *buf, size_t len, long long s)
{
	if (s < 0)
		snprintf(buf, len, "%llds ago", -s);
	else if (s < 120)
		snprintf(buf, len, "in %llds", s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "in %lld min", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "in %lld h", s / 3600);
	else
		snprintf(buf, len, "in %lld days", s / 86400);
}

/* How the body proved itself, for the line of a URL whose answer counts. */
static void
describe_body(struct check *ck, const struct kf_response *resp,
    const struct kf_record *rec, char *buf, size_t len)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	char when[48], exp[64] = "";

	if (rec->exp != 0) {
		duration(when, sizeof(when),
		    (long long)(rec->exp - (int64_t)ck->ctx->now()));
		snprintf(exp, sizeof(exp), ", exp %s", when);
	}
	if (cfg->format == KF_FORMAT_KEYS)
		snprintf(buf, len, "authorized_keys text (Format keys)");
	else if (cfg->signing_keys.n > 0)
		snprintf(buf, len, "signature verified with a SigningKey%s%s%s",
		    cfg->audience != NULL ? ", aud names " : "",
		    cfg->audience != NULL ? cfg->audience : "", exp);
	else if (kf_jws_is_compact(resp->body.data, resp->body.len))
		snprintf(buf, len, "a JWS whose signature is not checked (no "
		    "SigningKey)%s", exp);
	else
		snprintf(buf, len, "unsigned JSON (no SigningKey asks for a "
		    "signature)%s", exp);
}

/* Asks URL number no about user and reports; keeps the first answer. */
static int
check_url(struct check *ck, size_t no, const char *user, int probe,
    struct answer *ans)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	char why[KF_FETCH_WHY_MAX], rwhy[KF_WHY_MAX], body[256], prefix[32];
	const char *tls, *ctype;
	struct kf_record *rec = NULL;
	struct kf_response resp;
	long t0;
	char *url = NULL;
	long ms;
	int r;

	if ((r = kf_url_expand(cfg->urls.v[no - 1], user, cfg->hostname,
	    &url)) != 0) {
		if (r != KF_ERR_NOMEM)
			finding(ck, KF_CHECK_LOCAL_PROBLEM, "URL %zu %s: cannot "
			    "be expanded", no, cfg->urls.v[no - 1]);
		return r == KF_ERR_NOMEM ? r : 0;
	}
	t0 = kf_monotonic_ms();
	r = kf_fetch_url(ck->ctx, url, cfg->timeout_ms, &resp, why);
	ms = kf_monotonic_ms() - t0;
	if (r == KF_ERR_NOMEM)
		goto out;
	if (r != 0) {
		finding(ck, r == KF_ERR_CONFIG ? KF_CHECK_LOCAL_PROBLEM :
		    KF_CHECK_API_PROBLEM, "URL %zu %s: %s", no, url, why[0] !=
		    '\0' ? why : kf_strerror(r));
		r = 0;
		goto out;
	}
	tls = strncasecmp(url, "https://", 8) == 0 ? "TLS verified" :
	    "plain HTTP to loopback (AllowHTTP)";
	ctype = resp.content_type != NULL ? resp.content_type :
	    "no Content-Type";
	if (resp.status == 404) {
		finding(ck, KF_CHECK_OK, "URL %zu %s: %s, HTTP 404 in %ld ms: "
		    "%s", no, url, tls, ms, probe ? "unknown user, as expected "
		    "for this made-up name" : "the user is unknown to the API");
		if (ans->url_no == 0) {
			ans->url_no = no;
			ans->status = 404;
		}
		goto out;
	}
	if (resp.status != 200) {
		finding(ck, KF_CHECK_API_PROBLEM, "URL %zu %s: %s, but HTTP "
		    "status %ld (%s): only 200 and 404 are answers, a lookup "
		    "fails over to the next URL", no, url, tls, resp.status,
		    ctype);
		goto out;
	}
	catch_begin(ck, KF_CHECK_API_PROBLEM);
	r = kf_response_judge(ck->ctx, user, url, resp.content_type,
	    resp.body.data, resp.body.len, &rec, rwhy);
	catch_end(ck);
	snprintf(prefix, sizeof(prefix), "URL %zu: ", no);
	if (r == KF_ERR_NOMEM)
		goto out;
	if (r != 0) {
		finding(ck, KF_CHECK_API_PROBLEM, "URL %zu %s: %s, HTTP 200 "
		    "(%s) in %ld ms, but the response is rejected: %s", no, url,
		    tls, ctype, ms, rwhy);
		notes_report(ck, prefix);
		r = 0;
		goto out;
	}
	describe_body(ck, &resp, rec, body, sizeof(body));
	finding(ck, KF_CHECK_OK, "URL %zu %s: %s, HTTP 200 (%s) in %ld ms, "
	    "%s: %s, %zu usable key(s), %zu environment variable(s)", no, url,
	    tls, ctype, ms, body, rec->active ? "active" : "inactive",
	    rec->nkeys, rec->nenv);
	notes_report(ck, prefix);
	if (ans->url_no == 0) {
		ans->url_no = no;
		ans->status = 200;
		ans->rec = rec;
		rec = NULL;
	}
 out:
	kf_record_free(rec);
	kf_response_clear(&resp);
	free(url);
	return r == KF_ERR_NOMEM ? r : 0;
}

/* -------------------------------------------------- what USER gets */

static void
report_cache(struct check *ck, const char *user)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	struct kf_cache_entry e;
	struct kf_cache *cache;
	long age;

	if (kf_cache_open(ck->ctx, cfg->cache_dir, &cache) != 0)
		return;
	if (kf_cache_read(cache, user, cfg->max_response_size, &e) == 0) {
		age = (long)(ck->ctx->now() - e.fetched);
		finding(ck, KF_CHECK_INFO, "cache: an answer for %s (HTTP %ld) "
		    "fetched %ld s ago: %s", user, e.status, age, age >= 0 &&
		    (unsigned long)age < (e.status == 404 ? cfg->negative_ttl :
		    cfg->cache_ttl) ? "still fresh, so sshd's next lookup "
		    "takes it without asking the API (--flush to drop it)" :
		    "stale, so the next lookup asks the API and uses it only "
		    "if the API fails (within CacheMaxStale)");
		kf_cache_entry_clear(&e);
	} else {
		finding(ck, KF_CHECK_INFO, "cache: nothing usable cached for "
		    "%s", user);
	}
	kf_cache_close(cache);
}

static void
report_env(struct check *ck, const struct kf_record *rec)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	const char *why;
	size_t i;

	if (rec->nenv == 0) {
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: session: PAM_SUCCESS, "
		    "no environment from the API");
		return;
	}
	finding(ck, KF_CHECK_INFO, "pam_keyfleet: session: PAM_SUCCESS, "
	    "environment after EnvAllow, EnvDeny and the built-in deny list:");
	for (i = 0; i < rec->nenv; i++) {
		why = kf_env_refused(&cfg->env_allow, &cfg->env_deny,
		    rec->env[i].name, rec->env[i].value);
		if (why == NULL)
			finding(ck, KF_CHECK_INFO, "pam_keyfleet:   %s=%s",
			    rec->env[i].name, rec->env[i].value);
		else
			finding(ck, KF_CHECK_INFO, "pam_keyfleet:   not set: "
			    "%.128s (%s)", rec->env[i].name, why);
	}
}

static void
report_user(struct check *ck, const char *user, const struct answer *ans)
{
	const struct kf_config *cfg = ck->ctx->cfg;
	const struct kf_record *rec = ans->rec;
	size_t i;

	if (getpwnam(user) == NULL)
		finding(ck, KF_CHECK_INFO, "note: %s is not a user on this "
		    "host: sshd asks its AuthorizedKeysCommand only about local "
		    "users", user);
	report_cache(ck, user);
	if (ans->url_no == 0) {
		finding(ck, KF_CHECK_INFO, "sshd: no URL answered for %s: "
		    "keyfleet-authkeys exits 1 and sshd gets no keys from it, "
		    "unless the cache holds an answer younger than "
		    "CacheMaxStale (%lu s)", user, cfg->cache_max_stale);
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: account: "
		    "PAM_AUTHINFO_UNAVAIL, unless the cache answers (the same "
		    "rule)");
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: session: "
		    "PAM_SESSION_ERR, unless the cache answers");
		return;
	}
	if (ans->status == 404) {
		finding(ck, KF_CHECK_INFO, "sshd: no keys for %s: unknown to "
		    "the API (URL %zu answered 404)", user, ans->url_no);
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: account: %s",
		    cfg->unknown_user_deny ? "PAM_USER_UNKNOWN (UnknownUser "
		    "deny)" : "PAM_IGNORE (UnknownUser ignore: the rest of the "
		    "PAM stack decides)");
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: session: PAM_IGNORE");
		return;
	}
	if (!rec->active) {
		finding(ck, KF_CHECK_INFO, "sshd: no keys for %s: %s (the "
		    "answer of URL %zu)", user, cfg->format == KF_FORMAT_KEYS ?
		    "no usable key in the answer" : "disabled centrally "
		    "(active: false)", ans->url_no);
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: account: "
		    "PAM_PERM_DENIED (%s is inactive)", user);
		finding(ck, KF_CHECK_INFO, "pam_keyfleet: session: "
		    "PAM_SESSION_ERR");
		return;
	}
	finding(ck, KF_CHECK_INFO, "sshd: %zu authorized_keys line(s) for %s "
	    "(the answer of URL %zu)%s", rec->nkeys, user, ans->url_no,
	    rec->nkeys > 0 ? ":" : "");
	for (i = 0; i < rec->nkeys; i++)
		finding(ck, KF_CHECK_INFO, "sshd:   %s", rec->keys[i].line);
	finding(ck, KF_CHECK_INFO, "pam_keyfleet: account: PAM_SUCCESS (%s is "
	    "active)", user);
	report_env(ck, rec);
}

int
kf_check(struct kf_ctx *ctx, const char *user, const char *command_path,
    kf_check_fn *fn, void *arg)
{
	const struct kf_config *cfg;
	struct answer ans;
	struct check ck;
	const char *ask = user;
	size_t i;
	int r = 0;

	if (ctx == NULL || fn == NULL)
		return KF_ERR_INVAL;
	if ((cfg = ctx->cfg) == NULL)
		return KF_ERR_CONFIG;
	memset(&ck, 0, sizeof(ck));
	memset(&ans, 0, sizeof(ans));
	ck.ctx = ctx;
	ck.fn = fn;
	ck.arg = arg;
	find_reader(&ck);

	/* The files as the library opens them: root's, or the caller's. */
	(void)check_file(&ck, "configuration", cfg->path, geteuid(), 0,
	    "every line valid");
	check_token(&ck);
	if (cfg->ca_file != NULL)
		(void)check_file(&ck, "CAFile", cfg->ca_file, geteuid(), 0,
		    NULL);
	if (cfg->client_cert != NULL)
		(void)check_file(&ck, "ClientCertificate", cfg->client_cert,
		    geteuid(), 0, NULL);
	if (cfg->client_key != NULL)
		(void)check_file(&ck, "ClientKey", cfg->client_key, geteuid(),
		    1, NULL);
	check_signing_keys(&ck);
	check_cache_dir(&ck);
	if (command_path != NULL)
		check_command_path(&ck, command_path);

	if (user != NULL && !kf_username_valid(user)) {
		finding(&ck, KF_CHECK_LOCAL_PROBLEM, "user name \"%.64s\" is "
		    "refused locally (see USER NAMES in keyfleet.conf(5)): no "
		    "request is made for it and sshd gets no keys", user);
		user = NULL;
	}
	if ((ask = user) == NULL) {
		ask = CHECK_PROBE_USER;
		finding(&ck, KF_CHECK_INFO, "note: no user given: each URL is "
		    "asked about the made-up user %s", ask);
	}
	for (i = 0; i < cfg->urls.n && r == 0; i++)
		r = check_url(&ck, i + 1, ask, user == NULL, &ans);
	if (r == 0 && user != NULL)
		report_user(&ck, user, &ans);
	kf_record_free(ans.rec);
	return r != 0 ? r : ck.problems;
}
