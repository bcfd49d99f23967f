/*
 * fuzz_keys.c - a "Format keys" body: authorized_keys text as GitHub and
 * GitLab serve it, through kf_record_parse_keys().
 */
#include "config.h"

#include "keyfleet.h"
#include "fuzz.h"
#include "record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t	LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
	    unsigned int seed);

static void
parse(const struct kf_key_policy *policy, const uint8_t *data, size_t size)
{
	struct kf_record *rec;
	const char *why;
	size_t i;
	int r;

	r = kf_record_parse_keys(fuzz_ctx(), policy, "alice", "fuzz",
	    (const char *)data, size, FUZZ_NOW, &rec, &why);
	fuzz_check_why(r, why);
	if (r != 0) {
		FUZZ_CHECK(rec == NULL);
		return;
	}
	FUZZ_CHECK(rec->active == (rec->nkeys > 0));
	FUZZ_CHECK(rec->nenv == 0 && rec->exp == 0);
	for (i = 0; i < rec->nkeys; i++)
		fuzz_check_key(policy, &rec->keys[i]);
	kf_record_free(rec);
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
	struct kf_key_policy def = kf_key_policy_default();
	struct kf_key_policy strict = fuzz_policy_strict();

	parse(&def, data, size);
	parse(&strict, data, size);
	return 0;
}
