#!/bin/sh
# A static Go program (tests/guest/go/goroutines.go, Debian's golang-go)
# under kiln: 1000 goroutines over four threads with locks and channels,
# a spinning goroutine preempted by SIGURG, a goroutine blocked in read,
# timers, and a nil dereference recovered as a panic; then the ways a Go
# program ends: panic() and os.Exit(2) both give status 2, and an
# unrecovered nil dereference gives 2 with the runtime's SIGSEGV report
# (si_code and si_addr as Linux fills them).  Each case runs natively
# first to validate it.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

GO_PROG=build/tests/go/goroutines
SUMMARY='^guest go-goroutines: [0-9]+ passed, 0 failed$'

check_begin "goroutines, preemption and signals"
need_file "$GO_PROG"
if [ -x "$GO_PROG" ]; then
	"$GO_PROG" >"$KILN_TEST_TMP/native" 2>&1 ||
		fail_because "natively the program fails (bad test): $(grep -m1 'not ok' "$KILN_TEST_TMP/native")"
	krun "$GO_PROG"
	want_status 0
	want_out "$SUMMARY"
	want_no_out '^not ok'
fi
check_end

for c in panic:'^panic: kiln test panic$' exit:'^go-goroutines: ending by exit$' \
	nil:'^\[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x[0-9a-f]+\]$'; do
	how=${c%%:*}
	re=${c#*:}
	check_begin "Go program ending by $how exits 2"
	need_file "$GO_PROG"
	krun "$GO_PROG" "$how"
	want_status 2
	want_out "$re"
	want_no_out 'still alive'
	check_end
done
