/*
 * pam_keyfleet - account status and login environment from the central API.
 *
 *   account  required pam_keyfleet.so [config=PATH] [debug]
 *   session  optional pam_keyfleet.so [config=PATH] [debug]
 *
 * A thin front-end: the lookup, the cache and every check live in
 * libkeyfleet; this file maps answers to PAM results and filters the
 * environment.  It runs inside sshd's root monitor, so it logs only through
 * pam_syslog(), writes nothing to stdout or stderr, installs no signal
 * handler, and leaves nothing running behind when an entry point returns.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "keyfleet.h"
#include "config_file.h"
#include "ctx.h"
#include "envfilter.h"
#include "log.h"

struct args {
	const char	*config;
	int		 debug;
};

static void
log_to_pam(void *arg, int priority, const char *message)
{
	pam_syslog((pam_handle_t *)arg, priority, "%s", message);
}

static void
parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] != '\0')
			a->config = argv[i] + 7;
		else if (strcmp(argv[i], "debug") == 0)
			a->debug = 1;
		else
			pam_syslog(pamh, LOG_ERR, "unknown argument \"%s\" "
			    "ignored", argv[i]);
	}
}

/*
 * Sets up a context and looks the PAM user up.  Returns a PAM code when
 * there is no answer to work with (*answerp NULL), else PAM_SUCCESS.
 */
static int
look_up(pam_handle_t *pamh, int argc, const char **argv, int revalidate,
    struct kf_ctx **ctxp, const char **userp, struct kf_answer **answerp,
    int unavailable)
{
	struct args a;
	const char *user = NULL;
	int r;

	*ctxp = NULL;
	*answerp = NULL;
	parse_args(pamh, argc, argv, &a);
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL ||
	    *user == '\0') {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
		return PAM_USER_UNKNOWN;
	}
	*userp = user;
	if (kf_ctx_new(ctxp) != 0)
		return PAM_BUF_ERR;
	kf_ctx_set_log(*ctxp, log_to_pam, pamh);
	kf_ctx_set_verbosity(*ctxp, a.debug ? 2 : 0);
	if (kf_ctx_load_config(*ctxp, a.config) != 0) {
		/* Already logged with file and line; an admin must fix it. */
		return PAM_SERVICE_ERR;
	}
	if (revalidate)
		r = kf_lookup_revalidate(*ctxp, user, answerp);
	else
		r = kf_lookup(*ctxp, user, NULL, NULL, answerp);
	if (r == KF_ERR_USERNAME)
		return PAM_USER_UNKNOWN;
	if (r == KF_ERR_NOMEM)
		return PAM_BUF_ERR;
	if (r != 0)
		return unavailable;
	return PAM_SUCCESS;
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct kf_ctx *ctx;
	struct kf_answer *answer;
	const char *user = "?";
	int r;

	(void)flags;
	r = look_up(pamh, argc, argv, 1, &ctx, &user, &answer,
	    PAM_AUTHINFO_UNAVAIL);
	if (answer == NULL) {
		if (r == PAM_AUTHINFO_UNAVAIL)
			pam_syslog(pamh, LOG_NOTICE, "user %s: no trustworthy "
			    "answer from the API: account unavailable", user);
		goto out;
	}
	switch (kf_answer_status(answer)) {
	case KF_USER_ACTIVE:
		r = PAM_SUCCESS;
		break;
	case KF_USER_INACTIVE:
		pam_syslog(pamh, LOG_NOTICE, "user %s: disabled in the central "
		    "API: access denied", user);
		r = PAM_PERM_DENIED;
		break;
	default:
		if (ctx->cfg->unknown_user_deny) {
			pam_syslog(pamh, LOG_NOTICE, "user %s: unknown to the "
			    "API: access denied (UnknownUser deny)", user);
			r = PAM_USER_UNKNOWN;
		} else {
			r = PAM_IGNORE;
		}
		break;
	}
 out:
	kf_answer_free(answer);
	kf_ctx_free(ctx);
	return r;
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct kf_ctx *ctx;
	struct kf_answer *answer;
	const char *user = "?", *name, *value, *why;
	char *entry;
	size_t i, n;
	int r, set = 0;

	(void)flags;
	r = look_up(pamh, argc, argv, 0, &ctx, &user, &answer, PAM_SESSION_ERR);
	if (answer == NULL)
		goto out;
	if (kf_answer_status(answer) == KF_USER_UNKNOWN) {
		r = PAM_IGNORE;
		goto out;
	}
	if (kf_answer_status(answer) != KF_USER_ACTIVE) {
		/* The account phase denies; a session gets nothing from us. */
		r = PAM_SESSION_ERR;
		goto out;
	}
	r = PAM_SUCCESS;
	for (i = 0; i < kf_answer_env_count(answer); i++) {
		if (kf_answer_env(answer, i, &name, &value) != 0)
			continue;
		if ((why = kf_env_refused(&ctx->cfg->env_allow,
		    &ctx->cfg->env_deny, name, value)) != NULL) {
			/* kf_log(): the name, from the API, stays on one line. */
			kf_log(ctx, KF_LOG_INFO, "user %s: environment "
			    "variable \"%.64s\" not set: %s", user, name, why);
			continue;
		}
		n = strlen(name) + strlen(value) + 2;
		if ((entry = malloc(n)) == NULL) {
			r = PAM_BUF_ERR;
			break;
		}
		snprintf(entry, n, "%s=%s", name, value);
		if (pam_putenv(pamh, entry) != PAM_SUCCESS)
			pam_syslog(pamh, LOG_ERR, "user %s: pam_putenv %s "
			    "failed", user, name);
		else
			set++;
		free(entry);
	}
	if (r == PAM_SUCCESS && ctx->verbosity > 0)
		pam_syslog(pamh, LOG_DEBUG, "user %s: %d environment "
		    "variable(s) set", user, set);
 out:
	kf_answer_free(answer);
	kf_ctx_free(ctx);
	return r;
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
