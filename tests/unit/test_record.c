/*
 * test_record.c - what the API sent, as a whole accepted or rejected
 * (SPEC 3: "The record" and "Format keys").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "authkey.h"
#include "record.h"

#define USER	"alice"
#define SOURCE	"https://api.example.com/users/alice"

/*
 * Makes a JSON body from a template written with ' for " (so that the
 * tests stay readable) and placeholders for real keys' lines:
 * $ED ed25519, $EC ecdsa P-256, $RSA rsa 2048, $SHORT rsa 1024, $SK
 * sk-ed25519.
 */
static char *
json(const char *tmpl)
{
	static const struct {
		const char	*name;
		enum tu_keykind	 kind;
	} subst[] = {
		{ "$ED", TU_ED25519 }, { "$EC", TU_ECDSA256 },
		{ "$RSA", TU_RSA2048 }, { "$SHORT", TU_RSA1024 },
		{ "$SK", TU_SK_ED25519 },
	};
	char *s = tu_xstrdup(tmpl), *t, *q;
	size_t i;

	for (q = s; *q != '\0'; q++) {
		if (*q == '\'')
			*q = '"';
	}
	for (i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
		t = tu_replace(s, subst[i].name, tu_key(subst[i].kind)->line);
		free(s);
		s = t;
	}
	return s;
}

/* Parses a JSON body (exact bytes, NULs included) at TU_NOW. */
static int
parse_bytes(struct tu_fixture *f, const char *body, size_t len,
    struct kf_record **recp, const char **why)
{
	struct kf_key_policy pol = kf_key_policy_default();

	*recp = (struct kf_record *)recp;	/* poisoned */
	return kf_record_parse_json(f->ctx, &pol, USER, SOURCE, body, len,
	    TU_NOW, recp, why);
}

/* Parses a template that must be accepted. */
static struct kf_record *
parse_ok(struct tu_fixture *f, const char *tmpl)
{
	struct kf_record *rec;
	const char *why = NULL;
	char *body = json(tmpl);
	int r;

	r = parse_bytes(f, body, strlen(body), &rec, &why);
	if (r != 0)
		fail_msg("record rejected (%s: %s):\n%s", kf_strerror(r),
		    why != NULL ? why : "-", body);
	assert_non_null(rec);
	free(body);
	return rec;
}

/* Parses a template that must be rejected with code want. */
static void
parse_rejected(struct tu_fixture *f, const char *tmpl, int want)
{
	struct kf_record *rec;
	const char *why = NULL;
	char *body = json(tmpl);
	int r;

	r = parse_bytes(f, body, strlen(body), &rec, &why);
	if (r != want)
		fail_msg("got %s, want %s, for:\n%s", kf_strerror(r),
		    kf_strerror(want), body);
	assert_null(rec);
	assert_non_null(why);	/* a reason for the log */
	free(body);
}

static const char *
env_value(const struct kf_record *rec, const char *name)
{
	size_t i;

	for (i = 0; i < rec->nenv; i++) {
		if (strcmp(rec->env[i].name, name) == 0)
			return rec->env[i].value;
	}
	return NULL;
}

