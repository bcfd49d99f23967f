#!/bin/bash
# man-sync.sh - the manual pages document every interface the code has.
#
#   KF_TOP_SRCDIR=SRC tests/man/man-sync.sh          check SRC, then self-test
#   tests/man/man-sync.sh --tree DIR                 check DIR only
#
# Fails, naming what is missing, when
#   - a keyword in lib/config.c's keyword table has no entry (with a
#     default) in KEYWORDS of man/keyfleet.conf.5 or is not used in its
#     EXAMPLES, or a numeric default differs from config_defaults();
#     and the other way round, an entry the code does not accept;
#   - a key type or key option name lib/authkey.c knows is not in
#     keyfleet.conf.5, or an env deny-list name of lib/envfilter.c is not
#     in keyfleet.conf.5 and pam_keyfleet.8;
#   - an option or exit status of authkeys_cmd/keyfleet-authkeys.c is not
#     in OPTIONS / EXIT STATUS of man/keyfleet-authkeys.8, or the reverse;
#   - an argument of pam_module/pam_keyfleet.c is not in OPTIONS of
#     man/pam_keyfleet.8, or a PAM code a pam_sm_* function returns is not
#     under its RETURN VALUES subsection, or the reverse;
#   - a symbol of lib/libkeyfleet.map is not in the SYNOPSIS and
#     DESCRIPTION of man/libkeyfleet.3 (or the map and include/keyfleet.h
#     disagree), or a KF_ERR_* / KF_USER_* code is not in it;
#   - an option of tools/keyfleet-sign is not in OPTIONS of
#     man/keyfleet-sign.1, or the reverse.
# Everything is extracted from the code, nothing is listed here.  Then,
# to prove the check can fail, it runs itself against copies of the tree
# with one thing removed or added at a time and expects each to fail.
# Writes only under TMPDIR: works in a read-only srcdir (distcheck).
set -u

me="man-sync.sh"
self=$0

# ------------------------------------------------------------ extraction

# norm: roff source lines on stdin as plain words: escapes and quotes off.
norm() {
	sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\f\[[^]]*\]//g' \
	    -e 's/\\-/-/g' -e 's/\\[%&:]//g' -e 's/\\(dq/"/g' \
	    -e 's/\\(aq/'"'"'/g' -e 's/\\e/\\/g' -e 's/\\c$//' \
	    -e 's/\\ / /g' -e 's/\\~/ /g' -e 's/^\.[A-Za-z]*[ \t]*//' \
	    -e 's/"//g'
}

