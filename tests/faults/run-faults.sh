#!/bin/bash
# run-faults.sh - the fault matrix: keyfleet-authkeys and pam_keyfleet
# through every way the API or the cache can fail, with a warm and a cold
# cache.
#
#   run-faults.sh            run the matrix (root; "make check" runs it)
#   run-faults.sh --table    print the Markdown table of the cases
#
# For every case and front-end it sets up the cache, applies the fault,
# runs keyfleet-authkeys (as the keyfleet user, with sshd's %u %f %t %k) or
# a PAM transaction (tests/faults/pam-drive: account, then session, through
# the real libpam reading a service file in /etc/pam.d, as sshd's is; not
# under pam_wrapper, whose RTLD_DEEPBIND the sanitizer build cannot load
# the module with, so both builds run the PAM half), and checks
#   - the outcome: the exit code and exactly the expected key line, or the
#     PAM result and exactly the expected record's environment;
#   - the cache entry afterwards: byte-identical to before (cmp) unless the
#     API gave a valid new answer, and no temporary file left;
#   - the time: every lookup ends within Timeout + 1 s;
#   - the log: it names the reason (helper stderr with -v; pam_syslog lines
#     through the rig's syslog catcher when the machine has no /dev/log).
# "warm" is a stale entry (past CacheTTL, within CacheMaxStale) listing
# the old key while the API holds a new record with the new key, so a
# failure must serve the old key and a valid answer the new one; "cold" is
# no entry; "fresh" is a fresh entry listing the old key that the fault
# then damages, so only a fetch may answer.
#
# One line per case: "ok|FAIL FAULT CACHE FRONT-END: OUTCOME"; exit 1 when
# any failed, 77 (skipped) when not root unless KF_REQUIRE_E2E=1.  It also
# checks that docs/security.md holds exactly the --table output between its
# fault-matrix markers.  The mounts (a read-only bind mount, a full tmpfs)
# happen in a private mount namespace of its own, and the whole run in a
# network namespace of its own: the test DNS server, a port whose connects
# never complete, an IPv6 that reaches nowhere, and nothing leaves it.
set -u
KF_TOP_SRCDIR=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KF_TOP_BUILDDIR=${KF_TOP_BUILDDIR:-$KF_TOP_SRCDIR}

# keyfleet.conf's Timeout, and the bound on every lookup.
TIMEOUT=2
BOUND_MS=$(((TIMEOUT + 1) * 1000))
# 200 lookups at once on a small machine (2 cores): a run's time also
# holds its waits for a CPU among 199 others, which no deadline of the
# library can bound, so these runs may take this much longer than
# Timeout + 1 s.  (Seen on 2 cores: the slowest run 0.4-0.7 s in the plain
# build, up to 2.4 s under ASan, a PAM phase that waited out Timeout for
# the lookup lock: all within the plain bound so far.)
CONCURRENCY=200
CONCURRENT_ALLOWANCE_MS=${KF_FAULTS_ALLOWANCE_MS:-1000}
FUSER=kf-fault
# The API's host name for the name-resolution cases (the table needs it
# before rig.sh, whose RIG_DNS_NAME it is): served only by the test DNS
# server, tests/api/dns.py, which this run's own network namespace reaches
# through a bind-mounted /etc/resolv.conf.
DNS_NAME=api.kf.test

# --------------------------------------------------------------- cases
#
# FAULTS: id;words for the table;what the log must say (ERE).
FAULTS="
refused;the API refuses the connection;Couldn't connect|Connection refused
hang;the API accepts but never answers;timed out
drip;the API answers 1 byte per second;timed out
s500;HTTP 500;HTTP status 500
s503;HTTP 503, then the API recovers;HTTP status 503
s401;HTTP 401;HTTP status 401
s404;HTTP 404 (the user is unknown);unknown to the API
garbage;malformed JSON;response rejected
oversized;a 50 MB body (MaxResponseSize 1M);larger than MaxResponseSize
nul;a body with a NUL byte;response rejected
wrongtype;Content-Type text/html;is a web page
redirect;a redirect to http://;HTTP status 302
wronghost;a TLS certificate for another host;certificate|SSL
ro-up;cache directory read-only (API up);Read-only file system
ro-down;cache directory read-only (API down);Couldn't connect|Connection refused
full-up;cache disk full (API up);No space left on device
full-down;cache disk full (API down);Couldn't connect|Connection refused
corrupt-up;corrupt (torn) cache entry (API up);is corrupt
corrupt-down;corrupt (torn) cache entry (API down);is corrupt
foreign-up;cache entry owned by another user (API up);not owned by
foreign-down;cache entry owned by another user (API down);not owned by
ww-up;cache entry world-writable (API up);writable by group or others
ww-down;cache entry world-writable (API down);writable by group or others
flaky;$CONCURRENCY concurrent lookups, the API failing every other request;HTTP status 500
dns-ok;the API named by a host name the test DNS server resolves;usable key.* from https://$DNS_NAME
dns-slow;DNS answers 0.5 s late (within Timeout);usable key.* from https://$DNS_NAME
dns-silent;DNS receives queries and never answers;name resolution of $DNS_NAME did not finish within Timeout
dns-late;DNS answers 1 s after Timeout;name resolution of $DNS_NAME did not finish within Timeout
dns-servfail;DNS answers SERVFAIL;name resolution of $DNS_NAME failed: Temporary failure
dns-nxdomain;DNS answers NXDOMAIN;name resolution of $DNS_NAME failed: Name or service not known
dns-aaaa;only an AAAA record, IPv6 unreachable;Couldn't connect|unreachable
syn-drop;a connect that never completes (SYN dropped);timed out
tls-silent;a peer that accepts and never answers the TLS hello;timed out
driphead;the API sends its headers 1 byte per second;timed out
all-hang;three URLs that each hang: DNS silent, SYN dropped, API silent;did not finish within Timeout.*trying the next URL
"

