/* testutil.c - helpers shared by keyfleet's unit tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "testutil.h"

static char *tmpdir;
static unsigned config_serial;
static struct tu_key keys[TU_KEY_COUNT];
static int keys_made[TU_KEY_COUNT];

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static time_t
fixed_now(void)
{
	return TU_NOW;
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
remove_tmpdir(void)
{
	if (tmpdir != NULL && getenv("KF_TEST_KEEP_TMP") == NULL)
		tu_remove_tree(tmpdir);
	free(tmpdir);
	tmpdir = NULL;
}

/* Reads a small text file whole; NULL when it cannot. */
static char *
slurp(const char *path)
{
	char buf[16384];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return tu_xstrdup(buf);
}

/* Fills a key struct from an authorized_keys line "TYPE B64 COMMENT". */
static void
key_from_line(struct tu_key *k, const char *line)
{
	char *s = tu_xstrdup(line), *type, *b64, *comment, *save = NULL;

	s[strcspn(s, "\r\n")] = '\0';
	type = strtok_r(s, " ", &save);
	b64 = strtok_r(NULL, " ", &save);
	comment = strtok_r(NULL, "", &save);
	if (type == NULL || b64 == NULL || comment == NULL)
		TU_FATAL("unexpected public key line: %s", line);
	k->type = tu_xstrdup(type);
	k->b64 = tu_xstrdup(b64);
	k->comment = tu_xstrdup(comment);
	k->line = tu_printf("%s %s %s", type, b64, comment);
	k->text = tu_printf("%s %s", type, b64);
	free(s);
}

static int
ssh_keygen(struct tu_key *k, const char *name, const char *args)
{
	char *cmd, *pub, *line;
	int rc;

	cmd = tu_printf("ssh-keygen -q %s -N '' -C tu-%s@keyfleet -f '%s/%s' "
	    "</dev/null >/dev/null 2>&1", args, name, tu_tmpdir(), name);
	rc = system(cmd);
	free(cmd);
	if (rc != 0)
		return -1;
	pub = tu_printf("%s/%s.pub", tu_tmpdir(), name);
	line = slurp(pub);
	free(pub);
	if (line == NULL)
		return -1;
	key_from_line(k, line);
	free(line);
	return 0;
}

/* Deterministic filler bytes for hand-built keys. */
static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 131 + seed * 17 + 7) & 0xff);
}

static void
key_from_blob(struct tu_key *k, const char *type, const char *comment,
    struct tu_blob *b)
{
	char *b64 = tu_b64(b->p, b->len), *line;

	line = tu_printf("%s %s %s", type, b64, comment);
	key_from_line(k, line);
	free(line);
	free(b64);
	tu_blob_free(b);
}

/* A positive mpint of the given size whose top bit is set. */
static void
blob_mpint(struct tu_blob *b, size_t bytes, unsigned seed)
{
	unsigned char *v = tu_xmalloc(bytes + 1);

	v[0] = 0;	/* leading zero: the next byte has its top bit set */
	fill(v + 1, bytes, seed);
	v[1] |= 0x80;
	tu_blob_string(b, v, bytes + 1);
	free(v);
}

