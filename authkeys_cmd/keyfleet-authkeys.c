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

static int log_stderr;
static int log_syslog = 1;

/*
 * --check: configuration errors found while loading (file:line and
 * reason) are problems it reports on stdout, whatever -v says.
 */
static int check_loading;
static int check_local_problems, check_api_problems;

static void
log_line(void *arg, int priority, const char *message)
{
	(void)arg;
	if (check_loading && priority <= LOG_ERR) {
		printf("PROBLEM: %s\n", message);
		check_local_problems++;
	}
	if (log_syslog)
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

/* Prints a line for a person to read: no control bytes. */
static void
print_sanitized(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?');
}

static void
print_finding(void *arg, int kind, const char *message)
{
	(void)arg;
	switch (kind) {
	case KF_CHECK_OK:
		fputs("ok: ", stdout);
		break;
	case KF_CHECK_LOCAL_PROBLEM:
		check_local_problems++;
		fputs("PROBLEM: ", stdout);
		break;
	case KF_CHECK_API_PROBLEM:
		check_api_problems++;
		fputs("PROBLEM: ", stdout);
		break;
	default:
		break;	/* a note names what it is about itself */
	}
	print_sanitized(message);
	putchar('\n');
}

/*
 * Exit 0: no problem; 2: a problem of the configuration or of this host's
 * setup (files, cache directory, the program's path); 1: otherwise a
 * problem with a URL or its answer.
 */
static int
check_summary(void)
{
	int n = check_local_problems + check_api_problems;

	if (n == 0) {
		printf("no problems found\n");
		return EXIT_ANSWER;
	}
	printf("%d problem%s found\n", n, n == 1 ? "" : "s");
	return check_local_problems > 0 ? EXIT_USAGE : EXIT_NOANSWER;
}

static int
run_check(struct kf_ctx *ctx, const char *user)
{
	int r;

	r = kf_check(ctx, user, "/proc/self/exe", print_finding, NULL);
	if (r < 0) {
		printf("PROBLEM: the check itself failed: %s\n",
		    kf_strerror(r));
		check_local_problems++;
	}
	return check_summary();
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
	if (check) {
		/* A person reads it, in order with standard error. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		log_syslog = 0;
		check_loading = 1;
	}
	r = kf_ctx_load_config(ctx, config);
	check_loading = 0;
	if (r != 0) {
		if (check) {
			if (check_local_problems == 0)
				printf("PROBLEM: configuration %s: %s\n",
				    kf_ctx_config_path(ctx), kf_strerror(r));
			printf("configuration %s cannot be used (%s): "
			    "keyfleet-authkeys and pam_keyfleet refuse to work "
			    "with it; nothing else was checked\n",
			    kf_ctx_config_path(ctx), kf_strerror(r));
			check_local_problems = check_local_problems > 0 ?
			    check_local_problems : 1;
			ret = check_summary();
			goto out;
		}
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

	/*
	 * No alarm() backstop: the library's deadline covers every wait of
	 * a lookup (name resolution, connect, TLS, body, the lock of a
	 * concurrent lookup), and the run ends by its own decision, the
	 * cached answer of SPEC section 4 included, never by a signal.
	 */
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
