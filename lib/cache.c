/*
 * cache.c - entries on disk, written so that nothing is ever lost.
 *
 * Every file is reached through a descriptor of the cache directory with
 * O_NOFOLLOW, and checked with fstat() before it is believed.  Entries are
 * replaced by rename(2) only after the new content is on disk, so a crash,
 * a full disk or a failed fetch leaves the last good entry in place.
 *
 * Files in the directory, for a user NAME:
 *   u-NAME   the entry      l-NAME   the lookup lock (flock)
 *   f-NAME   the time of the last failed fetch, and "timeout" when it
 *            ran into Timeout
 *   .t-NAME.*  a temporary file on its way to becoming u-NAME
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyfleet.h"
#include "cache.h"
#include "log.h"

#define CACHE_MAGIC		"KEYFLEET-CACHE 1\n"
#define CACHE_HEADER_MAX	1024
#define CACHE_NAME_MAX		96
#define CACHE_ETAG_MAX		256	/* as lib/fetch.c takes one */

struct kf_cache {
	struct kf_ctx	*ctx;
	char		*dir;
	int		 dfd;
	uid_t		 uid;	/* the directory's owner */
	gid_t		 gid;
};

static int
entry_name(char *buf, size_t len, const char *prefix, const char *user)
{
	int n = snprintf(buf, len, "%s%s", prefix, user);

	return n > 0 && (size_t)n < len ? 0 : KF_ERR_INVAL;
}

/* Whether a file of the cache may be believed. */
static const char *
unsafe_file(const struct kf_cache *cache, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return "is not a regular file";
	if (st->st_uid != cache->uid && st->st_uid != 0)
		return "is not owned by the cache directory's owner";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "is writable by group or others";
	return NULL;
}

