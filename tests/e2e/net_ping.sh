#!/bin/sh
# The guest on the network (issue 3, first milestone): `kiln run --net` on
# QEMU microvm with a tap inside a network namespace this script creates.
# The kernel's virtio-net driver and lwIP answer ARP and ICMP echo while
# the program sleeps, large echoes are reassembled and fragmented by the
# guest, /etc/hostname, /etc/hosts and /etc/resolv.conf follow --hostname,
# --ip and --dns, and a bad kiln.ip= word stops the boot with one line.
#
# Echo requests come from a small python3 raw-socket pinger (no ping binary
# needed) that also checks each reply's payload and checksum.  Traffic
# stays inside the namespace; the namespace, its tap and the guest are
# removed whatever happens.
set -u
KILN_ROOT=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KILN_ROOT/tests/lib.sh"

NS=kilntest-ping-$$
TAP=ktap0
HOST_IP=10.0.2.1
GUEST_IP=10.0.2.15
GUEST_MAC=52:54:00:12:34:56
GUEST_PID=""

net_cleanup() {
	if [ -n "$GUEST_PID" ]; then
		# timeout(1) passes the signal on to kiln and QEMU.
		kill -TERM "$GUEST_PID" 2>/dev/null
		wait "$GUEST_PID" 2>/dev/null
		GUEST_PID=""
	fi
	ip netns del "$NS" 2>/dev/null
}
# Clean up, then let lib.sh's exit handler see the original status.
ping_exit() {
	ping_st=$?
	net_cleanup
	(exit "$ping_st")
	lib_exit
}
trap ping_exit EXIT

check_begin "a bad kiln.ip= word stops the boot with one line, status 125"
krun_limit 60 --kernel-arg kiln.ip=10.0.2.15/33 "$GUEST/static/hello"
want_status 125
want_one_error "invalid 'kiln\.ip=10\.0\.2\.15/33'.*prefix length"
check_end

netns_with_tap "$NS" "$TAP" "$HOST_IP" || exit 0

# nsrun_kiln ARGS...: kiln run --hypervisor qemu --net TAP ARGS inside the
# namespace, like krun.
nsrun_kiln() {
	echo "\$ ip netns exec $NS kiln run --hypervisor qemu --net $TAP $*" \
		>>"$CHECK_LOG"
	run_logged "$KILN_TEST_TIMEOUT" \
		ip netns exec "$NS" "$KILN" run --hypervisor qemu --net "$TAP" "$@"
}

check_begin "/etc/hostname, /etc/hosts and /etc/resolv.conf follow --hostname, --ip, --dns"
nsrun_kiln --ip "$GUEST_IP/24" --gw "$HOST_IP" --dns 10.0.2.3 \
	--hostname web-1 /bin/cat /etc/hostname /etc/hosts /etc/resolv.conf
want_status 0
want_stdout_exact "web-1
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
$GUEST_IP	web-1
nameserver 10.0.2.3"
check_end

# The pinger: python3 PING.py ADDR COUNT BOOT_WAIT [SIZE].  First one small
# echo every 0.5 s until the guest answers (it is booting), then COUNT
# echoes of SIZE bytes of random payload, each answered within 2 s with the
# same payload and a valid checksum.  Exit status 0 iff all were.
PING=$KILN_TEST_TMP/ping.py
cat >"$PING" <<'EOF'
import os, select, socket, struct, sys, time

def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def echo(sock, dst, ident, seq, size, timeout):
    payload = os.urandom(size)
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq)
    t0 = time.monotonic()
    sock.sendto(pkt + payload, (dst, 0))
    while True:
        left = t0 + timeout - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return None
        data, addr = sock.recvfrom(65536)
        icmp = data[(data[0] & 15) * 4:]
        if addr[0] != dst or len(icmp) < 8:
            continue
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if typ != 0 or rid != ident or rseq != seq:
            continue
        if icmp[8:] != payload or checksum(icmp) != 0:
            print("seq %d: reply with a wrong payload or checksum" % seq)
            return None
        return time.monotonic() - t0

dst, count, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 56
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, seq = os.getpid() & 0xFFFF, 0
end = time.monotonic() + wait
while True:
    seq += 1
    if echo(sock, dst, ident, seq, 56, 0.5) is not None:
        break
    if time.monotonic() > end:
        print("no echo reply from %s within %.0f s" % (dst, wait))
        sys.exit(1)
got = 0
for _ in range(count):
    seq += 1
    rtt = echo(sock, dst, ident, seq, size, 2.0)
    if rtt is None:
        print("seq %d: no reply" % seq)
    else:
        got += 1
        print("seq %d: %d bytes from %s in %.2f ms" % (seq, size, dst, rtt * 1000))
print("%d echoes sent, %d answered" % (count, got))
sys.exit(0 if got == count else 1)
EOF

# ping_check COUNT SIZE: the pinger against the guest, output in the log.
ping_check() {
	echo "\$ ip netns exec $NS python3 ping.py $GUEST_IP $1 60 $2" >>"$CHECK_LOG"
	run_limited 90 "$KOUT" "$KERR" ip netns exec "$NS" python3 "$PING" \
		"$GUEST_IP" "$1" 60 "$2"
	KST=$RUN_STATUS
	cat "$KOUT" "$KERR" >>"$CHECK_LOG"
	want_status 0
	want_out "^$1 echoes sent, $1 answered\$"
}

# The guest sleeps (nanosleep halts the CPU in the kernel) long enough for
# the echoes below; it is started in the background under timeout(1), which
# bounds it and passes our TERM on at cleanup.
GUEST_OUT=$KILN_TEST_TMP/guest.out
timeout -k 5 "$KILN_TEST_TIMEOUT" ip netns exec "$NS" "$KILN" run \
	--hypervisor qemu --net "$TAP" --mac "$GUEST_MAC" --ip "$GUEST_IP/24" \
	--gw "$HOST_IP" /bin/sleep 10 >"$GUEST_OUT" 2>&1 </dev/null &
GUEST_PID=$!

check_begin "the sleeping guest answers ARP and 5 ICMP echoes, payloads intact"
ping_check 5 56
ip -n "$NS" neigh show "$GUEST_IP" >"$KILN_TEST_TMP/neigh" 2>&1
cat "$KILN_TEST_TMP/neigh" >>"$CHECK_LOG"
grep -q "lladdr $GUEST_MAC" "$KILN_TEST_TMP/neigh" ||
	fail_because "no ARP entry $GUEST_IP -> $GUEST_MAC in the namespace"
check_end

check_begin "8000-byte echoes: the guest reassembles and fragments them"
ping_check 3 8000
check_end

check_begin "the guest still exits 0 when its sleep ends"
wait "$GUEST_PID"
KST=$?
GUEST_PID=""
{
	echo "\$ kiln run --hypervisor qemu --net $TAP ... /bin/sleep 10"
	echo "status $KST"
	cat "$GUEST_OUT"
} >>"$CHECK_LOG"
cp "$GUEST_OUT" "$KOUT"
: >"$KERR"
want_status 0
want_no_out '^kiln: .*(panic|error|invalid|cannot)'
check_end
