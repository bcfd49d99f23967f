#!/bin/bash
# End-to-end: the cache keeps logins working through an API outage, but
# only for CacheMaxStale; a key added centrally works at the next login.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

rig_require_root
rig_init

# login KEY: succeeds when the marker comes back.
login() {
	local out
	out=$(rig_ssh "$1" kf-dave echo "$marker" 2>"$RIG/ssh.err")
	[ "$out" = "$marker" ]
}

rig_keyfleet_user
rig_add_user kf-dave
rig_keygen old
rig_keygen new
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
rig_start_api
# Small numbers, so the test sees every rule within seconds.
rig_write_conf "CacheTTL 2" "CacheMaxStale 6" "UnknownKeyRefresh 1"
rig_start_sshd
marker="keyfleet-cache-$RANDOM$RANDOM"

rig_api_put kf-dave "{\"user\":\"kf-dave\",\"keys\":[\"$(cat "$RIG/keys/old.pub")\"]}"
if login old; then
	pass "first login, cold cache"
else
	fail "first login: $(cat "$RIG/ssh.err")"
fi
before=$(rig_api_requests kf-dave)
if login old && [ "$(rig_api_requests kf-dave)" -eq "$before" ]; then
	pass "second login within CacheTTL made no API request"
else
	fail "second login: $(rig_api_requests kf-dave) requests, was $before"
fi

# A key added centrally: no waiting for CacheTTL, only UnknownKeyRefresh.
rig_api_put kf-dave "{\"user\":\"kf-dave\",\"keys\":[\"$(cat "$RIG/keys/old.pub")\",\"$(cat "$RIG/keys/new.pub")\"]}"
sleep 1.2
if login new; then
	pass "a key added to the API works at the next login"
else
	fail "new key refused: $(cat "$RIG/ssh.err")"
fi
fetched=$(date +%s.%N)

rig_stop_api
sleep 2.2	# past CacheTTL: every lookup now tries the dead API
if login old; then
	pass "API down, entry past CacheTTL but within CacheMaxStale: login works"
else
	fail "stale-if-error login refused: $(cat "$RIG/ssh.err")"
fi
if grep -q "serving the cached answer" "$RIG/sshd.log"; then
	pass "serving a stale answer is logged"
else
	fail "no log line for the stale answer"
fi

# Past CacheMaxStale (6 s after the last successful fetch): fail closed.
sleep "$(echo "$fetched" | awk -v now="$(date +%s.%N)" '{ d = $1 + 6.5 - now; print (d > 0 ? d : 0) }')"
if login old; then
	fail "login succeeded with a cached answer older than CacheMaxStale"
elif grep -q "Permission denied" "$RIG/ssh.err"; then
	pass "API down past CacheMaxStale: login refused"
else
	fail "past CacheMaxStale: unexpected: $(cat "$RIG/ssh.err")"
fi

if [ "$failures" -ne 0 ]; then
	echo "--- sshd log (keyfleet lines) ---"
	grep -E "keyfleet|AuthorizedKeysCommand" "$RIG/sshd.log" | tail -40
	exit 1
fi
exit 0
