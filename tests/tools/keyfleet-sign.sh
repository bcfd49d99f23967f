#!/bin/bash
# keyfleet-sign.sh - tools/keyfleet-sign, checked from outside and by
# keyfleet itself.
#
#   KF_TOP_SRCDIR=SRC KF_TOP_BUILDDIR=BUILD tests/tools/keyfleet-sign.sh
#
# Signs records with an Ed25519 and a P-256 key; verifies the results with
# none of keyfleet's code (openssl pkeyutl for EdDSA, python3-cryptography
# for ES256, whose raw R||S is turned back into DER); then serves them from
# the test API and checks that keyfleet-authkeys prints the users' keys,
# refuses a record whose payload was swapped after signing, and refuses a
# cache entry altered the same way.  keyfleet-sign itself must refuse an
# expired record, a non-object and an RSA key, leave no partial output,
# and still sign (with a warning) where there is no python3.
#
# The keyfleet-authkeys part needs root (keyfleet.conf must be owned by
# root); otherwise it is skipped, or fails when KF_REQUIRE_E2E=1.
# KF_TEST_KEEP_TMP=1 keeps the scratch tree.
set -u

me=keyfleet-sign.sh
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() {
	echo "$me: SKIP: $*" >&2
	exit 77
}
die() {
	echo "$me: ERROR: $*" >&2
	exit 99
}

top_srcdir=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${KF_TOP_BUILDDIR:-$(pwd)}
sign=$top_srcdir/tools/keyfleet-sign
helper=$top_builddir/authkeys_cmd/keyfleet-authkeys
server=$top_srcdir/tests/api/server.py
# A pyenv or venv python may come first in PATH: not the one with the
# distribution's python3-cryptography.
python=/usr/bin/python3

[ -x "$sign" ] || die "$sign missing or not executable"
command -v openssl >/dev/null 2>&1 || skip "openssl not installed"
[ -x "$python" ] || skip "$python not found"
"$python" -c 'import cryptography' 2>/dev/null ||
    skip "python3-cryptography not installed (the independent ES256 check)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kf-sign.XXXXXX") || die "mktemp failed"
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "${KF_TEST_KEEP_TMP:-0}" = 1 ]; then
		echo "$me: scratch tree kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 0755 "$tmp"
mkdir -m 0700 "$tmp/keys" "$tmp/cache" "$tmp/out"
mkdir -m 0755 "$tmp/api" "$tmp/etc"

now=$(date +%s)
exp=$((now + 3600))

b64url() {
	openssl base64 -e -A | tr '+/' '-_' | tr -d '=\n'
}

for spec in "ed -algorithm ed25519" \
    "p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256" \
    "rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048" \
    "alice -algorithm ed25519" "bob -algorithm ed25519" \
    "carol -algorithm ed25519" "attacker -algorithm ed25519"; do
	# shellcheck disable=SC2086
	set -- $spec
	name=$1
	shift
	openssl genpkey "$@" -out "$tmp/keys/$name.key" 2>/dev/null ||
	    die "openssl genpkey $name failed"
	# The reference public key, made by openssl alone.
	openssl pkey -in "$tmp/keys/$name.key" -pubout \
	    -out "$tmp/keys/$name.pub" || die "openssl pkey -pubout $name"
done

# The OpenSSH public key of an Ed25519 key: the last 32 bytes of its
# SubjectPublicKeyInfo, in the blob "ssh-ed25519" || key.
ssh_pub() {
	{
		printf '\0\0\0\013ssh-ed25519\0\0\0\040'
		openssl pkey -in "$tmp/keys/$1.key" -pubout -outform DER | tail -c 32
	} | openssl base64 -e -A
}
ssh_alice="ssh-ed25519 $(ssh_pub alice)"
ssh_bob="ssh-ed25519 $(ssh_pub bob)"
ssh_carol="ssh-ed25519 $(ssh_pub carol)"
ssh_attacker="ssh-ed25519 $(ssh_pub attacker)"

