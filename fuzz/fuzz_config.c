/*
 * fuzz_config.c - keyfleet.conf(5) text through kf_config_parse(), the
 * parser behind kf_config_load().  Files named by SigningKey,
 * BearerTokenFile and ClientKey may only be under FUZZ_DIR, which holds
 * real ones.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "keyfleet.h"
#include "config_file.h"
#include "fuzz.h"
#include "util.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_files();
	return 0;
}

/* What a configuration that loads always satisfies. */
static void
check_config(const struct kf_config *cfg)
{
	size_t i;

	FUZZ_CHECK(cfg->urls.n >= 1 && cfg->urls.n <= 16);
	for (i = 0; i < cfg->urls.n; i++) {
		if (strncasecmp(cfg->urls.v[i], "https://", 8) == 0)
			continue;
		FUZZ_CHECK(cfg->allow_http &&
		    kf_url_host_is_loopback(cfg->urls.v[i]));
	}
	FUZZ_CHECK(cfg->connect_timeout_ms >= 1 &&
	    cfg->connect_timeout_ms <= cfg->timeout_ms &&
	    cfg->timeout_ms <= 600000);
	FUZZ_CHECK(cfg->max_response_size >= 256 &&
	    cfg->max_response_size <= 64 * 1024 * 1024);
	FUZZ_CHECK(cfg->cache_dir != NULL && cfg->cache_dir[0] == '/');
	FUZZ_CHECK(cfg->hostname != NULL && cfg->hostname[0] != '\0');
	FUZZ_CHECK(cfg->audience == NULL || cfg->signing_keys.n > 0);
	FUZZ_CHECK(cfg->signing_keys.n == 0 || cfg->format == KF_FORMAT_JSON);
	FUZZ_CHECK((cfg->client_cert == NULL) == (cfg->client_key == NULL));
	FUZZ_CHECK(cfg->key_policy.min_rsa_bits >= 1024 &&
	    cfg->key_policy.min_rsa_bits <= 16384);
	FUZZ_CHECK((cfg->key_policy.types >> KF_KT_COUNT) == 0 &&
	    (cfg->key_policy.options >> KF_OPT_COUNT) == 0);
	FUZZ_CHECK(cfg->log_level <= KF_LOG_DEBUG);
	for (i = 0; i < cfg->signing_keys.n; i++)
		FUZZ_CHECK(strlen(cfg->signing_keys.v[i].source) > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_ctx *ctx = fuzz_ctx();
	struct kf_config *cfg;
	char *token;
	int r;

	fuzz_confine(1);
	r = kf_config_parse(ctx, "fuzz.conf", (const char *)data, size, &cfg);
	if (r == 0) {
		check_config(cfg);
		/* The token is read at fetch time, from the checked path. */
		if (kf_config_read_token(ctx, cfg, &token) == 0)
			kf_free_secret(token);
		kf_config_free(cfg);
	} else {
		FUZZ_CHECK(cfg == NULL);
		FUZZ_CHECK(r == KF_ERR_CONFIG || r == KF_ERR_NOMEM);
	}
	fuzz_confine(0);
	return 0;
}
