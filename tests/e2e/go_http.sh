#!/bin/sh
# A Go net/http server (tests/guest/go/httpd.go, static, Debian's
# golang-go) on kiln with a tap inside a network namespace this script
# creates: it answers curl byte-exact, then 50 concurrent clients whose
# requests each start 1000 goroutines, then 20 concurrent requests that
# sleep in the server, all while one goroutine of the server spins in
# user mode forever (the network and the other threads keep running only
# because the spinner is preempted).  The namespace and the guest are
# removed whatever happens.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

NS=kilntest-go-$$
TAP=ktap0
HOST_IP=10.0.6.1
GUEST_IP=10.0.6.15
PROG=build/tests/go/httpd
URL=http://$GUEST_IP:8080
GUEST_OUT=$KILN_TEST_TMP/guest.out

trap netns_exit EXIT

if [ ! -x "$PROG" ]; then
	test_fail "$SCENARIO: program" "$PROG missing (run make)"
	exit 0
fi
netns_with_tap "$NS" "$TAP" "$HOST_IP" || exit 0

check_begin "the Go server starts and answers byte-exact"
timeout -k 5 "$KILN_TEST_TIMEOUT" ip netns exec "$NS" "$KILN" run \
	--memory 256M --net "$TAP" --ip "$GUEST_IP/24" --gw "$HOST_IP" \
	"$PROG" >"$GUEST_OUT" 2>&1 </dev/null &
GUEST_PID=$!
if guest_wait_for '^go-httpd: serving' 60; then
	host_run 30 curl -sS -m 20 "$URL/"
	want_status 0
	[ "$(cat "$KOUT")" = "hello from go on kiln" ] ||
		fail_because "body is '$(head -c 80 "$KOUT")'"
else
	cat "$GUEST_OUT" >>"$CHECK_LOG"
	fail_because "the server did not start within 60 s"
fi
SERVER_UP=$CHECK_WHY
check_end

if [ -z "$SERVER_UP" ]; then
	check_begin "50 concurrent clients, 1000 goroutines each"
	host_run 120 sh -c "seq 50 | xargs -P 50 -I{} curl -sS -m 100 '$URL/sum?n=1000'"
	want_status 0
	n=$(grep -c -x 499500 "$KOUT")
	[ "$n" -eq 50 ] || fail_because "$n of 50 answers are 499500"
	check_end

	check_begin "20 concurrent requests that sleep in the server"
	host_run 120 sh -c "seq 20 | xargs -P 20 -I{} curl -sS -m 100 '$URL/sleep'"
	want_status 0
	n=$(grep -c -x slept "$KOUT")
	[ "$n" -eq 20 ] || fail_because "$n of 20 answers are 'slept'"
	check_end
fi
