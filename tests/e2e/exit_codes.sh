#!/bin/sh
# The program's exit status comes out of kiln run unchanged: 0, 1, 42 and
# 255 (255 has bit 7 set, which QEMU's isa-debug-exit alone would lose),
# for the static and the dynamic build.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

for code in 0 1 42 255; do
	check_begin "static exit status $code"
	need_file "$GUEST/static/exit_code"
	krun "$GUEST/static/exit_code" "$code"
	want_status "$code"
	want_out "^exit_code: exiting with $code\$"
	check_end
done

for code in 42 255; do
	check_begin "dynamic exit status $code"
	krun "$GUEST/dynamic/exit_code" "$code"
	want_status "$code"
	want_out "^exit_code: exiting with $code\$"
	check_end
done

check_begin "exit status 3 on --hypervisor qemu"
krun --hypervisor qemu "$GUEST/static/exit_code" 3
want_status 3
check_end

check_begin "exit status 7 through the exit syscall (not exit_group)"
krun "$GUEST/static/exit_code" 7 raw
want_status 7
check_end