# CASES: fault;cache;keyfleet-authkeys;pam;cache entry afterwards.
# Outcomes: old (the cached record: exit 0 with the old key; PAM_SUCCESS
# and the old record's environment), new (the same from the API's new
# record), unknown (exit 0, no keys; PAM_IGNORE), none (exit 1, nothing
# printed; PAM_AUTHINFO_UNAVAIL).  Entries: same (byte-identical), absent,
# new (the new record, as the API sent it), negative (a 404 entry).
# "a/b": either; "a>b": a, and b at the next lookup once the API recovered.
CASES="
refused;warm;old;old;same
refused;cold;none;none;absent
hang;warm;old;old;same
hang;cold;none;none;absent
drip;warm;old;old;same
drip;cold;none;none;absent
s500;warm;old;old;same
s500;cold;none;none;absent
s503;warm;old>new;old>new;same>new
s503;cold;none>new;none>new;absent>new
s401;warm;old;old;same
s401;cold;none;none;absent
s404;warm;unknown;unknown;negative
s404;cold;unknown;unknown;negative
garbage;warm;old;old;same
garbage;cold;none;none;absent
oversized;warm;old;old;same
oversized;cold;none;none;absent
nul;warm;old;old;same
nul;cold;none;none;absent
wrongtype;warm;old;old;same
wrongtype;cold;none;none;absent
redirect;warm;old;old;same
redirect;cold;none;none;absent
wronghost;warm;old;old;same
wronghost;cold;none;none;absent
ro-up;warm;new;new;same
ro-up;cold;new;new;absent
ro-down;warm;old;old;same
ro-down;cold;none;none;absent
full-up;warm;new;new;same
full-up;cold;new;new;absent
full-down;warm;old;old;same
full-down;cold;none;none;absent
corrupt-up;fresh;new;new;new
corrupt-down;fresh;none;none;same
foreign-up;fresh;new;new;new
foreign-down;fresh;none;none;same
ww-up;fresh;new;new;new
ww-down;fresh;none;none;same
flaky;warm;old/new;old/new;same/new
flaky;cold;new/none;new/none;new/absent
dns-ok;warm;new;new;new
dns-ok;cold;new;new;new
dns-slow;warm;new;new;new
dns-slow;cold;new;new;new
dns-silent;warm;old;old;same
dns-silent;cold;none;none;absent
dns-late;warm;old;old;same
dns-late;cold;none;none;absent
dns-servfail;warm;old;old;same
dns-servfail;cold;none;none;absent
dns-nxdomain;warm;old;old;same
dns-nxdomain;cold;none;none;absent
dns-aaaa;warm;old;old;same
dns-aaaa;cold;none;none;absent
syn-drop;warm;old;old;same
syn-drop;cold;none;none;absent
tls-silent;warm;old;old;same
tls-silent;cold;none;none;absent
driphead;warm;old;old;same
driphead;cold;none;none;absent
all-hang;warm;old;old;same
all-hang;cold;none;none;absent
"

fault_field() {	# ID FIELD(2 words, 3 log)
	local id=$1 field=$2 line
	while IFS= read -r line; do
		[ "${line%%;*}" = "$id" ] || continue
		echo "$line" | cut -d';' -f"$field"
		return 0
	done <<<"$FAULTS"
	return 1
}

# Words for the table, from the outcome tokens.
words() {	# KIND(helper, pam, entry) TOKENS
	local kind=$1 spec=$2 out="" part alt sep
	local IFS='>'
	for part in $spec; do
		[ -n "$out" ] && out="$out; after recovery: "
		sep=
		local IFS='/'
		for alt in $part; do
			out="$out$sep$(word "$kind" "$alt")"
			sep=" or "
		done
		IFS='>'
	done
	printf '%s' "$out"
}

