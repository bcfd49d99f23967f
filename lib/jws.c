/*
 * jws.c - JWS compact serialization, decoded strictly and verified with
 * the configured keys only.
 *
 * Nothing in a JWS header chooses how it is checked: alg must be EdDSA or
 * ES256 and must match the type of the key that verifies it, so "none",
 * HMAC with a public key as the secret and the like are refused.  Keys
 * embedded or referenced by the header (jwk, jku, x5c, x5u) are ignored;
 * kid is informational.  The signature covers the exact bytes received.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "keyfleet.h"
#include "b64.h"
#include "jws.h"

int
kf_jws_is_compact(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' &&
		    body[i] != '\n')
			return body[i] != '{';
	}
	return 0;
}

static int
decode_segment(const char *s, size_t len, size_t max, struct kf_buf *out,
    const char *name, struct kf_jws *jws, const char **why)
{
	int r;

	if (len == 0) {
		snprintf(jws->why, sizeof(jws->why), "JWS %s is empty", name);
		*why = jws->why;
		return KF_ERR_PARSE;
	}
	if (memchr(s, '=', len) != NULL) {
		snprintf(jws->why, sizeof(jws->why), "JWS %s has base64 "
		    "padding, which base64url in JWS does not allow", name);
		*why = jws->why;
		return KF_ERR_PARSE;
	}
	kf_buf_init(out, max);
	if ((r = kf_b64url_decode(s, len, out)) != 0) {
		if (r == KF_ERR_NOMEM)
			return r;
		snprintf(jws->why, sizeof(jws->why), "JWS %s is not valid "
		    "base64url", name);
		*why = jws->why;
		return KF_ERR_PARSE;
	}
	return 0;
}

static int
parse_header(const struct kf_buf *hdr, struct kf_jws *jws, const char **why)
{
	json_error_t jerr;
	json_t *root, *alg, *b64;
	const char *name;
	int r = KF_ERR_PARSE;

	if (memchr(hdr->data, '\0', hdr->len) != NULL ||
	    (root = json_loadb(hdr->data, hdr->len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		*why = "JWS header is not valid JSON";
		return KF_ERR_PARSE;
	}
	if (!json_is_object(root)) {
		*why = "JWS header is not a JSON object";
		goto out;
	}
	if (!json_is_string(alg = json_object_get(root, "alg"))) {
		*why = "JWS header has no string \"alg\"";
		goto out;
	}
	/* Extensions we would have to understand (RFC 7515 4.1.11, 7797). */
	if (json_object_get(root, "crit") != NULL) {
		*why = "JWS header has \"crit\" extensions, which keyfleet does "
		    "not support";
		goto out;
	}
	if ((b64 = json_object_get(root, "b64")) != NULL && !json_is_true(b64)) {
		*why = "JWS with an unencoded payload (\"b64\") is not supported";
		goto out;
	}
	name = json_string_value(alg);
	if (strcmp(name, "EdDSA") == 0) {
		jws->alg = KF_SIG_EDDSA;
	} else if (strcmp(name, "ES256") == 0) {
		jws->alg = KF_SIG_ES256;
	} else {
		snprintf(jws->why, sizeof(jws->why), "JWS alg \"%.32s\" is not "
		    "accepted (only EdDSA and ES256)", name);
		*why = jws->why;
		r = KF_ERR_SIGNATURE;
		goto out;
	}
	r = 0;
 out:
	json_decref(root);
	return r;
}

int
kf_jws_decode(const char *body, size_t len, struct kf_jws *jws,
    const char **why)
{
	const char *dot1, *dot2, *end;
	struct kf_buf hdr;
	int r;

	memset(jws, 0, sizeof(*jws));
	kf_buf_init(&jws->payload, 0);
	kf_buf_init(&jws->sig, 0);
	kf_buf_init(&hdr, 0);
	*why = NULL;
	/* A static file usually ends with a newline; nothing else may. */
	if (len > 0 && body[len - 1] == '\n') {
		len--;
		if (len > 0 && body[len - 1] == '\r')
			len--;
	}
	end = body + len;
	if ((dot1 = memchr(body, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1))) == NULL) {
		*why = "not a JWS compact serialization (fewer than three "
		    "segments)";
		return KF_ERR_PARSE;
	}
	if (memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL) {
		*why = "not a JWS compact serialization (more than three "
		    "segments)";
		return KF_ERR_PARSE;
	}
	if ((r = decode_segment(body, (size_t)(dot1 - body), KF_JWS_MAX_HEADER,
	    &hdr, "header", jws, why)) != 0 ||
	    (r = parse_header(&hdr, jws, why)) != 0 ||
	    (r = decode_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1), 0,
	    &jws->payload, "payload", jws, why)) != 0 ||
	    (r = decode_segment(dot2 + 1, (size_t)(end - dot2 - 1),
	    KF_SIG_LEN + 3, &jws->sig, "signature", jws, why)) != 0)
		goto out;
	if (jws->sig.len != KF_SIG_LEN) {
		snprintf(jws->why, sizeof(jws->why), "JWS signature is %zu "
		    "bytes; %s signatures are %d", jws->sig.len,
		    kf_sigalg_name(jws->alg), KF_SIG_LEN);
		*why = jws->why;
		r = KF_ERR_SIGNATURE;
		goto out;
	}
	jws->signing_input = body;
	jws->signing_len = (size_t)(dot2 - body);
 out:
	kf_buf_free(&hdr);
	if (r != 0)
		kf_jws_clear(jws);
	return r;
}

int
kf_jws_verify(struct kf_jws *jws, const struct kf_sigkeys *keys,
    const struct kf_sigkey **keyp, const char **why)
{
	const struct kf_sigkey *refused = NULL;
	size_t i, tried = 0;
	int r;

	*keyp = NULL;
	for (i = 0; i < keys->n; i++) {
		if (keys->v[i].alg != jws->alg)
			continue;
		tried++;
		r = kf_sig_verify(&keys->v[i], jws->signing_input,
		    jws->signing_len, (const unsigned char *)jws->sig.data,
		    jws->sig.len);
		if (r == 0) {
			*keyp = &keys->v[i];
			return 0;
		}
		/* A broken key must not stop the next one (rotation). */
		if (r == KF_ERR_CONFIG) {
			refused = &keys->v[i];
			continue;
		}
		if (r != KF_ERR_SIGNATURE) {
			*why = "libcrypto failed to check the signature";
			return r;
		}
	}
	if (tried == 0)
		snprintf(jws->why, sizeof(jws->why), "JWS alg %s, but no "
		    "SigningKey is %s key", kf_sigalg_name(jws->alg),
		    jws->alg == KF_SIG_EDDSA ? "an Ed25519" : "a P-256");
	else if (refused != NULL)
		snprintf(jws->why, sizeof(jws->why), "JWS signature does not "
		    "verify with any SigningKey (libcrypto refuses %.60s)",
		    refused->source);
	else
		snprintf(jws->why, sizeof(jws->why), "JWS signature does not "
		    "verify with any SigningKey");
	*why = jws->why;
	return KF_ERR_SIGNATURE;
}

void
kf_jws_clear(struct kf_jws *jws)
{
	kf_buf_free(&jws->payload);
	kf_buf_free(&jws->sig);
	jws->signing_input = NULL;
	jws->signing_len = 0;
}
