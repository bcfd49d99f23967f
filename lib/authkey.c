/*
 * authkey.c - key entries from the API, checked and rebuilt for sshd.
 *
 * Nothing from the API is copied to sshd as it came: the key type must be
 * one keyfleet knows and the configuration accepts, the blob is decoded and
 * its structure checked against that type, the options are parsed with
 * sshd's grammar and filtered by KeyOptions, and the comment is reduced to
 * printable ASCII.  The output line is then assembled from those parts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyfleet.h"
#include "authkey.h"
#include "b64.h"
#include "util.h"

#define KF_KEY_TEXT_MAX		16384	/* a 16384-bit RSA key fits */
#define KF_KEY_COMMENT_MAX	256
#define KF_KEY_OPTIONS_MAX	4096

static const struct {
	const char	*name;
	const char	*curve;		/* ECDSA curve name inside the blob */
	size_t		 point_len;	/* ECDSA uncompressed point length */
	int		 deprecated;	/* left out of the default KeyTypes */
} keytypes[KF_KT_COUNT] = {
	[KF_KT_ED25519] = { "ssh-ed25519", NULL, 0, 0 },
	[KF_KT_ECDSA_P256] = { "ecdsa-sha2-nistp256", "nistp256", 65, 0 },
	[KF_KT_ECDSA_P384] = { "ecdsa-sha2-nistp384", "nistp384", 97, 0 },
	[KF_KT_ECDSA_P521] = { "ecdsa-sha2-nistp521", "nistp521", 133, 0 },
	[KF_KT_SK_ED25519] = { "sk-ssh-ed25519@openssh.com", NULL, 0, 0 },
	[KF_KT_SK_ECDSA_P256] =
	    { "sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", 65, 0 },
	[KF_KT_RSA] = { "ssh-rsa", NULL, 0, 0 },
	[KF_KT_DSA] = { "ssh-dss", NULL, 0, 1 },
};

/*
 * The option names sshd's auth-options.c accepts; valued ones take ="...".
 * A "grants" option only adds a capability, so removing it (when KeyOptions
 * does not allow it) leaves the key weaker than the API asked for.  Every
 * other option restricts the key or changes what it is; removing one of
 * those would hand out more than the API granted, so such a key is
 * dropped instead.
 */
static const struct {
	const char	*name;
	int		 valued;
	int		 grants;
} keyopts[KF_OPT_COUNT] = {
	[KF_OPT_AGENT_FORWARDING] = { "agent-forwarding", 0, 1 },
	[KF_OPT_CERT_AUTHORITY] = { "cert-authority", 0, 0 },
	[KF_OPT_COMMAND] = { "command", 1, 0 },
	[KF_OPT_ENVIRONMENT] = { "environment", 1, 1 },
	[KF_OPT_EXPIRY_TIME] = { "expiry-time", 1, 0 },
	[KF_OPT_FROM] = { "from", 1, 0 },
	[KF_OPT_NO_AGENT_FORWARDING] = { "no-agent-forwarding", 0, 0 },
	[KF_OPT_NO_PORT_FORWARDING] = { "no-port-forwarding", 0, 0 },
	[KF_OPT_NO_PTY] = { "no-pty", 0, 0 },
	[KF_OPT_NO_TOUCH_REQUIRED] = { "no-touch-required", 0, 1 },
	[KF_OPT_NO_USER_RC] = { "no-user-rc", 0, 0 },
	[KF_OPT_NO_X11_FORWARDING] = { "no-x11-forwarding", 0, 0 },
	[KF_OPT_PERMITLISTEN] = { "permitlisten", 1, 0 },
	[KF_OPT_PERMITOPEN] = { "permitopen", 1, 0 },
	[KF_OPT_PORT_FORWARDING] = { "port-forwarding", 0, 1 },
	[KF_OPT_PRINCIPALS] = { "principals", 1, 0 },
	[KF_OPT_PTY] = { "pty", 0, 1 },
	[KF_OPT_RESTRICT] = { "restrict", 0, 0 },
	[KF_OPT_TUNNEL] = { "tunnel", 1, 0 },
	[KF_OPT_USER_RC] = { "user-rc", 0, 1 },
	[KF_OPT_VERIFY_REQUIRED] = { "verify-required", 0, 0 },
	[KF_OPT_X11_FORWARDING] = { "x11-forwarding", 0, 1 },
};

