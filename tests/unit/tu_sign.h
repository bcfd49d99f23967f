/*
 * tu_sign.h - signing keys and JWS made for the tests by the openssl
 * command and tests/jws/sign-jws, never by keyfleet's own code, so that a
 * bug in keyfleet's decoder cannot be cancelled out by one in an encoder.
 */
#ifndef KF_TU_SIGN_H
#define KF_TU_SIGN_H

enum tu_sigkind {
	TU_SIG_ED25519 = 0,
	TU_SIG_P256,
	TU_SIG_P384,		/* a curve keyfleet refuses */
	TU_SIG_RSA,		/* a key type keyfleet refuses */
	TU_SIG_KIND_COUNT
};

struct tu_sigkey {
	const char	*priv;	/* PEM private key, mode 0600 */
	const char	*pub;	/* PEM SubjectPublicKeyInfo, mode 0644 */
};

/*
 * The n-th (0..3) key of kind, made with "openssl genpkey" in tu_tmpdir()
 * on first use; fails the test if openssl cannot make it.
 */
const struct tu_sigkey	*tu_sigkey(enum tu_sigkind kind, int n);

/*
 * Signs payload with the private key file priv under header (JSON, used
 * as given) by running tests/jws/sign-jws; an HS256 header makes it an
 * HMAC with the bytes of priv as the secret.  Returns the compact JWS.
 */
char	*tu_jws_sign(const char *priv, const char *header, const char *payload);

#endif /* KF_TU_SIGN_H */
