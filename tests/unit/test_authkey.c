/*
 * test_authkey.c - one key entry from the API, validated and rebuilt as
 * the authorized_keys line sshd reads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "authkey.h"

#define B64_ALPHABET \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/* Builds a key that must be accepted and returns its line. */
static char *
build_ok(const struct kf_key_policy *pol, const char *text,
    const char *options, int64_t expires)
{
	struct kf_authkey key;
	const char *why = NULL;
	char *line;
	int r;

	r = kf_authkey_build(pol, text, options, expires, TU_NOW, &key, &why);
	if (r != 0)
		fail_msg("key refused (%s: %s):\n  text    %s\n  options %s",
		    kf_strerror(r), why != NULL ? why : "-", text,
		    options != NULL ? options : "(none)");
	assert_non_null(key.line);
	assert_non_null(key.blob_b64);
	line = tu_xstrdup(key.line);
	kf_authkey_clear(&key);
	assert_null(key.line);
	return line;
}

/* Expects a key to be refused with code want and a reason naming why. */
static void
build_refused(const struct kf_key_policy *pol, const char *text,
    const char *options, int64_t expires, int want, const char *why_part)
{
	struct kf_authkey key;
	const char *why = NULL;
	int r;

	r = kf_authkey_build(pol, text, options, expires, TU_NOW, &key, &why);
	if (r != want)
		fail_msg("got %s, want %s:\n  text    %s\n  options %s\n  line    %s",
		    kf_strerror(r), kf_strerror(want), text,
		    options != NULL ? options : "(none)",
		    r == 0 ? key.line : "-");
	assert_null(key.line);
	assert_null(key.blob_b64);
	assert_non_null(why);
	if (why_part != NULL && strstr(why, why_part) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", why, why_part);
}

/* The key's blob, changed by the caller and re-encoded as "TYPE B64". */
static unsigned char *
key_blob(enum tu_keykind kind, size_t *len)
{
	return tu_unb64(tu_key(kind)->b64, len);
}

static char *
key_text(const char *type, const unsigned char *blob, size_t len,
    const char *comment)
{
	char *b64 = tu_b64(blob, len), *s;

	s = comment != NULL ? tu_printf("%s %s %s", type, b64, comment) :
	    tu_printf("%s %s", type, b64);
	free(b64);
	return s;
}

static void
test_every_key_type_is_rebuilt_from_its_parts(void **state)
{
	static const enum tu_keykind kinds[] = {
		TU_ED25519, TU_ECDSA256, TU_ECDSA384, TU_ECDSA521, TU_RSA2048,
		TU_SK_ED25519, TU_SK_ECDSA256,
	};
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k;
	struct kf_authkey key;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		k = tu_key(kinds[i]);
		if (kf_authkey_build(&pol, k->line, NULL, 0, TU_NOW, &key,
		    &why) != 0)
			fail_msg("%s refused: %s", k->type, why);
		/* "TYPE BASE64 COMMENT", the base64 exactly as given. */
		assert_string_equal(key.line, k->line);
		assert_string_equal(key.blob_b64, k->b64);
		kf_authkey_clear(&key);
	}
}

static void
test_key_type_names_round_trip(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < KF_KT_COUNT; i++)
		assert_int_equal(kf_keytype_from_name(kf_keytype_name(i)), i);
	assert_int_equal(kf_keytype_from_name("SSH-ED25519"), -1);
	assert_int_equal(kf_keytype_from_name("ssh-ed25519-cert-v01@openssh.com"), -1);
	assert_null(kf_keytype_name(KF_KT_COUNT));
	assert_null(kf_keytype_name(-1));
	for (i = 0; i < KF_OPT_COUNT; i++)
		assert_int_equal(kf_keyopt_from_name(kf_keyopt_name(i)), i);
	assert_int_equal(kf_keyopt_from_name("No-Pty"), KF_OPT_NO_PTY);
	assert_int_equal(kf_keyopt_from_name("frobnicate"), -1);
}

