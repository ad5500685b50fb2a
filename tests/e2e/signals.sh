#!/bin/sh
# Signals whose default action ends the program end the instance with
# 128 + the signal, as a shell reports a killed process: SIGPIPE from a
# write to a reader-less pipe (141), raise(SIGTERM) (143), abort() (134),
# SIGKILL (137), SIGTERM sent by another thread (143), a blocked SIGTERM
# once unblocked (143), alarm() (142).  The program says "dying by ..."
# first and never "still alive"; the kernel names the signal.  The same
# guest (tests/guest/sigdefault.c) validates every case natively first.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

for c in pipe:141:13 term:143:15 abort:134:6 kill:137:9 thread:143:15 \
	unblock:143:15 alarm:142:14; do
	how=${c%%:*}
	rest=${c#*:}
	want=${rest%%:*}
	sig=${rest#*:}
	for link in static dynamic; do
		check_begin "$link: killed by $how exits $want"
		need_file "$GUEST/$link/sigdefault"
		host=$("$GUEST/$link/sigdefault" "$how" >/dev/null 2>&1; echo $?)
		[ "$host" -eq "$want" ] ||
			fail_because "natively the program exits $host, not $want (bad test)"
		krun "$GUEST/$link/sigdefault" "$how"
		want_status "$want"
		want_out "^sigdefault: dying by $how\$"
		want_no_out 'still alive'
		want_out "killed by signal $sig\\b"
		check_end
	done
done

check_begin "killed by SIGPIPE on --hypervisor qemu exits 141"
krun --hypervisor qemu "$GUEST/static/sigdefault" pipe
want_status 141
want_no_out 'still alive'
check_end