/* A cursor over an SSH wire-format blob (RFC 4251 section 5). */
struct sshblob {
	const unsigned char	*p;
	size_t			 left;
};

static int
blob_string(struct sshblob *b, const unsigned char **data, size_t *len)
{
	size_t n;

	if (b->left < 4)
		return -1;
	n = ((size_t)b->p[0] << 24) | ((size_t)b->p[1] << 16) |
	    ((size_t)b->p[2] << 8) | (size_t)b->p[3];
	if (n > b->left - 4)
		return -1;
	*data = b->p + 4;
	*len = n;
	b->p += 4 + n;
	b->left -= 4 + n;
	return 0;
}

static int
blob_string_eq(struct sshblob *b, const char *want)
{
	const unsigned char *s;
	size_t n;

	if (blob_string(b, &s, &n) != 0)
		return 0;
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/*
 * Reads a positive mpint and returns its size in bits (0 for a malformed
 * or non-positive one): no sign bit, no superfluous leading zero byte.
 */
static unsigned long
blob_mpint_bits(struct sshblob *b)
{
	const unsigned char *s;
	size_t n;
	unsigned long bits;
	unsigned char top;

	if (blob_string(b, &s, &n) != 0 || n == 0 || (s[0] & 0x80) != 0)
		return 0;
	if (s[0] == 0) {
		if (n == 1 || (s[1] & 0x80) == 0)
			return 0;
		s++;
		n--;
	}
	if (n > 16384 / 8 + 1)
		return 0;
	bits = (unsigned long)n * 8;
	for (top = s[0]; (top & 0x80) == 0; top = (unsigned char)(top << 1))
		bits--;
	return bits;
}

static int
check_blob(const struct kf_key_policy *policy, int type,
    const unsigned char *blob, size_t len, const char **why)
{
	struct sshblob b = { blob, len };
	const unsigned char *s;
	size_t n;
	unsigned long bits;
	int i;

	*why = "malformed key blob";
	if (!blob_string_eq(&b, keytypes[type].name)) {
		*why = "key blob is of another type than declared";
		return KF_ERR_KEY;
	}
	switch (type) {
	case KF_KT_ED25519:
	case KF_KT_SK_ED25519:
		if (blob_string(&b, &s, &n) != 0 || n != 32)
			return KF_ERR_KEY;
		break;
	case KF_KT_ECDSA_P256:
	case KF_KT_ECDSA_P384:
	case KF_KT_ECDSA_P521:
	case KF_KT_SK_ECDSA_P256:
		if (!blob_string_eq(&b, keytypes[type].curve)) {
			*why = "ECDSA curve does not match the key type";
			return KF_ERR_KEY;
		}
		if (blob_string(&b, &s, &n) != 0 ||
		    n != keytypes[type].point_len || s[0] != 0x04)
			return KF_ERR_KEY;
		break;
	case KF_KT_RSA:
		/* e, then n */
		if ((bits = blob_mpint_bits(&b)) == 0 || bits > 64)
			return KF_ERR_KEY;
		if ((bits = blob_mpint_bits(&b)) == 0)
			return KF_ERR_KEY;
		if (bits < policy->min_rsa_bits) {
			*why = "RSA key is shorter than MinRSABits";
			return KF_ERR_KEY;
		}
		break;
	case KF_KT_DSA:
		for (i = 0; i < 4; i++) {	/* p, q, g, y */
			if (blob_mpint_bits(&b) == 0)
				return KF_ERR_KEY;
		}
		break;
	default:
		return KF_ERR_KEY;
	}
	if (type == KF_KT_SK_ED25519 || type == KF_KT_SK_ECDSA_P256) {
		/* The FIDO application, "ssh:" by default. */
		if (blob_string(&b, &s, &n) != 0 || n == 0 || n > 256)
			return KF_ERR_KEY;
	}
	if (b.left != 0) {
		*why = "trailing data in key blob";
		return KF_ERR_KEY;
	}
	*why = NULL;
	return 0;
}

/*
 * Parses options with sshd's grammar (auth-options.c): a comma-separated
 * list of NAME or NAME="VALUE", where \" inside a value is a literal quote.
 * Allowed options are appended to out, in their canonical lower-case name
 * and with the value exactly as given, followed by a comma.
 */
static int
rebuild_options(const struct kf_key_policy *policy, const char *opts,
    struct kf_buf *out, const char **why)
{
	const char *p = opts, *name, *val, *vend = NULL;
	size_t nlen;
	char lname[32];
	int opt, r;

	if (strlen(opts) > KF_KEY_OPTIONS_MAX) {
		*why = "options too long";
		return KF_ERR_KEY;
	}
	while (*p != '\0') {
		name = p;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-')
			p++;
		nlen = (size_t)(p - name);
		if (nlen == 0 || nlen >= sizeof(lname)) {
			*why = "malformed options";
			return KF_ERR_KEY;
		}
		memcpy(lname, name, nlen);
		lname[nlen] = '\0';
		if ((opt = kf_keyopt_from_name(lname)) < 0) {
			*why = "unknown option";
			return KF_ERR_KEY;
		}
		val = NULL;
		if (*p == '=') {
			if (!keyopts[opt].valued || p[1] != '"') {
				*why = "malformed option value";
				return KF_ERR_KEY;
			}
			val = p + 1;
			for (p += 2; *p != '"'; p++) {
				if (*p == '\\' && p[1] == '"')
					p++;
				else if (*p == '\0' ||
				    (unsigned char)*p < 0x20 ||
				    (unsigned char)*p > 0x7e) {
					*why = "unterminated or non-printable option value";
					return KF_ERR_KEY;
				}
			}
			vend = ++p;
		} else if (keyopts[opt].valued) {
			*why = "option needs a value";
			return KF_ERR_KEY;
		}
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0') {
			*why = "malformed options";
			return KF_ERR_KEY;
		}
		if ((policy->options & (1u << opt)) == 0) {
			if (keyopts[opt].grants)
				continue;	/* the key stays, weaker */
			*why = "a restricting option not allowed by KeyOptions";
			return KF_ERR_KEY;
		}
		if ((r = kf_buf_puts(out, keyopts[opt].name)) != 0)
			return r;
		if (val != NULL) {
			/* From the opening quote to past the closing one. */
			if ((r = kf_buf_putc(out, '=')) != 0 ||
			    (r = kf_buf_append(out, val,
			    (size_t)(vend - val))) != 0)
				return r;
		}
		if ((r = kf_buf_putc(out, ',')) != 0)
			return r;
	}
	return 0;
}

