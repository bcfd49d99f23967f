#!/bin/bash
# run-nss-tests.sh - libnss_keyfleet.so.2: first tests/nss/test_nss (the
# module's functions called as glibc calls them), then through the real
# glibc: in a mount namespace of its own, /etc/nsswitch.conf is bind-mounted with
# "passwd: files keyfleet" and "group: files keyfleet", and the test build
# of the module (serving /run/keyfleet-nss-test/directory) is found
# through LD_LIBRARY_PATH.  getent passwd/group/initgroups and id must
# show the directory's users and groups; files still answers first.
# (The glibc half only in the plain build: an ASan-built module cannot be
# loaded into getent and id.)  One script, so the two halves never share
# the test file at the same time.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (a mount namespace, a root-owned file)"
	[ "${KF_REQUIRE_E2E:-0}" = 1 ] && exit 1
	exit 77
fi
if [ -z "${KF_NSS_NAMESPACE:-}" ]; then
	KF_NSS_NAMESPACE=1 exec unshare --mount --propagation private -- \
	    /bin/bash "$0" "$@"
fi

"$KF_TOP_BUILDDIR/tests/nss/test_nss" || exit 1
if [ "${KF_SANITIZERS:-no}" = yes ]; then
	echo "note: sanitizer build: the glibc half runs in the plain build"
	exit 0
fi

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {	# WHAT EXPECTED COMMAND...
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then
		pass "$what"
	else
		fail "$what: got \"$got\", want \"$want\""
	fi
}

work=$(mktemp -d)
trap 'rm -rf "$work" /run/keyfleet-nss-test' EXIT
"$KF_TOP_BUILDDIR/tests/nss/test_nss" --install ||
    { echo "cannot write the directory file"; exit 99; }
sed -e 's/^passwd:.*/passwd: files keyfleet/' \
    -e 's/^group:.*/group: files keyfleet/' /etc/nsswitch.conf > "$work/nsswitch.conf"
mount --bind "$work/nsswitch.conf" /etc/nsswitch.conf || exit 99
export LD_LIBRARY_PATH=$KF_TOP_BUILDDIR/tests/nss/.libs

expect "getent passwd alice" \
    "alice:*:200101:200101:Alice Liddell:/home/alice:/bin/bash" \
    getent passwd alice
expect "getent passwd by uid" \
    "bob:*:200102:200500::/home/bob:/bin/sh" getent passwd 200102
expect "getent group infra" "infra:*:200500:alice,bob" getent group infra
expect "getent initgroups alice" "alice                 200500 27" \
    getent initgroups alice
expect "id alice" "uid=200101(alice) gid=200101 groups=200101,200500(infra),27($(getent group 27 | cut -d: -f1))" \
    id alice
expect "files still answers first" "$(grep '^root:' /etc/passwd)" \
    getent passwd root
if getent passwd | grep -q '^carol:\*:200103:'; then
	pass "getent passwd enumerates the directory after files"
else
	fail "carol not in getent passwd"
fi
expect "an unknown user" "" getent passwd mallory
rm -f /run/keyfleet-nss-test/directory
expect "no file: nothing from keyfleet" "" getent passwd alice
[ $failures -eq 0 ] || exit 1
exit 0