static void
test_comment_is_reduced_to_printable_ascii(void **state)
{
	static const struct {
		const char	*comment;
		const char	*want;
	} cases[] = {
		{ "alice@laptop", "alice@laptop" },
		{ "caf\xc3\xa9", "caf??" },
		{ "\xe2\x98\x83 snow", "??? snow" },
		{ "red\x1b[31m", "red?[31m" },
		{ "a\x01" "b\x7f" "c", "a?b?c" },
		{ "\x08\x08\x08\x08root", "????root" },
		{ "a \t  b\t\tc", "a b c" },
		{ "quote\"and'back\\slash", "quote\"and'back\\slash" },
	};
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	char *text, *want, *line;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = tu_printf("%s %s", k->text, cases[i].comment);
		want = tu_printf("%s %s", k->text, cases[i].want);
		line = build_ok(&pol, text, NULL, 0);
		assert_string_equal(line, want);
		free(line);
		free(want);
		free(text);
	}
}

static void
test_key_without_comment_has_no_trailing_blank(void **state)
{
	static const char *suffixes[] = { "", " ", "   ", "\t", " \t " };
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ECDSA256);
	char *text, *line;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		text = tu_printf("%s%s", k->text, suffixes[i]);
		line = build_ok(&pol, text, NULL, 0);
		assert_string_equal(line, k->text);
		free(line);
		free(text);
	}
}

static void
test_blanks_around_fields_are_normalized(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	char *text, *line;

	(void)state;
	text = tu_printf("  \t%s \t  %s\t  %s  ", k->type, k->b64, k->comment);
	line = build_ok(&pol, text, NULL, 0);
	assert_string_equal(line, k->line);
	free(line);
	free(text);
}

static void
test_long_comment_is_cut_to_256_characters(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	char *comment = tu_repeat('c', 1000), *text, *line, *want;

	(void)state;
	text = tu_printf("%s %s", k->text, comment);
	comment[256] = '\0';
	want = tu_printf("%s %s", k->text, comment);
	line = build_ok(&pol, text, NULL, 0);
	assert_string_equal(line, want);
	free(line);
	free(want);
	free(text);
	free(comment);
}

static void
test_truncated_blob_is_refused(void **state)
{
	static const enum tu_keykind kinds[] = {
		TU_ED25519, TU_ECDSA256, TU_RSA2048, TU_SK_ED25519,
		TU_SK_ECDSA256,
	};
	struct kf_key_policy pol = kf_key_policy_default();
	unsigned char *blob;
	size_t i, len, cut;
	char *text;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		blob = key_blob(kinds[i], &len);
		/* One byte short, and cut inside the first length field. */
		for (cut = 1; cut <= len - 2; cut += len - 3) {
			text = key_text(tu_key(kinds[i])->type, blob,
			    len - cut, "c");
			build_refused(&pol, text, NULL, 0, KF_ERR_KEY, NULL);
			free(text);
		}
		free(blob);
	}
}

static void
test_trailing_data_in_blob_is_refused(void **state)
{
	static const enum tu_keykind kinds[] = {
		TU_ED25519, TU_ECDSA384, TU_RSA2048, TU_SK_ECDSA256,
	};
	struct kf_key_policy pol = kf_key_policy_default();
	struct tu_blob b = { NULL, 0 };
	unsigned char *blob;
	size_t i, len;
	char *text;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		blob = key_blob(kinds[i], &len);
		tu_blob_bytes(&b, blob, len);
		tu_blob_cstring(&b, "extra");
		text = key_text(tu_key(kinds[i])->type, b.p, b.len, "c");
		build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "trailing data");
		free(text);
		tu_blob_free(&b);

		/* A single stray byte, too. */
		tu_blob_bytes(&b, blob, len);
		tu_blob_bytes(&b, "", 1);
		text = key_text(tu_key(kinds[i])->type, b.p, b.len, "c");
		build_refused(&pol, text, NULL, 0, KF_ERR_KEY, NULL);
		free(text);
		tu_blob_free(&b);
		free(blob);
	}
}