static void
test_good_record_is_parsed(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	char *want;

	rec = parse_ok(f, "{"
	    "'user': 'alice',"
	    "'active': true,"
	    "'keys': ["
	    "  '$ED',"
	    "  {'key': '$EC', 'options': 'no-agent-forwarding,from=\\\"10.0.0.0/8\\\"',"
	    "   'expires': 1795000000},"
	    "  {'key': '$RSA'},"
	    "  {'key': '$SK', 'options': 'NO-PTY'}"
	    "],"
	    "'env': {'PROJECT': 'apollo', 'TEAM': 'infra', 'EMPTY': ''},"
	    "'ttl': 120, 'iat': 1789990000, 'exp': 1795000000,"
	    "'aud': 'fleet-eu'}");
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 4);
	assert_string_equal(rec->keys[0].line, tu_key(TU_ED25519)->line);
	want = tu_printf("no-agent-forwarding,from=\"10.0.0.0/8\","
	    "expiry-time=\"20261118110640Z\" %s", tu_key(TU_ECDSA256)->line);
	assert_string_equal(rec->keys[1].line, want);
	free(want);
	assert_string_equal(rec->keys[1].blob_b64, tu_key(TU_ECDSA256)->b64);
	assert_string_equal(rec->keys[2].line, tu_key(TU_RSA2048)->line);
	want = tu_printf("no-pty %s", tu_key(TU_SK_ED25519)->line);
	assert_string_equal(rec->keys[3].line, want);
	free(want);
	assert_int_equal(rec->nenv, 3);
	assert_string_equal(env_value(rec, "PROJECT"), "apollo");
	assert_string_equal(env_value(rec, "TEAM"), "infra");
	assert_string_equal(env_value(rec, "EMPTY"), "");
	assert_int_equal(rec->ttl, 120);
	assert_int_equal(rec->iat, 1789990000);
	assert_int_equal(rec->exp, 1795000000);
	assert_int_equal(f->log.n, 0);
	kf_record_free(rec);
}

static void
test_minimal_record_has_the_documented_defaults(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec = parse_ok(f, "{'user':'alice'}");

	assert_int_equal(rec->active, 1);	/* active defaults to true */
	assert_int_equal(rec->nkeys, 0);
	assert_int_equal(rec->nenv, 0);
	assert_int_equal(rec->ttl, -1);
	assert_int_equal(rec->iat, 0);
	assert_int_equal(rec->exp, 0);
	kf_record_free(rec);

	rec = parse_ok(f, "{'user':'alice','keys':[],'env':{},'aud':['a','b'],"
	    "'ttl':0}");
	assert_int_equal(rec->nkeys, 0);
	assert_int_equal(rec->ttl, 0);
	kf_record_free(rec);
}

static void
test_ttl_is_capped_at_ten_years(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	rec = parse_ok(f, "{'user':'alice','ttl':99999999999}");
	assert_int_equal(rec->ttl, 10L * 365 * 86400);
	kf_record_free(rec);
}

static void
test_record_for_another_user_is_rejected(void **state)
{
	static const char *records[] = {
		"{'user':'bob','keys':['$ED']}",
		"{'user':'Alice'}",
		"{'user':'alice '}",
		"{'user':' alice'}",
		"{'user':'alice@example.com'}",
		"{'user':'alic'}",
		"{'user':''}",
		"{'user':'al\\u0131ce'}",
	};
	struct tu_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		parse_rejected(f, records[i], KF_ERR_USER_MISMATCH);
}

static void
test_record_without_a_string_user_is_rejected(void **state)
{
	static const char *records[] = {
		"{}",
		"{'active':true,'keys':['$ED']}",
		"{'user':null}",
		"{'user':5}",
		"{'user':['alice']}",
		"{'user':{'name':'alice'}}",
		"{'User':'alice'}",
	};
	struct tu_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		parse_rejected(f, records[i], KF_ERR_PARSE);
}

static void
test_body_that_is_not_a_json_object_is_rejected(void **state)
{
	static const char *bodies[] = {
		"", " ", "null", "[]", "'alice'", "42", "{",
		"{'user':'alice'", "{'user':'alice'} {}",
		"{'user':'alice'} trailing", "{'user':'alice',}",
		"{user:'alice'}", "<html>alice</html>",
	};
	struct tu_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		parse_rejected(f, bodies[i], KF_ERR_PARSE);
}

static void
test_duplicate_member_rejects_the_response(void **state)
{
	static const char *records[] = {
		"{'user':'alice','user':'alice'}",
		"{'user':'alice','active':true,'active':false}",
		"{'user':'alice','keys':['$ED'],'keys':[]}",
		"{'user':'alice','env':{'A':'1','A':'2'}}",
		"{'user':'alice','keys':[{'key':'$ED','key':'$EC'}]}",
		"{'user':'alice','x':{'y':1,'y':2}}",
	};
	struct tu_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		parse_rejected(f, records[i], KF_ERR_PARSE);
}

