#!/bin/bash
# End-to-end: signed records as static files.  A stock nginx serves
# pre-signed USER.jws files (no API logic at all); a real sshd lets users
# in through them, with an Ed25519 (EdDSA) and a P-256 (ES256) SigningKey.
# A file whose payload was altered after signing, one signed by a key that
# is not configured, one for another Audience and an expired one grant
# nothing, and the reason is logged.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

rig_require_root
rig_init

SIGN_JWS=$KF_TOP_SRCDIR/tests/jws/sign-jws
WWW=$RIG/www
now=$(date +%s)
exp=$((now + 3600))

b64url() {
	basenc --base64url -w0 | tr -d '='
}

# record USER KEYNAME... : the record JSON (Audience fleet-eu, exp in an
# hour) listing the public keys of KEYNAME...; AUD and EXP override.
record() {
	local user=$1 keys="" k
	shift
	for k in "$@"; do
		keys="$keys${keys:+,}\"$(cat "$RIG/keys/$k.pub")\""
	done
	printf '{"user":"%s","active":true,"keys":[%s],"env":{"TEAM":"infra"},"exp":%s,"aud":"%s"}' \
	    "$user" "$keys" "${EXP:-$exp}" "${AUD:-fleet-eu}"
}

# publish USER HEADER SIGNKEY JSON: what nginx serves as keys/USER.jws from
# now on, signed by tests/jws/sign-jws (none of keyfleet's code).
publish() {
	printf '%s' "$4" > "$RIG/jws/payload.json"
	bash "$SIGN_JWS" "$RIG/keys/$3.key" "$2" "$RIG/jws/payload.json" \
	    > "$WWW/keys/$1.jws.tmp" || rig_die "sign-jws failed for $1"
	chmod 644 "$WWW/keys/$1.jws.tmp"
	mv "$WWW/keys/$1.jws.tmp" "$WWW/keys/$1.jws"
}

# flush USER: the administrator's "ask the API now".
flush() {
	"$RIG/bin/keyfleet-authkeys" --flush -f "$RIG/keyfleet.conf" "$1" \
	    >/dev/null || fail "--flush $1 failed"
}

# login KEYNAME USER: succeeds when the marker comes back.
login() {
	local out
	out=$(rig_ssh "$1" "$2" echo "$marker" 2>"$RIG/ssh.err")
	[ "$out" = "$marker" ]
}

# refused KEYNAME USER WHAT: the login must fail with "Permission denied".
refused() {
	if login "$1" "$2"; then
		fail "$3: logged in"
	elif grep -q "Permission denied" "$RIG/ssh.err"; then
		pass "$3: login refused"
	else
		fail "$3: unexpected failure: $(cat "$RIG/ssh.err")"
	fi
}

# logged_since LINE USER REGEX: a log line after LINE names USER and
# matches REGEX (case-insensitive): the syslog catcher's file, or the
# helper's -v output in sshd's log when a system logger owns /dev/log.
logged_since() {
	tail -n +"$1" "$LOG" | grep -F "$2" | grep -Eqi "$3"
}

log_lines() {
	echo $(($(wc -l < "$LOG") + 1))
}

have_syslog=0
rig_start_syslog && have_syslog=1
rig_keyfleet_user
rig_add_user kf-alice
rig_add_user kf-bob
rig_add_user kf-carol
rig_keygen alice
rig_keygen bob
rig_keygen carol
rig_keygen attacker
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"

# Signing keys: the private halves stay in keys/ (0700); the public halves
# are what keyfleet.conf names (root-owned, 0644, as SigningKey demands).
signing_key() {	# NAME GENPKEY-ARGS...
	local name=$1
	shift
	openssl genpkey "$@" -out "$RIG/keys/$name.key" 2>/dev/null &&
	    openssl pkey -in "$RIG/keys/$name.key" -pubout \
	    -out "$RIG/jws/$name.pub.pem" || rig_die "signing key $name"
	chmod 644 "$RIG/jws/$name.pub.pem"
}
mkdir -m 755 "$RIG/jws"
signing_key ed25519 -algorithm ed25519
signing_key p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
signing_key rogue -algorithm ed25519	# in no SigningKey line
ED_HDR='{"alg":"EdDSA","kid":"fleet-ed25519"}'
ES_HDR='{"alg":"ES256","kid":"fleet-p256","typ":"JOSE"}'

mkdir -m 755 "$WWW" "$WWW/keys"
publish kf-alice "$ED_HDR" ed25519 "$(record kf-alice alice)"
publish kf-bob "$ES_HDR" p256 "$(record kf-bob bob)"
cp "$WWW/keys/kf-alice.jws" "$RIG/jws/kf-alice.genuine"

rig_start_nginx "$WWW"
# No test API at all: every answer comes from nginx's static files.
RIG_URL="https://127.0.0.1:$RIG_NGINX_PORT/keys/%u.jws"
rig_write_conf "SigningKey $RIG/jws/ed25519.pub.pem" \
    "SigningKey $RIG/jws/p256.pub.pem" "Audience fleet-eu"
rig_start_sshd
if [ "$have_syslog" = 1 ]; then LOG=$RIG/syslog.log; else LOG=$RIG/sshd.log; fi
touch "$LOG"
marker="keyfleet-nginx-$RANDOM$RANDOM"

