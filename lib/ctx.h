/* ctx.h - the context behind struct kf_ctx, shared by libkeyfleet's files. */
#ifndef KF_CTX_H
#define KF_CTX_H

#include <time.h>

#include "keyfleet.h"

struct kf_config;

struct kf_ctx {
	struct kf_config	*cfg;
	char			*config_path;
	kf_log_fn		*log_fn;
	void			*log_arg;
	int			 verbosity;
	/*
	 * Level at which dropped key entries are logged: once when fetched,
	 * quieter when the same body is re-validated from the cache.
	 */
	int			 key_drop_level;
	/* The clock, replaceable so that tests can move time. */
	time_t			(*now)(void);
};

#endif /* KF_CTX_H */