static void
test_nul_in_a_string_rejects_the_response(void **state)
{
	static const char *records[] = {
		"{'user':'alice\\u0000'}",
		"{'user':'alice','env':{'A':'x\\u0000y'}}",
		"{'user':'alice','env':{'A\\u0000B':'x'}}",
		"{'user':'alice','keys':['$ED c\\u0000x']}",
		"{'user':'alice','unknown':'\\u0000'}",
	};
	struct tu_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		parse_rejected(f, records[i], KF_ERR_PARSE);
}

static void
test_raw_nul_byte_rejects_the_response(void **state)
{
	static const char in_string[] = "{\"user\":\"alice\",\"x\":\"a\0b\"}";
	static const char after[] = "{\"user\":\"alice\"}\0garbage";
	static const char before[] = "\0{\"user\":\"alice\"}";
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	const char *why;

	assert_int_equal(parse_bytes(f, in_string, sizeof(in_string) - 1,
	    &rec, &why), KF_ERR_PARSE);
	assert_null(rec);
	assert_int_equal(parse_bytes(f, after, sizeof(after) - 1, &rec, &why),
	    KF_ERR_PARSE);
	assert_null(rec);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(parse_bytes(f, after, strlen(after) + 1, &rec, &why),
	    KF_ERR_PARSE);
	assert_null(rec);
	assert_int_equal(parse_bytes(f, before, sizeof(before) - 1, &rec,
	    &why), KF_ERR_PARSE);
	assert_null(rec);
	/* The same body without the NUL is fine: it is the NUL that counts. */
	assert_int_equal(parse_bytes(f, after, strlen(after), &rec, &why), 0);
	kf_record_free(rec);
}

static void
test_invalid_utf8_rejects_the_response(void **state)
{
	static const char *records[] = {
		"{'user':'alice','env':{'A':'\xff'}}",
		"{'user':'alice','env':{'A':'caf\xe9'}}",		/* Latin-1 */
		"{'user':'alice','env':{'A':'\xc0\xaf'}}",		/* overlong '/' */
		"{'user':'alice','env':{'A':'\xed\xa0\x80'}}",		/* surrogate */
		"{'user':'alice','env':{'A':'\xe2\x82'}}",		/* truncated */
		"{'user':'alice','env':{'A':'\xf4\x90\x80\x80'}}",	/* > U+10FFFF */
		"{'user':'alice','env':{'A':'\\ud800'}}",		/* lone escape */
		"{'user':'alice','unknown':'\xff'}",
		"{'user':'alice','\xff':1}",
		"{'user':'alice','keys':['$ED caf\xe9']}",
	};
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	size_t i;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		parse_rejected(f, records[i], KF_ERR_PARSE);
	/* Valid UTF-8 is fine, and kept as sent in env values. */
	rec = parse_ok(f, "{'user':'alice','env':{'A':'caf\xc3\xa9 \\u2603'}}");
	assert_string_equal(env_value(rec, "A"), "caf\xc3\xa9 \xe2\x98\x83");
	kf_record_free(rec);
}

static void
test_wrong_type_for_a_known_member_rejects_the_response(void **state)
{
	static const char *records[] = {
		"{'user':'alice','active':'true'}",
		"{'user':'alice','active':1}",
		"{'user':'alice','active':null}",
		"{'user':'alice','keys':{}}",
		"{'user':'alice','keys':'$ED'}",
		"{'user':'alice','keys':null}",
		"{'user':'alice','keys':['$ED',1]}",
		"{'user':'alice','keys':['$ED',null]}",
		"{'user':'alice','keys':[['$ED']]}",
		"{'user':'alice','keys':[{'options':'no-pty'}]}",
		"{'user':'alice','keys':[{'key':1}]}",
		"{'user':'alice','keys':[{'key':'$ED','options':5}]}",
		"{'user':'alice','keys':[{'key':'$ED','options':['no-pty']}]}",
		"{'user':'alice','keys':[{'key':'$ED','expires':'1795000000'}]}",
		"{'user':'alice','keys':[{'key':'$ED','expires':-1}]}",
		"{'user':'alice','keys':[{'key':'$ED','expires':1795000000.5}]}",
		"{'user':'alice','keys':[{'key':'$ED','expires':true}]}",
		"{'user':'alice','env':[]}",
		"{'user':'alice','env':'A=b'}",
		"{'user':'alice','env':{'A':5}}",
		"{'user':'alice','env':{'A':null}}",
		"{'user':'alice','env':{'A':['x']}}",
		"{'user':'alice','env':{'A':true}}",
		"{'user':'alice','ttl':-1}",
		"{'user':'alice','ttl':'60'}",
		"{'user':'alice','ttl':1.5}",
		"{'user':'alice','ttl':null}",
		"{'user':'alice','iat':'1789990000'}",
		"{'user':'alice','iat':-5}",
		"{'user':'alice','exp':'1795000000'}",
		"{'user':'alice','exp':-1}",
		"{'user':'alice','exp':1795000000.0}",
		"{'user':'alice','exp':253402300800}",
		"{'user':'alice','aud':5}",
		"{'user':'alice','aud':{}}",
		"{'user':'alice','aud':true}",
	};
	struct tu_fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		parse_rejected(f, records[i], KF_ERR_PARSE);
}