word() {
	case $1:$2 in
	helper:old)	printf 'exit 0, the cached key' ;;
	helper:new)	printf 'exit 0, the new key' ;;
	helper:unknown)	printf 'exit 0, no keys' ;;
	helper:none)	printf 'exit 1, nothing printed' ;;
	pam:old)	printf 'PAM_SUCCESS, cached record' ;;
	pam:new)	printf 'PAM_SUCCESS, new record' ;;
	pam:unknown)	printf 'PAM_IGNORE (UnknownUser ignore)' ;;
	pam:none)	printf 'PAM_AUTHINFO_UNAVAIL' ;;
	entry:same)	printf 'byte-identical' ;;
	entry:absent)	printf 'none' ;;
	entry:new)	printf 'the new record' ;;
	entry:negative)	printf 'a negative (404) entry' ;;
	*)		printf '?%s?' "$2" ;;
	esac
}

print_table() {
	local id cache helper pam entry
	echo "| fault | cache | keyfleet-authkeys | pam account | cache entry afterwards |"
	echo "|---|---|---|---|---|"
	while IFS=';' read -r id cache helper pam entry; do
		[ -n "$id" ] || continue
		printf '| %s | %s | %s | %s | %s |\n' "$(fault_field "$id" 2)" \
		    "$cache" "$(words helper "$helper")" "$(words pam "$pam")" \
		    "$(words entry "$entry")"
	done <<<"$CASES"
}

if [ "${1:-}" = --table ]; then
	print_table
	exit 0
fi

. "$KF_TOP_SRCDIR/tests/e2e/rig.sh"
rig_require_root

# Mounts stay in a namespace of our own: whatever happens, they go with it.
if [ -z "${KF_FAULTS_NAMESPACE:-}" ] &&
    unshare --mount --net --propagation private true 2>/dev/null; then
	KF_FAULTS_NAMESPACE=1 exec unshare --mount --net --propagation private \
	    -- /bin/bash "$0" "$@"
fi
if [ "${KF_FAULTS_NAMESPACE:-}" = 1 ]; then
	ip link set lo up || rig_die "cannot bring up lo in the test's network namespace"
fi

# ---------------------------------------------------------- verdicts

failures=0
skipped=0
problems=()
problem() { problems+=("$*"); }

