/*
 * keyfleet.h - the public interface of libkeyfleet.
 *
 * libkeyfleet answers one question for sshd and PAM: which SSH keys, which
 * account status and which login environment does the central API grant a
 * user right now.  Everything is reached through an opaque context that
 * holds the parsed keyfleet.conf(5); answers come back as opaque objects
 * whose strings are owned by the answer.
 *
 * Every function that can fail returns 0 or a negative KF_ERR_* code;
 * kf_strerror() names the code.  Nothing in the library exits, prints to
 * stdout or calls openlog(): diagnostics go to the log callback, or to
 * syslog(LOG_AUTHPRIV) when none is set.
 */
#ifndef KEYFLEET_H
#define KEYFLEET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KF_OK			0
#define KF_ERR_NOMEM		(-1)	/* out of memory */
#define KF_ERR_INVAL		(-2)	/* invalid argument */
#define KF_ERR_CONFIG		(-3)	/* configuration error */
#define KF_ERR_USERNAME		(-4)	/* user name refused locally */
#define KF_ERR_FETCH		(-5)	/* network or TLS failure */
#define KF_ERR_HTTP		(-6)	/* unexpected HTTP status */
#define KF_ERR_TOOBIG		(-7)	/* response over MaxResponseSize */
#define KF_ERR_PARSE		(-8)	/* malformed response */
#define KF_ERR_USER_MISMATCH	(-9)	/* response is for another user */
#define KF_ERR_KEY		(-10)	/* invalid key entry */
#define KF_ERR_IO		(-11)	/* local file error */
#define KF_ERR_PERM		(-12)	/* unsafe file ownership or mode */
#define KF_ERR_TIMEOUT		(-13)	/* lookup deadline reached */
#define KF_ERR_UNAVAILABLE	(-14)	/* no trustworthy answer */
#define KF_ERR_SIGNATURE	(-15)	/* signature missing or invalid */
#define KF_ERR_EXPIRED		(-16)	/* record past its exp */
#define KF_ERR_NOENT		(-17)	/* no such entry */
#define KF_ERR_AUDIENCE		(-18)	/* signed for another Audience */

/* What the API says about a user. */
#define KF_USER_ACTIVE		1	/* known and active: keys and env apply */
#define KF_USER_INACTIVE	2	/* known, disabled centrally: no keys */
#define KF_USER_UNKNOWN		3	/* the API does not know the user (404) */

/* Log priorities handed to a kf_log_fn; the values are syslog(3)'s. */
typedef void kf_log_fn(void *arg, int priority, const char *message);

struct kf_ctx;
struct kf_answer;

/*
 * Returns a static, human-readable name for a KF_* code (never NULL).
 */
const char *kf_strerror(int code);

/*
 * Returns the library version string, e.g. "0.1.0" (static storage).
 */
const char *kf_version(void);

/*
 * Allocates an empty context into *ctxp.  A context is not thread-safe:
 * use one per thread.  Returns KF_ERR_NOMEM or KF_ERR_INVAL on failure.
 */
int kf_ctx_new(struct kf_ctx **ctxp);

/*
 * Releases a context and wipes the secrets it holds.  NULL is a no-op.
 */
void kf_ctx_free(struct kf_ctx *ctx);

/*
 * Routes the library's diagnostics to fn(arg, priority, message) instead of
 * syslog(3).  Messages are single lines without a trailing newline and
 * never contain a bearer token or a whole response body.  Set it before
 * kf_ctx_load_config() so configuration errors reach it too.
 * fn == NULL restores syslog.
 */
void kf_ctx_set_log(struct kf_ctx *ctx, kf_log_fn *fn, void *arg);

/*
 * Raises the log verbosity above what LogLevel says (0 = as configured,
 * 1 = verbose, 2 = debug); for front-ends' -v and PAM's debug argument.
 */
void kf_ctx_set_verbosity(struct kf_ctx *ctx, int verbosity);

/*
 * Reads and checks keyfleet.conf(5) at path (NULL: the built-in default
 * path).  The file must be a regular file owned by root and not writable
 * by group or others.  Every problem is logged with file and line.
 * Returns 0, KF_ERR_CONFIG, KF_ERR_PERM, KF_ERR_IO or KF_ERR_NOMEM; on
 * failure the context keeps no configuration.
 */
int kf_ctx_load_config(struct kf_ctx *ctx, const char *path);

/*
 * Returns the path of the configuration the context loaded, or the default
 * path before a load (static or context-owned storage).
 */
const char *kf_ctx_config_path(const struct kf_ctx *ctx);

/*
 * Returns the configured Timeout, the deadline of one whole lookup, in
 * milliseconds; 0 before a configuration is loaded.
 */
long kf_ctx_timeout_ms(const struct kf_ctx *ctx);

/*
 * Returns 1 when name is a user name keyfleet will ask the API about
 * (see keyfleet.conf(5), "USER NAMES"), else 0.  Checked locally, before
 * any request is made.
 */
