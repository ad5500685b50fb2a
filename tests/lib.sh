# Shared shell functions for tests/run.sh and the scenarios in tests/e2e/.
# POSIX sh (Debian's dash runs it).  Sourced, never executed.
#
# Results: every test ends with one line "PASS name" or "FAIL name (why)"
# on stdout, appended also to $KILN_TEST_RESULTS, which tests/run.sh counts.
# A scenario run on its own (sh tests/e2e/x.sh) gets a results file of its
# own and prints the "N passed, M failed" summary itself (test_summary).
#
# A check in a scenario is one or more `kiln run`s and assertions:
#   check_begin "exit status 42"
#   krun build/tests/guest/static/exit_code 42   # kiln run ARGS, captured
#   want_status 42
#   want_out 'exiting with 42'                    # regex on the output
#   check_end
# Failed assertions collect reasons; check_end prints PASS or FAIL, saves
# the commands and their output to build/tests/logs/NAME.log and shows its
# last 20 lines on failure.

# The caller sets KILN_ROOT (the repository) before sourcing this file.
cd "$KILN_ROOT" || exit 2
KILN=${KILN:-$KILN_ROOT/build/kiln}
KILN_TEST_OUT=${KILN_TEST_OUT:-$KILN_ROOT/build/tests}
KILN_TEST_LOGS=$KILN_TEST_OUT/logs
# Seconds before a guest run counts as hung (TCG boots take 1-3 s).
KILN_TEST_TIMEOUT=${KILN_TEST_TIMEOUT:-120}
KVM_NOTICE='kiln: /dev/kvm not available, using QEMU without KVM (slow)'
# Used by the scenarios that source this file.
# shellcheck disable=SC2034
GUEST=build/tests/guest
# shellcheck disable=SC2034
FIXTURES=build/tests/fixtures

if [ -z "${KILN_TEST_RESULTS:-}" ]; then
	mkdir -p "$KILN_TEST_OUT"
	KILN_TEST_RESULTS=$(mktemp "$KILN_TEST_OUT/results.XXXXXX")
	KILN_TEST_OWN_RESULTS=1
	export KILN_TEST_RESULTS
fi

# Scratch directory for the caller, removed at exit.  A scenario run on its
# own prints its summary at exit and exits 0 only if all its checks passed.
KILN_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kiln-test.XXXXXX")
lib_exit() {
	st=$?
	rm -rf "$KILN_TEST_TMP"
	if [ -n "${KILN_TEST_OWN_RESULTS:-}" ] && [ -f "$KILN_TEST_RESULTS" ]; then
		test_summary
		st=$?
	fi
	exit $st
}
trap lib_exit EXIT
trap 'exit 130' INT TERM

have_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

# log_path NAME: the log file of a test (its name made filesystem-safe).
log_path() {
	printf '%s/%s.log' "$KILN_TEST_LOGS" \
		"$(printf '%s' "$1" | tr -c 'A-Za-z0-9._/-' '_')"
}

# test_pass NAME / test_fail NAME REASON [LOG]: record one verdict.
test_pass() {
	echo "PASS $1" >>"$KILN_TEST_RESULTS"
	echo "PASS $1"
}

test_fail() {
	echo "FAIL $1 ($2)" >>"$KILN_TEST_RESULTS"
	echo "FAIL $1 ($2)"
	if [ -n "${3:-}" ] && [ -s "$3" ]; then
		echo "     --- last 20 lines of ${3#"$KILN_ROOT"/} ---"
		tail -n 20 "$3" | sed 's/^/     | /'
	fi
}

# test_summary: counts the results file; prints "N passed, M failed" as the
# last line; returns 0 iff nothing failed.
test_summary() {
	p=$(grep -c '^PASS ' "$KILN_TEST_RESULTS")
	f=$(grep -c '^FAIL ' "$KILN_TEST_RESULTS")
	if [ "$f" -gt 0 ]; then
		echo
		echo "failed:"
		grep '^FAIL ' "$KILN_TEST_RESULTS" | sed 's/^FAIL /  /'
	fi
	[ -n "${KILN_TEST_OWN_RESULTS:-}" ] && rm -f "$KILN_TEST_RESULTS"
	echo "$p passed, $f failed"
	[ "$f" -eq 0 ]
}

