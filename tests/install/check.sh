#!/bin/sh
# check.sh: `cmake --install` of a configured, built tree puts every file where the configured
# paths say, and what it installed works: the tools answer from the installed data, the
# example configuration loads, the systemd unit names the installed files and passes
# `systemd-analyze verify` and `security` (when systemd-analyze exists).
#
#   check.sh BUILD SBINDIR BINDIR CONFDIR DATADIR UNITDIR SYSUSERSDIR DOCDIR
#
# The paths are the configured absolute ones (tests/CMakeLists.txt passes them). It installs
# with DESTDIR into a temporary directory rather than with --prefix: the unit's paths and
# credsyncd's default data directory are fixed when configuring, so only DESTDIR gives the
# layout they name, and it never writes outside the temporary directory, even for
# destinations outside the prefix (/etc when the prefix is /usr).
set -u

[ $# -eq 8 ] || { echo "usage: check.sh BUILD SBINDIR BINDIR CONFDIR DATADIR UNITDIR SYSUSERSDIR DOCDIR" >&2; exit 2; }
build=$1 sbindir=$2 bindir=$3 confdir=$4 datadir=$5 unitdir=$6 sysusersdir=$7 docdir=$8

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
	"$datadir/json/ack.schema.json" "$datadir/json/reject.schema.json" "$docdir/README.md"; do
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
	out=$(systemd-analyze verify "$dest/verify/credsyncd.service" 2>&1)
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
