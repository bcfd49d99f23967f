/* authkey.h - validating key entries and rebuilding authorized_keys lines. */
#ifndef KF_AUTHKEY_H
#define KF_AUTHKEY_H

#include <stdint.h>
#include <time.h>

/* Key types keyfleet knows; KeyTypes selects among them. */
enum kf_keytype {
	KF_KT_ED25519 = 0,
	KF_KT_ECDSA_P256,
	KF_KT_ECDSA_P384,
	KF_KT_ECDSA_P521,
	KF_KT_SK_ED25519,
	KF_KT_SK_ECDSA_P256,
	KF_KT_RSA,
	KF_KT_DSA,
	KF_KT_COUNT
};

/* authorized_keys options sshd knows; KeyOptions selects among them. */
enum kf_keyopt {
	KF_OPT_AGENT_FORWARDING = 0,
	KF_OPT_CERT_AUTHORITY,
	KF_OPT_COMMAND,
	KF_OPT_ENVIRONMENT,
	KF_OPT_EXPIRY_TIME,
	KF_OPT_FROM,
	KF_OPT_NO_AGENT_FORWARDING,
	KF_OPT_NO_PORT_FORWARDING,
	KF_OPT_NO_PTY,
	KF_OPT_NO_TOUCH_REQUIRED,
	KF_OPT_NO_USER_RC,
	KF_OPT_NO_X11_FORWARDING,
	KF_OPT_PERMITLISTEN,
	KF_OPT_PERMITOPEN,
	KF_OPT_PORT_FORWARDING,
	KF_OPT_PRINCIPALS,
	KF_OPT_PTY,
	KF_OPT_RESTRICT,
	KF_OPT_TUNNEL,
	KF_OPT_USER_RC,
	KF_OPT_VERIFY_REQUIRED,
	KF_OPT_X11_FORWARDING,
	KF_OPT_COUNT
};

/* What a key entry must satisfy (from keyfleet.conf). */
struct kf_key_policy {
	uint32_t	types;		/* bit per enum kf_keytype */
	uint32_t	options;	/* bit per enum kf_keyopt */
	unsigned long	min_rsa_bits;
};

/* A validated key, ready for sshd. */
struct kf_authkey {
	char	*line;		/* the whole authorized_keys line */
	char	*blob_b64;	/* canonical base64 of the key blob */
};

/* Looks a key type or option name up; -1 when unknown. */
int		 kf_keytype_from_name(const char *name);
const char	*kf_keytype_name(int type);
uint32_t	 kf_keytypes_default(void);
int		 kf_keyopt_from_name(const char *name);
/* The policy keyfleet.conf(5) describes as the default. */
struct kf_key_policy kf_key_policy_default(void);
const char	*kf_keyopt_name(int opt);
uint32_t	 kf_keyopts_default(void);

/*
 * Validates one key entry and rebuilds its line.
 *   text     "TYPE BASE64 [COMMENT]"
 *   options  authorized_keys options from the API, or NULL
 *   expires  Unix time after which the key is void, or 0 for none
 * Returns 0 and fills *key, KF_ERR_EXPIRED for a key past expires, or
 * KF_ERR_KEY with *why set to a static reason.  The caller releases the
 * key with kf_authkey_clear().
 */
int	kf_authkey_build(const struct kf_key_policy *policy, const char *text,
	    const char *options, int64_t expires, time_t now,
	    struct kf_authkey *key, const char **why);
void	kf_authkey_clear(struct kf_authkey *key);

#endif /* KF_AUTHKEY_H */
