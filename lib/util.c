/* util.c - buffers, checked file access and number parsing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keyfleet.h"
#include "util.h"

void
kf_buf_init(struct kf_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int
buf_reserve(struct kf_buf *b, size_t extra)
{
	size_t need, nalloc;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return KF_ERR_NOMEM;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	nalloc = b->alloc ? b->alloc : 256;
	while (nalloc < need) {
		if (nalloc > SIZE_MAX / 2)
			return KF_ERR_NOMEM;
		nalloc *= 2;
	}
	/* Copy rather than realloc so that no stale copy is left unwiped. */
	if ((p = malloc(nalloc)) == NULL)
		return KF_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		explicit_bzero(b->data, b->alloc);
		free(b->data);
	}
	b->data = p;
	b->alloc = nalloc;
	return 0;
}

int
kf_buf_append(struct kf_buf *b, const void *p, size_t n)
{
	int r;

	if (b->max != 0 && (n > b->max || b->len > b->max - n))
		return KF_ERR_TOOBIG;
	if ((r = buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
kf_buf_putc(struct kf_buf *b, char c)
{
	return kf_buf_append(b, &c, 1);
}

int
kf_buf_puts(struct kf_buf *b, const char *s)
{
	return kf_buf_append(b, s, strlen(s));
}

void
kf_buf_free(struct kf_buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->alloc);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->alloc = 0;
}

char *
kf_buf_take(struct kf_buf *b)
{
	char *p;

	if (b->data == NULL && kf_buf_append(b, "", 0) != 0)
		return NULL;
	p = b->data;
	b->data = NULL;
	b->len = b->alloc = 0;
	return p;
}

void
kf_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
kf_open_checked(const char *path, uid_t owner, int secret, const char **why)
{
	struct stat st;
	int fd;

	*why = NULL;
	/* O_NONBLOCK: a FIFO must be refused below, not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP) {
			*why = "is a symbolic link";
			return KF_ERR_PERM;
		}
		*why = strerror(errno);
		return KF_ERR_IO;
	}
	if (fstat(fd, &st) == -1) {
		*why = strerror(errno);
		close(fd);
		return KF_ERR_IO;
	}
	if (!S_ISREG(st.st_mode))
		*why = "is not a regular file";
	else if (st.st_uid != owner && st.st_uid != 0)
		*why = "has an unsafe owner";
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		*why = "is writable by group or others";
	else if (secret && (st.st_mode & S_IROTH) != 0)
		*why = "is readable by others";
	if (*why != NULL) {
		close(fd);
		return KF_ERR_PERM;
	}
	return fd;
}

int
kf_read_fd(int fd, struct kf_buf *b, size_t max)
{
	char chunk[4096];
	ssize_t n;
	int r;

	b->max = max;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			explicit_bzero(chunk, sizeof(chunk));
			return KF_ERR_IO;
		}
		if ((r = kf_buf_append(b, chunk, (size_t)n)) != 0) {
			explicit_bzero(chunk, sizeof(chunk));
			return r;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (b->data == NULL)
		return kf_buf_append(b, "", 0);
	return 0;
}

int
kf_parse_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0')
		return KF_ERR_INVAL;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return KF_ERR_INVAL;
		if (v > (ULONG_MAX - (unsigned long)(*p - '0')) / 10)
			return KF_ERR_INVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return KF_ERR_INVAL;
	*out = v;
	return 0;
}

int
kf_parse_seconds_ms(const char *s, long min_ms, long max_ms, long *out)
{
	unsigned long whole = 0;
	long ms, frac = 0, scale = 100;
	const char *p;

	if (*s == '\0' || *s == '.')
		return KF_ERR_INVAL;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (unsigned long)(*p - '0');
		if (whole > (unsigned long)max_ms / 1000 + 1)
			return KF_ERR_INVAL;
	}
	if (*p == '.') {
		if (p[1] == '\0')
			return KF_ERR_INVAL;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			/* Milliseconds are the resolution; finer digits are ignored. */
			frac += (long)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p != '\0')
		return KF_ERR_INVAL;
	ms = (long)whole * 1000 + frac;
	if (ms < min_ms || ms > max_ms)
		return KF_ERR_INVAL;
	*out = ms;
	return 0;
}

int
kf_parse_size(const char *s, size_t min, size_t max, size_t *out)
{
	char num[32];
	size_t n = strlen(s), mult = 1;
	unsigned long v;

	if (n == 0 || n >= sizeof(num))
		return KF_ERR_INVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k':
	case 'K':
		mult = 1024;
		num[--n] = '\0';
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		num[--n] = '\0';
		break;
	default:
		break;
	}
	if (kf_parse_ulong(num, 0, ULONG_MAX / mult, &v) != 0)
		return KF_ERR_INVAL;
	v *= mult;
	if (v < min || v > max)
		return KF_ERR_INVAL;
	*out = v;
	return 0;
}

int
kf_strcaseeq(const char *a, const char *b)
{
	unsigned char ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

int
kf_percent_encode(struct kf_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char esc[3];
	int r;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			r = kf_buf_putc(b, (char)*p);
		} else {
			esc[0] = '%';
			esc[1] = hex[*p >> 4];
			esc[2] = hex[*p & 0xf];
			r = kf_buf_append(b, esc, 3);
		}
		if (r != 0)
			return r;
	}
	return 0;
}

long
kf_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
