#!/bin/bash
# End-to-end: keyfleet-authkeys --check as an administrator runs it, the
# installed helper (root-owned directory, as sshd demands) against the
# test API over TLS with a signed record.
#
# A good setup passes (exit 0) and shows the user's key line and what PAM
# would return; each broken setup is reported with its reason and a
# non-zero exit: an unknown keyword and a world-writable configuration
# (exit 2), an unreachable URL, a wrong CA, a wrong signing key and a wrong
# Audience (exit 1), a broken second URL behind a working first one, an
# off-curve and a garbage SigningKey, a bearer token the keyfleet user
# cannot read, a helper in a world-writable directory.  None of it changes
# a byte of the cache.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

rig_require_root
rig_init
rig_start_api
rig_keyfleet_user
rig_add_user kf-alice
rig_keygen alice
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
HELPER=$RIG/bin/keyfleet-authkeys
CONF=$RIG/keyfleet.conf
API="https://127.0.0.1:$RIG_API_PORT/users/%u"
# Nothing listens here: the kernel handed it out and it was closed again.
DEAD_PORT=$(rig_free_port)
DEAD="https://127.0.0.1:$DEAD_PORT/users/%u"

# Signing keys: the configured one, and a rogue one in no SigningKey line.
mkdir -m 755 "$RIG/jws"
for k in fleet rogue; do
	openssl genpkey -algorithm ed25519 -out "$RIG/keys/$k.key" 2>/dev/null &&
	    openssl pkey -in "$RIG/keys/$k.key" -pubout -out "$RIG/jws/$k.pub" ||
	    rig_die "signing key $k"
	chmod 644 "$RIG/jws/$k.pub"
done
# A P-256 public key whose point (x = 1, y = 1) is not on the curve: its
# DER is well formed, only libcrypto can tell.
"$RIG_PYTHON" - "$RIG/jws/offcurve.pub" <<'PY' || rig_die "off-curve key"
import base64, sys
der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") \
    + b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big")
with open(sys.argv[1], "w") as f:
    f.write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n"
            % base64.b64encode(der).decode())
PY
printf 'this is not a key\n' > "$RIG/jws/garbage.pub"
chmod 644 "$RIG/jws/offcurve.pub" "$RIG/jws/garbage.pub"

# kf-alice's record, signed by the fleet key, for Audience fleet-eu, with
# one variable PAM may set and one it never sets.
exp=$(($(date +%s) + 3600))
printf '{"user":"kf-alice","active":true,"keys":["%s"],"env":{"TEAM":"infra","LD_PRELOAD":"/tmp/evil.so"},"exp":%s,"aud":"fleet-eu"}' \
    "$(cat "$RIG/keys/alice.pub")" "$exp" > "$RIG/jws/kf-alice.json"
bash "$KF_TOP_SRCDIR/tests/jws/sign-jws" "$RIG/keys/fleet.key" \
    '{"alg":"EdDSA"}' "$RIG/jws/kf-alice.json" > "$RIG/api/kf-alice.jws" ||
    rig_die "sign-jws"
# As an ERE: base64 may hold '+'.
ALICE_KEY=$(cut -d' ' -f1,2 "$RIG/keys/alice.pub" | sed 's/[+.]/\\&/g')

GOOD=("SigningKey $RIG/jws/fleet.pub" "Audience fleet-eu")

# check NAME [ARGS...]: runs --check with $CONF, output in $RIG/NAME.out,
# exit status in $rc.
check() {
	local name=$1
	shift
	timeout 60 "$HELPER" --check -f "$CONF" "$@" >"$RIG/$name.out" \
	    2>"$RIG/$name.err"
	rc=$?
	OUT=$RIG/$name.out
	ERR=$RIG/$name.err
}