ct=$("$RIG_PYTHON" -c '
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
with urllib.request.urlopen(sys.argv[2], context=ctx, timeout=10) as r:
    print(r.headers.get("Content-Type"))' "$RIG/tls/ca.pem" \
    "https://127.0.0.1:$RIG_NGINX_PORT/keys/kf-alice.jws")
if [ "$ct" = application/jose ]; then
	pass "nginx serves *.jws as application/jose"
else
	fail "nginx's Content-Type for kf-alice.jws: '$ct'"
fi

if login alice kf-alice; then
	pass "an EdDSA-signed static file logs kf-alice in"
else
	fail "kf-alice (EdDSA): $(cat "$RIG/ssh.err")"
fi
if login bob kf-bob; then
	pass "an ES256-signed static file logs kf-bob in"
else
	fail "kf-bob (ES256): $(cat "$RIG/ssh.err")"
fi
if [ "$(rig_nginx_requests /keys/kf-alice.jws)" -ge 1 ] &&
    [ "$(rig_nginx_requests /keys/kf-bob.jws)" -ge 1 ] &&
    grep -q '"GET /keys/kf-alice.jws HTTP/[0-9.]*" 200 .*"keyfleet/' \
    "$RIG/nginx-access.log"; then
	pass "the records came through nginx ($(rig_nginx_requests /keys/kf-alice.jws) + $(rig_nginx_requests /keys/kf-bob.jws) requests)"
else
	fail "nginx's access log shows no keyfleet request for kf-alice and kf-bob"
fi
refused attacker kf-alice "a key the signed record does not list"

# Tampered: the attacker's key spliced into the payload, re-encoded as
# valid base64url, the genuine header and signature kept.
IFS=. read -r hdr _ sig < "$RIG/jws/kf-alice.genuine"
forged=$(record kf-alice alice attacker | b64url)
printf '%s.%s.%s' "$hdr" "$forged" "$sig" > "$WWW/keys/kf-alice.jws.tmp"
chmod 644 "$WWW/keys/kf-alice.jws.tmp"
mv "$WWW/keys/kf-alice.jws.tmp" "$WWW/keys/kf-alice.jws"
flush kf-alice
from=$(log_lines)
before=$(rig_nginx_requests /keys/kf-alice.jws)
refused attacker kf-alice "payload altered after signing (attacker's key added)"
if [ "$(rig_nginx_requests /keys/kf-alice.jws)" -gt "$before" ]; then
	pass "the altered file was fetched from nginx"
else
	fail "no request for the altered file reached nginx"
fi
if logged_since "$from" kf-alice "signature"; then
	pass "the altered file's rejection is logged with its reason"
else
	fail "no log line names kf-alice and the signature: $(tail -n +"$from" "$LOG" | grep kf-alice | tail -5)"
fi
# The whole response is rejected, so even kf-alice's own, unaltered key
# is not served from it (nothing was cached: fail closed).
refused alice kf-alice "kf-alice's own key from an altered file"

# Validly signed, by a key that keyfleet.conf does not name.
publish kf-alice '{"alg":"EdDSA","kid":"fleet-ed25519"}' rogue \
    "$(record kf-alice alice attacker)"
flush kf-alice
from=$(log_lines)
refused attacker kf-alice "a file signed by a key that is not configured"
if logged_since "$from" kf-alice "signature|signing key|SigningKey"; then
	pass "the unknown signer's rejection is logged with its reason"
else
	fail "no log line names kf-alice and the signature: $(tail -n +"$from" "$LOG" | grep kf-alice | tail -5)"
fi

# Genuinely signed, but for another audience, then expired.
publish kf-carol "$ED_HDR" ed25519 "$(AUD=fleet-us record kf-carol carol)"
refused carol kf-carol "a record for another Audience"
publish kf-carol "$ES_HDR" p256 "$(EXP=$((now - 60)) record kf-carol carol)"
flush kf-carol
refused carol kf-carol "an expired signed record"
if [ "$(rig_nginx_requests /keys/kf-carol.jws)" -ge 2 ]; then
	pass "kf-carol's refused records were fetched from nginx"
else
	fail "kf-carol: $(rig_nginx_requests /keys/kf-carol.jws) requests reached nginx"
fi

# Controls: the same users log in again once the genuine files are back,
# so the refusals above were about the signatures and claims, nothing else.
cp "$RIG/jws/kf-alice.genuine" "$WWW/keys/kf-alice.jws.tmp"
mv "$WWW/keys/kf-alice.jws.tmp" "$WWW/keys/kf-alice.jws"
flush kf-alice
publish kf-carol "$ES_HDR" p256 "$(record kf-carol carol)"
flush kf-carol
if login alice kf-alice && login carol kf-carol; then
	pass "with genuine files back, kf-alice and kf-carol log in again"
else
	fail "genuine files restored: $(cat "$RIG/ssh.err")"
fi
refused attacker kf-alice "the attacker's key after the genuine file is back"

if [ "$failures" -ne 0 ]; then
	echo "--- keyfleet log (last 40 lines) ---"
	grep -E "keyfleet|AuthorizedKeysCommand" "$LOG" | tail -40
	echo "--- nginx access log ---"
	tail -20 "$RIG/nginx-access.log"
	exit 1
fi
exit 0
