/*
 * dirfile.h - the installed directory file (SPEC section 8.1): written by
 * keyfleet-sync, read by libnss_keyfleet.  Needs nothing but the C
 * library, so the NSS module can carry it without jansson, libcurl or
 * libcrypto.  The format is described at the top of dirfile.c.
 */
#ifndef KF_DIRFILE_H
#define KF_DIRFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the writer is given; the arrays are the caller's. */
struct kf_dir_user_in {
	const char	*name, *gecos, *home, *shell;
	uint32_t	 uid, gid;
	const uint32_t	*groups;	/* supplementary gids, for initgroups */
	size_t		 ngroups;
};

struct kf_dir_group_in {
	const char	*name;
	uint32_t	 gid;
	const char *const *members;
	size_t		 nmembers;
};

struct kf_dir_in {
	int64_t				 iat;	/* the document's, for rollback */
	const struct kf_dir_user_in	*users;
	size_t				 nusers;
	const struct kf_dir_group_in	*groups;
	size_t				 ngroups;
};

/*
 * Writes the file at path atomically: a temporary file beside it, mode
 * 0644, fsync, rename, fsync of the directory.  Names must be unique
 * among users and among groups, and ids likewise (the caller's rules
 * drop duplicates before).  Returns 0, KF_ERR_INVAL (a duplicate, a
 * string over its limit), KF_ERR_NOMEM or KF_ERR_IO (errno set); on
 * failure the previous file is untouched.
 */
int	kf_dir_write(const char *path, const struct kf_dir_in *in);

/* A mapped file; every field is checked against size before use. */
struct kf_dir {
	const unsigned char	*base;
	size_t			 size;
	dev_t			 dev;
	ino_t			 ino;
	time_t			 ctime;	/* changes with content, owner and mode */
	long			 ctime_nsec;
	int64_t			 iat;
	uint32_t		 nusers, ngroups;
	int			 mapped;	/* base is ours to munmap */
};

/* One user or group as read: strings point into the mapping. */
struct kf_dir_user {
	const char	*name, *gecos, *home, *shell;
	uint32_t	 uid, gid;
	uint32_t	 ngroups;
	const unsigned char *groups;	/* ngroups little-endian u32 gids */
};

struct kf_dir_group {
	const char	*name;
	uint32_t	 gid;
	uint32_t	 nmembers;
	const unsigned char *members;	/* nmembers u32 string offsets */
};

/*
 * Maps path read-only once it is a regular file owned by owner (root, for
 * the NSS module; tests pass their own uid) and not writable by group or
 * others, and its header and tables lie inside it.
 * Returns 0, KF_ERR_NOENT (no file), KF_ERR_PERM (unsafe), KF_ERR_PARSE
 * (not such a file, or corrupt), KF_ERR_IO; *why says which, for a log.
 */
int	kf_dir_open(const char *path, uid_t owner, struct kf_dir *d,
	    const char **why);
void	kf_dir_close(struct kf_dir *d);
/* The same checks on bytes in memory (the fuzz target); d borrows buf. */
int	kf_dir_from_buffer(const void *buf, size_t size, struct kf_dir *d);
/* Whether path is still the file d maps (device, inode, size, ctime). */
int	kf_dir_current(const struct kf_dir *d, const char *path);

/*
 * Lookups, O(log n), and enumeration by index: 0 found, KF_ERR_NOENT
 * not there, KF_ERR_PARSE when what the file says is out of bounds.
 */
int	kf_dir_user_by_name(const struct kf_dir *d, const char *name,
	    struct kf_dir_user *u);
int	kf_dir_user_by_uid(const struct kf_dir *d, uint32_t uid,
	    struct kf_dir_user *u);
int	kf_dir_user_at(const struct kf_dir *d, uint32_t i,
	    struct kf_dir_user *u);
int	kf_dir_group_by_name(const struct kf_dir *d, const char *name,
	    struct kf_dir_group *g);
int	kf_dir_group_by_gid(const struct kf_dir *d, uint32_t gid,
	    struct kf_dir_group *g);
int	kf_dir_group_at(const struct kf_dir *d, uint32_t i,
	    struct kf_dir_group *g);
/* A group's member i, a NUL-terminated string inside the mapping. */
int	kf_dir_group_member(const struct kf_dir *d,
	    const struct kf_dir_group *g, uint32_t i, const char **name);
/* A user's supplementary gid i. */
uint32_t kf_dir_user_group(const struct kf_dir_user *u, uint32_t i);

#endif /* KF_DIRFILE_H */