static void
make_key(enum tu_keykind kind)
{
	struct tu_key *k = &keys[kind];
	struct tu_blob b = { NULL, 0 };
	unsigned char pk[65];
	int r = 0;

	switch (kind) {
	case TU_ED25519:
		r = ssh_keygen(k, "ed25519", "-t ed25519");
		break;
	case TU_ECDSA256:
		r = ssh_keygen(k, "ecdsa256", "-t ecdsa -b 256");
		break;
	case TU_ECDSA384:
		r = ssh_keygen(k, "ecdsa384", "-t ecdsa -b 384");
		break;
	case TU_ECDSA521:
		r = ssh_keygen(k, "ecdsa521", "-t ecdsa -b 521");
		break;
	case TU_RSA2048:
		r = ssh_keygen(k, "rsa2048", "-t rsa -b 2048");
		break;
	case TU_RSA1024:
		r = ssh_keygen(k, "rsa1024", "-t rsa -b 1024");
		break;
	case TU_DSA:
		if (ssh_keygen(k, "dsa", "-t dsa") == 0)
			break;
		/* An OpenSSH built without DSA: the blob is p, q, g, y. */
		tu_blob_cstring(&b, "ssh-dss");
		blob_mpint(&b, 128, 1);
		blob_mpint(&b, 20, 2);
		blob_mpint(&b, 128, 3);
		blob_mpint(&b, 128, 4);
		key_from_blob(k, "ssh-dss", "tu-dsa@keyfleet", &b);
		break;
	case TU_SK_ED25519:
		fill(pk, 32, 5);
		tu_blob_cstring(&b, "sk-ssh-ed25519@openssh.com");
		tu_blob_string(&b, pk, 32);
		tu_blob_cstring(&b, "ssh:");
		key_from_blob(k, "sk-ssh-ed25519@openssh.com",
		    "tu-sk-ed25519@keyfleet", &b);
		break;
	case TU_SK_ECDSA256:
		fill(pk, 65, 6);
		pk[0] = 0x04;	/* uncompressed point */
		tu_blob_cstring(&b, "sk-ecdsa-sha2-nistp256@openssh.com");
		tu_blob_cstring(&b, "nistp256");
		tu_blob_string(&b, pk, 65);
		tu_blob_cstring(&b, "ssh:");
		key_from_blob(k, "sk-ecdsa-sha2-nistp256@openssh.com",
		    "tu-sk-ecdsa256@keyfleet", &b);
		break;
	case TU_KEY_COUNT:
	default:
		TU_FATAL("no such test key %d", (int)kind);
	}
	if (r != 0)
		TU_FATAL("ssh-keygen could not make test key %d", (int)kind);
	keys_made[kind] = 1;
}

void
tu_log_cb(void *arg, int priority, const char *message)
{
	struct tu_log *log = arg;
	char **msg;
	int *prio;

	msg = realloc(log->msg, (log->n + 1) * sizeof(*msg));
	assert_non_null(msg);
	log->msg = msg;
	prio = realloc(log->prio, (log->n + 1) * sizeof(*prio));
	assert_non_null(prio);
	log->prio = prio;
	log->msg[log->n] = tu_xstrdup(message);
	log->prio[log->n] = priority;
	log->n++;
}

void
tu_log_reset(struct tu_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		free(log->msg[i]);
	free(log->msg);
	free(log->prio);
	memset(log, 0, sizeof(*log));
}

const char *
tu_log_find(const struct tu_log *log, const char *needle)
{
	size_t i;

	for (i = 0; i < log->n; i++) {
		if (strstr(log->msg[i], needle) != NULL)
			return log->msg[i];
	}
	return NULL;
}

void
tu_log_print(const struct tu_log *log)
{
	size_t i;

	print_error("%zu message(s) logged:\n", log->n);
	for (i = 0; i < log->n; i++)
		print_error("  [%d] %s\n", log->prio[i], log->msg[i]);
}

void
tu_assert_logged(const struct tu_log *log, const char *needle,
    const char *file, int line)
{
	if (tu_log_find(log, needle) != NULL)
		return;
	print_error("no log message contains \"%s\"\n", needle);
	tu_log_print(log);
	_fail(file, line);
}

void
tu_assert_not_logged(const struct tu_log *log, const char *needle,
    const char *file, int line)
{
	const char *m;

	if ((m = tu_log_find(log, needle)) == NULL)
		return;
	print_error("a log message contains \"%s\": %s\n", needle, m);
	_fail(file, line);
}

int
tu_setup(void **state)
{
	struct tu_fixture *f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(kf_ctx_new(&f->ctx), 0);
	kf_ctx_set_log(f->ctx, tu_log_cb, &f->log);
	f->ctx->now = fixed_now;
	*state = f;
	return 0;
}

int
tu_teardown(void **state)
{
	struct tu_fixture *f = *state;

	kf_ctx_free(f->ctx);
	tu_log_reset(&f->log);
	free(f);
	return 0;
}

const char *
tu_tmpdir(void)
{
	const char *base;
	char *t;

	if (tmpdir != NULL)
		return tmpdir;
	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	t = tu_printf("%s/kf-unit-XXXXXX", base);
	if (mkdtemp(t) == NULL)
		TU_FATAL("mkdtemp %s: %s", t, strerror(errno));
	tmpdir = t;
	atexit(remove_tmpdir);
	return tmpdir;
}