# expect NAME RC REGEX...: the exit status is RC and every ERE matches a
# line of the output.
expect() {
	local name=$1 want=$2 re ok=1
	shift 2
	if [ "$rc" != "$want" ]; then
		fail "$name: exit $rc, expected $want"
		ok=0
	fi
	# The last line sums up: the run got to its end.
	if ! tail -n 1 "$OUT" |
	    grep -Eq '^(no problems found|[0-9]+ problems? found)$'; then
		fail "$name: no summary line at the end"
		ok=0
	fi
	if grep -q 'Sanitizer' "$ERR"; then
		fail "$name: a sanitizer report on stderr"
		ok=0
	fi
	for re in "$@"; do
		if ! grep -Eq -- "$re" "$OUT"; then
			fail "$name: no line matches: $re"
			ok=0
		fi
	done
	if [ "$ok" = 1 ]; then
		pass "$name: exit $rc, output as expected"
	else
		echo "--- output of $name ---"
		cat "$OUT" "$ERR"
	fi
}

# The cache holds kf-alice's entry from a real lookup, as sshd's helper
# (the keyfleet user) stored it; --check must leave it exactly so.
rig_write_conf "${GOOD[@]}"
runuser -u keyfleet -- "$HELPER" -f "$CONF" kf-alice >/dev/null ||
    rig_die "the first lookup of kf-alice failed"