verdict() {	# FAULT CACHE FRONT-END OUTCOME
	if [ ${#problems[@]} -eq 0 ]; then
		echo "ok $1 $2 $3: $4"
	else
		local msg p
		msg=
		for p in "${problems[@]}"; do
			msg="$msg${msg:+; }$p"
		done
		echo "FAIL $1 $2 $3: $msg (outcome: $4)"
		failures=$((failures + 1))
		# What the front-end said, for the diagnosis.
		if [ -f "$RIG/run.out" ]; then
			sed -n '1,10s/^/    out: /p' "$RIG/run.out"
			sed -n '1,10s/^/    err: /p' "$RIG/run.err"
		fi
		if [ "$3" = pam ] && [ -f "$RIG/syslog.log" ]; then
			tail -n +"$CASE_FROM" "$RIG/syslog.log" |
			    grep 'pam_keyfleet' | sed -n '1,10s/^/    log: /p'
		fi
	fi
	problems=()
}

# ------------------------------------------------------------- the table

table_check() {
	local doc=$KF_TOP_SRCDIR/docs/security.md
	if [ ! -f "$doc" ]; then
		echo "FAIL docs/security.md: missing"
		failures=$((failures + 1))
		return
	fi
	if diff -u <(print_table) <(sed -n '/<!-- fault-matrix:begin -->/,/<!-- fault-matrix:end -->/p' "$doc" | sed '1d;$d') >"$RIG/table.diff"; then
		echo "ok docs/security.md: the fault-matrix table is the test's cases"
	else
		echo "FAIL docs/security.md: the fault-matrix table differs from the cases (run-faults.sh --table prints it):"
		sed 's/^/    /' "$RIG/table.diff"
		failures=$((failures + 1))
	fi
}

# --------------------------------------------------------------- the rig

rig_init
faults_cleanup() {
	local pidfile pid
	set +e
	unmount_cache
	for pidfile in "$RIG/api-wronghost.pid" "$RIG/api-http.pid"; do
		pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] &&
		    kill "$pid" 2>/dev/null
	done
	rig_cleanup
}
trap faults_cleanup EXIT

table_check

have_syslog=0
rig_start_syslog && have_syslog=1
rig_keyfleet_user
rig_keygen old
rig_keygen new
rig_install_helper "$KF_TOP_BUILDDIR/tests/e2e/keyfleet-authkeys"
rig_install_pam_module "$KF_TOP_BUILDDIR/pam_module/.libs/pam_keyfleet.so"
PAM_DRIVE=$KF_TOP_BUILDDIR/tests/faults/pam-drive
[ -x "$PAM_DRIVE" ] || rig_die "$PAM_DRIVE not built"
rig_start_api

# start_server NAME ARGS...: another instance of the test API; prints its
# port.  Its stdout is not the caller's: $(...) would wait for it.
start_server() {
	local name=$1
	shift
	"$RIG_PYTHON" "$KF_TOP_SRCDIR/tests/api/server.py" "$@" \
	    --port-file "$RIG/api-$name.port" --pid-file "$RIG/api-$name.pid" \
	    </dev/null >/dev/null 2>"$RIG/api-$name.log" &
	rig_wait_file "$RIG/api-$name.port" "$RIG/api-$name.log" "API $name"
	cat "$RIG/api-$name.port"
}
# The same API behind a certificate valid only for wrong.example.
WRONGHOST_PORT=$(start_server wronghost --data-dir "$RIG/api" \
    --cert "$RIG/tls/wronghost.pem" --key "$RIG/tls/wronghost.key")
# Where the redirect points: plain HTTP, serving the new record.  Were the
# redirect followed, the new key would show.
mkdir -m 755 "$RIG/api-http"
HTTP_PORT=$(start_server http --http --data-dir "$RIG/api-http")
DEAD_PORT=$(rig_free_port)

# Name resolution and connect (rig.sh): the C library asks only the test
# DNS server, and SYNDROP_PORT's connects never complete.
DNS_SKIP=
if [ "${KF_FAULTS_NAMESPACE:-}" = 1 ]; then
	rig_start_dns
	rig_start_syndrop
	rig_start_syndrop --silent
	SYNDROP_PORT=$RIG_SYNDROP_PORT
else
	DNS_SKIP="no network namespace of its own (unshare --net failed)"
fi
dns_mode() { rig_dns_mode "$@"; }

# conf NAME URL...: keyfleet.conf variant NAME asking these URLs in turn.
conf() {
	local name=$1 url
	shift
	for url in "$@"; do
		echo "URL $url"
	done > "$RIG/conf.$name"
	cat >> "$RIG/conf.$name" <<CONF
CAFile $RIG/tls/ca.pem
CacheDirectory $RIG/cache
ConnectTimeout 1
Timeout $TIMEOUT
CacheTTL 60
CacheMaxStale 86400
NegativeTTL 60
UnknownUser ignore
LogLevel verbose
CONF
	chmod 644 "$RIG/conf.$name"
}
conf api "https://127.0.0.1:$RIG_API_PORT/users/%u"
conf refused "https://127.0.0.1:$DEAD_PORT/users/%u"
conf wronghost "https://127.0.0.1:$WRONGHOST_PORT/users/%u"
if [ -z "$DNS_SKIP" ]; then
	conf dns "https://$DNS_NAME:$RIG_API_PORT/users/%u"
	conf syndrop "https://127.0.0.1:$SYNDROP_PORT/users/%u"
	conf silent "https://127.0.0.1:$RIG_SILENT_PORT/users/%u"
	conf allhang "https://$DNS_NAME:$RIG_API_PORT/users/%u" \
	    "https://127.0.0.1:$SYNDROP_PORT/users/%u" \
	    "https://127.0.0.1:$RIG_API_PORT/users/%u"
fi
CONF=$RIG/keyfleet.conf
use_conf() {
	cp "$RIG/conf.$1" "$CONF.tmp" && chmod 644 "$CONF.tmp" &&
	    mv "$CONF.tmp" "$CONF" || rig_die "keyfleet.conf"
}
use_conf api

RIG_PAM_SERVICE="kf-faults$$"	# rig_cleanup removes it
# pam_keyfleet's own result is the transaction's: pam_debug.so runs only
# when it returned PAM_IGNORE (which Linux-PAM never passes on) and turns
# that into PAM_NO_MODULE_DATA, which pam-drive prints as PAM_IGNORE.
cat > "/etc/pam.d/$RIG_PAM_SERVICE" <<PAMD
# keyfleet fault-matrix test service (removed when the test ends)
account [success=done ignore=ignore default=die] $RIG_PAM_MODULE config=$CONF
account requisite pam_debug.so acct=no_module_data
session [success=done ignore=ignore default=die] $RIG_PAM_MODULE config=$CONF
session requisite pam_debug.so open_session=no_module_data close_session=no_module_data
PAMD

OLD_RECORD="{\"user\":\"$FUSER\",\"keys\":[\"$(cat "$RIG/keys/old.pub")\"],\"env\":{\"KF_RECORD\":\"old\"}}"
NEW_RECORD="{\"user\":\"$FUSER\",\"keys\":[\"$(cat "$RIG/keys/new.pub")\"],\"env\":{\"KF_RECORD\":\"new\"}}"
printf '%s\n' "$NEW_RECORD" > "$RIG/api-http/$FUSER.json"
printf '%s\n' "$NEW_RECORD" > "$RIG/new.json"
# What sshd passes for the key the client offers (%f %t %k): the old one.
OFFER_FP=$(ssh-keygen -l -E sha256 -f "$RIG/keys/old.pub" | awk '{ print $2 }')
OFFER_TYPE=$(awk '{ print $1 }' "$RIG/keys/old.pub")
OFFER_BLOB=$(awk '{ print $2 }' "$RIG/keys/old.pub")
NEW_BLOB=$(awk '{ print $2 }' "$RIG/keys/new.pub")

now_us() { echo "${EPOCHREALTIME/./}"; }

# helper OUT ERR: one keyfleet-authkeys run as sshd makes it; prints
# "RC MS".
helper() {
	local t0 t1 rc
	t0=$(now_us)
	setpriv --reuid=keyfleet --regid=keyfleet --clear-groups -- \
	    "$RIG/bin/keyfleet-authkeys" -v -f "$CONF" "$FUSER" \
	    "$OFFER_FP" "$OFFER_TYPE" "$OFFER_BLOB" >"$1" 2>"$2" </dev/null
	rc=$?
	t1=$(now_us)
	echo "$rc $(((t1 - t0) / 1000))"
}

# -------------------------------------------------- reference answers

rm -f "$RIG/api/_mode"
rig_api_put "$FUSER" "$OLD_RECORD"
read -r rc ms < <(helper "$RIG/ref.out" "$RIG/ref.err")
OLD_LINE=$(cat "$RIG/ref.out")
[ "$rc" = 0 ] && grep -qF "$OFFER_BLOB" "$RIG/ref.out" ||
    { cat "$RIG/ref.err" >&2; rig_die "the helper does not answer with the API up"; }
cp "$RIG/cache/u-$FUSER" "$RIG/entry.old" || rig_die "no cache entry"
rig_cache_dir
rig_api_put "$FUSER" "$NEW_RECORD"
read -r rc ms < <(helper "$RIG/ref.out" "$RIG/ref.err")
NEW_LINE=$(cat "$RIG/ref.out")
[ "$rc" = 0 ] && grep -qF "$NEW_BLOB" "$RIG/ref.out" ||
    { cat "$RIG/ref.err" >&2; rig_die "the helper does not answer the new record"; }

# ------------------------------------------------------------ the faults

unmount_cache() {
	local i
	for i in 1 2 3; do
		mountpoint -q "$RIG/cache" 2>/dev/null || return 0
		umount "$RIG/cache" 2>/dev/null || umount -l "$RIG/cache"
	done
}

# entry_aged AGE: the old record's entry, fetched AGE seconds ago, in the
# cache as the keyfleet user keeps it.
entry_aged() {
	local f=$RIG/cache/u-$FUSER
	sed "1,/^\$/ s/^fetched .*/fetched $(($(date +%s) - $1))/" \
	    "$RIG/entry.old" > "$f" && chown keyfleet: "$f" && chmod 600 "$f" ||
	    rig_die "cannot write the cache entry"
}

mounted() {	# MOUNT ARGS...: problems noted, the case skipped
	if ! mount "$@" 2>"$RIG/mount.err"; then
		CASE_SKIP="cannot mount ($(head -1 "$RIG/mount.err")): needs CAP_SYS_ADMIN"
		return 1
	fi
}

# setup_case FAULT CACHE: the state before the run.
setup_case() {
	local fault=$1 cache=$2
	CASE_SKIP=
	CASE_FROM=$(syslog_lines)
	rm -f "$RIG/run.out" "$RIG/run.err"
	unmount_cache
	rig_cache_dir
	rm -f "$RIG/api/_mode" "$RIG/api/"*.mode
	rig_api_put "$FUSER" "$NEW_RECORD"
	use_conf api
	case $fault in
	dns-*|syn-drop|tls-silent|all-hang)
		if [ -n "$DNS_SKIP" ]; then
			CASE_SKIP=$DNS_SKIP
			return 1
		fi
		dns_mode answer "$DNS_NAME=127.0.0.1" ;;
	esac
	case $fault in
	full-*)
		mounted -t tmpfs -o size=64k,mode=0700 kf-faults-full \
		    "$RIG/cache" || return 1
		chown keyfleet: "$RIG/cache" ;;
	esac
	case $cache in
	warm)	entry_aged 120 ;;	# past CacheTTL 60, within CacheMaxStale
	fresh)	entry_aged 0 ;;
	cold)	;;
	esac
	case $fault in
	refused|*-down)	use_conf refused ;;
	wronghost)	use_conf wronghost ;;
	hang)		echo hang > "$RIG/api/_mode" ;;
	drip)		echo "drip 1" > "$RIG/api/_mode" ;;
	s500)		echo "status 500" > "$RIG/api/_mode" ;;
	s503)		echo "status 503" > "$RIG/api/_mode" ;;
	s401)		echo "status 401" > "$RIG/api/_mode" ;;
	s404)		rm -f "$RIG/api/$FUSER.json" ;;
	garbage)	echo "garbage 600" > "$RIG/api/_mode" ;;
	oversized)	echo "oversized 52428800" > "$RIG/api/_mode" ;;
	nul)		echo nul > "$RIG/api/_mode" ;;
	wrongtype)	echo wrongtype > "$RIG/api/_mode" ;;
	redirect)	echo "redirect http://127.0.0.1:$HTTP_PORT/users/$FUSER" \
			    > "$RIG/api/_mode" ;;
	flaky)		echo flaky > "$RIG/api/_mode" ;;
	dns-ok)		use_conf dns ;;
	dns-slow)	use_conf dns; dns_mode late 0.5 "$DNS_NAME=127.0.0.1" ;;
	dns-silent)	use_conf dns; dns_mode silent ;;
	dns-late)	use_conf dns
			dns_mode late $((TIMEOUT + 1)) "$DNS_NAME=127.0.0.1" ;;
	dns-servfail)	use_conf dns; dns_mode servfail ;;
	dns-nxdomain)	use_conf dns; dns_mode nxdomain ;;
	# This namespace has no IPv6 route but ::1's: the address is
	# unreachable, and no packet leaves.
	dns-aaaa)	use_conf dns; dns_mode answer "$DNS_NAME=2001:db8::1" ;;
	syn-drop)	use_conf syndrop ;;
	tls-silent)	use_conf silent ;;
	driphead)	echo "driphead 1" > "$RIG/api/_mode" ;;
	all-hang)	use_conf allhang; dns_mode silent
			echo hang > "$RIG/api/_mode" ;;
	esac
	case $fault in
	ro-*)
		mounted --bind "$RIG/cache" "$RIG/cache" || return 1
		mounted -o remount,bind,ro "$RIG/cache" || return 1 ;;
	full-*)
		# Every page of the tmpfs taken: the next write gets ENOSPC.
		dd if=/dev/zero of="$RIG/cache/filler" bs=1k >/dev/null 2>&1
		if [ "$(stat -f -c %a "$RIG/cache")" != 0 ]; then
			rig_die "the cache tmpfs is not full"
		fi ;;
	corrupt-*)	# torn: the last bytes of the body missing
		truncate -s -7 "$RIG/cache/u-$FUSER" ;;
	foreign-*)	# readable, so that only the owner check can refuse it
		chown nobody:nogroup "$RIG/cache/u-$FUSER"
		chmod 644 "$RIG/cache/u-$FUSER" ;;
	ww-*)		chmod 666 "$RIG/cache/u-$FUSER" ;;
	esac
	rm -f "$RIG/before"
	[ -e "$RIG/cache/u-$FUSER" ] && cp -p "$RIG/cache/u-$FUSER" "$RIG/before"
	return 0
}

