/*
 * test_dirfile.c - the installed directory file (lib/dirfile.c): what the
 * writer writes the reader finds, by name, by id and in order; the writer
 * refuses duplicates; and a file that is unsafe or lies about its offsets
 * is refused or answers KF_ERR_PARSE, never a read outside the mapping
 * (the sanitizer build would catch one).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "dirfile.h"

static const uint32_t alice_groups[] = { 200500, 27 };
static const struct kf_dir_user_in users[] = {
	{ "carol", "Carol", "/home/carol", "/bin/sh", 200103, 200103,
	    NULL, 0 },
	{ "alice", "Alice Liddell", "/home/alice", "/bin/bash", 200101,
	    200101, alice_groups, 2 },
	{ "bob", "", "/home/bob", "/bin/sh", 200102, 200500, NULL, 0 },
};
static const char *const infra_members[] = { "alice", "bob" };
static const struct kf_dir_group_in groups[] = {
	{ "infra", 200500, infra_members, 2 },
	{ "alice", 200101, NULL, 0 },
};

static char *
write_dir(const char *name, const struct kf_dir_in *in)
{
	char *path = tu_printf("%s/%s", tu_tmpdir(), name);

	assert_int_equal(kf_dir_write(path, in), 0);
	return path;
}

static char *
sample(void)
{
	struct kf_dir_in in = { 1794990000, users, 3, groups, 2 };

	return write_dir("directory", &in);
}

static void
test_what_is_written_is_found(void **state)
{
	struct kf_dir d;
	struct kf_dir_user u;
	struct kf_dir_group g;
	const char *why, *m;
	char *path = sample();
	struct stat st;

	(void)state;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), 0);
	assert_int_equal(d.nusers, 3);
	assert_int_equal(d.ngroups, 2);
	assert_int_equal(d.iat, 1794990000);

	assert_int_equal(kf_dir_user_by_name(&d, "alice", &u), 0);
	assert_string_equal(u.gecos, "Alice Liddell");
	assert_string_equal(u.home, "/home/alice");
	assert_string_equal(u.shell, "/bin/bash");
	assert_int_equal(u.uid, 200101);
	assert_int_equal(u.ngroups, 2);
	assert_int_equal(kf_dir_user_group(&u, 0), 200500);
	assert_int_equal(kf_dir_user_group(&u, 1), 27);
	assert_int_equal(kf_dir_user_by_uid(&d, 200102, &u), 0);
	assert_string_equal(u.name, "bob");
	assert_int_equal(u.gid, 200500);
	assert_int_equal(kf_dir_user_by_name(&d, "dave", &u), KF_ERR_NOENT);
	assert_int_equal(kf_dir_user_by_name(&d, "", &u), KF_ERR_NOENT);
	assert_int_equal(kf_dir_user_by_uid(&d, 0, &u), KF_ERR_NOENT);

	assert_int_equal(kf_dir_group_by_gid(&d, 200500, &g), 0);
	assert_string_equal(g.name, "infra");
	assert_int_equal(g.nmembers, 2);
	assert_int_equal(kf_dir_group_member(&d, &g, 1, &m), 0);
	assert_string_equal(m, "bob");
	assert_int_equal(kf_dir_group_member(&d, &g, 2, &m), KF_ERR_NOENT);
	assert_int_equal(kf_dir_group_by_name(&d, "alice", &g), 0);
	assert_int_equal(g.gid, 200101);

	/* Enumeration: every user once, in name order. */
	assert_int_equal(kf_dir_user_at(&d, 0, &u), 0);
	assert_string_equal(u.name, "alice");
	assert_int_equal(kf_dir_user_at(&d, 2, &u), 0);
	assert_string_equal(u.name, "carol");
	assert_int_equal(kf_dir_user_at(&d, 3, &u), KF_ERR_NOENT);
	assert_true(kf_dir_current(&d, path));
	kf_dir_close(&d);
	free(path);
}

static void
test_many_users_are_found_by_name_and_id(void **state)
{
	struct kf_dir_user_in *many = calloc(5000, sizeof(*many));
	struct kf_dir_in in = { 1, NULL, 5000, NULL, 0 };
	char (*names)[16] = calloc(5000, sizeof(*names));
	struct kf_dir_user u;
	struct kf_dir d;
	const char *why;
	char *path;
	uint32_t i;

	(void)state;
	assert_non_null(many);
	assert_non_null(names);
	for (i = 0; i < 5000; i++) {
		/* Names and uids in different orders. */
		snprintf(names[i], sizeof(names[i]), "u%05u", (i * 7919) % 5000);
		many[i].name = names[i];
		many[i].uid = many[i].gid = 300000 + i;
	}
	in.users = many;
	path = write_dir("many", &in);
	assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), 0);
	for (i = 0; i < 5000; i++) {
		assert_int_equal(kf_dir_user_by_uid(&d, 300000 + i, &u), 0);
		assert_string_equal(u.name, names[i]);
		assert_int_equal(kf_dir_user_by_name(&d, names[i], &u), 0);
		assert_int_equal(u.uid, 300000 + i);
	}
	kf_dir_close(&d);
	free(path);
	free(names);
	free(many);
}