static void
test_unknown_members_are_ignored(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	rec = parse_ok(f, "{'v':2,'user':'alice','future':{'x':[1,2,{'y':null}]},"
	    "'sig':'abc','keys':['$ED'],'Keys':5,'ENV':[],'nbf':'soon'}");
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 1);
	assert_string_equal(rec->keys[0].line, tu_key(TU_ED25519)->line);
	kf_record_free(rec);
}

static void
test_inactive_user_gets_no_keys(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	rec = parse_ok(f, "{'user':'alice','active':false,"
	    "'keys':['$ED','$EC',{'key':'$RSA'}],'env':{'A':'1'}}");
	assert_int_equal(rec->active, 0);
	assert_int_equal(rec->nkeys, 0);
	kf_record_free(rec);
}

static void
test_record_past_exp_is_rejected(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	char *tmpl;

	tmpl = tu_printf("{'user':'alice','keys':['$ED'],'exp':%ld}",
	    (long)TU_NOW - 1);
	parse_rejected(f, tmpl, KF_ERR_EXPIRED);
	free(tmpl);
	tmpl = tu_printf("{'user':'alice','keys':['$ED'],'exp':%ld}",
	    (long)TU_NOW);
	parse_rejected(f, tmpl, KF_ERR_EXPIRED);
	free(tmpl);
	/* Even an inactive record past its exp is not used. */
	parse_rejected(f, "{'user':'alice','active':false,'exp':1}",
	    KF_ERR_EXPIRED);

	tmpl = tu_printf("{'user':'alice','keys':['$ED'],'exp':%ld}",
	    (long)TU_NOW + 1);
	rec = parse_ok(f, tmpl);
	assert_int_equal(rec->exp, TU_NOW + 1);
	assert_int_equal(rec->nkeys, 1);
	kf_record_free(rec);
	free(tmpl);
}

static void
test_invalid_key_is_dropped_and_logged_the_others_kept(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	char *tmpl;

	tmpl = tu_printf("{'user':'alice','keys':["
	    "'$ED',"					/* 1 kept */
	    "'ssh-ed25519 AAAA bad',"			/* 2 bad base64 */
	    "'$SHORT',"					/* 3 short RSA */
	    "{'key':'$EC','options':'frobnicate'},"	/* 4 bad option */
	    "'ssh-rsa %s c',"				/* 5 type mismatch */
	    "'$ED c\\nssh-ed25519 EVIL',"		/* 6 line break */
	    "'ssh-dss AAAA',"				/* 7 not in KeyTypes */
	    "'$RSA'"					/* 8 kept */
	    "]}", tu_key(TU_ED25519)->b64);
	rec = parse_ok(f, tmpl);
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 2);
	assert_string_equal(rec->keys[0].line, tu_key(TU_ED25519)->line);
	assert_string_equal(rec->keys[1].line, tu_key(TU_RSA2048)->line);

	assert_logged(&f->log, "user alice: key 2 from " SOURCE " dropped");
	assert_logged(&f->log, "key 3 from " SOURCE " dropped: RSA key is "
	    "shorter than MinRSABits");
	assert_logged(&f->log, "key 4 from " SOURCE " dropped: unknown option");
	assert_logged(&f->log, "key 5 from " SOURCE " dropped: key blob is of "
	    "another type");
	assert_logged(&f->log, "key 6 from " SOURCE " dropped: line break");
	assert_logged(&f->log, "key 7 from " SOURCE " dropped: key type not in "
	    "KeyTypes");
	assert_not_logged(&f->log, "key 1 ");
	assert_not_logged(&f->log, "key 8 ");
	assert_int_equal(f->log.n, 6);		/* once each */
	kf_record_free(rec);
	free(tmpl);
}

