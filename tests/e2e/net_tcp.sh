#!/bin/sh
# Sockets end to end (issue 3): guests on QEMU microvm on a tap enslaved
# to a bridge inside a network namespace this script creates (the
# namespace's address is on the bridge, as a host's would be), talking to
# curl and python3 (tests/net/*.py) in the namespace.
#   1. examples/httpd (epoll, non-blocking sockets, dynamic glibc) serves
#      files added with --file: the page and a 10 MiB random file arrive
#      byte-exact (sha256), a missing file is a 404, 100 concurrent
#      keep-alive clients all get their answers, and clients that reset
#      their connections mid-transfer leave the server serving.
#   2. a UDP echo guest (build/tests/net/udp_echo) echoes datagrams of 1
#      byte to 65507 bytes (fragmented both ways) to a python client.
#   3. the guest as a client (build/tests/net/net_client) of python
#      servers: names through /etc/hosts and through the DNS server given
#      with --dns (musl's resolver over UDP), 1 MiB each way, connection
#      refused, reset, a receive timeout and a connect whose SYNs are
#      dropped (TCP_SYNCNT) seen as the right errno, UDP,
#      TCP over the guest's loopback (poll, half-close, sendfile,
#      edge-triggered epoll, sendmmsg/recvmmsg, RST on close).
# The same checks run on kiln-vmm in tests/nested/net.sh.  The namespace,
# its bridge and tap, the guests and the servers are removed whatever
# happens.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

NS=kilntest-tcp-$$
TAP=ktap0
BRIDGE=kbr0
HOST_IP=10.0.4.1
GUEST_IP=10.0.4.15
GUEST_NAME=kiln-guest
SERVER_NAME=server.test
PORT=8080
BASE=9000
UDP_PORT=7777
SILENT=10.0.99.1 # routed to a blackhole in the namespace: SYNs vanish
NET=build/tests/net
SERVER_PID=""
GUEST_OUT=$KILN_TEST_TMP/guest.out

# Stop the python servers, then netns_exit (lib.sh) with the original
# status.
tcp_exit() {
	tcp_st=$?
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=""
	fi
	(exit "$tcp_st")
	netns_exit
}
trap tcp_exit EXIT

# netns_with_bridge: namespace $NS with lo up, bridge $BRIDGE holding
# $HOST_IP/24 and tap $TAP enslaved to it (no address of its own).  On
# failure records why and returns 1; the namespace goes at exit.
netns_with_bridge() {
	if ! ip netns add "$NS" 2>/dev/null; then
		test_fail "$SCENARIO: network namespace" "cannot create a network namespace (need root)"
		return 1
	fi
	if ! { ip -n "$NS" link set lo up &&
		ip -n "$NS" link add name "$BRIDGE" type bridge &&
		ip -n "$NS" addr add "$HOST_IP/24" dev "$BRIDGE" &&
		ip -n "$NS" link set "$BRIDGE" up &&
		ip -n "$NS" tuntap add dev "$TAP" mode tap &&
		ip -n "$NS" link set "$TAP" master "$BRIDGE" &&
		ip -n "$NS" link set "$TAP" up &&
		ip -n "$NS" route add blackhole "${SILENT%.*}.0/24"; } \
		2>"$KILN_TEST_TMP/bridge.err"; then
		test_fail "$SCENARIO: bridge" "cannot set up bridge '$BRIDGE' with tap '$TAP' in namespace '$NS': $(head -n 1 "$KILN_TEST_TMP/bridge.err")"
		return 1
	fi
}
netns_with_bridge || exit 0

# guest_start ARGS...: `kiln run --net` in the background (bounded by
# timeout(1)), output in $GUEST_OUT.
guest_start() {
	: >"$GUEST_OUT"
	echo "\$ kiln run --hypervisor qemu --net $TAP --ip $GUEST_IP/24 ... $*" \
		>>"$CHECK_LOG"
	timeout -k 5 "$KILN_TEST_TIMEOUT" ip netns exec "$NS" "$KILN" run \
		--hypervisor qemu --memory 256M --net "$TAP" \
		--ip "$GUEST_IP/24" --gw "$HOST_IP" --hostname "$GUEST_NAME" \
		"$@" >"$GUEST_OUT" 2>&1 </dev/null &
	GUEST_PID=$!
}

# guest_log: the guest's output so far into the check's log and $KOUT.
guest_log() {
	tr -d '\r' <"$GUEST_OUT" >"$KOUT"
	: >"$KERR"
	{
		echo "--- guest output"
		cat "$KOUT"
		echo "---"
	} >>"$CHECK_LOG"
}


for p in examples/httpd "$NET/udp_echo" "$NET/net_client"; do
	if [ ! -x "$p" ]; then
		test_fail "$SCENARIO: programs" "$p missing (run make)"
		exit 0
	fi
done

# 1. httpd ----------------------------------------------------------------

SRV=$KILN_TEST_TMP/srv
mkdir -p "$SRV"
cat >"$SRV/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>kiln</title></head>
<body><h1>served by a kiln unikernel</h1></body></html>
EOF
head -c 10485760 /dev/urandom >"$SRV/big.bin"
URL=http://$GUEST_IP:$PORT

check_begin "httpd starts and serves the index page byte-exact"
guest_start --file "$SRV/index.html:/srv/index.html" \
	--file "$SRV/big.bin:/srv/big.bin" examples/httpd -r /srv
