# common.sh - shared by scripts/demo and scripts/test.

KF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages needed to build keyfleet and run all of its tests.
KF_PACKAGES="build-essential autoconf automake libtool pkg-config clang
	libclang-rt-14-dev
	libcurl4-openssl-dev libssl-dev libjansson-dev libpam0g-dev
	libcmocka-dev libpam-wrapper libpamtest0-dev
	openssh-server openssh-client openssl python3 passwd valgrind
	nginx python3-cryptography iproute2 util-linux
	dpkg-dev debhelper lintian"

kf_say() {
	printf '\n==> %s\n' "$*"
}

# Installs whatever of KF_PACKAGES is missing (as root, with apt-get).
kf_install_deps() {
	local missing="" p
	for p in $KF_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		return 1
	fi
	kf_say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null &&
	    apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	    { echo "apt-get install failed" >&2; return 1; }
}

# kf_build DIR [configure args...]: an out-of-tree build in DIR.
kf_build() {
	local dir=$1
	shift
	# One autoreconf at a time: builds running side by side share srcdir.
	(cd "$KF_ROOT" && flock /tmp/keyfleet-autoreconf.lock \
	    autoreconf -fi >/dev/null 2>&1) ||
	    { (cd "$KF_ROOT" && autoreconf -fi); return 1; }
	mkdir -p "$dir"
	(cd "$dir" && "$KF_ROOT/configure" --enable-werror "$@" >configure.out 2>&1) ||
	    { cat "$dir/configure.out" >&2; return 1; }
	make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 ||
	    { cat "$dir/make.out" >&2; return 1; }
}
