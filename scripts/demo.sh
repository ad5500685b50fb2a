#!/bin/sh
# `make demo` (README command 1) runs this after installing the packages
# and building everything: it boots the issue-2 examples one after the
# other, each under a header, and prints each exit status.  Exits non-zero
# if any of them fails.  KILN may name another kiln binary.
set -u
cd "$(dirname "$0")/.." || exit 2
KILN=${KILN:-build/kiln}

if [ ! -x "$KILN" ]; then
	echo "demo: $KILN is not built (run 'make')" >&2
	exit 2
fi

failed=0

# demo TITLE WANT-STATUS ARGS...: one `kiln run ARGS`, framed.
demo() {
	title=$1
	want=$2
	shift 2
	printf '\n=== %s\n$ kiln run %s\n' "$title" "$*"
	"$KILN" run "$@"
	st=$?
	if [ "$st" -eq "$want" ]; then
		printf -- '--- exit status %d\n' "$st"
	else
		printf -- '--- exit status %d (expected %d): FAILED\n' "$st" "$want"
		failed=$((failed + 1))
	fi
}

demo "a static C program (musl)" 0 ./examples/hello
demo "Debian's dynamically linked /bin/echo" 0 /bin/echo hi there
demo "the same image on QEMU -M microvm" 0 --hypervisor qemu /bin/echo hi
demo "the program's exit status comes through the VM" 1 /bin/false

echo
if [ "$failed" -eq 0 ]; then
	echo "demo: all examples ran"
else
	echo "demo: $failed example(s) failed"
	exit 1
fi