if guest_wait_for '^httpd: serving' 60; then
	host_run 30 curl -sS -m 20 -o "$KILN_TEST_TMP/index.got" "$URL/"
	want_status 0
	cmp -s "$SRV/index.html" "$KILN_TEST_TMP/index.got" ||
		fail_because "the page differs from index.html"
else
	guest_log
	fail_because "httpd did not start within 60 s"
fi
HTTPD_UP=$CHECK_WHY
check_end

if [ -z "$HTTPD_UP" ]; then
	check_begin "a 10 MiB random file arrives with the same sha256"
	host_run 60 curl -sS -m 50 -o "$KILN_TEST_TMP/big.got" \
		-w '%{size_download} bytes in %{time_total} s\n' "$URL/big.bin"
	want_status 0
	want=$(sha256sum <"$SRV/big.bin")
	got=$(sha256sum <"$KILN_TEST_TMP/big.got" 2>/dev/null)
	[ "$want" = "$got" ] || fail_because "sha256 differs: got ${got%% *}"
	check_end

	check_begin "a missing file is a 404"
	host_run 30 curl -sS -m 20 -o "$KILN_TEST_TMP/404.got" \
		-w '%{http_code}\n' "$URL/no/such/file.html"
	want_status 0
	want_out '^404$'
	grep -q '^404 Not Found$' "$KILN_TEST_TMP/404.got" ||
		fail_because "the body is not '404 Not Found'"
	check_end

	# 100 threads connect, wait for each other, then send 3 requests
	# each on their one keep-alive connection.
	check_begin "100 concurrent keep-alive clients all get 200s"
	host_run 90 python3 tests/net/http_clients.py "$GUEST_IP" "$PORT" \
		100 3 "$SRV/index.html"
	want_status 0
	want_out '^100 clients ok, 0 failed$'
	check_end

	# Clients that read a little of the big file and close (half of
	# them with a RST): the server must keep serving.
	check_begin "clients that give up mid-transfer leave the server serving"
	host_run 60 python3 tests/net/http_abort.py "$GUEST_IP" "$PORT"
	want_status 0
	host_run 30 curl -sS -m 20 -o /dev/null -w '%{http_code}\n' \
		"$URL/index.html"
	want_status 0
	want_out '^200$'
	check_end
fi

check_begin "httpd logged every request and the kernel complained of nothing"
guest_stop
guest_log
if [ -z "$HTTPD_UP" ]; then
	want_count '^GET /index.html 200 ' 301
	want_count '^GET /big.bin 200 10485760$' 11
fi
want_no_out '^kiln: .*(panic|error|fault|assert|cannot|not implemented)'
check_end

# 2. UDP echo ---------------------------------------------------------------

check_begin "a UDP echo guest echoes datagrams of 1 to 65507 bytes"
guest_start "$NET/udp_echo" "$UDP_PORT"
if guest_wait_for '^udp_echo: ready on' 60; then
	host_run 60 python3 tests/net/udp_client.py "$GUEST_IP" "$UDP_PORT"
	want_status 0
	want_out '^22 datagrams echoed, 0 wrong$'
	guest_wait_for '^udp_echo: echoed' 20
	wait "$GUEST_PID"
	GUEST_ST=$?
	GUEST_PID=""
	guest_log
	[ "$GUEST_ST" -eq 0 ] || fail_because "udp_echo exited with $GUEST_ST"
	want_out '^udp_echo: echoed 22 datagrams$'
	want_no_out '^not ok'
else
	guest_log
	fail_because "udp_echo did not start within 60 s"
fi
guest_stop
check_end

# 3. the guest as a client -------------------------------------------------------

printf 'hosts: files dns\n' >"$KILN_TEST_TMP/nsswitch.conf"
rm -f "$KILN_TEST_TMP/ready"
# Not through a shell function: $! must be the server itself.
timeout -k 5 300 ip netns exec "$NS" python3 tests/net/servers.py \
	"$HOST_IP" "$BASE" "$KILN_TEST_TMP/ready" "$SERVER_NAME" \
	>"$KILN_TEST_TMP/servers.out" 2>&1 </dev/null &
SERVER_PID=$!

check_begin "the guest as a client: all of net_client's checks pass"
n=0
while [ ! -f "$KILN_TEST_TMP/ready" ] && [ $n -lt 50 ]; do
	sleep 0.2
	n=$((n + 1))
done
if [ -f "$KILN_TEST_TMP/ready" ]; then
	guest_start --dns "$HOST_IP" \
		--file "$KILN_TEST_TMP/nsswitch.conf:/etc/nsswitch.conf" \
		"$NET/net_client" "$SERVER_NAME" "$HOST_IP" "$BASE" \
		"$GUEST_NAME" "$GUEST_IP" "$SILENT"
	wait "$GUEST_PID"
	GUEST_ST=$?
	GUEST_PID=""
	guest_log
	cp "$KOUT" "$KILN_TEST_TMP/client.out"
	[ "$GUEST_ST" -eq 0 ] || fail_because "net_client exited with $GUEST_ST"
	want_out '^net_client: [0-9]+ passed, 0 failed$'
	first=$(grep -m 1 '^not ok' "$KOUT")
	[ -z "$first" ] || fail_because "$first"
else
	cat "$KILN_TEST_TMP/servers.out" >>"$CHECK_LOG"
	fail_because "the python servers did not start"
fi
check_end

# The same run, one verdict per path the issue names.
. "$KILN_ROOT/tests/net/client_checks.sh"
net_client_verdicts "$KILN_TEST_TMP/client.out"
