#!/bin/bash
# tests/deb/install-test.sh [LOGDIR] - the Debian packages, end to end.
#
# Builds libkeyfleet0, libkeyfleet-dev, libpam-keyfleet and keyfleet with
# dpkg-buildpackage from a scratch copy of the tree (never in the tree
# itself), runs lintian on them (any E: fails), installs them, wires a real
# sshd on a loopback port the way keyfleet-authkeys(8) and pam_keyfleet(8)
# say (the installed helper, the module by its bare name in a copy of
# /etc/pam.d/sshd, the system user and cache the package made), logs in
# with a key only the test API knows, checks that a revoked key and a user
# disabled centrally are refused, purges the packages and checks that the
# machine is as it was.
#
# The package build runs with DEB_BUILD_OPTIONS=nocheck: the test suite
# itself runs in scripts/test's own builds (gcc, clang+ASan/UBSan).
#
# As root only (it installs packages and starts sshd); exit 77 otherwise,
# or a failure when KF_REQUIRE_E2E=1.  It refuses to run when any of the
# packages is installed already.  /etc/keyfleet and /var/cache/keyfleet,
# if present, are moved aside and put back.  LOGDIR, when given, receives
# the build log, lintian's output and sshd's log; KF_KEEP_RIG=1 keeps the
# scratch directory (and the rig's, see tests/e2e/rig.sh).
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"

PKGS="libkeyfleet0 libkeyfleet-dev libpam-keyfleet keyfleet"
LOGDIR=${1:-}
WORK=
BACKUP=
PULLED=
PURGED=0

rig_require_root
for tool in dpkg-buildpackage dh lintian apt-get dpkg-parsechangelog; do
	command -v "$tool" >/dev/null 2>&1 ||
	    rig_die "missing $tool (install dpkg-dev, debhelper, lintian)"
done

pkg_installed() {	# installed, half so, or only its conffiles left
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != not-installed ]
}
for p in $PKGS; do
	pkg_installed "$p" &&
	    rig_die "$p is installed already: this test installs and purges it (remove it first)"
done

save_logs() {
	[ -n "$LOGDIR" ] || return 0
	mkdir -p "$LOGDIR"
	cp "$WORK/build.log" "$WORK/lintian.txt" "$LOGDIR/" 2>/dev/null
	[ -n "$RIG" ] && cp "$RIG/sshd.log" "$LOGDIR/" 2>/dev/null
	return 0
}

# Stops the test sshd by its PID file and waits for it, so that no process
# of the keyfleet user is left when the package removes the user.
stop_sshd() {
	local pid
	pid=$(cat "$RIG/sshd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$RIG/sshd.pid"
}

purge_packages() {
	local p installed=
	for p in $PKGS; do
		pkg_installed "$p" && installed="$installed $p"
	done
	[ -n "$installed" ] && dpkg --purge $installed >"$WORK/purge.log" 2>&1
	local rc=$?
	if [ -n "$PULLED" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $PULLED \
		    >>"$WORK/purge.log" 2>&1
	fi
	PURGED=1
	return $rc
}

# Puts back what was moved aside before the install.
restore_backup() {
	[ -n "$BACKUP" ] || return 0
	if [ -e "$BACKUP/etc-keyfleet" ]; then
		rm -rf /etc/keyfleet
		mv "$BACKUP/etc-keyfleet" /etc/keyfleet
	fi
	if [ -e "$BACKUP/cache-keyfleet" ]; then
		rm -rf /var/cache/keyfleet
		mv "$BACKUP/cache-keyfleet" /var/cache/keyfleet
	fi
	rmdir "$BACKUP"
	BACKUP=
}

deb_cleanup() {
	set +e
	save_logs
	[ -n "$RIG" ] && stop_sshd
	rig_cleanup
	[ "$PURGED" = 1 ] || purge_packages
	restore_backup
	if [ -n "$WORK" ] && [ "${KF_KEEP_RIG:-0}" != 1 ]; then
		rm -rf "$WORK"
	fi
}
trap deb_cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ build
version=$(dpkg-parsechangelog -l "$KF_TOP_SRCDIR/debian/changelog" -S Version) ||
    rig_die "cannot read debian/changelog"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kf-deb.XXXXXX") || rig_die "mktemp failed"
chmod 755 "$WORK"	# apt's _apt user reads the .debs from here
src=$WORK/keyfleet-$version
mkdir "$src"
# The sources as git sees them (tracked and new files, nothing ignored:
# no build trees, no generated autotools files); a plain copy without the
# build trees when this is not a git checkout.
if git -C "$KF_TOP_SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$KF_TOP_SRCDIR" && git ls-files -z -co --exclude-standard |
	    while IFS= read -r -d '' f; do
		[ -e "$f" ] && printf '%s\0' "$f"
	    done | tar --null -T - -cf -) | tar -xf - -C "$src" ||
	    rig_die "cannot copy the source tree"
else
	tar -C "$KF_TOP_SRCDIR" --exclude=./build --exclude=./build-\* \
	    --exclude=autom4te.cache -cf - . | tar -xf - -C "$src" ||
	    rig_die "cannot copy the source tree"
fi

echo "building the packages in $WORK (dpkg-buildpackage -us -uc -b, nocheck)"
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
    DEB_BUILD_PROFILES=nocheck dpkg-buildpackage -us -uc -b) \
    >"$WORK/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b"