static void
test_duplicates_are_refused_and_nothing_changes(void **state)
{
	struct kf_dir_user_in dup_name[2] = { users[0], users[0] };
	struct kf_dir_user_in dup_uid[2] = { users[0], users[1] };
	struct kf_dir_group_in dup_gid[2] = { groups[0], groups[1] };
	struct kf_dir_in in = { 1, dup_name, 2, NULL, 0 };
	char *path = sample(), *before, *after;
	struct kf_dir d;
	const char *why;
	FILE *f;
	size_t n;

	(void)state;
	dup_name[1].uid = 1;
	dup_uid[1].uid = users[0].uid;
	dup_gid[1].gid = groups[0].gid;
	assert_non_null(before = calloc(1, 4096));
	assert_non_null(after = calloc(1, 4096));
	assert_non_null(f = fopen(path, "r"));
	n = fread(before, 1, 4096, f);
	fclose(f);
	assert_int_equal(kf_dir_write(path, &in), KF_ERR_INVAL);
	in.users = dup_uid;
	assert_int_equal(kf_dir_write(path, &in), KF_ERR_INVAL);
	in.users = users;
	in.nusers = 3;
	in.groups = dup_gid;
	in.ngroups = 2;
	assert_int_equal(kf_dir_write(path, &in), KF_ERR_INVAL);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(after, 1, 4096, f), n);
	fclose(f);
	assert_memory_equal(before, after, n);
	assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), 0);
	kf_dir_close(&d);
	free(before);
	free(after);
	free(path);
}

static void
test_unsafe_or_missing_files_are_refused(void **state)
{
	char *path = sample(), *missing;
	struct kf_dir d;
	const char *why;

	(void)state;
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), KF_ERR_PERM);
	assert_string_equal(why, "is writable by group or others");
	assert_int_equal(chmod(path, 0644), 0);
	if (geteuid() == 0) {	/* only root can give a file away */
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), KF_ERR_PERM);
		assert_string_equal(why, "is not owned by root");
	}
	missing = tu_printf("%s/no-such-directory-file", tu_tmpdir());
	assert_int_equal(kf_dir_open(missing, tu_config_owner(), &d, &why), KF_ERR_NOENT);
	free(missing);
	free(path);
}

/* Overwrites 4 bytes at off of a fresh sample file. */
static char *
patched(uint32_t off, uint32_t value)
{
	char *path = sample();
	unsigned char v[4] = { (unsigned char)value,
	    (unsigned char)(value >> 8), (unsigned char)(value >> 16),
	    (unsigned char)(value >> 24) };
	int fd;

	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, v, 4, off), 4);
	close(fd);
	return path;
}

static void
test_a_file_that_lies_is_refused_or_answers_nothing(void **state)
{
	/* Header fields: counts and offsets that point past the end. */
	static const uint32_t header_lies[][2] = {
		{ 32, 1000000 }, { 36, 1000000 }, { 40, 0xfffffff0 },
		{ 44, 0xfffffff0 }, { 48, 0xfffffff0 }, { 52, 0xfffffff0 },
		{ 56, 0xfffffff0 }, { 60, 0 }, { 60, 0xfffffff0 }, { 8, 2 },
		{ 16, 12 },
	};
	/* Record fields: string offsets, arrays, index entries. */
	static const uint32_t record_lies[][2] = {
		{ 64, 0xffffff00 },		/* alice's name */
		{ 64 + 12, 0x7fffffff },	/* alice's shell */
		{ 64 + 24, 0xfffffff0 },	/* alice's groups array */
		{ 64 + 28, 0x10000000 },	/* alice's group count */
		{ 64 + 3 * 32, 7 },		/* the uid index's first entry */
	};
	struct kf_dir_user u;
	struct kf_dir_group g;
	struct kf_dir d;
	const char *why;
	char *path;
	size_t i;
	uint32_t j;
	int r;

	(void)state;
	for (i = 0; i < sizeof(header_lies) / sizeof(header_lies[0]); i++) {
		path = patched(header_lies[i][0], header_lies[i][1]);
		if (kf_dir_open(path, tu_config_owner(), &d, &why) != KF_ERR_PARSE)
			fail_msg("header field at %u = %#x accepted",
			    header_lies[i][0], header_lies[i][1]);
		free(path);
	}
	for (i = 0; i < sizeof(record_lies) / sizeof(record_lies[0]); i++) {
		path = patched(record_lies[i][0], record_lies[i][1]);
		assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), 0);
		/* Whatever is asked, an answer from inside or KF_ERR_PARSE. */
		for (j = 0; j < 4; j++) {
			r = kf_dir_user_at(&d, j, &u);
			assert_true(r == 0 || r == KF_ERR_PARSE ||
			    r == KF_ERR_NOENT);
		}
		r = kf_dir_user_by_name(&d, "bob", &u);
		assert_true(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
		r = kf_dir_user_by_uid(&d, 200101, &u);
		assert_true(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
		r = kf_dir_group_by_gid(&d, 200500, &g);
		assert_true(r == 0 || r == KF_ERR_PARSE || r == KF_ERR_NOENT);
		kf_dir_close(&d);
		free(path);
	}
	/* Truncated: the size in the header is no longer the file's. */
	path = sample();
	assert_int_equal(truncate(path, 100), 0);
	assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), KF_ERR_PARSE);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(kf_dir_open(path, tu_config_owner(), &d, &why), KF_ERR_PARSE);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_is_written_is_found),
		cmocka_unit_test(test_many_users_are_found_by_name_and_id),
		cmocka_unit_test(test_duplicates_are_refused_and_nothing_changes),
		cmocka_unit_test(test_unsafe_or_missing_files_are_refused),
		cmocka_unit_test(test_a_file_that_lies_is_refused_or_answers_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
