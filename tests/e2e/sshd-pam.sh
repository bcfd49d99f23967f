#!/bin/bash
# End-to-end: pam_keyfleet inside a real sshd (UsePAM yes).  The API's
# environment reaches the session, a user disabled centrally is refused
# although sshd still accepts their cached key, and a local user the API
# does not know still logs in (UnknownUser ignore).
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

rig_require_root
rig_init


have_syslog=0
rig_start_syslog && have_syslog=1
rig_keyfleet_user
rig_add_user kf-erin
rig_add_user kf-local
rig_keygen erin
rig_keygen local
mkdir -m 700 "$RIG/home/kf-local/.ssh"
cp "$RIG/keys/local.pub" "$RIG/home/kf-local/.ssh/authorized_keys"
chown -R kf-local: "$RIG/home/kf-local/.ssh"
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
rig_install_pam_module "$KF_TOP_BUILDDIR/pam_module/.libs/pam_keyfleet.so"
rig_start_api
rig_write_conf "CacheTTL 300" "UnknownUser ignore"
RIG_AUTHORIZED_KEYS_FILE=.ssh/authorized_keys
rig_start_sshd

erin_record() {	# $1: true or false
	rig_api_put kf-erin "{\"user\":\"kf-erin\",\"active\":$1,\"keys\":[\"$(cat "$RIG/keys/erin.pub")\"],\"env\":{\"PROJECT\":\"apollo\",\"TEAM\":\"infra\",\"LD_PRELOAD\":\"/tmp/evil.so\",\"PATH\":\"/tmp/evil\"}}"
}
erin_record true

env_out=$(rig_ssh erin kf-erin env 2>"$RIG/ssh.err")
if echo "$env_out" | grep -qx "PROJECT=apollo" &&
    echo "$env_out" | grep -qx "TEAM=infra"; then
	pass "the API's environment is in the ssh session"
else
	fail "environment missing: $(cat "$RIG/ssh.err") / $env_out"
fi
if echo "$env_out" | grep -q "evil"; then
	fail "LD_PRELOAD or PATH from the API reached the session"
else
	pass "LD_PRELOAD and PATH from the API are not set"
fi

# Disabled centrally: the helper's fresh cache still lists the key, so sshd
# accepts it, but the account phase asks the API and refuses.
erin_record false
from=$(($(wc -l < "$RIG/sshd.log") + 1))
if rig_ssh erin kf-erin true 2>"$RIG/ssh.err"; then
	fail "a user disabled in the API logged in"
elif tail -n +"$from" "$RIG/sshd.log" | grep -q "Accepted key ED25519" &&
    tail -n +"$from" "$RIG/sshd.log" | grep -q "Access denied for user kf-erin by PAM account"; then
	pass "disabled user refused by PAM account although sshd accepted the cached key"
else
	fail "disabled user: unexpected: $(cat "$RIG/ssh.err")"
fi
if [ "$have_syslog" = 1 ]; then
	if grep -q "pam_keyfleet.*kf-erin: disabled in the central API" "$RIG/syslog.log"; then
		pass "the refusal is logged through pam_syslog"
	else
		fail "no pam_keyfleet log line for the refusal"
	fi
fi

marker="kf-local-$RANDOM"
if [ "$(rig_ssh local kf-local echo "$marker" 2>"$RIG/ssh.err")" = "$marker" ]; then
	pass "a local user unknown to the API logs in (UnknownUser ignore)"
else
	fail "local user refused: $(cat "$RIG/ssh.err")"
fi

if [ -n "$(find "$RIG/cache" -name 'u-*' ! -user keyfleet)" ]; then
	fail "cache entries written by PAM (root) are not owned by keyfleet"
else
	pass "cache entries written as root belong to the cache's owner"
fi

if [ "$failures" -ne 0 ]; then
	echo "--- sshd log (keyfleet and PAM lines) ---"
	grep -Ei "keyfleet|pam|Accepted|Access denied" "$RIG/sshd.log" | tail -40
	exit 1
fi
exit 0
