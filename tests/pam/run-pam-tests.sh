#!/bin/sh
# run-pam-tests.sh - runs tests/pam/test_pam_keyfleet: the built
# pam_keyfleet.so loaded by the real libpam under pam_wrapper, asking the
# test API server (tests/api/server.py) over loopback HTTP.
#
#   KF_TOP_SRCDIR=SRC KF_TOP_BUILDDIR=BUILD tests/pam/run-pam-tests.sh
#
# "make check" sets both.  Runs the program under valgrind memcheck when
# valgrind is installed, unless KF_VALGRIND=0 (KF_VALGRIND=1 insists on it);
# a sanitizer build (KF_SANITIZERS=yes) runs without valgrind: memcheck
# cannot run an AddressSanitizer binary, and ASan checks the same things.
# Needs root (keyfleet.conf must be root-owned): otherwise it skips, or
# fails when KF_REQUIRE_E2E=1.  KF_TEST_KEEP_TMP=1 keeps the scratch tree.
set -u

me=run-pam-tests
skip() {
	if [ "${KF_REQUIRE_E2E:-0}" = 1 ]; then
		echo "$me: FAIL (KF_REQUIRE_E2E=1): $*" >&2
		exit 1
	fi
	echo "$me: SKIP: $*" >&2
	exit 77
}
die() {
	echo "$me: ERROR: $*" >&2
	exit 99
}

top_srcdir=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${KF_TOP_BUILDDIR:-$(pwd)}
module=$top_builddir/pam_module/.libs/pam_keyfleet.so
program=$top_builddir/tests/pam/test_pam_keyfleet
server=$top_srcdir/tests/api/server.py
python=/usr/bin/python3

[ "$(id -u)" = 0 ] ||
	skip "must run as root: keyfleet.conf has to be owned by root"
[ -f "$module" ] || die "$module not built"
[ -x "$program" ] || die "$program not built"
[ -x "$python" ] || skip "$python not found (the test API server needs it)"

# pam_wrapper.pc names the library in Libs (it has no libdir variable).
pam_wrapper=
for lib in $(pkg-config --libs pam_wrapper 2>/dev/null) \
    $(dpkg -L libpam-wrapper 2>/dev/null) \
    /usr/lib/*/libpam_wrapper.so /usr/lib64/libpam_wrapper.so \
    /usr/lib/libpam_wrapper.so; do
	case $lib in
	/*/libpam_wrapper.so*)
		if [ -f "$lib" ]; then
			pam_wrapper=$lib
			break
		fi ;;
	esac
done
[ -n "$pam_wrapper" ] ||
	skip "libpam_wrapper.so not found (install libpam-wrapper)"

valgrind=
case ${KF_VALGRIND:-auto} in
0 | no) ;;
*)
	if [ "${KF_SANITIZERS:-no}" = yes ]; then
		echo "$me: sanitizer build: running without valgrind" >&2
	elif command -v valgrind >/dev/null 2>&1; then
		valgrind=valgrind
	elif [ "${KF_VALGRIND:-auto}" != auto ]; then
		die "KF_VALGRIND=$KF_VALGRIND but valgrind is not installed"
	fi ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kf-pam.XXXXXX") || die "mktemp failed"
