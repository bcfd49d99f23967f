/* log.c - diagnostics: to the front-end's callback or to syslog. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "config_file.h"
#include "log.h"

static int
level_priority(enum kf_log_level level)
{
	switch (level) {
	case KF_LOG_ERROR:
		return LOG_ERR;
	case KF_LOG_INFO:
		return LOG_NOTICE;
	case KF_LOG_VERBOSE:
		return LOG_INFO;
	case KF_LOG_DEBUG:
	default:
		return LOG_DEBUG;
	}
}

void
kf_log(struct kf_ctx *ctx, enum kf_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int max;
	char *p;

	max = ctx->cfg != NULL ? (int)ctx->cfg->log_level : KF_LOG_INFO;
	if (max < KF_LOG_VERBOSE && ctx->verbosity >= 1)
		max = KF_LOG_VERBOSE;
	if (ctx->verbosity >= 2)
		max = KF_LOG_DEBUG;
	if ((int)level > max)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One event, one line: whatever came from outside stays on it. */
	for (p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	if (ctx->log_fn != NULL)
		ctx->log_fn(ctx->log_arg, level_priority(level), msg);
	else
		syslog(LOG_AUTHPRIV | level_priority(level), "%s", msg);
}
