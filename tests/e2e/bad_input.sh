#!/bin/sh
# Bad input is refused with a clear one-line error and the right status,
# never a hang (each run is limited to 60 s), and kiln still boots hello
# afterwards:
#   126 not a runnable x86_64 ELF: a script, an empty file, a truncated ELF,
#       a 32-bit ELF, an aarch64 ELF, a relocatable object, program headers
#       out of the file, 65535 program headers, a directory
#   127 not found: a missing program, a shared library that is gone
#   125 tool error: an unknown option, -m 1M (below the minimum)
#   122 not enough memory: -m 2M with an 8 MiB file in the image
# (The fixtures are made by tests/fixtures/make-bad-elves.sh and tests.mk.)
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

BAD=$FIXTURES/bad

# refused NAME STATUS REGEX KILN-RUN-ARGS...: one check.
refused() {
	what=$1
	status=$2
	regex=$3
	shift 3
	check_begin "$what"
	krun_limit 60 "$@"
	want_status "$status"
	want_one_error "$regex"
	want_hello_runs
	check_end
}

for f in not-elf empty truncated elf32 aarch64 relocatable bad-phoff \
	huge-phnum; do
	case $f in
	elf32) re='32|64' ;;   # should say 32-bit / not x86_64 / not ELF64
	aarch64) re='aarch64|arm|machine|x86' ;;
	*) re='elf|exec|format|truncat|header' ;;
	esac
	if [ ! -e "$BAD/$f" ]; then
		check_begin "$f is refused with 126"
		need_file "$BAD/$f"
		check_end
		continue
	fi
	refused "$f is refused with 126" 126 "$f'?.*($re)|($re).*$f" "$BAD/$f"
done

refused "a directory is refused with 126" 126 "$BAD" "$BAD"

refused "a missing program is 127" 127 "/no/such/program" /no/such/program

check_begin "needlib runs with its library found through DT_RUNPATH"
need_file "$FIXTURES/needlib/needlib"
krun "$FIXTURES/needlib/needlib"
want_status 0
want_out '^needlib: library says 42$'
check_end

refused "a missing shared library is 127 and named" 127 'libkilnmissing\.so' \
	"$FIXTURES/needlib-missing"

# Each option's own bad value: one line naming it and the fix, 125.
H=$GUEST/static/hello
refused "-e without '=' is 125" 125 "invalid environment entry 'NOEQ'.*KEY=VALUE" -e NOEQ "$H"
refused "-m above the maximum is 125" 125 "above the maximum of 3G" -m 4G "$H"
refused "an unknown hypervisor is 125" 125 "unknown hypervisor 'bogus' \\(use kiln or qemu\\)" --hypervisor bogus "$H"
refused "--timeout 0 is 125" 125 "invalid timeout '0'" --timeout 0 "$H"
refused "--timeout abc is 125" 125 "invalid timeout 'abc'" --timeout abc "$H"
refused "--kernel-arg with a space is 125" 125 "invalid --kernel-arg 'a b' \\(one word" --kernel-arg 'a b' "$H"
refused "--file without GUEST is 125" 125 "invalid --file '/etc/hostname' \\(use HOST:GUEST" --file /etc/hostname "$H"
refused "--file of a directory is 125" 125 "'/etc' is not a regular file" --file /etc:/x "$H"

check_begin "kiln pack without -o is 125"
echo "\$ kiln pack $H" >>"$CHECK_LOG"
run_logged 60 "$KILN" pack "$H"
want_status 125
want_one_error "'kiln pack' needs an output file: -o"
check_end

refused "an unknown option is 125" 125 'no-such-option' \
	--no-such-option "$GUEST/static/hello"

refused "-m 1M is below the minimum: 125" 125 'memory|1M|min' \
	-m 1M "$GUEST/static/hello"

big=$KILN_TEST_TMP/big
head -c 8388608 /dev/urandom >"$big"
refused "-m 2M with an 8 MiB file: not enough memory, 122" 122 'memory' \
	-m 2M --file "$big:/big" "$GUEST/static/hello"