# The fault goes away: the API answers normally again.
recover() {
	rm -f "$RIG/api/_mode"
	use_conf api
}

# ------------------------------------------------------------ checks

# The helper's outcome as a token: old, new, unknown, none, or what else.
helper_outcome() {	# RC OUT
	if [ "$1" = 0 ] && [ ! -s "$2" ]; then
		echo unknown
	elif [ "$1" = 0 ] && [ "$(cat "$2")" = "$OLD_LINE" ] &&
	    [ "$(wc -l < "$2")" = 1 ]; then
		echo old
	elif [ "$1" = 0 ] && [ "$(cat "$2")" = "$NEW_LINE" ] &&
	    [ "$(wc -l < "$2")" = 1 ]; then
		echo new
	elif [ "$1" = 1 ] && [ ! -s "$2" ]; then
		echo none
	else
		echo "exit-$1-with-$(wc -c < "$2")-bytes-out"
	fi
}

# The slowest PAM phase in pam-drive's output, in ms.
pam_ms() {	# OUT
	awk '$1 == "account" || $1 == "session" { if ($3 > m) m = $3 } END { print m + 0 }' "$1"
}

# Nothing left running in the process when a PAM call returned: one
# thread, no child, no Internet socket (pam-drive's "left" lines).
check_left() {	# OUT
	local left
	grep -q '^left account ' "$1" ||
	    { problem "pam-drive did not say what was left running"; return; }
	left=$(awk '$1 == "left" && ($3 != 1 || $4 != 0 || $5 != 0) {
	    printf "%s%s: %d threads, %d children, %d sockets", sep, $2, $3, $4, $5; sep = "; " }' "$1")
	[ -z "$left" ] || problem "left running when the PAM call returned: $left"
}

