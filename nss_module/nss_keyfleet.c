/*
 * nss_keyfleet.c - libnss_keyfleet.so.2: the fleet's users and groups
 * (SPEC section 8.1) for glibc, from the directory file keyfleet-sync
 * installs.
 *
 * It is loaded into every process that resolves a user, so it reads one
 * local file and nothing else: no network, no keyfleet.conf, no libcurl,
 * libcrypto or jansson, no thread.  The file is mapped read-only
 * (lib/dirfile.c checks its owner, mode and every offset) and the mapping
 * is the only state kept between calls: before each use it is compared,
 * by stat(), with the file at the path, so a newly installed file is
 * picked up without a restart.  Every function writes only into the
 * caller's buffer; one that is too small gets NSS_STATUS_TRYAGAIN with
 * ERANGE, and an enumeration keeps its position for the retry.
 * Enumeration state belongs to enumeration alone: lookups by name or id
 * never move it.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "keyfleet.h"
#include "dirfile.h"

#ifndef KF_DIRECTORY_FILE
#error "KF_DIRECTORY_FILE must name the installed directory file"
#endif

enum nss_status _nss_keyfleet_getpwnam_r(const char *, struct passwd *,
    char *, size_t, int *);
enum nss_status _nss_keyfleet_getpwuid_r(uid_t, struct passwd *, char *,
    size_t, int *);
enum nss_status _nss_keyfleet_setpwent(int);
enum nss_status _nss_keyfleet_getpwent_r(struct passwd *, char *, size_t,
    int *);
enum nss_status _nss_keyfleet_endpwent(void);
enum nss_status _nss_keyfleet_getgrnam_r(const char *, struct group *,
    char *, size_t, int *);
enum nss_status _nss_keyfleet_getgrgid_r(gid_t, struct group *, char *,
    size_t, int *);
enum nss_status _nss_keyfleet_setgrent(int);
enum nss_status _nss_keyfleet_getgrent_r(struct group *, char *, size_t,
    int *);
enum nss_status _nss_keyfleet_endgrent(void);
enum nss_status _nss_keyfleet_initgroups_dyn(const char *, gid_t, long *,
    long *, gid_t **, long, int *);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct kf_dir dir;		/* under lock */
static int complained;			/* one log line per process */
static uint32_t pw_next, gr_next;	/* enumeration, under lock */

/* Maps the current file; with lock held.  Returns an NSS status. */
static enum nss_status
dir_use(int *errnop)
{
	const char *why;
	int r;

	if (dir.base != NULL && kf_dir_current(&dir, KF_DIRECTORY_FILE))
		return NSS_STATUS_SUCCESS;
	kf_dir_close(&dir);
	if ((r = kf_dir_open(KF_DIRECTORY_FILE, 0, &dir, &why)) == 0)
		return NSS_STATUS_SUCCESS;
	if (r != KF_ERR_NOENT && !complained) {
		complained = 1;
		syslog(LOG_AUTHPRIV | LOG_WARNING, "libnss_keyfleet: %s %s: "
		    "serving no users or groups from it", KF_DIRECTORY_FILE,
		    why);
	}
	*errnop = ENOENT;
	return NSS_STATUS_UNAVAIL;
}

/* Copies s into the caller's buffer. */
static char *
put_string(char **buf, size_t *left, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = *buf;

	if (n > *left)
		return NULL;
	memcpy(p, s, n);
	*buf += n;
	*left -= n;
	return p;
}

static enum nss_status
fill_passwd(const struct kf_dir_user *u, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	if ((pw->pw_name = put_string(&buf, &len, u->name)) == NULL ||
	    (pw->pw_passwd = put_string(&buf, &len, "*")) == NULL ||
	    (pw->pw_gecos = put_string(&buf, &len, u->gecos)) == NULL ||
	    (pw->pw_dir = put_string(&buf, &len, u->home)) == NULL ||
	    (pw->pw_shell = put_string(&buf, &len, u->shell)) == NULL) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	return NSS_STATUS_SUCCESS;
}

static enum nss_status
fill_group(const struct kf_dir_group *g, struct group *gr, char *buf,
    size_t len, int *errnop)
{
	uintptr_t pad = (sizeof(char *) - (uintptr_t)buf % sizeof(char *)) %
	    sizeof(char *);
	const char *m;
	char **mem;
	uint32_t i;

	if (len < pad || (len - pad) / sizeof(char *) <= g->nmembers)
		goto erange;
	mem = (char **)(void *)(buf + pad);
	buf += pad + (g->nmembers + 1) * sizeof(char *);
	len -= pad + (g->nmembers + 1) * sizeof(char *);
	for (i = 0; i < g->nmembers; i++) {
		if (kf_dir_group_member(&dir, g, i, &m) != 0) {
			*errnop = EINVAL;
			return NSS_STATUS_UNAVAIL;
		}
		if ((mem[i] = put_string(&buf, &len, m)) == NULL)
			goto erange;
	}
	mem[g->nmembers] = NULL;
	if ((gr->gr_name = put_string(&buf, &len, g->name)) == NULL ||
	    (gr->gr_passwd = put_string(&buf, &len, "*")) == NULL)
		goto erange;
	gr->gr_gid = g->gid;
	gr->gr_mem = mem;
	return NSS_STATUS_SUCCESS;
 erange:
	*errnop = ERANGE;
	return NSS_STATUS_TRYAGAIN;
}