# record USER SSHKEY [EXP]: the record JSON, for Audience fleet-test.
record() {
	printf '{\n  "user": "%s",\n  "active": true,\n  "keys": ["%s %s@laptop"],\n  "iat": %s,\n  "exp": %s,\n  "aud": ["fleet-other", "fleet-test"]\n}\n' \
	    "$1" "$2" "$1" "$now" "${3:-$exp}"
}
record alice "$ssh_alice" >"$tmp/alice.json"
record bob "$ssh_bob" >"$tmp/bob.json"
record carol "$ssh_carol" >"$tmp/carol.json"
# What an attacker would serve for carol: her record with their key.
record carol "$ssh_attacker" >"$tmp/carol-evil.json"

# ------------------------------------------------------------ signing
if "$sign" -k fleet-ed -o "$tmp/api/alice.jws" "$tmp/keys/ed.key" \
    "$tmp/alice.json" 2>"$tmp/err"; then
	pass "Ed25519: keyfleet-sign -o signs a record file"
else
	fail "Ed25519: keyfleet-sign failed: $(cat "$tmp/err")"
fi
if "$sign" "$tmp/keys/p256.key" <"$tmp/bob.json" >"$tmp/api/bob.jws" \
    2>"$tmp/err"; then
	pass "P-256: keyfleet-sign signs a record from standard input"
else
	fail "P-256: keyfleet-sign failed: $(cat "$tmp/err")"
fi
"$sign" -k fleet-ed "$tmp/keys/ed.key" - <"$tmp/carol.json" \
    >"$tmp/carol.jws" 2>"$tmp/err" ||
    fail "Ed25519: keyfleet-sign failed for carol: $(cat "$tmp/err")"
mode=$(stat -c %a "$tmp/api/alice.jws" 2>/dev/null)
if [ "$mode" = 644 ]; then
	pass "-o writes the file with the umask's mode (644)"
else
	fail "-o wrote mode '$mode', umask $(umask)"
fi

# verify FILE ALG KID RECORD PUBKEY: an independent check of a JWS file,
# by python3 and python3-cryptography alone.  For EdDSA it also writes
# FILE.input and FILE.sig, for openssl to verify.
verify() {
	"$python" - "$@" <<'EOF'
import base64, json, re, sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

path, alg, kid, record, pubkey = sys.argv[1:]
data = open(path, "rb").read()
def die(why):
    sys.exit("%s: %s" % (path, why))
if not data.endswith(b"\n") or data.count(b"\n") != 1:
    die("not one line ending in a newline")
text = data[:-1].decode("ascii")
parts = text.split(".")
if len(parts) != 3:
    die("%d segments, not 3" % len(parts))
for p in parts:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", p):
        die("a segment is not unpadded base64url: %r" % p[:20])
def dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
header = json.loads(dec(parts[0]))
want = {"alg": alg}
if kid != "-":
    want["kid"] = kid
if header != want:
    die("header %r, not %r" % (header, want))
if dec(parts[1]) != open(record, "rb").read():
    die("the payload is not the record byte for byte")
sig = dec(parts[2])
if len(sig) != 64:
    die("the signature is %d bytes, not 64" % len(sig))
signing_input = (parts[0] + "." + parts[1]).encode()
if alg == "ES256":
    key = serialization.load_pem_public_key(open(pubkey, "rb").read())
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                               int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        die("the ES256 signature does not verify")
else:
    open(path + ".input", "wb").write(signing_input)
    open(path + ".sig", "wb").write(sig)
EOF
}
# Ed25519 (RFC 8037): openssl verifies the raw signature over the input.
verify_ed() {	# FILE PUBKEY
	openssl pkeyutl -verify -rawin -pubin -inkey "$2" -in "$1.input" \
	    -sigfile "$1.sig" >/dev/null 2>&1
}

if verify "$tmp/api/alice.jws" EdDSA fleet-ed "$tmp/alice.json" \
    "$tmp/keys/ed.pub" && verify_ed "$tmp/api/alice.jws" "$tmp/keys/ed.pub"
then
	pass "Ed25519: openssl verifies the EdDSA JWS; header and payload as expected"
else
	fail "Ed25519: the JWS does not verify independently"
fi
if verify "$tmp/api/bob.jws" ES256 - "$tmp/bob.json" "$tmp/keys/p256.pub"; then
	pass "P-256: python3-cryptography verifies the ES256 JWS (raw R||S)"
else
	fail "P-256: the JWS does not verify independently"
