#!/bin/sh
# check.sh: `cmake --install` of a configured, built tree puts every file where the configured
# paths say, and what it installed works: the tools answer from the installed data, the
# example configuration loads, the systemd unit names the installed files and passes
# `systemd-analyze verify` and `security` (when systemd-analyze exists).
#
#   check.sh BUILD SBINDIR BINDIR CONFDIR DATADIR UNITDIR SYSUSERSDIR DOCDIR MANDIR
#
# The paths are the configured absolute ones (tests/CMakeLists.txt passes them). It installs
# with DESTDIR into a temporary directory rather than with --prefix: the unit's paths and
# credsyncd's default data directory are fixed when configuring, so only DESTDIR gives the
# layout they name, and it never writes outside the temporary directory, even for
# destinations outside the prefix (/etc when the prefix is /usr).
set -u

[ $# -eq 9 ] || { echo "usage: check.sh BUILD SBINDIR BINDIR CONFDIR DATADIR UNITDIR SYSUSERSDIR DOCDIR MANDIR" >&2; exit 2; }
build=$1 sbindir=$2 bindir=$3 confdir=$4 datadir=$5 unitdir=$6 sysusersdir=$7 docdir=$8 mandir=$9

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "    $line"; done
}

dest=$(mktemp -d /tmp/credsync-install.XXXXXX) || exit 1
trap 'rm -rf "$dest"' EXIT INT TERM
# The tools must find the installed data, not the source tree's nor the test environment's.
unset CREDSYNC_SCHEMAS

if DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1; then
	ok "cmake --install"
else
	not_ok "cmake --install" "$(cat "$dest.log")"
fi
rm -f "$dest.log"

root=$dest
for f in "$sbindir/credsyncd" "$bindir/credsyncctl" \
	"$unitdir/credsyncd.service" "$sysusersdir/credsync.conf" "$confdir/credsyncd.conf.example" \
	"$datadir/sql/001_init.sql" "$datadir/sql/roles.sql" "$datadir/rules/seed-2024.rules" \
	"$datadir/rules/national-2026.rules" "$datadir/data/calendar-cn.txt" \
	"$datadir/data/lists.tsv" "$datadir/data/authorities.tsv" \
	"$datadir/json/event.schema.json" "$datadir/json/out.schema.json" \
	"$datadir/json/ack.schema.json" "$datadir/json/reject.schema.json" "$docdir/README.md" \
	"$docdir/DEPLOY.md" "$mandir/man8/credsyncd.8" "$mandir/man1/credsyncctl.1" \
	"$mandir/man5/credsyncd.conf.5"; do
	if [ -f "$root$f" ]; then ok "installed $f"; else not_ok "installed $f" "missing"; fi
done
for f in "$sbindir/credsyncd" "$bindir/credsyncctl"; do
	if [ -x "$root$f" ]; then ok "executable $f"; else not_ok "executable $f"; fi
done
# The development broker is a test tool, not a product program.
for f in "$sbindir/credsync-devbroker" "$bindir/credsync-devbroker"; do
	if [ -e "$root$f" ]; then not_ok "not installed: $f" "present"; else ok "not installed: $f"; fi
done

# The installed tools answer from the installed data. credsyncd's compiled-in data directory
# is the configured one ($datadir), which exists only under $root: point them at it.
ctl=$root$bindir/credsyncctl
data=$root$datadir
expect() { # NAME WANT COMMAND...: COMMAND exits 0 and prints WANT
	name=$1 want=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ "$out" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, want 0" "got:  $out" "want: $want"
	fi
}
expect "credsyncctl uscc" "91350100M000100Y43: valid" \
	env CREDSYNC_SCHEMAS="$data" "$ctl" uscc 91350100M000100Y43
# 2024-09-30 is followed by the National Day holiday: the installed calendar says so
expect "credsyncctl due (installed calendar)" \
	"due 2024-10-08 (received 2024-09-30 Beijing, 1 working day)" \
	env CREDSYNC_SCHEMAS="$data" "$ctl" due --received 2024-09-30T17:00:00+08:00
