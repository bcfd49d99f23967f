/*
 * testutil.h - helpers shared by keyfleet's unit tests: a log that can be
 * searched, a context with a fixed clock, config and secret files with
 * exact modes, and real SSH public keys.  Pulls in <cmocka.h> and what it
 * needs first.
 */
#ifndef KF_TESTUTIL_H
#define KF_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <time.h>

#include "keyfleet.h"

/* The fixed clock of every test context: 2026-09-21T14:13:20Z. */
#define TU_NOW	((time_t)1790000000)

/* ---------------------------------------------------------------- log */

/* Every message the library logged through a context, in order. */
struct tu_log {
	char	**msg;
	int	 *prio;
	size_t	  n;
};

/* A kf_log_fn that appends to the struct tu_log passed as arg. */
void		 tu_log_cb(void *arg, int priority, const char *message);
void		 tu_log_reset(struct tu_log *log);
/* Prints every captured message, to explain a failure. */
void		 tu_log_print(const struct tu_log *log);
/* The first message containing needle, or NULL. */
const char	*tu_log_find(const struct tu_log *log, const char *needle);

void	tu_assert_logged(const struct tu_log *log, const char *needle,
	    const char *file, int line);
void	tu_assert_not_logged(const struct tu_log *log, const char *needle,
	    const char *file, int line);
/* Fails (printing the log) unless a message contains needle. */
#define assert_logged(log, needle) \
	tu_assert_logged((log), (needle), __FILE__, __LINE__)
/* Fails (printing the offending message) if any message contains needle. */
#define assert_not_logged(log, needle) \
	tu_assert_not_logged((log), (needle), __FILE__, __LINE__)

/* ---------------------------------------------------------- fixtures */

/* A context that logs into log and whose clock says TU_NOW. */
struct tu_fixture {
	struct kf_ctx	*ctx;
	struct tu_log	 log;
};

/* cmocka setup/teardown that put a struct tu_fixture in *state. */
int	tu_setup(void **state);
int	tu_teardown(void **state);

/* ------------------------------------------------------------- files */

/* A private scratch directory, created on first use, removed at exit. */
const char	*tu_tmpdir(void);
/* Writes len bytes to a new file in tu_tmpdir() with exactly mode. */
char		*tu_write_file(const char *name, const void *data, size_t len,
		    mode_t mode);
/*
 * Writes text to a fresh keyfleet.conf (mode 0644) and returns its path.
 * Pass tu_config_owner() as kf_config_load()'s owner: root in CI, the
 * invoking user elsewhere, who then owns the file.
 */
char		*tu_write_config(const char *text);
uid_t		 tu_config_owner(void);

/* Fails the running test with a message; never returns. */
void	tu_fatal(const char *file, int line, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 3, 4)));
#define TU_FATAL(...)	tu_fatal(__FILE__, __LINE__, __VA_ARGS__)

/*
 * Reads a whole file, binary-safe, into a new NUL-terminated buffer and
 * stores its length in *len (if len is not NULL); NULL when it cannot be
 * opened (errno tells why).
 */
char		*tu_read_file(const char *path, size_t *len);
/* Removes a directory tree (or a file); a missing path is not an error. */
void		 tu_remove_tree(const char *path);

/* ---------------------------------------------------- the test API server */

/*
 * tests/api/server.py run with --http on a free port of 127.0.0.1, serving
 * dir: per-user records dir/NAME.json, control files such as dir/_mode
 * ("status 500", "garbage", ...) and dir/_latency_ms, and a log of every
 * request in dir/_requests.log.  See server.py for the details.
 */
struct tu_api {
	pid_t	 pid;		/* 0 when not running */
	int	 port;
	char	*dir;
};

/*
 * Starts the server on dir (created when missing) and waits until it
 * listens; fails the test if it cannot.  The script is found through
 * $KF_TOP_SRCDIR, which "make check" exports.
 */
void	 tu_api_start(struct tu_api *api, const char *dir);
/* Stops it; its port then refuses connections.  Safe to call twice. */
void	 tu_api_stop(struct tu_api *api);
/* Stops it if running and frees what tu_api_start() allocated. */
void	 tu_api_free(struct tu_api *api);
/* Writes text to dir/name (a record or a control file); NULL removes it. */
void	 tu_api_put(const struct tu_api *api, const char *name,
	    const char *text);