# The PAM outcome from pam-drive's output.
pam_outcome() {	# OUT
	local acct session envs
	acct=$(awk '$1 == "account" { print $2 }' "$1")
	session=$(awk '$1 == "session" { print $2 }' "$1")
	envs=$(awk '$1 == "env" { print $2 }' "$1" | tr '\n' ' ')
	case $acct:$session:$envs in
	PAM_SUCCESS:PAM_SUCCESS:"KF_RECORD=old ")	echo old ;;
	PAM_SUCCESS:PAM_SUCCESS:"KF_RECORD=new ")	echo new ;;
	PAM_IGNORE::)				echo unknown ;;
	PAM_AUTHINFO_UNAVAIL::)			echo none ;;
	*)	echo "account-${acct:-?}-session-${session:--}-env-${envs:--}" | tr ' ' ',' ;;
	esac
}

matches() {	# TOKEN ALTERNATIVES(a/b)
	local alt IFS='/'
	for alt in $2; do
		[ "$1" = "$alt" ] && return 0
	done
	return 1
}

# The entry afterwards as a token: same, absent, new, negative, other.
entry_outcome() {
	local f=$RIG/cache/u-$FUSER
	if [ ! -e "$f" ]; then
		echo absent
	elif [ -e "$RIG/before" ] && cmp -s "$RIG/before" "$f"; then
		echo same
	elif sed -n 2p "$f" | grep -qx 'status 200' &&
	    sed '1,/^$/d' "$f" | cmp -s - "$RIG/new.json" &&
	    [ "$(stat -c %U:%a "$f")" = keyfleet:600 ]; then
		echo new
	elif sed -n 2p "$f" | grep -qx 'status 404' &&
	    [ "$(sed '1,/^$/d' "$f" | wc -c)" = 0 ] &&
	    [ "$(stat -c %U:%a "$f")" = keyfleet:600 ]; then
		echo negative
	else
		echo other
	fi
}

