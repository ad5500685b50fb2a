#!/bin/sh
# kilnd end to end, without networking: a real daemon in its own state
# directory, socket and network namespace (tests/e2e/daemon.inc), images
# built with `kiln build -o` and loaded, instances on QEMU (TCG here, or
# the default hypervisor).  What a user checks: kiln ps, kiln logs, exit
# statuses, restart counts, the files kilnd keeps, and that a second
# kilnd on the same state directory is refused.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/daemon.inc"

kd_start || exit 0

check_begin "kiln ps on a fresh kilnd: the header only"
k ps
want_status 0
[ "$(wc -l <"$KOUT")" -eq 1 ] || fail_because "ps printed $(wc -l <"$KOUT") lines, want 1"
want_out '^NAME +IMAGE +STATE +IP +PORTS +UPTIME +RESTARTS$'
check_end

check_begin "a second kilnd on the same state directory is refused"
run_logged 30 "$KILND" --state "$KD_STATE" --socket "$KILN_TEST_TMP/other.sock"
want_status 125
want_one_error "state directory '.*' is in use by another kilnd, pid $KD_PID"
kd_answers || fail_because "the first kilnd stopped answering"
check_end

check_begin "images: load, list, inspect"
kd_build hello:1 examples/hello
kd_build exit3:1 "$GUEST/static/exit_code" 3
kd_build sleep:1 /bin/sleep 1000
k images
want_status 0
want_out '^hello +1 +[0-9a-f]{12} '
want_out '^exit3 +1 '
k inspect hello:1
want_status 0
want_out '"exe": ".*/examples/hello"'
want_out '"tags": \['
check_end

check_begin "kiln build -t goes straight to kilnd, same ID as -o"
k build -t direct:1 examples/hello
want_status 0
id=$(head -n 1 "$KOUT")
want_out '^sha256:[0-9a-f]{64}$'
grep -q "loaded image sha256:[0-9a-f]* into kilnd, tagged direct:1" "$KERR" ||
	fail_because "no 'loaded ... into kilnd' note on stderr"
k build -o "$KILN_TEST_TMP/direct.tar" -t direct:1 examples/hello
[ "$(head -n 1 "$KOUT")" = "$id" ] || fail_because "-o gave $(head -n 1 "$KOUT"), kilnd got $id"
k images
want_out '^direct +1 +[0-9a-f]{12} '
k run direct:1
want_status 0
want_out '^hello from kiln$'
check_end

check_begin "run -d prints the name; ps shows it running"
k run -d --name sleeper sleep:1
want_status 0
want_stdout_exact sleeper
k ps
want_out '^sleeper +sleep:1 +running +10\.88\.[0-9.]+ +- +[0-9]+[smhd] +0$'
check_end

check_begin "foreground run: the console, then the program's status"
k run hello:1
want_status 0
want_out '^hello from kiln$'
k run exit3:1
want_status 3
want_out 'exiting with 3'
check_end

check_begin "logs of an exited instance; ps -a shows exited (3)"
name=$(kq ps -aq | while read -r n; do
	[ "$(kd_field "$n" image)" = exit3:1 ] && echo "$n"
done | head -n 1)
k logs "$name"
want_status 0
want_out 'exiting with 3'
k ps -a
want_out "^$name +exit3:1 +exited \\(3\\) "
check_end

check_begin "stop: stopped (143), not restarted; start again"
k run -d --name st --restart always sleep:1
k stop -t 5 st
want_status 0
want_stdout_exact st
[ "$(kd_state st)" = stopped ] || fail_because "state $(kd_state st) after stop, want stopped"
[ "$(kd_field st exit_code)" = 143 ] || fail_because "exit_code $(kd_field st exit_code), want 143"
sleep 1
[ "$(kd_state st)" = stopped ] || fail_because "restarted after stop (policy always)"
k start st
want_status 0
wait_until 30 kd_is st running || fail_because "not running after start"
check_end

check_begin "restart policy on-failure:2: restarted twice, then exited (3)"
k run -d --name of --restart on-failure:2 exit3:1
want_status 0
wait_until 60 kd_is of exited || fail_because "state $(kd_state of), want exited"
[ "$(kd_field of restart_count)" = 2 ] || fail_because "restart_count $(kd_field of restart_count), want 2"
[ "$(kd_field of exit_code)" = 3 ] || fail_because "exit_code $(kd_field of exit_code), want 3"
k logs of
want_count 'exiting with 3' 3
check_end

check_begin "restart policy no: exit(3) is left exited"
k run -d --name nr exit3:1
wait_until 60 kd_is nr exited || fail_because "state $(kd_state nr), want exited"
sleep 1
[ "$(kd_field nr restart_count)" = 0 ] || fail_because "restart_count $(kd_field nr restart_count), want 0"
[ "$(kd_state nr)" = exited ] || fail_because "state $(kd_state nr), want exited"
check_end

