/*
 * keyfleet-authkeys - sshd's AuthorizedKeysCommand.
 *
 * Prints the authorized_keys lines libkeyfleet grants for USER and nothing
 * else.  Exit 0: an authoritative answer (maybe no lines); 1: no
 * trustworthy answer; 2: usage or configuration error.  Output is written
 * only once the whole answer is known, so a failure never leaves sshd with
 * part of a list.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "keyfleet.h"

#define EXIT_ANSWER	0
#define EXIT_NOANSWER	1
#define EXIT_USAGE	2

/* Seconds past the configured Timeout after which the helper gives up. */
#define DEADLINE_MARGIN	2

static int log_stderr;

static void
log_line(void *arg, int priority, const char *message)
{
	(void)arg;
	syslog(LOG_AUTHPRIV | priority, "%s", message);
	if (log_stderr)
		fprintf(stderr, "keyfleet-authkeys: %s\n", message);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: keyfleet-authkeys [-f CONFIG] [-v] USER [FINGERPRINT [KEYTYPE [KEYBLOB]]]\n"
	    "       keyfleet-authkeys --check [-f CONFIG] [USER]\n"
	    "       keyfleet-authkeys --flush [-f CONFIG] [USER]\n"
	    "       keyfleet-authkeys --version\n");
	exit(EXIT_USAGE);
}

/* Writes all of buf; a reader that went away (EPIPE) is not an error. */
static int
write_all(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EPIPE ? 0 : -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
print_keys(const struct kf_answer *a)
{
	size_t i, n = kf_answer_key_count(a), total = 0, len;
	const char *line;
	char *out, *p;
	int r;

	for (i = 0; i < n; i++)
		total += strlen(kf_answer_key_line(a, i)) + 1;
	if (total == 0)
		return 0;
	if ((out = malloc(total)) == NULL)
		return -1;
	for (i = 0, p = out; i < n; i++) {
		line = kf_answer_key_line(a, i);
		len = strlen(line);
		memcpy(p, line, len);
		p[len] = '\n';
		p += len + 1;
	}
	r = write_all(out, total);
	free(out);
	return r;
}

static const char *
status_words(int status)
{
	switch (status) {
	case KF_USER_ACTIVE:
		return "active";
	case KF_USER_INACTIVE:
		return "inactive (active: false, or no usable key with Format "
		    "keys): no keys are served";
	case KF_USER_UNKNOWN:
		return "unknown to the API (404): no keys are served";
	default:
		return "?";
	}
}

/* Prints what came from the API for a person to read: no control bytes. */
static void
print_sanitized(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?');
}

static int
run_check(struct kf_ctx *ctx, const char *user)
{
	struct kf_answer *a = NULL;
	const char *name, *value;
	size_t i;
	int r;

	printf("configuration %s: OK\n", kf_ctx_config_path(ctx));
	if (user == NULL)
		return EXIT_ANSWER;
	if ((r = kf_lookup(ctx, user, NULL, NULL, &a)) != 0) {
		printf("user %s: NO ANSWER: %s (see the messages above; sshd "
		    "would get no keys and keyfleet-authkeys would exit 1)\n",
		    user, kf_strerror(r));
		return r == KF_ERR_USERNAME ? EXIT_USAGE : EXIT_NOANSWER;
	}
	printf("user %s: %s\n", user, status_words(kf_answer_status(a)));
	printf("sshd would get %zu authorized_keys line(s):\n",
	    kf_answer_key_count(a));
	for (i = 0; i < kf_answer_key_count(a); i++)
		printf("  %s\n", kf_answer_key_line(a, i));
	if (kf_answer_env_count(a) > 0)
		printf("environment from the API (before EnvAllow/EnvDeny):\n");
	for (i = 0; i < kf_answer_env_count(a); i++) {
		if (kf_answer_env(a, i, &name, &value) == 0) {
			printf("  ");
			print_sanitized(name);
			putchar('=');
			print_sanitized(value);
			putchar('\n');
		}
	}
	kf_answer_free(a);
	return EXIT_ANSWER;
}

static int
run_flush(struct kf_ctx *ctx, const char *user)
{
	int r;

	if ((r = kf_flush(ctx, user)) < 0) {
		fprintf(stderr, "keyfleet-authkeys: flushing %s failed: %s\n",
		    user != NULL ? user : "the cache", kf_strerror(r));
		return r == KF_ERR_USERNAME ? EXIT_USAGE : EXIT_NOANSWER;
	}
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "flushed %d cache entr%s%s%s", r,
	    r == 1 ? "y" : "ies", user != NULL ? " for " : "",
	    user != NULL ? user : "");
	printf("flushed %d cache entr%s%s%s\n", r, r == 1 ? "y" : "ies",
	    user != NULL ? " for " : "", user != NULL ? user : "");
	return EXIT_ANSWER;
}