static void
test_expired_key_entry_is_skipped(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	char *tmpl, *want;

	tmpl = tu_printf("{'user':'alice','keys':["
	    "{'key':'$ED','expires':%ld},{'key':'$EC','expires':%ld},'$RSA']}",
	    (long)TU_NOW - 10, (long)TU_NOW + 60);
	rec = parse_ok(f, tmpl);
	assert_int_equal(rec->nkeys, 2);
	want = tu_printf("expiry-time=\"20260921141420Z\" %s",
	    tu_key(TU_ECDSA256)->line);
	assert_string_equal(rec->keys[0].line, want);
	assert_string_equal(rec->keys[1].line, tu_key(TU_RSA2048)->line);
	kf_record_free(rec);
	free(want);
	free(tmpl);
}

static void
test_record_with_only_bad_keys_is_active_without_keys(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	/* The account is active; it just has nothing usable to log in with. */
	rec = parse_ok(f, "{'user':'alice','keys':['junk','$SHORT']}");
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 0);
	assert_logged(&f->log, "key 1 ");
	assert_logged(&f->log, "key 2 ");
	kf_record_free(rec);
}

static void
test_more_than_10000_keys_rejects_the_response(void **state)
{
	struct tu_fixture *f = *state;
	char *many = tu_repeat(',', KF_RECORD_MAX_KEYS), *items, *tmpl;

	/* 10001 entries "0,0,...,0": the count is refused before types. */
	items = tu_replace(many, ",", "0,");
	tmpl = tu_printf("{'user':'alice','keys':[%s0]}", items);
	parse_rejected(f, tmpl, KF_ERR_PARSE);
	free(tmpl);
	free(items);
	free(many);
}

/* ------------------------------------------------------- Format keys */

static int
parse_keys_bytes(struct tu_fixture *f, const char *body, size_t len,
    struct kf_record **recp)
{
	struct kf_key_policy pol = kf_key_policy_default();
	const char *why = NULL;

	*recp = (struct kf_record *)recp;
	return kf_record_parse_keys(f->ctx, &pol, USER, SOURCE, body, len,
	    TU_NOW, recp, &why);
}

static struct kf_record *
parse_keys_ok(struct tu_fixture *f, const char *tmpl)
{
	struct kf_record *rec;
	char *body = tu_xstrdup(tmpl), *t;

	t = tu_replace(body, "$ED", tu_key(TU_ED25519)->line);
	free(body);
	body = tu_replace(t, "$EC", tu_key(TU_ECDSA256)->line);
	free(t);
	t = tu_replace(body, "$RSA", tu_key(TU_RSA2048)->line);
	free(body);
	assert_int_equal(parse_keys_bytes(f, t, strlen(t), &rec), 0);
	assert_non_null(rec);
	free(t);
	return rec;
}

static void
test_keys_body_skips_comments_blank_lines_and_crlf(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	rec = parse_keys_ok(f,
	    "# alice's keys\n"		/* 1 */
	    "\n"			/* 2 */
	    "$ED\r\n"			/* 3 */
	    "   \t\n"			/* 4 */
	    "  # indented comment\n"	/* 5 */
	    "\t$EC\r\n"			/* 6 */
	    "\r\n"			/* 7 */
	    "$RSA");			/* 8, no final newline */
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 3);
	assert_string_equal(rec->keys[0].line, tu_key(TU_ED25519)->line);
	assert_string_equal(rec->keys[1].line, tu_key(TU_ECDSA256)->line);
	assert_string_equal(rec->keys[2].line, tu_key(TU_RSA2048)->line);
	assert_int_equal(rec->nenv, 0);
	assert_int_equal(f->log.n, 0);
	kf_record_free(rec);
}