fi
n=0
for i in $(seq 8); do
	"$sign" "$tmp/keys/p256.key" "$tmp/bob.json" >"$tmp/out/many.jws" \
	    2>/dev/null &&
	    verify "$tmp/out/many.jws" ES256 - "$tmp/bob.json" \
	    "$tmp/keys/p256.pub" 2>/dev/null && n=$((n + 1))
done
if [ "$n" = 8 ]; then
	pass "P-256: 8 signatures in a row verify"
else
	fail "P-256: only $n of 8 signatures verify"
fi

# openssl's DER integers have 33 bytes when the high bit is set (about
# half of them) and 31 or fewer about once in 256: either way R and S must
# come out as 32 bytes each.  Chance would rarely show the short case, so
# a stand-in openssl hands keyfleet-sign a real signature of each shape,
# found by python3-cryptography for the exact input keyfleet-sign signs.
real_openssl=$(command -v openssl)
mkdir -m 0700 "$tmp/fakessl"
cat >"$tmp/fakessl/openssl" <<EOT
#!/bin/bash
if [ "\$1" = dgst ]; then
	while [ \$# -gt 0 ]; do
		[ "\$1" = -out ] && cp "\$KF_FAKE_DER" "\$2"
		shift
	done
	exit 0
fi
exec "$real_openssl" "\$@"
EOT
chmod 0755 "$tmp/fakessl/openssl"
printf '%s.%s' "$(printf '{"alg":"ES256"}' | b64url)" \
    "$(b64url <"$tmp/bob.json")" >"$tmp/bob.input"
for shape in short-r short-s long-r long-s; do
	"$python" - "$tmp/keys/p256.key" "$tmp/bob.input" "$shape" \
	    "$tmp/$shape.der" <<'EOF' || die "no $shape signature found"
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
data = open(sys.argv[2], "rb").read()
shape, part = sys.argv[3].split("-")
for _ in range(100000):
    der = key.sign(data, ec.ECDSA(hashes.SHA256()))
    v = decode_dss_signature(der)[0 if part == "r" else 1]
    if (v.bit_length() <= 247) if shape == "short" else (v.bit_length() == 256):
        open(sys.argv[4], "wb").write(der)
        sys.exit(0)
sys.exit(1)
EOF
	if KF_FAKE_DER=$tmp/$shape.der PATH=$tmp/fakessl:$PATH "$sign" \
	    "$tmp/keys/p256.key" "$tmp/bob.json" >"$tmp/out/many.jws" \
	    2>"$tmp/err" &&
	    verify "$tmp/out/many.jws" ES256 - "$tmp/bob.json" \
	    "$tmp/keys/p256.pub"; then
		pass "P-256: a signature with a $shape DER integer verifies"
	else
		fail "P-256: a signature with a $shape DER integer: $(cat "$tmp/err")"
	fi
done

# The tampered copy: carol's header and signature, the attacker's payload.
IFS=. read -r th _ ts <"$tmp/carol.jws"
printf '%s.%s.%s\n' "$th" "$(b64url <"$tmp/carol-evil.json")" "$ts" \
    >"$tmp/carol-evil.jws"
if verify "$tmp/carol-evil.jws" EdDSA fleet-ed "$tmp/carol-evil.json" \
    "$tmp/keys/ed.pub" 2>/dev/null &&
    ! verify_ed "$tmp/carol-evil.jws" "$tmp/keys/ed.pub"; then
	pass "the checker itself refuses the tampered copy"
else
	fail "the independent checker accepts a tampered JWS"
fi

# --pubkey prints the same public key as openssl.
for k in ed p256; do
	if "$sign" --pubkey "$tmp/keys/$k.key" >"$tmp/etc/$k.pub" \
	    2>"$tmp/err" && cmp -s "$tmp/etc/$k.pub" "$tmp/keys/$k.pub"; then
		pass "--pubkey $k: the PEM public key openssl derives"
	else
		fail "--pubkey $k: $(cat "$tmp/err")"
	fi
done
chmod 0644 "$tmp"/etc/*.pub

# ------------------------------------------------------------ refusals
# refused WHAT PATTERN CMD...: CMD must exit non-zero, say PATTERN on
# stderr, print nothing on stdout and leave $tmp/out/keep.jws as it was
# (CMD writes there with -o).
refused() {
	local what=$1 pattern=$2 rc f left=
	shift 2
	echo "old content" >"$tmp/out/keep.jws"
	"$@" >"$tmp/stdout" 2>"$tmp/err"
	rc=$?
	for f in "$tmp"/out/* "$tmp"/out/.[!.]*; do
		case ${f##*/} in
		keep.jws | many.jws | '*' | '.[!.]*') ;;
		*) left="$left ${f##*/}" ;;
		esac
	done
	if [ "$rc" = 0 ]; then
		fail "$what: accepted"
	elif [ -s "$tmp/stdout" ]; then
		fail "$what: refused (exit $rc) but printed: $(head -c 200 "$tmp/stdout")"
	elif ! grep -Eqi -- "$pattern" "$tmp/err"; then
		fail "$what: refused (exit $rc) without saying /$pattern/: $(cat "$tmp/err")"
	elif [ "$(cat "$tmp/out/keep.jws")" != "old content" ] || [ -n "$left" ]; then
		fail "$what: refused, but the output file changed or files are left:$left"
	else
		pass "$what: refused (exit $rc): $(head -n 1 "$tmp/err")"
	fi
}
record alice "$ssh_alice" $((now - 10)) >"$tmp/expired.json"
refused "an expired record" 'exp.*not in the future' \
    "$sign" -o "$tmp/out/keep.jws" "$tmp/keys/ed.key" "$tmp/expired.json"
