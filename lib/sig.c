/*
 * sig.c - SigningKey public keys and signature checks, with libcrypto.
 *
 * Keys are read from PEM here, without libcrypto: SubjectPublicKeyInfo
 * for Ed25519 and P-256 has one fixed DER form each, and libcrypto's PEM
 * decoder alone costs more than the rest of a cache hit.  libcrypto is
 * loaded on the first signature check, like libcurl on the first fetch,
 * so a configuration without SigningKey never loads it; inside sshd it
 * is the copy sshd already has.  Loaded once per process, never
 * unloaded.  Every failure clears libcrypto's error queue, so that
 * nothing of ours is left for the host program to trip over.
 */
#include "config.h"

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "b64.h"
#include "sig.h"
#include "util.h"

#ifndef KF_LIBCRYPTO_SONAME
#define KF_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

#define FN(name)	__typeof__(&name) name
static struct {
	int	loaded;
	FN(BN_bin2bn);
	FN(BN_free);
	FN(ECDSA_SIG_new);
	FN(ECDSA_SIG_set0);
	FN(ECDSA_SIG_free);
	FN(i2d_ECDSA_SIG);
	FN(ERR_clear_error);
	FN(EVP_MD_CTX_new);
	FN(EVP_MD_CTX_free);
	FN(EVP_DigestVerifyInit);
	FN(EVP_DigestVerify);
	FN(EVP_sha256);
	FN(EVP_PKEY_free);
	FN(EVP_PKEY_new_raw_public_key);
	FN(EVP_PKEY_CTX_new_from_name);
	FN(EVP_PKEY_CTX_free);
	FN(EVP_PKEY_fromdata_init);
	FN(EVP_PKEY_fromdata);
	FN(OSSL_PARAM_construct_utf8_string);
	FN(OSSL_PARAM_construct_octet_string);
	FN(OSSL_PARAM_construct_end);
} kx;
#undef FN

