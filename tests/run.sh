#!/bin/sh
# The test runner: `make test` calls it after building everything.  Tiers,
# in order:
#   unit/NAME          hosted unit tests listed in build/tests/unit-tests.list
#   host/LINK/NAME     each guest program run natively (validates the test)
#   kiln/LINK/NAME     each guest program under `kiln run` (default
#                      hypervisor: kiln-vmm, or QEMU/TCG without /dev/kvm)
#   qemu/LINK/NAME     the same with --hypervisor qemu: every program when
#                      /dev/kvm exists, else a subset (both tiers would be
#                      QEMU/TCG, and TCG is slow)
#   e2e/SCENARIO: ...  the scenarios in tests/e2e/*.sh, several checks each
# LINK is static (musl-gcc), dynamic (gcc/glibc) or static-pie (gcc/glibc).
# Guest programs are the tests/guest/*.c that include "tap.h"; each prints
# "ok"/"not ok" lines and "guest NAME: N passed, M failed".
#
# Every test prints "PASS name" or "FAIL name (why)", with its output in
# build/tests/logs/NAME.log and the last 20 lines shown on failure.  The
# last line is "N passed, M failed"; the exit status is 0 iff M is 0.
#
# Usage: tests/run.sh [PATTERN...]   run only tests whose name contains a
#                                    PATTERN (e.g. kiln/static/files, e2e/crash)
# Environment: KILN (the CLI, default build/kiln), KILN_TEST_TIMEOUT
# (seconds per guest run, default 120), KILN_TEST_QEMU=full|subset|none,
# KILN_TEST_QEMU_SUBSET (programs of the subset, default "args_env files").
set -u

KILN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export KILN_ROOT
# One results file per run (several runs may share build/, e.g. two
# developers' `make test`); the last finished run's is kept as
# build/tests/results.
mkdir -p "$KILN_ROOT/build/tests"
KILN_TEST_RESULTS=$(mktemp "$KILN_ROOT/build/tests/results.XXXXXX")
export KILN_TEST_RESULTS
# shellcheck source=tests/lib.sh
. "$KILN_ROOT/tests/lib.sh"
export KILN KILN_TEST_TIMEOUT
trap 'rm -rf "$KILN_TEST_TMP" "$KILN_TEST_RESULTS"' EXIT

case "${1:-}" in
-h | --help)
	sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac
PATTERNS="$*"

# selected NAME: run this test?  Yes with no patterns, or when NAME contains
# a pattern, or a pattern starts with NAME (e2e/crash: ... selects e2e/crash).
selected() {
	[ -z "$PATTERNS" ] && return 0
	for pat in $PATTERNS; do
		case "$1" in *"$pat"*) return 0 ;; esac
		case "$pat" in "$1"*) return 0 ;; esac
	done
	return 1
}

T0=$(date +%s)
if have_kvm; then
	HV_DEFAULT="kiln-vmm (KVM)"
	QEMU_MODE=${KILN_TEST_QEMU:-full}
	QEMU_ACCEL="KVM"
else
	HV_DEFAULT="QEMU/TCG fallback, no /dev/kvm"
	QEMU_MODE=${KILN_TEST_QEMU:-subset}
	QEMU_ACCEL="TCG, no /dev/kvm"
fi
QEMU_SUBSET=${KILN_TEST_QEMU_SUBSET:-args_env files}

# Unit tests ---------------------------------------------------------------

run_unit_tests() {
	list=$KILN_TEST_OUT/unit-tests.list
	if [ ! -f "$list" ]; then
		selected unit/ &&
			test_fail unit "${list#"$KILN_ROOT"/} missing (run make)"
		return 0
	fi
	while IFS= read -r t; do
		[ -n "$t" ] || continue
		name=unit/$(basename "$t")
		selected "$name" || continue
		log=$(log_path "$name")
		mkdir -p "$(dirname "$log")"
		if [ ! -x "$t" ]; then
			test_fail "$name" "$t not built (run make)"
			continue
		fi
		run_limited "$KILN_TEST_TIMEOUT" "$log" = "$t"
		if [ "$RUN_HUNG" -eq 1 ]; then
			test_fail "$name" "hung: killed after $KILN_TEST_TIMEOUT s" "$log"
		elif [ "$RUN_STATUS" -ne 0 ]; then
			test_fail "$name" "status $RUN_STATUS" "$log"
		else
			test_pass "$name"
		fi
	done <"$list"
}

# Guest programs -------------------------------------------------------------

