/*
 * test_pam_keyfleet.c - the built pam_keyfleet.so as sshd meets it: loaded
 * by the real libpam (under pam_wrapper), asking the test API server over
 * loopback HTTP, judged by what a login would notice: the PAM result, the
 * PAM environment, and how often the API was asked.
 *
 * Run by tests/pam/run-pam-tests.sh, which preloads pam_wrapper, writes the
 * PAM service files and starts the API server; it passes:
 *   KF_PAM_MODULE     the module's absolute path
 *   KF_PAM_CONFIG     the keyfleet.conf the service files name (written here)
 *   KF_PAM_CACHE_DIR  its CacheDirectory
 *   KF_PAM_API_DIR    the server's data directory; KF_PAM_API_PORT its port
 * The service "keyfleet" has account and session lines with config= only;
 * "keyfleet-args" adds an unknown argument and "debug".  In both, a
 * transaction returns what pam_keyfleet returned (PAM_IGNORE excepted: see
 * STACK_IGNORED).
 */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <libpamtest.h>

#include "testutil.h"

#define SERVICE		"keyfleet"
#define SERVICE_ARGS	"keyfleet-args"

/* A real key (made by ssh-keygen once): the records look like real ones. */
#define KEY	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG06TsOy8kIMWPBMD7E2T/" \
		"HU1ZXthqYAfybYD+abrpzM pam-test@keyfleet"

/*
 * What a transaction returns when pam_keyfleet returned PAM_IGNORE, which
 * Linux-PAM never passes on: the service files follow the module with
 * pam_debug.so, reached only then, answering this (see run-pam-tests.sh).
 */
#define STACK_IGNORED	PAM_NO_MODULE_DATA

/* What run-pam-tests.sh set up, for the whole run. */
static struct {
	const char	*module;
	const char	*config;
	const char	*cache_dir;
	struct tu_api	 api;		/* run by the script: pid 0 here */
	int		 dead_fd;	/* bound, never listening */
	int		 dead_port;	/* so connecting is refused at once */
	size_t		 requests0;	/* API requests before the test began */
	char		*pam_log;	/* stderr of the last PAM transaction */
} env;

/* ------------------------------------------------------------ helpers */

static const char *
pam_name(int code)
{
	static char other[32];

	switch (code) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_PERM_DENIED:
		return "PAM_PERM_DENIED";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	case PAM_IGNORE:
	case STACK_IGNORED:
		return "PAM_IGNORE";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SESSION_ERR:
		return "PAM_SESSION_ERR";
	case PAM_SERVICE_ERR:
		return "PAM_SERVICE_ERR";
	case PAM_BUF_ERR:
		return "PAM_BUF_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	case PAM_ABORT:
		return "PAM_ABORT";
	default:
		snprintf(other, sizeof(other), "PAM code %d", code);
		return other;
	}
}

/* The transaction's result when pam_keyfleet returns code. */
static int
stack_code(int code)
{
	return code == PAM_IGNORE ? STACK_IGNORED : code;
}

static const char *
op_name(enum pamtest_ops op)
{
	switch (op) {
	case PAMTEST_ACCOUNT:
		return "pam_acct_mgmt";
	case PAMTEST_OPEN_SESSION:
		return "pam_open_session";
	case PAMTEST_CLOSE_SESSION:
		return "pam_close_session";
	case PAMTEST_GETENVLIST:
		return "pam_getenvlist";
	default:
		return "a PAM operation";
	}
}

/*
 * Replaces keyfleet.conf with text, with exactly mode (owned by root: the
 * tests run as root), renamed into place.
 */
static void
write_config_text(const char *text, mode_t mode)
{
	char *tmp;

	tmp = tu_write_file("keyfleet.conf.new", text, strlen(text), mode);
	if (rename(tmp, env.config) != 0)
		TU_FATAL("rename %s to %s: %s", tmp, env.config,
		    strerror(errno));
	free(tmp);
}

/*
 * An admin's keyfleet.conf (0644): the API on port, the scratch cache, then
 * extra lines from line 6 on.
 */
static void
write_config_port(int port, const char *extra)
{
	char *text;

	text = tu_printf("# written by test_pam_keyfleet\n"
	    "URL http://127.0.0.1:%d/users/%%u\n"
	    "AllowHTTP yes\n"
	    "CacheDirectory %s\n"
	    "Timeout 5\n"
	    "%s", port, env.cache_dir, extra != NULL ? extra : "");
	write_config_text(text, 0644);
	free(text);
}

