/*
 * dirfile.c - the installed directory file: its writer (keyfleet-sync)
 * and its reader (libnss_keyfleet), in one place so the two cannot
 * disagree.  Only the C library is used.
 *
 * The file, all numbers little-endian, all offsets from the file's start:
 *
 *   header, 64 bytes
 *     0  magic "KFDIR\n\0\1"       8
 *     8  u32 version (1)          12  u32 header size (64)
 *    16  u64 file size            24  i64 iat of the document
 *    32  u32 nusers               36  u32 ngroups
 *    40  u32 users: nusers records of 32 bytes, sorted by name (strcmp)
 *    44  u32 uid index: nusers u32 record numbers, sorted by uid
 *    48  u32 groups: ngroups records of 16 bytes, sorted by name
 *    52  u32 gid index: ngroups u32 record numbers, sorted by gid
 *    56  u32 strings: the string table
 *    60  u32 strings size; its last byte is NUL
 *   user record: u32 name, gecos, home, shell (string table offsets),
 *     uid, gid, u32 groups (file offset of ngroups u32 gids), ngroups
 *   group record: u32 name (string), gid, u32 members (file offset of
 *     nmembers u32 string offsets), nmembers
 *
 * The reader trusts nothing: at open, the header's size must be the
 * file's, and every table must lie inside the file; on every access a
 * record number is checked against its table, a string offset against
 * the string table (whose last byte is NUL, so every string in it ends
 * inside it), and an array against the file.  A file that lies gets
 * KF_ERR_PARSE, never a read outside the mapping.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfleet.h"
#include "dirfile.h"

#define DIR_MAGIC	"KFDIR\n\0\1"
#define DIR_VERSION	1
#define DIR_HEADER	64
#define DIR_USER_REC	32
#define DIR_GROUP_REC	16
#define DIR_STRING_MAX	4096
#define DIR_FILE_MAX	UINT32_MAX

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------ writer */

struct out {
	unsigned char	*buf;
	size_t		 size;
	size_t		 strings;	/* where the string table starts */
	size_t		 slen;		/* its length so far */
	size_t		 arrays;	/* next free byte of the array region */
};

static const struct kf_dir_in *sort_in;

static int
cmp_user_name(const void *a, const void *b)
{
	return strcmp(sort_in->users[*(const size_t *)a].name,
	    sort_in->users[*(const size_t *)b].name);
}

static int
cmp_group_name(const void *a, const void *b)
{
	return strcmp(sort_in->groups[*(const size_t *)a].name,
	    sort_in->groups[*(const size_t *)b].name);
}

static const uint32_t *sort_ids;