static void
test_blob_of_another_type_than_declared_is_refused(void **state)
{
	static const struct {
		enum tu_keykind	 blob;
		const char	*declared;
	} cases[] = {
		{ TU_ED25519, "ssh-rsa" },
		{ TU_ED25519, "sk-ssh-ed25519@openssh.com" },
		{ TU_SK_ED25519, "ssh-ed25519" },
		{ TU_RSA2048, "ssh-ed25519" },
		{ TU_ECDSA256, "ecdsa-sha2-nistp384" },
		{ TU_ECDSA521, "ecdsa-sha2-nistp256" },
		{ TU_SK_ECDSA256, "ecdsa-sha2-nistp256" },
		{ TU_DSA, "ssh-rsa" },
	};
	struct kf_key_policy pol = kf_key_policy_default();
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = tu_printf("%s %s c", cases[i].declared,
		    tu_key(cases[i].blob)->b64);
		build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "another type");
		free(text);
	}
}

static void
test_ecdsa_curve_must_match_the_key_type(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	unsigned char point[97];
	struct tu_blob b = { NULL, 0 };
	char *text;

	(void)state;
	memset(point, 0x5a, sizeof(point));
	point[0] = 0x04;

	/* A P-256 key claiming the P-384 curve inside its blob. */
	tu_blob_cstring(&b, "ecdsa-sha2-nistp256");
	tu_blob_cstring(&b, "nistp384");
	tu_blob_string(&b, point, 65);
	text = key_text("ecdsa-sha2-nistp256", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "curve");
	free(text);
	tu_blob_free(&b);

	tu_blob_cstring(&b, "ecdsa-sha2-nistp384");
	tu_blob_cstring(&b, "nistp256");
	tu_blob_string(&b, point, 97);
	text = key_text("ecdsa-sha2-nistp384", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "curve");
	free(text);
	tu_blob_free(&b);

	tu_blob_cstring(&b, "sk-ecdsa-sha2-nistp256@openssh.com");
	tu_blob_cstring(&b, "nistp384");
	tu_blob_string(&b, point, 65);
	tu_blob_cstring(&b, "ssh:");
	text = key_text("sk-ecdsa-sha2-nistp256@openssh.com", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "curve");
	free(text);
	tu_blob_free(&b);
}

static void
test_ecdsa_point_must_be_uncompressed_and_of_the_curve_size(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	unsigned char point[66];
	struct tu_blob b = { NULL, 0 };
	char *text, *line;

	(void)state;
	memset(point, 0x33, sizeof(point));

	/* The well-formed hand-built key is accepted... */
	point[0] = 0x04;
	tu_blob_cstring(&b, "ecdsa-sha2-nistp256");
	tu_blob_cstring(&b, "nistp256");
	tu_blob_string(&b, point, 65);
	text = key_text("ecdsa-sha2-nistp256", b.p, b.len, NULL);
	line = build_ok(&pol, text, NULL, 0);
	assert_string_equal(line, text);
	free(line);
	free(text);
	tu_blob_free(&b);

	/* ...a compressed point is not... */
	point[0] = 0x02;
	tu_blob_cstring(&b, "ecdsa-sha2-nistp256");
	tu_blob_cstring(&b, "nistp256");
	tu_blob_string(&b, point, 65);
	text = key_text("ecdsa-sha2-nistp256", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "malformed");
	free(text);
	tu_blob_free(&b);

	/* ...nor a point of the wrong length. */
	point[0] = 0x04;
	tu_blob_cstring(&b, "ecdsa-sha2-nistp256");
	tu_blob_cstring(&b, "nistp256");
	tu_blob_string(&b, point, 66);
	text = key_text("ecdsa-sha2-nistp256", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "malformed");
	free(text);
	tu_blob_free(&b);
}

static void
test_sk_key_needs_an_application(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	unsigned char pk[32];
	struct tu_blob b = { NULL, 0 };
	char *text;

	(void)state;
	memset(pk, 0x11, sizeof(pk));
	tu_blob_cstring(&b, "sk-ssh-ed25519@openssh.com");
	tu_blob_string(&b, pk, 32);
	text = key_text("sk-ssh-ed25519@openssh.com", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "malformed");
	free(text);
	tu_blob_cstring(&b, "");	/* an empty application */
	text = key_text("sk-ssh-ed25519@openssh.com", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "malformed");
	free(text);
	tu_blob_free(&b);
}