static void
write_config(const char *extra)
{
	write_config_port(env.api.port, extra);
}

/* Points keyfleet.conf at a port where nothing listens: the API is down. */
static void
write_config_api_down(const char *extra)
{
	write_config_port(env.dead_port, extra);
}

static void
put_record(const char *user, const char *json)
{
	char *name = tu_printf("%s.json", user);

	tu_api_put(&env.api, name, json);
	free(name);
}

/* A record as the API serves it; env_json is the "env" member or NULL. */
static void
put_user(const char *user, int active, const char *env_json)
{
	char *json;

	json = tu_printf("{\"user\": \"%s\", \"active\": %s, \"keys\": "
	    "[\"%s\"]%s%s}", user, active ? "true" : "false",
	    KEY, env_json != NULL ? ", \"env\": " : "",
	    env_json != NULL ? env_json : "");
	put_record(user, json);
	free(json);
}

/* API requests since the test began. */
static size_t
requests(void)
{
	return tu_api_requests(&env.api) - env.requests0;
}

/* Field (see server.py) of the i-th request since the test began. */
static char *
request_field(size_t i, int field)
{
	char *s = tu_api_request_field(&env.api, env.requests0 + i, field);

	return s != NULL ? s : tu_xstrdup("(none)");
}

static void
assert_request(size_t i, const char *path, const char *status)
{
	char *got_path = request_field(i, 3), *got_status = request_field(i, 8);

	if (strcmp(got_path, path) != 0 || strcmp(got_status, status) != 0)
		TU_FATAL("request %zu: got %s (status %s), want %s (status %s)",
		    i, got_path, got_status, path, status);
	free(got_path);
	free(got_status);
}

/*
 * The module logs through pam_syslog(), which pam_wrapper writes to stderr
 * (PAM_WRAPPER_DEBUGLEVEL 2 includes LOG_NOTICE and LOG_DEBUG): stderr is
 * caught for the length of one transaction.
 */
static int
capture_begin(void)
{
	char *path = tu_printf("%s/pam.log", tu_tmpdir());
	int saved, fd;

	fflush(stderr);
	if ((saved = dup(STDERR_FILENO)) == -1 ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		TU_FATAL("capture stderr: %s", strerror(errno));
	dup2(fd, STDERR_FILENO);
	close(fd);
	free(path);
	return saved;
}

static void
capture_end(int saved)
{
	char *path = tu_printf("%s/pam.log", tu_tmpdir());

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	free(env.pam_log);
	if ((env.pam_log = tu_read_file(path, NULL)) == NULL)
		env.pam_log = tu_xstrdup("");
	free(path);
}

#define assert_pam_logged(needle) \
	check_pam_logged((needle), 1, __FILE__, __LINE__)
#define assert_pam_not_logged(needle) \
	check_pam_logged((needle), 0, __FILE__, __LINE__)

static void
check_pam_logged(const char *needle, int want, const char *file, int line)
{
	int found = strstr(env.pam_log, needle) != NULL;

	if (found != want)
		tu_fatal(file, line, "the module %s \"%s\"; its log:\n%s",
		    want ? "did not log" : "logged", needle, env.pam_log);
}

/*
 * Judges one PAM transaction, run with run_pamtest(): every operation must
 * have returned what its case expects.  Shows the module's log when not.
 */
static void
check_cases(enum pamtest_err perr, const char *service, const char *user,
    const struct pam_testcase *tc, size_t n, const char *file, int line)
{
	const struct pam_testcase *bad = NULL;
	size_t i;

	if (perr == PAMTEST_ERR_CASE) {
		for (i = 0; i < n && bad == NULL; i++)
			if (tc[i].op_rv != tc[i].expected_rv)
				bad = &tc[i];
		if (bad != NULL)
			tu_fatal(file, line, "%s for \"%s\" (service %s): "
			    "got %s, want %s; the module logged:\n%s",
			    op_name(bad->pam_operation), user, service,
			    pam_name(bad->op_rv), pam_name(bad->expected_rv),
			    env.pam_log);
	}
	if (perr != PAMTEST_ERR_OK)
		tu_fatal(file, line, "PAM transaction for \"%s\" (service %s): "
		    "%s; the module logged:\n%s", user, service,
		    pamtest_strerror(perr), env.pam_log);
}

/*
 * One PAM transaction of user through service, as sshd runs it: pam_start,
 * the operations of the array tc, pam_end; stderr caught meanwhile.
 */
#define RUN_CASES(service, user, tc, file, line)			\
	do {								\
		enum pamtest_err perr_;					\
		struct pamtest_conv_data conv_;				\
		int saved_;						\
									\
		memset(&conv_, 0, sizeof(conv_));			\
		saved_ = capture_begin();				\
		perr_ = run_pamtest((service), (user), &conv_, (tc), NULL); \
		capture_end(saved_);					\
		check_cases(perr_, (service), (user), (tc),		\
		    sizeof(tc) / sizeof((tc)[0]), (file), (line));	\
	} while (0)

#define expect_account(service, user, want) \
	check_account((service), (user), (want), __FILE__, __LINE__)

static void
check_account(const char *service, const char *user, int want,
    const char *file, int line)
{
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_ACCOUNT, stack_code(want)),
	};

	RUN_CASES(service, user, tc, file, line);
}