# run_limited LIMIT OUT ERR CMD...: runs CMD with stdin from /dev/null,
# stdout and stderr to files (ERR "=" means both to OUT), killed (with its
# whole process group, so a QEMU child goes too) after LIMIT seconds.
# Sets RUN_STATUS and RUN_HUNG (1 if the limit was hit: timeout's own 124
# is told apart from kiln's KILN_EXIT_TIMEOUT 124 by the time taken).
run_limited() {
	limit=$1
	out=$2
	err=$3
	shift 3
	start=$(date +%s)
	if [ "$err" = "=" ]; then
		timeout -k 10 "$limit" "$@" <"/dev/null" >"$out" 2>&1
	else
		timeout -k 10 "$limit" "$@" <"/dev/null" >"$out" 2>"$err"
	fi
	RUN_STATUS=$?
	RUN_HUNG=0
	if [ "$RUN_STATUS" -eq 124 ] || [ "$RUN_STATUS" -eq 137 ]; then
		[ $(($(date +%s) - start)) -ge "$limit" ] && RUN_HUNG=1
	fi
	return 0
}

# Scenario checks ---------------------------------------------------------

# The scenario's name: e2e/FILE without .sh.
SCENARIO=e2e/$(basename "$0" .sh)

check_begin() {
	CHECK_NAME="$SCENARIO: $1"
	CHECK_WHY=""
	CHECK_FATAL=""
	CHECK_LOG=$(log_path "$SCENARIO/$(printf '%s' "$1" | tr '/' '_')")
	mkdir -p "$(dirname "$CHECK_LOG")"
	: >"$CHECK_LOG"
	KOUT=$KILN_TEST_TMP/out
	KERR=$KILN_TEST_TMP/err
	: >"$KOUT"
	: >"$KERR"
	KST=0
}

# fail_because REASON: an assertion failed (the first reason is shown).
fail_because() {
	echo "ASSERTION FAILED: $1" >>"$CHECK_LOG"
	# After "kiln not built" or a hang, further reasons are only noise.
	[ -n "$CHECK_FATAL" ] && return 0
	if [ -z "$CHECK_WHY" ]; then
		CHECK_WHY=$1
	else
		CHECK_WHY="$CHECK_WHY; $1"
	fi
}

# krun ARGS...: `kiln run ARGS` with the time limit; output in $KOUT and
# $KERR (carriage returns removed), status in $KST; all logged.
krun() {
	krun_limit "$KILN_TEST_TIMEOUT" "$@"
}

# krun_limit SECONDS ARGS...: krun with another limit (bad input: 60).
krun_limit() {
	limit=$1
	shift
	echo "\$ kiln run $*" >>"$CHECK_LOG"
	if [ ! -x "$KILN" ]; then
		KST=127
		: >"$KOUT"
		echo "kiln not built: $KILN" >"$KERR"
		fail_because "${KILN#"$KILN_ROOT"/} not built"
		CHECK_FATAL=1
		return 0
	fi
	run_logged "$limit" "$KILN" run "$@"
}

# run_logged LIMIT CMD...: runs CMD for a check (stdin /dev/null, killed
# after LIMIT s); output in $KOUT and $KERR (carriage returns removed),
# status in $KST, everything in the check's log; a hang fails the check.
run_logged() {
	limit=$1
	shift
	run_limited "$limit" "$KOUT.raw" "$KERR.raw" "$@"
	KST=$RUN_STATUS
	tr -d '\r' <"$KOUT.raw" >"$KOUT"
	tr -d '\r' <"$KERR.raw" >"$KERR"
	{
		echo "status $KST"
		echo "--- stdout"
		cat "$KOUT"
		echo "--- stderr"
		cat "$KERR"
		echo "---"
	} >>"$CHECK_LOG"
	if [ "$RUN_HUNG" -eq 1 ]; then
		fail_because "hung: killed after $limit s"
		CHECK_FATAL=1
	fi
	return 0
}

# qemu_direct KERNEL INITRD CMDLINE: boots a kernel on QEMU microvm the way
# PLATFORM.md describes (KVM if usable, else TCG), console on stdout, exit
# through isa-debug-exit (status (v << 1) | 1); like krun otherwise.
qemu_direct() {
	accel="-accel tcg -cpu max"
	have_kvm && accel="-accel kvm -cpu max,-arch-capabilities"
	echo "\$ qemu-system-x86_64 -M microvm ... -kernel $1 -append '$3'" \
		>>"$CHECK_LOG"
	# shellcheck disable=SC2086
	run_logged "$KILN_TEST_TIMEOUT" \
		qemu-system-x86_64 -M microvm,acpi=off $accel -m 64M \
		-nodefaults -no-user-config -nographic -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel "$1" ${2:+-initrd "$2"} -append "console=ttyS0 $3"
}