int
main(int argc, char **argv)
{
	struct kf_ctx *ctx = NULL;
	struct kf_answer *a = NULL;
	const char *config = NULL, *user, *fp = NULL, *blob = NULL;
	int check = 0, flush = 0, verbosity = 0, i, r, ret = EXIT_NOANSWER;

	/* sshd starts us with every signal at its default. */
	signal(SIGPIPE, SIG_IGN);
	openlog("keyfleet-authkeys", LOG_PID, LOG_AUTHPRIV);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("keyfleet-authkeys %s\n", kf_version());
			return EXIT_ANSWER;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
			log_stderr = 1;
		} else if (strcmp(argv[i], "--flush") == 0) {
			flush = 1;
			log_stderr = 1;
		} else if (strcmp(argv[i], "-f") == 0) {
			if (++i == argc)
				usage();
			config = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1] == 'v' &&
		    strspn(argv[i] + 1, "v") == strlen(argv[i] + 1)) {
			/* -v: verbose, to stderr too; -vv: debug */
			log_stderr = 1;
			verbosity += (int)strlen(argv[i] + 1);
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-') {
			usage();
		} else {
			break;
		}
	}
	argc -= i;
	argv += i;
	if (check && flush)
		usage();
	if (check || flush ? argc > 1 : (argc < 1 || argc > 4))
		usage();
	user = argc > 0 ? argv[0] : NULL;
	if (argc > 1)
		fp = argv[1];
	if (argc > 3)
		blob = argv[3];

	if (kf_ctx_new(&ctx) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "out of memory");
		return EXIT_NOANSWER;
	}
	kf_ctx_set_log(ctx, log_line, NULL);
	kf_ctx_set_verbosity(ctx, verbosity);
	if ((r = kf_ctx_load_config(ctx, config)) != 0) {
		if (check)
			printf("configuration %s: FAILED: %s\n",
			    kf_ctx_config_path(ctx), kf_strerror(r));
		ret = EXIT_USAGE;
		goto out;
	}
	if (check) {
		ret = run_check(ctx, user);
		goto out;
	}
	if (flush) {
		ret = run_flush(ctx, user);
		goto out;
	}

	/* A backstop under the library's own deadline: sshd has none. */
	alarm((unsigned)((kf_ctx_timeout_ms(ctx) + 999) / 1000) + DEADLINE_MARGIN);
	r = kf_lookup(ctx, user, fp, blob, &a);
	if (r == KF_ERR_USERNAME) {
		ret = EXIT_ANSWER;	/* refused locally: no keys, by design */
		goto out;
	}
	if (r != 0) {
		ret = r == KF_ERR_CONFIG ? EXIT_USAGE : EXIT_NOANSWER;
		goto out;
	}
	if (print_keys(a) != 0) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "user %s: writing to sshd "
		    "failed: %m", user);
		ret = EXIT_NOANSWER;
		goto out;
	}
	ret = EXIT_ANSWER;
 out:
	kf_answer_free(a);
	kf_ctx_free(ctx);
	closelog();
	return ret;
}
