/*
 * cache.h - the on-disk cache: one entry per user, holding what the API
 * sent, so every use re-applies current validation and expiry.
 */
#ifndef KF_CACHE_H
#define KF_CACHE_H

#include <sys/types.h>
#include <time.h>

#include "ctx.h"
#include "util.h"

struct kf_cache;

struct kf_cache_entry {
	long		 status;	/* 200, or 404 for a negative entry */
	time_t		 fetched;	/* when the API last vouched for it */
	char		*etag;		/* NULL when none */
	struct kf_buf	 body;		/* empty for 404 */
};

/*
 * Opens dir as the cache.  It must be a directory (not a symbolic link)
 * not writable by group or others, owned by root or by the caller, or any
 * owner when the caller is root (the PAM module writes the cache of the
 * AuthorizedKeysCommandUser).  Returns 0, or a negative code after logging
 * why the cache cannot be used.
 */
int	kf_cache_open(struct kf_ctx *ctx, const char *dir,
	    struct kf_cache **cachep);
void	kf_cache_close(struct kf_cache *cache);

/*
 * Reads user's entry.  Returns 0, KF_ERR_NOENT when there is none, or
 * KF_ERR_PARSE / KF_ERR_PERM for an entry that is corrupt or not safely
 * owned (logged; treated as a miss by the caller).
 */
int	kf_cache_read(struct kf_cache *cache, const char *user, size_t max_body,
	    struct kf_cache_entry *entry);

/*
 * Replaces user's entry atomically: a temporary file, fsync, rename, and
 * an fsync of the directory.  On any failure the previous entry is left
 * as it was.  Entries written by root are given the directory's owner.
 */
int	kf_cache_write(struct kf_cache *cache, const char *user,
	    const struct kf_cache_entry *entry);

void	kf_cache_entry_clear(struct kf_cache_entry *entry);

/*
 * Parses the len bytes of an entry as kf_cache_write() stores it: a text
 * header (status, fetched, optional etag, length) ending with an empty
 * line, then exactly length bytes of body, at most max_body.  Returns 0
 * with entry filled, or KF_ERR_PARSE / KF_ERR_NOMEM with entry empty.
 */
int	kf_cache_entry_parse(const char *bytes, size_t len, size_t max_body,
	    struct kf_cache_entry *entry);

/*
 * Takes user's lookup lock, waiting at most timeout_ms.  *waited tells
 * whether another process held it first.  Returns a descriptor to give to
 * kf_cache_unlock(), or a negative code (KF_ERR_TIMEOUT, KF_ERR_IO).
 */
int	kf_cache_lock(struct kf_cache *cache, const char *user, long timeout_ms,
	    int *waited);
void	kf_cache_unlock(int fd);

/*
 * Remembers that a fetch for user failed now (timed_out: by running into
 * Timeout), so processes that waited for that fetch do not repeat it;
 * kf_cache_failed_since() asks whether one failed at or after t (with
 * timed_out, only a fetch that ran into Timeout counts).
 */
void	kf_cache_note_failure(struct kf_cache *cache, const char *user,
	    int timed_out);
int	kf_cache_failed_since(struct kf_cache *cache, const char *user,
	    time_t t, int timed_out);

/*
 * Removes user's entry, or every entry when user is NULL.  Returns the
 * number removed, or a negative code.
 */
int	kf_cache_flush(struct kf_cache *cache, const char *user);

#endif /* KF_CACHE_H */
