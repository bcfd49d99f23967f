#!/bin/bash
# End-to-end: a DNS outage does not lock anyone out.  A real sshd with
# keyfleet-authkeys and pam_keyfleet (account and session) asks an API
# named by a host name that only the test DNS server knows.  With the
# resolver receiving queries and never answering, a login whose cache
# entry is past CacheTTL (within CacheMaxStale) still succeeds from the
# cache, and takes at most Timeout longer than a normal login: the first
# lookup waits out Timeout, the login's later ones (sshd's second run of
# the helper, the PAM account and session phases) do not wait again.
# Without a cache entry the login is refused, within the same bound.
#
# sshd itself (9.x, ensure_minimum_time_since) pads an authentication
# request that did not authenticate, the client's key query among them,
# to the next doubling of its per-user delay: an AuthorizedKeysCommand
# that took 2 s is answered after up to 4 s.  That padding is sshd's,
# logged at DEBUG3, and counted apart: the bound is on the rest.
#
# It runs in a mount and network namespace of its own: the resolv.conf
# and nsswitch.conf it bind-mounts, and every packet, stay in there.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

rig_require_root
if [ -z "${KF_DNS_NAMESPACE:-}" ]; then
	unshare --mount --net --propagation private true 2>/dev/null ||
	    rig_die "cannot make a mount and network namespace (unshare --mount --net)"
	KF_DNS_NAMESPACE=1 exec unshare --mount --net --propagation private \
	    -- /bin/bash "$0" "$@"
fi
ip link set lo up || rig_die "cannot bring up lo in the test's network namespace"
rig_init

TIMEOUT=2
marker="keyfleet-dns-$RANDOM$RANDOM"

# login USER: prints the milliseconds it took; succeeds when the marker
# comes back.
login() {
	local out t0 t1 rc
	t0=${EPOCHREALTIME/./}
	out=$(rig_ssh key "$1" echo "$marker" 2>"$RIG/ssh.err")
	rc=$?
	t1=${EPOCHREALTIME/./}
	echo $(((t1 - t0) / 1000))
	[ $rc = 0 ] && [ "$out" = "$marker" ]
}

# sshd_padding FROM: milliseconds sshd added, in its log from line FROM
# on, to requests that had taken longer than its per-user delay already
# ("ensure_minimum_time_since: elapsed E, delaying D (requested R)").
sshd_padding() {
	tail -n +"$1" "$RIG/sshd.log" | awk '
	    /ensure_minimum_time_since: elapsed/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "elapsed") e = $(i + 1) + 0
			if ($i == "delaying") d = $(i + 1) + 0
			if ($i == "(requested") r = $(i + 1) + 0
		}
		if (e > r) pad += d
	    }
	    END { printf "%d\n", pad }'
}

# past_ttl USER: the user's cache entry fetched 10 s ago (past CacheTTL,
# within CacheMaxStale), as though time had passed.
past_ttl() {
	local f=$RIG/cache/u-$1
	sed -i "1,/^\$/ s/^fetched .*/fetched $(($(date +%s) - 10))/" "$f" ||
	    rig_die "cannot age the cache entry"
}

rig_start_syslog	# pam_syslog's lines, when the machine has no logger
rig_keyfleet_user
rig_add_user kf-erin
rig_add_user kf-finn
rig_keygen key
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
# The PAM module inside sshd only in the plain build: an instrumented one
# would need the ASan runtime preloaded into sshd (see sshd-pam.sh in
# Makefile.am); the sanitizer build runs the helper's half.
if [ "${KF_SANITIZERS:-no}" != yes ]; then
	rig_install_pam_module "$KF_TOP_BUILDDIR/pam_module/.libs/pam_keyfleet.so"
else
	echo "note: sanitizer build: sshd without pam_keyfleet (plain build only)"
fi
rig_start_api
rig_start_dns
for u in kf-erin kf-finn; do
	rig_api_put "$u" "{\"user\":\"$u\",\"keys\":[\"$(cat "$RIG/keys/key.pub")\"],\"env\":{\"KF_DNS_TEST\":\"yes\"}}"
done
RIG_URL="https://$RIG_DNS_NAME:$RIG_API_PORT/users/%u" \
    RIG_TIMEOUT=$TIMEOUT rig_write_conf "CacheTTL 5" "CacheMaxStale 3600"
rig_start_sshd