static int
append_comment(struct kf_buf *out, const char *c)
{
	size_t n = 0;
	int space = 0, r;

	for (; *c != '\0' && n < KF_KEY_COMMENT_MAX; c++) {
		if (*c == ' ' || *c == '\t') {
			space = 1;
			continue;
		}
		if (space && n > 0) {
			if ((r = kf_buf_putc(out, ' ')) != 0)
				return r;
			n++;
		}
		space = 0;
		/* Anything but printable ASCII is shown as '?'. */
		r = kf_buf_putc(out, (unsigned char)*c > 0x20 &&
		    (unsigned char)*c < 0x7f ? *c : '?');
		if (r != 0)
			return r;
		n++;
	}
	return 0;
}

int
kf_keytype_from_name(const char *name)
{
	int i;

	for (i = 0; i < KF_KT_COUNT; i++) {
		if (strcmp(name, keytypes[i].name) == 0)
			return i;
	}
	return -1;
}

const char *
kf_keytype_name(int type)
{
	return type >= 0 && type < KF_KT_COUNT ? keytypes[type].name : NULL;
}

uint32_t
kf_keytypes_default(void)
{
	uint32_t mask = 0;
	int i;

	for (i = 0; i < KF_KT_COUNT; i++) {
		if (!keytypes[i].deprecated)
			mask |= 1u << i;
	}
	return mask;
}

int
kf_keyopt_from_name(const char *name)
{
	int i;

	for (i = 0; i < KF_OPT_COUNT; i++) {
		if (kf_strcaseeq(name, keyopts[i].name))
			return i;
	}
	return -1;
}

const char *
kf_keyopt_name(int opt)
{
	return opt >= 0 && opt < KF_OPT_COUNT ? keyopts[opt].name : NULL;
}

uint32_t
kf_keyopts_default(void)
{
	return ((1u << KF_OPT_COUNT) - 1) & ~(1u << KF_OPT_ENVIRONMENT);
}

struct kf_key_policy
kf_key_policy_default(void)
{
	struct kf_key_policy p;

	p.types = kf_keytypes_default();
	p.options = kf_keyopts_default();
	p.min_rsa_bits = 2048;
	return p;
}

