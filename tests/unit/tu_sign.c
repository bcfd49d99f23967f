/* tu_sign.c - signing keys and JWS for the tests, made with openssl. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "tu_sign.h"

static struct tu_sigkey keys[TU_SIG_KIND_COUNT][4];

static const char *const genpkey_args[TU_SIG_KIND_COUNT] = {
	"-algorithm ed25519",
	"-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
	"-algorithm EC -pkeyopt ec_paramgen_curve:P-384",
	"-algorithm RSA -pkeyopt rsa_keygen_bits:2048",
};

static void
run(const char *cmd)
{
	int st = system(cmd);

	if (st != 0)
		TU_FATAL("command failed (status %d): %s", st, cmd);
}

const struct tu_sigkey *
tu_sigkey(enum tu_sigkind kind, int n)
{
	struct tu_sigkey *k;
	char *priv, *pub, *cmd;

	if ((unsigned)kind >= TU_SIG_KIND_COUNT || n < 0 || n >= 4)
		TU_FATAL("no such signing key %d/%d", (int)kind, n);
	k = &keys[kind][n];
	if (k->priv != NULL)
		return k;
	priv = tu_printf("%s/sign-%d-%d.key", tu_tmpdir(), (int)kind, n);
	pub = tu_printf("%s/sign-%d-%d.pub", tu_tmpdir(), (int)kind, n);
	cmd = tu_printf("umask 077 && openssl genpkey %s -out '%s' 2>&1 && "
	    "openssl pkey -in '%s' -pubout -out '%s' && chmod 0644 '%s'",
	    genpkey_args[kind], priv, priv, pub, pub);
	run(cmd);
	free(cmd);
	k->priv = priv;
	k->pub = pub;
	return k;
}

char *
tu_jws_sign(const char *priv, const char *header, const char *payload)
{
	static unsigned seq;
	char *name, *payload_path, *hdr_path, *out_path, *cmd, *script, *jws;

	name = tu_printf("jws-%u.payload", seq);
	payload_path = tu_write_file(name, payload, strlen(payload), 0600);
	free(name);
	name = tu_printf("jws-%u.header", seq);
	hdr_path = tu_write_file(name, header, strlen(header), 0600);
	free(name);
	out_path = tu_printf("%s/jws-%u.out", tu_tmpdir(), seq++);
	script = tu_source_file("tests/jws/sign-jws");
	cmd = tu_printf("'%s' '%s' \"$(cat '%s')\" '%s' >'%s'", script, priv,
	    hdr_path, payload_path, out_path);
	run(cmd);
	if ((jws = tu_read_file(out_path, NULL)) == NULL)
		TU_FATAL("no output from %s", script);
	free(cmd);
	free(script);
	free(payload_path);
	free(hdr_path);
	free(out_path);
	return jws;
}
