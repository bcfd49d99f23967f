# rig.sh - a real sshd on loopback, wired to keyfleet, with the test API.
#
# Sourced by the end-to-end tests and by scripts/demo.  Everything it
# starts is recorded and stopped by PID in rig_cleanup; every user and
# file it creates outside its own directory is removed again.
#
# Needs: root, /usr/sbin/sshd, ssh, ssh-keygen, openssl, python3; nginx
# for rig_start_nginx.

RIG=
RIG_SSHD_PORT=
RIG_API_PORT=
RIG_NGINX_PORT=
RIG_PAM_SERVICE=
RIG_USERS_CREATED=
RIG_KEYFLEET_USER_CREATED=
RIG_PYTHON=${PYTHON:-}

# Test verdicts: every check prints one PASS or FAIL line.
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

rig_log() {
	printf '%s\n' "$*" >&2
}

rig_die() {
	rig_log "rig: $*"
	exit 99	# automake: a hard error, never mistaken for a skip
}

# Exits 77 (skipped) when not root, unless KF_REQUIRE_E2E=1 (CI), where a
# test that cannot run is a failure.
rig_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${KF_REQUIRE_E2E:-0}" = 1 ]; then
			rig_log "rig: end-to-end tests must run as root here (KF_REQUIRE_E2E=1)"
			exit 1
		fi
		rig_log "rig: SKIP: end-to-end tests need root (a real sshd)"
		exit 77
	fi
	for tool in /usr/sbin/sshd ssh ssh-keygen openssl useradd; do
		command -v "$tool" >/dev/null 2>&1 ||
		    rig_die "missing $tool (install openssh-server, openssh-client, openssl, passwd)"
	done
	if [ -z "$RIG_PYTHON" ]; then
		if [ -x /usr/bin/python3 ]; then
			RIG_PYTHON=/usr/bin/python3
		else
			RIG_PYTHON=$(command -v python3) || rig_die "missing python3"
		fi
	fi
}

# Creates the rig directory: root-owned and 0755 all the way up, as sshd's
# safe_path() demands for the AuthorizedKeysCommand.
rig_init() {
	mkdir -p /run
	# One rig at a time: they share the keyfleet user and /run/sshd, and
	# make -j runs the end-to-end tests side by side.
	exec 9>/run/keyfleet-e2e.lock
	flock 9 || rig_die "cannot lock /run/keyfleet-e2e.lock"
	RIG=$(mktemp -d /run/kf-test.XXXXXX) || rig_die "mktemp failed"
	chmod 755 "$RIG"
	mkdir -m 755 "$RIG/bin" "$RIG/sbin" "$RIG/api" "$RIG/home"
	mkdir -m 755 "$RIG/tls"
	mkdir -m 700 "$RIG/keys"
	trap rig_cleanup EXIT
	trap 'exit 130' INT TERM
}

rig_cleanup() {
	local pidfile pid u
	set +e
	[ -n "$RIG" ] && rig_stop_nginx
	for pidfile in "$RIG/sshd.pid" "$RIG/api.pid" "$RIG/syslog.pid" \
	    "$RIG/dns.pid" "$RIG/syndrop.pid" "$RIG/silent.pid"; do
		[ -f "$pidfile" ] || continue
		pid=$(cat "$pidfile" 2>/dev/null)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	for u in $RIG_USERS_CREATED; do
		userdel -r "$u" >/dev/null 2>&1
	done
	if [ -n "$RIG_KEYFLEET_USER_CREATED" ]; then
		userdel keyfleet >/dev/null 2>&1
	fi
	[ -n "$RIG_PAM_SERVICE" ] && rm -f "/etc/pam.d/$RIG_PAM_SERVICE"
	if [ -n "$RIG" ] && [ -d "$RIG" ]; then
		if [ "${KF_KEEP_RIG:-0}" = 1 ]; then
			rig_log "rig: kept $RIG (KF_KEEP_RIG=1)"
		else
			rm -rf "$RIG"
		fi
	fi
}

