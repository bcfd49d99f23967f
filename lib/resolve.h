/* resolve.h - host names to addresses, within a deadline. */
#ifndef KF_RESOLVE_H
#define KF_RESOLVE_H

#include <stddef.h>

/*
 * Whether host, as a URL names it, needs a resolver: not for an IPv4 or
 * bracketed IPv6 literal, nor for localhost (RFC 6761), which libcurl
 * takes as they are.
 */
int	kf_host_needs_resolving(const char *host);

/*
 * Resolves host through the C library (nsswitch.conf, /etc/hosts, DNS)
 * in a child process that is killed when budget_ms runs out.  Returns 0
 * with *addrs set to the numeric addresses, comma-separated, IPv6 ones in
 * brackets (CURLOPT_RESOLVE's form; free it); KF_ERR_TIMEOUT when the
 * deadline came first; KF_ERR_FETCH for the resolver's own refusal
 * (unknown name, server failure); KF_ERR_IO or KF_ERR_NOMEM.  On failure
 * why says, for a person, what happened.  Nothing it started outlives the
 * call.
 */
int	kf_resolve(const char *host, long budget_ms, char **addrs, char *why,
	    size_t whylen);

#endif /* KF_RESOLVE_H */
