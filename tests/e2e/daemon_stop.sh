#!/bin/sh
# `kiln stop` through kilnd is a graceful stop (docs/daemon.md): the
# program gets SIGTERM and its own exit status is recorded; one that
# keeps SIGTERM's default ends with 143; one that ignores SIGTERM is
# killed when `kiln stop -t` runs out (137, and inspect says why).  The
# instances run tests/guest/sigdefault packed as images (wait-term,
# wait-default, wait-ignore); each is stopped only after its "ready" line
# is in `kiln logs`.  On this machine kilnd runs QEMU (no /dev/kvm), so
# this is the COM2 path of lib/hv.c and daemon/shim.c.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

kd_start || exit 0

# logs_say NAME REGEX: the instance's console log has a matching line.
logs_say() {
	kq logs "$1" | grep -q -E -e "$2"
}

# started NAME IMAGE: runs IMAGE detached as NAME and waits until its
# program is ready for SIGTERM.
started() {
	k run -d --name "$1" "$2"
	want_status 0
	wait_until 120 logs_say "$1" 'ready for SIGTERM' ||
		fail_because "'$1' never said it was ready (state $(kd_state "$1"))"
}

check_begin "stop: a program handling SIGTERM exits with its own status (42)"
kd_build term:1 "$GUEST/static/sigdefault" wait-term
started th term:1
k stop -t 60 th
want_status 0
want_stdout_exact th
[ "$(kd_state th)" = stopped ] || fail_because "state $(kd_state th) after stop, want stopped"
[ "$(kd_field th exit_code)" = 42 ] || fail_because "exit_code $(kd_field th exit_code), want 42"
k logs th
want_out '^sigdefault: got SIGTERM from pid 0$'
k ps -a
want_out '^th +term:1 +stopped '
check_end

check_begin "stop: a program keeping SIGTERM's default ends with 143"
kd_build default:1 "$GUEST/static/sigdefault" wait-default
started df default:1
k stop -t 60 df
want_status 0
[ "$(kd_state df)" = stopped ] || fail_because "state $(kd_state df) after stop, want stopped"
[ "$(kd_field df exit_code)" = 143 ] || fail_because "exit_code $(kd_field df exit_code), want 143"
k logs df
want_no_out 'got SIGTERM'
check_end

check_begin "stop -t 2: a program ignoring SIGTERM is killed when the time runs out (137)"
kd_build ignore:1 "$GUEST/dynamic/sigdefault" wait-ignore
started ig ignore:1
k stop -t 2 ig
want_status 0
[ "$(kd_state ig)" = stopped ] || fail_because "state $(kd_state ig) after stop, want stopped"
[ "$(kd_field ig exit_code)" = 137 ] || fail_because "exit_code $(kd_field ig exit_code), want 137"
k inspect ig
want_out 'did not end within 2 s of SIGTERM'
[ -z "$(kd_procs)" ] || fail_because "shim or monitor left running: $(kd_procs)"
check_end

check_begin "a stopped instance that handles SIGTERM starts again and stops gracefully again"
k start th
want_status 0
wait_until 120 kd_is th running || fail_because "not running after start"
wait_until 120 sh -c "[ \$(KILN_NO_AUTOSTART=1 '$KILN' -H '$KD_SOCK' logs th 2>/dev/null | grep -c 'ready for SIGTERM') -ge 2 ]" ||
	fail_because "the second run never said it was ready"
k stop -t 60 th
[ "$(kd_field th exit_code)" = 42 ] || fail_because "exit_code $(kd_field th exit_code), want 42"
k logs th
want_count '^sigdefault: got SIGTERM from pid 0$' 2
check_end
