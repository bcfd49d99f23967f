/* fuzz.c - the parts keyfleet's libFuzzer targets share. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfleet.h"
#include "b64.h"
#include "fuzz.h"
#include "sigkeys.h"

/*
 * The fuzz binaries are linked with -Wl,--wrap=open, so the library's
 * open(2) comes here: a configuration may name any path, and a fuzzer
 * must not open a device whose open alone does something.
 */
int	__real_open(const char *path, int flags, ...);
int	__wrap_open(const char *path, int flags, ...);

static int confined;

int
__wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (confined && (strncmp(path, FUZZ_DIR "/", sizeof(FUZZ_DIR)) != 0 ||
	    strstr(path, "/..") != NULL)) {
		errno = ENOENT;
		return -1;
	}
	return __real_open(path, flags, mode);
}

void
fuzz_confine(int on)
{
	confined = on;
}

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

/*
 * One event, one line: kf_log() promises it whatever it was given.  With
 * FUZZ_LOG set in the environment (to replay an input), it is printed.
 */
static void
log_sink(void *arg, int priority, const char *msg)
{
	const char *p;

	(void)arg;
	for (p = msg; *p != '\0'; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	if (getenv("FUZZ_LOG") != NULL)
		fprintf(stderr, "log %d: %s\n", priority, msg);
}

static time_t
fixed_now(void)
{
	return FUZZ_NOW;
}

struct kf_ctx *
fuzz_ctx(void)
{
	static struct kf_ctx *ctx;

	if (ctx == NULL) {
		FUZZ_CHECK(kf_ctx_new(&ctx) == 0);
		kf_ctx_set_log(ctx, log_sink, NULL);
		kf_ctx_set_verbosity(ctx, 2);
		ctx->now = fixed_now;
	}
	return ctx;
}

/* Writes a file of FUZZ_DIR atomically: parallel jobs share them. */
static void
put_file(const char *name, const char *text, mode_t mode)
{
	char path[256], tmp[300];
	size_t n = strlen(text);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", FUZZ_DIR, name);
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	FUZZ_CHECK(fd != -1);
	FUZZ_CHECK(write(fd, text, n) == (ssize_t)n);
	FUZZ_CHECK(fchmod(fd, mode) == 0);
	FUZZ_CHECK(close(fd) == 0);
	FUZZ_CHECK(rename(tmp, path) == 0);
}

void
fuzz_files(void)
{
	static int done;
	struct stat st;

	if (done)
		return;
	if (mkdir(FUZZ_DIR, 0700) != 0 && errno != EEXIST) {
		perror("mkdir " FUZZ_DIR);
		abort();
	}
	/* Somebody else's directory would decide what the targets read. */
	if (lstat(FUZZ_DIR, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		fprintf(stderr, "%s: not a private directory of ours\n",
		    FUZZ_DIR);
		abort();
	}
	put_file("ed25519.pem", FUZZ_ED25519_PEM, 0644);
	put_file("p256.pem", FUZZ_P256_PEM, 0644);
	put_file("both.pem", FUZZ_ED25519_PEM FUZZ_P256_PEM, 0644);
	/* CAFile is only checked, never read, before a fetch. */
	put_file("ca.pem", "-----BEGIN CERTIFICATE-----\n"
	    "-----END CERTIFICATE-----\n", 0644);
	put_file("token", "fuzz-token-0123456789\n", 0600);
	put_file("client.key", "not a key, only checked for its mode\n",
	    0600);
	done = 1;
}

struct kf_config *
fuzz_config(const char *text)
{
	struct kf_config *cfg;
	int r;

	fuzz_files();
	fuzz_confine(1);
	r = kf_config_parse(fuzz_ctx(), "fuzz.conf", text, strlen(text), &cfg);
	fuzz_confine(0);
	FUZZ_CHECK(r == 0);
	return cfg;
}

struct kf_key_policy
fuzz_policy_strict(void)
{
	struct kf_key_policy p;

	p.types = (1u << KF_KT_ED25519) | (1u << KF_KT_ECDSA_P256) |
	    (1u << KF_KT_SK_ED25519) | (1u << KF_KT_RSA) | (1u << KF_KT_DSA);
	p.options = (1u << KF_OPT_NO_PTY) | (1u << KF_OPT_FROM) |
	    (1u << KF_OPT_COMMAND) | (1u << KF_OPT_RESTRICT) |
	    (1u << KF_OPT_ENVIRONMENT);
	p.min_rsa_bits = 3072;
	return p;
}

volatile size_t fuzz_touched;

void
fuzz_touch(const char *s)
{
	FUZZ_CHECK(s != NULL);
	fuzz_touched += strlen(s);
}

void
fuzz_check_why(int r, const char *why)
{
	if (r == 0 || r == KF_ERR_NOMEM)
		return;
	FUZZ_CHECK(why != NULL && strlen(why) > 0);
}

/* Length of the blank-free word at p. */
static size_t
word(const char *p)
{
	return strcspn(p, " \t");
}

/* The key type named by the n bytes at p, or -1. */
static int
keytype_at(const char *p, size_t n)
{
	char name[64];

	if (n >= sizeof(name))
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	return kf_keytype_from_name(name);
}

void
fuzz_check_key(const struct kf_key_policy *policy,
    const struct kf_authkey *key)
{
	struct kf_authkey again;
	const char *line = key->line, *p, *why;
	size_t n;
	int quoted = 0, t, r;

	FUZZ_CHECK(line != NULL && key->blob_b64 != NULL);
	for (p = line; *p != '\0'; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	FUZZ_CHECK(line[0] != ' ' && line[strlen(line) - 1] != ' ');

	/* As sshd reads it: options unless the first word is a key type. */
	p = line;
	if (keytype_at(p, word(p)) < 0) {
		/* sshkey_advance_past_options() */
		for (; *p != '\0' && (quoted || (*p != ' ' && *p != '\t'));
		    p++) {
			if (*p == '\\' && p[1] == '"')
				p++;
			else if (*p == '"')
				quoted = !quoted;
		}
		FUZZ_CHECK(!quoted && *p == ' ');
		p++;
	}
	n = word(p);
	t = keytype_at(p, n);
	FUZZ_CHECK(t >= 0 && (policy->types & (1u << t)) != 0);
	FUZZ_CHECK(p[n] == ' ');
	FUZZ_CHECK(word(p + n + 1) == strlen(key->blob_b64) &&
	    strncmp(p + n + 1, key->blob_b64, strlen(key->blob_b64)) == 0);

	/* Built again from what sshd gets, the key part comes out the same. */
	r = kf_authkey_build(policy, p, NULL, 0, FUZZ_NOW, &again, &why);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(strcmp(again.line, p) == 0);
	FUZZ_CHECK(strcmp(again.blob_b64, key->blob_b64) == 0);
	kf_authkey_clear(&again);
}

static int
is_b64(uint8_t c, int url)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return url ? c == '-' || c == '_' : c == '+' || c == '/' || c == '=';
}

size_t
fuzz_mutate_b64(uint8_t *data, size_t size, size_t max_size, unsigned seed,
    int url)
{
	size_t start[64], len[64], n = 0, i, j, k, cap, total = 0;
	struct kf_buf dec, enc;
	uint8_t *raw = NULL;

	for (i = 0; i < size && n < 64; i = j + 1) {
		for (j = i; j < size && is_b64(data[j], url); j++)
			;
		if (j - i >= 8) {
			start[n] = i;
			len[n++] = j - i;
		}
	}
	if (n == 0)
		return 0;
	k = seed % n;
	kf_buf_init(&dec, 0);
	kf_buf_init(&enc, 0);
	if ((url ? kf_b64url_decode((char *)data + start[k], len[k], &dec) :
	    kf_b64_decode((char *)data + start[k], len[k], &dec)) != 0 ||
	    dec.len == 0)
		goto out;
	cap = dec.len * 2 + 64;
	if ((raw = malloc(cap)) == NULL)
		goto out;
	memcpy(raw, dec.data, dec.len);
	if (kf_b64_encode(raw, LLVMFuzzerMutate(raw, dec.len, cap), &enc) != 0)
		goto out;
	if (url) {
		for (i = 0; i < enc.len; i++) {
			if (enc.data[i] == '+')
				enc.data[i] = '-';
			else if (enc.data[i] == '/')
				enc.data[i] = '_';
		}
		while (enc.len > 0 && enc.data[enc.len - 1] == '=')
			enc.len--;
	}
	if (size - len[k] + enc.len > max_size)
		goto out;
	memmove(data + start[k] + enc.len, data + start[k] + len[k],
	    size - start[k] - len[k]);
	memcpy(data + start[k], enc.data, enc.len);
	total = size - len[k] + enc.len;
 out:
	free(raw);
	kf_buf_free(&dec);
	kf_buf_free(&enc);
	return total;
}