server_pid=
test_pid=
cleanup() {
	if [ -n "$test_pid" ]; then
		kill "$test_pid" 2>/dev/null
		wait "$test_pid" 2>/dev/null
	fi
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

# The whole tree belongs to root and nobody else may write to it.
chmod 0755 "$tmp"
mkdir -m 0755 "$tmp/pam.d" "$tmp/etc" "$tmp/tmp"
mkdir -m 0700 "$tmp/api" "$tmp/cache"
conf=$tmp/etc/keyfleet.conf

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
# Stop it by the PID it wrote itself (the same process as $!).
server_pid=$(cat "$tmp/api.pid")

# Service files name the module by absolute path.  Linux-PAM never returns
# PAM_IGNORE from a transaction (a stack whose modules all ignored it fails
# with PAM_PERM_DENIED), so pam_keyfleet is followed by pam_debug.so, which
# runs only when pam_keyfleet returned PAM_IGNORE and then answers
# PAM_NO_MODULE_DATA, a code pam_keyfleet never returns; every other code
# of pam_keyfleet's is the transaction's result as it is.
keyfleet="[success=done ignore=ignore default=die] $module"
sentinel="requisite pam_debug.so acct=no_module_data \
open_session=no_module_data close_session=no_module_data"
cat >"$tmp/pam.d/keyfleet" <<EOT
account $keyfleet config=$conf
account $sentinel
session $keyfleet config=$conf
session $sentinel
EOT
cat >"$tmp/pam.d/keyfleet-args" <<EOT
account $keyfleet config=$conf no_such_argument debug
account $sentinel
session $keyfleet no_such_argument config=$conf debug
session $sentinel
EOT
# Linux-PAM reads "other" too; without it, it logs an error every time.
cat >"$tmp/pam.d/other" <<EOT
auth required pam_deny.so
account required pam_deny.so
password required pam_deny.so
session required pam_deny.so
EOT
chmod 0644 "$tmp"/pam.d/*

export KF_TOP_SRCDIR="$top_srcdir" KF_TOP_BUILDDIR="$top_builddir"
export KF_PAM_MODULE="$module" KF_PAM_CONFIG="$conf"
export KF_PAM_CACHE_DIR="$tmp/cache" KF_PAM_API_DIR="$tmp/api"
export KF_PAM_API_PORT="$port"
export TMPDIR="$tmp/tmp"

# Only the test program gets the preload: not this shell, not the server,
# not valgrind's shell script.
preload=$pam_wrapper
if [ "${KF_SANITIZERS:-no}" = yes ]; then
	# pam_wrapper dlopen()s libpam with RTLD_DEEPBIND, which ASan refuses
	# (google/sanitizers#611).  pam_wrapper drops the flag when libasan is
	# in LD_PRELOAD, and a program linked with the shared libasan (gcc's
	# default) needs it there first anyway; with a static runtime (clang's
	# default) the variable does it, spelled UID_WRAPPER_... in pam_wrapper
	# 1.1.4 and PAM_WRAPPER_... later.
	asan=$(ldd "$program" 2>/dev/null | awk '$1 ~ /^libasan\.so/ { print $3 }')
	if [ -n "$asan" ]; then
		preload="$asan $pam_wrapper"
	fi
	export UID_WRAPPER_DISABLE_DEEPBIND=1 PAM_WRAPPER_DISABLE_DEEPBIND=1
fi
set -- env LD_PRELOAD="$preload" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$tmp/pam.d" "$program"
if [ -n "$valgrind" ]; then
	# The program runs nm (the symbol test): not worth checking.
	set -- valgrind -q --tool=memcheck --trace-children=yes \
	    --trace-children-skip='*/nm' --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --error-exitcode=1 --num-callers=40 \
	    --suppressions="$top_srcdir/tests/pam/valgrind.supp" "$@"
fi
"$@" &
test_pid=$!
wait "$test_pid"
rc=$?
test_pid_done=$test_pid
test_pid=
# pam_wrapper sets itself up in /tmp/pam.X, with the PID of its process in
# X/pid, and removes it at exit.  Under valgrind, its launcher (which execs
# the tool under the same PID) sets up one too and never exits: remove what
# the test's PID left behind, and nothing else.
for dir in /tmp/pam.?; do
	if [ -d "$dir" ] && [ ! -L "$dir" ] &&
	    [ "$(cat "$dir/pid" 2>/dev/null)" = "$test_pid_done" ]; then
		rm -rf "$dir"
	fi
done
# A crash while the program caught stderr (during a PAM transaction) left
# the report, an ASan one say, in its capture file.
if [ "$rc" != 0 ]; then
	for log in "$tmp"/tmp/*/pam.log; do
		if [ -s "$log" ]; then
			echo "$me: stderr of the last PAM transaction:" >&2
			cat "$log" >&2
		fi
	done
fi
exit $rc
