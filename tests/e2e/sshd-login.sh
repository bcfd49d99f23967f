#!/bin/bash
# End-to-end: a stock OpenSSH sshd lets users in with keys that only the
# central API knows, and refuses everything the API did not grant.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

rig_require_root
rig_init


rig_keyfleet_user
rig_add_user kf-alice
rig_add_user kf-bob
rig_add_user kf-carol
rig_keygen alice
rig_keygen stranger
rig_keygen carol
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
rig_start_api
rig_write_conf
rig_start_sshd

rig_api_put kf-alice "{\"user\":\"kf-alice\",\"keys\":[\"$(cat "$RIG/keys/alice.pub")\"]}"
# kf-bob: no file, so the API answers 404.
# kf-carol: the API answers with a record that names somebody else.
rig_api_put kf-carol "{\"user\":\"kf-alice\",\"keys\":[\"$(cat "$RIG/keys/carol.pub")\"]}"

marker="keyfleet-e2e-$RANDOM$RANDOM"
out=$(rig_ssh alice kf-alice echo "$marker" 2>"$RIG/ssh.err")
if [ "$out" = "$marker" ]; then
	pass "a key served by the API logs in and runs a command"
else
	fail "login with the API's key: got '$out' ($(cat "$RIG/ssh.err"))"
fi
if [ "$(rig_api_requests kf-alice)" -ge 1 ]; then
	pass "the login was served by the API ($(rig_api_requests kf-alice) requests)"
else
	fail "the API saw no request for kf-alice"
fi

if out=$(rig_ssh stranger kf-alice echo "$marker" 2>"$RIG/ssh.err"); then
	fail "a key the API does not list logged in"
elif grep -q "Permission denied" "$RIG/ssh.err"; then
	pass "a key the API does not list is refused"
else
	fail "unlisted key: unexpected failure: $(cat "$RIG/ssh.err")"
fi

if out=$(rig_ssh alice kf-bob echo "$marker" 2>"$RIG/ssh.err"); then
	fail "a user the API answers 404 for logged in"
elif grep -q "Permission denied" "$RIG/ssh.err" &&
    [ "$(rig_api_requests kf-bob)" -ge 1 ]; then
	pass "a user the API answers 404 for is refused"
else
	fail "404 user: unexpected: $(cat "$RIG/ssh.err"), $(rig_api_requests kf-bob) requests"
fi

if out=$(rig_ssh carol kf-carol echo "$marker" 2>"$RIG/ssh.err"); then
	fail "a response naming another user let kf-carol in"
elif grep -q "Permission denied" "$RIG/ssh.err" &&
    grep -q "record is for another user" "$RIG/sshd.log"; then
	pass "a response naming another user is refused (and logged)"
else
	fail "other-user record: unexpected: $(cat "$RIG/ssh.err")"
fi

# The API failing outright, with nothing cached, must not let anybody in.
# (--flush is the administrator's "ask the API now".)
if "$RIG/bin/keyfleet-authkeys" --flush -f "$RIG/keyfleet.conf" kf-alice >/dev/null &&
    [ ! -e "$RIG/cache/u-kf-alice" ]; then
	pass "--flush drops the user's cache entry"
else
	fail "--flush left the cache entry of kf-alice"
fi
echo "status 500" > "$RIG/api/_mode"
if out=$(rig_ssh alice kf-alice echo "$marker" 2>"$RIG/ssh.err"); then
	fail "a login succeeded while the API answered 500"
else
	pass "API answering 500: login refused"
fi
rm -f "$RIG/api/_mode"

if [ "$failures" -ne 0 ]; then
	echo "--- sshd log (last 60 lines) ---"
	tail -60 "$RIG/sshd.log"
	exit 1
fi
exit 0