else
	tail -40 "$WORK/build.log"
	fail "dpkg-buildpackage -us -uc -b (log: ${LOGDIR:-$WORK}/build.log)"
	exit 1
fi
if grep -E "^[^ ]+:[0-9]+:[0-9]+: warning:" "$WORK/build.log"; then
	fail "compiler warnings in the package build (above)"
else
	pass "no compiler warnings in the package build"
fi

arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes=$WORK/keyfleet_${version}_$arch.changes
debs=
missing=0
echo "packages:"
for p in $PKGS; do
	deb=$WORK/${p}_${version}_$arch.deb
	if [ -f "$deb" ]; then
		debs="$debs $deb"
		printf '  %s\n' "$(dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}  ${Depends}' "$deb")"
	else
		fail "$p was not built"
		missing=1
	fi
done
[ "$missing" -eq 0 ] || exit 1
pass "the four packages were built: $PKGS"

# ------------------------------------------------------------ lintian
# lintian says that running as root is not recommended; it reads only.
lintian --info "$changes" >"$WORK/lintian.txt" 2>&1
grep -E "^[EWIP]: " "$WORK/lintian.txt" | sort -u
nerr=$(grep -c "^E: " "$WORK/lintian.txt")
nwarn=$(grep -c "^W: " "$WORK/lintian.txt")
echo "lintian: $nerr errors, $nwarn warnings"
if [ "$nerr" -eq 0 ]; then
	pass "lintian reports no errors"
else
	fail "lintian reports $nerr errors"
fi

# ------------------------------------------------------------ install
rig_init	# the e2e lock: the package's keyfleet user is shared with them
trap deb_cleanup EXIT	# rig_init set its own; ours calls it
BACKUP=$(mktemp -d /var/tmp/kf-deb-backup.XXXXXX) || rig_die "mktemp failed"
[ -e /etc/keyfleet ] && mv /etc/keyfleet "$BACKUP/etc-keyfleet"
[ -e /var/cache/keyfleet ] && mv /var/cache/keyfleet "$BACKUP/cache-keyfleet"
# Every package dpkg knows and does not list as not-installed.
pkg_state() {
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' | grep -v " not-installed$" | sort
}
had_keyfleet_user=0
getent passwd keyfleet >/dev/null && had_keyfleet_user=1
state_before=$(pkg_state)
pkgs_before=$(pkg_state | awk '{print $1}')
passwd_before=$(cut -d: -f1 /etc/passwd | sort)
group_before=$(cut -d: -f1 /etc/group | sort)

have_syslog=0
rig_start_syslog && have_syslog=1

# --no-install-recommends: nothing beyond what the packages need; anything
# apt must add for them is purged again at the end.
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends $debs >"$WORK/install.log" 2>&1; then
	pass "apt-get install of the four packages"
else
	tail -30 "$WORK/install.log"
	fail "apt-get install"
	exit 1
fi
PULLED=$(comm -13 <(echo "$pkgs_before") <(pkg_state | awk '{print $1}') |
    grep -vxE "${PKGS// /|}" | tr '\n' ' ')
[ -n "$PULLED" ] && echo "note: apt-get also installed: $PULLED (purged at the end)"

check_file() {	# PATH MODE OWNER: what stat says
	local got
	got=$(stat -c '%a %U' "$1" 2>/dev/null)
	if [ "$got" = "$2 $3" ]; then
		pass "$1 ($2, $3)"
	else
		fail "$1: expected mode $2 owner $3, found '${got:-missing}'"
	fi
}
pamdir=$(dirname "$(dpkg -L libpam-modules | grep '/pam_unix\.so$' | head -1)")
check_file /usr/libexec/keyfleet-authkeys 755 root
check_file "$pamdir/pam_keyfleet.so" 644 root
if [ -e /usr/lib/"$multiarch"/libkeyfleet.so.0 ]; then
	pass "/usr/lib/$multiarch/libkeyfleet.so.0"
else
	fail "/usr/lib/$multiarch/libkeyfleet.so.0 missing"