out=$(env CREDSYNC_SCHEMAS="$data" "$ctl" periods --decided-on 2024-05-06 --categories fine \
	--fine-yuan 200000 --producer nm-tax 2>&1)
case $out in
*"repairable from:  2024-08-07"*"disclose until:   2027-05-06"*) ok "credsyncctl periods (installed rules)" ;;
*) not_ok "credsyncctl periods (installed rules)" "$out" ;;
esac
# and without that data it fails: the answers above did come from $data
if env CREDSYNC_SCHEMAS="$dest/none" "$ctl" due --received 2024-09-30T17:00:00+08:00 >/dev/null 2>&1; then
	not_ok "credsyncctl reads CREDSYNC_SCHEMAS" "it answered without data"
else
	ok "credsyncctl reads CREDSYNC_SCHEMAS"
fi
expect "credsyncd --version" "credsyncd $(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")" \
	"$root$sbindir/credsyncd" --version
out=$(env CREDSYNC_SCHEMAS="$data" "$root$sbindir/credsyncd" -c "$root$confdir/credsyncd.conf.example" --check 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -qxF "data.dir = $data # (default)"; then
	ok "credsyncd --check loads the installed example"
else
	not_ok "credsyncd --check loads the installed example" "$out"
fi

# The example names this prefix's data directory, not another's.
if grep -qxF "#data.dir = $datadir" "$root$confdir/credsyncd.conf.example"; then
	ok "the example's data.dir is $datadir"
else
	not_ok "the example's data.dir is $datadir" \
		"got: $(grep 'data.dir =' "$root$confdir/credsyncd.conf.example")"
fi

# Installed programs know only installed paths: without CREDSYNC_SCHEMAS and with nothing at
# $datadir (it is staged under $root), they name $datadir, never the source tree.
src=$(sed -n 's/^credsync_SOURCE_DIR:STATIC=//p' "$build/CMakeCache.txt")
if [ -d "$datadir/rules" ]; then
	echo "# $datadir exists on this host: the no-fallback checks below read it"
fi
out=$("$root$sbindir/credsyncd" -c "$root$confdir/credsyncd.conf.example" --check 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -qxF "data.dir = $datadir # (default)"; then
	ok "credsyncd --check shows the installed data.dir without CREDSYNC_SCHEMAS"
else
	not_ok "credsyncd --check shows the installed data.dir without CREDSYNC_SCHEMAS" "$out"
fi
if [ ! -d "$datadir/rules" ]; then
	out=$("$ctl" due --received 2024-09-30T17:00:00+08:00 2>&1)
	rc=$?
	case $rc:$out in
	0:*) not_ok "credsyncctl without installed data fails" "it answered: $out" ;;
	*"$src"*) not_ok "credsyncctl without installed data names no source path" "$out" ;;
	*"$datadir"*) ok "credsyncctl without installed data names $datadir" ;;
	*) not_ok "credsyncctl without installed data names $datadir" "$out" ;;
	esac
fi

