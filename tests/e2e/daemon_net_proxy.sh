#!/bin/sh
# kilnd's published ports (daemon/proxy.c), driven through
# build/tests/dnet/dnet_ctl's proxy mode inside a network namespace this
# script creates.  The backends (python3: two HTTP servers, a TCP echo
# that answers after the client's end of file, a TCP server that resets
# its clients, a UDP echo) run in a second namespace joined by a veth
# pair, standing for an instance on the other side of a link:
#   - a TCP port on 127.0.0.1 carries 1 MiB byte-exact, and one on
#     0.0.0.0 serves a client from the other namespace;
#   - 50 concurrent clients all get their bytes; afterwards no
#     connection is left open in the proxy;
#   - a half-closed client still gets its whole answer;
#   - UDP datagrams of 1 to 65000 bytes from three clients come back to
#     each, and idle flows are closed;
#   - a port in use and an address the host lacks are refused at once;
#   - a backend that refuses, resets or is unreachable gives the client a
#     closed connection and the proxy keeps serving;
#   - a new backend takes new connections; closing frees the port.
# Namespaces and processes are removed whatever happens.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"
. "$KILN_ROOT/tests/e2e/proxy.inc"

NS=kiln-t-$$
NSB=kiln-tb-$$
CTL=build/tests/dnet/dnet_ctl
A=10.77.0.2 # backend A (and the echo servers)
B=10.77.0.3 # backend B
PROXY_PID=""
BACK_PID=""

net_cleanup() {
	exec 3>&- 2>/dev/null
	for pid in $PROXY_PID $BACK_PID; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
}
proxy_exit() {
	proxy_st=$?
	net_cleanup
	(exit "$proxy_st")
	lib_exit
}
trap proxy_exit EXIT

if [ ! -x "$CTL" ]; then
	test_fail "$SCENARIO: dnet_ctl" "$CTL missing (run make)"
	exit 0
fi
if ! ip netns add "$NS" 2>/dev/null || ! ip netns add "$NSB" 2>/dev/null; then
	test_fail "$SCENARIO: network namespace" "cannot create network namespaces (need root)"
	exit 0
fi
if ! { ip -n "$NS" link set lo up && ip -n "$NSB" link set lo up &&
	ip -n "$NS" link add kt-front type veth peer name kt-back netns "$NSB" &&
	ip -n "$NS" addr add 10.77.0.1/24 dev kt-front &&
	ip -n "$NSB" addr add $A/24 dev kt-back &&
	ip -n "$NSB" addr add $B/24 dev kt-back &&
	ip -n "$NS" link set kt-front up && ip -n "$NSB" link set kt-back up; }; then
	test_fail "$SCENARIO: veth" "cannot link the two namespaces"
	exit 0
fi

# The backends -----------------------------------------------------------------

SRV=$KILN_TEST_TMP/srv
mkdir -p "$SRV/a" "$SRV/b"
echo "backend A" >"$SRV/a/index.html"
echo "backend B" >"$SRV/b/index.html"
head -c 1048576 /dev/urandom >"$SRV/a/big.bin"
cat >"$KILN_TEST_TMP/backends.py" <<'EOF'
import functools, http.server, socket, struct, sys, threading
a, b, srv, ready = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

def http_server(host, d):
    h = functools.partial(Quiet, directory=d)
    s = http.server.ThreadingHTTPServer((host, 8000), h)
    s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()

def tcp_server(host, port, handler):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port))
    l.listen(64)
    def loop():
        while True:
            c, _ = l.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

# Echo everything, but only after the client's end of file: only a proxy
# that passes the half-close on gets an answer at all.
def late_echo(c):
    data = bytearray()
    while True:
        d = c.recv(65536)
        if not d:
            break
        data += d
    c.sendall(b'%d bytes\n' % len(data) + bytes(data))
    c.close()

def resetter(c):
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    c.close()

