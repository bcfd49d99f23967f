/* config_file.h - keyfleet.conf(5), parsed and checked. */
#ifndef KF_CONFIG_FILE_H
#define KF_CONFIG_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "authkey.h"
#include "log.h"
#include "sig.h"

enum kf_format {
	KF_FORMAT_JSON = 0,
	KF_FORMAT_KEYS,
};

struct kf_strlist {
	char	**v;
	size_t	  n;
};

struct kf_config {
	char			*path;
	struct kf_strlist	 urls;
	enum kf_format		 format;
	char			*bearer_token_file;
	char			*ca_file;
	char			*client_cert;
	char			*client_key;
	char			*pinned_pubkey;
	struct kf_sigkeys	 signing_keys;
	char			*audience;
	char			*hostname;
	long			 connect_timeout_ms;
	long			 timeout_ms;
	size_t			 max_response_size;
	int			 allow_http;
	char			*cache_dir;
	unsigned long		 cache_ttl;
	unsigned long		 cache_max_stale;
	unsigned long		 negative_ttl;
	long			 unknown_key_refresh;	/* -1: no */
	struct kf_key_policy	 key_policy;
	struct kf_strlist	 env_allow;
	struct kf_strlist	 env_deny;
	int			 unknown_user_deny;
	enum kf_log_level	 log_level;
};

/*
 * Parses the file at path, which must be owned by root or by owner and not
 * writable by group or others.  Errors are logged through ctx with
 * "file:line"; returns 0 with *cfgp set, or KF_ERR_CONFIG, KF_ERR_PERM,
 * KF_ERR_IO, KF_ERR_NOMEM.
 */
int	kf_config_load(struct kf_ctx *ctx, const char *path, uid_t owner,
	    struct kf_config **cfgp);
/*
 * kf_config_load() for text already in memory (len bytes, not necessarily
 * NUL-terminated), with name standing for the file in messages and in
 * cfg->path; no ownership check is made.  Files named by SigningKey,
 * BearerTokenFile and ClientKey are still opened and checked.
 */
int	kf_config_parse(struct kf_ctx *ctx, const char *name, const char *text,
	    size_t len, struct kf_config **cfgp);
void	kf_config_free(struct kf_config *cfg);

/*
 * Reads the bearer token (first line of BearerTokenFile) into *tokenp,
 * checking that the file is not readable by others; NULL when none is
 * configured.  The caller wipes it with kf_free_secret().
 */
int	kf_config_read_token(struct kf_ctx *ctx, const struct kf_config *cfg,
	    char **tokenp);

/* Whether an http:// or https:// URL's host is a loopback address. */
int	kf_url_host_is_loopback(const char *url);

#endif /* KF_CONFIG_FILE_H */
