/* envfilter.c - EnvAllow, EnvDeny and the deny list that always applies. */
#include "config.h"

#include <fnmatch.h>
#include <string.h>

#include "envfilter.h"

/*
 * Names a login must never take from the network: they change how the
 * dynamic linker, the shell or interpreters behave, or they are the
 * session's identity, which sshd and PAM set themselves.
 */
static const char *const builtin_deny[] = {
	"LD_*", "PATH", "IFS", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS",
	"PS4", "CDPATH", "GLOBIGNORE", "HOME", "USER", "LOGNAME", "SHELL",
	"MAIL", "SSH_*", "GCONV_PATH", "GETCONF_DIR",
	"HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_*", "GLIBC_TUNABLES",
	"NLSPATH", "RESOLV_*", "RES_OPTIONS", "PYTHON*", "PERL5*", "PERLLIB",
	"PERLIO_DEBUG", "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "KRB5*", "PAM_*", "XDG_*",
	"SUDO_*", "DYLD_*", "BASH_FUNC_*",
};

static int
matches_any(const char *const *patterns, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fnmatch(patterns[i], name, 0) == 0)
			return 1;
	}
	return 0;
}

const char *
kf_env_refused(const struct kf_strlist *allow, const struct kf_strlist *deny,
    const char *name, const char *value)
{
	const char *p;

	if (!((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') ||
	    *name == '_'))
		return "invalid name";
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return "invalid name";
	}
	if (p - name > 128)
		return "name too long";
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "newline or control character in value";
	}
	if (p - value > 4096)
		return "value too long";
	if (matches_any(builtin_deny, sizeof(builtin_deny) /
	    sizeof(builtin_deny[0]), name))
		return "on keyfleet's built-in deny list";
	if (matches_any((const char *const *)deny->v, deny->n, name))
		return "denied by EnvDeny";
	if (allow->n > 0 && !matches_any((const char *const *)allow->v,
	    allow->n, name))
		return "not allowed by EnvAllow";
	return NULL;
}