# want_status N: the last krun exited with N.
want_status() {
	[ "$KST" -eq "$1" ] || fail_because "status $KST, want $1"
}

# Both streams, without kiln's /dev/kvm notice: what the program and the
# kernel said (the guest has one console, so they share kiln's stdout).
said() {
	cat "$KOUT" "$KERR" | grep -a -v -x -F "$KVM_NOTICE"
}

# want_out REGEX [WHAT]: some output line matches the extended regex.
want_out() {
	said | grep -a -q -E -e "$1" ||
		fail_because "no output line matches '$1'${2:+ ($2)}"
}

# want_no_out REGEX: no output line matches.
want_no_out() {
	if said | grep -a -q -E -e "$1"; then
		fail_because "output has a line matching '$1'"
	fi
}

# want_count REGEX N: exactly N output lines match.
want_count() {
	n=$(said | grep -a -c -E -e "$1")
	[ "$n" -eq "$2" ] ||
		fail_because "$n lines match '$1', want $2"
}

# want_stdout_exact TEXT: stdout, minus lines the kernel logs ("kiln: "),
# is exactly TEXT plus a newline, byte for byte.
want_stdout_exact() {
	printf '%s\n' "$1" >"$KILN_TEST_TMP/want"
	grep -a -v '^kiln: ' "$KOUT.raw" >"$KILN_TEST_TMP/got"
	cmp -s "$KILN_TEST_TMP/want" "$KILN_TEST_TMP/got" ||
		fail_because "stdout is '$(od -An -c "$KILN_TEST_TMP/got" |
			tr -s ' \n' ' ' | cut -c1-80)', want '$1\\n'"
}

# want_one_error REGEX: a clear one-line error: all output (both streams,
# minus the /dev/kvm notice) is one line, it starts with "kiln", and it
# matches REGEX (extended, case-insensitive).
want_one_error() {
	said | grep -a -v '^[[:space:]]*$' >"$KILN_TEST_TMP/said"
	n=$(wc -l <"$KILN_TEST_TMP/said")
	line=$(head -n 1 "$KILN_TEST_TMP/said")
	if [ "$n" -ne 1 ]; then
		fail_because "$n lines of output, want one error line"
	elif ! printf '%s\n' "$line" | grep -q '^kiln'; then
		fail_because "error line does not start with 'kiln': '$line'"
	elif ! printf '%s\n' "$line" | grep -a -q -i -E -e "$1"; then
		fail_because "error line does not match '$1': '$line'"
	fi
}

# want_hello_runs: the host and kiln still work: static hello boots and
# prints its line (run after every failure case).
want_hello_runs() {
	krun "$GUEST/static/hello"
	if [ "$KST" -ne 0 ] || ! grep -q -x 'hello from kiln' "$KOUT"; then
		fail_because "hello no longer runs afterwards (status $KST)"
	fi
}

check_end() {
	if [ -z "$CHECK_WHY" ]; then
		test_pass "$CHECK_NAME"
	else
		test_fail "$CHECK_NAME" "$CHECK_WHY" "$CHECK_LOG"
	fi
}

# need_file PATH: a fixture or guest program must exist (else the check
# fails saying what to build).
need_file() {
	[ -e "$1" ] || fail_because "$1 missing (run make)"
}

# netns_with_tap NS TAP HOST_IP: creates network namespace NS with lo up and
# tap TAP holding HOST_IP/24 (the host side of a guest's link).  On failure
# records why as a FAIL and returns 1; the caller removes NS at exit.
netns_with_tap() {
	if ! ip netns add "$1" 2>/dev/null; then
		test_fail "$SCENARIO: network namespace" "cannot create a network namespace (need root)"
		return 1
	fi
	if ! { ip -n "$1" link set lo up &&
		ip -n "$1" tuntap add dev "$2" mode tap &&
		ip -n "$1" addr add "$3/24" dev "$2" &&
		ip -n "$1" link set "$2" up; }; then
		test_fail "$SCENARIO: tap" "cannot set up tap '$2' in namespace '$1'"
		return 1
	fi
}

