/*
 * fuzz_authkey.c - one key entry of a record through kf_authkey_build(),
 * with the default and a stricter policy.  An input is the entry's text,
 * then optionally a NUL and its options, then optionally a NUL and its
 * expires as a decimal number:
 *   ssh-ed25519 AAAA... alice@laptop\0no-pty,from="10.0.0.0/8"\01795000000
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "authkey.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Options are at most 4096 bytes, and "pty," is one of the shortest. */
#define MAX_OPTS	1100

/* authkey.c's "grants" options: the only ones KeyOptions may strip. */
static const char *const granting[] = {
	"agent-forwarding", "environment", "no-touch-required",
	"port-forwarding", "pty", "user-rc", "x11-forwarding",
};

struct opts {
	char	*v[MAX_OPTS];	/* "name" or "name=VALUE", name lower-case */
	size_t	 n;
};

/*
 * Splits options as sshd reads them (commas outside "...", \" inside),
 * into o; returns -1 when the quotes do not balance.
 */
static int
split_options(const char *s, size_t len, struct opts *o)
{
	const char *start = s, *p, *end = s + len;
	int quoted = 0;
	size_t i;

	o->n = 0;
	for (p = s; p <= end; p++) {
		if (p < end && *p == '\\' && p + 1 < end && p[1] == '"') {
			p++;
			continue;
		}
		if (p < end && *p == '"')
			quoted = !quoted;
		if (p < end && (quoted || *p != ','))
			continue;
		if (o->n == MAX_OPTS)
			return -1;
		o->v[o->n] = strndup(start, (size_t)(p - start));
		FUZZ_CHECK(o->v[o->n] != NULL);
		for (i = 0; o->v[o->n][i] != '\0' && o->v[o->n][i] != '='; i++) {
			if (o->v[o->n][i] >= 'A' && o->v[o->n][i] <= 'Z')
				o->v[o->n][i] += 'a' - 'A';
		}
		o->n++;
		start = p + 1;
	}
	return quoted ? -1 : 0;
}

static void
free_options(struct opts *o)
{
	while (o->n > 0)
		free(o->v[--o->n]);
}

static int
has_option(const struct opts *o, const char *opt)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (strcmp(o->v[i], opt) == 0)
			return 1;
	}
	return 0;
}

static int
grants(const char *opt)
{
	size_t i, n = strcspn(opt, "=");

	for (i = 0; i < sizeof(granting) / sizeof(granting[0]); i++) {
		if (strlen(granting[i]) == n && strncmp(opt, granting[i], n) == 0)
			return 1;
	}
	return 0;
}

/*
 * What the API asked for is what sshd gets: every restricting option
 * exactly as given, every granting one that KeyOptions allows, and
 * nothing else but the expiry-time made from expires.
 */
static void
check_options(const struct kf_key_policy *policy, const char *options,
    const struct kf_authkey *key)
{
	struct opts in, out;
	const char *line = key->line, *p;
	char name[64];
	size_t i, n;
	int quoted = 0, opt;

	out.n = 0;
	if (strncmp(line, "ssh-", 4) != 0 && strncmp(line, "ecdsa-", 6) != 0 &&
	    strncmp(line, "sk-", 3) != 0) {
		for (p = line; *p != '\0' && (quoted || *p != ' '); p++) {
			if (*p == '\\' && p[1] == '"')
				p++;
			else if (*p == '"')
				quoted = !quoted;
		}
		FUZZ_CHECK(split_options(line, (size_t)(p - line), &out) == 0);
	}
	in.n = 0;
	if (options != NULL && *options != '\0')
		FUZZ_CHECK(split_options(options, strlen(options), &in) == 0);
	for (i = 0; i < in.n; i++) {
		n = strcspn(in.v[i], "=");
		FUZZ_CHECK(n < sizeof(name));
		memcpy(name, in.v[i], n);
		name[n] = '\0';
		FUZZ_CHECK((opt = kf_keyopt_from_name(name)) >= 0);
		if ((policy->options & (1u << opt)) != 0)
			FUZZ_CHECK(has_option(&out, in.v[i]));
		else
			FUZZ_CHECK(grants(in.v[i]) && !has_option(&out, in.v[i]));
	}
	for (i = 0; i < out.n; i++)
		FUZZ_CHECK(has_option(&in, out.v[i]) ||
		    strncmp(out.v[i], "expiry-time=\"", 13) == 0);
	free_options(&in);
	free_options(&out);
}
size_t	LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
	    unsigned int seed);

static void
build(const struct kf_key_policy *policy, const char *text,
    const char *options, int64_t expires)
{
	struct kf_authkey key;
	const char *why;
	int r;

	r = kf_authkey_build(policy, text, options, expires, FUZZ_NOW, &key,
	    &why);
	fuzz_check_why(r, why);
	if (r != 0) {
		FUZZ_CHECK(r == KF_ERR_KEY || r == KF_ERR_EXPIRED ||
		    r == KF_ERR_NOMEM);
		FUZZ_CHECK(key.line == NULL && key.blob_b64 == NULL);
		return;
	}
	FUZZ_CHECK(expires == 0 || expires > (int64_t)FUZZ_NOW);
	/* An unexpired expires reaches sshd as expiry-time. */
	FUZZ_CHECK(expires == 0 || strstr(key.line, "expiry-time=\"") != NULL);
	fuzz_check_key(policy, &key);
	check_options(policy, options, &key);
	kf_authkey_clear(&key);
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
	const char *text, *options = NULL, *end;
	int64_t expires = 0;
	char *copy;

	/* A copy with a NUL after it: the fields are C strings. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	text = copy;
	if (text + strlen(text) < end) {
		options = text + strlen(text) + 1;
		if (options + strlen(options) < end)
			expires = strtoll(options + strlen(options) + 1, NULL,
			    10);
	}
	build(&def, text, options, expires);
	build(&strict, text, options, expires);
	free(copy);
	return 0;
}