/* Gives a file root created the directory owner's ownership. */
static int
adopt(const struct kf_cache *cache, int fd)
{
	if (geteuid() != 0 || cache->uid == 0)
		return 0;
	return fchown(fd, cache->uid, cache->gid) == 0 ? 0 : KF_ERR_IO;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return KF_ERR_IO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads "KEY VALUE\n" at *p; returns the value (NUL-terminated in place). */
static char *
header_field(char **p, const char *key)
{
	size_t klen = strlen(key);
	char *v, *nl;

	if (strncmp(*p, key, klen) != 0 || (*p)[klen] != ' ')
		return NULL;
	v = *p + klen + 1;
	if ((nl = strchr(v, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return v;
}

/*
 * Whether an ETag read back may go out again in If-None-Match: what
 * lib/fetch.c accepts from a server, printable ASCII, so that no CR or
 * other control byte in the file can add to the request.
 */
static int
valid_etag(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n > CACHE_ETAG_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return 0;
	}
	return 1;
}

void
kf_cache_entry_clear(struct kf_cache_entry *e)
{
	free(e->etag);
	kf_buf_free(&e->body);
	memset(e, 0, sizeof(*e));
}

int
kf_cache_entry_parse(const char *bytes, size_t len, size_t max_body,
    struct kf_cache_entry *e)
{
	char head[CACHE_HEADER_MAX + 1], *end, *p, *v;
	unsigned long status, length, fetched;
	size_t hlen;
	int r = KF_ERR_PARSE;

	memset(e, 0, sizeof(*e));
	if (len < sizeof(CACHE_MAGIC) - 1 ||
	    memcmp(bytes, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1) != 0)
		return KF_ERR_PARSE;
	/* The header, ending with an empty line, is text within the limit. */
	hlen = len < CACHE_HEADER_MAX ? len : CACHE_HEADER_MAX;
	memcpy(head, bytes, hlen);
	head[hlen] = '\0';
	if ((end = strstr(head, "\n\n")) == NULL)
		return KF_ERR_PARSE;
	hlen = (size_t)(end - head) + 2;
	end[1] = '\0';
	p = head + sizeof(CACHE_MAGIC) - 1;
	if ((v = header_field(&p, "status")) == NULL ||
	    kf_parse_ulong(v, 200, 404, &status) != 0 ||
	    (status != 200 && status != 404))
		goto out;
	if ((v = header_field(&p, "fetched")) == NULL ||
	    kf_parse_ulong(v, 1, 253402300799UL, &fetched) != 0)
		goto out;
	if (strncmp(p, "etag ", 5) == 0) {
		if ((v = header_field(&p, "etag")) == NULL || !valid_etag(v))
			goto out;
		if ((e->etag = strdup(v)) == NULL) {
			r = KF_ERR_NOMEM;
			goto out;
		}
	}
	if ((v = header_field(&p, "length")) == NULL ||
	    kf_parse_ulong(v, 0, max_body, &length) != 0 || *p != '\0')
		goto out;
	if (len - hlen != length || (status == 404 && length != 0))
		goto out;
	e->status = (long)status;
	e->fetched = (time_t)fetched;
	kf_buf_init(&e->body, 0);
	r = kf_buf_append(&e->body, bytes + hlen, length);
 out:
	if (r != 0)
		kf_cache_entry_clear(e);
	return r;
}

int
kf_cache_open(struct kf_ctx *ctx, const char *dir, struct kf_cache **cachep)
{
	struct kf_cache *cache;
	struct stat st;
	int dfd;

	*cachep = NULL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1) {
		kf_log(ctx, errno == ENOENT ? KF_LOG_VERBOSE : KF_LOG_INFO,
		    "cache directory %s: %s; working without a cache", dir,
		    errno == ELOOP || errno == ENOTDIR ?
		    "not a directory (or a symbolic link)" : strerror(errno));
		return KF_ERR_IO;
	}
	if (fstat(dfd, &st) == -1 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid() && geteuid() != 0)) {
		kf_log(ctx, KF_LOG_ERROR, "cache directory %s is writable by "
		    "group or others, or owned by another user; working "
		    "without a cache", dir);
		close(dfd);
		return KF_ERR_PERM;
	}
	if ((cache = calloc(1, sizeof(*cache))) == NULL ||
	    (cache->dir = strdup(dir)) == NULL) {
		free(cache);
		close(dfd);
		return KF_ERR_NOMEM;
	}
	cache->ctx = ctx;
	cache->dfd = dfd;
	cache->uid = st.st_uid;
	cache->gid = st.st_gid;
	*cachep = cache;
	return 0;
}

void
kf_cache_close(struct kf_cache *cache)
{
	if (cache == NULL)
		return;
	close(cache->dfd);
	free(cache->dir);
	free(cache);
}

int
kf_cache_read(struct kf_cache *cache, const char *user, size_t max_body,
    struct kf_cache_entry *entry)
{
	char name[CACHE_NAME_MAX];
	struct kf_buf raw;
	const char *why = NULL;
	struct stat st;
	int fd, r;

	memset(entry, 0, sizeof(*entry));
	if ((r = entry_name(name, sizeof(name), "u-", user)) != 0)
		return r;
	fd = openat(cache->dfd, name,
	    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			return KF_ERR_NOENT;
		kf_log(cache->ctx, KF_LOG_INFO, "cache entry %s/%s: %s; "
		    "ignored", cache->dir, name, errno == ELOOP ?
		    "a symbolic link" : strerror(errno));
		return errno == ELOOP ? KF_ERR_PERM : KF_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || (why = unsafe_file(cache, &st)) != NULL) {
		kf_log(cache->ctx, KF_LOG_ERROR, "cache entry %s/%s %s; "
		    "ignored", cache->dir, name, why != NULL ? why :
		    strerror(errno));
		close(fd);
		return KF_ERR_PERM;
	}
	kf_buf_init(&raw, 0);
	r = kf_read_fd(fd, &raw, max_body + CACHE_HEADER_MAX);
	close(fd);
	if (r == 0)
		r = kf_cache_entry_parse(raw.data, raw.len, max_body, entry);
	kf_buf_free(&raw);
	if (r != 0) {
		kf_cache_entry_clear(entry);
		if (r != KF_ERR_NOMEM) {
			kf_log(cache->ctx, KF_LOG_ERROR, "cache entry %s/%s is "
			    "corrupt; ignored", cache->dir, name);
			r = KF_ERR_PARSE;
		}
	}
	return r;
}

int
kf_cache_write(struct kf_cache *cache, const char *user,
    const struct kf_cache_entry *e)
{
	static unsigned counter;
	char name[CACHE_NAME_MAX], tmp[CACHE_NAME_MAX + 32], head[CACHE_HEADER_MAX];
	int fd = -1, n, r = KF_ERR_IO;

	if ((r = entry_name(name, sizeof(name), "u-", user)) != 0)
		return r;
	n = snprintf(head, sizeof(head), CACHE_MAGIC "status %ld\nfetched "
	    "%lld\n%s%s%slength %zu\n\n", e->status, (long long)e->fetched,
	    e->etag != NULL ? "etag " : "", e->etag != NULL ? e->etag : "",
	    e->etag != NULL ? "\n" : "", e->body.len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return KF_ERR_INVAL;
	snprintf(tmp, sizeof(tmp), ".t-%s.%ld.%u", user, (long)getpid(),
	    counter++);
	fd = openat(cache->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		kf_log(cache->ctx, KF_LOG_INFO, "cache %s: cannot write an "
		    "entry for %s: %s", cache->dir, user, strerror(errno));
		return KF_ERR_IO;
	}
	if (write_all(fd, head, (size_t)n) != 0 ||
	    write_all(fd, e->body.data, e->body.len) != 0 ||
	    fsync(fd) != 0 || adopt(cache, fd) != 0) {
		kf_log(cache->ctx, KF_LOG_INFO, "cache %s: writing the entry "
		    "for %s failed: %s; the previous entry is kept", cache->dir,
		    user, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(cache->dfd, tmp, cache->dfd, name) != 0) {
		kf_log(cache->ctx, KF_LOG_INFO, "cache %s: replacing the entry "
		    "for %s failed: %s", cache->dir, user, strerror(errno));
		goto fail;
	}
	/* The rename itself must survive a crash too. */
	(void)fsync(cache->dfd);
	return 0;
 fail:
	if (fd != -1)
		close(fd);
	(void)unlinkat(cache->dfd, tmp, 0);
	return KF_ERR_IO;
}

int
kf_cache_lock(struct kf_cache *cache, const char *user, long timeout_ms,
    int *waited)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	char name[CACHE_NAME_MAX];
	long start;
	struct stat st;
	int fd, r;

	*waited = 0;
	if ((r = entry_name(name, sizeof(name), "l-", user)) != 0)
		return r;
	fd = openat(cache->dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd == -1)
		return KF_ERR_IO;
	if (fstat(fd, &st) == -1 || unsafe_file(cache, &st) != NULL ||
	    adopt(cache, fd) != 0) {
		close(fd);
		return KF_ERR_PERM;
	}
	start = kf_monotonic_ms();
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return KF_ERR_IO;
		}
		*waited = 1;
		if (kf_monotonic_ms() - start >= timeout_ms) {
			close(fd);
			return KF_ERR_TIMEOUT;
		}
		nanosleep(&pause, NULL);
	}
}