def udp_echo(host, port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    u.bind((host, port))
    def loop():
        while True:
            d, addr = u.recvfrom(70000)
            u.sendto(d, addr)
    threading.Thread(target=loop, daemon=True).start()

http_server(a, srv + '/a')
http_server(b, srv + '/b')
tcp_server(a, 7000, late_echo)
tcp_server(a, 7001, resetter)
udp_echo(a, 7000)
open(ready, 'w').write('ready\n')
threading.Event().wait()
EOF
timeout -k 5 900 ip netns exec "$NSB" python3 "$KILN_TEST_TMP/backends.py" \
	$A $B "$SRV" "$KILN_TEST_TMP/ready" >"$KILN_TEST_TMP/backends.out" 2>&1 </dev/null &
BACK_PID=$!

# The proxy driver --------------------------------------------------------------

proxy_start

# popen NAME SPEC BACKEND: opens a proxy, failing the check if it cannot.
popen() {
	pcmd open "$@"
	[ "$PREPLY" = ok ] || fail_because "open $*: $PREPLY"
}

# want_active NAME N: the proxy's open connections and flows come to N
# (polled: the proxy closes its side when it sees the peer's).
want_active() {
	i=0
	while :; do
		pcmd active "$1"
		[ "$PREPLY" = "$2" ] && return 0
		[ $i -ge 100 ] && break
		sleep 0.2
		i=$((i + 1))
	done
	fail_because "proxy $1 has '$PREPLY' connections/flows, want $2"
}

# in_ns LIMIT CMD...: CMD in the proxy's namespace, for a check.
in_ns() {
	limit=$1
	shift
	echo "\$ $*" >>"$CHECK_LOG"
	run_logged "$limit" ip netns exec "$NS" "$@"
}

# proxy_alive: the driver process still runs.
proxy_alive() {
	kill -0 "$PROXY_PID" 2>/dev/null || fail_because "the proxy died"
}

n=0
while [ ! -f "$KILN_TEST_TMP/ready" ] && [ $n -lt 100 ]; do
	sleep 0.2
	n=$((n + 1))
done
if [ ! -f "$KILN_TEST_TMP/ready" ]; then
	test_fail "$SCENARIO: backends" "the python backends did not start: $(cat "$KILN_TEST_TMP/backends.out")"
	exit 0
fi

# TCP ----------------------------------------------------------------------------

check_begin "a TCP port on 127.0.0.1 carries 1 MiB byte-exact"
popen web 127.0.0.1:18080:8000 $A
in_ns 60 curl -sS -m 50 -o "$KILN_TEST_TMP/big.got" http://127.0.0.1:18080/big.bin
want_status 0
cmp -s "$SRV/a/big.bin" "$KILN_TEST_TMP/big.got" ||
	fail_because "the 1 MiB file differs after the proxy"
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 0
want_out '^backend A$'
check_end

check_begin "a port published on 0.0.0.0 serves a client from another host"
popen all 0.0.0.0:18081:8000 $A
echo "\$ (in $NSB) curl http://10.77.0.1:18081/" >>"$CHECK_LOG"
run_logged 30 ip netns exec "$NSB" curl -sS -m 20 http://10.77.0.1:18081/
want_status 0
want_out '^backend A$'
pcmd close all
check_end

cat >"$KILN_TEST_TMP/many.py" <<'EOF'
import hashlib, sys, threading, urllib.request
url, n, want = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], 'rb').read()
barrier = threading.Barrier(n)
ok, bad, lock = [0], [], threading.Lock()
def client(i):
    try:
        barrier.wait(timeout=60)
        body = urllib.request.urlopen(url, timeout=60).read()
        if body != want:
            raise Exception('%d bytes, differ' % len(body))
        with lock:
            ok[0] += 1
    except Exception as e:
        with lock:
            bad.append('client %d: %r' % (i, e))
ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print('%d clients ok, %d failed' % (ok[0], len(bad)))
for b in bad[:5]: print(b)
sys.exit(1 if bad else 0)
EOF
check_begin "50 concurrent clients each get 1 MiB intact, and no connection stays open"
in_ns 180 python3 "$KILN_TEST_TMP/many.py" http://127.0.0.1:18080/big.bin 50 \
	"$SRV/a/big.bin"
want_status 0
want_out '^50 clients ok, 0 failed$'
want_active web 0
proxy_alive
check_end

cat >"$KILN_TEST_TMP/halfclose.py" <<'EOF'
import os, socket, sys
data = os.urandom(300000)
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=30)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
want = b'%d bytes\n' % len(data) + data
print('half-close: %s (%d bytes back)' % ('intact' if bytes(got) == want else 'WRONG', len(got)))
sys.exit(0 if bytes(got) == want else 1)
EOF
check_begin "a client that half-closes still gets its whole answer"
popen echo 127.0.0.1:17000:7000 $A
in_ns 60 python3 "$KILN_TEST_TMP/halfclose.py" 17000
want_status 0
want_out '^half-close: intact \(300013 bytes back\)$'
want_active echo 0
check_end

# UDP ----------------------------------------------------------------------------

cat >"$KILN_TEST_TMP/udp.py" <<'EOF'
import os, socket, sys
port = int(sys.argv[1])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
for s in socks:
    s.settimeout(2)
sizes = [1, 100, 1472, 1473, 9000, 30000, 65000]
bad = 0
for n in sizes:
    for k, s in enumerate(socks):
        data = os.urandom(n)
        for attempt in range(3):
            s.sendto(data, ('127.0.0.1', port))
            try:
                back, addr = s.recvfrom(70000)
            except socket.timeout:
                continue
            break
        else:
            back, addr = None, None
        if back != data or addr != ('127.0.0.1', port):
            print('client %d, %d bytes: wrong echo' % (k, n))
            bad += 1
print('%d datagrams echoed, %d wrong' % (len(sizes) * len(socks), bad))
sys.exit(1 if bad else 0)
EOF
check_begin "UDP datagrams of 1 to 65000 bytes from three clients come back to each"
popen udp 127.0.0.1:17000:7000/udp $A
in_ns 60 python3 "$KILN_TEST_TMP/udp.py" 17000
want_status 0
want_out '^21 datagrams echoed, 0 wrong$'
pcmd active udp
[ "$PREPLY" = 3 ] || fail_because "$PREPLY UDP flows, want 3"
check_end

