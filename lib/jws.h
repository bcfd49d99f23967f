/*
 * jws.h - JWS compact serialization (RFC 7515), as keyfleet accepts it:
 * alg EdDSA or ES256, nothing else.
 */
#ifndef KF_JWS_H
#define KF_JWS_H

#include <stddef.h>

#include "sig.h"
#include "util.h"

#define KF_JWS_MAX_HEADER	4096

struct kf_jws {
	enum kf_sigalg	 alg;
	const char	*signing_input;	/* header.payload, as received */
	size_t		 signing_len;
	struct kf_buf	 payload;	/* decoded */
	struct kf_buf	 sig;		/* decoded */
	char		 why[160];	/* room for a reason naming a key */
};

/*
 * Whether body is meant as a JWS rather than a JSON record: its first
 * byte that is not white space is not '{'.
 */
int	kf_jws_is_compact(const char *body, size_t len);

/*
 * Splits and decodes body (which must outlive jws).  Exactly three
 * segments of unpadded base64url, optionally followed by one line end
 * (a static file usually has one); a header that is a JSON object with
 * alg EdDSA or ES256 and no crit.  Returns 0, or KF_ERR_PARSE or
 * KF_ERR_SIGNATURE (alg refused) with *why set; KF_ERR_NOMEM.
 */
int	kf_jws_decode(const char *body, size_t len, struct kf_jws *jws,
	    const char **why);

/*
 * Checks jws's signature against each key of its alg.  Returns 0 when one
 * verifies, else KF_ERR_SIGNATURE with *why set (KF_ERR_UNAVAILABLE when
 * libcrypto fails).  *keyp gets the key that verified.
 */
int	kf_jws_verify(struct kf_jws *jws, const struct kf_sigkeys *keys,
	    const struct kf_sigkey **keyp, const char **why);

void	kf_jws_clear(struct kf_jws *jws);

#endif /* KF_JWS_H */