# A free TCP port on 127.0.0.1, chosen by the kernel.
rig_free_port() {
	"$RIG_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Polls until something accepts on 127.0.0.1:$1, at most ~10 s.
rig_wait_port() {
	local i
	for i in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# rig_wait_file FILE LOG WHAT: waits (at most ~10 s) for a helper started
# in the background to write FILE (its port or pid file); when it never
# does, shows LOG and dies with "WHAT did not start".
rig_wait_file() {
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	cat "$2" >&2
	rig_die "$3 did not start"
}

# rig_start_syslog: when the machine has no /dev/log (containers, CI),
# catch syslog messages in $RIG/syslog.log so tests can read what was
# logged.  Returns 1 when a system logger owns /dev/log already.
rig_start_syslog() {
	local i
	[ -e /dev/log ] && return 1
	"$RIG_PYTHON" "$KF_TOP_SRCDIR/tests/e2e/syslog-catcher.py" /dev/log \
	    "$RIG/syslog.log" &
	echo $! > "$RIG/syslog.pid"
	for i in $(seq 50); do
		[ -S /dev/log ] && return 0
		sleep 0.1
	done
	rig_die "syslog catcher did not start"
}

# rig_start_api: the test API over HTTPS with a throwaway CA.
rig_start_api() {
	bash "$KF_TOP_SRCDIR/tests/api/mkcerts.sh" "$RIG/tls" ||
	    rig_die "cannot make test certificates"
	chmod 644 "$RIG/tls/ca.pem"
	"$RIG_PYTHON" "$KF_TOP_SRCDIR/tests/api/server.py" \
	    --data-dir "$RIG/api" --cert "$RIG/tls/server.pem" \
	    --key "$RIG/tls/server.key" --port-file "$RIG/api.port" \
	    --pid-file "$RIG/api.pid" 2>"$RIG/api.log" &
	rig_wait_file "$RIG/api.port" "$RIG/api.log" "test API"
	RIG_API_PORT=$(cat "$RIG/api.port")
}

# ---------------------------------------------- name resolution, connect
#
# For tests that run in a network namespace of their own (unshare --net,
# with lo up): nothing they send leaves it.

RIG_DNS_NAME=api.kf.test	# in the test certificate; never in /etc/hosts
RIG_DNS_ADDR=127.0.0.153
RIG_SYNDROP_PORT=
RIG_SILENT_PORT=

# rig_dns_mode WORDS...: how the test DNS server behaves from now on
# (tests/api/dns.py: answer NAME=ADDR..., silent, late S NAME=ADDR...,
# servfail, nxdomain).
rig_dns_mode() {
	printf '%s\n' "$*" > "$RIG/dns.ctl.tmp" && mv "$RIG/dns.ctl.tmp" "$RIG/dns.ctl"
}

# rig_start_dns: the C library asks only the test DNS server, which
# answers RIG_DNS_NAME with 127.0.0.1 until told otherwise.  resolv.conf
# names it, with glibc's defaults (5 s a try, 2 tries: a lookup that
# keyfleet did not bound would wait 10 s or more), and hosts: is
# "files dns"; both are bind-mounted, so the caller must be in a mount
# namespace of its own.
rig_start_dns() {
	grep -qw "$RIG_DNS_NAME" /etc/hosts && rig_die "$RIG_DNS_NAME is in /etc/hosts"
	printf 'nameserver %s\n' "$RIG_DNS_ADDR" > "$RIG/resolv.conf"
	sed 's/^hosts:.*/hosts: files dns/' /etc/nsswitch.conf > "$RIG/nsswitch.conf"
	grep -q '^hosts:' "$RIG/nsswitch.conf" ||
	    echo 'hosts: files dns' >> "$RIG/nsswitch.conf"
	mount --bind "$RIG/resolv.conf" /etc/resolv.conf &&
	    mount --bind "$RIG/nsswitch.conf" /etc/nsswitch.conf ||
	    rig_die "cannot bind-mount resolv.conf and nsswitch.conf"
	rig_dns_mode answer "$RIG_DNS_NAME=127.0.0.1"
	"$RIG_PYTHON" "$KF_TOP_SRCDIR/tests/api/dns.py" --bind "$RIG_DNS_ADDR" \
	    --control "$RIG/dns.ctl" --log "$RIG/dns.log" \
	    --pid-file "$RIG/dns.pid" </dev/null >/dev/null 2>"$RIG/dns.err" &
	rig_wait_file "$RIG/dns.pid" "$RIG/dns.err" "the test DNS server"
	# The wiring is real: the C library asks the test server.  (Not
	# getent ahosts: its AI_ADDRCONFIG finds no address worth asking for
	# in a namespace that has only loopback ones.)
	"$RIG_PYTHON" -c 'import socket, sys; print(socket.getaddrinfo(sys.argv[1], 443, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])' \
	    "$RIG_DNS_NAME" 2>/dev/null | grep -qx '127\.0\.0\.1' ||
	    rig_die "the C library does not resolve $RIG_DNS_NAME through the test DNS server"
	grep -q "$RIG_DNS_NAME" "$RIG/dns.log" || rig_die "the test DNS server was not asked"
}

# rig_dns_queries: how many queries the test DNS server has seen.
rig_dns_queries() {
	[ -f "$RIG/dns.log" ] || { echo 0; return; }
	wc -l < "$RIG/dns.log"
}

# rig_start_syndrop [--silent]: RIG_SYNDROP_PORT, a port on 127.0.0.1
# whose listen queue is full, so the kernel drops every SYN: connects
# never complete.  With --silent, RIG_SILENT_PORT instead: it accepts and
# never says a word (a TLS peer that never answers the client's hello).
rig_start_syndrop() {
	local name=syndrop
	[ "${1:-}" = --silent ] && name=silent
	"$RIG_PYTHON" "$KF_TOP_SRCDIR/tests/api/syndrop.py" ${1:+"$1"} \
	    --port-file "$RIG/$name.port" --pid-file "$RIG/$name.pid" \
	    </dev/null >/dev/null 2>"$RIG/$name.err" &
	rig_wait_file "$RIG/$name.port" "$RIG/$name.err" "the $name listener"
	if [ "$name" = silent ]; then
		RIG_SILENT_PORT=$(cat "$RIG/$name.port")
	else
		RIG_SYNDROP_PORT=$(cat "$RIG/$name.port")
	fi
}

# rig_start_nginx DOCROOT: a stock nginx serving DOCROOT as static files
# over HTTPS on a free loopback port ($RIG_NGINX_PORT), with the rig's test
# CA (the API's, when rig_start_api ran first).  *.jws is served as
# application/jose, so URL https://127.0.0.1:$RIG_NGINX_PORT/keys/%u.jws
# reads DOCROOT/keys/USER.jws.  Its configuration, PID file, logs
# (nginx-access.log, nginx-error.log) and temporary files all live in the
# rig directory: nothing under /var/lib/nginx or /var/log/nginx is used.
# With the test API too, call it after rig_start_api, which remakes the CA.
rig_start_nginx() {
	local docroot=$1 tmp=$RIG/nginx-tmp
	command -v nginx >/dev/null 2>&1 || rig_die "missing nginx (install nginx)"
	[ -d "$docroot" ] || rig_die "nginx: no document root $docroot"
	if [ ! -s "$RIG/tls/server.pem" ]; then
		bash "$KF_TOP_SRCDIR/tests/api/mkcerts.sh" "$RIG/tls" ||
		    rig_die "cannot make test certificates"
		chmod 644 "$RIG/tls/ca.pem"
	fi
	mkdir -m 755 "$tmp"
	RIG_NGINX_PORT=$(rig_free_port)
	# The master runs as root (it reads the key and binds); workers run as
	# nobody and need only read DOCROOT.
	cat > "$RIG/nginx.conf" <<CFG
user nobody nogroup;
worker_processes 1;
pid $RIG/nginx.pid;
lock_file $RIG/nginx.lock;
error_log $RIG/nginx-error.log info;
events {
	worker_connections 64;
}
http {
	types {
		application/jose jws;
		application/json json;
		text/plain keys txt;
	}
	default_type application/octet-stream;
	access_log $RIG/nginx-access.log combined;
	client_body_temp_path $tmp/body;
	proxy_temp_path $tmp/proxy;
	fastcgi_temp_path $tmp/fastcgi;
	uwsgi_temp_path $tmp/uwsgi;
	scgi_temp_path $tmp/scgi;
	server_tokens off;
	server {
		listen 127.0.0.1:$RIG_NGINX_PORT ssl;
		server_name localhost;
		ssl_certificate $RIG/tls/server.pem;
		ssl_certificate_key $RIG/tls/server.key;
		root $docroot;
		autoindex off;
	}
}
CFG
	# -e: even before reading the configuration nginx logs nowhere else.
	# fd 9 (the rig lock) must not outlive the test in a daemon.
	nginx -q -t -c "$RIG/nginx.conf" -e "$RIG/nginx-error.log" 9>&- ||
	    { tail -20 "$RIG/nginx-error.log" >&2; rig_die "nginx -t rejected the test configuration"; }
	nginx -c "$RIG/nginx.conf" -e "$RIG/nginx-error.log" \
	    </dev/null >>"$RIG/nginx-error.log" 2>&1 9>&- ||
	    { tail -20 "$RIG/nginx-error.log" >&2; rig_die "nginx did not start"; }
	rig_wait_port "$RIG_NGINX_PORT" ||
	    { tail -20 "$RIG/nginx-error.log" >&2; rig_die "nginx is not listening"; }
}

# rig_stop_nginx: stops the rig's nginx by its PID file, waits for it to go.
rig_stop_nginx() {
	local pid i
	pid=$(cat "$RIG/nginx.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$RIG/nginx.pid"
	return 0
}

# rig_nginx_requests PATH: how many requests nginx has logged for PATH.
rig_nginx_requests() {
	[ -f "$RIG/nginx-access.log" ] || { echo 0; return; }
	awk -v p="$1" '$7 == p { n++ } END { print n + 0 }' "$RIG/nginx-access.log"
}

# rig_api_put USER JSON: what the API answers for USER from now on.
rig_api_put() {
	printf '%s\n' "$2" > "$RIG/api/$1.json.tmp"
	mv "$RIG/api/$1.json.tmp" "$RIG/api/$1.json"
}

# rig_api_requests USER: how many requests the API has seen for USER.
rig_api_requests() {
	[ -f "$RIG/api/_requests.log" ] || { echo 0; return; }
	awk -F'\t' -v p="/users/$1" '$3 == p { n++ } END { print n + 0 }' \
	    "$RIG/api/_requests.log"
}

# rig_keyfleet_user: the AuthorizedKeysCommandUser.
rig_keyfleet_user() {
	if ! id keyfleet >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin keyfleet || rig_die "useradd keyfleet"
		RIG_KEYFLEET_USER_CREATED=1
	fi
	rig_cache_dir
}

# rig_add_user NAME: a throwaway local account that can log in with a key.
rig_add_user() {
	if id "$1" >/dev/null 2>&1; then
		# A leftover of an interrupted run: only ours may be replaced.
		[ "$(getent passwd "$1" | cut -d: -f5)" = keyfleet-test ] ||
		    rig_die "user $1 exists and is not a keyfleet test user"
		userdel -r "$1" >/dev/null 2>&1
	fi
	useradd --comment keyfleet-test --create-home \
	    --home-dir "$RIG/home/$1" --shell /bin/sh "$1" || rig_die "useradd $1"
	usermod -p '*' "$1"	# no password, but not locked
	RIG_USERS_CREATED="$RIG_USERS_CREATED $1"
}

# rig_keygen NAME: an ed25519 key pair in $RIG/keys/NAME{,.pub}.
rig_keygen() {
	ssh-keygen -q -t ed25519 -N '' -C "$1@keyfleet-test" -f "$RIG/keys/$1" ||
	    rig_die "ssh-keygen"
}

# rig_cache_dir: an empty cache owned by the AuthorizedKeysCommandUser.
rig_cache_dir() {
	rm -rf "$RIG/cache"
	mkdir -m 700 "$RIG/cache" && chown keyfleet: "$RIG/cache" ||
	    rig_die "cache directory"
}

# rig_stop_api: the API goes away (an outage).
rig_stop_api() {
	local pid
	pid=$(cat "$RIG/api.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$RIG/api.pid"
}

# rig_install_pam_module SO: pam_keyfleet.so for the test PAM service.
rig_install_pam_module() {
	mkdir -m 755 -p "$RIG/lib"
	install -m 644 "$1" "$RIG/lib/pam_keyfleet.so" || rig_die "install module"
	RIG_PAM_MODULE=$RIG/lib/pam_keyfleet.so
}

# rig_install_helper BINARY: keyfleet-authkeys where sshd will run it.
rig_install_helper() {
	install -m 755 "$1" "$RIG/bin/keyfleet-authkeys" || rig_die "install helper"
}

# rig_write_conf [EXTRA LINES...]: keyfleet.conf pointing at the test API,
# Timeout $RIG_TIMEOUT (default 5)
# (or at $RIG_URL when set).
rig_write_conf() {
	{
		echo "URL ${RIG_URL:-https://127.0.0.1:$RIG_API_PORT/users/%u}"
		echo "CAFile $RIG/tls/ca.pem"
		echo "CacheDirectory $RIG/cache"
		echo "Timeout ${RIG_TIMEOUT:-5}"
		echo "LogLevel verbose"
		for line in "$@"; do
			echo "$line"
		done
	} > "$RIG/keyfleet.conf"
	chmod 644 "$RIG/keyfleet.conf"
}

# rig_start_sshd: a stock sshd on a free loopback port, its own PAM service.
rig_start_sshd() {
	RIG_SSHD_PORT=$(rig_free_port)
	RIG_PAM_SERVICE="sshd-kf$$"
	mkdir -m 755 -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$RIG/ssh_host_ed25519_key" ||
	    rig_die "host key"
	# sshd names its PAM service after argv[0]: a service of our own.
	{
		echo "# keyfleet end-to-end test service (removed when the test ends)"
		echo "auth	required	pam_deny.so"
		[ -n "${RIG_PAM_MODULE:-}" ] &&
		    echo "account	required	$RIG_PAM_MODULE config=$RIG/keyfleet.conf"
		echo "account	required	pam_unix.so"
		[ -n "${RIG_PAM_MODULE:-}" ] &&
		    echo "session	optional	$RIG_PAM_MODULE config=$RIG/keyfleet.conf"
		echo "session	required	pam_unix.so"
	} > "/etc/pam.d/$RIG_PAM_SERVICE"
	ln -s /usr/sbin/sshd "$RIG/sbin/$RIG_PAM_SERVICE"
	cat > "$RIG/sshd_config" <<CFG
Port $RIG_SSHD_PORT
ListenAddress 127.0.0.1
HostKey $RIG/ssh_host_ed25519_key
PidFile $RIG/sshd.pid
StrictModes no
UseDNS no
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile ${RIG_AUTHORIZED_KEYS_FILE:-none}
AuthorizedKeysCommand $RIG/bin/keyfleet-authkeys -v -f $RIG/keyfleet.conf %u %f %t %k
AuthorizedKeysCommandUser keyfleet
LogLevel DEBUG3
MaxStartups 100:30:200
CFG
	"$RIG/sbin/$RIG_PAM_SERVICE" -t -f "$RIG/sshd_config" ||
	    rig_die "sshd -t rejected the test configuration"
	"$RIG/sbin/$RIG_PAM_SERVICE" -D -e -f "$RIG/sshd_config" \
	    2>"$RIG/sshd.log" &
	rig_wait_port "$RIG_SSHD_PORT" || { tail -20 "$RIG/sshd.log" >&2; rig_die "sshd did not start"; }
}

# rig_ssh KEYNAME USER COMMAND...: one login; prints the command's output.
rig_ssh() {
	local key=$1 user=$2
	shift 2
	# Bounded: a hang must fail the test, not wait for LoginGraceTime.
	timeout 60 ssh -F /dev/null -p "$RIG_SSHD_PORT" -i "$RIG/keys/$key" \
	    -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o PreferredAuthentications=publickey -o ConnectTimeout=10 \
	    -o LogLevel=ERROR "$user@127.0.0.1" "$@" </dev/null
}