check_entry() {	# EXPECTED
	local got
	got=$(entry_outcome)
	matches "$got" "$1" || problem "cache entry: expected $1, got $got"
	if [ -n "$(find "$RIG/cache" -name '.t-*' -print -quit 2>/dev/null)" ]; then
		problem "temporary files left in the cache"
	fi
	ENTRY_GOT=$got
}

# check_log FILE FROM REGEX: FILE's lines from FROM on name the reason.
# Datagrams reach the catcher a moment after the process sent them.
check_log() {
	local file=$1 from=$2 regex=$3 i
	for i in $(seq 40); do
		tail -n +"$from" "$file" 2>/dev/null | grep -qE -- "$regex" &&
		    return 0
		[ "$file" = "$RIG/syslog.log" ] || break
		sleep 0.05
	done
	problem "the log does not say /$regex/"
}

# Whatever the outcome, the log says why the cache did or did not serve.
outcome_regex() {
	case $1 in
	old)	echo "serving the cached answer" ;;
	none)	echo "no trustworthy answer" ;;
	*)	echo ;;
	esac
}

syslog_lines() {
	if [ -f "$RIG/syslog.log" ]; then
		echo $(($(wc -l < "$RIG/syslog.log") + 1))
	else
		echo 1
	fi
}

# one_run FRONT-END EXPECTED LOGREGEX: runs it, checks outcome and time;
# sets GOT and MS.
one_run() {
	local fe=$1 expected=$2 regex=$3 rc from extra
	from=$(syslog_lines)
	if [ "$fe" = keyfleet-authkeys ]; then
		read -r rc MS < <(helper "$RIG/run.out" "$RIG/run.err")
		GOT=$(helper_outcome "$rc" "$RIG/run.out")
		[ "$MS" -le "$BOUND_MS" ] ||
		    problem "took $MS ms, more than Timeout + 1 s"
		if grep -q 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$RIG/run.err"; then
			problem "sanitizer report: $(grep -m1 'ERROR\|runtime error' "$RIG/run.err")"
		fi
	else
		"$PAM_DRIVE" "$RIG_PAM_SERVICE" "$FUSER" session \
		    >"$RIG/run.out" 2>"$RIG/run.err"
		rc=$?
		GOT=$(pam_outcome "$RIG/run.out")
		MS=$(pam_ms "$RIG/run.out")
		[ "$rc" = 0 ] || problem "pam-drive exited $rc: $(head -3 "$RIG/run.err")"
		check_left "$RIG/run.out"
		[ "$MS" -le "$BOUND_MS" ] ||
		    problem "a PAM phase took $MS ms, more than Timeout + 1 s"
	fi
	matches "$GOT" "$expected" || problem "expected $expected, got $GOT"
	[ -n "$regex" ] || return 0
	extra=$(outcome_regex "$GOT")
	if [ "$fe" = keyfleet-authkeys ]; then
		check_log "$RIG/run.err" 1 "$regex"
		[ -n "$extra" ] && check_log "$RIG/run.err" 1 "$extra"
	elif [ "$have_syslog" = 1 ]; then
		check_log "$RIG/syslog.log" "$from" "pam_keyfleet.*($regex)"
		[ -n "$extra" ] && check_log "$RIG/syslog.log" "$from" "pam_keyfleet.*$extra"
	fi
	return 0
}

# run_case FAULT CACHE FRONT-END EXPECTED ENTRY
run_case() {
	local fault=$1 cache=$2 fe=$3 expected=$4 entry=$5 regex what
	regex=$(fault_field "$fault" 3)
	if ! setup_case "$fault" "$cache"; then
		echo "skip $fault $cache $fe: $CASE_SKIP"
		skipped=$((skipped + 1))
		[ "${KF_REQUIRE_E2E:-0}" = 1 ] && failures=$((failures + 1))
		unmount_cache
		return
	fi
	one_run "$fe" "${expected%%>*}" "$regex"
	check_entry "${entry%%>*}"
	what="$GOT, entry $ENTRY_GOT, $MS ms"
	if [ "$expected" != "${expected#*>}" ]; then
		recover
		one_run "$fe" "${expected#*>}" ""
		check_entry "${entry#*>}"
		what="$what; recovered: $GOT, entry $ENTRY_GOT, $MS ms"
	fi
	verdict "$fault" "$cache" "$fe" "$what"
	unmount_cache
}