check_begin "idle UDP flows are closed"
# 2 s instead of 60: the flows above go within a few seconds.
pcmd udp-idle - 2
want_active udp 0
in_ns 60 python3 "$KILN_TEST_TMP/udp.py" 17000
want_status 0
want_out '^21 datagrams echoed, 0 wrong$'
check_end

# Errors --------------------------------------------------------------------------

check_begin "a port already in use is refused at once, and the first proxy keeps serving"
pcmd open web2 127.0.0.1:18080:8000 $A
[ "$PREPLY" = "error: cannot publish 127.0.0.1:18080: address already in use (EADDRINUSE)" ] ||
	fail_because "got '$PREPLY'"
pcmd open udp2 0.0.0.0:17000:7000/udp $A
[ "$PREPLY" = "error: cannot publish 0.0.0.0:17000/udp: address already in use (EADDRINUSE)" ] ||
	fail_because "got '$PREPLY'"
pcmd open far 10.9.9.9:18085:8000 $A
[ "$PREPLY" = "error: cannot publish 10.9.9.9:18085: cannot assign requested address (no interface has this address) (EADDRNOTAVAIL)" ] ||
	fail_because "got '$PREPLY'"
pcmd open bad 127.0.0.1:18086:8000 not-an-ip
[ "$PREPLY" = "error: cannot publish 127.0.0.1:18086: invalid backend address 'not-an-ip' (EINVAL)" ] ||
	fail_because "got '$PREPLY'"
pcmd open bad 127.0.0.1:0:8000 $A
[ "$PREPLY" = "error: invalid port spec '127.0.0.1:0:8000': the host port must be a number from 1 to 65535 (EINVAL)" ] ||
	fail_because "got '$PREPLY'"
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 0
want_out '^backend A$'
check_end

check_begin "a backend that refuses: the client's connection is closed, the proxy serves on"
popen refused 127.0.0.1:18082:8999 $A
in_ns 30 curl -sS -m 20 http://127.0.0.1:18082/
# 52: empty reply (closed), 56: reset; never a hang or an answer.
[ "$KST" -eq 52 ] || [ "$KST" -eq 56 ] ||
	fail_because "curl status $KST, want 52 or 56 (closed connection)"
want_active refused 0
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 0
want_out '^backend A$'
proxy_alive
check_end

check_begin "a backend that resets mid-connection: the client sees the end, the proxy serves on"
popen reset 127.0.0.1:18083:7001 $A
in_ns 30 curl -sS -m 20 http://127.0.0.1:18083/
[ "$KST" -eq 52 ] || [ "$KST" -eq 56 ] ||
	fail_because "curl status $KST, want 52 or 56"
want_active reset 0
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 0
proxy_alive
check_end

check_begin "an unreachable backend: the client's connection is closed, the proxy serves on"
# Nobody answers ARP for 10.77.0.9: the connect fails with EHOSTUNREACH
# after the kernel's ARP retries (about 3 s), before the proxy's timeout.
popen gone 127.0.0.1:18084:8000 10.77.0.9
in_ns 60 curl -sS -m 50 http://127.0.0.1:18084/
[ "$KST" -eq 52 ] || [ "$KST" -eq 56 ] ||
	fail_because "curl status $KST, want 52 or 56"
want_active gone 0
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 0
proxy_alive
check_end

# Backends and closing ---------------------------------------------------------------

check_begin "a new backend takes new connections"
popen lb 127.0.0.1:18087:8000 $A
in_ns 30 curl -sS -m 20 http://127.0.0.1:18087/
want_out '^backend A$'
pcmd backend lb $B
in_ns 30 curl -sS -m 20 http://127.0.0.1:18087/
want_status 0
want_out '^backend B$'
want_no_out '^backend A$'
check_end

check_begin "closing a proxy frees its port at once"
pcmd close web
[ "$PREPLY" = ok ] || fail_because "close: $PREPLY"
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 7
popen web 127.0.0.1:18080:8000 $B
in_ns 30 curl -sS -m 20 http://127.0.0.1:18080/
want_status 0
want_out '^backend B$'
pcmd close udp
pcmd open udp 127.0.0.1:17000:7000/udp $A
[ "$PREPLY" = ok ] || fail_because "reopening the UDP port: $PREPLY"
proxy_alive
check_end

check_begin "the driver exits cleanly at the end of its input"
exec 3>&-
i=0
while kill -0 "$PROXY_PID" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$PROXY_PID" 2>/dev/null; then
	fail_because "the proxy driver did not exit"
else
	wait "$PROXY_PID"
	st=$?
	[ "$st" -eq 0 ] || fail_because "the proxy driver exited with $st"
	PROXY_PID=""
fi
in_ns 30 curl -sS -m 20 http://127.0.0.1:18087/
want_status 7
check_end
