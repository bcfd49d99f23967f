#!/bin/bash
# install-check.sh BUILDDIR - `make install` into a scratch DESTDIR and check
# what a packager gets: the files at their SPEC section 1 places, no
# pam_keyfleet.la, and a PAM module that exports pam_sm_* and nothing else
# (checked by loading the installed module); the example configuration,
# not put over an existing one; the cache directory; sysusers.d and
# tmpfiles.d snippets that create the keyfleet user and its cache (checked
# with systemd-sysusers and systemd-tmpfiles in a scratch root); and an
# uninstall that takes everything back but a changed configuration.
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

# ---- the configuration, the cache directory, the systemd snippets
sysconfdir=$(mkvar sysconfdir)
localstatedir=$(mkvar localstatedir)
docdir=$(mkvar docdir)
tmpfilesdir=$(mkvar tmpfilesdir)
sysusersdir=$(mkvar sysusersdir)
srcdir=$(mkvar abs_top_srcdir)
conf=$sysconfdir/keyfleet/keyfleet.conf
cachedir=$localstatedir/cache/keyfleet
for f in "$conf" "$docdir/examples/keyfleet.conf" "$docdir/examples/pam.d-sshd" \
    "$docdir/examples/sshd_config.d-keyfleet.conf" \
    "$tmpfilesdir/keyfleet.conf" "$sysusersdir/keyfleet.conf"; do
	[ -f "$dest$f" ] && pass "$f" || fail "$f missing"
done
cmp -s "$dest$conf" "$srcdir/examples/keyfleet.conf" &&
    pass "$conf is examples/keyfleet.conf" || fail "$conf differs from examples/keyfleet.conf"
mode=$(stat -c %a "$dest$conf" 2>/dev/null)
[ "$mode" = 644 ] && pass "$conf has mode 644" || fail "$conf has mode ${mode:-?}, not 644"
mode=$(stat -c %a "$dest$cachedir" 2>/dev/null)
[ -d "$dest$cachedir" ] && [ "$mode" = 700 ] && pass "cache directory $cachedir, mode 700" ||
    fail "cache directory $cachedir missing or mode ${mode:-?}, not 700"

# The installed example, read by the installed helper: as shipped it names
# no URL, so it is a configuration error (exit 2) and keyfleet asks no
# one; with a URL, every keyword line it shows (uncommented) is accepted,
# and the lookup only fails to reach the API (exit 1).  keyfleet takes a
# configuration only from root.
helper() {
	LD_LIBRARY_PATH="$dest$libdir" "$dest$libexecdir/keyfleet-authkeys" -v -f "$@"
}
if [ "$(mkvar enable_sanitizers)" = yes ]; then
	echo "note: install: example configuration check left to the plain build (sanitizer build)"
elif [ "$(id -u)" -ne 0 ]; then
	echo "note: install: example configuration check needs root (keyfleet takes root's files only)"
else
	out=$(helper "$dest$conf" alice 2>&1)
	rc=$?
	[ $rc -eq 2 ] && printf '%s' "$out" | grep -q "no URL" &&
	    pass "the example as shipped: configuration error, no URL" ||
	    fail "the example as shipped: exit $rc (want 2, no URL): $out"
	# Every keyword line but those naming files or placeholders;
	# Audience needs a SigningKey.
	sed -E '/^#(URL|PinnedPublicKey|AllowHTTP|Audience) /d
	    /^#[A-Z][A-Za-z]+( [^/]*)?$/s/^#//' "$dest$conf" >"$dest/example.conf"
	printf 'URL http://127.0.0.1:9/%%u\nAllowHTTP yes\n' >>"$dest/example.conf"
	n=$(grep -c '^[A-Z]' "$dest/example.conf")
	out=$(helper "$dest/example.conf" alice 2>&1)
	rc=$?
	[ $rc -eq 1 ] && [ "$n" -gt 10 ] &&
	    pass "the example's $n keyword lines, uncommented, with a URL: accepted" ||
	    fail "the example uncommented ($n keyword lines): exit $rc (want 1): $out"
