/* ctx.c - contexts, error names, and checks that need no configuration. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyfleet.h"
#include "config_file.h"
#include "ctx.h"
#include "log.h"

#ifndef KF_CONFIG_PATH
#define KF_CONFIG_PATH "/etc/keyfleet/keyfleet.conf"
#endif

static time_t
system_now(void)
{
	return time(NULL);
}

const char *
kf_strerror(int code)
{
	switch (code) {
	case KF_OK:
		return "success";
	case KF_ERR_NOMEM:
		return "out of memory";
	case KF_ERR_INVAL:
		return "invalid argument";
	case KF_ERR_CONFIG:
		return "configuration error";
	case KF_ERR_USERNAME:
		return "user name refused";
	case KF_ERR_FETCH:
		return "cannot reach the API";
	case KF_ERR_HTTP:
		return "unexpected HTTP status from the API";
	case KF_ERR_TOOBIG:
		return "response too large";
	case KF_ERR_PARSE:
		return "malformed response";
	case KF_ERR_USER_MISMATCH:
		return "response is for another user";
	case KF_ERR_KEY:
		return "invalid key";
	case KF_ERR_IO:
		return "file error";
	case KF_ERR_PERM:
		return "unsafe file ownership or permissions";
	case KF_ERR_TIMEOUT:
		return "timed out";
	case KF_ERR_UNAVAILABLE:
		return "no trustworthy answer";
	case KF_ERR_SIGNATURE:
		return "bad or missing signature";
	case KF_ERR_EXPIRED:
		return "expired";
	case KF_ERR_NOENT:
		return "no such entry";
	case KF_ERR_AUDIENCE:
		return "record signed for another audience";
	default:
		return "unknown error";
	}
}

const char *
kf_version(void)
{
	return PACKAGE_VERSION;
}

int
kf_username_valid(const char *name)
{
	size_t i, n;
	char c;

	if (name == NULL || (n = strlen(name)) == 0 || n > 64)
		return 0;
	/*
	 * "." and ".." match the pattern but are URL dot segments: libcurl
	 * removes them, so ".../users/%u/keys" would ask for ".../keys".
	 */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < n; i++) {
		c = name[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_')
			continue;
		/* '-' and the e-mail-like '@' and '+' never come first. */
		if (i > 0 && (c == '-' || c == '@' || c == '+'))
			continue;
		return 0;
	}
	/* Plain names are at most 32 characters, e-mail-like ones 64. */
	return n <= 32 || strpbrk(name, "@+") != NULL;
}

int
kf_ctx_new(struct kf_ctx **ctxp)
{
	struct kf_ctx *ctx;

	if (ctxp == NULL)
		return KF_ERR_INVAL;
	*ctxp = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return KF_ERR_NOMEM;
	ctx->now = system_now;
	ctx->key_drop_level = KF_LOG_INFO;
	*ctxp = ctx;
	return 0;
}

void
kf_ctx_free(struct kf_ctx *ctx)
{
	if (ctx == NULL)
		return;
	kf_config_free(ctx->cfg);
	free(ctx->config_path);
	free(ctx);
}

void
kf_ctx_set_log(struct kf_ctx *ctx, kf_log_fn *fn, void *arg)
{
	ctx->log_fn = fn;
	ctx->log_arg = arg;
}

void
kf_ctx_set_verbosity(struct kf_ctx *ctx, int verbosity)
{
	ctx->verbosity = verbosity;
}

int
kf_ctx_load_config(struct kf_ctx *ctx, const char *path)
{
	struct kf_config *cfg;
	char *p;
	int r;

	if (ctx == NULL)
		return KF_ERR_INVAL;
	if (path == NULL)
		path = KF_CONFIG_PATH;
	if ((p = strdup(path)) == NULL)
		return KF_ERR_NOMEM;
	free(ctx->config_path);
	ctx->config_path = p;
	kf_config_free(ctx->cfg);
	ctx->cfg = NULL;
	if ((r = kf_config_load(ctx, path, 0, &cfg)) != 0)
		return r;
	ctx->cfg = cfg;
	return 0;
}

const char *
kf_ctx_config_path(const struct kf_ctx *ctx)
{
	return ctx->config_path != NULL ? ctx->config_path : KF_CONFIG_PATH;
}

long
kf_ctx_timeout_ms(const struct kf_ctx *ctx)
{
	return ctx->cfg != NULL ? ctx->cfg->timeout_ms : 0;
}
