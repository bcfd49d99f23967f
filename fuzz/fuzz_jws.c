/*
 * fuzz_jws.c - a signed response: kf_jws_decode() and kf_jws_verify()
 * against a fixed Ed25519 and P-256 SigningKey, then the whole of what a
 * Format json body goes through (kf_response_parse()), once with the
 * SigningKeys and an Audience and once without any SigningKey.  The seeds
 * are signed with the private halves of sigkeys.h (see mkcorpus); what
 * the fuzzer makes of them must fail to verify.
 */
#include "config.h"

#include <string.h>

#include "keyfleet.h"
#include "config_file.h"
#include "fuzz.h"
#include "jws.h"
#include "record.h"
#include "response.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t	LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
	    unsigned int seed);

static struct kf_config *signed_cfg, *plain_cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signed_cfg = fuzz_config("URL https://api.example.com/users/%u\n"
	    "SigningKey " FUZZ_DIR "/ed25519.pem\n"
	    "SigningKey " FUZZ_DIR "/p256.pem\n"
	    "Audience fleet-eu\n");
	plain_cfg = fuzz_config("URL https://api.example.com/users/%u\n");
	FUZZ_CHECK(signed_cfg->signing_keys.n == 2);
	return 0;
}

static void
decode_and_verify(const char *body, size_t size)
{
	const struct kf_sigkey *key;
	struct kf_jws jws;
	const char *why;
	int r;

	r = kf_jws_decode(body, size, &jws, &why);
	fuzz_check_why(r, why);
	if (r != 0) {
		FUZZ_CHECK(r == KF_ERR_PARSE || r == KF_ERR_SIGNATURE ||
		    r == KF_ERR_NOMEM);
		FUZZ_CHECK(jws.payload.data == NULL && jws.sig.data == NULL);
		return;
	}
	FUZZ_CHECK(jws.alg == KF_SIG_EDDSA || jws.alg == KF_SIG_ES256);
	FUZZ_CHECK(jws.sig.len == KF_SIG_LEN);
	FUZZ_CHECK(jws.signing_input == body && jws.signing_len < size);
	FUZZ_CHECK(jws.payload.data != NULL &&
	    jws.payload.data[jws.payload.len] == '\0');

	r = kf_jws_verify(&jws, &signed_cfg->signing_keys, &key, &why);
	fuzz_check_why(r, why);
	/* The keys are good and libcrypto is there: it verifies or not. */
	FUZZ_CHECK(r == 0 || r == KF_ERR_SIGNATURE);
	FUZZ_CHECK(r != 0 || (key != NULL && key->alg == jws.alg));
	kf_jws_clear(&jws);
}

static void
response(struct kf_config *cfg, const char *body, size_t size)
{
	struct kf_ctx *ctx = fuzz_ctx();
	struct kf_record *rec;
	char why[KF_WHY_MAX];
	size_t i;
	int r;

	ctx->cfg = cfg;
	r = kf_response_parse(ctx, "alice", "fuzz", body, size, &rec, why);
	ctx->cfg = NULL;
	if (r != 0) {
		FUZZ_CHECK(rec == NULL && why[0] != '\0');
		return;
	}
	/* A signed record always has an unexpired exp. */
	FUZZ_CHECK(cfg->signing_keys.n == 0 || rec->exp > (int64_t)FUZZ_NOW);
	for (i = 0; i < rec->nkeys; i++)
		fuzz_check_key(&cfg->key_policy, &rec->keys[i]);
	kf_record_free(rec);
}

/* Half of the mutations change what the base64 in the input encodes. */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
    unsigned int seed)
{
	size_t n;

	if (seed % 2 == 0 &&
	    (n = fuzz_mutate_b64(data, size, max_size, seed / 2, 1)) != 0)
		return n;
	return LLVMFuzzerMutate(data, size, max_size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;

	decode_and_verify(body, size);
	response(signed_cfg, body, size);
	response(plain_cfg, body, size);
	return 0;
}
