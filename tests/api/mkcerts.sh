#!/bin/bash
# mkcerts.sh OUTDIR - throwaway TLS material for keyfleet's API tests.
#
# Writes into OUTDIR (created if missing, existing files overwritten):
#   ca.pem, ca.key               test CA that signs everything below
#   server.pem, server.key       server cert for 127.0.0.1, ::1, localhost and
#                                api.kf.test (the DNS tests' name)
#   wronghost.pem, wronghost.key signed by ca.pem, valid only for wrong.example
#   client.pem, client.key       client cert (clientAuth) for mutual-TLS tests
#   other-ca.pem, other-ca.key   an unrelated CA, for wrong-CA tests
#
# All keys are EC P-256 and all certificates are valid for 2 days. Silent on
# success; on failure the output of the failing openssl command is shown.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
mkdir -p "$out"

# Private keys must never be readable by others, not even for a moment.
umask 077

work=$(mktemp -d "${TMPDIR:-/tmp}/kf-mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/openssl.log

# Our own config, so the result does not depend on the system openssl.cnf
# (whose v3_ca section req -x509 would otherwise apply on top of ours).
cnf=$work/openssl.cnf
cat >"$cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no

[dn]
CN = placeholder

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

# Leaf extensions: what OpenSSL 3 (and Python's VERIFY_X509_STRICT) expect of
# a well-formed end-entity certificate, including the key identifiers.
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost, DNS:api.kf.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[wronghost_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# openssl chats on stderr even when it succeeds; keep that out of sight
# unless the command fails.
ossl() {
	if ! openssl "$@" >"$log" 2>&1; then
		echo "mkcerts.sh: openssl $1 failed:" >&2
		cat "$log" >&2
		exit 1
	fi
}

newkey() {
	ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$1.key"
	# umask only applies to new files; a key left by an earlier run keeps
	# whatever mode it had.
	chmod 600 "$out/$1.key"
}

# mkca NAME COMMON_NAME
mkca() {
	newkey "$1"
	ossl req -config "$cnf" -x509 -new -sha256 -days 2 \
		-key "$out/$1.key" -subj "/CN=$2" -extensions ca_ext \
		-out "$out/$1.pem"
	chmod 644 "$out/$1.pem"
}

# mkleaf NAME COMMON_NAME EXTENSION_SECTION, signed by ca.pem
mkleaf() {
	newkey "$1"
	ossl req -config "$cnf" -new -sha256 \
		-key "$out/$1.key" -subj "/CN=$2" -out "$work/$1.csr"
	# A random 128-bit serial: every run yields distinct certificates, and no
	# ca.srl file is left behind in OUTDIR.
	ossl x509 -req -sha256 -days 2 -in "$work/$1.csr" \
		-CA "$out/ca.pem" -CAkey "$out/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" \
		-extfile "$cnf" -extensions "$3" -out "$out/$1.pem"
	chmod 644 "$out/$1.pem"
}

mkca ca "keyfleet test CA"
mkca other-ca "keyfleet unrelated test CA"
mkleaf server localhost server_ext
mkleaf wronghost wrong.example wronghost_ext
mkleaf client keyfleet-test-client client_ext
