#!/bin/sh
# The commands of issue 2's "what a user can do": our own static and
# dynamic hello, Debian's dynamically linked /bin/echo (default hypervisor
# and --hypervisor qemu), /bin/true and /bin/false, and the /dev/kvm notice
# exactly when /dev/kvm is missing.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

for link in static dynamic; do
	check_begin "$link hello prints its line and exits 0"
	need_file "$GUEST/$link/hello"
	krun "$GUEST/$link/hello"
	want_status 0
	want_out '^hello from kiln$'
	check_end
done

check_begin "kiln run /bin/echo hi there"
krun /bin/echo hi there
want_status 0
want_stdout_exact "hi there"
check_end

check_begin "kiln run --hypervisor qemu /bin/echo hi"
krun --hypervisor qemu /bin/echo hi
want_status 0
want_stdout_exact "hi"
check_end

check_begin "arguments keep their spaces and quotes"
krun /bin/echo 'two  spaces' "it's" '' 'a"b' '%41'
want_status 0
want_stdout_exact "two  spaces it's  a\"b %41"
check_end

check_begin "kiln run /bin/true exits 0"
krun /bin/true
want_status 0
check_end

check_begin "kiln run /bin/false exits 1"
krun /bin/false
want_status 1
check_end

check_begin "/dev/kvm notice on stderr iff /dev/kvm is missing"
krun "$GUEST/static/hello"
n=$(grep -c -x -F "$KVM_NOTICE" "$KERR")
if have_kvm; then
	[ "$n" -eq 0 ] || fail_because "notice printed although /dev/kvm works"
else
	[ "$n" -eq 1 ] ||
		fail_because "$n notice lines on stderr, want 1: '$KVM_NOTICE'"
	want_status 0
fi
check_end

check_begin "--memory 32M (long option) runs hello"
krun --memory 32M "$GUEST/static/hello"
want_status 0
want_out '^hello from kiln$'
check_end