# section FILE NAME [SUBSECTION]: the lines of .SH NAME (and .SS SUB).
section() {
	awk -v sec="$2" -v ss="${3:-}" '
	/^\.SH/ { t = $0; sub(/^\.SH[ \t]*/, "", t); gsub(/"/, "", t)
		insec = (t == sec); inss = (ss == ""); next }
	/^\.SS/ && insec && ss != "" { t = $0; sub(/^\.SS[ \t]*/, "", t)
		gsub(/"/, "", t); inss = (t == ss); next }
	insec && inss { print }' "$1"
}

# heads: the tag lines (the line after .TP or .TQ) of roff on stdin.
heads() {
	awk 'h { print; h = 0; next } /^\.T[PQ]([ \t]|$)/ { h = 1 }' | norm
}

# Option-like words (-x, --long) in the text on stdin.
option_words() {
	grep -oE '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z0-9-]*' |
	    sed 's/^[^-]*//' | sort -u
}

conf_keywords() {
	awk '/keywords\[\][ \t]*=[ \t]*\{/ { t = 1; next }
	    t && /^\};/ { exit } t' "$1/lib/config.c" |
	    grep -oE '\{ *"[A-Za-z0-9]+" *, *kw_[a-z_]+' |
	    sed -E 's/\{ *"([A-Za-z0-9]+)" *, *(kw_[a-z_]+)/\1 \2/'
}

# Numeric defaults: "Keyword value" for each cfg->field = <integer
# expression> in config_defaults(), the field mapped to the keyword whose
# kw_ function sets it; *_ms fields are given in seconds, like the man page.
conf_defaults() {
	local src=$1 field expr fn kw value table

	table=$(conf_keywords "$src")
	awk '/^config_defaults\(/ { t = 1 } t && /^}/ { exit } t' \
	    "$src/lib/config.c" |
	    sed -nE 's/^[ \t]*cfg->([a-z_]+) = ([0-9 *+()]+);$/\1 \2/p' |
	    while read -r field expr; do
		fn=$(awk -v f="cfg->$field" '
		    /^kw_[a-z_]+\(/ { fn = $0; sub(/\(.*/, "", fn) }
		    /^}/ { fn = "" }
		    fn != "" && index($0, f) { print fn; exit }' \
		    "$src/lib/config.c")
		[ -n "$fn" ] || continue
		kw=$(printf '%s\n' "$table" | awk -v f="$fn" '$2 == f { print $1 }')
		[ -n "$kw" ] || continue
		value=$((expr))
		case $field in
		*_ms) value=$(awk -v v="$value" 'BEGIN { print v / 1000 }') ;;
		esac
		echo "$kw $value"
	    done
}

# "Keyword has_default default_word" for each entry in KEYWORDS; entries
# joined by .TQ share their text.
man_conf_entries() {
	section "$1" KEYWORDS | awk '
	function flush(   i) {
		for (i = 1; i <= n; i++)
			print names[i], (txt ~ /Default|Required/) ? 1 : 0, dflt
		n = 0; txt = ""; dflt = "-"
	}
	BEGIN { dflt = "-" }
	head {
		head = 0; w = $2
		if ($1 ~ /^\.B[IR]?$/ && w ~ /^[A-Z][A-Za-z0-9]*$/) {
			if (!tq) flush()
			names[++n] = w; next
		}
	}
	/^\.TP/ { head = 1; tq = 0 }
	/^\.TQ/ { head = 1; tq = 1 }
	{ txt = txt "\n" $0 }
	# The word after "Default:", on the same line or the next.
	want { want = 0; d = $0; sub(/^\.B[IR]?[ \t]*/, "", d)
		split(d, a, /[ \t]/); dflt = a[1] }
	/Default:/ && dflt == "-" { d = $0; sub(/.*Default:[ \t]*/, "", d)
		if (d == "") want = 1
		else { split(d, a, /[ \t]/); dflt = a[1] } }
	END { flush() }' | sed -e 's/\\-/-/g' -e 's/[.,;]$//'
}

# Names lib/authkey.c knows: key types, then key options.
key_names() {
	awk -v tbl="$2" '$0 ~ "^} " tbl "\\[" { t = 1; next }
	    t && /^\};/ { exit } t' "$1/lib/authkey.c" | tr '\n\t' '  ' |
	    grep -oE '\] *= *\{ *"[^"]+"' | sed -E 's/.*"([^"]+)"/\1/'
}

deny_list() {
	awk '/^static const char \*( *const)? *[a-z_]*deny[a-z_]*\[\]/ { t = 1; next }
	    t && /^\};/ { exit } t' "$1/lib/envfilter.c" |
	    grep -oE '"[^"]+"' | tr -d '"'
}

# Options of keyfleet-authkeys: strcmp(argv[i], "-x") tests, -x spelled as
# argv[i][1] == 'x', and getopt(_long) option strings and tables.
authkeys_options() {
	local c=$1/authkeys_cmd/keyfleet-authkeys.c

	{
		grep -oE 'str(n?case)?n?cmp\(argv\[[a-z]+\], *"-[^"]*"' "$c" |
		    sed -E 's/.*"(-[^"]*)"/\1/'
		grep -oE "argv\[[a-z]+\]\[1\] == '[A-Za-z]'" "$c" |
		    sed -E "s/.*'(.)'/-\1/"
		grep -oE 'getopt(_long)?\([^,]*,[^,]*, *"[^"]*"' "$c" |
		    sed -E 's/.*"([^"]*)"/\1/' | tr -d ':+' | grep -oE '[A-Za-z]' |
		    sed 's/^/-/'
		awk '/struct option/ && /\[\]/ { t = 1; next }
		    t && /^[ \t]*\};/ { exit } t' "$c" |
		    grep -oE '\{ *"[a-z][a-z0-9-]*"' | sed -E 's/.*"(.*)"/--\1/'
	} | grep -vxE -- '--?' | sed -E 's/=$//' | sort -u
}

authkeys_exits() {
	sed -nE 's/^#define[ \t]+EXIT_[A-Z_]+[ \t]+([0-9]+).*/\1/p' \
	    "$1/authkeys_cmd/keyfleet-authkeys.c" | sort -u
}