static void
test_ed25519_key_must_be_32_bytes(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	unsigned char pk[33];
	struct tu_blob b = { NULL, 0 };
	char *text;

	(void)state;
	memset(pk, 0x22, sizeof(pk));
	tu_blob_cstring(&b, "ssh-ed25519");
	tu_blob_string(&b, pk, 31);
	text = key_text("ssh-ed25519", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "malformed");
	free(text);
	tu_blob_free(&b);
	tu_blob_cstring(&b, "ssh-ed25519");
	tu_blob_string(&b, pk, 33);
	text = key_text("ssh-ed25519", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "malformed");
	free(text);
	tu_blob_free(&b);
}

static void
test_rsa_mpints_must_be_positive_and_minimal(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	unsigned char n[257], e[3] = { 0x01, 0x00, 0x01 };
	struct tu_blob b = { NULL, 0 };
	char *text, *line;

	(void)state;
	memset(n, 0xa5, sizeof(n));

	/* 2048 bits: a leading zero byte, then the top bit set. */
	n[0] = 0x00;
	tu_blob_cstring(&b, "ssh-rsa");
	tu_blob_string(&b, e, 3);
	tu_blob_string(&b, n, 257);
	text = key_text("ssh-rsa", b.p, b.len, NULL);
	line = build_ok(&pol, text, NULL, 0);
	assert_string_equal(line, text);
	free(line);
	free(text);
	tu_blob_free(&b);

	/* Negative: the top bit set without the leading zero. */
	tu_blob_cstring(&b, "ssh-rsa");
	tu_blob_string(&b, e, 3);
	tu_blob_string(&b, n + 1, 256);
	text = key_text("ssh-rsa", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, NULL);
	free(text);
	tu_blob_free(&b);

	/* A superfluous leading zero. */
	n[1] = 0x25;
	tu_blob_cstring(&b, "ssh-rsa");
	tu_blob_string(&b, e, 3);
	tu_blob_string(&b, n, 257);
	text = key_text("ssh-rsa", b.p, b.len, NULL);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, NULL);
	free(text);
	tu_blob_free(&b);
}

static void
test_bad_base64_is_refused(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ECDSA256);
	char *b64, *text, *pad;
	const char *p;
	size_t n;

	(void)state;
	/* The P-256 blob is 104 bytes: its base64 ends in one '='. */
	n = strlen(k->b64);
	assert_true(n > 2 && k->b64[n - 1] == '=' && k->b64[n - 2] != '=');

	/* A character outside the alphabet. */
	b64 = tu_xstrdup(k->b64);
	b64[10] = '!';
	text = tu_printf("%s %s", k->type, b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "base64");
	free(text);
	/* The URL-safe alphabet is not base64 here. */
	b64[10] = '-';
	text = tu_printf("%s %s", k->type, b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "base64");
	free(text);
	free(b64);

	/* Missing padding. */
	b64 = tu_xstrdup(k->b64);
	b64[n - 1] = '\0';
	text = tu_printf("%s %s", k->type, b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "base64");
	free(text);
	free(b64);

	/* Too much padding, and padding inside the data. */
	text = tu_printf("%s %s==", k->type, k->b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "base64");
	free(text);
	pad = tu_xstrdup(k->b64);
	pad[8] = '=';
	text = tu_printf("%s %s", k->type, pad);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "base64");
	free(text);
	free(pad);

	/*
	 * Non-canonical: the last data character carries 2 unused bits;
	 * setting one decodes to the same bytes and must still be refused.
	 */
	b64 = tu_xstrdup(k->b64);
	p = strchr(B64_ALPHABET, b64[n - 2]);
	assert_non_null(p);
	assert_int_equal((p - B64_ALPHABET) & 3, 0);	/* canonical as made */
	b64[n - 2] = B64_ALPHABET[(p - B64_ALPHABET) | 1];
	assert_string_not_equal(b64, k->b64);
	text = tu_printf("%s %s", k->type, b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "base64");
	free(text);
	free(b64);
}

static void
test_short_rsa_key_obeys_min_rsa_bits(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *short_rsa = tu_key(TU_RSA1024);
	const struct tu_key *rsa = tu_key(TU_RSA2048);
	char *line;

	(void)state;
	build_refused(&pol, short_rsa->line, NULL, 0, KF_ERR_KEY, "MinRSABits");

	pol.min_rsa_bits = 1024;
	line = build_ok(&pol, short_rsa->line, NULL, 0);
	assert_string_equal(line, short_rsa->line);
	free(line);

	pol.min_rsa_bits = 3072;
	build_refused(&pol, rsa->line, NULL, 0, KF_ERR_KEY, "MinRSABits");
	pol.min_rsa_bits = 2048;
	line = build_ok(&pol, rsa->line, NULL, 0);
	free(line);
}

