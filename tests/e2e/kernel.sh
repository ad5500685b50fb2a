#!/bin/sh
# The kernel's own statuses and messages: an unknown syscall is answered
# ENOSYS and logged once per number ("kiln: syscall 'NAME' (NR) not
# implemented"; numbers past the kernel's table share one line "kiln:
# syscall NR not implemented"); a kernel panic reports itself and ends with
# KILN_EXIT_PANIC (120); --timeout ends a program that runs too long with
# 124.
#
# The panic is provoked with the kernel command line word kiln.test=panic
# (kiln run --kernel-arg); a second check boots build/kiln.elf directly on
# QEMU microvm, where isa-debug-exit turns 120 into QEMU's exit status
# (120 << 1) | 1 = 241, so the kernel's side is checked on its own too.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

for link in static dynamic; do
	check_begin "$link unknown syscalls: ENOSYS and one log line each"
	need_file "$GUEST/$link/enosys"
	krun "$GUEST/$link/enosys"
	want_status 0
	want_out '^guest enosys: [0-9]+ passed, 0 failed$'
	# syscall 1000 is made twice but logged once; 183 has a name.
	want_count "^kiln: syscall ('[^']*' \\(1000\\)|1000) not implemented\$" 1
	want_count "^kiln: syscall 'afs_syscall' \\(183\\) not implemented\$" 1
	want_count "^kiln: syscall 'tuxcall' \\(184\\) not implemented\$" 1
	check_end
done

check_begin "--timeout 3 stops /bin/sleep 1000 with status 124"
start=$(date +%s)
krun --timeout 3 /bin/sleep 1000
want_status 124
[ $(($(date +%s) - start)) -lt 60 ] || fail_because "took 60 s or more"
want_hello_runs
check_end

check_begin "kernel panic (kiln.test=panic) exits 120 with a report"
krun --kernel-arg kiln.test=panic "$GUEST/static/hello"
want_status 120
want_out '^kiln: kernel panic: .*kiln\.test=panic'
want_no_out '^hello from kiln$'
want_hello_runs
check_end

check_begin "kernel panic reports itself and exits 120 (QEMU direct)"
need_file build/kiln.elf
if [ -e build/kiln.elf ]; then
	qemu_direct build/kiln.elf "" "kiln.test=panic"
	want_status 241
	want_out '^kiln: kernel panic: .*kiln\.test=panic'
	want_out 'backtrace'
fi
check_end

# tests/guest/sysfuzz calls every syscall number with wild pointers, kernel
# addresses, a fenced scratch buffer, paths and odd sizes.  The kernel's
# answers don't matter; it must not panic, crash or hang, and the program
# must run to its end.
for link in static dynamic; do
	check_begin "$link syscall fuzz: the kernel survives 10k wild calls"
	need_file "$GUEST/$link/sysfuzz"
	krun "$GUEST/$link/sysfuzz"
	want_status 0
	want_out '^sysfuzz: survived [0-9]+ calls$'
	want_no_out 'kernel panic'
	check_end
done

check_begin "a kernel page fault reports vector, address, rip and backtrace, exits 120"
krun --kernel-arg kiln.test=fault "$GUEST/static/hello"
want_status 120
want_out '^kiln: kernel panic: page fault \(vector 14, error 0x2\)$'
want_out '^faulting address 000000000dead000$'
want_out '^rip ffffffff8[0-9a-f]+ <test_fault_now\+0x[0-9a-f]+>$'
want_out '^rax [0-9a-f]{16} rbx'
want_out '^  ffffffff8[0-9a-f]+ <kmain\+0x[0-9a-f]+>$'
want_no_out '^hello from kiln$'
want_hello_runs
check_end
