/* envfilter.h - which environment entries from the API a login may get. */
#ifndef KF_ENVFILTER_H
#define KF_ENVFILTER_H

#include "config_file.h"

/*
 * Returns NULL when NAME=VALUE may be put into a login's environment, or
 * a static reason why not: an invalid name ([A-Za-z_][A-Za-z0-9_]*), a
 * value with a newline or control byte, a name on the built-in deny list
 * (LD_*, PATH, IFS, ...), a name matching an EnvDeny pattern, or one
 * matching no EnvAllow pattern (EnvAllow unset allows every name).
 */
const char	*kf_env_refused(const struct kf_strlist *allow,
		    const struct kf_strlist *deny, const char *name,
		    const char *value);

#endif /* KF_ENVFILTER_H */