echo '["alice"]' >"$tmp/array.json"
refused "a JSON array" 'not a JSON object' \
    "$sign" -o "$tmp/out/keep.jws" "$tmp/keys/ed.key" "$tmp/array.json"
printf '{"user": "alice", "keys": []}\n' >"$tmp/noexp.json"
refused "a record without exp" 'exp' \
    "$sign" -o "$tmp/out/keep.jws" "$tmp/keys/ed.key" "$tmp/noexp.json"
refused "an RSA key" 'RSA key.*Ed25519.*P-256' \
    "$sign" -o "$tmp/out/keep.jws" "$tmp/keys/rsa.key" "$tmp/alice.json"
refused "--pubkey of an RSA key" 'RSA key' \
    "$sign" --pubkey -o "$tmp/out/keep.jws" "$tmp/keys/rsa.key"
refused "a public key instead of a private one" 'cannot read a private key' \
    "$sign" -o "$tmp/out/keep.jws" "$tmp/keys/ed.pub" "$tmp/alice.json"
refused "a kid with a quote" 'key ID' \
    "$sign" -k 'a"b' -o "$tmp/out/keep.jws" "$tmp/keys/ed.key" "$tmp/alice.json"

# Without python3: a rough check and a warning, but still a good JWS, and
# an expired record still refused.
mkdir "$tmp/nopython"
for f in /usr/local/bin/* /usr/bin/* /bin/*; do
	b=${f##*/}
	case $b in
	python* | pydoc* | pyenv*) continue ;;
	esac
	[ -e "$tmp/nopython/$b" ] || ln -s "$f" "$tmp/nopython/$b"
done
if PATH=$tmp/nopython "$sign" "$tmp/keys/ed.key" "$tmp/alice.json" \
    >"$tmp/out/nopy.jws" 2>"$tmp/err" &&
    grep -q 'warning: python3 is not available' "$tmp/err" &&
    verify "$tmp/out/nopy.jws" EdDSA - "$tmp/alice.json" "$tmp/keys/ed.pub" &&
    verify_ed "$tmp/out/nopy.jws" "$tmp/keys/ed.pub"; then
	pass "without python3: signs, with a warning"
else
	fail "without python3: $(cat "$tmp/err")"
fi
rm -f "$tmp"/out/nopy.jws*
refused "without python3, an expired record" 'exp.*not in the future' \
    env PATH="$tmp/nopython" "$sign" -o "$tmp/out/keep.jws" \
    "$tmp/keys/ed.key" "$tmp/expired.json"
refused "without python3, a JSON array" 'not a JSON object' \
    env PATH="$tmp/nopython" "$sign" -o "$tmp/out/keep.jws" \
    "$tmp/keys/ed.key" "$tmp/array.json"