fi
check_file /usr/bin/keyfleet-sign 755 root
check_file /usr/lib/sysusers.d/keyfleet.conf 644 root
check_file /usr/lib/tmpfiles.d/keyfleet.conf 644 root
for m in man5/keyfleet.conf.5 man8/keyfleet-authkeys.8 man8/pam_keyfleet.8 \
    man1/keyfleet-sign.1 man3/libkeyfleet.3; do
	if [ -e "/usr/share/man/$m.gz" ]; then
		pass "man page $m"
	else
		fail "man page $m missing"
	fi
done
etc_ours=0
if dpkg-query -W -f='${Conffiles}\n' keyfleet | grep -q "^ /etc/keyfleet/keyfleet.conf "; then
	pass "/etc/keyfleet/keyfleet.conf is a conffile of keyfleet"
else
	fail "/etc/keyfleet/keyfleet.conf is not a conffile of keyfleet"
	# Go on with the login checks all the same; removed before the purge.
	etc_ours=1
	mkdir -m 755 /etc/keyfleet
fi
pw=$(getent passwd keyfleet)
if [ -n "$pw" ] && [ "$(echo "$pw" | cut -d: -f3)" -lt 1000 ]; then
	pass "system user keyfleet: $pw"
else
	fail "no system user keyfleet after the install ('$pw')"
fi
check_file /var/cache/keyfleet 700 keyfleet

# libkeyfleet-dev: a program built with pkg-config's flags runs.
cat > "$WORK/use-lib.c" <<'C'
#include <stdio.h>
#include <keyfleet.h>
int main(void) { puts(kf_version()); return 0; }
C
if libv=$(cc -o "$WORK/use-lib" "$WORK/use-lib.c" $(pkg-config --cflags --libs keyfleet) 2>&1 &&
    "$WORK/use-lib") && [ "$libv" = "$(pkg-config --modversion keyfleet)" ]; then
	pass "a program built against libkeyfleet-dev (pkg-config keyfleet) runs: $libv"
else
	fail "building against libkeyfleet-dev: $libv"
fi

# ------------------------------------------------------------ sshd
rig_add_user kf-deb-ann
rig_add_user kf-deb-bob
rig_keygen ann
rig_keygen bob
rig_keygen bob-new
rig_start_api

# What an administrator writes (keyfleet.conf(5)), over the shipped file.
cat > /etc/keyfleet/keyfleet.conf <<CFG
# written by keyfleet's tests/deb/install-test.sh
URL https://127.0.0.1:$RIG_API_PORT/users/%u
CAFile $RIG/tls/ca.pem
Timeout 5
LogLevel verbose
CFG
chmod 644 /etc/keyfleet/keyfleet.conf
if /usr/libexec/keyfleet-authkeys --check >"$WORK/check.out" 2>&1; then
	pass "keyfleet-authkeys --check accepts the configuration"
else
	cat "$WORK/check.out"
	fail "keyfleet-authkeys --check"
fi

team="team-$RANDOM$RANDOM"
rig_api_put kf-deb-ann "{\"user\":\"kf-deb-ann\",\"keys\":[\"$(cat "$RIG/keys/ann.pub")\"],\"env\":{\"KF_DEB_TEAM\":\"$team\"}}"
# bob's key was revoked: the API lists only his new one.
rig_api_put kf-deb-bob "{\"user\":\"kf-deb-bob\",\"keys\":[\"$(cat "$RIG/keys/bob-new.pub")\"]}"

# pam_keyfleet(8): the two lines go into /etc/pam.d/sshd before
# "@include common-account".  A copy of the real file, under its own
# service name (sshd names the service after argv[0]).
RIG_SSHD_PORT=$(rig_free_port)
RIG_PAM_SERVICE="sshd-kfdeb$$"
[ -f /etc/pam.d/sshd ] || rig_die "/etc/pam.d/sshd missing (openssh-server)"
grep -q "^@include common-account" /etc/pam.d/sshd ||
    rig_die "/etc/pam.d/sshd has no '@include common-account'"
awk '/^@include common-account/ && !done {
	print "account    required     pam_keyfleet.so"
	print "session    optional     pam_keyfleet.so"
	done = 1
}
{ print }' /etc/pam.d/sshd > "/etc/pam.d/$RIG_PAM_SERVICE"
ln -s /usr/sbin/sshd "$RIG/sbin/$RIG_PAM_SERVICE"
mkdir -m 755 -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$RIG/ssh_host_ed25519_key" || rig_die "host key"
# keyfleet-authkeys(8): the two sshd_config lines, exactly.
cat > "$RIG/sshd_config" <<CFG
Port $RIG_SSHD_PORT
ListenAddress 127.0.0.1
HostKey $RIG/ssh_host_ed25519_key
PidFile $RIG/sshd.pid
UseDNS no
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
AuthorizedKeysCommand /usr/libexec/keyfleet-authkeys %u %f %t %k
AuthorizedKeysCommandUser keyfleet
LogLevel VERBOSE
CFG
"$RIG/sbin/$RIG_PAM_SERVICE" -t -f "$RIG/sshd_config" ||
    rig_die "sshd -t rejected the test configuration"