/*
 * Fails unless envlist holds exactly the NULL-terminated entries of want;
 * frees envlist either way.
 */
static void
check_env(char **envlist, const char *const *want, const char *file,
    int line)
{
	size_t i, j, nwant, ngot;
	char *shown, *next;
	int bad = 0;

	for (nwant = 0; want[nwant] != NULL; nwant++)
		;
	for (ngot = 0; envlist != NULL && envlist[ngot] != NULL; ngot++) {
		for (j = 0; j < nwant; j++)
			if (strcmp(envlist[ngot], want[j]) == 0)
				break;
		if (j == nwant)
			bad = 1;	/* something we did not grant */
	}
	for (j = 0; j < nwant && !bad; j++) {
		for (i = 0; i < ngot; i++)
			if (strcmp(envlist[i], want[j]) == 0)
				break;
		if (i == ngot)
			bad = 1;	/* something we granted is missing */
	}
	if (!bad) {
		pamtest_free_env(envlist);
		return;
	}
	shown = tu_xstrdup("");
	for (i = 0; i < ngot; i++) {
		next = tu_printf("%s  got  [%s]\n", shown, envlist[i]);
		free(shown);
		shown = next;
	}
	for (j = 0; j < nwant; j++) {
		next = tu_printf("%s  want [%s]\n", shown, want[j]);
		free(shown);
		shown = next;
	}
	pamtest_free_env(envlist);
	tu_fatal(file, line, "PAM environment:\n%s(%zu entries, %zu wanted); "
	    "the module logged:\n%s", shown, ngot, nwant, env.pam_log);
}

#define expect_session(service, user, want, ...)			\
	do {								\
		static const char *const want_env_[] = {		\
			__VA_ARGS__, NULL };				\
		check_session((service), (user), (want), want_env_,	\
		    __FILE__, __LINE__);				\
	} while (0)

/*
 * pam_open_session must return want and leave exactly want_env in the PAM
 * environment (what sshd copies into the login); a session it opened must
 * close with PAM_SUCCESS.
 */
static void
check_session(const char *service, const char *user, int want,
    const char *const *want_env, const char *file, int line)
{
	if (want == PAM_SUCCESS) {
		struct pam_testcase tc[] = {
			pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
			pam_test(PAMTEST_GETENVLIST, 0),
			pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
		};

		RUN_CASES(service, user, tc, file, line);
		check_env(tc[1].case_out.envlist, want_env, file, line);
	} else {
		/* Like sshd, close only what was opened. */
		struct pam_testcase tc[] = {
			pam_test(PAMTEST_OPEN_SESSION, stack_code(want)),
			pam_test(PAMTEST_GETENVLIST, 0),
		};

		RUN_CASES(service, user, tc, file, line);
		check_env(tc[1].case_out.envlist, want_env, file, line);
	}
}

/* Waits, briefly, until the clock shows a second later than since. */
static void
wait_past(time_t since)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };

	while (time(NULL) <= since)
		nanosleep(&pause, NULL);
}

