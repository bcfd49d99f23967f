/*
 * sig.h - the public keys of SigningKey and the signature checks made
 * with them, through libcrypto loaded on first use.
 */
#ifndef KF_SIG_H
#define KF_SIG_H

#include <stddef.h>

#include "ctx.h"

enum kf_sigalg {
	KF_SIG_EDDSA = 1,	/* Ed25519 (RFC 8037) */
	KF_SIG_ES256,		/* ECDSA P-256 SHA-256, raw R||S (RFC 7518) */
};

#define KF_SIG_LEN	64	/* both algorithms' signatures */

/*
 * A key as SubjectPublicKeyInfo gives it: Ed25519's 32 bytes, or P-256's
 * uncompressed point (0x04 || X || Y).  Read without libcrypto, whose
 * PEM decoder costs a millisecond; it is handed to libcrypto only to
 * verify.
 */
struct kf_sigkey {
	enum kf_sigalg	 alg;
	unsigned char	 raw[65];
	size_t		 rawlen;
	char		*source;	/* "FILE" or "FILE (key 2)", for logs */
};

struct kf_sigkeys {
	struct kf_sigkey	*v;
	size_t			 n;
};

/*
 * Appends every PEM public key (SubjectPublicKeyInfo) in pem to keys;
 * only Ed25519 and P-256 (uncompressed) keys are accepted.  Returns 0, or
 * with *why set to a static reason KF_ERR_INVAL (no usable key) or
 * KF_ERR_NOMEM; keys may then hold part of the file, to be discarded.
 */
int	kf_sigkeys_add_pem(struct kf_sigkeys *keys, const char *pem,
	    size_t len, const char *source, const char **why);
void	kf_sigkeys_free(struct kf_sigkeys *keys);

/* "EdDSA" or "ES256": the JWS alg a key of this type verifies. */
const char	*kf_sigalg_name(enum kf_sigalg alg);

/*
 * Hands key to libcrypto as a signature check would, without checking
 * anything with it: for --check, so that a key libcrypto refuses (a P-256
 * point not on the curve) shows before the first signature does.
 * Returns 0, KF_ERR_CONFIG when libcrypto refuses the key, or
 * KF_ERR_UNAVAILABLE when libcrypto cannot be loaded.
 */
int	kf_sigkey_check(const struct kf_sigkey *key);

/*
 * Checks sig (KF_SIG_LEN bytes) over msg with key.  Returns 0 when it
 * verifies, KF_ERR_SIGNATURE when it does not, KF_ERR_CONFIG when
 * libcrypto refuses the key (a P-256 point not on the curve), and
 * KF_ERR_UNAVAILABLE when libcrypto cannot be loaded or fails.
 */
int	kf_sig_verify(const struct kf_sigkey *key, const void *msg,
	    size_t len, const unsigned char *sig, size_t siglen);

#endif /* KF_SIG_H */
