#!/bin/sh
# Console streams: lines written alternately to stdout and stderr (flushed
# each time) arrive in order on the one console stream; 100 KiB of output
# (buffered printf, one 40 KiB write, writev) arrives whole and in order.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

for link in static dynamic; do
	check_begin "$link stdout and stderr lines arrive in order"
	need_file "$GUEST/$link/stdio_order"
	krun "$GUEST/$link/stdio_order"
	want_status 0
	i=0
	: >"$KILN_TEST_TMP/want"
	while [ $i -lt 20 ]; do
		printf 'out %d\nerr %d\n' $i $i >>"$KILN_TEST_TMP/want"
		i=$((i + 1))
	done
	# Both streams, in the order kiln wrote them (stdout first: the guest
	# console is one stream, kiln's stderr holds only kiln's own notes).
	said | grep -a -E '^(out|err) [0-9]+$' >"$KILN_TEST_TMP/got"
	cmp -s "$KILN_TEST_TMP/want" "$KILN_TEST_TMP/got" ||
		fail_because "order differs: got $(tr '\n' ',' <"$KILN_TEST_TMP/got" | cut -c1-100)"
	want_out '^stdio_order: done$'
	check_end
done

for link in static dynamic; do
	check_begin "$link 100 KiB of output arrives whole and in order"
	need_file "$GUEST/$link/stdio"
	krun "$GUEST/$link/stdio"
	want_status 0
	want_out '^guest stdio: [0-9]+ passed, 0 failed$'
	bad=$(awk -v p=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ '
		$1 == "data" { if ($2 + 0 != nd || $3 != p || NF != 3) bad++; nd++ }
		$1 == "bulk" { if ($2 + 0 != nb || $3 != p || NF != 3) bad++; nb++ }
		$0 == "vec one two three" { v++ }
		END { if (nd != 1000) print "data lines " nd "/1000";
		      if (nb != 500) print "bulk lines " nb "/500";
		      if (v != 1) print "writev line " v "/1";
		      if (bad) print bad " lines out of order or damaged" }' "$KOUT")
	[ -z "$bad" ] || fail_because "$(printf '%s' "$bad" | tr '\n' ' ')"
	check_end
done