# With the source tree (and the build tree in it) hidden and the staged data mounted where
# it is installed, in a private mount namespace: the installed programs work on their own.
if unshare -rm true 2>/dev/null && [ -d "$(dirname "$datadir")" ] && [ -n "$src" ]; then
	out=$(unshare -rm sh -c '
		src=$1 data=$2 datadir=$3 ctl=$4 credsyncd=$5 example=$6
		mount -t tmpfs none "$src" || exit 90
		[ -z "$(ls -A "$src")" ] || exit 91
		mount --bind "$(dirname "$data")" "$(dirname "$datadir")" || exit 92
		"$ctl" due --received 2024-09-30T17:00:00+08:00 || exit 93
		"$credsyncd" -c "$example" --check | grep -xF "data.dir = $datadir # (default)" || exit 94
	' sh "$src" "$data" "$datadir" "$ctl" "$root$sbindir/credsyncd" \
		"$root$confdir/credsyncd.conf.example" 2>&1)
	rc=$?
	want="due 2024-10-08 (received 2024-09-30 Beijing, 1 working day)
data.dir = $datadir # (default)"
	if [ $rc -eq 0 ] && [ "$out" = "$want" ]; then
		ok "installed programs work with the source tree hidden"
	else
		not_ok "installed programs work with the source tree hidden" "exit $rc" "$out"
	fi
else
	echo "# unshare -rm is not available: the source tree was not hidden"
fi

# The manual pages: clean for mandoc's linter, and credsyncd.conf(5) gives every key with the
# default the installed credsyncd --check shows (both come from one table).
for page in man8/credsyncd.8 man1/credsyncctl.1 man5/credsyncd.conf.5; do
	out=$(mandoc -T lint -W warning "$root$mandir/$page" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		ok "mandoc -T lint $page"
	else
		not_ok "mandoc -T lint $page" "$out"
	fi
done
conf5=$root$mandir/man5/credsyncd.conf.5
defaults=$(env CREDSYNC_SCHEMAS= "$root$sbindir/credsyncd" -c "$root$confdir/credsyncd.conf.example" --check 2>/dev/null |
	sed -n 's/^\([a-z0-9._]*\) = \(.*\) # (default)$/\1 \2/p')
[ -n "$defaults" ] || not_ok "credsyncd --check lists defaults" "none"
missing=$(echo "$defaults" | while read -r key value; do
	# the page writes '-' as '\-'; awk -v reads backslash escapes, so each is doubled
	v=$(printf '%s' "$value" | sed 's/-/\\\\-/g')
	awk -v key=".B $key" -v want="Default: \\\\fB$v\\\\fR." '
		$0 == key { inkey = 1; next }
		/^\.TP/ { inkey = 0 }
		inkey && $0 == want { found = 1 }
		END { exit !found }' "$conf5" || echo "$key = $value"
done)
if [ -n "$defaults" ] && [ -z "$missing" ]; then
	ok "credsyncd.conf(5) gives every default --check shows"
else
	not_ok "credsyncd.conf(5) gives every default --check shows" "missing or different: $missing"
fi
keys=$(env CREDSYNC_SCHEMAS= "$root$sbindir/credsyncd" -c "$root$confdir/credsyncd.conf.example" --check 2>/dev/null |
	sed -n 's/^\([a-z0-9._]*\) = .*/\1/p' | grep -v '^kafka\.\(security\|ssl\|sasl\)')
nokey=$(for k in $keys; do grep -qxF ".B $k" "$conf5" || echo "$k"; done)
if [ -n "$keys" ] && [ -z "$nokey" ]; then
	ok "credsyncd.conf(5) lists every key"
else
	not_ok "credsyncd.conf(5) lists every key" "missing: $nokey"
fi

# The unit names the installed paths.
unit=$root$unitdir/credsyncd.service
want="ExecStart=$sbindir/credsyncd -c $confdir/credsyncd.conf"
if grep -qxF "$want" "$unit" 2>/dev/null; then
	ok "unit ExecStart names the installed files"
else
	not_ok "unit ExecStart names the installed files" "want: $want" "got:  $(grep '^ExecStart=' "$unit" 2>/dev/null)"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify needs the binary that ExecStart names to exist: check a copy of the unit that
	# names the staged one (--root would need the host's units and /bin/kill under $root).
	mkdir -p "$dest/verify"
	sed "s|^ExecStart=$sbindir/|ExecStart=$root$sbindir/|" "$unit" >"$dest/verify/credsyncd.service"
	# Documentation=man:... is checked with man(1): let it find the staged pages
	out=$(MANPATH=$root$mandir systemd-analyze verify "$dest/verify/credsyncd.service" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		ok "systemd-analyze verify"
	else
		not_ok "systemd-analyze verify" "$out"
	fi
	out=$(systemd-analyze security --offline=true "$unit" 2>&1)
	level=$(echo "$out" | sed -n 's/.*Overall exposure level for credsyncd.service: \([0-9.]*\).*/\1/p')
	if [ -n "$level" ] && awk "BEGIN { exit !($level <= 2.0) }"; then
		ok "systemd-analyze security: exposure $level <= 2.0"
	else
		not_ok "systemd-analyze security: exposure ${level:-unknown} <= 2.0" "$(echo "$out" | grep '✗')"
	fi
else
	echo "# systemd-analyze not found: the unit was not verified"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
