#!/bin/bash
# valgrind memcheck of keyfleet-authkeys on the paths sshd exercises: a
# fetch over HTTPS (libcurl and its TLS stack loaded on demand), a cache
# hit, a signed (JWS) fetch and cache hit (libcrypto loaded on demand), a
# refused response with a warm cache, and a failing API with a cold one.
# Any memcheck error, and any definite or indirect leak, fails.
#
# Root only (the rig's files must be root-owned); the sanitizer build skips
# it: memcheck cannot run an AddressSanitizer binary, and ASan checks the
# same things there.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

if [ "${KF_SANITIZERS:-no}" = yes ]; then
	echo "SKIP: memcheck cannot run a sanitizer build (ASan covers it)"
	exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
	[ "${KF_REQUIRE_E2E:-0}" = 1 ] && { echo "FAIL: valgrind missing"; exit 1; }
	echo "SKIP: valgrind not installed"
	exit 77
fi
rig_require_root
rig_init
rig_start_api
rig_keygen alice
rig_keygen other
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
HELPER=$RIG/bin/keyfleet-authkeys
mkdir -m 700 -p "$RIG/cache"

# memcheck NAME WANT_EXIT ARGS...: runs the helper under memcheck.
memcheck() {
	local name=$1 want=$2 rc
	shift 2
	valgrind --quiet --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect --track-origins=yes \
	    --log-file="$RIG/vg-$name.log" \
	    "$HELPER" -f "$RIG/keyfleet.conf" "$@" >"$RIG/out-$name" 2>&1
	rc=$?
	if [ "$rc" = 99 ] || [ -s "$RIG/vg-$name.log" ]; then
		fail "$name: memcheck found errors"
		cat "$RIG/vg-$name.log"
	elif [ "$rc" != "$want" ]; then
		fail "$name: exit $rc, expected $want"
		cat "$RIG/out-$name"
	else
		pass "$name: no memcheck errors or leaks (exit $rc)"
	fi
}

alice_fp=$(ssh-keygen -l -f "$RIG/keys/alice.pub" | cut -d' ' -f2)
alice_blob=$(cut -d' ' -f2 "$RIG/keys/alice.pub")
rig_api_put alice "{\"user\":\"alice\",\"keys\":[\"$(cat "$RIG/keys/alice.pub")\"],\"env\":{\"TEAM\":\"infra\"}}"
rig_write_conf "CacheTTL 300"

memcheck fetch 0 alice "$alice_fp" ssh-ed25519 "$alice_blob"
grep -qF "$(cut -d' ' -f1,2 "$RIG/keys/alice.pub")" "$RIG/out-fetch" ||
    fail "fetch: alice's key not printed"
memcheck cache-hit 0 alice "$alice_fp" ssh-ed25519 "$alice_blob"
echo "status 500" > "$RIG/api/_mode"
memcheck cold-failure 1 bob
rm -f "$RIG/api/_mode"
memcheck check 0 --check alice

# Signed: an Ed25519 JWS made by tests/jws/sign-jws (openssl), then a
# tampered one refused while the cached copy serves.
openssl genpkey -algorithm ed25519 -out "$RIG/keys/signing.key" 2>/dev/null
openssl pkey -in "$RIG/keys/signing.key" -pubout -out "$RIG/signing.pub"
chmod 644 "$RIG/signing.pub"
printf '{"user":"carol","keys":["%s"],"exp":%s}' "$(cat "$RIG/keys/alice.pub")" \
    $(( $(date +%s) + 3600 )) >"$RIG/keys/carol.json"
bash "$KF_TOP_SRCDIR/tests/jws/sign-jws" "$RIG/keys/signing.key" \
    '{"alg":"EdDSA"}' "$RIG/keys/carol.json" >"$RIG/api/carol.jws"
rig_write_conf "CacheTTL 300" "SigningKey $RIG/signing.pub"
memcheck signed-fetch 0 carol
grep -qF "$(cut -d' ' -f1,2 "$RIG/keys/alice.pub")" "$RIG/out-signed-fetch" ||
    fail "signed-fetch: carol's key not printed"
memcheck signed-cache-hit 0 carol
# 64 zero bytes in place of the signature: well-formed, and wrong.
sed -i "s/\.[^.]*\$/.$(printf 'A%.0s' $(seq 86))/" "$RIG/api/carol.jws"
rig_write_conf "CacheTTL 0" "SigningKey $RIG/signing.pub"
memcheck signed-refused-stale 0 -v carol "$alice_fp" ssh-ed25519 "$alice_blob"
grep -q "response rejected: JWS signature does not verify" \
    "$RIG/out-signed-refused-stale" ||
    fail "signed-refused-stale: the tampered JWS was not refused"
grep -q "serving the cached answer" "$RIG/out-signed-refused-stale" ||
    fail "signed-refused-stale: the cached answer did not serve"

[ "$failures" -eq 0 ] || exit 1
exit 0