static int
cmp_id(const void *a, const void *b)
{
	uint32_t x = sort_ids[*(const uint32_t *)a];
	uint32_t y = sort_ids[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

static uint32_t
add_string(struct out *o, const char *s)
{
	size_t n = strlen(s != NULL ? s : "") + 1;
	uint32_t off = (uint32_t)o->slen;

	memcpy(o->buf + o->strings + o->slen, s != NULL ? s : "", n);
	o->slen += n;
	return off;
}

static size_t
string_room(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 1;
}

/* Sizes the file; KF_ERR_INVAL for a string over its limit or too much. */
static int
plan(const struct kf_dir_in *in, size_t *arrays, size_t *strings)
{
	const struct kf_dir_user_in *u;
	const struct kf_dir_group_in *g;
	size_t i, j, a = 0, s = 1;	/* the table's final NUL */

	for (i = 0; i < in->nusers; i++) {
		u = &in->users[i];
		if (u->name == NULL || strlen(u->name) >= DIR_STRING_MAX ||
		    (u->gecos && strlen(u->gecos) >= DIR_STRING_MAX) ||
		    (u->home && strlen(u->home) >= DIR_STRING_MAX) ||
		    (u->shell && strlen(u->shell) >= DIR_STRING_MAX) ||
		    u->ngroups > 65536)
			return KF_ERR_INVAL;
		s += string_room(u->name) + string_room(u->gecos) +
		    string_room(u->home) + string_room(u->shell);
		a += u->ngroups * 4;
	}
	for (i = 0; i < in->ngroups; i++) {
		g = &in->groups[i];
		if (g->name == NULL || strlen(g->name) >= DIR_STRING_MAX ||
		    g->nmembers > 1000000)
			return KF_ERR_INVAL;
		s += string_room(g->name);
		for (j = 0; j < g->nmembers; j++) {
			if (g->members[j] == NULL ||
			    strlen(g->members[j]) >= DIR_STRING_MAX)
				return KF_ERR_INVAL;
			s += string_room(g->members[j]);
		}
		a += g->nmembers * 4;
	}
	*arrays = a;
	*strings = s;
	return 0;
}

/* Builds the whole file in memory. */
static int
build(const struct kf_dir_in *in, struct out *o)
{
	size_t *order = NULL, i, j, n, arrays, strings, off_users, off_uidx;
	size_t off_groups, off_gidx, off_arrays;
	uint32_t *ids = NULL, *idx = NULL;
	unsigned char *rec;
	int r = KF_ERR_NOMEM;

	if (in->nusers > UINT32_MAX / DIR_USER_REC ||
	    in->ngroups > UINT32_MAX / DIR_GROUP_REC)
		return KF_ERR_INVAL;
	if ((r = plan(in, &arrays, &strings)) != 0)
		return r;
	off_users = DIR_HEADER;
	off_uidx = off_users + in->nusers * DIR_USER_REC;
	off_groups = off_uidx + in->nusers * 4;
	off_gidx = off_groups + in->ngroups * DIR_GROUP_REC;
	off_arrays = off_gidx + in->ngroups * 4;
	o->strings = off_arrays + arrays;
	o->size = o->strings + strings;
	if (o->size > DIR_FILE_MAX)
		return KF_ERR_INVAL;
	n = in->nusers > in->ngroups ? in->nusers : in->ngroups;
	r = KF_ERR_NOMEM;
	if ((o->buf = calloc(1, o->size)) == NULL ||
	    (order = calloc(n + 1, sizeof(*order))) == NULL ||
	    (ids = calloc(n + 1, sizeof(*ids))) == NULL ||
	    (idx = calloc(n + 1, sizeof(*idx))) == NULL)
		goto out;
	o->slen = 0;
	o->arrays = off_arrays;

	memcpy(o->buf, DIR_MAGIC, 8);
	put32(o->buf + 8, DIR_VERSION);
	put32(o->buf + 12, DIR_HEADER);
	put64(o->buf + 16, o->size);
	put64(o->buf + 24, (uint64_t)in->iat);
	put32(o->buf + 32, (uint32_t)in->nusers);
	put32(o->buf + 36, (uint32_t)in->ngroups);
	put32(o->buf + 40, (uint32_t)off_users);
	put32(o->buf + 44, (uint32_t)off_uidx);
	put32(o->buf + 48, (uint32_t)off_groups);
	put32(o->buf + 52, (uint32_t)off_gidx);
	put32(o->buf + 56, (uint32_t)o->strings);
	put32(o->buf + 60, (uint32_t)strings);

	r = KF_ERR_INVAL;	/* from here on: a duplicate */
	sort_in = in;
	for (i = 0; i < in->nusers; i++)
		order[i] = i;
	qsort(order, in->nusers, sizeof(*order), cmp_user_name);
	for (i = 0; i < in->nusers; i++) {
		const struct kf_dir_user_in *u = &in->users[order[i]];

		if (i > 0 && strcmp(in->users[order[i - 1]].name, u->name) == 0)
			goto out;
		rec = o->buf + off_users + i * DIR_USER_REC;
		put32(rec, add_string(o, u->name));
		put32(rec + 4, add_string(o, u->gecos));
		put32(rec + 8, add_string(o, u->home));
		put32(rec + 12, add_string(o, u->shell));
		put32(rec + 16, u->uid);
		put32(rec + 20, u->gid);
		put32(rec + 24, (uint32_t)o->arrays);
		put32(rec + 28, (uint32_t)u->ngroups);
		for (j = 0; j < u->ngroups; j++, o->arrays += 4)
			put32(o->buf + o->arrays, u->groups[j]);
		ids[i] = u->uid;
		idx[i] = (uint32_t)i;
	}
	sort_ids = ids;
	qsort(idx, in->nusers, sizeof(*idx), cmp_id);
	for (i = 0; i < in->nusers; i++) {
		if (i > 0 && ids[idx[i - 1]] == ids[idx[i]])
			goto out;
		put32(o->buf + off_uidx + i * 4, idx[i]);
	}

	for (i = 0; i < in->ngroups; i++)
		order[i] = i;
	qsort(order, in->ngroups, sizeof(*order), cmp_group_name);
	for (i = 0; i < in->ngroups; i++) {
		const struct kf_dir_group_in *g = &in->groups[order[i]];

		if (i > 0 &&
		    strcmp(in->groups[order[i - 1]].name, g->name) == 0)
			goto out;
		rec = o->buf + off_groups + i * DIR_GROUP_REC;
		put32(rec, add_string(o, g->name));
		put32(rec + 4, g->gid);
		put32(rec + 8, (uint32_t)o->arrays);
		put32(rec + 12, (uint32_t)g->nmembers);
		for (j = 0; j < g->nmembers; j++, o->arrays += 4)
			put32(o->buf + o->arrays, add_string(o, g->members[j]));
		ids[i] = g->gid;
		idx[i] = (uint32_t)i;
	}
	qsort(idx, in->ngroups, sizeof(*idx), cmp_id);
	for (i = 0; i < in->ngroups; i++) {
		if (i > 0 && ids[idx[i - 1]] == ids[idx[i]])
			goto out;
		put32(o->buf + off_gidx + i * 4, idx[i]);
	}
	o->buf[o->size - 1] = '\0';
	r = 0;
 out:
	free(order);
	free(ids);
	free(idx);
	if (r != 0) {
		free(o->buf);
		o->buf = NULL;
	}
	return r;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
kf_dir_write(const char *path, const struct kf_dir_in *in)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct out o;
	int fd = -1, dfd, r, n;

	memset(&o, 0, sizeof(o));
	if ((r = build(in, &o)) != 0)
		return r;
	r = KF_ERR_IO;
	n = snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		r = KF_ERR_INVAL;
		goto out;
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		goto out;
	if (fchmod(fd, 0644) != 0 || write_all(fd, o.buf, o.size) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		(void)unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		(void)unlink(tmp);
		goto out;
	}
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
	    -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	free(o.buf);
	return r;
}

/* ------------------------------------------------------------ reader */

/* Whether [off, off + len) lies inside the file. */
static int
inside(const struct kf_dir *d, uint64_t off, uint64_t len)
{
	return off <= d->size && len <= d->size - off;
}

static uint32_t
hdr(const struct kf_dir *d, size_t at)
{
	return get32(d->base + at);
}

static int
string_at(const struct kf_dir *d, uint32_t off, const char **s)
{
	if (off >= hdr(d, 60))
		return KF_ERR_PARSE;
	*s = (const char *)d->base + hdr(d, 56) + off;
	return 0;
}

int
kf_dir_from_buffer(const void *buf, size_t size, struct kf_dir *d)
{
	memset(d, 0, sizeof(*d));
	if (size < DIR_HEADER || (uint64_t)size > DIR_FILE_MAX)
		return KF_ERR_PARSE;
	d->base = buf;
	d->size = size;
	d->nusers = hdr(d, 32);
	d->ngroups = hdr(d, 36);
	d->iat = (int64_t)get64(d->base + 24);
	if (memcmp(d->base, DIR_MAGIC, 8) != 0 ||
	    hdr(d, 8) != DIR_VERSION || hdr(d, 12) != DIR_HEADER ||
	    get64(d->base + 16) != d->size ||
	    !inside(d, hdr(d, 40), (uint64_t)d->nusers * DIR_USER_REC) ||
	    !inside(d, hdr(d, 44), (uint64_t)d->nusers * 4) ||
	    !inside(d, hdr(d, 48), (uint64_t)d->ngroups * DIR_GROUP_REC) ||
	    !inside(d, hdr(d, 52), (uint64_t)d->ngroups * 4) ||
	    hdr(d, 60) == 0 || !inside(d, hdr(d, 56), hdr(d, 60)) ||
	    d->base[hdr(d, 56) + hdr(d, 60) - 1] != '\0') {
		memset(d, 0, sizeof(*d));
		return KF_ERR_PARSE;
	}
	return 0;
}

int
kf_dir_open(const char *path, uid_t owner, struct kf_dir *d,
    const char **why)
{
	struct stat st;
	void *p;
	int fd, r;

	memset(d, 0, sizeof(*d));
	*why = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		*why = errno == ENOENT ? "no such file" : "cannot be opened";
		return errno == ENOENT ? KF_ERR_NOENT : KF_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		*why = "cannot be examined";
		return KF_ERR_IO;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		*why = !S_ISREG(st.st_mode) ? "is not a regular file" :
		    st.st_uid != owner ? "is not owned by root" :
		    "is writable by group or others";
		return KF_ERR_PERM;
	}
	if (st.st_size < DIR_HEADER || (uint64_t)st.st_size > DIR_FILE_MAX) {
		close(fd);
		*why = "has the wrong size for a directory file";
		return KF_ERR_PARSE;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*why = "cannot be mapped";
		return KF_ERR_IO;
	}
	if ((r = kf_dir_from_buffer(p, (size_t)st.st_size, d)) != 0) {
		munmap(p, (size_t)st.st_size);
		*why = "is not a keyfleet directory file, or is corrupt";
		return r;
	}
	d->mapped = 1;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->ctime = st.st_ctim.tv_sec;
	d->ctime_nsec = st.st_ctim.tv_nsec;
	return 0;
}

void
kf_dir_close(struct kf_dir *d)
{
	if (d->base != NULL && d->mapped)
		munmap((void *)(uintptr_t)d->base, d->size);
	memset(d, 0, sizeof(*d));
}

int
kf_dir_current(const struct kf_dir *d, const char *path)
{
	struct stat st;

	return d->base != NULL && stat(path, &st) == 0 &&
	    st.st_dev == d->dev && st.st_ino == d->ino &&
	    (size_t)st.st_size == d->size && st.st_ctim.tv_sec == d->ctime &&
	    st.st_ctim.tv_nsec == d->ctime_nsec;
}

int
kf_dir_user_at(const struct kf_dir *d, uint32_t i, struct kf_dir_user *u)
{
	const unsigned char *rec;

	if (i >= d->nusers)
		return KF_ERR_NOENT;
	rec = d->base + hdr(d, 40) + (size_t)i * DIR_USER_REC;
	if (string_at(d, get32(rec), &u->name) != 0 ||
	    string_at(d, get32(rec + 4), &u->gecos) != 0 ||
	    string_at(d, get32(rec + 8), &u->home) != 0 ||
	    string_at(d, get32(rec + 12), &u->shell) != 0 ||
	    !inside(d, get32(rec + 24), (uint64_t)get32(rec + 28) * 4))
		return KF_ERR_PARSE;
	u->uid = get32(rec + 16);
	u->gid = get32(rec + 20);
	u->groups = d->base + get32(rec + 24);
	u->ngroups = get32(rec + 28);
	return 0;
}

uint32_t
kf_dir_user_group(const struct kf_dir_user *u, uint32_t i)
{
	return i < u->ngroups ? get32(u->groups + (size_t)i * 4) : 0;
}

int
kf_dir_group_at(const struct kf_dir *d, uint32_t i, struct kf_dir_group *g)
{
	const unsigned char *rec;

	if (i >= d->ngroups)
		return KF_ERR_NOENT;
	rec = d->base + hdr(d, 48) + (size_t)i * DIR_GROUP_REC;
	if (string_at(d, get32(rec), &g->name) != 0 ||
	    !inside(d, get32(rec + 8), (uint64_t)get32(rec + 12) * 4))
		return KF_ERR_PARSE;
	g->gid = get32(rec + 4);
	g->members = d->base + get32(rec + 8);
	g->nmembers = get32(rec + 12);
	return 0;
}

int
kf_dir_group_member(const struct kf_dir *d, const struct kf_dir_group *g,
    uint32_t i, const char **name)
{
	if (i >= g->nmembers)
		return KF_ERR_NOENT;
	return string_at(d, get32(g->members + (size_t)i * 4), name);
}

/* Binary search of the records sorted by name; *i the record found. */
static int
find_name(const struct kf_dir *d, int users, const char *name, uint32_t *i)
{
	uint32_t lo = 0, hi = users ? d->nusers : d->ngroups, mid;
	size_t table = hdr(d, users ? 40 : 48);
	size_t rsize = users ? DIR_USER_REC : DIR_GROUP_REC;
	const char *s;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (string_at(d, get32(d->base + table + (size_t)mid * rsize),
		    &s) != 0)
			return KF_ERR_PARSE;
		if ((c = strcmp(name, s)) == 0) {
			*i = mid;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return KF_ERR_NOENT;
}

/* Binary search of an id index; *i the record it points at. */
static int
find_id(const struct kf_dir *d, int users, uint32_t id, uint32_t *i)
{
	uint32_t lo = 0, n = users ? d->nusers : d->ngroups, hi = n, mid, rec;
	size_t index = hdr(d, users ? 44 : 52);
	size_t table = hdr(d, users ? 40 : 48);
	size_t rsize = users ? DIR_USER_REC : DIR_GROUP_REC;
	uint32_t v;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((rec = get32(d->base + index + (size_t)mid * 4)) >= n)
			return KF_ERR_PARSE;
		v = get32(d->base + table + (size_t)rec * rsize +
		    (users ? 16 : 4));
		if (v == id) {
			*i = rec;
			return 0;
		}
		if (id < v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return KF_ERR_NOENT;
}

int
kf_dir_user_by_name(const struct kf_dir *d, const char *name,
    struct kf_dir_user *u)
{
	uint32_t i;
	int r;

	if ((r = find_name(d, 1, name, &i)) != 0)
		return r;
	return kf_dir_user_at(d, i, u);
}

int
kf_dir_user_by_uid(const struct kf_dir *d, uint32_t uid,
    struct kf_dir_user *u)
{
	uint32_t i;
	int r;

	if ((r = find_id(d, 1, uid, &i)) != 0)
		return r;
	return kf_dir_user_at(d, i, u);
}

int
kf_dir_group_by_name(const struct kf_dir *d, const char *name,
    struct kf_dir_group *g)
{
	uint32_t i;
	int r;

	if ((r = find_name(d, 0, name, &i)) != 0)
		return r;
	return kf_dir_group_at(d, i, g);
}

int
kf_dir_group_by_gid(const struct kf_dir *d, uint32_t gid,
    struct kf_dir_group *g)
{
	uint32_t i;
	int r;

	if ((r = find_id(d, 0, gid, &i)) != 0)
		return r;
	return kf_dir_group_at(d, i, g);
}
