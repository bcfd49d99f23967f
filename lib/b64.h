/* b64.h - strict base64 (RFC 4648 section 4) and base64url (section 5). */
#ifndef KF_B64_H
#define KF_B64_H

#include <stddef.h>

#include "util.h"

/*
 * Decodes standard base64 with mandatory, canonical '=' padding and no
 * whitespace.  Returns 0 or KF_ERR_INVAL for any deviation.
 */
int	kf_b64_decode(const char *s, size_t len, struct kf_buf *out);
/* Decodes base64url without padding (as JWS uses it), strictly. */
int	kf_b64url_decode(const char *s, size_t len, struct kf_buf *out);
/* Appends the standard, padded base64 of p[0..n). */
int	kf_b64_encode(const void *p, size_t n, struct kf_buf *out);

#endif /* KF_B64_H */
