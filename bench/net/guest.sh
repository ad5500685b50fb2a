#!/bin/sh
# The in-guest half of bench/net_nested.sh (and of bench/net.sh on a host
# without /dev/kvm): serves the same examples/httpd and bench/net/blast
# three ways and measures them with wrk and blast from here:
#   kiln-vmm  kiln's kernel on kiln-vmm --net tap0      10.0.2.15
#   qemu      the same kernel and rootfs on QEMU microvm
#             (-netdev tap, virtio-net-device) on tap1   10.0.3.15
#   process   the program itself in a network namespace
#             behind a veth pair                          10.0.4.15
# Phase 1 (httpd -q): wrk on a 612-byte page and a 1 MiB file.  Phase 2
# (blast serve): bulk TCP from the server to here.  Each round runs every
# configuration once, the order rotated per round; round 0 is a warm-up.
# Around each measurement the VM's KVM counters (debugfs, when mounted)
# and the CPU time of the server and of the whole CPU are read, for exits
# and CPU time per request.
# Output lines: F (facts), P (progress), W CONF TEST ROUND followed by
# wrk's output as "w ..." lines and a K line of counters (KEY=VALUE words
# before and after, separated by "/"), B CONF ROUND
# blast's line, and the monitors' own output at the end ("o CONF ...").
# Reads config.sh next to it: CONFS, RUNS, DUR and CONNS (wrk on the
# page), DUR_1M and CONNS_1M (on the 1 MiB file), BULK (bytes), MEM,
# QEMU_ACCEL, VMM_FLAGS, IP (an iproute2 ip: busybox's cannot make veth),
# MOUNT_DEBUGFS.
K=$(cd "$(dirname "$0")" && pwd)
T=$K/run # the servers' output
rm -rf "$T"
mkdir -p "$T"
# shellcheck source=/dev/null # written by bench/net_nested.sh
. "$K/config.sh"
# shellcheck source=bench/lib/guest.sh # staged next to this script as lib.sh
. "$K/lib.sh"
echo "F wrk $(wrk -v 2>&1 | head -n 1)"

# Phase 1: httpd ----------------------------------------------------------------

start_httpd() { start "$1" httpd httpd.cpio "$K/httpd" -q -r "$K/srv" -p 8080; }
up httpd 8080
round=0
while [ $round -le "$RUNS" ]; do
	# One test at a time across the configurations, so that the
	# three measurements the ratios compare are seconds apart.
	for t in page 1m; do
		for c in $(rotate $round); do
			path=/index.html conns=$CONNS d=$DUR
			[ $t = 1m ] && path=/1m.bin conns=$CONNS_1M d=$DUR_1M
			[ $round = 0 ] && d=2
			before=$(counters "$c")
			echo "W $c $t $round"
			wrk -t1 -c"$conns" -d"${d}s" --timeout 30s --latency \
				"http://$(addr_of "$c"):8080$path" 2>&1 | sed 's/^/w /'
			echo "K $c $t $round $before / $(counters "$c")"
		done
	done
	echo "P httpd round $round of $RUNS done at $(uptime_s) s"
	round=$((round + 1))
done
stop_all httpd
PID_vmm="" PID_qemu="" PID_process=""

# Phase 2: bulk TCP, server to here ------------------------------------------------

start_blast() { start "$1" blast blast.cpio "$K/blast" serve 9000; }
up blast 9000
round=0
while [ $round -le "$RUNS" ]; do
	for c in $(rotate $round); do
		bytes=$BULK
		[ $round = 0 ] && bytes=$((BULK / 4))
		before=$(counters "$c")
		echo "B $c $round $("$K/blast" fetch "$(addr_of "$c")" 9000 "$bytes" 2>&1 | tr '\n' ' ')"
		echo "K $c bulk $round $before / $(counters "$c")"
	done
	echo "P bulk round $round of $RUNS done at $(uptime_s) s"
	round=$((round + 1))
done
stop_all blast
PID_vmm="" PID_qemu="" PID_process=""
echo "F end_uptime $(uptime_s)"