static void
test_key_type_not_in_key_types_is_refused(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	char *line;

	(void)state;
	pol.types = 1u << KF_KT_ED25519;
	build_refused(&pol, tu_key(TU_ECDSA256)->line, NULL, 0, KF_ERR_KEY,
	    "KeyTypes");
	build_refused(&pol, tu_key(TU_RSA2048)->line, NULL, 0, KF_ERR_KEY,
	    "KeyTypes");
	build_refused(&pol, tu_key(TU_SK_ED25519)->line, NULL, 0, KF_ERR_KEY,
	    "KeyTypes");
	line = build_ok(&pol, tu_key(TU_ED25519)->line, NULL, 0);
	free(line);
}

static void
test_dsa_is_refused_unless_key_types_lists_it(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *dsa = tu_key(TU_DSA);
	char *line;

	(void)state;
	build_refused(&pol, dsa->line, NULL, 0, KF_ERR_KEY, "KeyTypes");
	pol.types |= 1u << KF_KT_DSA;
	line = build_ok(&pol, dsa->line, NULL, 0);
	assert_string_equal(line, dsa->line);
	free(line);
}

static void
test_malformed_entries_are_refused(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	char *text, *big;

	(void)state;
	build_refused(&pol, "", NULL, 0, KF_ERR_KEY, NULL);
	build_refused(&pol, "   ", NULL, 0, KF_ERR_KEY, NULL);
	build_refused(&pol, "ssh-ed25519", NULL, 0, KF_ERR_KEY, NULL);
	build_refused(&pol, k->b64, NULL, 0, KF_ERR_KEY, NULL);
	text = tu_printf("ssh-foo %s c", k->b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "unknown key type");
	free(text);
	text = tu_printf("ssh-ed25519-cert-v01@openssh.com %s c", k->b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "unknown key type");
	free(text);
	text = tu_printf("SSH-ED25519 %s c", k->b64);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "unknown key type");
	free(text);
	/* Options belong in "options", not in front of the key. */
	text = tu_printf("no-pty %s", k->line);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "unknown key type");
	free(text);
	big = tu_repeat('A', 20000);
	text = tu_printf("ssh-rsa %s c", big);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "too long");
	free(text);
	free(big);
}

static void
test_line_breaks_cannot_smuggle_in_another_key(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	const struct tu_key *evil = tu_key(TU_ECDSA256);
	char *text, *opts;

	(void)state;
	text = tu_printf("%s c\n%s", k->text, evil->line);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "line break");
	free(text);
	text = tu_printf("%s c\r%s", k->text, evil->line);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "line break");
	free(text);
	text = tu_printf("%s\n", k->line);
	build_refused(&pol, text, NULL, 0, KF_ERR_KEY, "line break");
	free(text);

	opts = tu_printf("no-pty\n%s", evil->line);
	build_refused(&pol, k->line, opts, 0, KF_ERR_KEY, "line break");
	free(opts);
	opts = tu_printf("command=\"x\r\n%s\"", evil->line);
	build_refused(&pol, k->line, opts, 0, KF_ERR_KEY, "line break");
	free(opts);
	/* A NUL ends the C string inside the quotes: unterminated. */
	build_refused(&pol, k->line, "command=\"ls\0\",no-pty", 0, KF_ERR_KEY,
	    "unterminated");
}