static void
test_keys_body_drops_a_bad_line_and_keeps_the_others(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	rec = parse_keys_ok(f,
	    "$ED\n"				/* 1 */
	    "not a key at all\n"		/* 2 */
	    "no-pty $EC\n"			/* 3: no options here */
	    "ssh-ed25519 AAAA\n"		/* 4 */
	    "$RSA\n");				/* 5 */
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 2);
	assert_string_equal(rec->keys[0].line, tu_key(TU_ED25519)->line);
	assert_string_equal(rec->keys[1].line, tu_key(TU_RSA2048)->line);
	assert_logged(&f->log, "key 2 from " SOURCE " dropped");
	assert_logged(&f->log, "key 3 from " SOURCE " dropped");
	assert_logged(&f->log, "key 4 from " SOURCE " dropped");
	assert_int_equal(f->log.n, 3);
	kf_record_free(rec);
}

static void
test_keys_body_is_active_only_with_a_usable_key(void **state)
{
	static const char *bodies[] = {
		"", "\n", "# no keys yet\n", "junk\n", "\r\n\r\n",
		"ssh-ed25519 AAAA\n",
	};
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		rec = parse_keys_ok(f, bodies[i]);
		assert_int_equal(rec->active, 0);
		assert_int_equal(rec->nkeys, 0);
		kf_record_free(rec);
	}
	rec = parse_keys_ok(f, "junk\n$ED\n");
	assert_int_equal(rec->active, 1);
	assert_int_equal(rec->nkeys, 1);
	kf_record_free(rec);
}

static void
test_keys_body_with_nul_is_rejected(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;
	char *body = tu_printf("%s\n%s", tu_key(TU_ED25519)->line,
	    tu_key(TU_ECDSA256)->line);
	size_t len = strlen(body);

	body[len - 5] = '\0';		/* inside the second key */
	assert_int_equal(parse_keys_bytes(f, body, len, &rec), KF_ERR_PARSE);
	assert_null(rec);
	free(body);
}

static void
test_keys_body_cannot_carry_a_line_break_into_a_key(void **state)
{
	struct tu_fixture *f = *state;
	struct kf_record *rec;

	/* A lone CR is not a line end: the line is one broken entry. */
	rec = parse_keys_ok(f, "$ED c\r$EC\n");
	assert_int_equal(rec->nkeys, 0);
	assert_logged(&f->log, "line break");
	kf_record_free(rec);
}

#define T(name) cmocka_unit_test_setup_teardown(name, tu_setup, tu_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good_record_is_parsed),
		T(test_minimal_record_has_the_documented_defaults),
		T(test_ttl_is_capped_at_ten_years),
		T(test_record_for_another_user_is_rejected),
		T(test_record_without_a_string_user_is_rejected),
		T(test_body_that_is_not_a_json_object_is_rejected),
		T(test_duplicate_member_rejects_the_response),
		T(test_nul_in_a_string_rejects_the_response),
		T(test_raw_nul_byte_rejects_the_response),
		T(test_invalid_utf8_rejects_the_response),
		T(test_wrong_type_for_a_known_member_rejects_the_response),
		T(test_unknown_members_are_ignored),
		T(test_inactive_user_gets_no_keys),
		T(test_record_past_exp_is_rejected),
		T(test_invalid_key_is_dropped_and_logged_the_others_kept),
		T(test_expired_key_entry_is_skipped),
		T(test_record_with_only_bad_keys_is_active_without_keys),
		T(test_more_than_10000_keys_rejects_the_response),
		T(test_keys_body_skips_comments_blank_lines_and_crlf),
		T(test_keys_body_drops_a_bad_line_and_keeps_the_others),
		T(test_keys_body_is_active_only_with_a_usable_key),
		T(test_keys_body_with_nul_is_rejected),
		T(test_keys_body_cannot_carry_a_line_break_into_a_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
