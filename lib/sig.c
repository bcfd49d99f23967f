/*
 * sig.c - SigningKey public keys and signature checks, with libcrypto.
 *
 * libcrypto is loaded on first use, like libcurl: a configuration without
 * SigningKey, the common case on a cache hit, never pays for loading it.
 * Inside sshd it is the copy sshd already has.  Loaded once per process,
 * never unloaded.  Every failure clears libcrypto's error queue, so that
 * nothing of ours is left for the host program to trip over.
 */
#include "config.h"

#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "sig.h"

#ifndef KF_LIBCRYPTO_SONAME
#define KF_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

#define FN(name)	__typeof__(&name) name
static struct {
	int	loaded;
	FN(BIO_new_mem_buf);
	FN(BIO_free);
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
	FN(EVP_PKEY_get_base_id);
	FN(EVP_PKEY_get_group_name);
	FN(PEM_read_bio_PUBKEY);
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
	LOAD(BIO_new_mem_buf);
	LOAD(BIO_free);
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
	LOAD(EVP_PKEY_get_base_id);
	LOAD(EVP_PKEY_get_group_name);
	LOAD(PEM_read_bio_PUBKEY);
#undef LOAD
	kx.loaded = 1;
	return 0;
}

const char *
kf_sigalg_name(enum kf_sigalg alg)
{
	return alg == KF_SIG_EDDSA ? "EdDSA" : "ES256";
}

/* Which alg a key verifies, or 0 for a key keyfleet does not accept. */
static enum kf_sigalg
key_alg(EVP_PKEY *pkey)
{
	char group[64];
	size_t len = 0;

	switch (kx.EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_ED25519:
		return KF_SIG_EDDSA;
	case EVP_PKEY_EC:
		if (kx.EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    &len) == 1 && strcmp(group, SN_X9_62_prime256v1) == 0)
			return KF_SIG_ES256;
		return 0;
	default:
		return 0;
	}
}

static int
keys_append(struct kf_sigkeys *keys, EVP_PKEY *pkey, enum kf_sigalg alg,
    const char *source, unsigned nth, unsigned total)
{
	struct kf_sigkey *v;
	char *s;
	size_t n;

	n = strlen(source) + 32;
	if ((s = malloc(n)) == NULL)
		return KF_ERR_NOMEM;
	if (total > 1)
		snprintf(s, n, "%s (key %u)", source, nth);
	else
		snprintf(s, n, "%s", source);
	if ((v = realloc(keys->v, (keys->n + 1) * sizeof(*v))) == NULL) {
		free(s);
		return KF_ERR_NOMEM;
	}
	keys->v = v;
	v[keys->n].pkey = pkey;
	v[keys->n].alg = alg;
	v[keys->n].source = s;
	keys->n++;
	return 0;
}

int
kf_sigkeys_add_pem(struct kf_sigkeys *keys, const char *pem, size_t len,
    const char *source, const char **why)
{
	EVP_PKEY *found[16], *pkey;
	enum kf_sigalg algs[16];
	unsigned nfound = 0, i;
	BIO *bio;
	int r = 0;

	*why = NULL;
	if (crypto_load() != 0) {
		*why = "cannot load " KF_LIBCRYPTO_SONAME;
		return KF_ERR_UNAVAILABLE;
	}
	if (len > 64 * 1024 ||
	    (bio = kx.BIO_new_mem_buf(pem, (int)len)) == NULL) {
		*why = "file too large";
		return KF_ERR_INVAL;
	}
	while ((pkey = kx.PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
		if (nfound == sizeof(found) / sizeof(found[0])) {
			kx.EVP_PKEY_free(pkey);
			*why = "more than 16 keys in one file";
			r = KF_ERR_INVAL;
			break;
		}
		if ((algs[nfound] = key_alg(pkey)) == 0) {
			kx.EVP_PKEY_free(pkey);
			*why = "not an Ed25519 or P-256 public key";
			r = KF_ERR_INVAL;
			break;
		}
		found[nfound++] = pkey;
	}
	kx.ERR_clear_error();	/* the end of the file is an "error" too */
	kx.BIO_free(bio);
	if (r == 0 && nfound == 0) {
		*why = "no PEM public key (\"BEGIN PUBLIC KEY\") in it";
		r = KF_ERR_INVAL;
	}
	for (i = 0; i < nfound; i++) {
		if (r == 0 && (r = keys_append(keys, found[i], algs[i], source,
		    i + 1, nfound)) == 0)
			continue;	/* keys owns it now */
		kx.EVP_PKEY_free(found[i]);
	}
	return r;
}

void
kf_sigkeys_free(struct kf_sigkeys *keys)
{
	size_t i;

	for (i = 0; i < keys->n; i++) {
		kx.EVP_PKEY_free(keys->v[i].pkey);
		free(keys->v[i].source);
	}
	free(keys->v);
	keys->v = NULL;
	keys->n = 0;
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
kf_sig_verify(const struct kf_sigkey *key, const void *msg, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md;
	unsigned char *der = NULL;
	const unsigned char *s = sig;
	int derlen = 0, ok, r;

	if (siglen != KF_SIG_LEN)
		return KF_ERR_SIGNATURE;
	if (crypto_load() != 0)
		return KF_ERR_UNAVAILABLE;
	if (key->alg == KF_SIG_ES256) {
		if ((der = es256_to_der(sig, &derlen)) == NULL || derlen <= 0) {
			free(der);
			kx.ERR_clear_error();
			return KF_ERR_UNAVAILABLE;
		}
		s = der;
		siglen = (size_t)derlen;
	}
	if ((md = kx.EVP_MD_CTX_new()) == NULL) {
		free(der);
		return KF_ERR_UNAVAILABLE;
	}
	if (kx.EVP_DigestVerifyInit(md, NULL, key->alg == KF_SIG_ES256 ?
	    kx.EVP_sha256() : NULL, NULL, key->pkey) != 1) {
		r = KF_ERR_UNAVAILABLE;
	} else {
		ok = kx.EVP_DigestVerify(md, s, siglen, msg, len);
		r = ok == 1 ? 0 : KF_ERR_SIGNATURE;
	}
	kx.EVP_MD_CTX_free(md);
	free(der);
	kx.ERR_clear_error();
	return r;
}