void
kf_cache_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* releases the flock */
}

void
kf_cache_note_failure(struct kf_cache *cache, const char *user,
    int timed_out)
{
	char name[CACHE_NAME_MAX], stamp[40];
	int fd, n;

	if (entry_name(name, sizeof(name), "f-", user) != 0)
		return;
	(void)unlinkat(cache->dfd, name, 0);
	fd = openat(cache->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return;
	n = snprintf(stamp, sizeof(stamp), "%lld%s\n",
	    (long long)cache->ctx->now(), timed_out ? " timeout" : "");
	if (write_all(fd, stamp, (size_t)n) != 0 || adopt(cache, fd) != 0)
		(void)unlinkat(cache->dfd, name, 0);
	close(fd);
}

int
kf_cache_failed_since(struct kf_cache *cache, const char *user, time_t t,
    int timed_out)
{
	char name[CACHE_NAME_MAX], *kind;
	unsigned long when;
	struct kf_buf b;
	struct stat st;
	int fd, r = 0;

	if (entry_name(name, sizeof(name), "f-", user) != 0)
		return 0;
	fd = openat(cache->dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1)
		return 0;
	kf_buf_init(&b, 0);
	if (fstat(fd, &st) == 0 && unsafe_file(cache, &st) == NULL &&
	    kf_read_fd(fd, &b, 32) == 0) {
		b.data[strcspn(b.data, "\n")] = '\0';
		if ((kind = strchr(b.data, ' ')) != NULL)
			*kind++ = '\0';
		r = kf_parse_ulong(b.data, 0, 253402300799UL, &when) == 0 &&
		    (time_t)when >= t && (!timed_out ||
		    (kind != NULL && strcmp(kind, "timeout") == 0));
	}
	kf_buf_free(&b);
	close(fd);
	return r;
}

int
kf_cache_flush(struct kf_cache *cache, const char *user)
{
	char name[CACHE_NAME_MAX];
	struct dirent *d;
	DIR *dir;
	int fd, n = 0, r;

	if (user != NULL) {
		if ((r = entry_name(name, sizeof(name), "f-", user)) != 0)
			return r;
		(void)unlinkat(cache->dfd, name, 0);
		(void)entry_name(name, sizeof(name), "u-", user);
		if (unlinkat(cache->dfd, name, 0) == 0)
			return 1;
		return errno == ENOENT ? 0 : KF_ERR_IO;
	}
	if ((fd = dup(cache->dfd)) == -1 || (dir = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return KF_ERR_IO;
	}
	rewinddir(dir);
	r = 0;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, "u-", 2) != 0 &&
		    strncmp(d->d_name, "f-", 2) != 0 &&
		    strncmp(d->d_name, ".t-", 3) != 0)
			continue;
		if (unlinkat(cache->dfd, d->d_name, 0) != 0) {
			r = KF_ERR_IO;
			continue;
		}
		if (d->d_name[0] == 'u')
			n++;
	}
	closedir(dir);
	return r != 0 ? r : n;
}
