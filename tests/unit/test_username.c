/*
 * test_username.c - which user names keyfleet asks the API about (SPEC 3):
 * ^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$, plus '@' and '+' after the first
 * character for e-mail-like names of at most 64 characters.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void
test_ordinary_names_are_accepted(void **state)
{
	static const char *names[] = {
		"a", "Z", "0", "_", "alice", "Alice", "alice.smith",
		"alice_smith", "alice-smith", "alice-", "a.b.c", "_svc",
		".alice", "1000", "x86_64", "svc-backup.01", "AbC09._-",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!kf_username_valid(names[i]))
			fail_msg("\"%s\" refused, want accepted", names[i]);
	}
}

static void
test_email_like_names_are_accepted(void **state)
{
	static const char *names[] = {
		"alice@example.com", "first.last+tag@example.com", "a@b",
		"a+b", "a+b@c.d", "alice@@example.com", "alice@", "alice+",
		"a-b@sub-domain.example.org",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!kf_username_valid(names[i]))
			fail_msg("\"%s\" refused, want accepted", names[i]);
	}
}

static void
test_names_with_other_characters_are_refused(void **state)
{
	static const char *names[] = {
		/* leading characters only allowed later */
		"-alice", "@alice", "+alice", "-", "@", "+",
		/* path and URL syntax */
		"a/b", "../etc/passwd", "/", "a\\b", "a?b", "a#b", "a%b",
		"%u", "%H", "%%", "a%2Fb", "a:b", "a;b", "a=b", "a&b",
		/* whitespace and control characters */
		"a b", " alice", "alice ", "\talice", "alice\t", "alice\n",
		"alice\r", "al\x01ice", "alice\x7f", "\x1b[31malice",
		/* shell and quoting */
		"a*b", "a$b", "a|b", "a'b", "a\"b", "a`b", "a(b)", "a,b",
		"a~b", "~alice", "a!b", "a<b>", "a[0]", "a{b}",
		/* non-ASCII: UTF-8 and stray bytes */
		"j\xc3\xbcrgen", "\xc3\xbc", "alice\xff", "\xe2\x80\x8b" "alice",
		"al\xd1\x96" "ce",
		/* dot segments would change a URL's path */
		".", "..",
		/* nothing before the terminator */
		"", "\0alice",
	};
	size_t i;

	(void)state;
	assert_false(kf_username_valid(NULL));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (kf_username_valid(names[i]))
			fail_msg("name %zu (\"%s\") accepted, want refused", i,
			    names[i]);
	}
}

static void
test_names_made_of_dots_but_not_dot_segments_are_accepted(void **state)
{
	(void)state;
	assert_true(kf_username_valid("..."));
	assert_true(kf_username_valid("..a"));
	assert_true(kf_username_valid("a.."));
}

static void
test_plain_names_are_at_most_32_characters(void **state)
{
	char *n32 = tu_repeat('a', 32), *n33 = tu_repeat('a', 33);
	char *h33 = tu_repeat('b', 33), *n64 = tu_repeat('c', 64);

	(void)state;
	assert_true(kf_username_valid(n32));
	assert_false(kf_username_valid(n33));
	h33[10] = '-';		/* '-' does not make a name e-mail-like */
	assert_false(kf_username_valid(h33));
	h33[10] = '.';
	assert_false(kf_username_valid(h33));
	assert_false(kf_username_valid(n64));
	free(n32);
	free(n33);
	free(h33);
	free(n64);
}

static void
test_email_like_names_are_at_most_64_characters(void **state)
{
	char *e33 = tu_repeat('a', 33), *e64 = tu_repeat('a', 64);
	char *e65 = tu_repeat('a', 65), *p64 = tu_repeat('p', 64);
	char *big = tu_repeat('a', 4096);

	(void)state;
	e33[5] = '@';
	assert_true(kf_username_valid(e33));
	memcpy(e64 + 52, "@example.com", 12);	/* 64 in all */
	assert_int_equal(strlen(e64), 64);
	assert_true(kf_username_valid(e64));
	memcpy(e65 + 53, "@example.com", 12);
	assert_int_equal(strlen(e65), 65);
	assert_false(kf_username_valid(e65));
	p64[1] = '+';
	assert_true(kf_username_valid(p64));
	big[1] = '@';
	assert_false(kf_username_valid(big));
	free(e33);
	free(e64);
	free(e65);
	free(p64);
	free(big);
}

static void
test_every_single_byte_follows_the_rule(void **state)
{
	char first[3] = { 0, 0, 0 }, later[3] = { 'a', 0, 0 };
	int c, want_first, want_later;

	(void)state;
	for (c = 1; c < 256; c++) {
		want_first = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_';
		want_later = want_first || c == '-' || c == '@' || c == '+';
		first[0] = (char)c;
		later[1] = (char)c;
		/* "." alone is a dot segment, refused; ".x" is not. */
		if (c == '.') {
			first[1] = 'x';
			assert_true(kf_username_valid(first));
			first[1] = '\0';
		} else if (kf_username_valid(first) != want_first)
			fail_msg("byte 0x%02x as first character: got %d",
			    c, !want_first);
		if (kf_username_valid(later) != want_later)
			fail_msg("byte 0x%02x after 'a': got %d", c,
			    !want_later);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_names_are_accepted),
		cmocka_unit_test(test_email_like_names_are_accepted),
		cmocka_unit_test(test_names_with_other_characters_are_refused),
		cmocka_unit_test(test_names_made_of_dots_but_not_dot_segments_are_accepted),
		cmocka_unit_test(test_plain_names_are_at_most_32_characters),
		cmocka_unit_test(test_email_like_names_are_at_most_64_characters),
		cmocka_unit_test(test_every_single_byte_follows_the_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