void
kf_authkey_clear(struct kf_authkey *key)
{
	free(key->line);
	free(key->blob_b64);
	key->line = key->blob_b64 = NULL;
}

int
kf_authkey_build(const struct kf_key_policy *policy, const char *text,
    const char *options, int64_t expires, time_t now,
    struct kf_authkey *key, const char **why)
{
	struct kf_buf blob, line, b64;
	char tname[64], stamp[32];
	const char *p, *t, *k;
	size_t tlen, klen;
	struct tm tm;
	time_t et;
	int type, r = KF_ERR_KEY;

	memset(key, 0, sizeof(*key));
	kf_buf_init(&blob, KF_KEY_TEXT_MAX);
	kf_buf_init(&line, 0);
	kf_buf_init(&b64, 0);
	*why = NULL;

	if (strlen(text) > KF_KEY_TEXT_MAX) {
		*why = "key entry too long";
		goto out;
	}
	/* A line break or NUL would let one entry smuggle in another line. */
	if (strpbrk(text, "\r\n") != NULL ||
	    (options != NULL && strpbrk(options, "\r\n") != NULL)) {
		*why = "line break in key entry";
		goto out;
	}
	if (expires != 0 && expires <= (int64_t)now) {
		*why = "key expired";
		r = KF_ERR_EXPIRED;
		goto out;
	}

	for (p = text; *p == ' ' || *p == '\t'; p++)
		;
	t = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	tlen = (size_t)(p - t);
	while (*p == ' ' || *p == '\t')
		p++;
	k = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	klen = (size_t)(p - k);
	while (*p == ' ' || *p == '\t')
		p++;

	if (tlen == 0 || klen == 0) {
		*why = "expected \"TYPE BASE64 [COMMENT]\"";
		goto out;
	}
	if (tlen >= sizeof(tname)) {
		*why = "unknown key type";
		goto out;
	}
	memcpy(tname, t, tlen);
	tname[tlen] = '\0';
	if ((type = kf_keytype_from_name(tname)) < 0) {
		*why = "unknown key type";
		goto out;
	}
	if ((policy->types & (1u << type)) == 0) {
		*why = "key type not in KeyTypes";
		goto out;
	}
	if (kf_b64_decode(k, klen, &blob) != 0) {
		*why = "invalid base64 in key";
		goto out;
	}
	if ((r = check_blob(policy, type, (const unsigned char *)blob.data,
	    blob.len, why)) != 0)
		goto out;

	r = KF_ERR_KEY;
	if (options != NULL && *options != '\0' &&
	    (r = rebuild_options(policy, options, &line, why)) != 0)
		goto out;
	if (expires != 0) {
		et = (time_t)expires;
		if (gmtime_r(&et, &tm) == NULL ||
		    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%SZ", &tm) == 0) {
			*why = "expiry time out of range";
			r = KF_ERR_KEY;
			goto out;
		}
		if ((r = kf_buf_puts(&line, "expiry-time=\"")) != 0 ||
		    (r = kf_buf_puts(&line, stamp)) != 0 ||
		    (r = kf_buf_puts(&line, "\",")) != 0)
			goto out;
	}
	/* Drop the comma that ends the options, if any, for the space. */
	if (line.len > 0)
		line.data[line.len - 1] = ' ';
	if ((r = kf_b64_encode(blob.data, blob.len, &b64)) != 0 ||
	    (r = kf_buf_puts(&line, keytypes[type].name)) != 0 ||
	    (r = kf_buf_putc(&line, ' ')) != 0 ||
	    (r = kf_buf_append(&line, b64.data, b64.len)) != 0)
		goto out;
	if (*p != '\0') {
		if ((r = kf_buf_putc(&line, ' ')) != 0 ||
		    (r = append_comment(&line, p)) != 0)
			goto out;
		/* A comment of nothing but blanks leaves a trailing space. */
		if (line.data[line.len - 1] == ' ')
			line.data[--line.len] = '\0';
	}
	if ((key->line = kf_buf_take(&line)) == NULL ||
	    (key->blob_b64 = kf_buf_take(&b64)) == NULL) {
		kf_authkey_clear(key);
		r = KF_ERR_NOMEM;
		goto out;
	}
	r = 0;
 out:
	kf_buf_free(&blob);
	kf_buf_free(&line);
	kf_buf_free(&b64);
	return r;
}
