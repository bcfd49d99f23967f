/* b64.c - strict base64 and base64url codecs. */
#include "config.h"

#include <stdint.h>

#include "keyfleet.h"
#include "b64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/*
 * Decodes len characters of data (no padding) and insists that the unused
 * low bits of the last character are zero, so that every byte string has
 * exactly one accepted encoding.
 */
static int
b64_decode_common(const char *s, size_t len, int url, struct kf_buf *out)
{
	uint32_t acc = 0;
	size_t i;
	int v, bits = 0, r;
	unsigned char byte;

	if (len % 4 == 1)
		return KF_ERR_INVAL;
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)s[i], url)) < 0)
			return KF_ERR_INVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (unsigned char)(acc >> bits);
			if ((r = kf_buf_append(out, &byte, 1)) != 0)
				return r;
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return KF_ERR_INVAL;
	if (out->data == NULL)
		return kf_buf_append(out, "", 0);
	return 0;
}

int
kf_b64_decode(const char *s, size_t len, struct kf_buf *out)
{
	size_t pad = 0;

	if (len % 4 != 0)
		return KF_ERR_INVAL;
	while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && (len - pad) % 4 != 4 - pad)
		return KF_ERR_INVAL;
	return b64_decode_common(s, len - pad, 0, out);
}

int
kf_b64url_decode(const char *s, size_t len, struct kf_buf *out)
{
	return b64_decode_common(s, len, 1, out);
}

int
kf_b64_encode(const void *p, size_t n, struct kf_buf *out)
{
	const unsigned char *in = p;
	char quad[4];
	uint32_t v;
	size_t i;
	int r;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		quad[0] = b64_alphabet[(v >> 18) & 63];
		quad[1] = b64_alphabet[(v >> 12) & 63];
		quad[2] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		quad[3] = i + 2 < n ? b64_alphabet[v & 63] : '=';
		if ((r = kf_buf_append(out, quad, 4)) != 0)
			return r;
	}
	if (out->data == NULL)
		return kf_buf_append(out, "", 0);
	return 0;
}
