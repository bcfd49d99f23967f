/* util.h - small helpers shared by libkeyfleet's files. */
#ifndef KF_UTIL_H
#define KF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A growable byte buffer with a hard cap.  data is always NUL-terminated
 * (the terminator is not counted in len) so text can be used directly.
 */
struct kf_buf {
	char	*data;
	size_t	 len;
	size_t	 alloc;
	size_t	 max;		/* 0: no cap */
};

void	kf_buf_init(struct kf_buf *b, size_t max);
/* Appends n bytes; KF_ERR_TOOBIG past the cap, KF_ERR_NOMEM. */
int	kf_buf_append(struct kf_buf *b, const void *p, size_t n);
int	kf_buf_putc(struct kf_buf *b, char c);
int	kf_buf_puts(struct kf_buf *b, const char *s);
/* Frees the contents, wiping them first. */
void	kf_buf_free(struct kf_buf *b);
/* Hands the contents over to the caller (never NULL on success). */
char	*kf_buf_take(struct kf_buf *b);

/* Wipes and frees a NUL-terminated secret; NULL is a no-op. */
void	kf_free_secret(char *s);

/*
 * Opens path read-only with O_CLOEXEC|O_NOFOLLOW and checks with fstat()
 * that it is a regular file owned by owner (or by root when allow_root),
 * not writable by group or others, and, when secret, not readable by
 * others.  On failure *why gets a static reason.  Returns an fd or a
 * negative KF_ERR_* code (KF_ERR_PERM, KF_ERR_IO).
 */
int	kf_open_checked(const char *path, uid_t owner, int secret,
	    const char **why);

/* Reads a whole fd (at most max bytes) into b. */
int	kf_read_fd(int fd, struct kf_buf *b, size_t max);

/*
 * Parses seconds with an optional fraction ("2", "0.25") into
 * milliseconds, within [min_ms, max_ms].  Returns 0 or KF_ERR_INVAL.
 */
int	kf_parse_seconds_ms(const char *s, long min_ms, long max_ms,
	    long *out);
/* Parses a whole non-negative number within [min, max]. */
int	kf_parse_ulong(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out);
/* Parses a size with optional K or M suffix within [min, max]. */
int	kf_parse_size(const char *s, size_t min, size_t max, size_t *out);

/* Case-insensitive ASCII comparison that does not depend on the locale. */
int	kf_strcaseeq(const char *a, const char *b);

/* Percent-encodes every byte outside RFC 3986's unreserved set. */
int	kf_percent_encode(struct kf_buf *b, const char *s);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines and durations. */
long	kf_monotonic_ms(void);

#endif /* KF_UTIL_H */