char *
tu_write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char *path = tu_printf("%s/%s", tu_tmpdir(), name);
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		TU_FATAL("create %s: %s", path, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len)
		TU_FATAL("write %s: %s", path, strerror(errno));
	/* Exactly mode, whatever the umask. */
	if (fchmod(fd, mode) != 0)
		TU_FATAL("chmod %s: %s", path, strerror(errno));
	close(fd);
	return path;
}

char *
tu_write_config(const char *text)
{
	char *name, *path;

	name = tu_printf("keyfleet-%u.conf", ++config_serial);
	path = tu_write_file(name, text, strlen(text), 0644);
	free(name);
	return path;
}

uid_t
tu_config_owner(void)
{
	return getuid();
}

char *
tu_replace(const char *s, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = strlen(to), n = 0;
	const char *p, *q;
	char *out, *o;

	for (p = s; (q = strstr(p, from)) != NULL; p = q + flen)
		n++;
	out = tu_xmalloc(strlen(s) + n * tlen + 1);
	for (o = out, p = s; (q = strstr(p, from)) != NULL; p = q + flen) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tlen);
		o += tlen;
	}
	strcpy(o, p);
	return out;
}

char *
tu_repeat(char c, size_t n)
{
	char *s = tu_xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

void
tu_fatal(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	_fail(file, line);
	abort();	/* _fail() does not return inside a test */
}

void *
tu_xmalloc(size_t n)
{
	void *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
		TU_FATAL("out of memory");
	return p;
}

char *
tu_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		TU_FATAL("out of memory");
	return p;
}

char *
tu_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		TU_FATAL("out of memory");
	return s;
}

const struct tu_key *
tu_key(enum tu_keykind kind)
{
	if ((unsigned)kind >= TU_KEY_COUNT)
		TU_FATAL("no such test key %d", (int)kind);
	if (!keys_made[kind])
		make_key(kind);
	return &keys[kind];
}