# Normal logins: the name resolves, the API answers.  Each one after the
# first finds its entry past CacheTTL, as the outage login will.
if login kf-erin >/dev/null; then
	pass "login through an API named by a host name the test DNS server resolves"
else
	fail "normal login: $(cat "$RIG/ssh.err")"
fi
normal=()
for i in 1 2 3; do
	past_ttl kf-erin
	if ms=$(login kf-erin); then
		normal+=("$ms")
	else
		fail "normal login $i: $(cat "$RIG/ssh.err")"
	fi
done
[ ${#normal[@]} = 3 ] || rig_die "no normal login to compare with"
normal_ms=$(printf '%s\n' "${normal[@]}" | sort -n | sed -n 2p)

# The outage: the resolver takes queries and never answers.
rig_dns_mode silent
past_ttl kf-erin
cp -p "$RIG/cache/u-kf-erin" "$RIG/entry.before"
queries=$(rig_dns_queries)
sshd_from=$(($(wc -l < "$RIG/sshd.log") + 1))
if ms=$(login kf-erin); then
	pass "DNS not answering, cache entry past CacheTTL: login works ($ms ms; normal $normal_ms ms)"
else
	fail "DNS outage with a usable cache entry: login refused after $ms ms: $(cat "$RIG/ssh.err")"
fi
pad=$(sshd_padding "$sshd_from")
if [ $((ms - pad)) -le $((normal_ms + TIMEOUT * 1000)) ]; then
	pass "the outage login took at most Timeout longer than a normal one ($((ms - pad - normal_ms)) ms longer, and $pad ms of sshd's own padding)"
else
	fail "the outage login took $ms ms ($pad ms of them sshd's padding), more than Timeout ($TIMEOUT s) over a normal one ($normal_ms ms)"
fi
if [ "$(rig_dns_queries)" -gt "$queries" ]; then
	pass "the resolver was asked during the outage"
else
	fail "no DNS query during the outage: the test proves nothing"
fi
if tail -n +"$sshd_from" "$RIG/sshd.log" |
    grep -q "name resolution of $RIG_DNS_NAME did not finish within Timeout"; then
	pass "the log names the resolver that did not answer"
else
	fail "no log line names the name resolution that timed out"
fi
if cmp -s "$RIG/entry.before" "$RIG/cache/u-kf-erin"; then
	pass "the cache entry is byte-identical after the outage"
else
	fail "the cache entry changed during the outage"
fi

# --check says what hangs, in words, and how long it waited.
"$RIG/bin/keyfleet-authkeys" --check -f "$RIG/keyfleet.conf" kf-erin \
    >"$RIG/check.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "PROBLEM: .*name resolution of $RIG_DNS_NAME did not finish within Timeout: no answer from the resolver in [0-9.]* s" "$RIG/check.out"; then
	pass "--check names the resolver that does not answer and how long it waited"
else
	fail "--check during the DNS outage (exit $rc): $(grep -i 'problem' "$RIG/check.out" | head -3)"
fi

# No cache entry: refused, within the same bound.
rm -f "$RIG/cache/u-kf-finn"
sshd_from=$(($(wc -l < "$RIG/sshd.log") + 1))
if ms=$(login kf-finn); then
	fail "DNS outage, no cache entry: login succeeded"
elif pad=$(sshd_padding "$sshd_from") &&
    grep -q "Permission denied" "$RIG/ssh.err" &&
    [ $((ms - pad)) -le $((normal_ms + TIMEOUT * 1000)) ]; then
	pass "DNS outage, no cache entry: login refused in $ms ms ($pad ms of them sshd's padding)"
else
	fail "DNS outage, no cache entry: after $ms ms: $(cat "$RIG/ssh.err")"
fi

# Nothing of the outage is left in sshd: no resolver child outlives its
# lookup (the helper's and the PAM module's are reaped before they return).
pid=$(cat "$RIG/sshd.pid")
if [ -z "$(ps -o pid=,args= --ppid "$pid" | grep -v 'sshd')" ]; then
	pass "no process left behind under sshd"
else
	fail "processes left under sshd: $(ps -o pid=,args= --ppid "$pid")"
fi

if [ "$failures" -ne 0 ]; then
	echo "--- sshd log (keyfleet lines) ---"
	grep -E "keyfleet|AuthorizedKeysCommand" "$RIG/sshd.log" | tail -40
	[ -f "$RIG/syslog.log" ] && tail -20 "$RIG/syslog.log"
	exit 1
fi
exit 0
