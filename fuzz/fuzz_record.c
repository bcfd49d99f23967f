/*
 * fuzz_record.c - a JSON record (SPEC 3) as the API would send it, parsed
 * plain with the default key policy and as a signed payload with a
 * stricter policy and an Audience.
 */
#include "config.h"

#include <string.h>

#include "keyfleet.h"
#include "fuzz.h"
#include "record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t	LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
	    unsigned int seed);

static void
check_record(const struct kf_key_policy *policy, int r,
    const struct kf_record *rec, const char *why, int is_signed)
{
	size_t i;

	fuzz_check_why(r, why);
	if (r != 0) {
		FUZZ_CHECK(rec == NULL);
		return;
	}
	FUZZ_CHECK(rec != NULL);
	FUZZ_CHECK(rec->exp == 0 || rec->exp > (int64_t)FUZZ_NOW);
	FUZZ_CHECK(rec->ttl >= -1);
	if (is_signed)
		FUZZ_CHECK(rec->exp != 0 &&
		    rec->iat <= (int64_t)FUZZ_NOW + KF_RECORD_MAX_SKEW);
	/* An inactive user's keys are never served. */
	FUZZ_CHECK(rec->active || rec->nkeys == 0);
	FUZZ_CHECK(rec->nkeys <= KF_RECORD_MAX_KEYS &&
	    rec->nenv <= KF_RECORD_MAX_ENV);
	for (i = 0; i < rec->nkeys; i++)
		fuzz_check_key(policy, &rec->keys[i]);
	for (i = 0; i < rec->nenv; i++) {
		fuzz_touch(rec->env[i].name);
		fuzz_touch(rec->env[i].value);
	}
}

/* Half of the mutations change what the base64 in the input encodes. */
size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
    unsigned int seed)
{
	size_t n;

	if (seed % 2 == 0 &&
	    (n = fuzz_mutate_b64(data, size, max_size, seed / 2, 0)) != 0)
		return n;
	return LLVMFuzzerMutate(data, size, max_size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_ctx *ctx = fuzz_ctx();
	struct kf_key_policy def = kf_key_policy_default();
	struct kf_key_policy strict = fuzz_policy_strict();
	struct kf_record *rec;
	const char *body = (const char *)data, *why;
	int r;

	r = kf_record_parse_json(ctx, &def, "alice", "fuzz", body, size,
	    FUZZ_NOW, &rec, &why);
	check_record(&def, r, rec, why, 0);
	kf_record_free(rec);

	ctx->key_drop_level = KF_LOG_DEBUG;
	r = kf_record_parse_signed(ctx, &strict, "alice", "fuzz", body, size,
	    FUZZ_NOW, 1, "fleet-eu", &rec, &why);
	ctx->key_drop_level = KF_LOG_INFO;
	check_record(&strict, r, rec, why, 1);
	kf_record_free(rec);
	return 0;
}
