/* response.h - what a 200 body means under the configuration's rules. */
#ifndef KF_RESPONSE_H
#define KF_RESPONSE_H

#include <stddef.h>

#include "ctx.h"
#include "record.h"

#define KF_WHY_MAX	160

/*
 * Parses body, fetched from or cached for user, into a record: Format
 * keys text, or for Format json a JSON record or a JWS whose payload is
 * one.  With SigningKey configured only a JWS that one of the keys
 * verifies is taken, and its payload must meet the signed-record rules.
 * Without SigningKey a JWS is decoded strictly but its signature is not
 * checked: it counts as much as plain JSON over the same TLS connection.
 * source names where body came from, for logs.  Returns 0 with *recp
 * set, or a negative code with the reason in why.
 */
int	kf_response_parse(struct kf_ctx *ctx, const char *user,
	    const char *source, const char *body, size_t len,
	    struct kf_record **recp, char why[KF_WHY_MAX]);

/*
 * kf_response_parse() for a 200 from url, first refusing a body whose
 * content_type (NULL when none was sent) says it is a web page: a proxy's,
 * portal's or CDN's error page, not a record.  How a lookup, and --check,
 * judge every 200.
 */
int	kf_response_judge(struct kf_ctx *ctx, const char *user,
	    const char *url, const char *content_type, const char *body,
	    size_t len, struct kf_record **recp, char why[KF_WHY_MAX]);

#endif /* KF_RESPONSE_H */