# ------------------------------------------------------- concurrency

# The API's "flaky" mode alternates per user across the whole run: ask it
# until it answers, so that the storm's first request is one that fails.
prime_flaky() {
	local i status
	for i in 1 2 3; do
		status=$("$RIG_PYTHON" - "$RIG/tls/ca.pem" "$RIG_API_PORT" "$FUSER" <<'PY'
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[2]), context=ctx)
c.request("GET", "/users/" + sys.argv[3])
r = c.getresponse()
r.read()
print(r.status)
PY
)
		[ "$status" = 200 ] && return 0
	done
	rig_die "the API in flaky mode never answered 200"
}

# run_concurrent CACHE FRONT-END EXPECTED ENTRY: CONCURRENCY lookups of
# one user at once, the API failing every other request.
run_concurrent() {
	local cache=$1 fe=$2 expected=$3 entry=$4 dir=$RIG/conc i rc ms
	local -a pids=()
	local -A count=()
	local slowest=0 bad=0 got summary=
	setup_case flaky "$cache"
	prime_flaky
	rm -rf "$dir"
	mkdir "$dir"
	for i in $(seq "$CONCURRENCY"); do
		if [ "$fe" = keyfleet-authkeys ]; then
			(helper "$dir/$i.out" "$dir/$i.err" > "$dir/$i.rc") &
		else
			("$PAM_DRIVE" "$RIG_PAM_SERVICE" "$FUSER" session \
			    >"$dir/$i.out" 2>"$dir/$i.err"
			echo "$? 0" > "$dir/$i.rc") &
		fi
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq "$CONCURRENCY"); do
		read -r rc ms < "$dir/$i.rc"
		if [ "$fe" = keyfleet-authkeys ]; then
			got=$(helper_outcome "$rc" "$dir/$i.out")
		else
			got=$(pam_outcome "$dir/$i.out")
			ms=$(pam_ms "$dir/$i.out")
			[ "$rc" = 0 ] || got="pam-drive-exit-$rc"
		fi
		count[$got]=$((${count[$got]:-0} + 1))
		[ "$ms" -gt "$slowest" ] && slowest=$ms
		if ! matches "$got" "$expected"; then
			bad=$((bad + 1))
			[ "$bad" -le 3 ] && problem "run $i: expected $expected, got $got"
		fi
	done
	[ "$bad" -le 3 ] || problem "$bad runs in all not $expected"
	[ "$slowest" -le $((BOUND_MS + CONCURRENT_ALLOWANCE_MS)) ] ||
	    problem "the slowest run took $slowest ms, more than Timeout + 1 s + ${CONCURRENT_ALLOWANCE_MS} ms"
	if [ "$fe" = keyfleet-authkeys ] &&
	    grep -l 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$dir"/*.err >/dev/null 2>&1; then
		problem "sanitizer report in $(grep -l 'AddressSanitizer\|runtime error:\|LeakSanitizer' "$dir"/*.err | wc -l) runs"
	fi
	if [ "$fe" = keyfleet-authkeys ] && ! cat "$dir"/*.err | grep -qE "HTTP status 500"; then
		problem "no run logged the API's 500"
	fi
	check_entry "$entry"
	for got in "${!count[@]}"; do
		summary="$summary${summary:+, }${count[$got]} $got"
	done
	# Once the API is well, the next lookup answers right.
	recover
	read -r rc ms < <(helper "$RIG/run.out" "$RIG/run.err")
	got=$(helper_outcome "$rc" "$RIG/run.out")
	[ "$got" = new ] || problem "after the storm, with the API well: $got"
	verdict flaky "$cache" "$fe" "$CONCURRENCY runs: $summary; slowest $slowest ms; entry $ENTRY_GOT; afterwards $got"
}

# ------------------------------------------------------------- run

started=$(now_us)
while IFS=';' read -r fault cache helper_exp pam_exp entry_exp; do
	[ -n "$fault" ] || continue
	for fe in keyfleet-authkeys pam; do
		if [ "$fe" = pam ]; then
			expected=$pam_exp
		else
			expected=$helper_exp
		fi
		if [ "$fault" = flaky ]; then
			run_concurrent "$cache" "$fe" "$expected" "$entry_exp"
		else
			run_case "$fault" "$cache" "$fe" "$expected" "$entry_exp"
		fi
	done
done <<<"$CASES"
[ "$have_syslog" = 1 ] ||
    echo "note: a system logger owns /dev/log: PAM log lines not checked"
echo "fault matrix: $failures failed, $skipped skipped, $((($(now_us) - started) / 1000000)) s"
[ "$failures" -eq 0 ] || exit 1
exit 0