# run_guest MODE LINK NAME: one guest program natively (host), under kiln
# run (kiln) or under kiln run --hypervisor qemu (qemu).
run_guest() {
	mode=$1
	link=$2
	prog=$3
	name=$mode/$link/$prog
	selected "$name" || return 0
	bin=$GUEST/$link/$prog
	log=$(log_path "$name")
	mkdir -p "$(dirname "$log")"
	if [ ! -x "$bin" ]; then
		test_fail "$name" "$bin not built (run make)"
		return 0
	fi
	opts=$(guest_marker "$prog" kiln-run-opts)
	args=$(guest_marker "$prog" kiln-run-args)
	set -f # the markers are split into words, never globbed
	case $mode in
	host)
		nargs=$(guest_marker "$prog" native-run-args)
		[ -n "$nargs" ] || nargs=$args
		# -e K=V becomes the environment; --file has no native
		# equivalent (native-run-args names the host file instead).
		# shellcheck disable=SC2086 # words, on purpose
		envs=$(printf '%s\n' $opts | sed -n '/^-e$/{n;p;}')
		# shellcheck disable=SC2086
		set -- env $envs "$bin" $nargs
		;;
	kiln | qemu)
		if [ ! -x "$KILN" ]; then
			set +f
			test_fail "$name" "${KILN#"$KILN_ROOT"/} not built (run make)"
			return 0
		fi
		hv=""
		[ "$mode" = qemu ] && hv="--hypervisor qemu"
		# shellcheck disable=SC2086
		set -- "$KILN" run $hv $opts "$bin" $args
		;;
	esac
	set +f
	out=$KILN_TEST_TMP/guest.out
	run_limited "$KILN_TEST_TIMEOUT" "$out" = "$@"
	{
		echo "\$ $*"
		echo "status $RUN_STATUS"
		cat "$out"
	} >"$log"
	clean=$KILN_TEST_TMP/guest.clean
	tr -d '\r' <"$out" >"$clean"
	summary=$(grep -a -E "^guest $prog: [0-9]+ passed, [0-9]+ failed$" \
		"$clean" | tail -n 1)
	nfail=$(printf '%s\n' "$summary" | sed -n 's/.*passed, \([0-9]*\) failed$/\1/p')
	first=$(grep -a -m 1 '^not ok - ' "$clean" | cut -c 10-130)
	if [ "$RUN_HUNG" -eq 1 ]; then
		test_fail "$name" "hung: killed after $KILN_TEST_TIMEOUT s" "$log"
	elif [ -z "$summary" ]; then
		test_fail "$name" "no summary line, status $RUN_STATUS${first:+; first failure: $first}" "$log"
	elif [ "$nfail" -ne 0 ]; then
		test_fail "$name" "$nfail checks failed; first: $first" "$log"
	elif [ "$RUN_STATUS" -ne 0 ]; then
		test_fail "$name" "status $RUN_STATUS, want 0" "$log"
	else
		test_pass "$name"
	fi
}

run_guests() {
	mode=$1
	names=$2
	for prog in $names; do
		for link in static dynamic static-pie; do
			run_guest "$mode" "$link" "$prog"
		done
	done
}

# End-to-end scenarios -------------------------------------------------------

run_scenarios() {
	for script in tests/e2e/*.sh; do
		[ -f "$script" ] || continue
		sname=e2e/$(basename "$script" .sh)
		selected "$sname" || continue
		before=$(wc -l <"$KILN_TEST_RESULTS")
		sh "$script"
		st=$?
		after=$(wc -l <"$KILN_TEST_RESULTS")
		if [ "$st" -ne 0 ]; then
			test_fail "$sname" "script exited with status $st"
		elif [ "$after" -eq "$before" ]; then
			test_fail "$sname" "no checks ran"
		fi
	done
}

# Main -------------------------------------------------------------------------

echo "kiln tests: ${KILN#"$KILN_ROOT"/}; default hypervisor: $HV_DEFAULT;" \
	"QEMU pass: $QEMU_MODE ($QEMU_ACCEL)"
[ -x "$KILN" ] || echo "note: ${KILN#"$KILN_ROOT"/} is not built: every kiln run fails"

echo "== unit tests"
run_unit_tests
# STYLE.md: the tree follows .clang-format, and that is checked.
if selected style/clang-format; then
	log=$(log_path style/clang-format)
	mkdir -p "$(dirname "$log")"
	if ! command -v clang-format >/dev/null 2>&1; then
		test_fail style/clang-format "clang-format not installed (scripts/deps.sh)"
	elif ! git -C "$KILN_ROOT" rev-parse >/dev/null 2>&1; then
		test_fail style/clang-format "not a git checkout: no list of files to check"
	elif (cd "$KILN_ROOT" && git ls-files '*.c' '*.h' |
		xargs -r clang-format --dry-run --Werror) >"$log" 2>&1; then
		test_pass style/clang-format
	else
		test_fail style/clang-format "files differ from .clang-format (run: make format)" "$log"
	fi
fi
ALL_GUESTS=$(guest_names)
echo "== guest programs on the host (validates the tests)"
run_guests host "$ALL_GUESTS"
echo "== guest programs under kiln run ($HV_DEFAULT)"
run_guests kiln "$ALL_GUESTS"
case $QEMU_MODE in
full)
	echo "== guest programs under kiln run --hypervisor qemu ($QEMU_ACCEL)"
	run_guests qemu "$ALL_GUESTS"
	;;
subset)
	echo "== guest programs under kiln run --hypervisor qemu ($QEMU_ACCEL," \
		"subset: $QEMU_SUBSET)"
	run_guests qemu "$QEMU_SUBSET"
	;;
*)
	echo "== QEMU pass skipped (KILN_TEST_QEMU=$QEMU_MODE)"
	;;
esac
echo "== end-to-end scenarios"
run_scenarios

echo "tests took $(($(date +%s) - T0)) s; logs in build/tests/logs/"
cp "$KILN_TEST_RESULTS" "$KILN_TEST_OUT/results"
test_summary