fi

# sysusers.d: a system user keyfleet with no login shell.  tmpfiles.d:
# the cache directory, owned by that user, mode 0700, never aged.
sysusers=$dest$sysusersdir/keyfleet.conf
tmpfiles=$dest$tmpfilesdir/keyfleet.conf
lines=$(grep -Ev '^[[:space:]]*(#|$)' "$sysusers")
printf '%s\n' "$lines" | awk 'NR == 1 && $1 == "u" && $2 == "keyfleet" && (NF < 3 || $3 == "-") {ok = 1} END {exit !(ok && NR == 1)}' &&
    pass "sysusers.d: one line, user keyfleet (a dynamic system uid)" ||
    fail "sysusers.d: want one 'u keyfleet -' line, have: $lines"
lines=$(grep -Ev '^[[:space:]]*(#|$)' "$tmpfiles")
[ "$lines" = "d $cachedir 0700 keyfleet keyfleet -" ] &&
    pass "tmpfiles.d: d $cachedir 0700 keyfleet keyfleet -" ||
    fail "tmpfiles.d: want 'd $cachedir 0700 keyfleet keyfleet -', have: $lines"
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	root=$dest/sysroot
	mkdir -p "$root/etc"
	if systemd-sysusers --root="$root" "$sysusers" >"$root.log" 2>&1; then
		ent=$(grep '^keyfleet:' "$root/etc/passwd")
		uid=$(printf '%s' "$ent" | cut -d: -f3)
		shell=$(printf '%s' "$ent" | cut -d: -f7)
		[ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] &&
		    [ "${shell##*/}" = nologin ] &&
		    pass "systemd-sysusers: keyfleet is a system user (uid $uid, $shell)" ||
		    fail "systemd-sysusers made: ${ent:-no keyfleet user}"
	else
		fail "systemd-sysusers: $(cat "$root.log")"
	fi
	if systemd-tmpfiles --root="$root" --create "$tmpfiles" >"$root.log" 2>&1; then
		st=$(stat -c '%F %u %a' "$root$cachedir" 2>/dev/null)
		[ -n "${uid:-}" ] && [ "$st" = "directory $uid 700" ] &&
		    pass "systemd-tmpfiles: $cachedir, owner keyfleet, mode 700" ||
		    fail "systemd-tmpfiles made $cachedir: ${st:-nothing} (want directory ${uid:-?} 700)"
	else
		fail "systemd-tmpfiles: $(cat "$root.log")"
	fi
	rm -rf "$root" "$root.log"
else
	echo "note: install: systemd-sysusers/systemd-tmpfiles not installed: snippets checked by their text only"
fi
rm -f "$dest/example.conf"

# A second make install keeps the administrator's configuration; make
# uninstall removes everything else and keeps that changed file.
echo "URL https://keys.example.org/%u" >>"$dest$conf"
cp "$dest$conf" "$dest.conf"
if make -C "$build" install DESTDIR="$dest" >"$dest.log" 2>&1; then
	cmp -s "$dest$conf" "$dest.conf" &&
	    pass "a second make install keeps the existing $conf" ||
	    fail "a second make install overwrote $conf"
else
	cat "$dest.log"
	fail "the second make install"
fi
if make -C "$build" uninstall DESTDIR="$dest" >"$dest.log" 2>&1; then
	left=$(cd "$dest" && find . ! -type d | sed 's/^\.//')
	[ "$left" = "$conf" ] && cmp -s "$dest$conf" "$dest.conf" &&
	    pass "make uninstall leaves only the changed $conf" ||
	    fail "make uninstall left: $left"
else
	cat "$dest.log"
	fail "make uninstall"
fi
rm -f "$dest.log" "$dest.conf"
[ "$failures" -eq 0 ]
