#!/bin/sh
# A program that writes to an unmapped address dies with status 139
# (128 + SIGSEGV) and the kernel's report names the faulting address
# 0xdead0 (the program never prints it); kiln and the host stay usable.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

for link in static dynamic; do
	check_begin "$link segfault exits 139 with the faulting address"
	need_file "$GUEST/$link/segv"
	krun "$GUEST/$link/segv"
	want_status 139
	want_out '^segv: about to fault$'
	want_no_out 'still alive'
	# Any spelling: 0xdead0, 0x00000000000dead0, upper case.
	said | grep -a -q -i -E '0x0*dead0([^0-9a-f]|$)' ||
		fail_because "no report naming the faulting address 0xdead0"
	want_hello_runs
	check_end
done

check_begin "segfault on --hypervisor qemu exits 139"
krun --hypervisor qemu "$GUEST/static/segv"
want_status 139
said | grep -a -q -i -E '0x0*dead0([^0-9a-f]|$)' ||
	fail_because "no report naming the faulting address 0xdead0"
check_end