pam_args() {
	awk '/^parse_args\(/ { t = 1 } t && /^}/ { exit } t' \
	    "$1/pam_module/pam_keyfleet.c" |
	    grep -oE 'str(n?case)?n?cmp\(argv\[[a-z]+\], *"[^"]+"' |
	    sed -E 's/.*"([^"]+)"/\1/' | sort -u
}

# "function PAM_CODE" for every PAM code in each function's body, plus
# those of the file's functions it calls (one level).
pam_returns() {
	awk '
	/^[a-z_][a-z_0-9]*\(/ { fn = $0; sub(/\(.*/, "", fn); order[++nf] = fn }
	fn != "" && !/^[a-z_][a-z_0-9]*\(/ { body[fn] = body[fn] "\n" $0 }
	/^}/ { fn = "" }
	END {
		for (i = 1; i <= nf; i++) {
			f = order[i]; all = body[f]
			for (j = 1; j <= nf; j++)
				if (j != i && index(body[f], order[j] "("))
					all = all body[order[j]]
			while (match(all, /PAM_[A-Z_]+/)) {
				c = substr(all, RSTART, RLENGTH)
				all = substr(all, RSTART + RLENGTH)
				if (c !~ /^PAM_SM_/ && c != "PAM_EXTERN")
					print f, c
			}
		}
	}' "$1/pam_module/pam_keyfleet.c" | grep '^pam_sm_' | sort -u
}

map_symbols() {
	awk '/global:/ { t = 1; next } /local:/ { t = 0 } t' \
	    "$1/lib/libkeyfleet.map" | grep -oE '^[[:blank:]]*[A-Za-z_][A-Za-z0-9_]*;' |
	    tr -d ' \t;' | sort -u
}

header_functions() {
	# Declarations may span lines: join them first.
	tr '\n' ' ' <"$1/include/keyfleet.h" | tr ';' '\n' |
	    grep -vE '^[[:blank:]]*(typedef|#)' | grep -vE '\btypedef\b' |
	    grep -oE '[A-Za-z_][A-Za-z0-9_]*\(' | tr -d '(' |
	    grep '^kf_' | sort -u
}

header_typedefs() {
	grep -oE 'typedef[^;(]*[ *](kf_[a-z0-9_]+)' "$1/include/keyfleet.h" |
	    grep -oE 'kf_[a-z0-9_]+$' | sort -u
}

header_codes() {
	grep -oE '^#define[[:blank:]]+KF_(ERR|USER|CHECK)_[A-Z_]+' \
	    "$1/include/keyfleet.h" | awk '{ print $2 }' | sort -u
}

sign_options() {
	awk '/^while \[ \$# -gt 0 \]/ { t = 1 } t && /^done/ { exit } t' \
	    "$1/tools/keyfleet-sign" |
	    grep -E '^[[:blank:]]*-[^)]*\)' | sed -E 's/\).*//' | tr '|' '\n' |
	    tr -d ' \t' | sed -E 's/\?\*$//' |
	    grep -E '^--?[A-Za-z][A-Za-z0-9-]*$' | sort -u
}

# ---------------------------------------------------------------- check

problems=0
problem() {
	echo "MISSING: $*"
	problems=$((problems + 1))
}

need() {	# need WHAT LIST: an extraction that finds nothing is a failure
	[ -n "$2" ] || problem "could not extract $1 (has the code changed shape? update $me)"
}

# not_in ITEMS LINES MESSAGE: a problem for each word of ITEMS that is not a
# whole line of LINES; MESSAGE names it with %s.
not_in() {
	local item
	for item in $1; do
		printf '%s\n' "$2" | grep -qxF -- "$item" ||
		    problem "$(printf "$3" "$item")"
	done
}

check_conf() {
	local src=$1 man=$1/man/keyfleet.conf.5 kws entries kw fn d want
	local examples names

	kws=$(conf_keywords "$src" | awk '{ print $1 }')
	need "the keyword table from lib/config.c" "$kws"
	entries=$(man_conf_entries "$man")
	need "the KEYWORDS entries of keyfleet.conf.5" "$entries"
	examples=$(section "$man" EXAMPLES | norm)
	for kw in $kws; do
		if ! printf '%s\n' "$entries" | grep -q "^$kw "; then
			problem "keyfleet.conf.5: keyword $kw (accepted by lib/config.c) has no entry in KEYWORDS"
			continue
		fi
		printf '%s\n' "$entries" | grep -q "^$kw 1 " ||
		    problem "keyfleet.conf.5: keyword $kw: its entry in KEYWORDS gives no Default"
		printf '%s\n' "$examples" | grep -qiE "^#?$kw( |=)" ||
		    problem "keyfleet.conf.5: keyword $kw is used nowhere in EXAMPLES"
	done
	for kw in $(printf '%s\n' "$entries" | awk '{ print $1 }'); do
		printf '%s\n' "$kws" | grep -qx "$kw" ||
		    problem "keyfleet.conf.5: KEYWORDS documents $kw, which lib/config.c does not accept"
	done
	while read -r kw want; do
		d=$(printf '%s\n' "$entries" | awk -v k="$kw" '$1 == k { print $3 }')
		[ -n "$d" ] || continue
		d=$(awk -v v="$d" 'BEGIN {
		    m = 1; if (v ~ /[Kk]$/) m = 1024; if (v ~ /[Mm]$/) m = 1048576
		    sub(/[KkMm]$/, "", v)
		    if (v !~ /^[0-9.]+$/) { print "x"; exit } print v * m }')
		[ "$d" = "$want" ] ||
		    problem "keyfleet.conf.5: $kw: Default in the man page is not $want, the value config_defaults() sets"
	done < <(conf_defaults "$src")
	names=$(norm <"$man")
	for kw in $(key_names "$src" keytypes) $(key_names "$src" keyopts); do
		printf '%s\n' "$names" | grep -qF -- "$kw" ||
		    problem "keyfleet.conf.5: $kw (known to lib/authkey.c) is not mentioned"
	done
	need "the key types from lib/authkey.c" "$(key_names "$src" keytypes)"
	need "the key options from lib/authkey.c" "$(key_names "$src" keyopts)"
}

check_env() {
	local src=$1 list name page text

	list=$(deny_list "$src")
	need "the built-in deny list from lib/envfilter.c" "$list"
	for page in keyfleet.conf.5 pam_keyfleet.8; do
		text=$(norm <"$src/man/$page")
		for name in $list; do
			printf '%s\n' "$text" | grep -qF -- "$name" ||
			    problem "$page: $name (on the built-in deny list of lib/envfilter.c) is not listed"
		done
	done
}

check_authkeys() {
	local src=$1 man=$1/man/keyfleet-authkeys.8 opts documented
	local exits

	opts=$(authkeys_options "$src")
	need "the options of keyfleet-authkeys.c" "$opts"
	documented=$(section "$man" OPTIONS | heads | option_words)
	not_in "$opts" "$documented" \
	    "keyfleet-authkeys.8: option %s (parsed by authkeys_cmd/keyfleet-authkeys.c) is not in OPTIONS"
	not_in "$documented" "$opts" \
	    "keyfleet-authkeys.8: OPTIONS documents %s, which keyfleet-authkeys.c does not accept"
	exits=$(authkeys_exits "$src")
	need "the exit statuses of keyfleet-authkeys.c" "$exits"
	documented=$(section "$man" "EXIT STATUS" | heads | awk '{ print $1 }')
	not_in "$exits" "$documented" \
	    "keyfleet-authkeys.8: exit status %s is not in EXIT STATUS"
	not_in "$documented" "$exits" \
	    "keyfleet-authkeys.8: EXIT STATUS documents %s, which keyfleet-authkeys.c does not define"
}

check_pam() {
	local src=$1 man=$1/man/pam_keyfleet.8 args documented fn code
	local rets fns

	args=$(pam_args "$src")
	need "the arguments of pam_keyfleet.c" "$args"
	documented=$(section "$man" OPTIONS | heads | awk '{ print $1 }')
	not_in "$args" "$documented" \
	    "pam_keyfleet.8: argument %s (parsed by pam_module/pam_keyfleet.c) is not in OPTIONS"
	not_in "$documented" "$args" \
	    "pam_keyfleet.8: OPTIONS documents %s, which pam_keyfleet.c does not accept"
	rets=$(pam_returns "$src")
	need "the PAM codes of pam_keyfleet.c" "$rets"
	fns=$(printf '%s\n' "$rets" | awk '{ print $1 }' | sort -u)
	for fn in $fns; do
		documented=$(section "$man" "RETURN VALUES" "$fn" | heads |
		    awk '{ print $1 }')
		not_in "$(printf '%s\n' "$rets" | awk -v f="$fn" '$1 == f { print $2 }')" \
		    "$documented" \
		    "pam_keyfleet.8: $fn can return %s, which is not under RETURN VALUES, $fn"
		for code in $documented; do
			printf '%s\n' "$rets" | grep -qx "$fn $code" ||
			    problem "pam_keyfleet.8: RETURN VALUES, $fn documents $code, which pam_keyfleet.c never returns there"
		done
	done
}

check_lib() {
	local src=$1 man=$1/man/libkeyfleet.3 syms hdr typedefs syn desc s
	local errors codes c

	syms=$(map_symbols "$src")
	need "the symbols of lib/libkeyfleet.map" "$syms"
	hdr=$(header_functions "$src")
	typedefs=$(header_typedefs "$src")
	if [ ! -f "$man" ]; then
		problem "man/libkeyfleet.3 does not exist"
		return
	fi
	syn=$(section "$man" SYNOPSIS | norm)
	desc=$(section "$man" DESCRIPTION | norm)
	for s in $syms; do
		printf '%s\n' "$syn" | grep -qE "(^|[^a-z_])$s *\(" ||
		    problem "libkeyfleet.3: $s (exported by lib/libkeyfleet.map) is not in SYNOPSIS"
		printf '%s\n' "$desc" | grep -qE "(^|[^a-z_])$s([^a-z_0-9]|$)" ||
		    problem "libkeyfleet.3: $s (exported by lib/libkeyfleet.map) is not described in DESCRIPTION"
	done
	not_in "$syms" "$hdr" \
	    "lib/libkeyfleet.map exports %s, which include/keyfleet.h does not declare"
	not_in "$hdr" "$syms" \
	    "include/keyfleet.h declares %s, which lib/libkeyfleet.map does not export"
	for s in $(printf '%s\n' "$syn" | grep -oE 'kf_[a-z0-9_]+ *\(' |
	    tr -d ' (' | sort -u); do
		printf '%s\n' "$syms" "$typedefs" | grep -qx "$s" ||
		    problem "libkeyfleet.3: SYNOPSIS shows $s, which lib/libkeyfleet.map does not export"
	done
	codes=$(header_codes "$src")
	need "the KF_ERR_*/KF_USER_* codes of include/keyfleet.h" "$codes"
	errors=$(norm <"$man")
	for c in $codes; do
		printf '%s\n' "$errors" | grep -qE "(^|[^A-Z_])$c([^A-Z_]|$)" ||
		    problem "libkeyfleet.3: $c (defined in include/keyfleet.h) is not documented"
	done
}

check_sign() {
	local src=$1 man=$1/man/keyfleet-sign.1 opts documented

	opts=$(sign_options "$src")
	need "the options of tools/keyfleet-sign" "$opts"
	documented=$(section "$man" OPTIONS | heads | option_words)
	not_in "$opts" "$documented" \
	    "keyfleet-sign.1: option %s (parsed by tools/keyfleet-sign) is not in OPTIONS"
	not_in "$documented" "$opts" \
	    "keyfleet-sign.1: OPTIONS documents %s, which tools/keyfleet-sign does not accept"
}

check_tree() {
	check_conf "$1"
	check_env "$1"
	check_authkeys "$1"
	check_pam "$1"
	check_lib "$1"
	check_sign "$1"
	if [ "$problems" -gt 0 ]; then
		echo "$me: $problems problem(s) in $1"
		return 1
	fi
	return 0
}

if [ "${1:-}" = --tree ]; then
	[ $# -eq 2 ] || { echo "usage: $me --tree DIR" >&2; exit 99; }
	check_tree "$2"
	exit
fi

# ------------------------------------------------------------ the tests

top_srcdir=${KF_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-sync.XXXXXX") || exit 99
trap 'rm -rf -- "$tmp"' EXIT

if out=$(bash "$self" --tree "$top_srcdir" 2>&1); then
	pass "the manual pages document every keyword, option, argument, code and symbol"
else
	printf '%s\n' "$out"
	fail "the manual pages are out of step with the code (see MISSING above)"
fi

# A copy of what the check reads, fresh for each mutation.
files="lib/config.c lib/authkey.c lib/envfilter.c lib/libkeyfleet.map
    include/keyfleet.h authkeys_cmd/keyfleet-authkeys.c
    pam_module/pam_keyfleet.c tools/keyfleet-sign man/keyfleet.conf.5
    man/keyfleet-authkeys.8 man/pam_keyfleet.8 man/libkeyfleet.3
    man/keyfleet-sign.1"
fresh_copy() {
	local f

	rm -rf -- "$tmp/t"
	for f in $files; do
		mkdir -p "$tmp/t/$(dirname "$f")"
		[ -f "$top_srcdir/$f" ] && cp -- "$top_srcdir/$f" "$tmp/t/$f"
	done
	chmod -R u+w "$tmp/t"
}

# expect_failure WHAT PATTERN: the check of $tmp/t must fail saying PATTERN,
# which the check of the unchanged copy does not say.
expect_failure() {
	local out

	if out=$(bash "$self" --tree "$tmp/t" 2>&1); then
		fail "self-test: $1: the check passed"
	elif printf '%s\n' "$baseline" | grep -qF -- "$2"; then
		fail "self-test: $1: the unchanged tree already says \"$2\""
	elif printf '%s\n' "$out" | grep -qF -- "$2"; then
		pass "self-test: $1: fails with \"$(printf '%s\n' "$out" | grep -F -- "$2" | head -n 1)\""
	else
		printf '%s\n' "$out"
		fail "self-test: $1: failed, but not with \"$2\""
	fi
}

# Deletes, in FILE, the tag line of the .TP entry whose tag's first word
# (after escapes are removed) is WORD, within section SEC.
drop_tag() {
	local file=$1 sec=$2 word=$3

	awk -v sec="$sec" -v word="$word" '
	function plain(s) { gsub(/\\f[BIRP]|\\%|\\&/, "", s); gsub(/\\-/, "-", s)
		sub(/^\.[A-Za-z]+[ \t]*/, "", s); gsub(/"/, "", s); return s }
	/^\.SH/ { t = $0; sub(/^\.SH[ \t]*/, "", t); gsub(/"/, "", t); insec = (t == sec) }
	h { h = 0; split(plain($0), a, /[ \t]/); if (insec && a[1] == word) next }
	/^\.T[PQ]/ { h = 1 }
	{ print }' "$file" >"$file.new" && mv -- "$file.new" "$file"
	if cmp -s "$file" "$top_srcdir/${file#"$tmp/t/"}"; then
		fail "self-test: found no tag $word in ${file#"$tmp/t/"} to remove"
		return 1
	fi
}

fresh_copy
baseline=$(bash "$self" --tree "$tmp/t" 2>&1)

kw=$(conf_keywords "$top_srcdir" | tail -n 1 | awk '{ print $1 }')
fresh_copy
drop_tag "$tmp/t/man/keyfleet.conf.5" KEYWORDS "$kw" &&
    expect_failure "keyword $kw removed from keyfleet.conf.5" "keyword $kw (accepted by lib/config.c) has no entry"

fresh_copy
sed -i -E "/^\.SH EXAMPLES/,/^\.SH/{/^#?$kw( |=)/Id}" "$tmp/t/man/keyfleet.conf.5"
expect_failure "keyword $kw removed from EXAMPLES" "keyword $kw is used nowhere in EXAMPLES"

fresh_copy
awk -v kw="$kw" '/^\.SH KEYWORDS/ { k = 1 } /^\.SH/ && !/KEYWORDS/ { k = 0 }
    h { h = 0; if (k) e = ($2 == kw) } /^\.TP/ { h = 1 }
    !(e && /Default/)' "$tmp/t/man/keyfleet.conf.5" >"$tmp/t/x" &&
    mv "$tmp/t/x" "$tmp/t/man/keyfleet.conf.5"
expect_failure "the Default of $kw removed" "keyword $kw: its entry in KEYWORDS gives no Default"

fresh_copy
sed -i 's/^\.SH KEYWORDS$/&\n.TP\n.BI Frobnicate " n"\nDefault: 1./' "$tmp/t/man/keyfleet.conf.5"
expect_failure "a keyword the code lacks added to keyfleet.conf.5" "KEYWORDS documents Frobnicate"

fresh_copy
sed -i 's/^\([ \t]*\){ "LogLevel", kw_log_level, 0 },/&\n\1{ "Frobnicate", kw_log_level, 0 },/' "$tmp/t/lib/config.c"
expect_failure "a keyword added to lib/config.c" "keyword Frobnicate (accepted by lib/config.c) has no entry"

read -r dkw dval < <(conf_defaults "$top_srcdir" | tail -n 1)
fresh_copy
awk -v kw="$dkw" '/^\.SH KEYWORDS/ { k = 1 } /^\.SH/ && !/KEYWORDS/ { k = 0 }
    h { h = 0; if (k) e = ($2 == kw) } /^\.TP/ { h = 1 }
    e && /Default: [0-9]/ { sub(/Default: [0-9]+/, "Default: 12345") } { print }' \
    "$tmp/t/man/keyfleet.conf.5" >"$tmp/t/x" && mv "$tmp/t/x" "$tmp/t/man/keyfleet.conf.5"
expect_failure "the default of $dkw changed in keyfleet.conf.5" "$dkw: Default in the man page is not $dval"

fresh_copy
sed -i 's/"ssh-dss"/"ssh-frob"/' "$tmp/t/lib/authkey.c"
expect_failure "a key type renamed in lib/authkey.c" "ssh-frob (known to lib/authkey.c) is not mentioned"

fresh_copy
sed -i 's/"BASH_FUNC_\*",/& "FROB_*",/' "$tmp/t/lib/envfilter.c"
expect_failure "a name added to the built-in deny list" "FROB_* (on the built-in deny list"

o=$(authkeys_options "$top_srcdir" | grep -- '^--' | tail -n 1)
fresh_copy
drop_tag "$tmp/t/man/keyfleet-authkeys.8" OPTIONS "$o" &&
    expect_failure "option $o removed from keyfleet-authkeys.8" "option $o (parsed by"

fresh_copy
sed -i 's/strcmp(argv\[i\], "-f") == 0/& || strcmp(argv[i], "--frob") == 0/' \
    "$tmp/t/authkeys_cmd/keyfleet-authkeys.c"
expect_failure "an option added to keyfleet-authkeys.c" "option --frob (parsed by"

fresh_copy
sed -i 's/^#define EXIT_USAGE.*/&\n#define EXIT_FROB\t7/' "$tmp/t/authkeys_cmd/keyfleet-authkeys.c"
expect_failure "an exit status added to keyfleet-authkeys.c" "exit status 7 is not in EXIT STATUS"

a=$(pam_args "$top_srcdir" | tail -n 1)
fresh_copy
drop_tag "$tmp/t/man/pam_keyfleet.8" OPTIONS "$a" &&
    expect_failure "argument $a removed from pam_keyfleet.8" "argument $a (parsed by"

fresh_copy
sed -i 's/PAM_SESSION_ERR;/PAM_ABORT;/' "$tmp/t/pam_module/pam_keyfleet.c"
expect_failure "a new PAM result in pam_sm_open_session" "pam_sm_open_session can return PAM_ABORT"

s=$(map_symbols "$top_srcdir" | tail -n 1)
fresh_copy
sed -i "/^\.SH SYNOPSIS/,/^\.SH/{/$s/d}" "$tmp/t/man/libkeyfleet.3"
expect_failure "$s removed from the SYNOPSIS of libkeyfleet.3" "$s (exported by lib/libkeyfleet.map) is not in SYNOPSIS"

fresh_copy
sed -i 's/^global:$/&\n\tkf_frobnicate;/' "$tmp/t/lib/libkeyfleet.map"
expect_failure "a symbol added to lib/libkeyfleet.map" "kf_frobnicate (exported by lib/libkeyfleet.map) is not in SYNOPSIS"

fresh_copy
sed -i 's/^#define KF_ERR_NOMEM.*/&\n#define KF_ERR_FROB (-99)/' "$tmp/t/include/keyfleet.h"
expect_failure "an error code added to keyfleet.h" "KF_ERR_FROB (defined in include/keyfleet.h) is not documented"

o=$(sign_options "$top_srcdir" | tail -n 1)
fresh_copy
drop_tag "$tmp/t/man/keyfleet-sign.1" OPTIONS "$o" &&
    expect_failure "option $o removed from keyfleet-sign.1" "option $o (parsed by tools/keyfleet-sign)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