/* How many requests the server has logged so far. */
size_t	 tu_api_requests(const struct tu_api *api);
/*
 * Field (1-based) of the i-th (0-based) logged request, as a new string:
 * 3 is the path, 4 the If-None-Match value ("-" when absent), 8 the
 * status.  NULL when there is no such request or field.
 */
char	*tu_api_request_field(const struct tu_api *api, size_t i, int field);

/*
 * Like tu_api_start(), but the server speaks TLS with cert and key (PEM
 * paths) and, when client_ca is not NULL, requires a client certificate
 * signed by that CA.  It runs with --verbose, its stderr going to a file
 * that tu_api_stderr() reads, so a test can see why a handshake failed.
 */
void	 tu_api_start_tls(struct tu_api *api, const char *dir,
	    const char *cert, const char *key, const char *client_ca);
/*
 * What a server started by tu_api_start_tls() has written on stderr so
 * far, as a new string ("" when nothing, or for tu_api_start()).
 */
char	*tu_api_stderr(const struct tu_api *api);

/*
 * Throwaway TLS material made by tests/api/mkcerts.sh, once per process,
 * in a directory under tu_tmpdir(); returns that directory.  It holds
 * ca.pem, server.pem/.key (127.0.0.1, ::1, localhost), wronghost.pem/.key
 * (signed by ca.pem, valid only for wrong.example), client.pem/.key and
 * an unrelated other-ca.pem/.key.  Fails the test if it cannot be made.
 */
const char	*tu_certs_dir(void);

/* A file of the source tree: $KF_TOP_SRCDIR/rel, else found from here. */
char		*tu_source_file(const char *rel);

/* ------------------------------------------------------ cache entries */

/* The path of user's entry in the cache directory dir. */
char		*tu_cache_entry_path(const char *dir, const char *user);
/*
 * The bytes of user's entry in dir (length in *len when len is not
 * NULL), or NULL when there is none; any other read error fails the test.
 */
char		*tu_cache_entry(const char *dir, const char *user, size_t *len);
/* The body an entry holds (after the blank line); fails if it has none. */
const char	*tu_cache_entry_body(const char *bytes);

/* ----------------------------------------------------------- strings */

/* Returns a new string with every "from" in s replaced by "to". */
char	*tu_replace(const char *s, const char *from, const char *to);
/* Returns a new string of n copies of c. */
char	*tu_repeat(char c, size_t n);
/* malloc() that fails the test instead of returning NULL. */
void	*tu_xmalloc(size_t n);
char	*tu_xstrdup(const char *s);
/* Formats into a new string. */
char	*tu_printf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------- SSH keys */

enum tu_keykind {
	TU_ED25519 = 0,
	TU_ECDSA256,
	TU_ECDSA384,
	TU_ECDSA521,
	TU_RSA2048,
	TU_RSA1024,
	TU_DSA,
	TU_SK_ED25519,
	TU_SK_ECDSA256,
	TU_KEY_COUNT
};

/* A public key as an authorized_keys line would carry it. */
struct tu_key {
	const char	*type;		/* "ssh-ed25519" */
	const char	*b64;		/* base64 of the wire-format blob */
	const char	*comment;	/* "tu-ed25519@keyfleet" */
	const char	*line;		/* "TYPE B64 COMMENT" */
	const char	*text;		/* "TYPE B64", no comment */
};

/*
 * Real keys made with ssh-keygen on first use (sk-* keys, which need a
 * token, are built by hand in the wire format).  Fails the test if
 * ssh-keygen cannot make them.
 */
const struct tu_key	*tu_key(enum tu_keykind kind);

/* An SSH wire-format blob being built (RFC 4251 section 5). */
struct tu_blob {
	unsigned char	*p;
	size_t		 len;
};

void	tu_blob_u32(struct tu_blob *b, uint32_t v);
void	tu_blob_bytes(struct tu_blob *b, const void *p, size_t n);
void	tu_blob_string(struct tu_blob *b, const void *p, size_t n);
void	tu_blob_cstring(struct tu_blob *b, const char *s);
void	tu_blob_free(struct tu_blob *b);

/* Standard padded base64, written independently of lib/b64.c. */
char		*tu_b64(const void *p, size_t n);
/* Decodes standard base64 (the keys ssh-keygen made); fails on junk. */
unsigned char	*tu_unb64(const char *s, size_t *n);

#endif /* KF_TESTUTIL_H */
