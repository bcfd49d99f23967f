/* log.h - leveled diagnostics through the context's log callback. */
#ifndef KF_LOG_H
#define KF_LOG_H

#include "ctx.h"

/*
 * Message levels, ordered; LogLevel picks the highest one that is logged:
 * quiet logs errors only, info adds warnings and notices, verbose adds
 * what each lookup did, debug everything.
 */
enum kf_log_level {
	KF_LOG_ERROR = 0,
	KF_LOG_INFO,
	KF_LOG_VERBOSE,
	KF_LOG_DEBUG,
};

void	kf_log(struct kf_ctx *ctx, enum kf_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* KF_LOG_H */