static void
test_allowed_options_are_kept_in_canonical_form(void **state)
{
	static const struct {
		const char	*options;
		const char	*want;
	} cases[] = {
		{ "no-pty", "no-pty" },
		{ "NO-PTY,No-Agent-Forwarding", "no-pty,no-agent-forwarding" },
		{ "from=\"10.0.0.0/8\"", "from=\"10.0.0.0/8\"" },
		{ "From=\"10.0.0.0/8,!10.1.0.0/16\",no-X11-forwarding",
		    "from=\"10.0.0.0/8,!10.1.0.0/16\",no-x11-forwarding" },
		{ "restrict,pty,command=\"/usr/bin/rsync --server\"",
		    "restrict,pty,command=\"/usr/bin/rsync --server\"" },
		{ "permitopen=\"db:5432\",permitlisten=\"8080\"",
		    "permitopen=\"db:5432\",permitlisten=\"8080\"" },
		{ "principals=\"a,b\",cert-authority",
		    "principals=\"a,b\",cert-authority" },
		{ "tunnel=\"0\",verify-required,no-touch-required",
		    "tunnel=\"0\",verify-required,no-touch-required" },
		{ "command=\"\"", "command=\"\"" },
		{ "", NULL },
	};
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	char *line, *want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		line = build_ok(&pol, k->line, cases[i].options, 0);
		want = cases[i].want != NULL ?
		    tu_printf("%s %s", cases[i].want, k->line) :
		    tu_xstrdup(k->line);
		assert_string_equal(line, want);
		free(want);
		free(line);
	}
}

static void
test_escaped_quote_inside_a_value_is_kept(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	const char *opts = "command=\"echo \\\"hi, there\\\"\",no-pty";
	char *line, *want;

	(void)state;
	line = build_ok(&pol, k->line, opts, 0);
	want = tu_printf("%s %s", opts, k->line);
	assert_string_equal(line, want);
	free(want);
	free(line);
}

static void
test_options_not_in_key_options_strip_grants_drop_restrictions(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	const char *opts = "environment=\"LD_PRELOAD=/tmp/x.so\",no-pty";
	char *line, *want;

	(void)state;
	/* The default policy: every option but environment. */
	line = build_ok(&pol, k->line, opts, 0);
	want = tu_printf("no-pty %s", k->line);
	assert_string_equal(line, want);
	free(want);
	free(line);

	line = build_ok(&pol, k->line, "environment=\"A=b\"", 0);
	assert_string_equal(line, k->line);
	free(line);

	/* KeyOptions listing environment lets it through. */
	pol.options |= 1u << KF_OPT_ENVIRONMENT;
	line = build_ok(&pol, k->line, opts, 0);
	want = tu_printf("%s %s", opts, k->line);
	assert_string_equal(line, want);
	free(want);
	free(line);

	/* KeyOptions none: options that only grant are stripped... */
	pol.options = 0;
	line = build_ok(&pol, k->line, "pty,agent-forwarding,environment=\"A=b\"",
	    0);
	assert_string_equal(line, k->line);
	free(line);

	/*
	 * ...but stripping a restriction would serve the key with more power
	 * than the API gave it: such a key is dropped instead.
	 */
	build_refused(&pol, k->line, "no-pty", 0, KF_ERR_KEY, "KeyOptions");
	build_refused(&pol, k->line, "command=\"x\"", 0, KF_ERR_KEY,
	    "KeyOptions");
	build_refused(&pol, k->line, "from=\"1.2.3.4\"", 0, KF_ERR_KEY,
	    "KeyOptions");
	build_refused(&pol, k->line, "restrict,pty", 0, KF_ERR_KEY,
	    "KeyOptions");
	build_refused(&pol, k->line, "cert-authority", 0, KF_ERR_KEY,
	    "KeyOptions");
}

static void
test_bad_options_drop_the_key(void **state)
{
	static const struct {
		const char	*options;
		const char	*why;
	} cases[] = {
		{ "frobnicate", "unknown option" },
		{ "no-pty,frobnicate", "unknown option" },
		{ "command=\"ls", "unterminated" },
		{ "from=\"10.0.0.1,no-pty", "unterminated" },
		{ "command=\"echo \\\"", "unterminated" },
		{ "command", "needs a value" },
		{ "no-pty,from", "needs a value" },
		{ "from=", "malformed" },
		{ "from=10.0.0.1", "malformed" },
		{ "from='10.0.0.1'", "malformed" },
		{ "no-pty=\"yes\"", "malformed" },
		{ "no-pty,", "malformed" },
		{ ",no-pty", "malformed" },
		{ "no-pty,,restrict", "malformed" },
		{ "no-pty, restrict", "malformed" },
		{ "no-pty restrict", "malformed" },
		{ "command=\"a\"x", "malformed" },
		{ "command=\"a\"\"b\"", "malformed" },
		{ "\"no-pty\"", "malformed" },
		{ "command=\"a\x01" "b\"", "non-printable" },
		{ "command=\"a\tb\"", "non-printable" },
		{ "command=\"caf\xc3\xa9\"", "non-printable" },
		{ "no_pty", "unknown option" },
	};
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		build_refused(&pol, k->line, cases[i].options, 0, KF_ERR_KEY,
		    cases[i].why);
	/* Bad syntax drops the key even when KeyOptions strips the option. */
	pol.options = 0;
	build_refused(&pol, k->line, "command=\"ls", 0, KF_ERR_KEY, NULL);
	build_refused(&pol, k->line, "frobnicate", 0, KF_ERR_KEY, NULL);
}

