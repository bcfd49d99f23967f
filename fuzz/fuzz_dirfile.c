/*
 * fuzz_dirfile.c - the bytes of an installed directory file through the
 * reader libnss_keyfleet uses (kf_dir_from_buffer, the checks behind
 * kf_dir_open): a file that lies about its counts, offsets and lengths
 * must be refused or answer only with strings and arrays inside it, and
 * every name found by enumeration must be found again by name and id.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keyfleet.h"
#include "dirfile.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *lo, *hi;

/* A string of the file: it starts and ends (NUL included) inside it. */
static void
check_string(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;

	FUZZ_CHECK(p >= lo && p < hi);
	FUZZ_CHECK(memchr(p, '\0', (size_t)(hi - p)) != NULL);
}

static void
check_user(const struct kf_dir *d, const struct kf_dir_user *u)
{
	struct kf_dir_user again;
	uint32_t i;
	int r;

	check_string(u->name);
	check_string(u->gecos);
	check_string(u->home);
	check_string(u->shell);
	FUZZ_CHECK(u->groups >= lo && (size_t)(hi - u->groups) / 4 >=
	    u->ngroups);
	for (i = 0; i < u->ngroups && i < 64; i++)
		(void)kf_dir_user_group(u, i);
	r = kf_dir_user_by_name(d, u->name, &again);
	FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
	if (r == 0)
		FUZZ_CHECK(strcmp(again.name, u->name) == 0);
	r = kf_dir_user_by_uid(d, u->uid, &again);
	FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
	if (r == 0)
		FUZZ_CHECK(again.uid == u->uid);
}

static void
check_group(const struct kf_dir *d, const struct kf_dir_group *g)
{
	struct kf_dir_group again;
	const char *m;
	uint32_t i;
	int r;

	check_string(g->name);
	for (i = 0; i < g->nmembers && i < 64; i++) {
		r = kf_dir_group_member(d, g, i, &m);
		FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE);
		if (r == 0)
			check_string(m);
	}
	r = kf_dir_group_by_gid(d, g->gid, &again);
	FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
	if (r == 0)
		FUZZ_CHECK(again.gid == g->gid);
	r = kf_dir_group_by_name(d, g->name, &again);
	FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kf_dir_user u;
	struct kf_dir_group g;
	struct kf_dir d;
	uint32_t i;
	int r;

	if (kf_dir_from_buffer(data, size, &d) != 0)
		return 0;
	lo = data;
	hi = data + size;
	for (i = 0; i < d.nusers && i < 256; i++) {
		r = kf_dir_user_at(&d, i, &u);
		FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE);
		if (r == 0)
			check_user(&d, &u);
	}
	for (i = 0; i < d.ngroups && i < 256; i++) {
		r = kf_dir_group_at(&d, i, &g);
		FUZZ_CHECK(r == 0 || r == KF_ERR_PARSE);
		if (r == 0)
			check_group(&d, &g);
	}
	(void)kf_dir_user_by_name(&d, "alice", &u);
	(void)kf_dir_user_by_uid(&d, 200101, &u);
	(void)kf_dir_group_by_name(&d, "infra", &g);
	kf_dir_close(&d);	/* borrowed: not unmapped */
	return 0;
}