static int
crypto_load(void)
{
	void *h;

	if (kx.loaded)
		return 0;
	h = dlopen(KF_LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (h == NULL)
		return KF_ERR_UNAVAILABLE;
#define LOAD(name) \
	if ((*(void **)&kx.name = dlsym(h, #name)) == NULL) \
		return KF_ERR_UNAVAILABLE
	LOAD(BN_bin2bn);
	LOAD(BN_free);
	LOAD(ECDSA_SIG_new);
	LOAD(ECDSA_SIG_set0);
	LOAD(ECDSA_SIG_free);
	LOAD(i2d_ECDSA_SIG);
	LOAD(ERR_clear_error);
	LOAD(EVP_MD_CTX_new);
	LOAD(EVP_MD_CTX_free);
	LOAD(EVP_DigestVerifyInit);
	LOAD(EVP_DigestVerify);
	LOAD(EVP_sha256);
	LOAD(EVP_PKEY_free);
	LOAD(EVP_PKEY_new_raw_public_key);
	LOAD(EVP_PKEY_CTX_new_from_name);
	LOAD(EVP_PKEY_CTX_free);
	LOAD(EVP_PKEY_fromdata_init);
	LOAD(EVP_PKEY_fromdata);
	LOAD(OSSL_PARAM_construct_utf8_string);
	LOAD(OSSL_PARAM_construct_octet_string);
	LOAD(OSSL_PARAM_construct_end);
#undef LOAD
	kx.loaded = 1;
	return 0;
}

const char *
kf_sigalg_name(enum kf_sigalg alg)
{
	return alg == KF_SIG_EDDSA ? "EdDSA" : "ES256";
}

/* The DER of SubjectPublicKeyInfo up to the key bytes (RFC 8410, 5480). */
static const unsigned char spki_ed25519[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
};
static const unsigned char spki_p256[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00, 0x04,
};

/* Which alg a DER SubjectPublicKeyInfo is for, with its key bytes. */
static enum kf_sigalg
spki_parse(const unsigned char *der, size_t len, unsigned char raw[65],
    size_t *rawlen)
{
	if (len == sizeof(spki_ed25519) + 32 &&
	    memcmp(der, spki_ed25519, sizeof(spki_ed25519)) == 0) {
		*rawlen = 32;
		memcpy(raw, der + sizeof(spki_ed25519), 32);
		return KF_SIG_EDDSA;
	}
	if (len == sizeof(spki_p256) + 64 &&
	    memcmp(der, spki_p256, sizeof(spki_p256)) == 0) {
		*rawlen = 65;	/* from the 0x04 on */
		memcpy(raw, der + sizeof(spki_p256) - 1, 65);
		return KF_SIG_ES256;
	}
	return 0;
}

static int
keys_append(struct kf_sigkeys *keys, const struct kf_sigkey *key,
    const char *source, unsigned nth)
{
	struct kf_sigkey *v;
	char *s;
	size_t n;

	n = strlen(source) + 32;
	if ((s = malloc(n)) == NULL)
		return KF_ERR_NOMEM;
	if (nth > 1)
		snprintf(s, n, "%s (key %u)", source, nth);
	else
		snprintf(s, n, "%s", source);
	if ((v = realloc(keys->v, (keys->n + 1) * sizeof(*v))) == NULL) {
		free(s);
		return KF_ERR_NOMEM;
	}
	keys->v = v;
	v[keys->n] = *key;
	v[keys->n].source = s;
	keys->n++;
	return 0;
}

int
kf_sigkeys_add_pem(struct kf_sigkeys *keys, const char *pem, size_t len,
    const char *source, const char **why)
{
	static const char begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char end[] = "-----END PUBLIC KEY-----";
	const char *p = pem, *pend = pem + len, *b, *e;
	struct kf_buf text, der;
	struct kf_sigkey key;
	unsigned nth = 0;
	int r = 0;

	*why = NULL;
	kf_buf_init(&text, 0);
	kf_buf_init(&der, 0);
	while (r == 0 && (b = memmem(p, (size_t)(pend - p), begin,
	    sizeof(begin) - 1)) != NULL) {
		b += sizeof(begin) - 1;
		if ((e = memmem(b, (size_t)(pend - b), end,
		    sizeof(end) - 1)) == NULL) {
			*why = "a PEM public key has no END line";
			r = KF_ERR_INVAL;
			break;
		}
		p = e + sizeof(end) - 1;
		text.len = 0;
		der.len = 0;
		for (; b < e && r == 0; b++) {
			if (*b != '\n' && *b != '\r' && *b != ' ' &&
			    *b != '\t')
				r = kf_buf_putc(&text, *b);
		}
		if (r != 0)
			break;
		memset(&key, 0, sizeof(key));
		if (text.len == 0 ||
		    kf_b64_decode(text.data, text.len, &der) != 0) {
			*why = "a PEM public key is not valid base64";
			r = KF_ERR_INVAL;
		} else if ((key.alg = spki_parse((unsigned char *)der.data,
		    der.len, key.raw, &key.rawlen)) == 0) {
			*why = "not an Ed25519 or P-256 public key "
			    "(SubjectPublicKeyInfo, uncompressed point)";
			r = KF_ERR_INVAL;
		} else if (++nth > 16) {
			*why = "more than 16 keys in one file";
			r = KF_ERR_INVAL;
		} else {
			r = keys_append(keys, &key, source, nth);
		}
	}
	kf_buf_free(&text);
	kf_buf_free(&der);
	if (r == 0 && nth == 0) {
		*why = "no PEM public key (\"BEGIN PUBLIC KEY\") in it";
		r = KF_ERR_INVAL;
	}
	return r;
}

void
kf_sigkeys_free(struct kf_sigkeys *keys)
{
	size_t i;

	for (i = 0; i < keys->n; i++)
		free(keys->v[i].source);
	free(keys->v);
	keys->v = NULL;
	keys->n = 0;
}

/* The key as libcrypto's EVP_PKEY, or NULL when libcrypto refuses it. */
static EVP_PKEY *
key_to_pkey(const struct kf_sigkey *key)
{
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];
	char group[] = SN_X9_62_prime256v1;
	unsigned char point[65];

	if (key->alg == KF_SIG_EDDSA)
		return kx.EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    key->raw, key->rawlen);
	/* fromdata checks that the point is on the curve. */
	memcpy(point, key->raw, sizeof(point));
	params[0] = kx.OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = kx.OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, key->rawlen);
	params[2] = kx.OSSL_PARAM_construct_end();
	if ((pctx = kx.EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return NULL;
	if (kx.EVP_PKEY_fromdata_init(pctx) != 1 ||
	    kx.EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY,
	    params) != 1)
		pkey = NULL;
	kx.EVP_PKEY_CTX_free(pctx);
	return pkey;
}

/* RFC 7518's raw R||S as the DER ECDSA-Sig-Value libcrypto checks. */
static unsigned char *
es256_to_der(const unsigned char *sig, int *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL, *p;
	int n;

	r = kx.BN_bin2bn(sig, 32, NULL);
	s = kx.BN_bin2bn(sig + 32, 32, NULL);
	if (r == NULL || s == NULL || (es = kx.ECDSA_SIG_new()) == NULL) {
		kx.BN_free(r);
		kx.BN_free(s);
		return NULL;
	}
	if (kx.ECDSA_SIG_set0(es, r, s) != 1) {
		kx.BN_free(r);
		kx.BN_free(s);
	} else if ((n = kx.i2d_ECDSA_SIG(es, NULL)) > 0 &&
	    (der = malloc((size_t)n)) != NULL) {
		p = der;
		*derlen = kx.i2d_ECDSA_SIG(es, &p);
	}
	kx.ECDSA_SIG_free(es);
	return der;
}

int
kf_sigkey_check(const struct kf_sigkey *key)
{
	EVP_PKEY *pkey;

	if (crypto_load() != 0)
		return KF_ERR_UNAVAILABLE;
	pkey = key_to_pkey(key);
	kx.EVP_PKEY_free(pkey);
	kx.ERR_clear_error();
	return pkey != NULL ? 0 : KF_ERR_CONFIG;
}

int
kf_sig_verify(const struct kf_sigkey *key, const void *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char *der = NULL;
	const unsigned char *s = sig;
	int derlen = 0, r = KF_ERR_UNAVAILABLE;

	if (siglen != KF_SIG_LEN)
		return KF_ERR_SIGNATURE;
	if (crypto_load() != 0)
		return KF_ERR_UNAVAILABLE;
	if ((pkey = key_to_pkey(key)) == NULL) {
		r = KF_ERR_CONFIG;
		goto out;
	}
	if (key->alg == KF_SIG_ES256) {
		if ((der = es256_to_der(sig, &derlen)) == NULL || derlen <= 0)
			goto out;
		s = der;
		siglen = (size_t)derlen;
	}
	if ((md = kx.EVP_MD_CTX_new()) == NULL ||
	    kx.EVP_DigestVerifyInit(md, NULL, key->alg == KF_SIG_ES256 ?
	    kx.EVP_sha256() : NULL, NULL, pkey) != 1)
		goto out;
	r = kx.EVP_DigestVerify(md, s, siglen, msg, len) == 1 ? 0 :
	    KF_ERR_SIGNATURE;
 out:
	kx.EVP_MD_CTX_free(md);
	kx.EVP_PKEY_free(pkey);
	free(der);
	kx.ERR_clear_error();
	return r;
}
