#!/bin/bash
# install-check.sh BUILDDIR - `make install` into a scratch DESTDIR and check
# what a packager gets: the files at their SPEC section 1 places, no
# pam_keyfleet.la, and a PAM module that exports pam_sm_* and nothing else
# (checked by loading the installed module).
set -u
build=$1
dest=$(mktemp -d "${TMPDIR:-/tmp}/kf-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
failures=0
pass() { echo "PASS: install: $*"; }
fail() { echo "FAIL: install: $*"; failures=$((failures + 1)); }

make -C "$build" install DESTDIR="$dest" >"$dest.log" 2>&1 ||
    { cat "$dest.log"; rm -f "$dest.log"; echo "FAIL: install: make install"; exit 1; }
rm -f "$dest.log"
mkvar() {	# the value make gives a variable of the build
	printf 'kf-print-%%:\n\t@echo $($*)\n' |
	    make -s --no-print-directory -C "$build" -f Makefile -f - "kf-print-$1"
}
libdir=$(mkvar libdir)
libexecdir=$(mkvar libexecdir)
pammoddir=$(mkvar pammoddir)
mandir=$(mkvar mandir)
includedir=$(mkvar includedir)
bindir=$(mkvar bindir)
for f in "$libexecdir/keyfleet-authkeys" "$libdir/libkeyfleet.so.0" \
    "$pammoddir/pam_keyfleet.so" "$includedir/keyfleet.h" \
    "$libdir/pkgconfig/keyfleet.pc" "$mandir/man5/keyfleet.conf.5" \
    "$mandir/man8/keyfleet-authkeys.8" "$mandir/man8/pam_keyfleet.8" \
    "$bindir/keyfleet-sign" "$mandir/man1/keyfleet-sign.1"; do
	[ -e "$dest$f" ] && pass "$f" || fail "$f missing"
done
[ -x "$dest$bindir/keyfleet-sign" ] && pass "keyfleet-sign is executable" ||
    fail "keyfleet-sign is not executable"
[ ! -e "$dest$pammoddir/pam_keyfleet.la" ] && pass "no pam_keyfleet.la" ||
    fail "pam_keyfleet.la installed"
mod=$dest$pammoddir/pam_keyfleet.so
syms=$(nm -D --defined-only "$mod" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sort | tr '\n' ' ')
[ "$syms" = "pam_sm_acct_mgmt pam_sm_close_session pam_sm_open_session " ] &&
    pass "the installed module exports only pam_sm_*" ||
    fail "the installed module exports: $syms"
# Loading it resolves every symbol it needs (RTLD_NOW), as PAM does.  An
# instrumented module needs the sanitizer runtime of its host: the plain
# build does this check.
if [ "$(mkvar enable_sanitizers)" = yes ]; then
	echo "note: install: module load check left to the plain build (sanitizer build)"
elif python3 -c 'import ctypes, sys; m = ctypes.CDLL(sys.argv[1], mode=2); m.pam_sm_acct_mgmt; m.pam_sm_open_session; m.pam_sm_close_session' "$mod"; then
	pass "the installed module loads and has its entry points"
else
	fail "the installed module does not load"
fi
exports=$(nm -D --defined-only "$dest$libdir/libkeyfleet.so.0" | awk '$2 == "T" {print $3}' | grep -v '^kf_' | tr '\n' ' ')
[ -z "$exports" ] && pass "libkeyfleet exports only kf_*" || fail "libkeyfleet also exports: $exports"
[ "$failures" -eq 0 ]
