#!/bin/sh
# Graceful stop on QEMU (include/kiln/abi.h, ABI 4): `kill -TERM` to a
# foreground `kiln run` whose program handles SIGTERM reaches the program
# (one byte on COM2, which the kernel turns into SIGTERM), and the
# program's own status is kiln's; a program that keeps SIGTERM's default
# is stopped at once (143); one that ignores it is stopped by a second
# SIGTERM (143); SIGINT always stops at once (130); the same SIGTERM
# delivered twice at once (timeout(1) signals kiln and its group) is one.  The guest is
# tests/guest/sigdefault.c (wait-term, wait-default, wait-ignore), the
# same cases tests/e2e/vmm.sh runs on kiln-vmm.  The signal is sent only
# once the program has printed its "ready" line; nothing here depends on
# how long anything takes.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

BG_PID=""
stop_exit() {
	st=$?
	[ -n "$BG_PID" ] && kill -KILL "$BG_PID" 2>/dev/null
	(exit "$st")
	lib_exit
}
trap stop_exit EXIT

# alive: the background kiln has not ended.
alive() {
	kill -0 "$BG_PID" 2>/dev/null
}

ready() {
	grep -q 'ready for SIGTERM' "$KOUT.raw"
}

# term_run PROGRAM HOW SIGNALS...: `kiln run --hypervisor qemu PROGRAM
# HOW` in the background; once the program is ready, sends each signal
# (after the first, only while kiln still runs, the check having looked
# that it did), then waits for kiln (at most 120 s).  Output in
# $KOUT/$KERR, status in $KST.
term_run() {
	prog=$1 how=$2
	shift 2
	echo "\$ kiln run --hypervisor qemu $prog $how & (then $*)" >>"$CHECK_LOG"
	if [ ! -x "$KILN" ]; then
		fail_because "${KILN#"$KILN_ROOT"/} not built"
		return 0
	fi
	need_file "$prog"
	# A background job of a non-interactive shell starts with SIGINT
	# ignored; give kiln the default disposition as a terminal would.
	env --default-signal=INT "$KILN" run --hypervisor qemu "$prog" "$how" \
		</dev/null >"$KOUT.raw" 2>"$KERR.raw" &
	BG_PID=$!
	n=0
	while ! ready && alive && [ $n -lt 600 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	ready || fail_because "the program never said it was ready"
	first=1
	for sig in "$@"; do
		if [ $first -eq 0 ]; then
			# The program survived the first signal: see that kiln
			# is still there a moment later, then send the next.
			sleep 2
			alive || fail_because "kiln ended before SIGTERM number 2"
		fi
		first=0
		case $sig in
		*x2) # twice, as timeout(1) sends it: to the process and
			# to its process group.  0.1 s apart so that kiln
			# has mostly handled the first (sent together, the
			# two would merge into one pending signal).
			kill "-${sig%x2}" "$BG_PID" 2>/dev/null
			sleep 0.1
			kill "-${sig%x2}" "$BG_PID" 2>/dev/null
			;;
		*) kill "-$sig" "$BG_PID" 2>/dev/null ;;
		esac
	done
	n=0
	while alive && [ $n -lt 600 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	if alive; then
		fail_because "kiln still running 120 s after the last signal"
		kill -KILL "$BG_PID"
	fi
	wait "$BG_PID"
	KST=$?
	BG_PID=""
	tr -d '\r' <"$KOUT.raw" >"$KOUT"
	tr -d '\r' <"$KERR.raw" >"$KERR"
	{
		echo "status $KST"
		echo "--- stdout"
		cat "$KOUT"
		echo "--- stderr"
		cat "$KERR"
		echo "---"
	} >>"$CHECK_LOG"
}

for link in static dynamic; do
	check_begin "$link: a program handling SIGTERM gets it and its status 42 is kiln's"
	term_run "$GUEST/$link/sigdefault" wait-term TERM
	want_status 42
	want_out '^sigdefault: got SIGTERM from pid 0$'
	want_no_out 'stopped by|killed by'
	check_end
done

check_begin "one SIGTERM delivered twice at once (timeout(1)) is one request: 42"
term_run "$GUEST/static/sigdefault" wait-term TERMx2
want_status 42
want_out '^sigdefault: got SIGTERM from pid 0$'
want_no_out 'stopped by|killed by'
check_end

check_begin "a program keeping SIGTERM's default is stopped at once: 143"
term_run "$GUEST/static/sigdefault" wait-default TERM
want_status 143
want_no_out 'got SIGTERM'
check_end

check_begin "a program ignoring SIGTERM outlives the first; the second stops it: 143"
term_run "$GUEST/dynamic/sigdefault" wait-ignore TERM TERM
want_status 143
want_no_out 'got SIGTERM'
check_end

check_begin "SIGINT stops a program handling SIGTERM at once: 130"
term_run "$GUEST/static/sigdefault" wait-term INT
want_status 130
want_no_out 'got SIGTERM'
check_end