"$RIG/sbin/$RIG_PAM_SERVICE" -D -e -f "$RIG/sshd_config" 2>"$RIG/sshd.log" &
rig_wait_port "$RIG_SSHD_PORT" ||
    { tail -20 "$RIG/sshd.log" >&2; rig_die "sshd did not start"; }

out=$(rig_ssh ann kf-deb-ann env 2>"$RIG/ssh.err")
if echo "$out" | grep -qx "KF_DEB_TEAM=$team" &&
    grep -q "Accepted publickey for kf-deb-ann" "$RIG/sshd.log"; then
	pass "kf-deb-ann logged in with the key from the API; PAM set KF_DEB_TEAM=$team"
else
	fail "kf-deb-ann's login: $(cat "$RIG/ssh.err") / $(echo "$out" | grep KF_ || echo "no KF_DEB_TEAM")"
fi
if [ -n "$(find /var/cache/keyfleet -type f -user keyfleet)" ] &&
    [ -z "$(find /var/cache/keyfleet ! -user keyfleet)" ]; then
	pass "the login's cache entries are in /var/cache/keyfleet, owned by keyfleet"
else
	fail "cache: $(ls -la /var/cache/keyfleet 2>&1)"
fi

if rig_ssh bob kf-deb-bob true 2>"$RIG/ssh.err"; then
	fail "kf-deb-bob logged in with a revoked key"
elif grep -q "Accepted publickey for kf-deb-bob" "$RIG/sshd.log"; then
	fail "sshd accepted kf-deb-bob's revoked key"
else
	pass "kf-deb-bob's revoked key is refused"
fi

# Disabled centrally: sshd still accepts the cached key, PAM refuses.
rig_api_put kf-deb-ann "{\"user\":\"kf-deb-ann\",\"active\":false,\"keys\":[\"$(cat "$RIG/keys/ann.pub")\"]}"
if rig_ssh ann kf-deb-ann true 2>"$RIG/ssh.err"; then
	fail "kf-deb-ann logged in after being disabled in the API"
elif grep -q "Access denied for user kf-deb-ann by PAM account" "$RIG/sshd.log"; then
	pass "kf-deb-ann, disabled in the API, is refused by pam_keyfleet's account phase"
else
	fail "kf-deb-ann disabled: refused, but not by PAM account: $(cat "$RIG/ssh.err")"
fi
if [ "$failures" -ne 0 ]; then
	echo "--- sshd log (keyfleet, PAM, auth lines) ---"
	grep -Ei "keyfleet|pam|Accepted|denied|AuthorizedKeysCommand" "$RIG/sshd.log" | tail -40
	[ "$have_syslog" = 1 ] && { echo "--- syslog ---"; tail -20 "$RIG/syslog.log"; }
fi

# ------------------------------------------------------------ purge
save_logs
stop_sshd
[ "$etc_ours" = 1 ] && rm -rf /etc/keyfleet
if purge_packages; then
	pass "dpkg --purge $PKGS"
else
	cat "$WORK/purge.log"
	fail "dpkg --purge"
fi
for f in /usr/libexec/keyfleet-authkeys "$pamdir/pam_keyfleet.so" \
    /var/cache/keyfleet /var/lib/keyfleet /etc/keyfleet; do
	if [ -e "$f" ]; then
		fail "$f is left after the purge"
	else
		pass "purge removed $f"
	fi
done
if [ "$had_keyfleet_user" = 0 ]; then
	if getent passwd keyfleet >/dev/null || getent group keyfleet >/dev/null; then
		fail "purge left the user or the group keyfleet the package created"
	else
		pass "purge removed the user and the group keyfleet the package created"
	fi
fi
restore_backup
rig_cleanup	# test users, API, PAM service, $RIG: then compare
RIG=''
RIG_USERS_CREATED=''
RIG_PAM_SERVICE=''
if [ "$(pkg_state)" = "$state_before" ]; then
	pass "the installed packages are as before"
else
	diff <(echo "$state_before") <(pkg_state)
	fail "the installed packages differ from before"
fi
if [ "$(cut -d: -f1 /etc/passwd | sort)" = "$passwd_before" ] &&
    [ "$(cut -d: -f1 /etc/group | sort)" = "$group_before" ]; then
	pass "users and groups are as before"
else
	fail "users or groups differ from before"
fi

[ "$failures" -eq 0 ]
