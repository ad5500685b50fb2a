#!/bin/sh
# The vDSO from the outside (tests/guest/vdso.c checks it from inside on
# every link): Go's runtime finds it and reads the clock without syscalls
# (tests/guest/go/clock.go, natively first to validate it); with the
# kernel word kiln.novdso there is no vDSO, libc's clock reads become
# syscalls and still work, and the Go program's no-syscall check fails,
# which shows that check can fail.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

GO_PROG=build/tests/go/clock

check_begin "Go time.Now through the vDSO, no clock_gettime syscalls"
need_file "$GO_PROG"
if [ -x "$GO_PROG" ]; then
	"$GO_PROG" >"$KILN_TEST_TMP/native" 2>&1 ||
		fail_because "natively the program fails (bad test): $(grep -m1 'not ok' "$KILN_TEST_TMP/native")"
	krun "$GO_PROG"
	want_status 0
	want_out '^ok - 100000 time.Now make no clock_gettime syscall \(0 made\)$'
	want_out '^guest go-clock: [0-9]+ passed, 0 failed$'
	want_no_out '^not ok'
fi
check_end

for link in static dynamic; do
	check_begin "$link kiln.novdso: no vDSO, clock reads are syscalls"
	need_file "$GUEST/$link/vdso"
	krun --kernel-arg kiln.novdso "$GUEST/$link/vdso" novdso
	want_status 0
	want_out '^guest vdso: [0-9]+ passed, 0 failed$'
	check_end
done

check_begin "Go with kiln.novdso: time works, the no-syscall check fails"
need_file "$GO_PROG"
krun --kernel-arg kiln.novdso "$GO_PROG"
want_status 1
want_out '^ok - monotonic time.Now never goes backward'
want_out '^not ok - 100000 time.Now make no clock_gettime syscall \([1-9][0-9]{5,} made\)$'
check_end