check_begin "kill -9 of the monitor: --restart always brings it back"
k run -d --name kw --restart always sleep:1
wait_until 30 kd_is kw running
pid=$(kd_field kw pid)
kill -KILL "$pid" 2>/dev/null || fail_because "no monitor pid ($pid)"
wait_until 30 sh -c "[ \"\$(KILN_NO_AUTOSTART=1 '$KILN' -H '$KD_SOCK' inspect kw | grep -c '\"restart_count\": 1')\" = 1 ]" ||
	fail_because "restart_count did not become 1"
wait_until 30 kd_is kw running || fail_because "state $(kd_state kw), want running"
[ "$(kd_field kw pid)" != "$pid" ] || fail_because "same monitor pid after restart"
k logs kw
want_out 'was killed by signal 9'
check_end

check_begin "kill -9 of the shim: the instance is restarted too"
shim=$(kd_field kw shim_pid)
mon=$(kd_field kw pid)
kill -KILL "$shim"
wait_until 30 sh -c "[ \"\$(KILN_NO_AUTOSTART=1 '$KILN' -H '$KD_SOCK' inspect kw | grep -c '\"restart_count\": 2')\" = 1 ]" ||
	fail_because "restart_count did not become 2"
wait_until 30 kd_is kw running || fail_because "state $(kd_state kw), want running"
wait_until 10 sh -c "! kill -0 $mon 2>/dev/null" ||
	fail_because "the old monitor $mon outlived its shim"
check_end

check_begin "kilnd SIGKILL and restart: running instances are found again"
shim=$(kd_field sleeper shim_pid)
kd_kill9
kill -0 "$shim" 2>/dev/null || fail_because "the shim died with kilnd"
kd_start || fail_because "kilnd did not start again"
k ps
want_out '^sleeper +sleep:1 +running '
[ "$(kd_field sleeper shim_pid)" = "$shim" ] || fail_because "shim pid changed"
grep -q "instance 'sleeper' is running" "$KD_LOG" || fail_because "kilnd did not log finding sleeper"
k ps -a
want_out '^of +exit3:1 +exited \(3\) .* 2$'
check_end

check_begin "an instance that ends while kilnd is down is collected at start"
k run -d --name late --restart no sleep:1
wait_until 30 kd_is late running
mon=$(kd_field late pid)
kd_kill9
kill -KILL "$mon"
sleep 1
kd_start
wait_until 30 kd_is late exited || fail_because "state $(kd_state late), want exited"
[ "$(kd_field late exit_code)" = 125 ] || fail_because "exit_code $(kd_field late exit_code), want 125 (monitor killed)"
check_end

check_begin "events: create, start, die, destroy"
: >"$KILN_TEST_TMP/events"
KILN_NO_AUTOSTART=1 "$KILN" -H "$KD_SOCK" events >"$KILN_TEST_TMP/events" 2>&1 &
ev=$!
sleep 1
k run --name evt --rm exit3:1
want_status 3
wait_until 10 grep -q 'instance destroy evt' "$KILN_TEST_TMP/events"
kill -INT "$ev"
wait "$ev"
evst=$?
cat "$KILN_TEST_TMP/events" >>"$CHECK_LOG"
for a in create start 'die evt \(exit 3\)' destroy; do
	grep -q -E "instance $a" "$KILN_TEST_TMP/events" ||
		fail_because "no 'instance $a' event"
done
[ "$evst" -eq 0 ] || fail_because "kiln events exited $evst on SIGINT, want 0"
check_end

check_begin "rm and rmi leave no process, file or row behind"
k rm -f $(kq ps -aq)
want_status 0
k ps -a
[ "$(wc -l <"$KOUT")" -eq 1 ] || fail_because "instances left after rm -f"
[ -z "$(kd_procs)" ] || fail_because "processes left: $(kd_procs)"
[ -z "$(ls "$KD_STATE/instances")" ] || fail_because "files left in instances/: $(ls "$KD_STATE/instances")"
[ "$(kd_sql 'SELECT count(*) FROM instances')" = 0 ] || fail_because "instance rows left"
k rmi hello:1 exit3:1 sleep:1 direct:1
want_status 0
want_out '^deleted: sha256:'
[ -z "$(ls "$KD_STATE/blobs/sha256")" ] || fail_because "blobs left: $(ls "$KD_STATE/blobs/sha256" | head -n 3)"
[ "$(kd_sql 'SELECT count(*) FROM images')" = 0 ] || fail_because "image rows left"
[ "$(kd_sql 'SELECT count(*) FROM tags')" = 0 ] || fail_because "tag rows left"
[ -z "$(ls "$KD_STATE/tmp")" ] || fail_because "files left in tmp/"
check_end

check_begin "SIGTERM stops kilnd cleanly: socket removed, status 0"
kill -TERM "$KD_PID"
wait "$KD_PID"
st=$?
KD_PID=""
[ "$st" -eq 0 ] || fail_because "kilnd exited $st on SIGTERM"
[ ! -e "$KD_SOCK" ] || fail_because "socket left behind"
check_end