/* A lookup's result as an NSS status. */
static enum nss_status
not_found(int r, int *errnop)
{
	if (r == KF_ERR_NOENT) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	*errnop = EINVAL;
	return NSS_STATUS_UNAVAIL;	/* the file lies */
}

enum nss_status
_nss_keyfleet_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	struct kf_dir_user u;
	enum nss_status s;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) == NSS_STATUS_SUCCESS)
		s = (r = kf_dir_user_by_name(&dir, name, &u)) != 0 ?
		    not_found(r, errnop) : fill_passwd(&u, pw, buf, len, errnop);
	pthread_mutex_unlock(&lock);
	return s;
}

enum nss_status
_nss_keyfleet_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	struct kf_dir_user u;
	enum nss_status s;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) == NSS_STATUS_SUCCESS)
		s = (r = kf_dir_user_by_uid(&dir, (uint32_t)uid, &u)) != 0 ?
		    not_found(r, errnop) : fill_passwd(&u, pw, buf, len, errnop);
	pthread_mutex_unlock(&lock);
	return s;
}

enum nss_status
_nss_keyfleet_setpwent(int stayopen)
{
	(void)stayopen;
	pthread_mutex_lock(&lock);
	pw_next = 0;
	pthread_mutex_unlock(&lock);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_keyfleet_getpwent_r(struct passwd *pw, char *buf, size_t len,
    int *errnop)
{
	struct kf_dir_user u;
	enum nss_status s;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) == NSS_STATUS_SUCCESS) {
		if ((r = kf_dir_user_at(&dir, pw_next, &u)) != 0)
			s = not_found(r, errnop);
		else if ((s = fill_passwd(&u, pw, buf, len, errnop)) ==
		    NSS_STATUS_SUCCESS)
			pw_next++;	/* not on ERANGE: the retry gets it */
	}
	pthread_mutex_unlock(&lock);
	return s;
}

enum nss_status
_nss_keyfleet_endpwent(void)
{
	return _nss_keyfleet_setpwent(0);
}

enum nss_status
_nss_keyfleet_getgrnam_r(const char *name, struct group *gr, char *buf,
    size_t len, int *errnop)
{
	struct kf_dir_group g;
	enum nss_status s;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) == NSS_STATUS_SUCCESS)
		s = (r = kf_dir_group_by_name(&dir, name, &g)) != 0 ?
		    not_found(r, errnop) : fill_group(&g, gr, buf, len, errnop);
	pthread_mutex_unlock(&lock);
	return s;
}

enum nss_status
_nss_keyfleet_getgrgid_r(gid_t gid, struct group *gr, char *buf,
    size_t len, int *errnop)
{
	struct kf_dir_group g;
	enum nss_status s;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) == NSS_STATUS_SUCCESS)
		s = (r = kf_dir_group_by_gid(&dir, (uint32_t)gid, &g)) != 0 ?
		    not_found(r, errnop) : fill_group(&g, gr, buf, len, errnop);
	pthread_mutex_unlock(&lock);
	return s;
}

enum nss_status
_nss_keyfleet_setgrent(int stayopen)
{
	(void)stayopen;
	pthread_mutex_lock(&lock);
	gr_next = 0;
	pthread_mutex_unlock(&lock);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_keyfleet_getgrent_r(struct group *gr, char *buf, size_t len,
    int *errnop)
{
	struct kf_dir_group g;
	enum nss_status s;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) == NSS_STATUS_SUCCESS) {
		if ((r = kf_dir_group_at(&dir, gr_next, &g)) != 0)
			s = not_found(r, errnop);
		else if ((s = fill_group(&g, gr, buf, len, errnop)) ==
		    NSS_STATUS_SUCCESS)
			gr_next++;
	}
	pthread_mutex_unlock(&lock);
	return s;
}

enum nss_status
_nss_keyfleet_endgrent(void)
{
	return _nss_keyfleet_setgrent(0);
}

/*
 * The user's supplementary groups (the directory's own groups and the
 * LocalGroups it adds them to) appended to *groupsp, which glibc lets us
 * grow up to limit (<= 0: no limit).
 */
enum nss_status
_nss_keyfleet_initgroups_dyn(const char *user, gid_t skip, long *start,
    long *size, gid_t **groupsp, long limit, int *errnop)
{
	struct kf_dir_user u;
	enum nss_status s;
	uint32_t i;
	gid_t gid, *g;
	long n, j;
	int r;

	pthread_mutex_lock(&lock);
	if ((s = dir_use(errnop)) != NSS_STATUS_SUCCESS)
		goto out;
	if ((r = kf_dir_user_by_name(&dir, user, &u)) != 0) {
		s = not_found(r, errnop);
		goto out;
	}
	for (i = 0; i < u.ngroups; i++) {
		gid = kf_dir_user_group(&u, i);
		if (gid == skip)
			continue;
		for (j = 0; j < *start && (*groupsp)[j] != gid; j++)
			;
		if (j < *start)
			continue;	/* already there */
		if (limit > 0 && *start >= limit)
			break;
		if (*start == *size) {
			n = *size > 0 ? *size * 2 : 16;
			if (limit > 0 && n > limit)
				n = limit;
			if ((g = realloc(*groupsp, (size_t)n *
			    sizeof(**groupsp))) == NULL) {
				*errnop = ENOMEM;
				s = NSS_STATUS_TRYAGAIN;
				goto out;
			}
			*groupsp = g;
			*size = n;
		}
		(*groupsp)[(*start)++] = gid;
	}
	s = NSS_STATUS_SUCCESS;
 out:
	pthread_mutex_unlock(&lock);
	return s;
}