# host_run LIMIT CMD...: CMD in the namespace $NS (a client of the guest);
# output in $KOUT, status in $KST, both in the check's log.
host_run() {
	limit=$1
	shift
	echo "\$ ip netns exec $NS $*" >>"$CHECK_LOG"
	run_limited "$limit" "$KOUT" "$KERR" ip netns exec "$NS" "$@"
	KST=$RUN_STATUS
	cat "$KOUT" "$KERR" >>"$CHECK_LOG"
}

# want_downloads N URL FILE: N clients at once in $NS download URL, and
# every copy is byte for byte FILE (sha256).
want_downloads() {
	rm -rf "$KILN_TEST_TMP/par"
	mkdir -p "$KILN_TEST_TMP/par"
	host_run 300 sh -c "seq $1 | xargs -P $1 -I{} curl -sS -m 250 \
		-o '$KILN_TEST_TMP/par/{}' '$2'"
	want_status 0
	want=$(sha256sum <"$3")
	good=0
	for i in $(seq "$1"); do
		[ "$(sha256sum <"$KILN_TEST_TMP/par/$i" 2>/dev/null)" = "$want" ] &&
			good=$((good + 1))
	done
	[ "$good" -eq "$1" ] || fail_because "$good of $1 downloads intact"
}

# A scenario with a server in a guest started in the background (its pid
# in GUEST_PID, its output in GUEST_OUT) on a tap in the namespace $NS
# sets `trap netns_exit EXIT`: the guest and the namespace go whatever
# happens.
GUEST_PID=""
GUEST_ST=""

# guest_stop: ends the background guest (timeout(1) passes TERM on to
# kiln and QEMU) and sets GUEST_ST to its status.
guest_stop() {
	GUEST_ST=""
	[ -n "$GUEST_PID" ] || return 0
	kill -TERM "$GUEST_PID" 2>/dev/null
	wait "$GUEST_PID" 2>/dev/null
	# shellcheck disable=SC2034 # read by the scenarios
	GUEST_ST=$?
	GUEST_PID=""
}

# guest_wait_http URL: waits (at most 60 s) until URL answers from the
# namespace $NS; false if the guest exits first or the time runs out.
guest_wait_http() {
	n=0
	while [ $n -lt 120 ] && kill -0 "$GUEST_PID" 2>/dev/null; do
		ip netns exec "$NS" curl -s -m 2 -o /dev/null "$1" && return 0
		sleep 0.5
		n=$((n + 1))
	done
	return 1
}

# guest_wait_for REGEX SECONDS: waits until the guest prints a line
# matching REGEX; false if it exits or the time runs out first.
guest_wait_for() {
	end=$(($(date +%s) + $2))
	# shellcheck disable=SC2153 # GUEST_OUT is the scenario's
	while [ "$(date +%s)" -lt "$end" ]; do
		tr -d '\r' <"$GUEST_OUT" | grep -q -E -e "$1" && return 0
		kill -0 "$GUEST_PID" 2>/dev/null || break
		sleep 0.2
	done
	tr -d '\r' <"$GUEST_OUT" | grep -q -E -e "$1"
}

# netns_exit: the EXIT trap of those scenarios: stops the guest, removes
# $NS, then lets lib_exit see the scenario's own status.
netns_exit() {
	netns_st=$?
	guest_stop
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	(exit "$netns_st")
	lib_exit
}

# nested_case_check LOG CASE NAME: the verdict a nested-KVM guest script
# (tests/nested/*_guest.sh) printed for CASE in LOG, "case CASE ok" or
# "case CASE FAIL (why)", as the check NAME; no line is a failure.
nested_case_check() {
	if grep -a -q "^case $2 ok\$" "$1"; then
		test_pass "$SCENARIO: $3"
	else
		why=$(grep -a "^case $2 FAIL" "$1" | head -n 1 | sed 's/^case [^ ]* FAIL //')
		test_fail "$SCENARIO: $3" "${why:-no result (nested status $RUN_STATUS)}" "$1"
	fi
}

# Guest programs ---------------------------------------------------------

# guest_names: the guest test programs (tests/guest/*.c using tap.h).
guest_names() {
	grep -l '^#include "tap.h"' tests/guest/*.c 2>/dev/null |
		sed 's|.*/||; s|\.c$||' | sort
}

# guest_marker NAME KEY: the value of "KEY: ..." in tests/guest/NAME.c.
guest_marker() {
	sed -n "s/^.*$2: *//p" "tests/guest/$1.c" | head -n 1
}