/* ------------------------------------------------------------ fixtures */

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "test_pam_keyfleet: %s is not set: run me "
		    "through tests/pam/run-pam-tests.sh\n", name);
		exit(77);
	}
	return v;
}

static int
group_setup(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	(void)state;
	env.module = need_env("KF_PAM_MODULE");
	env.config = need_env("KF_PAM_CONFIG");
	env.cache_dir = need_env("KF_PAM_CACHE_DIR");
	env.api.dir = tu_xstrdup(need_env("KF_PAM_API_DIR"));
	env.api.port = atoi(need_env("KF_PAM_API_PORT"));
	env.api.pid = 0;

	/*
	 * A port that refuses connections, as the API's does when its server
	 * is down: bound here, so nothing else takes it, but never listening.
	 */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((env.dead_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1 || bind(env.dead_fd, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0 || getsockname(env.dead_fd,
	    (struct sockaddr *)&sin, &len) != 0) {
		fprintf(stderr, "dead port: %s\n", strerror(errno));
		return -1;
	}
	env.dead_port = ntohs(sin.sin_port);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	close(env.dead_fd);
	tu_api_free(&env.api);
	free(env.pam_log);
	env.pam_log = NULL;
	return 0;
}

/* Each test starts with an empty cache, a well API and the plain config. */
static int
setup(void **state)
{
	(void)state;
	tu_remove_tree(env.cache_dir);
	if (mkdir(env.cache_dir, 0700) != 0) {
		fprintf(stderr, "mkdir %s: %s\n", env.cache_dir,
		    strerror(errno));
		return -1;
	}
	tu_api_put(&env.api, "_mode", NULL);
	write_config(NULL);
	env.requests0 = tu_api_requests(&env.api);
	free(env.pam_log);
	env.pam_log = tu_xstrdup("");
	return 0;
}

/* ------------------------------------------------------------- symbols */

/* nm -D --defined-only MODULE, run without this process's LD_PRELOAD. */
static char *
nm_defined(const char *path)
{
	char buf[4096], *out = tu_xstrdup(""), *next;
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe(fds) != 0)
		TU_FATAL("pipe: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) == -1)
		TU_FATAL("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		clearenv();
		setenv("PATH", "/usr/bin:/bin", 1);
		setenv("LC_ALL", "C", 1);
		execlp("nm", "nm", "-D", "--defined-only", path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((got = read(fds[0], buf, sizeof(buf) - 1)) != 0) {
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			TU_FATAL("read nm output: %s", strerror(errno));
		buf[got] = '\0';
		next = tu_printf("%s%s", out, buf);
		free(out);
		out = next;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		TU_FATAL("nm -D --defined-only %s failed (status %d)%s", path,
		    status, WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
		    ": is binutils installed?" : "");
	return out;
}

static void
test_module_exports_only_pam_entry_points(void **state)
{
	static const char *const entry[] = {
		"pam_sm_acct_mgmt", "pam_sm_open_session",
		"pam_sm_close_session",
	};
	static const char *const internal[] = {
		"kf_lookup", "kf_lookup_revalidate", "kf_ctx_new",
		"kf_ctx_free", "kf_buf_append", "kf_config_load", "kf_fetch",
		"kf_env_refused", "kf_record_parse_json", "kf_cache_open",
		"kf_strerror", "kf_log", "pam_sm_authenticate", "pam_sm_setcred", "pam_sm_chauthtok",
	};
	char *out, *line, *save = NULL, *sym;
	size_t i, nentry = 0;
	void *h, *p;
	Dl_info info;

	(void)state;
	if ((h = dlopen(env.module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		TU_FATAL("dlopen %s: %s", env.module, dlerror());
	for (i = 0; i < sizeof(entry) / sizeof(entry[0]); i++) {
		if ((p = dlsym(h, entry[i])) == NULL)
			TU_FATAL("%s is not exported: %s", entry[i], dlerror());
		/* Found in the module itself, not in some other library. */
		if (dladdr(p, &info) == 0 || info.dli_fname == NULL ||
		    strstr(info.dli_fname, "pam_keyfleet") == NULL)
			TU_FATAL("%s resolves outside the module (%s)", entry[i],
			    info.dli_fname != NULL ? info.dli_fname : "?");
	}
	for (i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
		if (dlsym(h, internal[i]) != NULL)
			TU_FATAL("%s is exported by the module", internal[i]);
	}
	dlclose(h);

	/* The whole list, not only the names above. */
	out = nm_defined(env.module);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((sym = strrchr(line, ' ')) == NULL)
			continue;
		sym++;
		if (strncmp(sym, "pam_sm_", 7) != 0)
			TU_FATAL("the module exports \"%s\" (%s)", sym, line);
		nentry++;
	}
	assert_int_equal(nentry, sizeof(entry) / sizeof(entry[0]));
	free(out);
}

/* ------------------------------------------------------------- account */

static void
test_account_active_user_succeeds(void **state)
{
	(void)state;
	put_user("pam-ann", 1, NULL);
	expect_account(SERVICE, "pam-ann", PAM_SUCCESS);
	assert_int_equal(requests(), 1);
	assert_request(0, "/users/pam-ann", "200");
}

/*
 * The account phase asks the API on every login: a user disabled centrally
 * is refused at once, although the cache still holds a fresh record (from
 * the login before) that says active.
 */
static void
test_account_revalidates_on_every_call(void **state)
{
	char *etag, *inm;

	(void)state;
	put_user("pam-ben", 1, NULL);
	expect_account(SERVICE, "pam-ben", PAM_SUCCESS);
	assert_int_equal(requests(), 1);
	expect_account(SERVICE, "pam-ben", PAM_SUCCESS);
	assert_int_equal(requests(), 2);
	/* A conditional request: unchanged, so 304. */
	inm = request_field(1, 4);
	assert_string_not_equal(inm, "-");
	free(inm);
	assert_request(1, "/users/pam-ben", "304");

	put_user("pam-ben", 0, NULL);
	expect_account(SERVICE, "pam-ben", PAM_PERM_DENIED);
	assert_int_equal(requests(), 3);
	assert_request(2, "/users/pam-ben", "200");
	assert_pam_logged("user pam-ben: disabled in the central API");
	etag = request_field(2, 4);
	assert_string_not_equal(etag, "-");
	free(etag);

	/* And again: the refusal does not depend on a first sighting. */
	expect_account(SERVICE, "pam-ben", PAM_PERM_DENIED);
	assert_int_equal(requests(), 4);

	/* Enabled again: the next login gets in. */
	put_user("pam-ben", 1, NULL);
	expect_account(SERVICE, "pam-ben", PAM_SUCCESS);
	assert_int_equal(requests(), 5);
}

static void
test_account_unknown_user_is_ignored(void **state)
{
	(void)state;
	expect_account(SERVICE, "pam-nobody", PAM_IGNORE);
	assert_int_equal(requests(), 1);
	assert_request(0, "/users/pam-nobody", "404");
	/* A remembered 404 is asked about again too. */
	expect_account(SERVICE, "pam-nobody", PAM_IGNORE);
	assert_int_equal(requests(), 2);
}

static void
test_account_unknown_user_denied_with_unknownuser_deny(void **state)
{
	(void)state;
	write_config("UnknownUser deny\n");
	expect_account(SERVICE, "pam-nobody", PAM_USER_UNKNOWN);
	assert_int_equal(requests(), 1);
	assert_request(0, "/users/pam-nobody", "404");
	assert_pam_logged("UnknownUser deny");
	/* Known users are not affected. */
	put_user("pam-cat", 1, NULL);
	expect_account(SERVICE, "pam-cat", PAM_SUCCESS);
}

/* A name keyfleet never asks the API about is refused locally. */
static void
test_account_invalid_user_name_asks_nobody(void **state)
{
	(void)state;
	expect_account(SERVICE, "../admin", PAM_USER_UNKNOWN);
	expect_account(SERVICE, "-rf", PAM_USER_UNKNOWN);
	expect_account(SERVICE, "a b", PAM_USER_UNKNOWN);
	assert_int_equal(requests(), 0);
}

static void
test_account_api_failing_without_cache_is_unavailable(void **state)
{
	(void)state;
	put_user("pam-dan", 1, NULL);
	tu_api_put(&env.api, "_mode", "status 500\n");
	expect_account(SERVICE, "pam-dan", PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(requests(), 1);
	assert_request(0, "/users/pam-dan", "500");
	assert_pam_logged("no trustworthy answer");

	tu_api_put(&env.api, "_mode", "garbage 200\n");
	expect_account(SERVICE, "pam-dan", PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(requests(), 2);

	/* The server down: connections refused. */
	write_config_api_down(NULL);
	expect_account(SERVICE, "pam-dan", PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(requests(), 2);
}

static void
test_account_api_failing_serves_the_cached_record(void **state)
{
	(void)state;
	put_user("pam-eve", 1, NULL);
	put_user("pam-fay", 1, NULL);
	expect_account(SERVICE, "pam-eve", PAM_SUCCESS);
	expect_account(SERVICE, "pam-fay", PAM_SUCCESS);
	/* fay is disabled while the API still answers, then it fails. */
	put_user("pam-fay", 0, NULL);
	expect_account(SERVICE, "pam-fay", PAM_PERM_DENIED);
	assert_int_equal(requests(), 3);

	tu_api_put(&env.api, "_mode", "status 500\n");
	expect_account(SERVICE, "pam-eve", PAM_SUCCESS);
	assert_int_equal(requests(), 4);
	assert_request(3, "/users/pam-eve", "500");
	assert_pam_logged("serving the cached answer");
	/* The last answer stands, whatever it was. */
	expect_account(SERVICE, "pam-fay", PAM_PERM_DENIED);
	assert_int_equal(requests(), 5);

	write_config_api_down(NULL);
	expect_account(SERVICE, "pam-eve", PAM_SUCCESS);
	expect_account(SERVICE, "pam-fay", PAM_PERM_DENIED);
	/* Never seen while the API was up: no answer. */
	expect_account(SERVICE, "pam-gus", PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(requests(), 5);
}

static void
test_account_cache_past_max_stale_is_unavailable(void **state)
{
	time_t done;

	(void)state;
	put_user("pam-hal", 1, NULL);
	write_config("CacheMaxStale 1\n");
	expect_account(SERVICE, "pam-hal", PAM_SUCCESS);
	done = time(NULL);

	/* At least a whole second after the fetch: past CacheMaxStale. */
	wait_past(done);
	write_config_api_down("CacheMaxStale 1\n");
	expect_account(SERVICE, "pam-hal", PAM_AUTHINFO_UNAVAIL);
	assert_pam_logged("older than CacheMaxStale");

	/* The entry is still there: only its age kept it from serving. */
	write_config_api_down("CacheMaxStale 3600\n");
	expect_account(SERVICE, "pam-hal", PAM_SUCCESS);
	/* CacheMaxStale 0: never. */
	write_config_api_down("CacheMaxStale 0\n");
	expect_account(SERVICE, "pam-hal", PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(requests(), 1);
}

/* ------------------------------------------------------------- session */

#define ENV_MIXED							\
	"{\"PROJECT\": \"apollo\", \"TEAM\": \"infra\", "		\
	"\"lower_case_9\": \"ok with spaces = and 'quotes'\", "	\
	"\"EMPTY\": \"\", "						\
	"\"LD_PRELOAD\": \"/tmp/evil.so\", "				\
	"\"LD_LIBRARY_PATH\": \"/tmp\", "				\
	"\"PATH\": \"/tmp/evil:/usr/bin\", "				\
	"\"BASH_ENV\": \"/tmp/evil.sh\", "				\
	"\"IFS\": \" \", \"HOME\": \"/tmp\", "			\
	"\"SSH_AUTH_SOCK\": \"/tmp/agent\", "				\
	"\"PYTHONPATH\": \"/tmp\", \"GCONV_PATH\": \"/tmp\", "	\
	"\"A=B\": \"x\", \"BAD\\nNAME\": \"x\", "			\
	"\"9LIVES\": \"x\", \"\": \"x\", \"WITH SPACE\": \"x\", "	\
	"\"MULTI\": \"line1\\nline2\", \"SECRET_TOKEN\": \"hunter2\"}"

static void
test_session_sets_only_allowed_environment(void **state)
{
	(void)state;
	put_user("pam-ivy", 1, ENV_MIXED);
	write_config("EnvDeny SECRET_*\n");
	expect_session(SERVICE, "pam-ivy", PAM_SUCCESS, "PROJECT=apollo",
	    "TEAM=infra", "lower_case_9=ok with spaces = and 'quotes'",
	    "EMPTY=");
	assert_int_equal(requests(), 1);
	assert_pam_logged("\"LD_PRELOAD\" not set: on keyfleet's built-in "
	    "deny list");
	assert_pam_logged("\"SECRET_TOKEN\" not set: denied by EnvDeny");
	assert_pam_logged("\"A=B\" not set: invalid name");
	assert_pam_logged("\"MULTI\" not set: newline or control character");
	/* Neither a value refused nor the name with a newline split a line. */
	assert_pam_not_logged("hunter2");
	assert_pam_not_logged("\nNAME");
}

static void
test_session_env_allow_limits_names(void **state)
{
	(void)state;
	put_user("pam-jay", 1, "{\"PROJECT\": \"apollo\", \"TEAM_A\": \"a\", "
	    "\"TEAM_SECRET\": \"s\", \"OTHER\": \"o\", \"LD_AUDIT\": \"x\", "
	    "\"PATH\": \"/tmp\"}");
	/* EnvDeny wins over EnvAllow, the built-in list over both. */
	write_config("EnvAllow PROJECT,TEAM_*,LD_*,PATH\n"
	    "EnvDeny TEAM_SECRET\n");
	expect_session(SERVICE, "pam-jay", PAM_SUCCESS, "PROJECT=apollo",
	    "TEAM_A=a");
	assert_pam_logged("\"OTHER\" not set: not allowed by EnvAllow");
	assert_pam_logged("\"TEAM_SECRET\" not set: denied by EnvDeny");
	assert_pam_logged("\"LD_AUDIT\" not set: on keyfleet's built-in");
}

/* The session phase reuses what the account phase just stored. */
static void
test_session_after_account_asks_nobody(void **state)
{
	(void)state;
	put_user("pam-kim", 1, "{\"PROJECT\": \"apollo\"}");
	expect_account(SERVICE, "pam-kim", PAM_SUCCESS);
	assert_int_equal(requests(), 1);
	expect_session(SERVICE, "pam-kim", PAM_SUCCESS, "PROJECT=apollo");
	assert_int_equal(requests(), 1);
}

static void
test_session_unknown_user_is_ignored(void **state)
{
	(void)state;
	expect_session(SERVICE, "pam-nobody", PAM_IGNORE, NULL);
	assert_int_equal(requests(), 1);
	assert_request(0, "/users/pam-nobody", "404");
}

static void
test_session_inactive_user_gets_nothing(void **state)
{
	(void)state;
	put_user("pam-lea", 0, "{\"PROJECT\": \"apollo\"}");
	expect_session(SERVICE, "pam-lea", PAM_SESSION_ERR, NULL);
}

static void
test_session_api_failing_without_cache_is_an_error(void **state)
{
	(void)state;
	put_user("pam-max", 1, "{\"PROJECT\": \"apollo\"}");
	tu_api_put(&env.api, "_mode", "status 500\n");
	expect_session(SERVICE, "pam-max", PAM_SESSION_ERR, NULL);
	assert_int_equal(requests(), 1);
	write_config_api_down(NULL);
	expect_session(SERVICE, "pam-max", PAM_SESSION_ERR, NULL);
}

static void
test_session_api_failing_uses_the_cached_record(void **state)
{
	(void)state;
	put_user("pam-ned", 1, "{\"PROJECT\": \"apollo\"}");
	/* CacheTTL 0: the entry is never fresh, so the session asks. */
	write_config("CacheTTL 0\n");
	expect_session(SERVICE, "pam-ned", PAM_SUCCESS, "PROJECT=apollo");
	assert_int_equal(requests(), 1);
	tu_api_put(&env.api, "_mode", "status 500\n");
	expect_session(SERVICE, "pam-ned", PAM_SUCCESS, "PROJECT=apollo");
	assert_int_equal(requests(), 2);
	assert_request(1, "/users/pam-ned", "500");
}

static void
test_close_session_succeeds(void **state)
{
	struct pam_testcase tc[] = {
		pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
	};

	(void)state;
	/* Alone, for any user, whatever the API says: nothing to undo. */
	tu_api_put(&env.api, "_mode", "status 500\n");
	RUN_CASES(SERVICE, "pam-nobody", tc, __FILE__, __LINE__);
	assert_int_equal(requests(), 0);
}

/* --------------------------------------------------- config and arguments */

static void
test_config_error_grants_nothing(void **state)
{
	static const char *const broken[] = {
		"Frobnicate yes\n",		/* unknown keyword */
		"CacheTTL soon\n",		/* bad value */
		"UnknownUser maybe\n",
		"EnvAllow\n",			/* missing value */
	};
	char *text;
	size_t i;

	(void)state;
	put_user("pam-olga", 1, "{\"PROJECT\": \"apollo\"}");
	/* A good login first: a fresh cache entry must not help either. */
	expect_account(SERVICE, "pam-olga", PAM_SUCCESS);
	assert_int_equal(requests(), 1);

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		write_config(broken[i]);
		expect_account(SERVICE, "pam-olga", PAM_SERVICE_ERR);
		/* The file and the line (6: after the five written lines). */
		assert_pam_logged(env.config);
		assert_pam_logged(":6: ");
		expect_session(SERVICE, "pam-olga", PAM_SERVICE_ERR, NULL);
	}

	/* No URL at all. */
	write_config_text("AllowHTTP yes\n", 0644);
	expect_account(SERVICE, "pam-olga", PAM_SERVICE_ERR);
	assert_pam_logged("no URL");

	/* Writable by the group: refused like sshd's StrictModes would. */
	text = tu_printf("URL http://127.0.0.1:%d/users/%%u\nAllowHTTP yes\n"
	    "CacheDirectory %s\n", env.api.port, env.cache_dir);
	write_config_text(text, 0664);
	expect_account(SERVICE, "pam-olga", PAM_SERVICE_ERR);
	expect_session(SERVICE, "pam-olga", PAM_SERVICE_ERR, NULL);

	/* Owned by someone else than root. */
	write_config_text(text, 0644);
	if (chown(env.config, 1, 1) != 0)
		TU_FATAL("chown %s: %s", env.config, strerror(errno));
	expect_account(SERVICE, "pam-olga", PAM_SERVICE_ERR);

	/* Missing. */
	if (unlink(env.config) != 0)
		TU_FATAL("unlink %s: %s", env.config, strerror(errno));
	expect_account(SERVICE, "pam-olga", PAM_SERVICE_ERR);
	expect_session(SERVICE, "pam-olga", PAM_SERVICE_ERR, NULL);

	/* None of it asked the API anything. */
	assert_int_equal(requests(), 1);
	free(text);
}

static void
test_unknown_module_argument_is_ignored(void **state)
{
	(void)state;
	put_user("pam-pia", 1, "{\"PROJECT\": \"apollo\"}");
	expect_account(SERVICE_ARGS, "pam-pia", PAM_SUCCESS);
	assert_pam_logged("unknown argument \"no_such_argument\" ignored");
	expect_session(SERVICE_ARGS, "pam-pia", PAM_SUCCESS, "PROJECT=apollo");
	assert_pam_logged("unknown argument \"no_such_argument\" ignored");
	/* And "debug" made it say more. */
	assert_pam_logged("1 environment variable(s) set");
	expect_account(SERVICE_ARGS, "pam-nobody", PAM_IGNORE);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, NULL)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_module_exports_only_pam_entry_points),
		T(test_account_active_user_succeeds),
		T(test_account_revalidates_on_every_call),
		T(test_account_unknown_user_is_ignored),
		T(test_account_unknown_user_denied_with_unknownuser_deny),
		T(test_account_invalid_user_name_asks_nobody),
		T(test_account_api_failing_without_cache_is_unavailable),
		T(test_account_api_failing_serves_the_cached_record),
		T(test_account_cache_past_max_stale_is_unavailable),
		T(test_session_sets_only_allowed_environment),
		T(test_session_env_allow_limits_names),
		T(test_session_after_account_asks_nobody),
		T(test_session_unknown_user_is_ignored),
		T(test_session_inactive_user_gets_nothing),
		T(test_session_api_failing_without_cache_is_an_error),
		T(test_session_api_failing_uses_the_cached_record),
		T(test_close_session_succeeds),
		T(test_config_error_grants_nothing),
		T(test_unknown_module_argument_is_ignored),
	};

	/* pam_syslog() through pam_wrapper: LOG_NOTICE and up to stderr. */
	setenv("PAM_WRAPPER_DEBUGLEVEL", "2", 1);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
