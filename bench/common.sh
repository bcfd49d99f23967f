# common.sh - shared by the benchmarks: an installed build of keyfleet in
# build/bench (a real prefix, so the helper runs exactly as installed:
# libkeyfleet.so found through its RUNPATH, libcurl loaded on demand),
# the timing tools, and the test API.
set -u
KF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KF_TOP_SRCDIR=$KF_ROOT
B=$KF_ROOT/build/bench
PREFIX=$B/prefix
HELPER=$PREFIX/libexec/keyfleet-authkeys

bench_build() {
	. "$KF_ROOT/scripts/common.sh"
	if [ ! -x "$HELPER" ] || [ "${KF_BENCH_REBUILD:-1}" = 1 ]; then
		echo "building and installing keyfleet into ${PREFIX#$KF_ROOT/} ..." >&2
		rm -rf "$B"
		kf_build "$B/obj" --prefix="$PREFIX" || exit 1
		make -C "$B/obj" install >/dev/null || exit 1
	fi
	mkdir -p "$B/tools"
	cc -O2 -o "$B/tools/spawn" "$KF_ROOT/bench/spawn.c" || exit 1
	cc -O2 -o "$B/tools/trivial" "$KF_ROOT/bench/trivial.c" || exit 1
}

# bench_setup: a run directory with the test API, a user and a config.
bench_setup() {
	. "$KF_ROOT/tests/e2e/rig.sh"
	RIG_PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
	RIG=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench.XXXXXX")
	chmod 755 "$RIG"
	mkdir -m 755 "$RIG/api" "$RIG/tls"
	mkdir -m 700 "$RIG/keys" "$RIG/cache"
	trap rig_cleanup EXIT
	rig_start_api
	ssh-keygen -q -t ed25519 -N '' -C bench -f "$RIG/keys/bench"
	KEY_BLOB=$(cut -d' ' -f2 "$RIG/keys/bench.pub")
	KEY_FP=$(ssh-keygen -l -f "$RIG/keys/bench.pub" | cut -d' ' -f2)
	rig_api_put benchuser "{\"user\":\"benchuser\",\"keys\":[\"$(cat "$RIG/keys/bench.pub")\"]}"
}

# bench_conf [EXTRA LINES...]
bench_conf() {
	rig_write_conf "$@"
	CONF=$RIG/keyfleet.conf
}

bench_machine() {
	echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(. /etc/os-release; echo "$PRETTY_NAME")"
	echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
}

# KF_BENCH_DIR=DIR: build and install into DIR instead of build/bench, so
# that benchmarks can run side by side without rebuilding under each other.
if [ -n "${KF_BENCH_DIR:-}" ]; then
	case $KF_BENCH_DIR in
	/*) B=$KF_BENCH_DIR ;;
	*) B=$KF_ROOT/$KF_BENCH_DIR ;;
	esac
	PREFIX=$B/prefix
	HELPER=$PREFIX/libexec/keyfleet-authkeys
fi