# ------------------------------------------------------------ keyfleet
if [ "$(id -u)" != 0 ]; then
	if [ "${KF_REQUIRE_E2E:-0}" = 1 ]; then
		fail "keyfleet-authkeys checks need root (KF_REQUIRE_E2E=1)"
	else
		echo "$me: SKIP: the keyfleet-authkeys checks need root" \
		    "(keyfleet.conf must be owned by root)" >&2
	fi
	[ "$failures" -eq 0 ]
	exit
fi
[ -x "$helper" ] || die "$helper not built"

"$python" "$server" --http --bind 127.0.0.1 --data-dir "$tmp/api" \
    --port-file "$tmp/api.port" --pid-file "$tmp/api.pid" \
    </dev/null >"$tmp/api.log" 2>&1 &
server_pid=$!
port=
i=0
while [ $i -lt 300 ]; do
	if [ -s "$tmp/api.port" ]; then
		port=$(cat "$tmp/api.port")
		break
	fi
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.05
	i=$((i + 1))
done
if [ -z "$port" ]; then
	cat "$tmp/api.log" >&2
	die "the test API server did not start"
fi
server_pid=$(cat "$tmp/api.pid")

conf=$tmp/etc/keyfleet.conf
cat >"$conf" <<EOT
URL http://127.0.0.1:$port/users/%u
AllowHTTP yes
CacheDirectory $tmp/cache
SigningKey $tmp/etc/ed.pub
SigningKey $tmp/etc/p256.pub
Audience fleet-test
EOT
chmod 0644 "$conf"

# authkeys USER: runs the helper; stdout, stderr and exit status kept.
authkeys() {
	"$helper" -v -f "$conf" "$1" >"$tmp/stdout" 2>"$tmp/err"
	rc=$?
}
# grants WHAT USER LINE: exit 0 with exactly LINE on stdout.
grants() {
	authkeys "$2"
	if [ "$rc" = 0 ] && [ "$(cat "$tmp/stdout")" = "$3" ]; then
		pass "$1"
	else
		fail "$1: exit $rc, stdout '$(cat "$tmp/stdout")', stderr: $(cat "$tmp/err")"
	fi
}
# denies WHAT USER PATTERN: exit 1, nothing on stdout, PATTERN on stderr.
denies() {
	authkeys "$2"
	if [ "$rc" = 1 ] && [ ! -s "$tmp/stdout" ] &&
	    grep -Eqi -- "$3" "$tmp/err"; then
		pass "$1"
	else
		fail "$1: exit $rc, stdout '$(cat "$tmp/stdout")', stderr: $(cat "$tmp/err")"
	fi
}

grants "keyfleet accepts the EdDSA file (SigningKey from --pubkey)" \
    alice "$ssh_alice alice@laptop"
grants "keyfleet accepts the ES256 file (SigningKey from --pubkey)" \
    bob "$ssh_bob bob@laptop"

cp "$tmp/carol-evil.jws" "$tmp/api/carol.jws"
denies "keyfleet refuses a file whose payload was swapped after signing" \
    carol 'signature does not verify'
cp "$tmp/carol.jws" "$tmp/api/carol.jws"
grants "... and accepts the genuine file in its place" \
    carol "$ssh_carol carol@laptop"

# The cache keeps the JWS and checks it at every use: swap the payload of
# alice's entry for a record of the same length that lists another key,
# with the API failing so that only the cache can answer.
echo "status 500" >"$tmp/api/alice.mode"
grants "with the API failing, alice's cached entry answers" \
    alice "$ssh_alice alice@laptop"
record alice "$ssh_attacker" >"$tmp/alice-evil.json"
IFS=. read -r _ ap _ <"$tmp/api/alice.jws"
evil=$(b64url <"$tmp/alice-evil.json")
[ ${#evil} = ${#ap} ] || die "the swapped payload has another length"
sed -i "s/$ap/$evil/" "$tmp/cache/u-alice" ||
    die "cannot edit the cache entry"
grep -q "$evil" "$tmp/cache/u-alice" ||
    die "the cache entry does not hold the JWS as sent (format changed?)"
denies "an altered cache entry is refused (signature checked again)" \
    alice 'signature does not verify|no longer usable'

[ "$failures" -eq 0 ]