[ -s "$RIG/cache/u-kf-alice" ] || rig_die "no cache entry for kf-alice"
cache_state() {
	(cd "$RIG/cache" && find . -printf '%p %y %m %U %s %T@\n' | sort &&
	    find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
cache_state > "$RIG/cache.before"
api_before=$(rig_api_requests kf-alice)

# --- a good setup
check good kf-alice
expect "good setup" 0 \
    '^ok: configuration .*keyfleet.conf: every line valid, owned by root, mode 0644$' \
    "^ok: SigningKey $RIG/jws/fleet.pub: Ed25519 key, accepted by libcrypto" \
    "^ok: CacheDirectory $RIG/cache: owned by keyfleet, mode 0700" \
    "^ok: program $RIG/bin/keyfleet-authkeys: .*owned by root" \
    "^ok: URL 1 https://127.0.0.1:$RIG_API_PORT/users/kf-alice: TLS verified, HTTP 200 \\(application/jose\\).*signature verified.*aud names fleet-eu.*: active, 1 usable key" \
    "^sshd:   $ALICE_KEY " \
    '^pam_keyfleet: account: PAM_SUCCESS' \
    '^pam_keyfleet:   TEAM=infra$' \
    '^pam_keyfleet:   not set: LD_PRELOAD \(on keyfleet.s built-in deny list\)$' \
    '^no problems found$'
if grep -q '^PROBLEM' "$OUT"; then
	fail "good setup: a PROBLEM line: $(grep '^PROBLEM' "$OUT")"
fi
if [ "$(rig_api_requests kf-alice)" -gt "$api_before" ]; then
	pass "--check asked the API afresh although the cache entry is fresh"
else
	fail "--check made no request for kf-alice"
fi

check no-user
expect "good setup, no user" 0 \
    "^ok: URL 1 https://127.0.0.1:$RIG_API_PORT/users/keyfleet-check-probe: TLS verified, HTTP 404" \
    '^no problems found$'

# --- five broken setups
rig_write_conf "${GOOD[@]}" "Bogus yes"
check bad-keyword kf-alice
expect "unknown keyword" 2 \
    "^PROBLEM: $CONF:8: unknown keyword \"Bogus\"$" '^1 problem found$'

rig_write_conf "${GOOD[@]}"
chmod 666 "$CONF"
check world-writable kf-alice
expect "world-writable configuration" 2 \
    "^PROBLEM: $CONF: is writable by group or others$"

RIG_URL=$DEAD rig_write_conf "${GOOD[@]}"
check unreachable kf-alice
expect "unreachable URL" 1 \
    "^PROBLEM: URL 1 https://127.0.0.1:$DEAD_PORT/users/kf-alice: Couldn't connect to server" \
    '^sshd: no URL answered for kf-alice: keyfleet-authkeys exits 1' \
    '^pam_keyfleet: account: PAM_AUTHINFO_UNAVAIL'

rig_write_conf "${GOOD[@]}"
sed -i "s|^CAFile .*|CAFile $RIG/tls/other-ca.pem|" "$CONF"
chmod 644 "$RIG/tls/other-ca.pem"
check wrong-ca kf-alice
expect "wrong CA" 1 \
    "^PROBLEM: URL 1 https://127.0.0.1:$RIG_API_PORT/users/kf-alice: .*SSL certificate problem: (unable to get local issuer certificate|self[- ]signed certificate)"

rig_write_conf "SigningKey $RIG/jws/rogue.pub" "Audience fleet-eu"
check wrong-signing-key kf-alice
expect "wrong signing key" 1 \
    "^PROBLEM: URL 1 https://127.0.0.1:$RIG_API_PORT/users/kf-alice: TLS verified, HTTP 200 \\(application/jose\\).*but the response is rejected: JWS signature does not verify with any SigningKey$" \
    '^sshd: no URL answered for kf-alice'

# --- more
RIG_URL=$API rig_write_conf "${GOOD[@]}" "URL $DEAD"
check second-url kf-alice
expect "two URLs, the second broken" 1 \
    "^ok: URL 1 https://127.0.0.1:$RIG_API_PORT/users/kf-alice: TLS verified, HTTP 200" \
    "^PROBLEM: URL 2 https://127.0.0.1:$DEAD_PORT/users/kf-alice: Couldn't connect to server" \
    "^sshd: 1 authorized_keys line\\(s\\) for kf-alice \\(the answer of URL 1\\)" \
    '^1 problem found$'

rig_write_conf "${GOOD[@]}" "SigningKey $RIG/jws/offcurve.pub"
check off-curve kf-alice
expect "off-curve SigningKey" 2 \
    "^PROBLEM: SigningKey $RIG/jws/offcurve.pub: libcrypto refuses this P-256 key \\(its point is not on the curve\\)" \
    "^ok: URL 1 .*signature verified"

rig_write_conf "${GOOD[@]}" "SigningKey $RIG/jws/garbage.pub"
check garbage-key kf-alice
expect "garbage SigningKey" 2 \
    "^PROBLEM: $CONF:8: SigningKey: $RIG/jws/garbage.pub: no PEM public key"

rig_write_conf "SigningKey $RIG/jws/fleet.pub" "Audience fleet-us"
check wrong-audience kf-alice
expect "wrong Audience" 1 \
    "^PROBLEM: URL 1 .*but the response is rejected: .*aud"

# A bearer token the AuthorizedKeysCommandUser (the cache directory's
# owner) cannot read, then one it can read through its group.
printf 'T0ken-123\n' > "$RIG/token"
chmod 600 "$RIG/token"
rig_write_conf "${GOOD[@]}" "BearerTokenFile $RIG/token"
check token-unreadable kf-alice
expect "token the keyfleet user cannot read" 2 \
    "^PROBLEM: BearerTokenFile $RIG/token: keyfleet cannot read it, and keyfleet runs keyfleet-authkeys for sshd"
chgrp "$(id -gn keyfleet)" "$RIG/token" && chmod 640 "$RIG/token"
check token-readable kf-alice
expect "token readable by the keyfleet group" 0 \
    "^ok: BearerTokenFile $RIG/token: owned by root, mode 0640, not readable by others$"

# The helper where sshd would refuse to run it.
mkdir -m 755 "$RIG/loose"
chmod 777 "$RIG/loose"
install -m 755 "$HELPER" "$RIG/loose/keyfleet-authkeys"
rig_write_conf "${GOOD[@]}"
timeout 60 "$RIG/loose/keyfleet-authkeys" --check -f "$CONF" kf-alice \
    >"$RIG/loose.out" 2>"$RIG/loose.err"
rc=$?
OUT=$RIG/loose.out
ERR=$RIG/loose.err
expect "helper in a world-writable directory" 2 \
    "^PROBLEM: program $RIG/loose/keyfleet-authkeys: sshd refuses to run it as AuthorizedKeysCommand: the directory $RIG/loose is writable by group or others"

# --- the cache
cache_state > "$RIG/cache.after"
if cmp -s "$RIG/cache.before" "$RIG/cache.after"; then
	pass "the cache directory is byte-identical after every --check above"
else
	fail "--check changed the cache: $(diff "$RIG/cache.before" "$RIG/cache.after")"
fi

[ "$failures" -eq 0 ] || exit 1
exit 0