void
tu_blob_bytes(struct tu_blob *b, const void *p, size_t n)
{
	unsigned char *np = realloc(b->p, b->len + n + 1);

	if (np == NULL)
		TU_FATAL("out of memory");
	b->p = np;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
tu_blob_u32(struct tu_blob *b, uint32_t v)
{
	unsigned char be[4] = {
		(unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v
	};

	tu_blob_bytes(b, be, 4);
}

void
tu_blob_string(struct tu_blob *b, const void *p, size_t n)
{
	tu_blob_u32(b, (uint32_t)n);
	tu_blob_bytes(b, p, n);
}

void
tu_blob_cstring(struct tu_blob *b, const char *s)
{
	tu_blob_string(b, s, strlen(s));
}

void
tu_blob_free(struct tu_blob *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

char *
tu_b64(const void *p, size_t n)
{
	const unsigned char *in = p;
	char *out = tu_xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = b64chars[v >> 6 & 63];
		*o++ = b64chars[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = b64chars[v >> 6 & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

unsigned char *
tu_unb64(const char *s, size_t *n)
{
	size_t len = strlen(s), i;
	unsigned char *out = tu_xmalloc(len / 4 * 3 + 1);
	uint32_t acc = 0;
	int bits = 0;
	const char *c;

	*n = 0;
	for (i = 0; i < len && s[i] != '='; i++) {
		if ((c = strchr(b64chars, s[i])) == NULL || s[i] == '\0')
			TU_FATAL("tu_unb64: not base64: %s", s);
		acc = acc << 6 | (uint32_t)(c - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*n)++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return out;
}

char *
tu_read_file(const char *path, size_t *len)
{
	char *buf = NULL, *nbuf;
	size_t n = 0, cap = 0;
	ssize_t got;
	int fd;

	if (len != NULL)
		*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap * 2 + 4096;
			if ((nbuf = realloc(buf, cap + 1)) == NULL)
				TU_FATAL("out of memory");
			buf = nbuf;
		}
		got = read(fd, buf + n, cap - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			TU_FATAL("read %s: %s", path, strerror(errno));
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

void
tu_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return;
	/* A test may leave a directory read-only: give it back first. */
	if (S_ISDIR(st.st_mode))
		(void)chmod(path, 0700);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------ cache entries */

char *
tu_cache_entry_path(const char *dir, const char *user)
{
	return tu_printf("%s/u-%s", dir, user);
}

char *
tu_cache_entry(const char *dir, const char *user, size_t *len)
{
	char *path = tu_cache_entry_path(dir, user), *bytes;

	bytes = tu_read_file(path, len);
	if (bytes == NULL && errno != ENOENT)
		TU_FATAL("read %s: %s", path, strerror(errno));
	free(path);
	return bytes;
}

const char *
tu_cache_entry_body(const char *bytes)
{
	const char *end = strstr(bytes, "\n\n");

	assert_non_null(end);
	return end + 2;
}

/* ---------------------------------------------------- the test API server */

char *
tu_source_file(const char *rel)
{
	const char *top = getenv("KF_TOP_SRCDIR"), *self = __FILE__, *cut;

	if (top != NULL && *top != '\0')
		return tu_printf("%s/%s", top, rel);
	if ((cut = strstr(self, "tests/unit/testutil.c")) != NULL)
		return tu_printf("%.*s%s", (int)(cut - self), self, rel);
	return tu_xstrdup(rel);
}

static char *
api_script(void)
{
	return tu_source_file("tests/api/server.py");
}

#define PYTHON	"/usr/bin/python3"

/* What tu_api_start_tls() hands the server. */
struct api_tls {
	const char	*cert;
	const char	*key;
	const char	*client_ca;	/* NULL: no client certificates */
};

/* Where a TLS server's stderr goes. */
static char *
api_stderr_path(const char *dir)
{
	return tu_printf("%s.stderr", dir);
}

/*
 * The child: becomes server.py, plain HTTP when tls is NULL, else with
 * stderr on errlog.  Allocates nothing: the parent may have threads.
 */
static void __attribute__((noreturn))
api_exec(const char *script, const char *dir, const char *portfile,
    const struct api_tls *tls, const char *errlog)
{
	int devnull, fd;

	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, 0);
		dup2(devnull, 1);
	}
	if (errlog != NULL && (fd = open(errlog, O_WRONLY | O_CREAT |
	    O_TRUNC | O_APPEND | O_CLOEXEC, 0600)) != -1)
		dup2(fd, 2);	/* the copy on 2 is not close-on-exec */
	/*
	 * argv[0] a full path: python derives its prefix from it, and a bare
	 * "python3" found first in PATH may belong to another installation
	 * (pyenv, a venv).  A failed handshake is reported only with
	 * --verbose.
	 */
	if (tls == NULL)
		execl(PYTHON, PYTHON, script, "--http", "--bind", "127.0.0.1",
		    "--data-dir", dir, "--port-file", portfile, (char *)NULL);
	else if (tls->client_ca == NULL)
		execl(PYTHON, PYTHON, script, "--cert", tls->cert, "--key",
		    tls->key, "--verbose", "--bind", "127.0.0.1", "--data-dir",
		    dir, "--port-file", portfile, (char *)NULL);
	else
		execl(PYTHON, PYTHON, script, "--cert", tls->cert, "--key",
		    tls->key, "--client-ca", tls->client_ca, "--verbose",
		    "--bind", "127.0.0.1", "--data-dir", dir, "--port-file",
		    portfile, (char *)NULL);
	_exit(127);
}

static void
api_start(struct tu_api *api, const char *dir, const struct api_tls *tls)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	char *script, *portfile, *text, *errlog = NULL;
	unsigned long port;
	int i, status;

	memset(api, 0, sizeof(*api));
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		TU_FATAL("mkdir %s: %s", dir, strerror(errno));
	api->dir = tu_xstrdup(dir);
	script = api_script();
	if (access(script, R_OK) != 0)
		TU_FATAL("test API server %s: %s (is KF_TOP_SRCDIR set?)",
		    script, strerror(errno));
	portfile = tu_printf("%s.port", dir);
	unlink(portfile);
	if (tls != NULL)
		errlog = api_stderr_path(dir);
	fflush(NULL);
	if ((api->pid = fork()) == -1)
		TU_FATAL("fork: %s", strerror(errno));
	if (api->pid == 0)
		api_exec(script, dir, portfile, tls, errlog);
	free(errlog);
	/* Up to 15 s: python starts slowly on a loaded machine. */
	for (i = 0; i < 750; i++) {
		if ((text = tu_read_file(portfile, NULL)) != NULL) {
			text[strcspn(text, "\n")] = '\0';
			if (*text != '\0' && strspn(text, "0123456789") ==
			    strlen(text) && (port = strtoul(text, NULL, 10)) >
			    0 && port < 65536) {
				api->port = (int)port;
				free(text);
				break;
			}
			free(text);
		}
		if (waitpid(api->pid, &status, WNOHANG) == api->pid) {
			api->pid = 0;
			text = tu_api_stderr(api);
			TU_FATAL("test API server %s exited (status %d) "
			    "before listening%s%s", script, status,
			    *text != '\0' ? ":\n" : "", text);
		}
		nanosleep(&pause, NULL);
	}
	free(portfile);
	if (api->port == 0) {
		tu_api_stop(api);
		TU_FATAL("test API server %s did not start listening", script);
	}
	free(script);
}

void
tu_api_start(struct tu_api *api, const char *dir)
{
	api_start(api, dir, NULL);
}

void
tu_api_start_tls(struct tu_api *api, const char *dir, const char *cert,
    const char *key, const char *client_ca)
{
	const struct api_tls tls = { cert, key, client_ca };

	api_start(api, dir, &tls);
}

char *
tu_api_stderr(const struct tu_api *api)
{
	char *path = api_stderr_path(api->dir), *text;

	text = tu_read_file(path, NULL);
	free(path);
	return text != NULL ? text : tu_xstrdup("");
}

const char *
tu_certs_dir(void)
{
	static char *dir;
	char *script, *cmd;
	int rc;

	if (dir != NULL)
		return dir;
	script = tu_source_file("tests/api/mkcerts.sh");
	cmd = tu_printf("/bin/bash '%s' '%s/certs' </dev/null >/dev/null",
	    script, tu_tmpdir());
	rc = system(cmd);
	if (rc != 0)
		TU_FATAL("%s failed (status %d); is openssl installed?",
		    script, rc);
	free(cmd);
	free(script);
	dir = tu_printf("%s/certs", tu_tmpdir());
	return dir;
}

void
tu_api_stop(struct tu_api *api)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	if (api->pid <= 0)
		return;
	kill(api->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(api->pid, NULL, WNOHANG) == api->pid) {
			api->pid = 0;
			return;
		}
		nanosleep(&pause, NULL);
	}
	kill(api->pid, SIGKILL);
	waitpid(api->pid, NULL, 0);
	api->pid = 0;
}

void
tu_api_free(struct tu_api *api)
{
	tu_api_stop(api);
	free(api->dir);
	api->dir = NULL;
}

void
tu_api_put(const struct tu_api *api, const char *name, const char *text)
{
	char *path = tu_printf("%s/%s", api->dir, name), *tmp;
	int fd;

	if (text == NULL) {
		if (unlink(path) == -1 && errno != ENOENT)
			TU_FATAL("unlink %s: %s", path, strerror(errno));
		free(path);
		return;
	}
	/* Renamed into place: the server never reads half a file. */
	tmp = tu_printf("%s.tu-tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, text, strlen(text)) !=
	    (ssize_t)strlen(text) || close(fd) != 0)
		TU_FATAL("write %s: %s", tmp, strerror(errno));
	if (rename(tmp, path) != 0)
		TU_FATAL("rename %s: %s", tmp, strerror(errno));
	free(tmp);
	free(path);
}

/* The request log's lines, as one string; "" when there is none. */
static char *
api_log(const struct tu_api *api)
{
	char *path = tu_printf("%s/_requests.log", api->dir), *text;

	text = tu_read_file(path, NULL);
	free(path);
	return text != NULL ? text : tu_xstrdup("");
}

size_t
tu_api_requests(const struct tu_api *api)
{
	char *text = api_log(api), *p;
	size_t n = 0;

	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(text);
	return n;
}

char *
tu_api_request_field(const struct tu_api *api, size_t i, int field)
{
	char *text = api_log(api), *line = text, *out = NULL;
	size_t len;
	int f;

	for (; i > 0 && line != NULL; i--)
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	if (line == NULL || *line == '\0')
		goto out;
	line[strcspn(line, "\n")] = '\0';
	for (f = 1; f < field && line != NULL; f++)
		if ((line = strchr(line, '\t')) != NULL)
			line++;
	if (line == NULL || field < 1)
		goto out;
	len = strcspn(line, "\t");
	out = tu_printf("%.*s", (int)len, line);
 out:
	free(text);
	return out;
}