int kf_username_valid(const char *name);

/*
 * Looks up user and stores a new answer in *answerp.
 *
 * fingerprint ("SHA256:...") and key_blob (base64) describe the key the
 * client offered, as sshd's %f and %k give them; both may be NULL.
 *
 * Returns 0 with an authoritative answer (active, inactive or unknown),
 * or a negative code with *answerp set to NULL: KF_ERR_USERNAME for a name
 * refused locally, KF_ERR_CONFIG without a loaded configuration,
 * KF_ERR_UNAVAILABLE (or the specific failure) when no trustworthy answer
 * could be had.  The caller frees the answer with kf_answer_free().
 */
int kf_lookup(struct kf_ctx *ctx, const char *user, const char *fingerprint,
    const char *key_blob, struct kf_answer **answerp);

/*
 * Like kf_lookup(), but always asks the API first (a conditional request
 * when the cache holds an ETag) and uses the cache only when the API
 * fails, under the same CacheMaxStale rules.  For the PAM account phase,
 * so that a user disabled centrally is refused at the next login.
 */
int kf_lookup_revalidate(struct kf_ctx *ctx, const char *user,
    struct kf_answer **answerp);

/*
 * Drops user's cache entry, or every entry when user is NULL, so that the
 * next lookup asks the API.  Returns the number of entries removed (0 when
 * there was none), or a negative code (KF_ERR_IO, KF_ERR_PERM when the
 * cache directory cannot be used, KF_ERR_USERNAME).
 */
int kf_flush(struct kf_ctx *ctx, const char *user);

/*
 * Returns KF_USER_ACTIVE, KF_USER_INACTIVE or KF_USER_UNKNOWN.
 */
int kf_answer_status(const struct kf_answer *answer);

/*
 * Number of usable authorized_keys lines (0 unless the user is active).
 */
size_t kf_answer_key_count(const struct kf_answer *answer);

/*
 * The i-th authorized_keys line, validated and rebuilt by keyfleet,
 * without a trailing newline; NULL when i is out of range.  Owned by the
 * answer.
 */
const char *kf_answer_key_line(const struct kf_answer *answer, size_t i);

/*
 * Number of environment entries in the answer (before EnvAllow/EnvDeny
 * filtering, which the PAM module applies).
 */
size_t kf_answer_env_count(const struct kf_answer *answer);

/*
 * Stores the i-th environment entry's name and value in *name and *value
 * (owned by the answer).  Returns 0, or KF_ERR_INVAL when i is out of range.
 */
int kf_answer_env(const struct kf_answer *answer, size_t i,
    const char **name, const char **value);

/*
 * Releases an answer.  NULL is a no-op.
 */
void kf_answer_free(struct kf_answer *answer);

/*
 * What a finding of kf_check() is.  The two kinds of problem let a
 * front-end tell a fault of this host's setup from one of the API.
 */
#define KF_CHECK_OK		0	/* a check passed */
#define KF_CHECK_INFO		1	/* what sshd or PAM would get; a note */
#define KF_CHECK_LOCAL_PROBLEM	2	/* configuration, files, cache
					   directory, the command's path */
#define KF_CHECK_API_PROBLEM	3	/* a URL, its TLS, or its answer */

/* Receives one finding of kf_check(): a single line without newline. */
typedef void kf_check_fn(void *arg, int kind, const char *message);

/*
 * Checks the setup a loaded configuration describes, for a person to
 * read: the configuration file and every file it names (ownership, modes,
 * and when run as root whether the cache directory's owner, taken to be
 * sshd's AuthorizedKeysCommandUser, can read them), the bearer token,
 * each SigningKey as libcrypto takes it, the cache directory, and, when
 * command_path is not NULL, that program's path against sshd's rules for
 * an AuthorizedKeysCommand (the file and every directory above it owned
 * by root and not writable by group or others).  Then it asks every URL
 * in turn about user, afresh (TLS, HTTP status, and the body judged as a
 * lookup judges it: signature, Audience, exp, keys), and reports what
 * sshd would get (the authorized_keys lines) and what pam_keyfleet's
 * account and session phases would return (result, environment after
 * EnvAllow/EnvDeny).  Without user, each URL is asked about a made-up
 * name, for which a 404 is the expected answer.
 *
 * It writes nothing: not the cache, no lock and no record of a failed
 * fetch.  Each finding goes to fn(arg, kind, message) as it is made, in
 * order; messages are single lines, control characters replaced by '?'.
 * Findings of kind KF_CHECK_INFO start with what they are about
 * ("sshd:", "pam_keyfleet:", "note:", "cache:").  Returns the number of
 * problems reported, or a negative code: KF_ERR_CONFIG when no
 * configuration is loaded, KF_ERR_INVAL, KF_ERR_NOMEM.
 */
int kf_check(struct kf_ctx *ctx, const char *user, const char *command_path,
    kf_check_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* KEYFLEET_H */