static void
test_expired_key_is_refused(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);

	(void)state;
	build_refused(&pol, k->line, NULL, TU_NOW - 1, KF_ERR_EXPIRED, NULL);
	build_refused(&pol, k->line, NULL, TU_NOW, KF_ERR_EXPIRED, NULL);
	build_refused(&pol, k->line, "no-pty", 1, KF_ERR_EXPIRED, NULL);
}

static void
test_future_expiry_is_emitted_as_expiry_time_in_utc(void **state)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const struct tu_key *k = tu_key(TU_ED25519);
	char *line, *want;

	(void)state;
	line = build_ok(&pol, k->line, NULL, 1795000000);
	want = tu_printf("expiry-time=\"20261118110640Z\" %s", k->line);
	assert_string_equal(line, want);
	free(want);
	free(line);

	line = build_ok(&pol, k->line, "no-pty", TU_NOW + 1);
	want = tu_printf("no-pty,expiry-time=\"20260921141321Z\" %s", k->line);
	assert_string_equal(line, want);
	free(want);
	free(line);

	/* sshd enforces it even when KeyOptions strips every option. */
	pol.options = 0;
	line = build_ok(&pol, k->line, "pty", 2000000000);
	want = tu_printf("expiry-time=\"20330518033320Z\" %s", k->line);
	assert_string_equal(line, want);
	free(want);
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_type_is_rebuilt_from_its_parts),
		cmocka_unit_test(test_key_type_names_round_trip),
		cmocka_unit_test(test_comment_is_reduced_to_printable_ascii),
		cmocka_unit_test(test_key_without_comment_has_no_trailing_blank),
		cmocka_unit_test(test_blanks_around_fields_are_normalized),
		cmocka_unit_test(test_long_comment_is_cut_to_256_characters),
		cmocka_unit_test(test_truncated_blob_is_refused),
		cmocka_unit_test(test_trailing_data_in_blob_is_refused),
		cmocka_unit_test(test_blob_of_another_type_than_declared_is_refused),
		cmocka_unit_test(test_ecdsa_curve_must_match_the_key_type),
		cmocka_unit_test(test_ecdsa_point_must_be_uncompressed_and_of_the_curve_size),
		cmocka_unit_test(test_sk_key_needs_an_application),
		cmocka_unit_test(test_ed25519_key_must_be_32_bytes),
		cmocka_unit_test(test_rsa_mpints_must_be_positive_and_minimal),
		cmocka_unit_test(test_bad_base64_is_refused),
		cmocka_unit_test(test_short_rsa_key_obeys_min_rsa_bits),
		cmocka_unit_test(test_key_type_not_in_key_types_is_refused),
		cmocka_unit_test(test_dsa_is_refused_unless_key_types_lists_it),
		cmocka_unit_test(test_malformed_entries_are_refused),
		cmocka_unit_test(test_line_breaks_cannot_smuggle_in_another_key),
		cmocka_unit_test(test_allowed_options_are_kept_in_canonical_form),
		cmocka_unit_test(test_escaped_quote_inside_a_value_is_kept),
		cmocka_unit_test(test_options_not_in_key_options_strip_grants_drop_restrictions),
		cmocka_unit_test(test_bad_options_drop_the_key),
		cmocka_unit_test(test_expired_key_is_refused),
		cmocka_unit_test(test_future_expiry_is_emitted_as_expiry_time_in_utc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
